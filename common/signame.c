/* SPDX-License-Identifier: ISC */
/*
 * signame.c -- upstream's signal-name parser: uppercase, strip one "SIG",
 * then match one of seven names.
 *
 * Upstream uppercases with Rust's Unicode-aware to_uppercase, under which
 * "ſigterm" (long s) becomes "SIGTERM"; here only ASCII letters change
 * case, so such spellings are refused.  A stricter check at config load
 * is the point of validating signal names at all.
 */

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "signame.h"

static const struct {
	const char	*name;		/* matched without its "SIG" */
	int		 signo;
} signals[] = {
	{ "SIGTERM", SIGTERM },
	{ "SIGINT", SIGINT },
	{ "SIGQUIT", SIGQUIT },
	{ "SIGKILL", SIGKILL },
	{ "SIGHUP", SIGHUP },
	{ "SIGUSR1", SIGUSR1 },
	{ "SIGUSR2", SIGUSR2 }
};

#define NSIGNALS	(sizeof(signals) / sizeof(signals[0]))

static int	 upper(int);
static int	 ascii_caseeq(const char *, const char *, size_t);
static void	 put_error(const char *, char *, size_t);

static int
upper(int c)
{
	return (c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
}

/* a (any case, len bytes) equals the uppercase b. */
static int
ascii_caseeq(const char *a, const char *b, size_t len)
{
	size_t	 i;

	if (strlen(b) != len)
		return (0);
	for (i = 0; i < len; i++)
		if (upper((unsigned char)a[i]) != b[i])
			return (0);
	return (1);
}

/* "invalid signal name: X", X uppercased; built in place, cut to fit. */
static void
put_error(const char *name, char *errbuf, size_t errlen)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 off, i;
	unsigned char		 c;

	if (errbuf == NULL || errlen == 0)
		return;
	off = strlcpy(errbuf, "invalid signal name: ", errlen);
	if (off >= errlen) {
		utf8_clip(errbuf);
		return;
	}
	for (i = 0; name[i] != '\0'; i++) {
		c = (unsigned char)name[i];
		/* Keep terminal control sequences out of log lines. */
		if (c < 0x20 || c == 0x7f) {
			if (off + 4 >= errlen)
				break;
			errbuf[off++] = '\\';
			errbuf[off++] = 'x';
			errbuf[off++] = hex[c >> 4];
			errbuf[off++] = hex[c & 0xf];
		} else {
			if (off + 1 >= errlen)
				break;
			errbuf[off++] = (char)upper(c);
		}
	}
	errbuf[off] = '\0';
	utf8_clip(errbuf);
}

int
signame_parse(const char *s, int *signo, char *errbuf, size_t errlen)
{
	const char	*name;
	size_t		 i, len;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (s == NULL)
		s = "";
	name = s;
	if (ascii_caseeq(s, "SIG", strnlen(s, 3)))
		name = s + 3;
	len = strlen(name);
	for (i = 0; i < NSIGNALS; i++) {
		if (ascii_caseeq(name, signals[i].name + 3, len)) {
			*signo = signals[i].signo;
			return (0);
		}
	}
	put_error(name, errbuf, errlen);
	return (-1);
}

const char *
signame_name(int signo)
{
	size_t	 i;

	for (i = 0; i < NSIGNALS; i++)
		if (signals[i].signo == signo)
			return (signals[i].name);
	return (NULL);
}
