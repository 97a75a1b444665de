/*
 * Per-job cgroups: where the daemon has a cgroup v2 hierarchy delegated
 * to it (systemd's Delegate=yes: its own cgroup, not the hierarchy's
 * root, writable), every command runs in a cgroup of its own job,
 *
 *	<own cgroup>/futured-<hash of the socket path>/job-<id>
 *
 * so that cancel reaches a process that left the command's process
 * group (setsid) through cgroup.kill, and a restarted daemon finds what
 * the previous one left running.  Elsewhere commands keep their process
 * group alone.  Which one is used is logged at start.
 *
 * The daemon never moves itself: it enables no controller, so its own
 * cgroup may hold processes and children both.  A command joins its
 * cgroup before it executes anything (the --exec-in trampoline, see
 * execas.c, writes 0 to cgroup.procs), so nothing it forks can be left
 * outside.  The directory is named after the socket path so that two
 * daemons in one cgroup never share it, and the same daemon restarted
 * finds its own: once the socket is ours (server_listen() refused a
 * second daemon), every job-* left there belongs to a job the replay
 * has failed or queued again, and is killed and removed.
 *
 * A job's cgroup is removed when its job ends; one still populated (a
 * killed process not yet gone, or a daemonised grandchild of a command
 * that succeeded) is retried every CGROUP_SWEEP_MS while there is one.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

#define CGROUP_PENDING_MAX	1024
#define CGROUP_SWEEP_MS		200

static char	*cgroup_base;		/* NULL: process groups only */
static char	*cgroup_pending[CGROUP_PENDING_MAX];	/* to remove */
static size_t	 cgroup_npending;
static int	 cgroup_warned;
static struct event *cgroup_sweep_ev;

/* The mount point of the cgroup2 hierarchy, or NULL. */
static void	cgroup_sweep_cb(evutil_socket_t, short, void *);

static char *
cgroup_mount(void)
{
	FILE	*f;
	char	*line = NULL, *mnt = NULL, *p, *fields[5], *sep;
	size_t	 size = 0;
	int	 i;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return (NULL);
	while (mnt == NULL && getline(&line, &size, f) != -1) {
		/* id parent dev root mountpoint ... - fstype source opts */
		if ((sep = strstr(line, " - ")) == NULL ||
		    strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		p = line;
		for (i = 0; i < 5; i++)
			fields[i] = strsep(&p, " ");
		if (fields[4] == NULL || strcmp(fields[3], "/") != 0 ||
		    strchr(fields[4], '\\') != NULL)	/* octal escapes */
			continue;
		mnt = xstrdup(fields[4]);
	}
	free(line);
	fclose(f);
	return (mnt);
}

/* Our cgroup v2 path ("0::/a/b"), or NULL. */
static char *
cgroup_self(void)
{
	FILE	*f;
	char	*line = NULL, *path = NULL;
	size_t	 size = 0;
	ssize_t	 n;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return (NULL);
	while (path == NULL && (n = getline(&line, &size, f)) != -1) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		path = xstrdup(line + 3);
	}
	free(line);
	fclose(f);
	return (path);
}

/* FNV-1a: a short, stable name for this daemon's socket. */
static uint64_t
cgroup_hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (h);
}

static int
cgroup_write(const char *dir, const char *file, const char *value)
{
	char	 path[PATH_MAX];
	int	 fd, rv = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path))
		return (-1);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	if (write(fd, value, strlen(value)) == -1)
		rv = -1;
	close(fd);
	return (rv);
}

/* Kill what the previous daemon on this socket left in its cgroups. */
static void
cgroup_reap_previous(void)
{
	DIR		*d;
	struct dirent	*de;
	char		*dir;
	u_int		 n = 0;

	if ((d = opendir(cgroup_base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "job-", 4) != 0)
			continue;
		xasprintf(&dir, "%s/%s", cgroup_base, de->d_name);
		if (cgroup_write(dir, "cgroup.kill", "1") == -1)
			log_warn("%s: %s/cgroup.kill", __func__, dir);
		n++;
		cgroup_job_free(dir);
	}
	closedir(d);
	if (n > 0)
		log_info("cgroup: killed the processes of %u jobs left by "
		    "the previous daemon", n);
}

/*
 * Choose per-job cgroups or process groups; after server_listen(), so
 * that the socket, and the directory named after it, are ours.
 */
void
cgroup_init(const char *socket_path)
{
	char	*mnt = NULL, *self = NULL, *own = NULL, *procs = NULL;
	char	*kill = NULL;
	const char *why = NULL;

	if ((mnt = cgroup_mount()) == NULL)
		why = "no cgroup2 hierarchy";
	else if ((self = cgroup_self()) == NULL)
		why = "no cgroup2 line in /proc/self/cgroup";
	else if (strcmp(self, "/") == 0)
		why = "in the hierarchy's root cgroup: none delegated";
	if (why == NULL) {
		xasprintf(&own, "%s%s", mnt, self);
		xasprintf(&procs, "%s/cgroup.procs", own);
		xasprintf(&kill, "%s/cgroup.kill", own);
		if (access(procs, W_OK) == -1)
			why = "own cgroup not writable";
		else if (access(kill, F_OK) == -1)
			why = "no cgroup.kill (Linux 5.14 or later)";
	}
	if (why == NULL) {
		xasprintf(&cgroup_base, "%s/futured-%016llx", own,
		    (unsigned long long)cgroup_hash(socket_path));
		if (mkdir(cgroup_base, 0755) == -1 && errno != EEXIST) {
			why = "cannot create a cgroup";
			free(cgroup_base);
			cgroup_base = NULL;
		}
	}
	if (cgroup_base != NULL) {
		log_info("commands run in per-job cgroups under %s",
		    cgroup_base);
		cgroup_reap_previous();
	} else
		log_info("commands run in process groups (%s)", why);
	free(mnt);
	free(self);
	free(own);
	free(procs);
	free(kill);
}

/* The directory commands' cgroups go in, or NULL. */
const char *
cgroup_dir(void)
{
	return (cgroup_base);
}

/* Try again to remove the cgroups that were still populated. */
static void
cgroup_sweep(void)
{
	struct timeval	 tv;
	size_t		 i = 0;

	while (i < cgroup_npending) {
		if (rmdir(cgroup_pending[i]) == -1 && errno == EBUSY) {
			i++;
			continue;
		}
		free(cgroup_pending[i]);
		cgroup_pending[i] = cgroup_pending[--cgroup_npending];
	}
	if (cgroup_npending == 0 || base == NULL)
		return;
	if (cgroup_sweep_ev == NULL &&
	    (cgroup_sweep_ev = evtimer_new(base, cgroup_sweep_cb, NULL)) ==
	    NULL)
		return;
	if (!evtimer_pending(cgroup_sweep_ev, NULL)) {
		tv.tv_sec = 0;
		tv.tv_usec = CGROUP_SWEEP_MS * 1000;
		evtimer_add(cgroup_sweep_ev, &tv);
	}
}

static void
cgroup_sweep_cb(evutil_socket_t fd, short events, void *arg)
{
	cgroup_sweep();
}

/*
 * A new cgroup for job id, or NULL (the command keeps its process group
 * alone).  The caller frees it with cgroup_job_free().
 */
char *
cgroup_job_new(uint64_t id)
{
	char	*dir;

	if (cgroup_base == NULL)
		return (NULL);
	cgroup_sweep();
	xasprintf(&dir, "%s/job-%llu", cgroup_base, (unsigned long long)id);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		if (!cgroup_warned)
			log_warn("%s: mkdir %s", __func__, dir);
		cgroup_warned = 1;
		free(dir);
		return (NULL);
	}
	return (dir);
}

/* SIGKILL to every process of the cgroup, wherever it went. */
int
cgroup_job_kill(const char *dir)
{
	return (cgroup_write(dir, "cgroup.kill", "1"));
}

/* Remove the cgroup, now or once its last process is gone; frees dir. */
void
cgroup_job_free(char *dir)
{
	if (dir == NULL)
		return;
	if (rmdir(dir) == 0 || errno != EBUSY ||
	    cgroup_npending == CGROUP_PENDING_MAX) {
		free(dir);
		return;
	}
	cgroup_pending[cgroup_npending++] = dir;
	cgroup_sweep();
}

/* At exit: what can go goes (the commands were killed). */
void
cgroup_shutdown(void)
{
	if (cgroup_sweep_ev != NULL)
		event_free(cgroup_sweep_ev);
	cgroup_sweep_ev = NULL;
	while (cgroup_npending > 0) {
		(void)rmdir(cgroup_pending[--cgroup_npending]);
		free(cgroup_pending[cgroup_npending]);
	}
	if (cgroup_base != NULL)
		(void)rmdir(cgroup_base);
	free(cgroup_base);
	cgroup_base = NULL;
}
