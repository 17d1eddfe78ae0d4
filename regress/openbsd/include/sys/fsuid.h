/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/fsuid.h> is Linux-only; include it under __linux__. */
#error "<sys/fsuid.h> does not exist on OpenBSD"
