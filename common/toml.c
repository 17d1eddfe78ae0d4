/* SPDX-License-Identifier: ISC */
/*
 * TOML 1.0.0 parser: a hand-written recursive descent over the bytes of
 * the document.  The input is checked to be UTF-8 first, so later stages
 * only look at ASCII and copy the rest.  Recursion happens only for arrays
 * and inline tables, and the depth is checked before every step down.
 */

#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libbsd's overlay leaves out __unused, which its tree.h uses. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif
#include <sys/tree.h>

#include "toml.h"
#include "utf8.h"

/* struct toml_table flags */
#define TF_EXPLICIT	0x01	/* defined by [header] or [[header]] */
#define TF_DOTTED	0x02	/* defined by dotted keys */
#define TF_INLINE	0x04	/* inline table, sealed */

/* struct toml_array flags */
#define AF_AOT		0x01	/* array of tables made by [[header]] */

/*
 * Tables with more keys than this get a search tree.  A tree rather than
 * a hash: its worst case is O(log n) whatever keys a document chooses.
 */
#define INDEX_MIN	8

struct kvnode {
	RB_ENTRY(kvnode)	 entry;
	const char		*key;
	size_t			 len;
};
RB_HEAD(kvtree, kvnode);

struct toml_index {
	struct kvtree	 head;
	struct kvnode	*nodes;		/* nodes[i] indexes kv[i] */
	size_t		 cap;
};

struct keypart {
	char		*s;
	size_t		 len;
	size_t		 cap;		/* allocated, for the budget */
	struct toml_pos	 pos;
};

struct sbuf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

struct parser {
	const unsigned char	*buf;
	size_t			 len;
	size_t			 off;
	unsigned int		 line;
	size_t			 linestart;	/* offset where line begins */
	size_t			 coloff;	/* column cache: offset ... */
	unsigned int		 col;		/* ... and its column */
	size_t			 mem;		/* bytes allocated so far */
	struct toml_table	*root;
	struct toml_table	*cur;		/* table of the section */
	struct toml_error	*err;
	int			 failed;
	struct keypart		 key[TOML_MAX_DEPTH];
	size_t			 nkey;
	const char		*decpoint;	/* strtod's decimal point */
};

static int	 fail(struct parser *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static int	 fail_at(struct parser *, struct toml_pos, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static void	 vfail(struct parser *, struct toml_pos, const char *,
		    va_list);
static struct toml_pos pos_at(struct parser *, size_t);
static void	 describe(struct parser *, char *, size_t);
static const char *keyname(const char *, size_t, char *, size_t);
static void	*xcalloc(struct parser *, size_t, size_t);
static void	*xrealloc(struct parser *, void *, size_t, size_t, size_t);
static int	 sb_add(struct parser *, struct sbuf *, const void *, size_t);
static int	 sb_addc(struct parser *, struct sbuf *, int);
static int	 sb_addcp(struct parser *, struct sbuf *, uint32_t);
static void	 sb_free(struct parser *, struct sbuf *);
static int	 peek(struct parser *, size_t);
static void	 newline(struct parser *);
static int	 eat_newline(struct parser *);
static void	 skip_ws(struct parser *);
static int	 skip_comment(struct parser *);
static int	 skip_ws_nl_comments(struct parser *);
static int	 end_of_line(struct parser *);
static int	 parse_document(struct parser *);
static int	 parse_header(struct parser *);
static struct toml_table *header_parent(struct parser *);
static int	 header_table(struct parser *, struct toml_table *);
static int	 header_aot(struct parser *, struct toml_table *);
static int	 parse_keyval(struct parser *, struct toml_table *);
static int	 parse_key(struct parser *);
static int	 parse_key_part(struct parser *, struct keypart *);
static void	 key_reset(struct parser *);
static struct toml_value *parse_value(struct parser *, int);
static struct toml_value *parse_array(struct parser *, int);
static struct toml_value *parse_inline_table(struct parser *, int);
static int	 parse_string(struct parser *, struct sbuf *, int, int);
static int	 string_quotes(struct parser *, struct sbuf *, int);
static int	 parse_escape(struct parser *, struct sbuf *, int);
static int	 parse_number(struct parser *, struct toml_value *);
static int	 scan_decimal(struct parser *, struct sbuf *, int *);
static int	 float_value(struct parser *, struct toml_value *,
		    const struct sbuf *, size_t);
static int	 int_value(struct parser *, struct toml_value *,
		    const struct sbuf *, size_t, int);
static int	 parse_radix(struct parser *, struct toml_value *);
static int	 parse_digits(struct parser *, struct sbuf *);
static int	 parse_datetime(struct parser *, struct toml_value *);
static int	 parse_time(struct parser *, struct toml_datetime *);
static int	 parse_2digits(struct parser *, const char *, int, int,
		    int *);
static int	 match_word(struct parser *, const char *);
static struct toml_value *new_value(struct parser *, enum toml_type,
		    struct toml_pos);
static struct toml_value *new_nested(struct parser *, enum toml_type, int,
		    int, struct toml_pos);
static struct toml_value *insert_nested(struct parser *, struct toml_table *,
		    struct keypart *, enum toml_type, int);
static int	 array_push(struct parser *, struct toml_array *,
		    struct toml_value *);
static struct toml_kv *table_find(const struct toml_table *, const char *,
		    size_t);
static int	 table_insert(struct parser *, struct toml_table *, char *,
		    size_t, struct toml_pos, struct toml_value *);
static int	 table_reindex(struct parser *, struct toml_table *);
static int	 kvnode_cmp(struct kvnode *, struct kvnode *);
static void	 seal_table(struct toml_table *);
static void	 free_value(struct toml_value *);
static void	 free_table(struct toml_table *);
static void	 free_array(struct toml_array *);
static int	 days_in_month(int, int);
static int	 is_digit(int);
static int	 is_bare(int);
static int	 is_ctrl(int);
static const char *a_type(enum toml_type);

RB_GENERATE_STATIC(kvtree, kvnode, entry, kvnode_cmp)

static int
is_digit(int c)
{
	return (c >= '0' && c <= '9');
}

static int
is_bare(int c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-');
}

/* Control characters TOML forbids in comments and strings (tab is fine). */
static int
is_ctrl(int c)
{
	return ((c >= 0 && c < 0x20 && c != '\t') || c == 0x7f);
}

/* Only the first error is kept: later ones are consequences. */
static void
vfail(struct parser *p, struct toml_pos pos, const char *fmt, va_list ap)
{
	if (p->failed)
		return;
	p->failed = 1;
	p->err->pos = pos;
	(void)vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
}

static int
fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfail(p, pos_at(p, off), fmt, ap);
	va_end(ap);
	return (-1);
}

static int
fail_at(struct parser *p, struct toml_pos pos, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfail(p, pos, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * Line and column of a byte offset.  Offsets on the current line are
 * counted from a cache that moves forward, so asking for the position of
 * every key and value on a long line stays linear.
 */
static struct toml_pos
pos_at(struct parser *p, size_t off)
{
	struct toml_pos	 pos;
	size_t		 i, start;
	unsigned int	 col;

	if (off > p->len)
		off = p->len;
	if (off >= p->linestart) {
		if (off >= p->coloff) {
			start = p->coloff;
			col = p->col;
		} else {
			start = p->linestart;
			col = 1;
		}
		for (i = start; i < off; i++)
			if ((p->buf[i] & 0xc0) != 0x80)
				col++;
		p->coloff = off;
		p->col = col;
		pos.line = p->line;
		pos.col = col;
		return (pos);
	}
	/* Behind the current line: rare, only for errors.  Rescan. */
	pos.line = 1;
	pos.col = 1;
	i = 0;
	if (p->len >= 3 && p->buf[0] == 0xef && p->buf[1] == 0xbb &&
	    p->buf[2] == 0xbf)
		i = 3;		/* the BOM takes no column */
	for (; i < off; i++) {
		if (p->buf[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else if ((p->buf[i] & 0xc0) != 0x80)
			pos.col++;
	}
	return (pos);
}

/* Human-readable name of the character at the current offset. */
static void
describe(struct parser *p, char *buf, size_t size)
{
	int	c = peek(p, 0);

	if (c == -1)
		(void)snprintf(buf, size, "end of input");
	else if (c == '\n' || c == '\r')
		(void)snprintf(buf, size, "end of line");
	else if (c > 0x20 && c < 0x7f)
		(void)snprintf(buf, size, "'%c'", c);
	else if (c == ' ')
		(void)snprintf(buf, size, "space");
	else if (c == '\t')
		(void)snprintf(buf, size, "tab");
	else if (c < 0x80)
		(void)snprintf(buf, size, "control character 0x%02x", c);
	else
		(void)snprintf(buf, size, "non-ASCII character");
}

/* A key made printable for messages, shortened when long. */
static const char *
keyname(const char *k, size_t len, char *buf, size_t size)
{
	size_t		i, o = 0;
	unsigned char	c;

	for (i = 0; i < len && o + 8 < size; i++) {
		c = (unsigned char)k[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (i < len && o + 4 <= size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return (buf);
}

static void *
xcalloc(struct parser *p, size_t nmemb, size_t size)
{
	void	*v;

	if (size != 0 && nmemb > (TOML_MAX_MEMORY - p->mem) / size) {
		(void)fail(p, p->off, "document needs more than %d MiB of "
		    "memory", TOML_MAX_MEMORY / (1024 * 1024));
		return (NULL);
	}
	if ((v = calloc(nmemb, size)) == NULL) {
		(void)fail(p, p->off, "out of memory");
		return (NULL);
	}
	p->mem += nmemb * size;
	return (v);
}

/* Grow an array from oldn to nmemb elements, charging the difference. */
static void *
xrealloc(struct parser *p, void *ptr, size_t oldn, size_t nmemb,
    size_t size)
{
	void	*v;

	if (nmemb < oldn || (nmemb - oldn) > (TOML_MAX_MEMORY - p->mem) /
	    size) {
		(void)fail(p, p->off, "document needs more than %d MiB of "
		    "memory", TOML_MAX_MEMORY / (1024 * 1024));
		return (NULL);
	}
	if ((v = reallocarray(ptr, nmemb, size)) == NULL) {
		(void)fail(p, p->off, "out of memory");
		return (NULL);
	}
	p->mem += (nmemb - oldn) * size;
	return (v);
}

/* Append to a string buffer; the result is always NUL-terminated. */
static int
sb_add(struct parser *p, struct sbuf *sb, const void *data, size_t n)
{
	size_t	 ncap;
	char	*np;

	if (sb->cap - sb->len <= n) {
		ncap = sb->cap == 0 ? 32 : sb->cap;
		while (ncap - sb->len <= n) {
			if (ncap > SIZE_MAX / 2)
				return (fail(p, p->off, "out of memory"));
			ncap *= 2;
		}
		if ((np = xrealloc(p, sb->p, sb->cap, ncap, 1)) == NULL)
			return (-1);
		sb->p = np;
		sb->cap = ncap;
	}
	memcpy(sb->p + sb->len, data, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
	return (0);
}

static int
sb_addc(struct parser *p, struct sbuf *sb, int c)
{
	char	ch = (char)c;

	return (sb_add(p, sb, &ch, 1));
}

/* Append a Unicode scalar value as UTF-8. */
static int
sb_addcp(struct parser *p, struct sbuf *sb, uint32_t cp)
{
	unsigned char	u[UTF8_MAX];

	return (sb_add(p, sb, u, utf8_encode(cp, u)));
}

/* Free a temporary buffer and give its bytes back to the budget. */
static void
sb_free(struct parser *p, struct sbuf *sb)
{
	free(sb->p);
	p->mem -= sb->cap;
	memset(sb, 0, sizeof(*sb));
}

/* The byte k places ahead, or -1 past the end. */
static int
peek(struct parser *p, size_t k)
{
	if (k >= p->len || p->off >= p->len - k)
		return (-1);
	return (p->buf[p->off + k]);
}

static void
newline(struct parser *p)
{
	p->line++;
	p->linestart = p->off;
	p->coloff = p->off;
	p->col = 1;
}

/* Consume LF or CRLF: 1 if there was one, 0 if not, -1 for a bare CR. */
static int
eat_newline(struct parser *p)
{
	int	c = peek(p, 0);

	if (c == '\n') {
		p->off++;
		newline(p);
		return (1);
	}
	if (c == '\r') {
		if (peek(p, 1) != '\n')
			return (fail(p, p->off, "carriage return not "
			    "followed by line feed"));
		p->off += 2;
		newline(p);
		return (1);
	}
	return (0);
}

static void
skip_ws(struct parser *p)
{
	while (p->off < p->len &&
	    (p->buf[p->off] == ' ' || p->buf[p->off] == '\t'))
		p->off++;
}

/* A comment runs to the end of the line; it stops before the newline. */
static int
skip_comment(struct parser *p)
{
	int	c;

	if (peek(p, 0) != '#')
		return (0);
	p->off++;
	while ((c = peek(p, 0)) != -1 && c != '\n') {
		if (c == '\r') {
			if (peek(p, 1) == '\n')
				break;
			return (fail(p, p->off, "carriage return not "
			    "followed by line feed"));
		}
		if (is_ctrl(c))
			return (fail(p, p->off, "control character 0x%02x "
			    "in comment", c));
		p->off++;
	}
	return (0);
}

/* Whitespace, newlines and comments, as allowed inside arrays. */
static int
skip_ws_nl_comments(struct parser *p)
{
	int	r;

	for (;;) {
		skip_ws(p);
		if (skip_comment(p) == -1)
			return (-1);
		if ((r = eat_newline(p)) == -1)
			return (-1);
		if (r == 0)
			return (0);
	}
}

/* After a header or key/value: optional comment, then newline or EOF. */
static int
end_of_line(struct parser *p)
{
	char	what[32];
	int	r;

	skip_ws(p);
	if (skip_comment(p) == -1)
		return (-1);
	if (p->off >= p->len)
		return (0);
	if ((r = eat_newline(p)) == -1)
		return (-1);
	if (r == 0) {
		describe(p, what, sizeof(what));
		return (fail(p, p->off, "expected end of line, found %s",
		    what));
	}
	return (0);
}

static int
parse_document(struct parser *p)
{
	int	c;

	while (p->off < p->len) {
		skip_ws(p);
		c = peek(p, 0);
		if (c == -1)
			break;
		if (c == '[') {
			if (parse_header(p) == -1)
				return (-1);
		} else if (c != '#' && c != '\n' && c != '\r') {
			if (parse_keyval(p, p->cur) == -1)
				return (-1);
		}
		if (end_of_line(p) == -1)
			return (-1);
	}
	return (0);
}

static void
key_reset(struct parser *p)
{
	size_t	i;

	for (i = 0; i < p->nkey; i++) {
		if (p->key[i].s != NULL) {
			free(p->key[i].s);
			p->mem -= p->key[i].cap;
		}
		p->key[i].s = NULL;
	}
	p->nkey = 0;
}

/* A key, possibly dotted, into p->key[0 .. nkey-1]. */
static int
parse_key(struct parser *p)
{
	key_reset(p);
	for (;;) {
		skip_ws(p);
		if (p->nkey == TOML_MAX_DEPTH)
			return (fail(p, p->off, "dotted key has more than %d "
			    "parts", TOML_MAX_DEPTH));
		if (parse_key_part(p, &p->key[p->nkey]) == -1)
			return (-1);
		p->nkey++;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return (0);
		p->off++;
	}
}

static int
parse_key_part(struct parser *p, struct keypart *kp)
{
	struct sbuf	sb;
	char		what[32];
	size_t		start = p->off;
	int		c = peek(p, 0);

	memset(&sb, 0, sizeof(sb));
	kp->pos = pos_at(p, p->off);
	if (c == '"' || c == '\'') {
		if (peek(p, 1) == c && peek(p, 2) == c)
			return (fail(p, p->off, "a multi-line string cannot "
			    "be a key"));
		if (parse_string(p, &sb, c, 0) == -1 ||
		    (sb.p == NULL && sb_add(p, &sb, "", 0) == -1)) {
			sb_free(p, &sb);
			return (-1);
		}
	} else if (is_bare(c)) {
		while (is_bare(peek(p, 0)))
			p->off++;
		if (sb_add(p, &sb, p->buf + start, p->off - start) == -1) {
			sb_free(p, &sb);
			return (-1);
		}
	} else {
		describe(p, what, sizeof(what));
		return (fail(p, p->off, "expected a key, found %s", what));
	}
	kp->s = sb.p;
	kp->len = sb.len;
	kp->cap = sb.cap;
	return (0);
}

/* "an integer", "a table": for messages. */
static const char *
a_type(enum toml_type t)
{
	switch (t) {
	case TOML_INTEGER:
		return ("an integer");
	case TOML_DATETIME:
		return ("an offset date-time");
	case TOML_ARRAY:
		return ("an array");
	case TOML_STRING:
		return ("a string");
	case TOML_FLOAT:
		return ("a float");
	case TOML_BOOL:
		return ("a boolean");
	case TOML_DATETIME_LOCAL:
		return ("a local date-time");
	case TOML_DATE_LOCAL:
		return ("a local date");
	case TOML_TIME_LOCAL:
		return ("a local time");
	case TOML_TABLE:
		return ("a table");
	}
	return ("a value");
}

/* [a.b.c] or [[a.b.c]] */
static int
parse_header(struct parser *p)
{
	struct toml_table	*t;
	int			 aot;

	aot = peek(p, 1) == '[';
	p->off += aot ? 2 : 1;
	if (parse_key(p) == -1)
		return (-1);
	if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']'))
		return (fail(p, p->off, "expected '%s' to close the table "
		    "header", aot ? "]]" : "]"));
	p->off += aot ? 2 : 1;
	if ((t = header_parent(p)) == NULL)
		return (-1);
	return (aot ? header_aot(p, t) : header_table(p, t));
}

/*
 * The table a header's last key goes into: a.b for [a.b.c], made
 * implicitly where it does not exist yet.  NULL on error.
 */
static struct toml_table *
header_parent(struct parser *p)
{
	struct toml_table	*t = p->root;
	struct toml_kv		*kv;
	struct toml_value	*v;
	struct toml_array	*arr;
	struct keypart		*kp;
	char			 name[80];
	size_t			 i;

	for (i = 0; i + 1 < p->nkey; i++) {
		kp = &p->key[i];
		keyname(kp->s, kp->len, name, sizeof(name));
		kv = table_find(t, kp->s, kp->len);
		if (kv == NULL) {
			/* An implicit table: [a] may still define it later. */
			if ((v = insert_nested(p, t, kp, TOML_TABLE, 0)) ==
			    NULL)
				return (NULL);
			t = v->u.tab;
		} else if (kv->val->type == TOML_TABLE) {
			if (kv->val->u.tab->flags & TF_INLINE) {
				(void)fail_at(p, kp->pos, "cannot add to "
				    "inline table '%s'", name);
				return (NULL);
			}
			t = kv->val->u.tab;
		} else if (kv->val->type == TOML_ARRAY &&
		    (kv->val->u.arr->flags & AF_AOT)) {
			/* Into the most recent element. */
			arr = kv->val->u.arr;
			t = arr->items[arr->n - 1]->u.tab;
		} else {
			if (kv->val->type == TOML_ARRAY)
				(void)fail_at(p, kp->pos, "cannot add tables "
				    "to array '%s' defined with '='", name);
			else
				(void)fail_at(p, kp->pos, "key '%s' is already "
				    "defined as %s", name,
				    a_type(kv->val->type));
			return (NULL);
		}
	}
	return (t);
}

/* [a]: define the table, unless something defined it already. */
static int
header_table(struct parser *p, struct toml_table *t)
{
	struct toml_kv		*kv;
	struct toml_value	*v;
	struct keypart		*kp = &p->key[p->nkey - 1];
	char			 name[80];

	keyname(kp->s, kp->len, name, sizeof(name));
	if ((kv = table_find(t, kp->s, kp->len)) == NULL) {
		if ((v = insert_nested(p, t, kp, TOML_TABLE, TF_EXPLICIT)) ==
		    NULL)
			return (-1);
		p->cur = v->u.tab;
		return (0);
	}
	if (kv->val->type == TOML_ARRAY && (kv->val->u.arr->flags & AF_AOT))
		return (fail_at(p, kp->pos, "'%s' is already defined as an "
		    "array of tables", name));
	if (kv->val->type != TOML_TABLE)
		return (fail_at(p, kp->pos, "key '%s' is already defined as "
		    "%s", name, a_type(kv->val->type)));
	t = kv->val->u.tab;
	if (t->flags & TF_INLINE)
		return (fail_at(p, kp->pos, "table '%s' is already defined "
		    "as an inline table", name));
	if (t->flags & TF_DOTTED)
		return (fail_at(p, kp->pos, "table '%s' is already defined by "
		    "dotted keys", name));
	if (t->flags & TF_EXPLICIT)
		return (fail_at(p, kp->pos, "table '%s' is already defined",
		    name));
	/* Was implicit; this header defines it. */
	t->flags |= TF_EXPLICIT;
	kv->pos = kp->pos;
	kv->val->pos = kp->pos;
	p->cur = t;
	return (0);
}

/* [[a]]: a new table at the end of the array of tables a. */
static int
header_aot(struct parser *p, struct toml_table *t)
{
	struct toml_kv		*kv;
	struct toml_value	*v;
	struct toml_array	*arr;
	struct keypart		*kp = &p->key[p->nkey - 1];
	char			 name[80];

	keyname(kp->s, kp->len, name, sizeof(name));
	kv = table_find(t, kp->s, kp->len);
	if (kv == NULL) {
		if ((v = insert_nested(p, t, kp, TOML_ARRAY, AF_AOT)) == NULL)
			return (-1);
		arr = v->u.arr;
	} else if (kv->val->type == TOML_ARRAY &&
	    (kv->val->u.arr->flags & AF_AOT))
		arr = kv->val->u.arr;
	else if (kv->val->type == TOML_ARRAY)
		return (fail_at(p, kp->pos, "cannot append tables to array "
		    "'%s' defined with '='", name));
	else
		return (fail_at(p, kp->pos, "key '%s' is already defined as "
		    "%s", name, a_type(kv->val->type)));
	if ((v = new_nested(p, TOML_TABLE, arr->depth + 1, TF_EXPLICIT,
	    kp->pos)) == NULL)
		return (-1);
	if (array_push(p, arr, v) == -1) {
		free_value(v);
		return (-1);
	}
	p->cur = v->u.tab;
	return (0);
}

/*
 * key = value, into table t (the current section or an inline table).
 * Dotted keys create or extend tables, but only tables that dotted keys
 * made: not ones defined by a header or inline.
 */
static int
parse_keyval(struct parser *p, struct toml_table *t)
{
	struct toml_kv		*kv;
	struct toml_value	*v;
	struct keypart		*kp;
	struct toml_pos		 kpos;
	char			 name[80], what[32], *k;
	size_t			 i, klen;

	if (parse_key(p) == -1)
		return (-1);
	for (i = 0; i + 1 < p->nkey; i++) {
		kp = &p->key[i];
		kv = table_find(t, kp->s, kp->len);
		if (kv == NULL) {
			if ((v = insert_nested(p, t, kp, TOML_TABLE,
			    TF_DOTTED)) == NULL)
				return (-1);
			t = v->u.tab;
			continue;
		}
		keyname(kp->s, kp->len, name, sizeof(name));
		if (kv->val->type != TOML_TABLE)
			return (fail_at(p, kp->pos, "key '%s' is already "
			    "defined as %s", name, a_type(kv->val->type)));
		t = kv->val->u.tab;
		if (t->flags & TF_INLINE)
			return (fail_at(p, kp->pos, "cannot add to inline "
			    "table '%s'", name));
		if (t->flags & TF_EXPLICIT)
			return (fail_at(p, kp->pos, "cannot add to table '%s' "
			    "with dotted keys: it is defined by a header",
			    name));
		t->flags |= TF_DOTTED;
	}
	kp = &p->key[p->nkey - 1];
	if ((kv = table_find(t, kp->s, kp->len)) != NULL) {
		keyname(kp->s, kp->len, name, sizeof(name));
		return (fail_at(p, kp->pos, "duplicate key '%s'", name));
	}
	if (peek(p, 0) != '=') {
		describe(p, what, sizeof(what));
		return (fail(p, p->off, "expected '=' after key, found %s",
		    what));
	}
	p->off++;
	skip_ws(p);

	/* The value may contain keys of its own: take ours out first. */
	k = kp->s;
	klen = kp->len;
	kpos = kp->pos;
	kp->s = NULL;
	key_reset(p);
	if ((v = parse_value(p, t->depth)) == NULL) {
		free(k);
		return (-1);
	}
	return (table_insert(p, t, k, klen, kpos, v));
}

/*
 * A value inside a container of the given depth.  Scalars must be
 * followed by something that can end a value.
 */
static struct toml_value *
parse_value(struct parser *p, int depth)
{
	struct toml_value	*v;
	struct toml_pos		 pos;
	struct sbuf		 sb;
	char			 what[32];
	int			 c = peek(p, 0), r;

	pos = pos_at(p, p->off);
	if (c == '[' || c == '{') {
		if (depth + 1 > TOML_MAX_DEPTH) {
			(void)fail(p, p->off, "nesting deeper than %d levels",
			    TOML_MAX_DEPTH);
			return (NULL);
		}
		return (c == '[' ? parse_array(p, depth + 1) :
		    parse_inline_table(p, depth + 1));
	}
	if (c == '"' || c == '\'') {
		memset(&sb, 0, sizeof(sb));
		r = parse_string(p, &sb, c, peek(p, 1) == c &&
		    peek(p, 2) == c);
		if (r == 0 && sb.p == NULL)
			r = sb_add(p, &sb, "", 0);
		if (r == -1 || (v = new_value(p, TOML_STRING, pos)) == NULL) {
			free(sb.p);
			return (NULL);
		}
		v->u.str.ptr = sb.p;
		v->u.str.len = sb.len;
	} else {
		if ((v = new_value(p, TOML_BOOL, pos)) == NULL)
			return (NULL);
		if (c == 't' && match_word(p, "true")) {
			v->u.b = 1;
			r = 0;
		} else if (c == 'f' && match_word(p, "false")) {
			v->u.b = 0;
			r = 0;
		} else if (is_digit(c) && is_digit(peek(p, 1)) &&
		    is_digit(peek(p, 2)) && is_digit(peek(p, 3)) &&
		    peek(p, 4) == '-')
			r = parse_datetime(p, v);
		else if (is_digit(c) && is_digit(peek(p, 1)) &&
		    peek(p, 2) == ':')
			r = parse_datetime(p, v);
		else if (is_digit(c) || c == '+' || c == '-' || c == 'i' ||
		    c == 'n')
			r = parse_number(p, v);
		else {
			describe(p, what, sizeof(what));
			(void)fail(p, p->off, "expected a value, found %s",
			    what);
			r = -1;
		}
		if (r == -1) {
			free(v);
			return (NULL);
		}
	}
	c = peek(p, 0);
	if (c != -1 && c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
	    c != '#' && c != ',' && c != ']' && c != '}') {
		describe(p, what, sizeof(what));
		(void)fail(p, p->off, "unexpected %s after %s", what,
		    toml_type_name(v->type));
		free_value(v);
		return (NULL);
	}
	return (v);
}

/* Consume word if it is next. */
static int
match_word(struct parser *p, const char *word)
{
	size_t	n = strlen(word);

	if (p->len - p->off < n || memcmp(p->buf + p->off, word, n) != 0)
		return (0);
	p->off += n;
	return (1);
}

static struct toml_value *
parse_array(struct parser *p, int depth)
{
	struct toml_value	*v, *item;
	char			 what[32];
	size_t			 start = p->off;
	int			 c;

	if ((v = new_nested(p, TOML_ARRAY, depth, 0, pos_at(p, p->off))) ==
	    NULL)
		return (NULL);
	p->off++;
	for (;;) {
		if (skip_ws_nl_comments(p) == -1)
			goto bad;
		c = peek(p, 0);
		if (c == -1) {
			(void)fail(p, start, "unterminated array");
			goto bad;
		}
		if (c == ']')
			break;
		if ((item = parse_value(p, depth)) == NULL)
			goto bad;
		if (array_push(p, v->u.arr, item) == -1) {
			free_value(item);
			goto bad;
		}
		if (skip_ws_nl_comments(p) == -1)
			goto bad;
		c = peek(p, 0);
		if (c == ',') {
			p->off++;
			continue;
		}
		if (c == ']')
			break;
		if (c == -1)
			(void)fail(p, start, "unterminated array");
		else {
			describe(p, what, sizeof(what));
			(void)fail(p, p->off, "expected ',' or ']' in array, "
			    "found %s", what);
		}
		goto bad;
	}
	p->off++;
	return (v);
bad:
	free_value(v);
	return (NULL);
}

static struct toml_value *
parse_inline_table(struct parser *p, int depth)
{
	struct toml_value	*v;
	char			 what[32];
	size_t			 start = p->off;
	int			 c;

	if ((v = new_nested(p, TOML_TABLE, depth, 0, pos_at(p, p->off))) ==
	    NULL)
		return (NULL);
	p->off++;
	skip_ws(p);
	if (peek(p, 0) != '}') {
		for (;;) {
			skip_ws(p);
			if (peek(p, 0) == '}') {
				(void)fail(p, p->off, "trailing comma in "
				    "inline table");
				goto bad;
			}
			if (parse_keyval(p, v->u.tab) == -1)
				goto bad;
			skip_ws(p);
			c = peek(p, 0);
			if (c == ',') {
				p->off++;
				continue;
			}
			if (c == '}')
				break;
			if (c == -1)
				(void)fail(p, start, "unterminated inline "
				    "table");
			else if (c == '\n' || c == '\r')
				(void)fail(p, p->off, "newline in inline "
				    "table");
			else {
				describe(p, what, sizeof(what));
				(void)fail(p, p->off, "expected ',' or '}' "
				    "in inline table, found %s", what);
			}
			goto bad;
		}
	}
	p->off++;
	seal_table(v->u.tab);
	return (v);
bad:
	free_value(v);
	return (NULL);
}

/* An inline table and every table dotted keys made inside it. */
static void
seal_table(struct toml_table *t)
{
	size_t	i;

	t->flags |= TF_INLINE;
	for (i = 0; i < t->n; i++)
		if (t->kv[i].val->type == TOML_TABLE &&
		    !(t->kv[i].val->u.tab->flags & TF_INLINE))
			seal_table(t->kv[i].val->u.tab);
}

/*
 * A string: quote '"' for a basic string ("..." or """..."""), with
 * escapes; '\'' for a literal one ('...' or '''...'''), without.  A
 * multi-line string drops a newline right after the opening quotes and
 * stores CRLF as LF.
 */
static int
parse_string(struct parser *p, struct sbuf *sb, int quote, int multi)
{
	size_t	start = p->off, run;
	int	c, r, escapes = quote == '"';

	p->off += multi ? 3 : 1;
	if (multi && eat_newline(p) == -1)
		return (-1);
	for (;;) {
		c = peek(p, 0);
		if (c == -1)
			return (fail(p, start, "unterminated string"));
		if (c == quote) {
			if (!multi) {
				p->off++;
				return (0);
			}
			if ((r = string_quotes(p, sb, quote)) != 1)
				return (r);
			continue;
		}
		if (c == '\\' && escapes) {
			if (parse_escape(p, sb, multi) == -1)
				return (-1);
			continue;
		}
		if (c == '\n' || c == '\r') {
			if (!multi)
				return (fail(p, p->off, "newline in a "
				    "single-line string"));
			if (eat_newline(p) == -1 || sb_addc(p, sb, '\n') == -1)
				return (-1);
			continue;
		}
		if (is_ctrl(c))
			return (fail(p, p->off, "control character 0x%02x in "
			    "string", c));
		/* Copy a run of ordinary bytes at once. */
		for (run = 1; p->off + run < p->len; run++) {
			c = p->buf[p->off + run];
			if (c == quote || (c == '\\' && escapes) ||
			    c == '\n' || c == '\r' || is_ctrl(c))
				break;
		}
		if (sb_add(p, sb, p->buf + p->off, run) == -1)
			return (-1);
		p->off += run;
	}
}

/*
 * Quotes inside a multi-line string or at its end: 0 when they closed
 * it, 1 when they were content, -1 on error.  Up to two quotes may
 * precede the closing three.
 */
static int
string_quotes(struct parser *p, struct sbuf *sb, int quote)
{
	char	two[2];
	size_t	n;

	two[0] = two[1] = (char)quote;
	for (n = 0; peek(p, n) == quote && n < 6; n++)
		;
	if (n > 5)
		return (fail(p, p->off + 5, "too many quotes at the end of a "
		    "multi-line string"));
	if (sb_add(p, sb, two, n < 3 ? n : n - 3) == -1)
		return (-1);
	p->off += n;
	return (n < 3 ? 1 : 0);
}

static int
parse_escape(struct parser *p, struct sbuf *sb, int multi)
{
	size_t		 start = p->off, i, n;
	uint32_t	 cp;
	int		 c, d, r;

	p->off++;
	c = peek(p, 0);
	switch (c) {
	case 'b':
		p->off++;
		return (sb_addc(p, sb, '\b'));
	case 't':
		p->off++;
		return (sb_addc(p, sb, '\t'));
	case 'n':
		p->off++;
		return (sb_addc(p, sb, '\n'));
	case 'f':
		p->off++;
		return (sb_addc(p, sb, '\f'));
	case 'r':
		p->off++;
		return (sb_addc(p, sb, '\r'));
	case '"':
		p->off++;
		return (sb_addc(p, sb, '"'));
	case '\\':
		p->off++;
		return (sb_addc(p, sb, '\\'));
	case 'u':
	case 'U':
		n = c == 'u' ? 4 : 8;
		p->off++;
		cp = 0;
		for (i = 0; i < n; i++) {
			d = peek(p, 0);
			if (is_digit(d))
				d -= '0';
			else if (d >= 'a' && d <= 'f')
				d -= 'a' - 10;
			else if (d >= 'A' && d <= 'F')
				d -= 'A' - 10;
			else
				return (fail(p, start, "\\%c escape needs %zu "
				    "hex digits", c, n));
			cp = (cp << 4) | (uint32_t)d;
			p->off++;
		}
		if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return (fail(p, start, "\\%c%0*X is not a Unicode "
			    "scalar value", c, (int)n, (unsigned int)cp));
		return (sb_addcp(p, sb, cp));
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		if (!multi)
			break;
		/* Line-ending backslash: whitespace to the newline. */
		skip_ws(p);
		if ((r = eat_newline(p)) == -1)
			return (-1);
		if (r == 0)
			return (fail(p, start, "a backslash followed by "
			    "spaces must end the line"));
		do {
			skip_ws(p);
		} while ((r = eat_newline(p)) == 1);
		return (r);
	default:
		break;
	}
	if (c == -1)
		return (fail(p, start, "unterminated string"));
	if (c > 0x20 && c < 0x7f)
		return (fail(p, start, "invalid escape sequence '\\%c'", c));
	return (fail(p, start, "invalid escape sequence"));
}

/*
 * Digits with single underscores between them, appended to sb without
 * the underscores.  The first character must be a digit.
 */
static int
parse_digits(struct parser *p, struct sbuf *sb)
{
	size_t	start = p->off;
	int	c;

	if (!is_digit(peek(p, 0)))
		return (fail(p, p->off, "expected a digit"));
	for (;;) {
		c = peek(p, 0);
		if (c == '_') {
			if (!is_digit(peek(p, 1)))
				return (fail(p, p->off, "'_' must be between "
				    "digits"));
			p->off++;
			continue;
		}
		if (!is_digit(c))
			break;
		p->off++;
	}
	/* Append in one go, leaving out the underscores. */
	for (; start < p->off; start++)
		if (p->buf[start] != '_' &&
		    sb_addc(p, sb, p->buf[start]) == -1)
			return (-1);
	return (0);
}

/* Integers (decimal, 0x, 0o, 0b) and floats (incl. inf and nan). */
static int
parse_number(struct parser *p, struct toml_value *v)
{
	struct sbuf	 sb;
	size_t		 start = p->off;
	int		 c, r, neg = 0, sign = 0, isfloat;

	c = peek(p, 0);
	if (c == '+' || c == '-') {
		sign = 1;
		neg = c == '-';
		p->off++;
		c = peek(p, 0);
	}
	if (c == 'i' || c == 'n') {
		if (match_word(p, "inf"))
			v->u.f = neg ? -INFINITY : INFINITY;
		else if (match_word(p, "nan"))
			v->u.f = neg ? -NAN : NAN;
		else
			return (fail(p, start, "invalid value"));
		v->type = TOML_FLOAT;
		return (0);
	}
	if (c == '0') {
		c = peek(p, 1);
		if (c == 'x' || c == 'o' || c == 'b') {
			if (sign)
				return (fail(p, start, "hexadecimal, octal "
				    "and binary integers cannot have a sign"));
			return (parse_radix(p, v));
		}
		if (is_digit(c) || c == '_')
			return (fail(p, start, "leading zeros are not "
			    "allowed"));
	}
	if (!is_digit(peek(p, 0)))
		return (fail(p, start, "invalid number"));

	memset(&sb, 0, sizeof(sb));
	if ((neg && sb_addc(p, &sb, '-') == -1) ||
	    scan_decimal(p, &sb, &isfloat) == -1)
		r = -1;
	else if (isfloat)
		r = float_value(p, v, &sb, start);
	else
		r = int_value(p, v, &sb, start, neg);
	sb_free(p, &sb);
	return (r);
}

/*
 * The digits, fraction and exponent of a decimal number into sb, as
 * strtod reads them; *isfloat when there is a fraction or exponent.
 */
static int
scan_decimal(struct parser *p, struct sbuf *sb, int *isfloat)
{
	int	c;

	*isfloat = 0;
	if (parse_digits(p, sb) == -1)
		return (-1);
	if (peek(p, 0) == '.') {
		*isfloat = 1;
		p->off++;
		if (!is_digit(peek(p, 0)))
			return (fail(p, p->off, "expected a digit after the "
			    "decimal point"));
		if (sb_add(p, sb, p->decpoint, strlen(p->decpoint)) == -1 ||
		    parse_digits(p, sb) == -1)
			return (-1);
	}
	c = peek(p, 0);
	if (c == 'e' || c == 'E') {
		*isfloat = 1;
		p->off++;
		if (sb_addc(p, sb, 'e') == -1)
			return (-1);
		c = peek(p, 0);
		if (c == '+' || c == '-') {
			p->off++;
			if (sb_addc(p, sb, c) == -1)
				return (-1);
		}
		/* The exponent may have leading zeros. */
		if (!is_digit(peek(p, 0)))
			return (fail(p, p->off, "expected a digit in the "
			    "exponent"));
		if (parse_digits(p, sb) == -1)
			return (-1);
	}
	return (0);
}

static int
float_value(struct parser *p, struct toml_value *v, const struct sbuf *sb,
    size_t start)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(sb->p, &end);
	if (*end != '\0')
		return (fail(p, start, "invalid float"));
	if (errno == ERANGE && isinf(d))
		return (fail(p, start, "float out of range"));
	v->type = TOML_FLOAT;
	v->u.f = d;
	return (0);
}

/* Decimal digits, after a '-' when neg, as a 64-bit integer. */
static int
int_value(struct parser *p, struct toml_value *v, const struct sbuf *sb,
    size_t start, int neg)
{
	uint64_t	u = 0, limit, c;
	size_t		i;

	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (i = neg ? 1 : 0; i < sb->len; i++) {
		c = (uint64_t)(sb->p[i] - '0');
		if (u > (limit - c) / 10)
			return (fail(p, start, "integer out of range for 64 "
			    "bits"));
		u = u * 10 + c;
	}
	v->type = TOML_INTEGER;
	if (neg)
		v->u.i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(int64_t)u;
	else
		v->u.i = (int64_t)u;
	return (0);
}

/* 0x..., 0o..., 0b...: non-negative, underscores between digits. */
static int
parse_radix(struct parser *p, struct toml_value *v)
{
	size_t		start = p->off;
	uint64_t	u = 0;
	int		c, d, base;

	c = peek(p, 1);
	base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
	p->off += 2;
	for (;;) {
		c = peek(p, 0);
		if (is_digit(c))
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c == '_' && p->off > start + 2) {
			c = peek(p, 1);
			if (!((is_digit(c) && c - '0' < base) || (base == 16 &&
			    ((c >= 'a' && c <= 'f') ||
			    (c >= 'A' && c <= 'F')))))
				return (fail(p, p->off, "'_' must be between "
				    "digits"));
			p->off++;
			continue;
		} else
			break;
		if (d >= base)
			return (fail(p, p->off, "invalid digit '%c' for base "
			    "%d", c, base));
		if (u > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base)
			return (fail(p, start, "integer out of range for 64 "
			    "bits"));
		u = u * (uint64_t)base + (uint64_t)d;
		p->off++;
	}
	if (p->off == start + 2)
		return (fail(p, p->off, "expected digits after '0%c'",
		    base == 16 ? 'x' : base == 8 ? 'o' : 'b'));
	v->type = TOML_INTEGER;
	v->u.i = (int64_t)u;
	return (0);
}

static int
days_in_month(int year, int month)
{
	static const int	mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (month == 2 && year % 4 == 0 &&
	    (year % 100 != 0 || year % 400 == 0))
		return (29);
	return (mdays[month - 1]);
}

/* Two ASCII digits in [min, max]. */
static int
parse_2digits(struct parser *p, const char *what, int min, int max,
    int *val)
{
	if (!is_digit(peek(p, 0)) || !is_digit(peek(p, 1)))
		return (fail(p, p->off, "%s must be two digits", what));
	*val = (p->buf[p->off] - '0') * 10 + (p->buf[p->off + 1] - '0');
	if (*val < min || *val > max)
		return (fail(p, p->off, "%s %02d out of range", what, *val));
	p->off += 2;
	return (0);
}

/* HH:MM:SS[.frac] */
static int
parse_time(struct parser *p, struct toml_datetime *dt)
{
	long	scale;
	int	c;

	if (parse_2digits(p, "hour", 0, 23, &dt->hour) == -1)
		return (-1);
	if (peek(p, 0) != ':')
		return (fail(p, p->off, "expected ':' after the hour"));
	p->off++;
	if (parse_2digits(p, "minute", 0, 59, &dt->minute) == -1)
		return (-1);
	if (peek(p, 0) != ':')
		return (fail(p, p->off, "expected ':' and seconds after the "
		    "minute"));
	p->off++;
	/* 60 is a leap second. */
	if (parse_2digits(p, "second", 0, 60, &dt->second) == -1)
		return (-1);
	dt->has_time = 1;
	if (peek(p, 0) != '.')
		return (0);
	p->off++;
	if (!is_digit(peek(p, 0)))
		return (fail(p, p->off, "expected digits after '.' in the "
		    "time"));
	scale = 100000000;
	while (is_digit(c = peek(p, 0))) {
		/* Digits past nanoseconds are dropped (truncated). */
		if (scale > 0) {
			dt->nsec += (c - '0') * scale;
			scale /= 10;
			dt->frac_digits++;
		}
		p->off++;
	}
	return (0);
}

/* Offset date-time, local date-time, local date or local time. */
static int
parse_datetime(struct parser *p, struct toml_value *v)
{
	struct toml_datetime	*dt = &v->u.dt;
	size_t			 i;
	int			 c, sign, oh, om;

	memset(dt, 0, sizeof(*dt));
	if (peek(p, 2) == ':') {
		if (parse_time(p, dt) == -1)
			return (-1);
		v->type = TOML_TIME_LOCAL;
		return (0);
	}
	for (i = 0; i < 4; i++)
		dt->year = dt->year * 10 + (p->buf[p->off + i] - '0');
	p->off += 5;
	if (parse_2digits(p, "month", 1, 12, &dt->month) == -1)
		return (-1);
	if (peek(p, 0) != '-')
		return (fail(p, p->off, "expected '-' after the month"));
	p->off++;
	if (parse_2digits(p, "day", 1, 31, &dt->day) == -1)
		return (-1);
	if (dt->day > days_in_month(dt->year, dt->month))
		return (fail(p, p->off - 2, "day %02d out of range for "
		    "%04d-%02d", dt->day, dt->year, dt->month));
	dt->has_date = 1;
	c = peek(p, 0);
	if (c == 'T' || c == 't')
		p->off++;
	else if (c == ' ' && is_digit(peek(p, 1)) && is_digit(peek(p, 2)) &&
	    peek(p, 3) == ':')
		p->off++;
	else {
		v->type = TOML_DATE_LOCAL;
		return (0);
	}
	if (parse_time(p, dt) == -1)
		return (-1);
	c = peek(p, 0);
	if (c == 'Z' || c == 'z') {
		p->off++;
		dt->has_offset = 1;
		v->type = TOML_DATETIME;
		return (0);
	}
	if (c != '+' && c != '-') {
		v->type = TOML_DATETIME_LOCAL;
		return (0);
	}
	sign = c == '-' ? -1 : 1;
	p->off++;
	if (parse_2digits(p, "offset hour", 0, 23, &oh) == -1)
		return (-1);
	if (peek(p, 0) != ':')
		return (fail(p, p->off, "expected ':' in the offset"));
	p->off++;
	if (parse_2digits(p, "offset minute", 0, 59, &om) == -1)
		return (-1);
	dt->has_offset = 1;
	dt->offset_min = sign * (oh * 60 + om);
	v->type = TOML_DATETIME;
	return (0);
}

static struct toml_value *
new_value(struct parser *p, enum toml_type type, struct toml_pos pos)
{
	struct toml_value	*v;

	if ((v = xcalloc(p, 1, sizeof(*v))) == NULL)
		return (NULL);
	v->type = type;
	v->pos = pos;
	return (v);
}

/* A table or an array, depth levels deep, with the given flags. */
static struct toml_value *
new_nested(struct parser *p, enum toml_type type, int depth, int flags,
    struct toml_pos pos)
{
	struct toml_value	*v;
	int			 tab = type == TOML_TABLE;

	if (depth > TOML_MAX_DEPTH) {
		(void)fail_at(p, pos, "%s nested deeper than %d levels",
		    tab ? "tables" : "arrays", TOML_MAX_DEPTH);
		return (NULL);
	}
	if ((v = new_value(p, type, pos)) == NULL)
		return (NULL);
	if (tab && (v->u.tab = xcalloc(p, 1, sizeof(*v->u.tab))) != NULL) {
		v->u.tab->flags = flags;
		v->u.tab->depth = depth;
	} else if (!tab &&
	    (v->u.arr = xcalloc(p, 1, sizeof(*v->u.arr))) != NULL) {
		v->u.arr->flags = flags;
		v->u.arr->depth = depth;
	} else {
		free(v);
		return (NULL);
	}
	return (v);
}

/*
 * A new table or array under key part kp of t, which takes the key's
 * memory.  NULL on error.
 */
static struct toml_value *
insert_nested(struct parser *p, struct toml_table *t, struct keypart *kp,
    enum toml_type type, int flags)
{
	struct toml_value	*v;
	char			*k;

	if ((v = new_nested(p, type, t->depth + 1, flags, kp->pos)) == NULL)
		return (NULL);
	k = kp->s;
	kp->s = NULL;
	if (table_insert(p, t, k, kp->len, kp->pos, v) == -1)
		return (NULL);
	return (v);
}

/* Append item to an array; on failure the caller still owns item. */
static int
array_push(struct parser *p, struct toml_array *a, struct toml_value *item)
{
	struct toml_value	**n;
	size_t			  ncap;

	if (a->n == a->cap) {
		ncap = a->cap == 0 ? 4 : a->cap * 2;
		if ((n = xrealloc(p, a->items, a->cap, ncap,
		    sizeof(*n))) == NULL)
			return (-1);
		a->items = n;
		a->cap = ncap;
	}
	a->items[a->n++] = item;
	return (0);
}

static int
kvnode_cmp(struct kvnode *a, struct kvnode *b)
{
	int	r;

	r = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);
	if (r != 0)
		return (r);
	return (a->len < b->len ? -1 : a->len > b->len);
}

static struct toml_kv *
table_find(const struct toml_table *t, const char *k, size_t len)
{
	struct kvnode	 q, *n;
	size_t		 i;

	if (t->index == NULL) {
		for (i = 0; i < t->n; i++)
			if (t->kv[i].keylen == len &&
			    memcmp(t->kv[i].key, k, len) == 0)
				return (&t->kv[i]);
		return (NULL);
	}
	q.key = k;
	q.len = len;
	if ((n = RB_FIND(kvtree, &t->index->head, &q)) == NULL)
		return (NULL);
	return (&t->kv[n - t->index->nodes]);
}

/*
 * (Re)build the search tree with room for as many nodes as kv has.
 * Nodes move when their array grows, so the tree is rebuilt then; as kv
 * doubles, that costs O(n log n) in all.
 */
static int
table_reindex(struct parser *p, struct toml_table *t)
{
	struct toml_index	*ix;
	struct kvnode		*nodes;
	size_t			 i;

	if ((ix = t->index) == NULL) {
		if ((ix = xcalloc(p, 1, sizeof(*ix))) == NULL)
			return (-1);
		t->index = ix;
	}
	if ((nodes = xrealloc(p, ix->nodes, ix->cap, t->cap,
	    sizeof(*nodes))) == NULL)
		return (-1);
	ix->nodes = nodes;
	ix->cap = t->cap;
	RB_INIT(&ix->head);
	for (i = 0; i < t->n; i++) {
		nodes[i].key = t->kv[i].key;
		nodes[i].len = t->kv[i].keylen;
		RB_INSERT(kvtree, &ix->head, &nodes[i]);
	}
	return (0);
}

/*
 * Add key and v to t.  Both belong to t from now on, even on failure
 * (then they are freed, or freed with t).  The caller has checked that
 * the key is not there yet.
 */
static int
table_insert(struct parser *p, struct toml_table *t, char *key,
    size_t keylen, struct toml_pos pos, struct toml_value *v)
{
	struct toml_kv	*kv;
	struct kvnode	*node;
	size_t		 ncap;

	if (t->n == t->cap) {
		ncap = t->cap == 0 ? 4 : t->cap * 2;
		if ((kv = xrealloc(p, t->kv, t->cap, ncap,
		    sizeof(*kv))) == NULL) {
			free(key);
			free_value(v);
			return (-1);
		}
		t->kv = kv;
		t->cap = ncap;
	}
	kv = &t->kv[t->n++];
	kv->key = key;
	kv->keylen = keylen;
	kv->pos = pos;
	kv->val = v;
	if (t->n <= INDEX_MIN)
		return (0);
	if (t->index == NULL || t->index->cap < t->cap)
		return (table_reindex(p, t));
	node = &t->index->nodes[t->n - 1];
	node->key = key;
	node->len = keylen;
	RB_INSERT(kvtree, &t->index->head, node);
	return (0);
}

static void
free_value(struct toml_value *v)
{
	if (v == NULL)
		return;
	switch (v->type) {
	case TOML_STRING:
		free(v->u.str.ptr);
		break;
	case TOML_ARRAY:
		free_array(v->u.arr);
		break;
	case TOML_TABLE:
		free_table(v->u.tab);
		break;
	default:
		break;
	}
	free(v);
}

/* Recursion is bounded: nothing is nested deeper than TOML_MAX_DEPTH. */
static void
free_table(struct toml_table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->kv[i].key);
		free_value(t->kv[i].val);
	}
	free(t->kv);
	if (t->index != NULL) {
		free(t->index->nodes);
		free(t->index);
	}
	free(t);
}

static void
free_array(struct toml_array *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free_value(a->items[i]);
	free(a->items);
	free(a);
}

struct toml_table *
toml_parse(const char *buf, size_t len, struct toml_error *err)
{
	struct toml_error	 dummy;
	struct parser		 p;
	struct lconv		*lc;
	size_t			 bad;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	memset(&p, 0, sizeof(p));
	p.buf = (const unsigned char *)buf;
	p.len = len;
	p.line = 1;
	p.col = 1;
	p.err = err;
	/* strtod follows LC_NUMERIC; TOML always uses '.'. */
	lc = localeconv();
	p.decpoint = lc != NULL && lc->decimal_point != NULL &&
	    lc->decimal_point[0] != '\0' ? lc->decimal_point : ".";

	if (buf == NULL && len != 0) {
		p.len = 0;
		(void)fail(&p, 0, "no input");
		return (NULL);
	}
	if (len > TOML_MAX_INPUT) {
		p.len = 0;
		(void)fail(&p, 0, "input larger than %d bytes",
		    TOML_MAX_INPUT);
		return (NULL);
	}
	if (len >= 3 && p.buf[0] == 0xef && p.buf[1] == 0xbb &&
	    p.buf[2] == 0xbf) {
		p.off = 3;
		p.linestart = p.coloff = 3;
	}
	if (len > 0 && utf8_valid(p.buf, len, &bad) == -1) {
		/* Not on the current line yet: pos_at rescans. */
		p.linestart = p.coloff = len;
		(void)fail(&p, bad, "invalid UTF-8");
		return (NULL);
	}
	if ((p.root = xcalloc(&p, 1, sizeof(*p.root))) == NULL)
		return (NULL);
	p.cur = p.root;
	if (parse_document(&p) == -1) {
		key_reset(&p);
		free_table(p.root);
		return (NULL);
	}
	key_reset(&p);
	return (p.root);
}

void
toml_free(struct toml_table *t)
{
	free_table(t);
}

const struct toml_kv *
toml_getn(const struct toml_table *t, const char *key, size_t keylen)
{
	if (t == NULL || key == NULL)
		return (NULL);
	return (table_find(t, key, keylen));
}

const struct toml_kv *
toml_get(const struct toml_table *t, const char *key)
{
	if (key == NULL)
		return (NULL);
	return (toml_getn(t, key, strlen(key)));
}

const char *
toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return ("string");
	case TOML_INTEGER:
		return ("integer");
	case TOML_FLOAT:
		return ("float");
	case TOML_BOOL:
		return ("boolean");
	case TOML_DATETIME:
		return ("offset date-time");
	case TOML_DATETIME_LOCAL:
		return ("local date-time");
	case TOML_DATE_LOCAL:
		return ("local date");
	case TOML_TIME_LOCAL:
		return ("local time");
	case TOML_ARRAY:
		return ("array");
	case TOML_TABLE:
		return ("table");
	}
	return ("unknown");
}

int
toml_format_datetime(const struct toml_datetime *dt, char *buf, size_t size)
{
	char	date[16] = "", time[32] = "", frac[16] = "", off[8] = "";
	long	ns;
	int	i, oabs;

	if (dt->has_date)
		(void)snprintf(date, sizeof(date), "%04d-%02d-%02d",
		    dt->year, dt->month, dt->day);
	if (dt->has_time) {
		if (dt->frac_digits > 0 && dt->frac_digits <= 9) {
			ns = dt->nsec;
			for (i = dt->frac_digits; i < 9; i++)
				ns /= 10;
			(void)snprintf(frac, sizeof(frac), ".%0*ld",
			    dt->frac_digits, ns);
		}
		(void)snprintf(time, sizeof(time), "%s%02d:%02d:%02d%s",
		    dt->has_date ? "T" : "", dt->hour, dt->minute,
		    dt->second, frac);
	}
	if (dt->has_offset) {
		oabs = dt->offset_min < 0 ? -dt->offset_min : dt->offset_min;
		if (dt->offset_min == 0)
			(void)strlcpy(off, "Z", sizeof(off));
		else
			(void)snprintf(off, sizeof(off), "%c%02d:%02d",
			    dt->offset_min < 0 ? '-' : '+', oabs / 60 % 100,
			    oabs % 60);
	}
	return (snprintf(buf, size, "%s%s%s", date, time, off));
}
