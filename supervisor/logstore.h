/* SPDX-License-Identifier: ISC */
/*
 * logstore.h -- the supervisor's side of one log file: its path, whose
 * rights it is handled with, the descriptors it hands to the logger, its
 * rotations and the compression of its old generations.  Every file
 * system operation goes through logfs.h; the bytes themselves are
 * written by the logger (logger/logfile.h), which only ever holds
 * descriptors.
 *
 * Rotation.  logstore_rotate() shifts the generations, renames the file
 * to <path>.1 and returns a descriptor of a new file; a compression that
 * was running follows its generation.  With compress set, a rotated
 * generation is gzipped by a child with the owner's rights (the system's
 * gzip, "gzip -c", nice 10) writing <path>.gz.tmp; when the caller's
 * SIGCHLD loop passes the pid to logstore_reap(), the result becomes
 * <path>.<i>.gz wherever that generation has moved meanwhile and the
 * plain <path>.<i> goes.  One child per file at a time; the others are
 * picked up when it ends, or at the next open.  Closing kills it.
 *
 * Moved files.  The device and inode of the last descriptor handed out
 * are kept: logstore_moved() says when the path no longer names that
 * file (removed, renamed away, replaced), so that the caller reopens.
 *
 * Failures are logged here, once each, and kept for logstore_error().
 */
#ifndef APM2_LOGSTORE_H
#define APM2_LOGSTORE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "logfs.h"

struct logstore;

/* Open (create) path: the store, and the descriptor in *fdp. */
struct logstore	*logstore_open(const char *path, const struct log_config *,
		    const struct logowner *, int *fdp, char *err,
		    size_t errlen);
/* The path anew: a descriptor, or -1 with a message in err. */
int		 logstore_reopen(struct logstore *, char *err, size_t errlen);
/* Rotate: a descriptor of the new file, or -1 with a message in err. */
int		 logstore_rotate(struct logstore *, char *err, size_t errlen);
/* 1 when the path no longer names the file last handed out. */
int		 logstore_moved(const struct logstore *);
/* New rotation settings (a reload): max_files and compress. */
void		 logstore_set(struct logstore *, const struct log_config *);
/* 1 if those of lc are the store's already. */
int		 logstore_same(const struct logstore *,
		    const struct log_config *);
/* Forget it; a running compression is killed (SIGTERM). */
void		 logstore_close(struct logstore *);
/* The caller reaped pid: 1 if it was a compression of ours. */
int		 logstore_reap(pid_t, int);
/* 1 if pid is a compression job's child (not yet reaped). */
int		 logstore_child(pid_t);
const char	*logstore_path(const struct logstore *);
uid_t		 logstore_uid(const struct logstore *);
/* Test seam: only regress/ calls logstore_compress_pid(). */
pid_t		 logstore_compress_pid(const struct logstore *);
/* Test seam: only regress/ calls logstore_error(). */
const char	*logstore_error(const struct logstore *);
/* gzip to run (absolute path); NULL: look in /usr/bin, /bin. */
/* Test seam: only regress/ calls logstore_set_gzip(). */
void		 logstore_set_gzip(const char *);

#endif /* APM2_LOGSTORE_H */
