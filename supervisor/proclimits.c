/* SPDX-License-Identifier: ISC */
/*
 * proclimits.c -- [processes.limits]: what is asked, what holds (see
 * proclimits.h).
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "proto.h"
#include "log.h"
#include "cgroup.h"
#include "logctl.h"
#include "proclimits.h"

#define NAMES_MAX	256	/* the processes named in one log line */

_Static_assert(LIMIT__COUNT <= LIMIT_MSGS, "every limit fits a reply");

unsigned int
limits_wanted(const struct config *conf)
{
	unsigned int	want = 0;
	size_t		i;
	int		k;

	for (i = 0; i < conf->nprocs; i++)
		for (k = 0; k < LIMIT__COUNT; k++)
			if (conf->procs[i].limits.set[k])
				want |= 1U << k;
	return (want);
}

size_t
limits_report(const struct config *conf, int check)
{
	const struct limits_config *l;
	const char	*why;
	char		 names[NAMES_MAX];
	size_t		 i, n = 0, len;
	int		 k, more;

	for (k = LIMIT_RLIMITS; k < LIMIT__COUNT; k++) {
		if ((why = cg_limit_why(k)) == NULL)
			continue;
		names[0] = '\0';
		more = 0;
		for (i = 0; i < conf->nprocs; i++) {
			l = &conf->procs[i].limits;
			if (!l->set[k])
				continue;
			if (check)
				fprintf(stderr, "%s:%u:%u: warning: "
				    "processes[%zu].limits.%s: cannot be "
				    "applied here: %s\n", conf->path,
				    l->pos[k].line, l->pos[k].col, i,
				    config_limit_name(k), why);
			len = strlen(names);
			if (len + strlen(conf->procs[i].name) + 3 >=
			    sizeof(names))
				more = 1;
			else
				(void)snprintf(names + len,
				    sizeof(names) - len, "%s%s",
				    len > 0 ? ", " : "", conf->procs[i].name);
		}
		if (names[0] == '\0')
			continue;
		n++;
		if (!check)
			log_warnx("limit %s of %s%s is not applied: %s",
			    config_limit_name(k), names, more ? ", ..." : "",
			    why);
	}
	return (n);
}

/*
 * Each instance: its pipes (two, one with merge_stderr) and as many log
 * files, of which the logger keeps at most max_open_log_files open.
 */
int
limits_fds(const struct config *conf, int check)
{
	struct rlimit	 rl;
	uint64_t	 pipes = 0, files, cap, need, lim, room, fit;
	size_t		 i;

	for (i = 0; i < conf->nprocs; i++)
		pipes += (uint64_t)conf->procs[i].instances *
		    (conf->procs[i].log.merge_stderr ? 1 : 2);
	cap = conf->daemon.max_open_log_files;
	files = pipes < cap ? pipes : cap;
	need = LOGCTL_FD_RESERVE + pipes + files;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return (0);
	/* The daemon raises its soft limit to the hard one. */
	lim = check ? rl.rlim_max : rl.rlim_cur;
	if (lim == RLIM_INFINITY || need <= lim)
		return (0);
	/* Instances of two pipes and two files until the files are capped. */
	room = lim > LOGCTL_FD_RESERVE ? lim - LOGCTL_FD_RESERVE : 0;
	fit = room / LOGCTL_FD_PER_INST;
	if (fit * 2 > cap)
		fit = (room - cap) / 2;
	if (check)
		fprintf(stderr, "%s: warning: the processes need about %llu "
		    "descriptors (%llu pipes, %llu log files open at once, "
		    "%d more), but RLIMIT_NOFILE is %llu: about %llu "
		    "instances can run; raise the hard limit\n", conf->path,
		    (unsigned long long)need, (unsigned long long)pipes,
		    (unsigned long long)files, LOGCTL_FD_RESERVE,
		    (unsigned long long)lim, (unsigned long long)fit);
	else
		log_warnx("the processes need about %llu descriptors (%llu "
		    "pipes, %llu log files open at once, %d more), but "
		    "RLIMIT_NOFILE is %llu: about %llu instances can run; "
		    "raise the hard limit", (unsigned long long)need,
		    (unsigned long long)pipes, (unsigned long long)files,
		    LOGCTL_FD_RESERVE, (unsigned long long)lim,
		    (unsigned long long)fit);
	return (1);
}

size_t
limits_check(const struct config *conf)
{
	unsigned int	want = limits_wanted(conf);
	size_t		n = (size_t)limits_fds(conf, 1);

	if ((want >> LIMIT_RLIMITS) == 0)
		return (n);
	(void)cg_init("check", want, 1);
	return (n + limits_report(conf, 1));
}

size_t
limits_fill(const struct limits_config *l, const int *errs,
    struct s_limit *out, size_t max)
{
	const char	*why, *file;
	size_t		 n = 0;
	int		 k;

	for (k = 0; k < LIMIT__COUNT && n < max; k++) {
		if (!l->set[k])
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		(void)strlcpy(out[n].name, config_limit_name(k),
		    sizeof(out[n].name));
		out[n].value = l->value[k];
		out[n].in_force = 1;
		if ((why = cg_limit_why(k)) != NULL)
			(void)strlcpy(out[n].reason, why,
			    sizeof(out[n].reason));
		else if (errs[k] != 0 && cg_limit_file(k, &file) == 0)
			(void)snprintf(out[n].reason, sizeof(out[n].reason),
			    "the kernel refused %s: %s", file,
			    strerror(errs[k]));
		if (out[n].reason[0] != '\0') {
			out[n].in_force = 0;
			out[n].has_reason = 1;
		}
		n++;
	}
	return (n);
}
