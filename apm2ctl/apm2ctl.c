/* SPDX-License-Identifier: ISC */
/*
 * apm2ctl -- command-line client for apm2d.
 *
 *	apm2ctl [-j] [--raw] [-s socket] [-f config] [-t secs] command [args]
 *
 * Speaks the length-prefixed JSON protocol on the control socket, one
 * connection per command.  Options may come before or after the command.
 * Exit status: 0 success; 1 an error reply, no daemon, or a command that
 * did not do all it was asked (an instance that did not start, a daemon
 * that did not exit); 2 a usage error.
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
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "duration.h"
#include "fmt.h"
#include "frame.h"
#include "jsonw.h"
#include "proto.h"
#include "sysutil.h"
#include "toml.h"

#ifndef APM2_SYSCONFDIR
#define APM2_SYSCONFDIR	"/etc"	/* the Makefile's SYSCONFDIR */
#endif
#define DEFAULT_CONFIG	APM2_SYSCONFDIR "/apm2/ecosystem.toml"
#define DEFAULT_SOCKET	"/var/run/apm2/apm2.sock"
#define DEFAULT_TIMEOUT	5
#define KILL_WAIT	120	/* kill: seconds to wait for the exit, least */
#define KILL_MARGIN	30	/* and past the config's shutdown_timeout */
#define TAIL_MAX	10000	/* lines the daemon sends at most */
#define NO_INSTANCE	UINT32_MAX

struct ctl {
	int		 json;
	int		 json_off;	/* a request of our own: not printed */
	int		 raw;		/* --raw: no escaping on a terminal */
	int		 timeout;	/* seconds; 0 = forever */
	int		 timeout_set;	/* -t given */
	const char	*socket;
	int		 fd;
	int		 eof_ok;	/* EOF between frames ends quietly */
	uint64_t	 shutdown_secs;	/* the config's shutdown_timeout */
	int		 has_shutdown;
};

static struct ctl	ctl = {
	.timeout = DEFAULT_TIMEOUT,
	.fd = -1
};

enum cmd_id {
	C_PING, C_INFO, C_KILL, C_LIST, C_STATUS, C_START, C_STOP, C_RESTART,
	C_RELOAD, C_LOGS, C_REREAD, C_UPDATE, C_METRICS
};

/* The commands, their arguments, and what the argument is for messages. */
static const struct cmd {
	const char	*name;
	enum cmd_id	 id;
	int		 minargs;
	int		 maxargs;
	const char	*arg;
} cmds[] = {
	{ "ping",	C_PING,		0, 0, NULL },
	{ "info",	C_INFO,		0, 0, NULL },
	{ "kill",	C_KILL,		0, 0, NULL },
	{ "list",	C_LIST,		0, 0, NULL },
	{ "ls",		C_LIST,		0, 0, NULL },
	{ "status",	C_STATUS,	1, 1, "a process NAME" },
	{ "start",	C_START,	1, 1, "a process NAME or all" },
	{ "stop",	C_STOP,		1, 1, "a process NAME or all" },
	{ "restart",	C_RESTART,	1, 1, "a process NAME or all" },
	{ "reload",	C_RELOAD,	1, 1, "a process NAME or all" },
	{ "logs",	C_LOGS,		0, 1, "a process NAME[:INDEX]" },
	{ "reread",	C_REREAD,	0, 0, NULL },
	{ "update",	C_UPDATE,	0, 0, NULL },
	{ "metrics",	C_METRICS,	0, 0, NULL },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/* Every option, for the closest to a mistyped one. */
static const char *const opts[] = {
	"-j", "--json", "--raw", "-s", "--socket", "-f", "-c", "--config",
	"-t", "--timeout", "-n", "--lines", "-F", "--follow", "--instance",
	"-h", "--help", "-V", "--version"
};

/* What the command line asks. */
struct args {
	const struct cmd	*cmd;
	char			*argv[8];
	int			 argc;
	const char		*config;
	const char		*config_opt;	/* the option that gave it */
	uint32_t		 lines;
	int			 lines_set;	/* -n given */
	int			 follow;
	uint32_t		 instance;	/* NO_INSTANCE: all */
};

static __attribute__((__noreturn__)) void	usage(int);
static __attribute__((__noreturn__, __format__(printf, 1, 2))) void
		 usage_err(const char *, ...);
static const char *optval(int, char *[], int *, const char *,
		    const char *, const char *);
static void	 parse_args(int, char *[], struct args *);
static void	 check_cmd(struct args *);
static uint32_t	 num_arg(const char *, const char *, uint32_t);
static int	 config_read(const char *, int, const char *, char **);
static void	 config_fail(const char *, const char *, const char *);
static int	 tty_escapes(FILE *);
static char	*tty_str(FILE *, const char *);
static void	 tty_write(FILE *, const char *, size_t);
static int	 ctl_connect(void);
static int	 ctl_send(const struct apm2_req *);
static int	 ctl_recv(struct apm2_resp *, int);
static int	 ctl_call(const struct apm2_req *, struct apm2_resp *);
static void	 ctl_close(void);
static int	 ctl_call_quiet(const struct apm2_req *, struct apm2_resp *);
static char	*closest_process(const char *);
static int	 fail_reply(const char *, const char *,
		    const struct apm2_resp *);
static int	 cmd_ping(void);
static int	 cmd_info(void);
static int	 cmd_kill(void);
static int	 daemon_gone(pid_t, const struct stat *);
static int	 cmd_list(void);
static int	 cmd_status(const char *);
static struct fmt_limit *status_limits(const struct apm2_procinfo *);
static void	 free_limits(struct fmt_limit *, size_t);
static int	 partial_start(const char *);
static int	 act_one(enum apm2_req_type, const char *, int);
static int	 cmd_action(enum apm2_req_type, const char *);
static int	 logs_check(const char *, uint32_t);
static void	 put_entry(const struct apm2_logentry *);
static void	 put_entries_json(const struct apm2_logentry *, size_t,
		    uint32_t, size_t);
static int	 logs_frame(struct apm2_resp *, const struct args *, int);
static int	 cmd_logs(const struct args *);
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
	    "  kill                     shut the daemon down, wait until it "
	    "exits\n"
	    "  list | ls                all processes\n"
	    "  status NAME              one process in detail\n"
	    "  start|stop|restart|reload NAME|all\n"
	    "  logs [NAME[:INDEX]] [-n N] [--instance N] [-F]\n"
	    "                           last N lines (default 20); -F follows\n"
	    "  reread                   what a reload of the config would do\n"
	    "  update                   reload the config: apply the changes\n"
	    "  metrics                  the Prometheus text exposition\n"
	    "options:\n"
	    "  -j, --json          print each reply as one JSON line\n"
	    "  --raw               print control characters as they are on a "
	    "terminal\n"
	    "  -s, --socket PATH   control socket (default: the config's, else "
	    "%s)\n"
	    "  -f, -c, --config FILE\n"
	    "                      configuration to find the socket in "
	    "(default %s)\n"
	    "  -t, --timeout SECS  reply timeout (default %d, 0 = none); kill: "
	    "exit wait\n"
	    "  -n, --lines N       logs: lines to print (default 20)\n"
	    "  --instance N        logs: instance N only\n"
	    "  -F, --follow        logs: keep printing output as it comes\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       apm2ctl's version\n"
	    "exit status: 0 done, 1 failed, 2 usage error\n",
	    DEFAULT_SOCKET, DEFAULT_CONFIG, DEFAULT_TIMEOUT);
	exit(status);
}

/* A usage error: what is wrong, escaped on a terminal, then the synopsis. */
static void
usage_err(const char *fmt, ...)
{
	char	 buf[1024], *e;
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	e = tty_str(stderr, buf);	/* it quotes the command line */
	fprintf(stderr, "Error: %s\n"
	    "usage: apm2ctl [-j] [--raw] [-s socket] [-f config] [-t secs] "
	    "command (apm2ctl -h: more)\n", e);
	free(e);
	exit(2);
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

/*
 * An explicit configuration that cannot be used: say why, exit 1.  A
 * "logs -f" of old habits finds no file: the hint says what -f is now.
 */
static void
config_fail(const char *path, const char *why, const char *hint)
{
	char	*p, *w;

	p = tty_str(stderr, path);
	w = tty_str(stderr, why);
	fprintf(stderr, "Error: configuration %s: %s%s\n", p, w,
	    hint != NULL ? hint : "");
	free(p);
	free(w);
	exit(1);
}

/*
 * What apm2ctl takes from a configuration file: [daemon] socket (in
 * *sockp, malloc'd, if there is one) and shutdown_timeout.  A file given
 * on the command line (explicit) must be there and parse, else
 * config_fail(); the default one may be missing or unreadable without a
 * word, and one that does not parse gets a warning.  0, or -1 when the
 * default could not be used.
 */
static int
config_read(const char *path, int explicit, const char *hint, char **sockp)
{
	struct toml_table	*root;
	struct toml_error	 terr;
	const struct toml_kv	*d, *kv;
	struct duration		 dur;
	struct stat		 st;
	const char		*bad = NULL;
	char			*buf, *loc, *w, *m;
	ssize_t			 n;
	int			 fd;

	*sockp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (explicit)
			config_fail(path, strerror(errno),
			    errno == ENOENT ? hint : NULL);
		return (-1);
	}
	if (fstat(fd, &st) == -1)
		bad = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		bad = "not a regular file";
	else if (st.st_size > TOML_MAX_INPUT)
		bad = "larger than 8 MiB";
	if (bad != NULL) {
		close(fd);
		if (explicit)
			config_fail(path, bad, NULL);
		return (-1);
	}
	if ((buf = malloc(st.st_size + 1)) == NULL)
		err(1, NULL);
	n = read(fd, buf, st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		if (explicit)
			config_fail(path, n == -1 ? strerror(errno) :
			    "short read", NULL);
		return (-1);
	}
	root = toml_parse(buf, n, &terr);
	free(buf);
	if (root == NULL) {
		/* file:line:col: message, as apm2d -n says it. */
		if (asprintf(&loc, "%s:%u:%u", path, terr.pos.line,
		    terr.pos.col) == -1)
			err(1, NULL);
		if (explicit)
			config_fail(loc, terr.msg, NULL);
		w = tty_str(stderr, loc);
		m = tty_str(stderr, terr.msg);
		fprintf(stderr, "Warning: configuration %s: %s (not used)\n",
		    w, m);
		free(w);
		free(m);
		free(loc);
		return (-1);
	}
	if ((d = toml_get(root, "daemon")) != NULL &&
	    d->val->type == TOML_TABLE) {
		if ((kv = toml_get(d->val->u.tab, "socket")) != NULL &&
		    kv->val->type == TOML_STRING &&
		    strlen(kv->val->u.str.ptr) == kv->val->u.str.len &&
		    (*sockp = strdup(kv->val->u.str.ptr)) == NULL)
			err(1, NULL);
		if ((kv = toml_get(d->val->u.tab, "shutdown_timeout")) !=
		    NULL && kv->val->type == TOML_STRING &&
		    duration_parse_len(kv->val->u.str.ptr, kv->val->u.str.len,
		    &dur, NULL, 0) == 0) {
			ctl.shutdown_secs = dur.sec + (dur.nsec > 0);
			ctl.has_shutdown = 1;
		}
	}
	toml_free(root);
	return (0);
}

static int
ctl_connect(void)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
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
		if (stat(ctl.socket, &st) == 0 && !S_ISSOCK(st.st_mode))
			fprintf(stderr, "Error: %s is not a socket\n", path);
		else
			fprintf(stderr, "Error: failed to connect to daemon "
			    "socket %s (is the daemon running?): %s\n", path,
			    strerror(saved));
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
	if (ctl.json && !ctl.json_off) {
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
	/* An error, even to a request of our own, is what -j shows. */
	if (ctl.json && ctl.json_off && resp->type == RESP_ERROR) {
		fwrite(payload, 1, plen, stdout);
		putchar('\n');
		fflush(stdout);
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

/* A request of apm2ctl's own, its reply not printed with -j. */
static int
ctl_call_quiet(const struct apm2_req *req, struct apm2_resp *resp)
{
	int	r;

	ctl.json_off = 1;
	r = ctl_call(req, resp);
	ctl.json_off = 0;
	return (r);
}

/*
 * The configured process whose name is closest to a mistyped one, from
 * list_processes on the same connection, escaped for stderr; NULL if
 * none is close, or the list cannot be had.
 */
static char *
closest_process(const char *name)
{
	struct apm2_req		 req = { .type = REQ_LIST_PROCESSES };
	struct apm2_resp	 resp;
	const char		**names;
	char			*res = NULL;
	size_t			 i;
	int			 k;

	if (ctl_call_quiet(&req, &resp) == -1)
		return (NULL);
	if (resp.type == RESP_PROCESS_LIST && resp.nprocs > 0) {
		if ((names = calloc(resp.nprocs, sizeof(*names))) == NULL)
			err(1, NULL);
		for (i = 0; i < resp.nprocs; i++)
			names[i] = resp.procs[i].name;
		if ((k = fmt_closest(name, names, resp.nprocs)) != -1)
			res = tty_str(stderr, names[k]);
		free(names);
	}
	apm2_resp_free(&resp);
	return (res);
}

/*
 * "Failed to <verb> '<name>': <message> (<Code>)" for error replies, and
 * for a name that is not found, the closest one there is.
 */
static int
fail_reply(const char *verb, const char *name, const struct apm2_resp *resp)
{
	char	*n, *msg, *hint = NULL;

	if (ctl.json)
		return (1);
	if (resp->type != RESP_ERROR) {
		fprintf(stderr, "Error: Unexpected response\n");
		return (1);
	}
	if (resp->code == ERR_PROCESS_NOT_FOUND && name != NULL)
		hint = closest_process(name);
	/* The message quotes the name, which may be anything. */
	n = tty_str(stderr, name);
	msg = tty_str(stderr, resp->message);
	if (n != NULL)
		fprintf(stderr, "Error: Failed to %s '%s': %s (%s)", verb,
		    n, msg, apm2_errcode_debug(resp->code));
	else
		fprintf(stderr, "Error: Failed to %s: %s (%s)", verb,
		    msg, apm2_errcode_debug(resp->code));
	if (hint != NULL)
		fprintf(stderr, "; did you mean '%s'?", hint);
	putc('\n', stderr);
	free(n);
	free(msg);
	free(hint);
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

/*
 * Shut the daemon down and wait until it is gone, so that "apm2ctl kill
 * && apm2d" finds the socket and the pid file free.  Gone: its socket
 * removed or replaced (the last thing it does before it exits), or its
 * pid, asked for first, no longer there.  The wait is bounded by -t, by
 * default KILL_MARGIN past the configuration's shutdown_timeout, and at
 * least KILL_WAIT.
 */
static int
cmd_kill(void)
{
	struct apm2_req		 sreq = { .type = REQ_STATUS };
	struct apm2_req		 req = { .type = REQ_SHUTDOWN };
	struct apm2_resp	 resp;
	struct stat		 st;
	char			*msg;
	int64_t			 wait, deadline;
	pid_t			 pid = 0;
	int			 rc = 0;

	if (ctl_call_quiet(&sreq, &resp) == -1) {
		fprintf(stderr, "Daemon may not be running\n");
		return (1);
	}
	/* A pid we cannot see (another pid namespace) says nothing. */
	if (resp.type == RESP_STATUS && resp.pid > 0 &&
	    (kill((pid_t)resp.pid, 0) == 0 || errno != ESRCH))
		pid = (pid_t)resp.pid;
	apm2_resp_free(&resp);
	if (lstat(ctl.socket, &st) == -1)
		memset(&st, 0, sizeof(st));
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
		(void)fflush(stdout);
	}
	apm2_resp_free(&resp);
	ctl_close();
	if (rc != 0)
		return (rc);

	if (ctl.timeout_set)
		wait = ctl.timeout;
	else {
		wait = KILL_WAIT;
		if (ctl.has_shutdown && ctl.shutdown_secs < INT32_MAX &&
		    (int64_t)ctl.shutdown_secs + KILL_MARGIN > wait)
			wait = (int64_t)ctl.shutdown_secs + KILL_MARGIN;
	}
	deadline = mono_ms() + wait * 1000;
	while (!daemon_gone(pid, &st)) {
		if (wait > 0 && mono_ms() >= deadline) {
			if (pid > 0)
				fprintf(stderr, "Error: the daemon (pid %ld) "
				    "did not exit within %lld s\n", (long)pid,
				    (long long)wait);
			else
				fprintf(stderr, "Error: the daemon did not "
				    "exit within %lld s\n", (long long)wait);
			return (1);
		}
		(void)poll(NULL, 0, 10);
	}
	return (0);
}

/* Is the daemon of pid (0: unknown) and socket st gone? */
static int
daemon_gone(pid_t pid, const struct stat *st)
{
	struct stat	now;

	if (lstat(ctl.socket, &now) == -1) {
		if (errno == ENOENT)
			return (1);
	} else if (st->st_ino != 0 && (now.st_ino != st->st_ino ||
	    now.st_dev != st->st_dev))
		return (1);	/* a new daemon's */
	return (pid > 0 && kill(pid, 0) == -1 && errno == ESRCH);
}

static int
cmd_list(void)
{
	struct apm2_req		 req = { .type = REQ_LIST_PROCESSES };
	struct apm2_resp	 resp;
	struct fmt_row		*rows;
	char			(*status)[FMT_STATUS_MAX], state[FMT_STATE_MAX];
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
		fmt_status(apm2_state_human(&s->status, state, sizeof(state)),
		    s->policy.has_restart_in, s->policy.restart_in_secs,
		    s->policy.gave_up, s->policy.gave_up_after, status[i],
		    sizeof(status[i]));
		rows[i].status = status[i];
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
	char			(*state)[FMT_STATUS_MAX], **args;
	char			 human[FMT_STATE_MAX];
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
		fmt_status(apm2_state_human(&s->state, human, sizeof(human)),
		    s->policy.has_restart_in, s->policy.restart_in_secs,
		    s->policy.gave_up, s->policy.gave_up_after, state[i],
		    sizeof(state[i]));
		inst[i].state = state[i];
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

/*
 * An ok "Started K of N instances (some failed)" (upstream's reply to a
 * start that started some): a start that did not do what it was asked.
 */
static int
partial_start(const char *msg)
{
	unsigned int	k, n;
	int		end = 0;

	if (msg == NULL || sscanf(msg, "Started %u of %u instances%n", &k, &n,
	    &end) != 2 || end == 0)
		return (0);
	return (k < n);
}

/*
 * start/stop/restart/reload one process: 0 done, 1 not.  all: part of
 * "stop all", where a process that is not running is as asked.
 */
static int
act_one(enum apm2_req_type type, const char *name, int all)
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
	FILE			*fp = stdout;
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
	if (resp.type == RESP_ERROR && all && type == REQ_STOP_PROCESS &&
	    resp.code == ERR_PROCESS_NOT_RUNNING)
	{
		/* As asked. */
		if ((msg = strdup("it was not running")) == NULL)
			err(1, NULL);
	}
	else if (resp.type != RESP_OK) {
		rc = fail_reply(acts[i].verb, name, &resp);
		apm2_resp_free(&resp);
		return (rc);
	} else if (partial_start(resp.message)) {
		/* An ok on the wire (upstream's), a failure here. */
		fp = stderr;
		rc = 1;
		msg = tty_str(fp, resp.message);
	} else
		msg = tty_str(fp, resp.message);
	n = tty_str(fp, name);
	if (ctl.json)
		;
	else if (rc != 0)
		fprintf(fp, "Error: Failed to %s '%s': %s\n", acts[i].verb,
		    n, msg);
	else if (msg != NULL)
		printf("%s '%s': %s\n", acts[i].done, n, msg);
	else
		printf("%s '%s'\n", acts[i].done, n);
	free(n);
	free(msg);
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
		return (act_one(type, name, 0));
	if (ctl_call(&req, &resp) == -1)
		return (1);
	if (resp.type != RESP_PROCESS_LIST) {
		rc = fail_reply("list processes", NULL, &resp);
		apm2_resp_free(&resp);
		return (rc);
	}
	/* A process literally named "all" cannot exist: names are checked. */
	for (i = 0; i < resp.nprocs; i++)
		if (act_one(type, resp.procs[i].name, 1) != 0)
			rc = 1;
	apm2_resp_free(&resp);
	return (rc);
}

/* Has process name an instance inst?  0, or 1 after saying why not. */
static int
logs_check(const char *name, uint32_t inst)
{
	struct apm2_req		 req = { .type = REQ_GET_PROCESS };
	struct apm2_resp	 resp;
	char			*n;
	int			 rc = 0;

	req.name = (char *)name;
	if (ctl_call_quiet(&req, &resp) == -1)
		return (1);
	if (resp.type != RESP_PROCESS_DETAILS)
		rc = fail_reply("get logs", name, &resp);
	else if (inst >= resp.proc.instances) {
		n = tty_str(stderr, name);
		fprintf(stderr, "Error: '%s' has %u instance(s): there is no "
		    "instance %u\n", n, resp.proc.instances, inst);
		free(n);
		rc = 1;
	}
	apm2_resp_free(&resp);
	return (rc);
}

static void
put_entry(const struct apm2_logentry *e)
{
	struct tm	 tm;
	time_t		 t;
	char		 ts[32], *pname, *stream;

	t = (time_t)e->timestamp.sec;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	pname = tty_str(stdout, e->process_name);
	stream = tty_str(stdout, e->stream);
	printf("[%s] [%s:%u] [%s] ", ts, pname, e->instance, stream);
	free(pname);
	free(stream);
	/* The agent's own bytes: the reason for escaping. */
	tty_write(stdout, e->content, e->content_len);
	putchar('\n');
}

/*
 * With -j and an instance: the log_lines reply as the daemon would write
 * it for that instance alone, its last max lines (from skip on).
 */
static void
put_entries_json(const struct apm2_logentry *l, size_t n, uint32_t inst,
    size_t skip)
{
	struct jw	 w;
	char		 ts[APM2_TIME_MAX], *out;
	size_t		 i, len;
	int		 first = 1;

	jw_init(&w);
	jw_rawz(&w, "{\"type\":\"log_lines\",\"lines\":[");
	for (i = 0; i < n; i++) {
		if (l[i].instance != inst)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		if (!first)
			jw_char(&w, ',');
		first = 0;
		apm2_time_rfc3339(&l[i].timestamp, ts, sizeof(ts));
		jw_rawz(&w, "{\"timestamp\":");
		jw_strz(&w, ts);
		jw_rawz(&w, ",\"process_name\":");
		jw_strz(&w, l[i].process_name);
		jw_rawz(&w, ",\"instance\":");
		jw_u64(&w, l[i].instance);
		jw_rawz(&w, ",\"stream\":");
		jw_strz(&w, l[i].stream);
		jw_rawz(&w, ",\"content\":");
		jw_str(&w, l[i].content, l[i].content_len);
		jw_char(&w, '}');
	}
	jw_rawz(&w, "]}");
	if ((out = jw_detach(&w, &len)) == NULL)
		err(1, NULL);
	(void)fwrite(out, 1, len, stdout);
	putchar('\n');
	free(out);
}

/*
 * One log_lines frame: its lines, or with an instance, that instance's,
 * of the first frame only the last a->lines.  -1 for an error reply.
 */
static int
logs_frame(struct apm2_resp *resp, const struct args *a, int first)
{
	size_t	 i, n = 0, skip = 0;

	if (resp->type != RESP_LOG_LINES)
		return (-1);
	if (a->instance != NO_INSTANCE) {
		for (i = 0; i < resp->nlines; i++)
			if (resp->lines[i].instance == a->instance)
				n++;
		if (first && n > a->lines)
			skip = n - a->lines;
		if (ctl.json) {
			if (first || n > 0)
				put_entries_json(resp->lines, resp->nlines,
				    a->instance, skip);
			return (0);
		}
	}
	for (i = 0; i < resp->nlines && !ctl.json; i++) {
		if (a->instance != NO_INSTANCE &&
		    resp->lines[i].instance != a->instance)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		put_entry(&resp->lines[i]);
	}
	return (0);
}

/*
 * logs: the last lines of a process (or of all), following them with -F.
 * The daemon has no instance filter: with one, apm2ctl asks for all it
 * keeps and shows that instance's.
 */
static int
cmd_logs(const struct args *a)
{
	struct apm2_req		 req;
	struct apm2_resp	 resp;
	const char		*name = a->argc > 1 ? a->argv[1] : NULL;
	int			 rc = 0, r, first = 1;

	if (a->instance != NO_INSTANCE && logs_check(name, a->instance) != 0)
		return (1);
	memset(&req, 0, sizeof(req));
	req.type = REQ_TAIL_LOGS;
	req.name = (char *)name;
	req.lines = a->lines;
	if (a->instance != NO_INSTANCE && a->lines > 0)
		req.lines = TAIL_MAX;
	req.follow = a->follow;
	if (a->instance != NO_INSTANCE)
		ctl.json_off = 1;	/* printed filtered */
	r = ctl_call(&req, &resp);
	ctl.json_off = 0;
	if (r == -1)
		return (1);
	for (;;) {
		if (logs_frame(&resp, a, first) == -1) {
			rc = fail_reply("get logs", name, &resp);
			apm2_resp_free(&resp);
			return (rc);
		}
		first = 0;
		apm2_resp_free(&resp);
		if (fflush(stdout) == EOF || ferror(stdout))
			return (1);	/* the reader went away */
		if (!a->follow)
			break;
		/* Following: frames come as the process writes, until the
		 * daemon ends the stream (shutdown) or we are interrupted. */
		ctl.eof_ok = 1;
		if (a->instance != NO_INSTANCE)
			ctl.json_off = 1;
		r = ctl_recv(&resp, 0);
		ctl.json_off = 0;
		if (r == -2)
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

/*
 * If argv[*i] is option sopt or lopt (or lopt2), its value, the next
 * argument (*i moves past it): a usage error if there is none.  NULL if
 * it is another option.
 */
static const char *
optval(int argc, char *argv[], int *i, const char *sopt, const char *lopt,
    const char *lopt2)
{
	const char	*a = argv[*i];

	if (strcmp(a, sopt) != 0 && (lopt == NULL || strcmp(a, lopt) != 0) &&
	    (lopt2 == NULL || strcmp(a, lopt2) != 0))
		return (NULL);
	if (*i + 1 >= argc) {
		if (strcmp(a, "-f") == 0)
			usage_err("option -f needs a configuration file (to "
			    "follow logs, use -F or --follow)");
		usage_err("option %s needs a value", a);
	}
	return (argv[++*i]);
}

/* A number argument of option what, at most max: a usage error if not. */
static uint32_t
num_arg(const char *what, const char *v, uint32_t max)
{
	const char	*errstr;
	uint32_t	 n;

	n = (uint32_t)strtonum(v, 0, max, &errstr);
	if (errstr != NULL)
		usage_err("%s '%s': %s", what, v, errstr);
	return (n);
}

/* Options are accepted before and after the command; -- ends them. */
static void
parse_args(int argc, char *argv[], struct args *a)
{
	const char	*v;
	int		 i, dashdash = 0, k;

	for (i = 1; i < argc; i++) {
		const char	*o = argv[i];

		if (dashdash || o[0] != '-' || o[1] == '\0') {
			if (a->argc == (int)(sizeof(a->argv) /
			    sizeof(a->argv[0])))
				usage_err("too many arguments");
			a->argv[a->argc++] = argv[i];
		} else if (strcmp(o, "--") == 0)
			dashdash = 1;
		else if (strcmp(o, "-j") == 0 || strcmp(o, "--json") == 0)
			ctl.json = 1;
		else if (strcmp(o, "--raw") == 0)
			ctl.raw = 1;
		else if (strcmp(o, "-F") == 0 || strcmp(o, "--follow") == 0)
			a->follow = 1;
		else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0)
			usage(0);
		else if (strcmp(o, "-V") == 0 || strcmp(o, "--version") == 0) {
			printf("apm2ctl %s (apm2 protocol %s)\n", APM2D_VERSION,
			    APM2_VERSION);
			exit(0);
		} else if ((v = optval(argc, argv, &i, "-s", "--socket",
		    NULL)) != NULL)
			ctl.socket = v;
		else if ((v = optval(argc, argv, &i, "-f", "-c",
		    "--config")) != NULL) {
			a->config = v;
			a->config_opt = o;
		} else if ((v = optval(argc, argv, &i, "-t", "--timeout",
		    NULL)) != NULL) {
			ctl.timeout = (int)num_arg("timeout", v, 86400);
			ctl.timeout_set = 1;
		} else if ((v = optval(argc, argv, &i, "-n", "--lines",
		    NULL)) != NULL) {
			a->lines = num_arg("lines", v, UINT32_MAX);
			a->lines_set = 1;
		}
		else if ((v = optval(argc, argv, &i, "--instance", NULL,
		    NULL)) != NULL)
			a->instance = num_arg("instance", v, UINT32_MAX - 1);
		else if (o[1] == '-' && (k = fmt_closest(o, opts,
		    sizeof(opts) / sizeof(opts[0]))) != -1)
			usage_err("unknown option '%s'; did you mean '%s'?", o,
			    opts[k]);
		else
			usage_err("unknown option '%s'", o);
	}
}

/* The command and its arguments: known, and as many as it takes. */
static void
check_cmd(struct args *a)
{
	const char	*names[NCMDS], *name = a->argv[0], *colon;
	size_t		 i;
	int		 k;
	uint32_t	 inst;

	for (i = 0; i < NCMDS; i++) {
		names[i] = cmds[i].name;
		if (strcmp(name, cmds[i].name) == 0)
			break;
	}
	if (i == NCMDS) {
		if ((k = fmt_closest(name, names, NCMDS)) != -1)
			usage_err("unknown command '%s'; did you mean '%s'?",
			    name, names[k]);
		usage_err("unknown command '%s'", name);
	}
	a->cmd = &cmds[i];
	if (a->argc - 1 < a->cmd->minargs)
		usage_err("'%s' needs %s", name, a->cmd->arg);
	if (a->argc - 1 > a->cmd->maxargs) {
		if (a->cmd->maxargs == 0)
			usage_err("'%s' takes no argument, got '%s'", name,
			    a->argv[1]);
		usage_err("'%s' takes %s, got '%s' too", name, a->cmd->arg,
		    a->argv[a->cmd->maxargs + 1]);
	}
	if (a->cmd->id != C_LOGS) {
		if (a->follow || a->lines_set || a->instance != NO_INSTANCE)
			usage_err("%s is for logs", a->follow ? "-F" :
			    a->lines_set ? "-n" : "--instance");
		return;
	}
	/* logs NAME:INDEX: names have no colon (ecosystem.toml(5)). */
	if (a->argc > 1 && (colon = strrchr(a->argv[1], ':')) != NULL) {
		inst = num_arg("the instance of NAME:INDEX", colon + 1,
		    UINT32_MAX - 1);
		if (a->instance != NO_INSTANCE && a->instance != inst)
			usage_err("'%s' and --instance %u name two instances",
			    a->argv[1], a->instance);
		a->instance = inst;
		a->argv[1][colon - a->argv[1]] = '\0';
	}
	if (a->instance != NO_INSTANCE && a->argc < 2)
		usage_err("an instance needs a process NAME: logs "
		    "NAME:INDEX");
}

int
main(int argc, char *argv[])
{
	struct args	 a;
	char		*csock = NULL;
	const char	*env;
	int		 rc = 1;

	signal(SIGPIPE, SIG_IGN);
	memset(&a, 0, sizeof(a));
	a.lines = 20;
	a.instance = NO_INSTANCE;
	parse_args(argc, argv, &a);
	if (a.argc == 0)
		usage(2);
	check_cmd(&a);

	/* A configuration given must be there; the default may be not. */
	if (a.config != NULL)
		(void)config_read(a.config, 1, a.cmd->id == C_LOGS &&
		    strcmp(a.config_opt, "-f") == 0 ? " (-f names the "
		    "configuration; to follow logs, use -F or --follow)" : NULL,
		    &csock);
	if (ctl.socket == NULL && (env = getenv("APM2_SOCKET")) != NULL &&
	    *env != '\0')
		ctl.socket = env;
	if (ctl.socket == NULL && a.config == NULL)
		(void)config_read(DEFAULT_CONFIG, 0, NULL, &csock);
	if (ctl.socket == NULL)
		ctl.socket = csock != NULL ? csock : DEFAULT_SOCKET;

	switch (a.cmd->id) {
	case C_PING:
		rc = cmd_ping();
		break;
	case C_INFO:
		rc = cmd_info();
		break;
	case C_KILL:
		rc = cmd_kill();
		break;
	case C_LIST:
		rc = cmd_list();
		break;
	case C_STATUS:
		rc = cmd_status(a.argv[1]);
		break;
	case C_START:
		rc = cmd_action(REQ_START_PROCESS, a.argv[1]);
		break;
	case C_STOP:
		rc = cmd_action(REQ_STOP_PROCESS, a.argv[1]);
		break;
	case C_RESTART:
		rc = cmd_action(REQ_RESTART_PROCESS, a.argv[1]);
		break;
	case C_RELOAD:
		rc = cmd_action(REQ_RELOAD_PROCESS, a.argv[1]);
		break;
	case C_LOGS:
		rc = cmd_logs(&a);
		break;
	case C_REREAD:
		rc = cmd_reload_config(1);
		break;
	case C_UPDATE:
		rc = cmd_reload_config(0);
		break;
	case C_METRICS:
		rc = cmd_metrics();
		break;
	}
	ctl_close();
	free(csock);
	return (rc);
}
