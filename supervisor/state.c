/* SPDX-License-Identifier: ISC */
/*
 * state.c -- the state file (see state.h).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "jsonw.h"
#include "log.h"
#include "sysutil.h"
#include "child.h"
#include "supervisor.h"
#include "state.h"

#define STATE_MAX	(16 * 1024 * 1024)	/* the most we read */
#define STATE_GAP_NS	1000000000ULL	/* between two writes */
#define BOOT_ID_MAX	64

/* The exits an instance can be left in, as the file names them. */
static const struct {
	enum apm2_state_kind	 kind;
	const char		*name;
} exits[] = {
	{ ST_STOPPED, "Stopped" },
	{ ST_CRASHED, "Crashed" },
	{ ST_TERMINATED, "Terminated" }
};
#define NEXITS	(sizeof(exits) / sizeof(exits[0]))

static char		 path[PATH_MAX];	/* "": not used */
static state_list_fn	 list_fn;
static struct event	 write_ev;
static uint64_t		 last_ns;		/* last write, mono */
static int		 dirty;

static void	 write_ev_cb(int, short, void *);
static int	 state_write(void);
static void	 write_rec(struct jw *, const struct state_rec *);
static char	*read_all(int, size_t *);
static int	 parse_name(const struct json *, const cJSON *, char *,
		    size_t);
static int	 parse_last(const struct json *, const cJSON *,
		    struct p_state *);
static int	 parse_inst(const struct json *, const cJSON *,
		    struct state_inst *);
static int	 parse_proc(const struct json *, const cJSON *,
		    struct state_proc *);
static void	*parse_array(const struct json *, const cJSON *, size_t,
		    size_t *, int (*)(const struct json *, const cJSON *,
		    void *));
static int	 parse_inst_cb(const struct json *, const cJSON *, void *);
static int	 parse_proc_cb(const struct json *, const cJSON *, void *);
static const char *parse_state(const char *, size_t, struct state_rec *);
static void	 set_aside(const char *);
static int	 write_all(int, const char *, size_t);
static void	 sync_dir(void);

int
state_init(const char *p, state_list_fn fn)
{
	char	why[PATH_MAX + 128];

	path[0] = '\0';
	list_fn = fn;
	evtimer_set(&write_ev, write_ev_cb, NULL);
	if (mkdir_parents(p, 0700, 0) == -1) {
		log_warn("state file %s: its directory: not used", p);
		return (-1);
	}
	if (path_dirs_secure(p, geteuid(), why, sizeof(why)) == -1) {
		log_warnx("state file %s: %s: not used", p, why);
		return (-1);
	}
	if (strlcpy(path, p, sizeof(path)) >= sizeof(path)) {
		path[0] = '\0';
		log_warnx("state file %s: name too long: not used", p);
		return (-1);
	}
	return (0);
}

void
state_changed(void)
{
	struct timeval	tv = { 0, 0 };
	uint64_t	now = mono_ns(), wait = 0;

	if (path[0] == '\0' || dirty)
		return;		/* a write is coming */
	dirty = 1;
	if (last_ns != 0 && now - last_ns < STATE_GAP_NS)
		wait = last_ns + STATE_GAP_NS - now;
	ns_to_tv(wait, &tv);
	evtimer_add(&write_ev, &tv);
}

void
state_flush(void)
{
	if (path[0] == '\0' || !dirty)
		return;
	evtimer_del(&write_ev);
	(void)state_write();
}

static void
write_ev_cb(int fd, short ev, void *arg)
{
	(void)state_write();
}

/* The whole file, to <path>.tmp, synced, renamed over it. */
static int
state_write(void)
{
	struct state_rec	 rec;
	struct jw		 w;
	char			 tmp[PATH_MAX + 8], *buf;
	size_t			 len;
	int			 fd, e;

	dirty = 0;
	last_ns = mono_ns();
	memset(&rec, 0, sizeof(rec));
	list_fn(&rec);
	jw_init(&w);
	write_rec(&w, &rec);
	state_rec_free(&rec);
	if ((buf = jw_detach(&w, &len)) == NULL) {
		log_warnx("state file %s: out of memory", path);
		return (-1);
	}
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || fchmod(fd, 0600) == -1 ||
	    write_all(fd, buf, len) == -1 || fsync(fd) == -1) {
		e = errno;
		log_warnx("state file %s: %s", tmp, strerror(e));
		if (fd != -1) {
			close(fd);
			(void)unlink(tmp);
		}
		free(buf);
		return (-1);
	}
	free(buf);
	close(fd);
	if (rename(tmp, path) == -1) {
		log_warn("state file %s", path);
		(void)unlink(tmp);
		return (-1);
	}
	sync_dir();
	return (0);
}

/*
 * {"version":2,"boot_id":"..","written_ns":N,
 *  "processes":[{"process":"web","intent":"stopped"},..],
 *  "instances":[{"process":"web","index":0,"restarts":2,
 *   "last":{"state":"Crashed","exit_code":1},"pid":P,"start_ns":T,
 *   "cgroup":"web-0"},..]}
 * "last" only for an exited instance, "pid" and "start_ns" only for a
 * running one, "cgroup" only for one in a cgroup of its own.
 */
static void
write_rec(struct jw *w, const struct state_rec *rec)
{
	const struct state_inst	*si;
	char			 boot[BOOT_ID_MAX];
	size_t			 i, k;

	if (procstat_boot_id(boot, sizeof(boot)) == -1)
		boot[0] = '\0';
	jw_rawz(w, "{\"version\":");
	jw_u64(w, STATE_VERSION);
	jw_rawz(w, ",\"boot_id\":");
	jw_strz(w, boot);
	jw_rawz(w, ",\"written_ns\":");
	jw_u64(w, procstat_now());
	jw_rawz(w, ",\"processes\":[");
	for (i = 0; i < rec->nprocs; i++) {
		jw_rawz(w, i > 0 ? ",{\"process\":" : "{\"process\":");
		jw_strz(w, rec->procs[i].name);
		jw_rawz(w, ",\"intent\":");
		jw_strz(w, rec->procs[i].intent == INTENT_STOPPED ?
		    "stopped" : "started");
		jw_rawz(w, "}");
	}
	jw_rawz(w, "],\"instances\":[");
	for (i = 0; i < rec->ninsts; i++) {
		si = &rec->insts[i];
		jw_rawz(w, i > 0 ? ",{\"process\":" : "{\"process\":");
		jw_strz(w, si->name);
		jw_rawz(w, ",\"index\":");
		jw_u64(w, si->index);
		jw_rawz(w, ",\"restarts\":");
		jw_u64(w, si->restarts);
		for (k = 0; si->has_last && k < NEXITS; k++) {
			if (exits[k].kind != si->last.kind)
				continue;
			jw_rawz(w, ",\"last\":{\"state\":");
			jw_strz(w, exits[k].name);
			if (si->last.has_code) {
				jw_rawz(w, ",\"exit_code\":");
				jw_i64(w, si->last.exit_code);
			}
			jw_rawz(w, "}");
		}
		if (si->pid != 0) {
			jw_rawz(w, ",\"pid\":");
			jw_u64(w, (uint64_t)si->pid);
			jw_rawz(w, ",\"start_ns\":");
			jw_u64(w, si->start_ns);
			if (si->cgroup[0] != '\0') {
				jw_rawz(w, ",\"cgroup\":");
				jw_strz(w, si->cgroup);
			}
		}
		jw_rawz(w, "}");
	}
	jw_rawz(w, "]}\n");
}

void
state_rec_free(struct state_rec *rec)
{
	free(rec->procs);
	free(rec->insts);
	memset(rec, 0, sizeof(*rec));
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* The rename is durable once the directory is. */
static void
sync_dir(void)
{
	char	dir[PATH_MAX], *p;
	int	fd;

	(void)strlcpy(dir, path, sizeof(dir));
	if ((p = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", sizeof(dir));
	else if (p == dir)
		p[1] = '\0';
	else
		*p = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/* The file's bytes, NUL-terminated. */
static char *
read_all(int fd, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 got = 0;

	if (fstat(fd, &st) == -1)
		return (NULL);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_size > STATE_MAX) {
		errno = EPERM;
		return (NULL);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return (NULL);
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	*lenp = got;
	return (buf);
}

void
state_load(struct state_rec *rec)
{
	const char	*why;
	char		*buf;
	size_t		 len;
	int		 fd;

	memset(rec, 0, sizeof(*rec));
	if (path[0] == '\0')
		return;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("state file %s", path);
		return;
	}
	buf = read_all(fd, &len);
	close(fd);
	if (buf == NULL) {
		log_warn("state file %s: not read: it must be a regular file "
		    "of the daemon's user, at most %d bytes", path, STATE_MAX);
		set_aside("not ours");
		return;
	}
	why = parse_state(buf, len, rec);
	free(buf);
	if (why != NULL) {
		state_rec_free(rec);
		set_aside(why);
	}
}

static void
set_aside(const char *why)
{
	char	aside[PATH_MAX + 16];

	(void)snprintf(aside, sizeof(aside), "%s.corrupt", path);
	if (rename(path, aside) == -1)
		log_warn("state file %s: %s; cannot set it aside", path, why);
	else
		log_warnx("state file %s: %s: set aside as %s", path, why,
		    aside);
}

/* A process name: 1..PROTO_NAME_MAX - 1 bytes, no NUL. */
static int
parse_name(const struct json *j, const cJSON *m, char *name, size_t size)
{
	const char	*s;
	size_t		 len;

	if (!cJSON_IsString(m) || (s = json_str(j, m, &len)) == NULL ||
	    len == 0 || len >= size || memchr(s, '\0', len) != NULL)
		return (-1);
	memcpy(name, s, len);
	name[len] = '\0';
	return (0);
}

/* {"state":"Stopped"|"Crashed"|"Terminated", "exit_code"?: N} */
static int
parse_last(const struct json *j, const cJSON *o, struct p_state *st)
{
	const cJSON	*m;
	int64_t		 v;
	size_t		 i;
	int		 seen = 0;

	if (!cJSON_IsObject(o))
		return (-1);
	memset(st, 0, sizeof(*st));
	for (m = o->child; m != NULL; m = m->next) {
		if (json_keyeq(j, m, "state")) {
			for (i = 0; i < NEXITS; i++)
				if (json_streq(j, m, exits[i].name))
					break;
			if (i == NEXITS)
				return (-1);
			st->kind = exits[i].kind;
			seen = 1;
		} else if (json_keyeq(j, m, "exit_code")) {
			if (json_int(j, m, INT32_MIN, INT32_MAX, &v) == -1)
				return (-1);
			st->has_code = 1;
			st->exit_code = (int32_t)v;
		}
	}
	if (!seen || (st->has_code && st->kind == ST_TERMINATED))
		return (-1);
	return (0);
}

/*
 * One {"process","index","restarts"?,"last"?,"pid"?,"start_ns"?}: pid
 * and start_ns together or neither (version 1: both, always).
 */
static int
parse_inst(const struct json *j, const cJSON *o, struct state_inst *si)
{
	const cJSON	*m;
	uint64_t	 v;
	int		 seen = 0;

	if (!cJSON_IsObject(o))
		return (-1);
	memset(si, 0, sizeof(*si));
	for (m = o->child; m != NULL; m = m->next) {
		if (json_keyeq(j, m, "process")) {
			if (parse_name(j, m, si->name, sizeof(si->name)) == -1)
				return (-1);
			seen |= 1;
		} else if (json_keyeq(j, m, "index")) {
			if (json_uint(j, m, UINT32_MAX, &v) == -1)
				return (-1);
			si->index = (uint32_t)v;
			seen |= 2;
		} else if (json_keyeq(j, m, "pid")) {
			if (json_uint(j, m, INT32_MAX, &v) == -1 || v < 2)
				return (-1);
			si->pid = (pid_t)v;
			seen |= 4;
		} else if (json_keyeq(j, m, "start_ns")) {
			if (json_uint(j, m, UINT64_MAX, &v) == -1)
				return (-1);
			si->start_ns = v;
			seen |= 8;
		} else if (json_keyeq(j, m, "cgroup")) {
			if (parse_name(j, m, si->cgroup,
			    sizeof(si->cgroup)) == -1)
				return (-1);
		} else if (json_keyeq(j, m, "restarts")) {
			if (json_uint(j, m, UINT32_MAX, &v) == -1)
				return (-1);
			si->restarts = (uint32_t)v;
		} else if (json_keyeq(j, m, "last")) {
			if (parse_last(j, m, &si->last) == -1)
				return (-1);
			si->has_last = 1;
		}
	}
	if ((seen & 3) != 3 || (seen & 12) == 4 || (seen & 12) == 8)
		return (-1);
	return (0);
}

/* One {"process","intent":"stopped"|"started"}. */
static int
parse_proc(const struct json *j, const cJSON *o, struct state_proc *sp)
{
	const cJSON	*m;
	int		 seen = 0;

	if (!cJSON_IsObject(o))
		return (-1);
	memset(sp, 0, sizeof(*sp));
	for (m = o->child; m != NULL; m = m->next) {
		if (json_keyeq(j, m, "process")) {
			if (parse_name(j, m, sp->name, sizeof(sp->name)) == -1)
				return (-1);
			seen |= 1;
		} else if (json_keyeq(j, m, "intent")) {
			if (json_streq(j, m, "stopped"))
				sp->intent = INTENT_STOPPED;
			else if (json_streq(j, m, "started"))
				sp->intent = INTENT_STARTED;
			else
				return (-1);
			seen |= 2;
		}
	}
	return (seen == 3 ? 0 : -1);
}

static int
parse_inst_cb(const struct json *j, const cJSON *o, void *out)
{
	return (parse_inst(j, o, out));
}

static int
parse_proc_cb(const struct json *j, const cJSON *o, void *out)
{
	return (parse_proc(j, o, out));
}

/*
 * The elements of array a, each of size bytes, parsed by fn.  NULL with
 * *n 0 for an empty array; NULL with *n (size_t)-1 on an error.
 */
static void *
parse_array(const struct json *j, const cJSON *a, size_t size, size_t *n,
    int (*fn)(const struct json *, const cJSON *, void *))
{
	const cJSON	*e;
	char		*out;
	size_t		 i = 0;

	*n = (size_t)-1;
	if (!cJSON_IsArray(a))
		return (NULL);
	for (e = a->child; e != NULL; e = e->next)
		i++;
	*n = 0;
	if (i == 0)
		return (NULL);
	if ((out = calloc(i, size)) == NULL) {
		*n = (size_t)-1;
		return (NULL);
	}
	for (i = 0, e = a->child; e != NULL; e = e->next, i++)
		if (fn(j, e, out + i * size) == -1) {
			free(out);
			*n = (size_t)-1;
			return (NULL);
		}
	*n = i;
	return (out);
}

/* NULL, or why the file is set aside. */
static const char *
parse_state(const char *buf, size_t len, struct state_rec *rec)
{
	struct json	 j;
	const cJSON	*m, *insts = NULL, *procs = NULL;
	const char	*s, *why;
	char		 err[128], boot[BOOT_ID_MAX];
	uint64_t	 v, version = 0;
	size_t		 slen, i;
	int		 same_boot = 0;

	if (json_parse(&j, buf, len, 8, JSON_NOLIMIT, err, sizeof(err)) ==
	    -1)
		return ("not JSON");
	why = "a field is missing or wrong";
	if (!cJSON_IsObject(j.root))
		goto done;
	for (m = j.root->child; m != NULL; m = m->next) {
		if (json_keyeq(&j, m, "version")) {
			if (json_uint(&j, m, UINT32_MAX, &version) == -1)
				goto done;
		} else if (json_keyeq(&j, m, "boot_id")) {
			if (!cJSON_IsString(m) ||
			    (s = json_str(&j, m, &slen)) == NULL)
				goto done;
			same_boot = procstat_boot_id(boot, sizeof(boot)) == 0 &&
			    strlen(boot) == slen && memcmp(boot, s, slen) == 0;
		} else if (json_keyeq(&j, m, "written_ns")) {
			if (json_uint(&j, m, UINT64_MAX, &v) == -1)
				goto done;
			rec->written_ns = v;
		} else if (json_keyeq(&j, m, "instances"))
			insts = m;
		else if (json_keyeq(&j, m, "processes"))
			procs = m;
	}
	if (version == 0 || version > STATE_VERSION) {
		why = version > STATE_VERSION ? "a newer version" :
		    "no version";
		goto done;
	}
	if (insts == NULL || (version >= 2 && procs == NULL) ||
	    (version < 2 && procs != NULL))
		goto done;
	rec->insts = parse_array(&j, insts, sizeof(*rec->insts),
	    &rec->ninsts, parse_inst_cb);
	if (rec->ninsts == (size_t)-1) {
		rec->ninsts = 0;
		goto done;
	}
	for (i = 0; i < rec->ninsts; i++)
		if (version < 2 && rec->insts[i].pid == 0)
			goto done;	/* version 1 had pids only */
	if (procs != NULL) {
		rec->procs = parse_array(&j, procs, sizeof(*rec->procs),
		    &rec->nprocs, parse_proc_cb);
		if (rec->nprocs == (size_t)-1) {
			rec->nprocs = 0;
			goto done;
		}
	}
	why = NULL;
	if (!same_boot)		/* its pids are of another boot */
		for (i = 0; i < rec->ninsts; i++) {
			rec->insts[i].pid = 0;
			rec->insts[i].start_ns = 0;
		}
done:
	json_free(&j);
	return (why);
}
