/* SPDX-License-Identifier: ISC */
/*
 * config.h -- the ecosystem.toml configuration model.
 *
 * config_load() reads the file, parses it as TOML 1.0 (toml.h) and checks
 * every key against the schema: upstream's (reference/apm2-upstream.md §2)
 * plus our additions.  Every error in the file is reported, each one
 * formatted "FILE:LINE:COL: message" and sorted in file order; the
 * position is that of the offending key (unknown key), of the offending
 * value (wrong type, bad value), or of the table header (missing key).
 * Errors that have no place in the file (cannot open it, too large) are
 * "FILE: message".  Any error makes the whole load fail: a bad file never
 * becomes silent defaults.  After CONFIG_ERRORS_MAX errors the walk stops
 * with "FILE: too many errors, giving up".
 *
 * Decisions that differ from upstream (all deliberate):
 *  - Unknown keys are errors at every level, and so are keys that belong
 *    to another variant (e.g. "delay" in an exponential backoff, "url" in
 *    a tcp health check).
 *  - Process names and credential ids: 1..CONFIG_NAME_MAX bytes of
 *    [A-Za-z0-9][A-Za-z0-9._-]*, unique.  A single-instance process may
 *    not be named like an instance of a multi-instance one ("worker-1"
 *    beside "worker" with 2 instances): display names are unique.
 *  - instances: 1..CONFIG_INSTANCES_MAX (10000); upstream turned 0 into 1,
 *    we reject it.  The bound keeps a typo from forking a million agents.
 *  - command, cwd, each argument: at most CONFIG_STR_MAX bytes (what the
 *    control protocol can carry).  No string may contain a NUL byte.
 *    Path values may not be empty; daemon.chroot must be absolute;
 *    daemon.socket must fit a sockaddr_un.  pre_shutdown_commands
 *    entries may not be empty.
 *  - A relative log file name (out_file, err_file, combined_file) is taken
 *    relative to daemon.log_dir (the daemon runs with cwd "/").
 *  - Durations use humantime syntax (duration.h); an integer is an error.
 *    Signals: signame.h names (TERM, SIGHUP, usr1, ...).
 *  - credentials[].provider: claude, gemini, openai or custom, matched
 *    case-insensitively, with upstream's aliases (anthropic, google, gpt,
 *    codex, other).  auth_method: exactly api_key, session_token or oauth
 *    (lowercase, as upstream serialises them).  refresh_before_expiry is a
 *    duration.
 *  - Every processes[].credentials.profile must name a [[credentials]] id.
 *  - backoff: multiplier is a finite number >= 1.0 (an integer is
 *    accepted, as serde does); max_delay may not be shorter than
 *    initial_delay.
 *  - health: thresholds >= 1, interval > 0, 0 < timeout < interval;
 *    expected_status entries 100..599; port 1..65535.
 *  - log.rotation: max_size >= 1 byte, max_files >= 1.
 *  - socket_mode and umask are octal strings ("0660", "022"), value at
 *    most 0777.  An integer is an error (TOML has no leading-zero octal).
 *  - Users and groups are resolved with getpwnam/getgrnam at load time;
 *    an unknown one is an error.  When the loader does not run as root, a
 *    process user other than the current one, or a group other than the
 *    current real/effective gid, is an error: the daemon could not switch.
 *    daemon.user and daemon.log_user are exceptions: the defaults
 *    "_apm2d" and "_apm2log" need not exist (daemon.user_found and
 *    log_user_found say whether they do; the daemon decides what to do
 *    when started as root), but a user set explicitly must exist.
 */
#ifndef APM2_CONFIG_H
#define APM2_CONFIG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "duration.h"
#include "toml.h"

#define CONFIG_NAME_MAX		63	/* bytes in a process name/cred id */
#define CONFIG_INSTANCES_MAX	10000	/* instances per process */
#define CONFIG_STR_MAX		4095	/* command, cwd, one argument */
#define CONFIG_ERRORS_MAX	1000	/* then "too many errors" */
#define CONFIG_DISPLAY_MAX	(CONFIG_NAME_MAX + 12)	/* name-<u32> + NUL */

/* Upstream defaults (§2.5) and ours. */
#define CONFIG_DEFAULT_PID_FILE		"/var/run/apm2/apm2.pid"
#define CONFIG_DEFAULT_SOCKET		"/var/run/apm2/apm2.sock"
#define CONFIG_DEFAULT_LOG_DIR		"/var/log/apm2"
#define CONFIG_DEFAULT_STATE_FILE	"/var/lib/apm2/state.json"
#define CONFIG_DEFAULT_LOG_MEMORY	(64ULL << 20)
#define CONFIG_LOG_MEMORY_MIN		(1ULL << 20)
#define CONFIG_LOG_MEMORY_MAX		(1ULL << 40)
#define CONFIG_DEFAULT_OPEN_LOG_FILES	1024
#define CONFIG_OPEN_LOG_FILES_MIN	16
#define CONFIG_OPEN_LOG_FILES_MAX	1000000
#define CONFIG_DEFAULT_USER		"_apm2d"
#define CONFIG_DEFAULT_LOG_USER		"_apm2log"
#define CONFIG_DEFAULT_CHROOT		"/var/empty"
#define CONFIG_DEFAULT_SOCKET_MODE	0666
#define CONFIG_DEFAULT_IDLE_TIMEOUT	60	/* s; "0s" disables it */
#define CONFIG_DEFAULT_CONNS_PER_USER	64
#define CONFIG_IDLE_TIMEOUT_MAX		86400	/* s */
#define CONFIG_DEFAULT_METRICS_INTERVAL	15	/* s */
#define CONFIG_METRICS_INTERVAL_MAX	86400	/* s */
#define CONFIG_MAX_CONNS		512	/* = FRONTEND_MAX_CONNS */
#define CONFIG_DEFAULT_TIMESTAMP_FORMAT	"%Y-%m-%d %H:%M:%S%.3f"

enum backoff_type {
	BACKOFF_FIXED,
	BACKOFF_EXPONENTIAL,
	BACKOFF_LINEAR
};

/* Default: exponential, 1 s initial, 300 s max, multiplier 2.0. */
struct backoff_config {
	enum backoff_type	type;
	struct duration		delay;		/* fixed */
	struct duration		initial_delay;	/* exponential, linear */
	struct duration		max_delay;	/* exponential, linear */
	struct duration		increment;	/* linear */
	double			multiplier;	/* exponential */
};

struct restart_config {
	uint32_t		max_restarts;		/* 5 */
	struct duration		restart_window;		/* 60 s */
	struct duration		min_uptime;		/* 30 s */
	int			restart_on_success;	/* false */
	int			backoff_present;	/* table was written */
	struct backoff_config	backoff;
};

enum health_type {
	HEALTH_NONE,
	HEALTH_HTTP,
	HEALTH_TCP,
	HEALTH_SCRIPT,
	HEALTH_LIVENESS
};

struct health_config {
	enum health_type	type;
	/* http */
	char			*url;
	uint16_t		*expected_status;	/* empty: 200 */
	size_t			 n_expected_status;
	char			*expected_body;		/* NULL: none */
	/* tcp */
	char			*host;
	uint16_t		 port;
	/* script */
	char			*path;
	char			**args;
	size_t			 nargs;
	/* common */
	struct duration		 interval;		/* 30 s */
	struct duration		 timeout;		/* 5 s */
	uint32_t		 unhealthy_threshold;	/* 3 */
	uint32_t		 healthy_threshold;	/* 1 */
	struct duration		 initial_delay;		/* 0 s */
};

enum rotation_mode {
	ROTATE_SIZE,
	ROTATE_DAILY,
	ROTATE_HOURLY
};

struct rotation_config {
	uint64_t		max_size;	/* 10 MiB */
	uint32_t		max_files;	/* 10 */
	int			compress;	/* false */
	enum rotation_mode	mode;		/* size */
};

struct log_config {
	char			*out_file;	/* NULL: none */
	char			*err_file;
	char			*combined_file;
	int			 merge_stderr;	/* false */
	int			 timestamp;	/* false */
	char			*timestamp_format;	/* never NULL */
	int			 redact;	/* true (ours) */
	int			 rotation_present;
	struct rotation_config	 rotation;	/* defaults when absent */
};

struct shutdown_config {
	struct duration		 timeout;	/* 30 s */
	int			 signo;		/* SIGTERM */
	struct duration		 kill_delay;	/* 5 s */
	int			 force_kill;	/* true */
	char			**pre_shutdown_commands;
	size_t			 n_pre_shutdown_commands;
};

/*
 * [processes.limits]: resource limits of an instance.  The rlimits, set
 * (soft and hard) between fork and exec: nofile, nproc, core (a count,
 * bytes for core), cpu (seconds), as, data (bytes).  Then the limits of
 * its cgroup (Linux, where the controller is on): memory_max,
 * memory_high (bytes), pids_max (processes), cpu_max (percent of one
 * CPU), io_weight (1..10000).
 */
enum config_limit {
	LIMIT_NOFILE,
	LIMIT_NPROC,
	LIMIT_CORE,
	LIMIT_CPU,
	LIMIT_AS,
	LIMIT_DATA,
	LIMIT_MEMORY_MAX,
	LIMIT_MEMORY_HIGH,
	LIMIT_PIDS_MAX,
	LIMIT_CPU_MAX,
	LIMIT_IO_WEIGHT,
	LIMIT__COUNT
};

#define LIMIT_RLIMITS	LIMIT_MEMORY_MAX	/* rlimits before it */
#define LIMIT_CPU_MAX_MAX	100000		/* percent: 1000 CPUs */
#define LIMIT_IO_WEIGHT_MAX	10000

struct limits_config {
	int			 set[LIMIT__COUNT];
	uint64_t		 value[LIMIT__COUNT];
	struct toml_pos		 pos[LIMIT__COUNT];	/* values' */
};

/* "nofile", ... */
const char	*config_limit_name(enum config_limit);

/* A string -> string table in document order (env, env_mapping). */
struct config_env {
	char			*key;
	char			*value;
};

struct cred_binding {
	char			*profile;	/* a [[credentials]] id */
	size_t			 profile_idx;	/* index in config->creds */
	int			 hot_swap;	/* false */
	int			 hot_swap_signo;	/* SIGHUP */
	int			 auto_refresh;	/* false */
	struct config_env	*env_mapping;	/* profile field -> env var */
	size_t			 n_env_mapping;
	char			*config_file;	/* NULL: none */
};

struct proc_config {
	char			*name;
	struct toml_pos		 pos;		/* the [[processes]] header */
	char			*command;
	char			**args;
	size_t			 nargs;
	char			*cwd;		/* NULL: inherit */
	struct config_env	*env;		/* in document order */
	size_t			 nenv;
	uint32_t		 instances;	/* 1..CONFIG_INSTANCES_MAX */
	struct restart_config	 restart;
	int			 health_present;
	struct toml_pos		 health_pos;	/* its table */
	struct health_config	 health;	/* type none when absent */
	int			 log_present;
	struct log_config	 log;
	struct shutdown_config	 shutdown;
	struct limits_config	 limits;
	int			 creds_present;
	struct toml_pos		 creds_pos;	/* its table */
	struct cred_binding	 creds;
	/* ours */
	char			*user;		/* NULL: the daemon's user */
	uid_t			 uid;		/* valid when user != NULL */
	char			*group;		/* NULL: user's primary group */
	gid_t			 gid;		/* group's, else user's; valid
						   when either is set */
	int			 has_umask;
	mode_t			 umask;		/* valid when has_umask */
	int			 autostart;	/* true */
	int			 inherit_env;	/* false */
};

enum cred_provider {
	PROVIDER_CLAUDE,
	PROVIDER_GEMINI,
	PROVIDER_OPENAI,
	PROVIDER_CUSTOM
};

enum auth_method {
	AUTH_API_KEY,
	AUTH_SESSION_TOKEN,
	AUTH_OAUTH
};

struct cred_config {
	char			*id;
	struct toml_pos		 pos;		/* the [[credentials]] header */
	char			*provider_name;	/* as written */
	enum cred_provider	 provider;
	enum auth_method	 auth_method;
	int			 has_refresh;
	struct duration		 refresh_before_expiry;
};

struct daemon_config {
	char			*pid_file;
	char			*socket;
	char			*log_dir;
	char			*state_file;
	int			 state_file_set; /* in the file */
	/* ours */
	char			*user;		/* frontend's user, "_apm2d" */
	int			 user_found;	/* uid/gid valid */
	uid_t			 uid;
	gid_t			 gid;
	char			*log_user;	/* logger's user, "_apm2log" */
	int			 log_user_found;
	uid_t			 log_uid;
	gid_t			 log_gid;
	char			*chroot;	/* "/var/empty" */
	mode_t			 socket_mode;	/* 0666 */
	char			*socket_group;	/* NULL: none */
	gid_t			 socket_gid;
	char			*admin_group;	/* NULL: none */
	gid_t			 admin_gid;
	struct duration		 shutdown_timeout;	/* 10 s */
	struct duration		 idle_timeout;	/* 60 s, 0: never */
	uint32_t		 max_conns_per_user;	/* 64 */
	uint64_t		 log_memory;	/* logger's rings, bytes */
	uint32_t		 max_open_log_files;	/* 1024 */
	char			*log_file;	/* NULL: syslog or stderr */
	char			*metrics_file;	/* NULL: none */
	struct duration		 metrics_interval;	/* 15 s */
};

struct config {
	char			*path;		/* as given to the loader */
	struct daemon_config	 daemon;
	struct cred_config	*creds;		/* in file order */
	size_t			 ncreds;
	struct proc_config	*procs;		/* in file order */
	size_t			 nprocs;
};

/* Every error, already formatted "file:line:col: message", file order. */
struct config_errors {
	char			**msgs;
	size_t			  n;
};

/*
 * Load and validate.  NULL on any error, with every message in *errs
 * (errs may be NULL).  *errs is always (re)initialised: call
 * config_errors_free() after every call.
 *
 * config_load() resolves path with realpath(3), opens the result with
 * O_NOFOLLOW and reads that descriptor.  When the caller is root it
 * refuses, as "FILE: message", a file whose real path fails
 * path_dirs_secure(), and a descriptor that is not a regular file owned
 * by root or is writable by group or others (fstat(2) of the descriptor
 * read, never a second look by path).
 */
struct config	*config_load(const char *path, struct config_errors *errs);
struct config	*config_parse_buf(const char *path_for_messages,
		    const char *buf, size_t len, struct config_errors *errs);
void		 config_free(struct config *);
void		 config_errors_free(struct config_errors *);

/*
 * Is every directory above path safe for a process running as uid self?
 * From the real path (realpath(3)) of path's directory up to "/", each
 * one must be owned by root or self and not be writable by group or
 * others; a directory above the immediate one may be, if it is sticky
 * (/tmp).  0 if so; -1 with a message naming the directory, its owner
 * and mode in err.  path itself need not exist.
 */
int		 path_dirs_secure(const char *path, uid_t self, char *err,
		    size_t errlen);

/*
 * What the file sets that this version checks but does not act on (the
 * health checks, the credentials): one "FILE:LINE:COL: warning: ..." in
 * *w for each table.  The count; free *w with config_errors_free().
 */
size_t		 config_inert(const struct config *,
		    struct config_errors *w);

/*
 * The [daemon] paths as the daemon uses them: relative ones in the file
 * taken from cwd (the daemon runs in "/"); sock, pid and state (the
 * command line's, absolute or relative to cwd, each may be NULL) in
 * place of the file's; and for a daemon not run as root (root 0) with
 * no state file named, state.json beside its pid file, since the
 * default under /var/lib is not its to write.  0, or -1 (out of memory,
 * a path too long).
 */
int		 config_daemon_paths(struct config *, const char *cwd,
		    const char *sock, const char *pid, const char *state,
		    const char *log, int root);

const struct proc_config *config_find_proc(const struct config *,
		    const char *name);
/* Test seam: only regress/ calls config_find_cred(). */
const struct cred_config *config_find_cred(const struct config *,
		    const char *id);

/* "name" when instances == 1, "name-<idx>" otherwise. */
void		 config_display_name(const struct proc_config *, uint32_t idx,
		    char *buf, size_t len);

/*
 * Effective log destinations of instance idx (upstream §5.2), "" = none:
 *  - none of out_file, err_file, combined_file set (or no [log] table):
 *    stdout <log_dir>/<display>.out.log, stderr <log_dir>/<display>.err.log
 *    (stderr goes to the stdout file when merge_stderr is set);
 *  - otherwise stdout = out_file, else combined_file, else none;
 *    stderr = stdout's when merge_stderr, else err_file, else
 *    combined_file, else none.
 * A relative file name is taken relative to log_dir.  With several
 * instances, "-<idx>" is inserted before the first '.' of the file's base
 * name (not counting leading dots), or appended when there is none:
 * "/l/claude.out.log" -> "/l/claude-1.out.log", "/l/out" -> "/l/out-1";
 * the default names then match <display>.  0, or -1 if a buffer is short.
 */
int		 config_log_paths(const struct config *,
		    const struct proc_config *, uint32_t idx, char *out,
		    size_t outlen, char *err, size_t errlen);

/* Test seam: only regress/ calls config_backoff_type_name(). */
const char	*config_backoff_type_name(enum backoff_type);
/* Test seam: only regress/ calls config_health_type_name(). */
const char	*config_health_type_name(enum health_type);
/* Test seam: only regress/ calls config_rotation_mode_name(). */
const char	*config_rotation_mode_name(enum rotation_mode);
/* Test seam: only regress/ calls config_provider_name(). */
const char	*config_provider_name(enum cred_provider);
/* Test seam: only regress/ calls config_auth_method_name(). */
const char	*config_auth_method_name(enum auth_method);

#endif /* APM2_CONFIG_H */
