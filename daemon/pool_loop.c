/*
 * The async pool: handlers that run on the event loop itself.  exec (and
 * any FUT_HF_LOOP handler) also runs here under the other kinds, using
 * that kind's slots, because its work is a child process the loop
 * watches.  A loop handler's cancel() stops what it started; for exec
 * the job settles later, when the process group is gone.
 */

#include <stdlib.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

static void
pool_loop_done(struct fut_handler_ctx *ctx, int status)
{
	struct job	*j = ctx->job;

	job_finish(j, status == 0 ? JOB_SUCCEEDED : JOB_FAILED, FERR_NONE,
	    NULL);
	handler_ctx_free(ctx);
	sched_slot_release(j->kind);
	job_unref(j);
}

void
pool_loop_start(struct job *j)
{
	struct fut_handler_ctx	*ctx;

	ctx = handler_ctx_new(j);
	ctx->job = j;
	ctx->base = base;
	ctx->done = pool_loop_done;
	ctx->progress = handler_progress_loop;
	job_ref(j);
	job_more(j)->hctx = ctx;
	job_started(j, RUNNER_LOOP);
	if (j->handler->start(ctx) == -1) {
		if (ctx->error == NULL)
			fut_handler_fail(ctx, "%s: failed to start",
			    j->handler->name);
		pool_loop_done(ctx, -1);
	}
}

void
pool_loop_cancel(struct job *j, int64_t grace_ms)
{
	struct fut_handler_ctx	*ctx = j->more->hctx;

	if (ctx == NULL)
		return;
	ctx->grace_ms = grace_ms;
	atomic_store(&ctx->cancelled, 1);
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
