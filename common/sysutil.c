/* SPDX-License-Identifier: ISC */
/*
 * sysutil.c -- the user database and the monotonic clock, asked one way
 * by every process.
 *
 * The _r lookups are used with a buffer that doubles on ERANGE: entries
 * with many members (a large group, a long gecos) do not fit the usual
 * few kilobytes, and the non-reentrant calls keep a static entry that a
 * second lookup would overwrite.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sysutil.h"

#define DBBUF_START	4096
#define DBBUF_MAX	(1024 * 1024)
#define GROUPS_START	16

enum dbkey { DB_PWNAM, DB_PWUID, DB_GRNAM };

static void	*db_get(enum dbkey, const char *, uid_t);

/*
 * One lookup, the entry and its strings in one block: the struct first,
 * the buffer the _r call fills behind it.
 */
static void *
db_get(enum dbkey key, const char *name, uid_t uid)
{
	struct passwd	*pwres;
	struct group	*grres;
	char		*ent = NULL, *nb;
	size_t		 hdr, len;
	int		 r, found;

	hdr = key == DB_GRNAM ? sizeof(struct group) : sizeof(struct passwd);
	for (len = DBBUF_START; len <= DBBUF_MAX; len *= 2) {
		if ((nb = realloc(ent, hdr + len)) == NULL) {
			free(ent);
			return (NULL);
		}
		ent = nb;
		pwres = NULL;
		grres = NULL;
		switch (key) {
		case DB_PWNAM:
			r = getpwnam_r(name, (struct passwd *)ent, ent + hdr,
			    len, &pwres);
			break;
		case DB_PWUID:
			r = getpwuid_r(uid, (struct passwd *)ent, ent + hdr,
			    len, &pwres);
			break;
		default:
			r = getgrnam_r(name, (struct group *)ent, ent + hdr,
			    len, &grres);
			break;
		}
		if (r == ERANGE)
			continue;
		found = pwres != NULL || grres != NULL;
		if (r == 0 && found)
			return (ent);
		free(ent);
		/* "not found" may come back as 0, ENOENT, ESRCH, ... */
		errno = r == 0 || r == ENOENT || r == ESRCH || r == EBADF ||
		    r == EPERM ? 0 : r;
		return (NULL);
	}
	free(ent);
	errno = ERANGE;
	return (NULL);
}

struct passwd *
pw_byname(const char *name)
{
	return (db_get(DB_PWNAM, name, 0));
}

struct passwd *
pw_byuid(uid_t uid)
{
	return (db_get(DB_PWUID, NULL, uid));
}

struct group *
gr_byname(const char *name)
{
	return (db_get(DB_GRNAM, name, 0));
}

int
user_ids(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	if ((pw = pw_byname(name)) == NULL)
		return (-1);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	free(pw);
	return (0);
}

int
group_id(const char *name, gid_t *gid)
{
	struct group	*gr;

	if ((gr = gr_byname(name)) == NULL)
		return (-1);
	*gid = gr->gr_gid;
	free(gr);
	return (0);
}

int
grouplist_get(const char *user, gid_t base, int max, gid_t **gp, int *np)
{
	gid_t	*g = NULL, *ng;
	int	 want, n;

	if (max < 1)
		max = 1;
	want = max < GROUPS_START ? max : GROUPS_START;
	for (;;) {
		if ((ng = reallocarray(g, want, sizeof(*g))) == NULL) {
			free(g);
			return (-1);
		}
		g = ng;
		n = want;
		if (getgrouplist(user, base, g, &n) != -1)
			break;
		if (want == max) {
			/* More than max: keep the first max (all filled). */
			*gp = g;
			*np = max;
			return (1);
		}
		/* n is how many there are, where the system says. */
		if (n <= want)
			want = want > max / 2 ? max : want * 2;
		else
			want = n > max ? max : n;
	}
	*gp = g;
	*np = n;
	return (0);
}

uint64_t
mono_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * MONO_NSEC + (uint64_t)ts.tv_nsec);
}

int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

uint64_t
mono_secs_since(const struct timespec *start)
{
	struct timespec	now;
	int64_t		d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d = (int64_t)now.tv_sec - (int64_t)start->tv_sec;
	if (now.tv_nsec < start->tv_nsec)
		d--;
	return (d < 0 ? 0 : (uint64_t)d);
}

void
ns_to_tv(uint64_t ns, struct timeval *tv)
{
	uint64_t	sec = ns / MONO_NSEC;

	/* Far beyond any uptime: a year is as good as forever. */
	if (sec > 365ULL * 86400)
		sec = 365ULL * 86400;
	tv->tv_sec = (time_t)sec;
	tv->tv_usec = (suseconds_t)((ns % MONO_NSEC) / 1000);
}

void
ms_to_tv(int64_t ms, struct timeval *tv)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

/* fd as the one SCM_RIGHTS control message of msg, built in buf. */
void
cmsg_put_fd(struct msghdr *msg, void *buf, size_t len, int fd)
{
	struct cmsghdr	*c;

	memset(buf, 0, len);
	msg->msg_control = buf;
	msg->msg_controllen = len;
	c = CMSG_FIRSTHDR(msg);
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

ssize_t
fd_send(int s, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1)
		cmsg_put_fd(&msg, cm.buf, sizeof(cm.buf), fd);
	while ((n = sendmsg(s, &msg, 0)) == -1 && errno == EINTR)
		;
	return (n);
}

ssize_t
fd_recv(int s, void *buf, size_t len, int flags, int *fdp)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 n;

	*fdp = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	while ((n = recvmsg(s, &msg, flags | MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1)
		return (-1);
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fdp, CMSG_DATA(c), sizeof(int));
	if ((msg.msg_flags & MSG_CTRUNC) != 0) {
		if (*fdp != -1)
			close(*fdp);
		*fdp = -1;
		errno = EBADMSG;
		return (-1);
	}
	return (n);
}

uint32_t
fnv1a(const char *s)
{
	uint32_t	h = 2166136261U;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619U;
	return (h);
}
