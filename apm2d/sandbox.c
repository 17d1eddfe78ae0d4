/*
 * sandbox.c -- confine the frontend.
 *
 * Started as root, the frontend chroots to an empty directory and drops
 * to the unprivileged [daemon] user (supplementary groups, gid and uid,
 * each verified).  Started as an ordinary user it keeps that user.  Either
 * way it then gives up the ability to gain privileges again.  The
 * syscall-level layers (seccomp and Landlock on Linux, pledge on OpenBSD)
 * are applied by sandbox_frontend_syscalls(), the last step, once nothing
 * but the event loop is left to run.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "apm2d.h"
#include "log.h"

static void	sandbox_frontend_syscalls(void);

void
sandbox_frontend(const struct frontend_opts *opts)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid;
	gid_t		 groups[2];
	int		 ngroups;

	/* Load what the chroot would hide: time zone, syslog socket. */
	tzset();
	if (!opts->debug)
		openlog("apm2d", LOG_PID | LOG_NDELAY, LOG_DAEMON);

	if (geteuid() == 0) {
		if ((pw = getpwnam(opts->user)) == NULL)
			fatalx("unknown user %s", opts->user);
		if (pw->pw_uid == 0)
			fatalx("refusing to run the frontend as root (%s)",
			    opts->user);
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
		if (getresgid(&rgid, &egid, &sgid) == -1 ||
		    rgid != pw->pw_gid || egid != pw->pw_gid ||
		    sgid != pw->pw_gid)
			fatalx("gid not dropped");
		if (getresuid(&ruid, &euid, &suid) == -1 ||
		    ruid != pw->pw_uid || euid != pw->pw_uid ||
		    suid != pw->pw_uid)
			fatalx("uid not dropped");
		if ((ngroups = getgroups(2, groups)) == -1 || ngroups > 1 ||
		    (ngroups == 1 && groups[0] != pw->pw_gid))
			fatalx("supplementary groups not dropped");
		if (setuid(0) != -1)
			fatalx("could regain root");
	} else if (chdir("/") == -1)
		fatal("chdir /");

#ifdef __linux__
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
#endif
	sandbox_frontend_syscalls();
}

/*
 * Syscall confinement.  On OpenBSD pledge covers it.  On Linux the
 * seccomp allow-list and the Landlock ruleset are the multi-user security
 * issue's work; NO_NEW_PRIVS above is already in place for them.
 */
static void
sandbox_frontend_syscalls(void)
{
#ifdef __OpenBSD__
	if (pledge("stdio unix sendfd recvfd", NULL) == -1)
		fatal("pledge");
#endif
}
