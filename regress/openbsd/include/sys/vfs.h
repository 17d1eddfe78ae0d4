/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/vfs.h> is Linux-only; include it under __linux__. */
#error "<sys/vfs.h> does not exist on OpenBSD"
