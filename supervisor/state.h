/* SPDX-License-Identifier: ISC */
/*
 * state.h -- the state file ([daemon] state_file): what must outlive the
 * daemon.  The intent an operator expressed by hand (a process stopped,
 * or started though it does not autostart), each instance's restart
 * count and last exit, and the instances that run, each with its main
 * pid, that process's start time and its cgroup (a name below the
 * daemon's: cgroup.h), so that the next start of a daemon
 * that was killed finds what it left even without cgroups (cgroup.h
 * does it better where it can).
 *
 * The file is versioned JSON, mode 0600, the daemon's own; it is written
 * whole to a temporary file beside it, synced and renamed, at most once
 * a second (a change within a second of the last write waits for the
 * second to end), and at exit.  Its directory must be root's or the
 * daemon's alone (path_dirs_secure()); if it is not, or cannot be made,
 * the file is not used, and that is logged.  No environment value or
 * secret is ever written to it.  Version 1 (pids only) is still read.
 */
#ifndef APM2_STATE_H
#define APM2_STATE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define STATE_VERSION	2

enum state_intent {
	INTENT_NONE,		/* autostart decides */
	INTENT_STOPPED,		/* stopped by a request */
	INTENT_STARTED		/* started (restarted, reloaded) by one */
};

struct state_proc {
	char		 name[PROTO_NAME_MAX];
	enum state_intent intent;	/* never INTENT_NONE in a record */
};

struct state_inst {
	char		 name[PROTO_NAME_MAX];	/* the process */
	uint32_t	 index;
	pid_t		 pid;		/* 0: not running (or another boot) */
	uint64_t	 start_ns;	/* procstat_now()'s clock */
	char		 cgroup[PROTO_DISPLAY_MAX];	/* "": none */
	uint32_t	 restarts;
	int		 has_last;	/* last is its last exit */
	struct p_state	 last;		/* Stopped, Crashed or Terminated */
};

/* The file's content. */
struct state_rec {
	struct state_proc *procs;
	size_t		   nprocs;
	struct state_inst *insts;
	size_t		   ninsts;
	uint64_t	   written_ns;	/* procstat_now()'s clock */
};

/*
 * What to write, from the runner (runner.c): the processes with an
 * intent and the instances that run or have a count or an exit to keep.
 * The arrays are freed by state.c.
 */
typedef void	(*state_list_fn)(struct state_rec *);

/* At start-up; -1 (logged) when the file cannot be used. */
int	 state_init(const char *path, state_list_fn);
/*
 * What the file recorded.  Pids are kept only if it was written on this
 * boot (0 otherwise).  A file that is not ours, not JSON of a version
 * we read or wrong in any field is logged and set aside as
 * <path>.corrupt, and the record is empty.  Free with state_rec_free().
 */
void	 state_load(struct state_rec *);
void	 state_rec_free(struct state_rec *);
/* Something recorded changed: write soon. */
void	 state_changed(void);
/* Write now, if anything changed (exit). */
void	 state_flush(void);

#endif /* APM2_STATE_H */
