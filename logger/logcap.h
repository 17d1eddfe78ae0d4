/* SPDX-License-Identifier: ISC */
/*
 * logcap.h -- log capture: every byte an instance writes to stdout and
 * stderr goes to its log files (logfile.h), masked by the redactor
 * (redact.h), and into a ring of recent lines in memory (logring.h)
 * that answers tail_logs and feeds followers.
 *
 * Capture.  Each pipe the supervisor hands over (L_PIPE) gets a capture
 * stream, read in the event loop (output.h).  Per read:
 *  - redact = true, or timestamp = true: the bytes are cut into lines
 *    by the stream's redactor (disabled when redact = false); each line
 *    is written to the file (with its timestamp prefix when configured)
 *    and to the ring;
 *  - both off: the read is written to the file unchanged (one write),
 *    and its complete lines are copied to the ring; a partial line waits
 *    in the stream (at most LOGRING_LINE_MAX bytes, then it is cut).
 * At EOF the partial line is written too, and the supervisor is told
 * (L_PIPE_DONE).  Files come as descriptors (L_FILE_OPEN), opened by the
 * supervisor with the rights of the process's user, shared by every
 * stream that names the same path, kept across restarts, and written
 * without ever blocking: a failing file loses bytes, which are counted
 * and logged once per episode.  While a file is being rotated the pipes
 * that feed it are not read (the kernel keeps the output).
 *
 * Open files.  At most [daemon] max_open_log_files regular files are
 * open at once.  When a file needs a descriptor beyond that, the least
 * recently written one is flushed and closed (L_FILE_CLOSED; the list
 * is kept in write order, one move per read).  A closed file keeps its
 * writer's state, and output for it asks the supervisor for the path
 * again (L_REOPEN, or L_ROTATE when a rotation is due), waiting like a
 * rotation: its pipes are not read until the descriptor comes, so what
 * waits is at most what was read before.  When every slot waits for an
 * answer, a file queues for the next free one.  Character devices and
 * FIFOs are never closed: closing a FIFO would end its reader's input.
 * A new logger is told of the files without descriptors (L_FILE_NEW).
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
 * served one at a time, in arrival order; a reply goes to the
 * supervisor, which relays it to the frontend, as fast as the channel
 * takes it (its write queue is kept under LOGCAP_CHAN_HIGH).  Without
 * follow the reply is one log_lines frame.  With follow it is one or more frames of at most
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

#include "proto.h"

#define TAIL_LINES_MAX		10000
#define TAIL_JSON_MAX		(8 * 1024 * 1024)
#define FOLLOW_FRAME_ENTRIES	1000
#define FOLLOW_FRAME_JSON	(1024 * 1024)
#define FOLLOW_WINDOW		2
#define FOLLOW_BACKLOG_MAX	(4 * 1024 * 1024)
#define FOLLOW_BACKLOG_TOTAL	(32 * 1024 * 1024)
#define FOLLOW_BATCH_MS		10
#define LOGCAP_CHAN_HIGH	(1024 * 1024)

/* A client connection, as the supervisor names it. */
struct logref {
	uint32_t	id;
	uint64_t	serial;
};

/* The supervisor's messages (logger.c hands them over). */
/*
 * budget: bytes for every instance's ring together; maxfiles: regular
 * files open at once ([daemon] max_open_log_files).  0: the defaults.
 */
void	logcap_init(size_t ninstances, uint64_t budget, uint32_t maxfiles);
void	logcap_inst(const struct l_inst *);
void	logcap_secrets_clear(uint32_t inst);
void	logcap_secret(const struct l_secret *, const char *, size_t);
void	logcap_file_open(const struct l_file *, int fd);
void	logcap_file_new(const struct l_file *);
/* Nothing writes file id any more: its descriptor is closed. */
void	logcap_file_close(uint32_t id);
void	logcap_file_fd(const struct l_filefd *, int fd);
void	logcap_rotate_failed(uint32_t file);
void	logcap_pipe(const struct l_pipe *, int fd);
void	logcap_drain(uint32_t inst);
/* 1 when what inst wrote is in its files (no rotation pending). */
int	logcap_settled(uint32_t inst);
void	logcap_tail(struct logref, const struct l_tail *);
void	logcap_ack(struct logref);
void	logcap_conn_closed(struct logref);
/* Before exit: write partial lines and every buffer out. */
void	logcap_flush_all(void);

#endif /* APM2_LOGCAP_H */
