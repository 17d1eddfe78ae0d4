/* SPDX-License-Identifier: ISC */
/*
 * test_spawn.c -- spawning (supervisor/spawn.c), reading output
 * (supervisor/output.c) and process information (supervisor/procstat.c)
 * with real child processes.
 *
 * On Linux the child of spawn_process() runs on our memory until it
 * execs (clone with CLONE_VM | CLONE_VFORK): besides what the child gets,
 * the tests check that nothing of ours (errno, memory, signal handlers
 * and mask, cwd, umask, limits, credentials, descriptors) changes.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "logger/output.h"
#include "supervisor/child.h"
#include "unit.h"

struct run {
	pid_t	pid;
	int	status;		/* spawn_status() once the child is gone */
	int	wstatus;
	char	out[4096];
	size_t	outlen;
};

static char	*env_plain[] = { "A=1", "APM2_INSTANCE=3", NULL };

static void	run_child(char *const *, const char *, const char *,
		    struct run *);
static void	run_req(struct spawn_req *, struct run *);
static int	spawn_wait(struct spawn_req *, int *, int *);
static void	collect(void *, int, const char *, size_t);
static void	on_usr1(int);

static void
collect(void *arg, int stream, const char *buf, size_t len)
{
	struct run	*r = arg;

	assert_int_equal(stream, OUTPUT_STDOUT);
	if (len == 0)
		return;
	assert_true(r->outlen + len < sizeof(r->out));
	memcpy(r->out + r->outlen, buf, len);
	r->outlen += len;
	r->out[r->outlen] = '\0';
}

/* Spawn argv, read its stdout through output.c, reap it. */
static void
run_child(char *const *argv, const char *path, const char *cwd,
    struct run *r)
{
	struct spawn_req	req;

	memset(&req, 0, sizeof(req));
	req.argv = argv;
	req.envp = env_plain;
	req.path = path;
	req.cwd = cwd;
	run_req(&req, r);
}

/* The same with a request the caller filled in (descriptors aside). */
static void
run_req(struct spawn_req *req, struct run *r)
{
	struct output	*o;
	int		 po[2], pe[2], sfd, devnull;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pipe2(po, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	assert_int_equal(fcntl(po[0], F_SETFL, O_NONBLOCK), 0);
	assert_true((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	req->fd_in = devnull;
	req->fd_out = po[1];
	req->fd_err = pe[1];
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &req->nofile), 0);
	r->pid = spawn_process(req, &sfd);
	assert_true(r->pid > 0);
	close(po[1]);
	close(pe[1]);
	close(pe[0]);
	close(devnull);
	assert_non_null(o = output_attach(po[0], OUTPUT_STDOUT, collect, r));
	assert_int_equal(waitpid(r->pid, &r->wstatus, 0), r->pid);
	r->status = spawn_status(sfd);
	close(sfd);
	/* The child is gone: everything it wrote is in the pipe. */
	assert_int_equal(output_drain(o), 1);
	output_release(o);
}

/*
 * Spawn with all three standard descriptors on /dev/null and reap: the
 * exec's outcome (spawn_status), the wait status in *wstatus, and errno
 * as spawn_process() left it in *eafter (if not NULL).
 */
static int
spawn_wait(struct spawn_req *req, int *wstatus, int *eafter)
{
	pid_t	pid;
	int	sfd, st, devnull;

	assert_true((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0);
	req->fd_in = req->fd_out = req->fd_err = devnull;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &req->nofile), 0);
	pid = spawn_process(req, &sfd);
	if (eafter != NULL)
		*eafter = errno;
	assert_true(pid > 0);
	close(devnull);
	assert_int_equal(waitpid(pid, wstatus, 0), pid);
	st = spawn_status(sfd);
	close(sfd);
	return (st);
}

static volatile sig_atomic_t	got_usr1;

static void
on_usr1(int sig)
{
	got_usr1 = 1;
}

static void
test_exec_ok_and_output(void **state)
{
	char		*argv[] = { "/bin/sh", "-c",
			    "echo $A $APM2_INSTANCE; exit 3", NULL };
	struct run	 r;

	run_child(argv, NULL, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_true(WIFEXITED(r.wstatus));
	assert_int_equal(WEXITSTATUS(r.wstatus), 3);
	assert_string_equal(r.out, "1 3\n");
}

static void
test_missing_command(void **state)
{
	char		*argv[] = { "no-such-command-apm2", NULL };
	char		*abs[] = { "/nonexistent/x", NULL };
	struct run	 r;

	run_child(argv, "/bin:/usr/bin", NULL, &r);
	assert_int_equal(r.status, ENOENT);
	assert_true(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) != 0);
	run_child(abs, NULL, NULL, &r);
	assert_int_equal(r.status, ENOENT);
}

static void
test_bad_cwd(void **state)
{
	char		*argv[] = { "/bin/true", NULL };
	struct run	 r;

	run_child(argv, NULL, "/nonexistent-dir-apm2", &r);
	assert_int_equal(r.status, ENOENT);
	run_child(argv, NULL, "/etc/passwd", &r);
	assert_int_equal(r.status, ENOTDIR);
	run_child(argv, NULL, "/", &r);
	assert_int_equal(r.status, 0);
}

/* PATH search: the given PATH only, empty elements mean ".". */
static void
test_path_search(void **state)
{
	char		 dir[] = "/tmp/apm2-spawn-XXXXXX", file[PATH_MAX];
	char		 path[PATH_MAX + 32];
	char		*argv[] = { "apm2tool", "arg", NULL };
	struct run	 r;
	FILE		*f;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/apm2tool", dir);
	assert_non_null(f = fopen(file, "w"));
	/* No "#!": run by /bin/sh like execvp does. */
	fprintf(f, "echo script $1\n");
	fclose(f);
	snprintf(path, sizeof(path), "/nonexistent:%s", dir);
	assert_int_equal(chmod(file, 0644), 0);
	run_child(argv, path, NULL, &r);
	assert_int_equal(r.status, EACCES);	/* found, not executable */
	assert_int_equal(chmod(file, 0755), 0);
	run_child(argv, path, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "script arg\n");
	run_child(argv, "/bin", NULL, &r);
	assert_int_equal(r.status, ENOENT);
	run_child(argv, "/bin:", dir, &r);	/* "" is the cwd */
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "script arg\n");
	unlink(file);
	rmdir(dir);
}

/* New session, empty mask, default dispositions, only 0-2 open. */
static void
test_child_state(void **state)
{
	char		*argv[] = { "/bin/sh", "-c",
			    "read p c s pp pg sid x < /proc/$$/stat; "
			    "echo ids $pg $sid; ls /proc/self/fd; "
			    "grep -E '^Sig(Blk|Ign)' /proc/self/status", NULL };
	struct run	 r;
	char		 want[256];
	int		 leak;

	/* A descriptor without close-on-exec must not reach the child. */
	assert_true((leak = open("/dev/null", O_RDONLY)) >= 3);
	signal(SIGUSR1, SIG_IGN);
	run_child(argv, NULL, NULL, &r);
	signal(SIGUSR1, SIG_DFL);
	close(leak);
	assert_int_equal(r.status, 0);
	snprintf(want, sizeof(want), "ids %d %d\n", (int)r.pid, (int)r.pid);
	assert_non_null(strstr(r.out, want));
	if (strstr(r.out, "SigIgn:\t0000000000000000") == NULL)
		print_message("child said:\n%s\n", r.out);
	assert_non_null(strstr(r.out, "SigBlk:\t0000000000000000"));
	assert_non_null(strstr(r.out, "SigIgn:\t0000000000000000"));
	/* ls's own directory descriptor is 3: nothing else. */
	assert_non_null(strstr(r.out, "0\n1\n2\n3\nSig"));
}

/* What execve says reaches us through the status pipe, as for execvp. */
static void
test_exec_errors(void **state)
{
	char		 dir[] = "/tmp/apm2-spawn-XXXXXX", file[PATH_MAX];
	char		*fileargs[] = { file, "a", "b c", NULL };
	char		*dirargs[] = { dir, NULL };
	struct run	 r;
	FILE		*f;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/tool", dir);
	assert_non_null(f = fopen(file, "w"));
	fprintf(f, "echo script $# \"$1\" \"$2\"\n");	/* no "#!" */
	fclose(f);
	assert_int_equal(chmod(file, 0644), 0);
	run_child(fileargs, NULL, NULL, &r);
	assert_int_equal(r.status, EACCES);
	assert_true(WIFEXITED(r.wstatus));
	assert_int_equal(WEXITSTATUS(r.wstatus), 127);
	run_child(dirargs, NULL, NULL, &r);
	assert_int_equal(r.status, EACCES);
	/* ENOEXEC: /bin/sh runs it, with the arguments. */
	assert_int_equal(chmod(file, 0755), 0);
	run_child(fileargs, NULL, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "script 2 a b c\n");
	unlink(file);
	rmdir(dir);
}

/*
 * Joining the cgroup: "0" written to cgfd before the rest; when that
 * fails, the child's errno is the outcome.
 */
static void
test_join_write(void **state)
{
	char			 path[] = "/tmp/apm2-spawn-cg-XXXXXX", buf[8];
	char			*argv[] = { "/bin/true", NULL };
	struct spawn_req	 req;
	int			 fd, ro, ws;

	assert_true((fd = mkostemp(path, O_CLOEXEC)) > 0);
	memset(&req, 0, sizeof(req));
	req.argv = argv;
	req.envp = env_plain;
	req.cgfd = fd;
	assert_int_equal(spawn_wait(&req, &ws, NULL), 0);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], '0');
	assert_true((ro = open(path, O_RDONLY | O_CLOEXEC)) > 0);
	req.cgfd = ro;
	assert_int_equal(spawn_wait(&req, &ws, NULL), EBADF);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 127);
	close(ro);
	close(fd);
	unlink(path);
}

/*
 * Credentials (as root), umask, rlimits and cwd, as the child sees them:
 * as root, once as another user (a forked child) and once as root with
 * other groups (a child on our memory).
 */
static void
test_child_settings(void **state)
{
	char			*argv[] = { "/bin/sh", "-c",
				    "grep -E '^(Umask|Uid|Gid|Groups):' "
				    "/proc/self/status; ulimit -n; ulimit -c; pwd",
				    NULL };
	gid_t			 groups[] = { 65534, 100 };
	struct limits_config	 lim;
	struct spawn_req	 req;
	struct run		 r;
	char			 want[128];
	int			 pass;
	uid_t			 uid = 0;

	memset(&lim, 0, sizeof(lim));
	lim.set[LIMIT_NOFILE] = 1;
	lim.value[LIMIT_NOFILE] = 77;
	lim.set[LIMIT_CORE] = 1;
	lim.value[LIMIT_CORE] = 0;
	for (pass = 0; pass < (geteuid() == 0 ? 3 : 1); pass++) {
		memset(&req, 0, sizeof(req));
		req.argv = argv;
		req.envp = env_plain;
		req.cwd = "/tmp";
		req.has_umask = 1;
		req.umask = 027;
		req.limits = &lim;
		if (pass > 0) {
			req.setid = 1;
			req.uid = uid = pass == 1 ? 65534 : 0;
			req.gid = 65534;
			req.groups = groups;
			req.ngroups = 2;
		}
		run_req(&req, &r);
		assert_int_equal(r.status, 0);
		if (strstr(r.out, "\n77\n0\n/tmp\n") == NULL)
			print_message("child said:\n%s\n", r.out);
		assert_non_null(strstr(r.out, "Umask:\t0027\n"));
		assert_non_null(strstr(r.out, "\n77\n0\n/tmp\n"));
		if (!req.setid)
			continue;
		snprintf(want, sizeof(want), "Uid:\t%u\t%u\t%u\t%u\n",
		    (unsigned)uid, (unsigned)uid, (unsigned)uid, (unsigned)uid);
		assert_non_null(strstr(r.out, want));
		assert_non_null(strstr(r.out,
		    "Gid:\t65534\t65534\t65534\t65534\n"));
		assert_non_null(strstr(r.out, "Groups:\t100 65534"));
	}
}

/*
 * A child that becomes another user can be held before its exec by that
 * user (SIGSTOP, a FUSE mount): it must not hold us.  Here its first
 * step, the write to cgfd, blocks on a full pipe that a helper would
 * empty 10 s later: spawn_process() returns before that.
 */
static void
test_other_user_never_holds_us(void **state)
{
	char			*argv[] = { "/bin/true", NULL };
	gid_t			 groups[] = { 65534 };
	char			 buf[4096];
	struct spawn_req	 req;
	pid_t			 helper, pid;
	int			 full[2], drained[2], sfd = -1, devnull, st, fl;
	int			 early, known, emptied;

	if (geteuid() != 0)
		skip();
	assert_int_equal(pipe2(full, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(drained, O_CLOEXEC | O_NONBLOCK), 0);
	memset(buf, 'x', sizeof(buf));
	while (write(full[1], buf, sizeof(buf)) > 0)
		;
	while (write(full[1], buf, 1) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	assert_true((fl = fcntl(full[1], F_GETFL)) != -1);
	assert_int_equal(fcntl(full[1], F_SETFL, fl & ~O_NONBLOCK), 0);
	if ((helper = fork()) == 0) {
		sleep(10);
		if (read(full[0], buf, sizeof(buf)) <= 0 ||
		    write(drained[1], "d", 1) != 1)
			_exit(1);
		_exit(0);
	}
	assert_true(helper > 0);

	assert_true((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0);
	memset(&req, 0, sizeof(req));
	req.argv = argv;
	req.envp = env_plain;
	req.fd_in = req.fd_out = req.fd_err = devnull;
	req.cgfd = full[1];
	req.setid = 1;
	req.uid = req.gid = 65534;
	req.groups = groups;
	req.ngroups = 1;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &req.nofile), 0);
	pid = spawn_process(&req, &sfd);
	/* Back before the helper emptied the pipe? */
	early = read(drained[0], buf, 1) == -1 && errno == EAGAIN;
	known = pid > 0 ? spawn_status(sfd) : 0;

	/* Leave no process behind, whatever the outcome. */
	(void)kill(helper, SIGKILL);
	(void)waitpid(helper, &st, 0);
	emptied = read(full[0], buf, sizeof(buf)) > 0;
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(emptied);
	assert_true(early);
	assert_int_equal(known, -1);		/* its exec was still to come */
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(spawn_status(sfd), 0);
	close(sfd);
	close(devnull);
	close(full[0]);
	close(full[1]);
	close(drained[0]);
	close(drained[1]);
}

/*
 * The child runs on our memory until it execs (Linux): after many
 * spawns, good and failed, with every setting the child changes for
 * itself, nothing of ours has changed.
 */
#define INTACT_SPAWNS	200
#define HEAP_CANARY	(64 * 1024)

static void
test_parent_intact(void **state)
{
	char			*good[] = { "/bin/true", NULL };
	char			*bad[] = { "no-such-command-apm2", NULL };
	gid_t			 groups[] = { 65534 };
	unsigned char		 onstack[4096], *heap;
	char			 cwd0[PATH_MAX], cwd1[PATH_MAX];
	struct limits_config	 lim;
	struct spawn_req	 req;
	struct sigaction	 sa, got;
	struct rlimit		 nof0, nof1;
	struct stat		 out0, out1;
	sigset_t		 block, mask0, mask1;
	mode_t			 um;
	uid_t			 euid = geteuid();
	pid_t			 sid = getsid(0), pgrp = getpgrp();
	size_t			 i;
	int			 sig, fds0, ws, st, e;
#ifdef __linux__
	int			 dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
#endif

	assert_non_null(heap = malloc(HEAP_CANARY));
	memset(heap, 0xa5, HEAP_CANARY);
	memset(onstack, 0x5a, sizeof(onstack));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &mask0), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &mask0), 0);
	um = umask(022);
	assert_non_null(getcwd(cwd0, sizeof(cwd0)));
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &nof0), 0);
	assert_int_equal(fstat(1, &out0), 0);
	fds0 = count_fds();

	memset(&lim, 0, sizeof(lim));
	lim.set[LIMIT_NOFILE] = 1;
	lim.value[LIMIT_NOFILE] = 50;
	for (i = 0; i < INTACT_SPAWNS; i++) {
		memset(&req, 0, sizeof(req));
		req.argv = i % 2 == 0 ? good : bad;
		req.envp = env_plain;
		req.path = "/nonexistent:/bin:/usr/bin";
		req.cwd = "/";
		req.has_umask = 1;
		req.umask = 077;
		req.limits = &lim;
		/* As root: as another user (forked), root in other groups. */
		if (euid == 0 && i % 3 != 0) {
			req.setid = 1;
			req.uid = i % 3 == 1 ? 65534 : 0;
			req.gid = 65534;
			req.groups = groups;
			req.ngroups = 1;
		}
		errno = EDOM;
		st = spawn_wait(&req, &ws, &e);
		assert_int_equal(e, EDOM);
		assert_int_equal(st, i % 2 == 0 ? 0 : ENOENT);
		assert_true(WIFEXITED(ws));
		assert_int_equal(WEXITSTATUS(ws), i % 2 == 0 ? 0 : 127);
	}

	for (i = 0; i < HEAP_CANARY; i++)
		assert_int_equal(heap[i], 0xa5);
	for (i = 0; i < sizeof(onstack); i++)
		assert_int_equal(onstack[i], 0x5a);
	free(heap);
	assert_int_equal(sigaction(SIGUSR1, NULL, &got), 0);
	assert_ptr_equal(got.sa_handler, on_usr1);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &mask1), 0);
	for (sig = 1; sig < NSIG; sig++)
		assert_int_equal(sigismember(&mask1, sig),
		    sigismember(&mask0, sig));
	assert_int_equal(umask(um), 022);
	assert_non_null(getcwd(cwd1, sizeof(cwd1)));
	assert_string_equal(cwd1, cwd0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &nof1), 0);
	assert_true(nof1.rlim_cur == nof0.rlim_cur &&
	    nof1.rlim_max == nof0.rlim_max);
	assert_int_equal(fstat(1, &out1), 0);
	assert_true(out1.st_dev == out0.st_dev && out1.st_ino == out0.st_ino);
	assert_int_equal(count_fds(), fds0);
	assert_int_equal(geteuid(), euid);
	assert_int_equal(getsid(0), sid);
	assert_int_equal(getpgrp(), pgrp);
#ifdef __linux__
	/* Changing credentials makes a process's memory undumpable. */
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), dumpable);
#endif
	/* Our handler still runs. */
	got_usr1 = 0;
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(got_usr1, 1);
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &block, NULL), 0);
	signal(SIGUSR1, SIG_DFL);
}

static void
test_procstat(void **state)
{
	struct pstat	ps;
	struct ptable	t;
	pid_t		kids[8], pid;
	size_t		i;
	int		n, found = 0, st;
	char		*argv[] = { "/bin/sleep", "10", NULL };
	char		*envp[] = { "APM2_PROCESS_NAME=x", "APM2_INSTANCE=2",
			    NULL };

	assert_int_equal(procstat_get(getpid(), &ps), 0);
	assert_int_equal(ps.pid, getpid());
	assert_int_equal(ps.ppid, getppid());
	assert_int_equal(ps.pgid, getpgrp());
	assert_int_equal(ps.sid, getsid(0));
	assert_true(ps.rss > 0);
	assert_false(ps.zombie);
	assert_int_equal(procstat_get(0x7ffffff0, &ps), -1);

	if ((pid = fork()) == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	assert_true(pid > 0);
	n = procstat_children(getpid(), kids, 8);
	if (n != -1) {
		assert_int_equal(n, 1);
		assert_int_equal(kids[0], pid);
	}
	assert_int_equal(ptable_load(&t), 0);
	for (i = 0; i < t.n; i++)
		if (t.p[i].pid == pid && t.p[i].ppid == getpid())
			found = 1;
	ptable_free(&t);
	assert_true(found);
	/* Wait for the exec to have happened before reading its environ. */
	for (i = 0; i < 500; i++) {
		if (procstat_env_has(pid, "APM2_PROCESS_NAME=x",
		    "APM2_INSTANCE=2"))
			break;
		usleep(2000);
	}
	assert_true(procstat_env_has(pid, "APM2_PROCESS_NAME=x",
	    "APM2_INSTANCE=2"));
	assert_false(procstat_env_has(pid, "APM2_PROCESS_NAME=x",
	    "APM2_INSTANCE=20"));
	assert_false(procstat_env_has(pid, "APM2_PROCESS_NAME=",
	    "APM2_INSTANCE=2"));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_false(procstat_env_has(pid, "APM2_PROCESS_NAME=x",
	    "APM2_INSTANCE=2"));
}

/* A released stream is read on in the loop until EOF, then freed. */
static void
test_output_release(void **state)
{
	struct run	 r;
	struct output	*o;
	int		 p[2];

	memset(&r, 0, sizeof(r));
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_non_null(o = output_attach(p[0], OUTPUT_STDOUT, collect, &r));
	assert_int_equal(write(p[1], "ab", 2), 2);
	assert_int_equal(output_drain(o), 0);	/* no EOF yet */
	assert_string_equal(r.out, "ab");
	output_release(o);
	assert_int_equal(write(p[1], "cd", 2), 2);
	close(p[1]);
	event_loop(EVLOOP_NONBLOCK);
	event_loop(EVLOOP_NONBLOCK);
	assert_string_equal(r.out, "abcd");
	output_flush_all();
}

/*
 * Issue 17: 1,500 children are read from the kernel's list, whose text no
 * longer fits 8 KiB (above 1,365 children every exit used to read all
 * of /proc).
 */
#define MANY_KIDS	1500

static void
test_many_children(void **state)
{
	static pid_t	 kids[MANY_KIDS], got[MANY_KIDS + 16];
	char		 path[80];
	size_t		 i, j, found = 0;
	int		 n, st, listed, short_n = 0;

	(void)snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)getpid(), (long)getpid());
	listed = access(path, R_OK) == 0;

	for (i = 0; i < MANY_KIDS; i++) {
		if ((kids[i] = fork()) == 0) {
			pause();
			_exit(0);
		}
		assert_true(kids[i] > 0);
	}
	n = procstat_children(getpid(), got, MANY_KIDS + 16);
	/* Where the kernel has the list; -1 elsewhere. */
	if (listed) {
		for (i = 0; i < MANY_KIDS; i++)
			for (j = 0; j < (size_t)n && j < MANY_KIDS + 16; j++)
				if (got[j] == kids[i]) {
					found++;
					break;
				}
		/* A short array: the count is still all of them. */
		short_n = procstat_children(getpid(), got, 10);
	}
	/* Reaped before any assertion: a failure leaves nothing behind. */
	for (i = 0; i < MANY_KIDS; i++)
		(void)kill(kids[i], SIGKILL);
	for (i = 0; i < MANY_KIDS; i++)
		assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
	if (listed) {
		assert_int_equal(n, MANY_KIDS);
		assert_int_equal(found, MANY_KIDS);
		assert_int_equal(short_n, MANY_KIDS);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_ok_and_output),
		cmocka_unit_test(test_missing_command),
		cmocka_unit_test(test_bad_cwd),
		cmocka_unit_test(test_path_search),
		cmocka_unit_test(test_child_state),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_join_write),
		cmocka_unit_test(test_child_settings),
		cmocka_unit_test(test_parent_intact),
		cmocka_unit_test(test_other_user_never_holds_us),
		cmocka_unit_test(test_procstat),
		cmocka_unit_test(test_many_children),
		cmocka_unit_test(test_output_release),
	};

	event_init();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
