/* SPDX-License-Identifier: ISC */
/*
 * redact.h -- mask secrets in agents' output before it reaches a log file
 * or a client.
 *
 * One struct redactor per output stream (stdout or stderr of one
 * instance): it carries the PEM block state between lines, the exact
 * values the daemon injected into that process's environment, and an
 * optional line assembler.  The redactor works on complete lines; the
 * assembler (redact_feed) turns pipe reads into lines, so a secret split
 * across write(2) calls inside one line is still caught.
 *
 * What is masked, each match replaced by "[REDACTED]":
 *
 *  1. The exact values added with redact_add_value()/redact_add_env(),
 *     first, on the raw line, so no later rule can leave a fragment of
 *     one behind.  Overlapping or touching occurrences merge into one
 *     "[REDACTED]".  A value is split at newlines and each piece is a
 *     value of its own; pieces shorter than REDACT_VALUE_MIN bytes are
 *     ignored: no credential is that short, and masking every "true",
 *     "json" or "1" that an AWS_* or CLAUDE_* variable holds would garble
 *     the log.
 *  2. PEM private keys, whole: from "-----BEGIN <label>-----", where the
 *     label is uppercase letters, digits and blanks and contains
 *     "PRIVATE KEY", through the matching "-----END <label>-----".  The
 *     line holding BEGIN is masked from the marker on, every line after
 *     it becomes exactly "[REDACTED]", and the END line is masked up to
 *     the end of its marker.  Both markers on one line (a key in a JSON
 *     string, "\n"-escaped) mask just that stretch.  A block without END
 *     stops after REDACT_PEM_MAX_LINES lines so a truncated key cannot
 *     hide the rest of a log.
 *  3. The 13 upstream patterns (reference/apm2-upstream.md §5.3), in the
 *     upstream order, each applied to the output of the previous one, all
 *     non-overlapping leftmost-first matches, the whole match replaced
 *     (key names included: "password=x..." -> "[REDACTED]").  They are
 *     rows of a table read by a few matchers (no regex engine), with the
 *     regex semantics of Rust's regex crate, except:
 *     - case folding is ASCII only: (?i) in Rust also folds U+017F into
 *       's' and U+212A into 'k'; we do not.
 *     - bearer_token (#9) masks only what looks like a credential, so
 *       "the bearer of bad news" stays.  "bearer" (any case), Unicode
 *       whitespace, then the token T = [A-Za-z0-9_.=-]+ (longest run):
 *       masked when T is at least 16 bytes and draws on at least two of
 *       lowercase letters, uppercase letters, digits and "._=-"; or, in
 *       an HTTP header ("Authorization" ['"]? \s* [:=] \s* ['"]? right
 *       before "bearer"), whatever T is.
 *     - `\s` is Unicode White_Space as in Rust; bytes that are not valid
 *       UTF-8 count as one character each and are never whitespace.
 *  4. Bare OpenAI project, service-account and admin keys, after the 13:
 *     sk-(proj|svcacct|admin)-[A-Za-z0-9_-]{20,}  (upstream catches them
 *     only after "API_KEY=").
 *
 * Upstream's worked examples come out byte for byte as upstream prints
 * them, except "the bearer of bad news".  Upstream's custom patterns
 * have no configuration key, so there are none here.
 *
 * Speed: one pass over the line with a byte table looks for the few
 * places a secret can start ("sk-", "AIza", "AKIA", "gh?_", "xox?-",
 * "-----BEGIN", "bearer", a keyword before ':' or '=', an anchor of an
 * injected value); a line with none of them is returned as it came,
 * uncopied.  Only the matchers the line can trigger run on it.
 *
 * Guarantee for injected values: the output never contains one, unless
 * the value itself contains '[' or ']' or is a substring of "REDACTED"
 * (then a later "[REDACTED]" could happen to spell it).
 */
#ifndef APM2_REDACT_H
#define APM2_REDACT_H

#include <stddef.h>

#define REDACT_TEXT		"[REDACTED]"
#define REDACT_TEXT_LEN		10
#define REDACT_VALUE_MIN	6	/* shorter injected values: ignored */
#define REDACT_VALUES_MAX	1024	/* values per redactor */
#define REDACT_PEM_MAX_LINES	1000	/* a PEM block without END */
#define REDACT_LINE_MAX		65536	/* redact_feed: longest line piece */

struct redactor;

/* NULL when out of memory.  A new redactor is enabled. */
struct redactor	*redact_new(void);
/* Values are wiped before their memory is freed. */
void		 redact_free(struct redactor *);
/* Forget the stream state (PEM block, partial line); keep the values. */
/* Test seam: only regress/ calls redact_reset(). */
void		 redact_reset(struct redactor *);
/*
 * For a stream picked up in the middle: treat the next lines as inside
 * a PEM private-key block (masked whole) until its END marker, or for
 * REDACT_PEM_MAX_LINES lines.
 */
void		 redact_pem_assume_open(struct redactor *);
/*
 * The first PEM private-key marker in a line, by the rule of 2. above:
 * REDACT_PEM_BEGIN, REDACT_PEM_END, or 0 when there is none.
 */
#define REDACT_PEM_BEGIN	1
#define REDACT_PEM_END		2
int		 redact_pem_first(const char *, size_t);
/*
 * Disabled ([processes.log] redact = false): redact_line returns every
 * line unchanged and redact_feed is only a line assembler.
 */
void		 redact_set_enabled(struct redactor *, int);

/*
 * Mask every later occurrence of these exact bytes (see 1. above).
 * 0 on success, also when the value was ignored as too short or was
 * already known; -1 with errno ENOMEM, or E2BIG past REDACT_VALUES_MAX.
 */
int		 redact_add_value(struct redactor *, const char *, size_t);
/* redact_add_value(value) when redact_env_name_sensitive(name), else 0. */
int		 redact_add_env(struct redactor *, const char *name,
		    const char *value);

/*
 * Upstream's sensitive environment-variable names (§5.3), ASCII case
 * insensitive: the name contains api_key, api-key, apikey, secret, token,
 * password or credential, or starts with ANTHROPIC_, OPENAI_, CLAUDE_,
 * AWS_ or GOOGLE_, or is GITHUB_TOKEN or GH_TOKEN.  1 or 0.
 */
int		 redact_env_name_sensitive(const char *);

/*
 * Redact one line, given without its newline (any bytes, NULs included).
 * Returns 0 and sets *out = in, *outlen = len when nothing was masked;
 * returns 1 with *out pointing into the redactor's own buffer (valid
 * until the next call on this redactor) when something was.  Never
 * fails: if memory runs out the whole line becomes "[REDACTED]".
 * Lines of one stream must come in order: the PEM state depends on it.
 */
int		 redact_line(struct redactor *, const char *in, size_t len,
		    const char **out, size_t *outlen);

/*
 * Line assembler.  redact_feed() takes bytes as read from a pipe and
 * calls emit once per line, already redacted, without its newline;
 * newline is 1 when the line ended in '\n' in the input, 0 when it was
 * cut.  A line is cut into pieces of at most REDACT_LINE_MAX bytes (at
 * the last blank or tab of a full piece's final 1 KiB when there is one,
 * so a token is rarely cut in two); each piece is redacted as a line, so
 * a secret that straddles a cut can escape.  Bytes after the last
 * newline wait for the next call; redact_feed_end() emits them (newline
 * 0) at end of file.  Lines wholly inside buf are not copied.
 * 0, or -1 with errno ENOMEM (the pending bytes are then emitted as a
 * cut line, so nothing is lost).
 */
typedef void	 redact_emit_fn(void *arg, const char *line, size_t len,
		    int newline);
int		 redact_feed(struct redactor *, const char *buf, size_t len,
		    redact_emit_fn *emit, void *arg);
void		 redact_feed_end(struct redactor *, redact_emit_fn *emit,
		    void *arg);
/* Bytes waiting for their newline. */
/* Test seam: only regress/ calls redact_pending(). */
size_t		 redact_pending(const struct redactor *);

#endif /* APM2_REDACT_H */
