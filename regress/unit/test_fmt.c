/* SPDX-License-Identifier: ISC */
/*
 * test_fmt.c -- apm2ctl's formatting helpers and renderers (apm2ctl/fmt.c).
 *
 * Where every figure is there and fits upstream's columns, the expected
 * tables and detail blocks are what upstream's format! strings print for
 * the same data (generated with rustc from the upstream code), byte for
 * byte; wider values widen their columns, and null figures show as "-"
 * (issue 19).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apm2ctl/fmt.h"

#define JA	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"	/* 3 chars, 9 bytes */

static void	 want_bytes(uint64_t, const char *);
static void	 want_dur(uint64_t, const char *);
static void	 want_trunc(const char *, size_t, const char *);
static char	*render_list(const struct fmt_row *, size_t);
static char	*render_detail(const struct fmt_detail *);
static void	 want_esc(const char *, size_t, const char *);
static void	 want_limit(const char *, uint64_t, const char *);

static void
want_bytes(uint64_t n, const char *want)
{
	char	 buf[FMT_BYTES_MAX];

	fmt_bytes(n, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("%llu: \"%s\", want \"%s\"", (unsigned long long)n,
		    buf, want);
}

static void
want_dur(uint64_t n, const char *want)
{
	char	 buf[FMT_DURATION_MAX];

	fmt_duration(n, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("%llu: \"%s\", want \"%s\"", (unsigned long long)n,
		    buf, want);
}

static void
want_trunc(const char *in, size_t max, const char *want)
{
	char	 buf[128];

	memset(buf, 'x', sizeof(buf));
	fmt_truncate(in, max, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("\"%s\" (%zu): \"%s\", want \"%s\"", in, max, buf,
		    want);
	assert_true(strlen(buf) <= (max < strlen(in) ? max : strlen(in)));
}

/* fmt_esc of in[0..len) is want, and fmt_esc_write writes the same. */
static void
want_esc(const char *in, size_t len, const char *want)
{
	FILE	*fp;
	char	 buf[256], *out = NULL;
	size_t	 n, olen = 0;

	memset(buf, 'x', sizeof(buf));
	n = fmt_esc(in, len, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("\"%s\", want \"%s\"", buf, want);
	assert_int_equal(n, strlen(want));
	assert_true(n <= 4 * len);
	assert_int_equal(fmt_esc(in, len, NULL, 0), n);

	fp = open_memstream(&out, &olen);
	assert_non_null(fp);
	fmt_esc_write(fp, in, len);
	assert_int_equal(ferror(fp), 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(olen, n);
	assert_memory_equal(out, want, n);
	free(out);
}

static void
want_limit(const char *name, uint64_t v, const char *want)
{
	char	 buf[FMT_LIMIT_MAX];

	fmt_limit_value(name, v, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("%s %llu: \"%s\", want \"%s\"", name,
		    (unsigned long long)v, buf, want);
}

static char *
render_list(const struct fmt_row *rows, size_t n)
{
	FILE	*fp;
	char	*out = NULL;
	size_t	 len = 0;

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	fmt_list_table(fp, rows, n);
	assert_int_equal(ferror(fp), 0);
	assert_int_equal(fclose(fp), 0);
	return (out);
}

static char *
render_detail(const struct fmt_detail *d)
{
	FILE	*fp;
	char	*out = NULL;
	size_t	 len = 0;

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	fmt_status_detail(fp, d);
	assert_int_equal(ferror(fp), 0);
	assert_int_equal(fclose(fp), 0);
	return (out);
}

static void
t_bytes(void **state)
{
	want_bytes(0, "0B");
	want_bytes(1, "1B");
	want_bytes(512, "512B");
	want_bytes(1023, "1023B");
	want_bytes(1024, "1.0K");
	want_bytes(1536, "1.5K");			/* reference example */
	want_bytes(1280, "1.2K");			/* 1.25: ties to even */
	want_bytes(1331, "1.3K");
	want_bytes(1048575, "1024.0K");			/* rounds, stays K */
	want_bytes(1048576, "1.0M");			/* reference example */
	want_bytes(1572864, "1.5M");
	want_bytes(52428800, "50.0M");
	want_bytes(1073741823, "1024.0M");
	want_bytes(1073741824, "1.0G");
	want_bytes(1610612736, "1.5G");
	want_bytes(1099511627776ULL, "1024.0G");	/* no T unit */
	want_bytes(UINT64_MAX, "17179869184.0G");
}

static void
t_duration(void **state)
{
	want_dur(0, "0s");
	want_dur(30, "30s");
	want_dur(59, "59s");
	want_dur(60, "1m 0s");
	want_dur(90, "1m 30s");
	want_dur(3599, "59m 59s");
	want_dur(3600, "1h 0m");
	want_dur(3661, "1h 1m");
	want_dur(3725, "1h 2m");
	want_dur(86399, "23h 59m");
	want_dur(86400, "1d 0h");
	want_dur(90061, "1d 1h");
	want_dur(UINT64_MAX, "213503982334601d 7h");
}

/* Small buffers: cut, terminated, nothing written past len. */
static void
t_small_buffers(void **state)
{
	char	 buf[8];

	memset(buf, 'x', sizeof(buf));
	fmt_bytes(1536, buf, 3);
	assert_string_equal(buf, "1.");
	assert_int_equal(buf[3], 'x');
	fmt_duration(3599, buf, 4);
	assert_string_equal(buf, "59m");
	assert_int_equal(buf[4], 'x');
	fmt_float1(NAN, buf, 2);
	assert_string_equal(buf, "N");
	buf[0] = 'Q';
	fmt_truncate("abc", 20, buf, 0);
	assert_int_equal(buf[0], 'Q');
}

static void
t_float1(void **state)
{
	char	 buf[64];

	fmt_float1(0.0f, buf, sizeof(buf));
	assert_string_equal(buf, "0.0");
	fmt_float1(-0.0f, buf, sizeof(buf));
	assert_string_equal(buf, "-0.0");
	fmt_float1(0.25f, buf, sizeof(buf));
	assert_string_equal(buf, "0.2");	/* exact tie: to even */
	fmt_float1(0.05f, buf, sizeof(buf));
	assert_string_equal(buf, "0.1");	/* f32 0.05 is above the tie */
	fmt_float1(123.45f, buf, sizeof(buf));
	assert_string_equal(buf, "123.4");	/* f32 123.45 is below */
	fmt_float1(99.95f, buf, sizeof(buf));
	assert_string_equal(buf, "99.9");	/* f32 99.95 is 99.9499... */
	fmt_float1(99.96f, buf, sizeof(buf));
	assert_string_equal(buf, "100.0");
	fmt_float1(-5.55f, buf, sizeof(buf));
	assert_string_equal(buf, "-5.6");	/* f32 -5.55 is -5.5500001... */
	fmt_float1(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "NaN");
	fmt_float1(INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "inf");
	fmt_float1(-INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "-inf");
	fmt_float1(3.4e38f, buf, sizeof(buf));
	assert_string_equal(buf,
	    "339999995214436424907732413799364296704.0");
}

static void
t_state(void **state)
{
	static const struct {
		const char	*variant;
		int		 has_code;
		int32_t		 code;
		int		 rc;
		const char	*want;
	} c[] = {
		{ "Starting", 0, 0, 0, "starting" },
		{ "Running", 0, 0, 0, "running" },
		{ "Unhealthy", 0, 0, 0, "unhealthy" },
		{ "Stopping", 0, 0, 0, "stopping" },
		{ "Stopped", 0, 0, 0, "stopped" },
		{ "Stopped", 1, 0, 0, "stopped (exit code: 0)" },
		{ "Crashed", 0, 0, 0, "crashed" },
		{ "Crashed", 1, 1, 0, "crashed (exit code: 1)" },
		{ "Crashed", 1, INT32_MIN, 0,
		    "crashed (exit code: -2147483648)" },
		{ "Terminated", 0, 0, 0, "terminated" },
		{ "Running", 1, 3, 0, "running" },	/* no code to show */
		{ "running", 0, 0, -1, "unknown" },	/* wire is PascalCase */
		{ "Exploded", 0, 0, -1, "unknown" },
		{ "", 0, 0, -1, "unknown" },
		{ NULL, 0, 0, -1, "unknown" }
	};
	char	 buf[FMT_STATE_MAX], tiny[5];
	size_t	 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		assert_int_equal(fmt_state(c[i].variant, c[i].has_code,
		    c[i].code, buf, sizeof(buf)), c[i].rc);
		assert_string_equal(buf, c[i].want);
	}
	assert_int_equal(fmt_state("Stopped", 1, 0, tiny, sizeof(tiny)), 0);
	assert_string_equal(tiny, "stop");
}

static void
t_utf8_width(void **state)
{
	assert_int_equal(fmt_utf8_count("a\xc3\xa9" JA "\xf0\x9f\x98\x80",
	    1 + 2 + 9 + 4), 6);
	assert_int_equal(fmt_utf8_count("\xff\xfe\xc3", 3), 3);
	assert_int_equal(fmt_utf8_count("\xe6\x97", 2), 2);
	assert_int_equal(fmt_utf8_count("", 0), 0);
	assert_int_equal(fmt_utf8_prefix(JA, 9, 8), 6);
	assert_int_equal(fmt_utf8_prefix(JA, 9, 9), 9);
	assert_int_equal(fmt_utf8_prefix(JA, 9, 2), 0);
	assert_int_equal(fmt_utf8_prefix("abc", 3, 100), 3);
}


#define WANT_ESC(in, want)	want_esc((in), sizeof(in) - 1, (want))

/* The attacks of issue 13 part 4, and what a terminal gets instead. */
static void
t_esc(void **state)
{
	WANT_ESC("", "");
	WANT_ESC("plain text, 100% sure", "plain text, 100% sure");
	/* Tab stays; backslash stays, so forged "\x1b" text is possible. */
	WANT_ESC("a\tb\\x1b", "a\tb\\x1b");
	/* Window title, clipboard, erase line, line forged with \r. */
	WANT_ESC("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07");
	WANT_ESC("\x1b]52;c;cHduZWQ=\x1b\\",
	    "\\x1b]52;c;cHduZWQ=\\x1b\\");
	WANT_ESC("\x1b[2Kok", "\\x1b[2Kok");
	WANT_ESC("real\rforged\n", "real\\x0dforged\\x0a");
	WANT_ESC("a\0b", "a\\x00b");
	WANT_ESC("\x7f", "\\x7f");
	/* C1 controls by code point: CSI, NEL, OSC, APC, and the ends. */
	WANT_ESC("\xc2\x9b" "1m", "\\x9b1m");
	WANT_ESC("\xc2\x85\xc2\x9d\xc2\x9f\xc2\x80",
	    "\\x85\\x9d\\x9f\\x80");
	/* A raw 8-bit CSI and other bytes that are not UTF-8. */
	WANT_ESC("\x9b" "1m", "\\x9b1m");
	WANT_ESC("\x80\xbf\xfe\xff", "\\x80\\xbf\\xfe\\xff");
	WANT_ESC("\xc2", "\\xc2");			/* cut short */
	WANT_ESC("\xc2" "A", "\\xc2A");
	WANT_ESC("\xe2\x82", "\\xe2\\x82");
	WANT_ESC("\xc0\x80", "\\xc0\\x80");		/* overlong NUL */
	WANT_ESC("\xe0\x82\x9b", "\\xe0\\x82\\x9b");	/* overlong C1 */
	WANT_ESC("\xed\xa0\x80", "\\xed\\xa0\\x80");	/* surrogate */
	WANT_ESC("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	/* Printable UTF-8 as is, continuation bytes 0x80-0x9f included. */
	WANT_ESC("\xc2\xa0\xc2\xa9 caf\xc3\xa9",
	    "\xc2\xa0\xc2\xa9 caf\xc3\xa9");
	WANT_ESC("\xe2\x82\xac " JA " \xf0\x9f\x98\x80",
	    "\xe2\x82\xac " JA " \xf0\x9f\x98\x80");
	WANT_ESC("\xdb\x9b", "\xdb\x9b");		/* U+06DB */
}

/* Every single byte and every two-byte character. */
static void
t_esc_all(void **state)
{
	char	 in[2], want[8];
	int	 c;

	for (c = 0; c < 0x100; c++) {
		in[0] = (char)c;
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			(void)snprintf(want, sizeof(want), "\\x%02x", c);
		else
			(void)snprintf(want, sizeof(want), "%c", c);
		want_esc(in, 1, want);
	}
	for (c = 0x80; c < 0x800; c++) {
		in[0] = (char)(0xc0 | c >> 6);
		in[1] = (char)(0x80 | (c & 0x3f));
		if (c <= 0x9f)
			(void)snprintf(want, sizeof(want), "\\x%02x", c);
		else
			(void)snprintf(want, sizeof(want), "%.2s", in);
		want_esc(in, 2, want);
	}
}

/* A small buffer: whole characters and escapes only, then NUL. */
static void
t_esc_small(void **state)
{
	static const char	 in[] = "ab\x1b" "c\xc3\xa9" "d";
	static const char	*want[] = {
		"", "", "a", "ab", "ab", "ab", "ab", "ab\\x1b", "ab\\x1b" "c",
		"ab\\x1b" "c", "ab\\x1b" "c\xc3\xa9", "ab\\x1b" "c\xc3\xa9" "d"
	};
	char			 buf[16];
	size_t			 size;

	for (size = 1; size < sizeof(want) / sizeof(want[0]); size++) {
		memset(buf, 'x', sizeof(buf));
		assert_int_equal(fmt_esc(in, sizeof(in) - 1, buf, size), 10);
		if (strcmp(buf, want[size]) != 0)
			fail_msg("size %zu: \"%s\", want \"%s\"", size, buf,
			    want[size]);
		assert_int_equal(buf[size], 'x');	/* nothing past size */
	}
	/* After an escape that did not fit, not even a shorter character. */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(fmt_esc("a\x1b" "b", 3, buf, 4), 6);
	assert_string_equal(buf, "a");
	/* Size 0: buf untouched. */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(fmt_esc("a", 1, buf, 0), 1);
	assert_int_equal(buf[0], 'x');
}

static void
t_truncate(void **state)
{
	char	 buf[8];

	want_trunc("", 20, "");
	want_trunc("web", 20, "web");
	want_trunc("exactly-twenty-bytes", 20, "exactly-twenty-bytes");
	want_trunc("twenty-one-bytes-long", 20, "twenty-one-bytes-...");
	want_trunc("a-very-long-process-name-here", 20, "a-very-long-proce...");

	/* 2-byte character across the 17-byte cut, and ending on it. */
	want_trunc("aaaaaaaaaaaaaaaa\xc3\xa9" "bbbb", 20,
	    "aaaaaaaaaaaaaaaa...");
	want_trunc("aaaaaaaaaaaaaaa\xc3\xa9" "bbbb", 20,
	    "aaaaaaaaaaaaaaa\xc3\xa9...");
	/* 3-byte: cut after its first, its second byte, or after it. */
	want_trunc("aaaaaaaaaaaaaaaa" JA, 20, "aaaaaaaaaaaaaaaa...");
	want_trunc("aaaaaaaaaaaaaaa" JA, 20, "aaaaaaaaaaaaaaa...");
	want_trunc("aaaaaaaaaaaaaa" JA, 20,
	    "aaaaaaaaaaaaaa\xe6\x97\xa5...");
	/* 4-byte: cut inside, and right after. */
	want_trunc("aaaaaaaaaaaaaa\xf0\x9f\x98\x80" "bbb", 20,
	    "aaaaaaaaaaaaaa...");
	want_trunc("aaaaaaaaaaaaaaa\xf0\x9f\x98\x80" "bb", 20,
	    "aaaaaaaaaaaaaaa...");
	want_trunc("aaaaaaaaaaaaaaaa\xf0\x9f\x98\x80" "b", 20,
	    "aaaaaaaaaaaaaaaa...");
	want_trunc("aaaaaaaaaaaaaaaa\xf0\x9f\x98\x80", 20,
	    "aaaaaaaaaaaaaaaa\xf0\x9f\x98\x80");	/* 20 bytes: kept */
	want_trunc("aaaaaaaaaaaaa\xf0\x9f\x98\x80" "bbbb", 20,
	    "aaaaaaaaaaaaa\xf0\x9f\x98\x80...");
	/* All multi-byte: 5 whole characters of 3 bytes fit in 17. */
	want_trunc(JA JA JA JA, 20,
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac...");
	/* 21 bytes of 2-byte characters. */
	want_trunc("a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9", 20,
	    "a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9...");
	/* Invalid bytes count as one-byte characters. */
	want_trunc("aaaaaaaaaaaaaaaa\xff\xff\xff\xff\xff", 20,
	    "aaaaaaaaaaaaaaaa\xff...");
	/* Other limits, and limits too small for the dots. */
	want_trunc("abcdefgh", 5, "ab...");
	want_trunc("abcd", 3, "...");
	want_trunc("abc", 3, "abc");
	want_trunc("abcdef", 2, "ab");
	want_trunc("\xc3\xa9\xc3\xa9", 1, "");
	want_trunc("abc", 0, "");

	/* The output buffer is smaller than the result. */
	fmt_truncate("abcdef", 20, buf, 4);
	assert_string_equal(buf, "abc");
	fmt_truncate("\xc3\xa9\xc3\xa9\xc3\xa9", 20, buf, 4);
	assert_string_equal(buf, "\xc3\xa9");
	fmt_truncate("a very long name indeed", 20, buf, sizeof(buf));
	assert_string_equal(buf, "a ve...");
	fmt_truncate("a very long name indeed", 20, buf, 3);
	assert_string_equal(buf, "..");
	fmt_truncate("a very long name indeed", 1, buf, 1);
	assert_string_equal(buf, "");
}

static void
t_list_empty(void **state)
{
	char	*out;

	out = render_list(NULL, 0);
	assert_string_equal(out, "No processes configured\n");
	free(out);
}

static void
t_list_table(void **state)
{
	static const struct fmt_row rows[] = {
		{ "web", 2, 2, "running", 0, 0, 0, 0, 1, 3725, 0 },
		{ "batch", 0, 1, "stopped (exit code: 0)", 1, 1.5f, 1, 1048576,
		    0, 0, 3 },
		{ "a-very-long-process-name-here", 12345678, 123456789,
		    "crashed", 1, 123.45f, 1, 5368709120ULL, 1, 90061, 0 },
		{ "\xc3\xa9lan-vital", 1, 1, "unhealthy", 1, 0.05f, 1, 1023,
		    1, 59, 0 },
		{ "exactly-twenty-bytes", 0, 0, "", 1, -0.0f, 1, UINT64_MAX,
		    1, UINT64_MAX, 0 },
	};
	/* Every column as wide as its widest cell; nulls are "-". */
	static const char want[] =
	    "NAME                  RUNNING     TOTAL STATUS                      CPU            MEM              UPTIME\n"
	    "------------------------------------------------------------------------------------------------------\n"
	    "web                         2         2 running                       -              -               1h 2m\n"
	    "batch                       0         1 stopped (exit code: 0)     1.5%           1.0M                   -\n"
	    "a-very-long-proce... 12345678 123456789 crashed                  123.4%           5.0G               1d 1h\n"
	    "\xc3\xa9lan-vital                  1         1 unhealthy                  0.1%          1023B                 59s\n"
	    "exactly-twenty-bytes        0         0                           -0.0% 17179869184.0G 213503982334601d 7h\n";
	char	*out;

	out = render_list(rows, sizeof(rows) / sizeof(rows[0]));
	assert_string_equal(out, want);
	free(out);
}

/* Multi-byte names: cut on a character, padded by characters. */
static void
t_list_utf8(void **state)
{
	static const struct fmt_row rows[] = {
		{ JA JA JA JA, 1, 2, "running", 1, 7.25f, 1, 2048, 1, 61, 0 },
		{ NULL, 0, 1, NULL, 0, 0, 0, 0, 0, 0, 0 },
		{ "x", 0, 1, "st\xc3\xb6pped", 0, 0, 0, 0, 0, 0, 0 },
	};
	static const char want[] =
	    "NAME                  RUNNING    TOTAL STATUS            CPU        MEM     UPTIME\n"
	    "------------------------------------------------------------------------------\n"
	    JA "\xe6\x97\xa5\xe6\x9c\xac..."
	    "                    1        2 running          7.2%       2.0K      1m 1s\n"
	    "                            0        1                     -          -          -\n"
	    "x                           0        1 st\xc3\xb6pped             -          -          -\n";
	char	*out;

	out = render_list(rows, sizeof(rows) / sizeof(rows[0]));
	assert_string_equal(out, want);
	free(out);
}

static void
t_detail(void **state)
{
	static const char *const args[] = { "server.js", "--port", "8080" };
	static const struct fmt_instance inst[] = {
		{ 0, 1, 1234, "running", 1, 0.5f, 1, 52428800, 1, 3725, 0,
		    NULL },
		{ 1, 0, 0, "stopped (exit code: 1)", 0, 0, 0, 0, 0, 0, 3, NULL },
		{ 10, 1, 4294967295U, "stopping", 1, 100.0f, 1, 1536, 1, 86400,
		    4294967295U, NULL },
	};
	struct fmt_detail d = {
		"web", "3f2b8c1e-9a7d-4e5f-8b6a-1c2d3e4f5a6b", "/usr/bin/node",
		args, 3, "/srv/web", 3, "claude-work", inst, 3, NULL, 0
	};
	static const char want[] =
	    "Name:        web\n"
	    "ID:          3f2b8c1e-9a7d-4e5f-8b6a-1c2d3e4f5a6b\n"
	    "Command:     /usr/bin/node server.js --port 8080\n"
	    "Working Dir: /srv/web\n"
	    "Instances:   3\n"
	    "Credentials: claude-work\n"
	    "\n"
	    "Instance Details:\n"
	    "  [0]  PID:       1234  State: running                 CPU:   0.5%  Mem:    50.0M  Uptime:    1h 2m  Restarts: 0\n"
	    "  [1]  PID:          -  State: stopped (exit code: 1)  CPU:      -  Mem:        -  Uptime:        -  Restarts: 3\n"
	    "  [10] PID: 4294967295  State: stopping                CPU: 100.0%  Mem:     1.5K  Uptime:    1d 0h  Restarts: 4294967295\n";
	char	*out;

	out = render_detail(&d);
	assert_string_equal(out, want);
	free(out);
}

/* No args leaves upstream's trailing space; optional lines left out. */
static void
t_detail_minimal(void **state)
{
	struct fmt_detail d = {
		"solo", "00000000-0000-0000-0000-000000000000", "sleep",
		NULL, 0, NULL, 1, NULL, NULL, 0, NULL, 0
	};
	static const char want[] =
	    "Name:        solo\n"
	    "ID:          00000000-0000-0000-0000-000000000000\n"
	    "Command:     sleep \n"
	    "Instances:   1\n"
	    "\n"
	    "Instance Details:\n";
	char	*out;

	out = render_detail(&d);
	assert_string_equal(out, want);
	free(out);
}

/* A state with multi-byte characters is padded by characters. */
static void
t_detail_utf8_state(void **state)
{
	static const struct fmt_instance inst[] = {
		{ 2, 1, 7, "\xc3\xa9tat", 1, NAN, 0, 0, 0, 0, 1, NULL },
	};
	struct fmt_detail d = {
		"n", "i", "c", NULL, 0, NULL, 1, NULL, inst, 1, NULL, 0
	};
	static const char want[] =
	    "Name:        n\n"
	    "ID:          i\n"
	    "Command:     c \n"
	    "Instances:   1\n"
	    "\n"
	    "Instance Details:\n"
	    "  [2] PID:      7  State: \xc3\xa9tat          CPU:   NaN%  Mem:        -  Uptime:        -  Restarts: 1\n";
	char	*out;

	out = render_detail(&d);
	assert_string_equal(out, want);
	free(out);
}

/* Each limit in its unit; names this apm2ctl does not know: the number. */
static void
t_limit_value(void **state)
{
	want_limit("nofile", 1024, "1024");
	want_limit("nproc", 64, "64");
	want_limit("pids_max", 100, "100");
	want_limit("io_weight", 10000, "10000");
	want_limit("core", 0, "0B");
	want_limit("as", 1073741824, "1.0G");
	want_limit("data", 1536, "1.5K");
	want_limit("memory_max", 536870912, "512.0M");
	want_limit("memory_high", 268435456, "256.0M");
	want_limit("cpu", 30, "30s");
	want_limit("cpu", 3600, "3600s");	/* a limit, not an uptime */
	want_limit("cpu_max", 50, "50%");
	want_limit("cpu_max", 250, "250%");
	want_limit("gpu_max", 7, "7");
	want_limit("Memory_max", 1024, "1024");	/* names are exact */
	want_limit("nofile", UINT64_MAX, "18446744073709551615");
	want_limit("cpu_max", UINT64_MAX, "18446744073709551615%");
	want_limit("memory_max", UINT64_MAX, "17179869184.0G");
}

/*
 * Limits after the credentials, in columns; an instance killed by the
 * OOM killer and one with another exit reason say so after the line.
 */
static void
t_detail_limits(void **state)
{
	static const struct fmt_instance inst[] = {
		{ 0, 0, 0, "crashed", 0, 0, 0, 0, 0, 0, 2, "oom_killed" },
		{ 1, 1, 4321, "running", 1, 1.5f, 1, 1048576, 1, 59, 0, NULL },
		{ 2, 0, 0, "stopped", 0, 0, 0, 0, 0, 0, 0, "signal\\x1b" },
	};
	static const struct fmt_limit lim[] = {
		{ "nproc", 64, 1, NULL },
		{ "memory_max", 536870912, 0, "the memory controller is not "
		    "available in the unified cgroup hierarchy "
		    "(/sys/fs/cgroup/unified)" },
		{ "cpu", 30, 1, NULL },
		{ "cpu_max", 50, 0, NULL },
		{ "io_weight", 100, 1, NULL },
	};
	struct fmt_detail d = {
		"w", "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b", "sleep", NULL, 0,
		NULL, 3, "claude-work", inst, 3, lim, 5
	};
	static const char want[] =
	    "Name:        w\n"
	    "ID:          6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b\n"
	    "Command:     sleep \n"
	    "Instances:   3\n"
	    "Credentials: claude-work\n"
	    "Limits:\n"
	    "  nproc        64         in force\n"
	    "  memory_max   512.0M     not in force: the memory controller is "
	    "not available in the unified cgroup hierarchy "
	    "(/sys/fs/cgroup/unified)\n"
	    "  cpu          30s        in force\n"
	    "  cpu_max      50%        not in force\n"
	    "  io_weight    100        in force\n"
	    "\n"
	    "Instance Details:\n"
	    "  [0] PID:      -  State: crashed       CPU:      -  Mem:        -  Uptime:        -  Restarts: 2  (killed: out of memory)\n"
	    "  [1] PID:   4321  State: running       CPU:   1.5%  Mem:     1.0M  Uptime:      59s  Restarts: 0\n"
	    "  [2] PID:      -  State: stopped       CPU:      -  Mem:        -  Uptime:        -  Restarts: 0  (exit: signal\\x1b)\n";
	char	*out;

	out = render_detail(&d);
	assert_string_equal(out, want);
	free(out);
}

/* Names and values wider than the usual columns widen them. */
static void
t_detail_limits_wide(void **state)
{
	static const struct fmt_limit lim[] = {
		{ "a_future_limit_name", 7, 0, "unknown to this daemon" },
		{ "nofile", UINT64_MAX, 1, NULL },
		{ JA, 1, 1, NULL },
	};
	struct fmt_detail d = {
		"n", "i", "c", NULL, 0, NULL, 0, NULL, NULL, 0, lim, 3
	};
	static const char want[] =
	    "Name:        n\n"
	    "ID:          i\n"
	    "Command:     c \n"
	    "Instances:   0\n"
	    "Limits:\n"
	    "  a_future_limit_name  7                     not in force: "
	    "unknown to this daemon\n"
	    "  nofile               18446744073709551615  in force\n"
	    "  " JA "                  1                     in force\n"
	    "\n"
	    "Instance Details:\n";
	char	*out;

	out = render_detail(&d);
	assert_string_equal(out, want);
	free(out);

	/* An empty array prints no block, as none at all. */
	d.nlimits = 0;
	out = render_detail(&d);
	assert_string_equal(out, "Name:        n\nID:          i\n"
	    "Command:     c \nInstances:   0\n\nInstance Details:\n");
	free(out);
}

/* Every figure there and fitting: upstream's table, byte for byte. */
static void
t_list_upstream(void **state)
{
	static const struct fmt_row rows[] = {
		{ "web", 2, 2, "running", 1, 0.5f, 1, 52428800, 1, 3725, 0 },
		{ "batch", 1, 1, "starting", 1, 12.25f, 1, 512, 1, 0, 3 },
	};
	static const char want[] =
	    "NAME                  RUNNING    TOTAL STATUS            CPU        MEM     UPTIME\n"
	    "------------------------------------------------------------------------------\n"
	    "web                         2        2 running          0.5%      50.0M      1h 2m\n"
	    "batch                       1        1 starting        12.2%       512B         0s\n";
	char	*out;

	out = render_list(rows, sizeof(rows) / sizeof(rows[0]));
	assert_string_equal(out, want);
	free(out);
}

/*
 * Issue 19: what the restart policy does next, as a status; the longest
 * texts stay in their column, every line as wide as the header.
 */
static void
t_status(void **state)
{
	static const struct fmt_row proto = { "p", 0, 1, NULL, 0, 0, 0, 0,
	    0, 0, 0 };
	struct fmt_row	 rows[5];
	char		 st[5][FMT_STATUS_MAX], buf[FMT_STATUS_MAX], *out, *l;
	size_t		 i, n = 0, len, w = 0;

	fmt_status("crashed (exit code: 1)", 1, 4, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "restarting in 4s");
	fmt_status("stopped (exit code: 0)", 1, 0, 1, 3, buf, sizeof(buf));
	assert_string_equal(buf, "restarting in 0s");	/* due wins */
	fmt_status("crashed", 1, 90, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "restarting in 1m 30s");
	fmt_status("crashed (exit code: 1)", 0, 0, 1, 3, buf, sizeof(buf));
	assert_string_equal(buf, "failed (gave up after 3 restarts)");
	fmt_status("crashed", 0, 0, 1, 1, buf, sizeof(buf));
	assert_string_equal(buf, "failed (gave up after 1 restart)");
	fmt_status("crashed", 0, 0, 1, 4294967295U, buf, sizeof(buf));
	assert_string_equal(buf,
	    "failed (gave up after 4294967295 restarts)");
	fmt_status("running", 0, 0, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "running");
	fmt_status(NULL, 0, 0, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	fmt_status("crashed", 1, 4, 0, 0, buf, 9);
	assert_string_equal(buf, "restarti");

	fmt_status("crashed", 0, 0, 1, 12, st[0], sizeof(st[0]));
	fmt_status("crashed", 1, 4, 0, 0, st[1], sizeof(st[1]));
	fmt_status("running", 0, 0, 0, 0, st[2], sizeof(st[2]));
	fmt_status("st\xc3\xb6pped", 0, 0, 0, 0, st[3], sizeof(st[3]));
	fmt_status("crashed", 1, 86400, 0, 0, st[4], sizeof(st[4]));
	for (i = 0; i < 5; i++) {
		rows[i] = proto;
		rows[i].status = st[i];
	}
	rows[2].has_cpu = rows[2].has_mem = rows[2].has_uptime = 1;
	rows[2].cpu = 100.0f;
	rows[2].mem = 1536;
	rows[2].uptime = 59;
	out = render_list(rows, 5);
	assert_string_equal(out,
	    "NAME                  RUNNING    TOTAL STATUS                                  CPU        MEM     UPTIME\n"
	    "----------------------------------------------------------------------------------------------------\n"
	    "p                           0        1 failed (gave up after 12 restarts)        -          -          -\n"
	    "p                           0        1 restarting in 4s                          -          -          -\n"
	    "p                           0        1 running                              100.0%       1.5K        59s\n"
	    "p                           0        1 st\xc3\xb6" "pped                                   -          -          -\n"
	    "p                           0        1 restarting in 1d 0h                       -          -          -\n");
	/* Every line but the dashes as wide as the header, in characters. */
	for (l = out; *l != '\0'; l += len + 1, n++) {
		len = strcspn(l, "\n");
		if (n == 0)
			w = fmt_utf8_count(l, len);
		else if (n != 1)
			assert_int_equal(fmt_utf8_count(l, len), w);
	}
	assert_int_equal(n, 7);
	free(out);
}

/* A typo's closest name, or none when nothing is close. */
static void
t_closest(void **state)
{
	static const char *const names[] = {
		"web", "ticker", "batch", NULL, "tracker", "worker-01",
		"worker-02", "a"
	};
	static const size_t n = sizeof(names) / sizeof(names[0]);
	char	 longname[FMT_CLOSEST_MAXLEN + 2];

	assert_int_equal(fmt_closest("tikcer", names, n), 1);	/* a swap */
	assert_int_equal(fmt_closest("ticke", names, n), 1);
	assert_int_equal(fmt_closest("tickers", names, n), 1);
	assert_int_equal(fmt_closest("Ticker", names, n), 1);
	assert_int_equal(fmt_closest("tracer", names, n), 4);
	assert_int_equal(fmt_closest("wbe", names, n), 0);
	assert_int_equal(fmt_closest("we", names, n), 0);
	assert_int_equal(fmt_closest("bacth", names, n), 2);
	/* Ties: the first. */
	assert_int_equal(fmt_closest("worker-0", names, n), 5);
	assert_int_equal(fmt_closest("worker-03", names, n), 5);
	/* Too far for its length; equal is no typo. */
	assert_int_equal(fmt_closest("nope", names, n), -1);
	assert_int_equal(fmt_closest("tkcre", names, n), -1);
	assert_int_equal(fmt_closest("db", names, n), -1);
	assert_int_equal(fmt_closest("web", names, n), -1);
	assert_int_equal(fmt_closest("", names, n), -1);	/* not "a" */
	assert_int_equal(fmt_closest("b", names, n), 7);
	assert_int_equal(fmt_closest("x", names, 3), -1);
	assert_int_equal(fmt_closest("wbe", names, 0), -1);
	/* At most three edits, however long. */
	assert_int_equal(fmt_closest("worker-01xxx", names, n), 5);
	assert_int_equal(fmt_closest("worker-01xxxx", names, n), -1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(fmt_closest(longname, names, n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_bytes),
		cmocka_unit_test(t_duration),
		cmocka_unit_test(t_small_buffers),
		cmocka_unit_test(t_float1),
		cmocka_unit_test(t_state),
		cmocka_unit_test(t_utf8_width),
		cmocka_unit_test(t_esc),
		cmocka_unit_test(t_esc_all),
		cmocka_unit_test(t_esc_small),
		cmocka_unit_test(t_truncate),
		cmocka_unit_test(t_list_empty),
		cmocka_unit_test(t_list_table),
		cmocka_unit_test(t_list_utf8),
		cmocka_unit_test(t_detail),
		cmocka_unit_test(t_detail_minimal),
		cmocka_unit_test(t_detail_utf8_state),
		cmocka_unit_test(t_limit_value),
		cmocka_unit_test(t_detail_limits),
		cmocka_unit_test(t_detail_limits_wide),
		cmocka_unit_test(t_list_upstream),
		cmocka_unit_test(t_status),
		cmocka_unit_test(t_closest),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
