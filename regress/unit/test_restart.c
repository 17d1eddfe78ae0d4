/* SPDX-License-Identifier: ISC */
/*
 * test_restart.c -- the restart policy and backoff formulas
 * (supervisor/restart.c, upstream §4).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/restart.h"

#define SEC	1000000000ULL
#define MSEC	1000000ULL

static struct duration	dur(uint64_t, uint32_t);
static void	exp_conf(struct backoff_config *, uint64_t, uint64_t,
		    double);
static void	lin_conf(struct backoff_config *, uint64_t, uint64_t,
		    uint64_t);
static void	rc_conf(struct restart_config *, uint32_t, uint64_t,
		    uint64_t);

static struct duration
dur(uint64_t sec, uint32_t nsec)
{
	struct duration	d;

	d.sec = sec;
	d.nsec = nsec;
	return (d);
}

static void
exp_conf(struct backoff_config *b, uint64_t init, uint64_t max, double mult)
{
	memset(b, 0, sizeof(*b));
	b->type = BACKOFF_EXPONENTIAL;
	b->initial_delay = dur(init, 0);
	b->max_delay = dur(max, 0);
	b->multiplier = mult;
}

static void
lin_conf(struct backoff_config *b, uint64_t init, uint64_t inc, uint64_t max)
{
	memset(b, 0, sizeof(*b));
	b->type = BACKOFF_LINEAR;
	b->initial_delay = dur(init, 0);
	b->increment = dur(inc, 0);
	b->max_delay = dur(max, 0);
}

/* max_restarts, window and min_uptime in seconds; fixed 1 s backoff. */
static void
rc_conf(struct restart_config *rc, uint32_t max, uint64_t window,
    uint64_t min_uptime)
{
	memset(rc, 0, sizeof(*rc));
	rc->max_restarts = max;
	rc->restart_window = dur(window, 0);
	rc->min_uptime = dur(min_uptime, 0);
	rc->backoff.type = BACKOFF_FIXED;
	rc->backoff.delay = dur(1, 0);
}

/* Upstream pin: 1 s, x2, max 60 s gives 1, 2, 4, 8 ...; attempt 10 60 s. */
static void
test_exponential_pins(void **state)
{
	struct backoff_config	b;
	uint32_t		n;

	exp_conf(&b, 1, 60, 2.0);
	assert_int_equal(restart_backoff_ns(&b, 1), 1 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 2), 2 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 3), 4 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 4), 8 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 5), 16 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 6), 32 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 7), 60 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 10), 60 * SEC);
	for (n = 7; n < 200; n++)
		assert_int_equal(restart_backoff_ns(&b, n), 60 * SEC);
	/* n = 0 is never used upstream; it must not go below attempt 1. */
	assert_int_equal(restart_backoff_ns(&b, 0), 1 * SEC);
}

static void
test_exponential_fractional(void **state)
{
	struct backoff_config	b;

	exp_conf(&b, 0, 10, 1.5);
	b.initial_delay = dur(0, 100000000);	/* 100 ms */
	assert_int_equal(restart_backoff_ns(&b, 1), 100 * MSEC);
	assert_int_equal(restart_backoff_ns(&b, 2), 150 * MSEC);
	assert_int_equal(restart_backoff_ns(&b, 3), 225 * MSEC);
	/* multiplier 1.0: constant, even for a huge attempt number. */
	exp_conf(&b, 3, 10, 1.0);
	assert_int_equal(restart_backoff_ns(&b, 1), 3 * SEC);
	assert_int_equal(restart_backoff_ns(&b, UINT32_MAX), 3 * SEC);
	/* The default policy: 1 s, x2, max 300 s. */
	exp_conf(&b, 1, 300, 2.0);
	assert_int_equal(restart_backoff_ns(&b, 9), 256 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 10), 300 * SEC);
}

/* NaN, infinity, negative and overflowing results stay in [0, max]. */
static void
test_exponential_clamping(void **state)
{
	struct backoff_config	b;

	exp_conf(&b, 1, 60, 2.0);
	assert_int_equal(restart_backoff_ns(&b, UINT32_MAX), 60 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 1100), 60 * SEC);
	exp_conf(&b, 1, 60, NAN);
	assert_int_equal(restart_backoff_ns(&b, 2), 60 * SEC);
	exp_conf(&b, 1, 60, INFINITY);
	assert_int_equal(restart_backoff_ns(&b, 2), 60 * SEC);
	exp_conf(&b, 1, 60, -2.0);
	assert_int_equal(restart_backoff_ns(&b, 2), 0);	/* -2 s */
	assert_int_equal(restart_backoff_ns(&b, 3), 4 * SEC);
	exp_conf(&b, 1, 60, 1e300);
	assert_int_equal(restart_backoff_ns(&b, 3), 60 * SEC);
	/* 0 initial delay: always 0, never 0 * inf = NaN. */
	exp_conf(&b, 0, 60, 2.0);
	assert_int_equal(restart_backoff_ns(&b, UINT32_MAX), 0);
	/* A cap of 0 wins over everything. */
	exp_conf(&b, 5, 0, 2.0);
	assert_int_equal(restart_backoff_ns(&b, 1), 0);
	/* Huge durations saturate instead of wrapping. */
	exp_conf(&b, UINT64_MAX / 2, UINT64_MAX, 2.0);
	assert_int_equal(restart_backoff_ns(&b, 1), UINT64_MAX);
	assert_int_equal(restart_backoff_ns(&b, 40), UINT64_MAX);
}

/* Upstream pin: 1 s, +2 s, max 10 s gives 1, 3, 5 ...; 5 is 9, 10 is 10. */
static void
test_linear_pins(void **state)
{
	struct backoff_config	b;

	lin_conf(&b, 1, 2, 10);
	assert_int_equal(restart_backoff_ns(&b, 1), 1 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 2), 3 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 3), 5 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 4), 7 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 5), 9 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 6), 10 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 10), 10 * SEC);
	assert_int_equal(restart_backoff_ns(&b, 0), 1 * SEC);
	/* Overflow of initial + increment * (n - 1) gives the cap. */
	lin_conf(&b, 1, UINT64_MAX / 4, UINT64_MAX);
	assert_int_equal(restart_backoff_ns(&b, UINT32_MAX), UINT64_MAX);
	lin_conf(&b, 1, 1000000, 3600);
	assert_int_equal(restart_backoff_ns(&b, UINT32_MAX), 3600 * SEC);
	/* No increment: constant. */
	lin_conf(&b, 2, 0, 10);
	assert_int_equal(restart_backoff_ns(&b, 1000), 2 * SEC);
}

static void
test_fixed(void **state)
{
	struct backoff_config	b;

	memset(&b, 0, sizeof(b));
	b.type = BACKOFF_FIXED;
	b.delay = dur(0, 250000000);
	assert_int_equal(restart_backoff_ns(&b, 1), 250 * MSEC);
	assert_int_equal(restart_backoff_ns(&b, 77), 250 * MSEC);
	b.delay = dur(0, 0);
	assert_int_equal(restart_backoff_ns(&b, 3), 0);
}

/* Upstream pin: max_restarts 3 allows three restarts, then opens. */
static void
test_breaker_sequence(void **state)
{
	struct restart_config	rc;
	struct restart_state	st;
	uint64_t		d, now = 100 * SEC;
	int			i;

	rc_conf(&rc, 3, 60, 30);
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 3; i++) {
		assert_true(restart_allowed(&rc, &st, 1, 1, now));
		assert_false(st.circuit_open);
		assert_int_equal(restart_record(&rc, &st, now, &d), 0);
		assert_int_equal(d, 1 * SEC);
		assert_int_equal(st.attempt, (uint32_t)i + 1);
		now += SEC;
	}
	assert_true(st.circuit_open);
	assert_false(restart_allowed(&rc, &st, 1, 1, now));
	assert_false(restart_allowed(&rc, &st, 0, 0, now));
	/* It stays open long after the window has passed. */
	assert_false(restart_allowed(&rc, &st, 1, 1, now + 3600 * SEC));
	assert_int_equal(restart_in_window(&rc, &st, now + 3600 * SEC), 0);
	assert_true(st.circuit_open);
	/* An explicit start (reset) closes it and forgets everything. */
	restart_reset(&st);
	assert_false(st.circuit_open);
	assert_int_equal(st.attempt, 0);
	assert_int_equal(st.nhist, 0);
	assert_true(restart_allowed(&rc, &st, 1, 1, now));
	restart_free(&st);
	assert_null(st.hist);
}

static void
test_restart_on_success(void **state)
{
	struct restart_config	rc;
	struct restart_state	st;

	rc_conf(&rc, 5, 60, 30);
	memset(&st, 0, sizeof(st));
	assert_false(restart_allowed(&rc, &st, 1, 0, SEC));	/* exit 0 */
	assert_true(restart_allowed(&rc, &st, 1, 1, SEC));	/* exit 1 */
	assert_true(restart_allowed(&rc, &st, 1, -1, SEC));
	assert_true(restart_allowed(&rc, &st, 0, 0, SEC));	/* signal */
	rc.restart_on_success = 1;
	assert_true(restart_allowed(&rc, &st, 1, 0, SEC));
	restart_free(&st);
}

/* Only restarts inside [now - window, now] count; older ones go. */
static void
test_sliding_window(void **state)
{
	struct restart_config	rc;
	struct restart_state	st;
	uint64_t		d;

	rc_conf(&rc, 3, 10, 30);
	memset(&st, 0, sizeof(st));
	assert_int_equal(restart_record(&rc, &st, 100 * SEC, &d), 0);
	assert_int_equal(restart_record(&rc, &st, 101 * SEC, &d), 0);
	assert_int_equal(restart_in_window(&rc, &st, 105 * SEC), 2);
	/* The boundary is inclusive: 110 - 10 = 100 still counts. */
	assert_int_equal(restart_in_window(&rc, &st, 110 * SEC), 2);
	assert_int_equal(restart_in_window(&rc, &st, 110 * SEC + 1), 1);
	assert_int_equal(st.hist[0], 101 * SEC);
	assert_true(restart_allowed(&rc, &st, 1, 1, 111 * SEC + 1));
	assert_int_equal(st.nhist, 0);
	/* The backoff attempt does not go back when the window empties. */
	assert_int_equal(st.attempt, 2);
	assert_false(st.circuit_open);
	/* A window that reaches before time 0 counts everything. */
	restart_reset(&st);
	rc.restart_window = dur(1000, 0);
	assert_int_equal(restart_record(&rc, &st, 1, &d), 0);
	assert_int_equal(restart_in_window(&rc, &st, 5 * SEC), 1);
	restart_free(&st);
}

/* A run of at least min_uptime resets the backoff and the breaker. */
static void
test_min_uptime_reset(void **state)
{
	struct restart_config	rc;
	struct restart_state	st;
	uint64_t		d, now = 1000 * SEC;

	rc_conf(&rc, 10, 60, 5);
	exp_conf(&rc.backoff, 1, 60, 2.0);
	memset(&st, 0, sizeof(st));
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 0, now, &d),
	    RESTART_YES);
	assert_int_equal(d, 1 * SEC);
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 4 * SEC, now, &d),
	    RESTART_YES);
	assert_int_equal(d, 2 * SEC);
	assert_int_equal(restart_on_exit(&rc, &st, 0, 0, 1, now, &d),
	    RESTART_YES);
	assert_int_equal(d, 4 * SEC);
	/* Exactly min_uptime counts as a success: back to attempt 1. */
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 5 * SEC, now, &d),
	    RESTART_YES);
	assert_int_equal(d, 1 * SEC);
	assert_int_equal(st.attempt, 1);
	/* History is kept: 4 restarts inside the window. */
	assert_int_equal(st.nhist, 4);
	restart_free(&st);
}

/* Success closes the circuit but a full window still refuses. */
static void
test_success_with_full_window(void **state)
{
	struct restart_config	rc;
	struct restart_state	st;
	uint64_t		d, now = 1000 * SEC;

	rc_conf(&rc, 2, 60, 5);
	memset(&st, 0, sizeof(st));
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 0, now, &d),
	    RESTART_YES);
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 0, now + SEC, &d),
	    RESTART_YES);
	assert_true(st.circuit_open);
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 0, now + 2 * SEC,
	    &d), RESTART_NO_CIRCUIT);
	assert_int_equal(d, 0);
	/* A long run closes the circuit; the window still holds two. */
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 10 * SEC,
	    now + 20 * SEC, &d), RESTART_NO_LIMIT);
	assert_false(st.circuit_open);
	assert_int_equal(st.attempt, 0);
	/* Once the window has slid past them, restarts resume. */
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 10 * SEC,
	    now + 62 * SEC, &d), RESTART_YES);
	restart_free(&st);
}

static void
test_decisions(void **state)
{
	struct restart_config	rc;
	struct restart_state	st;
	uint64_t		d;

	rc_conf(&rc, 5, 60, 30);
	memset(&st, 0, sizeof(st));
	assert_int_equal(restart_on_exit(&rc, &st, 1, 0, 0, SEC, &d),
	    RESTART_NO_SUCCESS);
	assert_int_equal(st.nhist, 0);
	assert_int_equal(st.attempt, 0);
	assert_int_equal(restart_on_exit(&rc, &st, 1, 3, 0, SEC, &d),
	    RESTART_YES);
	assert_int_equal(st.nhist, 1);
	restart_free(&st);
}

/* max_restarts 0: never restarted, and the circuit never opens. */
static void
test_max_restarts_zero(void **state)
{
	struct restart_config	rc;
	struct restart_state	st;
	uint64_t		d;

	rc_conf(&rc, 0, 60, 30);
	memset(&st, 0, sizeof(st));
	assert_false(restart_allowed(&rc, &st, 1, 1, SEC));
	assert_false(restart_allowed(&rc, &st, 0, 0, SEC));
	assert_int_equal(restart_on_exit(&rc, &st, 1, 1, 0, SEC, &d),
	    RESTART_NO_LIMIT);
	assert_false(st.circuit_open);
	rc.restart_on_success = 1;
	assert_int_equal(restart_on_exit(&rc, &st, 1, 0, 100 * SEC, SEC, &d),
	    RESTART_NO_LIMIT);
	restart_free(&st);
}

/* Many restarts inside a long window: the history grows as needed. */
static void
test_history_growth(void **state)
{
	struct restart_config	rc;
	struct restart_state	st;
	uint64_t		d;
	uint32_t		i;

	rc_conf(&rc, 1000, 3600, 30);
	lin_conf(&rc.backoff, 0, 1, 100);
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 1000; i++) {
		assert_true(restart_allowed(&rc, &st, 1, 1, SEC + i));
		assert_int_equal(restart_record(&rc, &st, SEC + i, &d), 0);
		assert_int_equal(d, i < 100 ? i * SEC : 100 * SEC);
		assert_int_equal(st.circuit_open, i == 999);
	}
	assert_int_equal(st.nhist, 1000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(st.hist[i], SEC + i);
	assert_false(restart_allowed(&rc, &st, 1, 1, SEC + 1000));
	restart_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exponential_pins),
		cmocka_unit_test(test_exponential_fractional),
		cmocka_unit_test(test_exponential_clamping),
		cmocka_unit_test(test_linear_pins),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_breaker_sequence),
		cmocka_unit_test(test_restart_on_success),
		cmocka_unit_test(test_sliding_window),
		cmocka_unit_test(test_min_uptime_reset),
		cmocka_unit_test(test_success_with_full_window),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_max_restarts_zero),
		cmocka_unit_test(test_history_growth),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
