/*
 * libfutured: a worker's one-shot form (futured-workers(7), One-shot
 * workers).  Started with $FUTURED_ONESHOT naming a file that holds one
 * Task, a worker connects to no daemon: fut_worker_new() makes it with a
 * client that never had a connection, fut_worker_next() hands out that
 * one Task, the task's output and stderr are kept here, and finishing it
 * writes one final TaskUpdate to $FUTURED_ONESHOT_RESULT (a temporary
 * name, then rename(2), so that a reader never sees half of it).  After
 * that, fut_worker_next() says FUT_ESHUTDOWN: no more tasks will come.
 * It is how the Slurm engine runs a supervised pool's command on a node
 * for one job (daemon/oneshot.c); the worker's code is the same.
 *
 * Progress goes nowhere and no cancel arrives: cancel and timeout are a
 * signal to the process (scancel), whose outcome is no longer wanted.
 * Everything is under the client's lock, as in worker.c.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "putfile.h"

/* A Task file larger than this is no Task (the daemon's frames are less). */
#define ONESHOT_TASK_MAX	(1U << 30)
/* Of the output, and of stderr's tail, kept: as futured --run-once. */
#define ONESHOT_OUTPUT_MAX	(32U * 1024 * 1024)
#define ONESHOT_STDERR_MAX	(64U * 1024)

struct worker_oneshot *
worker_oneshot_new(const char *task, const char *result)
{
	struct worker_oneshot	*os;

	if ((os = calloc(1, sizeof(*os))) == NULL)
		return (NULL);
	os->task_path = strdup(task);
	os->result_path = result != NULL && *result != '\0' ?
	    strdup(result) : NULL;
	if (os->task_path == NULL || (result != NULL && *result != '\0' &&
	    os->result_path == NULL)) {
		worker_oneshot_free(os);
		return (NULL);
	}
	os->out.max = ONESHOT_OUTPUT_MAX;
	os->err.max = ONESHOT_STDERR_MAX;
	return (os);
}

void
worker_oneshot_free(struct worker_oneshot *os)
{
	if (os == NULL)
		return;
	free(os->task_path);
	free(os->result_path);
	buf_reset(&os->out);
	buf_reset(&os->err);
	free(os);
}

/* The one-shot is over with rc (< 0: no outcome, the error said). */
static int
worker_oneshot_over_locked(struct fut_worker *w, int rc)
{
	w->oneshot->over = 1;
	w->oneshot->rc = rc;
	pthread_cond_broadcast(&w->c->cond);
	return (rc);
}

/* The whole Task file, unpacked; NULL with the error set. */
static Futured__Task *
worker_oneshot_read_locked(struct fut_worker *w)
{
	struct worker_oneshot	*os = w->oneshot;
	Futured__Task		*t = NULL;
	struct stat		 st;
	uint8_t			*data = NULL;
	size_t			 got = 0;
	ssize_t			 n;
	int			 fd;

	if ((fd = open(os->task_path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		client_seterr_locked(w->c, FUT_ECONN, "%s: %s", os->task_path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ONESHOT_TASK_MAX) {
		client_seterr_locked(w->c, FUT_ECONN, "%s: not a Task file",
		    os->task_path);
		goto out;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		client_seterr_locked(w->c, FUT_ENOMEM, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		if ((n = read(fd, data + got, (size_t)st.st_size - got)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	if ((t = futured__task__unpack(NULL, got, data)) == NULL ||
	    t->handler == NULL)
		client_seterr_locked(w->c, FUT_ECONN, "%s: not a Task",
		    os->task_path);
	if (t != NULL && t->handler == NULL) {
		futured__task__free_unpacked(t, NULL);
		t = NULL;
	}
out:
	if (fd != -1)
		close(fd);
	free(data);
	return (t);
}

/* The outcome u, whole, into the result file: 0, or < 0 said. */
static int
worker_oneshot_write_locked(struct fut_worker *w, Futured__TaskUpdate *u)
{
	struct worker_oneshot	*os = w->oneshot;
	const char		*failed;
	char			*tmp = NULL;
	uint8_t			*buf;
	size_t			 len;
	int			 rc = 0;

	len = futured__task_update__get_packed_size(u);
	if ((buf = malloc(len > 0 ? len : 1)) == NULL ||
	    asprintf(&tmp, "%s.tmp", os->result_path) == -1) {
		free(buf);
		return (client_seterr_locked(w->c, FUT_ENOMEM,
		    "out of memory"));
	}
	futured__task_update__pack(u, buf);
	if (putfile(os->result_path, tmp, buf, len, &failed) == -1)
		rc = client_seterr_locked(w->c, FUT_ECONN, "%s: %s", failed,
		    strerror(errno));
	free(tmp);
	free(buf);
	return (rc);
}

/* Is name one of w's handlers? */
static int
worker_oneshot_serves(const struct fut_worker *w, const char *name)
{
	size_t	 i;

	for (i = 0; i < w->nhandlers; i++)
		if (strcmp(w->handlers[i].name, name) == 0)
			return (1);
	return (0);
}

/* Hand out the Task of the file: 1, or < 0 with no task and no outcome. */
static int
worker_oneshot_take_locked(struct fut_worker *w, struct fut_task **out)
{
	struct worker_oneshot	*os = w->oneshot;
	Futured__TaskUpdate	 u = FUTURED__TASK_UPDATE__INIT;
	Futured__Task		*pt;
	struct fut_task		*t;
	char			 msg[300];

	if (os->result_path == NULL)
		return (worker_oneshot_over_locked(w, client_seterr_locked(w->c,
		    FUT_ECONN, "$FUTURED_ONESHOT_RESULT is not set: the "
		    "one-shot's outcome has nowhere to go")));
	if ((pt = worker_oneshot_read_locked(w)) == NULL)
		return (worker_oneshot_over_locked(w, w->c->errcode));
	if (!worker_oneshot_serves(w, pt->handler)) {
		/* The daemon's mistake, or the pool's: the job says so. */
		snprintf(msg, sizeof(msg), "handler %s is not one of this "
		    "one-shot worker's", pt->handler);
		u.job_id = pt->job_id;
		u.attempt = pt->attempt;
		u.has_done = u.has_ok = 1;
		u.done = 1;
		u.error = msg;
		futured__task__free_unpacked(pt, NULL);
		if (worker_oneshot_write_locked(w, &u) != 0)
			return (worker_oneshot_over_locked(w, w->c->errcode));
		worker_oneshot_over_locked(w, 0);
		return (client_seterr_locked(w->c, FUT_ESHUTDOWN, "%s", msg));
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		futured__task__free_unpacked(pt, NULL);
		return (worker_oneshot_over_locked(w, client_seterr_locked(w->c,
		    FUT_ENOMEM, "out of memory")));
	}
	t->t = pt;			/* t->r NULL: t owns pt */
	t->w = w;
	t->refs = 1;
	w->refs++;
	*out = t;
	return (1);
}

/*
 * fut_worker_next() of a one-shot (deadline in monotonic ms, -1: none):
 * its Task the first time; then, once the task is finished, the end.
 */
int
worker_oneshot_next_locked(struct fut_worker *w, int64_t deadline,
    struct fut_task **out)
{
	struct worker_oneshot	*os = w->oneshot;
	struct timespec		 ts;
	int64_t			 now;

	if (!os->given) {
		os->given = 1;
		return (worker_oneshot_take_locked(w, out));
	}
	while (!os->over) {
		if (deadline < 0) {
			pthread_cond_wait(&w->c->cond, &w->c->lock);
			continue;
		}
		if ((now = client_mono_ms()) >= deadline)
			return (0);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (deadline - now) / 1000;
		ts.tv_nsec += ((deadline - now) % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w->c->cond, &w->c->lock, &ts);
	}
	if (os->rc < 0)
		return (client_seterr_wait_locked(w->c, os->rc));
	return (client_seterr_locked(w->c, FUT_ESHUTDOWN, "one-shot: its "
	    "task is done and its outcome in %s", os->result_path));
}

/* Output or stderr (err) of a one-shot's task, kept for the outcome. */
int
worker_oneshot_data_locked(struct fut_task *t, const void *data, size_t len,
    int err)
{
	struct worker_oneshot	*os = t->w->oneshot;
	int			 rc;

	if (os->over)
		return (0);
	rc = err ? buf_append_tail(&os->err, data, len) :
	    buf_append(&os->out, data, len);
	if (rc == -1)
		return (client_seterr_locked(t->w->c, FUT_ENOMEM,
		    "out of memory"));
	return (0);
}

/*
 * The task is finished: its outcome u (ok, error...; the last output,
 * data, len, with it) into the result file.  The caller frees t.
 */
int
worker_oneshot_finish_locked(struct fut_task *t, const void *data,
    size_t len, const Futured__TaskUpdate *u)
{
	struct fut_worker	*w = t->w;
	struct worker_oneshot	*os = w->oneshot;
	Futured__TaskUpdate	 fin;
	int			 rc;

	if (os->over)
		return (0);
	if ((rc = worker_oneshot_data_locked(t, data, len, 0)) != 0)
		return (worker_oneshot_over_locked(w, rc));
	fin = *u;
	fin.job_id = t->t->job_id;
	fin.attempt = t->t->attempt;
	fin.has_done = 1;
	fin.done = 1;
	if (os->out.len > 0) {
		fin.has_output = 1;
		fin.output.data = os->out.data;
		fin.output.len = os->out.len;
	}
	if (os->err.len > 0) {
		fin.has_stderr = 1;
		fin.stderr.data = os->err.data;
		fin.stderr.len = os->err.len;
	}
	return (worker_oneshot_over_locked(w,
	    worker_oneshot_write_locked(w, &fin)));
}
