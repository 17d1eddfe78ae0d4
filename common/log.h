/* SPDX-License-Identifier: ISC */
/*
 * log.h -- logging for every apm2d process, in the OpenBSD daemon style.
 *
 * Foreground (log_init(1, ...)): one line per message on stderr (or the
 * descriptor log_setfd() names: [daemon] log_file), written with a single
 * write(2) so processes sharing it never interleave inside a line:
 *	2026-12-08T02:30:00.123Z apm2d[1234]: supervisor: message
 * Background: syslog(3) with the process name as ident and LOG_PID; the
 * line is "supervisor: message".  Call log_init() before chroot or
 * sandboxing: LOG_NDELAY connects to the log socket right away.
 *
 * Control characters in messages are escaped (\n, \r, \xNN) so text that
 * came from a client or an agent cannot forge log lines.  A line longer
 * than LOG_MAXLINE is cut and ends in "...".  Every function keeps errno.
 */
#ifndef APM2_LOG_H
#define APM2_LOG_H

#include <sys/cdefs.h>
#include <stdarg.h>

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif

/* Longest line including the newline; at most PIPE_BUF keeps it atomic. */
#define LOG_MAXLINE	4096

void	log_init(int, int);
void	log_procinit(const char *);
void	log_setverbose(int);
void	log_setquiet(int);
void	log_setfd(int);
int	log_level_parse(const char *, int *, int *);
/* Test seam: only regress/ calls log_getverbose(). */
int	log_getverbose(void);

/* Test seam: only regress/ calls logit(). */
void	logit(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	vlog(int, const char *, va_list)
	    __attribute__((__format__ (printf, 2, 0)));

/* log_warn and fatal append ": strerror(errno)"; fmt may be NULL. */
void	log_warn(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
/* Only when the verbosity is above 0. */
void	log_debug(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));

/* Log "fatal: ..." at LOG_CRIT and exit(1). */
__dead void	fatal(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
__dead void	fatalx(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));

#endif /* APM2_LOG_H */
