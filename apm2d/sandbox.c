/* SPDX-License-Identifier: ISC */
/*
 * sandbox.c -- confine the frontend and the logger.
 *
 * The frontend is the only process that parses bytes from clients, the
 * logger the only one that reads what agents write, so both are built
 * to be taken over without consequence.  Each layer only takes
 * something away, in this order:
 *
 *  1. Started as root: chroot to an empty directory and drop to the
 *     unprivileged user ([daemon] user for the frontend, log_user for
 *     the logger; supplementary groups, gid and uid, each verified).
 *     Started as an ordinary user it keeps that user.
 *  2. Linux: PR_SET_NO_NEW_PRIVS (setuid binaries and file capabilities
 *     stop working; required for Landlock and seccomp without privilege).
 *  3. rlimits, on every system: no new processes, no core dumps; for the
 *     frontend also no file growth, just enough descriptors for the
 *     connection limit, and RLIMIT_DATA as a backstop under its memory
 *     budget (the logger writes the log files it is given, four
 *     descriptors per instance).
 *  4. Linux: a Landlock ruleset that handles every access right the
 *     kernel knows and grants none, skipped (with a log line) where the
 *     kernel has no Landlock.
 *  5. Linux: a seccomp allow-list (libseccomp) of exactly the system calls
 *     the running event loop makes; anything else kills the process,
 *     except the socket(2)/connect(2)/sendto(2) calls glibc's syslog(3)
 *     makes to reconnect, which fail with EACCES.  OpenBSD: pledge.
 *
 * The descriptors each needs (the channel, the libevent backend, the
 * syslog socket) are all open before this runs; clients' sockets, pipes
 * and log files arrive later over the channel, opened by the supervisor
 * (neither may open or accept anything): frontend_main() and
 * logger_main() call it after event_init().  The supervisor never gets
 * any of these layers: its children, the agents, would inherit them.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/landlock.h>
#include <seccomp.h>
#endif

#include "apm2d.h"
#include "log.h"
#include "proto.h"
#include "sysutil.h"

/*
 * One descriptor per client, with room for the clients' sockets still in
 * flight on the channel when others are being closed, plus the fixed
 * ones (stdio, channel, epoll, libevent's pipe, syslog).  A descriptor
 * the supervisor passes can then never be lost to EMFILE (the channel
 * would see truncated control data), yet the frontend cannot hoard them.
 */
#define SANDBOX_NOFILE	(2 * FRONTEND_MAX_CONNS + 16)

/* AddressSanitizer builds (CI) need a little more; see sandbox_allow. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif

#ifdef SANDBOX_ASAN
static int	sandboxed;	/* this process is the sandboxed frontend */
#endif

static void	sandbox_drop(const struct frontend_opts *);
static void	sandbox_rlimits(const struct frontend_opts *);
static void	sandbox_syscalls(void);
#ifdef __linux__
static void	sandbox_landlock(void);
static void	sandbox_seccomp(void);
static void	sandbox_rule(scmp_filter_ctx, uint32_t, const char *,
		    unsigned int, const struct scmp_arg_cmp *);
#endif

void
sandbox_enter(const struct frontend_opts *opts)
{
	/* Load what the chroot would hide: time zone, syslog socket. */
	tzset();
	if (!opts->debug)
		openlog("apm2d", LOG_PID | LOG_NDELAY, LOG_DAEMON);

	if (geteuid() == 0)
		sandbox_drop(opts);
	else if (chdir("/") == -1)
		fatal("chdir /");

#ifdef __linux__
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
#endif
	sandbox_rlimits(opts);
#ifdef SANDBOX_ASAN
	sandboxed = 1;
#endif
	sandbox_syscalls();
}

/* Root: chroot, then become the unprivileged user for good. */
static void
sandbox_drop(const struct frontend_opts *opts)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid;
	gid_t		 groups[2];
	int		 ngroups;

	if ((pw = pw_byname(opts->user)) == NULL)
		fatalx("unknown user %s", opts->user);
	if (pw->pw_uid == 0)
		fatalx("refusing to run the %s as root (%s)",
		    opts->logger ? "logger" : "frontend", opts->user);
	if (chroot(opts->chroot) == -1)
		fatal("chroot %s", opts->chroot);
	if (chdir("/") == -1)
		fatal("chdir /");
	groups[0] = pw->pw_gid;
	if (setgroups(1, groups) == -1)
		fatal("setgroups");
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1)
		fatal("setresgid");
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("setresuid");
	/* Verify: no way back to root. */
	if (getresgid(&rgid, &egid, &sgid) == -1 || rgid != pw->pw_gid ||
	    egid != pw->pw_gid || sgid != pw->pw_gid)
		fatalx("gid not dropped");
	if (getresuid(&ruid, &euid, &suid) == -1 || ruid != pw->pw_uid ||
	    euid != pw->pw_uid || suid != pw->pw_uid)
		fatalx("uid not dropped");
	if ((ngroups = getgroups(2, groups)) == -1 || ngroups > 1 ||
	    (ngroups == 1 && groups[0] != pw->pw_gid))
		fatalx("supplementary groups not dropped");
	if (setuid(0) != -1)
		fatalx("could regain root");
	free(pw);
}

static void
sandbox_rlimits(const struct frontend_opts *opts)
{
	struct rlimit	rl, cur;
	struct stat	st;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_NPROC, &rl) == -1)
		fatal("setrlimit(RLIMIT_NPROC)");
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
	if (opts->logger)
		return;		/* files to write, descriptors to hold */
	/*
	 * The frontend writes no files.  The one exception is its own
	 * stderr when "apm2d -d" sends it to a file: with a zero limit every
	 * log line would raise SIGXFSZ.
	 */
	if (opts->debug && fstat(STDERR_FILENO, &st) == 0 &&
	    S_ISREG(st.st_mode))
		log_debug("sandbox: stderr is a regular file: RLIMIT_FSIZE "
		    "not lowered");
	else if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		fatal("setrlimit(RLIMIT_FSIZE)");

	if (getrlimit(RLIMIT_NOFILE, &cur) == -1)
		fatal("getrlimit(RLIMIT_NOFILE)");
	rl.rlim_cur = rl.rlim_max = SANDBOX_NOFILE;
	if (cur.rlim_max != RLIM_INFINITY && cur.rlim_max < rl.rlim_max)
		rl.rlim_cur = rl.rlim_max = cur.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit(RLIMIT_NOFILE)");

#ifndef SANDBOX_ASAN
	/*
	 * The backstop under the frontend's own memory budget (apm2d.h):
	 * should that accounting ever be wrong, malloc fails, the frontend
	 * exits and is respawned, and the machine keeps its memory.  (The
	 * sanitizers' runtime maps far more than this, so not there.)
	 */
	rl.rlim_cur = rl.rlim_max = FRONTEND_DATA_LIMIT;
	if (getrlimit(RLIMIT_DATA, &cur) == -1)
		fatal("getrlimit(RLIMIT_DATA)");
	if (cur.rlim_max != RLIM_INFINITY && cur.rlim_max < rl.rlim_max)
		rl.rlim_cur = rl.rlim_max = cur.rlim_max;
	if (setrlimit(RLIMIT_DATA, &rl) == -1)
		fatal("setrlimit(RLIMIT_DATA)");
#endif
}

/* The syscall-level layers, last: nothing but the event loop is left. */
static void
sandbox_syscalls(void)
{
#ifdef __linux__
	sandbox_landlock();
	sandbox_seccomp();
#endif
#ifdef __OpenBSD__
	if (pledge("stdio recvfd", NULL) == -1)
		fatal("pledge");
#endif
}

#ifdef SANDBOX_ASAN
int	__lsan_is_turned_off(void);

/*
 * Sanitizer builds (CI): LeakSanitizer's check at exit needs system calls
 * the sandbox forbids (it stops the world with a ptrace'd thread).  The
 * supervisor, never sandboxed, keeps the check.
 */
int
__lsan_is_turned_off(void)
{
	return (sandboxed);
}
#endif

#ifdef __linux__

/*
 * Landlock access rights by ABI version.  The values are kernel ABI;
 * they are spelled out for those newer than the installed headers.
 */
#define LL_FS_V1		((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER		(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)		/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)		/* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)		/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)		/* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix. */
struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;
	uint64_t	scoped;
};

static void
sandbox_landlock(void)
{
#if defined(SYS_landlock_create_ruleset) && \
    defined(SYS_landlock_restrict_self)
	struct ll_ruleset_attr	attr;
	size_t			size;
	long			abi;
	int			fd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1) {
		if (errno == ENOSYS || errno == EOPNOTSUPP) {
			log_info("sandbox: Landlock is not available in this "
			    "kernel (%s): skipped", strerror(errno));
			return;
		}
		fatal("landlock_create_ruleset(VERSION)");
	}

	/* Handle every right this kernel knows; add no rule: grant none. */
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LL_FS_V1;
	size = offsetof(struct ll_ruleset_attr, handled_access_net);
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP |
		    LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size,
	    0)) == -1)
		fatal("landlock_create_ruleset");
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1)
		fatal("landlock_restrict_self");
	close(fd);
	log_debug("sandbox: Landlock ABI %ld ruleset applied: no file "
	    "system access", abi);
#else
	log_info("sandbox: built without Landlock system calls: skipped");
#endif
}

/*
 * What the running frontend calls, found with strace -f over the whole
 * integration suite (event loop, clients, the channel, shutdown) and
 * checked against glibc and libevent for rare paths (large buffers).
 * Names that are no system call on this architecture are skipped
 * (epoll_wait does not exist on arm64, which has epoll_pwait).
 */
static const char *const sandbox_allow[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl",	/* libevent */
	"read", "write",				/* clients, stderr */
	"recvmsg", "sendmsg",		/* the channel, clients' sockets */
	"close",
	"clock_gettime", "gettimeofday", "time",	/* the vDSO's fallback */
	"brk", "munmap", "mremap", "madvise",		/* malloc */
	"getpid",					/* log lines */
	"exit_group", "exit",
	"rt_sigreturn", "restart_syscall",		/* kernel-driven */
#ifdef SANDBOX_ASAN
	"sigaltstack",		/* the runtime's exit path */
#endif
};

static void
sandbox_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned int nargs, const struct scmp_arg_cmp *args)
{
	int	nr, rc;

	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR || nr < 0)
		return;		/* not a system call on this architecture */
	if ((rc = seccomp_rule_add_array(ctx, action, nr, nargs,
	    args)) < 0) {
		errno = -rc;
		fatal("seccomp_rule_add %s", name);
	}
}

static void
sandbox_seccomp(void)
{
	scmp_filter_ctx		ctx;
	struct scmp_arg_cmp	noexec, noaddr, addr;
	size_t			i;
	int			rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("seccomp_init failed");
	/* A system call from another ABI (int 0x80, x32) is not ours. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0) {
		errno = -rc;
		fatal("seccomp_attr_set");
	}
	for (i = 0; i < sizeof(sandbox_allow) / sizeof(sandbox_allow[0]); i++)
		sandbox_rule(ctx, SCMP_ACT_ALLOW, sandbox_allow[i], 0, NULL);

	/* malloc maps memory; nothing may become executable. */
	noexec = (struct scmp_arg_cmp){ .arg = 2, .op = SCMP_CMP_MASKED_EQ,
	    .datum_a = PROT_EXEC, .datum_b = 0 };
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "mmap", 1, &noexec);
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "mmap2", 1, &noexec);

	/*
	 * glibc's syslog(3) sends on the socket openlog() connected before
	 * the chroot: sendto() without an address.  When that fails it
	 * closes the socket and tries socket() and connect() again; those
	 * fail (and the message is lost) instead of killing the frontend.
	 */
	noaddr = (struct scmp_arg_cmp){ .arg = 4, .op = SCMP_CMP_EQ,
	    .datum_a = 0 };
	addr = (struct scmp_arg_cmp){ .arg = 4, .op = SCMP_CMP_NE,
	    .datum_a = 0 };
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "sendto", 1, &noaddr);
	sandbox_rule(ctx, SCMP_ACT_ERRNO(EACCES), "sendto", 1, &addr);
	sandbox_rule(ctx, SCMP_ACT_ERRNO(EACCES), "socket", 0, NULL);
	sandbox_rule(ctx, SCMP_ACT_ERRNO(EACCES), "connect", 0, NULL);

	if ((rc = seccomp_load(ctx)) < 0) {
		errno = -rc;
		fatal("seccomp_load");
	}
	seccomp_release(ctx);
	log_debug("sandbox: seccomp allow-list loaded");
}

#endif /* __linux__ */
