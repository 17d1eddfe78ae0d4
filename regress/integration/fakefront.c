/* SPDX-License-Identifier: ISC */
/*
 * fakefront -- a stand-in for the frontend that breaks the protocol.
 *
 * Only the test build of apm2d (regress/integration/apm2d-hooks) starts
 * it, in place of "apm2d -F", when APM2D_TEST_FRONTEND names it.  It gets
 * the channel on fd 3, like the real frontend.  The first time (counted
 * in the file $FAKEFRONT_STATE) it says F_READY and then sends the
 * malformed message(s) selected by $FAKEFRONT_MODE; every later time it
 * executes the real frontend ($FAKEFRONT_REAL with the arguments it was
 * given), so the test can see the supervisor survive, respawn, and serve
 * again.  Modes that need a client connect one to $FAKEFRONT_SOCKET and
 * wait for the supervisor to hand it over (S_CONN_NEW).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "proto.h"

#define SLOW_CLIENTS	4	/* mode slow-lists */

/* The type number F_CONN_NEW had when the frontend passed clients up. */
#define OLD_F_CONN_NEW	65

static struct chan	ch;

static void
send_msg(uint32_t type, uint32_t peerid, int fd, const void *data,
    size_t len)
{
	if (chan_compose(&ch, type, peerid, fd, data, len) == -1)
		err(1, "chan_compose");
	while (chan_flush(&ch) == 1)
		usleep(1000);
}

/* A raw 16-byte header of our own making, then some payload bytes. */
static void
send_raw_header(uint32_t type, uint32_t len, uint32_t flags)
{
	uint32_t	hdr[4] = { type, len, 0, flags };
	char		pad[64];

	memset(pad, 'A', sizeof(pad));
	if (write(FRONTEND_CHAN_FD, hdr, sizeof(hdr)) != sizeof(hdr) ||
	    write(FRONTEND_CHAN_FD, pad, sizeof(pad)) != sizeof(pad))
		err(1, "write");
}

/* Connect to the control socket; return the supervisor's id for it. */
static uint32_t
new_client(void)
{
	struct sockaddr_un	 sun;
	struct chan_msg		 m;
	struct pollfd		 pfd;
	const char		*path;
	uint32_t		 id = 0;
	ssize_t			 n;
	int			 fd, tries;

	if ((path = getenv("FAKEFRONT_SOCKET")) == NULL)
		errx(1, "FAKEFRONT_SOCKET");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "connect %s", path);
	/* Kept open (leaked on purpose): the client stays connected. */
	for (tries = 0; tries < 100 && id == 0; tries++) {
		pfd.fd = FRONTEND_CHAN_FD;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = chan_read(&ch)) == 0 ||
		    (n == -1 && errno != EAGAIN))
			err(1, "chan_read");
		while (chan_get(&ch, &m) > 0) {
			if (m.hdr.type == S_CONN_NEW)
				id = m.hdr.peerid;
			chan_msg_free(&m);
		}
	}
	if (id == 0)
		errx(1, "no S_CONN_NEW");
	return (id);
}

/* A listening socket of our own, as a compromised frontend could make. */
static int
listener(void)
{
	struct sockaddr_un	 sun;
	const char		*state = getenv("FAKEFRONT_STATE");
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s.l", state);
	unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 1) == -1)
		err(1, "listener");
	return (fd);
}

/*
 * Pass off a descriptor as a new client, as F_CONN_NEW once allowed,
 * then ask for a shutdown on it: only an administrator may.
 */
static void
forge_conn(int fd)
{
	struct f_request	req;

	memset(&req, 0, sizeof(req));
	req.type = REQ_SHUTDOWN;
	send_msg(OLD_F_CONN_NEW, 5, fd, NULL, 0);
	send_msg(F_REQUEST, 5, -1, &req, sizeof(req));
}

/*
 * Not a violation: clients list every program while we read nothing for
 * a while, then we read it all.  What each got is written to
 * $FAKEFRONT_RESULT, one line per client: its entries, and "end" if its
 * list ended.  The supervisor must have held the rest back rather than
 * overflow the channel (and kill us for it).
 */
static void
slow_lists(void)
{
	struct f_request	req;
	struct chan_msg		m;
	struct pollfd		pfd;
	struct heartbeat	hb;
	uint32_t		ids[SLOW_CLIENTS];
	size_t			entries[SLOW_CLIENTS];
	const char		*path;
	FILE			*f;
	int			ended[SLOW_CLIENTS], nended = 0, k, quiet;
	ssize_t			n;

	if ((path = getenv("FAKEFRONT_RESULT")) == NULL)
		errx(1, "FAKEFRONT_RESULT");
	memset(&req, 0, sizeof(req));
	req.type = REQ_LIST_PROCESSES;
	for (k = 0; k < SLOW_CLIENTS; k++) {
		ids[k] = new_client();
		entries[k] = 0;
		ended[k] = 0;
	}
	for (k = 0; k < SLOW_CLIENTS; k++)
		send_msg(F_REQUEST, ids[k], -1, &req, sizeof(req));
	sleep(2);	/* the supervisor answers meanwhile */
	for (quiet = 0; quiet < 600 && nended < SLOW_CLIENTS; ) {
		pfd.fd = FRONTEND_CHAN_FD;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) <= 0) {
			quiet++;	/* a minute of silence: give up */
			continue;
		}
		quiet = 0;
		if ((n = chan_read(&ch)) == 0 ||
		    (n == -1 && errno != EAGAIN))
			err(1, "chan_read");
		while (chan_get(&ch, &m) > 0) {
			for (k = 0; k < SLOW_CLIENTS; k++)
				if (m.hdr.peerid == ids[k])
					break;
			if (m.hdr.type == S_HEARTBEAT &&
			    m.datalen == sizeof(hb)) {
				memcpy(&hb, m.data, sizeof(hb));
				send_msg(F_HEARTBEAT, 0, -1, &hb, sizeof(hb));
			} else if (k < SLOW_CLIENTS &&
			    m.hdr.type == S_LIST_ENTRY)
				entries[k] += m.datalen /
				    sizeof(struct s_summary);
			else if (k < SLOW_CLIENTS &&
			    m.hdr.type == S_LIST_END) {
				ended[k] = 1;
				nended++;
			}
			chan_msg_free(&m);
		}
	}
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	for (k = 0; k < SLOW_CLIENTS; k++)
		fprintf(f, "%zu%s\n", entries[k], ended[k] ? " end" : "");
	fclose(f);
}

static void
misbehave(const char *mode)
{
	struct f_request	req;
	struct heartbeat	hb;
	uint32_t		id;
	int			p[2];

	memset(&req, 0, sizeof(req));
	req.type = REQ_STATUS;
	if (strcmp(mode, "unknown-type") == 0)
		send_msg(9999, 0, -1, NULL, 0);
	else if (strcmp(mode, "reply-type") == 0)
		send_msg(S_OK, 0, -1, NULL, 0);
	else if (strcmp(mode, "short-request") == 0) {
		id = new_client();
		send_msg(F_REQUEST, id, -1, &req, sizeof(req) - 1);
	} else if (strcmp(mode, "long-request") == 0) {
		char	big[sizeof(req) + 8];

		memset(big, 0, sizeof(big));
		id = new_client();
		send_msg(F_REQUEST, id, -1, big, sizeof(big));
	} else if (strcmp(mode, "unterminated") == 0) {
		id = new_client();
		req.type = REQ_GET_PROCESS;
		req.flags = F_REQ_HAS_NAME;
		memset(req.name, 'x', sizeof(req.name));
		send_msg(F_REQUEST, id, -1, &req, sizeof(req));
	} else if (strcmp(mode, "enum-range") == 0) {
		id = new_client();
		req.type = REQ__COUNT + 7;
		send_msg(F_REQUEST, id, -1, &req, sizeof(req));
	} else if (strcmp(mode, "bad-flags") == 0) {
		id = new_client();
		req.flags = 0x80;
		send_msg(F_REQUEST, id, -1, &req, sizeof(req));
	} else if (strcmp(mode, "unexpected-fd") == 0) {
		if (pipe(p) == -1)
			err(1, "pipe");
		id = new_client();
		send_msg(F_REQUEST, id, p[0], &req, sizeof(req));
	} else if (strcmp(mode, "closed-with-fd") == 0) {
		if (pipe(p) == -1)
			err(1, "pipe");
		id = new_client();
		send_msg(F_CONN_CLOSED, id, p[0], NULL, 0);
	} else if (strcmp(mode, "conn-chan-fd") == 0)
		forge_conn(FRONTEND_CHAN_FD);
	else if (strcmp(mode, "conn-listen-fd") == 0)
		forge_conn(listener());
	else if (strcmp(mode, "conn-socketpair") == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) == -1)
			err(1, "socketpair");
		forge_conn(p[0]);
	} else if (strcmp(mode, "conn-pipe") == 0) {
		if (pipe(p) == -1)
			err(1, "pipe");
		forge_conn(p[0]);
	} else if (strcmp(mode, "conn-no-fd") == 0)
		send_msg(OLD_F_CONN_NEW, 5, -1, NULL, 0);
	else if (strcmp(mode, "unknown-conn") == 0)
		send_msg(F_REQUEST, 77, -1, &req, sizeof(req));
	else if (strcmp(mode, "closed-twice") == 0) {
		id = new_client();
		send_msg(F_CONN_CLOSED, id, -1, NULL, 0);
		send_msg(F_CONN_CLOSED, id, -1, NULL, 0);
	} else if (strcmp(mode, "two-requests") == 0) {
		id = new_client();
		req.type = REQ_STOP_PROCESS;	/* answered later */
		req.flags = F_REQ_HAS_NAME;
		strlcpy(req.name, "stubborn", sizeof(req.name));
		send_msg(F_REQUEST, id, -1, &req, sizeof(req));
		send_msg(F_REQUEST, id, -1, &req, sizeof(req));
		req.type = REQ_STATUS;
		send_msg(F_REQUEST, id, -1, &req, sizeof(req));
	} else if (strcmp(mode, "heartbeat-forged") == 0) {
		hb.seq = 424242;
		send_msg(F_HEARTBEAT, 0, -1, &hb, sizeof(hb));
	} else if (strcmp(mode, "silent") == 0) {
		/* Alive, but answers nothing, heartbeats included. */
	} else if (strcmp(mode, "bad-length") == 0)
		send_raw_header(F_REQUEST, 0xffffffff, 0);
	else if (strcmp(mode, "tiny-length") == 0)
		send_raw_header(F_REQUEST, 3, 0);
	else if (strcmp(mode, "ready-twice") == 0)
		send_msg(F_READY, 0, -1, NULL, 0);
	else if (strcmp(mode, "ack-not-following") == 0) {
		struct f_log_ack	a = { 1, 0 };

		id = new_client();
		send_msg(F_LOG_ACK, id, -1, &a, sizeof(a));
	} else if (strcmp(mode, "garbage") == 0) {
		char	junk[4096];
		int	i;

		for (i = 0; i < (int)sizeof(junk); i++)
			junk[i] = (char)(i * 131 + 7);
		if (write(FRONTEND_CHAN_FD, junk, sizeof(junk)) == -1)
			err(1, "write");
	} else if (strcmp(mode, "slow-lists") == 0)
		slow_lists();
	else if (strcmp(mode, "exit") == 0)
		exit(3);
	else
		errx(1, "unknown mode %s", mode);
}

int
main(int argc, char *argv[])
{
	const char	*mode, *state, *real;
	char		 buf[16];
	FILE		*f;
	int		 n = 0;

	mode = getenv("FAKEFRONT_MODE");
	state = getenv("FAKEFRONT_STATE");
	real = getenv("FAKEFRONT_REAL");
	if (mode == NULL || state == NULL || real == NULL)
		errx(1, "FAKEFRONT_MODE, FAKEFRONT_STATE, FAKEFRONT_REAL");
	if ((f = fopen(state, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			n = atoi(buf);
		fclose(f);
	}
	if ((f = fopen(state, "w")) == NULL)
		err(1, "%s", state);
	fprintf(f, "%d\n", n + 1);
	fclose(f);
	if (n > 0) {
		execv(real, argv);
		err(1, "execv %s", real);
	}

	chan_init(&ch, FRONTEND_CHAN_FD, PROTO_CHAN_MAX);
	send_msg(F_READY, 0, -1, NULL, 0);
	misbehave(mode);
	/* Wait to be killed; never longer than a minute. */
	sleep(60);
	return (0);
}
