/* SPDX-License-Identifier: ISC */
/*
 * confdiff.h -- what a reload would change: the running configuration
 * compared with a new one, process by process (by name), and the
 * [daemon] keys that differ.
 *
 * Each process is one of:
 *  added      only in the new configuration;
 *  removed    only in the running one;
 *  changed    a key that decides how its instances run differs
 *             (CDK_* below): they must be replaced;
 *  scaled     only `instances` differs, and neither count is 1 (from or
 *             to 1 the display and log names of instance 0 change, so
 *             that is "changed");
 *  policy     only keys read when something happens differ (restart,
 *             backoff, health, log rotation, shutdown, autostart): they
 *             apply in place;
 *  unchanged  nothing differs.
 * Entries are in the new file's order, then the removed ones in the
 * running file's order.
 */
#ifndef APM2_CONFDIFF_H
#define APM2_CONFDIFF_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct proc_config;

enum confdiff_kind {
	CD_UNCHANGED,
	CD_ADDED,
	CD_REMOVED,
	CD_CHANGED,
	CD_SCALED,
	CD_POLICY
};

/* The keys that make a process "changed", as ecosystem.toml names them. */
#define CDK_COMMAND	0x0001
#define CDK_ARGS	0x0002
#define CDK_CWD		0x0004
#define CDK_ENV		0x0008
#define CDK_USER	0x0010
#define CDK_GROUP	0x0020
#define CDK_UMASK	0x0040
#define CDK_LIMITS	0x0080
#define CDK_LOG		0x0100
#define CDK_CREDENTIALS	0x0200
#define CDK_INHERIT_ENV	0x0400
#define CDK_INSTANCES	0x0800	/* from or to a single instance */
#define CDK__ALL	0x0fff

/* The keys of a "policy" change. */
#define CDP_RESTART	0x0001
#define CDP_HEALTH	0x0002
#define CDP_ROTATION	0x0004
#define CDP_SHUTDOWN	0x0008
#define CDP_AUTOSTART	0x0010
#define CDP__ALL	0x001f

struct confdiff_ent {
	enum confdiff_kind	  kind;
	const char		 *name;
	const struct proc_config *old;	/* NULL: added */
	const struct proc_config *new;	/* NULL: removed */
	unsigned int		  keys;		/* CDK_*: changed */
	unsigned int		  policy;	/* CDP_*: not for added */
};

struct confdiff {
	struct confdiff_ent	*v;
	size_t			 n;
	const char		**daemon;	/* [daemon] keys differing */
	int			*daemon_live;	/* each: a reload applies it */
	size_t			 ndaemon;
};

/*
 * The [daemon] keys a reload applies: admin_group (to connections made
 * from then on), max_connections_per_user and shutdown_timeout.  The
 * others keep their running values until apm2d restarts.
 */
int		 confdiff_daemon_live(const char *key);

/* 0, or -1 (out of memory).  Free with confdiff_free(). */
int		 confdiff(const struct config *running,
		    const struct config *next, struct confdiff *);
void		 confdiff_free(struct confdiff *);
/* Counts by kind, for a summary; counts[] has CD_POLICY + 1 slots. */
void		 confdiff_count(const struct confdiff *, size_t *counts);
/*
 * One line a process that is not unchanged, as apm2ctl reread prints it:
 * "+ web (added)", "- old (removed)", "~ api (changed: env, args)",
 * "# batch (instances 2 -> 4)", "* api (policy: restart)"; and one
 * "! daemon.socket (kept until apm2d restarts)" a daemon key.  The
 * length it needs (snprintf's rule).
 */
int		 confdiff_line(const struct confdiff_ent *, char *, size_t);
/* The names of keys bits, ", " between them: "env, args". */
int		 confdiff_keys(unsigned int keys, int policy, char *,
		    size_t);

#endif /* APM2_CONFDIFF_H */
