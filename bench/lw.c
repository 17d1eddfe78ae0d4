/* SPDX-License-Identifier: ISC */
/*
 * lw -- a log writer for the capture benchmarks.  Every line is 64 bytes
 * (63 printable + newline), text that no redaction pattern matches.
 *
 *   lw BYTES	BYTES (a multiple of 64) as fast as possible, in 64 KiB
 *		writes, then exit 0
 *   lw -l N	N numbered lines "<pid> <seq> ...", then exit at once
 *		(the completeness check counts them on disk)
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE	64
#define BLOCK	65536

static char	block[BLOCK];

static void	usage(void);
static long long num(const char *);
static void	write_all(const char *, size_t);
static void	make_line(char *, const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: lw BYTES | lw -l LINES\n");
	exit(2);
}

static long long
num(const char *s)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < 0)
		usage();
	return (v);
}

static void
write_all(const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(STDOUT_FILENO, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("lw: write");
			_exit(1);
		}
		p += n;
		len -= (size_t)n;
	}
}

/* text padded (or cut) to 63 bytes, then the newline. */
static void
make_line(char *dst, const char *text)
{
	static const char	pad[] = " abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz";
	size_t			n = strlen(text);

	if (n > LINE - 1)
		n = LINE - 1;
	memcpy(dst, text, n);
	memcpy(dst + n, pad, LINE - 1 - n);
	dst[LINE - 1] = '\n';
}

int
main(int argc, char *argv[])
{
	static const char	*words[] = { "processed item", "sent reply",
	    "wrote chunk", "read request", "cache miss on", "retry of" };
	char			 text[128];
	long long		 total, left, n, i;
	size_t			 off, chunk;
	pid_t			 pid = getpid();

	if (argc == 3 && strcmp(argv[1], "-l") == 0) {
		n = num(argv[2]);
		off = 0;
		for (i = 0; i < n; i++) {
			snprintf(text, sizeof(text), "%010d %010lld line",
			    (int)pid, i);
			make_line(block + off, text);
			off += LINE;
			if (off == BLOCK) {
				write_all(block, off);
				off = 0;
			}
		}
		write_all(block, off);
		_exit(0);
	}
	if (argc != 2)
		usage();
	total = num(argv[1]);
	if (total % LINE != 0)
		usage();
	for (i = 0; i < BLOCK / LINE; i++) {
		snprintf(text, sizeof(text), "2025-06-01 12:%02lld:%02lld.%03lld"
		    " INFO worker-%02lld %s %06lld in %lld ms", i / 60 % 60,
		    i % 60, i * 7 % 1000, i % 16, words[i % 6], i * 37 % 999999,
		    i % 97);
		make_line(block + i * LINE, text);
	}
	for (left = total; left > 0; left -= (long long)chunk) {
		chunk = left > BLOCK ? BLOCK : (size_t)left;
		write_all(block, chunk);
	}
	return (0);
}
