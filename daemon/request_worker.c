/*
 * The worker protocol's requests (WorkerRegister, TaskUpdate) and the
 * pushes to a worker (Task, TaskCancel): futured-workers(7).  What a
 * worker may do and which jobs it takes is pool_worker.c's; this file
 * only turns frames into its calls and its calls into frames.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "log.h"
#include "request.h"
#include "xmalloc.h"

static unsigned int
request_worker_kind_bit(Futured__Kind k)
{
	switch (k) {
	case FUTURED__KIND__KIND_ASYNC:
		return (FUT_HK_ASYNC);
	case FUTURED__KIND__KIND_BLOCKING:
		return (FUT_HK_BLOCKING);
	case FUTURED__KIND__KIND_CPU:
		return (FUT_HK_CPU);
	default:
		return (0);
	}
}

void
request_worker_register(struct conn *c, uint64_t reqid,
    const Futured__WorkerRegister *req)
{
	Futured__Response		 resp = FUTURED__RESPONSE__INIT;
	Futured__WorkerRegisterReply	 r = FUTURED__WORKER_REGISTER_REPLY__INIT;
	struct worker_handler_spec	*hs;
	const Futured__WorkerHandler	*h;
	struct worker			*w;
	unsigned int			 bit;
	size_t				 i, k;
	char				*cause = NULL;

	if (c->worker != NULL) {
		request_error(c, reqid, FERR_INVALID, "already registered as "
		    "worker %llu", (unsigned long long)pool_worker_id(c->worker));
		return;
	}
	if (request_stopping != REQUEST_RUNNING) {
		request_error(c, reqid, FERR_SHUTTING_DOWN,
		    "futured is shutting down");
		return;
	}
	/* A pool's warm spare: answered when it takes a slot. */
	if (req->pool != NULL && request_pool_park(c, reqid, req))
		return;
	if (req->n_handlers > WORKER_HANDLERS_MAX) {
		request_error(c, reqid, FERR_INVALID, "too many handlers (%zu, "
		    "the limit is %d)", req->n_handlers, WORKER_HANDLERS_MAX);
		return;
	}
	hs = xcalloc(req->n_handlers ? req->n_handlers : 1, sizeof(*hs));
	for (i = 0; i < req->n_handlers; i++) {
		h = req->handlers[i];
		hs[i].name = h->name;
		hs[i].description = h->description;
		for (k = 0; k < h->n_kinds; k++) {
			if ((bit = request_worker_kind_bit(h->kinds[k])) == 0) {
				xasprintf(&cause, "handler \"%.*s\": kind %d is "
				    "not async, blocking or cpu",
				    WORKER_NAME_MAX, h->name, (int)h->kinds[k]);
				goto bad;
			}
			hs[i].kinds |= bit;
		}
		if (!h->has_default_kind ||
		    h->default_kind == FUTURED__KIND__KIND_DEFAULT) {
			hs[i].default_kind = h->n_kinds > 0 ?
			    request_worker_kind_bit(h->kinds[0]) : 0;
		} else if ((hs[i].default_kind =
		    request_worker_kind_bit(h->default_kind)) == 0) {
			xasprintf(&cause, "handler \"%.*s\": bad default kind "
			    "%d", WORKER_NAME_MAX, h->name, (int)h->default_kind);
			goto bad;
		}
	}
	w = pool_worker_register(c, hs, req->n_handlers, req->concurrency,
	    req->pool, req->name, &cause);
	if (w == NULL)
		goto bad;
	free(hs);
	c->worker = w;
	r.worker_id = pool_worker_id(w);
	r.lease_ms = settings.worker_lease_ms;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_WORKER_REGISTER;
	resp.worker_register = &r;
	request_send(c, &resp);
	return;
bad:
	free(hs);
	request_error(c, reqid, FERR_INVALID, "%s", cause);
	free(cause);
}

/*
 * One TaskUpdate: answered, but for a quiet one that was applied (its
 * worker asked for refusals only).  -1: the worker spoke of a job it
 * was never given, and is disconnected (it was told why, with id 0).
 */
int
request_worker_update(struct conn *c, uint64_t reqid,
    const Futured__TaskUpdate *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__TaskUpdateReply r = FUTURED__TASK_UPDATE_REPLY__INIT;
	struct worker_update	 u;
	struct worker		*w = c->worker;

	if (w == NULL) {
		request_error(c, reqid, FERR_INVALID, "task update from a "
		    "connection that did not register as a worker");
		return (0);
	}
	memset(&u, 0, sizeof(u));
	u.job_id = req->job_id;
	u.attempt = req->attempt;
	u.has_progress = req->has_progress;
	u.progress = req->progress;
	u.progress_msg = req->progress_msg;
	if (req->has_output) {
		u.output = req->output.data;
		u.output_len = req->output.len;
	}
	if (req->has_stderr) {
		u.err = req->stderr.data;
		u.err_len = req->stderr.len;
	}
	u.done = req->has_done && req->done;
	u.ok = req->has_ok && req->ok;
	u.error = req->error;
	u.error_type = req->error_type;
	u.error_detail = req->error_detail;
	switch (pool_worker_update(w, &u)) {
	case 0:
		if (req->has_quiet && req->quiet)
			return (0);
		resp.id = reqid;
		resp.body_case = FUTURED__RESPONSE__BODY_TASK_UPDATE;
		resp.task_update = &r;
		request_send(c, &resp);
		return (0);
	case 1:
		request_error(c, reqid, FERR_NOT_FOUND, "job %llu attempt %u is "
		    "not held by this worker now (cancelled, timed out or "
		    "settled): update dropped",
		    (unsigned long long)req->job_id, req->attempt);
		return (0);
	}
	log_warnx("worker %llu (uid %lu): update for job %llu, never given "
	    "to it: disconnected", (unsigned long long)pool_worker_id(w),
	    (unsigned long)c->uid, (unsigned long long)req->job_id);
	request_error(c, 0, FERR_PROTO, "update for job %llu, which this "
	    "worker was never given", (unsigned long long)req->job_id);
	c->worker = NULL;
	pool_worker_lost(w, "update for job %llu it was never given",
	    (unsigned long long)req->job_id);
	return (-1);
}

/* Any frame from a worker renews its lease. */
void
request_worker_heard(struct conn *c)
{
	if (c->worker != NULL)
		pool_worker_heard(c->worker);
}

/* An undecodable frame from a worker: its jobs fail, naming it. */
void
request_worker_garbage(struct conn *c)
{
	struct worker	*w;

	if ((w = c->worker) == NULL)
		return;
	c->worker = NULL;
	pool_worker_lost(w, "undecodable frame");
}

void
request_worker_conn_free(struct conn *c)
{
	struct worker	*w;

	if ((w = c->worker) == NULL)
		return;
	c->worker = NULL;
	pool_worker_lost(w, "connection closed");
}

/*
 * The Task of attempt of j into t; *kvsp and *kvpp hold its context
 * (free both once t is packed).
 */
static void
request_worker_task_init(Futured__Task *t, struct job *j, uint32_t attempt,
    Futured__KeyValue **kvsp, Futured__KeyValue ***kvpp)
{
	Futured__KeyValue	*kvs = NULL, **kvp = NULL;
	int64_t			 at = 0, d;
	size_t			 i;

	futured__task__init(t);
	t->job_id = j->id;
	t->attempt = attempt;
	t->handler = (char *)j->handler->name;
	t->kind = request_kind_out(j->kind);
	if (j->payload_len > 0) {
		t->has_payload = 1;
		t->payload.data = j->payload;
		t->payload.len = j->payload_len;
	}
	t->n_args = j->spec->nargs;
	t->args = j->spec->args;
	if (j->spec->nctx > 0) {
		kvs = xcalloc(j->spec->nctx, sizeof(*kvs));
		kvp = xcalloc(j->spec->nctx, sizeof(*kvp));
		for (i = 0; i < j->spec->nctx; i++) {
			futured__key_value__init(&kvs[i]);
			kvs[i].key = j->spec->ctx[i].key;
			kvs[i].value = j->spec->ctx[i].value;
			kvp[i] = &kvs[i];
		}
		t->n_ctx = j->spec->nctx;
		t->ctx = kvp;
	}
	/*
	 * When the daemon will time it out: the earlier of the two (a
	 * one-shot's timeout counts from a start that is yet to come).
	 */
	if (j->spec->timeout_ms > 0 && j->more->started_at != 0)
		at = j->more->started_at + j->spec->timeout_ms;
	if (j->spec->deadline_ms > 0) {
		d = j->submitted_at + j->spec->deadline_ms;
		if (at == 0 || d < at)
			at = d;
	}
	if (at != 0) {
		t->has_deadline_at = 1;
		t->deadline_at = at;
	}
	t->cwd = j->spec->cwd;
	t->has_owner_uid = 1;
	t->owner_uid = j->owner;
	if (j->spec->parent != 0) {
		t->has_parent = 1;
		t->parent = j->spec->parent;
	}
	*kvsp = kvs;
	*kvpp = kvp;
}

/* Push a Task for attempt of j to the worker on c. */
void
request_worker_task(struct conn *c, struct job *j, uint32_t attempt)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__Task		 t;
	Futured__KeyValue	*kvs, **kvp;

	request_worker_task_init(&t, j, attempt, &kvs, &kvp);
	resp.id = 0;
	resp.body_case = FUTURED__RESPONSE__BODY_TASK;
	resp.task = &t;
	request_send(c, &resp);
	free(kvs);
	free(kvp);
}

/* The Task of attempt of j, packed (a one-shot's file, oneshot.c). */
uint8_t *
request_worker_task_pack(struct job *j, uint32_t attempt, size_t *lenp)
{
	Futured__Task		 t;
	Futured__KeyValue	*kvs, **kvp;
	uint8_t			*buf;

	request_worker_task_init(&t, j, attempt, &kvs, &kvp);
	*lenp = futured__task__get_packed_size(&t);
	buf = xmalloc(*lenp > 0 ? *lenp : 1);
	futured__task__pack(&t, buf);
	free(kvs);
	free(kvp);
	return (buf);
}

void
request_worker_cancel(struct conn *c, uint64_t id, uint32_t attempt,
    const char *reason)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__TaskCancel	 t = FUTURED__TASK_CANCEL__INIT;

	t.job_id = id;
	t.attempt = attempt;
	t.reason = (char *)reason;
	resp.id = 0;
	resp.body_case = FUTURED__RESPONSE__BODY_TASK_CANCEL;
	resp.task_cancel = &t;
	request_send(c, &resp);
}
