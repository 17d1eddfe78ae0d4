/* SPDX-License-Identifier: ISC */
/*
 * reload.h -- SIGHUP and the reload_config request: read the
 * configuration file again, compare it with the running one
 * (confdiff.h) and, unless it is a dry run, apply the difference
 * (runner_reload()), touching nothing else.  A file with any error
 * changes nothing; its errors go to the log and to the requester.
 * [daemon] keys keep their running values until apm2d restarts; those
 * that differ are reported.
 */
#ifndef APM2_RELOAD_H
#define APM2_RELOAD_H

#include "supervisor.h"

#define RELOAD_MSG_MAX	(60 * 1024)	/* the reply's message */

/* ref { 0, 0 }: SIGHUP, no requester. */
void	reload_run(struct conn_ref ref, int dry_run);

#endif /* APM2_RELOAD_H */
