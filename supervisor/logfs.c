/* SPDX-License-Identifier: ISC */
/*
 * logfs.c -- log files' directories, opens, rotations and compressions
 * with no more rights than their process (see logfs.h).
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "logfs.h"
#include "sysutil.h"

#define DIRFL		(O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#define FILEFL		(O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | \
			    O_CLOEXEC)
#define LINKS_MAX	16		/* symbolic links on one path */
#define CHILD_WAIT_MS	10000		/* an operation as the owner */

enum fskind {
	FS_OPEN,
	FS_ROTATE,
	FS_DONE
};

/* One operation on the file base of a directory. */
struct fsop {
	enum fskind		 kind;
	const struct logowner	*o;
	const char		*path;		/* for messages */
	const char		*base;
	uint32_t		 max_files;
	int			 compress;
	uint32_t		 gen;		/* FS_DONE */
	int			 ok;		/* FS_DONE */
	int			 busy;		/* FS_OPEN: gzip is running */
};

/* Its result; crosses the socket from a child as it is. */
struct fsres {
	int			 err;		/* errno; 0: done */
	uint32_t		 run;
	uint32_t		 next;
	char			 msg[PATH_MAX + 128];
};

static int	 trusted(const struct stat *);
static int	 ours(const struct stat *);
static int	 dir_walk(const char *, char *, size_t);
static int	 dir_as_owner(const char *);
static int	 split(const char *, char *, size_t, const char **);
static void	 gen_name(const char *, uint32_t, int, char *, size_t);
static int	 gen_exists(int, const char *, uint32_t);
static void	 scan(int, const struct fsop *, struct fsres *);
static int	 file_open(int, const struct fsop *, struct fsres *);
static int	 file_rotate(int, const struct fsop *, struct fsres *);
static int	 file_done(int, const struct fsop *, struct fsres *);
static int	 op_in(int, const struct fsop *, struct fsres *);
static int	 op_run(struct fsop *, struct fsres *);
static int	 op_as_owner(const char *, const struct fsop *,
		    struct fsres *);
static int	 op_call(struct fsop *, uint32_t *, uint32_t *, char *,
		    size_t);
static int	 res_send(int, const struct fsres *, int);
static int	 res_recv(int, struct fsres *, int *);
static void	 fail(struct fsres *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

int
logowner_copy(struct logowner *dst, const struct logowner *src)
{
	*dst = *src;
	dst->groups = NULL;
	if (src->ngroups > 0) {
		dst->groups = reallocarray(NULL, (size_t)src->ngroups,
		    sizeof(gid_t));
		if (dst->groups == NULL)
			return (-1);
		memcpy(dst->groups, src->groups,
		    (size_t)src->ngroups * sizeof(gid_t));
	}
	return (0);
}

void
logowner_clear(struct logowner *o)
{
	free(o->groups);
	o->groups = NULL;
	o->ngroups = 0;
}

static void
fail(struct fsres *r, const char *fmt, ...)
{
	va_list	ap;
	int	e = errno;

	va_start(ap, fmt);
	(void)vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->err = e != 0 ? e : EPERM;
}

/* Owned by root or by us. */
static int
ours(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid());
}

/* Ours, and nobody else may change what it holds. */
static int
trusted(const struct stat *st)
{
	return (ours(st) && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0);
}

/*
 * Open dir (absolute) one component at a time (see logfs.h, Trusted
 * directory), creating what is missing.  The descriptor, or -1 with
 * errno and a message in why.
 */
static int
dir_walk(const char *dir, char *why, size_t whylen)
{
	char		 work[PATH_MAX], tmp[PATH_MAX], comp[NAME_MAX + 1];
	char		 seen[PATH_MAX];
	struct stat	 cst, st;
	const char	*p;
	size_t		 n;
	ssize_t		 ln;
	int		 cur, fd, links = 0, made, e;

	if (strlcpy(work, dir, sizeof(work)) >= sizeof(work)) {
		errno = ENAMETOOLONG;
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	if ((cur = open("/", DIRFL)) == -1 || fstat(cur, &cst) == -1)
		goto err;
	seen[0] = '\0';
	for (p = work;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto err;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (strcmp(comp, ".") == 0)
			continue;
		(void)strlcat(seen, "/", sizeof(seen));
		(void)strlcat(seen, comp, sizeof(seen));
		made = 0;
		fd = openat(cur, comp, DIRFL | O_NOFOLLOW);
		if (fd == -1 && errno == ENOENT) {
			/* Never make a directory where others can swap it. */
			if (!trusted(&cst) && (cst.st_mode & S_ISVTX) == 0) {
				errno = EPERM;
				snprintf(why, whylen, "%s: its directory can be "
				    "changed by others", seen);
				goto out;
			}
			if (mkdirat(cur, comp, LOGFS_DIR_MODE) == 0)
				made = 1;
			else if (errno != EEXIST)
				goto err;
			fd = openat(cur, comp, DIRFL | O_NOFOLLOW);
		}
		if (fd == -1 && (errno == ELOOP || errno == ENOTDIR) &&
		    fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode)) {
			if (!trusted(&cst) || !ours(&st)) {
				errno = EPERM;
				snprintf(why, whylen, "symbolic link %s: it or "
				    "its directory can be changed by others",
				    seen);
				goto out;
			}
			if (++links > LINKS_MAX) {
				errno = ELOOP;
				goto err;
			}
			if ((ln = readlinkat(cur, comp, tmp,
			    sizeof(tmp) - 1)) == -1)
				goto err;
			tmp[ln] = '\0';
			if (strlcat(tmp, "/", sizeof(tmp)) >= sizeof(tmp) ||
			    strlcat(tmp, p, sizeof(tmp)) >= sizeof(tmp)) {
				errno = ENAMETOOLONG;
				goto err;
			}
			(void)strlcpy(work, tmp, sizeof(work));
			p = work;
			if (work[0] == '/') {
				close(cur);
				if ((cur = open("/", DIRFL)) == -1 ||
				    fstat(cur, &cst) == -1)
					goto err;
				seen[0] = '\0';
			} else
				*strrchr(seen, '/') = '\0';
			continue;
		}
		if (fd == -1)
			goto err;
		if (fstat(fd, &st) == -1 ||
		    (made && fchmod(fd, LOGFS_DIR_MODE) == -1)) {
			close(fd);
			goto err;
		}
		close(cur);
		cur = fd;
		/* An open directory is crossed only if nobody can swap it. */
		if (!trusted(&cst) &&
		    ((cst.st_mode & S_ISVTX) == 0 || !ours(&st))) {
			errno = EPERM;
			snprintf(why, whylen, "%s: a directory on its way can be "
			    "changed by others", seen);
			goto out;
		}
		cst = st;
	}
	if (!trusted(&cst)) {
		errno = EPERM;
		snprintf(why, whylen, "%s: writable by others than %s", dir,
		    geteuid() == 0 ? "root" : "the daemon's user");
		goto out;
	}
	return (cur);
 err:
	snprintf(why, whylen, "%s: %s", seen[0] != '\0' ? seen : dir,
	    strerror(errno));
 out:
	if (cur != -1) {
		e = errno;
		close(cur);
		errno = e;
	}
	return (-1);
}

/* In a child that is the owner now: mkdir -p and open dir. */
static int
dir_as_owner(const char *dir)
{
	char	 d[PATH_MAX], *p;

	if (strlcpy(d, dir, sizeof(d)) >= sizeof(d)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (p = d + 1; *p != '\0'; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		if (mkdir(d, LOGFS_DIR_MODE) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(d, LOGFS_DIR_MODE) == -1 && errno != EEXIST)
		return (-1);
	return (open(d, DIRFL));
}

/* The directory of path in dir, its last component in *basep. */
static int
split(const char *path, char *dir, size_t len, const char **basep)
{
	const char	*s;

	if (path[0] != '/' || (s = strrchr(path, '/'))[1] == '\0' ||
	    (size_t)(s - path) + 1 >= len) {
		errno = EINVAL;
		return (-1);
	}
	memcpy(dir, path, (size_t)(s - path));
	dir[s - path] = '\0';
	if (dir[0] == '\0')
		(void)strlcpy(dir, "/", len);
	*basep = s + 1;
	return (0);
}

static void
gen_name(const char *base, uint32_t i, int gz, char *buf, size_t len)
{
	if (i == 0)
		(void)snprintf(buf, len, "%s%s", base, LOGFS_TMP_SUFFIX);
	else
		(void)snprintf(buf, len, "%s.%u%s", base, i, gz ? ".gz" : "");
}

/* Bit 1: <base>.<i> exists; bit 2: <base>.<i>.gz does. */
static int
gen_exists(int dfd, const char *base, uint32_t i)
{
	char		name[PATH_MAX];
	struct stat	st;
	int		r = 0, gz;

	for (gz = 0; gz < 2; gz++) {
		gen_name(base, i, gz, name, sizeof(name));
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			r |= 1 << gz;
	}
	return (r);
}

/* The generation to compress next; plain leftovers of .gz go. */
static void
scan(int dfd, const struct fsop *op, struct fsres *r)
{
	char		name[PATH_MAX];
	uint32_t	i;
	int		e;

	r->next = 0;
	if (!op->compress)
		return;
	for (i = 1; i <= op->max_files; i++) {
		if ((e = gen_exists(dfd, op->base, i)) == 0)
			return;
		if (e == 3) {
			gen_name(op->base, i, 0, name, sizeof(name));
			(void)unlinkat(dfd, name, 0);
		} else if (e == 1) {
			r->next = i;
			return;
		}
	}
}

static int
file_open(int dfd, const struct fsop *op, struct fsres *r)
{
	const struct logowner *o = op->o;
	char		 tmp[PATH_MAX];
	struct stat	 st;
	int		 fd = -1, created = 0, tries;

	for (tries = 0; tries < 3 && fd == -1; tries++) {
		if ((fd = openat(dfd, op->base, FILEFL | O_CREAT | O_EXCL,
		    LOGFS_FILE_MODE)) != -1)
			created = 1;
		else if (errno == EEXIST)
			fd = openat(dfd, op->base, FILEFL);
		if (fd == -1 && errno != ENOENT && errno != EEXIST)
			break;
	}
	if (fd == -1 || fstat(fd, &st) == -1)
		goto err;
	if (!S_ISREG(st.st_mode))
		return (fd);	/* /dev/null, a FIFO: as it is */
	if (created) {
		if (fchmod(fd, LOGFS_FILE_MODE) == -1 ||
		    ((st.st_uid != o->uid || st.st_gid != o->gid) &&
		    fchown(fd, o->uid, o->gid) == -1))
			goto err;
	} else if (st.st_nlink != 1) {
		errno = EMLINK;
		fail(r, "%s: refused: it has %lu links", op->path,
		    (unsigned long)st.st_nlink);
		goto out;
	} else if (st.st_uid != o->uid) {
		errno = EPERM;
		fail(r, "%s: refused: it belongs to uid %lu, not %lu",
		    op->path, (unsigned long)st.st_uid, (unsigned long)o->uid);
		goto out;
	} else if ((st.st_mode & 07777) != LOGFS_FILE_MODE &&
	    fchmod(fd, LOGFS_FILE_MODE) == -1)
		goto err;
	if (op->kind == FS_OPEN && !op->busy) {
		/* What an unfinished compression left. */
		gen_name(op->base, 0, 0, tmp, sizeof(tmp));
		(void)unlinkat(dfd, tmp, 0);
	}
	scan(dfd, op, r);
	return (fd);
 err:
	fail(r, "%s: %s", op->path, strerror(errno));
 out:
	if (fd != -1)
		close(fd);
	return (-1);
}

static int
file_rotate(int dfd, const struct fsop *op, struct fsres *r)
{
	char		 from[PATH_MAX], to[PATH_MAX];
	uint32_t	 g, i;
	int		 fd, k;

	/* The contiguous run .1 .. .g; the oldest beyond max_files goes. */
	for (g = 0; g < op->max_files && gen_exists(dfd, op->base, g + 1);
	    g++)
		;
	r->run = g;
	if (g == op->max_files) {
		for (k = 0; k < 2; k++) {
			gen_name(op->base, g, k, from, sizeof(from));
			if (unlinkat(dfd, from, 0) == -1 && errno != ENOENT)
				goto err;
		}
		g--;
	}
	for (i = g; i >= 1; i--)
		for (k = 0; k < 2; k++) {
			gen_name(op->base, i, k, from, sizeof(from));
			gen_name(op->base, i + 1, k, to, sizeof(to));
			if (renameat(dfd, from, dfd, to) == -1 &&
			    errno != ENOENT)
				goto err;
		}
	gen_name(op->base, 1, 0, to, sizeof(to));
	if (renameat(dfd, op->base, dfd, to) == -1)
		goto err;
	if ((fd = file_open(dfd, op, r)) == -1) {
		/* Put the file back: writing goes on where it was. */
		(void)renameat(dfd, to, dfd, op->base);
		return (-1);
	}
	return (fd);
 err:
	fail(r, "rotate %s: %s", op->path, strerror(errno));
	return (-1);
}

static int
file_done(int dfd, const struct fsop *op, struct fsres *r)
{
	char	 tmp[PATH_MAX], name[PATH_MAX];

	gen_name(op->base, 0, 0, tmp, sizeof(tmp));
	if (op->ok && op->gen > 0) {
		gen_name(op->base, op->gen, 1, name, sizeof(name));
		if (renameat(dfd, tmp, dfd, name) == -1) {
			fail(r, "rename %s%s: %s", op->path, LOGFS_TMP_SUFFIX,
			    strerror(errno));
			(void)unlinkat(dfd, tmp, 0);
			return (-1);
		}
		gen_name(op->base, op->gen, 0, name, sizeof(name));
		(void)unlinkat(dfd, name, 0);
	} else
		(void)unlinkat(dfd, tmp, 0);
	scan(dfd, op, r);
	return (0);
}

static int
op_in(int dfd, const struct fsop *op, struct fsres *r)
{
	switch (op->kind) {
	case FS_OPEN:
		return (file_open(dfd, op, r));
	case FS_ROTATE:
		return (file_rotate(dfd, op, r));
	case FS_DONE:
		return (file_done(dfd, op, r));
	}
	return (-1);
}

/* Run op where logfs.h says: here, as the owner, or not at all. */
static int
op_run(struct fsop *op, struct fsres *r)
{
	char	 dir[PATH_MAX], why[PATH_MAX + 64];
	int	 dfd, fd;

	memset(r, 0, sizeof(*r));
	if (split(op->path, dir, sizeof(dir), &op->base) == -1) {
		fail(r, "%s: not an absolute file name", op->path);
		return (-1);
	}
	if ((dfd = dir_walk(dir, why, sizeof(why))) != -1) {
		fd = op_in(dfd, op, r);
		close(dfd);
		return (fd);
	}
	if (op->o->setid && geteuid() == 0 && op->o->uid != 0)
		return (op_as_owner(dir, op, r));
	fail(r, "%s: %s", op->path, why);
	return (-1);
}

/*
 * In a child that switched to the owner for good; the result and the
 * descriptor come back over a socket.  The loop waits (at most
 * CHILD_WAIT_MS): these are a few system calls on one directory.
 */
static int
op_as_owner(const char *dir, const struct fsop *op, struct fsres *r)
{
	const struct logowner *o = op->o;
	struct pollfd	 pfd;
	sigset_t	 all;
	pid_t		 pid;
	int		 sv[2], fd = -1, dfd, n, st;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		fail(r, "%s: socketpair: %s", op->path, strerror(errno));
		return (-1);
	}
	if ((pid = fork()) == -1) {
		fail(r, "%s: fork: %s", op->path, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return (-1);
	}
	if (pid == 0) {
		/* Signals meant for the daemon wait and die with us. */
		sigfillset(&all);
		(void)sigprocmask(SIG_SETMASK, &all, NULL);
		close(sv[0]);
		(void)umask(027);
		if (child_setids(o->uid, o->gid, o->groups, o->ngroups) == -1)
			fail(r, "%s: cannot act as uid %lu: %s", op->path,
			    (unsigned long)o->uid, strerror(errno));
		else if ((dfd = dir_as_owner(dir)) == -1)
			fail(r, "%s: %s: %s", op->path, dir, strerror(errno));
		else
			fd = op_in(dfd, op, r);
		(void)res_send(sv[1], r, fd);
		_exit(0);
	}
	close(sv[1]);
	pfd.fd = sv[0];
	pfd.events = POLLIN;
	while ((n = poll(&pfd, 1, CHILD_WAIT_MS)) == -1 && errno == EINTR)
		;
	if (n != 1 || res_recv(sv[0], r, &fd) == -1) {
		if (n == 0)
			errno = ETIMEDOUT;
		fail(r, "%s: as uid %lu: %s", op->path, (unsigned long)o->uid,
		    strerror(errno != 0 ? errno : EIO));
		(void)kill(pid, SIGKILL);
		fd = -1;
	}
	close(sv[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (r->err != 0 && fd != -1) {
		close(fd);
		fd = -1;
	}
	return (fd);
}

static int
res_send(int s, const struct fsres *r, int fd)
{
	return (fd_send(s, r, sizeof(*r), fd) == (ssize_t)sizeof(*r) ? 0 : -1);
}

static int
res_recv(int s, struct fsres *r, int *fdp)
{
	ssize_t	n;

	if ((n = fd_recv(s, r, sizeof(*r), MSG_WAITALL, fdp)) !=
	    (ssize_t)sizeof(*r)) {
		if (*fdp != -1)
			close(*fdp);
		*fdp = -1;
		if (n != -1)
			errno = EIO;
		return (-1);
	}
	r->msg[sizeof(r->msg) - 1] = '\0';
	return (0);
}

/* op_run() for the calls below: the message and the results out. */
static int
op_call(struct fsop *op, uint32_t *runp, uint32_t *nextp, char *err,
    size_t errlen)
{
	struct fsres	 r;
	int		 rv;

	if ((rv = op_run(op, &r)) == -1)
		(void)strlcpy(err, r.msg, errlen);
	if (runp != NULL)
		*runp = r.run;
	*nextp = r.next;
	return (rv);
}

int
logfs_open(const struct logowner *o, const char *path, int compress,
    uint32_t max_files, int busy, uint32_t *nextp, char *err, size_t errlen)
{
	struct fsop	 op = { .kind = FS_OPEN, .o = o, .path = path,
			    .compress = compress, .max_files = max_files,
			    .busy = busy };

	return (op_call(&op, NULL, nextp, err, errlen));
}

int
logfs_rotate(const struct logowner *o, const char *path, uint32_t max_files,
    int compress, uint32_t *runp, uint32_t *nextp, char *err, size_t errlen)
{
	struct fsop	 op = { .kind = FS_ROTATE, .o = o, .path = path,
			    .compress = compress, .max_files = max_files };

	return (op_call(&op, runp, nextp, err, errlen));
}

int
logfs_compress_done(const struct logowner *o, const char *path,
    uint32_t gen, int ok, uint32_t max_files, uint32_t *nextp, char *err,
    size_t errlen)
{
	struct fsop	 op = { .kind = FS_DONE, .o = o, .path = path,
			    .compress = 1, .max_files = max_files, .gen = gen,
			    .ok = ok };

	return (op_call(&op, NULL, nextp, err, errlen));
}

/*
 * Wait (at most CHILD_WAIT_MS) for the child to report on pipe fd: EOF
 * when it reached exec, else the errno with which it gave up.
 */
static int
child_wait_exec(int fd)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 e = 0;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((n = poll(&pfd, 1, CHILD_WAIT_MS)) == -1 && errno == EINTR)
		;
	if (n == 0)
		return (ETIMEDOUT);
	while ((n = read(fd, &e, sizeof(e))) == -1 && errno == EINTR)
		;
	if (n == 0)
		return (0);
	return (n == (ssize_t)sizeof(e) && e != 0 ? e : EIO);
}

pid_t
logfs_gzip(const struct logowner *o, const char *path, uint32_t gen,
    const char *gzip, char *err, size_t errlen)
{
	char *const	 argv[] = { "gzip", "-c", NULL };
	char		 dir[PATH_MAX], why[PATH_MAX + 128];
	char		 in_name[PATH_MAX], tmp[PATH_MAX];
	const char	*base;
	sigset_t	 set;
	pid_t		 pid;
	int		 dfd, in, out, asowner, p[2], e, st;

	if (split(path, dir, sizeof(dir), &base) == -1) {
		snprintf(err, errlen, "%s: not an absolute file name", path);
		return (-1);
	}
	gen_name(base, gen, 0, in_name, sizeof(in_name));
	gen_name(base, 0, 0, tmp, sizeof(tmp));
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "compress %s: pipe: %s", path,
		    strerror(errno));
		return (-1);
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "compress %s: fork: %s", path,
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return (-1);
	}
	if (pid != 0) {
		close(p[1]);
		e = child_wait_exec(p[0]);
		close(p[0]);
		if (e == 0)
			return (pid);
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		snprintf(err, errlen, "compress %s.%u: %s", path, gen,
		    strerror(e));
		return (-1);
	}
	/* Signals meant for the daemon wait until the exec. */
	sigfillset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	close(p[0]);
	(void)umask(027);
	asowner = o->setid && geteuid() == 0 && o->uid != 0;
	if ((dfd = dir_walk(dir, why, sizeof(why))) == -1) {
		if (!asowner ||
		    child_setids(o->uid, o->gid, o->groups, o->ngroups) == -1 ||
		    (dfd = dir_as_owner(dir)) == -1)
			goto fail;
		asowner = 0;
	}
	(void)unlinkat(dfd, tmp, 0);
	if ((in = openat(dfd, in_name, O_RDONLY | O_NOFOLLOW)) == -1 ||
	    (out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
	    LOGFS_FILE_MODE)) == -1 ||
	    fchmod(out, LOGFS_FILE_MODE) == -1 ||
	    (geteuid() == 0 && fchown(out, o->uid, o->gid) == -1) ||
	    (asowner &&
	    child_setids(o->uid, o->gid, o->groups, o->ngroups) == -1) ||
	    dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1)
		goto fail;
	(void)setpriority(PRIO_PROCESS, 0, 10);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	execv(gzip, argv);
 fail:
	e = errno;
	if (write(p[1], &e, sizeof(e)) == -1)
		_exit(127);
	_exit(126);
}
