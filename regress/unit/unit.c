/* SPDX-License-Identifier: ISC */
/*
 * unit.c -- helpers the cmocka unit tests share; see unit.h.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#define UNIT_FDSCAN	1024

static uint64_t	rng_state = 0x9e3779b97f4a7c15ULL;

void
rng_seed(uint64_t s)
{
	rng_state = s != 0 ? s : 0x9e3779b97f4a7c15ULL;
}

uint64_t
rng64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dULL);
}

uint32_t
rng(void)
{
	return ((uint32_t)(rng64() >> 32));
}

int
count_fds(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < UNIT_FDSCAN; fd++)
		if (fd_is_open(fd))
			n++;
	return (n);
}

int
fd_is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1);
}

void
rm_tree(const char *path)
{
	char		 sub[PATH_MAX];
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;

	if (lstat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		(void)unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_tree(sub);
		}
		closedir(d);
	}
	(void)rmdir(path);
}
