/*
 * Logs: a job's whole log (joblog.c) read one bounded answer at a time,
 * from the file, so that neither the daemon nor the client holds more
 * than one answer's bytes of a log however long it is.  A follow that
 * finds nothing new parks behind a waiter on the job and is answered
 * from the loop's next turn after the job writes (so that what the job
 * writes in one turn goes in one answer) or at once when it ends.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "request.h"
#include "log.h"
#include "xmalloc.h"

#define REQUEST_LOGS_MAX	(1024 * 1024)	/* bytes in one answer */

/*
 * Answer with the log from off, at most max bytes: 1.  0: nothing to
 * say yet (follow, the job not final, nothing past off), no answer.
 */
static int
request_logs_send(struct conn *c, uint64_t reqid, struct job *j, int err,
    uint64_t off, size_t max, int follow)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__LogsReply	 r = FUTURED__LOGS_REPLY__INIT;
	uint8_t			*buf;
	uint64_t		 size;
	ssize_t			 n;
	int			 final = JOB_FINAL(j->state), truncated;

	/* No more than the file holds: a short log costs a short buffer. */
	size = joblog_size(j, err);
	if (off >= size)
		max = 0;
	else if (size - off < max)
		max = size - off;
	buf = xmalloc(max > 0 ? max : 1);
	if ((n = joblog_read(j, err, off, buf, max, &truncated)) == -1) {
		request_error(c, reqid, FERR_INTERNAL, "job %llu: cannot read "
		    "its log in %s: %s", (unsigned long long)j->id,
		    joblog_path(), strerror(errno));
		free(buf);
		return (1);
	}
	if (n == 0 && follow && !final) {
		free(buf);
		return (0);
	}
	r.data.data = buf;
	r.data.len = n;
	/* Short of the size: the file lost its end (removed, say). */
	r.eof = final && (off + n >= size || (size_t)n < max);
	if (truncated) {
		r.has_truncated = 1;
		r.truncated = 1;
	}
	r.state = request_state_out(j->state);
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_LOGS;
	resp.logs = &r;
	request_send(c, &resp);
	free(buf);
	return (1);
}

/* The job wrote: answer from the next turn, once for all it writes. */
static void
request_logs_news(struct waiter *w, struct job *j, void *arg)
{
	struct pending	*p = arg;

	event_active(p->news, 0, 0);
}

static void
request_logs_news_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pending	*p = arg;

	if (p->waiter == NULL)
		return;
	if (request_logs_send(p->conn, p->reqid, p->job, p->log_err,
	    p->log_off, p->log_max, 1) == 0)
		return;
	sched_wait_free(p->waiter);
	request_pending_free(p);
}

/* The job ended: what is left of its log, and eof if it all fits. */
static void
request_logs_final_cb(struct waiter *w, struct job *first, int timed_out,
    void *arg)
{
	struct pending	*p = arg;

	p->waiter = NULL;
	(void)request_logs_send(p->conn, p->reqid, p->job, p->log_err,
	    p->log_off, p->log_max, 1);
	request_pending_free(p);
}

void
request_logs(struct conn *c, uint64_t reqid, const Futured__LogsRequest *req)
{
	struct pending	*p;
	struct job	*j;
	size_t		 max;
	int		 err, follow;

	if (!joblog_enabled()) {
		request_error(c, reqid, FERR_INVALID, "futured keeps no logs: "
		    "it runs without --output-dir (output-dir in "
		    "futured.conf)");
		return;
	}
	if (request_not_found(c, reqid, &req->id, 1) == -1)
		return;
	j = request_find(c, req->id);
	max = req->has_max_bytes && req->max_bytes > 0 &&
	    req->max_bytes < REQUEST_LOGS_MAX ? req->max_bytes :
	    REQUEST_LOGS_MAX;
	err = req->has_stderr && req->stderr;
	follow = req->has_follow && req->follow;
	if (request_logs_send(c, reqid, j, err, req->offset, max, follow))
		return;
	if (request_refuse_unstarted(c, reqid, &j, 1) == -1)
		return;
	p = request_pending_new(c, reqid, PENDING_LOGS);
	p->job = j;
	job_ref(j);
	p->log_off = req->offset;
	p->log_max = max;
	p->log_err = err;
	p->news = event_new(base, -1, 0, request_logs_news_cb, p);
	/* Not final (or it would have been answered): it parks. */
	request_park(p, &j, 1, 0, -1, request_logs_final_cb);
	sched_wait_news(p->waiter, request_logs_news);
}
