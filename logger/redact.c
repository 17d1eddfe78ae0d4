/* SPDX-License-Identifier: ISC */
/*
 * redact.c -- secret masking for captured output (see redact.h).
 *
 * The patterns are rows of a table (patterns[]): most are a literal
 * prefix and runs of a character class, or keywords, a separator and a
 * value, each kind read by one matcher; two have a function of their own.
 * A matcher finds the leftmost match that starts at or after a given
 * offset, with the extent Rust's regex crate gives it (greedy
 * quantifiers, leftmost-first alternation).  None of the patterns needs
 * real backtracking: every optional quote, whitespace run and separator
 * is followed by something it cannot also match, so one forward walk
 * decides each start.
 *
 * A line costs one table-driven pass (prefilter) unless it holds one of
 * the few byte sequences a secret can start with.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "utf8.h"
#include "redact.h"

/* Character classes (cls[]). */
#define C_ALNUM		0x0001	/* [A-Za-z0-9] */
#define C_KEYCH		0x0002	/* [A-Za-z0-9_-] */
#define C_WORD		0x0004	/* [A-Za-z0-9_] */
#define C_TOK		0x0008	/* [A-Za-z0-9_.=-] */
#define C_B64		0x0010	/* [A-Za-z0-9+/] */
#define C_AWS		0x0020	/* [A-Za-z0-9/+=] */
#define C_UPDIG		0x0040	/* [A-Z0-9] */
#define C_SPACE		0x0080	/* ASCII \s */
#define C_LOWER		0x0100
#define C_UPPER		0x0200
#define C_DIGIT		0x0400
#define C_PUNCT		0x0800	/* [._=-] */
#define C_LABEL		0x1000	/* PEM label: [A-Z0-9 \t] */

/* Prefilter trigger bytes (trig[]). */
#define T_DASH		1
#define T_UNDER		2
#define T_SEP		3
#define T_A		4
#define T_B		5

/* Which matchers a line may need (prefilter result). */
#define M_SK		0x0001	/* P1, P2, sk-proj */
#define M_P3		0x0002
#define M_P4		0x0004
#define M_P5		0x0008
#define M_P6		0x0010
#define M_P7		0x0020
#define M_P8		0x0040
#define M_P9		0x0080
#define M_P10		0x0100
#define M_PEM		0x0200	/* P11 and PEM blocks */
#define M_P12		0x0400
#define M_P13		0x0800
#define M_P8_LATE	0x1000	/* P8 keyword, value short for now */

#define NOPE		((size_t)-1)
#define NBUCKETS	1024	/* value index hash chains */
#define STRIDE_MAX	32	/* value index: sampling stride cap */

#define RUNS_MAX	3	/* runs in a pattern */
#define ALTS_MAX	6	/* alternatives, NULL included */

typedef int	matcher_fn(const uint8_t *, size_t, size_t, size_t *,
		    size_t *);

/* A run of class bytes, after a separator byte if sep is set. */
struct run {
	uint16_t	 cls;		/* C_*; 0 ends the runs */
	uint8_t		 sep;
	uint8_t		 min;		/* bytes, at least */
	uint8_t		 exact;		/* exactly min bytes */
};

enum pat_kind {
	PAT_PREFIX,	/* lit, one of alt if any, the runs */
	PAT_KV,		/* keyword alt, [:=] between quotes and blanks, value */
	PAT_FN		/* a function of its own */
};

/* PAT_KV: the value is run[0], or with KV_CHARS run[0].min characters. */
#define KV_CHARS	0x01	/* [^\s'"], counted in characters */
#define KV_PAD		0x02	/* then ={0,2} */
#define KV_QUOTE	0x04	/* then ['"]? */

/*
 * One redaction pattern.  PAT_KV keywords are lowercase letters and '_'
 * (standing for [_-]?), and end in three letters: the prefilter knows
 * them by their first and last three letters.
 */
struct pattern {
	unsigned	 mask;		/* prefilter bits that let it run */
	enum pat_kind	 kind;
	const char	*lit;		/* PAT_PREFIX: looked for first */
	const char	*alt[ALTS_MAX];	/* after lit; PAT_KV: keywords */
	struct run	 run[RUNS_MAX];
	int		 flags;		/* PAT_KV: KV_* */
	matcher_fn	*fn;		/* PAT_FN */
};

struct rbuf {
	uint8_t		*p;
	size_t		 len;
	size_t		 cap;
};

struct rvalue {
	uint8_t		*v;
	size_t		 len;
};

/* One 4-byte gram of a value, at offset off (value index). */
struct gram {
	uint32_t	 g;
	uint32_t	 off;
	int		 vi;
	int		 next;		/* bucket chain, -1 ends */
};

struct span {
	size_t		 s, e;
};

struct redactor {
	int		 enabled;
	/* PEM block state */
	int		 pem_in;
	size_t		 pem_lines;
	/* injected values and their index */
	struct rvalue	*vals;
	size_t		 nvals, capvals;
	size_t		 vmin;		/* shortest value */
	size_t		 stride;	/* sampling step */
	int		 idx_ok;	/* else values_stage() uses memmem */
	uint64_t	*gbits;		/* 65536 bits: gram hashes present */
	int		*buckets;	/* NBUCKETS chain heads */
	struct gram	*grams;
	size_t		 ngrams, capgrams;
	struct span	*spans;
	size_t		 nspans, capspans;
	/* working buffers: passes alternate between them */
	struct rbuf	 b[2];
	int		 nomem;
	/* line assembler */
	uint8_t		*pend;
	size_t		 plen;
};

static uint16_t	cls[256];
static uint8_t	trig[256];
static uint16_t	kwfirst[256];	/* PAT_KV rows a keyword can start */
static uint16_t	kwtail[3][256];	/* masks by keywords' last 3 letters */
static size_t	kwlongest;	/* longest PAT_KV value minimum */
static int	tables_ready;

static void	 init_tables(void);
static void	 init_kw_tables(void);
static int	 rbuf_reserve(struct rbuf *, size_t);
static void	 rbuf_add(struct redactor *, struct rbuf *, const void *,
		    size_t);
static size_t	 ws_len(const uint8_t *, size_t, size_t);
static size_t	 ws_back(const uint8_t *, size_t);
static size_t	 skip_ws(const uint8_t *, size_t, size_t);
static size_t	 run_of(const uint8_t *, size_t, size_t, uint16_t);
static int	 run_min(const uint8_t *, size_t, size_t, uint16_t, size_t);
static int	 ci_at(const uint8_t *, size_t, size_t, const char *, size_t);
static size_t	 opt_sep(const uint8_t *, size_t, size_t);
static size_t	 kv_sep(const uint8_t *, size_t, size_t);
static size_t	 opt_quote(const uint8_t *, size_t, size_t);
static int	 find_lit(const uint8_t *, size_t, size_t, const char *,
		    size_t, size_t *);
static int	 m_prefix(const struct pattern *, const uint8_t *, size_t,
		    size_t, size_t *, size_t *);
static size_t	 alt_at(const struct pattern *, const uint8_t *, size_t,
		    size_t);
static size_t	 runs_at(const struct pattern *, const uint8_t *, size_t,
		    size_t);
static size_t	 kw_at(const uint8_t *, size_t, size_t, const char *);
static size_t	 chars_at(const uint8_t *, size_t, size_t, size_t);
static int	 m_kv(const struct pattern *, const uint8_t *, size_t, size_t,
		    size_t *, size_t *);
static int	 m_bearer(const uint8_t *, size_t, size_t, size_t *,
		    size_t *);
static int	 m_pem_header(const uint8_t *, size_t, size_t, size_t *,
		    size_t *);
static int	 pat_match(const struct pattern *, const uint8_t *, size_t,
		    size_t, size_t *, size_t *);
static int	 bearer_header(const uint8_t *, size_t);
static uint64_t	 trigger_mask(const uint8_t *, size_t);
static unsigned	 trig_sep(const uint8_t *, size_t, size_t);
static unsigned	 prefilter(const uint8_t *, size_t);
static size_t	 pem_marker(const uint8_t *, size_t, size_t, const char *,
		    size_t, size_t *);
static int	 pem_stage(struct redactor *, const uint8_t **, size_t *,
		    int *);
static void	 values_stage(struct redactor *, const uint8_t **, size_t *,
		    int *);
static int	 add_piece(struct redactor *, const uint8_t *, size_t);
static int	 add_span(struct redactor *, size_t, size_t);
static int	 index_value(struct redactor *, size_t);
static int	 reindex(struct redactor *);
static uint32_t	 gram_at(const uint8_t *);
static uint32_t	 gram_hash(uint32_t);
static void	 run_pass(struct redactor *, const struct pattern *,
		    const uint8_t **, size_t *, int *);
static struct rbuf *other_buf(struct redactor *, const uint8_t *);
static void	 emit_line(struct redactor *, const uint8_t *, size_t, int,
		    redact_emit_fn *, void *);
static void	 emit_long(struct redactor *, const uint8_t *, size_t, int,
		    redact_emit_fn *, void *);
static size_t	 choose_cut(const uint8_t *, size_t);
static int	 pend_add(struct redactor *, const uint8_t *, size_t,
		    redact_emit_fn *, void *);

/*
 * The 13 upstream patterns in upstream order, then ours (redact.h, 3.
 * and 4.).  prefilter() knows how each of them can start.
 */
static const struct pattern patterns[] = {
	/* 1: sk-ant-[a-zA-Z0-9\-_]{20,} */
	{ .mask = M_SK, .kind = PAT_PREFIX, .lit = "sk-ant-",
	    .run = { { .cls = C_KEYCH, .min = 20 } } },
	/* 2: sk-[a-zA-Z0-9]{20,} */
	{ .mask = M_SK, .kind = PAT_PREFIX, .lit = "sk-",
	    .run = { { .cls = C_ALNUM, .min = 20 } } },
	/* 3: AIza[a-zA-Z0-9\-_]{35} */
	{ .mask = M_P3, .kind = PAT_PREFIX, .lit = "AIza",
	    .run = { { .cls = C_KEYCH, .min = 35, .exact = 1 } } },
	/* 4: AKIA[A-Z0-9]{16} */
	{ .mask = M_P4, .kind = PAT_PREFIX, .lit = "AKIA",
	    .run = { { .cls = C_UPDIG, .min = 16, .exact = 1 } } },
	/*
	 * 5: (?i)aws[_-]?secret[_-]?access[_-]?key['"]?\s*[:=]\s*['"]?
	 *    ([A-Za-z0-9/+=]{40})
	 */
	{ .mask = M_P5, .kind = PAT_KV,
	    .alt = { "aws_secret_access_key", NULL },
	    .run = { { .cls = C_AWS, .min = 40, .exact = 1 } } },
	/*
	 * 6: (?i)(api[_-]?key|apikey)['"]?\s*[:=]\s*['"]?
	 *    ([a-zA-Z0-9_-]{20,})['"]?
	 * ("apikey" is api[_-]?key with the separator left out.)
	 */
	{ .mask = M_P6, .kind = PAT_KV, .alt = { "api_key", NULL },
	    .run = { { .cls = C_KEYCH, .min = 20 } }, .flags = KV_QUOTE },
	/*
	 * 7: (?i)(access[_-]?token|auth[_-]?token|bearer)['"]?\s*[:=]\s*
	 *    ['"]?([a-zA-Z0-9_.=-]{20,})['"]?
	 */
	{ .mask = M_P7, .kind = PAT_KV,
	    .alt = { "access_token", "auth_token", "bearer", NULL },
	    .run = { { .cls = C_TOK, .min = 20 } }, .flags = KV_QUOTE },
	/*
	 * 8: (?i)(secret|password|passwd|pwd)['"]?\s*[:=]\s*['"]?
	 *    ([^\s'"]{8,})['"]?
	 * The count is of characters, as Rust counts them.
	 */
	{ .mask = M_P8, .kind = PAT_KV,
	    .alt = { "secret", "password", "passwd", "pwd", NULL },
	    .run = { { .min = 8 } }, .flags = KV_CHARS | KV_QUOTE },
	/* 9: (?i)bearer\s+([a-zA-Z0-9_.=-]+), credentials only */
	{ .mask = M_P9, .kind = PAT_FN, .fn = m_bearer },
	/*
	 * 10: (?i)(key|secret|token|credential)['"]?\s*[:=]\s*['"]?
	 *     ([A-Za-z0-9+/]{40,}={0,2})['"]?
	 */
	{ .mask = M_P10, .kind = PAT_KV,
	    .alt = { "key", "secret", "token", "credential", NULL },
	    .run = { { .cls = C_B64, .min = 40 } },
	    .flags = KV_PAD | KV_QUOTE },
	/* 11: -----BEGIN\s+(RSA\s+)?PRIVATE\s+KEY----- */
	{ .mask = M_PEM, .kind = PAT_FN, .fn = m_pem_header },
	/* 12: gh[pousr]_[A-Za-z0-9_]{36,} */
	{ .mask = M_P12, .kind = PAT_PREFIX, .lit = "gh",
	    .alt = { "p_", "o_", "u_", "s_", "r_", NULL },
	    .run = { { .cls = C_WORD, .min = 36 } } },
	/* 13: xox[baprs]-[0-9]{10,}-[0-9]{10,}-[a-zA-Z0-9]{24,} */
	{ .mask = M_P13, .kind = PAT_PREFIX, .lit = "xox",
	    .alt = { "b-", "a-", "p-", "r-", "s-", NULL },
	    .run = { { .cls = C_DIGIT, .min = 10 },
	    { .sep = '-', .cls = C_DIGIT, .min = 10 },
	    { .sep = '-', .cls = C_ALNUM, .min = 24 } } },
	/* ours: sk-(proj|svcacct|admin)-[A-Za-z0-9_-]{20,} */
	{ .mask = M_SK, .kind = PAT_PREFIX, .lit = "sk-",
	    .alt = { "proj-", "svcacct-", "admin-", NULL },
	    .run = { { .cls = C_KEYCH, .min = 20 } } }
};

#define NPATTERNS	(sizeof(patterns) / sizeof(patterns[0]))
_Static_assert(NPATTERNS <= 16, "kwfirst[] has a bit per pattern");

static void
init_tables(void)
{
	int	c;

	for (c = 0; c < 256; c++) {
		uint16_t	k = 0;
		int		lower = c >= 'a' && c <= 'z';
		int		upper = c >= 'A' && c <= 'Z';
		int		digit = c >= '0' && c <= '9';

		if (lower || upper || digit)
			k |= C_ALNUM | C_KEYCH | C_WORD | C_TOK | C_B64 |
			    C_AWS;
		if (upper || digit)
			k |= C_UPDIG | C_LABEL;
		if (lower)
			k |= C_LOWER;
		if (upper)
			k |= C_UPPER;
		if (digit)
			k |= C_DIGIT;
		if (c == '_' || c == '-')
			k |= C_KEYCH | C_TOK | C_PUNCT;
		if (c == '_')
			k |= C_WORD;
		if (c == '.' || c == '=')
			k |= C_TOK | C_PUNCT;
		if (c == '+' || c == '/')
			k |= C_B64 | C_AWS;
		if (c == '=')
			k |= C_AWS;
		if (c == ' ' || (c >= '\t' && c <= '\r'))
			k |= C_SPACE;
		if (c == ' ' || c == '\t')
			k |= C_LABEL;
		cls[c] = k;
	}
	trig['-'] = T_DASH;
	trig['_'] = T_UNDER;
	trig[':'] = T_SEP;
	trig['='] = T_SEP;
	trig['A'] = T_A;
	trig['b'] = T_B;
	trig['B'] = T_B;
	init_kw_tables();
	tables_ready = 1;
}

/* The PAT_KV keywords, looked up by their first and last letters. */
static void
init_kw_tables(void)
{
	const struct pattern	*pt;
	const char *const	*a;
	size_t			 k, l;
	uint8_t			 c;

	for (pt = patterns; pt < patterns + NPATTERNS; pt++) {
		if (pt->kind != PAT_KV)
			continue;
		if (pt->run[0].min > kwlongest)
			kwlongest = pt->run[0].min;
		for (a = pt->alt; *a != NULL; a++) {
			c = (uint8_t)(*a)[0];
			kwfirst[c] |= 1U << (pt - patterns);
			kwfirst[c - 'a' + 'A'] |= 1U << (pt - patterns);
			l = strlen(*a);
			for (k = 0; k < 3; k++) {
				c = (uint8_t)(*a)[l - 3 + k];
				kwtail[k][c] |= pt->mask;
				kwtail[k][c - 'a' + 'A'] |= pt->mask;
			}
		}
	}
}

static int
rbuf_reserve(struct rbuf *b, size_t need)
{
	uint8_t	*p;
	size_t	 cap;

	if (need <= b->cap)
		return (0);
	cap = b->cap != 0 ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return (-1);
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL)
		return (-1);
	b->p = p;
	b->cap = cap;
	return (0);
}

/* Append; on failure remember it: the line then fails closed. */
static void
rbuf_add(struct redactor *r, struct rbuf *b, const void *p, size_t n)
{
	if (r->nomem)
		return;
	if (n > SIZE_MAX - b->len || rbuf_reserve(b, b->len + n) == -1) {
		r->nomem = 1;
		return;
	}
	if (n != 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Length of the Unicode White_Space character at s[i], 0 if none. */
static size_t
ws_len(const uint8_t *s, size_t n, size_t i)
{
	uint8_t	c = s[i], a, b;

	if (c < 0x80)
		return ((cls[c] & C_SPACE) != 0 ? 1 : 0);
	if (c == 0xc2)		/* U+0085, U+00A0 */
		return (i + 1 < n && (s[i + 1] == 0x85 || s[i + 1] == 0xa0) ?
		    2 : 0);
	if (c < 0xe1 || c > 0xe3 || i + 2 >= n)
		return (0);
	a = s[i + 1];
	b = s[i + 2];
	if (c == 0xe1)		/* U+1680 */
		return (a == 0x9a && b == 0x80 ? 3 : 0);
	if (c == 0xe3)		/* U+3000 */
		return (a == 0x80 && b == 0x80 ? 3 : 0);
	/* U+2000..200A, 2028, 2029, 202F, 205F */
	if (a == 0x80 && ((b >= 0x80 && b <= 0x8a) || b == 0xa8 ||
	    b == 0xa9 || b == 0xaf))
		return (3);
	if (a == 0x81 && b == 0x9f)
		return (3);
	return (0);
}

/* Length of the White_Space character that ends just before s[i]. */
static size_t
ws_back(const uint8_t *s, size_t i)
{
	size_t	k;

	if (i == 0)
		return (0);
	if (s[i - 1] < 0x80)
		return ((cls[s[i - 1]] & C_SPACE) != 0 ? 1 : 0);
	for (k = 2; k <= 3 && k <= i; k++)
		if (ws_len(s, i, i - k) == k)
			return (k);
	return (0);
}

static size_t
skip_ws(const uint8_t *s, size_t n, size_t i)
{
	size_t	w;

	while (i < n && (w = ws_len(s, n, i)) != 0)
		i += w;
	return (i);
}

/* Length of the run of class bytes starting at s[i]. */
static size_t
run_of(const uint8_t *s, size_t n, size_t i, uint16_t mask)
{
	size_t	j = i;

	while (j < n && (cls[s[j]] & mask) != 0)
		j++;
	return (j - i);
}

/*
 * At least k class bytes at s[i]?  For the fixed-count patterns: looking
 * no further keeps "AKIAAKIA..." linear.
 */
static int
run_min(const uint8_t *s, size_t n, size_t i, uint16_t mask, size_t k)
{
	size_t	j;

	if (i > n || n - i < k)
		return (0);
	for (j = i; j < i + k; j++)
		if ((cls[s[j]] & mask) == 0)
			return (0);
	return (1);
}

/* Does the lowercase-letter word w occur at s[i], ASCII case ignored? */
static int
ci_at(const uint8_t *s, size_t n, size_t i, const char *w, size_t wl)
{
	size_t	k;

	if (i > n || n - i < wl)
		return (0);
	for (k = 0; k < wl; k++)
		if ((s[i + k] | 0x20) != (uint8_t)w[k])
			return (0);
	return (1);
}

/* [_-]? */
static size_t
opt_sep(const uint8_t *s, size_t n, size_t i)
{
	if (i < n && (s[i] == '_' || s[i] == '-'))
		return (i + 1);
	return (i);
}

/* ['"]? \s* [:=] \s* ['"]?  after a keyword: start of the value. */
static size_t
kv_sep(const uint8_t *s, size_t n, size_t i)
{
	i = opt_quote(s, n, i);
	i = skip_ws(s, n, i);
	if (i >= n || (s[i] != ':' && s[i] != '='))
		return (NOPE);
	i = skip_ws(s, n, i + 1);
	return (opt_quote(s, n, i));
}

static size_t
opt_quote(const uint8_t *s, size_t n, size_t i)
{
	if (i < n && (s[i] == '\'' || s[i] == '"'))
		return (i + 1);
	return (i);
}

/* First occurrence of lit at or after from. */
static int
find_lit(const uint8_t *s, size_t n, size_t from, const char *lit,
    size_t ll, size_t *at)
{
	const uint8_t	*p;

	if (from >= n || n - from < ll)
		return (0);
	if ((p = memmem(s + from, n - from, lit, ll)) == NULL)
		return (0);
	*at = (size_t)(p - s);
	return (1);
}

/*
 * The prefix-shaped patterns: lit (found with memmem), then one of alt
 * when there are any, then the runs.  The alternatives of a pattern
 * differ in their first byte, so at most one of them applies.
 */
static int
m_prefix(const struct pattern *pt, const uint8_t *s, size_t n, size_t from,
    size_t *ms, size_t *me)
{
	size_t	i, j, ll = strlen(pt->lit);

	while (find_lit(s, n, from, pt->lit, ll, &i)) {
		from = i + 1;
		if ((j = alt_at(pt, s, n, i + ll)) == NOPE ||
		    (j = runs_at(pt, s, n, j)) == NOPE)
			continue;
		*ms = i;
		*me = j;
		return (1);
	}
	return (0);
}

/* End of whichever of pt->alt is at s[i] (s[i] itself without any). */
static size_t
alt_at(const struct pattern *pt, const uint8_t *s, size_t n, size_t i)
{
	const char *const	*a;
	size_t			 l;

	if (pt->alt[0] == NULL)
		return (i);
	if (i >= n)
		return (NOPE);
	for (a = pt->alt; *a != NULL; a++) {
		if (s[i] != (uint8_t)(*a)[0])
			continue;
		l = strlen(*a);
		if (n - i >= l && memcmp(s + i, *a, l) == 0)
			return (i + l);
	}
	return (NOPE);
}

/* pt->run[] from s[i]: the end of the last run, or NOPE. */
static size_t
runs_at(const struct pattern *pt, const uint8_t *s, size_t n, size_t i)
{
	const struct run	*rn;
	size_t			 k, r;

	for (k = 0; k < RUNS_MAX && pt->run[k].cls != 0; k++) {
		rn = &pt->run[k];
		if (rn->sep != '\0') {
			if (i >= n || s[i] != rn->sep)
				return (NOPE);
			i++;
		}
		if (rn->exact) {
			if (!run_min(s, n, i, rn->cls, rn->min))
				return (NOPE);
			r = rn->min;
		} else if ((r = run_of(s, n, i, rn->cls)) < rn->min)
			return (NOPE);
		i += r;
	}
	return (i);
}

/*
 * Keyword kw at s[i], ASCII case ignored, each '_' of kw standing for
 * [_-]?: the end of it, or NOPE.
 */
static size_t
kw_at(const uint8_t *s, size_t n, size_t i, const char *kw)
{
	for (; *kw != '\0'; kw++) {
		if (*kw == '_')
			i = opt_sep(s, n, i);
		else if (i < n && (s[i] | 0x20) == (uint8_t)*kw)
			i++;
		else
			return (NOPE);
	}
	return (i);
}

/*
 * [^\s'"]{min,} counted in characters, as Rust counts them (bytes that
 * are not UTF-8 count one each).  The end of the run, or NOPE.
 */
static size_t
chars_at(const uint8_t *s, size_t n, size_t i, size_t min)
{
	size_t		chars;
	uint32_t	cp;

	for (chars = 0; i < n; chars++) {
		if (s[i] == '\'' || s[i] == '"' || ws_len(s, n, i) != 0)
			break;
		if (s[i] < 0x80)
			i++;
		else
			i += utf8_char((const char *)s + i, n - i, &cp);
	}
	return (chars >= min ? i : NOPE);
}

/*
 * The keyword = value patterns: one of the keywords pt->alt, then
 * ['"]? \s* [:=] \s* ['"]?, then the value, then what the flags add.
 */
static int
m_kv(const struct pattern *pt, const uint8_t *s, size_t n, size_t from,
    size_t *ms, size_t *me)
{
	const char *const	*a;
	uint16_t		 bit = (uint16_t)(1U << (pt - patterns));
	size_t			 i, j, k;

	for (i = from; i < n; i++) {
		if ((kwfirst[s[i]] & bit) == 0)
			continue;
		for (a = pt->alt, j = NOPE; *a != NULL && j == NOPE; a++)
			j = kw_at(s, n, i, *a);
		if (j == NOPE || (j = kv_sep(s, n, j)) == NOPE)
			continue;
		if ((pt->flags & KV_CHARS) != 0)
			j = chars_at(s, n, j, pt->run[0].min);
		else
			j = runs_at(pt, s, n, j);
		if (j == NOPE)
			continue;
		if ((pt->flags & KV_PAD) != 0)
			for (k = 0; k < 2 && j < n && s[j] == '='; k++)
				j++;
		*ms = i;
		*me = (pt->flags & KV_QUOTE) != 0 ? opt_quote(s, n, j) : j;
		return (1);
	}
	return (0);
}

/*
 * "Authorization" ['"]? \s* [:=] \s* ['"]? ending at s[i]: the HTTP
 * header, where whatever follows "Bearer" is a credential.
 */
static int
bearer_header(const uint8_t *s, size_t i)
{
	size_t	w;

	if (i > 0 && (s[i - 1] == '\'' || s[i - 1] == '"'))
		i--;
	while ((w = ws_back(s, i)) != 0)
		i -= w;
	if (i == 0 || (s[i - 1] != ':' && s[i - 1] != '='))
		return (0);
	i--;
	while ((w = ws_back(s, i)) != 0)
		i -= w;
	if (i > 0 && (s[i - 1] == '\'' || s[i - 1] == '"'))
		i--;
	return (i >= 13 && ci_at(s, i, i - 13, "authorization", 13));
}

/*
 * Pattern 9: (?i)bearer\s+([a-zA-Z0-9_.=-]+), restricted to tokens that
 * look like credentials (see redact.h).
 */
static int
m_bearer(const uint8_t *s, size_t n, size_t from, size_t *ms, size_t *me)
{
	size_t		i, j, r, k;
	uint16_t	seen;
	int		kinds;

	for (i = from; i + 6 <= n; i++) {
		if ((s[i] | 0x20) != 'b' || !ci_at(s, n, i, "bearer", 6))
			continue;
		j = skip_ws(s, n, i + 6);
		if (j == i + 6 || (r = run_of(s, n, j, C_TOK)) == 0)
			continue;
		if (r < 16 && !bearer_header(s, i))
			continue;
		if (r >= 16) {
			seen = 0;
			for (k = j; k < j + r; k++)
				seen |= cls[s[k]];
			kinds = ((seen & C_LOWER) != 0) +
			    ((seen & C_UPPER) != 0) +
			    ((seen & C_DIGIT) != 0) +
			    ((seen & C_PUNCT) != 0);
			if (kinds < 2 && !bearer_header(s, i))
				continue;
		}
		*ms = i;
		*me = j + r;
		return (1);
	}
	return (0);
}

/* Pattern 11: -----BEGIN\s+(RSA\s+)?PRIVATE\s+KEY----- */
static int
m_pem_header(const uint8_t *s, size_t n, size_t from, size_t *ms,
    size_t *me)
{
	size_t	i, j, k;

	while (find_lit(s, n, from, "-----BEGIN", 10, &i)) {
		from = i + 1;
		j = skip_ws(s, n, i + 10);
		if (j == i + 10)
			continue;
		if (j + 3 <= n && memcmp(s + j, "RSA", 3) == 0) {
			k = skip_ws(s, n, j + 3);
			if (k > j + 3)
				j = k;
		}
		if (j + 7 > n || memcmp(s + j, "PRIVATE", 7) != 0)
			continue;
		k = skip_ws(s, n, j + 7);
		if (k == j + 7 || k + 8 > n ||
		    memcmp(s + k, "KEY-----", 8) != 0)
			continue;
		*ms = i;
		*me = k + 8;
		return (1);
	}
	return (0);
}

/*
 * One pass over the line: which matchers could possibly match?  Cheap
 * and conservative; the matchers decide.
 */
#ifdef __SSE2__
/* Bit k set when p[k] is a trigger byte; w <= 64.  16 bytes a step. */
static uint64_t
trigger_mask(const uint8_t *p, size_t w)
{
	const __m128i	dash = _mm_set1_epi8('-'), under = _mm_set1_epi8('_');
	const __m128i	colon = _mm_set1_epi8(':'), eq = _mm_set1_epi8('=');
	const __m128i	upa = _mm_set1_epi8('A'), b = _mm_set1_epi8('b');
	const __m128i	fold = _mm_set1_epi8(0x20);
	__m128i		x, t;
	uint64_t	m = 0;
	size_t		k;

	for (k = 0; k + 16 <= w; k += 16) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
		t = _mm_or_si128(_mm_cmpeq_epi8(x, dash),
		    _mm_cmpeq_epi8(x, under));
		t = _mm_or_si128(t, _mm_cmpeq_epi8(x, colon));
		t = _mm_or_si128(t, _mm_cmpeq_epi8(x, eq));
		t = _mm_or_si128(t, _mm_cmpeq_epi8(x, upa));
		t = _mm_or_si128(t, _mm_cmpeq_epi8(_mm_or_si128(x, fold), b));
		m |= (uint64_t)(uint16_t)_mm_movemask_epi8(t) << k;
	}
	for (; k < w; k++)
		if (trig[p[k]] != 0)
			m |= 1ULL << k;
	return (m);
}
#else
static uint64_t
trigger_mask(const uint8_t *p, size_t w)
{
	uint64_t	m = 0;
	size_t		k;

	for (k = 0; k < w; k++)
		if (trig[p[k]] != 0)
			m |= 1ULL << k;
	return (m);
}
#endif

/*
 * A ':' or '=' at s[i]: which key=value patterns could match here?  The
 * last three letters of a keyword must come before it (kwtail[] lets a
 * few other words through: the matchers decide), and enough of a value
 * after it.
 */
static unsigned
trig_sep(const uint8_t *s, size_t n, size_t i)
{
	const struct pattern	*pt;
	unsigned		 kw, p8;
	size_t			 j, v;

	/* Back over blanks (a non-ASCII byte may be one) and a quote. */
	j = i;
	while (j > 0 && (s[j - 1] >= 0x80 || (cls[s[j - 1]] & C_SPACE) != 0))
		j--;
	if (j > 0 && (s[j - 1] == '\'' || s[j - 1] == '"'))
		j--;
	if (j < 3)
		return (0);
	kw = kwtail[0][s[j - 3]] & kwtail[1][s[j - 2]] & kwtail[2][s[j - 1]];
	if (kw == 0)
		return (0);
	/* Bytes the value could have (at least as many as characters). */
	v = opt_quote(s, n, skip_ws(s, n, i + 1));
	for (j = v; j < n && j - v < kwlongest; j++)
		if ((cls[s[j]] & C_SPACE) != 0 || s[j] == '\'' || s[j] == '"')
			break;
	j -= v;
	p8 = kw & M_P8;
	for (pt = patterns; pt < patterns + NPATTERNS; pt++)
		if (pt->kind == PAT_KV && j < pt->run[0].min)
			kw &= ~pt->mask;
	/*
	 * An earlier pass can lengthen a P8 value, whose class takes '['
	 * and ']': "pwd=ab bearer <token>" becomes "pwd=ab[REDACTED]".  The
	 * other value classes stop at '['.
	 */
	if (p8 != 0 && (kw & M_P8) == 0)
		kw |= M_P8_LATE;
	return (kw);
}

/*
 * One pass over the line: which matchers could possibly match?  Cheap
 * and conservative; the matchers decide.
 */
static unsigned
prefilter(const uint8_t *s, size_t n)
{
	unsigned	 m = 0;
	uint64_t	 bits;
	size_t		 base, i;

	for (base = 0; base < n; base += 64) {
		bits = trigger_mask(s + base, n - base < 64 ? n - base : 64);
		for (; bits != 0; bits &= bits - 1) {
			i = base + (size_t)__builtin_ctzll(bits);
			switch (trig[s[i]]) {
			case T_SEP:
				m |= trig_sep(s, n, i);
				break;
			case T_DASH:
				if (i >= 2 && s[i - 1] == 'k' &&
				    s[i - 2] == 's')
					m |= M_SK;
				if (i >= 4 && s[i - 2] == 'x' &&
				    s[i - 3] == 'o' && s[i - 4] == 'x')
					m |= M_P13;
				if (n - i >= 10 && s[i + 1] == '-' &&
				    memcmp(s + i, "-----BEGIN", 10) == 0)
					m |= M_PEM;
				break;
			case T_UNDER:
				if (i >= 3 && s[i - 3] == 'g' &&
				    s[i - 2] == 'h')
					m |= M_P12;
				break;
			case T_A:
				if (n - i < 4)
					break;
				if (s[i + 1] == 'K' && s[i + 2] == 'I' &&
				    s[i + 3] == 'A')
					m |= M_P4;
				else if (s[i + 1] == 'I' && s[i + 2] == 'z' &&
				    s[i + 3] == 'a')
					m |= M_P3;
				break;
			case T_B:
				if (n - i >= 6 &&
				    ci_at(s, n, i + 1, "earer", 5))
					m |= M_P9;
				break;
			}
		}
	}
	return (m);
}

/*
 * A PEM marker "-----<word> <label>-----" with a private-key label, at or
 * after from.  Returns its start (NOPE if none); *end is past it.
 */
static size_t
pem_marker(const uint8_t *s, size_t n, size_t from, const char *word,
    size_t wl, size_t *end)
{
	size_t	i, j, k, lab, labend;
	int	priv;

	while (from < n && n - from >= 5 + wl) {
		const uint8_t	*p;

		if ((p = memmem(s + from, n - from, "-----", 5)) == NULL)
			return (NOPE);
		i = (size_t)(p - s);
		from = i + 1;
		if (n - i < 5 + wl || memcmp(s + i + 5, word, wl) != 0)
			continue;
		j = i + 5 + wl;
		if (j >= n || (s[j] != ' ' && s[j] != '\t'))
			continue;
		lab = j;
		while (j < n && j - lab <= 64 && (cls[s[j]] & C_LABEL) != 0)
			j++;
		if (n - j < 5 || memcmp(s + j, "-----", 5) != 0)
			continue;
		labend = j;
		/* The label holds PRIVATE, blanks, KEY. */
		priv = 0;
		for (k = lab; k + 7 <= labend && !priv; k++) {
			size_t	q;

			if (memcmp(s + k, "PRIVATE", 7) != 0)
				continue;
			q = k + 7;
			while (q < labend && (s[q] == ' ' || s[q] == '\t'))
				q++;
			if (q > k + 7 && q + 3 <= labend &&
			    memcmp(s + q, "KEY", 3) == 0)
				priv = 1;
		}
		if (!priv)
			continue;
		*end = labend + 5;
		return (i);
	}
	return (NOPE);
}

/* The buffer the next stage writes: not the one cur points into. */
static struct rbuf *
other_buf(struct redactor *r, const uint8_t *cur)
{
	struct rbuf	*o;
	uintptr_t	 c = (uintptr_t)cur, b0 = (uintptr_t)r->b[0].p;

	o = r->b[0].p != NULL && c >= b0 && c - b0 < r->b[0].cap ?
	    &r->b[1] : &r->b[0];
	o->len = 0;
	return (o);
}

/*
 * Whole PEM private-key blocks (stage 1, on the raw line).  1 when the
 * line was inside a block and is now just "[REDACTED]".
 */
static int
pem_stage(struct redactor *r, const uint8_t **curp, size_t *np, int *changed)
{
	const uint8_t	*s = *curp;
	size_t		 n = *np, from = 0, b, e, be;
	struct rbuf	*o;

	o = other_buf(r, s);
	if (r->pem_in) {
		b = pem_marker(s, n, 0, "END", 3, &e);
		rbuf_add(r, o, REDACT_TEXT, REDACT_TEXT_LEN);
		*changed = 1;
		if (b == NOPE) {
			if (++r->pem_lines >= REDACT_PEM_MAX_LINES)
				r->pem_in = 0;
			*curp = o->p;
			*np = o->len;
			return (1);
		}
		r->pem_in = 0;
		from = e;
	}
	for (;;) {
		b = pem_marker(s, n, from, "BEGIN", 5, &be);
		if (b == NOPE)
			break;
		rbuf_add(r, o, s + from, b - from);
		rbuf_add(r, o, REDACT_TEXT, REDACT_TEXT_LEN);
		*changed = 1;
		if (pem_marker(s, n, be, "END", 3, &e) == NOPE) {
			r->pem_in = 1;
			r->pem_lines = 0;
			goto done;
		}
		from = e;
	}
	if (!*changed)
		return (0);
	rbuf_add(r, o, s + from, n - from);
 done:
	*curp = o->p;
	*np = o->len;
	return (0);
}

static int
add_span(struct redactor *r, size_t st, size_t e)
{
	struct span	*ns;
	size_t		 nc;

	if (r->nspans == r->capspans) {
		nc = r->capspans != 0 ? r->capspans * 2 : 8;
		if ((ns = reallocarray(r->spans, nc, sizeof(*ns))) == NULL) {
			r->nomem = 1;
			return (-1);
		}
		r->spans = ns;
		r->capspans = nc;
	}
	r->spans[r->nspans].s = st;
	r->spans[r->nspans].e = e;
	r->nspans++;
	return (0);
}

/* Exact injected values (stage 2). */
static void
values_stage(struct redactor *r, const uint8_t **curp, size_t *np,
    int *changed)
{
	const uint8_t	*s = *curp;
	size_t		 n = *np, i, k, st, from, step = r->stride;
	const uint64_t	*bits = r->gbits;
	struct rvalue	*v;
	struct gram	*gr;
	struct rbuf	*o;
	struct span	 sp;
	uint32_t	 g, h;
	int		 gi;

	/*
	 * Every occurrence of a value covers index offsets 0..stride-1 of
	 * it, so one of them falls on a sampled position.
	 */
	r->nspans = 0;
	if (!r->idx_ok) {
		for (k = 0; k < r->nvals; k++) {
			v = &r->vals[k];
			for (i = 0; i < n && n - i >= v->len; i = st + 1) {
				const uint8_t	*f;

				if ((f = memmem(s + i, n - i, v->v, v->len)) ==
				    NULL)
					break;
				st = (size_t)(f - s);
				if (add_span(r, st, st + v->len) == -1)
					return;
			}
		}
		goto merge;
	}
	for (i = 0; i + 4 <= n; i += step) {
		g = gram_at(s + i);
		h = gram_hash(g);
		if ((bits[h >> 6] & (1ULL << (h & 63))) == 0)
			continue;
		for (gi = r->buckets[h % NBUCKETS]; gi != -1; gi = gr->next) {
			gr = &r->grams[gi];
			if (gr->g != g || i < gr->off)
				continue;
			v = &r->vals[gr->vi];
			st = i - gr->off;
			if (n - st < v->len ||
			    memcmp(s + st, v->v, v->len) != 0)
				continue;
			if (add_span(r, st, st + v->len) == -1)
				return;
		}
	}
 merge:
	if (r->nspans == 0)
		return;
	/* Few spans, nearly sorted: insertion sort by start. */
	for (i = 1; i < r->nspans; i++) {
		sp = r->spans[i];
		for (k = i; k > 0 && r->spans[k - 1].s > sp.s; k--)
			r->spans[k] = r->spans[k - 1];
		r->spans[k] = sp;
	}
	o = other_buf(r, s);
	from = 0;
	for (i = 0; i < r->nspans; ) {
		st = r->spans[i].s;
		k = r->spans[i].e;
		/* Merge overlapping and touching occurrences. */
		for (i++; i < r->nspans && r->spans[i].s <= k; i++)
			if (r->spans[i].e > k)
				k = r->spans[i].e;
		rbuf_add(r, o, s + from, st - from);
		rbuf_add(r, o, REDACT_TEXT, REDACT_TEXT_LEN);
		from = k;
	}
	rbuf_add(r, o, s + from, n - from);
	*curp = o->p;
	*np = o->len;
	*changed = 1;
}

/* The leftmost match of pt at or after from. */
static int
pat_match(const struct pattern *pt, const uint8_t *s, size_t n, size_t from,
    size_t *ms, size_t *me)
{
	switch (pt->kind) {
	case PAT_PREFIX:
		return (m_prefix(pt, s, n, from, ms, me));
	case PAT_KV:
		return (m_kv(pt, s, n, from, ms, me));
	default:
		return (pt->fn(s, n, from, ms, me));
	}
}

/* Replace every match of one pattern (stage 3). */
static void
run_pass(struct redactor *r, const struct pattern *pt, const uint8_t **curp,
    size_t *np, int *changed)
{
	const uint8_t	*s = *curp;
	size_t		 n = *np, from = 0, ms, me;
	struct rbuf	*o;

	if (!pat_match(pt, s, n, 0, &ms, &me))
		return;
	o = other_buf(r, s);
	do {
		rbuf_add(r, o, s + from, ms - from);
		rbuf_add(r, o, REDACT_TEXT, REDACT_TEXT_LEN);
		from = me;
	} while (from < n && pat_match(pt, s, n, from, &ms, &me));
	rbuf_add(r, o, s + from, n - from);
	*curp = o->p;
	*np = o->len;
	*changed = 1;
}

struct redactor *
redact_new(void)
{
	struct redactor	*r;

	if (!tables_ready)
		init_tables();
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->enabled = 1;
	return (r);
}

void
redact_free(struct redactor *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nvals; i++)
		freezero(r->vals[i].v, r->vals[i].len);
	free(r->vals);
	free(r->gbits);
	free(r->buckets);
	free(r->grams);
	free(r->spans);
	/* The buffers held secrets on their way to being masked. */
	freezero(r->b[0].p, r->b[0].cap);
	freezero(r->b[1].p, r->b[1].cap);
	freezero(r->pend, r->pend != NULL ? REDACT_LINE_MAX : 0);
	free(r);
}

void
redact_reset(struct redactor *r)
{
	r->pem_in = 0;
	r->pem_lines = 0;
	r->plen = 0;
}

void
redact_pem_assume_open(struct redactor *r)
{
	r->pem_in = 1;
	r->pem_lines = 0;
}

int
redact_pem_first(const char *line, size_t len)
{
	const uint8_t	*s = (const uint8_t *)line;
	size_t		 b, e, end;

	if (!tables_ready)
		init_tables();
	b = pem_marker(s, len, 0, "BEGIN", 5, &end);
	e = pem_marker(s, len, 0, "END", 3, &end);
	if (b == NOPE && e == NOPE)
		return (0);
	return (e == NOPE || (b != NOPE && b < e) ? REDACT_PEM_BEGIN :
	    REDACT_PEM_END);
}

void
redact_set_enabled(struct redactor *r, int on)
{
	r->enabled = on != 0;
}

static uint32_t
gram_at(const uint8_t *p)
{
	uint32_t	g;

	memcpy(&g, p, sizeof(g));
	return (g);
}

/* 16-bit hash of a gram (Fibonacci hashing). */
static uint32_t
gram_hash(uint32_t g)
{
	return ((g * 0x9e3779b1U) >> 16);
}

/* Enter offsets 0..stride-1 of value vi into the index. */
static int
index_value(struct redactor *r, size_t vi)
{
	struct gram	*gr;
	size_t		 off, nc;
	uint32_t	 h;

	for (off = 0; off < r->stride; off++) {
		if (r->ngrams == r->capgrams) {
			nc = r->capgrams != 0 ? r->capgrams * 2 : 64;
			if ((gr = reallocarray(r->grams, nc, sizeof(*gr))) ==
			    NULL)
				return (-1);
			r->grams = gr;
			r->capgrams = nc;
		}
		gr = &r->grams[r->ngrams];
		gr->g = gram_at(r->vals[vi].v + off);
		gr->off = (uint32_t)off;
		gr->vi = (int)vi;
		h = gram_hash(gr->g);
		gr->next = r->buckets[h % NBUCKETS];
		r->buckets[h % NBUCKETS] = (int)r->ngrams;
		r->gbits[h >> 6] |= 1ULL << (h & 63);
		r->ngrams++;
	}
	return (0);
}

/* Rebuild the index after the shortest value, and so the stride, shrank. */
static int
reindex(struct redactor *r)
{
	size_t	i;

	r->stride = r->vmin - 3;
	if (r->stride > STRIDE_MAX)
		r->stride = STRIDE_MAX;
	memset(r->gbits, 0, 65536 / 8);
	for (i = 0; i < NBUCKETS; i++)
		r->buckets[i] = -1;
	r->ngrams = 0;
	for (i = 0; i < r->nvals; i++)
		if (index_value(r, i) == -1)
			return (-1);
	return (0);
}

/* One newline-free piece of an injected value. */
static int
add_piece(struct redactor *r, const uint8_t *p, size_t len)
{
	struct rvalue	*v;
	size_t		 i;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len < REDACT_VALUE_MIN)
		return (0);
	for (i = 0; i < r->nvals; i++)
		if (r->vals[i].len == len && memcmp(r->vals[i].v, p, len) == 0)
			return (0);
	if (r->nvals >= REDACT_VALUES_MAX) {
		errno = E2BIG;
		return (-1);
	}
	if (r->gbits == NULL) {
		if ((r->gbits = calloc(65536 / 64, sizeof(uint64_t))) ==
		    NULL || (r->buckets = reallocarray(NULL, NBUCKETS,
		    sizeof(int))) == NULL) {
			free(r->gbits);
			r->gbits = NULL;
			return (-1);
		}
		for (i = 0; i < NBUCKETS; i++)
			r->buckets[i] = -1;
	}
	if (r->nvals == r->capvals) {
		size_t	nc = r->capvals != 0 ? r->capvals * 2 : 8;

		if ((v = reallocarray(r->vals, nc, sizeof(*v))) == NULL)
			return (-1);
		r->vals = v;
		r->capvals = nc;
	}
	v = &r->vals[r->nvals];
	if ((v->v = malloc(len)) == NULL)
		return (-1);
	memcpy(v->v, p, len);
	v->len = len;
	r->nvals++;
	/*
	 * Without memory for the index the value is still masked, by the
	 * slow path in values_stage(); the next value retries the index.
	 */
	if (r->nvals == 1 || len < r->vmin || !r->idx_ok) {
		if (r->nvals == 1 || len < r->vmin)
			r->vmin = len;
		r->idx_ok = reindex(r) == 0;
	} else if (index_value(r, r->nvals - 1) == -1)
		r->idx_ok = 0;
	return (0);
}

int
redact_add_value(struct redactor *r, const char *value, size_t len)
{
	const uint8_t	*p = (const uint8_t *)value, *nl;
	size_t		 left = len;

	while (left > 0) {
		if ((nl = memchr(p, '\n', left)) == NULL)
			return (add_piece(r, p, left));
		if (add_piece(r, p, (size_t)(nl - p)) == -1)
			return (-1);
		left -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return (0);
}

int
redact_add_env(struct redactor *r, const char *name, const char *value)
{
	if (!redact_env_name_sensitive(name))
		return (0);
	return (redact_add_value(r, value, strlen(value)));
}

int
redact_env_name_sensitive(const char *name)
{
	static const char *const contains[] = { "api_key", "api-key",
	    "apikey", "secret", "token", "password", "credential", NULL };
	static const char *const prefixes[] = { "anthropic_", "openai_",
	    "claude_", "aws_", "google_", NULL };
	static const char *const exact[] = { "github_token", "gh_token",
	    NULL };
	size_t		 n = strlen(name), i, l;
	int		 k;

	for (k = 0; contains[k] != NULL; k++) {
		l = strlen(contains[k]);
		for (i = 0; i + l <= n; i++)
			if (strncasecmp(name + i, contains[k], l) == 0)
				return (1);
	}
	for (k = 0; prefixes[k] != NULL; k++)
		if (strncasecmp(name, prefixes[k], strlen(prefixes[k])) == 0)
			return (1);
	for (k = 0; exact[k] != NULL; k++)
		if (strcasecmp(name, exact[k]) == 0)
			return (1);
	return (0);
}

int
redact_line(struct redactor *r, const char *in, size_t len,
    const char **out, size_t *outlen)
{
	const uint8_t	*cur = (const uint8_t *)in;
	size_t		 n = len, k;
	unsigned	 m;
	int		 changed = 0;

	*out = in;
	*outlen = len;
	if (!r->enabled)
		return (0);
	m = prefilter(cur, n);
	r->nomem = 0;
	if ((r->pem_in || (m & M_PEM) != 0) &&
	    pem_stage(r, &cur, &n, &changed) == 1)
		goto done;	/* a body line: nothing left to look at */
	if (r->nvals != 0 && !r->nomem)
		values_stage(r, &cur, &n, &changed);
	for (k = 0; k < NPATTERNS && m != 0 && !r->nomem; k++) {
		if (patterns[k].mask == M_P8 && changed &&
		    (m & M_P8_LATE) != 0)
			m |= M_P8;
		if ((m & patterns[k].mask) != 0)
			run_pass(r, &patterns[k], &cur, &n, &changed);
	}
 done:
	if (r->nomem) {
		*out = REDACT_TEXT;
		*outlen = REDACT_TEXT_LEN;
		return (1);
	}
	if (!changed)
		return (0);
	*out = (const char *)cur;
	*outlen = n;
	return (1);
}

/* Cut a full piece: after its last blank in the final 1 KiB, if any. */
static size_t
choose_cut(const uint8_t *s, size_t n)
{
	size_t	j;

	for (j = n; j > 0 && j + 1024 > n; j--)
		if (s[j - 1] == ' ' || s[j - 1] == '\t')
			return (j);
	return (n);
}

static void
emit_line(struct redactor *r, const uint8_t *s, size_t n, int newline,
    redact_emit_fn *emit, void *arg)
{
	const char	*o;
	size_t		 ol;

	(void)redact_line(r, (const char *)s, n, &o, &ol);
	emit(arg, o, ol, newline);
}

/* A line found whole in the input: cut it if it is too long. */
static void
emit_long(struct redactor *r, const uint8_t *s, size_t n, int newline,
    redact_emit_fn *emit, void *arg)
{
	size_t	cut;

	while (n > REDACT_LINE_MAX) {
		cut = choose_cut(s, REDACT_LINE_MAX);
		emit_line(r, s, cut, 0, emit, arg);
		s += cut;
		n -= cut;
	}
	emit_line(r, s, n, newline, emit, arg);
}

/* Add bytes of an unfinished line; emit full pieces as they fill up. */
static int
pend_add(struct redactor *r, const uint8_t *p, size_t n,
    redact_emit_fn *emit, void *arg)
{
	size_t	take, cut;

	if (n == 0)
		return (0);
	if (r->pend == NULL && (r->pend = malloc(REDACT_LINE_MAX)) == NULL) {
		emit_long(r, p, n, 0, emit, arg);
		return (-1);
	}
	while (n > 0) {
		if (r->plen == REDACT_LINE_MAX) {
			cut = choose_cut(r->pend, r->plen);
			emit_line(r, r->pend, cut, 0, emit, arg);
			memmove(r->pend, r->pend + cut, r->plen - cut);
			r->plen -= cut;
		}
		take = REDACT_LINE_MAX - r->plen;
		if (take > n)
			take = n;
		memcpy(r->pend + r->plen, p, take);
		r->plen += take;
		p += take;
		n -= take;
	}
	return (0);
}

int
redact_feed(struct redactor *r, const char *buf, size_t len,
    redact_emit_fn *emit, void *arg)
{
	const uint8_t	*p = (const uint8_t *)buf, *end = p + len, *nl;
	int		 rv = 0;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			if (pend_add(r, p, (size_t)(end - p), emit, arg) == -1)
				rv = -1;
			break;
		}
		if (r->plen == 0)
			emit_long(r, p, (size_t)(nl - p), 1, emit, arg);
		else if (pend_add(r, p, (size_t)(nl - p), emit, arg) == -1) {
			/* pend_add emitted the rest of the line as a cut. */
			rv = -1;
		} else {
			emit_line(r, r->pend, r->plen, 1, emit, arg);
			r->plen = 0;
		}
		p = nl + 1;
	}
	return (rv);
}

void
redact_feed_end(struct redactor *r, redact_emit_fn *emit, void *arg)
{
	if (r->plen == 0)
		return;
	emit_line(r, r->pend, r->plen, 0, emit, arg);
	r->plen = 0;
}

size_t
redact_pending(const struct redactor *r)
{
	return (r->plen);
}
