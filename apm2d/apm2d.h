/*
 * apm2d.h -- the frontend process (apm2d -F) and the command line.
 */
#ifndef APM2D_H
#define APM2D_H

#include <sys/types.h>

#include <stdint.h>

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
	const char	*user;		/* drop to this user when root */
	const char	*chroot;	/* chroot here when root */
};

/* frontend.c */
__attribute__((__noreturn__)) void	frontend_main(const struct frontend_opts *);

/* render.c: the upstream JSON of each reply, from the supervisor's messages */
void	render_pong(struct jw *, uint64_t);
void	render_status(struct jw *, const struct s_status *);
void	render_ok(struct jw *, const struct s_text *);
void	render_error(struct jw *, enum apm2_errcode, const char *);
void	render_list_begin(struct jw *);
void	render_list_entry(struct jw *, const struct s_summary *, int);
void	render_list_end(struct jw *);
void	render_detail_begin(struct jw *, const struct s_detail *);
void	render_detail_arg(struct jw *, const struct s_str *, int);
void	render_detail_args_end(struct jw *, const struct s_detail *);
void	render_detail_inst(struct jw *, const struct s_instance *, int);
void	render_detail_end(struct jw *, const struct s_detail *);
void	render_log_begin(struct jw *);
void	render_log_entry(struct jw *, const struct s_logentry *,
	    const char *, int);

/* sandbox.c */
void	sandbox_frontend(const struct frontend_opts *);

#endif /* APM2D_H */
