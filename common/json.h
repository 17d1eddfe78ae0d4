/* SPDX-License-Identifier: ISC */
/*
 * json.h -- strict JSON input: cJSON builds the tree, and the checks cJSON
 * leaves out are made around it.
 *
 * json_parse() accepts exactly one RFC 8259 value with optional
 * surrounding whitespace and nothing else: no duplicate object keys at
 * any depth, only well-formed UTF-8 (raw and in \u escapes: no lone
 * surrogates), no control characters in strings, no byte outside strings
 * that JSON does not allow (a BOM, NUL, form feed), numbers only in RFC
 * 8259's grammar, at most maxdepth arrays/objects deep and at most
 * maxitems keys and values in all.  The text must be NUL-terminated at
 * len (frame_dec_take() gives such buffers); it is not copied and must
 * outlive the struct json.
 *
 * The accessors take nodes of j->root.  Strings may hold NUL (from
 * \u0000): json_str() and json_key() give the decoded length.  Integers
 * are read from the number's text, exactly; floats from cJSON's double.
 */
#ifndef APM2_JSON_H
#define APM2_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define JSON_MAXDEPTH	64		/* the most maxdepth may be */
#define JSON_NOLIMIT	((size_t)-1)	/* maxitems: no limit */

struct json {
	cJSON		*root;
	const char	*buf;
	size_t		 len;
};

/* 0 ok; -1 with "invalid JSON: ... at byte N" in err, nothing held. */
int	 json_parse(struct json *, const char *, size_t, int, size_t, char *,
	    size_t);
void	 json_free(struct json *);

const char *json_typename(const cJSON *);		/* "string", ... */
const char *json_key(const struct json *, const cJSON *, size_t *);
const char *json_str(const struct json *, const cJSON *, size_t *);
int	 json_keyeq(const struct json *, const cJSON *, const char *);
int	 json_streq(const struct json *, const cJSON *, const char *);

/*
 * Numbers.  json_uint/json_int accept only integer literals (no fraction
 * or exponent: 1.0 and 1e2 are not integers) within [min, max];
 * json_f32 any number within f32 range.  0 ok, -1 otherwise.
 */
int	 json_uint(const struct json *, const cJSON *, uint64_t, uint64_t *);
int	 json_int(const struct json *, const cJSON *, int64_t, int64_t,
	    int64_t *);
int	 json_f32(const cJSON *, float *);

#endif /* APM2_JSON_H */
