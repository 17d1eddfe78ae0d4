/* SPDX-License-Identifier: ISC */
/*
 * test_config.c -- the ecosystem.toml model (common/config.c).
 *
 * Most tests feed inline TOML to config_parse_buf() under the file name
 * "t.toml" and compare the exact messages, positions included.  Run from
 * the repository root (the samples are read from etc/).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
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

#include "config.h"
#include "unit.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* The smallest valid process, lines 1-3; what follows starts at line 4. */
#define P0	"[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
/* The end of every bad-name message. */
#define RULES	"letters, digits, '.', '_' and '-', starting with a letter " \
		"or digit"

struct err_case {
	const char	*toml;
	const char	*msg;
};

static char	 tmpdir[PATH_MAX];

static struct config *parse(const char *, struct config_errors *);
static struct config *ok(const char *);
static void	 dump(const struct config_errors *);
static void	 expect1(const char *, const char *);
static void	 expectn(const char *, const char *const *, size_t);
static void	 run_cases(const struct err_case *, size_t);
static const char *sample(const char *);
static int	 as_nobody(int (*)(void));
static int	 nonroot_checks(void);
static int	 samples_nonroot(void);
static int	 load_nonroot(void);
static const char *sample_copy(const char *);
static int	 setup_tmp(void **);
static int	 teardown_tmp(void **);
static void	 tmppath(char *, size_t, const char *);
static void	 load_ok(const char *);
static void	 load_fails(const char *, const char *);
static void	 load_size_limit(void);
static void	 dirs_owner(uid_t);
static void	 paths_are(const struct config *, size_t, uint32_t,
		    const char *, const char *);
static void	 dirs_writable(uid_t);
static void	 load_root_file(void);
static void	 load_root_dirs(void);
static void	 load_root_links(void);
static void	 writefile(const char *, const char *, mode_t);
static int	 dureq(const struct duration *, uint64_t, uint32_t);

static struct config *
parse(const char *s, struct config_errors *e)
{
	return (config_parse_buf("t.toml", s, strlen(s), e));
}

static void
dump(const struct config_errors *e)
{
	size_t	i;

	for (i = 0; i < e->n; i++)
		print_message("  error: %s\n", e->msgs[i]);
}

/* s must load without any error. */
static struct config *
ok(const char *s)
{
	struct config_errors	 e;
	struct config		*cfg;

	cfg = parse(s, &e);
	if (cfg == NULL || e.n != 0) {
		print_message("unexpected errors for:\n%s\n", s);
		dump(&e);
	}
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	config_errors_free(&e);
	return (cfg);
}

static void
expectn(const char *s, const char *const *msgs, size_t n)
{
	struct config_errors	 e;
	struct config		*cfg;
	size_t			 i;
	int			 same;

	cfg = parse(s, &e);
	same = cfg == NULL && e.n == n;
	for (i = 0; same && i < n; i++)
		same = strcmp(e.msgs[i], msgs[i]) == 0;
	if (!same) {
		print_message("input:\n%s\nexpected:\n", s);
		for (i = 0; i < n; i++)
			print_message("  error: %s\n", msgs[i]);
		print_message("got (%s):\n", cfg == NULL ? "NULL" : "config");
		dump(&e);
	}
	config_free(cfg);
	config_errors_free(&e);
	assert_true(same);
}

static void
expect1(const char *s, const char *msg)
{
	expectn(s, &msg, 1);
}

static void
run_cases(const struct err_case *c, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		expect1(c[i].toml, c[i].msg);
}

static int
dureq(const struct duration *d, uint64_t sec, uint32_t nsec)
{
	return (d->sec == sec && d->nsec == nsec);
}

static const char *
sample(const char *name)
{
	static char	buf[PATH_MAX];

	(void)snprintf(buf, sizeof(buf), "etc/%s", name);
	if (access(buf, R_OK) == 0)
		return (buf);
	(void)snprintf(buf, sizeof(buf), "../../etc/%s", name);
	return (buf);
}

/*
 * As root, config_load() wants a root-owned file in root-owned
 * directories; a checkout belonging to a user is not that, so load a
 * copy made in tmpdir.  The samples run their agents as "nobody", which
 * only root may do: anybody else's copy names themselves instead.
 */
#define NOBODY	"user = \"nobody\""
static const char *
sample_copy(const char *name)
{
	static char	 path[PATH_MAX + 32];
	char		 buf[65536];
	const char	*p, *q, *who = "nobody";
	struct passwd	*pw;
	ssize_t		 n;
	int		 in, out;

	tmppath(path, sizeof(path), name);
	assert_true((in = open(sample(name), O_RDONLY)) != -1);
	assert_true((out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) !=
	    -1);
	n = read(in, buf, sizeof(buf) - 1);
	assert_true(n > 0 && n < (ssize_t)sizeof(buf) - 1);
	buf[n] = '\0';
	close(in);
	/* Not root: the agents run as us, as etc/run-demo.sh makes them. */
	if ((pw = getpwuid(geteuid())) != NULL)
		who = pw->pw_name;
	for (p = buf; (q = strstr(p, NOBODY)) != NULL;
	    p = q + sizeof(NOBODY) - 1)
		dprintf(out, "%.*suser = \"%s\"", (int)(q - p), p, who);
	dprintf(out, "%s", p);
	close(out);
	return (path);
}

static int
setup_tmp(void **state)
{
	(void)strlcpy(tmpdir, "/tmp/test_config.XXXXXX", sizeof(tmpdir));
	return (mkdtemp(tmpdir) == NULL ? -1 : 0);
}

static int
teardown_tmp(void **state)
{
	rm_tree(tmpdir);
	return (0);
}

static void
tmppath(char *buf, size_t len, const char *name)
{
	(void)snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* Loading path succeeds. */
static void
load_ok(const char *path)
{
	struct config_errors	 e;
	struct config		*cfg;

	cfg = config_load(path, &e);
	assert_non_null(cfg);
	config_free(cfg);
	config_errors_free(&e);
}

/* Loading path fails, and the first error is want. */
static void
load_fails(const char *path, const char *want)
{
	struct config_errors	 e;
	struct config		*cfg;

	cfg = config_load(path, &e);
	assert_null(cfg);
	assert_true(e.n >= 1);
	assert_string_equal(e.msgs[0], want);
	config_errors_free(&e);
}

static void
writefile(const char *path, const char *s, mode_t mode)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd != -1);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/*
 * Run fn in a child as nobody (when we are root) or directly.  0 if fn
 * returned 0.
 */
static int
as_nobody(int (*fn)(void))
{
	struct passwd	*pw;
	pid_t		 pid;
	int		 status;

	if (geteuid() != 0)
		return (fn());
	if ((pw = getpwnam("nobody")) == NULL)
		return (-1);
	fflush(NULL);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
			_exit(2);
		_exit(fn() == 0 ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) == -1)
		return (-1);
	return (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/*
 * Defaults.
 */

/* Among them CTR-D018's shutdown deadline of 10 s. */
static void
test_defaults_empty(void **state)
{
	struct config	*cfg;

	cfg = ok("");
	assert_string_equal(cfg->path, "t.toml");
	assert_string_equal(cfg->daemon.pid_file, "/var/run/apm2/apm2.pid");
	assert_string_equal(cfg->daemon.socket, "/var/run/apm2/apm2.sock");
	assert_string_equal(cfg->daemon.log_dir, "/var/log/apm2");
	assert_string_equal(cfg->daemon.state_file,
	    "/var/lib/apm2/state.json");
	assert_string_equal(cfg->daemon.user, "_apm2d");
	assert_int_equal(cfg->daemon.user_found,
	    getpwnam("_apm2d") != NULL);
	assert_string_equal(cfg->daemon.chroot, "/var/empty");
	assert_int_equal(cfg->daemon.socket_mode, 0666);
	assert_null(cfg->daemon.socket_group);
	assert_null(cfg->daemon.admin_group);
	assert_true(dureq(&cfg->daemon.shutdown_timeout, 10, 0));
	assert_true(dureq(&cfg->daemon.idle_timeout, 60, 0));
	assert_int_equal(cfg->daemon.max_conns_per_user, 64);
	assert_int_equal(cfg->ncreds, 0);
	assert_int_equal(cfg->nprocs, 0);
	assert_null(cfg->creds);
	assert_null(cfg->procs);
	config_free(cfg);

	/* comments and an empty [daemon] change nothing */
	cfg = ok("# nothing\n[daemon]\n");
	assert_string_equal(cfg->daemon.socket, "/var/run/apm2/apm2.sock");
	assert_string_equal(cfg->daemon.user, "_apm2d");
	config_free(cfg);

	/* empty arrays of tables are fine */
	cfg = ok("processes = []\ncredentials = []\n");
	assert_int_equal(cfg->nprocs, 0);
	config_free(cfg);
}

static void
test_proc_defaults(void **state)
{
	struct config		*cfg;
	const struct proc_config *p;

	cfg = ok(P0);
	assert_int_equal(cfg->nprocs, 1);
	p = &cfg->procs[0];
	assert_string_equal(p->name, "a");
	assert_int_equal(p->pos.line, 1);
	assert_int_equal(p->pos.col, 3);
	assert_string_equal(p->command, "x");
	assert_int_equal(p->nargs, 0);
	assert_null(p->args);
	assert_null(p->cwd);
	assert_int_equal(p->nenv, 0);
	assert_int_equal(p->instances, 1);
	/* restart §2.8 */
	assert_int_equal(p->restart.max_restarts, 5);
	assert_true(dureq(&p->restart.restart_window, 60, 0));
	assert_true(dureq(&p->restart.min_uptime, 30, 0));
	assert_int_equal(p->restart.restart_on_success, 0);
	assert_int_equal(p->restart.backoff_present, 0);
	assert_int_equal(p->restart.backoff.type, BACKOFF_EXPONENTIAL);
	assert_true(dureq(&p->restart.backoff.initial_delay, 1, 0));
	assert_true(dureq(&p->restart.backoff.max_delay, 300, 0));
	assert_true(p->restart.backoff.multiplier == 2.0);
	/* health §2.9 */
	assert_int_equal(p->health_present, 0);
	assert_int_equal(p->health.type, HEALTH_NONE);
	assert_true(dureq(&p->health.interval, 30, 0));
	assert_true(dureq(&p->health.timeout, 5, 0));
	assert_int_equal(p->health.unhealthy_threshold, 3);
	assert_int_equal(p->health.healthy_threshold, 1);
	assert_true(dureq(&p->health.initial_delay, 0, 0));
	/* log §2.10 */
	assert_int_equal(p->log_present, 0);
	assert_null(p->log.out_file);
	assert_null(p->log.err_file);
	assert_null(p->log.combined_file);
	assert_int_equal(p->log.merge_stderr, 0);
	assert_int_equal(p->log.timestamp, 0);
	assert_string_equal(p->log.timestamp_format, "%Y-%m-%d %H:%M:%S%.3f");
	assert_int_equal(p->log.redact, 1);
	assert_int_equal(p->log.rotation_present, 0);
	assert_int_equal(p->log.rotation.max_size, 10485760);
	assert_int_equal(p->log.rotation.max_files, 10);
	assert_int_equal(p->log.rotation.compress, 0);
	assert_int_equal(p->log.rotation.mode, ROTATE_SIZE);
	/* shutdown §2.11 */
	assert_true(dureq(&p->shutdown.timeout, 30, 0));
	assert_int_equal(p->shutdown.signo, SIGTERM);
	assert_true(dureq(&p->shutdown.kill_delay, 0, 0));
	assert_int_equal(p->shutdown.force_kill, 1);
	assert_int_equal(p->shutdown.n_pre_shutdown_commands, 0);
	/* credentials §2.12 */
	assert_int_equal(p->creds_present, 0);
	assert_null(p->creds.profile);
	assert_int_equal(p->creds.hot_swap, 0);
	assert_int_equal(p->creds.hot_swap_signo, SIGHUP);
	assert_int_equal(p->creds.auto_refresh, 0);
	assert_int_equal(p->creds.n_env_mapping, 0);
	assert_null(p->creds.config_file);
	/* ours */
	assert_null(p->user);
	assert_null(p->group);
	assert_int_equal(p->has_umask, 0);
	assert_int_equal(p->autostart, 1);
	assert_int_equal(p->inherit_env, 0);
	config_free(cfg);

	/* a table written with defaults only is "present" */
	cfg = ok(P0 "[processes.log]\n[processes.log.rotation]\n");
	assert_int_equal(cfg->procs[0].log_present, 1);
	assert_int_equal(cfg->procs[0].log.rotation_present, 1);
	assert_int_equal(cfg->procs[0].log.rotation.max_files, 10);
	config_free(cfg);
	cfg = ok(P0 "[processes.log]\nredact = false\n");
	assert_int_equal(cfg->procs[0].log_present, 1);
	assert_int_equal(cfg->procs[0].log.rotation_present, 0);
	assert_int_equal(cfg->procs[0].log.redact, 0);
	config_free(cfg);
}

/*
 * [daemon]
 */

static void
test_daemon_valid(void **state)
{
	struct config	*cfg;

	cfg = ok("[daemon]\n"
	    "pid_file = \"/run/a.pid\"\n"
	    "socket = \"/run/a.sock\"\n"
	    "log_dir = \"/l\"\n"
	    "state_file = \"/s.json\"\n"
	    "user = \"nobody\"\n"
	    "chroot = \"/var/lib/empty\"\n"
	    "socket_mode = \"0660\"\n"
	    "socket_group = \"nogroup\"\n"
	    "admin_group = \"root\"\n"
	    "shutdown_timeout = \"1m 30s\"\n");
	assert_string_equal(cfg->daemon.pid_file, "/run/a.pid");
	assert_string_equal(cfg->daemon.socket, "/run/a.sock");
	assert_string_equal(cfg->daemon.log_dir, "/l");
	assert_string_equal(cfg->daemon.state_file, "/s.json");
	assert_string_equal(cfg->daemon.user, "nobody");
	assert_int_equal(cfg->daemon.user_found, 1);
	assert_int_equal(cfg->daemon.uid, getpwnam("nobody")->pw_uid);
	assert_int_equal(cfg->daemon.gid, getpwnam("nobody")->pw_gid);
	assert_string_equal(cfg->daemon.chroot, "/var/lib/empty");
	assert_int_equal(cfg->daemon.socket_mode, 0660);
	assert_string_equal(cfg->daemon.socket_group, "nogroup");
	assert_int_equal(cfg->daemon.socket_gid, getgrnam("nogroup")->gr_gid);
	assert_string_equal(cfg->daemon.admin_group, "root");
	assert_int_equal(cfg->daemon.admin_gid, 0);
	assert_true(dureq(&cfg->daemon.shutdown_timeout, 90, 0));
	config_free(cfg);

	/* relative paths are allowed (the demo script passes overrides) */
	cfg = ok("[daemon]\nsocket = \"a.sock\"\nsocket_mode = \"0\"\n"
	    "shutdown_timeout = \"0\"\n");
	assert_string_equal(cfg->daemon.socket, "a.sock");
	assert_int_equal(cfg->daemon.socket_mode, 0);
	assert_true(dureq(&cfg->daemon.shutdown_timeout, 0, 0));
	config_free(cfg);

	/* inline form */
	cfg = ok("daemon = { socket_mode = \"600\", socket = \"/x\" }\n");
	assert_int_equal(cfg->daemon.socket_mode, 0600);
	config_free(cfg);
}

static const struct err_case daemon_cases[] = {
	{ "daemon = 1\n",
	  "t.toml:1:10: daemon: expected table, got integer" },
	{ "[daemon]\npid_file = 1\n",
	  "t.toml:2:12: daemon.pid_file: expected string, got "
	  "integer" },
	{ "[daemon]\npid_file = 1979-05-27\n",
	  "t.toml:2:12: daemon.pid_file: expected string, got local "
	  "date" },
	{ "[daemon]\nsocket = \"\"\n",
	  "t.toml:2:10: daemon.socket: must not be empty" },
	{ "[daemon]\nlog_dir = \"a\\u0000b\"\n",
	  "t.toml:2:11: daemon.log_dir: must not contain a NUL "
	  "character" },
	{ "[daemon]\nstate_file = false\n",
	  "t.toml:2:14: daemon.state_file: expected string, got "
	  "boolean" },
	{ "[daemon]\nchroot = \"var/empty\"\n",
	  "t.toml:2:10: daemon.chroot: must be an absolute path" },
	{ "[daemon]\nuser = \"no-such-user-xyz\"\n",
	  "t.toml:2:8: daemon.user: unknown user "
	  "\"no-such-user-xyz\"" },
	{ "[daemon]\nuser = \"\"\n",
	  "t.toml:2:8: daemon.user: must not be empty" },
	{ "[daemon]\nsocket_mode = 660\n",
	  "t.toml:2:15: daemon.socket_mode: expected string (octal "
	  "digits such as \"0660\"), got integer" },
	{ "[daemon]\nsocket_mode = \"0o660\"\n",
	  "t.toml:2:15: daemon.socket_mode: \"0o660\" is not an octal "
	  "number" },
	{ "[daemon]\nsocket_mode = \"0968\"\n",
	  "t.toml:2:15: daemon.socket_mode: \"0968\" is not an octal "
	  "number" },
	{ "[daemon]\nsocket_mode = \"\"\n",
	  "t.toml:2:15: daemon.socket_mode: \"\" is not an octal "
	  "number" },
	{ "[daemon]\nsocket_mode = \"-1\"\n",
	  "t.toml:2:15: daemon.socket_mode: \"-1\" is not an octal "
	  "number" },
	{ "[daemon]\nsocket_mode = \"1000\"\n",
	  "t.toml:2:15: daemon.socket_mode: \"1000\" is out of range "
	  "(at most 0777)" },
	{ "[daemon]\nsocket_mode = \"7777777777777777777777\"\n",
	  "t.toml:2:15: daemon.socket_mode: \"7777777777777777777777\" "
	  "is out of range (at most 0777)" },
	{ "[daemon]\nsocket_group = \"no-such-group-xyz\"\n",
	  "t.toml:2:16: daemon.socket_group: unknown group "
	  "\"no-such-group-xyz\"" },
	{ "[daemon]\nadmin_group = \"no-such-group-xyz\"\n",
	  "t.toml:2:15: daemon.admin_group: unknown group "
	  "\"no-such-group-xyz\"" },
	{ "[daemon]\nadmin_group = [\"wheel\"]\n",
	  "t.toml:2:15: daemon.admin_group: expected string, got "
	  "array" },
	{ "[daemon]\nshutdown_timeout = 10\n",
	  "t.toml:2:20: daemon.shutdown_timeout: expected string (a "
	  "duration such as \"30s\"), got integer" },
	{ "[daemon]\nshutdown_timeout = \"10\"\n",
	  "t.toml:2:20: daemon.shutdown_timeout: invalid duration "
	  "\"10\": time unit needed, for example 10sec or 10ms" },
	{ "[daemon]\nshutdown_timeout = \"-5s\"\n",
	  "t.toml:2:20: daemon.shutdown_timeout: invalid duration "
	  "\"-5s\": expected number at 0" },
	{ "[daemon]\nshutdown_timeout = \"\"\n",
	  "t.toml:2:20: daemon.shutdown_timeout: invalid duration "
	  "\"\": value was empty" },
	{ "[daemon]\nbogus = 1\n",
	  "t.toml:2:1: daemon: unknown key \"bogus\"" },
	{ "[daemon]\n\"a b\" = 1\n",
	  "t.toml:2:1: daemon: unknown key \"a b\"" },
	{ "[daemon]\n\"q\\\"\\u0001\" = 1\n",
	  "t.toml:2:1: daemon: unknown key \"q\\\"\\x01\"" },
	{ "[daemon.sub]\n",
	  "t.toml:1:9: daemon: unknown key \"sub\"" },
};

static void
test_daemon_errors(void **state)
{
	static char	longsock[300];
	char		buf[512];

	run_cases(daemon_cases, nitems(daemon_cases));

	/* sun_path is 108 bytes on Linux, 104 on the BSDs */
	memset(longsock, 'a', sizeof(longsock) - 1);
	longsock[0] = '/';
	(void)snprintf(buf, sizeof(buf), "[daemon]\nsocket = \"%s\"\n",
	    longsock);
	{
		struct config_errors	 e;
		struct config		*cfg;

		cfg = parse(buf, &e);
		assert_null(cfg);
		assert_int_equal(e.n, 1);
		assert_non_null(strstr(e.msgs[0], "t.toml:2:10: daemon.socket:"
		    " longer than "));
		assert_non_null(strstr(e.msgs[0], "the limit of a Unix socket "
		    "address"));
		config_errors_free(&e);
	}
}

/* [processes.limits]: counts, seconds and bytes; errors with positions. */
static const struct err_case limits_cases[] = {
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\nnproc = 0\n",
	  "t.toml:5:9: processes[0].limits.nproc: must be at least 1, got "
	  "0" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\nas = -1\n",
	  "t.toml:5:6: processes[0].limits.as: must be at least 1, got -1" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\ncpu = \"10s\"\n",
	  "t.toml:5:7: processes[0].limits.cpu: expected integer, got "
	  "string" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\nmemory = 1\n",
	  "t.toml:5:1: processes[0].limits: unknown key \"memory\"" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\nmemory_max = \"512X\"\n",
	  "t.toml:5:14: processes[0].limits.memory_max: invalid value "
	  "\"512X\": expected a number of bytes with an optional K, M, G or "
	  "T" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\nmemory_high = \"16777216T\"\n",
	  "t.toml:5:15: processes[0].limits.memory_high: invalid value "
	  "\"16777216T\": expected a number of bytes with an optional K, M, "
	  "G or T" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\nmemory_max = \"\"\n",
	  "t.toml:5:14: processes[0].limits.memory_max: invalid value "
	  "\"\": expected a number of bytes with an optional K, M, G or T" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\nmemory_max = true\n",
	  "t.toml:5:14: processes[0].limits.memory_max: expected integer or "
	  "string (bytes such as 536870912 or \"512M\"), got boolean" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\npids_max = \"10\"\n",
	  "t.toml:5:12: processes[0].limits.pids_max: expected integer, got "
	  "string" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\npids_max = 0\n",
	  "t.toml:5:12: processes[0].limits.pids_max: must be at least 1, got "
	  "0" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\ncpu_max = 50\n",
	  "t.toml:5:11: processes[0].limits.cpu_max: expected string (a share "
	  "of one CPU such as \"50%\"), got integer" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\ncpu_max = \"50\"\n",
	  "t.toml:5:11: processes[0].limits.cpu_max: invalid value \"50\": "
	  "expected a whole percentage of one CPU from 1% to 100000%" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\ncpu_max = \"0%\"\n",
	  "t.toml:5:11: processes[0].limits.cpu_max: invalid value \"0%\": "
	  "expected a whole percentage of one CPU from 1% to 100000%" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\ncpu_max = \"12.5%\"\n",
	  "t.toml:5:11: processes[0].limits.cpu_max: invalid value "
	  "\"12.5%\": expected a whole percentage of one CPU from 1% to "
	  "100000%" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	  "[processes.limits]\nio_weight = 10001\n",
	  "t.toml:5:13: processes[0].limits.io_weight: must be at most 10000, "
	  "got 10001" },
};

static void
test_proc_limits(void **state)
{
	struct config_errors	 e;
	struct config		*cfg;
	const struct limits_config *l;
	int			 k;

	cfg = parse("[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	    "[processes.limits]\nnofile = 64\nnproc = 20\ncore = 0\n"
	    "cpu = 3600\nas = 4294967296\ndata = 1073741824\n"
	    "[[processes]]\nname = \"b\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"c\"\ncommand = \"x\"\n"
	    "[processes.limits]\nmemory_max = \"512M\"\n"
	    "memory_high = 123456789\npids_max = 64\ncpu_max = \"250%\"\n"
	    "io_weight = 10000\nas = \"3T\"\ndata = \"2K\"\n"
	    "core = \"0\"\n", &e);
	if (cfg == NULL)
		dump(&e);
	assert_non_null(cfg);
	l = &cfg->procs[0].limits;
	assert_true(l->set[LIMIT_NOFILE] && l->value[LIMIT_NOFILE] == 64);
	assert_true(l->set[LIMIT_NPROC] && l->value[LIMIT_NPROC] == 20);
	assert_true(l->set[LIMIT_CORE] && l->value[LIMIT_CORE] == 0);
	assert_true(l->set[LIMIT_CPU] && l->value[LIMIT_CPU] == 3600);
	assert_true(l->set[LIMIT_AS] && l->value[LIMIT_AS] == 4294967296ULL);
	assert_true(l->set[LIMIT_DATA] &&
	    l->value[LIMIT_DATA] == 1073741824ULL);
	assert_false(l->set[LIMIT_MEMORY_MAX] || l->set[LIMIT_PIDS_MAX]);
	/* None set: the process keeps what the daemon has. */
	l = &cfg->procs[1].limits;
	for (k = 0; k < LIMIT__COUNT; k++)
		assert_false(l->set[k]);
	l = &cfg->procs[2].limits;
	assert_true(l->set[LIMIT_MEMORY_MAX] &&
	    l->value[LIMIT_MEMORY_MAX] == 512ULL << 20);
	assert_true(l->set[LIMIT_MEMORY_HIGH] &&
	    l->value[LIMIT_MEMORY_HIGH] == 123456789);
	assert_true(l->set[LIMIT_PIDS_MAX] && l->value[LIMIT_PIDS_MAX] == 64);
	assert_true(l->set[LIMIT_CPU_MAX] && l->value[LIMIT_CPU_MAX] == 250);
	assert_true(l->set[LIMIT_IO_WEIGHT] &&
	    l->value[LIMIT_IO_WEIGHT] == 10000);
	assert_true(l->set[LIMIT_AS] && l->value[LIMIT_AS] == 3ULL << 40);
	assert_true(l->set[LIMIT_DATA] && l->value[LIMIT_DATA] == 2048);
	assert_true(l->set[LIMIT_CORE] && l->value[LIMIT_CORE] == 0);
	assert_string_equal(config_limit_name(LIMIT_AS), "as");
	assert_string_equal(config_limit_name(LIMIT_CPU_MAX), "cpu_max");
	assert_null(config_limit_name(LIMIT__COUNT));
	config_free(cfg);
	config_errors_free(&e);
	run_cases(limits_cases, nitems(limits_cases));
}

/*
 * [daemon] idle_timeout, max_connections_per_user, log_memory and
 * max_open_log_files.
 */
static void
test_daemon_limits(void **state)
{
	static const struct err_case cases[] = {
		{ "[daemon]\nidle_timeout = \"86401s\"\n",
		  "t.toml:2:16: daemon.idle_timeout: longer than 86400 s" },
		{ "[daemon]\nidle_timeout = \"1day 1ms\"\n",
		  "t.toml:2:16: daemon.idle_timeout: longer than 86400 s" },
		{ "[daemon]\nidle_timeout = \"2y\"\n",
		  "t.toml:2:16: daemon.idle_timeout: longer than 86400 s" },
		{ "[daemon]\nidle_timeout = 60\n",
		  "t.toml:2:16: daemon.idle_timeout: expected string (a "
		  "duration such as \"30s\"), got integer" },
		{ "[daemon]\nidle_timeout = \"60\"\n",
		  "t.toml:2:16: daemon.idle_timeout: invalid duration "
		  "\"60\": time unit needed, for example 60sec or 60ms" },
		{ "[daemon]\nidle_timeout = \"-1s\"\n",
		  "t.toml:2:16: daemon.idle_timeout: invalid duration "
		  "\"-1s\": expected number at 0" },
		{ "[daemon]\nmax_connections_per_user = 0\n",
		  "t.toml:2:28: daemon.max_connections_per_user: must be at "
		  "least 1, got 0" },
		{ "[daemon]\nmax_connections_per_user = -3\n",
		  "t.toml:2:28: daemon.max_connections_per_user: must be at "
		  "least 1, got -3" },
		{ "[daemon]\nmax_connections_per_user = 513\n",
		  "t.toml:2:28: daemon.max_connections_per_user: must be at "
		  "most 512, got 513" },
		{ "[daemon]\nmax_connections_per_user = \"64\"\n",
		  "t.toml:2:28: daemon.max_connections_per_user: expected "
		  "integer, got string" },
		{ "[daemon]\nmax_connections_per_user = 8.0\n",
		  "t.toml:2:28: daemon.max_connections_per_user: expected "
		  "integer, got float" },
		{ "[daemon]\nlog_memory = 1048575\n",
		  "t.toml:2:14: daemon.log_memory: must be at least 1048576, "
		  "got 1048575" },
		{ "[daemon]\nlog_memory = \"2T\"\n",
		  "t.toml:2:14: daemon.log_memory: invalid value \"2T\": "
		  "expected a number of bytes with an optional K, M, G or T" },
		{ "[daemon]\nlog_memory = true\n",
		  "t.toml:2:14: daemon.log_memory: expected integer or string "
		  "(bytes such as 536870912 or \"512M\"), got boolean" },
		{ "[daemon]\nmax_open_log_files = 15\n",
		  "t.toml:2:22: daemon.max_open_log_files: must be at least "
		  "16, got 15" },
		{ "[daemon]\nmax_open_log_files = 1000001\n",
		  "t.toml:2:22: daemon.max_open_log_files: must be at most "
		  "1000000, got 1000001" },
		{ "[daemon]\nmax_open_log_files = -1\n",
		  "t.toml:2:22: daemon.max_open_log_files: must be at least "
		  "16, got -1" },
		{ "[daemon]\nmax_open_log_files = \"1024\"\n",
		  "t.toml:2:22: daemon.max_open_log_files: expected integer, "
		  "got string" },
	};
	static const char *const both[] = {
		"t.toml:2:16: daemon.idle_timeout: longer than 86400 s",
		"t.toml:3:28: daemon.max_connections_per_user: must be at "
		"most 512, got 100000",
	};
	struct config	*cfg;

	cfg = ok("[daemon]\nidle_timeout = \"90s\"\n"
	    "max_connections_per_user = 8\n");
	assert_true(dureq(&cfg->daemon.idle_timeout, 90, 0));
	assert_int_equal(cfg->daemon.max_conns_per_user, 8);
	config_free(cfg);

	/* "0s" disables the timeout; the bounds themselves are accepted */
	cfg = ok("[daemon]\nidle_timeout = \"0s\"\n"
	    "max_connections_per_user = 1\n");
	assert_true(dureq(&cfg->daemon.idle_timeout, 0, 0));
	assert_int_equal(cfg->daemon.max_conns_per_user, 1);
	config_free(cfg);
	cfg = ok("[daemon]\nidle_timeout = \"1day\"\n"
	    "max_connections_per_user = 512\n");
	assert_true(dureq(&cfg->daemon.idle_timeout, 86400, 0));
	assert_int_equal(cfg->daemon.max_conns_per_user, 512);
	config_free(cfg);
	cfg = ok("daemon = { idle_timeout = \"1m 30s 500ms\" }\n");
	assert_true(dureq(&cfg->daemon.idle_timeout, 90, 500000000));
	assert_int_equal(cfg->daemon.max_conns_per_user, 64);
	assert_true(cfg->daemon.log_memory == 64ULL << 20);
	config_free(cfg);
	cfg = ok("[daemon]\nlog_memory = \"256M\"\n");
	assert_true(cfg->daemon.log_memory == 256ULL << 20);
	assert_int_equal(cfg->daemon.max_open_log_files, 1024);
	config_free(cfg);
	cfg = ok("[daemon]\nmax_open_log_files = 16\n");
	assert_int_equal(cfg->daemon.max_open_log_files, 16);
	config_free(cfg);
	cfg = ok("[daemon]\nmax_open_log_files = 1000000\n");
	assert_int_equal(cfg->daemon.max_open_log_files, 1000000);
	config_free(cfg);

	run_cases(cases, nitems(cases));
	expectn("[daemon]\nidle_timeout = \"100000s\"\n"
	    "max_connections_per_user = 100000\n", both, 2);
}

/*
 * [[credentials]]
 */

static void
test_creds_valid(void **state)
{
	struct config		*cfg;
	const struct cred_config *cr;

	cfg = ok("[[credentials]]\nid = \"w\"\nprovider = \"claude\"\n"
	    "auth_method = \"session_token\"\n"
	    "[[credentials]]\nid = \"g.main_2\"\nprovider = \"Google\"\n"
	    "auth_method = \"oauth\"\nrefresh_before_expiry = \"5m\"\n"
	    "[[credentials]]\nid = \"k\"\nprovider = \"CODEX\"\n"
	    "auth_method = \"api_key\"\n"
	    "[[credentials]]\nid = \"o\"\nprovider = \"other\"\n"
	    "auth_method = \"api_key\"\n"
	    "[[credentials]]\nid = \"x\"\nprovider = \"AnThRoPiC\"\n"
	    "auth_method = \"api_key\"\n"
	    "[[credentials]]\nid = \"y\"\nprovider = \"gpt\"\n"
	    "auth_method = \"api_key\"\n");
	assert_int_equal(cfg->ncreds, 6);
	cr = &cfg->creds[0];
	assert_string_equal(cr->id, "w");
	assert_int_equal(cr->pos.line, 1);
	assert_int_equal(cr->pos.col, 3);
	assert_int_equal(cr->provider, PROVIDER_CLAUDE);
	assert_string_equal(cr->provider_name, "claude");
	assert_int_equal(cr->auth_method, AUTH_SESSION_TOKEN);
	assert_int_equal(cr->has_refresh, 0);
	cr = &cfg->creds[1];
	assert_int_equal(cr->provider, PROVIDER_GEMINI);
	assert_string_equal(cr->provider_name, "Google");
	assert_int_equal(cr->auth_method, AUTH_OAUTH);
	assert_int_equal(cr->has_refresh, 1);
	assert_true(dureq(&cr->refresh_before_expiry, 300, 0));
	assert_int_equal(cfg->creds[2].provider, PROVIDER_OPENAI);
	assert_int_equal(cfg->creds[2].auth_method, AUTH_API_KEY);
	assert_int_equal(cfg->creds[3].provider, PROVIDER_CUSTOM);
	assert_int_equal(cfg->creds[4].provider, PROVIDER_CLAUDE);
	assert_int_equal(cfg->creds[5].provider, PROVIDER_OPENAI);
	assert_ptr_equal(config_find_cred(cfg, "k"), &cfg->creds[2]);
	assert_null(config_find_cred(cfg, "nope"));
	assert_null(config_find_cred(cfg, NULL));
	config_free(cfg);

	/* inline array of tables */
	cfg = ok("credentials = [{ id = \"a\", provider = \"openai\", "
	    "auth_method = \"api_key\" }]\n");
	assert_int_equal(cfg->ncreds, 1);
	assert_int_equal(cfg->creds[0].pos.line, 1);
	assert_int_equal(cfg->creds[0].pos.col, 16);
	config_free(cfg);
}

#define C0	"[[credentials]]\nid = \"c\"\nprovider = \"claude\"\n" \
		"auth_method = \"api_key\"\n"

static void
test_creds_errors(void **state)
{
	static const struct err_case cases[] = {
		{ "credentials = 1\n",
		  "t.toml:1:15: credentials: expected array of tables, got "
		  "integer" },
		{ "[credentials]\n",
		  "t.toml:1:2: credentials: expected array of tables, got "
		  "table" },
		{ "credentials = [1]\n",
		  "t.toml:1:16: credentials[0]: expected table, got integer" },
		{ "[[credentials]]\nprovider = \"claude\"\n"
		  "auth_method = \"api_key\"\n",
		  "t.toml:1:3: credentials[0]: missing required key \"id\"" },
		{ "[[credentials]]\nid = \"c\"\nauth_method = \"api_key\"\n",
		  "t.toml:1:3: credentials[0]: missing required key "
		  "\"provider\"" },
		{ "[[credentials]]\nid = \"c\"\nprovider = \"claude\"\n",
		  "t.toml:1:3: credentials[0]: missing required key "
		  "\"auth_method\"" },
		{ "[[credentials]]\nid = 5\nprovider = \"claude\"\n"
		  "auth_method = \"api_key\"\n",
		  "t.toml:2:6: credentials[0].id: expected string, got "
		  "integer" },
		{ "[[credentials]]\nid = \"\"\nprovider = \"claude\"\n"
		  "auth_method = \"api_key\"\n",
		  "t.toml:2:6: credentials[0].id: must not be empty" },
		{ "[[credentials]]\nid = \"../x\"\nprovider = \"claude\"\n"
		  "auth_method = \"api_key\"\n",
		  "t.toml:2:6: credentials[0].id: invalid name \"../x\": use "
		  RULES },
		{ C0 "refresh_before_expiry = \"soon\"\n",
		  "t.toml:5:25: credentials[0].refresh_before_expiry: invalid "
		  "duration \"soon\": expected number at 0" },
		{ C0 "refresh_before_expiry = 300\n",
		  "t.toml:5:25: credentials[0].refresh_before_expiry: expected "
		  "string (a duration such as \"30s\"), got integer" },
		{ "[[credentials]]\nid = \"c\"\nprovider = \"aws\"\n"
		  "auth_method = \"api_key\"\n",
		  "t.toml:3:12: credentials[0].provider: unknown provider "
		  "\"aws\" (expected claude, gemini, openai or custom)" },
		{ "[[credentials]]\nid = \"c\"\nprovider = \"claude\"\n"
		  "auth_method = \"password\"\n",
		  "t.toml:4:15: credentials[0].auth_method: unknown auth "
		  "method "
		  "\"password\" (expected api_key, session_token or oauth)" },
		{ "[[credentials]]\nid = \"c\"\nprovider = \"claude\"\n"
		  "auth_method = \"API_KEY\"\n",
		  "t.toml:4:15: credentials[0].auth_method: unknown auth "
		  "method "
		  "\"API_KEY\" (expected api_key, session_token or oauth)" },
		{ C0 "label = \"x\"\n",
		  "t.toml:5:1: credentials[0]: unknown key \"label\"" },
		{ C0 C0,
		  "t.toml:6:6: credentials[1].id: duplicate credential id "
		  "\"c\" "
		  "(first defined at line 1)" },
	};

	run_cases(cases, nitems(cases));
}

/*
 * [[processes]]
 */

static void
test_proc_valid(void **state)
{
	struct config		*cfg;
	const struct proc_config *p;
	struct passwd		*pw;

	pw = getpwuid(geteuid());
	assert_non_null(pw);
	{
		char	buf[2048];

		(void)snprintf(buf, sizeof(buf),
		    "[[processes]]\n"
		    "name = \"Agent_1.x-y\"\n"
		    "command = \"/bin/sh\"\n"
		    "args = [\"-c\", \"\", \"echo hi\"]\n"
		    "cwd = \"/tmp\"\n"
		    "env = { Z = \"1\", A = \"two\", \"lower.dot\" = \"\" }\n"
		    "instances = 1000\n"
		    "user = \"%s\"\n"
		    "umask = \"0027\"\n"
		    "autostart = false\n"
		    "inherit_env = true\n", pw->pw_name);
		cfg = ok(buf);
	}
	p = &cfg->procs[0];
	assert_string_equal(p->name, "Agent_1.x-y");
	assert_string_equal(p->command, "/bin/sh");
	assert_int_equal(p->nargs, 3);
	assert_string_equal(p->args[0], "-c");
	assert_string_equal(p->args[1], "");
	assert_string_equal(p->args[2], "echo hi");
	assert_string_equal(p->cwd, "/tmp");
	assert_int_equal(p->nenv, 3);
	assert_string_equal(p->env[0].key, "Z");
	assert_string_equal(p->env[0].value, "1");
	assert_string_equal(p->env[1].key, "A");
	assert_string_equal(p->env[1].value, "two");
	assert_string_equal(p->env[2].key, "lower.dot");
	assert_string_equal(p->env[2].value, "");
	assert_int_equal(p->instances, 1000);
	assert_string_equal(p->user, pw->pw_name);
	assert_int_equal(p->uid, pw->pw_uid);
	assert_int_equal(p->gid, pw->pw_gid);
	assert_null(p->group);
	assert_int_equal(p->has_umask, 1);
	assert_int_equal(p->umask, 027);
	assert_int_equal(p->autostart, 0);
	assert_int_equal(p->inherit_env, 1);
	assert_ptr_equal(config_find_proc(cfg, "Agent_1.x-y"), p);
	assert_null(config_find_proc(cfg, "agent_1.x-y"));
	assert_null(config_find_proc(cfg, NULL));
	assert_null(config_find_proc(NULL, "a"));
	config_free(cfg);

	/* 63-byte name; group alone; umask "022"; inline processes */
	cfg = ok("processes = [{ name = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaa\", command = \"x\", umask = \"022\" "
	    "}]\n");
	assert_int_equal(strlen(cfg->procs[0].name), 63);
	assert_int_equal(cfg->procs[0].umask, 022);
	assert_int_equal(cfg->procs[0].pos.col, 14);
	config_free(cfg);

	if (geteuid() == 0) {
		cfg = ok(P0 "user = \"nobody\"\ngroup = \"root\"\n");
		pw = getpwnam("nobody");
		assert_int_equal(cfg->procs[0].uid, pw->pw_uid);
		assert_int_equal(cfg->procs[0].gid, 0);
		assert_string_equal(cfg->procs[0].group, "root");
		config_free(cfg);
		cfg = ok(P0 "group = \"nogroup\"\n");
		assert_null(cfg->procs[0].user);
		assert_int_equal(cfg->procs[0].gid,
		    getgrnam("nogroup")->gr_gid);
		config_free(cfg);
	}
}

static const struct err_case proc_cases[] = {
	{ "processes = 1\n",
	  "t.toml:1:13: processes: expected array of tables, got "
	  "integer" },
	{ "[processes]\nname = \"a\"\n",
	  "t.toml:1:2: processes: expected array of tables, got "
	  "table" },
	{ "processes = [\"a\"]\n",
	  "t.toml:1:14: processes[0]: expected table, got string" },
	{ "[[processes]]\ncommand = \"x\"\n",
	  "t.toml:1:3: processes[0]: missing required key \"name\"" },
	{ "[[processes]]\nname = \"a\"\n",
	  "t.toml:1:3: processes[0]: missing required key "
	  "\"command\"" },
	{ "[[processes]]\nname = \"a\"\ncommand = \"\"\n",
	  "t.toml:3:11: processes[0].command: must not be empty" },
	{ "[[processes]]\nname = \"a\"\ncommand = [\"x\"]\n",
	  "t.toml:3:11: processes[0].command: expected string, got "
	  "array" },
	{ P0 "comand = \"x\"\n",
	  "t.toml:4:1: processes[0]: unknown key \"comand\"" },
	{ P0 "args = \"-c\"\n",
	  "t.toml:4:8: processes[0].args: expected array of strings, "
	  "got string" },
	{ P0 "args = [\"a\", 1]\n",
	  "t.toml:4:14: processes[0].args[1]: expected string, got "
	  "integer" },
	{ P0 "args = [\"a\\u0000\"]\n",
	  "t.toml:4:9: processes[0].args[0]: must not contain a NUL "
	  "character" },
	{ P0 "cwd = \"\"\n",
	  "t.toml:4:7: processes[0].cwd: must not be empty" },
	{ P0 "env = [\"A=1\"]\n",
	  "t.toml:4:7: processes[0].env: expected table of strings, "
	  "got array" },
	{ P0 "env = { A = 1 }\n",
	  "t.toml:4:13: processes[0].env.A: expected string, got "
	  "integer" },
	{ P0 "env = { \"A=B\" = \"1\" }\n",
	  "t.toml:4:9: processes[0].env: invalid environment variable "
	  "name \"A=B\"" },
	{ P0 "env = { \"\" = \"1\" }\n",
	  "t.toml:4:9: processes[0].env: invalid environment variable "
	  "name \"\"" },
	{ P0 "env = { \"A\\u0000\" = \"1\" }\n",
	  "t.toml:4:9: processes[0].env: invalid environment variable "
	  "name \"A\\x00\"" },
	{ P0 "env = { A = \"x\\u0000\" }\n",
	  "t.toml:4:13: processes[0].env.A: must not contain a NUL "
	  "character" },
	{ P0 "[processes.env]\nA = { b = \"c\" }\n",
	  "t.toml:5:5: processes[0].env.A: expected string, got "
	  "table" },
	{ P0 "instances = 0\n",
	  "t.toml:4:13: processes[0].instances: must be at least 1, "
	  "got 0" },
	{ P0 "instances = -1\n",
	  "t.toml:4:13: processes[0].instances: must be at least 1, "
	  "got -1" },
	{ P0 "instances = 10001\n",
	  "t.toml:4:13: processes[0].instances: must be at most 10000, "
	  "got 10001" },
	{ P0 "instances = \"2\"\n",
	  "t.toml:4:13: processes[0].instances: expected integer, got "
	  "string" },
	{ P0 "instances = 2.0\n",
	  "t.toml:4:13: processes[0].instances: expected integer, got "
	  "float" },
	{ P0 "autostart = \"yes\"\n",
	  "t.toml:4:13: processes[0].autostart: expected boolean, got "
	  "string" },
	{ P0 "inherit_env = 1\n",
	  "t.toml:4:15: processes[0].inherit_env: expected boolean, "
	  "got integer" },
	{ P0 "umask = \"8\"\n",
	  "t.toml:4:9: processes[0].umask: \"8\" is not an octal "
	  "number" },
	{ P0 "umask = \"01000\"\n",
	  "t.toml:4:9: processes[0].umask: \"01000\" is out of range "
	  "(at most 0777)" },
	{ P0 "umask = 18\n",
	  "t.toml:4:9: processes[0].umask: expected string (octal "
	  "digits such as \"0660\"), got integer" },
	{ P0 "user = \"no-such-user-xyz\"\n",
	  "t.toml:4:8: processes[0].user: unknown user "
	  "\"no-such-user-xyz\"" },
	{ P0 "group = \"no-such-group-xyz\"\n",
	  "t.toml:4:9: processes[0].group: unknown group "
	  "\"no-such-group-xyz\"" },
	{ P0 "user = \"\"\n",
	  "t.toml:4:8: processes[0].user: must not be empty" },
	{ P0 "restart = 5\n",
	  "t.toml:4:11: processes[0].restart: expected table, got "
	  "integer" },
	{ P0 "health = \"tcp\"\n",
	  "t.toml:4:10: processes[0].health: expected table, got "
	  "string" },
	{ P0 "[[processes.log]]\n",
	  "t.toml:4:13: processes[0].log: expected table, got array" },
	{ P0 "shutdown = true\n",
	  "t.toml:4:12: processes[0].shutdown: expected table, got "
	  "boolean" },
	{ P0 "credentials = \"claude\"\n",
	  "t.toml:4:15: processes[0].credentials: expected table, got "
	  "string" },
};

static void
test_proc_errors(void **state)
{
	char	buf[8192], big[CONFIG_STR_MAX + 2];

	run_cases(proc_cases, nitems(proc_cases));

	/* CONFIG_STR_MAX bytes fit, one more does not */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	(void)snprintf(buf, sizeof(buf), P0 "args = [\"%s\"]\n", big);
	expect1(buf, "t.toml:4:9: processes[0].args[0]: longer than 4095 "
	    "bytes");
	(void)snprintf(buf, sizeof(buf), "[[processes]]\nname = \"a\"\n"
	    "command = \"%s\"\n", big);
	expect1(buf, "t.toml:3:11: processes[0].command: longer than 4095 "
	    "bytes");
	big[sizeof(big) - 2] = '\0';
	(void)snprintf(buf, sizeof(buf), P0 "cwd = \"%s\"\n", big);
	config_free(ok(buf));
}

static void
test_names(void **state)
{
	static const struct err_case cases[] = {
		{ "[[processes]]\nname = \"\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: must not be empty" },
		{ "[[processes]]\nname = \"a b\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: invalid name \"a b\": use "
		  RULES },
		{ "[[processes]]\nname = \"-a\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: invalid name \"-a\": use "
		  RULES },
		{ "[[processes]]\nname = \".a\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: invalid name \".a\": use "
		  RULES },
		{ "[[processes]]\nname = \"all\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: \"all\" is reserved" },
		{ "[[processes]]\nname = \"a/b\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: invalid name \"a/b\": use "
		  RULES },
		{ "[[processes]]\nname = \"caf\\u00e9\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: invalid name "
		  "\"caf\\xc3\\xa9\": use " RULES },
		{ "[[processes]]\nname = \"a\\u0000\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: invalid name \"a\\x00\": use "
		  RULES },
		{ "[[processes]]\nname = "
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaa\"\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: "
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is longer than 63 "
		  "bytes" },
		{ "[[processes]]\nname = 7\ncommand = \"x\"\n",
		  "t.toml:2:8: processes[0].name: expected string, got "
		  "integer" },
		{ P0 P0,
		  "t.toml:5:8: processes[1].name: duplicate process name \"a\" "
		  "(first defined at line 1)" },
		/* display names: "w-1" is also instance 1 of "w" */
		{ "[[processes]]\nname = \"w\"\ncommand = \"x\"\ninstances = "
		  "2\n"
		  "[[processes]]\nname = \"w-1\"\ncommand = \"x\"\n",
		  "t.toml:6:8: processes[1].name: \"w-1\" is also the display "
		  "name of instance 1 of \"w\"" },
		{ "[[processes]]\nname = \"w-0\"\ncommand = \"x\"\n"
		  "[[processes]]\nname = \"w\"\ncommand = \"x\"\ninstances = "
		  "3\n",
		  "t.toml:2:8: processes[0].name: \"w-0\" is also the display "
		  "name of instance 0 of \"w\"" },
	};
	const char *const three[] = {
		"t.toml:5:8: processes[1].name: duplicate process name \"a\" "
		    "(first defined at line 1)",
		"t.toml:8:8: processes[2].name: duplicate process name \"a\" "
		    "(first defined at line 1)",
	};
	struct config	*cfg;

	run_cases(cases, nitems(cases));
	expectn(P0 P0 P0, three, 2);

	/* not instance names: index out of range, leading zero, 1 instance */
	cfg = ok("[[processes]]\nname = \"w\"\ncommand = \"x\"\ninstances = 2\n"
	    "[[processes]]\nname = \"w-2\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"w-01\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"w-\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"v\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"v-0\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"w-1x\"\ncommand = \"x\"\n"
	    "[[processes]]\nname = \"u-0\"\ncommand = \"x\"\ninstances = 2\n"
	    "[[processes]]\nname = \"u\"\ncommand = \"x\"\ninstances = 2\n");
	assert_int_equal(cfg->nprocs, 9);
	config_free(cfg);
}

/*
 * [processes.restart] and backoff
 */

static void
test_restart(void **state)
{
	static const struct err_case cases[] = {
		{ P0 "[processes.restart]\nmax_restarts = -1\n",
		  "t.toml:5:16: processes[0].restart.max_restarts: must not be "
		  "negative, got -1" },
		{ P0 "[processes.restart]\nmax_restarts = 4294967296\n",
		  "t.toml:5:16: processes[0].restart.max_restarts: must be at "
		  "most 4294967295, got 4294967296" },
		{ P0 "[processes.restart]\nrestart_window = 60\n",
		  "t.toml:5:18: processes[0].restart.restart_window: expected "
		  "string (a duration such as \"30s\"), got integer" },
		{ P0 "[processes.restart]\nmin_uptime = \"30 parsecs\"\n",
		  "t.toml:5:14: processes[0].restart.min_uptime: invalid "
		  "duration \"30 parsecs\": unknown time unit \"parsecs\", "
		  "supported units: ns, us/\xc2\xb5s, ms, sec, min, hours, "
		  "days, "
		  "weeks, months, years (and few variations)" },
		{ P0 "[processes.restart]\nrestart_on_success = \"no\"\n",
		  "t.toml:5:22: processes[0].restart.restart_on_success: "
		  "expected boolean, got string" },
		{ P0 "[processes.restart]\nmax_restart = 3\n",
		  "t.toml:5:1: processes[0].restart: unknown key "
		  "\"max_restart\"" },
		{ P0 "[processes.restart]\nbackoff = \"fixed\"\n",
		  "t.toml:5:11: processes[0].restart.backoff: expected table, "
		  "got string" },
	};
	struct config		*cfg;
	const struct restart_config *r;

	run_cases(cases, nitems(cases));

	cfg = ok(P0 "[processes.restart]\nmax_restarts = 0\n"
	    "restart_window = \"2m\"\nmin_uptime = \"1.5s\"\n"
	    "restart_on_success = true\n");
	r = &cfg->procs[0].restart;
	assert_int_equal(r->max_restarts, 0);
	assert_true(dureq(&r->restart_window, 120, 0));
	assert_true(dureq(&r->min_uptime, 1, 500000000));
	assert_int_equal(r->restart_on_success, 1);
	assert_int_equal(r->backoff_present, 0);
	assert_int_equal(r->backoff.type, BACKOFF_EXPONENTIAL);
	config_free(cfg);

	cfg = ok(P0 "restart.max_restarts = 4294967295\n");
	assert_int_equal(cfg->procs[0].restart.max_restarts, 4294967295U);
	config_free(cfg);
}

#define B0	P0 "[processes.restart.backoff]\n"

static const struct err_case backoff_cases[] = {
	{ B0,
	  "t.toml:4:20: processes[0].restart.backoff: missing required "
	  "key \"type\"" },
	{ B0 "delay = \"1s\"\n",
	  "t.toml:4:20: processes[0].restart.backoff: missing required "
	  "key \"type\"" },
	{ B0 "type = 1\n",
	  "t.toml:5:8: processes[0].restart.backoff.type: expected "
	  "string, got integer" },
	{ B0 "type = \"random\"\n",
	  "t.toml:5:8: processes[0].restart.backoff.type: unknown "
	  "backoff type \"random\" (expected fixed, exponential or "
	  "linear)" },
	{ B0 "type = \"Fixed\"\ndelay = \"1s\"\n",
	  "t.toml:5:8: processes[0].restart.backoff.type: unknown "
	  "backoff type \"Fixed\" (expected fixed, exponential or "
	  "linear)" },
	{ B0 "type = \"fixed\"\n",
	  "t.toml:4:20: processes[0].restart.backoff: missing required "
	  "key \"delay\" for type \"fixed\"" },
	{ B0 "type = \"exponential\"\nmax_delay = \"5m\"\n",
	  "t.toml:4:20: processes[0].restart.backoff: missing required "
	  "key \"initial_delay\" for type \"exponential\"" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n",
	  "t.toml:4:20: processes[0].restart.backoff: missing required "
	  "key \"max_delay\" for type \"exponential\"" },
	{ B0 "type = \"linear\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\n",
	  "t.toml:4:20: processes[0].restart.backoff: missing required "
	  "key \"increment\" for type \"linear\"" },
	{ B0 "type = \"fixed\"\ndelay = \"1s\"\nmultiplier = 2.0\n",
	  "t.toml:7:1: processes[0].restart.backoff: key "
	  "\"multiplier\" "
	  "is not valid for type \"fixed\"" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\nincrement = \"1s\"\n",
	  "t.toml:8:1: processes[0].restart.backoff: key \"increment\" "
	  "is not valid for type \"exponential\"" },
	{ B0 "type = \"linear\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\nincrement = \"1s\"\ndelay = \"1s\"\n",
	  "t.toml:9:1: processes[0].restart.backoff: key \"delay\" is "
	  "not valid for type \"linear\"" },
	{ B0 "type = \"fixed\"\ndelay = \"1s\"\njitter = true\n",
	  "t.toml:7:1: processes[0].restart.backoff: unknown key "
	  "\"jitter\"" },
	{ B0 "type = \"fixed\"\ndelay = 5\n",
	  "t.toml:6:9: processes[0].restart.backoff.delay: expected "
	  "string (a duration such as \"30s\"), got integer" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"10s\"\n"
	  "max_delay = \"5s\"\n",
	  "t.toml:7:13: processes[0].restart.backoff.max_delay: must "
	  "not be shorter than initial_delay (10s), got 5s" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\nmultiplier = -2.0\n",
	  "t.toml:8:14: processes[0].restart.backoff.multiplier: must "
	  "be a finite number of at least 1.0, got -2" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\nmultiplier = nan\n",
	  "t.toml:8:14: processes[0].restart.backoff.multiplier: must "
	  "be a finite number of at least 1.0, got nan" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\nmultiplier = -inf\n",
	  "t.toml:8:14: processes[0].restart.backoff.multiplier: must "
	  "be a finite number of at least 1.0, got -inf" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\nmultiplier = inf\n",
	  "t.toml:8:14: processes[0].restart.backoff.multiplier: must "
	  "be a finite number of at least 1.0, got inf" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\nmultiplier = 0.5\n",
	  "t.toml:8:14: processes[0].restart.backoff.multiplier: must "
	  "be a finite number of at least 1.0, got 0.5" },
	{ B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	  "max_delay = \"5s\"\nmultiplier = \"2\"\n",
	  "t.toml:8:14: processes[0].restart.backoff.multiplier: "
	  "expected float, got string" },
};

static void
test_backoff(void **state)
{
	const char *const two[] = {
		"t.toml:4:20: processes[0].restart.backoff: missing required "
		    "key \"initial_delay\" for type \"linear\"",
		"t.toml:4:20: processes[0].restart.backoff: missing required "
		    "key \"max_delay\" for type \"linear\"",
		"t.toml:4:20: processes[0].restart.backoff: missing required "
		    "key \"increment\" for type \"linear\"",
	};
	struct config			*cfg;
	const struct backoff_config	*b;

	run_cases(backoff_cases, nitems(backoff_cases));
	/* every missing key of a variant, in the order checked */
	{
		const char *const want[] = { two[2], two[0], two[1] };

		expectn(B0 "type = \"linear\"\n", want, 3);
	}

	cfg = ok(B0 "type = \"fixed\"\ndelay = \"250ms\"\n");
	b = &cfg->procs[0].restart.backoff;
	assert_int_equal(cfg->procs[0].restart.backoff_present, 1);
	assert_int_equal(b->type, BACKOFF_FIXED);
	assert_true(dureq(&b->delay, 0, 250000000));
	config_free(cfg);

	cfg = ok(B0 "type = \"exponential\"\ninitial_delay = \"2s\"\n"
	    "max_delay = \"2s\"\n");
	b = &cfg->procs[0].restart.backoff;
	assert_int_equal(b->type, BACKOFF_EXPONENTIAL);
	assert_true(dureq(&b->initial_delay, 2, 0));
	assert_true(dureq(&b->max_delay, 2, 0));
	assert_true(b->multiplier == 2.0);
	config_free(cfg);

	/* an integer multiplier is read as a float, as serde does */
	cfg = ok(B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	    "max_delay = \"1h\"\nmultiplier = 3\n");
	assert_true(cfg->procs[0].restart.backoff.multiplier == 3.0);
	config_free(cfg);
	cfg = ok(B0 "type = \"exponential\"\ninitial_delay = \"1s\"\n"
	    "max_delay = \"1h\"\nmultiplier = 1.0\n");
	assert_true(cfg->procs[0].restart.backoff.multiplier == 1.0);
	config_free(cfg);

	cfg = ok(P0 "restart = { backoff = { type = \"linear\", "
	    "initial_delay = \"1s\", increment = \"500ms\", "
	    "max_delay = \"10s\" } }\n");
	b = &cfg->procs[0].restart.backoff;
	assert_int_equal(b->type, BACKOFF_LINEAR);
	assert_true(dureq(&b->initial_delay, 1, 0));
	assert_true(dureq(&b->increment, 0, 500000000));
	assert_true(dureq(&b->max_delay, 10, 0));
	config_free(cfg);
}

/*
 * [processes.health]
 */

#define H0	P0 "[processes.health]\n"

static const struct err_case health_cases[] = {
	{ H0,
	  "t.toml:4:12: processes[0].health: missing required key "
	  "\"type\"" },
	{ H0 "type = \"ping\"\n",
	  "t.toml:5:8: processes[0].health.type: unknown health check "
	  "type \"ping\" (expected none, http, tcp, script or "
	  "liveness)" },
	{ H0 "type = \"http\"\n",
	  "t.toml:4:12: processes[0].health: missing required key "
	  "\"url\" for type \"http\"" },
	{ H0 "type = \"http\"\nurl = \"\"\n",
	  "t.toml:6:7: processes[0].health.url: must not be empty" },
	{ H0 "type = \"http\"\nurl = \"http://x/\"\n"
	  "expected_status = 200\n",
	  "t.toml:7:19: processes[0].health.expected_status: expected "
	  "array of integers, got integer" },
	{ H0 "type = \"http\"\nurl = \"http://x/\"\n"
	  "expected_status = [200, \"204\"]\n",
	  "t.toml:7:25: processes[0].health.expected_status[1]: "
	  "expected integer, got string" },
	{ H0 "type = \"http\"\nurl = \"http://x/\"\n"
	  "expected_status = [99]\n",
	  "t.toml:7:20: processes[0].health.expected_status[0]: must "
	  "be "
	  "at least 100, got 99" },
	{ H0 "type = \"http\"\nurl = \"http://x/\"\n"
	  "expected_status = [200, 600]\n",
	  "t.toml:7:25: processes[0].health.expected_status[1]: must "
	  "be "
	  "at most 599, got 600" },
	{ H0 "type = \"http\"\nurl = \"http://x/\"\n"
	  "expected_status = [-200]\n",
	  "t.toml:7:20: processes[0].health.expected_status[0]: must "
	  "be "
	  "at least 100, got -200" },
	{ H0 "type = \"http\"\nurl = \"http://x/\"\n"
	  "expected_body = 1\n",
	  "t.toml:7:17: processes[0].health.expected_body: expected "
	  "string, got integer" },
	{ H0 "type = \"http\"\nurl = \"http://x/\"\nport = 80\n",
	  "t.toml:7:1: processes[0].health: key \"port\" is not valid "
	  "for type \"http\"" },
	{ H0 "type = \"tcp\"\nport = 22\n",
	  "t.toml:4:12: processes[0].health: missing required key "
	  "\"host\" for type \"tcp\"" },
	{ H0 "type = \"tcp\"\nhost = \"localhost\"\n",
	  "t.toml:4:12: processes[0].health: missing required key "
	  "\"port\" for type \"tcp\"" },
	{ H0 "type = \"tcp\"\nhost = \"h\"\nport = 0\n",
	  "t.toml:7:8: processes[0].health.port: must be at least 1, "
	  "got 0" },
	{ H0 "type = \"tcp\"\nhost = \"h\"\nport = 65536\n",
	  "t.toml:7:8: processes[0].health.port: must be at most "
	  "65535, "
	  "got 65536" },
	{ H0 "type = \"tcp\"\nhost = \"h\"\nport = -22\n",
	  "t.toml:7:8: processes[0].health.port: must be at least 1, "
	  "got -22" },
	{ H0 "type = \"tcp\"\nhost = \"h\"\nport = \"22\"\n",
	  "t.toml:7:8: processes[0].health.port: expected integer, got "
	  "string" },
	{ H0 "type = \"tcp\"\nhost = \"h\"\nport = 22\n"
	  "url = \"http://h/\"\n",
	  "t.toml:8:1: processes[0].health: key \"url\" is not valid "
	  "for type \"tcp\"" },
	{ H0 "type = \"script\"\n",
	  "t.toml:4:12: processes[0].health: missing required key "
	  "\"path\" for type \"script\"" },
	{ H0 "type = \"script\"\npath = \"/bin/true\"\nargs = [1]\n",
	  "t.toml:7:9: processes[0].health.args[0]: expected string, "
	  "got integer" },
	{ H0 "type = \"script\"\npath = \"/bin/true\"\nhost = \"h\"\n",
	  "t.toml:7:1: processes[0].health: key \"host\" is not valid "
	  "for type \"script\"" },
	{ H0 "type = \"liveness\"\npath = \"/x\"\n",
	  "t.toml:6:1: processes[0].health: key \"path\" is not valid "
	  "for type \"liveness\"" },
	{ H0 "type = \"none\"\nurl = \"http://x/\"\n",
	  "t.toml:6:1: processes[0].health: key \"url\" is not valid "
	  "for type \"none\"" },
	{ H0 "type = \"none\"\nretries = 3\n",
	  "t.toml:6:1: processes[0].health: unknown key \"retries\"" },
	{ H0 "type = \"none\"\nunhealthy_threshold = 0\n",
	  "t.toml:6:23: processes[0].health.unhealthy_threshold: must "
	  "be at least 1, got 0" },
	{ H0 "type = \"none\"\nhealthy_threshold = 0\n",
	  "t.toml:6:21: processes[0].health.healthy_threshold: must be "
	  "at least 1, got 0" },
	{ H0 "type = \"none\"\nhealthy_threshold = 4294967296\n",
	  "t.toml:6:21: processes[0].health.healthy_threshold: must be "
	  "at most 4294967295, got 4294967296" },
	{ H0 "type = \"none\"\ninterval = \"0s\"\n",
	  "t.toml:6:12: processes[0].health.interval: must be greater "
	  "than zero" },
	{ H0 "type = \"none\"\ntimeout = \"0\"\n",
	  "t.toml:6:11: processes[0].health.timeout: must be greater "
	  "than zero" },
	{ H0 "type = \"none\"\ntimeout = \"30s\"\n",
	  "t.toml:6:11: processes[0].health.timeout: must be shorter "
	  "than interval (30s), got 30s" },
	{ H0 "type = \"none\"\ninterval = \"2s\"\n",
	  "t.toml:6:12: processes[0].health.interval: must be longer "
	  "than timeout (5s), got 2s" },
	{ H0 "type = \"none\"\ninterval = 30\n",
	  "t.toml:6:12: processes[0].health.interval: expected string "
	  "(a duration such as \"30s\"), got integer" },
	{ H0 "type = \"none\"\ninitial_delay = \"x\"\n",
	  "t.toml:6:17: processes[0].health.initial_delay: invalid "
	  "duration \"x\": expected number at 0" },
};

static void
test_health(void **state)
{
	struct config			*cfg;
	const struct health_config	*h;

	run_cases(health_cases, nitems(health_cases));

	cfg = ok(H0 "type = \"http\"\nurl = \"http://127.0.0.1:8080/h\"\n"
	    "expected_status = [200, 204]\nexpected_body = \"ok\"\n"
	    "interval = \"10s\"\ntimeout = \"2s\"\n"
	    "unhealthy_threshold = 2\nhealthy_threshold = 2\n"
	    "initial_delay = \"1m\"\n");
	h = &cfg->procs[0].health;
	assert_int_equal(cfg->procs[0].health_present, 1);
	assert_int_equal(h->type, HEALTH_HTTP);
	assert_string_equal(h->url, "http://127.0.0.1:8080/h");
	assert_int_equal(h->n_expected_status, 2);
	assert_int_equal(h->expected_status[0], 200);
	assert_int_equal(h->expected_status[1], 204);
	assert_string_equal(h->expected_body, "ok");
	assert_true(dureq(&h->interval, 10, 0));
	assert_true(dureq(&h->timeout, 2, 0));
	assert_int_equal(h->unhealthy_threshold, 2);
	assert_int_equal(h->healthy_threshold, 2);
	assert_true(dureq(&h->initial_delay, 60, 0));
	config_free(cfg);

	cfg = ok(H0 "type = \"http\"\nurl = \"http://x/\"\n"
	    "expected_status = []\n");
	assert_int_equal(cfg->procs[0].health.n_expected_status, 0);
	assert_null(cfg->procs[0].health.expected_body);
	config_free(cfg);

	cfg = ok(H0 "type = \"tcp\"\nhost = \"::1\"\nport = 65535\n");
	h = &cfg->procs[0].health;
	assert_int_equal(h->type, HEALTH_TCP);
	assert_string_equal(h->host, "::1");
	assert_int_equal(h->port, 65535);
	config_free(cfg);

	cfg = ok(H0 "type = \"script\"\npath = \"/bin/check\"\n"
	    "args = [\"-q\", \"x\"]\n");
	h = &cfg->procs[0].health;
	assert_int_equal(h->type, HEALTH_SCRIPT);
	assert_string_equal(h->path, "/bin/check");
	assert_int_equal(h->nargs, 2);
	assert_string_equal(h->args[1], "x");
	config_free(cfg);

	cfg = ok(H0 "type = \"liveness\"\n");
	assert_int_equal(cfg->procs[0].health.type, HEALTH_LIVENESS);
	config_free(cfg);
	cfg = ok(H0 "type = \"none\"\ninterval = \"1s\"\ntimeout = "
	  "\"999ms\"\n");
	assert_int_equal(cfg->procs[0].health.type, HEALTH_NONE);
	assert_int_equal(cfg->procs[0].health_present, 1);
	config_free(cfg);
}

/*
 * [processes.log] and [processes.log.rotation]
 */

static const struct err_case log_cases[] = {
	{ P0 "[processes.log]\nout_file = 1\n",
	  "t.toml:5:12: processes[0].log.out_file: expected string, "
	  "got "
	  "integer" },
	{ P0 "[processes.log]\nerr_file = \"\"\n",
	  "t.toml:5:12: processes[0].log.err_file: must not be empty" },
	{ P0 "[processes.log]\ncombined_file = [\"a\"]\n",
	  "t.toml:5:17: processes[0].log.combined_file: expected "
	  "string, got array" },
	{ P0 "[processes.log]\nmerge_stderr = 1\n",
	  "t.toml:5:16: processes[0].log.merge_stderr: expected "
	  "boolean, got integer" },
	{ P0 "[processes.log]\ntimestamp = \"true\"\n",
	  "t.toml:5:13: processes[0].log.timestamp: expected boolean, "
	  "got string" },
	{ P0 "[processes.log]\ntimestamp_format = false\n",
	  "t.toml:5:20: processes[0].log.timestamp_format: expected "
	  "string, got boolean" },
	{ P0 "[processes.log]\nredact = \"no\"\n",
	  "t.toml:5:10: processes[0].log.redact: expected boolean, got "
	  "string" },
	{ P0 "[processes.log]\nfile = \"x\"\n",
	  "t.toml:5:1: processes[0].log: unknown key \"file\"" },
	{ P0 "[processes.log]\nrotation = \"daily\"\n",
	  "t.toml:5:12: processes[0].log.rotation: expected table, got "
	  "string" },
	{ P0 "[processes.log.rotation]\nmax_size = 0\n",
	  "t.toml:5:12: processes[0].log.rotation.max_size: must be at "
	  "least 1, got 0" },
	{ P0 "[processes.log.rotation]\nmax_size = -1\n",
	  "t.toml:5:12: processes[0].log.rotation.max_size: must be at "
	  "least 1, got -1" },
	{ P0 "[processes.log.rotation]\nmax_size = \"10M\"\n",
	  "t.toml:5:12: processes[0].log.rotation.max_size: expected "
	  "integer, got string" },
	{ P0 "[processes.log.rotation]\nmax_files = 0\n",
	  "t.toml:5:13: processes[0].log.rotation.max_files: must be "
	  "at "
	  "least 1, got 0" },
	{ P0 "[processes.log.rotation]\nmax_files = 4294967296\n",
	  "t.toml:5:13: processes[0].log.rotation.max_files: must be "
	  "at "
	  "most 4294967295, got 4294967296" },
	{ P0 "[processes.log.rotation]\ncompress = \"gzip\"\n",
	  "t.toml:5:12: processes[0].log.rotation.compress: expected "
	  "boolean, got string" },
	{ P0 "[processes.log.rotation]\nmode = \"weekly\"\n",
	  "t.toml:5:8: processes[0].log.rotation.mode: unknown "
	  "rotation "
	  "mode \"weekly\" (expected size, daily or hourly)" },
	{ P0 "[processes.log.rotation]\nmode = \"Size\"\n",
	  "t.toml:5:8: processes[0].log.rotation.mode: unknown "
	  "rotation "
	  "mode \"Size\" (expected size, daily or hourly)" },
	{ P0 "[processes.log.rotation]\nmode = 1\n",
	  "t.toml:5:8: processes[0].log.rotation.mode: expected "
	  "string, "
	  "got integer" },
	{ P0 "[processes.log.rotation]\nkeep = 1\n",
	  "t.toml:5:1: processes[0].log.rotation: unknown key "
	  "\"keep\"" },
};

static void
test_log(void **state)
{
	struct config			*cfg;
	const struct log_config		*l;

	run_cases(log_cases, nitems(log_cases));

	cfg = ok(P0 "[processes.log]\nout_file = \"/o\"\nerr_file = \"e\"\n"
	    "combined_file = \"/c\"\nmerge_stderr = true\ntimestamp = true\n"
	    "timestamp_format = \"%H:%M\"\nredact = false\n"
	    "[processes.log.rotation]\nmax_size = 9223372036854775807\n"
	    "max_files = 4294967295\ncompress = true\nmode = \"hourly\"\n");
	l = &cfg->procs[0].log;
	assert_string_equal(l->out_file, "/o");
	assert_string_equal(l->err_file, "e");
	assert_string_equal(l->combined_file, "/c");
	assert_int_equal(l->merge_stderr, 1);
	assert_int_equal(l->timestamp, 1);
	assert_string_equal(l->timestamp_format, "%H:%M");
	assert_int_equal(l->redact, 0);
	assert_int_equal(l->rotation_present, 1);
	assert_true(l->rotation.max_size == 9223372036854775807ULL);
	assert_int_equal(l->rotation.max_files, 4294967295U);
	assert_int_equal(l->rotation.compress, 1);
	assert_int_equal(l->rotation.mode, ROTATE_HOURLY);
	config_free(cfg);

	cfg = ok(P0 "log.rotation.mode = \"daily\"\n");
	assert_int_equal(cfg->procs[0].log_present, 1);
	assert_int_equal(cfg->procs[0].log.rotation_present, 1);
	assert_int_equal(cfg->procs[0].log.rotation.mode, ROTATE_DAILY);
	config_free(cfg);
}

/*
 * [processes.shutdown]
 */

static void
test_shutdown(void **state)
{
	static const struct err_case cases[] = {
		{ P0 "[processes.shutdown]\nsignal = \"SIGSEGV\"\n",
		  "t.toml:5:10: processes[0].shutdown.signal: invalid signal "
		  "name: SEGV" },
		{ P0 "[processes.shutdown]\nsignal = \"\"\n",
		  "t.toml:5:10: processes[0].shutdown.signal: invalid signal "
		  "name: " },
		{ P0 "[processes.shutdown]\nsignal = 15\n",
		  "t.toml:5:10: processes[0].shutdown.signal: expected string "
		  "(a signal name such as \"SIGTERM\"), got integer" },
		{ P0 "[processes.shutdown]\nsignal = \"TERM\\u0000\"\n",
		  "t.toml:5:10: processes[0].shutdown.signal: must not contain "
		  "a NUL character" },
		{ P0 "[processes.shutdown]\ntimeout = 30\n",
		  "t.toml:5:11: processes[0].shutdown.timeout: expected string "
		  "(a duration such as \"30s\"), got integer" },
		{ P0 "[processes.shutdown]\nkill_delay = \"5 s x\"\n",
		  "t.toml:5:14: processes[0].shutdown.kill_delay: invalid "
		  "duration \"5 s x\": expected number at 4" },
		{ P0 "[processes.shutdown]\nforce_kill = \"yes\"\n",
		  "t.toml:5:14: processes[0].shutdown.force_kill: expected "
		  "boolean, got string" },
		{ P0 "[processes.shutdown]\npre_shutdown_commands = \"x\"\n",
		  "t.toml:5:25: processes[0].shutdown.pre_shutdown_commands: "
		  "expected array of strings, got string" },
		{ P0 "[processes.shutdown]\npre_shutdown_commands = [\"a\", "
		  "\"\"]\n",
		  "t.toml:5:31: "
		  "processes[0].shutdown.pre_shutdown_commands[1]: "
		  "must not be empty" },
		{ P0 "[processes.shutdown]\ngrace = \"1s\"\n",
		  "t.toml:5:1: processes[0].shutdown: unknown key \"grace\"" },
	};
	struct config			*cfg;
	const struct shutdown_config	*s;

	run_cases(cases, nitems(cases));

	cfg = ok(P0 "[processes.shutdown]\ntimeout = \"1m\"\nsignal = \"int\"\n"
	    "kill_delay = \"0\"\nforce_kill = false\n"
	    "pre_shutdown_commands = [\"echo bye\", \"sync\"]\n");
	s = &cfg->procs[0].shutdown;
	assert_true(dureq(&s->timeout, 60, 0));
	assert_int_equal(s->signo, SIGINT);
	assert_true(dureq(&s->kill_delay, 0, 0));
	assert_int_equal(s->force_kill, 0);
	assert_int_equal(s->n_pre_shutdown_commands, 2);
	assert_string_equal(s->pre_shutdown_commands[0], "echo bye");
	assert_string_equal(s->pre_shutdown_commands[1], "sync");
	config_free(cfg);

	/* every accepted spelling */
	{
		static const struct { const char *name; int signo; } sigs[] = {
			{ "SIGTERM", SIGTERM }, { "term", SIGTERM },
			{ "Int", SIGINT }, { "SIGQUIT", SIGQUIT },
			{ "KILL", SIGKILL }, { "sighup", SIGHUP },
			{ "USR1", SIGUSR1 }, { "SIGUSR2", SIGUSR2 },
		};
		char	buf[256];
		size_t	i;

		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			(void)snprintf(buf, sizeof(buf), P0 "shutdown.signal = "
			    "\"%s\"\n", sigs[i].name);
			cfg = ok(buf);
			assert_int_equal(cfg->procs[0].shutdown.signo,
			    sigs[i].signo);
			config_free(cfg);
		}
	}
}

/*
 * [processes.credentials]
 */

static const struct err_case binding_cases[] = {
	{ C0 P0 "[processes.credentials]\nhot_swap = true\n",
	  "t.toml:8:12: processes[0].credentials: missing required key "
	  "\"profile\"" },
	{ C0 P0 "[processes.credentials]\nprofile = \"\"\n",
	  "t.toml:9:11: processes[0].credentials.profile: must not be "
	  "empty" },
	{ C0 P0 "[processes.credentials]\nprofile = \"d\"\n",
	  "t.toml:9:11: processes[0].credentials.profile: unknown "
	  "credential profile \"d\" (no [[credentials]] entry has this "
	  "id)" },
	{ P0 "[processes.credentials]\nprofile = \"c\"\n",
	  "t.toml:5:11: processes[0].credentials.profile: unknown "
	  "credential profile \"c\" (no [[credentials]] entry has this "
	  "id)" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "hot_swap = 1\n",
	  "t.toml:10:12: processes[0].credentials.hot_swap: expected "
	  "boolean, got integer" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "hot_swap_signal = \"reload\"\n",
	  "t.toml:10:19: processes[0].credentials.hot_swap_signal: "
	  "invalid signal name: RELOAD" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "auto_refresh = \"on\"\n",
	  "t.toml:10:16: processes[0].credentials.auto_refresh: "
	  "expected boolean, got string" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "env_mapping = { key = 5 }\n",
	  "t.toml:10:23: processes[0].credentials.env_mapping.key: "
	  "expected string, got integer" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "env_mapping = { key = \"A=B\" }\n",
	  "t.toml:10:23: processes[0].credentials.env_mapping.key: "
	  "invalid environment variable name \"A=B\"" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "env_mapping = { key = \"\" }\n",
	  "t.toml:10:23: processes[0].credentials.env_mapping.key: "
	  "invalid environment variable name \"\"" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "env_mapping = { \"\" = \"X\" }\n",
	  "t.toml:10:17: processes[0].credentials.env_mapping: invalid "
	  "field name \"\"" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "config_file = \"\"\n",
	  "t.toml:10:15: processes[0].credentials.config_file: must "
	  "not "
	  "be empty" },
	{ C0 P0 "[processes.credentials]\nprofile = \"c\"\n"
	  "signal = \"HUP\"\n",
	  "t.toml:10:1: processes[0].credentials: unknown key "
	  "\"signal\"" },
};

static void
test_binding(void **state)
{
	struct config			*cfg;
	const struct cred_binding	*b;

	run_cases(binding_cases, nitems(binding_cases));

	cfg = ok("[[credentials]]\nid = \"z\"\nprovider = \"custom\"\n"
	    "auth_method = \"oauth\"\n" C0 P0
	    "[processes.credentials]\nprofile = \"c\"\nhot_swap = true\n"
	    "hot_swap_signal = \"USR2\"\nauto_refresh = true\n"
	    "env_mapping = { key = \"ANTHROPIC_API_KEY\", token = \"T\" }\n"
	    "config_file = \"/home/u/.cfg\"\n");
	b = &cfg->procs[0].creds;
	assert_int_equal(cfg->procs[0].creds_present, 1);
	assert_string_equal(b->profile, "c");
	assert_int_equal(b->profile_idx, 1);
	assert_int_equal(b->hot_swap, 1);
	assert_int_equal(b->hot_swap_signo, SIGUSR2);
	assert_int_equal(b->auto_refresh, 1);
	assert_int_equal(b->n_env_mapping, 2);
	assert_string_equal(b->env_mapping[0].key, "key");
	assert_string_equal(b->env_mapping[0].value, "ANTHROPIC_API_KEY");
	assert_string_equal(b->env_mapping[1].key, "token");
	assert_string_equal(b->env_mapping[1].value, "T");
	assert_string_equal(b->config_file, "/home/u/.cfg");
	config_free(cfg);

	/* the profile may be declared after the process */
	cfg = ok(P0 "credentials.profile = \"c\"\n" C0);
	assert_int_equal(cfg->procs[0].creds.profile_idx, 0);
	config_free(cfg);
}

/*
 * Unknown keys, several errors, file order.
 */

static void
test_unknown_keys_everywhere(void **state)
{
	const char *const want[] = {
		"t.toml:1:1: unknown top-level key \"version\"",
		"t.toml:3:1: daemon: unknown key \"sockett\"",
		"t.toml:5:1: credentials[0]: unknown key \"secret\"",
		"t.toml:13:1: processes[0]: unknown key \"comand\"",
		"t.toml:15:1: processes[0].restart: unknown key \"retries\"",
		("t.toml:17:1: processes[0].restart.backoff: unknown key "
		    "\"kind\""),
		"t.toml:22:1: processes[0].health: unknown key \"every\"",
		"t.toml:24:1: processes[0].log: unknown key \"path\"",
		"t.toml:26:1: processes[0].log.rotation: unknown key \"size\"",
		"t.toml:28:1: processes[0].shutdown: unknown key \"sig\"",
		"t.toml:31:1: processes[0].credentials: unknown key \"prof\"",
		"t.toml:32:19: processes[0].health: unknown key \"x\"",
	};

	expectn("version = 2\n"			/* 1 */
	    "[daemon]\n"
	    "sockett = \"/x\"\n"		/* 3 */
	    "[[credentials]]\n"
	    "secret = \"hunter2\"\n"		/* 5 */
	    "id = \"c\"\n"
	    "provider = \"claude\"\n"
	    "auth_method = \"api_key\"\n"
	    "[[processes]]\n"
	    "name = \"a\"\n"
	    "command = \"x\"\n"
	    "\n"
	    "comand = \"x\"\n"			/* 13 */
	    "[processes.restart]\n"
	    "retries = 1\n"			/* 15 */
	    "[processes.restart.backoff]\n"
	    "kind = \"fixed\"\n"		/* 17 */
	    "type = \"fixed\"\n"
	    "delay = \"1s\"\n"
	    "[processes.health]\n"
	    "type = \"none\"\n"
	    "every = \"1s\"\n"			/* 22 */
	    "[processes.log]\n"
	    "path = \"/x\"\n"			/* 24 */
	    "[processes.log.rotation]\n"
	    "size = 1\n"			/* 26 */
	    "[processes.shutdown]\n"
	    "sig = \"HUP\"\n"			/* 28 */
	    "[processes.credentials]\n"
	    "profile = \"c\"\n"
	    "prof = \"c\"\n"			/* 31 */
	    "[processes.health.x]\n",		/* 32: a sub-table is a key */
	    want, sizeof(want) / sizeof(want[0]));
}

static void
test_many_errors_file_order(void **state)
{
	/*
	 * Five mistakes; the duplicate name (found after the walk) and the
	 * missing key (reported at the header) still come out in file
	 * order.
	 */
	const char *const want[] = {
		"t.toml:2:12: daemon.pid_file: expected string, got integer",
		"t.toml:4:3: processes[0]: missing required key \"command\"",
		"t.toml:6:13: processes[0].instances: must be at least 1, got "
		"0",
		"t.toml:9:8: processes[1].name: duplicate process name \"a\" "
		    "(first defined at line 4)",
		"t.toml:11:19: processes[1].shutdown.signal: invalid signal "
		    "name: STOP",
	};

	expectn("[daemon]\n"
	    "pid_file = 7\n"
	    "\n"
	    "[[processes]]\n"
	    "name = \"a\"\n"
	    "instances = 0\n"
	    "\n"
	    "[[processes]]\n"
	    "name = \"a\"\n"
	    "command = \"x\"\n"
	    "shutdown.signal = \"STOP\"\n", want, 5);
}

static void
test_too_many_errors(void **state)
{
	struct config_errors	 e;
	struct config		*cfg;
	char			*buf, *p;
	size_t			 i, len = 20 * 2000 + 16;

	assert_non_null(buf = malloc(len));
	p = buf;
	p += sprintf(p, "[daemon]\n");
	for (i = 0; i < 2000; i++)
		p += sprintf(p, "k%zu = 1\n", i);
	cfg = parse(buf, &e);
	assert_null(cfg);
	assert_int_equal(e.n, CONFIG_ERRORS_MAX + 1);
	assert_string_equal(e.msgs[0], "t.toml:2:1: daemon: unknown key "
	    "\"k0\"");
	assert_string_equal(e.msgs[CONFIG_ERRORS_MAX - 1],
	    "t.toml:1001:1: daemon: unknown key \"k999\"");
	assert_string_equal(e.msgs[CONFIG_ERRORS_MAX],
	    "t.toml: too many errors, giving up");
	config_errors_free(&e);
	free(buf);
}

static void
test_syntax_error(void **state)
{
	struct config_errors	 e;
	struct config		*cfg;

	/* the parser's one error, with its position; nothing else */
	cfg = parse("[daemon]\nsocket = \"/x\nbogus = 1\n", &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_true(strncmp(e.msgs[0], "t.toml:2:", 9) == 0);
	config_errors_free(&e);

	cfg = parse("[[processes]]\nname = \"a\"\nname = \"b\"\n", &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_true(strncmp(e.msgs[0], "t.toml:3:", 9) == 0);
	config_errors_free(&e);

	/* errs may be NULL */
	assert_null(config_parse_buf("x", "= 1", 3, NULL));
	assert_null(config_parse_buf("x", "[daemon]\nx=1\n", 13, NULL));

	/* the buffer need not be NUL-terminated; a NULL name is allowed */
	cfg = config_parse_buf(NULL, "[daemon]\nsocket = \"/s\"XXXX", 22, &e);
	assert_non_null(cfg);
	assert_string_equal(cfg->daemon.socket, "/s");
	assert_string_equal(cfg->path, "(config)");
	config_free(cfg);
	config_errors_free(&e);
}

/* Random and deeply nested input: no crash, no leak, sane result. */
static void
test_bad_input(void **state)
{
	struct config_errors	 e;
	struct config		*cfg;
	char			 buf[512], *deep;
	size_t			 i, j, n;
	const char		*alphabet = "[]{}=\"'.,#\n abc123-_tfe\\u";
	size_t			 alen = strlen(alphabet);

	rng_seed(0x2545f4914f6cdd1dULL);
	for (i = 0; i < 3000; i++) {
		n = rng64() % sizeof(buf);
		for (j = 0; j < n; j++)
			buf[j] = (i & 1) ? (char)rng64() :
			    alphabet[rng64() % alen];
		cfg = config_parse_buf("r", buf, n, &e);
		if (cfg == NULL)
			assert_true(e.n >= 1);
		else
			assert_int_equal(e.n, 0);
		config_free(cfg);
		config_errors_free(&e);
	}

	/* truncations of a valid file: each either loads or errs */
	{
		const char *good = "[daemon]\nsocket = \"/s\"\n" C0 P0
		    "args = [\"a\", \"b\"]\nenv = { A = \"1\" }\n"
		    "[processes.restart.backoff]\ntype = \"fixed\"\n"
		    "delay = \"1s\"\n";

		for (n = 0; n <= strlen(good); n++) {
			cfg = config_parse_buf("t", good, n, &e);
			assert_true((cfg == NULL) == (e.n > 0));
			config_free(cfg);
			config_errors_free(&e);
		}
	}

	/* nesting deeper than TOML_MAX_DEPTH: the parser's error */
	assert_non_null(deep = malloc(200 * 2 + 16));
	n = (size_t)sprintf(deep, "x = ");
	for (i = 0; i < 200; i++)
		deep[n++] = '[';
	for (i = 0; i < 200; i++)
		deep[n++] = ']';
	cfg = config_parse_buf("t", deep, n, &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	config_errors_free(&e);
	/* and deep but legal nesting under an unknown key: one error */
	n = (size_t)sprintf(deep, "[daemon]\nx = ");
	for (i = 0; i < 20; i++)
		deep[n++] = '[';
	for (i = 0; i < 20; i++)
		deep[n++] = ']';
	cfg = config_parse_buf("t", deep, n, &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msgs[0], "t:2:1: daemon: unknown key \"x\"");
	config_errors_free(&e);
	free(deep);
}

/*
 * Users and groups as a non-root loader.
 */

static int
nonroot_checks(void)
{
	struct config_errors	 e;
	struct config		*cfg;
	struct passwd		*me;
	struct group		*gr;
	char			 buf[512], want[512];
	int			 bad = 0;
	gid_t			 other;

	if ((me = getpwuid(geteuid())) == NULL)
		return (1);
	/* root's user is someone else */
	cfg = parse(P0 "user = \"root\"\n", &e);
	(void)snprintf(want, sizeof(want), "t.toml:4:8: processes[0].user: "
	    "running as uid %lu: cannot run processes as user \"root\"",
	    (unsigned long)geteuid());
	if (cfg != NULL || e.n != 1 || strcmp(e.msgs[0], want) != 0) {
		fprintf(stderr, "nonroot user: %s\n", e.n ? e.msgs[0] : "-");
		bad = 1;
	}
	config_free(cfg);
	config_errors_free(&e);

	/* our own user is fine, and so is our own group */
	gr = getgrgid(getegid());
	(void)snprintf(buf, sizeof(buf), P0 "user = \"%s\"\ngroup = \"%s\"\n",
	    me->pw_name, gr != NULL ? gr->gr_name : "");
	cfg = parse(buf, &e);
	if (cfg == NULL || cfg->procs[0].uid != geteuid()) {
		fprintf(stderr, "nonroot self: %s\n", e.n ? e.msgs[0] : "-");
		bad = 1;
	}
	config_free(cfg);
	config_errors_free(&e);

	/* a group we are not in */
	other = getegid() == 0 ? 65534 : 0;
	if ((gr = getgrgid(other)) != NULL) {
		(void)snprintf(buf, sizeof(buf), P0 "group = \"%s\"\n",
		    gr->gr_name);
		(void)snprintf(want, sizeof(want), "t.toml:4:9: processes[0]."
		    "group: running as uid %lu: cannot run processes as group "
		    "\"%s\"", (unsigned long)geteuid(), gr->gr_name);
		cfg = parse(buf, &e);
		if (cfg != NULL || e.n != 1 || strcmp(e.msgs[0], want) != 0) {
			fprintf(stderr, "nonroot group: %s\n",
			    e.n ? e.msgs[0] : "-");
			bad = 1;
		}
		config_free(cfg);
		config_errors_free(&e);
	}

	/* the daemon's user is not checked this way */
	cfg = parse("[daemon]\nuser = \"root\"\n", &e);
	if (cfg == NULL || cfg->daemon.uid != 0)
		bad = 1;
	config_free(cfg);
	config_errors_free(&e);
	return (bad);
}

static void
test_nonroot(void **state)
{
	assert_int_equal(as_nobody(nonroot_checks), 0);
}

static void
test_root_users(void **state)
{
	struct config	*cfg;

	if (geteuid() != 0)
		skip();
	cfg = ok(P0 "user = \"root\"\n");
	assert_int_equal(cfg->procs[0].uid, 0);
	assert_int_equal(cfg->procs[0].gid, 0);
	config_free(cfg);
}

/*
 * Files.
 */

static void
test_load_files(void **state)
{
	struct config_errors	 e;
	struct config		*cfg;
	char			 path[PATH_MAX + 32], want[PATH_MAX * 2];

	cfg = config_load("/nonexistent/apm2.toml", &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msgs[0], "/nonexistent/apm2.toml: No such file "
	    "or directory");
	config_errors_free(&e);

	/* a directory (tmpdir's own parent is /tmp: see test_load_root) */
	tmppath(path, sizeof(path), "dir.toml");
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(want, sizeof(want), "%s: Is a directory", path);
	load_fails(path, want);

	tmppath(path, sizeof(path), "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	(void)snprintf(want, sizeof(want), "%s: not a regular file", path);
	load_fails(path, want);

	/* a good file, and a bad one whose messages carry its name */
	tmppath(path, sizeof(path), "good.toml");
	writefile(path, P0 "instances = 2\n", 0600);
	cfg = config_load(path, &e);
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	assert_string_equal(cfg->path, path);
	assert_int_equal(cfg->procs[0].instances, 2);
	config_free(cfg);
	config_errors_free(&e);

	tmppath(path, sizeof(path), "bad.toml");
	writefile(path, P0 "instances = 0\n", 0600);
	(void)snprintf(want, sizeof(want), "%s:4:13: processes[0].instances: "
	    "must be at least 1, got 0", path);
	load_fails(path, want);

	/* empty file: defaults */
	tmppath(path, sizeof(path), "empty.toml");
	writefile(path, "", 0600);
	load_ok(path);

	load_size_limit();

	/* unreadable (only meaningful when not root) */
	if (geteuid() != 0) {
		tmppath(path, sizeof(path), "noread.toml");
		writefile(path, "", 0000);
		(void)snprintf(want, sizeof(want), "%s: Permission denied",
		    path);
		load_fails(path, want);
	}
}

/* One byte over TOML_MAX_INPUT, on disk and in memory. */
static void
load_size_limit(void)
{
	struct config_errors	 e;
	struct config		*cfg;
	char			 path[PATH_MAX + 32], want[PATH_MAX * 2];
	char			*big;
	int			 fd;

	tmppath(path, sizeof(path), "big.toml");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(ftruncate(fd, (off_t)TOML_MAX_INPUT + 1), 0);
	close(fd);
	(void)snprintf(want, sizeof(want), "%s: larger than %d bytes", path,
	    TOML_MAX_INPUT);
	load_fails(path, want);

	assert_non_null(big = calloc(1, (size_t)TOML_MAX_INPUT + 1));
	memset(big, '\n', (size_t)TOML_MAX_INPUT + 1);
	cfg = config_parse_buf("m", big, (size_t)TOML_MAX_INPUT + 1, &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	(void)snprintf(want, sizeof(want), "m: larger than %d bytes",
	    TOML_MAX_INPUT);
	assert_string_equal(e.msgs[0], want);
	config_errors_free(&e);
	/* exactly the limit is accepted */
	cfg = config_parse_buf("m", big, (size_t)TOML_MAX_INPUT, &e);
	assert_non_null(cfg);
	config_free(cfg);
	config_errors_free(&e);
	free(big);
}

/* config_load() as root: the file and every directory above it. */
static void
test_load_root(void **state)
{
	if (geteuid() != 0)
		skip();
	load_root_file();
	load_root_dirs();
	load_root_links();
}

/* Root's own file: its mode and owner. */
static void
load_root_file(void)
{
	char	path[PATH_MAX + 32], want[PATH_MAX * 3];

	/* root's own file in a root-owned directory under sticky /tmp */
	tmppath(path, sizeof(path), "root.toml");
	writefile(path, P0, 0600);
	load_ok(path);
	assert_int_equal(chmod(path, 0644), 0);
	load_ok(path);

	/* the file: writable by group, by others, owned by somebody else */
	assert_int_equal(chmod(path, 0664), 0);
	(void)snprintf(want, sizeof(want), "%s: writable by group or others "
	    "(mode 0664)", path);
	load_fails(path, want);
	assert_int_equal(chmod(path, 0602), 0);
	(void)snprintf(want, sizeof(want), "%s: writable by group or others "
	    "(mode 0602)", path);
	load_fails(path, want);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chown(path, 65534, 0), 0);
	(void)snprintf(want, sizeof(want), "%s: owned by uid 65534, not by "
	    "root", path);
	load_fails(path, want);
	assert_int_equal(chown(path, 0, 0), 0);
}

/* Root's file in directories that are not safe, and in sticky ones. */
static void
load_root_dirs(void)
{
	struct config_errors	 e;
	struct config		*cfg;
	char			 path[PATH_MAX + 32], dir[PATH_MAX + 32];
	char			 want[PATH_MAX * 3];

	/* root's file in a directory another user owns */
	tmppath(dir, sizeof(dir), "theirs");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	tmppath(path, sizeof(path), "theirs/c.toml");
	writefile(path, P0, 0644);
	(void)snprintf(want, sizeof(want), "%s: unsafe directory %s: owned by "
	    "uid 65534 (mode 0755), not by root", path, dir);
	load_fails(path, want);

	/* ... in a directory everybody may write */
	tmppath(dir, sizeof(dir), "open");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	tmppath(path, sizeof(path), "open/c.toml");
	writefile(path, P0, 0644);
	(void)snprintf(want, sizeof(want), "%s: unsafe directory %s: writable "
	    "by group or others (owner uid 0, mode 0777)", path, dir);
	load_fails(path, want);
	/* ... or further up: the file's own directory is fine */
	tmppath(dir, sizeof(dir), "open/sub");
	assert_int_equal(mkdir(dir, 0755), 0);
	tmppath(path, sizeof(path), "open/sub/c.toml");
	writefile(path, P0, 0644);
	tmppath(dir, sizeof(dir), "open");
	(void)snprintf(want, sizeof(want), "%s: unsafe directory %s: writable "
	    "by group or others (owner uid 0, mode 0777)", path, dir);
	load_fails(path, want);
	/* group-writable is as bad */
	assert_int_equal(chmod(dir, 0775), 0);
	(void)snprintf(want, sizeof(want), "%s: unsafe directory %s: writable "
	    "by group or others (owner uid 0, mode 0775)", path, dir);
	load_fails(path, want);

	/* sticky: accepted above the file's directory, not as it */
	tmppath(dir, sizeof(dir), "sticky");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 01777), 0);
	tmppath(path, sizeof(path), "sticky/c.toml");
	writefile(path, P0, 0644);
	(void)snprintf(want, sizeof(want), "%s: unsafe directory %s: writable "
	    "by group or others (owner uid 0, mode 1777); sticky is not "
	    "enough for the directory that holds the file itself", path, dir);
	load_fails(path, want);
	tmppath(dir, sizeof(dir), "sticky/sub");
	assert_int_equal(mkdir(dir, 0755), 0);
	tmppath(path, sizeof(path), "sticky/sub/c.toml");
	writefile(path, P0, 0644);
	load_ok(path);
	/* so a file directly in /tmp is refused */
	(void)snprintf(want, sizeof(want), "%s: unsafe directory /tmp: "
	    "writable by group or others", tmpdir);
	cfg = config_load(tmpdir, &e);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_true(strncmp(e.msgs[0], want, strlen(want)) == 0);
	config_errors_free(&e);
}

/*
 * A symbolic link is followed (realpath) and its target checked: a link
 * to a safe file is accepted, even from a directory that is not safe
 * (the link only chose the file; it is never read again), and a link to
 * a file in an unsafe directory names that directory.  Messages carry
 * the name as given.  Uses the files load_root_dirs() made.
 */
static void
load_root_links(void)
{
	struct config_errors	 e;
	struct config		*cfg;
	char			 path[PATH_MAX + 32], dir[PATH_MAX + 32];
	char			 link[PATH_MAX + 32], want[PATH_MAX * 3];

	tmppath(path, sizeof(path), "sticky/sub/c.toml");
	tmppath(link, sizeof(link), "link.toml");
	assert_int_equal(symlink(path, link), 0);
	cfg = config_load(link, &e);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, link);
	config_free(cfg);
	config_errors_free(&e);
	tmppath(link, sizeof(link), "theirs/link.toml");
	assert_int_equal(symlink(path, link), 0);
	load_ok(link);
	tmppath(path, sizeof(path), "theirs/c.toml");
	tmppath(link, sizeof(link), "link2.toml");
	assert_int_equal(symlink(path, link), 0);
	tmppath(dir, sizeof(dir), "theirs");
	(void)snprintf(want, sizeof(want), "%s: unsafe directory %s: owned by "
	    "uid 65534 (mode 0755), not by root", link, dir);
	load_fails(link, want);
	/* a linked directory: the real one is checked */
	tmppath(link, sizeof(link), "dirlink");
	assert_int_equal(symlink(dir, link), 0);
	tmppath(path, sizeof(path), "dirlink/c.toml");
	(void)snprintf(want, sizeof(want), "%s: unsafe directory %s: owned by "
	    "uid 65534 (mode 0755), not by root", path, dir);
	load_fails(path, want);
	/* a dangling link */
	tmppath(link, sizeof(link), "dangling.toml");
	assert_int_equal(symlink("/nonexistent/x.toml", link), 0);
	(void)snprintf(want, sizeof(want), "%s: No such file or directory",
	    link);
	load_fails(link, want);
}

/* Not as root: owner, mode and directories are not the loader's business. */
static int
load_nonroot(void)
{
	struct config_errors	 e;
	struct config		*cfg;
	char			 dir[PATH_MAX], path[PATH_MAX + 32];
	int			 bad = 0;

	(void)strlcpy(dir, "/tmp/test_config_nr.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL || chmod(dir, 0777) == -1)
		return (1);
	(void)snprintf(path, sizeof(path), "%s/c.toml", dir);
	writefile(path, P0, 0666);
	cfg = config_load(path, &e);
	if (cfg == NULL) {
		fprintf(stderr, "nonroot load: %s\n", e.n ? e.msgs[0] : "-");
		bad = 1;
	}
	config_free(cfg);
	config_errors_free(&e);
	(void)unlink(path);
	(void)rmdir(dir);
	return (bad);
}

static void
test_load_nonroot(void **state)
{
	assert_int_equal(as_nobody(load_nonroot), 0);
}

static void
test_path_dirs_secure(void **state)
{
	char		 path[PATH_MAX + 32], dir[PATH_MAX + 32];
	char		 err[PATH_MAX * 2], want[PATH_MAX * 2];
	uid_t		 me = geteuid();

	dirs_owner(me);
	dirs_writable(me);

	/* "/" itself, missing directories, a file on the way */
	assert_int_equal(path_dirs_secure("/", me, err, sizeof(err)), 0);
	assert_int_equal(path_dirs_secure("/nonexistent/x", me, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "directory /nonexistent: No such file or "
	    "directory");
	tmppath(path, sizeof(path), "plain");
	writefile(path, "", 0644);
	tmppath(path, sizeof(path), "plain/f");
	assert_int_equal(path_dirs_secure(path, me, err, sizeof(err)), -1);
	tmppath(dir, sizeof(dir), "plain");
	(void)snprintf(want, sizeof(want), "directory %s: Not a directory",
	    dir);
	assert_string_equal(err, want);

	/* a path too long for PATH_MAX */
	{
		static char	 longp[PATH_MAX + 10];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		assert_int_equal(path_dirs_secure(longp, me, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "File name too long"));
	}
}

/* Owned by root, by self, by somebody else. */
static void
dirs_owner(uid_t me)
{
	char		 path[PATH_MAX + 32], dir[PATH_MAX + 32];
	char		 err[PATH_MAX * 2], want[PATH_MAX * 2];
	uid_t		 other = me == 0 ? 65534 : 0;

	/* tmpdir is ours, 0700, under sticky /tmp; the file need not exist */
	tmppath(path, sizeof(path), "no-such-file");
	assert_int_equal(path_dirs_secure(path, me, err, sizeof(err)), 0);
	/* root's directories are fine for everybody */
	assert_int_equal(path_dirs_secure("/etc/passwd", me, err,
	    sizeof(err)), 0);
	assert_int_equal(path_dirs_secure("/x", 12345, err, sizeof(err)), 0);

	/* ours, but not the other's, when we are not root */
	if (me != 0) {
		assert_int_equal(path_dirs_secure(path, 0, err, sizeof(err)),
		    -1);
		(void)snprintf(want, sizeof(want), "unsafe directory %s: "
		    "owned by uid %lu (mode 0700), not by root", tmpdir,
		    (unsigned long)me);
		assert_string_equal(err, want);
	} else {
		tmppath(dir, sizeof(dir), "d-other");
		assert_int_equal(mkdir(dir, 0755), 0);
		assert_int_equal(chown(dir, other, 0), 0);
		tmppath(path, sizeof(path), "d-other/f");
		assert_int_equal(path_dirs_secure(path, other, err,
		    sizeof(err)), 0);
		assert_int_equal(path_dirs_secure(path, 0, err, sizeof(err)),
		    -1);
		(void)snprintf(want, sizeof(want), "unsafe directory %s: "
		    "owned by uid %lu (mode 0755), not by root", dir,
		    (unsigned long)other);
		assert_string_equal(err, want);
		assert_int_equal(path_dirs_secure(path, 4242, err,
		    sizeof(err)), -1);
		(void)snprintf(want, sizeof(want), "unsafe directory %s: "
		    "owned by uid %lu (mode 0755), not by root or uid 4242",
		    dir, (unsigned long)other);
		assert_string_equal(err, want);
	}
}

/* Writable by group or others; sticky; reached through a link. */
static void
dirs_writable(uid_t me)
{
	char		 path[PATH_MAX + 32], dir[PATH_MAX + 32];
	char		 err[PATH_MAX * 2], want[PATH_MAX * 2];

	/* writable by group or others, immediately or further up */
	tmppath(dir, sizeof(dir), "d-gw");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 0770), 0);
	tmppath(path, sizeof(path), "d-gw/f");
	assert_int_equal(path_dirs_secure(path, me, err, sizeof(err)), -1);
	(void)snprintf(want, sizeof(want), "unsafe directory %s: writable by "
	    "group or others (owner uid %lu, mode 0770)", dir,
	    (unsigned long)me);
	assert_string_equal(err, want);
	tmppath(path, sizeof(path), "d-gw/sub");
	assert_int_equal(mkdir(path, 0755), 0);
	tmppath(path, sizeof(path), "d-gw/sub/f");
	assert_int_equal(path_dirs_secure(path, me, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	/* sticky helps only above the immediate directory */
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(path_dirs_secure(path, me, err, sizeof(err)), 0);
	tmppath(path, sizeof(path), "d-gw/f");
	assert_int_equal(path_dirs_secure(path, me, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 1777); sticky is not enough"));
	assert_int_equal(path_dirs_secure("/tmp/x", me, err, sizeof(err)),
	    -1);
	assert_true(strncmp(err, "unsafe directory /tmp: writable by group "
	    "or others (owner uid 0, mode 1777)", 66) == 0);

	/* a linked directory is checked where it leads */
	tmppath(dir, sizeof(dir), "d-gw");
	tmppath(path, sizeof(path), "gw-link");
	assert_int_equal(symlink(dir, path), 0);
	tmppath(path, sizeof(path), "gw-link/f");
	assert_int_equal(path_dirs_secure(path, me, err, sizeof(err)), -1);
	(void)snprintf(want, sizeof(want), "unsafe directory %s: writable by "
	    "group or others (owner uid %lu, mode 1777); sticky is not "
	    "enough for the directory that holds the file itself", dir,
	    (unsigned long)me);
	assert_string_equal(err, want);
}

/*
 * The samples.
 */

static void
test_sample_ecosystem(void **state)
{
	struct config_errors	 e;
	struct config		*cfg;
	const struct proc_config *p;
	size_t			 i;

	cfg = config_load(sample_copy("ecosystem.toml"), &e);
	dump(&e);
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	config_errors_free(&e);
	assert_string_equal(cfg->daemon.socket, "/var/run/apm2/apm2.sock");
	assert_int_equal(cfg->ncreds, 3);
	assert_string_equal(cfg->creds[0].id, "claude-work");
	/* Every agent has a user and none starts before it is edited. */
	for (i = 0; i < cfg->nprocs; i++) {
		assert_non_null(cfg->procs[i].user);
		assert_int_equal(cfg->procs[i].autostart, 0);
	}
	assert_int_equal(cfg->creds[0].auth_method, AUTH_SESSION_TOKEN);
	assert_int_equal(cfg->creds[1].auth_method, AUTH_API_KEY);
	assert_int_equal(cfg->creds[2].provider, PROVIDER_GEMINI);
	assert_int_equal(cfg->creds[2].auth_method, AUTH_OAUTH);
	assert_true(dureq(&cfg->creds[2].refresh_before_expiry, 300, 0));
	assert_int_equal(cfg->nprocs, 2);
	p = config_find_proc(cfg, "claude-code-1");
	assert_non_null(p);
	assert_string_equal(p->command, "claude");
	assert_int_equal(p->nargs, 2);
	assert_int_equal(p->creds.profile_idx, 0);
	assert_int_equal(p->creds.hot_swap, 1);
	assert_int_equal(p->restart.backoff.type, BACKOFF_EXPONENTIAL);
	assert_true(dureq(&p->restart.backoff.max_delay, 300, 0));
	assert_int_equal(p->log.timestamp, 1);
	assert_int_equal(p->shutdown.signo, SIGTERM);
	p = config_find_proc(cfg, "gemini-cli-1");
	assert_non_null(p);
	assert_int_equal(p->creds.profile_idx, 2);
	assert_int_equal(p->creds.auto_refresh, 1);
	assert_int_equal(p->restart.max_restarts, 3);
	assert_true(dureq(&p->restart.min_uptime, 10, 0));
	config_free(cfg);
}

static void
test_sample_demo(void **state)
{
	struct config_errors	 e;
	struct config		*cfg;
	const struct proc_config *p;
	char			 out[PATH_MAX], err[PATH_MAX];
	size_t			 i;

	cfg = config_load(sample_copy("demo.toml"), &e);
	dump(&e);
	assert_non_null(cfg);
	assert_int_equal(e.n, 0);
	config_errors_free(&e);
	/* absolute paths under /tmp/apm2-demo */
	assert_true(strncmp(cfg->daemon.socket, "/tmp/apm2-demo/", 15) == 0);
	assert_true(strncmp(cfg->daemon.pid_file, "/tmp/apm2-demo/", 15) == 0);
	assert_true(strncmp(cfg->daemon.log_dir, "/tmp/apm2-demo/", 15) == 0);
	assert_true(strncmp(cfg->daemon.state_file, "/tmp/apm2-demo/",
	    15) == 0);
	assert_true(cfg->nprocs >= 3);
	/* Every agent has a user: none runs as root. */
	for (i = 0; i < cfg->nprocs; i++) {
		assert_non_null(cfg->procs[i].user);
		assert_null(cfg->procs[i].group);
	}
	p = config_find_proc(cfg, "worker");
	assert_non_null(p);
	assert_int_equal(p->instances, 2);
	assert_int_equal(config_log_paths(cfg, p, 1, out, sizeof(out), err,
	    sizeof(err)), 0);
	assert_string_equal(out, "/tmp/apm2-demo/log/worker-1.out.log");
	p = config_find_proc(cfg, "flaky");
	assert_non_null(p);
	assert_int_equal(p->restart.backoff_present, 1);
	p = config_find_proc(cfg, "manual");
	assert_non_null(p);
	assert_int_equal(p->autostart, 0);
	config_free(cfg);
}

static int
samples_nonroot(void)
{
	struct config_errors	 e;
	struct config		*cfg;
	struct passwd		*pw = getpwnam("nobody");
	const char		*(*src)(const char *) = sample;
	int			 bad = 0;

	/* Not nobody: as a user would, from a copy that names them. */
	if (pw == NULL || geteuid() != pw->pw_uid)
		src = sample_copy;
	cfg = config_load(src("demo.toml"), &e);
	if (cfg == NULL) {
		fprintf(stderr, "demo as nobody: %s\n", e.n ? e.msgs[0] : "-");
		bad = 1;
	}
	config_free(cfg);
	config_errors_free(&e);
	cfg = config_load(src("ecosystem.toml"), &e);
	if (cfg == NULL) {
		fprintf(stderr, "sample as nobody: %s\n",
		    e.n ? e.msgs[0] : "-");
		bad = 1;
	}
	config_free(cfg);
	config_errors_free(&e);
	return (bad);
}

static void
test_samples_nonroot(void **state)
{
	assert_int_equal(as_nobody(samples_nonroot), 0);
}

/*
 * Display names and log paths.
 */

static void
test_display_names(void **state)
{
	struct config	*cfg;
	char		 buf[CONFIG_DISPLAY_MAX], small[4];

	cfg = ok(P0 "[[processes]]\nname = \"w\"\ncommand = \"x\"\n"
	    "instances = 3\n");
	config_display_name(&cfg->procs[0], 0, buf, sizeof(buf));
	assert_string_equal(buf, "a");
	config_display_name(&cfg->procs[1], 0, buf, sizeof(buf));
	assert_string_equal(buf, "w-0");
	config_display_name(&cfg->procs[1], 2, buf, sizeof(buf));
	assert_string_equal(buf, "w-2");
	config_display_name(&cfg->procs[1], 4294967295U, buf, sizeof(buf));
	assert_string_equal(buf, "w-4294967295");
	config_display_name(&cfg->procs[1], 123, small, sizeof(small));
	assert_string_equal(small, "w-1");	/* cut, terminated */
	config_free(cfg);
}

/* Instance idx of procs[i] logs to out and err. */
static void
paths_are(const struct config *cfg, size_t i, uint32_t idx, const char *out,
    const char *err)
{
	char	o[PATH_MAX], e[PATH_MAX];

	assert_int_equal(config_log_paths(cfg, &cfg->procs[i], idx, o,
	    sizeof(o), e, sizeof(e)), 0);
	assert_string_equal(o, out);
	assert_string_equal(e, err);
}

static void
test_log_paths(void **state)
{
	struct config	*cfg;
	char		 out[PATH_MAX], err[PATH_MAX], tiny[8];

	/* defaults: one instance, several, merged */
	cfg = ok("[daemon]\nlog_dir = \"/l\"\n" P0
	    "[[processes]]\nname = \"w\"\ncommand = \"x\"\ninstances = 2\n"
	    "[[processes]]\nname = \"m\"\ncommand = \"x\"\n"
	    "log.merge_stderr = true\n");
	paths_are(cfg, 0, 0, "/l/a.out.log", "/l/a.err.log");
	paths_are(cfg, 1, 1, "/l/w-1.out.log", "/l/w-1.err.log");
	paths_are(cfg, 2, 0, "/l/m.out.log", "/l/m.out.log");
	/* a short buffer fails and leaves both empty */
	assert_int_equal(config_log_paths(cfg, &cfg->procs[0], 0, tiny,
	    sizeof(tiny), err, sizeof(err)), -1);
	assert_string_equal(tiny, "");
	assert_string_equal(err, "");
	assert_int_equal(config_log_paths(cfg, &cfg->procs[0], 0, out,
	    sizeof(out), tiny, sizeof(tiny)), -1);
	assert_string_equal(out, "");
	config_free(cfg);

	/* trailing slash on log_dir */
	cfg = ok("[daemon]\nlog_dir = \"/l/\"\n" P0);
	assert_int_equal(config_log_paths(cfg, &cfg->procs[0], 0, out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "/l/a.out.log");
	config_free(cfg);

	/* §5.2: out only -> stderr nowhere; relative names under log_dir */
	cfg = ok("[daemon]\nlog_dir = \"/l\"\n" P0
	    "log.out_file = \"/o/a.log\"\n"
	    "[[processes]]\nname = \"b\"\ncommand = \"x\"\n"
	    "log.err_file = \"b.err\"\n"
	    "[[processes]]\nname = \"c\"\ncommand = \"x\"\n"
	    "log.combined_file = \"/c/all.log\"\n"
	    "[[processes]]\nname = \"d\"\ncommand = \"x\"\n"
	    "log = { out_file = \"d.out\", combined_file = \"/c/d.log\" }\n"
	    "[[processes]]\nname = \"e\"\ncommand = \"x\"\n"
	    "log = { out_file = \"/e.out\", err_file = \"/e.err\", "
	    "merge_stderr = true }\n"
	    "[[processes]]\nname = \"f\"\ncommand = \"x\"\n"
	    "log = { err_file = \"/f.err\", merge_stderr = true }\n");
	paths_are(cfg, 0, 0, "/o/a.log", "");
	paths_are(cfg, 1, 0, "", "/l/b.err");
	paths_are(cfg, 2, 0, "/c/all.log", "/c/all.log");
	paths_are(cfg, 3, 0, "/l/d.out", "/c/d.log");
	paths_are(cfg, 4, 0, "/e.out", "/e.out");
	/* merged with no stdout destination: nowhere, as upstream */
	paths_are(cfg, 5, 0, "", "");
	config_free(cfg);

	/* several instances with explicit names: -<i> before the first dot */
	cfg = ok("[daemon]\nlog_dir = \"/l\"\n" P0
	    "instances = 3\n"
	    "log = { out_file = \"/v/claude.out.log\", err_file = "
	    "\"/v.d/noext\", combined_file = \"x\" }\n"
	    "[[processes]]\nname = \"h\"\ncommand = \"x\"\ninstances = 2\n"
	    "log = { out_file = \"/v/.hidden.log\", err_file = \".e\" }\n");
	paths_are(cfg, 0, 2, "/v/claude-2.out.log", "/v.d/noext-2");
	paths_are(cfg, 1, 1, "/v/.hidden-1.log", "/l/.e-1");
	config_free(cfg);
}

static void
test_type_names(void **state)
{
	assert_string_equal(config_backoff_type_name(BACKOFF_FIXED), "fixed");
	assert_string_equal(config_backoff_type_name(BACKOFF_EXPONENTIAL),
	    "exponential");
	assert_string_equal(config_backoff_type_name(BACKOFF_LINEAR),
	    "linear");
	assert_string_equal(config_backoff_type_name((enum backoff_type)9),
	    "unknown");
	assert_string_equal(config_health_type_name(HEALTH_NONE), "none");
	assert_string_equal(config_health_type_name(HEALTH_HTTP), "http");
	assert_string_equal(config_health_type_name(HEALTH_TCP), "tcp");
	assert_string_equal(config_health_type_name(HEALTH_SCRIPT), "script");
	assert_string_equal(config_health_type_name(HEALTH_LIVENESS),
	    "liveness");
	assert_string_equal(config_health_type_name((enum health_type)-1),
	    "unknown");
	assert_string_equal(config_rotation_mode_name(ROTATE_SIZE), "size");
	assert_string_equal(config_rotation_mode_name(ROTATE_DAILY), "daily");
	assert_string_equal(config_rotation_mode_name(ROTATE_HOURLY),
	    "hourly");
	assert_string_equal(config_rotation_mode_name((enum rotation_mode)3),
	    "unknown");
	assert_string_equal(config_provider_name(PROVIDER_CLAUDE), "claude");
	assert_string_equal(config_provider_name(PROVIDER_GEMINI), "gemini");
	assert_string_equal(config_provider_name(PROVIDER_OPENAI), "openai");
	assert_string_equal(config_provider_name(PROVIDER_CUSTOM), "custom");
	assert_string_equal(config_provider_name((enum cred_provider)4),
	    "unknown");
	assert_string_equal(config_auth_method_name(AUTH_API_KEY), "api_key");
	assert_string_equal(config_auth_method_name(AUTH_SESSION_TOKEN),
	    "session_token");
	assert_string_equal(config_auth_method_name(AUTH_OAUTH), "oauth");
	assert_string_equal(config_auth_method_name((enum auth_method)3),
	    "unknown");
	/* freeing nothing is fine */
	config_free(NULL);
	config_errors_free(NULL);
}

/* Health checks and credentials are checked, not acted on: said. */
static void
test_inert(void **state)
{
	struct config_errors	 w;
	struct config		*cfg;

	cfg = ok("[[credentials]]\nid = \"k\"\nprovider = \"claude\"\n"
	    "auth_method = \"api_key\"\n"
	    "[[processes]]\nname = \"a\"\ncommand = \"x\"\n"
	    "[processes.health]\ntype = \"none\"\n"
	    "[[processes]]\nname = \"b\"\ncommand = \"x\"\n"
	    "[processes.health]\ntype = \"tcp\"\nhost = \"h\"\nport = 1\n"
	    "[processes.credentials]\nprofile = \"k\"\n");
	assert_int_equal(config_inert(cfg, &w), 3);
	assert_string_equal(w.msgs[0], "t.toml:1:3: warning: credentials[0] "
	    "(k): not acted on: this apm2d has no credential store yet");
	assert_string_equal(w.msgs[1], "t.toml:13:12: warning: processes[1]."
	    "health: not run: this apm2d runs no health checks yet");
	assert_string_equal(w.msgs[2], "t.toml:17:12: warning: processes[1]."
	    "credentials: not acted on: no credential is passed to the "
	    "process yet");
	config_errors_free(&w);
	config_free(cfg);
	cfg = ok("[[processes]]\nname = \"a\"\ncommand = \"x\"\n");
	assert_int_equal(config_inert(cfg, &w), 0);
	config_errors_free(&w);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_empty),
		cmocka_unit_test(test_proc_defaults),
		cmocka_unit_test(test_daemon_valid),
		cmocka_unit_test(test_daemon_errors),
		cmocka_unit_test(test_proc_limits),
		cmocka_unit_test(test_daemon_limits),
		cmocka_unit_test(test_creds_valid),
		cmocka_unit_test(test_creds_errors),
		cmocka_unit_test(test_proc_valid),
		cmocka_unit_test(test_proc_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_unknown_keys_everywhere),
		cmocka_unit_test(test_many_errors_file_order),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_nonroot),
		cmocka_unit_test(test_root_users),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_load_root),
		cmocka_unit_test(test_load_nonroot),
		cmocka_unit_test(test_path_dirs_secure),
		cmocka_unit_test(test_sample_ecosystem),
		cmocka_unit_test(test_sample_demo),
		cmocka_unit_test(test_samples_nonroot),
		cmocka_unit_test(test_display_names),
		cmocka_unit_test(test_log_paths),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_inert),
	};

	return (cmocka_run_group_tests(tests, setup_tmp, teardown_tmp));
}
