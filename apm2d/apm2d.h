/*
 * apm2d.h -- the frontend process (apm2d -F) and the command line.
 */
#ifndef APM2D_H
#define APM2D_H

#include <sys/types.h>

#define FRONTEND_PARTIAL_TIMEOUT	10	/* s to finish a started frame */
#define FRONTEND_WRITE_TIMEOUT		10	/* s without write progress */
#define FRONTEND_OUTBUF_MAX		(64U * 1024 * 1024)
#define FRONTEND_EXIT_GRACE		2	/* s to flush replies on exit */

struct frontend_opts {
	int		 debug;		/* log to stderr */
	int		 verbose;
	const char	*user;		/* drop to this user when root */
	const char	*chroot;	/* chroot here when root */
};

/* frontend.c */
__attribute__((__noreturn__)) void	frontend_main(const struct frontend_opts *);

/* sandbox.c */
void	sandbox_frontend(const struct frontend_opts *);

#endif /* APM2D_H */
