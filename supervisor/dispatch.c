/*
 * dispatch.c -- messages from the frontend, checked before anything acts
 * on them, and the authorization of every client request.
 *
 * The frontend parses hostile bytes, so it may be taken over.  Every
 * message is checked by msg_check() against sup_rules (type allowed in
 * this direction, exact size, descriptor only where expected, connection
 * state) and its fields are checked again (strings NUL-terminated inside
 * their field, enums in range, no unknown flags).  Any violation: log it,
 * kill and respawn the frontend, never act on it.  Nothing the frontend
 * sends can make the supervisor exit.
 *
 * Who the client is comes from the kernel, never from the frontend: the
 * frontend passes each new client's socket once (F_CONN_NEW) and
 * conn_new() reads the peer's uid, gid and supplementary groups from it,
 * as the kernel recorded them when the client called connect(2).  Every
 * request is then authorized here (authorize()) against req_policy:
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
 *  - shutdown and the credential requests: administrators only.
 *
 * An unknown process name gets process_not_found whoever asks (names are
 * public through list_processes anyway); a known one the client may not
 * manage gets permission_denied.  Every refusal is logged with the uid,
 * and so is every state-changing request that is let through.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "runner.h"
#include "supervisor.h"

/* Peer groups beyond this are ignored (Linux NGROUPS_MAX is 65536). */
#define PEER_GROUPS_MAX	65536

/*
 * What the supervisor knows about a client beyond struct sup_conn.  The
 * sup_conn comes first, so every struct sup_conn * in the table points
 * to one of these (conn_new() allocates them all).
 */
struct conn_auth {
	struct sup_conn	 c;
	gid_t		*groups;	/* supplementary groups at connect */
	size_t		 ngroups;
};

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
};
/* A new request type must get a line above (a missing one is admin-only). */
_Static_assert(REQ__COUNT == 16, "req_policy covers every request type");

static struct sup_conn *conn_get(uint32_t);
static int	conn_new(uint32_t, int);
static void	conn_closed(struct sup_conn *);
static int	peer_groups(int, uid_t, gid_t **, size_t *);
static int	msg_check(const struct chan_msg *, const struct sup_conn *,
		    int, char *, size_t);
static int	conn_is_admin(const struct conn_auth *);
static int	conn_owns(const struct conn_auth *, const char *);
static int	authorize(const struct conn_auth *, uint32_t, const char *,
		    char *, size_t);
static int	req_changes_state(uint32_t);
static void	list_entry_filter(const struct conn_auth *,
		    struct s_summary *);
static void	dispatch_request(struct sup_conn *, const struct f_request *);
static void	violation(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));

static const struct proto_rule sup_rules[] = {
	/* type		min size			max size	fd conn */
	{ F_READY,	0,				0,		0, 0 },
	{ F_CONN_NEW,	0,				0,		1, 1 },
	{ F_CONN_CLOSED, 0,				0,		0, 1 },
	{ F_REQUEST,	sizeof(struct f_request), sizeof(struct f_request),
									0, 1 },
	{ F_LOG_ACK,	sizeof(struct f_log_ack), sizeof(struct f_log_ack),
									0, 1 },
};

static struct sup_conn *
conn_get(uint32_t id)
{
	struct sup_conn	*c;

	LIST_FOREACH(c, &sup->conns[id % CONN_BUCKETS], entry)
		if (c->id == id)
			return (c);
	return (NULL);
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

void
dispatch_frontend(struct chan_msg *msg)
{
	const struct proto_rule	*r;
	struct sup_conn		*c = NULL;
	struct f_request	 req;
	uint32_t		 type = msg->hdr.type;

	r = proto_rule_find(sup_rules, sizeof(sup_rules) / sizeof(sup_rules[0]),
	    type);
	if (r == NULL) {
		violation("message type %u not allowed", type);
		return;
	}
	if (msg->datalen < r->minsize || msg->datalen > r->maxsize) {
		violation("%s with %zu bytes", proto_type_name(type),
		    msg->datalen);
		return;
	}
	if ((msg->fd != -1) != (r->fd != 0)) {
		violation("%s %s a descriptor", proto_type_name(type),
		    msg->fd != -1 ? "with" : "without");
		return;
	}
	if (msg->hdr.flags & ~(uint32_t)CHAN_F_FD) {
		violation("%s with unknown flags %#x", proto_type_name(type),
		    msg->hdr.flags);
		return;
	}
	if (r->conn && type != F_CONN_NEW &&
	    (c = conn_get(msg->hdr.peerid)) == NULL) {
		violation("%s for unknown connection %u",
		    proto_type_name(type), msg->hdr.peerid);
		return;
	}
	if (!r->conn && msg->hdr.peerid != 0) {
		violation("%s with peer id %u", proto_type_name(type),
		    msg->hdr.peerid);
		return;
	}

	switch (type) {
	case F_READY:
		if (sup->fe_ready) {
			violation("F_READY twice");
			return;
		}
		sup->fe_ready = 1;
		if (sup->readyfd != -1) {
			daemon_ready(sup->readyfd, NULL);
			sup->readyfd = -1;
		}
		log_debug("frontend ready");
		break;
	case F_CONN_NEW: {
		int	fd = msg->fd;

		msg->fd = -1;	/* conn_new closes it, whatever happens */
		if (conn_new(msg->hdr.peerid, fd) == -1)
			return;
		break;
	}
	case F_CONN_CLOSED:
		conn_closed(c);
		break;
	case F_REQUEST:
		memcpy(&req, msg->data, sizeof(req));
		if (c->busy) {
			violation("second request on connection %u", c->id);
			return;
		}
		if (req.type >= REQ__COUNT ||
		    (req.flags & ~(uint32_t)(F_REQ_HAS_NAME | F_REQ_FOLLOW)) ||
		    !proto_strfield_ok(req.name, sizeof(req.name)) ||
		    !proto_strfield_ok(req.profile_id,
		    sizeof(req.profile_id)) ||
		    !proto_strfield_ok(req.provider, sizeof(req.provider)) ||
		    !proto_strfield_ok(req.auth_method,
		    sizeof(req.auth_method))) {
			violation("malformed request on connection %u", c->id);
			return;
		}
		c->busy = 1;
		dispatch_request(c, &req);
		break;
	case F_LOG_ACK:
		if (!c->following) {
			violation("F_LOG_ACK without a follow stream");
			return;
		}
		runner_log_ack((struct conn_ref){ c->id, c->serial });
		break;
	}
}

/*
 * A new client: read its credentials ourselves from the descriptor the
 * frontend passed, then close our copy.  The frontend's word on who the
 * client is counts for nothing.
 */
static int
conn_new(uint32_t id, int fd)
{
	struct sup_conn	*c;
#ifdef SO_PEERCRED
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);
#endif
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid = 0;

	if (id == 0 || conn_get(id) != NULL) {
		close(fd);
		violation("F_CONN_NEW for connection %u in use", id);
		return (-1);
	}
#ifdef SO_PEERCRED
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof(uc)) {
		close(fd);
		violation("F_CONN_NEW: not a connected socket: %s",
		    strerror(errno));
		return (-1);
	}
	uid = uc.uid;
	gid = uc.gid;
	pid = uc.pid;
#else
	if (getpeereid(fd, &uid, &gid) == -1) {
		close(fd);
		violation("F_CONN_NEW: not a connected socket: %s",
		    strerror(errno));
		return (-1);
	}
#endif
	close(fd);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("calloc");
		return (0);	/* requests on it will look like violations */
	}
	c->id = id;
	c->serial = ++sup->conn_serial;
	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	LIST_INSERT_HEAD(&sup->conns[id % CONN_BUCKETS], c, entry);
	log_debug("connection %u: uid %ld gid %ld pid %ld", id, (long)uid,
	    (long)gid, (long)pid);
	return (0);
}

static void
conn_closed(struct sup_conn *c)
{
	struct conn_ref	ref = { c->id, c->serial };

	LIST_REMOVE(c, entry);
	if (c->following)
		runner_conn_closed(ref);
	free(c);
}

/* The frontend is gone: so are all its connections. */
void
conn_drop_all(void)
{
	struct sup_conn	*c;
	size_t		 i;

	for (i = 0; i < CONN_BUCKETS; i++)
		while ((c = LIST_FIRST(&sup->conns[i])) != NULL)
			conn_closed(c);
}

static void
dispatch_request(struct sup_conn *c, const struct f_request *req)
{
	struct conn_ref	 ref = { c->id, c->serial };
	struct s_status	 st;
	const char	*name = (req->flags & F_REQ_HAS_NAME) ? req->name :
			    NULL;

	switch (req->type) {
	case REQ_PING:
		/* The frontend answers ping; accept it anyway. */
	case REQ_STATUS:
		memset(&st, 0, sizeof(st));
		st.uptime_secs = sup_uptime_secs();
		st.pid = getpid();
		st.process_count = sup->conf->nprocs;
		st.running_instances = runner_running_count();
		reply_send(ref, S_STATUS, &st, sizeof(st));
		break;
	case REQ_SHUTDOWN:
		log_info("shutdown requested by uid %ld", (long)c->uid);
		reply_ok(ref, "Daemon shutting down");
		sup_shutdown("shutdown request");
		break;
	case REQ_LIST_PROCESSES:
		runner_req_list(ref);
		break;
	case REQ_GET_PROCESS:
		runner_req_get(ref, name ? name : "");
		break;
	case REQ_START_PROCESS:
		runner_req_start(ref, name ? name : "");
		break;
	case REQ_STOP_PROCESS:
		runner_req_stop(ref, name ? name : "");
		break;
	case REQ_RESTART_PROCESS:
		runner_req_restart(ref, name ? name : "");
		break;
	case REQ_RELOAD_PROCESS:
		runner_req_reload(ref, name ? name : "");
		break;
	case REQ_TAIL_LOGS:
		runner_req_tail(ref, name, req->lines,
		    (req->flags & F_REQ_FOLLOW) != 0);
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
	struct sup_conn	*c;

	if ((c = conn_lookup(ref)) == NULL)
		return;
	switch (type) {
	case S_STATUS:
	case S_OK:
	case S_ERROR:
	case S_LIST_END:
	case S_DETAIL_END:
		c->busy = 0;
		c->following = 0;
		break;
	case S_LOG_END:
		if (((const struct s_logend *)data)->follow)
			c->following = 1;
		else
			c->busy = 0;
		break;
	}
	frontend_send(type, c->id, data, len);
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
