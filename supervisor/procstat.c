/* SPDX-License-Identifier: ISC */
/*
 * procstat.c -- processes as the kernel sees them: cpu time and resident
 * memory for the metrics, parent/group/session links for killing whole
 * trees.  Linux: /proc.  OpenBSD: sysctl(KERN_PROC).
 */
#include <sys/types.h>
#ifdef __OpenBSD__
#include <sys/param.h>
#include <sys/proc.h>
#include <sys/sysctl.h>
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

#define ENV_MAX		(1024 * 1024)	/* read no more of an environment */
#define CHILDREN_MAX	(8 * 1024 * 1024)	/* of a children list */

#ifdef __linux__
static int	env_scan(const char *, size_t, const char *, const char *);
static int	read_small(const char *, char *, size_t);
static int	parse_stat(const char *, struct pstat *);
static int	read_children(const char *, pid_t *, size_t);
static int	tree_add(struct ptable *, size_t *, pid_t);
static int	tree_kids(struct ptable *, size_t *, pid_t);

/* Read a small /proc file whole; its length, or -1. */
static int
read_small(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	size_t	off = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while (off + 1 < len) {
		n = read(fd, buf + off, len - 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	return ((int)off);
}

/*
 * "pid (comm) S ppid pgrp session tty tpgid flags minflt cminflt majflt
 * cmajflt utime stime cutime cstime prio nice threads itreal start vsize
 * rss ...": comm may hold anything, so parse after the last ')'.
 */
static int
parse_stat(const char *buf, struct pstat *ps)
{
	static long		 hz, pagesz;
	const char		*p;
	char			*end;
	unsigned long long	 v[22];
	char			 state;
	int			 i;

	if (hz == 0) {
		hz = sysconf(_SC_CLK_TCK);
		pagesz = sysconf(_SC_PAGESIZE);
		if (hz <= 0)
			hz = 100;
		if (pagesz <= 0)
			pagesz = 4096;
	}
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return (-1);
	p += 2;
	state = *p++;
	/* v[0] is field 4 (ppid) ... v[20] is field 24 (rss). */
	for (i = 0; i < 21; i++) {
		while (*p == ' ')
			p++;
		if (*p == '-') {	/* tty, tpgid, nice may be < 0 */
			while (*p != ' ' && *p != '\0')
				p++;
			v[i] = 0;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			return (-1);
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno != 0)
			return (-1);
		p = end;
	}
	ps->ppid = (pid_t)v[0];
	ps->pgid = (pid_t)v[1];
	ps->sid = (pid_t)v[2];
	ps->zombie = state == 'Z' || state == 'X';
	ps->cpu_ns = (v[10] + v[11]) * (1000000000ULL / (unsigned long long)hz);
	ps->start_ns = v[18] * (1000000000ULL / (unsigned long long)hz);
	ps->rss = v[20] * (unsigned long long)pagesz;
	return (0);
}

uint64_t
procstat_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

int
procstat_boot_id(char *buf, size_t len)
{
	ssize_t	n;

	if ((n = read_small("/proc/sys/kernel/random/boot_id", buf,
	    len)) <= 0)
		return (-1);
	buf[strcspn(buf, "\n")] = '\0';
	return (buf[0] != '\0' ? 0 : -1);
}

int
procstat_get(pid_t pid, struct pstat *ps)
{
	char	path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return (-1);
	memset(ps, 0, sizeof(*ps));
	ps->pid = pid;
	return (parse_stat(buf, ps));
}

int
ptable_load(struct ptable *t)
{
	DIR		*d;
	struct dirent	*de;
	struct pstat	*n;
	const char	*errstr;
	size_t		 cap = 0;
	pid_t		 pid;

	t->p = NULL;
	t->n = 0;
	if ((d = opendir("/proc")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtonum(de->d_name, 1, INT_MAX, &errstr);
		if (errstr != NULL)
			continue;
		if (t->n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			if ((n = reallocarray(t->p, cap, sizeof(*n))) == NULL) {
				closedir(d);
				ptable_free(t);
				return (-1);
			}
			t->p = n;
		}
		if (procstat_get(pid, &t->p[t->n]) == 0)
			t->n++;
	}
	closedir(d);
	return (0);
}

int
procstat_children(pid_t pid, pid_t *out, size_t max)
{
	char	path[80];

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)pid, (long)pid);
	return (read_children(path, out, max));
}

/* A children list: the count (at most max stored), or -1. */
static int
read_children(const char *path, pid_t *out, size_t max)
{
	char		 small[8192], *buf = small, *nb, *p, *end;
	size_t		 cap = sizeof(small);
	long		 v;
	int		 len, n = 0;

	/* Thousands of children: read it whole, not a scan of /proc. */
	while ((len = read_small(path, buf, cap)) != -1 &&
	    (size_t)len + 1 >= cap && cap < CHILDREN_MAX) {
		cap *= 2;
		if ((nb = realloc(buf == small ? NULL : buf, cap)) == NULL) {
			len = -1;
			break;
		}
		buf = nb;
	}
	if (len == -1 || (size_t)len + 1 >= cap)
		n = -1;		/* maybe cut short: do not trust it */
	for (p = buf; n != -1 && *p != '\0'; p = end) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		v = strtol(p, &end, 10);
		if (end == p || v <= 0)
			n = -1;
		else {
			if ((size_t)n < max)
				out[n] = (pid_t)v;
			n++;
		}
	}
	if (buf != small)
		free(buf);
	return (n);
}

/*
 * The processes of the trees below roots, roots included, found through
 * the children lists the kernel keeps for every thread: the cost grows
 * with the trees, not with the processes on the host.  -1 where there
 * are no such lists (a kernel without CONFIG_PROC_CHILDREN).
 */
int
ptable_trees(struct ptable *t, const pid_t *roots, size_t nroots)
{
	static int	 have = -1;
	char		 path[80];
	size_t		 cap = 0, i;

	t->p = NULL;
	t->n = 0;
	if (have == -1) {
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
		    (long)getpid(), (long)getpid());
		have = access(path, R_OK) == 0;
	}
	if (!have)
		return (-1);
	for (i = 0; i < nroots; i++)
		if (tree_add(t, &cap, roots[i]) == -1)
			goto fail;
	/* Breadth first: each one's children join the table's end. */
	for (i = 0; i < t->n; i++)
		if (tree_kids(t, &cap, t->p[i].pid) == -1)
			goto fail;
	return (0);
 fail:
	ptable_free(t);
	return (-1);
}

/* Add pid to the table, unless it is gone.  -1 only without memory. */
static int
tree_add(struct ptable *t, size_t *cap, pid_t pid)
{
	struct pstat	*n;

	if (t->n == *cap) {
		*cap = *cap == 0 ? 64 : *cap * 2;
		if ((n = reallocarray(t->p, *cap, sizeof(*n))) == NULL)
			return (-1);
		t->p = n;
	}
	if (procstat_get(pid, &t->p[t->n]) == 0)
		t->n++;
	return (0);
}

/* Add the children of every thread of pid. */
static int
tree_kids(struct ptable *t, size_t *cap, pid_t pid)
{
	char		 path[80];
	struct dirent	*de;
	DIR		*d;
	pid_t		 small[64], *kids = small, *big = NULL;
	size_t		 max = 64;
	int		 n, i, r = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return (0);		/* gone meanwhile */
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/"
		    "children", (long)pid, de->d_name) >= (int)sizeof(path))
			continue;
		while ((n = read_children(path, kids, max)) > 0 &&
		    (size_t)n > max) {
			max = (size_t)n + 64;
			free(big);
			if ((big = reallocarray(NULL, max, sizeof(*big))) ==
			    NULL) {
				r = -1;
				break;
			}
			kids = big;
		}
		for (i = 0; r == 0 && i < n; i++)
			r = tree_add(t, cap, kids[i]);
	}
	closedir(d);
	free(big);
	return (r);
}

int
procstat_env_has(pid_t pid, const char *k1, const char *k2)
{
	char		 path[64], *buf, *nb;
	size_t		 len = 0, cap = 16384;
	ssize_t		 n;
	int		 fd, r;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		return (0);
	}
	for (;;) {
		if (len == cap) {
			if (cap >= ENV_MAX ||
			    (nb = realloc(buf, cap * 2)) == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	r = env_scan(buf, len, k1, k2);
	free(buf);
	return (r);
}

#elif defined(__OpenBSD__)

static void	kp_to_pstat(const struct kinfo_proc *, struct pstat *);

static void
kp_to_pstat(const struct kinfo_proc *kp, struct pstat *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->pid = kp->p_pid;
	ps->ppid = kp->p_ppid;
	ps->pgid = kp->p__pgid;
	ps->sid = kp->p_sid;
	ps->zombie = kp->p_stat == SDEAD;
	ps->cpu_ns = ((uint64_t)kp->p_uutime_sec + kp->p_ustime_sec) *
	    1000000000ULL + ((uint64_t)kp->p_uutime_usec +
	    kp->p_ustime_usec) * 1000ULL;
	ps->rss = (uint64_t)kp->p_vm_rssize * (uint64_t)getpagesize();
	ps->start_ns = (uint64_t)kp->p_ustart_sec * 1000000000ULL +
	    (uint64_t)kp->p_ustart_usec * 1000ULL;
}

uint64_t
procstat_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

int
procstat_boot_id(char *buf, size_t len)
{
	struct timeval	tv;
	size_t		sz = sizeof(tv);
	int		mib[2] = { CTL_KERN, KERN_BOOTTIME };

	if (sysctl(mib, 2, &tv, &sz, NULL, 0) == -1)
		return (-1);
	(void)snprintf(buf, len, "%lld.%06ld", (long long)tv.tv_sec,
	    (long)tv.tv_usec);
	return (0);
}

int
procstat_get(pid_t pid, struct pstat *ps)
{
	struct kinfo_proc	kp;
	size_t			len = sizeof(kp);
	int			mib[6] = { CTL_KERN, KERN_PROC, KERN_PROC_PID,
				    0, sizeof(struct kinfo_proc), 1 };

	mib[3] = pid;
	if (sysctl(mib, 6, &kp, &len, NULL, 0) == -1 || len == 0)
		return (-1);
	kp_to_pstat(&kp, ps);
	return (0);
}

int
ptable_load(struct ptable *t)
{
	struct kinfo_proc	*kp = NULL, *nk;
	size_t			 len, i, cnt;
	int			 mib[6] = { CTL_KERN, KERN_PROC,
				    KERN_PROC_ALL, 0, sizeof(struct kinfo_proc),
				    0 };

	t->p = NULL;
	t->n = 0;
	for (;;) {
		if (sysctl(mib, 6, NULL, &len, NULL, 0) == -1)
			goto fail;
		len += len / 8;		/* room for newcomers */
		cnt = len / sizeof(struct kinfo_proc);
		if ((nk = reallocarray(kp, cnt, sizeof(*kp))) == NULL)
			goto fail;
		kp = nk;
		mib[5] = (int)cnt;
		len = cnt * sizeof(*kp);
		if (sysctl(mib, 6, kp, &len, NULL, 0) == 0)
			break;
		if (errno != ENOMEM)
			goto fail;
	}
	cnt = len / sizeof(*kp);
	if (cnt > 0 && (t->p = calloc(cnt, sizeof(*t->p))) == NULL)
		goto fail;
	for (i = 0; i < cnt; i++)
		kp_to_pstat(&kp[i], &t->p[i]);
	t->n = cnt;
	free(kp);
	return (0);
fail:
	free(kp);
	return (-1);
}

int
procstat_children(pid_t pid, pid_t *out, size_t max)
{
	return (-1);	/* no cheap per-parent list: use ptable_load */
}

int
ptable_trees(struct ptable *t, const pid_t *roots, size_t nroots)
{
	t->p = NULL;
	t->n = 0;
	return (-1);	/* likewise */
}

int
procstat_env_has(pid_t pid, const char *k1, const char *k2)
{
	char	**env, *buf = NULL, *nb;
	size_t	  len, cap = 16384;
	int	  mib[4] = { CTL_KERN, KERN_PROC_ARGS, 0, KERN_PROC_ENV };
	int	  i, r1 = 0, r2 = 0;

	mib[2] = pid;
	for (;;) {
		if ((nb = realloc(buf, cap)) == NULL)
			goto out;
		buf = nb;
		len = cap;
		if (sysctl(mib, 4, buf, &len, NULL, 0) == 0)
			break;
		if (errno != ENOMEM || cap >= ENV_MAX)
			goto out;
		cap *= 2;
	}
	env = (char **)buf;
	for (i = 0; (size_t)(i + 1) * sizeof(*env) <= len && env[i] != NULL;
	    i++) {
		r1 |= strcmp(env[i], k1) == 0;
		r2 |= strcmp(env[i], k2) == 0;
	}
out:
	free(buf);
	return (r1 && r2);
}

#else
#error "procstat.c: no process information for this system"
#endif

void
ptable_free(struct ptable *t)
{
	free(t->p);
	t->p = NULL;
	t->n = 0;
}

#ifdef __linux__
/* Does a NUL-separated environment block hold both entries exactly? */
static int
env_scan(const char *buf, size_t len, const char *k1, const char *k2)
{
	size_t	 off = 0, l1 = strlen(k1) + 1, l2 = strlen(k2) + 1;
	int	 r1 = 0, r2 = 0;
	const char *z;

	while (off < len) {
		z = memchr(buf + off, '\0', len - off);
		if (z == NULL)
			break;			/* last entry cut short */
		if ((size_t)(z - (buf + off)) + 1 == l1 &&
		    memcmp(buf + off, k1, l1) == 0)
			r1 = 1;
		if ((size_t)(z - (buf + off)) + 1 == l2 &&
		    memcmp(buf + off, k2, l2) == 0)
			r2 = 1;
		off = (size_t)(z - buf) + 1;
	}
	return (r1 && r2);
}
#endif /* __linux__ */
