/* SPDX-License-Identifier: ISC */
/*
 * proctree.c -- signalling whole process trees.
 *
 * An instance owns its process group (each child starts a new session),
 * the descendants of its main process that left the group, and orphans
 * that the supervisor adopted as child subreaper and that still carry the
 * instance's marks: its group or session id, or its APM2_* environment.
 * The group is signalled at once; the rest once the event loop comes
 * round, for every tree signalled meanwhile together.  That needs only
 * the processes below the live main processes and below us (the
 * orphans), read through the kernel's children lists (tree_table()):
 * what a stop costs grows with the instance's tree and our children,
 * not with the processes on the host.  Where the kernel keeps no such
 * lists, the whole process table is read instead.  (With cgroups, none
 * of this runs: an instance is its cgroup.)
 */
#include <sys/types.h>

#include <event.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "child.h"
#include "logctl.h"
#include "supervisor.h"

#define KIDS_MAX	4096	/* children listed for the fast check */

/* A tree to signal once the event loop comes round. */
struct treekill {
	pid_t		 leader;	/* the group, old or current */
	pid_t		 root;		/* live main process, or 0 */
	int		 sig;
	const char	*env1, *env2;	/* the instance's environment marks */
};

static int		(*ours)(pid_t);
static pid_t		 self;
static struct treekill	*tks;
static size_t		 ntks, tkcap;
static struct event	 tk_ev;

static int	known_pid(pid_t);
static int	pstat_cmp(const void *, const void *);
static ssize_t	ptable_find(const struct ptable *, pid_t);
static int	ptable_sorted(struct ptable *);
static int	need_scan(void);
static int	tree_table(struct ptable *);
static int	marked(const struct treekill *, const struct pstat *);
static void	mark_descendants(const struct ptable *, uint8_t *);
static void	kill_marked(const struct ptable *, uint8_t *, int, pid_t);
static void	tree_run(int, short, void *);

void
proctree_init(int (*known)(pid_t))
{
	ours = known;
	self = getpid();
	evtimer_set(&tk_ev, tree_run, NULL);
}

/*
 * Signal group leader now, and the rest of the tree very soon: root's
 * descendants (root: the live main process, or 0) and the adopted
 * orphans with the group's ids or both environment entries.  The
 * kill(2) result for the group.
 */
int
proctree_signal(pid_t leader, pid_t root, int sig, const char *env1,
    const char *env2)
{
	struct timeval	 tv = { 0, 0 };
	struct treekill	*n;
	size_t		 ncap;
	int		 r;

	r = kill(-leader, sig);
	if (ntks == tkcap) {
		ncap = tkcap == 0 ? 16 : tkcap * 2;
		if ((n = reallocarray(tks, ncap, sizeof(*n))) == NULL) {
			log_warn("tree kill");
			return (r);
		}
		tks = n;
		tkcap = ncap;
	}
	tks[ntks].leader = leader;
	tks[ntks].root = root;
	tks[ntks].sig = sig;
	tks[ntks].env1 = env1;
	tks[ntks].env2 = env2;
	ntks++;
	if (!evtimer_pending(&tk_ev, NULL))
		evtimer_add(&tk_ev, &tv);
	return (r);
}

/*
 * A child of ours the runner knows, the frontend, the logger or a gzip:
 * not an orphan.  (Were the logger taken for one, every exit would read
 * the whole process table.)
 */
static int
known_pid(pid_t pid)
{
	return ((ours != NULL && ours(pid)) ||
	    (sup != NULL && pid == sup->fe_pid) || logctl_child(pid));
}

static int
pstat_cmp(const void *a, const void *b)
{
	pid_t	x = ((const struct pstat *)a)->pid;
	pid_t	y = ((const struct pstat *)b)->pid;

	return (x < y ? -1 : x > y);
}

static ssize_t
ptable_find(const struct ptable *t, pid_t pid)
{
	size_t	lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->p[mid].pid == pid)
			return ((ssize_t)mid);
		if (t->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (-1);
}

/* The process table, sorted by pid for ptable_find(). */
static int
ptable_sorted(struct ptable *t)
{
	if (ptable_load(t) == -1)
		return (-1);
	qsort(t->p, t->n, sizeof(*t->p), pstat_cmp);
	return (0);
}

static void
mark_descendants(const struct ptable *t, uint8_t *mark)
{
	ssize_t	j;
	size_t	i;
	int	changed;

	do {
		changed = 0;
		for (i = 0; i < t->n; i++) {
			if (mark[i])
				continue;
			j = ptable_find(t, t->p[i].ppid);
			if (j >= 0 && mark[j]) {
				mark[i] = 1;
				changed = 1;
			}
		}
	} while (changed);
}

static void
kill_marked(const struct ptable *t, uint8_t *mark, int sig, pid_t group)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		if (!mark[i])
			continue;
		mark[i] = 0;
		/* The group's members had it from kill(-group): once. */
		if (t->p[i].pid <= 1 || t->p[i].pid == self ||
		    t->p[i].zombie || (group > 0 && t->p[i].pgid == group) ||
		    (sup != NULL && t->p[i].pid == sup->fe_pid))
			continue;
		kill(t->p[i].pid, sig);
	}
}

/*
 * Is the table worth reading?  Without a live root only adopted orphans
 * matter, and the kernel lists our children cheaply.
 */
static int
need_scan(void)
{
	static pid_t	 small[KIDS_MAX];
	pid_t		*kids = small, *big = NULL;
	size_t		 i, k, cap;
	int		 n, r = 0;

	for (k = 0; k < ntks; k++)
		if (tks[k].root != 0)
			return (1);
	n = procstat_children(self, kids, KIDS_MAX);
	if (n > KIDS_MAX) {
		/* More children than that: a bigger list, still no scan. */
		cap = (size_t)n + KIDS_MAX;
		if ((big = reallocarray(NULL, cap, sizeof(*big))) == NULL)
			return (1);
		kids = big;
		if ((n = procstat_children(self, kids, cap)) > 0 &&
		    (size_t)n > cap)
			n = -1;		/* grew meanwhile: look at all */
	}
	if (n < 0)
		r = 1;
	for (i = 0; r == 0 && i < (size_t)n; i++)
		if (!known_pid(kids[i]))
			r = 1;
	free(big);
	return (r);
}

/*
 * Only what tree_run() can mark: the live roots and our adopted orphans,
 * with everything below them, read through the kernel's children lists.
 * Sorted, no pid twice.  -1 where the kernel keeps no such lists.
 */
static int
tree_table(struct ptable *t)
{
	pid_t	*roots, *kids;
	size_t	 n = 0, i, j, cap;
	int	 nk, r;

	nk = procstat_children(self, NULL, 0);
	cap = ntks + (nk > 0 ? (size_t)nk : 0) + KIDS_MAX;
	if (nk < 0 || (roots = reallocarray(NULL, cap, sizeof(*roots))) ==
	    NULL)
		return (-1);
	for (i = 0; i < ntks; i++)
		if (tks[i].root != 0)
			roots[n++] = tks[i].root;
	kids = roots + n;
	nk = procstat_children(self, kids, cap - n);
	if (nk < 0 || (size_t)nk > cap - n) {
		free(roots);
		return (-1);
	}
	for (i = 0; i < (size_t)nk; i++)
		if (!known_pid(kids[i]))
			roots[n++] = kids[i];
	r = ptable_trees(t, roots, n);
	free(roots);
	if (r == -1)
		return (-1);
	qsort(t->p, t->n, sizeof(*t->p), pstat_cmp);
	for (i = j = 0; i < t->n; i++)
		if (j == 0 || t->p[i].pid != t->p[j - 1].pid)
			t->p[j++] = t->p[i];
	t->n = j;
	return (0);
}

/* The tree's root, or an adopted orphan with its marks. */
static int
marked(const struct treekill *e, const struct pstat *ps)
{
	if (e->root != 0 && ps->pid == e->root)
		return (1);
	return (ps->ppid == self && !known_pid(ps->pid) &&
	    (ps->pgid == e->leader || ps->sid == e->leader ||
	    procstat_env_has(ps->pid, e->env1, e->env2)));
}

/* The deferred part of the tree signals, batched. */
static void
tree_run(int fd, short ev, void *arg)
{
	struct ptable	 t;
	uint8_t		*mark;
	size_t		 i, k;

	if (ntks == 0)
		return;
	if (need_scan() && (tree_table(&t) == 0 || ptable_sorted(&t) == 0)) {
		if ((mark = calloc(t.n + 1, 1)) != NULL) {
			for (k = 0; k < ntks; k++) {
				for (i = 0; i < t.n; i++)
					if (marked(&tks[k], &t.p[i]))
						mark[i] = 1;
				mark_descendants(&t, mark);
				kill_marked(&t, mark, tks[k].sig,
				    tks[k].leader);
			}
			free(mark);
		}
		ptable_free(&t);
	}
	ntks = 0;
}

int
proctree_left(struct recorded *r, size_t n)
{
	struct ptable	 t;
	uint8_t		*mark;
	ssize_t		 j;
	size_t		 i, k, m;
	int		 ids;

	if (ptable_sorted(&t) == -1)
		return (-1);
	if ((mark = calloc(t.n + 1, 1)) == NULL) {
		ptable_free(&t);
		return (-1);
	}
	for (k = 0; k < n; k++) {
		r[k].left = NULL;
		r[k].nleft = 0;
		memset(mark, 0, t.n);
		/*
		 * Another process with its pid: the number was reused, so
		 * nothing holds it as a group or session id any more.
		 */
		j = ptable_find(&t, r[k].pid);
		ids = j < 0 || t.p[j].start_ns == r[k].start_ns;
		if (j >= 0 && ids)
			mark[j] = 1;
		for (i = 0; ids && i < t.n; i++)
			if ((t.p[i].pgid == r[k].pid ||
			    t.p[i].sid == r[k].pid) &&
			    t.p[i].start_ns >= r[k].start_ns)
				mark[i] = 1;
		mark_descendants(&t, mark);
		for (i = 0, m = 0; i < t.n; i++)
			m += mark[i] && !t.p[i].zombie && t.p[i].pid != self &&
			    t.p[i].pid > 1;
		if (m == 0 || (r[k].left = calloc(m, sizeof(struct pstat))) ==
		    NULL)
			continue;
		for (i = 0; i < t.n; i++)
			if (mark[i] && !t.p[i].zombie && t.p[i].pid != self &&
			    t.p[i].pid > 1)
				r[k].left[r[k].nleft++] = t.p[i];
	}
	free(mark);
	ptable_free(&t);
	return (0);
}

/*
 * SIGKILL everything below us but the frontend, ours and adopted, now:
 * the caller may exit next.  What was deferred is covered by it.
 */
void
proctree_kill_all(void)
{
	struct ptable	 t;
	uint8_t		*mark;
	size_t		 i;

	if (ptable_sorted(&t) == -1) {
		log_warn("kill all: process table");
		return;
	}
	if ((mark = calloc(t.n + 1, 1)) != NULL) {
		for (i = 0; i < t.n; i++)
			if (t.p[i].ppid == self && (sup == NULL ||
			    t.p[i].pid != sup->fe_pid))
				mark[i] = 1;
		mark_descendants(&t, mark);
		kill_marked(&t, mark, SIGKILL, 0);
		free(mark);
	}
	ptable_free(&t);
	ntks = 0;
}
