/*
 * The job and its state machine.  This file is the only place a job's
 * state changes:
 *
 *	WAITING -> QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED | TIMED_OUT
 *
 * WAITING and QUEUED may also go straight to CANCELLED or TIMED_OUT, and a
 * failed RUNNING job with retries left goes back to QUEUED.  A final
 * state never changes.  Each change is reported to sched.c, which keeps
 * the counters, wakes waiters and starts what can start.
 *
 * One timer per job enforces both limits: the deadline (counted from
 * submission) while the job waits, and the earlier of deadline and
 * timeout (counted from start) while it runs.
 */

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "futured.h"
#include "duration.h"
#include "log.h"
#include "xmalloc.h"

static void	job_timer_cb(evutil_socket_t, short, void *);

static const char *job_state_names[JOB_NSTATES] = {
	"waiting", "queued", "running", "succeeded", "failed", "cancelled",
	"timed_out"
};
static const char *job_kind_names[JOB_NKINDS] = {
	"async", "blocking", "cpu"
};

const char *
job_state_name(enum job_state s)
{
	if ((unsigned)s >= JOB_NSTATES)
		return ("unknown");
	return (job_state_names[s]);
}

const char *
job_kind_name(enum job_kind k)
{
	if ((unsigned)k >= JOB_NKINDS)
		return ("unknown");
	return (job_kind_names[k]);
}

int
job_kind_from_name(const char *s, enum job_kind *k)
{
	int	 i;

	for (i = 0; i < JOB_NKINDS; i++) {
		if (strcmp(s, job_kind_names[i]) == 0) {
			*k = i;
			return (0);
		}
	}
	return (-1);
}

int64_t
job_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
job_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A new job with an empty spec; the caller holds the one reference. */
struct job *
job_new(void)
{
	struct job	*j;

	j = xcalloc(1, sizeof(*j));
	j->exit_status = -1;
	j->refs = 1;
	j->output.max = settings.max_output;
	j->errtail.max = settings.stderr_tail;
	TAILQ_INIT(&j->waiters);
	TAILQ_INIT(&j->children);
	return (j);
}

void
job_ref(struct job *j)
{
	j->refs++;
}

static void
job_free(struct job *j)
{
	size_t	 i;

	group_remove(j);
	if (j->parent_job != NULL) {
		TAILQ_REMOVE(&j->parent_job->children, j, centry);
		job_unref(j->parent_job);
	}
	if (j->input_job != NULL)
		job_unref(j->input_job);
	if (j->timer != NULL)
		event_free(j->timer);
	if (j->retry_timer != NULL)
		event_free(j->retry_timer);
	free(j->name);
	free(j->group);
	free(j->cwd);
	for (i = 0; i < j->nargs; i++)
		free(j->args[i]);
	free(j->args);
	if (j->envp != NULL) {
		for (i = 0; j->envp[i] != NULL; i++)
			free(j->envp[i]);
		free(j->envp);
	}
	for (i = 0; i < j->nctx; i++) {
		free(j->ctx[i].key);
		free(j->ctx[i].value);
	}
	free(j->ctx);
	free(j->after);
	free(j->payload);
	buf_reset(&j->output);
	buf_reset(&j->errtail);
	free(j->error);
	free(j->progress_msg);
	free(j);
}

void
job_unref(struct job *j)
{
	if (--j->refs == 0)
		job_free(j);
}

static void
job_set_state(struct job *j, enum job_state s)
{
	enum job_state	 old = j->state;

	if (JOB_FINAL(old))
		fatalx("%s: job %llu: %s -> %s", __func__,
		    (unsigned long long)j->id, job_state_name(old),
		    job_state_name(s));
	j->state = s;
	sched_state_changed(j, old);
	log_debug("job %llu: %s -> %s", (unsigned long long)j->id,
	    job_state_name(old), job_state_name(s));
}

/* Arm the job's one timer for the earliest limit that applies now. */
static void
job_timer_arm(struct job *j)
{
	int64_t		 due = 0, now = job_mono_ms();
	struct timeval	 tv;

	/* Monotonic: a wall-clock step must not move a limit. */
	if (j->deadline_ms > 0)
		due = j->submitted_mono + j->deadline_ms;
	if (j->state == JOB_RUNNING && j->timeout_ms > 0 &&
	    (due == 0 || j->started_mono + j->timeout_ms < due))
		due = j->started_mono + j->timeout_ms;
	if (due == 0) {
		if (j->timer != NULL)
			evtimer_del(j->timer);
		return;
	}
	if (j->timer == NULL)
		j->timer = evtimer_new(base, job_timer_cb, j);
	due -= now;
	if (due < 0)
		due = 0;
	tv.tv_sec = due / 1000;
	tv.tv_usec = (due % 1000) * 1000;
	evtimer_add(j->timer, &tv);
}

/*
 * The timer was armed for the earlier limit, so that is the one that
 * passed: libevent times from the loop's cached clock, so the timer may
 * fire a little before now reaches the limit.
 */
static void
job_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct job	*j = arg;
	char		 d[32];

	if (JOB_FINAL(j->state))
		return;
	if (j->deadline_ms > 0 && (j->state != JOB_RUNNING ||
	    j->timeout_ms <= 0 || j->submitted_mono + j->deadline_ms <=
	    j->started_mono + j->timeout_ms)) {
		j->flags |= JOBF_DEADLINE;
		job_cancel(j, JOB_TIMED_OUT, settings.grace_ms,
		    "deadline of %s passed%s",
		    duration_format(j->deadline_ms, d, sizeof(d)),
		    j->state == JOB_RUNNING ? "" : " before the job started");
	} else
		job_cancel(j, JOB_TIMED_OUT, settings.grace_ms,
		    "timed out after %s",
		    duration_format(j->timeout_ms, d, sizeof(d)));
}

/*
 * The job was accepted: it waits for dependencies or joins its queue.
 * A new job is journaled here, before anything else can happen to it; a
 * job replayed from the journal (submitted_at set) keeps its submission
 * time, so its deadline still counts from then.
 */
void
job_submitted(struct job *j, int waiting)
{
	if (j->submitted_at == 0) {
		j->submitted_at = job_now_ms();
		j->submitted_mono = job_mono_ms();
		journal_accept(j);
	} else
		j->submitted_mono = job_mono_ms() -
		    (job_now_ms() - j->submitted_at);
	j->state = waiting ? JOB_WAITING : JOB_QUEUED;
	sched_state_changed(j, (enum job_state)-1);
	job_timer_arm(j);
	if (!waiting)
		sched_enqueue(j);
}

void
job_queued(struct job *j)
{
	if (j->state != JOB_WAITING)
		return;
	job_set_state(j, JOB_QUEUED);
	sched_enqueue(j);
}

/* A pool took the job off its queue and is about to run it. */
void
job_started(struct job *j, enum job_runner runner)
{
	job_set_state(j, JOB_RUNNING);
	j->runner = runner;
	j->started_at = job_now_ms();
	j->started_mono = job_mono_ms();
	j->attempts++;
	journal_start(j);
	job_timer_arm(j);
}

/* Take the handler's outcome; the pool keeps (and frees) the context. */
static void
job_take_outcome(struct job *j, struct fut_handler_ctx *ctx)
{
	buf_reset(&j->output);
	j->output = ctx->output;
	memset(&ctx->output, 0, sizeof(ctx->output));
	buf_reset(&j->errtail);
	j->errtail = ctx->errtail;
	memset(&ctx->errtail, 0, sizeof(ctx->errtail));
	j->exit_status = ctx->exit_status;
	j->term_signal = ctx->term_signal;
	if (ctx->error != NULL && !(j->flags & JOBF_CANCELLING)) {
		free(j->error);
		j->error = ctx->error;
		ctx->error = NULL;
	}
}

static void
job_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct job	*j = arg;

	j->flags &= ~JOBF_RETRYWAIT;
	sched_enqueue(j);
}

/*
 * The delay before attempt n+1: the first delay doubled per attempt so
 * far, capped, with "equal jitter" (half fixed, half random) so that jobs
 * failing together do not come back together.
 */
static int64_t
job_retry_delay(struct job *j)
{
	int64_t		 d;
	uint32_t	 i;

	d = j->retry_delay_ms > 0 ? j->retry_delay_ms : settings.retry_delay_ms;
	for (i = 1; i < j->attempts && d < settings.retry_delay_max_ms; i++)
		d *= 2;
	if (d > settings.retry_delay_max_ms)
		d = settings.retry_delay_max_ms;
	if (d <= 1)
		return (d);
	return (d / 2 + arc4random_uniform((uint32_t)(d / 2 + 1)));
}

/*
 * A failed attempt with attempts left goes back to the queue after the
 * back-off.  A cancelled one never does; a timed-out one only when the
 * job asked for it and it was the run-time limit, not the deadline.
 */
static int
job_retry(struct job *j, enum job_state s)
{
	struct timeval	 tv;
	int64_t		 delay;

	if (j->attempts > j->retries || j->state != JOB_RUNNING)
		return (0);
	if (s == JOB_TIMED_OUT) {
		if (!j->retry_timeouts || (j->flags & JOBF_DEADLINE))
			return (0);
	} else if (s != JOB_FAILED)
		return (0);
	delay = job_retry_delay(j);
	log_info("job %llu: attempt %u %s (%s), retrying in %lld ms",
	    (unsigned long long)j->id, j->attempts,
	    s == JOB_FAILED ? "failed" : "timed out",
	    j->error != NULL ? j->error : "no error", (long long)delay);
	buf_reset(&j->output);
	buf_reset(&j->errtail);
	j->output.max = settings.max_output;
	j->errtail.max = settings.stderr_tail;
	j->exit_status = -1;
	j->term_signal = 0;
	free(j->error);
	j->error = NULL;
	j->error_code = FERR_NONE;
	j->ended = NULL;
	j->flags &= ~(JOBF_CANCELLING | JOBF_TIMEDOUT);
	j->runner = RUNNER_NONE;
	job_set_state(j, JOB_QUEUED);
	journal_requeue(j);
	job_timer_arm(j);
	if (j->retry_timer == NULL)
		j->retry_timer = evtimer_new(base, job_retry_cb, j);
	j->flags |= JOBF_RETRYWAIT;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(j->retry_timer, &tv);
	return (1);
}

/* Record how a cancelled job's process ended; the first word stands. */
void
job_set_ended(struct job *j, const char *how)
{
	if (j->ended == NULL)
		j->ended = how;
}

/*
 * Settle the job.  A job being cancelled ends cancelled (or timed out)
 * whatever the pool reports, with the reason given at cancel time.  The
 * message, if any, replaces the handler's.  A second call is ignored, so
 * a pool need not know whether the job was settled under it.
 */
void
job_finish(struct job *j, enum job_state s, int code, const char *fmt, ...)
{
	va_list	 ap;

	if (JOB_FINAL(j->state))
		return;
	if (j->hctx != NULL) {
		job_take_outcome(j, j->hctx);
		j->hctx = NULL;
	}
	if (j->flags & JOBF_CANCELLING)
		s = (j->flags & JOBF_TIMEDOUT) ? JOB_TIMED_OUT : JOB_CANCELLED;
	else if (fmt != NULL) {
		free(j->error);
		va_start(ap, fmt);
		xvasprintf(&j->error, fmt, ap);
		va_end(ap);
	}
	if (code != FERR_NONE)
		j->error_code = code;
	if (job_retry(j, s))
		return;
	if (j->flags & JOBF_CANCELLING)
		job_set_ended(j, "terminated");
	else if (s == JOB_SUCCEEDED)
		job_set_ended(j, "completed");
	else
		job_set_ended(j, "failed");
	if (j->timer != NULL)
		evtimer_del(j->timer);
	j->finished_at = job_now_ms();
	j->runner = RUNNER_NONE;
	job_set_state(j, s);
	/* Before waiters and dependents run: their records come after. */
	journal_final(j);
	sched_job_final(j);
}

/*
 * Cancel (final CANCELLED) or time out (final TIMED_OUT) a job.  Queued
 * and waiting jobs settle at once; running ones go through their pool,
 * which may settle them later, when their process is gone.
 */
int
job_cancel(struct job *j, enum job_state final, int64_t grace_ms,
    const char *fmt, ...)
{
	va_list	 ap;

	if (JOB_FINAL(j->state) || (j->flags & JOBF_CANCELLING))
		return (0);
	if (grace_ms < 0)
		grace_ms = settings.grace_ms;

	free(j->error);
	va_start(ap, fmt);
	xvasprintf(&j->error, fmt, ap);
	va_end(ap);
	j->flags |= JOBF_CANCELLING;
	if (final == JOB_TIMED_OUT)
		j->flags |= JOBF_TIMEDOUT;

	switch (j->state) {
	case JOB_WAITING:
		job_set_ended(j, final == JOB_CANCELLED ?
		    "cancelled while waiting" : "timed out while waiting");
		job_finish(j, final, FERR_NONE, NULL);
		break;
	case JOB_QUEUED:
		/* In a cpu worker's FIFO: its worker's answer settles it. */
		if (j->flags & JOBF_POOLED) {
			pool_proc_cancel(j, grace_ms);
			break;
		}
		if (j->flags & JOBF_RETRYWAIT) {
			evtimer_del(j->retry_timer);
			j->flags &= ~JOBF_RETRYWAIT;
		} else if (j->flags & JOBF_HELD)
			group_unhold(j);
		else
			sched_dequeue(j);
		job_set_ended(j, final == JOB_CANCELLED ?
		    "cancelled while queued" : "timed out while queued");
		job_finish(j, final, FERR_NONE, NULL);
		break;
	case JOB_RUNNING:
		switch (j->runner) {
		case RUNNER_LOOP:
			pool_loop_cancel(j, grace_ms);
			break;
		case RUNNER_THREAD:
			pool_thread_cancel(j);
			job_set_ended(j, "stopped: cancel flag set, thread "
			    "left to return");
			job_finish(j, final, FERR_NONE, NULL);
			break;
		case RUNNER_PROC:
			pool_proc_cancel(j, grace_ms);
			break;
		case RUNNER_NONE:
			fatalx("%s: running job %llu has no runner", __func__,
			    (unsigned long long)j->id);
		}
		break;
	default:
		fatalx("%s: bad state %d", __func__, j->state);
	}
	return (1);
}
