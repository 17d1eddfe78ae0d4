/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the channel's receive side.  The input is written
 * into one end of a socketpair and read through chan_read()/chan_get() on
 * the other (maxpayload 4096) until EOF or a protocol error.  To reach
 * the descriptor checks, the input is cut into chunks, each led by a
 * control byte c: chunk length (c >> 3) + 1 bytes (the rest of the input
 * when that is 32), sent with two descriptors when c & 7 == 7, one when
 * c & 3 == 3, none otherwise.  Nothing may crash, and no descriptor may
 * be left open afterwards.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"

#define FUZZ_MAXPAYLOAD	4096
#define FUZZ_FDSCAN	256	/* descriptors checked for leaks */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	open_fds(void);
static int	drain(struct chan *);
static int	send_chunk(int, struct chan *, const uint8_t *, size_t, int);

static int	nullfd = -1;

static int
open_fds(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < FUZZ_FDSCAN; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return (n);
}

/* Read and extract until the socket is empty; -1 once the channel failed
 * or saw EOF. */
static int
drain(struct chan *c)
{
	struct chan_msg	 m;
	ssize_t		 r, g;

	for (;;) {
		r = chan_read(c);
		if (r == -1 && errno != EAGAIN)
			return (-1);
		while ((g = chan_get(c, &m)) > 0) {
			if (m.hdr.len < CHAN_HDRSZ ||
			    m.datalen != m.hdr.len - CHAN_HDRSZ ||
			    m.datalen > FUZZ_MAXPAYLOAD ||
			    m.data == NULL || m.data[m.datalen] != '\0' ||
			    (g != (ssize_t)m.hdr.len))
				abort();
			if ((m.hdr.flags & CHAN_F_FD) != 0) {
				if (m.fd < 0 ||
				    (fcntl(m.fd, F_GETFD) & FD_CLOEXEC) == 0)
					abort();
			} else if (m.fd != -1)
				abort();
			chan_msg_free(&m);
		}
		if (g == -1) {
			if (errno != EBADMSG)
				abort();
			return (-1);
		}
		if (r == 0)
			return (-1);
		if (r == -1)
			return (0);
	}
}

static int
send_chunk(int s, struct chan *c, const uint8_t *p, size_t n, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 2)];
	}		 cbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	int		 fds[2];
	ssize_t		 w;

	while (n > 0) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (void *)(uintptr_t)p;
		iov.iov_len = n;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (nfds > 0) {
			memset(&cbuf, 0, sizeof(cbuf));
			fds[0] = fds[1] = nullfd;
			msg.msg_control = cbuf.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
		}
		w = sendmsg(s, &msg, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return (-1);
			/* Socket full: let the reader make room. */
			if (drain(c) == -1)
				return (-1);
			continue;
		}
		p += w;
		n -= (size_t)w;
		nfds = 0;
	}
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan	 c;
	size_t		 off = 0, n;
	int		 sv[2], before, nfds, ctl, failed = 0;

	if (nullfd == -1 && (nullfd = open("/dev/null", O_RDONLY)) == -1)
		abort();
	before = open_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	chan_init(&c, sv[1], FUZZ_MAXPAYLOAD);

	while (off < size && !failed) {
		ctl = data[off++];
		n = (size_t)(ctl >> 3) + 1;
		if (n == 32 || n > size - off)
			n = size - off;
		nfds = (ctl & 7) == 7 ? 2 : (ctl & 3) == 3 ? 1 : 0;
		if (n == 0)
			break;
		if (send_chunk(sv[0], &c, data + off, n, nfds) == -1 ||
		    drain(&c) == -1)
			failed = 1;
		off += n;
	}
	close(sv[0]);
	while (!failed)
		if (drain(&c) == -1)
			failed = 1;
	if (!c.eof && c.err == 0)
		abort();
	chan_clear(&c);
	close(sv[1]);
	if (open_fds() != before)
		abort();
	return (0);
}
