/*
 * sd_notify(3) without libsystemd: one datagram of "KEY=VALUE" lines to
 * the socket named in $NOTIFY_SOCKET (a path, or an abstract name when
 * it starts with '@').  The variable is taken at start and removed from
 * the environment, so worker processes and jobs never see it and cannot
 * speak for the daemon.  Outside systemd every call is a no-op.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

static char	*sdnotify_path;

void
sdnotify_init(void)
{
	const char	*s;

	if ((s = getenv("NOTIFY_SOCKET")) == NULL || *s == '\0')
		return;
	if ((*s != '/' && *s != '@') ||
	    strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		log_warnx("%s: ignoring NOTIFY_SOCKET \"%s\"", __func__, s);
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	sdnotify_path = xstrdup(s);
	unsetenv("NOTIFY_SOCKET");
}

int
sdnotify_enabled(void)
{
	return (sdnotify_path != NULL);
}

/* Tell the service manager state ("READY=1"); -1 if that failed. */
int
sdnotify_send(const char *state)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	size_t			 n;
	ssize_t			 w;
	int			 fd;

	if (sdnotify_path == NULL)
		return (0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = strlen(sdnotify_path);
	memcpy(sun.sun_path, sdnotify_path, n);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract: no terminating NUL */
	len = offsetof(struct sockaddr_un, sun_path) + n;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket", __func__);
		return (-1);
	}
	w = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
	if (w == -1) {
		log_warn("%s: %s", __func__, sdnotify_path);
		return (-1);
	}
	return (0);
}
