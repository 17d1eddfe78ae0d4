/* SPDX-License-Identifier: ISC */
/*
 * test_chan.c -- common/chan.c over real socketpairs: round trips,
 * descriptor passing, split and merged reads, every malformed input the
 * receiver must refuse (without allocating or leaking a descriptor), the
 * write queue bound and non-blocking flushing against a full socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chan.h"
#include "unit.h"

static void	mkpair(int [2]);
static void	mkpipe(int [2]);
static void	set_nonblock(int);
static void	raw_write(int, const void *, size_t);
static size_t	put_msg(uint8_t *, uint32_t, uint32_t, uint32_t, uint32_t,
		    const void *, size_t);
static ssize_t	send_fds(int, const void *, size_t, const int *, int);
static void	fill(uint8_t *, size_t, uint32_t);
static void	check_fill(const uint8_t *, size_t, uint32_t);

static void
set_nonblock(int fd)
{
	int	fl;

	fl = fcntl(fd, F_GETFL);
	assert_true(fl != -1);
	assert_true(fcntl(fd, F_SETFL, fl | O_NONBLOCK) != -1);
}

static void
mkpair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	set_nonblock(sv[0]);
	set_nonblock(sv[1]);
}

/* Non-blocking, so a leaked write end fails a test instead of hanging it. */
static void
mkpipe(int p[2])
{
	assert_int_equal(pipe(p), 0);
	set_nonblock(p[0]);
	set_nonblock(p[1]);
}

/* Write everything, waiting out a full socket. */
static void
raw_write(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* A raw message in host order, as a peer would send it. */
static size_t
put_msg(uint8_t *p, uint32_t type, uint32_t len, uint32_t peerid,
    uint32_t flags, const void *data, size_t datalen)
{
	struct chan_hdr	hdr;

	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.flags = flags;
	memcpy(p, &hdr, sizeof(hdr));
	if (datalen > 0)
		memcpy(p + CHAN_HDRSZ, data, datalen);
	return (CHAN_HDRSZ + datalen);
}

static ssize_t
send_fds(int s, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 16)];
	}		 cbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;

	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return (sendmsg(s, &msg, 0));
}

static void
fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void
check_fill(const uint8_t *p, size_t n, uint32_t seed)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)(seed * 31 + i * 7 + (i >> 8)))
			fail_msg("payload %u differs at %zu", seed, i);
}

/* Every payload size 0..max, all queued first, pumped through. */
static void
test_roundtrip_all_sizes(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	uint8_t		 buf[4096];
	uint32_t	 next = 0, i;
	ssize_t		 n;
	int		 sv[2], r;

	mkpair(sv);
	chan_init(&a, sv[0], sizeof(buf));
	chan_init(&b, sv[1], sizeof(buf));
	chan_set_wqlimit(&a, 64U * 1024 * 1024, 16);
	for (i = 0; i <= sizeof(buf); i++) {
		fill(buf, i, i);
		assert_int_equal(chan_compose(&a, i, i * 3 + 1, -1, buf, i), 0);
	}
	assert_int_equal(chan_pending(&a), sizeof(buf) + 1);
	while (next <= sizeof(buf)) {
		r = chan_flush(&a);
		assert_true(r == 0 || r == 1);
		n = chan_read(&b);
		if (n == -1)
			assert_int_equal(errno, EAGAIN);
		else
			assert_true(n > 0);
		while ((n = chan_get(&b, &m)) > 0) {
			assert_int_equal(n, CHAN_HDRSZ + next);
			assert_int_equal(m.hdr.type, next);
			assert_int_equal(m.hdr.len, CHAN_HDRSZ + next);
			assert_int_equal(m.hdr.peerid, next * 3 + 1);
			assert_int_equal(m.hdr.flags, 0);
			assert_int_equal(m.datalen, next);
			assert_non_null(m.data);
			assert_int_equal(m.data[m.datalen], 0);
			assert_int_equal(m.fd, -1);
			check_fill(m.data, m.datalen, next);
			chan_msg_free(&m);
			next++;
		}
		assert_int_equal(n, 0);
	}
	assert_int_equal(chan_flush(&a), 0);
	assert_int_equal(chan_pending(&a), 0);
	assert_int_equal(chan_wqbytes(&a), 0);
	/* The read buffer never outgrew one maximal message. */
	assert_true(b.rsize <= CHAN_HDRSZ + sizeof(buf));
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

/* Descriptors arrive attached to the right messages and work. */
static void
test_fd_passing(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	int		 sv[2], p[30][2], base, k, got = 0, v;
	ssize_t		 n;

	base = count_fds();
	mkpair(sv);
	chan_init(&a, sv[0], 256);
	chan_init(&b, sv[1], 256);
	for (k = 0; k < 30; k++) {
		p[k][0] = p[k][1] = -1;
		if (k % 3 == 0)
			mkpipe(p[k]);
	}
	for (k = 0; k < 30; k++)
		assert_int_equal(chan_compose(&a, 100 + k, k, p[k][1], &k,
		    sizeof(k)), 0);
	assert_int_equal(chan_flush(&a), 0);
	/* Sent descriptors are closed on our side. */
	for (k = 0; k < 30; k += 3)
		assert_false(fd_is_open(p[k][1]));

	while (got < 30) {
		n = chan_read(&b);
		assert_true(n > 0);
		while ((n = chan_get(&b, &m)) > 0) {
			assert_int_equal(m.hdr.type, 100 + got);
			assert_int_equal(m.datalen, sizeof(int));
			memcpy(&v, m.data, sizeof(v));
			assert_int_equal(v, got);
			if (got % 3 == 0) {
				assert_true(m.hdr.flags & CHAN_F_FD);
				assert_true(m.fd >= 0);
				assert_int_equal(fcntl(m.fd, F_GETFD) &
				    FD_CLOEXEC, FD_CLOEXEC);
				assert_int_equal(write(m.fd, &got,
				    sizeof(got)), sizeof(got));
			} else {
				assert_int_equal(m.hdr.flags, 0);
				assert_int_equal(m.fd, -1);
			}
			chan_msg_free(&m);
			assert_int_equal(m.fd, -1);
			got++;
		}
		assert_int_equal(n, 0);
	}
	for (k = 0; k < 30; k += 3) {
		assert_int_equal(read(p[k][0], &v, sizeof(v)), sizeof(v));
		assert_int_equal(v, k);
		/* Every write end is gone now: EOF. */
		assert_int_equal(read(p[k][0], &v, sizeof(v)), 0);
		close(p[k][0]);
	}
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/* A stream written one byte at a time from the other end. */
static void
test_split_one_byte(void **state)
{
	struct chan	 b;
	struct chan_msg	 m;
	uint8_t		 raw[1024], pay[300];
	size_t		 len = 0, i, ends[3];
	int		 sv[2], got = 0;
	ssize_t		 n;

	mkpair(sv);
	chan_init(&b, sv[1], 512);
	fill(pay, sizeof(pay), 9);
	len += put_msg(raw + len, 1, CHAN_HDRSZ, 11, 0, NULL, 0);
	ends[0] = len;
	len += put_msg(raw + len, 2, CHAN_HDRSZ + 5, 22, 0, "hello", 5);
	ends[1] = len;
	len += put_msg(raw + len, 3, CHAN_HDRSZ + 300, 33, 0, pay, 300);
	ends[2] = len;
	for (i = 0; i < len; i++) {
		raw_write(sv[0], raw + i, 1);
		assert_int_equal(chan_read(&b), 1);
		n = chan_get(&b, &m);
		if (got < 3 && i + 1 == ends[got]) {
			assert_int_equal(n, ends[got] -
			    (got > 0 ? ends[got - 1] : 0));
			assert_int_equal(m.hdr.type, got + 1);
			assert_int_equal(m.hdr.peerid, (got + 1) * 11);
			if (got == 1)
				assert_string_equal((char *)m.data, "hello");
			if (got == 2)
				assert_memory_equal(m.data, pay, 300);
			chan_msg_free(&m);
			got++;
		} else {
			assert_int_equal(n, 0);
			assert_null(m.data);
			assert_int_equal(m.fd, -1);
		}
	}
	assert_int_equal(got, 3);
	assert_int_equal(chan_read(&b), -1);
	assert_int_equal(errno, EAGAIN);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

static void
test_several_in_one_read(void **state)
{
	struct chan	 b;
	struct chan_msg	 m;
	uint8_t		 raw[2048], pay[64];
	size_t		 len = 0;
	uint32_t	 i;
	int		 sv[2];

	mkpair(sv);
	chan_init(&b, sv[1], 128);
	for (i = 0; i < 10; i++) {
		fill(pay, i * 5, i);
		len += put_msg(raw + len, i, CHAN_HDRSZ + i * 5, i, 0, pay,
		    i * 5);
	}
	raw_write(sv[0], raw, len);
	assert_int_equal(chan_read(&b), len);
	for (i = 0; i < 10; i++) {
		assert_int_equal(chan_get(&b, &m), CHAN_HDRSZ + i * 5);
		assert_int_equal(m.hdr.type, i);
		assert_int_equal(m.datalen, i * 5);
		check_fill(m.data, m.datalen, i);
		chan_msg_free(&m);
	}
	assert_int_equal(chan_get(&b, &m), 0);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

/* Impossible lengths and flags: EBADMSG before anything is allocated. */
static void
test_bad_headers(void **state)
{
	static const uint32_t	 lens[] = {
		0, 1, 15, CHAN_HDRSZ + 1024 * 1024 + 1, 0x7fffffff,
		0xfffffff0, 0xffffffff
	};
	struct chan		 b;
	struct chan_msg		 m;
	uint8_t			 raw[64];
	size_t			 i;
	int			 sv[2];

	memset(raw, 'z', sizeof(raw));
	for (i = 0; i <= sizeof(lens) / sizeof(lens[0]); i++) {
		mkpair(sv);
		chan_init(&b, sv[1], 1024 * 1024);
		if (i < sizeof(lens) / sizeof(lens[0]))
			put_msg(raw, 7, lens[i], 0, 0, NULL, 0);
		else	/* unknown flag bits */
			put_msg(raw, 7, CHAN_HDRSZ, 0, 0x2, NULL, 0);
		raw_write(sv[0], raw, sizeof(raw));
		assert_int_equal(chan_read(&b), sizeof(raw));
		errno = 0;
		assert_int_equal(chan_get(&b, &m), -1);
		assert_int_equal(errno, EBADMSG);
		assert_null(m.data);
		/* Nothing grown toward the announced length. */
		assert_int_equal(b.rsize, CHAN_RBUFINIT);
		/* Sticky. */
		raw_write(sv[0], raw, 16);
		assert_int_equal(chan_read(&b), -1);
		assert_int_equal(errno, EBADMSG);
		assert_int_equal(chan_get(&b, &m), -1);
		assert_int_equal(errno, EBADMSG);
		chan_clear(&b);
		close(sv[0]);
		close(sv[1]);
	}
}

/* The largest valid message is accepted; one byte more is refused. */
static void
test_length_bound(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	uint8_t		 buf[1001], raw[64];
	int		 sv[2];
	ssize_t		 n;

	mkpair(sv);
	chan_init(&a, sv[0], 1000);
	chan_init(&b, sv[1], 1000);
	fill(buf, sizeof(buf), 4);
	errno = 0;
	assert_int_equal(chan_compose(&a, 1, 0, -1, buf, 1001), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(chan_compose(&a, 1, 0, -1, buf, 1000), 0);
	assert_int_equal(chan_flush(&a), 0);
	assert_true(chan_read(&b) > 0);
	while ((n = chan_get(&b, &m)) == 0)
		assert_true(chan_read(&b) > 0);
	assert_int_equal(n, CHAN_HDRSZ + 1000);
	check_fill(m.data, 1000, 4);
	chan_msg_free(&m);

	/* A peer's header one byte over the bound. */
	memset(raw, 0, sizeof(raw));
	put_msg(raw, 1, CHAN_HDRSZ + 1001, 0, 0, NULL, 0);
	raw_write(sv[0], raw, sizeof(raw));
	assert_true(chan_read(&b) > 0);
	assert_int_equal(chan_get(&b, &m), -1);
	assert_int_equal(errno, EBADMSG);
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

static void
test_truncated_then_eof(void **state)
{
	struct chan	 b;
	struct chan_msg	 m;
	uint8_t		 raw[256];
	int		 sv[2], round;

	memset(raw, 'q', sizeof(raw));
	for (round = 0; round < 4; round++) {
		mkpair(sv);
		chan_init(&b, sv[1], 1024);
		if (round == 0) {
			/* Payload cut short. */
			put_msg(raw, 1, 100, 0, 0, NULL, 0);
			raw_write(sv[0], raw, 66);
		} else if (round == 1) {
			/* Header cut short. */
			raw_write(sv[0], raw, 10);
		} else if (round == 2) {
			/* One good message, then a clean close. */
			put_msg(raw, 5, CHAN_HDRSZ + 3, 0, 0, "abc", 3);
			raw_write(sv[0], raw, CHAN_HDRSZ + 3);
		}
		close(sv[0]);
		if (round != 3) {
			assert_true(chan_read(&b) > 0);
			assert_false(b.eof);
		}
		if (round == 2) {
			assert_int_equal(chan_get(&b, &m), CHAN_HDRSZ + 3);
			assert_string_equal((char *)m.data, "abc");
			chan_msg_free(&m);
		}
		if (round <= 1)
			assert_int_equal(chan_get(&b, &m), 0);
		assert_int_equal(chan_read(&b), 0);
		assert_true(b.eof);
		if (round <= 1) {
			errno = 0;
			assert_int_equal(chan_get(&b, &m), -1);
			assert_int_equal(errno, EBADMSG);
		} else
			assert_int_equal(chan_get(&b, &m), 0);
		chan_clear(&b);
		close(sv[1]);
	}
}

/* A descriptor sent with a message that lacks CHAN_F_FD. */
static void
test_fd_without_flag(void **state)
{
	struct chan	 b;
	struct chan_msg	 m;
	uint8_t		 raw[128];
	size_t		 len;
	int		 sv[2], p[2], base, round;

	base = count_fds();
	for (round = 0; round < 2; round++) {
		mkpair(sv);
		chan_init(&b, sv[1], 1024);
		mkpipe(p);
		len = put_msg(raw, 1, CHAN_HDRSZ + 4, 0, 0, "abcd", 4);
		if (round == 1)	/* a second, innocent message after it */
			len += put_msg(raw + len, 2, CHAN_HDRSZ, 0, 0, NULL, 0);
		assert_int_equal(send_fds(sv[0], raw, len, &p[1], 1), len);
		close(p[1]);
		assert_int_equal(chan_read(&b), len);
		assert_true(count_fds() > base + 3);
		if (round == 1) {
			/* The fd might be the second message's: not yet. */
			assert_int_equal(chan_get(&b, &m), CHAN_HDRSZ + 4);
			assert_int_equal(m.fd, -1);
			chan_msg_free(&m);
		}
		errno = 0;
		assert_int_equal(chan_get(&b, &m), -1);
		assert_int_equal(errno, EBADMSG);
		/* The received descriptor is closed: the pipe sees EOF. */
		assert_int_equal(read(p[0], raw, 1), 0);
		close(p[0]);
		chan_clear(&b);
		close(sv[0]);
		close(sv[1]);
		assert_int_equal(count_fds(), base);
	}
}

/* CHAN_F_FD without a descriptor, or with one that came later. */
static void
test_flag_without_fd(void **state)
{
	struct chan	 b;
	struct chan_msg	 m;
	uint8_t		 raw[128];
	size_t		 len;
	int		 sv[2], p[2], base, round;

	base = count_fds();
	for (round = 0; round < 2; round++) {
		mkpair(sv);
		chan_init(&b, sv[1], 1024);
		len = put_msg(raw, 1, CHAN_HDRSZ + 4, 0, CHAN_F_FD, "abcd", 4);
		if (round == 0) {
			raw_write(sv[0], raw, len);
			assert_int_equal(chan_read(&b), len);
		} else {
			/* Header first, the descriptor with the payload. */
			mkpipe(p);
			raw_write(sv[0], raw, CHAN_HDRSZ);
			assert_int_equal(chan_read(&b), CHAN_HDRSZ);
			assert_int_equal(send_fds(sv[0], raw + CHAN_HDRSZ,
			    4, &p[1], 1), 4);
			close(p[1]);
			assert_int_equal(chan_read(&b), 4);
		}
		errno = 0;
		assert_int_equal(chan_get(&b, &m), -1);
		assert_int_equal(errno, EBADMSG);
		assert_int_equal(m.fd, -1);
		if (round == 1) {
			assert_int_equal(read(p[0], raw, 1), 0);
			close(p[0]);
		}
		chan_clear(&b);
		close(sv[0]);
		close(sv[1]);
		assert_int_equal(count_fds(), base);
	}
}

/* Several descriptors in one read, and more than the control buffer. */
static void
test_too_many_fds(void **state)
{
	struct chan	 b;
	struct chan_msg	 m;
	uint8_t		 raw[64];
	size_t		 len;
	int		 sv[2], fds[12], base, round, i, nfds;

	base = count_fds();
	for (round = 0; round < 3; round++) {
		nfds = round == 0 ? 2 : round == 1 ? 5 : 12;
		mkpair(sv);
		chan_init(&b, sv[1], 1024);
		for (i = 0; i < nfds; i++) {
			fds[i] = open("/dev/null", O_RDONLY);
			assert_true(fds[i] != -1);
		}
		len = put_msg(raw, 1, CHAN_HDRSZ, 0, CHAN_F_FD, NULL, 0);
		assert_int_equal(send_fds(sv[0], raw, len, fds, nfds), len);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		errno = 0;
		assert_int_equal(chan_read(&b), -1);
		assert_int_equal(errno, EBADMSG);
		assert_int_equal(chan_get(&b, &m), -1);
		assert_int_equal(errno, EBADMSG);
		assert_int_equal(count_fds(), base + 2);
		chan_clear(&b);
		close(sv[0]);
		close(sv[1]);
		assert_int_equal(count_fds(), base);
	}

	/* Two flagged messages in one sendmsg with a single descriptor. */
	mkpair(sv);
	chan_init(&b, sv[1], 1024);
	fds[0] = open("/dev/null", O_RDONLY);
	len = put_msg(raw, 1, CHAN_HDRSZ, 0, CHAN_F_FD, NULL, 0);
	len += put_msg(raw + len, 2, CHAN_HDRSZ, 0, CHAN_F_FD, NULL, 0);
	assert_int_equal(send_fds(sv[0], raw, len, fds, 1), len);
	close(fds[0]);
	assert_int_equal(chan_read(&b), len);
	assert_int_equal(chan_get(&b, &m), CHAN_HDRSZ);
	assert_true(m.fd >= 0);
	chan_msg_free(&m);
	assert_int_equal(chan_get(&b, &m), -1);
	assert_int_equal(errno, EBADMSG);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

static void
test_wq_bound(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	uint8_t		 buf[100];
	int		 sv[2], p[2], q[2], r[2], base, i, got;
	ssize_t		 n;

	base = count_fds();
	mkpair(sv);
	chan_init(&a, sv[0], sizeof(buf));
	chan_init(&b, sv[1], sizeof(buf));
	memset(buf, 'w', sizeof(buf));

	/* Bytes: 8 messages of 116 bytes fit in 1000, the 9th does not. */
	chan_set_wqlimit(&a, 1000, 2);
	for (i = 0; i < 8; i++)
		assert_int_equal(chan_compose(&a, i, 0, -1, buf, 100), 0);
	errno = 0;
	assert_int_equal(chan_compose(&a, 8, 0, -1, buf, 100), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(chan_pending(&a), 8);
	assert_int_equal(chan_wqbytes(&a), 8 * 116);

	/* Descriptors: at most 2 queued; a refused one is closed. */
	chan_set_wqlimit(&a, 100000, 2);
	mkpipe(p);
	mkpipe(q);
	assert_int_equal(chan_compose(&a, 9, 0, p[1], NULL, 0), 0);
	assert_int_equal(chan_compose(&a, 10, 0, q[1], NULL, 0), 0);
	for (i = 0; i < 4; i++) {
		mkpipe(r);
		errno = 0;
		if (i == 0) {
			assert_int_equal(chan_compose(&a, 11, 0, r[1], NULL,
			    0), -1);
			assert_int_equal(errno, ENOBUFS);
		} else if (i == 1) {
			/* Oversized and invalid requests consume it too. */
			assert_int_equal(chan_compose(&a, 11, 0, r[1], buf,
			    sizeof(buf) + 1), -1);
			assert_int_equal(errno, EMSGSIZE);
		} else if (i == 2) {
			assert_int_equal(chan_compose(&a, 11, 0, r[1], NULL,
			    1), -1);
			assert_int_equal(errno, EINVAL);
		} else {
			chan_set_wqlimit(&a, 1000, 100);
			assert_int_equal(chan_compose(&a, 11, 0, r[1], buf,
			    100), -1);
			assert_int_equal(errno, ENOBUFS);
		}
		assert_false(fd_is_open(r[1]));
		close(r[0]);
	}
	assert_int_equal(chan_compose(&a, 11, 0, -5, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	mkpipe(r);

	/* Once written out, there is room again. */
	assert_int_equal(chan_flush(&a), 0);
	assert_int_equal(chan_pending(&a), 0);
	assert_int_equal(chan_wqbytes(&a), 0);
	assert_int_equal(chan_compose(&a, 11, 0, r[1], buf, 100), 0);
	assert_int_equal(chan_flush(&a), 0);
	for (got = 0; got < 11; ) {
		assert_true(chan_read(&b) > 0);
		while ((n = chan_get(&b, &m)) > 0) {
			assert_int_equal(m.hdr.type, got < 8 ? got : got + 1);
			assert_int_equal(m.fd >= 0, got >= 8);
			chan_msg_free(&m);
			got++;
		}
		assert_int_equal(n, 0);
	}
	close(p[0]);
	close(q[0]);
	close(r[0]);
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/*
 * Fill the socket until flush reports more pending, then drain the other
 * side and flush again until everything arrived intact and in order.
 */
static void
test_flush_full_socket(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	uint8_t		*buf;
	uint32_t	 sent = 0, got = 0, nfd = 0;
	int		 sv[2], r, pipes[8][2], base, v;
	ssize_t		 n;
	const size_t	 max = 65536;

	base = count_fds();
	buf = malloc(max);
	assert_non_null(buf);
	mkpair(sv);
	chan_init(&a, sv[0], max);
	chan_init(&b, sv[1], max);
	chan_set_wqlimit(&a, 256U * 1024 * 1024, 16);
	for (;;) {
		fill(buf, max - sent % 7, sent);
		assert_int_equal(chan_compose(&a, sent, 0, -1, buf,
		    max - sent % 7), 0);
		sent++;
		r = chan_flush(&a);
		assert_true(r == 0 || r == 1);
		if (r == 1)
			break;
		assert_true(sent < 10000);
	}
	assert_true(chan_pending(&a) > 0);
	/* More behind it, some with descriptors. */
	for (v = 0; v < 8; v++) {
		mkpipe(pipes[v]);
		fill(buf, max - v, sent);
		assert_int_equal(chan_compose(&a, sent, 1, pipes[v][1], buf,
		    max - v), 0);
		sent++;
		fill(buf, 10, sent);
		assert_int_equal(chan_compose(&a, sent, 0, -1, buf, 10), 0);
		sent++;
	}
	assert_int_equal(chan_flush(&a), 1);

	while (got < sent) {
		n = chan_read(&b);
		assert_true(n > 0 || (n == -1 && errno == EAGAIN));
		while ((n = chan_get(&b, &m)) > 0) {
			assert_int_equal(m.hdr.type, got);
			check_fill(m.data, m.datalen, got);
			if (m.hdr.peerid == 1) {
				assert_true(m.fd >= 0);
				assert_int_equal(write(m.fd, &got,
				    sizeof(got)), sizeof(got));
				nfd++;
			} else
				assert_int_equal(m.fd, -1);
			chan_msg_free(&m);
			got++;
		}
		assert_int_equal(n, 0);
		r = chan_flush(&a);
		assert_true(r == 0 || r == 1);
	}
	assert_int_equal(nfd, 8);
	assert_int_equal(chan_flush(&a), 0);
	assert_int_equal(chan_pending(&a), 0);
	for (v = 0; v < 8; v++) {
		assert_int_equal(read(pipes[v][0], &got, sizeof(got)),
		    sizeof(got));
		close(pipes[v][0]);
	}
	free(buf);
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/* A sendmsg that takes only part of a message whose fd went with it. */
static void
test_partial_write_after_fd(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	uint8_t		*buf;
	int		 sv[2], p[2], sz = 4096, base, r, done = 0;
	const size_t	 max = 60000;
	ssize_t		 n;
	char		 c;

	base = count_fds();
	buf = malloc(max);
	assert_non_null(buf);
	mkpair(sv);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz,
	    sizeof(sz)), 0);
	chan_init(&a, sv[0], max);
	chan_init(&b, sv[1], max);
	mkpipe(p);
	fill(buf, max, 77);
	assert_int_equal(chan_compose(&a, 1, 2, p[1], buf, max), 0);
	assert_int_equal(chan_flush(&a), 1);
	/* Part of the message is out, and the descriptor went with it. */
	assert_int_equal(chan_pending(&a), 1);
	assert_true(chan_wqbytes(&a) > 0);
	assert_false(fd_is_open(p[1]));
	assert_int_equal(a.wqfds, 0);

	while (!done) {
		n = chan_read(&b);
		assert_true(n > 0 || (n == -1 && errno == EAGAIN));
		n = chan_get(&b, &m);
		assert_true(n >= 0);
		if (n > 0) {
			assert_int_equal(m.hdr.type, 1);
			assert_int_equal(m.hdr.peerid, 2);
			assert_int_equal(m.datalen, max);
			check_fill(m.data, max, 77);
			assert_true(m.fd >= 0);
			assert_int_equal(write(m.fd, "!", 1), 1);
			chan_msg_free(&m);
			done = 1;
		}
		r = chan_flush(&a);
		assert_true(r == 0 || r == 1);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, '!');
	close(p[0]);
	free(buf);
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/* chan_clear closes queued descriptors on both sides. */
static void
test_clear_closes_fds(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	uint8_t		 raw[64];
	size_t		 len;
	int		 sv[2], p[2], base, i;

	base = count_fds();
	mkpair(sv);
	chan_init(&a, sv[0], 64);
	chan_init(&b, sv[1], 64);
	for (i = 0; i < 5; i++) {
		mkpipe(p);
		close(p[0]);
		assert_int_equal(chan_compose(&a, 1, 0, p[1], NULL, 0), 0);
	}
	assert_int_equal(count_fds(), base + 7);
	chan_clear(&a);
	assert_int_equal(count_fds(), base + 2);
	assert_int_equal(chan_pending(&a), 0);
	chan_clear(&a);		/* twice is harmless */

	/* A received descriptor waiting for the rest of its message. */
	mkpipe(p);
	len = put_msg(raw, 1, CHAN_HDRSZ + 40, 0, CHAN_F_FD, "abc", 3);
	assert_int_equal(send_fds(sv[0], raw, len, &p[1], 1), len);
	close(p[1]);
	assert_int_equal(chan_read(&b), len);
	assert_int_equal(chan_get(&b, &m), 0);
	assert_int_equal(count_fds(), base + 4);
	chan_clear(&b);
	assert_int_equal(count_fds(), base + 3);
	assert_int_equal(read(p[0], raw, 1), 0);
	close(p[0]);

	/* And the channel is usable again after clearing. */
	assert_int_equal(chan_compose(&a, 42, 0, -1, "x", 1), 0);
	assert_int_equal(chan_flush(&a), 0);
	/* b lost its stream position: a fresh pair is needed for that. */
	chan_clear(&a);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/* Without chan_get the read buffer stops at its bound. */
static void
test_rbuf_bounded(void **state)
{
	struct chan	 b;
	struct chan_msg	 m;
	uint8_t		 raw[60 * 80], pay[64];
	size_t		 len = 0;
	int		 sv[2], i, got = 0;
	ssize_t		 n;

	mkpair(sv);
	chan_init(&b, sv[1], 64);
	memset(pay, 'r', sizeof(pay));
	for (i = 0; i < 60; i++)
		len += put_msg(raw + len, i, CHAN_HDRSZ + 64, 0, 0, pay, 64);
	raw_write(sv[0], raw, len);
	/* Small bound: the buffer is CHAN_RBUFINIT, to batch messages. */
	assert_int_equal(chan_read(&b), CHAN_RBUFINIT);
	errno = 0;
	assert_int_equal(chan_read(&b), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(b.rsize, CHAN_RBUFINIT);
	while (got < 60) {
		while ((n = chan_get(&b, &m)) > 0) {
			assert_int_equal(m.hdr.type, got);
			chan_msg_free(&m);
			got++;
		}
		assert_int_equal(n, 0);
		if (got < 60)
			assert_true(chan_read(&b) > 0);
	}
	assert_int_equal(b.rsize, CHAN_RBUFINIT);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);

	/* A large bound: one maximal message, never more. */
	mkpair(sv);
	chan_init(&b, sv[1], 10000);
	memset(raw, 'r', sizeof(raw));
	put_msg(raw, 0, CHAN_HDRSZ + 10000, 0, 0, NULL, 0);
	raw_write(sv[0], raw, sizeof(raw));
	memset(raw, 'r', CHAN_HDRSZ);
	raw_write(sv[0], raw, sizeof(raw));
	raw_write(sv[0], raw, sizeof(raw));
	for (i = 0; i < 10; i++) {
		n = chan_read(&b);
		if (n == -1)
			break;
	}
	assert_int_equal(n, -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(b.rsize, CHAN_HDRSZ + 10000);
	assert_int_equal(chan_get(&b, &m), CHAN_HDRSZ + 10000);
	chan_msg_free(&m);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

/* Big messages are read into a buffer grown to their size at once. */
static void
test_rbuf_grows_to_message(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	uint8_t		*buf;
	int		 sv[2];
	ssize_t		 n;
	const size_t	 max = 200000;

	buf = malloc(max);
	assert_non_null(buf);
	mkpair(sv);
	chan_init(&a, sv[0], max);
	chan_init(&b, sv[1], max);
	fill(buf, 100000, 5);
	assert_int_equal(chan_compose(&a, 1, 0, -1, buf, 100000), 0);
	while (chan_flush(&a) != 0) {
		n = chan_read(&b);
		assert_true(n > 0 || (n == -1 && errno == EAGAIN));
		assert_int_equal(chan_get(&b, &m), 0);
	}
	do {
		n = chan_read(&b);
		assert_true(n > 0 || (n == -1 && errno == EAGAIN));
	} while ((n = chan_get(&b, &m)) == 0);
	assert_int_equal(n, CHAN_HDRSZ + 100000);
	check_fill(m.data, 100000, 5);
	/* Sized to the message, not to the bound. */
	assert_int_equal(b.rsize, CHAN_HDRSZ + 100000);
	chan_msg_free(&m);
	free(buf);
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

static void
test_peer_gone(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	int		 sv[2];

	mkpair(sv);
	chan_init(&a, sv[0], 64);
	chan_init(&b, sv[1], 64);
	assert_int_equal(chan_get(&b, &m), 0);
	assert_null(m.data);
	assert_int_equal(m.fd, -1);
	chan_msg_free(&m);	/* harmless on an empty message */
	assert_int_equal(chan_read(&b), -1);
	assert_int_equal(errno, EAGAIN);
	close(sv[1]);
	/* No SIGPIPE: the error comes back as EPIPE. */
	assert_int_equal(chan_compose(&a, 1, 0, -1, "x", 1), 0);
	errno = 0;
	assert_int_equal(chan_flush(&a), -1);
	assert_true(errno == EPIPE || errno == ECONNRESET);
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);

	/* Clean EOF: 0 from chan_read, nothing from chan_get. */
	mkpair(sv);
	chan_init(&b, sv[1], 64);
	close(sv[0]);
	assert_int_equal(chan_read(&b), 0);
	assert_true(b.eof);
	assert_int_equal(chan_get(&b, &m), 0);
	chan_clear(&b);
	close(sv[1]);
}

static void
test_header_fields(void **state)
{
	struct chan	 a, b;
	struct chan_msg	 m;
	int		 sv[2];

	mkpair(sv);
	chan_init(&a, sv[0], 64);
	chan_init(&b, sv[1], 64);
	assert_int_equal(chan_compose(&a, 0xffffffffU, 0xfffffffeU, -1,
	    NULL, 0), 0);
	assert_int_equal(chan_compose(&a, 0, 0, -1, NULL, 0), 0);
	assert_int_equal(chan_flush(&a), 0);
	assert_int_equal(chan_read(&b), 2 * CHAN_HDRSZ);
	assert_int_equal(chan_get(&b, &m), CHAN_HDRSZ);
	assert_int_equal(m.hdr.type, 0xffffffffU);
	assert_int_equal(m.hdr.peerid, 0xfffffffeU);
	assert_int_equal(m.datalen, 0);
	assert_non_null(m.data);
	assert_int_equal(m.data[0], 0);
	chan_msg_free(&m);
	assert_int_equal(chan_get(&b, &m), CHAN_HDRSZ);
	assert_int_equal(m.hdr.type, 0);
	chan_msg_free(&m);
	chan_clear(&a);
	chan_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

/* Random bytes (and stray descriptors): no crash, no leak. */
static void
test_random_stream(void **state)
{
	struct chan	 b;
	struct chan_msg	 m;
	uint8_t		 raw[2048];
	size_t		 len, off, n;
	int		 sv[2], base, round, fd, stop;
	ssize_t		 r, g;

	base = count_fds();
	rng_seed(4242);
	for (round = 0; round < 300; round++) {
		mkpair(sv);
		chan_init(&b, sv[1], 256);
		for (off = 0; off < sizeof(raw); off++)
			raw[off] = (uint8_t)rng();
		len = 0;
		while (len + CHAN_HDRSZ + 64 < sizeof(raw)) {
			if (rng() % 4 == 0) {
				raw[len++] = (uint8_t)rng();
				continue;
			}
			n = rng() % 64;
			put_msg(raw + len, rng(), rng() % 8 == 0 ? rng() :
			    (uint32_t)(CHAN_HDRSZ + n), rng(),
			    rng() % 5 == 0 ? CHAN_F_FD : 0, NULL, 0);
			len += CHAN_HDRSZ + n;
		}
		stop = 0;
		for (off = 0; off < len && !stop; off += n) {
			n = 1 + rng() % 200;
			if (n > len - off)
				n = len - off;
			if (rng() % 6 == 0) {
				fd = open("/dev/null", O_RDONLY);
				assert_true(fd != -1);
				assert_int_equal(send_fds(sv[0], raw + off, n,
				    &fd, 1), n);
				close(fd);
			} else
				raw_write(sv[0], raw + off, n);
			/* Read until the socket is empty or the peer fails. */
			for (;;) {
				r = chan_read(&b);
				if (r == -1 && errno != EAGAIN) {
					stop = 1;
					break;
				}
				while ((g = chan_get(&b, &m)) > 0)
					chan_msg_free(&m);
				if (g == -1) {
					stop = 1;
					break;
				}
				if (r <= 0)
					break;
			}
		}
		close(sv[0]);
		while (!stop) {
			r = chan_read(&b);
			if (r == -1)
				break;
			while ((g = chan_get(&b, &m)) > 0)
				chan_msg_free(&m);
			if (g == -1 || b.eof)
				stop = 1;
		}
		chan_clear(&b);
		close(sv[1]);
		assert_int_equal(count_fds(), base);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_sizes),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_split_one_byte),
		cmocka_unit_test(test_several_in_one_read),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_length_bound),
		cmocka_unit_test(test_truncated_then_eof),
		cmocka_unit_test(test_fd_without_flag),
		cmocka_unit_test(test_flag_without_fd),
		cmocka_unit_test(test_too_many_fds),
		cmocka_unit_test(test_wq_bound),
		cmocka_unit_test(test_flush_full_socket),
		cmocka_unit_test(test_partial_write_after_fd),
		cmocka_unit_test(test_clear_closes_fds),
		cmocka_unit_test(test_rbuf_bounded),
		cmocka_unit_test(test_rbuf_grows_to_message),
		cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_random_stream),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
