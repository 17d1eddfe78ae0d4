/* SPDX-License-Identifier: ISC */
/*
 * cgroup.c -- one cgroup v2 per instance (see cgroup.h).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "child.h"
#include "log.h"

#define CG_READ_MAX	(64 * 1024)	/* cgroup.procs read at once */

static char	cgroot[PATH_MAX];	/* the daemon's subtree; "" if none */

static int	 cg_path(const char *, const char *, char *, size_t);
static int	 cg_write(const char *, const char *, const char *);
static ssize_t	 cg_read(const char *, const char *, char *, size_t);
#ifdef __linux__
static int	 unified_mount(char *, size_t);
static int	 own_cgroup(char *, size_t);
#endif

#ifdef __linux__

/* The mount point of the cgroup2 file system, from mountinfo. */
static int
unified_mount(char *buf, size_t len)
{
	FILE	*f;
	char	 line[4096], *sep, *fld[6], *p;
	int	 i, found = 0;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return (-1);
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		/* "id parent maj:min root mountpoint opts ... - type src" */
		if ((sep = strstr(line, " - ")) == NULL ||
		    strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		p = line;
		for (i = 0; i < 5 && p != NULL; i++)
			fld[i] = strsep(&p, " ");
		if (i == 5 && fld[4] != NULL && fld[4][0] == '/' &&
		    strchr(fld[4], '\\') == NULL &&
		    strlcpy(buf, fld[4], len) < len)
			found = 1;
	}
	fclose(f);
	return (found ? 0 : -1);
}

/* Our own cgroup in the unified hierarchy ("0::/path"). */
static int
own_cgroup(char *buf, size_t len)
{
	FILE	*f;
	char	 line[4096];
	size_t	 n;
	int	 found = 0;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return (-1);
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		n = strcspn(line + 3, "\n");
		line[3 + n] = '\0';
		if (strlcpy(buf, line + 3, len) < len)
			found = 1;
	}
	fclose(f);
	return (found ? 0 : -1);
}

int
cg_init(const char *tag)
{
	char	mnt[PATH_MAX], own[PATH_MAX], probe[PATH_MAX];
	int	fd;

	cgroot[0] = '\0';
	if (unified_mount(mnt, sizeof(mnt)) == -1) {
		log_info("no cgroup v2 hierarchy: an instance's processes "
		    "are tracked by process group and as orphans (best "
		    "effort)");
		return (0);
	}
	if (own_cgroup(own, sizeof(own)) == -1 ||
	    (size_t)snprintf(cgroot, sizeof(cgroot), "%s%s/apm2d.%s", mnt,
	    strcmp(own, "/") == 0 ? "" : own, tag) >= sizeof(cgroot)) {
		cgroot[0] = '\0';
		log_info("cannot tell our cgroup: an instance's processes "
		    "are tracked by process group and as orphans");
		return (0);
	}
	if ((mkdir(cgroot, 0755) == -1 && errno != EEXIST) ||
	    (size_t)snprintf(probe, sizeof(probe), "%s/cgroup.procs",
	    cgroot) >= sizeof(probe) ||
	    (fd = open(probe, O_WRONLY | O_CLOEXEC)) == -1) {
		log_info("cgroups: %s: %s: an instance's processes are "
		    "tracked by process group and as orphans", cgroot,
		    strerror(errno));
		cgroot[0] = '\0';
		return (0);
	}
	close(fd);
	log_debug("cgroups: instances under %s", cgroot);
	return (1);
}

#else

int
cg_init(const char *tag)
{
	cgroot[0] = '\0';
	return (0);
}

#endif

int
cg_enabled(void)
{
	return (cgroot[0] != '\0');
}

/* <root>/<name>[/<file>] into buf. */
static int
cg_path(const char *name, const char *file, char *buf, size_t len)
{
	int	n;

	if (file != NULL)
		n = snprintf(buf, len, "%s/%s/%s", cgroot, name, file);
	else
		n = snprintf(buf, len, "%s/%s", cgroot, name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

static int
cg_write(const char *name, const char *file, const char *s)
{
	char	path[PATH_MAX];
	ssize_t	n;
	int	fd, e;

	if (cg_path(name, file, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	errno = e;
	return (n == (ssize_t)strlen(s) ? 0 : -1);
}

static ssize_t
cg_read(const char *name, const char *file, char *buf, size_t len)
{
	char	path[PATH_MAX];
	ssize_t	n, got = 0;
	int	fd;

	if (cg_path(name, file, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while ((size_t)got < len - 1 &&
	    (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return (got);
}

int
cg_procs_fd(const char *name)
{
	char	path[PATH_MAX];

	if (!cg_enabled() || cg_path(name, NULL, path, sizeof(path)) == -1)
		return (-1);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return (-1);
	if (cg_path(name, "cgroup.procs", path, sizeof(path)) == -1)
		return (-1);
	return (open(path, O_WRONLY | O_CLOEXEC));
}

size_t
cg_pids(const char *name, pid_t *pids, size_t max)
{
	char		*buf, *p, *end;
	long		 v;
	size_t		 n = 0;

	if (!cg_enabled() || (buf = malloc(CG_READ_MAX)) == NULL)
		return (0);
	if (cg_read(name, "cgroup.procs", buf, CG_READ_MAX) > 0)
		for (p = buf; *p != '\0' && n < max; p = end) {
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (v > 0)
				pids[n++] = (pid_t)v;
			while (*end == '\n')
				end++;
		}
	free(buf);
	return (n);
}

void
cg_signal(const char *name, int sig)
{
	pid_t	pids[4096];
	size_t	n, i;

	n = cg_pids(name, pids, sizeof(pids) / sizeof(pids[0]));
	for (i = 0; i < n; i++)
		(void)kill(pids[i], sig);
}

void
cg_kill(const char *name)
{
	int	i;

	if (!cg_enabled())
		return;
	if (cg_write(name, "cgroup.kill", "1") == 0)
		return;
	/* Before Linux 5.14: one by one, again for what forked meanwhile. */
	for (i = 0; i < 3 && cg_populated(name); i++)
		cg_signal(name, SIGKILL);
}

int
cg_usage(const char *name, uint64_t *cpu_ns, uint64_t *mem)
{
	struct pstat	 ps;
	pid_t		 pids[4096];
	char		 buf[1024], *p;
	size_t		 n, i;

	if (!cg_enabled() || cg_read(name, "cpu.stat", buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "usage_usec ")) == NULL)
		return (-1);
	*cpu_ns = strtoull(p + 11, NULL, 10) * 1000;
	if (cg_read(name, "memory.current", buf, sizeof(buf)) > 0) {
		*mem = strtoull(buf, NULL, 10);
		return (0);
	}
	/* No memory controller here: the processes' resident memory. */
	*mem = 0;
	n = cg_pids(name, pids, sizeof(pids) / sizeof(pids[0]));
	for (i = 0; i < n; i++)
		if (procstat_get(pids[i], &ps) == 0)
			*mem += ps.rss;
	return (0);
}

int
cg_populated(const char *name)
{
	char	buf[256], *p;

	if (!cg_enabled() || cg_read(name, "cgroup.events", buf,
	    sizeof(buf)) <= 0 || (p = strstr(buf, "populated ")) == NULL)
		return (0);
	return (p[10] == '1');
}

void
cg_remove(const char *name)
{
	char	path[PATH_MAX];

	if (cg_enabled() && cg_path(name, NULL, path, sizeof(path)) == 0)
		(void)rmdir(path);
}

void
cg_sweep(void (*found)(const char *, void *), void *arg)
{
	DIR		*d;
	struct dirent	*de;

	if (!cg_enabled() || (d = opendir(cgroot)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (cg_populated(de->d_name))
			found(de->d_name, arg);
		cg_remove(de->d_name);
	}
	closedir(d);
}

void
cg_cleanup(void)
{
	DIR		*d;
	struct dirent	*de;

	if (!cg_enabled() || (d = opendir(cgroot)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_type == DT_DIR && de->d_name[0] != '.')
			cg_remove(de->d_name);
	closedir(d);
	(void)rmdir(cgroot);
}
