/* SPDX-License-Identifier: ISC */
/*
 * logfile.c -- log destination files: buffering, timestamps, rotation,
 * compression and error accounting (see logfile.h).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "logfile.h"
#include "sysutil.h"


enum seg_kind {
	SEG_STRF,		/* strftime(3) of the UTC time */
	SEG_EPOCH,		/* %s */
	SEG_FRAC		/* fractional seconds */
};

struct tsseg {
	enum seg_kind	 kind;
	char		*fmt;		/* SEG_STRF, with a sentinel 'x' */
	int		 digits;	/* SEG_FRAC: 3, 6, 9; 0 = %.f */
	int		 dot;
	size_t		 off, len;	/* rendered text in cache */
};

struct tsfmt {
	struct tsseg	*segs;
	size_t		 nsegs;
	int		 valid;		/* cache holds cached_sec */
	int		 broken;	/* cached_sec could not be rendered */
	time_t		 cached_sec;
	char		 cache[LOGFILE_TS_MAX];
};

struct logfile {
	int			 fd;
	int			 regular;
	logfile_rotate_cb	 rotate;
	void			*rarg;
	int			 rotating;	/* waiting for the new file */
	int			 reopening;	/* ... or for this one again */
	int64_t			 retry_ms;	/* failed reopen: not before */
	char			*pend;		/* what came meanwhile */
	size_t			 plen, pcap;
	int			 timestamp;
	struct tsfmt		 ts;
	/* the last line prefix: lines of one read share their time */
	int			 pre_valid;
	int			 pre_stream;
	struct timespec		 pre_ts;
	size_t			 pre_len;
	char			 pre[LOGFILE_TS_MAX + 16];
	enum rotation_mode	 mode;
	uint64_t		 max_size;
	uint64_t		 size;		/* file + buffer */
	uint64_t		 base;		/* size counts from here */
	int			 have_period;
	int64_t			 period;
	char			*buf;
	size_t			 blen;
	int			 ev;
	int			 in_episode;
	int			 midline;	/* the file ends inside a line */
	int			 skipping;	/* dropping a line to its end */
	int			 torn_open;	/* torn has no newline yet */
	char			*torn;		/* a line's rest, when needed */
	size_t			 tornlen;
	uint64_t		 lost_lines;
	uint64_t		 episode_lines;
	int			 err;
	uint64_t		 lost;
	uint64_t		 episode_lost;
	char			*errmsg;	/* the last failure's or NULL */
};


/* Every file's bytes, for the metrics (logfile_totals()). */
static uint64_t	total_written, total_lost;

static int	 seg_add(struct tsfmt *, enum seg_kind, const char *, size_t,
		    int, int);
static const struct tsconv *ts_conv(const char *);
static size_t	 ts_append(char *, size_t, const char *);
static int	 ts_compile(struct tsfmt *, const char *, char *, size_t);
static void	 ts_free(struct tsfmt *);
static int	 ts_render_sec(struct tsfmt *, time_t);
static int	 ts_render(struct tsfmt *, const struct timespec *, char *,
		    size_t);
static void	 lf_pend(struct logfile *, const char *, size_t);
static void	 lf_adopt(struct logfile *, int, const struct logfile_fdinfo *);
static void	 lf_reopen(struct logfile *);
static void	 lf_seterr(struct logfile *);

/* What a rotation callback says when it fails (the logger is one thread). */
static char	 errbuf[PATH_MAX + 128];
static void	 lf_drop(struct logfile *, const char *, size_t, int);
static void	 lf_hold(struct logfile *, const char *, size_t, int);
static int64_t	 period_of(const struct logfile *, time_t);
static void	 lf_emit(struct logfile *, const char *, size_t);
static void	 lf_put(struct logfile *, const char *, size_t);
static void	 lf_flush(struct logfile *);
static void	 lf_rotate(struct logfile *);
static void	 lf_time_check(struct logfile *, const struct timespec *);
static void	 lf_size_check(struct logfile *, uint64_t);
static int	 take_ev(struct logfile *);
static void	 now_if_null(const struct timespec **, struct timespec *);

/* Timestamp formats. */

static int
seg_add(struct tsfmt *t, enum seg_kind kind, const char *fmt, size_t flen,
    int digits, int dot)
{
	struct tsseg	*s;

	if (kind == SEG_STRF && flen == 0)
		return (0);
	if ((s = reallocarray(t->segs, t->nsegs + 1, sizeof(*s))) == NULL)
		return (-1);
	t->segs = s;
	s = &t->segs[t->nsegs];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->digits = digits;
	s->dot = dot;
	if (kind == SEG_STRF) {
		/* The sentinel tells an empty result from a failure. */
		if ((s->fmt = malloc(flen + 2)) == NULL)
			return (-1);
		memcpy(s->fmt, fmt, flen);
		s->fmt[flen] = 'x';
		s->fmt[flen + 1] = '\0';
	}
	t->nsegs++;
	return (0);
}

/*
 * chrono's conversions that strftime(3) lacks or spells otherwise, by
 * what follows the '%': text for strftime, then a segment we render
 * ourselves (none for SEG_STRF), then more text.  Times are UTC.
 */
static const struct tsconv {
	const char	*spec;
	const char	*pre;
	enum seg_kind	 kind;
	int		 digits;
	int		 dot;
	const char	*post;
} tsconvs[] = {
	{ "%",		"%%",		SEG_STRF,	0, 0, NULL },
	{ ".3f",	NULL,		SEG_FRAC,	3, 1, NULL },
	{ ".6f",	NULL,		SEG_FRAC,	6, 1, NULL },
	{ ".9f",	NULL,		SEG_FRAC,	9, 1, NULL },
	{ ".f",		NULL,		SEG_FRAC,	0, 1, NULL },
	{ "3f",		NULL,		SEG_FRAC,	3, 0, NULL },
	{ "6f",		NULL,		SEG_FRAC,	6, 0, NULL },
	{ "9f",		NULL,		SEG_FRAC,	9, 0, NULL },
	{ "f",		NULL,		SEG_FRAC,	9, 0, NULL },
	{ "s",		NULL,		SEG_EPOCH,	0, 0, NULL },
	{ "Z",		"UTC",		SEG_STRF,	0, 0, NULL },
	{ "z",		"+0000",	SEG_STRF,	0, 0, NULL },
	{ ":z",		"+00:00",	SEG_STRF,	0, 0, NULL },
	{ "::z",	"+00:00:00",	SEG_STRF,	0, 0, NULL },
	{ ":::z",	"+00",		SEG_STRF,	0, 0, NULL },
	{ "+",		"%Y-%m-%dT%H:%M:%S", SEG_FRAC,	0, 1, "+00:00" }
};

/* The conversion q (just after a '%') starts with, or NULL. */
static const struct tsconv *
ts_conv(const char *q)
{
	size_t	i;

	for (i = 0; i < sizeof(tsconvs) / sizeof(tsconvs[0]); i++)
		if (strncmp(q, tsconvs[i].spec, strlen(tsconvs[i].spec)) == 0)
			return (&tsconvs[i]);
	return (NULL);
}

static size_t
ts_append(char *cur, size_t n, const char *s)
{
	size_t	k;

	if (s == NULL)
		return (n);
	k = strlen(s);
	memcpy(cur + n, s, k);
	return (n + k);
}

/*
 * Split a chrono-style format into strftime(3) pieces and the parts we
 * render ourselves.  The render check is done by the callers.
 */
static int
ts_compile(struct tsfmt *t, const char *fmt, char *err, size_t errlen)
{
	const struct tsconv *c;
	char		*cur;
	size_t		 n = 0;
	const char	*p;

	memset(t, 0, sizeof(*t));
	/* Worst growth: "%+" becomes 23 bytes of strftime format. */
	if ((cur = malloc(strlen(fmt) * 12 + 1)) == NULL)
		goto nomem;
	for (p = fmt; *p != '\0'; ) {
		if (*p != '%') {
			cur[n++] = *p++;
			continue;
		}
		if (p[1] == '\0') {
			c = &tsconvs[0];	/* a lone '%' at the end */
			p++;
		} else if ((c = ts_conv(p + 1)) != NULL)
			p += 1 + strlen(c->spec);
		else {
			/* strftime's own conversion: copied through. */
			cur[n++] = *p++;
			continue;
		}
		n = ts_append(cur, n, c->pre);
		if (c->kind != SEG_STRF) {
			if (seg_add(t, SEG_STRF, cur, n, 0, 0) == -1 ||
			    seg_add(t, c->kind, NULL, 0, c->digits, c->dot) ==
			    -1)
				goto nomem;
			n = 0;
		}
		n = ts_append(cur, n, c->post);
	}
	if (seg_add(t, SEG_STRF, cur, n, 0, 0) == -1)
		goto nomem;
	free(cur);
	return (0);
 nomem:
	snprintf(err, errlen, "out of memory");
	ts_free(t);
	free(cur);
	return (-1);
}

static void
ts_free(struct tsfmt *t)
{
	size_t	i;

	for (i = 0; i < t->nsegs; i++)
		free(t->segs[i].fmt);
	free(t->segs);
	t->segs = NULL;
	t->nsegs = 0;
}

/*
 * Render the per-second parts into the cache.  Room is kept for every
 * fraction (10 bytes each) so a whole timestamp fits LOGFILE_TS_MAX.
 */
static int
ts_render_sec(struct tsfmt *t, time_t sec)
{
	struct tm	 tm;
	struct tsseg	*s;
	size_t		 i, used = 0, room, r;
	int		 w;

	t->valid = 1;
	t->cached_sec = sec;
	t->broken = 1;
	for (i = 0; i < t->nsegs; i++)
		if (t->segs[i].kind == SEG_FRAC)
			used += 10;
	if (used > sizeof(t->cache) || gmtime_r(&sec, &tm) == NULL)
		return (-1);
	room = sizeof(t->cache) - used;
	used = 0;
	for (i = 0; i < t->nsegs; i++) {
		s = &t->segs[i];
		s->off = used;
		s->len = 0;
		if (s->kind == SEG_STRF) {
			if (room - used < 2)
				return (-1);
			r = strftime(t->cache + used, room - used, s->fmt, &tm);
			if (r == 0)
				return (-1);
			s->len = r - 1;		/* the sentinel */
		} else if (s->kind == SEG_EPOCH) {
			w = snprintf(t->cache + used, room - used, "%lld",
			    (long long)sec);
			if (w < 0 || (size_t)w >= room - used)
				return (-1);
			s->len = (size_t)w;
		}
		used += s->len;
	}
	t->broken = 0;
	return (0);
}

/* The timestamp for ts into out (at least LOGFILE_TS_MAX bytes). */
static int
ts_render(struct tsfmt *t, const struct timespec *ts, char *out, size_t len)
{
	static const long pow10[] = { 1, 10, 100, 1000, 10000, 100000,
	    1000000, 10000000, 100000000 };
	struct tsseg	*s;
	size_t		 i, n = 0;
	long		 ns, v;
	int		 d, k;

	if (!t->valid || t->cached_sec != ts->tv_sec)
		(void)ts_render_sec(t, ts->tv_sec);
	if (t->broken)
		return (-1);
	ns = ts->tv_nsec;
	if (ns < 0 || ns > 999999999)
		ns = 0;
	for (i = 0; i < t->nsegs; i++) {
		s = &t->segs[i];
		if (s->kind != SEG_FRAC) {
			if (len - n < s->len)
				return (-1);
			memcpy(out + n, t->cache + s->off, s->len);
			n += s->len;
			continue;
		}
		d = s->digits;
		if (d == 0) {		/* %.f: as many digits as needed */
			if (ns == 0)
				continue;
			d = ns % 1000000 == 0 ? 3 : ns % 1000 == 0 ? 6 : 9;
		}
		if (len - n < (size_t)d + 1)
			return (-1);
		if (s->dot)
			out[n++] = '.';
		v = ns / pow10[9 - d];	/* truncated, as chrono does */
		for (k = d - 1; k >= 0; k--) {
			out[n + k] = (char)('0' + v % 10);
			v /= 10;
		}
		n += d;
	}
	return ((int)n);
}

int
logfile_format_check(const char *fmt, char *err, size_t errlen)
{
	/* A long weekday and month, and the turn of the epoch. */
	static const time_t	 samples[] = { 1632959999, 0 };
	struct tsfmt		 t;
	char			 buf[LOGFILE_TS_MAX];
	struct timespec		 ts;
	size_t			 i;

	if (ts_compile(&t, fmt, err, errlen) == -1)
		return (-1);
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		ts.tv_sec = samples[i];
		ts.tv_nsec = 123456789;
		if (ts_render(&t, &ts, buf, sizeof(buf)) == -1) {
			snprintf(err, errlen, "timestamp_format \"%s\" renders "
			    "longer than %d bytes", fmt, LOGFILE_TS_MAX);
			ts_free(&t);
			return (-1);
		}
	}
	ts_free(&t);
	return (0);
}

int
logfile_strftime(const char *fmt, const struct timespec *ts, char *buf,
    size_t len)
{
	struct tsfmt	 t;
	char		 tmp[LOGFILE_TS_MAX], err[64];
	int		 n;

	if (ts_compile(&t, fmt, err, sizeof(err)) == -1)
		return (-1);
	n = ts_render(&t, ts, tmp, sizeof(tmp));
	ts_free(&t);
	if (n == -1 || (size_t)n >= len)
		return (-1);
	memcpy(buf, tmp, (size_t)n);
	buf[n] = '\0';
	return (n);
}

/* Files. */

int
logfile_fdinfo(int fd, struct logfile_fdinfo *fi)
{
	struct stat	st;

	memset(fi, 0, sizeof(*fi));
	if (fstat(fd, &st) == -1)
		return (-1);
	fi->regular = S_ISREG(st.st_mode);
	if (fi->regular) {
		fi->size = (uint64_t)st.st_size;
		fi->mtime = st.st_mtime;
	}
	return (0);
}

void
logfile_setfd(struct logfile *lf, int fd, const struct logfile_fdinfo *fi)
{
	static const struct logfile_fdinfo none;

	if (fi == NULL)
		fi = &none;
	lf_flush(lf);
	/* The rest of a torn line belongs to the old file, if it is open. */
	if (lf->tornlen > 0 && (lf->fd == -1 ||
	    write(lf->fd, lf->torn, lf->tornlen) != (ssize_t)lf->tornlen))
		lf_drop(lf, lf->torn, lf->tornlen, lf->err);
	else if (lf->tornlen > 0)
		total_written += lf->tornlen;
	lf->tornlen = 0;
	lf->torn_open = lf->skipping = lf->midline = 0;
	if (lf->fd != -1)
		close(lf->fd);
	lf->fd = fd;
	lf->size = 0;
	lf->base = 0;
	lf->have_period = 0;
	lf->retry_ms = 0;
	lf->regular = fi->regular;
	if (lf->regular && fi->size > 0) {
		/* A file left from before counts from its mtime. */
		lf->size = fi->size;
		lf->have_period = 1;
		lf->period = period_of(lf, fi->mtime);
	}
}

struct logfile *
logfile_new(int fd, const struct logfile_fdinfo *fi,
    const struct log_config *lc, logfile_rotate_cb rotate, void *rarg,
    char *err, size_t errlen)
{
	struct logfile	*lf;
	const char	*fmt;

	if ((lf = calloc(1, sizeof(*lf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	/* The write buffer comes with the first output (lf_put). */
	lf->fd = -1;
	lf->rotate = rotate;
	lf->rarg = rarg;
	lf->mode = ROTATE_SIZE;
	lf->max_size = LOGFILE_DEFAULT_MAX_SIZE;
	if (lc != NULL) {
		lf->timestamp = lc->timestamp;
		lf->mode = lc->rotation.mode;
		lf->max_size = lc->rotation.max_size;
	}
	if (lf->max_size == 0)
		lf->max_size = 1;
	if (lf->timestamp) {
		fmt = lc->timestamp_format != NULL ? lc->timestamp_format :
		    CONFIG_DEFAULT_TIMESTAMP_FORMAT;
		if (logfile_format_check(fmt, err, errlen) == -1 ||
		    ts_compile(&lf->ts, fmt, err, errlen) == -1) {
			ts_free(&lf->ts);
			free(lf);
			return (NULL);
		}
	}
	logfile_setfd(lf, fd, fi);
	return (lf);
}

int
logfile_set(struct logfile *lf, const struct log_config *lc, char *err,
    size_t errlen)
{
	struct tsfmt	 ts;
	const char	*fmt;

	memset(&ts, 0, sizeof(ts));
	if (lc->timestamp) {
		fmt = lc->timestamp_format != NULL ? lc->timestamp_format :
		    CONFIG_DEFAULT_TIMESTAMP_FORMAT;
		if (logfile_format_check(fmt, err, errlen) == -1 ||
		    ts_compile(&ts, fmt, err, errlen) == -1)
			return (-1);
	}
	lf_flush(lf);		/* what is buffered keeps its prefixes */
	ts_free(&lf->ts);
	lf->ts = ts;
	lf->timestamp = lc->timestamp;
	lf->pre_valid = 0;
	if (lf->mode != lc->rotation.mode)
		lf->have_period = 0;	/* the next write starts one */
	lf->mode = lc->rotation.mode;
	lf->max_size = lc->rotation.max_size > 0 ? lc->rotation.max_size : 1;
	return (0);
}

void
logfile_close(struct logfile *lf)
{
	if (lf == NULL)
		return;
	lf_flush(lf);
	if (lf->plen > 0 && lf->fd != -1) {
		/* The new file never came: the old one takes the rest. */
		lf->rotating = 0;
		lf_emit(lf, lf->pend, lf->plen);
	} else
		lf->lost += lf->plen;
	if (lf->fd != -1)
		close(lf->fd);
	ts_free(&lf->ts);
	free(lf->torn);
	free(lf->pend);
	free(lf->buf);
	free(lf->errmsg);
	free(lf);
}

int
logfile_rotated(struct logfile *lf, int fd, const struct logfile_fdinfo *fi)
{
	char	*p;
	size_t	 n;
	int	 ev, reopen = lf->reopening;

	if (!lf->rotating) {
		/* The same path anew: moved meanwhile, or closed. */
		if (fd != -1 && lf->fd == -1)
			lf_adopt(lf, fd, fi);
		else if (fd != -1)
			logfile_setfd(lf, fd, fi);
		return (take_ev(lf));
	}
	lf->rotating = lf->reopening = 0;
	if (fd != -1 && reopen)
		lf_adopt(lf, fd, fi);
	else if (fd != -1) {
		logfile_setfd(lf, fd, fi);
		lf->ev |= LOGFILE_EV_ROTATED;
	} else if (reopen) {
		/* What waited is lost, counted; asked again a while later. */
		lf->retry_ms = mono_ms() + LOGFILE_RETRY_MS;
	} else {
		/* Retry after another max_size bytes, or at the next period. */
		lf->base = lf->size;
		lf->ev |= LOGFILE_EV_ROTATE_FAIL;
	}
	/* What waited goes out now, rotating again if it must. */
	p = lf->pend;
	n = lf->plen;
	lf->pend = NULL;
	lf->plen = lf->pcap = 0;
	ev = take_ev(lf);
	if (n > 0)
		ev |= logfile_write_raw(lf, NULL, p, n);
	free(p);
	if (!lf->rotating)
		lf_flush(lf);
	return (ev | take_ev(lf));
}

int
logfile_rotating(const struct logfile *lf)
{
	return (lf->rotating);
}

int
logfile_isopen(const struct logfile *lf)
{
	return (lf->fd != -1);
}

int
logfile_detach(struct logfile *lf)
{
	if (lf->fd == -1 || lf->rotating)
		return (take_ev(lf));
	lf_flush(lf);
	close(lf->fd);
	lf->fd = -1;
	/* A closed file costs no buffer; the rest of a torn line stays. */
	free(lf->buf);
	lf->buf = NULL;
	if (lf->tornlen == 0) {
		free(lf->torn);
		lf->torn = NULL;
	}
	return (take_ev(lf));
}

/*
 * The same path, open again: what we know of the file holds, but its
 * size and kind are what the descriptor says (cut or replaced
 * meanwhile, or never known).
 */
static void
lf_adopt(struct logfile *lf, int fd, const struct logfile_fdinfo *fi)
{
	static const struct logfile_fdinfo none;

	if (fi == NULL)
		fi = &none;
	if (lf->fd != -1)
		close(lf->fd);
	lf->fd = fd;
	lf->retry_ms = 0;
	lf->regular = fi->regular;
	lf->size = lf->regular ? fi->size : 0;
	if (lf->base > lf->size)
		lf->base = lf->size;
	if (lf->regular && !lf->have_period && fi->size > 0) {
		lf->have_period = 1;
		lf->period = period_of(lf, fi->mtime);
	}
}

/*
 * Output for a closed file: ask for it (not again within
 * LOGFILE_RETRY_MS of a failure).  Until it comes, what is written
 * waits as for a rotation; if it cannot be had, it is dropped, counted.
 */
static void
lf_reopen(struct logfile *lf)
{
	struct logfile_fdinfo	 fi;
	int			 fd;

	if (lf->fd != -1 || lf->rotating || lf->rotate == NULL ||
	    (lf->retry_ms != 0 && mono_ms() < lf->retry_ms))
		return;
	fd = lf->rotate(lf->rarg, 1, errbuf, sizeof(errbuf));
	if (fd == LOGFILE_PENDING) {
		lf->rotating = lf->reopening = 1;
		return;
	}
	if (fd == -1) {
		lf_seterr(lf);
		lf->retry_ms = mono_ms() + LOGFILE_RETRY_MS;
		return;
	}
	if (logfile_fdinfo(fd, &fi) == -1)
		fi.regular = 1;
	lf_adopt(lf, fd, &fi);
}

/* Keep bytes while the new file is on its way (the caller paused). */
static void
lf_pend(struct logfile *lf, const char *p, size_t n)
{
	size_t	 ncap;
	char	*np;

	if (lf->plen + n > lf->pcap) {
		ncap = lf->pcap < 4096 ? 4096 : lf->pcap;
		while (ncap < lf->plen + n)
			ncap *= 2;
		if ((np = realloc(lf->pend, ncap)) == NULL) {
			lf->lost += n;	/* counted like a failed write */
			return;
		}
		lf->pend = np;
		lf->pcap = ncap;
	}
	memcpy(lf->pend + lf->plen, p, n);
	lf->plen += n;
}

static int64_t
period_of(const struct logfile *lf, time_t t)
{
	int64_t	d = lf->mode == ROTATE_HOURLY ? 3600 : 86400;
	int64_t	q = (int64_t)t / d;

	if ((int64_t)t % d < 0)
		q--;
	return (q);
}

/* Writing. */

static int
take_ev(struct logfile *lf)
{
	int	ev = lf->ev;

	lf->ev = 0;
	return (ev);
}

static void
now_if_null(const struct timespec **now, struct timespec *buf)
{
	if (*now == NULL) {
		clock_gettime(CLOCK_REALTIME, buf);
		*now = buf;
	}
}

void
logfile_totals(uint64_t *written, uint64_t *lost)
{
	*written = total_written;
	*lost = total_lost;
}

/* Count n bytes (lines newlines among them) that will never be written. */
static void
lf_drop(struct logfile *lf, const char *p, size_t n, int err)
{
	const char	*q, *end = p + n;
	uint64_t	 lines = 0;

	for (q = p; q < end && (q = memchr(q, '\n', (size_t)(end - q))) !=
	    NULL; q++)
		lines++;
	lf->lost += n;
	lf->lost_lines += lines;
	total_lost += n;
	lf->size = lf->size > n ? lf->size - n : 0;
	if (lf->base > lf->size)
		lf->base = lf->size;
	if (!lf->in_episode) {
		lf->in_episode = 1;
		lf->err = err;
		lf->episode_lost = 0;
		lf->episode_lines = 0;
		lf->ev |= LOGFILE_EV_FAIL;
	}
	lf->episode_lost += n;
	lf->episode_lines += lines;
}

/*
 * Data that cannot be written right now.  A line the file already holds
 * the start of is kept back to be finished first when writing works
 * again (at most LOGFILE_TORN_MAX bytes, then it is ended short); the
 * rest is dropped, and a line whose start is dropped is dropped whole,
 * up to its newline: the file only ever holds whole lines.
 */
static void
lf_hold(struct logfile *lf, const char *p, size_t n, int err)
{
	const char	*nl;
	size_t		 k;

	if (lf->midline && lf->torn == NULL &&
	    (lf->torn = malloc(LOGFILE_TORN_MAX)) == NULL)
		lf->midline = 0;	/* no memory to keep it: it stays cut */
	if (lf->midline) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (lf->tornlen + k > LOGFILE_TORN_MAX) {
			/* Too long to keep: end it short. */
			lf_drop(lf, lf->torn, lf->tornlen, err);
			lf_drop(lf, p, k, err);
			lf->torn[0] = '\n';
			lf->tornlen = 1;
			lf->midline = nl == NULL;
			lf->skipping = nl == NULL;
			lf->torn_open = 0;
		} else {
			memcpy(lf->torn + lf->tornlen, p, k);
			lf->tornlen += k;
			lf->torn_open = nl == NULL;
			if (!lf->in_episode) {
				lf->in_episode = 1;
				lf->err = err;
				lf->episode_lost = 0;
				lf->episode_lines = 0;
				lf->ev |= LOGFILE_EV_FAIL;
			}
		}
		p += k;
		n -= k;
		if (nl != NULL)
			lf->midline = 0;
	}
	if (n == 0)
		return;
	lf_drop(lf, p, n, err);
	lf->skipping = p[n - 1] != '\n';
}

/* write(2) it all or keep what a line needs and count the rest. */
static void
lf_emit(struct logfile *lf, const char *p, size_t n)
{
	const char	*nl;
	ssize_t		 w;
	size_t		 k;

	if (lf->fd == -1) {
		/* Closed, and it could not be had again (errno 0). */
		lf_hold(lf, p, n, 0);
		return;
	}
	if (lf->torn_open) {
		/* The held line goes on: the rest of it joins it. */
		lf_hold(lf, p, n, lf->err);
		return;
	}
	while (lf->tornlen > 0) {
		if ((w = write(lf->fd, lf->torn, lf->tornlen)) == -1 &&
		    errno == EINTR)
			continue;
		if (w <= 0) {
			lf_hold(lf, p, n, w == 0 ? EIO : errno);
			return;
		}
		memmove(lf->torn, lf->torn + w, lf->tornlen - (size_t)w);
		lf->tornlen -= (size_t)w;
		total_written += (uint64_t)w;
		if (lf->tornlen == 0 && lf->in_episode) {
			lf->in_episode = 0;
			lf->ev |= LOGFILE_EV_RECOVER;
		}
	}
	if (lf->skipping) {
		/* The rest of a dropped line. */
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		lf_drop(lf, p, k, lf->err);
		p += k;
		n -= k;
		if (nl == NULL)
			return;
		lf->skipping = 0;
	}
	while (n > 0) {
		if ((w = write(lf->fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			lf_hold(lf, p, n, w == 0 ? EIO : errno);
			return;
		}
		if (lf->in_episode) {
			lf->in_episode = 0;
			lf->ev |= LOGFILE_EV_RECOVER;
		}
		lf->midline = p[w - 1] != '\n';
		total_written += (uint64_t)w;
		p += w;
		n -= (size_t)w;
	}
}

static void
lf_flush(struct logfile *lf)
{
	if (lf->blen == 0)
		return;
	lf_emit(lf, lf->buf, lf->blen);
	lf->blen = 0;
}

static void
lf_put(struct logfile *lf, const char *p, size_t n)
{
	if (lf->fd == -1)
		lf_reopen(lf);
	if (lf->rotating) {
		lf_pend(lf, p, n);
		return;
	}
	lf->size += n;
	if (lf->fd == -1) {
		lf_emit(lf, p, n);	/* dropped, counted */
		return;
	}
	if (lf->buf == NULL && (lf->buf = malloc(LOGFILE_BUFSZ)) == NULL) {
		lf_emit(lf, p, n);	/* unbuffered, but nothing lost */
		return;
	}
	if (LOGFILE_BUFSZ - lf->blen >= n) {
		memcpy(lf->buf + lf->blen, p, n);
		lf->blen += n;
		return;
	}
	lf_flush(lf);
	if (n >= LOGFILE_BUFSZ) {
		lf_emit(lf, p, n);
		return;
	}
	memcpy(lf->buf, p, n);
	lf->blen = n;
}

/* A new UTC day or hour rotates a non-empty file. */
static void
lf_time_check(struct logfile *lf, const struct timespec *now)
{
	int64_t	p;

	/* Checked again when what waits for a descriptor is written. */
	if (lf->mode == ROTATE_SIZE || !lf->regular || lf->rotating)
		return;
	p = period_of(lf, now->tv_sec);
	if (!lf->have_period) {
		lf->have_period = 1;
		lf->period = p;
		return;
	}
	if (p == lf->period)
		return;
	lf->period = p;
	if (lf->size > 0)
		lf_rotate(lf);
}

/* Rotate first if adding n bytes would take a non-empty file past max. */
static void
lf_size_check(struct logfile *lf, uint64_t n)
{
	uint64_t	used;

	if (!lf->regular)
		return;
	used = lf->size - lf->base;
	if (used > 0 && (used > lf->max_size || n > lf->max_size - used))
		lf_rotate(lf);
}

static void
lf_rotate(struct logfile *lf)
{
	struct logfile_fdinfo fi;
	int		 fd;

	lf_flush(lf);
	if (!lf->regular || lf->rotate == NULL || lf->rotating)
		return;
	fd = lf->rotate(lf->rarg, 0, errbuf, sizeof(errbuf));
	if (fd == LOGFILE_PENDING) {
		lf->rotating = 1;
		return;
	}
	if (fd == -1) {
		lf_seterr(lf);
		/* Retry after another max_size bytes, or at the next period. */
		lf->base = lf->size;
		lf->ev |= LOGFILE_EV_ROTATE_FAIL;
		return;
	}
	if (logfile_fdinfo(fd, &fi) == -1)
		fi.regular = 1;
	logfile_setfd(lf, fd, &fi);
	lf->ev |= LOGFILE_EV_ROTATED;
}

int
logfile_write_line(struct logfile *lf, int stream, const struct timespec *now,
    const char *line, size_t len, int newline)
{
	struct timespec	 tsbuf;
	size_t		 plen = 0;
	int		 n;

	now_if_null(&now, &tsbuf);
	lf_time_check(lf, now);
	if (lf->timestamp) {
		if (!lf->pre_valid || lf->pre_stream != stream ||
		    lf->pre_ts.tv_sec != now->tv_sec ||
		    lf->pre_ts.tv_nsec != now->tv_nsec) {
			lf->pre[plen++] = '[';
			if ((n = ts_render(&lf->ts, now, lf->pre + 1,
			    LOGFILE_TS_MAX)) > 0)
				plen += (size_t)n;
			memcpy(lf->pre + plen, stream == LOGFILE_STDERR ?
			    "] [stderr] " : "] [stdout] ", 11);
			lf->pre_len = plen + 11;
			lf->pre_stream = stream;
			lf->pre_ts = *now;
			lf->pre_valid = 1;
		}
		plen = lf->pre_len;
		newline = 1;
	}
	lf_size_check(lf, plen + len + (newline ? 1 : 0));
	if (plen > 0)
		lf_put(lf, lf->pre, plen);
	lf_put(lf, line, len);
	if (newline)
		lf_put(lf, "\n", 1);
	return (take_ev(lf));
}

int
logfile_write_raw(struct logfile *lf, const struct timespec *now,
    const char *buf, size_t len)
{
	struct timespec	 tsbuf;
	const char	*nl;
	uint64_t	 used, room;
	size_t		 k;

	now_if_null(&now, &tsbuf);
	lf_time_check(lf, now);
	while (len > 0) {
		if (lf->fd == -1)
			lf_reopen(lf);
		if (lf->rotating) {
			lf_pend(lf, buf, len);
			break;
		}
		used = lf->size - lf->base;
		room = used < lf->max_size ? lf->max_size - used : 0;
		if (!lf->regular || len <= room) {
			if (lf->blen == 0 && len >= LOGFILE_DIRECT_MIN) {
				lf->size += len;
				lf_emit(lf, buf, len);
			} else
				lf_put(lf, buf, len);
			break;
		}
		/* End this file at the last newline that fits. */
		nl = room > 0 ? memrchr(buf, '\n', (size_t)room) : NULL;
		if (nl != NULL)
			k = (size_t)(nl - buf) + 1;
		else if (used == 0)
			k = (size_t)room;	/* no newline in a whole file */
		else
			k = 0;
		lf_put(lf, buf, k);
		buf += k;
		len -= k;
		lf_rotate(lf);
	}
	return (take_ev(lf));
}

int
logfile_flush(struct logfile *lf)
{
	lf_flush(lf);
	return (take_ev(lf));
}

int
logfile_rotate(struct logfile *lf)
{
	if (lf->size > 0)
		lf_rotate(lf);
	return (take_ev(lf));
}

/* Accessors. */

uint64_t
logfile_lost_bytes(const struct logfile *lf)
{
	return (lf->lost);
}

uint64_t
logfile_episode_lines(const struct logfile *lf)
{
	return (lf->episode_lines);
}

uint64_t
logfile_episode_lost(const struct logfile *lf)
{
	return (lf->episode_lost);
}

int
logfile_errno(const struct logfile *lf)
{
	return (lf->err);
}

const char *
logfile_error(const struct logfile *lf)
{
	return (lf->errmsg != NULL ? lf->errmsg : "");
}

/*
 * Keep what the callback said in errbuf.  Only a file that failed pays
 * for its message: no fixed buffer in every file.
 */
static void
lf_seterr(struct logfile *lf)
{
	free(lf->errmsg);
	lf->errmsg = strdup(errbuf);
}

uint64_t
logfile_size(const struct logfile *lf)
{
	return (lf->size);
}
