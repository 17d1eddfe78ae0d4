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

static char		 path[PATH_MAX];	/* "": not used */
static state_list_fn	 list_fn;
static struct event	 write_ev;
static uint64_t		 last_ns;		/* last write, mono */
static int		 dirty;

static void	 write_ev_cb(int, short, void *);
static int	 state_write(void);
static char	*read_all(int, size_t *);
static int	 parse_inst(const struct json *, const cJSON *,
		    struct state_inst *);
static size_t	 parse_state(const char *, size_t, struct state_inst **,
		    uint64_t *, const char **);
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
	struct state_inst	*si = NULL;
	struct jw		 w;
	char			 tmp[PATH_MAX + 8], boot[BOOT_ID_MAX], *buf;
	size_t			 n, i, len;
	int			 fd, e;

	dirty = 0;
	last_ns = mono_ns();
	n = list_fn(&si);
	if (procstat_boot_id(boot, sizeof(boot)) == -1)
		boot[0] = '\0';
	jw_init(&w);
	jw_rawz(&w, "{\"version\":");
	jw_u64(&w, STATE_VERSION);
	jw_rawz(&w, ",\"boot_id\":");
	jw_strz(&w, boot);
	jw_rawz(&w, ",\"written_ns\":");
	jw_u64(&w, procstat_now());
	jw_rawz(&w, ",\"instances\":[");
	for (i = 0; i < n; i++) {
		jw_rawz(&w, i > 0 ? ",{\"process\":" : "{\"process\":");
		jw_strz(&w, si[i].name);
		jw_rawz(&w, ",\"index\":");
		jw_u64(&w, si[i].index);
		jw_rawz(&w, ",\"pid\":");
		jw_u64(&w, (uint64_t)si[i].pid);
		jw_rawz(&w, ",\"start_ns\":");
		jw_u64(&w, si[i].start_ns);
		jw_rawz(&w, "}");
	}
	jw_rawz(&w, "]}\n");
	free(si);
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

size_t
state_load(struct state_inst **out, uint64_t *written)
{
	const char	*why = NULL;
	char		*buf;
	size_t		 len, n;
	int		 fd;

	*out = NULL;
	*written = 0;
	if (path[0] == '\0')
		return (0);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("state file %s", path);
		return (0);
	}
	buf = read_all(fd, &len);
	close(fd);
	if (buf == NULL) {
		log_warn("state file %s: not read: it must be a regular file "
		    "of the daemon's user, at most %d bytes", path, STATE_MAX);
		set_aside("not ours");
		return (0);
	}
	n = parse_state(buf, len, out, written, &why);
	free(buf);
	if (why != NULL)
		set_aside(why);
	return (n);
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

/* One {"process","index","pid","start_ns"}; unknown keys: later fields. */
static int
parse_inst(const struct json *j, const cJSON *o, struct state_inst *si)
{
	const cJSON	*m;
	const char	*s;
	uint64_t	 v;
	size_t		 len;
	int		 seen = 0;

	if (!cJSON_IsObject(o))
		return (-1);
	memset(si, 0, sizeof(*si));
	for (m = o->child; m != NULL; m = m->next) {
		if (json_keyeq(j, m, "process")) {
			if (!cJSON_IsString(m) ||
			    (s = json_str(j, m, &len)) == NULL || len == 0 ||
			    len >= sizeof(si->name) || memchr(s, '\0', len))
				return (-1);
			memcpy(si->name, s, len);
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
		}
	}
	return (seen == 15 ? 0 : -1);
}

/* *why: NULL, or why the file is set aside. */
static size_t
parse_state(const char *buf, size_t len, struct state_inst **out,
    uint64_t *written, const char **why)
{
	struct json	 j;
	const cJSON	*m, *insts = NULL, *e;
	const char	*s;
	char		 err[128], boot[BOOT_ID_MAX];
	uint64_t	 v, version = 0;
	size_t		 n = 0, slen;
	int		 same_boot = 0;

	if (json_parse(&j, buf, len, 8, JSON_NOLIMIT, err, sizeof(err)) ==
	    -1) {
		*why = "not JSON";
		return (0);
	}
	*why = "a field is missing or wrong";
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
			*written = v;
		} else if (json_keyeq(&j, m, "instances")) {
			if (!cJSON_IsArray(m))
				goto done;
			insts = m;
		}
	}
	if (version != STATE_VERSION) {
		*why = version > STATE_VERSION ? "a newer version" :
		    "no version";
		goto done;
	}
	if (insts == NULL)
		goto done;
	for (e = insts->child; e != NULL; e = e->next)
		n++;
	if (n > 0 && (*out = calloc(n, sizeof(**out))) == NULL) {
		*why = NULL;
		n = 0;
		goto done;
	}
	for (n = 0, e = insts->child; e != NULL; e = e->next, n++)
		if (parse_inst(&j, e, &(*out)[n]) == -1) {
			free(*out);
			*out = NULL;
			n = 0;
			goto done;
		}
	*why = NULL;
	if (!same_boot) {	/* its pids are of another boot */
		free(*out);
		*out = NULL;
		n = 0;
	}
done:
	json_free(&j);
	return (n);
}
