/* SPDX-License-Identifier: ISC */
/*
 * test_cgroup.c -- the cgroup limits of [processes.limits]
 * (supervisor/cgroup.c, supervisor/proclimits.c) on a made-up cgroup
 * tree of plain files in a mkdtemp directory: which controllers are
 * turned on, what each limit file receives, why a limit is not applied
 * (controller missing, file missing, dry run), what the kernel refused,
 * and the OOM kill count.  The hosts the suite runs on often have no
 * controller in their unified hierarchy, so this is where the values
 * written are checked.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "proto.h"
#include "supervisor/cgroup.h"
#include "supervisor/proclimits.h"
#include "unit.h"

static char	dir[64];

static int	 setup(void **);
static int	 teardown(void **);
static void	 put(const char *, const char *, const char *);
static void	 get(const char *, const char *, char *, size_t);
static void	 mk(const char *);
static const char *cgdir(const char *);
static void	 cgfiles(const char *);
static unsigned int all_cg_limits(void);
static void	 limits_all(struct limits_config *);

static int
setup(void **state)
{
	(void)strlcpy(dir, "/tmp/apm2cg.XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	mk("svc");
	put("svc", "cgroup.controllers", "cpuset cpu io memory pids\n");
	put("svc", "cgroup.subtree_control", "");
	return (0);
}

static int
teardown(void **state)
{
	rm_tree(dir);
	return (0);
}

/* dir/sub/file := s */
static void
put(const char *sub, const char *file, const char *s)
{
	char	path[PATH_MAX];
	int	fd;

	(void)snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, file);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >=
	    0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void
get(const char *sub, const char *file, char *buf, size_t len)
{
	char	path[PATH_MAX];
	ssize_t	n;
	int	fd;

	(void)snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, file);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_true((n = read(fd, buf, len - 1)) >= 0);
	buf[n] = '\0';
	close(fd);
}

static void
mk(const char *sub)
{
	char	path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, sub);
	assert_int_equal(mkdir(path, 0755), 0);
}

static const char *
cgdir(const char *sub)
{
	static char	path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, sub);
	return (path);
}

/* What a cgroup with every controller on offers, as empty files. */
static void
cgfiles(const char *sub)
{
	static const char *const files[] = {
		"cgroup.procs", "cgroup.subtree_control", "memory.max",
		"memory.high", "pids.max", "cpu.max", "io.weight"
	};
	size_t	i;

	mk(sub);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(sub, files[i], "");
}

static unsigned int
all_cg_limits(void)
{
	unsigned int	want = 0;
	int		k;

	for (k = LIMIT_RLIMITS; k < LIMIT__COUNT; k++)
		want |= 1U << k;
	return (want);
}

static void
limits_all(struct limits_config *l)
{
	memset(l, 0, sizeof(*l));
	l->set[LIMIT_NPROC] = 1;
	l->value[LIMIT_NPROC] = 64;
	l->set[LIMIT_MEMORY_MAX] = 1;
	l->value[LIMIT_MEMORY_MAX] = 512ULL << 20;
	l->set[LIMIT_MEMORY_HIGH] = 1;
	l->value[LIMIT_MEMORY_HIGH] = 400000000;
	l->set[LIMIT_PIDS_MAX] = 1;
	l->value[LIMIT_PIDS_MAX] = 50;
	l->set[LIMIT_CPU_MAX] = 1;
	l->value[LIMIT_CPU_MAX] = 250;
	l->set[LIMIT_IO_WEIGHT] = 1;
	l->value[LIMIT_IO_WEIGHT] = 300;
}

/* Every controller offered: each limit file gets its value. */
static void
test_limits_written(void **state)
{
	struct limits_config	l;
	int			errs[LIMIT__COUNT], fd, k, made = 0;
	char			buf[256];

	cgfiles("svc/apm2d.t");
	cgfiles("svc/apm2d.t/w");
	assert_int_equal(cg_setup(dir, "/svc", "t", all_cg_limits(), 0), 1);
	assert_true(cg_enabled());
	for (k = 0; k < LIMIT__COUNT; k++)
		assert_null(cg_limit_why(k));
	/* Turned on in our cgroup's subtree and in ours, "io" last. */
	get("svc", "cgroup.subtree_control", buf, sizeof(buf));
	assert_memory_equal(buf, "+io", 3);
	get("svc/apm2d.t", "cgroup.subtree_control", buf, sizeof(buf));
	assert_memory_equal(buf, "+io", 3);

	limits_all(&l);
	assert_true((fd = cg_procs_fd("w", &l, errs, &made)) >= 0);
	close(fd);
	for (k = 0; k < LIMIT__COUNT; k++)
		assert_int_equal(errs[k], 0);
	get("svc/apm2d.t/w", "memory.max", buf, sizeof(buf));
	assert_string_equal(buf, "536870912");
	get("svc/apm2d.t/w", "memory.high", buf, sizeof(buf));
	assert_string_equal(buf, "400000000");
	get("svc/apm2d.t/w", "pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "50");
	get("svc/apm2d.t/w", "cpu.max", buf, sizeof(buf));
	assert_string_equal(buf, "250000 100000");	/* 2.5 CPUs */
	get("svc/apm2d.t/w", "io.weight", buf, sizeof(buf));
	assert_string_equal(buf, "default 300");
	assert_int_equal(made, 1);

	/* The next run reuses it: nothing is written again. */
	put("svc/apm2d.t/w", "pids.max", "kept");
	assert_true((fd = cg_procs_fd("w", &l, errs, &made)) >= 0);
	close(fd);
	get("svc/apm2d.t/w", "pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "kept");
	/* Gone meanwhile: made again, limits and all. */
	rm_tree(cgdir("svc/apm2d.t/w"));
	assert_int_equal(cg_procs_fd("w", &l, errs, &made), -1);
	assert_int_equal(made, 1);
	assert_true(access(cgdir("svc/apm2d.t/w"), F_OK) == 0);
}

/*
 * A limit whose file the kernel does not offer (io.weight without the
 * I/O cost model), and a cgroup whose files refuse: said, not written.
 */
static void
test_limits_missing_file(void **state)
{
	struct limits_config	l;
	struct s_limit		out[LIMIT__COUNT];
	const char		*why;
	char			path[PATH_MAX];
	int			errs[LIMIT__COUNT], made = 0;
	size_t			n;

	cgfiles("svc/apm2d.t");
	(void)snprintf(path, sizeof(path), "%s/svc/apm2d.t/io.weight", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cg_setup(dir, "/svc", "t", all_cg_limits(), 0), 1);
	assert_null(cg_limit_why(LIMIT_MEMORY_MAX));
	assert_non_null(why = cg_limit_why(LIMIT_IO_WEIGHT));
	assert_non_null(strstr(why, "offers no io.weight"));

	/* A fresh cgroup with no files: every write fails, ENOENT. */
	limits_all(&l);
	assert_int_equal(cg_procs_fd("x", &l, errs, &made), -1);
	assert_int_equal(errs[LIMIT_MEMORY_MAX], ENOENT);
	assert_int_equal(errs[LIMIT_PIDS_MAX], ENOENT);
	assert_int_equal(errs[LIMIT_IO_WEIGHT], 0);	/* not tried */

	n = limits_fill(&l, errs, out, LIMIT__COUNT);
	assert_int_equal(n, 6);
	assert_string_equal(out[0].name, "nproc");
	assert_true(out[0].in_force && !out[0].has_reason);
	assert_int_equal(out[0].value, 64);
	assert_string_equal(out[1].name, "memory_max");
	assert_int_equal(out[1].value, 512ULL << 20);
	assert_false(out[1].in_force);
	assert_string_equal(out[1].reason, "the kernel refused memory.max: "
	    "No such file or directory");
	assert_string_equal(out[5].name, "io_weight");
	assert_false(out[5].in_force);
	assert_true(out[5].has_reason);
	assert_non_null(strstr(out[5].reason, "offers no io.weight"));
}

/* Controllers not offered to our cgroup (a hybrid host). */
static void
test_limits_no_controller(void **state)
{
	struct limits_config	l;
	struct s_limit		out[LIMIT__COUNT];
	char			want[PATH_MAX * 2];
	int			errs[LIMIT__COUNT], fd, made = 0;

	put("svc", "cgroup.controllers", "cpuset hugetlb\n");
	cgfiles("svc/apm2d.t");
	cgfiles("svc/apm2d.t/w");
	assert_int_equal(cg_setup(dir, "/svc", "t", 1U << LIMIT_PIDS_MAX |
	    1U << LIMIT_CPU_MAX, 0), 1);
	(void)snprintf(want, sizeof(want), "the pids controller is not "
	    "available in the cgroup apm2d runs in (%s/svc)", dir);
	assert_string_equal(cg_limit_why(LIMIT_PIDS_MAX), want);
	assert_non_null(strstr(cg_limit_why(LIMIT_CPU_MAX), "the cpu "
	    "controller"));
	/* Not asked for: nothing said. */
	assert_null(cg_limit_why(LIMIT_MEMORY_MAX));

	memset(&l, 0, sizeof(l));
	l.set[LIMIT_PIDS_MAX] = 1;
	l.value[LIMIT_PIDS_MAX] = 7;
	put("svc/apm2d.t/w", "pids.max", "max");
	assert_true((fd = cg_procs_fd("w", &l, errs, &made)) >= 0);
	close(fd);
	get("svc/apm2d.t/w", "pids.max", want, sizeof(want));
	assert_string_equal(want, "max");	/* left alone */
	assert_int_equal(limits_fill(&l, errs, out, LIMIT__COUNT), 1);
	assert_false(out[0].in_force);
	assert_non_null(strstr(out[0].reason, "pids controller"));
}

/* apm2d -n: nothing made, the same verdicts. */
static void
test_limits_dry(void **state)
{
	char	path[PATH_MAX];

	put("svc", "cgroup.controllers", "memory\n");
	assert_int_equal(cg_setup(dir, "/svc", "t", all_cg_limits(), 1), 1);
	assert_false(cg_enabled());
	(void)snprintf(path, sizeof(path), "%s/svc/apm2d.t", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_null(cg_limit_why(LIMIT_MEMORY_MAX));
	assert_non_null(strstr(cg_limit_why(LIMIT_PIDS_MAX),
	    "pids controller is not available"));
	/* A cgroup we may not write: no cgroups at all. */
	assert_int_equal(cg_setup(dir, "/nonexistent", "t", all_cg_limits(),
	    1), 0);
	assert_non_null(strstr(cg_limit_why(LIMIT_MEMORY_MAX),
	    "No such file or directory"));
}

static void
test_oom_kills(void **state)
{
	cgfiles("svc/apm2d.t");
	cgfiles("svc/apm2d.t/w");
	assert_int_equal(cg_setup(dir, "/svc", "t", 0, 0), 1);
	assert_int_equal(cg_oom_kills("w"), 0);	/* no memory.events */
	put("svc/apm2d.t/w", "memory.events", "low 0\nhigh 4\nmax 9\n"
	    "oom 2\noom_kill 3\noom_group_kill 0\n");
	assert_int_equal(cg_oom_kills("w"), 3);
	put("svc/apm2d.t/w", "memory.events", "oom_kill 1\n");
	assert_int_equal(cg_oom_kills("w"), 1);
	put("svc/apm2d.t/w", "memory.events", "oom_group_kill 5\n");
	assert_int_equal(cg_oom_kills("w"), 0);
}

/*
 * cg_kill without cgroup.kill (before Linux 5.14): frozen, each pid
 * killed, thawed.  Here no pid is in it; the freeze file tells.
 */
static void
test_kill_without_cgroup_kill(void **state)
{
	char	buf[64];

	cgfiles("svc/apm2d.t");
	cgfiles("svc/apm2d.t/w");
	put("svc/apm2d.t/w", "cgroup.freeze", "");
	put("svc/apm2d.t/w", "cgroup.events", "populated 0\nfrozen 0\n");
	assert_int_equal(cg_setup(dir, "/svc", "t", 0, 0), 1);
	cg_kill("w");
	get("svc/apm2d.t/w", "cgroup.freeze", buf, sizeof(buf));
	assert_string_equal(buf, "0");	/* "1", then "0" over it */
	/* With cgroup.kill, that is all it writes. */
	put("svc/apm2d.t/w", "cgroup.kill", "");
	put("svc/apm2d.t/w", "cgroup.freeze", "");
	cg_kill("w");
	get("svc/apm2d.t/w", "cgroup.kill", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	get("svc/apm2d.t/w", "cgroup.freeze", buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limits_written, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limits_missing_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_no_controller,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_dry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_oom_kills, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kill_without_cgroup_kill,
		    setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
