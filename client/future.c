/*
 * libfutured: futures.  A future stands for one job of the caller's:
 * made by fut_submit(), fut_submit_all() or fut_attach(), registered by
 * job id in c->futures when the daemon accepts it, kept up to date by
 * the JobNews the daemon pushes while the job runs (state and progress;
 * a submit asks for them), settled by the JobEvent it pushes when the
 * job ends (client.c hands both over), and freed by the caller.  See
 * client.c for the locking.
 */

#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

/* Move f's callbacks to the client queue: f became final or was lost. */
void
future_fire_locked(struct fut_future *f)
{
	struct fut_cb	*cb;

	while ((cb = TAILQ_FIRST(&f->cbs)) != NULL) {
		TAILQ_REMOVE(&f->cbs, cb, entry);
		TAILQ_INSERT_TAIL(&f->c->cbq, cb, entry);
	}
}

void
future_register_locked(struct fut_future *f, uint64_t id)
{
	f->id = id;
	if (!f->registered) {
		htab_insert(&f->c->futures, &f->node, id);
		f->registered = 1;
	}
}

/* The job is final: keep its outcome. */
static void
future_settle_locked(struct fut_future *f, const Futured__JobInfo *ji)
{
	if (f->final)
		return;
	f->state = client_state_from_pb(ji->state, FUT_FAILED);
	if (!client_state_is_final(f->state))
		return;		/* not an outcome; ignore */
	if (ji->has_output && ji->output.len > 0) {
		if ((f->output = malloc(ji->output.len)) != NULL) {
			memcpy(f->output, ji->output.data, ji->output.len);
			f->outlen = ji->output.len;
		}
	}
	if (ji->has_stderr_tail && ji->stderr_tail.len > 0) {
		if ((f->errtail = malloc(ji->stderr_tail.len)) != NULL) {
			memcpy(f->errtail, ji->stderr_tail.data,
			    ji->stderr_tail.len);
			f->errtaillen = ji->stderr_tail.len;
		}
	}
	free(f->errmsg);
	f->errmsg = NULL;
	if (ji->error != NULL && *ji->error != '\0')
		f->errmsg = strdup(ji->error);
	f->exit_status = ji->has_exit_status ? ji->exit_status : -1;
	f->sig = ji->has_signal ? ji->signal : 0;
	f->final = 1;
	future_fire_locked(f);
}

/* A non-final state from a status or cancel answer. */
void
future_update_locked(struct fut_future *f, Futured__State s)
{
	enum fut_state	 st;

	if (f->final)
		return;
	st = client_state_from_pb(s, f->state);
	/*
	 * A final state without the JobEvent would make fut_output() NULL
	 * for a "finished" job; the event follows, so keep the last
	 * non-final state until it arrives.
	 */
	if (!client_state_is_final(st))
		f->state = st;
}

/* A JobEvent: settle every future of the job. */
void
future_event_locked(struct fut_client *c, const Futured__JobInfo *ji)
{
	struct hnode	*n;

	if (ji == NULL)
		return;
	HTAB_FOREACH_KEY(n, &c->futures, ji->id)
		future_settle_locked(HTAB_ENTRY(struct fut_future, node, n),
		    ji);
}

/* A future's news: its state and progress as the daemon says them. */
static void
future_news_one_locked(struct fut_future *f, const Futured__JobInfo *ji)
{
	char	*msg;

	if (f->final)
		return;
	future_update_locked(f, ji->state);
	if (ji->has_progress)
		f->progress = ji->progress;
	if (ji->progress_msg != NULL && (f->progress_msg == NULL ||
	    strcmp(f->progress_msg, ji->progress_msg) != 0) &&
	    (msg = strdup(ji->progress_msg)) != NULL) {
		free(f->progress_msg);
		f->progress_msg = msg;
	}
}

/* A JobNews: the jobs of some futures changed state or progress. */
void
future_news_locked(struct fut_client *c, const Futured__JobNews *news)
{
	struct hnode	*n;
	size_t		 i;

	for (i = 0; i < news->n_jobs; i++)
		HTAB_FOREACH_KEY(n, &c->futures, news->jobs[i]->id)
			future_news_one_locked(HTAB_ENTRY(struct fut_future,
			    node, n), news->jobs[i]);
	for (i = 0; i < news->n_running; i++)
		HTAB_FOREACH_KEY(n, &c->futures, news->running[i])
			future_update_locked(HTAB_ENTRY(struct fut_future,
			    node, n), FUTURED__STATE__STATE_RUNNING);
}

/* A state from a status answer. */
void
future_status_locked(struct fut_client *c, const Futured__JobInfo *ji)
{
	struct hnode	*n;

	if (ji == NULL)
		return;
	HTAB_FOREACH_KEY(n, &c->futures, ji->id)
		future_update_locked(HTAB_ENTRY(struct fut_future, node, n),
		    ji->state);
}

void
future_refresh_done_locked(struct fut_client *c, uint64_t jobid)
{
	struct hnode	*n;

	HTAB_FOREACH_KEY(n, &c->futures, jobid)
		HTAB_ENTRY(struct fut_future, node, n)->refreshing = 0;
}

static struct fut_future *
future_new_locked(struct fut_client *c)
{
	struct fut_future	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->c = c;
	f->state = FUT_QUEUED;
	f->exit_status = -1;
	TAILQ_INIT(&f->cbs);
	c->refs++;
	return (f);
}

/* Free f; returns 1 when the client lost its last reference. */
static int
future_free_locked(struct fut_future *f)
{
	struct fut_client	*c = f->c;
	struct fut_cb		*cb, *next;

	if (f->registered)
		htab_remove(&c->futures, &f->node);
	while ((cb = TAILQ_FIRST(&f->cbs)) != NULL) {
		TAILQ_REMOVE(&f->cbs, cb, entry);
		free(cb);
	}
	TAILQ_FOREACH_SAFE(cb, &c->cbq, entry, next) {
		if (cb->f == f) {
			TAILQ_REMOVE(&c->cbq, cb, entry);
			free(cb);
		}
	}
	free(f->output);
	free(f->errtail);
	free(f->errmsg);
	free(f->progress_msg);
	free(f);
	return (--c->refs == 0);
}

/*
 * The JobSpec sent for s: s's own, or, for a job with arguments and no
 * directory of its own, a copy in js with the caller's (cwd, NULL if
 * unknown): a relative path among a job's arguments means the
 * submitter's directory, as in a shell.
 */
Futured__JobSpec *
future_job_spec(const struct fut_spec *s, Futured__JobSpec *js, char *cwd)
{
	if (s->js.n_args == 0 || s->js.cwd != NULL || cwd == NULL)
		return ((Futured__JobSpec *)&s->js);
	*js = s->js;
	js->cwd = cwd;
	return (js);
}

static void
submit_request_init(Futured__Request *req, Futured__SubmitRequest *sr,
    Futured__JobSpec *js)
{
	futured__request__init(req);
	futured__submit_request__init(sr);
	sr->spec = js;
	sr->has_notify = 1;
	sr->notify = 1;
	/* The outcome is all a future keeps: spare both ends the rest. */
	sr->has_brief = 1;
	sr->brief = 1;
	/* fut_poll() says running: the daemon tells, no one asks. */
	sr->has_news = 1;
	sr->news = 1;
	req->body_case = FUTURED__REQUEST__BODY_SUBMIT;
	req->submit = sr;
}

struct fut_future *
fut_submit(struct fut_client *c, const struct fut_spec *s)
{
	Futured__Request	 req;
	Futured__SubmitRequest	 sr;
	Futured__JobSpec	 js;
	struct pending		 p;
	struct fut_future	*f;
	char			*cwd = NULL;
	int			 rc;

	if (c == NULL)
		return (NULL);
	pthread_mutex_lock(&c->lock);
	if (s == NULL) {
		client_seterr_locked(c, FUT_EINVAL, "no spec");
		client_unlock(c);
		return (NULL);
	}
	if (c->dead) {
		client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (NULL);
	}
	if ((f = future_new_locked(c)) == NULL) {
		client_seterr_locked(c, FUT_ENOMEM, "out of memory");
		client_unlock(c);
		return (NULL);
	}
	memset(&p, 0, sizeof(p));
	p.fut = f;
	if (s->js.n_args > 0 && s->js.cwd == NULL)
		cwd = getcwd(NULL, 0);
	submit_request_init(&req, &sr, future_job_spec(s, &js, cwd));
	rc = client_call_locked(c, &req, &p, PEND_SUBMIT);
	free(cwd);
	if (rc == 0 && p.resp->body_case != FUTURED__RESPONSE__BODY_SUBMIT)
		rc = client_seterr_resp_locked(c, p.resp);
	client_pending_drop_locked(c, &p);
	if (rc != 0) {
		future_free_locked(f);	/* c holds the caller's ref */
		f = NULL;
	}
	client_unlock(c);
	return (f);
}

static int
pendings_done_pred(void *arg)
{
	struct {
		struct pending	*p;
		size_t		 n;
	} *a = arg;
	size_t	 i;

	for (i = 0; i < a->n; i++)
		if (!a->p[i].done)
			return (0);
	return (1);
}

int
fut_submit_all(struct fut_client *c, const struct fut_spec *const *specs,
    size_t n, struct fut_future **out)
{
	Futured__Request	 req;
	Futured__SubmitRequest	 sr;
	Futured__JobSpec	 js;
	struct pending		*p;
	char			*cwd = NULL;
	struct {
		struct pending	*p;
		size_t		 n;
	}			 arg;
	size_t			 i, queued;
	int			 rc = 0, accepted = 0;

	if (c == NULL)
		return (FUT_EINVAL);
	if (n == 0)
		return (0);
	pthread_mutex_lock(&c->lock);
	if (specs == NULL || out == NULL) {
		rc = client_seterr_locked(c, FUT_EINVAL, "no specs");
		client_unlock(c);
		return (rc);
	}
	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (c->dead) {
		rc = client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (rc);
	}
	if ((p = calloc(n, sizeof(*p))) == NULL) {
		rc = client_seterr_locked(c, FUT_ENOMEM, "out of memory");
		client_unlock(c);
		return (rc);
	}
	for (i = 0; i < n && cwd == NULL; i++)
		if (specs[i] != NULL && specs[i]->js.n_args > 0 &&
		    specs[i]->js.cwd == NULL)
			cwd = getcwd(NULL, 0);
	/* All frames go into wbuf first: one write for the lot. */
	for (queued = 0; queued < n; queued++) {
		if (specs[queued] == NULL) {
			rc = client_seterr_locked(c, FUT_EINVAL, "no spec");
			break;
		}
		if ((p[queued].fut = future_new_locked(c)) == NULL) {
			rc = client_seterr_locked(c, FUT_ENOMEM,
			    "out of memory");
			break;
		}
		submit_request_init(&req, &sr, future_job_spec(specs[queued], &js,
		    cwd));
		rc = client_queue_pending_locked(c, &req, &p[queued],
		    PEND_SUBMIT);
		if (rc != 0) {
			future_free_locked(p[queued].fut);
			break;
		}
	}
	if (queued > 0) {
		client_flush_locked(c, 1);
		arg.p = p;
		arg.n = queued;
		client_wait_locked(c, pendings_done_pred, &arg, -1);
	}
	for (i = 0; i < queued; i++) {
		if (p[i].done && p[i].err == 0 && p[i].resp != NULL &&
		    p[i].resp->body_case == FUTURED__RESPONSE__BODY_SUBMIT) {
			out[i] = p[i].fut;
			accepted++;
		} else {
			/* The last refusal's reason is the client error. */
			if (p[i].done && p[i].err == 0 && p[i].resp != NULL)
				client_seterr_resp_locked(c, p[i].resp);
			future_free_locked(p[i].fut);
		}
		client_pending_drop_locked(c, &p[i]);
	}
	free(p);
	free(cwd);
	if (accepted == 0 && queued > 0 && c->dead)
		rc = client_seterr_wait_locked(c, c->dead_err);
	client_unlock(c);
	if (rc < 0 && accepted == 0)
		return (rc);
	return (accepted);
}

struct fut_future *
fut_attach(struct fut_client *c, uint64_t id)
{
	Futured__Request		 req = FUTURED__REQUEST__INIT;
	Futured__Request		 sreq = FUTURED__REQUEST__INIT;
	Futured__SubscribeRequest	 sub = FUTURED__SUBSCRIBE_REQUEST__INIT;
	Futured__StatusRequest		 st = FUTURED__STATUS_REQUEST__INIT;
	struct pending			 p, *rp;
	struct fut_future		*f;
	int				 rc;

	if (c == NULL)
		return (NULL);
	pthread_mutex_lock(&c->lock);
	if (c->dead) {
		client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (NULL);
	}
	if (id == 0 || (f = future_new_locked(c)) == NULL) {
		client_seterr_locked(c, id == 0 ? FUT_EINVAL : FUT_ENOMEM,
		    id == 0 ? "job id 0" : "out of memory");
		client_unlock(c);
		return (NULL);
	}
	f->id = id;
	memset(&p, 0, sizeof(p));
	p.fut = f;
	sub.n_ids = 1;
	sub.ids = &id;
	sub.has_brief = 1;
	sub.brief = 1;
	sub.has_news = 1;
	sub.news = 1;
	req.body_case = FUTURED__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	rc = client_queue_pending_locked(c, &req, &p, PEND_ATTACH);
	/* The state too, in the same write; its answer comes after. */
	if (rc == 0 && (rp = calloc(1, sizeof(*rp))) != NULL) {
		st.n_ids = 1;
		st.ids = &id;
		sreq.body_case = FUTURED__REQUEST__BODY_STATUS;
		sreq.status = &st;
		rp->jobid = id;
		if (client_queue_pending_locked(c, &sreq, rp,
		    PEND_REFRESH) != 0)
			free(rp);
		else
			f->refreshing = 1;
	}
	if (rc == 0 && (rc = client_flush_locked(c, 1)) != 0 && !p.done)
		rc = client_seterr_wait_locked(c, rc);
	else if (rc == 0) {
		rc = client_wait_locked(c, client_pending_done_pred, &p, -1);
		if (rc == 0 && p.err != 0)
			rc = p.err;
		if (rc != 0)
			client_seterr_wait_locked(c, rc);
	}
	if (rc == 0 && p.resp->body_case != FUTURED__RESPONSE__BODY_SUBSCRIBE)
		rc = client_seterr_resp_locked(c, p.resp);
	else if (rc == 0 && !f->registered)
		rc = client_seterr_locked(c, FUT_ENOTFOUND,
		    "no such job: %llu", (unsigned long long)id);
	client_pending_drop_locked(c, &p);
	if (rc != 0) {
		future_free_locked(f);
		f = NULL;
	}
	client_unlock(c);
	return (f);
}

uint64_t
fut_id(const struct fut_future *f)
{
	return (f == NULL ? 0 : f->id);
}

enum fut_state
fut_poll(struct fut_future *f)
{
	struct fut_client	*c;
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatusRequest	 st = FUTURED__STATUS_REQUEST__INIT;
	struct pending		*rp;
	enum fut_state		 s;
	uint64_t		 id;

	if (f == NULL)
		return (FUT_FAILED);
	c = f->c;
	pthread_mutex_lock(&c->lock);
	if (!f->final && !c->dead) {
		if (c->wbuf.len > 0)
			client_flush_locked(c, 0);
		if (!c->reading)
			client_read_round_locked(c, 0);
	}
	/*
	 * Ask for a fresher state for the next poll, without waiting;
	 * unless the daemon tells of the job's changes unasked (JobNews).
	 */
	if (!f->final && !c->dead && !f->refreshing && f->registered &&
	    !f->news && (rp = calloc(1, sizeof(*rp))) != NULL) {
		id = f->id;
		st.n_ids = 1;
		st.ids = &id;
		req.body_case = FUTURED__REQUEST__BODY_STATUS;
		req.status = &st;
		rp->jobid = id;
		if (client_queue_pending_locked(c, &req, rp,
		    PEND_REFRESH) != 0)
			free(rp);
		else {
			f->refreshing = 1;
			client_flush_locked(c, 0);
		}
	}
	s = f->state;
	client_unlock(c);
	return (s);
}

static int
future_done_pred(void *arg)
{
	struct fut_future	*f = arg;

	return (f->final || f->lost);
}

int
fut_wait(struct fut_future *f, int64_t timeout_ms)
{
	struct fut_client	*c;
	int			 rc;

	if (f == NULL)
		return (FUT_EINVAL);
	c = f->c;
	pthread_mutex_lock(&c->lock);
	rc = client_wait_locked(c, future_done_pred, f,
	    client_deadline(timeout_ms));
	if (rc == 0 && !f->final)
		rc = c->dead ? c->dead_err : FUT_ECONN;
	client_unlock(c);
	return (rc);
}

struct futs_arg {
	struct fut_future	**fs;
	size_t			  n;
	int			  any;
	size_t			  which;
};

static int
futures_done_pred(void *arg)
{
	struct futs_arg	*a = arg;
	size_t		 i;

	for (i = 0; i < a->n; i++) {
		if (a->fs[i]->final || a->fs[i]->lost) {
			if (a->any) {
				a->which = i;
				return (1);
			}
		} else if (!a->any)
			return (0);
	}
	return (!a->any);
}

/* All futures on one client: the common case, waited on in one go. */
static int
futures_same_client(struct fut_future **fs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (fs[i] == NULL || fs[i]->c != fs[0]->c)
			return (0);
	return (1);
}

int
fut_wait_all(struct fut_future **fs, size_t n, int64_t timeout_ms)
{
	struct futs_arg	 a;
	struct fut_client *c;
	int64_t		 deadline = client_deadline(timeout_ms), left;
	size_t		 i;
	int		 rc;

	if (n == 0)
		return (0);
	if (fs == NULL)
		return (FUT_EINVAL);
	if (!futures_same_client(fs, n)) {
		/* Futures of several clients: one after the other. */
		for (i = 0; i < n; i++) {
			if (fs[i] == NULL)
				return (FUT_EINVAL);
			left = deadline < 0 ? -1 : deadline - client_mono_ms();
			if (deadline >= 0 && left < 0)
				left = 0;
			if ((rc = fut_wait(fs[i], left)) != 0)
				return (rc);
		}
		return (0);
	}
	c = fs[0]->c;
	a.fs = fs;
	a.n = n;
	a.any = 0;
	pthread_mutex_lock(&c->lock);
	rc = client_wait_locked(c, futures_done_pred, &a, deadline);
	for (i = 0; rc == 0 && i < n; i++)
		if (!fs[i]->final)
			rc = c->dead ? c->dead_err : FUT_ECONN;
	client_unlock(c);
	return (rc);
}

int
fut_wait_any(struct fut_future **fs, size_t n, int64_t timeout_ms,
    size_t *which)
{
	struct futs_arg	 a;
	struct fut_client *c;
	int		 rc;

	if (fs == NULL || n == 0 || !futures_same_client(fs, n))
		return (FUT_EINVAL);
	c = fs[0]->c;
	a.fs = fs;
	a.n = n;
	a.any = 1;
	a.which = 0;
	pthread_mutex_lock(&c->lock);
	rc = client_wait_locked(c, futures_done_pred, &a,
	    client_deadline(timeout_ms));
	if (rc == 0 && !fs[a.which]->final)
		rc = c->dead ? c->dead_err : FUT_ECONN;
	if (rc == 0 && which != NULL)
		*which = a.which;
	client_unlock(c);
	return (rc);
}

int
fut_cancel(struct fut_future *f)
{
	struct fut_client	*c;
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__CancelRequest	 cr = FUTURED__CANCEL_REQUEST__INIT;
	Futured__CancelOutcome	*o;
	struct pending		 p;
	uint64_t		 id;
	int			 rc;

	if (f == NULL)
		return (FUT_EINVAL);
	c = f->c;
	pthread_mutex_lock(&c->lock);
	if (f->final) {
		client_unlock(c);
		return (0);
	}
	if (c->dead) {
		rc = client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (rc);
	}
	id = f->id;
	cr.n_ids = 1;
	cr.ids = &id;
	req.body_case = FUTURED__REQUEST__BODY_CANCEL;
	req.cancel = &cr;
	memset(&p, 0, sizeof(p));
	if ((rc = client_call_locked(c, &req, &p, PEND_WAIT)) == 0) {
		if (p.resp->body_case != FUTURED__RESPONSE__BODY_CANCEL) {
			rc = client_seterr_resp_locked(c, p.resp);
		} else if (p.resp->cancel->n_outcomes < 1) {
			rc = client_seterr_locked(c, FUT_EPROTO,
			    "empty cancel answer");
		} else {
			o = p.resp->cancel->outcomes[0];
			if (o->has_error_code && o->error_code !=
			    FUTURED__ERROR_CODE__ERR_NONE) {
				rc = client_errcode_map(o->error_code);
				client_seterr_locked(c, rc, "job %llu: %s",
				    (unsigned long long)id,
				    fut_strerror(rc));
			} else {
				rc = o->took_effect ? 1 : 0;
				if (o->has_state)
					future_update_locked(f, o->state);
			}
		}
	}
	client_pending_drop_locked(c, &p);
	client_unlock(c);
	return (rc);
}

double
fut_progress(struct fut_future *f, char *msg, size_t msglen)
{
	double	 p;

	if (f == NULL) {
		if (msg != NULL && msglen > 0)
			*msg = '\0';
		return (0);
	}
	pthread_mutex_lock(&f->c->lock);
	p = f->final && f->state == FUT_SUCCEEDED ? 1.0 : f->progress;
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s", f->progress_msg != NULL ?
		    f->progress_msg : "");
	pthread_mutex_unlock(&f->c->lock);
	return (p);
}

const void *
fut_output(struct fut_future *f, size_t *len)
{
	const void	*p = NULL;
	size_t		 l = 0;

	if (f == NULL)
		return (NULL);
	pthread_mutex_lock(&f->c->lock);
	if (f->final) {
		p = f->output != NULL ? (const void *)f->output : "";
		l = f->outlen;
	}
	pthread_mutex_unlock(&f->c->lock);
	if (len != NULL)
		*len = l;
	return (p);
}

const char *
fut_error(struct fut_future *f)
{
	const char	*e;

	if (f == NULL)
		return (NULL);
	pthread_mutex_lock(&f->c->lock);
	e = (f->final || f->lost) ? f->errmsg : NULL;
	pthread_mutex_unlock(&f->c->lock);
	return (e);
}

int
fut_exit_status(struct fut_future *f)
{
	int	 e;

	if (f == NULL)
		return (-1);
	pthread_mutex_lock(&f->c->lock);
	e = f->final ? f->exit_status : -1;
	pthread_mutex_unlock(&f->c->lock);
	return (e);
}

int
fut_signal(struct fut_future *f)
{
	int	 s;

	if (f == NULL)
		return (0);
	pthread_mutex_lock(&f->c->lock);
	s = f->final ? f->sig : 0;
	pthread_mutex_unlock(&f->c->lock);
	return (s);
}

const void *
fut_stderr(struct fut_future *f, size_t *len)
{
	const void	*p = NULL;
	size_t		 l = 0;

	if (f == NULL)
		return (NULL);
	pthread_mutex_lock(&f->c->lock);
	if (f->final && f->errtail != NULL) {
		p = f->errtail;
		l = f->errtaillen;
	}
	pthread_mutex_unlock(&f->c->lock);
	if (len != NULL)
		*len = l;
	return (p);
}

void
fut_on_done(struct fut_future *f, void (*fn)(struct fut_future *, void *),
    void *arg)
{
	struct fut_cb	*cb;
	int		 now;

	if (f == NULL || fn == NULL)
		return;
	pthread_mutex_lock(&f->c->lock);
	now = f->final || f->lost;
	if (!now) {
		if ((cb = calloc(1, sizeof(*cb))) == NULL) {
			client_seterr_locked(f->c, FUT_ENOMEM,
			    "out of memory");
			now = 1;	/* better early than never */
		} else {
			cb->f = f;
			cb->fn = fn;
			cb->arg = arg;
			TAILQ_INSERT_TAIL(&f->cbs, cb, entry);
		}
	}
	pthread_mutex_unlock(&f->c->lock);
	if (now)
		fn(f, arg);
}

void
fut_future_free(struct fut_future *f)
{
	struct fut_client	*c;
	int			 last;

	if (f == NULL)
		return;
	c = f->c;
	pthread_mutex_lock(&c->lock);
	last = future_free_locked(f);
	pthread_mutex_unlock(&c->lock);
	if (last)
		client_free(c);
}
