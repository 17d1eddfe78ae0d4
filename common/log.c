/* SPDX-License-Identifier: ISC */
/*
 * log.c -- stderr or syslog logging with a per-process prefix.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct logline {
	char	buf[LOG_MAXLINE];
	size_t	len;
};

static int	log_tostderr = 1;	/* until log_init() says otherwise */
static int	log_fd = STDERR_FILENO;	/* where "stderr" lines go */
static int	log_verbose;
static int	log_quiet;		/* --log-level warn: no LOG_INFO */
static char	log_procname[32];

static void	line_add(struct logline *, const char *, size_t);
static int	line_addesc(struct logline *, const char *, size_t);
static void	log_emit(int, const char *, const char *, const char *,
		    va_list) __attribute__((__format__ (printf, 4, 0)));
static void	log_stderr(const char *, size_t);
static void	line_stamp(struct logline *);

void
log_init(int debug, int facility)
{
	int	saved = errno;

	log_tostderr = debug != 0;
	if (!log_tostderr)
		openlog(getprogname(), LOG_PID | LOG_NDELAY, facility);
	/* Load the time zone before any chroot hides it from syslog(3). */
	tzset();
	errno = saved;
}

void
log_procinit(const char *procname)
{
	if (procname == NULL)
		log_procname[0] = '\0';
	else
		strlcpy(log_procname, procname, sizeof(log_procname));
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

/*
 * The level names of --log-level: warn (errors and warnings only; apm2d
 * logs both at LOG_ERR, so "error" is the same), info, debug (-v) and
 * trace (-vv).  Returns -1 for any other name.
 */
int
log_level_parse(const char *name, int *verbose, int *quiet)
{
	static const struct {
		const char	*name;
		int		 verbose, quiet;
	} levels[] = {
		{ "error", 0, 1 }, { "warn", 0, 1 }, { "info", 0, 0 },
		{ "debug", 1, 0 }, { "trace", 2, 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0) {
			*verbose = levels[i].verbose;
			*quiet = levels[i].quiet;
			return (0);
		}
	return (-1);
}

void
log_setquiet(int q)
{
	log_quiet = q;
}

/*
 * Write "stderr" lines to fd from now on ([daemon] log_file, reopened on
 * SIGUSR1).  The previous descriptor is closed unless it is stderr.
 */
void
log_setfd(int fd)
{
	int	saved = errno;

	if (log_fd != STDERR_FILENO && log_fd != fd)
		close(log_fd);
	log_fd = fd;
	errno = saved;
}

/* "2026-12-08T02:30:00.123Z ": UTC, which needs no zone file in a chroot. */
static void
line_stamp(struct logline *l)
{
	struct timespec	ts;
	struct tm	tm;
	char		buf[40];
	size_t		n;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL)
		return;
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return;
	snprintf(buf + n, sizeof(buf) - n, ".%03ldZ ",
	    (long)(ts.tv_nsec / 1000000));
	line_add(l, buf, strlen(buf));
}

/* Append raw bytes, as many as fit before the final newline. */
static void
line_add(struct logline *l, const char *s, size_t n)
{
	size_t	room = sizeof(l->buf) - 1 - l->len;

	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/*
 * Append s with control characters escaped, stopping before limit bytes
 * of line.  Returns 1 if s was cut short.
 */
static int
line_addesc(struct logline *l, const char *s, size_t limit)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p;
	char			 esc[4];
	size_t			 n;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n') {
			esc[0] = '\\';
			esc[1] = 'n';
			n = 2;
		} else if (*p == '\r') {
			esc[0] = '\\';
			esc[1] = 'r';
			n = 2;
		} else if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 0xf];
			n = 4;
		} else {
			esc[0] = (char)*p;
			n = 1;
		}
		if (l->len + n > limit)
			return (1);
		memcpy(l->buf + l->len, esc, n);
		l->len += n;
	}
	return (0);
}

/* One write(2) for the whole line; finish it if the write was short. */
static void
log_stderr(const char *s, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = write(log_fd, s, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/*
 * Build "[prog[pid]: ][proc: ][what]message[: errstr]" and send it.
 * fmt may be NULL (only errstr then).  Keeps errno.
 */
static void
log_emit(int pri, const char *what, const char *errstr, const char *fmt,
    va_list ap)
{
	struct logline	 l;
	char		 body[LOG_MAXLINE], pfx[64];
	size_t		 start, tail, limit;
	const char	*prog;
	int		 saved = errno, n, cut = 0;

	body[0] = '\0';
	if (fmt != NULL) {
		n = vsnprintf(body, sizeof(body), fmt, ap);
		if (n < 0)
			strlcpy(body, "(unformattable message)", sizeof(body));
		else if ((size_t)n >= sizeof(body))
			cut = 1;
	}

	l.len = 0;
	if (log_tostderr) {
		line_stamp(&l);
		if ((prog = getprogname()) == NULL)
			prog = "apm2d";
		n = snprintf(pfx, sizeof(pfx), "%s[%ld]: ", prog,
		    (long)getpid());
		if (n > 0)
			line_add(&l, pfx, strlen(pfx));
	}
	start = l.len;		/* syslog adds its own ident and pid */
	if (log_procname[0] != '\0') {
		line_add(&l, log_procname, strlen(log_procname));
		line_add(&l, ": ", 2);
	}
	if (what != NULL)
		line_add(&l, what, strlen(what));

	/* Keep room for "...", ": errstr" and the newline. */
	tail = errstr != NULL ? strlen(errstr) + 2 : 0;
	limit = sizeof(l.buf) - 1;
	limit = limit > tail + 3 + l.len ? limit - tail - 3 : l.len;
	if (line_addesc(&l, body, limit))
		cut = 1;
	if (cut)
		line_add(&l, "...", 3);
	if (errstr != NULL) {
		if (fmt != NULL)
			line_add(&l, ": ", 2);
		line_add(&l, errstr, strlen(errstr));
	}

	if (log_tostderr) {
		l.buf[l.len++] = '\n';
		log_stderr(l.buf, l.len);
	} else {
		l.buf[l.len] = '\0';
		syslog(pri, "%s", l.buf + start);
	}
	errno = saved;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	if (pri == LOG_DEBUG && log_verbose <= 0)
		return;
	if (pri >= LOG_INFO && log_quiet)
		return;
	log_emit(pri, NULL, NULL, fmt, ap);
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_emit(LOG_ERR, NULL, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	log_emit(LOG_INFO, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose <= 0)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
