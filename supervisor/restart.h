/* SPDX-License-Identifier: ISC */
/*
 * restart.h -- the restart policy of one instance (upstream §4), pure:
 * no clock, no I/O.  Times are monotonic nanoseconds given by the caller.
 *
 * On every exit the runner asks restart_on_exit(), which
 *  1. records a success when the run lasted at least min_uptime (the
 *     backoff attempt goes back to 0 and the circuit closes; the history
 *     stays),
 *  2. refuses when the circuit is open, when the exit code is 0 and
 *     restart_on_success is off, or when max_restarts restarts already
 *     happened inside the sliding restart_window,
 *  3. otherwise records a restart: the attempt grows by one, the delay
 *     comes from the backoff formula, the time joins the history, and the
 *     circuit opens once the window holds max_restarts restarts.
 * Only restart_reset() (an explicit start) or a long enough run closes
 * the circuit again.
 */
#ifndef APM2_RESTART_H
#define APM2_RESTART_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct restart_state {
	uint32_t	 attempt;	/* backoff attempt, 1-based once used */
	int		 circuit_open;
	uint64_t	*hist;		/* restart times, oldest first */
	size_t		 nhist;
	size_t		 cap;
};

enum restart_decision {
	RESTART_YES,		/* restart after *delay */
	RESTART_NO_SUCCESS,	/* exit 0 and restart_on_success off */
	RESTART_NO_CIRCUIT,	/* the circuit breaker is open */
	RESTART_NO_LIMIT,	/* max_restarts reached inside the window */
	RESTART_NO_MEMORY	/* the history could not grow */
};

/* Delay for attempt n (1-based; 0 counts as 1), clamped to [0, max]. */
uint64_t	restart_backoff_ns(const struct backoff_config *, uint32_t);

/* Restarts inside the window ending at now; older ones are dropped. */
size_t		restart_in_window(const struct restart_config *,
		    struct restart_state *, uint64_t now);

/* Would an exit with this code be restarted? (has_code 0: a signal) */
int		restart_allowed(const struct restart_config *,
		    struct restart_state *, int has_code, int code,
		    uint64_t now);

/* Record a restart at now: 0 and the delay, or -1 (ENOMEM). */
int		restart_record(const struct restart_config *,
		    struct restart_state *, uint64_t now, uint64_t *delay);

void		restart_success(struct restart_state *);
void		restart_reset(struct restart_state *);
/* Test seam: only regress/ calls restart_free(). */
void		restart_free(struct restart_state *);

/* The whole decision for one exit after a run of uptime ns. */
enum restart_decision
		restart_on_exit(const struct restart_config *,
		    struct restart_state *, int has_code, int code,
		    uint64_t uptime, uint64_t now, uint64_t *delay);

#endif /* APM2_RESTART_H */
