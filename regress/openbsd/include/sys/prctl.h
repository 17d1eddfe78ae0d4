/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/prctl.h> is Linux-only; include it under __linux__. */
#error "<sys/prctl.h> does not exist on OpenBSD"
