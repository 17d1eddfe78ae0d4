/* SPDX-License-Identifier: ISC */
/*
 * metrics.c -- the daemon and its processes in the Prometheus text
 * exposition format (version 0.0.4): the get_metrics request and
 * [daemon] metrics_file, which node_exporter's textfile collector reads.
 *
 * Names follow Prometheus's conventions: an apm2_ prefix, the unit in the
 * name, _total on counters.  Each family is written whole, HELP and TYPE
 * first.  Label values are escaped (\\, \", \n).  The supervisor writes
 * this text from its own state; nothing here parses a byte from outside.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "logctl.h"
#include "metrics.h"
#include "proto.h"
#include "runner.h"
#include "supervisor.h"

struct mbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

static void	mb_grow(struct mbuf *, size_t);
static void	mb_printf(struct mbuf *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	mb_label(struct mbuf *, const char *);
static void	family(struct mbuf *, const char *, const char *,
		    const char *);
static void	inst_labels(struct mbuf *, const char *,
		    const struct metric_inst *);
static void	proc_families(struct mbuf *, const struct metric_inst *,
		    size_t);
static void	daemon_families(struct mbuf *);
static void	file_write(int, short, void *);

static struct event	file_ev;
static int		file_failing;	/* said once until it works */
static uint64_t		requests[REQ__COUNT];


static void
mb_grow(struct mbuf *b, size_t n)
{
	char	*np;
	size_t	 cap;

	if (b->oom || b->len + n < b->cap)
		return;
	cap = b->cap == 0 ? 8192 : b->cap;
	while (cap <= b->len + n)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return;
	}
	b->p = np;
	b->cap = cap;
}

static void
mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p == NULL ? NULL : b->p + b->len,
		    b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		mb_grow(b, (size_t)n + 1);
	}
}

/* A label value between quotes: backslash, quote and newline escaped. */
static void
mb_label(struct mbuf *b, const char *s)
{
	mb_grow(b, strlen(s) * 2 + 3);
	if (b->oom)
		return;
	b->p[b->len++] = '"';
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = *s == '\n' ? 'n' : *s;
		} else
			b->p[b->len++] = *s;
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

static void
family(struct mbuf *b, const char *name, const char *type, const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{process="web",instance="0"} (the value follows). */
static void
inst_labels(struct mbuf *b, const char *name, const struct metric_inst *m)
{
	mb_printf(b, "%s{process=", name);
	mb_label(b, m->process);
	mb_printf(b, ",instance=\"%u\"", m->index);
}

void
metrics_count_request(uint32_t type)
{
	if (type < REQ__COUNT)
		requests[type]++;
}

/*
 * The families of every instance the viewer may see.  A figure the
 * daemon does not have (not running, not sampled yet) is left out rather
 * than written as 0.
 */
static void
proc_families(struct mbuf *b, const struct metric_inst *v, size_t n)
{
	size_t	i;

	family(b, "apm2_process_instances", "gauge",
	    "Instances configured for the process.");
	for (i = 0; i < n; i++)
		if (v[i].index == 0) {
			mb_printf(b, "apm2_process_instances{process=");
			mb_label(b, v[i].process);
			mb_printf(b, "} %u\n", v[i].ninstances);
		}
	family(b, "apm2_process_state", "gauge",
	    "The instance's state: 1 for the state it is in.");
	for (i = 0; i < n; i++) {
		inst_labels(b, "apm2_process_state", &v[i]);
		mb_printf(b, ",state=\"%s\"} 1\n",
		    proto_state_name(v[i].state.kind));
	}
	family(b, "apm2_process_up", "gauge",
	    "1 when the instance counts as running (starting, running or "
	    "unhealthy), else 0.");
	for (i = 0; i < n; i++) {
		inst_labels(b, "apm2_process_up", &v[i]);
		mb_printf(b, "} %d\n", v[i].state.kind == ST_STARTING ||
		    v[i].state.kind == ST_RUNNING ||
		    v[i].state.kind == ST_UNHEALTHY);
	}
	family(b, "apm2_process_restarts_total", "counter",
	    "Restarts of the instance since the daemon began.");
	for (i = 0; i < n; i++) {
		inst_labels(b, "apm2_process_restarts_total", &v[i]);
		mb_printf(b, "} %u\n", v[i].restarts);
	}
	family(b, "apm2_process_uptime_seconds", "gauge",
	    "Seconds since the running instance started.");
	for (i = 0; i < n; i++)
		if (v[i].flags & P_HAS_UPTIME) {
			inst_labels(b, "apm2_process_uptime_seconds", &v[i]);
			mb_printf(b, "} %llu\n",
			    (unsigned long long)v[i].uptime_secs);
		}
	family(b, "apm2_process_cpu_seconds_total", "counter",
	    "CPU time of the instance's current run (its cgroup, or its "
	    "main process), in seconds; starts again at a restart.");
	for (i = 0; i < n; i++)
		if (v[i].flags & P_HAS_CPU) {
			inst_labels(b, "apm2_process_cpu_seconds_total",
			    &v[i]);
			mb_printf(b, "} %llu.%09llu\n",
			    (unsigned long long)(v[i].cpu_ns / 1000000000),
			    (unsigned long long)(v[i].cpu_ns % 1000000000));
		}
	family(b, "apm2_process_memory_bytes", "gauge",
	    "Resident memory of the instance (its cgroup, or its main "
	    "process), in bytes.");
	for (i = 0; i < n; i++)
		if (v[i].flags & P_HAS_MEM) {
			inst_labels(b, "apm2_process_memory_bytes", &v[i]);
			mb_printf(b, "} %llu\n",
			    (unsigned long long)v[i].memory_bytes);
		}
	family(b, "apm2_process_last_exit_code", "gauge",
	    "Exit code of the instance's last run, when it exited with "
	    "one (stopped or crashed).");
	for (i = 0; i < n; i++)
		if (v[i].state.has_code) {
			inst_labels(b, "apm2_process_last_exit_code", &v[i]);
			mb_printf(b, "} %d\n", v[i].state.exit_code);
		}
}

static void
daemon_families(struct mbuf *b)
{
	uint64_t	written, lost, lg_respawns;
	uint32_t	t;

	logctl_metrics(&written, &lost, &lg_respawns);
	family(b, "apm2_build_info", "gauge",
	    "apm2d's version and the apm2 protocol version it speaks.");
	mb_printf(b, "apm2_build_info{version=\"%s\",protocol=\"%s\"} 1\n",
	    APM2D_VERSION, APM2_VERSION);
	family(b, "apm2_daemon_uptime_seconds", "gauge",
	    "Seconds since the daemon started.");
	mb_printf(b, "apm2_daemon_uptime_seconds %llu\n",
	    (unsigned long long)sup_uptime_secs());
	family(b, "apm2_daemon_processes", "gauge",
	    "Processes in the configuration.");
	mb_printf(b, "apm2_daemon_processes %zu\n", sup->conf->nprocs);
	family(b, "apm2_daemon_instances_running", "gauge",
	    "Instances counted as running.");
	mb_printf(b, "apm2_daemon_instances_running %u\n",
	    runner_running_count());
	family(b, "apm2_daemon_requests_total", "counter",
	    "Requests the supervisor answered, by type (the frontend "
	    "answers ping itself).");
	for (t = 0; t < REQ__COUNT; t++)
		if (t != REQ_PING)
			mb_printf(b, "apm2_daemon_requests_total{type=\"%s\"} "
			    "%llu\n", proto_req_name(t),
			    (unsigned long long)requests[t]);
	family(b, "apm2_daemon_connections", "gauge",
	    "Client connections open now.");
	mb_printf(b, "apm2_daemon_connections %u\n", sup->nconns);
	family(b, "apm2_daemon_connections_accepted_total", "counter",
	    "Client connections accepted.");
	mb_printf(b, "apm2_daemon_connections_accepted_total %llu\n",
	    (unsigned long long)sup->conn_serial);
	family(b, "apm2_daemon_connections_refused_total", "counter",
	    "Client connections refused (limits, or no descriptor left).");
	mb_printf(b, "apm2_daemon_connections_refused_total %llu\n",
	    (unsigned long long)sup->refused);
	family(b, "apm2_daemon_frontend_respawns_total", "counter",
	    "Frontend processes started again after one was lost.");
	mb_printf(b, "apm2_daemon_frontend_respawns_total %llu\n",
	    (unsigned long long)(sup->fe_spawns > 0 ? sup->fe_spawns - 1 :
	    0));
	family(b, "apm2_daemon_logger_respawns_total", "counter",
	    "Logger processes started again after one was lost.");
	mb_printf(b, "apm2_daemon_logger_respawns_total %llu\n",
	    (unsigned long long)lg_respawns);
	family(b, "apm2_daemon_log_bytes_written_total", "counter",
	    "Bytes of agents' output written to log files (as of the "
	    "logger's last heartbeat).");
	mb_printf(b, "apm2_daemon_log_bytes_written_total %llu\n",
	    (unsigned long long)written);
	family(b, "apm2_daemon_log_bytes_dropped_total", "counter",
	    "Bytes of agents' output that could not be written to their "
	    "log files (a full disk, a failing file).");
	mb_printf(b, "apm2_daemon_log_bytes_dropped_total %llu\n",
	    (unsigned long long)lost);
}

/*
 * The whole text for a viewer: the daemon's families for anybody, the
 * processes' for those who may see their figures.  NULL when out of
 * memory; the caller frees it.
 */
char *
metrics_render(int admin, uid_t uid, size_t *lenp)
{
	struct mbuf		 b;
	struct metric_inst	*v;
	size_t			 n;

	memset(&b, 0, sizeof(b));
	daemon_families(&b);
	n = runner_metrics(&v, admin, uid);
	proc_families(&b, v, n);
	free(v);
	if (b.oom || b.p == NULL) {
		free(b.p);
		return (NULL);
	}
	*lenp = b.len;
	return (b.p);
}

/* [daemon] metrics_file: written now and every metrics_interval. */
void
metrics_start(void)
{
	evtimer_set(&file_ev, file_write, NULL);
	if (sup->conf->daemon.metrics_file != NULL)
		file_write(-1, 0, NULL);
}

/*
 * Write the file whole, or not at all: a new file beside it (mkostemp:
 * created, never opened through a name someone else made), then
 * rename(2) over the old one, which replaces a link rather than
 * following it.  The directory must be ours or root's alone.
 */
static void
file_write(int fd, short ev, void *arg)
{
	const struct daemon_config *dc = &sup->conf->daemon;
	struct timeval	 tv;
	char		 tmp[PATH_MAX], why[PATH_MAX + 128];
	char		*text = NULL;
	size_t		 len = 0, off = 0;
	ssize_t		 w;
	int		 tfd = -1;

	if (dc->metrics_file == NULL)
		return;
	tmp[0] = '\0';
	if (dir_prepare("metrics file", dc->metrics_file, why,
	    sizeof(why)) == -1) {
		/* why names the file already */
		if (!file_failing)
			log_warnx("%s", why);
		file_failing = 1;
		goto next;
	}
	if ((text = metrics_render(1, 0, &len)) == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX",
	    dc->metrics_file) >= sizeof(tmp)) {
		tmp[0] = '\0';
		snprintf(why, sizeof(why), "%s", strerror(ENAMETOOLONG));
		goto fail;
	}
	if ((tfd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		tmp[0] = '\0';
		goto failerr;
	}
	if (fchmod(tfd, 0644) == -1)
		goto failerr;
	while (off < len) {
		if ((w = write(tfd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto failerr;
		}
		off += (size_t)w;
	}
	if (close(tfd) == -1) {
		tfd = -1;
		goto failerr;
	}
	tfd = -1;
	if (rename(tmp, dc->metrics_file) == -1)
		goto failerr;
	if (file_failing)
		log_info("metrics file %s: written again", dc->metrics_file);
	file_failing = 0;
	goto next;
failerr:
	snprintf(why, sizeof(why), "%s", strerror(errno));
fail:
	if (!file_failing)
		log_warnx("metrics file %s: %s", dc->metrics_file, why);
	file_failing = 1;
	if (tfd != -1)
		close(tfd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
next:
	free(text);
	tv.tv_sec = dc->metrics_interval.sec;
	tv.tv_usec = dc->metrics_interval.nsec / 1000;
	evtimer_add(&file_ev, &tv);
}
