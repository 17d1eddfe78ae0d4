/* SPDX-License-Identifier: ISC */
/*
 * <sys/socket.h> as OpenBSD declares it, for make portcheck: OpenBSD's
 * SO_PEERCRED fills a struct sockpeercred (Linux's struct ucred is not
 * there), and the Linux-only socket options are absent.
 */
#ifndef PORTCHECK_SYS_SOCKET_H
#define PORTCHECK_SYS_SOCKET_H

#include_next <sys/socket.h>

#undef SO_PEERCRED
#undef SO_PEERGROUPS
#undef SO_PEERSEC
#undef SO_PASSCRED
#undef SO_PASSSEC
#undef SO_SNDBUFFORCE
#undef SO_RCVBUFFORCE
#undef SO_BINDTODEVICE

#define SO_PEERCRED	0x1022

struct sockpeercred {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
};

int	accept4(int, struct sockaddr *, socklen_t *, int);

#endif
