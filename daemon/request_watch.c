/*
 * What a connection is told unasked: the completion a submit asked for
 * (through the connection's sink), the completions of jobs it subscribed
 * to, and the events of a watch.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "request.h"
#include "log.h"
#include "xmalloc.h"

/*
 * A submit that asks for its completion costs the job 8 bytes (the
 * connection's id in j->notify), not a pending and a waiter: a million
 * queued jobs must fit.  The connection has one sink, found by its id
 * when a job ends; a connection gone by then has no sink, and the
 * completion is dropped.
 */
#define REQUEST_SINK_BUCKETS	256
static LIST_HEAD(, pending) request_sinks[REQUEST_SINK_BUCKETS];


/* Push a final job's completion event to c. */
void
request_event(struct conn *c, struct job *j, int brief)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__JobEvent	 ev = FUTURED__JOB_EVENT__INIT;
	Futured__JobInfo	 info;

	if (brief)
		request_jobinfo_brief(j, &info);
	else
		request_jobinfo(j, 1, &info);
	ev.job = &info;
	resp.id = 0;
	resp.body_case = FUTURED__RESPONSE__BODY_EVENT;
	resp.event = &ev;
	request_send(c, &resp);
	request_jobinfo_clear(&info);
}

static void
request_notify_cb(struct waiter *w, struct job *first, int timed_out,
    void *arg)
{
	struct pending	*p = arg;

	request_event(p->conn, first, p->brief);
	request_pending_free(p);
}

/* The connection's sink, made on its first submit that wants one. */
void
request_sink(struct conn *c)
{
	struct pending	*p;
	u_int		 b = c->id % REQUEST_SINK_BUCKETS;

	LIST_FOREACH(p, &request_sinks[b], sentry) {
		if (p->conn == c)
			return;
	}
	p = request_pending_new(c, 0, PENDING_SINK);
	LIST_INSERT_HEAD(&request_sinks[b], p, sentry);
}

/* sched.c: a job with j->notify set is final. */
void
request_job_final(struct job *j)
{
	struct pending	*p;
	uint64_t	 id = j->notify;

	j->notify = 0;
	LIST_FOREACH(p, &request_sinks[id % REQUEST_SINK_BUCKETS], sentry) {
		if (p->conn->id == id) {
			request_event(p->conn, j,
			    (j->flags & JOBF_NOTIFY_BRIEF) != 0);
			return;
		}
	}
}

static void
request_sinks_shutdown_cb(struct job *j, void *arg)
{
	struct pending	*p;
	uint64_t	 id = j->notify;

	if (id == 0 || (j->state != JOB_WAITING && j->state != JOB_QUEUED))
		return;
	j->notify = 0;
	LIST_FOREACH(p, &request_sinks[id % REQUEST_SINK_BUCKETS], sentry) {
		if (p->conn->id == id) {
			p->shutdown = 1;
			return;
		}
	}
}

/*
 * Stopping, the journal keeping the jobs that have not started: their
 * completions will not come from this daemon.  Mark the sinks that wait
 * for one (request_shutdown() closes them) and forget the jobs' notify.
 */
void
request_sinks_shutdown(void)
{
	sched_foreach(request_sinks_shutdown_cb, NULL);
}

/* Subscribe ------------------------------------------------------------ */

void
request_subscribe(struct conn *c, uint64_t reqid,
    const Futured__SubscribeRequest *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__SubscribeReply	 r = FUTURED__SUBSCRIBE_REPLY__INIT;
	struct pending		*p;
	struct job		**jobs;
	size_t			 i, n;

	if (request_ids_check(c, reqid, "subscribe to", req->ids,
	    req->n_ids) == -1)
		return;
	n = req->n_ids;
	jobs = xcalloc(n, sizeof(*jobs));
	for (i = 0; i < n; i++)
		jobs[i] = request_find(c, req->ids[i]);
	if (request_refuse_unstarted(c, reqid, jobs, n) == -1) {
		free(jobs);
		return;
	}
	r.n_ids = n;
	r.ids = req->ids;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_SUBSCRIBE;
	resp.subscribe = &r;
	request_send(c, &resp);
	for (i = 0; i < n; i++) {
		p = request_pending_new(c, 0, PENDING_NOTIFY);
		p->brief = req->has_brief && req->brief;
		request_park(p, &jobs[i], 1, 0, -1, request_notify_cb);
	}
	free(jobs);
}


/*
 * Tell the watcher what changed; 0 if there was nothing to say.  The
 * job's output is where its pool puts it as it comes, in the job.
 */
static int
request_watch_send(struct pending *p, int final)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__WatchEvent	 ev = FUTURED__WATCH_EVENT__INIT;
	Futured__JobInfo	 info;
	struct job		*j = p->job;
	const struct buf	*out = NULL;
	int			 news;

	request_jobinfo(j, 0, &info);
	news = final || j->state != p->last_state ||
	    (info.has_progress && info.progress != p->last_progress) ||
	    (j->more->progress_msg != NULL && (p->last_msg == NULL ||
	    strcmp(j->more->progress_msg, p->last_msg) != 0));
	out = p->progress_only ? NULL : &j->more->output;
	/* A retry starts its output afresh. */
	if (out != NULL && out->len < p->out_sent)
		p->out_sent = 0;
	if (out != NULL && out->len > p->out_sent) {
		ev.has_output = 1;
		ev.output.data = out->data + p->out_sent;
		ev.output.len = out->len - p->out_sent;
		news = 1;
	}
	/* The stderr tail is kept only whole: it comes at the end. */
	if (final)
		request_jobinfo_stderr(j, &info);
	if (news) {
		ev.job = &info;
		ev.final = final;
		resp.id = p->reqid;
		resp.body_case = FUTURED__RESPONSE__BODY_WATCH;
		resp.watch = &ev;
		request_send(p->conn, &resp);
		if (ev.has_output)
			p->out_sent += ev.output.len;
		p->last_state = j->state;
		p->last_progress = info.has_progress ? info.progress : 0;
		if (j->more->progress_msg != NULL && (p->last_msg == NULL ||
		    strcmp(j->more->progress_msg, p->last_msg) != 0)) {
			free(p->last_msg);
			p->last_msg = xstrdup(j->more->progress_msg);
		}
	}
	request_jobinfo_clear(&info);
	return (news);
}

/* The news of one loop turn, told in one event. */
static void
request_watch_push_cb(evutil_socket_t fd, short events, void *arg)
{
	request_watch_send(arg, 0);
}

/* sched.c: the job's state, progress or output changed. */
static void
request_watch_news_cb(struct waiter *w, struct job *j, void *arg)
{
	struct pending	*p = arg;

	event_active(p->news, 0, 0);
}

static void
request_watch_final_cb(struct waiter *w, struct job *first, int timed_out,
    void *arg)
{
	struct pending	*p = arg;

	request_watch_send(p, 1);
	request_pending_free(p);
}

/*
 * Follow a job until it is final.  Its pool tells of changes of state,
 * progress and output as they happen (job_news), and they are pushed
 * once per loop turn however many came; the end is told at once.
 */
void
request_watch(struct conn *c, uint64_t reqid, const Futured__WatchRequest *req)
{
	struct pending	*p;
	struct job	*j;

	if (request_not_found(c, reqid, &req->id, 1) == -1)
		return;
	j = request_find(c, req->id);
	if (request_refuse_unstarted(c, reqid, &j, 1) == -1)
		return;
	p = request_pending_new(c, reqid, PENDING_WATCH);
	p->job = j;
	job_ref(j);
	p->progress_only = req->has_progress_only && req->progress_only;
	p->last_state = (enum job_state)-1;
	if (JOB_FINAL(j->state)) {
		request_watch_send(p, 1);
		request_pending_free(p);
		return;
	}
	request_watch_send(p, 0);
	if ((p->news = event_new(base, -1, 0, request_watch_push_cb,
	    p)) == NULL)
		fatalx("%s: event_new", __func__);
	request_park(p, &j, 1, 0, -1, request_watch_final_cb);
	sched_wait_news(p->waiter, request_watch_news_cb);
}

void
request_watch_init(void)
{
	u_int	 i;

	for (i = 0; i < REQUEST_SINK_BUCKETS; i++)
		LIST_INIT(&request_sinks[i]);
	sched_set_final_hook(request_job_final);
}
