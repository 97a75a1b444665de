/*
 * The blocking pool: a fixed set of threads running handlers' run().
 *
 * DESIGN.  The loop hands a thread an item holding an immutable
 * fut_handler_ctx (the job's spec borrowed, the job referenced so it
 * outlives the borrow).  Threads never see a struct job.  start() keeps
 * the item on the loop's ready list; launch(), once the journal has the
 * turn's STARTs (pool.h), moves the ready items to the threads in one
 * go.  A finished item goes to the done list and the loop is woken with
 * event_active() (evthread_use_pthreads() is called before the base is
 * created); the loop settles the job and gives the slot back.
 *
 * Output and progress leave the thread as they come: the handler's
 * output is appended to its item (not to its context) and the item goes
 * on the news list, which wakes the loop once however much comes before
 * the loop takes it; the loop moves the output into the job and tells
 * its watchers (job_news).  So a running job's output costs no copy on
 * the thread's side, and a job without output no wakeup.
 *
 * Cancel sets the ctx's flag, which the handler polls, and detaches the
 * job: it settles at once and the late result is dropped.  The thread
 * and its slot come back when the handler returns.
 *
 * Lock order: pool_thread_lock only; it is never held while a handler
 * runs or while the loop settles a job, and libevent's own lock (taken
 * by event_active) is never taken under it by a pool thread.
 */

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "pool.h"
#include "xmalloc.h"

#define POOL_THREAD_PROGRESS_MS	50	/* the loop told at most this often */

struct tp_item {
	struct fut_handler_ctx	*ctx;
	struct job		*job;		/* loop side only */
	int			 detached;	/* loop side only: cancelled */
	int			 launched;	/* loop side only */
	int			 rc;
	/* Reported by the handler's thread, under pool_thread_lock. */
	double			 progress;
	char			*progress_msg;
	int			 progress_new;
	int64_t			 progress_told;	/* ms, monotonic */
	char			*told_msg;	/* the last message posted */
	struct buf		 out;		/* output the loop has not taken */
	size_t			 out_total;	/* all the output so far */
	int			 out_truncated;
	int			 news;		/* on pool_thread_news */
	TAILQ_ENTRY(tp_item)	 entry;
	TAILQ_ENTRY(tp_item)	 nentry;	/* pool_thread_news */
};
TAILQ_HEAD(tp_items, tp_item);

static pthread_mutex_t	 pool_thread_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 pool_thread_cond = PTHREAD_COND_INITIALIZER;
static struct tp_items	 pool_thread_todo = TAILQ_HEAD_INITIALIZER(pool_thread_todo);
static struct tp_items	 pool_thread_done = TAILQ_HEAD_INITIALIZER(pool_thread_done);
static struct tp_items	 pool_thread_news = TAILQ_HEAD_INITIALIZER(pool_thread_news);
static int		 pool_thread_posted;	/* the loop is woken already */
static pthread_t	*pool_thread_ids;
static int		 pool_thread_n;
static int		 pool_thread_quit;
static u_int		 pool_thread_nbusy;	/* loop side */
static struct tp_items	 pool_thread_ready = TAILQ_HEAD_INITIALIZER(pool_thread_ready);
static u_int		 pool_thread_nready;	/* loop side */
static struct event	*pool_thread_ev;

/*
 * From a handler's thread, lock held: it has news for the loop.  1 if
 * the caller must wake the loop (after unlocking).
 */
static int
pool_thread_news_locked(struct tp_item *it)
{
	if (!it->news) {
		it->news = 1;
		TAILQ_INSERT_TAIL(&pool_thread_news, it, nentry);
	}
	if (pool_thread_posted)
		return (0);
	pool_thread_posted = 1;
	return (1);
}

/*
 * A handler's progress, from its thread.  The loop hears of it at most
 * once per POOL_THREAD_PROGRESS_MS, but at once of a new message or of
 * completion, as from a worker (worker.c): a handler reporting in a
 * tight loop must not keep the loop busy.  What it is not told now it
 * takes with the next news or the result.
 */
static void
pool_thread_progress_cb(struct fut_handler_ctx *ctx, double fraction,
    const char *msg)
{
	struct tp_item	*it = ctx->pool_data;
	struct timespec	 ts;
	char		*copy = NULL;
	int64_t		 now;
	int		 tell, wake = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	tell = fraction >= 1 || now - it->progress_told >=
	    POOL_THREAD_PROGRESS_MS;
	if (msg != NULL && (it->told_msg == NULL ||
	    strcmp(msg, it->told_msg) != 0)) {
		free(it->told_msg);
		it->told_msg = strdup(msg);
		tell = 1;
	}
	if (msg != NULL && tell)
		copy = strdup(msg);
	pthread_mutex_lock(&pool_thread_lock);
	it->progress = fraction;
	if (copy != NULL) {
		free(it->progress_msg);
		it->progress_msg = copy;
	}
	it->progress_new = 1;
	if (tell) {
		it->progress_told = now;
		wake = pool_thread_news_locked(it);
	}
	pthread_mutex_unlock(&pool_thread_lock);
	if (wake)
		event_active(pool_thread_ev, EV_READ, 0);
}

/*
 * A handler's output, from its thread: cut at the output limit, unless
 * the daemon keeps whole logs (joblog.c), which take all of it.
 */
static int
pool_thread_append_cb(struct fut_handler_ctx *ctx, const void *p,
    size_t len)
{
	struct tp_item	*it = ctx->pool_data;
	size_t		 room;
	int		 rv, wake;

	if (len == 0)
		return (0);
	pthread_mutex_lock(&pool_thread_lock);
	room = settings.max_output - it->out_total;
	if (settings.max_output != 0 && len > room && !joblog_enabled()) {
		it->out_truncated = 1;
		len = room;
	}
	rv = buf_append(&it->out, p, len);
	if (rv == 0)
		it->out_total += len;
	wake = pool_thread_news_locked(it);
	pthread_mutex_unlock(&pool_thread_lock);
	if (wake)
		event_active(pool_thread_ev, EV_READ, 0);
	return (rv);
}

/*
 * The loop takes a job's news, taken off its item under the lock:
 * output into the job, progress, and its watchers told.
 */
static void
pool_thread_news_take(struct tp_item *it, struct buf *out, double progress,
    char *msg, int progress_new, int truncated)
{
	struct job	*j = it->job;
	struct job_more	*m;

	if (it->detached) {
		free(msg);
		buf_reset(out);
		return;
	}
	m = job_more(j);
	/* Through job_output(): kept as far as it keeps, and logged. */
	if (job_output(j, 0, out->data, out->len) == -1)
		fatal("%s: job_output", __func__);
	if (truncated)
		m->output.truncated = 1;
	buf_reset(out);
	if (progress_new)
		m->progress = progress;
	if (msg != NULL) {
		free(m->progress_msg);
		m->progress_msg = msg;
	}
	job_news(j);
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

/* News and results are in: output and progress first, then the ends. */
static void
pool_thread_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct tp_items	 done = TAILQ_HEAD_INITIALIZER(done);
	struct tp_item	*it;
	struct job	*j;
	struct buf	 out;
	double		 progress;
	char		*msg;
	int		 pnew, trunc;

	pthread_mutex_lock(&pool_thread_lock);
	pool_thread_posted = 0;
	while ((it = TAILQ_FIRST(&pool_thread_news)) != NULL) {
		TAILQ_REMOVE(&pool_thread_news, it, nentry);
		it->news = 0;
		out = it->out;
		memset(&it->out, 0, sizeof(it->out));
		progress = it->progress;
		pnew = it->progress_new;
		it->progress_new = 0;
		msg = it->progress_msg;
		it->progress_msg = NULL;
		trunc = it->out_truncated;
		/* A thread may append meanwhile: drop the lock, take these. */
		pthread_mutex_unlock(&pool_thread_lock);
		pool_thread_news_take(it, &out, progress, msg, pnew, trunc);
		pthread_mutex_lock(&pool_thread_lock);
	}
	TAILQ_CONCAT(&done, &pool_thread_done, entry);
	pthread_mutex_unlock(&pool_thread_lock);

	while ((it = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, it, entry);
		j = it->job;
		if (!it->detached) {
			/* Progress it was not told of yet: the thread is done. */
			if (it->progress_new) {
				job_more(j)->progress = it->progress;
				if (it->progress_msg != NULL) {
					free(j->more->progress_msg);
					job_more(j)->progress_msg =
					    it->progress_msg;
					it->progress_msg = NULL;
				}
			}
			if (it->rc != 0 && it->ctx->error == NULL)
				fut_handler_fail(it->ctx, "%s failed",
				    j->handler->name);
			job_finish(j, it->rc == 0 ? JOB_SUCCEEDED : JOB_FAILED,
			    FERR_NONE, NULL);
		}
		handler_ctx_free(it->ctx);
		free(it->progress_msg);
		free(it->told_msg);
		buf_reset(&it->out);
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
static int
pool_thread_init(char **cause)
{
	sigset_t	 all, old;
	int		 i, n = settings.threads, error = 0;

	if (n < 0)
		n = 0;
	pool_thread_quit = 0;
	pool_thread_ev = event_new(base, -1, 0, pool_thread_done_cb, NULL);
	pool_thread_ids = xcalloc(n > 0 ? n : 1, sizeof(*pool_thread_ids));
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < n; i++) {
		error = pthread_create(&pool_thread_ids[i], NULL,
		    pool_thread_main, NULL);
		if (error != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pool_thread_n = i;
	if (i != n) {
		xasprintf(cause, "cannot start %d threads: pthread_create: %s",
		    n, strerror(error));
		return (-1);
	}
	return (0);
}

/* Take j: its item waits on the ready list for launch(). */
static void
pool_thread_start(struct job *j)
{
	struct tp_item	*it;

	it = xcalloc(1, sizeof(*it));
	it->ctx = handler_ctx_new(j);
	it->ctx->pool_data = it;
	it->ctx->progress = pool_thread_progress_cb;
	it->ctx->append = pool_thread_append_cb;
	it->job = j;
	job_ref(j);
	job_more(j)->hctx = it->ctx;
	job_started(j);
	pool_thread_nbusy++;
	TAILQ_INSERT_TAIL(&pool_thread_ready, it, entry);
	pool_thread_nready++;
}

/* The ready items to the threads, with one lock. */
static void
pool_thread_launch(void)
{
	struct tp_item	*it;
	u_int		 i, n = pool_thread_nready;

	if (n == 0)
		return;
	TAILQ_FOREACH(it, &pool_thread_ready, entry)
		it->launched = 1;
	pthread_mutex_lock(&pool_thread_lock);
	TAILQ_CONCAT(&pool_thread_todo, &pool_thread_ready, entry);
	/* One thread per item: a broadcast would wake idle ones for none. */
	for (i = 0; i < n && i < (u_int)pool_thread_n; i++)
		pthread_cond_signal(&pool_thread_cond);
	pthread_mutex_unlock(&pool_thread_lock);
	pool_thread_nready = 0;
}

/*
 * Flag the handler and detach the job, which settles at once; the late
 * result is dropped.  An item not launched yet never reaches a thread.
 */
static void
pool_thread_cancel(struct job *j, int64_t grace_ms)
{
	struct fut_handler_ctx	*ctx = j->more->hctx;
	struct tp_item		*it;

	if (ctx == NULL)
		return;
	it = ctx->pool_data;
	atomic_store(&ctx->cancelled, 1);
	it->detached = 1;
	job_more(j)->hctx = NULL;
	if (!it->launched) {
		TAILQ_REMOVE(&pool_thread_ready, it, entry);
		pool_thread_nready--;
		job_set_ended(j, "cancelled before it started");
		job_finish(j, JOB_CANCELLED, FERR_NONE, NULL);
		handler_ctx_free(it->ctx);
		pool_thread_nbusy--;
		sched_slot_release(j->kind);
		job_unref(j);
		free(it);
		return;
	}
	job_set_ended(j, "stopped: cancel flag set, thread left to return");
	job_finish(j, JOB_CANCELLED, FERR_NONE, NULL);
}

static void
pool_thread_stats(struct pool_stats *ps)
{
	ps->busy = pool_thread_nbusy;
	ps->size = pool_thread_n;
}

/* Join the threads; running handlers were flagged and are waited for. */
static void
pool_thread_shutdown(void)
{
	int	 i;

	pthread_mutex_lock(&pool_thread_lock);
	pool_thread_quit = 1;
	pthread_cond_broadcast(&pool_thread_cond);
	pthread_mutex_unlock(&pool_thread_lock);
	for (i = 0; i < pool_thread_n; i++)
		pthread_join(pool_thread_ids[i], NULL);
	if (pool_thread_ev != NULL)
		pool_thread_done_cb(-1, 0, NULL);
	free(pool_thread_ids);
	pool_thread_ids = NULL;
	pool_thread_n = 0;
	if (pool_thread_ev != NULL)
		event_free(pool_thread_ev);
	pool_thread_ev = NULL;
}

const struct pool pool_thread_ops = {
	.name = "thread",
	.init = pool_thread_init,
	.shutdown = pool_thread_shutdown,
	.start = pool_thread_start,
	.launch = pool_thread_launch,
	.cancel = pool_thread_cancel,
	.stats = pool_thread_stats,
};
