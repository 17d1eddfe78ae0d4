/* SPDX-License-Identifier: ISC */
/*
 * proclimits.h -- what [processes.limits] asks for, and what of it holds
 * here: the rlimits always (spawn.c sets them), the cgroup limits where
 * their controller is on (cgroup.c).
 */
#ifndef APM2_PROCLIMITS_H
#define APM2_PROCLIMITS_H

#include <stddef.h>

struct config;
struct limits_config;
struct s_limit;

/* The limits any process sets: a mask of 1 << enum config_limit. */
unsigned int	 limits_wanted(const struct config *);
/*
 * Say, once per limit, which processes' cgroup limits cannot be applied
 * and why: in the log at start, or (check) on stderr as warnings with
 * the file, line and column of each value, for apm2d -n.  The number of
 * limits that cannot be applied.
 */
size_t		 limits_report(const struct config *, int check);
/*
 * The descriptors the configuration needs (the logger holds each
 * instance's pipes and files) against RLIMIT_NOFILE: warned about in the
 * log, or (check, for apm2d -n) on stderr against the hard limit the
 * daemon raises its soft limit to.  1 if it does not fit.
 */
int		 limits_fds(const struct config *, int check);
/*
 * apm2d -n: look, without changing anything, whether the cgroup limits
 * could be applied, and warn on stderr about each that could not.
 */
size_t		 limits_check(const struct config *);
/*
 * Each limit l sets, for process_details, at most max into out; errs[k]
 * is the errno of a cgroup limit that the kernel refused (0: none).
 */
size_t		 limits_fill(const struct limits_config *l,
		    const int *errs, struct s_limit *out, size_t max);

#endif /* APM2_PROCLIMITS_H */
