/*
 * A file put in place whole or not at all: written under a temporary
 * name beside it, then rename(2), so a reader (the daemon reading a
 * one-shot's outcome from a shared directory) never sees half of it.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "putfile.h"

/*
 * len bytes of buf into path through tmp: 0, or -1 with errno set and
 * *failed the name (tmp or path) the failure is about; tmp is gone.
 */
int
putfile(const char *path, const char *tmp, const void *buf, size_t len,
    const char **failed)
{
	const char	*p = buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, saved;

	*failed = tmp;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return (-1);
	while (off < len) {
		if ((n = write(fd, p + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (off < len || close(fd) != 0) {
		saved = errno;
		if (off < len)
			close(fd);
		(void)unlink(tmp);
		errno = saved;
		return (-1);
	}
	if (rename(tmp, path) == -1) {
		saved = errno;
		*failed = path;
		(void)unlink(tmp);
		errno = saved;
		return (-1);
	}
	return (0);
}
