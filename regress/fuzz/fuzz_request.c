/*
 * libFuzzer harness for the protocol codec.  The input is handed to the
 * request parser (the daemon's exposure to untrusted clients) and to the
 * response parser (apm2ctl's), as an exactly-sized buffer and its NUL.
 * Whatever parses must render, the rendering must parse again to the same
 * values, and rendering that must give the same bytes: the round trip is
 * stable.
 * A rejection must come with a message and leave nothing allocated.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check(int);
static int	streq(const char *, const char *);
static void	req_same(const struct apm2_req *, const struct apm2_req *);
static void	fuzz_req(const char *, size_t);
static void	fuzz_resp(const char *, size_t);

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
}

static void
fuzz_req(const char *buf, size_t len)
{
	struct apm2_req	 a, b;
	char		 err[256], *t1, *t2;
	size_t		 l1, l2;

	err[0] = '\0';
	if (apm2_req_parse(buf, len, &a, err, sizeof(err)) == -1) {
		check(err[0] != '\0');
		/* Freeing a rejected request must be harmless. */
		apm2_req_free(&a);
		return;
	}
	check(a.type < REQ__COUNT);
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

static void
fuzz_resp(const char *buf, size_t len)
{
	struct apm2_resp a, b;
	char		 err[256], *t1, *t2;
	size_t		 l1, l2;

	err[0] = '\0';
	if (apm2_resp_parse(buf, len, &a, err, sizeof(err)) == -1) {
		check(err[0] != '\0');
		apm2_resp_free(&a);
		return;
	}
	t1 = apm2_resp_render(&a, &l1);
	check(t1 != NULL && strlen(t1) == l1);
	check(apm2_resp_parse(t1, l1, &b, err, sizeof(err)) == 0);
	check(a.type == b.type);
	t2 = apm2_resp_render(&b, &l2);
	check(t2 != NULL && l1 == l2 && memcmp(t1, t2, l1) == 0);
	free(t1);
	free(t2);
	apm2_resp_free(&a);
	apm2_resp_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;

	/* A private copy with just the NUL: over-reads trip ASan. */
	if ((buf = malloc(size + 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(buf, data, size);
	buf[size] = '\0';
	fuzz_req(buf, size);
	fuzz_resp(buf, size);
	free(buf);
	return (0);
}
