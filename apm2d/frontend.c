/*
 * frontend.c -- the unprivileged half of apm2d.
 *
 * The frontend serves the clients the supervisor accepted and handed to
 * it (S_CONN_NEW): it decodes length-prefixed frames, parses and
 * validates the JSON requests, forwards them as fixed-layout messages to
 * the supervisor and renders the supervisor's typed answers back into the
 * exact upstream JSON.  It holds no state about processes and cannot
 * accept connections, open files, fork or exec.  It exits when the
 * supervisor goes away, and answers its heartbeats while it lives.
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
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
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

/*
 * A connection's replies, framed, in the order they are sent.  A reply
 * is written straight into it (conn_reply_begin); until it is complete
 * (conn_reply_end puts its length in front) nothing from its start on
 * goes out.
 */
struct outbuf {
	struct jw	 w;		/* w.len: bytes held */
	size_t		 off;		/* first unsent byte */
	size_t		 reply;		/* start of the reply being written */
	int		 open;		/* a reply is being written */
};

/* A reply that several supervisor messages make, while it is written. */
struct partial {
	uint32_t	 kind;		/* S_LIST_ENTRY, S_DETAIL, S_LOG_ENTRY;
					   0: none */
	uint32_t	 n;		/* entries (or arguments) written */
	uint32_t	 ninst;		/* S_DETAIL: instances written */
	struct s_detail	*detail;	/* S_DETAIL: what follows the args */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 sentry;	/* on fe->stalled */
	uint32_t		 id;
	int			 fd;
	int			 admin;		/* S_CONN_ADMIN */
	int			 stalled;	/* waits for the budget */
	int			 unconfirmed;	/* F_CONN_ACK not written yet */
	struct event		 rev;
	struct event		 wev;
	struct event		 tmo;		/* partial frame deadline */
	struct event		 wtmo;		/* drain rate window */
	uint64_t		 written;	/* bytes sent, ever */
	uint64_t		 win_mark;	/* written at window start */
	size_t			 win_need;	/* to drain in the window */
	size_t			 memacct;	/* counted in fe->mem */
	int64_t			 active;	/* last seen busy, ms */
	struct frame_dec	 dec;
	struct outbuf		 out;
	uint8_t			*pend;		/* read but not yet decoded */
	size_t			 pendlen;
	int			 inflight;	/* waiting for the supervisor */
	int			 counted;	/* in fe->ninflight */
	int			 following;	/* tail_logs follow stream */
	uint32_t		 acks_owed;	/* follow frames not acked */
	int			 closing;	/* close once output is sent */
	int			 eof;		/* client closed its side */
	struct partial		 part;		/* reply being assembled */
};

struct frontend {
	struct chan_ev		 sup;		/* the channel to the supervisor */
	struct event		 exitev;
	struct event		 resumeev;
	int			 exiting;
	int			 hello;
	struct timespec		 start;
	uint32_t		 sup_pid;
	uint32_t		 max_conns;
	uint32_t		 idle_ms;
	uint32_t		 nconns;
	uint32_t		 nunconfirmed;
	size_t			 mem;		/* buffers of all connections */
	size_t			 ninflight;	/* requests awaiting a reply */
	size_t			 reply_est;	/* recent large reply, bytes */
	struct conn		*slots[CONN_SLOTS];
	TAILQ_HEAD(, conn)	 conns;
	TAILQ_HEAD(, conn)	 stalled;
};

static struct frontend	*fe;

static void	chan_send(uint32_t, uint32_t, const void *, size_t);
static void	sup_lost(enum chan_ev_why, int, void *);
static void	sup_drained(void *);
static void	conn_new(uint32_t, int, int);
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
static void	conn_idle_sweep(void);
static void	conn_uncount(struct conn *);
static int	fe_budget_room(void);
static void	fe_budget_check(void);
static void	conn_close(struct conn *);
static int	conn_process(struct conn *);
static void	conn_flush(struct conn *);
static void	conn_request(struct conn *, const uint8_t *, size_t);
static struct jw *conn_reply_begin(struct conn *);
static void	conn_reply_end(struct conn *);
static void	conn_reply_abort(struct conn *);
static void	conn_reply_error(struct conn *, enum apm2_errcode,
		    const char *);
static size_t	conn_unsent(const struct conn *);
static int	request_make(struct conn *, const struct apm2_req *,
		    struct f_request *);
static void	conn_update(struct conn *);
static void	conn_done(struct conn *);
static void	conn_ack(struct conn *);
static struct conn *conn_find(uint32_t);
static void	sup_message(struct chan_msg *, void *);
static void	msg_hello(struct chan_msg *, struct conn *);
static void	msg_conn_new(struct chan_msg *, struct conn *);
static void	msg_heartbeat(struct chan_msg *, struct conn *);
static void	msg_status(struct chan_msg *, struct conn *);
static void	msg_ok(struct chan_msg *, struct conn *);
static void	msg_error(struct chan_msg *, struct conn *);
static void	msg_list_entry(struct chan_msg *, struct conn *);
static void	msg_list_end(struct chan_msg *, struct conn *);
static void	msg_detail(struct chan_msg *, struct conn *);
static void	msg_detail_arg(struct chan_msg *, struct conn *);
static void	msg_detail_inst(struct chan_msg *, struct conn *);
static void	msg_detail_end(struct chan_msg *, struct conn *);
static void	msg_log_entry(struct chan_msg *, struct conn *);
static void	msg_log_end(struct chan_msg *, struct conn *);
static void	msg_close(struct chan_msg *, struct conn *);
static void	msg_exit(struct chan_msg *, struct conn *);
static struct jw *part_get(struct conn *, uint32_t);
static void	part_clear(struct conn *);
static void	fe_exit(int, short, void *);
static uint64_t	uptime_secs(void);
#ifdef APM2D_TEST_HOOKS
static int	test_hook(struct conn *, const uint8_t *, size_t);
#endif

static const struct chan_ev_ops sup_ops = {
	.msg = sup_message,
	.lost = sup_lost,
	.drained = sup_drained,
};

/*
 * What the frontend takes from the supervisor, by type: the payload size
 * (exact when min == max), a descriptor or none, whether the peer id
 * names a connection (which then has a request in flight), and the
 * handler.  Anything else ends the frontend: the supervisor is broken.
 */
struct sup_msg {
	uint32_t	 minsize;
	uint32_t	 maxsize;
	int		 fd;
	int		 conn;
	void		(*fn)(struct chan_msg *, struct conn *);
};

#define FIXED(t)	sizeof(t), sizeof(t)

static const struct sup_msg sup_msgs[PROTO_TYPE_MAX] = {
	[S_HELLO] =	  { FIXED(struct s_hello), 0, 0, msg_hello },
	[S_CONN_NEW] =	  { FIXED(struct s_conn_new), 1, 0, msg_conn_new },
	[S_HEARTBEAT] =	  { FIXED(struct heartbeat), 0, 0, msg_heartbeat },
	[S_STATUS] =	  { FIXED(struct s_status), 0, 1, msg_status },
	[S_OK] =	  { FIXED(struct s_text), 0, 1, msg_ok },
	[S_ERROR] =	  { FIXED(struct s_error), 0, 1, msg_error },
	[S_LIST_ENTRY] =  { FIXED(struct s_summary), 0, 1, msg_list_entry },
	[S_LIST_END] =	  { 0, 0, 0, 1, msg_list_end },
	[S_DETAIL] =	  { FIXED(struct s_detail), 0, 1, msg_detail },
	[S_DETAIL_ARG] =  { FIXED(struct s_str), 0, 1, msg_detail_arg },
	[S_DETAIL_INST] = { FIXED(struct s_instance), 0, 1, msg_detail_inst },
	[S_DETAIL_END] =  { 0, 0, 0, 1, msg_detail_end },
	[S_LOG_ENTRY] =	  { sizeof(struct s_logentry),
			    sizeof(struct s_logentry) + PROTO_LOGLINE_MAX,
			    0, 1, msg_log_entry },
	[S_LOG_END] =	  { FIXED(struct s_logend), 0, 1, msg_log_end },
	[S_CLOSE] =	  { 0, 0, 0, 1, msg_close },
	[S_EXIT] =	  { 0, 0, 0, 0, msg_exit },
};

void
frontend_main(const struct frontend_opts *opts)
{
	struct frontend	 f;
	int		 flags;

	memset(&f, 0, sizeof(f));
	fe = &f;
	TAILQ_INIT(&f.conns);
	TAILQ_INIT(&f.stalled);
	f.max_conns = FRONTEND_MAX_CONNS;
	f.reply_est = FRONTEND_REPLY_EST_MIN;

	log_init(opts->debug, LOG_DAEMON);
	log_setverbose(opts->verbose);
	log_procinit("frontend");
	setproctitle("%s", "frontend");

	if (fcntl(FRONTEND_CHAN_FD, F_GETFD) == -1)
		fatalx("frontend started without its channel");
	if ((flags = fcntl(FRONTEND_CHAN_FD, F_GETFL)) == -1 ||
	    fcntl(FRONTEND_CHAN_FD, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("fcntl");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);	/* the supervisor decides */
	signal(SIGTERM, SIG_DFL);

	/* The epoll descriptor and libevent's pipe exist before seccomp. */
	event_init();
	sandbox_frontend(opts);

	/* Requests go out as they are made: no batching. */
	chan_ev_init(&f.sup, FRONTEND_CHAN_FD, PROTO_CHAN_MAX, 0, &sup_ops,
	    NULL);
	evtimer_set(&f.resumeev, fe_resume, NULL);
	chan_send(F_READY, 0, NULL, 0);

	event_dispatch();
	fatalx("event loop ended");
}

static uint64_t
uptime_secs(void)
{
	struct timespec	now;
	int64_t		d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d = (int64_t)now.tv_sec - (int64_t)fe->start.tv_sec;
	if (now.tv_nsec < fe->start.tv_nsec)
		d--;
	return (d < 0 ? 0 : (uint64_t)d);
}

/* ---- the channel to the supervisor ---- */

/* Sent at once: a request reaches the supervisor without a loop. */
static void
chan_send(uint32_t type, uint32_t peerid, const void *data, size_t len)
{
	(void)chan_ev_compose(&fe->sup, type, peerid, -1, data, len);
}

/*
 * The supervisor is gone (or broke the protocol, or we cannot reach it):
 * nothing left to serve.  The supervisor takes the clients back.
 */
static void
sup_lost(enum chan_ev_why why, int err, void *arg)
{
	(void)arg;
	errno = err;
	switch (why) {
	case CHAN_EV_EOF:
		log_debug("supervisor went away");
		break;
	case CHAN_EV_READ:
		if (err != ECONNRESET)
			log_warn("chan_read");
		break;
	case CHAN_EV_WRITE:
		if (err != EPIPE && err != ECONNRESET)
			fatal("chan_flush");
		break;
	case CHAN_EV_BADMSG:
		fatal("bad message from supervisor");
	case CHAN_EV_QUEUE:
		fatal("chan_compose");
	}
	exit(0);
}

/*
 * Whichever write emptied the queue, the F_CONN_ACKs it held are out:
 * those clients may be read now.
 */
static void
sup_drained(void *arg)
{
	struct conn	*c, *t;

	(void)arg;
	if (fe->nunconfirmed == 0)
		return;
	fe->nunconfirmed = 0;
	TAILQ_FOREACH_SAFE(c, &fe->conns, entry, t) {
		if (!c->unconfirmed)
			continue;
		c->unconfirmed = 0;
		conn_update(c);
	}
}

static void
fe_exit(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	exit(0);
}

static void
sup_message(struct chan_msg *msg, void *arg)
{
	const struct sup_msg	*m = NULL;
	struct conn		*c = NULL;
	uint32_t		 type = msg->hdr.type;

	(void)arg;
	if (type < PROTO_TYPE_MAX)
		m = &sup_msgs[type];
	if (m == NULL || m->fn == NULL || msg->datalen < m->minsize ||
	    msg->datalen > m->maxsize || (msg->fd != -1) != (m->fd != 0))
		fatalx("invalid %s message from supervisor",
		    proto_type_name(type));
	if (m->conn) {
		if ((c = conn_find(msg->hdr.peerid)) == NULL)
			return;		/* connection already gone */
		if (!c->inflight)
			fatalx("unsolicited %s for connection %u",
			    proto_type_name(type), msg->hdr.peerid);
	}
	m->fn(msg, c);
}

static void
msg_hello(struct chan_msg *msg, struct conn *c)
{
	struct s_hello	h;

	(void)c;
	memcpy(&h, msg->data, sizeof(h));
	fe->start.tv_sec = h.start_mono_sec;
	fe->start.tv_nsec = h.start_mono_nsec;
	fe->sup_pid = h.sup_pid;
	if (h.max_conns > 0 && h.max_conns < FRONTEND_MAX_CONNS)
		fe->max_conns = h.max_conns;
	fe->idle_ms = h.idle_timeout_ms;
	fe->hello = 1;
}

/*
 * A client the supervisor accepted, and already knows the uid of: the
 * connected socket comes with the message, the id is the supervisor's.
 */
static void
msg_conn_new(struct chan_msg *msg, struct conn *c)
{
	struct s_conn_new	 cn;
	uint32_t		 id = msg->hdr.peerid;

	(void)c;
	memcpy(&cn, msg->data, sizeof(cn));
	if (id == 0 || (cn.flags & ~(uint32_t)S_CONN_ADMIN) != 0 ||
	    fe->slots[id & (CONN_SLOTS - 1)] != NULL ||
	    fe->nconns >= fe->max_conns)
		fatalx("invalid S_CONN_NEW for connection %u", id);
	conn_new(id, msg->fd, (cn.flags & S_CONN_ADMIN) != 0);
	msg->fd = -1;
}

static void
msg_heartbeat(struct chan_msg *msg, struct conn *c)
{
	(void)c;
	/* Echoed as is: the supervisor checks the number. */
	chan_send(F_HEARTBEAT, 0, msg->data, msg->datalen);
	conn_idle_sweep();
}

static void
msg_status(struct chan_msg *msg, struct conn *c)
{
	struct s_status	s;

	memcpy(&s, msg->data, sizeof(s));
	if (c->part.kind != 0)
		fatalx("S_STATUS inside another reply");
	render_status(conn_reply_begin(c), &s);
	conn_reply_end(c);
	conn_done(c);
}

static void
msg_ok(struct chan_msg *msg, struct conn *c)
{
	struct s_text	t;

	memcpy(&t, msg->data, sizeof(t));
	if ((t.has_text && !proto_strfield_ok(t.text, sizeof(t.text))) ||
	    c->part.kind != 0)
		fatalx("invalid S_OK");
	render_ok(conn_reply_begin(c), &t);
	conn_reply_end(c);
	conn_done(c);
}

static void
msg_error(struct chan_msg *msg, struct conn *c)
{
	struct s_error	e;

	memcpy(&e, msg->data, sizeof(e));
	if (!proto_strfield_ok(e.text, sizeof(e.text)) ||
	    e.code >= ERR__COUNT || c->part.kind != 0)
		fatalx("invalid S_ERROR");
	conn_reply_error(c, e.code, e.text);
	if (c->following)
		c->closing = 1;
	conn_done(c);
}

/*
 * The reply of this kind being written, begun if need be.  A reply's
 * messages come together: one of another kind in the middle is the
 * supervisor's error.
 */
static struct jw *
part_get(struct conn *c, uint32_t kind)
{
	struct jw	*w;

	if (c->part.kind == kind)
		return (&c->out.w);
	if (c->part.kind != 0)
		fatalx("%s inside another reply", proto_type_name(kind));
	w = conn_reply_begin(c);
	c->part.kind = kind;
	c->part.n = 0;
	c->part.ninst = 0;
	if (kind == S_LIST_ENTRY)
		render_list_begin(w);
	else if (kind == S_LOG_ENTRY)
		render_log_begin(w);
	return (w);
}

static void
part_clear(struct conn *c)
{
	free(c->part.detail);
	memset(&c->part, 0, sizeof(c->part));
}

static void
msg_list_entry(struct chan_msg *msg, struct conn *c)
{
	struct s_summary	s;
	struct jw		*w;

	memcpy(&s, msg->data, sizeof(s));
	if (!proto_strfield_ok(s.name, sizeof(s.name)) ||
	    s.status.kind >= ST__COUNT)
		fatalx("invalid S_LIST_ENTRY");
	w = part_get(c, S_LIST_ENTRY);
	render_list_entry(w, &s, c->part.n++ == 0);
}

static void
msg_list_end(struct chan_msg *msg, struct conn *c)
{
	(void)msg;
	render_list_end(part_get(c, S_LIST_ENTRY));
	part_clear(c);
	conn_reply_end(c);
	conn_done(c);
}

/* process_details: its arguments and instances follow, then the end. */
static void
msg_detail(struct chan_msg *msg, struct conn *c)
{
	struct s_detail	*d;
	struct jw	*w;

	if ((d = malloc(sizeof(*d))) == NULL)
		fatal("malloc");
	memcpy(d, msg->data, sizeof(*d));
	if (!proto_strfield_ok(d->name, sizeof(d->name)) ||
	    !proto_strfield_ok(d->id, sizeof(d->id)) ||
	    !proto_strfield_ok(d->command, sizeof(d->command)) ||
	    !proto_strfield_ok(d->cwd, sizeof(d->cwd)) ||
	    !proto_strfield_ok(d->credential_profile,
	    sizeof(d->credential_profile)) || c->part.kind != 0 ||
	    d->nargs > 65536 || d->ninst > 65536)
		fatalx("invalid S_DETAIL");
	w = part_get(c, S_DETAIL);
	c->part.detail = d;
	render_detail_begin(w, d);
	if (d->nargs == 0)
		render_detail_args_end(w, d);
}

static void
msg_detail_arg(struct chan_msg *msg, struct conn *c)
{
	struct s_str	a;
	struct jw	*w = &c->out.w;

	memcpy(&a, msg->data, sizeof(a));
	if (!proto_strfield_ok(a.str, sizeof(a.str)) ||
	    c->part.kind != S_DETAIL || c->part.n >= c->part.detail->nargs)
		fatalx("invalid S_DETAIL_ARG");
	render_detail_arg(w, &a, c->part.n == 0);
	if (++c->part.n == c->part.detail->nargs)
		render_detail_args_end(w, c->part.detail);
}

/* The instances come after every argument. */
static void
msg_detail_inst(struct chan_msg *msg, struct conn *c)
{
	struct s_instance	s;

	memcpy(&s, msg->data, sizeof(s));
	if (c->part.kind != S_DETAIL || c->part.n != c->part.detail->nargs ||
	    c->part.ninst >= c->part.detail->ninst ||
	    s.state.kind >= ST__COUNT)
		fatalx("invalid S_DETAIL_INST");
	render_detail_inst(&c->out.w, &s, c->part.ninst++ == 0);
}

static void
msg_detail_end(struct chan_msg *msg, struct conn *c)
{
	(void)msg;
	if (c->part.kind != S_DETAIL || c->part.n != c->part.detail->nargs ||
	    c->part.ninst != c->part.detail->ninst)
		fatalx("invalid S_DETAIL_END");
	render_detail_end(&c->out.w, c->part.detail);
	part_clear(c);
	conn_reply_end(c);
	conn_done(c);
}

static void
msg_log_entry(struct chan_msg *msg, struct conn *c)
{
	struct s_logentry	s;
	struct jw		*w;

	memcpy(&s, msg->data, sizeof(s));
	if (!proto_strfield_ok(s.process_name, sizeof(s.process_name)) ||
	    s.stream > 1 || s.content_len != msg->datalen - sizeof(s) ||
	    s.ts_nsec < 0 || s.ts_nsec >= 1000000000)
		fatalx("invalid S_LOG_ENTRY");
	w = part_get(c, S_LOG_ENTRY);
	render_log_entry(w, &s, (const char *)msg->data + sizeof(s),
	    c->part.n++ == 0);
}

/* One log_lines frame done; a follow stream stays in flight. */
static void
msg_log_end(struct chan_msg *msg, struct conn *c)
{
	struct s_logend	s;

	memcpy(&s, msg->data, sizeof(s));
	render_list_end(part_get(c, S_LOG_ENTRY));
	part_clear(c);
	conn_reply_end(c);
	if (s.follow) {
		c->following = 1;
		conn_uncount(c);	/* flow-controlled now */
		c->acks_owed++;
		conn_ack(c);
		/* Write out what the socket did not take at once. */
		conn_update(c);
	} else
		conn_done(c);
}

static void
msg_close(struct chan_msg *msg, struct conn *c)
{
	(void)msg;
	conn_reply_abort(c);
	part_clear(c);
	c->closing = 1;
	conn_update(c);
}

/* Flush what is queued, then go; bounded by a timer. */
static void
msg_exit(struct chan_msg *msg, struct conn *c)
{
	struct timeval	tv;

	(void)msg;
	(void)c;
	fe->exiting = 1;
	evtimer_set(&fe->exitev, fe_exit, NULL);
	tv.tv_sec = FRONTEND_EXIT_GRACE;
	tv.tv_usec = 0;
	evtimer_add(&fe->exitev, &tv);
	if (TAILQ_EMPTY(&fe->conns))
		exit(0);
}

/* ---- client connections ---- */

static struct conn *
conn_find(uint32_t id)
{
	struct conn	*c;

	c = fe->slots[id & (CONN_SLOTS - 1)];
	if (c == NULL || c->id != id)
		return (NULL);
	return (c);
}

/* A new client: fd is its connected socket, id the supervisor's. */
static void
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
	chan_send(F_CONN_ACK, id, NULL, 0);
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
	chan_send(F_CONN_CLOSED, c->id, NULL, 0);
	free(c);
	if (fe->exiting && TAILQ_EMPTY(&fe->conns))
		exit(0);
}

static void
conn_timeout(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)ev;
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
static void
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
static void
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

	(void)ev;
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
		chan_send(F_REQUEST, c->id, &f, sizeof(f));
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
static void
conn_ack(struct conn *c)
{
	if (!c->following || c->closing || c->acks_owed == 0 ||
	    conn_unsent(c) > FOLLOW_ACK_LOWAT)
		return;
	for (; c->acks_owed > 0; c->acks_owed--)
		chan_send(F_LOG_ACK, c->id, &(struct f_log_ack){
		    .frames = 1 }, sizeof(struct f_log_ack));
}

/* The supervisor finished this connection's request. */
static void
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
static struct jw *
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
static void
conn_reply_end(struct conn *c)
{
	struct outbuf	*o = &c->out;
	size_t		 len;

	o->open = 0;
	len = o->w.len - o->reply - FRAME_HDRSZ;
	/* Large replies raise the estimate at once; it decays slowly. */
	if (len > fe->reply_est)
		fe->reply_est = len;
	else if (fe->reply_est > FRONTEND_REPLY_EST_MIN)
		fe->reply_est -= (fe->reply_est - len) / 16;
	if (o->w.failed || len > FRAME_MAX ||
	    o->w.len - o->off > FRONTEND_OUTBUF_MAX) {
		if (o->w.failed)
			log_warnx("connection %u: cannot render a reply",
			    c->id);
		else if (len <= FRAME_MAX)
			log_debug("connection %u: not reading its replies",
			    c->id);
		o->w.failed = 0;
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
static void
conn_reply_abort(struct conn *c)
{
	if (c->out.open) {
		c->out.open = 0;
		c->out.w.len = c->out.reply;
	}
}

static void
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

	(void)fd;
	(void)ev;
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

	(void)fd;
	(void)ev;
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
static void
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

	(void)fd;
	(void)ev;
	(void)arg;
	while (fe_budget_room() && (c = TAILQ_FIRST(&fe->stalled)) != NULL) {
		TAILQ_REMOVE(&fe->stalled, c, sentry);
		c->stalled = 0;
		conn_resume(c);
	}
}
