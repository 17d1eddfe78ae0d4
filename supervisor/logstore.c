/* SPDX-License-Identifier: ISC */
/*
 * logstore.c -- log files' paths, rotations and compressions on the
 * supervisor's side (see logstore.h).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "logstore.h"

struct ls_job {
	LIST_ENTRY(ls_job)	 entry;
	pid_t			 pid;
	struct logstore		*ls;	/* NULL once the store was closed */
	uint32_t		 gen;	/* generation compressed, 0 dropped */
};

struct logstore {
	char			*path;
	struct logowner		 owner;
	uint32_t		 max_files;
	int			 compress;
	int			 compress_failed;
	struct ls_job		*job;
	dev_t			 dev;
	ino_t			 ino;
	int			 have_id;
	char			*errmsg;	/* the last failure's, or NULL */
};

static LIST_HEAD(, ls_job)	jobs = LIST_HEAD_INITIALIZER(jobs);
static char			gzip_path[PATH_MAX];

static void	 ls_fd(struct logstore *, int);
static void	 ls_fail(struct logstore *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static const char *gzip_find(void);
static void	 compress_next(struct logstore *, uint32_t);

static void
ls_fail(struct logstore *ls, const char *fmt, ...)
{
	va_list	ap;

	/* Only a file that failed pays for its message. */
	free(ls->errmsg);
	va_start(ap, fmt);
	if (vasprintf(&ls->errmsg, fmt, ap) == -1)
		ls->errmsg = NULL;
	va_end(ap);
	log_warnx("log file %s: %s", ls->path, logstore_error(ls));
}

/* A descriptor goes out: remember which file it is. */
static void
ls_fd(struct logstore *ls, int fd)
{
	struct stat	st;

	ls->have_id = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (ls->have_id) {
		ls->dev = st.st_dev;
		ls->ino = st.st_ino;
	}
}

struct logstore *
logstore_open(const char *path, const struct log_config *lc,
    const struct logowner *owner, int *fdp, char *err, size_t errlen)
{
	struct logstore	*ls;
	uint32_t	 next;

	if (strlen(path) + LOGFS_SUFFIX_MAX + sizeof(LOGFS_TMP_SUFFIX) >=
	    PATH_MAX) {
		snprintf(err, errlen, "%s: file name too long", path);
		return (NULL);
	}
	if ((ls = calloc(1, sizeof(*ls))) == NULL ||
	    (ls->path = strdup(path)) == NULL ||
	    logowner_copy(&ls->owner, owner) == -1) {
		snprintf(err, errlen, "out of memory");
		if (ls != NULL)
			free(ls->path);
		free(ls);
		return (NULL);
	}
	ls->max_files = LOGFS_DEFAULT_MAX_FILES;
	if (lc != NULL)
		logstore_set(ls, lc);
	if ((*fdp = logfs_open(&ls->owner, path, ls->compress, ls->max_files,
	    0, &next, err, errlen)) == -1) {
		logowner_clear(&ls->owner);
		free(ls->path);
		free(ls);
		return (NULL);
	}
	ls_fd(ls, *fdp);
	compress_next(ls, next);
	return (ls);
}

int
logstore_reopen(struct logstore *ls, char *err, size_t errlen)
{
	uint32_t	 next;
	int		 fd;

	if ((fd = logfs_open(&ls->owner, ls->path, ls->compress,
	    ls->max_files, ls->job != NULL, &next, err, errlen)) == -1)
		return (-1);
	ls_fd(ls, fd);
	compress_next(ls, next);
	return (fd);
}

int
logstore_rotate(struct logstore *ls, char *err, size_t errlen)
{
	uint32_t	 g, i, next;
	int		 fd;

	if ((fd = logfs_rotate(&ls->owner, ls->path, ls->max_files,
	    ls->compress, &g, &next, err, errlen)) == -1)
		return (-1);
	/* The generation being compressed moved up with the others. */
	if (ls->job != NULL) {
		if (g == ls->max_files && ls->job->gen == g)
			ls->job->gen = 0;
		else
			for (i = g < ls->max_files ? g : g - 1; i >= 1; i--)
				if (ls->job->gen == i) {
					ls->job->gen = i + 1;
					break;
				}
	}
	ls_fd(ls, fd);
	ls->compress_failed = 0;
	compress_next(ls, next);
	return (fd);
}

int
logstore_moved(const struct logstore *ls)
{
	struct stat	st;

	if (!ls->have_id)
		return (0);
	if (lstat(ls->path, &st) == -1)
		return (1);
	return (st.st_dev != ls->dev || st.st_ino != ls->ino);
}

void
logstore_close(struct logstore *ls)
{
	if (ls == NULL)
		return;
	if (ls->job != NULL) {
		/* logstore_reap() forgets it; the next open cleans up. */
		(void)kill(ls->job->pid, SIGTERM);
		ls->job->ls = NULL;
	}
	logowner_clear(&ls->owner);
	free(ls->path);
	free(ls->errmsg);
	free(ls);
}

void
logstore_set(struct logstore *ls, const struct log_config *lc)
{
	ls->max_files = lc->rotation.max_files > 0 ?
	    lc->rotation.max_files : 1;
	ls->compress = lc->rotation.compress;
}

int
logstore_same(const struct logstore *ls, const struct log_config *lc)
{
	return (ls->max_files == (lc->rotation.max_files > 0 ?
	    lc->rotation.max_files : 1) && ls->compress ==
	    lc->rotation.compress);
}

const char *
logstore_path(const struct logstore *ls)
{
	return (ls->path);
}

uid_t
logstore_uid(const struct logstore *ls)
{
	return (ls->owner.uid);
}

const char *
logstore_error(const struct logstore *ls)
{
	return (ls->errmsg != NULL ? ls->errmsg : "out of memory");
}

pid_t
logstore_compress_pid(const struct logstore *ls)
{
	return (ls->job != NULL ? ls->job->pid : -1);
}

/* Compression. */

void
logstore_set_gzip(const char *path)
{
	if (path == NULL)
		gzip_path[0] = '\0';
	else
		(void)strlcpy(gzip_path, path, sizeof(gzip_path));
}

static const char *
gzip_find(void)
{
	static const char *const cand[] = { "/usr/bin/gzip", "/bin/gzip",
	    NULL };
	size_t	i;

	if (gzip_path[0] != '\0')
		return (access(gzip_path, X_OK) == 0 ? gzip_path : NULL);
	for (i = 0; cand[i] != NULL; i++)
		if (access(cand[i], X_OK) == 0)
			return (cand[i]);
	return (NULL);
}

/* Start on generation gen (0: none) unless one is running. */
static void
compress_next(struct logstore *ls, uint32_t gen)
{
	struct ls_job	*job;
	const char	*gz;
	char		 err[PATH_MAX + 128];

	if (!ls->compress || ls->job != NULL || ls->compress_failed ||
	    gen == 0)
		return;
	ls->compress_failed = 1;	/* until it is started */
	if ((gz = gzip_find()) == NULL) {
		ls_fail(ls, "cannot compress: no gzip found");
		return;
	}
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		ls_fail(ls, "compress: out of memory");
		return;
	}
	if ((job->pid = logfs_gzip(&ls->owner, ls->path, gen, gz, err,
	    sizeof(err))) == -1) {
		ls_fail(ls, "%s", err);
		free(job);
		return;
	}
	ls->compress_failed = 0;
	job->ls = ls;
	job->gen = gen;
	LIST_INSERT_HEAD(&jobs, job, entry);
	ls->job = job;
}

int
logstore_child(pid_t pid)
{
	struct ls_job	*job;

	LIST_FOREACH(job, &jobs, entry)
		if (job->pid == pid)
			return (1);
	return (0);
}

int
logstore_reap(pid_t pid, int status)
{
	char		 err[PATH_MAX + 128];
	struct ls_job	*job;
	struct logstore	*ls;
	uint32_t	 next = 0;
	int		 ok;

	LIST_FOREACH(job, &jobs, entry)
		if (job->pid == pid)
			break;
	if (job == NULL)
		return (0);
	LIST_REMOVE(job, entry);
	if ((ls = job->ls) == NULL) {
		free(job);
		return (1);
	}
	ls->job = NULL;
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!ok) {
		ls->compress_failed = 1;
		if (WIFEXITED(status))
			ls_fail(ls, "compress %s.%u: gzip exited with status "
			    "%d", ls->path, job->gen, WEXITSTATUS(status));
		else
			ls_fail(ls, "compress %s.%u: gzip killed by signal %d",
			    ls->path, job->gen, WIFSIGNALED(status) ?
			    WTERMSIG(status) : 0);
	}
	if (logfs_compress_done(&ls->owner, ls->path, job->gen, ok,
	    ls->max_files, &next, err, sizeof(err)) == -1 && ok) {
		ls->compress_failed = 1;
		ls_fail(ls, "%s", err);
	}
	free(job);
	compress_next(ls, next);
	return (1);
}
