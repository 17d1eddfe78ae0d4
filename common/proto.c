/* SPDX-License-Identifier: ISC */
/*
 * proto.c -- helpers for validating frontend/supervisor messages.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

static const char *const proto_names[PROTO_TYPE_MAX] = {
	[S_HELLO] = "S_HELLO",
	[S_PONG] = "S_PONG",
	[S_STATUS] = "S_STATUS",
	[S_OK] = "S_OK",
	[S_ERROR] = "S_ERROR",
	[S_LIST_ENTRY] = "S_LIST_ENTRY",
	[S_LIST_END] = "S_LIST_END",
	[S_DETAIL] = "S_DETAIL",
	[S_DETAIL_ARG] = "S_DETAIL_ARG",
	[S_DETAIL_INST] = "S_DETAIL_INST",
	[S_DETAIL_END] = "S_DETAIL_END",
	[S_DETAIL_LIMIT] = "S_DETAIL_LIMIT",
	[S_OK_TEXT] = "S_OK_TEXT",
	[S_ERROR_TEXT] = "S_ERROR_TEXT",
	[S_LOGFD] = "S_LOGFD",
	[S_METRICS_PART] = "S_METRICS_PART",
	[S_METRICS_END] = "S_METRICS_END",
	[S_LOG_ENTRY] = "S_LOG_ENTRY",
	[S_LOG_END] = "S_LOG_END",
	[S_CLOSE] = "S_CLOSE",
	[S_EXIT] = "S_EXIT",
	[S_CONN_NEW] = "S_CONN_NEW",
	[S_HEARTBEAT] = "S_HEARTBEAT",
	[F_READY] = "F_READY",
	[F_CONN_CLOSED] = "F_CONN_CLOSED",
	[F_REQUEST] = "F_REQUEST",
	[F_LOG_ACK] = "F_LOG_ACK",
	[F_HEARTBEAT] = "F_HEARTBEAT",
	[F_CONN_ACK] = "F_CONN_ACK",
	[L_HELLO] = "L_HELLO",
	[L_INST] = "L_INST",
	[L_SECRETS_CLEAR] = "L_SECRETS_CLEAR",
	[L_SECRET] = "L_SECRET",
	[L_FILE_OPEN] = "L_FILE_OPEN",
	[L_FILE_FD] = "L_FILE_FD",
	[L_ROTATE_FAIL] = "L_ROTATE_FAIL",
	[L_PIPE] = "L_PIPE",
	[L_DRAIN] = "L_DRAIN",
	[L_TAIL] = "L_TAIL",
	[L_ACK] = "L_ACK",
	[L_CONN_CLOSED] = "L_CONN_CLOSED",
	[L_EXIT] = "L_EXIT",
	[L_READY] = "L_READY",
	[L_ROTATE] = "L_ROTATE",
	[L_DRAINED] = "L_DRAINED",
	[L_PIPE_DONE] = "L_PIPE_DONE",
	[L_LOG_ENTRY] = "L_LOG_ENTRY",
	[L_LOG_END] = "L_LOG_END",
	[L_LOG_ERROR] = "L_LOG_ERROR",
	[L_HEARTBEAT] = "L_HEARTBEAT",
	[L_HEARTBEAT_ACK] = "L_HEARTBEAT_ACK",
	[L_FILE_NEW] = "L_FILE_NEW",
	[L_REOPEN] = "L_REOPEN",
	[L_FILE_CLOSED] = "L_FILE_CLOSED",
	[L_FILE_CLOSE] = "L_FILE_CLOSE",
	[L_LOGFD] = "L_LOGFD",
	[L_STATS] = "L_STATS",
};

/*
 * Upstream's spellings, then our own requests': codec.c parses them, the
 * supervisor logs them.
 */
static const char *const req_names[REQ__COUNT] = {
	[REQ_PING] = "ping",
	[REQ_STATUS] = "status",
	[REQ_LIST_PROCESSES] = "list_processes",
	[REQ_GET_PROCESS] = "get_process",
	[REQ_START_PROCESS] = "start_process",
	[REQ_STOP_PROCESS] = "stop_process",
	[REQ_RESTART_PROCESS] = "restart_process",
	[REQ_RELOAD_PROCESS] = "reload_process",
	[REQ_TAIL_LOGS] = "tail_logs",
	[REQ_LIST_CREDENTIALS] = "list_credentials",
	[REQ_GET_CREDENTIAL] = "get_credential",
	[REQ_ADD_CREDENTIAL] = "add_credential",
	[REQ_REMOVE_CREDENTIAL] = "remove_credential",
	[REQ_REFRESH_CREDENTIAL] = "refresh_credential",
	[REQ_SWITCH_CREDENTIAL] = "switch_credential",
	[REQ_SHUTDOWN] = "shutdown",
	[REQ_RELOAD_CONFIG] = "reload_config",
	[REQ_GET_METRICS] = "get_metrics",
};

const struct proto_rule *
proto_rule_find(const struct proto_rule *tab, size_t n, uint32_t type)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (tab[i].type == type)
			return (&tab[i]);
	return (NULL);
}

/* A string field is valid when it is NUL-terminated inside the field. */
int
proto_strfield_ok(const char *field, size_t size)
{
	return (size > 0 && memchr(field, '\0', size) != NULL);
}

const char *
proto_type_name(uint32_t type)
{
	if (type < PROTO_TYPE_MAX && proto_names[type] != NULL)
		return (proto_names[type]);
	return ("unknown");
}

/* A ProcessState as people read it (apm2ctl, the metrics). */
const char *
proto_state_name(uint32_t kind)
{
	static const char *const names[ST__COUNT] = {
		[ST_STARTING] = "starting",
		[ST_RUNNING] = "running",
		[ST_UNHEALTHY] = "unhealthy",
		[ST_STOPPING] = "stopping",
		[ST_STOPPED] = "stopped",
		[ST_CRASHED] = "crashed",
		[ST_TERMINATED] = "terminated"
	};

	if (kind < ST__COUNT)
		return (names[kind]);
	return ("unknown");
}

const char *
proto_req_name(uint32_t type)
{
	if (type < REQ__COUNT)
		return (req_names[type]);
	return ("unknown");
}

int
proto_logentry_ok(const void *data, size_t len)
{
	struct s_logentry	s;

	if (len < sizeof(s) || len > sizeof(s) + PROTO_LOGLINE_MAX)
		return (0);
	memcpy(&s, data, sizeof(s));
	return (proto_strfield_ok(s.process_name, sizeof(s.process_name)) &&
	    s.stream <= 1 && s.content_len == len - sizeof(s) &&
	    s.ts_nsec >= 0 && s.ts_nsec < 1000000000);
}

int
proto_error_ok(const void *data, size_t len)
{
	struct s_error	e;

	if (len != sizeof(e))
		return (0);
	memcpy(&e, data, sizeof(e));
	return (proto_strfield_ok(e.text, sizeof(e.text)) &&
	    e.code < ERR__COUNT);
}

/*
 * The header's length is the text's, within PROTO_LONGMSG_MAX, and the
 * text has no NUL: the frontend writes all of it.  The code is an error
 * code (S_ERROR_TEXT) or 0 (S_OK_TEXT).
 */
int
proto_longtext_ok(uint32_t type, const void *data, size_t len)
{
	struct s_longtext	h;

	if (len < sizeof(h) || len - sizeof(h) > PROTO_LONGMSG_MAX)
		return (0);
	memcpy(&h, data, sizeof(h));
	if (h.len != len - sizeof(h) ||
	    memchr((const char *)data + sizeof(h), '\0', h.len) != NULL)
		return (0);
	if (type == S_OK_TEXT)
		return (h.code == 0);
	return (type == S_ERROR_TEXT && h.code < ERR__COUNT);
}
