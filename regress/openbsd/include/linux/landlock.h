/* SPDX-License-Identifier: ISC */
/* make portcheck: <linux/landlock.h> is Linux-only; include it under __linux__. */
#error "<linux/landlock.h> does not exist on OpenBSD"
