/* SPDX-License-Identifier: ISC */
/*
 * test_log.c -- common/log.c: line format on stderr, verbosity, errno
 * handling, escaping, atomic lines, fatal(), and the syslog path (with
 * openlog/syslog interposed by this program).
 */
/* This file defines syslog(3) itself: no fortified inline wrapper here. */
#undef _FORTIFY_SOURCE

#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* What the interposed openlog/syslog saw. */
static struct {
	int	opened;
	char	ident[64];
	int	option;
	int	facility;
	int	calls;
	int	pri;
	char	msg[2 * LOG_MAXLINE];
	int	echo;		/* also write "pri=N msg=..." to stderr */
} fake;

static int	cap_fd = -1;
static int	saved_fd = -1;
static char	capbuf[2 * 1024 * 1024];

void	openlog(const char *, int, int);
void	syslog(int, const char *, ...);
void	__syslog_chk(int, int, const char *, ...);

static void	fake_vsyslog(int, const char *, va_list)
		    __attribute__((__format__ (printf, 2, 0)));
static void	cap_begin(void);
static char	*cap_end(void);
static char	*read_all(int);
static int	 is_stamp(const char *);
static void	 unstamp(char *);

#define STAMP_LEN	25	/* "2026-12-08T02:30:00.123Z " */
static char	*expect_line(pid_t, const char *);
static char	*run_child(void (*)(void), int *, pid_t *);
static void	 check_child(void (*)(void), const char *);
static void	 child_fatal(void);
static void	 child_fatal_nofmt(void);
static void	 child_fatalx(void);
static void	 child_fatalx_syslog(void);
static int	 setup(void **);

void
openlog(const char *ident, int option, int facility)
{
	fake.opened++;
	strlcpy(fake.ident, ident != NULL ? ident : "", sizeof(fake.ident));
	fake.option = option;
	fake.facility = facility;
}

static void
fake_vsyslog(int pri, const char *fmt, va_list ap)
{
	char	buf[2 * LOG_MAXLINE + 64];
	int	n;

	fake.calls++;
	fake.pri = pri;
	vsnprintf(fake.msg, sizeof(fake.msg), fmt, ap);
	if (fake.echo) {
		n = snprintf(buf, sizeof(buf), "pri=%d msg=%s\n", pri,
		    fake.msg);
		if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) != n)
			abort();
	}
}

void
syslog(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fake_vsyslog(pri, fmt, ap);
	va_end(ap);
}

/* glibc's fortified syslog(3) ends up here. */
void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fake_vsyslog(pri, fmt, ap);
	va_end(ap);
}

static char *
read_all(int fd)
{
	size_t	len = 0;
	ssize_t	n;

	for (;;) {
		assert_true(len < sizeof(capbuf) - 1);
		n = read(fd, capbuf + len, sizeof(capbuf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	capbuf[len] = '\0';
	unstamp(capbuf);
	return (capbuf);
}

/* "2026-12-08T02:30:00.123Z ": the time a stderr line starts with. */
static int
is_stamp(const char *p)
{
	static const char	fmt[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	size_t			i;

	for (i = 0; i < sizeof(fmt) - 1; i++)
		if (fmt[i] == 'd' ? !isdigit((unsigned char)p[i]) :
		    p[i] != fmt[i])
			return (0);
	return (1);
}

/* Drop each line's time (test_stamp checks it), to compare the rest. */
static void
unstamp(char *buf)
{
	char	*p, *nl;

	for (p = buf; *p != '\0'; p = nl + 1) {
		if (strlen(p) >= STAMP_LEN && is_stamp(p))
			memmove(p, p + STAMP_LEN, strlen(p + STAMP_LEN) + 1);
		if ((nl = strchr(p, '\n')) == NULL)
			break;
	}
}

static void
cap_begin(void)
{
	int	p[2];

	assert_int_equal(pipe(p), 0);
	saved_fd = dup(STDERR_FILENO);
	assert_true(saved_fd != -1);
	assert_true(dup2(p[1], STDERR_FILENO) != -1);
	close(p[1]);
	cap_fd = p[0];
}

static char *
cap_end(void)
{
	char	*s;

	assert_true(dup2(saved_fd, STDERR_FILENO) != -1);
	close(saved_fd);
	saved_fd = -1;
	s = read_all(cap_fd);
	close(cap_fd);
	cap_fd = -1;
	return (s);
}

/* "prog[pid]: rest\n" as the foreground format has it. */
static char *
expect_line(pid_t pid, const char *rest)
{
	static char	buf[2 * LOG_MAXLINE];

	snprintf(buf, sizeof(buf), "%s[%ld]: %s\n", getprogname(),
	    (long)pid, rest);
	return (buf);
}

static int
setup(void **state)
{
	log_init(1, LOG_DAEMON);
	log_procinit("supervisor");
	log_setverbose(0);
	memset(&fake, 0, sizeof(fake));
	return (0);
}

/* Each stderr line starts with the time, in UTC, to the millisecond. */
static void
test_stamp(void **state)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 want[32];
	ssize_t		 n;
	int		 p[2], fd;
	char		 line[256];

	assert_int_equal(pipe(p), 0);
	fd = dup(STDERR_FILENO);
	assert_true(dup2(p[1], STDERR_FILENO) != -1);
	close(p[1]);
	clock_gettime(CLOCK_REALTIME, &ts);
	log_info("stamped");
	assert_true(dup2(fd, STDERR_FILENO) != -1);
	close(fd);
	n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	assert_true(n > STAMP_LEN);
	line[n] = '\0';
	assert_true(is_stamp(line));
	/* The day it is (a line logged at midnight could differ). */
	gmtime_r(&ts.tv_sec, &tm);
	strftime(want, sizeof(want), "%Y-%m-%dT", &tm);
	assert_memory_equal(line, want, strlen(want));
	assert_non_null(strstr(line + STAMP_LEN, "supervisor: stamped\n"));
}

static void
test_info_format(void **state)
{
	char	*out;

	cap_begin();
	log_info("hello %d %s", 42, "world");
	out = cap_end();
	assert_string_equal(out, expect_line(getpid(),
	    "supervisor: hello 42 world"));

	log_procinit("frontend");
	cap_begin();
	log_warnx("bad %s", "thing");
	logit(LOG_NOTICE, "notice %u", 7U);
	out = cap_end();
	assert_non_null(strstr(out, expect_line(getpid(), "frontend: bad thing")));
	assert_non_null(strstr(out, expect_line(getpid(), "frontend: notice 7")));

	log_procinit(NULL);
	cap_begin();
	log_info("no prefix");
	out = cap_end();
	assert_string_equal(out, expect_line(getpid(), "no prefix"));
}

static void
test_warn_appends_strerror(void **state)
{
	/* Through a pointer: the format attribute rightly objects to NULL. */
	void	(*warnfn)(const char *, ...) = log_warn;
	char	 want[512], *out;

	cap_begin();
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	out = cap_end();
	snprintf(want, sizeof(want), "supervisor: open /nonexistent: %s",
	    strerror(ENOENT));
	assert_string_equal(out, expect_line(getpid(), want));

	/* log_warnx never does. */
	cap_begin();
	errno = ENOENT;
	log_warnx("plain");
	out = cap_end();
	assert_string_equal(out, expect_line(getpid(), "supervisor: plain"));

	/* A NULL format logs just the error. */
	cap_begin();
	errno = EACCES;
	warnfn(NULL);
	out = cap_end();
	snprintf(want, sizeof(want), "supervisor: %s", strerror(EACCES));
	assert_string_equal(out, expect_line(getpid(), want));
}

static void
test_verbosity(void **state)
{
	char	*out;

	assert_int_equal(log_getverbose(), 0);
	cap_begin();
	log_debug("hidden %d", 1);
	logit(LOG_DEBUG, "hidden too");
	out = cap_end();
	assert_string_equal(out, "");

	log_setverbose(1);
	assert_int_equal(log_getverbose(), 1);
	cap_begin();
	log_debug("shown %d", 2);
	out = cap_end();
	assert_string_equal(out, expect_line(getpid(), "supervisor: shown 2"));

	log_setverbose(3);
	assert_int_equal(log_getverbose(), 3);
	cap_begin();
	logit(LOG_DEBUG, "also %s", "shown");
	out = cap_end();
	assert_string_equal(out, expect_line(getpid(), "supervisor: also shown"));

	log_setverbose(-1);
	cap_begin();
	log_debug("hidden again");
	out = cap_end();
	assert_string_equal(out, "");
}

static void
test_errno_preserved(void **state)
{
	int	 save;

	log_setverbose(1);
	cap_begin();
	errno = EACCES;
	log_info("x");
	assert_int_equal(errno, EACCES);
	log_warn("x");
	assert_int_equal(errno, EACCES);
	log_warnx("x");
	assert_int_equal(errno, EACCES);
	log_debug("x");
	assert_int_equal(errno, EACCES);
	logit(LOG_ERR, "x");
	assert_int_equal(errno, EACCES);
	log_init(1, LOG_DAEMON);
	assert_int_equal(errno, EACCES);
	(void)cap_end();

	/* Even when writing to stderr fails. */
	save = dup(STDERR_FILENO);
	close(STDERR_FILENO);
	errno = ERANGE;
	log_warn("stderr is closed");
	assert_int_equal(errno, ERANGE);
	log_info("stderr is closed");
	assert_int_equal(errno, ERANGE);
	assert_true(dup2(save, STDERR_FILENO) != -1);
	close(save);
}

static void
test_control_chars_escaped(void **state)
{
	char	*out;

	cap_begin();
	log_info("a\nb\rc%cd\te%c", 1, 0x7f);
	out = cap_end();
	assert_string_equal(out, expect_line(getpid(),
	    "supervisor: a\\nb\\rc\\x01d\te\\x7f"));
	/* Bytes above 0x7f (UTF-8) pass through. */
	cap_begin();
	log_info("caf\xc3\xa9");
	out = cap_end();
	assert_string_equal(out, expect_line(getpid(),
	    "supervisor: caf\xc3\xa9"));
}

static void
test_long_line_cut(void **state)
{
	char	*big, *out, want[256];
	size_t	 len;

	big = malloc(10000);
	assert_non_null(big);
	memset(big, 'x', 9999);
	big[9999] = '\0';

	cap_begin();
	log_info("%s", big);
	out = cap_end();
	len = strlen(out);
	/* The time in front of it counts too. */
	assert_int_equal(len + STAMP_LEN, LOG_MAXLINE);
	assert_memory_equal(out + len - 4, "...\n", 4);
	assert_non_null(strstr(out, "supervisor: xxxx"));

	/* The error text survives the cut. */
	cap_begin();
	errno = EPIPE;
	log_warn("%s", big);
	out = cap_end();
	len = strlen(out);
	assert_true(len <= LOG_MAXLINE);
	snprintf(want, sizeof(want), "xxx...: %s\n", strerror(EPIPE));
	assert_int_equal(strcmp(out + len - strlen(want), want), 0);

	/* Escapes count against the limit too and are never split. */
	memset(big, '\n', 9999);
	cap_begin();
	log_info("%s", big);
	out = cap_end();
	len = strlen(out);
	assert_true(len <= LOG_MAXLINE);
	assert_memory_equal(out + len - 6, "\\n...\n", 6);
	assert_int_equal(strchr(out, '\n'), out + len - 1);
	free(big);
}

/* Two processes sharing stderr never mix inside a line. */
static void
test_lines_atomic(void **state)
{
	char	 line[2100], *out, *p, *nl, want[64];
	pid_t	 pid[2];
	int	 p2[2], i, j, st, count[2] = { 0, 0 };
	size_t	 plen;

	assert_int_equal(pipe(p2), 0);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] != -1);
		if (pid[i] == 0) {
			close(p2[0]);
			if (dup2(p2[1], STDERR_FILENO) == -1)
				_exit(2);
			memset(line, i == 0 ? 'A' : 'B', 2000);
			line[2000] = '\0';
			log_procinit(i == 0 ? "one" : "two");
			for (j = 0; j < 300; j++)
				log_info("%s", line);
			_exit(0);
		}
	}
	close(p2[1]);
	out = read_all(p2[0]);
	close(p2[0]);
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (p = out; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		for (i = 0; i < 2; i++) {
			snprintf(want, sizeof(want), "%s[%ld]: %s: ",
			    getprogname(), (long)pid[i], i == 0 ? "one" : "two");
			plen = strlen(want);
			if (strncmp(p, want, plen) == 0)
				break;
		}
		assert_true(i < 2);
		assert_int_equal((size_t)(nl - p), plen + 2000);
		for (j = 0; j < 2000; j++)
			assert_int_equal(p[plen + j], i == 0 ? 'A' : 'B');
		count[i]++;
	}
	assert_int_equal(count[0], 300);
	assert_int_equal(count[1], 300);
}

/* Run fn in a child with stderr on a pipe; return its output. */
static char *
run_child(void (*fn)(void), int *status, pid_t *pidp)
{
	pid_t	 pid;
	int	 p[2];
	char	*out;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDERR_FILENO) == -1)
			_exit(2);
		fn();
		_exit(3);	/* fatal returned: wrong */
	}
	close(p[1]);
	out = read_all(p[0]);
	close(p[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	*pidp = pid;
	return (out);
}

static void
child_fatal(void)
{
	log_procinit("child");
	errno = ENOENT;
	fatal("open %s", "/x");
}

static void
child_fatal_nofmt(void)
{
	void	(*fatalfn)(const char *, ...) = fatal;

	log_procinit("child");
	errno = EPERM;
	fatalfn(NULL);
}

static void
child_fatalx(void)
{
	log_procinit("child");
	errno = ENOENT;
	fatalx("bad config %d", 3);
}

static void
child_fatalx_syslog(void)
{
	log_init(0, LOG_LOCAL0);
	log_procinit("child");
	fake.echo = 1;
	fatalx("gone %s", "wrong");
}

static void
check_child(void (*fn)(void), const char *rest)
{
	char	*out;
	pid_t	 pid;
	int	 st;

	out = run_child(fn, &st, &pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_string_equal(out, expect_line(pid, rest));
}

static void
test_fatal(void **state)
{
	char	want[256];

	snprintf(want, sizeof(want), "child: fatal: open /x: %s",
	    strerror(ENOENT));
	check_child(child_fatal, want);
	snprintf(want, sizeof(want), "child: fatal: %s", strerror(EPERM));
	check_child(child_fatal_nofmt, want);
	check_child(child_fatalx, "child: fatal: bad config 3");
}

static void
test_fatal_syslog_crit(void **state)
{
	char	 want[256], *out;
	pid_t	 pid;
	int	 st;

	out = run_child(child_fatalx_syslog, &st, &pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	snprintf(want, sizeof(want), "pri=%d msg=child: fatal: gone wrong\n",
	    LOG_CRIT);
	assert_string_equal(out, want);
}

static void
test_syslog_mode(void **state)
{
	char	 want[256], *out;

	cap_begin();
	log_init(0, LOG_DAEMON);
	assert_int_equal(fake.opened, 1);
	assert_string_equal(fake.ident, getprogname());
	assert_int_equal(fake.option, LOG_PID | LOG_NDELAY);
	assert_int_equal(fake.facility, LOG_DAEMON);

	log_info("hi %s", "there");
	assert_int_equal(fake.calls, 1);
	assert_int_equal(fake.pri, LOG_INFO);
	/* syslog adds ident and pid itself. */
	assert_string_equal(fake.msg, "supervisor: hi there");

	errno = ENOENT;
	log_warn("stat");
	assert_int_equal(fake.pri, LOG_ERR);
	snprintf(want, sizeof(want), "supervisor: stat: %s", strerror(ENOENT));
	assert_string_equal(fake.msg, want);

	log_warnx("x\ny");
	assert_int_equal(fake.pri, LOG_ERR);
	assert_string_equal(fake.msg, "supervisor: x\\ny");

	log_debug("quiet");
	assert_int_equal(fake.calls, 3);
	log_setverbose(1);
	log_debug("loud");
	assert_int_equal(fake.calls, 4);
	assert_int_equal(fake.pri, LOG_DEBUG);
	assert_string_equal(fake.msg, "supervisor: loud");

	log_init(1, LOG_DAEMON);
	assert_int_equal(fake.opened, 1);
	log_info("back on stderr");
	assert_int_equal(fake.calls, 4);
	out = cap_end();
	assert_string_equal(out, expect_line(getpid(),
	    "supervisor: back on stderr"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_stamp, setup),
		cmocka_unit_test_setup(test_info_format, setup),
		cmocka_unit_test_setup(test_warn_appends_strerror, setup),
		cmocka_unit_test_setup(test_verbosity, setup),
		cmocka_unit_test_setup(test_errno_preserved, setup),
		cmocka_unit_test_setup(test_control_chars_escaped, setup),
		cmocka_unit_test_setup(test_long_line_cut, setup),
		cmocka_unit_test_setup(test_lines_atomic, setup),
		cmocka_unit_test_setup(test_fatal, setup),
		cmocka_unit_test_setup(test_fatal_syslog_crit, setup),
		cmocka_unit_test_setup(test_syslog_mode, setup),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
