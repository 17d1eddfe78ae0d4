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

#include "config.h"
#include "cgroup.h"
#include "child.h"
#include "log.h"
#include "supervisor.h"

#define CG_READ_MAX	(64 * 1024)	/* cgroup.procs read at once */
#define CG_WHY_MAX	(PATH_MAX + 256)	/* a path and why */

enum cg_ctl { CG_MEMORY, CG_PIDS, CG_CPU, CG_IO, CG__COUNT };

#ifdef __linux__
static const char *const ctl_names[CG__COUNT] = {
	"memory", "pids", "cpu", "io"
};
#endif

/* The cgroup limits, from LIMIT_RLIMITS on: controller and file. */
static const struct {
	enum cg_ctl	 ctl;
	const char	*file;
} lim_files[LIMIT__COUNT - LIMIT_RLIMITS] = {
	{ CG_MEMORY, "memory.max" },
	{ CG_MEMORY, "memory.high" },
	{ CG_PIDS, "pids.max" },
	{ CG_CPU, "cpu.max" },
	{ CG_IO, "io.weight" }
};

static char	cgroot[PATH_MAX];	/* the daemon's subtree; "" if none */
#ifdef __linux__
static char	owndir[PATH_MAX];	/* the cgroup it is under */
static int	ownroot;		/* that is the root cgroup */
#endif
static char	whyall[CG_WHY_MAX];	/* why no cgroups, if so */
static char	whylim[LIMIT__COUNT][CG_WHY_MAX]; /* why not that limit */

static int	 cg_path(const char *, const char *, char *, size_t);
static int	 cg_write(const char *, const char *, const char *);
static int	 file_write(const char *, const char *, const char *);
static ssize_t	 cg_read(const char *, const char *, char *, size_t);
static int	 lim_ctl(int);
static void	 lim_format(int, uint64_t, char *, size_t);
#ifdef __linux__
static int	 unified_mount(char *, size_t);
static int	 own_cgroup(char *, size_t);
static int	 has_word(const char *, const char *, const char *);
static int	 move_self(const char *);
static void	 enable_ctls(unsigned int, const char *, int);
static int	 cg_none(int);
#endif

/* The controller limit k needs, or -1 for an rlimit. */
static int
lim_ctl(int k)
{
	if (k < LIMIT_RLIMITS || k >= LIMIT__COUNT)
		return (-1);
	return (lim_files[k - LIMIT_RLIMITS].ctl);
}

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

/* 1 if the space-separated list in dir/file has word. */
static int
has_word(const char *dir, const char *file, const char *word)
{
	char	path[PATH_MAX], buf[1024], *p, *w;
	FILE	*f;
	int	 found = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path) || (f = fopen(path, "re")) == NULL)
		return (0);
	if (fgets(buf, sizeof(buf), f) != NULL)
		for (p = buf; !found && (w = strsep(&p, " \n")) != NULL;)
			found = strcmp(w, word) == 0;
	fclose(f);
	return (found);
}

/*
 * A cgroup that holds processes cannot hand controllers to its children
 * (but the root): when the one we were started in is ours alone (a
 * systemd service with Delegate=yes), the supervisor moves to a leaf of
 * its own beside the instances' subtree.  Its children go with it.
 */
static int
move_self(const char *tag)
{
	char	leaf[PATH_MAX];

	if ((size_t)snprintf(leaf, sizeof(leaf), "%s/apm2d.%s.daemon",
	    owndir, tag) >= sizeof(leaf)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if (mkdir(leaf, 0755) == -1 && errno != EEXIST)
		return (-1);
	if (file_write(leaf, "cgroup.procs", "0") == -1) {
		(void)rmdir(leaf);
		return (-1);
	}
	log_info("cgroups: the supervisor moved to %s, so that %s can "
	    "pass controllers to the instances", leaf, owndir);
	return (0);
}

/*
 * Turn on, for the instances' cgroups, the controllers of the limits in
 * want (a mask of 1 << enum config_limit): each must be offered to our
 * cgroup and then enabled in its subtree and in ours.  What cannot be
 * done is said in whylim, for each limit.  dry: only look (apm2d -n).
 */
static void
enable_ctls(unsigned int want, const char *tag, int dry)
{
	char	why[CG__COUNT][CG_WHY_MAX], buf[32], path[PATH_MAX];
	int	k, c, tried[CG__COUNT] = { 0 }, moved = 0;

	memset(why, 0, sizeof(why));
	for (k = LIMIT_RLIMITS; k < LIMIT__COUNT; k++) {
		if ((want & (1U << k)) == 0 || tried[c = lim_ctl(k)]++)
			continue;
		(void)snprintf(buf, sizeof(buf), "+%s", ctl_names[c]);
		if (!has_word(owndir, "cgroup.controllers", ctl_names[c]))
			(void)snprintf(why[c], sizeof(why[c]), "the %s "
			    "controller is not available in the cgroup apm2d "
			    "runs in (%s)", ctl_names[c], owndir);
		else if (dry)
			continue;
		else if (file_write(owndir, "cgroup.subtree_control", buf) ==
		    -1 && (errno != EBUSY || ownroot || moved++ > 0 ||
		    move_self(tag) == -1 ||
		    file_write(owndir, "cgroup.subtree_control", buf) == -1))
			(void)snprintf(why[c], sizeof(why[c]), "the %s "
			    "controller cannot be enabled below %s: %s%s",
			    ctl_names[c], owndir, strerror(errno),
			    errno == EBUSY ? " (other processes are in it: "
			    "give apm2d a cgroup of its own, with systemd "
			    "Delegate=yes)" : "");
		else if (file_write(cgroot, "cgroup.subtree_control", buf) ==
		    -1)
			(void)snprintf(why[c], sizeof(why[c]), "the %s "
			    "controller cannot be enabled below %s: %s",
			    ctl_names[c], cgroot, strerror(errno));
	}
	for (k = LIMIT_RLIMITS; k < LIMIT__COUNT; k++) {
		if ((want & (1U << k)) == 0)
			continue;
		c = lim_ctl(k);
		if (why[c][0] != '\0')
			(void)strlcpy(whylim[k], why[c], sizeof(whylim[k]));
		else if (!dry && ((size_t)snprintf(path, sizeof(path), "%s/%s",
		    cgroot, lim_files[k - LIMIT_RLIMITS].file) >=
		    sizeof(path) || access(path, F_OK) == -1))
			/* io.weight needs the I/O cost model or BFQ. */
			(void)snprintf(whylim[k], sizeof(whylim[k]), "this "
			    "kernel offers no %s in %s",
			    lim_files[k - LIMIT_RLIMITS].file, cgroot);
	}
}

/*
 * dry (apm2d -n): make nothing, only tell what would not work.  The
 * verdict then misses what only trying shows (a busy cgroup).
 */
int
cg_init(const char *tag, unsigned int want, int dry)
{
	char		 mnt[PATH_MAX], own[PATH_MAX];
	const char	*hook;

	cgroot[0] = whyall[0] = '\0';
	memset(whylim, 0, sizeof(whylim));
	if ((hook = SUP_HOOK("APM2D_TEST_NO_CGROUPS")) != NULL &&
	    getenv(hook) != NULL) {
		(void)strlcpy(whyall, "turned off for a test", sizeof(whyall));
		return (cg_none(dry));
	}
	if (unified_mount(mnt, sizeof(mnt)) == -1) {
		(void)strlcpy(whyall, "there is no cgroup v2 hierarchy",
		    sizeof(whyall));
		return (cg_none(dry));
	}
	if (own_cgroup(own, sizeof(own)) == -1) {
		(void)strlcpy(whyall, "apm2d cannot tell its own cgroup",
		    sizeof(whyall));
		return (cg_none(dry));
	}
	return (cg_setup(mnt, own, tag, want, dry));
}

/* Test seam: regress/ calls it on a made-up tree. */
int
cg_setup(const char *mnt, const char *own, const char *tag,
    unsigned int want, int dry)
{
	char	path[PATH_MAX];
	int	fd;

	cgroot[0] = whyall[0] = '\0';
	memset(whylim, 0, sizeof(whylim));
	if ((size_t)snprintf(owndir, sizeof(owndir), "%s%s", mnt,
	    (ownroot = strcmp(own, "/") == 0) ? "" : own) >= sizeof(owndir) ||
	    (size_t)snprintf(cgroot, sizeof(cgroot), "%s/apm2d.%s", owndir,
	    tag) >= sizeof(cgroot)) {
		(void)strlcpy(whyall, "the path of apm2d's cgroup is too long",
		    sizeof(whyall));
		return (cg_none(dry));
	}
	if (dry) {
		if (access(owndir, W_OK) == -1) {
			(void)snprintf(whyall, sizeof(whyall), "%s: %s",
			    owndir, strerror(errno));
			return (cg_none(dry));
		}
		enable_ctls(want, tag, 1);
		cgroot[0] = '\0';
		return (1);
	}
	/* A leaf a killed daemon left, if empty. */
	if ((size_t)snprintf(path, sizeof(path), "%s.daemon", cgroot) <
	    sizeof(path))
		(void)rmdir(path);
	if ((mkdir(cgroot, 0755) == -1 && errno != EEXIST) ||
	    (size_t)snprintf(path, sizeof(path), "%s/cgroup.procs",
	    cgroot) >= sizeof(path) ||
	    (fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(whyall, sizeof(whyall), "%s: %s", cgroot,
		    strerror(errno));
		return (cg_none(dry));
	}
	close(fd);
	enable_ctls(want, tag, 0);
	log_debug("cgroups: instances under %s", cgroot);
	return (1);
}

static int
cg_none(int dry)
{
	cgroot[0] = '\0';
	if (!dry)
		log_info("no cgroups (%s): an instance's processes are "
		    "tracked by process group and as orphans (best effort)",
		    whyall);
	return (0);
}

#else

int
cg_init(const char *tag, unsigned int want, int dry)
{
	cgroot[0] = '\0';
	(void)strlcpy(whyall, "cgroups are a Linux feature", sizeof(whyall));
	return (0);
}

#endif

const char *
cg_limit_why(int k)
{
	if (lim_ctl(k) == -1)
		return (NULL);
	if (whyall[0] != '\0')
		return (whyall);
	return (whylim[k][0] != '\0' ? whylim[k] : NULL);
}

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
file_write(const char *dir, const char *file, const char *s)
{
	char	path[PATH_MAX];
	ssize_t	n;
	int	fd, e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	errno = e;
	return (n == (ssize_t)strlen(s) ? 0 : -1);
}

static int
cg_write(const char *name, const char *file, const char *s)
{
	char	dir[PATH_MAX];

	if (cg_path(name, NULL, dir, sizeof(dir)) == -1)
		return (-1);
	return (file_write(dir, file, s));
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

/* What limit k's file takes for value v. */
static void
lim_format(int k, uint64_t v, char *buf, size_t len)
{
	switch (k) {
	case LIMIT_CPU_MAX:	/* a quota per 100 ms period */
		(void)snprintf(buf, len, "%llu 100000",
		    (unsigned long long)v * 1000);
		break;
	case LIMIT_IO_WEIGHT:
		(void)snprintf(buf, len, "default %llu",
		    (unsigned long long)v);
		break;
	default:
		(void)snprintf(buf, len, "%llu", (unsigned long long)v);
		break;
	}
}

int
cg_procs_fd(const char *name, const struct limits_config *l, int *errs,
    int *made)
{
	char	path[PATH_MAX], val[64];
	int	k, fd, was = *made;

	if (!cg_enabled() || cg_path(name, NULL, path, sizeof(path)) == -1)
		return (-1);
	if (!was) {
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return (-1);
		memset(errs, 0, LIMIT__COUNT * sizeof(*errs));
		for (k = LIMIT_RLIMITS; k < LIMIT__COUNT; k++) {
			if (!l->set[k] || cg_limit_why(k) != NULL)
				continue;
			lim_format(k, l->value[k], val, sizeof(val));
			if (cg_write(name, lim_files[k - LIMIT_RLIMITS].file,
			    val) == -1)
				errs[k] = errno != 0 ? errno : EIO;
		}
		*made = 1;
	}
	if (cg_path(name, "cgroup.procs", path, sizeof(path)) == -1)
		return (-1);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1 && errno == ENOENT &&
	    was) {
		*made = 0;	/* removed behind our back: make it again */
		return (cg_procs_fd(name, l, errs, made));
	}
	return (fd);
}

uint64_t
cg_cpu_ns(const char *name)
{
	char	buf[1024], *p;

	if (!cg_enabled() || cg_read(name, "cpu.stat", buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "usage_usec ")) == NULL)
		return (0);
	return (strtoull(p + 11, NULL, 10) * 1000);
}

int
cg_limit_file(int k, const char **file)
{
	if (lim_ctl(k) == -1)
		return (-1);
	*file = lim_files[k - LIMIT_RLIMITS].file;
	return (0);
}

uint64_t
cg_oom_kills(const char *name)
{
	char	buf[1024], *p;

	if (!cg_enabled() || cg_read(name, "memory.events", buf,
	    sizeof(buf)) <= 0)
		return (0);
	for (p = buf; (p = strstr(p, "oom_kill ")) != NULL; p++)
		if (p == buf || p[-1] == '\n')
			return (strtoull(p + 9, NULL, 10));
	return (0);
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
	int	i, frozen;

	if (!cg_enabled())
		return;
	if (cg_write(name, "cgroup.kill", "1") == 0)
		return;
	/*
	 * Before Linux 5.14: frozen (5.2 on), nothing in it forks while
	 * each pid gets SIGKILL, which a frozen process still obeys; again
	 * for what a fork that was under way added.
	 */
	frozen = cg_write(name, "cgroup.freeze", "1") == 0;
	for (i = 0; i < 3 && cg_populated(name); i++)
		cg_signal(name, SIGKILL);
	if (frozen)
		(void)cg_write(name, "cgroup.freeze", "0");
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
