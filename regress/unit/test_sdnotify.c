/* SPDX-License-Identifier: ISC */
/*
 * test_sdnotify.c -- the service manager's notification protocol
 * (common/sdnotify.c) and the supervisor's STATUS= text
 * (supervisor/notify.c): addresses, values, the environment, and what
 * a datagram socket receives.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"
#include "supervisor/notify.h"
#include "unit.h"

static char	tmpdir[] = "/tmp/apm2-sdnotify-XXXXXX";

static int	 bind_dgram(const struct sockaddr_un *, socklen_t);
static void	 want_recv(int, const char *);
static void	 want_value(size_t, const char *, const char *);

static int
bind_dgram(const struct sockaddr_un *sun, socklen_t len)
{
	struct timeval	tv = { 5, 0 };
	int		fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	if (bind(fd, (const struct sockaddr *)sun, len) == -1)
		fail_msg("bind: %s", strerror(errno));
	/* Bounded: a datagram that never comes fails the test. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	return (fd);
}

static void
want_recv(int fd, const char *msg)
{
	char	buf[SDNOTIFY_MSG_MAX + 1];
	ssize_t	n;

	if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) == -1)
		fail_msg("recv: %s", strerror(errno));
	buf[n] = '\0';
	assert_string_equal(buf, msg);
}

static void
want_value(size_t len, const char *in, const char *out)
{
	char	buf[64];

	assert_true(len <= sizeof(buf));
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(sdnotify_value(buf, len, in), strlen(out));
	assert_string_equal(buf, out);
}

/* A path is taken whole, with its terminator, if it fits. */
static void
t_addr_path(void **state)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			path[sizeof(sun.sun_path) + 1];

	assert_int_equal(sdnotify_addr("/run/systemd/notify", &sun, &len),
	    0);
	assert_int_equal(sun.sun_family, AF_UNIX);
	assert_string_equal(sun.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen("/run/systemd/notify") + 1);

	/* The longest that fits, and one more. */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(sun.sun_path) - 1] = '\0';
	assert_int_equal(sdnotify_addr(path, &sun, &len), 0);
	assert_int_equal(len, sizeof(sun));
	path[sizeof(sun.sun_path) - 1] = 'a';
	path[sizeof(sun.sun_path)] = '\0';
	assert_int_equal(sdnotify_addr(path, &sun, &len), -1);
}

/* '@' names Linux's abstract namespace: a NUL, then the name exactly. */
static void
t_addr_abstract(void **state)
{
	struct sockaddr_un	sun;
	socklen_t		len;

#ifdef __linux__
	assert_int_equal(sdnotify_addr("@/org/x/notify", &sun, &len), 0);
	assert_int_equal(sun.sun_path[0], '\0');
	assert_memory_equal(sun.sun_path + 1, "/org/x/notify", 13);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 14);
#else
	assert_int_equal(sdnotify_addr("@/org/x/notify", &sun, &len), -1);
#endif
	/* No name at all is not an address. */
	assert_int_equal(sdnotify_addr("@", &sun, &len), -1);
}

/* Relative paths (we run in /), empty strings and other schemes: no. */
static void
t_addr_refused(void **state)
{
	struct sockaddr_un	sun;
	socklen_t		len;

	assert_int_equal(sdnotify_addr("", &sun, &len), -1);
	assert_int_equal(sdnotify_addr("run/notify", &sun, &len), -1);
	assert_int_equal(sdnotify_addr("./notify", &sun, &len), -1);
	assert_int_equal(sdnotify_addr("vsock:2:1234", &sun, &len), -1);
}

/* A value is one line, with no control characters, cut whole. */
static void
t_value(void **state)
{
	want_value(64, "12 of 14 instances running",
	    "12 of 14 instances running");
	want_value(64, "first line\nsecond line", "first line");
	want_value(64, "tab\there\rand\x7f", "tab?here?and?");
	want_value(64, "", "");
	want_value(6, "abcdefgh", "abcde");
	want_value(1, "abc", "");
	/* "é" is two bytes: never half of it. */
	want_value(5, "abc\xc3\xa9", "abc");
	want_value(6, "abc\xc3\xa9", "abc\xc3\xa9");
	want_value(7, "ab\xe2\x82\xac\xe2\x82\xac", "ab\xe2\x82\xac");
	assert_int_equal(sdnotify_value(NULL, 0, "x"), 0);
}

static void
t_status_text(void **state)
{
	char	buf[64];

	assert_int_equal(notify_status_text(buf, sizeof(buf), 0, 12, 14),
	    strlen("12 of 14 instances running"));
	assert_string_equal(buf, "12 of 14 instances running");
	notify_status_text(buf, sizeof(buf), 0, 1, 1);
	assert_string_equal(buf, "1 of 1 instance running");
	notify_status_text(buf, sizeof(buf), 0, 0, 0);
	assert_string_equal(buf, "0 of 0 instances running");
	notify_status_text(buf, sizeof(buf), 1, 3, 5000);
	assert_string_equal(buf, "shutting down: 3 of 5000 instances running");
	assert_int_equal(notify_status_text(buf, 8, 0, 12, 14), 7);
	assert_string_equal(buf, "12 of 1");
}

/*
 * sdnotify_open() takes $NOTIFY_SOCKET out of the environment whatever
 * it holds, so that nothing started later inherits it; only a usable
 * address turns notifications on.
 */
static void
t_open_env(void **state)
{
	assert_int_equal(unsetenv(SDNOTIFY_ENV), 0);
	assert_int_equal(sdnotify_open(), 0);
	assert_int_equal(sdnotify_enabled(), 0);
	assert_int_equal(sdnotify_send("READY=1"), -1);

	assert_int_equal(setenv(SDNOTIFY_ENV, "", 1), 0);
	assert_int_equal(sdnotify_open(), 0);
	assert_null(getenv(SDNOTIFY_ENV));

	assert_int_equal(setenv(SDNOTIFY_ENV, "relative/notify", 1), 0);
	assert_int_equal(sdnotify_open(), 0);
	assert_null(getenv(SDNOTIFY_ENV));
	assert_int_equal(sdnotify_enabled(), 0);

	assert_int_equal(setenv(SDNOTIFY_ENV, "/nonexistent/notify", 1), 0);
	assert_int_equal(sdnotify_open(), 1);
	assert_null(getenv(SDNOTIFY_ENV));
	assert_int_equal(sdnotify_enabled(), 1);
	/* Nobody there: dropped, and the caller goes on. */
	assert_int_equal(sdnotify_send("READY=1"), -1);
	assert_int_equal(sdnotify_send("STOPPING=1"), -1);
	sdnotify_close();
	assert_int_equal(sdnotify_enabled(), 0);
}

/* One datagram per message, as sent, to a path. */
static void
t_send_path(void **state)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			path[128], big[SDNOTIFY_MSG_MAX + 1];
	int			fd, nfd = count_fds();

	snprintf(path, sizeof(path), "%s/notify", tmpdir);
	assert_int_equal(sdnotify_addr(path, &sun, &len), 0);
	fd = bind_dgram(&sun, len);
	assert_int_equal(setenv(SDNOTIFY_ENV, path, 1), 0);
	assert_int_equal(sdnotify_open(), 1);
	assert_int_equal(count_fds(), nfd + 2);
	assert_int_equal(sdnotify_send("READY=1\nSTATUS=%u of %u", 2u, 3u),
	    0);
	want_recv(fd, "READY=1\nSTATUS=2 of 3");
	assert_int_equal(sdnotify_send("STOPPING=1"), 0);
	want_recv(fd, "STOPPING=1");
	/* Too long for one datagram: not sent at all, never cut. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sdnotify_send("STATUS=%s", big), -1);
	assert_int_equal(sdnotify_send("RELOADING=1"), 0);
	want_recv(fd, "RELOADING=1");
	/* Opening again does not leak the socket. */
	assert_int_equal(setenv(SDNOTIFY_ENV, path, 1), 0);
	assert_int_equal(sdnotify_open(), 1);
	assert_int_equal(count_fds(), nfd + 2);
	sdnotify_close();
	close(fd);
	unlink(path);
	assert_int_equal(count_fds(), nfd);
}

/*
 * A manager that does not read: the queue fills and the send fails at
 * once (EAGAIN) instead of blocking.
 */
static void
t_send_full(void **state)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			path[128];
	int			fd, i, sent = 0;

	snprintf(path, sizeof(path), "%s/full", tmpdir);
	assert_int_equal(sdnotify_addr(path, &sun, &len), 0);
	fd = bind_dgram(&sun, len);
	assert_int_equal(setenv(SDNOTIFY_ENV, path, 1), 0);
	assert_int_equal(sdnotify_open(), 1);
	for (i = 0; i < 10000; i++)
		if (sdnotify_send("STATUS=%d", i) == 0)
			sent++;
	assert_true(sent > 0);
	assert_true(sent < 10000);
	want_recv(fd, "STATUS=0");
	sdnotify_close();
	close(fd);
	unlink(path);
}

static void
t_send_abstract(void **state)
{
#ifdef __linux__
	struct sockaddr_un	sun;
	socklen_t		len;
	char			name[64];
	int			fd;

	snprintf(name, sizeof(name), "@apm2-test-sdnotify-%ld",
	    (long)getpid());
	assert_int_equal(sdnotify_addr(name, &sun, &len), 0);
	fd = bind_dgram(&sun, len);
	assert_int_equal(setenv(SDNOTIFY_ENV, name, 1), 0);
	assert_int_equal(sdnotify_open(), 1);
	assert_int_equal(sdnotify_send("READY=1"), 0);
	want_recv(fd, "READY=1");
	sdnotify_close();
	close(fd);
#else
	skip();
#endif
}

static int
setup(void **state)
{
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	return (0);
}

static int
teardown(void **state)
{
	rm_tree(tmpdir);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_addr_path),
		cmocka_unit_test(t_addr_abstract),
		cmocka_unit_test(t_addr_refused),
		cmocka_unit_test(t_value),
		cmocka_unit_test(t_status_text),
		cmocka_unit_test(t_open_env),
		cmocka_unit_test(t_send_path),
		cmocka_unit_test(t_send_full),
		cmocka_unit_test(t_send_abstract),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
