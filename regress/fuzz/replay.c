/* SPDX-License-Identifier: ISC */
/*
 * replay -- run a libFuzzer harness over its seed corpus, without
 * libFuzzer.
 *
 * make unit links each regress/fuzz/fuzz_X.c with this main() using the
 * ordinary compiler and flags, and regress/run.sh runs the result on
 * regress/fuzz/corpus/X: a harness that no longer builds, or a seed that
 * crashes it or trips one of its checks, fails `make check` and not only
 * the clang fuzz run.  Every regular file of the directory, in name order,
 * goes to LLVMFuzzerTestOneInput() in this one process, as libFuzzer
 * replays a corpus.  The verdict is one TAP test.
 *
 * usage: replay_X DIR
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Optional in a harness; libFuzzer calls it once before any input. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((__weak__));

static void	 on_crash(int);
static void	 catch_crashes(void);
static uint8_t	*slurp(const char *, size_t *);

static char	 current[PATH_MAX];	/* the input being run */
static char	 harness[64];
/* What LLVMFuzzerInitialize() made of argv: kept, as libFuzzer keeps it,
 * where a leak checker sees it (a store nothing reads may be dropped). */
static char	**volatile init_argv;

/* Name the input that crashed, then die of the signal as we would have. */
static void
on_crash(int sig)
{
	char	line[sizeof(current) + 128];
	int	n;

	n = snprintf(line, sizeof(line), "not ok 1 - %s: signal %d on %s\n",
	    harness, sig, current);
	if (n > 0 && write(STDOUT_FILENO, line, strlen(line)) == -1)
		_exit(128 + sig);
	raise(sig);
}

/* Only where nobody (a sanitizer, say) handles the signal already. */
static void
catch_crashes(void)
{
	static const int	sigs[] = { SIGABRT, SIGBUS, SIGFPE, SIGILL,
				    SIGSEGV };
	struct sigaction	sa, old;
	size_t			i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_DFL)
			sigaction(sigs[i], &sa, NULL);
}

/* The whole file in a buffer of exactly its size (a sanitizer sees an
 * overread); NULL with errno set on failure. */
static uint8_t *
slurp(const char *path, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	if (fstat(fd, &st) == -1 || (buf = malloc(st.st_size > 0 ?
	    (size_t)st.st_size : 1)) == NULL) {
		close(fd);
		return (NULL);
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n <= 0) {
			free(buf);
			close(fd);
			return (NULL);
		}
		off += (size_t)n;
	}
	close(fd);
	*lenp = off;
	return (buf);
}

int
main(int argc, char *argv[])
{
	struct dirent	**ents;
	struct stat	  st;
	const char	 *base;
	uint8_t		 *buf;
	size_t		  len;
	int		  i, n, inputs = 0;

	base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	if (strncmp(base, "replay_", 7) == 0)
		base += 7;
	snprintf(harness, sizeof(harness), "fuzz_%s", base);
	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-directory\n", argv[0]);
		return (2);
	}
	printf("1..1\n");
	fflush(stdout);
	if ((n = scandir(argv[1], &ents, NULL, alphasort)) == -1) {
		printf("not ok 1 - %s: %s: %s\n", harness, argv[1],
		    strerror(errno));
		return (1);
	}
	if (LLVMFuzzerInitialize != NULL) {
		LLVMFuzzerInitialize(&argc, &argv);
		init_argv = argv;
	}
	catch_crashes();
	for (i = 0; i < n; i++) {
		snprintf(current, sizeof(current), "%s/%s", argv[1],
		    ents[i]->d_name);
		free(ents[i]);
		if (stat(current, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if ((buf = slurp(current, &len)) == NULL)
			err(1, "%s", current);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		inputs++;
	}
	free(ents);
	if (inputs == 0) {
		printf("not ok 1 - %s: no seeds in %s\n", harness, argv[1]);
		return (1);
	}
	printf("ok 1 - %s: %d seeds\n", harness, inputs);
	return (0);
}
