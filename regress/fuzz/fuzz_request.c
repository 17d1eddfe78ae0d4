/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the request parser, the daemon's exposure to
 * untrusted clients: cJSON and the strictness checks of common/json.c
 * under it, then the shape checks of apm2_req_parse().  The input is an
 * exactly-sized buffer and its NUL, so over-reads trip ASan.
 *
 * Oracles, each written apart from the code it checks:
 * - json_parse() and apm2_req_parse() agree on the JSON verdict.
 * - Accepted text is well-formed UTF-8 as a whole, has no control byte
 *   but JSON's whitespace, nests at most APM2_JSON_MAXDEPTH deep and has
 *   no key twice in one object (compared by cJSON's C strings where no
 *   \u0000 can cut them short).
 * - Accepted text with " x" appended, and an accepted request with a
 *   second "type" key, are refused with the matching message; so is an
 *   accepted reload_config with one more key (ours refuse unknown keys).
 * - An accepted request renders, parses back to the same values, and
 *   renders to the same bytes again.
 * - A rejection comes with a message and leaves nothing allocated; the
 *   scan and cJSON never disagree ("unexpected token").
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fuzz.h"
#include "json.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check(int);
static int	streq(const char *, const char *);
static void	req_same(const struct apm2_req *, const struct apm2_req *);
static int	depth_of(const char *, size_t);
static void	no_dup_keys(const cJSON *);
static void	json_oracles(const char *, size_t);
static void	must_refuse(const char *, size_t, const char *);
static char	*insert_key(const char *, size_t, const char *, size_t *);
static void	fuzz_req(const char *, size_t);

static void
check(int ok)
{
	if (!ok)
		abort();
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

static void
req_same(const struct apm2_req *a, const struct apm2_req *b)
{
	check(a->type == b->type);
	check(streq(a->name, b->name));
	check(a->lines == b->lines);
	check(a->follow == b->follow);
	check(streq(a->profile_id, b->profile_id));
	check(streq(a->provider, b->provider));
	check(streq(a->auth_method, b->auth_method));
	check(streq(a->process_name, b->process_name));
	check(a->dry_run == b->dry_run);
}

/* Deepest bracket nesting outside strings. */
static int
depth_of(const char *s, size_t n)
{
	size_t	 i;
	int	 d = 0, max = 0, instr = 0;

	for (i = 0; i < n; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
		} else if (s[i] == '"')
			instr = 1;
		else if (s[i] == '[' || s[i] == '{') {
			if (++d > max)
				max = d;
		} else if (s[i] == ']' || s[i] == '}')
			d--;
	}
	return (max);
}

static void
no_dup_keys(const cJSON *n)
{
	const cJSON	*a, *b;

	for (a = n->child; a != NULL; a = a->next) {
		if (cJSON_IsObject(n))
			for (b = a->next; b != NULL; b = b->next)
				check(strcmp(a->string, b->string) != 0);
		no_dup_keys(a);
	}
}

static void
must_refuse(const char *buf, size_t len, const char *why)
{
	struct apm2_req	 r;
	char		 err[256];

	check(apm2_req_parse(buf, len, &r, err, sizeof(err)) == -1);
	check(strstr(err, why) != NULL);
	apm2_req_free(&r);
}

/* buf with key first in its object; *lenp: the new length. */
static char *
insert_key(const char *buf, size_t len, const char *key, size_t *lenp)
{
	char	*t;
	size_t	 at, n = strlen(key);

	if ((t = malloc(len + n + 1)) == NULL)
		return (NULL);
	at = strcspn(buf, "{") + 1;
	memcpy(t, buf, at);
	memcpy(t + at, key, n);
	memcpy(t + at + n, buf + at, len - at + 1);
	*lenp = len + n;
	return (t);
}

static void
json_oracles(const char *buf, size_t len)
{
	struct json	 j;
	char		 err[256], *t;
	size_t		 i, bad;

	err[0] = '\0';
	if (json_parse(&j, buf, len, APM2_JSON_MAXDEPTH, APM2_REQ_MAXITEMS,
	    err, sizeof(err)) == -1) {
		check(strncmp(err, "invalid JSON: ", 14) == 0);
		check(strncmp(err, "invalid JSON: unexpected token ", 31) != 0);
		check(j.root == NULL);
		return;
	}
	check(utf8_valid(buf, len, &bad) == 0);
	for (i = 0; i < len; i++)
		check((unsigned char)buf[i] >= 0x20 || buf[i] == '\t' ||
		    buf[i] == '\n' || buf[i] == '\r');
	check(depth_of(buf, len) <= APM2_JSON_MAXDEPTH);
	if (memmem(buf, len, "\\u0000", 6) == NULL)
		no_dup_keys(j.root);
	json_free(&j);

	if ((t = malloc(len + 16)) == NULL)
		return;
	/* A word more is trailing, whatever the value was. */
	memcpy(t, buf, len);
	memcpy(t + len, " x", 3);
	must_refuse(t, len + 2, "invalid JSON: trailing characters");
	free(t);
}

static void
fuzz_req(const char *buf, size_t len)
{
	struct apm2_req	 a, b;
	struct json	 j;
	char		 err[256], jerr[256], *t1, *t2;
	size_t		 l1, l2;
	int		 jok;

	jok = json_parse(&j, buf, len, APM2_JSON_MAXDEPTH, APM2_REQ_MAXITEMS,
	    jerr, sizeof(jerr)) == 0;
	if (jok)
		json_free(&j);
	err[0] = '\0';
	if (apm2_req_parse(buf, len, &a, err, sizeof(err)) == -1) {
		check(err[0] != '\0');
		/* A JSON verdict is the same, word for word. */
		check(jok || strcmp(err, jerr) == 0);
		check(!jok || strncmp(err, "invalid JSON: ", 14) != 0);
		/* Freeing a rejected request must be harmless. */
		apm2_req_free(&a);
		return;
	}
	check(jok);
	check(a.type < REQ__COUNT);
	/* A second "type" first in the object is a duplicate key. */
	if ((t1 = insert_key(buf, len, "\"type\":0,", &l1)) != NULL) {
		must_refuse(t1, l1, "invalid JSON: duplicate key \"type\"");
		free(t1);
	}
	/* Ours take no key they do not know (or it is there twice). */
	if (a.type == REQ_RELOAD_CONFIG &&
	    (t1 = insert_key(buf, len, "\"q\":0,", &l1)) != NULL) {
		check(apm2_req_parse(t1, l1, &b, err, sizeof(err)) == -1);
		check(strcmp(err, "unknown field \"q\"") == 0 ||
		    strcmp(err, "invalid JSON: duplicate key \"q\"") == 0);
		apm2_req_free(&b);
		free(t1);
	}
	t1 = apm2_req_render(&a, &l1);
	check(t1 != NULL && strlen(t1) == l1);
	check(apm2_req_parse(t1, l1, &b, err, sizeof(err)) == 0);
	req_same(&a, &b);
	t2 = apm2_req_render(&b, &l2);
	check(t2 != NULL && l1 == l2 && memcmp(t1, t2, l1) == 0);
	free(t1);
	free(t2);
	apm2_req_free(&a);
	apm2_req_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;

	if ((buf = fuzz_cstr(data, size)) == NULL)
		return (0);
	json_oracles(buf, size);
	fuzz_req(buf, size);
	free(buf);
	return (0);
}
