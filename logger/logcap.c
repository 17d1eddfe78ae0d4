/* SPDX-License-Identifier: ISC */
/*
 * logcap.c -- log capture, tail_logs and followers (see logcap.h).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <event.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "logcap.h"
#include "logfile.h"
#include "logger.h"
#include "logring.h"
#include "output.h"
#include "redact.h"

#define NSEC			1000000000LL
#define CHAN_RETRY_MS		2	/* channel full: look again soon */
#define ENTRY_JSON_OVERHEAD	128	/* a LogEntry's keys and numbers */
#define FRAME_JSON_OVERHEAD	32	/* {"type":"log_lines","lines":[]} */
#define HARD_JSON_MAX		(15 * 1024 * 1024)	/* < FRAME_MAX */
#define BQ_KEEP			(64 * 1024)	/* kept by an empty queue */

_Static_assert(LOGRING_LINE_MAX == PROTO_LOGLINE_MAX, "line pieces");

/*
 * A log file, shared by every stream that writes to it.  Open, it is on
 * the LRU list (least recently written first) unless it is special;
 * asked for, its descriptor is on its way (L_ROTATE, L_REOPEN); queued,
 * it waits for a slot to be asked for.  Open regular files and asked
 * ones hold the slots, at most maxopen.
 */
enum cf_state {
	CF_CLOSED,
	CF_OPEN,
	CF_ASKED,
	CF_QUEUED
};

struct capfile {
	LIST_ENTRY(capfile)	 entry;
	TAILQ_ENTRY(capfile)	 q;		/* lru, or waitq */
	struct logfile		*lf;
	uint32_t		 id;		/* the supervisor's */
	char			*path;		/* for messages */
	enum cf_state		 state;
	int			 special;	/* not a regular file: kept */
	int			 reopen;	/* CF_QUEUED: what to ask */
};

/* A sensitive variable of the environment the process was given. */
struct capval {
	char			*name;
	char			*value;
};

struct logcap {
	uint32_t		 inst;
	uint32_t		 proc;		/* 1-based config index */
	uint32_t		 idx;
	size_t			 order;		/* instance order, for ties */
	char			 name[PROTO_NAME_MAX];
	char			 display[PROTO_DISPLAY_MAX];
	struct output		*out[2];	/* the current run's pipes */
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
	struct output		*out;
	uint64_t		 pipe;		/* the supervisor's pipe id */
	int			 stream;
	int			 ended;
	int			 paused;	/* its file is rotating */
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
	struct logref		 ref;
	uint32_t		 key;		/* 0: every process */
	uint32_t		 unacked;	/* frames not acknowledged */
	int			 initial;	/* its tail is being sent */
	int			 overflow;	/* too slow: to be cut */
	uint64_t		 dropped;
	struct bq		 q;		/* backlog */
};

struct tailreq {
	TAILQ_ENTRY(tailreq)	 entry;
	struct logref		 ref;
	uint32_t		 key;
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
static TAILQ_HEAD(, capfile)	 lru = TAILQ_HEAD_INITIALIZER(lru);
static TAILQ_HEAD(, capfile)	 waitq = TAILQ_HEAD_INITIALIZER(waitq);
static size_t			 maxopen = CONFIG_DEFAULT_OPEN_LOG_FILES;
static size_t			 nslots;	/* taken */
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
static struct capfile *capfile_find(uint32_t);
static void	 lc_from(const struct l_file *, struct log_config *, char *);
static struct capfile *capfile_new(const struct l_file *, int,
		    const struct logfile_fdinfo *);
static int	 capfile_ask(void *, int, char *, size_t);
static void	 capfile_resume(struct capfile *);
static void	 capfile_rotated(uint32_t, int, const struct logfile_fdinfo *);
static int	 cf_slot(const struct capfile *);
static void	 cf_set(struct capfile *, enum cf_state, int);
static void	 cf_touch(struct capfile *);
static void	 cf_evict(struct capfile *);
static int	 slot_take(void);
static void	 slots_trim(void);
static void	 slots_serve(void);
static void	 file_msg(uint32_t, uint32_t);
static void	 file_events(struct capfile *, int);
static void	 logcap_output(void *, int, const char *, size_t);
static struct capstream *logcap_stream(struct logcap *, int);
static void	 logcap_stream_free(struct capstream *);
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
static int	 ref_eq(struct logref, struct logref);
static int	 chan_busy(void);
static void	 pump_at(int);
static void	 pump(int, short, void *);
static int	 key_match(uint32_t, const struct logcap *);
static struct follower *follower_new(struct logref, uint32_t);
static void	 follower_push(struct follower *, const struct logcap *, int,
		    int64_t, const char *, size_t);
static void	 follower_overflow(struct follower *);
static void	 follower_drop(struct follower *);
static void	 follower_cut(struct follower *);
static void	 send_frame(struct logref, struct bq *, int, size_t,
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
ref_eq(struct logref a, struct logref b)
{
	return (a.id == b.id && a.serial == b.serial);
}

/* ---- set-up ---- */

void
logcap_init(size_t ninstances, uint64_t budget, uint32_t maxfiles)
{
	ringcap = logring_cap(ninstances, budget != 0 ? budget :
	    LOGRING_BUDGET);
	if (maxfiles != 0)
		maxopen = maxfiles;
}

/* The capture of instance inst, made if new; NULL when out of memory. */
static struct logcap *
cap_get(uint32_t inst)
{
	struct logcap	**nc;
	size_t		  ncap;

	if (inst < ncaps && caps[inst] != NULL)
		return (caps[inst]);
	if (inst >= capscap) {
		ncap = capscap == 0 ? 16 : capscap;
		while (ncap <= inst)
			ncap *= 2;
		if ((nc = reallocarray(caps, ncap, sizeof(*nc))) == NULL)
			return (NULL);
		memset(nc + capscap, 0, (ncap - capscap) * sizeof(*nc));
		caps = nc;
		capscap = ncap;
	}
	if ((caps[inst] = calloc(1, sizeof(**caps))) == NULL)
		return (NULL);
	caps[inst]->inst = inst;
	caps[inst]->order = inst;
	if (inst >= ncaps)
		ncaps = inst + 1;
	return (caps[inst]);
}

void
logcap_inst(const struct l_inst *li)
{
	struct logcap	*cap;
	int		 s;

	if ((cap = cap_get(li->inst)) == NULL) {
		log_warnx("instance %u: out of memory", li->inst);
		return;
	}
	cap->proc = li->proc;
	cap->idx = li->idx;
	(void)strlcpy(cap->name, li->name, sizeof(cap->name));
	(void)strlcpy(cap->display, li->display, sizeof(cap->display));
	cap->redact = (li->flags & L_INST_REDACT) != 0;
	cap->lines = (li->flags & L_INST_LINES) != 0;
	for (s = 0; s < 2; s++)
		cap->file[s] = li->file[s] != 0 ? capfile_find(li->file[s]) :
		    NULL;
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
logcap_secrets_clear(uint32_t inst)
{
	if (inst < ncaps && caps[inst] != NULL)
		vals_free(caps[inst]);
}

/* One sensitive value of the environment the instance was given. */
void
logcap_secret(const struct l_secret *ls, const char *data, size_t len)
{
	struct logcap	*cap;
	struct capval	*v;
	int		 s;

	if (ls->inst >= ncaps || (cap = caps[ls->inst]) == NULL ||
	    ls->namelen == 0 || ls->namelen > len)
		return;
	if ((v = reallocarray(cap->vals, cap->nvals + 1, sizeof(*v))) ==
	    NULL)
		return;
	cap->vals = v;
	v = &cap->vals[cap->nvals];
	if ((v->name = strndup(data, ls->namelen)) == NULL)
		return;
	if ((v->value = strndup(data + ls->namelen, len - ls->namelen)) ==
	    NULL) {
		free(v->name);
		return;
	}
	cap->nvals++;
	/* Followers' redactors learn the new value too. */
	for (s = 0; s < 2; s++)
		if (cap->live[s] != NULL)
			(void)redact_add_env(cap->live[s], v->name, v->value);
}

static struct capfile *
capfile_find(uint32_t id)
{
	struct capfile	*f;

	LIST_FOREACH(f, &files, entry)
		if (f->id == id)
			return (f);
	return (NULL);
}

/* Whether f holds one of the maxopen slots. */
static int
cf_slot(const struct capfile *f)
{
	return ((f->state == CF_OPEN && !f->special) || f->state == CF_ASKED);
}

/* Move f to state, its lists and the slot count with it. */
static void
cf_set(struct capfile *f, enum cf_state state, int special)
{
	if (f->state == CF_OPEN && !f->special)
		TAILQ_REMOVE(&lru, f, q);
	else if (f->state == CF_QUEUED)
		TAILQ_REMOVE(&waitq, f, q);
	if (cf_slot(f))
		nslots--;
	f->state = state;
	f->special = special;
	if (f->state == CF_OPEN && !f->special)
		TAILQ_INSERT_TAIL(&lru, f, q);
	else if (f->state == CF_QUEUED)
		TAILQ_INSERT_TAIL(&waitq, f, q);
	if (cf_slot(f))
		nslots++;
}

/* Written to: the last to be closed. */
static void
cf_touch(struct capfile *f)
{
	if (f->state != CF_OPEN || f->special || TAILQ_NEXT(f, q) == NULL)
		return;
	TAILQ_REMOVE(&lru, f, q);
	TAILQ_INSERT_TAIL(&lru, f, q);
}

/* Close f's descriptor; its writer keeps the rest. */
static void
cf_evict(struct capfile *f)
{
	int	ev;

	ev = logfile_detach(f->lf);
	cf_set(f, CF_CLOSED, f->special);
	file_msg(L_FILE_CLOSED, f->id);
	file_events(f, ev);
}

/* A free slot, made by closing the least recently written file. */
static int
slot_take(void)
{
	struct capfile	*v;

	if (nslots < maxopen)
		return (1);
	if ((v = TAILQ_FIRST(&lru)) == NULL)
		return (0);	/* every slot waits for an answer */
	cf_evict(v);
	return (1);
}

/* Back under maxopen after a file came open unasked. */
static void
slots_trim(void)
{
	struct capfile	*v;

	while (nslots > maxopen && (v = TAILQ_FIRST(&lru)) != NULL)
		cf_evict(v);
}

/* Ask for the files that waited for a slot, in turn. */
static void
slots_serve(void)
{
	struct capfile	*f;

	while ((f = TAILQ_FIRST(&waitq)) != NULL && slot_take()) {
		cf_set(f, CF_ASKED, f->special);
		file_msg(f->reopen ? L_REOPEN : L_ROTATE, f->id);
	}
}

static void
file_msg(uint32_t type, uint32_t id)
{
	struct l_id	m;

	memset(&m, 0, sizeof(m));
	m.id = id;
	logger_send(type, 0, &m, sizeof(m));
}

/*
 * The writer wants a new file (a rotation) or its file again (a
 * reopen): the supervisor makes or opens it.  A closed file needs a
 * slot first.
 */
static int
capfile_ask(void *arg, int reopen, char *err, size_t errlen)
{
	struct capfile	*f = arg;

	if (f->state == CF_OPEN) {
		cf_set(f, CF_ASKED, f->special);
		file_msg(reopen ? L_REOPEN : L_ROTATE, f->id);
	} else if (slot_take()) {
		cf_set(f, CF_ASKED, f->special);
		file_msg(reopen ? L_REOPEN : L_ROTATE, f->id);
	} else {
		f->reopen = reopen;
		cf_set(f, CF_QUEUED, f->special);
	}
	return (LOGFILE_PENDING);
}

/* A file's settings as the supervisor sent them; fmt: PROTO_TSFMT_MAX. */
static void
lc_from(const struct l_file *lfm, struct log_config *lc, char *fmt)
{
	memset(lc, 0, sizeof(*lc));
	lc->timestamp = (lfm->flags & L_FILE_TIMESTAMP) != 0;
	(void)strlcpy(fmt, lfm->ts_format, PROTO_TSFMT_MAX);
	lc->timestamp_format = fmt[0] != '\0' ? fmt : NULL;
	lc->rotation.mode = lfm->mode;
	lc->rotation.max_size = lfm->max_size;
}

/* A file the supervisor names: with its descriptor, or closed (fd -1). */
static struct capfile *
capfile_new(const struct l_file *lfm, int fd, const struct logfile_fdinfo *fi)
{
	struct log_config	 lc;
	struct capfile		*f;
	char			 fmt[PROTO_TSFMT_MAX], err[512];

	lc_from(lfm, &lc, fmt);
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		log_warnx("log file %u: out of memory", lfm->fd.file);
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	f->id = lfm->fd.file;
	if ((f->path = strndup(lfm->path, sizeof(lfm->path) - 1)) == NULL ||
	    (f->lf = logfile_new(fd, fi, &lc, capfile_ask, f, err,
	    sizeof(err))) == NULL) {
		log_warnx("log file %u: %s", lfm->fd.file, f->path == NULL ?
		    "out of memory" : err);
		if (fd != -1)
			close(fd);
		free(f->path);
		free(f);
		return (NULL);
	}
	f->state = CF_CLOSED;
	LIST_INSERT_HEAD(&files, f, entry);
	return (f);
}

void
logcap_file_open(const struct l_file *lfm, int fd)
{
	struct logfile_fdinfo	 fi;
	struct capfile		*f;

	if (capfile_find(lfm->fd.file) != NULL) {
		logcap_file_fd(&lfm->fd, fd);
		return;
	}
	fi.regular = lfm->fd.regular;
	fi.size = lfm->fd.size;
	fi.mtime = (time_t)lfm->fd.mtime;
	if ((f = capfile_new(lfm, fd, &fi)) == NULL)
		return;
	/* Over maxopen, the least recently written one goes. */
	cf_set(f, CF_OPEN, !fi.regular);
	slots_trim();
}

/*
 * A file known by its settings alone (a new logger): asked for later.
 * For a file already known, its new settings (a reload).
 */
void
logcap_file_new(const struct l_file *lfm)
{
	struct log_config	 lc;
	struct capfile		*f;
	char			 fmt[PROTO_TSFMT_MAX], err[512];

	if ((f = capfile_find(lfm->fd.file)) == NULL) {
		(void)capfile_new(lfm, -1, NULL);
		return;
	}
	lc_from(lfm, &lc, fmt);
	if (logfile_set(f->lf, &lc, err, sizeof(err)) == -1)
		log_warnx("log file %u: %s", lfm->fd.file, err);
}

void
logcap_file_close(uint32_t id)
{
	struct capfile	*f;

	if ((f = capfile_find(id)) != NULL && f->state == CF_OPEN)
		cf_evict(f);	/* reopened if written again */
}

/* A new descriptor for a file: rotated, or reopened. */
void
logcap_file_fd(const struct l_filefd *m, int fd)
{
	struct logfile_fdinfo	 fi;

	fi.regular = m->regular;
	fi.size = m->size;
	fi.mtime = (time_t)m->mtime;
	capfile_rotated(m->file, fd, &fi);
}

void
logcap_rotate_failed(uint32_t id)
{
	capfile_rotated(id, -1, NULL);
}

/*
 * What the supervisor sent for file id: the answer to a rotation or a
 * reopen (fd -1: it failed), or unasked a new descriptor for its path
 * (moved, SIGUSR1), which a closed file does not take.
 */
static void
capfile_rotated(uint32_t id, int fd, const struct logfile_fdinfo *fi)
{
	struct capfile	*f;
	int		 ev;

	if ((f = capfile_find(id)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	if (f->state != CF_ASKED && f->state != CF_OPEN) {
		if (fd != -1) {
			close(fd);
			file_msg(L_FILE_CLOSED, f->id);
		}
		return;
	}
	if (f->state == CF_OPEN && fd == -1)
		return;
	/* Its state first: writing what waited may ask again. */
	if (fd != -1)
		cf_set(f, CF_OPEN, !fi->regular);
	else
		cf_set(f, logfile_isopen(f->lf) ? CF_OPEN : CF_CLOSED,
		    f->special);
	ev = logfile_rotated(f->lf, fd, fi);
	file_events(f, ev);
	capfile_resume(f);
	slots_trim();
	slots_serve();
	logger_settled();
}

/* The rotation is over: read the pipes that feed f again. */
static void
capfile_resume(struct capfile *f)
{
	struct capstream	*cs;

	if (logfile_rotating(f->lf))
		return;
	LIST_FOREACH(cs, &streams, entry)
		if (cs->paused && cs->cap->file[cs->stream] == f) {
			cs->paused = 0;
			output_resume(cs->out);
		}
}

void
logcap_pipe(const struct l_pipe *m, int fd)
{
	struct logcap		*cap;
	struct capstream	*cs;
	struct output		*o;
	int			 stream = m->stream & 1;

	if (m->inst >= ncaps || (cap = caps[m->inst]) == NULL) {
		close(fd);
		return;
	}
	if ((cs = logcap_stream(cap, stream)) == NULL) {
		log_warnx("%s: out of memory: its %s is not kept",
		    cap->display, stream == 0 ? "stdout" : "stderr");
		output_release(output_attach(fd, stream, NULL, NULL));
		return;
	}
	cs->pipe = m->id;
	if ((o = output_attach(fd, stream, logcap_output, cs)) == NULL) {
		logcap_stream_free(cs);
		return;
	}
	cs->out = o;
	if (m->stream & L_PIPE_AUX) {
		output_release(o);	/* read on until EOF, on its own */
		return;
	}
	if (cap->out[stream] != NULL)
		output_release(cap->out[stream]);
	cap->out[stream] = o;
}

/* The instance's process exited: what it wrote is in the pipes. */
void
logcap_drain(uint32_t inst)
{
	struct logcap	*cap;
	int		 k;

	if (inst >= ncaps || (cap = caps[inst]) == NULL)
		return;
	for (k = 0; k < 2; k++)
		if (cap->out[k] != NULL) {
			output_drain(cap->out[k]);
			output_release(cap->out[k]);
			cap->out[k] = NULL;
		}
}

/* 1 when what the instance wrote is in its files (none is rotating). */
int
logcap_settled(uint32_t inst)
{
	struct logcap	*cap;
	int		 k;

	if (inst >= ncaps || (cap = caps[inst]) == NULL)
		return (1);
	for (k = 0; k < 2; k++)
		if (cap->file[k] != NULL && logfile_rotating(cap->file[k]->lf))
			return (0);
	return (1);
}

/* Say once per episode what went wrong with a file. */
static void
file_events(struct capfile *f, int ev)
{
	if (ev == 0)
		return;
	/* errno 0: closed, and the supervisor could not open it again. */
	if (ev & LOGFILE_EV_FAIL)
		log_warnx("log file %s: cannot write: %s; output is lost "
		    "until it can be written again", f->path,
		    logfile_errno(f->lf) != 0 ? strerror(logfile_errno(f->lf)) :
		    "it could not be opened again");
	if (ev & LOGFILE_EV_RECOVER)
		log_warnx("log file %s: writing again; %llu bytes (%llu "
		    "lines) could not be written", f->path,
		    (unsigned long long)logfile_episode_lost(f->lf),
		    (unsigned long long)logfile_episode_lines(f->lf));
	/* Why a rotation failed, the supervisor said (logstore.c). */
	if (ev & LOGFILE_EV_ROTATED)
		log_debug("log file %s: rotated", f->path);
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

static struct capstream *
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

static void
logcap_stream_free(struct capstream *cs)
{
	if (cs == NULL)
		return;
	LIST_REMOVE(cs, entry);
	redact_free(cs->red);
	free(cs->carry);
	free(cs);
}

static void
logcap_output(void *arg, int stream, const char *buf, size_t len)
{
	struct capstream	*cs = arg;
	struct capfile		*f = cs->cap->file[cs->stream];
	struct timespec		 now;
	struct l_pipe		 m;

	if (len == 0) {
		if (!cs->ended) {
			clock_gettime(CLOCK_REALTIME, &now);
			stream_end(cs, &now);
		}
		memset(&m, 0, sizeof(m));
		m.inst = cs->cap->inst;
		m.stream = (uint32_t)cs->stream;
		m.id = cs->pipe;
		logger_send(L_PIPE_DONE, 0, &m, sizeof(m));
		logcap_stream_free(cs);
		return;
	}
	if (cs->ended)
		return;		/* flushed for exit already */
	clock_gettime(CLOCK_REALTIME, &now);
	if (cs->cap->lines)
		line_input(cs, &now, buf, len);
	else
		raw_input(cs, &now, buf, len);
	stream_flush(cs);
	if (f != NULL)
		cf_touch(f);
	/* Its file waits for a descriptor: let the pipe hold the rest. */
	if (f != NULL && logfile_rotating(f->lf) && !cs->paused) {
		cs->paused = 1;
		output_pause(cs->out);
	}
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
	strlcpy(h->process_name, cap->name, sizeof(h->process_name));
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
	return (logger_busy());
}

/* A reply for a connection, relayed by the supervisor. */
static void
reply(struct logref ref, uint32_t type, const void *data, size_t len)
{
	logger_send(type, ref.id, data, len);
}

static void
reply_err(struct logref ref, const char *fmt, ...)
{
	struct s_error	e;
	va_list		ap;

	memset(&e, 0, sizeof(e));
	e.code = ERR_INTERNAL_ERROR;
	va_start(ap, fmt);
	(void)vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	logger_send(L_LOG_ERROR, ref.id, &e, sizeof(e));
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
send_frame(struct logref ref, struct bq *q, int follow, size_t maxjson,
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
		reply(ref, L_LOG_ENTRY, q->p + q->off, sz);
		bq_pop(q, sz);
		*popped += sz;
		est += e;
		n++;
	}
	memset(&le, 0, sizeof(le));
	le.follow = follow;
	reply(ref, L_LOG_END, &le, sizeof(le));
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
key_match(uint32_t key, const struct logcap *cap)
{
	return (cap != NULL && (key == 0 || key == cap->proc));
}

static struct follower *
follower_new(struct logref ref, uint32_t key)
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
	reply_err(f->ref, "log follower too slow: "
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
logcap_ack(struct logref ref)
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
logcap_conn_closed(struct logref ref)
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
logcap_tail(struct logref ref, const struct l_tail *m)
{
	struct tailreq	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		reply_err(ref, "out of memory");
		return;
	}
	t->ref = ref;
	t->key = m->proc;
	t->lines = m->lines > TAIL_LINES_MAX ? TAIL_LINES_MAX : m->lines;
	t->follow = m->follow != 0;
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
		e = ENTRY_JSON_OVERHEAD + strlen(best->cap->name) +
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
		e = ENTRY_JSON_OVERHEAD + strlen(sel[keep].cap->name) +
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
			reply(t->ref, L_LOG_ENTRY, t->snap.p +
			    t->snap.off, sz);
			bq_pop(&t->snap, sz);
		}
		memset(&le, 0, sizeof(le));
		reply(t->ref, L_LOG_END, &le, sizeof(le));
		return (1);
	}
	if (t->f == NULL) {
		/* No follower could be made: end the stream cleanly. */
		if (t->frames == 0)
			reply_err(t->ref, "out of memory");
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
