/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/epoll.h> is Linux-only; include it under __linux__. */
#error "<sys/epoll.h> does not exist on OpenBSD"
