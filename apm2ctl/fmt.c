/* SPDX-License-Identifier: ISC */
/*
 * fmt.c -- apm2ctl's table and detail renderers, the byte and uptime
 * formatters they use, the UTF-8 width helpers, and the escaping of text
 * for a terminal.
 *
 * The layouts are upstream's format! strings (apm2-cli commands/process.rs)
 * translated to stdio.  Rust pads "{:<20}" by characters, so the padding
 * here counts UTF-8 characters instead of letting printf count bytes.
 */

#include <math.h>
#include <stdio.h>
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

static int	 esc_unit(const char *, size_t, size_t *);
static void	 put_padded(FILE *, const char *, size_t, int);
static void	 put_limits(FILE *, const struct fmt_limit *, size_t);
static void	 put_exit_reason(FILE *, const char *);

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

void
fmt_list_table(FILE *fp, const struct fmt_row *rows, size_t n)
{
	char	 name[FMT_NAME_WIDTH + 1], cpu[64];
	char	 mem[FMT_BYTES_MAX], up[FMT_DURATION_MAX];
	size_t	 i;
	int	 dash;

	if (n == 0) {
		(void)fputs("No processes configured\n", fp);
		return;
	}
	(void)fprintf(fp, "%-20s %8s %8s %-12s %8s %10s %10s\n",
	    "NAME", "RUNNING", "TOTAL", "STATUS", "CPU", "MEM", "UPTIME");
	for (dash = 0; dash < 78; dash++)
		(void)putc('-', fp);
	(void)putc('\n', fp);

	for (i = 0; i < n; i++) {
		const struct fmt_row	*r = &rows[i];

		fmt_truncate(r->name != NULL ? r->name : "", FMT_NAME_WIDTH,
		    name, sizeof(name));
		fmt_float1(r->has_cpu ? r->cpu : 0.0f, cpu, sizeof(cpu));
		fmt_bytes(r->has_mem ? r->mem : 0, mem, sizeof(mem));
		fmt_duration(r->has_uptime ? r->uptime : 0, up, sizeof(up));

		put_padded(fp, name, 20, 1);
		(void)fprintf(fp, " %8u %8u ", r->running, r->instances);
		put_padded(fp, r->status != NULL ? r->status : "", 12, 1);
		(void)putc(' ', fp);
		put_padded(fp, cpu, 7, 0);
		(void)fprintf(fp, "%% %10s %10s\n", mem, up);
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

void
fmt_status_detail(FILE *fp, const struct fmt_detail *d)
{
	char	 pid[16], cpu[64], mem[FMT_BYTES_MAX], up[FMT_DURATION_MAX];
	size_t	 i;

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

	for (i = 0; i < d->ninst; i++) {
		const struct fmt_instance	*in = &d->inst[i];

		if (in->has_pid)
			(void)snprintf(pid, sizeof(pid), "%u", in->pid);
		else
			(void)strlcpy(pid, "-", sizeof(pid));
		fmt_float1(in->has_cpu ? in->cpu : 0.0f, cpu, sizeof(cpu));
		fmt_bytes(in->has_mem ? in->mem : 0, mem, sizeof(mem));
		fmt_duration(in->has_uptime ? in->uptime : 0, up, sizeof(up));

		(void)fprintf(fp, "  [%u] PID: %6s  State: ", in->index, pid);
		put_padded(fp, in->state != NULL ? in->state : "", 12, 1);
		(void)fputs("  CPU: ", fp);
		put_padded(fp, cpu, 5, 0);
		(void)fprintf(fp, "%%  Mem: %8s  Uptime: %8s  Restarts: %u",
		    mem, up, in->restarts);
		put_exit_reason(fp, in->exit_reason);
		(void)putc('\n', fp);
	}
}
