/* SPDX-License-Identifier: ISC */
/*
 * logfile.h -- one log destination file: buffered appends, optional
 * timestamp prefixes, rotation by size or time, gzip of old generations,
 * and write errors counted instead of blocking.
 *
 * Open each destination path once and share the struct logfile between
 * the streams that go to it (merge_stderr, combined_file): two objects on
 * one path would rotate it behind each other's back.
 *
 * Files.  Every operation on the file system -- open, the renames of a
 * rotation, compression -- goes through logfs.h with the rights of the
 * owner given to logfile_open(): a new file is 0640 and the owner's, an
 * existing one with other links or another owner is refused, a final
 * symbolic link is refused.  A path that is not a regular file
 * (/dev/null, a FIFO) is written to as is, never chmodded or rotated.
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
 * LOGFILE_DEFAULT_MAX_SIZE bytes, LOGFILE_DEFAULT_MAX_FILES generations,
 * so no log grows without bound.
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
 *  - Generations X.1 (newest) ... X.<max_files>; each rotation shifts
 *    them up (X.i.gz too) and removes the oldest.  Only the contiguous
 *    run from X.1 is shifted, so a huge max_files costs nothing.
 *  - compress: a rotated generation is gzipped by a child process
 *    with the owner's rights (the system's gzip, "gzip -c", nice 10)
 *    reading it on stdin and writing <path>.gz.tmp; when the child is reaped the result is
 *    renamed to X.<i>.gz wherever that generation has moved meanwhile,
 *    and the plain X.<i> removed.  One child per file at a time; others
 *    wait and are picked up when it ends, or at the next open.  The
 *    caller reaps: its SIGCHLD loop passes every pid it does not own to
 *    logfile_reap().  Closing a file kills its child; its generation
 *    stays uncompressed until the next open of that path.
 *  - A failed rotation leaves the data in the current file and is
 *    retried after another max_size bytes or at the next period.
 *
 * Buffering.  Writes collect in a LOGFILE_BUFSZ buffer, written out when
 * full, by logfile_flush() (call it after each batch of input, e.g. each
 * pipe read) and before rotation and close.  A raw write of at least
 * LOGFILE_DIRECT_MIN bytes into an empty buffer goes straight to
 * write(2).  No fsync.
 *
 * Errors.  A write that fails (ENOSPC, EIO, EAGAIN on a FIFO ...) never
 * blocks or retries: the bytes are dropped and counted.  Calls return
 * event bits so the caller can log each error episode once:
 * LOGFILE_EV_FAIL when writes start failing (logfile_errno() says why),
 * LOGFILE_EV_RECOVER when one succeeds again (logfile_episode_lost()
 * bytes were lost meanwhile).  logfile_lost_bytes() is the total.
 */
#ifndef APM2_LOGFILE_H
#define APM2_LOGFILE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "logfs.h"

#define LOGFILE_BUFSZ			(64 * 1024)
#define LOGFILE_DIRECT_MIN		4096
#define LOGFILE_TS_MAX			256	/* rendered timestamp */
#define LOGFILE_DEFAULT_MAX_SIZE	(10 * 1024 * 1024)
#define LOGFILE_DEFAULT_MAX_FILES	10

/* Event bits returned by the writing calls; 0 = nothing to report. */
#define LOGFILE_EV_FAIL		0x01	/* an error episode began */
#define LOGFILE_EV_RECOVER	0x02	/* it ended */
#define LOGFILE_EV_ROTATED	0x04	/* the path is a new file now */
#define LOGFILE_EV_ROTATE_FAIL	0x08	/* logfile_error() says why */
#define LOGFILE_EV_COMPRESS_FAIL 0x10	/* logfile_error() says why */

#define LOGFILE_STDOUT		0
#define LOGFILE_STDERR		1

struct logfile;

/*
 * Open (create) the file.  lc may be NULL: no timestamps, default
 * rotation.  NULL on error with a message in err.
 */
struct logfile	*logfile_open(const char *path, const struct log_config *lc,
		    const struct logowner *, char *err, size_t errlen);
/* Flush, close; a running compression child is killed (SIGTERM). */
/* Test seam: only regress/ calls logfile_close(). */
void		 logfile_close(struct logfile *);
/*
 * Flush and reopen the path (after an outside rename or removal).
 * Event bits, or -1 with a message in err (the old file stays open).
 */
/* Test seam: only regress/ calls logfile_reopen(). */
int		 logfile_reopen(struct logfile *, char *err, size_t errlen);

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

/*
 * The caller reaped pid with status: if it was a compression child of
 * a log file (open or closed), finish its work and return 1; else 0.
 * A failure shows as LOGFILE_EV_COMPRESS_FAIL from the next call on
 * that file.
 */
int		 logfile_reap(pid_t pid, int status);
/* The running compression child, or -1. */
/* Test seam: only regress/ calls logfile_compress_pid(). */
pid_t		 logfile_compress_pid(const struct logfile *);
/* gzip to run (absolute path); NULL: look for it in /usr/bin, /bin. */
/* Test seam: only regress/ calls logfile_set_gzip(). */
void		 logfile_set_gzip(const char *);

uint64_t	 logfile_lost_bytes(const struct logfile *);
uint64_t	 logfile_episode_lost(const struct logfile *);
int		 logfile_errno(const struct logfile *);
const char	*logfile_error(const struct logfile *);
/* Test seam: only regress/ calls logfile_path(). */
const char	*logfile_path(const struct logfile *);
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
