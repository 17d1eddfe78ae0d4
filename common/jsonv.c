/*
 * jsonv: strict JSON validator and a reader over validated text.
 *
 * The validator is a recursive-descent recogniser whose recursion is
 * bounded by maxdepth.  To find duplicate keys it records where each key
 * of the objects being parsed starts (a stack: a nested object's keys sit
 * above its parent's and are dropped when it closes).  When an object
 * closes, small ones are checked pairwise; larger ones are sorted by a
 * SipHash of each decoded key and only equal hashes are compared, so a
 * hostile object with millions of keys costs O(n log n) and no copies.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonv.h"
#include "jsonw.h"
#include "utf8.h"

/* Significant digits handed to strtof; more would not change an f32. */
#define JV_F32_DIGITS	800
/* Objects with more keys than this are checked by hashing, not pairwise. */
#define JV_PAIRWISE	8

struct vkey {
	uint64_t	 h;		/* hash of the decoded key */
	size_t		 off;		/* the key's opening quote */
};

struct vst {
	const unsigned char	*s;
	const unsigned char	*p;
	const unsigned char	*end;
	int			 maxdepth;
	struct vkey		*ke;		/* keys of the open objects */
	size_t			 kn;
	size_t			 kcap;
	const char		*msg;
	size_t			 erroff;
	size_t			 dupoff;	/* duplicate key or SIZE_MAX */
};

/* Byte-at-a-time reader of a validated string's decoded content. */
struct dcur {
	const unsigned char	*p;
	unsigned char		 b[4];
	size_t			 n;
	size_t			 i;
};

static int	v_value(struct vst *, int);
static int	v_object(struct vst *, int);
static int	v_array(struct vst *, int);
static int	v_string(struct vst *);
static int	v_number(struct vst *);
static int	v_literal(struct vst *, const char *, size_t);
static int	v_fail(struct vst *, const unsigned char *, const char *);
static void	v_ws(struct vst *);
static int	v_dupcheck(struct vst *, size_t);
static void	v_hsort(struct vkey *, size_t, int);
static void	dcur_init(struct dcur *, const unsigned char *);
static int	dcur_byte(struct dcur *);
static int	key_eq(const unsigned char *, const unsigned char *);
static uint64_t	key_hash(const unsigned char *);
static int	hexval(int);
static const char *skip_ws(const char *, const char *);
static const char *skip_value(const char *, const char *);
static size_t	dec_next(const unsigned char **, unsigned char *);

static int
v_fail(struct vst *v, const unsigned char *at, const char *msg)
{
	if (v->msg == NULL) {
		v->msg = msg;
		v->erroff = (size_t)(at - v->s);
	}
	return (-1);
}

static void
v_ws(struct vst *v)
{
	while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' ||
	    *v->p == '\n' || *v->p == '\r'))
		v->p++;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* A string at v->p (the opening quote). */
static int
v_string(struct vst *v)
{
	const unsigned char	*start = v->p, *q;
	unsigned char		 c;
	uint32_t		 cp, lo;
	size_t			 l;
	int			 i, h;

	v->p++;
	for (;;) {
		/* The common case: a run of plain printable ASCII. */
		while (v->p < v->end && *v->p >= 0x20 && *v->p < 0x80 &&
		    *v->p != '"' && *v->p != '\\')
			v->p++;
		if (v->p >= v->end)
			return (v_fail(v, start, "unterminated string"));
		c = *v->p;
		if (c == '"') {
			v->p++;
			return (0);
		}
		if (c < 0x20)
			return (v_fail(v, v->p,
			    "control character in string"));
		if (c >= 0x80) {
			l = utf8_decode(v->p, (size_t)(v->end - v->p), &cp);
			if (cp == UTF8_INVALID)
				return (v_fail(v, v->p, "invalid UTF-8"));
			v->p += l;
			continue;
		}
		/* A backslash escape. */
		q = v->p;
		if (v->end - v->p < 2)
			return (v_fail(v, start, "unterminated string"));
		c = v->p[1];
		v->p += 2;
		if (c == '"' || c == '\\' || c == '/' || c == 'b' ||
		    c == 'f' || c == 'n' || c == 'r' || c == 't')
			continue;
		if (c != 'u')
			return (v_fail(v, q, "invalid escape"));
		cp = 0;
		for (i = 0; i < 4; i++) {
			if (v->p >= v->end || (h = hexval(*v->p)) == -1)
				return (v_fail(v, q, "invalid \\u escape"));
			cp = cp << 4 | (uint32_t)h;
			v->p++;
		}
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return (v_fail(v, q, "lone surrogate escape"));
		if (cp < 0xd800 || cp > 0xdbff)
			continue;
		/* A high surrogate must be followed by an escaped low one. */
		if (v->end - v->p < 6 || v->p[0] != '\\' || v->p[1] != 'u')
			return (v_fail(v, q, "lone surrogate escape"));
		lo = 0;
		for (i = 2; i < 6; i++) {
			if ((h = hexval(v->p[i])) == -1)
				return (v_fail(v, v->p, "invalid \\u escape"));
			lo = lo << 4 | (uint32_t)h;
		}
		if (lo < 0xdc00 || lo > 0xdfff)
			return (v_fail(v, q, "lone surrogate escape"));
		v->p += 6;
	}
}

static int
v_number(struct vst *v)
{
	const unsigned char	*start = v->p;

	if (v->p < v->end && *v->p == '-')
		v->p++;
	if (v->p >= v->end || *v->p < '0' || *v->p > '9')
		return (v_fail(v, start, "invalid number"));
	if (*v->p == '0') {
		v->p++;
		if (v->p < v->end && *v->p >= '0' && *v->p <= '9')
			return (v_fail(v, start, "leading zero in number"));
	} else
		while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
			v->p++;
	if (v->p < v->end && *v->p == '.') {
		v->p++;
		if (v->p >= v->end || *v->p < '0' || *v->p > '9')
			return (v_fail(v, start, "invalid number"));
		while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
			v->p++;
	}
	if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
		v->p++;
		if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
			v->p++;
		if (v->p >= v->end || *v->p < '0' || *v->p > '9')
			return (v_fail(v, start, "invalid number"));
		while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
			v->p++;
	}
	return (0);
}

static int
v_literal(struct vst *v, const char *lit, size_t n)
{
	if ((size_t)(v->end - v->p) < n || memcmp(v->p, lit, n) != 0)
		return (v_fail(v, v->p, "invalid literal"));
	v->p += n;
	return (0);
}

static int
v_value(struct vst *v, int depth)
{
	v_ws(v);
	if (v->p >= v->end)
		return (v_fail(v, v->p, "unexpected end of input"));
	switch (*v->p) {
	case '{':
		return (v_object(v, depth + 1));
	case '[':
		return (v_array(v, depth + 1));
	case '"':
		return (v_string(v));
	case 't':
		return (v_literal(v, "true", 4));
	case 'f':
		return (v_literal(v, "false", 5));
	case 'n':
		return (v_literal(v, "null", 4));
	default:
		if (*v->p == '-' || (*v->p >= '0' && *v->p <= '9'))
			return (v_number(v));
		return (v_fail(v, v->p, "expected a value"));
	}
}

static int
v_array(struct vst *v, int depth)
{
	if (depth > v->maxdepth)
		return (v_fail(v, v->p, "nesting too deep"));
	v->p++;
	v_ws(v);
	if (v->p < v->end && *v->p == ']') {
		v->p++;
		return (0);
	}
	for (;;) {
		if (v_value(v, depth) == -1)
			return (-1);
		v_ws(v);
		if (v->p >= v->end)
			return (v_fail(v, v->p, "unterminated array"));
		if (*v->p == ']') {
			v->p++;
			return (0);
		}
		if (*v->p != ',')
			return (v_fail(v, v->p, "expected ',' or ']'"));
		v->p++;
	}
}

static int
v_object(struct vst *v, int depth)
{
	struct vkey	*nk;
	size_t		 mark = v->kn, ncap;
	const unsigned char *kp;

	if (depth > v->maxdepth)
		return (v_fail(v, v->p, "nesting too deep"));
	v->p++;
	v_ws(v);
	if (v->p < v->end && *v->p == '}') {
		v->p++;
		return (0);
	}
	for (;;) {
		v_ws(v);
		if (v->p >= v->end)
			return (v_fail(v, v->p, "unterminated object"));
		if (*v->p != '"')
			return (v_fail(v, v->p, "expected a string key"));
		kp = v->p;
		if (v_string(v) == -1)
			return (-1);
		if (v->kn == v->kcap) {
			ncap = v->kcap == 0 ? 32 : v->kcap * 2;
			nk = reallocarray(v->ke, ncap, sizeof(*nk));
			if (nk == NULL)
				return (v_fail(v, kp, "out of memory"));
			v->ke = nk;
			v->kcap = ncap;
		}
		v->ke[v->kn].off = (size_t)(kp - v->s);
		v->ke[v->kn].h = 0;
		v->kn++;
		v_ws(v);
		if (v->p >= v->end || *v->p != ':')
			return (v_fail(v, v->p, "expected ':'"));
		v->p++;
		if (v_value(v, depth) == -1)
			return (-1);
		v_ws(v);
		if (v->p >= v->end)
			return (v_fail(v, v->p, "unterminated object"));
		if (*v->p == '}')
			break;
		if (*v->p != ',')
			return (v_fail(v, v->p, "expected ',' or '}'"));
		v->p++;
	}
	if (v_dupcheck(v, mark) == -1)
		return (v_fail(v, v->s + v->dupoff, "duplicate key"));
	v->p++;
	/* This object's keys are no longer needed. */
	v->kn = mark;
	return (0);
}

static void
dcur_init(struct dcur *c, const unsigned char *quote)
{
	c->p = quote + 1;
	c->n = c->i = 0;
}

/* Next decoded byte, or -1 at the closing quote. */
static int
dcur_byte(struct dcur *c)
{
	if (c->i < c->n)
		return (c->b[c->i++]);
	if (*c->p == '"')
		return (-1);
	if (*c->p != '\\')
		return (*c->p++);
	c->n = dec_next(&c->p, c->b);
	c->i = 1;
	return (c->b[0]);
}

/* Do two validated strings (at their opening quotes) decode equal? */
static int
key_eq(const unsigned char *a, const unsigned char *b)
{
	struct dcur	 ca, cb;
	int		 x, y;

	dcur_init(&ca, a);
	dcur_init(&cb, b);
	do {
		x = dcur_byte(&ca);
		y = dcur_byte(&cb);
		if (x != y)
			return (0);
	} while (x != -1);
	return (1);
}

#define ROTL64(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32);	\
	v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32);	\
} while (0)

/*
 * SipHash-2-4 of a validated string's decoded bytes.  The key is fixed
 * and public: what matters is that nobody can build many keys with one
 * 64-bit hash, which keeps the duplicate check O(n log n).
 */
static uint64_t
key_hash(const unsigned char *quote)
{
	const uint64_t	 k0 = 0x0706050403020100ULL;
	const uint64_t	 k1 = 0x0f0e0d0c0b0a0908ULL;
	uint64_t	 v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t	 v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t	 v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t	 v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t	 m = 0, total = 0;
	struct dcur	 c;
	int		 b, fill = 0;

	dcur_init(&c, quote);
	while ((b = dcur_byte(&c)) != -1) {
		m |= (uint64_t)b << (8 * fill);
		total++;
		if (++fill == 8) {
			v3 ^= m;
			SIPROUND(v0, v1, v2, v3);
			SIPROUND(v0, v1, v2, v3);
			v0 ^= m;
			m = 0;
			fill = 0;
		}
	}
	m |= total << 56;
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return (v0 ^ v1 ^ v2 ^ v3);
}

/*
 * Sort by hash: in-place MSD radix sort, one byte per level, so at most
 * eight O(n) passes whatever the hashes are; short runs by insertion.
 */
static void
v_hsort(struct vkey *k, size_t n, int shift)
{
	size_t		 next[256], end[256], i, j, b, d, o;
	struct vkey	 x, t;

	if (n < 32) {
		for (i = 1; i < n; i++) {
			x = k[i];
			for (j = i; j > 0 && k[j - 1].h > x.h; j--)
				k[j] = k[j - 1];
			k[j] = x;
		}
		return;
	}
	memset(end, 0, sizeof(end));
	for (i = 0; i < n; i++)
		end[(k[i].h >> shift) & 0xff]++;
	for (o = 0, b = 0; b < 256; b++) {
		next[b] = o;
		o += end[b];
		end[b] = o;
	}
	for (b = 0; b < 256; b++) {
		while (next[b] < end[b]) {
			x = k[next[b]];
			d = (x.h >> shift) & 0xff;
			while (d != b) {
				t = k[next[d]];
				k[next[d]++] = x;
				x = t;
				d = (x.h >> shift) & 0xff;
			}
			k[next[b]++] = x;
		}
	}
	if (shift == 0)
		return;
	for (o = 0, b = 0; b < 256; b++) {
		v_hsort(k + o, end[b] - o, shift - 8);
		o = end[b];
	}
}

/* Keys ke[mark..kn) of one object: are any two equal? */
static int
v_dupcheck(struct vst *v, size_t mark)
{
	struct vkey	*k = v->ke + mark;
	size_t		 n = v->kn - mark, i, j;

	if (n <= JV_PAIRWISE) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (key_eq(v->s + k[i].off, v->s + k[j].off)) {
					v->dupoff = k[j].off;
					return (-1);
				}
		return (0);
	}
	for (i = 0; i < n; i++)
		k[i].h = key_hash(v->s + k[i].off);
	v_hsort(k, n, 56);
	/* Equal hashes sit together; compare within each run. */
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && k[j - 1].h == k[i].h; j--)
			if (key_eq(v->s + k[j - 1].off, v->s + k[i].off)) {
				v->dupoff = k[i].off;
				return (-1);
			}
	}
	return (0);
}

int
jv_check(const char *buf, size_t len, int maxdepth, char *err, size_t errlen)
{
	struct vst	 v;
	struct dcur	 c;
	int		 rc, b;
	size_t		 i;
	char		 kname[48];

	memset(&v, 0, sizeof(v));
	v.s = v.p = (const unsigned char *)buf;
	v.end = v.s + len;
	v.maxdepth = maxdepth;
	v.dupoff = SIZE_MAX;
	rc = v_value(&v, 0);
	if (rc == 0) {
		v_ws(&v);
		if (v.p != v.end)
			rc = v_fail(&v, v.p, "trailing characters");
	}
	if (rc == -1 && err != NULL && errlen > 0) {
		kname[0] = '\0';
		if (v.dupoff != SIZE_MAX) {
			/* Name the key only if it is short printable ASCII. */
			kname[0] = ' ';
			kname[1] = '"';
			i = 2;
			dcur_init(&c, v.s + v.dupoff);
			while ((b = dcur_byte(&c)) != -1 &&
			    i < sizeof(kname) - 2 && b >= 0x20 && b <= 0x7e &&
			    b != '"' && b != '\\')
				kname[i++] = (char)b;
			kname[i++] = '"';
			kname[i] = '\0';
			if (b != -1)
				kname[0] = '\0';
		}
		(void)snprintf(err, errlen, "invalid JSON: %s%s at byte %zu",
		    v.msg, kname, v.erroff);
	}
	free(v.ke);
	return (rc);
}

/*
 * Reader.  Everything below trusts that jv_check() accepted the text;
 * bounds are still respected so a misuse cannot read past the buffer.
 */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return (p);
}

static const char *
skip_value(const char *p, const char *end)
{
	size_t	 depth = 0;
	int	 instr = 0;

	if (p >= end)
		return (p);
	switch (*p) {
	case 't':
	case 'n':
		return (end - p < 4 ? end : p + 4);
	case 'f':
		return (end - p < 5 ? end : p + 5);
	case '"':
	case '{':
	case '[':
		break;
	default:
		while (p < end && ((*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '+' || *p == '.' || *p == 'e' || *p == 'E'))
			p++;
		return (p);
	}
	for (; p < end; p++) {
		if (instr) {
			while (p < end && *p != '"' && *p != '\\')
				p++;
			if (p >= end)
				break;
			if (*p == '\\')
				p++;
			else {
				instr = 0;
				if (depth == 0)
					return (p + 1);
			}
			continue;
		}
		switch (*p) {
		case '"':
			instr = 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return (p + 1);
			break;
		}
	}
	return (end);
}

static void
jv_make(const char *p, const char *end, struct jv *out)
{
	const char	*e = skip_value(p, end);

	out->p = p;
	out->len = (size_t)(e - p);
	if (p >= end) {
		out->type = JV_NULL;
		out->len = 0;
		return;
	}
	switch (*p) {
	case '{':
		out->type = JV_OBJECT;
		break;
	case '[':
		out->type = JV_ARRAY;
		break;
	case '"':
		out->type = JV_STRING;
		break;
	case 't':
		out->type = JV_TRUE;
		break;
	case 'f':
		out->type = JV_FALSE;
		break;
	case 'n':
		out->type = JV_NULL;
		break;
	default:
		out->type = JV_NUMBER;
		break;
	}
}

void
jv_root(const char *buf, size_t len, struct jv *out)
{
	const char	*end = buf + len;

	jv_make(skip_ws(buf, end), end, out);
}

void
jv_iter(const struct jv *c, struct jv_iter *it)
{
	it->end = c->p + c->len;
	it->p = c->p;
	if (c->len > 0 && (c->type == JV_ARRAY || c->type == JV_OBJECT)) {
		it->p++;
		it->end--;		/* the closing bracket */
	} else
		it->p = it->end;
}

int
jv_next(struct jv_iter *it, struct jv *key, struct jv *val)
{
	const char	*p;

	p = skip_ws(it->p, it->end);
	if (p < it->end && *p == ',')
		p = skip_ws(p + 1, it->end);
	if (p >= it->end) {
		it->p = it->end;
		return (0);
	}
	if (key != NULL) {
		jv_make(p, it->end, key);
		p = skip_ws(p + key->len, it->end);
		if (p < it->end && *p == ':')
			p++;
		p = skip_ws(p, it->end);
	}
	jv_make(p, it->end, val);
	it->p = p + val->len;
	return (1);
}

size_t
jv_count(const struct jv *c)
{
	struct jv_iter	 it;
	struct jv	 k, v;
	size_t		 n = 0;

	jv_iter(c, &it);
	while (jv_next(&it, c->type == JV_OBJECT ? &k : NULL, &v))
		n++;
	return (n);
}

const char *
jv_typename(const struct jv *v)
{
	switch (v->type) {
	case JV_NULL:
		return ("null");
	case JV_FALSE:
	case JV_TRUE:
		return ("boolean");
	case JV_NUMBER:
		return ("number");
	case JV_STRING:
		return ("string");
	case JV_ARRAY:
		return ("array");
	case JV_OBJECT:
		return ("object");
	}
	return ("value");
}

/*
 * Next decoded character of validated string content at *pp (which is
 * before the closing quote): its UTF-8 bytes into out, returns count.
 */
static size_t
dec_next(const unsigned char **pp, unsigned char *out)
{
	const unsigned char	*p = *pp;
	uint32_t		 cp, lo;
	int			 i;

	if (*p != '\\') {
		out[0] = *p;
		*pp = p + 1;
		return (1);
	}
	switch (p[1]) {
	case 'b':
		out[0] = '\b';
		break;
	case 'f':
		out[0] = '\f';
		break;
	case 'n':
		out[0] = '\n';
		break;
	case 'r':
		out[0] = '\r';
		break;
	case 't':
		out[0] = '\t';
		break;
	case 'u':
		cp = 0;
		for (i = 2; i < 6; i++)
			cp = cp << 4 | (uint32_t)hexval(p[i]);
		p += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			lo = 0;
			for (i = 2; i < 6; i++)
				lo = lo << 4 | (uint32_t)hexval(p[i]);
			p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		*pp = p;
		return (utf8_encode(cp, out));
	default:
		out[0] = p[1];		/* \" \\ \/ */
		break;
	}
	*pp = p + 2;
	return (1);
}

int
jv_streq(const struct jv *v, const char *s, size_t n)
{
	const unsigned char	*p, *end;
	unsigned char		 b[4];
	size_t			 l, o = 0;

	if (v->type != JV_STRING || v->len < 2)
		return (0);
	p = (const unsigned char *)v->p + 1;
	end = (const unsigned char *)v->p + v->len - 1;
	/* Without escapes the text is the value. */
	if (memchr(p, '\\', (size_t)(end - p)) == NULL)
		return ((size_t)(end - p) == n && memcmp(p, s, n) == 0);
	while (p < end) {
		l = dec_next(&p, b);
		if (l > n - o || memcmp(s + o, b, l) != 0)
			return (0);
		o += l;
	}
	return (o == n);
}

size_t
jv_strdec(const struct jv *v, char *out)
{
	const unsigned char	*p, *end;
	size_t			 o = 0;

	if (v->type != JV_STRING || v->len < 2)
		return (0);
	p = (const unsigned char *)v->p + 1;
	end = (const unsigned char *)v->p + v->len - 1;
	while (p < end)
		o += dec_next(&p, (unsigned char *)out + o);
	return (o);
}

char *
jv_strdup(const struct jv *v, size_t *lenp)
{
	char	*s;
	size_t	 n;

	/* Decoding never grows the text, so len bytes always suffice. */
	if ((s = malloc(v->len + 1)) == NULL)
		return (NULL);
	n = jv_strdec(v, s);
	s[n] = '\0';
	if (lenp != NULL)
		*lenp = n;
	return (s);
}

int
jv_uint(const struct jv *v, uint64_t max, uint64_t *out)
{
	const char	*p = v->p, *end = v->p + v->len;
	uint64_t	 n = 0, d;
	int		 neg = 0;

	if (v->type != JV_NUMBER || v->len == 0)
		return (-1);
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p == end)
		return (-1);
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return (-1);	/* fraction or exponent */
		d = (uint64_t)(*p - '0');
		if (n > (UINT64_MAX - d) / 10)
			return (-1);
		n = n * 10 + d;
	}
	/* "-0" is the integer zero, as serde_json reads it. */
	if ((neg && n != 0) || n > max)
		return (-1);
	*out = n;
	return (0);
}

int
jv_int(const struct jv *v, int64_t min, int64_t max, int64_t *out)
{
	struct jv	 mag = *v;
	uint64_t	 n;
	int		 neg;

	if (v->type != JV_NUMBER || v->len == 0)
		return (-1);
	neg = v->p[0] == '-';
	if (neg) {
		mag.p++;
		mag.len--;
	}
	if (jv_uint(&mag, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX,
	    &n) == -1)
		return (-1);
	if (neg)
		*out = n == 0 ? 0 : -(int64_t)(n - 1) - 1;
	else
		*out = (int64_t)n;
	if (*out < min || *out > max)
		return (-1);
	return (0);
}

/*
 * Rebuild the literal as DIGITSeEXP (no decimal point, so the result does
 * not depend on the locale's radix character) and let strtof round it.
 * Digits past JV_F32_DIGITS collapse into one sticky digit, which keeps
 * the rounding exact.
 */
int
jv_f32(const struct jv *v, float *out)
{
	char		 b[JV_F32_DIGITS + 40];
	const char	*p = v->p, *end = v->p + v->len;
	size_t		 o = 0, nd = 0;
	long		 exp10 = 0, e = 0;
	int		 eneg = 0, sticky = 0, infrac = 0, neg = 0;
	float		 f;

	if (v->type != JV_NUMBER || v->len == 0)
		return (-1);
	if (*p == '-') {
		neg = 1;
		b[o++] = *p++;
	}
	for (; p < end && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			infrac = 1;
			continue;
		}
		if (nd == 0 && *p == '0') {
			if (infrac)
				exp10--;
			continue;
		}
		if (nd < JV_F32_DIGITS) {
			b[o++] = *p;
			nd++;
			if (infrac)
				exp10--;
		} else {
			if (*p != '0')
				sticky = 1;
			if (!infrac)
				exp10++;
		}
	}
	if (sticky) {
		b[o++] = '1';
		exp10--;
	}
	if (nd == 0 && !sticky) {
		*out = neg ? -0.0f : 0.0f;
		return (0);
	}
	if (p < end) {
		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		/* Clamp: anything this large over/underflows anyway. */
		for (; p < end; p++)
			if (e < 100000000)
				e = e * 10 + (*p - '0');
		exp10 += eneg ? -e : e;
	}
	(void)snprintf(b + o, sizeof(b) - o, "e%ld", exp10);
	errno = 0;
	f = strtof(b, NULL);
	if (errno == ERANGE && (f > 1.0f || f < -1.0f))
		return (-1);		/* overflow: out of f32 range */
	*out = f;
	return (0);
}
