/* SPDX-License-Identifier: ISC */
/*
 * test_confdiff.c -- what a reload would change (common/confdiff.c):
 * each kind of difference, each key that makes a process "changed" and
 * each policy key, the single-instance rule for scaling, the order of
 * entries, the [daemon] keys, and the lines apm2ctl reread prints.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "confdiff.h"
#include "unit.h"

static struct config	*load(const char *);
static const struct confdiff_ent *find(const struct confdiff *,
		    const char *);
static void	 one(const char *, const char *, enum confdiff_kind,
		    unsigned int, unsigned int);

#define BASE	"[[processes]]\nname = \"web\"\ncommand = \"/bin/sleep\"\n"
#define CRED	"[[credentials]]\nid = \"k\"\nprovider = \"claude\"\n" \
		"auth_method = \"api_key\"\n"

static struct config *
load(const char *s)
{
	struct config_errors	 e;
	struct config		*c;

	c = config_parse_buf("t.toml", s, strlen(s), &e);
	if (c == NULL && e.n > 0)
		fprintf(stderr, "%s\n", e.msgs[0]);
	config_errors_free(&e);
	assert_non_null(c);
	return (c);
}

static const struct confdiff_ent *
find(const struct confdiff *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return (&d->v[i]);
	fail_msg("%s: not in the diff", name);
	return (NULL);
}

/* web as a, then as b: one entry of kind, with keys and policy. */
static void
one(const char *a, const char *b, enum confdiff_kind kind, unsigned int keys,
    unsigned int policy)
{
	struct config		*x, *y;
	struct confdiff		 d;
	const struct confdiff_ent *e;

	x = load(a);
	y = load(b);
	assert_int_equal(confdiff(x, y, &d), 0);
	assert_int_equal(d.n, 1);
	e = find(&d, "web");
	if (e->kind != kind || e->keys != keys || e->policy != policy)
		fail_msg("%s\n->\n%s\nkind %d keys %#x policy %#x, want %d "
		    "%#x %#x", a, b, e->kind, e->keys, e->policy, kind, keys,
		    policy);
	assert_int_equal(d.ndaemon, 0);
	confdiff_free(&d);
	config_free(x);
	config_free(y);
}

static void
test_unchanged(void **state)
{
	one(BASE "env = { A = \"1\", B = \"2\" }\n",
	    BASE "env = { B = \"2\", A = \"1\" }\n", CD_UNCHANGED, 0, 0);
	one(BASE, BASE "[processes.log]\n", CD_UNCHANGED, 0, 0);
}

static void
test_changed_keys(void **state)
{
	static const struct {
		const char	*add;
		unsigned int	 key;
	} t[] = {
		{ "args = [\"1\"]\n", CDK_ARGS },
		{ "cwd = \"/tmp\"\n", CDK_CWD },
		{ "env = { A = \"1\" }\n", CDK_ENV },
		{ "umask = \"077\"\n", CDK_UMASK },
		{ "inherit_env = true\n", CDK_INHERIT_ENV },
		{ "[processes.limits]\nnofile = 64\n", CDK_LIMITS },
		{ "[processes.log]\nout_file = \"w.log\"\n", CDK_LOG },
		{ "[processes.log]\nmerge_stderr = true\n", CDK_LOG },
		{ "[processes.log]\ntimestamp = true\n", CDK_LOG },
		{ "[processes.log]\nredact = false\n", CDK_LOG },
		{ "instances = 2\n", CDK_INSTANCES },
	};
	char	b[512];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)snprintf(b, sizeof(b), "%s%s", BASE, t[i].add);
		one(BASE, b, CD_CHANGED, t[i].key, 0);
		one(b, BASE, CD_CHANGED, t[i].key, 0);
	}
	one(BASE, "[[processes]]\nname = \"web\"\ncommand = \"/bin/true\"\n",
	    CD_CHANGED, CDK_COMMAND, 0);
	one(BASE "args = [\"1\"]\n", BASE "args = [\"1\", \"2\"]\n",
	    CD_CHANGED, CDK_ARGS, 0);
	one(BASE "env = { A = \"1\" }\n", BASE "env = { A = \"2\" }\n",
	    CD_CHANGED, CDK_ENV, 0);
	one(CRED BASE, CRED BASE "[processes.credentials]\nprofile = \"k\"\n",
	    CD_CHANGED, CDK_CREDENTIALS, 0);
	/* Two keys, and a policy key with them. */
	one(BASE, BASE "args = [\"1\"]\nenv = { A = \"1\" }\n"
	    "[processes.restart]\nmax_restarts = 9\n", CD_CHANGED,
	    CDK_ARGS | CDK_ENV, CDP_RESTART);
}

static void
test_scaled(void **state)
{
	one(BASE "instances = 2\n", BASE "instances = 4\n", CD_SCALED, 0, 0);
	one(BASE "instances = 4\n", BASE "instances = 3\n", CD_SCALED, 0, 0);
	one(BASE "instances = 2\n", BASE "instances = 4\nautostart = false\n",
	    CD_SCALED, 0, CDP_AUTOSTART);
	/* From or to one instance, names change: a replacement. */
	one(BASE "instances = 2\n", BASE, CD_CHANGED, CDK_INSTANCES, 0);
}

static void
test_policy(void **state)
{
	one(BASE, BASE "[processes.restart]\nmin_uptime = \"1s\"\n",
	    CD_POLICY, 0, CDP_RESTART);
	one(BASE, BASE "[processes.restart.backoff]\ntype = \"fixed\"\n"
	    "delay = \"2s\"\n", CD_POLICY, 0, CDP_RESTART);
	one(BASE, BASE "[processes.health]\ntype = \"tcp\"\nhost = "
	    "\"127.0.0.1\"\nport = 80\n", CD_POLICY, 0, CDP_HEALTH);
	one(BASE, BASE "[processes.log.rotation]\nmax_files = 3\n",
	    CD_POLICY, 0, CDP_ROTATION);
	one(BASE, BASE "[processes.shutdown]\nsignal = \"INT\"\n",
	    CD_POLICY, 0, CDP_SHUTDOWN);
	one(BASE, BASE "[processes.shutdown]\npre_shutdown_commands = "
	    "[\"true\"]\n", CD_POLICY, 0, CDP_SHUTDOWN);
	one(BASE, BASE "autostart = false\n", CD_POLICY, 0, CDP_AUTOSTART);
}

/* Added in the new file's order, removed after, in the old one's. */
static void
test_added_removed_order(void **state)
{
	struct config	*x, *y;
	struct confdiff	 d;
	size_t		 c[CD_POLICY + 1];

	x = load(BASE "[[processes]]\nname = \"old1\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"keep\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"old2\"\ncommand = \"x\"\n");
	y = load("[[processes]]\nname = \"new1\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"keep\"\ncommand = \"x\"\n" BASE);
	assert_int_equal(confdiff(x, y, &d), 0);
	assert_int_equal(d.n, 5);
	assert_string_equal(d.v[0].name, "new1");
	assert_int_equal(d.v[0].kind, CD_ADDED);
	assert_null(d.v[0].old);
	assert_string_equal(d.v[1].name, "keep");
	assert_int_equal(d.v[1].kind, CD_UNCHANGED);
	assert_string_equal(d.v[2].name, "web");
	assert_string_equal(d.v[3].name, "old1");
	assert_int_equal(d.v[3].kind, CD_REMOVED);
	assert_null(d.v[3].new);
	assert_string_equal(d.v[4].name, "old2");
	confdiff_count(&d, c);
	assert_int_equal(c[CD_ADDED], 1);
	assert_int_equal(c[CD_REMOVED], 2);
	assert_int_equal(c[CD_UNCHANGED], 2);
	confdiff_free(&d);
	config_free(x);
	config_free(y);
}

static void
test_daemon_keys(void **state)
{
	struct config	*x, *y;
	struct confdiff	 d;

	x = load("[daemon]\nsocket = \"/a.sock\"\nshutdown_timeout = \"5s\"\n"
	    BASE);
	y = load("[daemon]\nsocket = \"/b.sock\"\nshutdown_timeout = \"6s\"\n"
	    "log_memory = \"2M\"\n" BASE);
	assert_int_equal(confdiff(x, y, &d), 0);
	assert_int_equal(d.ndaemon, 3);
	assert_string_equal(d.daemon[0], "socket");
	assert_string_equal(d.daemon[1], "shutdown_timeout");
	assert_string_equal(d.daemon[2], "log_memory");
	assert_int_equal(find(&d, "web")->kind, CD_UNCHANGED);
	confdiff_free(&d);
	config_free(x);
	config_free(y);
}

static void
test_lines(void **state)
{
	struct config	*x, *y;
	struct confdiff	 d;
	char		 buf[128];
	int		 r;

	x = load(BASE "[[processes]]\nname = \"api\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"batch\"\ncommand = \"x\"\ninstances = 2\n"
	    "[[processes]]\nname = \"old\"\ncommand = \"x\"\n");
	y = load(BASE "autostart = false\n"
	    "[[processes]]\nname = \"api\"\ncommand = \"x\"\nargs = [\"a\"]\n"
	    "env = { X = \"1\" }\n"
	    "[[processes]]\nname = \"batch\"\ncommand = \"x\"\ninstances = 4\n"
	    "[[processes]]\nname = \"new\"\ncommand = \"x\"\n");
	assert_int_equal(confdiff(x, y, &d), 0);
	assert_true(confdiff_line(find(&d, "new"), buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "+ new (added)");
	(void)confdiff_line(find(&d, "old"), buf, sizeof(buf));
	assert_string_equal(buf, "- old (removed)");
	(void)confdiff_line(find(&d, "api"), buf, sizeof(buf));
	assert_string_equal(buf, "~ api (changed: args, env)");
	(void)confdiff_line(find(&d, "batch"), buf, sizeof(buf));
	assert_string_equal(buf, "# batch (instances 2 -> 4)");
	(void)confdiff_line(find(&d, "web"), buf, sizeof(buf));
	assert_string_equal(buf, "* web (policy: autostart)");
	/* Truncation is said, as snprintf says it. */
	assert_int_equal(confdiff_line(find(&d, "api"), buf, 4),
	    (int)strlen("~ api (changed: args, env)"));
	assert_string_equal(buf, "~ a");
	r = confdiff_keys(CDK__ALL, 0, buf, sizeof(buf));
	assert_int_equal(r, (int)strlen(buf));
	assert_string_equal(buf, "command, args, cwd, env, user, group, "
	    "umask, limits, log, credentials, inherit_env, instances");
	assert_int_equal(confdiff_keys(0, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	confdiff_free(&d);
	config_free(x);
	config_free(y);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_changed_keys),
		cmocka_unit_test(test_scaled),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_added_removed_order),
		cmocka_unit_test(test_daemon_keys),
		cmocka_unit_test(test_lines),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
