/* SPDX-License-Identifier: ISC */
/*
 * logger.c -- the logger process: its event loop and the messages of
 * the supervisor (see logger.h).
 */
#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "apm2d/apm2d.h"
#include "chan_event.h"
#include "log.h"
#include "logcap.h"
#include "logfile.h"
#include "logger.h"
#include "output.h"
#include "proto.h"

static struct chan_ev	 sup_ce;
static int		 hello;
/* Drains waiting for a rotation before they are confirmed. */
static struct l_drain	*waiting;
static size_t		 nwaiting, capwaiting;

static void	 sup_msg(struct chan_msg *, void *);
static void	 drain(const struct l_drain *);
static void	 sup_lost(enum chan_ev_why, int, void *);
static __attribute__((__noreturn__)) void logger_exit(int);

static const struct chan_ev_ops sup_ops = {
	.msg = sup_msg,
	.lost = sup_lost,
};

/* What each message from the supervisor must look like. */
static const struct proto_rule logger_rules[] = {
	/* type		min size			max size	fd conn */
	{ L_HELLO,	sizeof(struct l_hello),	sizeof(struct l_hello),	0, 0 },
	{ L_INST,	sizeof(struct l_inst),	sizeof(struct l_inst),	0, 0 },
	{ L_SECRETS_CLEAR, sizeof(struct l_id),	sizeof(struct l_id),	0, 0 },
	{ L_SECRET,	sizeof(struct l_secret), PROTO_CHAN_MAX,	0, 0 },
	{ L_FILE_OPEN,	sizeof(struct l_file),	sizeof(struct l_file),	1, 0 },
	{ L_FILE_FD,	sizeof(struct l_filefd), sizeof(struct l_filefd), 1, 0 },
	{ L_ROTATE_FAIL, sizeof(struct l_id),	sizeof(struct l_id),	0, 0 },
	{ L_PIPE,	sizeof(struct l_pipe),	sizeof(struct l_pipe),	1, 0 },
	{ L_DRAIN,	sizeof(struct l_drain),	sizeof(struct l_drain),	0, 0 },
	{ L_TAIL,	sizeof(struct l_tail),	sizeof(struct l_tail),	0, 1 },
	{ L_ACK,	sizeof(struct l_conn),	sizeof(struct l_conn),	0, 1 },
	{ L_CONN_CLOSED, sizeof(struct l_conn),	sizeof(struct l_conn),	0, 1 },
	{ L_EXIT,	0,				0,		0, 0 },
	{ L_HEARTBEAT,	sizeof(struct heartbeat), sizeof(struct heartbeat),
									0, 0 },
	{ L_FILE_NEW,	sizeof(struct l_file),	sizeof(struct l_file),	0, 0 },
	{ L_FILE_CLOSE,	sizeof(struct l_id),	sizeof(struct l_id),	0, 0 },
	{ L_LOGFD,	0,				0,		1, 0 },
};

void
logger_main(const struct frontend_opts *opts)
{
	int	flags;

	log_init(opts->debug, LOG_DAEMON);
	log_setverbose(opts->verbose);
	log_setquiet(opts->quiet);
	log_procinit("logger");
	setproctitle("%s", "logger");

	if (fcntl(LOGGER_CHAN_FD, F_GETFD) == -1)
		fatalx("logger started without its channel");
	if ((flags = fcntl(LOGGER_CHAN_FD, F_GETFL)) == -1 ||
	    fcntl(LOGGER_CHAN_FD, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("fcntl");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);	/* the supervisor decides */
	/* Sent to every apm2d out of habit (pkill -USR1): not for us. */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	/* A file over its size limit fails the write (EFBIG), not us. */
	signal(SIGXFSZ, SIG_IGN);

	event_init();
	sandbox_enter(opts);

	chan_ev_init(&sup_ce, LOGGER_CHAN_FD, PROTO_CHAN_MAX, 0, &sup_ops,
	    NULL);
	logger_send(L_READY, 0, NULL, 0);
	event_dispatch();
	fatalx("event loop ended");
}

void
logger_send(uint32_t type, uint32_t peerid, const void *data, size_t len)
{
	/* A failure has called sup_lost() already. */
	(void)chan_ev_compose(&sup_ce, type, peerid, -1, data, len);
}

int
logger_busy(void)
{
	return (chan_wqbytes(&sup_ce.chan) >= LOGCAP_CHAN_HIGH);
}

/*
 * An instance's process exited: read what it left, and confirm once it
 * is in the files -- after the rotation in progress, if any.
 */
static void
drain(const struct l_drain *d)
{
	struct l_drain	*nw;
	size_t		 ncap;

	logcap_drain(d->inst);
	if (logcap_settled(d->inst)) {
		logger_send(L_DRAINED, 0, d, sizeof(*d));
		return;
	}
	if (nwaiting == capwaiting) {
		ncap = capwaiting == 0 ? 16 : capwaiting * 2;
		if ((nw = reallocarray(waiting, ncap, sizeof(*nw))) == NULL) {
			/* Confirmed early rather than never. */
			logger_send(L_DRAINED, 0, d, sizeof(*d));
			return;
		}
		waiting = nw;
		capwaiting = ncap;
	}
	waiting[nwaiting++] = *d;
}

void
logger_settled(void)
{
	size_t	i = 0;

	while (i < nwaiting) {
		if (!logcap_settled(waiting[i].inst)) {
			i++;
			continue;
		}
		logger_send(L_DRAINED, 0, &waiting[i], sizeof(waiting[i]));
		waiting[i] = waiting[--nwaiting];
	}
}

/* Read what the pipes hold, write every buffer out, and go. */
static void
logger_exit(int status)
{
	output_flush_all();
	logcap_flush_all();
	exit(status);
}

static void
sup_lost(enum chan_ev_why why, int err, void *arg)
{
	if (why != CHAN_EV_EOF)
		log_warnx("channel to the supervisor lost (%d: %s)", why,
		    strerror(err));
	logger_exit(why == CHAN_EV_EOF ? 0 : 1);
}

static void
sup_msg(struct chan_msg *msg, void *arg)
{
	const struct proto_rule	*r;
	struct logref		 ref;
	struct l_stats		 stats;
	const void		*d = msg->data;
	uint32_t		 type = msg->hdr.type;

	r = proto_rule_find(logger_rules, sizeof(logger_rules) /
	    sizeof(logger_rules[0]), type);
	if (r == NULL || msg->datalen < r->minsize ||
	    msg->datalen > r->maxsize || (msg->fd != -1) != (r->fd != 0) ||
	    (!r->conn && msg->hdr.peerid != 0) || (type != L_HELLO && !hello))
		fatalx("bad message from the supervisor: %s, %zu bytes",
		    proto_type_name(type), msg->datalen);
	ref.id = msg->hdr.peerid;
	switch (type) {
	case L_HELLO:
		hello = 1;
		logcap_init(((const struct l_hello *)d)->ninstances,
		    (uint64_t)((const struct l_hello *)d)->log_memory_kib *
		    1024, ((const struct l_hello *)d)->max_open_files);
		break;
	case L_INST:
		logcap_inst(d);
		break;
	case L_SECRETS_CLEAR:
		logcap_secrets_clear(((const struct l_id *)d)->id);
		break;
	case L_SECRET:
		logcap_secret(d, (const char *)d + sizeof(struct l_secret),
		    msg->datalen - sizeof(struct l_secret));
		break;
	case L_FILE_OPEN:
		logcap_file_open(d, msg->fd);
		msg->fd = -1;
		break;
	case L_FILE_FD:
		logcap_file_fd(d, msg->fd);
		msg->fd = -1;
		break;
	case L_FILE_NEW:
		logcap_file_new(d);
		break;
	case L_FILE_CLOSE:
		logcap_file_close(((const struct l_id *)d)->id);
		break;
	case L_ROTATE_FAIL:
		logcap_rotate_failed(((const struct l_id *)d)->id);
		break;
	case L_PIPE:
		logcap_pipe(d, msg->fd);
		msg->fd = -1;
		break;
	case L_DRAIN:
		drain(d);
		break;
	case L_TAIL:
		ref.serial = ((const struct l_tail *)d)->serial;
		logcap_tail(ref, d);
		break;
	case L_ACK:
		ref.serial = ((const struct l_conn *)d)->serial;
		logcap_ack(ref);
		break;
	case L_CONN_CLOSED:
		ref.serial = ((const struct l_conn *)d)->serial;
		logcap_conn_closed(ref);
		break;
	case L_LOGFD:
		/* [daemon] log_file, reopened on SIGUSR1 */
		log_setfd(msg->fd);
		msg->fd = -1;
		break;
	case L_HEARTBEAT:
		logger_send(L_HEARTBEAT_ACK, 0, d, sizeof(struct heartbeat));
		logfile_totals(&stats.log_bytes_written, &stats.log_bytes_lost);
		logger_send(L_STATS, 0, &stats, sizeof(stats));
		break;
	case L_EXIT:
		logger_exit(0);
	}
	chan_msg_free(msg);
}
