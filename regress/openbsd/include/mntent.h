/* SPDX-License-Identifier: ISC */
/* make portcheck: <mntent.h> is Linux-only; include it under __linux__. */
#error "<mntent.h> does not exist on OpenBSD"
