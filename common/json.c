/* SPDX-License-Identifier: ISC */
/*
 * json: strict JSON input on top of cJSON.
 *
 * Three passes, each linear and none deeper than maxdepth:
 *
 * 1. A lexical scan of the text, before cJSON sees it, for what cJSON
 *    accepts and JSON does not (every byte <= 0x20 as whitespace, a BOM,
 *    raw control characters and bad UTF-8 in strings, "\uZZZZ" read as
 *    U+0000, numbers such as 01, 1. or -.5) and for the bounds: the
 *    nesting depth (so cJSON's recursion stays shallow), the number of
 *    items, exactly one top-level value.  Its messages name the byte.
 * 2. cJSON_ParseWithLengthOpts() checks the grammar and builds the tree.
 * 3. A walk over the tree in document order, in step with the text: it
 *    stores in each node's valueint the offset of the node's text (for an
 *    object member, of its key; cJSON's own valueint, a saturated copy of
 *    numbers, is not used), checks every string is well-formed UTF-8 and
 *    that no object has a key twice.
 *
 * The offsets serve what cJSON's tree cannot say: whether a number was
 * written as an integer (and its exact value past 2^53), and the length
 * of a string with a \u0000 in it, which cJSON stores as a C string.
 */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

/* Objects with more keys than this are checked by sorting, not pairwise. */
#define JSON_PAIRWISE	8
/* Longest key named in a duplicate-key message. */
#define JSON_KEYNAME	44

struct lex {
	const unsigned char	*s;
	const unsigned char	*p;
	const unsigned char	*end;
	const char		*msg;
	size_t			 off;
};

/* A key of an object being checked for duplicates. */
struct jkey {
	const char	*s;
	size_t		 len;
	size_t		 off;
};

/* Why the walk failed. */
struct jfail {
	const char	*msg;
	size_t		 off;
	const char	*key;		/* duplicate key, or NULL */
	size_t		 keylen;
};

static int	lex_fail(struct lex *, const unsigned char *, const char *);
static void	lex_ws(struct lex *);
static int	lex_text(struct lex *, int, size_t);
static int	lex_string(struct lex *);
static int	lex_number(struct lex *);
static int	lex_literal(struct lex *);
static int	hexval(int);
static size_t	skip_sep(const char *, size_t);
static size_t	scalar_end(const char *, size_t);
static size_t	val_off(const struct json *, const cJSON *);
static size_t	declen(const char *, const char *);
static int	walk(struct json *, cJSON *, size_t *, int, struct jfail *);
static int	dupcheck(const struct json *, const cJSON *, struct jfail *);
static int	keycmp(const void *, const void *);
static int	keyeq(const struct jkey *, const struct jkey *);
static int	streq(const char *, size_t, const char *);
static int	intlit(const struct json *, const cJSON *, int *, uint64_t *);

static int
lex_fail(struct lex *l, const unsigned char *at, const char *msg)
{
	l->msg = msg;
	l->off = (size_t)(at - l->s);
	return (-1);
}

static void
lex_ws(struct lex *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' ||
	    *l->p == '\n' || *l->p == '\r'))
		l->p++;
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

/*
 * The whole text, token by token.  Brackets must match (a bit per level
 * says "object"), and after the first complete value only whitespace may
 * follow.  The grammar between tokens is left to cJSON.
 */
static int
lex_text(struct lex *l, int maxdepth, size_t maxitems)
{
	uint64_t	 isobj = 0;
	size_t		 items = 0;
	int		 depth = 0, done = 0, c;

	for (;;) {
		lex_ws(l);
		if (l->p >= l->end)
			break;
		c = *l->p;
		if (done)
			return (lex_fail(l, l->p, "trailing characters"));
		if ((c == '{' || c == '[' || c == '"' || c == '-' ||
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) &&
		    ++items > maxitems)
			return (lex_fail(l, l->p, "too many values"));
		switch (c) {
		case '{':
		case '[':
			if (depth >= maxdepth)
				return (lex_fail(l, l->p, "nesting too deep"));
			if (c == '{')
				isobj |= (uint64_t)1 << depth;
			else
				isobj &= ~((uint64_t)1 << depth);
			depth++;
			l->p++;
			continue;
		case '}':
		case ']':
			if (depth == 0)
				return (lex_fail(l, l->p, "expected a value"));
			if (((isobj >> (depth - 1)) & 1) != (c == '}'))
				return (lex_fail(l, l->p, c == '}' ?
				    "expected ',' or ']'" :
				    "expected ',' or '}'"));
			depth--;
			l->p++;
			done = depth == 0;
			continue;
		case ',':
		case ':':
			if (depth == 0)
				return (lex_fail(l, l->p, "expected a value"));
			l->p++;
			continue;
		case '"':
			if (lex_string(l) == -1)
				return (-1);
			break;
		default:
			if (c == '-' || (c >= '0' && c <= '9')) {
				if (lex_number(l) == -1)
					return (-1);
			} else if (c >= 'a' && c <= 'z') {
				if (lex_literal(l) == -1)
					return (-1);
			} else
				return (lex_fail(l, l->p,
				    "unexpected character"));
			break;
		}
		done = depth == 0;
	}
	if (depth > 0)
		return (lex_fail(l, l->p, ((isobj >> (depth - 1)) & 1) ?
		    "unterminated object" : "unterminated array"));
	if (!done)
		return (lex_fail(l, l->p, "unexpected end of input"));
	return (0);
}

/* A string at l->p (the opening quote). */
static int
lex_string(struct lex *l)
{
	const unsigned char	*start = l->p, *q;
	uint32_t		 cp, lo;
	size_t			 n;
	int			 i, h, c;

	l->p++;
	for (;;) {
		/* The common case: a run of plain printable ASCII. */
		while (l->p < l->end && *l->p >= 0x20 && *l->p < 0x80 &&
		    *l->p != '"' && *l->p != '\\')
			l->p++;
		if (l->p >= l->end)
			return (lex_fail(l, start, "unterminated string"));
		c = *l->p;
		if (c == '"') {
			l->p++;
			return (0);
		}
		if (c < 0x20)
			return (lex_fail(l, l->p,
			    "control character in string"));
		if (c >= 0x80) {
			n = utf8_decode(l->p, (size_t)(l->end - l->p), &cp);
			if (cp == UTF8_INVALID)
				return (lex_fail(l, l->p, "invalid UTF-8"));
			l->p += n;
			continue;
		}
		/* A backslash escape. */
		q = l->p;
		if (l->end - l->p < 2)
			return (lex_fail(l, start, "unterminated string"));
		c = l->p[1];
		l->p += 2;
		if (c == '"' || c == '\\' || c == '/' || c == 'b' ||
		    c == 'f' || c == 'n' || c == 'r' || c == 't')
			continue;
		if (c != 'u')
			return (lex_fail(l, q, "invalid escape"));
		cp = 0;
		for (i = 0; i < 4; i++) {
			if (l->p >= l->end || (h = hexval(*l->p)) == -1)
				return (lex_fail(l, q, "invalid \\u escape"));
			cp = cp << 4 | (uint32_t)h;
			l->p++;
		}
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return (lex_fail(l, q, "lone surrogate escape"));
		if (cp < 0xd800 || cp > 0xdbff)
			continue;
		/* A high surrogate must be followed by an escaped low one. */
		if (l->end - l->p < 6 || l->p[0] != '\\' || l->p[1] != 'u')
			return (lex_fail(l, q, "lone surrogate escape"));
		lo = 0;
		for (i = 2; i < 6; i++) {
			if ((h = hexval(l->p[i])) == -1)
				return (lex_fail(l, l->p,
				    "invalid \\u escape"));
			lo = lo << 4 | (uint32_t)h;
		}
		if (lo < 0xdc00 || lo > 0xdfff)
			return (lex_fail(l, q, "lone surrogate escape"));
		l->p += 6;
	}
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and nothing glued on. */
static int
lex_number(struct lex *l)
{
	const unsigned char	*start = l->p;

	if (*l->p == '-')
		l->p++;
	if (l->p >= l->end || *l->p < '0' || *l->p > '9')
		return (lex_fail(l, start, "invalid number"));
	if (*l->p == '0') {
		l->p++;
		if (l->p < l->end && *l->p >= '0' && *l->p <= '9')
			return (lex_fail(l, start, "leading zero in number"));
	} else
		while (l->p < l->end && *l->p >= '0' && *l->p <= '9')
			l->p++;
	if (l->p < l->end && *l->p == '.') {
		l->p++;
		if (l->p >= l->end || *l->p < '0' || *l->p > '9')
			return (lex_fail(l, start, "invalid number"));
		while (l->p < l->end && *l->p >= '0' && *l->p <= '9')
			l->p++;
	}
	if (l->p < l->end && (*l->p == 'e' || *l->p == 'E')) {
		l->p++;
		if (l->p < l->end && (*l->p == '+' || *l->p == '-'))
			l->p++;
		if (l->p >= l->end || *l->p < '0' || *l->p > '9')
			return (lex_fail(l, start, "invalid number"));
		while (l->p < l->end && *l->p >= '0' && *l->p <= '9')
			l->p++;
	}
	/* Nothing glued on: cJSON would hand "1.5.3" to strtod whole. */
	if (l->p < l->end && (*l->p == '.' || *l->p == 'e' || *l->p == 'E' ||
	    *l->p == '+' || *l->p == '-'))
		return (lex_fail(l, start, "invalid number"));
	return (0);
}

static int
lex_literal(struct lex *l)
{
	const unsigned char	*start = l->p;
	size_t			 n;

	while (l->p < l->end && *l->p >= 'a' && *l->p <= 'z')
		l->p++;
	n = (size_t)(l->p - start);
	if ((n == 4 && memcmp(start, "true", 4) == 0) ||
	    (n == 5 && memcmp(start, "false", 5) == 0) ||
	    (n == 4 && memcmp(start, "null", 4) == 0))
		return (0);
	return (lex_fail(l, start, "invalid literal"));
}

/*
 * The walk's view of the text, which the scan accepted.  They stop at the
 * NUL at len all the same, should the walk ever lose its step.
 */
static size_t
skip_sep(const char *b, size_t p)
{
	while (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r' ||
	    b[p] == ',' || b[p] == ':')
		p++;
	return (p);
}

static size_t
scalar_end(const char *b, size_t p)
{
	if (b[p] == '"') {
		for (p++; b[p] != '"' && b[p] != '\0'; p++)
			if (b[p] == '\\' && b[p + 1] != '\0')
				p++;
		return (b[p] == '"' ? p + 1 : p);
	}
	while (b[p] == '-' || b[p] == '+' || b[p] == '.' ||
	    (b[p] >= '0' && b[p] <= '9') || (b[p] >= 'a' && b[p] <= 'z') ||
	    b[p] == 'E')
		p++;
	return (p);
}

/* Where a node's value is written: past the key for object members. */
static size_t
val_off(const struct json *j, const cJSON *n)
{
	size_t	 p = (size_t)n->valueint;

	if (n->string != NULL)
		p = skip_sep(j->buf, scalar_end(j->buf, p));
	return (p);
}

/*
 * Decoded length of a string cJSON stored at s from the literal at lit.
 * cJSON writes a \u0000 as a NUL byte and carries on to the end, so the
 * text past each such NUL is still there: step over one per escape.
 */
static size_t
declen(const char *s, const char *lit)
{
	const char	*q;
	size_t		 nul = 0;

	for (q = lit + 1; *q != '"' && *q != '\0'; q++) {
		if (*q != '\\')
			continue;
		if (*++q == '\0')
			break;
		if (*q == 'u' && strncmp(q + 1, "0000", 4) == 0)
			nul++;
	}
	for (q = s;; q++) {
		q += strlen(q);
		if (nul-- == 0)
			break;
	}
	return ((size_t)(q - s));
}

/*
 * Node n starts at or after *pos; on return *pos is past it.  Post-order,
 * so a nested object's duplicate is found before its parent's, as a
 * streaming parser would.
 */
static int
walk(struct json *j, cJSON *n, size_t *pos, int member, struct jfail *f)
{
	static const int	 want[] = { cJSON_Object, cJSON_Array,
	    cJSON_String, cJSON_True, cJSON_False, cJSON_NULL };
	static const char	 first[] = "{[\"tfn";
	const char		*s, *t;
	cJSON			*c;
	size_t			 p, len, bad;
	int			 type = n->type & 0xff;

	p = skip_sep(j->buf, *pos);
	n->valueint = (int)p;
	if (member) {
		if (j->buf[p] != '"' || n->string == NULL)
			goto disagree;
		len = declen(n->string, j->buf + p);
		if (utf8_valid(n->string, len, &bad) == -1) {
			f->msg = "invalid UTF-8";
			f->off = p;
			return (-1);
		}
		p = skip_sep(j->buf, scalar_end(j->buf, p));
	}
	/* Each node stands where the text has its kind of token. */
	if ((t = strchr(first, j->buf[p])) == NULL || j->buf[p] == '\0') {
		if (type != cJSON_Number)
			goto disagree;
	} else if (type != want[t - first])
		goto disagree;
	if (type == cJSON_Array || type == cJSON_Object) {
		p++;
		for (c = n->child; c != NULL; c = c->next)
			if (walk(j, c, &p, type == cJSON_Object, f) == -1)
				return (-1);
		p = skip_sep(j->buf, p);
		if (j->buf[p] != (type == cJSON_Object ? '}' : ']'))
			goto disagree;
		*pos = p + 1;
		if (type == cJSON_Object)
			return (dupcheck(j, n, f));
		return (0);
	}
	if (type == cJSON_String) {
		s = json_str(j, n, &len);
		if (utf8_valid(s, len, &bad) == -1) {
			f->msg = "invalid UTF-8";
			f->off = p;
			return (-1);
		}
	}
	*pos = scalar_end(j->buf, p);
	return (0);
 disagree:
	/* Not reached unless cJSON and the scan read the text differently. */
	f->msg = "unexpected token";
	f->off = p;
	return (-1);
}

static int
keycmp(const void *a, const void *b)
{
	const struct jkey	*x = a, *y = b;
	int			 r;

	if (x->len != y->len)
		return (x->len < y->len ? -1 : 1);
	if ((r = memcmp(x->s, y->s, x->len)) != 0)
		return (r);
	return (x->off < y->off ? -1 : x->off > y->off);
}

static int
keyeq(const struct jkey *a, const struct jkey *b)
{
	return (a->len == b->len && memcmp(a->s, b->s, a->len) == 0);
}

/*
 * Is a key of obj there twice?  The first repeat in document order is
 * reported.  Large objects are sorted (keys, then offsets) so a hostile
 * one with a million keys costs O(n log n), not O(n^2).
 */
static int
dupcheck(const struct json *j, const cJSON *obj, struct jfail *f)
{
	struct jkey	 small[JSON_PAIRWISE], *k;
	const cJSON	*c;
	size_t		 n = 0, i, m, dup = SIZE_MAX;

	for (c = obj->child; c != NULL; c = c->next)
		n++;
	if (n < 2)
		return (0);
	k = small;
	if (n > JSON_PAIRWISE &&
	    (k = reallocarray(NULL, n, sizeof(*k))) == NULL) {
		f->msg = "out of memory";
		f->off = (size_t)obj->valueint;
		return (-1);
	}
	for (i = 0, c = obj->child; c != NULL; c = c->next, i++) {
		k[i].s = json_key(j, c, &k[i].len);
		k[i].off = (size_t)c->valueint;
	}
	if (n <= JSON_PAIRWISE) {
		for (i = 1; i < n && dup == SIZE_MAX; i++)
			for (m = 0; m < i; m++)
				if (keyeq(&k[m], &k[i])) {
					dup = i;
					break;
				}
	} else {
		qsort(k, n, sizeof(*k), keycmp);
		for (i = 1; i < n; i++)
			if (keyeq(&k[i - 1], &k[i]) &&
			    (dup == SIZE_MAX || k[i].off < k[dup].off))
				dup = i;
	}
	if (dup != SIZE_MAX) {
		f->msg = "duplicate key";
		f->off = k[dup].off;
		f->key = k[dup].s;
		f->keylen = k[dup].len;
	}
	if (k != small)
		free(k);
	return (dup == SIZE_MAX ? 0 : -1);
}

int
json_parse(struct json *j, const char *buf, size_t len, int maxdepth,
    size_t maxitems, char *err, size_t errlen)
{
	struct lex	 l;
	struct jfail	 f;
	const char	*end = NULL;
	char		 kname[JSON_KEYNAME + 4];
	size_t		 pos = 0, i;

	memset(j, 0, sizeof(*j));
	memset(&f, 0, sizeof(f));
	if (maxdepth > JSON_MAXDEPTH)
		maxdepth = JSON_MAXDEPTH;
	memset(&l, 0, sizeof(l));
	l.s = l.p = (const unsigned char *)buf;
	l.end = l.s + len;
	if (len > INT_MAX) {
		f.msg = "text too long";
		goto fail;
	}
	if (lex_text(&l, maxdepth, maxitems) == -1) {
		f.msg = l.msg;
		f.off = l.off;
		goto fail;
	}
	/* With the NUL at len: cJSON rejects anything but one value. */
	errno = 0;
	j->root = cJSON_ParseWithLengthOpts(buf, len + 1, &end, 1);
	if (j->root == NULL) {
		f.msg = errno == ENOMEM ? "out of memory" : "syntax error";
		f.off = end != NULL ? (size_t)(end - buf) : 0;
		goto fail;
	}
	j->buf = buf;
	j->len = len;
	if (walk(j, j->root, &pos, 0, &f) == -1)
		goto fail;
	return (0);
 fail:
	kname[0] = '\0';
	if (f.key != NULL && f.keylen <= JSON_KEYNAME) {
		/* Name the key only if it is short printable ASCII. */
		for (i = 0; i < f.keylen; i++)
			if (f.key[i] < 0x20 || f.key[i] > 0x7e ||
			    f.key[i] == '"' || f.key[i] == '\\')
				break;
		if (i == f.keylen)
			(void)snprintf(kname, sizeof(kname), " \"%.*s\"",
			    (int)f.keylen, f.key);
	}
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "invalid JSON: %s%s at byte %zu",
		    f.msg, kname, f.off);
	json_free(j);		/* only now: f.key is in the tree */
	return (-1);
}

void
json_free(struct json *j)
{
	cJSON_Delete(j->root);
	memset(j, 0, sizeof(*j));
}

const char *
json_typename(const cJSON *n)
{
	switch (n->type & 0xff) {
	case cJSON_NULL:
		return ("null");
	case cJSON_False:
	case cJSON_True:
		return ("boolean");
	case cJSON_Number:
		return ("number");
	case cJSON_String:
		return ("string");
	case cJSON_Array:
		return ("array");
	case cJSON_Object:
		return ("object");
	}
	return ("value");
}

const char *
json_key(const struct json *j, const cJSON *n, size_t *lenp)
{
	*lenp = declen(n->string, j->buf + n->valueint);
	return (n->string);
}

/* A string node's decoded bytes (NUL-terminated) and their length. */
const char *
json_str(const struct json *j, const cJSON *n, size_t *lenp)
{
	*lenp = declen(n->valuestring, j->buf + val_off(j, n));
	return (n->valuestring);
}

static int
streq(const char *s, size_t len, const char *want)
{
	return (strlen(want) == len && memcmp(s, want, len) == 0);
}

int
json_keyeq(const struct json *j, const cJSON *n, const char *want)
{
	const char	*s;
	size_t		 len;

	s = json_key(j, n, &len);
	return (streq(s, len, want));
}

int
json_streq(const struct json *j, const cJSON *n, const char *want)
{
	const char	*s;
	size_t		 len;

	if (!cJSON_IsString(n))
		return (0);
	s = json_str(j, n, &len);
	return (streq(s, len, want));
}

/* The integer literal of n: sign and magnitude, or -1 if it is none. */
static int
intlit(const struct json *j, const cJSON *n, int *neg, uint64_t *out)
{
	const char	*p;
	uint64_t	 v = 0, d;

	if (!cJSON_IsNumber(n))
		return (-1);
	p = j->buf + val_off(j, n);
	if ((*neg = *p == '-'))
		p++;
	for (; *p >= '0' && *p <= '9'; p++) {
		d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return (-1);
		v = v * 10 + d;
	}
	if (*p == '.' || *p == 'e' || *p == 'E')
		return (-1);		/* 1.0 and 1e2 are not integers */
	*out = v;
	return (0);
}

int
json_uint(const struct json *j, const cJSON *n, uint64_t max, uint64_t *out)
{
	uint64_t	 v;
	int		 neg;

	/* "-0" is the integer zero, as serde_json reads it. */
	if (intlit(j, n, &neg, &v) == -1 || (neg && v != 0) || v > max)
		return (-1);
	*out = v;
	return (0);
}

int
json_int(const struct json *j, const cJSON *n, int64_t min, int64_t max,
    int64_t *out)
{
	uint64_t	 v;
	int64_t		 x;
	int		 neg;

	if (intlit(j, n, &neg, &v) == -1 ||
	    v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return (-1);
	x = neg && v != 0 ? -(int64_t)(v - 1) - 1 : (int64_t)v;
	if (x < min || x > max)
		return (-1);
	*out = x;
	return (0);
}

/*
 * cJSON's double (strtod, correctly rounded) narrowed to f32, which is
 * how serde_json reads an f32 too.  Past the halfway point above FLT_MAX
 * it would round to infinity: out of range.
 */
int
json_f32(const cJSON *n, float *out)
{
	double	 d;

	if (!cJSON_IsNumber(n))
		return (-1);
	d = n->valuedouble;
	if (!(d < 0x1.ffffffp127 && d > -0x1.ffffffp127))
		return (-1);
	*out = (float)d;
	return (0);
}
