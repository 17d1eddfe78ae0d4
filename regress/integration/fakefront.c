/*
 * fakefront -- a stand-in for the frontend that breaks the protocol.
 *
 * Only the test build of apm2d (regress/integration/apm2d-hooks) starts
 * it, in place of "apm2d -F", when APM2D_TEST_FRONTEND names it.  It gets
 * the channel on fd 3 and the listening socket on fd 4, like the real
 * frontend.  The first time (counted in the file $FAKEFRONT_STATE) it
 * says F_READY and then sends the malformed message(s) selected by
 * $FAKEFRONT_MODE; every later time it executes the real frontend
 * ($FAKEFRONT_REAL with the arguments it was given), so the test can see
 * the supervisor survive, respawn, and serve again.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "codec.h"
#include "proto.h"

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

static int
new_client(uint32_t id)
{
	int	sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		err(1, "socketpair");
	send_msg(F_CONN_NEW, id, sp[0], NULL, 0);
	return (sp[1]);
}

static void
misbehave(const char *mode)
{
	struct f_request	req;
	int			p[2], i;

	memset(&req, 0, sizeof(req));
	req.type = REQ_STATUS;
	if (strcmp(mode, "unknown-type") == 0)
		send_msg(9999, 0, -1, NULL, 0);
	else if (strcmp(mode, "reply-type") == 0)
		send_msg(S_OK, 0, -1, NULL, 0);
	else if (strcmp(mode, "short-request") == 0) {
		new_client(1);
		send_msg(F_REQUEST, 1, -1, &req, sizeof(req) - 1);
	} else if (strcmp(mode, "long-request") == 0) {
		char	big[sizeof(req) + 8];

		memset(big, 0, sizeof(big));
		new_client(1);
		send_msg(F_REQUEST, 1, -1, big, sizeof(big));
	} else if (strcmp(mode, "unterminated") == 0) {
		new_client(1);
		req.type = REQ_GET_PROCESS;
		req.flags = F_REQ_HAS_NAME;
		memset(req.name, 'x', sizeof(req.name));
		send_msg(F_REQUEST, 1, -1, &req, sizeof(req));
	} else if (strcmp(mode, "enum-range") == 0) {
		new_client(1);
		req.type = REQ__COUNT + 7;
		send_msg(F_REQUEST, 1, -1, &req, sizeof(req));
	} else if (strcmp(mode, "bad-flags") == 0) {
		new_client(1);
		req.flags = 0x80;
		send_msg(F_REQUEST, 1, -1, &req, sizeof(req));
	} else if (strcmp(mode, "unexpected-fd") == 0) {
		if (pipe(p) == -1)
			err(1, "pipe");
		new_client(1);
		send_msg(F_REQUEST, 1, p[0], &req, sizeof(req));
	} else if (strcmp(mode, "missing-fd") == 0)
		send_msg(F_CONN_NEW, 5, -1, NULL, 0);
	else if (strcmp(mode, "not-a-socket") == 0) {
		if (pipe(p) == -1)
			err(1, "pipe");
		send_msg(F_CONN_NEW, 5, p[0], NULL, 0);
	} else if (strcmp(mode, "unknown-conn") == 0)
		send_msg(F_REQUEST, 77, -1, &req, sizeof(req));
	else if (strcmp(mode, "dup-conn") == 0) {
		new_client(1);
		new_client(1);
	} else if (strcmp(mode, "two-requests") == 0) {
		new_client(1);
		req.type = REQ_STOP_PROCESS;	/* answered later */
		req.flags = F_REQ_HAS_NAME;
		strlcpy(req.name, "stubborn", sizeof(req.name));
		send_msg(F_REQUEST, 1, -1, &req, sizeof(req));
		send_msg(F_REQUEST, 1, -1, &req, sizeof(req));
		req.type = REQ_STATUS;
		send_msg(F_REQUEST, 1, -1, &req, sizeof(req));
	} else if (strcmp(mode, "bad-length") == 0)
		send_raw_header(F_REQUEST, 0xffffffff, 0);
	else if (strcmp(mode, "tiny-length") == 0)
		send_raw_header(F_REQUEST, 3, 0);
	else if (strcmp(mode, "ready-twice") == 0)
		send_msg(F_READY, 0, -1, NULL, 0);
	else if (strcmp(mode, "ack-not-following") == 0) {
		struct f_log_ack	a = { 1, 0 };

		new_client(1);
		send_msg(F_LOG_ACK, 1, -1, &a, sizeof(a));
	} else if (strcmp(mode, "flood") == 0) {
		/* Valid traffic, lots of it, then a violation. */
		for (i = 1; i <= 2000; i++)
			close(new_client(i));
		for (i = 1; i <= 2000; i++)
			send_msg(F_CONN_CLOSED, i, -1, NULL, 0);
		send_msg(F_REQUEST, 424242, -1, &req, sizeof(req));
	} else if (strcmp(mode, "garbage") == 0) {
		char	junk[4096];

		for (i = 0; i < (int)sizeof(junk); i++)
			junk[i] = (char)(i * 131 + 7);
		if (write(FRONTEND_CHAN_FD, junk, sizeof(junk)) == -1)
			err(1, "write");
	} else if (strcmp(mode, "exit") == 0)
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

	(void)argc;
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
