/*
 * The blocking pool: a fixed set of threads running handlers' run().
 *
 * DESIGN.  The loop hands a thread an item holding an immutable
 * fut_handler_ctx (the job's spec borrowed, the job referenced so it
 * outlives the borrow).  Threads never see a struct job.  A finished
 * item goes to the done list and the loop is woken with event_active()
 * (evthread_use_pthreads() is called before the base is created); the
 * loop settles the job and gives the slot back.
 *
 * Cancel sets the ctx's flag, which the handler polls, and detaches the
 * job: it settles at once and the late result is dropped.  The thread
 * and its slot come back when the handler returns.
 *
 * Lock order: pool_thread_lock only; it is never held while a handler
 * runs or while the loop settles a job.
 */

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

struct tp_item {
	struct fut_handler_ctx	*ctx;
	struct job		*job;		/* loop side only */
	int			 detached;	/* loop side only: cancelled */
	int			 rc;
	/* Reported by the handler's thread, under pool_thread_lock. */
	double			 progress;
	char			*progress_msg;
	int			 progress_new;
	TAILQ_ENTRY(tp_item)	 entry;
};
TAILQ_HEAD(tp_items, tp_item);

static pthread_mutex_t	 pool_thread_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 pool_thread_cond = PTHREAD_COND_INITIALIZER;
static struct tp_items	 pool_thread_todo = TAILQ_HEAD_INITIALIZER(pool_thread_todo);
static struct tp_items	 pool_thread_done = TAILQ_HEAD_INITIALIZER(pool_thread_done);
static pthread_t	*pool_thread_ids;
static int		 pool_thread_n;
static int		 pool_thread_quit;
static u_int		 pool_thread_nbusy;	/* loop side */
static struct event	*pool_thread_ev;

/* A handler's progress, from its thread: kept until the loop asks. */
static void
pool_thread_progress_cb(struct fut_handler_ctx *ctx, double fraction,
    const char *msg)
{
	struct tp_item	*it = ctx->pool_data;
	char		*copy = NULL;

	if (msg != NULL)
		copy = strdup(msg);
	pthread_mutex_lock(&pool_thread_lock);
	it->progress = fraction;
	if (copy != NULL) {
		free(it->progress_msg);
		it->progress_msg = copy;
	}
	it->progress_new = 1;
	pthread_mutex_unlock(&pool_thread_lock);
}

/* Bring a running job's progress up to date (status, list, wait). */
void
pool_thread_progress(struct job *j)
{
	struct tp_item	*it;
	char		*msg = NULL;

	if (j->more->runner != RUNNER_THREAD || j->more->hctx == NULL)
		return;
	it = j->more->hctx->pool_data;
	pthread_mutex_lock(&pool_thread_lock);
	if (it->progress_new) {
		job_more(j)->progress = it->progress;
		msg = it->progress_msg;
		it->progress_msg = NULL;
		it->progress_new = 0;
	}
	pthread_mutex_unlock(&pool_thread_lock);
	if (msg != NULL) {
		free(j->more->progress_msg);
		job_more(j)->progress_msg = msg;
	}
}

static void *
pool_thread_main(void *arg)
{
	struct tp_item	*it;

	for (;;) {
		pthread_mutex_lock(&pool_thread_lock);
		while (TAILQ_EMPTY(&pool_thread_todo) && !pool_thread_quit)
			pthread_cond_wait(&pool_thread_cond, &pool_thread_lock);
		if (pool_thread_quit && TAILQ_EMPTY(&pool_thread_todo)) {
			pthread_mutex_unlock(&pool_thread_lock);
			return (NULL);
		}
		it = TAILQ_FIRST(&pool_thread_todo);
		TAILQ_REMOVE(&pool_thread_todo, it, entry);
		pthread_mutex_unlock(&pool_thread_lock);

		it->rc = it->ctx->handler->run(it->ctx);

		pthread_mutex_lock(&pool_thread_lock);
		TAILQ_INSERT_TAIL(&pool_thread_done, it, entry);
		pthread_mutex_unlock(&pool_thread_lock);
		event_active(pool_thread_ev, EV_READ, 0);
	}
}

/* Results are in: settle their jobs on the loop. */
static void
pool_thread_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct tp_items	 done = TAILQ_HEAD_INITIALIZER(done);
	struct tp_item	*it;
	struct job	*j;

	pthread_mutex_lock(&pool_thread_lock);
	TAILQ_CONCAT(&done, &pool_thread_done, entry);
	pthread_mutex_unlock(&pool_thread_lock);

	while ((it = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, it, entry);
		j = it->job;
		if (!it->detached) {
			pool_thread_progress(j);
			if (it->rc != 0 && it->ctx->error == NULL)
				fut_handler_fail(it->ctx, "%s failed",
				    j->handler->name);
			job_finish(j, it->rc == 0 ? JOB_SUCCEEDED : JOB_FAILED,
			    FERR_NONE, NULL);
		}
		handler_ctx_free(it->ctx);
		free(it->progress_msg);
		pool_thread_nbusy--;
		sched_slot_release(j->kind);
		job_unref(j);
		free(it);
	}
}

/*
 * The threads block every signal (Redis bio.c): the loop takes them,
 * through libevent or, SIGCHLD, a signalfd (child.c).  Otherwise the
 * kernel hands a process-directed signal to whichever thread is not
 * blocking it, mostly an idle pool thread, which wakes only to write to
 * libevent's signal pipe and wake the loop: two wakeups for one.
 */
int
pool_thread_init(int n)
{
	sigset_t	 all, old;
	int		 i, error;

	pool_thread_ev = event_new(base, -1, 0, pool_thread_done_cb, NULL);
	pool_thread_ids = xcalloc(n, sizeof(*pool_thread_ids));
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < n; i++) {
		error = pthread_create(&pool_thread_ids[i], NULL,
		    pool_thread_main, NULL);
		if (error != 0) {
			log_warnx("%s: pthread_create: %s", __func__,
			    strerror(error));
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pool_thread_n = i;
	return (i == n ? 0 : -1);
}

void
pool_thread_start(struct job *j)
{
	struct tp_item	*it;

	it = xcalloc(1, sizeof(*it));
	it->ctx = handler_ctx_new(j);
	it->ctx->pool_data = it;
	it->ctx->progress = pool_thread_progress_cb;
	it->job = j;
	job_ref(j);
	job_more(j)->hctx = it->ctx;
	job_started(j, RUNNER_THREAD);
	pool_thread_nbusy++;

	pthread_mutex_lock(&pool_thread_lock);
	TAILQ_INSERT_TAIL(&pool_thread_todo, it, entry);
	pthread_cond_signal(&pool_thread_cond);
	pthread_mutex_unlock(&pool_thread_lock);
}

/* Flag the handler and detach the job, which job.c settles at once. */
void
pool_thread_cancel(struct job *j)
{
	struct fut_handler_ctx	*ctx = j->more->hctx;
	struct tp_item		*it;

	if (ctx == NULL)
		return;
	it = ctx->pool_data;
	atomic_store(&ctx->cancelled, 1);
	it->detached = 1;
	job_more(j)->hctx = NULL;
}

u_int
pool_thread_busy(void)
{
	return (pool_thread_nbusy);
}

/* Join the threads; running handlers were flagged and are waited for. */
void
pool_thread_shutdown(void)
{
	int	 i;

	pthread_mutex_lock(&pool_thread_lock);
	pool_thread_quit = 1;
	pthread_cond_broadcast(&pool_thread_cond);
	pthread_mutex_unlock(&pool_thread_lock);
	for (i = 0; i < pool_thread_n; i++)
		pthread_join(pool_thread_ids[i], NULL);
	pool_thread_done_cb(-1, 0, NULL);
	free(pool_thread_ids);
	pool_thread_ids = NULL;
	pool_thread_n = 0;
	if (pool_thread_ev != NULL)
		event_free(pool_thread_ev);
	pool_thread_ev = NULL;
}
