/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/signalfd.h> is Linux-only; include it under __linux__. */
#error "<sys/signalfd.h> does not exist on OpenBSD"
