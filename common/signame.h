/* SPDX-License-Identifier: ISC */
/*
 * signame.h -- signal names in the config (upstream §2.3): "SIGTERM",
 * "term", "Hup" ...; only TERM INT QUIT KILL HUP USR1 USR2 are accepted.
 */
#ifndef APM2_SIGNAME_H
#define APM2_SIGNAME_H

#include <stddef.h>

/* "invalid signal name: " plus a name cut to fit. */
#define SIGNAME_ERR_MAX		128

/*
 * 0 and *signo set on success.  -1 on error with "invalid signal name: X"
 * in errbuf (may be NULL), X being the input uppercased with one "SIG"
 * prefix removed; control characters in X are shown as \xHH, and X is
 * cut (never inside a UTF-8 character) to fit errbuf.
 */
int		 signame_parse(const char *, int *, char *, size_t);
/* "SIGTERM" ... for the seven accepted signals; NULL for any other. */
const char	*signame_name(int);

#endif /* APM2_SIGNAME_H */
