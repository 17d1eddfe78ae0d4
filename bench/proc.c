/* SPDX-License-Identifier: ISC */
/*
 * proc.c -- clock, sleeps, /proc children lists and statistics for the
 * benchmark helpers (see proc.h).
 */
#include <sys/types.h>
#include <sys/prctl.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

static int	read_children_file(const char *, pid_t *, size_t, size_t);
static int	in_set(pid_t, const pid_t *, size_t);
static int	cmp_double(const void *, const void *);

uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

void
sleep_us(unsigned int us)
{
	struct timespec	ts;

	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The default 50 us timer slack would blur a 20 us poll interval. */
void
precise_timers(void)
{
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

static int
read_children_file(const char *path, pid_t *out, size_t n, size_t max)
{
	char	 buf[65536];
	ssize_t	 r;
	size_t	 len = 0;
	char	*p, *end;
	long	 v;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ((int)n);
	while (len < sizeof(buf) - 1) {
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	p = buf;
	while (*p != '\0' && n < max) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (errno == 0 && v > 0)
			out[n++] = (pid_t)v;
		p = end;
	}
	return ((int)n);
}

int
proc_children(pid_t parent, pid_t *out, size_t max)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 tid;
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)parent);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		tid = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '\0' || tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/children",
		    (int)parent, tid);
		n = read_children_file(path, out, (size_t)n, max);
	}
	closedir(d);
	return (n);
}

int
proc_comm_is(pid_t pid, const char *comm)
{
	char	path[64], buf[64];
	ssize_t	r;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return (0);
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return (strcmp(buf, comm) == 0);
}

static int
in_set(pid_t p, const pid_t *set, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (set[i] == p)
			return (1);
	return (0);
}

int
proc_count_comm(pid_t parent, const char *comm, struct comm_cache *seen)
{
	static pid_t	kids[PROC_CHILDREN_MAX];
	int		n, i, count = 0;

	if ((n = proc_children(parent, kids, PROC_CHILDREN_MAX)) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		if (in_set(kids[i], seen->pids, seen->n)) {
			count++;
			continue;
		}
		if (proc_comm_is(kids[i], comm)) {
			if (seen->n < PROC_CHILDREN_MAX)
				seen->pids[seen->n++] = kids[i];
			count++;
		}
	}
	return (count);
}

uint64_t
proc_killwait(pid_t parent, pid_t victim, unsigned int timeout_ms)
{
	static pid_t	before[PROC_CHILDREN_MAX], now[PROC_CHILDREN_MAX];
	uint64_t	t0, t, limit;
	int		nb, n, i;

	if ((nb = proc_children(parent, before, PROC_CHILDREN_MAX)) == -1) {
		fprintf(stderr, "killwait: parent %d is gone\n", (int)parent);
		return (0);
	}
	if (!in_set(victim, before, (size_t)nb)) {
		fprintf(stderr, "killwait: %d is not a child of %d\n",
		    (int)victim, (int)parent);
		return (0);
	}
	limit = (uint64_t)timeout_ms * 1000000ULL;
	t0 = now_ns();
	if (kill(victim, SIGKILL) == -1) {
		perror("killwait: kill");
		return (0);
	}
	for (;;) {
		if ((n = proc_children(parent, now, PROC_CHILDREN_MAX)) == -1) {
			fprintf(stderr, "killwait: parent %d died\n",
			    (int)parent);
			return (0);
		}
		t = now_ns();
		for (i = 0; i < n; i++)
			if (!in_set(now[i], before, (size_t)nb))
				return (t - t0 > 0 ? t - t0 : 1);
		if (t - t0 > limit) {
			fprintf(stderr, "killwait: no new child of %d within "
			    "%u ms\n", (int)parent, timeout_ms);
			return (0);
		}
		sleep_us(t - t0 < 20000000ULL ? 20 : 500);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

/* Linear interpolation between closest ranks (as numpy's default). */
double
stat_percentile(double *v, size_t n, double p)
{
	double	pos, frac;
	size_t	lo;

	if (n == 0)
		return (0.0);
	qsort(v, n, sizeof(*v), cmp_double);
	pos = p / 100.0 * (double)(n - 1);
	lo = (size_t)pos;
	if (lo >= n - 1)
		return (v[n - 1]);
	frac = pos - (double)lo;
	return (v[lo] + (v[lo + 1] - v[lo]) * frac);
}

void
stat_print_json(const char *unit, double *v, size_t n)
{
	double	sum = 0.0, med, p99;
	size_t	i;

	for (i = 0; i < n; i++)
		sum += v[i];
	med = stat_percentile(v, n, 50.0);
	p99 = stat_percentile(v, n, 99.0);
	printf("{\"unit\":\"%s\",\"n\":%zu,\"median\":%.3f,\"p99\":%.3f,"
	    "\"min\":%.3f,\"max\":%.3f,\"mean\":%.3f}\n", unit, n, med, p99,
	    n > 0 ? v[0] : 0.0, n > 0 ? v[n - 1] : 0.0,
	    n > 0 ? sum / (double)n : 0.0);
}

long
parse_num(const char *prog, const char *s, long lo, long hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: bad number: %s\n", prog, s);
		exit(2);
	}
	return (v);
}
