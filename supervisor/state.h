/* SPDX-License-Identifier: ISC */
/*
 * state.h -- the state file ([daemon] state_file): what must outlive the
 * daemon.  Today: the instances that run, each with its main pid and
 * that process's start time, so that the next start of a daemon that
 * was killed finds what it left even without cgroups (cgroup.h does it
 * better where it can).
 *
 * The file is versioned JSON, mode 0600, the daemon's own; it is written
 * whole to a temporary file beside it, synced and renamed, at most once
 * a second (a change within a second of the last write waits for the
 * second to end), and at exit.  Its directory must be root's or the
 * daemon's alone (path_dirs_secure()); if it is not, or cannot be made,
 * the file is not used, and that is logged.  No environment value or
 * secret is ever written to it.
 */
#ifndef APM2_STATE_H
#define APM2_STATE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define STATE_VERSION	1

struct state_inst {
	char		 name[PROTO_NAME_MAX];	/* the process */
	uint32_t	 index;
	pid_t		 pid;
	uint64_t	 start_ns;	/* procstat_now()'s clock */
};

/* The instances that run now, for a write: the runner's (runner.c). */
typedef size_t	(*state_list_fn)(struct state_inst **);

/* At start-up; -1 (logged) when the file cannot be used. */
int	 state_init(const char *path, state_list_fn);
/*
 * What the file recorded as running, if it was written on this boot;
 * *written_ns: when, on procstat_now()'s clock.  A file that is not
 * ours, not JSON of our version or wrong in any field is logged and set
 * aside as <path>.corrupt.  The count; *out to be freed.
 */
size_t	 state_load(struct state_inst **out, uint64_t *written_ns);
/* Something recorded changed: write soon. */
void	 state_changed(void);
/* Write now, if anything changed (exit). */
void	 state_flush(void);

#endif /* APM2_STATE_H */
