/* SPDX-License-Identifier: ISC */
/*
 * <signal.h> as OpenBSD declares it, for make portcheck: no real-time
 * signals, none of Linux's own.
 */
#ifndef PORTCHECK_SIGNAL_H
#define PORTCHECK_SIGNAL_H

#include_next <signal.h>

#undef SIGRTMIN
#undef SIGRTMAX
#undef SIGPOLL
#undef SIGPWR
#undef SIGSTKFLT
#undef SIGUNUSED

#endif
