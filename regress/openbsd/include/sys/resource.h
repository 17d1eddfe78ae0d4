/* SPDX-License-Identifier: ISC */
/*
 * <sys/resource.h> as OpenBSD declares it, for make portcheck: OpenBSD
 * has only the BSD limits (no RLIMIT_AS, for one).  glibc's Linux-only
 * constants are enumerators, so they are renamed out of the way while
 * glibc's header is read, then left undefined.
 */
#ifndef PORTCHECK_SYS_RESOURCE_H
#define PORTCHECK_SYS_RESOURCE_H

#define RLIMIT_AS		portcheck_linux_RLIMIT_AS
#define RLIMIT_LOCKS		portcheck_linux_RLIMIT_LOCKS
#define RLIMIT_SIGPENDING	portcheck_linux_RLIMIT_SIGPENDING
#define RLIMIT_MSGQUEUE		portcheck_linux_RLIMIT_MSGQUEUE
#define RLIMIT_NICE		portcheck_linux_RLIMIT_NICE
#define RLIMIT_RTPRIO		portcheck_linux_RLIMIT_RTPRIO
#define RLIMIT_RTTIME		portcheck_linux_RLIMIT_RTTIME
#include_next <sys/resource.h>
#undef RLIMIT_AS
#undef RLIMIT_LOCKS
#undef RLIMIT_SIGPENDING
#undef RLIMIT_MSGQUEUE
#undef RLIMIT_NICE
#undef RLIMIT_RTPRIO
#undef RLIMIT_RTTIME
#undef RLIMIT_OFILE

#endif
