/* SPDX-License-Identifier: ISC */
/*
 * test_sysutil.c -- the user database lookups and the monotonic clock
 * helpers (common/sysutil.c).
 *
 * getgrouplist(3) is replaced here by a fake database whose sizes the
 * tests choose, answering as glibc does: as many groups as fit, the
 * real count in *ngroups, -1 when they did not all fit.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sysutil.h"

#define NOSUCH		"apm2-no-such-entry"

static int	fake_ngroups;	/* groups of user "fake", base included */
static int	fake_calls;

int	getgrouplist(const char *, gid_t, gid_t *, int *);

int
getgrouplist(const char *user, gid_t base, gid_t *groups, int *ngroups)
{
	int	i;

	fake_calls++;
	if (strcmp(user, "fake") != 0) {
		if (*ngroups < 1) {
			*ngroups = 1;
			return (-1);
		}
		groups[0] = base;
		*ngroups = 1;
		return (1);
	}
	for (i = 0; i < fake_ngroups && i < *ngroups; i++)
		groups[i] = i == 0 ? base : (gid_t)(1000 + i);
	i = *ngroups;
	*ngroups = fake_ngroups;
	return (fake_ngroups > i ? -1 : fake_ngroups);
}

/* Our own entry both ways round, and the ids alone. */
static void
t_passwd(void **state)
{
	struct passwd	*pw, *pw2;
	uid_t		 uid;
	gid_t		 gid;

	pw = pw_byuid(getuid());
	assert_non_null(pw);
	assert_int_equal(pw->pw_uid, getuid());
	pw2 = pw_byname(pw->pw_name);
	assert_non_null(pw2);
	assert_int_equal(pw2->pw_uid, pw->pw_uid);
	assert_int_equal(pw2->pw_gid, pw->pw_gid);
	assert_string_equal(pw2->pw_dir, pw->pw_dir);
	assert_int_equal(user_ids(pw->pw_name, &uid, &gid), 0);
	assert_int_equal(uid, pw->pw_uid);
	assert_int_equal(gid, pw->pw_gid);
	free(pw2);
	free(pw);
}

static void
t_group(void **state)
{
	struct group	*gr;
	gid_t		 gid = 12345;

	gr = gr_byname("root");
	assert_non_null(gr);
	assert_int_equal(gr->gr_gid, 0);
	assert_string_equal(gr->gr_name, "root");
	free(gr);
	assert_int_equal(group_id("root", &gid), 0);
	assert_int_equal(gid, 0);
}

/* Not found is errno 0, which callers tell from a lookup error. */
static void
t_not_found(void **state)
{
	uid_t	uid = 7;
	gid_t	gid = 7;

	errno = EINVAL;
	assert_null(pw_byname(NOSUCH));
	assert_int_equal(errno, 0);
	errno = EINVAL;
	assert_null(gr_byname(NOSUCH));
	assert_int_equal(errno, 0);
	errno = EINVAL;
	assert_null(pw_byuid((uid_t)0x7ffffff0));
	assert_int_equal(errno, 0);
	assert_int_equal(user_ids(NOSUCH, &uid, &gid), -1);
	assert_int_equal(group_id(NOSUCH, &gid), -1);
	assert_int_equal(uid, 7);
	assert_int_equal(gid, 7);
}

static void
want_groups(int total, int max, int rv, int n)
{
	gid_t	*g = NULL;
	int	 got = -1, i;

	fake_ngroups = total;
	fake_calls = 0;
	assert_int_equal(grouplist_get("fake", 42, max, &g, &got), rv);
	assert_int_equal(got, n);
	assert_non_null(g);
	assert_int_equal(g[0], 42);
	for (i = 1; i < n; i++)
		assert_int_equal(g[i], 1000 + i);
	/* Told the count, the list grows once, not step by step. */
	assert_true(fake_calls <= 3);
	free(g);
}

static void
t_grouplist(void **state)
{
	want_groups(1, 65536, 0, 1);
	want_groups(16, 65536, 0, 16);
	want_groups(17, 65536, 0, 17);
	want_groups(5000, 65536, 0, 5000);
	want_groups(65536, 65536, 0, 65536);
	/* More than max: the first max, said so. */
	want_groups(65537, 65536, 1, 65536);
	want_groups(100, 40, 1, 40);
	want_groups(100, 1, 1, 1);
	want_groups(3, 3, 0, 3);
	want_groups(3, 2, 1, 2);
}

static void
t_mono(void **state)
{
	struct timespec	ts;
	uint64_t	ns, ns2;
	int64_t		ms;

	ns = mono_ns();
	ms = mono_ms();
	ns2 = mono_ns();
	assert_true(ns2 >= ns);
	assert_true((uint64_t)ms * 1000000 + 1000000 > ns);
	assert_true((uint64_t)ms * 1000000 <= ns2);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_int_equal(mono_secs_since(&ts), 0);
	ts.tv_sec -= 5;
	assert_int_equal(mono_secs_since(&ts), 5);
	/* Later in that second: not yet 5 whole seconds. */
	ts.tv_nsec = 999999999;
	assert_true(mono_secs_since(&ts) == 4 || mono_secs_since(&ts) == 5);
	ts.tv_sec += 3600;
	assert_int_equal(mono_secs_since(&ts), 0);	/* never negative */
}

static void
t_timeval(void **state)
{
	struct timeval	tv;

	ns_to_tv(1500000000ULL, &tv);
	assert_int_equal(tv.tv_sec, 1);
	assert_int_equal(tv.tv_usec, 500000);
	ns_to_tv(UINT64_MAX, &tv);
	assert_int_equal(tv.tv_sec, 365 * 86400);
	ms_to_tv(2250, &tv);
	assert_int_equal(tv.tv_sec, 2);
	assert_int_equal(tv.tv_usec, 250000);
	ms_to_tv(-5, &tv);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_passwd),
		cmocka_unit_test(t_group),
		cmocka_unit_test(t_not_found),
		cmocka_unit_test(t_grouplist),
		cmocka_unit_test(t_mono),
		cmocka_unit_test(t_timeval),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
