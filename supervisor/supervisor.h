/* SPDX-License-Identifier: ISC */
/*
 * supervisor.h -- the privileged half of apm2d.
 *
 * The supervisor alone holds the configuration, the runner table and the
 * right to fork/exec.  It never parses client JSON: the frontend sends it
 * fixed-layout messages (proto.h) which it validates again.
 */
#ifndef APM2_SUPERVISOR_H
#define APM2_SUPERVISOR_H

#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>
#include <stdint.h>
#include <time.h>

#include "chan.h"
#include "chan_event.h"
#include "config.h"
#include "proto.h"
#include "sysutil.h"

#define FRONTEND_RESPAWN_MS	1000	/* at most one frontend start a second */
#define FRONTEND_EXIT_WAIT	3	/* s for the frontend to exit */
#define FRONTEND_HB_INTERVAL_MS	2000	/* heartbeat period */
#define FRONTEND_HB_TIMEOUT_MS	6000	/* unanswered this long: replaced */
#define FRONTEND_WQ_HIGH	(1024 * 1024)	/* defer requests above this */
#define FRONTEND_WQ_MAX		(64U * 1024 * 1024)	/* backstop */
#define LAUNCH_READY_TIMEOUT	30	/* s the launcher waits */
#define CONTROL_BACKLOG		1024	/* listen(2) queue: bursts of clients */
#define ACCEPT_BATCH		64	/* accepts per wake-up */
#define ACCEPT_RETRY_MS		250	/* out of descriptors: pause accepting */
#define SUP_FD_RESERVE		16	/* held for the control plane */
#define REFUSE_LOG_SECS		10	/* refused connections: one log line */
#define CONN_SNDBUF		16384	/* a client socket's (Linux doubles it) */

/* Command-line settings that override or complement the config. */
struct sup_opts {
	int		 debug;		/* -d: foreground, stderr */
	int		 verbose;
	int		 quiet;		/* --log-level warn */
	const char	*config_path;	/* absolute */
	const char	*self;		/* absolute path of the apm2d binary */
	/* For a reload to take paths as the start did. */
	const char	*cwd;		/* where apm2d was started */
	const char	*sockpath;	/* -s, --pid-file, --state-file */
	const char	*pidpath;
	const char	*statepath;
	const char	*logpath;	/* --log-file, absolute */
};

/*
 * Who a client is: what the kernel recorded of the connecting process,
 * read by us from the socket we accepted (never taken from the frontend).
 * Every request is authorized against it (dispatch.c).
 */
struct conn_auth {
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;		/* 0 if the kernel won't say */
	gid_t		*groups;	/* supplementary groups at connect */
	size_t		 ngroups;
	int		 admin;		/* may do everything */
};

/* One client connection, as the supervisor knows it. */
struct sup_conn {
	TAILQ_ENTRY(sup_conn)	 dentry;	/* on sup->deferred */
	uint32_t		 id;	/* connection id, ours */
	uint64_t		 serial;	/* unique for the daemon's life */
	struct conn_auth	 auth;
	int			 fd;	/* our copy until F_CONN_ACK, or -1 */
	int			 acked;	/* F_CONN_ACK seen */
	int			 busy;	/* a request is being answered */
	int			 following;	/* tail_logs follow stream */
	int			 logs;		/* the logger answers it */
	int			 logframe;	/* a log_lines frame is open */
	int			 deferred;	/* dreq waits for the channel */
	int			 listing;	/* a list goes on when it may */
	size_t			 list_next;	/* from this process */
	char			*mtext;		/* get_metrics being sent */
	size_t			 mlen;
	size_t			 moff;		/* sent up to here */
	struct f_request	 dreq;
};

/* A handle on a connection that survives its disappearance. */
struct conn_ref {
	uint32_t	id;
	uint64_t	serial;
};

struct supervisor {
	struct config		*conf;
	struct sup_opts		 opts;
	struct timespec		 start_mono;	/* uptime base */
	int			 shutting_down;	/* monotonic (INV-D001) */
	int			 escalated;
	int			 listenfd;
	int			 pidfd;
	int			 readyfd;	/* launcher's pipe, or -1 */
	int			 logfd;		/* [daemon] log_file: 2, or -1 */
	pid_t			 pid;		/* ours, after daemonizing */

	/* the frontend */
	pid_t			 fe_pid;
	int			 fe_up;		/* channel open */
	int			 fe_ready;
	int			 fe_exiting;	/* S_EXIT sent */
	struct chan_ev		 fe_ce;		/* the channel and its event */
	struct event		 fe_respawn_ev;
	struct event		 fe_exit_ev;
	struct event		 fe_hb_ev;
	int64_t			 fe_started;	/* monotonic ms */
	char			 fe_why[256];	/* why it was lost */
	uint64_t		 hb_seq;	/* last heartbeat sent */
	uint64_t		 hb_acked;	/* last one answered */
	int64_t			 hb_sent;	/* when hb_seq went, ms */

	/* client connections: accepted here, served by the frontend */
	struct event		 listen_ev;
	struct event		 accept_retry_ev;
	int			 accepting;	/* listen_ev added */
	int			 accept_paused;	/* out of descriptors */
	uint64_t		 conn_serial;
	uint32_t		 conn_gen;
	uint32_t		 nconns;
	struct sup_conn		*conns[CONN_SLOTS];
	TAILQ_HEAD(, sup_conn)	 deferred;	/* requests waiting */
	struct orphan {			/* clients a lost frontend never saw */
		uint32_t	 id;
		int		 fd;
	}			 orphans[FRONTEND_MAX_CONNS];
	size_t			 norphans;
	int			 fe_oldchan;	/* a lost frontend's, or -1 */
	int			 fd_reserve[SUP_FD_RESERVE];
	int			 nreserve;	/* of those, open */
	int			 reserve_used;	/* since it was last full */
	uint64_t		 refused;	/* connections refused */
	uint64_t		 fe_spawns;	/* frontends started */
	time_t			 refuse_log_at;

	struct event		 ev_sigterm, ev_sigint, ev_sighup,
				 ev_sigusr1, ev_sigusr2, ev_sigchld;
	struct event		 shutdown_ev;
};

extern struct supervisor	*sup;

/* supervisor.c */
__attribute__((__noreturn__)) void
		 supervisor_main(struct config *, const struct sup_opts *);
uint64_t	 sup_uptime_secs(void);
void		 sup_shutdown(const char *why);
__attribute__((__noreturn__)) void
		 sup_child_exec(int, const char *, const char *, const char *);
void		 fd_reserve_fill(void);
int		 fd_reserve_use(void);
int		 sup_socketpair(int [2]);
/* The name of a test build's stand-in variable; none in production. */
#ifdef APM2D_TEST_HOOKS
#define SUP_HOOK(name)	(name)
#else
#define SUP_HOOK(name)	NULL
#endif
/* Shutting down: leave once every process is gone. */
void		 sup_check_stopped(void);

/* daemon.c: start-up before the event loop */
int		 pid_lock(const char *, char *, size_t);
int		 pid_write(int);
int		 control_listen(const struct daemon_config *, char *, size_t);
int		 daemonize(char *, size_t);
int		 logfile_open(const char *, char *, size_t);
int		 dir_prepare(const char *, const char *, char *, size_t);
int		 daemon_preflight(const struct daemon_config *, char *, size_t,
		    char *, size_t);
void		 daemon_ready(int, const char *);
int		 mkdir_parents(const char *, mode_t, int);

/* dispatch.c: connections and messages from the frontend */
void		 dispatch_frontend(struct chan_msg *);
void		 dispatch_deferred(void);
void		 control_accept(int, short, void *);
void		 control_update(void);
void		 conn_drop_all(void);
void		 conn_orphans_drain(void);
void		 conn_orphans_adopt(void);
/* tail_logs: the logger's frames for it are relayed (logctl.c). */
void		 conn_logs_expect(struct conn_ref);
struct sup_conn	*conn_logs_waiting(uint32_t);
/* The logger is gone: its readers get an error and are closed. */
void		 conn_logs_lost(void);
struct sup_conn	*conn_lookup(struct conn_ref);
void		 reply_send(struct conn_ref, uint32_t, const void *, size_t);
int		 reply_room(void);
void		 reply_ok(struct conn_ref, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
/* Test seam: only regress/ calls reply_ok_null(). */
void		 reply_ok_null(struct conn_ref);
void		 reply_error(struct conn_ref, enum apm2_errcode, const char *,
		    ...) __attribute__((__format__(printf, 3, 4)));
/* An ok or an error whose message is text, of any length up to 64 KiB. */
void		 reply_ok_text(struct conn_ref, const char *, size_t);
void		 reply_error_text(struct conn_ref, enum apm2_errcode,
		    const char *, size_t);
void		 frontend_send(uint32_t, uint32_t, const void *, size_t);
void		 frontend_send_fd(uint32_t, uint32_t, int, const void *,
		    size_t);
void		 frontend_lost(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));

#endif /* APM2_SUPERVISOR_H */
