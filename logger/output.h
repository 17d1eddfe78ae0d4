/* SPDX-License-Identifier: ISC */
/*
 * output.h -- reading the agents' stdout and stderr pipes in the
 * logger's event loop, so that no agent ever blocks on a full pipe.
 */
#ifndef APM2_OUTPUT_H
#define APM2_OUTPUT_H

#include <stddef.h>

#define OUTPUT_STDOUT	0
#define OUTPUT_STDERR	1

/*
 * Called for each chunk read, in order; len 0 once at EOF.  A NULL
 * callback discards the data (the pipe is still read, so the child
 * never blocks on a full pipe).
 */
typedef void	(*output_cb)(void *, int, const char *, size_t);

struct output;

/* Watch a non-blocking read end; the output owns fd from now on. */
struct output	*output_attach(int, int, output_cb, void *);
/* Read what is in the pipe now; 1 when EOF was reached. */
int		 output_drain(struct output *);
/* The caller is done with it: read on until EOF, then free. */
void		 output_release(struct output *);
/* Read what every pipe holds right now (before exit). */
void		 output_flush_all(void);

/* Stop reading for now (its file is being rotated); resume later. */
void		 output_pause(struct output *);
void		 output_resume(struct output *);

#endif /* APM2_OUTPUT_H */
