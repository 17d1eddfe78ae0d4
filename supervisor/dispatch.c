/* SPDX-License-Identifier: ISC */
/*
 * dispatch.c -- client connections, messages from the frontend checked
 * before anything acts on them, and the authorization of every client
 * request.
 *
 * Connections.  The supervisor accepts every client itself
 * (control_accept), reads the peer's uid, gid, pid and supplementary
 * groups from the socket it accepted, as the kernel recorded them at
 * connect(2), and only then hands the connected socket to the frontend
 * with a connection id of its own choosing (S_CONN_NEW).  Descriptors
 * only travel downwards: the frontend can never pass off a socket of its
 * choice (its channel, a socketpair, a pipe) as a client, and a
 * connection exists in our table only because a real client connected.
 * The table is bounded: FRONTEND_MAX_CONNS connections, of which the last
 * CONN_ADMIN_RESERVED are kept for administrators, and at most
 * [daemon] max_connections_per_user per uid (root and our own uid
 * exempt).  A client over a limit gets one error frame and is closed at
 * once, so whoever hogs the socket never blocks the accept queue.
 *
 * Messages.  The frontend parses hostile bytes, so it may be taken over.
 * Every message is checked by msg_check() against sup_rules (type allowed
 * in this direction, exact size, no descriptor, connection state) and its
 * fields are checked again (strings NUL-terminated inside their field,
 * enums in range, no unknown flags).  Any violation: log it, kill and
 * respawn the frontend, never act on it.  Nothing the frontend sends can
 * make the supervisor exit.
 *
 * Back-pressure.  Replies queue on the channel to the frontend.  While
 * more than FRONTEND_WQ_HIGH bytes wait there, new requests are deferred
 * (at most one per connection, so the queue of them is bounded by the
 * connection table) and served in arrival order as the frontend drains
 * the channel: a flood of requests slows down, it never overflows.  A
 * list goes out in batches while there is room and its rest waits in
 * that same queue, so no number of programs or of clients listing them
 * overflows the channel either.
 *
 * Authorization.  Every request is authorized here (authorize()) against
 * req_policy:
 *
 *  - root, the supervisor's own uid and members of [daemon] admin_group
 *    (primary or supplementary group of the connecting process) may do
 *    everything;
 *  - anyone who can connect may ping, status and list_processes; list
 *    entries of processes the client may not manage carry no cpu,
 *    memory or uptime (null);
 *  - get/start/stop/restart/reload_process and tail_logs: the process
 *    must run as the client's uid ([[processes]] user); tail_logs of all
 *    processes (name null) is for administrators;
 *  - shutdown, reload_config and the credential requests:
 *    administrators only.
 *
 * An unknown process name gets process_not_found whoever asks (names are
 * public through list_processes anyway); a known one the client may not
 * manage gets permission_denied.  Every refusal is logged with the uid,
 * and so is every state-changing request that is let through.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <event.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "reload.h"
#include "runner.h"
#include "supervisor.h"

/* Peer groups beyond this are ignored (Linux NGROUPS_MAX is 65536). */
#define PEER_GROUPS_MAX	65536

/* Who may make a request (req_policy). */
enum policy {
	POL_ADMIN = 1,		/* administrators only */
	POL_ANYONE,		/* anyone who can connect */
	POL_OWNER		/* the uid the named process runs as */
};

static const unsigned char req_policy[REQ__COUNT] = {
	[REQ_PING] =			POL_ANYONE,
	[REQ_STATUS] =			POL_ANYONE,
	[REQ_LIST_PROCESSES] =		POL_ANYONE,
	[REQ_GET_PROCESS] =		POL_OWNER,
	[REQ_START_PROCESS] =		POL_OWNER,
	[REQ_STOP_PROCESS] =		POL_OWNER,
	[REQ_RESTART_PROCESS] =		POL_OWNER,
	[REQ_RELOAD_PROCESS] =		POL_OWNER,
	[REQ_TAIL_LOGS] =		POL_OWNER,
	[REQ_LIST_CREDENTIALS] =	POL_ADMIN,
	[REQ_GET_CREDENTIAL] =		POL_ADMIN,
	[REQ_ADD_CREDENTIAL] =		POL_ADMIN,
	[REQ_REMOVE_CREDENTIAL] =	POL_ADMIN,
	[REQ_REFRESH_CREDENTIAL] =	POL_ADMIN,
	[REQ_SWITCH_CREDENTIAL] =	POL_ADMIN,
	[REQ_SHUTDOWN] =		POL_ADMIN,
	[REQ_RELOAD_CONFIG] =		POL_ADMIN,
	[REQ_GET_METRICS] =		POL_ANYONE,
};
/* A new request type must get a line above (a missing one is admin-only). */
_Static_assert(REQ__COUNT == 18, "req_policy covers every request type");
/* A reload's whole message goes in one reply. */
_Static_assert(RELOAD_MSG_MAX <= PROTO_LONGMSG_MAX, "reload message fits");

static struct sup_conn *conn_get(uint32_t);
static void	conn_new(int);
static int	conn_auth_read(int, struct conn_auth *);
static void	conn_free(struct sup_conn *);
static int	conn_limit(const struct conn_auth *, char *, size_t);
static void	conn_refuse(int, const char *);
static uint32_t	conn_count_uid(uid_t);
static void	conn_closed(struct sup_conn *);
static int	peer_groups(int, uid_t, gid_t **, size_t *);
static int	msg_check(const struct chan_msg *, const struct sup_conn *,
		    int, char *, size_t);
static int	conn_is_admin(const struct conn_auth *);
static int	conn_owns(const struct conn_auth *, const char *);
static int	authorize(const struct conn_auth *, uint32_t, const char *,
		    char *, size_t);
static int	req_changes_state(const struct f_request *);
static void	reply_text(struct conn_ref, uint32_t, enum apm2_errcode,
		    const char *, size_t);
static void	dispatch_request(struct sup_conn *, const struct f_request *);
static void	list_go_on(struct sup_conn *);
static void	metrics_go_on(struct sup_conn *);
static void	violation(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));

static const struct proto_rule sup_rules[] = {
	/* type		min size			max size	fd conn */
	{ F_READY,	0,				0,		0, 0 },
	{ F_CONN_CLOSED, 0,				0,		0, 1 },
	{ F_REQUEST,	sizeof(struct f_request), sizeof(struct f_request),
									0, 1 },
	{ F_LOG_ACK,	sizeof(struct f_log_ack), sizeof(struct f_log_ack),
									0, 1 },
	{ F_HEARTBEAT,	sizeof(struct heartbeat), sizeof(struct heartbeat),
									0, 0 },
	{ F_CONN_ACK,	0,				0,		0, 1 },
};

static struct sup_conn *
conn_get(uint32_t id)
{
	struct sup_conn	*c;

	c = sup->conns[id & (CONN_SLOTS - 1)];
	if (c == NULL || c->id != id)
		return (NULL);
	return (c);
}

struct sup_conn *
conn_lookup(struct conn_ref ref)
{
	struct sup_conn	*c;

	if ((c = conn_get(ref.id)) == NULL || c->serial != ref.serial)
		return (NULL);
	return (c);
}

static void
violation(const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	frontend_lost("protocol violation: %s", buf);
}

/*
 * Everything that can be checked about a message from the frontend before
 * acting on it: the rule for its type, its size, descriptor and flags,
 * the connection it names (c: the connection with the message's peer id,
 * NULL if none; ready: F_READY seen) and its fields.  Pure: it looks at
 * nothing else and changes nothing.  0 if the message may be acted on;
 * -1 with the violation described in why.
 */
static int
msg_check(const struct chan_msg *msg, const struct sup_conn *c, int ready,
    char *why, size_t len)
{
	const struct proto_rule	*r;
	struct f_request	 req;
	uint32_t		 type = msg->hdr.type;

	r = proto_rule_find(sup_rules, sizeof(sup_rules) / sizeof(sup_rules[0]),
	    type);
	if (r == NULL) {
		snprintf(why, len, "message type %u not allowed", type);
		return (-1);
	}
	if (msg->datalen < r->minsize || msg->datalen > r->maxsize) {
		snprintf(why, len, "%s with %zu bytes", proto_type_name(type),
		    msg->datalen);
		return (-1);
	}
	if ((msg->fd != -1) != (r->fd != 0)) {
		snprintf(why, len, "%s %s a descriptor", proto_type_name(type),
		    msg->fd != -1 ? "with" : "without");
		return (-1);
	}
	if (msg->hdr.flags & ~(uint32_t)CHAN_F_FD) {
		snprintf(why, len, "%s with unknown flags %#x",
		    proto_type_name(type), msg->hdr.flags);
		return (-1);
	}
	if (r->conn && c == NULL) {
		snprintf(why, len, "%s for unknown connection %u",
		    proto_type_name(type), msg->hdr.peerid);
		return (-1);
	}
	if (!r->conn && msg->hdr.peerid != 0) {
		snprintf(why, len, "%s with peer id %u", proto_type_name(type),
		    msg->hdr.peerid);
		return (-1);
	}

	switch (type) {
	case F_READY:
		if (ready) {
			snprintf(why, len, "F_READY twice");
			return (-1);
		}
		break;
	case F_REQUEST:
		if (c->busy) {
			snprintf(why, len, "second request on connection %u",
			    c->id);
			return (-1);
		}
		memcpy(&req, msg->data, sizeof(req));
		if (req.type >= REQ__COUNT ||
		    (req.flags & ~(uint32_t)(F_REQ_HAS_NAME | F_REQ_FOLLOW |
		    F_REQ_DRY_RUN)) || ((req.flags & F_REQ_DRY_RUN) &&
		    req.type != REQ_RELOAD_CONFIG) ||
		    !proto_strfield_ok(req.name, sizeof(req.name))) {
			snprintf(why, len, "malformed request on connection %u",
			    c->id);
			return (-1);
		}
		break;
	case F_CONN_ACK:
		if (c->acked) {
			snprintf(why, len, "F_CONN_ACK twice for connection %u",
			    c->id);
			return (-1);
		}
		break;
	case F_LOG_ACK:
		if (!c->following) {
			snprintf(why, len, "F_LOG_ACK without a follow stream");
			return (-1);
		}
		break;
	}
	return (0);
}

void
dispatch_frontend(struct chan_msg *msg)
{
	struct sup_conn		*c = NULL;
	struct f_request	 req;
	struct heartbeat	 hb;
	char			 why[256];

	if (msg->hdr.peerid != 0)
		c = conn_get(msg->hdr.peerid);
	if (msg_check(msg, c, sup->fe_ready, why, sizeof(why)) == -1) {
		violation("%s", why);
		return;		/* the caller closes a descriptor */
	}

	switch (msg->hdr.type) {
	case F_READY:
		sup->fe_ready = 1;
		if (sup->readyfd != -1) {
			daemon_ready(sup->readyfd, NULL);
			sup->readyfd = -1;
		}
		log_debug("frontend ready");
		conn_orphans_adopt();
		control_update();
		notify_ready();		/* a ping would be answered now */
		break;
	case F_CONN_CLOSED:
		conn_closed(c);
		control_update();
		break;
	case F_CONN_ACK:
		/* The frontend has it: a lost frontend takes it along. */
		c->acked = 1;
		if (c->fd != -1) {
			close(c->fd);
			fd_reserve_fill();
		}
		c->fd = -1;
		break;
	case F_REQUEST:
		memcpy(&req, msg->data, sizeof(req));
		c->busy = 1;
		if (!TAILQ_EMPTY(&sup->deferred) || !reply_room()) {
			/* Back-pressure: served when the channel drains. */
			c->dreq = req;
			c->deferred = 1;
			TAILQ_INSERT_TAIL(&sup->deferred, c, dentry);
			break;
		}
		dispatch_request(c, &req);
		break;
	case F_HEARTBEAT:
		memcpy(&hb, msg->data, sizeof(hb));
		if (hb.seq <= sup->hb_acked || hb.seq > sup->hb_seq) {
			violation("F_HEARTBEAT %llu, expected %llu",
			    (unsigned long long)hb.seq,
			    (unsigned long long)sup->hb_seq);
			return;
		}
		sup->hb_acked = hb.seq;
		break;
	case F_LOG_ACK:
		runner_log_ack((struct conn_ref){ c->id, c->serial });
		break;
	}
}

/*
 * Accept clients only while a frontend is there to serve them (ready, not
 * exiting) and descriptors are available; otherwise they wait in the
 * listen queue and see a delay, never a refusal.
 */
void
control_update(void)
{
	int	want;

	want = sup->fe_up && sup->fe_ready && !sup->fe_exiting &&
	    !sup->accept_paused && sup->listenfd != -1;
	if (want && !sup->accepting)
		event_add(&sup->listen_ev, NULL);
	else if (!want && sup->accepting)
		event_del(&sup->listen_ev);
	sup->accepting = want;
}

/*
 * The listening socket is readable (or the pause after EMFILE ended).
 * Out of descriptors, an accept draws on the reserve (fd_reserve_use());
 * only when that is spent too do clients wait in the listen queue.
 */
void
control_accept(int fd, short ev, void *arg)
{
	struct timeval	tv;
	int		i, cfd;

	if (ev & EV_TIMEOUT) {
		sup->accept_paused = 0;
		control_update();
	}
	for (i = 0; i < ACCEPT_BATCH && sup->accepting; i++) {
		cfd = accept4(sup->listenfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1 && fd_reserve_use())
			cfd = accept4(sup->listenfd, NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Clients wait in the queue meanwhile. */
				log_warn("accept: pausing for %d ms",
				    ACCEPT_RETRY_MS);
				sup->accept_paused = 1;
				control_update();
				tv.tv_sec = 0;
				tv.tv_usec = ACCEPT_RETRY_MS * 1000;
				evtimer_add(&sup->accept_retry_ev, &tv);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			break;
		}
		conn_new(cfd);
	}
	fd_reserve_fill();
}

/* Connections held now by uid (the table is small: a scan will do). */
static uint32_t
conn_count_uid(uid_t uid)
{
	uint32_t	i, n = 0;

	for (i = 0; i < CONN_SLOTS; i++)
		if (sup->conns[i] != NULL && sup->conns[i]->auth.uid == uid)
			n++;
	return (n);
}

/* May this client have a connection now?  0 if so; -1 and why. */
static int
conn_limit(const struct conn_auth *a, char *why, size_t len)
{
	uint32_t	quota = sup->conf->daemon.max_conns_per_user;

	if (sup->nconns >= FRONTEND_MAX_CONNS) {
		snprintf(why, len, "Too many connections (%u)",
		    FRONTEND_MAX_CONNS);
		return (-1);
	}
	if (!a->admin &&
	    sup->nconns >= FRONTEND_MAX_CONNS - CONN_ADMIN_RESERVED) {
		snprintf(why, len, "Too many connections: the remaining %u "
		    "are reserved for administrators", FRONTEND_MAX_CONNS -
		    sup->nconns);
		return (-1);
	}
	if (a->uid != 0 && a->uid != geteuid() && sup->nconns >= quota &&
	    conn_count_uid(a->uid) >= quota) {
		snprintf(why, len, "Too many connections: uid %ld already "
		    "holds %u (max_connections_per_user)", (long)a->uid,
		    quota);
		return (-1);
	}
	return (0);
}

/*
 * Tell a refused client why in one frame, then close.  The socket was
 * just accepted, so its send buffer is empty and this cannot block.  The
 * reason is our own text (conn_limit: printable ASCII, no '"' or '\\'),
 * so the error object is written as it stands, without a JSON writer.
 */
static void
conn_refuse(int fd, const char *why)
{
	uint8_t	buf[FRAME_HDRSZ + 128 + PROTO_MSG_MAX];
	int	n;

	n = snprintf((char *)buf + FRAME_HDRSZ, sizeof(buf) - FRAME_HDRSZ,
	    "{\"type\":\"error\",\"code\":\"permission_denied\","
	    "\"message\":\"%s\"}", why);
	if (n > 0 && (size_t)n < sizeof(buf) - FRAME_HDRSZ) {
		frame_put_len(buf, (uint32_t)n);
		(void)send(fd, buf, FRAME_HDRSZ + (size_t)n,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	close(fd);
}

/*
 * Who the client is, from the socket we accepted: the kernel's record of
 * the connecting process (uid, gid, pid at connect(2)) and its groups.
 * 0, or -1 if the kernel would not say.
 */
static int
conn_auth_read(int fd, struct conn_auth *a)
{
#ifdef SO_PEERCRED
#ifdef __OpenBSD__
	struct sockpeercred	uc;	/* uid, gid and pid, as in Linux's */
#else
	struct ucred	uc;
#endif
	socklen_t	len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof(uc)) {
		log_warn("accepted client: SO_PEERCRED");
		return (-1);
	}
	a->uid = uc.uid;
	a->gid = uc.gid;
	a->pid = uc.pid;
#else
	if (getpeereid(fd, &a->uid, &a->gid) == -1) {
		log_warn("accepted client: getpeereid");
		return (-1);
	}
#endif
	/* Without its groups the client is judged by its uid and gid. */
	if (peer_groups(fd, a->uid, &a->groups, &a->ngroups) == -1)
		log_warn("client uid %ld: supplementary groups", (long)a->uid);
	a->admin = conn_is_admin(a);
	return (0);
}

/*
 * A new client: read its credentials from the socket we accepted, file
 * it under an id of ours and hand the socket to the frontend.
 */
static void
conn_new(int fd)
{
	struct sup_conn		*c;
	struct s_conn_new	 cn;
	char			 why[PROTO_MSG_MAX];
	uint32_t		 slot;
	time_t			 now;
	int			 sndbuf = CONN_SNDBUF;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("calloc");
		close(fd);
		return;
	}
	/*
	 * A small send buffer: the frontend's drain rule counts what it
	 * could write, and a default buffer of some 200 KiB, written again
	 * only once mostly empty, would make a reader of 20 KiB/s look
	 * stalled.  With this, what the client takes shows within 32 KiB.
	 */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (conn_auth_read(fd, &c->auth) == -1) {
		conn_free(c);
		close(fd);
		return;
	}
	if (conn_limit(&c->auth, why, sizeof(why)) == -1) {
		/* One line per REFUSE_LOG_SECS, however hard they try. */
		sup->refused++;
		now = time(NULL);
		if (now - sup->refuse_log_at >= REFUSE_LOG_SECS) {
			log_warnx("refused a connection from uid %ld pid %ld: "
			    "%s (%llu refused so far)", (long)c->auth.uid,
			    (long)c->auth.pid, why,
			    (unsigned long long)sup->refused);
			sup->refuse_log_at = now;
		}
		conn_refuse(fd, why);
		conn_free(c);
		return;
	}

	/* A free slot exists: nconns < FRONTEND_MAX_CONNS <= CONN_SLOTS. */
	for (slot = 0; slot < CONN_SLOTS; slot++)
		if (sup->conns[slot] == NULL)
			break;
	if (++sup->conn_gen >= (1U << (32 - CONN_SLOT_BITS)))
		sup->conn_gen = 1;
	c->id = (sup->conn_gen << CONN_SLOT_BITS) | slot;
	c->serial = ++sup->conn_serial;
	sup->conns[slot] = c;
	sup->nconns++;
	log_debug("connection %u: uid %ld gid %ld pid %ld, %zu groups%s",
	    c->id, (long)c->auth.uid, (long)c->auth.gid, (long)c->auth.pid,
	    c->auth.ngroups, c->auth.admin ? ", administrator" : "");

	/*
	 * Our copy until the frontend acknowledges it: should the frontend
	 * die with the message unread, the client goes to the next one.
	 */
	c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	memset(&cn, 0, sizeof(cn));
	cn.flags = c->auth.admin ? S_CONN_ADMIN : 0;
	frontend_send_fd(S_CONN_NEW, c->id, fd, &cn, sizeof(cn));
}

static void
conn_free(struct sup_conn *c)
{
	free(c->auth.groups);
	free(c->mtext);
	free(c);
}

/*
 * The client's supplementary groups.  Linux: as the kernel recorded them
 * at connect(2) (SO_PEERGROUPS), like uid and gid, so nothing can change
 * them between the connection and a request.  Elsewhere, or on a kernel
 * without SO_PEERGROUPS: the uid's groups in the group database now.
 * 0 with a malloc'd array (or NULL and 0 groups); -1 on failure.
 */
static int
peer_groups(int fd, uid_t uid, gid_t **groupsp, size_t *ngroupsp)
{
	struct passwd	*pw;
	gid_t		*g = NULL;
	long		 max;
	int		 n, r;
#ifdef SO_PEERGROUPS
	gid_t		*ng;
	socklen_t	 len = 0;
	int		 saved, tries;
#endif

	*groupsp = NULL;
	*ngroupsp = 0;
#ifdef SO_PEERGROUPS
	/* The peer's credentials never change: one retry is enough. */
	for (tries = 0; tries < 3; tries++) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
			*groupsp = g;
			*ngroupsp = len / sizeof(gid_t);
			return (0);
		}
		if (errno != ERANGE || len == 0 ||
		    len > PEER_GROUPS_MAX * sizeof(gid_t))
			break;
		/* len is what the kernel needs now. */
		if ((ng = realloc(g, len)) == NULL) {
			free(g);
			return (-1);
		}
		g = ng;
	}
	saved = errno;
	free(g);
	g = NULL;
	if (saved != ENOPROTOOPT) {
		errno = saved;
		return (-1);
	}
#else
#endif
	if ((pw = pw_byuid(uid)) == NULL)
		return (0);	/* no user entry: no supplementary groups */
	if ((max = sysconf(_SC_NGROUPS_MAX)) <= 0 || max > PEER_GROUPS_MAX)
		max = PEER_GROUPS_MAX;
	/* The primary group comes on top; more: keep those that fit. */
	r = grouplist_get(pw->pw_name, pw->pw_gid, (int)max + 1, &g, &n);
	free(pw);
	if (r == -1)
		return (-1);
	*groupsp = g;
	*ngroupsp = (size_t)n;
	return (0);
}

static void
conn_closed(struct sup_conn *c)
{
	struct conn_ref	ref = { c->id, c->serial };

	sup->conns[c->id & (CONN_SLOTS - 1)] = NULL;
	sup->nconns--;
	if (c->deferred)
		TAILQ_REMOVE(&sup->deferred, c, dentry);
	if (c->following)
		runner_conn_closed(ref);
	if (c->fd != -1)
		close(c->fd);
	conn_free(c);
}

/*
 * The frontend is gone: so are all its connections, except those it may
 * never have received (no F_CONN_ACK yet).  Those wait as orphans until
 * conn_orphans_drain() has read what the dead frontend still sent.
 */
void
conn_drop_all(void)
{
	struct sup_conn	*c;
	size_t		 i;

	for (i = 0; i < CONN_SLOTS; i++) {
		if ((c = sup->conns[i]) == NULL)
			continue;
		if (c->fd != -1 && sup->norphans < FRONTEND_MAX_CONNS) {
			sup->orphans[sup->norphans].id = c->id;
			sup->orphans[sup->norphans].fd = c->fd;
			sup->norphans++;
			c->fd = -1;
		}
		conn_closed(c);
	}
}

/*
 * The lost frontend has exited: whatever it wrote is in its channel.
 * A client it acknowledged was seen (and maybe read) by it and dies with
 * it; the others were never touched and go to the next frontend.  The
 * frontend acknowledges before it reads a byte from the client.
 */
void
conn_orphans_drain(void)
{
	struct chan_msg	 msg;
	ssize_t		 n;
	size_t		 i;
	int		 ok = 1;

	if (sup->fe_oldchan == -1)
		return;
	/* What was read already comes first, then the rest until EOF. */
	for (;;) {
		while ((n = chan_get(&sup->fe_ce.chan, &msg)) > 0) {
			if (msg.hdr.type == F_CONN_ACK)
				for (i = 0; i < sup->norphans; i++)
					if (sup->orphans[i].id ==
					    msg.hdr.peerid) {
						close(sup->orphans[i].fd);
						sup->orphans[i] =
						    sup->orphans[--sup->norphans];
						break;
					}
			chan_msg_free(&msg);
		}
		if (n == -1) {
			ok = 0;
			break;
		}
		if (sup->fe_ce.chan.eof)
			break;
		n = chan_read(&sup->fe_ce.chan);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN) {
			ok = 0;
			break;
		}
		if (n == -1)
			break;		/* no EOF yet: cannot tell */
	}
	if (!ok || sup->fe_ce.chan.eof == 0) {
		/* Cannot tell who was seen: none may be handed on. */
		for (i = 0; i < sup->norphans; i++)
			close(sup->orphans[i].fd);
		sup->norphans = 0;
	}
	chan_clear(&sup->fe_ce.chan);
	close(sup->fe_oldchan);
	sup->fe_oldchan = -1;
	if (sup->norphans > 0)
		log_info("%zu client%s the lost frontend never saw go to the "
		    "next one", sup->norphans, sup->norphans == 1 ? "" : "s");
}

/* A new frontend is ready: hand it the orphans, as new clients. */
void
conn_orphans_adopt(void)
{
	size_t	i, n = sup->norphans;

	sup->norphans = 0;
	for (i = 0; i < n; i++)
		conn_new(sup->orphans[i].fd);
}

/*
 * Serve deferred requests, oldest first, while the channel has room.
 * Called after every batch from the frontend and whenever it drained
 * some of the queue.
 */
void
dispatch_deferred(void)
{
	struct sup_conn	*c;

	while ((c = TAILQ_FIRST(&sup->deferred)) != NULL && reply_room()) {
		TAILQ_REMOVE(&sup->deferred, c, dentry);
		c->deferred = 0;
		if (c->listing)
			list_go_on(c);
		else if (c->mtext != NULL)
			metrics_go_on(c);
		else
			dispatch_request(c, &c->dreq);
	}
}

/*
 * Send the next part of a list; if the channel fills up before the end,
 * the rest waits its turn behind the requests deferred meanwhile.
 */
static void
list_go_on(struct sup_conn *c)
{
	struct conn_ref	ref = { c->id, c->serial };

	c->listing = 0;
	if (runner_req_list(ref, &c->list_next, conn_is_admin(&c->auth),
	    c->auth.uid) == 0) {
		c->listing = 1;
		c->deferred = 1;
		TAILQ_INSERT_TAIL(&sup->deferred, c, dentry);
	}
}

/*
 * The next parts of a get_metrics reply, each ending at a line's end,
 * while the channel has room; the rest waits its turn as a list does.
 */
static void
metrics_go_on(struct sup_conn *c)
{
	struct conn_ref		 ref = { c->id, c->serial };
	struct s_longtext	*h;
	const char		*nl;
	size_t			 n;
	static char		 buf[sizeof(*h) + PROTO_LONGMSG_MAX];

	h = (struct s_longtext *)(void *)buf;
	do {
		n = c->mlen - c->moff;
		if (n > PROTO_LONGMSG_MAX) {
			n = PROTO_LONGMSG_MAX;
			/* Whole lines: a part never splits a character. */
			nl = memrchr(c->mtext + c->moff, '\n', n);
			if (nl != NULL)
				n = (size_t)(nl - (c->mtext + c->moff)) + 1;
		}
		h->code = 0;
		h->len = (uint32_t)n;
		memcpy(buf + sizeof(*h), c->mtext + c->moff, n);
		reply_send(ref, S_METRICS_PART, buf, sizeof(*h) + n);
		c->moff += n;
	} while (c->moff < c->mlen && reply_room());
	if (c->moff < c->mlen) {
		c->deferred = 1;
		TAILQ_INSERT_TAIL(&sup->deferred, c, dentry);
		return;
	}
	free(c->mtext);
	c->mtext = NULL;
	reply_send(ref, S_METRICS_END, NULL, 0);
}

/* May more replies be queued for the frontend now? */
int
reply_room(void)
{
	return (sup->fe_up &&
	    chan_wqbytes(&sup->fe_ce.chan) < FRONTEND_WQ_HIGH);
}

/* ---- authorization ---- */

static int
conn_is_admin(const struct conn_auth *a)
{
	const struct daemon_config	*dc = &sup->conf->daemon;
	size_t				 i;

	if (a->uid == 0 || a->uid == geteuid())
		return (1);
	if (dc->admin_group == NULL)
		return (0);
	if (a->gid == dc->admin_gid)
		return (1);
	for (i = 0; i < a->ngroups; i++)
		if (a->groups[i] == dc->admin_gid)
			return (1);
	return (0);
}

/* Does the named process run as the client's uid? */
static int
conn_owns(const struct conn_auth *a, const char *name)
{
	uid_t	owner;

	return (runner_proc_owner(name, &owner) == 0 && owner == a->uid);
}

/*
 * May this client make this request (name: the process it names, NULL
 * for none or all)?  0 if so; -1 with the reason for the client in why.
 * Unknown names pass: the runner answers process_not_found to everybody.
 */
static int
authorize(const struct conn_auth *a, uint32_t type, const char *name,
    char *why, size_t len)
{
	const char	*what = proto_req_name(type);

	if (conn_is_admin(a))
		return (0);
	switch (req_policy[type]) {
	case POL_ANYONE:
		return (0);
	case POL_OWNER:
		if (name == NULL) {
			snprintf(why, len, "Permission denied: %s for all "
			    "processes is for administrators", what);
			return (-1);
		}
		if (conn_owns(a, name) ||
		    config_find_proc(sup->conf, name) == NULL)
			return (0);
		snprintf(why, len, "Permission denied: process '%s' does not "
		    "run as uid %ld", name, (long)a->uid);
		return (-1);
	default:
		snprintf(why, len, "Permission denied: %s is for "
		    "administrators", what);
		return (-1);
	}
}

static int
req_changes_state(const struct f_request *req)
{
	switch (req->type) {
	case REQ_RELOAD_CONFIG:
		return ((req->flags & F_REQ_DRY_RUN) == 0);
	case REQ_START_PROCESS:
	case REQ_STOP_PROCESS:
	case REQ_RESTART_PROCESS:
	case REQ_RELOAD_PROCESS:
	case REQ_ADD_CREDENTIAL:
	case REQ_REMOVE_CREDENTIAL:
	case REQ_REFRESH_CREDENTIAL:
	case REQ_SWITCH_CREDENTIAL:
	case REQ_SHUTDOWN:
		return (1);
	}
	return (0);
}

static void
dispatch_request(struct sup_conn *c, const struct f_request *req)
{
	struct conn_ref	 ref = { c->id, c->serial };
	struct s_status	 st;
	char		 why[PROTO_MSG_MAX];
	const char	*name = (req->flags & F_REQ_HAS_NAME) ? req->name :
			    NULL;
	const char	*what = proto_req_name(req->type);

	if (authorize(&c->auth, req->type, name, why, sizeof(why)) == -1) {
		log_warnx("denied %s%s%s to uid %ld gid %ld pid %ld", what,
		    name != NULL ? " " : "", name != NULL ? name : "",
		    (long)c->auth.uid, (long)c->auth.gid, (long)c->auth.pid);
		reply_error(ref, ERR_PERMISSION_DENIED, "%s", why);
		return;
	}
	if (req_changes_state(req))
		log_info("%s%s%s requested by uid %ld pid %ld", what,
		    name != NULL ? " " : "", name != NULL ? name : "",
		    (long)c->auth.uid, (long)c->auth.pid);

	metrics_count_request(req->type);
	switch (req->type) {
	case REQ_PING:
		/* The frontend answers ping; accept it anyway. */
	case REQ_STATUS:
		memset(&st, 0, sizeof(st));
		st.uptime_secs = sup_uptime_secs();
		st.pid = sup->pid;
		st.process_count = sup->conf->nprocs;
		st.running_instances = runner_running_count();
		reply_send(ref, S_STATUS, &st, sizeof(st));
		break;
	case REQ_SHUTDOWN:
		reply_ok(ref, "Daemon shutting down");
		sup_shutdown("shutdown request");
		break;
	case REQ_LIST_PROCESSES:
		c->list_next = 0;
		list_go_on(c);
		break;
	case REQ_GET_PROCESS:
		runner_req_get(ref, name ? name : "");
		break;
	case REQ_START_PROCESS:
		runner_req_op(ref, name ? name : "", RUNNER_START);
		break;
	case REQ_STOP_PROCESS:
		runner_req_op(ref, name ? name : "", RUNNER_STOP);
		break;
	case REQ_RESTART_PROCESS:
		runner_req_op(ref, name ? name : "", RUNNER_RESTART);
		break;
	case REQ_RELOAD_PROCESS:
		runner_req_op(ref, name ? name : "", RUNNER_RELOAD);
		break;
	case REQ_TAIL_LOGS:
		runner_req_tail(ref, name, req->lines,
		    (req->flags & F_REQ_FOLLOW) != 0);
		break;
	case REQ_RELOAD_CONFIG:
		reload_run(ref, (req->flags & F_REQ_DRY_RUN) != 0);
		break;
	case REQ_GET_METRICS:
		/* Figures only of the processes the client may manage. */
		free(c->mtext);
		c->mtext = metrics_render(conn_is_admin(&c->auth),
		    c->auth.uid, &c->mlen);
		c->moff = 0;
		if (c->mtext == NULL) {
			reply_error(ref, ERR_INTERNAL_ERROR, "out of memory");
			break;
		}
		metrics_go_on(c);
		break;
	default:
		/* Credential requests: no credential store in apm2d yet. */
		reply_error(ref, ERR_NOT_SUPPORTED, "Not implemented yet");
		break;
	}
}

/* ---- replies ---- */

/*
 * Send one reply message for a connection.  Terminal messages finish the
 * request.  A connection that went away meanwhile gets nothing.
 */
void
reply_send(struct conn_ref ref, uint32_t type, const void *data, size_t len)
{
	struct sup_conn		*c;

	if ((c = conn_lookup(ref)) == NULL)
		return;
	switch (type) {
	case S_STATUS:
	case S_OK:
	case S_ERROR:
	case S_OK_TEXT:
	case S_ERROR_TEXT:
	case S_LIST_END:
	case S_DETAIL_END:
	case S_METRICS_END:
		c->busy = 0;
		c->following = 0;
		c->logs = 0;
		break;
	case S_LOG_ENTRY:
		c->logframe = 1;
		break;
	case S_LOG_END:
		c->logframe = 0;
		if (((const struct s_logend *)data)->follow)
			c->following = 1;
		else {
			c->busy = 0;
			c->logs = 0;
		}
		break;
	}
	frontend_send(type, c->id, data, len);
}

void
conn_logs_expect(struct conn_ref ref)
{
	struct sup_conn	*c;

	if ((c = conn_lookup(ref)) != NULL)
		c->logs = 1;
}

struct sup_conn *
conn_logs_waiting(uint32_t id)
{
	struct sup_conn	*c;

	if ((c = conn_get(id)) == NULL || !c->logs)
		return (NULL);
	return (c);
}

void
conn_logs_lost(void)
{
	struct sup_conn	*c;
	struct conn_ref	 ref;
	size_t		 i;

	for (i = 0; i < CONN_SLOTS; i++) {
		if ((c = sup->conns[i]) == NULL || !c->logs)
			continue;
		ref.id = c->id;
		ref.serial = c->serial;
		if (c->logframe) {
			/* No error can follow half a frame: close it. */
			c->logs = 0;
			frontend_send(S_CLOSE, c->id, NULL, 0);
			continue;
		}
		reply_error(ref, ERR_INTERNAL_ERROR, "the logger was "
		    "restarted: ask again");
	}
}

void
reply_ok(struct conn_ref ref, const char *fmt, ...)
{
	struct s_text	t;
	va_list		ap;

	memset(&t, 0, sizeof(t));
	t.has_text = 1;
	va_start(ap, fmt);
	vsnprintf(t.text, sizeof(t.text), fmt, ap);
	va_end(ap);
	reply_send(ref, S_OK, &t, sizeof(t));
}

void
reply_ok_null(struct conn_ref ref)
{
	struct s_text	t;

	memset(&t, 0, sizeof(t));
	reply_send(ref, S_OK, &t, sizeof(t));
}

/*
 * A message of up to PROTO_LONGMSG_MAX bytes, whole (a longer one is
 * cut, and so is one at a NUL: no message has one).
 */
void
reply_ok_text(struct conn_ref ref, const char *text, size_t len)
{
	reply_text(ref, S_OK_TEXT, 0, text, len);
}

void
reply_error_text(struct conn_ref ref, enum apm2_errcode code,
    const char *text, size_t len)
{
	reply_text(ref, S_ERROR_TEXT, code, text, len);
}

/*
 * S_OK or S_ERROR when the text fits them, so that every short reply
 * stays as it was; else type (S_OK_TEXT, S_ERROR_TEXT).
 */
static void
reply_text(struct conn_ref ref, uint32_t type, enum apm2_errcode code,
    const char *text, size_t len)
{
	static struct {
		struct s_longtext	h;
		char			text[PROTO_LONGMSG_MAX];
	} m;

	len = strnlen(text, len < PROTO_LONGMSG_MAX ? len :
	    PROTO_LONGMSG_MAX);
	if (len < PROTO_MSG_MAX) {
		if (type == S_OK_TEXT)
			reply_ok(ref, "%.*s", (int)len, text);
		else
			reply_error(ref, code, "%.*s", (int)len, text);
		return;
	}
	if (conn_lookup(ref) == NULL)
		return;		/* SIGHUP's, or the client left */
	m.h.code = type == S_OK_TEXT ? 0 : code;
	m.h.len = (uint32_t)len;
	memcpy(m.text, text, len);
	reply_send(ref, type, &m, sizeof(m.h) + len);
}

void
reply_error(struct conn_ref ref, enum apm2_errcode code, const char *fmt, ...)
{
	struct s_error	e;
	va_list		ap;

	memset(&e, 0, sizeof(e));
	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	reply_send(ref, S_ERROR, &e, sizeof(e));
}
