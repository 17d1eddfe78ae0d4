/* SPDX-License-Identifier: ISC */
/*
 * logfs.h -- the file system side of log files: making their
 * directories, opening them, rotating and compressing their generations,
 * each with no more rights than the process whose output they hold.
 *
 * A process's log path may lead through directories other users can
 * write.  Root must then never act there by path: a directory swapped
 * for a symbolic link, a hard link to someone else's file or a rename
 * during rotation would make root create or change files wherever the
 * attacker points.  So every operation first opens the directory of the
 * file one component at a time, without following symbolic links
 * (O_NOFOLLOW), and acts only relative to that descriptor (*at calls):
 *
 *  - Trusted directory: every directory on the way is owned by root or
 *    by the daemon's user and writable by nobody else -- except that a
 *    sticky directory (/tmp) may be crossed when its entry on the way
 *    is owned by root or the daemon's user, since nobody else can then
 *    rename or remove it.  A symbolic link on the way is followed only
 *    when it lies in a trusted directory and belongs to root or the
 *    daemon's user.  Missing directories are created (mode 0750, owned
 *    by the daemon).  The operation then runs in the daemon itself.
 *  - Otherwise, when the process has a user of its own and the daemon
 *    is root: the operation runs in a short-lived child that has
 *    switched to that user's uid, gid and groups for good, so the
 *    kernel's permission checks are the user's own: a user can make
 *    apm2d write only where that user could write anyway.
 *  - Otherwise (a process of the daemon's own user): refused, with the
 *    directory that made it so named in the message.
 *
 * Files.  A new file is created with O_EXCL, mode 0640, owned by the
 * process's user and group.  An existing regular file is refused when
 * it has more than one link or belongs to anyone else; it is made 0640
 * on every open and never chowned.  A final symbolic link is refused.
 * Something other than a regular file (/dev/null, a FIFO) is written to
 * as it is.  Descriptors come back O_WRONLY|O_APPEND|O_NONBLOCK|
 * O_CLOEXEC.
 *
 * Generations are <path>.1 (newest) ... <path>.<max_files>, each plain
 * or ".gz"; compression writes <path>.gz.tmp first.  With compress set,
 * the calls that can leave an uncompressed generation behind also say
 * which one is to be compressed next (*nextp, 0 for none), after
 * removing plain copies that a finished compression left beside their
 * .gz.
 */
#ifndef APM2_LOGFS_H
#define APM2_LOGFS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define LOGFS_FILE_MODE		0640
#define LOGFS_DIR_MODE		0750
#define LOGFS_TMP_SUFFIX	".gz.tmp"
#define LOGFS_SUFFIX_MAX	16	/* ".4294967295.gz" + NUL */
#define LOGFS_DEFAULT_MAX_FILES	10

/* Whose rights a log file is handled with. */
struct logowner {
	uid_t		 uid;		/* owner of the files */
	gid_t		 gid;
	gid_t		*groups;	/* supplementary groups (owned) */
	int		 ngroups;
	int		 setid;		/* a user of its own: may act as it */
};

/* A copy of src in dst (groups duplicated); -1 when out of memory. */
int	 logowner_copy(struct logowner *dst, const struct logowner *src);
void	 logowner_clear(struct logowner *);

/*
 * Open (create) path; unless busy (a compression of it is running), a
 * leftover <path>.gz.tmp is removed.  The descriptor, or -1 with a
 * message in err.
 */
int	 logfs_open(const struct logowner *, const char *path, int compress,
	    uint32_t max_files, int busy, uint32_t *nextp, char *err,
	    size_t errlen);
/*
 * Shift the generations up (the oldest beyond max_files is removed),
 * rename path to <path>.1 and open a new path.  *runp is the length of
 * the run <path>.1 ... found before the shift.  When the new file
 * cannot be opened, <path>.1 is put back.  The new descriptor, or -1
 * with a message in err.
 */
int	 logfs_rotate(const struct logowner *, const char *path,
	    uint32_t max_files, int compress, uint32_t *runp, uint32_t *nextp,
	    char *err, size_t errlen);
/*
 * Start gzip on generation gen: a child with the owner's rights reads
 * <path>.<gen> and writes <path>.gz.tmp.  Its pid (the caller reaps it),
 * or -1 with a message in err.
 */
pid_t	 logfs_gzip(const struct logowner *, const char *path, uint32_t gen,
	    const char *gzip, char *err, size_t errlen);
/*
 * A compression ended: with ok and gen > 0, <path>.gz.tmp becomes
 * <path>.<gen>.gz and <path>.<gen> goes; otherwise the temporary file
 * goes.  0, or -1 with a message in err.
 */
int	 logfs_compress_done(const struct logowner *, const char *path,
	    uint32_t gen, int ok, uint32_t max_files, uint32_t *nextp,
	    char *err, size_t errlen);

#endif /* APM2_LOGFS_H */
