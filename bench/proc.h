/* SPDX-License-Identifier: ISC */
/*
 * proc.h -- what the benchmark helpers need from the system: a monotonic
 * clock, precise short sleeps, the children of a process as the kernel
 * lists them (/proc/PID/task/TID/children), and order statistics.
 * Linux only, like the rest of bench/.
 */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define PROC_CHILDREN_MAX	8192

/* A decimal in [lo, hi], or a message naming prog and exit 2. */
long		parse_num(const char *prog, const char *s, long lo, long hi);
uint64_t	now_ns(void);
void		sleep_us(unsigned int);
void		precise_timers(void);

/*
 * The children of parent, from every thread's children file, into out
 * (at most max).  Returns the count, or -1 when parent is gone.
 */
int		proc_children(pid_t parent, pid_t *out, size_t max);

/* 1 when /proc/PID/comm is exactly comm, 0 otherwise (or gone). */
int		proc_comm_is(pid_t, const char *comm);

/*
 * How many children of parent run comm.  seen caches pids already known
 * to run it (a pid's comm only changes at exec); -1 when parent is gone.
 */
struct comm_cache {
	pid_t	pids[PROC_CHILDREN_MAX];
	size_t	n;
};
int		proc_count_comm(pid_t parent, const char *comm,
		    struct comm_cache *seen);

/*
 * SIGKILL victim, then watch parent's children until one appears that
 * was not there before the kill.  Polls every 20 us for the first 20 ms,
 * then every 500 us.  Returns the nanoseconds from just before kill(2) to
 * the first sighting, or 0 on timeout or error (message on stderr).
 */
uint64_t	proc_killwait(pid_t parent, pid_t victim, unsigned int timeout_ms);

/* Sorts v in place; p in [0, 100], nearest rank. */
double		stat_percentile(double *v, size_t n, double p);

/* {"n":..,"median":..,"p99":..,"min":..,"max":..,"mean":..} on stdout. */
void		stat_print_json(const char *unit, double *v, size_t n);

#endif /* BENCH_PROC_H */
