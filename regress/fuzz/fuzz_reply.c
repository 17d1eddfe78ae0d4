/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the reply parser, apm2ctl's exposure to whatever
 * answers on the socket: apm2_resp_parse() over cJSON and the checks of
 * common/json.c.  The input is an exactly-sized buffer and its NUL.
 *
 * Oracles:
 * - apm2_resp_parse() gives the JSON verdict json_parse() gives, word
 *   for word; the scan and cJSON never disagree ("unexpected token").
 * - Accepted text is well-formed UTF-8 as a whole.
 * - An accepted reply the daemon could have sent (every string fits its
 *   field in proto.h, an ok or error message up to PROTO_LONGMSG_MAX
 *   bytes with S_OK_TEXT or S_ERROR_TEXT; no credential reply, which
 *   nothing sends yet) is written again by the daemon's own writers
 *   (apm2d/render.c, from the supervisor's messages), and that parses
 *   back to the values apm2ctl prints from (states, times, log content
 *   with its NULs, messages).
 * - A rejection comes with a message and leaves nothing allocated.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fuzz.h"
#include "json.h"
#include "utf8.h"

/* The daemon's writers, compiled in: the harness links common/ only. */
#include "apm2d/render.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check(int);
static void	same_values(const struct apm2_resp *,
		    const struct apm2_resp *);
static int	fits(char *, size_t, const char *);
static int	streq(const char *, const char *);
static int	limits_of(struct jw *, struct s_detail *,
		    const struct apm2_procinfo *);
static void	flags_of(uint32_t *, int, int, int);
static int	rerender(struct jw *, const struct apm2_resp *);
static void	fuzz_resp(const char *, size_t);

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
same_values(const struct apm2_resp *a, const struct apm2_resp *b)
{
	char	 h1[APM2_STATE_HUMAN_MAX], h2[APM2_STATE_HUMAN_MAX];
	char	 t1[APM2_TIME_MAX], t2[APM2_TIME_MAX];
	size_t	 i;

	check(a->type == b->type);
	check(a->nprocs == b->nprocs && a->nlines == b->nlines &&
	    a->nprofiles == b->nprofiles);
	for (i = 0; i < a->nprocs; i++) {
		apm2_state_human(&a->procs[i].status, h1, sizeof(h1));
		apm2_state_human(&b->procs[i].status, h2, sizeof(h2));
		check(strcmp(h1, h2) == 0);
		check(a->procs[i].uptime_secs == b->procs[i].uptime_secs);
	}
	for (i = 0; i < a->nlines; i++) {
		check(a->lines[i].content_len == b->lines[i].content_len);
		check(memcmp(a->lines[i].content, b->lines[i].content,
		    a->lines[i].content_len) == 0);
		apm2_time_rfc3339(&a->lines[i].timestamp, t1, sizeof(t1));
		apm2_time_rfc3339(&b->lines[i].timestamp, t2, sizeof(t2));
		check(strcmp(t1, t2) == 0);
	}
	check(a->proc.nlimits == b->proc.nlimits &&
	    a->proc.ninst == b->proc.ninst);
	for (i = 0; i < a->proc.nlimits; i++) {
		check(streq(a->proc.limits[i].name, b->proc.limits[i].name));
		check(a->proc.limits[i].value == b->proc.limits[i].value);
		check(a->proc.limits[i].in_force ==
		    b->proc.limits[i].in_force);
		check(streq(a->proc.limits[i].reason,
		    b->proc.limits[i].reason));
	}
	for (i = 0; i < a->proc.ninst; i++)
		check(streq(a->proc.inst[i].exit_reason,
		    b->proc.inst[i].exit_reason));
	check(a->uptime_secs == b->uptime_secs && a->pid == b->pid);
	check(streq(a->message, b->message) && a->code == b->code);
}

/* Both NULL, or the same string. */
static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* The S_DETAIL_LIMIT messages: 0 if the supervisor could not send them. */
static int
limits_of(struct jw *w, struct s_detail *d, const struct apm2_procinfo *p)
{
	struct s_limit	l;
	size_t		i;

	if (p->nlimits > LIMIT_MSGS)
		return (0);
	for (i = 0; i < p->nlimits; i++) {
		memset(&l, 0, sizeof(l));
		if (!fits(l.name, sizeof(l.name), p->limits[i].name) ||
		    l.name[0] == '\0' || (p->limits[i].reason != NULL &&
		    !fits(l.reason, sizeof(l.reason), p->limits[i].reason)))
			return (0);
		l.value = p->limits[i].value;
		l.in_force = p->limits[i].in_force != 0;
		l.has_reason = p->limits[i].reason != NULL;
		render_detail_limit(w, d, &l, i == 0);
	}
	d->nlimits = (uint32_t)p->nlimits;
	return (1);
}

/* Copy s into a fixed-size field if it fits (and has no NUL inside). */
static int
fits(char *field, size_t size, const char *s)
{
	if (s == NULL || strlen(s) >= size)
		return (0);
	strlcpy(field, s, size);
	return (1);
}

static void
flags_of(uint32_t *flags, int cpu, int mem, int uptime)
{
	*flags = (cpu ? P_HAS_CPU : 0) | (mem ? P_HAS_MEM : 0) |
	    (uptime ? P_HAS_UPTIME : 0);
}

/*
 * The reply as the frontend writes it from the supervisor's messages;
 * 0 if the supervisor could not have sent these values.
 */
static int
rerender(struct jw *w, const struct apm2_resp *r)
{
	static struct s_detail	 d;
	static struct s_str	 a;
	struct s_status		 st;
	struct s_text		 t;
	struct s_summary	 s;
	struct s_instance	 in;
	struct s_logentry	 le;
	const struct apm2_instance *ri;
	size_t			 i;

	switch (r->type) {
	case RESP_PONG:
		render_pong(w, r->uptime_secs);
		return (1);
	case RESP_STATUS:
		memset(&st, 0, sizeof(st));
		st.uptime_secs = r->uptime_secs;
		st.pid = r->pid;
		st.process_count = r->process_count;
		st.running_instances = r->running_instances;
		render_status(w, &st);
		return (1);
	case RESP_OK:
		memset(&t, 0, sizeof(t));
		t.has_text = r->message != NULL;
		if (t.has_text && !fits(t.text, sizeof(t.text), r->message)) {
			if (strlen(r->message) > PROTO_LONGMSG_MAX)
				return (0);
			render_ok_text(w, r->message, strlen(r->message));
		} else
			render_ok(w, &t);
		return (1);
	case RESP_ERROR:
		if (strlen(r->message) < PROTO_MSG_MAX)
			render_error(w, r->code, r->message);
		else if (strlen(r->message) <= PROTO_LONGMSG_MAX)
			render_error_text(w, r->code, r->message,
			    strlen(r->message));
		else
			return (0);
		return (1);
	case RESP_PROCESS_LIST:
		render_list_begin(w);
		for (i = 0; i < r->nprocs; i++) {
			memset(&s, 0, sizeof(s));
			if (!fits(s.name, sizeof(s.name), r->procs[i].name))
				return (0);
			s.status.kind = r->procs[i].status.kind;
			s.status.has_code = r->procs[i].status.has_code;
			s.status.exit_code = r->procs[i].status.exit_code;
			s.instances = r->procs[i].instances;
			s.running = r->procs[i].running;
			flags_of(&s.flags, r->procs[i].has_cpu,
			    r->procs[i].has_mem, r->procs[i].has_uptime);
			s.cpu_percent = r->procs[i].cpu_percent;
			s.memory_bytes = r->procs[i].memory_bytes;
			s.uptime_secs = r->procs[i].uptime_secs;
			s.restart_count = r->procs[i].restart_count;
			render_list_entry(w, &s, i == 0);
		}
		render_list_end(w);
		return (1);
	case RESP_PROCESS_DETAILS:
		memset(&d, 0, sizeof(d));
		if (!fits(d.name, sizeof(d.name), r->proc.name) ||
		    !fits(d.id, sizeof(d.id), r->proc.id) ||
		    !fits(d.command, sizeof(d.command), r->proc.command) ||
		    (r->proc.cwd != NULL &&
		    !fits(d.cwd, sizeof(d.cwd), r->proc.cwd)) ||
		    (r->proc.credential_profile != NULL &&
		    !fits(d.credential_profile, sizeof(d.credential_profile),
		    r->proc.credential_profile)))
			return (0);
		d.has_cwd = r->proc.cwd != NULL;
		d.has_profile = r->proc.credential_profile != NULL;
		d.instances = r->proc.instances;
		render_detail_begin(w, &d);
		for (i = 0; i < r->proc.nargs; i++) {
			if (!fits(a.str, sizeof(a.str), r->proc.args[i]))
				return (0);
			render_detail_arg(w, &a, i == 0);
		}
		render_detail_args_end(w, &d);
		for (i = 0; i < r->proc.ninst; i++) {
			ri = &r->proc.inst[i];
			memset(&in, 0, sizeof(in));
			in.state.kind = ri->state.kind;
			in.state.has_code = ri->state.has_code;
			in.state.exit_code = ri->state.exit_code;
			in.index = ri->index;
			in.pid = ri->pid;
			flags_of(&in.flags, ri->has_cpu, ri->has_mem,
			    ri->has_uptime);
			in.flags |= ri->has_pid ? P_HAS_PID : 0;
			in.cpu_percent = ri->cpu_percent;
			in.memory_bytes = ri->memory_bytes;
			in.uptime_secs = ri->uptime_secs;
			in.restart_count = ri->restart_count;
			if (ri->exit_reason != NULL) {
				if (strcmp(ri->exit_reason, "oom_killed") != 0)
					return (0);
				in.flags |= P_OOM_KILLED;
			}
			render_detail_inst(w, &in, i == 0);
		}
		if (!limits_of(w, &d, &r->proc))
			return (0);
		render_detail_end(w, &d);
		return (1);
	case RESP_LOG_LINES:
		render_log_begin(w);
		for (i = 0; i < r->nlines; i++) {
			memset(&le, 0, sizeof(le));
			if (!fits(le.process_name, sizeof(le.process_name),
			    r->lines[i].process_name) ||
			    r->lines[i].content_len > PROTO_LOGLINE_MAX)
				return (0);
			le.ts_sec = r->lines[i].timestamp.sec;
			le.ts_nsec = r->lines[i].timestamp.nsec;
			le.instance = r->lines[i].instance;
			le.stream = strcmp(r->lines[i].stream, "stderr") == 0;
			le.content_len = (uint32_t)r->lines[i].content_len;
			render_log_entry(w, &le, r->lines[i].content, i == 0);
		}
		render_list_end(w);
		return (1);
	default:
		return (0);	/* credential replies: nothing sends them */
	}
}

static void
fuzz_resp(const char *buf, size_t len)
{
	struct apm2_resp a, b;
	struct json	 j;
	struct jw	 w;
	char		 err[256], jerr[256], *t;
	size_t		 l, bad;
	int		 jok;

	jerr[0] = '\0';
	jok = json_parse(&j, buf, len, APM2_JSON_MAXDEPTH, JSON_NOLIMIT, jerr,
	    sizeof(jerr)) == 0;
	if (jok) {
		check(utf8_valid(buf, len, &bad) == 0);
		json_free(&j);
	} else
		check(strncmp(jerr, "invalid JSON: unexpected token ",
		    31) != 0);
	err[0] = '\0';
	if (apm2_resp_parse(buf, len, &a, err, sizeof(err)) == -1) {
		check(err[0] != '\0');
		check(jok || strcmp(err, jerr) == 0);
		/* Freeing a rejected reply must be harmless. */
		apm2_resp_free(&a);
		return;
	}
	check(jok && a.type < RESP__COUNT);
	jw_init(&w);
	if (rerender(&w, &a)) {
		t = jw_detach(&w, &l);
		check(t != NULL && strlen(t) == l);
		check(apm2_resp_parse(t, l, &b, err, sizeof(err)) == 0);
		same_values(&a, &b);
		apm2_resp_free(&b);
		free(t);
	} else
		jw_free(&w);
	apm2_resp_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;

	if ((buf = fuzz_cstr(data, size)) == NULL)
		return (0);
	fuzz_resp(buf, size);
	free(buf);
	return (0);
}
