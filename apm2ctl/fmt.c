/* SPDX-License-Identifier: ISC */
/*
 * fmt.c -- apm2ctl's table and detail renderers, the byte and uptime
 * formatters they use, the UTF-8 width helpers, the escaping of text for
 * a terminal, and the closest name to a mistyped one.
 *
 * The layouts are upstream's format! strings (apm2-cli commands/process.rs)
 * translated to stdio.  Rust pads "{:<20}" by characters, so the padding
 * here counts UTF-8 characters instead of letting printf count bytes.
 * Upstream's widths are the least ones: a wider value widens its column
 * for every line, so that the columns stay aligned.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "utf8.h"

#define KIB	1024ULL
#define MIB	(KIB * 1024)
#define GIB	(MIB * 1024)

/* Limit names whose value counts bytes. */
static const char *const byte_limits[] = {
	"core", "as", "data", "memory_max", "memory_high"
};

/* The least width of the limits' columns: the longest known name. */
#define LIMIT_NAME_WIDTH	11	/* "memory_high" */
#define LIMIT_VALUE_WIDTH	9

/* What the wire's null shows as: no figure, rather than a false zero. */
#define NO_VALUE		"-"

/* A usage figure as shown: "12.5%", "1.5K", "1h 2m", or NO_VALUE. */
#define CELL_MAX		64

/*
 * The list's columns: upstream's headers and widths (the least ones),
 * and whether the text is on the left.
 */
#define LIST_COLS		7
#define LIST_DASHES		78	/* upstream's, for the least widths */
static const char *const list_head[LIST_COLS] = {
	"NAME", "RUNNING", "TOTAL", "STATUS", "CPU", "MEM", "UPTIME"
};
static const size_t	list_min[LIST_COLS] = { 20, 8, 8, 12, 8, 10, 10 };
static const int	list_left[LIST_COLS] = { 1, 0, 0, 1, 0, 0, 0 };

/* One row of the list as its cells' text. */
struct list_cells {
	char		 name[FMT_NAME_WIDTH + 1];
	char		 running[16];
	char		 total[16];
	char		 cpu[CELL_MAX];
	char		 mem[CELL_MAX];
	char		 up[CELL_MAX];
	const char	*cell[LIST_COLS];
};

/* The columns of an instance line of `status`, in the same way. */
#define INST_COLS		6
static const size_t	inst_min[INST_COLS] = { 3, 6, 12, 6, 8, 8 };
static const int	inst_left[INST_COLS] = { 1, 0, 1, 0, 0, 0 };

struct inst_cells {
	char		 index[16];
	char		 pid[16];
	char		 cpu[CELL_MAX];
	char		 mem[CELL_MAX];
	char		 up[CELL_MAX];
	const char	*cell[INST_COLS];
};

static int	 esc_unit(const char *, size_t, size_t *);
static void	 put_padded(FILE *, const char *, size_t, int);
static size_t	 width(const char *);
static void	 cell_cpu(int, float, char *, size_t);
static void	 cell_mem(int, uint64_t, char *, size_t);
static void	 cell_up(int, uint64_t, char *, size_t);
static void	 list_cells(const struct fmt_row *, struct list_cells *);
static void	 inst_cells(const struct fmt_instance *, struct inst_cells *);
static void	 put_limits(FILE *, const struct fmt_limit *, size_t);
static void	 put_exit_reason(FILE *, const char *);
static size_t	 osa_distance(const char *, size_t, const char *, size_t,
		    size_t);

/* Length of the longest prefix of s[0..len) of whole characters <= max. */
size_t
fmt_utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t		 off = 0, n;
	uint32_t	 cp;

	while (off < len) {
		n = utf8_char(s + off, len - off, &cp);
		if (off + n > max)
			break;
		off += n;
	}
	return (off);
}

size_t
fmt_utf8_count(const char *s, size_t len)
{
	size_t		 off = 0, count = 0;
	uint32_t	 cp;

	while (off < len) {
		off += utf8_char(s + off, len - off, &cp);
		count++;
	}
	return (count);
}

/*
 * The first character of s[0..len), len > 0, for a terminal: its length
 * in *np, and the value to show as "\xNN", or -1 to copy it.
 */
static int
esc_unit(const char *s, size_t len, size_t *np)
{
	unsigned char	 c = (unsigned char)s[0];
	uint32_t	 cp;

	/* Printable ASCII, nearly all of any log, without decoding. */
	if (c >= 0x20 && c < 0x7f) {
		*np = 1;
		return (-1);
	}
	*np = utf8_char(s, len, &cp);
	if (cp == UTF8_INVALID)
		return (c);
	if ((cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f))
		return ((int)cp);
	return (-1);
}

size_t
fmt_esc(const char *s, size_t len, char *buf, size_t size)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 off = 0, out = 0, kept = 0, n, w;
	int			 v;

	for (; off < len; off += n, out += w) {
		v = esc_unit(s + off, len - off, &n);
		w = v == -1 ? n : 4;
		/* Once something did not fit, nothing after it is kept. */
		if (kept != out || out + w >= size)
			continue;
		if (v == -1)
			memcpy(buf + out, s + off, n);
		else {
			buf[out] = '\\';
			buf[out + 1] = 'x';
			buf[out + 2] = hex[v >> 4];
			buf[out + 3] = hex[v & 0xf];
		}
		kept += w;
	}
	if (size > 0)
		buf[kept] = '\0';
	return (out);
}

void
fmt_esc_write(FILE *fp, const char *s, size_t len)
{
	char	 e[5];
	size_t	 off = 0, run = 0, n;
	int	 v;

	/* Runs of plain text go out in one fwrite. */
	while (off < len) {
		v = esc_unit(s + off, len - off, &n);
		if (v == -1) {
			run += n;
			off += n;
			continue;
		}
		if (run > 0)
			(void)fwrite(s + off - run, 1, run, fp);
		run = 0;
		(void)fmt_esc(s + off, n, e, sizeof(e));
		(void)fputs(e, fp);
		off += n;
	}
	if (run > 0)
		(void)fwrite(s + off - run, 1, run, fp);
}

void
fmt_bytes(uint64_t n, char *buf, size_t len)
{
	if (n >= GIB)
		(void)snprintf(buf, len, "%.1fG", (double)n / (double)GIB);
	else if (n >= MIB)
		(void)snprintf(buf, len, "%.1fM", (double)n / (double)MIB);
	else if (n >= KIB)
		(void)snprintf(buf, len, "%.1fK", (double)n / (double)KIB);
	else
		(void)snprintf(buf, len, "%lluB", (unsigned long long)n);
}

void
fmt_duration(uint64_t secs, char *buf, size_t len)
{
	if (secs < 60)
		(void)snprintf(buf, len, "%llus", (unsigned long long)secs);
	else if (secs < 3600)
		(void)snprintf(buf, len, "%llum %llus",
		    (unsigned long long)(secs / 60),
		    (unsigned long long)(secs % 60));
	else if (secs < 86400)
		(void)snprintf(buf, len, "%lluh %llum",
		    (unsigned long long)(secs / 3600),
		    (unsigned long long)((secs % 3600) / 60));
	else
		(void)snprintf(buf, len, "%llud %lluh",
		    (unsigned long long)(secs / 86400),
		    (unsigned long long)((secs % 86400) / 3600));
}

void
fmt_truncate(const char *s, size_t maxbytes, char *buf, size_t len)
{
	size_t	 slen, keep;

	if (len == 0)
		return;
	slen = strlen(s);
	if (slen <= maxbytes) {
		keep = slen;
		if (keep > len - 1)
			keep = fmt_utf8_prefix(s, slen, len - 1);
		memcpy(buf, s, keep);
		buf[keep] = '\0';
		return;
	}
	/* Below 3 bytes there is no room for the dots: just cut. */
	if (maxbytes < 3) {
		keep = fmt_utf8_prefix(s, slen, maxbytes);
		if (keep > len - 1)
			keep = fmt_utf8_prefix(s, slen, len - 1);
		memcpy(buf, s, keep);
		buf[keep] = '\0';
		return;
	}
	keep = fmt_utf8_prefix(s, slen, maxbytes - 3);
	if (keep + 3 > len - 1) {
		/* Caller's buffer too small: keep what fits, dots included. */
		keep = len - 1 >= 3 ? fmt_utf8_prefix(s, slen, len - 1 - 3) :
		    0;
	}
	memcpy(buf, s, keep);
	(void)strlcpy(buf + keep, "...", len - keep);
}

void
fmt_limit_value(const char *name, uint64_t v, char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(byte_limits) / sizeof(byte_limits[0]); i++)
		if (strcmp(name, byte_limits[i]) == 0) {
			fmt_bytes(v, buf, len);
			return;
		}
	if (strcmp(name, "cpu") == 0)
		(void)snprintf(buf, len, "%llus", (unsigned long long)v);
	else if (strcmp(name, "cpu_max") == 0)
		(void)snprintf(buf, len, "%llu%%", (unsigned long long)v);
	else
		(void)snprintf(buf, len, "%llu", (unsigned long long)v);
}

void
fmt_float1(float f, char *buf, size_t len)
{
	/* Rust spells these NaN, inf, -inf; C's printf would say nan. */
	if (isnan(f))
		(void)strlcpy(buf, "NaN", len);
	else if (isinf(f))
		(void)strlcpy(buf, f < 0 ? "-inf" : "inf", len);
	else
		(void)snprintf(buf, len, "%.1f", (double)f);
}

int
fmt_state(const char *variant, int has_code, int32_t code, char *buf,
    size_t len)
{
	static const char *const states[] = {
		"Starting", "Running", "Unhealthy", "Stopping", "Stopped",
		"Crashed", "Terminated"
	};
	size_t	 i, j;
	char	 lower[16];

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (variant != NULL && strcmp(variant, states[i]) == 0)
			break;
	if (i == sizeof(states) / sizeof(states[0])) {
		(void)strlcpy(buf, "unknown", len);
		return (-1);
	}
	for (j = 0; states[i][j] != '\0'; j++)
		lower[j] = (char)(states[i][j] | 0x20);	/* ASCII letters */
	lower[j] = '\0';
	/* Only the two exit states carry a code. */
	if (has_code && (strcmp(variant, "Stopped") == 0 ||
	    strcmp(variant, "Crashed") == 0))
		(void)snprintf(buf, len, "%s (exit code: %d)", lower, code);
	else
		(void)strlcpy(buf, lower, len);
	return (0);
}

void
fmt_status(const char *state, int restart_due, uint64_t secs, int gave_up,
    uint32_t after, char *buf, size_t len)
{
	char	d[FMT_DURATION_MAX];

	if (restart_due) {
		fmt_duration(secs, d, sizeof(d));
		(void)snprintf(buf, len, "restarting in %s", d);
	} else if (gave_up)
		(void)snprintf(buf, len, "failed (gave up after %u restart%s)",
		    after, after == 1 ? "" : "s");
	else
		(void)strlcpy(buf, state != NULL ? state : "", len);
}

/* s padded with spaces to width characters, on the right or the left. */
static void
put_padded(FILE *fp, const char *s, size_t width, int left)
{
	size_t	 len, chars;

	len = strlen(s);
	chars = fmt_utf8_count(s, len);
	if (!left)
		for (; chars < width; chars++)
			(void)putc(' ', fp);
	(void)fwrite(s, 1, len, fp);
	if (left)
		for (; chars < width; chars++)
			(void)putc(' ', fp);
}

static size_t
width(const char *s)
{
	return (fmt_utf8_count(s, strlen(s)));
}

/* "12.5%" (Rust's {:.1} and a percent sign), or NO_VALUE for null. */
static void
cell_cpu(int has, float cpu, char *buf, size_t len)
{
	char	f[CELL_MAX - 1];	/* and the percent sign */

	if (!has) {
		(void)strlcpy(buf, NO_VALUE, len);
		return;
	}
	fmt_float1(cpu, f, sizeof(f));
	(void)snprintf(buf, len, "%s%%", f);
}

static void
cell_mem(int has, uint64_t mem, char *buf, size_t len)
{
	if (has)
		fmt_bytes(mem, buf, len);
	else
		(void)strlcpy(buf, NO_VALUE, len);
}

static void
cell_up(int has, uint64_t up, char *buf, size_t len)
{
	if (has)
		fmt_duration(up, buf, len);
	else
		(void)strlcpy(buf, NO_VALUE, len);
}

static void
list_cells(const struct fmt_row *r, struct list_cells *c)
{
	fmt_truncate(r->name != NULL ? r->name : "", FMT_NAME_WIDTH,
	    c->name, sizeof(c->name));
	(void)snprintf(c->running, sizeof(c->running), "%u", r->running);
	(void)snprintf(c->total, sizeof(c->total), "%u", r->instances);
	cell_cpu(r->has_cpu, r->cpu, c->cpu, sizeof(c->cpu));
	cell_mem(r->has_mem, r->mem, c->mem, sizeof(c->mem));
	cell_up(r->has_uptime, r->uptime, c->up, sizeof(c->up));
	c->cell[0] = c->name;
	c->cell[1] = c->running;
	c->cell[2] = c->total;
	c->cell[3] = r->status != NULL ? r->status : "";
	c->cell[4] = c->cpu;
	c->cell[5] = c->mem;
	c->cell[6] = c->up;
}

void
fmt_list_table(FILE *fp, const struct fmt_row *rows, size_t n)
{
	struct list_cells	 c;
	size_t			 w[LIST_COLS], i, k, cw, dashes = LIST_DASHES;

	if (n == 0) {
		(void)fputs("No processes configured\n", fp);
		return;
	}
	/* Each column as wide as its widest cell, upstream's at least. */
	memcpy(w, list_min, sizeof(w));
	for (i = 0; i < n; i++) {
		list_cells(&rows[i], &c);
		for (k = 0; k < LIST_COLS; k++)
			if ((cw = width(c.cell[k])) > w[k])
				w[k] = cw;
	}
	for (k = 0; k < LIST_COLS; k++) {
		if (k > 0)
			(void)putc(' ', fp);
		put_padded(fp, list_head[k], w[k], list_left[k]);
		dashes += w[k] - list_min[k];
	}
	(void)putc('\n', fp);
	for (i = 0; i < dashes; i++)
		(void)putc('-', fp);
	(void)putc('\n', fp);

	for (i = 0; i < n; i++) {
		list_cells(&rows[i], &c);
		for (k = 0; k < LIST_COLS; k++) {
			if (k > 0)
				(void)putc(' ', fp);
			put_padded(fp, c.cell[k], w[k], list_left[k]);
		}
		(void)putc('\n', fp);
	}
}

/*
 * The "Limits:" block: name, value and whether it is in force, in
 * columns as wide as the longest known name and the widest value.
 */
static void
put_limits(FILE *fp, const struct fmt_limit *l, size_t n)
{
	char	 v[FMT_LIMIT_MAX];
	size_t	 i, w, nw = LIMIT_NAME_WIDTH, vw = LIMIT_VALUE_WIDTH;

	for (i = 0; i < n; i++) {
		w = fmt_utf8_count(l[i].name, strlen(l[i].name));
		if (w > nw)
			nw = w;
		fmt_limit_value(l[i].name, l[i].value, v, sizeof(v));
		if ((w = strlen(v)) > vw)
			vw = w;
	}
	(void)fputs("Limits:\n", fp);
	for (i = 0; i < n; i++) {
		fmt_limit_value(l[i].name, l[i].value, v, sizeof(v));
		(void)fputs("  ", fp);
		put_padded(fp, l[i].name, nw, 1);
		(void)fputs("  ", fp);
		put_padded(fp, v, vw, 1);
		if (l[i].in_force)
			(void)fputs("  in force\n", fp);
		else if (l[i].reason != NULL)
			(void)fprintf(fp, "  not in force: %s\n", l[i].reason);
		else
			(void)fputs("  not in force\n", fp);
	}
}

/* Why an instance last exited, when the daemon says more than a code. */
static void
put_exit_reason(FILE *fp, const char *reason)
{
	if (reason == NULL)
		return;
	if (strcmp(reason, "oom_killed") == 0)
		(void)fputs("  (killed: out of memory)", fp);
	else
		(void)fprintf(fp, "  (exit: %s)", reason);
}

static void
inst_cells(const struct fmt_instance *in, struct inst_cells *c)
{
	(void)snprintf(c->index, sizeof(c->index), "[%u]", in->index);
	if (in->has_pid)
		(void)snprintf(c->pid, sizeof(c->pid), "%u", in->pid);
	else
		(void)strlcpy(c->pid, "-", sizeof(c->pid));
	cell_cpu(in->has_cpu, in->cpu, c->cpu, sizeof(c->cpu));
	cell_mem(in->has_mem, in->mem, c->mem, sizeof(c->mem));
	cell_up(in->has_uptime, in->uptime, c->up, sizeof(c->up));
	c->cell[0] = c->index;
	c->cell[1] = c->pid;
	c->cell[2] = in->state != NULL ? in->state : "";
	c->cell[3] = c->cpu;
	c->cell[4] = c->mem;
	c->cell[5] = c->up;
}

void
fmt_status_detail(FILE *fp, const struct fmt_detail *d)
{
	static const char *const label[INST_COLS] = {
		"  ", " PID: ", "  State: ", "  CPU: ", "  Mem: ", "  Uptime: "
	};
	struct inst_cells	 c;
	size_t			 w[INST_COLS], i, k, cw;

	(void)fprintf(fp, "Name:        %s\n", d->name);
	(void)fprintf(fp, "ID:          %s\n", d->id);
	/* Upstream prints "<command> <args joined>", so no args leaves a space. */
	(void)fprintf(fp, "Command:     %s ", d->command);
	for (i = 0; i < d->nargs; i++)
		(void)fprintf(fp, "%s%s", i > 0 ? " " : "", d->args[i]);
	(void)putc('\n', fp);
	if (d->cwd != NULL)
		(void)fprintf(fp, "Working Dir: %s\n", d->cwd);
	(void)fprintf(fp, "Instances:   %u\n", d->instances);
	if (d->credential_profile != NULL)
		(void)fprintf(fp, "Credentials: %s\n", d->credential_profile);
	if (d->nlimits > 0)
		put_limits(fp, d->limits, d->nlimits);
	(void)fputs("\nInstance Details:\n", fp);

	memcpy(w, inst_min, sizeof(w));
	for (i = 0; i < d->ninst; i++) {
		inst_cells(&d->inst[i], &c);
		for (k = 0; k < INST_COLS; k++)
			if ((cw = width(c.cell[k])) > w[k])
				w[k] = cw;
	}
	for (i = 0; i < d->ninst; i++) {
		inst_cells(&d->inst[i], &c);
		for (k = 0; k < INST_COLS; k++) {
			(void)fputs(label[k], fp);
			put_padded(fp, c.cell[k], w[k], inst_left[k]);
		}
		(void)fprintf(fp, "  Restarts: %u", d->inst[i].restarts);
		put_exit_reason(fp, d->inst[i].exit_reason);
		(void)putc('\n', fp);
	}
}

/*
 * Edit distance, a swap of two neighbours counting one (optimal string
 * alignment), or more than max once every alignment costs more.
 */
static size_t
osa_distance(const char *a, size_t la, const char *b, size_t lb, size_t max)
{
	size_t	*row[3], *t, i, j, cost, v, best, res;

	if ((la > lb ? la - lb : lb - la) > max)
		return (max + 1);
	for (i = 0; i < 3; i++)
		if ((row[i] = calloc(lb + 1, sizeof(size_t))) == NULL) {
			while (i > 0)
				free(row[--i]);
			return (max + 1);
		}
	/* row[2]: i - 2, row[1]: i - 1, row[0]: i. */
	for (j = 0; j <= lb; j++)
		row[1][j] = j;
	res = lb;
	for (i = 1; i <= la; i++) {
		row[0][0] = best = i;
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			v = row[1][j - 1] + cost;
			if (row[1][j] + 1 < v)
				v = row[1][j] + 1;
			if (row[0][j - 1] + 1 < v)
				v = row[0][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && row[2][j - 2] + 1 < v)
				v = row[2][j - 2] + 1;
			row[0][j] = v;
			if (v < best)
				best = v;
		}
		res = row[0][lb];
		if (best > max) {
			res = max + 1;	/* no way back under max */
			break;
		}
		/* Rotate: i becomes i - 1, i - 1 becomes i - 2. */
		t = row[2];
		row[2] = row[1];
		row[1] = row[0];
		row[0] = t;
	}
	for (i = 0; i < 3; i++)
		free(row[i]);
	return (res);
}

int
fmt_closest(const char *s, const char *const *names, size_t n)
{
	size_t	 i, len, max, d, bestd;
	int	 best = -1;

	len = strlen(s);
	if (len == 0 || len > FMT_CLOSEST_MAXLEN)
		return (-1);
	/* A typo: a third of the length, 1 to 3 edits. */
	max = len / 3;
	if (max < 1)
		max = 1;
	if (max > 3)
		max = 3;
	bestd = max + 1;
	for (i = 0; i < n && i <= INT32_MAX; i++) {
		if (names[i] == NULL)
			continue;
		d = osa_distance(s, len, names[i], strlen(names[i]), max);
		if (d > 0 && d < bestd) {
			bestd = d;
			best = (int)i;
		}
	}
	return (best);
}
