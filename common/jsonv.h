/*
 * jsonv: strict JSON validation plus a cursor reader over validated text.
 *
 * jv_check() accepts exactly one RFC 8259 value with optional surrounding
 * whitespace and nothing else: no duplicate object keys at any depth,
 * only well-formed UTF-8 (raw and in \u escapes: no lone surrogates), no
 * control characters in strings, no NUL outside strings, nesting at most
 * maxdepth arrays/objects deep.  It reads only buf[0..len).
 *
 * The reader functions (jv_root and below) do no checking of their own:
 * call them only on text jv_check() accepted.  They allocate nothing
 * except in jv_strdup().
 */
#ifndef APM2_JSONV_H
#define APM2_JSONV_H

#include <stddef.h>
#include <stdint.h>

#define JV_MAXDEPTH	64

enum jv_type {
	JV_NULL,
	JV_FALSE,
	JV_TRUE,
	JV_NUMBER,
	JV_STRING,
	JV_ARRAY,
	JV_OBJECT
};

/* One value: its type and its exact text (strings include the quotes). */
struct jv {
	enum jv_type	 type;
	const char	*p;
	size_t		 len;
};

struct jv_iter {
	const char	*p;
	const char	*end;
};

int	 jv_check(const char *, size_t, int, char *, size_t);

void	 jv_root(const char *, size_t, struct jv *);
void	 jv_iter(const struct jv *, struct jv_iter *);	/* array or object */
int	 jv_next(struct jv_iter *, struct jv *, struct jv *); /* 0: end */
size_t	 jv_count(const struct jv *);
const char *jv_typename(const struct jv *);		/* "string", ... */

/* Strings (decoded content). */
int	 jv_streq(const struct jv *, const char *, size_t);
size_t	 jv_strdec(const struct jv *, char *);	/* out: jv->len bytes */
char	*jv_strdup(const struct jv *, size_t *);	/* NUL-terminated */

/*
 * Numbers.  jv_uint/jv_int accept only integer literals (no fraction or
 * exponent) within [min, max]; jv_f32 accepts any number within f32
 * range.  0 ok, -1 otherwise.
 */
int	 jv_uint(const struct jv *, uint64_t, uint64_t *);
int	 jv_int(const struct jv *, int64_t, int64_t, int64_t *);
int	 jv_f32(const struct jv *, float *);

#endif /* APM2_JSONV_H */
