/* SPDX-License-Identifier: ISC */
/*
 * TOML 1.0.0 parser.
 *
 * toml_parse() takes a whole document in memory and returns a tree of
 * tables, arrays and scalars, or NULL and an error with a position.
 *
 * Positions: line and column are 1-based.  The column counts Unicode code
 * points (UTF-8 sequences) from the start of the line, so a tab or an "é"
 * is one column; a UTF-8 byte order mark at the start of the file is not
 * counted.
 *
 * Limits, so hostile input cannot exhaust the stack or memory:
 * TOML_MAX_INPUT bytes of input, TOML_MAX_DEPTH levels of nested tables
 * and arrays (however they are written: headers, dotted keys, inline
 * tables, arrays), and TOML_MAX_MEMORY bytes of allocations for the tree.
 *
 * Redefinition: a table is defined once, by a [header], by dotted keys or
 * inline.  Dotted keys may go through tables that dotted keys made or that
 * a header only implied ([a.b.c] implies a and a.b), which defines them;
 * never through a table defined by a header, an inline table or an array.
 */

#ifndef TOML_H
#define TOML_H

#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_INPUT	(8 * 1024 * 1024)
#define TOML_MAX_DEPTH	64
#define TOML_MAX_MEMORY	(128 * 1024 * 1024)

enum toml_type {
	TOML_STRING, TOML_INTEGER, TOML_FLOAT, TOML_BOOL,
	TOML_DATETIME,		/* offset date-time */
	TOML_DATETIME_LOCAL, TOML_DATE_LOCAL, TOML_TIME_LOCAL,
	TOML_ARRAY, TOML_TABLE
};

struct toml_pos {
	unsigned int	line;	/* 1-based */
	unsigned int	col;	/* 1-based, in code points */
};

struct toml_datetime {
	int	year, month, day;	/* date part, if any */
	int	hour, minute, second;	/* time part, if any */
	long	nsec;			/* fraction of a second, truncated */
	int	has_date, has_time, has_offset;
	int	offset_min;		/* minutes east of UTC (has_offset) */
	int	frac_digits;		/* fraction digits written, at most 9 */
};

struct toml_table;
struct toml_array;
struct toml_index;

struct toml_value {
	enum toml_type		type;
	struct toml_pos		pos;	/* where the value starts */
	union {
		struct {
			char	*ptr;	/* NUL-terminated, may hold \u0000 */
			size_t	 len;
		}			 str;
		int64_t			 i;
		double			 f;
		int			 b;
		struct toml_datetime	 dt;
		struct toml_array	*arr;
		struct toml_table	*tab;
	} u;
};

struct toml_array {
	struct toml_value	**items;
	size_t			  n;
	/* private */
	size_t			  cap;
	int			  flags;
	int			  depth;
};

struct toml_kv {
	char			*key;	/* NUL-terminated, may hold NUL */
	size_t			 keylen;
	struct toml_pos		 pos;	/* where the key was written */
	struct toml_value	*val;
};

/*
 * A table value's pos is where the table was defined: for [a.b] the
 * position of "b" in the header (also the pos of its key), for each
 * element of an array of tables the position of the last key of its
 * [[header]], for an inline table its "{".
 */
struct toml_table {
	struct toml_kv		*kv;	/* in document (insertion) order */
	size_t			 n;
	/* private bookkeeping for redefinition rules and lookup */
	size_t			 cap;
	struct toml_index	*index;	/* search tree once the table grows */
	int			 flags;
	int			 depth;
};

struct toml_error {
	struct toml_pos	pos;
	char		msg[256];
};

/*
 * Parse buf (len bytes, need not be NUL-terminated).  Returns the root
 * table or NULL with *err filled (err may be NULL).
 */
struct toml_table	*toml_parse(const char *buf, size_t len,
			    struct toml_error *err);
void			 toml_free(struct toml_table *);
/* Lookup by key in one table (not dotted); NULL if absent. */
const struct toml_kv	*toml_get(const struct toml_table *, const char *key);
/* The same for a key of keylen bytes that may contain NUL. */
const struct toml_kv	*toml_getn(const struct toml_table *, const char *key,
			    size_t keylen);
/*
 * "string", "integer", "float", "boolean", "offset date-time",
 * "local date-time", "local date", "local time", "array", "table".
 */
const char		*toml_type_name(enum toml_type);
/*
 * RFC 3339 text of a date-time value as written (fraction with its
 * original precision up to nanoseconds, a zero offset as "Z").  Returns
 * the length snprintf would, so a result >= size means truncation.
 */
/* Test seam: only regress/ calls toml_format_datetime(). */
int			 toml_format_datetime(const struct toml_datetime *,
			    char *buf, size_t size);

#endif /* TOML_H */
