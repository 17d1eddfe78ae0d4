/* SPDX-License-Identifier: ISC */
/*
 * sweep.h -- at start-up, before anything runs: stop what a daemon of
 * the same pid file left when it was killed.  With cgroups, every
 * process in the instances' cgroups it left (cgroup.h); without, what
 * the state file recorded and what can be traced from it (state.h,
 * proctree_left()).  All are signalled at once, each with the shutdown
 * signal of its process, then given that process's timeout, then
 * SIGKILLed; what was found is logged.
 */
#ifndef APM2_SWEEP_H
#define APM2_SWEEP_H

struct shutdown_config;
struct state_rec;

/* The shutdown settings for a process or an instance name, or NULL. */
typedef const struct shutdown_config *(*sweep_policy_fn)(const char *);

/* cgroups: cg_init() said they are used; rec: the state file's. */
void	sweep_previous(int cgroups, sweep_policy_fn,
	    const struct state_rec *rec);

#endif /* APM2_SWEEP_H */
