/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/eventfd.h> is Linux-only; include it under __linux__. */
#error "<sys/eventfd.h> does not exist on OpenBSD"
