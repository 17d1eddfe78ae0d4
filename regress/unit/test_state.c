/* SPDX-License-Identifier: ISC */
/*
 * test_state.c -- the state file (supervisor/state.c): what is written
 * (mode, content, a round trip of intents, counts, exits and pids),
 * what is read back only on the same boot (pids), version 1 still read,
 * and every kind of file that is set aside as .corrupt instead of being
 * believed.  Each test works in its own mkdtemp directory.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
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

#include "supervisor/child.h"
#include "supervisor/state.h"
#include "unit.h"

static char		 dir[64];
static char		 path[128];
static char		 boot[64];
static struct state_inst fake[3];
static size_t		 nfake;
static struct state_proc fakep[2];
static size_t		 nfakep;

static int	 setup(void **);
static int	 teardown(void **);
static void	 list(struct state_rec *);
static void	 put(const char *);
static int	 exists(const char *);
static void	 corrupt(const char *);

static int
setup(void **state)
{
	(void)strlcpy(dir, "/tmp/apm2st.XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/lib/state.json", dir);
	assert_int_equal(procstat_boot_id(boot, sizeof(boot)), 0);
	nfake = nfakep = 0;
	return (0);
}

static int
teardown(void **state)
{
	rm_tree(dir);
	return (0);
}

static void
list(struct state_rec *rec)
{
	if (nfake > 0) {
		assert_non_null(rec->insts = calloc(nfake,
		    sizeof(*rec->insts)));
		memcpy(rec->insts, fake, nfake * sizeof(*rec->insts));
		rec->ninsts = nfake;
	}
	if (nfakep > 0) {
		assert_non_null(rec->procs = calloc(nfakep,
		    sizeof(*rec->procs)));
		memcpy(rec->procs, fakep, nfakep * sizeof(*rec->procs));
		rec->nprocs = nfakep;
	}
}

static void
put(const char *s)
{
	int	fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >=
	    0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static int
exists(const char *p)
{
	struct stat	st;

	return (lstat(p, &st) == 0);
}

/* A file that is set aside, not believed. */
static void
corrupt(const char *text)
{
	struct state_rec	 rec;
	char			 aside[160];

	(void)snprintf(aside, sizeof(aside), "%s.corrupt", path);
	(void)unlink(aside);
	put(text);
	state_load(&rec);
	assert_int_equal(rec.ninsts + rec.nprocs, 0);
	assert_null(rec.insts);
	assert_null(rec.procs);
	assert_false(exists(path));
	assert_true(exists(aside));
}

/* Written 0600 in a 0700 directory it made; read back on this boot. */
static void
test_round_trip(void **state)
{
	struct state_rec	 rec;
	struct stat		 st;
	char			 d[160];
	uint64_t		 before;

	assert_int_equal(state_init(path, list), 0);
	(void)snprintf(d, sizeof(d), "%s/lib", dir);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	state_load(&rec);				/* none yet */
	assert_int_equal(rec.ninsts + rec.nprocs, 0);

	(void)strlcpy(fake[0].name, "web \"x\"", sizeof(fake[0].name));
	fake[0].index = 3;
	fake[0].pid = 4242;
	fake[0].start_ns = 18446744073709551615ULL;
	fake[0].restarts = 7;
	(void)strlcpy(fake[0].cgroup, "web-3", sizeof(fake[0].cgroup));
	(void)strlcpy(fake[1].name, "db", sizeof(fake[1].name));
	fake[1].pid = 2;
	fake[1].start_ns = 1;
	(void)strlcpy(fake[2].name, "batch", sizeof(fake[2].name));
	fake[2].index = 1;
	fake[2].restarts = 4294967295U;
	fake[2].has_last = 1;
	fake[2].last.kind = ST_CRASHED;
	fake[2].last.has_code = 1;
	fake[2].last.exit_code = -2147483647 - 1;
	nfake = 3;
	(void)strlcpy(fakep[0].name, "db", sizeof(fakep[0].name));
	fakep[0].intent = INTENT_STOPPED;
	(void)strlcpy(fakep[1].name, "batch", sizeof(fakep[1].name));
	fakep[1].intent = INTENT_STARTED;
	nfakep = 2;
	before = procstat_now();
	state_changed();
	state_flush();
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	(void)snprintf(d, sizeof(d), "%s.tmp", path);
	assert_false(exists(d));

	state_load(&rec);
	assert_int_equal(rec.ninsts, 3);
	assert_true(rec.written_ns >= before &&
	    rec.written_ns <= procstat_now());
	assert_string_equal(rec.insts[0].name, "web \"x\"");
	assert_int_equal(rec.insts[0].index, 3);
	assert_int_equal(rec.insts[0].pid, 4242);
	assert_true(rec.insts[0].start_ns == 18446744073709551615ULL);
	assert_int_equal(rec.insts[0].restarts, 7);
	assert_string_equal(rec.insts[0].cgroup, "web-3");
	assert_string_equal(rec.insts[1].cgroup, "");
	assert_false(rec.insts[0].has_last);
	assert_string_equal(rec.insts[1].name, "db");
	assert_int_equal(rec.insts[1].pid, 2);
	assert_int_equal(rec.insts[2].pid, 0);
	assert_int_equal(rec.insts[2].restarts, 4294967295U);
	assert_true(rec.insts[2].has_last);
	assert_int_equal(rec.insts[2].last.kind, ST_CRASHED);
	assert_true(rec.insts[2].last.has_code);
	assert_int_equal(rec.insts[2].last.exit_code, -2147483647 - 1);
	assert_int_equal(rec.nprocs, 2);
	assert_string_equal(rec.procs[0].name, "db");
	assert_int_equal(rec.procs[0].intent, INTENT_STOPPED);
	assert_string_equal(rec.procs[1].name, "batch");
	assert_int_equal(rec.procs[1].intent, INTENT_STARTED);
	state_rec_free(&rec);
	assert_null(rec.insts);

	/* Nothing changed: no write. */
	assert_int_equal(unlink(path), 0);
	state_flush();
	assert_false(exists(path));
}

/*
 * Another boot's pids mean nothing here, but the file is fine: its
 * counts, exits and intents hold.  Version 1 is read.
 */
static void
test_other_boot(void **state)
{
	struct state_rec	 rec;
	char			 text[512];

	assert_int_equal(state_init(path, list), 0);
	put("{\"version\":1,\"boot_id\":\"00000000-0000-0000-0000-00000000"
	    "0000\",\"written_ns\":5,\"instances\":[{\"process\":\"a\","
	    "\"index\":0,\"pid\":100,\"start_ns\":1}]}");
	state_load(&rec);
	assert_int_equal(rec.ninsts, 1);
	assert_int_equal(rec.insts[0].pid, 0);
	state_rec_free(&rec);
	assert_true(exists(path));
	put("{\"version\":2,\"boot_id\":\"0\",\"processes\":[{\"process\":"
	    "\"a\",\"intent\":\"stopped\"}],\"instances\":[{\"process\":"
	    "\"a\",\"index\":1,\"restarts\":3,\"last\":{\"state\":"
	    "\"Terminated\"},\"pid\":100,\"start_ns\":1}]}");
	state_load(&rec);
	assert_int_equal(rec.ninsts, 1);
	assert_int_equal(rec.insts[0].pid, 0);
	assert_int_equal(rec.insts[0].restarts, 3);
	assert_int_equal(rec.insts[0].last.kind, ST_TERMINATED);
	assert_false(rec.insts[0].last.has_code);
	assert_int_equal(rec.nprocs, 1);
	assert_int_equal(rec.procs[0].intent, INTENT_STOPPED);
	state_rec_free(&rec);
	/* Unknown keys (a later field) are skipped. */
	(void)snprintf(text, sizeof(text), "{\"version\":1,\"boot_id\":\"%s\","
	    "\"later\":{\"x\":[1]},\"instances\":[{\"process\":\"a\","
	    "\"index\":0,\"pid\":100,\"start_ns\":1,\"cgroup\":\"/x\"}]}",
	    boot);
	put(text);
	state_load(&rec);
	assert_int_equal(rec.ninsts, 1);
	assert_int_equal(rec.insts[0].pid, 100);
	state_rec_free(&rec);
}

static void
test_set_aside(void **state)
{
	char	text[512];
	size_t	i;
	static const char *const bad[] = {
		"not json",
		"[]",
		"{\"boot_id\":\"x\",\"instances\":[]}",
		"{\"version\":3,\"processes\":[],\"instances\":[]}",
		"{\"version\":2,\"instances\":[]}",
		"{\"version\":1,\"processes\":[],\"instances\":[]}",
		"{\"version\":\"1\",\"instances\":[]}",
		"{\"version\":1,\"instances\":{}}",
		"{\"version\":1}",
		"{\"version\":1,\"instances\":[{\"process\":\"a\",\"index\":0,"
		    "\"pid\":1,\"start_ns\":1}]}",		/* pid 1 */
		"{\"version\":1,\"instances\":[{\"process\":\"a\",\"index\":0,"
		    "\"pid\":-5,\"start_ns\":1}]}",
		"{\"version\":1,\"instances\":[{\"process\":\"\",\"index\":0,"
		    "\"pid\":9,\"start_ns\":1}]}",
		"{\"version\":1,\"instances\":[{\"process\":\"a\",\"index\":0,"
		    "\"pid\":9}]}",
		"{\"version\":1,\"instances\":[{\"process\":\"a\","
		    "\"index\":0}]}",
		"{\"version\":1,\"instances\":[{\"process\":\"a\\u0000b\","
		    "\"index\":0,\"pid\":9,\"start_ns\":1}]}",
		"{\"version\":1,\"instances\":[7]}",
		"{\"version\":1,\"version\":1,\"instances\":[]}",
		"{\"version\":2,\"processes\":[],\"instances\":[{\"process\":"
		    "\"a\",\"index\":0,\"start_ns\":1}]}",	/* no pid */
		"{\"version\":2,\"processes\":[],\"instances\":[{\"process\":"
		    "\"a\",\"index\":0,\"restarts\":-1}]}",
		"{\"version\":2,\"processes\":[],\"instances\":[{\"process\":"
		    "\"a\",\"index\":0,\"last\":{\"state\":\"Running\"}}]}",
		"{\"version\":2,\"processes\":[],\"instances\":[{\"process\":"
		    "\"a\",\"index\":0,\"last\":{\"exit_code\":1}}]}",
		"{\"version\":2,\"processes\":[],\"instances\":[{\"process\":"
		    "\"a\",\"index\":0,\"last\":{\"state\":\"Terminated\","
		    "\"exit_code\":1}}]}",
		"{\"version\":2,\"processes\":[{\"process\":\"a\"}],"
		    "\"instances\":[]}",
		"{\"version\":2,\"processes\":[{\"process\":\"a\",\"intent\":"
		    "\"paused\"}],\"instances\":[]}",
		"{\"version\":2,\"processes\":{},\"instances\":[]}",
		"{\"version\":2,\"processes\":[],\"instances\":[{\"process\":"
		    "\"a\",\"index\":0,\"cgroup\":\"\"}]}",
		"{\"version\":2,\"processes\":[],\"instances\":[{\"process\":"
		    "\"a\",\"index\":0,\"cgroup\":7}]}",
	};

	assert_int_equal(state_init(path, list), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		corrupt(bad[i]);
	/* A name longer than any process's. */
	(void)snprintf(text, sizeof(text), "{\"version\":1,\"boot_id\":\"%s\","
	    "\"instances\":[{\"process\":\"%070d\",\"index\":0,\"pid\":9,"
	    "\"start_ns\":1}]}", boot, 0);
	corrupt(text);
}

/* A link or a directory in its place is not read; a world-writable
 * directory is not used at all. */
static void
test_not_a_file(void **state)
{
	struct state_rec	 rec;
	char			 other[160], d[128];

	assert_int_equal(state_init(path, list), 0);
	(void)snprintf(other, sizeof(other), "%s/other", dir);
	put("{}");
	assert_int_equal(rename(path, other), 0);
	assert_int_equal(symlink(other, path), 0);
	state_load(&rec);
	assert_int_equal(rec.ninsts + rec.nprocs, 0);
	assert_true(exists(other));

	(void)snprintf(d, sizeof(d), "%s/lib", dir);
	assert_int_equal(chmod(d, 0777), 0);
	assert_int_equal(state_init(path, list), -1);
	nfake = 1;
	state_changed();
	state_flush();
	state_load(&rec);
	assert_int_equal(rec.ninsts + rec.nprocs, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_boot, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_set_aside, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup,
		    teardown),
	};

	struct event_base	*base;
	int			 r;

	base = event_init();	/* state.c's write timer lives here */
	r = cmocka_run_group_tests(tests, NULL, NULL);
	event_base_free(base);
	return (r);
}
