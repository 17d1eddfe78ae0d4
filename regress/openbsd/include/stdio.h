/* SPDX-License-Identifier: ISC */
/* <stdio.h> as OpenBSD declares it, for make portcheck. */
#ifndef PORTCHECK_STDIO_H
#define PORTCHECK_STDIO_H

#include_next <stdio.h>

int	asprintf(char **, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
int	vasprintf(char **, const char *, va_list)
	    __attribute__((__format__(__printf__, 2, 0)));

#endif
