/* SPDX-License-Identifier: ISC */
/*
 * output.c -- reading the children's stdout and stderr pipes in the event
 * loop, so that no child ever blocks on a full pipe.
 *
 * A stream is owned by its instance until the instance is done with it
 * (output_release); a pipe still held open by a grandchild is then read
 * on until EOF on its own and freed.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <event.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "output.h"

/* Reads per drain: a dead child left at most a pipe's worth behind. */
#define DRAIN_MAX_READS	64
/* Big reads: a busy child's pipe is emptied in one system call. */
#define READ_MAX	(256 * 1024)

struct output {
	LIST_ENTRY(output)	 entry;
	struct event		 ev;
	int			 fd;
	int			 stream;
	int			 eof;
	int			 released;
	output_cb		 cb;
	void			*arg;
};

static LIST_HEAD(, output)	outputs = LIST_HEAD_INITIALIZER(outputs);
static char			obuf[READ_MAX];

static int	output_read(struct output *);
static void	output_event(int, short, void *);
static void	output_free(struct output *);

struct output *
output_attach(int fd, int stream, output_cb cb, void *arg)
{
	struct output	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL) {
		close(fd);
		return (NULL);
	}
	o->fd = fd;
	o->stream = stream;
	o->cb = cb;
	o->arg = arg;
	event_set(&o->ev, fd, EV_READ | EV_PERSIST, output_event, o);
	if (event_add(&o->ev, NULL) == -1) {
		close(fd);
		free(o);
		return (NULL);
	}
	LIST_INSERT_HEAD(&outputs, o, entry);
	return (o);
}

/* One read: 1 if data came, 0 at EOF or when the pipe is empty. */
static int
output_read(struct output *o)
{
	ssize_t	n;

	if (o->eof)
		return (0);
	for (;;) {
		n = read(o->fd, obuf, sizeof(obuf));
		if (n == -1 && errno == EINTR)
			continue;
		break;
	}
	if (n > 0) {
		if (o->cb != NULL)
			o->cb(o->arg, o->stream, obuf, (size_t)n);
		return (1);
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return (0);
	if (n == -1)
		log_warn("read from child pipe");
	/* EOF, or an error that will not go away: the stream is over. */
	event_del(&o->ev);
	close(o->fd);
	o->fd = -1;
	o->eof = 1;
	if (o->cb != NULL)
		o->cb(o->arg, o->stream, obuf, 0);
	return (0);
}

static void
output_event(int fd, short ev, void *arg)
{
	struct output	*o = arg;

	output_read(o);
	if (o->eof && o->released)
		output_free(o);
}

int
output_drain(struct output *o)
{
	int	i;

	for (i = 0; i < DRAIN_MAX_READS && output_read(o); i++)
		;
	return (o->eof);
}

void
output_release(struct output *o)
{
	if (o == NULL)
		return;
	if (o->eof)
		output_free(o);
	else
		o->released = 1;
}

void
output_flush_all(void)
{
	struct output	*o, *n;

	LIST_FOREACH_SAFE(o, &outputs, entry, n) {
		output_drain(o);
		if (o->eof && o->released)
			output_free(o);
	}
}

static void
output_free(struct output *o)
{
	if (!o->eof) {
		event_del(&o->ev);
		close(o->fd);
	}
	LIST_REMOVE(o, entry);
	free(o);
}

void
output_pause(struct output *o)
{
	if (o != NULL && !o->eof)
		event_del(&o->ev);
}

void
output_resume(struct output *o)
{
	if (o != NULL && !o->eof)
		event_add(&o->ev, NULL);
}
