/* SPDX-License-Identifier: ISC */
/*
 * killwait -- restart latency as seen from outside, the same for every
 * supervisor: SIGKILL VICTIM (a child of PARENT) and print the
 * microseconds until PARENT has a child that was not there before.
 *
 *   killwait PARENT VICTIM TIMEOUT_MS
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"


int
main(int argc, char *argv[])
{
	uint64_t	ns;

	if (argc != 4) {
		fprintf(stderr, "usage: killwait PARENT VICTIM TIMEOUT_MS\n");
		return (2);
	}
	precise_timers();
	ns = proc_killwait((pid_t)parse_num("killwait", argv[1], 1, INT32_MAX),
	    (pid_t)parse_num("killwait", argv[2], 1, INT32_MAX),
	    (unsigned int)parse_num("killwait", argv[3], 1, 3600000));
	if (ns == 0)
		return (1);
	printf("%.1f\n", (double)ns / 1000.0);
	return (0);
}
