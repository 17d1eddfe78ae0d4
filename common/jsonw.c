/* SPDX-License-Identifier: ISC */
/*
 * jsonw: growable-buffer JSON writer matching serde_json's compact output.
 *
 * Strings follow serde_json's escaping (\" \\ \b \f \n \r \t, other
 * controls \u00xx, everything else raw); invalid UTF-8 becomes U+FFFD per
 * maximal subpart.  f32 values use the shortest decimal that reads back
 * as the same float, laid out as Rust's ryu crate does; the digits come
 * from an exact big-integer digit generator (Steele-White / Burger-Dybvig
 * free-format), so no libm and no locale is involved.
 */

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "utf8.h"

#define JW_MINCAP	256

/* Unsigned big integer, little-endian 32-bit limbs; values stay < 2^200. */
#define BN_LIMBS	8
struct bn {
	uint32_t	w[BN_LIMBS];
	int		n;		/* limbs in use */
};

static void	bn_set(struct bn *, uint64_t);
static void	bn_shl(struct bn *, unsigned int);
static void	bn_mul(struct bn *, uint32_t);
static void	bn_mulpow10(struct bn *, int);
static void	bn_add(struct bn *, const struct bn *, const struct bn *);
static void	bn_sub(struct bn *, const struct bn *);
static int	bn_cmp(const struct bn *, const struct bn *);
static int	gen_small(uint32_t, int, int, int, int, char *, int *);
static int	gen_big(uint32_t, int, int, int, int, char *, int *);
static int	f32_digits(float, char *, int *);
static void	jw_put(struct jw *, const char *, size_t);

static const char hexdig[] = "0123456789abcdef";

void
jw_init(struct jw *w)
{
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
	w->failed = 0;
}

void
jw_free(struct jw *w)
{
	free(w->buf);
	jw_init(w);
}

void
jw_reset(struct jw *w)
{
	w->len = 0;
	w->failed = 0;
}

int
jw_reserve(struct jw *w, size_t n)
{
	size_t	 want, ncap;
	char	*nb;

	if (w->failed)
		return (-1);
	/* Always keep one byte spare for the terminating NUL. */
	if (n > SIZE_MAX - w->len - 1) {
		w->failed = 1;
		return (-1);
	}
	want = w->len + n + 1;
	if (want <= w->cap)
		return (0);
	ncap = w->cap < JW_MINCAP ? JW_MINCAP : w->cap;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2) {
			ncap = want;
			break;
		}
		ncap *= 2;
	}
	if ((nb = realloc(w->buf, ncap)) == NULL) {
		w->failed = 1;
		return (-1);
	}
	w->buf = nb;
	w->cap = ncap;
	return (0);
}

char *
jw_detach(struct jw *w, size_t *lenp)
{
	char	*s;

	if (w->failed || jw_reserve(w, 0) == -1) {
		jw_free(w);
		return (NULL);
	}
	w->buf[w->len] = '\0';
	s = w->buf;
	if (lenp != NULL)
		*lenp = w->len;
	jw_init(w);
	return (s);
}

/* Append bytes the caller already made room for. */
static void
jw_put(struct jw *w, const char *s, size_t n)
{
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* jw_raw()'s slow path: make room, then append. */
void
jw_raw_grow(struct jw *w, const char *s, size_t n)
{
	if (jw_reserve(w, n) == -1)
		return;
	jw_put(w, s, n);
}

void
jw_rawz(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

void
jw_null(struct jw *w)
{
	jw_raw(w, "null", 4);
}

void
jw_bool(struct jw *w, int b)
{
	if (b)
		jw_raw(w, "true", 4);
	else
		jw_raw(w, "false", 5);
}

void
jw_u64(struct jw *w, uint64_t v)
{
	uint64_t	 t;
	size_t		 n = 1, i;

	for (t = v; t >= 10; t /= 10)
		n++;
	if (w->cap - w->len <= n && jw_reserve(w, n) == -1)
		return;
	/* Write the digits in place, last first. */
	for (i = n; i > 0; i--) {
		w->buf[w->len + i - 1] = '0' + (char)(v % 10);
		v /= 10;
	}
	w->len += n;
}

void
jw_i64(struct jw *w, int64_t v)
{
	if (v < 0) {
		jw_char(w, '-');
		/* Negate in unsigned arithmetic so INT64_MIN works. */
		jw_u64(w, (uint64_t)0 - (uint64_t)v);
	} else
		jw_u64(w, (uint64_t)v);
}

void
jw_f32(struct jw *w, float f)
{
	char	 tmp[JW_F32_MAX];
	size_t	 n;

	if (!isfinite(f)) {
		jw_null(w);
		return;
	}
	n = jw_fmt_f32(f, tmp);
	jw_raw(w, tmp, n);
}

void
jw_strz(struct jw *w, const char *s)
{
	if (s == NULL)
		jw_null(w);
	else
		jw_str(w, s, strlen(s));
}

void
jw_str(struct jw *w, const char *s, size_t n)
{
	/* Usually nothing needs escaping: one reservation covers it all. */
	if (jw_reserve(w, n + 2) == -1)
		return;
	w->buf[w->len++] = '"';
	jw_str_body(w, s, n);
	jw_char(w, '"');
}

/* The inside of a string, escaped as jw_str() does: a long text in parts. */
void
jw_str_body(struct jw *w, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*end = p + n, *run;
	unsigned char		 c;
	uint32_t		 cp;
	size_t			 l;
	char			 esc[6];

	run = p;
	while (p < end) {
		c = *p;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			p++;
			continue;
		}
		if (c >= 0x80) {
			l = utf8_decode(p, (size_t)(end - p), &cp);
			if (cp != UTF8_INVALID) {
				p += l;
				continue;
			}
			jw_raw(w, (const char *)run, (size_t)(p - run));
			jw_raw(w, "\xef\xbf\xbd", 3);
			p += l;
			run = p;
			continue;
		}
		jw_raw(w, (const char *)run, (size_t)(p - run));
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hexdig[c >> 4];
			esc[5] = hexdig[c & 0xf];
			jw_raw(w, esc, 6);
			p++;
			run = p;
			continue;
		}
		jw_raw(w, esc, 2);
		p++;
		run = p;
	}
	jw_raw(w, (const char *)run, (size_t)(p - run));
}

/*
 * Big-integer helpers for the float digit generator.  Sizes: for an f32
 * the scaled numbers stay below 2^190, so 8 limbs always suffice.
 */
static void
bn_set(struct bn *a, uint64_t v)
{
	memset(a, 0, sizeof(*a));
	a->w[0] = (uint32_t)v;
	a->w[1] = (uint32_t)(v >> 32);
	a->n = a->w[1] != 0 ? 2 : (a->w[0] != 0 ? 1 : 0);
}

static void
bn_shl(struct bn *a, unsigned int bits)
{
	unsigned int	 limbs = bits / 32, sh = bits % 32;
	int		 i;

	if (a->n == 0)
		return;
	if (limbs > 0) {
		for (i = a->n - 1; i >= 0; i--)
			a->w[i + limbs] = a->w[i];
		for (i = 0; i < (int)limbs; i++)
			a->w[i] = 0;
		a->n += limbs;
	}
	if (sh > 0) {
		a->w[a->n] = 0;
		for (i = a->n; i > 0; i--)
			a->w[i] = (a->w[i] << sh) | (a->w[i - 1] >> (32 - sh));
		a->w[0] <<= sh;
		if (a->w[a->n] != 0)
			a->n++;
	}
}

static void
bn_mul(struct bn *a, uint32_t m)
{
	uint64_t	 carry = 0, t;
	int		 i;

	for (i = 0; i < a->n; i++) {
		t = (uint64_t)a->w[i] * m + carry;
		a->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	if (carry != 0)
		a->w[a->n++] = (uint32_t)carry;
}

static void
bn_mulpow10(struct bn *a, int k)
{
	for (; k >= 9; k -= 9)
		bn_mul(a, 1000000000U);
	for (; k > 0; k--)
		bn_mul(a, 10);
}

static void
bn_add(struct bn *r, const struct bn *a, const struct bn *b)
{
	uint64_t	 carry = 0, t;
	int		 i, n = a->n > b->n ? a->n : b->n;

	for (i = 0; i < n; i++) {
		t = carry;
		if (i < a->n)
			t += a->w[i];
		if (i < b->n)
			t += b->w[i];
		r->w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	r->n = n;
	if (carry != 0)
		r->w[r->n++] = (uint32_t)carry;
}

/* a -= b, where a >= b. */
static void
bn_sub(struct bn *a, const struct bn *b)
{
	uint64_t	 borrow = 0, t;
	int		 i;

	for (i = 0; i < a->n; i++) {
		t = (uint64_t)a->w[i] - (i < b->n ? b->w[i] : 0) - borrow;
		a->w[i] = (uint32_t)t;
		borrow = (t >> 63) & 1;
	}
	while (a->n > 0 && a->w[a->n - 1] == 0)
		a->n--;
}

static int
bn_cmp(const struct bn *a, const struct bn *b)
{
	int	 i;

	if (a->n != b->n)
		return (a->n < b->n ? -1 : 1);
	for (i = a->n - 1; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return (a->w[i] < b->w[i] ? -1 : 1);
	return (0);
}

/* u64 arithmetic suffices while the scaled values stay below this. */
#define SMALL_LIMIT	(UINT64_C(1) << 59)

/*
 * Free-format digit generation (Steele & White, Burger & Dybvig).  With
 * f = r/s * 10^k and the rounding interval [f - mm/s, f + mp/s] in the
 * same scale, emit digits until one that lands inside the interval; the
 * last digit goes to whichever neighbour is closer.  This version runs
 * in u64 and returns -1 when the numbers would not fit.
 */
static int
gen_small(uint32_t frac, int e, int unequal, int even, int k, char *dig,
    int *kp)
{
	uint64_t	 r, s, mp, mm;
	int		 n = 0, d, tc1, tc2, i;

	if (e >= 0) {
		if (e > 32)
			return (-1);
		r = (uint64_t)frac << (e + (unequal ? 2 : 1));
		s = unequal ? 4 : 2;
		mm = (uint64_t)1 << e;
		mp = (uint64_t)1 << (e + (unequal ? 1 : 0));
	} else {
		if (-e > 56)
			return (-1);
		r = (uint64_t)frac << (unequal ? 2 : 1);
		s = (uint64_t)1 << (-e + (unequal ? 2 : 1));
		mm = 1;
		mp = unequal ? 2 : 1;
	}
	for (i = 0; i < k; i++) {
		if (s >= SMALL_LIMIT / 10)
			return (-1);
		s *= 10;
	}
	for (i = 0; i > k; i--) {
		if (r >= SMALL_LIMIT / 10 || mp >= SMALL_LIMIT / 10)
			return (-1);
		r *= 10;
		mp *= 10;
		mm *= 10;
	}
	for (;;) {
		if (r + mp > s || (even && r + mp == s)) {
			if (s >= SMALL_LIMIT / 10)
				return (-1);
			s *= 10;
			k++;
		} else if ((r + mp) * 10 < s || (!even && (r + mp) * 10 == s)) {
			r *= 10;
			mp *= 10;
			mm *= 10;
			k--;
		} else
			break;
	}
	if (s >= SMALL_LIMIT)
		return (-1);
	/* Now r < s, mp <= s, so ten times any of them fits. */
	for (;;) {
		r *= 10;
		mp *= 10;
		mm *= 10;
		d = (int)(r / s);
		r %= s;
		tc1 = even ? r <= mm : r < mm;
		tc2 = even ? r + mp >= s : r + mp > s;
		if (!tc1 && !tc2) {
			dig[n++] = (char)d;
			if (n >= 17)
				break;
			continue;
		}
		if (tc1 && tc2) {
			if (2 * r > s || (2 * r == s && (d & 1)))
				d++;
		} else if (tc2)
			d++;
		dig[n++] = (char)d;
		break;
	}
	*kp = k;
	return (n);
}

/* The same in big integers, for the magnitudes u64 cannot hold. */
static int
gen_big(uint32_t frac, int e, int unequal, int even, int k, char *dig,
    int *kp)
{
	struct bn	 r, s, mp, mm, sum;
	int		 n = 0, d, c, tc1, tc2;

	if (e >= 0) {
		bn_set(&r, frac);
		bn_shl(&r, (unsigned int)e + (unequal ? 2 : 1));
		bn_set(&s, unequal ? 4 : 2);
		bn_set(&mm, 1);
		bn_shl(&mm, (unsigned int)e);
		bn_set(&mp, 1);
		bn_shl(&mp, (unsigned int)e + (unequal ? 1 : 0));
	} else {
		bn_set(&r, (uint64_t)frac << (unequal ? 2 : 1));
		bn_set(&s, 1);
		bn_shl(&s, (unsigned int)(-e) + (unequal ? 2 : 1));
		bn_set(&mm, 1);
		bn_set(&mp, unequal ? 2 : 1);
	}
	if (k >= 0)
		bn_mulpow10(&s, k);
	else {
		bn_mulpow10(&r, -k);
		bn_mulpow10(&mp, -k);
		bn_mulpow10(&mm, -k);
	}
	for (;;) {
		/* Too small: the high bound reaches 10^k. */
		bn_add(&sum, &r, &mp);
		c = bn_cmp(&sum, &s);
		if (c > 0 || (even && c == 0)) {
			bn_mul(&s, 10);
			k++;
			continue;
		}
		/* Too large: the first digit would be zero. */
		bn_mul(&sum, 10);
		c = bn_cmp(&sum, &s);
		if (c < 0 || (!even && c == 0)) {
			bn_mul(&r, 10);
			bn_mul(&mp, 10);
			bn_mul(&mm, 10);
			k--;
			continue;
		}
		break;
	}
	for (;;) {
		bn_mul(&r, 10);
		bn_mul(&mp, 10);
		bn_mul(&mm, 10);
		d = 0;
		while (bn_cmp(&r, &s) >= 0) {
			bn_sub(&r, &s);
			d++;
		}
		c = bn_cmp(&r, &mm);
		tc1 = even ? c <= 0 : c < 0;
		bn_add(&sum, &r, &mp);
		c = bn_cmp(&sum, &s);
		tc2 = even ? c >= 0 : c > 0;
		if (!tc1 && !tc2) {
			dig[n++] = (char)d;
			if (n >= 17)		/* cannot happen for an f32 */
				break;
			continue;
		}
		if (tc1 && tc2) {
			/* Both neighbours qualify: take the nearer one. */
			sum = r;
			bn_mul(&sum, 2);
			c = bn_cmp(&sum, &s);
			if (c > 0 || (c == 0 && (d & 1)))
				d++;
		} else if (tc2)
			d++;
		dig[n++] = (char)d;
		break;
	}
	*kp = k;
	return (n);
}

/*
 * Shortest digits of a finite, non-zero |f| such that reading them back
 * gives f, the closest such to f's exact value.  Writes ASCII digits (no
 * trailing zeros) to dig, the decimal exponent k with f ~ 0.DIGITS * 10^k
 * to *kp, and returns the number of digits.
 */
static int
f32_digits(float f, char *dig, int *kp)
{
	uint32_t	 bits, frac;
	int		 bexp, e, k, even, unequal, n, i, e2, b;

	memcpy(&bits, &f, sizeof(bits));
	frac = bits & 0x7fffff;
	bexp = (int)((bits >> 23) & 0xff);
	if (bexp == 0)
		e = -149;			/* subnormal */
	else {
		frac |= 0x800000;
		e = bexp - 150;
	}
	/* Value is frac * 2^e.  Bounds are inclusive for even mantissas. */
	even = (frac & 1) == 0;
	/* The gap below a power of two is half the gap above it. */
	unequal = frac == 0x800000 && bexp > 1;
	/* Estimate k = ceil(log10(f)) from the binary exponent. */
	for (b = 0, i = 0; i < 24; i++)
		if ((frac >> i) & 1)
			b = i + 1;
	e2 = e + b - 1;				/* floor(log2(f)) */
	if (e2 >= 0)
		k = (int)(((int64_t)e2 * 78913) >> 18) + 1;
	else
		k = -(int)(((int64_t)-e2 * 78913) >> 18);
	if ((n = gen_small(frac, e, unequal, even, k, dig, kp)) == -1)
		n = gen_big(frac, e, unequal, even, k, dig, kp);
	/* Propagate a carry out of a rounded-up 9 (defensive). */
	for (i = n - 1; i > 0 && dig[i] == 10; i--) {
		dig[i] = 0;
		dig[i - 1]++;
	}
	if (dig[0] == 10) {
		dig[0] = 1;
		for (i = 1; i < n; i++)
			dig[i] = 0;
		(*kp)++;
	}
	while (n > 1 && dig[n - 1] == 0)
		n--;
	for (i = 0; i < n; i++)
		dig[i] += '0';
	return (n);
}

size_t
jw_fmt_f32(float f, char *buf)
{
	char	 dig[20];
	size_t	 o = 0;
	int	 n, kk, i, x;

	if (signbit(f)) {
		buf[o++] = '-';
		f = -f;
	}
	if (f == 0.0f) {
		memcpy(buf + o, "0.0", 4);
		return (o + 3);
	}
	if (!isfinite(f)) {
		/* Callers render these as null; keep the text well defined. */
		memcpy(buf, "null", 5);
		return (4);
	}
	n = f32_digits(f, dig, &kk);
	/* Value is DIGITS * 10^(kk - n); layout as ryu's format32. */
	if (kk >= n && kk <= 13) {
		memcpy(buf + o, dig, (size_t)n);
		o += (size_t)n;
		for (i = n; i < kk; i++)
			buf[o++] = '0';
		buf[o++] = '.';
		buf[o++] = '0';
	} else if (kk > 0 && kk <= 13) {
		memcpy(buf + o, dig, (size_t)kk);
		o += (size_t)kk;
		buf[o++] = '.';
		memcpy(buf + o, dig + kk, (size_t)(n - kk));
		o += (size_t)(n - kk);
	} else if (kk > -6 && kk <= 0) {
		buf[o++] = '0';
		buf[o++] = '.';
		for (i = kk; i < 0; i++)
			buf[o++] = '0';
		memcpy(buf + o, dig, (size_t)n);
		o += (size_t)n;
	} else {
		buf[o++] = dig[0];
		if (n > 1) {
			buf[o++] = '.';
			memcpy(buf + o, dig + 1, (size_t)(n - 1));
			o += (size_t)(n - 1);
		}
		buf[o++] = 'e';
		x = kk - 1;
		if (x < 0) {
			buf[o++] = '-';
			x = -x;
		}
		if (x >= 10)
			buf[o++] = '0' + (char)(x / 10);
		buf[o++] = '0' + (char)(x % 10);
	}
	buf[o] = '\0';
	return (o);
}
