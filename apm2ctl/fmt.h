/* SPDX-License-Identifier: ISC */
/*
 * fmt.h -- text helpers for apm2ctl's output (upstream §8.3, §8.4).
 *
 * The table of `list` and the detail of `status` have upstream's layout,
 * with three differences: a value wider than upstream's column widens
 * the column for every line (upstream's stay the least widths), a null
 * figure shows as "-" where upstream shows a zero, and name truncation
 * never cuts a multi-byte character (upstream panics).  The resource
 * limits and exit reasons of `status` are ours; a reply without them
 * prints as upstream's does.  Column padding counts characters, not
 * bytes, as Rust's format! does.
 */
#ifndef APM2_FMT_H
#define APM2_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FMT_BYTES_MAX		32	/* "17179869184.0G" + NUL fits */
#define FMT_DURATION_MAX	48	/* "213503982334601d 7h" + NUL fits */
#define FMT_NAME_WIDTH		20	/* list table: name column */

/*
 * Column widths: an ill-formed byte counts as one character (utf8_char).
 * fmt_utf8_prefix: the longest prefix of whole characters <= max bytes.
 */
size_t		 fmt_utf8_prefix(const char *, size_t, size_t);
size_t		 fmt_utf8_count(const char *, size_t);

/*
 * Text for a terminal.  Every C0 control but tab, DEL, every C1 control
 * (U+0080 to U+009F) and every byte that does not start a well-formed
 * UTF-8 character is shown as "\xNN": a control by its code point, a
 * stray byte by its value, so no raw 0x80-0x9f byte is left for a
 * terminal to take as an 8-bit control.  The rest, backslash included,
 * is copied.
 *
 * fmt_esc writes s[0..len) escaped to buf like strlcpy: whole characters
 * and whole escapes only, always NUL-terminated if size > 0 (buf may be
 * NULL if size is 0).  It returns the length of the whole escaped text,
 * at most 4 * len.  fmt_esc_write writes it to a stream; the caller
 * checks ferror().
 */
size_t		 fmt_esc(const char *, size_t, char *, size_t);
void		 fmt_esc_write(FILE *, const char *, size_t);

/* format_bytes: "512B", "1.5K", "1.0M", "2.0G" (1024-based). */
void		 fmt_bytes(uint64_t, char *, size_t);
/* format_duration: "59s", "1m 0s", "1h 0m", "1d 0h". */
void		 fmt_duration(uint64_t, char *, size_t);
/*
 * Longer than maxbytes: the longest whole-character prefix of at most
 * maxbytes - 3 bytes, then "...".  Never longer than maxbytes.
 */
void		 fmt_truncate(const char *, size_t, char *, size_t);
/* Rust's "{:.1}" of an f32: "12.5", "NaN", "inf", "-inf". */
void		 fmt_float1(float, char *, size_t);
/*
 * ProcessState's human string (§3.3) from the wire's PascalCase variant:
 * "Running" -> "running"; "Stopped" with a code -> "stopped (exit code:
 * 0)", without -> "stopped".  -1 (buf "unknown") for any other variant.
 */
#define FMT_STATE_MAX		40
/* Test seam: only regress/ calls fmt_state(). */
int		 fmt_state(const char *, int, int32_t, char *, size_t);

/*
 * The status apm2ctl shows for a process or an instance: while a restart
 * is due (restart_due), "restarting in 4s" (secs to it); once the restart
 * policy gave up (gave_up), "failed (gave up after 3 restarts)" (after);
 * else state, its state's own text.
 */
#define FMT_STATUS_MAX		64
void		 fmt_status(const char *, int, uint64_t, int, uint32_t,
		    char *, size_t);

/*
 * The index of the name in names[0..n) (NULL entries skipped) closest to
 * s, if s looks like a typo of it: at most a third of its length in
 * edits, from 1 to 3, a swap of neighbours counting one; the first of
 * the closest.  -1 for none, or for an s empty or longer than
 * FMT_CLOSEST_MAXLEN.
 */
#define FMT_CLOSEST_MAXLEN	256
int		 fmt_closest(const char *, const char *const *, size_t);

/* One row of `apm2ctl list`; has_* = 0 is the wire's null. */
struct fmt_row {
	const char	*name;
	uint32_t	 running;
	uint32_t	 instances;
	const char	*status;	/* fmt_status(): "stopped (exit code: 0)" */
	int		 has_cpu;
	float		 cpu;		/* percent */
	int		 has_mem;
	uint64_t	 mem;		/* bytes */
	int		 has_uptime;
	uint64_t	 uptime;	/* seconds */
	uint32_t	 restarts;	/* carried, not printed: upstream has no column */
};

/* One instance line of `apm2ctl status NAME`. */
struct fmt_instance {
	uint32_t	 index;
	int		 has_pid;
	uint32_t	 pid;
	const char	*state;		/* fmt_status(), e.g. "running" */
	int		 has_cpu;
	float		 cpu;
	int		 has_mem;
	uint64_t	 mem;
	int		 has_uptime;
	uint64_t	 uptime;
	uint32_t	 restarts;
	const char	*exit_reason;	/* NULL: none */
};

/* One line of the "Limits:" block of `apm2ctl status NAME`. */
struct fmt_limit {
	const char	*name;		/* its unit follows from it */
	uint64_t	 value;
	int		 in_force;
	const char	*reason;	/* NULL: none given */
};

/* Input of `apm2ctl status NAME`. */
struct fmt_detail {
	const char		 *name;
	const char		 *id;		/* UUID text */
	const char		 *command;
	const char *const	 *args;
	size_t			  nargs;
	const char		 *cwd;		/* NULL: line left out */
	uint32_t		  instances;
	const char		 *credential_profile;	/* NULL: line left out */
	const struct fmt_instance *inst;
	size_t			  ninst;
	const struct fmt_limit	 *limits;	/* none: no block */
	size_t			  nlimits;
};

/*
 * A limit's value in its name's unit: bytes as fmt_bytes ("512.0M"), cpu
 * in seconds ("30s"), cpu_max in percent of one CPU ("50%"), any other
 * name (counts, io_weight, names this apm2ctl does not know) the number.
 */
#define FMT_LIMIT_MAX		32	/* "18446744073709551615%" + NUL */
void		 fmt_limit_value(const char *, uint64_t, char *, size_t);

/* Both write with stdio; the caller checks ferror(). */
void		 fmt_list_table(FILE *, const struct fmt_row *, size_t);
void		 fmt_status_detail(FILE *, const struct fmt_detail *);

#endif /* APM2_FMT_H */
