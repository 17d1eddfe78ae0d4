/* SPDX-License-Identifier: ISC */
/*
 * daemon.c -- what happens before the event loop exists: the pid file,
 * the control socket and daemonizing.
 *
 * Every step that can fail does so while the launching command still has
 * its terminal, with the reason in a buffer the caller prints.  After the
 * double fork the launcher waits on a pipe until the daemon says it is
 * ready to answer (or why it is not), so its exit status means something.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"
#include "supervisor.h"

static int	dirs_check(const char *, const char *, char *, size_t);
static int	logfile_judge(int, const char *, char *, size_t);
static int	launcher_ready(const char *);

/*
 * Create the missing parents of path.  Directories we create get mode
 * `mode`; when root_owned, also owner root:root (the socket directory,
 * CTR-D006).  Existing directories are left alone.  Owner and mode are
 * set through a descriptor opened O_NOFOLLOW: if somebody swapped a
 * symbolic link in for the new directory, we change nothing it points to
 * (the caller's path_dirs_secure() then refuses their parent directory).
 */
int
mkdir_parents(const char *path, mode_t mode, int root_owned)
{
	char	 buf[PATH_MAX];
	char	*p;
	int	 last, fd, saved;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((p = strrchr(buf, '/')) == NULL || p == buf)
		return (0);
	*p = '\0';
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		last = (*p == '\0');
		*p = '\0';
		if (mkdir(buf, mode) == 0) {
			if ((fd = open(buf, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC)) == -1)
				return (-1);
			/* mkdir's mode is filtered by the umask. */
			if ((root_owned && geteuid() == 0 &&
			    fchown(fd, 0, 0) == -1) || fchmod(fd, mode) == -1) {
				saved = errno;
				close(fd);
				errno = saved;
				return (-1);
			}
			close(fd);
		} else if (errno != EEXIST)
			return (-1);
		if (last)
			break;
		*p = '/';
	}
	return (0);
}

/*
 * The directory of a file of the daemon's own (pid file, log file,
 * metrics file): made if missing, then judged by path_dirs_secure().
 */
int
dir_prepare(const char *what, const char *path, char *err, size_t errlen)
{
	char	why[PATH_MAX + 128];

	if (mkdir_parents(path, 0755, 0) == -1) {
		snprintf(err, errlen, "cannot create the directory of %s: %s",
		    path, strerror(errno));
		return (-1);
	}
	if (path_dirs_secure(path, geteuid(), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path, why);
		return (-1);
	}
	return (0);
}

/*
 * Open and lock the pid file.  The lock lives as long as the descriptor,
 * which survives the forks, so a second daemon cannot take it over.  Its
 * directory must be ours or root's alone (path_dirs_secure()): we create,
 * truncate and at exit unlink the file by name, and a directory another
 * user can write would let them point that name elsewhere.
 */
int
pid_lock(const char *path, char *err, size_t errlen)
{
	char	buf[32];
	ssize_t	n;
	int	fd;

	if (dir_prepare("pid file", path, err, errlen) == -1)
		return (-1);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "pid file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(err, errlen, "pid file %s is locked: another "
			    "apm2d is running%s%s%s", path,
			    buf[0] ? " (pid " : "", buf, buf[0] ? ")" : "");
		} else
			snprintf(err, errlen, "pid file %s: lock: %s", path,
			    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * The directories path would be made in, judged as the daemon will judge
 * them once made: from the deepest one that exists up to "/".  Those it
 * creates are its own, 0755 or 0700, and pass.
 */
static int
dirs_check(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		 buf[PATH_MAX], probe[PATH_MAX + 8], why[PATH_MAX + 128];
	char		*p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, errlen, "%s %s: %s", what, path,
		    strerror(ENAMETOOLONG));
		return (-1);
	}
	for (;;) {
		if ((p = strrchr(buf, '/')) == NULL)
			break;
		*p = '\0';
		if (buf[0] == '\0' || (stat(buf, &st) == 0 &&
		    S_ISDIR(st.st_mode)))
			break;
	}
	snprintf(probe, sizeof(probe), "%s/x", buf);
	if (path_dirs_secure(probe, geteuid(), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path, why);
		return (-1);
	}
	return (0);
}

/*
 * What the daemon checks before it starts, without changing anything:
 * "apm2d -n" runs it too, so that a configuration it calls OK is one the
 * daemon takes.  Fatal problems go to err (-1); a problem the daemon
 * only warns about (the state file is then not used) goes to warn.
 */
int
daemon_preflight(const struct daemon_config *dc, char *err, size_t errlen,
    char *warn, size_t warnlen)
{
	struct stat	st;
	int		fd;

	warn[0] = '\0';
	if (geteuid() == 0) {
		if (!dc->user_found) {
			snprintf(err, errlen, "user %s does not exist: create "
			    "it (make install does) or set [daemon] user",
			    dc->user);
			return (-1);
		}
		if (!dc->log_user_found) {
			snprintf(err, errlen, "user %s does not exist: create "
			    "it (make install does) or set [daemon] log_user",
			    dc->log_user);
			return (-1);
		}
		if (stat(dc->chroot, &st) == -1 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "chroot directory %s: %s",
			    dc->chroot, errno ? strerror(errno) :
			    "not a directory");
			return (-1);
		}
	}
	if (dirs_check("pid file", dc->pid_file, err, errlen) == -1 ||
	    dirs_check("socket", dc->socket, err, errlen) == -1)
		return (-1);
	if (lstat(dc->socket, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket",
		    dc->socket);
		return (-1);
	}
	if (dc->log_file != NULL) {
		if (dirs_check("log file", dc->log_file, err, errlen) == -1)
			return (-1);
		fd = open(dc->log_file, O_WRONLY | O_APPEND | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);
		if (fd == -1 && errno != ENOENT) {
			snprintf(err, errlen, "log file %s: %s", dc->log_file,
			    strerror(errno));
			return (-1);
		}
		if (fd != -1 && logfile_judge(fd, dc->log_file, err,
		    errlen) == -1) {
			close(fd);
			return (-1);
		}
		if (fd != -1)
			close(fd);
	}
	if (dc->metrics_file != NULL && dirs_check("metrics file",
	    dc->metrics_file, err, errlen) == -1)
		return (-1);
	if (dirs_check("state file", dc->state_file, warn, warnlen) == -1)
		strlcat(warn, ": not used", warnlen);
	return (0);
}

/*
 * Open [daemon] log_file for appending: the daemon's own lines go there
 * instead of to syslog.  The same rule as the pid file: a directory only
 * we (or root) can change, then a regular file of ours with one link,
 * opened without following a link and judged by the descriptor.  A new
 * file is 0640; an existing one keeps its mode (logrotate's "create" sets
 * it) unless group or others could write it, which is refused.
 */
int
logfile_open(const char *path, char *err, size_t errlen)
{
	int		fd;

	if (dir_prepare("log file", path, err, errlen) == -1)
		return (-1);
	/* O_NONBLOCK: a FIFO without a reader fails instead of hanging. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0640);
	if (fd == -1) {
		snprintf(err, errlen, "log file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (logfile_judge(fd, path, err, errlen) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* An open log file is ours alone: regular, one link, not shared. */
static int
logfile_judge(int fd, const char *path, char *err, size_t errlen)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		snprintf(err, errlen, "log file %s: %s", path,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(err, errlen, "log file %s: not a regular file", path);
	else if (st.st_uid != geteuid())
		snprintf(err, errlen, "log file %s: owned by uid %lu, not by "
		    "uid %lu", path, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
	else if (st.st_nlink != 1)
		snprintf(err, errlen, "log file %s: has %lu links", path,
		    (unsigned long)st.st_nlink);
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		snprintf(err, errlen, "log file %s: writable by group or "
		    "others (mode %04o)", path,
		    (unsigned int)(st.st_mode & 07777));
	else if (fcntl(fd, F_SETFL, O_APPEND) == -1)
		snprintf(err, errlen, "log file %s: fcntl: %s", path,
		    strerror(errno));
	else
		return (0);
	return (-1);
}

/* The final pid and a newline, written after daemonizing (CTR-D014). */
int
pid_write(int fd)
{
	char	buf[32];
	int	len;

	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, len, 0) != len)
		return (-1);
	return (0);
}

/*
 * Is somebody answering on this socket path?  1 yes, 0 no (stale),
 * -1 cannot tell.
 */
static int
socket_alive(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0)
		return (1);
	if (errno == ECONNREFUSED || errno == ENOENT)
		return (0);
	return (-1);
}

/*
 * Bind and listen on the control socket.  A file left by a dead daemon is
 * removed, but only after connect() shows nobody answers on it: upstream
 * deleted a live daemon's socket (CTR-D005 done right).  The directory
 * must be ours or root's alone (path_dirs_secure()), so the name we
 * remove, bind and chown cannot be pointed elsewhere by anyone else.
 */
int
control_listen(const struct daemon_config *dc, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	char			 why[PATH_MAX + 128];
	mode_t			 old;
	int			 fd, alive;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, dc->socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", dc->socket);
		return (-1);
	}
	if (mkdir_parents(dc->socket, 0755, 1) == -1) {
		snprintf(err, errlen, "cannot create the directory of %s: %s",
		    dc->socket, strerror(errno));
		return (-1);
	}
	if (path_dirs_secure(dc->socket, geteuid(), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "socket %s: %s", dc->socket, why);
		return (-1);
	}
	if (lstat(dc->socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
			    dc->socket);
			return (-1);
		}
		alive = socket_alive(dc->socket);
		if (alive == 1) {
			snprintf(err, errlen, "socket %s is in use: another "
			    "daemon is answering on it", dc->socket);
			return (-1);
		}
		if (alive == -1) {
			snprintf(err, errlen, "socket %s: cannot tell whether "
			    "it is in use: %s", dc->socket, strerror(errno));
			return (-1);
		}
		if (unlink(dc->socket) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove stale socket %s: "
			    "%s", dc->socket, strerror(errno));
			return (-1);
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	/*
	 * bind() creates the socket with mode 0777 & ~umask: the mode is
	 * right from the start, and nothing is changed by path afterwards.
	 */
	old = umask(~dc->socket_mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", dc->socket,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	/* Not listening yet: nobody gets in before the group is right. */
	if (dc->socket_group != NULL && fchownat(AT_FDCWD, dc->socket,
	    (uid_t)-1, dc->socket_gid, AT_SYMLINK_NOFOLLOW) == -1) {
		snprintf(err, errlen, "%s: %s", dc->socket, strerror(errno));
		unlink(dc->socket);
		close(fd);
		return (-1);
	}
	if (listen(fd, CONTROL_BACKLOG) == -1) {
		snprintf(err, errlen, "listen %s: %s", dc->socket,
		    strerror(errno));
		unlink(dc->socket);
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Double fork, new session, cwd "/", stdio on /dev/null, umask 022.  The
 * launcher (the original process) waits on a pipe for the daemon's word:
 * "OK" and exit 0, or a reason printed and exit 1.  Returns the write end
 * of that pipe in the daemon.
 */
int
daemonize(char *err, size_t errlen)
{
	char		 buf[1024];
	struct pollfd	 pfd;
	size_t		 off = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], fd, r;
	time_t		 deadline;

	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return (-1);
	}
	switch ((pid = fork())) {
	case -1:
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return (-1);
	case 0:
		break;
	default:
		/* The launcher: wait for the daemon's verdict. */
		close(p[1]);
		deadline = time(NULL) + LAUNCH_READY_TIMEOUT;
		for (;;) {
			pfd.fd = p[0];
			pfd.events = POLLIN;
			r = poll(&pfd, 1, 1000);
			if (r == -1 && errno != EINTR)
				break;
			if (r > 0) {
				n = read(p[0], buf + off,
				    sizeof(buf) - 1 - off);
				if (n <= 0)
					break;
				off += n;
				if (off == sizeof(buf) - 1)
					break;
				/*
				 * "OK <pid>" is the whole verdict: the daemon
				 * may keep the pipe open (notify.c).
				 */
				buf[off] = '\0';
				if (strncmp(buf, "OK ", 3) == 0 &&
				    strchr(buf, '\n') != NULL)
					break;
			}
			if (time(NULL) >= deadline) {
				fprintf(stderr, "apm2d: the daemon did not "
				    "report ready within %d s\n",
				    LAUNCH_READY_TIMEOUT);
				_exit(1);
			}
		}
		buf[off] = '\0';
		if (strncmp(buf, "OK ", 3) == 0 && launcher_ready(buf + 3) == 0)
			_exit(0);
		if (off == 0)
			fprintf(stderr, "apm2d: the daemon exited during "
			    "start-up\n");
		else
			fprintf(stderr, "apm2d: %s", buf);
		_exit(1);
	}

	close(p[0]);
	if (setsid() == -1)
		_exit(1);
	switch (fork()) {
	case -1:
		n = snprintf(buf, sizeof(buf), "fork: %s\n", strerror(errno));
		if (write(p[1], buf, n) == -1)
			_exit(1);
		_exit(1);
	case 0:
		break;
	default:
		_exit(0);
	}
	if (chdir("/") == -1)
		_exit(1);
	umask(022);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return (p[1]);
}

/*
 * The daemon, pid "<pid>\n", is ready.  A service manager that started
 * us knows only the launcher and, with NotifyAccess=main, listens to it
 * alone: the launcher tells it which process the daemon is.
 */
static int
launcher_ready(const char *s)
{
	char		 num[32];
	const char	*errstr;
	long long	 pid;

	strlcpy(num, s, sizeof(num));
	num[strcspn(num, "\n")] = '\0';
	pid = strtonum(num, 1, INT_MAX, &errstr);
	if (errstr != NULL)
		return (-1);
	(void)sdnotify_send("MAINPID=%lld\nREADY=1", pid);
	return (0);
}

/* Tell the launcher how start-up went; NULL means ready. */
void
daemon_ready(int fd, const char *why)
{
	char	buf[1024];
	int	len;

	if (fd == -1)
		return;
	if (why == NULL)
		len = snprintf(buf, sizeof(buf), "OK %ld\n", (long)getpid());
	else
		len = snprintf(buf, sizeof(buf), "%s\n", why);
	if (len > (int)sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	if (len > 0 && write(fd, buf, len) == -1)
		log_warn("cannot report to the launcher");
	close(fd);
}
