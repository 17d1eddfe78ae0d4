/* SPDX-License-Identifier: ISC */
/*
 * chan_event.c -- the event plumbing of a chan(3): arm and re-arm its
 * event, write, read and hand out messages, notice failures.  See
 * chan_event.h.
 */
#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <unistd.h>

#include "chan.h"
#include "chan_event.h"

static void	chan_ev_cb(int, short, void *);
static void	chan_ev_read(struct chan_ev *);
static int	chan_ev_write(struct chan_ev *);
static void	chan_ev_update(struct chan_ev *);
static void	chan_ev_fail(struct chan_ev *, enum chan_ev_why, int);
static void	chan_ev_resume(int, short, void *);

void
chan_ev_init(struct chan_ev *ce, int fd, size_t maxpayload, int flags,
    const struct chan_ev_ops *ops, void *arg)
{
	chan_init(&ce->chan, fd, maxpayload);
	ce->flags = flags;
	ce->inbatch = 0;
	ce->stopped = 0;
	ce->paused = 0;
	evtimer_set(&ce->resume_ev, chan_ev_resume, ce);
	ce->ops = ops;
	ce->arg = arg;
	ce->evmask = EV_READ | EV_PERSIST;
	event_set(&ce->ev, fd, ce->evmask, chan_ev_cb, ce);
	event_add(&ce->ev, NULL);
}

void
chan_ev_stop(struct chan_ev *ce)
{
	if (ce->stopped)
		return;
	ce->stopped = 1;
	ce->inbatch = 0;
	evtimer_del(&ce->resume_ev);
	if (ce->evmask != 0)
		event_del(&ce->ev);
	ce->evmask = 0;
}

struct event_base *
chan_ev_base(struct chan_ev *ce)
{
	return (event_get_base(&ce->ev));
}

/* Stop, then tell the owner: it may free or reuse what it likes. */
static void
chan_ev_fail(struct chan_ev *ce, enum chan_ev_why why, int err)
{
	chan_ev_stop(ce);
	ce->ops->lost(why, err, ce->arg);
}

int
chan_ev_compose(struct chan_ev *ce, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	if (ce->stopped) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (chan_compose(&ce->chan, type, peerid, fd, data, len) == -1) {
		chan_ev_fail(ce, CHAN_EV_QUEUE, errno);
		return (-1);
	}
	if (ce->inbatch)
		return (0);	/* chan_ev_cb() writes the batch */
	if (chan_ev_write(ce) == -1)
		return (-1);
	chan_ev_update(ce);
	return (ce->stopped ? -1 : 0);
}

/* Write what the socket takes now; -1 once the channel is lost. */
static int
chan_ev_write(struct chan_ev *ce)
{
	if (chan_pending(&ce->chan) && chan_flush(&ce->chan) == -1) {
		chan_ev_fail(ce, CHAN_EV_WRITE, errno);
		return (-1);
	}
	return (0);
}

/*
 * Watch for writability only while something is queued.  The owner hears
 * of an empty queue first: what it does then may queue more.
 */
void
chan_ev_pause(struct chan_ev *ce, int pause)
{
	struct timeval	tv = { 0, 0 };

	if (ce->stopped || ce->paused == pause)
		return;
	ce->paused = pause;
	if (pause)
		evtimer_del(&ce->resume_ev);
	else
		evtimer_add(&ce->resume_ev, &tv);
	chan_ev_update(ce);
}

/* After a pause: what was read meanwhile, then the socket again. */
static void
chan_ev_resume(int fd, short ev, void *arg)
{
	struct chan_ev	*ce = arg;

	if (ce->stopped || ce->paused)
		return;
	chan_ev_cb(ce->chan.fd, EV_READ, ce);
}

static void
chan_ev_update(struct chan_ev *ce)
{
	short	ev = ce->paused ? EV_PERSIST : EV_READ | EV_PERSIST;

	if (ce->stopped)
		return;
	if (!chan_pending(&ce->chan) && ce->ops->drained != NULL) {
		ce->ops->drained(ce->arg);
		if (ce->stopped)
			return;
	}
	if (chan_pending(&ce->chan))
		ev |= EV_WRITE;
	if ((ev & (EV_READ | EV_WRITE)) == 0)
		ev = 0;		/* paused, nothing to write: no event */
	if (ev == ce->evmask)
		return;
	if (ce->evmask != 0)
		event_del(&ce->ev);
	ce->evmask = ev;
	if (ev == 0)
		return;
	event_set(&ce->ev, ce->chan.fd, ev, chan_ev_cb, ce);
	event_add(&ce->ev, NULL);
}

/* Read what is there and hand out every complete message. */
static void
chan_ev_read(struct chan_ev *ce)
{
	struct chan_msg	msg;
	ssize_t		n;

	if (!ce->paused && (n = chan_read(&ce->chan)) == -1 &&
	    errno != EAGAIN && errno != EINTR) {
		chan_ev_fail(ce, CHAN_EV_READ, errno);
		return;
	}
	for (;;) {
		if (ce->paused)
			return;		/* the rest waits in the chan */
		if ((n = chan_get(&ce->chan, &msg)) == -1) {
			chan_ev_fail(ce, CHAN_EV_BADMSG, errno);
			return;
		}
		if (n == 0)
			break;
		ce->ops->msg(&msg, ce->arg);
		chan_msg_free(&msg);
		if (ce->stopped)
			return;
	}
	if (ce->chan.eof)
		chan_ev_fail(ce, CHAN_EV_EOF, 0);
}

static void
chan_ev_cb(int fd, short ev, void *arg)
{
	struct chan_ev	*ce = arg;

	if ((ev & EV_WRITE) && chan_ev_write(ce) == -1)
		return;
	ce->inbatch = (ce->flags & CHAN_EV_BATCH) != 0;
	if (ev & EV_READ) {
		chan_ev_read(ce);
		if (ce->stopped)
			return;
	}
	if (ce->ops->done != NULL) {
		ce->ops->done(ce->arg);
		if (ce->stopped)
			return;
	}
	ce->inbatch = 0;
	if (chan_ev_write(ce) == -1)
		return;
	chan_ev_update(ce);
}
