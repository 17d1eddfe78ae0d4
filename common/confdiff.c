/* SPDX-License-Identifier: ISC */
/*
 * confdiff.c -- what a reload would change (see confdiff.h).
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "confdiff.h"

static const char *const key_names[] = {
	"command", "args", "cwd", "env", "user", "group", "umask", "limits",
	"log", "credentials", "inherit_env", "instances"
};
static const char *const policy_names[] = {
	"restart", "health", "log.rotation", "shutdown", "autostart"
};

static int	str_eq(const char *, const char *);
static int	strv_eq(char *const *, size_t, char *const *, size_t);
static int	dur_eq(const struct duration *, const struct duration *);
static int	env_eq(const struct config_env *, size_t,
		    const struct config_env *, size_t);
static int	limits_eq(const struct limits_config *,
		    const struct limits_config *);
static int	log_eq(const struct log_config *, const struct log_config *);
static int	creds_eq(const struct proc_config *,
		    const struct proc_config *);
static int	restart_eq(const struct restart_config *,
		    const struct restart_config *);
static int	health_eq(const struct health_config *,
		    const struct health_config *);
static int	rotation_eq(const struct rotation_config *,
		    const struct rotation_config *);
static int	shutdown_eq(const struct shutdown_config *,
		    const struct shutdown_config *);
static void	proc_diff(struct confdiff_ent *);
static int	daemon_diff(const struct daemon_config *,
		    const struct daemon_config *, struct confdiff *);

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

static int
strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t	i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return (0);
	return (1);
}

static int
dur_eq(const struct duration *a, const struct duration *b)
{
	return (a->sec == b->sec && a->nsec == b->nsec);
}

/* The same variables with the same values; order does not matter. */
static int
env_eq(const struct config_env *a, size_t na, const struct config_env *b,
    size_t nb)
{
	size_t	i, k;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++) {
		for (k = 0; k < nb; k++)
			if (strcmp(a[i].key, b[k].key) == 0)
				break;
		if (k == nb || !str_eq(a[i].value, b[k].value))
			return (0);
	}
	return (1);
}

static int
limits_eq(const struct limits_config *a, const struct limits_config *b)
{
	int	i;

	for (i = 0; i < LIMIT__COUNT; i++)
		if (a->set[i] != b->set[i] ||
		    (a->set[i] && a->value[i] != b->value[i]))
			return (0);
	return (1);
}

/* Where output goes and how it is written; rotation is policy. */
static int
log_eq(const struct log_config *a, const struct log_config *b)
{
	return (str_eq(a->out_file, b->out_file) &&
	    str_eq(a->err_file, b->err_file) &&
	    str_eq(a->combined_file, b->combined_file) &&
	    a->merge_stderr == b->merge_stderr &&
	    a->timestamp == b->timestamp &&
	    str_eq(a->timestamp_format, b->timestamp_format) &&
	    a->redact == b->redact);
}

static int
creds_eq(const struct proc_config *a, const struct proc_config *b)
{
	const struct cred_binding	*x = &a->creds, *y = &b->creds;

	if (a->creds_present != b->creds_present)
		return (0);
	if (!a->creds_present)
		return (1);
	return (str_eq(x->profile, y->profile) &&
	    x->hot_swap == y->hot_swap &&
	    x->hot_swap_signo == y->hot_swap_signo &&
	    x->auto_refresh == y->auto_refresh &&
	    env_eq(x->env_mapping, x->n_env_mapping, y->env_mapping,
	    y->n_env_mapping) &&
	    str_eq(x->config_file, y->config_file));
}

static int
restart_eq(const struct restart_config *a, const struct restart_config *b)
{
	const struct backoff_config	*x = &a->backoff, *y = &b->backoff;

	return (a->max_restarts == b->max_restarts &&
	    dur_eq(&a->restart_window, &b->restart_window) &&
	    dur_eq(&a->min_uptime, &b->min_uptime) &&
	    a->restart_on_success == b->restart_on_success &&
	    x->type == y->type && dur_eq(&x->delay, &y->delay) &&
	    dur_eq(&x->initial_delay, &y->initial_delay) &&
	    dur_eq(&x->max_delay, &y->max_delay) &&
	    dur_eq(&x->increment, &y->increment) &&
	    x->multiplier == y->multiplier);
}

static int
health_eq(const struct health_config *a, const struct health_config *b)
{
	return (a->type == b->type && str_eq(a->url, b->url) &&
	    a->n_expected_status == b->n_expected_status &&
	    (a->n_expected_status == 0 || memcmp(a->expected_status,
	    b->expected_status, a->n_expected_status *
	    sizeof(*a->expected_status)) == 0) &&
	    str_eq(a->expected_body, b->expected_body) &&
	    str_eq(a->host, b->host) && a->port == b->port &&
	    str_eq(a->path, b->path) &&
	    strv_eq(a->args, a->nargs, b->args, b->nargs) &&
	    dur_eq(&a->interval, &b->interval) &&
	    dur_eq(&a->timeout, &b->timeout) &&
	    a->unhealthy_threshold == b->unhealthy_threshold &&
	    a->healthy_threshold == b->healthy_threshold &&
	    dur_eq(&a->initial_delay, &b->initial_delay));
}

static int
rotation_eq(const struct rotation_config *a, const struct rotation_config *b)
{
	return (a->max_size == b->max_size && a->max_files == b->max_files &&
	    a->compress == b->compress && a->mode == b->mode);
}

static int
shutdown_eq(const struct shutdown_config *a, const struct shutdown_config *b)
{
	return (dur_eq(&a->timeout, &b->timeout) && a->signo == b->signo &&
	    dur_eq(&a->kill_delay, &b->kill_delay) &&
	    a->force_kill == b->force_kill &&
	    strv_eq(a->pre_shutdown_commands, a->n_pre_shutdown_commands,
	    b->pre_shutdown_commands, b->n_pre_shutdown_commands));
}

/* e->old and e->new are both set: classify. */
static void
proc_diff(struct confdiff_ent *e)
{
	const struct proc_config	*a = e->old, *b = e->new;
	unsigned int			 k = 0, p = 0;

	if (!str_eq(a->command, b->command))
		k |= CDK_COMMAND;
	if (!strv_eq(a->args, a->nargs, b->args, b->nargs))
		k |= CDK_ARGS;
	if (!str_eq(a->cwd, b->cwd))
		k |= CDK_CWD;
	if (!env_eq(a->env, a->nenv, b->env, b->nenv))
		k |= CDK_ENV;
	if (!str_eq(a->user, b->user) || (a->user != NULL &&
	    a->uid != b->uid))
		k |= CDK_USER;
	if (!str_eq(a->group, b->group) || ((a->user != NULL ||
	    a->group != NULL) && a->gid != b->gid))
		k |= CDK_GROUP;
	if (a->has_umask != b->has_umask || (a->has_umask &&
	    a->umask != b->umask))
		k |= CDK_UMASK;
	if (!limits_eq(&a->limits, &b->limits))
		k |= CDK_LIMITS;
	if (!log_eq(&a->log, &b->log))
		k |= CDK_LOG;
	if (!creds_eq(a, b))
		k |= CDK_CREDENTIALS;
	if (a->inherit_env != b->inherit_env)
		k |= CDK_INHERIT_ENV;
	if (a->instances != b->instances &&
	    (a->instances == 1 || b->instances == 1))
		k |= CDK_INSTANCES;

	if (!restart_eq(&a->restart, &b->restart))
		p |= CDP_RESTART;
	if (a->health_present != b->health_present ||
	    !health_eq(&a->health, &b->health))
		p |= CDP_HEALTH;
	if (!rotation_eq(&a->log.rotation, &b->log.rotation))
		p |= CDP_ROTATION;
	if (!shutdown_eq(&a->shutdown, &b->shutdown))
		p |= CDP_SHUTDOWN;
	if (a->autostart != b->autostart)
		p |= CDP_AUTOSTART;

	e->keys = k;
	e->policy = p;
	if (k != 0)
		e->kind = CD_CHANGED;
	else if (a->instances != b->instances)
		e->kind = CD_SCALED;
	else if (p != 0)
		e->kind = CD_POLICY;
	else
		e->kind = CD_UNCHANGED;
}

#define DAEMON_STR(f)	{ #f, offsetof(struct daemon_config, f), 0 }
#define DAEMON_DUR(f)	{ #f, offsetof(struct daemon_config, f), 1 }

/* The [daemon] keys that differ, by name; all are kept until a restart. */
static int
daemon_diff(const struct daemon_config *a, const struct daemon_config *b,
    struct confdiff *d)
{
	static const struct {
		const char	*name;
		size_t		 off;
		int		 dur;
	} strs[] = {
		DAEMON_STR(pid_file), DAEMON_STR(socket), DAEMON_STR(log_dir),
		DAEMON_STR(state_file), DAEMON_STR(user),
		DAEMON_STR(log_user), DAEMON_STR(chroot),
		DAEMON_STR(socket_group), DAEMON_STR(admin_group),
		DAEMON_DUR(shutdown_timeout), DAEMON_DUR(idle_timeout),
		DAEMON_STR(log_file), DAEMON_STR(metrics_file),
		DAEMON_DUR(metrics_interval)
	};
	const char	*diff[32];
	size_t		 i, n = 0;
	const char	*x = (const char *)a, *y = (const char *)b;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strs[i].dur ? !dur_eq((const void *)(x + strs[i].off),
		    (const void *)(y + strs[i].off)) :
		    !str_eq(*(char *const *)(const void *)(x + strs[i].off),
		    *(char *const *)(const void *)(y + strs[i].off)))
			diff[n++] = strs[i].name;
	}
	if (a->socket_mode != b->socket_mode)
		diff[n++] = "socket_mode";
	if (a->max_conns_per_user != b->max_conns_per_user)
		diff[n++] = "max_connections_per_user";
	if (a->log_memory != b->log_memory)
		diff[n++] = "log_memory";
	if (a->max_open_log_files != b->max_open_log_files)
		diff[n++] = "max_open_log_files";
	if (n == 0)
		return (0);
	if ((d->daemon = calloc(n, sizeof(*d->daemon))) == NULL ||
	    (d->daemon_live = calloc(n, sizeof(*d->daemon_live))) == NULL)
		return (-1);
	memcpy(d->daemon, diff, n * sizeof(*diff));
	for (i = 0; i < n; i++)
		d->daemon_live[i] = confdiff_daemon_live(diff[i]);
	d->ndaemon = n;
	return (0);
}

int
confdiff_daemon_live(const char *key)
{
	return (strcmp(key, "admin_group") == 0 ||
	    strcmp(key, "max_connections_per_user") == 0 ||
	    strcmp(key, "shutdown_timeout") == 0);
}

int
confdiff(const struct config *a, const struct config *b, struct confdiff *d)
{
	const struct proc_config	*op;
	struct confdiff_ent		*e;
	size_t				 i;

	memset(d, 0, sizeof(*d));
	if ((d->v = calloc(a->nprocs + b->nprocs + 1, sizeof(*d->v))) ==
	    NULL)
		return (-1);
	for (i = 0; i < b->nprocs; i++) {
		e = &d->v[d->n++];
		e->name = b->procs[i].name;
		e->new = &b->procs[i];
		if ((op = config_find_proc(a, e->name)) == NULL) {
			e->kind = CD_ADDED;
			continue;
		}
		e->old = op;
		proc_diff(e);
	}
	for (i = 0; i < a->nprocs; i++) {
		if (config_find_proc(b, a->procs[i].name) != NULL)
			continue;
		e = &d->v[d->n++];
		e->kind = CD_REMOVED;
		e->name = a->procs[i].name;
		e->old = &a->procs[i];
	}
	if (daemon_diff(&a->daemon, &b->daemon, d) == -1) {
		confdiff_free(d);
		return (-1);
	}
	return (0);
}

void
confdiff_free(struct confdiff *d)
{
	free(d->v);
	free(d->daemon);
	free(d->daemon_live);
	memset(d, 0, sizeof(*d));
}

void
confdiff_count(const struct confdiff *d, size_t *counts)
{
	size_t	i;

	memset(counts, 0, (CD_POLICY + 1) * sizeof(*counts));
	for (i = 0; i < d->n; i++)
		counts[d->v[i].kind]++;
}

int
confdiff_keys(unsigned int keys, int policy, char *buf, size_t len)
{
	const char *const	*names = policy ? policy_names : key_names;
	size_t			 n = policy ? sizeof(policy_names) /
				    sizeof(policy_names[0]) :
				    sizeof(key_names) / sizeof(key_names[0]);
	size_t			 i, used = 0;
	int			 r;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!(keys & (1U << i)))
			continue;
		r = snprintf(len > used ? buf + used : NULL,
		    len > used ? len - used : 0, "%s%s", used > 0 ? ", " : "",
		    names[i]);
		if (r < 0)
			return (-1);
		used += (size_t)r;
	}
	return ((int)used);
}

int
confdiff_line(const struct confdiff_ent *e, char *buf, size_t len)
{
	char	keys[256];

	switch (e->kind) {
	case CD_ADDED:
		return (snprintf(buf, len, "+ %s (added)", e->name));
	case CD_REMOVED:
		return (snprintf(buf, len, "- %s (removed)", e->name));
	case CD_CHANGED:
		(void)confdiff_keys(e->keys, 0, keys, sizeof(keys));
		return (snprintf(buf, len, "~ %s (changed: %s)", e->name,
		    keys));
	case CD_SCALED:
		return (snprintf(buf, len, "# %s (instances %u -> %u)",
		    e->name, e->old->instances, e->new->instances));
	case CD_POLICY:
		(void)confdiff_keys(e->policy, 1, keys, sizeof(keys));
		return (snprintf(buf, len, "* %s (policy: %s)", e->name,
		    keys));
	case CD_UNCHANGED:
		break;
	}
	if (len > 0)
		buf[0] = '\0';
	return (0);
}
