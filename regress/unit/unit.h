/* SPDX-License-Identifier: ISC */
/*
 * unit.h -- helpers the cmocka unit tests share (regress/unit/unit.c,
 * linked into every test program).
 */
#ifndef REGRESS_UNIT_H
#define REGRESS_UNIT_H

#include <stdint.h>

/*
 * xorshift64*: one deterministic sequence per program, so a failure can
 * be reproduced.  rng_seed(0) picks a fixed non-zero seed; rng() is the
 * high half of rng64().
 */
void		rng_seed(uint64_t);
uint32_t	rng(void);
uint64_t	rng64(void);

/* Open descriptors below 1024 (like counting /proc/self/fd, portably). */
int		count_fds(void);
int		fd_is_open(int);

/* Remove path and, if it is a directory, all below it; never follows a
 * symbolic link. */
void		rm_tree(const char *);

#endif
