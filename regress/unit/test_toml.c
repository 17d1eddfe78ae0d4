/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for common/toml.c: values, positions, redefinition rules,
 * limits, hostile input, and the toml-test corpus.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "toml.h"
#include "unit.h"

struct corpus_count {
	int	valid;
	int	invalid;
};

static struct toml_table *parse(const char *, struct toml_error *);
static const struct toml_value *get(const struct toml_table *, const char *);
static void	 expect_error(const char *, size_t, unsigned int,
		    unsigned int, const char *);
static void	 expect_invalid(const char *);
static void	 expect_valid(const char *);
static int	 pos_in_input(const unsigned char *, size_t, struct toml_pos);
static char	*repeat(const char *, size_t, const char *, const char *);
static char	*read_file(const char *, size_t *);
static void	 walk_corpus(const char *, int, struct corpus_count *);
static void	 datetime_errors(void);

static struct toml_table *
parse(const char *doc, struct toml_error *e)
{
	return (toml_parse(doc, strlen(doc), e));
}

/* The value of key in t, failing the test when it is absent. */
static const struct toml_value *
get(const struct toml_table *t, const char *key)
{
	const struct toml_kv	*kv;

	if ((kv = toml_get(t, key)) == NULL)
		fail_msg("key '%s' not found", key);
	return (kv->val);
}

/* doc (len bytes) is rejected at line:col with msg in the message. */
static void
expect_error(const char *doc, size_t len, unsigned int line,
    unsigned int col, const char *msg)
{
	struct toml_table	*t;
	struct toml_error	 e;

	t = toml_parse(doc, len, &e);
	if (t != NULL) {
		toml_free(t);
		fail_msg("accepted: %s", doc);
	}
	if (e.pos.line != line || e.pos.col != col ||
	    strstr(e.msg, msg) == NULL)
		fail_msg("%s: got %u:%u: %s, want %u:%u: ...%s...", doc,
		    e.pos.line, e.pos.col, e.msg, line, col, msg);
}

static void
expect_invalid(const char *doc)
{
	struct toml_table	*t;
	struct toml_error	 e;

	if ((t = parse(doc, &e)) != NULL) {
		toml_free(t);
		fail_msg("accepted: %s", doc);
	}
	if (!pos_in_input((const unsigned char *)doc, strlen(doc), e.pos) ||
	    e.msg[0] == '\0')
		fail_msg("%s: bad error %u:%u: %s", doc, e.pos.line,
		    e.pos.col, e.msg);
}

static void
expect_valid(const char *doc)
{
	struct toml_table	*t;
	struct toml_error	 e;

	if ((t = parse(doc, &e)) == NULL)
		fail_msg("rejected: %s: %u:%u: %s", doc, e.pos.line,
		    e.pos.col, e.msg);
	toml_free(t);
}

/*
 * Does pos name a place in the input (end of input included)?  Columns
 * count code points; a leading BOM is not counted.
 */
static int
pos_in_input(const unsigned char *buf, size_t len, struct toml_pos pos)
{
	size_t		i = 0;
	unsigned int	line = 1, ncp = 0;

	if (pos.line == 0 || pos.col == 0)
		return (0);
	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		i = 3;
	for (; i < len; i++) {
		if (buf[i] == '\n') {
			if (line == pos.line)
				break;
			line++;
			ncp = 0;
		} else if (line == pos.line && (buf[i] & 0xc0) != 0x80)
			ncp++;
	}
	return (line == pos.line && pos.col <= ncp + 1);
}

/* head + n times unit + tail, NUL-terminated. */
static char *
repeat(const char *head, size_t n, const char *unit, const char *tail)
{
	size_t	 hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char	*s;

	s = malloc(hl + n * ul + tl + 1);
	assert_non_null(s);
	memcpy(s, head, hl);
	for (i = 0; i < n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + n * ul, tail, tl + 1);
	return (s);
}

static void
test_scalar_types(void **state)
{
	struct toml_table		*t;
	const struct toml_value		*v;
	struct toml_error		 e;
	const char			*doc =
	    "s = \"str\"\n"
	    "i = 42\n"
	    "f = 3.25\n"
	    "b = true\n"
	    "c = false\n"
	    "odt = 1979-05-27T07:32:00Z\n"
	    "ldt = 1979-05-27T07:32:00\n"
	    "ld = 1979-05-27\n"
	    "lt = 07:32:00\n"
	    "a = [1, \"two\", 3.0, [4], {x = 5}]\n"
	    "t = {}\n";

	t = parse(doc, &e);
	assert_non_null(t);
	assert_int_equal(t->n, 11);
	v = get(t, "s");
	assert_int_equal(v->type, TOML_STRING);
	assert_string_equal(v->u.str.ptr, "str");
	assert_int_equal(v->u.str.len, 3);
	v = get(t, "i");
	assert_int_equal(v->type, TOML_INTEGER);
	assert_true(v->u.i == 42);
	v = get(t, "f");
	assert_int_equal(v->type, TOML_FLOAT);
	assert_true(v->u.f == 3.25);
	assert_int_equal(get(t, "b")->type, TOML_BOOL);
	assert_int_equal(get(t, "b")->u.b, 1);
	assert_int_equal(get(t, "c")->u.b, 0);
	assert_int_equal(get(t, "odt")->type, TOML_DATETIME);
	assert_int_equal(get(t, "ldt")->type, TOML_DATETIME_LOCAL);
	assert_int_equal(get(t, "ld")->type, TOML_DATE_LOCAL);
	assert_int_equal(get(t, "lt")->type, TOML_TIME_LOCAL);
	v = get(t, "a");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_int_equal(v->u.arr->n, 5);
	assert_int_equal(v->u.arr->items[0]->type, TOML_INTEGER);
	assert_int_equal(v->u.arr->items[1]->type, TOML_STRING);
	assert_int_equal(v->u.arr->items[2]->type, TOML_FLOAT);
	assert_int_equal(v->u.arr->items[3]->type, TOML_ARRAY);
	assert_int_equal(v->u.arr->items[4]->type, TOML_TABLE);
	assert_true(get(v->u.arr->items[4]->u.tab, "x")->u.i == 5);
	v = get(t, "t");
	assert_int_equal(v->type, TOML_TABLE);
	assert_int_equal(v->u.tab->n, 0);
	toml_free(t);

	assert_string_equal(toml_type_name(TOML_STRING), "string");
	assert_string_equal(toml_type_name(TOML_INTEGER), "integer");
	assert_string_equal(toml_type_name(TOML_FLOAT), "float");
	assert_string_equal(toml_type_name(TOML_BOOL), "boolean");
	assert_string_equal(toml_type_name(TOML_DATETIME),
	    "offset date-time");
	assert_string_equal(toml_type_name(TOML_DATETIME_LOCAL),
	    "local date-time");
	assert_string_equal(toml_type_name(TOML_DATE_LOCAL), "local date");
	assert_string_equal(toml_type_name(TOML_TIME_LOCAL), "local time");
	assert_string_equal(toml_type_name(TOML_ARRAY), "array");
	assert_string_equal(toml_type_name(TOML_TABLE), "table");
}

static void
test_empty_and_null(void **state)
{
	struct toml_table	*t;
	struct toml_error	 e;

	t = toml_parse(NULL, 0, &e);
	assert_non_null(t);
	assert_int_equal(t->n, 0);
	toml_free(t);
	t = toml_parse("", 0, NULL);
	assert_non_null(t);
	toml_free(t);
	t = toml_parse(" \t\n# only a comment\n\n", 21, &e);
	assert_non_null(t);
	assert_int_equal(t->n, 0);
	assert_null(toml_get(t, "x"));
	assert_null(toml_get(NULL, "x"));
	assert_null(toml_get(t, NULL));
	toml_free(t);
	toml_free(NULL);
	assert_null(toml_parse(NULL, 5, &e));
	assert_null(toml_parse("a = @", 5, NULL));
	/* Not NUL-terminated: the parser must stop at len. */
	t = toml_parse("a = 1xyz", 5, &e);
	assert_non_null(t);
	assert_true(get(t, "a")->u.i == 1);
	toml_free(t);
}

static void
test_positions(void **state)
{
	struct toml_table		*t, *srv;
	const struct toml_kv		*kv;
	const struct toml_value		*v;
	struct toml_error		 e;
	const char			*doc =
	    "# comment\n"
	    "title = \"x\"\n"
	    "[server]\n"
	    "  \"\xc3\xa9\" = 1\n"
	    "  x = { y = 2 }\n"
	    "[[proc]]\n"
	    "name = \"a\"\n"
	    "[[ proc ]]\n"
	    "name = \"b\"\n"
	    "[a.b]\n"
	    "[a]\n"
	    "arr = [\n  1,\n  2 ]\n";

	t = parse(doc, &e);
	assert_non_null(t);
	kv = toml_get(t, "title");
	assert_int_equal(kv->pos.line, 2);
	assert_int_equal(kv->pos.col, 1);
	assert_int_equal(kv->val->pos.line, 2);
	assert_int_equal(kv->val->pos.col, 9);

	kv = toml_get(t, "server");
	assert_int_equal(kv->pos.line, 3);
	assert_int_equal(kv->pos.col, 2);
	assert_int_equal(kv->val->pos.line, 3);
	assert_int_equal(kv->val->pos.col, 2);
	srv = kv->val->u.tab;
	/* Columns count code points: "é" is one column. */
	kv = toml_get(srv, "\xc3\xa9");
	assert_non_null(kv);
	assert_int_equal(kv->pos.line, 4);
	assert_int_equal(kv->pos.col, 3);
	assert_int_equal(kv->val->pos.col, 9);
	kv = toml_get(srv, "x");
	assert_int_equal(kv->pos.line, 5);
	assert_int_equal(kv->pos.col, 3);
	assert_int_equal(kv->val->pos.col, 7);
	kv = toml_get(kv->val->u.tab, "y");
	assert_int_equal(kv->pos.col, 9);
	assert_int_equal(kv->val->pos.col, 13);

	/* Each element of an array of tables is at its header. */
	kv = toml_get(t, "proc");
	assert_int_equal(kv->pos.line, 6);
	assert_int_equal(kv->pos.col, 3);
	v = kv->val;
	assert_int_equal(v->u.arr->n, 2);
	assert_int_equal(v->u.arr->items[0]->pos.line, 6);
	assert_int_equal(v->u.arr->items[0]->pos.col, 3);
	assert_int_equal(v->u.arr->items[1]->pos.line, 8);
	assert_int_equal(v->u.arr->items[1]->pos.col, 4);
	assert_string_equal(get(v->u.arr->items[1]->u.tab, "name")->u.str.ptr,
	    "b");

	/* An implicit table takes the position of its defining header. */
	kv = toml_get(t, "a");
	assert_int_equal(kv->pos.line, 11);
	assert_int_equal(kv->pos.col, 2);
	assert_int_equal(kv->val->pos.line, 11);
	v = get(kv->val->u.tab, "arr");
	assert_int_equal(v->pos.line, 12);
	assert_int_equal(v->pos.col, 7);
	assert_int_equal(v->u.arr->items[1]->pos.line, 14);
	assert_int_equal(v->u.arr->items[1]->pos.col, 3);
	toml_free(t);
}

static void
test_error_positions(void **state)
{
	expect_error("a = 1\nb = @\n", 12, 2, 5, "expected a value");
	expect_error("a = 1\na = 2\n", 12, 2, 1, "duplicate key 'a'");
	expect_error("a = \"\xc3\xa9\" x", 10, 1, 9,
	    "expected end of line, found 'x'");
	expect_error("\xef\xbb\xbf" "a = @", 8, 1, 5, "expected a value");
	expect_error("a = \"\xc0\x80\"", 8, 1, 6, "invalid UTF-8");
	expect_error("x = 1\n\n  y = \"abc", 17, 3, 7,
	    "unterminated string");
	expect_error("a = [1,\n2,\n", 11, 1, 5, "unterminated array");
	expect_error("[a]\nb = 1\n[a]\n", 14, 3, 2, "already defined");
	expect_error("a = 99999999999999999999", 24, 1, 5, "out of range");
	expect_error("a = 1\r\nb = 2\rc = 3", 19, 2, 6,
	    "carriage return");
	expect_error("a = 2023-02-29", 14, 1, 13, "day 29 out of range");
	expect_error("a = { b = 1,\n c = 2 }", 21, 1, 13, "expected a key");
	expect_error("k = \"\\q\"", 8, 1, 6, "invalid escape");
	expect_error("k = 1 # \x01", 9, 1, 9, "control character");
	/* A very long line: columns still right at its end. */
	{
		char	*s = repeat("a = [", 20000, "1,", "@]");

		expect_error(s, strlen(s), 1, 6 + 40000, "expected a value");
		free(s);
	}
}

static void
test_redefinitions(void **state)
{
	/* [a] may define a table created implicitly by [a.b], once. */
	expect_valid("[a.b]\n[a]\n");
	expect_valid("[a]\n[a.b]\n");
	expect_valid("[[a.b]]\n[a]\n");
	expect_error("[a.b]\n[a]\n[a]\n", 14, 3, 2, "already defined");
	expect_error("[a]\n[a.b]\n[a]\n", 14, 3, 2, "already defined");
	expect_error("[a.b]\n[a]\n[a.b]\n", 16, 3, 4, "already defined");
	expect_error("[a]\n[a]\n", 8, 2, 2, "already defined");

	/* Duplicate keys, however they are written. */
	expect_error("a = 1\na = 1\n", 12, 2, 1, "duplicate key");
	expect_error("a = 1\n\"a\" = 1\n", 14, 2, 1, "duplicate key");
	expect_error("a = 1\n'a' = 1\n", 14, 2, 1, "duplicate key");
	expect_error("a.b = 1\na.b = 1\n", 16, 2, 3, "duplicate key");
	expect_error("a = {x = 1, x = 2}", 18, 1, 13, "duplicate key");

	/* Scalars cannot become tables. */
	expect_error("a = 1\n[a]\n", 10, 2, 2, "defined as an integer");
	expect_error("a = 1\n[a.b]\n", 12, 2, 2, "defined as an integer");
	expect_error("a = 1\na.b = 2\n", 14, 2, 1, "defined as an integer");
	expect_error("a = true\n[[a]]\n", 15, 2, 3, "defined as a boolean");
	expect_error("a.b = 1\na.b.c = 2\n", 18, 2, 3,
	    "defined as an integer");

	/* Tables made by dotted keys cannot get a header. */
	expect_error("a.b = 1\n[a]\n", 12, 2, 2, "by dotted keys");
	expect_error("[x]\ny.z = 1\n[x.y]\n", 18, 3, 4, "by dotted keys");
	expect_error("a.b.c = 1\n[a.b]\n", 16, 2, 4, "by dotted keys");
	expect_error("[f]\na.c = 1\n[[f.a]]\n", 20, 3, 5,
	    "defined as a table");
	/* ... but they can get sub-tables. */
	expect_valid("[fruit]\napple.color = 'red'\n"
	    "[fruit.apple.texture]\nsmooth = true\n");
	expect_valid("a.b.c = 1\na.b.d = 2\na.e = 3\n");

	/* Dotted keys cannot reach into tables defined by a header. */
	expect_error("[a.b.c]\nz = 1\n[a]\nb.c.t = 1\n", 26, 4, 3,
	    "defined by a header");
	expect_error("[a.b.c.d]\n[a]\nb.c.d.k = 1\n", 26, 3, 5,
	    "defined by a header");
	/*
	 * A table only implied by a header ([a.b] implies nothing about b
	 * being defined) may be extended with dotted keys, which then
	 * define it: a later [a.b] is a redefinition.
	 */
	expect_valid("[a.b.c]\n[a]\nb.d = 1\n");
	expect_error("[a.b.c]\n[a]\nb.d = 1\n[a.b]\n", 26, 4, 4,
	    "by dotted keys");

	/* Inline tables are sealed. */
	expect_error("a = {}\n[a]\n", 11, 2, 2, "inline table");
	expect_error("a = {}\n[a.b]\n", 13, 2, 2, "inline table");
	expect_error("a = {b = {}}\na.b.c = 1\n", 23, 2, 1, "inline table");
	expect_error("a = {b = {}}\n[a.b.c]\n", 21, 2, 2, "inline table");
	expect_error("a = {x.y = 1}\na.x.z = 2\n", 24, 2, 1,
	    "inline table");
	expect_error("a = {x.y = 1, x = 2}", 20, 1, 15, "duplicate key");
	expect_error("a = {x = 1, x.y = 2}", 20, 1, 13,
	    "defined as an integer");
	expect_error("a = {x = {}, x.y = 2}", 21, 1, 14, "inline table");
	expect_error("a.b = 1\na = {c = 2}\n", 20, 2, 1, "duplicate key");
	expect_valid("a = {x.y = 1, x.z = 2}");

	/* Arrays of tables versus static arrays. */
	expect_error("a = []\n[[a]]\n", 13, 2, 3, "defined with '='");
	expect_error("a = [{}]\n[a.b]\n", 15, 2, 2, "defined with '='");
	expect_error("a = []\n[[a.b]]\n", 15, 2, 3, "defined with '='");
	expect_error("[[a]]\n[a]\n", 10, 2, 2, "array of tables");
	expect_error("[a]\n[[a]]\n", 10, 2, 3, "defined as a table");
	expect_error("[[a.b]]\n[[a]]\n", 14, 2, 3, "defined as a table");
	expect_error("[[a.b]]\n[a]\nb.y = 2\n", 20, 3, 1,
	    "defined as an array");
	expect_error("[[a]]\nb = 1\n[a.b]\n", 18, 3, 4,
	    "defined as an integer");
	expect_valid("[[a]]\n[[a]]\n[a.b]\n[[a]]\n[a.b]\n");
	expect_valid("[[a]]\nb.c = 1\n[[a]]\nb.c = 2\n");
	expect_valid("[[a]]\n[[a.b]]\n[[a.b]]\n[[a]]\n[[a.b]]\n");
}

static void
test_syntax(void **state)
{
	struct toml_table		*t;
	const struct toml_value		*v;
	const struct toml_table		*a;
	struct toml_error		 e;

	t = parse("arr = [\n  1, # one\n\n  2, # two\n]\n"
	    "empty = [ ]\n"
	    "mixed = [1, 'a', {b = 1}, [2], 1.5]\n"
	    "it = { }\n"
	    "A-z_09 = 1\n"
	    "1234 = 2\n"
	    "true = 3\n"
	    "inf = 4\n"
	    "\"a.b\" = 5\n"
	    "x . y . \"z.w\" = 6\n"
	    "[ h . 'q' ] # comment\n"
	    "k = 7 # comment\n"
	    "[[ list ]]\n", &e);
	if (t == NULL)
		fail_msg("%u:%u: %s", e.pos.line, e.pos.col, e.msg);
	v = get(t, "arr");
	assert_int_equal(v->u.arr->n, 2);
	assert_true(v->u.arr->items[1]->u.i == 2);
	assert_int_equal(get(t, "empty")->u.arr->n, 0);
	assert_int_equal(get(t, "mixed")->u.arr->n, 5);
	assert_int_equal(get(t, "it")->u.tab->n, 0);
	assert_true(get(t, "A-z_09")->u.i == 1);
	assert_true(get(t, "1234")->u.i == 2);
	assert_true(get(t, "true")->u.i == 3);
	assert_true(get(t, "inf")->u.i == 4);
	assert_true(get(t, "a.b")->u.i == 5);
	assert_null(toml_get(t, "a"));
	a = get(get(t, "x")->u.tab, "y")->u.tab;
	assert_true(get(a, "z.w")->u.i == 6);
	a = get(get(t, "h")->u.tab, "q")->u.tab;
	assert_true(get(a, "k")->u.i == 7);
	assert_int_equal(get(t, "list")->u.arr->n, 1);
	toml_free(t);

	expect_error("a = [,]", 7, 1, 6, "expected a value");
	expect_error("a = [1,,2]", 10, 1, 8, "expected a value");
	expect_error("a = [1 2]", 9, 1, 8, "expected ',' or ']'");
	expect_error("a = {x = 1,}", 12, 1, 12, "trailing comma");
	expect_error("a = {x = 1\n}", 12, 1, 11, "newline in inline table");
	expect_error("a = {\nx = 1}", 12, 1, 6, "expected a key");
	expect_error("a = {x = 1 y = 2}", 17, 1, 12, "expected ',' or '}'");
	expect_error("a = {x = 1", 10, 1, 5, "unterminated inline table");
	expect_error("a = {x}", 7, 1, 7, "expected '='");
	expect_error("a b = 1", 7, 1, 3, "expected '='");
	expect_error("a. = 1", 6, 1, 4, "expected a key");
	expect_error(".a = 1", 6, 1, 1, "expected a key");
	expect_error("= 1", 3, 1, 1, "expected a key");
	expect_error("a = ", 4, 1, 5, "expected a value");
	expect_error("a = 1 = 2", 9, 1, 7, "expected end of line");
	expect_error("[a] x = 1", 9, 1, 5, "expected end of line");
	expect_error("[ [a]]", 6, 1, 3, "expected a key");
	expect_error("[[a] ]", 6, 1, 4, "expected ']]'");
	expect_error("[a", 2, 1, 3, "expected ']'");
	expect_error("[]", 2, 1, 2, "expected a key");
	expect_error("[a.]", 4, 1, 4, "expected a key");
	expect_error("a = tru", 7, 1, 5, "expected a value");
	expect_error("a = truex", 9, 1, 9, "unexpected 'x'");
}

static void
test_array_of_tables(void **state)
{
	struct toml_table		*t;
	const struct toml_value		*a, *b;
	struct toml_error		 e;

	t = parse("[[a]]\nx = 1\n[[a.b]]\ny = 1\n[[a.b]]\ny = 2\n"
	    "[[a]]\nx = 2\n[a.c]\nz = 3\n", &e);
	assert_non_null(t);
	a = get(t, "a");
	assert_int_equal(a->type, TOML_ARRAY);
	assert_int_equal(a->u.arr->n, 2);
	b = get(a->u.arr->items[0]->u.tab, "b");
	assert_int_equal(b->u.arr->n, 2);
	assert_true(get(b->u.arr->items[1]->u.tab, "y")->u.i == 2);
	assert_null(toml_get(a->u.arr->items[1]->u.tab, "b"));
	assert_true(get(get(a->u.arr->items[1]->u.tab, "c")->u.tab,
	    "z")->u.i == 3);
	toml_free(t);
}

static void
test_strings(void **state)
{
	struct toml_table		*t;
	const struct toml_value		*v;
	const struct toml_kv		*kv;
	struct toml_error		 e;
	const char			*doc =
	    "esc = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n"
	    "u4 = \"\\u00e9\\u20AC\"\n"
	    "u8 = \"\\U0001F600\\U0010FFFF\"\n"
	    "nul = \"a\\u0000b\"\n"
	    "\"k\\u0000ey\" = 1\n"
	    "tab = \"a\tb\"\n"
	    "lit = 'C:\\path\\n'\n"
	    "ml = \"\"\"\nline1\nline2\"\"\"\n"
	    "mlc = \"\"\"a \\\n   \n   b\"\"\"\n"
	    "mlq = \"\"\"\"\"x\"\"\"\"\"\n"
	    "mll = '''\n\\n raw''\n'''\n"
	    "mllq = '''''x'''''\n"
	    "empty = \"\"\n"
	    "mle = \"\"\"\"\"\"\n"
	    "\"\" = 'empty key'\n"
	    "utf = \"\xe2\x82\xac \xf0\x9f\x98\x80\"\n";

	if ((t = parse(doc, &e)) == NULL)
		fail_msg("%u:%u: %s", e.pos.line, e.pos.col, e.msg);
	v = get(t, "esc");
	assert_int_equal(v->u.str.len, 7);
	assert_memory_equal(v->u.str.ptr, "\b\t\n\f\r\"\\", 8);
	assert_string_equal(get(t, "u4")->u.str.ptr, "\xc3\xa9\xe2\x82\xac");
	assert_string_equal(get(t, "u8")->u.str.ptr,
	    "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
	v = get(t, "nul");
	assert_int_equal(v->u.str.len, 3);
	assert_memory_equal(v->u.str.ptr, "a\0b", 4);
	kv = toml_getn(t, "k\0ey", 4);
	assert_non_null(kv);
	assert_int_equal(kv->keylen, 4);
	assert_null(toml_get(t, "k"));
	assert_string_equal(get(t, "tab")->u.str.ptr, "a\tb");
	assert_string_equal(get(t, "lit")->u.str.ptr, "C:\\path\\n");
	assert_string_equal(get(t, "ml")->u.str.ptr, "line1\nline2");
	assert_string_equal(get(t, "mlc")->u.str.ptr, "a b");
	assert_string_equal(get(t, "mlq")->u.str.ptr, "\"\"x\"\"");
	assert_string_equal(get(t, "mll")->u.str.ptr, "\\n raw''\n");
	assert_string_equal(get(t, "mllq")->u.str.ptr, "''x''");
	v = get(t, "empty");
	assert_non_null(v->u.str.ptr);
	assert_int_equal(v->u.str.len, 0);
	assert_string_equal(get(t, "mle")->u.str.ptr, "");
	assert_string_equal(get(t, "")->u.str.ptr, "empty key");
	assert_string_equal(get(t, "utf")->u.str.ptr,
	    "\xe2\x82\xac \xf0\x9f\x98\x80");
	toml_free(t);

	expect_error("a = \"\\uD800\"", 12, 1, 6, "not a Unicode scalar");
	expect_error("a = \"\\uDFFF\"", 12, 1, 6, "not a Unicode scalar");
	expect_error("a = \"\\U00110000\"", 16, 1, 6, "not a Unicode");
	expect_error("a = \"\\u12\"", 10, 1, 6, "4 hex digits");
	expect_error("a = \"\\U1234567\"", 15, 1, 6, "8 hex digits");
	expect_error("a = \"\\x41\"", 10, 1, 6, "invalid escape");
	expect_error("a = \"\\e\"", 8, 1, 6, "invalid escape");
	expect_error("a = \"\\ \"", 8, 1, 6, "invalid escape");
	expect_error("a = \"\"\"\\  x\"\"\"", 14, 1, 8, "must end the line");
	expect_error("a = \"x\x01\"", 8, 1, 7, "control character 0x01");
	expect_error("a = \"x\x7f\"", 8, 1, 7, "control character 0x7f");
	expect_error("a = 'x\x1f'", 8, 1, 7, "control character 0x1f");
	expect_error("a = '''x\x00'''", 12, 1, 9, "control character 0x00");
	expect_error("a = \"a\nb\"", 9, 1, 7, "newline");
	expect_error("a = 'a\nb'", 9, 1, 7, "newline");
	expect_error("a = \"\"\"abc", 10, 1, 5, "unterminated");
	expect_error("a = '''abc''", 12, 1, 5, "unterminated");
	expect_error("a = \"\"\"x\"\"\"\"\"\"", 14, 1, 14, "too many quotes");
	expect_error("\"\"\"k\"\"\" = 1", 11, 1, 1, "multi-line string");
	expect_error("a = \"x\" \"y\"", 11, 1, 9, "expected end of line");
	expect_error("a = \"x", 6, 1, 5, "unterminated");
	expect_error("a = \"x\\", 7, 1, 7, "unterminated");
}

static void
test_integers(void **state)
{
	struct toml_table	*t;
	struct toml_error	 e;

	t = parse("max = 9223372036854775807\n"
	    "min = -9223372036854775808\n"
	    "hmax = 0x7fffffffffffffff\n"
	    "hex = 0xDEAD_beef\n"
	    "oct = 0o755\n"
	    "bin = 0b1010_1010\n"
	    "us = 1_000_000\n"
	    "pz = +0\nmz = -0\nplus = +17\nneg = -17\n"
	    "hz = 0x0\nbz = 0b0\noz = 0o0_0\n", &e);
	if (t == NULL)
		fail_msg("%u:%u: %s", e.pos.line, e.pos.col, e.msg);
	assert_true(get(t, "max")->u.i == INT64_MAX);
	assert_true(get(t, "min")->u.i == INT64_MIN);
	assert_true(get(t, "hmax")->u.i == INT64_MAX);
	assert_true(get(t, "hex")->u.i == 0xdeadbeef);
	assert_true(get(t, "oct")->u.i == 0755);
	assert_true(get(t, "bin")->u.i == 0xaa);
	assert_true(get(t, "us")->u.i == 1000000);
	assert_true(get(t, "pz")->u.i == 0);
	assert_true(get(t, "mz")->u.i == 0);
	assert_true(get(t, "plus")->u.i == 17);
	assert_true(get(t, "neg")->u.i == -17);
	assert_true(get(t, "hz")->u.i == 0);
	assert_true(get(t, "bz")->u.i == 0);
	assert_true(get(t, "oz")->u.i == 0);
	toml_free(t);

	expect_error("a = 9223372036854775808", 23, 1, 5, "out of range");
	expect_error("a = -9223372036854775809", 24, 1, 5, "out of range");
	expect_error("a = 0x8000000000000000", 22, 1, 5, "out of range");
	expect_error("a = 0xffffffffffffffffff", 24, 1, 5, "out of range");
	expect_error("a = 0o1000000000000000000000", 28, 1, 5,
	    "out of range");
	expect_error("a = 00", 6, 1, 5, "leading zeros");
	expect_error("a = 01", 6, 1, 5, "leading zeros");
	expect_error("a = -01", 7, 1, 5, "leading zeros");
	expect_error("a = 0_1", 7, 1, 5, "leading zeros");
	expect_error("a = 1__0", 8, 1, 6, "between digits");
	expect_error("a = 1_", 6, 1, 6, "between digits");
	expect_error("a = _1", 6, 1, 5, "expected a value");
	expect_error("a = -0x1", 8, 1, 5, "cannot have a sign");
	expect_error("a = 0X1", 7, 1, 6, "unexpected 'X'");
	expect_error("a = 0x", 6, 1, 7, "expected digits");
	expect_error("a = 0x_1", 8, 1, 7, "expected digits");
	expect_error("a = 0x1_", 8, 1, 8, "between digits");
	expect_error("a = 0b102", 9, 1, 9, "invalid digit");
	expect_error("a = 0o8", 7, 1, 7, "invalid digit");
	expect_error("a = ++1", 7, 1, 5, "invalid number");
	expect_error("a = 1 2", 7, 1, 7, "expected end of line");
}

static void
test_floats(void **state)
{
	struct toml_table	*t;
	struct toml_error	 e;

	t = parse("a = 0.1\nb = -1.5e-3\nc = 1e10\nd = 6.626E-34\n"
	    "e = inf\nf = +inf\ng = -inf\nh = nan\ni = -nan\nj = +nan\n"
	    "k = 1_0.0_1\nl = 1.7976931348623157e308\n"
	    "m = 4.9406564584124654e-324\nn = -0.0\no = 0e0\np = 1e-400\n"
	    "q = 1e+0_5\nr = 3.141592653589793\ns = 1e007\n", &e);
	if (t == NULL)
		fail_msg("%u:%u: %s", e.pos.line, e.pos.col, e.msg);
	assert_int_equal(get(t, "a")->type, TOML_FLOAT);
	assert_true(get(t, "a")->u.f == 0.1);
	assert_true(get(t, "b")->u.f == -1.5e-3);
	assert_true(get(t, "c")->u.f == 1e10);
	assert_true(get(t, "d")->u.f == 6.626e-34);
	assert_true(isinf(get(t, "e")->u.f) && get(t, "e")->u.f > 0);
	assert_true(isinf(get(t, "f")->u.f) && get(t, "f")->u.f > 0);
	assert_true(isinf(get(t, "g")->u.f) && get(t, "g")->u.f < 0);
	assert_true(isnan(get(t, "h")->u.f));
	assert_true(isnan(get(t, "i")->u.f));
	assert_true(isnan(get(t, "j")->u.f));
	assert_true(get(t, "k")->u.f == 10.01);
	assert_true(get(t, "l")->u.f == DBL_MAX);
	assert_true(get(t, "m")->u.f == 4.9406564584124654e-324);
	assert_true(get(t, "n")->u.f == 0.0 && signbit(get(t, "n")->u.f));
	assert_true(get(t, "o")->u.f == 0.0);
	assert_true(get(t, "p")->u.f == 0.0);
	assert_true(get(t, "q")->u.f == 1e5);
	assert_true(get(t, "r")->u.f == 3.141592653589793);
	assert_true(get(t, "s")->u.f == 1e7);
	toml_free(t);

	expect_error("a = 1e1000", 10, 1, 5, "out of range");
	expect_error("a = -1e400", 10, 1, 5, "out of range");
	expect_error("a = 1.", 6, 1, 7, "after the decimal point");
	expect_error("a = .5", 6, 1, 5, "expected a value");
	expect_error("a = 1.e5", 8, 1, 7, "after the decimal point");
	expect_error("a = 1e", 6, 1, 7, "exponent");
	expect_error("a = 1e_5", 8, 1, 7, "exponent");
	expect_error("a = 1_.5", 8, 1, 6, "between digits");
	expect_error("a = 1._5", 8, 1, 7, "after the decimal point");
	expect_error("a = 01.5", 8, 1, 5, "leading zeros");
	expect_error("a = 1.5.1", 9, 1, 8, "unexpected '.'");
	expect_error("a = Inf", 7, 1, 5, "expected a value");
	expect_error("a = infinity", 12, 1, 8, "unexpected 'i'");
	expect_error("a = na", 6, 1, 5, "invalid value");
}

static void
test_datetimes(void **state)
{
	struct toml_table		*t;
	const struct toml_value		*v;
	struct toml_error		 e;
	char				 buf[64];

	t = parse("a = 1979-05-27T07:32:00Z\n"
	    "b = 1979-05-27T00:32:00.999999-07:00\n"
	    "c = 1979-05-27 07:32:00\n"
	    "d = 1979-05-27\n"
	    "e = 07:32:00.1234567891234\n"
	    "f = 2000-02-29t23:59:60z\n"
	    "g = 2024-02-29T01:02:03+05:30\n"
	    "h = 0001-01-01T00:00:00.5\n", &e);
	if (t == NULL)
		fail_msg("%u:%u: %s", e.pos.line, e.pos.col, e.msg);
	v = get(t, "a");
	assert_int_equal(v->type, TOML_DATETIME);
	assert_int_equal(v->u.dt.year, 1979);
	assert_int_equal(v->u.dt.month, 5);
	assert_int_equal(v->u.dt.day, 27);
	assert_int_equal(v->u.dt.hour, 7);
	assert_int_equal(v->u.dt.minute, 32);
	assert_int_equal(v->u.dt.second, 0);
	assert_int_equal(v->u.dt.has_date, 1);
	assert_int_equal(v->u.dt.has_time, 1);
	assert_int_equal(v->u.dt.has_offset, 1);
	assert_int_equal(v->u.dt.offset_min, 0);
	toml_format_datetime(&v->u.dt, buf, sizeof(buf));
	assert_string_equal(buf, "1979-05-27T07:32:00Z");

	v = get(t, "b");
	assert_int_equal(v->u.dt.nsec, 999999000);
	assert_int_equal(v->u.dt.frac_digits, 6);
	assert_int_equal(v->u.dt.offset_min, -420);
	toml_format_datetime(&v->u.dt, buf, sizeof(buf));
	assert_string_equal(buf, "1979-05-27T00:32:00.999999-07:00");

	v = get(t, "c");
	assert_int_equal(v->type, TOML_DATETIME_LOCAL);
	assert_int_equal(v->u.dt.has_offset, 0);
	toml_format_datetime(&v->u.dt, buf, sizeof(buf));
	assert_string_equal(buf, "1979-05-27T07:32:00");

	v = get(t, "d");
	assert_int_equal(v->type, TOML_DATE_LOCAL);
	assert_int_equal(v->u.dt.has_time, 0);
	toml_format_datetime(&v->u.dt, buf, sizeof(buf));
	assert_string_equal(buf, "1979-05-27");

	/* Fractions beyond nanoseconds are truncated. */
	v = get(t, "e");
	assert_int_equal(v->type, TOML_TIME_LOCAL);
	assert_int_equal(v->u.dt.has_date, 0);
	assert_int_equal(v->u.dt.nsec, 123456789);
	assert_int_equal(v->u.dt.frac_digits, 9);
	toml_format_datetime(&v->u.dt, buf, sizeof(buf));
	assert_string_equal(buf, "07:32:00.123456789");

	v = get(t, "f");
	assert_int_equal(v->type, TOML_DATETIME);
	assert_int_equal(v->u.dt.second, 60);
	v = get(t, "g");
	assert_int_equal(v->u.dt.offset_min, 330);
	toml_format_datetime(&v->u.dt, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T01:02:03+05:30");
	v = get(t, "h");
	assert_int_equal(v->u.dt.nsec, 500000000);
	toml_format_datetime(&v->u.dt, buf, sizeof(buf));
	assert_string_equal(buf, "0001-01-01T00:00:00.5");
	/* Truncation is reported like snprintf. */
	assert_int_equal(toml_format_datetime(&v->u.dt, buf, 5), 21);
	assert_string_equal(buf, "0001");
	toml_free(t);
	datetime_errors();
}

/* Calendar, clock and offset ranges; the shape of each part. */
static void
datetime_errors(void)
{
	expect_valid("a = 2000-02-29\nb = 1600-02-29\n");
	expect_error("a = 1900-02-29", 14, 1, 13, "out of range");
	expect_error("a = 2023-04-31", 14, 1, 13, "out of range");
	expect_error("a = 2023-13-01", 14, 1, 10, "month 13");
	expect_error("a = 2023-00-01", 14, 1, 10, "month 00");
	expect_error("a = 2023-01-00", 14, 1, 13, "day 00");
	expect_error("a = 24:00:00", 12, 1, 5, "hour 24");
	expect_error("a = 23:60:00", 12, 1, 8, "minute 60");
	expect_error("a = 23:59:61", 12, 1, 11, "second 61");
	expect_error("a = 23:59", 9, 1, 10, "seconds");
	expect_error("a = 1979-05-27T07:32:00+24:00", 29, 1, 25,
	    "offset hour 24");
	expect_error("a = 1979-05-27T07:32:00+05:60", 29, 1, 28,
	    "offset minute 60");
	expect_error("a = 1979-05-27T07:32:00+0530", 28, 1, 27,
	    "':' in the offset");
	expect_error("a = 1979-05-27T", 15, 1, 16, "hour");
	expect_error("a = 1979-05-27T07:32:00.", 24, 1, 25, "after '.'");
	expect_error("a = 1979-5-27", 13, 1, 10, "two digits");
	expect_error("a = 12:00:00Z", 13, 1, 13, "unexpected 'Z'");
	expect_error("a = 1979-05-27 07:32", 20, 1, 21, "seconds");
}

static void
test_depth_limit(void **state)
{
	struct toml_table	*t;
	struct toml_error	 e;
	char			*s, *p;
	size_t			 i;

	/* 100000 '[' must be refused, not recursed into. */
	s = repeat("a = ", 100000, "[", "");
	expect_error(s, strlen(s), 1, 5 + TOML_MAX_DEPTH, "deeper than 64");
	free(s);
	s = repeat("a = ", 100000, "{b = ", "");
	expect_error(s, strlen(s), 1, 5 + 5 * TOML_MAX_DEPTH,
	    "deeper than 64");
	free(s);
	s = repeat("", 100000, "[", "");
	expect_invalid(s);
	free(s);

	/* Exactly TOML_MAX_DEPTH nested arrays is fine, one more is not. */
	s = malloc(4 + 2 * (TOML_MAX_DEPTH + 1) + 1);
	assert_non_null(s);
	p = s;
	memcpy(p, "a = ", 4);
	p += 4;
	for (i = 0; i < TOML_MAX_DEPTH; i++)
		*p++ = '[';
	for (i = 0; i < TOML_MAX_DEPTH; i++)
		*p++ = ']';
	*p = '\0';
	expect_valid(s);
	memmove(s + 5, s + 4, strlen(s + 4) + 1);
	s[4] = '[';
	strcat(s, "]");
	expect_error(s, strlen(s), 1, 5 + TOML_MAX_DEPTH, "deeper");
	free(s);

	/* Dotted keys and headers count towards the same depth. */
	s = repeat("", TOML_MAX_DEPTH - 1, "a.", "a = 1");
	expect_valid(s);
	free(s);
	s = repeat("", TOML_MAX_DEPTH, "a.", "a = 1");
	expect_error(s, strlen(s), 1, 2 * TOML_MAX_DEPTH + 1,
	    "more than 64 parts");
	free(s);
	s = repeat("[", TOML_MAX_DEPTH - 1, "a.", "a]\nx = 1\n");
	expect_valid(s);
	free(s);
	s = repeat("[", TOML_MAX_DEPTH - 1, "a.", "a]\nx = []\n");
	expect_error(s, strlen(s), 2, 5, "deeper");
	free(s);
	s = repeat("[", TOML_MAX_DEPTH - 1, "a.", "a]\nx.y = 1\n");
	expect_error(s, strlen(s), 2, 1, "deeper");
	free(s);
	s = repeat("[[", TOML_MAX_DEPTH - 1, "a.", "a]]\n");
	expect_error(s, strlen(s), 1, 2 * TOML_MAX_DEPTH + 1, "deeper");
	free(s);
	s = repeat("[", 100000, "a.", "a]\n");
	expect_error(s, strlen(s), 1, 2 * TOML_MAX_DEPTH + 2,
	    "more than 64 parts");
	free(s);
	s = repeat("a = ", 40, "[", "");
	p = repeat(s, 30, "{b = ", "1");
	expect_error(p, strlen(p), 1, 5 + 40 + 5 * (TOML_MAX_DEPTH - 40),
	    "deeper");
	free(p);
	free(s);

	/* The deepest tree: a header, dotted keys and arrays to the limit. */
	s = repeat("[", 31, "a.", "a]\nb.c = ");
	p = repeat(s, TOML_MAX_DEPTH - 33, "[", "");
	free(s);
	s = repeat(p, TOML_MAX_DEPTH - 33, "]", "\n");
	t = parse(s, &e);
	if (t == NULL)
		fail_msg("%u:%u: %s", e.pos.line, e.pos.col, e.msg);
	toml_free(t);
	free(s);
	free(p);
}

static void
test_size_limit(void **state)
{
	struct toml_table	*t;
	struct toml_error	 e;
	char			*s;
	size_t			 n;

	s = malloc(TOML_MAX_INPUT + 2);
	assert_non_null(s);
	memset(s, 'x', TOML_MAX_INPUT + 1);
	s[0] = '#';
	s[TOML_MAX_INPUT + 1] = '\0';
	t = toml_parse(s, TOML_MAX_INPUT + 1, &e);
	assert_null(t);
	assert_int_equal(e.pos.line, 1);
	assert_int_equal(e.pos.col, 1);
	assert_non_null(strstr(e.msg, "larger than"));
	/* Exactly the limit is accepted. */
	t = toml_parse(s, TOML_MAX_INPUT, &e);
	assert_non_null(t);
	toml_free(t);
	/* One string nearly that large. */
	memcpy(s, "s = '", 5);
	s[TOML_MAX_INPUT - 1] = '\'';
	t = toml_parse(s, TOML_MAX_INPUT, &e);
	if (t == NULL)
		fail_msg("%u:%u: %s", e.pos.line, e.pos.col, e.msg);
	assert_int_equal(get(t, "s")->u.str.len, TOML_MAX_INPUT - 6);
	toml_free(t);

	/*
	 * Tiny values cost far more memory than input bytes: the memory
	 * budget stops a document that would need too much.
	 */
	memcpy(s, "a = [", 5);
	for (n = 5; n + 2 < TOML_MAX_INPUT; n += 2)
		memcpy(s + n, "1,", 2);
	s[n++] = ']';
	t = toml_parse(s, n, &e);
	assert_null(t);
	assert_non_null(strstr(e.msg, "memory"));
	assert_int_equal(e.pos.line, 1);
	free(s);
}

static void
test_crlf_bom(void **state)
{
	struct toml_table		*t;
	const struct toml_kv		*kv;
	struct toml_error		 e;
	const char			*doc =
	    "\xef\xbb\xbf" "a = 1\r\n"
	    "# c\r\n"
	    "b = \"\"\"\r\nx\r\ny\"\"\"\r\n"
	    "c = '''\r\np\r\nq'''\r\n"
	    "d = \"\"\"x \\\r\n  y\"\"\"\r\n"
	    "e = [\r\n1,\r\n2]\r\n";

	if ((t = parse(doc, &e)) == NULL)
		fail_msg("%u:%u: %s", e.pos.line, e.pos.col, e.msg);
	kv = toml_get(t, "a");
	assert_int_equal(kv->pos.line, 1);
	assert_int_equal(kv->pos.col, 1);
	assert_int_equal(kv->val->pos.col, 5);
	/* CRLF in multi-line strings is stored as LF. */
	assert_string_equal(get(t, "b")->u.str.ptr, "x\ny");
	assert_string_equal(get(t, "c")->u.str.ptr, "p\nq");
	assert_string_equal(get(t, "d")->u.str.ptr, "x y");
	kv = toml_get(t, "e");
	assert_int_equal(kv->pos.line, 11);
	assert_int_equal(kv->val->u.arr->items[1]->pos.line, 13);
	toml_free(t);

	expect_error("a = 1\r", 6, 1, 6, "carriage return");
	expect_error("a = 1\rb = 2", 11, 1, 6, "carriage return");
	expect_error("# x\ry\n", 6, 1, 4, "carriage return");
	expect_error("a = \"x\ry\"", 9, 1, 7, "newline");
	expect_error("a = \"\"\"x\ry\"\"\"", 13, 1, 9, "carriage return");
	expect_error("a = '''x\ry'''", 13, 1, 9, "carriage return");
	expect_error("a = [1,\r2]", 10, 1, 8, "carriage return");
	/* A BOM anywhere else is an error. */
	expect_error("a = 1\n\xef\xbb\xbf" "b = 2", 14, 2, 1, "expected a key");
	expect_error("\xef\xbb\xbf\xef\xbb\xbf" "a = 1", 11, 1, 1,
	    "expected a key");
	/* An error reported behind the current line, with a BOM before it. */
	expect_error("\xef\xbb\xbf" "a = \"\"\"x\ny", 13, 1, 5,
	    "unterminated string");
	expect_valid("\xef\xbb\xbf");
	expect_valid("a = \"\xef\xbb\xbf\"");
}

static void
test_utf8(void **state)
{
	expect_valid("a = \"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf "
	    "\xee\x80\x80 \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\"");
	expect_valid("# \xe2\x82\xac comment\n\"\xe2\x82\xac\" = 1");
	/* Overlong forms. */
	expect_error("a = \"\xc0\x80\"", 8, 1, 6, "invalid UTF-8");
	expect_error("a = \"\xc1\xbf\"", 8, 1, 6, "invalid UTF-8");
	expect_error("a = \"\xe0\x9f\xbf\"", 9, 1, 6, "invalid UTF-8");
	expect_error("a = \"\xf0\x8f\xbf\xbf\"", 10, 1, 6, "invalid UTF-8");
	/* Surrogates and beyond U+10FFFF. */
	expect_error("a = \"\xed\xa0\x80\"", 9, 1, 6, "invalid UTF-8");
	expect_error("a = \"\xed\xbf\xbf\"", 9, 1, 6, "invalid UTF-8");
	expect_error("a = \"\xf4\x90\x80\x80\"", 10, 1, 6, "invalid UTF-8");
	expect_error("a = \"\xf5\x80\x80\x80\"", 10, 1, 6, "invalid UTF-8");
	/* Stray, missing and truncated continuation bytes. */
	expect_error("a = \"\x80\"", 7, 1, 6, "invalid UTF-8");
	expect_error("a = \"\xc3x\"", 8, 1, 6, "invalid UTF-8");
	expect_error("a = \"\xe2\x82\"", 8, 1, 6, "invalid UTF-8");
	expect_error("# x\n# \xe2\x82", 8, 2, 3, "invalid UTF-8");
	expect_error("\xff", 1, 1, 1, "invalid UTF-8");
	expect_error("a = 1\nb = 2 # \xfe\n", 16, 2, 9, "invalid UTF-8");
}

static void
test_order_and_lookup(void **state)
{
	struct toml_table		*t;
	const struct toml_kv		*kv;
	struct toml_error		 e;
	char				*s, *p, key[32];
	size_t				 i, n = 10000, cap;

	t = parse("z = 1\na = 2\nm.x = 3\n[b]\n[c]\n", &e);
	assert_non_null(t);
	assert_int_equal(t->n, 5);
	assert_string_equal(t->kv[0].key, "z");
	assert_string_equal(t->kv[1].key, "a");
	assert_string_equal(t->kv[2].key, "m");
	assert_string_equal(t->kv[3].key, "b");
	assert_string_equal(t->kv[4].key, "c");
	assert_int_equal(t->kv[1].keylen, 1);
	assert_ptr_equal(toml_get(t, "m"), &t->kv[2]);
	assert_null(toml_get(t, "x"));
	assert_null(toml_get(t, "Z"));
	assert_null(toml_get(t, "zz"));
	toml_free(t);

	/* Many keys in one table: hashed lookup, document order kept. */
	cap = n * 32 + 64;
	s = malloc(cap);
	assert_non_null(s);
	p = s;
	for (i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - s), "k%zu = %zu\n", i, i);
	t = toml_parse(s, (size_t)(p - s), &e);
	assert_non_null(t);
	assert_int_equal(t->n, n);
	for (i = 0; i < n; i++) {
		(void)snprintf(key, sizeof(key), "k%zu", i);
		kv = toml_get(t, key);
		assert_non_null(kv);
		assert_ptr_equal(kv, &t->kv[i]);
		assert_true(kv->val->u.i == (int64_t)i);
		assert_int_equal(kv->pos.line, i + 1);
	}
	assert_null(toml_get(t, "k10000"));
	toml_free(t);
	/* A duplicate found through the hash index. */
	p += snprintf(p, cap - (size_t)(p - s), "k5000 = 1\n");
	expect_error(s, (size_t)(p - s), (unsigned int)n + 1, 1,
	    "duplicate key 'k5000'");
	free(s);

	/* Many sections and arrays of tables stay fast. */
	s = repeat("", 50000, "[[p]]\nx = 1\n", "");
	t = parse(s, &e);
	assert_non_null(t);
	assert_int_equal(get(t, "p")->u.arr->n, 50000);
	toml_free(t);
	free(s);
	s = repeat("a = [", 100000, "{x = 1}, ", "]");
	t = parse(s, &e);
	assert_non_null(t);
	assert_int_equal(get(t, "a")->u.arr->n, 100000);
	assert_int_equal(get(t, "a")->u.arr->items[99999]->pos.col,
	    6 + 9 * 99999);
	toml_free(t);
	free(s);
}

/* Random bytes and random TOML-ish token soup must never crash. */
static void
test_random_input(void **state)
{
	static const char	*tok[] = {
		"[", "]", "[[", "]]", "{", "}", "=", ",", ".", "\"", "'",
		"\"\"\"", "'''", "\\", "\\u", "\\U0010", "a", "b", "1", "0x",
		"_", "e", "-", "+", ":", "T", "Z", "\n", "\r\n", "\r", " ",
		"\t", "#", "true", "inf", "nan", "1979-05-27", "07:32:00",
		".5", "\xc3\xa9", "\xff", "", "\x7f", "a = ", "[a.b]\n",
		"x.y", "= [", "= {", "\"\\n\"", "\xef\xbb\xbf"
	};
	struct toml_table	*t;
	struct toml_error	 e;
	unsigned char		 buf[512];
	size_t			 len, i, n, k;
	int			 round, ok = 0;

	rng_seed(0x5eed1234abcdULL);
	for (round = 0; round < 6000; round++) {
		len = 0;
		if (round % 2 == 0) {
			n = rng64() % sizeof(buf);
			for (i = 0; i < n; i++)
				buf[len++] = (unsigned char)rng64();
		} else {
			n = rng64() % 60;
			for (i = 0; i < n; i++) {
				k = rng64() % (sizeof(tok) / sizeof(tok[0]));
				if (tok[k][0] == '\0') {
					buf[len++] = '\0';
					continue;
				}
				if (len + strlen(tok[k]) > sizeof(buf))
					break;
				memcpy(buf + len, tok[k], strlen(tok[k]));
				len += strlen(tok[k]);
			}
		}
		t = toml_parse((const char *)buf, len, &e);
		if (t != NULL) {
			ok++;
			toml_free(t);
			continue;
		}
		if (!pos_in_input(buf, len, e.pos) || e.msg[0] == '\0')
			fail_msg("round %d: error %u:%u outside input of %zu "
			    "bytes: %s", round, e.pos.line, e.pos.col, len,
			    e.msg);
	}
	/* Token soup sometimes forms valid documents. */
	assert_true(ok > 0);
}

static char *
read_file(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	long	 sz;

	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("%s: cannot open", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0);
	rewind(f);
	buf = malloc((size_t)sz + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*lenp = (size_t)sz;
	return (buf);
}

static void
walk_corpus(const char *dir, int valid, struct corpus_count *cnt)
{
	struct toml_table	*t;
	struct toml_error	 e;
	struct dirent		*de;
	struct stat		 st;
	DIR			*d;
	char			 path[PATH_MAX], *buf;
	size_t			 len, nl;

	if ((d = opendir(dir)) == NULL)
		fail_msg("%s: cannot open directory (run from the repository "
		    "root or set TOML_TEST_DIR)", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			walk_corpus(path, valid, cnt);
			continue;
		}
		nl = strlen(path);
		if (nl < 5 || strcmp(path + nl - 5, ".toml") != 0)
			continue;
		buf = read_file(path, &len);
		t = toml_parse(buf, len, &e);
		if (valid) {
			if (t == NULL)
				fail_msg("%s rejected: %u:%u: %s", path,
				    e.pos.line, e.pos.col, e.msg);
			toml_free(t);
			cnt->valid++;
		} else {
			if (t != NULL) {
				toml_free(t);
				fail_msg("%s accepted", path);
			}
			if (!pos_in_input((unsigned char *)buf, len, e.pos))
				fail_msg("%s: error %u:%u is outside the "
				    "file: %s", path, e.pos.line, e.pos.col,
				    e.msg);
			cnt->invalid++;
		}
		free(buf);
	}
	closedir(d);
}

/* The toml-test corpus: TOML_TEST_DIR, else the copy in the tree. */
static void
test_corpus(void **state)
{
	struct corpus_count	 cnt = { 0, 0 };
	const char		*dir;
	char			 path[PATH_MAX];

	if ((dir = getenv("TOML_TEST_DIR")) == NULL)
		dir = "regress/toml/toml-test";
	(void)snprintf(path, sizeof(path), "%s/valid", dir);
	walk_corpus(path, 1, &cnt);
	(void)snprintf(path, sizeof(path), "%s/invalid", dir);
	walk_corpus(path, 0, &cnt);
	print_message("toml-test corpus: %d valid, %d invalid\n", cnt.valid,
	    cnt.invalid);
	assert_true(cnt.valid >= 200);
	assert_true(cnt.invalid >= 490);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_empty_and_null),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_error_positions),
		cmocka_unit_test(test_redefinitions),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_array_of_tables),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_datetimes),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_order_and_lookup),
		cmocka_unit_test(test_random_input),
		cmocka_unit_test(test_corpus),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
