/*
 * libFuzzer harness for the supervisor's side of the channel: what a
 * taken-over frontend can send.  The input is written into one end of a
 * socketpair and read through chan_read()/chan_get() on the other, and
 * every message goes through the validator msg_check() and then the real
 * dispatch_frontend() with its connection table and authorization
 * (supervisor/dispatch.c is compiled into this file).  The runner and the
 * frontend process are stand-ins here that check what reaches them.
 *
 * Input: chunks, each led by a control byte c: ((c >> 2) + 1) * 8 bytes
 * (fewer at the end), sent with a connected socket when c & 3 == 1 (the
 * way the frontend passes a client), with a descriptor that is no socket
 * when c & 3 == 2, with none otherwise.  The stream is fed until the
 * supervisor would drop the frontend (a violation) or the input ends.
 *
 * Every client the supervisor accepts gets, after conn_new() read our
 * own credentials, one of four identities chosen by its connection id:
 * root, the owner of process "mine", the owner of "theirs", and a member
 * of the admin group (supplementary group).  Checked on every input:
 *  - nothing crashes, nothing leaks (ASan/LSan), no descriptor stays open;
 *  - a message msg_check() refuses drops the frontend and is not acted
 *    on; one it accepts is acted on (only F_CONN_NEW with a descriptor
 *    that is no socket may still be refused, by conn_new());
 *  - every request gets permission_denied exactly when the policy (an
 *    independent oracle here) says so, and the runner is only ever
 *    called for an allowed request;
 *  - a list entry of a process the client may not manage has no cpu,
 *    memory or uptime.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/dispatch.c"

#define FUZZ_FDSCAN	256	/* descriptors checked for leaks */
#define UID_MINE	4001
#define UID_THEIRS	4002
#define UID_ADMIN	4003
#define GID_BASE	4100

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check(int);
static int	open_fds(void);
static void	setup(void);
static void	identity(uint32_t);
static int	oracle_admin(const struct sup_conn *);
static int	oracle_owner(uid_t, const char *);
static int	oracle_allowed(const struct sup_conn *, const struct f_request *);
static void	runner_called(struct conn_ref, const char *);
static int	drain(struct chan *);
static int	send_chunk(int, struct chan *, const uint8_t *, size_t, int);

static char			**fuzz_argv;
static struct supervisor	 S;
static struct config		*conf;
static gid_t			 admin_gid;
static int			 nullfd = -1;
static int			 lost;
static int			 in_request;	/* a request being dispatched */
static int			 replied;	/* it was answered */
static int			 want_denied;	/* and must be refused */

struct supervisor		*sup;

static void
check(int ok)
{
	if (!ok)
		abort();
}

static int
open_fds(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < FUZZ_FDSCAN; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return (n);
}

/*
 * Every refusal is logged on stderr (log.c), millions of lines in a run.
 * Unless told otherwise, add -close_fd_mask=2: libFuzzer then keeps its
 * own messages and the sanitizer reports on a copy of stderr, and only
 * the log lines go to /dev/null.  FUZZ_DISPATCH_LOG=1 keeps them.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	i;

	if (getenv("FUZZ_DISPATCH_LOG") != NULL)
		return (0);
	for (i = 1; i < *argc; i++)
		if (strncmp((*argv)[i], "-close_fd_mask=", 15) == 0)
			return (0);
	if ((fuzz_argv = reallocarray(NULL, *argc + 2, sizeof(char *))) ==
	    NULL)
		abort();
	for (i = 0; i < *argc; i++)
		fuzz_argv[i] = (*argv)[i];
	fuzz_argv[i++] = (char *)"-close_fd_mask=2";
	fuzz_argv[i] = NULL;
	*argc = i;
	*argv = fuzz_argv;
	return (0);
}

static void
setup(void)
{
	struct config_errors	 errs;
	struct group		*gr;
	char			 text[1024];

	/* Any group that exists will do as the admin group. */
	if ((gr = getgrgid(0)) == NULL)
		abort();
	admin_gid = gr->gr_gid;
	snprintf(text, sizeof(text),
	    "[daemon]\nadmin_group = \"%s\"\n"
	    "[[processes]]\nname = \"mine\"\ncommand = \"true\"\n"
	    "[[processes]]\nname = \"theirs\"\ncommand = \"true\"\n"
	    "[[processes]]\nname = \"daemons\"\ncommand = \"true\"\n",
	    gr->gr_name);
	if ((conf = config_parse_buf("fuzz.toml", text, strlen(text),
	    &errs)) == NULL)
		abort();
	config_errors_free(&errs);
	check(geteuid() != UID_MINE && geteuid() != UID_THEIRS &&
	    geteuid() != UID_ADMIN);
	if ((nullfd = open("/dev/null", O_RDONLY)) == -1)
		abort();
	log_init(1, 0);
	log_setverbose(0);
}

/* Give connection id its test identity instead of ours. */
static void
identity(uint32_t id)
{
	struct sup_conn		*c;
	struct conn_auth	*a;

	if ((c = conn_get(id)) == NULL)
		return;
	a = (struct conn_auth *)c;
	free(a->groups);
	a->groups = NULL;
	a->ngroups = 0;
	switch (id & 3) {
	case 0:
		c->uid = 0;
		c->gid = GID_BASE;
		break;
	case 1:
		c->uid = UID_MINE;
		c->gid = GID_BASE + 1;
		break;
	case 2:
		c->uid = UID_THEIRS;
		c->gid = GID_BASE + 2;
		break;
	case 3:
		c->uid = UID_ADMIN;
		c->gid = GID_BASE + 3;
		if ((a->groups = malloc(2 * sizeof(gid_t))) == NULL)
			abort();
		a->groups[0] = GID_BASE + 3;
		a->groups[1] = admin_gid;
		a->ngroups = 2;
		break;
	}
}

static int
oracle_admin(const struct sup_conn *c)
{
	return (c->uid == 0 || c->uid == UID_ADMIN || c->uid == geteuid());
}

static int
oracle_owner(uid_t uid, const char *name)
{
	return ((strcmp(name, "mine") == 0 && uid == UID_MINE) ||
	    (strcmp(name, "theirs") == 0 && uid == UID_THEIRS));
}

static int
oracle_allowed(const struct sup_conn *c, const struct f_request *r)
{
	if (oracle_admin(c))
		return (1);
	switch (r->type) {
	case REQ_PING:
	case REQ_STATUS:
	case REQ_LIST_PROCESSES:
		return (1);
	case REQ_GET_PROCESS:
	case REQ_START_PROCESS:
	case REQ_STOP_PROCESS:
	case REQ_RESTART_PROCESS:
	case REQ_RELOAD_PROCESS:
	case REQ_TAIL_LOGS:
		if ((r->flags & F_REQ_HAS_NAME) == 0)
			return (0);
		return (oracle_owner(c->uid, r->name) ||
		    (strcmp(r->name, "mine") != 0 &&
		    strcmp(r->name, "theirs") != 0 &&
		    strcmp(r->name, "daemons") != 0));
	}
	return (0);
}

/* ---- what dispatch.c calls ---- */

void
frontend_send(uint32_t type, uint32_t peerid, const void *data, size_t len)
{
	const struct s_summary	*s;
	const struct s_error	*e;
	struct sup_conn		*c;

	check(!lost);
	c = conn_get(peerid);
	check(c != NULL);
	if (type == S_ERROR) {
		check(len == sizeof(*e));
		e = data;
		check(e->code < ERR__COUNT);
		check((e->code == ERR_PERMISSION_DENIED) ==
		    (in_request && !replied && want_denied));
	} else
		check(!in_request || replied || !want_denied);
	if (type == S_LIST_ENTRY) {
		check(len == sizeof(*s));
		s = data;
		if (!oracle_admin(c) && !oracle_owner(c->uid, s->name))
			check((s->flags & (P_HAS_CPU | P_HAS_MEM |
			    P_HAS_UPTIME)) == 0 && s->cpu_percent == 0 &&
			    s->memory_bytes == 0 && s->uptime_secs == 0);
	}
	if (in_request)
		replied = 1;
}

void
frontend_lost(const char *fmt, ...)
{
	(void)fmt;
	check(!lost);
	lost = 1;
	conn_drop_all();
}

void
sup_shutdown(const char *why)
{
	(void)why;
	check(in_request && !want_denied);
}

uint64_t
sup_uptime_secs(void)
{
	return (0);
}

void
daemon_ready(int fd, const char *msg)
{
	(void)fd;
	(void)msg;
	abort();	/* readyfd is -1 */
}

/* The runner may only be reached by an allowed request. */
static void
runner_called(struct conn_ref ref, const char *name)
{
	check(in_request && !want_denied && !replied);
	check(conn_lookup(ref) != NULL);
	check(name == NULL || strlen(name) < PROTO_NAME_MAX);
}

int
runner_proc_owner(const char *name, uid_t *uid)
{
	if (strcmp(name, "mine") == 0)
		*uid = UID_MINE;
	else if (strcmp(name, "theirs") == 0)
		*uid = UID_THEIRS;
	else
		return (-1);
	return (0);
}

uint32_t
runner_running_count(void)
{
	return (3);
}

void
runner_req_list(struct conn_ref ref)
{
	static const char *const names[] = { "mine", "theirs", "daemons" };
	struct s_summary	s;
	size_t			i;

	runner_called(ref, NULL);
	for (i = 0; i < 3; i++) {
		memset(&s, 0, sizeof(s));
		strlcpy(s.name, names[i], sizeof(s.name));
		s.status.kind = ST_RUNNING;
		s.instances = s.running = 1;
		s.flags = P_HAS_CPU | P_HAS_MEM | P_HAS_UPTIME;
		s.cpu_percent = 1.5f;
		s.memory_bytes = 4096;
		s.uptime_secs = 7;
		reply_send(ref, S_LIST_ENTRY, &s, sizeof(s));
	}
	reply_send(ref, S_LIST_END, NULL, 0);
}

void
runner_req_get(struct conn_ref ref, const char *name)
{
	runner_called(ref, name);
	reply_ok_null(ref);
}

void
runner_req_start(struct conn_ref ref, const char *name)
{
	runner_called(ref, name);
	reply_ok(ref, "started %s", name);
}

void
runner_req_stop(struct conn_ref ref, const char *name)
{
	runner_called(ref, name);
	reply_ok(ref, "stopped %s", name);
}

void
runner_req_restart(struct conn_ref ref, const char *name)
{
	runner_called(ref, name);
	reply_ok(ref, "restarted %s", name);
}

void
runner_req_reload(struct conn_ref ref, const char *name)
{
	runner_called(ref, name);
	reply_ok(ref, "reloaded %s", name);
}

void
runner_req_tail(struct conn_ref ref, const char *name, uint32_t lines,
    int follow)
{
	struct s_logend	e;

	(void)lines;
	runner_called(ref, name);
	memset(&e, 0, sizeof(e));
	e.follow = follow != 0;
	reply_send(ref, S_LOG_END, &e, sizeof(e));
}

void
runner_log_ack(struct conn_ref ref)
{
	struct sup_conn	*c;

	check((c = conn_lookup(ref)) != NULL && c->following);
}

/* Called as the connection goes: it is no longer in the table. */
void
runner_conn_closed(struct conn_ref ref)
{
	check(conn_lookup(ref) == NULL);
}

/* ---- feeding ---- */

/* Read and dispatch until the socket is empty; -1 once the frontend
 * would be dropped (violation, bad stream, EOF). */
static int
drain(struct chan *c)
{
	struct chan_msg		 m;
	struct f_request	 req;
	struct sup_conn		*conn;
	char			 why[256];
	ssize_t			 r, g;
	int			 ok, wasready;

	for (;;) {
		r = chan_read(c);
		if (r == -1 && errno != EAGAIN)
			return (-1);
		while ((g = chan_get(c, &m)) > 0) {
			conn = m.hdr.peerid != 0 ? conn_get(m.hdr.peerid) :
			    NULL;
			ok = msg_check(&m, conn, S.fe_ready, why,
			    sizeof(why)) == 0;
			check(ok || why[0] != '\0');
			in_request = replied = want_denied = 0;
			if (ok && m.hdr.type == F_REQUEST) {
				memcpy(&req, m.data, sizeof(req));
				in_request = 1;
				want_denied = !oracle_allowed(conn, &req);
			}
			wasready = S.fe_ready;
			dispatch_frontend(&m);
			if (ok && m.hdr.type == F_CONN_NEW)
				identity(m.hdr.peerid);
			/* Refused: dropped.  Accepted: acted on. */
			check(ok != lost || m.hdr.type == F_CONN_NEW);
			if (ok && m.hdr.type == F_READY)
				check(!wasready && S.fe_ready);
			if (ok && in_request)
				check(replied);
			in_request = 0;
			chan_msg_free(&m);
			if (lost)
				return (-1);
		}
		if (g == -1)
			return (-1);
		if (r == 0 || c->eof)
			return (-1);
		if (r == -1)
			return (0);
	}
}

static int
send_chunk(int s, struct chan *c, const uint8_t *p, size_t n, int kind)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	int		 sp[2] = { -1, -1 }, fd = -1;
	ssize_t		 w;

	if (kind == 1) {
		/* A client: one end of a connected pair. */
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
			abort();
		fd = sp[0];
	} else if (kind == 2)
		fd = nullfd;
	while (n > 0) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (void *)(uintptr_t)p;
		iov.iov_len = n;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (fd != -1) {
			memset(&cbuf, 0, sizeof(cbuf));
			msg.msg_control = cbuf.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int));
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		}
		w = sendmsg(s, &msg, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || drain(c) == -1)
				break;
			continue;
		}
		p += w;
		n -= (size_t)w;
		fd = -1;	/* sent with the first byte */
	}
	if (sp[0] != -1) {
		close(sp[0]);
		close(sp[1]);
	}
	return (n == 0 ? 0 : -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan	 c;
	size_t		 off = 0, n;
	int		 sv[2], before, ctl, failed = 0;

	if (conf == NULL)
		setup();
	memset(&S, 0, sizeof(S));
	S.conf = conf;
	S.readyfd = S.listenfd = S.pidfd = -1;
	S.fe_up = 1;
	sup = &S;
	lost = 0;

	before = open_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	chan_init(&c, sv[1], PROTO_CHAN_MAX);

	while (off < size && !failed) {
		ctl = data[off++];
		n = ((size_t)(ctl >> 2) + 1) * 8;
		if (n > size - off)
			n = size - off;
		if (n == 0)
			break;
		if (send_chunk(sv[0], &c, data + off, n, ctl & 3) == -1 ||
		    drain(&c) == -1)
			failed = 1;
		off += n;
	}
	close(sv[0]);
	while (!failed)
		if (drain(&c) == -1)
			failed = 1;
	chan_clear(&c);
	close(sv[1]);
	conn_drop_all();
	if (open_fds() != before)
		abort();
	return (0);
}
