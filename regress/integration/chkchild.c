/* SPDX-License-Identifier: ISC */
/*
 * chkchild -- an agent that reports what it inherited from its
 * supervisor, for the integration tests.
 *
 *	chkchild REPORT [exit]
 *
 * Writes one JSON object to REPORT (through a temporary file and a rename,
 * so a reader never sees half of it): open descriptors and what 0-2 are, the
 * blocked and the ignored signals, session and process group, ids and
 * groups, umask, cwd, the parent-death signal, the descriptor limit and
 * the environment.  Then waits for a signal, or exits 0 with "exit".
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char	**environ;

static void	json_str(FILE *, const char *);
static const char *fd_kind(int);

static void
json_str(FILE *f, const char *s)
{
	const unsigned char	*p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static const char *
fd_kind(int fd)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return ("closed");
	if (S_ISFIFO(st.st_mode))
		return ("fifo");
	if (S_ISCHR(st.st_mode))
		return ("chr");
	if (S_ISSOCK(st.st_mode))
		return ("socket");
	if (S_ISREG(st.st_mode))
		return ("file");
	return ("other");
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	struct rlimit		 rl;
	sigset_t		 cur;
	gid_t			 groups[NGROUPS_MAX + 1];
	char			 tmp[PATH_MAX], cwd[PATH_MAX], *p;
	FILE			*f;
	mode_t			 um;
	int			 fd, sig, n, i, first, pdeath = -1;
	int			 open_fds[64], nopen = 0;
	struct stat		 st;
	char			 devnull_ok = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: chkchild report [exit]\n");
		return (2);
	}
	/* Look before opening anything ourselves. */
	for (fd = 0; fd < 4096 && nopen < 64; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			open_fds[nopen++] = fd;
	if (fstat(0, &st) == 0 && S_ISCHR(st.st_mode)) {
		struct stat	dn;

		if (stat("/dev/null", &dn) == 0 && dn.st_rdev == st.st_rdev)
			devnull_ok = 1;
	}
	sigprocmask(SIG_BLOCK, NULL, &cur);
	um = umask(0);
	umask(um);
#ifdef __linux__
	if (prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0) == -1)
		pdeath = -1;
#endif
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), "?");

	/* Instances may share REPORT: each writes its own temporary. */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", argv[1], (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL) {
		perror(tmp);
		return (1);
	}
	fprintf(f, "{\"pid\":%ld,\"ppid\":%ld,\"sid\":%ld,\"pgid\":%ld,",
	    (long)getpid(), (long)getppid(), (long)getsid(0),
	    (long)getpgrp());
	fprintf(f, "\"uid\":%ld,\"euid\":%ld,\"gid\":%ld,\"egid\":%ld,",
	    (long)getuid(), (long)geteuid(), (long)getgid(), (long)getegid());
	fprintf(f, "\"groups\":[");
	n = getgroups(NGROUPS_MAX + 1, groups);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%ld", i ? "," : "", (long)groups[i]);
	fprintf(f, "],\"fds\":[");
	for (i = 0; i < nopen; i++)
		fprintf(f, "%s%d", i ? "," : "", open_fds[i]);
	fprintf(f, "],\"stdin_devnull\":%s,\"stdout\":\"%s\","
	    "\"stderr\":\"%s\",", devnull_ok ? "true" : "false", fd_kind(1),
	    fd_kind(2));
	fprintf(f, "\"blocked\":[");
	for (sig = 1, first = 1; sig < NSIG; sig++) {
		if (sigismember(&cur, sig) == 1) {
			fprintf(f, "%s%d", first ? "" : ",", sig);
			first = 0;
		}
	}
	fprintf(f, "],\"ignored\":[");
	for (sig = 1, first = 1; sig < NSIG; sig++) {
		if (sigaction(sig, NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN) {
			fprintf(f, "%s%d", first ? "" : ",", sig);
			first = 0;
		}
	}
	fprintf(f, "],\"umask\":%u,\"cwd\":", (unsigned)um);
	json_str(f, cwd);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fprintf(f, ",\"nofile\":%lld", (long long)rl.rlim_cur);
	fprintf(f, ",\"pdeathsig\":%d,\"env\":{", pdeath);
	for (i = 0, first = 1; environ[i] != NULL; i++) {
		if ((p = strchr(environ[i], '=')) == NULL)
			continue;
		*p = '\0';
		if (!first)
			fputc(',', f);
		first = 0;
		json_str(f, environ[i]);
		fputc(':', f);
		json_str(f, p + 1);
		*p = '=';
	}
	fprintf(f, "}}\n");
	if (fclose(f) == EOF || rename(tmp, argv[1]) == -1) {
		perror(argv[1]);
		return (1);
	}
	if (argc > 2 && strcmp(argv[2], "exit") == 0)
		return (0);
	for (;;)
		pause();
}
