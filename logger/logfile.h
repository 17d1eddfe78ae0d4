/* SPDX-License-Identifier: ISC */
/*
 * logfile.h -- one log destination file: buffered appends, optional
 * timestamp prefixes, rotation by size or time, gzip of old generations,
 * and write errors counted instead of blocking.
 *
 * The writer never sees a path: it is given descriptors, opened by the
 * supervisor with the rights of the process's user (supervisor/logfs.h),
 * and asks for a rotation through a callback.  Share one struct logfile
 * between the streams that go to one file (merge_stderr,
 * combined_file).  Something other than a regular file (/dev/null, a
 * FIFO) is written to as is, never rotated.
 *
 * Lines.  logfile_write_line() with timestamps off writes the bytes
 * unchanged, plus '\n' when newline is set.  With timestamps on every
 * line becomes
 *	[<UTC time in timestamp_format>] [stdout] <line>\n
 * ("[stderr]" for stream 1), with a newline even when the line was cut.
 * The format is strftime(3) on the UTC time plus chrono's additions:
 * %.3f %.6f %.9f (a dot and milli/micro/nanoseconds, truncated), %3f %6f
 * %9f (the same without the dot), %f (nanoseconds, 9 digits), %.f (a dot
 * and 3, 6 or 9 digits as needed, nothing on a whole second), %s
 * (seconds since the epoch), %Z ("UTC"), %z ("+0000"), %:z ("+00:00"),
 * %::z ("+00:00:00"), %:::z ("+00") and %+ (%Y-%m-%dT%H:%M:%S%.f+00:00).
 * A format whose output can exceed LOGFILE_TS_MAX bytes is refused.
 *
 * Rotation.  The rotation table of the log config always applies; when
 * the config has none, config.h fills in the defaults: size mode,
 * LOGFILE_DEFAULT_MAX_SIZE bytes, 10 generations, so no log grows
 * without bound.
 *  - Size: a write that would take a non-empty file past max_size first
 *    rotates it, so files stay within max_size and end at line
 *    boundaries.  One line longer than max_size goes whole into a fresh
 *    file.  logfile_write_raw() ends a file that a chunk would overfill
 *    at the chunk's last newline that still fits, or just before the
 *    chunk when none does; a chunk with no newline in a whole file's
 *    worth is cut at exactly max_size.
 *  - daily / hourly: the first write in a new UTC day or hour rotates a
 *    non-empty file (a file left from before a restart counts from its
 *    mtime).  max_size still caps each file in these modes; set it high
 *    to rotate on time only.
 *  - The callback renames the generations and opens the new file (see
 *    supervisor/logstore.h, which also compresses old generations).
 *    When it answers LOGFILE_PENDING, what is written meanwhile waits
 *    in memory, the caller stops reading its pipes (logfile_rotating()),
 *    and logfile_rotated() writes it to the new file: nothing is lost or
 *    written twice across a rotation, and files still end at line
 *    boundaries.
 *  - A failed rotation leaves the data in the current file and is
 *    retried after another max_size bytes or at the next period.
 *
 * Closing.  logfile_detach() flushes and closes the descriptor (the
 * caller keeps few open) but keeps everything else: size, period,
 * counters, the rest of a torn line.  The next output asks the callback
 * for the same path again (reopen set), and waits in memory meanwhile
 * exactly as for a rotation; the descriptor comes through
 * logfile_rotated(), and what waited is written to it, rotating first
 * if it must.  A rotation due while closed asks for the new file at
 * once, not for the old one.  A file that cannot be had again loses its
 * output, counted as for a failed write (logfile_errno() 0), and is
 * asked for again at the first output LOGFILE_RETRY_MS later.
 *
 * Buffering.  Writes collect in a LOGFILE_BUFSZ buffer, written out when
 * full, by logfile_flush() (call it after each batch of input, e.g. each
 * pipe read) and before rotation and close.  A raw write of at least
 * LOGFILE_DIRECT_MIN bytes into an empty buffer goes straight to
 * write(2).  No fsync.
 *
 * Errors.  A write that fails (ENOSPC, EFBIG, EIO, EAGAIN on a FIFO ...)
 * never blocks or retries: what cannot be written is dropped and
 * counted, a whole line at a time.  When a short write leaves the file
 * inside a line, the rest of that line is kept (at most
 * LOGFILE_TORN_MAX bytes, else the line is ended short) and written
 * first when writing works again; the lines after it are dropped whole.
 * So the file never holds a line with another glued to it.  Calls return
 * event bits so the caller can log each error episode once:
 * LOGFILE_EV_FAIL when writes start failing (logfile_errno() says why),
 * LOGFILE_EV_RECOVER when one succeeds again (logfile_episode_lost()
 * bytes and logfile_episode_lines() lines were lost meanwhile).
 * logfile_lost_bytes() is the total.
 */
#ifndef APM2_LOGFILE_H
#define APM2_LOGFILE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

#define LOGFILE_BUFSZ			(64 * 1024)
#define LOGFILE_DIRECT_MIN		4096
#define LOGFILE_TS_MAX			256	/* rendered timestamp */
#define LOGFILE_TORN_MAX		(LOGFILE_TS_MAX + 65536 + 32)
#define LOGFILE_DEFAULT_MAX_SIZE	(10 * 1024 * 1024)
#define LOGFILE_RETRY_MS		1000	/* a failed reopen */

/* Event bits returned by the writing calls; 0 = nothing to report. */
#define LOGFILE_EV_FAIL		0x01	/* an error episode began */
#define LOGFILE_EV_RECOVER	0x02	/* it ended */
#define LOGFILE_EV_ROTATED	0x04	/* the path is a new file now */
#define LOGFILE_EV_ROTATE_FAIL	0x08	/* logfile_error() says why */

#define LOGFILE_STDOUT		0
#define LOGFILE_STDERR		1

struct logfile;

/* What the writer needs to know of a descriptor it is given. */
struct logfile_fdinfo {
	int		 regular;	/* a regular file: rotated, sized */
	uint64_t	 size;
	time_t		 mtime;
};

/*
 * Rotation, done by whoever owns the path (the supervisor): a
 * descriptor of the new file (rotation done), LOGFILE_PENDING (it will
 * come through logfile_rotated()), or -1 with a message in err.  With
 * reopen set, the same for the file as it is at the path now, after
 * logfile_detach().
 */
#define LOGFILE_PENDING		(-2)
typedef int	(*logfile_rotate_cb)(void *arg, int reopen, char *err,
		    size_t errlen);

/* fstat(2) of fd as struct logfile_fdinfo; 0 or -1. */
int		 logfile_fdinfo(int fd, struct logfile_fdinfo *);
/*
 * A writer for fd (which it owns from now on).  lc may be NULL: no
 * timestamps, default rotation.  fd -1 (fi may then be NULL): a file
 * not open yet, asked for at its first output as after
 * logfile_detach().  NULL on error with a message in err.
 */
struct logfile	*logfile_new(int fd, const struct logfile_fdinfo *,
		    const struct log_config *lc, logfile_rotate_cb, void *arg,
		    char *err, size_t errlen);
/*
 * New settings (a reload): timestamps and their format, the rotation's
 * mode and size, as logfile_new() takes them, for what is written from
 * now on.  0, or -1 with a message in err (nothing changed).
 */
int		 logfile_set(struct logfile *, const struct log_config *lc,
		    char *err, size_t errlen);
/*
 * Flush, close; what waited for a rotation goes to the old file.
 * Test seam: only regress/ calls logfile_close().
 */
void		 logfile_close(struct logfile *);
/* Write to fd from now on (the same path reopened).  Flushes first. */
void		 logfile_setfd(struct logfile *, int fd,
		    const struct logfile_fdinfo *);
/*
 * A pending rotation ended: fd is the new file, or -1 when it failed
 * (the old file goes on).  A pending reopen the same: the file again,
 * or -1 (it stays closed).  What came meanwhile is written.  Without
 * either pending, a new descriptor for the same path (fd -1: none).
 * Event bits.
 */
int		 logfile_rotated(struct logfile *, int fd,
		    const struct logfile_fdinfo *);
/* 1 while a rotation or reopen is pending: the caller stops feeding it. */
int		 logfile_rotating(const struct logfile *);
/* Flush and close its descriptor, not while rotating.  Event bits. */
int		 logfile_detach(struct logfile *);
/* 1 while it holds a descriptor. */
int		 logfile_isopen(const struct logfile *);

/*
 * Append one line (see Lines above).  now is the wall-clock time of the
 * line (CLOCK_REALTIME), for the prefix and time rotation; NULL reads
 * the clock.  Event bits.
 */
int		 logfile_write_line(struct logfile *, int stream,
		    const struct timespec *now, const char *line, size_t len,
		    int newline);
/* Append bytes unchanged, whatever the timestamp setting.  Event bits. */
int		 logfile_write_raw(struct logfile *, const struct timespec *now,
		    const char *buf, size_t len);
/* Write out the buffer.  Event bits. */
int		 logfile_flush(struct logfile *);
/* Rotate now if the file is non-empty.  Event bits. */
/* Test seam: only regress/ calls logfile_rotate(). */
int		 logfile_rotate(struct logfile *);

uint64_t	 logfile_lost_bytes(const struct logfile *);
/* Bytes written to and lost for every log file since the logger began. */
void		 logfile_totals(uint64_t *, uint64_t *);
uint64_t	 logfile_episode_lost(const struct logfile *);
/* Whole lines among them. */
uint64_t	 logfile_episode_lines(const struct logfile *);
int		 logfile_errno(const struct logfile *);
const char	*logfile_error(const struct logfile *);
/* Bytes in the current file, buffered ones included. */
/* Test seam: only regress/ calls logfile_size(). */
uint64_t	 logfile_size(const struct logfile *);

/*
 * The timestamp formatter on its own: 0 if fmt is acceptable, else -1
 * with a message in err; logfile_strftime() renders ts (UTC) into buf
 * and returns the length, or -1 if fmt is bad or buf too small.
 */
int		 logfile_format_check(const char *fmt, char *err,
		    size_t errlen);
/* Test seam: only regress/ calls logfile_strftime(). */
int		 logfile_strftime(const char *fmt, const struct timespec *ts,
		    char *buf, size_t len);

#endif /* APM2_LOGFILE_H */
