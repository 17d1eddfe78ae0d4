/* SPDX-License-Identifier: ISC */
/*
 * <sys/queue.h> for make portcheck: glibc's lacks the _SAFE loops that
 * OpenBSD's has, so libbsd's (FreeBSD's), without the FreeBSD-only
 * macros OpenBSD does not have.
 */
#ifndef PORTCHECK_SYS_QUEUE_H
#define PORTCHECK_SYS_QUEUE_H

#include <bsd/sys/queue.h>

#undef SLIST_FOREACH_FROM
#undef SLIST_FOREACH_FROM_SAFE
#undef SLIST_SWAP
#undef STAILQ_FOREACH_FROM
#undef STAILQ_FOREACH_FROM_SAFE
#undef STAILQ_SWAP
#undef LIST_FOREACH_FROM
#undef LIST_FOREACH_FROM_SAFE
#undef LIST_PREV
#undef LIST_SWAP
#undef TAILQ_FOREACH_FROM
#undef TAILQ_FOREACH_FROM_SAFE
#undef TAILQ_FOREACH_REVERSE_FROM
#undef TAILQ_FOREACH_REVERSE_FROM_SAFE
#undef TAILQ_SWAP

#endif
