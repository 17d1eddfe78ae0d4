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
#include "log.h"
#include "proto.h"

/*
 * A follow frame is acknowledged to the supervisor once the client has
 * taken all but this much of its queued output: a follower that stops
 * reading stops the flow at the supervisor.
 */
#define FOLLOW_ACK_LOWAT	(256 * 1024)

struct outbuf {
	uint8_t		*buf;
	size_t		 off;		/* first unsent byte */
	size_t		 len;		/* bytes in buf */
	size_t		 size;
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
	/* reply being assembled from several supervisor messages */
	struct apm2_resp	 resp;
	int			 building;
	size_t			 want_args;
	size_t			 want_inst;
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
static void	conn_new(struct chan_msg *);
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
static void	conn_reply(struct conn *, const struct apm2_resp *);
static void	conn_reply_error(struct conn *, enum apm2_errcode,
		    const char *);
static int	conn_queue(struct conn *, const void *, size_t);
static void	conn_update(struct conn *);
static void	conn_done(struct conn *);
static void	conn_ack(struct conn *);
static struct conn *conn_find(uint32_t);
static void	sup_message(struct chan_msg *, void *);
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

static const struct proto_rule fe_rules[] = {
	{ S_HELLO, sizeof(struct s_hello), sizeof(struct s_hello), 0, 0 },
	{ S_CONN_NEW, sizeof(struct s_conn_new), sizeof(struct s_conn_new),
	    1, 0 },
	{ S_HEARTBEAT, sizeof(struct heartbeat), sizeof(struct heartbeat),
	    0, 0 },
	{ S_STATUS, sizeof(struct s_status), sizeof(struct s_status), 0, 1 },
	{ S_OK, sizeof(struct s_text), sizeof(struct s_text), 0, 1 },
	{ S_ERROR, sizeof(struct s_error), sizeof(struct s_error), 0, 1 },
	{ S_LIST_ENTRY, sizeof(struct s_summary), sizeof(struct s_summary),
	    0, 1 },
	{ S_LIST_END, 0, 0, 0, 1 },
	{ S_DETAIL, sizeof(struct s_detail), sizeof(struct s_detail), 0, 1 },
	{ S_DETAIL_ARG, sizeof(struct s_str), sizeof(struct s_str), 0, 1 },
	{ S_DETAIL_INST, sizeof(struct s_instance), sizeof(struct s_instance),
	    0, 1 },
	{ S_DETAIL_END, 0, 0, 0, 1 },
	{ S_LOG_ENTRY, sizeof(struct s_logentry),
	    sizeof(struct s_logentry) + PROTO_LOGLINE_MAX, 0, 1 },
	{ S_LOG_END, sizeof(struct s_logend), sizeof(struct s_logend), 0, 1 },
	{ S_CLOSE, 0, 0, 0, 1 },
	{ S_EXIT, 0, 0, 0, 0 },
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
	const struct proto_rule	*r;
	struct conn		*c = NULL;
	struct timeval		 tv;

	(void)arg;
	r = proto_rule_find(fe_rules, sizeof(fe_rules) / sizeof(fe_rules[0]),
	    msg->hdr.type);
	if (r == NULL || msg->datalen < r->minsize ||
	    msg->datalen > r->maxsize || (msg->fd != -1) != (r->fd != 0))
		fatalx("invalid %s message from supervisor",
		    proto_type_name(msg->hdr.type));
	if (r->conn) {
		if ((c = conn_find(msg->hdr.peerid)) == NULL)
			return;		/* connection already gone */
		if (!c->inflight)
			fatalx("unsolicited %s for connection %u",
			    proto_type_name(msg->hdr.type), msg->hdr.peerid);
	}

	switch (msg->hdr.type) {
	case S_HELLO: {
		struct s_hello	h;

		memcpy(&h, msg->data, sizeof(h));
		fe->start.tv_sec = h.start_mono_sec;
		fe->start.tv_nsec = h.start_mono_nsec;
		fe->sup_pid = h.sup_pid;
		if (h.max_conns > 0 && h.max_conns < FRONTEND_MAX_CONNS)
			fe->max_conns = h.max_conns;
		fe->idle_ms = h.idle_timeout_ms;
		fe->hello = 1;
		break;
	}
	case S_CONN_NEW:
		conn_new(msg);
		break;
	case S_HEARTBEAT:
		/* Echoed as is: the supervisor checks the number. */
		chan_send(F_HEARTBEAT, 0, msg->data, msg->datalen);
		conn_idle_sweep();
		break;
	case S_STATUS: {
		struct s_status	 s;
		struct apm2_resp resp;

		memcpy(&s, msg->data, sizeof(s));
		memset(&resp, 0, sizeof(resp));
		resp.type = RESP_STATUS;
		resp.version = (char *)APM2_VERSION;
		resp.pid = s.pid;
		resp.uptime_secs = s.uptime_secs;
		resp.process_count = s.process_count;
		resp.running_instances = s.running_instances;
		conn_reply(c, &resp);
		conn_done(c);
		break;
	}
	case S_OK: {
		struct s_text	 t;
		struct apm2_resp resp;

		memcpy(&t, msg->data, sizeof(t));
		if (t.has_text && !proto_strfield_ok(t.text, sizeof(t.text)))
			fatalx("unterminated S_OK text");
		memset(&resp, 0, sizeof(resp));
		resp.type = RESP_OK;
		resp.message = t.has_text ? t.text : NULL;
		conn_reply(c, &resp);
		conn_done(c);
		break;
	}
	case S_ERROR: {
		struct s_error	e;

		memcpy(&e, msg->data, sizeof(e));
		if (!proto_strfield_ok(e.text, sizeof(e.text)) ||
		    e.code >= ERR__COUNT)
			fatalx("invalid S_ERROR");
		conn_reply_error(c, e.code, e.text);
		if (c->following)
			c->closing = 1;
		conn_done(c);
		break;
	}
	case S_LIST_ENTRY: {
		struct s_summary	 s;
		struct apm2_summary	*ps, *n;

		memcpy(&s, msg->data, sizeof(s));
		if (!proto_strfield_ok(s.name, sizeof(s.name)) ||
		    s.status.kind > ST_TERMINATED)
			fatalx("invalid S_LIST_ENTRY");
		if (!c->building) {
			memset(&c->resp, 0, sizeof(c->resp));
			c->resp.type = RESP_PROCESS_LIST;
			c->building = 1;
		}
		n = reallocarray(c->resp.procs, c->resp.nprocs + 1,
		    sizeof(*n));
		if (n == NULL)
			fatal("reallocarray");
		c->resp.procs = n;
		ps = &n[c->resp.nprocs];
		memset(ps, 0, sizeof(*ps));
		if ((ps->name = strdup(s.name)) == NULL)
			fatal("strdup");
		c->resp.nprocs++;
		ps->instances = s.instances;
		ps->running = s.running;
		ps->status.kind = s.status.kind;
		ps->status.has_code = s.status.has_code != 0;
		ps->status.exit_code = s.status.exit_code;
		ps->has_cpu = (s.flags & P_HAS_CPU) != 0;
		ps->cpu_percent = s.cpu_percent;
		ps->has_mem = (s.flags & P_HAS_MEM) != 0;
		ps->memory_bytes = s.memory_bytes;
		ps->has_uptime = (s.flags & P_HAS_UPTIME) != 0;
		ps->uptime_secs = s.uptime_secs;
		ps->restart_count = s.restart_count;
		break;
	}
	case S_LIST_END:
		if (!c->building) {
			memset(&c->resp, 0, sizeof(c->resp));
			c->resp.type = RESP_PROCESS_LIST;
		}
		conn_reply(c, &c->resp);
		apm2_resp_free(&c->resp);
		c->building = 0;
		conn_done(c);
		break;
	case S_DETAIL: {
		struct s_detail		 d;
		struct apm2_procinfo	*p = &c->resp.proc;

		memcpy(&d, msg->data, sizeof(d));
		if (!proto_strfield_ok(d.name, sizeof(d.name)) ||
		    !proto_strfield_ok(d.id, sizeof(d.id)) ||
		    !proto_strfield_ok(d.command, sizeof(d.command)) ||
		    !proto_strfield_ok(d.cwd, sizeof(d.cwd)) ||
		    !proto_strfield_ok(d.credential_profile,
		    sizeof(d.credential_profile)) || c->building ||
		    d.nargs > 65536 || d.ninst > 65536)
			fatalx("invalid S_DETAIL");
		memset(&c->resp, 0, sizeof(c->resp));
		c->resp.type = RESP_PROCESS_DETAILS;
		c->building = 1;
		if ((p->name = strdup(d.name)) == NULL ||
		    (p->command = strdup(d.command)) == NULL ||
		    (d.has_cwd && (p->cwd = strdup(d.cwd)) == NULL) ||
		    (d.has_profile && (p->credential_profile =
		    strdup(d.credential_profile)) == NULL))
			fatal("strdup");
		strlcpy(p->id, d.id, sizeof(p->id));
		p->instances = d.instances;
		c->want_args = d.nargs;
		c->want_inst = d.ninst;
		if (d.nargs > 0 && (p->args = calloc(d.nargs,
		    sizeof(*p->args))) == NULL)
			fatal("calloc");
		if (d.ninst > 0 && (p->inst = calloc(d.ninst,
		    sizeof(*p->inst))) == NULL)
			fatal("calloc");
		break;
	}
	case S_DETAIL_ARG: {
		struct s_str		 s;
		struct apm2_procinfo	*p = &c->resp.proc;

		memcpy(&s, msg->data, sizeof(s));
		if (!proto_strfield_ok(s.str, sizeof(s.str)) ||
		    !c->building || c->resp.type != RESP_PROCESS_DETAILS ||
		    p->nargs >= c->want_args)
			fatalx("invalid S_DETAIL_ARG");
		if ((p->args[p->nargs] = strdup(s.str)) == NULL)
			fatal("strdup");
		p->nargs++;
		break;
	}
	case S_DETAIL_INST: {
		struct s_instance	 s;
		struct apm2_procinfo	*p = &c->resp.proc;
		struct apm2_instance	*i;

		memcpy(&s, msg->data, sizeof(s));
		if (!c->building || c->resp.type != RESP_PROCESS_DETAILS ||
		    p->ninst >= c->want_inst || s.state.kind > ST_TERMINATED)
			fatalx("invalid S_DETAIL_INST");
		i = &p->inst[p->ninst++];
		i->index = s.index;
		i->has_pid = (s.flags & P_HAS_PID) != 0;
		i->pid = s.pid;
		i->state.kind = s.state.kind;
		i->state.has_code = s.state.has_code != 0;
		i->state.exit_code = s.state.exit_code;
		i->has_cpu = (s.flags & P_HAS_CPU) != 0;
		i->cpu_percent = s.cpu_percent;
		i->has_mem = (s.flags & P_HAS_MEM) != 0;
		i->memory_bytes = s.memory_bytes;
		i->has_uptime = (s.flags & P_HAS_UPTIME) != 0;
		i->uptime_secs = s.uptime_secs;
		i->restart_count = s.restart_count;
		break;
	}
	case S_DETAIL_END:
		if (!c->building || c->resp.type != RESP_PROCESS_DETAILS ||
		    c->resp.proc.nargs != c->want_args ||
		    c->resp.proc.ninst != c->want_inst)
			fatalx("invalid S_DETAIL_END");
		conn_reply(c, &c->resp);
		apm2_resp_free(&c->resp);
		c->building = 0;
		conn_done(c);
		break;
	case S_LOG_ENTRY: {
		struct s_logentry	 s;
		struct apm2_logentry	*e, *n;

		memcpy(&s, msg->data, sizeof(s));
		if (!proto_strfield_ok(s.process_name,
		    sizeof(s.process_name)) || s.stream > 1 ||
		    s.content_len != msg->datalen - sizeof(s) ||
		    s.ts_nsec < 0 || s.ts_nsec >= 1000000000)
			fatalx("invalid S_LOG_ENTRY");
		if (!c->building) {
			memset(&c->resp, 0, sizeof(c->resp));
			c->resp.type = RESP_LOG_LINES;
			c->building = 1;
		} else if (c->resp.type != RESP_LOG_LINES)
			fatalx("S_LOG_ENTRY inside another reply");
		n = reallocarray(c->resp.lines, c->resp.nlines + 1,
		    sizeof(*n));
		if (n == NULL)
			fatal("reallocarray");
		c->resp.lines = n;
		e = &n[c->resp.nlines];
		memset(e, 0, sizeof(*e));
		c->resp.nlines++;
		e->timestamp.sec = s.ts_sec;
		e->timestamp.nsec = s.ts_nsec;
		e->instance = s.instance;
		if ((e->process_name = strdup(s.process_name)) == NULL ||
		    (e->stream = strdup(s.stream ? "stderr" : "stdout")) ==
		    NULL || (e->content = malloc(s.content_len + 1)) == NULL)
			fatal("malloc");
		memcpy(e->content, (uint8_t *)msg->data + sizeof(s),
		    s.content_len);
		e->content[s.content_len] = '\0';
		e->content_len = s.content_len;
		break;
	}
	case S_LOG_END: {
		struct s_logend	s;

		memcpy(&s, msg->data, sizeof(s));
		if (!c->building) {
			memset(&c->resp, 0, sizeof(c->resp));
			c->resp.type = RESP_LOG_LINES;
		}
		conn_reply(c, &c->resp);
		apm2_resp_free(&c->resp);
		c->building = 0;
		if (s.follow) {
			/* Stay in flight: more frames will come. */
			c->following = 1;
			conn_uncount(c);	/* flow-controlled now */
			c->acks_owed++;
			conn_ack(c);
			/* Write out what the socket did not take at once. */
			conn_update(c);
		} else
			conn_done(c);
		break;
	}
	case S_CLOSE:
		c->closing = 1;
		conn_update(c);
		break;
	case S_EXIT:
		/* Flush what is queued, then go; bounded by a timer. */
		fe->exiting = 1;
		evtimer_set(&fe->exitev, fe_exit, NULL);
		tv.tv_sec = FRONTEND_EXIT_GRACE;
		tv.tv_usec = 0;
		evtimer_add(&fe->exitev, &tv);
		if (TAILQ_EMPTY(&fe->conns))
			exit(0);
		break;
	}
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

/*
 * A client the supervisor accepted, and already knows the uid of: the
 * connected socket comes with the message, the id is the supervisor's.
 */
static void
conn_new(struct chan_msg *msg)
{
	struct s_conn_new	 cn;
	struct conn		*c;
	uint32_t		 id = msg->hdr.peerid;

	memcpy(&cn, msg->data, sizeof(cn));
	if (id == 0 || (cn.flags & ~(uint32_t)S_CONN_ADMIN) != 0 ||
	    fe->slots[id & (CONN_SLOTS - 1)] != NULL ||
	    fe->nconns >= fe->max_conns)
		fatalx("invalid S_CONN_NEW for connection %u", id);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->id = id;
	c->fd = msg->fd;	/* non-blocking, close-on-exec: accept4 */
	msg->fd = -1;
	c->admin = (cn.flags & S_CONN_ADMIN) != 0;
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
	if (c->building)
		apm2_resp_free(&c->resp);
	free(c->out.buf);
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

	unsent = c->out.len - c->out.off;
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
	return (!c->inflight && !c->following && c->out.len == c->out.off &&
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
	struct apm2_resp	 resp;
	struct f_request	 f;
	char			 err[256], msg[PROTO_MSG_MAX];

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
		apm2_req_free(&req);
		return;
	}

	memset(&f, 0, sizeof(f));
	f.type = req.type;
	switch (req.type) {
	case REQ_PING:
		memset(&resp, 0, sizeof(resp));
		resp.type = RESP_PONG;
		resp.version = (char *)APM2_VERSION;
		resp.uptime_secs = uptime_secs();
		conn_reply(c, &resp);
		apm2_req_free(&req);
		return;
	case REQ_GET_PROCESS:
	case REQ_START_PROCESS:
	case REQ_STOP_PROCESS:
	case REQ_RESTART_PROCESS:
	case REQ_RELOAD_PROCESS:
	case REQ_TAIL_LOGS:
		if (req.name == NULL)
			break;
		f.flags |= F_REQ_HAS_NAME;
		if (strlen(req.name) >= sizeof(f.name)) {
			/* No configured name is this long. */
			snprintf(msg, sizeof(msg), "Process '%.*s' not found",
			    (int)(sizeof(msg) - 32), req.name);
			conn_reply_error(c, ERR_PROCESS_NOT_FOUND, msg);
			apm2_req_free(&req);
			return;
		}
		strlcpy(f.name, req.name, sizeof(f.name));
		break;
	case REQ_SWITCH_CREDENTIAL:
		if (req.process_name != NULL) {
			f.flags |= F_REQ_HAS_NAME;
			strlcpy(f.name, req.process_name, sizeof(f.name));
		}
		break;
	default:
		break;
	}
	if (req.type == REQ_TAIL_LOGS) {
		f.lines = req.lines;
		if (req.follow)
			f.flags |= F_REQ_FOLLOW;
	}
	apm2_req_free(&req);

	c->inflight = 1;
	c->counted = 1;
	fe->ninflight++;
	chan_send(F_REQUEST, c->id, &f, sizeof(f));
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
	char		*argv[] = { (char *)"sh", NULL };
	struct apm2_resp resp;
	int		 fd;

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
	memset(&resp, 0, sizeof(resp));
	resp.type = RESP_PONG;
	resp.version = (char *)APM2_VERSION;
	resp.uptime_secs = uptime_secs();
	conn_reply(c, &resp);
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
	    c->out.len - c->out.off > FOLLOW_ACK_LOWAT)
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

static void
conn_reply(struct conn *c, const struct apm2_resp *resp)
{
	char	*json;
	size_t	 len;

	if ((json = apm2_resp_render(resp, &len)) == NULL) {
		/* Cannot say anything valid: drop this client only. */
		log_warnx("connection %u: cannot render a reply", c->id);
		c->closing = 1;
		return;
	}
	/* Large replies raise the estimate at once; it decays slowly. */
	if (len > fe->reply_est)
		fe->reply_est = len;
	else if (fe->reply_est > FRONTEND_REPLY_EST_MIN)
		fe->reply_est -= (fe->reply_est - len) / 16;
	if (conn_queue(c, json, len) == -1)
		c->closing = 1;
	free(json);
}

static void
conn_reply_error(struct conn *c, enum apm2_errcode code, const char *msg)
{
	struct apm2_resp	resp;

	memset(&resp, 0, sizeof(resp));
	resp.type = RESP_ERROR;
	resp.code = code;
	resp.message = (char *)msg;
	conn_reply(c, &resp);
}

/* Queue one frame; a client that lets too much pile up is cut off. */
static int
conn_queue(struct conn *c, const void *payload, size_t len)
{
	struct outbuf	*o = &c->out;
	uint8_t		*nb;
	size_t		 need, nsize;

	if (len > FRAME_MAX)
		return (-1);
	if (o->off > 0 && o->off == o->len)
		o->off = o->len = 0;
	need = o->len + 4 + len;
	if (need - o->off > FRONTEND_OUTBUF_MAX) {
		log_debug("connection %u: not reading its replies", c->id);
		return (-1);
	}
	if (need > o->size) {
		if (o->off > 0) {
			memmove(o->buf, o->buf + o->off, o->len - o->off);
			o->len -= o->off;
			o->off = 0;
			need = o->len + 4 + len;
		}
		nsize = o->size ? o->size : 4096;
		while (nsize < need)
			nsize *= 2;
		if ((nb = realloc(o->buf, nsize)) == NULL)
			fatal("realloc");
		o->buf = nb;
		o->size = nsize;
	}
	frame_put_len(o->buf + o->len, (uint32_t)len);
	memcpy(o->buf + o->len + 4, payload, len);
	o->len += 4 + len;
	/* Try right away: most replies fit the socket buffer. */
	conn_flush(c);
	conn_account(c);
	return (0);
}

static void
conn_flush(struct conn *c)
{
	struct outbuf	*o = &c->out;
	ssize_t		 n;

	while (o->off < o->len) {
		n = write(c->fd, o->buf + o->off, o->len - o->off);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* The client is gone; drop what it did not take. */
			o->off = o->len;
			c->closing = 1;
			break;
		}
		o->off += n;
		c->written += n;
	}
	if (o->off == o->len) {
		o->off = o->len = 0;
		/* An idle connection keeps a small buffer at most. */
		if (o->size > FRONTEND_OUT_KEEP) {
			free(o->buf);
			o->buf = NULL;
			o->size = 0;
		}
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
	if (c->out.len == c->out.off)
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

	now = c->out.size + c->pendlen + frame_dec_bufsize(&c->dec);
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
	size_t	unsent = c->out.len - c->out.off;

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
