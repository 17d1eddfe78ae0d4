/* SPDX-License-Identifier: ISC */
/*
 * child.h -- what the runner uses to deal with child processes:
 * spawning (spawn.c), looking at them through the kernel (procstat.c)
 * and signalling whole trees (proctree.c).  Their output is read by the
 * logger (logger/output.h).
 */
#ifndef APM2_CHILD_H
#define APM2_CHILD_H

#include <sys/types.h>
#include <sys/resource.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* ---- spawn.c ---- */

/*
 * Everything the child needs, built before it exists: until it execs,
 * the child only makes system calls on this data.
 */
struct spawn_req {
	char *const	*argv;		/* argv[0]: the command */
	char *const	*envp;
	const char	*path;		/* the child's PATH; NULL: default */
	const char	*cwd;		/* NULL: stay in ours */
	int		 setid;		/* switch to uid/gid/groups */
	uid_t		 uid;
	gid_t		 gid;
	const gid_t	*groups;
	int		 ngroups;
	int		 has_umask;
	mode_t		 umask;
	int		 fd_in;		/* becomes 0 */
	int		 fd_out;	/* becomes 1 */
	int		 fd_err;	/* becomes 2 */
	int		 cgfd;		/* > 0: a cgroup.procs to join */
	const struct limits_config *limits;	/* NULL: none */
	struct rlimit	 nofile;	/* RLIMIT_NOFILE to restore */
};

/*
 * Start a child: new session, credentials, umask, descriptors, signal
 * state, cwd, then exec (PATH search with the child's PATH).  Returns
 * the pid and, in *statusfd, the non-blocking read end of a close-on-
 * exec pipe: EOF when the exec succeeded, else the child's errno.
 * -1 with errno when no child could be made; errno unchanged otherwise.
 * On Linux a child that keeps our uid runs on our memory and we wait
 * until it has exec'd or exited (clone with CLONE_VM | CLONE_VFORK, see
 * spawn.c): not to be called by two threads at once.
 */
pid_t	spawn_process(const struct spawn_req *, int *statusfd);
/* 0: exec succeeded; > 0: the child's errno; -1: not known yet. */
int	spawn_status(int);
/*
 * In a child of fork or clone: switch to uid, gid and the supplementary
 * groups for good (raw system calls on Linux: glibc's set*id wrappers
 * would synchronise threads through libc state, which such a child must
 * not rely on, and a child sharing our memory must not touch).  0, or
 * -1 with errno.
 */
int	child_setids(uid_t, gid_t, const gid_t *, int);

/* ---- procstat.c ---- */

struct pstat {
	pid_t		pid;
	pid_t		ppid;
	pid_t		pgid;
	pid_t		sid;
	int		zombie;
	uint64_t	cpu_ns;		/* user + system time */
	uint64_t	rss;		/* resident bytes */
	uint64_t	start_ns;	/* when it started, on procstat_now's
					   clock */
};

/* Every process of the system at one moment. */
struct ptable {
	struct pstat	*p;
	size_t		 n;
};

int	procstat_get(pid_t, struct pstat *);
int	ptable_load(struct ptable *);
void	ptable_free(struct ptable *);
/*
 * Our own children, as the kernel lists them: the count (at most max
 * stored), or -1 when the system cannot tell cheaply.
 */
int	procstat_children(pid_t, pid_t *, size_t);
/*
 * The processes of the trees below roots (roots included) without a
 * look at the rest of the system: 0, or -1 where the kernel cannot tell
 * cheaply (then ptable_load()).  Unsorted.
 */
int	ptable_trees(struct ptable *, const pid_t *, size_t);
/* 1 if pid's initial environment holds both "k1" and "k2" entries. */
int	procstat_env_has(pid_t, const char *, const char *);
/*
 * The clock of pstat.start_ns, now: time since boot on Linux (a
 * process's start time has clock-tick precision), the time of day
 * elsewhere.  And what names this boot (Linux: its boot_id; elsewhere
 * the boot time), so that pids recorded before a reboot are not taken
 * for processes of this one: 0, or -1.
 */
uint64_t procstat_now(void);
int	procstat_boot_id(char *, size_t);

/* ---- proctree.c ---- */

/*
 * known(pid): a child of ours that the runner knows (not an adopted
 * orphan).  proctree_signal() signals the group leader now (kill(2)'s
 * result) and, from the event loop, the live main process root's
 * descendants (root 0: none) and the adopted orphans with the group's
 * ids or both environment entries.  proctree_kill_all() SIGKILLs all
 * that is below us but the frontend, before it returns.
 */
void	proctree_init(int (*known)(pid_t));
/*
 * Without cgroups, after a crash of the daemon: what an instance it
 * recorded as running (its main pid and start time) left.  Its main
 * process if it still runs (same start: not a reused pid); the members
 * of its process group and session (their ids are that pid, and they
 * started after it), unless another process now has that pid (the
 * kernel does not reuse a pid that a group or session still has); and
 * the descendants of those.  What left its session and lost its parent
 * is not found.  For each of n records, left gets its processes (freed
 * with free()).  0, or -1 if the process table cannot be read.
 */
struct recorded {
	pid_t		 pid;
	uint64_t	 start_ns;
	struct pstat	*left;
	size_t		 nleft;
};
int	proctree_left(struct recorded *, size_t);
int	proctree_signal(pid_t, pid_t, int, const char *, const char *);
void	proctree_kill_all(void);

#endif /* APM2_CHILD_H */
