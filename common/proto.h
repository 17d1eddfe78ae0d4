/* SPDX-License-Identifier: ISC */
/*
 * proto.h -- the one contract between the processes of apm2d: the
 * frontend and the supervisor (S_*, F_*), the logger and the supervisor
 * (L_*).
 *
 * Every message on the socketpair is a chan(3)-style message: a 16-byte
 * header (type, total length, peer id, flags) and a fixed-layout payload
 * from this file.  The peer id is the frontend's connection id for
 * messages about a client connection, 0 otherwise.  The supervisor checks
 * every message from the frontend against sup_msgtab (type allowed, exact
 * size, NUL-terminated strings, enums in range, descriptor only where
 * expected); the frontend checks the supervisor's replies the same way.
 *
 * Fixed-size fields keep validation trivial.  A layout change must be
 * deliberate: the _Static_asserts below pin every size.
 */
#ifndef APM2_PROTO_H
#define APM2_PROTO_H

#include <stdint.h>

#define APM2_VERSION		"0.3.0"	/* what pong/status report (upstream's) */
#define APM2D_VERSION		"1.0.0"	/* apm2d's own release */

#define PROTO_NAME_MAX		64	/* process names: 63 bytes + NUL */
#define PROTO_ID_MAX		128	/* credential ids etc. */
#define PROTO_MSG_MAX		512	/* ok/error message text */
#define PROTO_LONGMSG_MAX	(60 * 1024)	/* S_OK_TEXT, S_ERROR_TEXT */
#define PROTO_STR_MAX		4096	/* command, cwd, one argument */
#define PROTO_LOGLINE_MAX	65536	/* one captured line */
#define PROTO_CHAN_MAX		(PROTO_LOGLINE_MAX + 1024)	/* max payload */

/* The descriptor the frontend (apm2d -F) and the logger (apm2d -L) are
 * started with: their socketpair end to the supervisor. */
#define FRONTEND_CHAN_FD	3
#define LOGGER_CHAN_FD		3
#define PROTO_DISPLAY_MAX	80	/* "name" or "name-<index>" + NUL */
#define PROTO_TSFMT_MAX		256	/* a timestamp_format + NUL */
#define PROTO_PATH_MAX		4096	/* a file name, for messages */

/*
 * Client connections.  The supervisor accepts them itself and hands each
 * connected socket to the frontend (S_CONN_NEW); descriptors only ever
 * travel downwards.  A connection id is (generation << CONN_SLOT_BITS) |
 * slot, chosen by the supervisor, never 0.
 */
#define FRONTEND_MAX_CONNS	512	/* concurrent client connections */
#define CONN_ADMIN_RESERVED	16	/* of those, for administrators */
#define CONN_SLOT_BITS		10
#define CONN_SLOTS		(1U << CONN_SLOT_BITS)

_Static_assert(FRONTEND_MAX_CONNS <= CONN_SLOTS, "connection slots");

/*
 * The replies of several messages (S_LIST_*, S_DETAIL*, S_LOG_*) are sent
 * together: nothing else for that connection between their first message
 * and their end, and a process's S_DETAIL_ARGs before its S_DETAIL_INSTs.
 */
enum proto_type {
	/* supervisor -> frontend */
	S_HELLO = 1,		/* struct s_hello: daemon identity, first message */
	S_PONG,			/* unused: the frontend answers ping itself */
	S_STATUS,		/* struct s_status */
	S_OK,			/* struct s_text (has_text = 0: message null) */
	S_ERROR,		/* struct s_error */
	S_LIST_ENTRY,		/* 1 to PROTO_LIST_BATCH struct s_summary */
	S_LIST_END,		/* no payload: process_list complete */
	S_DETAIL,		/* struct s_detail: start of process_details */
	S_DETAIL_ARG,		/* struct s_str: one argument, in order */
	S_DETAIL_INST,		/* struct s_instance */
	S_DETAIL_END,		/* no payload */
	S_LOG_ENTRY,		/* struct s_logentry + content bytes */
	S_LOG_END,		/* struct s_logend: one log_lines frame done */
	S_CLOSE,		/* no payload: close this connection */
	S_EXIT,			/* no payload: flush replies and exit */
	S_CONN_NEW,		/* struct s_conn_new + the client's socket */
	S_HEARTBEAT,		/* struct heartbeat: answer with F_HEARTBEAT */
	S_DETAIL_LIMIT,		/* struct s_limit, after the instances */
	S_OK_TEXT,		/* struct s_longtext + text: a long S_OK */
	S_ERROR_TEXT,		/* struct s_longtext + text: a long S_ERROR */
	S_LOGFD,		/* no payload + [daemon] log_file, reopened */
	S_METRICS_PART,		/* struct s_longtext + text: get_metrics */
	S_METRICS_END,		/* no payload: get_metrics complete */

	/* frontend -> supervisor: never a descriptor */
	F_READY = 64,		/* no payload: frontend set up, serving */
	F_CONN_CLOSED = 66,	/* no payload (65 was a retired message) */
	F_REQUEST,		/* struct f_request */
	F_LOG_ACK,		/* struct f_log_ack: follower drained a frame */
	F_HEARTBEAT,		/* struct heartbeat, echoed */
	F_CONN_ACK,		/* no payload: S_CONN_NEW received, and nothing
				   read from the client before this was sent */

	/* supervisor -> logger (see supervisor/logctl.h) */
	L_HELLO = 128,		/* struct l_hello, first message */
	L_INST,			/* struct l_inst: an instance and its files */
	L_SECRETS_CLEAR,	/* struct l_id (instance): forget its values */
	L_SECRET,		/* struct l_secret + name + value */
	L_FILE_OPEN,		/* struct l_file + the open log file */
	L_FILE_FD,		/* struct l_filefd + the file's new descriptor */
	L_ROTATE_FAIL,		/* struct l_id (file): the rotation or reopen
				   asked for failed: keep the old, or none */
	L_PIPE,			/* struct l_pipe + a pipe's read end */
	L_DRAIN,		/* struct l_drain: read the instance's pipes */
	L_TAIL,			/* struct l_tail (peer id: connection) */
	L_ACK,			/* struct l_conn: a follow frame drained */
	L_CONN_CLOSED,		/* struct l_conn */
	L_EXIT,			/* no payload: drain, flush and exit */
	L_HEARTBEAT,		/* struct heartbeat: answer L_HEARTBEAT_ACK */
	L_FILE_NEW,		/* struct l_file, no descriptor: a file to ask
				   for (L_REOPEN) when there is output */
	L_FILE_CLOSE,		/* struct l_id (file): nothing writes it any
				   more (a reload): close its descriptor */
	L_LOGFD,		/* no payload + [daemon] log_file, reopened */

	/* logger -> supervisor: never a descriptor */
	L_READY = 192,		/* no payload */
	L_ROTATE,		/* struct l_id (file): rotate it now */
	L_DRAINED,		/* struct l_drain, echoed */
	L_PIPE_DONE,		/* struct l_pipe: the pipe reached EOF */
	L_LOG_ENTRY,		/* peer id: connection; as S_LOG_ENTRY */
	L_LOG_END,		/* peer id: connection; struct s_logend */
	L_LOG_ERROR,		/* peer id: connection; struct s_error */
	L_HEARTBEAT_ACK,	/* struct heartbeat, echoed */
	L_REOPEN,		/* struct l_id (file): open it at its path */
	L_FILE_CLOSED,		/* struct l_id (file): its descriptor closed */
	L_STATS,		/* struct l_stats, after each L_HEARTBEAT_ACK */

	PROTO_TYPE_MAX
};

/*
 * The enums the payloads carry.  Their numbers travel between the
 * processes.  Request names are proto_req_name()'s; the error codes'
 * and states' spellings on the client wire are codec.c's.
 */
enum apm2_req_type {		/* f_request.type: upstream's, then ours */
	REQ_PING,
	REQ_STATUS,
	REQ_LIST_PROCESSES,
	REQ_GET_PROCESS,
	REQ_START_PROCESS,
	REQ_STOP_PROCESS,
	REQ_RESTART_PROCESS,
	REQ_RELOAD_PROCESS,
	REQ_TAIL_LOGS,
	REQ_LIST_CREDENTIALS,
	REQ_GET_CREDENTIAL,
	REQ_ADD_CREDENTIAL,
	REQ_REMOVE_CREDENTIAL,
	REQ_REFRESH_CREDENTIAL,
	REQ_SWITCH_CREDENTIAL,
	REQ_SHUTDOWN,
	REQ_RELOAD_CONFIG,	/* ours: read the configuration again */
	REQ_GET_METRICS,	/* ours: the Prometheus text exposition */
	REQ__COUNT
};

enum apm2_errcode {		/* s_error.code */
	ERR_PROCESS_NOT_FOUND,
	ERR_PROCESS_ALREADY_RUNNING,
	ERR_PROCESS_NOT_RUNNING,
	ERR_CREDENTIAL_NOT_FOUND,
	ERR_CREDENTIAL_EXISTS,
	ERR_INVALID_REQUEST,
	ERR_INTERNAL_ERROR,
	ERR_NOT_SUPPORTED,
	ERR_PERMISSION_DENIED,		/* ours, not upstream's */
	ERR__COUNT
};

enum apm2_state_kind {		/* p_state.kind: ProcessState */
	ST_STARTING,
	ST_RUNNING,
	ST_UNHEALTHY,
	ST_STOPPING,
	ST_STOPPED,		/* has_code: exit_code */
	ST_CRASHED,		/* has_code: exit_code */
	ST_TERMINATED,
	ST__COUNT
};

/* S_HELLO: sent once to every new frontend. */
struct s_hello {
	int64_t		start_mono_sec;	/* CLOCK_MONOTONIC at daemon start */
	int64_t		start_mono_nsec;
	uint32_t	sup_pid;
	uint32_t	max_conns;
	uint32_t	idle_timeout_ms;	/* 0: connections never idle out */
	uint32_t	pad;
};

/* S_CONN_NEW: a client the supervisor accepted; peer id is its id. */
#define S_CONN_ADMIN	0x1	/* an administrator: reserved resources */

struct s_conn_new {
	uint32_t	flags;		/* S_CONN_* */
	uint32_t	pad;
};

/* S_HEARTBEAT / F_HEARTBEAT: the frontend is alive and not wedged. */
struct heartbeat {
	uint64_t	seq;
};

struct s_status {
	uint64_t	uptime_secs;
	uint32_t	pid;
	uint32_t	process_count;
	uint32_t	running_instances;
	uint32_t	pad;
};

struct s_text {
	uint32_t	has_text;
	char		text[PROTO_MSG_MAX];
};

struct s_error {
	uint32_t	code;		/* enum apm2_errcode */
	char		text[PROTO_MSG_MAX];
};

/*
 * S_OK_TEXT, S_ERROR_TEXT: this header, then len bytes of text, no NUL
 * among them: a message too long for S_OK or S_ERROR (a text that fits
 * them goes in them), such as a reload's list of what it changes.
 */
struct s_longtext {
	uint32_t	code;		/* S_ERROR_TEXT: enum apm2_errcode;
					   S_OK_TEXT: 0 */
	uint32_t	len;		/* <= PROTO_LONGMSG_MAX */
};

/* ProcessState on the wire between the processes. */
struct p_state {
	uint32_t	kind;		/* enum apm2_state_kind */
	uint32_t	has_code;
	int32_t		exit_code;
	uint32_t	pad;
};

#define P_HAS_CPU	0x1
#define P_HAS_MEM	0x2
#define P_HAS_UPTIME	0x4
#define P_HAS_PID	0x8
#define P_OOM_KILLED	0x10	/* s_instance: its last exit, by the OOM
				   killer of its cgroup */
#define P_RESTART_DUE	0x20	/* a restart is scheduled: policy holds the
				   seconds until it */
#define P_GAVE_UP	0x40	/* the restart policy gave up: policy holds
				   the restarts in its window by then */

/*
 * list_processes goes out PROTO_LIST_BATCH processes a message, and only
 * while the channel to the frontend has room: however many programs and
 * however many clients list them, the reply never overflows it.
 */
#define PROTO_LIST_BATCH	64

struct s_summary {
	char		name[PROTO_NAME_MAX];
	struct p_state	status;
	uint32_t	instances;
	uint32_t	running;
	uint32_t	flags;		/* P_HAS_* */
	float		cpu_percent;
	uint64_t	memory_bytes;
	uint64_t	uptime_secs;
	uint32_t	restart_count;
	uint32_t	policy;		/* P_RESTART_DUE, P_GAVE_UP */
};
_Static_assert(PROTO_LIST_BATCH * sizeof(struct s_summary) <= PROTO_CHAN_MAX,
    "a list batch fits in one channel message");

struct s_detail {
	char		name[PROTO_NAME_MAX];
	char		id[40];		/* UUID, 36 chars + NUL */
	char		command[PROTO_STR_MAX];
	char		cwd[PROTO_STR_MAX];
	char		credential_profile[PROTO_ID_MAX];
	uint32_t	has_cwd;
	uint32_t	has_profile;
	uint32_t	instances;
	uint32_t	nargs;		/* S_DETAIL_ARG messages that follow */
	uint32_t	ninst;		/* S_DETAIL_INST messages that follow */
	uint32_t	nlimits;	/* S_DETAIL_LIMIT messages to follow */
};

struct s_str {
	char		str[PROTO_STR_MAX];
};

struct s_instance {
	struct p_state	state;
	uint32_t	index;
	uint32_t	pid;
	uint32_t	flags;		/* P_HAS_* */
	float		cpu_percent;
	uint64_t	memory_bytes;
	uint64_t	uptime_secs;
	uint32_t	restart_count;
	uint32_t	policy;		/* P_RESTART_DUE, P_GAVE_UP */
};

/* S_DETAIL_LIMIT: one [processes.limits] key and whether it holds. */
#define PROTO_LIMIT_NAME_MAX	16
#define LIMIT_MSGS		32	/* at most, per process_details */

struct s_limit {
	char		name[PROTO_LIMIT_NAME_MAX];	/* "nproc" */
	uint64_t	value;
	uint32_t	in_force;
	uint32_t	has_reason;
	char		reason[PROTO_MSG_MAX];	/* why not in force */
};

/* S_LOG_ENTRY: this header, then content_len bytes of content. */
struct s_logentry {
	int64_t		ts_sec;		/* UTC */
	int64_t		ts_nsec;
	char		process_name[PROTO_NAME_MAX];
	uint32_t	instance;
	uint32_t	stream;		/* 0 stdout, 1 stderr */
	uint32_t	content_len;
	uint32_t	pad;
};

struct s_logend {
	uint32_t	follow;		/* 1: more frames may follow */
	uint32_t	pad;
};

/*
 * F_REQUEST: one parsed client request.  Only what the supervisor acts
 * on travels: the credential requests' own fields stay in the frontend
 * until there is a credential store to give them to (until then those
 * requests are authorized and answered not_supported on the type alone).
 */
#define F_REQ_HAS_NAME	0x1	/* name present (tail_logs: not null;
				   switch_credential: its process_name) */
#define F_REQ_FOLLOW	0x2
#define F_REQ_DRY_RUN	0x4	/* reload_config only */

struct f_request {
	uint32_t	type;		/* enum apm2_req_type */
	uint32_t	flags;		/* F_REQ_* */
	uint32_t	lines;
	uint32_t	pad;
	char		name[PROTO_NAME_MAX];	/* process name */
};

struct f_log_ack {
	uint32_t	frames;
	uint32_t	pad;
};

/* L_HELLO */
struct l_hello {
	uint32_t	ninstances;	/* for the per-instance ring budget */
	uint32_t	log_memory_kib;	/* [daemon] log_memory */
	uint32_t	max_open_files;	/* [daemon] max_open_log_files */
	uint32_t	pad;
};

/* L_STATS: the logger's counters, for the metrics. */
struct l_stats {
	uint64_t	log_bytes_written;	/* to every log file */
	uint64_t	log_bytes_lost;		/* that could not be */
};

/*
 * L_SECRETS_CLEAR (an instance), L_ROTATE_FAIL, L_ROTATE, L_REOPEN,
 * L_FILE_CLOSE, L_FILE_CLOSED (a file): an id.
 */
struct l_id {
	uint32_t	id;
	uint32_t	pad;
};

/*
 * L_INST: instance inst (the supervisor's index, stable for the daemon's
 * life) of process proc (1-based config index), what its output goes
 * to (file ids, 0 for none) and how it is captured.
 */
#define L_INST_REDACT	0x1	/* files and ring hold masked lines */
#define L_INST_LINES	0x2	/* capture line by line */

struct l_inst {
	uint32_t	inst;
	uint32_t	proc;
	uint32_t	idx;
	uint32_t	flags;		/* L_INST_* */
	uint32_t	file[2];	/* stdout, stderr */
	char		name[PROTO_NAME_MAX];
	char		display[PROTO_DISPLAY_MAX];
};

/* L_SECRET: namelen bytes of name, then the value up to the end. */
struct l_secret {
	uint32_t	inst;
	uint32_t	namelen;
};

/*
 * L_FILE_OPEN: file id's settings; L_FILE_FD: a new descriptor for it
 * (rotated or reopened).  The descriptor comes with the message, with
 * what fstat(2) said of it: the logger may not look itself.  L_FILE_NEW:
 * the settings alone (struct l_file, fd's fields 0 but file): the logger
 * asks for a descriptor when it has output for it.
 */
#define L_FILE_TIMESTAMP	0x1

struct l_filefd {
	uint32_t	file;
	uint32_t	regular;	/* a regular file: sized, rotated */
	uint64_t	size;
	int64_t		mtime;
};

struct l_file {
	struct l_filefd	fd;
	uint32_t	flags;		/* L_FILE_* */
	uint32_t	mode;		/* enum rotation_mode */
	uint64_t	max_size;
	char		ts_format[PROTO_TSFMT_MAX];
	char		path[PROTO_PATH_MAX];	/* what messages call it */
};

/* L_PIPE, L_PIPE_DONE: pipe id (never 0) of stream of inst. */
#define L_PIPE_AUX	0x10	/* stream flag: a pre-shutdown command's */

struct l_pipe {
	uint32_t	inst;
	uint32_t	stream;		/* 0 stdout, 1 stderr; L_PIPE_AUX */
	uint64_t	id;
};

/* L_DRAIN, L_DRAINED: the run serial of inst whose exit waits. */
struct l_drain {
	uint32_t	inst;
	uint32_t	pad;
	uint64_t	serial;
};

/* L_TAIL: tail_logs of proc (1-based; 0: all) for a connection. */
struct l_tail {
	uint64_t	serial;		/* the connection's */
	uint32_t	proc;
	uint32_t	lines;
	uint32_t	follow;
	uint32_t	pad;
};

/* L_ACK, L_CONN_CLOSED */
struct l_conn {
	uint64_t	serial;
};

_Static_assert(sizeof(struct l_hello) == 16, "l_hello layout");
_Static_assert(sizeof(struct l_id) == 8, "l_id layout");
_Static_assert(sizeof(struct l_inst) == 24 + PROTO_NAME_MAX + PROTO_DISPLAY_MAX,
    "l_inst layout");
_Static_assert(sizeof(struct l_secret) == 8, "l_secret layout");
_Static_assert(sizeof(struct l_filefd) == 24, "l_filefd layout");
_Static_assert(sizeof(struct l_file) == 40 + PROTO_TSFMT_MAX + PROTO_PATH_MAX,
    "l_file layout");
_Static_assert(sizeof(struct l_pipe) == 16, "l_pipe layout");
_Static_assert(sizeof(struct l_drain) == 16, "l_drain layout");
_Static_assert(sizeof(struct l_tail) == 24, "l_tail layout");
_Static_assert(sizeof(struct l_conn) == 8, "l_conn layout");
_Static_assert(sizeof(struct s_hello) == 32, "s_hello layout");
_Static_assert(sizeof(struct s_conn_new) == 8, "s_conn_new layout");
_Static_assert(sizeof(struct heartbeat) == 8, "heartbeat layout");
_Static_assert(sizeof(struct s_status) == 24, "s_status layout");
_Static_assert(sizeof(struct s_text) == 4 + PROTO_MSG_MAX, "s_text layout");
_Static_assert(sizeof(struct s_error) == 4 + PROTO_MSG_MAX, "s_error layout");
_Static_assert(sizeof(struct s_longtext) == 8, "s_longtext layout");
_Static_assert(sizeof(struct s_longtext) + PROTO_LONGMSG_MAX <= PROTO_CHAN_MAX,
    "a long message fits in one channel message");
_Static_assert(sizeof(struct p_state) == 16, "p_state layout");
_Static_assert(sizeof(struct s_summary) == 120, "s_summary layout");
_Static_assert(sizeof(struct s_detail) == 8448, "s_detail layout");
_Static_assert(sizeof(struct s_instance) == 56, "s_instance layout");
_Static_assert(sizeof(struct s_limit) == 32 + PROTO_MSG_MAX, "s_limit layout");
_Static_assert(sizeof(struct s_logentry) == 96, "s_logentry layout");
_Static_assert(sizeof(struct s_logend) == 8, "s_logend layout");
_Static_assert(sizeof(struct f_request) == 80, "f_request layout");
_Static_assert(sizeof(struct f_log_ack) == 8, "f_log_ack layout");
_Static_assert(sizeof(struct s_detail) <= PROTO_CHAN_MAX, "fits a message");

/* Validation table entry: what a message of one type must look like. */
struct proto_rule {
	uint32_t	type;
	uint32_t	minsize;	/* exact size when minsize == maxsize */
	uint32_t	maxsize;
	int		fd;		/* 1: exactly one descriptor, 0: none */
	int		conn;		/* 1: peer id names a connection */
};

const struct proto_rule	*proto_rule_find(const struct proto_rule *, size_t,
			    uint32_t);
int			 proto_strfield_ok(const char *, size_t);
/*
 * What the frontend accepts as an S_LOG_ENTRY or S_ERROR payload: the
 * supervisor checks the logger's frames with the same functions before
 * it relays them, so that a logger cannot make the frontend exit.
 */
int			 proto_logentry_ok(const void *, size_t);
int			 proto_error_ok(const void *, size_t);
/* An S_OK_TEXT or S_ERROR_TEXT payload (type says which) as it must be. */
int			 proto_longtext_ok(uint32_t, const void *, size_t);
const char		*proto_type_name(uint32_t);
const char		*proto_req_name(uint32_t);	/* "ping", ... */
const char		*proto_state_name(uint32_t);	/* "running", ... */

#endif /* APM2_PROTO_H */
