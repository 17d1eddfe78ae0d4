/* SPDX-License-Identifier: ISC */
/*
 * main.c -- apm2d's command line.
 *
 *	apm2d [-dnv] [-f file] [-s socket] [--pid-file path]
 *	    [--state-file path]
 *
 * One binary, three processes: without -F or -L this is the supervisor
 * (it loads the configuration and forks the others); "apm2d -F" is the
 * frontend and "apm2d -L" the logger, re-executed by the supervisor with
 * their descriptors already in place.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "apm2d.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "logger/logger.h"
#include "supervisor/proclimits.h"
#include "supervisor/supervisor.h"

#ifndef APM2_SYSCONFDIR
#define APM2_SYSCONFDIR	"/etc"	/* the Makefile's SYSCONFDIR */
#endif
#define DEFAULT_CONFIG	APM2_SYSCONFDIR "/apm2/ecosystem.toml"

extern char	**environ;

/* What the command line asks for. */
struct cmdline {
	struct frontend_opts	 fopts;		/* -F, -L: user, chroot */
	const char		*conffile;
	const char		*sockpath;
	const char		*pidpath;
	const char		*statepath;
	const char		*logpath;	/* --log-file */
	char			 cwd[PATH_MAX];	/* where it started */
	int			 debug;
	int			 noaction;
	int			 verbose;
	int			 quiet;		/* --log-level warn */
	int			 frontend;
	int			 logger;
};

static __attribute__((__noreturn__)) void	usage(int);
static char	*abspath(const char *);
static char	*self_path(const char *);
static void	 parse_args(int, char *[], struct cmdline *);
static struct config *load_config(const struct cmdline *);

static const struct option longopts[] = {
	{ "config",	required_argument,	NULL, 'f' },
	{ "socket",	required_argument,	NULL, 's' },
	{ "no-daemon",	no_argument,		NULL, 'd' },
	{ "pid-file",	required_argument,	NULL, 'P' },
	{ "state-file",	required_argument,	NULL, 'S' },
	{ "log-file",	required_argument,	NULL, 'l' },
	{ "log-level",	required_argument,	NULL, 'O' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

static void
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
	    "usage: apm2d [-dnv] [-f file] [-s socket] [--pid-file path] "
	    "[--state-file path]\n"
	    "             [--log-file path] [--log-level level]\n"
	    "  -d, --no-daemon      stay in the foreground, log to stderr\n"
	    "  -f, --config FILE    configuration (default %s)\n"
	    "  -n                   check the configuration and exit\n"
	    "  -s, --socket PATH    control socket (overrides the config)\n"
	    "      --pid-file PATH  pid file (overrides the config)\n"
	    "      --state-file PATH state file (overrides the config)\n"
	    "      --log-file PATH  the daemon's own log lines go to PATH\n"
	    "      --log-level LVL  warn, info (default), debug or trace\n"
	    "  -v                   more verbose (repeat for more)\n"
	    "      --version        print the version and exit\n",
	    DEFAULT_CONFIG);
	exit(status);
}

/* Resolve a relative path now: the daemon will chdir("/"). */
static char *
abspath(const char *p)
{
	char	cwd[PATH_MAX], *r;

	if (p[0] == '/') {
		if ((r = strdup(p)) == NULL)
			err(1, "strdup");
		return (r);
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		err(1, "getcwd");
	if (asprintf(&r, "%s/%s", cwd, p) == -1)
		err(1, "asprintf");
	return (r);
}

/* The binary to re-execute for the frontend. */
static char *
self_path(const char *argv0)
{
#ifdef __linux__
	char	buf[PATH_MAX];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		return (abspath(buf));
	}
#endif
	if (strchr(argv0, '/') != NULL)
		return (abspath(argv0));
	errx(1, "cannot find my own binary: start apm2d with a path");
}

/* The command line. */
static void
parse_args(int argc, char *argv[], struct cmdline *cl)
{
	int	ch;

	while ((ch = getopt_long(argc, argv, "dFf:hLnR:s:U:vV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			cl->debug = 1;
			break;
		case 'F':
			cl->frontend = 1;
			break;
		case 'f':
			cl->conffile = optarg;
			break;
		case 'h':
			usage(0);
		case 'L':
			cl->logger = 1;
			break;
		case 'l':
			cl->logpath = optarg;
			break;
		case 'O':
			if (log_level_parse(optarg, &cl->verbose,
			    &cl->quiet) == -1) {
				fprintf(stderr, "apm2d: --log-level %s: not "
				    "one of warn, info, debug, trace\n",
				    optarg);
				usage(2);
			}
			break;
		case 'n':
			cl->noaction = 1;
			break;
		case 'P':
			cl->pidpath = optarg;
			break;
		case 'R':
			cl->fopts.chroot = optarg;
			break;
		case 'S':
			cl->statepath = optarg;
			break;
		case 's':
			cl->sockpath = optarg;
			break;
		case 'U':
			cl->fopts.user = optarg;
			break;
		case 'v':
			cl->verbose++;
			break;
		case 'V':
			printf("apm2d %s (apm2 protocol %s)\n", APM2D_VERSION,
			    APM2_VERSION);
			exit(0);
		default:
			usage(2);
		}
	}
	if (argc != optind)
		usage(2);
}

/* The configuration, with the command line's paths over the file's. */
static struct config *
load_config(const struct cmdline *cl)
{
	struct config_errors	 errs;
	struct config		*conf;
	char			 why[1024], warn[1024];
	size_t			 i;

	conf = config_load(cl->conffile, &errs);
	if (conf == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		config_errors_free(&errs);
		exit(1);
	}
	config_errors_free(&errs);
	/* Relative paths in the file are taken from where we started. */
	if (config_daemon_paths(conf, cl->cwd, cl->sockpath, cl->pidpath,
	    cl->statepath, cl->logpath, geteuid() == 0) == -1)
		err(1, "config_daemon_paths");
	if (cl->noaction) {
		/* Every check the daemon makes before it starts. */
		if (daemon_preflight(&conf->daemon, why, sizeof(why), warn,
		    sizeof(warn)) == -1) {
			fprintf(stderr, "%s: %s\n", cl->conffile, why);
			exit(1);
		}
		if (warn[0] != '\0')
			fprintf(stderr, "%s: warning: %s\n", cl->conffile,
			    warn);
		/* Warnings: the file is right, the host lacks something. */
		(void)limits_check(conf);
		(void)config_inert(conf, &errs);
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		config_errors_free(&errs);
		printf("configuration OK\n");
		config_free(conf);
		exit(0);
	}
	return (conf);
}

int
main(int argc, char *argv[])
{
	struct cmdline	 cl;
	struct sup_opts	 sopts;
	struct config	*conf;
	const char	*argv0 = argv[0];	/* before setproctitle_init */

#ifndef __OpenBSD__
	/* libbsd's setproctitle needs this; OpenBSD's libc has no such call. */
	setproctitle_init(argc, argv, environ);
#endif
	memset(&cl, 0, sizeof(cl));
	cl.conffile = DEFAULT_CONFIG;
	cl.fopts.user = CONFIG_DEFAULT_USER;
	cl.fopts.chroot = CONFIG_DEFAULT_CHROOT;
	parse_args(argc, argv, &cl);
	if (getcwd(cl.cwd, sizeof(cl.cwd)) == NULL)
		err(1, "getcwd");

	if (cl.frontend || cl.logger) {
		cl.fopts.debug = cl.debug;
		cl.fopts.verbose = cl.verbose;
		cl.fopts.quiet = cl.quiet;
		cl.fopts.logger = cl.logger;
		if (cl.logger)
			logger_main(&cl.fopts);
		frontend_main(&cl.fopts);
	}

	/* Log to stderr until the supervisor decides otherwise. */
	log_init(1, LOG_DAEMON);
	log_setverbose(cl.verbose);
	log_setquiet(cl.quiet);
	conf = load_config(&cl);

	memset(&sopts, 0, sizeof(sopts));
	sopts.debug = cl.debug;
	sopts.verbose = cl.verbose;
	sopts.quiet = cl.quiet;
	sopts.config_path = abspath(cl.conffile);
	sopts.self = self_path(argv0);
	sopts.cwd = cl.cwd;
	sopts.sockpath = cl.sockpath;
	sopts.pidpath = cl.pidpath;
	sopts.statepath = cl.statepath;
	sopts.logpath = cl.logpath != NULL ? abspath(cl.logpath) : NULL;
	supervisor_main(conf, &sopts);
}
