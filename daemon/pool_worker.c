/*
 * Attached workers (futured-workers(7)): programs that connect, register
 * handler names, and take Tasks for those handlers' jobs.  One more
 * engine behind pool.h; request_worker.c speaks the protocol and calls
 * in here, and this file pushes Tasks and TaskCancels through it.
 *
 * DESIGN.  A worker handler is a struct whandler, whose first member is
 * the struct fut_handler the handler registry (handler.c) holds, flagged
 * HANDLER_F_WORKER: pool_of() sends its jobs here whatever their kind.
 * A handler stays registered when its last worker leaves, so that its
 * jobs stay queued (and new ones are taken) until a worker comes back;
 * the journal replay makes one the same way for a job whose worker has
 * not registered yet (pool_worker_handler_wait).
 *
 * Queues.  A worker job waits in its handler's queue here (by priority,
 * then arrival), never in its kind's (pool.h's enqueue/next): it takes
 * no slot of its kind, and a worker job that no worker can take never
 * holds up the other jobs of its kind.  next() gives the first job of
 * any handler that a worker with a free task slot may take.
 *
 * Tasks.  A job handed to a worker is RUNNING and held by it as one
 * wtask (job, attempt) until its outcome comes, it is cancelled or
 * timed out (a TaskCancel, and it settles at once: the worker's late
 * update is refused as stale), or the worker is lost (the job fails
 * "worker lost: ...", and retries apply).  Every job id a worker was
 * given is remembered, so that an update for one it no longer holds
 * (stale: ERR_NOT_FOUND) is told from one for a job it never had
 * (a broken or hostile worker: disconnected).
 *
 * Lease.  A worker holding a task must send something at least every
 * --worker-lease; the timer is armed only while it holds tasks, and
 * re-armed from the last word heard when it fires, so that a frame
 * costs a clock read, not a timer change.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "duration.h"
#include "htab.h"
#include "log.h"
#include "pool.h"
#include "xmalloc.h"

/* Job ids remembered per worker (8 bytes each), see pool_worker_give. */
#define POOL_WORKER_GIVEN_MAX	(1U << 20)

struct whandler {
	struct fut_handler	 h;		/* first: the registry's */
	char			*name;
	char			*description;
	u_int			 nworkers;	/* serving it now */
	struct jobq		 level[JOB_PRIO_LEVELS];
	uint64_t		 nonempty;	/* bit i: level[i] has jobs */
	size_t			 queued;
	TAILQ_ENTRY(whandler)	 entry;
};

struct worker {
	uint64_t		 id;
	struct conn		*conn;
	uid_t			 uid;
	pid_t			 pid;
	char			*name;		/* may be NULL */
	char			*pool;		/* supervised: its pool */
	struct sup_proc		*sup;
	u_int			 concurrency;
	u_int			 held;
	struct whandler		**handlers;
	unsigned int		*kinds;		/* FUT_HK_* per handler */
	size_t			 nhandlers;
	uint64_t		*given;		/* sorted job ids */
	size_t			 ngiven, givencap;
	int64_t			 heard;		/* monotonic ms */
	struct event		*lease;
	TAILQ_HEAD(, wtask)	 tasks;
	TAILQ_ENTRY(worker)	 entry;
};

/* One attempt of one job, held by a worker. */
struct wtask {
	struct hnode		 node;		/* pool_worker_tasks, job id */
	struct job		*job;
	struct worker		*w;
	uint32_t		 attempt;
	int			 launched;
	TAILQ_ENTRY(wtask)	 entry;		/* w->tasks */
	TAILQ_ENTRY(wtask)	 lentry;	/* pool_worker_ready */
};

static TAILQ_HEAD(, whandler)	 pool_worker_handlers =
    TAILQ_HEAD_INITIALIZER(pool_worker_handlers);
static TAILQ_HEAD(, worker)	 pool_worker_list =
    TAILQ_HEAD_INITIALIZER(pool_worker_list);
static TAILQ_HEAD(, wtask)	 pool_worker_ready =
    TAILQ_HEAD_INITIALIZER(pool_worker_ready);
static struct htab		 pool_worker_tasks;
static uint64_t			 pool_worker_next_id = 1;
static u_int			 pool_worker_busy;
/* The worker next() chose for the job it returns; start() takes it. */
static struct worker		*pool_worker_chosen;

static void	pool_worker_lease_cb(evutil_socket_t, short, void *);

/* [A-Za-z0-9_.:-]{1,200}: safe in logs, paths and command lines. */
int
pool_worker_name_ok(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		    *s == ':' || *s == '-'))
			return (0);
	}
	return (n >= 1 && n <= WORKER_NAME_MAX);
}

/* Free text for logs and listings: one line, of bounded length. */
static int
pool_worker_text_ok(const char *s, size_t max)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (0);
	}
	return (n <= max);
}

static unsigned int
pool_worker_kind_bit(enum job_kind k)
{
	return (k == JOB_ASYNC ? FUT_HK_ASYNC : k == JOB_BLOCKING ?
	    FUT_HK_BLOCKING : FUT_HK_CPU);
}

static struct whandler *
pool_worker_whandler(const struct fut_handler *h)
{
	if (h == NULL || !(h->flags & HANDLER_F_WORKER))
		return (NULL);
	return ((struct whandler *)(void *)h);
}

/*
 * The worker handler of that name, made and registered if new; NULL and
 * *cause if the name is taken by a built-in or plugin handler.
 */
static struct whandler *
pool_worker_handler_get(const char *name, unsigned int kinds,
    unsigned int default_kind, char **cause)
{
	const struct fut_handler	*h;
	struct whandler			*wh;
	int				 l;

	if ((h = handler_find(name)) != NULL) {
		if ((wh = pool_worker_whandler(h)) == NULL)
			xasprintf(cause, "handler \"%s\" is the daemon's own "
			    "(built-in or plugin): a worker may not serve it",
			    name);
		return (wh);
	}
	wh = xcalloc(1, sizeof(*wh));
	wh->name = xstrdup(name);
	wh->h.abi = FUT_HANDLER_ABI;
	wh->h.name = wh->name;
	wh->h.description = "served by attached workers";
	wh->h.kinds = kinds;
	wh->h.default_kind = default_kind;
	/*
	 * The worker, not the daemon, runs the job, as the owner's uid or
	 * for owners it may serve (pool_worker_may_take).
	 */
	wh->h.flags = HANDLER_F_WORKER | FUT_HF_SYSTEM_SAFE;
	for (l = 0; l < JOB_PRIO_LEVELS; l++)
		TAILQ_INIT(&wh->level[l]);
	if (handler_register_worker(&wh->h, cause) == -1) {
		free(wh->name);
		free(wh);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&pool_worker_handlers, wh, entry);
	return (wh);
}

const struct fut_handler *
pool_worker_handler_wait(const char *name, enum job_kind k)
{
	struct whandler	*wh;
	char		*cause;

	if ((wh = pool_worker_handler_get(name, pool_worker_kind_bit(k),
	    pool_worker_kind_bit(k), &cause)) == NULL) {
		log_warnx("journal: worker handler %s: %s", name, cause);
		free(cause);
		return (NULL);
	}
	if (wh->nworkers == 0) {
		wh->h.kinds |= pool_worker_kind_bit(k);
		if (wh->h.default_kind == 0)
			wh->h.default_kind = pool_worker_kind_bit(k);
		wh->h.description = "waiting for a worker to register";
	}
	return (&wh->h);
}

/* No worker serves h and no job waits in its queue (handler_retire). */
int
pool_worker_handler_idle(const struct fut_handler *h)
{
	struct whandler	*wh;

	return ((wh = pool_worker_whandler(h)) != NULL && wh->nworkers == 0 &&
	    wh->queued == 0);
}

/*
 * handler.c let h go: out of the engine's list, and no longer a worker
 * handler to anyone (pool_of(), the journal) but the finished jobs
 * that still name it, until pool_worker_handler_free().
 */
void
pool_worker_handler_unlist(const struct fut_handler *h)
{
	struct whandler	*wh = pool_worker_whandler(h);

	if (wh == NULL)
		fatalx("%s: %s is not a worker handler", __func__, h->name);
	TAILQ_REMOVE(&pool_worker_handlers, wh, entry);
	wh->h.flags &= ~HANDLER_F_WORKER;
	wh->h.description = "no longer served";
}

void
pool_worker_handler_free(const struct fut_handler *h)
{
	struct whandler	*wh = (struct whandler *)(uintptr_t)h;

	free(wh->name);
	free(wh->description);
	free(wh);
}

size_t
pool_worker_handler_queued(const char *name)
{
	struct whandler	*wh;

	if ((wh = pool_worker_whandler(handler_find(name))) == NULL)
		return (0);
	return (wh->queued);
}

int
pool_worker_handler_workers(const struct fut_handler *h)
{
	struct whandler	*wh;

	if ((wh = pool_worker_whandler(h)) == NULL)
		return (-1);
	return ((int)wh->nworkers);
}

uint64_t
pool_worker_id(const struct worker *w)
{
	return (w->id);
}

/* The index of wh in w's handlers, or -1. */
static int
pool_worker_serves(const struct worker *w, const struct whandler *wh)
{
	size_t	 i;

	for (i = 0; i < w->nhandlers; i++) {
		if (w->handlers[i] == wh)
			return ((int)i);
	}
	return (-1);
}

/*
 * Register conn as a worker of those handlers; NULL and *cause (for
 * ERR_INVALID) if one of them cannot be.  Nothing changes on failure.
 */
struct worker *
pool_worker_register(struct conn *c, const struct worker_handler_spec *hs,
    size_t n, u_int concurrency, const char *pool, const char *name,
    char **cause)
{
	const struct fut_handler	*h;
	struct whandler			*wh;
	struct worker			*w;
	struct sup_proc			*sp = NULL;
	const char			**names;
	size_t				 i, k;

	if (n == 0) {
		xasprintf(cause, "a worker must serve at least one handler");
		return (NULL);
	}
	if (n > WORKER_HANDLERS_MAX) {
		xasprintf(cause, "too many handlers (%zu, the limit is %d)",
		    n, WORKER_HANDLERS_MAX);
		return (NULL);
	}
	if (concurrency < 1 || concurrency > WORKER_CONCURRENCY_MAX) {
		xasprintf(cause, "concurrency %u: not between 1 and %d",
		    concurrency, WORKER_CONCURRENCY_MAX);
		return (NULL);
	}
	if (name != NULL && !pool_worker_text_ok(name, WORKER_NAME_MAX)) {
		xasprintf(cause, "worker name: at most %d bytes, no control "
		    "characters", WORKER_NAME_MAX);
		return (NULL);
	}
	/* Check everything before anything is made. */
	for (i = 0; i < n; i++) {
		if (!pool_worker_name_ok(hs[i].name)) {
			xasprintf(cause, "bad handler name \"%.*s\": 1 to %d "
			    "of A-Z a-z 0-9 _ . : -", WORKER_NAME_MAX + 1,
			    hs[i].name, WORKER_NAME_MAX);
			return (NULL);
		}
		if ((hs[i].kinds & ~(FUT_HK_ASYNC | FUT_HK_BLOCKING |
		    FUT_HK_CPU)) != 0 || hs[i].kinds == 0 ||
		    (hs[i].kinds & hs[i].default_kind) == 0) {
			xasprintf(cause, "handler \"%s\": bad kinds (at least "
			    "one of async, blocking, cpu; the default among "
			    "them)", hs[i].name);
			return (NULL);
		}
		if (hs[i].description != NULL &&
		    !pool_worker_text_ok(hs[i].description, WORKER_DESC_MAX)) {
			xasprintf(cause, "handler \"%s\": description: at most "
			    "%d bytes, no control characters", hs[i].name,
			    WORKER_DESC_MAX);
			return (NULL);
		}
		for (k = 0; k < i; k++) {
			if (strcmp(hs[k].name, hs[i].name) == 0) {
				xasprintf(cause, "handler \"%s\" named twice",
				    hs[i].name);
				return (NULL);
			}
		}
		if ((h = handler_find(hs[i].name)) == NULL)
			continue;
		if ((wh = pool_worker_whandler(h)) == NULL) {
			xasprintf(cause, "handler \"%s\" is the daemon's own "
			    "(built-in or plugin): a worker may not serve it",
			    hs[i].name);
			return (NULL);
		}
		if (wh->nworkers > 0 && wh->h.kinds != hs[i].kinds) {
			xasprintf(cause, "handler \"%s\" is served by another "
			    "worker with other kinds", hs[i].name);
			return (NULL);
		}
	}
	/* A supervised process: the daemon knows it by its pid. */
	if (pool != NULL) {
		if (supervise_attach(pool, c->pid, &sp, cause) == -1)
			return (NULL);
		if (supervise_one_job(sp))
			concurrency = 1;
	}

	w = xcalloc(1, sizeof(*w));
	w->handlers = xcalloc(n, sizeof(*w->handlers));
	w->kinds = xcalloc(n, sizeof(*w->kinds));
	for (i = 0; i < n; i++) {
		if ((wh = pool_worker_handler_get(hs[i].name, hs[i].kinds,
		    hs[i].default_kind, cause)) == NULL) {
			/* The registry is full: undo what this one did. */
			while (i-- > 0)
				w->handlers[i]->nworkers--;
			if (sp != NULL)
				supervise_detach(sp);
			free(w->handlers);
			free(w->kinds);
			free(w);
			return (NULL);
		}
		if (wh->nworkers++ == 0) {
			wh->h.kinds = hs[i].kinds;
			wh->h.default_kind = hs[i].default_kind;
			free(wh->description);
			wh->description = hs[i].description != NULL ?
			    xstrdup(hs[i].description) : NULL;
			wh->h.description = wh->description != NULL ?
			    wh->description : "served by attached workers";
		}
		w->handlers[i] = wh;
		w->kinds[i] = hs[i].kinds;
	}
	w->nhandlers = n;
	w->id = pool_worker_next_id++;
	w->conn = c;
	w->uid = c->uid;
	w->pid = c->pid;
	w->name = name != NULL ? xstrdup(name) : NULL;
	w->pool = pool != NULL ? xstrdup(pool) : NULL;
	w->sup = sp;
	w->concurrency = concurrency;
	w->heard = job_mono_ms();
	TAILQ_INIT(&w->tasks);
	if (base != NULL)
		w->lease = evtimer_new(base, pool_worker_lease_cb, w);
	TAILQ_INSERT_TAIL(&pool_worker_list, w, entry);
	log_info("worker %llu (uid %lu pid %ld%s%s): %zu handler%s, %u at "
	    "once", (unsigned long long)w->id, (unsigned long)w->uid,
	    (long)w->pid, w->name != NULL ? " " : "",
	    w->name != NULL ? w->name : "", n, LOG_PLURAL(n), concurrency);
	if (sp != NULL) {
		names = xcalloc(n, sizeof(*names));
		for (i = 0; i < n; i++)
			names[i] = w->handlers[i]->name;
		supervise_ready(sp, names, n);
		free(names);
	}
	sched_kick();
	return (w);
}

/* Any word from the worker renews its lease. */
void
pool_worker_heard(struct worker *w)
{
	w->heard = job_mono_ms();
}

static void
pool_worker_lease_arm(struct worker *w, int64_t ms)
{
	if (w->lease == NULL)
		return;
	timer_add_ms(w->lease, ms < 1 ? 1 : ms);
}

static void
pool_worker_lease_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c = w->conn;
	int64_t		 due;
	char		 d[32];

	if (w->held == 0)
		return;
	due = w->heard + settings.worker_lease_ms;
	if (due > job_mono_ms()) {
		pool_worker_lease_arm(w, due - job_mono_ms());
		return;
	}
	pool_worker_lost(w, "no word for %s",
	    duration_format(settings.worker_lease_ms, d, sizeof(d)));
	server_conn_close(c);
}

/* Remember that w was given job id (kept sorted, mostly appended). */
static void
pool_worker_give(struct worker *w, uint64_t id)
{
	size_t	 i;

	if (w->ngiven > 0 && w->given[w->ngiven - 1] == id)
		return;
	/*
	 * A worker that runs for ever must not cost ever more memory: the
	 * oldest half goes (an update for one of those is then taken for
	 * one never given, and costs the worker its connection).
	 */
	if (w->ngiven == POOL_WORKER_GIVEN_MAX) {
		memmove(w->given, w->given + w->ngiven / 2,
		    (w->ngiven - w->ngiven / 2) * sizeof(*w->given));
		w->ngiven -= w->ngiven / 2;
	}
	if (w->ngiven == w->givencap) {
		w->givencap = w->givencap ? w->givencap * 2 : 16;
		w->given = xreallocarray(w->given, w->givencap,
		    sizeof(*w->given));
	}
	for (i = w->ngiven; i > 0 && w->given[i - 1] > id; i--)
		;
	if (i > 0 && w->given[i - 1] == id)
		return;
	memmove(&w->given[i + 1], &w->given[i],
	    (w->ngiven - i) * sizeof(*w->given));
	w->given[i] = id;
	w->ngiven++;
}

static int
pool_worker_was_given(const struct worker *w, uint64_t id)
{
	size_t	 lo = 0, hi = w->ngiven, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (w->given[mid] == id)
			return (1);
		if (w->given[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (0);
}

/*
 * May w take job j now: alive, a free task slot, serving j's handler
 * under j's kind, and acting for j's owner (the same uid, or a root
 * worker; a supervised pool says for itself).
 */
int
pool_worker_may_take(const struct worker *w, const struct job *j)
{
	int	 i;

	if (w->conn == NULL || w->held >= w->concurrency)
		return (0);
	if ((i = pool_worker_serves(w, pool_worker_whandler(j->handler))) ==
	    -1 || !(w->kinds[i] & pool_worker_kind_bit(j->kind)))
		return (0);
	if (w->sup != NULL)
		return (supervise_serves(w->sup, j->owner));
	return (w->uid == 0 || w->uid == j->owner);
}

/* The worker to take j: the least busy of those that may. */
static struct worker *
pool_worker_pick(const struct job *j)
{
	struct worker	*w, *best = NULL;

	TAILQ_FOREACH(w, &pool_worker_list, entry) {
		if (!pool_worker_may_take(w, j))
			continue;
		if (best == NULL || w->concurrency - w->held >
		    best->concurrency - best->held)
			best = w;
	}
	return (best);
}

static void
pool_worker_enqueue(struct job *j)
{
	struct whandler	*wh = pool_worker_whandler(j->handler);
	int		 l = j->priority - JOB_PRIO_MIN;

	TAILQ_INSERT_TAIL(&wh->level[l], j, entry);
	wh->nonempty |= UINT64_C(1) << l;
	wh->queued++;
	/* A retired supervised pool that served it starts again. */
	if (wh->nworkers == 0)
		supervise_wake(wh->name, j->owner);
}

static void
pool_worker_dequeue(struct job *j)
{
	struct whandler	*wh = pool_worker_whandler(j->handler);
	int		 l = j->priority - JOB_PRIO_MIN;

	TAILQ_REMOVE(&wh->level[l], j, entry);
	if (TAILQ_EMPTY(&wh->level[l]))
		wh->nonempty &= ~(UINT64_C(1) << l);
	wh->queued--;
}

/* Has any worker of wh a free task slot? */
static int
pool_worker_room(const struct whandler *wh)
{
	struct worker	*w;

	if (wh->nworkers == 0)
		return (0);
	TAILQ_FOREACH(w, &pool_worker_list, entry) {
		if (w->conn != NULL && w->held < w->concurrency &&
		    pool_worker_serves(w, wh) != -1)
			return (1);
	}
	return (0);
}

/*
 * The first queued job a worker may take now, dequeued.  A handler's
 * jobs that no free worker may take (another owner's, another kind) are
 * passed over, not waited behind.
 */
static struct job *
pool_worker_next(void)
{
	struct whandler	*wh;
	struct worker	*w;
	struct job	*j;
	int		 l;

	TAILQ_FOREACH(wh, &pool_worker_handlers, entry) {
		if (wh->queued == 0 || !pool_worker_room(wh))
			continue;
		for (l = 0; l < JOB_PRIO_LEVELS; l++) {
			if (!(wh->nonempty & (UINT64_C(1) << l)))
				continue;
			TAILQ_FOREACH(j, &wh->level[l], entry) {
				if ((w = pool_worker_pick(j)) == NULL)
					continue;
				pool_worker_dequeue(j);
				pool_worker_chosen = w;
				return (j);
			}
		}
	}
	return (NULL);
}

/* Take j for the worker next() chose; its Task goes out at launch(). */
static void
pool_worker_start(struct job *j)
{
	struct worker	*w = pool_worker_chosen;
	struct wtask	*t;

	pool_worker_chosen = NULL;
	if (w == NULL || !pool_worker_may_take(w, j))
		fatalx("%s: job %llu without a worker", __func__,
		    (unsigned long long)j->id);
	/* Not at init: the tests and fuzzers dispatch without pool_init(). */
	if (pool_worker_tasks.b == NULL && htab_init(&pool_worker_tasks) == -1)
		fatal("%s: htab_init", __func__);
	t = xcalloc(1, sizeof(*t));
	t->job = j;
	job_ref(j);
	t->w = w;
	t->attempt = j->more->attempts;
	htab_insert(&pool_worker_tasks, &t->node, j->id);
	TAILQ_INSERT_TAIL(&w->tasks, t, entry);
	if (w->sup != NULL)
		supervise_task(w->sup, 1);
	if (w->held++ == 0) {
		/* The lease counts from the first task on. */
		w->heard = job_mono_ms();
		pool_worker_lease_arm(w, settings.worker_lease_ms);
	}
	pool_worker_busy++;
	pool_worker_give(w, j->id);
	job_started(j);
	TAILQ_INSERT_TAIL(&pool_worker_ready, t, lentry);
}

static void
pool_worker_launch(void)
{
	struct wtask	*t;

	while ((t = TAILQ_FIRST(&pool_worker_ready)) != NULL) {
		TAILQ_REMOVE(&pool_worker_ready, t, lentry);
		t->launched = 1;
		request_worker_task(t->w->conn, t->job, t->attempt);
	}
}

/* The task no longer held: its worker's slot is free. */
static void
pool_worker_release(struct wtask *t)
{
	struct worker	*w = t->w;

	if (!t->launched)
		TAILQ_REMOVE(&pool_worker_ready, t, lentry);
	htab_remove(&pool_worker_tasks, &t->node);
	TAILQ_REMOVE(&w->tasks, t, entry);
	w->held--;
	if (w->sup != NULL)
		supervise_task(w->sup, -1);
	pool_worker_busy--;
	sched_kick();
}

static struct wtask *
pool_worker_task(uint64_t id)
{
	struct hnode	*n;

	if (pool_worker_tasks.b == NULL ||
	    (n = htab_find(&pool_worker_tasks, id)) == NULL)
		return (NULL);
	return (HTAB_ENTRY(struct wtask, node, n));
}

/*
 * Cancel or timeout: TaskCancel to the worker (a supervised one-job
 * process is killed instead), and the job settles now.  A task not yet
 * launched never reaches the worker.
 */
static void
pool_worker_cancel(struct job *j, int64_t grace_ms)
{
	struct wtask	*t;
	struct worker	*w;

	if ((t = pool_worker_task(j->id)) == NULL)
		return;
	w = t->w;
	if (!t->launched)
		job_set_ended(j, "cancelled before it started");
	else if (w->sup != NULL && j->kind == JOB_CPU &&
	    supervise_one_job(w->sup)) {
		/* TERM, then KILL: a fresh process takes the slot. */
		(void)supervise_kill(w->sup, grace_ms);
		job_set_ended(j, "its worker process killed");
	} else {
		request_worker_cancel(w->conn, j->id, t->attempt,
		    (j->flags & JOBF_TIMEDOUT) ? "timed out" : "cancelled");
		job_set_ended(j, "cancel sent to its worker");
	}
	pool_worker_release(t);
	job_finish(j, JOB_CANCELLED, FERR_NONE, NULL);
	job_unref(j);
	free(t);
}

/*
 * What u says of j, which its worker (or a one-shot, oneshot.c) runs:
 * progress and output; if done, its outcome, and j is final.
 */
void
pool_worker_apply(struct job *j, const struct worker_update *u)
{
	struct job_more	*m = job_more(j);
	char		*error;

	if (u->has_progress || u->progress_msg != NULL) {
		if (u->has_progress) {
			m->progress = u->progress >= 0 ? u->progress : 0;
			if (m->progress > 1)
				m->progress = 1;
		}
		if (u->progress_msg != NULL) {
			free(m->progress_msg);
			m->progress_msg = xstrdup(u->progress_msg);
		}
		job_news(j);
	}
	if (u->output_len > 0 && job_output(j, 0, u->output,
	    u->output_len) == -1)
		fatal("%s: job_output", __func__);
	if (u->err_len > 0 && job_output(j, 1, u->err, u->err_len) == -1)
		fatal("%s: job_output", __func__);
	if (!u->done)
		return;
	if (u->ok) {
		job_finish(j, JOB_SUCCEEDED, FERR_NONE, NULL);
		return;
	}
	/* The detail (a traceback) with the stderr tail. */
	if (u->error_detail != NULL && *u->error_detail != '\0') {
		if (m->errtail.len > 0 &&
		    m->errtail.data[m->errtail.len - 1] != '\n')
			(void)job_output(j, 1, "\n", 1);
		(void)job_output(j, 1, u->error_detail,
		    strlen(u->error_detail));
	}
	if (u->error_type != NULL && *u->error_type != '\0')
		xasprintf(&error, "%s%s%s", u->error_type,
		    u->error != NULL && *u->error != '\0' ? ": " : "",
		    u->error != NULL ? u->error : "");
	else
		error = xstrdup(u->error != NULL && *u->error != '\0' ?
		    u->error : "failed (the worker said no more)");
	job_finish(j, JOB_FAILED, FERR_NONE, "%s", error);
	free(error);
}

/* Apply one TaskUpdate; see futured.h for the answer. */
int
pool_worker_update(struct worker *w, const struct worker_update *u)
{
	struct wtask	*t;
	struct job	*j;

	t = pool_worker_task(u->job_id);
	if (t == NULL || t->w != w || t->attempt != u->attempt || !t->launched)
		return (pool_worker_was_given(w, u->job_id) ? 1 : -1);
	j = t->job;
	if (!u->done) {
		pool_worker_apply(j, u);
		return (0);
	}
	pool_worker_release(t);
	pool_worker_apply(j, u);
	job_unref(j);
	free(t);
	return (0);
}

/*
 * The worker is gone or broke its word: its jobs fail with the cause
 * (retries apply), and it serves no more.  The caller closes its
 * connection if it is still open.
 */
void
pool_worker_lost(struct worker *w, const char *fmt, ...)
{
	struct wtask	*t;
	struct job	**jobs;
	va_list		 ap;
	char		*why;
	size_t		 i, n = 0;

	va_start(ap, fmt);
	xvasprintf(&why, fmt, ap);
	va_end(ap);
	if (w->held > 0 || w->conn != NULL)
		log_info("worker %llu lost (%s) holding %u task%s",
		    (unsigned long long)w->id, why, w->held,
		    LOG_PLURAL(w->held));
	TAILQ_REMOVE(&pool_worker_list, w, entry);
	for (i = 0; i < w->nhandlers; i++)
		w->handlers[i]->nworkers--;
	/*
	 * Let go of every task before settling any: a job's end may cancel
	 * others (its group, its children), and those must not be pushed
	 * to a lost worker.
	 */
	jobs = xcalloc(w->held ? w->held : 1, sizeof(*jobs));
	while ((t = TAILQ_FIRST(&w->tasks)) != NULL) {
		jobs[n++] = t->job;
		pool_worker_release(t);
		free(t);
	}
	for (i = 0; i < n; i++) {
		job_set_ended(jobs[i], "worker lost");
		job_finish(jobs[i], JOB_FAILED, FERR_NONE, "worker lost: %s",
		    why);
		job_unref(jobs[i]);
	}
	free(jobs);
	if (w->conn != NULL)
		w->conn->worker = NULL;
	if (w->sup != NULL)
		supervise_detach(w->sup);
	if (w->lease != NULL)
		event_free(w->lease);
	free(why);
	free(w->handlers);
	free(w->kinds);
	free(w->given);
	free(w->name);
	free(w->pool);
	free(w);
}

/*
 * At exit the running jobs were cancelled already; what a worker still
 * holds is settled for its waiters only, as the journal has it.  The
 * handlers stay registered: jobs in the table still name them.
 */
static void
pool_worker_shutdown(void)
{
	struct worker	*w;
	struct wtask	*t;
	struct job	*j;

	while ((w = TAILQ_FIRST(&pool_worker_list)) != NULL) {
		while ((t = TAILQ_FIRST(&w->tasks)) != NULL) {
			j = t->job;
			pool_worker_release(t);
			job_finish_unrecorded(j, JOB_FAILED, FERR_SHUTTING_DOWN,
			    "daemon shutting down");
			job_unref(j);
			free(t);
		}
		pool_worker_lost(w, "daemon shutting down");
	}
	if (pool_worker_tasks.b != NULL)
		htab_free(&pool_worker_tasks);
	memset(&pool_worker_tasks, 0, sizeof(pool_worker_tasks));
}

static void
pool_worker_stats(struct pool_stats *ps)
{
	struct worker	*w;
	u_int		 n = 0;

	TAILQ_FOREACH(w, &pool_worker_list, entry)
		n++;
	ps->busy = pool_worker_busy;
	ps->size = (int)n;
}

struct pool_worker_pools {
	struct worker_pool_stats	*ps;
	size_t				 n;
};

static void
pool_worker_sup_cb(const struct sup_stats *st, void *arg)
{
	struct pool_worker_pools	*pc = arg;
	size_t				 i;

	for (i = 0; i < pc->n; i++) {
		if (pc->ps[i].supervised && strcmp(pc->ps[i].name,
		    st->name) == 0)
			return;
	}
	pc->ps = xreallocarray(pc->ps, pc->n + 1, sizeof(*pc->ps));
	memset(&pc->ps[pc->n], 0, sizeof(pc->ps[pc->n]));
	pc->ps[pc->n].name = st->name;
	pc->ps[pc->n].supervised = 1;
	pc->n++;
}

/*
 * The worker pools for stats: one per supervised pool, and one, named
 * "attached", for all the workers that came by themselves.
 */
void
pool_worker_foreach_pool(void (*cb)(const struct worker_pool_stats *, void *),
    void *arg)
{
	struct worker_pool_stats	*ps = NULL;
	struct pool_worker_pools	 pc;
	struct worker			*w;
	size_t				 n = 0, i;

	TAILQ_FOREACH(w, &pool_worker_list, entry) {
		for (i = 0; i < n; i++) {
			if ((w->pool == NULL && !ps[i].supervised) ||
			    (w->pool != NULL && ps[i].supervised &&
			    strcmp(ps[i].name, w->pool) == 0))
				break;
		}
		if (i == n) {
			ps = xreallocarray(ps, n + 1, sizeof(*ps));
			memset(&ps[n], 0, sizeof(ps[n]));
			ps[n].name = w->pool != NULL ? w->pool : "attached";
			ps[n].supervised = w->pool != NULL;
			n++;
		}
		ps[i].processes++;
		ps[i].busy += w->held;
		ps[i].capacity += w->concurrency;
	}
	/* A supervised pool none of whose processes serve yet, too. */
	pc.ps = ps;
	pc.n = n;
	supervise_foreach(pool_worker_sup_cb, &pc);
	ps = pc.ps;
	n = pc.n;
	for (i = 0; i < n; i++)
		cb(&ps[i], arg);
	free(ps);
}

const struct pool pool_worker_ops = {
	.name = "worker",
	.shutdown = pool_worker_shutdown,
	.start = pool_worker_start,
	.launch = pool_worker_launch,
	.cancel = pool_worker_cancel,
	.stats = pool_worker_stats,
	.enqueue = pool_worker_enqueue,
	.dequeue = pool_worker_dequeue,
	.next = pool_worker_next,
};
