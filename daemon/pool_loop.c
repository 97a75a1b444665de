/*
 * The loop pool: handlers that run on the event loop itself.  exec (and
 * any FUT_HF_LOOP handler) also runs here under the other kinds, using
 * that kind's slots, because its work is a child process the loop
 * watches.  A loop handler's cancel() stops what it started; for exec
 * the job settles later, when the process group is gone.
 *
 * start() makes the job RUNNING with its context; the handler's start()
 * is called at launch(), once the journal has the job's START (pool.h).
 * can_start() holds a handler to the limit it set (exec: what the
 * descriptors allow): a job over it stays QUEUED until one of that
 * handler's jobs ends, rather than wait RUNNING inside the handler.
 * Output and stderr go straight into the job (job_output()), and
 * watchers hear of them at once, also of what the job does not keep.
 */

#include <stdlib.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "pool.h"
#include "xmalloc.h"

/* Jobs started since the last launch, in order; NULL: cancelled. */
static struct job	**pool_loop_pending;
static size_t		  pool_loop_npending, pool_loop_cap;
static u_int		  pool_loop_nbusy;

static void
pool_loop_done(struct fut_handler_ctx *ctx, int status)
{
	struct job	*j = ctx->job;

	job_finish(j, status == 0 ? JOB_SUCCEEDED : JOB_FAILED, FERR_NONE,
	    NULL);
	handler_ctx_free(ctx);
	handler_job_ended(j->handler);
	pool_loop_nbusy--;
	sched_slot_release(j->kind);
	job_unref(j);
}

/* A loop handler's output: into the job, and news of it. */
static int
pool_loop_append(struct fut_handler_ctx *ctx, const void *p, size_t len)
{
	struct job	*j = ctx->job;

	if (j == NULL)
		return (0);
	return (job_output(j, 0, p, len));
}

/* Its stderr: the job keeps the tail, watchers are told all of it. */
static void
pool_loop_append_err(struct fut_handler_ctx *ctx, const void *p, size_t len)
{
	/* Out of memory: the tail misses a chunk, as it did in ctx. */
	if (ctx->job != NULL)
		(void)job_output(ctx->job, 1, p, len);
}

static void
pool_loop_progress(struct fut_handler_ctx *ctx, double fraction,
    const char *msg)
{
	handler_progress_loop(ctx, fraction, msg);
	if (ctx->job != NULL)
		job_news(ctx->job);
}

/*
 * The kind's slots, and the handler's own limit (fut_handler_set_limit):
 * a job over it stays queued until one of the handler's jobs ends.
 */
static int
pool_loop_can_start(const struct job *j, u_int used)
{
	return (used < sched_slots_max(j->kind) &&
	    handler_may_start(j->handler));
}

static void
pool_loop_start(struct job *j)
{
	struct fut_handler_ctx	*ctx;

	ctx = handler_ctx_new(j);
	ctx->job = j;
	ctx->base = base;
	ctx->done = pool_loop_done;
	ctx->progress = pool_loop_progress;
	ctx->append = pool_loop_append;
	ctx->append_err = pool_loop_append_err;
	job_ref(j);
	job_more(j)->hctx = ctx;
	job_started(j);
	handler_job_started(j->handler);
	pool_loop_nbusy++;
	if (pool_loop_npending == pool_loop_cap) {
		pool_loop_cap = pool_loop_cap ? pool_loop_cap * 2 : 64;
		pool_loop_pending = xreallocarray(pool_loop_pending,
		    pool_loop_cap, sizeof(*pool_loop_pending));
	}
	pool_loop_pending[pool_loop_npending++] = j;
}

static void
pool_loop_launch(void)
{
	struct fut_handler_ctx	*ctx;
	struct job		*j;
	size_t			 i;

	/* A handler may finish at once; a finish never starts a job here. */
	for (i = 0; i < pool_loop_npending; i++) {
		if ((j = pool_loop_pending[i]) == NULL)
			continue;
		pool_loop_pending[i] = NULL;
		ctx = j->more->hctx;
		if (j->handler->start(ctx) == -1) {
			if (ctx->error == NULL)
				fut_handler_fail(ctx, "%s: failed to start",
				    j->handler->name);
			pool_loop_done(ctx, -1);
		}
	}
	pool_loop_npending = 0;
}

/* Drop j from the jobs not launched yet; 1 if it was there. */
static int
pool_loop_unpend(struct job *j)
{
	size_t	 i;

	for (i = 0; i < pool_loop_npending; i++) {
		if (pool_loop_pending[i] == j) {
			pool_loop_pending[i] = NULL;
			return (1);
		}
	}
	return (0);
}

static void
pool_loop_cancel(struct job *j, int64_t grace_ms)
{
	struct fut_handler_ctx	*ctx = j->more->hctx;

	if (ctx == NULL)
		return;
	ctx->grace_ms = grace_ms;
	atomic_store(&ctx->cancelled, 1);
	if (pool_loop_unpend(j)) {
		/* Never started: nothing to stop. */
		job_set_ended(j, "cancelled before it started");
		pool_loop_done(ctx, -1);
		return;
	}
	if (j->handler->flags & FUT_HF_LOOP) {
		/* It calls fut_handler_done() once its process is gone. */
		j->handler->cancel(ctx);
		return;
	}
	if (j->handler->cancel != NULL)
		j->handler->cancel(ctx);
	job_set_ended(j, "stopped");
	pool_loop_done(ctx, -1);
}

static void
pool_loop_shutdown(void)
{
	free(pool_loop_pending);
	pool_loop_pending = NULL;
	pool_loop_npending = pool_loop_cap = 0;
}

static void
pool_loop_stats(struct pool_stats *ps)
{
	ps->busy = pool_loop_nbusy;
	ps->size = -1;
}

const struct pool pool_loop_ops = {
	.name = "loop",
	.shutdown = pool_loop_shutdown,
	.can_start = pool_loop_can_start,
	.start = pool_loop_start,
	.launch = pool_loop_launch,
	.cancel = pool_loop_cancel,
	.stats = pool_loop_stats,
};
