/* SPDX-License-Identifier: ISC */
/*
 * runner.c -- the runner table: every instance of every configured
 * process, its state, restart policy, timers and output, and the process
 * requests.
 *
 * Nothing here blocks.  A child's life is driven by events: the exec
 * status pipe (Starting -> Running, or the spawn error), SIGCHLD (the
 * supervisor reaps and calls runner_reaped), output pipes, and timers
 * (restart delay, stop timeout, daemon shutdown deadline).
 *
 * Requests that change a process (start, stop, restart, reload) become
 * operations queued per process and run one after another, so a start
 * never races a stop of the same process; different processes and
 * read-only requests never wait.  An operation replies once its work is
 * really done: a stop when every instance has exited, a start when every
 * exec has succeeded or failed.
 *
 * An instance owns a whole process tree (proctree.c): a stop signals the
 * whole tree; when the instance's main process exits, whatever is left of
 * its tree is killed.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sysutil.h"
#include "signame.h"
#include "child.h"
#include "cgroup.h"
#include "proclimits.h"
#include "state.h"
#include "sweep.h"
#include "logctl.h"
#include "notify.h"
#include "restart.h"
#include "confdiff.h"
#include "runner.h"

#define METRICS_MIN_NS		MONO_NSEC	/* cpu/memory: at most 1/s */
#define GROUPS_MAX		65536	/* a run-as user's groups */
#define SHUTDOWN_MSG		"Daemon shutting down"
#define INST_LOG_BURST		10	/* lines about an instance ... */
#define INST_LOG_WINDOW_MS	10000	/* ... in this long */
#define DEADLINE_NAMED		20	/* instances named when it ends */
#ifdef __OpenBSD__
#define PATH_USER	"/usr/bin:/bin:/usr/sbin:/sbin:/usr/X11R6/bin:" \
			"/usr/local/bin:/usr/local/sbin"
#define PATH_ROOT	PATH_USER
#else
#define PATH_USER	"/usr/local/bin:/usr/bin:/bin"
#define PATH_ROOT	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" \
			"/sbin:/bin"
#endif

extern char	**environ;

enum stop_phase {
	STOP_NONE,
	STOP_PRE,		/* pre_shutdown_commands running */
	STOP_SIGNALED,		/* shutdown.signal sent, timer running */
	STOP_AGAIN,		/* sent again at timeout: kill_delay runs */
	STOP_KILLED		/* SIGKILL sent: Terminated when reaped */
};

/*
 * Where a process operation is (struct op).  It waits only in
 * PH_STOPPING, for instances to exit, and in PH_STARTING, for their
 * execs to succeed or fail; the instances report with op_note().
 */
enum op_phase {
	PH_BEGIN,		/* queued; checked when it reaches the head */
	PH_STOPPING,
	PH_STARTING,
	PH_NEXT			/* reload: on to the next instance */
};

/* Where an apply is (op->stage), its phase saying what it waits for. */
enum apply_stage {
	AP_SHRINK,		/* PH_STOPPING: the retired ones */
	AP_GROW,		/* PH_STARTING: the new ones */
	AP_PICK,		/* PH_NEXT: the next to replace */
	AP_OLD,			/* PH_STOPPING: it stops */
	AP_NEW			/* PH_STARTING: it is spawned again */
};

struct instance;
struct proc;

/* A child of ours: an instance's main process or a pre-shutdown command. */
struct pidnode {
	LIST_ENTRY(pidnode)	 entry;
	pid_t			 pid;
	struct instance		*inst;
	int			 pre;
};

struct instance {
	struct proc		*p;
	uint32_t		 idx;
	char			 display[CONFIG_DISPLAY_MAX];
	char			 env_inst[32];	/* APM2_INSTANCE=<idx> */
	int			 stop_cut;	/* its stop timer ends at the
						   daemon's deadline */
	int64_t			 log_window;	/* inst_log(): monotonic ms */
	uint32_t		 log_n;		/* lines in this window */
	uint32_t		 log_dropped;	/* and lines not written */
	struct p_state		 state;
	pid_t			 pid;		/* 0: none (until reaped) */
	struct pidnode		 node;
	uint64_t		 start_ns;	/* monotonic */
	uint64_t		 kstart_ns;	/* the kernel's, once read */
	int			 exec_pending;	/* status pipe not read yet */
	int			 statusfd;
	struct event		 status_ev;
	int			 spawn_err;	/* errno of a failed exec */
	uint32_t		 logid;		/* the logger's name for it */
	uint64_t		 runs;		/* spawns so far: run serial */
	int			 draining;	/* reaped, output being read */
	int			 reap_status;
	pid_t			 reap_leader;
	uint64_t		 reap_uptime;
	int			 reap_exec_note;
	struct event		 cg_ev;		/* waiting for an empty cgroup */
	uint32_t		 cg_polls;
	int			 oom_killed;	/* its last run's end */
	int			 cg_made;	/* its cgroup exists */
	uint64_t		 cg_cpu_base;	/* CPU time, past runs */
	uint64_t		 cg_oom_base;	/* OOM kills, past runs */
	uint32_t		 restart_count;
	int			 restored;	/* its exit: the state file's */
	const struct proc_config *rpc;	/* what it last ran with */
	struct gen		*rgen;		/* rpc's configuration */
	int			 replace;	/* a reload replaces it */
	struct restart_state	 rs;
	struct event		 restart_ev;
	uint64_t		 restart_at;	/* monotonic, restart_ev's */
	int			 gave_up;	/* restarting was refused */
	uint32_t		 gave_up_after;	/* its window's restarts then */
	enum stop_phase		 stop_phase;
	struct event		 stop_ev;
	size_t			 pre_next;
	pid_t			 pre_pid;
	int			 pre_statusfd;
	struct pidnode		 pre_node;
	int			 op_wait;	/* the head op waits on us */
	int			 sampled;
	uint64_t		 sample_ns;
	uint64_t		 cpu_last;
	float			 cpu;
	uint64_t		 rss;
};

/*
 * A configuration and how many processes, instances and operations
 * still use it; one a reload replaced is freed when none does.
 */
struct gen {
	struct config		*conf;
	uint32_t		 refs;
};

struct op {
	TAILQ_ENTRY(op)		 entry;
	enum runner_op		 kind;
	const struct proc_config *npc;	/* apply: the new configuration */
	struct gen		*ngen;
	unsigned int		 keys;	/* apply: CDK_*, 0: none */
	int			 was_running;	/* apply */
	enum apply_stage	 stage;	/* apply */
	struct conn_ref		 ref;
	enum op_phase		 phase;
	uint32_t		 waiting;	/* instances it waits for */
	uint32_t		 cur;		/* reload: instance rolled */
	uint32_t		 ok;		/* started or stopped */
	uint32_t		 fail;
	uint32_t		 skipped;	/* start: running already */
	int			 err;		/* last spawn errno */
	uint32_t		 next;		/* start: instance to spawn */
	int			 count_restart;	/* start: a restart's */
};

struct proc {
	const struct proc_config *pc;
	char			 id[37];
	struct instance		**inst;
	uint32_t		 n;		/* configured */
	uint32_t		 nall;		/* and those a reload retires */
	uint32_t		 lid;		/* the logger's name for it */
	struct gen		*gen;		/* pc's configuration */
	int			 removed;	/* no longer configured */
	char			**argv;		/* command, args, NULL */
	char			**envbase;	/* all but APM2_*, no NULL */
	size_t			 nenvbase;
	const char		*path;		/* the child's PATH value */
	char			*env_name;	/* APM2_PROCESS_NAME=... */
	char			*env_count;	/* APM2_INSTANCES=... */
	int			 setid;
	uid_t			 uid;
	gid_t			 gid;
	gid_t			*groups;
	int			 ngroups;
	TAILQ_HEAD(, op)	 ops;
	int			 in_op;
	enum state_intent	 intent;	/* by requests, kept on file */
	int			 lim_err[LIMIT__COUNT]; /* refused: errno */
	unsigned int		 lim_said;	/* refusals logged */
	TAILQ_ENTRY(proc)	 spawn_entry;	/* on spawn_waiters */
	int			 spawn_waiting;
};

LIST_HEAD(pidbucket, pidnode);

static struct config	*rconf;
static struct gen	*curgen;	/* rconf's */
static struct event	 gc_ev;		/* frees what a reload let go */
static struct proc	**procs;	/* in configuration order */
static size_t		 procscap;
static uint32_t		 proc_lids;	/* last lid given */
/*
 * Spawns per loop turn: a start of thousands goes SPAWN_BATCH at a time,
 * with requests and exits served in between, so a big launch never
 * makes the daemon deaf.  Starts that found the turn's budget spent
 * wait on spawn_waiters, in order; restarts by the policy try again
 * next turn.
 */
#define SPAWN_BATCH	32
static uint32_t	 spawn_left = SPAWN_BATCH;
static struct event	 spawn_ev;
static TAILQ_HEAD(, proc) spawn_waiters = TAILQ_HEAD_INITIALIZER(spawn_waiters);
static size_t		 nprocs;
static struct instance	**byid;		/* by logid; NULL: gone */
static uint32_t		 ninsts;
static uint32_t		 byidcap;
static struct pidbucket	*pids;		/* hash of our children */
static size_t		 npidb;		/* a power of two */
static uint64_t		 deadline_ns;
static struct duration	 deadline_dur;	/* [daemon] shutdown_timeout, at the start */
static struct event	 deadline_ev;
static int		 devnull = -1;
static struct rlimit	 orig_nofile;

static void	pid_add(struct pidnode *, pid_t);
static void	arm_delay(struct event *, const struct timeval *);
static struct pidnode *pid_find(pid_t);
static int	st_running(enum apm2_state_kind);
static int	st_exited(enum apm2_state_kind);
static int	inst_alive(const struct instance *);
static void	set_state(struct instance *, enum apm2_state_kind, int, int);
static struct proc *proc_find(const char *);
static void	summary_strip(struct s_summary *);
static int	proc_any_running(const struct proc *);
static struct proc *proc_new(const struct proc_config *, struct gen *);
static void	gen_drop(struct gen *);
static void	gc_run(int, short, void *);
static void	gc_soon(int);
static void	inert_report(const struct config *);
static void	daemon_live(struct daemon_config *, struct daemon_config *);
static int	inst_done(struct instance *);
static const struct shutdown_config *inst_sc(const struct instance *);
static int	proc_switch(struct proc *, const struct proc_config *,
		    struct gen *);
static void	inst_rename(struct instance *);
static int	step_apply(struct proc *, struct op *);
static int	step_remove(struct proc *, struct op *);
static void	apply_entry(const struct confdiff_ent *, size_t *);
static void	proc_free(struct proc *);
static int	proc_add(struct proc *, size_t);
static struct instance *inst_new(struct proc *, uint32_t);
static void	inst_free(struct instance *);
static int	proc_prepare(struct proc *);
static void	udb_clear(int, short, void *);
static struct udb_ent *udb_find(const char *, uid_t);
static struct passwd *udb_pw(const char *, uid_t);
static int	udb_groups(const char *, gid_t, gid_t **, int *);
static void	env_free(char **, size_t);
static int	env_inherit(char ***, size_t *, int);
static int	env_login(const struct proc_config *, uid_t, char ***,
		    size_t *);
static int	proc_env(const struct proc_config *, uid_t, char ***,
		    size_t *);
static int	proc_groups(const struct proc_config *, gid_t **, int *);
static int	env_set(char ***, size_t *, const char *, size_t,
		    const char *);
static int	env_reserved(const char *, size_t);
static void	make_uuid(char *, size_t);
static char	**inst_envp(const struct instance *);
static int	make_pipe(int *);
static void	lim_refused(struct proc *);
static void	pipes_close(int *, int *);
static pid_t	run_child(struct instance *, char *const *, char **, int *,
		    int *, int *);
static void	cg_wait(int, short, void *);
static void	cg_ended(struct instance *);
static const struct shutdown_config *sweep_policy(const char *);
static void	state_list(struct state_rec *);
static void	state_apply(const struct state_rec *);
static void	proc_intent(struct proc *, enum state_intent);

#define CG_POLL_MS	5	/* an exited instance's cgroup, again */
#define CG_POLLS	1000	/* then it is killed again, and left */
static int	inst_spawn(struct instance *);
static void	inst_status_ev(int, short, void *);
static void	status_close(struct instance *);
static void	inst_reaped(struct instance *, int);
static void	inst_exited(struct instance *);
static void	inst_policy(struct instance *, int, int, uint64_t);
static void	inst_restart_ev(int, short, void *);
static void	inst_stop(struct instance *);
static void	stop_arm(struct instance *);
static void	stop_arm_delay(struct instance *, const struct duration *);
static void	stop_signal(struct instance *);
static void	inst_log(struct instance *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	inst_log_flush(struct instance *);
static void	deadline_say(struct instance *);
static void	stop_timeout(int, short, void *);
static void	pre_next(struct instance *);
static int	pre_spawn(struct instance *, const char *);
static void	pre_kill(struct instance *);
static void	pre_reaped(struct instance *, int);
static void	tree_signal(struct instance *, int);
static int	pid_known(pid_t);
static void	deadline_cb(int, short, void *);
static void	op_submit(struct proc *, enum runner_op, struct conn_ref);
static void	op_kick(struct proc *);
static int	op_step(struct proc *, struct op *);
static void	op_note(struct instance *, enum op_phase, int, int);
static void	op_wait_for(struct op *, struct instance *);
static int	op_start_all(struct proc *, struct op *, int);
static int	op_spawn_more(struct proc *, struct op *);
static int	spawn_take(void);
static void	spawn_turn(int, short, void *);
static void	op_stop_all(struct proc *, struct op *);
static int	op_shutdown(struct op *);
static int	op_not_stopped(struct proc *, struct op *);
static int	op_spawn_failed(struct op *);
static int	op_started(struct proc *, struct op *);
static int	step_start(struct proc *, struct op *);
static int	step_stop(struct proc *, struct op *);
static int	step_restart(struct proc *, struct op *);
static int	step_reload(struct proc *, struct op *);
static void	inst_sample(struct instance *, uint64_t);
static void	fill_state(struct p_state *, const struct p_state *);
static void	fill_summary(struct proc *, struct s_summary *, uint64_t);
static void	fill_instance(struct instance *, struct s_instance *,
		    uint64_t);

static void
pid_add(struct pidnode *n, pid_t pid)
{
	n->pid = pid;
	LIST_INSERT_HEAD(&pids[(size_t)pid & (npidb - 1)], n, entry);
}

static struct pidnode *
pid_find(pid_t pid)
{
	struct pidnode	*n;

	LIST_FOREACH(n, &pids[(size_t)pid & (npidb - 1)], entry)
		if (n->pid == pid)
			return (n);
	return (NULL);
}

/* ---- small helpers ---- */

/* Upstream's is_running: Starting, Running and Unhealthy. */
static int
st_running(enum apm2_state_kind k)
{
	return (k == ST_STARTING || k == ST_RUNNING || k == ST_UNHEALTHY);
}

static int
st_exited(enum apm2_state_kind k)
{
	return (k == ST_STOPPED || k == ST_CRASHED || k == ST_TERMINATED);
}

static int
inst_alive(const struct instance *in)
{
	return (in->pid != 0 && !st_exited(in->state.kind));
}

static void
set_state(struct instance *in, enum apm2_state_kind k, int has_code,
    int code)
{
	in->state.kind = k;
	in->state.has_code = has_code;
	in->state.exit_code = has_code ? code : 0;
	notify_status();	/* the service manager's STATUS= */
}

static struct proc *
proc_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nprocs; i++)
		if (!procs[i]->removed &&
		    strcmp(procs[i]->pc->name, name) == 0)
			return (procs[i]);
	return (NULL);
}

static int
proc_any_running(const struct proc *p)
{
	uint32_t	i;

	for (i = 0; i < p->n; i++)
		if (st_running(p->inst[i]->state.kind))
			return (1);
	return (0);
}

static void
make_uuid(char *buf, size_t len)
{
	uint8_t	u[16];

	arc4random_buf(u, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;	/* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
	    u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* ---- set-up ---- */

void
runner_init(struct config *conf)
{
	struct state_rec rec;
	struct rlimit	rl;
	size_t		i, total;
	char		tag[16];
	int		fd, cgroups;

	rconf = conf;
	/* Keep 0-2 taken so that no pipe of ours lands there. */
	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) == -1 &&
		    open("/dev/null", O_RDWR) == -1)
			fatal("/dev/null");
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	/* Two pipes per instance: raise our own limit, not the children's. */
	if (getrlimit(RLIMIT_NOFILE, &orig_nofile) == -1)
		fatal("getrlimit");
	rl = orig_nofile;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
	proctree_init(pid_known);
	evtimer_set(&deadline_ev, deadline_cb, NULL);
	evtimer_set(&spawn_ev, spawn_turn, NULL);

	/* Two children per instance at most: keep the chains short. */
	for (i = 0, total = 0; i < conf->nprocs; i++)
		total += conf->procs[i].instances;
	for (npidb = 64; npidb < total * 2; npidb *= 2)
		;
	logctl_init((uint32_t)total, conf->daemon.log_memory);
	if ((pids = calloc(npidb, sizeof(*pids))) == NULL)
		fatal("calloc");
	for (i = 0; i < npidb; i++)
		LIST_INIT(&pids[i]);
	if ((curgen = calloc(1, sizeof(*curgen))) == NULL)
		fatal("calloc");
	curgen->conf = conf;
	evtimer_set(&gc_ev, gc_run, NULL);
	for (i = 0; i < conf->nprocs; i++)
		if (proc_add(proc_new(&conf->procs[i], curgen), nprocs) == -1)
			fatal("%s: cannot set up", conf->procs[i].name);
	snprintf(tag, sizeof(tag), "%08x", fnv1a(conf->daemon.pid_file));
	cgroups = cg_init(tag, limits_wanted(conf), 0);
	(void)limits_report(conf, 0);
	inert_report(conf);
	(void)limits_fds(conf, 0);
	(void)state_init(conf->daemon.state_file, state_list);
	state_load(&rec);
	sweep_previous(cgroups, sweep_policy, &rec);
	state_apply(&rec);
	state_rec_free(&rec);
#ifdef __linux__
	/*
	 * Without cgroups, orphaned grandchildren of agents come to us, to be
	 * found by the tree walk and reaped.  With them, their cgroup holds
	 * them: they go to init, which pays for reaping a thousand of them.
	 */
	if (!cgroups && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
#endif
}

/* The shutdown settings of a process, by its name or an instance's. */
static const struct shutdown_config *
sweep_policy(const char *key)
{
	size_t		 i;
	uint32_t	 k;

	for (i = 0; i < nprocs; i++) {
		if (strcmp(procs[i]->pc->name, key) == 0)
			return (&procs[i]->pc->shutdown);
		for (k = 0; k < procs[i]->n; k++)
			if (strcmp(procs[i]->inst[k]->display, key) == 0)
				return (&procs[i]->pc->shutdown);
	}
	return (NULL);
}

/* For the state file: the instances that run, with their start times. */
/*
 * What the state file keeps: the processes with an intent, and the
 * instances that run, have restarted or have an exit to remember.
 */
static void
state_list(struct state_rec *rec)
{
	struct instance		*in;
	struct state_inst	*si;
	struct pstat		 ps;
	size_t			 i;
	uint32_t		 k;

	if (nprocs > 0 && (rec->procs = calloc(nprocs,
	    sizeof(*rec->procs))) == NULL)
		return;
	for (i = 0; i < nprocs; i++) {
		if (procs[i]->intent == INTENT_NONE)
			continue;
		(void)strlcpy(rec->procs[rec->nprocs].name, procs[i]->pc->name,
		    sizeof(rec->procs[rec->nprocs].name));
		rec->procs[rec->nprocs++].intent = procs[i]->intent;
	}
	if (ninsts == 0 || (rec->insts = calloc(ninsts,
	    sizeof(*rec->insts))) == NULL)
		return;
	for (i = 0; i < nprocs; i++)
		for (k = 0; k < procs[i]->n; k++) {
			in = procs[i]->inst[k];
			si = &rec->insts[rec->ninsts];
			if (in->pid != 0) {
				/* Once a run: a write costs what is new. */
				if (in->kstart_ns == 0 &&
				    procstat_get(in->pid, &ps) == 0)
					in->kstart_ns = ps.start_ns;
				if (in->kstart_ns != 0) {
					si->pid = in->pid;
					si->start_ns = in->kstart_ns;
				}
				if (in->cg_made)
					(void)strlcpy(si->cgroup, in->display,
					    sizeof(si->cgroup));
			}
			si->restarts = in->restart_count;
			if (st_exited(in->state.kind) &&
			    (in->runs > 0 || in->restored)) {
				si->has_last = 1;
				si->last = in->state;
			}
			if (si->pid == 0 && si->restarts == 0 &&
			    !si->has_last)
				continue;
			(void)strlcpy(si->name, procs[i]->pc->name,
			    sizeof(si->name));
			si->index = k;
			rec->ninsts++;
		}
}

/*
 * At start-up, what the state file recorded of processes still
 * configured: their intent, their instances' restart counts and exits.
 */
static void
state_apply(const struct state_rec *rec)
{
	const struct state_inst	*si;
	struct instance		*in;
	struct proc		*p;
	size_t			 i;

	for (i = 0; i < rec->nprocs; i++)
		if ((p = proc_find(rec->procs[i].name)) != NULL)
			p->intent = rec->procs[i].intent;
	for (i = 0; i < rec->ninsts; i++) {
		si = &rec->insts[i];
		if ((p = proc_find(si->name)) == NULL || si->index >= p->n)
			continue;
		in = p->inst[si->index];
		in->restart_count = si->restarts;
		if (si->has_last) {
			set_state(in, si->last.kind, si->last.has_code,
			    si->last.exit_code);
			in->restored = 1;
		}
	}
}

/* What requests asked of p, to be kept across restarts of the daemon. */
static void
proc_intent(struct proc *p, enum state_intent intent)
{
	if (p->intent == intent)
		return;
	p->intent = intent;
	state_changed();
}

/*
 * A process as pc describes it, its instances Stopped; NULL (logged) if
 * it cannot be set up.
 */
static struct proc *
proc_new(const struct proc_config *pc, struct gen *gen)
{
	struct proc	*p;
	size_t		 i;
	uint32_t	 k;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->argv = calloc(pc->nargs + 2, sizeof(*p->argv))) == NULL ||
	    (p->inst = calloc(pc->instances, sizeof(*p->inst))) == NULL)
		goto fail;
	p->pc = pc;
	p->gen = gen;
	gen->refs++;
	TAILQ_INIT(&p->ops);
	make_uuid(p->id, sizeof(p->id));
	p->lid = ++proc_lids;
	p->argv[0] = pc->command;
	for (i = 0; i < pc->nargs; i++)
		p->argv[i + 1] = pc->args[i];
	if (asprintf(&p->env_name, "APM2_PROCESS_NAME=%s", pc->name) == -1) {
		p->env_name = NULL;
		goto fail;
	}
	if (asprintf(&p->env_count, "APM2_INSTANCES=%u", pc->instances) ==
	    -1) {
		p->env_count = NULL;
		goto fail;
	}
	for (k = 0; k < pc->instances; k++) {
		if ((p->inst[k] = inst_new(p, k)) == NULL)
			goto fail;
		p->nall = ++p->n;
	}
	if (proc_prepare(p) == -1)
		goto fail;
	return (p);
fail:
	log_warnx("%s: cannot set up the process", pc->name);
	if (p != NULL)
		proc_free(p);
	return (NULL);
}

/* A process that never ran, or whose instances are all gone. */
static void
proc_free(struct proc *p)
{
	uint32_t	k;

	for (k = 0; k < p->nall; k++)
		inst_free(p->inst[k]);
	if (p->gen != NULL)
		gen_drop(p->gen);
	free(p->inst);
	free(p->argv);
	free(p->env_name);
	free(p->env_count);
	env_free(p->envbase, p->nenvbase);
	free(p->groups);
	free(p);
}

/* p into the table at index at.  0, or -1 (p NULL, out of memory). */
static int
proc_add(struct proc *p, size_t at)
{
	struct proc	**np;
	size_t		  cap;

	if (p == NULL)
		return (-1);
	if (nprocs == procscap) {
		cap = procscap == 0 ? 16 : procscap * 2;
		if ((np = reallocarray(procs, cap, sizeof(*np))) == NULL) {
			proc_free(p);
			return (-1);
		}
		procs = np;
		procscap = cap;
	}
	memmove(procs + at + 1, procs + at, (nprocs - at) * sizeof(*procs));
	procs[at] = p;
	nprocs++;
	return (0);
}

/* Instance k of p, Stopped, with a logger id of its own; NULL: no memory. */
static struct instance *
inst_new(struct proc *p, uint32_t k)
{
	struct instance	 *in, **nb;
	uint32_t	  cap;

	if (ninsts == byidcap) {
		cap = byidcap == 0 ? 64 : byidcap * 2;
		if ((nb = reallocarray(byid, cap, sizeof(*nb))) == NULL)
			return (NULL);
		byid = nb;
		byidcap = cap;
	}
	if (logctl_grow(ninsts + 1) == -1 ||
	    (in = calloc(1, sizeof(*in))) == NULL)
		return (NULL);
	in->p = p;
	in->idx = k;
	config_display_name(p->pc, k, in->display, sizeof(in->display));
	snprintf(in->env_inst, sizeof(in->env_inst), "APM2_INSTANCE=%u", k);
	set_state(in, ST_STOPPED, 0, 0);
	in->statusfd = -1;
	in->pre_statusfd = -1;
	in->node.inst = in;
	in->pre_node.inst = in;
	in->pre_node.pre = 1;
	evtimer_set(&in->restart_ev, inst_restart_ev, in);
	evtimer_set(&in->stop_ev, stop_timeout, in);
	evtimer_set(&in->cg_ev, cg_wait, in);
	in->logid = ninsts;
	byid[ninsts++] = in;
	return (in);
}

/* An instance with nothing left: no process, timer or pipe. */
static void
inst_free(struct instance *in)
{
	if (in->rgen != NULL)
		gen_drop(in->rgen);
	logctl_forget(in->logid);
	evtimer_del(&in->restart_ev);
	evtimer_del(&in->stop_ev);
	evtimer_del(&in->cg_ev);
	byid[in->logid] = NULL;
	free(in);
}

/* Keys the runner sets itself, last, whatever env or the daemon say. */
static int
env_reserved(const char *k, size_t len)
{
	return ((len == 17 && memcmp(k, "APM2_PROCESS_NAME", 17) == 0) ||
	    (len == 13 && memcmp(k, "APM2_INSTANCE", 13) == 0) ||
	    (len == 14 && memcmp(k, "APM2_INSTANCES", 14) == 0));
}

/* Set key=value in a list, replacing an earlier value of the key. */
static int
env_set(char ***list, size_t *n, const char *k, size_t klen, const char *v)
{
	char	*s, **nl;
	size_t	 i;

	if (env_reserved(k, klen))
		return (0);
	if (asprintf(&s, "%.*s=%s", (int)klen, k, v) == -1)
		return (-1);
	for (i = 0; i < *n; i++) {
		if (strncmp((*list)[i], k, klen) == 0 &&
		    (*list)[i][klen] == '=') {
			free((*list)[i]);
			(*list)[i] = s;
			return (0);
		}
	}
	if ((nl = reallocarray(*list, *n + 1, sizeof(*nl))) == NULL) {
		free(s);
		return (-1);
	}
	nl[(*n)++] = s;
	*list = nl;
	return (0);
}

static void
env_free(char **env, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(env[i]);
	free(env);
}

/* Copy our environment: all of it, or only locale and time zone. */
static int
env_inherit(char ***env, size_t *n, int all)
{
	char	*eq;
	size_t	 i;

	for (i = 0; environ[i] != NULL; i++) {
		if (!all && strncmp(environ[i], "LANG=", 5) != 0 &&
		    strncmp(environ[i], "LC_", 3) != 0 &&
		    strncmp(environ[i], "TZ=", 3) != 0)
			continue;
		if ((eq = strchr(environ[i], '=')) == NULL)
			continue;
		if (env_set(env, n, environ[i], (size_t)(eq - environ[i]),
		    eq + 1) == -1)
			return (-1);
	}
	return (0);
}

/* What a login would set, from the run-as user's entry. */
static int
env_login(const struct proc_config *pc, uid_t uid, char ***env, size_t *n)
{
	struct passwd	*pw;
	char		 uidbuf[32];
	const char	*home, *shell, *uname;
	int		 rv = 0;

	pw = udb_pw(pc->user, uid);
	snprintf(uidbuf, sizeof(uidbuf), "%lu", (unsigned long)uid);
	home = pw != NULL ? pw->pw_dir : "/";
	shell = pw != NULL && pw->pw_shell[0] != '\0' ? pw->pw_shell :
	    "/bin/sh";
	uname = pw != NULL ? pw->pw_name : pc->user != NULL ? pc->user :
	    uidbuf;
	if (env_set(env, n, "PATH", 4, uid == 0 ? PATH_ROOT : PATH_USER) ==
	    -1 ||
	    env_set(env, n, "HOME", 4, home) == -1 ||
	    env_set(env, n, "USER", 4, uname) == -1 ||
	    env_set(env, n, "LOGNAME", 7, uname) == -1 ||
	    env_set(env, n, "SHELL", 5, shell) == -1)
		rv = -1;
	return (rv);
}

/* The base environment, then the process's env table over it. */
static int
proc_env(const struct proc_config *pc, uid_t uid, char ***env, size_t *n)
{
	size_t	i;

	if (pc->inherit_env) {
		if (env_inherit(env, n, 1) == -1)
			return (-1);
	} else if (env_login(pc, uid, env, n) == -1 ||
	    env_inherit(env, n, 0) == -1)
		return (-1);
	for (i = 0; i < pc->nenv; i++)
		if (env_set(env, n, pc->env[i].key, strlen(pc->env[i].key),
		    pc->env[i].value) == -1)
			return (-1);
	return (0);
}

/* Root switches to the run-as user's groups, or to the one group. */
static int
proc_groups(const struct proc_config *pc, gid_t **groups, int *n)
{
	if (geteuid() != 0)
		return (0);
	if (pc->user != NULL)
		return (udb_groups(pc->user, pc->gid, groups, n));
	if (pc->group == NULL)
		return (0);
	if ((*groups = malloc(sizeof(**groups))) == NULL)
		return (-1);
	(*groups)[0] = pc->gid;
	*n = 1;
	return (0);
}

/*
 * The user database, read once per user and loop turn: a start of 5,000
 * programs of one user reads it once, not 5,000 times, and the next
 * explicit start reads it again as it is then.
 */
struct udb_ent {
	char		*user;		/* NULL: by uid */
	uid_t		 uid;
	struct passwd	*pw;		/* NULL: no such user */
	gid_t		 base;
	gid_t		*groups;	/* NULL: not read yet */
	int		 ngroups;
};

static struct udb_ent	*udb;
static size_t		 nudb, udbcap;
static struct event	 udb_ev;

static void
udb_clear(int fd, short ev, void *arg)
{
	size_t	i;

	for (i = 0; i < nudb; i++) {
		free(udb[i].user);
		free(udb[i].pw);
		free(udb[i].groups);
	}
	nudb = 0;
}

static struct udb_ent *
udb_find(const char *user, uid_t uid)
{
	struct timeval	 tv = { 0, 0 };
	struct udb_ent	*e;
	size_t		 i, ncap;

	for (i = 0; i < nudb; i++)
		if (user != NULL ? udb[i].user != NULL &&
		    strcmp(udb[i].user, user) == 0 :
		    udb[i].user == NULL && udb[i].uid == uid)
			return (&udb[i]);
	if (nudb == udbcap) {
		ncap = udbcap == 0 ? 8 : udbcap * 2;
		if ((e = reallocarray(udb, ncap, sizeof(*e))) == NULL)
			return (NULL);
		udb = e;
		udbcap = ncap;
	}
	e = &udb[nudb];
	memset(e, 0, sizeof(*e));
	e->uid = uid;
	if (user != NULL && (e->user = strdup(user)) == NULL)
		return (NULL);
	e->pw = user != NULL ? pw_byname(user) : pw_byuid(uid);
	if (nudb++ == 0) {
		evtimer_set(&udb_ev, udb_clear, NULL);
		evtimer_add(&udb_ev, &tv);
	}
	return (e);
}

/* The user's entry (not to be freed), or NULL. */
static struct passwd *
udb_pw(const char *user, uid_t uid)
{
	struct udb_ent	*e;

	return ((e = udb_find(user, uid)) != NULL ? e->pw : NULL);
}

/* A copy of user's groups with base, as grouplist_get(): 0 or -1. */
static int
udb_groups(const char *user, gid_t base, gid_t **groups, int *n)
{
	struct udb_ent	*e;

	if ((e = udb_find(user, 0)) == NULL)
		return (-1);
	if (e->groups == NULL || e->base != base) {
		free(e->groups);
		e->groups = NULL;
		if (grouplist_get(user, base, GROUPS_MAX, &e->groups,
		    &e->ngroups) != 0) {
			free(e->groups);	/* more than GROUPS_MAX */
			e->groups = NULL;
			return (-1);
		}
		e->base = base;
	}
	if ((*groups = reallocarray(NULL, e->ngroups, sizeof(**groups))) ==
	    NULL)
		return (-1);
	memcpy(*groups, e->groups, e->ngroups * sizeof(**groups));
	*n = e->ngroups;
	return (0);
}

/*
 * Credentials and base environment, from the user database as it is now:
 * at start-up and again at every explicit start.  On failure the previous
 * ones stay.
 */
static int
proc_prepare(struct proc *p)
{
	const struct proc_config *pc = p->pc;
	char		**env = NULL;
	gid_t		*groups = NULL;
	size_t		 nenv = 0, i;
	uid_t		 uid;
	int		 ngroups = 0;

	uid = pc->user != NULL ? pc->uid : geteuid();
	if (proc_groups(pc, &groups, &ngroups) == -1 ||
	    proc_env(pc, uid, &env, &nenv) == -1) {
		log_warnx("%s: cannot prepare credentials and environment",
		    pc->name);
		env_free(env, nenv);
		free(groups);
		return (-1);
	}
	env_free(p->envbase, p->nenvbase);
	free(p->groups);
	p->envbase = env;
	p->nenvbase = nenv;
	p->path = NULL;
	for (i = 0; i < nenv; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			p->path = env[i] + 5;
	p->groups = groups;
	p->ngroups = groups != NULL ? ngroups : 0;
	p->setid = groups != NULL;
	p->uid = uid;
	p->gid = pc->gid;
	return (0);
}

void
runner_autostart(void)
{
	size_t	i;

	for (i = 0; i < nprocs; i++)
		if (procs[i]->intent == INTENT_STARTED ||
		    (procs[i]->intent == INTENT_NONE &&
		    procs[i]->pc->autostart))
			op_submit(procs[i], RUNNER_START,
			    (struct conn_ref){ 0, 0 });
}

/* ---- spawning ---- */

static char **
inst_envp(const struct instance *in)
{
	const struct proc	*p = in->p;
	char			**e;

	if ((e = reallocarray(NULL, p->nenvbase + 4, sizeof(*e))) == NULL)
		return (NULL);
	if (p->nenvbase > 0)
		memcpy(e, p->envbase, p->nenvbase * sizeof(*e));
	e[p->nenvbase] = p->env_name;
	e[p->nenvbase + 1] = p->env_count;
	e[p->nenvbase + 2] = (char *)in->env_inst;
	e[p->nenvbase + 3] = NULL;
	return (e);
}

/* A pipe whose read end (ours) alone is non-blocking. */
static int
make_pipe(int *fds)
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		return (-1);
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		close(fds[0]);
		close(fds[1]);
		return (-1);
	}
	return (0);
}

/* A cgroup limit the kernel refused: said once per process and limit. */
static void
lim_refused(struct proc *p)
{
	const char	*file;
	int		 k;

	for (k = LIMIT_RLIMITS; k < LIMIT__COUNT; k++) {
		if (p->lim_err[k] == 0 || (p->lim_said & (1U << k)) ||
		    cg_limit_file(k, &file) == -1)
			continue;
		p->lim_said |= 1U << k;
		log_warnx("%s: limit %s is not applied: the kernel refused %s: "
		    "%s", p->pc->name, config_limit_name(k), file,
		    strerror(p->lim_err[k]));
	}
}

/*
 * Fork/exec argv as the process's user with the given environment; the
 * read ends of stdout and stderr in out[0], out[1].  The pid, or -1.
 */
static pid_t
run_child(struct instance *in, char *const *argv, char **envp, int *out,
    int *statusfd, int *err)
{
	struct proc		*p = in->p;
	struct spawn_req	r;
	int			po[2], pe[2];
	pid_t			pid;

	pe[0] = pe[1] = -1;
	if (make_pipe(po) == -1) {
		*err = errno;
		return (-1);
	}
	/* Merged: one pipe for both, a descriptor fewer for the logger. */
	if (!p->pc->log.merge_stderr && make_pipe(pe) == -1) {
		*err = errno;
		pipes_close(po, pe);
		return (-1);
	}
	memset(&r, 0, sizeof(r));
	r.argv = argv;
	r.envp = envp;
	r.path = p->path;
	r.cwd = p->pc->cwd;
	r.setid = p->setid;
	r.uid = p->uid;
	r.gid = p->gid;
	r.groups = p->groups;
	r.ngroups = p->ngroups;
	r.has_umask = p->pc->has_umask;
	r.umask = p->pc->umask;
	r.fd_in = devnull;
	r.fd_out = po[1];
	r.fd_err = pe[1] != -1 ? pe[1] : po[1];
	r.nofile = orig_nofile;
	r.limits = &p->pc->limits;
	if (cg_enabled() && (r.cgfd = cg_procs_fd(in->display, &p->pc->limits,
	    p->lim_err, &in->cg_made)) == -1) {
		/* Contained, or not started. */
		*err = errno;
		pipes_close(po, pe);
		return (-1);
	}
	lim_refused(p);
	pid = spawn_process(&r, statusfd);
	*err = errno;
	if (r.cgfd > 0)
		close(r.cgfd);
	close(po[1]);
	if (pe[1] != -1)
		close(pe[1]);
	po[1] = pe[1] = -1;
	if (pid == -1) {
		pipes_close(po, pe);
		return (-1);
	}
	out[0] = po[0];
	out[1] = pe[0];		/* -1: merged */
	return (pid);
}

/* What of two pipes is open. */
static void
pipes_close(int *a, int *b)
{
	int	i;

	for (i = 0; i < 2; i++) {
		if (a[i] != -1)
			close(a[i]);
		if (b[i] != -1)
			close(b[i]);
	}
}

/*
 * Start one instance.  The exec's outcome arrives later (status pipe or
 * reaping); a failure to even fork is a crash now: Crashed{null}, and
 * the restart policy decides, as for any crash.
 */
static int
inst_spawn(struct instance *in)
{
	struct logowner	  owner;
	char		**envp;
	int		  fds[2], sfd, err = 0;
	pid_t	  pid = -1;

	if (in->pid != 0 || in->draining) {
		/* The previous process has not been reaped yet. */
		log_warnx("%s: cannot start: pid %ld is still there",
		    in->display, (long)in->pid);
		op_note(in, PH_STARTING, 0, EBUSY);
		return (-1);
	}
	in->spawn_err = 0;
	in->oom_killed = 0;
	in->gave_up = 0;
	in->stop_phase = STOP_NONE;
	if (in->rpc != in->p->pc) {
		in->rpc = in->p->pc;
		in->p->gen->refs++;
		if (in->rgen != NULL)
			gen_drop(in->rgen);
		in->rgen = in->p->gen;
	}
	owner.uid = in->p->uid;
	owner.gid = in->p->setid ? in->p->gid : getegid();
	owner.groups = in->p->groups;
	owner.ngroups = in->p->ngroups;
	owner.setid = in->p->setid;
	if (!logctl_fd_room(in->logid, in->p->pc->log.merge_stderr ? 1 : 2)) {
		/* Else the logger loses them, and its channel with them. */
		log_warnx("%s: the logger has no descriptor left for it "
		    "(RLIMIT_NOFILE)", in->display);
		err = EMFILE;
	} else {
		logctl_spawn(in->logid, rconf, in->p->pc,
		    in->p->lid, in->idx, in->display,
		    &owner, in->p->envbase, in->p->nenvbase);
		if ((envp = inst_envp(in)) == NULL)
			err = errno;
		else {
			pid = run_child(in, in->p->argv, envp, fds, &sfd,
			    &err);
			free(envp);
		}
	}
	if (pid == -1) {
		inst_log(in, LOG_ERR, "%s: failed to spawn process: %s (os "
		    "error %d)", in->display, strerror(err), err);
		in->spawn_err = err;
		set_state(in, ST_CRASHED, 0, 0);
		/* Like any crash (EAGAIN, ENOMEM pass). */
		if (!sup->shutting_down)
			inst_policy(in, 0, 0, 0);
		op_note(in, PH_STARTING, 0, err);
		return (-1);
	}
	in->pid = pid;
	pid_add(&in->node, pid);
	in->start_ns = mono_ns();
	in->kstart_ns = 0;
	in->sampled = 0;
	in->exec_pending = 1;
	in->statusfd = sfd;
	set_state(in, ST_STARTING, 0, 0);
	event_set(&in->status_ev, sfd, EV_READ, inst_status_ev, in);
	event_add(&in->status_ev, NULL);
	in->runs++;
	/*
	 * Only a new pid must be on record soon (an old one is checked by
	 * its start time); the write comes after this loop turn's spawns.
	 */
	state_changed();
	logctl_pipe(in->logid, 0, 0, fds[0]);
	if (fds[1] != -1)
		logctl_pipe(in->logid, 1, 0, fds[1]);
	log_debug("%s: spawned pid %ld", in->display, (long)pid);
	return (0);
}

static void
status_close(struct instance *in)
{
	if (in->statusfd == -1)
		return;
	event_del(&in->status_ev);
	close(in->statusfd);
	in->statusfd = -1;
	in->exec_pending = 0;
}

/* The exec status pipe: EOF means the exec succeeded. */
static void
inst_status_ev(int fd, short ev, void *arg)
{
	struct instance	*in = arg;
	int		 r;

	if ((r = spawn_status(fd)) == -1) {
		event_add(&in->status_ev, NULL);
		return;
	}
	status_close(in);
	if (r != 0) {
		/* It _exits right away; the failure is final once reaped. */
		in->spawn_err = r;
		return;
	}
	if (in->state.kind == ST_STARTING)
		set_state(in, ST_RUNNING, 0, 0);
	log_debug("%s: running, pid %ld", in->display, (long)in->pid);
	op_note(in, PH_STARTING, 1, 0);
}

/* ---- exits ---- */

void
runner_reaped(pid_t pid, int status)
{
	struct pidnode	*n;

	if ((n = pid_find(pid)) == NULL) {
		if (!logctl_reaped(pid, status))
			log_debug("reaped adopted orphan %ld", (long)pid);
		return;
	}
	LIST_REMOVE(n, entry);
	if (n->pre)
		pre_reaped(n->inst, status);
	else
		inst_reaped(n->inst, status);
}

/*
 * The process is gone; what it wrote is in its pipes.  Its new state is
 * not shown before the logger has read them (runner_drained()), so that
 * whoever sees it exited finds all its output in the files.
 */
static void
inst_reaped(struct instance *in, int status)
{
	pid_t	leader = in->pid;
	int	r;

	in->pid = 0;
	in->reap_status = status;
	in->reap_leader = leader;
	in->reap_uptime = mono_ns() - in->start_ns;
	in->reap_exec_note = 0;
	/* Whatever is left of its tree goes with it (cg_wait's first look). */
	if (!cg_enabled() && proctree_signal(leader, 0, SIGKILL,
	    in->p->env_name, in->env_inst) == 0)
		log_debug("%s: killed what was left of group %ld",
		    in->display, (long)leader);
	if (in->exec_pending) {
		if ((r = spawn_status(in->statusfd)) > 0)
			in->spawn_err = r;
		status_close(in);
		in->reap_exec_note = 1;
	}
	evtimer_del(&in->stop_ev);
	if (in->pre_pid != 0)
		pre_kill(in);
	in->draining = 1;
	in->cg_polls = 0;
	cg_wait(-1, 0, in);
}

/*
 * The instance is over when its cgroup is empty: look again every
 * CG_POLL_MS (what cgroup.kill killed goes within a few), at most
 * CG_POLLS times; then its output is read.
 */
static void
cg_wait(int fd, short ev, void *arg)
{
	struct instance	*in = arg;
	struct timeval	 tv;

	if (cg_enabled() && cg_populated(in->display)) {
		if (in->cg_polls == 0) {
			log_debug("%s: killing what is left in its cgroup",
			    in->display);
			cg_kill(in->display);
		}
		if (++in->cg_polls < CG_POLLS) {
			ms_to_tv(CG_POLL_MS, &tv);
			evtimer_add(&in->cg_ev, &tv);
			return;
		}
		log_warnx("%s: processes left in its cgroup after %d ms",
		    in->display, CG_POLLS * CG_POLL_MS);
		cg_kill(in->display);
	}
	cg_ended(in);
	logctl_drain(in->logid, in->runs);
}

/*
 * The run is over and its cgroup empty; the next one uses it too (see
 * cg_procs_fd()), so what its counters hold now is the past's.
 */
static void
cg_ended(struct instance *in)
{
	uint64_t	oom;

	in->oom_killed = 0;
	if (!cg_enabled() || !in->cg_made)
		return;
	if (in->p->pc->limits.set[LIMIT_MEMORY_MAX] &&
	    cg_limit_why(LIMIT_MEMORY_MAX) == NULL) {
		oom = cg_oom_kills(in->display);
		in->oom_killed = WIFSIGNALED(in->reap_status) &&
		    WTERMSIG(in->reap_status) == SIGKILL &&
		    oom > in->cg_oom_base;
		in->cg_oom_base = oom;
	}
	in->cg_cpu_base = cg_cpu_ns(in->display);
}

void
runner_drained(uint32_t logid, uint64_t serial)
{
	struct instance	*in;

	if (logid >= ninsts || (in = byid[logid]) == NULL)
		return;
	if (in->draining && in->runs == serial) {
		in->draining = 0;
		inst_exited(in);
		if (sup->shutting_down)
			sup_check_stopped();
	}
}

/* Its output is in the files: the exit is now for everyone to see. */
static void
inst_exited(struct instance *in)
{
	int		 status = in->reap_status, has_code, code;
	int		 exec_note = in->reap_exec_note, stopped = 0;
	const char	*sname;

	has_code = WIFEXITED(status);
	code = has_code ? WEXITSTATUS(status) : 0;
	if (in->spawn_err != 0) {
		inst_log(in, LOG_ERR, "%s: failed to spawn process: %s (os "
		    "error %d)", in->display, strerror(in->spawn_err),
		    in->spawn_err);
		set_state(in, ST_CRASHED, 0, 0);
		exec_note = 1;
	} else if (in->stop_phase != STOP_NONE) {
		if (in->stop_phase == STOP_KILLED)
			set_state(in, ST_TERMINATED, 0, 0);
		else
			set_state(in, ST_STOPPED, has_code, code);
	} else if (has_code && code == 0)
		/* Restarted or not (restart_on_success), a clean exit. */
		set_state(in, ST_STOPPED, 1, 0);
	else
		set_state(in, ST_CRASHED, has_code, code);
	state_changed();	/* its exit, on record */

	if (in->spawn_err != 0)
		;	/* said above */
	else if (in->oom_killed)
		log_warnx("%s: pid %ld killed by the out-of-memory killer of "
		    "its cgroup (memory_max)", in->display,
		    (long)in->reap_leader);
	else if (WIFSIGNALED(status)) {
		sname = signame_name(WTERMSIG(status));
		inst_log(in, LOG_INFO, "%s: pid %ld killed by signal %d%s%s",
		    in->display, (long)in->reap_leader, WTERMSIG(status),
		    sname != NULL ? " " : "", sname != NULL ? sname : "");
	} else
		inst_log(in, LOG_INFO, "%s: pid %ld exited with code %d",
		    in->display, (long)in->reap_leader, code);

	if (in->stop_phase != STOP_NONE) {
		in->stop_phase = STOP_NONE;
		stopped = 1;
	} else if (!sup->shutting_down)
		inst_policy(in, in->spawn_err == 0 && has_code, code,
		    in->reap_uptime);

	if (exec_note)
		op_note(in, PH_STARTING, in->spawn_err == 0, in->spawn_err);
	if (stopped)
		op_note(in, PH_STOPPING, 1, 0);
}

/*
 * A line about one instance, unless it already had INST_LOG_BURST lines
 * in this INST_LOG_WINDOW_MS: a crash loop must not flood the daemon's
 * log.  What was left out is counted, and said with the next line written
 * after the window, or before the line that ends the loop.
 */
static void
inst_log(struct instance *in, int pri, const char *fmt, ...)
{
	va_list	ap;
	int64_t	now = mono_ms();

	if (now - in->log_window >= INST_LOG_WINDOW_MS) {
		inst_log_flush(in);
		in->log_window = now;
		in->log_n = 0;
	}
	if (in->log_n >= INST_LOG_BURST) {
		in->log_dropped++;
		return;
	}
	in->log_n++;
	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
inst_log_flush(struct instance *in)
{
	if (in->log_dropped == 0)
		return;
	log_info("%s: %u more messages like these in %d s were not logged",
	    in->display, in->log_dropped, INST_LOG_WINDOW_MS / 1000);
	in->log_dropped = 0;
}

static void
inst_policy(struct instance *in, int has_code, int code, uint64_t uptime)
{
	const struct restart_config *rc = &in->p->pc->restart;
	struct timeval	tv;
	uint64_t	delay;
	char		buf[DURATION_FMT_MAX];
	struct duration	d;
	enum restart_decision r;

	r = restart_on_exit(rc, &in->rs, has_code, code, uptime, mono_ns(),
	    &delay);
	/*
	 * Given up: an exit the policy would restart, refused by its limits
	 * (max_restarts 0 is no policy to give up); shown as such until the
	 * instance runs again.
	 */
	in->gave_up = r != RESTART_YES && r != RESTART_NO_SUCCESS &&
	    rc->max_restarts > 0 &&
	    !(has_code && code == 0 && !rc->restart_on_success);
	in->gave_up_after = (uint32_t)in->rs.nhist;
	switch (r) {
	case RESTART_YES:
		d.sec = delay / MONO_NSEC;
		d.nsec = (uint32_t)(delay % MONO_NSEC);
		duration_format(&d, buf, sizeof(buf));
		inst_log(in, LOG_INFO, "%s: restarting in %s (attempt %u)",
		    in->display, buf, in->rs.attempt);
		ns_to_tv(delay, &tv);
		arm_delay(&in->restart_ev, &tv);
		in->restart_at = mono_ns() + delay;
		break;
	case RESTART_NO_CIRCUIT:
		inst_log_flush(in);
		duration_format(&rc->restart_window, buf, sizeof(buf));
		log_warnx("%s: circuit open after %u restarts within %s: not "
		    "restarting until it is started again", in->display,
		    rc->max_restarts, buf);
		break;
	case RESTART_NO_LIMIT:
		inst_log_flush(in);
		log_warnx("%s: restart limit (%u) reached: not restarting",
		    in->display, rc->max_restarts);
		break;
	case RESTART_NO_MEMORY:
		log_warnx("%s: out of memory: not restarting", in->display);
		break;
	case RESTART_NO_SUCCESS:
		break;
	}
}

static void
inst_restart_ev(int fd, short ev, void *arg)
{
	struct instance	*in = arg;

	struct timeval	 tv = { 0, 0 };

	if (sup->shutting_down)
		return;
	if (!spawn_take()) {
		evtimer_add(&in->restart_ev, &tv);	/* next turn */
		return;
	}
	in->restart_count++;
	(void)inst_spawn(in);
}

/* ---- stopping ---- */

static void
inst_stop(struct instance *in)
{
	const struct shutdown_config *sc = inst_sc(in);

	evtimer_del(&in->restart_ev);
	inst_log_flush(in);	/* a loop it ends: its count, now */
	if (!inst_alive(in) || in->stop_phase != STOP_NONE)
		return;
	set_state(in, ST_STOPPING, 0, 0);
	if (sc->n_pre_shutdown_commands > 0) {
		in->stop_phase = STOP_PRE;
		in->pre_next = 0;
		stop_arm(in);
		pre_next(in);
	} else
		stop_signal(in);
}

/* shutdown.timeout from now, never past the daemon's deadline. */
static void
stop_arm(struct instance *in)
{
	stop_arm_delay(in, &inst_sc(in)->timeout);
}

static void
stop_arm_delay(struct instance *in, const struct duration *d)
{
	struct timeval	tv;
	uint64_t	t, now;

	t = duration_to_ns(d);
	in->stop_cut = 0;
	if (sup->shutting_down) {
		now = mono_ns();
		if (deadline_ns <= now || deadline_ns - now < t) {
			/* The daemon's deadline comes first: it applies. */
			t = deadline_ns <= now ? 0 : deadline_ns - now;
			in->stop_cut = 1;
		}
	}
	ns_to_tv(t, &tv);
	arm_delay(&in->stop_ev, &tv);
}

/*
 * Arm a configured delay from now.  libevent counts a timeout from the
 * time the loop last woke; a callback that ran late (a busy machine)
 * would otherwise shorten the delay, and the restart window, measured
 * on the real clock, would see restarts closer than the backoff allows.
 */
static void
arm_delay(struct event *ev, const struct timeval *tv)
{
	event_base_update_cache_time(event_get_base(ev));
	evtimer_add(ev, tv);
}

static void
stop_signal(struct instance *in)
{
	in->stop_phase = STOP_SIGNALED;
	tree_signal(in, inst_sc(in)->signo);
	stop_arm(in);
}

static void
stop_timeout(int fd, short ev, void *arg)
{
	struct instance	*in = arg;
	const struct shutdown_config *sc = inst_sc(in);
	char		 buf[DURATION_FMT_MAX];

	duration_format(&sc->timeout, buf, sizeof(buf));
	if (in->stop_cut && in->stop_phase != STOP_KILLED) {
		deadline_say(in);
		pre_kill(in);
		in->stop_phase = STOP_KILLED;
		tree_signal(in, SIGKILL);
		return;
	}
	switch (in->stop_phase) {
	case STOP_PRE:
		log_warnx("%s: pre-shutdown commands still running after %s",
		    in->display, buf);
		pre_kill(in);
		stop_signal(in);
		break;
	case STOP_SIGNALED:
		if (duration_to_ns(&sc->kill_delay) > 0) {
			/* A second signal (a CLI that asks for two
			 * interrupts), then kill_delay before SIGKILL. */
			log_info("%s: still running %s after %s: sending it "
			    "again", in->display, buf, signame_name(sc->signo) ?
			    signame_name(sc->signo) : "the signal");
			in->stop_phase = STOP_AGAIN;
			tree_signal(in, sc->signo);
			stop_arm_delay(in, &sc->kill_delay);
			break;
		}
		/* FALLTHROUGH */
	case STOP_AGAIN:
		if (sc->force_kill || sup->shutting_down) {
			log_warnx("%s: still running %s (its stop timeout) "
			    "after %s: killing it", in->display, buf,
			    signame_name(sc->signo) ?
			    signame_name(sc->signo) : "the signal");
			in->stop_phase = STOP_KILLED;
			tree_signal(in, SIGKILL);
		} else {
			log_warnx("%s: still running %s after the stop signal "
			    "and force_kill is off: leaving it running",
			    in->display, buf);
			in->stop_phase = STOP_NONE;
			set_state(in, ST_RUNNING, 0, 0);
			op_note(in, PH_STOPPING, 0, 0);
		}
		break;
	default:
		break;
	}
}

/* Run the next pre-shutdown command, or send the signal after the last. */
static void
pre_next(struct instance *in)
{
	const struct shutdown_config *sc = inst_sc(in);

	while (in->pre_next < sc->n_pre_shutdown_commands)
		if (pre_spawn(in,
		    sc->pre_shutdown_commands[in->pre_next++]) == 0)
			return;
	stop_signal(in);
}

/* /bin/sh -c CMD as the process's user, in its cwd, with its env. */
static int
pre_spawn(struct instance *in, const char *cmd)
{
	char	*argv[4], **envp;
	int	 fds[2], sfd, err;
	pid_t	 pid;

	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)cmd;
	argv[3] = NULL;
	if ((envp = inst_envp(in)) == NULL) {
		log_warn("%s: pre-shutdown command", in->display);
		return (-1);
	}
	pid = run_child(in, argv, envp, fds, &sfd, &err);
	free(envp);
	if (pid == -1) {
		log_warnx("%s: pre-shutdown command: %s", in->display,
		    strerror(err));
		return (-1);
	}
	in->pre_statusfd = sfd;
	/* Its output goes to the instance's logs. */
	logctl_pipe(in->logid, 0, 1, fds[0]);
	if (fds[1] != -1)
		logctl_pipe(in->logid, 1, 1, fds[1]);
	in->pre_pid = pid;
	pid_add(&in->pre_node, pid);
	log_debug("%s: pre-shutdown command pid %ld: %s", in->display,
	    (long)pid, cmd);
	return (0);
}

static void
pre_kill(struct instance *in)
{
	if (in->pre_pid != 0)
		kill(-in->pre_pid, SIGKILL);
}

static void
pre_reaped(struct instance *in, int status)
{
	pid_t	pid = in->pre_pid;
	int	r;

	in->pre_pid = 0;
	kill(-pid, SIGKILL);	/* its own leftovers */
	if ((r = spawn_status(in->pre_statusfd)) > 0)
		log_warnx("%s: pre-shutdown command: failed to spawn process: "
		    "%s", in->display, strerror(r));
	close(in->pre_statusfd);
	in->pre_statusfd = -1;
	if (r > 0)
		;
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warnx("%s: pre-shutdown command %ld failed (%s %d)",
		    in->display, (long)pid, WIFEXITED(status) ? "exit code" :
		    "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
	if (in->stop_phase == STOP_PRE)
		pre_next(in);
}

/* ---- process trees ---- */

/* Signal an instance's group now, and the rest of its tree very soon. */
/*
 * The stop signal goes to the process group; SIGKILL to everything the
 * instance started: its cgroup, or the process tree and the orphans
 * that carry its marks without cgroups.
 */
static void
tree_signal(struct instance *in, int sig)
{
	if (in->pid <= 1)
		return;
	if (cg_enabled()) {
		(void)kill(-in->pid, sig);
		if (sig == SIGKILL)
			cg_kill(in->display);
		return;
	}
	proctree_signal(in->pid, in->pid, sig, in->p->env_name,
	    in->env_inst);
}

static int
pid_known(pid_t pid)
{
	return (pid_find(pid) != NULL);
}

/* ---- daemon shutdown ---- */

int
runner_all_stopped(void)
{
	size_t		i;
	uint32_t	k;

	for (i = 0; i < nprocs; i++)
		for (k = 0; k < procs[i]->nall; k++)
			if (procs[i]->inst[k]->pid != 0 ||
			    procs[i]->inst[k]->pre_pid != 0 ||
			    procs[i]->inst[k]->draining)
				return (0);
	return (1);
}

void
runner_shutdown(const struct duration *d)
{
	struct timeval	 tv;
	struct proc	*p;
	struct op	*op, *next;
	size_t		 i;
	uint32_t	 k;

	deadline_ns = mono_ns() + duration_to_ns(d);
	deadline_dur = *d;
	for (i = 0; i < nprocs; i++) {
		p = procs[i];
		/* The operation under way finishes; the queued ones fail. */
		if ((op = TAILQ_FIRST(&p->ops)) != NULL) {
			for (op = TAILQ_NEXT(op, entry); op != NULL;
			    op = next) {
				next = TAILQ_NEXT(op, entry);
				TAILQ_REMOVE(&p->ops, op, entry);
				reply_error(op->ref, ERR_INTERNAL_ERROR,
				    SHUTDOWN_MSG);
				free(op);
			}
		}
		for (k = 0; k < p->nall; k++)
			inst_stop(p->inst[k]);
	}
	ns_to_tv(duration_to_ns(d), &tv);
	arm_delay(&deadline_ev, &tv);
}

/* The stop-timeout line when the daemon's deadline is what applied. */
static void
deadline_say(struct instance *in)
{
	char	dbuf[DURATION_FMT_MAX], ibuf[DURATION_FMT_MAX];

	duration_format(&deadline_dur, dbuf, sizeof(dbuf));
	duration_format(&inst_sc(in)->timeout, ibuf, sizeof(ibuf));
	log_warnx("%s: still running when the daemon's shutdown_timeout of "
	    "%s ran out (it cuts the process's own stop timeout of %s): "
	    "killing it", in->display, dbuf, ibuf);
}

/*
 * [daemon] shutdown_timeout ran out: say which instances it cut short,
 * and which timeout applied (theirs was longer, or they were still in
 * their kill_delay), then kill everything.
 */
static void
deadline_cb(int fd, short ev, void *arg)
{
	struct instance	*in;
	size_t		 i, named = 0, more = 0;
	uint32_t	 k;

	for (i = 0; i < nprocs; i++) {
		for (k = 0; k < procs[i]->nall; k++) {
			in = procs[i]->inst[k];
			/* A stop timer cut short has said it already. */
			if ((in->pid == 0 && in->pre_pid == 0) ||
			    (in->stop_cut && in->stop_phase == STOP_KILLED))
				continue;
			if (named == DEADLINE_NAMED) {
				more++;
				continue;
			}
			named++;
			deadline_say(in);
		}
	}
	if (more > 0)
		log_warnx("and %zu more instances: killing them", more);
	runner_kill_all();
}

/* SIGKILL every tree now, synchronously: the caller may exit next. */
void
runner_kill_all(void)
{
	struct instance	*in;
	size_t		 i;
	uint32_t	 k;

	for (i = 0; i < nprocs; i++) {
		for (k = 0; k < procs[i]->nall; k++) {
			in = procs[i]->inst[k];
			evtimer_del(&in->restart_ev);
			pre_kill(in);
			if (in->pid == 0)
				continue;
			evtimer_del(&in->stop_ev);
			if (inst_alive(in))
				set_state(in, ST_STOPPING, 0, 0);
			in->stop_phase = STOP_KILLED;
			kill(-in->pid, SIGKILL);
		}
	}
	for (i = 0; i < nprocs; i++)
		for (k = 0; k < procs[i]->nall; k++)
			cg_kill(procs[i]->inst[k]->display);
	proctree_kill_all();
}

void
runner_flush_logs(void)
{
	logctl_exit();
}

uint32_t
runner_running_count(void)
{
	size_t		i;
	uint32_t	k, n = 0;

	for (i = 0; i < nprocs; i++)
		for (k = 0; k < procs[i]->n; k++)
			if (st_running(procs[i]->inst[k]->state.kind))
				n++;
	return (n);
}

/*
 * Every instance a viewer may see figures for (an administrator: all;
 * anybody else: the processes that run as them), in configuration order,
 * in an array that the caller frees.  Returns how many; 0 and NULL when
 * there are none or memory ran out.
 */
size_t
runner_metrics(struct metric_inst **out, int admin, uid_t uid)
{
	struct metric_inst	*v;
	struct s_instance	 si;
	struct instance		*in;
	struct proc		*p;
	uint64_t		 now = mono_ns();
	size_t			 i, n = 0, cap = 0;
	uint32_t		 k;

	*out = NULL;
	for (i = 0; i < nprocs; i++)
		cap += procs[i]->n;
	if (cap == 0 || (v = calloc(cap, sizeof(*v))) == NULL)
		return (0);
	for (i = 0; i < nprocs; i++) {
		p = procs[i];
		if (!admin && (p->pc->user == NULL || p->pc->uid != uid))
			continue;
		for (k = 0; k < p->n; k++) {
			in = p->inst[k];
			fill_instance(in, &si, now);
			v[n].process = p->pc->name;
			v[n].index = in->idx;
			v[n].ninstances = p->n;
			v[n].state = si.state;
			v[n].flags = si.flags;
			v[n].restarts = si.restart_count;
			v[n].uptime_secs = si.uptime_secs;
			v[n].cpu_ns = in->cpu_last;
			v[n].memory_bytes = si.memory_bytes;
			n++;
		}
	}
	*out = v;
	return (n);
}

/* The instances configured now (those a reload retires left out). */
uint32_t
runner_instance_count(void)
{
	size_t		i;
	uint32_t	n = 0;

	for (i = 0; i < nprocs; i++)
		if (!procs[i]->removed)
			n += procs[i]->n;
	return (n);
}

int
runner_proc_owner(const char *name, uid_t *uid)
{
	struct proc	*p;

	if ((p = proc_find(name)) == NULL || p->pc->user == NULL)
		return (-1);
	*uid = p->pc->uid;
	return (0);
}

/* ---- operations: start, stop, restart, reload ---- */

static void
op_submit(struct proc *p, enum runner_op kind, struct conn_ref ref)
{
	struct op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL) {
		log_warn("calloc");
		reply_error(ref, ERR_INTERNAL_ERROR, "out of memory");
		return;
	}
	op->kind = kind;
	op->ref = ref;
	TAILQ_INSERT_TAIL(&p->ops, op, entry);
	op_kick(p);
}

/* Run the head operation as far as it goes; then the next ones. */
static void
op_kick(struct proc *p)
{
	struct op	*op;
	uint32_t	 k;

	if (p->in_op)
		return;
	p->in_op = 1;
	while ((op = TAILQ_FIRST(&p->ops)) != NULL && op->waiting == 0) {
		if (!op_step(p, op))
			break;
		TAILQ_REMOVE(&p->ops, op, entry);
		if (op->ngen != NULL)
			gen_drop(op->ngen);
		free(op);
		for (k = 0; k < p->nall; k++)
			p->inst[k]->op_wait = 0;
	}
	p->in_op = 0;
	if (p->removed || p->nall > p->n)
		gc_soon(0);
}

/*
 * Advance op until it has replied (1) or waits for instances (0): the
 * step function of its kind moves it from one phase to the next.
 */
static int
op_step(struct proc *p, struct op *op)
{
	static int (*const steps[])(struct proc *, struct op *) = {
		[RUNNER_START] = step_start,
		[RUNNER_STOP] = step_stop,
		[RUNNER_RESTART] = step_restart,
		[RUNNER_RELOAD] = step_reload,
		[RUNNER_APPLY] = step_apply,
		[RUNNER_REMOVE] = step_remove
	};

	for (;;) {
		if (op->phase == PH_BEGIN && sup->shutting_down)
			return (op_shutdown(op));
		if (steps[op->kind](p, op))
			return (1);
		if (op->waiting > 0)
			return (0);
	}
}

/* An instance did what the head operation waits for (or failed to). */
static void
op_note(struct instance *in, enum op_phase ph, int ok, int err)
{
	struct proc	*p = in->p;
	struct op	*op = TAILQ_FIRST(&p->ops);

	if (!in->op_wait || op == NULL || op->phase != ph ||
	    op->waiting == 0)
		return;
	in->op_wait = 0;
	if (ok)
		op->ok++;
	else {
		op->fail++;
		if (err != 0)
			op->err = err;
	}
	if (--op->waiting == 0)
		op_kick(p);
}

static void
op_wait_for(struct op *op, struct instance *in)
{
	in->op_wait = 1;
	op->waiting++;
}

/* Not running and nothing of it left: what a start may spawn. */
static int
inst_startable(const struct instance *in)
{
	return (!st_running(in->state.kind) && in->pid == 0 &&
	    !in->draining);
}

/*
 * Start every instance that is not running (a failed spawn, a crash
 * given up on): 1 when refused because all of them run.
 */
static int
op_start_all(struct proc *p, struct op *op, int count_restart)
{
	struct instance	*in;
	uint32_t	 k;

	op->ok = op->fail = op->skipped = 0;
	op->err = 0;
	for (k = 0; k < p->n; k++)
		if (!inst_startable(p->inst[k]))
			op->skipped++;
	if (op->skipped == p->n) {
		reply_error(op->ref, ERR_PROCESS_ALREADY_RUNNING,
		    "Process '%s' is already running", p->pc->name);
		return (1);
	}
	op->phase = PH_STARTING;
	proc_prepare(p);
	for (k = 0; k < p->n; k++) {
		in = p->inst[k];
		if (!inst_startable(in))
			continue;
		evtimer_del(&in->restart_ev);
		restart_reset(&in->rs);	/* an explicit start closes it */
	}
	op->next = 0;
	op->count_restart = count_restart;
	op->waiting++;		/* held until every spawn is made */
	(void)op_spawn_more(p, op);
	return (0);
}

/*
 * Spawn the start's instances from op->next on while the turn's budget
 * lasts; the rest waits for the next turn.  1 when all are spawned (the
 * hold op_start_all() took is released then).
 */
static int
op_spawn_more(struct proc *p, struct op *op)
{
	struct instance	*in;

	for (; op->next < p->n; op->next++) {
		in = p->inst[op->next];
		if (!inst_startable(in))
			continue;
		if (sup->shutting_down)
			break;		/* what was spawned is stopped */
		if (!spawn_take()) {
			p->spawn_waiting = 1;
			TAILQ_INSERT_TAIL(&spawn_waiters, p, spawn_entry);
			return (0);
		}
		if (op->count_restart)
			in->restart_count++;
		op_wait_for(op, in);
		inst_spawn(in);
	}
	op->next = p->n;
	op->waiting--;
	return (1);
}

/* May one more spawn happen this turn?  The budget is back next turn. */
static int
spawn_take(void)
{
	struct timeval	tv = { 0, 0 };

	if (spawn_left == 0)
		return (0);
	if (spawn_left == SPAWN_BATCH)
		evtimer_add(&spawn_ev, &tv);
	spawn_left--;
	return (1);
}

/* A new turn: the starts that waited go on, oldest first. */
static void
spawn_turn(int fd, short ev, void *arg)
{
	struct proc	*p;
	struct op	*op;

	spawn_left = SPAWN_BATCH;
	while ((p = TAILQ_FIRST(&spawn_waiters)) != NULL) {
		TAILQ_REMOVE(&spawn_waiters, p, spawn_entry);
		p->spawn_waiting = 0;
		op = TAILQ_FIRST(&p->ops);
		if (op_spawn_more(p, op) && op->waiting == 0)
			op_kick(p);
		if (p->spawn_waiting)
			break;		/* the budget is spent again */
	}
}

static void
op_stop_all(struct proc *p, struct op *op)
{
	struct instance	*in;
	uint32_t	 k;

	op->phase = PH_STOPPING;
	op->ok = op->fail = 0;
	for (k = 0; k < p->n; k++) {
		in = p->inst[k];
		evtimer_del(&in->restart_ev);
		if (!inst_alive(in) || !st_running(in->state.kind))
			continue;
		op_wait_for(op, in);
		inst_stop(in);
	}
}

/* The replies that finish an operation: each returns 1. */
static int
op_shutdown(struct op *op)
{
	reply_error(op->ref, ERR_INTERNAL_ERROR, SHUTDOWN_MSG);
	return (1);
}

/*
 * Instances left running after their stop signal and timeout, force_kill
 * being off: no success.  internal_error, upstream having no better
 * code, and the message says why.
 */
static int
op_not_stopped(struct proc *p, struct op *op)
{
	reply_error(op->ref, ERR_INTERNAL_ERROR, "Process '%s' did not stop: "
	    "%u instance(s) still running after the stop signal and timeout "
	    "(force_kill is off)", p->pc->name, op->fail);
	return (1);
}

static int
op_spawn_failed(struct op *op)
{
	reply_error(op->ref, ERR_INTERNAL_ERROR,
	    "failed to spawn process: %s (os error %d)", strerror(op->err),
	    op->err);
	return (1);
}

/* k of n: those running now, started by this operation or before. */
static int
op_started(struct proc *p, struct op *op)
{
	if (op->fail == 0)
		reply_ok(op->ref, "Process '%s' started", p->pc->name);
	else if (op->ok > 0)
		reply_ok(op->ref, "Started %u of %u instances (some failed)",
		    op->ok + op->skipped, p->n);
	else
		return (op_spawn_failed(op));
	return (1);
}

/* The step functions, one per kind: 1 when the operation has replied. */

static int
step_start(struct proc *p, struct op *op)
{
	if (op->phase == PH_BEGIN)
		return (op_start_all(p, op, 0));
	return (op_started(p, op));
}

static int
step_stop(struct proc *p, struct op *op)
{
	uint32_t	k;

	if (op->phase == PH_STOPPING) {
		if (op->fail > 0)
			return (op_not_stopped(p, op));
		reply_ok(op->ref, "Stopped %u instance(s) of '%s'", op->ok,
		    p->pc->name);
		return (1);
	}
	if (!proc_any_running(p)) {
		for (k = 0; k < p->n; k++)
			evtimer_del(&p->inst[k]->restart_ev);
		reply_error(op->ref, ERR_PROCESS_NOT_RUNNING,
		    "Process '%s' is not running", p->pc->name);
		return (1);
	}
	op_stop_all(p, op);
	return (0);
}

/* Upstream: stop (not running is fine), then start. */
static int
step_restart(struct proc *p, struct op *op)
{
	switch (op->phase) {
	case PH_BEGIN:
		op_stop_all(p, op);
		return (0);
	case PH_STOPPING:
		if (sup->shutting_down)
			return (op_shutdown(op));
		if (op->fail > 0)
			return (op_not_stopped(p, op));
		return (op_start_all(p, op, 1));
	default:
		return (op_started(p, op));
	}
}

/* One instance at a time, each Running again before the next stops. */
static int
step_reload(struct proc *p, struct op *op)
{
	/* cur <= n: one past the last is no instance. */
	struct instance	*in = op->cur < p->n ? p->inst[op->cur] : NULL;

	switch (op->phase) {
	case PH_BEGIN:
		proc_prepare(p);
		op->cur = 0;
		op->phase = PH_NEXT;
		return (0);
	case PH_NEXT:
		if (op->cur == p->n) {
			reply_ok(op->ref, "Process '%s' reloaded",
			    p->pc->name);
			return (1);
		}
		evtimer_del(&in->restart_ev);
		op->phase = PH_STOPPING;
		if (inst_alive(in)) {
			op_wait_for(op, in);
			inst_stop(in);
		}
		return (0);
	case PH_STOPPING:
		if (sup->shutting_down)
			return (op_shutdown(op));
		if (inst_alive(in)) {
			reply_error(op->ref, ERR_INTERNAL_ERROR,
			    "Process '%s' did not stop", p->pc->name);
			return (1);
		}
		op->phase = PH_STARTING;
		op->fail = 0;
		restart_reset(&in->rs);
		in->restart_count++;
		op_wait_for(op, in);
		inst_spawn(in);
		return (0);
	default:
		if (op->fail > 0)
			return (op_spawn_failed(op));
		op->cur++;
		op->phase = PH_NEXT;
		return (0);
	}
}

/* ---- reload ---- */

/* What the configuration sets and this version does not act on. */
static void
inert_report(const struct config *conf)
{
	struct config_errors	w;
	size_t			i;

	(void)config_inert(conf, &w);
	for (i = 0; i < w.n; i++)
		log_warnx("%s", w.msgs[i]);
	config_errors_free(&w);
}

static void
gen_drop(struct gen *g)
{
	if (--g->refs > 0 || g == curgen)
		return;
	config_free(g->conf);
	free(g);
}

/* The shutdown settings of a stop: those it was started with. */
static const struct shutdown_config *
inst_sc(const struct instance *in)
{
	return (in->rpc != NULL ? &in->rpc->shutdown : &in->p->pc->shutdown);
}

static void
gc_soon(int ms)
{
	struct timeval	tv;

	ms_to_tv(ms, &tv);
	evtimer_add(&gc_ev, &tv);
}

/* Nothing of it left to wait for: no process, no timer. */
static int
inst_done(struct instance *in)
{
	return (in->pid == 0 && in->pre_pid == 0 && !in->draining &&
	    !evtimer_pending(&in->cg_ev, NULL));
}

/*
 * Free, outside any call chain that may still use them, the instances a
 * reload retired and the processes it removed, once nothing of them is
 * left; look again soon for those that still have something.
 */
static void
gc_run(int fd, short ev, void *arg)
{
	struct proc	*p;
	size_t		 i;
	uint32_t	 k;
	int		 again = 0;

	for (i = 0; i < nprocs; i++) {
		p = procs[i];
		if (!TAILQ_EMPTY(&p->ops))
			continue;
		while (p->nall > p->n && inst_done(p->inst[p->nall - 1]))
			inst_free(p->inst[--p->nall]);
		if (p->nall > p->n)
			again = 1;
		if (!p->removed)
			continue;
		for (k = 0; k < p->nall; k++)
			if (!inst_done(p->inst[k]))
				break;
		if (k < p->nall) {
			again = 1;
			continue;
		}
		proc_free(p);
		memmove(procs + i, procs + i + 1, (nprocs - i - 1) *
		    sizeof(*procs));
		nprocs--;
		i--;
		state_changed();
	}
	if (again)
		gc_soon(100);
}

/*
 * p runs as pc (of gen) from now on: its command line, environment,
 * credentials and instance count.  The instances keep what they run
 * with until they are spawned again.  0, or -1 (logged; p unchanged).
 */
static int
proc_switch(struct proc *p, const struct proc_config *pc, struct gen *gen)
{
	char		**argv, *count;
	const struct proc_config *opc = p->pc;
	size_t		  i;

	if ((argv = calloc(pc->nargs + 2, sizeof(*argv))) == NULL ||
	    asprintf(&count, "APM2_INSTANCES=%u", pc->instances) == -1) {
		free(argv);
		log_warnx("%s: reload: out of memory", pc->name);
		return (-1);
	}
	p->pc = pc;
	if (proc_prepare(p) == -1) {
		p->pc = opc;
		free(argv);
		free(count);
		return (-1);
	}
	argv[0] = pc->command;
	for (i = 0; i < pc->nargs; i++)
		argv[i + 1] = pc->args[i];
	free(p->argv);
	p->argv = argv;
	free(p->env_count);
	p->env_count = count;
	gen->refs++;
	gen_drop(p->gen);
	p->gen = gen;
	/* Rotation (and timestamps) apply to its files at once. */
	for (i = 0; i < p->n; i++)
		logctl_settings(p->inst[i]->logid, pc);
	return (0);
}

/* A stopped instance takes its process's names: display, log files. */
static void
inst_rename(struct instance *in)
{
	config_display_name(in->p->pc, in->idx, in->display,
	    sizeof(in->display));
	logctl_forget(in->logid);
}

/*
 * Bring p to op->npc.  First (AP_SHRINK) it is switched and the
 * instances past the new count are stopped, highest first; then
 * (AP_GROW) the new ones are started if p was running; then, for a
 * changed process, each instance that ran is replaced one at a time as
 * reload_process does: AP_PICK finds it, AP_OLD waits for it to stop,
 * AP_NEW for its new process to be spawned.
 */
static int
step_apply(struct proc *p, struct op *op)
{
	struct instance	*in, **ni = NULL;
	uint32_t	 k, n = op->npc->instances;

	if (op->phase == PH_BEGIN) {
		op->was_running = proc_any_running(p);
		for (k = 0; k < p->n; k++)
			p->inst[k]->replace = op->keys != 0 &&
			    inst_alive(p->inst[k]);
		if (n > p->nall && (ni = reallocarray(p->inst, n,
		    sizeof(*ni))) != NULL)
			p->inst = ni;
		if ((n > p->nall && ni == NULL) ||
		    proc_switch(p, op->npc, op->ngen) == -1) {
			log_warnx("%s: reload: not applied", p->pc->name);
			return (1);
		}
		op->phase = PH_STOPPING;
		op->stage = AP_SHRINK;
		for (k = p->n; k-- > n;) {
			in = p->inst[k];
			evtimer_del(&in->restart_ev);
			if (inst_alive(in)) {
				op_wait_for(op, in);
				inst_stop(in);
			}
		}
		if (n < p->n)
			p->n = n;
		for (k = 0; k < p->n; k++)
			if (!p->inst[k]->replace && !inst_alive(p->inst[k]))
				inst_rename(p->inst[k]);
		return (0);
	}
	switch (op->stage) {
	case AP_SHRINK:
		op->phase = PH_STARTING;
		op->stage = AP_GROW;
		/* One an earlier reload retired has the same index: reused. */
		for (k = p->n; k < n; k++) {
			if (k < p->nall)
				inst_rename(p->inst[k]);
			else if ((p->inst[k] = inst_new(p, k)) == NULL) {
				log_warnx("%s: reload: out of memory",
				    p->pc->name);
				break;
			} else
				p->nall++;
			p->n++;
			if (op->was_running && !sup->shutting_down) {
				op_wait_for(op, p->inst[k]);
				inst_spawn(p->inst[k]);
			}
		}
		return (0);
	case AP_GROW:
		op->cur = 0;
		op->phase = PH_NEXT;
		op->stage = AP_PICK;
		return (0);
	case AP_PICK:
		while (op->cur < p->n && !p->inst[op->cur]->replace)
			op->cur++;
		if (op->cur == p->n || sup->shutting_down)
			return (1);
		in = p->inst[op->cur];
		in->replace = 0;
		evtimer_del(&in->restart_ev);
		op->phase = PH_STOPPING;
		op->stage = AP_OLD;
		if (inst_alive(in)) {
			op_wait_for(op, in);
			inst_stop(in);
		}
		return (0);
	case AP_OLD:
		in = p->inst[op->cur];
		op->phase = PH_STARTING;
		op->stage = AP_NEW;
		if (sup->shutting_down)
			return (1);
		if (!inst_alive(in)) {
			inst_rename(in);
			restart_reset(&in->rs);
			op_wait_for(op, in);
			inst_spawn(in);
		}
		return (0);
	case AP_NEW:
		op->cur++;
		op->phase = PH_NEXT;
		op->stage = AP_PICK;
		return (0);
	}
	return (1);
}

/* A process no longer configured: stop it, then it is forgotten. */
static int
step_remove(struct proc *p, struct op *op)
{
	if (op->phase == PH_BEGIN) {
		op_stop_all(p, op);
		return (0);
	}
	return (1);
}

/* One process's part of a reload; *at: where the next one goes. */
static void
apply_entry(const struct confdiff_ent *e, size_t *at)
{
	struct proc	*p;
	struct op	*op;
	size_t		 i;
	uint32_t	 k;

	if (e->kind == CD_ADDED) {
		if (proc_add(proc_new(e->new, curgen), *at) == -1)
			return;
		p = procs[(*at)++];
		if (p->pc->autostart && !sup->shutting_down)
			op_submit(p, RUNNER_START, (struct conn_ref){ 0, 0 });
		return;
	}
	if ((p = proc_find(e->name)) == NULL)
		return;
	/* Keep the new file's order: move p to *at. */
	for (i = 0; i < nprocs && procs[i] != p; i++)
		;
	if (e->kind != CD_REMOVED && i != *at && i < nprocs) {
		memmove(procs + i, procs + i + 1, (nprocs - i - 1) *
		    sizeof(*procs));
		memmove(procs + *at + 1, procs + *at, (nprocs - 1 - *at) *
		    sizeof(*procs));
		procs[*at] = p;
	}
	if (e->kind != CD_REMOVED)
		(*at)++;
	if (e->kind == CD_UNCHANGED || (e->kind == CD_POLICY &&
	    TAILQ_EMPTY(&p->ops))) {
		/* Same run settings: the running instances take them. */
		if (proc_switch(p, e->new, curgen) == 0)
			for (k = 0; k < p->n; k++)
				if (p->inst[k]->rpc != NULL) {
					p->inst[k]->rpc = p->pc;
					curgen->refs++;
					gen_drop(p->inst[k]->rgen);
					p->inst[k]->rgen = curgen;
				}
		return;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		log_warn("reload: %s", e->name);
		return;
	}
	if (e->kind == CD_REMOVED) {
		p->removed = 1;
		op->kind = RUNNER_REMOVE;
	} else {
		op->kind = RUNNER_APPLY;
		op->npc = e->new;
		op->ngen = curgen;
		curgen->refs++;
		op->keys = e->kind == CD_CHANGED ? e->keys : 0;
	}
	TAILQ_INSERT_TAIL(&p->ops, op, entry);
	op_kick(p);
}

/*
 * The [daemon] keys a reload applies (confdiff_daemon_live()), from the
 * new table nd into the running one d; the running values go to nd,
 * which is freed with it.
 */
static void
daemon_live(struct daemon_config *d, struct daemon_config *nd)
{
	char	*g;

	g = d->admin_group;
	d->admin_group = nd->admin_group;
	nd->admin_group = g;
	d->admin_gid = nd->admin_gid;
	d->max_conns_per_user = nd->max_conns_per_user;
	d->shutdown_timeout = nd->shutdown_timeout;
}

/*
 * Apply the difference d between the running configuration and nc,
 * which becomes the running one, with the running [daemon] table.
 */
void
runner_reload(struct config *nc, const struct confdiff *d)
{
	struct daemon_config	 dc;
	struct gen		*g, *old = curgen;
	size_t			 i, at = 0;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		log_warn("reload");
		config_free(nc);
		return;
	}
	dc = nc->daemon;
	nc->daemon = old->conf->daemon;
	old->conf->daemon = dc;
	daemon_live(&nc->daemon, &old->conf->daemon);
	g->conf = nc;
	curgen = g;
	rconf = sup->conf = nc;
	/* Both held while the entries are applied; old is freed after if
	 * nothing uses it any more. */
	g->refs++;
	old->refs++;
	inert_report(nc);
	for (i = 0; i < d->n; i++)
		apply_entry(&d->v[i], &at);
	state_changed();
	gen_drop(g);
	gen_drop(old);
}

/* ---- requests ---- */

void
runner_req_op(struct conn_ref ref, const char *name, enum runner_op kind)
{
	struct proc	*p;

	if ((p = proc_find(name)) == NULL)
		reply_error(ref, ERR_PROCESS_NOT_FOUND,
		    "Process '%s' not found", name);
	else if (sup->shutting_down)
		reply_error(ref, ERR_INTERNAL_ERROR, SHUTDOWN_MSG);
	else {
		proc_intent(p, kind == RUNNER_STOP ? INTENT_STOPPED :
		    INTENT_STARTED);
		op_submit(p, kind, ref);
	}
}

void
runner_req_tail(struct conn_ref ref, const char *name, uint32_t lines,
    int follow)
{
	struct proc	*p = NULL;

	if (name != NULL && (p = proc_find(name)) == NULL) {
		reply_error(ref, ERR_PROCESS_NOT_FOUND,
		    "Process '%s' not found", name);
		return;
	}
	logctl_tail(ref, p != NULL ? p->lid : 0, lines,
	    follow);
}

void
runner_log_ack(struct conn_ref ref)
{
	logctl_ack(ref);
}

void
runner_conn_closed(struct conn_ref ref)
{
	logctl_conn_closed(ref);
}

/* cpu since the previous sample (or the start), resident memory. */
static void
inst_sample(struct instance *in, uint64_t now)
{
	struct pstat	ps;
	uint64_t	dt, dcpu;

	if (!inst_alive(in))
		return;
	if (in->sampled && now - in->sample_ns < METRICS_MIN_NS)
		return;
	/* The whole instance where it has a cgroup, else its main process. */
	if (cg_usage(in->display, &ps.cpu_ns, &ps.rss) == 0)
		ps.cpu_ns = ps.cpu_ns > in->cg_cpu_base ?
		    ps.cpu_ns - in->cg_cpu_base : 0;
	else if (procstat_get(in->pid, &ps) == -1)
		return;
	dt = now - (in->sampled ? in->sample_ns : in->start_ns);
	dcpu = ps.cpu_ns - (in->sampled ? in->cpu_last : 0);
	if (in->sampled && ps.cpu_ns < in->cpu_last)
		dcpu = 0;
	in->cpu = dt > 0 ? (float)((double)dcpu * 100.0 / (double)dt) : 0;
	in->rss = ps.rss;
	in->cpu_last = ps.cpu_ns;
	in->sample_ns = now;
	in->sampled = 1;
}

static void
fill_state(struct p_state *ps, const struct p_state *st)
{
	memset(ps, 0, sizeof(*ps));
	ps->kind = st->kind;
	ps->has_code = st->has_code;
	ps->exit_code = st->exit_code;
}

static void
fill_instance(struct instance *in, struct s_instance *si, uint64_t now)
{
	uint64_t	left;

	memset(si, 0, sizeof(*si));
	fill_state(&si->state, &in->state);
	si->index = in->idx;
	si->restart_count = in->restart_count;
	if (in->oom_killed && st_exited(in->state.kind))
		si->flags |= P_OOM_KILLED;
	/* What the restart policy does next: wait, or nothing (gave up). */
	if (evtimer_pending(&in->restart_ev, NULL)) {
		left = in->restart_at > now ? in->restart_at - now : 0;
		left = (left + MONO_NSEC - 1) / MONO_NSEC;	/* "in 1s" */
		si->flags |= P_RESTART_DUE;
		si->policy = left < UINT32_MAX ? (uint32_t)left : UINT32_MAX;
	} else if (in->gave_up && st_exited(in->state.kind)) {
		si->flags |= P_GAVE_UP;
		si->policy = in->gave_up_after;
	}
	if (in->draining && st_running(in->state.kind)) {
		/* Reaped, its exit not shown yet (inst_reaped): as it was. */
		si->pid = (uint32_t)in->reap_leader;
		si->flags |= P_HAS_PID | P_HAS_UPTIME;
		si->uptime_secs = in->reap_uptime / MONO_NSEC;
		return;
	}
	if (!inst_alive(in))
		return;
	si->pid = (uint32_t)in->pid;
	si->flags |= P_HAS_PID;
	inst_sample(in, now);
	if (in->sampled) {
		si->cpu_percent = in->cpu;
		si->memory_bytes = in->rss;
		si->flags |= P_HAS_CPU | P_HAS_MEM;
	}
	if (st_running(in->state.kind)) {
		si->uptime_secs = (now - in->start_ns) / MONO_NSEC;
		si->flags |= P_HAS_UPTIME;
	}
}

/*
 * A process none of whose instances runs is "restarting" when one of them
 * is to be restarted (the soonest), else "gave up" when the policy gave
 * one up.
 */
static void
fill_summary(struct proc *p, struct s_summary *s, uint64_t now)
{
	struct s_instance	si;
	uint32_t		k, due = 0, gave = 0, flags = 0;

	memset(s, 0, sizeof(*s));
	strlcpy(s->name, p->pc->name, sizeof(s->name));
	s->instances = p->n;
	for (k = 0; k < p->n; k++) {
		fill_instance(p->inst[k], &si, now);
		if ((si.flags & P_RESTART_DUE) && (!(flags & P_RESTART_DUE) ||
		    si.policy < due))
			due = si.policy;
		if ((si.flags & P_GAVE_UP) && !(flags & P_GAVE_UP))
			gave = si.policy;
		flags |= si.flags & (P_RESTART_DUE | P_GAVE_UP);
		if (st_running(si.state.kind))
			s->running++;
		if (si.flags & P_HAS_CPU)
			s->cpu_percent += si.cpu_percent;
		if (si.flags & P_HAS_MEM)
			s->memory_bytes += si.memory_bytes;
		if ((si.flags & P_HAS_UPTIME) && (!(s->flags & P_HAS_UPTIME) ||
		    si.uptime_secs > s->uptime_secs))
			s->uptime_secs = si.uptime_secs;
		s->flags |= si.flags & (P_HAS_CPU | P_HAS_MEM | P_HAS_UPTIME);
		s->restart_count += si.restart_count;
	}
	/* Running if any instance runs, else instance 0's state. */
	if (s->running > 0) {
		s->status.kind = ST_RUNNING;
		return;
	}
	fill_state(&s->status, &p->inst[0]->state);
	if (flags & P_RESTART_DUE) {
		s->flags |= P_RESTART_DUE;
		s->policy = due;
	} else if (flags & P_GAVE_UP) {
		s->flags |= P_GAVE_UP;
		s->policy = gave;
	}
}

/*
 * list_processes from entry *next on, a batch a message, while the
 * channel has room (reply_room()), at least one batch a call.  1 when the
 * list is complete; 0 when it waits for room, *next being where it goes
 * on.  A viewer who may not manage a process (not an administrator, not
 * its user) sees no cpu, memory or uptime for it.
 */
int
runner_req_list(struct conn_ref ref, size_t *next, int admin, uid_t uid)
{
	static struct s_summary	 s[PROTO_LIST_BATCH];
	struct proc		*p;
	uint64_t		 now = mono_ns();
	size_t			 n;

	do {
		for (n = 0; n < PROTO_LIST_BATCH && *next < nprocs; n++) {
			p = procs[(*next)++];
			fill_summary(p, &s[n], now);
			if (!admin && (p->pc->user == NULL || p->pc->uid != uid))
				summary_strip(&s[n]);
		}
		if (n > 0)
			reply_send(ref, S_LIST_ENTRY, s, n * sizeof(s[0]));
	} while (*next < nprocs && reply_room());
	if (*next < nprocs)
		return (0);
	reply_send(ref, S_LIST_END, NULL, 0);
	return (1);
}

/* What only those who may manage a process see. */
static void
summary_strip(struct s_summary *s)
{
	s->flags &= ~(uint32_t)(P_HAS_CPU | P_HAS_MEM | P_HAS_UPTIME |
	    P_HAS_PID);
	s->cpu_percent = 0;
	s->memory_bytes = 0;
	s->uptime_secs = 0;
}

void
runner_req_get(struct conn_ref ref, const char *name)
{
	static struct s_detail	 d;
	static struct s_str	 a;
	static struct s_limit	 lim[LIMIT__COUNT];
	struct s_instance	 si;
	struct proc		*p;
	const struct proc_config *pc;
	uint64_t		 now = mono_ns();
	size_t			 i;
	uint32_t		 k;

	if ((p = proc_find(name)) == NULL) {
		reply_error(ref, ERR_PROCESS_NOT_FOUND,
		    "Process '%s' not found", name);
		return;
	}
	pc = p->pc;
	memset(&d, 0, sizeof(d));
	strlcpy(d.name, pc->name, sizeof(d.name));
	strlcpy(d.id, p->id, sizeof(d.id));
	strlcpy(d.command, pc->command, sizeof(d.command));
	if (pc->cwd != NULL) {
		strlcpy(d.cwd, pc->cwd, sizeof(d.cwd));
		d.has_cwd = 1;
	}
	if (pc->creds_present) {
		strlcpy(d.credential_profile, pc->creds.profile,
		    sizeof(d.credential_profile));
		d.has_profile = 1;
	}
	d.instances = p->n;
	d.nargs = (uint32_t)pc->nargs;
	d.ninst = p->n;
	d.nlimits = (uint32_t)limits_fill(&pc->limits, p->lim_err, lim,
	    LIMIT__COUNT);
	reply_send(ref, S_DETAIL, &d, sizeof(d));
	for (i = 0; i < pc->nargs; i++) {
		memset(&a, 0, sizeof(a));
		strlcpy(a.str, pc->args[i], sizeof(a.str));
		reply_send(ref, S_DETAIL_ARG, &a, sizeof(a));
	}
	for (k = 0; k < p->n; k++) {
		fill_instance(p->inst[k], &si, now);
		reply_send(ref, S_DETAIL_INST, &si, sizeof(si));
	}
	for (i = 0; i < d.nlimits; i++)
		reply_send(ref, S_DETAIL_LIMIT, &lim[i], sizeof(lim[i]));
	reply_send(ref, S_DETAIL_END, NULL, 0);
}
