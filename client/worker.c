/*
 * libfutured: the worker side (futured-workers(7)).  A worker is a client
 * connection (client.c: connect, Hello, framing, the reader and writer
 * roles) that registered handlers; the daemon pushes it Tasks and
 * TaskCancels (Response id 0), which client.c hands to
 * worker_push_locked(), and it answers with TaskUpdates.
 *
 * Locking.  Everything here is guarded by the client's lock (c->lock),
 * so a task may be finished from any thread while fut_worker_next()
 * reads on another.  Only a task's cancelled flag is read without it
 * (atomically): fut_task_cancelled() is what a running handler polls.
 *
 * Updates are not waited for, and are sent quiet (TaskUpdate.quiet): the
 * daemon answers only a refusal, which whichever thread reads next hands
 * to worker_answer_locked() by its request id (CLIENT_QUIET_ID and the
 * job's id), so a task thread never waits on the daemon, and nothing
 * is kept per update (an applied update's answer would cost the daemon
 * a write and this process a wakeup, per update).  An update refused with
 * ERR_NOT_FOUND is for an attempt the daemon took back (cancelled,
 * timed out: its TaskCancel came first); it is no error of the
 * worker's.  Any other refusal is recorded as the worker's last error.
 *
 * Lifetime.  A task holds a reference on its worker, and the worker one
 * on its client, so that a task finished after fut_worker_close() (or
 * after the connection was lost) finds its lock and just reports the
 * lost connection.  A task is itself referenced by the caller (until it
 * is finished) and by the cancel queue (until its callback ran).
 */

#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* Output and stderr go in chunks of this much: any frame limit takes it. */
#define WORKER_CHUNK		(256U * 1024)
#define WORKER_NAME_MAX		200
#define WORKER_CONCURRENCY_MAX	65536U
#define WORKER_KINDS		(1U << FUT_ASYNC | 1U << FUT_BLOCKING | \
				    1U << FUT_CPU)

static __thread char	 worker_errcopy[CLIENT_ERRMAX];

/* KIND_ASYNC.. are one more than FUT_ASYNC..; KIND_DEFAULT has none. */
static enum fut_kind
worker_kind_from_pb(Futured__Kind k)
{
	switch (k) {
	case FUTURED__KIND__KIND_ASYNC:
		return (FUT_ASYNC);
	case FUTURED__KIND__KIND_BLOCKING:
		return (FUT_BLOCKING);
	case FUTURED__KIND__KIND_CPU:
		return (FUT_CPU);
	default:
		return (FUT_KIND_DEFAULT);
	}
}

static Futured__Kind
worker_kind_to_pb(enum fut_kind k)
{
	switch (k) {
	case FUT_ASYNC:
		return (FUTURED__KIND__KIND_ASYNC);
	case FUT_BLOCKING:
		return (FUTURED__KIND__KIND_BLOCKING);
	case FUT_CPU:
		return (FUTURED__KIND__KIND_CPU);
	default:
		return (FUTURED__KIND__KIND_DEFAULT);
	}
}

/* Lifetime. */

static void
worker_free(struct fut_worker *w)
{
	struct fut_client	*c = w->c;
	size_t			 i;
	int			 last;

	pthread_mutex_lock(&c->lock);
	c->worker = NULL;
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < w->nhandlers; i++) {
		free(w->handlers[i].name);
		free(w->handlers[i].description);
		free(w->handlers[i].kinds);
	}
	free(w->handlers);
	free(w->fns);
	free(w->pool);
	free(w->name);
	worker_oneshot_free(w->oneshot);
	htab_free(&w->held);
	free(w);
	if (last)
		client_free(c);
}

/* Drop a reference on t: 1 when that was the worker's last (free it). */
static int
worker_task_unref_locked(struct fut_task *t)
{
	struct fut_worker	*w = t->w;

	if (--t->refs > 0)
		return (0);
	if (t->r != NULL)
		futured__response__free_unpacked(t->r, NULL);
	else		/* a one-shot's, read from its file */
		futured__task__free_unpacked((Futured__Task *)t->t, NULL);
	free(t);
	return (--w->refs == 0);
}

/* The task leaves the held table: the daemon no longer counts it ours. */
static void
worker_task_release_locked(struct fut_task *t)
{
	if (!t->held)
		return;
	htab_remove(&t->w->held, &t->node);
	t->held = 0;
	t->w->nheld--;
}

/*
 * t is cancelled: mark it, and queue its callback.  One never given out
 * goes at once.  Never the worker's last reference: its caller's is
 * there while the connection is (this runs on a push or the loss).
 */
static void
worker_task_cancel_locked(struct fut_task *t, const char *reason)
{
	struct fut_worker	*w = t->w;

	if (__atomic_load_n(&t->cancelled, __ATOMIC_ACQUIRE))
		return;
	/* Set before the flag: whoever sees the flag sees the reason. */
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	__atomic_store_n(&t->cancelled, 1, __ATOMIC_RELEASE);
	if (t->ready) {
		TAILQ_REMOVE(&w->ready, t, entry);
		t->ready = 0;
		worker_task_release_locked(t);
		worker_task_unref_locked(t);
		return;
	}
	if (t->cancelq || !t->held)
		return;
	t->cancelq = 1;
	t->refs++;
	TAILQ_INSERT_TAIL(&w->cancels, t, entry);
}

/* Hooks of client.c. */

static struct fut_task *
worker_task_find_locked(struct fut_worker *w, uint64_t job, uint32_t attempt)
{
	struct hnode	*n;
	struct fut_task	*t;

	HTAB_FOREACH_KEY(n, &w->held, job) {
		t = HTAB_ENTRY(struct fut_task, node, n);
		if (t->t->attempt == attempt)
			return (t);
	}
	return (NULL);
}

/*
 * A Task or TaskCancel the daemon pushed (r is in the reader's arena;
 * its frame is data, len).
 */
void
worker_push_locked(struct fut_worker *w, Futured__Response *r,
    const uint8_t *data, size_t len)
{
	struct fut_client	*c = w->c;
	struct fut_task		*t;

	if (r->body_case == FUTURED__RESPONSE__BODY_TASK_CANCEL) {
		t = worker_task_find_locked(w, r->task_cancel->job_id,
		    r->task_cancel->attempt);
		if (t != NULL)
			worker_task_cancel_locked(t,
			    r->task_cancel->reason != NULL &&
			    *r->task_cancel->reason != '\0' ?
			    r->task_cancel->reason : "cancelled");
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->r = futured__response__unpack(NULL, len, data)) == NULL) {
		free(t);
		/*
		 * A task dropped here would hold its slot for ever: close,
		 * and the daemon fails it as "worker lost" (retries apply).
		 */
		client_seterr_locked(c, FUT_ENOMEM, "out of memory for a "
		    "task");
		shutdown(c->fd, SHUT_RDWR);
		return;
	}
	t->t = t->r->task;
	t->w = w;
	t->refs = 1;
	t->held = 1;
	t->ready = 1;
	w->refs++;
	htab_insert(&w->held, &t->node, t->t->job_id);
	w->nheld++;
	TAILQ_INSERT_TAIL(&w->ready, t, entry);
}

/*
 * The answer to an update of job (a refusal, or an older daemon's
 * TaskUpdateReply) or to a ping (job 0).
 */
void
worker_answer_locked(struct fut_worker *w, uint64_t job,
    const Futured__Response *r)
{
	if (r->body_case != FUTURED__RESPONSE__BODY_ERROR)
		return;
	if (r->error->code == FUTURED__ERROR_CODE__ERR_NOT_FOUND)
		return;		/* an attempt taken back: no one's error */
	client_seterr_locked(w->c, client_errcode_map(r->error->code),
	    "futured refused an update of job %" PRIu64 ": %s", job,
	    r->error->message);
}

/* The connection is gone: every task held is as good as cancelled. */
void
worker_lost_locked(struct fut_worker *w)
{
	struct fut_task	*t;
	struct hnode	*n;
	size_t		 i;

	while ((t = TAILQ_FIRST(&w->ready)) != NULL)
		worker_task_cancel_locked(t, "connection lost");
	for (i = 0; i < w->held.nb; i++) {
		LIST_FOREACH(n, &w->held.b[i], entry)
			worker_task_cancel_locked(HTAB_ENTRY(struct fut_task,
			    node, n), "connection lost");
	}
}

void
worker_sent_locked(struct fut_worker *w)
{
	w->last_sent = client_mono_ms();
}

/* Setting up. */

struct fut_worker *
fut_worker_new(const char *path)
{
	struct fut_client	*c;
	struct fut_worker	*w;
	struct worker_oneshot	*os = NULL;
	const char		*pool, *task;

	/* A one-shot (futured-workers(7)): no daemon to reach. */
	if ((task = getenv("FUTURED_ONESHOT")) != NULL && *task != '\0') {
		if ((os = worker_oneshot_new(task,
		    getenv("FUTURED_ONESHOT_RESULT"))) == NULL) {
			errno = ENOMEM;
			return (NULL);
		}
		c = client_unconnected("a one-shot worker ($FUTURED_ONESHOT) "
		    "has no connection to a daemon");
		if (c == NULL) {
			worker_oneshot_free(os);
			errno = ENOMEM;
			return (NULL);
		}
	} else if ((c = fut_connect(path)) == NULL)
		return (NULL);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto fail;
	if (htab_init(&w->held) == -1) {
		free(w);
		goto fail;
	}
	w->oneshot = os;
	os = NULL;
	pool = getenv("FUTURED_POOL");
	if (pool != NULL && *pool != '\0' &&
	    (w->pool = strdup(pool)) == NULL) {
		htab_free(&w->held);
		free(w);
		goto fail;
	}
	w->c = c;
	w->refs = 1;
	w->concurrency = 1;
	TAILQ_INIT(&w->ready);
	TAILQ_INIT(&w->cancels);
	pthread_mutex_lock(&c->lock);
	c->worker = w;
	c->refs++;		/* the worker's own, past fut_close() */
	w->last_sent = client_mono_ms();
	pthread_mutex_unlock(&c->lock);
	return (w);

fail:
	worker_oneshot_free(os);
	fut_close(c);
	errno = ENOMEM;
	return (NULL);
}

const char *
fut_worker_error(struct fut_worker *w)
{
	struct fut_client	*c;

	if (w == NULL)
		return ("no worker");
	c = w->c;
	pthread_mutex_lock(&c->lock);
	memcpy(worker_errcopy, c->errmsg, sizeof(worker_errcopy));
	pthread_mutex_unlock(&c->lock);
	return (worker_errcopy);
}

static int
worker_name_ok(const char *s)
{
	size_t	 n;

	for (n = 0; s[n] != '\0'; n++) {
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') ||
		    strchr("_.:-", s[n]) != NULL))
			return (0);
	}
	return (n >= 1 && n <= WORKER_NAME_MAX);
}

/* Before registration, with the lock: 0, or FUT_EINVAL said. */
static int
worker_unregistered_locked(struct fut_worker *w, const char *what)
{
	if (w->registered)
		return (client_seterr_locked(w->c, FUT_EINVAL, "%s: the "
		    "worker is registered already", what));
	return (0);
}

int
worker_add_handler(struct fut_worker *w, const char *name,
    unsigned int kinds, enum fut_kind dk, const char *description,
    void (*fn)(struct fut_task *, void *), void *arg)
{
	Futured__WorkerHandler	*h, *nh;
	struct worker_fn	*nf;
	size_t			 i;
	int			 rc, k;

	if (w == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&w->c->lock);
	if ((rc = worker_unregistered_locked(w, "fut_worker_handler")) != 0)
		goto out;
	if (name == NULL || !worker_name_ok(name)) {
		rc = client_seterr_locked(w->c, FUT_EINVAL, "bad handler name "
		    "\"%s\": 1 to %d of A-Z a-z 0-9 _ . : -",
		    name != NULL ? name : "(null)", WORKER_NAME_MAX);
		goto out;
	}
	if (kinds == 0 || (kinds & ~WORKER_KINDS) != 0) {
		rc = client_seterr_locked(w->c, FUT_EINVAL, "handler %s: "
		    "kinds 0x%x is no mask of 1 << FUT_ASYNC, FUT_BLOCKING "
		    "and FUT_CPU", name, kinds);
		goto out;
	}
	if (dk != FUT_KIND_DEFAULT && ((unsigned)dk > FUT_CPU ||
	    (kinds & 1U << dk) == 0)) {
		rc = client_seterr_locked(w->c, FUT_EINVAL, "handler %s: its "
		    "default kind is not among its kinds", name);
		goto out;
	}
	for (i = 0; i < w->nhandlers; i++) {
		if (strcmp(w->handlers[i].name, name) == 0) {
			rc = client_seterr_locked(w->c, FUT_EINVAL, "handler "
			    "%s: given twice", name);
			goto out;
		}
	}
	nh = realloc(w->handlers, (w->nhandlers + 1) * sizeof(*nh));
	if (nh != NULL)
		w->handlers = nh;
	nf = realloc(w->fns, (w->nhandlers + 1) * sizeof(*nf));
	if (nf != NULL)
		w->fns = nf;
	if (nh == NULL || nf == NULL)
		goto nomem;
	h = &w->handlers[w->nhandlers];
	futured__worker_handler__init(h);
	h->name = strdup(name);
	h->kinds = calloc(3, sizeof(*h->kinds));
	h->description = description != NULL ? strdup(description) : NULL;
	if (h->name == NULL || h->kinds == NULL ||
	    (description != NULL && h->description == NULL)) {
		free(h->name);
		free(h->kinds);
		free(h->description);
		goto nomem;
	}
	/* The first of the kinds is the default: put it first. */
	if (dk != FUT_KIND_DEFAULT)
		h->kinds[h->n_kinds++] = worker_kind_to_pb(dk);
	for (k = FUT_ASYNC; k <= FUT_CPU; k++)
		if ((kinds & 1U << k) != 0 && (enum fut_kind)k != dk)
			h->kinds[h->n_kinds++] = worker_kind_to_pb(k);
	h->has_default_kind = 1;
	h->default_kind = h->kinds[0];
	w->fns[w->nhandlers].fn = fn;
	w->fns[w->nhandlers].arg = arg;
	w->nhandlers++;
	rc = 0;
	goto out;
nomem:
	rc = client_seterr_locked(w->c, FUT_ENOMEM, "out of memory");
out:
	client_unlock(w->c);
	return (rc);
}

int
fut_worker_handler(struct fut_worker *w, const char *name,
    unsigned int kinds, enum fut_kind default_kind, const char *description)
{
	return (worker_add_handler(w, name, kinds, default_kind,
	    description, NULL, NULL));
}

int
fut_worker_concurrency(struct fut_worker *w, unsigned int n)
{
	int	 rc;

	if (w == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&w->c->lock);
	if ((rc = worker_unregistered_locked(w, "fut_worker_concurrency"))
	    == 0) {
		if (n < 1 || n > WORKER_CONCURRENCY_MAX)
			rc = client_seterr_locked(w->c, FUT_EINVAL,
			    "concurrency %u: not from 1 to %u", n,
			    WORKER_CONCURRENCY_MAX);
		else
			w->concurrency = n;
	}
	client_unlock(w->c);
	return (rc);
}

/* Set *dst to a copy of s (NULL: none), before registration. */
static int
worker_set_string(struct fut_worker *w, char **dst, const char *s,
    const char *what)
{
	char	*copy = NULL;
	int	 rc;

	if (w == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&w->c->lock);
	if ((rc = worker_unregistered_locked(w, what)) == 0) {
		if (s != NULL && (copy = strdup(s)) == NULL)
			rc = client_seterr_locked(w->c, FUT_ENOMEM,
			    "out of memory");
		else {
			free(*dst);
			*dst = copy;
		}
	}
	client_unlock(w->c);
	return (rc);
}

int
fut_worker_pool(struct fut_worker *w, const char *pool)
{
	return (worker_set_string(w, w != NULL ? &w->pool : NULL, pool,
	    "fut_worker_pool"));
}

int
fut_worker_name(struct fut_worker *w, const char *name)
{
	return (worker_set_string(w, w != NULL ? &w->name : NULL, name,
	    "fut_worker_name"));
}

int
fut_worker_register(struct fut_worker *w)
{
	Futured__Request		 req = FUTURED__REQUEST__INIT;
	Futured__WorkerRegister		 wr = FUTURED__WORKER_REGISTER__INIT;
	Futured__WorkerHandler		**hs;
	Futured__Response		*resp;
	size_t				 i;
	int				 rc;

	if (w == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&w->c->lock);
	if ((rc = worker_unregistered_locked(w, "fut_worker_register")) == 0 &&
	    w->nhandlers == 0)
		rc = client_seterr_locked(w->c, FUT_EINVAL, "fut_worker_register: "
		    "no handler to serve");
	hs = NULL;
	if (rc == 0 && (hs = calloc(w->nhandlers, sizeof(*hs))) == NULL)
		rc = client_seterr_locked(w->c, FUT_ENOMEM, "out of memory");
	if (rc == 0 && w->oneshot != NULL) {
		/* Its one Task names its handler: nobody to tell. */
		w->registered = 1;
		free(hs);
		client_unlock(w->c);
		return (0);
	}
	client_unlock(w->c);
	if (rc != 0)
		return (rc);
	for (i = 0; i < w->nhandlers; i++)
		hs[i] = &w->handlers[i];
	wr.n_handlers = w->nhandlers;
	wr.handlers = hs;
	wr.has_concurrency = 1;
	wr.concurrency = w->concurrency;
	wr.pool = w->pool;
	wr.name = w->name != NULL ? w->name : program_invocation_short_name;
	req.body_case = FUTURED__REQUEST__BODY_WORKER_REGISTER;
	req.worker_register = &wr;
	rc = client_request(w->c, &req,
	    FUTURED__RESPONSE__BODY_WORKER_REGISTER, &resp);
	free(hs);
	if (rc != 0)
		return (rc);
	pthread_mutex_lock(&w->c->lock);
	w->registered = 1;
	w->id = resp->worker_register->worker_id;
	w->lease_ms = resp->worker_register->lease_ms;
	pthread_mutex_unlock(&w->c->lock);
	futured__response__free_unpacked(resp, NULL);
	return (0);
}

int
fut_worker_fd(struct fut_worker *w)
{
	return (w != NULL ? fut_client_fd(w->c) : -1);
}

struct fut_client *
fut_worker_client(struct fut_worker *w)
{
	return (w != NULL ? w->c : NULL);
}

void
fut_worker_on_cancel(struct fut_worker *w,
    void (*cb)(struct fut_task *, void *), void *arg)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->c->lock);
	w->on_cancel = cb;
	w->cancel_arg = arg;
	pthread_mutex_unlock(&w->c->lock);
}

/* The lease. */

/* When (monotonic ms) a ping keeps the lease; -1: nothing held. */
static int64_t
worker_ping_at_locked(struct fut_worker *w)
{
	if (w->nheld == 0 || w->lease_ms <= 0)
		return (-1);
	return (w->last_sent + w->lease_ms / 3);
}

int64_t
fut_worker_timeout_ms(struct fut_worker *w)
{
	int64_t	 at, left;

	if (w == NULL)
		return (-1);
	pthread_mutex_lock(&w->c->lock);
	at = worker_ping_at_locked(w);
	pthread_mutex_unlock(&w->c->lock);
	if (at < 0)
		return (-1);
	left = at - client_mono_ms();
	return (left > 0 ? left : 0);
}

/* A ping, whose answer nobody waits for (PEND_WORKER). */
static int
worker_ping_locked(struct fut_worker *w)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__PingRequest	 ping = FUTURED__PING_REQUEST__INIT;
	struct pending		*p;
	int			 rc;

	req.body_case = FUTURED__REQUEST__BODY_PING;
	req.ping = &ping;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (client_seterr_locked(w->c, FUT_ENOMEM,
		    "out of memory"));
	if ((rc = client_queue_pending_locked(w->c, &req, p,
	    PEND_WORKER)) != 0) {
		free(p);
		return (rc);
	}
	return (client_flush_locked(w->c, 1));
}

/* Taking tasks. */

static void
worker_run_cancels_locked(struct fut_worker *w)
{
	struct fut_task	*t;
	void		(*cb)(struct fut_task *, void *);
	void		*arg;

	while ((t = TAILQ_FIRST(&w->cancels)) != NULL) {
		TAILQ_REMOVE(&w->cancels, t, entry);
		t->cancelq = 0;
		cb = w->on_cancel;
		arg = w->cancel_arg;
		if (cb != NULL && t->held) {
			pthread_mutex_unlock(&w->c->lock);
			cb(t, arg);
			pthread_mutex_lock(&w->c->lock);
		}
		/* The caller of fut_worker_next() holds the worker. */
		worker_task_unref_locked(t);
	}
}

static int
worker_next_pred(void *arg)
{
	struct fut_worker	*w = arg;

	return (!TAILQ_EMPTY(&w->ready) || !TAILQ_EMPTY(&w->cancels));
}

int
fut_worker_next(struct fut_worker *w, int64_t timeout_ms,
    struct fut_task **out)
{
	struct fut_client	*c;
	struct fut_task		*t;
	int64_t			 deadline, now, at, wake;
	int			 rc, polled = 0;

	if (out != NULL)
		*out = NULL;
	if (w == NULL || out == NULL)
		return (FUT_EINVAL);
	c = w->c;
	deadline = client_deadline(timeout_ms);
	pthread_mutex_lock(&c->lock);
	if (!w->registered) {
		rc = client_seterr_locked(c, FUT_EINVAL, "fut_worker_next: "
		    "the worker is not registered");
		client_unlock(c);
		return (rc);
	}
	if (w->oneshot != NULL) {
		rc = worker_oneshot_next_locked(w, deadline, out);
		client_unlock(c);
		return (rc);
	}
	for (;;) {
		worker_run_cancels_locked(w);
		if ((t = TAILQ_FIRST(&w->ready)) != NULL) {
			TAILQ_REMOVE(&w->ready, t, entry);
			t->ready = 0;
			*out = t;
			rc = 1;
			break;
		}
		if (c->dead) {
			rc = client_seterr_wait_locked(c, c->dead_err);
			break;
		}
		now = client_mono_ms();
		at = worker_ping_at_locked(w);
		if (at >= 0 && now >= at) {
			worker_ping_locked(w);
			continue;
		}
		if (deadline >= 0 && now >= deadline) {
			/* Read what is there once, without waiting. */
			if (!polled && !c->reading) {
				polled = 1;
				client_read_round_locked(c, 0);
				continue;
			}
			rc = 0;
			break;
		}
		wake = deadline;
		if (at >= 0 && (wake < 0 || at < wake))
			wake = at;
		client_wait_locked(c, worker_next_pred, w, wake);
	}
	client_unlock(c);
	return (rc);
}

int
fut_worker_stop(struct fut_worker *w)
{
	if (w == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&w->c->lock);
	/* The reader wakes to an end of stream, as if the daemon went. */
	if (w->c->fd != -1 && !w->c->dead)
		shutdown(w->c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&w->c->lock);
	return (0);
}

void
fut_worker_close(struct fut_worker *w)
{
	struct fut_client	*c;
	struct fut_task		*t;
	int			 last;

	if (w == NULL)
		return;
	c = w->c;
	pthread_mutex_lock(&c->lock);
	w->closed = 1;
	pthread_mutex_unlock(&c->lock);
	fut_close(c);
	pthread_mutex_lock(&c->lock);
	/* Nobody will call fut_worker_next() to run these. */
	while ((t = TAILQ_FIRST(&w->cancels)) != NULL) {
		TAILQ_REMOVE(&w->cancels, t, entry);
		t->cancelq = 0;
		worker_task_unref_locked(t);
	}
	last = --w->refs == 0;
	client_unlock(c);
	if (last)
		worker_free(w);
}

/* A task. */

uint64_t
fut_task_job_id(const struct fut_task *t)
{
	return (t != NULL ? t->t->job_id : 0);
}

unsigned int
fut_task_attempt(const struct fut_task *t)
{
	return (t != NULL ? t->t->attempt : 0);
}

const char *
fut_task_handler(const struct fut_task *t)
{
	return (t != NULL ? t->t->handler : NULL);
}

enum fut_kind
fut_task_kind(const struct fut_task *t)
{
	return (t != NULL ? worker_kind_from_pb(t->t->kind) :
	    FUT_KIND_DEFAULT);
}

const void *
fut_task_payload(const struct fut_task *t, size_t *len)
{
	if (t == NULL || !t->t->has_payload) {
		if (len != NULL)
			*len = 0;
		return (NULL);
	}
	if (len != NULL)
		*len = t->t->payload.len;
	/* An empty payload is there, and not NULL. */
	return (t->t->payload.data != NULL ? (const void *)t->t->payload.data :
	    (const void *)"");
}

size_t
fut_task_nargs(const struct fut_task *t)
{
	return (t != NULL ? t->t->n_args : 0);
}

const char *
fut_task_arg(const struct fut_task *t, size_t i)
{
	if (t == NULL || i >= t->t->n_args)
		return (NULL);
	return (t->t->args[i]);
}

size_t
fut_task_nctx(const struct fut_task *t)
{
	return (t != NULL ? t->t->n_ctx : 0);
}

const char *
fut_task_ctx(const struct fut_task *t, size_t i, const char **value)
{
	if (t == NULL || i >= t->t->n_ctx) {
		if (value != NULL)
			*value = NULL;
		return (NULL);
	}
	if (value != NULL)
		*value = t->t->ctx[i]->value;
	return (t->t->ctx[i]->key);
}

int64_t
fut_task_deadline_ms(const struct fut_task *t)
{
	return (t != NULL && t->t->has_deadline_at ? t->t->deadline_at : 0);
}

const char *
fut_task_cwd(const struct fut_task *t)
{
	return (t != NULL ? t->t->cwd : NULL);
}

uint64_t
fut_task_parent(const struct fut_task *t)
{
	return (t != NULL && t->t->has_parent ? t->t->parent : 0);
}

int64_t
fut_task_owner_uid(const struct fut_task *t)
{
	return (t != NULL && t->t->has_owner_uid ? (int64_t)t->t->owner_uid : -1);
}

int
fut_task_cancelled(const struct fut_task *t)
{
	if (t == NULL)
		return (0);
	return (__atomic_load_n(&t->cancelled, __ATOMIC_ACQUIRE));
}

const char *
fut_task_cancel_reason(const struct fut_task *t)
{
	if (t == NULL || !__atomic_load_n(&t->cancelled, __ATOMIC_ACQUIRE))
		return (NULL);
	return (t->reason);
}

/*
 * Whether an update of t may go: 0 yes, 1 no (cancelled: the daemon
 * would refuse it), or the connection's error.
 */
static int
worker_task_check_locked(struct fut_task *t)
{
	struct fut_client	*c = t->w->c;

	if (c->dead)
		return (client_seterr_wait_locked(c, c->dead_err));
	if (__atomic_load_n(&t->cancelled, __ATOMIC_ACQUIRE))
		return (1);
	return (0);
}

/* req carries u, for t (u's own fields already set). */
static void
worker_update_req(struct fut_task *t, Futured__Request *req,
    Futured__TaskUpdate *u)
{
	futured__request__init(req);
	u->job_id = t->t->job_id;
	u->attempt = t->t->attempt;
	u->has_quiet = 1;
	u->quiet = 1;
	req->body_case = FUTURED__REQUEST__BODY_TASK_UPDATE;
	req->task_update = u;
}

/* Queue an update of t (in req), quiet: no pending slot. */
static int
worker_queue_update_locked(struct fut_task *t, Futured__Request *req)
{
	req->id = CLIENT_QUIET_ID | (t->t->job_id & ~CLIENT_QUIET_ID);
	return (client_queue_locked(t->w->c, req));
}

/*
 * Queue data as chunks of output (err: of stderr), the last one in
 * last (the outcome) if not NULL.  0 or < 0.
 */
static int
worker_chunks_locked(struct fut_task *t, const void *data, size_t len,
    int err, Futured__TaskUpdate *last)
{
	Futured__Request	 req;
	Futured__TaskUpdate	 u, *up;
	const uint8_t		*p = data;
	size_t			 n;
	int			 rc;

	do {
		n = len > WORKER_CHUNK ? WORKER_CHUNK : len;
		if (last != NULL && n == len)
			up = last;
		else {
			futured__task_update__init(&u);
			up = &u;
		}
		worker_update_req(t, &req, up);
		if (n > 0 && err) {
			up->has_stderr = 1;
			up->stderr.data = (uint8_t *)p;
			up->stderr.len = n;
		} else if (n > 0) {
			up->has_output = 1;
			up->output.data = (uint8_t *)p;
			up->output.len = n;
		}
		if ((rc = worker_queue_update_locked(t, &req)) != 0)
			return (rc);
		p += n;
		len -= n;
	} while (len > 0);
	return (0);
}

/* Send what is queued and leave the lock: 0 or < 0. */
static int
worker_flush_unlock(struct fut_client *c, int rc)
{
	if (rc == 0)
		rc = client_flush_locked(c, 1);
	if (rc < 0 && c->dead)
		rc = client_seterr_wait_locked(c, c->dead_err);
	client_unlock(c);
	return (rc);
}

int
fut_task_progress(struct fut_task *t, double progress, const char *msg)
{
	Futured__Request	 req;
	Futured__TaskUpdate	 u;
	struct fut_client	*c;
	int			 rc;

	if (t == NULL)
		return (FUT_EINVAL);
	c = t->w->c;
	pthread_mutex_lock(&c->lock);
	if (isnan(progress) || progress < 0 || progress > 1) {
		rc = client_seterr_locked(c, FUT_EINVAL, "progress %g: not "
		    "from 0 to 1", progress);
		client_unlock(c);
		return (rc);
	}
	/* A one-shot's progress goes nowhere: nobody follows it. */
	if (t->w->oneshot != NULL) {
		client_unlock(c);
		return (0);
	}
	if ((rc = worker_task_check_locked(t)) != 0) {
		client_unlock(c);
		return (rc > 0 ? 0 : rc);
	}
	futured__task_update__init(&u);
	worker_update_req(t, &req, &u);
	u.has_progress = 1;
	u.progress = progress;
	u.progress_msg = (char *)msg;
	rc = worker_queue_update_locked(t, &req);
	return (worker_flush_unlock(c, rc));
}

static int
worker_data(struct fut_task *t, const void *data, size_t len, int err)
{
	struct fut_client	*c;
	int			 rc;

	if (t == NULL || (data == NULL && len > 0))
		return (FUT_EINVAL);
	if (len == 0)
		return (0);
	c = t->w->c;
	pthread_mutex_lock(&c->lock);
	if (t->w->oneshot != NULL) {
		rc = worker_oneshot_data_locked(t, data, len, err);
		client_unlock(c);
		return (rc);
	}
	if ((rc = worker_task_check_locked(t)) != 0) {
		client_unlock(c);
		return (rc > 0 ? 0 : rc);
	}
	rc = worker_chunks_locked(t, data, len, err, NULL);
	return (worker_flush_unlock(c, rc));
}

int
fut_task_output(struct fut_task *t, const void *data, size_t len)
{
	return (worker_data(t, data, len, 0));
}

int
fut_task_stderr(struct fut_task *t, const void *data, size_t len)
{
	return (worker_data(t, data, len, 1));
}

/* Send the outcome u (output data, len with it) and free t. */
static int
worker_finish(struct fut_task *t, const void *data, size_t len,
    Futured__TaskUpdate *u)
{
	struct fut_worker	*w = t->w;
	struct fut_client	*c = w->c;
	int			 rc, last;

	pthread_mutex_lock(&c->lock);
	if (w->oneshot != NULL)
		rc = worker_oneshot_finish_locked(t, data, len, u);
	else if ((rc = worker_task_check_locked(t)) == 0) {
		u->has_done = 1;
		u->done = 1;
		rc = worker_chunks_locked(t, data, len, 0, u);
		if (rc == 0)
			rc = client_flush_locked(c, 1);
		if (rc < 0 && c->dead)
			rc = client_seterr_wait_locked(c, c->dead_err);
	}
	if (rc > 0)
		rc = 0;
	worker_task_release_locked(t);
	last = worker_task_unref_locked(t);
	client_unlock(c);
	if (last)
		worker_free(w);
	return (rc);
}

int
fut_task_succeed(struct fut_task *t, const void *output, size_t len)
{
	Futured__TaskUpdate	 u = FUTURED__TASK_UPDATE__INIT;

	if (t == NULL)
		return (FUT_EINVAL);
	if (output == NULL)
		len = 0;
	u.has_ok = 1;
	u.ok = 1;
	return (worker_finish(t, output, len, &u));
}

int
fut_task_fail(struct fut_task *t, const char *error, const char *type,
    const char *detail)
{
	Futured__TaskUpdate	 u = FUTURED__TASK_UPDATE__INIT;

	if (t == NULL)
		return (FUT_EINVAL);
	u.has_ok = 1;
	u.ok = 0;
	u.error = (char *)(error != NULL && *error != '\0' ? error : "failed");
	u.error_type = (char *)type;
	u.error_detail = (char *)detail;
	return (worker_finish(t, NULL, 0, &u));
}
