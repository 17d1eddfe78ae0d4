/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the frame decoder.  Input: one byte n (mod 16),
 * then n chunk-size bytes, then the stream, fed in chunks of those sizes
 * (each byte + 1, cycling; the whole rest at once when n is 0).  Every
 * completed frame must be exactly the bytes that framed it, a refusal
 * must come with an announced length over FRAME_MAX and no allocation,
 * and the buffer must only grow with bytes that arrived.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_dec	 d;
	const uint8_t		*sizes, *p;
	uint8_t			*f;
	size_t			 nsizes, off = 0, start = 0, n, used, len,
				 k = 0, got;
	int			 r;

	if (size < 1)
		return (0);
	nsizes = data[0] % 16;
	if (nsizes > size - 1)
		nsizes = size - 1;
	sizes = data + 1;
	p = data + 1 + nsizes;
	size -= 1 + nsizes;

	frame_dec_init(&d);
	while (off < size) {
		n = nsizes > 0 ? (size_t)sizes[k++ % nsizes] + 1 : size - off;
		if (n > size - off)
			n = size - off;
		while (n > 0) {
			r = frame_dec_feed(&d, p + off, n, &used);
			if (used > n)
				abort();
			off += used;
			n -= used;
			if (r == FRAME_TOOBIG) {
				if (frame_dec_expected(&d) <= FRAME_MAX ||
				    frame_dec_bufsize(&d) != 0 ||
				    off - start != FRAME_HDRSZ)
					abort();
				goto out;
			}
			if (r == FRAME_ERROR)
				goto out;
			if (r == FRAME_NEED) {
				if (n != 0)
					abort();
				break;
			}
			if (r != FRAME_DONE)
				abort();
			f = frame_dec_take(&d, &len);
			if (f == NULL || f[len] != '\0' ||
			    len != off - start - FRAME_HDRSZ ||
			    frame_get_len(p + start) != len ||
			    memcmp(f, p + start + FRAME_HDRSZ, len) != 0)
				abort();
			free(f);
			start = off;
		}
		/* Growth follows arrivals and stops at the announced size. */
		got = off - start > FRAME_HDRSZ ? off - start - FRAME_HDRSZ : 0;
		if (frame_dec_bufsize(&d) > frame_dec_expected(&d) + 1 ||
		    (frame_dec_bufsize(&d) > FRAME_INITBUF &&
		    frame_dec_bufsize(&d) > 2 * (got + 1)))
			abort();
		if (frame_dec_midframe(&d) != (off > start))
			abort();
	}
 out:
	frame_dec_free(&d);
	return (0);
}
