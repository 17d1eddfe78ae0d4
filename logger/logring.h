/* SPDX-License-Identifier: ISC */
/*
 * logring.h -- the recent output of one instance, kept in memory for
 * tail_logs: a circular buffer of records, each holding one stream's
 * complete lines from one pipe read, with the time they were read.
 *
 * Records.  A record is a run of lines of one stream, each ended by
 * '\n' except perhaps the last (a line cut because it was too long, or
 * the end of a stream that did not end in a newline).  A line longer
 * than LOGRING_LINE_MAX is shown as pieces of that size.  The writer
 * keeps partial lines back until they are complete, so lines never span
 * records.
 *
 * Memory.  Nothing is allocated until the first record; the buffer then
 * grows by doubling, from LOGRING_INIT up to the ring's cap, and only
 * then starts to drop its oldest records.  A record larger than half the
 * cap keeps only its newest lines (the dropped head counts as eviction).
 * logring_cap() is the per-instance bound logcap uses: the daemon-wide
 * budget ([daemon] log_memory, LOGRING_BUDGET by default) shared
 * equally by all instances, at most LOGRING_MAX and at least
 * LOGRING_FLOOR each.  A ring smaller than LOGRING_MIN cannot hold two
 * lines of full length: a line longer than half of it keeps only its
 * newest bytes.
 *
 * Iteration.  Lines can be walked oldest first or newest first; a
 * position (struct lr_line) stays valid until the next append.
 */
#ifndef APM2_LOGRING_H
#define APM2_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#define LOGRING_INIT		4096
#define LOGRING_FLOOR		4096
#define LOGRING_MIN		(128 * 1024)
#define LOGRING_MAX		(1024 * 1024)
#define LOGRING_BUDGET		(64 * 1024 * 1024)
#define LOGRING_LINE_MAX	65536	/* = PROTO_LOGLINE_MAX */

struct logring;

/* One segment of a record's data (a record may be given in two). */
struct lr_seg {
	const char	*p;
	size_t		 len;
};

/* A line, or a piece of a long line, inside the ring. */
struct lr_line {
	int64_t		 ts_ns;		/* CLOCK_REALTIME of the read */
	int		 stream;	/* 0 stdout, 1 stderr */
	const char	*p;
	size_t		 len;
	/* position, for the iterator */
	size_t		 rec;		/* record offset in the ring */
	size_t		 start;		/* line start inside the data */
	size_t		 off;		/* piece start */
	size_t		 end;		/* line end (its '\n' or the data end) */
};

/* Per-instance cap for ninstances instances sharing budget bytes. */
size_t		 logring_cap(size_t ninstances, uint64_t budget);

struct logring	*logring_new(size_t cap);
/* Test seam: only regress/ calls logring_free(). */
void		 logring_free(struct logring *);
/*
 * Append one record made of the concatenation of nseg segments.  Empty
 * data is ignored.  0, or -1 when memory ran out (the record is lost,
 * the ring keeps what it had).
 */
int		 logring_append(struct logring *, int stream, int64_t ts_ns,
		    const struct lr_seg *, int nseg);
/* 1 if records were ever dropped (or cut) to make room. */
int		 logring_evicted(const struct logring *);
/* Test seam: only regress/ calls logring_bytes(). */
size_t		 logring_bytes(const struct logring *);	/* allocated */
/* Test seam: only regress/ calls logring_records(). */
size_t		 logring_records(const struct logring *);

/* Oldest first: 1 with *l set, 0 when there is none. */
int		 logring_first(const struct logring *, struct lr_line *);
int		 logring_next(const struct logring *, struct lr_line *);
/* Newest first. */
int		 logring_last(const struct logring *, struct lr_line *);
int		 logring_prev(const struct logring *, struct lr_line *);

/*
 * Upper bound of the bytes content takes as a JSON string body: control
 * characters 6 (\u00XX), '"' and '\\' 2, bytes >= 0x80 3 (an invalid
 * byte becomes U+FFFD), others 1.
 */
size_t		 logring_json_len(const char *, size_t);

#endif /* APM2_LOGRING_H */
