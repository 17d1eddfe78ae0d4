/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the frontend's replies (apm2d/render.c): the upstream
 * JSON written from the supervisor's messages (proto.h), byte for byte,
 * and what apm2ctl's parser (common/codec.c) reads back from it.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apm2d/apm2d.h"
#include "codec.h"
#include "jsonw.h"
#include "proto.h"
#include "upstream_lines.h"

static char	*take(struct jw *, size_t *);
static void	 golden(struct jw *, const char *, struct apm2_resp *);
static void	 parse(const char *, size_t, struct apm2_resp *);
static void	 summary(struct s_summary *, const char *, uint32_t);
static uint32_t	 rnd(uint32_t *);
static void	 rnd_str(uint32_t *, char *, size_t);

/* The writer's text, checked to be valid, as a C string. */
static char *
take(struct jw *w, size_t *lenp)
{
	char	*out;

	assert_int_equal(w->failed, 0);
	out = jw_detach(w, lenp);
	assert_non_null(out);
	return (out);
}

/*
 * Parsed as apm2ctl does: n bytes and the NUL the parser wants after
 * them (frame_dec_take() gives one), nothing more, so over-reads trip
 * ASan.
 */
static void
parse(const char *s, size_t n, struct apm2_resp *r)
{
	char	*copy, err[256];

	copy = malloc(n + 1);
	assert_non_null(copy);
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (apm2_resp_parse(copy, n, r, err, sizeof(err)) != 0)
		fail_msg("apm2ctl rejects %.*s: %s", (int)n, s, err);
	free(copy);
}

/* What w holds is line, byte for byte; r: what apm2ctl reads from it. */
static void
golden(struct jw *w, const char *line, struct apm2_resp *r)
{
	char	*out;
	size_t	 len;

	out = take(w, &len);
	assert_string_equal(out, line);
	assert_int_equal(len, strlen(line));
	parse(out, len, r);
	free(out);
}

static void
summary(struct s_summary *s, const char *name, uint32_t kind)
{
	memset(s, 0, sizeof(*s));
	strlcpy(s->name, name, sizeof(s->name));
	s->status.kind = kind;
}

/* xorshift32: a fixed seed keeps failures reproducible. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (*s);
}

/* Valid UTF-8 (escapes, controls and multi-byte characters), no NUL. */
static void
rnd_str(uint32_t *seed, char *buf, size_t size)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f",
		"\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "'"
	};
	size_t		 n = 0, l;
	const char	*p;
	uint32_t	 k = rnd(seed) % 24;

	while (k-- > 0) {
		p = pieces[rnd(seed) % (sizeof(pieces) / sizeof(pieces[0]))];
		l = strlen(p);
		if (n + l >= size)
			break;
		memcpy(buf + n, p, l);
		n += l;
	}
	buf[n] = '\0';
}

/* Section 1.5: each example the daemon sends, from its messages. */
static void
test_golden(void **state)
{
	struct s_status		 st = { 42, 1234, 2, 1, 0 };
	struct s_text		 t;
	struct s_summary	 s[2];
	struct s_detail		 d;
	struct s_str		 a[2];
	struct s_instance	 in[2];
	struct s_logentry	 le;
	struct apm2_resp	 r;
	struct jw		 w;
	size_t			 i;

	jw_init(&w);
	render_pong(&w, 42);
	golden(&w, RESP_PONG_LINE, &r);
	assert_int_equal(r.uptime_secs, 42);
	apm2_resp_free(&r);

	render_status(&w, &st);
	golden(&w, RESP_STATUS_LINE, &r);
	assert_int_equal(r.pid, 1234);
	assert_int_equal(r.process_count, 2);
	assert_int_equal(r.running_instances, 1);
	apm2_resp_free(&r);

	summary(&s[0], "web", ST_RUNNING);
	s[0].instances = 2;
	s[0].running = 2;
	s[0].flags = P_HAS_UPTIME;
	s[0].uptime_secs = 3725;
	summary(&s[1], "batch", ST_STOPPED);
	s[1].instances = 1;
	s[1].flags = P_HAS_CPU | P_HAS_MEM;
	s[1].cpu_percent = 1.5f;
	s[1].memory_bytes = 1048576;
	s[1].restart_count = 3;
	render_list_begin(&w);
	for (i = 0; i < 2; i++)
		render_list_entry(&w, &s[i], i == 0);
	render_list_end(&w);
	golden(&w, RESP_LIST_LINE, &r);
	assert_int_equal(r.nprocs, 2);
	assert_string_equal(r.procs[1].name, "batch");
	assert_int_equal(r.procs[1].memory_bytes, 1048576);
	assert_int_equal(r.procs[0].has_cpu, 0);
	apm2_resp_free(&r);
	render_list_begin(&w);
	render_list_end(&w);
	golden(&w, RESP_EMPTYLIST_LINE, &r);
	apm2_resp_free(&r);

	memset(&d, 0, sizeof(d));
	strlcpy(d.name, "web", sizeof(d.name));
	strlcpy(d.id, "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b", sizeof(d.id));
	strlcpy(d.command, "python3", sizeof(d.command));
	strlcpy(d.cwd, "/srv", sizeof(d.cwd));
	d.has_cwd = 1;
	d.instances = 2;
	d.nargs = 2;
	d.ninst = 2;
	strlcpy(a[0].str, "-m", sizeof(a[0].str));
	strlcpy(a[1].str, "http.server", sizeof(a[1].str));
	memset(in, 0, sizeof(in));
	in[0].index = 0;
	in[0].flags = P_HAS_PID | P_HAS_UPTIME;
	in[0].pid = 4242;
	in[0].state.kind = ST_RUNNING;
	in[0].uptime_secs = 12;
	in[1].index = 1;
	in[1].state.kind = ST_STOPPED;
	render_detail_begin(&w, &d);
	for (i = 0; i < 2; i++)
		render_detail_arg(&w, &a[i], i == 0);
	render_detail_args_end(&w, &d);
	for (i = 0; i < 2; i++)
		render_detail_inst(&w, &in[i], i == 0);
	render_detail_end(&w, &d);
	golden(&w, RESP_DETAILS_LINE, &r);
	assert_string_equal(r.proc.args[1], "http.server");
	assert_string_equal(r.proc.cwd, "/srv");
	assert_int_equal(r.proc.inst[0].pid, 4242);
	assert_int_equal(r.proc.inst[1].has_pid, 0);
	assert_null(r.proc.credential_profile);
	apm2_resp_free(&r);

	memset(&t, 0, sizeof(t));
	t.has_text = 1;
	strlcpy(t.text, "Process 'web' started", sizeof(t.text));
	render_ok(&w, &t);
	golden(&w, RESP_OK_LINE, &r);
	assert_string_equal(r.message, "Process 'web' started");
	apm2_resp_free(&r);
	t.has_text = 0;			/* the text is not looked at */
	render_ok(&w, &t);
	golden(&w, RESP_OKNULL_LINE, &r);
	assert_null(r.message);
	apm2_resp_free(&r);

	render_error(&w, ERR_PROCESS_NOT_FOUND, "Process 'nope' not found");
	golden(&w, RESP_ERROR_LINE, &r);
	assert_int_equal(r.code, ERR_PROCESS_NOT_FOUND);
	apm2_resp_free(&r);

	memset(&le, 0, sizeof(le));
	le.ts_sec = T2026;
	le.ts_nsec = 123000000;
	strlcpy(le.process_name, "web", sizeof(le.process_name));
	le.content_len = 5;
	render_log_begin(&w);
	render_log_entry(&w, &le, "hello", 1);
	render_list_end(&w);
	golden(&w, RESP_LOG_LINE, &r);
	assert_int_equal(r.lines[0].timestamp.sec, T2026);
	assert_int_equal(r.lines[0].timestamp.nsec, 123000000);
	assert_string_equal(r.lines[0].stream, "stdout");
	apm2_resp_free(&r);
	jw_free(&w);
}

/* ProcessState, externally tagged, as a list entry and an instance. */
static void
test_states(void **state)
{
	static const struct {
		struct p_state	 st;
		const char	*json;
	} t[] = {
		{ { ST_STARTING, 0, 0, 0 }, "\"Starting\"" },
		{ { ST_RUNNING, 0, 0, 0 }, "\"Running\"" },
		{ { ST_UNHEALTHY, 0, 0, 0 }, "\"Unhealthy\"" },
		{ { ST_STOPPING, 0, 0, 0 }, "\"Stopping\"" },
		{ { ST_STOPPED, 0, 0, 0 },
		    "{\"Stopped\":{\"exit_code\":null}}" },
		{ { ST_STOPPED, 1, 0, 0 }, "{\"Stopped\":{\"exit_code\":0}}" },
		{ { ST_CRASHED, 0, 0, 0 },
		    "{\"Crashed\":{\"exit_code\":null}}" },
		{ { ST_CRASHED, 1, 1, 0 }, "{\"Crashed\":{\"exit_code\":1}}" },
		{ { ST_CRASHED, 1, -2147483647 - 1, 0 },
		    "{\"Crashed\":{\"exit_code\":-2147483648}}" },
		{ { ST_STOPPED, 7, 2147483647, 0 },
		    "{\"Stopped\":{\"exit_code\":2147483647}}" },
		/* Only Stopped and Crashed carry a code. */
		{ { ST_RUNNING, 1, 3, 0 }, "\"Running\"" },
		{ { ST_TERMINATED, 0, 0, 0 }, "\"Terminated\"" }
	};
	struct s_summary	 s;
	struct s_instance	 in;
	struct apm2_resp	 r;
	struct jw		 w;
	char			 want[256], *out;
	size_t			 i, len;

	jw_init(&w);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		summary(&s, "p", 0);
		s.status = t[i].st;
		render_list_begin(&w);
		render_list_entry(&w, &s, 1);
		render_list_end(&w);
		out = take(&w, &len);
		snprintf(want, sizeof(want), "\"status\":%s,", t[i].json);
		assert_non_null(strstr(out, want));
		parse(out, len, &r);
		assert_int_equal(r.procs[0].status.kind, t[i].st.kind);
		if (t[i].st.kind == ST_STOPPED || t[i].st.kind == ST_CRASHED) {
			assert_int_equal(r.procs[0].status.has_code,
			    t[i].st.has_code != 0);
			if (t[i].st.has_code)
				assert_int_equal(r.procs[0].status.exit_code,
				    t[i].st.exit_code);
		} else
			assert_int_equal(r.procs[0].status.has_code, 0);
		apm2_resp_free(&r);
		free(out);

		memset(&in, 0, sizeof(in));
		in.state = t[i].st;
		render_detail_inst(&w, &in, 1);
		out = take(&w, NULL);
		snprintf(want, sizeof(want), "\"state\":%s,", t[i].json);
		assert_non_null(strstr(out, want));
		free(out);
	}
}

/* Every error code, by its snake_case name; the message escaped. */
static void
test_errors(void **state)
{
	static const char *const names[ERR__COUNT] = {
		"process_not_found", "process_already_running",
		"process_not_running", "credential_not_found",
		"credential_exists", "invalid_request", "internal_error",
		"not_supported", "permission_denied"
	};
	struct apm2_resp	 r;
	struct jw		 w;
	char			 want[256];
	int			 c;

	jw_init(&w);
	for (c = 0; c < ERR__COUNT; c++) {
		render_error(&w, c, "m\n");
		snprintf(want, sizeof(want), "{\"type\":\"error\",\"code\":"
		    "\"%s\",\"message\":\"m\\n\"}", names[c]);
		golden(&w, want, &r);
		assert_int_equal(r.code, c);
		assert_string_equal(r.message, "m\n");
		apm2_resp_free(&r);
	}
	render_error(&w, ERR_NOT_SUPPORTED, "Not implemented yet");
	golden(&w, "{\"type\":\"error\",\"code\":\"not_supported\","
	    "\"message\":\"Not implemented yet\"}", &r);
	apm2_resp_free(&r);
}

/*
 * A message too long for S_OK and S_ERROR (S_OK_TEXT, S_ERROR_TEXT): the
 * same ok and error, every byte of it, escaped as any message is; and a
 * short one through either writer reads the same.
 */
static void
test_long_text(void **state)
{
	static const char	 piece[] = "~ api \"x\" (changed: env)\t\\\x01"
				    "caf\xc3\xa9\n";
	static const char	 jpiece[] = "~ api \\\"x\\\" (changed: env)\\t"
				    "\\\\\\u0001caf\xc3\xa9\\n";
	struct apm2_resp	 r;
	struct s_text		 t;
	struct jw		 w;
	char			*text, *want, *out;
	size_t			 n, i, len, k = sizeof(piece) - 1;
	size_t			 jk = sizeof(jpiece) - 1;

	/* Short: both writers give the same bytes. */
	jw_init(&w);
	memset(&t, 0, sizeof(t));
	t.has_text = 1;
	strlcpy(t.text, "dry run: 0 added", sizeof(t.text));
	render_ok(&w, &t);
	render_ok_text(&w, t.text, strlen(t.text));
	out = take(&w, &len);
	assert_string_equal(out, "{\"type\":\"ok\",\"message\":\"dry run: 0 "
	    "added\"}{\"type\":\"ok\",\"message\":\"dry run: 0 added\"}");
	free(out);

	/* Long: the text up to the last byte, nothing cut. */
	n = PROTO_LONGMSG_MAX / k;
	text = malloc(n * k + 1);
	want = malloc(n * jk + 128);
	assert_non_null(text);
	assert_non_null(want);
	len = (size_t)snprintf(want, 128, "{\"type\":\"ok\",\"message\":\"");
	for (i = 0; i < n; i++) {
		memcpy(text + i * k, piece, k);
		memcpy(want + len, jpiece, jk);
		len += jk;
	}
	text[n * k] = '\0';
	memcpy(want + len, "\"}", 3);
	assert_true(n * k > PROTO_MSG_MAX && n * k <= PROTO_LONGMSG_MAX);
	render_ok_text(&w, text, n * k);
	golden(&w, want, &r);
	assert_int_equal(r.type, RESP_OK);
	assert_string_equal(r.message, text);
	apm2_resp_free(&r);

	len = (size_t)snprintf(want, 128, "{\"type\":\"error\",\"code\":"
	    "\"invalid_request\",\"message\":\"");
	for (i = 0; i < n; i++) {
		memcpy(want + len, jpiece, jk);
		len += jk;
	}
	memcpy(want + len, "\"}", 3);
	render_error_text(&w, ERR_INVALID_REQUEST, text, n * k);
	golden(&w, want, &r);
	assert_int_equal(r.type, RESP_ERROR);
	assert_int_equal(r.code, ERR_INVALID_REQUEST);
	assert_string_equal(r.message, text);
	apm2_resp_free(&r);

	/* Only len bytes are the message. */
	render_error_text(&w, ERR_PERMISSION_DENIED, "abcdef", 3);
	golden(&w, "{\"type\":\"error\",\"code\":\"permission_denied\","
	    "\"message\":\"abc\"}", &r);
	apm2_resp_free(&r);
	free(text);
	free(want);
	jw_free(&w);
}

/* What the frontend accepts as S_OK_TEXT and S_ERROR_TEXT. */
static void
test_longtext_check(void **state)
{
	struct s_longtext	*h;
	char			*m;
	size_t			 max = sizeof(*h) + PROTO_LONGMSG_MAX;

	m = calloc(1, max + 2);
	assert_non_null(m);
	h = (struct s_longtext *)(void *)m;
	memset(m + sizeof(*h), 'x', PROTO_LONGMSG_MAX + 1);

	h->len = 600;
	assert_true(proto_longtext_ok(S_OK_TEXT, m, sizeof(*h) + 600));
	h->code = ERR_INVALID_REQUEST;
	assert_false(proto_longtext_ok(S_OK_TEXT, m, sizeof(*h) + 600));
	assert_true(proto_longtext_ok(S_ERROR_TEXT, m, sizeof(*h) + 600));
	h->code = ERR_PERMISSION_DENIED;
	assert_true(proto_longtext_ok(S_ERROR_TEXT, m, sizeof(*h) + 600));
	h->code = ERR__COUNT;
	assert_false(proto_longtext_ok(S_ERROR_TEXT, m, sizeof(*h) + 600));
	h->code = 0;
	/* The length must be the payload's. */
	assert_false(proto_longtext_ok(S_OK_TEXT, m, sizeof(*h) + 599));
	assert_false(proto_longtext_ok(S_OK_TEXT, m, sizeof(*h) + 601));
	h->len = 0;
	assert_true(proto_longtext_ok(S_OK_TEXT, m, sizeof(*h)));
	assert_false(proto_longtext_ok(S_OK_TEXT, m, sizeof(*h) - 1));
	/* Up to PROTO_LONGMSG_MAX, not a byte more. */
	h->len = PROTO_LONGMSG_MAX;
	assert_true(proto_longtext_ok(S_OK_TEXT, m, max));
	h->len = PROTO_LONGMSG_MAX + 1;
	assert_false(proto_longtext_ok(S_OK_TEXT, m, max + 1));
	/* No NUL in the text, even the last byte. */
	h->len = PROTO_LONGMSG_MAX;
	m[max - 1] = '\0';
	assert_false(proto_longtext_ok(S_OK_TEXT, m, max));
	m[max - 1] = 'x';
	m[sizeof(*h)] = '\0';
	assert_false(proto_longtext_ok(S_ERROR_TEXT, m, max));
	m[sizeof(*h)] = 'x';
	/* Other types are not long texts. */
	assert_false(proto_longtext_ok(S_OK, m, max));
	assert_false(proto_longtext_ok(S_ERROR, m, max));
	free(m);
}

/* cpu_percent: null unless flagged, null when not finite, else exact. */
static void
test_floats(void **state)
{
	struct s_summary	 s;
	struct apm2_resp	 r;
	struct jw		 w;
	char			*out, *p;
	size_t			 len;
	uint32_t		 seed = 12345, bits;
	float			 f;
	int			 i, n;

	jw_init(&w);
	summary(&s, "p", ST_RUNNING);
	s.cpu_percent = 2.5f;		/* not flagged: null */
	render_list_entry(&w, &s, 1);
	s.flags = P_HAS_CPU;
	s.cpu_percent = strtof("nan", NULL);
	render_list_entry(&w, &s, 0);
	s.cpu_percent = strtof("-inf", NULL);
	render_list_entry(&w, &s, 0);
	out = take(&w, NULL);
	for (p = out, n = 0; (p = strstr(p, "\"cpu_percent\":null,")) != NULL;
	    p++)
		n++;
	assert_int_equal(n, 3);
	assert_null(strstr(out, "2.5"));
	free(out);

	for (i = 0; i < 4000; i++) {
		bits = rnd(&seed);
		if (i < 512)		/* powers of two: asymmetric gaps */
			bits = (uint32_t)(i / 2) << 23 | (uint32_t)(i & 1);
		memcpy(&f, &bits, sizeof(f));
		if (!(f == f) || f - f != 0.0f)
			continue;
		s.cpu_percent = f;
		render_list_begin(&w);
		render_list_entry(&w, &s, 1);
		render_list_end(&w);
		out = take(&w, &len);
		parse(out, len, &r);
		assert_int_equal(r.procs[0].has_cpu, 1);
		assert_memory_equal(&r.procs[0].cpu_percent, &f, sizeof(f));
		apm2_resp_free(&r);
		free(out);
	}
}

/* Log content: any bytes; invalid UTF-8 becomes U+FFFD, as upstream. */
static void
test_content(void **state)
{
	struct s_logentry	 le;
	struct apm2_resp	 r;
	struct jw		 w;
	char			 all[256], *out;
	size_t			 len;
	unsigned int		 c;

	for (c = 0; c < 256; c++)
		all[c] = (char)c;
	memset(&le, 0, sizeof(le));
	le.ts_sec = T2026;
	strlcpy(le.process_name, "web", sizeof(le.process_name));
	le.stream = 1;
	le.content_len = 128;		/* ASCII, NUL included */
	jw_init(&w);
	render_log_begin(&w);
	render_log_entry(&w, &le, all, 1);
	le.content_len = 256;		/* 0x80-0xff: each one U+FFFD */
	render_log_entry(&w, &le, all, 0);
	le.content_len = 0;
	render_log_entry(&w, &le, "", 0);
	render_list_end(&w);
	out = take(&w, &len);
	parse(out, len, &r);
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.lines[0].stream, "stderr");
	assert_int_equal(r.lines[0].content_len, 128);
	assert_memory_equal(r.lines[0].content, all, 128);
	assert_int_equal(r.lines[1].content_len, 128 + 128 * 3);
	assert_memory_equal(r.lines[1].content + 128, "\xef\xbf\xbd", 3);
	assert_int_equal(r.lines[2].content_len, 0);
	apm2_resp_free(&r);
	free(out);
}

/*
 * Fixed-size fields: what follows the NUL is never looked at, flags and
 * has_* decide null, the id is the UUID's 36 characters.
 */
/*
 * Issue 16: "limits" after credential_profile, only with limits, and
 * "exit_reason" in an instance only after an OOM kill.
 */
static void
test_detail_limits(void **state)
{
	struct s_detail		 d;
	struct s_instance	 in;
	struct s_limit		 l[2];
	struct apm2_resp	 r;
	struct jw		 w;
	char			*out, err[256];

	memset(&d, 0, sizeof(d));
	strlcpy(d.name, "w", sizeof(d.name));
	strlcpy(d.id, "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b", sizeof(d.id));
	strlcpy(d.command, "c", sizeof(d.command));
	d.instances = 1;
	d.ninst = 1;
	d.nlimits = 2;
	memset(&in, 0, sizeof(in));
	in.state.kind = ST_CRASHED;
	in.flags = P_OOM_KILLED;
	in.restart_count = 2;
	memset(l, 0, sizeof(l));
	strlcpy(l[0].name, "nproc", sizeof(l[0].name));
	l[0].value = 64;
	l[0].in_force = 1;
	memcpy(l[0].reason, "junk", 5);	/* has_reason 0: not read */
	strlcpy(l[1].name, "memory_max", sizeof(l[1].name));
	l[1].value = 18446744073709551615ULL;
	l[1].has_reason = 1;
	strlcpy(l[1].reason, "no \"memory\"", sizeof(l[1].reason));
	jw_init(&w);
	render_detail_begin(&w, &d);
	render_detail_args_end(&w, &d);
	render_detail_inst(&w, &in, 1);
	render_detail_limit(&w, &d, &l[0], 1);
	render_detail_limit(&w, &d, &l[1], 0);
	render_detail_end(&w, &d);
	out = take(&w, NULL);
	assert_string_equal(out, "{\"type\":\"process_details\",\"process\":"
	    "{\"name\":\"w\",\"id\":\"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b\","
	    "\"command\":\"c\",\"args\":[],\"cwd\":null,\"instances\":1,"
	    "\"instance_details\":[{\"index\":0,\"pid\":null,\"state\":"
	    "{\"Crashed\":{\"exit_code\":null}},\"cpu_percent\":null,"
	    "\"memory_bytes\":null,\"uptime_secs\":null,\"restart_count\":2,"
	    "\"exit_reason\":\"oom_killed\"}],\"credential_profile\":null,"
	    "\"limits\":[{\"name\":\"nproc\",\"value\":64,\"in_force\":true,"
	    "\"reason\":null},{\"name\":\"memory_max\",\"value\":"
	    "18446744073709551615,\"in_force\":false,\"reason\":"
	    "\"no \\\"memory\\\"\"}]}}");
	/* apm2ctl reads them back. */
	assert_int_equal(apm2_resp_parse(out, strlen(out), &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r.proc.nlimits, 2);
	assert_string_equal(r.proc.limits[0].name, "nproc");
	assert_true(r.proc.limits[0].in_force);
	assert_null(r.proc.limits[0].reason);
	assert_true(r.proc.limits[1].value == 18446744073709551615ULL);
	assert_false(r.proc.limits[1].in_force);
	assert_string_equal(r.proc.limits[1].reason, "no \"memory\"");
	assert_string_equal(r.proc.inst[0].exit_reason, "oom_killed");
	apm2_resp_free(&r);
	free(out);
}

/*
 * Issue 19: what the restart policy does next, after restart_count (and
 * exit_reason), only when the flags say so; the policy field alone adds
 * nothing.  apm2ctl reads them back.
 */
static void
test_policy(void **state)
{
	struct s_summary	 s;
	struct s_instance	 in;
	struct apm2_resp	 r;
	struct jw		 w;
	char			*out, err[256];

	jw_init(&w);
	summary(&s, "web", ST_CRASHED);
	s.status.has_code = 1;
	s.status.exit_code = 1;
	s.restart_count = 2;
	s.policy = 4;			/* no flag: not written */
	render_list_begin(&w);
	render_list_entry(&w, &s, 1);
	s.flags = P_RESTART_DUE;
	render_list_entry(&w, &s, 0);
	s.flags = P_GAVE_UP;
	s.policy = 5;
	render_list_entry(&w, &s, 0);
	render_list_end(&w);
	out = take(&w, NULL);
	assert_string_equal(out, "{\"type\":\"process_list\",\"processes\":["
	    "{\"name\":\"web\",\"instances\":0,\"running\":0,\"status\":"
	    "{\"Crashed\":{\"exit_code\":1}},\"cpu_percent\":null,"
	    "\"memory_bytes\":null,\"uptime_secs\":null,\"restart_count\":2},"
	    "{\"name\":\"web\",\"instances\":0,\"running\":0,\"status\":"
	    "{\"Crashed\":{\"exit_code\":1}},\"cpu_percent\":null,"
	    "\"memory_bytes\":null,\"uptime_secs\":null,\"restart_count\":2,"
	    "\"restart_in_secs\":4},"
	    "{\"name\":\"web\",\"instances\":0,\"running\":0,\"status\":"
	    "{\"Crashed\":{\"exit_code\":1}},\"cpu_percent\":null,"
	    "\"memory_bytes\":null,\"uptime_secs\":null,\"restart_count\":2,"
	    "\"gave_up\":true,\"gave_up_after\":5}]}");
	assert_int_equal(apm2_resp_parse(out, strlen(out), &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r.nprocs, 3);
	assert_false(r.procs[0].policy.has_restart_in);
	assert_false(r.procs[0].policy.gave_up);
	assert_true(r.procs[1].policy.has_restart_in);
	assert_int_equal(r.procs[1].policy.restart_in_secs, 4);
	assert_false(r.procs[1].policy.gave_up);
	assert_false(r.procs[2].policy.has_restart_in);
	assert_true(r.procs[2].policy.gave_up);
	assert_int_equal(r.procs[2].policy.gave_up_after, 5);
	apm2_resp_free(&r);
	free(out);

	/* An instance: after exit_reason; both flags: the restart wins. */
	memset(&in, 0, sizeof(in));
	in.state.kind = ST_STOPPED;
	in.state.has_code = 1;
	in.flags = P_OOM_KILLED | P_RESTART_DUE | P_GAVE_UP;
	in.policy = 4294967295U;
	render_detail_inst(&w, &in, 1);
	out = take(&w, NULL);
	assert_string_equal(out, "{\"index\":0,\"pid\":null,\"state\":"
	    "{\"Stopped\":{\"exit_code\":0}},\"cpu_percent\":null,"
	    "\"memory_bytes\":null,\"uptime_secs\":null,\"restart_count\":0,"
	    "\"exit_reason\":\"oom_killed\",\"restart_in_secs\":4294967295}");
	free(out);
	in.flags = P_GAVE_UP;
	in.policy = 0;
	render_detail_inst(&w, &in, 1);
	out = take(&w, NULL);
	assert_string_equal(out, "{\"index\":0,\"pid\":null,\"state\":"
	    "{\"Stopped\":{\"exit_code\":0}},\"cpu_percent\":null,"
	    "\"memory_bytes\":null,\"uptime_secs\":null,\"restart_count\":0,"
	    "\"gave_up\":true,\"gave_up_after\":0}");
	free(out);
}

static void
test_fields(void **state)
{
	struct s_detail	 d;
	struct s_text	 t;
	struct jw	 w;
	char		*out;

	memset(&d, 'x', sizeof(d));
	memcpy(d.name, "w\0junk", 6);
	memcpy(d.id, "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6bXYZ", 40);
	memcpy(d.command, "c\0", 2);
	d.has_cwd = 0;
	memcpy(d.credential_profile, "prof\0", 5);
	d.has_profile = 1;
	d.instances = 0;
	d.nlimits = 0;
	jw_init(&w);
	render_detail_begin(&w, &d);
	render_detail_args_end(&w, &d);
	render_detail_end(&w, &d);
	out = take(&w, NULL);
	assert_string_equal(out, "{\"type\":\"process_details\",\"process\":"
	    "{\"name\":\"w\",\"id\":\"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b\","
	    "\"command\":\"c\",\"args\":[],\"cwd\":null,\"instances\":0,"
	    "\"instance_details\":[],\"credential_profile\":\"prof\"}}");
	free(out);

	memset(&t, 'x', sizeof(t));
	t.has_text = 0;			/* unterminated: never read */
	render_ok(&w, &t);
	out = take(&w, NULL);
	assert_string_equal(out, "{\"type\":\"ok\",\"message\":null}");
	free(out);
}

/* A frame written piece by piece, the writer reused as the daemon does. */
/*
 * get_metrics: the text in parts gives the one JSON string the whole text
 * would, and apm2ctl's parser gets the text back byte for byte.
 */
static void
test_metrics(void **state)
{
	static const char	 text[] = "# HELP a_total \"x\" \\ y\n"
	    "# TYPE a_total counter\na_total{process=\"w\\\"q\"} 3\n";
	struct apm2_resp	 r;
	struct jw		 w;
	char			*whole, *parts;
	size_t			 wl, pl, cut;

	jw_init(&w);
	render_metrics_begin(&w);
	render_metrics_part(&w, text, sizeof(text) - 1);
	render_metrics_end(&w);
	whole = take(&w, &wl);
	for (cut = 0; cut < sizeof(text); cut++) {
		jw_init(&w);
		render_metrics_begin(&w);
		render_metrics_part(&w, text, cut);
		render_metrics_part(&w, text + cut, sizeof(text) - 1 - cut);
		render_metrics_end(&w);
		parts = take(&w, &pl);
		assert_int_equal(pl, wl);
		assert_memory_equal(parts, whole, wl);
		free(parts);
	}
	parse(whole, wl, &r);
	assert_int_equal(r.type, RESP_METRICS);
	assert_string_equal(r.text, text);
	apm2_resp_free(&r);
	free(whole);
}

static void
test_streaming(void **state)
{
	struct s_logentry	 le;
	struct jw		 w;
	char			*out;
	int			 i;

	memset(&le, 0, sizeof(le));
	le.ts_sec = T2026;
	strlcpy(le.process_name, "web", sizeof(le.process_name));
	le.content_len = 5;
	jw_init(&w);
	for (i = 0; i < 3; i++) {
		jw_reset(&w);
		jw_raw(&w, "\0\0\0\0", 4);	/* room for the frame length */
		render_log_begin(&w);
		render_log_entry(&w, &le, "hello", 1);
		render_log_entry(&w, &le, "hello", 0);
		render_list_end(&w);
		assert_int_equal(w.failed, 0);
	}
	out = take(&w, NULL);
	assert_string_equal(out + 4, "{\"type\":\"log_lines\",\"lines\":["
	    "{\"timestamp\":\"2026-01-25T13:12:44Z\",\"process_name\":\"web\","
	    "\"instance\":0,\"stream\":\"stdout\",\"content\":\"hello\"},"
	    "{\"timestamp\":\"2026-01-25T13:12:44Z\",\"process_name\":\"web\","
	    "\"instance\":0,\"stream\":\"stdout\",\"content\":\"hello\"}]}");
	free(out);
}

/* Random messages: apm2ctl reads back every value the daemon wrote. */
static void
test_random(void **state)
{
	struct s_summary	 s;
	struct s_detail		 d;
	struct s_str		 a;
	struct s_instance	 in;
	struct s_logentry	 le;
	struct apm2_resp	 r;
	struct jw		 w;
	char			 content[64], *out;
	size_t			 len;
	uint32_t		 seed = 0x9e3779b9, i;
	int			 iter;

	jw_init(&w);
	for (iter = 0; iter < 3000; iter++) {
		summary(&s, "", rnd(&seed) % ST__COUNT);
		rnd_str(&seed, s.name, sizeof(s.name));
		s.status.has_code = rnd(&seed) % 2;
		s.status.exit_code = (int32_t)rnd(&seed);
		s.instances = rnd(&seed);
		s.running = rnd(&seed);
		s.flags = rnd(&seed) % 16;
		s.memory_bytes = (uint64_t)rnd(&seed) << 32 | rnd(&seed);
		s.uptime_secs = (uint64_t)rnd(&seed) << 32 | rnd(&seed);
		s.restart_count = rnd(&seed);
		render_list_begin(&w);
		render_list_entry(&w, &s, 1);
		render_list_end(&w);
		out = take(&w, &len);
		parse(out, len, &r);
		assert_string_equal(r.procs[0].name, s.name);
		assert_int_equal(r.procs[0].instances, s.instances);
		assert_int_equal(r.procs[0].running, s.running);
		assert_int_equal(r.procs[0].status.kind, s.status.kind);
		assert_int_equal(r.procs[0].has_mem,
		    (s.flags & P_HAS_MEM) != 0);
		if (s.flags & P_HAS_MEM)
			assert_true(r.procs[0].memory_bytes == s.memory_bytes);
		assert_int_equal(r.procs[0].has_uptime,
		    (s.flags & P_HAS_UPTIME) != 0);
		if (s.flags & P_HAS_UPTIME)
			assert_true(r.procs[0].uptime_secs == s.uptime_secs);
		assert_int_equal(r.procs[0].restart_count, s.restart_count);
		apm2_resp_free(&r);
		free(out);

		memset(&d, 0, sizeof(d));
		rnd_str(&seed, d.name, sizeof(d.name));
		strlcpy(d.id, "00000000-0000-4000-8000-000000000000",
		    sizeof(d.id));
		rnd_str(&seed, d.command, 100);
		rnd_str(&seed, d.cwd, 100);
		d.has_cwd = rnd(&seed) % 2;
		d.instances = rnd(&seed);
		rnd_str(&seed, a.str, 100);
		memset(&in, 0, sizeof(in));
		in.index = rnd(&seed);
		in.pid = rnd(&seed);
		in.flags = rnd(&seed) % 16;
		in.state.kind = rnd(&seed) % ST__COUNT;
		render_detail_begin(&w, &d);
		render_detail_arg(&w, &a, 1);
		render_detail_args_end(&w, &d);
		render_detail_inst(&w, &in, 1);
		render_detail_end(&w, &d);
		out = take(&w, &len);
		parse(out, len, &r);
		assert_string_equal(r.proc.name, d.name);
		assert_string_equal(r.proc.command, d.command);
		assert_string_equal(r.proc.args[0], a.str);
		if (d.has_cwd)
			assert_string_equal(r.proc.cwd, d.cwd);
		else
			assert_null(r.proc.cwd);
		assert_int_equal(r.proc.instances, d.instances);
		assert_int_equal(r.proc.inst[0].index, in.index);
		assert_int_equal(r.proc.inst[0].has_pid,
		    (in.flags & P_HAS_PID) != 0);
		if (in.flags & P_HAS_PID)
			assert_int_equal(r.proc.inst[0].pid, in.pid);
		assert_int_equal(r.proc.inst[0].state.kind, in.state.kind);
		apm2_resp_free(&r);
		free(out);

		memset(&le, 0, sizeof(le));
		le.ts_sec = (int64_t)(rnd(&seed) % 4102444800U);
		le.ts_nsec = rnd(&seed) % 1000000000;
		rnd_str(&seed, le.process_name, sizeof(le.process_name));
		le.instance = rnd(&seed);
		le.stream = rnd(&seed) % 2;
		rnd_str(&seed, content, sizeof(content));
		le.content_len = strlen(content);
		render_log_begin(&w);
		for (i = 0; i < 2; i++)
			render_log_entry(&w, &le, content, i == 0);
		render_list_end(&w);
		out = take(&w, &len);
		parse(out, len, &r);
		assert_int_equal(r.nlines, 2);
		assert_true(r.lines[1].timestamp.sec == le.ts_sec);
		assert_int_equal(r.lines[1].timestamp.nsec, le.ts_nsec);
		assert_string_equal(r.lines[1].process_name, le.process_name);
		assert_int_equal(r.lines[1].instance, le.instance);
		assert_string_equal(r.lines[1].stream,
		    le.stream ? "stderr" : "stdout");
		assert_int_equal(r.lines[1].content_len, le.content_len);
		assert_memory_equal(r.lines[1].content, content,
		    le.content_len);
		apm2_resp_free(&r);
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_longtext_check),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_content),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_detail_limits),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_random),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
