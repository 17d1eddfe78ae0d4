/* SPDX-License-Identifier: ISC */
/*
 * supervisor.c -- the supervisor's life: start-up, the event loop,
 * signals, the frontend's spawn/respawn, and shutdown.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <limits.h>
#include <event.h>
#include <fcntl.h>
#include <err.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "metrics.h"
#include "state.h"
#include "log.h"
#include "runner.h"
#include "logctl.h"
#include "notify.h"
#include "sdnotify.h"
#include "supervisor.h"
#include "reload.h"

struct supervisor	*sup;

static void	sup_signal(int, short, void *);
static void	sup_logfile_reopen(void);
static void	sup_sigchld(void);
static void	fe_spawn(void);
#ifdef APM2D_TEST_HOOKS
static void	fd_fill_all(void);
#endif
static void	fe_respawn(int, short, void *);
static void	fe_msg(struct chan_msg *, void *);
static void	fe_done(void *);
static void	fe_chan_lost(enum chan_ev_why, int, void *);
static void	fe_reaped(int);
static void	fe_heartbeat(int, short, void *);
static void	sup_finish(void);
static void	sup_finish_ev(int, short, void *);
static void	sup_stopped_all(void);
static __attribute__((__noreturn__)) void
		startup_fail(const char *, ...)
		__attribute__((__format__(printf, 1, 2)));
static void	sup_setup(void);
static void	sup_events(void);

static const struct chan_ev_ops fe_ops = {
	.msg = fe_msg,
	.lost = fe_chan_lost,
	.done = fe_done
};

uint64_t
sup_uptime_secs(void)
{
	return (mono_secs_since(&sup->start_mono));
}

/*
 * Start-up failed.  Before daemonizing (no pid of ours yet) the reason
 * goes to stderr; after, to the log and the launcher.  The socket and
 * pid file go if they are ours yet.
 */
static void
startup_fail(const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sup->pid != 0) {
		log_warnx("%s", buf);
		daemon_ready(sup->readyfd, buf);
		sup->readyfd = -1;
	}
	if (sup->listenfd != -1)
		unlink(sup->conf->daemon.socket);
	if (sup->pidfd != -1)
		unlink(sup->conf->daemon.pid_file);
	if (sup->pid == 0)
		errx(1, "%s", buf);
	exit(1);
}

/*
 * What can fail before daemonizing: the checks first (no side effects),
 * then the pid file and the control socket.
 */
static void
sup_setup(void)
{
	struct daemon_config	*dc = &sup->conf->daemon;
	char			 err[1024], warn[1024];

	/* What "apm2d -n" checks; the state file warns in state_init(). */
	if (daemon_preflight(dc, err, sizeof(err), warn, sizeof(warn)) == -1)
		errx(1, "%s", err);
	if ((sup->pidfd = pid_lock(dc->pid_file, err, sizeof(err))) == -1)
		startup_fail("%s", err);
	if (dc->log_file != NULL &&
	    (sup->logfd = logfile_open(dc->log_file, err, sizeof(err))) == -1)
		startup_fail("%s", err);
	/* From here on the pid file is ours: we hold its lock. */
	if ((sup->listenfd = control_listen(dc, err, sizeof(err))) == -1)
		startup_fail("%s", err);
	/* We accept clients ourselves, from the event loop. */
	if (fcntl(sup->listenfd, F_SETFL, O_NONBLOCK) == -1)
		startup_fail("fcntl %s: %s", dc->socket, strerror(errno));
	if (!sup->opts.debug &&
	    (sup->readyfd = daemonize(err, sizeof(err))) == -1)
		startup_fail("%s", err);
	/* Our stderr, and so the frontend's and the logger's. */
	if (sup->logfd != -1 && sup->logfd != STDERR_FILENO) {
		if (dup2(sup->logfd, STDERR_FILENO) == -1)
			startup_fail("dup2: %s", strerror(errno));
		close(sup->logfd);
		sup->logfd = STDERR_FILENO;
	}
}

static void
sup_events(void)
{
	event_init();
	signal_set(&sup->ev_sigterm, SIGTERM, sup_signal, NULL);
	signal_set(&sup->ev_sigint, SIGINT, sup_signal, NULL);
	signal_set(&sup->ev_sighup, SIGHUP, sup_signal, NULL);
	signal_set(&sup->ev_sigusr1, SIGUSR1, sup_signal, NULL);
	signal_set(&sup->ev_sigusr2, SIGUSR2, sup_signal, NULL);
	signal_set(&sup->ev_sigchld, SIGCHLD, sup_signal, NULL);
	signal_add(&sup->ev_sigterm, NULL);
	signal_add(&sup->ev_sigint, NULL);
	signal_add(&sup->ev_sighup, NULL);
	signal_add(&sup->ev_sigusr1, NULL);
	signal_add(&sup->ev_sigusr2, NULL);
	signal_add(&sup->ev_sigchld, NULL);
	evtimer_set(&sup->fe_respawn_ev, fe_respawn, NULL);
	evtimer_set(&sup->fe_exit_ev, sup_finish_ev, NULL);
	evtimer_set(&sup->fe_hb_ev, fe_heartbeat, NULL);
	event_set(&sup->listen_ev, sup->listenfd, EV_READ | EV_PERSIST,
	    control_accept, NULL);
	evtimer_set(&sup->accept_retry_ev, control_accept, NULL);
	evtimer_set(&sup->shutdown_ev, sup_finish_ev, NULL);
}

void
supervisor_main(struct config *conf, const struct sup_opts *opts)
{
	static struct supervisor	 s;
	struct daemon_config		*dc = &conf->daemon;

	memset(&s, 0, sizeof(s));
	sup = &s;
	s.conf = conf;
	s.opts = *opts;
	s.listenfd = s.pidfd = s.readyfd = s.fe_oldchan = s.logfd = -1;
	TAILQ_INIT(&s.deferred);
	/* Before any fork: the launcher needs it, nothing we start may. */
	(void)sdnotify_open();
	sup_setup();

	log_init(opts->debug || s.logfd != -1, LOG_DAEMON);
	log_setverbose(opts->verbose);
	log_setquiet(opts->quiet);
	log_procinit("supervisor");
	setproctitle("%s", "supervisor");

	s.pid = getpid();
	if (pid_write(s.pidfd) == -1)
		startup_fail("cannot write pid file %s: %s", dc->pid_file,
		    strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &s.start_mono);
	signal(SIGPIPE, SIG_IGN);
	sup_events();
	notify_init(s.readyfd);
	fd_reserve_fill();

	runner_init(conf);
	logctl_start();
	fe_spawn();
	if (s.fe_pid == -1)
		startup_fail("cannot start the frontend: %s",
		    strerror(errno));
	log_info("started, pid %ld, %zu process%s configured",
	    (long)getpid(), conf->nprocs, conf->nprocs == 1 ? "" : "es");
	runner_autostart();
	metrics_start();
#ifdef APM2D_TEST_HOOKS
	if (getenv("APM2D_TEST_FD_FILL") != NULL)
		fd_fill_all();
#endif

	event_dispatch();
	fatalx("event loop ended");
}

static void
sup_signal(int sig, short ev, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (sup->shutting_down) {
			/* A second signal: stop waiting for anybody. */
			if (!sup->escalated) {
				log_warnx("%s during shutdown: killing what "
				    "is left", strsignal(sig));
				sup->escalated = 1;
				runner_kill_all();
			}
			break;
		}
		sup_shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGHUP:
		reload_run((struct conn_ref){ 0, 0 }, 0);
		break;
	case SIGUSR1:
		logctl_reopen_all();
		sup_logfile_reopen();
		break;
	case SIGUSR2:
		/* Nothing to do: sent out of habit, it must not kill us. */
		log_info("SIGUSR2 ignored (SIGUSR1 reopens the log files, "
		    "SIGHUP reloads the configuration)");
		break;
	case SIGCHLD:
		sup_sigchld();
		break;
	}
}

/*
 * SIGUSR1 and [daemon] log_file: open it again at its path (logrotate
 * moved it away), make it our stderr, and hand it to the frontend and
 * the logger, which log to it too.  If it cannot be opened, the old one
 * stays.
 */
static void
sup_logfile_reopen(void)
{
	char	err[PATH_MAX + 256];
	int	fd, cfd;

	if (sup->logfd == -1)
		return;
	if ((fd = logfile_open(sup->conf->daemon.log_file, err,
	    sizeof(err))) == -1) {
		log_warnx("SIGUSR1: %s: still writing the old one", err);
		return;
	}
	if (dup2(fd, STDERR_FILENO) == -1) {
		log_warn("SIGUSR1: dup2");
		close(fd);
		return;
	}
	close(fd);
	if ((cfd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0)) != -1)
		frontend_send_fd(S_LOGFD, 0, cfd, NULL, 0);
	if ((cfd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0)) != -1)
		logctl_send_logfd(cfd);
	log_info("SIGUSR1: log file %s reopened", sup->conf->daemon.log_file);
}

/* Reap everything: ours, the frontend, and adopted orphans. */
static void
sup_sigchld(void)
{
	pid_t	pid;
	int	status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if (pid == sup->fe_pid)
			fe_reaped(status);
		else
			runner_reaped(pid, status);
	}
	/* The last agent may go while the frontend is still up. */
	sup_check_stopped();
}

void
sup_check_stopped(void)
{
	if (sup->shutting_down && runner_all_stopped())
		sup_stopped_all();
}

/* Begin a graceful shutdown: stop every process, then exit. */
void
sup_shutdown(const char *why)
{
	struct timeval	tv;

	if (sup->shutting_down)
		return;
	sup->shutting_down = 1;		/* never cleared (INV-D001) */
	log_info("shutting down (%s)", why);
	notify_stopping(why);
	/* Bound everything by the daemon-wide deadline (CTR-D018). */
	tv.tv_sec = duration_to_ms(&sup->conf->daemon.shutdown_timeout) /
	    1000 + FRONTEND_EXIT_WAIT;
	tv.tv_usec = 0;
	evtimer_add(&sup->shutdown_ev, &tv);
	runner_shutdown(&sup->conf->daemon.shutdown_timeout);
	if (runner_all_stopped())
		sup_stopped_all();
}

/* Every process is gone: let the frontend flush, then leave. */
static void
sup_stopped_all(void)
{
	struct timeval	tv;

	if (sup->fe_up) {
		/* Once: later reaps land here again. */
		if (!evtimer_pending(&sup->fe_exit_ev, NULL)) {
			sup->fe_exiting = 1;
			control_update();	/* no new clients */
			frontend_send(S_EXIT, 0, NULL, 0);
			tv.tv_sec = FRONTEND_EXIT_WAIT;
			tv.tv_usec = 0;
			evtimer_add(&sup->fe_exit_ev, &tv);
		}
		return;
	}
	if (sup->fe_pid > 0) {
		kill(sup->fe_pid, SIGKILL);
		return;		/* finish once it is reaped */
	}
	sup_finish();
}

static void
sup_finish_ev(int fd, short ev, void *arg)
{
	/* Out of time: kill what is left and go. */
	runner_kill_all();
	if (sup->fe_pid > 0) {
		kill(sup->fe_pid, SIGKILL);
		waitpid(sup->fe_pid, NULL, 0);
		sup->fe_pid = 0;
	}
	sup_finish();
}

/* Remove the socket and pid file (CTR-D019) and exit. */
static void
sup_finish(void)
{
	runner_flush_logs();
	cg_cleanup();
	state_flush();
	unlink(sup->conf->daemon.socket);
	unlink(sup->conf->daemon.pid_file);
	log_info("exiting");
	exit(0);
}

/* ---- the descriptor reserve ---- */

/*
 * SUP_FD_RESERVE descriptors on /dev/null are held so that the control
 * plane still works when everything else has used RLIMIT_NOFILE up:
 * accepting a client and respawning the frontend or the logger draw on
 * it (fd_reserve_use()), and it is filled again as soon as descriptors
 * are free (fd_reserve_fill(): after each of those, on every heartbeat).
 * What is not the control plane (a spawn, a log file) simply fails
 * first, as a failure the restart policy retries.
 */
void
fd_reserve_fill(void)
{
	int	fd;

	while (sup->nreserve < SUP_FD_RESERVE) {
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
			return;
		sup->fd_reserve[sup->nreserve++] = fd;
	}
	sup->reserve_used = 0;
}

/*
 * A control-plane call failed with errno: if for want of descriptors,
 * free the reserve for its retry and return 1; else 0, errno kept.
 */
int
fd_reserve_use(void)
{
	if (errno != EMFILE || sup->nreserve == 0)
		return (0);
	while (sup->nreserve > 0)
		close(sup->fd_reserve[--sup->nreserve]);
	if (!sup->reserve_used)
		log_warnx("out of descriptors (RLIMIT_NOFILE): the control "
		    "plane draws on its reserve");
	sup->reserve_used = 1;
	return (1);
}

/* socketpair(2) for a channel, drawing on the reserve if need be. */
int
sup_socketpair(int sp[2])
{
	int	r;

	if ((r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) ==
	    -1 && fd_reserve_use())
		r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
	return (r);
}

#ifdef APM2D_TEST_HOOKS
/* Test build: use every descriptor there is but the reserve. */
static void
fd_fill_all(void)
{
	int	n = 0;

	while (open("/dev/null", O_RDONLY | O_CLOEXEC) != -1)
		n++;
	log_info("test: %d descriptors taken, %d in reserve", n,
	    sup->nreserve);
}
#endif

/* ---- the frontend ---- */

/*
 * Fork and re-execute ourselves as "apm2d -F" with the channel on a fixed
 * descriptor: fresh ASLR, no inherited heap.  The listening socket stays
 * here: we accept clients ourselves and hand each connected socket down
 * (control_accept), so no descriptor ever travels from the frontend to
 * us and a frontend cannot pass off a socket of its choosing as a client.
 */
static void
fe_spawn(void)
{
	struct s_hello	 h;
	struct timeval	 tv;
	int		 sp[2];
	pid_t		 pid;
	uint64_t	 idle;

	if (sup_socketpair(sp) == -1) {
		log_warn("socketpair");
		sup->fe_pid = -1;
		return;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("fork");
		close(sp[0]);
		close(sp[1]);
		sup->fe_pid = -1;
		return;
	case 0:
		sup_child_exec(sp[1], "-F", sup->conf->daemon.user,
		    SUP_HOOK("APM2D_TEST_FRONTEND"));
	}
	close(sp[1]);
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	sup->fe_pid = pid;
	sup->fe_spawns++;
	sup->fe_up = 1;
	sup->fe_ready = 0;
	sup->fe_exiting = 0;
	sup->fe_started = mono_ms();
	sup->fe_why[0] = '\0';
	sup->hb_seq = sup->hb_acked = 0;
	/* Replies to one read of the frontend go out together. */
	chan_ev_init(&sup->fe_ce, sp[0], PROTO_CHAN_MAX, CHAN_EV_BATCH,
	    &fe_ops, NULL);
	/*
	 * Requests wait (dispatch_deferred) while FRONTEND_WQ_HIGH bytes are
	 * queued; the limit is a backstop that no reply reaches.
	 */
	chan_set_wqlimit(&sup->fe_ce.chan, FRONTEND_WQ_MAX, CONN_SLOTS + 64);

	memset(&h, 0, sizeof(h));
	h.start_mono_sec = sup->start_mono.tv_sec;
	h.start_mono_nsec = sup->start_mono.tv_nsec;
	h.sup_pid = getpid();
	h.max_conns = FRONTEND_MAX_CONNS;
	idle = duration_to_ms(&sup->conf->daemon.idle_timeout);
	h.idle_timeout_ms = idle > UINT32_MAX ? UINT32_MAX : (uint32_t)idle;
	frontend_send(S_HELLO, 0, &h, sizeof(h));
	ms_to_tv(FRONTEND_HB_INTERVAL_MS, &tv);
	evtimer_add(&sup->fe_hb_ev, &tv);
	log_debug("frontend started, pid %ld", (long)pid);
}

/*
 * A forked child becomes apm2d <flag> (-F the frontend, -L the logger)
 * as user, its channel on descriptor 3 and nothing else open above
 * stderr.  The test build execs $<hook> instead when it is set.
 */
void
sup_child_exec(int chanfd, const char *flag, const char *user,
    const char *hook)
{
	char	*argv[16];
	int	 argc = 0, fd, cfd;

	argv[argc++] = (char *)"apm2d";
	argv[argc++] = (char *)flag;
	/* -d: log to stderr, which is the terminal or [daemon] log_file. */
	if (sup->opts.debug || sup->logfd != -1)
		argv[argc++] = (char *)"-d";
	if (sup->opts.quiet) {
		argv[argc++] = (char *)"--log-level";
		argv[argc++] = (char *)"warn";
	}
	if (sup->opts.verbose > 0)
		argv[argc++] = (char *)"-v";
	if (sup->opts.verbose > 1)
		argv[argc++] = (char *)"-v";
	argv[argc++] = (char *)"-U";
	argv[argc++] = (char *)user;
	argv[argc++] = (char *)"-R";
	argv[argc++] = sup->conf->daemon.chroot;
	argv[argc] = NULL;

	/* Move it out of the way first: it may sit on 3. */
	if ((cfd = fcntl(chanfd, F_DUPFD, 10)) == -1 ||
	    dup2(cfd, FRONTEND_CHAN_FD) == -1)
		_exit(127);
	for (fd = FRONTEND_CHAN_FD + 1; fd < 1024; fd++)
		close(fd);
	/*
	 * Ignored across execve(2) from the first instruction on (both
	 * ignore them anyway): a "pkill -USR1 apm2d" that comes while one
	 * starts must not kill it.
	 */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	/* Test build only (SUP_HOOK): a stand-in that misbehaves. */
	if (hook != NULL && getenv(hook) != NULL)
		execv(getenv(hook), argv);
	execv(sup->opts.self, argv);
	_exit(127);
}

static void
fe_respawn(int fd, short ev, void *arg)
{
	struct timeval	tv;

	if (sup->shutting_down || sup->fe_pid != 0)
		return;
	fe_spawn();
	fd_reserve_fill();
	if (sup->fe_pid == -1) {
		/* No socketpair or fork: out of resources.  Try again. */
		sup->fe_pid = 0;
		log_warnx("cannot start a frontend; trying again in %d ms",
		    FRONTEND_RESPAWN_MS);
		ms_to_tv(FRONTEND_RESPAWN_MS, &tv);
		evtimer_add(&sup->fe_respawn_ev, &tv);
	}
}

/*
 * Every FRONTEND_HB_INTERVAL_MS: a frontend that has not answered the
 * last heartbeat within FRONTEND_HB_TIMEOUT_MS (stopped, wedged, or not
 * reading its channel) is replaced, so clients are never left waiting on
 * a frontend that only looks alive.
 */
static void
fe_heartbeat(int fd, short ev, void *arg)
{
	struct heartbeat	hb;
	struct timeval		tv;
	int64_t			now = mono_ms();

	fd_reserve_fill();
	if (!sup->fe_up)
		return;
	if (sup->hb_acked < sup->hb_seq) {
		if (now - sup->hb_sent >= FRONTEND_HB_TIMEOUT_MS) {
			frontend_lost("no answer to a heartbeat for %lld ms",
			    (long long)(now - sup->hb_sent));
			return;
		}
	} else {
		memset(&hb, 0, sizeof(hb));
		hb.seq = ++sup->hb_seq;
		sup->hb_sent = now;
		frontend_send(S_HEARTBEAT, 0, &hb, sizeof(hb));
		if (!sup->fe_up)
			return;
	}
	ms_to_tv(FRONTEND_HB_INTERVAL_MS, &tv);
	evtimer_add(&sup->fe_hb_ev, &tv);
}

/*
 * Queue a message for the frontend.  Replies produced while handling the
 * frontend's own messages go out together at the end of that batch; any
 * other message is written at once, saving a trip through the loop.
 */
void
frontend_send(uint32_t type, uint32_t peerid, const void *data, size_t len)
{
	frontend_send_fd(type, peerid, -1, data, len);
}

/* The same with a descriptor, which is ours to close whatever happens. */
void
frontend_send_fd(uint32_t type, uint32_t peerid, int fd, const void *data,
    size_t len)
{
	if (!sup->fe_up) {
		if (fd != -1)
			close(fd);
		return;
	}
	/* A failure has called fe_chan_lost() already. */
	(void)chan_ev_compose(&sup->fe_ce, type, peerid, fd, data, len);
}

static void
fe_msg(struct chan_msg *msg, void *arg)
{
	dispatch_frontend(msg);
}

/* Requests that waited for the queue to drain join this batch. */
static void
fe_done(void *arg)
{
	dispatch_deferred();
	logctl_fe_room();
}

static void
fe_chan_lost(enum chan_ev_why why, int err, void *arg)
{
	switch (why) {
	case CHAN_EV_EOF:
		frontend_lost("frontend closed its channel");
		break;
	case CHAN_EV_READ:
		frontend_lost("read from frontend: %s", strerror(err));
		break;
	case CHAN_EV_WRITE:
		frontend_lost("write to frontend: %s", strerror(err));
		break;
	case CHAN_EV_BADMSG:
		frontend_lost("malformed message from the frontend");
		break;
	case CHAN_EV_QUEUE:
		/* Our own limit, not the frontend's fault (see fe_spawn). */
		frontend_lost("cannot queue a message for it: %s",
		    strerror(err));
		break;
	}
}

/*
 * The frontend exited, crashed, closed the channel, broke the protocol or
 * stopped answering.  Agents are untouched; connections are forgotten;
 * the listening socket stays with us, so clients only see a delay until
 * the next frontend.  The reason is kept for the line fe_reaped() logs.
 */
void
frontend_lost(const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sup->fe_up) {
		if (!sup->shutting_down)
			log_warnx("frontend lost: %s", buf);
		strlcpy(sup->fe_why, buf, sizeof(sup->fe_why));
		chan_ev_stop(&sup->fe_ce);
		evtimer_del(&sup->fe_hb_ev);
		/* Kept until it is reaped: conn_orphans_drain() reads it. */
		sup->fe_oldchan = sup->fe_ce.chan.fd;
		sup->fe_up = 0;
		sup->fe_ready = 0;
		conn_drop_all();
		control_update();
	}
	if (sup->fe_pid > 0)
		kill(sup->fe_pid, SIGKILL);
}

/*
 * The frontend is gone.  A new one starts at once, but never more than
 * one a second (s6-supervise's throttle): a client that crashes frontends
 * on purpose gains a second's delay at most, never an outage.
 */
static void
fe_reaped(int status)
{
	struct timeval	tv;
	char		how[64];
	int64_t		wait;

	if (sup->fe_pid > 0) {
		if (WIFSIGNALED(status))
			/* SIGSYS here is the sandbox catching it. */
			snprintf(how, sizeof(how), "killed by signal %d (%s)",
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(how, sizeof(how), "exited with %d",
			    WEXITSTATUS(status));
		if (sup->shutting_down)
			log_debug("frontend %ld %s", (long)sup->fe_pid, how);
		else
			log_warnx("frontend %ld %s%s%s", (long)sup->fe_pid,
			    how, sup->fe_why[0] != '\0' ? " after: " : "",
			    sup->fe_why);
	}
	sup->fe_pid = 0;
	if (sup->fe_up)
		frontend_lost("frontend exited");
	conn_orphans_drain();
	if (!sup->fe_ready && sup->readyfd != -1)
		startup_fail("the frontend exited during start-up (run "
		    "apm2d -d to see why)");
	if (sup->shutting_down) {
		if (runner_all_stopped())
			sup_finish();
		return;
	}
	wait = sup->fe_started + FRONTEND_RESPAWN_MS - mono_ms();
	if (wait < 0)
		wait = 0;
	if (wait > FRONTEND_RESPAWN_MS)
		wait = FRONTEND_RESPAWN_MS;
	log_warnx("respawning the frontend in %lld ms", (long long)wait);
	ms_to_tv(wait, &tv);
	evtimer_add(&sup->fe_respawn_ev, &tv);
}
