/* SPDX-License-Identifier: ISC */
/*
 * chan.h -- typed binary messages between the frontend and the supervisor
 * over a socketpair(AF_UNIX, SOCK_STREAM), in the spirit of imsg(3) but
 * our own code.
 *
 * A message is a 16-byte header in host byte order (both ends run on the
 * same machine) followed by hdr.len - 16 payload bytes.  A message may
 * carry exactly one descriptor (CHAN_F_FD); it travels as SCM_RIGHTS with
 * the first byte of its message.  The channel does plain non-blocking I/O
 * and is driven from the caller's event loop:
 *
 *	readable:  n = chan_read(c);	(-1 && errno != EAGAIN: lost)
 *		   while ((n = chan_get(c, &m)) > 0) { use m; chan_msg_free(&m); }
 *		   n == -1: protocol error, drop the peer;  c->eof: peer gone
 *	writable:  chan_flush(c);	(watch for writes while chan_pending(c))
 *
 * Call chan_get() until it returns 0 after every successful chan_read():
 * the read buffer never grows past one maximal message (or CHAN_RBUFINIT
 * if that is larger), so an undrained buffer makes chan_read() fail with
 * ENOBUFS.
 *
 * Everything received is checked: a length below 16 or above the payload
 * bound, unknown flag bits, CHAN_F_FD without a descriptor, a descriptor
 * without CHAN_F_FD, several descriptors in one read, truncated control
 * data or a partial message at EOF make chan_get() (and chan_read() from
 * then on) fail with EBADMSG.  The error is sticky.  Every received
 * descriptor that is not handed to the caller is closed.  Received
 * descriptors are close-on-exec.
 *
 * A struct chan must not be copied or moved after chan_init().
 */
#ifndef APM2_CHAN_H
#define APM2_CHAN_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#define CHAN_HDRSZ	16
#define CHAN_F_FD	0x1		/* the message carries one descriptor */

#define CHAN_WQMAX	(4U * 1024 * 1024)	/* default write queue bytes */
#define CHAN_WQMAXFDS	1024		/* default queued outgoing fds */
#define CHAN_RQFDS	8		/* received fds awaiting their message */
#define CHAN_RBUFINIT	4096		/* first read buffer size */

struct chan_hdr {
	uint32_t	type;
	uint32_t	len;		/* total, header included */
	uint32_t	peerid;
	uint32_t	flags;		/* CHAN_F_* */
};
_Static_assert(sizeof(struct chan_hdr) == CHAN_HDRSZ, "chan_hdr layout");

/*
 * A received message.  data is a malloc'd copy of the payload with a NUL
 * after it (not counted in datalen), never NULL after a successful
 * chan_get(); it stays valid until chan_msg_free().  fd is the attached
 * descriptor, -1 if none; the caller owns it (chan_msg_free() closes it
 * unless the caller took it and set fd to -1).
 */
struct chan_msg {
	struct chan_hdr	 hdr;
	uint8_t		*data;
	size_t		 datalen;
	int		 fd;
};

struct chan_wmsg;			/* private: a queued outgoing message */

struct chan_rfd {			/* private: a received descriptor */
	int		 fd;
	uint64_t	 start;		/* stream offsets of the read it came */
	uint64_t	 end;		/* with: [start, end) */
};

struct chan {
	int		 fd;		/* the socket; never closed by chan */
	int		 eof;		/* chan_read() saw end of file */

	/* private */
	int		 err;		/* sticky protocol error (errno) */
	size_t		 maxpayload;
	uint8_t		*rbuf;
	size_t		 rsize;		/* allocated */
	size_t		 rmax;		/* max(CHAN_RBUFINIT, HDRSZ + max) */
	size_t		 roff;		/* first unconsumed byte */
	size_t		 rlen;		/* bytes held */
	uint64_t	 rpos;		/* stream offset of rbuf[roff] */
	uint64_t	 rtotal;	/* bytes received so far */
	struct chan_rfd	 rfds[CHAN_RQFDS];
	size_t		 nrfds;
	TAILQ_HEAD(, chan_wmsg) wq;
	size_t		 wqcount;	/* messages queued */
	size_t		 wqbytes;	/* bytes of those messages */
	size_t		 wqfds;		/* descriptors not yet sent */
	size_t		 wqmax;
	size_t		 wqmaxfds;
};

/* maxpayload bounds both directions; the write queue limit starts at
 * max(CHAN_WQMAX, CHAN_HDRSZ + maxpayload) bytes and CHAN_WQMAXFDS fds. */
void	chan_init(struct chan *, int, size_t);

/* Free buffers and close every queued descriptor, received or to send;
 * does not close ->fd.  The channel is left as chan_init() made it. */
void	chan_clear(struct chan *);

/* Limits for queued outgoing data: bytes and descriptors. */
void	chan_set_wqlimit(struct chan *, size_t, size_t);

/*
 * Queue a message.  fd (or -1) belongs to the channel from this call on,
 * whatever the result: it is closed once sent, on chan_clear(), or here
 * on error.  Returns 0, or -1 with errno EMSGSIZE (len > maxpayload),
 * ENOBUFS (write queue limit), EINVAL, ENOMEM.
 */
int	chan_compose(struct chan *, uint32_t, uint32_t, int, const void *,
	    size_t);

/* Read what the socket has: >0 bytes read, 0 EOF, -1 error (EAGAIN when
 * nothing is there, EBADMSG on a protocol error, ENOBUFS if not drained). */
ssize_t	chan_read(struct chan *);

/* >0 one message extracted (its hdr.len), 0 none complete yet, -1 error:
 * EBADMSG (sticky) or ENOMEM (try again).  m is always initialised. */
ssize_t	chan_get(struct chan *, struct chan_msg *);

void	chan_msg_free(struct chan_msg *);

/* Write as much as possible: 0 all written, 1 more pending (EAGAIN),
 * -1 error (errno, e.g. EPIPE; no SIGPIPE is raised). */
int	chan_flush(struct chan *);

/* Number of messages not completely written yet. */
int	chan_pending(const struct chan *);

/* Bytes of queued outgoing messages. */
size_t	chan_wqbytes(const struct chan *);

#endif /* APM2_CHAN_H */
