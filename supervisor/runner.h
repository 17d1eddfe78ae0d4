/* SPDX-License-Identifier: ISC */
/*
 * runner.h -- the runner table: every instance of every configured
 * process, its state, restart policy, timers and output.
 *
 * The dispatcher calls the runner_req_* functions for client requests;
 * each answers through reply_*() in supervisor.h, now or later (a stop
 * answers once its instances have really exited), never blocking.
 * Requests that change a process are operations (runner_req_op), queued
 * per process and run one after another.
 */
#ifndef APM2_RUNNER_H
#define APM2_RUNNER_H

#include <sys/types.h>

#include <stdint.h>

#include "config.h"
#include "duration.h"
#include "supervisor.h"

/* What a client may ask of a process. */
enum runner_op {
	RUNNER_START,
	RUNNER_STOP,
	RUNNER_RESTART,		/* stop (if running), then start */
	RUNNER_RELOAD,		/* one instance after the other */
	RUNNER_APPLY,		/* a reload's change (runner.c only) */
	RUNNER_REMOVE		/* a reload's removal (runner.c only) */
};

struct confdiff;

void		runner_init(struct config *);
void		runner_autostart(void);
/* Apply d; nc becomes the running configuration (its [daemon] kept). */
void		runner_reload(struct config *nc, const struct confdiff *d);
void		runner_reaped(pid_t, int);	/* from the SIGCHLD loop */
int		runner_all_stopped(void);	/* nothing left alive */
/* Once, from sup_shutdown(), after sup->shutting_down was set. */
void		runner_shutdown(const struct duration *);
void		runner_kill_all(void);		/* SIGKILL every group */
void		runner_flush_logs(void);	/* before exit */
uint32_t	runner_running_count(void);	/* Starting, Running, Unhealthy */
uint32_t	runner_instance_count(void);	/* configured */

/* One instance, as the metrics show it (runner_metrics()). */
struct metric_inst {
	const char	*process;	/* valid until the loop runs again */
	uint32_t	 index;
	uint32_t	 ninstances;	/* of its process */
	struct p_state	 state;
	uint32_t	 flags;		/* P_HAS_* of struct s_instance */
	uint32_t	 restarts;
	uint64_t	 uptime_secs;
	uint64_t	 cpu_ns;	/* this run's, P_HAS_CPU */
	uint64_t	 memory_bytes;	/* P_HAS_MEM */
};
size_t		runner_metrics(struct metric_inst **, int, uid_t);
/* The process's run-as uid, or -1 when it runs as the daemon's user. */
int		runner_proc_owner(const char *, uid_t *);

int		runner_req_list(struct conn_ref, size_t *, int, uid_t);
void		runner_req_get(struct conn_ref, const char *);
void		runner_req_op(struct conn_ref, const char *, enum runner_op);
void		runner_req_tail(struct conn_ref, const char *, uint32_t, int);
void		runner_log_ack(struct conn_ref);
void		runner_conn_closed(struct conn_ref);

#endif /* APM2_RUNNER_H */
