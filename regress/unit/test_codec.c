/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the protocol codec (common/codec.c) and its strict JSON
 * reader and writer (common/json.c over cJSON, common/jsonw.c).  The
 * daemon's side of the responses, writing them, is test_render.c's.
 *
 * Every parse goes through an exactly-sized heap copy of the input with
 * only the terminating NUL the parsers require (frame_dec_take() gives
 * one) after it, so an over-read shows up under ASan.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "jsonw.h"
#include "unit.h"

#define T2026	1769346764LL	/* 2026-01-25T13:12:44Z */
#include "upstream_lines.h"

static int	 req_parse_n(const char *, size_t, struct apm2_req *, char *,
		    size_t);
static int	 req_parse(const char *, struct apm2_req *);
static int	 resp_parse_n(const char *, size_t, struct apm2_resp *,
		    char *, size_t);
static int	 resp_parse_s(const char *, struct apm2_resp *);
static void	 req_ok(const char *);
static void	 req_bad(const char *);
static void	 req_bad_n(const char *, size_t);
static void	 req_refused(const char *, size_t, const char *);
static void	 req_golden(const char *);
static void	 req_err(const char *, const char *);
static void	 resp_bad(const char *);
static void	 resp_err(const char *, const char *);
static const char *details(const char *, const char *);
static char	*f32s(float);
static int	 cpu_parse(const char *, float *);
static void	 nested(char *, size_t, const char *, int);
static size_t	 zeros(char *, size_t, const char *, size_t);
static char	*strrender(const char *, size_t);
static void	 roundtrip_any(const char *, size_t);
static int	 brute_f32(float, char *);

/* Every request example of upstream section 1.4, as the Rust client. */
static const char *const req_lines[] = {
	"{\"type\":\"ping\"}",
	"{\"type\":\"status\"}",
	"{\"type\":\"list_processes\"}",
	"{\"type\":\"get_process\",\"name\":\"web\"}",
	"{\"type\":\"start_process\",\"name\":\"web\"}",
	"{\"type\":\"stop_process\",\"name\":\"web\"}",
	"{\"type\":\"restart_process\",\"name\":\"web\"}",
	"{\"type\":\"reload_process\",\"name\":\"web\"}",
	"{\"type\":\"tail_logs\",\"name\":\"web\",\"lines\":20,"
	    "\"follow\":false}",
	"{\"type\":\"tail_logs\",\"name\":null,\"lines\":100,\"follow\":true}",
	"{\"type\":\"list_credentials\"}",
	"{\"type\":\"get_credential\",\"profile_id\":\"claude-work\"}",
	"{\"type\":\"add_credential\",\"profile_id\":\"claude-work\","
	    "\"provider\":\"claude\",\"auth_method\":\"api_key\"}",
	"{\"type\":\"remove_credential\",\"profile_id\":\"claude-work\"}",
	"{\"type\":\"refresh_credential\",\"profile_id\":\"claude-work\"}",
	"{\"type\":\"switch_credential\",\"process_name\":\"web\","
	    "\"profile_id\":\"claude-work\"}",
	"{\"type\":\"shutdown\"}"
};

static int
req_parse_n(const char *s, size_t n, struct apm2_req *r, char *err,
    size_t errlen)
{
	char	*copy;
	int	 rc;

	/* Exactly n bytes and the NUL: any read past it trips ASan. */
	copy = malloc(n + 1);
	assert_non_null(copy);
	memcpy(copy, s, n);
	copy[n] = '\0';
	rc = apm2_req_parse(copy, n, r, err, errlen);
	free(copy);
	return (rc);
}

static int
req_parse(const char *s, struct apm2_req *r)
{
	char	 err[256];

	return (req_parse_n(s, strlen(s), r, err, sizeof(err)));
}

static int
resp_parse_n(const char *s, size_t n, struct apm2_resp *r, char *err,
    size_t errlen)
{
	char	*copy;
	int	 rc;

	copy = malloc(n + 1);
	assert_non_null(copy);
	memcpy(copy, s, n);
	copy[n] = '\0';
	rc = apm2_resp_parse(copy, n, r, err, errlen);
	free(copy);
	return (rc);
}

static int
resp_parse_s(const char *s, struct apm2_resp *r)
{
	char	 err[256];
	int	 rc;

	if ((rc = resp_parse_n(s, strlen(s), r, err, sizeof(err))) != 0)
		print_error("%s: %s\n", s, err);
	return (rc);
}

static void
req_ok(const char *s)
{
	struct apm2_req	 r;
	char		 err[256];

	if (req_parse_n(s, strlen(s), &r, err, sizeof(err)) != 0)
		fail_msg("rejected %s: %s", s, err);
	apm2_req_free(&r);
}

/* s[0..n) is rejected, with a reason: exactly want unless it is NULL. */
static void
req_refused(const char *s, size_t n, const char *want)
{
	struct apm2_req	 r;
	char		 err[256];

	err[0] = '\0';
	if (req_parse_n(s, n, &r, err, sizeof(err)) == 0) {
		apm2_req_free(&r);
		fail_msg("accepted %.*s", (int)n, s);
	}
	/* A reason is always given, and the struct stays freeable. */
	assert_true(strlen(err) > 0);
	if (want != NULL)
		assert_string_equal(err, want);
	apm2_req_free(&r);
}

static void
req_bad_n(const char *s, size_t n)
{
	req_refused(s, n, NULL);
}

static void
req_bad(const char *s)
{
	req_bad_n(s, strlen(s));
}

static void
req_golden(const char *line)
{
	struct apm2_req	 r;
	char		*out;
	size_t		 len;

	assert_int_equal(req_parse(line, &r), 0);
	out = apm2_req_render(&r, &len);
	assert_non_null(out);
	assert_string_equal(out, line);
	assert_int_equal(len, strlen(line));
	free(out);
	apm2_req_free(&r);
}

/* s is rejected with exactly the message want. */
static void
req_err(const char *s, const char *want)
{
	req_refused(s, strlen(s), want);
}

static void
resp_bad(const char *s)
{
	struct apm2_resp r;
	char		 err[256];

	err[0] = '\0';
	if (resp_parse_n(s, strlen(s), &r, err, sizeof(err)) == 0) {
		apm2_resp_free(&r);
		fail_msg("accepted %s", s);
	}
	assert_true(strlen(err) > 0);
	apm2_resp_free(&r);
}

/* s is rejected with exactly the message want. */
static void
resp_err(const char *s, const char *want)
{
	struct apm2_resp r;
	char		 err[256];

	err[0] = '\0';
	if (resp_parse_n(s, strlen(s), &r, err, sizeof(err)) == 0) {
		apm2_resp_free(&r);
		fail_msg("accepted %s", s);
	}
	if (strcmp(err, want) != 0)
		fail_msg("%s: \"%s\", want \"%s\"", s, err, want);
	apm2_resp_free(&r);
}

/*
 * A process_details reply as the daemon writes it, with inst after the
 * only instance's "restart_count" and tail after "credential_profile"
 * (a static buffer).
 */
static const char *
details(const char *inst, const char *tail)
{
	static char	 b[2048];
	int		 n;

	n = snprintf(b, sizeof(b), "{\"type\":\"process_details\","
	    "\"process\":{\"name\":\"w\",\"id\":"
	    "\"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b\",\"command\":\"sleep\","
	    "\"args\":[\"1000\"],\"cwd\":null,\"instances\":1,"
	    "\"instance_details\":[{\"index\":0,\"pid\":null,\"state\":"
	    "{\"Crashed\":{\"exit_code\":null}},\"cpu_percent\":null,"
	    "\"memory_bytes\":null,\"uptime_secs\":null,"
	    "\"restart_count\":2%s}],\"credential_profile\":null%s}}", inst,
	    tail);
	assert_true(n > 0 && (size_t)n < sizeof(b));
	return (b);
}

/* Static buffer with the rendered f32 (tests only). */
static char *
f32s(float f)
{
	static char	 b[JW_F32_MAX];

	jw_fmt_f32(f, b);
	return (b);
}

/* jw_str output as a malloc'd C string. */
static char *
strrender(const char *s, size_t n)
{
	struct jw	 w;
	char		*out;

	jw_init(&w);
	jw_str(&w, s, n);
	out = jw_detach(&w, NULL);
	assert_non_null(out);
	return (out);
}

/*
 * Parse as request and response.  A request that parses must round-trip;
 * a response is only ever parsed (test_render.c renders them).
 */
static void
roundtrip_any(const char *buf, size_t n)
{
	struct apm2_req	 q, q2;
	struct apm2_resp r;
	char		 err[256], *a, *b;
	size_t		 al, bl;

	if (req_parse_n(buf, n, &q, err, sizeof(err)) == 0) {
		a = apm2_req_render(&q, &al);
		assert_non_null(a);
		assert_int_equal(req_parse_n(a, al, &q2, err, sizeof(err)), 0);
		b = apm2_req_render(&q2, &bl);
		assert_non_null(b);
		assert_string_equal(a, b);
		free(a);
		free(b);
		apm2_req_free(&q2);
	}
	apm2_req_free(&q);
	err[0] = '\0';
	if (resp_parse_n(buf, n, &r, err, sizeof(err)) == -1)
		assert_true(strlen(err) > 0);
	apm2_resp_free(&r);
}

/*
 * Independent reference for f32 text: the shortest %.Ne that strtof
 * reads back (also trying the neighbours of the correctly rounded
 * candidate), laid out with ryu's format32 rules.
 */
static int
brute_f32(float f, char *out)
{
	char		 b[64], t[64], dig[32];
	long long	 m, c[3], mm;
	int		 p, ex, e10, i, n, kk, e;
	char		*q;

	if (f < 0) {
		*out++ = '-';
		f = -f;
	}
	for (p = 1; p <= 9; p++) {
		snprintf(b, sizeof(b), "%.*e", p - 1, (double)f);
		m = 0;
		for (q = b; *q != '\0' && *q != 'e'; q++)
			if (*q >= '0' && *q <= '9')
				m = m * 10 + (*q - '0');
		ex = atoi(q + 1);
		e10 = ex - (p - 1);
		c[0] = m;
		c[1] = m - 1;
		c[2] = m + 1;
		for (i = 0; i < 3; i++) {
			if (c[i] <= 0)
				continue;
			snprintf(t, sizeof(t), "%llde%d", c[i], e10);
			if (strtof(t, NULL) != f)
				continue;
			mm = c[i];
			e = e10;
			while (mm % 10 == 0) {
				mm /= 10;
				e++;
			}
			n = snprintf(dig, sizeof(dig), "%lld", mm);
			kk = e + n;
			if (kk >= n && kk <= 13) {
				strcpy(out, dig);
				for (i = n; i < kk; i++)
					strcat(out, "0");
				strcat(out, ".0");
			} else if (kk > 0 && kk <= 13)
				sprintf(out, "%.*s.%s", kk, dig, dig + kk);
			else if (kk > -6 && kk <= 0) {
				strcpy(out, "0.");
				for (i = kk; i < 0; i++)
					strcat(out, "0");
				strcat(out, dig);
			} else if (n == 1)
				sprintf(out, "%se%d", dig, kk - 1);
			else
				sprintf(out, "%c.%se%d", dig[0], dig + 1,
				    kk - 1);
			return (0);
		}
	}
	return (-1);
}

/* Section 1.4: parse each example, render it back byte for byte. */
static void
test_req_golden(void **state)
{
	struct apm2_req	 r;
	size_t		 i;

	for (i = 0; i < sizeof(req_lines) / sizeof(req_lines[0]); i++)
		req_golden(req_lines[i]);

	assert_int_equal(req_parse(req_lines[8], &r), 0);
	assert_int_equal(r.type, REQ_TAIL_LOGS);
	assert_string_equal(r.name, "web");
	assert_int_equal(r.lines, 20);
	assert_int_equal(r.follow, 0);
	apm2_req_free(&r);
	assert_int_equal(req_parse(req_lines[9], &r), 0);
	assert_null(r.name);
	assert_int_equal(r.lines, 100);
	assert_int_equal(r.follow, 1);
	apm2_req_free(&r);
	assert_int_equal(req_parse(req_lines[12], &r), 0);
	assert_int_equal(r.type, REQ_ADD_CREDENTIAL);
	assert_string_equal(r.profile_id, "claude-work");
	assert_string_equal(r.provider, "claude");
	assert_string_equal(r.auth_method, "api_key");
	apm2_req_free(&r);
	assert_int_equal(req_parse(req_lines[15], &r), 0);
	assert_int_equal(r.type, REQ_SWITCH_CREDENTIAL);
	assert_string_equal(r.process_name, "web");
	assert_string_equal(r.profile_id, "claude-work");
	apm2_req_free(&r);
}

static void
test_req_type_names(void **state)
{
	int	 t;

	for (t = 0; t < REQ__COUNT; t++) {
		assert_int_equal(apm2_req_type_from_name(
		    apm2_req_type_name((enum apm2_req_type)t)), t);
	}
	assert_string_equal(apm2_req_type_name(REQ_TAIL_LOGS), "tail_logs");
	assert_string_equal(apm2_req_type_name(REQ_SHUTDOWN), "shutdown");
	assert_int_equal(apm2_req_type_from_name("Ping"), -1);
	assert_string_equal(apm2_resp_type_name(RESP_LOG_LINES), "log_lines");
}

/*
 * reload_config, ours: dry_run a boolean, false when missing; no key but
 * those two, unlike upstream's requests.
 */
static void
test_reload_config(void **state)
{
	struct apm2_req	 r;
	char		*out;

	assert_string_equal(apm2_req_type_name(REQ_RELOAD_CONFIG),
	    "reload_config");
	assert_int_equal(req_parse("{\"type\":\"reload_config\"}", &r), 0);
	assert_int_equal(r.type, REQ_RELOAD_CONFIG);
	assert_int_equal(r.dry_run, 0);
	out = apm2_req_render(&r, NULL);
	assert_string_equal(out, "{\"type\":\"reload_config\","
	    "\"dry_run\":false}");
	free(out);
	apm2_req_free(&r);
	assert_int_equal(req_parse("{\"dry_run\":true,"
	    "\"type\":\"reload_config\"}", &r), 0);
	assert_int_equal(r.type, REQ_RELOAD_CONFIG);
	assert_int_equal(r.dry_run, 1);
	apm2_req_free(&r);
	assert_int_equal(req_parse(" {\"type\":\"reload_config\",\"dry_run\""
	    " : false } ", &r), 0);
	assert_int_equal(r.dry_run, 0);
	apm2_req_free(&r);
	req_golden("{\"type\":\"reload_config\",\"dry_run\":true}");
	req_golden("{\"type\":\"reload_config\",\"dry_run\":false}");

	req_err("{\"type\":\"reload_config\",\"dry_run\":\"yes\"}",
	    "field \"dry_run\": expected a boolean, got string");
	req_err("{\"type\":\"reload_config\",\"dry_run\":null}",
	    "field \"dry_run\": expected a boolean, got null");
	req_err("{\"type\":\"reload_config\",\"dry_run\":1}",
	    "field \"dry_run\": expected a boolean, got number");
	req_err("{\"type\":\"reload_config\",\"dry_run\":[true]}",
	    "field \"dry_run\": expected a boolean, got array");
	req_err("{\"type\":\"reload_config\",\"x\":1}",
	    "unknown field \"x\"");
	/* A near miss must not make a dry run a real one. */
	req_err("{\"type\":\"reload_config\",\"dryrun\":true}",
	    "unknown field \"dryrun\"");
	req_err("{\"type\":\"reload_config\",\"Dry_run\":true}",
	    "unknown field \"Dry_run\"");
	req_err("{\"x\":null,\"type\":\"reload_config\",\"dry_run\":true}",
	    "unknown field \"x\"");
	/* Another request's field is unknown here. */
	req_err("{\"type\":\"reload_config\",\"name\":\"web\"}",
	    "unknown field \"name\"");
	/* A key that cannot be quoted is not. */
	req_err("{\"type\":\"reload_config\",\"\\u0001\":1}",
	    "unknown field");
	req_err("{\"type\":\"reload_config\",\"a\\\"b\":1}",
	    "unknown field");
	req_err("{\"type\":\"reload_config\",\"dry_run\":true,"
	    "\"dry_run\":true}", "invalid JSON: duplicate key \"dry_run\" at "
	    "byte 39");
	req_bad("{\"type\":\"reload_config\",\"dry_run\":true} x");
	req_bad("{\"type\":\"Reload_config\"}");
	/* Upstream's requests still ignore what they do not know. */
	req_ok("{\"type\":\"ping\",\"dry_run\":\"yes\"}");
	req_ok("{\"type\":\"shutdown\",\"x\":1}");
}

/* The accepted inputs listed in section 1.4, and their meaning. */
static void
test_req_accepted(void **state)
{
	struct apm2_req	 r;
	char		*out;

	assert_int_equal(req_parse(
	    "{\"type\":\"tail_logs\",\"lines\":5,\"follow\":false}", &r), 0);
	assert_null(r.name);
	assert_int_equal(r.lines, 5);
	out = apm2_req_render(&r, NULL);
	assert_string_equal(out, "{\"type\":\"tail_logs\",\"name\":null,"
	    "\"lines\":5,\"follow\":false}");
	free(out);
	apm2_req_free(&r);

	assert_int_equal(req_parse("{\"name\":\"a\","
	    "\"type\":\"start_process\"}", &r), 0);
	assert_int_equal(r.type, REQ_START_PROCESS);
	assert_string_equal(r.name, "a");
	apm2_req_free(&r);

	assert_int_equal(req_parse("{\"type\":\"ping\",\"extra\":1}", &r), 0);
	assert_int_equal(r.type, REQ_PING);
	apm2_req_free(&r);

	/* Empty strings are accepted without validation. */
	assert_int_equal(req_parse("{\"type\":\"get_process\",\"name\":\"\"}",
	    &r), 0);
	assert_string_equal(r.name, "");
	apm2_req_free(&r);

	/* Whitespace anywhere between tokens, escapes in values and keys. */
	assert_int_equal(req_parse(" \t\r\n{ \"typ\\u0065\" : \"stop_\\u0070"
	    "rocess\" ,\n\"name\":\"a\\/b\\\"c\" } \n", &r), 0);
	assert_int_equal(r.type, REQ_STOP_PROCESS);
	assert_string_equal(r.name, "a/b\"c");
	apm2_req_free(&r);

	/* Unknown keys with any value are ignored, even deep ones. */
	req_ok("{\"x\":[1,{\"y\":[null,true,false,-1.5e-3]}],\"type\":"
	    "\"status\",\"z\":{}}");
	/* Fields of other request types are ignored too. */
	req_ok("{\"type\":\"ping\",\"name\":5,\"lines\":-1}");
	/* Non-ASCII names survive unchanged. */
	assert_int_equal(req_parse("{\"type\":\"get_process\",\"name\":"
	    "\"w\xc3\xa9\\u00e9\\ud83d\\ude00\"}", &r), 0);
	assert_string_equal(r.name, "w\xc3\xa9\xc3\xa9\xf0\x9f\x98\x80");
	out = apm2_req_render(&r, NULL);
	assert_string_equal(out, "{\"type\":\"get_process\",\"name\":"
	    "\"w\xc3\xa9\xc3\xa9\xf0\x9f\x98\x80\"}");
	free(out);
	apm2_req_free(&r);
}

/* The rejected inputs of section 1.4 plus the type discriminator. */
static void
test_req_rejected(void **state)
{
	req_bad("{\"type\":\"start_process\"}");
	req_bad("{\"type\":\"tail_logs\",\"name\":\"x\",\"lines\":5}");
	req_bad("{}");
	req_bad("{\"type\":\"Ping\"}");
	req_bad("{\"type\":\"PING\"}");
	req_bad("{\"type\":\"ping \"}");
	req_bad("{\"type\":\"ping\\u0000\"}");
	req_bad("{\"type\":\"pong\"}");
	req_bad("{\"type\":\"\"}");
	req_bad("{\"type\":1}");
	req_bad("{\"type\":null}");
	req_bad("{\"type\":[\"ping\"]}");
	req_bad("{\"type\":{\"ping\":null}}");
	req_bad("{\"type\":true}");
	req_bad("{\"Type\":\"ping\"}");
	/* Not an object at the top. */
	req_bad("[{\"type\":\"ping\"}]");
	req_bad("\"ping\"");
	req_bad("null");
	req_bad("1");
	req_bad("true");
	/* Not JSON at all. */
	req_bad("");
	req_bad("   ");
	req_bad("{");
	req_bad("{\"type\":\"ping\"");
	req_bad("{\"type\":\"ping\",}");
	req_bad("{\"type\" \"ping\"}");
	req_bad("{'type':'ping'}");
	req_bad("{type:\"ping\"}");
	req_bad("{\"type\":\"ping\",\"x\":[1,]}");
	req_bad("{\"type\":\"ping\",\"x\":01}");
	req_bad("{\"type\":\"ping\",\"x\":1.}");
	req_bad("{\"type\":\"ping\",\"x\":.5}");
	req_bad("{\"type\":\"ping\",\"x\":+1}");
	req_bad("{\"type\":\"ping\",\"x\":1e}");
	req_bad("{\"type\":\"ping\",\"x\":-}");
	req_bad("{\"type\":\"ping\",\"x\":NaN}");
	req_bad("{\"type\":\"ping\",\"x\":tru}");
	req_bad("{\"type\":\"ping\",\"x\":nul}");
	req_bad("{\"type\":\"ping\",\"x\":\"\\x\"}");
	req_bad("{\"type\":\"ping\",\"x\":\"\\u12\"}");
	req_bad("{\"type\":\"ping\",\"x\":\"\\u12G4\"}");
	req_bad("{\"type\":\"ping\",\"x\":\"tab\there\"}");
	req_bad("{\"type\":\"ping\",\"x\":\"nl\nhere\"}");
	req_bad("\xef\xbb\xbf{\"type\":\"ping\"}");	/* BOM */
	req_bad("{\"type\":\"ping\"}\x0c");		/* not JSON ws */
}

/* Each request type: every required field missing, every wrong type. */
static void
test_req_fields(void **state)
{
	static const struct {
		const char	*type;
		const char	*fields[3];
		const char	*good[3];
	} t[] = {
		{ "get_process", { "name" }, { "\"a\"" } },
		{ "start_process", { "name" }, { "\"a\"" } },
		{ "stop_process", { "name" }, { "\"a\"" } },
		{ "restart_process", { "name" }, { "\"a\"" } },
		{ "reload_process", { "name" }, { "\"a\"" } },
		{ "tail_logs", { "name", "lines", "follow" },
		    { "\"a\"", "3", "true" } },
		{ "get_credential", { "profile_id" }, { "\"p\"" } },
		{ "add_credential", { "profile_id", "provider", "auth_method" },
		    { "\"p\"", "\"claude\"", "\"api_key\"" } },
		{ "remove_credential", { "profile_id" }, { "\"p\"" } },
		{ "refresh_credential", { "profile_id" }, { "\"p\"" } },
		{ "switch_credential", { "process_name", "profile_id" },
		    { "\"a\"", "\"p\"" } }
	};
	static const char *const wrong[] = {
		"1", "-1", "1.5", "true", "false", "null", "[]", "{}",
		"[\"a\"]", "{\"a\":\"b\"}", "\"x\""
	};
	char		 buf[512];
	size_t		 i, j, k, w, nf, o;
	int		 isstr, isnum, isbool, optional;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (nf = 0; nf < 3 && t[i].fields[nf] != NULL; nf++)
			;
		/* All present: accepted. */
		o = (size_t)snprintf(buf, sizeof(buf), "{\"type\":\"%s\"",
		    t[i].type);
		for (k = 0; k < nf; k++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    ",\"%s\":%s", t[i].fields[k], t[i].good[k]);
		snprintf(buf + o, sizeof(buf) - o, "}");
		req_ok(buf);
		for (j = 0; j < nf; j++) {
			optional = strcmp(t[i].type, "tail_logs") == 0 &&
			    strcmp(t[i].fields[j], "name") == 0;
			isnum = strcmp(t[i].fields[j], "lines") == 0;
			isbool = strcmp(t[i].fields[j], "follow") == 0;
			isstr = !isnum && !isbool;
			/* Field j missing. */
			o = (size_t)snprintf(buf, sizeof(buf),
			    "{\"type\":\"%s\"", t[i].type);
			for (k = 0; k < nf; k++)
				if (k != j)
					o += (size_t)snprintf(buf + o,
					    sizeof(buf) - o, ",\"%s\":%s",
					    t[i].fields[k], t[i].good[k]);
			snprintf(buf + o, sizeof(buf) - o, "}");
			if (optional)
				req_ok(buf);
			else
				req_bad(buf);
			/* Field j with each wrong type. */
			for (w = 0; w < sizeof(wrong) / sizeof(wrong[0]); w++) {
				o = (size_t)snprintf(buf, sizeof(buf),
				    "{\"type\":\"%s\"", t[i].type);
				for (k = 0; k < nf; k++)
					o += (size_t)snprintf(buf + o,
					    sizeof(buf) - o, ",\"%s\":%s",
					    t[i].fields[k], k == j ?
					    wrong[w] : t[i].good[k]);
				snprintf(buf + o, sizeof(buf) - o, "}");
				if ((isstr && wrong[w][0] == '"') ||
				    (optional && strcmp(wrong[w], "null") ==
				    0) ||
				    (isbool && (strcmp(wrong[w], "true") == 0 ||
				    strcmp(wrong[w], "false") == 0)) ||
				    (isnum && strcmp(wrong[w], "1") == 0))
					req_ok(buf);
				else
					req_bad(buf);
			}
		}
	}
}

static void
test_req_lines_bounds(void **state)
{
	struct apm2_req	 r;

	assert_int_equal(req_parse("{\"type\":\"tail_logs\",\"lines\":0,"
	    "\"follow\":false}", &r), 0);
	assert_int_equal(r.lines, 0);
	apm2_req_free(&r);
	assert_int_equal(req_parse("{\"type\":\"tail_logs\",\"lines\":"
	    "4294967295,\"follow\":false}", &r), 0);
	assert_int_equal(r.lines, 4294967295U);
	apm2_req_free(&r);
	/* serde_json reads -0 as the integer 0. */
	assert_int_equal(req_parse("{\"type\":\"tail_logs\",\"lines\":-0,"
	    "\"follow\":false}", &r), 0);
	assert_int_equal(r.lines, 0);
	apm2_req_free(&r);
	req_bad("{\"type\":\"tail_logs\",\"lines\":4294967296,"
	    "\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":18446744073709551615,"
	    "\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":18446744073709551616,"
	    "\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":99999999999999999999999,"
	    "\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":-1,\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":1.5,\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":1.0,\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":1e2,\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":1E2,\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":-0.0,\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":\"5\",\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":05,\"follow\":false}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":5,\"follow\":0}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":5,\"follow\":\"true\"}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":5,\"follow\":null}");
	req_bad("{\"type\":\"tail_logs\",\"lines\":null,\"follow\":true}");
}

static void
test_duplicate_keys(void **state)
{
	char	*buf;
	size_t	 i, o, cap = 64 * 1024;

	req_bad("{\"type\":\"ping\",\"type\":\"ping\"}");
	req_bad("{\"type\":\"ping\",\"type\":\"status\"}");
	req_bad("{\"type\":\"get_process\",\"name\":\"a\",\"name\":\"b\"}");
	req_bad("{\"type\":\"ping\",\"extra\":1,\"extra\":1}");
	/* The same key spelled with an escape is the same key. */
	req_bad("{\"type\":\"ping\",\"a\":1,\"\\u0061\":2}");
	req_bad("{\"type\":\"ping\",\"t\\u0079pe\":\"ping\"}");
	/* Nested, at any level, in objects inside arrays too. */
	req_bad("{\"type\":\"ping\",\"x\":{\"a\":1,\"a\":2}}");
	req_bad("{\"type\":\"ping\",\"x\":[{\"a\":1},{\"b\":1,\"b\":2}]}");
	req_bad("{\"type\":\"ping\",\"x\":{\"y\":{\"z\":{\"q\":1,\"q\":1}}}}");
	req_bad("{\"type\":\"ping\",\"x\":{\"\":1,\"\":2}}");
	/* Equal names in different objects are fine. */
	req_ok("{\"type\":\"ping\",\"x\":{\"a\":1},\"y\":{\"a\":1}}");
	req_ok("{\"a\":{\"a\":{\"a\":1}},\"type\":\"ping\",\"b\":[{\"a\":1},"
	    "{\"a\":2}]}");
	req_ok("{\"type\":\"ping\",\"a\":1,\"A\":1,\"a \":1,\"\":1}");

	/* Many keys (the sorting path): unique ones pass, one dup fails. */
	buf = malloc(cap);
	assert_non_null(buf);
	o = (size_t)snprintf(buf, cap, "{\"type\":\"ping\"");
	for (i = 0; i < 3000; i++)
		o += (size_t)snprintf(buf + o, cap - o, ",\"k%zu\":%zu",
		    (i * 7919) % 3000, i);
	snprintf(buf + o, cap - o, "}");
	req_ok(buf);
	snprintf(buf + o, cap - o, ",\"k1234\":0}");
	req_bad(buf);
	/* ... also when the duplicate is "type" itself. */
	snprintf(buf + o, cap - o, ",\"type\":\"ping\"}");
	req_bad(buf);
	free(buf);
}

static void
test_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xc2", "\xc2\x20",
		"\xe0\x80\x80", "\xe0\x9f\xbf", "\xe2\x82", "\xe2\x28\xa1",
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80",
		"\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80", "\xfe", "\xff", "\xf0\x9f\x98",
		"\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\ud800x",
		"\\ud800\\u0041", "\\ud800\\ud800", "\\udc00\\ud800",
		"\\ud83d\\u", "\\ud83d\\"
	};
	static const char *const good[] = {
		"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
		"\xf4\x8f\xbf\xbf", "\\ud800\\udc00", "\\udbff\\udfff",
		"\\uffff", "\\u0000"
	};
	char		 buf[256];
	struct apm2_req	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* In a name value, an ignored value and a key. */
		snprintf(buf, sizeof(buf),
		    "{\"type\":\"get_process\",\"name\":\"a%sb\"}", bad[i]);
		req_bad(buf);
		snprintf(buf, sizeof(buf), "{\"type\":\"ping\",\"x\":\"%s\"}",
		    bad[i]);
		req_bad(buf);
		snprintf(buf, sizeof(buf), "{\"type\":\"ping\",\"%s\":1}",
		    bad[i]);
		req_bad(buf);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"type\":\"ping\",\"x\":\"%s\"}",
		    good[i]);
		req_ok(buf);
		snprintf(buf, sizeof(buf), "{\"type\":\"ping\",\"%s\":1}",
		    good[i]);
		req_ok(buf);
	}
	/* Outside strings any non-ASCII byte is a syntax error. */
	req_bad("{\"type\":\"ping\"}\xc3\xa9");
	req_bad("{\"type\":\xc3\xa9\"ping\"}");
	/* Surrogate pair decodes to the 4-byte form. */
	assert_int_equal(req_parse("{\"type\":\"get_process\",\"name\":"
	    "\"\\uD83D\\uDE00\"}", &r), 0);
	assert_string_equal(r.name, "\xf0\x9f\x98\x80");
	apm2_req_free(&r);
}

static void
test_trailing_data(void **state)
{
	req_bad("{\"type\":\"ping\"} {}");
	req_bad("{\"type\":\"ping\"}{\"type\":\"ping\"}");
	req_bad("{\"type\":\"ping\"}x");
	req_bad("{\"type\":\"ping\"},");
	req_bad("{\"type\":\"ping\"}}");
	req_bad("{\"type\":\"ping\"} 1");
	req_bad("{\"type\":\"ping\"}\n\n\"\"");
	req_bad_n("{\"type\":\"ping\"}\0", 16);
	req_ok("{\"type\":\"ping\"}  \n\t\r ");
	req_ok("\n{\"type\":\"ping\"}");
}

static void
test_nul_bytes(void **state)
{
	static const char raw1[] = "{\"type\":\"ping\",\"x\":\"a\0b\"}";
	static const char raw2[] = "{\"type\":\0\"ping\"}";
	static const char raw3[] = "\0{\"type\":\"ping\"}";
	static const char raw4[] =
	    "{\"type\":\"get_process\",\"name\":\"a\0\"}";
	struct apm2_req	 r;

	req_bad_n(raw1, sizeof(raw1) - 1);
	req_bad_n(raw2, sizeof(raw2) - 1);
	req_bad_n(raw3, sizeof(raw3) - 1);
	req_bad_n(raw4, sizeof(raw4) - 1);
	req_bad_n("", 0);
	req_bad_n("\0", 1);
	/* An escaped NUL is valid JSON but makes no sense in a name. */
	req_bad("{\"type\":\"get_process\",\"name\":\"a\\u0000b\"}");
	req_bad("{\"type\":\"tail_logs\",\"name\":\"\\u0000\",\"lines\":1,"
	    "\"follow\":true}");
	req_bad("{\"type\":\"add_credential\",\"profile_id\":\"p\","
	    "\"provider\":\"c\\u0000\",\"auth_method\":\"api_key\"}");
	req_bad("{\"type\":\"switch_credential\",\"process_name\":\"\\u0000\","
	    "\"profile_id\":\"p\"}");
	/* ... and is harmless in an ignored field. */
	req_ok("{\"type\":\"ping\",\"x\":\"\\u0000\"}");
	/* The parser stops at len, whatever follows in memory. */
	assert_int_equal(req_parse_n("{\"type\":\"ping\"}garbage", 15, &r,
	    NULL, 0), 0);
	apm2_req_free(&r);
}

static void
test_deep_nesting(void **state)
{
	char	*buf;
	size_t	 n = 100000, i, o;
	int	 d;

	buf = malloc(2 * n + 64);
	assert_non_null(buf);
	memset(buf, '[', n);
	req_bad_n(buf, n);
	memset(buf + n, ']', n);
	req_bad_n(buf, 2 * n);
	for (i = 0; i < n; i += 5)
		memcpy(buf + i, "{\"a\":", 5);
	req_bad_n(buf, n);
	for (i = 0; i < n; i += 4)
		memcpy(buf + i, "[{}]", i + 4 <= n ? 4 : n - i);
	req_bad_n(buf, n);

	/* APM2_JSON_MAXDEPTH levels pass, one more does not. */
	for (d = APM2_JSON_MAXDEPTH; d <= APM2_JSON_MAXDEPTH + 1; d++) {
		o = (size_t)snprintf(buf, 64, "{\"type\":\"ping\",\"x\":");
		for (i = 1; i < (size_t)d; i++)
			buf[o++] = '[';
		for (i = 1; i < (size_t)d; i++)
			buf[o++] = ']';
		buf[o++] = '}';
		buf[o] = '\0';
		if (d == APM2_JSON_MAXDEPTH)
			req_ok(buf);
		else
			req_bad(buf);
	}
	free(buf);
}

static void
test_random_bytes(void **state)
{
	static const char alphabet[] = "{}[]\":,\\ \n0123456789-+.eEtruefalsn"
	    "ul\x80\xc3\xa9\xff\x00typeingam";
	char		 buf[256];
	size_t		 n, i, j, k;

	rng_seed(0x2545f491);
	/* Uniformly random bytes. */
	for (i = 0; i < 4000; i++) {
		n = rng() % sizeof(buf);
		for (j = 0; j < n; j++)
			buf[j] = (char)rng();
		roundtrip_any(buf, n);
	}
	/* Random strings over JSON-ish characters. */
	for (i = 0; i < 4000; i++) {
		n = rng() % 64;
		for (j = 0; j < n; j++)
			buf[j] = alphabet[rng() % (sizeof(alphabet) - 1)];
		roundtrip_any(buf, n);
	}
	/* Mutations of valid lines: flips, truncations, splices. */
	for (i = 0; i < 6000; i++) {
		const char *src = req_lines[rng() %
		    (sizeof(req_lines) / sizeof(req_lines[0]))];

		n = strlen(src);
		memcpy(buf, src, n);
		switch (rng() % 3) {
		case 0:
			for (k = 0; k < 1 + rng() % 3; k++)
				buf[rng() % n] = alphabet[rng() %
				    (sizeof(alphabet) - 1)];
			break;
		case 1:
			n = rng() % n;
			break;
		default:
			j = rng() % n;
			k = rng() % (n - j);
			memmove(buf + j, buf + j + k, n - j - k);
			n -= k;
			break;
		}
		roundtrip_any(buf, n);
	}
	/* Every valid line truncated at every length is rejected. */
	for (i = 0; i < sizeof(req_lines) / sizeof(req_lines[0]); i++)
		for (n = 0; n < strlen(req_lines[i]); n++)
			req_bad_n(req_lines[i], n);
}

static void
test_errcodes(void **state)
{
	static const char *const names[ERR__COUNT] = {
		"process_not_found", "process_already_running",
		"process_not_running", "credential_not_found",
		"credential_exists", "invalid_request", "internal_error",
		"not_supported", "permission_denied"
	};
	static const char *const dbg[ERR__COUNT] = {
		"ProcessNotFound", "ProcessAlreadyRunning", "ProcessNotRunning",
		"CredentialNotFound", "CredentialExists", "InvalidRequest",
		"InternalError", "NotSupported", "PermissionDenied"
	};
	struct apm2_resp r;
	char		 line[256];
	int		 c;

	for (c = 0; c < ERR__COUNT; c++) {
		assert_string_equal(apm2_errcode_name(c), names[c]);
		assert_string_equal(apm2_errcode_debug(c), dbg[c]);
		snprintf(line, sizeof(line), "{\"type\":\"error\",\"code\":"
		    "\"%s\",\"message\":\"m\\n\"}", names[c]);
		assert_int_equal(resp_parse_s(line, &r), 0);
		assert_int_equal(r.type, RESP_ERROR);
		assert_int_equal(r.code, c);
		assert_string_equal(r.message, "m\n");
		apm2_resp_free(&r);
	}
	resp_bad("{\"type\":\"error\",\"code\":\"ProcessNotFound\","
	    "\"message\":\"x\"}");
	resp_bad("{\"type\":\"error\",\"code\":\"bogus\",\"message\":\"x\"}");
	resp_bad("{\"type\":\"error\",\"code\":1,\"message\":\"x\"}");
	resp_bad("{\"type\":\"error\",\"message\":\"x\"}");
	resp_bad("{\"type\":\"error\",\"code\":\"internal_error\"}");
	resp_bad("{\"type\":\"error\",\"code\":\"internal_error\","
	    "\"message\":null}");
}

static void
test_states(void **state)
{
	static const struct {
		struct apm2_state	 st;
		const char		*json;
		const char		*human;
	} t[] = {
		{ { ST_STARTING, 0, 0 }, "\"Starting\"", "starting" },
		{ { ST_RUNNING, 0, 0 }, "\"Running\"", "running" },
		{ { ST_UNHEALTHY, 0, 0 }, "\"Unhealthy\"", "unhealthy" },
		{ { ST_STOPPING, 0, 0 }, "\"Stopping\"", "stopping" },
		{ { ST_STOPPED, 0, 0 }, "{\"Stopped\":{\"exit_code\":null}}",
		    "stopped" },
		{ { ST_STOPPED, 1, 0 }, "{\"Stopped\":{\"exit_code\":0}}",
		    "stopped (exit code: 0)" },
		{ { ST_CRASHED, 0, 0 }, "{\"Crashed\":{\"exit_code\":null}}",
		    "crashed" },
		{ { ST_CRASHED, 1, 1 }, "{\"Crashed\":{\"exit_code\":1}}",
		    "crashed (exit code: 1)" },
		{ { ST_CRASHED, 1, -2147483647 - 1 },
		    "{\"Crashed\":{\"exit_code\":-2147483648}}",
		    "crashed (exit code: -2147483648)" },
		{ { ST_STOPPED, 1, 2147483647 },
		    "{\"Stopped\":{\"exit_code\":2147483647}}",
		    "stopped (exit code: 2147483647)" },
		{ { ST_TERMINATED, 0, 0 }, "\"Terminated\"", "terminated" }
	};
	static const char *const badst[] = {
		"\"running\"", "\"Stopped\"", "\"Crashed\"", "null", "1",
		"{}", "{\"Running\":1}", "{\"Running\":{}}",
		"{\"Running\":null,\"Stopping\":null}", "{\"Stopped\":null}",
		"{\"Stopped\":{\"exit_code\":2147483648}}",
		"{\"Crashed\":{\"exit_code\":-2147483649}}",
		"{\"Crashed\":{\"exit_code\":1.0}}",
		"{\"Crashed\":{\"exit_code\":\"1\"}}", "{\"Bogus\":null}",
		"[\"Running\"]"
	};
	struct apm2_resp	 r2;
	char			 buf[512], hb[APM2_STATE_HUMAN_MAX];
	char			 err[128];
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_string_equal(apm2_state_human(&t[i].st, hb, sizeof(hb)),
		    t[i].human);
		/* As a process_list carries it (test_render.c writes it). */
		snprintf(buf, sizeof(buf), "{\"type\":\"process_list\","
		    "\"processes\":[{\"name\":\"p\",\"instances\":1,"
		    "\"running\":0,\"status\":%s,\"restart_count\":0}]}",
		    t[i].json);
		assert_int_equal(resp_parse_n(buf, strlen(buf), &r2, err,
		    sizeof(err)), 0);
		assert_int_equal(r2.procs[0].status.kind, t[i].st.kind);
		assert_int_equal(r2.procs[0].status.has_code,
		    t[i].st.has_code);
		assert_int_equal(r2.procs[0].status.exit_code,
		    t[i].st.exit_code);
		apm2_resp_free(&r2);
	}
	assert_string_equal(apm2_state_name(ST_UNHEALTHY), "Unhealthy");
	/* Truncation keeps the buffer a C string. */
	assert_string_equal(apm2_state_human(&t[5].st, hb, 5), "stop");

	/* Accepted alternative spellings serde also reads. */
	snprintf(buf, sizeof(buf), "{\"type\":\"process_list\",\"processes\":"
	    "[{\"name\":\"p\",\"instances\":1,\"running\":0,\"status\":%s,"
	    "\"restart_count\":0}]}", "{\"Running\":null}");
	assert_int_equal(resp_parse_n(buf, strlen(buf), &r2, err,
	    sizeof(err)), 0);
	assert_int_equal(r2.procs[0].status.kind, ST_RUNNING);
	apm2_resp_free(&r2);
	snprintf(buf, sizeof(buf), "{\"type\":\"process_list\",\"processes\":"
	    "[{\"name\":\"p\",\"instances\":1,\"running\":0,\"status\":%s,"
	    "\"restart_count\":0}]}", "{\"Stopped\":{}}");
	assert_int_equal(resp_parse_n(buf, strlen(buf), &r2, err,
	    sizeof(err)), 0);
	assert_int_equal(r2.procs[0].status.kind, ST_STOPPED);
	assert_int_equal(r2.procs[0].status.has_code, 0);
	apm2_resp_free(&r2);
	for (i = 0; i < sizeof(badst) / sizeof(badst[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"type\":\"process_list\","
		    "\"processes\":[{\"name\":\"p\",\"instances\":1,"
		    "\"running\":0,\"status\":%s,\"cpu_percent\":null,"
		    "\"memory_bytes\":null,\"uptime_secs\":null,"
		    "\"restart_count\":0}]}", badst[i]);
		resp_bad(buf);
	}
}

static void
test_float_render(void **state)
{
	struct apm2_resp	 r2;
	struct jw		 w;
	char			 ref[64], *out, err[128], line[256];
	uint32_t		 bits;
	float			 f;
	int			 i;

	assert_string_equal(f32s(0.0f), "0.0");
	assert_string_equal(f32s(-0.0f), "-0.0");
	assert_string_equal(f32s(1.5f), "1.5");
	assert_string_equal(f32s(0.1f), "0.1");
	assert_string_equal(f32s(100.0f), "100.0");
	assert_string_equal(f32s(1.0f), "1.0");
	assert_string_equal(f32s(-2.25f), "-2.25");
	assert_string_equal(f32s(3.3333333f), "3.3333333");
	assert_string_equal(f32s(10.0f / 3.0f), "3.3333333");
	assert_string_equal(f32s(0.3f), "0.3");
	assert_string_equal(f32s(99.9f), "99.9");
	assert_string_equal(f32s(1e16f), "1e16");
	assert_string_equal(f32s(1.5e16f), "1.5e16");
	assert_string_equal(f32s(1e13f), "1e13");
	assert_string_equal(f32s(1e12f), "1000000000000.0");
	assert_string_equal(f32s(1234567e6f), "1234567000000.0");
	assert_string_equal(f32s(123456789.0f), "123456790.0");
	assert_string_equal(f32s(16777216.0f), "16777216.0");
	assert_string_equal(f32s(1e-7f), "1e-7");
	assert_string_equal(f32s(1.25e-7f), "1.25e-7");
	assert_string_equal(f32s(1e-6f), "0.000001");
	assert_string_equal(f32s(1.5e-5f), "0.000015");
	assert_string_equal(f32s(3.4028235e38f), "3.4028235e38");
	assert_string_equal(f32s(1.17549435e-38f), "1.1754944e-38");
	assert_string_equal(f32s(1.4e-45f), "1e-45");
	assert_string_equal(f32s(-1e-45f), "-1e-45");

	/* Non-finite values render as null, as serde_json writes them. */
	jw_init(&w);
	jw_f32(&w, strtof("nan", NULL));
	jw_char(&w, ' ');
	jw_f32(&w, strtof("-inf", NULL));
	out = jw_detach(&w, NULL);
	assert_string_equal(out, "null null");
	free(out);

	/* Against the brute-force reference, and back through the parser. */
	rng_seed(12345);
	for (i = 0; i < 30000; i++) {
		bits = rng();
		if (i < 512)		/* powers of two: asymmetric gaps */
			bits = (uint32_t)(i / 2) << 23 | (uint32_t)(i & 1);
		else if (i % 2)		/* 1e-8 .. 1e12: the u64 fast path */
			bits = (bits & 0x807fffff) |
			    (uint32_t)(100 + rng() % 67) << 23;
		memcpy(&f, &bits, sizeof(f));
		if (!(f == f) || f - f != 0.0f || f == 0.0f)
			continue;
		assert_int_equal(brute_f32(f, ref), 0);
		assert_string_equal(f32s(f), ref);
		if (i % 16 != 0)
			continue;
		snprintf(line, sizeof(line), "{\"type\":\"process_list\","
		    "\"processes\":[{\"name\":\"p\",\"instances\":1,"
		    "\"running\":0,\"status\":\"Running\",\"cpu_percent\":"
		    "%s,\"restart_count\":0}]}", ref);
		assert_int_equal(resp_parse_n(line, strlen(line), &r2, err,
		    sizeof(err)), 0);
		assert_int_equal(r2.procs[0].has_cpu, 1);
		assert_memory_equal(&r2.procs[0].cpu_percent, &f, sizeof(f));
		apm2_resp_free(&r2);
	}
}

/* cpu_percent as written in a process_list: 0 and *f, or -1. */
static int
cpu_parse(const char *lit, float *f)
{
	struct apm2_resp r;
	char		*b, err[256];
	size_t		 n = strlen(lit) + 256;
	int		 rc;

	b = malloc(n);
	assert_non_null(b);
	snprintf(b, n, "{\"type\":\"process_list\",\"processes\":[{\"name\":"
	    "\"p\",\"instances\":1,\"running\":0,\"status\":\"Running\","
	    "\"cpu_percent\":%s,\"restart_count\":0}]}", lit);
	rc = resp_parse_n(b, strlen(b), &r, err, sizeof(err));
	if (rc == 0) {
		assert_int_equal(r.procs[0].has_cpu, 1);
		*f = r.procs[0].cpu_percent;
	}
	apm2_resp_free(&r);
	free(b);
	return (rc);
}

static void
test_float_parse(void **state)
{
	static const struct {
		const char	*lit;
		float		 want;
	} t[] = {
		{ "1.5", 1.5f }, { "0", 0.0f }, { "-0.0", -0.0f },
		{ "100", 100.0f },
		{ "1e2", 100.0f }, { "1E+2", 100.0f }, { "12.5e-1", 1.25f },
		{ "0.000001", 1e-6f }, { "0.1", 0.1f },
		{ "3.3333333", 3.3333333f }, { "1e-50", 0.0f },
		{ "0.0000000000000000000000000000000000000000000"
		    "1", 1e-44f },
		{ "340282346638528859811704183484516925440", 3.4028235e38f },
		/* A tie: to even. */
		{ "1.000000059604644775390625", 1.0f },
		/*
		 * Just past the tie: read through a double, as serde_json
		 * reads an f32, it is a tie again (jsonv rounded once).
		 */
		{ "1.000000059604644775390626", 1.0f },
		{ "1.000000059604645", 1.00000012f }
	};
	float		 f;
	size_t		 i, n;
	char		*b;

	/* Very long literals: every digit counts. */
	b = malloc(4096);
	assert_non_null(b);
	n = (size_t)snprintf(b, 4096, "1");
	for (i = 0; i < 1000; i++)
		b[n++] = '0';
	snprintf(b + n, 4096 - n, "e-999");
	assert_int_equal(cpu_parse(b, &f), 0);
	assert_true(f == 10.0f);
	n = (size_t)snprintf(b, 4096, "0.");
	for (i = 0; i < 1000; i++)
		b[n++] = '0';
	snprintf(b + n, 4096 - n, "25e1001");
	assert_int_equal(cpu_parse(b, &f), 0);
	assert_true(f == 2.5f);
	/* Exactly halfway, then a 1 far beyond: a tie in a double. */
	n = (size_t)snprintf(b, 4096, "1.000000059604644775390625");
	for (i = 0; i < 900; i++)
		b[n++] = '0';
	b[n++] = '1';
	b[n] = '\0';
	assert_int_equal(cpu_parse(b, &f), 0);
	assert_true(f == 1.0f);
	b[n - 1] = '0';
	assert_int_equal(cpu_parse(b, &f), 0);
	assert_true(f == 1.0f);
	free(b);

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(cpu_parse(t[i].lit, &f), 0);
		if (memcmp(&f, &t[i].want, sizeof(f)) != 0)
			fail_msg("%s: got %g", t[i].lit, (double)f);
	}
	/*
	 * Out of f32 range.  The largest double that still rounds to
	 * FLT_MAX, and the halfway point to 2^128, which does not.
	 */
	assert_int_equal(cpu_parse("1e39", &f), -1);
	assert_int_equal(cpu_parse("-1e400", &f), -1);
	assert_int_equal(cpu_parse("1e400", &f), -1);
	assert_int_equal(cpu_parse("340282356779733623858607532500980858880",
	    &f), 0);
	assert_true(f == 3.4028235e38f);
	assert_int_equal(cpu_parse("340282356779733661637539395458142568448",
	    &f), -1);
	assert_int_equal(cpu_parse("\"1\"", &f), -1);
}

static void
test_time(void **state)
{
	static const struct {
		int64_t		 sec;
		long		 nsec;
		const char	*s;
	} t[] = {
		{ T2026, 0, "2026-01-25T13:12:44Z" },
		{ T2026, 123000000, "2026-01-25T13:12:44.123Z" },
		{ T2026, 123456000, "2026-01-25T13:12:44.123456Z" },
		{ T2026, 123456789, "2026-01-25T13:12:44.123456789Z" },
		{ T2026, 100000000, "2026-01-25T13:12:44.100Z" },
		{ T2026, 1000, "2026-01-25T13:12:44.000001Z" },
		{ T2026, 1, "2026-01-25T13:12:44.000000001Z" },
		{ T2026, 999999999, "2026-01-25T13:12:44.999999999Z" },
		{ T2026, 120000000, "2026-01-25T13:12:44.120Z" },
		{ 0, 0, "1970-01-01T00:00:00Z" },
		{ -1, 0, "1969-12-31T23:59:59Z" },
		{ -1, 500000000, "1969-12-31T23:59:59.500Z" },
		{ 951868799, 0, "2000-02-29T23:59:59Z" },
		{ -62135596800LL, 0, "0001-01-01T00:00:00Z" },
		{ 253402300799LL, 0, "9999-12-31T23:59:59Z" },
		{ 253402300800LL, 0, "+10000-01-01T00:00:00Z" },
		{ 1483228799, 1000000000, "2016-12-31T23:59:60Z" },
		{ 1483228799, 1500000000, "2016-12-31T23:59:60.500Z" }
	};
	static const struct {
		const char	*s;
		int64_t		 sec;
		long		 nsec;
	} in[] = {
		{ "2026-01-25T14:12:44+01:00", T2026, 0 },
		{ "2026-01-25T07:42:44.5-05:30", T2026, 500000000 },
		{ "2026-01-25t13:12:44z", T2026, 0 },
		{ "2026-01-25 13:12:44Z", T2026, 0 },
		{ "2026-01-25T13:12:44.1234567891234Z", T2026, 123456789 },
		{ "2026-01-25T13:12:44-00:00", T2026, 0 },
		{ "2026-01-26T00:00:00+23:59", 1769299260LL, 0 }
	};
	static const char *const bad[] = {
		"", "2026-01-25", "2026-01-25T13:12:44",
		"2026-01-25T13:12:44ZZ",
		"2026-13-25T13:12:44Z", "2026-00-25T13:12:44Z",
		"2026-02-29T13:12:44Z", "1900-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-01-00T00:00:00Z",
		"2026-01-25T24:00:00Z", "2026-01-25T13:60:00Z",
		"2026-01-25T13:12:61Z", "2026-01-25T13:12:44.Z",
		"2026-01-25T13:12:44+0100", "2026-01-25T13:12:44+24:00",
		"2026-01-25T13:12:44+01:60", "2026-01-25X13:12:44Z",
		"26-01-25T13:12:44Z", "2026-1-25T13:12:44Z",
		"+2026-01-25T13:12:44Z", "2026-01-25T13:12:44 Z",
		"2026-01-25T13:12:44.123"
	};
	struct apm2_time tm;
	char		 b[APM2_TIME_MAX];
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		tm.sec = t[i].sec;
		tm.nsec = t[i].nsec;
		apm2_time_rfc3339(&tm, b, sizeof(b));
		assert_string_equal(b, t[i].s);
		if (t[i].s[0] == '+')
			continue;	/* outside RFC 3339's four digits */
		assert_int_equal(apm2_time_parse_rfc3339(t[i].s, &tm), 0);
		assert_int_equal(tm.sec, t[i].sec);
		assert_int_equal(tm.nsec, t[i].nsec);
	}
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		if (apm2_time_parse_rfc3339(in[i].s, &tm) != 0)
			fail_msg("rejected %s", in[i].s);
		assert_int_equal(tm.sec, in[i].sec);
		assert_int_equal(tm.nsec, in[i].nsec);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (apm2_time_parse_rfc3339(bad[i], &tm) == 0)
			fail_msg("accepted %s", bad[i]);
	/* Years before 0 get a sign, as chrono writes them. */
	tm.sec = -62135596800LL - 366 * 86400LL;
	tm.nsec = 0;
	apm2_time_rfc3339(&tm, b, sizeof(b));
	assert_string_equal(b, "0000-01-01T00:00:00Z");
	tm.sec -= 365 * 86400LL;
	apm2_time_rfc3339(&tm, b, sizeof(b));
	assert_string_equal(b, "-0001-01-01T00:00:00Z");
	/* Out-of-range nanoseconds carry into the seconds. */
	tm.sec = 0;
	tm.nsec = -1;
	apm2_time_rfc3339(&tm, b, sizeof(b));
	assert_string_equal(b, "1969-12-31T23:59:59.999999999Z");
	/* The extremes do not overflow. */
	tm.sec = INT64_MAX;
	tm.nsec = 0;
	apm2_time_rfc3339(&tm, b, sizeof(b));
	tm.sec = INT64_MIN;
	apm2_time_rfc3339(&tm, b, sizeof(b));
	tm.nsec = -1;
	apm2_time_rfc3339(&tm, b, sizeof(b));
	tm.sec = INT64_MAX;
	tm.nsec = 2000000001L;
	apm2_time_rfc3339(&tm, b, sizeof(b));
	tm.sec = 0;
	apm2_time_rfc3339(&tm, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:02.000000001Z");
	/* A short buffer truncates but stays terminated. */
	tm.sec = T2026;
	apm2_time_rfc3339(&tm, b, 5);
	assert_string_equal(b, "2026");
}

static void
test_string_escaping(void **state)
{
	static const struct {
		const char	*in;
		size_t		 n;
		const char	*out;
	} t[] = {
		{ "hello", 5, "\"hello\"" },
		{ "", 0, "\"\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"" },
		{ "\x01\x1f\x0b", 3, "\"\\u0001\\u001f\\u000b\"" },
		{ "\0x", 2, "\"\\u0000x\"" },
		{ "a/b", 3, "\"a/b\"" },
		{ "\x7f", 1, "\"\x7f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		/* Invalid UTF-8: one U+FFFD per maximal subpart. */
		{ "a\xff" "b", 3, "\"a\xef\xbf\xbd" "b\"" },
		{ "\xf0\x90\x80", 3, "\"\xef\xbf\xbd\"" },
		{ "\xe0\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xed\xa0\x80", 3,
		    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xe2\x82", 2, "\"\xef\xbf\xbd\"" },
		{ "\xe2\x82x", 3, "\"\xef\xbf\xbdx\"" },
		{ "\xf1\x80\x80\xc0", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xf5\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xe2\x82\n", 3, "\"\xef\xbf\xbd\\n\"" },
		{ "\xc3", 1, "\"\xef\xbf\xbd\"" }
	};
	struct apm2_resp	 r2;
	struct jw		 w;
	char			*out, err[128];
	size_t			 i, len;
	unsigned int		 c;
	char			 all[256];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		out = strrender(t[i].in, t[i].n);
		assert_string_equal(out, t[i].out);
		free(out);
	}
	jw_init(&w);
	jw_strz(&w, NULL);
	jw_strz(&w, "x");
	out = jw_detach(&w, &len);
	assert_string_equal(out, "null\"x\"");
	assert_int_equal(len, 7);
	free(out);

	/* Every byte value in log content is written and parses back. */
	for (c = 0; c < 256; c++)
		all[c] = (char)c;
	for (i = 128; i <= 256; i += 128) {
		jw_init(&w);
		jw_rawz(&w, "{\"type\":\"log_lines\",\"lines\":[{\"timestamp\":"
		    "\"2026-01-25T13:12:44Z\",\"process_name\":\"web\","
		    "\"instance\":0,\"stream\":\"stderr\",\"content\":");
		jw_str(&w, all, i);
		jw_rawz(&w, "}]}");
		out = jw_detach(&w, &len);
		assert_non_null(out);
		assert_int_equal(resp_parse_n(out, len, &r2, err, sizeof(err)),
		    0);
		if (i == 128) {		/* ASCII, NUL included */
			assert_int_equal(r2.lines[0].content_len, 128);
			assert_memory_equal(r2.lines[0].content, all, 128);
		} else {		/* 0x80-0xff: each one U+FFFD */
			assert_int_equal(r2.lines[0].content_len,
			    128 + 128 * 3);
			assert_memory_equal(r2.lines[0].content + 128,
			    "\xef\xbf\xbd", 3);
		}
		apm2_resp_free(&r2);
		free(out);
	}
}

/*
 * Section 1.5: every example parses.  test_render.c writes each one the
 * daemon sends and checks what this parser makes of it; the credential
 * responses, which no one sends yet, are checked here.
 */
static void
test_resp_golden(void **state)
{
	static const char *const lines[] = {
		RESP_PONG_LINE, RESP_STATUS_LINE, RESP_LIST_LINE,
		RESP_EMPTYLIST_LINE, RESP_DETAILS_LINE, RESP_OK_LINE,
		RESP_OKNULL_LINE, RESP_ERROR_LINE, RESP_LOG_LINE,
		RESP_CREDLIST_LINE, RESP_CREDDET_LINE
	};
	struct apm2_resp	 r;
	size_t			 i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(resp_parse_s(lines[i], &r), 0);
		apm2_resp_free(&r);
	}
	assert_int_equal(resp_parse_s(RESP_CREDLIST_LINE, &r), 0);
	assert_int_equal(r.type, RESP_CREDENTIAL_LIST);
	assert_int_equal(r.nprofiles, 1);
	assert_string_equal(r.profiles[0].id, "claude-work");
	assert_string_equal(r.profiles[0].provider, "claude");
	assert_null(r.profiles[0].label);
	assert_string_equal(r.profiles[0].auth_method, "api_key");
	assert_int_equal(r.profiles[0].has_expires, 0);
	assert_int_equal(r.profiles[0].created_at.sec, T2026);
	assert_int_equal(r.profiles[0].created_at.nsec, 0);
	assert_int_equal(r.profiles[0].has_last_used, 1);
	assert_int_equal(r.profiles[0].last_used_at.sec, T2026);
	assert_int_equal(r.profiles[0].last_used_at.nsec, 123000000);
	apm2_resp_free(&r);
	assert_int_equal(resp_parse_s(RESP_CREDDET_LINE, &r), 0);
	assert_int_equal(r.type, RESP_CREDENTIAL_DETAILS);
	assert_string_equal(r.profile.id, "gemini-main");
	assert_string_equal(r.profile.label, "Main");
	assert_int_equal(r.profile.created_at.nsec, 123456000);
	apm2_resp_free(&r);
}

/* Parsed responses carry the values, not just the same text. */
static void
test_resp_parse_values(void **state)
{
	struct apm2_resp r;
	char		 err[128];

	assert_int_equal(resp_parse_n(RESP_DETAILS_LINE,
	    strlen(RESP_DETAILS_LINE), &r, err, sizeof(err)), 0);
	assert_int_equal(r.type, RESP_PROCESS_DETAILS);
	assert_string_equal(r.proc.name, "web");
	assert_string_equal(r.proc.id, "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b");
	assert_int_equal(r.proc.nargs, 2);
	assert_string_equal(r.proc.args[1], "http.server");
	assert_string_equal(r.proc.cwd, "/srv");
	assert_int_equal(r.proc.ninst, 2);
	assert_int_equal(r.proc.inst[0].pid, 4242);
	assert_int_equal(r.proc.inst[0].has_pid, 1);
	assert_int_equal(r.proc.inst[1].has_pid, 0);
	assert_int_equal(r.proc.inst[1].state.kind, ST_STOPPED);
	assert_null(r.proc.credential_profile);
	apm2_resp_free(&r);

	assert_int_equal(resp_parse_n(RESP_CREDDET_LINE,
	    strlen(RESP_CREDDET_LINE), &r, err, sizeof(err)), 0);
	assert_int_equal(r.profile.expires_at.sec, T2026);
	assert_int_equal(r.profile.expires_at.nsec, 123456789);
	assert_int_equal(r.profile.has_last_used, 0);
	apm2_resp_free(&r);

	assert_int_equal(resp_parse_n(RESP_STATUS_LINE,
	    strlen(RESP_STATUS_LINE), &r, err, sizeof(err)), 0);
	assert_int_equal(r.pid, 1234);
	assert_int_equal(r.running_instances, 1);
	apm2_resp_free(&r);

	/* Missing Option fields mean null; unknown keys are ignored. */
	assert_int_equal(resp_parse_s("{\"type\":\"ok\",\"x\":1}", &r), 0);
	assert_null(r.message);
	apm2_resp_free(&r);

	/* u64 extremes come from the literal, not a double. */
	assert_int_equal(resp_parse_s("{\"type\":\"pong\",\"version\":\"v\","
	    "\"uptime_secs\":18446744073709551615}", &r), 0);
	assert_true(r.uptime_secs == UINT64_MAX);
	apm2_resp_free(&r);
	assert_int_equal(resp_parse_s("{\"type\":\"pong\",\"version\":\"v\","
	    "\"uptime_secs\":9007199254740993}", &r), 0);
	assert_true(r.uptime_secs == 9007199254740993ULL);
	apm2_resp_free(&r);

	/* Other UUID spellings normalise to lowercase hyphenated. */
	assert_int_equal(resp_parse_s("{\"type\":\"process_details\","
	    "\"process\":{\"name\":\"w\",\"id\":"
	    "\"{6F1C2A9E-3B4D-4E5F-8A7B-1C2D3E4F5A6B}\",\"command\":\"c\","
	    "\"args\":[],\"instances\":0,\"instance_details\":[]}}", &r), 0);
	assert_string_equal(r.proc.id, "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b");
	assert_null(r.proc.cwd);
	apm2_resp_free(&r);
}

static void
test_resp_rejected(void **state)
{
	resp_bad("{}");
	resp_bad("[]");
	resp_bad("{\"type\":\"Pong\",\"version\":\"v\",\"uptime_secs\":1}");
	resp_bad("{\"type\":\"ping\"}");
	resp_bad("{\"type\":\"pong\",\"version\":\"v\"}");
	resp_bad("{\"type\":\"pong\",\"version\":\"v\",\"uptime_secs\":-1}");
	resp_bad("{\"type\":\"pong\",\"version\":\"v\",\"uptime_secs\":1.5}");
	resp_bad("{\"type\":\"pong\",\"version\":\"v\","
	    "\"uptime_secs\":18446744073709551616}");
	resp_bad("{\"type\":\"pong\",\"version\":null,\"uptime_secs\":1}");
	resp_bad("{\"type\":\"pong\",\"version\":\"a\\u0000\","
	    "\"uptime_secs\":1}");
	resp_bad("{\"type\":\"status\",\"version\":\"v\",\"pid\":4294967296,"
	    "\"uptime_secs\":1,\"process_count\":0,\"running_instances\":0}");
	resp_bad("{\"type\":\"status\",\"version\":\"v\",\"pid\":1,"
	    "\"uptime_secs\":1,\"process_count\":0}");
	resp_bad("{\"type\":\"process_list\"}");
	resp_bad("{\"type\":\"process_list\",\"processes\":{}}");
	resp_bad("{\"type\":\"process_list\",\"processes\":[1]}");
	resp_bad("{\"type\":\"process_list\",\"processes\":[{\"name\":\"a\","
	    "\"instances\":1,\"running\":0,\"status\":\"Running\","
	    "\"cpu_percent\":\"x\",\"restart_count\":0}]}");
	resp_bad("{\"type\":\"process_list\",\"processes\":[{\"name\":\"a\","
	    "\"instances\":1,\"running\":0,\"status\":\"Running\","
	    "\"cpu_percent\":1e39,\"restart_count\":0}]}");
	resp_bad("{\"type\":\"process_list\",\"processes\":[{\"name\":\"a\","
	    "\"instances\":1,\"running\":0,\"status\":\"Running\"}]}");
	resp_bad("{\"type\":\"process_details\"}");
	resp_bad("{\"type\":\"process_details\",\"process\":{\"name\":\"w\","
	    "\"id\":\"not-a-uuid\",\"command\":\"c\",\"args\":[],"
	    "\"instances\":0,\"instance_details\":[]}}");
	resp_bad("{\"type\":\"process_details\",\"process\":{\"name\":\"w\","
	    "\"id\":\"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b\",\"command\":\"c\","
	    "\"args\":[1],\"instances\":0,\"instance_details\":[]}}");
	resp_bad("{\"type\":\"process_details\",\"process\":{\"name\":\"w\","
	    "\"id\":\"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b\",\"command\":\"c\","
	    "\"args\":[\"a\",\"b\"],\"instances\":0,\"instance_details\":"
	    "[{\"index\":0}]}}");
	resp_bad("{\"type\":\"log_lines\",\"lines\":[{\"timestamp\":"
	    "\"yesterday\",\"process_name\":\"web\",\"instance\":0,"
	    "\"stream\":\"stdout\",\"content\":\"hello\"}]}");
	resp_bad("{\"type\":\"log_lines\",\"lines\":[{\"timestamp\":"
	    "\"2026-01-25T13:12:44Z\",\"process_name\":\"web\",\"instance\":0,"
	    "\"stream\":\"stdout\"}]}");
	resp_bad("{\"type\":\"credential_list\",\"profiles\":[{\"id\":\"c\","
	    "\"provider\":\"claude\",\"label\":null,\"auth_method\":"
	    "\"api_key\",\"expires_at\":null,\"last_used_at\":null}]}");
	resp_bad("{\"type\":\"credential_details\",\"profile\":[]}");
	/* A NUL inside a timestamp: rejected, and nothing leaks (LSan). */
	resp_bad("{\"type\":\"log_lines\",\"lines\":[{\"timestamp\":"
	    "\"2026-01-25T13:12:44Z\\u0000\",\"process_name\":\"web\","
	    "\"instance\":0,\"stream\":\"stdout\",\"content\":\"\"}]}");
	resp_bad("{\"type\":\"credential_details\",\"profile\":{\"id\":\"c\","
	    "\"provider\":\"p\",\"auth_method\":\"oauth\",\"created_at\":"
	    "\"\\u00002026-01-25T13:12:44Z\"}}");
}

/* Replies without the optional fields parse as they always did. */
static void
test_resp_no_limits(void **state)
{
	struct apm2_resp r;
	size_t		 i;

	assert_int_equal(resp_parse_s(RESP_DETAILS_LINE, &r), 0);
	assert_int_equal(r.type, RESP_PROCESS_DETAILS);
	assert_null(r.proc.limits);
	assert_int_equal(r.proc.nlimits, 0);
	assert_int_equal(r.proc.ninst, 2);
	for (i = 0; i < r.proc.ninst; i++)
		assert_null(r.proc.inst[i].exit_reason);
	assert_int_equal(r.proc.inst[1].state.kind, ST_STOPPED);
	assert_null(r.proc.credential_profile);
	apm2_resp_free(&r);

	assert_int_equal(resp_parse_s(details("", ""), &r), 0);
	assert_string_equal(r.proc.command, "sleep");
	assert_int_equal(r.proc.ninst, 1);
	assert_int_equal(r.proc.inst[0].restart_count, 2);
	assert_int_equal(r.proc.inst[0].state.kind, ST_CRASHED);
	assert_null(r.proc.inst[0].exit_reason);
	assert_null(r.proc.limits);
	assert_int_equal(r.proc.nlimits, 0);
	apm2_resp_free(&r);

	/* null is none, as for the other optional fields; [] is empty. */
	assert_int_equal(resp_parse_s(details(",\"exit_reason\":null",
	    ",\"limits\":null"), &r), 0);
	assert_null(r.proc.inst[0].exit_reason);
	assert_null(r.proc.limits);
	assert_int_equal(r.proc.nlimits, 0);
	apm2_resp_free(&r);
	assert_int_equal(resp_parse_s(details("", ",\"limits\":[]"), &r), 0);
	assert_int_equal(r.proc.nlimits, 0);
	apm2_resp_free(&r);
}

/* "limits" and "exit_reason", as the daemon writes them. */
static void
test_resp_limits(void **state)
{
	struct apm2_resp r;

	assert_int_equal(resp_parse_s(details(",\"exit_reason\":"
	    "\"oom_killed\"", ",\"limits\":[{\"name\":\"nproc\","
	    "\"value\":64,\"in_force\":true,\"reason\":null},"
	    "{\"name\":\"memory_max\",\"value\":536870912,"
	    "\"in_force\":false,\"reason\":\"the memory controller is not "
	    "available in the unified cgroup hierarchy "
	    "(/sys/fs/cgroup/unified)\"},"
	    "{\"name\":\"as\",\"value\":18446744073709551615,"
	    "\"in_force\":true,\"reason\":null}]"), &r), 0);
	assert_string_equal(r.proc.inst[0].exit_reason, "oom_killed");
	assert_int_equal(r.proc.inst[0].restart_count, 2);
	assert_null(r.proc.credential_profile);
	assert_int_equal(r.proc.nlimits, 3);
	assert_string_equal(r.proc.limits[0].name, "nproc");
	assert_true(r.proc.limits[0].value == 64);
	assert_int_equal(r.proc.limits[0].in_force, 1);
	assert_null(r.proc.limits[0].reason);
	assert_string_equal(r.proc.limits[1].name, "memory_max");
	assert_true(r.proc.limits[1].value == 536870912);
	assert_int_equal(r.proc.limits[1].in_force, 0);
	assert_string_equal(r.proc.limits[1].reason, "the memory controller "
	    "is not available in the unified cgroup hierarchy "
	    "(/sys/fs/cgroup/unified)");
	/* u64 from the literal: 2^64-1 survives. */
	assert_string_equal(r.proc.limits[2].name, "as");
	assert_true(r.proc.limits[2].value == UINT64_MAX);
	apm2_resp_free(&r);

	/*
	 * Any exit reason and any non-empty limit name is kept for newer
	 * daemons; a reason may be missing, and unknown keys are ignored
	 * as everywhere else.
	 */
	assert_int_equal(resp_parse_s(details(",\"exit_reason\":\"x\\u001b\"",
	    ",\"limits\":[{\"name\":\"gpu_max\",\"value\":0,"
	    "\"in_force\":false,\"unit\":\"%\"}]"), &r), 0);
	assert_string_equal(r.proc.inst[0].exit_reason, "x\x1b");
	assert_int_equal(r.proc.nlimits, 1);
	assert_string_equal(r.proc.limits[0].name, "gpu_max");
	assert_true(r.proc.limits[0].value == 0);
	assert_int_equal(r.proc.limits[0].in_force, 0);
	assert_null(r.proc.limits[0].reason);
	apm2_resp_free(&r);
}

/* Each wrong type in the new fields is an error, and nothing leaks. */
static void
test_resp_limits_rejected(void **state)
{
	static const char	 ok[] = "{\"name\":\"nofile\",\"value\":1024,"
	    "\"in_force\":true,\"reason\":null}";
	static const struct {
		const char	*limits;
		const char	*err;
	} t[] = {
		{ "{\"name\":\"nproc\",\"value\":-1,\"in_force\":true}",
		    "field \"value\": expected an unsigned 64-bit integer" },
		{ "{\"name\":\"nproc\",\"value\":\"64\",\"in_force\":true}",
		    "field \"value\": expected an unsigned 64-bit integer" },
		{ "{\"name\":\"nproc\",\"value\":1.5,\"in_force\":true}",
		    "field \"value\": expected an unsigned 64-bit integer" },
		{ "{\"name\":\"nproc\",\"value\":18446744073709551616,"
		    "\"in_force\":true}",
		    "field \"value\": expected an unsigned 64-bit integer" },
		{ "{\"name\":\"nproc\",\"value\":null,\"in_force\":true}",
		    "field \"value\": expected an unsigned 64-bit integer" },
		{ "{\"name\":\"nproc\",\"in_force\":true}",
		    "missing field \"value\"" },
		{ "{\"name\":\"nproc\",\"value\":1,\"in_force\":\"true\"}",
		    "field \"in_force\": expected a boolean, got string" },
		{ "{\"name\":\"nproc\",\"value\":1,\"in_force\":1}",
		    "field \"in_force\": expected a boolean, got number" },
		{ "{\"name\":\"nproc\",\"value\":1,\"in_force\":null}",
		    "field \"in_force\": expected a boolean, got null" },
		{ "{\"name\":\"nproc\",\"value\":1}",
		    "missing field \"in_force\"" },
		{ "{\"name\":\"nproc\",\"value\":1,\"in_force\":false,"
		    "\"reason\":5}",
		    "field \"reason\": expected a string, got number" },
		{ "{\"name\":\"nproc\",\"value\":1,\"in_force\":false,"
		    "\"reason\":false}",
		    "field \"reason\": expected a string, got boolean" },
		{ "{\"name\":\"nproc\",\"value\":1,\"in_force\":false,"
		    "\"reason\":\"a\\u0000b\"}",
		    "field \"reason\": contains a NUL character" },
		{ "{\"value\":1,\"in_force\":true}",
		    "missing field \"name\"" },
		{ "{\"name\":null,\"value\":1,\"in_force\":true}",
		    "field \"name\": expected a string, got null" },
		{ "{\"name\":7,\"value\":1,\"in_force\":true}",
		    "field \"name\": expected a string, got number" },
		{ "{\"name\":\"\",\"value\":1,\"in_force\":true}",
		    "field \"name\": empty limit name" },
		{ "1", "limit must be an object" },
		{ "[]", "limit must be an object" },
		{ "null", "limit must be an object" },
		{ "\"nproc\"", "limit must be an object" }
	};
	char	 tail[512];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		/* Alone, and after a good one (a part-filled array). */
		(void)snprintf(tail, sizeof(tail), ",\"limits\":[%s]",
		    t[i].limits);
		resp_err(details("", tail), t[i].err);
		(void)snprintf(tail, sizeof(tail), ",\"limits\":[%s,%s]", ok,
		    t[i].limits);
		resp_err(details(",\"exit_reason\":\"oom_killed\"", tail),
		    t[i].err);
	}
	resp_err(details("", ",\"limits\":{}"),
	    "field \"limits\": expected an array, got object");
	resp_err(details("", ",\"limits\":\"nproc\""),
	    "field \"limits\": expected an array, got string");
	resp_err(details("", ",\"limits\":64"),
	    "field \"limits\": expected an array, got number");
	resp_err(details("", ",\"limits\":true"),
	    "field \"limits\": expected an array, got boolean");
	resp_err(details(",\"exit_reason\":5", ""),
	    "field \"exit_reason\": expected a string, got number");
	resp_err(details(",\"exit_reason\":true", ""),
	    "field \"exit_reason\": expected a string, got boolean");
	resp_err(details(",\"exit_reason\":[\"oom_killed\"]", ""),
	    "field \"exit_reason\": expected a string, got array");
	resp_err(details(",\"exit_reason\":\"oom\\u0000\"", ""),
	    "field \"exit_reason\": contains a NUL character");
	/* The JSON layer already refuses a key twice in an element. */
	resp_bad(details("", ",\"limits\":[{\"name\":\"nproc\","
	    "\"value\":1,\"value\":2,\"in_force\":true}]"));
}

static void
test_render_required(void **state)
{
	struct apm2_req		 q;

	memset(&q, 0, sizeof(q));
	q.type = REQ_GET_PROCESS;
	assert_null(apm2_req_render(&q, NULL));
	q.type = REQ_TAIL_LOGS;		/* name is optional here */
	q.lines = 7;
	q.follow = 1;
	{
		char	*s = apm2_req_render(&q, NULL);

		assert_string_equal(s, "{\"type\":\"tail_logs\",\"name\":null,"
		    "\"lines\":7,\"follow\":true}");
		free(s);
	}
	q.type = REQ__COUNT;
	assert_null(apm2_req_render(&q, NULL));
}

/* The writer's primitives, and what a failed writer gives. */
static void
test_jw_streaming(void **state)
{
	struct jw	 w;
	char		*out;

	/* Numbers at their extremes. */
	jw_init(&w);
	jw_u64(&w, UINT64_MAX);
	jw_char(&w, ' ');
	jw_i64(&w, INT64_MIN);
	jw_char(&w, ' ');
	jw_u64(&w, 0);
	jw_char(&w, ' ');
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	out = jw_detach(&w, NULL);
	assert_string_equal(out, "18446744073709551615 -9223372036854775808 "
	    "0 truefalse");
	free(out);
	/* Nothing written is an empty string, not NULL. */
	jw_init(&w);
	out = jw_detach(&w, NULL);
	assert_string_equal(out, "");
	free(out);
	/* A failed writer discards everything. */
	jw_init(&w);
	jw_rawz(&w, "x");
	w.failed = 1;
	jw_rawz(&w, "y");
	assert_null(jw_detach(&w, NULL));
	jw_free(&w);
}

static void
test_uuid(void **state)
{
	static const char *const good[] = {
		"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b",
		"6F1C2A9E-3B4D-4E5F-8A7B-1C2D3E4F5A6B",
		"6f1c2a9e3b4d4e5f8a7b1c2d3e4f5a6b",
		"{6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b}",
		"urn:uuid:6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b"
	};
	static const char *const bad[] = {
		"",
		"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6",
		"6f1c2a9e_3b4d-4e5f-8a7b-1c2d3e4f5a6b",
		"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6g",
		"6f1c2a9e3b4d-4e5f-8a7b1c2d3e4f5a6bxx",
		"{6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b",
		"6f1c2a9e-3b4d4-e5f-8a7b-1c2d3e4f5a6b"
	};
	char	 out[37];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(apm2_uuid_parse(good[i], strlen(good[i]), out),
		    0);
		assert_string_equal(out,
		    "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(apm2_uuid_parse(bad[i], strlen(bad[i]), out),
		    -1);
}

/* Upstream 9 "IPC": start_process and ok-with-message round-trip. */
static void
test_upstream_ipc(void **state)
{
	struct apm2_req		 q, q2;
	struct apm2_resp	 r;
	char			*s, err[64];
	size_t			 n;

	memset(&q, 0, sizeof(q));
	q.type = REQ_START_PROCESS;
	q.name = (char *)(uintptr_t)"test-process";
	s = apm2_req_render(&q, &n);
	assert_non_null(strstr(s, "start_process"));
	assert_non_null(strstr(s, "test-process"));
	assert_int_equal(req_parse_n(s, n, &q2, err, sizeof(err)), 0);
	assert_int_equal(q2.type, REQ_START_PROCESS);
	assert_string_equal(q2.name, "test-process");
	apm2_req_free(&q2);
	free(s);

	assert_int_equal(resp_parse_s("{\"type\":\"ok\",\"message\":"
	    "\"Success\"}", &r), 0);
	assert_int_equal(r.type, RESP_OK);
	assert_string_equal(r.message, "Success");
	apm2_resp_free(&r);
}

/*
 * What cJSON alone accepts and JSON does not: the scan in front of it
 * must refuse each one, in a request, in a reply and as a key.
 */
static void
test_cjson_laxities(void **state)
{
	static const char *const values[] = {
		"01", "-01", "1.", "-.5", "1.e5", "1e", "1e+", "-", "1.5.3",
		"1e5e5", "1-2", "1+2", "\"\\uzzzz\"", "\"\\u00G0\"",
		"\"a\tb\"", "\"a\x01\"", "\"\x7f\xff\"", "\"\\ud800\"",
		"\"\\udc00\"", "\"\\ud800\\u0041\"", "tru", "nul", "truex",
		"True", "NaN", "Infinity", "-Infinity", "0x10", "[1,]",
		"{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{1:2}", "[}", "{]"
	};
	static const char *const around[] = {
		"\xef\xbb\xbf{\"type\":\"ping\"}",	/* BOM */
		"{\"type\":\"ping\"}\x0c", "\x0c{\"type\":\"ping\"}",
		"{\"type\":\x0b\"ping\"}", "{\"type\":\x01\"ping\"}",
		"{\"type\"\x1f:\"ping\"}", "{\"type\":\"ping\"}\x7f",
		"{\"type\":\"ping\"} x"
	};
	char	 buf[256];
	size_t	 i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"type\":\"ping\",\"x\":%s}",
		    values[i]);
		req_bad(buf);
		snprintf(buf, sizeof(buf), "{\"type\":\"ok\",\"x\":[%s]}",
		    values[i]);
		resp_bad(buf);
	}
	for (i = 0; i < sizeof(around) / sizeof(around[0]); i++)
		req_bad(around[i]);
	/* NUL as whitespace (cJSON's buffer_skip_whitespace). */
	req_bad_n("{\"type\":\"ping\"}\0 ", 17);
	req_bad_n("{\"type\":\0\"ping\"}", 16);
	/*
	 * And what it must still let through.  (A cJSON older than 1.7.19,
	 * unless patched as Debian's is, stops numbers at 63 characters.)
	 */
	req_ok("{\"type\":\"ping\",\"x\":[0,-0,1.5,-1e-5,1E+2,2e400,"
	    "12345678901234567890123456789012345678901234567890123456789"
	    "012345678901234567890]}");
	req_ok("{\"type\":\"ping\",\"x\":\"\\ud83d\\ude00\\u0000\\/\"}");
}

/* A \u0000 in a key or a value is neither dropped nor a terminator. */
static void
test_nul_escapes(void **state)
{
	struct apm2_req	 r;
	struct apm2_resp rr;
	char		 err[256], *buf;
	const char	*s;
	size_t		 i, o, cap = 64 * 1024;

	/* Not "type", whatever cJSON's C string says. */
	s = "{\"type\\u0000\":\"ping\"}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_string_equal(err, "missing field \"type\"");
	apm2_req_free(&r);
	req_bad("{\"type\\u0000x\":\"ping\"}");
	req_bad("{\"type\":\"ping\\u0000\"}");
	req_bad("{\"type\":\"get_process\",\"name\":\"a\\u0000\"}");
	/* Keys equal up to the NUL are different keys; equal ones are not. */
	req_ok("{\"type\":\"ping\",\"type\\u0000\":1}");
	req_ok("{\"type\":\"ping\",\"a\\u0000b\":1,\"a\\u0000c\":1,\"a\":1}");
	req_bad("{\"type\":\"ping\",\"a\\u0000b\":1,\"a\\u0000b\":1}");
	req_bad("{\"type\":\"ping\",\"a\\u0000\":1,\"a\\u0000\":1}");
	req_bad("{\"type\":\"ping\",\"\\u0000\\u0000\":1,"
	    "\"\\u0000\\u0000\":2}");
	req_ok("{\"type\":\"ping\",\"\\u0000\":1,\"\\u0000\\u0000\":2}");
	/* The same in an object large enough to be sorted. */
	buf = malloc(cap);
	assert_non_null(buf);
	o = (size_t)snprintf(buf, cap, "{\"type\":\"ping\"");
	for (i = 0; i < 100; i++)
		o += (size_t)snprintf(buf + o, cap - o, ",\"k\\u0000%zu\":0",
		    i);
	snprintf(buf + o, cap - o, "}");
	req_ok(buf);
	snprintf(buf + o, cap - o, ",\"k\\u000042\":1}");
	assert_int_equal(req_parse_n(buf, strlen(buf), &r, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "invalid JSON: duplicate key at byte "));
	apm2_req_free(&r);
	free(buf);

	/* Log content keeps every NUL and what follows it. */
	assert_int_equal(resp_parse_s("{\"type\":\"log_lines\",\"lines\":[{"
	    "\"timestamp\":\"2026-01-25T13:12:44Z\",\"process_name\":\"w\","
	    "\"instance\":0,\"stream\":\"stdout\",\"content\":"
	    "\"\\u0000a\\u0000\\u0000\\\\u0000b\\u0000\"}]}", &rr), 0);
	assert_int_equal(rr.lines[0].content_len, 12);
	assert_memory_equal(rr.lines[0].content, "\0a\0\0\\u0000b\0", 12);
	apm2_resp_free(&rr);
}

/* Integer fields: integral literals within the field's type only. */
static void
test_integer_fields(void **state)
{
	static const char *const bad[] = {
		"1.5", "-1", "1.0", "1e2", "1e400", "-1e400", "4294967296",
		"9007199254740993", "18446744073709551616", "1e-400", "-0.0"
	};
	char		 buf[256];
	struct apm2_resp r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* u32 */
		snprintf(buf, sizeof(buf), "{\"type\":\"tail_logs\","
		    "\"lines\":%s,\"follow\":false}", bad[i]);
		req_bad(buf);
		/* i32 */
		snprintf(buf, sizeof(buf), "{\"type\":\"process_list\","
		    "\"processes\":[{\"name\":\"p\",\"instances\":1,"
		    "\"running\":0,\"status\":{\"Crashed\":{\"exit_code\":%s}},"
		    "\"restart_count\":0}]}", bad[i]);
		if (strcmp(bad[i], "-1") != 0)
			resp_bad(buf);
		/* u64 */
		snprintf(buf, sizeof(buf), "{\"type\":\"pong\","
		    "\"version\":\"v\",\"uptime_secs\":%s}", bad[i]);
		if (strcmp(bad[i], "4294967296") != 0 &&
		    strcmp(bad[i], "9007199254740993") != 0)
			resp_bad(buf);
	}
	/* 2^53 + 1 and the i32 extremes are exact. */
	assert_int_equal(resp_parse_s("{\"type\":\"pong\",\"version\":\"v\","
	    "\"uptime_secs\":9007199254740993}", &r), 0);
	assert_true(r.uptime_secs == 9007199254740993ULL);
	apm2_resp_free(&r);
	assert_int_equal(resp_parse_s("{\"type\":\"process_list\","
	    "\"processes\":[{\"name\":\"p\",\"instances\":1,\"running\":0,"
	    "\"status\":{\"Crashed\":{\"exit_code\":-0}},"
	    "\"restart_count\":0}]}", &r), 0);
	assert_int_equal(r.procs[0].status.has_code, 1);
	assert_int_equal(r.procs[0].status.exit_code, 0);
	apm2_resp_free(&r);
}

/* {"type":T,"x":{"a":{"a":...1}}}: depth objects deep in all. */
static void
nested(char *buf, size_t cap, const char *type, int depth)
{
	size_t	 o;
	int	 i;

	o = (size_t)snprintf(buf, cap, "{\"type\":\"%s\",\"x\":", type);
	for (i = 1; i < depth; i++)
		o += (size_t)snprintf(buf + o, cap - o, "{\"a\":");
	o += (size_t)snprintf(buf + o, cap - o, "1");
	for (i = 0; i < depth; i++)
		o += (size_t)snprintf(buf + o, cap - o, "}");
}

/* Depth 64 passes in a reply too, 65 fails; objects count as arrays do. */
static void
test_depth_limit(void **state)
{
	struct apm2_resp r;
	char		 buf[1024];

	nested(buf, sizeof(buf), "ping", APM2_JSON_MAXDEPTH);
	req_ok(buf);
	nested(buf, sizeof(buf), "ping", APM2_JSON_MAXDEPTH + 1);
	req_bad(buf);
	nested(buf, sizeof(buf), "ok", APM2_JSON_MAXDEPTH);
	assert_int_equal(resp_parse_s(buf, &r), 0);
	apm2_resp_free(&r);
	nested(buf, sizeof(buf), "ok", APM2_JSON_MAXDEPTH + 1);
	resp_bad(buf);
}

/* {"type":T,"x":[0,0,...]} with n zeros. */
static size_t
zeros(char *buf, size_t cap, const char *type, size_t n)
{
	size_t	 o, i;

	o = (size_t)snprintf(buf, cap, "{\"type\":\"%s\",\"x\":[", type);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s0", i ? "," : "");
	o += (size_t)snprintf(buf + o, cap - o, "]}");
	return (o);
}

/* A request holds at most APM2_REQ_MAXITEMS keys and values. */
static void
test_item_limit(void **state)
{
	struct apm2_req	 r;
	struct apm2_resp rr;
	char		*buf, err[256];
	size_t		 n, cap = 2 * APM2_REQ_MAXITEMS + 64;

	buf = malloc(cap);
	assert_non_null(buf);
	/* The object, "type", "ping", "x", the array: five items. */
	zeros(buf, cap, "ping", APM2_REQ_MAXITEMS - 5);
	req_ok(buf);
	n = zeros(buf, cap, "ping", APM2_REQ_MAXITEMS - 4);
	assert_int_equal(req_parse_n(buf, n, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid JSON: too many values at byte "));
	apm2_req_free(&r);
	/* Replies have no such limit. */
	zeros(buf, cap, "ok", APM2_REQ_MAXITEMS);
	assert_int_equal(resp_parse_s(buf, &rr), 0);
	apm2_resp_free(&rr);
	free(buf);
}

/* Error texts are short, say what is wrong, and never echo raw bytes. */
static void
test_error_messages(void **state)
{
	struct apm2_req	 r;
	char		 err[256];
	const char	*s;

	s = "{\"type\":\"start_process\"}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_string_equal(err, "missing field \"name\"");
	s = "{\"type\":\"Ping\"}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown request type \"Ping\"");
	s = "{\"type\":\"p\\ning\"}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown request type");
	s = "{\"type\":\"ping\",\"type\":\"ping\"}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "duplicate key \"type\""));
	s = "{\"type\":\"ping\"} {}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "trailing characters at byte 16"));
	s = "{\"type\":\"tail_logs\",\"lines\":-1,\"follow\":true}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"lines\""));
	s = "{\"type\":\"ping\",\"x\":\"\xff\"}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid UTF-8 at byte 20"));
	s = "{\"type\":\"ping\",\"x\":\"\\ud800\"}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "invalid JSON: lone surrogate escape at byte 20");
	s = "{\"type\":\"ping\",\"x\":01}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "invalid JSON: leading zero in number at byte 19");
	s = "{\"type\" \"ping\"}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid JSON: syntax error at byte 8");
	s = "{\"type\":\"ping\",\"a\":{\"b\":1,\"b\":2},\"a\":0}";
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "invalid JSON: duplicate key \"b\" at byte 26");
	/* A tiny error buffer truncates safely; NULL is allowed. */
	assert_int_equal(req_parse_n(s, strlen(s), &r, err, 4), -1);
	assert_int_equal(strlen(err), 3);
	assert_int_equal(req_parse_n(s, strlen(s), &r, NULL, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_golden),
		cmocka_unit_test(test_req_type_names),
		cmocka_unit_test(test_req_accepted),
		cmocka_unit_test(test_reload_config),
		cmocka_unit_test(test_req_rejected),
		cmocka_unit_test(test_req_fields),
		cmocka_unit_test(test_req_lines_bounds),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_errcodes),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_float_render),
		cmocka_unit_test(test_float_parse),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_resp_golden),
		cmocka_unit_test(test_resp_parse_values),
		cmocka_unit_test(test_resp_rejected),
		cmocka_unit_test(test_resp_no_limits),
		cmocka_unit_test(test_resp_limits),
		cmocka_unit_test(test_resp_limits_rejected),
		cmocka_unit_test(test_render_required),
		cmocka_unit_test(test_jw_streaming),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_upstream_ipc),
		cmocka_unit_test(test_cjson_laxities),
		cmocka_unit_test(test_nul_escapes),
		cmocka_unit_test(test_integer_fields),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_item_limit),
		cmocka_unit_test(test_error_messages),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
