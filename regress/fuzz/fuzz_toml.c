/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the TOML parser: parse, walk the tree, free.  An
 * error must point inside the input (end of input included) and carry a
 * message; a tree must respect the depth limit.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	pos_in_input(const uint8_t *, size_t, struct toml_pos);
static void	check_value(const struct toml_value *, int);
static void	check_table(const struct toml_table *, int);

/* Columns count code points; a leading BOM is not counted. */
static int
pos_in_input(const uint8_t *buf, size_t len, struct toml_pos pos)
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

static void
check_value(const struct toml_value *v, int depth)
{
	size_t	i;

	if (v->pos.line == 0 || v->pos.col == 0)
		abort();
	switch (v->type) {
	case TOML_STRING:
		if (v->u.str.ptr == NULL || v->u.str.ptr[v->u.str.len] != '\0')
			abort();
		break;
	case TOML_ARRAY:
		if (depth + 1 > TOML_MAX_DEPTH)
			abort();
		for (i = 0; i < v->u.arr->n; i++)
			check_value(v->u.arr->items[i], depth + 1);
		break;
	case TOML_TABLE:
		if (depth + 1 > TOML_MAX_DEPTH)
			abort();
		check_table(v->u.tab, depth + 1);
		break;
	default:
		break;
	}
}

static void
check_table(const struct toml_table *t, int depth)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		/* Every key is found again by lookup. */
		if (toml_getn(t, t->kv[i].key, t->kv[i].keylen) != &t->kv[i])
			abort();
		check_value(t->kv[i].val, depth);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_table	*t;
	struct toml_error	 e;

	t = toml_parse((const char *)data, size, &e);
	if (t == NULL) {
		if (!pos_in_input(data, size, e.pos) || e.msg[0] == '\0' ||
		    memchr(e.msg, '\0', sizeof(e.msg)) == NULL)
			abort();
		return (0);
	}
	check_table(t, 0);
	toml_free(t);
	return (0);
}
