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
	if (r->conn && type != F_CONN_NEW && c == NULL) {
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
	case F_CONN_NEW:
		if (msg->hdr.peerid == 0 || c != NULL) {
			snprintf(why, len, "F_CONN_NEW for connection %u in use",
			    msg->hdr.peerid);
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
		    (req.flags & ~(uint32_t)(F_REQ_HAS_NAME | F_REQ_FOLLOW)) ||
		    !proto_strfield_ok(req.name, sizeof(req.name)) ||
		    !proto_strfield_ok(req.profile_id,
		    sizeof(req.profile_id)) ||
		    !proto_strfield_ok(req.provider, sizeof(req.provider)) ||
		    !proto_strfield_ok(req.auth_method,
		    sizeof(req.auth_method))) {
			snprintf(why, len, "malformed request on connection %u",
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
	char			 why[256];
	int			 fd;

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
		break;
	case F_CONN_NEW:
		fd = msg->fd;
		msg->fd = -1;	/* conn_new closes it, whatever happens */
		conn_new(msg->hdr.peerid, fd);
		break;
	case F_CONN_CLOSED:
		conn_closed(c);
		break;
	case F_REQUEST:
		memcpy(&req, msg->data, sizeof(req));
		c->busy = 1;
		dispatch_request(c, &req);
		break;
	case F_LOG_ACK:
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
	struct conn_auth *a;
#ifdef SO_PEERCRED
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);
#endif
	uid_t		 uid;
	gid_t		 gid, *groups = NULL;
	size_t		 ngroups = 0;
	pid_t		 pid = 0;

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
	/* Without its groups the client is judged by its uid and gid. */
	if (peer_groups(fd, uid, &groups, &ngroups) == -1)
		log_warn("connection %u: supplementary groups of uid %ld",
		    id, (long)uid);
	close(fd);
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_warn("calloc");
		free(groups);
		return (0);	/* requests on it will look like violations */
	}
	a->c.id = id;
	a->c.serial = ++sup->conn_serial;
	a->c.uid = uid;
	a->c.gid = gid;
	a->c.pid = pid;
	a->groups = groups;
	a->ngroups = ngroups;
	LIST_INSERT_HEAD(&sup->conns[id % CONN_BUCKETS], &a->c, entry);
	log_debug("connection %u: uid %ld gid %ld pid %ld, %zu groups", id,
	    (long)uid, (long)gid, (long)pid, ngroups);
	return (0);
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
	int		 n;
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
	(void)fd;
#endif
	if ((pw = getpwuid(uid)) == NULL)
		return (0);	/* no user entry: no supplementary groups */
	if ((max = sysconf(_SC_NGROUPS_MAX)) <= 0 || max > PEER_GROUPS_MAX)
		max = PEER_GROUPS_MAX;
	n = (int)max + 1;	/* the primary group comes on top */
	if ((g = reallocarray(NULL, n, sizeof(*g))) == NULL)
		return (-1);
	/* On -1, n is how many there are: keep those that fitted. */
	if (getgrouplist(pw->pw_name, pw->pw_gid, g, &n) == -1 ||
	    n > (int)max + 1)
		n = (int)max + 1;
	*groupsp = g;
	*ngroupsp = n < 0 ? 0 : (size_t)n;
	return (0);
}

static void
conn_closed(struct sup_conn *c)
{
	struct conn_auth	*a = (struct conn_auth *)c;
	struct conn_ref		 ref = { c->id, c->serial };

	LIST_REMOVE(c, entry);
	if (c->following)
		runner_conn_closed(ref);
	free(a->groups);
	free(a);
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

/* ---- authorization ---- */

static int
conn_is_admin(const struct conn_auth *a)
{
	const struct daemon_config	*dc = &sup->conf->daemon;
	size_t				 i;

	if (a->c.uid == 0 || a->c.uid == geteuid())
		return (1);
	if (dc->admin_group == NULL)
		return (0);
	if (a->c.gid == dc->admin_gid)
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

	return (runner_proc_owner(name, &owner) == 0 && owner == a->c.uid);
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
	const char	*what = apm2_req_type_name(type);

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
		    "run as uid %ld", name, (long)a->c.uid);
		return (-1);
	default:
		snprintf(why, len, "Permission denied: %s is for "
		    "administrators", what);
		return (-1);
	}
}

static int
req_changes_state(uint32_t type)
{
	switch (type) {
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

/* A list entry for a client who may not manage that process: no details. */
static void
list_entry_filter(const struct conn_auth *a, struct s_summary *s)
{
	char	name[PROTO_NAME_MAX];

	if (conn_is_admin(a))
		return;
	memcpy(name, s->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	if (conn_owns(a, name))
		return;
	s->flags &= ~(uint32_t)(P_HAS_CPU | P_HAS_MEM | P_HAS_UPTIME |
	    P_HAS_PID);
	s->cpu_percent = 0;
	s->memory_bytes = 0;
	s->uptime_secs = 0;
}

static void
dispatch_request(struct sup_conn *c, const struct f_request *req)
{
	struct conn_auth *a = (struct conn_auth *)c;
	struct conn_ref	 ref = { c->id, c->serial };
	struct s_status	 st;
	char		 why[PROTO_MSG_MAX];
	const char	*name = (req->flags & F_REQ_HAS_NAME) ? req->name :
			    NULL;
	const char	*what = apm2_req_type_name(req->type);

	if (authorize(a, req->type, name, why, sizeof(why)) == -1) {
		log_warnx("denied %s%s%s to uid %ld gid %ld pid %ld", what,
		    name != NULL ? " " : "", name != NULL ? name : "",
		    (long)c->uid, (long)c->gid, (long)c->pid);
		reply_error(ref, ERR_PERMISSION_DENIED, "%s", why);
		return;
	}
	if (req_changes_state(req->type))
		log_info("%s%s%s requested by uid %ld pid %ld", what,
		    name != NULL ? " " : "", name != NULL ? name : "",
		    (long)c->uid, (long)c->pid);

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
	struct sup_conn		*c;
	struct s_summary	 s;

	if ((c = conn_lookup(ref)) == NULL)
		return;
	if (type == S_LIST_ENTRY && len == sizeof(s)) {
		memcpy(&s, data, sizeof(s));
		list_entry_filter((struct conn_auth *)c, &s);
		data = &s;
	}
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
