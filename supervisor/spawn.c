/* SPDX-License-Identifier: ISC */
/*
 * spawn.c -- starting agents: clone/exec on Linux, fork/exec elsewhere.
 *
 * Everything the child needs (argv, envp, groups, paths) is built before
 * the child exists, and until it execs the child only makes system calls
 * on that data (raw ones for the credentials), then reports a failure
 * through a close-on-exec pipe and _exits: EOF on the pipe means the
 * exec happened.
 *
 * On Linux the child is made by clone(CLONE_VM | CLONE_VFORK) on a stack
 * of its own (64 KiB, mapped once, a guard page below).  It shares our
 * memory instead of getting a copy of our page tables, so a spawn no
 * longer costs more as the supervisor grows.  Measured on a loaded
 * 2-core VM: a spawn of sleep cost its parent 0.39 ms of CPU with fork,
 * 5.7 ms once the parent held 256 MiB, against 0.21 and 0.25 ms with
 * clone (bench/spawnbench.c); bringing 5,000 instances to Running cost
 * the supervisor 22 s of CPU with fork and 9.4 s with clone, most of
 * what is left being the creation of the log files.  CLONE_VFORK
 * suspends us until the child has called execve() or _exit(), hence:
 *  - one stack serves every child: the supervisor is single-threaded
 *    (a second thread spawning at the same time would need its own);
 *  - argv, envp and sharg outlive the child's use of them;
 *  - the child may write our memory meanwhile, and does so only on its
 *    stack, in sharg[1] and in errno (ours: spawn_process() restores
 *    it).  No CLONE_FILES, CLONE_FS or CLONE_SIGHAND: the descriptors,
 *    cwd, umask and dispositions the child changes are its own copies.
 *    What it changes in the memory itself: its switch of credentials
 *    makes it undumpable, which we undo for ourselves.
 *    The descriptor table is still copied, but ours is small (13 at
 *    5,000 instances: the pipes and files go to the logger).
 * Being suspended costs less than fork's copy: a lone restart keeps us
 * 0.6 ms (fork: 0.7 to 0.9 ms, by strace -T), and 100, 1,000 and 5,000
 * instances reach Running in 0.54, 6.4 and 52 s against 0.66, 8.5 and
 * 86 s with fork (when vfork was first tried here, the execs one after
 * another made it slower; no longer).
 *
 * But while we are suspended, the child holds us: a child that has
 * switched to another user can be stopped by that user (SIGSTOP between
 * its setresuid() and its execve(); tried: nobody stopping every new
 * pid it may signal held a root parent 3 s, as long as it liked, 10
 * times in 30 s), or hang in chdir() or execve() on a file system that
 * user serves (FUSE under its home).  A less privileged user must not
 * be able to stop the supervisor, so a child that changes to a uid
 * other than ours is forked, as before; clone serves the children that
 * stay with our uid (no user given, or the daemon's own).
 *
 * The child joins its cgroup by writing cgroup.procs while we wait.  A
 * move takes the cgroup core's global lock, which costs an RCU grace
 * period when no other move in the system came just before: up to 2 or
 * 3 ms for a lone restart, little in a burst of starts.  A child born
 * in its cgroup, clone3(CLONE_INTO_CGROUP), was measured no cheaper for
 * a lone spawn (1.7 ms), and with CLONE_VM it needs a hand-written
 * trampoline (a syscall() wrapper cannot return on the child's fresh
 * stack); without CLONE_VM it copies the page tables again.  So: the
 * write.
 *
 * All signals are blocked across the clone (or fork) so that none of
 * our handlers (libevent's, which write to its signal socket) can run
 * in the child, on our memory; the child resets every disposition, then
 * empties its mask.  Elsewhere (OpenBSD), and if the stack cannot be
 * mapped, plain fork() with the same child code.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#ifdef __linux__
#include <sched.h>
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"

#ifdef __linux__
#define SPAWN_CLONE	1	/* clone(CLONE_VM | CLONE_VFORK) */
#endif

/*
 * The child of clone() runs on a stack AddressSanitizer does not know:
 * no instrumentation there (before _exit it would "unpoison" from that
 * stack up to ours and report overflows that are not).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_SIDE	__attribute__((__no_sanitize_address__))
#endif
#endif
#if !defined(CHILD_SIDE) && defined(__SANITIZE_ADDRESS__)
#define CHILD_SIDE	__attribute__((__no_sanitize_address__))
#endif
#ifndef CHILD_SIDE
#define CHILD_SIDE
#endif

#define SHELL_PATH	"/bin/sh"
#ifdef __OpenBSD__
#define DEFAULT_PATH	"/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin"
#else
#define DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
#endif

/* What the child of clone() gets: all of it lives in our memory. */
struct child_arg {
	const struct spawn_req	 *r;
	char			**sharg;
	int			  wfd;
	pid_t			  parent;
};

static pid_t	make_child(const struct spawn_req *, char **, int, pid_t);
#ifdef SPAWN_CLONE
static char	*clone_stack(void);
static int	child_main(void *) CHILD_SIDE;
#endif
static int	child_limits(const struct limits_config *) CHILD_SIDE;
static void	spawn_child(const struct spawn_req *, char **, int, pid_t)
		    __attribute__((__noreturn__)) CHILD_SIDE;
static void	child_closefds(int) CHILD_SIDE;
static void	child_exec(const struct spawn_req *, char **) CHILD_SIDE;
static void	child_try(const char *, const struct spawn_req *, char **)
		    CHILD_SIDE;
int		child_setids(uid_t, gid_t, const gid_t *, int) CHILD_SIDE;

pid_t
spawn_process(const struct spawn_req *r, int *statusfd)
{
	sigset_t	 all, old;
	char		**sharg;
	size_t		 argc, i;
	pid_t		 pid;
	int		 sp[2], e, olderrno = errno;

	for (argc = 0; r->argv[argc] != NULL; argc++)
		;
	/* For a script without "#!": sh, the file found, then the args. */
	if ((sharg = reallocarray(NULL, argc + 2, sizeof(*sharg))) == NULL)
		return (-1);
	sharg[0] = (char *)SHELL_PATH;
	sharg[1] = NULL;
	for (i = 1; i <= argc; i++)
		sharg[i + 1] = r->argv[i];
	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) == -1) {
		e = errno;
		free(sharg);
		errno = e;
		return (-1);
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = make_child(r, sharg, sp[1], getpid());
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sp[1]);
	free(sharg);
	if (pid == -1) {
		close(sp[0]);
		errno = e;
		return (-1);
	}
	*statusfd = sp[0];
	errno = olderrno;	/* the child of clone() wrote ours */
	return (pid);
}

static pid_t
make_child(const struct spawn_req *r, char **sharg, int wfd, pid_t parent)
{
	pid_t			pid;
#ifdef SPAWN_CLONE
	struct child_arg	a;
	char			*top;
	int			dumpable, e;

	/*
	 * We sleep until the child has called execve() or _exit(), so the
	 * one stack serves every child, and argv, envp and sharg outlive
	 * its use of them.  Not for a child that becomes another user:
	 * that user could hold it, and us with it (see above).
	 */
	if ((!r->setid || r->uid == geteuid()) &&
	    (top = clone_stack()) != NULL) {
		a.r = r;
		a.sharg = sharg;
		a.wfd = wfd;
		a.parent = parent;
		dumpable = r->setid ? prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) : -1;
		pid = clone(child_main, top, CLONE_VM | CLONE_VFORK | SIGCHLD,
		    &a);
		/*
		 * The child's switch of credentials marked the memory it
		 * shared with us undumpable (no core of ours, then).
		 */
		if (dumpable == 1 &&
		    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != dumpable) {
			e = errno;
			(void)prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
			errno = e;
		}
		return (pid);
	}
#endif
	if ((pid = fork()) == 0)
		spawn_child(r, sharg, wfd, parent);
	return (pid);
}

#ifdef SPAWN_CLONE
#define CLONE_STACK	(64 * 1024)

/*
 * The top of the children's stack, made on first use, with a guard page
 * below it; NULL (then we fork) if it cannot be made.  One stack for
 * all: the supervisor is single-threaded and sleeps while a child runs
 * on it.
 */
static char *
clone_stack(void)
{
	static char	*top;
	char		*p;
	long		 pg;

	if (top != NULL)
		return (top);
	if ((pg = sysconf(_SC_PAGESIZE)) <= 0)
		pg = 4096;
	p = mmap(NULL, CLONE_STACK + (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return (NULL);
	if (mprotect(p, (size_t)pg, PROT_NONE) == -1) {
		(void)munmap(p, CLONE_STACK + (size_t)pg);
		return (NULL);
	}
	top = p + (size_t)pg + CLONE_STACK;
	return (top);
}

/* In the child of clone(): never returns into a frame of ours. */
static int
child_main(void *arg)
{
	const struct child_arg	*a = arg;

	spawn_child(a->r, a->sharg, a->wfd, a->parent);
}
#endif

int
spawn_status(int fd)
{
	ssize_t	n;
	int	e;

	do {
		n = read(fd, &e, sizeof(e));
	} while (n == -1 && errno == EINTR);
	if (n == 0)
		return (0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return (-1);
	if (n != (ssize_t)sizeof(e) || e <= 0)
		return (EIO);
	return (e);
}

/* ---- in the child, between fork and exec ---- */

static void
spawn_child(const struct spawn_req *r, char **sharg, int wfd, pid_t parent)
{
	struct sigaction	sa;
	sigset_t		none;
	int			sig, e;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
#ifdef __linux__
	/*
	 * glibc keeps the signals just below SIGRTMIN for itself and its
	 * sigaction() refuses them, but an ignored disposition there would
	 * survive exec (make(1) leaves 32 and 33 ignored): reset them with
	 * the raw system call.  All-zero is SIG_DFL, no flags, empty mask.
	 */
	{
		unsigned long	ksa[4] = { 0, 0, 0, 0 };

		for (sig = 32; sig < SIGRTMIN; sig++)
			(void)syscall(SYS_rt_sigaction, sig, ksa, NULL, 8);
	}
#endif

	if (setsid() == -1)
		goto fail;
	/* Into the instance's cgroup, while we may still write there. */
	if (r->cgfd > 0 && write(r->cgfd, "0", 1) != 1)
		goto fail;
	if (dup2(r->fd_in, 0) == -1 || dup2(r->fd_out, 1) == -1 ||
	    dup2(r->fd_err, 2) == -1)
		goto fail;
	child_closefds(wfd);
	if (setrlimit(RLIMIT_NOFILE, &r->nofile) == -1 ||
	    child_limits(r->limits) == -1)
		goto fail;
	if (r->has_umask)
		umask(r->umask);
	if (r->setid &&
	    child_setids(r->uid, r->gid, r->groups, r->ngroups) == -1)
		goto fail;
#ifdef __linux__
	/* After the switch: changing credentials clears the death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		goto fail;
	if (getppid() != parent) {	/* we died before the line above */
		errno = ESRCH;
		goto fail;
	}
#endif
	if (r->cwd != NULL && chdir(r->cwd) == -1)
		goto fail;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		goto fail;
	child_exec(r, sharg);
fail:
	e = errno;
	if (write(wfd, &e, sizeof(e)) == -1)
		_exit(126);
	_exit(127);
}

/* [processes.limits], soft and hard, before the credentials change. */
static int
child_limits(const struct limits_config *l)
{
	static const int res[LIMIT_RLIMITS] = {
		[LIMIT_NOFILE] = RLIMIT_NOFILE,
		[LIMIT_NPROC] = RLIMIT_NPROC,
		[LIMIT_CORE] = RLIMIT_CORE,
		[LIMIT_CPU] = RLIMIT_CPU,
#ifdef RLIMIT_AS
		[LIMIT_AS] = RLIMIT_AS,
#else
		/* OpenBSD: its RLIMIT_DATA counts all anonymous memory. */
		[LIMIT_AS] = RLIMIT_DATA,
#endif
		[LIMIT_DATA] = RLIMIT_DATA
	};
	struct rlimit	rl;
	int		k;

	for (k = 0; l != NULL && k < LIMIT_RLIMITS; k++) {
		if (!l->set[k])
			continue;
		rl.rlim_cur = rl.rlim_max = (rlim_t)l->value[k];
		if (setrlimit(res[k], &rl) == -1)
			return (-1);
	}
	return (0);
}

/* Raw system calls on Linux: see child.h. */
int
child_setids(uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
#ifdef __linux__
#ifdef SYS_setresuid32
	if (syscall(SYS_setgroups32, ngroups, groups) == -1 ||
	    syscall(SYS_setresgid32, gid, gid, gid) == -1 ||
	    syscall(SYS_setresuid32, uid, uid, uid) == -1)
		return (-1);
#else
	if (syscall(SYS_setgroups, ngroups, groups) == -1 ||
	    syscall(SYS_setresgid, gid, gid, gid) == -1 ||
	    syscall(SYS_setresuid, uid, uid, uid) == -1)
		return (-1);
#endif
#else
	if (setgroups(ngroups, groups) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return (-1);
#endif
	return (0);
}

/* Close every descriptor above 2 but the status pipe. */
static void
child_closefds(int keep)
{
	struct rlimit	rl;
	int		fd, max = 1024;

#if defined(__linux__) && defined(SYS_close_range)
	if ((keep <= 3 || syscall(SYS_close_range, 3, keep - 1, 0) == 0) &&
	    syscall(SYS_close_range, keep + 1, ~0U, 0) == 0)
		return;
#elif defined(__OpenBSD__)
	for (fd = 3; fd < keep; fd++)
		(void)close(fd);
	(void)closefrom(keep + 1);
	return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < INT_MAX)
		max = (int)rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		if (fd != keep)
			(void)close(fd);
}

/* execvp with the child's PATH; returns only on failure, with errno. */
static void
child_exec(const struct spawn_req *r, char **sharg)
{
	const char	*file = r->argv[0], *p, *end;
	char		 buf[PATH_MAX];
	size_t		 flen, dlen;
	int		 eacces = 0;

	if (strchr(file, '/') != NULL) {
		child_try(file, r, sharg);
		return;
	}
	if (*file == '\0') {
		errno = ENOENT;
		return;
	}
	flen = strlen(file);
	for (p = r->path != NULL ? r->path : DEFAULT_PATH; ; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		if (dlen == 0) {		/* empty element: "." */
			buf[0] = '.';
			dlen = 1;
		} else if (dlen < sizeof(buf))
			memcpy(buf, p, dlen);
		if (dlen + 1 + flen < sizeof(buf)) {
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, file, flen + 1);
			child_try(buf, r, sharg);
			switch (errno) {
			case EACCES:
				eacces = 1;
				break;
			case ENOENT:
			case ENOTDIR:
			case ENAMETOOLONG:
			case ELOOP:
#ifdef ESTALE
			case ESTALE:
#endif
			case ENODEV:
			case ETIMEDOUT:
				break;
			default:
				return;
			}
		}
		if (*end == '\0')
			break;
	}
	errno = eacces ? EACCES : ENOENT;
}

static void
child_try(const char *path, const struct spawn_req *r, char **sharg)
{
	execve(path, r->argv, r->envp);
	if (errno == ENOEXEC) {
		sharg[1] = (char *)path;	/* our copy of it */
		execve(SHELL_PATH, sharg, r->envp);
		errno = ENOEXEC;
	}
}
