/*
 * runner.h -- the runner table: every instance of every configured
 * process, its state, restart policy, timers and output.
 *
 * The dispatcher calls the runner_req_* functions for client requests;
 * each answers through reply_*() in supervisor.h, now or later (a stop
 * answers once its instances have really exited), never blocking.
 */
#ifndef APM2_RUNNER_H
#define APM2_RUNNER_H

#include <sys/types.h>

#include <stdint.h>

#include "config.h"
#include "duration.h"
#include "supervisor.h"

void		runner_init(struct config *);
void		runner_autostart(void);
void		runner_reaped(pid_t, int);	/* from the SIGCHLD loop */
int		runner_all_stopped(void);	/* nothing left alive */
void		runner_shutdown(const struct duration *);
void		runner_kill_all(void);		/* SIGKILL every group */
void		runner_flush_logs(void);	/* before exit */
uint32_t	runner_running_count(void);
/* The process's run-as uid, or -1 when it runs as the daemon's user. */
int		runner_proc_owner(const char *, uid_t *);

void		runner_req_list(struct conn_ref);
void		runner_req_get(struct conn_ref, const char *);
void		runner_req_start(struct conn_ref, const char *);
void		runner_req_stop(struct conn_ref, const char *);
void		runner_req_restart(struct conn_ref, const char *);
void		runner_req_reload(struct conn_ref, const char *);
void		runner_req_tail(struct conn_ref, const char *, uint32_t, int);
void		runner_log_ack(struct conn_ref);
void		runner_conn_closed(struct conn_ref);

#endif /* APM2_RUNNER_H */
