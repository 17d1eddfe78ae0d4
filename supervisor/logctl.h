/* SPDX-License-Identifier: ISC */
/*
 * logctl.h -- the supervisor's side of the logger (logger/logger.h):
 * starting it, and giving it what it needs without ever reading what an
 * agent wrote.
 *
 * The logger is started like the frontend (apm2d -L, its channel on
 * LOGGER_CHAN_FD) and replaced, at most once a second, whenever it
 * exits, dies, closes its channel or breaks the protocol.  A new logger
 * gets everything again: each instance (L_INST, L_SECRET), each log
 * file reopened by path with its owner's rights (L_FILE_OPEN), and the
 * read end of every pipe still in use.  For that the supervisor keeps a
 * copy of each pipe's read end -- not in its descriptor table, but in
 * flight in a socket nobody reads (the kernel holds it), and takes the
 * copies out only to hand them to a new logger.  Meanwhile the pipes
 * keep what the agents write; agents are never restarted for it.
 *
 * Files: the first spawn of an instance opens its log files
 * (logstore.h); the logger asks for rotations (L_ROTATE), and every
 * LOGCTL_CHECK_MS, and at SIGUSR1 for all of them, a file whose path no
 * longer names it (moved away, removed, its directory gone) is reopened.
 * The logger keeps at most [daemon] max_open_log_files regular files
 * open: it closes the least recently written one when it needs room
 * (L_FILE_CLOSED) and asks for a closed file by path when it has output
 * for it (L_REOPEN, answered like a rotation).  A new logger is told of
 * every file without a descriptor (L_FILE_NEW) and asks for what it
 * writes.  Character devices and FIFOs are never closed: one descriptor
 * per path, shared by the instances that name it.
 *
 * Exits: logctl_drain() asks the logger to read what a reaped process
 * left in its pipes and calls runner_drained() when it has (or at once
 * when there is no logger, or after LOGCTL_DRAIN_MS).
 *
 * tail_logs: the supervisor decides who may read what (dispatch.c); the
 * logger answers, and its frames are relayed to the frontend only for
 * a connection that is waiting for them.  While the frontend's queue is
 * over FRONTEND_WQ_HIGH the logger's channel is not read.
 */
#ifndef APM2_LOGCTL_H
#define APM2_LOGCTL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "logfs.h"
#include "supervisor.h"

#define LOGCTL_CHECK_MS		5000	/* moved-file check */
#define LOGCTL_DRAIN_MS		2000	/* longest wait for L_DRAINED */
#define LOGCTL_RESPAWN_MS	1000	/* at most one new logger a second */
#define LOGCTL_EXIT_MS		5000	/* longest wait for it to exit */
#define LOGCTL_FD_RESERVE	32	/* the logger's own, and slack */
#define LOGCTL_FD_PER_INST	4	/* two pipes, two log files; with
					   merge_stderr, one of each; the
					   files at most max_open_log_files */

/* Once, before logctl_start(): how many instances there are. */
/* log_memory: the budget of the logger's rings ([daemon] log_memory). */
void	 logctl_init(uint32_t ninstances, uint64_t log_memory);
/* Room for instance ids below n (a reload adds instances).  0 or -1. */
int	 logctl_grow(uint32_t n);
/* Start the logger (from the event loop). */
void	 logctl_start(void);
/*
 * Before each spawn of instance inst (proc: the 1-based config index):
 * open its files if they are not yet, with owner's rights, and tell the
 * logger about it and the sensitive values of env.
 */
void	 logctl_spawn(uint32_t inst, const struct config *,
	    const struct proc_config *, uint32_t proc, uint32_t idx,
	    const char *display, const struct logowner *, char *const *env,
	    size_t nenv);
/* inst's log files take pc's settings (a reload: rotation in place). */
void	 logctl_settings(uint32_t inst, const struct proc_config *pc);
/*
 * inst is renamed or gone (a reload): its secrets are dropped, and its
 * next logctl_spawn() tells the logger its names and files anew.
 */
void	 logctl_forget(uint32_t inst);
/* A pipe of inst for the logger; fd (a read end) is consumed. */
void	 logctl_pipe(uint32_t inst, int stream, int aux, int fd);
/* inst's process (run serial) was reaped: runner_drained() follows. */
void	 logctl_drain(uint32_t inst, uint64_t serial);
/* The SIGCHLD loop: 1 if pid was the logger or a compression. */
int	 logctl_reaped(pid_t, int);
/*
 * 1 if the logger has room for the descriptors of instance inst's next
 * run (its npipes pipes, and as many files if they are new, the regular
 * ones counted up to max_open_log_files) under its RLIMIT_NOFILE; a
 * logger given more would lose them, and its channel.
 */
int	 logctl_fd_room(uint32_t inst, int npipes);
/* 1 if pid is the logger or a child of the log files' (gzip). */
int	 logctl_child(pid_t);
void	 logctl_tail(struct conn_ref, uint32_t proc, uint32_t lines,
	    int follow);
void	 logctl_ack(struct conn_ref);
void	 logctl_conn_closed(struct conn_ref);
/* The frontend's queue may have room again. */
void	 logctl_fe_room(void);
/* SIGUSR1: every file reopened at its path. */
void	 logctl_reopen_all(void);
void	 logctl_send_logfd(int);
void	 logctl_metrics(uint64_t *, uint64_t *, uint64_t *);
/* Shutdown: the logger drains, flushes and exits. */
void	 logctl_exit(void);

/* runner.c */
void	 runner_drained(uint32_t inst, uint64_t serial);

#endif /* APM2_LOGCTL_H */
