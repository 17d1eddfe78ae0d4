/* SPDX-License-Identifier: ISC */
/*
 * utf8.h -- the one UTF-8 decoder and encoder every parser and writer
 * uses.  Well-formed means RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF.
 */
#ifndef APM2_UTF8_H
#define APM2_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_INVALID	0xffffffffU
#define UTF8_MAX	4		/* bytes in one character */

/*
 * The character at s[0..len): its length, with the code point in *cpp.
 * An ill-formed sequence gives UTF8_INVALID and the length of its
 * maximal subpart (1 to 3 bytes, the unit a lossy decoder replaces with
 * one U+FFFD); len == 0 gives 0.
 */
size_t	utf8_decode(const void *, size_t, uint32_t *);

/*
 * As utf8_decode, but an ill-formed sequence is one byte long: the unit
 * of text shown as "\xNN" or counted as one column.
 */
size_t	utf8_char(const void *, size_t, uint32_t *);

/* cp as UTF-8 in out: its length, or 0 for a surrogate or past U+10FFFF. */
size_t	utf8_encode(uint32_t, unsigned char *);

/* 0 if s[0..len) is well-formed, else -1 with *bad its first bad offset. */
int	utf8_valid(const void *, size_t, size_t *);

/*
 * Drop a character that snprintf/strlcpy truncation cut in half at the
 * end of the string buf, so messages stay well-formed.
 */
void	utf8_clip(char *);

#endif /* APM2_UTF8_H */
