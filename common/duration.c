/* SPDX-License-Identifier: ISC */
/*
 * duration.c -- humantime 2.3.0's duration grammar and output format.
 *
 * The config and state-file formats are upstream's, and upstream reads
 * every duration with humantime::parse_duration, so this follows that
 * parser's scanning order exactly, quirks included: digits may be split
 * by whitespace ("1 2s" is 12 s), error offsets are byte offsets that
 * sometimes point at the start of a token rather than at the bad
 * character, and the messages are humantime's own words.  The one
 * departure: where humantime would panic (a nanosecond carry that
 * overflows the seconds), this reports "number is too large".
 */

#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "utf8.h"

#define NSEC_PER_SEC	1000000000ULL
#define SEC_PER_MONTH	2630016ULL	/* 30.44 days */
#define SEC_PER_YEAR	31557600ULL	/* 365.25 days */
#define MICRO_SIGN	0x00b5U		/* the only non-ASCII unit letter */

enum derr {
	DERR_NONE,
	DERR_INVALID_CHAR,	/* offset */
	DERR_NUMBER_EXPECTED,	/* offset */
	DERR_UNKNOWN_UNIT,	/* unit text, value */
	DERR_OVERFLOW,
	DERR_EMPTY
};

enum unit {
	U_NSEC, U_USEC, U_MSEC, U_SEC, U_MIN, U_HOUR, U_DAY, U_WEEK,
	U_MONTH, U_YEAR
};

static const struct {
	const char	*name;
	enum unit	 unit;
} units[] = {
	{ "nanos", U_NSEC }, { "nsec", U_NSEC }, { "ns", U_NSEC },
	{ "usec", U_USEC }, { "us", U_USEC }, { "\xc2\xb5s", U_USEC },
	{ "millis", U_MSEC }, { "msec", U_MSEC }, { "ms", U_MSEC },
	{ "seconds", U_SEC }, { "second", U_SEC }, { "secs", U_SEC },
	{ "sec", U_SEC }, { "s", U_SEC },
	{ "minutes", U_MIN }, { "minute", U_MIN }, { "min", U_MIN },
	{ "mins", U_MIN }, { "m", U_MIN },
	{ "hours", U_HOUR }, { "hour", U_HOUR }, { "hr", U_HOUR },
	{ "hrs", U_HOUR }, { "h", U_HOUR },
	{ "days", U_DAY }, { "day", U_DAY }, { "d", U_DAY },
	{ "weeks", U_WEEK }, { "week", U_WEEK }, { "wk", U_WEEK },
	{ "wks", U_WEEK }, { "w", U_WEEK },
	{ "months", U_MONTH }, { "month", U_MONTH }, { "M", U_MONTH },
	{ "years", U_YEAR }, { "year", U_YEAR }, { "yr", U_YEAR },
	{ "yrs", U_YEAR }, { "y", U_YEAR }
};

/* One of a unit, in nanoseconds or seconds. */
struct scale {
	uint64_t	 mul;		/* 0: never a whole number */
	int		 to_ns;
};

/*
 * Whole numbers of sub-second units land in nanoseconds, of seconds and
 * up in seconds.  Fractions of sub-minute units land in nanoseconds, of
 * hours and up in whole seconds; either way the fraction must divide
 * exactly, so 0.5ns and 0.0001h are "too large" in humantime's words.
 */
static const struct {
	struct scale	 whole, frac;
} scales[] = {
	[U_NSEC] =	{ { 1, 1 }, { 0, 1 } },
	[U_USEC] =	{ { 1000, 1 }, { 1000, 1 } },
	[U_MSEC] =	{ { 1000000, 1 }, { 1000000, 1 } },
	[U_SEC] =	{ { 1, 0 }, { NSEC_PER_SEC, 1 } },
	[U_MIN] =	{ { 60, 0 }, { 60 * NSEC_PER_SEC, 1 } },
	[U_HOUR] =	{ { 3600, 0 }, { 3600, 0 } },
	[U_DAY] =	{ { 86400, 0 }, { 86400, 0 } },
	[U_WEEK] =	{ { 86400 * 7, 0 }, { 86400 * 7, 0 } },
	[U_MONTH] =	{ { SEC_PER_MONTH, 0 }, { SEC_PER_MONTH, 0 } },
	[U_YEAR] =	{ { SEC_PER_YEAR, 0 }, { SEC_PER_YEAR, 0 } }
};

struct parser {
	const char	*src;
	size_t		 len;
	size_t		 pos;		/* byte offset of the next character */
	uint64_t	 sec;		/* accumulated result */
	uint64_t	 nsec;
	enum derr	 err;
	size_t		 err_off;
	size_t		 unit_start, unit_end;	/* DERR_UNKNOWN_UNIT */
	uint64_t	 unit_value;
};

struct fraction {
	uint64_t	 num;
	uint64_t	 den;		/* 10^digits; 1 = no fraction */
};

static int	 next_char(struct parser *, uint32_t *);
static int	 is_space(uint32_t);
static int	 is_letter(uint32_t);
static int	 fail(struct parser *, enum derr, size_t);
static int	 mul_ok(uint64_t, uint64_t, uint64_t *);
static int	 add_ok(uint64_t, uint64_t, uint64_t *);
static int	 div_exact(uint64_t, uint64_t, uint64_t *);
static int	 first_char(struct parser *, uint64_t *, int *);
static int	 fractional_part(struct parser *, size_t *, struct fraction *);
static int	 add_current(struct parser *, uint64_t, uint64_t);
static int	 scale(const struct scale *, uint64_t, uint64_t, uint64_t *,
		    uint64_t *);
static int	 apply_unit(struct parser *, uint64_t, const struct fraction *,
		    size_t, size_t);
static int	 run(struct parser *);
static void	 put_error(const struct parser *, char *, size_t);
static size_t	 put_item(char *, size_t, size_t, int *, uint64_t,
		    const char *, int);

/* Decode the next character; 0 at the end of input. */
static int
next_char(struct parser *p, uint32_t *cp)
{
	if (p->pos >= p->len)
		return (0);
	p->pos += utf8_char(p->src + p->pos, p->len - p->pos, cp);
	return (1);
}

/* Rust's char::is_whitespace: the Unicode White_Space property. */
static int
is_space(uint32_t c)
{
	return ((c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000);
}

/* What humantime lets into a unit: ASCII letters and the micro sign. */
static int
is_letter(uint32_t c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    c == MICRO_SIGN);
}

static int
fail(struct parser *p, enum derr e, size_t off)
{
	p->err = e;
	p->err_off = off;
	return (-1);
}

static int
mul_ok(uint64_t a, uint64_t b, uint64_t *r)
{
	if (b != 0 && a > UINT64_MAX / b)
		return (0);
	*r = a * b;
	return (1);
}

static int
add_ok(uint64_t a, uint64_t b, uint64_t *r)
{
	if (a > UINT64_MAX - b)
		return (0);
	*r = a + b;
	return (1);
}

/* A fraction that is not a whole number of the target unit is refused. */
static int
div_exact(uint64_t a, uint64_t b, uint64_t *r)
{
	if (a % b != 0)
		return (0);
	*r = a / b;
	return (1);
}

/*
 * Skip whitespace to the first digit of a term.  *found = 0 at the end
 * of input.  Anything else is "expected number" at the offset where the
 * skipping began, as humantime reports it.
 */
static int
first_char(struct parser *p, uint64_t *n, int *found)
{
	size_t		 off = p->pos;
	uint32_t	 c;

	*found = 0;
	while (next_char(p, &c)) {
		if (c >= '0' && c <= '9') {
			*n = c - '0';
			*found = 1;
			return (0);
		}
		if (!is_space(c))
			return (fail(p, DERR_NUMBER_EXPECTED, off));
	}
	return (0);
}

/*
 * Digits after the '.', which has been read; *off is the parse loop's
 * offset (that of the '.') and is kept current as humantime keeps it.
 * Stops after consuming the first letter of the unit.
 */
static int
fractional_part(struct parser *p, size_t *off, struct fraction *fr)
{
	uint32_t	 c;

	fr->num = 0;
	fr->den = 1;
	while (next_char(p, &c)) {
		if (c >= '0' && c <= '9') {
			if (!mul_ok(fr->den, 10, &fr->den) ||
			    !mul_ok(fr->num, 10, &fr->num) ||
			    !add_ok(fr->num, c - '0', &fr->num))
				return (fail(p, DERR_OVERFLOW, 0));
		} else if (is_space(c)) {
			/* humantime skips it, even between digits */
		} else if (is_letter(c))
			break;
		else
			return (fail(p, DERR_INVALID_CHAR, *off));
		*off = p->pos;
	}
	if (fr->den == 1)	/* "1." or "1.s": no digits */
		return (fail(p, DERR_INVALID_CHAR, *off));
	return (0);
}

/* humantime's add_current(): checked, with its own carry rule. */
static int
add_current(struct parser *p, uint64_t sec, uint64_t nsec)
{
	if (!add_ok(p->nsec, nsec, &nsec))
		return (fail(p, DERR_OVERFLOW, 0));
	if (nsec > NSEC_PER_SEC) {
		if (!add_ok(sec, nsec / NSEC_PER_SEC, &sec))
			return (fail(p, DERR_OVERFLOW, 0));
		nsec %= NSEC_PER_SEC;
	}
	if (!add_ok(p->sec, sec, &sec))
		return (fail(p, DERR_OVERFLOW, 0));
	/* Exactly 1e9 is left for Duration::new, which carries it. */
	if (nsec == NSEC_PER_SEC) {
		if (!add_ok(sec, 1, &sec))
			return (fail(p, DERR_OVERFLOW, 0));
		nsec = 0;
	}
	p->sec = sec;
	p->nsec = nsec;
	return (0);
}

/*
 * num / den of a unit, as nanoseconds or seconds as sc says; 0 when
 * that overflows or is not a whole number.
 */
static int
scale(const struct scale *sc, uint64_t num, uint64_t den, uint64_t *sec,
    uint64_t *nsec)
{
	uint64_t	*out = sc->to_ns ? nsec : sec;

	if (sc->mul == 0 || !mul_ok(num, sc->mul, &num))
		return (0);
	if (den == 1) {
		*out = num;
		return (1);
	}
	return (div_exact(num, den, out));
}

static int
apply_unit(struct parser *p, uint64_t n, const struct fraction *fr,
    size_t start, size_t end)
{
	size_t		 i, ulen = end - start;
	uint64_t	 sec = 0, nsec = 0;
	enum unit	 u;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == ulen &&
		    memcmp(units[i].name, p->src + start, ulen) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0])) {
		p->unit_start = start;
		p->unit_end = end;
		p->unit_value = n;
		return (fail(p, DERR_UNKNOWN_UNIT, start));
	}
	u = units[i].unit;
	if (!scale(&scales[u].whole, n, 1, &sec, &nsec) ||
	    add_current(p, sec, nsec) == -1)
		return (fail(p, DERR_OVERFLOW, 0));
	if (fr->den == 1)
		return (0);
	sec = nsec = 0;
	if (!scale(&scales[u].frac, fr->num, fr->den, &sec, &nsec) ||
	    add_current(p, sec, nsec) == -1)
		return (fail(p, DERR_OVERFLOW, 0));
	return (0);
}

/* humantime's Parser::parse, loop for loop. */
static int
run(struct parser *p)
{
	struct fraction	 fr;
	uint64_t	 n;
	uint32_t	 c;
	size_t		 off, start;
	int		 found, next_term;

	if (first_char(p, &n, &found) == -1)
		return (-1);
	if (!found)
		return (fail(p, DERR_EMPTY, 0));
	for (;;) {
		/* The number: digits, whitespace, maybe a fraction. */
		fr.num = 0;
		fr.den = 1;
		off = p->pos;
		while (next_char(p, &c)) {
			if (c >= '0' && c <= '9') {
				if (!mul_ok(n, 10, &n) ||
				    !add_ok(n, c - '0', &n))
					return (fail(p, DERR_OVERFLOW, 0));
			} else if (is_space(c)) {
				/* skipped, even between digits */
			} else if (is_letter(c))
				break;
			else if (c == '.') {
				if (fractional_part(p, &off, &fr) == -1)
					return (-1);
				break;
			} else
				return (fail(p, DERR_INVALID_CHAR, off));
			off = p->pos;
		}

		/* The unit: letters up to whitespace or the next digit. */
		start = off;
		off = p->pos;
		next_term = 0;
		while (next_char(p, &c)) {
			if (c >= '0' && c <= '9') {
				if (apply_unit(p, n, &fr, start, off) == -1)
					return (-1);
				n = c - '0';
				next_term = 1;
				break;
			} else if (is_space(c))
				break;
			else if (!is_letter(c))
				return (fail(p, DERR_INVALID_CHAR, off));
			off = p->pos;
		}
		if (next_term)
			continue;	/* "1h30m": the next term began */

		if (apply_unit(p, n, &fr, start, off) == -1)
			return (-1);
		if (first_char(p, &n, &found) == -1)
			return (-1);
		if (!found)
			return (0);
	}
}

static void
put_error(const struct parser *p, char *errbuf, size_t errlen)
{
	if (errbuf == NULL || errlen == 0)
		return;
	switch (p->err) {
	case DERR_INVALID_CHAR:
		(void)snprintf(errbuf, errlen, "invalid character at %zu",
		    p->err_off);
		break;
	case DERR_NUMBER_EXPECTED:
		(void)snprintf(errbuf, errlen, "expected number at %zu",
		    p->err_off);
		break;
	case DERR_UNKNOWN_UNIT:
		if (p->unit_start == p->unit_end)
			(void)snprintf(errbuf, errlen,
			    "time unit needed, for example %llusec or %llums",
			    (unsigned long long)p->unit_value,
			    (unsigned long long)p->unit_value);
		else
			/* A unit is only letters and µ: no quoting needed. */
			(void)snprintf(errbuf, errlen,
			    "unknown time unit \"%.*s\", supported units: "
			    "ns, us/\xc2\xb5s, ms, sec, min, hours, days, "
			    "weeks, months, years (and few variations)",
			    (int)(p->unit_end - p->unit_start),
			    p->src + p->unit_start);
		break;
	case DERR_OVERFLOW:
		(void)strlcpy(errbuf, "number is too large or cannot be "
		    "represented without a lack of precision (values below "
		    "1ns are not supported)", errlen);
		break;
	case DERR_EMPTY:
	default:
		(void)strlcpy(errbuf, "value was empty", errlen);
		break;
	}
	utf8_clip(errbuf);
}

int
duration_parse_len(const char *s, size_t len, struct duration *d,
    char *errbuf, size_t errlen)
{
	struct parser	 p;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (s == NULL)
		len = 0;
	/* Only the exact string "0" may go without a unit. */
	if (len == 1 && s[0] == '0') {
		d->sec = 0;
		d->nsec = 0;
		return (0);
	}
	memset(&p, 0, sizeof(p));
	p.src = s != NULL ? s : "";
	p.len = len;
	if (run(&p) == -1) {
		put_error(&p, errbuf, errlen);
		return (-1);
	}
	d->sec = p.sec;
	d->nsec = (uint32_t)p.nsec;
	return (0);
}

int
duration_parse(const char *s, struct duration *d, char *errbuf,
    size_t errlen)
{
	return (duration_parse_len(s, s != NULL ? strlen(s) : 0, d, errbuf,
	    errlen));
}

/* Append " <value><name>[s]" when value > 0; returns the new offset. */
static size_t
put_item(char *buf, size_t len, size_t off, int *started, uint64_t value,
    const char *name, int plural)
{
	int	 r;

	if (value == 0)
		return (off);
	r = snprintf(buf + off, len - off, "%s%llu%s%s", *started ? " " : "",
	    (unsigned long long)value, name, plural && value > 1 ? "s" : "");
	*started = 1;
	if (r < 0 || (size_t)r >= len - off)
		return (len - 1);	/* truncated: stay at the end */
	return (off + (size_t)r);
}

void
duration_format(const struct duration *d, char *buf, size_t len)
{
	uint64_t	 secs, ydays, mdays, day_secs;
	uint32_t	 nanos;
	size_t		 off = 0;
	int		 started = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	secs = d->sec;
	nanos = d->nsec;
	/* A denormal nsec is carried, as Duration::new would. */
	if (nanos >= NSEC_PER_SEC) {
		secs = secs > UINT64_MAX - nanos / NSEC_PER_SEC ? UINT64_MAX :
		    secs + nanos / NSEC_PER_SEC;
		nanos %= NSEC_PER_SEC;
	}
	if (secs == 0 && nanos == 0) {
		(void)strlcpy(buf, "0s", len);
		return;
	}
	/* humantime's own calendar: 365.25-day years, 30.44-day months. */
	ydays = secs % SEC_PER_YEAR;
	mdays = ydays % SEC_PER_MONTH;
	day_secs = mdays % 86400;
	off = put_item(buf, len, off, &started, secs / SEC_PER_YEAR, "year", 1);
	off = put_item(buf, len, off, &started, ydays / SEC_PER_MONTH, "month",
	    1);
	off = put_item(buf, len, off, &started, mdays / 86400, "day", 1);
	off = put_item(buf, len, off, &started, day_secs / 3600, "h", 0);
	off = put_item(buf, len, off, &started, day_secs % 3600 / 60, "m", 0);
	off = put_item(buf, len, off, &started, day_secs % 60, "s", 0);
	off = put_item(buf, len, off, &started, nanos / 1000000, "ms", 0);
	off = put_item(buf, len, off, &started, nanos / 1000 % 1000, "us", 0);
	(void)put_item(buf, len, off, &started, nanos % 1000, "ns", 0);
}

uint64_t
duration_to_ms(const struct duration *d)
{
	uint64_t	 ms;

	if (!mul_ok(d->sec, 1000, &ms) || !add_ok(ms, d->nsec / 1000000, &ms))
		return (UINT64_MAX);
	return (ms);
}

uint64_t
duration_to_ns(const struct duration *d)
{
	uint64_t	 ns;

	if (!mul_ok(d->sec, NSEC_PER_SEC, &ns) || !add_ok(ns, d->nsec, &ns))
		return (UINT64_MAX);
	return (ns);
}

double
duration_to_secs(const struct duration *d)
{
	return ((double)d->sec + (double)d->nsec / 1e9);
}
