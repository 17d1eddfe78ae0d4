/* SPDX-License-Identifier: ISC */
/*
 * fuzz.h -- what the JSON harnesses share.
 */
#ifndef APM2_FUZZ_H
#define APM2_FUZZ_H

#include <stdlib.h>
#include <string.h>

/*
 * The parsers want buf[len] == '\0'.  A private copy with just that NUL,
 * so an over-read trips ASan; NULL if out of memory.
 */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char	*buf;

	if ((buf = malloc(size + 1)) == NULL)
		return (NULL);
	if (size > 0)
		memcpy(buf, data, size);
	buf[size] = '\0';
	return (buf);
}

#endif /* APM2_FUZZ_H */
