/* SPDX-License-Identifier: ISC */
/*
 * redact_bench.c -- throughput of the secret redactor (supervisor/redact.c)
 * over typical 64-byte log lines.
 *
 * Builds 64 MiB of mixed lines in memory (timestamps, key=value pairs,
 * JSON, prose, paths; about 1 line in 100 holds a secret) and pushes it
 * through the redactor 16 times, 1 GiB in all:
 *   - redact_line() on each line (the lines split beforehand),
 *   - redact_feed() on 64 KiB chunks, as the capture path reads a pipe
 *     (line splitting included),
 *   - the same chunks through memchr only, for scale.
 * The redactor holds 3 injected values, as an agent with credentials would.
 *
 * Usage: redact_bench [GiB]	(default 1; fractions allowed, e.g. 0.25)
 * Build (after make): cc -O2 -I. -Icommon $(pkg-config --cflags
 *   libbsd-overlay) -o bench/redact_bench bench/redact_bench.c
 *   supervisor/libsupervisor.a common/libcommon.a $(pkg-config --libs
 *   libbsd-overlay)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logger/redact.h"

#define LINE		64		/* bytes per line, newline included */
#define POOL		(64UL << 20)	/* distinct data */
#define CHUNK		65536

static uint64_t	rng_state = 0x9e3779b97f4a7c15ULL;
static size_t	sink;

static uint32_t	rng(void);
static double	now(void);
static void	fill_line(char *);
static void	count_emit(void *, const char *, size_t, int);

static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32));
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* One line of LINE - 1 bytes plus '\n'. */
static void
fill_line(char *p)
{
	static const char *const plain[] = {
		"2026-01-25T13:12:44.%03uZ INFO request id=%u "
		    "path=/api/v1/items ok",
		"DEBUG cache key=user:%u hit=true ttl=300 size=%u bytes",
		"[worker-%u] processed job %u in 12ms, queue depth: 3",
		"Thinking about the next step: read the file and update "
		    "tests %u %u",
		"{\"level\":\"info\",\"msg\":\"tool call\",\"tool\":"
		    "\"bash\",\"ms\":%u%u}",
		"  at Object.<anonymous> (/home/agent/src/index.js:%u:%u)",
		"Reading src/main.c (%u lines), then running make -j%u check",
		"GET /v1/messages HTTP/1.1 200 %u bytes in %ums from 10.0.0.7",
		"token count: input=%u output=%u cache_read=0 cache_write=0",
		"the bearer of bad news is the build log, line %u of %u"
	};
	static const char *const secret[] = {
		"export OPENAI_API_KEY=sk-proj-abcdefghij0123456789"
		    "ABCDEFGHij%u%u",
		"Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
		    "%u%u",
		"using key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789 "
		    "%u%u",
		"password=hunter2hunter2 login ok for user %u from host %u"
	};
	char		 tmp[256];
	const char	*fmt;
	int		 n;

	if (rng() % 100 == 0)
		fmt = secret[rng() % 4];
	else
		fmt = plain[rng() % 10];
	n = snprintf(tmp, sizeof(tmp), fmt, rng() % 1000, rng() % 100000);
	if (n < 0)
		n = 0;
	if ((size_t)n > LINE - 1)
		n = LINE - 1;
	memcpy(p, tmp, n);
	memset(p + n, ' ', LINE - 1 - n);
	p[LINE - 1] = '\n';
}

static void
count_emit(void *arg, const char *line, size_t len, int nl)
{
	sink += len + (size_t)nl + (unsigned char)line[0];
}

int
main(int argc, char *argv[])
{
	struct redactor	*r;
	char		*pool;
	const char	*o;
	size_t		 ol, i, off, total, done, changed = 0;
	double		 gib = 1.0, t0, t1, t2, t3;

	if (argc > 1 && (gib = strtod(argv[1], NULL)) <= 0)
		gib = 1.0;
	total = (size_t)(gib * (1UL << 30));
	total -= total % POOL;
	if (total == 0)
		total = POOL;
	if ((pool = malloc(POOL)) == NULL || (r = redact_new()) == NULL) {
		perror("malloc");
		return (1);
	}
	for (i = 0; i < POOL; i += LINE)
		fill_line(pool + i);
	if (redact_add_value(r, "sk-ant-oat01-Zk3vQ9xYb8Lm2Np4", 28) == -1 ||
	    redact_add_value(r, "ghp_R2d2C3p0Yoda4Vader5Luke6Leia7Han8", 38) ==
	    -1 || redact_add_value(r, "hunter2hunter2", 14) == -1) {
		perror("redact_add_value");
		return (1);
	}

	t0 = now();
	for (done = 0; done < total; done += POOL)
		for (i = 0; i < POOL; i += LINE) {
			changed += redact_line(r, pool + i, LINE - 1, &o,
			    &ol);
			sink += ol;
		}
	t1 = now();
	for (done = 0; done < total; done += POOL)
		for (off = 0; off < POOL; off += CHUNK)
			(void)redact_feed(r, pool + off, CHUNK, count_emit,
			    NULL);
	t2 = now();
	for (done = 0; done < total; done += POOL)
		for (off = 0; off < POOL; off += CHUNK) {
			const char	*p = pool + off, *e = p + CHUNK, *nl;

			while ((nl = memchr(p, '\n', (size_t)(e - p))) !=
			    NULL) {
				count_emit(NULL, p, (size_t)(nl - p), 1);
				p = nl + 1;
			}
		}
	t3 = now();

	printf("data: %.2f GiB of %d-byte lines, %zu of %zu lines changed\n",
	    total / (double)(1UL << 30), LINE, changed / (total / POOL),
	    POOL / LINE);
	printf("redact_line: %8.0f MiB/s\n", total / (t1 - t0) / (1 << 20));
	printf("redact_feed: %8.0f MiB/s\n", total / (t2 - t1) / (1 << 20));
	printf("memchr only: %8.0f MiB/s\n", total / (t3 - t2) / (1 << 20));
	printf("(sink %zu)\n", sink % 10);
	redact_free(r);
	free(pool);
	return (0);
}
