/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the supervisor's side of the logger's channel:
 * what a taken-over logger can send the supervisor.  The logger
 * (apm2d -L) reads what the agents write; an agent that exploits it owns
 * its channel.  The supervisor's side (supervisor/logctl.c) is compiled
 * into this file; the connection table and the replies (dispatch.c), the
 * runner and the log stores are stand-ins here that check what reaches
 * them.  Nothing is forked: the logger is this harness, on one end of a
 * socketpair, and the other end is set up as lg_spawn() does it after
 * its fork.  lg.pid stays 0, so lg_gone() has nothing to kill.
 *
 * Set up once: FUZZ_NINST instances, all known to the logger, and
 * FUZZ_NFILES log files.  Every input starts with a new logger and
 * FUZZ_NCONN client connections, none waiting for logs.
 *
 * Input: one byte r (bit i set: rotating file i + 1 fails), then
 * operations, each led by a control byte c:
 *
 *  c & 3 == 0	the logger writes the next ((c >> 3) + 1) * 8 bytes as
 *		they are (fewer at the end), with a descriptor (/dev/null)
 *		on the first byte if c & 4;
 *  c & 3 == 1	the logger writes one message made of the next bytes t,
 *		p, f, s and up to FUZZ_PAYLOAD_IN bytes of payload (the rest
 *		of a longer payload is filler): its type by t & 15 (each
 *		type the logger may send, then L_HEARTBEAT_ACK + 1 + (t >> 4):
 *		L_REOPEN, L_FILE_CLOSED, then unknown types above, an
 *		unknown type below, a supervisor-to-logger type, a frontend
 *		type, t << 24), its peer id by (p >> 3) & 3 (0, connection
 *		p & 7, that connection's slot in another generation,
 *		p << 16), a descriptor if f & 1, an unknown flag if f & 2,
 *		its size the type's own (L_LOG_ENTRY: its header and a
 *		content length chosen by s) unless f >> 6 says one more,
 *		one less or none.
 *		An L_LOG_ENTRY's content_len is patched to match, one off if
 *		f & 0x20; with f & 0x10 its header is one the frontend takes.
 *		With s & 0x80 the other types get live values patched in:
 *		the file id s & 7 (L_ROTATE, L_REOPEN, L_FILE_CLOSED), a
 *		drain or pipe waiting (or one off), the last heartbeat
 *		sent, a follow flag, an error code s & 0x1f;
 *  c & 3 == 2	the supervisor acts, by (c >> 2) & 7, on the next byte a:
 *		0, connection a & 7 asks for its logs (logctl_tail(), as
 *		the runner does for tail_logs, following if a & 8); 1, it
 *		closes (the logger is told if it was following) and its
 *		slot gets a new connection; 2, its client read a follow
 *		frame (logctl_ack(), following connections only); 3, the
 *		process of instance a & 7 was reaped (logctl_drain(), not
 *		while a drain of it waits, as the runner does); 4, a new
 *		pipe of instance a & 7 (logctl_pipe(), stream (a >> 3) & 1,
 *		aux if a & 0x10); 5, a heartbeat period passes, and with
 *		c & 0x20 FRONTEND_HB_TIMEOUT_MS since the unanswered one;
 *		6, the frontend reads its queue empty and logctl_fe_room()
 *		is called, or with c & 0x20 replies fill it to
 *		FRONTEND_WQ_HIGH - a KiB; 7, if a & 1 the frontend is lost
 *		(every connection goes) or comes back, else the logger dies
 *		(lg_gone(), as logctl_reaped() does) or a new one starts;
 *  c & 3 == 3	by (c >> 2) & 3: 0, the logger shuts its end for writing
 *		(EOF); 1, SIGUSR1 (logctl_reopen_all(): the files the logger
 *		holds, as far as the supervisor knows); else nothing.
 *
 * A message needs a logger: a lost one is replaced first, at most
 * FUZZ_MAXSPAWNS times an input.  After every operation the event loop
 * runs (EVLOOP_NONBLOCK) until the supervisor has read what it can, and
 * the harness reads what the supervisor sent the logger.
 *
 * Checked on every input, against a model written here (not lg_rules):
 *  - nothing crashes, nothing leaks (ASan/LSan), no descriptor stays open
 *    (the copies of pipes in the store included);
 *  - every message lg_msg() gets is valid exactly when the model says so:
 *    a type the logger may send, its exact size, no descriptor, no
 *    unknown flag, a peer id only on L_LOG_*, an L_LOG_ENTRY's
 *    content_len its size less its header.  An invalid one changes
 *    nothing but loses the logger (lg_gone(): channel stopped and closed,
 *    lg.up 0, every waiting drain finished, every connection waiting for
 *    logs told, conn_logs_lost() called once) and lg_msg() gets nothing
 *    more from that logger;
 *  - a valid one does exactly what it says and nothing else: L_READY
 *    sets ready, L_HEARTBEAT_ACK the number acknowledged (whichever it
 *    is: the logger is not held to the one outstanding), L_ROTATE of a
 *    known file rotates it (L_FILE_FD, or L_ROTATE_FAIL, to the logger)
 *    and of any other id nothing, L_REOPEN the same with a reopen,
 *    L_FILE_CLOSED of a known file has the supervisor forget that the
 *    logger holds it (SIGUSR1 leaves it out) and sends nothing,
 *    L_DRAINED finishes the drain of that
 *    instance and serial if it waits and else nothing, L_PIPE_DONE
 *    forgets that pipe if it is live and else nothing;
 *  - L_LOG_ENTRY, L_LOG_END, L_LOG_ERROR reach reply_send() exactly once
 *    when their peer id is a connection waiting for logs, and never
 *    otherwise: that connection, S_LOG_ENTRY, S_LOG_END or S_ERROR, and
 *    the message's payload unchanged (the connection stand-ins then do
 *    what dispatch.c does: S_ERROR and S_LOG_END without follow end the
 *    request); then the logger is no longer read while the frontend's
 *    queue is at FRONTEND_WQ_HIGH, until logctl_fe_room();
 *  - what the supervisor sends the logger is what the model expects, in
 *    order: a new logger's introduction (L_HELLO with the cap of open
 *    files, every file without a descriptor, every instance, live pipe
 *    and waiting drain), L_TAIL, L_ACK, L_CONN_CLOSED, L_DRAIN, L_PIPE,
 *    L_HEARTBEAT, L_FILE_FD, L_ROTATE_FAIL;
 *  - the runner hears of a drain only once, and only when it is done.
 *
 * One more check (FUZZ_LOGMSG_FRONTEND=0 turns it off): every reply that
 * reaches the frontend is one apm2d/frontend.c accepts (sup_msgs[] and
 * msg_log_entry(), msg_log_end(), msg_error(): sizes, NUL-terminated
 * strings, fields in range, no S_ERROR inside a log frame).  The
 * frontend ends itself on anything else, and every client with it.  The
 * seeds frontend-refuses-* are inputs that ended it before logctl.c
 * checked the logger's frames with proto_logentry_ok()/proto_error_ok()
 * and refused an error inside a frame.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "chan.h"
#include "chan_event.h"

/* logctl.c asks how much waits for the frontend: a stand-in answers. */
#define chan_wqbytes	fuzz_wqbytes
size_t	fuzz_wqbytes(const struct chan *);

#include "supervisor/logctl.c"

#undef chan_wqbytes

#define FUZZ_NINST	4	/* instances */
#define FUZZ_NFILES	3	/* log files */
#define FUZZ_NCONN	8	/* client connections */
#define FUZZ_MAXOPS	512	/* operations an input */
#define FUZZ_MAXSPAWNS	4	/* loggers an input */
#define FUZZ_MAXPIPES	96	/* logctl_pipe() calls an input */
#define FUZZ_MAXBYTES	(4U * 1024 * 1024)	/* the logger writes */
#define FUZZ_PAYLOAD_IN	128	/* payload bytes taken from the input */
#define FUZZ_WANTS	4096	/* messages expected by the logger */
#define FUZZ_FDSCAN	256	/* without /proc: descriptors checked */
#define FUZZ_PUMPS	4096	/* event loop passes an operation */
#define FUZZ_FSIZE	4242	/* what logfile_fdinfo() says */
#define FUZZ_MAXOPEN	2	/* [daemon] max_open_log_files */
#define FUZZ_MTIME	1700000000

/* The harness's own bookkeeping: no coverage feedback, no overhead. */
#ifdef __clang__
#define NOCOV	__attribute__((__no_sanitize__("coverage")))
#else
#define NOCOV
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A stand-in log file: what logstore.c would keep of it. */
struct logstore {
	uint32_t	 id;
	uid_t		 uid;
	int		 fail;		/* rotating it fails */
	char		 path[64];
};

/* A client connection, as dispatch.c and the frontend know it. */
struct fconn {
	struct sup_conn	 c;		/* conn_logs_waiting() gives it */
	uint32_t	 gen;
	int		 part;		/* the frontend's reply under way */
};

/* A message the logger is to receive next. */
struct want {
	uint32_t	 type;
	uint32_t	 peerid;
	int		 fd;		/* with a descriptor */
	size_t		 len;
	size_t		 cmplen;	/* of data, compared */
	uint8_t		 data[32];
};

/* What a message may change, taken before and after. */
struct snap {
	int		 up;
	int		 ready;
	int		 paused;
	uint64_t	 hb_acked;
	uint64_t	 pipe[FUZZ_NINST][2];
	uint64_t	 drain[FUZZ_NINST];
	size_t		 nlive;
	uint64_t	 nreplies;
	uint64_t	 nrotates;
	uint64_t	 nreopens;
	int		 held[FUZZ_NFILES];
	uint64_t	 ndrained;
	uint64_t	 nerrors;
	uint64_t	 nlostcalls;
	int		 logs[FUZZ_NCONN];
	int		 following[FUZZ_NCONN];
};

static void	check(int);
static void	setup(void);
static uint32_t	conn_id(int, uint32_t);
static struct fconn *conn_find(uint32_t);
static void	conn_renew(struct fconn *);
static void	conn_close(struct fconn *);
static ssize_t	fixed_size(uint32_t);
static int	model_valid(const struct chan_msg *);
static void	fe_model(struct fconn *, uint32_t, const void *, size_t);
static void	fe_bad(const struct fconn *, uint32_t, const char *);
static void	want_push(uint32_t, uint32_t, int, const void *, size_t,
		    size_t);
static void	want_match(const struct chan_msg *);
static void	snap_take(struct snap *);
static void	snap_same(const struct snap *, const struct snap *);
static void	gone_check(const struct snap *, int);
static void	fuzz_msg(struct chan_msg *, void *);
static void	fuzz_lost(enum chan_ev_why, int, void *);
static void	model_live(void);
static void	pump(void);
static void	peer_read(void);
static void	peer_close(void);
static void	spawn(void);
static void	kill_logger(void);
static void	lsend(const uint8_t *, size_t, int);
static size_t	op_msg(const uint8_t *, size_t);
static void	op_sup(uint8_t, uint8_t);
static void	op_misc(uint8_t);

/* The supervisor's side goes through these: lg_msg() and lg_lost(). */
static const struct chan_ev_ops fuzz_ops = {
	.msg = fuzz_msg,
	.lost = fuzz_lost,
};

static struct supervisor S;
struct supervisor	*sup;
static int		 ready_once;
static int		 fe_strict;	/* FUZZ_LOGMSG_FRONTEND */
static int		 nullfd = -1;
static int		 scan_hi = FUZZ_FDSCAN;
static struct logstore	 stores[FUZZ_NFILES];
static struct fconn	 conns[FUZZ_NCONN];
static uint64_t		 conn_serial;
static size_t		 wq;		/* the frontend's queue, bytes */

/* The logger's end of the channel. */
static int		 lgfd = -1;
static struct chan	 peer;
static int		 peer_shut;	/* shut for writing */
static unsigned int	 nspawns;
static size_t		 nwritten;

/* The model. */
static int		 mdown;		/* the logger was lost */
static int		 mpaused;
static uint64_t		 mhb_seq, mhb_acked;
static uint64_t		 mpipe[FUZZ_NINST][2];
static uint64_t		 mpipe_seq;
static unsigned int	 npipes;
static uint64_t		 mdrain[FUZZ_NINST];
static uint64_t		 mruns[FUZZ_NINST];
static int		 drain_set[FUZZ_NINST];	/* drain_ev initialised */
static struct want	 wants[FUZZ_WANTS];
static size_t		 whead, wtail;

/* Counters of what the stand-ins were asked. */
static uint64_t		 nreplies, nrotates, nreopens, ndrained, nerrors;
static uint64_t		 nlostcalls;
static int		 mheld[FUZZ_NFILES];	/* the logger holds it */
static uint64_t		 nfe_bad;

/* Where the supervisor is: what a stand-in may be called from. */
static int		 in_msg, in_lost, in_kill, in_hb, in_tail;
static int		 in_reopen, in_loop, in_logs_lost;

/* The message lg_msg() is handling. */
static struct {
	const struct chan_msg	*m;
	int			 valid;
	uint8_t			*copy;		/* its payload, before */
	struct fconn		*to;		/* the connection waiting */
	uint32_t		 stype;		/* what it must be relayed as */
	struct logstore		*rotate;	/* the file to rotate */
	struct logstore		*reopen;	/* the file to reopen */
	int			 relays;
} cur;

/* A drain runner_drained() hears of at once. */
static struct {
	int		 active;
	uint32_t	 inst;
	uint64_t	 serial;
} now;

static void
check(int ok)
{
	if (!ok)
		abort();
}

/* Refusals logged on stderr go to /dev/null (FUZZ_LOGMSG_LOG=1 keeps them). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_stderr(argc, argv, "FUZZ_LOGMSG_LOG");
	return (0);
}

/* What logctl_init(), logctl_start() and logctl_spawn() leave. */
static void
setup(void)
{
	struct linst	*li;
	struct lfile	*f;
	const char	*e;
	uint32_t	 k;
	size_t		 i;

	e = getenv("FUZZ_LOGMSG_FRONTEND");
	fe_strict = e == NULL || strcmp(e, "0") != 0;
	if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	event_init();
	log_init(1, 0);
	log_setverbose(0);
	memset(&S, 0, sizeof(S));
	S.readyfd = S.pidfd = S.listenfd = S.fe_oldchan = -1;
	sup = &S;
	/* The harness goes through the real callbacks. */
	check(lg_ops.msg == lg_msg && lg_ops.lost == lg_lost &&
	    lg_ops.done == NULL && lg_ops.drained == NULL);

	logctl_init(FUZZ_NINST, 64ULL << 20);
	check(lg.ninsts == FUZZ_NINST && lg.store[0] != -1);
	/* logctl_start() without its timers and its fork. */
	evtimer_set(&lg.respawn_ev, lg_respawn, NULL);
	evtimer_set(&lg.check_ev, lg_check, NULL);
	evtimer_set(&lg.hb_ev, lg_heartbeat, NULL);
	lg.pid = 0;
	lg.maxopen = FUZZ_MAXOPEN;

	if ((lg.files = calloc(FUZZ_NFILES, sizeof(*lg.files))) == NULL)
		abort();
	for (i = 0; i < FUZZ_NFILES; i++) {
		stores[i].id = (uint32_t)i + 1;
		stores[i].uid = 4000 + (uid_t)i;
		snprintf(stores[i].path, sizeof(stores[i].path),
		    "/var/log/apm2/file%zu.log", i + 1);
		f = &lg.files[i];
		f->id = (uint32_t)i + 1;
		f->ls = &stores[i];
		f->max_size = 1024 * 1024;
	}
	lg.nfiles = FUZZ_NFILES;
	for (k = 0; k < FUZZ_NINST; k++) {
		li = lg.insts[k];
		li->known = 1;
		li->m.inst = k;
		li->m.proc = k / 2 + 1;
		li->m.idx = k % 2;
		li->m.flags = k == 0 ? L_INST_REDACT | L_INST_LINES : 0;
		li->m.file[0] = k % FUZZ_NFILES + 1;
		li->m.file[1] = k == 3 ? 0 : (k + 1) % FUZZ_NFILES + 1;
		snprintf(li->m.name, sizeof(li->m.name), "agent%u", k / 2);
		snprintf(li->m.display, sizeof(li->m.display), "agent%u-%u",
		    k / 2, k % 2);
	}
	ready_once = 1;
}

/* ---- stand-ins ---- */

size_t
fuzz_wqbytes(const struct chan *c)
{
	check(c == &S.fe_ce.chan);
	return (wq);
}

void
sup_child_exec(int fd, const char *flag, const char *user, const char *hook)
{
	abort();	/* nothing is forked here */
}

int
sup_socketpair(int sp[2])
{
	abort();	/* lg_spawn() is not called */
}

void
fd_reserve_fill(void)
{
}

int
redact_env_name_sensitive(const char *name)
{
	abort();	/* logctl_spawn() is not called */
}

int
logfile_fdinfo(int fd, struct logfile_fdinfo *fi)
{
	check(fcntl(fd, F_GETFD) != -1);
	memset(fi, 0, sizeof(*fi));
	fi->regular = 1;
	fi->size = FUZZ_FSIZE;
	fi->mtime = FUZZ_MTIME;
	return (0);
}

struct logstore *
logstore_open(const char *path, const struct log_config *lc,
    const struct logowner *owner, int *fdp, char *err, size_t errlen)
{
	abort();	/* the files are set up by setup() */
}

/* SIGUSR1 for a file the logger holds, or the L_REOPEN being handled. */
int
logstore_reopen(struct logstore *ls, char *err, size_t errlen)
{
	int	fd;

	check(ls >= stores && ls < stores + FUZZ_NFILES);
	if (in_reopen)
		check(mheld[ls - stores]);
	else {
		check(in_msg && cur.reopen == ls);
		cur.reopen = NULL;
		nreopens++;
		if (ls->fail) {
			strlcpy(err, "the disk is full", errlen);
			return (-1);
		}
	}
	if ((fd = fcntl(nullfd, F_DUPFD_CLOEXEC, 0)) == -1)
		abort();
	return (fd);
}

/* Only for the L_ROTATE being handled, and only of its file. */
int
logstore_rotate(struct logstore *ls, char *err, size_t errlen)
{
	int	fd;

	check(in_msg && cur.rotate == ls);
	cur.rotate = NULL;
	nrotates++;
	if (ls->fail) {
		strlcpy(err, "the disk is full", errlen);
		return (-1);
	}
	if ((fd = fcntl(nullfd, F_DUPFD_CLOEXEC, 0)) == -1)
		abort();
	return (fd);
}

int
logstore_moved(const struct logstore *ls)
{
	return (0);
}

void
logstore_close(struct logstore *ls)
{
	abort();
}

int
logstore_reap(pid_t pid, int status)
{
	abort();	/* logctl_reaped() is not called */
}

int
logstore_child(pid_t pid)
{
	return (0);	/* no compression runs here */
}

const char *
logstore_path(const struct logstore *ls)
{
	return (ls->path);
}

uid_t
logstore_uid(const struct logstore *ls)
{
	return (ls->uid);
}

/* A file's new settings (several processes naming it): nothing kept. */
void
logstore_set(struct logstore *ls, const struct log_config *lc)
{
}

int
logstore_same(const struct logstore *ls, const struct log_config *lc)
{
	return (1);
}

/* dispatch.c: a connection that asked for its logs. */
void
conn_logs_expect(struct conn_ref ref)
{
	struct fconn	*f;

	check(in_tail);
	f = conn_find(ref.id);
	check(f != NULL && f->c.serial == ref.serial && !f->c.logs);
	f->c.logs = 1;
	f->c.busy = 1;
}

struct sup_conn *
conn_logs_waiting(uint32_t id)
{
	struct fconn	*f;

	check(in_msg);
	if ((f = conn_find(id)) == NULL || !f->c.logs)
		return (NULL);
	return (&f->c);
}

/*
 * As dispatch.c: every connection waiting for logs gets an error, or is
 * closed when it is inside a frame (S_CLOSE: the frontend drops the
 * half-written reply).
 */
void
conn_logs_lost(void)
{
	struct conn_ref	ref;
	int		k;

	check(in_msg || in_lost || in_kill || in_hb);
	nlostcalls++;
	in_logs_lost = 1;
	for (k = 0; k < FUZZ_NCONN; k++) {
		if (!conns[k].c.logs)
			continue;
		ref.id = conns[k].c.id;
		ref.serial = conns[k].c.serial;
		if (conns[k].c.logframe) {
			conns[k].c.logs = 0;
			conns[k].part = 0;
			continue;
		}
		reply_error(ref, ERR_INTERNAL_ERROR, "the logger was "
		    "restarted: ask again");
	}
	in_logs_lost = 0;
}

/* A relayed frame: the connection waiting, as it came, once. */
void
reply_send(struct conn_ref ref, uint32_t type, const void *data, size_t len)
{
	const struct s_logend	*e = data;
	struct fconn		*f;

	check(in_msg && cur.m != NULL && cur.valid && cur.relays == 0);
	cur.relays++;
	f = conn_find(ref.id);
	check(f != NULL && f == cur.to && f->c.logs &&
	    f->c.serial == ref.serial && ref.id == cur.m->hdr.peerid);
	check(type == cur.stype);
	check(data == cur.m->data && len == cur.m->datalen);
	check(len == 0 || memcmp(data, cur.copy, len) == 0);
	nreplies++;
	/* What the real reply_send() does with it. */
	switch (type) {
	case S_ERROR:
		f->c.busy = f->c.following = f->c.logs = 0;
		break;
	case S_LOG_ENTRY:
		f->c.logframe = 1;
		break;
	case S_LOG_END:
		f->c.logframe = 0;
		if (e->follow)
			f->c.following = 1;
		else
			f->c.busy = f->c.logs = 0;
		break;
	}
	if (S.fe_up) {
		fe_model(f, type, data, len);
		wq += CHAN_HDRSZ + len;
	}
}

/* The logger is lost, or was not there to ask. */
void
reply_error(struct conn_ref ref, enum apm2_errcode code, const char *fmt,
    ...)
{
	struct s_error	 e;
	struct fconn	*f;
	va_list		 ap;

	check(in_logs_lost || (in_tail && !lg.up));
	f = conn_find(ref.id);
	check(f != NULL && f->c.serial == ref.serial);
	check(in_tail || f->c.logs);
	nerrors++;
	f->c.busy = f->c.following = f->c.logs = 0;
	memset(&e, 0, sizeof(e));
	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	if (S.fe_up) {
		fe_model(f, S_ERROR, &e, sizeof(e));
		wq += CHAN_HDRSZ + sizeof(e);
	}
}

/* runner.c: only a drain that is done, once. */
void
runner_drained(uint32_t inst, uint64_t serial)
{
	if (now.active) {
		check(inst == now.inst && serial == now.serial);
		now.active = 0;
		ndrained++;
		return;
	}
	/* From L_DRAINED, a lost logger, or (a slow run) the timeout. */
	check(in_msg || in_lost || in_kill || in_hb || in_loop);
	check(inst < FUZZ_NINST && serial != 0 && mdrain[inst] == serial &&
	    lg.insts[inst]->drain == 0);
	mdrain[inst] = 0;
	ndrained++;
}

/* ---- the model ---- */

static uint32_t
conn_id(int k, uint32_t gen)
{
	return ((gen << CONN_SLOT_BITS) | (uint32_t)(k + 1));
}

NOCOV static struct fconn *
conn_find(uint32_t id)
{
	int	k;

	for (k = 0; k < FUZZ_NCONN; k++)
		if (conns[k].c.id == id)
			return (&conns[k]);
	return (NULL);
}

/* The connection in this slot goes; a new one takes the slot. */
static void
conn_renew(struct fconn *f)
{
	int	k = (int)(f - conns);

	f->gen = (f->gen + 1) & 0xff;
	memset(&f->c, 0, sizeof(f->c));
	f->c.id = conn_id(k, f->gen);
	f->c.serial = ++conn_serial;
	f->c.fd = -1;
	f->part = 0;
}

/* It closes; the runner tells the logger if it was following. */
static void
conn_close(struct fconn *f)
{
	struct l_conn	lc;
	struct conn_ref	ref;

	ref.id = f->c.id;
	ref.serial = f->c.serial;
	if (f->c.following) {
		memset(&lc, 0, sizeof(lc));
		lc.serial = ref.serial;
		if (lg.up)
			want_push(L_CONN_CLOSED, ref.id, 0, &lc, sizeof(lc),
			    sizeof(lc));
		logctl_conn_closed(ref);
	}
	conn_renew(f);
}

/*
 * From proto.h: the payload size of a logger message of fixed size, or
 * -1 for the others (L_LOG_ENTRY, and every type the logger may not send).
 */
static ssize_t
fixed_size(uint32_t type)
{
	switch (type) {
	case L_READY:
		return (0);
	case L_ROTATE:
	case L_REOPEN:
	case L_FILE_CLOSED:
		return (sizeof(struct l_id));
	case L_DRAINED:
		return (sizeof(struct l_drain));
	case L_PIPE_DONE:
		return (sizeof(struct l_pipe));
	case L_HEARTBEAT_ACK:
		return (sizeof(struct heartbeat));
	case L_LOG_END:
		return (sizeof(struct s_logend));
	case L_LOG_ERROR:
		return (sizeof(struct s_error));
	}
	return (-1);
}

/* From proto.h: may the supervisor act on this message? */
static int
model_valid(const struct chan_msg *m)
{
	struct s_logentry	e;
	struct s_error		er;
	size_t			want;
	int			conn = 0;

	switch (m->hdr.type) {
	case L_READY:
	case L_ROTATE:
	case L_REOPEN:
	case L_FILE_CLOSED:
	case L_DRAINED:
	case L_PIPE_DONE:
	case L_HEARTBEAT_ACK:
		want = (size_t)fixed_size(m->hdr.type);
		break;
	case L_LOG_END:
		want = sizeof(struct s_logend);
		conn = 1;
		break;
	case L_LOG_ERROR:
		/* What the frontend takes: a terminated text, a known code. */
		want = sizeof(er);
		if (m->datalen != want)
			return (0);
		memcpy(&er, m->data, sizeof(er));
		if (memchr(er.text, '\0', sizeof(er.text)) == NULL ||
		    er.code >= ERR__COUNT)
			return (0);
		conn = 1;
		break;
	case L_LOG_ENTRY:
		/* And a whole entry it can render. */
		if (m->datalen < sizeof(e) ||
		    m->datalen > sizeof(e) + PROTO_LOGLINE_MAX)
			return (0);
		memcpy(&e, m->data, sizeof(e));
		if (memchr(e.process_name, '\0', sizeof(e.process_name)) ==
		    NULL || e.stream > 1 || e.ts_nsec < 0 ||
		    e.ts_nsec >= 1000000000)
			return (0);
		want = sizeof(e) + (size_t)e.content_len;
		conn = 1;
		break;
	default:
		return (0);
	}
	return (m->datalen == want && m->fd == -1 &&
	    (m->hdr.flags & ~(uint32_t)CHAN_F_FD) == 0 &&
	    (conn || m->hdr.peerid == 0));
}

/*
 * What apm2d/frontend.c takes for a connection with a request in flight
 * (sup_message(), msg_log_entry(), msg_log_end(), msg_error()).
 */
static void
fe_model(struct fconn *f, uint32_t type, const void *data, size_t len)
{
	struct s_logentry	e;
	struct s_error		er;

	switch (type) {
	case S_LOG_ENTRY:
		if (len < sizeof(e) || len > sizeof(e) + PROTO_LOGLINE_MAX) {
			fe_bad(f, type, "size");
			break;
		}
		memcpy(&e, data, sizeof(e));
		if (memchr(e.process_name, '\0', sizeof(e.process_name)) ==
		    NULL || e.stream > 1 || e.content_len != len - sizeof(e) ||
		    e.ts_nsec < 0 || e.ts_nsec >= 1000000000)
			fe_bad(f, type, "a field");
		else if (f->part != 0 && f->part != S_LOG_ENTRY)
			fe_bad(f, type, "inside another reply");
		f->part = S_LOG_ENTRY;
		break;
	case S_LOG_END:
		if (len != sizeof(struct s_logend))
			fe_bad(f, type, "size");
		else if (f->part != 0 && f->part != S_LOG_ENTRY)
			fe_bad(f, type, "inside another reply");
		f->part = 0;
		break;
	case S_ERROR:
		if (len != sizeof(er)) {
			fe_bad(f, type, "size");
			break;
		}
		memcpy(&er, data, sizeof(er));
		if (memchr(er.text, '\0', sizeof(er.text)) == NULL ||
		    er.code >= ERR__COUNT)
			fe_bad(f, type, "a field");
		else if (f->part != 0)
			fe_bad(f, type, "inside a log frame");
		f->part = 0;
		break;
	default:
		abort();
	}
}

/* The frontend would end itself (fatalx()) on this. */
NOCOV static void
fe_bad(const struct fconn *f, uint32_t type, const char *why)
{
	nfe_bad++;
	if (!fe_strict)
		return;
	fprintf(stderr, "fuzz_logmsg: the frontend refuses %s for "
	    "connection %u: %s\n", proto_type_name(type), f->c.id, why);
	abort();
}

static void
want_push(uint32_t type, uint32_t peerid, int fd, const void *data,
    size_t len, size_t cmplen)
{
	struct want	*w;

	check(wtail - whead < FUZZ_WANTS && cmplen <= sizeof(w->data) &&
	    cmplen <= len);
	w = &wants[wtail++ % FUZZ_WANTS];
	w->type = type;
	w->peerid = peerid;
	w->fd = fd;
	w->len = len;
	w->cmplen = cmplen;
	memset(w->data, 0, sizeof(w->data));
	if (cmplen > 0)
		memcpy(w->data, data, cmplen);
}

/* The logger got this: the next message the model expects. */
static void
want_match(const struct chan_msg *m)
{
	struct want	*w;

	check(whead != wtail);
	w = &wants[whead++ % FUZZ_WANTS];
	check(m->hdr.type == w->type && m->hdr.peerid == w->peerid &&
	    m->datalen == w->len && (m->fd != -1) == w->fd);
	check(memcmp(m->data, w->data, w->cmplen) == 0);
}

NOCOV static void
snap_take(struct snap *s)
{
	uint32_t	k;
	int		c;

	memset(s, 0, sizeof(*s));
	s->up = lg.up;
	s->ready = lg.ready;
	s->paused = lg.paused;
	s->hb_acked = lg.hb_acked;
	for (k = 0; k < FUZZ_NINST; k++) {
		s->pipe[k][0] = lg.insts[k]->pipe[0];
		s->pipe[k][1] = lg.insts[k]->pipe[1];
		s->drain[k] = lg.insts[k]->drain;
	}
	s->nlive = lg.nlive;
	s->nreplies = nreplies;
	s->nrotates = nrotates;
	s->nreopens = nreopens;
	for (k = 0; k < FUZZ_NFILES; k++)
		s->held[k] = lg.files[k].held;
	s->ndrained = ndrained;
	s->nerrors = nerrors;
	s->nlostcalls = nlostcalls;
	for (c = 0; c < FUZZ_NCONN; c++) {
		s->logs[c] = conns[c].c.logs;
		s->following[c] = conns[c].c.following;
	}
}

/* Nothing but what the model expects changed. */
NOCOV static void
snap_same(const struct snap *want, const struct snap *got)
{
	uint32_t	k;
	int		c;

	check(want->up == got->up && want->ready == got->ready &&
	    want->paused == got->paused && want->hb_acked == got->hb_acked &&
	    want->nlive == got->nlive);
	for (k = 0; k < FUZZ_NINST; k++)
		check(want->pipe[k][0] == got->pipe[k][0] &&
		    want->pipe[k][1] == got->pipe[k][1] &&
		    want->drain[k] == got->drain[k]);
	for (k = 0; k < FUZZ_NFILES; k++)
		check(want->held[k] == got->held[k]);
	check(want->nreplies == got->nreplies &&
	    want->nrotates == got->nrotates &&
	    want->nreopens == got->nreopens &&
	    want->ndrained == got->ndrained && want->nerrors == got->nerrors &&
	    want->nlostcalls == got->nlostcalls);
	for (c = 0; c < FUZZ_NCONN; c++)
		check(want->logs[c] == got->logs[c] &&
		    want->following[c] == got->following[c]);
}

/*
 * The logger was lost (lg_gone()): its channel stopped and closed, every
 * drain finished, every connection waiting told, and nothing else.
 */
static void
gone_check(const struct snap *before, int oldfd)
{
	struct snap	exp, got;
	uint32_t	k;
	int		c;

	exp = *before;
	exp.up = 0;
	exp.ready = 0;
	exp.nlostcalls++;
	for (k = 0; k < FUZZ_NINST; k++) {
		if (exp.drain[k] != 0)
			exp.ndrained++;
		exp.drain[k] = 0;
		check(mdrain[k] == 0);
	}
	for (c = 0; c < FUZZ_NCONN; c++)
		if (exp.logs[c] && conns[c].c.logframe)
			exp.logs[c] = 0;	/* inside a frame: closed */
		else if (exp.logs[c]) {
			exp.nerrors++;
			exp.logs[c] = exp.following[c] = 0;
		}
	snap_take(&got);
	snap_same(&exp, &got);
	check(lg.ce.stopped && fcntl(oldfd, F_GETFD) == -1);
	mdown = 1;
}

/* One message from the logger, through lg_msg(). */
static void
fuzz_msg(struct chan_msg *m, void *arg)
{
	const struct l_drain	*d = (const void *)m->data;
	const struct l_pipe	*p = (const void *)m->data;
	const struct l_id	*id = (const void *)m->data;
	const struct heartbeat	*hb = (const void *)m->data;
	struct snap		 before, exp, got;
	struct lfile		*lf;
	struct l_filefd		 ff;
	struct l_id		 lid;
	struct fconn		*f;
	uint32_t		 type = m->hdr.type;
	int			 oldfd = lg.ce.chan.fd;

	/* Nothing after a violation, nothing while paused. */
	check(!mdown && !mpaused && lg.up && !lg.paused && !in_msg);
	memset(&cur, 0, sizeof(cur));
	cur.m = m;
	cur.valid = model_valid(m);
	/* An error cannot follow half a frame: that too is a violation. */
	if (cur.valid && type == L_LOG_ERROR &&
	    (f = conn_find(m->hdr.peerid)) != NULL && f->c.logs &&
	    f->c.logframe)
		cur.valid = 0;
	if (m->datalen > 0) {
		if ((cur.copy = malloc(m->datalen)) == NULL)
			abort();
		memcpy(cur.copy, m->data, m->datalen);
	}
	snap_take(&before);
	exp = before;
	if (cur.valid) {
		switch (type) {
		case L_READY:
			exp.ready = 1;
			break;
		case L_HEARTBEAT_ACK:
			exp.hb_acked = hb->seq;
			mhb_acked = hb->seq;
			break;
		case L_ROTATE:
		case L_REOPEN:
			if (id->id == 0 || id->id > FUZZ_NFILES)
				break;
			/* That file only, and the logger hears how it went. */
			lf = &lg.files[id->id - 1];
			if (type == L_ROTATE) {
				exp.nrotates++;
				cur.rotate = &stores[id->id - 1];
			} else {
				exp.nreopens++;
				cur.reopen = &stores[id->id - 1];
			}
			if (stores[id->id - 1].fail) {
				/* Its id, not what else the logger sent. */
				memset(&lid, 0, sizeof(lid));
				lid.id = id->id;
				want_push(L_ROTATE_FAIL, 0, 0, &lid,
				    sizeof(lid), sizeof(lid));
			} else {
				memset(&ff, 0, sizeof(ff));
				ff.file = lf->id;
				ff.regular = 1;
				ff.size = FUZZ_FSIZE;
				ff.mtime = FUZZ_MTIME;
				want_push(L_FILE_FD, 0, 1, &ff, sizeof(ff),
				    sizeof(ff));
				/* It holds the file now. */
				mheld[id->id - 1] = exp.held[id->id - 1] = 1;
			}
			break;
		case L_FILE_CLOSED:
			/* Left out of SIGUSR1 from now on; nothing sent. */
			if (id->id != 0 && id->id <= FUZZ_NFILES)
				mheld[id->id - 1] = exp.held[id->id - 1] = 0;
			break;
		case L_DRAINED:
			if (d->inst < FUZZ_NINST && d->serial != 0 &&
			    mdrain[d->inst] == d->serial) {
				exp.drain[d->inst] = 0;
				exp.ndrained++;
			}
			break;
		case L_PIPE_DONE:
			if (p->inst < FUZZ_NINST && p->id != 0 &&
			    mpipe[p->inst][p->stream & 1] == p->id) {
				mpipe[p->inst][p->stream & 1] = 0;
				exp.pipe[p->inst][p->stream & 1] = 0;
				exp.nlive--;
			}
			break;
		case L_LOG_ENTRY:
		case L_LOG_END:
		case L_LOG_ERROR:
			cur.stype = type == L_LOG_ENTRY ? S_LOG_ENTRY :
			    type == L_LOG_END ? S_LOG_END : S_ERROR;
			f = conn_find(m->hdr.peerid);
			if (f == NULL || !f->c.logs)
				break;
			cur.to = f;
			exp.nreplies++;
			/* As dispatch.c's reply_send() takes each. */
			if (type == L_LOG_ERROR)
				exp.logs[f - conns] = exp.following[f - conns] =
				    0;
			else if (type == L_LOG_END && ((const struct s_logend *)
			    (const void *)m->data)->follow == 0)
				exp.logs[f - conns] = 0;
			else if (type == L_LOG_END)
				exp.following[f - conns] = 1;
			break;
		default:
			abort();
		}
	}

	in_msg = 1;
	lg_ops.msg(m, arg);
	in_msg = 0;

	if (!cur.valid) {
		/* Refused: the logger is lost, nothing else happened. */
		gone_check(&before, oldfd);
	} else {
		/* The frontend's queue over its mark: stop reading. */
		if (cur.relays > 0 && S.fe_up && wq >= FRONTEND_WQ_HIGH)
			mpaused = exp.paused = 1;
		snap_take(&got);
		snap_same(&exp, &got);
		check(cur.relays == (cur.to != NULL) && cur.rotate == NULL &&
		    cur.reopen == NULL);
		check(lg.ce.chan.fd == oldfd && !lg.ce.stopped);
		model_live();
	}
	free(cur.copy);
	memset(&cur, 0, sizeof(cur));
}

/* The channel failed (EOF, a malformed stream): through lg_lost(). */
static void
fuzz_lost(enum chan_ev_why why, int err, void *arg)
{
	struct snap	before;
	int		oldfd = lg.ce.chan.fd;

	check(!mdown && lg.up && !in_msg && !in_lost);
	/* Nothing of ours fails: only what the logger did. */
	check(why == CHAN_EV_EOF || why == CHAN_EV_BADMSG ||
	    (why == CHAN_EV_READ && err == EBADMSG));
	if (why == CHAN_EV_EOF)
		check(peer_shut);
	snap_take(&before);
	in_lost = 1;
	lg_ops.lost(why, err, arg);
	in_lost = 0;
	gone_check(&before, oldfd);
}

/* The supervisor's drains and pipes are the model's. */
NOCOV static void
model_live(void)
{
	uint32_t	k;
	size_t		n = 0;

	for (k = 0; k < FUZZ_NINST; k++) {
		check(lg.insts[k]->drain == mdrain[k]);
		check(lg.insts[k]->pipe[0] == mpipe[k][0] &&
		    lg.insts[k]->pipe[1] == mpipe[k][1]);
		n += (mpipe[k][0] != 0) + (mpipe[k][1] != 0);
	}
	check(lg.nlive == n);
}

/* ---- the logger's side ---- */

/* Run the event loop until the supervisor has read what it can. */
static void
pump(void)
{
	struct pollfd	pfd;
	int		i;

	for (i = 0; i < FUZZ_PUMPS; i++) {
		in_loop = 1;
		event_loop(EVLOOP_NONBLOCK);
		in_loop = 0;
		peer_read();
		if (!lg.up || lg.paused)
			break;
		if (evtimer_pending(&lg.ce.resume_ev, NULL))
			continue;
		pfd.fd = lg.ce.chan.fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0)
			break;
	}
	check(i < FUZZ_PUMPS);
}

/* What the supervisor sent the logger: what the model expects. */
static void
peer_read(void)
{
	struct chan_msg	m;
	ssize_t		r, g;

	while (lgfd != -1) {
		r = chan_read(&peer);
		while ((g = chan_get(&peer, &m)) > 0) {
			want_match(&m);
			chan_msg_free(&m);
		}
		/* Only a lost supervisor side may have stopped mid-message. */
		check(g == 0 || !lg.up);
		if (g == -1 || r <= 0)
			break;
	}
}

/* The logger is gone: the rest of what was sent to it, then its end. */
static void
peer_close(void)
{
	if (lgfd == -1)
		return;
	peer_read();
	chan_clear(&peer);
	close(lgfd);
	lgfd = -1;
	/* What could not be written to a lost logger is not sent. */
	whead = wtail = 0;
}

/* lg_spawn() after its fork, and the new logger's introduction. */
static void
spawn(void)
{
	struct l_hello	h;
	struct l_filefd	ff;
	struct l_id	lid;
	struct l_pipe	pm;
	struct l_drain	dm;
	struct linst	*li;
	uint64_t	lo, next;
	uint32_t	k, s, bk = 0, bs = 0;
	size_t		i;
	int		sv[2];

	check(!lg.up && lgfd == -1 && whead == wtail);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		abort();
	lgfd = sv[1];
	chan_init(&peer, lgfd, PROTO_CHAN_MAX);
	peer_shut = 0;
	nspawns++;

	lg.started = mono_ms();
	lg.pid = 0;
	lg.up = 1;
	lg.ready = 0;
	lg.paused = 0;
	chan_ev_init(&lg.ce, sv[0], PROTO_CHAN_MAX, 0, &fuzz_ops, NULL);
	chan_set_wqlimit(&lg.ce.chan, 256U * 1024 * 1024, 1U << 20);
	lg.hb_seq = lg.hb_acked = 0;
	mdown = 0;
	mpaused = 0;
	mhb_seq = mhb_acked = 0;

	/*
	 * Every file (without a descriptor: the logger asks for those it
	 * writes), every instance, every live pipe, every drain.
	 */
	memset(&h, 0, sizeof(h));
	h.ninstances = FUZZ_NINST;
	h.log_memory_kib = 64 * 1024;
	h.max_open_files = FUZZ_MAXOPEN;
	want_push(L_HELLO, 0, 0, &h, sizeof(h), sizeof(h));
	for (i = 0; i < FUZZ_NFILES; i++) {
		memset(&ff, 0, sizeof(ff));
		ff.file = lg.files[i].id;
		want_push(L_FILE_NEW, 0, 0, &ff, sizeof(struct l_file),
		    sizeof(ff));
		mheld[i] = 0;
	}
	for (k = 0; k < FUZZ_NINST; k++) {
		li = lg.insts[k];
		want_push(L_INST, 0, 0, &li->m, sizeof(li->m), 24);
		memset(&lid, 0, sizeof(lid));
		lid.id = k;
		want_push(L_SECRETS_CLEAR, 0, 0, &lid, sizeof(lid),
		    sizeof(lid));
	}
	/* The store keeps the order pipes came in: by id. */
	for (lo = 0;; lo = next) {
		next = 0;
		for (k = 0; k < FUZZ_NINST; k++)
			for (s = 0; s < 2; s++)
				if (mpipe[k][s] > lo &&
				    (next == 0 || mpipe[k][s] < next)) {
					next = mpipe[k][s];
					bk = k;
					bs = s;
				}
		if (next == 0)
			break;
		memset(&pm, 0, sizeof(pm));
		pm.inst = bk;
		pm.stream = bs;
		pm.id = next;
		want_push(L_PIPE, 0, 1, &pm, sizeof(pm), sizeof(pm));
	}
	for (k = 0; k < FUZZ_NINST; k++)
		if (mdrain[k] != 0) {
			memset(&dm, 0, sizeof(dm));
			dm.inst = k;
			dm.serial = mdrain[k];
			want_push(L_DRAIN, 0, 0, &dm, sizeof(dm), sizeof(dm));
		}
	lg_introduce();
	check(lg.up);
	for (i = 0; i < FUZZ_NFILES; i++)
		check(!lg.files[i].held);
	model_live();
}

/* The logger died: lg_gone(), as logctl_reaped() does. */
static void
kill_logger(void)
{
	struct snap	before;
	int		oldfd = lg.ce.chan.fd;

	check(lg.up);
	snap_take(&before);
	in_kill = 1;
	lg_gone("logger killed by a signal");
	in_kill = 0;
	gone_check(&before, oldfd);
}

/* The logger writes n bytes, with a descriptor on the first or not. */
static void
lsend(const uint8_t *p, size_t n, int withfd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	ssize_t		 w;
	uint64_t	 seen;

	if (lgfd == -1 || peer_shut || nwritten > FUZZ_MAXBYTES)
		return;
	while (n > 0) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (void *)(uintptr_t)p;
		iov.iov_len = n;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (withfd) {
			memset(&cbuf, 0, sizeof(cbuf));
			msg.msg_control = cbuf.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int));
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cm), &nullfd, sizeof(int));
		}
		w = sendmsg(lgfd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || !lg.up || lg.paused)
				break;	/* lost, or not read: the rest goes */
			seen = lg.ce.chan.rtotal;
			pump();
			if (!lg.up || lg.paused || lg.ce.chan.rtotal == seen)
				break;
			continue;
		}
		nwritten += (size_t)w;
		p += w;
		n -= (size_t)w;
		withfd = 0;
	}
}

/* One message from the input's recipe (see the top); bytes used. */
static size_t
op_msg(const uint8_t *in, size_t left)
{
	static const uint32_t	 contents[16] = {
		PROTO_LOGLINE_MAX - 1, PROTO_LOGLINE_MAX,
		PROTO_LOGLINE_MAX + 1,
		PROTO_CHAN_MAX - sizeof(struct s_logentry) - 1,
		PROTO_CHAN_MAX - sizeof(struct s_logentry),
		PROTO_CHAN_MAX - sizeof(struct s_logentry) + 1,
		1024, 4095, 4096, 16384, 32768, 65000, 8192, 2048, 512, 1
	};
	static uint8_t		 buf[CHAN_HDRSZ + PROTO_CHAN_MAX + 64];
	struct chan_hdr		 h;
	struct s_logentry	 e;
	struct s_error		 er;
	struct s_logend		 le;
	struct l_drain		 d;
	struct l_pipe		 pm;
	struct l_id		 lid;
	struct heartbeat	 hb;
	uint8_t			 t, p, f, s;
	uint32_t		 type, inst, content = 0;
	size_t			 size, k, used;

	if (left < 4)
		return (left);
	t = in[0];
	p = in[1];
	f = in[2];
	s = in[3];
	used = 4;
	switch (t & 15) {
	case 0:
		type = L_READY;
		break;
	case 1:
		type = L_ROTATE;
		break;
	case 2:
		type = L_DRAINED;
		break;
	case 3:
		type = L_PIPE_DONE;
		break;
	case 4:
	case 8:
		type = L_LOG_ENTRY;
		break;
	case 5:
	case 9:
		type = L_LOG_END;
		break;
	case 6:
	case 10:
		type = L_LOG_ERROR;
		break;
	case 7:
		type = L_HEARTBEAT_ACK;
		break;
	case 11:
		type = L_HEARTBEAT_ACK + 1 + (t >> 4);
		break;
	case 12:
		type = L_READY - 1 - (t >> 4);
		break;
	case 13:
		type = L_HELLO + (t >> 4);
		break;
	case 14:
		type = t >> 4;		/* the frontend's */
		break;
	default:
		type = (uint32_t)t << 24;
		break;
	}
	if (type == L_LOG_ENTRY) {
		content = s < 0xf0 ? (uint32_t)s * 4 : contents[s - 0xf0];
		size = sizeof(struct s_logentry) + content;
	} else if (fixed_size(type) != -1)
		size = (size_t)fixed_size(type);
	else
		size = s;
	switch (f >> 6) {
	case 1:
		size++;
		break;
	case 2:
		if (size > 0)
			size--;
		break;
	case 3:
		size = 0;
		break;
	}
	check(size <= PROTO_CHAN_MAX + 2);	/* buf has room for it */

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.len = (uint32_t)(CHAN_HDRSZ + size);
	switch ((p >> 3) & 3) {
	case 0:
		h.peerid = 0;
		break;
	case 1:
		h.peerid = conns[p & 7].c.id;
		break;
	case 2:
		h.peerid = conns[p & 7].c.id + (1U << CONN_SLOT_BITS);
		break;
	default:
		h.peerid = (uint32_t)p << 16;
		break;
	}
	if (f & 1)
		h.flags |= CHAN_F_FD;
	if (f & 2)
		h.flags |= 2U << ((f >> 2) & 3);

	/* The payload: from the input as far as it goes, then filler. */
	k = size < FUZZ_PAYLOAD_IN ? size : FUZZ_PAYLOAD_IN;
	if (k > left - used)
		k = left - used;
	memset(buf + CHAN_HDRSZ, 0, size < FUZZ_PAYLOAD_IN ? size :
	    FUZZ_PAYLOAD_IN);
	memcpy(buf + CHAN_HDRSZ, in + used, k);
	used += k;
	if (size > FUZZ_PAYLOAD_IN)
		memset(buf + CHAN_HDRSZ + FUZZ_PAYLOAD_IN, 'x',
		    size - FUZZ_PAYLOAD_IN);

	if (type == L_LOG_ENTRY && size >= sizeof(e)) {
		memcpy(&e, buf + CHAN_HDRSZ, sizeof(e));
		e.content_len = content + ((f & 0x20) != 0);
		if (f & 0x10) {
			e.process_name[sizeof(e.process_name) - 1] = '\0';
			e.stream &= 1;
			e.ts_nsec = (e.ts_nsec & 0x3fffffff) % 1000000000;
		}
		memcpy(buf + CHAN_HDRSZ, &e, sizeof(e));
	} else if ((s & 0x80) != 0) {
		switch (type) {
		case L_ROTATE:
		case L_REOPEN:
		case L_FILE_CLOSED:
			if (size < sizeof(lid))
				break;
			memset(&lid, 0, sizeof(lid));
			lid.id = s & 7;
			memcpy(buf + CHAN_HDRSZ, &lid, sizeof(lid));
			break;
		case L_DRAINED:
			if (size < sizeof(d))
				break;
			memset(&d, 0, sizeof(d));
			d.inst = inst = s & 7;
			d.serial = (inst < FUZZ_NINST ? mdrain[inst] : 1) +
			    ((s >> 3) & 1);
			memcpy(buf + CHAN_HDRSZ, &d, sizeof(d));
			break;
		case L_PIPE_DONE:
			if (size < sizeof(pm))
				break;
			memset(&pm, 0, sizeof(pm));
			pm.inst = inst = s & 7;
			pm.stream = ((s >> 3) & 1) | (s & 0x10 ? L_PIPE_AUX : 0);
			pm.id = (inst < FUZZ_NINST ?
			    mpipe[inst][pm.stream & 1] : 1) + ((s >> 5) & 1);
			memcpy(buf + CHAN_HDRSZ, &pm, sizeof(pm));
			break;
		case L_HEARTBEAT_ACK:
			if (size < sizeof(hb))
				break;
			hb.seq = mhb_seq;
			if (((s >> 3) & 3) == 1)
				hb.seq++;
			else if (((s >> 3) & 3) == 2)
				hb.seq--;
			memcpy(buf + CHAN_HDRSZ, &hb, sizeof(hb));
			break;
		case L_LOG_END:
			if (size < sizeof(le))
				break;
			memset(&le, 0, sizeof(le));
			le.follow = s & 0x40 ? 2 : s & 1;
			memcpy(buf + CHAN_HDRSZ, &le, sizeof(le));
			break;
		case L_LOG_ERROR:
			if (size < sizeof(er))
				break;
			memset(&er, 0, sizeof(er));
			er.code = s & 0x1f;
			if (s & 0x40)
				memset(er.text, 'y', sizeof(er.text));
			else
				strlcpy(er.text, "no such log", sizeof(er.text));
			memcpy(buf + CHAN_HDRSZ, &er, sizeof(er));
			break;
		}
	}
	memcpy(buf, &h, sizeof(h));
	lsend(buf, CHAN_HDRSZ + size, f & 1);
	return (used);
}

/* The supervisor acts (see the top). */
static void
op_sup(uint8_t c, uint8_t a)
{
	struct l_tail	 lt;
	struct l_conn	 lc;
	struct l_drain	 dm;
	struct l_pipe	 pm;
	struct heartbeat hb;
	struct snap	 before;
	struct conn_ref	 ref;
	struct fconn	*f = &conns[a & 7];
	uint32_t	 inst = a & 7, k;
	int		 pp[2], stream, aux, i, late, lost, oldfd;

	ref.id = f->c.id;
	ref.serial = f->c.serial;
	switch ((c >> 2) & 7) {
	case 0:
		/* tail_logs: only with no request in flight. */
		if (f->c.busy)
			break;
		memset(&lt, 0, sizeof(lt));
		lt.serial = ref.serial;
		lt.proc = a >> 4;
		lt.lines = (uint32_t)a * 3;
		lt.follow = (a & 8) != 0;
		if (lg.up)
			want_push(L_TAIL, ref.id, 0, &lt, sizeof(lt),
			    sizeof(lt));
		in_tail = 1;
		logctl_tail(ref, lt.proc, lt.lines, a & 8);
		in_tail = 0;
		check(f->c.logs == lg.up);
		break;
	case 1:
		conn_close(f);
		break;
	case 2:
		if (!f->c.following)
			break;
		memset(&lc, 0, sizeof(lc));
		lc.serial = ref.serial;
		if (lg.up)
			want_push(L_ACK, ref.id, 0, &lc, sizeof(lc),
			    sizeof(lc));
		logctl_ack(ref);
		break;
	case 3:
		/* A reaped process: not while its last exit waits. */
		if (inst < FUZZ_NINST && mdrain[inst] != 0)
			break;
		memset(&dm, 0, sizeof(dm));
		dm.inst = inst;
		dm.serial = inst < FUZZ_NINST ? ++mruns[inst] : a;
		if (inst >= FUZZ_NINST || !lg.up) {
			now.active = 1;
			now.inst = inst;
			now.serial = dm.serial;
		} else {
			mdrain[inst] = dm.serial;
			drain_set[inst] = 1;
			want_push(L_DRAIN, 0, 0, &dm, sizeof(dm), sizeof(dm));
		}
		logctl_drain(inst, dm.serial);
		check(!now.active);
		model_live();
		break;
	case 4:
		if (npipes >= FUZZ_MAXPIPES)
			break;
		npipes++;
		if (pipe2(pp, O_CLOEXEC) == -1)
			abort();
		close(pp[1]);
		stream = (a >> 3) & 1;
		aux = (a & 0x10) != 0;
		if (inst >= FUZZ_NINST) {
			logctl_pipe(inst, stream, aux, pp[0]);
			check(fcntl(pp[0], F_GETFD) == -1);
			break;
		}
		memset(&pm, 0, sizeof(pm));
		pm.inst = inst;
		pm.stream = (uint32_t)stream | (aux ? L_PIPE_AUX : 0);
		pm.id = ++mpipe_seq;
		if (lg.up)
			want_push(L_PIPE, 0, 1, &pm, sizeof(pm), sizeof(pm));
		logctl_pipe(inst, stream, aux, pp[0]);
		check(lg.pipe_seq == mpipe_seq);
		if (!aux) {
			/* Kept for the next logger, unless the store is full. */
			mpipe[inst][stream] = pm.id;
			if (lg.insts[inst]->pipe[stream] == 0 && lg.store_full)
				mpipe[inst][stream] = 0;
		}
		model_live();
		break;
	case 5:
		if (!lg.up)
			break;
		late = (c & 0x20) != 0;
		lost = 0;
		if (!lg.paused && mhb_acked < mhb_seq) {
			/* The clock: the unanswered one went now, or long ago. */
			lg.hb_sent = mono_ms() -
			    (late ? FRONTEND_HB_TIMEOUT_MS : 0);
			lost = late;
		} else if (!lg.paused) {
			memset(&hb, 0, sizeof(hb));
			hb.seq = ++mhb_seq;
			want_push(L_HEARTBEAT, 0, 0, &hb, sizeof(hb),
			    sizeof(hb));
		}
		oldfd = lg.ce.chan.fd;
		snap_take(&before);
		in_hb = 1;
		lg_heartbeat(-1, EV_TIMEOUT, NULL);
		in_hb = 0;
		if (lost) {
			gone_check(&before, oldfd);
			break;
		}
		/* Its timer is ours: it never fires by itself. */
		evtimer_del(&lg.hb_ev);
		check(lg.up && lg.hb_seq == mhb_seq && lg.hb_acked == mhb_acked);
		break;
	case 6:
		if (c & 0x20) {
			wq = FRONTEND_WQ_HIGH - (size_t)a * 1024;
			break;
		}
		wq = 0;
		logctl_fe_room();
		if (lg.up)
			mpaused = 0;
		check(lg.paused == 0 || !lg.up);
		break;
	case 7:
		if (a & 1) {
			if (S.fe_up) {
				/* Every connection goes (conn_drop_all()). */
				S.fe_up = 0;
				for (i = 0; i < FUZZ_NCONN; i++)
					conn_close(&conns[i]);
			} else
				S.fe_up = 1;
			wq = 0;
			break;
		}
		if (lg.up)
			kill_logger();
		else if (nspawns < FUZZ_MAXSPAWNS) {
			peer_close();
			spawn();
		}
		break;
	}
	for (k = 0; k < FUZZ_NINST; k++)
		check(lg.insts[k]->drain == mdrain[k]);
}

static void
op_misc(uint8_t c)
{
	struct l_filefd	ff;
	size_t		i;

	switch ((c >> 2) & 3) {
	case 0:
		/* EOF: the supervisor still writes, the logger reads. */
		if (lgfd != -1 && !peer_shut) {
			if (shutdown(lgfd, SHUT_WR) == -1)
				abort();
			peer_shut = 1;
		}
		break;
	case 1:
		if (lg.up)
			for (i = 0; i < FUZZ_NFILES; i++) {
				if (!mheld[i])
					continue;
				memset(&ff, 0, sizeof(ff));
				ff.file = lg.files[i].id;
				ff.regular = 1;
				ff.size = FUZZ_FSIZE;
				ff.mtime = FUZZ_MTIME;
				want_push(L_FILE_FD, 0, 1, &ff, sizeof(ff),
				    sizeof(ff));
			}
		in_reopen = 1;
		logctl_reopen_all();
		in_reopen = 0;
		for (i = 0; i < FUZZ_NFILES; i++)
			check(lg.files[i].held == mheld[i]);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stored	*st;
	size_t		 off = 1, n, i, ops = 0;
	uint32_t	 k;
	int		 before, c;

	if (!ready_once)
		setup();
	if (size < 1)
		return (0);

	/* A fresh start: the connections, the frontend, the model. */
	S.fe_up = 1;
	wq = 0;
	conn_serial = 0;
	for (c = 0; c < FUZZ_NCONN; c++) {
		memset(&conns[c], 0, sizeof(conns[c]));
		conns[c].gen = 0xff;
		conn_renew(&conns[c]);
	}
	for (i = 0; i < FUZZ_NFILES; i++)
		stores[i].fail = (data[0] >> i) & 1;
	memset(mpipe, 0, sizeof(mpipe));
	memset(mdrain, 0, sizeof(mdrain));
	memset(mruns, 0, sizeof(mruns));
	memset(&now, 0, sizeof(now));
	mpipe_seq = 0;
	npipes = 0;
	nspawns = 0;
	nwritten = 0;
	whead = wtail = 0;
	nreplies = nrotates = nreopens = ndrained = nerrors = nlostcalls = 0;
	memset(mheld, 0, sizeof(mheld));
	lg.pipe_seq = 0;

	before = fuzz_open_fds(scan_hi);
	spawn();
	while (off < size && ops++ < FUZZ_MAXOPS) {
		c = data[off++];
		/* A message needs a logger: a lost one is replaced. */
		if ((c & 3) < 2 && !lg.up && nspawns < FUZZ_MAXSPAWNS) {
			peer_close();
			spawn();
		}
		switch (c & 3) {
		case 0:
			n = ((size_t)(c >> 3) + 1) * 8;
			if (n > size - off)
				n = size - off;
			if (n > 0)
				lsend(data + off, n, c & 4);
			off += n;
			break;
		case 1:
			off += op_msg(data + off, size - off);
			break;
		case 2:
			if (off >= size)
				break;
			op_sup((uint8_t)c, data[off++]);
			break;
		case 3:
			op_misc((uint8_t)c);
			break;
		}
		pump();
		if (!lg.up)
			peer_close();
		else
			check(whead == wtail);	/* all of it came */
		check(!mpaused || lg.paused);
		model_live();
	}

	/* The logger goes; the store of pipes is emptied. */
	if (lg.up) {
		pump();
		kill_logger();
	}
	peer_close();
	check(!lg.up && lg.ce.stopped);
	n = store_take(&st);
	for (i = 0; i < n; i++)
		close(st[i].fd);
	free(st);
	for (k = 0; k < FUZZ_NINST; k++) {
		check(lg.insts[k]->drain == 0 && mdrain[k] == 0);
		if (drain_set[k])
			check(!evtimer_pending(&lg.insts[k]->drain_ev, NULL));
		lg.insts[k]->pipe[0] = lg.insts[k]->pipe[1] = 0;
	}
	lg.nlive = 0;
	lg.nstored = 0;
	lg.store_full = 0;
	check(!evtimer_pending(&lg.hb_ev, NULL) && lgfd == -1);

	if (fuzz_open_fds(scan_hi) != before)
		abort();
	return (0);
}
