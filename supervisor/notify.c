/* SPDX-License-Identifier: ISC */
/*
 * notify.c -- what the supervisor tells a service manager (notify.h).
 *
 * Only the supervisor sends: sdnotify_open() took $NOTIFY_SOCKET out of
 * the environment before anything was started, so the frontend, the
 * logger and the agents never learn it.
 *
 * When apm2d detaches, the manager knows only the process it started,
 * the launcher, and with NotifyAccess=main takes messages from that
 * process alone.  So the launcher sends READY=1 with MAINPID= when the
 * daemon reports ready on the launch pipe (daemonize()), and the daemon
 * holds its own messages until the launcher has closed its end of that
 * pipe: by then the manager knows the daemon as the main process.
 */
#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "logctl.h"
#include "notify.h"
#include "runner.h"
#include "sdnotify.h"
#include "supervisor.h"

static struct {
	int		 on;		/* $NOTIFY_SOCKET was usable */
	int		 ready;		/* READY=1 sent (or the launcher's) */
	int		 gate;		/* launch pipe while the launcher is */
	int64_t		 gate_since;	/* monotonic ms */
	struct event	 timer;		/* STATUS= and the gate */
	int64_t		 status_at;	/* last STATUS=, monotonic ms */
	int		 shown;		/* the counts it gave, if any: */
	int		 shown_stopping;
	uint32_t	 shown_running, shown_total;
	char		 held[NOTIFY_HELD][SDNOTIFY_MSG_MAX];
	size_t		 nheld;
} nt = { .gate = -1 };

static void	notify_timer(int, short, void *);
static void	arm(int64_t);
static int	gate_open(void);
static void	send_msg(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));
static void	status_now(char *, size_t);
static int	status_same(void);

void
notify_init(int launchfd)
{
	if (!sdnotify_enabled())
		return;
	nt.on = 1;
	evtimer_set(&nt.timer, notify_timer, NULL);
	if (launchfd != -1) {
		/* Our own copy: daemon_ready() closes launchfd. */
		if ((nt.gate = fcntl(launchfd, F_DUPFD_CLOEXEC, 3)) == -1)
			log_warn("notify: cannot keep the launch pipe");
		nt.gate_since = mono_ms();
	}
}

void
notify_ready(void)
{
	char	text[SDNOTIFY_VALUE_MAX];

	if (!nt.on || nt.ready)
		return;
	nt.ready = 1;
	if (nt.gate != -1) {
		/* The launcher says READY=1; our STATUS= follows it. */
		arm(0);
		return;
	}
	status_now(text, sizeof(text));
	send_msg("READY=1\nSTATUS=%s", text);
}

/* Called on every state change: cheap unless a STATUS= is due. */
void
notify_status(void)
{
	int64_t	wait;

	if (!nt.on || !nt.ready || evtimer_pending(&nt.timer, NULL))
		return;
	wait = nt.status_at + NOTIFY_STATUS_MS - mono_ms();
	arm(wait > 0 ? wait : 0);
}

/*
 * Not before READY=1: a reload during start-up must not make the
 * manager believe start-up is over.
 */
void
notify_reloading(void)
{
	if (!nt.on || !nt.ready)
		return;
	/* MONOTONIC_USEC= is what Type=notify-reload (systemd 253) wants. */
	send_msg("RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\n"
	    "STATUS=reloading the configuration", mono_ns() / 1000);
}

void
notify_reloaded(const char *what)
{
	char	text[SDNOTIFY_VALUE_MAX], line[SDNOTIFY_VALUE_MAX];

	if (!nt.on || !nt.ready)
		return;
	/* The counts first: a long summary is what gets cut. */
	status_now(text, sizeof(text));
	(void)sdnotify_value(line, sizeof(line) - strlen(text) - 2, what);
	send_msg("READY=1\nSTATUS=%s; %s", text, line);
}

/*
 * EXTEND_TIMEOUT_USEC: the longest our shutdown can take, so that the
 * manager's own stop timeout (TimeoutStopSec) never cuts it short: the
 * daemon-wide deadline, the frontend's exit, the logger's, and slack.
 */
void
notify_stopping(const char *why)
{
	char		line[SDNOTIFY_VALUE_MAX];
	uint64_t	ms;

	if (!nt.on)
		return;
	ms = duration_to_ms(&sup->conf->daemon.shutdown_timeout);
	if (ms > UINT64_MAX / 1000 - 1000000)
		ms = UINT64_MAX / 1000 - 1000000;	/* "forever" */
	ms += FRONTEND_EXIT_WAIT * 1000 + LOGCTL_EXIT_MS +
	    NOTIFY_STOP_SLACK_MS;
	(void)sdnotify_value(line, sizeof(line), why);
	send_msg("STOPPING=1\nEXTEND_TIMEOUT_USEC=%" PRIu64 "\n"
	    "STATUS=shutting down (%s)", ms * 1000, line);
	nt.status_at = mono_ms();
	nt.shown = 0;		/* the counts follow as they change */
	notify_status();
}

size_t
notify_status_text(char *buf, size_t len, int stopping, uint32_t running,
    uint32_t total)
{
	int	n;

	n = snprintf(buf, len, "%s%" PRIu32 " of %" PRIu32 " instance%s "
	    "running", stopping ? "shutting down: " : "", running, total,
	    total == 1 ? "" : "s");
	if (n < 0)
		n = 0;
	return ((size_t)n < len ? (size_t)n : len > 0 ? len - 1 : 0);
}

/* The STATUS= text of now; the counts in it are taken as shown. */
static void
status_now(char *buf, size_t len)
{
	nt.shown = 1;
	nt.shown_stopping = sup->shutting_down;
	nt.shown_running = runner_running_count();
	nt.shown_total = runner_instance_count();
	(void)notify_status_text(buf, len, nt.shown_stopping,
	    nt.shown_running, nt.shown_total);
	nt.status_at = mono_ms();
}

/* Would a STATUS= now say what the last one said? */
static int
status_same(void)
{
	return (nt.shown && nt.shown_stopping == sup->shutting_down &&
	    nt.shown_running == runner_running_count() &&
	    nt.shown_total == runner_instance_count());
}

static void
arm(int64_t ms)
{
	struct timeval	tv;

	ms_to_tv(ms, &tv);
	evtimer_add(&nt.timer, &tv);
}

/*
 * The launcher has closed its end of the launch pipe (it exits right
 * after sending READY=1 with MAINPID=), or it had its chance.
 */
static int
gate_open(void)
{
	struct pollfd	pfd;

	if (nt.gate == -1)
		return (1);
	pfd.fd = nt.gate;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1 && errno != EINTR)
		pfd.revents = POLLERR;
	if ((pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) == 0 &&
	    mono_ms() - nt.gate_since < LAUNCH_READY_TIMEOUT * 1000)
		return (0);
	close(nt.gate);
	nt.gate = -1;
	return (1);
}

/* One message now, or held, in order, until the launcher has gone. */
static void
send_msg(const char *fmt, ...)
{
	va_list	ap;
	size_t	i;

	if (!gate_open()) {
		if (nt.nheld == NOTIFY_HELD) {
			log_debug("notify: too many messages held, one "
			    "dropped");
			return;
		}
		va_start(ap, fmt);
		vsnprintf(nt.held[nt.nheld++], SDNOTIFY_MSG_MAX, fmt, ap);
		va_end(ap);
		if (!evtimer_pending(&nt.timer, NULL))
			arm(NOTIFY_GATE_MS);
		return;
	}
	for (i = 0; i < nt.nheld; i++)
		(void)sdnotify_send("%s", nt.held[i]);
	nt.nheld = 0;
	va_start(ap, fmt);
	vsnprintf(nt.held[0], SDNOTIFY_MSG_MAX, fmt, ap);
	va_end(ap);
	(void)sdnotify_send("%s", nt.held[0]);
}

/* The gate, then STATUS= if its text changed and a second has passed. */
static void
notify_timer(int fd, short ev, void *arg)
{
	char	text[SDNOTIFY_VALUE_MAX];
	size_t	i;
	int64_t	wait;

	if (!gate_open()) {
		arm(NOTIFY_GATE_MS);
		return;
	}
	for (i = 0; i < nt.nheld; i++)
		(void)sdnotify_send("%s", nt.held[i]);
	nt.nheld = 0;
	if ((wait = nt.status_at + NOTIFY_STATUS_MS - mono_ms()) > 0) {
		arm(wait);
		return;
	}
	/* A reload's STATUS= stays until the counts in it change. */
	if (status_same())
		return;
	status_now(text, sizeof(text));
	(void)sdnotify_send("STATUS=%s", text);
}
