/* SPDX-License-Identifier: ISC */
/*
 * logctl.c -- the supervisor's side of the logger (see logctl.h).
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan_event.h"
#include "logger/logfile.h"
#include "logger/redact.h"
#include "log.h"
#include "logctl.h"
#include "logstore.h"
#include "proto.h"
#include "sysutil.h"

_Static_assert(CONFIG_DISPLAY_MAX <= PROTO_DISPLAY_MAX, "display names");
_Static_assert(CONFIG_NAME_MAX < PROTO_NAME_MAX, "process names");
_Static_assert(LOGGER_CHAN_FD == FRONTEND_CHAN_FD, "sup_child_exec()");

#define STORE_BUF	(64 * 1024 * 1024)	/* in-flight pipe copies */

/*
 * A log file: its store here, its writer in the logger.  The logger
 * keeps at most max_open_log_files regular files open and says which it
 * closed (L_FILE_CLOSED): only those it holds are reopened when moved.
 */
struct lfile {
	uint32_t		 id;		/* index + 1 */
	struct logstore		*ls;
	int			 moved;		/* said it moved, not reopened */
	int			 held;		/* the logger has it open */
	int			 special;	/* not a regular file */
	int			 failing;	/* a reopen failed, said once */
	uint32_t		 flags;		/* L_FILE_* */
	uint32_t		 mode;		/* enum rotation_mode */
	uint64_t		 max_size;
	char			*tsfmt;		/* NULL: the default */
	uint32_t		 users;		/* instances' streams naming it */
};

/* A sensitive value of an instance's environment. */
struct lsecret {
	char			*name;
	char			*value;
};

/* What the logger is told about an instance, kept for a new logger. */
struct linst {
	int			 known;		/* L_INST was made */
	int			 sent;		/* sent to this logger */
	struct l_inst		 m;
	struct lsecret		*sec;
	size_t			 nsec;
	uint64_t		 pipe[2];	/* live pipe ids, 0: none */
	uint64_t		 drain;		/* run serial waiting, 0: none */
	struct event		 drain_ev;
};

/* A copy of a pipe's read end, in flight in the store. */
struct stored {
	struct l_pipe		 m;
	int			 fd;
};

static struct {
	pid_t			 pid;
	int			 up;		/* channel open */
	int			 ready;		/* L_READY seen */
	int			 paused;	/* frontend full: not read */
	int			 exiting;
	struct chan_ev		 ce;
	struct event		 respawn_ev;
	struct event		 check_ev;
	struct event		 hb_ev;
	uint64_t		 hb_seq;	/* last heartbeat sent */
	uint64_t		 hb_acked;	/* last one answered */
	int64_t			 hb_sent;	/* when hb_seq went, ms */
	int64_t			 started;	/* monotonic ms */
	struct lfile		*files;
	size_t			 nfiles;
	uint32_t		*byname;	/* files[] index + 1, by path */
	size_t			 nbyname;	/* slots, a power of two */
	size_t			 nspecial;	/* files[] not regular */
	size_t			 nheld;		/* regular ones the logger holds */
	uint32_t		 maxopen;	/* max_open_log_files */
	struct linst		**insts;	/* by instance id */
	uint32_t		 ninsts;
	uint32_t		 instscap;
	uint64_t		 pipe_seq;
	int			 store[2];	/* [1] in, [0] out */
	size_t			 nstored;	/* copies in flight */
	size_t			 nlive;
	int			 store_full;	/* said once */
	uint32_t		 log_memory_kib; /* the rings' budget */
	uint64_t		 spawns;	/* loggers started */
	struct l_stats		 stats;		/* this logger's, last said */
	struct l_stats		 stats_base;	/* the loggers' before it */
} lg = { .store = { -1, -1 } };

static void	 lg_spawn(void);
static void	 lg_respawn(int, short, void *);
static void	 lg_msg(struct chan_msg *, void *);
static void	 lg_lost(enum chan_ev_why, int, void *);
static void	 lg_gone(const char *, ...)
		    __attribute__((__format__(printf, 1, 2)));
static void	 lg_send(uint32_t, uint32_t, int, const void *, size_t);
static void	 lg_introduce(void);
static void	 lg_inst(struct linst *);
static int	 lg_file(struct lfile *, int);
static void	 lg_filefd(struct lfile *, uint32_t, int);
static void	 lg_filemsg(const struct lfile *, struct l_file *);
static void	 lg_held(struct lfile *, int, int);
static struct lfile *lg_fileid(uint32_t);
static void	 lg_rotate(uint32_t);
static void	 lg_reopen(uint32_t);
static void	 lg_relay(struct chan_msg *);
static void	 lg_conn(uint32_t, struct conn_ref);
static void	 lg_check(int, short, void *);
static void	 lg_heartbeat(int, short, void *);
static struct lfile *file_get(const char *, const struct proc_config *,
		    const struct logowner *, const char *);
static uint32_t	*file_slot(const char *);
static void	 file_settings(struct lfile *, const struct proc_config *);
static int	 file_index(void);
static int	 secrets_set(struct linst *, char *const *, size_t);
static void	 secrets_free(struct linst *);
static int	 store_put(const struct l_pipe *, int);
static size_t	 store_take(struct stored **);
static void	 store_compact(void);
static void	 drain_done(int, short, void *);

static const struct chan_ev_ops lg_ops = {
	.msg = lg_msg,
	.lost = lg_lost,
};

/* What each message from the logger must look like. */
static const struct proto_rule lg_rules[] = {
	/* type		min size			max size	fd conn */
	{ L_READY,	0,				0,		0, 0 },
	{ L_ROTATE,	sizeof(struct l_id),	sizeof(struct l_id),	0, 0 },
	{ L_DRAINED,	sizeof(struct l_drain),	sizeof(struct l_drain),	0, 0 },
	{ L_PIPE_DONE,	sizeof(struct l_pipe),	sizeof(struct l_pipe),	0, 0 },
	{ L_LOG_ENTRY,	sizeof(struct s_logentry),
	    sizeof(struct s_logentry) + PROTO_LOGLINE_MAX,		0, 1 },
	{ L_LOG_END,	sizeof(struct s_logend), sizeof(struct s_logend),
									0, 1 },
	{ L_LOG_ERROR,	sizeof(struct s_error),	sizeof(struct s_error),	0, 1 },
	{ L_HEARTBEAT_ACK, sizeof(struct heartbeat), sizeof(struct heartbeat),
									0, 0 },
	{ L_REOPEN,	sizeof(struct l_id),	sizeof(struct l_id),	0, 0 },
	{ L_FILE_CLOSED, sizeof(struct l_id),	sizeof(struct l_id),	0, 0 },
	{ L_STATS,	sizeof(struct l_stats),	sizeof(struct l_stats),	0, 0 },
};

void
logctl_init(uint32_t ninstances, uint64_t log_memory)
{
	int	sz = STORE_BUF;

	lg.log_memory_kib = (uint32_t)(log_memory / 1024);
	if (logctl_grow(ninstances) == -1)
		fatal("calloc");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, lg.store) ==
	    -1)
		fatal("socketpair");
	if (fcntl(lg.store[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(lg.store[1], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	/* As much room as we are allowed: one entry per pipe in use. */
#ifdef SO_SNDBUFFORCE
	if (setsockopt(lg.store[1], SOL_SOCKET, SO_SNDBUFFORCE, &sz,
	    sizeof(sz)) == -1)
#endif
		(void)setsockopt(lg.store[1], SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
#ifdef SO_RCVBUFFORCE
	if (setsockopt(lg.store[0], SOL_SOCKET, SO_RCVBUFFORCE, &sz,
	    sizeof(sz)) == -1)
#endif
		(void)setsockopt(lg.store[0], SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz));
}

int
logctl_grow(uint32_t n)
{
	struct linst	**ni;
	uint32_t	  cap;

	if (n > lg.instscap) {
		for (cap = lg.instscap > 0 ? lg.instscap : 16; cap < n;
		    cap *= 2)
			;
		if ((ni = reallocarray(lg.insts, cap, sizeof(*ni))) == NULL)
			return (-1);
		memset(ni + lg.instscap, 0, (cap - lg.instscap) *
		    sizeof(*ni));
		lg.insts = ni;
		lg.instscap = cap;
	}
	for (; lg.ninsts < n; lg.ninsts++)
		if ((lg.insts[lg.ninsts] = calloc(1, sizeof(**lg.insts))) ==
		    NULL)
			return (-1);
	return (0);
}

void
logctl_start(void)
{
	struct timeval	tv;

	lg.maxopen = sup->conf->daemon.max_open_log_files;
	evtimer_set(&lg.respawn_ev, lg_respawn, NULL);
	evtimer_set(&lg.check_ev, lg_check, NULL);
	evtimer_set(&lg.hb_ev, lg_heartbeat, NULL);
	ms_to_tv(LOGCTL_CHECK_MS, &tv);
	evtimer_add(&lg.check_ev, &tv);
	lg_spawn();
}

/* ---- the process ---- */

static void
lg_spawn(void)
{
	struct timeval	tv;
	int		sp[2];
	pid_t		pid;

	lg.started = mono_ms();
	if (sup_socketpair(sp) == -1) {
		log_warn("logger: socketpair");
		goto retry;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("logger: fork");
		close(sp[0]);
		close(sp[1]);
		goto retry;
	case 0:
		sup_child_exec(sp[1], "-L", sup->conf->daemon.log_user,
		    SUP_HOOK("APM2D_TEST_LOGGER"));
	}
	close(sp[1]);
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	lg.pid = pid;
	lg.up = 1;
	lg.ready = 0;
	lg.paused = 0;
	lg.spawns++;
	chan_ev_init(&lg.ce, sp[0], PROTO_CHAN_MAX, 0, &lg_ops, NULL);
	/* A backstop no message flow reaches: pipes and files are few. */
	chan_set_wqlimit(&lg.ce.chan, 256U * 1024 * 1024, 1U << 20);
	lg.hb_seq = lg.hb_acked = 0;
	ms_to_tv(FRONTEND_HB_INTERVAL_MS, &tv);
	evtimer_add(&lg.hb_ev, &tv);
	log_debug("logger started, pid %ld", (long)pid);
	lg_introduce();
	fd_reserve_fill();
	return;
 retry:
	log_warnx("cannot start a logger; trying again in %d ms",
	    LOGCTL_RESPAWN_MS);
	ms_to_tv(LOGCTL_RESPAWN_MS, &tv);
	evtimer_add(&lg.respawn_ev, &tv);
}

/* Everything a new logger needs to know and hold. */
static void
lg_introduce(void)
{
	struct l_hello	 h;
	static struct l_file	 lf;	/* 4 KiB: not on the stack */
	struct stored	*st;
	struct linst	*li;
	size_t		 n, i;
	uint32_t	 k;
	int		 dup_fd;

	memset(&h, 0, sizeof(h));
	h.ninstances = lg.ninsts;
	h.log_memory_kib = lg.log_memory_kib;
	h.max_open_files = lg.maxopen;
	lg_send(L_HELLO, 0, -1, &h, sizeof(h));
	/* Its files closed: it asks for those it writes (L_REOPEN). */
	for (i = 0; i < lg.nfiles; i++) {
		lg_held(&lg.files[i], 0, lg.files[i].special);
		lg_filemsg(&lg.files[i], &lf);
		lg_send(L_FILE_NEW, 0, -1, &lf, sizeof(lf));
	}
	for (k = 0; k < lg.ninsts; k++)
		if (lg.insts[k]->known)
			lg_inst(lg.insts[k]);
	/* The pipes still in use, from the store and back into it. */
	n = store_take(&st);
	for (i = 0; i < n; i++) {
		li = st[i].m.inst < lg.ninsts ? lg.insts[st[i].m.inst] : NULL;
		if (li == NULL || li->pipe[st[i].m.stream & 1] != st[i].m.id) {
			close(st[i].fd);
			continue;
		}
		if ((dup_fd = fcntl(st[i].fd, F_DUPFD_CLOEXEC, 0)) != -1)
			lg_send(L_PIPE, 0, dup_fd, &st[i].m, sizeof(st[i].m));
		if (store_put(&st[i].m, st[i].fd) == -1)
			li->pipe[st[i].m.stream & 1] = 0;
	}
	free(st);
	for (k = 0; k < lg.ninsts; k++)
		if (lg.insts[k]->drain != 0)
			lg_send(L_DRAIN, 0, -1, &(struct l_drain){ .inst = k,
			    .serial = lg.insts[k]->drain },
			    sizeof(struct l_drain));
}

static void
lg_respawn(int fd, short ev, void *arg)
{
	if (sup->shutting_down || lg.pid != 0)
		return;
	lg_spawn();
}

static void
lg_send(uint32_t type, uint32_t peerid, int fd, const void *data,
    size_t len)
{
	if (!lg.up) {
		if (fd != -1)
			close(fd);
		return;
	}
	(void)chan_ev_compose(&lg.ce, type, peerid, fd, data, len);
}

/* The loggers' counters, as of their last heartbeat, and respawns. */
void
logctl_metrics(uint64_t *written, uint64_t *lost, uint64_t *respawns)
{
	*written = lg.stats_base.log_bytes_written +
	    lg.stats.log_bytes_written;
	*lost = lg.stats_base.log_bytes_lost + lg.stats.log_bytes_lost;
	*respawns = lg.spawns > 0 ? lg.spawns - 1 : 0;
}

/* The daemon's own log file, reopened: the logger's lines go there. */
void
logctl_send_logfd(int fd)
{
	lg_send(L_LOGFD, 0, fd, NULL, 0);
}

static void
lg_lost(enum chan_ev_why why, int err, void *arg)
{
	switch (why) {
	case CHAN_EV_EOF:
		lg_gone("logger closed its channel");
		break;
	case CHAN_EV_BADMSG:
		lg_gone("malformed message from the logger");
		break;
	default:
		lg_gone("channel to the logger: %s", strerror(err));
		break;
	}
}

/*
 * The logger is lost: stop listening to it, kill it, and let the reap
 * start the next one.  Instances waiting for a drain go on now; what
 * the dead logger had read but not written is lost (see SECURITY.md).
 */
static void
lg_gone(const char *fmt, ...)
{
	char		 buf[256];
	va_list		 ap;
	uint32_t	 k;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (lg.up) {
		if (!sup->shutting_down)
			log_warnx("logger lost: %s", buf);
		chan_ev_stop(&lg.ce);
		chan_clear(&lg.ce.chan);
		close(lg.ce.chan.fd);
		evtimer_del(&lg.hb_ev);
		lg.up = 0;
		lg.ready = 0;
		conn_logs_lost();
		for (k = 0; k < lg.ninsts; k++)
			if (lg.insts[k]->drain != 0)
				drain_done(-1, 0, lg.insts[k]);
	}
	if (lg.pid > 0)
		kill(lg.pid, SIGKILL);
}

int
logctl_reaped(pid_t pid, int status)
{
	struct timeval	tv;
	int64_t		wait;

	if (pid != lg.pid || pid <= 0)
		return (logstore_reap(pid, status));
	if (lg.up)
		lg_gone("logger %s", WIFSIGNALED(status) ?
		    "killed by a signal" : "exited");
	if (!sup->shutting_down) {
		if (WIFSIGNALED(status))
			log_warnx("logger %ld killed by signal %d (%s)",
			    (long)pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else
			log_warnx("logger %ld exited with %d", (long)pid,
			    WEXITSTATUS(status));
	}
	lg.pid = 0;
	/* The next logger counts from zero. */
	lg.stats_base.log_bytes_written += lg.stats.log_bytes_written;
	lg.stats_base.log_bytes_lost += lg.stats.log_bytes_lost;
	memset(&lg.stats, 0, sizeof(lg.stats));
	if (sup->shutting_down)
		return (1);
	wait = lg.started + LOGCTL_RESPAWN_MS - mono_ms();
	if (wait < 0)
		wait = 0;
	if (wait > LOGCTL_RESPAWN_MS)
		wait = LOGCTL_RESPAWN_MS;
	log_warnx("respawning the logger in %lld ms", (long long)wait);
	ms_to_tv(wait, &tv);
	evtimer_add(&lg.respawn_ev, &tv);
	return (1);
}

int
logctl_fd_room(uint32_t inst, int npipes)
{
	struct rlimit	rl;
	size_t		need = (size_t)npipes;
	size_t		regular = lg.nfiles - lg.nspecial;

	if (inst >= lg.ninsts || getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return (1);
	if (!lg.insts[inst]->known)
		regular += (size_t)npipes;	/* and as many files */
	/* Regular files: at most maxopen open at once. */
	if (lg.maxopen != 0 && regular > lg.maxopen)
		regular = lg.maxopen;
	return (lg.nlive + lg.nspecial + regular + need + LOGCTL_FD_RESERVE <=
	    (size_t)rl.rlim_cur);
}

int
logctl_child(pid_t pid)
{
	return ((pid == lg.pid && pid > 0) || logstore_child(pid));
}

/*
 * Shutdown, every agent gone: the logger reads what the pipes still
 * hold, writes it out and exits.  Waited for here, at most
 * LOGCTL_EXIT_MS: nothing else is left to do.
 */
void
logctl_exit(void)
{
	struct pollfd	 pfd;
	char		 buf[4096];
	int64_t		 end = mono_ms() + LOGCTL_EXIT_MS, left;
	int		 st;

	if (lg.up) {
		lg_send(L_EXIT, 0, -1, NULL, 0);
		if (lg.up) {
			chan_ev_stop(&lg.ce);
			/* What could not be written yet, written now. */
			pfd.fd = lg.ce.chan.fd;
			while (chan_pending(&lg.ce.chan) &&
			    (left = end - mono_ms()) > 0) {
				pfd.events = POLLOUT;
				if (poll(&pfd, 1, (int)left) <= 0 ||
				    chan_flush(&lg.ce.chan) == -1)
					break;
			}
			/* Until it closes its end: it has exited. */
			while ((left = end - mono_ms()) > 0) {
				pfd.events = POLLIN;
				if (poll(&pfd, 1, (int)left) <= 0 ||
				    read(pfd.fd, buf, sizeof(buf)) <= 0)
					break;
			}
			lg.up = 0;
		}
	}
	if (lg.pid > 0) {
		if (waitpid(lg.pid, &st, WNOHANG) == 0) {
			kill(lg.pid, SIGKILL);
			(void)waitpid(lg.pid, &st, 0);
		}
		lg.pid = 0;
	}
}

/*
 * Every FRONTEND_HB_INTERVAL_MS, as for the frontend: a logger that has
 * not answered within FRONTEND_HB_TIMEOUT_MS (wedged by what an agent
 * wrote, or stopped) is replaced, so agents never wait on full pipes for
 * a logger that only looks alive.  Not while we do not read it.
 */
static void
lg_heartbeat(int fd, short ev, void *arg)
{
	struct heartbeat	hb;
	struct timeval		tv;
	int64_t			now = mono_ms();

	if (!lg.up)
		return;
	if (lg.paused)
		lg.hb_sent = now;
	else if (lg.hb_acked < lg.hb_seq) {
		if (now - lg.hb_sent >= FRONTEND_HB_TIMEOUT_MS) {
			lg_gone("no answer to a heartbeat for %lld ms",
			    (long long)(now - lg.hb_sent));
			return;
		}
	} else {
		memset(&hb, 0, sizeof(hb));
		hb.seq = ++lg.hb_seq;
		lg.hb_sent = now;
		lg_send(L_HEARTBEAT, 0, -1, &hb, sizeof(hb));
		if (!lg.up)
			return;
	}
	ms_to_tv(FRONTEND_HB_INTERVAL_MS, &tv);
	evtimer_add(&lg.hb_ev, &tv);
}

/* ---- messages from the logger ---- */

static void
lg_msg(struct chan_msg *msg, void *arg)
{
	const struct proto_rule	*r;
	const struct l_drain	*d = (const void *)msg->data;
	const struct l_pipe	*p = (const void *)msg->data;
	struct l_stats		 st;
	struct linst		*li;
	struct lfile		*f;

	r = proto_rule_find(lg_rules, sizeof(lg_rules) / sizeof(lg_rules[0]),
	    msg->hdr.type);
	if (r == NULL || msg->datalen < r->minsize ||
	    msg->datalen > r->maxsize || msg->fd != -1 ||
	    (msg->hdr.flags & ~(uint32_t)CHAN_F_FD) != 0 ||
	    (!r->conn && msg->hdr.peerid != 0)) {
		lg_gone("protocol violation: %s with %zu bytes",
		    proto_type_name(msg->hdr.type), msg->datalen);
		return;
	}
	switch (msg->hdr.type) {
	case L_READY:
		lg.ready = 1;
		break;
	case L_HEARTBEAT_ACK:
		lg.hb_acked = ((const struct heartbeat *)(const void *)
		    msg->data)->seq;
		break;
	case L_STATS:
		/* Counters only grow; a logger saying less is not believed. */
		memcpy(&st, msg->data, sizeof(st));
		if (st.log_bytes_written >= lg.stats.log_bytes_written &&
		    st.log_bytes_lost >= lg.stats.log_bytes_lost)
			lg.stats = st;
		break;
	case L_ROTATE:
		lg_rotate(((const struct l_id *)msg->data)->id);
		break;
	case L_REOPEN:
		lg_reopen(((const struct l_id *)msg->data)->id);
		break;
	case L_FILE_CLOSED:
		if ((f = lg_fileid(((const struct l_id *)msg->data)->id)) !=
		    NULL)
			lg_held(f, 0, f->special);
		break;
	case L_DRAINED:
		if (d->inst < lg.ninsts && lg.insts[d->inst]->drain ==
		    d->serial && d->serial != 0)
			drain_done(-1, 0, lg.insts[d->inst]);
		break;
	case L_PIPE_DONE:
		if (p->inst < lg.ninsts) {
			li = lg.insts[p->inst];
			if (li->pipe[p->stream & 1] == p->id && p->id != 0) {
				li->pipe[p->stream & 1] = 0;
				lg.nlive--;
				store_compact();
			}
		}
		break;
	default:
		lg_relay(msg);
		break;
	}
}

/*
 * A reply for a client: only to a connection that asked the logger,
 * checked against what it asked (dispatch.c keeps that), never parsed.
 */
static void
lg_relay(struct chan_msg *msg)
{
	struct sup_conn	*c;
	struct conn_ref	 ref;
	uint32_t	 type;

	/* What the frontend would refuse (and exit for) is a violation. */
	if ((msg->hdr.type == L_LOG_ENTRY &&
	    !proto_logentry_ok(msg->data, msg->datalen)) ||
	    (msg->hdr.type == L_LOG_ERROR &&
	    !proto_error_ok(msg->data, msg->datalen))) {
		lg_gone("protocol violation: %s with %zu bytes",
		    proto_type_name(msg->hdr.type), msg->datalen);
		return;
	}
	if ((c = conn_logs_waiting(msg->hdr.peerid)) == NULL)
		return;		/* closed meanwhile, or never asked */
	if (msg->hdr.type == L_LOG_ERROR && c->logframe) {
		lg_gone("protocol violation: L_LOG_ERROR inside a frame");
		return;
	}
	ref.id = c->id;
	ref.serial = c->serial;
	switch (msg->hdr.type) {
	case L_LOG_ENTRY:
		type = S_LOG_ENTRY;
		break;
	case L_LOG_END:
		type = S_LOG_END;
		break;
	default:
		type = S_ERROR;
		break;
	}
	reply_send(ref, type, msg->data, msg->datalen);
	if (sup->fe_up && chan_wqbytes(&sup->fe_ce.chan) >= FRONTEND_WQ_HIGH &&
	    !lg.paused) {
		lg.paused = 1;
		chan_ev_pause(&lg.ce, 1);
	}
}

void
logctl_fe_room(void)
{
	if (lg.paused && lg.up && (!sup->fe_up ||
	    chan_wqbytes(&sup->fe_ce.chan) < FRONTEND_WQ_HIGH / 2)) {
		lg.paused = 0;
		chan_ev_pause(&lg.ce, 0);
	}
}

void
logctl_tail(struct conn_ref ref, uint32_t proc, uint32_t lines, int follow)
{
	struct l_tail	m;

	if (!lg.up) {
		reply_error(ref, ERR_INTERNAL_ERROR, "the logger is not "
		    "running; try again in a moment");
		return;
	}
	memset(&m, 0, sizeof(m));
	m.serial = ref.serial;
	m.proc = proc;
	m.lines = lines;
	m.follow = follow != 0;
	conn_logs_expect(ref);
	lg_send(L_TAIL, ref.id, -1, &m, sizeof(m));
}

/* A message about a connection: L_ACK, L_CONN_CLOSED. */
static void
lg_conn(uint32_t type, struct conn_ref ref)
{
	struct l_conn	m;

	memset(&m, 0, sizeof(m));
	m.serial = ref.serial;
	lg_send(type, ref.id, -1, &m, sizeof(m));
}

void
logctl_ack(struct conn_ref ref)
{
	lg_conn(L_ACK, ref);
}

void
logctl_conn_closed(struct conn_ref ref)
{
	lg_conn(L_CONN_CLOSED, ref);
}

/* ---- instances ---- */

void
logctl_spawn(uint32_t inst, const struct config *conf,
    const struct proc_config *pc, uint32_t proc, uint32_t idx,
    const char *display, const struct logowner *owner, char *const *env,
    size_t nenv)
{
	char		 path[2][PATH_MAX];
	struct linst	*li;
	struct lfile	*f;
	struct l_inst	 was;
	int		 s, changed, fresh = 0;

	if (inst >= lg.ninsts)
		return;
	li = lg.insts[inst];
	was = li->m;
	if (!li->known) {
		fresh = 1;
		li->known = 1;
		li->m.inst = inst;
		li->m.proc = proc;
		li->m.idx = idx;
		li->m.flags = (pc->log.redact ? L_INST_REDACT : 0) |
		    (pc->log.redact || pc->log.timestamp ? L_INST_LINES : 0);
		(void)strlcpy(li->m.name, pc->name, sizeof(li->m.name));
		(void)strlcpy(li->m.display, display, sizeof(li->m.display));
	}
	if (li->m.file[0] == 0 || li->m.file[1] == 0) {
		if (config_log_paths(conf, pc, idx, path[0], sizeof(path[0]),
		    path[1], sizeof(path[1])) == -1)
			log_warnx("%s: log file names too long", display);
		else
			for (s = 0; s < 2; s++) {
				if (li->m.file[s] != 0 || path[s][0] == '\0' ||
				    (f = file_get(path[s], pc, owner,
				    display)) == NULL)
					continue;
				li->m.file[s] = f->id;
				f->users++;
			}
	}
	if (fresh)
		for (s = 0; s < 2; s++)
			if (li->m.file[s] != 0)
				file_settings(lg_fileid(li->m.file[s]), pc);
	changed = secrets_set(li, env, nenv);
	/* A restart of the same instance: the logger knows it all. */
	if (!changed && li->sent && memcmp(&was, &li->m, sizeof(was)) == 0)
		return;
	lg_inst(li);
}

static void
lg_inst(struct linst *li)
{
	struct l_secret	 h;
	char		*buf;
	size_t		 i, nl, vl;

	li->sent = lg.up;
	lg_send(L_INST, 0, -1, &li->m, sizeof(li->m));
	lg_send(L_SECRETS_CLEAR, 0, -1, &(struct l_id){ .id = li->m.inst },
	    sizeof(struct l_id));
	for (i = 0; i < li->nsec; i++) {
		nl = strlen(li->sec[i].name);
		vl = strlen(li->sec[i].value);
		if (sizeof(h) + nl + vl > PROTO_CHAN_MAX) {
			log_warnx("%s: the value of %s is too long to be "
			    "masked in its logs", li->m.display,
			    li->sec[i].name);
			continue;
		}
		if ((buf = malloc(sizeof(h) + nl + vl)) == NULL)
			continue;
		h.inst = li->m.inst;
		h.namelen = (uint32_t)nl;
		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), li->sec[i].name, nl);
		memcpy(buf + sizeof(h) + nl, li->sec[i].value, vl);
		lg_send(L_SECRET, 0, -1, buf, sizeof(h) + nl + vl);
		freezero(buf, sizeof(h) + nl + vl);
	}
}

static void
secrets_free(struct linst *li)
{
	size_t	i;

	for (i = 0; i < li->nsec; i++) {
		freezero(li->sec[i].name, strlen(li->sec[i].name) + 1);
		freezero(li->sec[i].value, strlen(li->sec[i].value) + 1);
	}
	free(li->sec);
	li->sec = NULL;
	li->nsec = 0;
}

/*
 * The sensitive values of the environment the instance gets now: 1 if
 * they are not those it had.
 */
static int
secrets_set(struct linst *li, char *const *env, size_t nenv)
{
	struct lsecret	*v;
	struct linst	 old = *li;
	const char	*eq;
	size_t		 i;
	int		 changed;

	li->sec = NULL;
	li->nsec = 0;
	if (nenv > 0 && (li->sec = calloc(nenv, sizeof(*li->sec))) != NULL)
		for (i = 0; i < nenv; i++) {
			if ((eq = strchr(env[i], '=')) == NULL)
				continue;
			v = &li->sec[li->nsec];
			if ((v->name = strndup(env[i],
			    (size_t)(eq - env[i]))) == NULL)
				break;
			if (!redact_env_name_sensitive(v->name) ||
			    (v->value = strdup(eq + 1)) == NULL) {
				free(v->name);
				continue;
			}
			li->nsec++;
		}
	changed = old.nsec != li->nsec;
	for (i = 0; !changed && i < li->nsec; i++)
		changed = strcmp(old.sec[i].name, li->sec[i].name) != 0 ||
		    strcmp(old.sec[i].value, li->sec[i].value) != 0;
	secrets_free(&old);
	return (changed);
}

void
logctl_settings(uint32_t inst, const struct proc_config *pc)
{
	struct linst	*li;
	int		 s;

	if (inst >= lg.ninsts || !(li = lg.insts[inst])->known)
		return;
	for (s = 0; s < 2; s++)
		if (li->m.file[s] != 0)
			file_settings(lg_fileid(li->m.file[s]), pc);
}

/*
 * f written as pc says (timestamps, rotation), if it is not already:
 * the store and the logger are told.  Several processes naming one file
 * share it: the last one set wins.
 */
static void
file_settings(struct lfile *f, const struct proc_config *pc)
{
	static struct l_file	 lf;	/* 4 KiB: not on the stack */
	const struct log_config	*lc = &pc->log;
	const char		*fmt = lc->timestamp_format;
	char			*nfmt = NULL;
	uint32_t		 flags = lc->timestamp ? L_FILE_TIMESTAMP : 0;

	if (f == NULL)
		return;
	if (f->flags == flags && f->mode == lc->rotation.mode &&
	    f->max_size == lc->rotation.max_size &&
	    ((fmt == NULL && f->tsfmt == NULL) || (fmt != NULL &&
	    f->tsfmt != NULL && strcmp(fmt, f->tsfmt) == 0)) &&
	    logstore_same(f->ls, lc))
		return;
	if (fmt != NULL && (nfmt = strdup(fmt)) == NULL) {
		log_warnx("log file %s: out of memory", logstore_path(f->ls));
		return;
	}
	free(f->tsfmt);
	f->tsfmt = nfmt;
	f->flags = flags;
	f->mode = lc->rotation.mode;
	f->max_size = lc->rotation.max_size;
	logstore_set(f->ls, lc);
	lg_filemsg(f, &lf);
	if (lg.up)
		lg_send(L_FILE_NEW, 0, -1, &lf, sizeof(lf));
}

void
logctl_forget(uint32_t inst)
{
	struct linst	*li;
	struct lfile	*f;
	int		 s;

	if (inst >= lg.ninsts)
		return;
	li = lg.insts[inst];
	if (li->sent && lg.up)
		lg_send(L_SECRETS_CLEAR, 0, -1, &(struct l_id){ .id = inst },
		    sizeof(struct l_id));
	secrets_free(li);
	li->sec = NULL;
	li->nsec = 0;
	li->known = 0;
	li->sent = 0;
	/* A file nothing names any more is closed (reopened if named). */
	for (s = 0; s < 2; s++)
		if ((f = lg_fileid(li->m.file[s])) != NULL &&
		    --f->users == 0 && f->held && lg.up)
			lg_send(L_FILE_CLOSE, 0, -1,
			    &(struct l_id){ .id = f->id }, sizeof(struct l_id));
	memset(&li->m, 0, sizeof(li->m));
}

void
logctl_pipe(uint32_t inst, int stream, int aux, int fd)
{
	struct l_pipe	 m;
	struct linst	*li;
	int		 copy;

	if (inst >= lg.ninsts) {
		close(fd);
		return;
	}
	li = lg.insts[inst];
	memset(&m, 0, sizeof(m));
	m.inst = inst;
	m.stream = (uint32_t)(stream & 1) | (aux ? L_PIPE_AUX : 0);
	m.id = ++lg.pipe_seq;
	if (!aux) {
		if (li->pipe[stream & 1] != 0)
			lg.nlive--;
		li->pipe[stream & 1] = 0;
		/* A copy for the next logger, should this one die. */
		if ((copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)) != -1 &&
		    store_put(&m, copy) == 0) {
			li->pipe[stream & 1] = m.id;
			lg.nlive++;
		}
		store_compact();
	}
	lg_send(L_PIPE, 0, fd, &m, sizeof(m));
}

void
logctl_drain(uint32_t inst, uint64_t serial)
{
	struct linst	*li;
	struct l_drain	 m;
	struct timeval	 tv;

	if (inst >= lg.ninsts || !lg.up) {
		runner_drained(inst, serial);
		return;
	}
	li = lg.insts[inst];
	li->drain = serial;
	memset(&m, 0, sizeof(m));
	m.inst = inst;
	m.serial = serial;
	evtimer_set(&li->drain_ev, drain_done, li);
	ms_to_tv(LOGCTL_DRAIN_MS, &tv);
	evtimer_add(&li->drain_ev, &tv);
	lg_send(L_DRAIN, 0, -1, &m, sizeof(m));
}

/* The logger has read what the process left (or we stop waiting). */
static void
drain_done(int fd, short ev, void *arg)
{
	struct linst	*li = arg;
	uint64_t	 serial = li->drain;

	if (serial == 0)
		return;
	if (fd == -1 && ev == 0)
		evtimer_del(&li->drain_ev);
	else
		log_warnx("%s: the logger did not confirm its output within "
		    "%d ms", li->m.display, LOGCTL_DRAIN_MS);
	li->drain = 0;
	runner_drained(li->m.inst, serial);
}

/* ---- files ---- */

/* The file for path, opened with the owner's rights if new. */
static struct lfile *
file_get(const char *path, const struct proc_config *pc,
    const struct logowner *owner, const char *display)
{
	struct lfile	*f, *nf;
	struct logstore	*ls;
	char		 err[PATH_MAX + 128];
	const char	*fmt;
	uint32_t	*slot;
	int		 fd;

	if (lg.nbyname != 0 && *(slot = file_slot(path)) != 0) {
		f = &lg.files[*slot - 1];
		if (logstore_uid(f->ls) != owner->uid) {
			log_warnx("%s: log file %s: refused: it is written "
			    "for uid %lu (its output is kept in memory only)",
			    display, path, (unsigned long)logstore_uid(f->ls));
			return (NULL);
		}
		return (f);
	}
	if (file_index() == -1) {
		log_warnx("%s: log file %s: out of memory", display, path);
		return (NULL);
	}
	if ((ls = logstore_open(path, &pc->log, owner, &fd, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s: log file: %s (its output is kept in memory "
		    "only)", display, err);
		return (NULL);
	}
	if ((nf = reallocarray(lg.files, lg.nfiles + 1, sizeof(*nf))) ==
	    NULL) {
		log_warnx("%s: log file %s: out of memory", display, path);
		logstore_close(ls);
		close(fd);
		return (NULL);
	}
	lg.files = nf;
	f = &lg.files[lg.nfiles];
	memset(f, 0, sizeof(*f));
	fmt = pc->log.timestamp_format;
	if (fmt != NULL && (f->tsfmt = strdup(fmt)) == NULL) {
		log_warnx("%s: log file %s: out of memory", display, path);
		logstore_close(ls);
		close(fd);
		return (NULL);
	}
	f->id = (uint32_t)++lg.nfiles;
	f->ls = ls;
	*file_slot(path) = f->id;
	f->flags = pc->log.timestamp ? L_FILE_TIMESTAMP : 0;
	f->mode = pc->log.rotation.mode;
	f->max_size = pc->log.rotation.max_size;
	lg_filefd(f, L_FILE_OPEN, fd);
	return (f);
}

/*
 * The slot of path in the index of files by path: the file's id (its
 * index + 1), or 0 where it would go.  Open addressing, FNV-1a; files
 * are never removed, so no slot is ever emptied.
 */
static uint32_t *
file_slot(const char *path)
{
	size_t	i, mask = lg.nbyname - 1;

	for (i = fnv1a(path) & mask;; i = (i + 1) & mask)
		if (lg.byname[i] == 0 || strcmp(logstore_path(
		    lg.files[lg.byname[i] - 1].ls), path) == 0)
			return (&lg.byname[i]);
}

/* Room in the index for one more file, at most half full.  0 or -1. */
static int
file_index(void)
{
	uint32_t	*old = lg.byname, *nb;
	size_t		 i, n = lg.nbyname;

	if (2 * (lg.nfiles + 1) <= n)
		return (0);
	n = n == 0 ? 64 : 2 * n;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return (-1);
	lg.byname = nb;
	lg.nbyname = n;
	for (i = 0; i < lg.nfiles; i++)
		*file_slot(logstore_path(lg.files[i].ls)) = lg.files[i].id;
	free(old);
	return (0);
}

/* f opened anew at its path and sent.  0, or -1 (said unless quiet). */
static int
lg_file(struct lfile *f, int quiet)
{
	char	err[PATH_MAX + 128];
	int	fd;

	if ((fd = logstore_reopen(f->ls, err, sizeof(err))) == -1) {
		if (!quiet)
			log_warnx("log file %s: %s", logstore_path(f->ls),
			    err);
		return (-1);
	}
	lg_filefd(f, L_FILE_FD, fd);
	return (0);
}

/* f's settings as L_FILE_OPEN and L_FILE_NEW carry them. */
static void
lg_filemsg(const struct lfile *f, struct l_file *lf)
{
	memset(lf, 0, sizeof(*lf));
	lf->fd.file = f->id;
	lf->flags = f->flags;
	lf->mode = f->mode;
	lf->max_size = f->max_size;
	if (f->tsfmt != NULL)
		(void)strlcpy(lf->ts_format, f->tsfmt, sizeof(lf->ts_format));
	(void)strlcpy(lf->path, logstore_path(f->ls), sizeof(lf->path));
}

/* f's descriptor fd to the logger: with f's settings for L_FILE_OPEN. */
static void
lg_filefd(struct lfile *f, uint32_t type, int fd)
{
	static struct l_file	 lf;	/* 4 KiB: not on the stack */
	struct logfile_fdinfo	 fi;
	struct l_filefd		 m;

	memset(&m, 0, sizeof(m));
	m.file = f->id;
	if (logfile_fdinfo(fd, &fi) == 0) {
		m.regular = (uint32_t)fi.regular;
		m.size = fi.size;
		m.mtime = (int64_t)fi.mtime;
	}
	lg_filemsg(f, &lf);
	if (type == L_FILE_OPEN && m.regular && lg.maxopen != 0 &&
	    lg.nheld >= lg.maxopen) {
		/*
		 * The logger would close another for it: it asks when it
		 * writes, and no more descriptors wait in our queue than it
		 * keeps open.
		 */
		close(fd);
		lg_held(f, 0, 0);
		lg_send(L_FILE_NEW, 0, -1, &lf, sizeof(lf));
		return;
	}
	lg_held(f, 1, m.regular == 0);
	if (type != L_FILE_OPEN) {
		lg_send(L_FILE_FD, 0, fd, &m, sizeof(m));
		return;
	}
	lf.fd = m;
	lg_send(L_FILE_OPEN, 0, fd, &lf, sizeof(lf));
}

/*
 * Whether the logger holds f, and whether f is special (not a regular
 * file: the logger never closes it, and logctl_fd_room() counts it
 * apart).
 */
static void
lg_held(struct lfile *f, int held, int special)
{
	if (f->held && !f->special)
		lg.nheld--;
	if (f->special)
		lg.nspecial--;
	f->held = held;
	f->special = special;
	if (f->held && !f->special)
		lg.nheld++;
	if (f->special)
		lg.nspecial++;
}

static struct lfile *
lg_fileid(uint32_t id)
{
	if (id == 0 || id > lg.nfiles)
		return (NULL);
	return (&lg.files[id - 1]);
}

static void
lg_rotate(uint32_t id)
{
	struct lfile	*f;
	char		 err[PATH_MAX + 128];
	int		 fd;

	if ((f = lg_fileid(id)) == NULL)
		return;
	if ((fd = logstore_rotate(f->ls, err, sizeof(err))) == -1) {
		log_warnx("log file %s: %s", logstore_path(f->ls), err);
		lg_send(L_ROTATE_FAIL, 0, -1, &(struct l_id){ .id = id },
		    sizeof(struct l_id));
		return;
	}
	log_debug("log file %s: rotated", logstore_path(f->ls));
	lg_filefd(f, L_FILE_FD, fd);
}

/*
 * The logger has output for a file it closed: the path opened again
 * with the owner's rights, as at a move.  A failure is said once until
 * a reopen works; the logger asks again a second later.
 */
static void
lg_reopen(uint32_t id)
{
	struct lfile	*f;

	if ((f = lg_fileid(id)) == NULL)
		return;
	if (lg_file(f, f->failing) == -1) {
		f->failing = 1;
		lg_send(L_ROTATE_FAIL, 0, -1, &(struct l_id){ .id = id },
		    sizeof(struct l_id));
		return;
	}
	if (f->failing)
		log_warnx("log file %s: opened again", logstore_path(f->ls));
	f->failing = 0;
	f->moved = 0;
}

/*
 * Files that vanished from their path are made again there.  Only
 * those the logger holds: it opens the others by path when it writes.
 */
static void
lg_check(int fd, short ev, void *arg)
{
	struct timeval	 tv;
	struct lfile	*f;
	size_t		 i;

	for (i = 0; i < lg.nfiles; i++) {
		f = &lg.files[i];
		if (!f->held || !logstore_moved(f->ls))
			continue;
		/* Said once; a failing reopen is retried quietly. */
		if (!f->moved)
			log_warnx("log file %s: moved or removed; reopening "
			    "it at its path", logstore_path(f->ls));
		f->moved = lg_file(f, f->moved) == -1;
	}
	ms_to_tv(LOGCTL_CHECK_MS, &tv);
	evtimer_add(&lg.check_ev, &tv);
}

/* SIGUSR1: the files the logger holds; it reopens the others itself. */
void
logctl_reopen_all(void)
{
	size_t	i, n = 0;

	for (i = 0; i < lg.nfiles; i++)
		if (lg.files[i].held)
			n++;
	log_info("reopening %zu log files", n);
	for (i = 0; i < lg.nfiles; i++)
		if (lg.files[i].held)
			lg.files[i].moved = lg_file(&lg.files[i], 0) == -1;
}

/* ---- the store of pipe copies ---- */

/* Put a copy in flight (fd is consumed).  0, or -1 when full. */
static int
store_put(const struct l_pipe *m, int fd)
{
	ssize_t	n;

	n = fd_send(lg.store[1], m, sizeof(*m), fd);
	close(fd);
	if (n != (ssize_t)sizeof(*m)) {
		if (!lg.store_full)
			log_warnx("cannot keep a copy of a pipe for a new "
			    "logger (%s): a logger that dies now loses that "
			    "output", n == -1 ? strerror(errno) : "short");
		lg.store_full = 1;
		return (-1);
	}
	lg.nstored++;
	return (0);
}

/* Every copy out of the store, into *out. */
static size_t
store_take(struct stored **out)
{
	struct stored	*v = NULL, *nv;
	struct l_pipe	 m;
	size_t		 n = 0, cap = 0;
	ssize_t		 r;
	int		 fd;

	for (;;) {
		if ((r = fd_recv(lg.store[0], &m, sizeof(m), 0, &fd)) == -1 &&
		    errno == EBADMSG)
			continue;
		if (r <= 0)
			break;
		if (r != (ssize_t)sizeof(m) || fd == -1) {
			if (fd != -1)
				close(fd);
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				close(fd);
				break;
			}
			v = nv;
		}
		v[n].m = m;
		v[n++].fd = fd;
	}
	lg.nstored = 0;
	lg.store_full = 0;
	*out = v;
	return (n);
}

/* Copies of pipes that ended are dropped once they outnumber the rest. */
static void
store_compact(void)
{
	struct stored	*st;
	struct linst	*li;
	size_t		 n, i;

	if (lg.nstored <= 2 * lg.nlive + 64)
		return;
	n = store_take(&st);
	for (i = 0; i < n; i++) {
		li = st[i].m.inst < lg.ninsts ? lg.insts[st[i].m.inst] : NULL;
		if (li == NULL || li->pipe[st[i].m.stream & 1] != st[i].m.id)
			close(st[i].fd);
		else if (store_put(&st[i].m, st[i].fd) == -1) {
			li->pipe[st[i].m.stream & 1] = 0;
			lg.nlive--;
		}
	}
	free(st);
}
