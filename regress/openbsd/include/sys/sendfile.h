/* SPDX-License-Identifier: ISC */
/* make portcheck: <sys/sendfile.h> is Linux-only; include it under __linux__. */
#error "<sys/sendfile.h> does not exist on OpenBSD"
