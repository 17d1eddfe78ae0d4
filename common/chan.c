/* SPDX-License-Identifier: ISC */
/*
 * chan.c -- bounded typed messages with descriptor passing over a
 * SOCK_STREAM socketpair.
 *
 * Descriptor bookkeeping: every descriptor received is queued together
 * with the stream offsets [start, end) of the bytes the same recvmsg()
 * returned.  The sender attaches a descriptor to the first byte of its
 * message, so the message it belongs to must start inside that range.  A
 * message with CHAN_F_FD takes the oldest queued descriptor if its first
 * byte lies in that descriptor's range; a descriptor whose range is passed
 * without being taken belonged to no message.  Both are protocol errors.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "sysutil.h"

#define CHAN_CMSGFDS	4	/* room to see (and close) a few extra fds */
#define CHAN_IOVMAX	32	/* messages per sendmsg() */

#ifdef MSG_NOSIGNAL
#define CHAN_SENDFLAGS	MSG_NOSIGNAL
#else
#define CHAN_SENDFLAGS	0
#endif
#ifdef MSG_CMSG_CLOEXEC
#define CHAN_RECVFLAGS	MSG_CMSG_CLOEXEC
#else
#define CHAN_RECVFLAGS	0
#define CHAN_SETCLOEXEC	1	/* no atomic close-on-exec: fcntl() */
#endif

struct chan_wmsg {
	TAILQ_ENTRY(chan_wmsg)	 entry;
	size_t			 len;	/* header + payload */
	size_t			 off;	/* bytes already written */
	int			 fd;	/* -1 once sent (or none) */
	uint8_t			 buf[];
};

static ssize_t	chan_fail(struct chan *);
static int	chan_rroom(struct chan *);
static void	chan_rfd_pop(struct chan *);
static void	chan_closefds(int *, size_t);
static int	chan_cmsg_fds(struct msghdr *, int *, size_t *);

void
chan_init(struct chan *c, int fd, size_t maxpayload)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	/* hdr.len is 32 bits: nothing larger can be framed. */
	if (maxpayload > UINT32_MAX - CHAN_HDRSZ)
		maxpayload = UINT32_MAX - CHAN_HDRSZ;
	c->maxpayload = maxpayload;
	/* One maximal message, but room to batch small ones regardless. */
	c->rmax = CHAN_HDRSZ + maxpayload;
	if (c->rmax < CHAN_RBUFINIT)
		c->rmax = CHAN_RBUFINIT;
	TAILQ_INIT(&c->wq);
	c->wqmax = CHAN_HDRSZ + maxpayload > CHAN_WQMAX ?
	    CHAN_HDRSZ + maxpayload : CHAN_WQMAX;
	c->wqmaxfds = CHAN_WQMAXFDS;
}

void
chan_clear(struct chan *c)
{
	struct chan_wmsg	*w;
	int			 fd = c->fd;
	size_t			 maxpayload = c->maxpayload, i;

	while ((w = TAILQ_FIRST(&c->wq)) != NULL) {
		TAILQ_REMOVE(&c->wq, w, entry);
		if (w->fd != -1)
			close(w->fd);
		free(w);
	}
	for (i = 0; i < c->nrfds; i++)
		close(c->rfds[i].fd);
	free(c->rbuf);
	chan_init(c, fd, maxpayload);
}

void
chan_set_wqlimit(struct chan *c, size_t bytes, size_t fds)
{
	c->wqmax = bytes;
	c->wqmaxfds = fds;
}

static void
chan_closefds(int *fds, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* A protocol error: remember it, drop every received descriptor. */
static ssize_t
chan_fail(struct chan *c)
{
	size_t	i;

	c->err = EBADMSG;
	for (i = 0; i < c->nrfds; i++)
		close(c->rfds[i].fd);
	c->nrfds = 0;
	errno = EBADMSG;
	return (-1);
}

static void
chan_rfd_pop(struct chan *c)
{
	memmove(&c->rfds[0], &c->rfds[1],
	    (c->nrfds - 1) * sizeof(c->rfds[0]));
	c->nrfds--;
}

/*
 * Make room at the end of the read buffer: move unconsumed bytes to the
 * front, then grow (doubling, or straight to the length the pending
 * header announces) but never past rmax.
 */
static int
chan_rroom(struct chan *c)
{
	struct chan_hdr	 hdr;
	uint8_t		*nb;
	size_t		 want;

	if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	want = c->rsize;
	if (c->rlen == c->rsize)
		want = c->rsize != 0 ? c->rsize * 2 : CHAN_RBUFINIT;
	if (c->rlen >= CHAN_HDRSZ) {
		memcpy(&hdr, c->rbuf, sizeof(hdr));
		/* An impossible length is refused by chan_get(); the
		 * clamp below keeps it from mattering here. */
		if (hdr.len > want)
			want = hdr.len;
	}
	if (want > c->rmax)
		want = c->rmax;
	if (want <= c->rsize) {
		if (c->rlen < c->rsize)
			return (0);
		errno = ENOBUFS;
		return (-1);
	}
	if ((nb = realloc(c->rbuf, want)) == NULL)
		return (-1);
	c->rbuf = nb;
	c->rsize = want;
	return (0);
}

/*
 * The descriptors a recvmsg() brought: up to CHAN_CMSGFDS into fds (the
 * rest closed).  1 if the control data was anything but descriptors or
 * there were too many of them, else 0.
 */
static int
chan_cmsg_fds(struct msghdr *msg, int *fds, size_t *nfds)
{
	struct cmsghdr	*cm;
	size_t		 i, k;
	int		 fd, bad = 0;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
			if (fd < 0)
				continue;
			if (*nfds == CHAN_CMSGFDS) {
				close(fd);
				bad = 1;
				continue;
			}
			fds[(*nfds)++] = fd;
		}
	}
	return (bad);
}

ssize_t
chan_read(struct chan *c)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * CHAN_CMSGFDS)];
	}			 cbuf;
	struct msghdr		 msg;
	struct iovec		 iov;
	int			 fds[CHAN_CMSGFDS], bad;
	size_t			 nfds = 0;
	ssize_t			 n;

	if (c->err != 0) {
		errno = c->err;
		return (-1);
	}
	if (chan_rroom(c) == -1)
		return (-1);

	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = c->rbuf + c->rlen;
	iov.iov_len = c->rsize - c->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	do {
		n = recvmsg(c->fd, &msg, CHAN_RECVFLAGS);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-1);

	/* Take every descriptor out of the control data first: none leaks. */
	bad = chan_cmsg_fds(&msg, fds, &nfds);
	if ((msg.msg_flags & MSG_CTRUNC) != 0 || nfds > 1 ||
	    (n == 0 && nfds > 0) || (nfds == 1 && c->nrfds == CHAN_RQFDS))
		bad = 1;
	if (bad) {
		chan_closefds(fds, nfds);
		return (chan_fail(c));
	}
#ifdef CHAN_SETCLOEXEC
	if (nfds == 1 && fcntl(fds[0], F_SETFD, FD_CLOEXEC) == -1) {
		/* The bytes are read already: the stream cannot go on. */
		chan_closefds(fds, nfds);
		return (chan_fail(c));
	}
#endif

	if (n == 0) {
		c->eof = 1;
		return (0);
	}
	if (nfds == 1) {
		c->rfds[c->nrfds].fd = fds[0];
		c->rfds[c->nrfds].start = c->rtotal;
		c->rfds[c->nrfds].end = c->rtotal + (uint64_t)n;
		c->nrfds++;
	}
	c->rlen += (size_t)n;
	c->rtotal += (uint64_t)n;
	return (n);
}

ssize_t
chan_get(struct chan *c, struct chan_msg *m)
{
	struct chan_hdr	 hdr;
	uint8_t		*data;
	uint64_t	 end;
	size_t		 avail, datalen, i;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (c->err != 0) {
		errno = c->err;
		return (-1);
	}
	/* A descriptor whose bytes are all consumed belonged to nothing. */
	if (c->nrfds > 0 && c->rfds[0].end <= c->rpos)
		return (chan_fail(c));

	avail = c->rlen - c->roff;
	if (avail < CHAN_HDRSZ) {
		if (c->eof && (avail > 0 || c->nrfds > 0))
			return (chan_fail(c));
		return (0);
	}
	memcpy(&hdr, c->rbuf + c->roff, sizeof(hdr));
	if (hdr.len < CHAN_HDRSZ || hdr.len - CHAN_HDRSZ > c->maxpayload ||
	    (hdr.flags & ~(uint32_t)CHAN_F_FD) != 0)
		return (chan_fail(c));
	i = 0;
	if (hdr.flags & CHAN_F_FD) {
		/* Its descriptor came with its first byte, which is here. */
		if (c->nrfds == 0 || c->rfds[0].start > c->rpos)
			return (chan_fail(c));
		i = 1;
	}
	/* No later message can start inside this one: a descriptor that
	 * arrived within it (and is not its own) belongs to nothing. */
	end = c->rpos + hdr.len;
	if (c->nrfds > i && c->rfds[i].end <= end)
		return (chan_fail(c));
	if (avail < hdr.len) {
		if (c->eof)
			return (chan_fail(c));
		return (0);
	}

	datalen = hdr.len - CHAN_HDRSZ;
	if ((data = malloc(datalen + 1)) == NULL)
		return (-1);
	memcpy(data, c->rbuf + c->roff + CHAN_HDRSZ, datalen);
	data[datalen] = '\0';
	if (hdr.flags & CHAN_F_FD) {
		m->fd = c->rfds[0].fd;
		chan_rfd_pop(c);
	}
	m->hdr = hdr;
	m->data = data;
	m->datalen = datalen;
	c->roff += hdr.len;
	c->rpos += hdr.len;
	if (c->roff == c->rlen)
		c->roff = c->rlen = 0;
	return ((ssize_t)hdr.len);
}

void
chan_msg_free(struct chan_msg *m)
{
	free(m->data);
	m->data = NULL;
	m->datalen = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

int
chan_compose(struct chan *c, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct chan_wmsg	*w;
	struct chan_hdr		 hdr;
	size_t			 total;
	int			 e;

	if (len > c->maxpayload) {
		e = EMSGSIZE;
		goto fail;
	}
	if ((len > 0 && data == NULL) || fd < -1) {
		e = EINVAL;
		goto fail;
	}
	total = CHAN_HDRSZ + len;
	if (c->wqbytes > c->wqmax || total > c->wqmax - c->wqbytes ||
	    (fd != -1 && c->wqfds >= c->wqmaxfds)) {
		e = ENOBUFS;
		goto fail;
	}
	if ((w = malloc(sizeof(*w) + total)) == NULL) {
		e = ENOMEM;
		goto fail;
	}
	hdr.type = type;
	hdr.len = (uint32_t)total;
	hdr.peerid = peerid;
	hdr.flags = fd != -1 ? CHAN_F_FD : 0;
	memcpy(w->buf, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(w->buf + CHAN_HDRSZ, data, len);
	w->len = total;
	w->off = 0;
	w->fd = fd;
	TAILQ_INSERT_TAIL(&c->wq, w, entry);
	c->wqcount++;
	c->wqbytes += total;
	if (fd != -1)
		c->wqfds++;
	return (0);

 fail:
	if (fd >= 0)
		close(fd);
	errno = e;
	return (-1);
}

int
chan_flush(struct chan *c)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}			 cbuf;
	struct iovec		 iov[CHAN_IOVMAX];
	struct msghdr		 msg;
	struct chan_wmsg	*w, *x;
	size_t			 left;
	ssize_t			 n;
	int			 niov;

	while ((w = TAILQ_FIRST(&c->wq)) != NULL) {
		/* A message with a descriptor starts its own sendmsg(). */
		niov = 0;
		for (x = w; x != NULL && niov < CHAN_IOVMAX;
		    x = TAILQ_NEXT(x, entry)) {
			if (x != w && x->fd != -1)
				break;
			iov[niov].iov_base = x->buf + x->off;
			iov[niov].iov_len = x->len - x->off;
			niov++;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = niov;
		if (w->fd != -1)
			cmsg_put_fd(&msg, cbuf.buf, sizeof(cbuf.buf), w->fd);
		n = sendmsg(c->fd, &msg, CHAN_SENDFLAGS);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (1);
			return (-1);
		}
		if (n == 0)
			return (1);
		if (w->fd != -1) {
			/* In flight with the first byte: ours can go. */
			close(w->fd);
			w->fd = -1;
			c->wqfds--;
		}
		for (left = (size_t)n; left > 0; ) {
			x = TAILQ_FIRST(&c->wq);
			if (left < x->len - x->off) {
				x->off += left;
				break;
			}
			left -= x->len - x->off;
			TAILQ_REMOVE(&c->wq, x, entry);
			c->wqcount--;
			c->wqbytes -= x->len;
			free(x);
		}
	}
	return (0);
}

int
chan_pending(const struct chan *c)
{
	return (c->wqcount > INT_MAX ? INT_MAX : (int)c->wqcount);
}

size_t
chan_wqbytes(const struct chan *c)
{
	return (c->wqbytes);
}
