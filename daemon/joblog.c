/*
 * Whole logs (--output-dir): each job's stdout and stderr, as the job
 * writes them, in DIR/ID.out and DIR/ID.err, with no limit but the
 * disk's.  The job keeps its first --max-output bytes and its stderr
 * tail in memory as before; the files are what `futurectl logs` reads
 * (request_logs.c).
 *
 * Every byte a job writes passes job_output() on the loop, which hands
 * it here; writes are plain write(2)s into the page cache, made on the
 * loop: no copy, no thread, and a reader (pread) sees every byte that
 * was told to a watcher.  A file holds every attempt of its job, one
 * after the other.  Files are made on the first byte (a job that writes
 * nothing has none), 0600, owned by the daemon's user: under --system a
 * job's owner reads them only through the daemon, which checks who asks.
 *
 * Descriptors are a cache: a daemon running a thousand commands must not
 * hold two thousand more descriptors than exec's sizing counts on, so at
 * most JOBLOG_FDS_MAX stay open, the least recently written closed first,
 * and every attempt's end closes its own.
 *
 * A write that fails (a full disk, a file removed from under us is fine)
 * is logged once for that file, which stops there: the log is marked
 * truncated (the reader is told) and the job runs on.  The mark is kept
 * on the file itself, left read-only (0400), so that a restart still
 * tells the reader: a mode change needs no room on the full disk that
 * usually stops a log, and it holds also when the daemon dies before
 * the job ends (the journal's FINAL would not).  Retention removes
 * a job's files with it (sched.c); at start, after the journal's replay,
 * the files of jobs the daemon no longer knows are removed, and those of
 * kept jobs stay.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

#define JOBLOG_FDS_MAX		16	/* descriptors open at most */
#define JOBLOG_CUT_MODE		0400	/* a log that stops short */

struct joblog {
	struct job		*job;
	int			 fd[2];		/* out, err; -1: closed */
	uint64_t		 len[2];	/* bytes in the file */
	uint8_t			 made[2];	/* the file exists */
	uint8_t			 failed[2];	/* a write failed */
	TAILQ_ENTRY(joblog)	 entry;		/* joblog_open, if open */
};
TAILQ_HEAD(joblogs, joblog);

/* A seam for fault injection (tests); write(2) otherwise. */
ssize_t			(*joblog_write_fn)(int, const void *, size_t) = write;

static int		 joblog_dirfd = -1;
static char		*joblog_dir;
static struct joblogs	 joblog_open = TAILQ_HEAD_INITIALIZER(joblog_open);
static u_int		 joblog_nopen;

static const char *const joblog_ext[2] = { "out", "err" };

int
joblog_enabled(void)
{
	return (joblog_dirfd != -1);
}

const char *
joblog_path(void)
{
	return (joblog_dir);
}

static void
joblog_name(uint64_t id, int err, char *name, size_t len)
{
	snprintf(name, len, "%" PRIu64 ".%s", id, joblog_ext[err != 0]);
}

static struct joblog *
joblog_get(struct job *j)
{
	struct job_more	*m = job_more(j);
	struct joblog	*l;

	if ((l = m->log) != NULL)
		return (l);
	l = xcalloc(1, sizeof(*l));
	l->job = j;
	l->fd[0] = l->fd[1] = -1;
	m->log = l;
	return (l);
}

static void
joblog_close_fds(struct joblog *l)
{
	int	 i, was = 0;

	for (i = 0; i < 2; i++) {
		if (l->fd[i] == -1)
			continue;
		close(l->fd[i]);
		l->fd[i] = -1;
		joblog_nopen--;
		was = 1;
	}
	if (was)
		TAILQ_REMOVE(&joblog_open, l, entry);
}

/* The file of one stream, open for appending; -1 with errno. */
static int
joblog_fd(struct joblog *l, int err)
{
	struct joblog	*old;
	char		 name[32];
	int		 fd, flags;

	if (l->fd[err] != -1) {
		/* The most recently written last: the cache's order. */
		TAILQ_REMOVE(&joblog_open, l, entry);
		TAILQ_INSERT_TAIL(&joblog_open, l, entry);
		return (l->fd[err]);
	}
	while (joblog_nopen >= JOBLOG_FDS_MAX &&
	    (old = TAILQ_FIRST(&joblog_open)) != NULL)
		joblog_close_fds(old);
	joblog_name(l->job->id, err, name, sizeof(name));
	/* The first byte of this daemon's life for it: a new file. */
	flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
	if (!l->made[err])
		flags |= O_TRUNC;
	if ((fd = openat(joblog_dirfd, name, flags, 0600)) == -1)
		return (-1);
	l->made[err] = 1;
	if (l->fd[!err] != -1)
		TAILQ_REMOVE(&joblog_open, l, entry);
	l->fd[err] = fd;
	joblog_nopen++;
	TAILQ_INSERT_TAIL(&joblog_open, l, entry);
	return (fd);
}

/*
 * Mark the file of a log that stops short (read-only), or make it, empty
 * and marked, if it was never made: a restart's sweep reads the mark.
 */
static void
joblog_mark(struct joblog *l, int err)
{
	char	 name[32];
	int	 fd;

	joblog_name(l->job->id, err, name, sizeof(name));
	if (l->made[err])
		fd = openat(joblog_dirfd, name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	else
		fd = openat(joblog_dirfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, JOBLOG_CUT_MODE);
	if (fd == -1 || fchmod(fd, JOBLOG_CUT_MODE) == -1) {
		/* Removed from under us: nothing left to mark. */
		if (errno != ENOENT)
			log_warn("%s/%s: cannot mark it cut short", joblog_dir,
			    name);
	} else
		l->made[err] = 1;
	if (fd != -1)
		close(fd);
}

/*
 * Bytes the job wrote on stdout (stderr: err), to the end of its file.
 * Never fails the job: a write that fails stops the file there, once.
 */
void
joblog_write(struct job *j, int err, const void *p, size_t len)
{
	struct joblog	*l;
	const uint8_t	*b = p;
	ssize_t		 n;
	int		 fd;

	err = err != 0;
	if (joblog_dirfd == -1 || len == 0)
		return;
	l = joblog_get(j);
	if (l->failed[err])
		return;
	if ((fd = joblog_fd(l, err)) == -1)
		goto fail;
	while (len > 0) {
		n = joblog_write_fn(fd, b, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			goto fail;
		}
		b += n;
		len -= n;
		l->len[err] += n;
	}
	return;

fail:
	log_warn("job %llu: %s/%llu.%s: the log stops at %llu bytes",
	    (unsigned long long)j->id, joblog_dir, (unsigned long long)j->id,
	    joblog_ext[err], (unsigned long long)l->len[err]);
	l->failed[err] = 1;
	joblog_mark(l, err);
}

/* An attempt ended: its files are complete, their descriptors go. */
void
joblog_end(struct job *j)
{
	if (j->more->log != NULL)
		joblog_close_fds(j->more->log);
}

/* The job is freed (the daemon stops, or after joblog_forget). */
void
joblog_free(struct job *j)
{
	struct job_more	*m;

	if (j->more->log == NULL)
		return;
	m = job_more(j);
	joblog_close_fds(m->log);
	free(m->log);
	m->log = NULL;
}

/* Retention forgets the job: its files go with it. */
void
joblog_forget(struct job *j)
{
	const struct joblog	*l = j->more->log;
	char			 name[32];
	int			 i;

	if (l == NULL || joblog_dirfd == -1)
		return;
	for (i = 0; i < 2; i++) {
		if (!l->made[i])
			continue;
		joblog_name(j->id, i, name, sizeof(name));
		if (unlinkat(joblog_dirfd, name, 0) == -1 && errno != ENOENT)
			log_warn("%s/%s", joblog_dir, name);
	}
	joblog_free(j);
}

/* The length of a job's log as written so far. */
uint64_t
joblog_size(struct job *j, int err)
{
	const struct joblog	*l = j->more->log;

	return (l == NULL ? 0 : l->len[err != 0]);
}

/*
 * Up to len bytes of a job's log from off into buf: how many (0 at its
 * end, or when it has none), or -1 with errno.  *truncated: a write
 * failed, and the log stops short of what the job wrote.
 */
ssize_t
joblog_read(struct job *j, int err, uint64_t off, void *buf, size_t len,
    int *truncated)
{
	const struct joblog	*l = j->more->log;
	char			 name[32];
	ssize_t			 n;
	size_t			 got = 0;
	int			 fd;

	err = err != 0;
	*truncated = l != NULL && l->failed[err];
	if (len == 0 || l == NULL || !l->made[err] || joblog_dirfd == -1)
		return (0);
	joblog_name(j->id, err, name, sizeof(name));
	fd = openat(joblog_dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return (errno == ENOENT ? 0 : -1);
	while (got < len) {
		n = pread(fd, (uint8_t *)buf + got, len - got, off + got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return (-1);
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	return (got);
}

/* The name is ID.out or ID.err, ID digits only: 1 and its parts. */
static int
joblog_parse(const char *name, uint64_t *id, int *err)
{
	const char	*dot;
	char		*end;

	if ((dot = strchr(name, '.')) == NULL || dot == name ||
	    *name < '0' || *name > '9')
		return (0);
	if (strcmp(dot + 1, "out") == 0)
		*err = 0;
	else if (strcmp(dot + 1, "err") == 0)
		*err = 1;
	else
		return (0);
	errno = 0;
	*id = strtoull(name, &end, 10);
	return (errno == 0 && end == dot);
}

/*
 * At start, once the journal is replayed: the files of jobs still known
 * are theirs again, the others' (forgotten while the daemon was down, or
 * of a run without a journal) are removed.  Other names are left alone.
 */
static void
joblog_sweep(void)
{
	struct dirent	*de;
	struct stat	 st;
	struct joblog	*l;
	struct job	*j;
	uint64_t	 id;
	DIR		*d;
	int		 fd, err;

	if ((fd = dup(joblog_dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		log_warn("%s", joblog_dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!joblog_parse(de->d_name, &id, &err))
			continue;
		if ((j = sched_find(id)) == NULL) {
			if (unlinkat(joblog_dirfd, de->d_name, 0) == -1 &&
			    errno != ENOENT)
				log_warn("%s/%s", joblog_dir, de->d_name);
			continue;
		}
		if (fstatat(joblog_dirfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		l = joblog_get(j);
		l->made[err] = 1;
		l->len[err] = st.st_size;
		/* Cut short in an earlier life: it stays stopped. */
		l->failed[err] = (st.st_mode & S_IWUSR) == 0;
	}
	closedir(d);
}

/*
 * --output-dir DIR: made (0700) if missing; refused unless it is a
 * directory of the daemon's user that others cannot write to.  The
 * files of jobs the daemon does not know are removed.
 */
int
joblog_init(const char *dir, char **cause)
{
	struct stat	 st;
	int		 fd;

	if (dir == NULL)
		return (0);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		xasprintf(cause, "--output-dir %s: %s", dir, strerror(errno));
		return (-1);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		xasprintf(cause, "--output-dir %s: %s", dir, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		xasprintf(cause, "--output-dir %s: %s", dir, strerror(errno));
		close(fd);
		return (-1);
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		xasprintf(cause, "--output-dir %s: not the daemon's own "
		    "(owned by uid %lu, mode %03o): others could change the "
		    "logs", dir, (unsigned long)st.st_uid,
		    (unsigned)(st.st_mode & 0777));
		close(fd);
		return (-1);
	}
	joblog_dirfd = fd;
	free(joblog_dir);
	joblog_dir = xstrdup(dir);
	joblog_sweep();
	return (0);
}

void
joblog_shutdown(void)
{
	struct joblog	*l;

	while ((l = TAILQ_FIRST(&joblog_open)) != NULL)
		joblog_close_fds(l);
	if (joblog_dirfd != -1)
		close(joblog_dirfd);
	joblog_dirfd = -1;
	free(joblog_dir);
	joblog_dir = NULL;
}
