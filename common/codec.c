/* SPDX-License-Identifier: ISC */
/*
 * codec: the public JSON control protocol <-> C structs.
 *
 * Input goes through json_parse() first (cJSON plus strict syntax,
 * UTF-8, duplicate keys, depth), then a typed walk over the tree checks
 * the shape: required fields, exact integer ranges taken from the
 * number's text, known type and enum names.  Output is written with
 * jsonw in the declared field order with every Option present, as
 * serde_json does.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json.h"
#include "jsonw.h"

#define NSEC_PER_SEC	1000000000L

enum fkind {
	F_STR,			/* required string */
	F_OPTSTR,		/* string or null, may be missing */
	F_U32,
	F_BOOL,
	F_OPTBOOL		/* boolean, false if missing (not null) */
};

struct rfield {
	const char	*name;
	enum fkind	 kind;
	size_t		 off;
};

/* A request's fields; its name is proto_req_name()'s. */
struct reqdesc {
	const struct rfield	*f;
	size_t			 nf;
	int			 closed;	/* unknown keys refused */
};

/* A field looked up in an object. */
struct fslot {
	const char	*name;
	const cJSON	*v;
	int		 seen;
};

/* One parse: the tree and where its error goes. */
struct pctx {
	struct json	 j;
	char		*err;
	size_t		 errlen;
};

static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static void	sanitize(struct pctx *, const cJSON *, char *, size_t);
static void	quote(const char *, size_t, char *, size_t);
static int	unknown_key(struct pctx *, const cJSON *,
		    const struct reqdesc *);
static void	collect(struct pctx *, const cJSON *, struct fslot *,
		    size_t);
static int	getstr(struct pctx *, const struct fslot *, int, int, char **,
		    size_t *);
static int	getu32(struct pctx *, const struct fslot *, uint32_t *);
static int	getu64(struct pctx *, const struct fslot *, uint64_t *);
static int	getbool(struct pctx *, const struct fslot *, int *);
static int	resp_fields(struct pctx *, struct fslot *, struct apm2_resp *);
static int	resp_errcode(struct pctx *, const cJSON *, enum apm2_errcode *);
static int	getoptu32(struct pctx *, const struct fslot *, int *,
		    uint32_t *);
static int	getoptu64(struct pctx *, const struct fslot *, int *,
		    uint64_t *);
static int	getoptf32(struct pctx *, const struct fslot *, int *,
		    float *);
static int	gettime(struct pctx *, const struct fslot *, int, int *,
		    struct apm2_time *);
static int	getpolicy(struct pctx *, const struct fslot *,
		    struct apm2_policy *);
static int	getstate(struct pctx *, const struct fslot *,
		    struct apm2_state *);
static int	missing(struct pctx *, const struct fslot *);
static int	parse_state(struct pctx *, const cJSON *,
		    struct apm2_state *);
static int	parse_summary(struct pctx *, const cJSON *,
		    struct apm2_summary *);
static int	parse_instance(struct pctx *, const cJSON *,
		    struct apm2_instance *);
static int	parse_procinfo(struct pctx *, const cJSON *,
		    struct apm2_procinfo *);
static int	parse_limit(struct pctx *, const cJSON *,
		    struct apm2_limit *);
static int	parse_limits(struct pctx *, const struct fslot *,
		    struct apm2_procinfo *);
static int	parse_logentry(struct pctx *, const cJSON *,
		    struct apm2_logentry *);
static int	parse_credmeta(struct pctx *, const cJSON *,
		    struct apm2_credmeta *);
static int	getarray(struct pctx *, const struct fslot *, size_t, void **,
		    size_t *);
static void	free_procinfo(struct apm2_procinfo *);
static void	free_credmeta(struct apm2_credmeta *);
static void	jw_reqstr(struct jw *, const char *);
static int64_t	days_from_civil(int64_t, int, int);
static void	civil_from_days(int64_t, int64_t *, int *, int *);
static int	digits(const char *, int, int *);

static const struct rfield f_name[] = {
	{ "name", F_STR, offsetof(struct apm2_req, name) }
};
static const struct rfield f_tail[] = {
	{ "name", F_OPTSTR, offsetof(struct apm2_req, name) },
	{ "lines", F_U32, offsetof(struct apm2_req, lines) },
	{ "follow", F_BOOL, offsetof(struct apm2_req, follow) }
};
static const struct rfield f_profile[] = {
	{ "profile_id", F_STR, offsetof(struct apm2_req, profile_id) }
};
static const struct rfield f_addcred[] = {
	{ "profile_id", F_STR, offsetof(struct apm2_req, profile_id) },
	{ "provider", F_STR, offsetof(struct apm2_req, provider) },
	{ "auth_method", F_STR, offsetof(struct apm2_req, auth_method) }
};
static const struct rfield f_switch[] = {
	{ "process_name", F_STR, offsetof(struct apm2_req, process_name) },
	{ "profile_id", F_STR, offsetof(struct apm2_req, profile_id) }
};
static const struct rfield f_reload[] = {
	{ "dry_run", F_OPTBOOL, offsetof(struct apm2_req, dry_run) }
};

#define NF(a)	(sizeof(a) / sizeof((a)[0]))
#define REQ_MAXF	3

static const struct reqdesc reqs[REQ__COUNT] = {
	[REQ_GET_PROCESS] = { f_name, NF(f_name), 0 },
	[REQ_START_PROCESS] = { f_name, NF(f_name), 0 },
	[REQ_STOP_PROCESS] = { f_name, NF(f_name), 0 },
	[REQ_RESTART_PROCESS] = { f_name, NF(f_name), 0 },
	[REQ_RELOAD_PROCESS] = { f_name, NF(f_name), 0 },
	[REQ_TAIL_LOGS] = { f_tail, NF(f_tail), 0 },
	[REQ_GET_CREDENTIAL] = { f_profile, NF(f_profile), 0 },
	[REQ_ADD_CREDENTIAL] = { f_addcred, NF(f_addcred), 0 },
	[REQ_REMOVE_CREDENTIAL] = { f_profile, NF(f_profile), 0 },
	[REQ_REFRESH_CREDENTIAL] = { f_profile, NF(f_profile), 0 },
	[REQ_SWITCH_CREDENTIAL] = { f_switch, NF(f_switch), 0 },
	[REQ_RELOAD_CONFIG] = { f_reload, NF(f_reload), 1 },
	[REQ_GET_METRICS] = { NULL, 0, 1 }
};

static const char *const resp_names[RESP__COUNT] = {
	[RESP_PONG] = "pong",
	[RESP_STATUS] = "status",
	[RESP_PROCESS_LIST] = "process_list",
	[RESP_PROCESS_DETAILS] = "process_details",
	[RESP_OK] = "ok",
	[RESP_ERROR] = "error",
	[RESP_LOG_LINES] = "log_lines",
	[RESP_CREDENTIAL_LIST] = "credential_list",
	[RESP_CREDENTIAL_DETAILS] = "credential_details",
	[RESP_METRICS] = "metrics"
};

static const char *const err_names[ERR__COUNT] = {
	[ERR_PROCESS_NOT_FOUND] = "process_not_found",
	[ERR_PROCESS_ALREADY_RUNNING] = "process_already_running",
	[ERR_PROCESS_NOT_RUNNING] = "process_not_running",
	[ERR_CREDENTIAL_NOT_FOUND] = "credential_not_found",
	[ERR_CREDENTIAL_EXISTS] = "credential_exists",
	[ERR_INVALID_REQUEST] = "invalid_request",
	[ERR_INTERNAL_ERROR] = "internal_error",
	[ERR_NOT_SUPPORTED] = "not_supported",
	[ERR_PERMISSION_DENIED] = "permission_denied"
};

static const char *const err_debug[ERR__COUNT] = {
	[ERR_PROCESS_NOT_FOUND] = "ProcessNotFound",
	[ERR_PROCESS_ALREADY_RUNNING] = "ProcessAlreadyRunning",
	[ERR_PROCESS_NOT_RUNNING] = "ProcessNotRunning",
	[ERR_CREDENTIAL_NOT_FOUND] = "CredentialNotFound",
	[ERR_CREDENTIAL_EXISTS] = "CredentialExists",
	[ERR_INVALID_REQUEST] = "InvalidRequest",
	[ERR_INTERNAL_ERROR] = "InternalError",
	[ERR_NOT_SUPPORTED] = "NotSupported",
	[ERR_PERMISSION_DENIED] = "PermissionDenied"
};

static const char *const st_names[ST__COUNT] = {
	[ST_STARTING] = "Starting",
	[ST_RUNNING] = "Running",
	[ST_UNHEALTHY] = "Unhealthy",
	[ST_STOPPING] = "Stopping",
	[ST_STOPPED] = "Stopped",
	[ST_CRASHED] = "Crashed",
	[ST_TERMINATED] = "Terminated"
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A string value as printable ASCII for an error message, or "". */
static void
sanitize(struct pctx *pc, const cJSON *v, char *out, size_t outlen)
{
	const char	*s;
	size_t		 n;

	out[0] = '\0';
	if (!cJSON_IsString(v))
		return;
	s = json_str(&pc->j, v, &n);
	quote(s, n, out, outlen);
}

/* s[0..n) as ' "s"' if it is short printable ASCII, else "". */
static void
quote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t	 i;

	out[0] = '\0';
	if (n > 64 || n + 4 > outlen)
		return;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return;
	(void)snprintf(out, outlen, " \"%.*s\"", (int)n, s);
}

/*
 * A request that refuses unknown keys: -1 with the message if obj has a
 * key that is neither "type" nor one of d's fields.
 */
static int
unknown_key(struct pctx *pc, const cJSON *obj, const struct reqdesc *d)
{
	const cJSON	*c;
	const char	*k;
	char		 what[80];
	size_t		 i, n;

	for (c = obj->child; c != NULL; c = c->next) {
		if (json_keyeq(&pc->j, c, "type"))
			continue;
		for (i = 0; i < d->nf; i++)
			if (json_keyeq(&pc->j, c, d->f[i].name))
				break;
		if (i < d->nf)
			continue;
		k = json_key(&pc->j, c, &n);
		quote(k, n, what, sizeof(what));
		seterr(pc->err, pc->errlen, "unknown field%s", what);
		return (-1);
	}
	return (0);
}

/* One pass over obj's members filling the named slots. */
static void
collect(struct pctx *pc, const cJSON *obj, struct fslot *s, size_t n)
{
	const cJSON	*c;
	size_t		 i;

	for (i = 0; i < n; i++)
		s[i].seen = 0;
	for (c = obj->child; c != NULL; c = c->next) {
		for (i = 0; i < n; i++) {
			/* json_parse() ruled out duplicate keys. */
			if (!s[i].seen && json_keyeq(&pc->j, c, s[i].name)) {
				s[i].v = c;
				s[i].seen = 1;
				break;
			}
		}
	}
}

static int
missing(struct pctx *pc, const struct fslot *s)
{
	seterr(pc->err, pc->errlen, "missing field \"%s\"", s->name);
	return (-1);
}

/*
 * A string field.  opt: may be null or missing (*out stays NULL).
 * With allownul, NUL bytes are allowed and lenp gets the length.
 */
static int
getstr(struct pctx *pc, const struct fslot *s, int opt, int allownul,
    char **out, size_t *lenp)
{
	const char	*v;
	size_t		 n;

	*out = NULL;
	if (!s->seen || cJSON_IsNull(s->v)) {
		if (opt)
			return (0);
		if (!s->seen)
			return (missing(pc, s));
	}
	if (!cJSON_IsString(s->v)) {
		seterr(pc->err, pc->errlen, "field \"%s\": expected a string, "
		    "got %s", s->name, json_typename(s->v));
		return (-1);
	}
	v = json_str(&pc->j, s->v, &n);
	if (!allownul && memchr(v, '\0', n) != NULL) {
		seterr(pc->err, pc->errlen, "field \"%s\": contains a NUL "
		    "character", s->name);
		return (-1);
	}
	if ((*out = malloc(n + 1)) == NULL) {
		seterr(pc->err, pc->errlen, "out of memory");
		return (-1);
	}
	memcpy(*out, v, n + 1);
	if (lenp != NULL)
		*lenp = n;
	return (0);
}

static int
getu64(struct pctx *pc, const struct fslot *s, uint64_t *out)
{
	if (!s->seen)
		return (missing(pc, s));
	if (json_uint(&pc->j, s->v, UINT64_MAX, out) == -1) {
		seterr(pc->err, pc->errlen, "field \"%s\": expected an "
		    "unsigned 64-bit integer", s->name);
		return (-1);
	}
	return (0);
}

static int
getu32(struct pctx *pc, const struct fslot *s, uint32_t *out)
{
	uint64_t	 v;

	if (!s->seen)
		return (missing(pc, s));
	if (json_uint(&pc->j, s->v, UINT32_MAX, &v) == -1) {
		seterr(pc->err, pc->errlen, "field \"%s\": expected an "
		    "unsigned 32-bit integer", s->name);
		return (-1);
	}
	*out = (uint32_t)v;
	return (0);
}

static int
getbool(struct pctx *pc, const struct fslot *s, int *out)
{
	if (!s->seen)
		return (missing(pc, s));
	if (!cJSON_IsBool(s->v)) {
		seterr(pc->err, pc->errlen, "field \"%s\": expected a "
		    "boolean, got %s", s->name, json_typename(s->v));
		return (-1);
	}
	*out = cJSON_IsTrue(s->v);
	return (0);
}

static int
getoptu64(struct pctx *pc, const struct fslot *s, int *has, uint64_t *out)
{
	*has = 0;
	if (!s->seen || cJSON_IsNull(s->v))
		return (0);
	if (getu64(pc, s, out) == -1)
		return (-1);
	*has = 1;
	return (0);
}

static int
getoptu32(struct pctx *pc, const struct fslot *s, int *has, uint32_t *out)
{
	*has = 0;
	if (!s->seen || cJSON_IsNull(s->v))
		return (0);
	if (getu32(pc, s, out) == -1)
		return (-1);
	*has = 1;
	return (0);
}

static int
getoptf32(struct pctx *pc, const struct fslot *s, int *has, float *out)
{
	*has = 0;
	if (!s->seen || cJSON_IsNull(s->v))
		return (0);
	if (json_f32(s->v, out) == -1) {
		seterr(pc->err, pc->errlen, "field \"%s\": expected a 32-bit "
		    "float", s->name);
		return (-1);
	}
	*has = 1;
	return (0);
}

static int
gettime(struct pctx *pc, const struct fslot *s, int opt, int *has,
    struct apm2_time *t)
{
	char	*str;

	if (has != NULL)
		*has = 0;
	if (getstr(pc, s, opt, 0, &str, NULL) == -1)
		return (-1);
	if (str == NULL)
		return (0);
	if (apm2_time_parse_rfc3339(str, t) == -1) {
		free(str);
		seterr(pc->err, pc->errlen, "field \"%s\": invalid RFC 3339 "
		    "timestamp", s->name);
		return (-1);
	}
	free(str);
	if (has != NULL)
		*has = 1;
	return (0);
}

/* restart_in_secs, gave_up and gave_up_after (fs[0..2]), all optional. */
static int
getpolicy(struct pctx *pc, const struct fslot *fs, struct apm2_policy *p)
{
	int	has;

	memset(p, 0, sizeof(*p));
	if (getoptu64(pc, &fs[0], &p->has_restart_in,
	    &p->restart_in_secs) == -1 ||
	    getoptu32(pc, &fs[2], &has, &p->gave_up_after) == -1)
		return (-1);
	if (fs[1].seen && !cJSON_IsNull(fs[1].v) &&
	    getbool(pc, &fs[1], &p->gave_up) == -1)
		return (-1);
	return (0);
}

static int
getstate(struct pctx *pc, const struct fslot *s, struct apm2_state *st)
{
	if (!s->seen)
		return (missing(pc, s));
	if (parse_state(pc, s->v, st) == -1) {
		seterr(pc->err, pc->errlen, "field \"%s\": invalid process "
		    "state", s->name);
		return (-1);
	}
	return (0);
}

/*
 * An array field of objects: allocates *arr with one zeroed element per
 * entry and sets *np before the elements are parsed, so a failure part
 * way leaves something the free functions handle.
 */
static int
getarray(struct pctx *pc, const struct fslot *s, size_t elsize, void **arr,
    size_t *np)
{
	const cJSON	*c;
	size_t		 n = 0;

	*arr = NULL;
	*np = 0;
	if (!s->seen)
		return (missing(pc, s));
	if (!cJSON_IsArray(s->v)) {
		seterr(pc->err, pc->errlen, "field \"%s\": expected an array, "
		    "got %s", s->name, json_typename(s->v));
		return (-1);
	}
	for (c = s->v->child; c != NULL; c = c->next)
		n++;
	if (n == 0)
		return (0);
	if ((*arr = calloc(n, elsize)) == NULL) {
		seterr(pc->err, pc->errlen, "out of memory");
		return (-1);
	}
	*np = n;
	return (0);
}

const char *
apm2_req_type_name(enum apm2_req_type t)
{
	if ((unsigned int)t >= REQ__COUNT)
		return ("unknown");
	return (proto_req_name(t));
}

int
apm2_req_type_from_name(const char *name)
{
	int	 i;

	for (i = 0; i < REQ__COUNT; i++)
		if (strcmp(proto_req_name(i), name) == 0)
			return (i);
	return (-1);
}

const char *
apm2_resp_type_name(enum apm2_resp_type t)
{
	if ((unsigned int)t >= RESP__COUNT)
		return ("unknown");
	return (resp_names[t]);
}

const char *
apm2_errcode_name(enum apm2_errcode c)
{
	if ((unsigned int)c >= ERR__COUNT)
		return ("internal_error");
	return (err_names[c]);
}

const char *
apm2_errcode_debug(enum apm2_errcode c)
{
	if ((unsigned int)c >= ERR__COUNT)
		return ("InternalError");
	return (err_debug[c]);
}

const char *
apm2_state_name(enum apm2_state_kind k)
{
	if ((unsigned int)k >= ST__COUNT)
		return ("Unknown");
	return (st_names[k]);
}

const char *
apm2_state_human(const struct apm2_state *st, char *buf, size_t len)
{
	const char	*h;

	if (len == 0)
		return (buf);
	h = (unsigned int)st->kind < ST__COUNT ? proto_state_name(st->kind) :
	    "unknown";
	if ((st->kind == ST_STOPPED || st->kind == ST_CRASHED) &&
	    st->has_code)
		(void)snprintf(buf, len, "%s (exit code: %d)", h,
		    (int)st->exit_code);
	else
		(void)strlcpy(buf, h, len);
	return (buf);
}

int
apm2_req_parse(const char *buf, size_t len, struct apm2_req *req, char *err,
    size_t errlen)
{
	struct pctx		 pc;
	struct fslot		 ts[1] = { { "type", NULL, 0 } };
	struct fslot		 fs[REQ_MAXF];
	const struct reqdesc	*d;
	const cJSON		*root;
	char			 what[80];
	char			**sp;
	uint32_t		*up;
	size_t			 i;
	int			 t;

	memset(req, 0, sizeof(*req));
	seterr(err, errlen, "%s", "");
	pc.err = err;
	pc.errlen = errlen;
	if (json_parse(&pc.j, buf, len, APM2_JSON_MAXDEPTH, APM2_REQ_MAXITEMS,
	    err, errlen) == -1)
		return (-1);
	root = pc.j.root;
	t = REQ__COUNT;
	if (!cJSON_IsObject(root)) {
		seterr(err, errlen, "request must be a JSON object, got %s",
		    json_typename(root));
		goto fail;
	}
	collect(&pc, root, ts, 1);
	if (!ts[0].seen) {
		(void)missing(&pc, &ts[0]);
		goto fail;
	}
	if (!cJSON_IsString(ts[0].v)) {
		seterr(err, errlen, "field \"type\": expected a string, got %s",
		    json_typename(ts[0].v));
		goto fail;
	}
	for (t = 0; t < REQ__COUNT; t++)
		if (json_streq(&pc.j, ts[0].v, proto_req_name(t)))
			break;
	if (t == REQ__COUNT) {
		sanitize(&pc, ts[0].v, what, sizeof(what));
		seterr(err, errlen, "unknown request type%s", what);
		goto fail;
	}
	req->type = (enum apm2_req_type)t;
	d = &reqs[t];
	if (d->closed && unknown_key(&pc, root, d) == -1)
		goto fail;
	for (i = 0; i < d->nf; i++)
		fs[i].name = d->f[i].name;
	if (d->nf > 0)
		collect(&pc, root, fs, d->nf);
	for (i = 0; i < d->nf; i++) {
		switch (d->f[i].kind) {
		case F_STR:
		case F_OPTSTR:
			sp = (char **)(void *)((char *)req + d->f[i].off);
			if (getstr(&pc, &fs[i], d->f[i].kind == F_OPTSTR, 0,
			    sp, NULL) == -1)
				goto fail;
			break;
		case F_U32:
			up = (uint32_t *)(void *)((char *)req + d->f[i].off);
			if (getu32(&pc, &fs[i], up) == -1)
				goto fail;
			break;
		case F_OPTBOOL:
			if (!fs[i].seen)
				break;		/* false */
			/* FALLTHROUGH */
		case F_BOOL:
			if (getbool(&pc, &fs[i],
			    (int *)(void *)((char *)req + d->f[i].off)) == -1)
				goto fail;
			break;
		}
	}
	json_free(&pc.j);
	return (0);
 fail:
	json_free(&pc.j);
	apm2_req_free(req);
	if (t < REQ__COUNT)
		req->type = (enum apm2_req_type)t;
	return (-1);
}

char *
apm2_req_render(const struct apm2_req *req, size_t *lenp)
{
	const struct reqdesc	*d;
	const void		*fp;
	struct jw		 w;
	size_t			 i;

	if ((unsigned int)req->type >= REQ__COUNT)
		return (NULL);
	d = &reqs[req->type];
	jw_init(&w);
	jw_raw(&w, "{\"type\":\"", 9);
	jw_rawz(&w, proto_req_name(req->type));
	jw_char(&w, '"');
	for (i = 0; i < d->nf; i++) {
		fp = (const char *)req + d->f[i].off;
		jw_raw(&w, ",\"", 2);
		jw_rawz(&w, d->f[i].name);
		jw_raw(&w, "\":", 2);
		switch (d->f[i].kind) {
		case F_STR:
			jw_reqstr(&w, *(char *const *)fp);
			break;
		case F_OPTSTR:
			jw_strz(&w, *(char *const *)fp);
			break;
		case F_U32:
			jw_u64(&w, *(const uint32_t *)fp);
			break;
		case F_BOOL:
		case F_OPTBOOL:
			jw_bool(&w, *(const int *)fp);
			break;
		}
	}
	jw_char(&w, '}');
	return (jw_detach(&w, lenp));
}

void
apm2_req_free(struct apm2_req *req)
{
	free(req->name);
	free(req->profile_id);
	free(req->provider);
	free(req->auth_method);
	free(req->process_name);
	memset(req, 0, sizeof(*req));
}

/*
 * ProcessState, externally tagged: "Running", {"Running":null},
 * {"Stopped":{"exit_code":N|null}} (exit_code may be missing: null).
 */
static int
parse_state(struct pctx *pc, const cJSON *v, struct apm2_state *st)
{
	struct fslot	 fs[1] = { { "exit_code", NULL, 0 } };
	const cJSON	*m;
	int64_t		 code;
	int		 i;

	memset(st, 0, sizeof(*st));
	if (cJSON_IsString(v)) {
		for (i = 0; i < ST__COUNT; i++)
			if (json_streq(&pc->j, v, st_names[i]))
				break;
		/* Stopped and Crashed carry data: not unit variants. */
		if (i == ST__COUNT || i == ST_STOPPED || i == ST_CRASHED)
			return (-1);
		st->kind = (enum apm2_state_kind)i;
		return (0);
	}
	if (!cJSON_IsObject(v) || (m = v->child) == NULL || m->next != NULL)
		return (-1);
	for (i = 0; i < ST__COUNT; i++)
		if (json_keyeq(&pc->j, m, st_names[i]))
			break;
	if (i == ST__COUNT)
		return (-1);
	st->kind = (enum apm2_state_kind)i;
	if (i != ST_STOPPED && i != ST_CRASHED)
		return (cJSON_IsNull(m) ? 0 : -1);
	if (!cJSON_IsObject(m))
		return (-1);
	collect(pc, m, fs, 1);
	if (!fs[0].seen || cJSON_IsNull(fs[0].v))
		return (0);
	if (json_int(&pc->j, fs[0].v, INT32_MIN, INT32_MAX, &code) == -1)
		return (-1);
	st->has_code = 1;
	st->exit_code = (int32_t)code;
	return (0);
}

static int
parse_summary(struct pctx *pc, const cJSON *o, struct apm2_summary *s)
{
	struct fslot	 fs[] = {
		{ "name", NULL, 0 },
		{ "instances", NULL, 0 },
		{ "running", NULL, 0 },
		{ "status", NULL, 0 },
		{ "cpu_percent", NULL, 0 },
		{ "memory_bytes", NULL, 0 },
		{ "uptime_secs", NULL, 0 },
		{ "restart_count", NULL, 0 },
		{ "restart_in_secs", NULL, 0 },
		{ "gave_up", NULL, 0 },
		{ "gave_up_after", NULL, 0 }
	};

	if (!cJSON_IsObject(o)) {
		seterr(pc->err, pc->errlen, "process summary must be an "
		    "object");
		return (-1);
	}
	collect(pc, o, fs, NF(fs));
	if (getpolicy(pc, &fs[8], &s->policy) == -1)
		return (-1);
	if (getstr(pc, &fs[0], 0, 0, &s->name, NULL) == -1 ||
	    getu32(pc, &fs[1], &s->instances) == -1 ||
	    getu32(pc, &fs[2], &s->running) == -1 ||
	    getstate(pc, &fs[3], &s->status) == -1 ||
	    getoptf32(pc, &fs[4], &s->has_cpu, &s->cpu_percent) == -1 ||
	    getoptu64(pc, &fs[5], &s->has_mem, &s->memory_bytes) == -1 ||
	    getoptu64(pc, &fs[6], &s->has_uptime, &s->uptime_secs) == -1 ||
	    getu32(pc, &fs[7], &s->restart_count) == -1)
		return (-1);
	return (0);
}

static int
parse_instance(struct pctx *pc, const cJSON *o, struct apm2_instance *in)
{
	struct fslot	 fs[] = {
		{ "index", NULL, 0 },
		{ "pid", NULL, 0 },
		{ "state", NULL, 0 },
		{ "cpu_percent", NULL, 0 },
		{ "memory_bytes", NULL, 0 },
		{ "uptime_secs", NULL, 0 },
		{ "restart_count", NULL, 0 },
		{ "exit_reason", NULL, 0 },
		{ "restart_in_secs", NULL, 0 },
		{ "gave_up", NULL, 0 },
		{ "gave_up_after", NULL, 0 }
	};

	if (!cJSON_IsObject(o)) {
		seterr(pc->err, pc->errlen, "instance info must be an object");
		return (-1);
	}
	collect(pc, o, fs, NF(fs));
	if (getpolicy(pc, &fs[8], &in->policy) == -1)
		return (-1);
	if (getu32(pc, &fs[0], &in->index) == -1 ||
	    getoptu32(pc, &fs[1], &in->has_pid, &in->pid) == -1 ||
	    getstate(pc, &fs[2], &in->state) == -1 ||
	    getoptf32(pc, &fs[3], &in->has_cpu, &in->cpu_percent) == -1 ||
	    getoptu64(pc, &fs[4], &in->has_mem, &in->memory_bytes) == -1 ||
	    getoptu64(pc, &fs[5], &in->has_uptime, &in->uptime_secs) == -1 ||
	    getu32(pc, &fs[6], &in->restart_count) == -1 ||
	    getstr(pc, &fs[7], 1, 0, &in->exit_reason, NULL) == -1)
		return (-1);
	return (0);
}

static int
parse_procinfo(struct pctx *pc, const cJSON *o, struct apm2_procinfo *p)
{
	struct fslot	 fs[] = {
		{ "name", NULL, 0 },
		{ "id", NULL, 0 },
		{ "command", NULL, 0 },
		{ "args", NULL, 0 },
		{ "cwd", NULL, 0 },
		{ "instances", NULL, 0 },
		{ "instance_details", NULL, 0 },
		{ "credential_profile", NULL, 0 },
		{ "limits", NULL, 0 }
	};
	struct fslot	 el = { "args", NULL, 1 };
	const char	*id;
	void		*arr;
	size_t		 i, n;

	if (!cJSON_IsObject(o)) {
		seterr(pc->err, pc->errlen, "field \"process\": expected an "
		    "object");
		return (-1);
	}
	collect(pc, o, fs, NF(fs));
	if (getstr(pc, &fs[0], 0, 0, &p->name, NULL) == -1)
		return (-1);
	if (!fs[1].seen)
		return (missing(pc, &fs[1]));
	if (!cJSON_IsString(fs[1].v)) {
		seterr(pc->err, pc->errlen, "field \"id\": expected a UUID "
		    "string");
		return (-1);
	}
	id = json_str(&pc->j, fs[1].v, &n);
	if (apm2_uuid_parse(id, n, p->id) == -1) {
		seterr(pc->err, pc->errlen, "field \"id\": invalid UUID");
		return (-1);
	}
	if (getstr(pc, &fs[2], 0, 0, &p->command, NULL) == -1)
		return (-1);
	if (!fs[3].seen)
		return (missing(pc, &fs[3]));
	if (!cJSON_IsArray(fs[3].v)) {
		seterr(pc->err, pc->errlen, "field \"args\": expected an "
		    "array");
		return (-1);
	}
	for (el.v = fs[3].v->child; el.v != NULL; el.v = el.v->next)
		p->nargs++;
	if (p->nargs > 0) {
		if ((p->args = calloc(p->nargs, sizeof(*p->args))) == NULL) {
			p->nargs = 0;
			seterr(pc->err, pc->errlen, "out of memory");
			return (-1);
		}
		for (i = 0, el.v = fs[3].v->child; el.v != NULL;
		    el.v = el.v->next, i++)
			if (getstr(pc, &el, 0, 0, &p->args[i], NULL) == -1)
				return (-1);
	}
	if (getstr(pc, &fs[4], 1, 0, &p->cwd, NULL) == -1 ||
	    getu32(pc, &fs[5], &p->instances) == -1)
		return (-1);
	if (getarray(pc, &fs[6], sizeof(*p->inst), &arr, &p->ninst) == -1)
		return (-1);
	p->inst = arr;
	for (i = 0, el.v = p->ninst > 0 ? fs[6].v->child : NULL;
	    el.v != NULL; el.v = el.v->next, i++)
		if (parse_instance(pc, el.v, &p->inst[i]) == -1)
			return (-1);
	if (getstr(pc, &fs[7], 1, 0, &p->credential_profile, NULL) == -1 ||
	    parse_limits(pc, &fs[8], p) == -1)
		return (-1);
	return (0);
}

/* One element of "limits": {"name","value","in_force","reason"}. */
static int
parse_limit(struct pctx *pc, const cJSON *o, struct apm2_limit *l)
{
	struct fslot	 fs[] = {
		{ "name", NULL, 0 },
		{ "value", NULL, 0 },
		{ "in_force", NULL, 0 },
		{ "reason", NULL, 0 }
	};

	if (!cJSON_IsObject(o)) {
		seterr(pc->err, pc->errlen, "limit must be an object");
		return (-1);
	}
	collect(pc, o, fs, NF(fs));
	if (getstr(pc, &fs[0], 0, 0, &l->name, NULL) == -1)
		return (-1);
	/* The name picks the unit it is printed in: it must say something. */
	if (l->name[0] == '\0') {
		seterr(pc->err, pc->errlen, "field \"name\": empty limit "
		    "name");
		return (-1);
	}
	if (getu64(pc, &fs[1], &l->value) == -1 ||
	    getbool(pc, &fs[2], &l->in_force) == -1 ||
	    getstr(pc, &fs[3], 1, 0, &l->reason, NULL) == -1)
		return (-1);
	return (0);
}

/*
 * "limits", which only daemons that apply limits send, and only for a
 * process that has some: missing or null is none, like an Option.
 */
static int
parse_limits(struct pctx *pc, const struct fslot *s, struct apm2_procinfo *p)
{
	const cJSON	*el;
	void		*arr;
	size_t		 i;

	if (!s->seen || cJSON_IsNull(s->v))
		return (0);
	if (getarray(pc, s, sizeof(*p->limits), &arr, &p->nlimits) == -1)
		return (-1);
	p->limits = arr;
	for (i = 0, el = p->nlimits > 0 ? s->v->child : NULL; el != NULL;
	    el = el->next, i++)
		if (parse_limit(pc, el, &p->limits[i]) == -1)
			return (-1);
	return (0);
}

static int
parse_logentry(struct pctx *pc, const cJSON *o, struct apm2_logentry *l)
{
	struct fslot	 fs[] = {
		{ "timestamp", NULL, 0 },
		{ "process_name", NULL, 0 },
		{ "instance", NULL, 0 },
		{ "stream", NULL, 0 },
		{ "content", NULL, 0 }
	};

	if (!cJSON_IsObject(o)) {
		seterr(pc->err, pc->errlen, "log entry must be an object");
		return (-1);
	}
	collect(pc, o, fs, NF(fs));
	if (gettime(pc, &fs[0], 0, NULL, &l->timestamp) == -1 ||
	    getstr(pc, &fs[1], 0, 0, &l->process_name, NULL) == -1 ||
	    getu32(pc, &fs[2], &l->instance) == -1 ||
	    getstr(pc, &fs[3], 0, 0, &l->stream, NULL) == -1 ||
	    getstr(pc, &fs[4], 0, 1, &l->content, &l->content_len) == -1)
		return (-1);
	return (0);
}

static int
parse_credmeta(struct pctx *pc, const cJSON *o, struct apm2_credmeta *c)
{
	struct fslot	 fs[] = {
		{ "id", NULL, 0 },
		{ "provider", NULL, 0 },
		{ "label", NULL, 0 },
		{ "auth_method", NULL, 0 },
		{ "expires_at", NULL, 0 },
		{ "created_at", NULL, 0 },
		{ "last_used_at", NULL, 0 }
	};

	if (!cJSON_IsObject(o)) {
		seterr(pc->err, pc->errlen, "credential profile must be an "
		    "object");
		return (-1);
	}
	collect(pc, o, fs, NF(fs));
	if (getstr(pc, &fs[0], 0, 0, &c->id, NULL) == -1 ||
	    getstr(pc, &fs[1], 0, 0, &c->provider, NULL) == -1 ||
	    getstr(pc, &fs[2], 1, 0, &c->label, NULL) == -1 ||
	    getstr(pc, &fs[3], 0, 0, &c->auth_method, NULL) == -1 ||
	    gettime(pc, &fs[4], 1, &c->has_expires, &c->expires_at) == -1 ||
	    gettime(pc, &fs[5], 0, NULL, &c->created_at) == -1 ||
	    gettime(pc, &fs[6], 1, &c->has_last_used, &c->last_used_at) == -1)
		return (-1);
	return (0);
}
/* An error reply's "code": one of the snake_case names. */
static int
resp_errcode(struct pctx *pc, const cJSON *v, enum apm2_errcode *codep)
{
	char	 what[80];
	size_t	 i;

	for (i = 0; i < ERR__COUNT; i++)
		if (json_streq(&pc->j, v, err_names[i])) {
			*codep = (enum apm2_errcode)i;
			return (0);
		}
	sanitize(pc, v, what, sizeof(what));
	seterr(pc->err, pc->errlen, "unknown error code%s", what);
	return (-1);
}

/* The fields of a reply of type r->type (fs: apm2_resp_parse's slots). */
static int
resp_fields(struct pctx *pc, struct fslot *fs, struct apm2_resp *r)
{
	const cJSON	*el;
	void		*arr;
	size_t		 i;

	switch (r->type) {
	case RESP_PONG:
		if (getstr(pc, &fs[1], 0, 0, &r->version, NULL) == -1 ||
		    getu64(pc, &fs[2], &r->uptime_secs) == -1)
			return (-1);
		break;
	case RESP_STATUS:
		if (getstr(pc, &fs[1], 0, 0, &r->version, NULL) == -1 ||
		    getu32(pc, &fs[3], &r->pid) == -1 ||
		    getu64(pc, &fs[2], &r->uptime_secs) == -1 ||
		    getu32(pc, &fs[4], &r->process_count) == -1 ||
		    getu32(pc, &fs[5], &r->running_instances) == -1)
			return (-1);
		break;
	case RESP_PROCESS_LIST:
		if (getarray(pc, &fs[6], sizeof(*r->procs), &arr,
		    &r->nprocs) == -1)
			return (-1);
		r->procs = arr;
		for (i = 0, el = r->nprocs > 0 ? fs[6].v->child : NULL;
		    el != NULL; el = el->next, i++)
			if (parse_summary(pc, el, &r->procs[i]) == -1)
				return (-1);
		break;
	case RESP_PROCESS_DETAILS:
		if (!fs[7].seen) {
			(void)missing(pc, &fs[7]);
			return (-1);
		}
		if (parse_procinfo(pc, fs[7].v, &r->proc) == -1)
			return (-1);
		break;
	case RESP_OK:
		if (getstr(pc, &fs[8], 1, 0, &r->message, NULL) == -1)
			return (-1);
		break;
	case RESP_ERROR:
		if (!fs[9].seen) {
			(void)missing(pc, &fs[9]);
			return (-1);
		}
		if (resp_errcode(pc, fs[9].v, &r->code) == -1 ||
		    getstr(pc, &fs[8], 0, 0, &r->message, NULL) == -1)
			return (-1);
		break;
	case RESP_LOG_LINES:
		if (getarray(pc, &fs[10], sizeof(*r->lines), &arr,
		    &r->nlines) == -1)
			return (-1);
		r->lines = arr;
		for (i = 0, el = r->nlines > 0 ? fs[10].v->child : NULL;
		    el != NULL; el = el->next, i++)
			if (parse_logentry(pc, el, &r->lines[i]) == -1)
				return (-1);
		break;
	case RESP_CREDENTIAL_LIST:
		if (getarray(pc, &fs[11], sizeof(*r->profiles), &arr,
		    &r->nprofiles) == -1)
			return (-1);
		r->profiles = arr;
		for (i = 0, el = r->nprofiles > 0 ? fs[11].v->child : NULL;
		    el != NULL; el = el->next, i++)
			if (parse_credmeta(pc, el, &r->profiles[i]) == -1)
				return (-1);
		break;
	case RESP_CREDENTIAL_DETAILS:
		if (!fs[12].seen) {
			(void)missing(pc, &fs[12]);
			return (-1);
		}
		if (parse_credmeta(pc, fs[12].v, &r->profile) == -1)
			return (-1);
		break;
	case RESP_METRICS:
		if (getstr(pc, &fs[13], 0, 0, &r->text, NULL) == -1)
			return (-1);
		break;
	case RESP__COUNT:
		break;
	}
	return (0);
}

int
apm2_resp_parse(const char *buf, size_t len, struct apm2_resp *r, char *err,
    size_t errlen)
{
	struct fslot	 fs[] = {
		{ "type", NULL, 0 },			/* 0 */
		{ "version", NULL, 0 },			/* 1 */
		{ "uptime_secs", NULL, 0 },		/* 2 */
		{ "pid", NULL, 0 },			/* 3 */
		{ "process_count", NULL, 0 },		/* 4 */
		{ "running_instances", NULL, 0 },	/* 5 */
		{ "processes", NULL, 0 },		/* 6 */
		{ "process", NULL, 0 },			/* 7 */
		{ "message", NULL, 0 },			/* 8 */
		{ "code", NULL, 0 },			/* 9 */
		{ "lines", NULL, 0 },			/* 10 */
		{ "profiles", NULL, 0 },		/* 11 */
		{ "profile", NULL, 0 },			/* 12 */
		{ "text", NULL, 0 }			/* 13 */
	};
	struct pctx	 pc;
	const cJSON	*root;
	char		 what[80];
	int		 t;

	memset(r, 0, sizeof(*r));
	seterr(err, errlen, "%s", "");
	pc.err = err;
	pc.errlen = errlen;
	/* apm2ctl trusts the daemon with the size of its replies. */
	if (json_parse(&pc.j, buf, len, APM2_JSON_MAXDEPTH, JSON_NOLIMIT, err,
	    errlen) == -1)
		return (-1);
	root = pc.j.root;
	t = RESP__COUNT;
	if (!cJSON_IsObject(root)) {
		seterr(err, errlen, "response must be a JSON object, got %s",
		    json_typename(root));
		goto fail;
	}
	collect(&pc, root, fs, NF(fs));
	if (!fs[0].seen) {
		(void)missing(&pc, &fs[0]);
		goto fail;
	}
	if (!cJSON_IsString(fs[0].v)) {
		seterr(err, errlen, "field \"type\": expected a string, got %s",
		    json_typename(fs[0].v));
		goto fail;
	}
	for (t = 0; t < RESP__COUNT; t++)
		if (json_streq(&pc.j, fs[0].v, resp_names[t]))
			break;
	if (t == RESP__COUNT) {
		sanitize(&pc, fs[0].v, what, sizeof(what));
		seterr(err, errlen, "unknown response type%s", what);
		goto fail;
	}
	r->type = (enum apm2_resp_type)t;
	if (resp_fields(&pc, fs, r) == -1)
		goto fail;
	json_free(&pc.j);
	return (0);
 fail:
	json_free(&pc.j);
	apm2_resp_free(r);
	if (t < RESP__COUNT)
		r->type = (enum apm2_resp_type)t;
	return (-1);
}

static void
free_procinfo(struct apm2_procinfo *p)
{
	size_t	 i;

	free(p->name);
	free(p->command);
	if (p->args != NULL)
		for (i = 0; i < p->nargs; i++)
			free(p->args[i]);
	free(p->args);
	free(p->cwd);
	if (p->inst != NULL)
		for (i = 0; i < p->ninst; i++)
			free(p->inst[i].exit_reason);
	free(p->inst);
	free(p->credential_profile);
	if (p->limits != NULL)
		for (i = 0; i < p->nlimits; i++) {
			free(p->limits[i].name);
			free(p->limits[i].reason);
		}
	free(p->limits);
	memset(p, 0, sizeof(*p));
}

static void
free_credmeta(struct apm2_credmeta *c)
{
	free(c->id);
	free(c->provider);
	free(c->label);
	free(c->auth_method);
	memset(c, 0, sizeof(*c));
}

void
apm2_resp_free(struct apm2_resp *r)
{
	size_t	 i;

	free(r->version);
	free(r->text);
	if (r->procs != NULL)
		for (i = 0; i < r->nprocs; i++)
			free(r->procs[i].name);
	free(r->procs);
	free_procinfo(&r->proc);
	free(r->message);
	if (r->lines != NULL)
		for (i = 0; i < r->nlines; i++) {
			free(r->lines[i].process_name);
			free(r->lines[i].stream);
			free(r->lines[i].content);
		}
	free(r->lines);
	if (r->profiles != NULL)
		for (i = 0; i < r->nprofiles; i++)
			free_credmeta(&r->profiles[i]);
	free(r->profiles);
	free_credmeta(&r->profile);
	memset(r, 0, sizeof(*r));
}

/* A required string: NULL is a caller bug, so the output is refused. */
static void
jw_reqstr(struct jw *w, const char *s)
{
	if (s == NULL)
		w->failed = 1;
	else
		jw_str(w, s, strlen(s));
}

/*
 * Civil calendar <-> days since 1970-01-01 (proleptic Gregorian), by
 * counting 400-year eras from 0000-03-01 so leap days fall at era ends.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

static void
civil_from_days(int64_t z, int64_t *yp, int *mp, int *dp)
{
	int64_t	 era, doe, yoe, doy, mm, y;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mm = (5 * doy + 2) / 153;
	*dp = (int)(doy - (153 * mm + 2) / 5 + 1);
	*mp = (int)(mm < 10 ? mm + 3 : mm - 9);
	*yp = y + (*mp <= 2);
}

void
apm2_time_rfc3339(const struct apm2_time *t, char *buf, size_t len)
{
	int64_t	 sec = t->sec, days, rem, y, carry;
	long	 ns = t->nsec;
	int	 m, d, leap = 0;
	char	 yb[24], fb[12];

	if (len == 0)
		return;
	/* Out-of-range nanoseconds carry into seconds; 1e9.. is a leap. */
	if (ns < 0 || ns >= 2 * NSEC_PER_SEC) {
		carry = ns / NSEC_PER_SEC;
		ns %= NSEC_PER_SEC;
		if (ns < 0) {
			ns += NSEC_PER_SEC;
			carry--;
		}
		if ((carry > 0 && sec > INT64_MAX - carry) ||
		    (carry < 0 && sec < INT64_MIN - carry))
			ns = 0;		/* at the very ends: drop it */
		else
			sec += carry;
	}
	if (ns >= NSEC_PER_SEC) {
		leap = 1;
		ns -= NSEC_PER_SEC;
	}
	days = sec / 86400;
	rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* chrono: four digits, else a sign and at least four digits. */
	if (y >= 0 && y <= 9999)
		(void)snprintf(yb, sizeof(yb), "%04lld", (long long)y);
	else if (y > 9999)
		(void)snprintf(yb, sizeof(yb), "+%lld", (long long)y);
	else
		(void)snprintf(yb, sizeof(yb), "-%04llu",
		    (unsigned long long)0 - (unsigned long long)y);
	if (ns == 0)
		fb[0] = '\0';
	else if (ns % 1000000 == 0)
		(void)snprintf(fb, sizeof(fb), ".%03ld", ns / 1000000);
	else if (ns % 1000 == 0)
		(void)snprintf(fb, sizeof(fb), ".%06ld", ns / 1000);
	else
		(void)snprintf(fb, sizeof(fb), ".%09ld", ns);
	(void)snprintf(buf, len, "%s-%02d-%02dT%02d:%02d:%02d%sZ", yb, m, d,
	    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60) + leap,
	    fb);
}

/* n decimal digits at s, or -1. */
static int
digits(const char *s, int n, int *out)
{
	int	 i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (0);
}

int
apm2_time_parse_rfc3339(const char *s, struct apm2_time *t)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	 y, mo, d, h, mi, sec, oh, om, md, i, leap;
	long	 ns = 0, scale = 100000000;
	int64_t	 off = 0;
	size_t	 n = strnlen(s, 64);

	if (n < 20)
		return (-1);
	if (digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) == -1)
		return (-1);
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60)
		return (-1);
	md = mdays[mo - 1];
	if (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		md = 29;
	if (d < 1 || d > md)
		return (-1);
	s += 19;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return (-1);
		/* Nanosecond precision; further digits are dropped. */
		for (i = 0; *s >= '0' && *s <= '9'; s++, i++) {
			if (i < 9) {
				ns += (*s - '0') * scale;
				scale /= 10;
			}
		}
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		if (digits(s + 1, 2, &oh) == -1 || s[3] != ':' ||
		    digits(s + 4, 2, &om) == -1 || oh > 23 || om > 59)
			return (-1);
		off = (int64_t)oh * 3600 + om * 60;
		if (*s == '-')
			off = -off;
		s += 6;
	} else
		return (-1);
	if (*s != '\0')
		return (-1);
	/* A leap second is the 59th second plus a whole extra second. */
	leap = sec == 60;
	if (leap)
		sec = 59;
	t->sec = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
	    mi * 60 + sec - off;
	t->nsec = ns + (leap ? NSEC_PER_SEC : 0);
	return (0);
}

int
apm2_uuid_parse(const char *s, size_t n, char out[37])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[16];
	size_t			 i, j, o;
	int			 hyph, hi, lo;

	/* Forms: hyphenated, simple (32 hex), {braced}, urn:uuid:. */
	if (n == 45 && memcmp(s, "urn:uuid:", 9) == 0) {
		s += 9;
		n -= 9;
	} else if (n == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		n -= 2;
	}
	if (n == 36)
		hyph = 1;
	else if (n == 32)
		hyph = 0;
	else
		return (-1);
	for (i = 0, j = 0; j < 16; j++) {
		if (hyph && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != '-')
				return (-1);
			i++;
		}
		hi = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
		    s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 :
		    s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10 : -1;
		lo = s[i + 1] >= '0' && s[i + 1] <= '9' ? s[i + 1] - '0' :
		    s[i + 1] >= 'a' && s[i + 1] <= 'f' ? s[i + 1] - 'a' + 10 :
		    s[i + 1] >= 'A' && s[i + 1] <= 'F' ? s[i + 1] - 'A' + 10 :
		    -1;
		if (hi == -1 || lo == -1)
			return (-1);
		b[j] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	for (o = 0, j = 0; j < 16; j++) {
		if (j == 4 || j == 6 || j == 8 || j == 10)
			out[o++] = '-';
		out[o++] = hex[b[j] >> 4];
		out[o++] = hex[b[j] & 0xf];
	}
	out[o] = '\0';
	return (0);
}
