/* SPDX-License-Identifier: ISC */
/* <sys/proc.h>, the process states of OpenBSD's, for make portcheck. */
#ifndef PORTCHECK_SYS_PROC_H
#define PORTCHECK_SYS_PROC_H

#define SIDL	1
#define SRUN	2
#define SSLEEP	3
#define SSTOP	4
#define SZOMB	5
#define SDEAD	6
#define SONPROC	7

#endif
