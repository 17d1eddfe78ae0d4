/* SPDX-License-Identifier: ISC */
/*
 * <unistd.h> as OpenBSD declares it, for make portcheck (see
 * regress/openbsd/portcheck.sh): glibc's, plus what OpenBSD's libc has
 * and glibc hides behind _GNU_SOURCE or lacks.  OpenBSD's closefrom()
 * returns int, glibc's void: glibc's is renamed out of the way; so is
 * syscall(), gone from OpenBSD's libc (7.5).
 */
#ifndef PORTCHECK_UNISTD_H
#define PORTCHECK_UNISTD_H

#define closefrom	portcheck_glibc_closefrom
#define syscall		portcheck_linux_syscall
#include_next <unistd.h>
#undef closefrom
#undef syscall

int	closefrom(int);
int	dup3(int, int, int);
int	getdtablecount(void);
int	getpeereid(int, uid_t *, gid_t *);
int	getresgid(gid_t *, gid_t *, gid_t *);
int	getresuid(uid_t *, uid_t *, uid_t *);
int	issetugid(void);
int	pipe2(int [2], int);
int	pledge(const char *, const char *);
int	setresgid(gid_t, gid_t, gid_t);
int	setresuid(uid_t, uid_t, uid_t);
int	unveil(const char *, const char *);

#endif
