/* SPDX-License-Identifier: ISC */
/*
 * metrics.h -- the Prometheus text exposition (metrics.c).
 */
#ifndef APM2_METRICS_H
#define APM2_METRICS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

char	*metrics_render(int, uid_t, size_t *);
void	 metrics_count_request(uint32_t);
void	 metrics_start(void);

#endif /* APM2_METRICS_H */
