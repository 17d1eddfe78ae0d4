/* SPDX-License-Identifier: ISC */
/*
 * test_frame.c -- the length-prefixed frame codec (common/frame.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "unit.h"

struct stream {
	uint8_t	*buf;
	size_t	 len;
};

struct got {
	uint8_t	*frame[64];
	size_t	 len[64];
	size_t	 n;
};

static void	stream_add(struct stream *, const void *, size_t);
static void	got_free(struct got *);
static int	feed_all(struct frame_dec *, const uint8_t *, size_t,
		    struct got *);

static void
stream_add(struct stream *s, const void *payload, size_t len)
{
	uint8_t	*f;
	size_t	 flen;

	f = frame_encode(payload, len, &flen);
	assert_non_null(f);
	assert_int_equal(flen, len + 4);
	s->buf = realloc(s->buf, s->len + flen);
	assert_non_null(s->buf);
	memcpy(s->buf + s->len, f, flen);
	s->len += flen;
	free(f);
}

static void
got_free(struct got *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		free(g->frame[i]);
	g->n = 0;
}

/* Feed one chunk completely, collecting every frame it completes. */
static int
feed_all(struct frame_dec *d, const uint8_t *p, size_t n, struct got *g)
{
	size_t	 used, off = 0;
	int	 r;

	for (;;) {
		r = frame_dec_feed(d, p + off, n - off, &used);
		assert_true(used <= n - off);
		off += used;
		if (r != FRAME_DONE) {
			if (r == FRAME_NEED)
				assert_int_equal(off, n);
			return (r);
		}
		assert_true(g->n < 64);
		g->frame[g->n] = frame_dec_take(d, &g->len[g->n]);
		assert_non_null(g->frame[g->n]);
		/* NUL-terminated for convenience. */
		assert_int_equal(g->frame[g->n][g->len[g->n]], 0);
		g->n++;
		if (off == n)
			return (FRAME_NEED);
	}
}

/* Upstream pin: "hello" is framed as 00 00 00 05 68 65 6c 6c 6f. */
static void
test_pin_hello(void **state)
{
	static const uint8_t	 want[] = {
		0x00, 0x00, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f
	};
	uint8_t			*f;
	size_t			 len;

	f = frame_encode("hello", 5, &len);
	assert_non_null(f);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(f, want, sizeof(want));
	free(f);
}

/* Upstream pins: 12 for a 12-byte payload, 256 for 00 00 01 00. */
static void
test_pin_lengths(void **state)
{
	static const uint8_t	 p256[4] = { 0x00, 0x00, 0x01, 0x00 };
	uint8_t			 hdr[4], *f;
	size_t			 len;

	assert_int_equal(frame_get_len(p256), 256);
	f = frame_encode("0123456789ab", 12, &len);
	assert_non_null(f);
	assert_int_equal(frame_get_len(f), 12);
	free(f);

	frame_put_len(hdr, 0x01020304);
	assert_int_equal(hdr[0], 1);
	assert_int_equal(hdr[1], 2);
	assert_int_equal(hdr[2], 3);
	assert_int_equal(hdr[3], 4);
	frame_put_len(hdr, 0xffffffffU);
	assert_int_equal(frame_get_len(hdr), 0xffffffffU);
	frame_put_len(hdr, 0);
	assert_int_equal(frame_get_len(hdr), 0);
}

/* Upstream pin: fewer than 4 bytes is incomplete. */
static void
test_short_prefix_incomplete(void **state)
{
	static const uint8_t	 p[3] = { 0x00, 0x00, 0x01 };
	struct frame_dec	 d;
	size_t			 used, n;

	for (n = 0; n <= sizeof(p); n++) {
		frame_dec_init(&d);
		assert_int_equal(frame_dec_feed(&d, p, n, &used), FRAME_NEED);
		assert_int_equal(used, n);
		assert_int_equal(frame_dec_midframe(&d), n > 0);
		assert_false(frame_dec_inpayload(&d));
		assert_int_equal(frame_dec_expected(&d), 0);
		assert_int_equal(frame_dec_bufsize(&d), 0);
		assert_null(frame_dec_take(&d, NULL));
		frame_dec_free(&d);
	}
}

static void
test_decode_hello(void **state)
{
	static const uint8_t	 in[] = {
		0x00, 0x00, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f
	};
	struct frame_dec	 d;
	uint8_t			*p;
	size_t			 used, len;

	frame_dec_init(&d);
	assert_int_equal(frame_dec_feed(&d, in, sizeof(in), &used),
	    FRAME_DONE);
	assert_int_equal(used, sizeof(in));
	assert_false(frame_dec_midframe(&d));
	assert_int_equal(frame_dec_expected(&d), 5);
	/* Until taken, more input is not consumed. */
	assert_int_equal(frame_dec_feed(&d, in, sizeof(in), &used),
	    FRAME_DONE);
	assert_int_equal(used, 0);
	p = frame_dec_take(&d, &len);
	assert_non_null(p);
	assert_int_equal(len, 5);
	assert_string_equal((char *)p, "hello");
	free(p);
	/* Reset for the next frame. */
	assert_false(frame_dec_midframe(&d));
	assert_int_equal(frame_dec_expected(&d), 0);
	assert_int_equal(frame_dec_bufsize(&d), 0);
	assert_null(frame_dec_take(&d, &len));
	assert_int_equal(len, 0);
	frame_dec_free(&d);
}

static void
test_zero_length(void **state)
{
	static const uint8_t	 in[] = { 0, 0, 0, 0, 0, 0, 0, 1, 'x' };
	struct frame_dec	 d;
	uint8_t			*p;
	size_t			 used, len;

	frame_dec_init(&d);
	assert_int_equal(frame_dec_feed(&d, in, sizeof(in), &used),
	    FRAME_DONE);
	assert_int_equal(used, 4);
	p = frame_dec_take(&d, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	assert_int_equal(p[0], 0);
	free(p);
	assert_int_equal(frame_dec_feed(&d, in + 4, sizeof(in) - 4, &used),
	    FRAME_DONE);
	assert_int_equal(used, 5);
	p = frame_dec_take(&d, &len);
	assert_int_equal(len, 1);
	assert_string_equal((char *)p, "x");
	free(p);
	frame_dec_free(&d);
}

static void
test_states(void **state)
{
	static const uint8_t	 in[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	struct frame_dec	 d;
	size_t			 used;

	frame_dec_init(&d);
	assert_false(frame_dec_midframe(&d));
	assert_int_equal(frame_dec_feed(&d, in, 2, &used), FRAME_NEED);
	assert_true(frame_dec_midframe(&d));
	assert_false(frame_dec_inpayload(&d));
	assert_int_equal(frame_dec_feed(&d, in + 2, 2, &used), FRAME_NEED);
	assert_true(frame_dec_midframe(&d));
	assert_true(frame_dec_inpayload(&d));
	assert_int_equal(frame_dec_expected(&d), 3);
	/* Nothing allocated before a payload byte arrives. */
	assert_int_equal(frame_dec_bufsize(&d), 0);
	assert_int_equal(frame_dec_feed(&d, in + 4, 2, &used), FRAME_NEED);
	assert_true(frame_dec_inpayload(&d));
	assert_int_equal(frame_dec_feed(&d, in + 6, 1, &used), FRAME_DONE);
	assert_false(frame_dec_midframe(&d));
	assert_false(frame_dec_inpayload(&d));
	frame_dec_free(&d);
	assert_false(frame_dec_midframe(&d));
	assert_int_equal(frame_dec_bufsize(&d), 0);
}

static void
build_three(struct stream *s, uint8_t *big, size_t biglen)
{
	size_t	i;

	for (i = 0; i < biglen; i++)
		big[i] = (uint8_t)(i * 7 + 3);
	memset(s, 0, sizeof(*s));
	stream_add(s, "first", 5);
	stream_add(s, "", 0);
	stream_add(s, big, biglen);
	stream_add(s, "{\"type\":\"ping\"}", 15);
}

static void
check_three(struct got *g, const uint8_t *big, size_t biglen)
{
	assert_int_equal(g->n, 4);
	assert_int_equal(g->len[0], 5);
	assert_memory_equal(g->frame[0], "first", 5);
	assert_int_equal(g->len[1], 0);
	assert_int_equal(g->len[2], biglen);
	assert_memory_equal(g->frame[2], big, biglen);
	assert_int_equal(g->len[3], 15);
	assert_memory_equal(g->frame[3], "{\"type\":\"ping\"}", 15);
}

static void
test_all_in_one_buffer(void **state)
{
	struct frame_dec	 d;
	struct stream		 s;
	struct got		 g = { .n = 0 };
	uint8_t			 big[1000];

	build_three(&s, big, sizeof(big));
	frame_dec_init(&d);
	assert_int_equal(feed_all(&d, s.buf, s.len, &g), FRAME_NEED);
	check_three(&g, big, sizeof(big));
	assert_false(frame_dec_midframe(&d));
	got_free(&g);
	frame_dec_free(&d);
	free(s.buf);
}

static void
test_one_byte_at_a_time(void **state)
{
	struct frame_dec	 d;
	struct stream		 s;
	struct got		 g = { .n = 0 };
	uint8_t			 big[1000];
	size_t			 i;

	build_three(&s, big, sizeof(big));
	frame_dec_init(&d);
	for (i = 0; i < s.len; i++) {
		assert_int_equal(feed_all(&d, s.buf + i, 1, &g), FRAME_NEED);
		/* Growth follows arrivals: never more than twice what came. */
		assert_true(frame_dec_bufsize(&d) <= FRAME_INITBUF ||
		    frame_dec_bufsize(&d) <= 2 * (d.len + 1));
		assert_true(frame_dec_bufsize(&d) <= frame_dec_expected(&d) + 1);
	}
	check_three(&g, big, sizeof(big));
	got_free(&g);
	frame_dec_free(&d);
	free(s.buf);
}

/* Every pair of cut points over a small three-frame stream. */
static void
test_every_split(void **state)
{
	struct frame_dec	 d;
	struct stream		 s;
	struct got		 g = { .n = 0 };
	uint8_t			 big[20];
	size_t			 i, j;

	build_three(&s, big, sizeof(big));
	for (i = 0; i <= s.len; i++) {
		for (j = i; j <= s.len; j++) {
			frame_dec_init(&d);
			assert_int_equal(feed_all(&d, s.buf, i, &g),
			    FRAME_NEED);
			assert_int_equal(feed_all(&d, s.buf + i, j - i, &g),
			    FRAME_NEED);
			assert_int_equal(feed_all(&d, s.buf + j, s.len - j,
			    &g), FRAME_NEED);
			check_three(&g, big, sizeof(big));
			assert_false(frame_dec_midframe(&d));
			got_free(&g);
			frame_dec_free(&d);
		}
	}
	free(s.buf);
}

static void
test_random_chunks(void **state)
{
	struct frame_dec	 d;
	struct stream		 s;
	struct got		 g = { .n = 0 };
	uint8_t			*payload[8];
	size_t			 plen[8], off, n, i;
	int			 round;

	rng_seed(12345);
	for (round = 0; round < 200; round++) {
		memset(&s, 0, sizeof(s));
		for (i = 0; i < 8; i++) {
			plen[i] = rng() % (i == 7 ? 70000 : 600);
			payload[i] = malloc(plen[i] + 1);
			assert_non_null(payload[i]);
			for (n = 0; n < plen[i]; n++)
				payload[i][n] = (uint8_t)rng();
			stream_add(&s, payload[i], plen[i]);
		}
		frame_dec_init(&d);
		for (off = 0; off < s.len; off += n) {
			n = 1 + rng() % (round % 2 ? 17 : 9000);
			if (n > s.len - off)
				n = s.len - off;
			assert_int_equal(feed_all(&d, s.buf + off, n, &g),
			    FRAME_NEED);
		}
		assert_int_equal(g.n, 8);
		for (i = 0; i < 8; i++) {
			assert_int_equal(g.len[i], plen[i]);
			assert_memory_equal(g.frame[i], payload[i], plen[i]);
			free(payload[i]);
		}
		got_free(&g);
		frame_dec_free(&d);
		free(s.buf);
	}
}

/* INV-D007: a frame of exactly the 16 MiB maximum is accepted. */
static void
test_exactly_max_accepted(void **state)
{
	struct frame_dec	 d;
	uint8_t			*payload, *f, *p;
	size_t			 flen, off, n, used, len;
	int			 r = FRAME_NEED;

	payload = malloc(FRAME_MAX);
	assert_non_null(payload);
	for (off = 0; off < FRAME_MAX; off++)
		payload[off] = (uint8_t)(off ^ (off >> 8));
	f = frame_encode(payload, FRAME_MAX, &flen);
	assert_non_null(f);
	assert_int_equal(flen, FRAME_MAX + 4);
	assert_int_equal(frame_get_len(f), FRAME_MAX);

	frame_dec_init(&d);
	for (off = 0; off < flen; off += used) {
		n = flen - off < 65536 ? flen - off : 65536;
		r = frame_dec_feed(&d, f + off, n, &used);
		if (off + used < flen)
			assert_int_equal(r, FRAME_NEED);
	}
	assert_int_equal(r, FRAME_DONE);
	assert_int_equal(frame_dec_expected(&d), FRAME_MAX);
	assert_int_equal(frame_dec_bufsize(&d), FRAME_MAX + 1);
	p = frame_dec_take(&d, &len);
	assert_non_null(p);
	assert_int_equal(len, FRAME_MAX);
	assert_memory_equal(p, payload, FRAME_MAX);
	free(p);
	free(f);
	free(payload);
	frame_dec_free(&d);
}

/*
 * INV-D007: one byte more is refused as soon as the prefix is known,
 * before any allocation.
 */
static void
test_max_plus_one_refused(void **state)
{
	struct frame_dec	 d;
	uint8_t			 in[4 + 64];
	size_t			 used, i;

	memset(in, 'x', sizeof(in));
	frame_put_len(in, FRAME_MAX + 1);
	frame_dec_init(&d);
	assert_int_equal(frame_dec_feed(&d, in, sizeof(in), &used),
	    FRAME_TOOBIG);
	assert_int_equal(used, 4);
	assert_int_equal(frame_dec_bufsize(&d), 0);
	assert_null(d.buf);
	assert_int_equal(frame_dec_expected(&d), FRAME_MAX + 1);
	/* Sticky: the rest is never read. */
	assert_int_equal(frame_dec_feed(&d, in + 4, 64, &used), FRAME_TOOBIG);
	assert_int_equal(used, 0);
	assert_null(frame_dec_take(&d, NULL));
	frame_dec_free(&d);

	/* Same when the prefix trickles in. */
	frame_dec_init(&d);
	for (i = 0; i < 3; i++)
		assert_int_equal(frame_dec_feed(&d, in + i, 1, &used),
		    FRAME_NEED);
	assert_int_equal(frame_dec_feed(&d, in + 3, 10, &used), FRAME_TOOBIG);
	assert_int_equal(used, 1);
	assert_int_equal(frame_dec_bufsize(&d), 0);
	frame_dec_free(&d);
}

static void
test_ffffffff_refused(void **state)
{
	static const uint8_t	 in[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	struct frame_dec	 d;
	size_t			 used;

	frame_dec_init(&d);
	assert_int_equal(frame_dec_feed(&d, in, sizeof(in), &used),
	    FRAME_TOOBIG);
	assert_int_equal(used, 4);
	assert_int_equal(frame_dec_expected(&d), 0xffffffffU);
	assert_int_equal(frame_dec_bufsize(&d), 0);
	frame_dec_free(&d);
}

/* A client announcing 16 MiB and sending a byte costs little. */
static void
test_lazy_allocation(void **state)
{
	struct frame_dec	 d;
	uint8_t			 in[4 + 1000];
	size_t			 used;

	memset(in, 'y', sizeof(in));
	frame_put_len(in, FRAME_MAX);
	frame_dec_init(&d);
	assert_int_equal(frame_dec_feed(&d, in, 5, &used), FRAME_NEED);
	assert_int_equal(used, 5);
	assert_true(frame_dec_bufsize(&d) > 0);
	assert_true(frame_dec_bufsize(&d) <= FRAME_INITBUF);
	assert_int_equal(frame_dec_feed(&d, in + 5, sizeof(in) - 5, &used),
	    FRAME_NEED);
	assert_true(frame_dec_bufsize(&d) <= 2048);
	assert_true(frame_dec_inpayload(&d));
	frame_dec_free(&d);
	assert_int_equal(frame_dec_bufsize(&d), 0);

	/* Small frames get exactly what they need, not FRAME_INITBUF. */
	frame_dec_init(&d);
	frame_put_len(in, 3);
	assert_int_equal(frame_dec_feed(&d, in, 7, &used), FRAME_DONE);
	assert_int_equal(frame_dec_bufsize(&d), 4);
	frame_dec_free(&d);
}

static void
test_encode_refuses_oversize(void **state)
{
	uint8_t	 b[1] = { 0 };
	size_t	 len = 99;

	errno = 0;
	assert_null(frame_encode(b, (size_t)FRAME_MAX + 1, &len));
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(len, 0);
	assert_null(frame_encode(NULL, 1, &len));
	assert_int_equal(errno, EINVAL);
}

/* Random bytes, random chunking: no crash, consistent results. */
static void
test_random_bytes(void **state)
{
	struct frame_dec	 d;
	uint8_t			 buf[4096], *p;
	size_t			 off, n, used, len, i;
	int			 round, r;

	rng_seed(777);
	for (round = 0; round < 3000; round++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rng();
		/* Sometimes make plausible small prefixes. */
		if (round % 3 == 0) {
			for (i = 0; i + 4 < sizeof(buf); i += 4 + rng() % 64)
				frame_put_len(buf + i, rng() % 80);
		}
		frame_dec_init(&d);
		for (off = 0; off < sizeof(buf); ) {
			n = 1 + rng() % 300;
			if (n > sizeof(buf) - off)
				n = sizeof(buf) - off;
			r = frame_dec_feed(&d, buf + off, n, &used);
			assert_true(used <= n);
			off += used;
			if (r == FRAME_TOOBIG) {
				assert_true(frame_dec_expected(&d) > FRAME_MAX);
				assert_int_equal(frame_dec_bufsize(&d), 0);
				break;
			}
			assert_true(r == FRAME_NEED || r == FRAME_DONE);
			if (r == FRAME_DONE) {
				p = frame_dec_take(&d, &len);
				assert_non_null(p);
				assert_int_equal(p[len], 0);
				free(p);
			} else
				assert_int_equal(used, n);
			assert_true(frame_dec_bufsize(&d) <=
			    frame_dec_expected(&d) + 1);
		}
		frame_dec_free(&d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_hello),
		cmocka_unit_test(test_pin_lengths),
		cmocka_unit_test(test_short_prefix_incomplete),
		cmocka_unit_test(test_decode_hello),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_all_in_one_buffer),
		cmocka_unit_test(test_one_byte_at_a_time),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_random_chunks),
		cmocka_unit_test(test_exactly_max_accepted),
		cmocka_unit_test(test_max_plus_one_refused),
		cmocka_unit_test(test_ffffffff_refused),
		cmocka_unit_test(test_lazy_allocation),
		cmocka_unit_test(test_encode_refuses_oversize),
		cmocka_unit_test(test_random_bytes),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
