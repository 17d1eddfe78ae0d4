/* SPDX-License-Identifier: ISC */
/*
 * notify.h -- what the supervisor tells a service manager that started
 * it as a Type=notify service (common/sdnotify.h is the protocol):
 *
 *	READY=1		once a client's ping would be answered
 *	STATUS=		"12 of 14 instances running", as that changes,
 *			at most once a second
 *	RELOADING=1	then READY=1, around a reload that is not a dry
 *			run, STATUS= saying what it did or that it failed
 *	STOPPING=1	when shutdown begins, with EXTEND_TIMEOUT_USEC= the
 *			longest the shutdown can take
 *
 * Nothing is sent unless $NOTIFY_SOCKET was set when apm2d started.
 */
#ifndef APM2_NOTIFY_H
#define APM2_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#define NOTIFY_STATUS_MS	1000	/* at most one STATUS= a second */
#define NOTIFY_GATE_MS		50	/* has the launcher gone? */
#define NOTIFY_HELD		8	/* messages held meanwhile */
#define NOTIFY_STOP_SLACK_MS	5000	/* past the shutdown's own bounds */

/*
 * After daemonizing (or not) and event_init(): launchfd is the launch
 * pipe's write end when apm2d detached (the launcher then sends READY=1
 * with MAINPID=), else -1.
 */
void	notify_init(int launchfd);
/* The frontend is ready and clients are accepted (the first time). */
void	notify_ready(void);
/* An instance changed state: STATUS= soon, if its text changes. */
void	notify_status(void);
/* Around a reload that is not a dry run; what: its outcome, one line. */
void	notify_reloading(void);
void	notify_reloaded(const char *what);
/* Shutdown begins. */
void	notify_stopping(const char *why);

/* "12 of 14 instances running" (while stopping: "shutting down: ..."). */
size_t	notify_status_text(char *, size_t, int stopping, uint32_t running,
	    uint32_t total);

#endif /* APM2_NOTIFY_H */
