/*
 * libFuzzer harness for the reply parser, apm2ctl's exposure to whatever
 * answers on the socket: apm2_resp_parse() over cJSON and the checks of
 * common/json.c.  The input is an exactly-sized buffer and its NUL.
 *
 * Oracles:
 * - apm2_resp_parse() gives the JSON verdict json_parse() gives, word
 *   for word; the scan and cJSON never disagree ("unexpected token").
 * - Accepted text is well-formed UTF-8 as a whole.
 * - An accepted reply renders; the rendering parses back and renders to
 *   the same bytes, and the values apm2ctl prints from (states, times,
 *   log content with its NULs) survive the trip.
 * - A rejection comes with a message and leaves nothing allocated.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check(int);
static void	same_values(const struct apm2_resp *,
		    const struct apm2_resp *);
static void	fuzz_resp(const char *, size_t);

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
same_values(const struct apm2_resp *a, const struct apm2_resp *b)
{
	char	 h1[APM2_STATE_HUMAN_MAX], h2[APM2_STATE_HUMAN_MAX];
	char	 t1[APM2_TIME_MAX], t2[APM2_TIME_MAX];
	size_t	 i;

	check(a->type == b->type);
	check(a->nprocs == b->nprocs && a->nlines == b->nlines &&
	    a->nprofiles == b->nprofiles);
	for (i = 0; i < a->nprocs; i++) {
		apm2_state_human(&a->procs[i].status, h1, sizeof(h1));
		apm2_state_human(&b->procs[i].status, h2, sizeof(h2));
		check(strcmp(h1, h2) == 0);
		check(a->procs[i].uptime_secs == b->procs[i].uptime_secs);
	}
	for (i = 0; i < a->nlines; i++) {
		check(a->lines[i].content_len == b->lines[i].content_len);
		check(memcmp(a->lines[i].content, b->lines[i].content,
		    a->lines[i].content_len) == 0);
		apm2_time_rfc3339(&a->lines[i].timestamp, t1, sizeof(t1));
		apm2_time_rfc3339(&b->lines[i].timestamp, t2, sizeof(t2));
		check(strcmp(t1, t2) == 0);
	}
	check(a->uptime_secs == b->uptime_secs && a->pid == b->pid);
}

static void
fuzz_resp(const char *buf, size_t len)
{
	struct apm2_resp a, b;
	struct json	 j;
	char		 err[256], jerr[256], *t1, *t2;
	size_t		 l1, l2, bad;
	int		 jok;

	jerr[0] = '\0';
	jok = json_parse(&j, buf, len, APM2_JSON_MAXDEPTH, JSON_NOLIMIT, jerr,
	    sizeof(jerr)) == 0;
	if (jok) {
		check(utf8_valid(buf, len, &bad) == 0);
		json_free(&j);
	} else
		check(strncmp(jerr, "invalid JSON: unexpected token ",
		    31) != 0);
	err[0] = '\0';
	if (apm2_resp_parse(buf, len, &a, err, sizeof(err)) == -1) {
		check(err[0] != '\0');
		check(jok || strcmp(err, jerr) == 0);
		/* Freeing a rejected reply must be harmless. */
		apm2_resp_free(&a);
		return;
	}
	check(jok && a.type < RESP__COUNT);
	t1 = apm2_resp_render(&a, &l1);
	check(t1 != NULL && strlen(t1) == l1);
	check(apm2_resp_parse(t1, l1, &b, err, sizeof(err)) == 0);
	same_values(&a, &b);
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
	fuzz_resp(buf, size);
	free(buf);
	return (0);
}
