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

/* The sink of connection id, if it is still there. */
static struct pending *
request_sink_find(uint64_t id)
{
	struct pending	*p;

	LIST_FOREACH(p, &request_sinks[id % REQUEST_SINK_BUCKETS], sentry) {
		if (p->conn->id == id)
			return (p);
	}
	return (NULL);
}

/* sched.c: a job with j->notify set is final. */
void
request_job_final(struct job *j)
{
	struct pending	*p;
	uint64_t	 id = j->notify;

	j->notify = 0;
	if ((p = request_sink_find(id)) != NULL)
		request_event(p->conn, j, (j->flags & JOBF_NOTIFY_BRIEF) != 0);
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

/* News ----------------------------------------------------------------- */

/*
 * A submitter or subscriber that asked for news (SubmitRequest.news,
 * SubscribeRequest.news) is told of its jobs' state and progress once
 * per loop turn, at the turn's flush, in one JobNews per connection.
 * What a turn has to say is a list of (connection, job reference),
 * listed once (a submitted job is flagged, a subscription marked with
 * the turn): no allocation per job, and a job that ends before the
 * flush is dropped from it, its JobEvent saying all.  So the pipelined
 * job that starts and ends in one turn costs a reference and nothing on
 * the wire.
 */
struct request_news {
	uint64_t		 conn;		/* its id */
	struct job		*job;
};
static struct request_news *request_news_due;
static size_t		  request_news_n, request_news_cap;
static uint64_t		  request_news_turn = 1;
/*
 * About the most bytes one JobNews carries: a turn's news of many jobs
 * with long progress messages goes in several, each well within any
 * client's frame limit (a JobInfo alone may pass it).
 */
#define REQUEST_NEWS_BYTES	(256 * 1024)
static Futured__JobInfo	 *request_news_info;
static Futured__JobInfo	**request_news_infop;
static uint64_t		 *request_news_ids;
static size_t		  request_news_info_cap;

static void
request_news_add(uint64_t conn, struct job *j)
{
	if (request_news_n == request_news_cap) {
		request_news_cap = request_news_cap ? request_news_cap * 2 :
		    256;
		request_news_due = xreallocarray(request_news_due,
		    request_news_cap, sizeof(*request_news_due));
	}
	job_ref(j);
	request_news_due[request_news_n].conn = conn;
	request_news_due[request_news_n++].job = j;
	if (request_news_n == 1)
		server_flush_soon();
}

/* sched.c: a job with JOBF_NEWS changed (state, progress or output). */
static void
request_job_news(struct job *j)
{
	/* Output is a watcher's business, not a future's. */
	if ((j->flags & JOBF_NEWS_DUE) || j->more->fresh != NULL ||
	    j->notify == 0)
		return;
	j->flags |= JOBF_NEWS_DUE;
	request_news_add(j->notify, j);
}

/* The same for a job subscribed to with news (its waiter's news). */
static void
request_subscribe_news_cb(struct waiter *w, struct job *j, void *arg)
{
	struct pending	*p = arg;

	if (p->news_turn == request_news_turn || j->more->fresh != NULL)
		return;
	p->news_turn = request_news_turn;
	request_news_add(p->conn->id, j);
}

static int
request_news_cmp(const void *a, const void *b)
{
	const struct request_news	*na = a, *nb = b;

	if (na->conn != nb->conn)
		return (na->conn < nb->conn ? -1 : 1);
	return (na->job->id < nb->job->id ? -1 : na->job->id > nb->job->id);
}

/* What a JobNews says of j: where it is, and how far. */
static void
request_jobinfo_news(struct job *j, Futured__JobInfo *info)
{
	futured__job_info__init(info);
	info->id = j->id;
	info->state = request_state_out(j->state);
	if (j->more->progress > 0) {
		info->has_progress = 1;
		info->progress = j->more->progress;
	}
	info->progress_msg = j->more->progress_msg;
	if (j->more->started_at != 0) {
		info->has_started_at = 1;
		info->started_at = j->more->started_at;
	}
}

/*
 * The JobNews of the n jobs of one connection, one unless they take
 * REQUEST_NEWS_BYTES (sorted: a job submitted and subscribed to is
 * there twice, told once): a job that started and
 * says nothing more by its id alone (JobNews.running), the others in
 * full: a JobInfo costs a client many times what an id does to decode.
 */
static void
request_news_send(struct conn *c, const struct request_news *due, size_t n)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__JobNews	 news = FUTURED__JOB_NEWS__INIT;
	struct job		*j;
	size_t			 i, ni = 0, nr = 0, bytes = 0;

	if (n > request_news_info_cap) {
		request_news_info_cap = n;
		request_news_info = xreallocarray(request_news_info, n,
		    sizeof(*request_news_info));
		request_news_infop = xreallocarray(request_news_infop, n,
		    sizeof(*request_news_infop));
		request_news_ids = xreallocarray(request_news_ids, n,
		    sizeof(*request_news_ids));
	}
	resp.id = 0;
	resp.body_case = FUTURED__RESPONSE__BODY_NEWS;
	resp.news = &news;
	news.jobs = request_news_infop;
	news.running = request_news_ids;
	for (i = 0; i < n; i++) {
		j = due[i].job;
		if (i > 0 && j == due[i - 1].job)
			continue;
		if (bytes >= REQUEST_NEWS_BYTES) {
			request_send(c, &resp);
			news.jobs += news.n_jobs;
			news.running += news.n_running;
			news.n_jobs = news.n_running = 0;
			bytes = 0;
		}
		if (j->state == JOB_RUNNING && !(j->more->progress > 0) &&
		    j->more->progress_msg == NULL) {
			request_news_ids[nr++] = j->id;
			news.n_running++;
			bytes += 10;
			continue;
		}
		request_jobinfo_news(j, &request_news_info[ni]);
		request_news_infop[ni] = &request_news_info[ni];
		ni++;
		news.n_jobs++;
		bytes += 48 + (j->more->progress_msg != NULL ?
		    strlen(j->more->progress_msg) : 0);
	}
	request_send(c, &resp);
}

/*
 * The turn's news, at its flush (server.c): of the jobs that are not
 * final and whose connection is still there, one JobNews a connection.
 */
void
request_news_flush(void)
{
	struct pending		*p;
	struct request_news	*due = request_news_due;
	struct job		*j;
	size_t			 i, k, n = 0, first;

	if (request_news_n == 0)
		return;
	request_news_turn++;
	for (i = 0; i < request_news_n; i++) {
		j = due[i].job;
		j->flags &= ~JOBF_NEWS_DUE;
		if (JOB_FINAL(j->state))
			job_unref(j);
		else
			due[n++] = due[i];
	}
	if (n > 1)
		qsort(due, n, sizeof(*due), request_news_cmp);
	for (first = 0; first < n; first = k) {
		for (k = first + 1; k < n; k++)
			if (due[k].conn != due[first].conn)
				break;
		if ((p = request_sink_find(due[first].conn)) != NULL)
			request_news_send(p->conn, due + first, k - first);
	}
	for (i = 0; i < n; i++)
		job_unref(due[i].job);
	request_news_n = 0;
}

/*
 * The submit was answered: news from now on.  What the job did before
 * its state in the SubmitReply, its progress, is news already.
 */
void
request_news_start(struct job *j)
{
	j->flags |= JOBF_NEWS;
	if (!JOB_FINAL(j->state) && (j->more->progress > 0 ||
	    j->more->progress_msg != NULL))
		request_job_news(j);
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
	int			 news, final;

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
	news = req->has_news && req->news;
	if (news)
		request_sink(c);	/* where the news finds c */
	for (i = 0; i < n; i++) {
		p = request_pending_new(c, 0, PENDING_NOTIFY);
		p->brief = req->has_brief && req->brief;
		/* A final job is told at once, and p freed. */
		final = JOB_FINAL(jobs[i]->state);
		request_park(p, &jobs[i], 1, 0, -1, request_notify_cb);
		if (news && !final)
			sched_wait_news(p->waiter, request_subscribe_news_cb);
	}
	free(jobs);
}


/* A new attempt writes afresh: the positions start again. */
static void
request_watch_attempt(struct pending *p, struct job *j)
{
	if (j->more->attempts == p->attempt)
		return;
	p->attempt = j->more->attempts;
	p->out_sent = p->err_sent = 0;
	buf_reset(&p->pend);
	buf_reset(&p->errpend);
}

/*
 * The job wrote j->more->fresh.  Keep for the next push what the job
 * does not keep itself (output past its kept start, and stderr, of
 * which it keeps the tail), unless the connection is too far behind:
 * then the bytes are dropped, and the push says how many.  A watcher
 * that reads slowly costs the daemon at most half of --max-unread.
 */
static void
request_watch_take(struct pending *p, struct job *j)
{
	const struct job_more	*m = j->more;
	struct buf		*b;
	uint64_t		 start, end, *bstart;
	size_t			 len;

	request_watch_attempt(p, j);
	if (m->fresh_err) {
		b = &p->errpend;
		bstart = &p->err_start;
		end = m->err_written;
		start = end - m->fresh_len;
	} else {
		b = &p->pend;
		bstart = &p->pend_start;
		end = m->out_written;
		start = end - m->fresh_len;
		/* What is kept is sent from the job. */
		if (start < m->output.len)
			start = m->output.len;
		if (start >= end)
			return;
	}
	len = end - start;
	/* After a gap, drop until the push: pend is one run of bytes. */
	if (b->len > 0 && *bstart + b->len != start)
		return;
	if (server_conn_unread(p->conn) + p->pend.len + p->errpend.len +
	    len > settings.max_unread / 2)
		return;
	if (b->len == 0)
		*bstart = start;
	if (buf_append(b, m->fresh + (m->fresh_len - len), len) == -1)
		fatal("%s: buf_append", __func__);
}

static void
request_watch_emit(struct pending *p, Futured__JobInfo *info, int final,
    const uint8_t *out, size_t outlen, uint64_t out_dropped,
    const uint8_t *err, size_t errlen, uint64_t err_dropped)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__WatchEvent	 ev = FUTURED__WATCH_EVENT__INIT;

	if (outlen > 0) {
		ev.has_output = 1;
		ev.output.data = (uint8_t *)out;
		ev.output.len = outlen;
	}
	if (out_dropped > 0) {
		ev.has_output_dropped = 1;
		ev.output_dropped = out_dropped;
	}
	if (errlen > 0) {
		ev.has_stderr = 1;
		ev.stderr.data = (uint8_t *)err;
		ev.stderr.len = errlen;
	}
	if (err_dropped > 0) {
		ev.has_stderr_dropped = 1;
		ev.stderr_dropped = err_dropped;
	}
	ev.job = info;
	ev.final = final;
	resp.id = p->reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_WATCH;
	resp.watch = &ev;
	request_send(p->conn, &resp);
}

/*
 * Tell the watcher what changed; 0 if there was nothing to say.  Output
 * comes from the job as far as it keeps it, then from what the watcher
 * took as it was written (request_watch_take()).
 */
static int
request_watch_send(struct pending *p, int final)
{
	Futured__JobInfo	 info;
	struct job		*j = p->job;
	const struct job_more	*m = j->more;
	const uint8_t		*out = NULL, *err = NULL;
	size_t			 olen = 0, elen = 0, klen = 0, room, busy;
	uint64_t		 odrop = 0, edrop = 0, total;
	int			 news;

	request_watch_attempt(p, j);
	request_jobinfo(j, 0, &info);
	news = final || j->state != p->last_state ||
	    (info.has_progress && info.progress != p->last_progress) ||
	    (m->progress_msg != NULL && (p->last_msg == NULL ||
	    strcmp(m->progress_msg, p->last_msg) != 0));
	if (!p->progress_only) {
		/*
		 * What the job kept goes within the same budget as what it
		 * did not: a slow reader gets what fits, the rest is told
		 * dropped once later bytes go (or at the end).
		 */
		busy = server_conn_unread(p->conn) + p->pend.len +
		    p->errpend.len;
		room = busy < settings.max_unread / 2 ?
		    settings.max_unread / 2 - busy : 0;
		if (p->out_sent < m->output.len) {
			klen = m->output.len - p->out_sent;
			if (klen > room)
				klen = room;
		}
		/* The limit passed between two pushes: the kept part first. */
		if (klen > 0 && p->pend.len > 0) {
			request_watch_emit(p, &info, 0, m->output.data +
			    p->out_sent, klen, 0, NULL, 0, 0);
			p->out_sent += klen;
			klen = 0;
		}
		if (klen > 0) {
			out = m->output.data + p->out_sent;
			olen = klen;
			p->out_sent += klen;
		} else if (p->pend.len > 0) {
			odrop = p->pend_start - p->out_sent;
			out = p->pend.data;
			olen = p->pend.len;
			p->out_sent = p->pend_start + p->pend.len;
		}
		/* A pool that hands no output on (job_output()) counts none. */
		total = m->out_written > m->output.len ? m->out_written :
		    m->output.len;
		if (final && total > p->out_sent) {
			odrop += total - p->out_sent;
			p->out_sent = total;
		}
		if (!p->err_told) {
			/* Its stderr so far: the tail the job kept. */
			err = m->errtail.data;
			elen = m->errtail.len;
			if (m->err_written > elen)
				edrop = m->err_written - elen;
			p->err_sent = m->err_written;
			p->err_told = 1;
		} else if (p->errpend.len > 0) {
			edrop = p->err_start - p->err_sent;
			err = p->errpend.data;
			elen = p->errpend.len;
			p->err_sent = p->err_start + p->errpend.len;
		}
		if (final && m->err_written > p->err_sent) {
			edrop += m->err_written - p->err_sent;
			p->err_sent = m->err_written;
		}
	}
	/* The stderr tail is kept only whole: it comes at the end. */
	if (final)
		request_jobinfo_stderr(j, &info);
	if (olen > 0 || odrop > 0 || elen > 0 || edrop > 0)
		news = 1;
	if (news) {
		request_watch_emit(p, &info, final, out, olen, odrop, err,
		    elen, edrop);
		p->last_state = j->state;
		p->last_progress = info.has_progress ? info.progress : 0;
		if (m->progress_msg != NULL && (p->last_msg == NULL ||
		    strcmp(m->progress_msg, p->last_msg) != 0)) {
			free(p->last_msg);
			p->last_msg = xstrdup(m->progress_msg);
		}
	}
	buf_reset(&p->pend);
	buf_reset(&p->errpend);
	request_jobinfo_clear(&info);
	return (news);
}

/* The news of one loop turn, told in one event. */
static void
request_watch_push_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pending	*p = arg;

	if (!p->held)
		request_watch_send(p, 0);
}

/* sched.c: the job's state, progress or output changed. */
static void
request_watch_news_cb(struct waiter *w, struct job *j, void *arg)
{
	struct pending	*p = arg;

	if (j->more->fresh != NULL && !p->progress_only)
		request_watch_take(p, j);
	event_active(p->news, 0, 0);
}

static void
request_watch_final_cb(struct waiter *w, struct job *first, int timed_out,
    void *arg)
{
	struct pending	*p = arg;

	if (p->held) {
		/* Told once the submit is answered. */
		p->waiter = NULL;
		p->final_due = 1;
		return;
	}
	request_watch_send(p, 1);
	request_pending_free(p);
}

static struct pending *
request_watch_new(struct conn *c, uint64_t reqid, struct job *j,
    int progress_only)
{
	struct pending	*p;

	p = request_pending_new(c, reqid, PENDING_WATCH);
	p->job = j;
	job_ref(j);
	p->progress_only = progress_only;
	p->last_state = (enum job_state)-1;
	p->attempt = j->more->attempts;
	return (p);
}

/* Park p on its job, told of its news; the job is not final. */
static void
request_watch_follow(struct pending *p)
{
	struct job	*j = p->job;

	if ((p->news = event_new(base, -1, 0, request_watch_push_cb,
	    p)) == NULL)
		fatalx("%s: event_new", __func__);
	request_park(p, &j, 1, 0, -1, request_watch_final_cb);
	if (p->waiter != NULL)
		sched_wait_news(p->waiter, request_watch_news_cb);
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
	p = request_watch_new(c, reqid, j, req->has_progress_only &&
	    req->progress_only);
	if (JOB_FINAL(j->state)) {
		request_watch_send(p, 1);
		request_pending_free(p);
		return;
	}
	request_watch_send(p, 0);
	request_watch_follow(p);
}

/*
 * A submit's watch (SubmitRequest.watch): made as the job is inserted,
 * before anything of it can run, so that it misses none of its output;
 * it says nothing until request_watch_release(), after the SubmitReply.
 */
struct pending *
request_watch_held(struct conn *c, uint64_t reqid, struct job *j,
    int progress_only)
{
	struct pending	*p;

	p = request_watch_new(c, reqid, j, progress_only);
	p->held = 1;
	p->err_told = 1;	/* it sees all from the start */
	if (JOB_FINAL(j->state)) {
		p->final_due = 1;
		return (p);
	}
	request_watch_follow(p);
	return (p);
}

/* The submit was answered: tell what came meanwhile, and go on. */
void
request_watch_release(struct pending *p)
{
	p->held = 0;
	if (p->final_due) {
		request_watch_send(p, 1);
		request_pending_free(p);
		return;
	}
	request_watch_send(p, 0);
}

void
request_watch_init(void)
{
	u_int	 i;

	for (i = 0; i < REQUEST_SINK_BUCKETS; i++)
		LIST_INIT(&request_sinks[i]);
	/* A test's fresh start: the jobs of the last went with its table. */
	request_news_n = 0;
	sched_set_final_hook(request_job_final);
	sched_set_news_hook(request_job_news);
}
