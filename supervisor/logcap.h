/* SPDX-License-Identifier: ISC */
/*
 * logcap.h -- log capture: every byte an instance writes to stdout and
 * stderr goes to its log files (logfile.h), masked by the redactor
 * (redact.h), and into a ring of recent lines in memory (logring.h)
 * that answers tail_logs and feeds followers.
 *
 * Capture.  The runner gives each pipe of a child a capture stream
 * (logcap_stream) and passes logcap_output as the output callback.  Per
 * read, in the event loop:
 *  - redact = true, or timestamp = true: the bytes are cut into lines
 *    by the stream's redactor (disabled when redact = false); each line
 *    is written to the file (with its timestamp prefix when configured)
 *    and to the ring;
 *  - both off: the read is written to the file unchanged (one write),
 *    and its complete lines are copied to the ring; a partial line waits
 *    in the stream (at most LOGRING_LINE_MAX bytes, then it is cut).
 * At EOF the partial line is written too.  Files are opened at the
 * first spawn of an instance with the rights of the process's user
 * (logfs.h), shared by every stream of that user that names the same
 * path, kept open across restarts, and written without ever blocking: a failing
 * file loses bytes, which are counted and logged once per episode.
 *
 * Secrets.  Each redactor knows the exact values of the sensitive
 * variables (redact_env_name_sensitive) of the environment the daemon
 * gave the process.  With redact = false the files and the ring hold
 * the bytes as they came, and what goes to a client is redacted when it
 * is sent: a tail runs fresh redactors over the ring (a PEM block that
 * began before the oldest kept line is masked up to its END marker),
 * and followers get lines through one live redactor per stream.
 *
 * Tail.  tail_logs takes the last lines (at most TAIL_LINES_MAX, and at
 * most TAIL_JSON_MAX bytes of rendered JSON, newest kept) of one
 * process's instances, or of all, merged by capture time.  Requests are
 * served one at a time, in arrival order; a reply is handed to the
 * frontend as fast as the channel takes it (its write queue is kept
 * under LOGCAP_CHAN_HIGH).  Without follow the reply is one log_lines
 * frame.  With follow it is one or more frames of at most
 * FOLLOW_FRAME_ENTRIES entries and FOLLOW_FRAME_JSON bytes, then new
 * lines as further frames, batched for up to FOLLOW_BATCH_MS.
 *
 * Flow control of followers.  The frontend acknowledges a follow frame
 * once its client has taken the output queued before it (F_LOG_ACK); at
 * most FOLLOW_WINDOW live frames are unacknowledged.  Lines that cannot
 * be sent wait in the follower's backlog, at most FOLLOW_BACKLOG_MAX
 * bytes per follower and FOLLOW_BACKLOG_TOTAL for all.  A follower that
 * overflows is dropped: its backlog is freed at once, and once its
 * frames are acknowledged it gets an internal_error "log follower too
 * slow ..." and the connection is closed.  One that stops reading
 * altogether is closed by the frontend's write timeout.
 *
 * Memory.  An instance allocates nothing for output until it writes:
 * the ring grows on demand up to logring_cap(), files and redactors
 * exist per running instance.  A tail holds at most one reply at a time
 * (about TAIL_JSON_MAX); each follower at most its backlog.
 */
#ifndef APM2_LOGCAP_H
#define APM2_LOGCAP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "logfs.h"
#include "supervisor.h"

#define TAIL_LINES_MAX		10000
#define TAIL_JSON_MAX		(8 * 1024 * 1024)
#define FOLLOW_FRAME_ENTRIES	1000
#define FOLLOW_FRAME_JSON	(1024 * 1024)
#define FOLLOW_WINDOW		2
#define FOLLOW_BACKLOG_MAX	(4 * 1024 * 1024)
#define FOLLOW_BACKLOG_TOTAL	(32 * 1024 * 1024)
#define FOLLOW_BATCH_MS		10
#define LOGCAP_CHAN_HIGH	(1024 * 1024)

struct logcap;
struct capstream;

/* Once, before logcap_new: the number of instances of all processes. */
void		 logcap_init(size_t ninstances);
/* The capture of instance idx of pc (display name given). */
struct logcap	*logcap_new(const struct config *,
		    const struct proc_config *, uint32_t idx,
		    const char *display);
/*
 * Before each spawn: open the files that are not open yet with owner's
 * rights, and note the sensitive values of env (nenv "KEY=value" strings), the environment
 * the child gets.
 */
void		 logcap_spawn(struct logcap *, const struct logowner *,
		    char *const *env, size_t nenv);
/* A capture stream for a new pipe of the instance; NULL when out of
 * memory (the pipe's output is then only read and dropped). */
struct capstream *logcap_stream(struct logcap *, int stream);
/* The output callback (child.h output_cb); arg is the capstream, which
 * is freed after EOF (len 0). */
void		 logcap_output(void *arg, int stream, const char *, size_t);
/* output_attach failed: forget the stream. */
void		 logcap_stream_free(struct capstream *);
/* Before exit: write partial lines and every buffer out. */
void		 logcap_flush_all(void);
/* From the SIGCHLD loop: 1 if pid was a compression child of ours. */
int		 logcap_reap(pid_t, int);

/* tail_logs of one process (pc) or all (NULL); replies via reply_send. */
void		 logcap_tail(struct conn_ref, const struct proc_config *,
		    uint32_t lines, int follow);
void		 logcap_ack(struct conn_ref);
void		 logcap_conn_closed(struct conn_ref);

#endif /* APM2_LOGCAP_H */
