/* SPDX-License-Identifier: ISC */
/*
 * sweep.c -- stop what a killed predecessor left (see sweep.h).
 */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "sysutil.h"
#include "child.h"
#include "cgroup.h"
#include "state.h"
#include "sweep.h"

#define SWEEP_POLL_NS	(20 * 1000 * 1000)
#define SWEEP_KILL_NS	(5ULL * 1000000000ULL)	/* after SIGKILL */
#define SWEEP_DEFAULT_NS (10ULL * 1000000000ULL) /* no such process now */

struct item {
	char		 name[PROTO_DISPLAY_MAX + 32]; /* for the log */
	char		 key[PROTO_DISPLAY_MAX];	/* for the policy */
	int		 cg;		/* a cgroup, else rec */
	struct recorded	 rec;
	int		 sig;
	uint64_t	 end;		/* then SIGKILL */
	int		 killed;
};

struct items {
	struct item	*v;
	size_t		 n, cap;
};

static struct item *item_add(struct items *, const char *);
static void	 found_cgroup(const char *, void *);
static void	 from_state(struct items *, const struct state_rec *);
static int	 item_alive(struct item *);
static void	 item_signal(struct item *, int);
static void	 item_say(const struct item *);

static struct item *
item_add(struct items *l, const char *name)
{
	struct item	*n;
	size_t		 ncap;

	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 16 : l->cap * 2;
		if ((n = reallocarray(l->v, ncap, sizeof(*n))) == NULL) {
			log_warn("sweep");
			return (NULL);
		}
		l->v = n;
		l->cap = ncap;
	}
	n = &l->v[l->n++];
	memset(n, 0, sizeof(*n));
	(void)strlcpy(n->name, name, sizeof(n->name));
	(void)strlcpy(n->key, name, sizeof(n->key));
	return (n);
}

static void
found_cgroup(const char *name, void *arg)
{
	struct item	*it;

	if ((it = item_add(arg, name)) != NULL)
		it->cg = 1;
}

/* What the state file recorded as running, and what of it is left. */
static void
from_state(struct items *l, const struct state_rec *sr)
{
	const struct state_inst	*si;
	struct recorded		*rec;
	struct item		*it;
	size_t			 n = 0, i;

	for (i = 0; i < sr->ninsts; i++)
		if (sr->insts[i].pid != 0)
			n++;
	if (n == 0)
		return;
	if ((rec = calloc(n, sizeof(*rec))) == NULL) {
		log_warn("sweep");
		return;
	}
	for (i = 0, n = 0; i < sr->ninsts; i++)
		if (sr->insts[i].pid != 0) {
			rec[n].pid = sr->insts[i].pid;
			rec[n++].start_ns = sr->insts[i].start_ns;
		}
	if (proctree_left(rec, n) == -1)
		log_warn("sweep: the process table");
	else
		for (i = 0, n = 0; i < sr->ninsts; i++) {
			si = &sr->insts[i];
			if (si->pid == 0)
				continue;
			if (rec[n].nleft == 0) {
				n++;
				continue;
			}
			if ((it = item_add(l, si->name)) == NULL) {
				free(rec[n++].left);
				continue;
			}
			(void)snprintf(it->name, sizeof(it->name),
			    "%s (instance %u)", si->name, si->index);
			it->rec = rec[n++];
		}
	free(rec);
}

/* Still there: a process of the cgroup, or a recorded one (same start). */
static int
item_alive(struct item *it)
{
	struct pstat	ps;
	size_t		i;

	if (it->cg)
		return (cg_populated(it->key));
	for (i = 0; i < it->rec.nleft; i++)
		if (procstat_get(it->rec.left[i].pid, &ps) == 0 && !ps.zombie &&
		    ps.start_ns == it->rec.left[i].start_ns)
			return (1);
	return (0);
}

static void
item_signal(struct item *it, int sig)
{
	struct pstat	ps;
	size_t		i;

	if (it->cg) {
		if (sig == SIGKILL)
			cg_kill(it->key);
		else
			cg_signal(it->key, sig);
		return;
	}
	for (i = 0; i < it->rec.nleft; i++)
		if (procstat_get(it->rec.left[i].pid, &ps) == 0 &&
		    ps.start_ns == it->rec.left[i].start_ns)
			(void)kill(it->rec.left[i].pid, sig);
}

static void
item_say(const struct item *it)
{
	pid_t	left[8];
	size_t	n, i;

	if (it->cg)
		n = cg_pids(it->key, left, sizeof(left) / sizeof(left[0]));
	else
		for (n = 0, i = 0; i < it->rec.nleft && n < 8; i++)
			left[n++] = it->rec.left[i].pid;
	log_warnx("%s: %zu%s process%s left by a previous apm2d (pid %ld"
	    "%s)%s: stopping them", it->name, n, n == 8 ? " or more" : "",
	    n == 1 ? "" : "es", n > 0 ? (long)left[0] : 0L,
	    n > 1 ? ", ..." : "", it->cg ? "" : ", found from the state file");
}

void
sweep_previous(int cgroups, sweep_policy_fn policy,
    const struct state_rec *rec)
{
	const struct shutdown_config *sc;
	struct items	 l = { NULL, 0, 0 };
	struct timespec	 ts = { 0, SWEEP_POLL_NS };
	uint64_t	 now, last = 0;
	size_t		 i, alive;

	if (cgroups)
		cg_sweep(found_cgroup, &l);
	else
		from_state(&l, rec);
	now = mono_ns();
	for (i = 0; i < l.n; i++) {
		sc = policy(l.v[i].key);
		l.v[i].sig = sc != NULL ? sc->signo : SIGTERM;
		l.v[i].end = now + (sc != NULL ?
		    duration_to_ns(&sc->timeout) : SWEEP_DEFAULT_NS);
		item_say(&l.v[i]);
		item_signal(&l.v[i], l.v[i].sig);
		if (l.v[i].end > last)
			last = l.v[i].end;
	}
	/* Each its timeout, then SIGKILL and a few seconds more. */
	for (alive = l.n; alive > 0 && mono_ns() < last + SWEEP_KILL_NS;) {
		(void)nanosleep(&ts, NULL);
		now = mono_ns();
		for (i = 0, alive = 0; i < l.n; i++) {
			if (!item_alive(&l.v[i]))
				continue;
			alive++;
			if (!l.v[i].killed && now >= l.v[i].end) {
				item_signal(&l.v[i], SIGKILL);
				l.v[i].killed = 1;
			}
		}
	}
	for (i = 0; i < l.n; i++) {
		if (item_alive(&l.v[i]))
			log_warnx("%s: processes of a previous apm2d still "
			    "there", l.v[i].name);
		if (l.v[i].cg)
			cg_remove(l.v[i].key);
		free(l.v[i].rec.left);
	}
	free(l.v);
}
