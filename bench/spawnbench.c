/* SPDX-License-Identifier: ISC */
/*
 * spawnbench -- what starting a child costs its parent as the parent
 * grows (issue 17): spawn_process() (supervisor/spawn.c) against plain
 * fork/exec, in a parent holding 0 to some MiB of memory it has written.
 *
 *   spawnbench [N [MIB ...]]	default: 200 spawns; 0, 64 and 256 MiB
 *
 * For each size and way, N children run `sleep 1000` (then are killed
 * and reaped): the parent's CPU (user + system) per spawn, and how long
 * the call kept it (median and 90th percentile).  Build it from the top
 * of the tree after `make`:
 *
 *   cc -O2 -D_GNU_SOURCE -I. -Icommon -isystem /usr/include/bsd \
 *	-DLIBBSD_OVERLAY -o /tmp/spawnbench bench/spawnbench.c \
 *	supervisor/libsupervisor.a common/libcommon.a -lbsd
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/child.h"

static char	*argv_sleep[] = { "/bin/sleep", "1000", NULL };
static char	*envp_none[] = { NULL };

static double	 now_ms(void);
static double	 cpu_ms(void);
static int	 cmp_double(const void *, const void *);
static pid_t	 by_fork(int);
static pid_t	 by_spawn(int);
static void	 run(const char *, pid_t (*)(int), int, size_t);

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

static double
cpu_ms(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* The baseline: what spawn.c did before, without the child's set-up. */
static pid_t
by_fork(int devnull)
{
	pid_t	pid;

	if ((pid = fork()) == 0) {
		if (dup2(devnull, 0) == -1 || dup2(devnull, 1) == -1 ||
		    dup2(devnull, 2) == -1)
			_exit(126);
		execve(argv_sleep[0], argv_sleep, envp_none);
		_exit(127);
	}
	return (pid);
}

static pid_t
by_spawn(int devnull)
{
	struct spawn_req	r;
	pid_t			pid;
	int			sfd;

	memset(&r, 0, sizeof(r));
	r.argv = argv_sleep;
	r.envp = envp_none;
	r.fd_in = r.fd_out = r.fd_err = devnull;
	if (getrlimit(RLIMIT_NOFILE, &r.nofile) == -1)
		err(1, "getrlimit");
	if ((pid = spawn_process(&r, &sfd)) != -1)
		close(sfd);
	return (pid);
}

static void
run(const char *name, pid_t (*how)(int), int n, size_t mib)
{
	double	*held, c0, t0;
	pid_t	*pids;
	int	 i, devnull, st;

	if ((held = calloc(n, sizeof(*held))) == NULL ||
	    (pids = calloc(n, sizeof(*pids))) == NULL)
		err(1, "calloc");
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		err(1, "/dev/null");
	c0 = cpu_ms();
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		if ((pids[i] = how(devnull)) == -1)
			err(1, "%s", name);
		held[i] = now_ms() - t0;
	}
	c0 = cpu_ms() - c0;
	for (i = 0; i < n; i++)
		(void)kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		(void)waitpid(pids[i], &st, 0);
	close(devnull);
	qsort(held, n, sizeof(*held), cmp_double);
	printf("%4zu MiB  %-6s  CPU %.3f ms/spawn  held %.3f ms median, "
	    "%.3f p90\n", mib, name, c0 / n, held[n / 2], held[n * 9 / 10]);
	fflush(stdout);
	free(held);
	free(pids);
}

int
main(int argc, char *argv[])
{
	static const size_t	 dflt[] = { 0, 64, 256 };
	const char		*errstr;
	char			*ballast = NULL;
	size_t			 mib, have = 0;
	int			 n = 200, i, nsizes;

	if (argc > 1 && (n = strtonum(argv[1], 1, 100000, &errstr)) == 0)
		errx(1, "N is %s", errstr);
	nsizes = argc > 2 ? argc - 2 : 3;
	for (i = 0; i < nsizes; i++) {
		if (argc > 2) {
			mib = strtonum(argv[i + 2], 0, 1 << 20, &errstr);
			if (errstr != NULL)
				errx(1, "MIB is %s", errstr);
		} else
			mib = dflt[i];
		if (mib > have) {
			if ((ballast = realloc(ballast, mib << 20)) == NULL)
				err(1, "realloc");
			/* Written, so that fork has page tables to copy. */
			memset(ballast + (have << 20), 0xa5,
			    (mib - have) << 20);
			have = mib;
		}
		run("fork", by_fork, n, have);
		run("spawn", by_spawn, n, have);
	}
	free(ballast);
	return (0);
}
