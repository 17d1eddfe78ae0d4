/* SPDX-License-Identifier: ISC */
/*
 * sdnotify.c -- the service manager's notification protocol: a
 * datagram to $NOTIFY_SOCKET (see sdnotify.h for why it is ours).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"
#include "utf8.h"

static int			sd_fd = -1;
static struct sockaddr_un	sd_sun;
static socklen_t		sd_len;
static int			sd_failed;	/* a send failed: logged */
static char			sd_name[sizeof(sd_sun.sun_path) + 1];

int
sdnotify_addr(const char *s, struct sockaddr_un *sun, socklen_t *len)
{
	size_t	n = strlen(s);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (s[0] == '/' && n < sizeof(sun->sun_path)) {
		memcpy(sun->sun_path, s, n);
		*len = offsetof(struct sockaddr_un, sun_path) + n + 1;
		return (0);
	}
#ifdef __linux__
	/* An abstract name is its bytes after a NUL: no terminator. */
	if (s[0] == '@' && n > 1 && n <= sizeof(sun->sun_path)) {
		memcpy(sun->sun_path + 1, s + 1, n - 1);
		*len = offsetof(struct sockaddr_un, sun_path) + n;
		return (0);
	}
#endif
	return (-1);
}

int
sdnotify_open(void)
{
	const char	*e;
	int		 fits;

	sdnotify_close();
	if ((e = getenv(SDNOTIFY_ENV)) == NULL)
		return (0);
	/* Copied before unsetenv(), which may free it. */
	fits = strlcpy(sd_name, e, sizeof(sd_name)) < sizeof(sd_name);
	unsetenv(SDNOTIFY_ENV);
	if (sd_name[0] == '\0')
		return (0);
	if (!fits || sdnotify_addr(sd_name, &sd_sun, &sd_len) == -1) {
		/* Under Type=notify the manager will wait: say why. */
		log_warnx("%s=%s: not a socket path or @name that can be "
		    "used; no notifications will be sent", SDNOTIFY_ENV,
		    sd_name);
		return (0);
	}
	if ((sd_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket", SDNOTIFY_ENV);
		return (0);
	}
	sd_failed = 0;
	return (1);
}

int
sdnotify_enabled(void)
{
	return (sd_fd != -1);
}

void
sdnotify_close(void)
{
	if (sd_fd != -1)
		close(sd_fd);
	sd_fd = -1;
}

int
sdnotify_send(const char *fmt, ...)
{
	char	buf[SDNOTIFY_MSG_MAX];
	va_list	ap;
	int	n;

	if (sd_fd == -1)
		return (-1);
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		log_debug("%s: message too long, not sent", SDNOTIFY_ENV);
		return (-1);
	}
	/* Non-blocking: a manager that is gone or behind costs us nothing. */
	if (sendto(sd_fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sd_sun, sd_len) == -1) {
		if (!sd_failed)
			log_debug("cannot notify the service manager at %s: "
			    "%s (not said again)", sd_name, strerror(errno));
		sd_failed = 1;
		return (-1);
	}
	return (0);
}

size_t
sdnotify_value(char *dst, size_t len, const char *src)
{
	size_t	i;

	if (len == 0)
		return (0);
	/* A newline would end the line, and with it the value. */
	for (i = 0; i + 1 < len && src[i] != '\0' && src[i] != '\n'; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ?
		    '?' : src[i];
	dst[i] = '\0';
	if (src[i] != '\0' && src[i] != '\n') {
		utf8_clip(dst);
		i = strlen(dst);
	}
	return (i);
}
