/* SPDX-License-Identifier: ISC */
/*
 * toml-test decoder: TOML on stdin, tagged JSON on stdout.  Invalid input
 * gives "line:col: message" on stderr and exit status 1.
 */

#include <sys/types.h>

#include <err.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toml.h"

static char	*read_all(size_t *);
static void	 put_string(const char *, size_t);
static void	 put_scalar(const char *, const char *);
static void	 put_value(const struct toml_value *);
static void	 put_table(const struct toml_table *);
static void	 put_array(const struct toml_array *);

/* Read stdin; one byte past the limit is enough for the parser to refuse. */
static char *
read_all(size_t *lenp)
{
	char	*buf;
	size_t	 len = 0, cap = TOML_MAX_INPUT + 1;
	ssize_t	 n;

	if ((buf = malloc(cap)) == NULL)
		err(2, "malloc");
	while (len < cap) {
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n == -1)
			err(2, "read");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*lenp = len;
	return (buf);
}

/* A JSON string: escape quotes, backslashes and control characters. */
static void
put_string(const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	putchar('"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\b':
			fputs("\\b", stdout);
			break;
		case '\f':
			fputs("\\f", stdout);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
	}
	putchar('"');
}

static void
put_scalar(const char *type, const char *value)
{
	printf("{\"type\":\"%s\",\"value\":", type);
	put_string(value, strlen(value));
	putchar('}');
}

static void
put_value(const struct toml_value *v)
{
	char	buf[64];

	switch (v->type) {
	case TOML_STRING:
		fputs("{\"type\":\"string\",\"value\":", stdout);
		put_string(v->u.str.ptr, v->u.str.len);
		putchar('}');
		break;
	case TOML_INTEGER:
		(void)snprintf(buf, sizeof(buf), "%" PRId64, v->u.i);
		put_scalar("integer", buf);
		break;
	case TOML_FLOAT:
		if (isnan(v->u.f))
			(void)strlcpy(buf, "nan", sizeof(buf));
		else if (isinf(v->u.f))
			(void)strlcpy(buf, v->u.f < 0 ? "-inf" : "inf",
			    sizeof(buf));
		else
			(void)snprintf(buf, sizeof(buf), "%.17g", v->u.f);
		put_scalar("float", buf);
		break;
	case TOML_BOOL:
		put_scalar("bool", v->u.b ? "true" : "false");
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		(void)toml_format_datetime(&v->u.dt, buf, sizeof(buf));
		put_scalar(v->type == TOML_DATETIME ? "datetime" :
		    v->type == TOML_DATETIME_LOCAL ? "datetime-local" :
		    v->type == TOML_DATE_LOCAL ? "date-local" : "time-local",
		    buf);
		break;
	case TOML_ARRAY:
		put_array(v->u.arr);
		break;
	case TOML_TABLE:
		put_table(v->u.tab);
		break;
	}
}

static void
put_table(const struct toml_table *t)
{
	size_t	i;

	putchar('{');
	for (i = 0; i < t->n; i++) {
		if (i > 0)
			putchar(',');
		put_string(t->kv[i].key, t->kv[i].keylen);
		putchar(':');
		put_value(t->kv[i].val);
	}
	putchar('}');
}

static void
put_array(const struct toml_array *a)
{
	size_t	i;

	putchar('[');
	for (i = 0; i < a->n; i++) {
		if (i > 0)
			putchar(',');
		put_value(a->items[i]);
	}
	putchar(']');
}

int
main(void)
{
	struct toml_table	*root;
	struct toml_error	 e;
	char			*buf;
	size_t			 len;

	buf = read_all(&len);
	if ((root = toml_parse(buf, len, &e)) == NULL) {
		fprintf(stderr, "%u:%u: %s\n", e.pos.line, e.pos.col, e.msg);
		free(buf);
		return (1);
	}
	put_table(root);
	putchar('\n');
	toml_free(root);
	free(buf);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(2, "stdout");
	return (0);
}
