/* SPDX-License-Identifier: ISC */
/*
 * reload.c -- read the configuration again and apply the difference
 * (see reload.h).
 */
#include <sys/types.h>

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "confdiff.h"
#include "log.h"
#include "notify.h"
#include "runner.h"
#include "reload.h"
#include "sdnotify.h"

struct msg {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	size_t	 left;		/* lines that did not fit */
};

static int	msg_init(struct msg *);
static void	msg_line(struct msg *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	msg_end(struct msg *);
static void	summary(const struct confdiff *, int, struct msg *);
static void	errors(const struct config_errors *, struct msg *);
static void	log_lines(struct conn_ref, const char *, int);
static void	reload_do(struct conn_ref, int, char *, size_t);

static int
msg_init(struct msg *m)
{
	memset(m, 0, sizeof(*m));
	m->cap = RELOAD_MSG_MAX;
	if ((m->buf = malloc(m->cap)) == NULL)
		return (-1);
	m->buf[0] = '\0';
	return (0);
}

/* One line, with a newline before it unless it is the first. */
static void
msg_line(struct msg *m, const char *fmt, ...)
{
	char	line[PATH_MAX + 512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* Room for this line and the last one that says what is left. */
	if (m->left > 0 || m->len + 1 + (size_t)n + 64 > m->cap) {
		m->left++;
		return;
	}
	if (m->len > 0)
		m->buf[m->len++] = '\n';
	memcpy(m->buf + m->len, line, (size_t)n);
	m->len += (size_t)n;
	m->buf[m->len] = '\0';
}

static void
msg_end(struct msg *m)
{
	if (m->left > 0)
		m->len += (size_t)snprintf(m->buf + m->len, m->cap - m->len,
		    "\n... and %zu more", m->left);
}

/* "reload: 1 added, ..." then one line per process that is affected. */
static void
summary(const struct confdiff *d, int dry_run, struct msg *m)
{
	size_t	c[CD_POLICY + 1], i, kept = 0;
	char	line[256];

	for (i = 0; i < d->ndaemon; i++)
		kept += !d->daemon_live[i];
	confdiff_count(d, c);
	msg_line(m, "%s: %zu added, %zu removed, %zu changed, %zu scaled, "
	    "%zu policy only, %zu unchanged%s", dry_run ? "dry run" :
	    "reloaded", c[CD_ADDED], c[CD_REMOVED], c[CD_CHANGED],
	    c[CD_SCALED], c[CD_POLICY], c[CD_UNCHANGED],
	    kept > 0 ? "; daemon keys kept until apm2d restarts" : "");
	for (i = 0; i < d->n; i++)
		if (d->v[i].kind != CD_UNCHANGED &&
		    confdiff_line(&d->v[i], line, sizeof(line)) > 0)
			msg_line(m, "%s", line);
	for (i = 0; i < d->ndaemon; i++)
		msg_line(m, d->daemon_live[i] ? "* daemon.%s (applied)" :
		    "! daemon.%s (kept until apm2d restarts)", d->daemon[i]);
}

static void
errors(const struct config_errors *e, struct msg *m)
{
	size_t	i;

	msg_line(m, "%s has errors; nothing changed:",
	    sup->opts.config_path);
	for (i = 0; i < e->n; i++)
		msg_line(m, "%s", e->msgs[i]);
}

/* The message, a log line a line: "reload (SIGHUP): ...". */
static void
log_lines(struct conn_ref ref, const char *buf, int warn)
{
	const char	*p, *nl, *who = ref.id != 0 ? "request" : "SIGHUP";

	for (p = buf; *p != '\0'; p = nl + (*nl != '\0')) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (warn)
			log_warnx("reload (%s): %.*s", who, (int)(nl - p), p);
		else
			log_info("reload (%s): %.*s", who, (int)(nl - p), p);
	}
}

/*
 * A reload that is not a dry run is bracketed for the service manager
 * (notify.h): RELOADING=1 before, READY=1 after with what it did.
 */
void
reload_run(struct conn_ref ref, int dry_run)
{
	char	what[SDNOTIFY_VALUE_MAX];

	if (sup->shutting_down) {
		reply_error(ref, ERR_INTERNAL_ERROR, "Daemon shutting down");
		return;
	}
	if (!dry_run)
		notify_reloading();
	reload_do(ref, dry_run, what, sizeof(what));
	if (!dry_run)
		notify_reloaded(what);
}

/* The reload itself; its outcome in one line in what. */
static void
reload_do(struct conn_ref ref, int dry_run, char *what, size_t wlen)
{
	struct config_errors	 errs;
	struct confdiff		 d;
	struct config		*nc;
	struct msg		 m;

	snprintf(what, wlen, "reload failed: out of memory");
	if (msg_init(&m) == -1) {
		log_warnx("reload: out of memory");
		reply_error(ref, ERR_INTERNAL_ERROR, "out of memory");
		return;
	}
	nc = config_load(sup->opts.config_path, &errs);
	if (nc != NULL && config_daemon_paths(nc, sup->opts.cwd,
	    sup->opts.sockpath, sup->opts.pidpath, sup->opts.statepath,
	    sup->opts.logpath, geteuid() == 0) == -1) {
		config_free(nc);
		nc = NULL;
		config_errors_free(&errs);
		errs.n = 0;
		msg_line(&m, "out of memory");
	}
	if (nc == NULL) {
		if (errs.n > 0)
			snprintf(what, wlen, "reload failed, nothing changed: "
			    "%s%s", errs.msgs[0], errs.n > 1 ? " (and more)" :
			    "");
		errors(&errs, &m);
		config_errors_free(&errs);
		msg_end(&m);
		log_lines(ref, m.buf, 1);
		reply_error_text(ref, ERR_INVALID_REQUEST, m.buf, m.len);
		free(m.buf);
		return;
	}
	config_errors_free(&errs);
	if (confdiff(sup->conf, nc, &d) == -1) {
		log_warnx("reload: out of memory");
		reply_error(ref, ERR_INTERNAL_ERROR, "out of memory");
		config_free(nc);
		free(m.buf);
		return;
	}
	summary(&d, dry_run, &m);
	msg_end(&m);
	/* Its first line: "reloaded: 1 added, 0 removed, ..." */
	(void)sdnotify_value(what, wlen, m.buf);
	log_lines(ref, m.buf, 0);
	if (dry_run)
		config_free(nc);
	else
		runner_reload(nc, &d);	/* nc is the runner's now */
	reply_ok_text(ref, m.buf, m.len);
	confdiff_free(&d);
	free(m.buf);
}
