/* SPDX-License-Identifier: ISC */
/*
 * frame.c -- 4-byte big-endian length-prefixed frames.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

enum {
	FD_READING = 0,		/* prefix or payload incomplete */
	FD_DONE,		/* complete frame waits for frame_dec_take */
	FD_TOOBIG		/* refused; sticky */
};

static int	frame_dec_grow(struct frame_dec *, size_t);

void
frame_dec_init(struct frame_dec *d)
{
	memset(d, 0, sizeof(*d));
	d->state = FD_READING;
}

void
frame_dec_free(struct frame_dec *d)
{
	free(d->buf);
	frame_dec_init(d);
}

/*
 * Make room for need payload bytes plus the terminating NUL.  Grows by
 * doubling from FRAME_INITBUF but never past the announced length, and
 * only for bytes that have actually arrived.
 */
static int
frame_dec_grow(struct frame_dec *d, size_t need)
{
	uint8_t	*nb;
	size_t	 cap, nsz;

	cap = d->expected + 1;
	if (need + 1 <= d->bufsz)
		return (0);
	nsz = d->bufsz != 0 ? d->bufsz : FRAME_INITBUF;
	while (nsz < need + 1 && nsz < cap)
		nsz *= 2;
	if (nsz > cap)
		nsz = cap;
	if ((nb = realloc(d->buf, nsz)) == NULL)
		return (-1);
	d->buf = nb;
	d->bufsz = nsz;
	return (0);
}

int
frame_dec_feed(struct frame_dec *d, const void *p, size_t n, size_t *used)
{
	const uint8_t	*in = p;
	size_t		 off = 0, take;

	if (used != NULL)
		*used = 0;
	if (d->state == FD_TOOBIG)
		return (FRAME_TOOBIG);
	if (d->state == FD_DONE)
		return (FRAME_DONE);

	if (d->hdrlen < FRAME_HDRSZ) {
		take = FRAME_HDRSZ - d->hdrlen;
		if (take > n)
			take = n;
		memcpy(d->hdr + d->hdrlen, in, take);
		d->hdrlen += take;
		off += take;
		if (d->hdrlen < FRAME_HDRSZ) {
			if (used != NULL)
				*used = off;
			return (FRAME_NEED);
		}
		d->expected = frame_get_len(d->hdr);
		if (d->expected > FRAME_MAX) {
			/* Decided on the prefix alone: nothing allocated. */
			d->state = FD_TOOBIG;
			if (used != NULL)
				*used = off;
			return (FRAME_TOOBIG);
		}
	}

	take = d->expected - d->len;
	if (take > n - off)
		take = n - off;
	/* Allocate for bytes that arrived, or for the NUL of a done frame. */
	if ((take > 0 || d->len == d->expected) &&
	    frame_dec_grow(d, d->len + take) == -1) {
		/* The prefix bytes stay consumed; payload bytes are not. */
		if (used != NULL)
			*used = off;
		errno = ENOMEM;
		return (FRAME_ERROR);
	}
	if (take > 0)
		memcpy(d->buf + d->len, in + off, take);
	d->len += take;
	off += take;
	if (used != NULL)
		*used = off;
	if (d->len < d->expected)
		return (FRAME_NEED);
	d->buf[d->len] = '\0';
	d->state = FD_DONE;
	return (FRAME_DONE);
}

uint8_t *
frame_dec_take(struct frame_dec *d, size_t *lenp)
{
	uint8_t	*p;

	if (d->state != FD_DONE) {
		if (lenp != NULL)
			*lenp = 0;
		errno = EAGAIN;
		return (NULL);
	}
	p = d->buf;
	if (lenp != NULL)
		*lenp = d->len;
	frame_dec_init(d);
	return (p);
}

int
frame_dec_midframe(const struct frame_dec *d)
{
	return (d->state == FD_READING && d->hdrlen > 0);
}

int
frame_dec_inpayload(const struct frame_dec *d)
{
	return (d->state == FD_READING && d->hdrlen == FRAME_HDRSZ);
}

size_t
frame_dec_expected(const struct frame_dec *d)
{
	return (d->hdrlen == FRAME_HDRSZ ? d->expected : 0);
}

size_t
frame_dec_bufsize(const struct frame_dec *d)
{
	return (d->bufsz);
}

void
frame_put_len(uint8_t hdr[FRAME_HDRSZ], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

uint32_t
frame_get_len(const uint8_t hdr[FRAME_HDRSZ])
{
	return ((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3]);
}

uint8_t *
frame_encode(const void *payload, size_t len, size_t *outlen)
{
	uint8_t	*out;

	if (outlen != NULL)
		*outlen = 0;
	if (len > FRAME_MAX) {
		errno = EMSGSIZE;
		return (NULL);
	}
	if (len > 0 && payload == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if ((out = malloc(FRAME_HDRSZ + len)) == NULL)
		return (NULL);
	frame_put_len(out, (uint32_t)len);
	if (len > 0)
		memcpy(out + FRAME_HDRSZ, payload, len);
	if (outlen != NULL)
		*outlen = FRAME_HDRSZ + len;
	return (out);
}
