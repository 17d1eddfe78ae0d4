/* SPDX-License-Identifier: ISC */
/*
 * cgroup.h -- one cgroup (v2) per instance, on Linux: what an agent
 * starts belongs to it, whatever it does (setsid, double fork, a cleared
 * environment), and goes with it.
 *
 * At start-up the supervisor finds the unified hierarchy (a pure v2
 * mount, or the "unified" mount of a hybrid system) in
 * /proc/self/mountinfo and its own cgroup in /proc/self/cgroup, and
 * makes its subtree there: apm2d.<tag>, the tag naming this daemon (a
 * hash of its pid file's path, so the next start of the same daemon
 * finds it again).  Each instance gets apm2d.<tag>/<display name>; its
 * processes are moved there by the child between fork and exec, before
 * it drops privileges.
 *
 * Without a writable unified hierarchy (OpenBSD, no cgroup2 mount, a
 * daemon that is not root) none of this is used: the process-group and
 * subreaper walk of proctree.c stays, as best effort.
 *
 * The cgroup limits of [processes.limits] (memory_max, memory_high,
 * pids_max, cpu_max, io_weight) need their controller in the unified
 * hierarchy, offered to the cgroup apm2d was started in.  cg_init turns
 * it on below that cgroup and in the subtree; if the cgroup holds
 * processes (it is not the root), the supervisor first moves itself to
 * a leaf of its own, apm2d.<tag>.daemon, beside the subtree.  A limit
 * whose controller is missing is not applied, and cg_limit_why says why.
 *
 * Nothing here blocks on an agent: files of the cgroup file system are
 * read and written, and the caller polls for an empty cgroup.
 */
#ifndef APM2_CGROUP_H
#define APM2_CGROUP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct limits_config;

/*
 * Find the hierarchy and make the daemon's subtree for tag, with the
 * controllers that the limits in want need (a mask of 1 << enum
 * config_limit) turned on for the instances.  1 when cgroups are used,
 * 0 when not (said once, with why).  dry (apm2d -n): change nothing,
 * only find out what could not be applied (cg_limit_why).
 */
int	 cg_init(const char *tag, unsigned int want, int dry);
/*
 * Test seam: only regress/ calls cg_setup() directly, with a made-up
 * mount point and own cgroup.
 */
int	 cg_setup(const char *mnt, const char *own, const char *tag,
	    unsigned int want, int dry);
int	 cg_enabled(void);
/*
 * Why cgroup limit k (an enum config_limit) cannot be applied here, or
 * NULL if it can (and for an rlimit).
 */
const char *cg_limit_why(int k);
/* The file of cgroup limit k ("memory.max"): 0, or -1 for an rlimit. */
int	 cg_limit_file(int k, const char **file);
/*
 * A descriptor of instance name's cgroup.procs for the child to write
 * "0" to (close-on-exec), or -1.  Unless *made, the cgroup is made
 * first, with the cgroup limits of l that can be applied written to it
 * (errs[k]: the errno of one that failed, else 0), and *made set: an
 * instance keeps its cgroup from one run to the next (making and
 * removing one at each restart costs the kernel more than reading the
 * counters it keeps across runs).
 */
int	 cg_procs_fd(const char *name, const struct limits_config *l,
	    int *errs, int *made);
/* Its CPU time so far, all runs (cpu.stat usage_usec), or 0. */
uint64_t cg_cpu_ns(const char *name);
/*
 * Processes its memory controller's OOM killer killed (memory.events),
 * all runs.
 */
uint64_t cg_oom_kills(const char *name);
/* Kill everything in it (cgroup.kill; else SIGKILL to each pid). */
void	 cg_kill(const char *name);
/* Send sig to each process in it. */
void	 cg_signal(const char *name, int sig);
/* 1 while a process is in it (cgroup.events "populated 1"), else 0. */
int	 cg_populated(const char *name);
/* Processes in it now (cgroup.procs), at most max into pids; the count. */
size_t	 cg_pids(const char *name, pid_t *pids, size_t max);
/*
 * What the whole instance uses: CPU time (cpu.stat usage_usec) and
 * memory (memory.current where the memory controller is on, else the
 * resident memory of each process in it).  0, or -1 if unknown.
 */
int	 cg_usage(const char *name, uint64_t *cpu_ns, uint64_t *mem);
/* Remove it if it is empty. */
void	 cg_remove(const char *name);
/*
 * Start-up, before anything runs: for each cgroup a previous daemon of
 * this tag left with processes in it, call found(name, arg), which
 * stops them (cg_signal, wait, cg_kill).  The empty ones are removed.
 */
void	 cg_sweep(void (*found)(const char *name, void *), void *arg);
/* Exit: remove the instances' cgroups and the subtree, if empty. */
void	 cg_cleanup(void);

#endif /* APM2_CGROUP_H */
