/* SPDX-License-Identifier: ISC */
/*
 * logcap.c -- log capture, tail_logs and followers (see logcap.h).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <event.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "logcap.h"
#include "logfile.h"
#include "logring.h"
#include "redact.h"

#define NSEC			1000000000LL
#define CHAN_RETRY_MS		2	/* channel full: look again soon */
#define ENTRY_JSON_OVERHEAD	128	/* a LogEntry's keys and numbers */
#define FRAME_JSON_OVERHEAD	32	/* {"type":"log_lines","lines":[]} */
#define HARD_JSON_MAX		(15 * 1024 * 1024)	/* < FRAME_MAX */
#define BQ_KEEP			(64 * 1024)	/* kept by an empty queue */

_Static_assert(LOGRING_LINE_MAX == PROTO_LOGLINE_MAX, "line pieces");

/* A log file, shared by every stream that writes to its path. */
struct capfile {
	LIST_ENTRY(capfile)	 entry;
	struct logfile		*lf;
	char			*path;
	uid_t			 uid;		/* whose rights it has */
};

/* A sensitive variable of the environment the process was given. */
struct capval {
	char			*name;
	char			*value;
};

struct logcap {
	const struct config	*conf;
	const struct proc_config *pc;
	uint32_t		 idx;
	size_t			 order;		/* config order, for ties */
	char			 display[CONFIG_DISPLAY_MAX];
	int			 redact;	/* files and ring are masked */
	int			 lines;		/* capture line by line */
	struct capfile		*file[2];
	struct logring		*ring;
	struct capval		*vals;
	size_t			 nvals;
	uint32_t		 nfollow;	/* followers watching */
	struct redactor		*live[2];	/* !redact: for followers */
};

/* One pipe of one run of an instance. */
struct capstream {
	LIST_ENTRY(capstream)	 entry;
	struct logcap		*cap;
	int			 stream;
	int			 ended;
	struct redactor		*red;		/* line capture */
	char			*carry;		/* raw capture: partial line */
	size_t			 clen;
};

/* A byte queue of S_LOG_ENTRY payloads (header, then content). */
struct bq {
	char			*p;
	size_t			 off;
	size_t			 len;
	size_t			 cap;
	size_t			 n;
};

struct follower {
	TAILQ_ENTRY(follower)	 entry;
	struct conn_ref		 ref;
	const struct proc_config *key;		/* NULL: every process */
	uint32_t		 unacked;	/* frames not acknowledged */
	int			 initial;	/* its tail is being sent */
	int			 overflow;	/* too slow: to be cut */
	uint64_t		 dropped;
	struct bq		 q;		/* backlog */
};

struct tailreq {
	TAILQ_ENTRY(tailreq)	 entry;
	struct conn_ref		 ref;
	const struct proc_config *key;
	uint32_t		 lines;
	int			 follow;
	int			 built;
	uint32_t		 frames;
	struct bq		 snap;
	struct follower		*f;
};

/* A selected line of a tail, newest first. */
struct sel {
	struct logcap		*cap;
	struct lr_line		 l;
	const char		*clean;
	size_t			 cleanlen;
	size_t			 arena;		/* (size_t)-1: clean is set */
};

/* A cursor on one instance's ring, from its newest line back. */
struct tailit {
	struct logcap		*cap;
	struct lr_line		 l;
	int			 ok;
	size_t			 k;		/* lines selected */
};

struct emitctx {
	struct capstream	*cs;
	struct timespec		 now;
};

static size_t			 ringcap = LOGRING_MIN;
static struct logcap		**caps;
static size_t			 ncaps, capscap;
static LIST_HEAD(, capfile)	 files = LIST_HEAD_INITIALIZER(files);
static LIST_HEAD(, capstream)	 streams = LIST_HEAD_INITIALIZER(streams);
static TAILQ_HEAD(, follower)	 followers =
				    TAILQ_HEAD_INITIALIZER(followers);
static TAILQ_HEAD(, tailreq)	 tails = TAILQ_HEAD_INITIALIZER(tails);
static size_t			 backlog_total;
static struct event		 pump_ev;
static int			 pump_set;
static int			 pump_ms = -1;	/* pending: its delay */
static char			*stage, *scratch;
static size_t			 stagelen, stagecap, scratchcap;
static int			 stage_nomem;

static int	 grow(char **, size_t *, size_t);
static int64_t	 ts_ns(const struct timespec *);
static void	 vals_free(struct logcap *);
static struct capfile *capfile_get(struct logcap *, const char *,
		    const struct logowner *);
static void	 file_events(struct capfile *, int);
static void	 record(struct logcap *, int, int64_t, const struct lr_seg *,
		    int);
static void	 raw_input(struct capstream *, const struct timespec *,
		    const char *, size_t);
static void	 carry_add(struct capstream *, int64_t, const char *,
		    size_t);
static void	 line_input(struct capstream *, const struct timespec *,
		    const char *, size_t);
static void	 line_emit(void *, const char *, size_t, int);
static void	 stage_commit(struct capstream *, const struct timespec *);
static void	 stream_end(struct capstream *, const struct timespec *);
static void	 stream_flush(struct capstream *);
static struct redactor *red_new(const struct logcap *);
static int	 view_begin(const struct logcap *, struct redactor **);
static void	 live_start(struct logcap *);
static void	 live_stop(struct logcap *);
static void	 deliver(struct logcap *, int, int64_t, const char *,
		    size_t);
static void	 deliver_line(struct logcap *, int, int64_t, const char *,
		    size_t);
static void	 entry_hdr(struct s_logentry *, const struct logcap *, int,
		    int64_t, size_t);
static size_t	 entry_est(const struct s_logentry *, const char *);
static int	 bq_add(struct bq *, const struct s_logentry *, const char *);
static size_t	 bq_peek(const struct bq *, struct s_logentry *,
		    const char **);
static void	 bq_pop(struct bq *, size_t);
static void	 bq_free(struct bq *);
static int	 bq_add_split(struct bq *, const struct logcap *, int,
		    int64_t, const char *, size_t);
static int	 ref_eq(struct conn_ref, struct conn_ref);
static int	 chan_busy(void);
static void	 pump_at(int);
static void	 pump(int, short, void *);
static int	 key_match(const struct proc_config *, const struct logcap *);
static struct follower *follower_new(struct conn_ref,
		    const struct proc_config *);
static void	 follower_push(struct follower *, const struct logcap *, int,
		    int64_t, const char *, size_t);
static void	 follower_overflow(struct follower *);
static void	 follower_drop(struct follower *);
static void	 follower_cut(struct follower *);
static void	 send_frame(struct conn_ref, struct bq *, int, size_t,
		    size_t *);
static void	 tail_build(struct tailreq *);
static size_t	 tail_select(struct tailreq *, struct tailit *, size_t *,
		    struct sel *);
static int	 tail_clean(struct sel *, size_t, const struct tailit *,
		    size_t, char **);
static int	 tail_queue(struct tailreq *, const struct sel *, size_t);
static int	 tail_snapshot(struct tailreq *);
static int	 tail_raw_view(struct logcap *, struct sel *, size_t, size_t,
		    char **, size_t *, size_t *);
static int	 tail_send(struct tailreq *);
static void	 tail_free(struct tailreq *);

/* ---- helpers ---- */

/* Make *buf hold at least need bytes. */
static int
grow(char **buf, size_t *cap, size_t need)
{
	size_t	 ncap;
	char	*nb;

	if (need <= *cap && *buf != NULL)
		return (0);
	ncap = *cap < 4096 ? 4096 : *cap;
	while (ncap < need)
		ncap *= 2;
	if ((nb = realloc(*buf, ncap)) == NULL)
		return (-1);
	*buf = nb;
	*cap = ncap;
	return (0);
}

static int64_t
ts_ns(const struct timespec *ts)
{
	if (ts->tv_sec < 0)
		return (0);
	return ((int64_t)ts->tv_sec * NSEC + ts->tv_nsec);
}

static int
ref_eq(struct conn_ref a, struct conn_ref b)
{
	return (a.id == b.id && a.serial == b.serial);
}

/* ---- set-up ---- */

void
logcap_init(size_t ninstances)
{
	ringcap = logring_cap(ninstances);
}

struct logcap *
logcap_new(const struct config *conf, const struct proc_config *pc,
    uint32_t idx, const char *display)
{
	struct logcap	 *cap, **nc;
	size_t		  ncap;

	if (ncaps == capscap) {
		ncap = capscap == 0 ? 16 : capscap * 2;
		if ((nc = reallocarray(caps, ncap, sizeof(*nc))) == NULL)
			return (NULL);
		caps = nc;
		capscap = ncap;
	}
	if ((cap = calloc(1, sizeof(*cap))) == NULL)
		return (NULL);
	cap->conf = conf;
	cap->pc = pc;
	cap->idx = idx;
	cap->order = ncaps;
	strlcpy(cap->display, display, sizeof(cap->display));
	cap->redact = pc->log.redact;
	cap->lines = pc->log.redact || pc->log.timestamp;
	caps[ncaps++] = cap;
	return (cap);
}

static void
vals_free(struct logcap *cap)
{
	size_t	i;

	for (i = 0; i < cap->nvals; i++) {
		freezero(cap->vals[i].name, strlen(cap->vals[i].name) + 1);
		freezero(cap->vals[i].value, strlen(cap->vals[i].value) + 1);
	}
	free(cap->vals);
	cap->vals = NULL;
	cap->nvals = 0;
}

void
logcap_spawn(struct logcap *cap, const struct logowner *owner,
    char *const *env, size_t nenv)
{
	char		 out[PATH_MAX], err[PATH_MAX];
	const char	*path[2];
	struct capval	*v;
	const char	*eq;
	size_t		 i, n = 0;
	int		 s;

	if (cap->file[0] == NULL || cap->file[1] == NULL) {
		if (config_log_paths(cap->conf, cap->pc, cap->idx, out,
		    sizeof(out), err, sizeof(err)) == -1) {
			log_warnx("%s: log file names too long", cap->display);
		} else {
			path[0] = out;
			path[1] = err;
			for (s = 0; s < 2; s++)
				if (cap->file[s] == NULL && path[s][0] != '\0')
					cap->file[s] = capfile_get(cap,
					    path[s], owner);
		}
	}

	vals_free(cap);
	for (i = 0; i < nenv; i++) {
		if ((eq = strchr(env[i], '=')) == NULL)
			continue;
		n++;
	}
	if (n == 0 || (cap->vals = calloc(n, sizeof(*cap->vals))) == NULL)
		return;
	for (i = 0; i < nenv; i++) {
		if ((eq = strchr(env[i], '=')) == NULL)
			continue;
		v = &cap->vals[cap->nvals];
		if ((v->name = strndup(env[i], (size_t)(eq - env[i]))) == NULL)
			break;
		if (!redact_env_name_sensitive(v->name)) {
			free(v->name);
			continue;
		}
		if ((v->value = strdup(eq + 1)) == NULL) {
			free(v->name);
			break;
		}
		cap->nvals++;
	}
	/* Followers' redactors learn the new values too. */
	for (s = 0; s < 2; s++)
		for (i = 0; cap->live[s] != NULL && i < cap->nvals; i++)
			(void)redact_add_env(cap->live[s], cap->vals[i].name,
			    cap->vals[i].value);
}

/*
 * The open file for path, opened (and its directories made) with the
 * owner's rights if new.  Processes of different users never share one.
 */
static struct capfile *
capfile_get(struct logcap *cap, const char *path,
    const struct logowner *owner)
{
	struct capfile	*f;
	char		 err[PATH_MAX + 128];

	LIST_FOREACH(f, &files, entry)
		if (strcmp(f->path, path) == 0)
			break;
	if (f != NULL && f->uid != owner->uid) {
		log_warnx("%s: log file %s: refused: it is written for uid "
		    "%lu (its output is kept in memory only)", cap->display,
		    path, (unsigned long)f->uid);
		return (NULL);
	}
	if (f != NULL)
		return (f);
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		free(f);
		log_warnx("%s: log file %s: out of memory", cap->display,
		    path);
		return (NULL);
	}
	if ((f->lf = logfile_open(path, &cap->pc->log, owner, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s: log file: %s (its output is kept in memory "
		    "only)", cap->display, err);
		free(f->path);
		free(f);
		return (NULL);
	}
	f->uid = owner->uid;
	LIST_INSERT_HEAD(&files, f, entry);
	return (f);
}

/* Say once per episode what went wrong with a file. */
static void
file_events(struct capfile *f, int ev)
{
	if (ev == 0)
		return;
	if (ev & LOGFILE_EV_FAIL)
		log_warnx("log file %s: cannot write: %s; output is lost "
		    "until it can be written again", f->path,
		    strerror(logfile_errno(f->lf)));
	if (ev & LOGFILE_EV_RECOVER)
		log_warnx("log file %s: writing again; %llu bytes could not "
		    "be written", f->path,
		    (unsigned long long)logfile_episode_lost(f->lf));
	if (ev & (LOGFILE_EV_ROTATE_FAIL | LOGFILE_EV_COMPRESS_FAIL))
		log_warnx("log file %s: %s", f->path, logfile_error(f->lf));
	if (ev & LOGFILE_EV_ROTATED)
		log_debug("log file %s: rotated", f->path);
}

int
logcap_reap(pid_t pid, int status)
{
	return (logfile_reap(pid, status));
}

/* ---- capture ---- */

static struct redactor *
red_new(const struct logcap *cap)
{
	struct redactor	*r;
	size_t		 i;

	if ((r = redact_new()) == NULL)
		return (NULL);
	for (i = 0; i < cap->nvals; i++)
		if (redact_add_env(r, cap->vals[i].name,
		    cap->vals[i].value) == -1) {
			/* The patterns still apply; say what is missing. */
			log_warn("%s: cannot mask the value of %s",
			    cap->display, cap->vals[i].name);
		}
	return (r);
}

struct capstream *
logcap_stream(struct logcap *cap, int stream)
{
	struct capstream	*cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return (NULL);
	cs->cap = cap;
	cs->stream = stream;
	if (cap->lines) {
		if ((cs->red = cap->redact ? red_new(cap) : redact_new()) ==
		    NULL) {
			free(cs);
			return (NULL);
		}
		redact_set_enabled(cs->red, cap->redact);
	}
	LIST_INSERT_HEAD(&streams, cs, entry);
	return (cs);
}

void
logcap_stream_free(struct capstream *cs)
{
	if (cs == NULL)
		return;
	LIST_REMOVE(cs, entry);
	redact_free(cs->red);
	free(cs->carry);
	free(cs);
}

void
logcap_output(void *arg, int stream, const char *buf, size_t len)
{
	struct capstream	*cs = arg;
	struct timespec		 now;

	if (cs->ended) {
		/* Flushed for exit already; nothing more is kept. */
		if (len == 0)
			logcap_stream_free(cs);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (len == 0) {
		stream_end(cs, &now);
		logcap_stream_free(cs);
		return;
	}
	if (cs->cap->lines)
		line_input(cs, &now, buf, len);
	else
		raw_input(cs, &now, buf, len);
	stream_flush(cs);
}

static void
stream_flush(struct capstream *cs)
{
	struct capfile	*f = cs->cap->file[cs->stream];

	if (f != NULL)
		file_events(f, logfile_flush(f->lf));
}

/* A run of complete lines of one stream: to the ring and followers. */
static void
record(struct logcap *cap, int stream, int64_t ts, const struct lr_seg *seg,
    int nseg)
{
	size_t	n;

	if (cap->ring == NULL)
		cap->ring = logring_new(ringcap);
	if (cap->ring != NULL)
		(void)logring_append(cap->ring, stream, ts, seg, nseg);
	if (cap->nfollow == 0)
		return;
	if (nseg == 2 && seg[0].len > 0 && seg[1].len > 0) {
		n = seg[0].len + seg[1].len;
		if (grow(&scratch, &scratchcap, n) == -1)
			return;
		memcpy(scratch, seg[0].p, seg[0].len);
		memcpy(scratch + seg[0].len, seg[1].p, seg[1].len);
		deliver(cap, stream, ts, scratch, n);
	} else if (nseg == 2 && seg[0].len == 0)
		deliver(cap, stream, ts, seg[1].p, seg[1].len);
	else
		deliver(cap, stream, ts, seg[0].p, seg[0].len);
}

/* Bytes unchanged to the file; complete lines to the ring. */
static void
raw_input(struct capstream *cs, const struct timespec *now, const char *buf,
    size_t len)
{
	struct capfile	*f = cs->cap->file[cs->stream];
	struct lr_seg	 seg[2];
	const char	*nl;
	int64_t		 ts = ts_ns(now);
	size_t		 k;

	if (f != NULL)
		file_events(f, logfile_write_raw(f->lf, now, buf, len));
	if ((nl = memrchr(buf, '\n', len)) != NULL) {
		k = (size_t)(nl - buf) + 1;
		seg[0].p = cs->carry;
		seg[0].len = cs->clen;
		seg[1].p = buf;
		seg[1].len = k;
		record(cs->cap, cs->stream, ts, seg, 2);
		cs->clen = 0;
		buf += k;
		len -= k;
	}
	carry_add(cs, ts, buf, len);
}

/* Keep a partial line; a full line's worth is recorded as a piece. */
static void
carry_add(struct capstream *cs, int64_t ts, const char *buf, size_t len)
{
	struct lr_seg	seg;
	size_t		take;

	while (len > 0) {
		if (cs->carry == NULL &&
		    (cs->carry = malloc(LOGRING_LINE_MAX)) == NULL) {
			seg.p = buf;
			seg.len = len;
			record(cs->cap, cs->stream, ts, &seg, 1);
			return;
		}
		take = LOGRING_LINE_MAX - cs->clen;
		if (take > len)
			take = len;
		memcpy(cs->carry + cs->clen, buf, take);
		cs->clen += take;
		buf += take;
		len -= take;
		if (cs->clen == LOGRING_LINE_MAX) {
			seg.p = cs->carry;
			seg.len = cs->clen;
			record(cs->cap, cs->stream, ts, &seg, 1);
			cs->clen = 0;
		}
	}
}

static void
line_input(struct capstream *cs, const struct timespec *now, const char *buf,
    size_t len)
{
	struct emitctx	ctx;

	ctx.cs = cs;
	ctx.now = *now;
	stagelen = 0;
	stage_nomem = 0;
	(void)redact_feed(cs->red, buf, len, line_emit, &ctx);
	stage_commit(cs, now);
}

/* One line from the redactor: to the file, and staged for the ring. */
static void
line_emit(void *arg, const char *line, size_t len, int newline)
{
	struct emitctx	*ctx = arg;
	struct capstream *cs = ctx->cs;
	struct capfile	*f = cs->cap->file[cs->stream];

	if (f != NULL)
		file_events(f, logfile_write_line(f->lf, cs->stream,
		    &ctx->now, line, len, newline));
	if (stage_nomem || grow(&stage, &stagecap, stagelen + len + 1) == -1) {
		stage_nomem = 1;
		return;
	}
	memcpy(stage + stagelen, line, len);
	stage[stagelen + len] = '\n';
	stagelen += len + 1;
}

static void
stage_commit(struct capstream *cs, const struct timespec *now)
{
	struct lr_seg	seg;

	if (stagelen == 0)
		return;
	seg.p = stage;
	seg.len = stagelen;
	record(cs->cap, cs->stream, ts_ns(now), &seg, 1);
	stagelen = 0;
}

/* EOF: the partial line is complete now. */
static void
stream_end(struct capstream *cs, const struct timespec *now)
{
	struct emitctx	ctx;
	struct lr_seg	seg;

	if (cs->ended)
		return;
	cs->ended = 1;
	if (cs->red != NULL) {
		ctx.cs = cs;
		ctx.now = *now;
		stagelen = 0;
		stage_nomem = 0;
		redact_feed_end(cs->red, line_emit, &ctx);
		stage_commit(cs, now);
	} else if (cs->clen > 0) {
		seg.p = cs->carry;
		seg.len = cs->clen;
		record(cs->cap, cs->stream, ts_ns(now), &seg, 1);
		cs->clen = 0;
	}
	stream_flush(cs);
}

void
logcap_flush_all(void)
{
	struct capstream	*cs;
	struct capfile		*f;
	struct timespec		 now;

	clock_gettime(CLOCK_REALTIME, &now);
	LIST_FOREACH(cs, &streams, entry)
		stream_end(cs, &now);
	LIST_FOREACH(f, &files, entry) {
		file_events(f, logfile_flush(f->lf));
		if (logfile_lost_bytes(f->lf) > 0)
			log_warnx("log file %s: %llu bytes could not be "
			    "written", f->path, (unsigned long long)
			    logfile_lost_bytes(f->lf));
	}
}

/* ---- what clients see ---- */

/*
 * Fresh redactors for reading a ring that holds unmasked output.  When
 * the ring has dropped old lines, a stream whose first PEM marker is an
 * END was cut inside a key: mask up to that END.  -1 if out of memory.
 */
static int
view_begin(const struct logcap *cap, struct redactor **red)
{
	struct lr_line	l;
	int		decided[2] = { 0, 0 }, m, ok;

	red[0] = red_new(cap);
	red[1] = red_new(cap);
	if (red[0] == NULL || red[1] == NULL) {
		redact_free(red[0]);
		redact_free(red[1]);
		red[0] = red[1] = NULL;
		return (-1);
	}
	if (cap->ring == NULL || !logring_evicted(cap->ring))
		return (0);
	for (ok = logring_first(cap->ring, &l); ok &&
	    !(decided[0] && decided[1]); ok = logring_next(cap->ring, &l)) {
		if (decided[l.stream])
			continue;
		if ((m = redact_pem_first(l.p, l.len)) == 0)
			continue;
		decided[l.stream] = 1;
		if (m == REDACT_PEM_END)
			redact_pem_assume_open(red[l.stream]);
	}
	return (0);
}

/* The first follower of an unmasked instance: redactors in step. */
static void
live_start(struct logcap *cap)
{
	struct lr_line	 l;
	const char	*o;
	size_t		 ol;
	int		 ok;

	if (cap->redact || cap->live[0] != NULL)
		return;
	if (view_begin(cap, cap->live) == -1) {
		log_warnx("%s: out of memory: followers see masked lines",
		    cap->display);
		return;
	}
	if (cap->ring == NULL)
		return;
	for (ok = logring_first(cap->ring, &l); ok;
	    ok = logring_next(cap->ring, &l))
		(void)redact_line(cap->live[l.stream], l.p, l.len, &o, &ol);
}

static void
live_stop(struct logcap *cap)
{
	redact_free(cap->live[0]);
	redact_free(cap->live[1]);
	cap->live[0] = cap->live[1] = NULL;
}

/* New complete lines of an instance that has followers. */
static void
deliver(struct logcap *cap, int stream, int64_t ts, const char *data,
    size_t len)
{
	const char	*p = data, *end = data + len, *nl, *le;
	size_t		 n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		le = nl != NULL ? nl : end;
		do {
			n = (size_t)(le - p);
			if (n > LOGRING_LINE_MAX)
				n = LOGRING_LINE_MAX;
			deliver_line(cap, stream, ts, p, n);
			p += n;
		} while (p < le);
		p = nl != NULL ? nl + 1 : end;
	}
}

static void
deliver_line(struct logcap *cap, int stream, int64_t ts, const char *p,
    size_t n)
{
	struct follower	*f;
	const char	*o = p;
	size_t		 ol = n;

	if (!cap->redact) {
		if (cap->live[stream] != NULL)
			(void)redact_line(cap->live[stream], p, n, &o, &ol);
		else {
			o = REDACT_TEXT;
			ol = REDACT_TEXT_LEN;
		}
	}
	TAILQ_FOREACH(f, &followers, entry)
		if (key_match(f->key, cap))
			follower_push(f, cap, stream, ts, o, ol);
}

/* ---- byte queues of entries ---- */

static void
entry_hdr(struct s_logentry *h, const struct logcap *cap, int stream,
    int64_t ts, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->ts_sec = ts / NSEC;
	h->ts_nsec = ts % NSEC;
	strlcpy(h->process_name, cap->pc->name, sizeof(h->process_name));
	h->instance = cap->idx;
	h->stream = (uint32_t)stream;
	h->content_len = (uint32_t)len;
}

static size_t
entry_est(const struct s_logentry *h, const char *content)
{
	return (ENTRY_JSON_OVERHEAD + strlen(h->process_name) +
	    logring_json_len(content, h->content_len));
}

static int
bq_add(struct bq *q, const struct s_logentry *h, const char *content)
{
	size_t	need = sizeof(*h) + h->content_len;

	if (q->off > 0 && q->cap - q->len < need) {
		memmove(q->p, q->p + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
	}
	if (grow(&q->p, &q->cap, q->len + need) == -1)
		return (-1);
	memcpy(q->p + q->len, h, sizeof(*h));
	memcpy(q->p + q->len + sizeof(*h), content, h->content_len);
	q->len += need;
	q->n++;
	return (0);
}

/* Content longer than a message allows becomes several entries. */
static int
bq_add_split(struct bq *q, const struct logcap *cap, int stream, int64_t ts,
    const char *p, size_t n)
{
	struct s_logentry	h;
	size_t			k;

	do {
		k = n > PROTO_LOGLINE_MAX ? PROTO_LOGLINE_MAX : n;
		entry_hdr(&h, cap, stream, ts, k);
		if (bq_add(q, &h, p) == -1)
			return (-1);
		p += k;
		n -= k;
	} while (n > 0);
	return (0);
}

/* The next entry: its total size (0 if none), header and content. */
static size_t
bq_peek(const struct bq *q, struct s_logentry *h, const char **content)
{
	if (q->n == 0)
		return (0);
	memcpy(h, q->p + q->off, sizeof(*h));
	*content = q->p + q->off + sizeof(*h);
	return (sizeof(*h) + h->content_len);
}

static void
bq_pop(struct bq *q, size_t sz)
{
	q->off += sz;
	q->n--;
	if (q->n == 0) {
		q->off = q->len = 0;
		if (q->cap > BQ_KEEP)
			bq_free(q);
	}
}

static void
bq_free(struct bq *q)
{
	free(q->p);
	memset(q, 0, sizeof(*q));
}

/* ---- sending ---- */

static int
chan_busy(void)
{
	return (sup != NULL && sup->fe_up &&
	    chan_wqbytes(&sup->fe_ce.chan) >= LOGCAP_CHAN_HIGH);
}

static void
pump_at(int ms)
{
	struct timeval	tv;

	if (!pump_set) {
		evtimer_set(&pump_ev, pump, NULL);
		pump_set = 1;
	}
	if (pump_ms != -1 && evtimer_pending(&pump_ev, NULL) &&
	    pump_ms <= ms)
		return;
	tv.tv_sec = 0;
	tv.tv_usec = ms * 1000;
	evtimer_add(&pump_ev, &tv);
	pump_ms = ms;
}

/*
 * One log_lines frame from q: entries up to maxjson bytes of JSON
 * (at least one), then the end marker.  *popped: queue bytes sent.
 */
static void
send_frame(struct conn_ref ref, struct bq *q, int follow, size_t maxjson,
    size_t *popped)
{
	struct s_logentry	 h;
	struct s_logend		 le;
	const char		*c;
	size_t			 sz, est = FRAME_JSON_OVERHEAD, e, n = 0;

	*popped = 0;
	while ((sz = bq_peek(q, &h, &c)) > 0 && n < FOLLOW_FRAME_ENTRIES) {
		e = entry_est(&h, c);
		if (n > 0 && est + e > maxjson)
			break;
		reply_send(ref, S_LOG_ENTRY, q->p + q->off, sz);
		bq_pop(q, sz);
		*popped += sz;
		est += e;
		n++;
	}
	memset(&le, 0, sizeof(le));
	le.follow = follow;
	reply_send(ref, S_LOG_END, &le, sizeof(le));
}

static void
pump(int fd, short ev, void *arg)
{
	struct tailreq	*t;
	struct follower	*f, *nf;
	size_t		 popped;
	int		 blocked = 0;

	pump_ms = -1;
	while ((t = TAILQ_FIRST(&tails)) != NULL) {
		if (conn_lookup(t->ref) == NULL) {
			if (t->f != NULL)
				follower_drop(t->f);
			tail_free(t);
			continue;
		}
		if (!t->built)
			tail_build(t);
		if (!tail_send(t)) {
			blocked = 1;
			break;
		}
		if (t->f != NULL)
			t->f->initial = 0;
		tail_free(t);
	}
	TAILQ_FOREACH_SAFE(f, &followers, entry, nf) {
		if (f->initial)
			continue;
		if (conn_lookup(f->ref) == NULL) {
			follower_drop(f);
			continue;
		}
		if (f->overflow) {
			if (f->unacked == 0)
				follower_cut(f);
			continue;
		}
		while (f->q.n > 0 && f->unacked < FOLLOW_WINDOW) {
			if (chan_busy()) {
				blocked = 1;
				break;
			}
			send_frame(f->ref, &f->q, 1, FOLLOW_FRAME_JSON,
			    &popped);
			backlog_total -= popped;
			f->unacked++;
		}
	}
	if (blocked)
		pump_at(CHAN_RETRY_MS);
}

/* ---- followers ---- */

static int
key_match(const struct proc_config *key, const struct logcap *cap)
{
	return (key == NULL || key == cap->pc);
}

static struct follower *
follower_new(struct conn_ref ref, const struct proc_config *key)
{
	struct follower	*f;
	size_t		 i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->ref = ref;
	f->key = key;
	f->initial = 1;
	for (i = 0; i < ncaps; i++) {
		if (!key_match(key, caps[i]))
			continue;
		if (caps[i]->nfollow++ == 0)
			live_start(caps[i]);
	}
	TAILQ_INSERT_TAIL(&followers, f, entry);
	return (f);
}

static void
follower_push(struct follower *f, const struct logcap *cap, int stream,
    int64_t ts, const char *p, size_t n)
{
	size_t	before = f->q.len - f->q.off, added;

	if (f->overflow) {
		f->dropped++;
		return;
	}
	if (before + n + sizeof(struct s_logentry) > FOLLOW_BACKLOG_MAX ||
	    backlog_total + n + sizeof(struct s_logentry) >
	    FOLLOW_BACKLOG_TOTAL ||
	    bq_add_split(&f->q, cap, stream, ts, p, n) == -1) {
		follower_overflow(f);
		f->dropped++;
		return;
	}
	added = f->q.len - f->q.off - before;
	backlog_total += added;
	pump_at(FOLLOW_BATCH_MS);
}

/* Too slow: stop collecting for it now, cut it when it can be told. */
static void
follower_overflow(struct follower *f)
{
	f->overflow = 1;
	f->dropped += f->q.n;
	backlog_total -= f->q.len - f->q.off;
	bq_free(&f->q);
	pump_at(0);
}

static void
follower_cut(struct follower *f)
{
	log_info("connection %u: log follower too slow, disconnected after "
	    "%llu lines were dropped", f->ref.id,
	    (unsigned long long)f->dropped);
	reply_error(f->ref, ERR_INTERNAL_ERROR, "log follower too slow: "
	    "%llu lines dropped, disconnected",
	    (unsigned long long)f->dropped);
	follower_drop(f);
}

static void
follower_drop(struct follower *f)
{
	struct tailreq	*t;
	size_t		 i;

	TAILQ_FOREACH(t, &tails, entry)
		if (t->f == f)
			t->f = NULL;
	for (i = 0; i < ncaps; i++) {
		if (!key_match(f->key, caps[i]) || caps[i]->nfollow == 0)
			continue;
		if (--caps[i]->nfollow == 0)
			live_stop(caps[i]);
	}
	backlog_total -= f->q.len - f->q.off;
	bq_free(&f->q);
	TAILQ_REMOVE(&followers, f, entry);
	free(f);
}

void
logcap_ack(struct conn_ref ref)
{
	struct follower	*f;

	TAILQ_FOREACH(f, &followers, entry) {
		if (!ref_eq(f->ref, ref))
			continue;
		if (f->unacked > 0)
			f->unacked--;
		/* A nearly empty backlog waits for the batch to fill. */
		pump_at(f->overflow || f->initial || f->q.len - f->q.off >=
		    FOLLOW_FRAME_JSON / 4 ? 0 : FOLLOW_BATCH_MS);
		return;
	}
}

void
logcap_conn_closed(struct conn_ref ref)
{
	struct follower	*f, *nf;
	struct tailreq	*t, *nt;

	TAILQ_FOREACH_SAFE(t, &tails, entry, nt)
		if (ref_eq(t->ref, ref))
			tail_free(t);
	TAILQ_FOREACH_SAFE(f, &followers, entry, nf)
		if (ref_eq(f->ref, ref))
			follower_drop(f);
}

/* ---- tail ---- */

void
logcap_tail(struct conn_ref ref, const struct proc_config *key,
    uint32_t lines, int follow)
{
	struct tailreq	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		reply_error(ref, ERR_INTERNAL_ERROR, "out of memory");
		return;
	}
	t->ref = ref;
	t->key = key;
	t->lines = lines > TAIL_LINES_MAX ? TAIL_LINES_MAX : lines;
	t->follow = follow;
	TAILQ_INSERT_TAIL(&tails, t, entry);
	pump_at(0);
}

static void
tail_free(struct tailreq *t)
{
	TAILQ_REMOVE(&tails, t, entry);
	bq_free(&t->snap);
	free(t);
}

static void
tail_build(struct tailreq *t)
{
	t->built = 1;
	if (t->follow && (t->f = follower_new(t->ref, t->key)) == NULL)
		log_warnx("connection %u: out of memory for a follower",
		    t->ref.id);
	if (tail_snapshot(t) == -1) {
		log_warnx("connection %u: out of memory for a log tail",
		    t->ref.id);
		bq_free(&t->snap);
	}
}

/*
 * The clean text of the k selected lines of an unmasked instance: run
 * the whole ring through fresh redactors, copying the selected ones
 * into the arena.  sel[] is newest first.
 */
static int
tail_raw_view(struct logcap *cap, struct sel *sel, size_t nsel, size_t k,
    char **arena, size_t *alen, size_t *acap)
{
	struct redactor	*red[2];
	struct lr_line	 l;
	const char	*o;
	size_t		*idx, ol, j, m = 0, c = 0;
	int		 ok, rv = 0;

	if ((idx = reallocarray(NULL, k, sizeof(*idx))) == NULL)
		return (-1);
	/* cap's lines, oldest first. */
	for (j = nsel; j-- > 0 && m < k; )
		if (sel[j].cap == cap)
			idx[m++] = j;
	if (view_begin(cap, red) == -1) {
		for (j = 0; j < m; j++) {
			sel[idx[j]].clean = REDACT_TEXT;
			sel[idx[j]].cleanlen = REDACT_TEXT_LEN;
		}
		free(idx);
		return (0);
	}
	for (ok = logring_first(cap->ring, &l); ok && c < m;
	    ok = logring_next(cap->ring, &l)) {
		(void)redact_line(red[l.stream], l.p, l.len, &o, &ol);
		if (c == 0 && (l.rec != sel[idx[0]].l.rec ||
		    l.off != sel[idx[0]].l.off))
			continue;
		if (grow(arena, acap, *alen + ol) == -1) {
			rv = -1;
			break;
		}
		memcpy(*arena + *alen, o, ol);
		sel[idx[c]].arena = *alen;
		sel[idx[c]].cleanlen = ol;
		*alen += ol;
		c++;
	}
	redact_free(red[0]);
	redact_free(red[1]);
	free(idx);
	return (rv);
}

/* Newest first across instances, by time, then config order. */
static size_t
tail_select(struct tailreq *t, struct tailit *its, size_t *nitsp,
    struct sel *sel)
{
	struct tailit	*best;
	size_t		 nits = 0, nsel = 0, i, e, est = FRAME_JSON_OVERHEAD;

	for (i = 0; i < ncaps; i++) {
		if (!key_match(t->key, caps[i]) || caps[i]->ring == NULL)
			continue;
		its[nits].cap = caps[i];
		its[nits].ok = logring_last(caps[i]->ring, &its[nits].l);
		nits++;
	}
	while (nsel < t->lines) {
		best = NULL;
		for (i = 0; i < nits; i++) {
			if (!its[i].ok)
				continue;
			if (best == NULL || its[i].l.ts_ns > best->l.ts_ns ||
			    (its[i].l.ts_ns == best->l.ts_ns &&
			    its[i].cap->order > best->cap->order))
				best = &its[i];
		}
		if (best == NULL)
			break;
		e = ENTRY_JSON_OVERHEAD + strlen(best->cap->pc->name) +
		    logring_json_len(best->l.p, best->l.len);
		if (nsel > 0 && est + e > TAIL_JSON_MAX)
			break;
		est += e;
		sel[nsel].cap = best->cap;
		sel[nsel].l = best->l;
		sel[nsel].arena = (size_t)-1;
		nsel++;
		best->k++;
		best->ok = logring_prev(best->cap->ring, &best->l);
	}
	*nitsp = nits;
	return (nsel);
}

/* What a client may see of each selected line. */
static int
tail_clean(struct sel *sel, size_t nsel, const struct tailit *its,
    size_t nits, char **arena)
{
	size_t	alen = 0, acap = 0, i;

	for (i = 0; i < nsel; i++)
		if (sel[i].cap->redact) {
			sel[i].clean = sel[i].l.p;
			sel[i].cleanlen = sel[i].l.len;
		}
	for (i = 0; i < nits; i++)
		if (its[i].k > 0 && !its[i].cap->redact &&
		    tail_raw_view(its[i].cap, sel, nsel, its[i].k, arena,
		    &alen, &acap) == -1)
			return (-1);
	for (i = 0; i < nsel; i++) {
		if (sel[i].arena != (size_t)-1)
			sel[i].clean = *arena + sel[i].arena;
		else if (sel[i].clean == NULL) {
			/* Not reached by the view: never unmasked. */
			sel[i].clean = REDACT_TEXT;
			sel[i].cleanlen = REDACT_TEXT_LEN;
		}
	}
	return (0);
}

/*
 * Queue the lines oldest first.  Masking may lengthen lines: stay under
 * the frame limit.
 */
static int
tail_queue(struct tailreq *t, const struct sel *sel, size_t nsel)
{
	size_t	est = FRAME_JSON_OVERHEAD, keep, i, e;

	for (keep = 0; keep < nsel; keep++) {
		e = ENTRY_JSON_OVERHEAD + strlen(sel[keep].cap->pc->name) +
		    logring_json_len(sel[keep].clean, sel[keep].cleanlen);
		if (est + e > HARD_JSON_MAX)
			break;
		est += e;
	}
	for (i = keep; i-- > 0; )
		if (bq_add_split(&t->snap, sel[i].cap, sel[i].l.stream,
		    sel[i].l.ts_ns, sel[i].clean, sel[i].cleanlen) == -1)
			return (-1);
	return (0);
}

/* Select, mask and queue the lines of a tail. */
static int
tail_snapshot(struct tailreq *t)
{
	struct tailit	*its = NULL;
	struct sel	*sel = NULL;
	char		*arena = NULL;
	size_t		 nits, nsel;
	int		 rv = -1;

	if (t->lines == 0 || ncaps == 0)
		return (0);
	if ((its = calloc(ncaps, sizeof(*its))) != NULL &&
	    (sel = calloc(t->lines, sizeof(*sel))) != NULL) {
		nsel = tail_select(t, its, &nits, sel);
		if (tail_clean(sel, nsel, its, nits, &arena) == 0 &&
		    tail_queue(t, sel, nsel) == 0)
			rv = 0;
	}
	free(arena);
	free(sel);
	free(its);
	return (rv);
}

/* Hand the built tail to the channel: 1 when all is sent. */
static int
tail_send(struct tailreq *t)
{
	struct s_logentry	 h;
	struct s_logend		 le;
	const char		*c;
	size_t			 sz, popped;

	if (!t->follow) {
		while ((sz = bq_peek(&t->snap, &h, &c)) > 0) {
			if (chan_busy())
				return (0);
			reply_send(t->ref, S_LOG_ENTRY, t->snap.p +
			    t->snap.off, sz);
			bq_pop(&t->snap, sz);
		}
		memset(&le, 0, sizeof(le));
		reply_send(t->ref, S_LOG_END, &le, sizeof(le));
		return (1);
	}
	if (t->f == NULL) {
		/* No follower could be made: end the stream cleanly. */
		if (t->frames == 0)
			reply_error(t->ref, ERR_INTERNAL_ERROR,
			    "out of memory");
		return (1);
	}
	while (t->frames == 0 || t->snap.n > 0) {
		if (chan_busy())
			return (0);
		send_frame(t->ref, &t->snap, 1, FOLLOW_FRAME_JSON, &popped);
		t->frames++;
		t->f->unacked++;
	}
	return (1);
}
