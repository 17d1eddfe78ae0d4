/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/inotify.h> is Linux-only; include it under __linux__. */
#error "<sys/inotify.h> does not exist on OpenBSD"
