/* SPDX-License-Identifier: ISC */
/*
 * control.c -- the frontend's client connections: reading and decoding
 * requests, writing replies, and bounding what a client can make the
 * frontend hold.
 *
 * Each connection has at most one request in flight: while the supervisor
 * works on it, the connection is not read, so replies come back in order
 * and a client that pipelines many requests is flow-controlled by its own
 * socket buffer.  What a client can make the frontend hold is bounded
 * (apm2d.h): unsent replies per connection and in all, partial frames,
 * a minimum drain rate, and an idle timeout.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <errno.h>
#include <event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "apm2d.h"
#include "chan.h"
#include "chan_event.h"
#include "codec.h"
#include "frame.h"
#include "jsonw.h"
#include "log.h"
#include "proto.h"

/*
 * A follow frame is acknowledged to the supervisor once the client has
 * taken all but this much of its queued output: a follower that stops
 * reading stops the flow at the supervisor.
 */
#define FOLLOW_ACK_LOWAT	(256 * 1024)

static void	conn_read(int, short, void *);
static void	conn_write(int, short, void *);
static void	conn_timeout(int, short, void *);
static void	conn_drain_check(int, short, void *);
static void	conn_account(struct conn *);
static int	conn_may_dispatch(struct conn *);
static void	conn_stall(struct conn *);
static void	conn_resume(struct conn *);
static void	fe_resume(int, short, void *);
static int	conn_is_idle(const struct conn *);
static int64_t	loop_ms(void);
static int	fe_budget_room(void);
static void	fe_budget_check(void);
static void	conn_close(struct conn *);
static int	conn_process(struct conn *);
static void	conn_flush(struct conn *);
static void	conn_request(struct conn *, const uint8_t *, size_t);
static size_t	conn_unsent(const struct conn *);
static int	request_make(struct conn *, const struct apm2_req *,
		    struct f_request *);
#ifdef APM2D_TEST_HOOKS
static int	test_hook(struct conn *, const uint8_t *, size_t);
#endif

void
control_init(void)
{
	evtimer_set(&fe->resumeev, fe_resume, NULL);
}

struct conn *
conn_find(uint32_t id)
{
	struct conn	*c;

	c = fe->slots[id & (CONN_SLOTS - 1)];
	if (c == NULL || c->id != id)
		return (NULL);
	return (c);
}

/* A new client: fd is its connected socket, id the supervisor's. */
void
conn_new(uint32_t id, int fd, int admin)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->id = id;
	c->fd = fd;		/* non-blocking, close-on-exec: accept4 */
	c->admin = admin;
	jw_init(&c->out.w);
	c->active = loop_ms();
	frame_dec_init(&c->dec);
	fe->slots[id & (CONN_SLOTS - 1)] = c;
	fe->nconns++;
	TAILQ_INSERT_TAIL(&fe->conns, c, entry);
	event_set(&c->rev, c->fd, EV_READ | EV_PERSIST, conn_read, c);
	event_set(&c->wev, c->fd, EV_WRITE | EV_PERSIST, conn_write, c);
	evtimer_set(&c->tmo, conn_timeout, c);
	evtimer_set(&c->wtmo, conn_drain_check, c);
	/*
	 * Acknowledge before reading a byte from the client: if we die
	 * with the acknowledgement unsent, the supervisor gives the client
	 * to our successor, untouched.
	 */
	fe_send(F_CONN_ACK, id, NULL, 0);
	if (chan_pending(&fe->sup.chan)) {
		c->unconfirmed = 1;
		fe->nunconfirmed++;
	}
	conn_update(c);
}

static void
conn_close(struct conn *c)
{
	event_del(&c->rev);
	event_del(&c->wev);
	evtimer_del(&c->tmo);
	evtimer_del(&c->wtmo);
	close(c->fd);
	frame_dec_free(&c->dec);
	part_clear(c);
	jw_free(&c->out.w);
	free(c->pend);
	if (c->stalled)
		TAILQ_REMOVE(&fe->stalled, c, sentry);
	if (c->unconfirmed && fe->nunconfirmed > 0)
		fe->nunconfirmed--;
	if (c->counted)
		fe->ninflight--;
	fe->mem -= c->memacct;
	fe_budget_check();
	fe->slots[c->id & (CONN_SLOTS - 1)] = NULL;
	fe->nconns--;
	TAILQ_REMOVE(&fe->conns, c, entry);
	fe_send(F_CONN_CLOSED, c->id, NULL, 0);
	free(c);
	if (fe->exiting && TAILQ_EMPTY(&fe->conns))
		exit(0);
}

static void
conn_timeout(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	log_debug("connection %u: timed out", c->id);
	conn_close(c);
}

/*
 * Arm read/write events and the deadlines to match the connection state.
 * The partial-frame deadline runs from the first byte of a frame and is
 * not extended by later bytes, so a slow drip cannot hold a slot forever.
 * While output is pending, every FRONTEND_DRAIN_WINDOW must see enough of
 * it taken (conn_drain_check).  A connection with nothing in flight,
 * nothing unsent and no partial frame is idle; conn_idle_sweep() closes
 * it once it has been idle for [daemon] idle_timeout.
 */
void
conn_update(struct conn *c)
{
	struct timeval	tv;
	size_t		unsent;
	int		want_read, want_write;

	unsent = conn_unsent(c);
	want_write = unsent > 0;
	if (c->closing && !want_write) {
		conn_close(c);
		return;
	}
	if (c->eof && !c->inflight && !want_write && c->pendlen == 0) {
		conn_close(c);
		return;
	}
	/* Follow streams keep reading only to notice the client leaving. */
	want_read = !c->closing && !c->eof && !c->unconfirmed &&
	    (!c->inflight || c->following) && c->pendlen == 0;
	if (want_read)
		event_add(&c->rev, NULL);
	else
		event_del(&c->rev);
	if (want_write)
		event_add(&c->wev, NULL);
	else {
		event_del(&c->wev);
		evtimer_del(&c->wtmo);
	}
	if (want_write && !evtimer_pending(&c->wtmo, NULL)) {
		c->win_mark = c->written;
		c->win_need = unsent < FRONTEND_MIN_DRAIN ? unsent :
		    FRONTEND_MIN_DRAIN;
		tv.tv_sec = FRONTEND_DRAIN_WINDOW;
		tv.tv_usec = 0;
		evtimer_add(&c->wtmo, &tv);
	}
	if (!c->inflight && frame_dec_midframe(&c->dec)) {
		if (!evtimer_pending(&c->tmo, NULL)) {
			tv.tv_sec = FRONTEND_PARTIAL_TIMEOUT;
			tv.tv_usec = 0;
			evtimer_add(&c->tmo, &tv);
		}
	} else
		evtimer_del(&c->tmo);
	/* Idle time counts from the last moment it was busy. */
	if (!conn_is_idle(c))
		c->active = loop_ms();
}

static int
conn_is_idle(const struct conn *c)
{
	return (!c->inflight && !c->following && conn_unsent(c) == 0 &&
	    c->pendlen == 0 && !frame_dec_midframe(&c->dec));
}

/* The event loop's cached clock, in ms: no system call. */
static int64_t
loop_ms(void)
{
	struct timeval	tv;

	event_base_gettimeofday_cached(chan_ev_base(&fe->sup), &tv);
	return ((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/*
 * Close the connections idle for idle_timeout, on every heartbeat of the
 * supervisor (FRONTEND_HB_INTERVAL_MS): no timer per connection, so the
 * event loop waits without a deadline while clients are served.
 */
void
conn_idle_sweep(void)
{
	struct conn	*c, *t;
	int64_t		 now;

	if (fe->idle_ms == 0)
		return;
	now = loop_ms();
	TAILQ_FOREACH_SAFE(c, &fe->conns, entry, t) {
		if (!conn_is_idle(c) || now - c->active < fe->idle_ms)
			continue;
		log_debug("connection %u: idle for %u ms", c->id,
		    fe->idle_ms);
		conn_close(c);
	}
}

static void
conn_read(int fd, short ev, void *arg)
{
	struct conn	*c = arg;
	static uint8_t	 buf[FRONTEND_READ_CHUNK];
	ssize_t		 n;

	n = read(fd, buf, sizeof(buf));
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		/* A partial frame at EOF is an error; either way, done. */
		if (c->inflight && !c->following) {
			c->eof = 1;
			conn_update(c);
			return;
		}
		conn_close(c);
		return;
	}
	if (c->following) {
		/* Nothing is expected from a follower but its EOF. */
		return;
	}
	if ((c->pend = malloc(n)) == NULL)
		fatal("malloc");
	memcpy(c->pend, buf, n);
	c->pendlen = n;
	conn_account(c);
	if (conn_process(c) == 0)
		conn_update(c);
}

/*
 * Decode buffered bytes until a request goes to the supervisor.
 * Returns -1 when the connection was closed (c is gone).
 */
static int
conn_process(struct conn *c)
{
	uint8_t	*frame;
	size_t	 used, len, off = 0;
	int	 r;

	while (c->pendlen > off && !c->inflight && !c->closing &&
	    conn_may_dispatch(c)) {
		r = frame_dec_feed(&c->dec, c->pend + off, c->pendlen - off,
		    &used);
		off += used;
		if (r < 0) {
			/* INV-D007: close without reading the payload. */
			log_debug("connection %u: frame of %zu bytes refused",
			    c->id, frame_dec_expected(&c->dec));
			free(c->pend);
			c->pend = NULL;
			c->pendlen = 0;
			conn_close(c);
			return (-1);
		}
		if (r == FRAME_NEED)
			break;
		frame = frame_dec_take(&c->dec, &len);
		conn_request(c, frame, len);
		free(frame);
	}
	if (off >= c->pendlen) {
		free(c->pend);
		c->pend = NULL;
		c->pendlen = 0;
	} else {
		memmove(c->pend, c->pend + off, c->pendlen - off);
		c->pendlen -= off;
	}
	conn_account(c);
	return (0);
}

static void
conn_request(struct conn *c, const uint8_t *buf, size_t len)
{
	struct apm2_req		 req;
	struct f_request	 f;
	char			 err[256];

	c->active = loop_ms();		/* the idle time counts from here */
#ifdef APM2D_TEST_HOOKS
	if (test_hook(c, buf, len))
		return;
#endif
	memset(&req, 0, sizeof(req));
	if (apm2_req_parse((const char *)buf, len, &req, err,
	    sizeof(err)) == -1) {
		/* INV-D008: say why, then close. */
		conn_reply_error(c, ERR_INVALID_REQUEST, err);
		c->closing = 1;
	} else if (req.type == REQ_PING) {
		render_pong(conn_reply_begin(c), uptime_secs());
		conn_reply_end(c);
	} else if (request_make(c, &req, &f) == 0) {
		c->inflight = 1;
		c->counted = 1;
		fe->ninflight++;
		fe_send(F_REQUEST, c->id, &f, sizeof(f));
	}
	apm2_req_free(&req);
}

/*
 * The supervisor's request from the client's: 0, or -1 when it is
 * answered here already.
 */
static int
request_make(struct conn *c, const struct apm2_req *req, struct f_request *f)
{
	char	msg[PROTO_MSG_MAX];

	memset(f, 0, sizeof(*f));
	f->type = req->type;
	switch (req->type) {
	case REQ_GET_PROCESS:
	case REQ_START_PROCESS:
	case REQ_STOP_PROCESS:
	case REQ_RESTART_PROCESS:
	case REQ_RELOAD_PROCESS:
	case REQ_TAIL_LOGS:
		if (req->name == NULL)
			break;
		f->flags |= F_REQ_HAS_NAME;
		if (strlen(req->name) >= sizeof(f->name)) {
			/* No configured name is this long. */
			snprintf(msg, sizeof(msg), "Process '%.*s' not found",
			    (int)(sizeof(msg) - 32), req->name);
			conn_reply_error(c, ERR_PROCESS_NOT_FOUND, msg);
			return (-1);
		}
		strlcpy(f->name, req->name, sizeof(f->name));
		break;
	case REQ_SWITCH_CREDENTIAL:
		/* For the supervisor's log line only. */
		if (req->process_name != NULL) {
			f->flags |= F_REQ_HAS_NAME;
			strlcpy(f->name, req->process_name, sizeof(f->name));
		}
		break;
	default:
		break;
	}
	if (req->type == REQ_TAIL_LOGS) {
		f->lines = req->lines;
		if (req->follow)
			f->flags |= F_REQ_FOLLOW;
	}
	if (req->type == REQ_RELOAD_CONFIG && req->dry_run)
		f->flags |= F_REQ_DRY_RUN;
	return (0);
}

#ifdef APM2D_TEST_HOOKS
/*
 * Test build only (regress/integration/apm2d-hooks): two exact payloads
 * make the frontend act as if it had been taken over, to show what the
 * sandbox does.  The first runs execve(2), which seccomp answers by
 * killing the process; should it return, the frontend says so and lives
 * on, and the test fails.  The second makes the calls glibc's syslog(3)
 * makes to reconnect, which must fail with EACCES and not kill.
 */
#define TEST_HOOK_FORBIDDEN \
	"{\"type\":\"ping\",\"__apm2d_test_forbidden_syscall\":true}"
#define TEST_HOOK_SYSLOG \
	"{\"type\":\"ping\",\"__apm2d_test_syslog_syscalls\":true}"

static int
test_hook(struct conn *c, const uint8_t *buf, size_t len)
{
	char	*argv[] = { (char *)"sh", NULL };
	int	 fd;

	if (len == sizeof(TEST_HOOK_FORBIDDEN) - 1 &&
	    memcmp(buf, TEST_HOOK_FORBIDDEN, len) == 0) {
		log_info("test hook: execve /bin/sh");
		execv("/bin/sh", argv);
		log_warn("test hook: execve returned");
	} else if (len == sizeof(TEST_HOOK_SYSLOG) - 1 &&
	    memcmp(buf, TEST_HOOK_SYSLOG, len) == 0) {
		syslog(LOG_DEBUG, "apm2d test hook");
		if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
			log_warn("test hook: socket");
		else {
			log_warnx("test hook: socket succeeded");
			close(fd);
		}
	} else
		return (0);
	render_pong(conn_reply_begin(c), uptime_secs());
	conn_reply_end(c);
	return (1);
}
#endif

/*
 * Acknowledge the follow frames whose bytes the client has (nearly)
 * taken, one F_LOG_ACK each.  Nothing for a connection on its way out.
 */
void
conn_ack(struct conn *c)
{
	if (!c->following || c->closing || c->acks_owed == 0 ||
	    conn_unsent(c) > FOLLOW_ACK_LOWAT)
		return;
	for (; c->acks_owed > 0; c->acks_owed--)
		fe_send(F_LOG_ACK, c->id, &(struct f_log_ack){
		    .frames = 1 }, sizeof(struct f_log_ack));
}

/* The supervisor finished this connection's request. */
void
conn_done(struct conn *c)
{
	c->inflight = 0;
	c->following = 0;
	c->acks_owed = 0;
	conn_uncount(c);
	conn_resume(c);
}

/*
 * Start a reply in the connection's output: its frame's length comes
 * first, once conn_reply_end() knows it.  The JSON goes to the writer
 * returned.
 */
struct jw *
conn_reply_begin(struct conn *c)
{
	struct outbuf	*o = &c->out;

	if (o->off == o->w.len)
		o->off = o->w.len = 0;
	else if (o->off > 0 && o->off >= o->w.cap / 2) {
		/* Most of the buffer is sent: make room at its end. */
		memmove(o->w.buf, o->w.buf + o->off, o->w.len - o->off);
		o->w.len -= o->off;
		o->off = 0;
	}
	o->reply = o->w.len;
	o->open = 1;
	jw_raw(&o->w, "\0\0\0\0", FRAME_HDRSZ);
	return (&o->w);
}

/*
 * The reply is complete: frame it and send what the socket takes.  One
 * that cannot be sent is dropped and the client cut off: too large, out
 * of memory, or a client that lets too much pile up.
 */
void
conn_reply_end(struct conn *c)
{
	struct outbuf	*o = &c->out;
	size_t		 len;

	o->open = 0;
	if (o->w.failed) {
		/* Out of memory: this client alone goes without it. */
		log_warnx("connection %u: cannot render a reply", c->id);
		o->w.failed = 0;
		o->w.len = o->reply;
		c->closing = 1;
		conn_account(c);
		return;
	}
	len = o->w.len - o->reply - FRAME_HDRSZ;
	/* Large replies raise the estimate at once; it decays slowly. */
	if (len > fe->reply_est)
		fe->reply_est = len;
	else if (fe->reply_est > FRONTEND_REPLY_EST_MIN)
		fe->reply_est -= (fe->reply_est - len) / 16;
	if (len > FRAME_MAX || o->w.len - o->off > FRONTEND_OUTBUF_MAX) {
		if (len <= FRAME_MAX)
			log_debug("connection %u: not reading its replies",
			    c->id);
		o->w.len = o->reply;
		c->closing = 1;
	} else {
		frame_put_len((uint8_t *)o->w.buf + o->reply, (uint32_t)len);
		/* Try right away: most replies fit the socket buffer. */
		conn_flush(c);
	}
	conn_account(c);
}

/* Forget a reply not complete yet. */
void
conn_reply_abort(struct conn *c)
{
	if (c->out.open) {
		c->out.open = 0;
		c->out.w.len = c->out.reply;
	}
}

void
conn_reply_error(struct conn *c, enum apm2_errcode code, const char *msg)
{
	render_error(conn_reply_begin(c), code, msg);
	conn_reply_end(c);
}

/* Bytes the client may be sent now: none of a reply being written. */
static size_t
conn_unsent(const struct conn *c)
{
	const struct outbuf	*o = &c->out;

	return ((o->open ? o->reply : o->w.len) - o->off);
}

static void
conn_flush(struct conn *c)
{
	struct outbuf	*o = &c->out;
	size_t		 end = o->open ? o->reply : o->w.len;
	ssize_t		 n;

	while (o->off < end) {
		n = write(c->fd, o->w.buf + o->off, end - o->off);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* The client is gone; drop what it did not take. */
			o->off = end;
			c->closing = 1;
			break;
		}
		o->off += n;
		c->written += n;
	}
	if (o->off == o->w.len) {
		o->off = o->w.len = 0;
		/* An idle connection keeps a small buffer at most. */
		if (o->w.cap > FRONTEND_OUT_KEEP)
			jw_free(&o->w);
	}
}

static void
conn_write(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	conn_flush(c);
	conn_account(c);
	conn_ack(c);
	conn_resume(c);
}

/*
 * The end of a drain window with output still pending: the client must
 * have taken FRONTEND_MIN_DRAIN bytes, or all that was pending when the
 * window began, or it is cut off.  Whoever reads a byte every few
 * seconds cannot pin its replies for ever.
 */
static void
conn_drain_check(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	if (conn_unsent(c) == 0)
		return;
	if (c->written - c->win_mark < c->win_need) {
		log_debug("connection %u: took %llu bytes in %d s: too slow",
		    c->id, (unsigned long long)(c->written - c->win_mark),
		    FRONTEND_DRAIN_WINDOW);
		conn_close(c);
		return;
	}
	conn_update(c);		/* the next window */
}

/* Bring the connection's share of fe->mem up to date. */
static void
conn_account(struct conn *c)
{
	size_t	now;

	now = c->out.w.cap + c->pendlen + frame_dec_bufsize(&c->dec);
	fe->mem = fe->mem - c->memacct + now;
	c->memacct = now;
	fe_budget_check();
}

/* No longer waiting for a reply: give back its share of the budget. */
void
conn_uncount(struct conn *c)
{
	if (!c->counted)
		return;
	c->counted = 0;
	fe->ninflight--;
	fe_budget_check();
}

/*
 * Is there room for one more request?  What is held now, plus a reply
 * as large as the recent large ones for every request already sent.
 */
static int
fe_budget_room(void)
{
	return (fe->mem + (fe->ninflight + 1) * fe->reply_est <=
	    FRONTEND_MEM_BUDGET);
}

/* Wake the stalled connections once there is room again. */
static void
fe_budget_check(void)
{
	if (!TAILQ_EMPTY(&fe->stalled) && fe_budget_room())
		event_active(&fe->resumeev, EV_TIMEOUT, 1);
}

/*
 * May the connection decode (and so dispatch) more input?  Not while
 * much of its output is unsent (conn_write resumes it), nor while all
 * connections together hold more than the budget (fe_resume does).
 */
static int
conn_may_dispatch(struct conn *c)
{
	size_t	unsent = conn_unsent(c);

	if (unsent > FRONTEND_CONN_OUT_HIGH)
		return (0);
	if (fe_budget_room())
		return (1);
	/* An administrator's small request always goes: root gets in. */
	if (c->admin && unsent == 0 &&
	    frame_dec_bufsize(&c->dec) < FRONTEND_CONN_IN_FREE)
		return (1);
	conn_stall(c);
	return (0);
}

static void
conn_stall(struct conn *c)
{
	if (c->stalled)
		return;
	c->stalled = 1;
	TAILQ_INSERT_TAIL(&fe->stalled, c, sentry);
}

/* Go on with input that waited, then re-arm. */
static void
conn_resume(struct conn *c)
{
	if (!c->inflight && c->pendlen > 0 && conn_process(c) == -1)
		return;
	conn_update(c);
}

/* The budget has room again: connections that waited go on, in order. */
static void
fe_resume(int fd, short ev, void *arg)
{
	struct conn	*c;

	while (fe_budget_room() && (c = TAILQ_FIRST(&fe->stalled)) != NULL) {
		TAILQ_REMOVE(&fe->stalled, c, sentry);
		c->stalled = 0;
		conn_resume(c);
	}
}

/* Every F_CONN_ACK has left: those clients may be read now. */
void
conn_confirmed(void)
{
	struct conn	*c, *t;

	fe->nunconfirmed = 0;
	TAILQ_FOREACH_SAFE(c, &fe->conns, entry, t) {
		if (!c->unconfirmed)
			continue;
		c->unconfirmed = 0;
		conn_update(c);
	}
}
