/*
 * Submit: turn a protobuf JobSpec into a job, have job_link.c check and
 * link it, insert it, and answer once its ACCEPT record is durable.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "request.h"
#include "log.h"
#include "xmalloc.h"

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
	    s->n_after == 0 && (!s->has_input_from || s->input_from == 0) &&
	    (!s->has_parent || s->parent == 0) &&
	    (s->engine == NULL || *s->engine == '\0' ||
	    strcmp(s->engine, "local") == 0));
}

/*
 * The job a spec asks for, not yet checked (job_link_check()) nor linked
 * (job_link()); NULL if the spec cannot even be put in the daemon's
 * terms: a handler or a kind it does not know, an environment entry it
 * could not write as NAME=VALUE.
 */
static struct job *
request_job_from_spec(struct conn *c, const Futured__JobSpec *s, int *code,
    char **cause)
{
	const struct fut_handler	*h;
	struct job			*j;
	struct job_spec			*js;
	enum job_kind			 kind;
	const char			*s_engine;
	size_t				 i;

	*code = FERR_INVALID;
	/* A stopped supervised pool's name comes back with the job. */
	if ((h = handler_find(s->handler)) == NULL &&
	    (h = supervise_handler(s->handler, c->uid)) == NULL) {
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
	if (s->engine != NULL && *s->engine != '\0' &&
	    strcmp(s->engine, "local") != 0 && strcmp(s->engine, "slurm") != 0) {
		xasprintf(cause, "unknown engine \"%s\" (local or slurm)",
		    s->engine);
		return (NULL);
	}
	/* An empty name is job_link_check()'s to refuse; this one is lost. */
	for (i = 0; i < s->n_env; i++) {
		if (strchr(s->env[i]->key, '=') != NULL) {
			xasprintf(cause, "bad environment name \"%s\"",
			    s->env[i]->key);
			return (NULL);
		}
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
	/* futured.conf may send a handler's jobs to Slurm (slurm-handlers). */
	if (settings.slurm_nhandlers > 0 && (s->engine == NULL ||
	    *s->engine == '\0') && settings_slurm_routed(h->name))
		s_engine = "slurm";
	else
		s_engine = s->engine;
	if (request_spec_plain(s) && s_engine == s->engine)
		return (j);

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
	js->parent = s->has_parent ? s->parent : 0;
	if (s_engine != NULL && strcmp(s_engine, "slurm") == 0)
		js->engine = JOB_ENGINE_SLURM;
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
	if (!settings.system || c->uid == 0)
		return (0);
	return (handler_system_refuse(j, cause));
}


/* Acknowledge an accepted job; with notify, push its completion later. */
static void
request_submit_reply(struct conn *c, uint64_t reqid, struct job *j,
    int notify, int news)
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
	else if (news)
		request_news_start(j);
}

/*
 * The journal wrote (and, as the policy says, synced) the job's ACCEPT
 * record, or failed to: only now may the client hear of its id.
 */
static void
request_submit_durable_cb(struct journal_waiter *w, const char *error)
{
	struct pending	*p = w->arg, *pw = p->watch;
	struct job	*j = p->job;

	job_ref(j);
	if (error != NULL) {
		request_error(p->conn, p->reqid, FERR_INTERNAL, "%s", error);
		/* An Error is the whole answer: no events follow it. */
		if (pw != NULL) {
			sched_wait_free(pw->waiter);
			request_pending_free(pw);
		}
		/* Refused: it must not run on. */
		job_cancel(j, JOB_CANCELLED, 0, "%s", error);
	} else {
		request_submit_reply(p->conn, p->reqid, j, p->notify,
		    p->want_news);
		if (pw != NULL)
			request_watch_release(pw);
	}
	request_pending_free(p);
	job_unref(j);
}

void
request_submit(struct conn *c, uint64_t reqid, const Futured__SubmitRequest *req)
{
	struct pending		*p, *pw = NULL;
	struct job		*j;
	char			*cause = NULL;
	int			 code, notify = REQUEST_NOTIFY_NONE, news;

	if (req->spec == NULL) {
		request_error(c, reqid, FERR_INVALID, "submit without a spec");
		return;
	}
	if (request_stopping != REQUEST_RUNNING) {
		request_error(c, reqid, FERR_SHUTTING_DOWN,
		    "futured is shutting down: not accepting jobs");
		return;
	}
	if (req->has_notify && req->notify)
		notify = req->has_brief && req->brief ? REQUEST_NOTIFY_BRIEF :
		    REQUEST_NOTIFY_FULL;
	news = req->has_news && req->news;
	if (journal_failed() != NULL) {
		request_error(c, reqid, FERR_INTERNAL, "%s", journal_failed());
		return;
	}
	if ((j = request_job_from_spec(c, req->spec, &code, &cause)) == NULL) {
		request_error(c, reqid, code, "%s", cause);
		free(cause);
		return;
	}
	if (job_link_check(j, 0, &code, &cause) == -1 ||
	    job_link(j, 0, &code, &cause) == -1) {
		request_error(c, reqid, code, "%s", cause);
		free(cause);
		job_unref(j);
		return;
	}
	if (handler_check(j, &cause) == -1) {
		request_error(c, reqid, FERR_INVALID, "%s", cause);
		free(cause);
		job_unref(j);
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
		    "queue full: %llu job%s queued for uid %lu",
		    (unsigned long long)sched_user_pending(c->uid),
		    LOG_PLURAL(sched_user_pending(c->uid)),
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
	job_link_follow(j);
	/* Before anything of the job can run: it misses nothing. */
	if (req->has_watch && req->watch)
		pw = request_watch_held(c, reqid, j,
		    req->has_watch_progress_only && req->watch_progress_only);
	if (journal_enabled()) {
		/* Answered by the flush at the end of this loop turn. */
		p = request_pending_new(c, reqid, PENDING_SUBMIT);
		p->job = j;
		job_ref(j);
		p->notify = notify;
		p->want_news = news;
		p->watch = pw;
		journal_wait(&p->jw, request_submit_durable_cb, p);
		return;
	}
	request_submit_reply(c, reqid, j, notify, news);
	if (pw != NULL)
		request_watch_release(pw);
}
