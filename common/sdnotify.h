/* SPDX-License-Identifier: ISC */
/*
 * sdnotify.h -- the service manager's notification protocol (systemd's
 * sd_notify(3)): one datagram of newline-separated KEY=VALUE lines sent
 * to the AF_UNIX socket named by $NOTIFY_SOCKET, a path or, when it
 * begins with '@', a name in Linux's abstract namespace.
 *
 * Written here rather than linked from libsystemd: the protocol is a
 * socket and a sendto(2), and a library for it would be one dependency
 * more, and more code in the root supervisor's address space, for
 * nothing that OpenBSD (no service manager sets $NOTIFY_SOCKET there)
 * would ever use.
 */
#ifndef APM2_SDNOTIFY_H
#define APM2_SDNOTIFY_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>

#define SDNOTIFY_ENV		"NOTIFY_SOCKET"
#define SDNOTIFY_MSG_MAX	1024	/* one datagram, at most */
#define SDNOTIFY_VALUE_MAX	256	/* a STATUS= text, at most */

/*
 * Take $NOTIFY_SOCKET out of the environment, whatever it holds, so
 * that no process we start (frontend, logger, agent) can speak for us;
 * keep the address and open a non-blocking datagram socket for it.
 * 1: notifications will be sent; 0: none will (unset, empty, or an
 * address or socket we cannot use, which is logged at debug).
 */
int	sdnotify_open(void);
/* 1 once sdnotify_open() found a usable address. */
int	sdnotify_enabled(void);
/* Forget the address and close the socket (a child that must not send). */
void	sdnotify_close(void);

/*
 * The address in $NOTIFY_SOCKET as a sockaddr: 0 and *sun, *len; -1 for
 * an address that is empty, relative, too long, or abstract ('@') on a
 * system without abstract sockets.
 */
int	sdnotify_addr(const char *, struct sockaddr_un *, socklen_t *);

/*
 * Send one message, KEY=VALUE lines, if enabled.  Never blocks and never
 * fails the caller: a datagram the manager cannot take (gone, queue
 * full) is dropped; the first failure is logged at debug.  0 sent, -1
 * not (disabled, too long, or dropped).
 */
int	sdnotify_send(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));

/*
 * text as one VALUE in dst: its first line only, control characters as
 * '?', cut (never inside a UTF-8 character) to fit dst; its length.
 */
size_t	sdnotify_value(char *, size_t, const char *);

#endif /* APM2_SDNOTIFY_H */
