/*
 * libfutured: watches.  A watch follows one or more jobs through a stream
 * of WatchEvents per job, all answers to one WatchRequest and so to one
 * pending slot (PEND_WATCH) that stays in c->pending until the job's
 * final event.  The reader decodes each event again with malloc (the
 * arena is reset after every frame) and either queues it on the watch
 * (the iterator form, fut_watch_next()) or on the client's callback queue
 * (the callback form), which runs it as done-callbacks are run.  A
 * stream that ends in an error (no such job, connection lost) leaves an
 * error event in its place, so every stream ends exactly once.
 *
 * Lifetime.  A watch holds a reference on its client.  fut_watch_close()
 * drops it and marks the watch closed; the watch's memory goes at once
 * if no stream is open, else when the last one ends (its final event
 * arrives, or the connection goes).
 */

#include "config.h"

#include <sys/queue.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static void
watch_free(struct fut_watch *w)
{
	struct fut_event	*ev;

	while ((ev = TAILQ_FIRST(&w->q)) != NULL) {
		TAILQ_REMOVE(&w->q, ev, entry);
		fut_event_free(ev);
	}
	free(w);
}

/* Hand ev to the caller's side of w: its queue or its callback. */
static void
watch_deliver_locked(struct fut_client *c, struct fut_watch *w,
    struct fut_event *ev)
{
	struct fut_cb	*cb;

	if (w->closed) {
		fut_event_free(ev);
		return;
	}
	if (w->cb == NULL) {
		TAILQ_INSERT_TAIL(&w->q, ev, entry);
		return;
	}
	if ((cb = calloc(1, sizeof(*cb))) == NULL) {
		fut_event_free(ev);	/* lost: no memory to tell it */
		return;
	}
	cb->w = w;
	cb->ev = ev;
	TAILQ_INSERT_TAIL(&c->cbq, cb, entry);
}

/* The stream of job id ended in error err: say so in its place. */
static void
watch_error_locked(struct fut_client *c, struct fut_watch *w, uint64_t id,
    int err, const char *msg)
{
	struct fut_event	*ev;

	client_seterr_locked(c, err, "%s", msg);
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return;
	ev->id = id;
	ev->err = err;
	ev->errmsg = strdup(msg);
	watch_deliver_locked(c, w, ev);
}

/* p's stream is over. */
static void
watch_end_locked(struct pending *p)
{
	struct fut_watch	*w = p->w;

	free(p);
	if (--w->open == 0 && w->closed)
		watch_free(w);
}

/* An answer on p's stream (in the arena; its frame is data, len). */
void
watch_response_locked(struct fut_client *c, struct pending *p,
    Futured__Response *r, const uint8_t *data, size_t len)
{
	struct fut_event	*ev;
	int			 err;

	/* fut_submit_watch(): the SubmitReply, then the stream. */
	if (r->body_case == FUTURED__RESPONSE__BODY_SUBMIT &&
	    p->jobid == 0) {
		p->jobid = r->submit->id;
		p->w->submitted = r->submit->id;
		htab_insert(&c->pending, &p->node, p->node.key);
		return;
	}
	if (r->body_case != FUTURED__RESPONSE__BODY_WATCH ||
	    r->watch->job == NULL) {
		if (r->body_case == FUTURED__RESPONSE__BODY_ERROR) {
			if ((err = client_errcode_map(r->error->code)) ==
			    FUT_OK)
				err = FUT_EPROTO;
			watch_error_locked(c, p->w, p->jobid, err,
			    r->error->message);
		} else
			watch_error_locked(c, p->w, p->jobid, FUT_EPROTO,
			    "unexpected answer from futured");
		watch_end_locked(p);
		return;
	}
	if (!p->w->closed) {
		if ((ev = calloc(1, sizeof(*ev))) == NULL ||
		    (ev->r = futured__response__unpack(NULL, len,
		    data)) == NULL) {
			free(ev);
			watch_error_locked(c, p->w, p->jobid, FUT_ENOMEM,
			    "out of memory");
		} else {
			ev->we = ev->r->watch;
			ev->id = ev->we->job->id;
			info_init(&ev->info, NULL, ev->we->job);
			watch_deliver_locked(c, p->w, ev);
		}
	}
	if (r->watch->final)
		watch_end_locked(p);
	else
		htab_insert(&c->pending, &p->node, p->node.key);
}

/* The connection went before p's stream ended. */
void
watch_lost_locked(struct fut_client *c, struct pending *p, int err,
    const char *msg)
{
	watch_error_locked(c, p->w, p->jobid, err, msg);
	watch_end_locked(p);
}

/* Run a queued event of a watch's callback; called without the lock. */
void
watch_run_cb(struct fut_cb *cb)
{
	struct fut_watch	*w = cb->w;
	struct fut_event	*ev = cb->ev;

	if (ev->err != 0)
		w->cb(NULL, ev->err, w->arg);
	else
		w->cb(ev, 0, w->arg);
	fut_event_free(ev);
}

/* Ask for job id's stream on w.  0, or < 0 if nothing was sent. */
static int
watch_add_locked(struct fut_watch *w, uint64_t id)
{
	struct fut_client	*c = w->c;
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__WatchRequest	 wq = FUTURED__WATCH_REQUEST__INIT;
	struct pending		*p;
	int			 rc;

	if (c->dead)
		return (client_seterr_wait_locked(c, c->dead_err));
	if (id == 0)
		return (client_seterr_locked(c, FUT_EINVAL, "job id 0"));
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (client_seterr_locked(c, FUT_ENOMEM, "out of memory"));
	wq.id = id;
	wq.has_progress_only = 1;
	wq.progress_only = (w->flags & FUT_WATCH_PROGRESS) != 0;
	req.body_case = FUTURED__REQUEST__BODY_WATCH;
	req.watch = &wq;
	p->w = w;
	p->jobid = id;
	if ((rc = client_queue_pending_locked(c, &req, p, PEND_WATCH)) != 0) {
		free(p);
		return (rc);
	}
	w->open++;
	/* A lost connection ends the stream with an error event. */
	(void)client_flush_locked(c, 1);
	return (0);
}

static struct fut_watch *
watch_new(struct fut_client *c, uint64_t id, unsigned int flags,
    void (*cb)(const struct fut_event *, int, void *), void *arg)
{
	struct fut_watch	*w;

	if (c == NULL)
		return (NULL);
	pthread_mutex_lock(&c->lock);
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		client_seterr_locked(c, FUT_ENOMEM, "out of memory");
		client_unlock(c);
		return (NULL);
	}
	w->c = c;
	w->flags = flags;
	w->cb = cb;
	w->arg = arg;
	TAILQ_INIT(&w->q);
	if (watch_add_locked(w, id) != 0) {
		free(w);
		client_unlock(c);
		return (NULL);
	}
	c->refs++;
	client_unlock(c);
	return (w);
}

struct fut_watch *
fut_watch_open(struct fut_client *c, uint64_t id, unsigned int flags)
{
	return (watch_new(c, id, flags, NULL, NULL));
}

struct fut_watch *
fut_watch_start(struct fut_client *c, uint64_t id, unsigned int flags,
    void (*cb)(const struct fut_event *, int, void *), void *arg)
{
	if (cb == NULL)
		return (NULL);
	return (watch_new(c, id, flags, cb, arg));
}

static int
watch_submitted_pred(void *arg)
{
	struct fut_watch	*w = arg;

	return (w->submitted != 0 || w->open == 0);
}

/*
 * A daemon older than SubmitRequest.watch: submit, then watch, and what
 * a fast job writes before the watch is there may be missed (said by
 * fut_event_output_dropped() or the output's truncation).
 */
static struct fut_watch *
watch_submit_then_open(struct fut_client *c, const struct fut_spec *s,
    unsigned int flags, uint64_t *id)
{
	struct fut_future	*f;
	uint64_t		 jid;

	if ((f = fut_submit(c, s)) == NULL)
		return (NULL);
	jid = fut_id(f);
	fut_future_free(f);
	if (id != NULL)
		*id = jid;
	return (watch_new(c, jid, flags, NULL, NULL));
}

/*
 * Submit s and watch the job from its start, in one request: nothing it
 * writes can pass before the watch is there.
 */
struct fut_watch *
fut_submit_watch(struct fut_client *c, const struct fut_spec *s,
    unsigned int flags, uint64_t *id)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__SubmitRequest	 sr = FUTURED__SUBMIT_REQUEST__INIT;
	Futured__JobSpec	 js;
	struct fut_watch	*w;
	struct pending		*p;
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
	if ((rc = client_submit_watch_locked(c)) <= 0) {
		client_unlock(c);
		if (rc < 0)
			return (NULL);
		return (watch_submit_then_open(c, s, flags, id));
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		free(w);
		client_seterr_locked(c, FUT_ENOMEM, "out of memory");
		client_unlock(c);
		return (NULL);
	}
	w->c = c;
	w->flags = flags;
	TAILQ_INIT(&w->q);
	if (s->js.n_args > 0 && s->js.cwd == NULL)
		cwd = getcwd(NULL, 0);
	sr.spec = future_job_spec(s, &js, cwd);
	sr.has_watch = 1;
	sr.watch = 1;
	sr.has_watch_progress_only = 1;
	sr.watch_progress_only = (flags & FUT_WATCH_PROGRESS) != 0;
	req.body_case = FUTURED__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	p->w = w;
	rc = client_queue_pending_locked(c, &req, p, PEND_WATCH);
	free(cwd);
	if (rc != 0) {
		free(p);
		free(w);
		client_unlock(c);
		return (NULL);
	}
	w->open++;
	(void)client_flush_locked(c, 1);
	rc = client_wait_locked(c, watch_submitted_pred, w, -1);
	if (w->submitted == 0) {
		/*
		 * Refused, or the connection lost: the stream's error event
		 * set the client's error already.
		 */
		if (rc != 0)
			client_seterr_wait_locked(c, rc);
		w->closed = 1;
		if (w->open == 0)
			watch_free(w);
		client_unlock(c);
		return (NULL);
	}
	if (id != NULL)
		*id = w->submitted;
	c->refs++;
	client_unlock(c);
	return (w);
}

int
fut_watch_add(struct fut_watch *w, uint64_t id)
{
	struct fut_client	*c;
	int			 rc;

	if (w == NULL)
		return (FUT_EINVAL);
	c = w->c;
	pthread_mutex_lock(&c->lock);
	rc = watch_add_locked(w, id);
	client_unlock(c);
	return (rc);
}

static int
watch_ready_pred(void *arg)
{
	struct fut_watch	*w = arg;

	return (!TAILQ_EMPTY(&w->q) || w->open == 0);
}

int
fut_watch_next(struct fut_watch *w, int64_t timeout_ms, struct fut_event **evp)
{
	struct fut_client	*c;
	struct fut_event	*ev;
	int64_t			 deadline = client_deadline(timeout_ms);
	int			 rc;

	if (evp != NULL)
		*evp = NULL;
	if (w == NULL || evp == NULL)
		return (FUT_EINVAL);
	c = w->c;
	pthread_mutex_lock(&c->lock);
	if (w->cb != NULL) {
		rc = client_seterr_locked(c, FUT_EINVAL,
		    "a watch with a callback has no next event");
		client_unlock(c);
		return (rc);
	}
	for (;;) {
		if ((ev = TAILQ_FIRST(&w->q)) != NULL) {
			TAILQ_REMOVE(&w->q, ev, entry);
			if (ev->err != 0) {
				rc = client_seterr_locked(c, ev->err, "%s",
				    ev->errmsg != NULL ? ev->errmsg :
				    fut_strerror(ev->err));
				fut_event_free(ev);
			} else {
				*evp = ev;
				rc = 1;
			}
			break;
		}
		if (w->open == 0) {
			rc = 0;
			break;
		}
		rc = client_wait_locked(c, watch_ready_pred, w, deadline);
		if (rc == FUT_ETIMEDOUT) {
			client_seterr_wait_locked(c, rc);
			break;
		}
		/* A lost connection left an error event for each stream. */
	}
	client_unlock(c);
	return (rc);
}

int
fut_watch_active(struct fut_watch *w)
{
	int	 open;

	if (w == NULL)
		return (0);
	pthread_mutex_lock(&w->c->lock);
	open = w->open > 0;
	pthread_mutex_unlock(&w->c->lock);
	return (open);
}

void
fut_watch_close(struct fut_watch *w)
{
	struct fut_client	*c;
	struct fut_cb		*cb, *next;
	int			 last;

	if (w == NULL)
		return;
	c = w->c;
	pthread_mutex_lock(&c->lock);
	TAILQ_FOREACH_SAFE(cb, &c->cbq, entry, next) {
		if (cb->w == w) {
			TAILQ_REMOVE(&c->cbq, cb, entry);
			fut_event_free(cb->ev);
			free(cb);
		}
	}
	w->closed = 1;
	if (w->open == 0)
		watch_free(w);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last)
		client_free(c);
}

uint64_t
fut_event_id(const struct fut_event *ev)
{
	return (ev == NULL ? 0 : ev->id);
}

const struct fut_info *
fut_event_info(const struct fut_event *ev)
{
	return (ev == NULL || ev->err != 0 ? NULL : &ev->info);
}

uint64_t
fut_event_output_dropped(const struct fut_event *ev)
{
	if (ev == NULL || ev->we == NULL || !ev->we->has_output_dropped)
		return (0);
	return (ev->we->output_dropped);
}

const void *
fut_event_stderr(const struct fut_event *ev, size_t *len)
{
	if (len != NULL)
		*len = 0;
	if (ev == NULL || ev->we == NULL || !ev->we->has_stderr)
		return (NULL);
	if (len != NULL)
		*len = ev->we->stderr.len;
	return (ev->we->stderr.data != NULL ?
	    (const void *)ev->we->stderr.data : "");
}

uint64_t
fut_event_stderr_dropped(const struct fut_event *ev)
{
	if (ev == NULL || ev->we == NULL || !ev->we->has_stderr_dropped)
		return (0);
	return (ev->we->stderr_dropped);
}

const void *
fut_event_output(const struct fut_event *ev, size_t *len)
{
	if (len != NULL)
		*len = 0;
	if (ev == NULL || ev->we == NULL || !ev->we->has_output)
		return (NULL);
	if (len != NULL)
		*len = ev->we->output.len;
	return (ev->we->output.data != NULL ?
	    (const void *)ev->we->output.data : "");
}

int
fut_event_final(const struct fut_event *ev)
{
	return (ev != NULL && ev->we != NULL && ev->we->final);
}

void
fut_event_free(struct fut_event *ev)
{
	if (ev == NULL)
		return;
	if (ev->r != NULL)
		futured__response__free_unpacked(ev->r, NULL);
	free(ev->errmsg);
	free(ev);
}
