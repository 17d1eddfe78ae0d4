/* SPDX-License-Identifier: ISC */
/*
 * fuzz.h -- what the harnesses share.
 */
#ifndef APM2_FUZZ_H
#define APM2_FUZZ_H

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

/*
 * The parsers want buf[len] == '\0'.  A private copy with just that NUL,
 * so an over-read trips ASan; NULL if out of memory.
 */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char	*buf;

	if ((buf = malloc(size + 1)) == NULL)
		return (NULL);
	if (size > 0)
		memcpy(buf, data, size);
	buf[size] = '\0';
	return (buf);
}

/*
 * Open descriptors: all of them, from /proc/self/fd; without it, those
 * below hi (above any the harness saw, by a margin).
 */
static inline int
fuzz_open_fds(int hi)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd, n = 0;

	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
		return (n);
	}
	for (fd = 0; fd < hi; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return (n);
}

/*
 * For LLVMFuzzerInitialize() of a harness whose code logs every refusal
 * on stderr (log.c), millions of lines in a run: unless the variable
 * keep is set or the command line says otherwise, add -close_fd_mask=2.
 * libFuzzer then keeps its own messages and the sanitizer reports on a
 * copy of stderr, and only the log lines go to /dev/null.
 */
static inline void
fuzz_quiet_stderr(int *argc, char ***argv, const char *keep)
{
	static char	**fuzz_argv;
	int		  i;

	if (getenv(keep) != NULL)
		return;
	for (i = 1; i < *argc; i++)
		if (strncmp((*argv)[i], "-close_fd_mask=", 15) == 0)
			return;
	if ((fuzz_argv = reallocarray(NULL, *argc + 2, sizeof(char *))) ==
	    NULL)
		abort();
	for (i = 0; i < *argc; i++)
		fuzz_argv[i] = (*argv)[i];
	fuzz_argv[i++] = (char *)"-close_fd_mask=2";
	fuzz_argv[i] = NULL;
	*argc = i;
	*argv = fuzz_argv;
}

#endif /* APM2_FUZZ_H */
