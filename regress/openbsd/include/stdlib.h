/* SPDX-License-Identifier: ISC */
/*
 * <stdlib.h> as OpenBSD declares it, for make portcheck: glibc's plus
 * OpenBSD's own (libbsd supplies them on Linux).  setproctitle_init()
 * is libbsd's alone: OpenBSD has no such function.
 */
#ifndef PORTCHECK_STDLIB_H
#define PORTCHECK_STDLIB_H

#include_next <stdlib.h>

void		 freezero(void *, size_t);
const char	*getprogname(void);
void		*recallocarray(void *, size_t, size_t, size_t);
void		 setproctitle(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));
int		 mkostemp(char *, int);
long long	 strtonum(const char *, long long, long long, const char **);

#endif
