/*
 * The scheduler: the job table, one queue per kind ordered by priority
 * then arrival, the slots each kind may use, dependencies, and waiters.
 *
 * DESIGN.  Each kind has JOB_PRIO_LEVELS FIFO lists; a bitmap of non-empty
 * levels makes push and pop O(1) whatever the queue length.  Starting
 * jobs happens in one deferred event per loop turn (sched_kick), never
 * from inside a state change, so settling a job can never recurse into
 * starting another.  A kind runs at most sched_slots_max() jobs (or what
 * its pool's can_start() allows); a pool gives a slot back with
 * sched_slot_release() only when its resource (thread, worker process,
 * child) is really free again.  The jobs of a round go to their pools
 * (pool_of, pool.h) with their START records appended; one journal
 * write, then the pools launch them: no attempt runs unrecorded.  A
 * pool with queues of its own (pool.h: the attached workers) keeps its
 * queued jobs itself, outside the kinds' queues and slots, and says in
 * each round which of them may start.
 *
 * A waiter is one "tell me when all/any of these jobs are final" with an
 * optional timeout.  Jobs point to their waiters through waitrefs, so
 * settling a job costs one step per waiter on it.  Requests (wait,
 * cancel, completion push) and dependencies all use waiters.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "pool.h"
#include "xmalloc.h"

struct waiter {
	struct waitref	*refs;
	size_t		 nrefs;
	size_t		 pending;	/* refs whose job is not final */
	int		 any;
	struct job	*first;
	struct event	*timer;
	void		(*cb)(struct waiter *, struct job *, int, void *);
	void		(*news)(struct waiter *, struct job *, void *);
	void		*arg;
};

struct prioq {
	struct jobq	 level[JOB_PRIO_LEVELS];
	uint64_t	 nonempty;	/* bit i: level[i] has jobs */
	size_t		 len;
};

static struct job	**sched_table;
static size_t		  sched_table_size;	/* power of two */
static size_t		  sched_table_len;
static uint64_t		  sched_next_id = 1;
static uint64_t		  sched_next_seq;
static struct prioq	  sched_queues[JOB_NKINDS];
static u_int		  sched_used[JOB_NKINDS];
static uint64_t		  sched_counts[JOB_NKINDS][JOB_NSTATES];
static uint64_t		  sched_running_total;
/* Jobs not yet running (waiting or queued) per owner, for --max-queued. */
static struct sched_user {
	uid_t		 uid;
	uint64_t	 pending;
}			 *sched_users;
static size_t		  sched_nusers;
static struct event	 *sched_ev;
static void		(*sched_idle_hook)(void);
static void		(*sched_final_hook)(struct job *);
static void		(*sched_news_hook)(struct job *);
static struct jobq	  sched_finished = TAILQ_HEAD_INITIALIZER(sched_finished);
static size_t		  sched_nfinished;
static struct event	 *sched_retention_ev;
static int		  sched_held;	/* shutdown: start nothing more */

static void	sched_run_cb(evutil_socket_t, short, void *);
static void	sched_retention_cb(evutil_socket_t, short, void *);
static void	sched_deps_cb(struct waiter *, struct job *, int, void *);
static void	sched_ahead(struct job *);

void
sched_init(void)
{
	int	 k, l;

	sched_table_size = 1024;
	sched_table = xcalloc(sched_table_size, sizeof(*sched_table));
	for (k = 0; k < JOB_NKINDS; k++) {
		for (l = 0; l < JOB_PRIO_LEVELS; l++)
			TAILQ_INIT(&sched_queues[k].level[l]);
	}
	if (base != NULL) {
		sched_ev = event_new(base, -1, 0, sched_run_cb, NULL);
		sched_retention_ev = evtimer_new(base, sched_retention_cb,
		    NULL);
	}
}

void
sched_free(void)
{
	size_t		 i;
	struct job	*j, *next;

	for (i = 0; i < sched_table_size; i++) {
		for (j = sched_table[i]; j != NULL; j = next) {
			next = j->hnext;
			if (j->more->deps != NULL) {
				sched_wait_free(j->more->deps);
				job_more(j)->deps = NULL;
			}
			job_unref(j);
		}
	}
	free(sched_table);
	sched_table = NULL;
	free(sched_users);
	sched_users = NULL;
	sched_nusers = 0;
	/* A fresh table numbers from 1 again (tests and fuzzers). */
	sched_next_id = 1;
	sched_next_seq = 0;
	sched_table_size = sched_table_len = 0;
	TAILQ_INIT(&sched_finished);
	sched_nfinished = 0;
	if (sched_ev != NULL)
		event_free(sched_ev);
	sched_ev = NULL;
	if (sched_retention_ev != NULL)
		event_free(sched_retention_ev);
	sched_retention_ev = NULL;
}

static size_t
sched_hash(uint64_t id)
{
	id ^= id >> 33;
	id *= UINT64_C(0xff51afd7ed558ccd);
	id ^= id >> 33;
	return ((size_t)id & (sched_table_size - 1));
}

static void
sched_table_grow(void)
{
	struct job	**old = sched_table, *j, *next;
	size_t		  i, oldsize = sched_table_size, h;

	sched_table_size *= 2;
	sched_table = xcalloc(sched_table_size, sizeof(*sched_table));
	for (i = 0; i < oldsize; i++) {
		for (j = old[i]; j != NULL; j = next) {
			next = j->hnext;
			h = sched_hash(j->id);
			j->hnext = sched_table[h];
			sched_table[h] = j;
		}
	}
	free(old);
}

struct job *
sched_find(uint64_t id)
{
	struct job	*j;

	if (sched_table == NULL)
		return (NULL);
	for (j = sched_table[sched_hash(id)]; j != NULL; j = j->hnext) {
		if (j->id == id)
			return (j);
	}
	return (NULL);
}

/*
 * The dependencies of j (after, input_from) into *depsp, the caller
 * frees; their number.  strict: each must exist and be the owner's, or
 * -1 and *cause.  Not strict (a replay): those gone are left out.
 */
static int
sched_deps_get(struct job *j, int strict, struct job ***depsp, char **cause)
{
	struct job	**deps = NULL, *d;
	size_t		  i, n = 0;
	uint64_t	  id;

	*depsp = NULL;
	if (j->spec->nafter == 0 && j->spec->input_from == 0)
		return (0);
	deps = xreallocarray(NULL, j->spec->nafter + 1, sizeof(*deps));
	for (i = 0; i < j->spec->nafter + 1; i++) {
		id = i < j->spec->nafter ? j->spec->after[i] :
		    j->spec->input_from;
		if (id == 0)
			continue;
		d = sched_find(id);
		if (d == NULL || (j->owner != 0 && d->owner != j->owner)) {
			if (!strict)
				continue;
			xasprintf(cause, "no such job: %llu",
			    (unsigned long long)id);
			free(deps);
			return (-1);
		}
		deps[n] = d;
		if (id == j->spec->input_from && j->more->input_job == NULL) {
			job_more(j)->input_job = deps[n];
			job_ref(j->more->input_job);
		}
		n++;
	}
	*depsp = deps;
	return ((int)n);
}

/* Into the table under j->id. */
static void
sched_table_add(struct job *j)
{
	size_t	 i;

	j->seq = sched_next_seq++;
	if (sched_table_len + 1 > sched_table_size)
		sched_table_grow();
	i = sched_hash(j->id);
	j->hnext = sched_table[i];
	sched_table[i] = j;
	sched_table_len++;
}

/* The job waits for its n dependencies, or joins its queue. */
static void
sched_submit(struct job *j, struct job **deps, size_t n)
{
	job_submitted(j, n > 0);
	if (n > 0) {
		/* The dependent holds a reference: deps_cb may run at once. */
		job_ref(j);
		job_more(j)->deps = sched_wait(deps, n, 1, -1, sched_deps_cb,
		    j);
		sched_ahead(j);
		job_unref(j);
	}
	free(deps);
}

/*
 * Take a new job into the table and submit it: it waits for its
 * dependencies (each must exist, checked here) or joins its queue.  The
 * table holds the caller's reference from now on.
 */
int
sched_insert(struct job *j, char **cause)
{
	struct job	**deps;
	int		  n;

	if ((n = sched_deps_get(j, 1, &deps, cause)) == -1)
		return (-1);
	j->id = sched_next_id++;
	sched_table_add(j);
	sched_submit(j, deps, n);
	return (0);
}

/* Ids continue after the journal's: never reused across restarts. */
void
sched_set_next_id(uint64_t id)
{
	if (id > sched_next_id)
		sched_next_id = id;
}

/*
 * Take a job rebuilt from the journal under its own id.  A final one
 * joins the finished list as of its finish time, so retention counts
 * from then; any other waits for those of its dependencies still known
 * (one that is gone was final, and had succeeded or this job would be
 * final too) or is queued.
 */
void
sched_restore(struct job *j)
{
	struct job	**deps;
	int64_t		  now, age;
	int		  n;

	if (j->id >= sched_next_id)
		sched_next_id = j->id + 1;
	sched_table_add(j);
	if (JOB_FINAL(j->state)) {
		sched_state_changed(j, (enum job_state)-1);
		/*
		 * The age, kept within [0, retention] so that a time from
		 * the future (a clock stepped back, a corrupt journal) or
		 * from long ago cannot overflow: it is as if now, or gone.
		 */
		now = job_now_ms();
		if (j->more->finished_at >= now)
			age = 0;
		else if (j->more->finished_at < now - settings.retention_ms)
			age = settings.retention_ms;
		else
			age = now - j->more->finished_at;
		job_more(j)->finished_mono = job_mono_ms() - age;
		TAILQ_INSERT_TAIL(&sched_finished, j, entry);
		sched_nfinished++;
		if (sched_retention_ev != NULL)
			event_active(sched_retention_ev, 0, 0);
		return;
	}
	n = sched_deps_get(j, 0, &deps, NULL);
	sched_submit(j, deps, n);
}

/* Forget a finished job: out of the table, its reference dropped. */
static void
sched_remove(struct job *j)
{
	struct job	**pp;

	for (pp = &sched_table[sched_hash(j->id)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == j) {
			*pp = j->hnext;
			sched_table_len--;
			break;
		}
	}
	TAILQ_REMOVE(&sched_finished, j, entry);
	sched_nfinished--;
	sched_counts[j->kind][j->state]--;
	joblog_forget(j);
	job_unref(j);
}

/*
 * Finished jobs are kept for the retention time and at most retain_max
 * of them, oldest first out.  Waiters and dependents hold references, so
 * forgetting a job never frees one still in use.
 */
static void
sched_retention_cb(evutil_socket_t fd, short events, void *arg)
{
	struct job	*j;
	int64_t		 now = job_mono_ms(), due;

	while ((j = TAILQ_FIRST(&sched_finished)) != NULL) {
		due = j->more->finished_mono + settings.retention_ms;
		if (sched_nfinished <= settings.retain_max && due > now) {
			timer_add_ms(sched_retention_ev, due - now);
			return;
		}
		log_debug("job %llu: forgotten after retention",
		    (unsigned long long)j->id);
		sched_remove(j);
	}
}

void
sched_foreach(void (*cb)(struct job *, void *), void *arg)
{
	size_t		 i;
	struct job	*j;

	for (i = 0; i < sched_table_size; i++) {
		for (j = sched_table[i]; j != NULL; j = j->hnext)
			cb(j, arg);
	}
}

/*
 * j waits for its dependencies: queued now if its pool holds it back
 * for them itself (pool.h's ahead), its waiter kept.
 */
static void
sched_ahead(struct job *j)
{
	const struct pool	*p;

	if (j->state != JOB_WAITING || j->more->deps == NULL)
		return;
	p = pool_of(j);
	if (p->ahead == NULL || !p->ahead(j))
		return;
	log_debug("job %llu: queued ahead of its dependencies",
	    (unsigned long long)j->id);
	job_queued(j);
}

/*
 * d's engine took it on (a Slurm job id): the jobs that wait for it may
 * go ahead to their pool.  Collected first: queueing one changes no
 * waiter of d, but a pool's ahead() may look at anything.
 */
void
sched_deps_ahead(struct job *d)
{
	struct waitref	*r;
	struct job	**deps;
	size_t		  n = 0, i;

	TAILQ_FOREACH(r, &d->more->waiters, entry) {
		if (r->waiter->cb == sched_deps_cb)
			n++;
	}
	if (n == 0)
		return;
	deps = xcalloc(n, sizeof(*deps));
	n = 0;
	TAILQ_FOREACH(r, &d->more->waiters, entry) {
		if (r->waiter->cb == sched_deps_cb) {
			deps[n] = r->waiter->arg;
			job_ref(deps[n++]);
		}
	}
	for (i = 0; i < n; i++) {
		sched_ahead(deps[i]);
		job_unref(deps[i]);
	}
	free(deps);
}

/*
 * One of the dependencies is final.  A failed, cancelled or timed-out
 * one cancels the dependent at once, naming it; when all succeeded the
 * dependent is queued (unless it went ahead to its pool, which holds it
 * no longer); otherwise it waits on for the rest.
 */
static void
sched_deps_cb(struct waiter *w, struct job *first, int timed_out, void *arg)
{
	struct job	*j = arg, *d, **rest;
	size_t		 i, n = 0;

	job_more(j)->deps = NULL;
	if (JOB_FINAL(j->state))
		return;
	for (i = 0; i < w->nrefs; i++) {
		d = w->refs[i].job;
		if (JOB_FINAL(d->state) && d->state != JOB_SUCCEEDED) {
			job_cancel(j, JOB_CANCELLED, 0,
			    "dependency %llu %s", (unsigned long long)d->id,
			    job_state_name(d->state));
			return;
		}
		if (!JOB_FINAL(d->state))
			n++;
	}
	if (n > 0) {
		rest = xcalloc(n, sizeof(*rest));
		for (n = 0, i = 0; i < w->nrefs; i++) {
			if (!JOB_FINAL(w->refs[i].job->state))
				rest[n++] = w->refs[i].job;
		}
		job_ref(j);
		job_more(j)->deps = sched_wait(rest, n, 1, -1, sched_deps_cb,
		    j);
		job_unref(j);
		free(rest);
		return;
	}
	if ((d = j->more->input_job) != NULL) {
		free(j->payload);
		j->payload = xmemdup(d->more->output.data, d->more->output.len);
		j->payload_len = d->more->output.len;
		job_more(j)->input_job = NULL;
		job_unref(d);
	}
	job_queued(j);
}

void
sched_enqueue(struct job *j)
{
	const struct pool	*p = pool_of(j);
	struct prioq		*q = &sched_queues[j->kind];
	int			 l = j->priority - JOB_PRIO_MIN;

	if (p->enqueue != NULL) {
		job_ref(j);
		p->enqueue(j);
		sched_kick();
		return;
	}
	TAILQ_INSERT_TAIL(&q->level[l], j, entry);
	q->nonempty |= UINT64_C(1) << l;
	q->len++;
	job_ref(j);
	sched_kick();
}

void
sched_dequeue(struct job *j)
{
	const struct pool	*p = pool_of(j);
	struct prioq		*q = &sched_queues[j->kind];
	int			 l = j->priority - JOB_PRIO_MIN;

	if (p->dequeue != NULL) {
		p->dequeue(j);
		job_unref(j);
		return;
	}
	TAILQ_REMOVE(&q->level[l], j, entry);
	if (TAILQ_EMPTY(&q->level[l]))
		q->nonempty &= ~(UINT64_C(1) << l);
	q->len--;
	job_unref(j);
}

/* The first job of a kind's queue, or NULL; the caller dequeues it. */
static struct job *
sched_peek(enum job_kind k)
{
	struct prioq	*q = &sched_queues[k];

	if (q->nonempty == 0)
		return (NULL);
	return (TAILQ_FIRST(&q->level[ffsll((long long)q->nonempty) - 1]));
}

void
sched_kick(void)
{
	if (sched_ev != NULL)
		event_active(sched_ev, 0, 0);
}

u_int
sched_slots_max(enum job_kind k)
{
	switch (k) {
	case JOB_ASYNC:
		return (settings.async_slots);
	case JOB_BLOCKING:
		return (settings.threads);
	case JOB_CPU:
		return (settings.procs);
	}
	return (0);
}

u_int
sched_slots_used(enum job_kind k)
{
	return (sched_used[k]);
}

void
sched_slot_release(enum job_kind k)
{
	if (sched_used[k] == 0)
		fatalx("%s: %s slots underflow", __func__, job_kind_name(k));
	sched_used[k]--;
	sched_kick();
}

/*
 * Start nothing more (shutdown with a journal): queued jobs stay queued,
 * as the journal has them, and run after the restart.
 */
void
sched_hold(void)
{
	sched_held = 1;
}

/* The jobs a pool with queues of its own says may start (pool.h). */
static void
sched_start_pooled(const struct pool *p, void *arg)
{
	struct job	*j;
	int		*n = arg;

	if (p->next == NULL)
		return;
	while ((j = p->next()) != NULL) {
		if (!group_hold(j)) {
			job_begin(j, p);
			p->start(j);
			(*n)++;
		}
		job_unref(j);
	}
}

/*
 * Hand the queued jobs that may start to their pools; 0 if none could.
 * A kind's jobs start while its pool says so (the cpu workers may hold
 * more than one job each), else while the kind has free slots.
 */
static int
sched_start_some(void)
{
	const struct pool	*p;
	struct job		*j;
	int			 k, n = 0;

	if (sched_held)
		return (0);
	for (k = 0; k < JOB_NKINDS; k++) {
		while ((j = sched_peek(k)) != NULL) {
			p = pool_of(j);
			if (p->can_start != NULL ? !p->can_start(j,
			    sched_used[k]) : sched_used[k] >= sched_slots_max(k))
				break;
			job_ref(j);
			sched_dequeue(j);
			if (group_hold(j)) {
				job_unref(j);
				continue;
			}
			sched_used[k]++;
			job_begin(j, p);
			p->start(j);
			job_unref(j);
			n++;
		}
	}
	pool_foreach(sched_start_pooled, &n);
	return (n);
}

/*
 * Start queued jobs, in rounds: each round hands jobs to their pools,
 * writes their START records in one write, and only then lets the pools
 * run them (pool.h): a written record survives a kill -9 of the daemon.
 * The fsync the policy asks for comes with the turn's journal_flush(),
 * so that a round costs a write, never a second fsync per turn.  A
 * round ends when the slots are full; the jobs that finish at once in
 * launch() give theirs back, so another round may follow.
 */
static void
sched_run_cb(evutil_socket_t fd, short events, void *arg)
{
	while (sched_start_some() > 0) {
		/*
		 * A journal that failed writes nothing more: the daemon runs
		 * on without it, as it does for everything else, until the
		 * restart its error asks for.
		 */
		(void)journal_write();
		pool_launch();
	}
}

/*
 * A plain array: as many entries as local users who ever submitted, a
 * few, touched once per state change.
 */
static struct sched_user *
sched_user_get(uid_t uid, int create)
{
	size_t	 i;

	for (i = 0; i < sched_nusers; i++) {
		if (sched_users[i].uid == uid)
			return (&sched_users[i]);
	}
	if (!create)
		return (NULL);
	sched_users = xreallocarray(sched_users, sched_nusers + 1,
	    sizeof(*sched_users));
	sched_users[sched_nusers].uid = uid;
	sched_users[sched_nusers].pending = 0;
	return (&sched_users[sched_nusers++]);
}

uint64_t
sched_user_pending(uid_t uid)
{
	struct sched_user	*u;

	return ((u = sched_user_get(uid, 0)) == NULL ? 0 : u->pending);
}

#define SCHED_PENDING(s)	((int)(s) == JOB_WAITING || (s) == JOB_QUEUED)

void
sched_state_changed(struct job *j, enum job_state old)
{
	if (SCHED_PENDING(old) != SCHED_PENDING(j->state)) {
		if (SCHED_PENDING(j->state))
			sched_user_get(j->owner, 1)->pending++;
		else
			sched_user_get(j->owner, 1)->pending--;
	}
	if ((int)old >= 0)
		sched_counts[j->kind][old]--;
	sched_counts[j->kind][j->state]++;
	/* A watcher hears of the end from its waiter. */
	if (!JOB_FINAL(j->state))
		sched_job_news(j);
	if (j->state == JOB_RUNNING) {
		sched_running_total++;
		group_running(j, 1);
	}
	if (old == JOB_RUNNING)
		group_running(j, 0);
	if (old == JOB_RUNNING && --sched_running_total == 0 &&
	    sched_idle_hook != NULL)
		sched_idle_hook();
}

/* Call hook whenever the last running job stops running (shutdown). */
void
sched_set_final_hook(void (*hook)(struct job *))
{
	sched_final_hook = hook;
}

void
sched_set_news_hook(void (*hook)(struct job *))
{
	sched_news_hook = hook;
}

void
sched_set_idle_hook(void (*hook)(void))
{
	sched_idle_hook = hook;
}

uint64_t
sched_count(enum job_kind k, enum job_state s)
{
	return (sched_counts[k][s]);
}

uint64_t
sched_total(void)
{
	return (sched_next_id - 1);
}

u_int
sched_running(void)
{
	return (sched_running_total);
}

struct sched_cancel {
	int64_t		 grace_ms;
	const char	*why;
	int		 queued_only;
	struct job	**jobs;
	size_t		 n, cap;
};

static void
sched_cancel_collect(struct job *j, void *arg)
{
	struct sched_cancel	*sc = arg;

	if (JOB_FINAL(j->state) || (sc->queued_only && j->state == JOB_RUNNING))
		return;
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 64;
		sc->jobs = xreallocarray(sc->jobs, sc->cap, sizeof(*sc->jobs));
	}
	sc->jobs[sc->n++] = j;
	job_ref(j);
}

/* Collect first: cancelling changes the table's jobs under a walk. */
static void
sched_cancel_some(struct sched_cancel *sc)
{
	size_t	 i;

	sched_foreach(sched_cancel_collect, sc);
	for (i = 0; i < sc->n; i++) {
		job_cancel(sc->jobs[i], JOB_CANCELLED, sc->grace_ms, "%s",
		    sc->why);
		job_unref(sc->jobs[i]);
	}
	free(sc->jobs);
}

/* Cancel every unfinished job (shutdown). */
void
sched_cancel_all(int64_t grace_ms, const char *why)
{
	struct sched_cancel	 sc = { grace_ms, why, 0, NULL, 0, 0 };

	sched_cancel_some(&sc);
}

/*
 * Cancel the jobs that have not started (shutdown), for their waiters
 * only: the journal does not record it, so they run after a restart.
 */
void
sched_stop_queued(const char *why)
{
	struct sched_cancel	 sc = { 0, why, 1, NULL, 0, 0 };

	journal_suspend(1);
	sched_cancel_some(&sc);
	journal_suspend(0);
}

static void
sched_waiter_fire(struct waiter *w, int timed_out)
{
	size_t	 i;

	for (i = 0; i < w->nrefs; i++) {
		if (w->refs[i].job != NULL && w->refs[i].waiter != NULL) {
			TAILQ_REMOVE(&job_more(w->refs[i].job)->waiters,
			    &w->refs[i], entry);
			w->refs[i].waiter = NULL;
		}
	}
	if (w->timer != NULL)
		evtimer_del(w->timer);
	w->cb(w, w->first, timed_out, w->arg);
	sched_wait_free(w);
}

/* A cancelled or timed-out parent takes its unfinished children along. */
static void
sched_cancel_children(struct job *j)
{
	struct job_more	*c;
	struct job	**kids;
	size_t		 n = 0, i;

	TAILQ_FOREACH(c, &j->more->children, centry) {
		if (!JOB_FINAL(c->job->state))
			n++;
	}
	if (n == 0)
		return;
	kids = xcalloc(n, sizeof(*kids));
	n = 0;
	TAILQ_FOREACH(c, &j->more->children, centry) {
		if (!JOB_FINAL(c->job->state)) {
			job_ref(c->job);
			kids[n++] = c->job;
		}
	}
	for (i = 0; i < n; i++) {
		job_cancel(kids[i], JOB_CANCELLED, settings.grace_ms,
		    "parent %llu %s", (unsigned long long)j->id,
		    job_state_name(j->state));
		job_unref(kids[i]);
	}
	free(kids);
}

/* The job is final: tell its waiters. */
void
sched_job_final(struct job *j)
{
	struct waitref	*r;
	struct waiter	*w;

	job_ref(j);
	if (j->more->deps != NULL) {
		sched_wait_free(j->more->deps);
		job_more(j)->deps = NULL;
	}
	/* The queue link is free once a job is final: reuse it. */
	job_more(j)->finished_mono = job_mono_ms();
	TAILQ_INSERT_TAIL(&sched_finished, j, entry);
	sched_nfinished++;
	if (sched_retention_ev != NULL && (sched_nfinished == 1 ||
	    sched_nfinished > settings.retain_max))
		event_active(sched_retention_ev, 0, 0);
	if (j->more->input_job != NULL) {
		job_unref(j->more->input_job);
		job_more(j)->input_job = NULL;
	}
	group_final(j);
	if (j->state == JOB_CANCELLED || j->state == JOB_TIMED_OUT)
		sched_cancel_children(j);
	if (j->notify != 0 && sched_final_hook != NULL)
		sched_final_hook(j);
	TAILQ_FOREACH(r, &j->more->waiters, entry) {
		w = r->waiter;
		w->pending--;
		if (w->first == NULL)
			w->first = j;
	}
	/* Firing a waiter unlinks its refs, so rescan from the top. */
again:
	TAILQ_FOREACH(r, &j->more->waiters, entry) {
		w = r->waiter;
		if (w->any || w->pending == 0) {
			sched_waiter_fire(w, 0);
			goto again;
		}
	}
	job_unref(j);
}

static void
sched_waiter_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	sched_waiter_fire(arg, 1);
}

/*
 * Wait for all (or any) of n jobs to be final, or timeout_ms (-1: no
 * limit).  cb(waiter, first final job or NULL, timed_out, arg) runs once;
 * the waiter is freed after it returns.  If that is due already, cb runs
 * before sched_wait returns NULL.  Otherwise the caller may drop the wait
 * with sched_wait_free().
 */
struct waiter *
sched_wait(struct job **jobs, size_t n, int any, int64_t timeout_ms,
    void (*cb)(struct waiter *, struct job *, int, void *), void *arg)
{
	struct waiter	*w;
	size_t		 i;

	w = xcalloc(1, sizeof(*w));
	w->refs = xcalloc(n ? n : 1, sizeof(*w->refs));
	w->nrefs = n;
	w->any = any;
	w->cb = cb;
	w->arg = arg;
	for (i = 0; i < n; i++) {
		job_ref(jobs[i]);
		w->refs[i].job = jobs[i];
		if (JOB_FINAL(jobs[i]->state)) {
			if (w->first == NULL)
				w->first = jobs[i];
			continue;
		}
		w->refs[i].waiter = w;
		TAILQ_INSERT_TAIL(&job_more(jobs[i])->waiters, &w->refs[i],
		    entry);
		w->pending++;
	}
	if (w->pending == 0 || (any && w->first != NULL) || timeout_ms == 0) {
		sched_waiter_fire(w, w->pending != 0 && !(any && w->first));
		return (NULL);
	}
	if (timeout_ms > 0) {
		w->timer = evtimer_new(base, sched_waiter_timeout_cb, w);
		timer_add_ms(w->timer, timeout_ms);
	}
	return (w);
}

/* Also tell cb of news (progress, output) of the waiter's jobs. */
void
sched_wait_news(struct waiter *w,
    void (*cb)(struct waiter *, struct job *, void *))
{
	w->news = cb;
}

/* A running job's progress or output changed: tell who asked to know. */
void
sched_job_news(struct job *j)
{
	struct waitref	*r, *next;

	TAILQ_FOREACH_SAFE(r, &j->more->waiters, entry, next) {
		if (r->waiter->news != NULL)
			r->waiter->news(r->waiter, j, r->waiter->arg);
	}
	if ((j->flags & JOBF_NEWS) && sched_news_hook != NULL)
		sched_news_hook(j);
}

/* The jobs a waiter watches, for building its answer. */
size_t
sched_waiter_jobs(struct waiter *w, struct job ***out)
{
	size_t	 i;

	*out = xreallocarray(NULL, w->nrefs ? w->nrefs : 1, sizeof(**out));
	for (i = 0; i < w->nrefs; i++)
		(*out)[i] = w->refs[i].job;
	return (w->nrefs);
}

void
sched_wait_free(struct waiter *w)
{
	size_t	 i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nrefs; i++) {
		if (w->refs[i].waiter != NULL)
			TAILQ_REMOVE(&job_more(w->refs[i].job)->waiters,
			    &w->refs[i], entry);
		job_unref(w->refs[i].job);
	}
	if (w->timer != NULL)
		event_free(w->timer);
	free(w->refs);
	free(w);
}
