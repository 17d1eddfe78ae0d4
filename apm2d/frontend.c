/* SPDX-License-Identifier: ISC */
/*
 * frontend.c -- the unprivileged half of apm2d: its start, and its
 * channel to the supervisor.
 *
 * The frontend serves the clients the supervisor accepted and handed to
 * it (S_CONN_NEW; the connections themselves are control.c's): it
 * decodes length-prefixed frames, parses and validates the JSON requests,
 * forwards them as fixed-layout messages to the supervisor and writes the
 * supervisor's typed answers back as the exact upstream JSON (render.c).
 * It holds no state about processes and cannot accept connections, open
 * files, fork or exec.  It exits when the supervisor goes away, and
 * answers its heartbeats while it lives.
 *
 * Every message from the supervisor is checked against sup_msgs (type,
 * size, descriptor, connection) and its fields are checked again before
 * anything is written from it; a broken one ends the frontend.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "apm2d.h"
#include "chan.h"
#include "chan_event.h"
#include "jsonw.h"
#include "log.h"
#include "proto.h"
#include "sysutil.h"
#include "utf8.h"

struct frontend	*fe;

static void	sup_lost(enum chan_ev_why, int, void *);
static void	sup_drained(void *);
static void	sup_message(struct chan_msg *, void *);
static void	msg_hello(struct chan_msg *, struct conn *);
static void	msg_conn_new(struct chan_msg *, struct conn *);
static void	msg_heartbeat(struct chan_msg *, struct conn *);
static void	msg_status(struct chan_msg *, struct conn *);
static void	msg_ok(struct chan_msg *, struct conn *);
static void	msg_error(struct chan_msg *, struct conn *);
static void	msg_longtext(struct chan_msg *, struct conn *);
static void	error_done(struct conn *);
static void	msg_list_entry(struct chan_msg *, struct conn *);
static void	msg_list_end(struct chan_msg *, struct conn *);
static void	msg_detail(struct chan_msg *, struct conn *);
static void	msg_detail_arg(struct chan_msg *, struct conn *);
static void	msg_detail_inst(struct chan_msg *, struct conn *);
static void	msg_detail_limit(struct chan_msg *, struct conn *);
static void	msg_detail_end(struct chan_msg *, struct conn *);
static void	msg_log_entry(struct chan_msg *, struct conn *);
static void	msg_log_end(struct chan_msg *, struct conn *);
static void	msg_close(struct chan_msg *, struct conn *);
static void	msg_exit(struct chan_msg *, struct conn *);
static void	msg_logfd(struct chan_msg *, struct conn *);
static void	msg_metrics_part(struct chan_msg *, struct conn *);
static void	msg_metrics_end(struct chan_msg *, struct conn *);
static struct jw *part_get(struct conn *, uint32_t);
static void	fe_exit(int, short, void *);

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
	[S_OK_TEXT] =	  { sizeof(struct s_longtext),
			    sizeof(struct s_longtext) + PROTO_LONGMSG_MAX,
			    0, 1, msg_longtext },
	[S_ERROR_TEXT] =  { sizeof(struct s_longtext),
			    sizeof(struct s_longtext) + PROTO_LONGMSG_MAX,
			    0, 1, msg_longtext },
	[S_LIST_ENTRY] =  { sizeof(struct s_summary),
			    PROTO_LIST_BATCH * sizeof(struct s_summary),
			    0, 1, msg_list_entry },
	[S_LIST_END] =	  { 0, 0, 0, 1, msg_list_end },
	[S_DETAIL] =	  { FIXED(struct s_detail), 0, 1, msg_detail },
	[S_DETAIL_ARG] =  { FIXED(struct s_str), 0, 1, msg_detail_arg },
	[S_DETAIL_INST] = { FIXED(struct s_instance), 0, 1, msg_detail_inst },
	[S_DETAIL_LIMIT] = { FIXED(struct s_limit), 0, 1, msg_detail_limit },
	[S_DETAIL_END] =  { 0, 0, 0, 1, msg_detail_end },
	[S_LOG_ENTRY] =	  { sizeof(struct s_logentry),
			    sizeof(struct s_logentry) + PROTO_LOGLINE_MAX,
			    0, 1, msg_log_entry },
	[S_LOG_END] =	  { FIXED(struct s_logend), 0, 1, msg_log_end },
	[S_CLOSE] =	  { 0, 0, 0, 1, msg_close },
	[S_EXIT] =	  { 0, 0, 0, 0, msg_exit },
	[S_LOGFD] =	  { 0, 0, 1, 0, msg_logfd },
	[S_METRICS_PART] = { sizeof(struct s_longtext),
			    sizeof(struct s_longtext) + PROTO_LONGMSG_MAX,
			    0, 1, msg_metrics_part },
	[S_METRICS_END] = { 0, 0, 0, 1, msg_metrics_end },
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
	log_setquiet(opts->quiet);
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
	/* Sent to every apm2d out of habit (pkill -USR1): not for us. */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGTERM, SIG_DFL);

	/* The epoll descriptor and libevent's pipe exist before seccomp. */
	event_init();
	sandbox_enter(opts);

	/* Requests go out as they are made: no batching. */
	chan_ev_init(&f.sup, FRONTEND_CHAN_FD, PROTO_CHAN_MAX, 0, &sup_ops,
	    NULL);
	control_init();
	fe_send(F_READY, 0, NULL, 0);

	event_dispatch();
	fatalx("event loop ended");
}

uint64_t
uptime_secs(void)
{
	return (mono_secs_since(&fe->start));
}

/* ---- the channel to the supervisor ---- */

/* Sent at once: a request reaches the supervisor without a loop. */
void
fe_send(uint32_t type, uint32_t peerid, const void *data, size_t len)
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

/* Whichever write emptied the queue, the F_CONN_ACKs it held are out. */
static void
sup_drained(void *arg)
{
	if (fe->nunconfirmed > 0)
		conn_confirmed();
}

static void
fe_exit(int fd, short ev, void *arg)
{
	exit(0);
}

static void
sup_message(struct chan_msg *msg, void *arg)
{
	const struct sup_msg	*m = NULL;
	struct conn		*c = NULL;
	uint32_t		 type = msg->hdr.type;

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
	/* Echoed as is: the supervisor checks the number. */
	fe_send(F_HEARTBEAT, 0, msg->data, msg->datalen);
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
	if (!proto_error_ok(msg->data, msg->datalen) || c->part.kind != 0)
		fatalx("invalid S_ERROR");
	conn_reply_error(c, e.code, e.text);
	error_done(c);
}

/* An error ends a follow stream, and the connection with it. */
static void
error_done(struct conn *c)
{
	if (c->following)
		c->closing = 1;
	conn_done(c);
}

/* S_OK_TEXT, S_ERROR_TEXT: written as S_OK and S_ERROR are. */
static void
msg_longtext(struct chan_msg *msg, struct conn *c)
{
	struct s_longtext	 h;
	const char		*text = (const char *)msg->data + sizeof(h);
	uint32_t		 type = msg->hdr.type;

	if (!proto_longtext_ok(type, msg->data, msg->datalen) ||
	    c->part.kind != 0)
		fatalx("invalid %s", proto_type_name(type));
	memcpy(&h, msg->data, sizeof(h));
	if (type == S_OK_TEXT) {
		render_ok_text(conn_reply_begin(c), text, h.len);
		conn_reply_end(c);
		conn_done(c);
	} else {
		render_error_text(conn_reply_begin(c), h.code, text, h.len);
		conn_reply_end(c);
		error_done(c);
	}
}

/* [daemon] log_file was reopened (SIGUSR1): log lines go there now. */
static void
msg_logfd(struct chan_msg *msg, struct conn *c)
{
	log_setfd(msg->fd);
	msg->fd = -1;
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
	c->part.nlimits = 0;
	if (kind == S_LIST_ENTRY)
		render_list_begin(w);
	else if (kind == S_LOG_ENTRY)
		render_log_begin(w);
	else if (kind == S_METRICS_PART)
		render_metrics_begin(w);
	return (w);
}

void
part_clear(struct conn *c)
{
	free(c->part.detail);
	memset(&c->part, 0, sizeof(c->part));
}

/* A batch of list entries: a whole number of them, each well formed. */
static void
msg_list_entry(struct chan_msg *msg, struct conn *c)
{
	struct s_summary	s;
	struct jw		*w;
	size_t			 off;

	if (msg->datalen % sizeof(s) != 0)
		fatalx("S_LIST_ENTRY of %zu bytes", msg->datalen);
	w = part_get(c, S_LIST_ENTRY);
	for (off = 0; off < msg->datalen; off += sizeof(s)) {
		memcpy(&s, msg->data + off, sizeof(s));
		if (!proto_strfield_ok(s.name, sizeof(s.name)) ||
		    s.status.kind >= ST__COUNT)
			fatalx("invalid S_LIST_ENTRY");
		render_list_entry(w, &s, c->part.n++ == 0);
	}
}

static void
msg_list_end(struct chan_msg *msg, struct conn *c)
{
	render_list_end(part_get(c, S_LIST_ENTRY));
	part_clear(c);
	conn_reply_end(c);
	conn_done(c);
}

/* A part of the metrics text: whole lines, valid UTF-8, escaped. */
static void
msg_metrics_part(struct chan_msg *msg, struct conn *c)
{
	struct s_longtext	 h;
	const char		*text = (const char *)msg->data + sizeof(h);
	size_t			 bad;

	memcpy(&h, msg->data, sizeof(h));
	if (h.code != 0 || h.len != msg->datalen - sizeof(h) ||
	    utf8_valid(text, h.len, &bad) != 0)
		fatalx("invalid S_METRICS_PART");
	render_metrics_part(part_get(c, S_METRICS_PART), text, h.len);
}

static void
msg_metrics_end(struct chan_msg *msg, struct conn *c)
{
	render_metrics_end(part_get(c, S_METRICS_PART));
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
	    d->nargs > 65536 || d->ninst > 65536 || d->nlimits > LIMIT_MSGS)
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

/* The limits come after every instance. */
static void
msg_detail_limit(struct chan_msg *msg, struct conn *c)
{
	struct s_limit	l;

	memcpy(&l, msg->data, sizeof(l));
	if (c->part.kind != S_DETAIL || c->part.n != c->part.detail->nargs ||
	    c->part.ninst != c->part.detail->ninst ||
	    c->part.nlimits >= c->part.detail->nlimits ||
	    !proto_strfield_ok(l.name, sizeof(l.name)) || l.name[0] == '\0' ||
	    !proto_strfield_ok(l.reason, sizeof(l.reason)) ||
	    l.in_force > 1 || l.has_reason > 1)
		fatalx("invalid S_DETAIL_LIMIT");
	render_detail_limit(&c->out.w, c->part.detail, &l,
	    c->part.nlimits++ == 0);
}

static void
msg_detail_end(struct chan_msg *msg, struct conn *c)
{
	if (c->part.kind != S_DETAIL || c->part.n != c->part.detail->nargs ||
	    c->part.ninst != c->part.detail->ninst ||
	    c->part.nlimits != c->part.detail->nlimits)
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
	if (!proto_logentry_ok(msg->data, msg->datalen))
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

	fe->exiting = 1;
	evtimer_set(&fe->exitev, fe_exit, NULL);
	tv.tv_sec = FRONTEND_EXIT_GRACE;
	tv.tv_usec = 0;
	evtimer_add(&fe->exitev, &tv);
	if (TAILQ_EMPTY(&fe->conns))
		exit(0);
}
