/* SPDX-License-Identifier: ISC */
/*
 * test_logfile.c -- log destination files (supervisor/logfile.c): modes
 * and owners, byte-exact raw writes, the timestamp prefix and its format,
 * size and time rotation, generations, gzip compression by a child,
 * write errors counted per episode, and files closed and asked for
 * again.  Each test works in its own mkdtemp
 * directory under /tmp, removed afterwards.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "logger/logfile.h"
#include "supervisor/logstore.h"
#include "unit.h"

static char	dir[64];
static char	logpath[128];

static int	 setup(void **);
static int	 teardown(void **);
static char	*slurp(const char *, size_t *);
static int	 exists(const char *);
static void	 gen(char *, size_t, int, int);
static struct timespec utc(int, int, int, int, int, int, long);
static void	 lc_init(struct log_config *, int, uint64_t, uint32_t, int,
		    enum rotation_mode);
static struct logfile *open_ok(const struct log_config *);
static int	 wait_child(pid_t, int *);
static char	*gunzip(const char *, size_t *);
static int	 have_gzip(void);
static void	 compress_wait(struct logfile *);
static size_t	 fifo_lines(int);
static void	 want_gz(int, const char *);
static void	 write_rotate(struct logfile *, const char *);

static int
setup(void **state)
{
	strlcpy(dir, "/tmp/test_logfile.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return (-1);
	snprintf(logpath, sizeof(logpath), "%s/x.log", dir);
	logstore_set_gzip(NULL);
	return (0);
}

static int
teardown(void **state)
{
	rm_tree(dir);
	return (0);
}

static char *
slurp(const char *path, size_t *lenp)
{
	char	*buf = NULL;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	fd = open(path, O_RDONLY);
	if (fd == -1)
		fail_msg("open %s: %s", path, strerror(errno));
	for (;;) {
		buf = realloc(buf, len + 65536 + 1);
		assert_non_null(buf);
		n = read(fd, buf + len, 65536);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

static int
exists(const char *path)
{
	struct stat	st;

	return (lstat(path, &st) == 0);
}

/* Name of generation i of x.log (0: x.log itself). */
static void
gen(char *buf, size_t len, int i, int gz)
{
	if (i == 0)
		snprintf(buf, len, "%s", logpath);
	else
		snprintf(buf, len, "%s.%d%s", logpath, i, gz ? ".gz" : "");
}

static struct timespec
utc(int y, int mo, int d, int h, int mi, int s, long ns)
{
	struct tm	tm;
	struct timespec	ts;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	ts.tv_sec = timegm(&tm);
	ts.tv_nsec = ns;
	return (ts);
}

static void
lc_init(struct log_config *lc, int ts, uint64_t max_size, uint32_t max_files,
    int compress, enum rotation_mode mode)
{
	memset(lc, 0, sizeof(*lc));
	lc->timestamp = ts;
	lc->timestamp_format = CONFIG_DEFAULT_TIMESTAMP_FORMAT;
	lc->redact = 1;
	lc->rotation_present = 1;
	lc->rotation.max_size = max_size;
	lc->rotation.max_files = max_files;
	lc->rotation.compress = compress;
	lc->rotation.mode = mode;
}

/*
 * The file as the daemon has it: the supervisor's store (paths,
 * rotation, compression) and the logger's writer, which asks the store
 * to rotate and gets the new descriptor at once.
 */
#define TLF_MAX	8
static struct {
	struct logfile	*lf;
	struct logstore	*ls;
}		 tlfs[TLF_MAX];

static int
tlf_rotate(void *arg, int reopen, char *err, size_t errlen)
{
	if (reopen)
		return (logstore_reopen(arg, err, errlen));
	return (logstore_rotate(arg, err, errlen));
}

static struct logfile *
tlf_open(const char *path, const struct log_config *lc,
    const struct logowner *o, char *err, size_t errlen)
{
	struct logfile_fdinfo	 fi;
	struct logstore		*ls;
	struct logfile		*lf;
	int			 fd, i;

	if ((ls = logstore_open(path, lc, o, &fd, err, errlen)) == NULL)
		return (NULL);
	assert_int_equal(logfile_fdinfo(fd, &fi), 0);
	if ((lf = logfile_new(fd, &fi, lc, tlf_rotate, ls, err, errlen)) ==
	    NULL) {
		logstore_close(ls);
		return (NULL);
	}
	for (i = 0; i < TLF_MAX && tlfs[i].lf != NULL; i++)
		;
	assert_true(i < TLF_MAX);
	tlfs[i].lf = lf;
	tlfs[i].ls = ls;
	return (lf);
}

static struct logstore *
tlf_store(struct logfile *lf)
{
	int	i;

	for (i = 0; i < TLF_MAX; i++)
		if (tlfs[i].lf == lf)
			return (tlfs[i].ls);
	fail_msg("no store for this file");
	return (NULL);
}

static void
tlf_close(struct logfile *lf)
{
	int	i;

	for (i = 0; i < TLF_MAX; i++)
		if (tlfs[i].lf == lf) {
			logstore_close(tlfs[i].ls);
			tlfs[i].lf = NULL;
			tlfs[i].ls = NULL;
		}
	logfile_close(lf);
}

/* The path anew, as after logrotate moved the file. */
static int
tlf_reopen(struct logfile *lf, char *err, size_t errlen)
{
	struct logfile_fdinfo	fi;
	int			fd;

	if ((fd = logstore_reopen(tlf_store(lf), err, errlen)) == -1)
		return (-1);
	assert_int_equal(logfile_fdinfo(fd, &fi), 0);
	return (logfile_rotated(lf, fd, &fi));
}

/* The files' owner: this process, no user of its own. */
static const struct logowner *
me(void)
{
	static struct logowner	o;

	o.uid = getuid();
	o.gid = getgid();
	return (&o);
}

static struct logfile *
open_ok(const struct log_config *lc)
{
	struct logfile	*lf;
	char		 err[512];

	lf = tlf_open(logpath, lc, me(), err, sizeof(err));
	if (lf == NULL)
		fail_msg("logfile_open: %s", err);
	return (lf);
}

/* waitpid with a 10 s bound. */
static int
wait_child(pid_t pid, int *status)
{
	int	i;

	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return (0);
		usleep(10000);
	}
	return (-1);
}

/* Decompress a file with the system's gzip. */
static char *
gunzip(const char *path, size_t *lenp)
{
	char	 cmd[PATH_MAX + 32], *buf = NULL;
	size_t	 len = 0, n;
	FILE	*f;

	snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	for (;;) {
		buf = realloc(buf, len + 4096 + 1);
		assert_non_null(buf);
		if ((n = fread(buf + len, 1, 4096, f)) == 0)
			break;
		len += n;
	}
	assert_int_equal(pclose(f), 0);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

static int
have_gzip(void)
{
	return (access("/usr/bin/gzip", X_OK) == 0 ||
	    access("/bin/gzip", X_OK) == 0);
}

/* A compression child must be running: wait for it and reap it. */
static void
compress_wait(struct logfile *lf)
{
	pid_t	pid;
	int	status;

	pid = logstore_compress_pid(tlf_store(lf));
	assert_true(pid > 0);
	assert_int_equal(wait_child(pid, &status), 0);
	assert_int_equal(logstore_reap(pid, status), 1);
}

/* Generation i is gzipped and holds text. */
static void
want_gz(int i, const char *text)
{
	char	 name[PATH_MAX], *got;
	size_t	 len;

	gen(name, sizeof(name), i, 1);
	got = gunzip(name, &len);
	assert_string_equal(got, text);
	free(got);
}

static void
write_rotate(struct logfile *lf, const char *text)
{
	assert_int_equal(logfile_write_raw(lf, NULL, text, strlen(text)), 0);
	assert_int_equal(logfile_rotate(lf), LOGFILE_EV_ROTATED);
}

/* Parents created 0750 whatever the umask; a file in the way: ENOTDIR. */
static void
test_mkdirs(void **state)
{
	struct logfile	*lf;
	char		 p[PATH_MAX], err[512];
	struct stat	 st;
	mode_t		 old;

	old = umask(077);
	snprintf(p, sizeof(p), "%s/a/b//c/x.log", dir);
	lf = tlf_open(p, NULL, me(), err, sizeof(err));
	assert_non_null(lf);
	tlf_close(lf);
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, LOGFS_DIR_MODE);
	assert_int_equal(st.st_uid, getuid());
	/* Again: nothing to do. */
	snprintf(p, sizeof(p), "%s/a/b/c/x.log", dir);
	lf = tlf_open(p, NULL, me(), err, sizeof(err));
	assert_non_null(lf);
	tlf_close(lf);

	snprintf(p, sizeof(p), "%s/file", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/file/sub/x.log", dir);
	assert_null(tlf_open(p, NULL, me(), err, sizeof(err)));
	assert_non_null(strstr(err, "Not a directory"));
	umask(old);
}

/* 0640 whatever the umask, on every open; the owner's or refused. */
static void
test_mode_owner(void **state)
{
	struct logfile	*lf;
	struct logowner	 other = { .uid = 12345, .gid = 23456, .setid = 1 };
	struct stat	 st;
	char		 err[512], target[PATH_MAX];
	mode_t		 old;
	int		 fd;

	old = umask(077);
	lf = open_ok(NULL);
	assert_int_equal(stat(logpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, LOGFS_FILE_MODE);
	assert_int_equal(st.st_uid, getuid());
	tlf_close(lf);
	umask(old);

	/* An existing file is made 0640: others lose read too. */
	assert_int_equal(chmod(logpath, 0666), 0);
	lf = open_ok(NULL);
	assert_int_equal(stat(logpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, LOGFS_FILE_MODE);
	tlf_close(lf);

	/* A second link: refused, the file left as it was. */
	snprintf(target, sizeof(target), "%s/link", dir);
	assert_int_equal(link(logpath, target), 0);
	assert_int_equal(chmod(logpath, 0604), 0);
	assert_null(tlf_open(logpath, NULL, me(), err, sizeof(err)));
	assert_non_null(strstr(err, "2 links"));
	assert_int_equal(stat(logpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_int_equal(unlink(target), 0);
	assert_int_equal(unlink(logpath), 0);

	if (geteuid() == 0) {
		/* In a directory only root can change: made for the user. */
		lf = tlf_open(logpath, NULL, &other, err, sizeof(err));
		assert_non_null(lf);
		assert_int_equal(stat(logpath, &st), 0);
		assert_int_equal(st.st_uid, 12345);
		assert_int_equal(st.st_gid, 23456);
		tlf_close(lf);
		/* Someone else's file is never taken over nor chowned. */
		assert_null(tlf_open(logpath, NULL, me(), err,
		    sizeof(err)));
		assert_non_null(strstr(err, "belongs to uid 12345"));
		assert_int_equal(stat(logpath, &st), 0);
		assert_int_equal(st.st_uid, 12345);
		assert_int_equal(unlink(logpath), 0);
	}

	/* A final symbolic link is refused; its target is left alone. */
	snprintf(target, sizeof(target), "%s/target", dir);
	fd = open(target, O_CREAT | O_WRONLY, 0600);
	assert_true(fd != -1);
	close(fd);
	assert_int_equal(symlink(target, logpath), 0);
	lf = tlf_open(logpath, NULL, me(), err, sizeof(err));
	assert_null(lf);
	assert_non_null(strstr(err, "x.log"));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/*
 * Directories others can change are refused for the daemon's own
 * processes: a group-writable one, one reached through a symbolic link
 * that lies in such a directory, one in a sticky directory that belongs
 * to someone else.  A sticky directory whose entry is ours is crossed.
 */
static void
test_untrusted_dirs(void **state)
{
	struct logfile	*lf;
	char		 p[PATH_MAX], q[PATH_MAX], err[512];
	struct stat	 st;

	snprintf(p, sizeof(p), "%s/gw", dir);
	assert_int_equal(mkdir(p, 0770), 0);
	assert_int_equal(chmod(p, 0770), 0);
	snprintf(q, sizeof(q), "%s/gw/x.log", dir);
	assert_null(tlf_open(q, NULL, me(), err, sizeof(err)));
	assert_non_null(strstr(err, "writable by others"));
	assert_int_equal(lstat(q, &st), -1);
	/* Nothing is made there either. */
	snprintf(q, sizeof(q), "%s/gw/new/x.log", dir);
	assert_null(tlf_open(q, NULL, me(), err, sizeof(err)));
	assert_non_null(strstr(err, "changed by others"));
	snprintf(q, sizeof(q), "%s/gw/new", dir);
	assert_int_equal(lstat(q, &st), -1);

	/* gw/real is ours and 0750, but gw/ln -> real can be swapped. */
	snprintf(p, sizeof(p), "%s/gw/real", dir);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/gw/ln", dir);
	assert_int_equal(symlink("real", p), 0);
	snprintf(q, sizeof(q), "%s/gw/ln/x.log", dir);
	assert_null(tlf_open(q, NULL, me(), err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
	snprintf(q, sizeof(q), "%s/gw/real/x.log", dir);
	assert_null(tlf_open(q, NULL, me(), err, sizeof(err)));
	assert_non_null(strstr(err, "changed by others"));

	/* A symbolic link in a trusted directory is followed. */
	snprintf(p, sizeof(p), "%s/mine", dir);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/alias", dir);
	assert_int_equal(symlink("mine", p), 0);
	snprintf(q, sizeof(q), "%s/alias/x.log", dir);
	lf = tlf_open(q, NULL, me(), err, sizeof(err));
	assert_non_null(lf);
	tlf_close(lf);
	snprintf(q, sizeof(q), "%s/mine/x.log", dir);
	assert_int_equal(lstat(q, &st), 0);

	/* Sticky and world-writable, like /tmp: our entry is crossed. */
	snprintf(p, sizeof(p), "%s/sticky", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, 01777), 0);
	snprintf(q, sizeof(q), "%s/sticky/sub/x.log", dir);
	lf = tlf_open(q, NULL, me(), err, sizeof(err));
	assert_non_null(lf);
	tlf_close(lf);
	snprintf(q, sizeof(q), "%s/sticky/x.log", dir);
	assert_null(tlf_open(q, NULL, me(), err, sizeof(err)));
	assert_non_null(strstr(err, "writable by others"));
}

/* Timestamps off: every byte as given, through buffer and direct path. */
static void
test_raw_exact(void **state)
{
	struct logfile	*lf;
	struct log_config lc;
	char		*data, *got;
	size_t		 n = 3 * LOGFILE_BUFSZ + 12345, off, k, len;
	unsigned	 seed = 1;

	data = malloc(n);
	assert_non_null(data);
	for (off = 0; off < n; off++)
		data[off] = (char)(off * 131 + (off >> 8));
	lc_init(&lc, 0, UINT64_MAX / 2, 3, 0, ROTATE_SIZE);
	lf = open_ok(&lc);
	for (off = 0; off < n; off += k) {
		seed = seed * 1103515245 + 12345;
		k = (seed >> 8) % (2 * LOGFILE_DIRECT_MIN);
		if (off % 7 == 0)
			k = LOGFILE_BUFSZ + 1;
		if (k > n - off)
			k = n - off;
		assert_int_equal(logfile_write_raw(lf, NULL, data + off, k), 0);
		if (off % 3 == 0)
			assert_int_equal(logfile_flush(lf), 0);
	}
	/* Lines: the newline only when asked for. */
	assert_int_equal(logfile_write_line(lf, LOGFILE_STDOUT, NULL, "ab", 2,
	    1), 0);
	assert_int_equal(logfile_write_line(lf, LOGFILE_STDERR, NULL, "c\0d",
	    3, 0), 0);
	assert_int_equal(logfile_write_line(lf, LOGFILE_STDOUT, NULL, "e", 1,
	    1), 0);
	assert_int_equal(logfile_size(lf), n + 8);
	assert_int_equal(logfile_lost_bytes(lf), 0);
	tlf_close(lf);
	got = slurp(logpath, &len);
	assert_int_equal(len, n + 8);
	assert_memory_equal(got, data, n);
	assert_memory_equal(got + n, "ab\nc\0de\n", 8);
	free(got);
	free(data);
}

/* "[<time>] [stdout] line", byte for byte, default format. */
static void
test_timestamp_lines(void **state)
{
	struct logfile	*lf;
	struct log_config lc;
	struct timespec	 t1, t2;
	char		*got;
	size_t		 len;
	const char	*want =
	    "[2026-01-25 13:12:44.123] [stdout] hello\n"
	    "[2026-01-25 13:12:44.999] [stderr] oops\n"
	    "[2026-01-25 13:12:45.000] [stdout] cut\n"
	    "[2026-01-25 13:12:45.000] [stdout] \n";

	lc_init(&lc, 1, 1 << 20, 3, 0, ROTATE_SIZE);
	lf = open_ok(&lc);
	t1 = utc(2026, 1, 25, 13, 12, 44, 123456789);
	assert_int_equal(logfile_write_line(lf, LOGFILE_STDOUT, &t1, "hello",
	    5, 1), 0);
	t1.tv_nsec = 999999999;		/* truncated, never rounded up */
	assert_int_equal(logfile_write_line(lf, LOGFILE_STDERR, &t1, "oops",
	    4, 1), 0);
	t2 = utc(2026, 1, 25, 13, 12, 45, 0);
	assert_int_equal(logfile_write_line(lf, LOGFILE_STDOUT, &t2, "cut", 3,
	    0), 0);
	assert_int_equal(logfile_write_line(lf, LOGFILE_STDOUT, &t2, "", 0,
	    1), 0);
	assert_int_equal(logfile_flush(lf), 0);
	got = slurp(logpath, &len);
	assert_string_equal(got, want);
	assert_int_equal(logfile_size(lf), strlen(want));
	free(got);
	tlf_close(lf);

	/* Another format, chrono extensions mixed with strftime. */
	assert_int_equal(unlink(logpath), 0);
	lc.timestamp_format = "%s%.6f %H:%M %Z";
	lf = open_ok(&lc);
	assert_int_equal(logfile_write_line(lf, LOGFILE_STDOUT, &t2, "x", 1,
	    1), 0);
	tlf_close(lf);
	got = slurp(logpath, &len);
	assert_string_equal(got, "[1769346765.000000 13:12 UTC] [stdout] x\n");
	free(got);
}

/* Chrono's additions on top of strftime. */
static void
test_strftime_ext(void **state)
{
	static const struct {
		const char	*fmt;
		long		 ns;
		const char	*want;
	} t[] = {
		{ "%Y-%m-%d %H:%M:%S%.3f", 123456789,
		    "2026-01-25 13:12:44.123" },
		{ "%.6f|%.9f", 1234567, ".001234|.001234567" },
		{ "%3f|%6f|%9f|%f", 5000, "000|000005|000005000|000005000" },
		{ "%.f", 0, "" },
		{ "%.f", 5000000, ".005" },
		{ "%.f", 5000, ".000005" },
		{ "%.f", 5, ".000000005" },
		{ "%s", 0, "1769346764" },
		{ "%Z %z %:z %::z %:::z", 0, "UTC +0000 +00:00 +00:00:00 +00" },
		{ "%+", 250000000, "2026-01-25T13:12:44.250+00:00" },
		{ "100%% at %H%", 0, "100% at 13%" },
		{ "plain", 0, "plain" },
		{ "", 0, "" },
		{ "%A %B %j", 0, "Sunday January 025" },
	};
	struct timespec	ts;
	char		buf[LOGFILE_TS_MAX], err[256], longfmt[200];
	size_t		i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ts = utc(2026, 1, 25, 13, 12, 44, t[i].ns);
		assert_int_equal(logfile_strftime(t[i].fmt, &ts, buf,
		    sizeof(buf)), (int)strlen(t[i].want));
		if (strcmp(buf, t[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", t[i].fmt,
			    buf, t[i].want);
	}
	/* Too small a buffer. */
	assert_int_equal(logfile_strftime("%Y-%m-%d", &ts, buf, 10), -1);
	assert_int_equal(logfile_strftime("%Y-%m-%d", &ts, buf, 11), 10);

	/* Output over LOGFILE_TS_MAX is refused, at check and at open. */
	assert_int_equal(logfile_format_check(CONFIG_DEFAULT_TIMESTAMP_FORMAT,
	    err, sizeof(err)), 0);
	memset(longfmt, 0, sizeof(longfmt));
	for (i = 0; i + 3 < sizeof(longfmt); i += 2)
		memcpy(longfmt + i, "%c", 2);
	assert_int_equal(logfile_format_check(longfmt, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	{
		struct log_config	lc;

		lc_init(&lc, 1, 100, 1, 0, ROTATE_SIZE);
		lc.timestamp_format = longfmt;
		assert_null(tlf_open(logpath, &lc, me(), err,
		    sizeof(err)));
		assert_non_null(strstr(err, "longer than"));
	}
}

/* Size rotation at the exact boundary; generations shift; oldest goes. */
static void
test_size_rotation(void **state)
{
	struct logfile	*lf;
	struct log_config lc;
	char		 line[200], name[PATH_MAX], *got;
	size_t		 len;
	int		 i, ev;

	lc_init(&lc, 0, 100, 3, 0, ROTATE_SIZE);
	lf = open_ok(&lc);
	/* 4 x 25 bytes: exactly 100, no rotation. */
	for (i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "line %02d 4567890123456789", i);
		assert_int_equal(strlen(line), 24);
		assert_int_equal(logfile_write_line(lf, 0, NULL, line, 24, 1),
		    0);
	}
	gen(name, sizeof(name), 1, 0);
	assert_false(exists(name));
	assert_int_equal(logfile_size(lf), 100);
	/* One more byte would cross: rotate first. */
	ev = logfile_write_line(lf, 0, NULL, "z", 1, 0);
	assert_int_equal(ev, LOGFILE_EV_ROTATED);
	assert_int_equal(logfile_size(lf), 1);
	got = slurp(name, &len);
	assert_int_equal(len, 100);
	assert_memory_equal(got, "line 00 4567890123456789\n", 25);
	free(got);

	/* A 150-byte line: rotates, then goes whole into the new file. */
	memset(line, 'L', 150);
	assert_int_equal(logfile_write_line(lf, 0, NULL, line, 149, 1),
	    LOGFILE_EV_ROTATED);
	assert_int_equal(logfile_size(lf), 150);
	/* Past the limit already: the next write rotates. */
	assert_int_equal(logfile_write_line(lf, 0, NULL, "a", 1, 1),
	    LOGFILE_EV_ROTATED);
	assert_int_equal(logfile_flush(lf), 0);
	/* x.log "a\n", .1 the big line, .2 "z", .3 the first 100 bytes. */
	got = slurp(logpath, &len);
	assert_string_equal(got, "a\n");
	free(got);
	gen(name, sizeof(name), 1, 0);
	got = slurp(name, &len);
	assert_int_equal(len, 150);
	free(got);
	gen(name, sizeof(name), 2, 0);
	got = slurp(name, &len);
	assert_string_equal(got, "z");
	free(got);
	gen(name, sizeof(name), 3, 0);
	got = slurp(name, &len);
	assert_int_equal(len, 100);
	free(got);
	/* One more rotation: the oldest (100 bytes) is dropped. */
	assert_int_equal(logfile_rotate(lf), LOGFILE_EV_ROTATED);
	gen(name, sizeof(name), 4, 0);
	assert_false(exists(name));
	gen(name, sizeof(name), 3, 0);
	got = slurp(name, &len);
	assert_string_equal(got, "z");
	free(got);
	gen(name, sizeof(name), 1, 0);
	got = slurp(name, &len);
	assert_string_equal(got, "a\n");
	free(got);
	assert_int_equal(logfile_size(lf), 0);
	/* An empty file is not rotated. */
	assert_int_equal(logfile_rotate(lf), 0);
	tlf_close(lf);

	/* Reopened: the size of the existing file counts. */
	assert_int_equal(truncate(logpath, 0), 0);
	{
		int	fd = open(logpath, O_WRONLY | O_APPEND);

		assert_int_equal(write(fd, line, 90), 90);
		close(fd);
	}
	lf = open_ok(&lc);
	assert_int_equal(logfile_size(lf), 90);
	assert_int_equal(logfile_write_line(lf, 0, NULL, line, 20, 1),
	    LOGFILE_EV_ROTATED);
	tlf_close(lf);
}

/* Raw writes end a full file at its last newline; nothing is lost. */
static void
test_raw_rotation(void **state)
{
	struct logfile	*lf;
	struct log_config lc;
	char		 name[PATH_MAX], *data, *all, *got;
	size_t		 n = 1000, off, k, len, total = 0;
	int		 i;

	data = malloc(n);
	all = malloc(2 * n);
	assert_non_null(data);
	assert_non_null(all);
	for (off = 0; off < n; off++)
		data[off] = off % 37 == 36 ? '\n' : (char)('a' + off % 26);
	memset(data + 600, 'N', 400);	/* no newline for 400 bytes */
	lc_init(&lc, 0, 100, 50, 0, ROTATE_SIZE);
	lf = open_ok(&lc);
	for (off = 0; off < n; off += k) {
		k = 1 + (off * 7) % 90;
		if (k > n - off)
			k = n - off;
		(void)logfile_write_raw(lf, NULL, data + off, k);
	}
	tlf_close(lf);
	/* Oldest first, every file within the limit. */
	for (i = 50; i >= 0; i--) {
		gen(name, sizeof(name), i, 0);
		if (!exists(name))
			continue;
		got = slurp(name, &len);
		assert_true(len <= 100);
		memcpy(all + total, got, len);
		total += len;
		free(got);
	}
	assert_int_equal(total, n);
	assert_memory_equal(all, data, n);

	/*
	 * 20 bytes in the file, then 150 with newlines after 50 and 120:
	 * the file ends after the first newline (71 bytes), the rest (99)
	 * starts the next.  Then 250 bytes without a newline: hard cuts.
	 */
	rm_tree(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	lf = open_ok(&lc);
	memset(data, 'a', 20);
	assert_int_equal(logfile_write_raw(lf, NULL, data, 20), 0);
	memset(data, 'b', 150);
	data[50] = '\n';
	data[120] = '\n';
	assert_int_equal(logfile_write_raw(lf, NULL, data, 150),
	    LOGFILE_EV_ROTATED);
	assert_int_equal(logfile_size(lf), 99);
	assert_int_equal(logfile_rotate(lf), LOGFILE_EV_ROTATED);
	memset(data, 'c', 250);
	assert_int_equal(logfile_write_raw(lf, NULL, data, 250),
	    LOGFILE_EV_ROTATED);
	assert_int_equal(logfile_size(lf), 50);
	tlf_close(lf);
	for (i = 4; i >= 0; i--) {
		static const size_t	want[] = { 50, 100, 100, 99, 71 };

		gen(name, sizeof(name), i, 0);
		got = slurp(name, &len);
		assert_int_equal(len, want[i]);
		free(got);
	}
	free(all);
	free(data);
}

/* Daily and hourly rotation at the UTC boundary, injected times. */
static void
test_time_rotation(void **state)
{
	struct logfile	*lf;
	struct log_config lc;
	struct timespec	 t;
	struct timeval	 tv[2];
	char		 name[PATH_MAX], *got;
	size_t		 len;

	lc_init(&lc, 0, 1 << 20, 5, 0, ROTATE_DAILY);
	lf = open_ok(&lc);
	t = utc(2026, 1, 25, 23, 59, 59, 999999999);
	assert_int_equal(logfile_write_line(lf, 0, &t, "day1", 4, 1), 0);
	t = utc(2026, 1, 25, 0, 0, 0, 0);
	assert_int_equal(logfile_write_line(lf, 0, &t, "day1b", 5, 1), 0);
	t = utc(2026, 1, 26, 0, 0, 0, 0);
	assert_int_equal(logfile_write_raw(lf, &t, "day2\n", 5),
	    LOGFILE_EV_ROTATED);
	t = utc(2026, 1, 26, 23, 0, 0, 0);
	assert_int_equal(logfile_write_line(lf, 0, &t, "day2b", 5, 1), 0);
	tlf_close(lf);
	gen(name, sizeof(name), 1, 0);
	got = slurp(name, &len);
	assert_string_equal(got, "day1\nday1b\n");
	free(got);
	got = slurp(logpath, &len);
	assert_string_equal(got, "day2\nday2b\n");
	free(got);

	/* A file left from an earlier day rotates at the first write. */
	tv[0].tv_sec = tv[1].tv_sec = utc(2026, 1, 26, 12, 0, 0, 0).tv_sec;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(logpath, tv), 0);
	lf = open_ok(&lc);
	t = utc(2026, 1, 27, 1, 0, 0, 0);
	assert_int_equal(logfile_write_line(lf, 0, &t, "day3", 4, 1),
	    LOGFILE_EV_ROTATED);
	/* max_size still caps a file in time modes. */
	tlf_close(lf);
	lc.rotation.max_size = 10;
	lf = open_ok(&lc);
	assert_int_equal(logfile_write_line(lf, 0, &t, "day3b", 5, 1),
	    LOGFILE_EV_ROTATED);
	tlf_close(lf);
	gen(name, sizeof(name), 3, 0);
	got = slurp(name, &len);
	assert_string_equal(got, "day1\nday1b\n");
	free(got);

	/* Hourly. */
	rm_tree(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	lc_init(&lc, 1, 1 << 20, 5, 0, ROTATE_HOURLY);
	lf = open_ok(&lc);
	t = utc(2026, 1, 25, 13, 59, 59, 500000000);
	assert_int_equal(logfile_write_line(lf, 0, &t, "a", 1, 1), 0);
	t = utc(2026, 1, 25, 13, 0, 0, 0);
	assert_int_equal(logfile_write_line(lf, 0, &t, "b", 1, 1), 0);
	t = utc(2026, 1, 25, 14, 0, 0, 1000000);
	assert_int_equal(logfile_write_line(lf, 1, &t, "c", 1, 1),
	    LOGFILE_EV_ROTATED);
	tlf_close(lf);
	gen(name, sizeof(name), 1, 0);
	got = slurp(name, &len);
	assert_string_equal(got, "[2026-01-25 13:59:59.500] [stdout] a\n"
	    "[2026-01-25 13:00:00.000] [stdout] b\n");
	free(got);
	got = slurp(logpath, &len);
	assert_string_equal(got, "[2026-01-25 14:00:00.001] [stderr] c\n");
	free(got);
}

/* Rotated generations are gzipped by a child; names follow the shifts. */
static void
test_compress(void **state)
{
	struct logfile	*lf;
	struct log_config lc;
	struct stat	 st;
	char		 name[PATH_MAX], tmp[PATH_MAX], *got;
	size_t		 len;
	pid_t		 pid;
	int		 status, ev;

	if (!have_gzip()) {
		print_message("gzip not installed: compression not tested\n");
		skip();
	}
	assert_int_equal(logstore_reap(1, 0), 0);	/* not ours */
	lc_init(&lc, 0, 1 << 20, 3, 1, ROTATE_SIZE);
	lf = open_ok(&lc);
	assert_int_equal(logstore_compress_pid(tlf_store(lf)), -1);
	write_rotate(lf, "first\n");
	compress_wait(lf);
	assert_int_equal(logstore_compress_pid(tlf_store(lf)), -1);
	gen(name, sizeof(name), 1, 0);
	assert_false(exists(name));
	gen(name, sizeof(name), 1, 1);
	assert_int_equal(stat(name, &st), 0);
	assert_int_equal(st.st_mode & 07777, LOGFS_FILE_MODE);
	got = gunzip(name, &len);
	assert_string_equal(got, "first\n");
	free(got);
	snprintf(tmp, sizeof(tmp), "%s/x.log.gz.tmp", dir);
	assert_false(exists(tmp));

	/* Rotate twice before reaping: the job follows its generation. */
	write_rotate(lf, "second\n");
	pid = logstore_compress_pid(tlf_store(lf));
	assert_true(pid > 0);
	write_rotate(lf, "third\n");
	/* One child at a time. */
	assert_int_equal(logstore_compress_pid(tlf_store(lf)), pid);
	assert_int_equal(wait_child(pid, &status), 0);
	assert_int_equal(logstore_reap(pid, status), 1);
	/* "second" is .2 now and was compressed there; "third" is next. */
	want_gz(2, "second\n");
	want_gz(3, "first\n");
	compress_wait(lf);
	want_gz(1, "third\n");
	gen(name, sizeof(name), 1, 0);
	assert_false(exists(name));

	/* The oldest .gz is dropped on the next rotation. */
	write_rotate(lf, "fourth\n");
	gen(name, sizeof(name), 4, 1);
	assert_false(exists(name));
	want_gz(3, "second\n");

	/* Closing kills the child; the next open compresses again. */
	pid = logstore_compress_pid(tlf_store(lf));
	assert_true(pid > 0);
	tlf_close(lf);
	assert_int_equal(wait_child(pid, &status), 0);
	assert_int_equal(logstore_reap(pid, status), 1);
	lf = open_ok(&lc);
	gen(name, sizeof(name), 1, 0);
	if (exists(name)) {
		pid = logstore_compress_pid(tlf_store(lf));
		assert_true(pid > 0);
		assert_int_equal(wait_child(pid, &status), 0);
		assert_int_equal(logstore_reap(pid, status), 1);
	}
	assert_false(exists(name));
	want_gz(1, "fourth\n");

	/* A gzip that fails: reported, its output removed, file kept. */
	logstore_set_gzip("/bin/false");
	write_rotate(lf, "fifth\n");
	compress_wait(lf);
	ev = logfile_flush(lf);
	assert_int_equal(ev, 0);
	assert_non_null(strstr(logstore_error(tlf_store(lf)), "status 1"));
	assert_false(exists(tmp));
	gen(name, sizeof(name), 1, 0);
	got = slurp(name, &len);
	assert_string_equal(got, "fifth\n");
	free(got);
	/* No gzip at all. */
	logstore_set_gzip("/nonexistent/gzip");
	assert_int_equal(logfile_write_raw(lf, NULL, "sixth\n", 6), 0);
	assert_int_equal(logfile_rotate(lf), LOGFILE_EV_ROTATED);
	assert_non_null(strstr(logstore_error(tlf_store(lf)), "no gzip"));
	tlf_close(lf);
}

/* A generation dropped while it is being compressed. */
static void
test_compress_dropped(void **state)
{
	struct logfile	*lf;
	struct log_config lc;
	char		 name[PATH_MAX];
	pid_t		 pid;
	int		 status;

	if (!have_gzip()) {
		print_message("gzip not installed: compression not tested\n");
		skip();
	}
	lc_init(&lc, 0, 1 << 20, 1, 1, ROTATE_SIZE);
	lf = open_ok(&lc);
	write_rotate(lf, "one\n");
	pid = logstore_compress_pid(tlf_store(lf));
	assert_true(pid > 0);
	write_rotate(lf, "two\n");
	assert_int_equal(wait_child(pid, &status), 0);
	assert_int_equal(logstore_reap(pid, status), 1);
	/* "one" is gone; "two" is being compressed now. */
	compress_wait(lf);
	want_gz(1, "two\n");
	gen(name, sizeof(name), 2, 1);
	assert_false(exists(name));
	gen(name, sizeof(name), 2, 0);
	assert_false(exists(name));
	tlf_close(lf);
}

/*
 * Read a FIFO dry: every line in it is 100 bytes ("f" * 99 + newline),
 * except a last "back\n".  The bytes read.
 */
static size_t
fifo_lines(int fd)
{
	static char	 acc[1 << 20];
	static size_t	 alen;
	char		*p, *nl;
	ssize_t		 n;
	size_t		 total = 0, k;

	while ((n = read(fd, acc + alen, sizeof(acc) - alen)) > 0) {
		alen += (size_t)n;
		total += (size_t)n;
		for (p = acc; (nl = memchr(p, '\n', alen - (size_t)(p - acc)))
		    != NULL; p = nl + 1) {
			k = (size_t)(nl - p) + 1;
			if (k == 5)
				assert_memory_equal(p, "back\n", 5);
			else
				assert_int_equal(k, 100);
		}
		memmove(acc, p, alen - (size_t)(p - acc));
		alen -= (size_t)(p - acc);
	}
	return (total);
}

/* An asynchronous rotator: asked, answers later (LOGFILE_PENDING). */
static int	pending_calls;

static int
pending_rotate(void *arg, int reopen, char *err, size_t errlen)
{
	pending_calls++;
	return (LOGFILE_PENDING);
}

static struct logfile *
open_pending(const char *path, uint64_t max_size)
{
	struct logfile_fdinfo	 fi;
	struct log_config	 lc;
	struct logfile		*lf;
	char			 err[256];
	int			 fd;

	lc_init(&lc, 0, max_size, 3, 0, ROTATE_SIZE);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	assert_true(fd != -1);
	assert_int_equal(logfile_fdinfo(fd, &fi), 0);
	lf = logfile_new(fd, &fi, &lc, pending_rotate, NULL, err,
	    sizeof(err));
	assert_non_null(lf);
	return (lf);
}

/*
 * A rotation that waits for its new file: what comes meanwhile is held,
 * written to the new file when it comes, to the old one when the
 * rotation fails or the file is closed; never lost, never twice.
 */
static void
test_pending_rotation(void **state)
{
	struct logfile_fdinfo	 fi;
	struct logfile		*lf;
	char			 a[PATH_MAX], b[PATH_MAX], *got;
	size_t			 len;
	int			 fd;

	snprintf(a, sizeof(a), "%s/a.log", dir);
	snprintf(b, sizeof(b), "%s/b.log", dir);
	pending_calls = 0;
	lf = open_pending(a, 100);
	/* 60 + 60 bytes of 10-byte lines: 100 fit, the rest waits. */
	assert_int_equal(logfile_write_raw(lf, NULL,
	    "000000000\n111111111\n222222222\n333333333\n444444444\n"
	    "555555555\n", 60), 0);
	assert_int_equal(logfile_write_raw(lf, NULL,
	    "666666666\n777777777\n888888888\n999999999\naaaaaaaaa\n"
	    "bbbbbbbbb\n", 60), 0);
	assert_int_equal(pending_calls, 1);
	assert_true(logfile_rotating(lf));
	assert_int_equal(logfile_write_line(lf, 0, NULL, "ccccccccc", 9, 1),
	    0);
	assert_int_equal(logfile_flush(lf), 0);
	assert_int_equal(pending_calls, 1);	/* asked once */
	got = slurp(a, &len);
	assert_int_equal(len, 100);
	free(got);
	/* The new file comes: what waited goes there, in order. */
	fd = open(b, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	assert_true(fd != -1);
	assert_int_equal(logfile_fdinfo(fd, &fi), 0);
	assert_int_equal(logfile_rotated(lf, fd, &fi), LOGFILE_EV_ROTATED);
	assert_false(logfile_rotating(lf));
	got = slurp(b, &len);
	assert_string_equal(got, "aaaaaaaaa\nbbbbbbbbb\nccccccccc\n");
	free(got);
	assert_int_equal(logfile_size(lf), 30);

	/* A failed rotation: what waited goes to the file it had. */
	assert_int_equal(logfile_write_raw(lf, NULL,
	    "ddddddddd\neeeeeeeee\nfffffffff\ngggggggggg\nhhhhhhhhh\n"
	    "iiiiiiiii\njjjjjjjjj\nkkkkkkkkk\n", 81), 0);
	assert_int_equal(pending_calls, 2);
	assert_int_equal(logfile_rotated(lf, -1, NULL),
	    LOGFILE_EV_ROTATE_FAIL);
	got = slurp(b, &len);
	assert_int_equal(len, 30 + 81);
	free(got);

	/* Closed while waiting: the old file takes the rest. */
	assert_int_equal(logfile_write_raw(lf, NULL, "lllllllll\n", 10), 0);
	assert_int_equal(logfile_write_raw(lf, NULL, "x", 0), 0);
	logfile_close(lf);
	got = slurp(b, &len);
	assert_int_equal(len, 30 + 81 + 10);
	free(got);
}

/* ENOSPC: counted, reported once per episode, never blocking. */
static void
test_write_errors(void **state)
{
	struct logfile	*lf;
	struct stat	 before, after;
	char		 err[256], buf[65536], fifo[PATH_MAX];
	size_t		 drained = 0;
	int		 i, ev, rfd;

	memset(buf, 'z', sizeof(buf));
	if (stat("/dev/full", &before) == -1) {
		print_message("no /dev/full: write errors not tested\n");
		skip();
	}
	lf = tlf_open("/dev/full", NULL, me(), err,
	    sizeof(err));
	assert_non_null(lf);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "abc", 3, 1), 0);
	assert_int_equal(logfile_flush(lf), LOGFILE_EV_FAIL);
	assert_int_equal(logfile_errno(lf), ENOSPC);
	assert_int_equal(logfile_lost_bytes(lf), 4);
	for (i = 0; i < 10; i++) {
		assert_int_equal(logfile_write_raw(lf, NULL, buf, 5000), 0);
		assert_int_equal(logfile_write_line(lf, 0, NULL, "x", 1, 0), 0);
		assert_int_equal(logfile_flush(lf), 0);
	}
	assert_int_equal(logfile_lost_bytes(lf), 4 + 10 * 5001);
	assert_int_equal(logfile_episode_lost(lf), 4 + 10 * 5001);
	/* Not a regular file: never rotated, chowned or chmodded. */
	assert_int_equal(logfile_rotate(lf), 0);
	tlf_close(lf);
	assert_int_equal(stat("/dev/full", &after), 0);
	assert_int_equal(before.st_mode, after.st_mode);
	assert_int_equal(before.st_uid, after.st_uid);

	/* A FIFO nobody drains: EAGAIN, then recovery when it is read. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rfd != -1);
	lf = tlf_open(fifo, NULL, me(), err, sizeof(err));
	assert_non_null(lf);
	/* Lines of 100 bytes, in chunks the pipe's room cuts inside one. */
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = i % 100 == 99 ? '\n' : 'f';
	ev = 0;
	for (i = 0; i < 64; i++)
		ev |= logfile_write_raw(lf, NULL, buf, 65500);
	ev |= logfile_flush(lf);
	assert_int_equal(ev, LOGFILE_EV_FAIL);
	assert_int_equal(logfile_errno(lf), EAGAIN);
	/* Whole lines only, then the rest of the line that was cut. */
	drained = fifo_lines(rfd);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "back", 4, 1), 0);
	assert_int_equal(logfile_flush(lf), LOGFILE_EV_RECOVER);
	drained += fifo_lines(rfd);
	assert_int_equal(drained + logfile_lost_bytes(lf), 64 * 65500 + 5);
	assert_int_equal(logfile_episode_lines(lf) * 100,
	    logfile_lost_bytes(lf));
	assert_int_equal(logfile_episode_lost(lf), logfile_lost_bytes(lf));
	tlf_close(lf);
	close(rfd);
}

/* What a closed file asked for: reopen, or rotate. */
static int	asked[2];

static int
ask_pending(void *arg, int reopen, char *err, size_t errlen)
{
	asked[reopen != 0]++;
	return (LOGFILE_PENDING);
}

/* The descriptor path would give now. */
static int
answer(struct logfile *lf, const char *path)
{
	struct logfile_fdinfo	fi;
	int			fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	assert_true(fd != -1);
	assert_int_equal(logfile_fdinfo(fd, &fi), 0);
	return (logfile_rotated(lf, fd, &fi));
}

/*
 * A file closed to save a descriptor keeps its state: the next output
 * asks for it again and waits meanwhile, then goes on at its end; a
 * rotation due while closed asks for the new file instead; a reopen
 * that fails loses what waited, counted, and is not asked again at once.
 */
static void
test_detach_reopen(void **state)
{
	struct logfile_fdinfo	 fi;
	struct log_config	 lc;
	struct logfile		*lf;
	char			 a[PATH_MAX], b[PATH_MAX], err[256], *got;
	size_t			 len;
	int			 fd;

	snprintf(a, sizeof(a), "%s/a.log", dir);
	snprintf(b, sizeof(b), "%s/b.log", dir);
	memset(asked, 0, sizeof(asked));
	lc_init(&lc, 0, 20, 3, 0, ROTATE_SIZE);
	fd = open(a, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	assert_true(fd != -1);
	assert_int_equal(logfile_fdinfo(fd, &fi), 0);
	lf = logfile_new(fd, &fi, &lc, ask_pending, NULL, err, sizeof(err));
	assert_non_null(lf);
	/* A raw piece of a line: the file is left inside it. */
	assert_int_equal(logfile_write_raw(lf, NULL, "one\ntw", 6), 0);
	assert_int_equal(logfile_detach(lf), 0);
	assert_false(logfile_isopen(lf));
	assert_false(logfile_rotating(lf));
	got = slurp(a, &len);
	assert_string_equal(got, "one\ntw");
	free(got);
	/* Output asks for it once; it waits, in order. */
	assert_int_equal(logfile_write_raw(lf, NULL, "o\n", 2), 0);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "three", 5, 1), 0);
	assert_int_equal(asked[1], 1);
	assert_int_equal(asked[0], 0);
	assert_true(logfile_rotating(lf));
	assert_int_equal(logfile_detach(lf), 0);	/* not while asked */
	assert_int_equal(answer(lf, a), 0);
	assert_true(logfile_isopen(lf));
	assert_false(logfile_rotating(lf));
	got = slurp(a, &len);
	assert_string_equal(got, "one\ntwo\nthree\n");
	free(got);
	assert_int_equal(logfile_size(lf), 14);

	/* Closed with 14 bytes of 20: 7 more rotate, asking for b. */
	assert_int_equal(logfile_detach(lf), 0);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "four!!", 6, 1), 0);
	assert_int_equal(asked[0], 1);
	assert_int_equal(asked[1], 1);
	assert_int_equal(answer(lf, b), LOGFILE_EV_ROTATED);
	got = slurp(b, &len);
	assert_string_equal(got, "four!!\n");
	free(got);
	got = slurp(a, &len);
	assert_int_equal(len, 14);
	free(got);

	/* A reopen that fails: lost, counted, errno 0; not asked again yet. */
	assert_int_equal(logfile_detach(lf), 0);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "five", 4, 1), 0);
	assert_int_equal(asked[1], 2);
	assert_int_equal(logfile_rotated(lf, -1, NULL), LOGFILE_EV_FAIL);
	assert_int_equal(logfile_errno(lf), 0);
	assert_int_equal(logfile_lost_bytes(lf), 5);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "six", 3, 1), 0);
	assert_int_equal(logfile_flush(lf), 0);
	assert_int_equal(asked[1], 2);
	assert_false(logfile_rotating(lf));
	assert_int_equal(logfile_lost_bytes(lf), 9);
	assert_int_equal(logfile_episode_lines(lf), 2);
	/* A descriptor that comes unasked is taken, and writing recovers. */
	assert_int_equal(answer(lf, b), 0);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "seven", 5, 1), 0);
	assert_int_equal(logfile_flush(lf), LOGFILE_EV_RECOVER);
	logfile_close(lf);
	got = slurp(b, &len);
	assert_string_equal(got, "four!!\nseven\n");
	free(got);
}

/*
 * A file known by its settings alone (a new logger's) is asked for at
 * its first output; what the descriptor says then counts: a file left
 * from an earlier day rotates before the output goes in.  Closed and
 * moved away meanwhile, a file is made again at its path.
 */
static void
test_reopen_unknown(void **state)
{
	struct log_config	 lc;
	struct logfile		*lf;
	struct timeval		 tv[2];
	char			 name[PATH_MAX], moved[PATH_MAX], err[256];
	char			*got;
	size_t			 len;
	int			 fd;

	memset(asked, 0, sizeof(asked));
	fd = open(logpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "old\n", 4), 4);
	close(fd);
	tv[0].tv_sec = tv[1].tv_sec = utc(2020, 1, 1, 12, 0, 0, 0).tv_sec;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(logpath, tv), 0);
	lc_init(&lc, 0, 1 << 20, 3, 0, ROTATE_DAILY);
	lf = logfile_new(-1, NULL, &lc, ask_pending, NULL, err, sizeof(err));
	assert_non_null(lf);
	assert_false(logfile_isopen(lf));
	assert_int_equal(logfile_write_line(lf, 0, NULL, "new", 3, 1), 0);
	assert_int_equal(asked[1], 1);
	assert_int_equal(asked[0], 0);
	/* The file is from 2020: writing what waited rotates it first. */
	assert_int_equal(answer(lf, logpath), 0);
	assert_int_equal(asked[0], 1);
	assert_true(logfile_rotating(lf));
	gen(name, sizeof(name), 1, 0);
	assert_int_equal(rename(logpath, name), 0);
	assert_int_equal(answer(lf, logpath), LOGFILE_EV_ROTATED);
	logfile_close(lf);
	got = slurp(name, &len);
	assert_string_equal(got, "old\n");
	free(got);
	got = slurp(logpath, &len);
	assert_string_equal(got, "new\n");
	free(got);

	/* With the supervisor's store: closed, moved, made again. */
	assert_int_equal(unlink(logpath), 0);
	lf = open_ok(NULL);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "before", 6, 1), 0);
	assert_int_equal(logfile_detach(lf), 0);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	assert_int_equal(rename(logpath, moved), 0);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "after", 5, 1), 0);
	assert_true(logfile_isopen(lf));
	tlf_close(lf);
	got = slurp(moved, &len);
	assert_string_equal(got, "before\n");
	free(got);
	got = slurp(logpath, &len);
	assert_string_equal(got, "after\n");
	free(got);
}

/* Reopen after an outside rename; the default cap without a table. */
static void
test_reopen_defaults(void **state)
{
	struct logfile	*lf;
	char		 moved[PATH_MAX], name[PATH_MAX], err[256], *got, *big;
	size_t		 len;
	int		 ev;

	lf = open_ok(NULL);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "old", 3, 1), 0);
	assert_int_equal(logfile_flush(lf), 0);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	assert_int_equal(rename(logpath, moved), 0);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "still", 5, 1), 0);
	assert_int_equal(tlf_reopen(lf, err, sizeof(err)), 0);
	assert_int_equal(logfile_size(lf), 0);
	assert_int_equal(logfile_write_line(lf, 0, NULL, "new", 3, 1), 0);
	assert_string_equal(logstore_path(tlf_store(lf)), logpath);
	tlf_close(lf);
	got = slurp(moved, &len);
	assert_string_equal(got, "old\nstill\n");
	free(got);
	got = slurp(logpath, &len);
	assert_string_equal(got, "new\n");
	free(got);

	/* No config: size rotation at LOGFILE_DEFAULT_MAX_SIZE. */
	big = malloc(LOGFILE_DEFAULT_MAX_SIZE);
	assert_non_null(big);
	memset(big, 'b', LOGFILE_DEFAULT_MAX_SIZE);
	big[LOGFILE_DEFAULT_MAX_SIZE - 1] = '\n';
	lf = open_ok(NULL);
	ev = logfile_write_raw(lf, NULL, big, LOGFILE_DEFAULT_MAX_SIZE - 4);
	assert_int_equal(ev, 0);
	ev = logfile_write_raw(lf, NULL, "1234\n", 5);
	assert_int_equal(ev, LOGFILE_EV_ROTATED);
	gen(name, sizeof(name), 1, 0);
	assert_true(exists(name));
	tlf_close(lf);
	free(big);

	/* /dev/null takes anything and never rotates. */
	{
		struct log_config	lc;
		char			zero[100];

		memset(zero, 0, sizeof(zero));
		lc_init(&lc, 0, 10, 1, 0, ROTATE_SIZE);
		lf = tlf_open("/dev/null", &lc, me(), err,
		    sizeof(err));
		assert_non_null(lf);
		assert_int_equal(logfile_write_raw(lf, NULL, zero, 100), 0);
		assert_int_equal(logfile_write_line(lf, 0, NULL, zero, 50, 1),
		    0);
		assert_int_equal(logfile_flush(lf), 0);
		assert_int_equal(logfile_size(lf), 151);
		tlf_close(lf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_dirs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mode_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_raw_exact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timestamp_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_strftime_ext, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_size_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_raw_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_time_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compress, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compress_dropped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pending_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen_defaults, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_detach_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen_unknown, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
