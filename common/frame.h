/* SPDX-License-Identifier: ISC */
/*
 * frame.h -- the public control protocol's framing: a 4-byte big-endian
 * payload length followed by that many bytes (upstream §1.2).
 *
 * The decoder is incremental and never trusts the announced length for
 * allocation: the payload buffer grows as bytes actually arrive (starting
 * small and doubling, capped at the announced length), so a client that
 * announces 16 MiB and sends one byte costs a few hundred bytes.
 */
#ifndef APM2_FRAME_H
#define APM2_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX	(16U * 1024 * 1024)	/* largest payload accepted */
#define FRAME_HDRSZ	4

/* frame_dec_feed() results. */
#define FRAME_NEED	0	/* all bytes consumed, frame not complete */
#define FRAME_DONE	1	/* a frame is complete: frame_dec_take() */
#define FRAME_TOOBIG	(-1)	/* announced length > FRAME_MAX */
#define FRAME_ERROR	(-2)	/* out of memory (errno ENOMEM) */

/* First allocation for a payload; doubles from there. */
#define FRAME_INITBUF	256

struct frame_dec {
	/* private */
	uint8_t		 hdr[FRAME_HDRSZ];
	size_t		 hdrlen;	/* prefix bytes received (0..4) */
	size_t		 expected;	/* announced length, once hdrlen == 4 */
	uint8_t		*buf;		/* payload received so far */
	size_t		 bufsz;		/* allocated size of buf */
	size_t		 len;		/* payload bytes received */
	int		 state;
};

void	 frame_dec_init(struct frame_dec *);
void	 frame_dec_free(struct frame_dec *);

/*
 * Feed n bytes at p.  Returns FRAME_NEED when every byte was consumed and
 * the frame is still incomplete; FRAME_DONE when a frame is complete, with
 * *used saying how many of the n bytes it consumed (take the frame, then
 * feed the rest); FRAME_TOOBIG as soon as the 4 prefix bytes announce more
 * than FRAME_MAX, before anything is allocated (frame_dec_expected() then
 * tells the announced length); FRAME_ERROR with errno ENOMEM.  TOOBIG is
 * sticky until frame_dec_free(); while a completed frame is not taken,
 * feeding consumes nothing and returns FRAME_DONE again.  *used is always
 * set (used may be NULL).
 */
int	 frame_dec_feed(struct frame_dec *, const void *, size_t, size_t *);

/*
 * The completed payload, malloc'd and NUL-terminated (the length excludes
 * the NUL); the decoder is reset for the next frame.  NULL (errno EAGAIN)
 * when no frame is complete.  Never fails after FRAME_DONE.
 */
uint8_t	*frame_dec_take(struct frame_dec *, size_t *);

/* Some bytes of a frame (prefix or payload) received, not all of it. */
int	 frame_dec_midframe(const struct frame_dec *);

/* The 4-byte prefix is complete and the payload is not (EOF here is an
 * error upstream; EOF inside the prefix is a normal close). */
/* Test seam: only regress/ calls frame_dec_inpayload(). */
int	 frame_dec_inpayload(const struct frame_dec *);

/* The announced payload length once the prefix is known, else 0. */
size_t	 frame_dec_expected(const struct frame_dec *);

/* Bytes currently allocated for the payload (for tests and accounting). */
size_t	 frame_dec_bufsize(const struct frame_dec *);

void	 frame_put_len(uint8_t [FRAME_HDRSZ], uint32_t);
uint32_t frame_get_len(const uint8_t [FRAME_HDRSZ]);

/* Prefix + payload in one malloc'd buffer of 4 + len bytes; NULL with
 * errno EMSGSIZE if len > FRAME_MAX, ENOMEM. */
uint8_t	*frame_encode(const void *, size_t, size_t *);

#endif /* APM2_FRAME_H */
