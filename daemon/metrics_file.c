/*
 * --metrics-textfile PATH: the metrics rewritten every --metrics-interval
 * for node_exporter's textfile collector (which reads *.prom files of
 * its directory).  Each time the whole text goes to a new file beside
 * PATH, ".NAME.XXXXXX", which rename(2) then puts in PATH's place, so a
 * reader sees the old file or the new one, never a part.
 *
 * No fsync: the file says how things are now, and the next interval
 * replaces it; after a crash a stale or empty file is harmless, while
 * an fsync every interval would cost every disk it shares.  The file is
 * made readable by all (0644), as node_exporter may run as another user
 * and the metrics name no user or job.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

static char		*metrics_file_path;
static char		*metrics_file_tmpl;	/* for mkostemp */
static struct event	*metrics_file_ev;
static int		 metrics_file_failing;

/* Write the metrics to the file now; -1 and *cause (caller frees). */
int
metrics_file_write(char **cause)
{
	struct evbuffer	*b;
	char		*tmp;
	int		 fd, error = 0;
	const char	*op = NULL;

	tmp = xstrdup(metrics_file_tmpl);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		error = errno;
		xasprintf(cause, "%s: cannot create a file beside it: %s",
		    metrics_file_path, strerror(error));
		free(tmp);
		return (-1);
	}
	if ((b = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	metrics_render(b);
	if (fchmod(fd, 0644) == -1)
		op = "fchmod";
	while (op == NULL && evbuffer_get_length(b) > 0) {
		if (evbuffer_write(b, fd) == -1 && errno != EINTR)
			op = "write";
	}
	if (op != NULL)
		error = errno;
	evbuffer_free(b);
	if (close(fd) == -1 && op == NULL) {
		op = "close";
		error = errno;
	}
	if (op == NULL && rename(tmp, metrics_file_path) == -1) {
		op = "rename";
		error = errno;
	}
	if (op != NULL) {
		if (strcmp(op, "rename") == 0)
			xasprintf(cause, "rename to %s: %s", metrics_file_path,
			    strerror(error));
		else
			xasprintf(cause, "%s %s: %s", op, tmp, strerror(error));
		(void)unlink(tmp);
		free(tmp);
		return (-1);
	}
	free(tmp);
	return (0);
}

/* A failure is told once, and so is the recovery: not every interval. */
static void
metrics_file_cb(evutil_socket_t fd, short events, void *arg)
{
	char	*cause;

	if (metrics_file_write(&cause) == -1) {
		if (!metrics_file_failing)
			log_warnx("metrics textfile: %s (trying again every "
			    "interval)", cause);
		metrics_file_failing = 1;
		free(cause);
		return;
	}
	if (metrics_file_failing)
		log_info("metrics textfile: %s written again",
		    metrics_file_path);
	metrics_file_failing = 0;
}

/*
 * Write path now, and every interval_ms.  A first write that fails
 * stops the start, with *cause: a typo in the path is found at once.
 */
int
metrics_file_init(const char *path, int64_t interval_ms, char **cause)
{
	const char	*slash;
	char		*why;

	slash = strrchr(path, '/');
	if (slash == NULL || slash[1] == '\0') {
		xasprintf(cause, "--metrics-textfile %s: not a file path", path);
		return (-1);
	}
	metrics_file_path = xstrdup(path);
	xasprintf(&metrics_file_tmpl, "%.*s/.%s.XXXXXX", (int)(slash - path),
	    path, slash + 1);
	if (metrics_file_write(&why) == -1) {
		xasprintf(cause, "--metrics-textfile: %s", why);
		free(why);
		metrics_file_shutdown();
		return (-1);
	}
	if ((metrics_file_ev = event_new(base, -1, EV_PERSIST, metrics_file_cb,
	    NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	timer_add_ms(metrics_file_ev, interval_ms);
	log_info("metrics: %s, every %lld ms", path, (long long)interval_ms);
	return (0);
}

void
metrics_file_shutdown(void)
{
	if (metrics_file_ev != NULL)
		event_free(metrics_file_ev);
	metrics_file_ev = NULL;
	free(metrics_file_path);
	free(metrics_file_tmpl);
	metrics_file_path = metrics_file_tmpl = NULL;
	metrics_file_failing = 0;
}
