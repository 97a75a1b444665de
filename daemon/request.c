/*
 * Requests: decode a frame, dispatch on its body, answer.  The request
 * files (this one, request_submit.c, request_watch.c and wire.c) are the
 * daemon's only users of the client protocol's protobuf-c names; the
 * worker protocol's are pool_proc.c's and worker.c's, the journal's its
 * own, and libfutured's files in client/ the other side.
 *
 * A handler either answers at once (request_reply) or parks a pending
 * answer on the connection behind a waiter of sched.c (wait, cancel,
 * subscribe); a connection that goes away drops its pendings, and with
 * them its waiters, so nothing is ever sent to a freed connection.  The
 * completion a submit asks for is cheaper: see request_watch.c's sinks.
 * JobInfo messages borrow the job's strings and bytes: they are packed
 * before anything can change the job.
 */

#include <sys/types.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "arena.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "wire.h"
#include "request.h"
#include "xmalloc.h"

static int64_t	request_started_ms;
/* REQUEST_RUNNING, or stopping: request_shutdown(). */
int		request_stopping;

/* configure.ac's number is the one futured.proto states. */
_Static_assert(FUTURED__PROTOCOL__PROTOCOL_VERSION == FUTURED_PROTOCOL_VERSION,
    "proto/futured.proto's PROTOCOL_VERSION is not FUTURED_PROTOCOL_VERSION");

void
request_send(struct conn *c, Futured__Response *resp)
{
	size_t	 len;
	void	*p;

	if ((len = wire_size(resp)) != 0) {
		p = server_conn_reserve(c, len);
		wire_pack(resp, p);
		server_conn_commit(c, len);
		return;
	}
	len = futured__response__get_packed_size(resp);
	p = server_conn_reserve(c, len);
	futured__response__pack(resp, p);
	server_conn_commit(c, len);
}

void
request_error(struct conn *c, uint64_t reqid, int code, const char *fmt, ...)
    __attribute__((__format__(__printf__, 4, 5)));

void
request_error(struct conn *c, uint64_t reqid, int code, const char *fmt, ...)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__Error		 err = FUTURED__ERROR__INIT;
	va_list			 ap;
	char			*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	err.code = code;
	err.message = msg;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_ERROR;
	resp.error = &err;
	request_send(c, &resp);
	free(msg);
}

void
request_send_error(struct conn *c, int code, const char *msg)
{
	request_error(c, 0, code, "%s", msg);
}

/* For a connection refused before it exists (server_refuse). */
uint8_t *
request_pack_error(int code, const char *msg, size_t *lenp)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__Error		 err = FUTURED__ERROR__INIT;
	uint8_t			*p;
	size_t			 len;

	err.code = code;
	err.message = (char *)msg;
	resp.body_case = FUTURED__RESPONSE__BODY_ERROR;
	resp.error = &err;
	len = futured__response__get_packed_size(&resp);
	p = xmalloc(FRAME_HDR_LEN + len);
	frame_header_encode(p, len);
	futured__response__pack(&resp, p + FRAME_HDR_LEN);
	*lenp = FRAME_HDR_LEN + len;
	return (p);
}

Futured__Kind
request_kind_out(enum job_kind k)
{
	switch (k) {
	case JOB_ASYNC:
		return (FUTURED__KIND__KIND_ASYNC);
	case JOB_BLOCKING:
		return (FUTURED__KIND__KIND_BLOCKING);
	case JOB_CPU:
		return (FUTURED__KIND__KIND_CPU);
	}
	return (FUTURED__KIND__KIND_DEFAULT);
}

Futured__State
request_state_out(enum job_state s)
{
	return ((Futured__State)(s + 1));
}

/* How a final job ended (exit status, signal, error), for both forms. */
static void
request_jobinfo_outcome(struct job *j, Futured__JobInfo *info)
{
	if (j->more->error_code != FERR_NONE) {
		info->has_error_code = 1;
		info->error_code = j->more->error_code;
	}
	if (!JOB_FINAL(j->state))
		return;
	if (j->more->exit_status >= 0) {
		info->has_exit_status = 1;
		info->exit_status = j->more->exit_status;
	}
	if (j->more->term_signal > 0) {
		info->has_signal = 1;
		info->signal = j->more->term_signal;
	}
	if (j->state != JOB_SUCCEEDED)
		info->error = j->more->error;
}

static void
request_jobinfo_tail(struct job *j, Futured__JobInfo *info)
{
	if (j->more->errtail.len > 0) {
		info->has_stderr_tail = 1;
		info->stderr_tail.data = j->more->errtail.data;
		info->stderr_tail.len = j->more->errtail.len;
	}
}

/* The stderr tail, and (full infos only) whether it is all of it. */
void
request_jobinfo_stderr(struct job *j, Futured__JobInfo *info)
{
	request_jobinfo_tail(j, info);
	if (info->has_stderr_tail) {
		info->has_stderr_truncated = 1;
		info->stderr_truncated = j->more->errtail.truncated;
	}
}

/*
 * The context entries: one block, the pointers first, so that
 * request_jobinfo_clear() frees it with info->ctx.
 */
static void
request_jobinfo_ctx(struct job *j, Futured__JobInfo *info)
{
	Futured__KeyValue	**ptrs, *kvs;
	size_t			  i;

	if (j->spec->nctx == 0)
		return;
	ptrs = xcalloc(j->spec->nctx, sizeof(*ptrs) + sizeof(*kvs));
	kvs = (Futured__KeyValue *)(ptrs + j->spec->nctx);
	for (i = 0; i < j->spec->nctx; i++) {
		futured__key_value__init(&kvs[i]);
		kvs[i].key = j->spec->ctx[i].key;
		kvs[i].value = j->spec->ctx[i].value;
		ptrs[i] = &kvs[i];
	}
	info->n_ctx = j->spec->nctx;
	info->ctx = ptrs;
}

/* What request_jobinfo() allocated, once the answer is packed. */
void
request_jobinfo_clear(Futured__JobInfo *info)
{
	free(info->ctx);
	info->ctx = NULL;
	info->n_ctx = 0;
}

/*
 * Fill info from j, borrowing the job's memory.  Output only when asked
 * and the job is final.
 */
void
request_jobinfo(struct job *j, int with_output, Futured__JobInfo *info)
{
	futured__job_info__init(info);
	info->id = j->id;
	info->state = request_state_out(j->state);
	info->has_kind = 1;
	info->kind = request_kind_out(j->kind);
	info->handler = (char *)j->handler->name;
	info->name = j->spec->name;
	info->group = j->spec->group;
	if (j->state == JOB_SUCCEEDED) {
		info->has_progress = 1;
		info->progress = 1.0;
	} else if (j->more->progress > 0) {
		info->has_progress = 1;
		info->progress = j->more->progress;
	}
	info->progress_msg = j->more->progress_msg;
	request_jobinfo_outcome(j, info);
	if (with_output && JOB_FINAL(j->state)) {
		info->has_output = 1;
		info->output.data = j->more->output.data;
		info->output.len = j->more->output.len;
		request_jobinfo_stderr(j, info);
	}
	if (JOB_FINAL(j->state)) {
		info->has_output_truncated = 1;
		info->output_truncated = j->more->output.truncated;
		info->has_output_size = 1;
		info->output_size = j->more->output.len;
	}
	info->has_submitted_at = 1;
	info->submitted_at = j->submitted_at;
	if (j->more->started_at != 0) {
		info->has_started_at = 1;
		info->started_at = j->more->started_at;
	}
	if (j->more->finished_at != 0) {
		info->has_finished_at = 1;
		info->finished_at = j->more->finished_at;
	}
	info->has_attempts = 1;
	info->attempts = j->more->attempts;
	if (j->spec->retries > 0) {
		info->has_retries = 1;
		info->retries = j->spec->retries;
	}
	if (JOB_FINAL(j->state))
		info->ended = (char *)j->more->ended;
	if (j->spec->parent != 0) {
		info->has_parent = 1;
		info->parent = j->spec->parent;
	}
	info->n_after = j->spec->nafter;
	info->after = j->spec->after;
	if (j->spec->input_from != 0) {
		info->has_input_from = 1;
		info->input_from = j->spec->input_from;
	}
	if (j->spec->engine == JOB_ENGINE_SLURM) {
		info->engine = "slurm";
		info->slurm_job_id = j->more->engine_id;
	}
	request_jobinfo_ctx(j, info);
	info->n_args = j->spec->nargs;
	info->args = j->spec->args;
	if (j->priority != 0) {
		info->has_priority = 1;
		info->priority = j->priority;
	}
}

/*
 * The outcome only, for completion pushes that asked to be brief: the
 * full JobInfo was half of the daemon's instructions per pipelined job.
 */
void
request_jobinfo_brief(struct job *j, Futured__JobInfo *info)
{
	futured__job_info__init(info);
	info->id = j->id;
	info->state = request_state_out(j->state);
	if (j->more->output.len > 0) {
		info->has_output = 1;
		info->output.data = j->more->output.data;
		info->output.len = j->more->output.len;
	}
	if (j->more->output.truncated) {
		info->has_output_truncated = 1;
		info->output_truncated = 1;
	}
	request_jobinfo_outcome(j, info);
	request_jobinfo_tail(j, info);
}

/* The caller's job, or NULL: others' jobs do not exist for them. */
struct job *
request_find(struct conn *c, uint64_t id)
{
	struct job	*j;

	if ((j = sched_find(id)) == NULL)
		return (NULL);
	if (c->uid != 0 && j->owner != c->uid)
		return (NULL);
	return (j);
}

/*
 * Answer ERR_NOT_FOUND if any of ids is not the caller's job, listing
 * them all in Error.ids: one answer for an unknown id, whatever the
 * request (a request about several jobs does nothing to any of them).
 * Returns -1 when it answered.
 */
int
request_not_found(struct conn *c, uint64_t reqid, const uint64_t *ids,
    size_t n)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__Error		 err = FUTURED__ERROR__INIT;
	uint64_t		*bad = NULL;
	size_t			 i, nbad = 0, off;
	char			 msg[256];

	for (i = 0; i < n; i++) {
		if (request_find(c, ids[i]) != NULL)
			continue;
		if (bad == NULL)
			bad = xcalloc(n - i, sizeof(*bad));
		bad[nbad++] = ids[i];
	}
	if (nbad == 0)
		return (0);
	off = snprintf(msg, sizeof(msg), "no such job%s:", nbad > 1 ? "s" : "");
	for (i = 0; i < nbad && off < sizeof(msg) - 32; i++)
		off += snprintf(msg + off, sizeof(msg) - off, " %llu",
		    (unsigned long long)bad[i]);
	if (i < nbad)
		snprintf(msg + off, sizeof(msg) - off, " and %zu more",
		    nbad - i);
	err.code = FUTURED__ERROR_CODE__ERR_NOT_FOUND;
	err.message = msg;
	err.n_ids = nbad;
	err.ids = bad;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_ERROR;
	resp.error = &err;
	request_send(c, &resp);
	free(bad);
	return (-1);
}

/*
 * The ids a request names: at least one, at most REQUEST_IDS_MAX, all
 * the caller's.  -1 when it answered (ERR_INVALID or ERR_NOT_FOUND).
 */
int
request_ids_check(struct conn *c, uint64_t reqid, const char *what,
    const uint64_t *ids, size_t n)
{
	if (n == 0) {
		request_error(c, reqid, FERR_INVALID, "%s what? no ids", what);
		return (-1);
	}
	if (n > REQUEST_IDS_MAX) {
		request_error(c, reqid, FERR_INVALID,
		    "too many ids (%zu, the limit is %d)", n, REQUEST_IDS_MAX);
		return (-1);
	}
	return (request_not_found(c, reqid, ids, n));
}

/* The first job of jobs that has not started, or NULL. */
static struct job *
request_unstarted(struct job **jobs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (jobs[i]->state == JOB_WAITING ||
		    jobs[i]->state == JOB_QUEUED)
			return (jobs[i]);
	}
	return (NULL);
}

/*
 * Stopping with a journal: a job that has not started will not end
 * before the daemon does, and must not be said to (the journal runs it
 * after the restart).  Refuse to wait for one; -1 when it answered.
 */
int
request_refuse_unstarted(struct conn *c, uint64_t reqid, struct job **jobs,
    size_t n)
{
	struct job	*j;

	if (request_stopping != REQUEST_STOPPING_KEEP ||
	    (j = request_unstarted(jobs, n)) == NULL)
		return (0);
	request_error(c, reqid, FERR_SHUTTING_DOWN, "futured is shutting "
	    "down and job %llu has not started: the journal keeps it for the "
	    "restart", (unsigned long long)j->id);
	return (-1);
}

/*
 * The answers the connection is owed about jobs that have not started,
 * with the daemon stopping and the journal keeping them: a wait or watch
 * gets ERR_SHUTTING_DOWN now, not at exit; a connection owed a pushed
 * completion (notify, subscribe) gets it with id 0, and is closed.
 */
static void
request_shutdown_conn(struct conn *c, void *arg)
{
	struct pending	*p, *next;
	struct job	**jobs;
	size_t		  n;
	int		  push = 0;

	TAILQ_FOREACH_SAFE(p, &c->pendings, entry, next) {
		switch (p->type) {
		case PENDING_WAIT:
		case PENDING_WATCH:
		case PENDING_LOGS:
			n = sched_waiter_jobs(p->waiter, &jobs);
			if (request_refuse_unstarted(c, p->reqid, jobs,
			    n) == -1) {
				sched_wait_free(p->waiter);
				request_pending_free(p);
			}
			free(jobs);
			break;
		case PENDING_NOTIFY:
			n = sched_waiter_jobs(p->waiter, &jobs);
			if (request_unstarted(jobs, n) != NULL)
				push = 1;
			free(jobs);
			break;
		case PENDING_SINK:
			push |= p->shutdown;
			break;
		default:
			break;
		}
	}
	if (!push)
		return;
	request_error(c, 0, FERR_SHUTTING_DOWN, "shutting down, and jobs "
	    "this connection is to be told of have not started: the journal "
	    "keeps them for the restart");
	server_conn_close(c);
}

void
request_shutdown(int keep)
{
	if (request_stopping != REQUEST_RUNNING)
		return;
	request_stopping = keep ? REQUEST_STOPPING_KEEP : REQUEST_STOPPING;
	if (!keep)
		return;
	request_sinks_shutdown();
	server_foreach_conn(request_shutdown_conn, NULL);
}

struct pending *
request_pending_new(struct conn *c, uint64_t reqid, enum pending_type type)
{
	struct pending	*p;

	p = xcalloc(1, sizeof(*p));
	p->conn = c;
	p->reqid = reqid;
	p->type = type;
	TAILQ_INSERT_TAIL(&c->pendings, p, entry);
	return (p);
}

void
request_pending_free(struct pending *p)
{
	TAILQ_REMOVE(&p->conn->pendings, p, entry);
	if (p->type == PENDING_SINK || p->type == PENDING_POOL)
		LIST_REMOVE(p, sentry);
	if (p->type == PENDING_SPARE && p->sup != NULL)
		supervise_unparked(p->sup);	/* its connection is gone */
	journal_unwait(&p->jw);
	if (p->job != NULL)
		job_unref(p->job);
	if (p->news != NULL)
		event_free(p->news);
	free(p->last_msg);
	free(p->effect);
	buf_reset(&p->pend);
	buf_reset(&p->errpend);
	free(p);
}

void
request_conn_free(struct conn *c)
{
	struct pending	*p;

	while ((p = TAILQ_FIRST(&c->pendings)) != NULL) {
		sched_wait_free(p->waiter);
		request_pending_free(p);
	}
	request_worker_conn_free(c);
}

/*
 * Park p behind a waiter; its callback may run (and free p) at once:
 * then NULL, and p is gone.
 */
struct waiter *
request_park(struct pending *p, struct job **jobs, size_t n, int any,
    int64_t timeout_ms,
    void (*cb)(struct waiter *, struct job *, int, void *))
{
	struct waiter	*w;

	w = sched_wait(jobs, n, any, timeout_ms, cb, p);
	if (w != NULL)
		p->waiter = w;
	return (w);
}

/* Hello ---------------------------------------------------------------- */

static void
request_hello(struct conn *c, uint64_t reqid, const Futured__Hello *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__HelloReply	 r = FUTURED__HELLO_REPLY__INIT;

	if (req->version != FUTURED_PROTOCOL_VERSION) {
		request_error(c, reqid, FERR_VERSION,
		    "protocol version %u not supported (this daemon speaks %u)",
		    req->version, FUTURED_PROTOCOL_VERSION);
		server_conn_close(c);
		return;
	}
	c->version = req->version;
	r.version = FUTURED_PROTOCOL_VERSION;
	r.server_version = (char *)FUTURED_VERSION;
	r.has_max_frame = 1;
	r.max_frame = settings.max_frame;
	r.has_max_output = 1;
	r.max_output = settings.max_output;
	r.has_max_ids = 1;
	r.max_ids = REQUEST_IDS_MAX;
	r.has_max_queued = 1;
	r.max_queued = settings.max_queued;
	r.has_stderr_tail = 1;
	r.stderr_tail = settings.stderr_tail;
	r.has_submit_watch = 1;
	r.submit_watch = 1;
	r.has_job_news = 1;
	r.job_news = 1;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_HELLO;
	resp.hello = &r;
	request_send(c, &resp);
}

/* Submit --------------------------------------------------------------- */

/* Status, result, list ------------------------------------------------ */

static void
request_status(struct conn *c, uint64_t reqid, const Futured__StatusRequest *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__StatusReply	 r = FUTURED__STATUS_REPLY__INIT;
	Futured__JobInfo	*infos, **ptrs;
	size_t			 i;

	if (request_ids_check(c, reqid, "status of", req->ids,
	    req->n_ids) == -1)
		return;
	infos = xcalloc(req->n_ids, sizeof(*infos));
	ptrs = xcalloc(req->n_ids, sizeof(*ptrs));
	for (i = 0; i < req->n_ids; i++) {
		request_jobinfo(request_find(c, req->ids[i]), 0, &infos[i]);
		ptrs[i] = &infos[i];
	}
	r.n_jobs = req->n_ids;
	r.jobs = ptrs;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_STATUS;
	resp.status = &r;
	request_send(c, &resp);
	for (i = 0; i < req->n_ids; i++)
		request_jobinfo_clear(&infos[i]);
	free(infos);
	free(ptrs);
}

static void
request_result(struct conn *c, uint64_t reqid, const Futured__ResultRequest *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__ResultReply	 r = FUTURED__RESULT_REPLY__INIT;
	Futured__JobInfo	 info;
	struct job		*j;

	if (request_not_found(c, reqid, &req->id, 1) == -1)
		return;
	j = request_find(c, req->id);
	if (!JOB_FINAL(j->state)) {
		request_error(c, reqid, FERR_NOT_READY, "job %llu is %s",
		    (unsigned long long)j->id, job_state_name(j->state));
		return;
	}
	request_jobinfo(j, 1, &info);
	r.job = &info;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_RESULT;
	resp.result = &r;
	request_send(c, &resp);
	request_jobinfo_clear(&info);
}

struct request_collect {
	struct conn	*conn;
	const char	*group;
	int		 state;		/* -1: any */
	struct job	**jobs;
	size_t		 n, cap;
};

static void
request_collect_cb(struct job *j, void *arg)
{
	struct request_collect	*rc = arg;

	if (rc->conn->uid != 0 && j->owner != rc->conn->uid)
		return;
	if (rc->group != NULL && (j->spec->group == NULL ||
	    strcmp(rc->group, j->spec->group) != 0))
		return;
	if (rc->state >= 0 && (int)j->state != rc->state)
		return;
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 64;
		rc->jobs = xreallocarray(rc->jobs, rc->cap, sizeof(*rc->jobs));
	}
	rc->jobs[rc->n++] = j;
}

static int
request_collect_cmp(const void *a, const void *b)
{
	const struct job	*ja = *(struct job *const *)a;
	const struct job	*jb = *(struct job *const *)b;

	return (ja->id < jb->id ? -1 : ja->id > jb->id);
}

/* The caller's jobs, by group and state, in id order; caller frees. */
static size_t
request_collect(struct conn *c, const char *group, int state,
    struct job ***out)
{
	struct request_collect	 rc = { c, group, state, NULL, 0, 0 };

	sched_foreach(request_collect_cb, &rc);
	if (rc.n > 1)
		qsort(rc.jobs, rc.n, sizeof(*rc.jobs), request_collect_cmp);
	*out = rc.jobs;
	return (rc.n);
}

static void
request_list(struct conn *c, uint64_t reqid, const Futured__ListRequest *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__ListReply	 r = FUTURED__LIST_REPLY__INIT;
	Futured__JobInfo	*infos, **ptrs;
	struct job		**jobs;
	size_t			 i, n;
	int			 state = -1;

	if (req->has_state && req->state != FUTURED__STATE__STATE_UNKNOWN)
		state = (int)req->state - 1;
	n = request_collect(c, req->group != NULL && *req->group != '\0' ?
	    req->group : NULL, state, &jobs);
	infos = xcalloc(n ? n : 1, sizeof(*infos));
	ptrs = xcalloc(n ? n : 1, sizeof(*ptrs));
	for (i = 0; i < n; i++) {
		request_jobinfo(jobs[i], 0, &infos[i]);
		ptrs[i] = &infos[i];
	}
	r.n_jobs = n;
	r.jobs = ptrs;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_LIST;
	resp.list = &r;
	request_send(c, &resp);
	for (i = 0; i < n; i++)
		request_jobinfo_clear(&infos[i]);
	free(infos);
	free(ptrs);
	free(jobs);
}

/* Wait ------------------------------------------------------------------ */

/*
 * Whether the caller has a group of that name, with or without jobs: an
 * empty group is something to wait for (at once), a misspelt one is not.
 */
static int
request_group_known(struct conn *c, const char *name, size_t njobs)
{
	return (njobs > 0 || group_get(c->uid, name, 0) != NULL);
}

/*
 * The targets of a wait or cancel, ids or a group, in *out and *np (none
 * is fine: an empty group).  -1: the request was answered with an error:
 * neither ids nor a group, both, an unknown group or an unknown id.
 */
static int
request_targets(struct conn *c, uint64_t reqid, const char *what,
    uint64_t *ids, size_t nids, const char *group, struct job ***out,
    size_t *np)
{
	struct job	**jobs;
	size_t		  i, n;

	*out = NULL;
	*np = 0;
	if (group != NULL && *group != '\0') {
		if (nids > 0) {
			request_error(c, reqid, FERR_INVALID,
			    "give ids or a group, not both");
			return (-1);
		}
		n = request_collect(c, group, -1, &jobs);
		if (!request_group_known(c, group, n)) {
			free(jobs);
			request_error(c, reqid, FERR_NOT_FOUND,
			    "no such group: %s", group);
			return (-1);
		}
		*out = jobs != NULL ? jobs : xcalloc(1, sizeof(*jobs));
		*np = n;
		return (0);
	}
	if (request_ids_check(c, reqid, what, ids, nids) == -1)
		return (-1);
	jobs = xcalloc(nids, sizeof(*jobs));
	for (i = 0; i < nids; i++)
		jobs[i] = request_find(c, ids[i]);
	*out = jobs;
	*np = nids;
	return (0);
}

static void
request_wait_cb(struct waiter *w, struct job *first, int timed_out, void *arg)
{
	struct pending		*p = arg;
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__WaitReply	 r = FUTURED__WAIT_REPLY__INIT;
	Futured__JobInfo	*infos, **ptrs;
	struct job		**jobs;
	size_t			 i, n;

	n = sched_waiter_jobs(w, &jobs);
	infos = xcalloc(n ? n : 1, sizeof(*infos));
	ptrs = xcalloc(n ? n : 1, sizeof(*ptrs));
	for (i = 0; i < n; i++) {
		request_jobinfo(jobs[i], p->with_output, &infos[i]);
		ptrs[i] = &infos[i];
	}
	r.n_jobs = n;
	r.jobs = ptrs;
	r.timed_out = timed_out;
	if (first != NULL && JOB_FINAL(first->state)) {
		r.has_first = 1;
		r.first = first->id;
	}
	resp.id = p->reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_WAIT;
	resp.wait = &r;
	request_send(p->conn, &resp);
	for (i = 0; i < n; i++)
		request_jobinfo_clear(&infos[i]);
	free(infos);
	free(ptrs);
	free(jobs);
	request_pending_free(p);
}

static void
request_wait(struct conn *c, uint64_t reqid, const Futured__WaitRequest *req)
{
	struct pending	*p;
	struct job	**jobs;
	size_t		  n;

	if (request_targets(c, reqid, "wait for", req->ids, req->n_ids,
	    req->group, &jobs, &n) == -1)
		return;
	if (request_refuse_unstarted(c, reqid, jobs, n) == -1) {
		free(jobs);
		return;
	}
	p = request_pending_new(c, reqid, PENDING_WAIT);
	p->with_output = req->has_with_output && req->with_output;
	request_park(p, jobs, n, req->has_any && req->any,
	    req->timeout_ms < 0 ? -1 : req->timeout_ms, request_wait_cb);
	free(jobs);
}

/* Cancel ---------------------------------------------------------------- */

static void
request_cancel_cb(struct waiter *w, struct job *first, int timed_out,
    void *arg)
{
	struct pending		*p = arg;
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__CancelReply	 r = FUTURED__CANCEL_REPLY__INIT;
	Futured__CancelOutcome	*outs, **ptrs;
	struct job		**jobs;
	size_t			 i, n;

	/* The waiter holds the jobs, in request order. */
	n = sched_waiter_jobs(w, &jobs);
	outs = xcalloc(n ? n : 1, sizeof(*outs));
	ptrs = xcalloc(n ? n : 1, sizeof(*ptrs));
	for (i = 0; i < n; i++) {
		futured__cancel_outcome__init(&outs[i]);
		outs[i].id = jobs[i]->id;
		outs[i].took_effect = p->effect[i];
		outs[i].has_state = 1;
		outs[i].state = request_state_out(jobs[i]->state);
		ptrs[i] = &outs[i];
	}
	r.n_outcomes = n;
	r.outcomes = ptrs;
	resp.id = p->reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_CANCEL;
	resp.cancel = &r;
	request_send(p->conn, &resp);
	free(outs);
	free(ptrs);
	free(jobs);
	request_pending_free(p);
}

/* Cancel, then answer once every cancelled job has really ended. */
static void
request_cancel(struct conn *c, uint64_t reqid, const Futured__CancelRequest *req)
{
	struct pending	*p;
	struct job	**jobs;
	size_t		  i, n;

	if (request_targets(c, reqid, "cancel", req->ids, req->n_ids,
	    req->group, &jobs, &n) == -1)
		return;
	p = request_pending_new(c, reqid, PENDING_CANCEL);
	p->effect = xcalloc(n ? n : 1, sizeof(*p->effect));
	/* Hold them: cancelling may settle and wake others. */
	for (i = 0; i < n; i++)
		job_ref(jobs[i]);
	for (i = 0; i < n; i++)
		p->effect[i] = job_cancel(jobs[i], JOB_CANCELLED,
		    req->grace_ms, "cancelled");
	request_park(p, jobs, n, 0, -1, request_cancel_cb);
	for (i = 0; i < n; i++)
		job_unref(jobs[i]);
	free(jobs);
}

/* Groups --------------------------------------------------------------- */

static void
request_group(struct conn *c, uint64_t reqid, const Futured__GroupRequest *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__GroupReply	 r = FUTURED__GROUP_REPLY__INIT;
	struct jobgroup		*g;
	struct job_more		*m;
	struct job		*j;

	if (*req->name == '\0') {
		request_error(c, reqid, FERR_INVALID, "a group needs a name");
		return;
	}
	if ((g = group_get(c->uid, req->name, 0)) == NULL) {
		g = group_get(c->uid, req->name, 1);
		r.created = 1;
	}
	if (req->has_fail_fast)
		g->fail_fast = req->fail_fast;
	if (req->has_parallel) {
		g->parallel = req->parallel;
		/* A raised limit lets held jobs go now. */
		group_release(g);
	}
	if (req->has_fail_fast || req->has_parallel)
		journal_group(g);
	r.name = g->name;
	r.fail_fast = g->fail_fast;
	r.parallel = g->parallel;
	TAILQ_FOREACH(m, &g->members, gentry) {
		j = m->job;
		r.jobs++;
		if (j->state == JOB_RUNNING)
			r.running++;
		else if (!JOB_FINAL(j->state))
			r.pending++;
		else if (j->state == JOB_SUCCEEDED)
			r.succeeded++;
		else
			r.failed++;
	}
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_GROUP;
	resp.group = &r;
	request_send(c, &resp);
}

/* Watch ------------------------------------------------------------------ */
/* Handlers, stats, ping ------------------------------------------------- */

struct request_handlers {
	Futured__HandlerInfo	*infos;
	Futured__HandlerInfo	**ptrs;
	Futured__Kind		(*kinds)[3];
	size_t			 n;
};

static void
request_handlers_cb(const struct fut_handler *h, void *arg)
{
	struct request_handlers	*rh = arg;
	Futured__HandlerInfo	*hi;
	size_t			 k = 0;
	int			 nw;

	rh->infos = xreallocarray(rh->infos, rh->n + 1, sizeof(*rh->infos));
	rh->kinds = xreallocarray(rh->kinds, rh->n + 1, sizeof(*rh->kinds));
	hi = &rh->infos[rh->n];
	futured__handler_info__init(hi);
	hi->name = (char *)h->name;
	hi->description = (char *)h->description;
	if (h->kinds & FUT_HK_ASYNC)
		rh->kinds[rh->n][k++] = FUTURED__KIND__KIND_ASYNC;
	if (h->kinds & FUT_HK_BLOCKING)
		rh->kinds[rh->n][k++] = FUTURED__KIND__KIND_BLOCKING;
	if (h->kinds & FUT_HK_CPU)
		rh->kinds[rh->n][k++] = FUTURED__KIND__KIND_CPU;
	hi->n_kinds = k;
	hi->default_kind = request_kind_out(handler_default_kind(h));
	if ((nw = pool_worker_handler_workers(h)) >= 0) {
		hi->has_workers = 1;
		hi->workers = (uint32_t)nw;
	}
	rh->n++;
}

static void
request_handlers(struct conn *c, uint64_t reqid)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__HandlersReply	 r = FUTURED__HANDLERS_REPLY__INIT;
	struct request_handlers	 rh = { NULL, NULL, NULL, 0 };
	size_t			 i;

	handler_foreach(request_handlers_cb, &rh);
	/* Pointers last: the arrays moved while growing. */
	rh.ptrs = xcalloc(rh.n ? rh.n : 1, sizeof(*rh.ptrs));
	for (i = 0; i < rh.n; i++) {
		rh.infos[i].kinds = rh.kinds[i];
		rh.ptrs[i] = &rh.infos[i];
	}
	r.n_handlers = rh.n;
	r.handlers = rh.ptrs;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_HANDLERS;
	resp.handlers = &r;
	request_send(c, &resp);
	free(rh.infos);
	free(rh.kinds);
	free(rh.ptrs);
}

struct request_pools {
	Futured__PoolStats	*ps;
	size_t			 n;
};

/* The names are borrowed: packed before anything can change them. */
static void
request_pools_cb(const struct worker_pool_stats *wp, void *arg)
{
	struct request_pools	*rp = arg;
	Futured__PoolStats	*ps;

	rp->ps = xreallocarray(rp->ps, rp->n + 1, sizeof(*rp->ps));
	ps = &rp->ps[rp->n++];
	futured__pool_stats__init(ps);
	ps->name = (char *)wp->name;
	ps->supervised = wp->supervised;
	ps->processes = wp->processes;
	ps->busy = wp->busy;
	ps->capacity = wp->capacity;
}

/* A supervised pool's health, into its entry (made if it has none). */
static void
request_pools_sup_cb(const struct sup_stats *st, void *arg)
{
	struct request_pools	*rp = arg;
	Futured__PoolStats	*ps;
	size_t			 i;

	for (i = 0; i < rp->n; i++) {
		if (rp->ps[i].supervised && strcmp(rp->ps[i].name,
		    st->name) == 0)
			break;
	}
	if (i == rp->n) {
		rp->ps = xreallocarray(rp->ps, rp->n + 1, sizeof(*rp->ps));
		futured__pool_stats__init(&rp->ps[rp->n]);
		rp->ps[rp->n].name = (char *)st->name;
		rp->ps[rp->n].supervised = 1;
		rp->n++;
	}
	ps = &rp->ps[i];
	ps->state = (char *)st->state;
	ps->has_size = ps->has_alive = ps->has_restarts = 1;
	ps->size = st->size;
	ps->alive = st->alive;
	ps->restarts = st->restarts;
	ps->last_failure = (char *)st->error;
	if ((ps->has_last_exit_status = st->last_exit >= 0))
		ps->last_exit_status = st->last_exit;
	if ((ps->has_last_signal = st->last_signal > 0))
		ps->last_signal = st->last_signal;
	ps->last_stderr = (char *)st->last_stderr;
	if ((ps->has_last_failure_ago_ms = st->last_ago_ms >= 0))
		ps->last_failure_ago_ms = st->last_ago_ms;
	if ((ps->has_respawn_ms = st->respawn_ms >= 0))
		ps->respawn_ms = st->respawn_ms;
	ps->has_spares = 1;
	ps->spares = st->spares;
	ps->has_respawns = 1;
	ps->respawns = st->respawns;
}

static void
request_stats(struct conn *c, uint64_t reqid)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__StatsReply	 r = FUTURED__STATS_REPLY__INIT;
	Futured__KindStats	 ks[JOB_NKINDS], *ptrs[JOB_NKINDS];
	Futured__PoolStats	**pp = NULL;
	struct request_pools	 rp = { NULL, 0 };
	size_t			 i;
	int			 k;

	for (k = 0; k < JOB_NKINDS; k++) {
		futured__kind_stats__init(&ks[k]);
		ks[k].kind = request_kind_out(k);
		ks[k].waiting = sched_count(k, JOB_WAITING);
		ks[k].queued = sched_count(k, JOB_QUEUED);
		ks[k].running = sched_count(k, JOB_RUNNING);
		ks[k].succeeded = sched_count(k, JOB_SUCCEEDED);
		ks[k].failed = sched_count(k, JOB_FAILED);
		ks[k].cancelled = sched_count(k, JOB_CANCELLED);
		ks[k].timed_out = sched_count(k, JOB_TIMED_OUT);
		ks[k].pool_size = sched_slots_max(k);
		ks[k].pool_busy = sched_slots_used(k);
		ptrs[k] = &ks[k];
	}
	r.n_kinds = JOB_NKINDS;
	r.kinds = ptrs;
	r.uptime_ms = job_mono_ms() - request_started_ms;
	r.jobs_total = sched_total();
	r.connections = server_nconns();
	r.server_version = (char *)FUTURED_VERSION;
	pool_worker_foreach_pool(request_pools_cb, &rp);
	supervise_foreach(request_pools_sup_cb, &rp);
	if (rp.n > 0) {
		pp = xcalloc(rp.n, sizeof(*pp));
		for (i = 0; i < rp.n; i++)
			pp[i] = &rp.ps[i];
		r.n_pools = rp.n;
		r.pools = pp;
	}
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_STATS;
	resp.stats = &r;
	request_send(c, &resp);
	free(pp);
	free(rp.ps);
}

/* The same text as the textfile and the listener (metrics.c). */
static void
request_metrics(struct conn *c, uint64_t reqid)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__MetricsReply	 r = FUTURED__METRICS_REPLY__INIT;
	struct evbuffer		*b;

	if ((b = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	metrics_render(b);
	evbuffer_add(b, "", 1);
	r.text = (char *)evbuffer_pullup(b, -1);
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_METRICS;
	resp.metrics = &r;
	request_send(c, &resp);
	evbuffer_free(b);
}

static void
request_ping(struct conn *c, uint64_t reqid)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__PingReply	 r = FUTURED__PING_REPLY__INIT;

	r.server_version = (char *)FUTURED_VERSION;
	r.protocol_version = FUTURED_PROTOCOL_VERSION;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_PING;
	resp.ping = &r;
	request_send(c, &resp);
}

/*
 * Requests are decoded into a bump arena: everything one frame allocates
 * goes at once when it has been answered, instead of a free() per field
 * (malloc and free were a quarter of the daemon's instructions per job).
 * What does not fit, a large payload say, is malloc()ed and chained for
 * the reset.  Handlers copy what they keep, so nothing outlives a reset.
 */
#define REQUEST_ARENA_SIZE	(64 * 1024)

static max_align_t	 request_block[REQUEST_ARENA_SIZE / sizeof(max_align_t)];
static struct arena	 request_arena;

void
request_init(void)
{
	request_started_ms = job_mono_ms();
	arena_init(&request_arena, request_block, sizeof(request_block));
	request_watch_init();
}

/*
 * One frame from a client.  Undecodable: an error answer, and -1 so the
 * connection is closed.  Everything else is answered on the connection.
 */
int
request_dispatch(struct conn *c, const uint8_t *data, size_t len)
{
	Futured__Request	*req;

	/* Most frames are submits: by hand, the rest by protobuf-c. */
	if ((req = wire_decode_submit(&request_arena.pb, data, len)) == NULL)
		req = futured__request__unpack(&request_arena.pb, len, data);
	if (req == NULL) {
		arena_reset(&request_arena);
		log_warnx("connection %llu (uid %lu): undecodable frame of %zu "
		    "bytes", (unsigned long long)c->id, (unsigned long)c->uid,
		    len);
		request_worker_garbage(c);
		request_error(c, 0, FERR_PROTO, "undecodable frame");
		return (-1);
	}
	request_worker_heard(c);
	if (req->id == 0) {
		/* Its answer could not be told from an unasked one. */
		arena_reset(&request_arena);
		request_error(c, 0, FERR_PROTO, "request id 0 (ids start at 1)");
		return (-1);
	}
	switch (req->body_case) {
	case FUTURED__REQUEST__BODY_HELLO:
		request_hello(c, req->id, req->hello);
		break;
	case FUTURED__REQUEST__BODY_SUBMIT:
		request_submit(c, req->id, req->submit);
		break;
	case FUTURED__REQUEST__BODY_STATUS:
		request_status(c, req->id, req->status);
		break;
	case FUTURED__REQUEST__BODY_WAIT:
		request_wait(c, req->id, req->wait);
		break;
	case FUTURED__REQUEST__BODY_RESULT:
		request_result(c, req->id, req->result);
		break;
	case FUTURED__REQUEST__BODY_CANCEL:
		request_cancel(c, req->id, req->cancel);
		break;
	case FUTURED__REQUEST__BODY_LIST:
		request_list(c, req->id, req->list);
		break;
	case FUTURED__REQUEST__BODY_HANDLERS:
		request_handlers(c, req->id);
		break;
	case FUTURED__REQUEST__BODY_STATS:
		request_stats(c, req->id);
		break;
	case FUTURED__REQUEST__BODY_PING:
		request_ping(c, req->id);
		break;
	case FUTURED__REQUEST__BODY_METRICS:
		request_metrics(c, req->id);
		break;
	case FUTURED__REQUEST__BODY_SUBSCRIBE:
		request_subscribe(c, req->id, req->subscribe);
		break;
	case FUTURED__REQUEST__BODY_GROUP:
		request_group(c, req->id, req->group);
		break;
	case FUTURED__REQUEST__BODY_WATCH:
		request_watch(c, req->id, req->watch);
		break;
	case FUTURED__REQUEST__BODY_POOL:
		request_pool(c, req->id, req->pool);
		break;
	case FUTURED__REQUEST__BODY_WORKER_REGISTER:
		request_worker_register(c, req->id, req->worker_register);
		break;
	case FUTURED__REQUEST__BODY_TASK_UPDATE:
		if (request_worker_update(c, req->id, req->task_update) == -1) {
			arena_reset(&request_arena);
			return (-1);
		}
		break;
	case FUTURED__REQUEST__BODY_LOGS:
		request_logs(c, req->id, req->logs);
		break;
	default:
		request_error(c, req->id, FERR_PROTO,
		    "unknown request (body %d)", (int)req->body_case);
		break;
	}
	arena_reset(&request_arena);
	return (0);
}
