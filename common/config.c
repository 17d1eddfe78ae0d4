/* SPDX-License-Identifier: ISC */
/*
 * config.c -- load and validate ecosystem.toml (see config.h).
 *
 * The TOML tree is walked once, table by table, in document order; every
 * problem becomes one error with a position, and the walk goes on so the
 * user sees all of them at once.  Checks that need the whole file
 * (duplicate names, dangling credential profiles) run afterwards, and the
 * errors are sorted by position at the end.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "proto.h"
#include "signame.h"
#include "sysutil.h"
#include "toml.h"

_Static_assert(CONFIG_NAME_MAX < PROTO_NAME_MAX, "names fit the protocol");
_Static_assert(CONFIG_NAME_MAX < PROTO_ID_MAX, "cred ids fit the protocol");
_Static_assert(CONFIG_STR_MAX < PROTO_STR_MAX, "strings fit the protocol");

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define ESC_MAX		96	/* an escaped user string in a message */
#define WHERE_MAX	256	/* "processes[12].restart.backoff.max_delay" */
#define MSG_MAX		512

/* String checks for getstr(). */
#define S_NONEMPTY	0x01	/* "" is an error */
#define S_LONG		0x02	/* at most CONFIG_STR_MAX bytes */
#define S_ABS		0x04	/* must start with '/' */
#define S_PATH		(S_NONEMPTY | S_LONG)

struct cerr {
	unsigned int	 line;
	unsigned int	 col;
	size_t		 seq;
	char		*msg;
};

struct ctx {
	const char	*file;
	struct cerr	*errs;
	size_t		 nerrs;
	size_t		 cap;
	int		 full;		/* CONFIG_ERRORS_MAX reached */
	int		 oom;
	uid_t		 euid;
	gid_t		 rgid;
	gid_t		 egid;
	int		 daemon_user_set;
	int		 log_user_set;
	/* positions kept for the whole-file checks */
	const struct toml_value	**namev;	/* processes[i].name */
	const struct toml_value	**profv;	/* ...credentials.profile */
	const struct toml_value	**idv;		/* credentials[i].id */
};

/* For sorting names: the index into config->procs or ->creds. */
struct nameref {
	const char	*name;
	size_t		 idx;
	unsigned int	 line;		/* of the entry's header */
};

static void	 errorf(struct ctx *, const struct toml_pos *, const char *,
		    ...) __attribute__((__format__(__printf__, 3, 4)));
static void	 emit_errors(struct ctx *, struct config_errors *);
static void	 wheref(char *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static void	 file_error(const char *, struct config_errors *, const char *,
		    ...) __attribute__((__format__(__printf__, 3, 4)));
static int	 abs_path(char **, const char *, const char *);
static void	 inert_add(struct config_errors *, const char *,
		    const struct toml_pos *, const char *, ...)
		    __attribute__((__format__(printf, 4, 5)));
static int	 cerr_cmp(const void *, const void *);
static const char *esc(char *, size_t, const char *, size_t);
static void	 keypath(char *, size_t, const char *, const char *, size_t);
static int	 keyis(const struct toml_kv *, const char *);
static int	 inlist(const struct toml_kv *, const char *const *);
static void	 check_keys(struct ctx *, const struct toml_table *,
		    const char *, const char *const *);
static int	 typed(struct ctx *, const struct toml_table *, const char *,
		    const char *, enum toml_type, const char *,
		    const struct toml_value **);
static void	 missing(struct ctx *, const struct toml_pos *, const char *,
		    const char *, const char *);
static char	*dupstr(struct ctx *, const struct toml_value *, const char *,
		    int);
static int	 getstr(struct ctx *, const struct toml_table *, const char *,
		    const char *, int, char **, const struct toml_value **);
static int	 getbool(struct ctx *, const struct toml_table *, const char *,
		    const char *, int *);
static int	 checkuint(struct ctx *, const struct toml_value *,
		    const char *, uint64_t, uint64_t, uint64_t *);
static int	 getuint(struct ctx *, const struct toml_table *, const char *,
		    const char *, uint64_t, uint64_t, uint64_t *,
		    const struct toml_value **);
static int	 getdur(struct ctx *, const struct toml_table *, const char *,
		    const char *, struct duration *,
		    const struct toml_value **);
static int	 getsig(struct ctx *, const struct toml_table *, const char *,
		    const char *, int *);
static int	 getoctal(struct ctx *, const struct toml_table *, const char *,
		    const char *, mode_t *);
static int	 gettab(struct ctx *, const struct toml_table *, const char *,
		    const char *, const struct toml_value **);
static int	 getstrarray(struct ctx *, const struct toml_table *,
		    const char *, const char *, int, char ***, size_t *);
static int	 getenvtab(struct ctx *, const struct toml_table *,
		    const char *, const char *, int, struct config_env **,
		    size_t *);
static int	 name_index(const char *const *, size_t,
		    const struct toml_value *);
static void	 unknown_name(struct ctx *, const struct toml_value *,
		    const char *, const char *, const char *const *, size_t);
static const char *name_of(const char *const *, size_t, size_t);
static int	 envname_ok(const char *, size_t);
static int	 name_ok(struct ctx *, const struct toml_value *, const char *);
static int	 durcmp(const struct duration *, const struct duration *);
static int	 lookup_user(struct ctx *, const struct toml_value *,
		    const char *, const char *, uid_t *, gid_t *);
static int	 lookup_group(struct ctx *, const struct toml_value *,
		    const char *, const char *, gid_t *);
static void	 parse_daemon(struct ctx *, struct config *,
		    const struct toml_value *);
static void	 parse_creds(struct ctx *, struct config *,
		    const struct toml_value *);
static void	 parse_cred(struct ctx *, struct cred_config *, size_t,
		    const struct toml_value *);
static void	 parse_procs(struct ctx *, struct config *,
		    const struct toml_value *);
static void	 parse_proc(struct ctx *, struct proc_config *, size_t,
		    const struct toml_value *);
static void	 parse_restart(struct ctx *, struct restart_config *,
		    const char *, const struct toml_value *);
static void	 parse_backoff(struct ctx *, struct backoff_config *,
		    const char *, const struct toml_value *);
static void	 backoff_multiplier(struct ctx *, struct backoff_config *,
		    const char *, const struct toml_table *);
static void	 backoff_delays(struct ctx *, struct backoff_config *,
		    const char *, const struct toml_value *, const char *);
static void	 parse_health(struct ctx *, struct health_config *,
		    const char *, const struct toml_value *);
static int	 health_variant(struct ctx *, struct health_config *,
		    const char *, const struct toml_value *);
static int	 health_statuses(struct ctx *, struct health_config *,
		    const char *, const struct toml_table *);
static void	 health_times(struct ctx *, struct health_config *,
		    const char *, const struct toml_table *);
static void	 parse_log(struct ctx *, struct log_config *, const char *,
		    const struct toml_value *);
static void	 parse_rotation(struct ctx *, struct rotation_config *,
		    const char *, const struct toml_value *);
enum sized { SZ_COUNT, SZ_BYTES, SZ_PERCENT };

static int	 getsized(struct ctx *, const struct toml_table *,
		    const char *, const char *, enum sized, uint64_t, uint64_t,
		    uint64_t *);
static void	 parse_limits(struct ctx *, struct limits_config *,
		    const char *, const struct toml_value *);
static void	 parse_shutdown(struct ctx *, struct shutdown_config *,
		    const char *, const struct toml_value *);
static void	 parse_binding(struct ctx *, struct cred_binding *, size_t,
		    const char *, const struct toml_value *);
static void	 parse_owner(struct ctx *, struct proc_config *, const char *,
		    const struct toml_table *);
static int	 variant_keys(struct ctx *, const struct toml_table *,
		    const char *, const char *const *, const char *const *,
		    const char *);
static int	 gettype(struct ctx *, const struct toml_value *,
		    const char *, const char *, const char *const *, size_t,
		    const char *const *, const char *const *const *);
static int	 nameref_cmp(const void *, const void *);
static size_t	 lower_bound(const struct nameref *, size_t, const char *);
static void	 sort_dups(struct ctx *, struct nameref *, size_t,
		    const struct toml_value **, const char *, const char *,
		    const char *);
static void	 check_names(struct ctx *, struct config *);
static void	 check_creds(struct ctx *, struct config *);
static void	 set_defaults(struct config *);
static void	 proc_defaults(struct proc_config *);
static char	*xstrdup(struct ctx *, const char *);
static void	 free_strv(char **, size_t);
static void	 free_env(struct config_env *, size_t);
static void	 free_proc(struct proc_config *);
static int	 open_config(const char *, struct config_errors *);
static int	 read_config(int, const char *, struct config_errors *, char **,
		    size_t *);
static int	 build_log_path(const struct config *,
		    const struct proc_config *, uint32_t, const char *, char *,
		    size_t);

static const char *const top_keys[] = {
	"daemon", "credentials", "processes", NULL
};
static const char *const daemon_keys[] = {
	"pid_file", "socket", "log_dir", "state_file", "user", "log_user",
	"chroot",
	"socket_mode", "socket_group", "admin_group", "shutdown_timeout",
	"idle_timeout", "max_connections_per_user", "log_memory",
	"max_open_log_files", "log_file", "metrics_file", "metrics_interval",
	NULL
};
static const char *const cred_keys[] = {
	"id", "provider", "auth_method", "refresh_before_expiry", NULL
};
static const char *const proc_keys[] = {
	"name", "command", "args", "cwd", "env", "instances", "restart",
	"health", "log", "shutdown", "limits", "credentials", "user", "group",
	"umask",
	"autostart", "inherit_env", NULL
};
static const char *const restart_keys[] = {
	"max_restarts", "restart_window", "min_uptime", "restart_on_success",
	"backoff", NULL
};
static const char *const backoff_keys[] = {
	"type", "delay", "initial_delay", "max_delay", "multiplier",
	"increment", NULL
};
/* Keys that belong to one backoff variant or another. */
static const char *const backoff_vkeys[] = {
	"delay", "initial_delay", "max_delay", "multiplier", "increment", NULL
};
static const char *const backoff_fixed_keys[] = { "delay", NULL };
static const char *const backoff_exp_keys[] = {
	"initial_delay", "max_delay", "multiplier", NULL
};
static const char *const backoff_lin_keys[] = {
	"initial_delay", "increment", "max_delay", NULL
};
/* By enum backoff_type. */
static const char *const *const backoff_type_keys[] = {
	backoff_fixed_keys, backoff_exp_keys, backoff_lin_keys
};
static const char *const health_keys[] = {
	"type", "url", "expected_status", "expected_body", "host", "port",
	"path", "args", "interval", "timeout", "unhealthy_threshold",
	"healthy_threshold", "initial_delay", NULL
};
static const char *const health_vkeys[] = {
	"url", "expected_status", "expected_body", "host", "port", "path",
	"args", NULL
};
static const char *const health_none_keys[] = { NULL };
static const char *const health_http_keys[] = {
	"url", "expected_status", "expected_body", NULL
};
static const char *const health_tcp_keys[] = { "host", "port", NULL };
static const char *const health_script_keys[] = { "path", "args", NULL };
/* By enum health_type. */
static const char *const *const health_type_keys[] = {
	health_none_keys, health_http_keys, health_tcp_keys,
	health_script_keys, health_none_keys
};
static const char *const log_keys[] = {
	"out_file", "err_file", "combined_file", "merge_stderr", "timestamp",
	"timestamp_format", "redact", "rotation", NULL
};
static const char *const rotation_keys[] = {
	"max_size", "max_files", "compress", "mode", NULL
};
static const char *const shutdown_keys[] = {
	"timeout", "signal", "kill_delay", "force_kill",
	"pre_shutdown_commands", NULL
};
/* In enum config_limit's order. */
static const char *const limit_keys[] = {
	"nofile", "nproc", "core", "cpu", "as", "data", "memory_max",
	"memory_high", "pids_max", "cpu_max", "io_weight", NULL
};
static const char *const binding_keys[] = {
	"profile", "hot_swap", "hot_swap_signal", "auto_refresh",
	"env_mapping", "config_file", NULL
};

static const char *const backoff_names[] = {
	"fixed", "exponential", "linear"
};
static const char *const health_names[] = {
	"none", "http", "tcp", "script", "liveness"
};
static const char *const rotation_names[] = { "size", "daily", "hourly" };
static const char *const provider_names[] = {
	"claude", "gemini", "openai", "custom"
};
static const char *const auth_names[] = {
	"api_key", "session_token", "oauth"
};

/* Upstream's provider aliases (§6.4), matched case-insensitively. */
static const struct {
	const char		*alias;
	enum cred_provider	 provider;
} provider_aliases[] = {
	{ "claude", PROVIDER_CLAUDE },
	{ "anthropic", PROVIDER_CLAUDE },
	{ "gemini", PROVIDER_GEMINI },
	{ "google", PROVIDER_GEMINI },
	{ "openai", PROVIDER_OPENAI },
	{ "gpt", PROVIDER_OPENAI },
	{ "codex", PROVIDER_OPENAI },
	{ "custom", PROVIDER_CUSTOM },
	{ "other", PROVIDER_CUSTOM },
};

/*
 * Errors.
 */

static void
errorf(struct ctx *c, const struct toml_pos *pos, const char *fmt, ...)
{
	va_list		 ap;
	struct cerr	*ne;
	char		*msg;
	size_t		 ncap;

	if (c->full || c->oom)
		return;
	if (c->nerrs == CONFIG_ERRORS_MAX) {
		c->full = 1;
		return;
	}
	if (c->nerrs == c->cap) {
		ncap = c->cap == 0 ? 16 : c->cap * 2;
		ne = reallocarray(c->errs, ncap, sizeof(*ne));
		if (ne == NULL) {
			c->oom = 1;
			return;
		}
		c->errs = ne;
		c->cap = ncap;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1) {
		va_end(ap);
		c->oom = 1;
		return;
	}
	va_end(ap);
	c->errs[c->nerrs].line = pos != NULL ? pos->line : 0;
	c->errs[c->nerrs].col = pos != NULL ? pos->col : 0;
	c->errs[c->nerrs].seq = c->nerrs;
	c->errs[c->nerrs].msg = msg;
	c->nerrs++;
}

static int
cerr_cmp(const void *a, const void *b)
{
	const struct cerr	*x = a, *y = b;

	if (x->line != y->line)
		return (x->line < y->line ? -1 : 1);
	if (x->col != y->col)
		return (x->col < y->col ? -1 : 1);
	if (x->seq != y->seq)
		return (x->seq < y->seq ? -1 : 1);
	return (0);
}

/* Sort, prefix "file:line:col: " and hand the messages to the caller. */
static void
emit_errors(struct ctx *c, struct config_errors *errs)
{
	size_t	 i, n, k;
	char	*s;
	int	 r;

	if (c->nerrs > 1)
		qsort(c->errs, c->nerrs, sizeof(*c->errs), cerr_cmp);
	if (errs == NULL)
		goto done;
	n = c->nerrs + (c->full || c->oom ? 1 : 0);
	if (n == 0)
		goto done;
	if ((errs->msgs = calloc(n, sizeof(char *))) == NULL)
		goto done;
	for (i = 0, k = 0; i < c->nerrs; i++) {
		if (c->errs[i].line == 0)
			r = asprintf(&s, "%s: %s", c->file, c->errs[i].msg);
		else
			r = asprintf(&s, "%s:%u:%u: %s", c->file,
			    c->errs[i].line, c->errs[i].col, c->errs[i].msg);
		if (r == -1)
			continue;
		errs->msgs[k++] = s;
	}
	if (c->full || c->oom) {
		r = asprintf(&s, "%s: %s", c->file, c->oom ?
		    "out of memory" : "too many errors, giving up");
		if (r != -1)
			errs->msgs[k++] = s;
	}
	errs->n = k;
 done:
	for (i = 0; i < c->nerrs; i++)
		free(c->errs[i].msg);
	free(c->errs);
	c->errs = NULL;
	c->nerrs = c->cap = 0;
}

/* An error with no position, when there is no ctx. */
static void
file_error(const char *file, struct config_errors *errs, const char *fmt,
    ...)
{
	va_list	 ap;
	char	 msg[MSG_MAX];
	char	*s;

	if (errs == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((errs->msgs = calloc(1, sizeof(char *))) == NULL)
		return;
	if (asprintf(&s, "%s: %s", file, msg) == -1) {
		free(errs->msgs);
		errs->msgs = NULL;
		return;
	}
	errs->msgs[0] = s;
	errs->n = 1;
}

void
config_errors_free(struct config_errors *errs)
{
	size_t	i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/*
 * Message helpers.
 */

/* snprintf for the "where" of a message: a long one is merely cut. */
static void
wheref(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Printable ASCII for a user-supplied string; long ones end in "...". */
static const char *
esc(char *buf, size_t len, const char *s, size_t slen)
{
	size_t		 i, o = 0, tl;
	unsigned char	 ch;
	char		 tmp[8];

	for (i = 0; i < slen; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)ch;
			tl = 2;
		} else if (ch >= 0x20 && ch < 0x7f) {
			tmp[0] = (char)ch;
			tl = 1;
		} else {
			(void)snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
			tl = 4;
		}
		if (o + tl + 4 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o] = '\0';
	return (buf);
}

/* where + "." + key, the key quoted unless it is a plain bare key. */
static void
keypath(char *buf, size_t len, const char *where, const char *key,
    size_t keylen)
{
	char	e[ESC_MAX];
	size_t	i;
	int	bare = keylen > 0;

	for (i = 0; i < keylen; i++) {
		if (!((key[i] >= 'a' && key[i] <= 'z') ||
		    (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9') ||
		    key[i] == '_' || key[i] == '-')) {
			bare = 0;
			break;
		}
	}
	(void)snprintf(buf, len, "%s%s%s%s%s", where, where[0] != '\0' ?
	    "." : "", bare ? "" : "\"", esc(e, sizeof(e), key, keylen),
	    bare ? "" : "\"");
}

static int
keyis(const struct toml_kv *kv, const char *key)
{
	return (kv->keylen == strlen(key) &&
	    memcmp(kv->key, key, kv->keylen) == 0);
}

static int
inlist(const struct toml_kv *kv, const char *const *list)
{
	for (; *list != NULL; list++)
		if (keyis(kv, *list))
			return (1);
	return (0);
}

/* Every key of t must be in known: a typo is an error. */
static void
check_keys(struct ctx *c, const struct toml_table *t, const char *where,
    const char *const *known)
{
	char	e[ESC_MAX];
	size_t	i;

	for (i = 0; i < t->n; i++) {
		if (inlist(&t->kv[i], known))
			continue;
		esc(e, sizeof(e), t->kv[i].key, t->kv[i].keylen);
		if (where[0] == '\0')
			errorf(c, &t->kv[i].pos, "unknown top-level key \"%s\"",
			    e);
		else
			errorf(c, &t->kv[i].pos, "%s: unknown key \"%s\"",
			    where, e);
	}
}

/*
 * Find key in t and check its type.  0: absent; 1: present with type
 * want (*vp set); -1: wrong type, reported ("expected <want><hint>").
 */
static int
typed(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, enum toml_type want, const char *hint,
    const struct toml_value **vp)
{
	const struct toml_kv	*kv;
	char			 w[WHERE_MAX];

	*vp = NULL;
	if ((kv = toml_get(t, key)) == NULL)
		return (0);
	if (kv->val->type != want) {
		keypath(w, sizeof(w), where, key, strlen(key));
		errorf(c, &kv->val->pos, "%s: expected %s%s, got %s", w,
		    toml_type_name(want), hint != NULL ? hint : "",
		    toml_type_name(kv->val->type));
		return (-1);
	}
	*vp = kv->val;
	return (1);
}

static void
missing(struct ctx *c, const struct toml_pos *pos, const char *where,
    const char *key, const char *extra)
{
	errorf(c, pos, "%s: missing required key \"%s\"%s", where, key,
	    extra != NULL ? extra : "");
}

/* Copy a string value, applying the S_* checks.  NULL: reported. */
static char *
dupstr(struct ctx *c, const struct toml_value *v, const char *w, int flags)
{
	char	*s;

	if (memchr(v->u.str.ptr, '\0', v->u.str.len) != NULL) {
		errorf(c, &v->pos, "%s: must not contain a NUL character", w);
		return (NULL);
	}
	if ((flags & S_NONEMPTY) && v->u.str.len == 0) {
		errorf(c, &v->pos, "%s: must not be empty", w);
		return (NULL);
	}
	if ((flags & S_LONG) && v->u.str.len > CONFIG_STR_MAX) {
		errorf(c, &v->pos, "%s: longer than %d bytes", w,
		    CONFIG_STR_MAX);
		return (NULL);
	}
	if ((flags & S_ABS) && v->u.str.ptr[0] != '/') {
		errorf(c, &v->pos, "%s: must be an absolute path", w);
		return (NULL);
	}
	if ((s = malloc(v->u.str.len + 1)) == NULL) {
		c->oom = 1;
		return (NULL);
	}
	memcpy(s, v->u.str.ptr, v->u.str.len);
	s[v->u.str.len] = '\0';
	return (s);
}

/* A string key.  On success *out is replaced (the old value freed). */
static int
getstr(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, int flags, char **out, const struct toml_value **vp)
{
	const struct toml_value	*v;
	char			 w[WHERE_MAX];
	char			*s;
	int			 r;

	if (vp != NULL)
		*vp = NULL;
	if ((r = typed(c, t, where, key, TOML_STRING, NULL, &v)) != 1)
		return (r);
	keypath(w, sizeof(w), where, key, strlen(key));
	if ((s = dupstr(c, v, w, flags)) == NULL)
		return (-1);
	free(*out);
	*out = s;
	if (vp != NULL)
		*vp = v;
	return (1);
}

static int
getbool(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, int *out)
{
	const struct toml_value	*v;
	int			 r;

	if ((r = typed(c, t, where, key, TOML_BOOL, NULL, &v)) != 1)
		return (r);
	*out = v->u.b != 0;
	return (1);
}

static int
checkuint(struct ctx *c, const struct toml_value *v, const char *w,
    uint64_t min, uint64_t max, uint64_t *out)
{
	if (v->u.i < 0 && min == 0) {
		errorf(c, &v->pos, "%s: must not be negative, got %" PRId64,
		    w, v->u.i);
		return (-1);
	}
	if (v->u.i < 0 || (uint64_t)v->u.i < min) {
		errorf(c, &v->pos, "%s: must be at least %" PRIu64 ", got %"
		    PRId64, w, min, v->u.i);
		return (-1);
	}
	if ((uint64_t)v->u.i > max) {
		errorf(c, &v->pos, "%s: must be at most %" PRIu64 ", got %"
		    PRId64, w, max, v->u.i);
		return (-1);
	}
	*out = (uint64_t)v->u.i;
	return (1);
}

static int
getuint(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, uint64_t min, uint64_t max, uint64_t *out,
    const struct toml_value **vp)
{
	const struct toml_value	*v;
	char			 w[WHERE_MAX];
	int			 r;

	if (vp != NULL)
		*vp = NULL;
	if ((r = typed(c, t, where, key, TOML_INTEGER, NULL, &v)) != 1)
		return (r);
	keypath(w, sizeof(w), where, key, strlen(key));
	if ((r = checkuint(c, v, w, min, max, out)) == 1 && vp != NULL)
		*vp = v;
	return (r);
}

static int
getdur(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, struct duration *out, const struct toml_value **vp)
{
	const struct toml_value	*v;
	struct duration		 d;
	char			 w[WHERE_MAX], e[ESC_MAX], msg[MSG_MAX];
	int			 r;

	if (vp != NULL)
		*vp = NULL;
	if ((r = typed(c, t, where, key, TOML_STRING,
	    " (a duration such as \"30s\")", &v)) != 1)
		return (r);
	keypath(w, sizeof(w), where, key, strlen(key));
	if (duration_parse_len(v->u.str.ptr, v->u.str.len, &d, msg,
	    sizeof(msg)) != 0) {
		errorf(c, &v->pos, "%s: invalid duration \"%s\": %s", w,
		    esc(e, sizeof(e), v->u.str.ptr, v->u.str.len), msg);
		return (-1);
	}
	*out = d;
	if (vp != NULL)
		*vp = v;
	return (1);
}

static int
getsig(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, int *out)
{
	const struct toml_value	*v;
	char			 w[WHERE_MAX], msg[MSG_MAX];
	char			*s;
	int			 r, signo;

	if ((r = typed(c, t, where, key, TOML_STRING,
	    " (a signal name such as \"SIGTERM\")", &v)) != 1)
		return (r);
	keypath(w, sizeof(w), where, key, strlen(key));
	if ((s = dupstr(c, v, w, 0)) == NULL)
		return (-1);
	if (signame_parse(s, &signo, msg, sizeof(msg)) != 0) {
		errorf(c, &v->pos, "%s: %s", w, msg);
		free(s);
		return (-1);
	}
	free(s);
	*out = signo;
	return (1);
}

/* An octal permission string: "0660", "022". */
static int
getoctal(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, mode_t *out)
{
	const struct toml_value	*v;
	char			 w[WHERE_MAX], e[ESC_MAX];
	unsigned long		 m = 0;
	size_t			 i;
	int			 r;

	if ((r = typed(c, t, where, key, TOML_STRING,
	    " (octal digits such as \"0660\")", &v)) != 1)
		return (r);
	keypath(w, sizeof(w), where, key, strlen(key));
	esc(e, sizeof(e), v->u.str.ptr, v->u.str.len);
	if (v->u.str.len == 0) {
		errorf(c, &v->pos, "%s: \"\" is not an octal number", w);
		return (-1);
	}
	for (i = 0; i < v->u.str.len; i++) {
		if (v->u.str.ptr[i] < '0' || v->u.str.ptr[i] > '7') {
			errorf(c, &v->pos, "%s: \"%s\" is not an octal number",
			    w, e);
			return (-1);
		}
		if (m <= 07777)
			m = m * 8 + (unsigned long)(v->u.str.ptr[i] - '0');
	}
	if (m > 0777) {
		errorf(c, &v->pos, "%s: \"%s\" is out of range (at most 0777)",
		    w, e);
		return (-1);
	}
	*out = (mode_t)m;
	return (1);
}

static int
gettab(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, const struct toml_value **vp)
{
	return (typed(c, t, where, key, TOML_TABLE, NULL, vp));
}

/* An array of strings; *out replaced.  Elements get the S_* checks. */
static int
getstrarray(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, int flags, char ***out, size_t *nout)
{
	const struct toml_value	*v, *it;
	const struct toml_array	*a;
	char			 w[WHERE_MAX], we[WHERE_MAX];
	char			**vec = NULL;
	size_t			 i, n = 0;
	int			 r, bad = 0;

	if ((r = typed(c, t, where, key, TOML_ARRAY, " of strings", &v)) != 1)
		return (r);
	keypath(w, sizeof(w), where, key, strlen(key));
	a = v->u.arr;
	if (a->n > 0 && (vec = calloc(a->n, sizeof(char *))) == NULL) {
		c->oom = 1;
		return (-1);
	}
	for (i = 0; i < a->n; i++) {
		it = a->items[i];
		wheref(we, sizeof(we), "%s[%zu]", w, i);
		if (it->type != TOML_STRING) {
			errorf(c, &it->pos, "%s: expected string, got %s", we,
			    toml_type_name(it->type));
			bad = 1;
			continue;
		}
		if ((vec[n] = dupstr(c, it, we, flags)) == NULL) {
			bad = 1;
			continue;
		}
		n++;
	}
	if (bad) {
		free_strv(vec, n);
		return (-1);
	}
	free_strv(*out, *nout);
	*out = vec;
	*nout = n;
	return (1);
}

/*
 * A table of string -> string, kept in document order.  vnames: the
 * values are environment variable names (env_mapping); otherwise the keys
 * are (env).
 */
static int
getenvtab(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, int vnames, struct config_env **out, size_t *nout)
{
	const struct toml_value	*v;
	const struct toml_kv	*kv;
	const struct toml_table	*et;
	struct config_env	*vec = NULL;
	char			 w[WHERE_MAX], we[WHERE_MAX], e[ESC_MAX];
	size_t			 i, n = 0;
	int			 r, bad = 0;

	if ((r = typed(c, t, where, key, TOML_TABLE, " of strings", &v)) != 1)
		return (r);
	keypath(w, sizeof(w), where, key, strlen(key));
	et = v->u.tab;
	if (et->n > 0 && (vec = calloc(et->n, sizeof(*vec))) == NULL) {
		c->oom = 1;
		return (-1);
	}
	for (i = 0; i < et->n; i++) {
		kv = &et->kv[i];
		keypath(we, sizeof(we), w, kv->key, kv->keylen);
		if (kv->val->type != TOML_STRING) {
			errorf(c, &kv->val->pos, "%s: expected string, got %s",
			    we, toml_type_name(kv->val->type));
			bad = 1;
			continue;
		}
		if (!vnames && !envname_ok(kv->key, kv->keylen)) {
			errorf(c, &kv->pos, "%s: invalid environment variable "
			    "name \"%s\"", w, esc(e, sizeof(e), kv->key,
			    kv->keylen));
			bad = 1;
			continue;
		}
		if (vnames && (kv->keylen == 0 ||
		    memchr(kv->key, '\0', kv->keylen) != NULL)) {
			errorf(c, &kv->pos, "%s: invalid field name \"%s\"", w,
			    esc(e, sizeof(e), kv->key, kv->keylen));
			bad = 1;
			continue;
		}
		if (vnames && !envname_ok(kv->val->u.str.ptr,
		    kv->val->u.str.len)) {
			errorf(c, &kv->val->pos, "%s: invalid environment "
			    "variable name \"%s\"", we, esc(e, sizeof(e),
			    kv->val->u.str.ptr, kv->val->u.str.len));
			bad = 1;
			continue;
		}
		if ((vec[n].value = dupstr(c, kv->val, we, 0)) == NULL) {
			bad = 1;
			continue;
		}
		if ((vec[n].key = strdup(kv->key)) == NULL) {
			free(vec[n].value);
			c->oom = 1;
			bad = 1;
			continue;
		}
		n++;
	}
	if (bad) {
		free_env(vec, n);
		return (-1);
	}
	free_env(*out, *nout);
	*out = vec;
	*nout = n;
	return (1);
}

/* The index of string value v in names, or -1. */
static int
name_index(const char *const *names, size_t n, const struct toml_value *v)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v->u.str.len == strlen(names[i]) &&
		    memcmp(v->u.str.ptr, names[i], v->u.str.len) == 0)
			return ((int)i);
	return (-1);
}

/* "w: unknown <what> "v" (expected a, b or c)". */
static void
unknown_name(struct ctx *c, const struct toml_value *v, const char *w,
    const char *what, const char *const *names, size_t n)
{
	char	list[128], e[ESC_MAX];
	size_t	i;

	list[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)strlcat(list, i + 1 < n ? ", " : " or ",
			    sizeof(list));
		(void)strlcat(list, names[i], sizeof(list));
	}
	errorf(c, &v->pos, "%s: unknown %s \"%s\" (expected %s)", w, what,
	    esc(e, sizeof(e), v->u.str.ptr, v->u.str.len), list);
}

/* names[i], or "unknown" past the end. */
static const char *
name_of(const char *const *names, size_t n, size_t i)
{
	return (i < n ? names[i] : "unknown");
}

/* What execve's environment can carry: non-empty, no '=' and no NUL. */
static int
envname_ok(const char *s, size_t len)
{
	return (len > 0 && memchr(s, '=', len) == NULL &&
	    memchr(s, '\0', len) == NULL);
}

/* [A-Za-z0-9][A-Za-z0-9._-]*, 1..CONFIG_NAME_MAX bytes. */
static int
name_ok(struct ctx *c, const struct toml_value *v, const char *w)
{
	char	e[ESC_MAX];
	size_t	i;
	char	ch;

	if (v->u.str.len == 0) {
		errorf(c, &v->pos, "%s: must not be empty", w);
		return (0);
	}
	esc(e, sizeof(e), v->u.str.ptr, v->u.str.len);
	if (v->u.str.len > CONFIG_NAME_MAX) {
		errorf(c, &v->pos, "%s: \"%s\" is longer than %d bytes", w, e,
		    CONFIG_NAME_MAX);
		return (0);
	}
	for (i = 0; i < v->u.str.len; i++) {
		ch = v->u.str.ptr[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (i > 0 && (ch == '.' || ch == '_' || ch == '-'))
			continue;
		errorf(c, &v->pos, "%s: invalid name \"%s\": use letters, "
		    "digits, '.', '_' and '-', starting with a letter or digit",
		    w, e);
		return (0);
	}
	return (1);
}

static int
durcmp(const struct duration *a, const struct duration *b)
{
	if (a->sec != b->sec)
		return (a->sec < b->sec ? -1 : 1);
	if (a->nsec != b->nsec)
		return (a->nsec < b->nsec ? -1 : 1);
	return (0);
}

static int
lookup_user(struct ctx *c, const struct toml_value *v, const char *w,
    const char *name, uid_t *uid, gid_t *gid)
{
	char	e[ESC_MAX];

	if (user_ids(name, uid, gid) == 0)
		return (0);
	esc(e, sizeof(e), name, strlen(name));
	if (errno == 0)
		errorf(c, &v->pos, "%s: unknown user \"%s\"", w, e);
	else
		errorf(c, &v->pos, "%s: cannot look up user \"%s\": %s", w, e,
		    strerror(errno));
	return (-1);
}

static int
lookup_group(struct ctx *c, const struct toml_value *v, const char *w,
    const char *name, gid_t *gid)
{
	char	e[ESC_MAX];

	if (group_id(name, gid) == 0)
		return (0);
	esc(e, sizeof(e), name, strlen(name));
	if (errno == 0)
		errorf(c, &v->pos, "%s: unknown group \"%s\"", w, e);
	else
		errorf(c, &v->pos, "%s: cannot look up group \"%s\": %s", w,
		    e, strerror(errno));
	return (-1);
}

static char *
xstrdup(struct ctx *c, const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL && c != NULL)
		c->oom = 1;
	return (d);
}

/*
 * The sections.
 */

static void
parse_daemon(struct ctx *c, struct config *cfg, const struct toml_value *tv)
{
	struct daemon_config	*d = &cfg->daemon;
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	struct sockaddr_un	 sun;
	uint64_t		 n;

	check_keys(c, t, "daemon", daemon_keys);
	(void)getstr(c, t, "daemon", "pid_file", S_PATH, &d->pid_file, NULL);
	if (getstr(c, t, "daemon", "socket", S_PATH, &d->socket, &v) == 1 &&
	    strlen(d->socket) >= sizeof(sun.sun_path))
		errorf(c, &v->pos, "daemon.socket: longer than %zu bytes (the "
		    "limit of a Unix socket address)",
		    sizeof(sun.sun_path) - 1);
	(void)getstr(c, t, "daemon", "log_dir", S_PATH, &d->log_dir, NULL);
	if (getstr(c, t, "daemon", "state_file", S_PATH, &d->state_file,
	    NULL) == 1)
		d->state_file_set = 1;
	if (toml_get(t, "user") != NULL)
		c->daemon_user_set = 1;
	if (getstr(c, t, "daemon", "user", S_NONEMPTY, &d->user, &v) == 1 &&
	    lookup_user(c, v, "daemon.user", d->user, &d->uid, &d->gid) == 0)
		d->user_found = 1;
	if (toml_get(t, "log_user") != NULL)
		c->log_user_set = 1;
	if (getstr(c, t, "daemon", "log_user", S_NONEMPTY, &d->log_user,
	    &v) == 1 && lookup_user(c, v, "daemon.log_user", d->log_user,
	    &d->log_uid, &d->log_gid) == 0)
		d->log_user_found = 1;
	(void)getstr(c, t, "daemon", "chroot", S_PATH | S_ABS, &d->chroot,
	    NULL);
	(void)getoctal(c, t, "daemon", "socket_mode", &d->socket_mode);
	if (getstr(c, t, "daemon", "socket_group", S_NONEMPTY,
	    &d->socket_group, &v) == 1)
		(void)lookup_group(c, v, "daemon.socket_group",
		    d->socket_group, &d->socket_gid);
	if (getstr(c, t, "daemon", "admin_group", S_NONEMPTY,
	    &d->admin_group, &v) == 1)
		(void)lookup_group(c, v, "daemon.admin_group",
		    d->admin_group, &d->admin_gid);
	(void)getdur(c, t, "daemon", "shutdown_timeout", &d->shutdown_timeout,
	    NULL);
	if (getdur(c, t, "daemon", "idle_timeout", &d->idle_timeout, &v) ==
	    1 && (d->idle_timeout.sec > CONFIG_IDLE_TIMEOUT_MAX ||
	    (d->idle_timeout.sec == CONFIG_IDLE_TIMEOUT_MAX &&
	    d->idle_timeout.nsec != 0)))
		errorf(c, &v->pos, "daemon.idle_timeout: longer than %d s",
		    CONFIG_IDLE_TIMEOUT_MAX);
	if (getuint(c, t, "daemon", "max_connections_per_user", 1,
	    CONFIG_MAX_CONNS, &n, NULL) == 1)
		d->max_conns_per_user = (uint32_t)n;
	(void)getsized(c, t, "daemon", "log_memory", SZ_BYTES,
	    CONFIG_LOG_MEMORY_MIN, CONFIG_LOG_MEMORY_MAX, &d->log_memory);
	if (getuint(c, t, "daemon", "max_open_log_files",
	    CONFIG_OPEN_LOG_FILES_MIN, CONFIG_OPEN_LOG_FILES_MAX, &n, NULL) ==
	    1)
		d->max_open_log_files = (uint32_t)n;
	(void)getstr(c, t, "daemon", "log_file", S_PATH, &d->log_file, NULL);
	(void)getstr(c, t, "daemon", "metrics_file", S_PATH, &d->metrics_file,
	    NULL);
	if (getdur(c, t, "daemon", "metrics_interval", &d->metrics_interval,
	    &v) == 1 && (d->metrics_interval.sec < 1 ||
	    d->metrics_interval.sec > CONFIG_METRICS_INTERVAL_MAX))
		errorf(c, &v->pos, "daemon.metrics_interval: between 1 s and "
		    "%d s", CONFIG_METRICS_INTERVAL_MAX);
}

static void
parse_creds(struct ctx *c, struct config *cfg, const struct toml_value *av)
{
	const struct toml_array	*a = av->u.arr;
	const struct toml_value	*it;
	size_t			 i;

	if (a->n == 0)
		return;
	cfg->creds = calloc(a->n, sizeof(*cfg->creds));
	c->idv = calloc(a->n, sizeof(*c->idv));
	if (cfg->creds == NULL || c->idv == NULL) {
		c->oom = 1;
		return;
	}
	cfg->ncreds = a->n;
	for (i = 0; i < a->n; i++) {
		it = a->items[i];
		cfg->creds[i].pos = it->pos;
		if (it->type != TOML_TABLE) {
			errorf(c, &it->pos, "credentials[%zu]: expected table, "
			    "got %s", i, toml_type_name(it->type));
			continue;
		}
		parse_cred(c, &cfg->creds[i], i, it);
	}
}

static void
parse_cred(struct ctx *c, struct cred_config *cr, size_t i,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	char			 where[WHERE_MAX], w[WHERE_MAX];
	char			*s = NULL;
	size_t			 a;
	int			 r, k;

	wheref(where, sizeof(where), "credentials[%zu]", i);
	check_keys(c, t, where, cred_keys);

	wheref(w, sizeof(w), "%s.id", where);
	if ((r = typed(c, t, where, "id", TOML_STRING, NULL, &v)) == 0)
		missing(c, &tv->pos, where, "id", NULL);
	else if (r == 1 && name_ok(c, v, w)) {
		cr->id = dupstr(c, v, w, 0);
		c->idv[i] = v;
	}

	wheref(w, sizeof(w), "%s.provider", where);
	if ((r = getstr(c, t, where, "provider", 0, &cr->provider_name,
	    &v)) == 0)
		missing(c, &tv->pos, where, "provider", NULL);
	else if (r == 1) {
		for (a = 0; a < nitems(provider_aliases); a++)
			if (strcasecmp(cr->provider_name,
			    provider_aliases[a].alias) == 0)
				break;
		if (a < nitems(provider_aliases))
			cr->provider = provider_aliases[a].provider;
		else
			unknown_name(c, v, w, "provider", provider_names,
			    nitems(provider_names));
	}

	/* getstr() for its checks: a NUL is reported as such. */
	wheref(w, sizeof(w), "%s.auth_method", where);
	if ((r = getstr(c, t, where, "auth_method", 0, &s, &v)) == 0)
		missing(c, &tv->pos, where, "auth_method", NULL);
	else if (r == 1) {
		if ((k = name_index(auth_names, nitems(auth_names), v)) != -1)
			cr->auth_method = (enum auth_method)k;
		else
			unknown_name(c, v, w, "auth method", auth_names,
			    nitems(auth_names));
	}
	free(s);

	if (getdur(c, t, where, "refresh_before_expiry",
	    &cr->refresh_before_expiry, NULL) == 1)
		cr->has_refresh = 1;
}

static void
parse_procs(struct ctx *c, struct config *cfg, const struct toml_value *av)
{
	const struct toml_array	*a = av->u.arr;
	const struct toml_value	*it;
	size_t			 i;

	if (a->n == 0)
		return;
	cfg->procs = calloc(a->n, sizeof(*cfg->procs));
	c->namev = calloc(a->n, sizeof(*c->namev));
	c->profv = calloc(a->n, sizeof(*c->profv));
	if (cfg->procs == NULL || c->namev == NULL || c->profv == NULL) {
		c->oom = 1;
		return;
	}
	cfg->nprocs = a->n;
	for (i = 0; i < a->n; i++) {
		proc_defaults(&cfg->procs[i]);
		if ((cfg->procs[i].log.timestamp_format =
		    xstrdup(c, CONFIG_DEFAULT_TIMESTAMP_FORMAT)) == NULL)
			return;
	}
	for (i = 0; i < a->n; i++) {
		it = a->items[i];
		cfg->procs[i].pos = it->pos;
		if (it->type != TOML_TABLE) {
			errorf(c, &it->pos, "processes[%zu]: expected table, "
			    "got %s", i, toml_type_name(it->type));
			continue;
		}
		parse_proc(c, &cfg->procs[i], i, it);
	}
}

static void
parse_proc(struct ctx *c, struct proc_config *p, size_t i,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	char			 where[WHERE_MAX], w[WHERE_MAX];
	uint64_t		 u;
	int			 r;

	wheref(where, sizeof(where), "processes[%zu]", i);
	check_keys(c, t, where, proc_keys);

	wheref(w, sizeof(w), "%s.name", where);
	if ((r = typed(c, t, where, "name", TOML_STRING, NULL, &v)) == 0)
		missing(c, &tv->pos, where, "name", NULL);
	else if (r == 1 && name_ok(c, v, w)) {
		if (v->u.str.len == 3 && memcmp(v->u.str.ptr, "all", 3) == 0)
			/* apm2ctl's "all" means every process. */
			errorf(c, &v->pos, "%s: \"all\" is reserved", w);
		p->name = dupstr(c, v, w, 0);
		c->namev[i] = v;
	}
	if (getstr(c, t, where, "command", S_PATH, &p->command, NULL) == 0)
		missing(c, &tv->pos, where, "command", NULL);
	(void)getstrarray(c, t, where, "args", S_LONG, &p->args, &p->nargs);
	(void)getstr(c, t, where, "cwd", S_PATH, &p->cwd, NULL);
	(void)getenvtab(c, t, where, "env", 0, &p->env, &p->nenv);
	if (getuint(c, t, where, "instances", 1, CONFIG_INSTANCES_MAX, &u,
	    NULL) == 1)
		p->instances = (uint32_t)u;

	wheref(w, sizeof(w), "%s.restart", where);
	if (gettab(c, t, where, "restart", &v) == 1)
		parse_restart(c, &p->restart, w, v);
	wheref(w, sizeof(w), "%s.health", where);
	if (gettab(c, t, where, "health", &v) == 1) {
		p->health_present = 1;
		p->health_pos = v->pos;
		parse_health(c, &p->health, w, v);
	}
	wheref(w, sizeof(w), "%s.log", where);
	if (gettab(c, t, where, "log", &v) == 1) {
		p->log_present = 1;
		parse_log(c, &p->log, w, v);
	}
	wheref(w, sizeof(w), "%s.shutdown", where);
	if (gettab(c, t, where, "shutdown", &v) == 1)
		parse_shutdown(c, &p->shutdown, w, v);
	wheref(w, sizeof(w), "%s.limits", where);
	if (gettab(c, t, where, "limits", &v) == 1)
		parse_limits(c, &p->limits, w, v);
	wheref(w, sizeof(w), "%s.credentials", where);
	if (gettab(c, t, where, "credentials", &v) == 1) {
		p->creds_present = 1;
		p->creds_pos = v->pos;
		parse_binding(c, &p->creds, i, w, v);
	}

	parse_owner(c, p, where, t);
	if (getoctal(c, t, where, "umask", &p->umask) == 1)
		p->has_umask = 1;
	(void)getbool(c, t, where, "autostart", &p->autostart);
	(void)getbool(c, t, where, "inherit_env", &p->inherit_env);
}

/* user and group: resolved now, and checked against what we can do. */
static void
parse_owner(struct ctx *c, struct proc_config *p, const char *where,
    const struct toml_table *t)
{
	const struct toml_value	*v;
	char			 w[WHERE_MAX], e[ESC_MAX];
	uid_t			 uid;
	gid_t			 gid, ugid;

	wheref(w, sizeof(w), "%s.user", where);
	if (getstr(c, t, where, "user", S_NONEMPTY, &p->user, &v) == 1 &&
	    lookup_user(c, v, w, p->user, &uid, &ugid) == 0) {
		if (c->euid != 0 && uid != c->euid)
			errorf(c, &v->pos, "%s: running as uid %lu: cannot run "
			    "processes as user \"%s\"", w,
			    (unsigned long)c->euid,
			    esc(e, sizeof(e), p->user, strlen(p->user)));
		p->uid = uid;
		p->gid = ugid;
	}
	wheref(w, sizeof(w), "%s.group", where);
	if (getstr(c, t, where, "group", S_NONEMPTY, &p->group, &v) == 1 &&
	    lookup_group(c, v, w, p->group, &gid) == 0) {
		if (c->euid != 0 && gid != c->egid && gid != c->rgid)
			errorf(c, &v->pos, "%s: running as uid %lu: cannot run "
			    "processes as group \"%s\"", w,
			    (unsigned long)c->euid,
			    esc(e, sizeof(e), p->group, strlen(p->group)));
		p->gid = gid;
	}
}

static void
parse_restart(struct ctx *c, struct restart_config *r, const char *where,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	char			 w[WHERE_MAX];
	uint64_t		 u;

	check_keys(c, t, where, restart_keys);
	if (getuint(c, t, where, "max_restarts", 0, UINT32_MAX, &u,
	    NULL) == 1)
		r->max_restarts = (uint32_t)u;
	(void)getdur(c, t, where, "restart_window", &r->restart_window, NULL);
	(void)getdur(c, t, where, "min_uptime", &r->min_uptime, NULL);
	(void)getbool(c, t, where, "restart_on_success",
	    &r->restart_on_success);
	wheref(w, sizeof(w), "%s.backoff", where);
	if (gettab(c, t, where, "backoff", &v) == 1) {
		r->backoff_present = 1;
		parse_backoff(c, &r->backoff, w, v);
	}
}

/*
 * Report keys of other variants; 0 if there were some.  all: every
 * variant key; mine: the ones type tname allows.
 */
static int
variant_keys(struct ctx *c, const struct toml_table *t, const char *where,
    const char *const *all, const char *const *mine, const char *tname)
{
	char	e[ESC_MAX];
	size_t	i;
	int	ok = 1;

	for (i = 0; i < t->n; i++) {
		if (!inlist(&t->kv[i], all) || inlist(&t->kv[i], mine))
			continue;
		errorf(c, &t->kv[i].pos, "%s: key \"%s\" is not valid for "
		    "type \"%s\"", where, esc(e, sizeof(e), t->kv[i].key,
		    t->kv[i].keylen), tname);
		ok = 0;
	}
	return (ok);
}

/*
 * The "type" key of a table with variants: its index in names, after the
 * keys of other variants are reported (vkeys: every variant's keys;
 * keys[k]: type k's).  -1 when it is missing, not a string or unknown
 * (reported).
 */
static int
gettype(struct ctx *c, const struct toml_value *tv, const char *where,
    const char *what, const char *const *names, size_t n,
    const char *const *vkeys, const char *const *const *keys)
{
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	char			 w[WHERE_MAX];
	int			 k, r;

	if ((r = typed(c, t, where, "type", TOML_STRING, NULL, &v)) == 0)
		missing(c, &tv->pos, where, "type", NULL);
	if (r != 1)
		return (-1);
	if ((k = name_index(names, n, v)) == -1) {
		wheref(w, sizeof(w), "%s.type", where);
		unknown_name(c, v, w, what, names, n);
		return (-1);
	}
	(void)variant_keys(c, t, where, vkeys, keys[k], names[k]);
	return (k);
}

static void
parse_backoff(struct ctx *c, struct backoff_config *b, const char *where,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	char			 extra[64];
	int			 k;

	check_keys(c, t, where, backoff_keys);
	if ((k = gettype(c, tv, where, "backoff type", backoff_names,
	    nitems(backoff_names), backoff_vkeys, backoff_type_keys)) == -1)
		return;
	b->type = (enum backoff_type)k;
	wheref(extra, sizeof(extra), " for type \"%s\"",
	    backoff_names[b->type]);
	switch (b->type) {
	case BACKOFF_FIXED:
		if (getdur(c, t, where, "delay", &b->delay, NULL) == 0)
			missing(c, &tv->pos, where, "delay", extra);
		return;
	case BACKOFF_EXPONENTIAL:
		backoff_multiplier(c, b, where, t);
		break;
	case BACKOFF_LINEAR:
		if (getdur(c, t, where, "increment", &b->increment, NULL) == 0)
			missing(c, &tv->pos, where, "increment", extra);
		break;
	}
	backoff_delays(c, b, where, tv, extra);
}

/* serde reads an integer as a float too. */
static void
backoff_multiplier(struct ctx *c, struct backoff_config *b,
    const char *where, const struct toml_table *t)
{
	const struct toml_kv	*kv;
	const struct toml_value	*vm;
	char			 w[WHERE_MAX];
	double			 m;

	b->multiplier = 2.0;
	if ((kv = toml_get(t, "multiplier")) == NULL)
		return;
	vm = kv->val;
	wheref(w, sizeof(w), "%s.multiplier", where);
	if (vm->type == TOML_FLOAT)
		m = vm->u.f;
	else if (vm->type == TOML_INTEGER)
		m = (double)vm->u.i;
	else {
		errorf(c, &vm->pos, "%s: expected float, got %s", w,
		    toml_type_name(vm->type));
		return;
	}
	if (isnan(m) || isinf(m) || m < 1.0)
		errorf(c, &vm->pos, "%s: must be a finite number of at least "
		    "1.0, got %g", w, m);
	else
		b->multiplier = m;
}

/* initial_delay and max_delay (exponential and linear). */
static void
backoff_delays(struct ctx *c, struct backoff_config *b, const char *where,
    const struct toml_value *tv, const char *extra)
{
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	char			 d1[DURATION_FMT_MAX], d2[DURATION_FMT_MAX];
	int			 r;

	if ((r = getdur(c, t, where, "initial_delay", &b->initial_delay,
	    NULL)) == 0)
		missing(c, &tv->pos, where, "initial_delay", extra);
	if (getdur(c, t, where, "max_delay", &b->max_delay, &v) == 0)
		missing(c, &tv->pos, where, "max_delay", extra);
	else if (v != NULL && r == 1 &&
	    durcmp(&b->max_delay, &b->initial_delay) < 0) {
		duration_format(&b->initial_delay, d1, sizeof(d1));
		duration_format(&b->max_delay, d2, sizeof(d2));
		errorf(c, &v->pos, "%s.max_delay: must not be shorter than "
		    "initial_delay (%s), got %s", where, d1, d2);
	}
}

static void
parse_health(struct ctx *c, struct health_config *h, const char *where,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	uint64_t		 u;
	int			 k;

	check_keys(c, t, where, health_keys);
	if ((k = gettype(c, tv, where, "health check type", health_names,
	    nitems(health_names), health_vkeys, health_type_keys)) != -1) {
		h->type = (enum health_type)k;
		if (health_variant(c, h, where, tv) == -1)
			return;
	}
	health_times(c, h, where, t);
	if (getuint(c, t, where, "unhealthy_threshold", 1, UINT32_MAX, &u,
	    NULL) == 1)
		h->unhealthy_threshold = (uint32_t)u;
	if (getuint(c, t, where, "healthy_threshold", 1, UINT32_MAX, &u,
	    NULL) == 1)
		h->healthy_threshold = (uint32_t)u;
	(void)getdur(c, t, where, "initial_delay", &h->initial_delay, NULL);
}

/* The keys of h->type's own.  -1 when out of memory. */
static int
health_variant(struct ctx *c, struct health_config *h,
    const char *where, const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	uint64_t		 u;
	int			 r;

	switch (h->type) {
	case HEALTH_HTTP:
		if (getstr(c, t, where, "url", S_NONEMPTY | S_LONG, &h->url,
		    NULL) == 0)
			missing(c, &tv->pos, where, "url",
			    " for type \"http\"");
		if (health_statuses(c, h, where, t) == -1)
			return (-1);
		(void)getstr(c, t, where, "expected_body", S_LONG,
		    &h->expected_body, NULL);
		break;
	case HEALTH_TCP:
		if (getstr(c, t, where, "host", S_NONEMPTY | S_LONG, &h->host,
		    NULL) == 0)
			missing(c, &tv->pos, where, "host",
			    " for type \"tcp\"");
		if ((r = getuint(c, t, where, "port", 1, UINT16_MAX, &u,
		    NULL)) == 0)
			missing(c, &tv->pos, where, "port",
			    " for type \"tcp\"");
		else if (r == 1)
			h->port = (uint16_t)u;
		break;
	case HEALTH_SCRIPT:
		if (getstr(c, t, where, "path", S_PATH, &h->path, NULL) == 0)
			missing(c, &tv->pos, where, "path",
			    " for type \"script\"");
		(void)getstrarray(c, t, where, "args", S_LONG, &h->args,
		    &h->nargs);
		break;
	default:
		break;
	}
	return (0);
}

/* expected_status: HTTP status codes.  -1 when out of memory. */
static int
health_statuses(struct ctx *c, struct health_config *h, const char *where,
    const struct toml_table *t)
{
	const struct toml_value	*v, *it;
	const struct toml_array	*a;
	char			 w[WHERE_MAX], we[WHERE_MAX];
	uint64_t		 u;
	size_t			 i;

	wheref(w, sizeof(w), "%s.expected_status", where);
	if (typed(c, t, where, "expected_status", TOML_ARRAY, " of integers",
	    &v) != 1 || v->u.arr->n == 0)
		return (0);
	a = v->u.arr;
	if ((h->expected_status = calloc(a->n, sizeof(uint16_t))) == NULL) {
		c->oom = 1;
		return (-1);
	}
	for (i = 0; i < a->n; i++) {
		it = a->items[i];
		wheref(we, sizeof(we), "%s[%zu]", w, i);
		if (it->type != TOML_INTEGER)
			errorf(c, &it->pos, "%s: expected integer, got %s", we,
			    toml_type_name(it->type));
		else if (checkuint(c, it, we, 100, 599, &u) == 1)
			h->expected_status[h->n_expected_status++] =
			    (uint16_t)u;
	}
	return (0);
}

/* interval and timeout: a check must finish before the next is due. */
static void
health_times(struct ctx *c, struct health_config *h, const char *where,
    const struct toml_table *t)
{
	const struct toml_value	*vi, *vt;
	char			 d1[DURATION_FMT_MAX], d2[DURATION_FMT_MAX];
	int			 ri, rt;

	ri = getdur(c, t, where, "interval", &h->interval, &vi);
	rt = getdur(c, t, where, "timeout", &h->timeout, &vt);
	if (ri == 1 && h->interval.sec == 0 && h->interval.nsec == 0) {
		errorf(c, &vi->pos, "%s.interval: must be greater than zero",
		    where);
		ri = -1;
	}
	if (rt == 1 && h->timeout.sec == 0 && h->timeout.nsec == 0) {
		errorf(c, &vt->pos, "%s.timeout: must be greater than zero",
		    where);
		rt = -1;
	}
	if ((ri == 1 || rt == 1) && ri != -1 && rt != -1 &&
	    durcmp(&h->timeout, &h->interval) >= 0) {
		duration_format(&h->interval, d1, sizeof(d1));
		duration_format(&h->timeout, d2, sizeof(d2));
		if (rt == 1)
			errorf(c, &vt->pos, "%s.timeout: must be shorter than "
			    "interval (%s), got %s", where, d1, d2);
		else
			errorf(c, &vi->pos, "%s.interval: must be longer than "
			    "timeout (%s), got %s", where, d2, d1);
	}
}

static void
parse_log(struct ctx *c, struct log_config *l, const char *where,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	char			 w[WHERE_MAX];

	check_keys(c, t, where, log_keys);
	(void)getstr(c, t, where, "out_file", S_PATH, &l->out_file, NULL);
	(void)getstr(c, t, where, "err_file", S_PATH, &l->err_file, NULL);
	(void)getstr(c, t, where, "combined_file", S_PATH, &l->combined_file,
	    NULL);
	(void)getbool(c, t, where, "merge_stderr", &l->merge_stderr);
	(void)getbool(c, t, where, "timestamp", &l->timestamp);
	(void)getstr(c, t, where, "timestamp_format", S_LONG,
	    &l->timestamp_format, NULL);
	(void)getbool(c, t, where, "redact", &l->redact);
	wheref(w, sizeof(w), "%s.rotation", where);
	if (gettab(c, t, where, "rotation", &v) == 1) {
		l->rotation_present = 1;
		parse_rotation(c, &l->rotation, w, v);
	}
}

static void
parse_rotation(struct ctx *c, struct rotation_config *r, const char *where,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	char			 w[WHERE_MAX];
	uint64_t		 u;
	int			 k;

	check_keys(c, t, where, rotation_keys);
	if (getuint(c, t, where, "max_size", 1, INT64_MAX, &u, NULL) == 1)
		r->max_size = u;
	if (getuint(c, t, where, "max_files", 1, UINT32_MAX, &u, NULL) == 1)
		r->max_files = (uint32_t)u;
	(void)getbool(c, t, where, "compress", &r->compress);
	if (typed(c, t, where, "mode", TOML_STRING, NULL, &v) == 1) {
		if ((k = name_index(rotation_names, nitems(rotation_names),
		    v)) != -1)
			r->mode = (enum rotation_mode)k;
		else {
			wheref(w, sizeof(w), "%s.mode", where);
			unknown_name(c, v, w, "rotation mode", rotation_names,
			    nitems(rotation_names));
		}
	}
}

static void
parse_shutdown(struct ctx *c, struct shutdown_config *s, const char *where,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;

	check_keys(c, t, where, shutdown_keys);
	(void)getdur(c, t, where, "timeout", &s->timeout, NULL);
	(void)getsig(c, t, where, "signal", &s->signo);
	(void)getdur(c, t, where, "kill_delay", &s->kill_delay, NULL);
	(void)getbool(c, t, where, "force_kill", &s->force_kill);
	(void)getstrarray(c, t, where, "pre_shutdown_commands",
	    S_NONEMPTY | S_LONG, &s->pre_shutdown_commands,
	    &s->n_pre_shutdown_commands);
}

/*
 * A string of digits and a suffix: "512M" (suffix one of sfx, each a
 * power of 1024 more), "50%" (sfx "%", unit 1).  -1 if it is not one.
 */
static int
parse_suffixed(const char *p, size_t len, const char *sfx, uint64_t *out)
{
	const char	*q;
	uint64_t	 v = 0, unit = 1;
	size_t		 i;

	for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (i == 0 || len - i > 1)
		return (-1);
	if (i < len) {
		if (p[i] == '\0' || (q = strchr(sfx, p[i])) == NULL)
			return (-1);
		if (sfx[0] != '%')
			unit = (uint64_t)1 << (10 * (q - sfx + 1));
	} else if (sfx[0] == '%')
		return (-1);	/* the percent sign is required */
	if (v > UINT64_MAX / unit)
		return (-1);
	*out = v * unit;
	return (0);
}

/*
 * A count (an integer), a size (an integer, or a string with K, M, G or
 * T, 1024-based) or a percentage (a string "N%"), from min to max.
 */
static int
getsized(struct ctx *c, const struct toml_table *t, const char *where,
    const char *key, enum sized kind, uint64_t min, uint64_t max,
    uint64_t *out)
{
	const struct toml_kv	*kv;
	const struct toml_value	*v;
	char			 w[WHERE_MAX], e[ESC_MAX];
	int			 pct = kind == SZ_PERCENT;

	if ((kv = toml_get(t, key)) == NULL)
		return (0);
	v = kv->val;
	keypath(w, sizeof(w), where, key, strlen(key));
	if (v->type == TOML_INTEGER && !pct)
		return (checkuint(c, v, w, min, max, out));
	if (v->type != TOML_STRING || kind == SZ_COUNT) {
		errorf(c, &v->pos, "%s: expected %s, got %s", w,
		    pct ? "string (a share of one CPU such as \"50%\")" :
		    kind == SZ_BYTES ? "integer or string (bytes such as "
		    "536870912 or \"512M\")" : "integer",
		    toml_type_name(v->type));
		return (-1);
	}
	if (parse_suffixed(v->u.str.ptr, v->u.str.len, pct ? "%" : "KMGT",
	    out) == -1 || *out < min || *out > max) {
		errorf(c, &v->pos, "%s: invalid value \"%s\": expected %s", w,
		    esc(e, sizeof(e), v->u.str.ptr, v->u.str.len), pct ?
		    "a whole percentage of one CPU from 1% to 100000%" :
		    "a number of bytes with an optional K, M, G or T");
		return (-1);
	}
	return (1);
}

/* A limit: see enum config_limit for what each one takes. */
static int
getlimit(struct ctx *c, const struct toml_table *t, const char *where,
    enum config_limit k, uint64_t *out)
{
	enum sized	kind = SZ_COUNT;
	uint64_t	min = k == LIMIT_CORE ? 0 : 1, max = INT64_MAX;

	if (k == LIMIT_CORE || k == LIMIT_AS || k == LIMIT_DATA ||
	    k == LIMIT_MEMORY_MAX || k == LIMIT_MEMORY_HIGH)
		kind = SZ_BYTES;
	else if (k == LIMIT_CPU_MAX) {
		kind = SZ_PERCENT;
		max = LIMIT_CPU_MAX_MAX;
	} else if (k == LIMIT_IO_WEIGHT)
		max = LIMIT_IO_WEIGHT_MAX;
	return (getsized(c, t, where, limit_keys[k], kind, min, max, out));
}

/* Counts of at least 1 (0 descriptors or processes starts nothing). */
static void
parse_limits(struct ctx *c, struct limits_config *l, const char *where,
    const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	int			 k;

	check_keys(c, t, where, limit_keys);
	for (k = 0; k < LIMIT__COUNT; k++)
		if (getlimit(c, t, where, k, &l->value[k]) == 1) {
			l->set[k] = 1;
			l->pos[k] = toml_get(t, limit_keys[k])->val->pos;
		}
}

const char *
config_limit_name(enum config_limit k)
{
	return ((unsigned)k < LIMIT__COUNT ? limit_keys[k] : NULL);
}

static void
parse_binding(struct ctx *c, struct cred_binding *b, size_t i,
    const char *where, const struct toml_value *tv)
{
	const struct toml_table	*t = tv->u.tab;
	const struct toml_value	*v;
	int			 r;

	check_keys(c, t, where, binding_keys);
	if ((r = getstr(c, t, where, "profile", S_NONEMPTY, &b->profile,
	    &v)) == 0)
		missing(c, &tv->pos, where, "profile", NULL);
	else if (r == 1)
		c->profv[i] = v;
	(void)getbool(c, t, where, "hot_swap", &b->hot_swap);
	(void)getsig(c, t, where, "hot_swap_signal", &b->hot_swap_signo);
	(void)getbool(c, t, where, "auto_refresh", &b->auto_refresh);
	(void)getenvtab(c, t, where, "env_mapping", 1, &b->env_mapping,
	    &b->n_env_mapping);
	(void)getstr(c, t, where, "config_file", S_PATH, &b->config_file,
	    NULL);
}

/*
 * Whole-file checks.
 */

static int
nameref_cmp(const void *a, const void *b)
{
	const struct nameref	*x = a, *y = b;
	int			 r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return (r);
	return (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* First entry of the sorted refs whose name is >= name. */
static size_t
lower_bound(const struct nameref *refs, size_t n, const char *name)
{
	size_t	lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(refs[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/*
 * Sort refs (by name, then index) and report each repeat against the
 * first occurrence.  Sorting keeps this O(n log n) however many entries
 * a hostile file declares.
 */
static void
sort_dups(struct ctx *c, struct nameref *refs, size_t n,
    const struct toml_value **posv, const char *what, const char *field,
    const char *label)
{
	size_t	i, first = 0;

	if (n > 1)
		qsort(refs, n, sizeof(*refs), nameref_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(refs[i].name, refs[first].name) != 0) {
			first = i;
			continue;
		}
		errorf(c, &posv[refs[i].idx]->pos, "%s[%zu].%s: duplicate "
		    "%s \"%s\" (first defined at line %u)", what, refs[i].idx,
		    field, label, refs[i].name, refs[first].line);
	}
}

/*
 * Process names unique, and display names too: "worker-1" (1 instance)
 * may not sit beside "worker" with 2 or more.
 */
static void
check_names(struct ctx *c, struct config *cfg)
{
	struct nameref	*refs;
	struct proc_config *p, *q;
	const char	*dash, *errstr;
	char		 prefix[CONFIG_NAME_MAX + 1], e[ESC_MAX];
	size_t		 i, k, n, plen;
	long long	 idx;

	if (cfg->nprocs == 0)
		return;
	if ((refs = calloc(cfg->nprocs, sizeof(*refs))) == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0, n = 0; i < cfg->nprocs; i++) {
		if (cfg->procs[i].name == NULL)
			continue;
		refs[n].name = cfg->procs[i].name;
		refs[n].idx = i;
		refs[n].line = cfg->procs[i].pos.line;
		n++;
	}
	sort_dups(c, refs, n, c->namev, "processes", "name",
	    "process name");
	for (i = 0; i < cfg->nprocs; i++) {
		p = &cfg->procs[i];
		if (p->name == NULL || p->instances != 1 ||
		    (dash = strrchr(p->name, '-')) == NULL)
			continue;
		/* canonical decimal only: "worker-01" is no instance name */
		if (dash[1] == '\0' || (dash[1] == '0' && dash[2] != '\0') ||
		    strspn(dash + 1, "0123456789") != strlen(dash + 1))
			continue;
		idx = strtonum(dash + 1, 0, CONFIG_INSTANCES_MAX, &errstr);
		if (errstr != NULL)
			continue;
		plen = (size_t)(dash - p->name);
		memcpy(prefix, p->name, plen);
		prefix[plen] = '\0';
		for (k = lower_bound(refs, n, prefix);
		    k < n && strcmp(refs[k].name, prefix) == 0; k++) {
			q = &cfg->procs[refs[k].idx];
			if (q->instances > 1 && (uint64_t)idx < q->instances) {
				errorf(c, &c->namev[i]->pos, "processes[%zu]."
				    "name: \"%s\" is also the display name of "
				    "instance %lld of \"%s\"", i, esc(e,
				    sizeof(e), p->name, strlen(p->name)), idx,
				    q->name);
				break;
			}
		}
	}
	free(refs);
}

/* Credential ids unique; every process profile names one of them. */
static void
check_creds(struct ctx *c, struct config *cfg)
{
	struct nameref	*refs = NULL;
	struct proc_config *p;
	char		 e[ESC_MAX];
	size_t		 i, k, n = 0;

	if (cfg->ncreds > 0 &&
	    (refs = calloc(cfg->ncreds, sizeof(*refs))) == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < cfg->ncreds; i++) {
		if (cfg->creds[i].id == NULL)
			continue;
		refs[n].name = cfg->creds[i].id;
		refs[n].idx = i;
		refs[n].line = cfg->creds[i].pos.line;
		n++;
	}
	sort_dups(c, refs, n, c->idv, "credentials", "id",
	    "credential id");
	for (i = 0; i < cfg->nprocs; i++) {
		p = &cfg->procs[i];
		if (c->profv == NULL || c->profv[i] == NULL ||
		    p->creds.profile == NULL)
			continue;
		k = lower_bound(refs, n, p->creds.profile);
		if (k < n && strcmp(refs[k].name, p->creds.profile) == 0)
			p->creds.profile_idx = refs[k].idx;
		else
			errorf(c, &c->profv[i]->pos, "processes[%zu]."
			    "credentials.profile: unknown credential profile "
			    "\"%s\" (no [[credentials]] entry has this id)", i,
			    esc(e, sizeof(e), p->creds.profile,
			    strlen(p->creds.profile)));
	}
	free(refs);
}

/*
 * Defaults.
 */

static void
set_defaults(struct config *cfg)
{
	struct daemon_config	*d = &cfg->daemon;

	d->pid_file = strdup(CONFIG_DEFAULT_PID_FILE);
	d->socket = strdup(CONFIG_DEFAULT_SOCKET);
	d->log_dir = strdup(CONFIG_DEFAULT_LOG_DIR);
	d->state_file = strdup(CONFIG_DEFAULT_STATE_FILE);
	d->user = strdup(CONFIG_DEFAULT_USER);
	d->log_user = strdup(CONFIG_DEFAULT_LOG_USER);
	d->chroot = strdup(CONFIG_DEFAULT_CHROOT);
	d->socket_mode = CONFIG_DEFAULT_SOCKET_MODE;
	d->shutdown_timeout.sec = 10;
	d->shutdown_timeout.nsec = 0;
	d->idle_timeout.sec = CONFIG_DEFAULT_IDLE_TIMEOUT;
	d->idle_timeout.nsec = 0;
	d->max_conns_per_user = CONFIG_DEFAULT_CONNS_PER_USER;
	d->log_memory = CONFIG_DEFAULT_LOG_MEMORY;
	d->max_open_log_files = CONFIG_DEFAULT_OPEN_LOG_FILES;
	d->metrics_interval.sec = CONFIG_DEFAULT_METRICS_INTERVAL;
}

static void
proc_defaults(struct proc_config *p)
{
	memset(p, 0, sizeof(*p));
	p->instances = 1;
	p->restart.max_restarts = 5;
	p->restart.restart_window.sec = 60;
	p->restart.min_uptime.sec = 30;
	p->restart.backoff.type = BACKOFF_EXPONENTIAL;
	p->restart.backoff.initial_delay.sec = 1;
	p->restart.backoff.max_delay.sec = 300;
	p->restart.backoff.multiplier = 2.0;
	p->health.type = HEALTH_NONE;
	p->health.interval.sec = 30;
	p->health.timeout.sec = 5;
	p->health.unhealthy_threshold = 3;
	p->health.healthy_threshold = 1;
	p->log.redact = 1;
	p->log.rotation.max_size = 10 * 1024 * 1024;
	p->log.rotation.max_files = 10;
	p->log.rotation.mode = ROTATE_SIZE;
	p->shutdown.timeout.sec = 30;
	p->shutdown.signo = SIGTERM;
	/* Upstream's default is 5 s, which it never used: 0, no second
	 * signal, unless the file asks for one. */
	p->shutdown.force_kill = 1;
	p->creds.hot_swap_signo = SIGHUP;
	p->autostart = 1;
}

/*
 * Entry points.
 */

struct config *
config_parse_buf(const char *path, const char *buf, size_t len,
    struct config_errors *errs)
{
	struct ctx		 c;
	struct config		*cfg;
	struct toml_table	*root;
	struct toml_error	 terr;
	const struct toml_value	*v;
	struct daemon_config	*d;

	if (errs != NULL) {
		errs->msgs = NULL;
		errs->n = 0;
	}
	if (path == NULL)
		path = "(config)";
	if (len > TOML_MAX_INPUT) {
		file_error(path, errs, "larger than %d bytes", TOML_MAX_INPUT);
		return (NULL);
	}
	memset(&c, 0, sizeof(c));
	c.file = path;
	c.euid = geteuid();
	c.egid = getegid();
	c.rgid = getgid();

	memset(&terr, 0, sizeof(terr));
	if ((root = toml_parse(buf, len, &terr)) == NULL) {
		errorf(&c, terr.pos.line != 0 ? &terr.pos : NULL, "%s",
		    terr.msg);
		emit_errors(&c, errs);
		return (NULL);
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		toml_free(root);
		file_error(path, errs, "%s", strerror(errno));
		return (NULL);
	}
	set_defaults(cfg);
	d = &cfg->daemon;
	if ((cfg->path = strdup(path)) == NULL || d->pid_file == NULL ||
	    d->socket == NULL || d->log_dir == NULL || d->state_file == NULL ||
	    d->user == NULL || d->log_user == NULL || d->chroot == NULL)
		c.oom = 1;

	check_keys(&c, root, "", top_keys);
	if (gettab(&c, root, "", "daemon", &v) == 1)
		parse_daemon(&c, cfg, v);
	/* the default user need not exist (see config.h) */
	if (!c.daemon_user_set && !c.oom &&
	    user_ids(d->user, &d->uid, &d->gid) == 0)
		d->user_found = 1;
	if (!c.log_user_set && !c.oom &&
	    user_ids(d->log_user, &d->log_uid, &d->log_gid) == 0)
		d->log_user_found = 1;
	if (typed(&c, root, "", "credentials", TOML_ARRAY, " of tables",
	    &v) == 1)
		parse_creds(&c, cfg, v);
	if (typed(&c, root, "", "processes", TOML_ARRAY, " of tables",
	    &v) == 1)
		parse_procs(&c, cfg, v);
	if (!c.oom) {
		check_names(&c, cfg);
		check_creds(&c, cfg);
	}
	toml_free(root);
	free(c.namev);
	free(c.profv);
	free(c.idv);

	if (c.nerrs > 0 || c.oom || c.full) {
		emit_errors(&c, errs);
		config_free(cfg);
		return (NULL);
	}
	emit_errors(&c, errs);
	return (cfg);
}

/*
 * The directory rule (sshd's StrictModes, applied to directories): every
 * directory from the one holding path up to "/" must be owned by root or
 * by self, and must not be writable by group or others.  Otherwise
 * somebody else could rename the file or a directory above it and put
 * their own in its place between our check and our use.  One exception:
 * a directory above the immediate one (not that one itself) may be
 * writable by group or others when it has the sticky bit, like /tmp:
 * there nobody can rename or remove an entry they do not own, so a
 * directory of ours inside it stays ours.  The directory of path is
 * resolved with realpath(3) first, so what is checked is what the
 * kernel will walk; a symbolic link on the way only chose which real
 * directories are checked.
 */
int
path_dirs_secure(const char *path, uid_t self, char *err, size_t errlen)
{
	struct stat	 st;
	char		 buf[PATH_MAX], dir[PATH_MAX], who[64];
	char		*p;
	int		 immediate = 1;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		(void)snprintf(err, errlen, "%s: %s", path,
		    strerror(ENAMETOOLONG));
		return (-1);
	}
	if ((p = strrchr(buf, '/')) == NULL)
		(void)strlcpy(buf, ".", sizeof(buf));
	else if (p == buf)
		buf[1] = '\0';
	else
		*p = '\0';
	if (realpath(buf, dir) == NULL) {
		(void)snprintf(err, errlen, "directory %s: %s", buf,
		    strerror(errno));
		return (-1);
	}
	if (self == 0)
		(void)strlcpy(who, "root", sizeof(who));
	else
		(void)snprintf(who, sizeof(who), "root or uid %lu",
		    (unsigned long)self);
	for (;;) {
		if (lstat(dir, &st) == -1) {
			(void)snprintf(err, errlen, "directory %s: %s", dir,
			    strerror(errno));
			return (-1);
		}
		if (!S_ISDIR(st.st_mode)) {
			(void)snprintf(err, errlen, "directory %s: %s", dir,
			    strerror(ENOTDIR));
			return (-1);
		}
		if (st.st_uid != 0 && st.st_uid != self) {
			(void)snprintf(err, errlen, "unsafe directory %s: "
			    "owned by uid %lu (mode %04o), not by %s", dir,
			    (unsigned long)st.st_uid,
			    (unsigned int)(st.st_mode & 07777), who);
			return (-1);
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
		    (immediate || (st.st_mode & S_ISVTX) == 0)) {
			(void)snprintf(err, errlen, "unsafe directory %s: "
			    "writable by group or others (owner uid %lu, "
			    "mode %04o)%s", dir, (unsigned long)st.st_uid,
			    (unsigned int)(st.st_mode & 07777),
			    immediate && (st.st_mode & S_ISVTX) != 0 ?
			    "; sticky is not enough for the directory that "
			    "holds the file itself" : "");
			return (-1);
		}
		if (strcmp(dir, "/") == 0)
			break;
		p = strrchr(dir, '/');
		if (p == dir)
			dir[1] = '\0';
		else
			*p = '\0';
		immediate = 0;
	}
	return (0);
}

/*
 * Read the file from one descriptor.  As root, the file is what the whole
 * daemon will run, so it must be safe from everyone but root: its real
 * path's directories pass path_dirs_secure(), and the descriptor we read
 * (opened O_NOFOLLOW on that real path) is a regular file owned by root
 * and not writable by group or others.  Once the directories are known
 * to be root's, nobody else can swap what the real path names; the file
 * itself is judged by fstat(2) of the descriptor we then read, never by a
 * second look at the path.  A symbolic link given as path is followed by
 * realpath(3): what is checked and read is its target (as sshd does).
 * Not as root, the same open and fstat are done but owner, mode and
 * directories are not checked: the file can give the daemon no more than
 * its user already has.
 */
struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct config	*cfg;
	char		*buf;
	size_t		 len;
	int		 fd;

	if (errs != NULL) {
		errs->msgs = NULL;
		errs->n = 0;
	}
	if ((fd = open_config(path, errs)) == -1)
		return (NULL);
	if (read_config(fd, path, errs, &buf, &len) == -1)
		return (NULL);
	cfg = config_parse_buf(path, buf != NULL ? buf : "", len, errs);
	free(buf);
	return (cfg);
}

/* The descriptor to read, once path and the file pass the checks. */
static int
open_config(const char *path, struct config_errors *errs)
{
	struct stat	 st;
	char		 real[PATH_MAX], why[PATH_MAX + 128];
	int		 fd, root = geteuid() == 0;

	if (realpath(path, real) == NULL) {
		file_error(path, errs, "%s", strerror(errno));
		return (-1);
	}
	if (root && path_dirs_secure(real, 0, why, sizeof(why)) == -1) {
		file_error(path, errs, "%s", why);
		return (-1);
	}
	/* O_NONBLOCK: a FIFO must not hang us (it is refused below) */
	if ((fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		file_error(path, errs, "%s", strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1)
		file_error(path, errs, "%s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		file_error(path, errs, "%s", strerror(EISDIR));
	else if (!S_ISREG(st.st_mode))
		file_error(path, errs, "not a regular file");
	else if (root && st.st_uid != 0)
		file_error(path, errs, "owned by uid %lu, not by root",
		    (unsigned long)st.st_uid);
	else if (root && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		file_error(path, errs, "writable by group or others (mode "
		    "%04o)", (unsigned int)(st.st_mode & 07777));
	else if (st.st_size > TOML_MAX_INPUT)
		file_error(path, errs, "larger than %d bytes", TOML_MAX_INPUT);
	else
		return (fd);
	close(fd);
	return (-1);
}

/* All of fd, which is closed; *bufp NULL for an empty file. */
static int
read_config(int fd, const char *path, struct config_errors *errs,
    char **bufp, size_t *lenp)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 saved;

	for (;;) {
		if (len == cap) {
			if (cap > TOML_MAX_INPUT)
				goto toolarge;
			cap = cap == 0 ? 8192 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > TOML_MAX_INPUT) {
		free(buf);
		file_error(path, errs, "larger than %d bytes", TOML_MAX_INPUT);
		return (-1);
	}
	*bufp = buf;
	*lenp = len;
	return (0);
 toolarge:
	close(fd);
	free(buf);
	file_error(path, errs, "larger than %d bytes", TOML_MAX_INPUT);
	return (-1);
 fail:
	saved = errno;
	close(fd);
	free(buf);
	file_error(path, errs, "%s", strerror(saved));
	return (-1);
}

/*
 * Freeing.
 */

static void
free_strv(char **v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_env(struct config_env *e, size_t n)
{
	size_t	i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].value);
	}
	free(e);
}

static void
free_proc(struct proc_config *p)
{
	free(p->name);
	free(p->command);
	free_strv(p->args, p->nargs);
	free(p->cwd);
	free_env(p->env, p->nenv);
	free(p->health.url);
	free(p->health.expected_status);
	free(p->health.expected_body);
	free(p->health.host);
	free(p->health.path);
	free_strv(p->health.args, p->health.nargs);
	free(p->log.out_file);
	free(p->log.err_file);
	free(p->log.combined_file);
	free(p->log.timestamp_format);
	free_strv(p->shutdown.pre_shutdown_commands,
	    p->shutdown.n_pre_shutdown_commands);
	free(p->creds.profile);
	free_env(p->creds.env_mapping, p->creds.n_env_mapping);
	free(p->creds.config_file);
	free(p->user);
	free(p->group);
}

void
config_free(struct config *cfg)
{
	size_t	i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->daemon.pid_file);
	free(cfg->daemon.socket);
	free(cfg->daemon.log_dir);
	free(cfg->daemon.state_file);
	free(cfg->daemon.log_file);
	free(cfg->daemon.metrics_file);
	free(cfg->daemon.user);
	free(cfg->daemon.log_user);
	free(cfg->daemon.chroot);
	free(cfg->daemon.socket_group);
	free(cfg->daemon.admin_group);
	for (i = 0; i < cfg->ncreds; i++) {
		free(cfg->creds[i].id);
		free(cfg->creds[i].provider_name);
	}
	free(cfg->creds);
	for (i = 0; i < cfg->nprocs; i++)
		free_proc(&cfg->procs[i]);
	free(cfg->procs);
	free(cfg);
}

/*
 * Queries.
 */

/* One more message, "FILE:LINE:COL: warning: ...", in *w. */
static void
inert_add(struct config_errors *w, const char *file,
    const struct toml_pos *pos, const char *fmt, ...)
{
	char	**nm, *m, *full;
	va_list	  ap;
	int	  r;

	va_start(ap, fmt);
	r = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (r == -1)
		return;
	if (asprintf(&full, "%s:%u:%u: warning: %s", file, pos->line,
	    pos->col, m) == -1) {
		free(m);
		return;
	}
	free(m);
	if ((nm = reallocarray(w->msgs, w->n + 1, sizeof(*nm))) == NULL) {
		free(full);
		return;
	}
	w->msgs = nm;
	w->msgs[w->n++] = full;
}

size_t
config_inert(const struct config *conf, struct config_errors *w)
{
	const struct proc_config	*p;
	size_t				 i;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < conf->ncreds; i++)
		inert_add(w, conf->path, &conf->creds[i].pos,
		    "credentials[%zu] (%s): not acted on: this apm2d has no "
		    "credential store yet", i, conf->creds[i].id);
	for (i = 0; i < conf->nprocs; i++) {
		p = &conf->procs[i];
		if (p->health_present && p->health.type != HEALTH_NONE)
			inert_add(w, conf->path, &p->health_pos,
			    "processes[%zu].health: not run: this apm2d runs "
			    "no health checks yet", i);
		if (p->creds_present)
			inert_add(w, conf->path, &p->creds_pos,
			    "processes[%zu].credentials: not acted on: no "
			    "credential is passed to the process yet", i);
	}
	return (w->n);
}

/* *field = path, made absolute from cwd.  0 or -1. */
static int
abs_path(char **field, const char *cwd, const char *path)
{
	char	*p;

	if (path[0] == '/')
		p = strdup(path);
	else if (asprintf(&p, "%s/%s", cwd, path) == -1)
		p = NULL;
	if (p == NULL)
		return (-1);
	free(*field);
	*field = p;
	return (0);
}

int
config_daemon_paths(struct config *conf, const char *cwd, const char *sock,
    const char *pid, const char *state, const char *log, int root)
{
	struct daemon_config	*d = &conf->daemon;
	const char		*slash;
	char			*p;

	if (abs_path(&d->socket, cwd, sock != NULL ? sock : d->socket) ==
	    -1 ||
	    abs_path(&d->pid_file, cwd, pid != NULL ? pid : d->pid_file) ==
	    -1 ||
	    abs_path(&d->log_dir, cwd, d->log_dir) == -1 ||
	    abs_path(&d->state_file, cwd, state != NULL ? state :
	    d->state_file) == -1)
		return (-1);
	if ((log != NULL || d->log_file != NULL) &&
	    abs_path(&d->log_file, cwd, log != NULL ? log : d->log_file) == -1)
		return (-1);
	if (d->metrics_file != NULL &&
	    abs_path(&d->metrics_file, cwd, d->metrics_file) == -1)
		return (-1);
	if (state != NULL || d->state_file_set || root)
		return (0);
	slash = strrchr(d->pid_file, '/');
	if (asprintf(&p, "%.*s/state.json", (int)(slash - d->pid_file),
	    d->pid_file) == -1)
		return (-1);
	free(d->state_file);
	d->state_file = p;
	return (0);
}

const struct proc_config *
config_find_proc(const struct config *cfg, const char *name)
{
	size_t	i;

	if (cfg == NULL || name == NULL)
		return (NULL);
	for (i = 0; i < cfg->nprocs; i++)
		if (cfg->procs[i].name != NULL &&
		    strcmp(cfg->procs[i].name, name) == 0)
			return (&cfg->procs[i]);
	return (NULL);
}

const struct cred_config *
config_find_cred(const struct config *cfg, const char *id)
{
	size_t	i;

	if (cfg == NULL || id == NULL)
		return (NULL);
	for (i = 0; i < cfg->ncreds; i++)
		if (cfg->creds[i].id != NULL &&
		    strcmp(cfg->creds[i].id, id) == 0)
			return (&cfg->creds[i]);
	return (NULL);
}

void
config_display_name(const struct proc_config *p, uint32_t idx, char *buf,
    size_t len)
{
	if (len == 0)
		return;
	if (p->instances == 1)
		(void)snprintf(buf, len, "%s", p->name);
	else
		(void)snprintf(buf, len, "%s-%" PRIu32, p->name, idx);
}

/* One explicit log file name made absolute and instance-specific. */
static int
build_log_path(const struct config *cfg, const struct proc_config *p,
    uint32_t idx, const char *file, char *buf, size_t len)
{
	const char	*dir = cfg->daemon.log_dir, *base, *dot;
	char		 full[PATH_MAX * 2];
	struct stat	 st;
	size_t		 dl;
	int		 r;

	if (file == NULL) {
		if (len > 0)
			buf[0] = '\0';
		return (len > 0 ? 0 : -1);
	}
	if (file[0] == '/')
		r = snprintf(full, sizeof(full), "%s", file);
	else {
		dl = strlen(dir);
		r = snprintf(full, sizeof(full), "%s%s%s", dir,
		    dl > 0 && dir[dl - 1] == '/' ? "" : "/", file);
	}
	if (r < 0 || (size_t)r >= sizeof(full))
		return (-1);
	/* A device such as /dev/null is written as it is, by every one. */
	if (p->instances == 1 || (lstat(full, &st) == 0 &&
	    S_ISCHR(st.st_mode)))
		r = snprintf(buf, len, "%s", full);
	else {
		base = strrchr(full, '/');
		base = base == NULL ? full : base + 1;
		while (*base == '.')
			base++;
		if ((dot = strchr(base, '.')) == NULL)
			r = snprintf(buf, len, "%s-%" PRIu32, full, idx);
		else
			r = snprintf(buf, len, "%.*s-%" PRIu32 "%s",
			    (int)(dot - full), full, idx, dot);
	}
	if (r < 0 || (size_t)r >= len)
		return (-1);
	return (0);
}

int
config_log_paths(const struct config *cfg, const struct proc_config *p,
    uint32_t idx, char *out, size_t outlen, char *err, size_t errlen)
{
	const struct log_config	*l = &p->log;
	const char		*o, *e, *dir = cfg->daemon.log_dir;
	char			 disp[CONFIG_DISPLAY_MAX];
	size_t			 dl = strlen(dir);
	const char		*sep = dl > 0 && dir[dl - 1] == '/' ? "" : "/";
	int			 r;

	if (outlen > 0)
		out[0] = '\0';
	if (errlen > 0)
		err[0] = '\0';
	if (outlen == 0 || errlen == 0)
		return (-1);
	if (l->out_file == NULL && l->err_file == NULL &&
	    l->combined_file == NULL) {
		config_display_name(p, idx, disp, sizeof(disp));
		r = snprintf(out, outlen, "%s%s%s.out.log", dir, sep, disp);
		if (r < 0 || (size_t)r >= outlen)
			goto fail;
		if (l->merge_stderr)
			r = snprintf(err, errlen, "%s", out);
		else
			r = snprintf(err, errlen, "%s%s%s.err.log", dir, sep,
			    disp);
		if (r < 0 || (size_t)r >= errlen)
			goto fail;
		return (0);
	}
	o = l->out_file != NULL ? l->out_file : l->combined_file;
	if (l->merge_stderr)
		e = o;
	else
		e = l->err_file != NULL ? l->err_file : l->combined_file;
	if (build_log_path(cfg, p, idx, o, out, outlen) == -1 ||
	    build_log_path(cfg, p, idx, e, err, errlen) == -1)
		goto fail;
	return (0);
 fail:
	out[0] = '\0';
	err[0] = '\0';
	return (-1);
}

const char *
config_backoff_type_name(enum backoff_type t)
{
	return (name_of(backoff_names, nitems(backoff_names), (size_t)t));
}

const char *
config_health_type_name(enum health_type t)
{
	return (name_of(health_names, nitems(health_names), (size_t)t));
}

const char *
config_rotation_mode_name(enum rotation_mode m)
{
	return (name_of(rotation_names, nitems(rotation_names), (size_t)m));
}

const char *
config_provider_name(enum cred_provider p)
{
	return (name_of(provider_names, nitems(provider_names), (size_t)p));
}

const char *
config_auth_method_name(enum auth_method a)
{
	return (name_of(auth_names, nitems(auth_names), (size_t)a));
}
