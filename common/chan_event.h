/* SPDX-License-Identifier: ISC */
/*
 * chan_event.h -- a chan(3) driven by libevent: the event plumbing every
 * process needs for its channels, written once (as slaacd's
 * imsg_event_add() and imsg_compose_event() serve all of its processes).
 *
 * The owner supplies what differs between processes: what to do with a
 * message, and what to do when the channel fails.  chan_ev does the rest:
 *
 *  - one persistent event on the socket, for reading always and for
 *    writing only while something is queued (re-armed only when that
 *    changes);
 *  - on an event: write what is queued, read, and hand every complete
 *    message to ops->msg, in order; then ops->done, if any;
 *  - chan_ev_compose(): queue a message and write it at once, or, with
 *    CHAN_EV_BATCH and while messages are being handed out, at the end of
 *    that batch (one sendmsg() for all the replies to one read);
 *  - any failure (the peer closed, a read or write error, a malformed
 *    stream, a full queue) stops the channel and calls ops->lost once.
 *
 * A stopped channel does nothing more: no callback, no event, and
 * chan_ev_compose() drops what it is given.  Its chan is left as it was,
 * for the owner to read what is still there or chan_clear() it.
 * chan_ev_stop() is how the owner gives up a channel itself; it may be
 * called from any callback.  Like a struct chan, a struct chan_ev must
 * not be copied or moved once initialised.
 */
#ifndef APM2_CHAN_EVENT_H
#define APM2_CHAN_EVENT_H

#include <sys/types.h>

#include <event.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"

#define CHAN_EV_BATCH	0x1	/* composed in ops->msg: sent after the batch */

/* Why a channel was lost (ops->lost); err is the errno, 0 if none. */
enum chan_ev_why {
	CHAN_EV_EOF,		/* the peer closed its end */
	CHAN_EV_READ,		/* chan_read() failed */
	CHAN_EV_WRITE,		/* chan_flush() failed (EPIPE: peer gone) */
	CHAN_EV_BADMSG,		/* chan_get() refused the stream */
	CHAN_EV_QUEUE		/* chan_compose() failed: our own limit */
};

struct chan_ev_ops {
	/* One message; the owner may chan_msg_free() it or leave that. */
	void	(*msg)(struct chan_msg *, void *);
	/* The channel is stopped; nothing more is called. */
	void	(*lost)(enum chan_ev_why, int, void *);
	/* Optional: after each event's messages, before its writes. */
	void	(*done)(void *);
	/* Optional: the write queue was found empty (everything sent). */
	void	(*drained)(void *);
};

struct chan_ev {
	struct chan			 chan;

	/* private */
	struct event			 ev;
	short				 evmask;	/* ev is added for */
	int				 flags;		/* CHAN_EV_BATCH */
	int				 inbatch;	/* in ops->msg */
	int				 stopped;
	int				 paused;	/* not read */
	struct event			 resume_ev;
	const struct chan_ev_ops	*ops;
	void				*arg;
};

/* chan_init(), and start reading fd (non-blocking) in the current base. */
void	chan_ev_init(struct chan_ev *, int, size_t, int,
	    const struct chan_ev_ops *, void *);

/* Stop: no more events or callbacks.  The chan stays for the caller. */
void	chan_ev_stop(struct chan_ev *);

/*
 * Queue a message (fd, or -1, is the channel's whatever happens) and
 * send it now, or after the batch (CHAN_EV_BATCH).  0, or -1 when the
 * channel is (or has just been) stopped.
 */
int	chan_ev_compose(struct chan_ev *, uint32_t, uint32_t, int,
	    const void *, size_t);

/*
 * Stop (1) or start again (0) reading and handing out messages; writing
 * goes on.  Messages already read wait, and are handed out from the
 * event loop after the restart.
 */
void	chan_ev_pause(struct chan_ev *, int);

/* The event's base, for its cached clock. */
struct event_base *chan_ev_base(struct chan_ev *);

#endif /* APM2_CHAN_EVENT_H */
