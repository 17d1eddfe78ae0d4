/* SPDX-License-Identifier: ISC */
/*
 * test_utf8.c -- the shared UTF-8 decoder, encoder and validator
 * (common/utf8.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

#define BAD	UTF8_INVALID

static const struct dcase {
	const char	*s;
	size_t		 len;
	size_t		 n;		/* utf8_decode: maximal subpart */
	size_t		 n1;		/* utf8_char */
	uint32_t	 cp;
} dcases[] = {
	{ "A", 1, 1, 1, 'A' },
	{ "\x7f", 1, 1, 1, 0x7f },
	{ "\xc2\x80", 2, 2, 2, 0x80 },
	{ "\xc3\xa9", 2, 2, 2, 0xe9 },
	{ "\xe0\xa0\x80", 3, 3, 3, 0x800 },
	{ "\xe6\x97\xa5", 3, 3, 3, 0x65e5 },
	{ "\xed\x9f\xbf", 3, 3, 3, 0xd7ff },
	{ "\xee\x80\x80", 3, 3, 3, 0xe000 },
	{ "\xf0\x9f\x98\x80", 4, 4, 4, 0x1f600 },
	{ "\xf4\x8f\xbf\xbf", 4, 4, 4, 0x10ffff },
	{ "\xc0\x80", 2, 1, 1, BAD },			/* overlong */
	{ "\xc1\xbf", 2, 1, 1, BAD },			/* overlong */
	{ "\xe0\x80\x80", 3, 1, 1, BAD },		/* overlong */
	{ "\xe0\x9f\xbf", 3, 1, 1, BAD },		/* overlong */
	{ "\xf0\x80\x80\x80", 4, 1, 1, BAD },		/* overlong */
	{ "\xf0\x8f\xbf\xbf", 4, 1, 1, BAD },		/* overlong */
	{ "\xed\xa0\x80", 3, 1, 1, BAD },		/* surrogate */
	{ "\xed\xbf\xbf", 3, 1, 1, BAD },		/* surrogate */
	{ "\xf4\x90\x80\x80", 4, 1, 1, BAD },		/* > U+10FFFF */
	{ "\xf5\x80\x80\x80", 4, 1, 1, BAD },
	{ "\xe6\x97", 2, 2, 1, BAD },			/* cut short */
	{ "\xe6\x97\xa5", 2, 2, 1, BAD },		/* len stops it */
	{ "\xf0\x9f\x98", 3, 3, 1, BAD },		/* cut short */
	{ "\xf0\x9f\x98" "A", 4, 3, 1, BAD },		/* bad 4th byte */
	{ "\xe6" "A\xa5", 3, 1, 1, BAD },		/* bad trail */
	{ "\x80", 1, 1, 1, BAD },			/* stray trail */
	{ "\xf8\x88\x80\x80\x80", 5, 1, 1, BAD },
	{ "\xff", 1, 1, 1, BAD },
	{ "", 0, 0, 0, BAD }
};

static void
t_decode(void **state)
{
	const struct dcase	*c;
	size_t			 i, n;
	uint32_t		 cp;

	for (i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		c = &dcases[i];
		n = utf8_decode(c->s, c->len, &cp);
		if (n != c->n || cp != c->cp)
			fail_msg("decode case %zu: %zu bytes U+%04X, want %zu "
			    "U+%04X", i, n, cp, c->n, c->cp);
		n = utf8_char(c->s, c->len, &cp);
		if (n != c->n1 || cp != c->cp)
			fail_msg("char case %zu: %zu bytes, want %zu", i, n,
			    c->n1);
	}
}

/* Every scalar value round-trips; surrogates and > U+10FFFF do not encode. */
static void
t_encode(void **state)
{
	unsigned char	 buf[UTF8_MAX];
	uint32_t	 cp, back;
	size_t		 n;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = utf8_encode(cp, buf);
		if (cp >= 0xd800 && cp <= 0xdfff) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(n, cp < 0x80 ? 1 : cp < 0x800 ? 2 :
		    cp < 0x10000 ? 3 : 4);
		assert_int_equal(utf8_decode(buf, n, &back), n);
		assert_int_equal(back, cp);
	}
	assert_int_equal(utf8_encode(0x110000, buf), 0);
	assert_int_equal(utf8_encode(0xffffffffU, buf), 0);
}

static void
t_valid(void **state)
{
	size_t	 bad;

	bad = 99;
	assert_int_equal(utf8_valid("", 0, &bad), 0);
	assert_int_equal(bad, 99);
	assert_int_equal(utf8_valid("abc \xc3\xa9\xf0\x9f\x98\x80", 10, &bad),
	    0);
	assert_int_equal(utf8_valid("ab\xc3\xa9" "c\xed\xa0\x80", 8, &bad),
	    -1);
	assert_int_equal(bad, 5);
	assert_int_equal(utf8_valid("ab\xe6\x97", 4, &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(utf8_valid("\x80", 1, &bad), -1);
	assert_int_equal(bad, 0);
}

static void
t_clip(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} c[] = {
		{ "", "" }, { "abc", "abc" },
		{ "ab\xc3", "ab" }, { "ab\xc3\xa9", "ab\xc3\xa9" },
		{ "ab\xe6", "ab" }, { "ab\xe6\x97", "ab" },
		{ "ab\xe6\x97\xa5", "ab\xe6\x97\xa5" },
		{ "ab\xf0", "ab" }, { "ab\xf0\x9f", "ab" },
		{ "ab\xf0\x9f\x98", "ab" },
		{ "ab\xf0\x9f\x98\x80", "ab\xf0\x9f\x98\x80" },
		/* stray bytes are not a cut character: left alone */
		{ "ab\x80", "ab\x80" },
		{ "ab\x80\x80\x80\x80", "ab\x80\x80\x80\x80" },
		{ "\xff", "\xff" }
	};
	char	 buf[32];
	size_t	 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		(void)strlcpy(buf, c[i].in, sizeof(buf));
		utf8_clip(buf);
		if (strcmp(buf, c[i].out) != 0)
			fail_msg("case %zu", i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_decode),
		cmocka_unit_test(t_encode),
		cmocka_unit_test(t_valid),
		cmocka_unit_test(t_clip),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
