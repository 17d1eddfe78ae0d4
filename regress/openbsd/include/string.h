/* SPDX-License-Identifier: ISC */
/* <string.h> as OpenBSD declares it, for make portcheck. */
#ifndef PORTCHECK_STRING_H
#define PORTCHECK_STRING_H

#include_next <string.h>

void	*memmem(const void *, size_t, const void *, size_t);
void	*memrchr(const void *, int, size_t);
size_t	 strlcat(char *, const char *, size_t);
size_t	 strlcpy(char *, const char *, size_t);
int	 timingsafe_bcmp(const void *, const void *, size_t);

#endif
