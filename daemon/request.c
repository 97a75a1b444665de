/*
 * Requests: decode a frame, dispatch on its body, answer.  This and
 * libfutured.c are the only files that know protobuf-c's names.
 *
 * A handler either answers at once (request_reply) or parks a pending
 * answer on the connection behind a waiter of sched.c (wait, cancel,
 * subscribe); a connection that goes away drops its pendings, and with
 * them its waiters, so nothing is ever sent to a freed connection.  The
 * completion a submit asks for is cheaper: see request_sinks.
 * JobInfo messages borrow the job's strings and bytes: they are packed
 * before anything can change the job.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "arena.h"
#include "frame.h"
#include "log.h"
#include "wire.h"
#include "xmalloc.h"

#define REQUEST_IDS_MAX		65536	/* ids in one status/wait/cancel */

enum pending_type {
	PENDING_WAIT,
	PENDING_CANCEL,
	PENDING_NOTIFY,
	PENDING_SUBMIT,		/* the answer waits for the journal */
	PENDING_WATCH,
	PENDING_SINK		/* the conn takes its jobs' completions */
};

/* How often a watch looks for news of a running job. */
#define REQUEST_WATCH_TICK_MS	100

struct pending {
	struct conn		*conn;
	uint64_t		 reqid;
	enum pending_type	 type;
	struct waiter		*waiter;
	int			 with_output;
	int			 brief;		/* notify: outcome only */
	int			 notify;	/* submit: REQUEST_NOTIFY_* */
	/* submit: the job, until its ACCEPT record is durable */
	struct journal_waiter	 jw;
	struct job		*job;
	/* watch: what the watcher has been told so far */
	struct event		*tick;
	size_t			 out_sent;
	enum job_state		 last_state;
	double			 last_progress;
	char			*last_msg;
	int			 progress_only;
	/* cancel: which ids took effect, and unknown ids, in request order */
	uint64_t		*ids;
	int			*effect;	/* 1, 0, or -1 not found */
	size_t			 nids;
	TAILQ_ENTRY(pending)	 entry;
	LIST_ENTRY(pending)	 sentry;	/* sink: request_sinks */
};

/*
 * A submit that asks for its completion costs the job 8 bytes (the
 * connection's id in j->notify), not a pending and a waiter: a million
 * queued jobs must fit.  The connection has one sink, found by its id
 * when a job ends; a connection gone by then has no sink, and the
 * completion is dropped.
 */
#define REQUEST_SINK_BUCKETS	256
static LIST_HEAD(, pending) request_sinks[REQUEST_SINK_BUCKETS];

static int64_t	request_started_ms;

struct request_ctx {
	struct conn	*conn;
	uint64_t	 reqid;
};

static void
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

static void
request_error(struct conn *c, uint64_t reqid, int code, const char *fmt, ...)
    __attribute__((__format__(__printf__, 4, 5)));

static void
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

static Futured__Kind
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

static Futured__State
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
request_jobinfo_stderr(struct job *j, Futured__JobInfo *info)
{
	if (j->more->errtail.len > 0) {
		info->has_stderr_tail = 1;
		info->stderr_tail.data = j->more->errtail.data;
		info->stderr_tail.len = j->more->errtail.len;
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
static void
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
static void
request_jobinfo(struct job *j, int with_output, Futured__JobInfo *info)
{
	futured__job_info__init(info);
	pool_thread_progress(j);
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
static void
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
	request_jobinfo_stderr(j, info);
}

/* The caller's job, or NULL: others' jobs do not exist for them. */
static struct job *
request_find(struct conn *c, uint64_t id)
{
	struct job	*j;

	if ((j = sched_find(id)) == NULL)
		return (NULL);
	if (c->uid != 0 && j->owner != c->uid)
		return (NULL);
	return (j);
}

static struct pending *
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

static void
request_pending_free(struct pending *p)
{
	TAILQ_REMOVE(&p->conn->pendings, p, entry);
	if (p->type == PENDING_SINK)
		LIST_REMOVE(p, sentry);
	journal_unwait(&p->jw);
	if (p->job != NULL)
		job_unref(p->job);
	if (p->tick != NULL)
		event_free(p->tick);
	free(p->last_msg);
	free(p->ids);
	free(p->effect);
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
}

/* Park p behind a waiter; its callback may run (and free p) at once. */
static void
request_park(struct pending *p, struct job **jobs, size_t n, int any,
    int64_t timeout_ms,
    void (*cb)(struct waiter *, struct job *, int, void *))
{
	struct waiter	*w;

	w = sched_wait(jobs, n, any, timeout_ms, cb, p);
	if (w != NULL)
		p->waiter = w;
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
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_HELLO;
	resp.hello = &r;
	request_send(c, &resp);
}

/* Submit --------------------------------------------------------------- */

static int
request_key_ok(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_')
			return (0);
	}
	return (1);
}

/* Push a final job's completion event to c. */
static void
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
static void
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
static void
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

/* Add the parent's context entries that the child does not set. */
static void
request_inherit_ctx(struct job *j, const struct job *p)
{
	struct job_spec	*js;
	size_t		 i, k;

	for (i = 0; i < p->spec->nctx; i++) {
		for (k = 0; k < j->spec->nctx; k++) {
			if (strcmp(j->spec->ctx[k].key,
			    p->spec->ctx[i].key) == 0)
				break;
		}
		if (k < j->spec->nctx)
			continue;
		js = job_spec_own(j);
		js->ctx = xreallocarray(js->ctx, js->nctx + 1, sizeof(*js->ctx));
		js->ctx[js->nctx].key = xstrdup(p->spec->ctx[i].key);
		js->ctx[js->nctx].value = xstrdup(p->spec->ctx[i].value);
		js->nctx++;
	}
}

/*
 * Tie a new job to its group and its parent.  A child inherits the
 * parent's context (its own entries win) and the earlier of the two
 * deadlines, and is cancelled with its parent (sched.c).
 */
static int
request_link(struct conn *c, struct job *j, const Futured__JobSpec *s,
    int *code, char **cause)
{
	struct job	*p;
	int64_t		 left;

	if (j->spec->group != NULL)
		group_add(group_get(j->owner, j->spec->group, 1), j);
	if (!s->has_parent || s->parent == 0)
		return (0);
	if ((p = request_find(c, s->parent)) == NULL) {
		*code = FERR_NOT_FOUND;
		xasprintf(cause, "no such parent job: %llu",
		    (unsigned long long)s->parent);
		return (-1);
	}
	job_spec_own(j)->parent = p->id;
	job_more(j)->parent_job = p;
	job_ref(p);
	TAILQ_INSERT_TAIL(&job_more(p)->children, job_more(j), centry);
	request_inherit_ctx(j, p);
	if (p->spec->deadline_ms > 0) {
		left = p->more->submitted_mono + p->spec->deadline_ms -
		    job_mono_ms();
		if (left < 1)
			left = 1;
		if (j->spec->deadline_ms == 0 || left < j->spec->deadline_ms)
			job_spec_own(j)->deadline_ms = left;
	}
	return (0);
}

/* Whether a spec has nothing that needs a job_spec of its own. */
static int
request_spec_plain(const Futured__JobSpec *s)
{
	return ((s->name == NULL || *s->name == '\0') &&
	    (s->group == NULL || *s->group == '\0') &&
	    (s->cwd == NULL || *s->cwd == '\0') && s->n_args == 0 &&
	    s->n_env == 0 && s->n_ctx == 0 &&
	    (!s->has_timeout_ms || s->timeout_ms == 0) &&
	    (!s->has_deadline_ms || s->deadline_ms == 0) &&
	    (!s->has_retries || s->retries == 0) &&
	    (!s->has_retry_delay_ms || s->retry_delay_ms == 0) &&
	    (!s->has_retry_timeouts || !s->retry_timeouts) &&
	    s->n_after == 0 && (!s->has_input_from || s->input_from == 0));
}

/* Build a job from a spec, or say what is wrong with it. */
static struct job *
request_job_from_spec(struct conn *c, const Futured__JobSpec *s, int *code,
    char **cause)
{
	const struct fut_handler	*h;
	struct job			*j;
	struct job_spec			*js;
	enum job_kind			 kind;
	size_t				 i;

	*code = FERR_INVALID;
	if ((h = handler_find(s->handler)) == NULL) {
		*code = FERR_UNKNOWN_HANDLER;
		xasprintf(cause, "unknown handler \"%s\"", s->handler);
		return (NULL);
	}
	switch (s->kind) {
	case FUTURED__KIND__KIND_DEFAULT:
		kind = handler_default_kind(h);
		break;
	case FUTURED__KIND__KIND_ASYNC:
		kind = JOB_ASYNC;
		break;
	case FUTURED__KIND__KIND_BLOCKING:
		kind = JOB_BLOCKING;
		break;
	case FUTURED__KIND__KIND_CPU:
		kind = JOB_CPU;
		break;
	default:
		xasprintf(cause, "unknown kind %d", (int)s->kind);
		return (NULL);
	}
	if (!handler_kind_ok(h, kind)) {
		*code = FERR_BAD_KIND;
		xasprintf(cause, "handler \"%s\" does not run as %s (it accepts:%s%s%s)",
		    h->name, job_kind_name(kind),
		    (h->kinds & FUT_HK_ASYNC) ? " async" : "",
		    (h->kinds & FUT_HK_BLOCKING) ? " blocking" : "",
		    (h->kinds & FUT_HK_CPU) ? " cpu" : "");
		return (NULL);
	}
	if (s->has_priority && (s->priority < JOB_PRIO_MIN || s->priority > JOB_PRIO_MAX)) {
		xasprintf(cause, "priority %d is outside %d..%d", s->priority,
		    JOB_PRIO_MIN, JOB_PRIO_MAX);
		return (NULL);
	}
	if (s->has_timeout_ms && s->timeout_ms < 0) {
		xasprintf(cause, "negative timeout");
		return (NULL);
	}
	if (s->has_deadline_ms && s->deadline_ms < 0) {
		xasprintf(cause, "negative deadline");
		return (NULL);
	}
	if (s->has_retry_delay_ms && s->retry_delay_ms < 0) {
		xasprintf(cause, "negative retry delay");
		return (NULL);
	}
	for (i = 0; i < s->n_ctx; i++) {
		if (!request_key_ok(s->ctx[i]->key)) {
			xasprintf(cause, "bad context key \"%s\" (want [A-Za-z0-9_]+)",
			    s->ctx[i]->key);
			return (NULL);
		}
	}
	for (i = 0; i < s->n_env; i++) {
		if (*s->env[i]->key == '\0' || strchr(s->env[i]->key, '=')) {
			xasprintf(cause, "bad environment name \"%s\"",
			    s->env[i]->key);
			return (NULL);
		}
	}
	if (s->has_payload && s->payload.len > settings.max_frame) {
		*code = FERR_TOO_BIG;
		xasprintf(cause, "payload too large");
		return (NULL);
	}

	j = job_new();
	j->owner = c->uid;
	j->kind = kind;
	j->handler = h;
	if (s->has_payload && s->payload.len > 0) {
		j->payload = xmemdup(s->payload.data, s->payload.len);
		j->payload_len = s->payload.len;
	}
	j->priority = s->has_priority ? s->priority : 0;
	if (request_spec_plain(s))
		goto link;

	js = job_spec_own(j);
	if (s->name != NULL && *s->name != '\0')
		js->name = xstrdup(s->name);
	if (s->group != NULL && *s->group != '\0')
		js->group = xstrdup(s->group);
	if (s->cwd != NULL && *s->cwd != '\0')
		js->cwd = xstrdup(s->cwd);
	if (s->n_args > 0) {
		js->args = xcalloc(s->n_args, sizeof(*js->args));
		for (i = 0; i < s->n_args; i++)
			js->args[i] = xstrdup(s->args[i]);
		js->nargs = s->n_args;
	}
	if (s->n_env > 0) {
		js->envp = xcalloc(s->n_env + 1, sizeof(*js->envp));
		for (i = 0; i < s->n_env; i++)
			xasprintf(&js->envp[i], "%s=%s", s->env[i]->key,
			    s->env[i]->value);
	}
	if (s->n_ctx > 0) {
		js->ctx = xcalloc(s->n_ctx, sizeof(*js->ctx));
		for (i = 0; i < s->n_ctx; i++) {
			js->ctx[i].key = xstrdup(s->ctx[i]->key);
			js->ctx[i].value = xstrdup(s->ctx[i]->value);
		}
		js->nctx = s->n_ctx;
	}
	js->timeout_ms = s->has_timeout_ms ? s->timeout_ms : 0;
	js->deadline_ms = s->has_deadline_ms ? s->deadline_ms : 0;
	js->retries = s->has_retries ? s->retries : 0;
	js->retry_delay_ms = s->has_retry_delay_ms ? s->retry_delay_ms : 0;
	js->retry_timeouts = s->has_retry_timeouts && s->retry_timeouts;
	if (s->n_after > 0) {
		js->after = xmemdup(s->after, s->n_after * sizeof(*s->after));
		js->nafter = s->n_after;
	}
	js->input_from = s->has_input_from ? s->input_from : 0;
link:
	if (request_link(c, j, s, code, cause) == -1) {
		job_unref(j);
		return (NULL);
	}
	return (j);
}

/*
 * A --system daemon runs as root.  exec drops to the submitter (through
 * the --exec-as trampoline); echo, sleep and sha256 of a payload touch
 * nothing of the system.  Every other handler, and sha256 of a FILE
 * (it would read the file as root), runs with the daemon's privileges,
 * so only root may submit them.
 */
static int
request_system_refuse(struct conn *c, struct job *j, char **cause)
{
	const char	*name = j->handler->name;

	if (!settings.system || c->uid == 0)
		return (0);
	if (strcmp(name, "exec") == 0 || strcmp(name, "echo") == 0 ||
	    strcmp(name, "sleep") == 0)
		return (0);
	if (strcmp(name, "sha256") == 0) {
		if (j->spec->nargs == 0)
			return (0);
		xasprintf(cause, "sha256 of a file would read it as root: "
		    "pass its contents as the payload (-D FILE) instead");
		return (1);
	}
	xasprintf(cause, "handler \"%s\" runs inside the system daemon, "
	    "as root: only root may submit it", name);
	return (1);
}

/* How a submitter asked to hear of the end: not, in full, or brief. */
#define REQUEST_NOTIFY_NONE	0
#define REQUEST_NOTIFY_FULL	1
#define REQUEST_NOTIFY_BRIEF	2

/* Acknowledge an accepted job; with notify, push its completion later. */
static void
request_submit_reply(struct conn *c, uint64_t reqid, struct job *j,
    int notify)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__SubmitReply	 r = FUTURED__SUBMIT_REPLY__INIT;

	r.id = j->id;
	r.has_state = 1;
	r.state = request_state_out(j->state);
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_SUBMIT;
	resp.submit = &r;
	request_send(c, &resp);

	/* After the answer, so the id is known before its completion. */
	if (notify == REQUEST_NOTIFY_NONE)
		return;
	request_sink(c);
	j->notify = c->id;
	if (notify == REQUEST_NOTIFY_BRIEF)
		j->flags |= JOBF_NOTIFY_BRIEF;
	if (JOB_FINAL(j->state))
		request_job_final(j);
}

/*
 * The journal wrote (and, as the policy says, synced) the job's ACCEPT
 * record, or failed to: only now may the client hear of its id.
 */
static void
request_submit_durable_cb(struct journal_waiter *w, const char *error)
{
	struct pending	*p = w->arg;
	struct job	*j = p->job;

	job_ref(j);
	if (error != NULL) {
		request_error(p->conn, p->reqid, FERR_INTERNAL, "%s", error);
		/* Refused: it must not run on. */
		job_cancel(j, JOB_CANCELLED, 0, "%s", error);
	} else
		request_submit_reply(p->conn, p->reqid, j, p->notify);
	request_pending_free(p);
	job_unref(j);
}

static void
request_submit(struct conn *c, uint64_t reqid, const Futured__SubmitRequest *req)
{
	struct pending		*p;
	struct job		*j;
	char			*cause = NULL;
	int			 code, notify = REQUEST_NOTIFY_NONE;

	if (req->spec == NULL) {
		request_error(c, reqid, FERR_INVALID, "submit without a spec");
		return;
	}
	if (req->has_notify && req->notify)
		notify = req->has_brief && req->brief ? REQUEST_NOTIFY_BRIEF :
		    REQUEST_NOTIFY_FULL;
	if (journal_failed() != NULL) {
		request_error(c, reqid, FERR_INTERNAL, "%s", journal_failed());
		return;
	}
	if ((j = request_job_from_spec(c, req->spec, &code, &cause)) == NULL) {
		request_error(c, reqid, code, "%s", cause);
		free(cause);
		return;
	}
	if (request_system_refuse(c, j, &cause)) {
		request_error(c, reqid, FERR_PERM, "%s", cause);
		free(cause);
		job_unref(j);
		return;
	}
	if (sched_user_pending(c->uid) >= settings.max_queued) {
		request_error(c, reqid, FERR_QUEUE_FULL,
		    "queue full: %llu jobs queued for uid %lu",
		    (unsigned long long)sched_user_pending(c->uid),
		    (unsigned long)c->uid);
		job_unref(j);
		return;
	}
	if (sched_insert(j, &cause) == -1) {
		/* The one way to fail here: a dependency that does not exist. */
		request_error(c, reqid, FERR_NOT_FOUND, "%s", cause);
		free(cause);
		job_unref(j);
		return;
	}
	/* A child of a job already cancelled goes the same way. */
	if (j->more->parent_job != NULL &&
	    (j->more->parent_job->state == JOB_CANCELLED ||
	    j->more->parent_job->state == JOB_TIMED_OUT))
		job_cancel(j, JOB_CANCELLED, 0, "parent %llu %s",
		    (unsigned long long)j->spec->parent,
		    job_state_name(j->more->parent_job->state));
	if (journal_enabled()) {
		/* Answered by the flush at the end of this loop turn. */
		p = request_pending_new(c, reqid, PENDING_SUBMIT);
		p->job = j;
		job_ref(j);
		p->notify = notify;
		journal_wait(&p->jw, request_submit_durable_cb, p);
		return;
	}
	request_submit_reply(c, reqid, j, notify);
}

/* Status, result, list ------------------------------------------------ */

static void
request_status(struct conn *c, uint64_t reqid, const Futured__StatusRequest *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__StatusReply	 r = FUTURED__STATUS_REPLY__INIT;
	Futured__JobInfo	*infos, **ptrs;
	struct job		*j;
	size_t			 i;

	if (req->n_ids > REQUEST_IDS_MAX) {
		request_error(c, reqid, FERR_INVALID, "too many ids (%zu)",
		    req->n_ids);
		return;
	}
	infos = xcalloc(req->n_ids ? req->n_ids : 1, sizeof(*infos));
	ptrs = xcalloc(req->n_ids ? req->n_ids : 1, sizeof(*ptrs));
	for (i = 0; i < req->n_ids; i++) {
		if ((j = request_find(c, req->ids[i])) != NULL)
			request_jobinfo(j, 0, &infos[i]);
		else {
			futured__job_info__init(&infos[i]);
			infos[i].id = req->ids[i];
			infos[i].state = FUTURED__STATE__STATE_UNKNOWN;
			infos[i].has_error_code = 1;
			infos[i].error_code = FUTURED__ERROR_CODE__ERR_NOT_FOUND;
			infos[i].error = (char *)"no such job";
		}
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

	if ((j = request_find(c, req->id)) == NULL) {
		request_error(c, reqid, FERR_NOT_FOUND, "no such job: %llu",
		    (unsigned long long)req->id);
		return;
	}
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

/* The targets of a wait or cancel: ids, or a group.  NULL: answered. */
static size_t
request_targets(struct conn *c, uint64_t reqid, uint64_t *ids, size_t nids,
    const char *group, struct job ***out, int strict)
{
	struct job	**jobs;
	size_t		  i;

	if (group != NULL && *group != '\0') {
		if (nids > 0) {
			request_error(c, reqid, FERR_INVALID,
			    "give ids or a group, not both");
			*out = NULL;
			return (0);
		}
		return (request_collect(c, group, -1, out));
	}
	if (nids > REQUEST_IDS_MAX) {
		request_error(c, reqid, FERR_INVALID, "too many ids (%zu)",
		    nids);
		*out = NULL;
		return (0);
	}
	jobs = xcalloc(nids ? nids : 1, sizeof(*jobs));
	for (i = 0; i < nids; i++) {
		jobs[i] = request_find(c, ids[i]);
		if (jobs[i] == NULL && strict) {
			request_error(c, reqid, FERR_NOT_FOUND,
			    "no such job: %llu", (unsigned long long)ids[i]);
			free(jobs);
			*out = NULL;
			return (0);
		}
	}
	*out = jobs;
	return (nids);
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

	if (req->n_ids == 0 && (req->group == NULL || *req->group == '\0')) {
		request_error(c, reqid, FERR_INVALID, "wait for what? no ids");
		return;
	}
	n = request_targets(c, reqid, req->ids, req->n_ids, req->group,
	    &jobs, 1);
	if (jobs == NULL)
		return;
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
	struct job		*j;
	size_t			 i;

	outs = xcalloc(p->nids ? p->nids : 1, sizeof(*outs));
	ptrs = xcalloc(p->nids ? p->nids : 1, sizeof(*ptrs));
	for (i = 0; i < p->nids; i++) {
		futured__cancel_outcome__init(&outs[i]);
		outs[i].id = p->ids[i];
		if (p->effect[i] < 0 ||
		    (j = request_find(p->conn, p->ids[i])) == NULL) {
			outs[i].has_error_code = 1;
			outs[i].error_code = FUTURED__ERROR_CODE__ERR_NOT_FOUND;
		} else {
			outs[i].took_effect = p->effect[i];
			outs[i].has_state = 1;
			outs[i].state = request_state_out(j->state);
		}
		ptrs[i] = &outs[i];
	}
	r.n_outcomes = p->nids;
	r.outcomes = ptrs;
	resp.id = p->reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_CANCEL;
	resp.cancel = &r;
	request_send(p->conn, &resp);
	free(outs);
	free(ptrs);
	request_pending_free(p);
}

/* Cancel, then answer once every cancelled job has really ended. */
static void
request_cancel(struct conn *c, uint64_t reqid, const Futured__CancelRequest *req)
{
	struct pending	*p;
	struct job	**jobs, **live;
	size_t		  i, n, nlive = 0;

	n = request_targets(c, reqid, req->ids, req->n_ids, req->group,
	    &jobs, 0);
	if (jobs == NULL)
		return;
	p = request_pending_new(c, reqid, PENDING_CANCEL);
	p->nids = n;
	p->ids = xcalloc(n ? n : 1, sizeof(*p->ids));
	p->effect = xcalloc(n ? n : 1, sizeof(*p->effect));
	live = xcalloc(n ? n : 1, sizeof(*live));
	for (i = 0; i < n; i++) {
		if (jobs[i] == NULL) {
			p->ids[i] = req->ids[i];
			p->effect[i] = -1;
			continue;
		}
		p->ids[i] = jobs[i]->id;
		/* Hold them: cancelling may settle and wake others. */
		job_ref(jobs[i]);
	}
	for (i = 0; i < n; i++) {
		if (jobs[i] == NULL)
			continue;
		p->effect[i] = job_cancel(jobs[i], JOB_CANCELLED,
		    req->grace_ms, "cancelled");
		live[nlive++] = jobs[i];
	}
	request_park(p, live, nlive, 0, -1, request_cancel_cb);
	for (i = 0; i < n; i++) {
		if (jobs[i] != NULL)
			job_unref(jobs[i]);
	}
	free(live);
	free(jobs);
}

/* Subscribe ------------------------------------------------------------ */

static void
request_subscribe(struct conn *c, uint64_t reqid,
    const Futured__SubscribeRequest *req)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__SubscribeReply	 r = FUTURED__SUBSCRIBE_REPLY__INIT;
	struct pending		*p;
	struct job		*j, **jobs;
	uint64_t		*ids;
	size_t			 i, n = 0;

	if (req->n_ids > REQUEST_IDS_MAX) {
		request_error(c, reqid, FERR_INVALID, "too many ids (%zu)",
		    req->n_ids);
		return;
	}
	ids = xcalloc(req->n_ids ? req->n_ids : 1, sizeof(*ids));
	jobs = xcalloc(req->n_ids ? req->n_ids : 1, sizeof(*jobs));
	for (i = 0; i < req->n_ids; i++) {
		if ((j = request_find(c, req->ids[i])) == NULL)
			continue;
		jobs[n] = j;
		ids[n++] = j->id;
	}
	r.n_ids = n;
	r.ids = ids;
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_SUBSCRIBE;
	resp.subscribe = &r;
	request_send(c, &resp);
	for (i = 0; i < n; i++) {
		p = request_pending_new(c, 0, PENDING_NOTIFY);
		p->brief = req->has_brief && req->brief;
		request_park(p, &jobs[i], 1, 0, -1, request_notify_cb);
	}
	free(ids);
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

/*
 * The output a watched job has so far: its own once final, else, for a
 * job on the loop (exec), what its handler collected; a pool thread's or
 * worker's output is not readable from here until the job ends.
 */
static const struct buf *
request_watch_output(struct job *j)
{
	if (JOB_FINAL(j->state))
		return (&j->more->output);
	if (j->more->runner == RUNNER_LOOP && j->more->hctx != NULL)
		return (&j->more->hctx->output);
	return (NULL);
}

/* Tell the watcher what changed; 0 if there was nothing to say. */
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
	out = p->progress_only ? NULL : request_watch_output(j);
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

static void
request_watch_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pending	*p = arg;
	struct timeval	 tv = { 0, REQUEST_WATCH_TICK_MS * 1000 };

	request_watch_send(p, 0);
	evtimer_add(p->tick, &tv);
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
 * Follow a job until it is final.  Changes of state and progress and new
 * output are looked for every REQUEST_WATCH_TICK_MS, which bounds what a
 * watch costs whatever the job does; the end is told at once.
 */
static void
request_watch(struct conn *c, uint64_t reqid, const Futured__WatchRequest *req)
{
	struct pending	*p;
	struct job	*j;
	struct timeval	 tv = { 0, REQUEST_WATCH_TICK_MS * 1000 };

	if ((j = request_find(c, req->id)) == NULL) {
		request_error(c, reqid, FERR_NOT_FOUND, "no such job: %llu",
		    (unsigned long long)req->id);
		return;
	}
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
	p->tick = evtimer_new(base, request_watch_tick_cb, p);
	evtimer_add(p->tick, &tv);
	request_park(p, &j, 1, 0, -1, request_watch_final_cb);
}

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

static void
request_stats(struct conn *c, uint64_t reqid)
{
	Futured__Response	 resp = FUTURED__RESPONSE__INIT;
	Futured__StatsReply	 r = FUTURED__STATS_REPLY__INIT;
	Futured__KindStats	 ks[JOB_NKINDS], *ptrs[JOB_NKINDS];
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
	resp.id = reqid;
	resp.body_case = FUTURED__RESPONSE__BODY_STATS;
	resp.stats = &r;
	request_send(c, &resp);
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
	u_int	 i;

	request_started_ms = job_mono_ms();
	arena_init(&request_arena, request_block, sizeof(request_block));
	for (i = 0; i < REQUEST_SINK_BUCKETS; i++)
		LIST_INIT(&request_sinks[i]);
	sched_set_final_hook(request_job_final);
}

/*
 * One frame from a client.  Undecodable: an error answer, and -1 so the
 * connection is closed.  Everything else is answered on the connection.
 */
int
request_dispatch(struct conn *c, const uint8_t *data, size_t len)
{
	Futured__Request	*req;

	req = futured__request__unpack(&request_arena.pb, len, data);
	if (req == NULL) {
		arena_reset(&request_arena);
		log_warnx("connection %llu (uid %lu): undecodable frame of %zu "
		    "bytes", (unsigned long long)c->id, (unsigned long)c->uid,
		    len);
		request_error(c, 0, FERR_PROTO, "undecodable frame");
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
	case FUTURED__REQUEST__BODY_SUBSCRIBE:
		request_subscribe(c, req->id, req->subscribe);
		break;
	case FUTURED__REQUEST__BODY_GROUP:
		request_group(c, req->id, req->group);
		break;
	case FUTURED__REQUEST__BODY_WATCH:
		request_watch(c, req->id, req->watch);
		break;
	default:
		request_error(c, req->id, FERR_PROTO,
		    "unknown request (body %d)", (int)req->body_case);
		break;
	}
	arena_reset(&request_arena);
	return (0);
}
