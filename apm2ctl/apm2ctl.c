/* SPDX-License-Identifier: ISC */
/*
 * apm2ctl -- command-line client for apm2d.
 *
 *	apm2ctl [-j] [--raw] [-s socket] [-f config] [-t secs] command [args]
 *
 * Speaks the length-prefixed JSON protocol on the control socket, one
 * connection per command.  Options may come before or after the command.
 * Exit status: 0 success, 1 error reply or no daemon, 2 usage error.
 *
 * Strings that come from agents, the configuration or the daemon are
 * escaped on a terminal (tty_str, tty_write), not on a pipe or a file.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "fmt.h"
#include "frame.h"
#include "proto.h"
#include "toml.h"

#define DEFAULT_CONFIG	"/etc/apm2/ecosystem.toml"
#define DEFAULT_SOCKET	"/var/run/apm2/apm2.sock"
#define DEFAULT_TIMEOUT	5

struct ctl {
	int		 json;
	int		 raw;		/* --raw: no escaping on a terminal */
	int		 timeout;	/* seconds; 0 = forever */
	const char	*socket;
	int		 fd;
	int		 eof_ok;	/* EOF between frames ends quietly */
};

static struct ctl	ctl = { 0, 0, DEFAULT_TIMEOUT, NULL, -1, 0 };

static __attribute__((__noreturn__)) void	usage(int);
static const char	*socket_from_config(const char *);
static int	 tty_escapes(FILE *);
static char	*tty_str(FILE *, const char *);
static void	 tty_write(FILE *, const char *, size_t);
static int	 ctl_connect(void);
static int	 ctl_send(const struct apm2_req *);
static int	 ctl_recv(struct apm2_resp *, int);
static int	 ctl_call(const struct apm2_req *, struct apm2_resp *);
static void	 ctl_close(void);
static int	 fail_reply(const char *, const char *,
		    const struct apm2_resp *);
static int	 cmd_ping(void);
static int	 cmd_info(void);
static int	 cmd_kill(void);
static int	 cmd_list(void);
static int	 cmd_status(const char *);
static struct fmt_limit *status_limits(const struct apm2_procinfo *);
static void	 free_limits(struct fmt_limit *, size_t);
static int	 cmd_action(enum apm2_req_type, const char *);
static int	 cmd_logs(const char *, uint32_t, int);
static int	 cmd_reload_config(int);
static int	 cmd_metrics(void);
static void	 put_lines(FILE *, const char *);

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: apm2ctl [-j] [--raw] [-s socket] [-f config] [-t secs] "
	    "command\n"
	    "commands:\n"
	    "  ping                     check that the daemon answers\n"
	    "  info                     daemon status\n"
	    "  kill                     shut the daemon down\n"
	    "  list | ls                all processes\n"
	    "  status NAME              one process in detail\n"
	    "  start|stop|restart|reload NAME|all\n"
	    "  logs [NAME] [-n N] [-f]  last N lines (default 20), -f follows\n"
	    "  reread                   what a reload of the config would do\n"
	    "  update                   reload the config: apply the changes\n"
	    "  metrics                  the Prometheus text exposition\n"
	    "options:\n"
	    "  -j        print each reply as one JSON line\n"
	    "  --raw     print control characters as they are on a terminal\n"
	    "  -s PATH   control socket (default: the config's, else %s)\n"
	    "  -f FILE   configuration to find the socket in (default %s)\n"
	    "  -t SECS   reply timeout (default %d, 0 = none)\n",
	    DEFAULT_SOCKET, DEFAULT_CONFIG, DEFAULT_TIMEOUT);
	exit(status);
}

/*
 * Escape what goes to fp?  Only a terminal, and not with --raw: there an
 * agent's output or a string from the configuration could retitle the
 * window, write the clipboard (OSC 52) or forge and erase lines.  Pipes
 * and files get the bytes as they are, for scripts.
 */
static int
tty_escapes(FILE *fp)
{
	static int	 tty[2] = { -1, -1 };
	int		 i = fp == stdout ? 0 : 1;

	if (ctl.raw)
		return (0);
	if (tty[i] == -1)
		tty[i] = isatty(fileno(fp));
	return (tty[i]);
}

/* A copy of s to print on fp, escaped if fp is a terminal; NULL if s is. */
static char *
tty_str(FILE *fp, const char *s)
{
	char	*p;
	size_t	 len, size;

	if (s == NULL)
		return (NULL);
	if (!tty_escapes(fp)) {
		if ((p = strdup(s)) == NULL)
			err(1, NULL);
		return (p);
	}
	len = strlen(s);
	size = fmt_esc(s, len, NULL, 0) + 1;
	if ((p = malloc(size)) == NULL)
		err(1, NULL);
	(void)fmt_esc(s, len, p, size);
	return (p);
}

static void
tty_write(FILE *fp, const char *s, size_t len)
{
	if (tty_escapes(fp))
		fmt_esc_write(fp, s, len);
	else
		(void)fwrite(s, 1, len, fp);
}

/* The [daemon] socket of a config file; NULL if it cannot be read. */
static const char *
socket_from_config(const char *path)
{
	struct toml_table	*root;
	struct toml_error	 terr;
	const struct toml_kv	*d, *s;
	struct stat		 st;
	char			*buf, *res = NULL;
	ssize_t			 n;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	if (fstat(fd, &st) == -1 || st.st_size > TOML_MAX_INPUT ||
	    (buf = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		return (NULL);
	}
	n = read(fd, buf, st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return (NULL);
	}
	root = toml_parse(buf, n, &terr);
	free(buf);
	if (root == NULL)
		return (NULL);
	if ((d = toml_get(root, "daemon")) != NULL &&
	    d->val->type == TOML_TABLE &&
	    (s = toml_get(d->val->u.tab, "socket")) != NULL &&
	    s->val->type == TOML_STRING)
		res = strdup(s->val->u.str.ptr);
	toml_free(root);
	return (res);
}

static int
ctl_connect(void)
{
	struct sockaddr_un	 sun;
	char			*path;
	int			 saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, ctl.socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		path = tty_str(stderr, ctl.socket);
		fprintf(stderr, "Error: socket path too long: %s\n", path);
		free(path);
		return (-1);
	}
	if ((ctl.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(ctl.fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		/* The path may come from a configuration file. */
		path = tty_str(stderr, ctl.socket);
		fprintf(stderr, "Error: failed to connect to daemon socket %s "
		    "(is the daemon running?): %s\n", path, strerror(saved));
		free(path);
		close(ctl.fd);
		ctl.fd = -1;
		return (-1);
	}
	return (0);
}

static void
ctl_close(void)
{
	if (ctl.fd != -1)
		close(ctl.fd);
	ctl.fd = -1;
}

static int
ctl_send(const struct apm2_req *req)
{
	uint8_t	*out;
	char	*json;
	size_t	 len, olen, off = 0;
	ssize_t	 n;

	if ((json = apm2_req_render(req, &len)) == NULL)
		err(1, "render");
	if ((out = frame_encode(json, len, &olen)) == NULL)
		errx(1, "request too large");
	free(json);
	while (off < olen) {
		n = write(ctl.fd, out + off, olen - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "Error: sending to the daemon: %s\n",
			    strerror(errno));
			free(out);
			return (-1);
		}
		off += n;
	}
	free(out);
	return (0);
}

/*
 * Read one reply frame.  wait < 0: the default timeout; 0: forever.
 * Returns 0, or -1 after printing why; with ctl.eof_ok, -2 without a
 * word when the daemon closed the connection between frames.
 */
static int
ctl_recv(struct apm2_resp *resp, int wait)
{
	struct frame_dec	 dec;
	struct pollfd		 pfd;
	uint8_t			 buf[65536], *payload;
	char			 perr[256], *why;
	size_t			 used, plen, off, have = 0;
	ssize_t			 n;
	int			 r, ms;
	time_t			 deadline;
	static uint8_t		 left[65536];
	static size_t		 nleft;

	if (wait < 0)
		wait = ctl.timeout;
	deadline = time(NULL) + wait;
	frame_dec_init(&dec);
	for (;;) {
		/* Bytes left over from the previous read come first. */
		if (nleft > 0) {
			memcpy(buf, left, nleft);
			have = nleft;
			nleft = 0;
		} else {
			ms = -1;
			if (wait > 0) {
				ms = (int)(deadline - time(NULL)) * 1000;
				if (ms <= 0) {
					fprintf(stderr, "Error: no reply from "
					    "the daemon within %d s\n", wait);
					frame_dec_free(&dec);
					return (-1);
				}
			}
			pfd.fd = ctl.fd;
			pfd.events = POLLIN;
			if ((r = poll(&pfd, 1, ms)) == -1) {
				if (errno == EINTR)
					continue;
				err(1, "poll");
			}
			if (r == 0)
				continue;
			n = read(ctl.fd, buf, sizeof(buf));
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0 && ctl.eof_ok &&
			    !frame_dec_midframe(&dec)) {
				frame_dec_free(&dec);
				return (-2);
			}
			if (n <= 0) {
				fprintf(stderr, "Error: the daemon closed the "
				    "connection%s%s\n", n == -1 ? ": " : "",
				    n == -1 ? strerror(errno) : "");
				frame_dec_free(&dec);
				return (-1);
			}
			have = n;
		}
		off = 0;
		r = frame_dec_feed(&dec, buf, have, &used);
		off += used;
		if (r < 0) {
			fprintf(stderr, "Error: reply too large\n");
			frame_dec_free(&dec);
			return (-1);
		}
		if (r == FRAME_DONE)
			break;
	}
	if (off < have) {
		memcpy(left, buf + off, have - off);
		nleft = have - off;
	}
	payload = frame_dec_take(&dec, &plen);
	frame_dec_free(&dec);
	if (ctl.json) {
		fwrite(payload, 1, plen, stdout);
		putchar('\n');
		fflush(stdout);
	}
	memset(resp, 0, sizeof(*resp));
	if (apm2_resp_parse((char *)payload, plen, resp, perr,
	    sizeof(perr)) == -1) {
		why = tty_str(stderr, perr);	/* may quote the reply */
		fprintf(stderr, "Error: unexpected reply from the daemon: "
		    "%s\n", why);
		free(why);
		free(payload);
		return (-1);
	}
	free(payload);
	return (0);
}

static int
ctl_call(const struct apm2_req *req, struct apm2_resp *resp)
{
	if (ctl.fd == -1 && ctl_connect() == -1)
		return (-1);
	if (ctl_send(req) == -1 || ctl_recv(resp, -1) == -1)
		return (-1);
	return (0);
}

/* "Failed to <verb> '<name>': <message> (<Code>)" for error replies. */
static int
fail_reply(const char *verb, const char *name, const struct apm2_resp *resp)
{
	char	*n, *msg;

	if (ctl.json)
		return (1);
	if (resp->type != RESP_ERROR) {
		fprintf(stderr, "Error: Unexpected response\n");
		return (1);
	}
	/* The message quotes the name, which may be anything. */
	n = tty_str(stderr, name);
	msg = tty_str(stderr, resp->message);
	if (n != NULL)
		fprintf(stderr, "Error: Failed to %s '%s': %s (%s)\n", verb,
		    n, msg, apm2_errcode_debug(resp->code));
	else
		fprintf(stderr, "Error: Failed to %s: %s (%s)\n", verb,
		    msg, apm2_errcode_debug(resp->code));
	free(n);
	free(msg);
	return (1);
}

static int
cmd_ping(void)
{
	struct apm2_req		 req = { .type = REQ_PING };
	struct apm2_resp	 resp;
	char			 up[64], *version;
	int			 rc = 0;

	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type != RESP_PONG)
		rc = fail_reply("ping", NULL, &resp);
	else if (!ctl.json) {
		fmt_duration(resp.uptime_secs, up, sizeof(up));
		version = tty_str(stdout, resp.version);
		printf("pong: apm2d protocol %s, up %s\n", version, up);
		free(version);
	}
	apm2_resp_free(&resp);
	return (rc);
}

static int
cmd_info(void)
{
	struct apm2_req		 req = { .type = REQ_STATUS };
	struct apm2_resp	 resp;
	char			 up[64], *version;
	int			 rc = 0;

	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type != RESP_STATUS)
		rc = fail_reply("get status", NULL, &resp);
	else if (!ctl.json) {
		fmt_duration(resp.uptime_secs, up, sizeof(up));
		version = tty_str(stdout, resp.version);
		printf("Version:           %s\n", version);
		free(version);
		printf("PID:               %u\n", resp.pid);
		printf("Uptime:            %s\n", up);
		printf("Processes:         %u\n", resp.process_count);
		printf("Running instances: %u\n", resp.running_instances);
	}
	apm2_resp_free(&resp);
	return (rc);
}

static int
cmd_kill(void)
{
	struct apm2_req		 req = { .type = REQ_SHUTDOWN };
	struct apm2_resp	 resp;
	char			*msg;
	int			 rc = 0;

	if (ctl_call(&req, &resp) == -1) {
		fprintf(stderr, "Daemon may not be running\n");
		return (1);
	}
	if (resp.type != RESP_OK)
		rc = fail_reply("shutdown daemon", NULL, &resp);
	else if (!ctl.json) {
		msg = tty_str(stdout, resp.message ? resp.message : "");
		printf("Daemon shutting down: %s\n", msg);
		free(msg);
	}
	apm2_resp_free(&resp);
	return (rc);
}

static int
cmd_list(void)
{
	struct apm2_req		 req = { .type = REQ_LIST_PROCESSES };
	struct apm2_resp	 resp;
	struct fmt_row		*rows;
	char			(*status)[64];
	size_t			 i;
	int			 rc = 0;

	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type != RESP_PROCESS_LIST) {
		rc = fail_reply("list processes", NULL, &resp);
		apm2_resp_free(&resp);
		return (rc);
	}
	if (ctl.json) {
		apm2_resp_free(&resp);
		return (0);
	}
	if (resp.nprocs == 0) {
		printf("No processes configured\n");
		apm2_resp_free(&resp);
		return (0);
	}
	rows = calloc(resp.nprocs, sizeof(*rows));
	status = calloc(resp.nprocs, sizeof(*status));
	if (rows == NULL || status == NULL)
		err(1, "calloc");
	for (i = 0; i < resp.nprocs; i++) {
		const struct apm2_summary	*s = &resp.procs[i];

		/* Escaped before the table truncates and pads it. */
		rows[i].name = tty_str(stdout, s->name);
		rows[i].running = s->running;
		rows[i].instances = s->instances;
		rows[i].status = apm2_state_human(&s->status, status[i],
		    sizeof(status[i]));
		rows[i].has_cpu = s->has_cpu;
		rows[i].cpu = s->cpu_percent;
		rows[i].has_mem = s->has_mem;
		rows[i].mem = s->memory_bytes;
		rows[i].has_uptime = s->has_uptime;
		rows[i].uptime = s->uptime_secs;
		rows[i].restarts = s->restart_count;
	}
	fmt_list_table(stdout, rows, resp.nprocs);
	for (i = 0; i < resp.nprocs; i++)
		free((char *)rows[i].name);
	free(rows);
	free(status);
	apm2_resp_free(&resp);
	return (0);
}

/* The limits of a detail reply, their strings escaped for stdout. */
static struct fmt_limit *
status_limits(const struct apm2_procinfo *p)
{
	struct fmt_limit	*l;
	size_t			 i;

	if ((l = calloc(p->nlimits + 1, sizeof(*l))) == NULL)
		err(1, "calloc");
	for (i = 0; i < p->nlimits; i++) {
		l[i].name = tty_str(stdout, p->limits[i].name);
		l[i].value = p->limits[i].value;
		l[i].in_force = p->limits[i].in_force;
		/* The daemon's words, which may quote a path. */
		l[i].reason = tty_str(stdout, p->limits[i].reason);
	}
	return (l);
}

static void
free_limits(struct fmt_limit *l, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free((char *)l[i].name);
		free((char *)l[i].reason);
	}
	free(l);
}

static int
cmd_status(const char *name)
{
	struct apm2_req		 req = { .type = REQ_GET_PROCESS };
	struct apm2_resp	 resp;
	struct fmt_detail	 d;
	struct fmt_instance	*inst;
	struct fmt_limit	*lim;
	char			(*state)[64], **args;
	size_t			 i;
	int			 rc = 0;

	req.name = (char *)name;
	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type != RESP_PROCESS_DETAILS) {
		rc = fail_reply("get process", name, &resp);
		apm2_resp_free(&resp);
		return (rc);
	}
	if (ctl.json) {
		apm2_resp_free(&resp);
		return (0);
	}
	inst = calloc(resp.proc.ninst + 1, sizeof(*inst));
	state = calloc(resp.proc.ninst + 1, sizeof(*state));
	args = calloc(resp.proc.nargs + 1, sizeof(*args));
	if (inst == NULL || state == NULL || args == NULL)
		err(1, "calloc");
	/* The command line and directory are the configuration's. */
	for (i = 0; i < resp.proc.nargs; i++)
		args[i] = tty_str(stdout, resp.proc.args[i]);
	memset(&d, 0, sizeof(d));
	d.name = tty_str(stdout, resp.proc.name);
	d.id = tty_str(stdout, resp.proc.id);
	d.command = tty_str(stdout, resp.proc.command);
	d.args = (const char *const *)args;
	d.nargs = resp.proc.nargs;
	d.cwd = tty_str(stdout, resp.proc.cwd);
	d.instances = resp.proc.instances;
	d.credential_profile = tty_str(stdout, resp.proc.credential_profile);
	for (i = 0; i < resp.proc.ninst; i++) {
		const struct apm2_instance	*s = &resp.proc.inst[i];

		inst[i].index = s->index;
		inst[i].has_pid = s->has_pid;
		inst[i].pid = s->pid;
		inst[i].state = apm2_state_human(&s->state, state[i],
		    sizeof(state[i]));
		inst[i].has_cpu = s->has_cpu;
		inst[i].cpu = s->cpu_percent;
		inst[i].has_mem = s->has_mem;
		inst[i].mem = s->memory_bytes;
		inst[i].has_uptime = s->has_uptime;
		inst[i].uptime = s->uptime_secs;
		inst[i].restarts = s->restart_count;
		inst[i].exit_reason = tty_str(stdout, s->exit_reason);
	}
	d.inst = inst;
	d.ninst = resp.proc.ninst;
	d.limits = lim = status_limits(&resp.proc);
	d.nlimits = resp.proc.nlimits;
	fmt_status_detail(stdout, &d);
	free_limits(lim, resp.proc.nlimits);
	for (i = 0; i < resp.proc.ninst; i++)
		free((char *)inst[i].exit_reason);
	for (i = 0; i < resp.proc.nargs; i++)
		free(args[i]);
	free(args);
	free((char *)d.name);
	free((char *)d.id);
	free((char *)d.command);
	free((char *)d.cwd);
	free((char *)d.credential_profile);
	free(inst);
	free(state);
	apm2_resp_free(&resp);
	return (0);
}

/* start/stop/restart/reload one process. */
static int
act_one(enum apm2_req_type type, const char *name)
{
	static const struct {
		enum apm2_req_type	 type;
		const char		*verb, *done;
	} acts[] = {
		{ REQ_START_PROCESS, "start", "Started" },
		{ REQ_STOP_PROCESS, "stop", "Stopped" },
		{ REQ_RESTART_PROCESS, "restart", "Restarted" },
		{ REQ_RELOAD_PROCESS, "reload", "Reloading" },
	};
	struct apm2_req		 req;
	struct apm2_resp	 resp;
	char			*n, *msg;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (acts[i].type == type)
			break;
	memset(&req, 0, sizeof(req));
	req.type = type;
	req.name = (char *)name;
	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type != RESP_OK)
		rc = fail_reply(acts[i].verb, name, &resp);
	else if (!ctl.json) {
		n = tty_str(stdout, name);
		msg = tty_str(stdout, resp.message);
		if (msg != NULL)
			printf("%s '%s': %s\n", acts[i].done, n, msg);
		else
			printf("%s '%s'\n", acts[i].done, n);
		free(n);
		free(msg);
	}
	apm2_resp_free(&resp);
	return (rc);
}

/* NAME, or "all": every process in config order, each reported. */
static int
cmd_action(enum apm2_req_type type, const char *name)
{
	struct apm2_req		 req = { .type = REQ_LIST_PROCESSES };
	struct apm2_resp	 resp;
	size_t			 i;
	int			 rc = 0;

	if (strcmp(name, "all") != 0)
		return (act_one(type, name));
	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type != RESP_PROCESS_LIST) {
		rc = fail_reply("list processes", NULL, &resp);
		apm2_resp_free(&resp);
		return (rc);
	}
	/* A process literally named "all" cannot exist: names are checked. */
	for (i = 0; i < resp.nprocs; i++)
		if (act_one(type, resp.procs[i].name) != 0)
			rc = 1;
	apm2_resp_free(&resp);
	return (rc);
}

static int
cmd_logs(const char *name, uint32_t lines, int follow)
{
	struct apm2_req		 req;
	struct apm2_resp	 resp;
	struct tm		 tm;
	time_t			 t;
	char			 ts[32], *pname, *stream;
	size_t			 i;
	int			 rc = 0, r;

	memset(&req, 0, sizeof(req));
	req.type = REQ_TAIL_LOGS;
	req.name = (char *)name;
	req.lines = lines;
	req.follow = follow;
	if (ctl_call(&req, &resp) == -1)
		return (1);
	for (;;) {
		if (resp.type != RESP_LOG_LINES) {
			rc = fail_reply("get logs", name, &resp);
			apm2_resp_free(&resp);
			return (rc);
		}
		for (i = 0; i < resp.nlines && !ctl.json; i++) {
			const struct apm2_logentry	*e = &resp.lines[i];

			t = (time_t)e->timestamp.sec;
			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
			pname = tty_str(stdout, e->process_name);
			stream = tty_str(stdout, e->stream);
			printf("[%s] [%s:%u] [%s] ", ts, pname, e->instance,
			    stream);
			free(pname);
			free(stream);
			/* The agent's own bytes: the reason for escaping. */
			tty_write(stdout, e->content, e->content_len);
			putchar('\n');
		}
		apm2_resp_free(&resp);
		if (fflush(stdout) == EOF || ferror(stdout))
			return (1);	/* the reader went away */
		if (!follow)
			break;
		/* Following: frames come as the process writes, until the
		 * daemon ends the stream (shutdown) or we are interrupted. */
		ctl.eof_ok = 1;
		if ((r = ctl_recv(&resp, 0)) == -2)
			break;
		if (r == -1)
			return (1);
	}
	return (rc);
}

/* Each line of msg on fp, escaped there like any text of the daemon's. */
static void
put_lines(FILE *fp, const char *msg)
{
	size_t	 n;

	while (msg != NULL && *msg != '\0') {
		n = strcspn(msg, "\n");
		tty_write(fp, msg, n);
		putc('\n', fp);
		msg += n + (msg[n] == '\n');
	}
}

/*
 * reread (a dry run) and update: the daemon's message, a summary line
 * and one line per process it touches, on stdout; an error's first line
 * as any error, and the rest (the file's errors) after it, on stderr.
 */
static int
cmd_reload_config(int dry_run)
{
	struct apm2_req		 req = { .type = REQ_RELOAD_CONFIG };
	struct apm2_resp	 resp, first;
	const char		*verb = dry_run ? "reread" : "update";
	size_t			 n;
	int			 rc = 0;

	req.dry_run = dry_run;
	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type == RESP_OK) {
		if (!ctl.json)
			put_lines(stdout, resp.message);
	} else if (resp.type != RESP_ERROR || ctl.json)
		rc = fail_reply(verb, NULL, &resp);
	else {
		first = resp;
		n = strcspn(resp.message, "\n");
		if ((first.message = strndup(resp.message, n)) == NULL)
			err(1, NULL);
		rc = fail_reply(verb, NULL, &first);
		free(first.message);
		put_lines(stderr, resp.message + n + (resp.message[n] == '\n'));
	}
	apm2_resp_free(&resp);
	return (rc);
}

/*
 * metrics: the Prometheus text exposition as the daemon wrote it, for a
 * scraper or for node_exporter's textfile collector to read.
 */
static int
cmd_metrics(void)
{
	struct apm2_req		 req = { .type = REQ_GET_METRICS };
	struct apm2_resp	 resp;
	int			 rc = 0;

	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type == RESP_METRICS) {
		if (!ctl.json)
			fputs(resp.text, stdout);
	} else
		rc = fail_reply("get metrics", NULL, &resp);
	apm2_resp_free(&resp);
	return (rc);
}

int
main(int argc, char *argv[])
{
	const char	*config = NULL, *errstr;
	char		*args[8];
	const char	*env;
	uint32_t	 lines = 20;
	int		 nargs = 0, i, follow = 0, rc, dashdash = 0;

	signal(SIGPIPE, SIG_IGN);
	/* Options are accepted before and after the command. */
	for (i = 1; i < argc; i++) {
		const char	*a = argv[i];

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (nargs == (int)(sizeof(args) / sizeof(args[0])))
				usage(2);
			args[nargs++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0)
			ctl.json = 1;
		else if (strcmp(a, "--raw") == 0)
			ctl.raw = 1;
		else if (strcmp(a, "-F") == 0 || strcmp(a, "--follow") == 0)
			follow = 1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			usage(0);
		else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("apm2ctl %s (apm2 protocol %s)\n", APM2D_VERSION,
			    APM2_VERSION);
			return (0);
		} else if (i + 1 < argc && (strcmp(a, "-s") == 0 ||
		    strcmp(a, "--socket") == 0))
			ctl.socket = argv[++i];
		else if (i + 1 < argc && (strcmp(a, "-c") == 0 ||
		    strcmp(a, "--config") == 0))
			config = argv[++i];
		else if (i + 1 < argc && strcmp(a, "-f") == 0) {
			/* "logs -f" follows; "-f FILE" elsewhere is config. */
			if (nargs > 0 && strcmp(args[0], "logs") == 0)
				follow = 1;
			else
				config = argv[++i];
		} else if (strcmp(a, "-f") == 0)
			follow = 1;
		else if (i + 1 < argc && (strcmp(a, "-t") == 0 ||
		    strcmp(a, "--timeout") == 0)) {
			ctl.timeout = strtonum(argv[++i], 0, 86400, &errstr);
			if (errstr != NULL)
				errx(2, "timeout %s: %s",
				    tty_str(stderr, argv[i]), errstr);
		} else if (i + 1 < argc && (strcmp(a, "-n") == 0 ||
		    strcmp(a, "--lines") == 0)) {
			lines = strtonum(argv[++i], 0, UINT32_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "lines %s: %s",
				    tty_str(stderr, argv[i]), errstr);
		} else
			usage(2);
	}
	if (nargs == 0)
		usage(2);

	if (ctl.socket == NULL && (env = getenv("APM2_SOCKET")) != NULL &&
	    *env != '\0')
		ctl.socket = env;
	if (ctl.socket == NULL)
		ctl.socket = socket_from_config(config ? config :
		    DEFAULT_CONFIG);
	if (ctl.socket == NULL)
		ctl.socket = DEFAULT_SOCKET;

	if (strcmp(args[0], "ping") == 0 && nargs == 1)
		rc = cmd_ping();
	else if (strcmp(args[0], "info") == 0 && nargs == 1)
		rc = cmd_info();
	else if (strcmp(args[0], "kill") == 0 && nargs == 1)
		rc = cmd_kill();
	else if ((strcmp(args[0], "list") == 0 ||
	    strcmp(args[0], "ls") == 0) && nargs == 1)
		rc = cmd_list();
	else if (strcmp(args[0], "status") == 0 && nargs == 2)
		rc = cmd_status(args[1]);
	else if (strcmp(args[0], "start") == 0 && nargs == 2)
		rc = cmd_action(REQ_START_PROCESS, args[1]);
	else if (strcmp(args[0], "stop") == 0 && nargs == 2)
		rc = cmd_action(REQ_STOP_PROCESS, args[1]);
	else if (strcmp(args[0], "restart") == 0 && nargs == 2)
		rc = cmd_action(REQ_RESTART_PROCESS, args[1]);
	else if (strcmp(args[0], "reload") == 0 && nargs == 2)
		rc = cmd_action(REQ_RELOAD_PROCESS, args[1]);
	else if (strcmp(args[0], "logs") == 0 && nargs <= 2)
		rc = cmd_logs(nargs == 2 ? args[1] : NULL, lines, follow);
	else if (strcmp(args[0], "reread") == 0 && nargs == 1)
		rc = cmd_reload_config(1);
	else if (strcmp(args[0], "update") == 0 && nargs == 1)
		rc = cmd_reload_config(0);
	else if (strcmp(args[0], "metrics") == 0 && nargs == 1)
		rc = cmd_metrics();
	else
		usage(2);
	ctl_close();
	return (rc);
}
