/* SPDX-License-Identifier: ISC */
/*
 * apm2c -- the benchmark's apm2d client, in C so that what is measured is
 * the daemon and not the client.  One kept connection per command; every
 * read and write bounded by a 10 s socket timeout.
 *
 *   apm2c rt SOCKET JSON EXPECT N WARMUP
 *	send JSON N times (after WARMUP untimed ones), each reply must
 *	contain EXPECT; prints the round-trip statistics in microseconds
 *   apm2c start SOCKET NAME PARENT COUNT COMM TIMEOUT_MS
 *	start_process NAME, then wait until PARENT has COUNT children
 *	running COMM; prints {"reply_us":..,"done_us":..}
 *   apm2c stop SOCKET NAME PARENT COMM TIMEOUT_MS
 *	stop_process NAME, then wait until no child of PARENT runs COMM
 *   apm2c restart SOCKET NAME PARENT KILLS SETTLE_MS TIMEOUT_MS
 *	KILLS times: wait until NAME (one instance) is Running, SIGKILL its
 *	pid and time until PARENT has a new child; prints the statistics (us)
 *   apm2c req SOCKET JSON
 *	one request; the reply on stdout
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define FRAME_MAX	(16U << 20)
#define IO_TIMEOUT	10

static char	*reply;
static size_t	 replycap;

static void	 usage(void);
static int	 conn(const char *);
static void	 write_all(int, const void *, size_t);
static void	 read_all(int, void *, size_t);
static size_t	 roundtrip(int, const char *);
static void	 check_name(const char *);
static void	 expect_ok(const char *, size_t);
static int	 cmd_rt(int, char **);
static int	 cmd_start(int, char **);
static int	 cmd_stop(int, char **);
static int	 cmd_restart(int, char **);
static int	 cmd_req(int, char **);
static pid_t	 running_pid(int, const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: apm2c rt SOCKET JSON EXPECT N WARMUP\n"
	    "       apm2c start SOCKET NAME PARENT COUNT COMM TIMEOUT_MS\n"
	    "       apm2c stop SOCKET NAME PARENT COMM TIMEOUT_MS\n"
	    "       apm2c restart SOCKET NAME PARENT KILLS SETTLE_MS "
	    "TIMEOUT_MS\n"
	    "       apm2c req SOCKET JSON\n");
	exit(2);
}

static int
conn(const char *path)
{
	struct sockaddr_un	sun;
	struct timeval		tv;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "apm2c: socket path too long\n");
		exit(1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("apm2c: socket");
		exit(1);
	}
	tv.tv_sec = IO_TIMEOUT;
	tv.tv_usec = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		perror("apm2c: setsockopt");
		exit(1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "apm2c: connect %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	return (fd);
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "apm2c: write: %s\n",
			    n == 0 ? "short" : strerror(errno));
			exit(1);
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
read_all(int fd, void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "apm2c: read: %s\n",
			    n == 0 ? "connection closed by the daemon" :
			    strerror(errno));
			exit(1);
		}
		p += n;
		len -= (size_t)n;
	}
}

/* One request, one reply (into the global buffer, NUL-terminated). */
static size_t
roundtrip(int fd, const char *json)
{
	unsigned char	 hdr[4];
	char		 out[4096 + 4];
	size_t		 len = strlen(json);
	uint32_t	 rlen;

	if (len > sizeof(out) - 4) {
		fprintf(stderr, "apm2c: request too long\n");
		exit(2);
	}
	out[0] = (char)(len >> 24);
	out[1] = (char)(len >> 16);
	out[2] = (char)(len >> 8);
	out[3] = (char)len;
	memcpy(out + 4, json, len);
	write_all(fd, out, len + 4);
	read_all(fd, hdr, sizeof(hdr));
	rlen = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (rlen > FRAME_MAX) {
		fprintf(stderr, "apm2c: reply of %u bytes\n", rlen);
		exit(1);
	}
	if ((size_t)rlen + 1 > replycap) {
		free(reply);
		replycap = (size_t)rlen + 1 > 65536 ? (size_t)rlen + 1 : 65536;
		if ((reply = malloc(replycap)) == NULL) {
			perror("apm2c: malloc");
			exit(1);
		}
	}
	read_all(fd, reply, rlen);
	reply[rlen] = '\0';
	return (rlen);
}

static void
check_name(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", *p) == NULL || p - s > 63) {
			fprintf(stderr, "apm2c: bad process name\n");
			exit(2);
		}
}

static void
expect_ok(const char *what, size_t len)
{
	if (strstr(reply, "\"type\":\"ok\"") == NULL) {
		fprintf(stderr, "apm2c: %s: %.*s\n", what,
		    (int)(len > 400 ? 400 : len), reply);
		exit(1);
	}
}

static int
cmd_rt(int argc, char *argv[])
{
	double		*v;
	uint64_t	 t0;
	long		 n, warm, i;
	int		 fd;

	if (argc != 7)
		usage();
	n = parse_num("apm2c", argv[5], 1, 10000000);
	warm = parse_num("apm2c", argv[6], 0, 10000000);
	if ((v = calloc((size_t)n, sizeof(*v))) == NULL) {
		perror("apm2c: calloc");
		return (1);
	}
	fd = conn(argv[2]);
	for (i = 0; i < warm + n; i++) {
		t0 = now_ns();
		(void)roundtrip(fd, argv[3]);
		if (i >= warm)
			v[i - warm] = (double)(now_ns() - t0) / 1000.0;
		if (strstr(reply, argv[4]) == NULL) {
			fprintf(stderr, "apm2c: unexpected reply: %.300s\n",
			    reply);
			return (1);
		}
	}
	close(fd);
	stat_print_json("us", v, (size_t)n);
	free(v);
	return (0);
}

static int
cmd_start(int argc, char *argv[])
{
	static struct comm_cache	seen;
	char				req[256];
	uint64_t			t0, treply, limit;
	size_t				len;
	pid_t				parent;
	long				count;
	int				fd, c;

	if (argc != 8)
		usage();
	check_name(argv[3]);
	parent = (pid_t)parse_num("apm2c", argv[4], 1, INT32_MAX);
	count = parse_num("apm2c", argv[5], 1, PROC_CHILDREN_MAX);
	limit = (uint64_t)parse_num("apm2c", argv[7], 1, 3600000) * 1000000ULL;
	snprintf(req, sizeof(req), "{\"type\":\"start_process\",\"name\":"
	    "\"%s\"}", argv[3]);
	precise_timers();
	fd = conn(argv[2]);
	t0 = now_ns();
	len = roundtrip(fd, req);
	treply = now_ns() - t0;
	expect_ok("start_process", len);
	for (;;) {
		if ((c = proc_count_comm(parent, argv[6], &seen)) == -1) {
			fprintf(stderr, "apm2c: daemon %d is gone\n",
			    (int)parent);
			return (1);
		}
		if (c >= count)
			break;
		if (now_ns() - t0 > limit) {
			fprintf(stderr, "apm2c: %d of %ld started after "
			    "%s ms\n", c, count, argv[7]);
			return (1);
		}
		sleep_us(100);
	}
	printf("{\"reply_us\":%.1f,\"done_us\":%.1f}\n",
	    (double)treply / 1000.0, (double)(now_ns() - t0) / 1000.0);
	close(fd);
	return (0);
}

static int
cmd_stop(int argc, char *argv[])
{
	static struct comm_cache	seen;
	char				req[256];
	uint64_t			t0, treply, limit;
	size_t				len;
	pid_t				parent;
	int				fd, c;

	if (argc != 7)
		usage();
	check_name(argv[3]);
	parent = (pid_t)parse_num("apm2c", argv[4], 1, INT32_MAX);
	limit = (uint64_t)parse_num("apm2c", argv[6], 1, 3600000) * 1000000ULL;
	snprintf(req, sizeof(req), "{\"type\":\"stop_process\",\"name\":"
	    "\"%s\"}", argv[3]);
	precise_timers();
	fd = conn(argv[2]);
	t0 = now_ns();
	len = roundtrip(fd, req);
	treply = now_ns() - t0;
	expect_ok("stop_process", len);
	for (;;) {
		if ((c = proc_count_comm(parent, argv[5], &seen)) == -1) {
			fprintf(stderr, "apm2c: daemon %d is gone\n",
			    (int)parent);
			return (1);
		}
		if (c == 0)
			break;
		if (now_ns() - t0 > limit) {
			fprintf(stderr, "apm2c: %d still there after %s ms\n",
			    c, argv[6]);
			return (1);
		}
		sleep_us(100);
	}
	printf("{\"reply_us\":%.1f,\"done_us\":%.1f}\n",
	    (double)treply / 1000.0, (double)(now_ns() - t0) / 1000.0);
	close(fd);
	return (0);
}

/* The pid of NAME's only instance once it is Running; 0 if not yet. */
static pid_t
running_pid(int fd, const char *name)
{
	char		 req[256];
	const char	*p;
	long		 v;

	snprintf(req, sizeof(req), "{\"type\":\"get_process\",\"name\":"
	    "\"%s\"}", name);
	(void)roundtrip(fd, req);
	if (strstr(reply, "\"type\":\"process_details\"") == NULL) {
		fprintf(stderr, "apm2c: get_process: %.300s\n", reply);
		exit(1);
	}
	if ((p = strstr(reply, "\"instance_details\":[")) == NULL ||
	    strstr(p, "\"state\":\"Running\"") == NULL ||
	    (p = strstr(p, "\"pid\":")) == NULL)
		return (0);
	v = strtol(p + 6, NULL, 10);
	return (v > 0 ? (pid_t)v : 0);
}

static int
cmd_restart(int argc, char *argv[])
{
	double		*v;
	uint64_t	 t0, ns;
	pid_t		 parent, pid;
	long		 kills, settle, tmo, i;
	int		 fd;

	if (argc != 8)
		usage();
	check_name(argv[3]);
	parent = (pid_t)parse_num("apm2c", argv[4], 1, INT32_MAX);
	kills = parse_num("apm2c", argv[5], 1, 100000);
	settle = parse_num("apm2c", argv[6], 0, 60000);
	tmo = parse_num("apm2c", argv[7], 1, 3600000);
	if ((v = calloc((size_t)kills, sizeof(*v))) == NULL) {
		perror("apm2c: calloc");
		return (1);
	}
	precise_timers();
	fd = conn(argv[2]);
	for (i = 0; i < kills; i++) {
		t0 = now_ns();
		while ((pid = running_pid(fd, argv[3])) == 0) {
			if (now_ns() - t0 > (uint64_t)tmo * 1000000ULL) {
				fprintf(stderr, "apm2c: %s not running\n",
				    argv[3]);
				return (1);
			}
			sleep_us(1000);
		}
		if ((ns = proc_killwait(parent, pid, (unsigned int)tmo)) == 0)
			return (1);
		v[i] = (double)ns / 1000.0;
		sleep_us((unsigned int)settle * 1000);
	}
	close(fd);
	stat_print_json("us", v, (size_t)kills);
	free(v);
	return (0);
}

static int
cmd_req(int argc, char *argv[])
{
	int	fd;

	if (argc != 4)
		usage();
	fd = conn(argv[2]);
	(void)roundtrip(fd, argv[3]);
	printf("%s\n", reply);
	close(fd);
	return (0);
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "rt") == 0)
		return (cmd_rt(argc, argv));
	if (strcmp(argv[1], "start") == 0)
		return (cmd_start(argc, argv));
	if (strcmp(argv[1], "stop") == 0)
		return (cmd_stop(argc, argv));
	if (strcmp(argv[1], "restart") == 0)
		return (cmd_restart(argc, argv));
	if (strcmp(argv[1], "req") == 0)
		return (cmd_req(argc, argv));
	usage();
	return (2);
}
