/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/sysmacros.h> is Linux-only; include it under __linux__. */
#error "<sys/sysmacros.h> does not exist on OpenBSD"
