/* SPDX-License-Identifier: ISC */
/*
 * render.c -- the upstream JSON of every reply, written straight from the
 * supervisor's messages (proto.h) with the jsonw writer: one function per
 * message, in the declared field order, every Option present (null), as
 * serde_json writes them (apm2-upstream.md section 1.5).
 *
 * A reply that several messages make (process_list, process_details, a
 * log_lines frame) is written piece by piece as its messages arrive; the
 * caller says which entry is the first (no comma before it).  The
 * supervisor's messages are checked before they get here: strings are
 * NUL-terminated in their fields, enums in range.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apm2d.h"
#include "codec.h"
#include "jsonw.h"
#include "proto.h"

/* A string literal, its length counted by the compiler. */
#define JW_LIT(w, s)	jw_raw((w), (s), sizeof(s) - 1)

static void	jw_state(struct jw *, const struct p_state *);
static void	jw_opt_u64(struct jw *, int, uint64_t);
static void	jw_opt_f32(struct jw *, int, float);
static void	jw_usage(struct jw *, uint32_t, float, uint64_t, uint64_t,
		    uint32_t);
static void	jw_policy(struct jw *, uint32_t, uint32_t);
static void	jw_sep(struct jw *, int);

/* ProcessState, externally tagged: "Running", {"Stopped":{"exit_code":0}} */
static void
jw_state(struct jw *w, const struct p_state *st)
{
	if (st->kind == ST_STOPPED || st->kind == ST_CRASHED) {
		JW_LIT(w, "{\"");
		jw_rawz(w, apm2_state_name(st->kind));
		JW_LIT(w, "\":{\"exit_code\":");
		if (st->has_code)
			jw_i64(w, st->exit_code);
		else
			jw_null(w);
		JW_LIT(w, "}}");
	} else {
		jw_char(w, '"');
		jw_rawz(w, apm2_state_name(st->kind));
		jw_char(w, '"');
	}
}

static void
jw_opt_u64(struct jw *w, int has, uint64_t v)
{
	if (has)
		jw_u64(w, v);
	else
		jw_null(w);
}

static void
jw_opt_f32(struct jw *w, int has, float v)
{
	if (has)
		jw_f32(w, v);
	else
		jw_null(w);
}

/*
 * What a process summary and an instance end with: usage (null unless
 * flagged P_HAS_*) and restarts.
 */
static void
jw_usage(struct jw *w, uint32_t flags, float cpu, uint64_t mem,
    uint64_t uptime, uint32_t restarts)
{
	JW_LIT(w, ",\"cpu_percent\":");
	jw_opt_f32(w, (flags & P_HAS_CPU) != 0, cpu);
	JW_LIT(w, ",\"memory_bytes\":");
	jw_opt_u64(w, (flags & P_HAS_MEM) != 0, mem);
	JW_LIT(w, ",\"uptime_secs\":");
	jw_opt_u64(w, (flags & P_HAS_UPTIME) != 0, uptime);
	JW_LIT(w, ",\"restart_count\":");
	jw_u64(w, restarts);
}

/*
 * Ours, only when they apply (upstream's clients skip them): what the
 * restart policy does next, which ProcessState cannot say.  A restart
 * due in so many seconds, or given up after so many restarts.
 */
static void
jw_policy(struct jw *w, uint32_t flags, uint32_t policy)
{
	if (flags & P_RESTART_DUE) {
		JW_LIT(w, ",\"restart_in_secs\":");
		jw_u64(w, policy);
	} else if (flags & P_GAVE_UP) {
		JW_LIT(w, ",\"gave_up\":true,\"gave_up_after\":");
		jw_u64(w, policy);
	}
}

/* Array elements after the first are preceded by a comma. */
static void
jw_sep(struct jw *w, int first)
{
	if (!first)
		jw_char(w, ',');
}

void
render_pong(struct jw *w, uint64_t uptime_secs)
{
	JW_LIT(w, "{\"type\":\"pong\",\"version\":\"" APM2_VERSION
	    "\",\"uptime_secs\":");
	jw_u64(w, uptime_secs);
	jw_char(w, '}');
}

void
render_status(struct jw *w, const struct s_status *s)
{
	JW_LIT(w, "{\"type\":\"status\",\"version\":\"" APM2_VERSION
	    "\",\"pid\":");
	jw_u64(w, s->pid);
	JW_LIT(w, ",\"uptime_secs\":");
	jw_u64(w, s->uptime_secs);
	JW_LIT(w, ",\"process_count\":");
	jw_u64(w, s->process_count);
	JW_LIT(w, ",\"running_instances\":");
	jw_u64(w, s->running_instances);
	jw_char(w, '}');
}

void
render_ok(struct jw *w, const struct s_text *t)
{
	if (t->has_text)
		render_ok_text(w, t->text, strlen(t->text));
	else
		JW_LIT(w, "{\"type\":\"ok\",\"message\":null}");
}

/* An ok with len bytes of message (S_OK's, or S_OK_TEXT's). */
void
render_ok_text(struct jw *w, const char *text, size_t len)
{
	JW_LIT(w, "{\"type\":\"ok\",\"message\":");
	jw_str(w, text, len);
	jw_char(w, '}');
}

void
render_error(struct jw *w, enum apm2_errcode code, const char *message)
{
	render_error_text(w, code, message, strlen(message));
}

/* An error with len bytes of message (S_ERROR's, or S_ERROR_TEXT's). */
void
render_error_text(struct jw *w, enum apm2_errcode code, const char *text,
    size_t len)
{
	JW_LIT(w, "{\"type\":\"error\",\"code\":\"");
	jw_rawz(w, apm2_errcode_name(code));
	JW_LIT(w, "\",\"message\":");
	jw_str(w, text, len);
	jw_char(w, '}');
}

void
render_list_begin(struct jw *w)
{
	JW_LIT(w, "{\"type\":\"process_list\",\"processes\":[");
}

void
render_list_entry(struct jw *w, const struct s_summary *s, int first)
{
	jw_sep(w, first);
	JW_LIT(w, "{\"name\":");
	jw_strz(w, s->name);
	JW_LIT(w, ",\"instances\":");
	jw_u64(w, s->instances);
	JW_LIT(w, ",\"running\":");
	jw_u64(w, s->running);
	JW_LIT(w, ",\"status\":");
	jw_state(w, &s->status);
	jw_usage(w, s->flags, s->cpu_percent, s->memory_bytes,
	    s->uptime_secs, s->restart_count);
	jw_policy(w, s->flags, s->policy);
	jw_char(w, '}');
}

/* The end of process_list and of log_lines. */
void
render_list_end(struct jw *w)
{
	JW_LIT(w, "]}");
}

/* process_details up to its args; the id is a 36-character UUID. */
void
render_detail_begin(struct jw *w, const struct s_detail *d)
{
	JW_LIT(w, "{\"type\":\"process_details\",\"process\":{\"name\":");
	jw_strz(w, d->name);
	JW_LIT(w, ",\"id\":");
	jw_str(w, d->id, strnlen(d->id, 36));
	JW_LIT(w, ",\"command\":");
	jw_strz(w, d->command);
	JW_LIT(w, ",\"args\":[");
}

/* get_metrics: {"type":"metrics","text":"..."}, the text in parts. */
void
render_metrics_begin(struct jw *w)
{
	JW_LIT(w, "{\"type\":\"metrics\",\"text\":\"");
}

void
render_metrics_part(struct jw *w, const char *text, size_t len)
{
	jw_str_body(w, text, len);
}

void
render_metrics_end(struct jw *w)
{
	JW_LIT(w, "\"}");
}

void
render_detail_arg(struct jw *w, const struct s_str *a, int first)
{
	jw_sep(w, first);
	jw_strz(w, a->str);
}

/* After the last argument: the fields between args and instances. */
void
render_detail_args_end(struct jw *w, const struct s_detail *d)
{
	JW_LIT(w, "],\"cwd\":");
	jw_strz(w, d->has_cwd ? d->cwd : NULL);
	JW_LIT(w, ",\"instances\":");
	jw_u64(w, d->instances);
	JW_LIT(w, ",\"instance_details\":[");
}

void
render_detail_inst(struct jw *w, const struct s_instance *in, int first)
{
	jw_sep(w, first);
	JW_LIT(w, "{\"index\":");
	jw_u64(w, in->index);
	JW_LIT(w, ",\"pid\":");
	jw_opt_u64(w, (in->flags & P_HAS_PID) != 0, in->pid);
	JW_LIT(w, ",\"state\":");
	jw_state(w, &in->state);
	jw_usage(w, in->flags, in->cpu_percent, in->memory_bytes,
	    in->uptime_secs, in->restart_count);
	/* Ours, only when it applies: upstream's clients skip it. */
	if (in->flags & P_OOM_KILLED)
		JW_LIT(w, ",\"exit_reason\":\"oom_killed\"");
	jw_policy(w, in->flags, in->policy);
	jw_char(w, '}');
}

/*
 * "limits", ours, after credential_profile, only for a process that has
 * [processes.limits]: a process without it reads as upstream's.
 */
void
render_detail_limit(struct jw *w, const struct s_detail *d,
    const struct s_limit *l, int first)
{
	if (first) {
		JW_LIT(w, "],\"credential_profile\":");
		jw_strz(w, d->has_profile ? d->credential_profile : NULL);
		JW_LIT(w, ",\"limits\":[");
	} else
		jw_char(w, ',');
	JW_LIT(w, "{\"name\":");
	jw_strz(w, l->name);
	JW_LIT(w, ",\"value\":");
	jw_u64(w, l->value);
	JW_LIT(w, ",\"in_force\":");
	jw_bool(w, l->in_force != 0);
	JW_LIT(w, ",\"reason\":");
	jw_strz(w, l->has_reason ? l->reason : NULL);
	jw_char(w, '}');
}

void
render_detail_end(struct jw *w, const struct s_detail *d)
{
	if (d->nlimits > 0) {
		JW_LIT(w, "]}}");
		return;
	}
	JW_LIT(w, "],\"credential_profile\":");
	jw_strz(w, d->has_profile ? d->credential_profile : NULL);
	JW_LIT(w, "}}");
}

void
render_log_begin(struct jw *w)
{
	JW_LIT(w, "{\"type\":\"log_lines\",\"lines\":[");
}

/* One line: its header, then content_len bytes of any content. */
void
render_log_entry(struct jw *w, const struct s_logentry *l,
    const char *content, int first)
{
	struct apm2_time	t = { l->ts_sec, (long)l->ts_nsec };
	char			b[APM2_TIME_MAX];

	jw_sep(w, first);
	apm2_time_rfc3339(&t, b, sizeof(b));
	JW_LIT(w, "{\"timestamp\":\"");
	jw_rawz(w, b);
	JW_LIT(w, "\",\"process_name\":");
	jw_strz(w, l->process_name);
	JW_LIT(w, ",\"instance\":");
	jw_u64(w, l->instance);
	if (l->stream != 0)
		JW_LIT(w, ",\"stream\":\"stderr\",\"content\":");
	else
		JW_LIT(w, ",\"stream\":\"stdout\",\"content\":");
	jw_str(w, content, l->content_len);
	jw_char(w, '}');
}
