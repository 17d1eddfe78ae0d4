/* SPDX-License-Identifier: ISC */
/*
 * duration.h -- duration strings exactly as humantime 2.3.0 reads and
 * writes them (upstream §2.2): "1h 30m", "2.5s", "1year 2months 3days".
 */
#ifndef APM2_DURATION_H
#define APM2_DURATION_H

#include <stddef.h>
#include <stdint.h>

struct duration {
	uint64_t	sec;
	uint32_t	nsec;		/* 0 .. 999999999 */
};

/* Longest duration_format() output is 63 bytes; this leaves room. */
#define DURATION_FMT_MAX	80
/* Long enough for every message but "unknown time unit" (which quotes
 * the unit verbatim and is cut to fit). */
#define DURATION_ERR_MAX	192

/*
 * 0 on success.  -1 on error, with humantime's message in errbuf
 * (which may be NULL), e.g. "time unit needed, for example 30sec or
 * 30ms" or "invalid character at 3" (a byte offset into the input).
 * duration_parse_len takes an explicit length, so an embedded NUL is
 * seen and rejected as humantime would reject it.
 */
/* Test seam: only regress/ calls duration_parse(). */
int		 duration_parse(const char *, struct duration *, char *,
		    size_t);
int		 duration_parse_len(const char *, size_t, struct duration *,
		    char *, size_t);
/* humantime's format_duration; always NUL-terminates when len > 0. */
void		 duration_format(const struct duration *, char *, size_t);
uint64_t	 duration_to_ms(const struct duration *);	/* saturating */
uint64_t	 duration_to_ns(const struct duration *);	/* saturating */
double		 duration_to_secs(const struct duration *);

#endif /* APM2_DURATION_H */
