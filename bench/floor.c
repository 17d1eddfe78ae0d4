/* SPDX-License-Identifier: ISC */
/*
 * floor -- what this machine can do at best, for the ratios:
 *
 *   floor rt N WARMUP [CPU_PARENT CPU_CHILD]
 *	64-byte round trips over an AF_UNIX stream socketpair between two
 *	processes (the child echoes); statistics in microseconds.  With
 *	CPUs, each process is pinned to its CPU (the same one or not).
 *   floor spawn N
 *	fork + exec /bin/true + waitpid, N times back to back; prints
 *	{"total_us":..} for all N
 *   floor launch N PROG ARG
 *	the least a supervisor can be, for the scale ladder: N children
 *	running PROG ARG, posix_spawn'd back to back; one that exits is
 *	spawned again at once; SIGUSR1 stops them all (SIGTERM, reaped)
 *	and SIGTERM does that and exits.  Nothing else: no state, no
 *	logs, no control socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/wait.h>

#include <signal.h>
#include <spawn.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define MSG	64

static void	usage(void);
static int	io_all(int, char *, size_t, int);
static int	cmd_rt(long, long, long, long);
static void	pin(long);
static int	cmd_spawn(long);
static int	cmd_launch(long, char *, char *);

static void
usage(void)
{
	fprintf(stderr, "usage: floor rt N WARMUP [CPU_PARENT CPU_CHILD] | "
	    "floor spawn N | floor launch N PROG ARG\n");
	exit(2);
}

/* Read (wr == 0) or write (wr == 1) exactly len bytes; -1 on EOF/error. */
static int
io_all(int fd, char *p, size_t len, int wr)
{
	ssize_t	n;

	while (len > 0) {
		n = wr ? write(fd, p, len) : read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* cpu -1: leave the affinity alone. */
static void
pin(long cpu)
{
	cpu_set_t	set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1) {
		perror("floor: sched_setaffinity");
		exit(1);
	}
}

static int
cmd_rt(long n, long warm, long cpu_parent, long cpu_child)
{
	char		 buf[MSG];
	double		*v;
	uint64_t	 t0;
	pid_t		 pid;
	long		 i;
	int		 sv[2], status;

	if ((v = calloc((size_t)n, sizeof(*v))) == NULL) {
		perror("floor: calloc");
		return (1);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("floor: socketpair");
		return (1);
	}
	switch (pid = fork()) {
	case -1:
		perror("floor: fork");
		return (1);
	case 0:
		close(sv[0]);
		pin(cpu_child);
		while (io_all(sv[1], buf, MSG, 0) == 0)
			if (io_all(sv[1], buf, MSG, 1) == -1)
				break;
		_exit(0);
	}
	close(sv[1]);
	pin(cpu_parent);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < warm + n; i++) {
		t0 = now_ns();
		if (io_all(sv[0], buf, MSG, 1) == -1 ||
		    io_all(sv[0], buf, MSG, 0) == -1) {
			fprintf(stderr, "floor: echo child went away\n");
			return (1);
		}
		if (i >= warm)
			v[i - warm] = (double)(now_ns() - t0) / 1000.0;
	}
	close(sv[0]);
	if (waitpid(pid, &status, 0) == -1)
		perror("floor: waitpid");
	stat_print_json("us", v, (size_t)n);
	free(v);
	return (0);
}

static int
cmd_spawn(long n)
{
	char *const	 args[] = { "/bin/true", NULL };
	uint64_t	 t0;
	pid_t		 pid;
	long		 i;
	int		 status;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		switch (pid = fork()) {
		case -1:
			perror("floor: fork");
			return (1);
		case 0:
			execv(args[0], args);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) == -1) {
			perror("floor: waitpid");
			return (1);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "floor: /bin/true failed\n");
			return (1);
		}
	}
	printf("{\"total_us\":%.1f}\n", (double)(now_ns() - t0) / 1000.0);
	return (0);
}

extern char	**environ;

static int
cmd_launch(long n, char *prog, char *arg)
{
	char *const		 args[] = { prog, arg, NULL };
	posix_spawnattr_t	 sa;
	sigset_t		 set, none;
	siginfo_t		 si;
	pid_t			*kids, pid;
	long			 i, live = 0;
	int			 status, stopping = 0;

	if ((kids = calloc((size_t)n, sizeof(*kids))) == NULL) {
		perror("floor: calloc");
		return (1);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* The children do not inherit the mask. */
	sigemptyset(&none);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK);
	for (i = 0; i < n; i++) {
		if ((errno = posix_spawn(&kids[i], prog, NULL, &sa, args,
		    environ)) != 0) {
			perror("floor: posix_spawn");
			return (1);
		}
		live++;
	}
	for (;;) {
		if (sigwaitinfo(&set, &si) == -1)
			continue;
		if (si.si_signo == SIGTERM || si.si_signo == SIGUSR1) {
			stopping = 1;
			for (i = 0; i < n; i++)
				if (kids[i] > 0)
					(void)kill(kids[i], SIGTERM);
			while (live > 0 && (pid = waitpid(-1, &status, 0)) > 0)
				for (i = 0; i < n; i++)
					if (kids[i] == pid) {
						kids[i] = 0;
						live--;
					}
			if (si.si_signo == SIGTERM)
				return (0);
			continue;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < n; i++) {
				if (kids[i] != pid)
					continue;
				kids[i] = 0;
				live--;
				if (!stopping && posix_spawn(&kids[i], prog,
				    NULL, &sa, args, environ) == 0)
					live++;
			}
	}
}

int
main(int argc, char *argv[])
{
	if (argc == 4 && strcmp(argv[1], "rt") == 0)
		return (cmd_rt(parse_num("floor", argv[2], 1, 100000000),
		    parse_num("floor", argv[3], 0, 100000000), -1, -1));
	if (argc == 6 && strcmp(argv[1], "rt") == 0)
		return (cmd_rt(parse_num("floor", argv[2], 1, 100000000),
		    parse_num("floor", argv[3], 0, 100000000), parse_num("floor", argv[4], 0, CPU_SETSIZE - 1),
		    parse_num("floor", argv[5], 0, CPU_SETSIZE - 1)));
	if (argc == 3 && strcmp(argv[1], "spawn") == 0)
		return (cmd_spawn(parse_num("floor", argv[2], 1, 1000000)));
	if (argc == 5 && strcmp(argv[1], "launch") == 0)
		return (cmd_launch(parse_num("floor", argv[2], 1, 1000000),
		    argv[3], argv[4]));
	usage();
	return (2);
}
