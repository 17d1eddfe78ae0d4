/* SPDX-License-Identifier: ISC */
/*
 * jsonw: a small growable-buffer JSON writer that produces exactly what
 * serde_json's compact serializer produces for the same values.
 *
 * The writer never fails midway: when an allocation fails it sets
 * `failed', ignores further writes, and jw_detach() returns NULL.
 */
#ifndef APM2_JSONW_H
#define APM2_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jw {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 failed;	/* an allocation failed; output is lost */
};

/* Longest text jw_fmt_f32() writes, including the NUL. */
#define JW_F32_MAX	24

void	 jw_init(struct jw *);
void	 jw_free(struct jw *);
/* Test seam: only regress/ calls jw_reset(). */
void	 jw_reset(struct jw *);		/* empty it, keep the buffer */
int	 jw_reserve(struct jw *, size_t);	/* room for n more bytes; -1 */
char	*jw_detach(struct jw *, size_t *);	/* NUL-terminated; free() it */

void	 jw_raw_grow(struct jw *, const char *, size_t);
void	 jw_rawz(struct jw *, const char *);
void	 jw_null(struct jw *);
void	 jw_bool(struct jw *, int);
void	 jw_u64(struct jw *, uint64_t);
void	 jw_i64(struct jw *, int64_t);
void	 jw_f32(struct jw *, float);		/* non-finite: null */

/*
 * A quoted JSON string from arbitrary bytes: serde_json escaping, and
 * invalid UTF-8 replaced by U+FFFD per maximal subpart, as Rust's
 * String::from_utf8_lossy does.
 */
void	 jw_str(struct jw *, const char *, size_t);
void	 jw_str_body(struct jw *, const char *, size_t);	/* no quotes */
void	 jw_strz(struct jw *, const char *);	/* NULL: null */

/*
 * Shortest round-trip text of a finite f32, formatted as Rust's ryu
 * crate does ("1.5", "0.0", "100.0", "1e16", "1e-7", "1.2345e-8").
 * Returns the length; buf must hold JW_F32_MAX bytes.
 */
size_t	 jw_fmt_f32(float, char *);

/*
 * The two hottest appends are inline so constant-length copies compile
 * to plain moves; they only call out when the buffer must grow.
 */
static inline void
jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->cap - w->len > n) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	} else
		jw_raw_grow(w, s, n);
}

static inline void
jw_char(struct jw *w, char c)
{
	if (w->cap - w->len > 1)
		w->buf[w->len++] = c;
	else
		jw_raw_grow(w, &c, 1);
}

#endif /* APM2_JSONW_H */
