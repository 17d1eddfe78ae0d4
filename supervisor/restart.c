/* SPDX-License-Identifier: ISC */
/*
 * restart.c -- restart policy and backoff formulas (upstream §4.2-4.3).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restart.h"

static double	powu(double, uint32_t);
static uint64_t	secs_to_ns(double, uint64_t);

/* b^e by squaring: no libm, O(log e), overflows cleanly to infinity. */
static double
powu(double b, uint32_t e)
{
	double	r = 1.0;

	while (e != 0) {
		if (e & 1)
			r *= b;
		e >>= 1;
		if (e != 0)
			b *= b;
	}
	return (r);
}

/* Seconds to ns, clamped to [0, max]; NaN counts as "too long". */
static uint64_t
secs_to_ns(double secs, uint64_t max)
{
	double	ns;

	if (isnan(secs))
		return (max);
	if (secs <= 0.0)
		return (0);
	ns = secs * 1e9 + 0.5;
	if (!(ns < (double)max))
		return (max);
	return ((uint64_t)ns);
}

uint64_t
restart_backoff_ns(const struct backoff_config *b, uint32_t n)
{
	uint64_t	init, inc, max, d;

	if (n == 0)
		n = 1;
	switch (b->type) {
	case BACKOFF_FIXED:
		return (duration_to_ns(&b->delay));
	case BACKOFF_EXPONENTIAL:
		init = duration_to_ns(&b->initial_delay);
		max = duration_to_ns(&b->max_delay);
		if (init == 0)
			return (0);	/* 0 * inf would be NaN */
		return (secs_to_ns(duration_to_secs(&b->initial_delay) *
		    powu(b->multiplier, n - 1), max));
	case BACKOFF_LINEAR:
		init = duration_to_ns(&b->initial_delay);
		inc = duration_to_ns(&b->increment);
		max = duration_to_ns(&b->max_delay);
		if (inc != 0 && (uint64_t)(n - 1) > (UINT64_MAX - init) / inc)
			return (max);	/* would overflow: past any cap */
		d = init + inc * (uint64_t)(n - 1);
		return (d < max ? d : max);
	}
	return (0);
}

size_t
restart_in_window(const struct restart_config *rc, struct restart_state *st,
    uint64_t now)
{
	uint64_t	win = duration_to_ns(&rc->restart_window), from;
	size_t		i;

	from = now > win ? now - win : 0;
	for (i = 0; i < st->nhist && st->hist[i] < from; i++)
		;
	if (i > 0) {
		memmove(st->hist, st->hist + i,
		    (st->nhist - i) * sizeof(*st->hist));
		st->nhist -= i;
	}
	return (st->nhist);
}

int
restart_allowed(const struct restart_config *rc, struct restart_state *st,
    int has_code, int code, uint64_t now)
{
	if (st->circuit_open)
		return (0);
	if (has_code && code == 0 && !rc->restart_on_success)
		return (0);
	return (restart_in_window(rc, st, now) < rc->max_restarts);
}

int
restart_record(const struct restart_config *rc, struct restart_state *st,
    uint64_t now, uint64_t *delay)
{
	uint64_t	*h;
	size_t		 ncap;

	restart_in_window(rc, st, now);
	if (st->nhist == st->cap) {
		ncap = st->cap == 0 ? 8 : st->cap * 2;
		if ((h = reallocarray(st->hist, ncap, sizeof(*h))) == NULL)
			return (-1);
		st->hist = h;
		st->cap = ncap;
	}
	if (st->attempt < UINT32_MAX)
		st->attempt++;
	*delay = restart_backoff_ns(&rc->backoff, st->attempt);
	st->hist[st->nhist++] = now;
	if (st->nhist >= rc->max_restarts)
		st->circuit_open = 1;
	return (0);
}

void
restart_success(struct restart_state *st)
{
	st->attempt = 0;
	st->circuit_open = 0;
}

/* An explicit start: as a success, and the window forgotten. */
void
restart_reset(struct restart_state *st)
{
	restart_success(st);
	st->nhist = 0;
}

void
restart_free(struct restart_state *st)
{
	free(st->hist);
	memset(st, 0, sizeof(*st));
}

enum restart_decision
restart_on_exit(const struct restart_config *rc, struct restart_state *st,
    int has_code, int code, uint64_t uptime, uint64_t now, uint64_t *delay)
{
	*delay = 0;
	if (uptime >= duration_to_ns(&rc->min_uptime))
		restart_success(st);
	if (!restart_allowed(rc, st, has_code, code, now)) {
		if (st->circuit_open)
			return (RESTART_NO_CIRCUIT);
		if (has_code && code == 0 && !rc->restart_on_success)
			return (RESTART_NO_SUCCESS);
		return (RESTART_NO_LIMIT);
	}
	if (restart_record(rc, st, now, delay) == -1)
		return (RESTART_NO_MEMORY);
	return (RESTART_YES);
}
