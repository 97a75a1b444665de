/*
 * Where the daemon listens and clients connect: one rule, shared.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockpath.h"

int
sockpath_default(char *buf, size_t len)
{
	const char	*s;
	int		 n;

	if ((s = getenv("FUTURED_SOCKET")) != NULL && *s != '\0')
		n = snprintf(buf, len, "%s", s);
	else if ((s = getenv("XDG_RUNTIME_DIR")) != NULL && *s == '/')
		n = snprintf(buf, len, "%s/futured/futured.sock", s);
	else
		n = snprintf(buf, len, "/tmp/futured-%lu/futured.sock",
		    (unsigned long)getuid());
	if (n < 0 || (size_t)n >= len ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

int
sockpath_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strcpy(sun->sun_path, path);
	return (0);
}
