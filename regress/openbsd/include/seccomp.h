/* SPDX-License-Identifier: ISC */
/* make portcheck: <seccomp.h> is Linux-only; include it under __linux__. */
#error "<seccomp.h> does not exist on OpenBSD"
