/* SPDX-License-Identifier: ISC */
/*
 * test_duration.c -- humantime 2.3.0 duration strings (common/duration.c).
 *
 * Expected values are humantime's: its own unit tests, the reference's
 * examples, and its behaviour on odd input (checked against the crate's
 * algorithm), quirks included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"
#include "unit.h"

#define OVERFLOW	"number is too large or cannot be represented " \
			"without a lack of precision (values below 1ns are " \
			"not supported)"
#define UNKNOWN(u)	"unknown time unit \"" u "\", supported units: ns, " \
			"us/\xc2\xb5s, ms, sec, min, hours, days, weeks, " \
			"months, years (and few variations)"

struct ok_case {
	const char	*in;
	uint64_t	 sec;
	uint32_t	 nsec;
};

struct err_case {
	const char	*in;
	const char	*msg;
};

static void	check_ok(const struct ok_case *, size_t);
static void	check_err(const struct err_case *, size_t);
static void	check_fmt(uint64_t, uint32_t, const char *);

static void
check_ok(const struct ok_case *c, size_t n)
{
	struct duration	 d;
	char		 err[DURATION_ERR_MAX];
	size_t		 i;

	for (i = 0; i < n; i++) {
		d.sec = 12345;
		d.nsec = 678;
		if (duration_parse(c[i].in, &d, err, sizeof(err)) != 0)
			fail_msg("\"%s\": unexpected error: %s", c[i].in, err);
		if (d.sec != c[i].sec || d.nsec != c[i].nsec)
			fail_msg("\"%s\": got %llu s %u ns, want %llu s %u ns",
			    c[i].in, (unsigned long long)d.sec, d.nsec,
			    (unsigned long long)c[i].sec, c[i].nsec);
		assert_string_equal(err, "");
	}
}

static void
check_err(const struct err_case *c, size_t n)
{
	struct duration	 d;
	char		 err[512];
	size_t		 i;

	for (i = 0; i < n; i++) {
		memset(err, 'x', sizeof(err));
		if (duration_parse(c[i].in, &d, err, sizeof(err)) != -1)
			fail_msg("\"%s\": accepted as %llu s %u ns", c[i].in,
			    (unsigned long long)d.sec, d.nsec);
		if (strcmp(err, c[i].msg) != 0)
			fail_msg("\"%s\": message \"%s\", want \"%s\"",
			    c[i].in, err, c[i].msg);
	}
}

static void
check_fmt(uint64_t sec, uint32_t nsec, const char *want)
{
	struct duration	 d = { sec, nsec };
	char		 buf[DURATION_FMT_MAX];

	memset(buf, 'x', sizeof(buf));
	duration_format(&d, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("%llu s %u ns: \"%s\", want \"%s\"",
		    (unsigned long long)sec, nsec, buf, want);
}

/* Every spelling in humantime's unit table (its test_units). */
static void
t_units(void **state)
{
	static const struct ok_case c[] = {
		{ "17nsec", 0, 17 }, { "17nanos", 0, 17 }, { "33ns", 0, 33 },
		{ "3usec", 0, 3000 }, { "78us", 0, 78000 },
		{ "163\xc2\xb5s", 0, 163000 },
		{ "31msec", 0, 31000000 }, { "31millis", 0, 31000000 },
		{ "6ms", 0, 6000000 },
		{ "3000s", 3000, 0 }, { "300sec", 300, 0 },
		{ "300secs", 300, 0 }, { "50seconds", 50, 0 },
		{ "1second", 1, 0 },
		{ "100m", 6000, 0 }, { "12min", 720, 0 }, { "12mins", 720, 0 },
		{ "1minute", 60, 0 }, { "7minutes", 420, 0 },
		{ "2h", 7200, 0 }, { "7hr", 25200, 0 }, { "7hrs", 25200, 0 },
		{ "1hour", 3600, 0 }, { "24hours", 86400, 0 },
		{ "1day", 86400, 0 }, { "2days", 172800, 0 },
		{ "365d", 31536000, 0 },
		{ "1week", 604800, 0 }, { "7weeks", 4233600, 0 },
		{ "104wks", 2 * 31449600, 0 }, { "100wk", 60480000, 0 },
		{ "52w", 31449600, 0 },
		{ "1month", 2630016, 0 }, { "3months", 3 * 2630016, 0 },
		{ "12M", 31560192, 0 },
		{ "1year", 31557600, 0 }, { "7years", 7 * 31557600ULL, 0 },
		{ "15yrs", 15 * 31557600ULL, 0 },
		{ "10yr", 10 * 31557600ULL, 0 }, { "17y", 536479200, 0 }
	};

	check_ok(c, sizeof(c) / sizeof(c[0]));
}

/* Reference §2.2 examples, whitespace rules and combinations. */
static void
t_combinations(void **state)
{
	static const struct ok_case c[] = {
		{ "0", 0, 0 },
		{ "1h 30m", 5400, 0 }, { "1h30m", 5400, 0 },
		{ " 5 s ", 5, 0 }, { "2h 37min", 9420, 0 },
		{ "32ms", 0, 32000000 }, { "4.2s", 4, 200000000 },
		{ "20 min 17 nsec ", 1200, 17 }, { "2h 15m", 8100, 0 },
		{ "1h\t30m\n", 5400, 0 }, { "1 h 30 m", 5400, 0 },
		{ "1hour30minutes", 5400, 0 }, { "5 mins 3 secs", 303, 0 },
		{ "3m 1M", 2630196, 0 },	/* m is minutes, M months */
		{ "1s  ", 1, 0 }, { "0s", 0, 0 }, { "0ns", 0, 0 },
		{ "1y 1M 1w 1d 1h 1m 1s 1ms 1us 1ns", 34882477, 1001001 },
		/* Rust's whitespace is Unicode's: NBSP, em space, ideographic */
		{ "1s\xc2\xa0" "2s", 3, 0 }, { "1s\xe2\x80\x83" "2s", 3, 0 },
		{ "\xe3\x80\x80 7ms", 0, 7000000 },
		/* humantime skips whitespace inside a number too */
		{ "1 2s", 12, 0 }, { "1.5 5s", 1, 550000000 },
		{ "1. 5s", 1, 500000000 },
		/* nanoseconds carry into seconds */
		{ "999999999ns 1ns", 1, 0 }, { "999999999ns 2ns", 1, 1 },
		{ "1500ms 600ms", 2, 100000000 }
	};

	check_ok(c, sizeof(c) / sizeof(c[0]));
}

/* humantime's test_fractional_units and test_fractional_combined. */
static void
t_fractions(void **state)
{
	static const struct ok_case c[] = {
		{ "3.1usec", 0, 3100 }, { "3.1us", 0, 3100 },
		{ "3.01us", 0, 3010 }, { "3.001us", 0, 3001 },
		{ "31.1msec", 0, 31100000 }, { "31.1millis", 0, 31100000 },
		{ "31.1ms", 0, 31100000 }, { "31.01ms", 0, 31010000 },
		{ "31.001ms", 0, 31001000 }, { "31.0001ms", 0, 31000100 },
		{ "31.00001ms", 0, 31000010 }, { "31.000001ms", 0, 31000001 },
		{ "300.0sec", 300, 0 }, { "300.0secs", 300, 0 },
		{ "300.0seconds", 300, 0 }, { "300.0s", 300, 0 },
		{ "0.0s", 0, 0 }, { "0.2s", 0, 200000000 },
		{ "1.2s", 1, 200000000 }, { "1.02s", 1, 20000000 },
		{ "1.002s", 1, 2000000 }, { "1.0002s", 1, 200000 },
		{ "1.00002s", 1, 20000 }, { "1.000002s", 1, 2000 },
		{ "1.0000002s", 1, 200 }, { "1.00000002s", 1, 20 },
		{ "1.000000002s", 1, 2 }, { "1.123456789s", 1, 123456789 },
		{ "1.0000000000000000000s", 1, 0 },	/* 19 zeros still fit */
		{ "100.0m", 6000, 0 }, { "12.1min", 726, 0 },
		{ "12.1mins", 726, 0 }, { "1.5minute", 90, 0 },
		{ "1.5minutes", 90, 0 }, { "0.5m", 30, 0 },
		{ "0.001m", 0, 60000000 },
		{ "2.0h", 7200, 0 }, { "2.0hr", 7200, 0 }, { "2.0hrs", 7200, 0 },
		{ "2.0hours", 7200, 0 }, { "2.5h", 9000, 0 },
		{ "0.5h", 1800, 0 }, { "0.1h", 360, 0 },
		{ "1.5day", 129600, 0 }, { "1.5days", 129600, 0 },
		{ "1.5d", 129600, 0 }, { "2.5d", 216000, 0 },
		{ "1.5w", 907200, 0 }, { "0.5y", 15778800, 0 },
		{ "0.000001ms", 0, 1 },
		{ "7.120us 3ns", 0, 7123 }, { "7.123us 4ns", 0, 7127 },
		{ "1.234s 789ns", 1, 234000789 },
		{ "1.234s 0.789us", 1, 234000789 },
		{ "1.234567s 0.789us", 1, 234567789 },
		{ "1.234s 1.345ms 1.678us 1ns", 1, 235346679 },
		{ "1.234s 0.345ms 0.678us 0ns", 1, 234345678 },
		{ "1.234s0.345ms0.678us0ns", 1, 234345678 },
		{ "1.5 s", 1, 500000000 }
	};

	check_ok(c, sizeof(c) / sizeof(c[0]));
}

/* Messages and offsets exactly as humantime reports them. */
static void
t_errors(void **state)
{
	static const struct err_case c[] = {
		{ "", "value was empty" }, { " ", "value was empty" },
		{ "\t", "value was empty" }, { "\r", "value was empty" },
		{ "\xc2\xa0", "value was empty" },
		{ "123", "time unit needed, for example 123sec or 123ms" },
		{ "10 months 1", "time unit needed, for example 1sec or 1ms" },
		{ "1.5", "time unit needed, for example 1sec or 1ms" },
		{ "5s5", "time unit needed, for example 5sec or 5ms" },
		{ "1second2", "time unit needed, for example 2sec or 2ms" },
		/* only the exact string "0" goes without a unit */
		{ "00", "time unit needed, for example 0sec or 0ms" },
		{ " 0", "time unit needed, for example 0sec or 0ms" },
		{ "0 ", "time unit needed, for example 0sec or 0ms" },
		{ "10nights", UNKNOWN("nights") },
		{ "222nsec221nanosmsec7s5msec572s", UNKNOWN("nanosmsec") },
		{ "1 x", UNKNOWN("x") }, { "1S", UNKNOWN("S") },
		{ "1H", UNKNOWN("H") }, { "1Ms", UNKNOWN("Ms") },
		{ "1ss", UNKNOWN("ss") }, { "1e3s", UNKNOWN("e") },
		{ "1\xc2\xb5", UNKNOWN("\xc2\xb5") },
		{ "1~", "invalid character at 1" },
		{ "1N\xc3\xa5", "invalid character at 2" },
		{ "1,5s", "invalid character at 1" },
		{ "1_000s", "invalid character at 1" },
		{ "1s,2s", "invalid character at 2" },
		{ "1.5~", "invalid character at 3" },
		/* Greek mu (U+03BC) is not the micro sign */
		{ "1\xce\xbcs", "invalid character at 1" },
		/* zero-width space is not whitespace to Rust */
		{ "1m\xe2\x80\x8b", "invalid character at 2" },
		{ "1.", "invalid character at 1" },
		{ "1. ", "invalid character at 3" },
		{ "1.s", "invalid character at 1" },
		{ "1..s", "invalid character at 1" },
		/* offset where the scan for a number began, not the bad char */
		{ "  x", "expected number at 0" },
		{ ".1s", "expected number at 0" }, { ".", "expected number at 0" },
		{ "-5s", "expected number at 0" }, { "+5s", "expected number at 0" },
		{ "5s -1s", "expected number at 3" },
		{ "5 s x", "expected number at 4" },
		{ "1 s s", "expected number at 4" },
		{ "s", "expected number at 0" },
		{ "\xc2\xb5s", "expected number at 0" },
		/* invalid UTF-8 (never reaches humantime; refused the same) */
		{ "\xff", "expected number at 0" },
		{ "1\xc3", "invalid character at 1" },
		{ "1s\xc3\xa9", "invalid character at 2" }
	};

	check_err(c, sizeof(c) / sizeof(c[0]));
}

/* Fractions that are not whole nanoseconds, and arithmetic overflow. */
static void
t_overflow(void **state)
{
	static const struct err_case c[] = {
		{ "17.5nsec", OVERFLOW }, { "5.1nanos", OVERFLOW },
		{ "0.0005ns", OVERFLOW }, { "1.0ns", OVERFLOW },
		{ "0.0ns", OVERFLOW },
		{ "3.0001us", OVERFLOW }, { "0.0001us", OVERFLOW },
		{ "0.123456us", OVERFLOW }, { "31.0000001ms", OVERFLOW },
		{ "1.0000000002s", OVERFLOW }, { "0.0000000002s", OVERFLOW },
		{ "0.000123456789s", OVERFLOW }, { "1.1234567891s", OVERFLOW },
		{ "0.00000005d", OVERFLOW }, { "0.0001h", OVERFLOW },
		{ "0.1M", OVERFLOW },
		/* 20 fraction digits: the denominator itself overflows */
		{ "0.00000000000000000001s", OVERFLOW },
		{ "0.0000000000000000001s", OVERFLOW },
		{ "100000000000000000000ns", OVERFLOW },
		{ "100000000000000000us", OVERFLOW },
		{ "100000000000000ms", OVERFLOW },
		{ "100000000000000000000s", OVERFLOW },
		{ "18446744073709551616s", OVERFLOW },
		{ "10000000000000000000m", OVERFLOW },
		{ "1000000000000000000h", OVERFLOW },
		{ "100000000000000000d", OVERFLOW },
		{ "10000000000000000w", OVERFLOW },
		{ "1000000000000000M", OVERFLOW },
		{ "10000000000000y", OVERFLOW },
		{ "584542046091y", OVERFLOW },
		{ "18446744073709551615s 1s", OVERFLOW },
		{ "1ns 18446744073709551615ns", OVERFLOW },
		/* humantime panics in Duration::new here; we refuse instead */
		{ "18446744073709551615s 999999999ns 1ns", OVERFLOW },
		{ "18446744073709551615s 0.999999999s 1ns", OVERFLOW }
	};
	static const struct ok_case ok[] = {
		{ "18446744073709551615s", UINT64_MAX, 0 },
		{ "18446744073709551615ns", 18446744073ULL, 709551615 },
		{ "584542046090y", 18446744073689784000ULL, 0 },
		{ "18446744073709551615s 999999999ns", UINT64_MAX, 999999999 }
	};

	check_err(c, sizeof(c) / sizeof(c[0]));
	check_ok(ok, sizeof(ok) / sizeof(ok[0]));
}

/* Explicit lengths: embedded NULs are characters, as in a Rust &str. */
static void
t_parse_len(void **state)
{
	struct duration	 d;
	char		 err[DURATION_ERR_MAX];

	assert_int_equal(duration_parse_len("\0", 1, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "expected number at 0");
	assert_int_equal(duration_parse_len("1s\0", 3, &d, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "invalid character at 2");
	/* Only the first len bytes are read. */
	assert_int_equal(duration_parse_len("5s junk", 2, &d, err,
	    sizeof(err)), 0);
	assert_true(d.sec == 5 && d.nsec == 0);
	assert_int_equal(duration_parse_len("0s", 1, &d, err, sizeof(err)), 0);
	assert_true(d.sec == 0 && d.nsec == 0);
	assert_int_equal(duration_parse_len("12", 1, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "time unit needed, for example 1sec or 1ms");
	assert_int_equal(duration_parse_len(NULL, 0, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "value was empty");
	assert_int_equal(duration_parse(NULL, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "value was empty");
}

/* No buffer, tiny buffers, and a cut that would split the µ. */
static void
t_errbuf(void **state)
{
	struct duration	 d;
	char		 err[DURATION_ERR_MAX], small[8];
	const char	*full = UNKNOWN("xyz");
	size_t		 mu;

	assert_int_equal(duration_parse("1xyz", &d, NULL, 0), -1);
	assert_int_equal(duration_parse("1xyz", &d, NULL, 99), -1);
	small[0] = 'Q';
	assert_int_equal(duration_parse("1xyz", &d, small, 0), -1);
	assert_int_equal(small[0], 'Q');
	assert_int_equal(duration_parse("1xyz", &d, small, 1), -1);
	assert_string_equal(small, "");
	assert_int_equal(duration_parse("1xyz", &d, small, sizeof(small)), -1);
	assert_string_equal(small, "unknown");

	/* The default size holds every fixed message whole. */
	assert_int_equal(duration_parse("1xyz", &d, err, sizeof(err)), -1);
	assert_string_equal(err, full);
	assert_int_equal(duration_parse("1.0ns", &d, err, sizeof(err)), -1);
	assert_string_equal(err, OVERFLOW);

	/* Room for the first byte of µ only: the half character goes. */
	mu = (size_t)(strchr(full, '\xc2') - full);
	assert_int_equal(duration_parse("1xyz", &d, err, mu + 2), -1);
	assert_int_equal(strlen(err), mu);
	assert_memory_equal(err, full, mu);
	assert_int_equal(duration_parse("1xyz", &d, err, mu + 3), -1);
	assert_int_equal(strlen(err), mu + 2);
}

/* A unit of 100k letters: the message is cut, nothing overflows. */
static void
t_long_input(void **state)
{
	struct duration	 d;
	char		 err[DURATION_ERR_MAX];
	char		*s;
	size_t		 i, n = 100000;

	s = malloc(n + 2);
	assert_non_null(s);
	s[0] = '1';
	memset(s + 1, 'q', n);
	s[n + 1] = '\0';
	assert_int_equal(duration_parse(s, &d, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "unknown time unit \"qqqq", 23);
	free(s);

	/* 40000 terms of "1s " add up. */
	n = 40000;
	s = malloc(3 * n + 1);
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + 3 * i, "1s ", 3);
	s[3 * n] = '\0';
	assert_int_equal(duration_parse(s, &d, err, sizeof(err)), 0);
	assert_true(d.sec == n && d.nsec == 0);
	free(s);
}

/* Random bytes: never crashes, always a verdict, messages terminated. */
static void
t_random_bytes(void **state)
{
	static const char	 alpha[] = "0123456789.  smhdwyMnu\xc2\xb5\t-x";
	struct duration		 d;
	char			 in[24], err[DURATION_ERR_MAX];
	size_t			 len, j;
	int			 i, r;

	rng_seed(42);
	for (i = 0; i < 200000; i++) {
		len = rng64() % sizeof(in);
		for (j = 0; j < len; j++)
			in[j] = (i & 1) ? (char)rng64() :
			    alpha[rng64() % (sizeof(alpha) - 1)];
		memset(err, 'x', sizeof(err));
		r = duration_parse_len(in, len, &d, err, sizeof(err));
		assert_true(r == 0 || r == -1);
		assert_non_null(memchr(err, '\0', sizeof(err)));
		if (r == 0) {
			assert_string_equal(err, "");
			assert_true(d.nsec < 1000000000);
		} else
			assert_true(err[0] != '\0');
	}
}

/* humantime's output format, with its 365.25-day years and 30.44-day
 * months. */
static void
t_format(void **state)
{
	check_fmt(0, 0, "0s");
	check_fmt(60, 0, "1m");
	check_fmt(300, 0, "5m");
	check_fmt(90, 0, "1m 30s");
	check_fmt(1, 500000000, "1s 500ms");
	check_fmt(2 * 86400 + 3600, 0, "2days 1h");
	check_fmt(9420, 0, "2h 37m");
	check_fmt(0, 32000000, "32ms");
	check_fmt(0, 123000, "123us");
	check_fmt(0, 1, "1ns");
	check_fmt(0, 1001001, "1ms 1us 1ns");
	check_fmt(59, 999999999, "59s 999ms 999us 999ns");
	check_fmt(86400, 0, "1day");
	check_fmt(86399, 0, "23h 59m 59s");
	check_fmt(3600, 0, "1h");
	check_fmt(2630016, 0, "1month");
	check_fmt(2 * 2630016, 0, "2months");
	check_fmt(31557600, 0, "1year");
	check_fmt(2 * 31557600ULL, 0, "2years");
	/* 365 days is less than one of humantime's years. */
	check_fmt(31536000, 0, "11months 30days 3h 50m 24s");
	check_fmt(604800, 0, "7days");
	check_fmt(34882477, 1001001,
	    "1year 1month 8days 1h 1m 1s 1ms 1us 1ns");
	check_fmt(UINT64_MAX, 999999999,
	    "584542046090years 7months 15days 17h 5m 3s 999ms 999us 999ns");
	/* Denormal nanoseconds are carried, not printed as 1000ms. */
	check_fmt(1, 1500000000, "2s 500ms");
}

/* Output shorter than the buffer is cut, always terminated. */
static void
t_format_small(void **state)
{
	struct duration	 d = { 90, 5 };
	char		 buf[8];

	buf[0] = 'Q';
	duration_format(&d, buf, 0);
	assert_int_equal(buf[0], 'Q');
	duration_format(&d, buf, 1);
	assert_string_equal(buf, "");
	duration_format(&d, buf, 3);
	assert_string_equal(buf, "1m");
	duration_format(&d, buf, 5);
	assert_string_equal(buf, "1m 3");
	duration_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "1m 30s ");
	d.sec = 0;
	d.nsec = 0;
	duration_format(&d, buf, 2);
	assert_string_equal(buf, "0");
}

/* What is written reads back to the same value (humantime's promise). */
static void
t_roundtrip(void **state)
{
	struct duration	 d, back;
	char		 buf[DURATION_FMT_MAX], err[DURATION_ERR_MAX];
	int		 i;

	rng_seed(7);
	for (i = 0; i < 100000; i++) {
		switch (i % 4) {
		case 0:
			d.sec = (uint64_t)i;
			d.nsec = 0;
			break;
		case 1:
			d.sec = rng64() % 253370764800ULL;
			d.nsec = 0;
			break;
		case 2:
			d.sec = rng64() % 253370764800ULL;
			d.nsec = (uint32_t)(rng64() % 1000000000);
			break;
		default:
			d.sec = rng64();
			d.nsec = (uint32_t)(rng64() % 1000000000);
			break;
		}
		duration_format(&d, buf, sizeof(buf));
		if (duration_parse(buf, &back, err, sizeof(err)) != 0)
			fail_msg("\"%s\": %s", buf, err);
		if (back.sec != d.sec || back.nsec != d.nsec)
			fail_msg("\"%s\" read back as %llu s %u ns", buf,
			    (unsigned long long)back.sec, back.nsec);
	}
}

static void
t_conversions(void **state)
{
	struct duration	 d;

	d.sec = 1;
	d.nsec = 500000000;
	assert_int_equal(duration_to_ms(&d), 1500);
	assert_int_equal(duration_to_ns(&d), 1500000000ULL);
	assert_true(duration_to_secs(&d) == 1.5);
	d.sec = 0;
	d.nsec = 999999;
	assert_int_equal(duration_to_ms(&d), 0);	/* truncates */
	assert_int_equal(duration_to_ns(&d), 999999);
	d.sec = 18446744073ULL;
	d.nsec = 709551615;
	assert_true(duration_to_ns(&d) == UINT64_MAX);
	d.nsec = 709551616;
	assert_true(duration_to_ns(&d) == UINT64_MAX);	/* saturates */
	d.sec = 18446744073709551ULL;
	d.nsec = 615000000;
	assert_true(duration_to_ms(&d) == UINT64_MAX);
	d.sec = 18446744073709551ULL;
	d.nsec = 614999999;
	assert_true(duration_to_ms(&d) == UINT64_MAX - 1);
	d.sec = 18446744073709552ULL;
	d.nsec = 0;
	assert_true(duration_to_ms(&d) == UINT64_MAX);	/* saturates */
	d.sec = UINT64_MAX;
	d.nsec = 999999999;
	assert_true(duration_to_ms(&d) == UINT64_MAX);
	assert_true(duration_to_ns(&d) == UINT64_MAX);
	assert_true(duration_to_secs(&d) > 1.8e19);
	d.sec = 0;
	d.nsec = 0;
	assert_int_equal(duration_to_ms(&d), 0);
	assert_true(duration_to_secs(&d) == 0.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_units),
		cmocka_unit_test(t_combinations),
		cmocka_unit_test(t_fractions),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_overflow),
		cmocka_unit_test(t_parse_len),
		cmocka_unit_test(t_errbuf),
		cmocka_unit_test(t_long_input),
		cmocka_unit_test(t_random_bytes),
		cmocka_unit_test(t_format),
		cmocka_unit_test(t_format_small),
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_conversions),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
