/*
 * The file through which a fuzz target hands its input to the code under
 * test: one path in a private directory, made once, written again for
 * every input, and the directory emptied and removed at exit (with what
 * the code under test left there, a journal's ".new" say).
 */

#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"

static char	 fuzzfile_dir[PATH_MAX];
static char	 fuzzfile_path[PATH_MAX + NAME_MAX + 2];

static void
fuzzfile_cleanup(void)
{
	char		 p[sizeof(fuzzfile_path)];
	DIR		*d;
	struct dirent	*de;

	if ((d = opendir(fuzzfile_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", fuzzfile_dir,
			    de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(fuzzfile_dir);
}

/*
 * The path NAME in a new directory for TARGET: under /dev/shm if TMPFS
 * and it is writable (inputs that are fsynced go faster there), else
 * under $TMPDIR or /tmp.
 */
const char *
fuzzfile_init(const char *target, const char *name, int tmpfs)
{
	const char	*tmp;

	if (tmpfs && access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if ((tmp = getenv("TMPDIR")) == NULL || *tmp != '/')
		tmp = "/tmp";
	snprintf(fuzzfile_dir, sizeof(fuzzfile_dir), "%s/%s.XXXXXX", tmp,
	    target);
	if (mkdtemp(fuzzfile_dir) == NULL)
		abort();
	snprintf(fuzzfile_path, sizeof(fuzzfile_path), "%s/%s", fuzzfile_dir,
	    name);
	atexit(fuzzfile_cleanup);
	return (fuzzfile_path);
}

/* The input, as the whole file. */
void
fuzzfile_write(const uint8_t *data, size_t size)
{
	int	 fd;

	fd = open(fuzzfile_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}
