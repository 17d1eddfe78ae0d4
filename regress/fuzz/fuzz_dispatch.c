/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the supervisor's side of the channel: what a
 * taken-over frontend can send, and the clients it is handed.  The
 * supervisor's connection table, validator and authorization
 * (supervisor/dispatch.c) are compiled into this file; the frontend, the
 * runner, the reload (reload.c) and the rest of the supervisor
 * (supervisor.c) are stand-ins here that check what reaches them.
 *
 * Input: one byte q ([daemon] max_connections_per_user is q + 1), then
 * operations, each led by a control byte c:
 *
 *  c & 3 == 0	the frontend writes the next ((c >> 2) + 1) * 8 bytes
 *		(fewer at the end) to its channel;
 *  c & 3 == 1	the same with ((c >> 4) + 1) * 8 bytes and a descriptor on
 *		the first byte: a connected socket if c & 8 is clear,
 *		/dev/null if it is set;
 *  c & 3 == 2	1 << ((c >> 2) & 7) clients connect, all with the identity
 *		the next byte chooses (below).  While the supervisor accepts
 *		(sup->accepting, as the real control_update() sets it: a
 *		ready frontend, no shutdown under way), each is accepted the
 *		way control_accept() does it, by conn_new() on one end of a
 *		fresh socketpair; the client holds the other end.  At most
 *		FUZZ_MAXCLIENTS clients an input;
 *  c & 3 == 3	by (c >> 2) & 7: 0 or 5, a heartbeat period passes (a new
 *		S_HEARTBEAT if the last one was answered, else one more
 *		missed: FRONTEND_HB_TIMEOUT_MS / FRONTEND_HB_INTERVAL_MS of
 *		those and the frontend is lost); 1 or 6, the frontend reads
 *		its channel empty (if c & 0x20, in the same event as what it
 *		writes next: like fe_event(), the supervisor then reads and
 *		dispatches before it serves deferred requests); 2 or 7,
 *		replies fill the channel to FRONTEND_WQ_HIGH - (c >> 5) * 128
 *		bytes (a list then may stop after its first part and wait);
 *		3, the frontend dies; 4, it closes its channel.
 *
 * What the frontend writes is read and dispatched as fe_event() does it:
 * every message through the real dispatch_frontend(), then
 * dispatch_deferred().  The channel's write queue is simulated (dispatch.c
 * calls a stand-in for chan_wqbytes()): every message to the frontend adds
 * its size, and only the frontend reading empties it.  A lost frontend
 * (violation, malformed stream, EOF, death, no heartbeat) is handled as
 * supervisor.c does: its connections dropped, the unacknowledged ones kept
 * as orphans, what it still wrote read by conn_orphans_drain() once its end
 * is closed, and a new frontend started that gets the rest of the input
 * and, when it sends F_READY, the orphans.  No new frontend once a
 * shutdown was requested, nor after FUZZ_MAXSPAWNS of them.
 *
 * Identity byte b.  b & 7: the kernel's own answer (our uid, an
 * administrator); root; the owner of process "mine"; the owner of
 * "theirs"; another uid in [daemon] admin_group by a supplementary group
 * (the last one); another uid with admin_group as its primary group;
 * another uid; another uid on a kernel without SO_PEERGROUPS (none of the
 * other uids is in the user database, so it has no groups).  (b >> 3) & 3
 * gives 2, 64, PEER_GROUPS_MAX + 1 (too many: judged without them) or no
 * supplementary groups, b >> 5 one of 8 other uids.  dispatch.c calls a
 * stand-in for getsockopt(2) that answers SO_PEERCRED (after the kernel
 * did) and SO_PEERGROUPS (as the kernel does, ERANGE and all) with that
 * identity, found by the socket's inode: an orphan is the same client to
 * the next frontend.
 *
 * Checked on every input:
 *  - nothing crashes, nothing leaks (ASan/LSan), no descriptor stays open;
 *  - msg_check() accepts exactly what an independent model of the
 *    protocol accepts, and never a message with a descriptor;
 *  - a message msg_check() refuses drops the frontend and nothing of it is
 *    acted on; one it accepts is acted on.  F_READY: ready, every orphan
 *    admitted or refused; F_CONN_CLOSED: gone, our copy of its socket
 *    closed; F_CONN_ACK: our copy closed; F_REQUEST: answered, or deferred
 *    exactly when the queue is at FRONTEND_WQ_HIGH or other requests wait,
 *    then served in arrival order and only while the queue is below
 *    FRONTEND_WQ_HIGH; F_HEARTBEAT: acknowledged; F_LOG_ACK: passed to the
 *    runner.  An F_HEARTBEAT with any number but the outstanding one is
 *    the one accepted message that is still a violation, and it is not
 *    acted on either;
 *  - every request gets permission_denied exactly when the policy (an
 *    independent oracle here) says so, and the runner is only ever called
 *    for an allowed request, with what it asked (reload_config: its
 *    dry_run, a flag no other request may carry);
 *  - a message longer than S_OK and S_ERROR hold goes whole, up to
 *    PROTO_LONGMSG_MAX, in S_OK_TEXT or S_ERROR_TEXT, and a shorter one
 *    in S_OK or S_ERROR as before;
 *  - list_processes reaches the runner with the client's uid and whether
 *    it is an administrator, which decide that an entry of a process the
 *    client may not manage has no cpu, memory, uptime or pid; a list the
 *    channel cannot take whole goes on from the deferred queue, in its
 *    turn and only below FRONTEND_WQ_HIGH; every batch is a whole number
 *    of entries, at most PROTO_LIST_BATCH;
 *  - the connection table matches a model of it and never holds more than
 *    FRONTEND_MAX_CONNS; a client is admitted exactly when the limits
 *    allow (the total; the last CONN_ADMIN_RESERVED slots for
 *    administrators; max_connections_per_user per uid, root and our own
 *    uid exempt), so no non-administrator ever holds one of the reserved
 *    slots; a refused client reads one permission_denied frame, then EOF;
 *    an admitted one's socket goes to the frontend with S_CONN_NEW (its
 *    flags right), and our copy of it, close-on-exec, stays until
 *    F_CONN_ACK; a lost frontend leaves exactly its unacknowledged
 *    clients as orphans.
 * And no orphan the lost frontend acknowledged, even after its last
 * message the supervisor took (after a violation, say), is handed to the
 * next frontend (seed orphans-acked-after-violation).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "chan.h"
#include "codec.h"		/* the refusal a client reads */

/*
 * Two calls in dispatch.c go to the stand-ins below: getsockopt() (who
 * the client is) and chan_wqbytes() (the queue to the frontend).
 */
#define getsockopt	fuzz_getsockopt
#define chan_wqbytes	fuzz_wqbytes
int	fuzz_getsockopt(int, int, int, void *, socklen_t *);
size_t	fuzz_wqbytes(const struct chan *);

#include "supervisor/dispatch.c"

#undef getsockopt
#undef chan_wqbytes

#define FUZZ_FDSCAN	256	/* without /proc: descriptors checked */
#define FUZZ_FDMARGIN	64	/* above the highest one seen */
#define FUZZ_MAXCLIENTS	1024	/* clients connecting per input */
#define FUZZ_MAXSPAWNS	4	/* frontends per input */
#define UID_MINE	4001
#define UID_THEIRS	4002
#define UID_OTHER	1900000000	/* to + 7: users that do not exist */
#define GID_BASE	4100
#define HB_MISSED_MAX	(FRONTEND_HB_TIMEOUT_MS / FRONTEND_HB_INTERVAL_MS)
#define FUZZ_STREAM_MAX	65536	/* what one frontend writes, kept */

/* The harness's own bookkeeping: no coverage feedback, no overhead. */
#ifdef __clang__
#define NOCOV	__attribute__((__no_sanitize__("coverage")))
#else
#define NOCOV
#endif

#ifdef SO_PEERGROUPS
#define HAVE_PEERGROUPS	1
#else
#define HAVE_PEERGROUPS	0
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A client's identity, as the stand-in getsockopt() reports it. */
struct ident {
	dev_t		 dev;	/* of the socket conn_new() gets */
	ino_t		 ino;
	int		 real;	/* the kernel's answer, unchanged */
	int		 nogroups;	/* no SO_PEERGROUPS: ENOPROTOOPT */
	uid_t		 uid;
	gid_t		 gid;
	size_t		 ngroups;
	int		 admingroup;	/* admin_gid is the last group */
	int		 admin;	/* the oracle's verdict */
};

/* The model of a connection, by slot. */
enum { R_NONE, R_DEFERRED, R_ACTIVE, R_FOLLOWING };

struct fconn {
	uint32_t	 id;		/* 0: slot free */
	uint64_t	 serial;
	uid_t		 uid;
	gid_t		 gid;
	int		 admin;
	int		 acked;		/* F_CONN_ACK acted on */
	int		 req;		/* R_* */
	int		 want_denied;	/* it must be refused */
	int		 replied;	/* the request got something */
	int		 logacks;	/* runner_log_ack() calls */
	int		 closes;	/* runner_conn_closed() calls */
	uint32_t	 rqtype;	/* the request */
	uint32_t	 rqflags;
	uint32_t	 rqlines;
	char		 rqname[PROTO_NAME_MAX];
	size_t		 moff;		/* get_metrics text seen */
};

/* What a message that is refused may not change. */
struct snap {
	int		 active;
	int		 fe_ready;
	uint64_t	 hb_acked;
	uint32_t	 nconns;
	struct sup_conn	*c;
	int		 c_fd, c_busy, c_following, c_deferred;
	uint64_t	 events;
};

static void	check(int);
static void	seen(int);
static void	setup(void);
static void	ident_make(struct ident *, uint8_t);
static struct ident *ident_find(int);
static void	adm_begin(int, const struct ident *);
static void	adm_finish(void);
static int	oracle_admit(const struct ident *);
static int	oracle_owner(uid_t, const char *);
static int	oracle_allowed(const struct fconn *,
		    const struct f_request *);
static int	oracle_msg(const struct chan_msg *, const struct fconn *);
static int	has_nul(const char *, size_t);
static struct fconn *model_get(uint32_t);
static void	model_del(struct fconn *);
static void	fifo_remove(uint32_t);
static void	serve(struct fconn *);
static void	reply(uint32_t, uint32_t, const void *, size_t);
static void	runner_called(struct conn_ref, uint32_t, const char *);
static void	check_table(void);
static void	snap_take(struct sup_conn *);
static void	snap_same(void);
static void	one(struct chan_msg *);
static int	drain(void);
static void	batch_end(void);
static void	send_chunk(const uint8_t *, size_t, int);
static void	client(uint8_t);
static void	refused_read(int);
static int	housekeeping(uint8_t);
static void	spawn(void);
static size_t	tail_acks(uint32_t *, size_t);
static void	reap(void);

static char			 mtext[2 * PROTO_LONGMSG_MAX + 640];	/* get_metrics */
static struct supervisor	 S;
static struct config		*conf;
static gid_t			 admin_gid;
static uid_t			 self;		/* geteuid(), once */
static int			 nullfd = -1;
static int			 listensp[2] = { -1, -1 };
static int			 fefd = -1;	/* the frontend's end */
static int			 accepting_fd = -1;	/* in client() */
static int			 lost;		/* not reaped yet */
static int			 hb_missed;
static unsigned int		 nspawns;	/* frontends this input */
static size_t			 wq;		/* bytes queued */
static int			 in_deferred;
static int			 hiwater;	/* highest descriptor seen */
static int			 scan_hi = FUZZ_FDSCAN;
static uint64_t			 last_serial;
static uint64_t			 events;	/* replies etc. */
static struct snap		 cur;
static uint32_t			 nrefused;	/* this input */

/* The frontend's stream, and how much of it became messages. */
static uint8_t			 stream[FUZZ_STREAM_MAX];
static size_t			 streamlen;
static int			 streamfull;
static size_t			 consumed;

static struct ident		 idents[FUZZ_MAXCLIENTS];
static size_t			 nidents;
static struct fconn		 fc[CONN_SLOTS];
static uint32_t			 nfc;
static uint32_t			 fifo[CONN_SLOTS];	/* deferred */
static size_t			 nfifo;

static struct {			/* the conn_new() under way */
	int			 active;
	int			 fd;
	const struct ident	*id;
	int			 verdict;	/* the oracle: admitted */
	int			 admitted;	/* S_CONN_NEW came */
} adm;

static struct {			/* the last reply, for sup_shutdown() */
	uint32_t		 type;
	size_t			 textlen;	/* S_*_TEXT's, S_ERROR's */
	uint32_t		 rqtype;
	int			 denied;
} last;

struct supervisor		*sup;

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
seen(int fd)
{
	if (fd > hiwater)
		hiwater = fd;
}

/* Refusals logged on stderr go to /dev/null (unless FUZZ_DISPATCH_LOG). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_stderr(argc, argv, "FUZZ_DISPATCH_LOG");
	return (0);
}

static void
setup(void)
{
	struct config_errors	 errs;
	struct group		*gr;
	char			 text[1024];
	uid_t			 u;

	/* Any group that exists will do as the admin group. */
	if ((gr = getgrgid(0)) == NULL)
		abort();
	admin_gid = gr->gr_gid;
	self = geteuid();
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
	check(conf->daemon.admin_gid == admin_gid);
	check(self != UID_MINE && self != UID_THEIRS);
	for (u = UID_OTHER; u < UID_OTHER + 8; u++) {
		if (self == u || getpwuid(u) != NULL) {
			fprintf(stderr, "fuzz_dispatch: uid %lu exists\n",
			    (unsigned long)u);
			abort();
		}
	}
	if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	/* The listening socket: never readable, only (un)watched. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, listensp) == -1)
		abort();
	event_init();
	log_init(1, 0);
	log_setverbose(0);
}

/* ---- identities ---- */

static void
ident_make(struct ident *id, uint8_t b)
{
	static const size_t	ngroups[4] = {
		2, 64, PEER_GROUPS_MAX + 1, 0
	};
	uid_t			other = UID_OTHER + (b >> 5);

	memset(id, 0, sizeof(*id));
	id->ngroups = ngroups[(b >> 3) & 3];
	switch (b & 7) {
	case 0:
		id->real = 1;
		id->uid = self;
		id->gid = getegid();
		break;
	case 1:
		id->uid = 0;
		id->gid = GID_BASE;
		break;
	case 2:
		id->uid = UID_MINE;
		id->gid = GID_BASE + 1;
		break;
	case 3:
		id->uid = UID_THEIRS;
		id->gid = GID_BASE + 2;
		break;
	case 4:
		id->uid = other;
		id->gid = GID_BASE + 3;
		id->admingroup = 1;
		break;
	case 5:
		id->uid = other;
		id->gid = admin_gid;
		break;
	case 6:
		id->uid = other;
		id->gid = GID_BASE + 4;
		break;
	case 7:
		id->uid = other;
		id->gid = GID_BASE + 5;
		id->nogroups = 1;
		id->ngroups = 0;
		break;
	}
	id->admin = id->uid == 0 || id->uid == self ||
	    id->gid == admin_gid || (HAVE_PEERGROUPS && id->admingroup &&
	    id->ngroups >= 1 && id->ngroups <= PEER_GROUPS_MAX);
}

/*
 * The identity of the client on socket fd: the one being accepted, or
 * (an orphan) found by inode, newest first (inodes are reused).
 */
NOCOV static struct ident *
ident_find(int fd)
{
	struct stat	st;
	size_t		i;

	if (fd == accepting_fd)
		return (&idents[nidents - 1]);
	check(fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode));
	for (i = nidents; i > 0; i--)
		if (idents[i - 1].ino == st.st_ino &&
		    idents[i - 1].dev == st.st_dev)
			return (&idents[i - 1]);
	abort();	/* a socket no client of ours connected */
}

/* dispatch.c asks who the client is. */
int
fuzz_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct ident	*id;
	struct ucred	*uc;
#ifdef SO_PEERGROUPS
	gid_t		*g;
	socklen_t	 need;
	size_t		 i;
#endif

	if (level != SOL_SOCKET)
		return (getsockopt(fd, level, name, val, len));
	if (name == SO_PEERCRED) {
		/* conn_new() starts with this: one client, one verdict. */
		id = ident_find(fd);
		adm_begin(fd, id);
		if (getsockopt(fd, level, name, val, len) == -1)
			return (-1);
		check(*len == sizeof(*uc));
		uc = val;
		check(uc->uid == self);
		if (!id->real) {
			uc->uid = id->uid;
			uc->gid = id->gid;
		}
		return (0);
	}
#ifdef SO_PEERGROUPS
	if (name == SO_PEERGROUPS) {
		id = ident_find(fd);
		if (id->real)
			return (getsockopt(fd, level, name, val, len));
		if (id->nogroups) {
			errno = ENOPROTOOPT;
			return (-1);
		}
		need = (socklen_t)(id->ngroups * sizeof(gid_t));
		if (*len < need) {
			*len = need;
			errno = ERANGE;
			return (-1);
		}
		g = val;
		for (i = 0; i < id->ngroups; i++)
			g[i] = id->admingroup && i == id->ngroups - 1 ?
			    admin_gid : (gid_t)(GID_BASE + 10 + i);
		*len = need;
		return (0);
	}
#endif
	return (getsockopt(fd, level, name, val, len));
}

/* dispatch.c asks how much waits for the frontend. */
size_t
fuzz_wqbytes(const struct chan *c)
{
	check(c == &S.fe_ce.chan);
	return (wq);
}

/* ---- oracles ---- */

static void
adm_begin(int fd, const struct ident *id)
{
	adm_finish();
	adm.active = 1;
	adm.fd = fd;
	adm.id = id;
	adm.admitted = 0;
	adm.verdict = oracle_admit(id);
}

/* The conn_new() under way is over: admitted exactly when it should be. */
static void
adm_finish(void)
{
	if (!adm.active)
		return;
	check(adm.admitted == adm.verdict);
	adm.active = 0;
}

/* May this client have a connection, with the table as it is now? */
NOCOV static int
oracle_admit(const struct ident *id)
{
	uint32_t	i, n = 0;

	if (nfc >= FRONTEND_MAX_CONNS)
		return (0);
	if (!id->admin && nfc >= FRONTEND_MAX_CONNS - CONN_ADMIN_RESERVED)
		return (0);
	if (id->uid != 0 && id->uid != self) {
		for (i = 0; i < CONN_SLOTS; i++)
			if (fc[i].id != 0 && fc[i].uid == id->uid)
				n++;
		if (n >= conf->daemon.max_conns_per_user)
			return (0);
	}
	return (1);
}

static int
oracle_owner(uid_t uid, const char *name)
{
	return ((strcmp(name, "mine") == 0 && uid == UID_MINE) ||
	    (strcmp(name, "theirs") == 0 && uid == UID_THEIRS));
}

static int
oracle_allowed(const struct fconn *f, const struct f_request *r)
{
	if (f->admin)
		return (1);
	switch (r->type) {
	case REQ_PING:
	case REQ_STATUS:
	case REQ_LIST_PROCESSES:
	case REQ_GET_METRICS:
		return (1);
	case REQ_GET_PROCESS:
	case REQ_START_PROCESS:
	case REQ_STOP_PROCESS:
	case REQ_RESTART_PROCESS:
	case REQ_RELOAD_PROCESS:
	case REQ_TAIL_LOGS:
		if ((r->flags & F_REQ_HAS_NAME) == 0)
			return (0);
		return (oracle_owner(f->uid, r->name) ||
		    (strcmp(r->name, "mine") != 0 &&
		    strcmp(r->name, "theirs") != 0 &&
		    strcmp(r->name, "daemons") != 0));
	}
	return (0);
}

NOCOV static int
has_nul(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (p[i] == '\0')
			return (1);
	return (0);
}

/* The protocol, from proto.h: may the supervisor act on this message? */
static int
oracle_msg(const struct chan_msg *m, const struct fconn *f)
{
	struct f_request	r;
	size_t			size;
	int			conn;

	switch (m->hdr.type) {
	case F_READY:
		size = 0;
		conn = 0;
		break;
	case F_CONN_CLOSED:
	case F_CONN_ACK:
		size = 0;
		conn = 1;
		break;
	case F_REQUEST:
		size = sizeof(struct f_request);
		conn = 1;
		break;
	case F_LOG_ACK:
		size = sizeof(struct f_log_ack);
		conn = 1;
		break;
	case F_HEARTBEAT:
		size = sizeof(struct heartbeat);
		conn = 0;
		break;
	default:
		return (0);
	}
	/* Never a descriptor, so never a flag. */
	if (m->datalen != size || m->fd != -1 || m->hdr.flags != 0)
		return (0);
	if (conn ? f == NULL : m->hdr.peerid != 0)
		return (0);
	switch (m->hdr.type) {
	case F_READY:
		return (!S.fe_ready);
	case F_CONN_ACK:
		return (!f->acked);
	case F_LOG_ACK:
		return (f->req == R_FOLLOWING);
	case F_REQUEST:
		memcpy(&r, m->data, sizeof(r));
		return (f->req == R_NONE && r.type < REQ__COUNT &&
		    (r.flags & ~(uint32_t)(F_REQ_HAS_NAME | F_REQ_FOLLOW |
		    F_REQ_DRY_RUN)) == 0 && (r.type == REQ_RELOAD_CONFIG ||
		    (r.flags & F_REQ_DRY_RUN) == 0) &&
		    has_nul(r.name, sizeof(r.name)));
	}
	return (1);
}

/* ---- the model of the connection table ---- */

NOCOV static struct fconn *
model_get(uint32_t id)
{
	struct fconn	*f = &fc[id & (CONN_SLOTS - 1)];

	return (id != 0 && f->id == id ? f : NULL);
}

NOCOV static void
fifo_remove(uint32_t slot)
{
	size_t	i;

	for (i = 0; i < nfifo; i++)
		if (fifo[i] == slot) {
			memmove(&fifo[i], &fifo[i + 1],
			    (nfifo - i - 1) * sizeof(fifo[0]));
			nfifo--;
			return;
		}
	abort();
}

static void
model_del(struct fconn *f)
{
	if (f->req == R_DEFERRED)
		fifo_remove(f->id & (CONN_SLOTS - 1));
	memset(f, 0, sizeof(*f));
	nfc--;
}

/* The table, the deferred queue and the model agree. */
NOCOV static void
check_table(void)
{
	struct sup_conn	*c;
	struct fconn	*f;
	uint32_t	 i, n = 0, nonadmin = 0;
	size_t		 k = 0;

	check(S.nconns <= FRONTEND_MAX_CONNS && S.nconns == nfc);
	for (i = 0; i < CONN_SLOTS; i++) {
		c = S.conns[i];
		f = &fc[i];
		check((c != NULL) == (f->id != 0));
		if (c == NULL)
			continue;
		n++;
		if (!f->admin)
			nonadmin++;
		check(f->req != R_ACTIVE);	/* every request answered */
		check(c->id == f->id && (c->id & (CONN_SLOTS - 1)) == i &&
		    c->serial == f->serial && c->auth.uid == f->uid &&
		    c->auth.gid == f->gid && c->auth.admin == f->admin);
		check(c->busy == (f->req != R_NONE));
		check(c->following == (f->req == R_FOLLOWING));
		check(c->deferred == (f->req == R_DEFERRED));
		check((c->fd == -1) == f->acked);
	}
	check(n == S.nconns);
	check(nonadmin <= FRONTEND_MAX_CONNS - CONN_ADMIN_RESERVED);
	TAILQ_FOREACH(c, &S.deferred, dentry) {
		check(k < nfifo && c == S.conns[fifo[k]]);
		k++;
	}
	check(k == nfifo);
	check(S.norphans <= FRONTEND_MAX_CONNS);
}

/* ---- what dispatch.c calls ---- */

/* A deferred request is served: the oldest one, from dispatch_deferred(). */
static void
serve(struct fconn *f)
{
	if (f->req == R_DEFERRED) {
		/* Its turn, and room for the answer. */
		check(in_deferred && wq < FRONTEND_WQ_HIGH && nfifo > 0 &&
		    fifo[0] == (f->id & (CONN_SLOTS - 1)));
		check(!S.conns[fifo[0]]->deferred);
		fifo_remove(fifo[0]);
		f->req = R_ACTIVE;
	}
	check(f->req == R_ACTIVE);
}

static void
reply(uint32_t type, uint32_t peerid, const void *data, size_t len)
{
	const struct s_summary	*s;
	const struct s_error	*e;
	const struct s_longtext	*lt;
	const struct s_logend	*le;
	struct fconn		*f;
	int			 first, owner;

	check(S.fe_up && !lost && conn_get(peerid) != NULL);
	f = model_get(peerid);
	check(f != NULL);
	serve(f);		/* the room was there before this one */
	wq += CHAN_HDRSZ + len;
	events++;
	first = !f->replied;
	if (type == S_ERROR) {
		check(len == sizeof(*e));
		e = data;
		check(e->code < ERR__COUNT);
		check((e->code == ERR_PERMISSION_DENIED) ==
		    (first && f->want_denied));
		check(has_nul(e->text, sizeof(e->text)));
		last.textlen = strlen(e->text);
	} else
		check(!f->want_denied);
	switch (type) {
	case S_LIST_ENTRY:
		check(f->rqtype == REQ_LIST_PROCESSES && len > 0 &&
		    len % sizeof(*s) == 0 &&
		    len <= PROTO_LIST_BATCH * sizeof(*s));
		for (s = data; (const char *)s < (const char *)data + len;
		    s++) {
			check(has_nul(s->name, sizeof(s->name)));
			owner = f->admin || oracle_owner(f->uid, s->name);
			if (owner)
				check(s->flags == (P_HAS_CPU | P_HAS_MEM |
				    P_HAS_UPTIME | P_HAS_PID) &&
				    s->cpu_percent == 1.5f &&
				    s->memory_bytes == 4096 &&
				    s->uptime_secs == 7);
			else
				check((s->flags & (P_HAS_CPU | P_HAS_MEM |
				    P_HAS_UPTIME | P_HAS_PID)) == 0 &&
				    s->cpu_percent == 0 &&
				    s->memory_bytes == 0 &&
				    s->uptime_secs == 0);
		}
		break;
	case S_LIST_END:
		check(f->rqtype == REQ_LIST_PROCESSES && len == 0);
		f->req = R_NONE;
		break;
	case S_STATUS:
		check((f->rqtype == REQ_PING || f->rqtype == REQ_STATUS) &&
		    len == sizeof(struct s_status));
		f->req = R_NONE;
		break;
	case S_OK:
		check(len == sizeof(struct s_text));
		f->req = R_NONE;
		break;
	case S_ERROR:
		f->req = R_NONE;
		break;
	case S_OK_TEXT:
	case S_ERROR_TEXT:
		/* Only a reload says this much: too much for S_OK, S_ERROR. */
		check(f->rqtype == REQ_RELOAD_CONFIG && len >= sizeof(*lt));
		lt = data;
		check(lt->len == len - sizeof(*lt) &&
		    lt->len >= PROTO_MSG_MAX && lt->len <= PROTO_LONGMSG_MAX &&
		    !has_nul((const char *)data + sizeof(*lt), lt->len));
		check(type == S_OK_TEXT ? lt->code == 0 :
		    lt->code < ERR__COUNT);
		last.textlen = lt->len;
		f->req = R_NONE;
		break;
	case S_METRICS_PART:
		/* Whole lines, in order, no more than one message holds. */
		check(f->rqtype == REQ_GET_METRICS && len > sizeof(*lt));
		lt = data;
		check(lt->code == 0 && lt->len == len - sizeof(*lt) &&
		    lt->len <= PROTO_LONGMSG_MAX &&
		    ((const char *)data)[len - 1] == '\n' &&
		    f->moff + lt->len <= sizeof(mtext) &&
		    memcmp((const char *)data + sizeof(*lt), mtext + f->moff,
		    lt->len) == 0);
		f->moff += lt->len;
		break;		/* more follows */
	case S_METRICS_END:
		check(f->rqtype == REQ_GET_METRICS && len == 0 &&
		    f->moff == sizeof(mtext));
		f->req = R_NONE;
		break;
	case S_LOG_END:
		check(f->rqtype == REQ_TAIL_LOGS && len == sizeof(*le));
		le = data;
		check(le->follow == ((f->rqflags & F_REQ_FOLLOW) != 0));
		f->req = le->follow ? R_FOLLOWING : R_NONE;
		break;
	default:
		abort();	/* nothing else is sent in reply */
	}
	f->replied = 1;
	last.type = type;
	last.rqtype = f->rqtype;
	last.denied = f->want_denied;
}

void
frontend_send(uint32_t type, uint32_t peerid, const void *data, size_t len)
{
	frontend_send_fd(type, peerid, -1, data, len);
}

/* Only S_CONN_NEW carries a descriptor: a client, admitted. */
void
frontend_send_fd(uint32_t type, uint32_t peerid, int fd, const void *data,
    size_t len)
{
	const struct s_conn_new	*cn = data;
	struct sup_conn		*c;
	struct fconn		*f;
	struct stat		 a, b;

	if (fd == -1) {
		reply(type, peerid, data, len);
		return;
	}
	seen(fd);
	check(S.fe_up && !lost);
	check(adm.active && !adm.admitted && fd == adm.fd);
	check(type == S_CONN_NEW && len == sizeof(*cn));
	check(cn->flags == (adm.id->admin ? S_CONN_ADMIN : 0) &&
	    cn->pad == 0);
	c = conn_get(peerid);
	check(peerid != 0 && c != NULL);
	f = &fc[peerid & (CONN_SLOTS - 1)];
	check(f->id == 0);
	/* The limits, with the table as it was before this one. */
	check(nfc < FRONTEND_MAX_CONNS);
	check(adm.id->admin || nfc < FRONTEND_MAX_CONNS - CONN_ADMIN_RESERVED);
	check(S.nconns == nfc + 1);
	check(c->auth.uid == adm.id->uid && c->auth.gid == adm.id->gid &&
	    c->auth.admin == adm.id->admin);
	check(c->serial > last_serial);
	check(!c->busy && !c->following && !c->deferred);
	/* Our copy: the same socket, not passed on to agents. */
	check(c->fd != -1 && c->fd != fd);
	seen(c->fd);
	check(fcntl(c->fd, F_GETFD) == FD_CLOEXEC);
	check(fstat(fd, &a) == 0 && fstat(c->fd, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	last_serial = c->serial;
	memset(f, 0, sizeof(*f));
	f->id = peerid;
	f->serial = c->serial;
	f->uid = adm.id->uid;
	f->gid = adm.id->gid;
	f->admin = adm.id->admin;
	nfc++;
	adm.admitted = 1;
	wq += CHAN_HDRSZ + len;
	close(fd);	/* the frontend's, and it has no use for it here */
}

/* Like supervisor.c: drop the connections, keep unacked ones as orphans. */
NOCOV void
frontend_lost(const char *fmt, ...)
{
	uint32_t	ids[CONN_SLOTS];
	int		fds[CONN_SLOTS];
	size_t		i, n = 0, before;

	if (!S.fe_up)
		return;
	check(!lost);
	if (cur.active)
		snap_same();
	for (i = 0; i < CONN_SLOTS; i++)
		if (fc[i].id != 0 && !fc[i].acked) {
			check(S.conns[i] != NULL);
			ids[n] = fc[i].id;
			fds[n++] = S.conns[i]->fd;
		}
	before = S.norphans;
	lost = 1;
	S.fe_oldchan = S.fe_ce.chan.fd;
	S.fe_up = 0;
	S.fe_ready = 0;
	conn_drop_all();
	control_update();
	check(!S.accepting && S.nconns == 0 && TAILQ_EMPTY(&S.deferred));
	check(S.norphans == before + n);
	for (i = 0; i < n; i++)
		check(S.orphans[before + i].id == ids[i] &&
		    S.orphans[before + i].fd == fds[i]);
	for (i = 0; i < CONN_SLOTS; i++) {
		check(S.conns[i] == NULL);
		if (fc[i].id != 0)
			check(fc[i].closes == (fc[i].req == R_FOLLOWING));
	}
	memset(fc, 0, sizeof(fc));
	nfc = 0;
	nfifo = 0;
}

/* Stand-in: every process stopped at once, the frontend told to exit. */
void
sup_shutdown(const char *why)
{
	check(S.fe_up && last.type == S_OK &&
	    last.rqtype == REQ_SHUTDOWN && !last.denied);
	S.shutting_down = 1;
	S.fe_exiting = 1;
	control_update();
	check(!S.accepting);
}

uint64_t
sup_uptime_secs(void)
{
	return (0);
}

void
daemon_ready(int fd, const char *msg)
{
	abort();	/* readyfd is -1 */
}

void
notify_ready(void)
{
}

/* The runner may only be reached by an allowed request, with its name. */
static void
runner_called(struct conn_ref ref, uint32_t type, const char *name)
{
	struct sup_conn	*c;
	struct fconn	*f;

	check(S.fe_up && !lost);
	c = conn_lookup(ref);
	check(c != NULL);
	f = model_get(c->id);
	check(f != NULL && f->serial == ref.serial);
	events++;
	serve(f);
	check(!f->want_denied && !f->replied && f->rqtype == type);
	if (type == REQ_LIST_PROCESSES || type == REQ_RELOAD_CONFIG)
		check(name == NULL);	/* takes none */
	else if (f->rqflags & F_REQ_HAS_NAME)
		check(name != NULL && strcmp(name, f->rqname) == 0);
	else if (type == REQ_TAIL_LOGS)
		check(name == NULL);
	else
		check(name != NULL && *name == '\0');
}

void
metrics_count_request(uint32_t type)
{
	check(type < REQ__COUNT);
}

/*
 * Lines of 64 bytes, more than two messages' worth: the reply goes out in
 * parts of whole lines, some of them after the channel drained.
 */
char *
metrics_render(int admin, uid_t uid, size_t *lenp)
{
	char	*t;
	size_t	 i;

	for (i = 0; i < sizeof(mtext); i++)
		mtext[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	if ((t = malloc(sizeof(mtext))) == NULL)
		abort();
	memcpy(t, mtext, sizeof(mtext));
	*lenp = sizeof(mtext);
	return (t);
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

/*
 * Like the runner: a batch a message (here one or two of the three
 * processes) while reply_room(), the rest later, details stripped from
 * what the viewer may not manage.  When it stops early the connection
 * must next be served from the deferred queue, behind those already in
 * it.
 */
int
runner_req_list(struct conn_ref ref, size_t *next, int admin, uid_t uid)
{
	static const char *const names[] = { "mine", "theirs", "daemons" };
	struct s_summary	 s[2];
	struct fconn		*f;
	size_t			 n;

	if (*next == 0)
		runner_called(ref, REQ_LIST_PROCESSES, NULL);
	f = model_get(ref.id);
	check(f != NULL && f->rqtype == REQ_LIST_PROCESSES && *next < 3);
	check(admin == f->admin && uid == f->uid);
	do {
		for (n = 0; n < 1 + (*next & 1) && *next < 3; n++) {
			memset(&s[n], 0, sizeof(s[n]));
			strlcpy(s[n].name, names[*next], sizeof(s[n].name));
			s[n].status.kind = ST_RUNNING;
			s[n].instances = s[n].running = 1;
			if (admin || oracle_owner(uid, names[*next])) {
				s[n].flags = P_HAS_CPU | P_HAS_MEM |
				    P_HAS_UPTIME | P_HAS_PID;
				s[n].cpu_percent = 1.5f;
				s[n].memory_bytes = 4096;
				s[n].uptime_secs = 7;
			}
			(*next)++;
		}
		reply_send(ref, S_LIST_ENTRY, s, n * sizeof(s[0]));
	} while (*next < 3 && reply_room());
	if (*next < 3) {
		check(wq >= FRONTEND_WQ_HIGH);
		f->req = R_DEFERRED;
		fifo[nfifo++] = ref.id & (CONN_SLOTS - 1);
		return (0);
	}
	reply_send(ref, S_LIST_END, NULL, 0);
	return (1);
}

void
runner_req_get(struct conn_ref ref, const char *name)
{
	runner_called(ref, REQ_GET_PROCESS, name);
	reply_ok_null(ref);
}

void
runner_req_op(struct conn_ref ref, const char *name, enum runner_op kind)
{
	static const struct {
		uint32_t	 type;
		const char	*done;
	} ops[] = {
		[RUNNER_START] = { REQ_START_PROCESS, "started" },
		[RUNNER_STOP] = { REQ_STOP_PROCESS, "stopped" },
		[RUNNER_RESTART] = { REQ_RESTART_PROCESS, "restarted" },
		[RUNNER_RELOAD] = { REQ_RELOAD_PROCESS, "reloaded" }
	};

	check((size_t)kind < sizeof(ops) / sizeof(ops[0]));
	runner_called(ref, ops[kind].type, name);
	reply_ok(ref, "%s %s", ops[kind].done, name);
}

void
runner_req_tail(struct conn_ref ref, const char *name, uint32_t lines,
    int follow)
{
	struct s_logend	e;
	struct fconn	*f;

	runner_called(ref, REQ_TAIL_LOGS, name);
	f = model_get(ref.id);
	check(lines == f->rqlines &&
	    (follow != 0) == ((f->rqflags & F_REQ_FOLLOW) != 0));
	memset(&e, 0, sizeof(e));
	e.follow = follow != 0;
	reply_send(ref, S_LOG_END, &e, sizeof(e));
}

/*
 * Like reload.c: an allowed reload_config, with its dry_run.  A dry run
 * answers with more text than there may be (cut to PROTO_LONGMSG_MAX),
 * a real one with an error of PROTO_MSG_MAX - 1 bytes (S_ERROR) or one
 * more (S_ERROR_TEXT), or one cut short by a NUL.
 */
void
reload_run(struct conn_ref ref, int dry_run)
{
	static char	 text[PROTO_LONGMSG_MAX + 64];
	struct fconn	*f;
	size_t		 n, want;
	uint32_t	 type;

	runner_called(ref, REQ_RELOAD_CONFIG, NULL);
	f = model_get(ref.id);
	check(dry_run == ((f->rqflags & F_REQ_DRY_RUN) != 0));
	memset(text, 'x', sizeof(text));
	if (dry_run) {
		reply_ok_text(ref, text, sizeof(text));
		check(last.type == S_OK_TEXT &&
		    last.textlen == PROTO_LONGMSG_MAX);
		return;
	}
	switch (ref.serial % 3) {
	case 0:		/* the most S_ERROR holds */
		n = want = PROTO_MSG_MAX - 1;
		type = S_ERROR;
		break;
	case 1:		/* one more */
		n = want = PROTO_MSG_MAX;
		type = S_ERROR_TEXT;
		break;
	default:	/* long, but a NUL ends it early */
		n = PROTO_MSG_MAX + 1;
		text[PROTO_MSG_MAX - 2] = '\0';
		want = PROTO_MSG_MAX - 2;
		type = S_ERROR;
		break;
	}
	reply_error_text(ref, ERR_NOT_SUPPORTED, text, n);
	check(last.type == type && last.textlen == want);
}

void
runner_log_ack(struct conn_ref ref)
{
	struct sup_conn	*c;
	struct fconn	*f;

	c = conn_lookup(ref);
	check(c != NULL && c->following);
	f = model_get(ref.id);
	check(f != NULL && f->req == R_FOLLOWING);
	events++;
	f->logacks++;
}

/* Called as the connection goes: it is no longer in the table. */
void
runner_conn_closed(struct conn_ref ref)
{
	struct fconn	*f;

	check(conn_lookup(ref) == NULL);
	f = model_get(ref.id);
	check(f != NULL && f->serial == ref.serial && f->req == R_FOLLOWING);
	f->closes++;
}

/* ---- one message ---- */

static void
snap_take(struct sup_conn *c)
{
	memset(&cur, 0, sizeof(cur));
	cur.active = 1;
	cur.fe_ready = S.fe_ready;
	cur.hb_acked = S.hb_acked;
	cur.nconns = S.nconns;
	cur.events = events;
	if ((cur.c = c) != NULL) {
		cur.c_fd = c->fd;
		cur.c_busy = c->busy;
		cur.c_following = c->following;
		cur.c_deferred = c->deferred;
	}
}

/* A violation: nothing of the message was acted on. */
static void
snap_same(void)
{
	check(S.fe_ready == cur.fe_ready && S.hb_acked == cur.hb_acked &&
	    S.nconns == cur.nconns && events == cur.events && !adm.active);
	if (cur.c != NULL)
		check(cur.c == conn_get(cur.c->id) && cur.c->fd == cur.c_fd &&
		    cur.c->busy == cur.c_busy &&
		    cur.c->following == cur.c_following &&
		    cur.c->deferred == cur.c_deferred);
}

static void
one(struct chan_msg *m)
{
	struct f_request	 req;
	struct heartbeat	 hb;
	struct sup_conn		*c;
	struct fconn		*f;
	char			 why[256];
	uint32_t		 type = m->hdr.type, id = m->hdr.peerid;
	int			 ok, expect_lost, oldfd = -1, wasready;

	consumed += m->hdr.len;
	if (m->fd != -1)
		seen(m->fd);
	c = id != 0 ? conn_get(id) : NULL;
	f = model_get(id);
	check((c != NULL) == (f != NULL));
	why[0] = '\0';
	ok = msg_check(m, c, S.fe_ready, why, sizeof(why)) == 0;
	check(ok == oracle_msg(m, f));
	check(ok || why[0] != '\0');
	check(m->fd == -1 || !ok);	/* a descriptor: always refused */

	expect_lost = !ok;
	memset(&hb, 0, sizeof(hb));
	if (ok && type == F_HEARTBEAT) {
		memcpy(&hb, m->data, sizeof(hb));
		expect_lost = !(S.hb_acked < S.hb_seq && hb.seq == S.hb_seq);
	}
	if (ok && type == F_REQUEST) {
		memcpy(&req, m->data, sizeof(req));
		f->rqtype = req.type;
		f->rqflags = req.flags;
		f->rqlines = req.lines;
		memcpy(f->rqname, req.name, sizeof(f->rqname));
		f->want_denied = !oracle_allowed(f, &req);
		f->replied = 0;
		f->moff = 0;
		if (nfifo > 0 || wq >= FRONTEND_WQ_HIGH) {
			f->req = R_DEFERRED;
			fifo[nfifo++] = id & (CONN_SLOTS - 1);
		} else
			f->req = R_ACTIVE;
	}
	if (c != NULL)
		oldfd = c->fd;
	wasready = S.fe_ready;
	snap_take(c);
	dispatch_frontend(m);
	cur.active = 0;
	check(lost == expect_lost);
	if (lost)
		return;

	switch (type) {
	case F_READY:
		/* Orphans handed over, each admitted or refused. */
		adm_finish();
		check(!wasready && S.fe_ready && S.norphans == 0);
		check(S.accepting == !S.fe_exiting);
		break;
	case F_CONN_CLOSED:
		check(conn_get(id) == NULL && S.nconns == nfc - 1);
		if (oldfd != -1)
			check(fcntl(oldfd, F_GETFD) == -1);
		check(f->closes == (f->req == R_FOLLOWING));
		model_del(f);
		check(S.accepting == !S.fe_exiting);
		break;
	case F_CONN_ACK:
		check(c->fd == -1 && fcntl(oldfd, F_GETFD) == -1);
		f->acked = 1;
		break;
	case F_REQUEST:
		/*
		 * Answered (it ends or follows), or waiting its turn: not
		 * begun, or a list begun whose rest waits for room.
		 */
		if (f->req == R_DEFERRED)
			check(c->deferred && c->busy &&
			    (events == cur.events ||
			    ((f->rqtype == REQ_LIST_PROCESSES ||
			    f->rqtype == REQ_GET_METRICS) && f->replied &&
			    wq >= FRONTEND_WQ_HIGH)));
		else
			check(f->replied &&
			    (f->req == R_NONE || f->req == R_FOLLOWING));
		break;
	case F_HEARTBEAT:
		check(S.hb_acked == hb.seq);
		hb_missed = 0;
		break;
	case F_LOG_ACK:
		check(f->logacks == 1);
		f->logacks = 0;
		break;
	default:
		abort();
	}
	check_table();
}

/* ---- the frontend's side ---- */

/*
 * Read and dispatch what the frontend wrote, as fe_event() does; -1 once
 * it is lost (violation, malformed stream, EOF).
 */
static int
drain(void)
{
	struct chan_msg	 m;
	ssize_t		 r, g;

	while (S.fe_up) {
		r = chan_read(&S.fe_ce.chan);
		if (r == -1 && errno != EAGAIN && errno != EINTR) {
			frontend_lost("read from frontend");
			return (-1);
		}
		while ((g = chan_get(&S.fe_ce.chan, &m)) > 0) {
			one(&m);
			chan_msg_free(&m);
			if (lost)
				return (-1);
		}
		if (g == -1) {
			frontend_lost("malformed message from the frontend");
			return (-1);
		}
		if (S.fe_ce.chan.eof) {
			frontend_lost("frontend closed its channel");
			return (-1);
		}
		batch_end();
		if (r == -1)
			return (0);
	}
	return (-1);
}

/* After every batch: the requests that waited, as far as the queue allows. */
static void
batch_end(void)
{
	if (!S.fe_up)
		return;
	in_deferred = 1;
	dispatch_deferred();
	in_deferred = 0;
	check(nfifo == 0 || wq >= FRONTEND_WQ_HIGH);
	check_table();
}

/* The frontend writes n bytes, with a descriptor (kind 1, 2) or not. */
static void
send_chunk(const uint8_t *p, size_t n, int kind)
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
		/* A connected socket: what a frontend might pass off. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sp) == -1)
			abort();
		seen(sp[0]);
		seen(sp[1]);
		fd = sp[0];
	} else if (kind == 2)
		fd = nullfd;
	while (n > 0 && !lost) {
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
		w = sendmsg(fefd, &msg, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || drain() == -1)
				break;
			continue;
		}
		if ((size_t)w > sizeof(stream) - streamlen)
			streamfull = 1;
		else {
			memcpy(stream + streamlen, p, (size_t)w);
			streamlen += (size_t)w;
		}
		p += w;
		n -= (size_t)w;
		fd = -1;	/* sent with the first byte */
	}
	if (sp[0] != -1) {
		close(sp[0]);
		close(sp[1]);
	}
	if (!lost)
		(void)drain();
}

/*
 * A refused client reads why, in one frame, then EOF.  The frame is
 * parsed for the first refusal in an input (parsing is most of the cost).
 */
static void
refused_read(int fd)
{
	struct apm2_resp	 resp;
	uint8_t			 buf[4096];
	char			 err[256];
	size_t			 got = 0;
	ssize_t			 n;

	while (got < sizeof(buf) &&
	    (n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	check(got < sizeof(buf) && n == 0);
	check(got > FRAME_HDRSZ && frame_get_len(buf) == got - FRAME_HDRSZ);
	if (nrefused++ > 0)
		return;
	buf[got] = '\0';		/* the parser wants it, as frames have */
	check(apm2_resp_parse((const char *)buf + FRAME_HDRSZ,
	    got - FRAME_HDRSZ, &resp, err, sizeof(err)) == 0);
	check(resp.type == RESP_ERROR &&
	    resp.code == ERR_PERMISSION_DENIED && resp.message != NULL &&
	    strncmp(resp.message, "Too many connections", 20) == 0);
	apm2_resp_free(&resp);
}

/* One client connects and is accepted, as control_accept() does. */
static void
client(uint8_t b)
{
	struct ident	*id;
	struct stat	 st;
	int		 sp[2], verdict;

	id = &idents[nidents++];
	ident_make(id, b);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sp) == -1)
		abort();
	seen(sp[0]);
	seen(sp[1]);
	check(fstat(sp[1], &st) == 0);
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	accepting_fd = sp[1];
	conn_new(sp[1]);
	accepting_fd = -1;
	check(adm.active && adm.fd == sp[1]);
	verdict = adm.verdict;
	adm_finish();
	check(fcntl(sp[1], F_GETFD) == -1);	/* handed on or closed */
	if (!verdict)
		refused_read(sp[0]);
	close(sp[0]);
	check_table();
}

/* 1 if what the frontend writes next comes in the same event. */
static int
housekeeping(uint8_t ctl)
{
	switch ((ctl >> 2) & 7) {
	case 0:
	case 5:
		if (S.hb_acked == S.hb_seq) {
			S.hb_seq++;
			hb_missed = 0;
			wq += CHAN_HDRSZ + sizeof(struct heartbeat);
		} else if (++hb_missed >= HB_MISSED_MAX)
			frontend_lost("no answer to a heartbeat");
		break;
	case 1:
	case 6:
		wq = 0;
		return ((ctl & 0x20) != 0);
	case 2:
	case 7:
		wq = FRONTEND_WQ_HIGH - (size_t)(ctl >> 5) * 128;
		break;
	case 3:
		frontend_lost("frontend exited");
		break;
	case 4:
		close(fefd);
		fefd = -1;
		(void)drain();
		check(lost);
		break;
	}
	return (0);
}

/* A new frontend: fe_spawn() without the process. */
static void
spawn(void)
{
	int	sv[2];

	check(!S.fe_up && !lost && fefd == -1 && S.nconns == 0 && nfc == 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		abort();
	seen(sv[0]);
	seen(sv[1]);
	fefd = sv[0];
	chan_init(&S.fe_ce.chan, sv[1], PROTO_CHAN_MAX);
	S.fe_up = 1;
	S.fe_ready = 0;
	S.fe_exiting = 0;
	nspawns++;
	S.hb_seq = S.hb_acked = 0;
	hb_missed = 0;
	wq = 0;
	streamlen = consumed = 0;
	streamfull = 0;
}

/*
 * The connections the lost frontend acknowledged in what it wrote after
 * the last message the supervisor took: F_CONN_ACK messages, framed by
 * their lengths as far as they frame at all.  Where chan.c frames them
 * differently it finds the stream broken and no orphan survives, so this
 * can only miss an acknowledgement, never invent one.
 */
NOCOV static size_t
tail_acks(uint32_t *ids, size_t max)
{
	struct chan_hdr	h;
	size_t		off = consumed, n = 0;

	if (streamfull || consumed > streamlen)
		return (0);
	while (streamlen - off >= sizeof(h) && n < max) {
		memcpy(&h, stream + off, sizeof(h));
		if (h.len < CHAN_HDRSZ || h.len > CHAN_HDRSZ + PROTO_CHAN_MAX ||
		    h.len > streamlen - off)
			break;
		if (h.type == F_CONN_ACK)
			ids[n++] = h.peerid;
		off += h.len;
	}
	return (n);
}

/*
 * The lost frontend has exited: conn_orphans_drain() reads what it still
 * wrote, and keeps the orphans it never acknowledged (checked against
 * the stream).
 */
static void
reap(void)
{
	struct orphan	pre[FRONTEND_MAX_CONNS];
	uint32_t	acked[FUZZ_STREAM_MAX / CHAN_HDRSZ];
	size_t		i, j, npre = S.norphans, nacked;
	int		oldchan = S.fe_oldchan;

	check(lost && !S.fe_up && oldchan == S.fe_ce.chan.fd);
	if (fefd != -1)
		close(fefd);
	fefd = -1;
	memcpy(pre, S.orphans, npre * sizeof(pre[0]));
	nacked = tail_acks(acked, sizeof(acked) / sizeof(acked[0]));
	conn_orphans_drain();
	check(S.fe_oldchan == -1 && fcntl(oldchan, F_GETFD) == -1);
	check(S.norphans <= npre);
	for (i = 0; i < npre; i++) {
		for (j = 0; j < S.norphans; j++)
			if (S.orphans[j].id == pre[i].id)
				break;
		if (j == S.norphans)
			check(fcntl(pre[i].fd, F_GETFD) == -1);
		else
			check(S.orphans[j].fd == pre[i].fd);
	}
	for (j = 0; j < S.norphans; j++) {
		seen(S.orphans[j].fd);
		/* One it acknowledged was seen: it may not be handed on. */
		for (i = 0; i < nacked; i++)
			check(S.orphans[j].id != acked[i]);
	}
	lost = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	off = 1, n, i;
	int	before, ctl, same;

	if (conf == NULL)
		setup();
	if (size < 1)
		return (0);
	memset(&S, 0, sizeof(S));
	S.conf = conf;
	S.readyfd = S.pidfd = S.fe_oldchan = -1;
	S.listenfd = listensp[0];
	TAILQ_INIT(&S.deferred);
	event_set(&S.listen_ev, S.listenfd, EV_READ | EV_PERSIST,
	    control_accept, NULL);
	evtimer_set(&S.accept_retry_ev, control_accept, NULL);
	sup = &S;
	conf->daemon.max_conns_per_user = (uint32_t)data[0] + 1;
	memset(fc, 0, sizeof(fc));
	memset(&adm, 0, sizeof(adm));
	memset(&last, 0, sizeof(last));
	memset(&cur, 0, sizeof(cur));
	nfc = 0;
	nfifo = 0;
	nidents = 0;
	last_serial = 0;
	nrefused = 0;
	nspawns = 0;
	lost = 0;
	hiwater = 0;

	before = fuzz_open_fds(scan_hi);
	spawn();
	while (off < size) {
		if (!S.fe_up) {
			if (lost)
				reap();
			if (S.shutting_down || nspawns >= FUZZ_MAXSPAWNS)
				break;
			spawn();
		}
		ctl = data[off++];
		same = 0;
		switch (ctl & 3) {
		case 0:
			n = ((size_t)(ctl >> 2) + 1) * 8;
			if (n > size - off)
				n = size - off;
			send_chunk(data + off, n, 0);
			off += n;
			break;
		case 1:
			n = ((size_t)(ctl >> 4) + 1) * 8;
			if (n > size - off)
				n = size - off;
			if (n > 0)
				send_chunk(data + off, n, ctl & 8 ? 2 : 1);
			off += n;
			break;
		case 2:
			if (off >= size)
				break;
			n = (size_t)1 << ((ctl >> 2) & 7);
			for (i = 0; i < n && S.accepting &&
			    nidents < FUZZ_MAXCLIENTS; i++)
				client(data[off]);
			off++;
			break;
		case 3:
			same = housekeeping((uint8_t)ctl);
			break;
		}
		if (S.fe_up && !same)
			(void)drain();	/* and batch_end() */
	}

	/* The frontend exits: what it wrote is read to the end. */
	if (S.fe_up) {
		close(fefd);
		fefd = -1;
		check(drain() == -1);
	}
	if (lost)
		reap();
	/* No next frontend: the orphans are closed. */
	for (i = 0; i < S.norphans; i++)
		close(S.orphans[i].fd);
	S.norphans = 0;
	check(!S.fe_up && S.nconns == 0 && nfc == 0 && !S.accepting);
	check(!event_pending(&S.listen_ev, EV_READ, NULL));
	check(fefd == -1 && S.fe_oldchan == -1);

	if (hiwater + FUZZ_FDMARGIN + 1 > scan_hi)
		scan_hi = hiwater + FUZZ_FDMARGIN + 1;
	if (fuzz_open_fds(scan_hi) != before)
		abort();
	return (0);
}

/* The descriptor reserve is supervisor.c's: none here. */
void
fd_reserve_fill(void)
{
}

int
fd_reserve_use(void)
{
	return (0);
}
