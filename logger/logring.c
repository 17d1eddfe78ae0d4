/* SPDX-License-Identifier: ISC */
/*
 * logring.c -- an instance's recent output in memory (see logring.h).
 *
 * Layout: records back to back, each a 16-byte header (time, data
 * length, stream), the data, padding to 8 bytes and a 4-byte trailer
 * with the record's total size, so the ring can be walked both ways.
 * Records live in [tail, head), or, once the ring has wrapped, in
 * [tail, wrap) and then [0, head).
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logring.h"

#define HDRSZ		16
#define TRAILSZ		4
#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)
#define RECSZ(len)	ALIGN8(HDRSZ + (len) + TRAILSZ)

struct lr_hdr {
	int64_t		ts_ns;
	uint32_t	len;
	uint8_t		stream;
	uint8_t		pad[3];
};

struct logring {
	char		*buf;
	size_t		 size;		/* allocated */
	size_t		 cap;		/* most ever allocated */
	size_t		 tail;		/* oldest record */
	size_t		 head;		/* next record goes here */
	size_t		 wrap;		/* end of the first run, if wrapped */
	int		 wrapped;
	size_t		 nrec;
	int		 evicted;
};

_Static_assert(sizeof(struct lr_hdr) == HDRSZ, "lr_hdr layout");

static void	 rd_hdr(const struct logring *, size_t, struct lr_hdr *);
static size_t	 rec_size(const struct logring *, size_t);
static int	 rec_next(const struct logring *, size_t, size_t *);
static int	 rec_prev(const struct logring *, size_t, size_t *);
static int	 rec_last(const struct logring *, size_t *);
static void	 line_set(const struct logring *, struct lr_line *, size_t,
		    size_t, size_t, size_t);
static void	 line_first_in(const struct logring *, struct lr_line *,
		    size_t);
static void	 line_last_in(const struct logring *, struct lr_line *,
		    size_t);
static void	 line_before(const struct logring *, struct lr_line *,
		    size_t, size_t);
static void	 evict_one(struct logring *);
static int	 make_room(struct logring *, size_t);
static size_t	 segs_len(const struct lr_seg *, int);
static size_t	 segs_trim(const struct lr_seg *, int, size_t, size_t);
static void	 segs_copy(char *, const struct lr_seg *, int, size_t,
		    size_t);

size_t
logring_cap(size_t ninstances, uint64_t budget)
{
	uint64_t	c;

	if (ninstances == 0)
		ninstances = 1;
	c = budget / ninstances;
	if (c < LOGRING_FLOOR)
		c = LOGRING_FLOOR;
	if (c > LOGRING_MAX)
		c = LOGRING_MAX;
	return ((size_t)c & ~(size_t)7);
}

struct logring *
logring_new(size_t cap)
{
	struct logring	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	/* Smaller rings keep the newest bytes of a long line. */
	if (cap < LOGRING_FLOOR)
		cap = LOGRING_FLOOR;
	r->cap = ALIGN8(cap);
	return (r);
}

void
logring_free(struct logring *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

int
logring_evicted(const struct logring *r)
{
	return (r->evicted);
}

size_t
logring_bytes(const struct logring *r)
{
	return (r->size);
}

size_t
logring_records(const struct logring *r)
{
	return (r->nrec);
}

static void
rd_hdr(const struct logring *r, size_t o, struct lr_hdr *h)
{
	memcpy(h, r->buf + o, sizeof(*h));
}

static size_t
rec_size(const struct logring *r, size_t o)
{
	struct lr_hdr	h;

	rd_hdr(r, o, &h);
	return (RECSZ((size_t)h.len));
}

static void
evict_one(struct logring *r)
{
	r->tail += rec_size(r, r->tail);
	r->nrec--;
	r->evicted = 1;
	if (r->wrapped && r->tail == r->wrap) {
		r->tail = 0;
		r->wrapped = 0;
	}
	if (r->nrec == 0) {
		r->tail = r->head = 0;
		r->wrapped = 0;
	}
}

/* Make need contiguous bytes free at head (need <= cap). */
static int
make_room(struct logring *r, size_t need)
{
	size_t	 nsize;
	char	*nb;

	for (;;) {
		if (r->nrec == 0) {
			r->tail = r->head = 0;
			r->wrapped = 0;
		}
		if (r->wrapped) {
			if (r->tail - r->head >= need)
				return (0);
			evict_one(r);
			continue;
		}
		if (r->size - r->head >= need)
			return (0);
		if (r->size < r->cap) {
			nsize = r->size == 0 ? LOGRING_INIT : r->size * 2;
			while (nsize < r->cap && nsize - r->head < need)
				nsize *= 2;
			if (nsize > r->cap)
				nsize = r->cap;
			if ((nb = realloc(r->buf, nsize)) == NULL)
				return (-1);
			r->buf = nb;
			r->size = nsize;
			continue;
		}
		/* Full size: go round, dropping the oldest as needed. */
		r->wrap = r->head;
		r->head = 0;
		r->wrapped = 1;
	}
}

static size_t
segs_len(const struct lr_seg *seg, int nseg)
{
	size_t	n = 0;
	int	i;

	for (i = 0; i < nseg; i++)
		n += seg[i].len;
	return (n);
}

/*
 * Where to start keeping a record of total bytes so that at most keep
 * remain: just after the first newline at or after total - keep - 1,
 * if one comes before the last byte; else total - keep (a fragment).
 */
static size_t
segs_trim(const struct lr_seg *seg, int nseg, size_t total, size_t keep)
{
	size_t		 from = total - keep, base = 0, s, e;
	const char	*nl;
	int		 i;

	if (from > 0)
		from--;
	for (i = 0; i < nseg; i++) {
		e = base + seg[i].len;
		if (e > from && base < total - 1) {
			s = from > base ? from - base : 0;
			if (e > total - 1)
				e = total - 1;
			if (e - base > s && (nl = memchr(seg[i].p + s, '\n',
			    e - base - s)) != NULL)
				return (base + (size_t)(nl - seg[i].p) + 1);
		}
		base += seg[i].len;
	}
	return (total - keep);
}

/* Copy len bytes starting at logical offset from. */
static void
segs_copy(char *dst, const struct lr_seg *seg, int nseg, size_t from,
    size_t len)
{
	size_t	n;
	int	i;

	for (i = 0; i < nseg && len > 0; i++) {
		if (from >= seg[i].len) {
			from -= seg[i].len;
			continue;
		}
		n = seg[i].len - from;
		if (n > len)
			n = len;
		memcpy(dst, seg[i].p + from, n);
		dst += n;
		len -= n;
		from = 0;
	}
}

int
logring_append(struct logring *r, int stream, int64_t ts_ns,
    const struct lr_seg *seg, int nseg)
{
	struct lr_hdr	h;
	size_t		total, from = 0, len, rs, o;
	uint32_t	trail;

	if ((total = segs_len(seg, nseg)) == 0)
		return (0);
	len = total;
	if (RECSZ(len) > r->cap / 2) {
		/* Too big to share the ring: keep its newest lines. */
		from = segs_trim(seg, nseg, total,
		    r->cap / 2 - (HDRSZ + TRAILSZ + 8));
		len = total - from;
		r->evicted = 1;
	}
	rs = RECSZ(len);
	if (make_room(r, rs) == -1)
		return (-1);
	o = r->head;
	memset(&h, 0, sizeof(h));
	h.ts_ns = ts_ns;
	h.len = (uint32_t)len;
	h.stream = (uint8_t)stream;
	memcpy(r->buf + o, &h, sizeof(h));
	segs_copy(r->buf + o + HDRSZ, seg, nseg, from, len);
	trail = (uint32_t)rs;
	memcpy(r->buf + o + rs - TRAILSZ, &trail, TRAILSZ);
	r->head = o + rs;
	r->nrec++;
	return (0);
}

/* ---- walking ---- */

static int
rec_next(const struct logring *r, size_t o, size_t *next)
{
	size_t	n = o + rec_size(r, o);

	if (r->wrapped && n == r->wrap)
		n = 0;
	if (n == r->head)
		return (0);
	*next = n;
	return (1);
}

static int
rec_prev(const struct logring *r, size_t o, size_t *prev)
{
	size_t		end = o;
	uint32_t	sz;

	if (o == r->tail)
		return (0);
	if (r->wrapped && o == 0)
		end = r->wrap;
	memcpy(&sz, r->buf + end - TRAILSZ, TRAILSZ);
	*prev = end - sz;
	return (1);
}

static int
rec_last(const struct logring *r, size_t *last)
{
	size_t		end = r->head;
	uint32_t	sz;

	if (r->nrec == 0)
		return (0);
	if (r->wrapped && r->head == 0)
		end = r->wrap;
	memcpy(&sz, r->buf + end - TRAILSZ, TRAILSZ);
	*last = end - sz;
	return (1);
}

static void
line_set(const struct logring *r, struct lr_line *l, size_t rec,
    size_t start, size_t off, size_t end)
{
	struct lr_hdr	h;
	size_t		pe;

	rd_hdr(r, rec, &h);
	l->ts_ns = h.ts_ns;
	l->stream = h.stream;
	l->rec = rec;
	l->start = start;
	l->off = off;
	l->end = end;
	pe = end - off > LOGRING_LINE_MAX ? off + LOGRING_LINE_MAX : end;
	l->p = r->buf + rec + HDRSZ + off;
	l->len = pe - off;
}

static void
line_first_in(const struct logring *r, struct lr_line *l, size_t rec)
{
	struct lr_hdr	 h;
	const char	*d = r->buf + rec + HDRSZ, *nl;

	rd_hdr(r, rec, &h);
	nl = memchr(d, '\n', h.len);
	line_set(r, l, rec, 0, 0, nl != NULL ? (size_t)(nl - d) : h.len);
}

/* The last piece of the line that ends at end (exclusive). */
static void
line_before(const struct logring *r, struct lr_line *l, size_t rec,
    size_t end)
{
	const char	*d = r->buf + rec + HDRSZ, *nl;
	size_t		 start, off;

	nl = end > 0 ? memrchr(d, '\n', end) : NULL;
	start = nl != NULL ? (size_t)(nl - d) + 1 : 0;
	off = start;
	if (end - start > LOGRING_LINE_MAX)
		off = start + ((end - start - 1) / LOGRING_LINE_MAX) *
		    LOGRING_LINE_MAX;
	line_set(r, l, rec, start, off, end);
}

static void
line_last_in(const struct logring *r, struct lr_line *l, size_t rec)
{
	struct lr_hdr	 h;
	const char	*d = r->buf + rec + HDRSZ;
	size_t		 end;

	rd_hdr(r, rec, &h);
	end = h.len;
	if (end > 0 && d[end - 1] == '\n')
		end--;
	line_before(r, l, rec, end);
}

int
logring_first(const struct logring *r, struct lr_line *l)
{
	if (r == NULL || r->nrec == 0)
		return (0);
	line_first_in(r, l, r->tail);
	return (1);
}

int
logring_next(const struct logring *r, struct lr_line *l)
{
	struct lr_hdr	 h;
	const char	*d = r->buf + l->rec + HDRSZ, *nl;
	size_t		 start, rec;

	if (l->end - l->off > LOGRING_LINE_MAX) {
		line_set(r, l, l->rec, l->start, l->off + LOGRING_LINE_MAX,
		    l->end);
		return (1);
	}
	rd_hdr(r, l->rec, &h);
	start = l->end + 1;
	if (start < h.len) {
		nl = memchr(d + start, '\n', h.len - start);
		line_set(r, l, l->rec, start, start, nl != NULL ?
		    (size_t)(nl - d) : h.len);
		return (1);
	}
	if (!rec_next(r, l->rec, &rec))
		return (0);
	line_first_in(r, l, rec);
	return (1);
}

int
logring_last(const struct logring *r, struct lr_line *l)
{
	size_t	rec;

	if (r == NULL || !rec_last(r, &rec))
		return (0);
	line_last_in(r, l, rec);
	return (1);
}

int
logring_prev(const struct logring *r, struct lr_line *l)
{
	size_t	rec;

	if (l->off > l->start) {
		line_set(r, l, l->rec, l->start, l->off - LOGRING_LINE_MAX,
		    l->end);
		return (1);
	}
	if (l->start > 0) {
		line_before(r, l, l->rec, l->start - 1);
		return (1);
	}
	if (!rec_prev(r, l->rec, &rec))
		return (0);
	line_last_in(r, l, rec);
	return (1);
}

/* ---- JSON size ---- */

size_t
logring_json_len(const char *p, size_t len)
{
	static uint8_t		 w[256];
	const unsigned char	*s = (const unsigned char *)p;
	size_t			 n = 0, i;
	int			 c;

	if (w[0] == 0) {
		for (c = 0; c < 256; c++)
			w[c] = c < 0x20 ? 6 : c == '"' || c == '\\' ? 2 :
			    c >= 0x80 ? 3 : 1;
	}
	for (i = 0; i < len; i++)
		n += w[s[i]];
	return (n);
}
