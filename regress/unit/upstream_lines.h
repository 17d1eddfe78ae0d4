/* SPDX-License-Identifier: ISC */
/*
 * upstream_lines.h -- every response example of apm2-upstream.md section
 * 1.5, byte for byte as the Rust original writes it: test_render.c writes
 * them, test_codec.c parses them.
 */
#ifndef UPSTREAM_LINES_H
#define UPSTREAM_LINES_H

#define T2026	1769346764LL	/* 2026-01-25T13:12:44Z */

#define RESP_PONG_LINE \
	"{\"type\":\"pong\",\"version\":\"0.3.0\",\"uptime_secs\":42}"
#define RESP_STATUS_LINE \
	"{\"type\":\"status\",\"version\":\"0.3.0\",\"pid\":1234," \
	"\"uptime_secs\":42,\"process_count\":2,\"running_instances\":1}"
#define RESP_LIST_LINE \
	"{\"type\":\"process_list\",\"processes\":[{\"name\":\"web\"," \
	"\"instances\":2,\"running\":2,\"status\":\"Running\"," \
	"\"cpu_percent\":null,\"memory_bytes\":null,\"uptime_secs\":3725," \
	"\"restart_count\":0},{\"name\":\"batch\",\"instances\":1," \
	"\"running\":0,\"status\":{\"Stopped\":{\"exit_code\":null}}," \
	"\"cpu_percent\":1.5,\"memory_bytes\":1048576,\"uptime_secs\":null," \
	"\"restart_count\":3}]}"
#define RESP_EMPTYLIST_LINE \
	"{\"type\":\"process_list\",\"processes\":[]}"
#define RESP_DETAILS_LINE \
	"{\"type\":\"process_details\",\"process\":{\"name\":\"web\"," \
	"\"id\":\"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b\"," \
	"\"command\":\"python3\",\"args\":[\"-m\",\"http.server\"]," \
	"\"cwd\":\"/srv\",\"instances\":2,\"instance_details\":[{\"index\":0," \
	"\"pid\":4242,\"state\":\"Running\",\"cpu_percent\":null," \
	"\"memory_bytes\":null,\"uptime_secs\":12,\"restart_count\":0}," \
	"{\"index\":1,\"pid\":null," \
	"\"state\":{\"Stopped\":{\"exit_code\":null}}," \
	"\"cpu_percent\":null,\"memory_bytes\":null,\"uptime_secs\":null," \
	"\"restart_count\":0}],\"credential_profile\":null}}"
#define RESP_OK_LINE \
	"{\"type\":\"ok\",\"message\":\"Process 'web' started\"}"
#define RESP_OKNULL_LINE \
	"{\"type\":\"ok\",\"message\":null}"
#define RESP_ERROR_LINE \
	"{\"type\":\"error\",\"code\":\"process_not_found\"," \
	"\"message\":\"Process 'nope' not found\"}"
#define RESP_LOG_LINE \
	"{\"type\":\"log_lines\",\"lines\":[{\"timestamp\":" \
	"\"2026-01-25T13:12:44.123Z\",\"process_name\":\"web\"," \
	"\"instance\":0," \
	"\"stream\":\"stdout\",\"content\":\"hello\"}]}"
#define RESP_CREDLIST_LINE \
	"{\"type\":\"credential_list\",\"profiles\":[{\"id\":\"claude-work\"," \
	"\"provider\":\"claude\",\"label\":null,\"auth_method\":\"api_key\"," \
	"\"expires_at\":null,\"created_at\":\"2026-01-25T13:12:44Z\"," \
	"\"last_used_at\":\"2026-01-25T13:12:44.123Z\"}]}"
#define RESP_CREDDET_LINE \
	"{\"type\":\"credential_details\",\"profile\":" \
	"{\"id\":\"gemini-main\",\"provider\":\"gemini\"," \
	"\"label\":\"Main\",\"auth_method\":\"oauth\"," \
	"\"expires_at\":\"2026-01-25T13:12:44.123456789Z\"," \
	"\"created_at\":\"2026-01-25T13:12:44.123456Z\"," \
	"\"last_used_at\":null}}"

#endif /* UPSTREAM_LINES_H */
