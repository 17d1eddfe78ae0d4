/* SPDX-License-Identifier: ISC */
/*
 * utf8.c -- decode, encode and validate UTF-8 (see utf8.h).
 *
 * The bounds of the second byte carry the whole of RFC 3629's table:
 * E0 needs A0..BF (no overlong), ED needs 80..9F (no surrogate), F0 needs
 * 90..BF (no overlong) and F4 needs 80..8F (nothing past U+10FFFF).
 */

#include <string.h>

#include "utf8.h"

size_t
utf8_decode(const void *src, size_t len, uint32_t *cpp)
{
	const unsigned char	*s = src;
	unsigned char		 c, lo = 0x80, hi = 0xbf;
	uint32_t		 cp;
	size_t			 need, i;

	*cpp = UTF8_INVALID;
	if (len == 0)
		return (0);
	c = s[0];
	if (c < 0x80) {
		*cpp = c;
		return (1);
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return (1);
	for (i = 1; i <= need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi)
			return (i);
		cp = (cp << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cpp = cp;
	return (need + 1);
}

size_t
utf8_char(const void *s, size_t len, uint32_t *cpp)
{
	size_t	 n;

	n = utf8_decode(s, len, cpp);
	return (*cpp == UTF8_INVALID && n > 1 ? 1 : n);
}

size_t
utf8_encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return (1);
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return (0);
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return (3);
	}
	if (cp > 0x10ffff)
		return (0);
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return (4);
}

int
utf8_valid(const void *src, size_t len, size_t *bad)
{
	const unsigned char	*s = src;
	size_t			 i = 0, n;
	uint32_t		 cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (cp == UTF8_INVALID) {
			*bad = i;
			return (-1);
		}
		i += n;
	}
	return (0);
}

void
utf8_clip(char *buf)
{
	size_t		 len, start, want;
	unsigned char	 lead;

	len = strlen(buf);
	/* Step back over at most 3 continuation bytes to a lead byte. */
	start = len;
	while (start > 0 && len - start < 3 &&
	    ((unsigned char)buf[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0)
		return;
	lead = (unsigned char)buf[start - 1];
	if (lead < 0xc0)
		return;
	want = (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 :
	    (lead & 0xf8) == 0xf0 ? 4 : 1;
	if (want > len - (start - 1))
		buf[start - 1] = '\0';
}
