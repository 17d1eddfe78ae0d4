/* SPDX-License-Identifier: ISC */
/*
 * scalekw -- killwait for thousands of children (bench/scale.py): SIGKILL
 * VICTIM, a child of PARENT, and print the microseconds until PARENT has
 * a child that was not there before.  Unlike killwait (proc.c: 64 KiB of
 * children text, 8,192 pids, a linear search), the children list is read
 * whole into a growing buffer and the "before" set is sorted, so one poll
 * of 9,000 children costs one read and 9,000 binary searches.
 *
 *   scalekw PARENT VICTIM TIMEOUT_MS
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

struct pids {
	pid_t	*v;
	size_t	 n, cap;
};

static char	*buf;
static size_t	 bufcap;

static void	 add(struct pids *, pid_t);
static int	 read_file(const char *, struct pids *);
static int	 children(pid_t, struct pids *);
static int	 cmp_pid(const void *, const void *);

static void
add(struct pids *p, pid_t v)
{
	pid_t	*nv;

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4096;
		if ((nv = realloc(p->v, p->cap * sizeof(*nv))) == NULL) {
			perror("scalekw: realloc");
			exit(1);
		}
		p->v = nv;
	}
	p->v[p->n++] = v;
}

static int
read_file(const char *path, struct pids *out)
{
	size_t	 len = 0;
	ssize_t	 r;
	char	*p, *end, *nb;
	long	 v;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	for (;;) {
		if (bufcap - len < 4096) {
			bufcap = bufcap ? bufcap * 2 : 1 << 17;
			if ((nb = realloc(buf, bufcap)) == NULL) {
				perror("scalekw: realloc");
				exit(1);
			}
			buf = nb;
		}
		r = read(fd, buf + len, bufcap - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	for (p = buf; *p != '\0'; p = end) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (errno == 0 && v > 0)
			add(out, (pid_t)v);
	}
	return (0);
}

static int
children(pid_t parent, struct pids *out)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 tid;

	out->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)parent);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		tid = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '\0' || tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/children",
		    (int)parent, tid);
		(void)read_file(path, out);
	}
	closedir(d);
	return (0);
}

static int
cmp_pid(const void *a, const void *b)
{
	pid_t	x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x < y ? -1 : x > y);
}

int
main(int argc, char *argv[])
{
	struct pids	 before = { 0 }, now = { 0 };
	pid_t		 parent, victim;
	uint64_t	 t0, t, limit;
	size_t		 i;

	if (argc != 4) {
		fprintf(stderr, "usage: scalekw PARENT VICTIM TIMEOUT_MS\n");
		return (2);
	}
	parent = (pid_t)parse_num("scalekw", argv[1], 1, INT32_MAX);
	victim = (pid_t)parse_num("scalekw", argv[2], 1, INT32_MAX);
	limit = (uint64_t)parse_num("scalekw", argv[3], 1, 3600000) *
	    1000000ULL;
	precise_timers();
	if (children(parent, &before) == -1) {
		fprintf(stderr, "scalekw: parent %d is gone\n", (int)parent);
		return (1);
	}
	qsort(before.v, before.n, sizeof(pid_t), cmp_pid);
	if (bsearch(&victim, before.v, before.n, sizeof(pid_t),
	    cmp_pid) == NULL) {
		fprintf(stderr, "scalekw: %d is not a child of %d\n",
		    (int)victim, (int)parent);
		return (1);
	}
	t0 = now_ns();
	if (kill(victim, SIGKILL) == -1) {
		perror("scalekw: kill");
		return (1);
	}
	for (;;) {
		if (children(parent, &now) == -1) {
			fprintf(stderr, "scalekw: parent %d died\n",
			    (int)parent);
			return (1);
		}
		t = now_ns();
		for (i = 0; i < now.n; i++)
			if (bsearch(&now.v[i], before.v, before.n,
			    sizeof(pid_t), cmp_pid) == NULL) {
				printf("%.1f\n", (double)(t - t0) / 1000.0);
				return (0);
			}
		if (t - t0 > limit) {
			fprintf(stderr, "scalekw: no new child of %d within "
			    "%s ms\n", (int)parent, argv[3]);
			return (1);
		}
		sleep_us(t - t0 < 20000000ULL ? 20 : 500);
	}
}
