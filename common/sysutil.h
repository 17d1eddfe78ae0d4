/* SPDX-License-Identifier: ISC */
/*
 * sysutil.h -- what every process asks the system the same way: the user
 * database (reentrant lookups whose buffers grow) and the monotonic clock.
 */
#ifndef APM2_SYSUTIL_H
#define APM2_SYSUTIL_H

#include <sys/types.h>
#include <sys/time.h>

#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <time.h>

#define MONO_NSEC	1000000000ULL	/* nanoseconds in a second */

/*
 * A copy of the entry, one allocation for free(3).  NULL with errno 0
 * when there is no such entry, else with errno set (a lookup error, or
 * ERANGE for an entry too large to be believed).
 */
struct passwd	*pw_byname(const char *);
struct passwd	*pw_byuid(uid_t);
struct group	*gr_byname(const char *);
/* The same for the ids alone: 0 found; -1 as above. */
int		 user_ids(const char *, uid_t *, gid_t *);
int		 group_id(const char *, gid_t *);
/*
 * The user's groups, base first (getgrouplist(3)), in a new array of at
 * most max entries.  0: all of them; 1: there are more than max, the
 * first max are kept; -1: out of memory.
 */
int		 grouplist_get(const char *, gid_t, int, gid_t **, int *);

/* The FNV-1a hash of a string (32 bits). */
uint32_t	 fnv1a(const char *);

/* CLOCK_MONOTONIC in nanoseconds or milliseconds. */
uint64_t	 mono_ns(void);
int64_t		 mono_ms(void);
/* Whole seconds since a CLOCK_MONOTONIC reading (an uptime), never < 0. */
uint64_t	 mono_secs_since(const struct timespec *);
/* For timers: nanoseconds (a year at most) or milliseconds to a timeval. */
void		 ns_to_tv(uint64_t, struct timeval *);
void		 ms_to_tv(int64_t, struct timeval *);

/*
 * One message of len bytes on a Unix socket with descriptor fd (-1:
 * none) as SCM_RIGHTS; the bytes sent, or -1 with errno.
 */
ssize_t		 fd_send(int s, const void *buf, size_t len, int fd);
struct msghdr;
void		 cmsg_put_fd(struct msghdr *, void *, size_t, int);
/*
 * Receive up to len bytes (flags for recvmsg(2)); a descriptor that came
 * with them is put in *fdp (close-on-exec), else -1.  Truncated control
 * data is an error (EBADMSG; no descriptor is kept).  The bytes, 0 at
 * EOF, or -1 with errno.
 */
ssize_t		 fd_recv(int s, void *buf, size_t len, int flags, int *fdp);

#endif /* APM2_SYSUTIL_H */
