/* SPDX-License-Identifier: ISC */
/*
 * test_logring.c -- the ring of recent output (supervisor/logring.c):
 * lines and pieces walked both ways, records given in two segments,
 * lazy growth, eviction of the oldest records at the cap, records too
 * big for the ring, and a random workload checked against a model that
 * keeps every line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logger/logring.h"
#include "unit.h"

#define MAXL	LOGRING_LINE_MAX

/* A line as the model or the ring sees it. */
struct mline {
	char	*p;
	size_t	 len;
	int	 stream;
	int64_t	 ts;
};

struct model {
	struct mline	*v;
	size_t		 n, cap;
};

static void	 model_add(struct model *, const char *, size_t, int,
		    int64_t);
static void	 model_record(struct model *, const char *, size_t, int,
		    int64_t);
static void	 model_free(struct model *);
static size_t	 ring_walk(const struct logring *, struct mline **, int);
static size_t	 ring_lines(const struct logring *, struct mline **);
static size_t	 ring_lines_rev(const struct logring *, struct mline **);
static void	 check_suffix(const struct logring *, const struct model *);
static void	 append1(struct logring *, int, int64_t, const char *,
		    size_t);

static void
model_add(struct model *m, const char *p, size_t len, int stream, int64_t ts)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		assert_non_null(m->v);
	}
	m->v[m->n].p = malloc(len + 1);
	assert_non_null(m->v[m->n].p);
	memcpy(m->v[m->n].p, p, len);
	m->v[m->n].len = len;
	m->v[m->n].stream = stream;
	m->v[m->n].ts = ts;
	m->n++;
}

/* What a record should show: its lines, long ones in pieces. */
static void
model_record(struct model *m, const char *p, size_t len, int stream,
    int64_t ts)
{
	const char	*end = p + len, *nl, *le;
	size_t		 k;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		le = nl != NULL ? nl : end;
		do {
			k = (size_t)(le - p) > MAXL ? MAXL : (size_t)(le - p);
			model_add(m, p, k, stream, ts);
			p += k;
		} while (p < le);
		p = nl != NULL ? nl + 1 : end;
	}
}

static void
model_free(struct model *m)
{
	size_t	i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].p);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* Every line oldest first, or newest first (pointers into the ring). */
static size_t
ring_walk(const struct logring *r, struct mline **out, int rev)
{
	struct lr_line	 l;
	struct mline	*v = NULL;
	size_t		 n = 0, cap = 0;
	int		 ok;

	for (ok = rev ? logring_last(r, &l) : logring_first(r, &l); ok;
	    ok = rev ? logring_prev(r, &l) : logring_next(r, &l)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		assert_true(l.len <= MAXL);
		v[n].p = (char *)l.p;
		v[n].len = l.len;
		v[n].stream = l.stream;
		v[n].ts = l.ts_ns;
		n++;
	}
	*out = v;
	return (n);
}

static size_t
ring_lines(const struct logring *r, struct mline **out)
{
	return (ring_walk(r, out, 0));
}

static size_t
ring_lines_rev(const struct logring *r, struct mline **out)
{
	return (ring_walk(r, out, 1));
}

/* The ring holds a suffix of the model, the same both ways round. */
static void
check_suffix(const struct logring *r, const struct model *m)
{
	struct mline	*f, *b;
	size_t		 nf, nb, i, base;

	nf = ring_lines(r, &f);
	nb = ring_lines_rev(r, &b);
	assert_int_equal(nf, nb);
	assert_true(nf <= m->n);
	base = m->n - nf;
	for (i = 0; i < nf; i++) {
		if (f[i].len != m->v[base + i].len ||
		    memcmp(f[i].p, m->v[base + i].p, f[i].len) != 0 ||
		    f[i].stream != m->v[base + i].stream ||
		    f[i].ts != m->v[base + i].ts)
			fail_msg("line %zu of %zu differs from the model", i,
			    nf);
		assert_ptr_equal(f[i].p, b[nf - 1 - i].p);
		assert_int_equal(f[i].len, b[nf - 1 - i].len);
	}
	free(f);
	free(b);
}

static void
append1(struct logring *r, int stream, int64_t ts, const char *p, size_t len)
{
	struct lr_seg	seg;

	seg.p = p;
	seg.len = len;
	assert_int_equal(logring_append(r, stream, ts, &seg, 1), 0);
}

/* Nothing is allocated before the first record. */
static void
test_empty(void **state)
{
	struct logring	*r;
	struct lr_line	 l;

	r = logring_new(LOGRING_MIN);
	assert_non_null(r);
	assert_int_equal(logring_bytes(r), 0);
	assert_int_equal(logring_first(r, &l), 0);
	assert_int_equal(logring_last(r, &l), 0);
	append1(r, 0, 1, "", 0);
	assert_int_equal(logring_records(r), 0);
	assert_int_equal(logring_bytes(r), 0);
	assert_int_equal(logring_first(NULL, &l), 0);
	logring_free(r);
	logring_free(NULL);
}

/* Lines, empty lines, a last line without newline, both streams. */
static void
test_lines(void **state)
{
	struct logring	*r;
	struct model	 m = { 0 };
	static const char a[] = "one\ntwo\n\nfour\n";
	static const char b[] = "err\nno newline";

	r = logring_new(LOGRING_MIN);
	assert_non_null(r);
	append1(r, 0, 100, a, sizeof(a) - 1);
	model_record(&m, a, sizeof(a) - 1, 0, 100);
	append1(r, 1, 200, b, sizeof(b) - 1);
	model_record(&m, b, sizeof(b) - 1, 1, 200);
	append1(r, 0, 300, "\n", 1);
	model_record(&m, "\n", 1, 0, 300);
	assert_int_equal(m.n, 7);
	assert_int_equal(m.v[2].len, 0);
	assert_int_equal(m.v[6].len, 0);
	check_suffix(r, &m);
	assert_int_equal(logring_records(r), 3);
	assert_false(logring_evicted(r));
	assert_int_equal(logring_bytes(r), LOGRING_INIT);
	model_free(&m);
	logring_free(r);
}

/* A record given in two segments is one run of lines. */
static void
test_segments(void **state)
{
	struct logring	*r;
	struct lr_seg	 seg[2];
	struct lr_line	 l;

	r = logring_new(LOGRING_MIN);
	assert_non_null(r);
	seg[0].p = "par";
	seg[0].len = 3;
	seg[1].p = "tial\nnext\n";
	seg[1].len = 10;
	assert_int_equal(logring_append(r, 1, 5, seg, 2), 0);
	seg[0].p = NULL;
	seg[0].len = 0;
	seg[1].p = "x\n";
	seg[1].len = 2;
	assert_int_equal(logring_append(r, 0, 6, seg, 2), 0);
	assert_int_equal(logring_first(r, &l), 1);
	assert_int_equal(l.len, 7);
	assert_memory_equal(l.p, "partial", 7);
	assert_int_equal(l.stream, 1);
	assert_int_equal(logring_next(r, &l), 1);
	assert_memory_equal(l.p, "next", 4);
	assert_int_equal(logring_next(r, &l), 1);
	assert_int_equal(l.len, 1);
	assert_int_equal(l.stream, 0);
	assert_int_equal(l.ts_ns, 6);
	assert_int_equal(logring_next(r, &l), 0);
	logring_free(r);
}

/* Lines longer than LOGRING_LINE_MAX come in pieces, both ways. */
static void
test_long_lines(void **state)
{
	struct logring	*r;
	struct model	 m = { 0 };
	char		*buf;
	size_t		 len, i;
	static const size_t sizes[] = { MAXL - 1, MAXL, MAXL + 1, 2 * MAXL,
	    2 * MAXL + 7 };

	r = logring_new(LOGRING_MAX);
	assert_non_null(r);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = sizes[i] + 1;
		buf = malloc(len);
		assert_non_null(buf);
		memset(buf, 'a' + (int)i, len - 1);
		buf[len / 2] = (char)('A' + i);
		buf[len - 1] = '\n';
		append1(r, 0, (int64_t)i, buf, len);
		model_record(&m, buf, len, 0, (int64_t)i);
		/* and once without its newline */
		append1(r, 1, (int64_t)i, buf, len - 1);
		model_record(&m, buf, len - 1, 1, (int64_t)i);
		free(buf);
	}
	check_suffix(r, &m);
	assert_false(logring_evicted(r));
	model_free(&m);
	logring_free(r);
}

/* Growth stops at the cap; then the oldest records go. */
static void
test_eviction(void **state)
{
	struct logring	*r;
	struct model	 m = { 0 };
	struct lr_line	 l;
	char		 line[128];
	size_t		 cap = LOGRING_MIN, i;
	int		 n;

	r = logring_new(cap);
	assert_non_null(r);
	for (i = 0; i < 20000; i++) {
		n = snprintf(line, sizeof(line), "line %zu of the test\n", i);
		append1(r, (int)(i & 1), (int64_t)i, line, (size_t)n);
		model_record(&m, line, (size_t)n, (int)(i & 1), (int64_t)i);
		/* The cap, raised to hold two lines of full length. */
		assert_true(logring_bytes(r) <= 2 * 65560);
		if (i % 997 == 0)
			check_suffix(r, &m);
	}
	assert_true(logring_evicted(r));
	check_suffix(r, &m);
	/* The newest is there, the oldest gone. */
	assert_int_equal(logring_last(r, &l), 1);
	assert_memory_equal(l.p, "line 19999 of", 13);
	assert_int_equal(logring_first(r, &l), 1);
	assert_true(l.ts_ns > 0);
	/* Most of the ring is in use. */
	assert_true(logring_records(r) * 48 > cap / 2);
	model_free(&m);
	logring_free(r);
}

/* A record too large for the ring keeps its newest whole lines. */
static void
test_oversized(void **state)
{
	struct logring	*r;
	struct lr_line	 l;
	char		*buf;
	size_t		 len = 3 * LOGRING_MIN, i, count = 0, last = 0;

	r = logring_new(LOGRING_MIN);
	assert_non_null(r);
	buf = malloc(len);
	assert_non_null(buf);
	/* 100-byte lines "NNNNNN xxxx...\n" */
	for (i = 0; i < len; i++)
		buf[i] = 'x';
	for (i = 0; i + 100 <= len; i += 100) {
		snprintf(buf + i, 8, "%06zu", i / 100);
		buf[i + 6] = ' ';
		buf[i + 99] = '\n';
	}
	len = i;
	append1(r, 0, 1, buf, len);
	assert_true(logring_evicted(r));
	for (i = logring_first(r, &l); i; i = logring_next(r, &l)) {
		assert_int_equal(l.len, 99);
		last = strtoul(l.p, NULL, 10);
		count++;
	}
	assert_int_equal(last, len / 100 - 1);
	assert_true(count > 0);
	/* Whole lines only: the first kept one starts a line. */
	assert_int_equal(logring_first(r, &l), 1);
	assert_int_equal(strtoul(l.p, NULL, 10), len / 100 - count);
	assert_true(logring_bytes(r) <= LOGRING_MIN + 8 + 2 * 65560);

	/* No newline at all: the newest bytes, as one fragment line. */
	memset(buf, 'y', len);
	buf[len - 1] = 'z';
	append1(r, 1, 2, buf, len);
	assert_int_equal(logring_last(r, &l), 1);
	assert_int_equal(l.stream, 1);
	assert_int_equal(l.p[l.len - 1], 'z');
	free(buf);
	logring_free(r);
}

/* Random records, streams, line lengths and caps against the model. */
static void
test_random(void **state)
{
	static const size_t caps[] = { LOGRING_MIN, 200000, LOGRING_MAX };
	struct logring	*r;
	struct model	 m = { 0 };
	struct lr_seg	 seg[2];
	char		*buf;
	size_t		 c, i, len, j, cut;
	int64_t		 ts = 0;

	rng_seed(0x1234567887654321ULL);
	buf = malloc(4 * MAXL);
	assert_non_null(buf);
	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		r = logring_new(caps[c]);
		assert_non_null(r);
		for (i = 0; i < 3000; i++) {
			switch (rng() % 8) {
			case 0:
				len = rng() % (3 * MAXL);
				break;
			case 1:
				len = 0;
				break;
			default:
				len = rng() % 400;
				break;
			}
			for (j = 0; j < len; j++)
				buf[j] = rng() % 30 == 0 ? '\n' :
				    (char)('a' + rng() % 26);
			ts += rng() % 3;
			cut = len > 0 ? rng() % len : 0;
			seg[0].p = buf;
			seg[0].len = cut;
			seg[1].p = buf + cut;
			seg[1].len = len - cut;
			assert_int_equal(logring_append(r, (int)(rng() & 1), ts,
			    seg, 2), 0);
			if (len > 0 && ((20 + len + 7) & ~(size_t)7) <=
			    (caps[c] < 131120 ? 131120 : caps[c]) / 2)
				model_record(&m, buf, len, -1, ts);
			else if (len > 0) {
				/* Trimmed: start the model afresh. */
				model_free(&m);
			}
			/* Streams are random: compare without them. */
			if (i % 151 == 0 || i == 2999) {
				struct mline	*f;
				size_t		 nf, k, base;

				nf = ring_lines(r, &f);
				if (m.n > 0 || nf == 0) {
					assert_true(nf >= m.n ||
					    logring_evicted(r));
					k = nf < m.n ? nf : m.n;
					base = m.n - k;
					for (j = 0; j < k; j++) {
						struct mline *a = &f[nf - k + j];
						struct mline *b = &m.v[base + j];

						assert_int_equal(a->len,
						    b->len);
						assert_memory_equal(a->p, b->p,
						    a->len);
						assert_int_equal(a->ts, b->ts);
					}
				}
				free(f);
			}
			assert_true(logring_bytes(r) <= caps[c] + 8 ||
			    logring_bytes(r) <= 2 * 65560 + 8);
		}
		model_free(&m);
		logring_free(r);
	}
	free(buf);
}

/*
 * One budget for all (issue 17): 5,000 instances share 64 MiB, and a
 * smaller budget makes smaller rings, down to LOGRING_FLOOR.
 */
static void
test_cap(void **state)
{
	uint64_t	b = LOGRING_BUDGET;

	assert_int_equal(logring_cap(0, b), LOGRING_MAX);
	assert_int_equal(logring_cap(1, b), LOGRING_MAX);
	assert_int_equal(logring_cap(64, b), LOGRING_MAX);
	assert_int_equal(logring_cap(100, b), (LOGRING_BUDGET / 100) & ~7UL);
	assert_true(5000 * logring_cap(5000, b) <= LOGRING_BUDGET);
	assert_int_equal(logring_cap(5000, b), (LOGRING_BUDGET / 5000) & ~7UL);
	assert_int_equal(logring_cap(100000, b), LOGRING_FLOOR);
	assert_int_equal(logring_cap(10, 1 << 20), (1 << 20) / 10 & ~7UL);
	assert_int_equal(logring_cap(1, (uint64_t)1 << 40), LOGRING_MAX);
}

/* A ring at the floor keeps the newest bytes of a line of full length. */
static void
test_small_ring(void **state)
{
	struct logring	*r;
	struct lr_seg	 s;
	struct lr_line	 l;
	char		*buf;
	size_t		 i, got = 0;

	assert_non_null(buf = malloc(65536));
	for (i = 0; i < 65535; i++)
		buf[i] = (char)('a' + i % 26);
	buf[65535] = '\n';
	assert_non_null(r = logring_new(LOGRING_FLOOR));
	s.p = buf;
	s.len = 65536;
	assert_int_equal(logring_append(r, 0, 1, &s, 1), 0);
	assert_true(logring_bytes(r) <= LOGRING_FLOOR + 8);
	assert_true(logring_last(r, &l));
	got = l.len;
	assert_true(got > 0 && got < LOGRING_FLOOR);
	/* The end of the line, its last bytes as they were. */
	assert_memory_equal(l.p, buf + 65535 - got, got);
	s.p = "next\n";
	s.len = 5;
	assert_int_equal(logring_append(r, 1, 2, &s, 1), 0);
	assert_true(logring_last(r, &l));
	assert_int_equal(l.len, 4);
	assert_memory_equal(l.p, "next", 4);
	logring_free(r);
	free(buf);
}

static void
test_json_len(void **state)
{
	assert_int_equal(logring_json_len("", 0), 0);
	assert_int_equal(logring_json_len("abc", 3), 3);
	assert_int_equal(logring_json_len("a\"b\\", 4), 6);
	assert_int_equal(logring_json_len("\n\x01\x1b", 3), 18);
	assert_int_equal(logring_json_len("\xc3\xa9\xff", 3), 9);
	assert_int_equal(logring_json_len("\x7f ~", 3), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_small_ring),
		cmocka_unit_test(test_json_len),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
