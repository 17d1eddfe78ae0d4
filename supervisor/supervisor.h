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
#include "codec.h"
#include "config.h"
#include "proto.h"

#define FRONTEND_RESPAWN_MIN	1	/* s, doubling ... */
#define FRONTEND_RESPAWN_MAX	60	/* ... up to this */
#define FRONTEND_HEALTHY	60	/* s up before the backoff resets */
#define FRONTEND_EXIT_WAIT	3	/* s for the frontend to exit */
#define LAUNCH_READY_TIMEOUT	30	/* s the launcher waits */
#define CONN_BUCKETS		256	/* connection hash buckets */
#define CONTROL_BACKLOG		1024	/* listen(2) queue: bursts of clients */

/* Command-line settings that override or complement the config. */
struct sup_opts {
	int		 debug;		/* -d: foreground, stderr */
	int		 verbose;
	const char	*config_path;	/* absolute */
	const char	*self;		/* absolute path of the apm2d binary */
};

/* One client connection, as the supervisor knows it. */
struct sup_conn {
	LIST_ENTRY(sup_conn)	 entry;
	uint32_t		 id;	/* the frontend's connection id */
	uint64_t		 serial;	/* unique for the daemon's life */
	uid_t			 uid;	/* read by us from the socket */
	gid_t			 gid;
	pid_t			 pid;
	int			 busy;	/* a request is being answered */
	int			 following;	/* tail_logs follow stream */
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
	pid_t			 pid;		/* ours, after daemonizing */

	/* the frontend */
	pid_t			 fe_pid;
	int			 fe_up;		/* channel open */
	int			 fe_ready;
	struct chan		 fe_chan;
	struct event		 fe_ev;
	struct event		 fe_respawn_ev;
	struct event		 fe_exit_ev;
	time_t			 fe_started;	/* monotonic seconds */
	unsigned int		 fe_backoff;	/* next respawn delay, s */
	unsigned int		 fe_spawns;

	uint64_t		 conn_serial;
	LIST_HEAD(, sup_conn)	 conns[CONN_BUCKETS];

	struct event		 ev_sigterm, ev_sigint, ev_sighup,
				 ev_sigchld;
	struct event		 shutdown_ev;
};

extern struct supervisor	*sup;

/* supervisor.c */
__attribute__((__noreturn__)) void
		 supervisor_main(struct config *, const struct sup_opts *);
uint64_t	 sup_uptime_secs(void);
void		 sup_shutdown(const char *why);

/* daemon.c: start-up before the event loop */
int		 pid_lock(const char *, char *, size_t);
int		 pid_write(int);
int		 control_listen(const struct daemon_config *, char *, size_t);
int		 daemonize(char *, size_t);
void		 daemon_ready(int, const char *);
int		 mkdir_parents(const char *, mode_t, int);

/* dispatch.c: messages from the frontend */
void		 dispatch_frontend(struct chan_msg *);
void		 conn_drop_all(void);
struct sup_conn	*conn_lookup(struct conn_ref);
void		 reply_send(struct conn_ref, uint32_t, const void *, size_t);
void		 reply_ok(struct conn_ref, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
void		 reply_ok_null(struct conn_ref);
void		 reply_error(struct conn_ref, enum apm2_errcode, const char *,
		    ...) __attribute__((__format__(printf, 3, 4)));
void		 frontend_send(uint32_t, uint32_t, const void *, size_t);
void		 frontend_lost(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));

#endif /* APM2_SUPERVISOR_H */
