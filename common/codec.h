/* SPDX-License-Identifier: ISC */
/*
 * codec: the public control protocol (apm2-upstream.md section 1) between
 * wire JSON and C structs: upstream's 16 requests and our reload_config,
 * parsed (the daemon) and rendered (apm2ctl), and the 9 responses, parsed
 * (apm2ctl).  The daemon
 * writes its responses from the supervisor's messages (apm2d/render.c),
 * with the names below.
 *
 * Parsing is strict (see json.h) and safe on hostile bytes; rendering is
 * byte-identical to what the Rust original's serde_json produces.
 * Unknown keys are ignored in upstream's requests, as upstream does, and
 * refused in ours: a mistyped "dry_run" must not make a reload real.
 */
#ifndef APM2_CODEC_H
#define APM2_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Arrays and objects nested deeper than this are rejected. */
#define APM2_JSON_MAXDEPTH	64
/*
 * Keys and values in one request, at most: no request has more than a
 * handful, and it bounds what cJSON's tree costs the frontend (about
 * 100 bytes each) whatever fits in a frame.
 */
#define APM2_REQ_MAXITEMS	65536
/* Room for any apm2_time_rfc3339() output, NUL included. */
#define APM2_TIME_MAX		48
/* Room for any apm2_state_human() output, NUL included. */
#define APM2_STATE_HUMAN_MAX	40

/*
 * Only the fields of the request's type are used.  Parsed strings are
 * malloc'd, valid UTF-8 and contain no NUL.
 */
struct apm2_req {
	enum apm2_req_type	 type;
	char			*name;		/* tail_logs: NULL means all */
	uint32_t		 lines;		/* tail_logs */
	int			 follow;	/* tail_logs */
	char			*profile_id;	/* credential requests */
	char			*provider;	/* add_credential */
	char			*auth_method;	/* add_credential */
	char			*process_name;	/* switch_credential */
	int			 dry_run;	/* reload_config */
};

/*
 * 0 ok; -1 with a short message in errbuf (req is then still freeable).
 * buf[len] must be NUL, as frame_dec_take() leaves it.
 */
int	 apm2_req_parse(const char *, size_t, struct apm2_req *, char *,
	    size_t);
/* malloc'd, NUL-terminated; NULL if a required string is NULL or ENOMEM. */
char	*apm2_req_render(const struct apm2_req *, size_t *);
void	 apm2_req_free(struct apm2_req *);
/* Test seam: only regress/ calls apm2_req_type_name(). */
const char *apm2_req_type_name(enum apm2_req_type);	/* "ping", ... */
/* Test seam: only regress/ calls apm2_req_type_from_name(). */
int	 apm2_req_type_from_name(const char *);		/* -1 if unknown */

const char *apm2_errcode_name(enum apm2_errcode);	/* snake_case */
const char *apm2_errcode_debug(enum apm2_errcode);	/* "ProcessNotFound" */

struct apm2_state {
	enum apm2_state_kind	 kind;
	int			 has_code;	/* STOPPED/CRASHED only */
	int32_t			 exit_code;
};

/* "running", "stopped (exit code: 0)", "crashed", ... (upstream 3.3) */
const char *apm2_state_human(const struct apm2_state *, char *, size_t);
const char *apm2_state_name(enum apm2_state_kind);	/* "Running", ... */

/*
 * apm2d's additions to a summary or an instance (missing: 0): a restart
 * due in restart_in_secs, or the policy gave up after gave_up_after
 * restarts.
 */
struct apm2_policy {
	int			 has_restart_in;
	uint64_t		 restart_in_secs;
	int			 gave_up;
	uint32_t		 gave_up_after;
};

struct apm2_summary {
	char			*name;
	uint32_t		 instances;
	uint32_t		 running;
	struct apm2_state	 status;
	int			 has_cpu;
	float			 cpu_percent;
	int			 has_mem;
	uint64_t		 memory_bytes;
	int			 has_uptime;
	uint64_t		 uptime_secs;
	uint32_t		 restart_count;
	struct apm2_policy	 policy;
};

struct apm2_instance {
	uint32_t		 index;
	int			 has_pid;
	uint32_t		 pid;
	struct apm2_state	 state;
	int			 has_cpu;
	float			 cpu_percent;
	int			 has_mem;
	uint64_t		 memory_bytes;
	int			 has_uptime;
	uint64_t		 uptime_secs;
	uint32_t		 restart_count;
	char			*exit_reason;	/* NULL: none */
	struct apm2_policy	 policy;
};

/*
 * One configured resource limit.  name is any non-empty string (nofile,
 * memory_max, ...; newer daemons may add names), value its number in the
 * name's unit, reason why it is not in force (NULL = null).
 */
struct apm2_limit {
	char			*name;
	uint64_t		 value;
	int			 in_force;
	char			*reason;
};

struct apm2_procinfo {
	char			*name;
	char			 id[37];	/* lowercase hyphenated UUID */
	char			*command;
	char			**args;
	size_t			 nargs;
	char			*cwd;		/* NULL = null */
	uint32_t		 instances;
	struct apm2_instance	*inst;		/* "instance_details" */
	size_t			 ninst;
	char			*credential_profile;	/* NULL = null */
	struct apm2_limit	*limits;	/* missing or null: none */
	size_t			 nlimits;
};

/* A UTC instant; nsec may reach 1999999999 for a leap second (":60"). */
struct apm2_time {
	int64_t			 sec;
	long			 nsec;
};

struct apm2_logentry {
	struct apm2_time	 timestamp;
	char			*process_name;
	uint32_t		 instance;
	char			*stream;	/* "stdout" or "stderr" */
	char			*content;	/* any bytes; output is lossy */
	size_t			 content_len;
};

struct apm2_credmeta {
	char			*id;
	char			*provider;
	char			*label;		/* NULL = null */
	char			*auth_method;
	int			 has_expires;
	struct apm2_time	 expires_at;
	struct apm2_time	 created_at;
	int			 has_last_used;
	struct apm2_time	 last_used_at;
};

enum apm2_resp_type {
	RESP_PONG,
	RESP_STATUS,
	RESP_PROCESS_LIST,
	RESP_PROCESS_DETAILS,
	RESP_OK,
	RESP_ERROR,
	RESP_LOG_LINES,
	RESP_CREDENTIAL_LIST,
	RESP_CREDENTIAL_DETAILS,
	RESP_METRICS,		/* ours: get_metrics */
	RESP__COUNT
};

struct apm2_resp {
	enum apm2_resp_type	 type;
	char			*version;	/* pong, status */
	uint64_t		 uptime_secs;	/* pong, status */
	uint32_t		 pid;		/* status */
	uint32_t		 process_count;	/* status */
	uint32_t		 running_instances; /* status */
	struct apm2_summary	*procs;		/* process_list */
	size_t			 nprocs;
	struct apm2_procinfo	 proc;		/* process_details */
	char			*message;	/* ok (NULL = null), error */
	enum apm2_errcode	 code;		/* error */
	struct apm2_logentry	*lines;		/* log_lines */
	size_t			 nlines;
	struct apm2_credmeta	*profiles;	/* credential_list */
	size_t			 nprofiles;
	struct apm2_credmeta	 profile;	/* credential_details */
	char			*text;		/* metrics */
};

/*
 * Parse (apm2ctl's side; the daemon writes replies from its messages, in
 * apm2d/render.c): 0 ok; -1 with errbuf set, resp still freeable;
 * buf[len] must be NUL.
 * apm2_resp_free() frees every pointer member, so a struct to be freed
 * must have zeroed (or owned) pointers in all of them.
 */
int	 apm2_resp_parse(const char *, size_t, struct apm2_resp *, char *,
	    size_t);
void	 apm2_resp_free(struct apm2_resp *);
/* Test seam: only regress/ calls apm2_resp_type_name(). */
const char *apm2_resp_type_name(enum apm2_resp_type);	/* "pong", ... */

/* Timestamps: RFC 3339, UTC "Z", fraction of 0, 3, 6 or 9 digits. */
void	 apm2_time_rfc3339(const struct apm2_time *, char *, size_t);
int	 apm2_time_parse_rfc3339(const char *, struct apm2_time *);

/* UUID text in any form the Rust uuid crate parses -> lowercase hyphenated. */
int	 apm2_uuid_parse(const char *, size_t, char [37]);

#endif /* APM2_CODEC_H */
