/* SPDX-License-Identifier: ISC */
/*
 * apm2d.h -- the frontend process (apm2d -F) and the command line.
 */
#ifndef APM2D_H
#define APM2D_H

#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>
#include <stdint.h>
#include <time.h>

#include "chan_event.h"
#include "frame.h"
#include "jsonw.h"
#include "proto.h"

#define FRONTEND_PARTIAL_TIMEOUT	10	/* s to finish a started frame */
#define FRONTEND_EXIT_GRACE		2	/* s to flush replies on exit */

/*
 * Memory a client can pin.  A connection's next request waits while more
 * than FRONTEND_CONN_OUT_HIGH bytes of its replies are unsent, and every
 * request waits while the buffers of all connections, plus one recent
 * large reply (at least FRONTEND_REPLY_EST_MIN) for every request in
 * flight, would exceed FRONTEND_MEM_BUDGET; an administrator's small
 * request with nothing unsent goes anyway.  Input is decoded only under
 * the same rule, so a frame grows past FRONTEND_READ_CHUNK only while the
 * budget allows; otherwise it stalls and its FRONTEND_PARTIAL_TIMEOUT
 * runs out.  Output
 * must drain at FRONTEND_MIN_DRAIN bytes (or all that was pending) per
 * FRONTEND_DRAIN_WINDOW seconds, or the connection is closed.
 * FRONTEND_DATA_LIMIT (RLIMIT_DATA) is the backstop for all of it.
 */
#define FRONTEND_READ_CHUNK		(16 * 1024)
#define FRONTEND_CONN_OUT_HIGH		(256 * 1024)
#define FRONTEND_CONN_IN_FREE		(16 * 1024)
#define FRONTEND_OUT_KEEP		(64 * 1024)	/* kept when idle */
#define FRONTEND_MEM_BUDGET		(32U * 1024 * 1024)
#define FRONTEND_REPLY_EST_MIN		(4 * 1024)
#define FRONTEND_OUTBUF_MAX		(64U * 1024 * 1024)	/* one reply */
#define FRONTEND_DRAIN_WINDOW		10	/* s */
#define FRONTEND_MIN_DRAIN		(64 * 1024)
#define FRONTEND_DATA_LIMIT		(256UL * 1024 * 1024)

struct frontend_opts {
	int		 debug;		/* log to stderr */
	int		 verbose;
	int		 quiet;		/* --log-level warn */
	int		 logger;	/* the logger (-L), not the frontend */
	const char	*user;		/* drop to this user when root */
	const char	*chroot;	/* chroot here when root */
};

/*
 * A connection's replies, framed, in the order they are sent.  A reply
 * is written straight into it (conn_reply_begin); until it is complete
 * (conn_reply_end puts its length in front) nothing from its start on
 * goes out.
 */
struct outbuf {
	struct jw	 w;		/* w.len: bytes held */
	size_t		 off;		/* first unsent byte */
	size_t		 reply;		/* start of the reply being written */
	int		 open;		/* a reply is being written */
};

/* A reply that several supervisor messages make, while it is written. */
struct partial {
	uint32_t	 kind;		/* S_LIST_ENTRY, S_DETAIL, S_LOG_ENTRY;
					   0: none */
	uint32_t	 n;		/* entries (or arguments) written */
	uint32_t	 ninst;		/* S_DETAIL: instances written */
	uint32_t	 nlimits;	/* S_DETAIL: limits written */
	struct s_detail	*detail;	/* S_DETAIL: what follows the args */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 sentry;	/* on fe->stalled */
	uint32_t		 id;
	int			 fd;
	int			 admin;		/* S_CONN_ADMIN */
	int			 stalled;	/* waits for the budget */
	int			 unconfirmed;	/* F_CONN_ACK not written yet */
	struct event		 rev;
	struct event		 wev;
	struct event		 tmo;		/* partial frame deadline */
	struct event		 wtmo;		/* drain rate window */
	uint64_t		 written;	/* bytes sent, ever */
	uint64_t		 win_mark;	/* written at window start */
	size_t			 win_need;	/* to drain in the window */
	size_t			 memacct;	/* counted in fe->mem */
	int64_t			 active;	/* last seen busy, ms */
	struct frame_dec	 dec;
	struct outbuf		 out;
	uint8_t			*pend;		/* read but not yet decoded */
	size_t			 pendlen;
	int			 inflight;	/* waiting for the supervisor */
	int			 counted;	/* in fe->ninflight */
	int			 following;	/* tail_logs follow stream */
	uint32_t		 acks_owed;	/* follow frames not acked */
	int			 closing;	/* close once output is sent */
	int			 eof;		/* client closed its side */
	struct partial		 part;		/* reply being assembled */
};

/* The frontend process: its channel and its clients. */
struct frontend {
	struct chan_ev		 sup;		/* channel to the supervisor */
	struct event		 exitev;
	struct event		 resumeev;
	int			 exiting;
	int			 hello;
	struct timespec		 start;
	uint32_t		 sup_pid;
	uint32_t		 max_conns;
	uint32_t		 idle_ms;
	uint32_t		 nconns;
	uint32_t		 nunconfirmed;
	size_t			 mem;		/* buffers of all connections */
	size_t			 ninflight;	/* requests awaiting a reply */
	size_t			 reply_est;	/* recent large reply, bytes */
	struct conn		*slots[CONN_SLOTS];
	TAILQ_HEAD(, conn)	 conns;
	TAILQ_HEAD(, conn)	 stalled;
};

extern struct frontend	*fe;

/* frontend.c: start-up and the channel to the supervisor */
__attribute__((__noreturn__)) void
		 frontend_main(const struct frontend_opts *);
void		 fe_send(uint32_t, uint32_t, const void *, size_t);
uint64_t	 uptime_secs(void);
void		 part_clear(struct conn *);

/* control.c: client connections */
void		 control_init(void);
struct conn	*conn_find(uint32_t);
void		 conn_new(uint32_t, int, int);
void		 conn_update(struct conn *);
void		 conn_confirmed(void);
void		 conn_idle_sweep(void);
void		 conn_ack(struct conn *);
void		 conn_done(struct conn *);
void		 conn_uncount(struct conn *);
struct jw	*conn_reply_begin(struct conn *);
void		 conn_reply_end(struct conn *);
void		 conn_reply_abort(struct conn *);
void		 conn_reply_error(struct conn *, enum apm2_errcode,
		    const char *);

/* render.c: the upstream JSON of each reply, from the supervisor's messages */
void	render_pong(struct jw *, uint64_t);
void	render_status(struct jw *, const struct s_status *);
void	render_ok(struct jw *, const struct s_text *);
void	render_ok_text(struct jw *, const char *, size_t);
void	render_error(struct jw *, enum apm2_errcode, const char *);
void	render_error_text(struct jw *, enum apm2_errcode, const char *,
	    size_t);
void	render_list_begin(struct jw *);
void	render_list_entry(struct jw *, const struct s_summary *, int);
void	render_list_end(struct jw *);
void	render_metrics_begin(struct jw *);
void	render_metrics_part(struct jw *, const char *, size_t);
void	render_metrics_end(struct jw *);
void	render_detail_begin(struct jw *, const struct s_detail *);
void	render_detail_arg(struct jw *, const struct s_str *, int);
void	render_detail_args_end(struct jw *, const struct s_detail *);
void	render_detail_inst(struct jw *, const struct s_instance *, int);
void	render_detail_limit(struct jw *, const struct s_detail *,
	    const struct s_limit *, int);
void	render_detail_end(struct jw *, const struct s_detail *);
void	render_log_begin(struct jw *);
void	render_log_entry(struct jw *, const struct s_logentry *,
	    const char *, int);

/* sandbox.c */
void	sandbox_enter(const struct frontend_opts *);

#endif /* APM2D_H */
