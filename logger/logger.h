/* SPDX-License-Identifier: ISC */
/*
 * logger.h -- the logger process (apm2d -L): everything that reads what
 * agents write.
 *
 * The supervisor creates each instance's pipes and hands the logger the
 * read ends (L_PIPE), opens the log files with the rights of the
 * process's user and hands it the descriptors (L_FILE_OPEN, L_FILE_FD),
 * and tells it about instances and the values to mask (L_INST,
 * L_SECRET).  The logger assembles lines, masks secrets, stamps times,
 * writes the files, keeps the rings of recent lines and serves
 * tail_logs and followers (L_TAIL, L_ACK), whose frames the supervisor
 * relays to the frontend once it has checked the connection asked for
 * them.  It opens no file and no socket: it runs chrooted to an empty
 * directory as its own unprivileged user, under seccomp and Landlock
 * (pledge "stdio recvfd" on OpenBSD), like the frontend.
 *
 * It asks for what it may not do itself: a rotation (L_ROTATE; the
 * supervisor renames and opens as the file's owner and answers with the
 * new descriptor or L_ROTATE_FAIL), or a file it closed to stay within
 * [daemon] max_open_log_files, opened again at its path (L_REOPEN,
 * answered the same way; L_FILE_CLOSED says which it closed).  At an
 * instance's exit the supervisor waits for L_DRAINED, so that what the
 * process wrote is in its files before its new state is seen.  When the
 * supervisor goes away or sends L_EXIT, the logger reads what the pipes
 * still hold, writes every buffer out and exits.
 */
#ifndef APM2_LOGGER_H
#define APM2_LOGGER_H

#include <stddef.h>
#include <stdint.h>

struct frontend_opts;

__attribute__((__noreturn__)) void
	logger_main(const struct frontend_opts *);
/* Queue a message for the supervisor. */
void	logger_send(uint32_t type, uint32_t peerid, const void *, size_t);
/* 1 while the channel holds more than LOGCAP_CHAN_HIGH bytes. */
int	logger_busy(void);
/* A rotation ended: drains that waited for it may be confirmed. */
void	logger_settled(void);

#endif /* APM2_LOGGER_H */
