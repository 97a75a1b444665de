/*
 * The job and its state machine.  This file is the only place a job's
 * state changes:
 *
 *	WAITING -> QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED | TIMED_OUT
 *
 * WAITING and QUEUED may also go straight to CANCELLED or TIMED_OUT, and a
 * failed RUNNING job with retries left goes back to QUEUED.  A final
 * state never changes.  Each change is reported to sched.c, which keeps
 * the counters, wakes waiters and starts what can start.  A job rebuilt
 * from the journal gets its first state here too (job_restore_*).
 *
 * One timer per job enforces both limits: the deadline (counted from
 * submission) while the job waits, and the earlier of deadline and
 * timeout (counted from start) while it runs.
 */

#include <sys/types.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "futured.h"
#include "duration.h"
#include "pool.h"
#include "log.h"
#include "metrics.h"
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

/*
 * The blocks a job shares until it needs its own (see futured.h).  Their
 * list heads are never written: a job gets its own block first.
 */
const struct job_spec job_spec_none;
const struct job_more job_more_none = {
	.exit_status = -1,
	.children = { NULL,
	    (struct job_more **)&job_more_none.children.tqh_first },
	.waiters = { NULL,
	    (struct waitref **)&job_more_none.waiters.tqh_first }
};

/* The budget of issue 7: 200 bytes per queued job, malloc's share too. */
_Static_assert(sizeof(struct job) <= 128, "struct job outgrew 128 bytes");

/* A new job with an empty spec; the caller holds the one reference. */
struct job *
job_new(void)
{
	struct job	*j;

	j = xcalloc(1, sizeof(*j));
	j->refs = 1;
	j->spec = &job_spec_none;
	j->more = &job_more_none;
	return (j);
}

struct job_spec *
job_spec_own(struct job *j)
{
	if (j->spec == &job_spec_none)
		j->spec = xcalloc(1, sizeof(*j->spec));
	return ((struct job_spec *)j->spec);
}

struct job_more *
job_more(struct job *j)
{
	struct job_more	*m;

	if (j->more != &job_more_none)
		return ((struct job_more *)j->more);
	m = xcalloc(1, sizeof(*m));
	m->job = j;
	m->exit_status = -1;
	m->output.max = settings.max_output;
	m->errtail.max = settings.stderr_tail;
	TAILQ_INIT(&m->children);
	TAILQ_INIT(&m->waiters);
	j->more = m;
	return (m);
}

void
job_ref(struct job *j)
{
	j->refs++;
}

static void
job_spec_free(struct job_spec *s)
{
	size_t	 i;

	free(s->name);
	free(s->group);
	free(s->cwd);
	for (i = 0; i < s->nargs; i++)
		free(s->args[i]);
	free(s->args);
	if (s->envp != NULL) {
		for (i = 0; s->envp[i] != NULL; i++)
			free(s->envp[i]);
		free(s->envp);
	}
	for (i = 0; i < s->nctx; i++) {
		free(s->ctx[i].key);
		free(s->ctx[i].value);
	}
	free(s->ctx);
	free(s->after);
	free(s);
}

static void
job_free(struct job *j)
{
	struct job_more	*m;

	group_remove(j);
	if (j->more != &job_more_none) {
		m = job_more(j);
		if (m->parent_job != NULL) {
			TAILQ_REMOVE(&job_more(m->parent_job)->children, m,
			    centry);
			job_unref(m->parent_job);
		}
		if (m->input_job != NULL)
			job_unref(m->input_job);
		if (m->timer != NULL)
			event_free(m->timer);
		if (m->retry_timer != NULL)
			event_free(m->retry_timer);
		joblog_free(j);
		buf_reset(&m->output);
		buf_reset(&m->errtail);
		free(m->error);
		free(m->progress_msg);
		free(m->engine_id);
		free(m);
	}
	if (j->spec != &job_spec_none)
		job_spec_free(job_spec_own(j));
	free(j->payload);
	free(j);
}

void
job_unref(struct job *j)
{
	if (--j->refs == 0)
		job_free(j);
}

/* The one store to j->state: futured.h makes it const everywhere else. */
static void
job_state_set(struct job *j, enum job_state s)
{
	*(uint8_t *)(uintptr_t)&j->state = s;
}

static void
job_set_state(struct job *j, enum job_state s)
{
	enum job_state	 old = j->state;

	if (JOB_FINAL(old))
		fatalx("%s: job %llu: %s -> %s", __func__,
		    (unsigned long long)j->id, job_state_name(old),
		    job_state_name(s));
	job_state_set(j, s);
	sched_state_changed(j, old);
	log_debug("job %llu: %s -> %s", (unsigned long long)j->id,
	    job_state_name(old), job_state_name(s));
}

/* Arm the job's one timer for the earliest limit that applies now. */
static void
job_timer_arm(struct job *j)
{
	int64_t		 due = 0, now = job_mono_ms();

	/* Monotonic: a wall-clock step must not move a limit. */
	if (j->spec->deadline_ms > 0)
		due = j->more->submitted_mono + j->spec->deadline_ms;
	if (j->state == JOB_RUNNING && j->spec->timeout_ms > 0 &&
	    (due == 0 || j->more->started_mono + j->spec->timeout_ms < due))
		due = j->more->started_mono + j->spec->timeout_ms;
	if (due == 0) {
		if (j->more->timer != NULL)
			evtimer_del(j->more->timer);
		return;
	}
	if (j->more->timer == NULL)
		job_more(j)->timer = evtimer_new(base, job_timer_cb, j);
	timer_add_ms(j->more->timer, due - now);
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
	if (j->spec->deadline_ms > 0 && (j->state != JOB_RUNNING ||
	    j->spec->timeout_ms <= 0 ||
	    j->more->submitted_mono + j->spec->deadline_ms <=
	    j->more->started_mono + j->spec->timeout_ms)) {
		j->flags |= JOBF_DEADLINE;
		job_cancel(j, JOB_TIMED_OUT, settings.grace_ms,
		    "deadline of %s passed%s",
		    duration_format(j->spec->deadline_ms, d, sizeof(d)),
		    j->state == JOB_RUNNING ? "" : " before the job started");
	} else
		job_cancel(j, JOB_TIMED_OUT, settings.grace_ms,
		    "timed out after %s",
		    duration_format(j->spec->timeout_ms, d, sizeof(d)));
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
	int64_t	 now = job_now_ms();

	if (j->submitted_at == 0) {
		j->submitted_at = now;
		journal_accept(j);
		metrics_job_submitted(j);
	}
	/* Only a deadline counts from submission on the monotonic clock. */
	if (j->spec->deadline_ms > 0)
		job_more(j)->submitted_mono = job_mono_ms() -
		    (now - j->submitted_at);
	job_state_set(j, waiting ? JOB_WAITING : JOB_QUEUED);
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
	job_more(j)->queued_at = job_now_ms();
	job_set_state(j, JOB_QUEUED);
	sched_enqueue(j);
}

/*
 * sched.c hands the job's next attempt to pool p.  The attempt counts
 * from here, and its START record is appended here: sched.c writes it
 * before the pool may let the job run, so that a crash can never lose
 * an attempt that ran (the replay fails or retries it, counted).
 */
void
job_begin(struct job *j, const struct pool *p)
{
	struct job_more	*m = job_more(j);
	int64_t		 was = m->started_at;

	m->pool = p;
	m->attempts++;
	if (!journal_enabled())
		return;
	/*
	 * The record says when the attempt was handed over; the job's own
	 * start is the pool's to say (job_started): a cpu job may wait in
	 * its worker's FIFO first.
	 */
	m->started_at = job_now_ms();
	journal_start(j);
	m->started_at = was;
}

/*
 * The pool gives back an attempt it never started (a cpu worker that
 * died with the job still in its FIFO): uncounted, and so recorded.
 */
void
job_unbegin(struct job *j)
{
	struct job_more	*m = job_more(j);

	if (m->attempts > 0)
		m->attempts--;
	m->pool = NULL;
	journal_requeue(j);
}

/* The pool runs the job now: RUNNING, and the run-time limit counts. */
void
job_started(struct job *j)
{
	struct job_more	*m = job_more(j);

	job_set_state(j, JOB_RUNNING);
	m->started_at = job_now_ms();
	m->started_mono = job_mono_ms();
	metrics_job_started(j);
	job_timer_arm(j);
}

void
job_news(struct job *j)
{
	sched_job_news(j);
}

/*
 * The kept output is its first --max-output bytes, the stderr its last
 * --stderr-tail; a watcher takes the rest from m->fresh while it is
 * told, so that it may stream what is not kept.
 */
int
job_output(struct job *j, int err, const void *p, size_t len)
{
	struct job_more	*m = job_more(j);

	if (len == 0)
		return (0);
	joblog_write(j, err, p, len);
	if (err) {
		if (buf_append_tail(&m->errtail, p, len) == -1)
			return (-1);
		m->err_written += len;
	} else {
		if (buf_append(&m->output, p, len) == -1)
			return (-1);
		m->out_written += len;
	}
	m->fresh = p;
	m->fresh_len = len;
	m->fresh_err = err;
	sched_job_news(j);
	m->fresh = NULL;
	m->fresh_len = 0;
	return (0);
}

/*
 * Take the handler's outcome; the pool keeps (and frees) the context.
 * Output a pool handed on while the job ran is in the job already: what
 * the context holds comes after it.
 */
static void
job_take_outcome(struct job *j, struct fut_handler_ctx *ctx)
{
	struct job_more	*m = job_more(j);

	/* What a pool did not hand on as it came is logged now. */
	joblog_write(j, 0, ctx->output.data, ctx->output.len);
	joblog_write(j, 1, ctx->errtail.data, ctx->errtail.len);
	if (m->output.len == 0 && !m->output.truncated) {
		buf_reset(&m->output);
		m->output = ctx->output;
		memset(&ctx->output, 0, sizeof(ctx->output));
	} else {
		if (buf_append(&m->output, ctx->output.data,
		    ctx->output.len) == -1)
			fatal("%s: buf_append", __func__);
		m->output.truncated |= ctx->output.truncated;
	}
	/* A pool that handed stderr on as it came left none in ctx. */
	if (ctx->errtail.len > 0 || ctx->errtail.truncated) {
		buf_reset(&m->errtail);
		m->errtail = ctx->errtail;
		memset(&ctx->errtail, 0, sizeof(ctx->errtail));
	}
	m->exit_status = ctx->exit_status;
	m->term_signal = ctx->term_signal;
	if (ctx->error != NULL && !(j->flags & JOBF_CANCELLING)) {
		free(m->error);
		m->error = ctx->error;
		ctx->error = NULL;
	}
}

static void
job_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct job	*j = arg;

	j->flags &= ~JOBF_RETRYWAIT;
	job_more(j)->queued_at = job_now_ms();
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

	d = j->spec->retry_delay_ms > 0 ? j->spec->retry_delay_ms :
	    settings.retry_delay_ms;
	for (i = 1; i < j->more->attempts && d < settings.retry_delay_max_ms;
	    i++)
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
	struct job_more	*m;
	int64_t		 delay;

	if (j->more->attempts > j->spec->retries || j->state != JOB_RUNNING)
		return (0);
	if (s == JOB_TIMED_OUT) {
		if (!j->spec->retry_timeouts || (j->flags & JOBF_DEADLINE))
			return (0);
	} else if (s != JOB_FAILED)
		return (0);
	m = job_more(j);
	delay = job_retry_delay(j);
	log_info("job %llu: attempt %u %s (%s), retrying in %lld ms",
	    (unsigned long long)j->id, m->attempts,
	    s == JOB_FAILED ? "failed" : "timed out",
	    m->error != NULL ? m->error : "no error", (long long)delay);
	buf_reset(&m->output);
	buf_reset(&m->errtail);
	m->output.max = settings.max_output;
	m->errtail.max = settings.stderr_tail;
	m->out_written = m->err_written = 0;
	m->exit_status = -1;
	m->term_signal = 0;
	free(m->error);
	m->error = NULL;
	m->error_code = FERR_NONE;
	m->ended = NULL;
	j->flags &= ~(JOBF_CANCELLING | JOBF_TIMEDOUT);
	m->pool = NULL;
	job_set_state(j, JOB_QUEUED);
	journal_requeue(j);
	job_timer_arm(j);
	if (m->retry_timer == NULL)
		m->retry_timer = evtimer_new(base, job_retry_cb, j);
	j->flags |= JOBF_RETRYWAIT;
	timer_add_ms(m->retry_timer, delay);
	return (1);
}

/* Record how a cancelled job's process ended; the first word stands. */
void
job_set_ended(struct job *j, const char *how)
{
	if (j->more->ended == NULL)
		job_more(j)->ended = how;
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
	struct job_more	*m;
	int64_t		 now = 0;
	va_list		 ap;

	if (JOB_FINAL(j->state))
		return;
	/* Every final job has an outcome. */
	m = job_more(j);
	/* Each attempt that ran counts, retried or not. */
	if (j->state == JOB_RUNNING) {
		now = job_now_ms();
		metrics_job_ran(j, now);
	}
	if (m->hctx != NULL) {
		job_take_outcome(j, m->hctx);
		m->hctx = NULL;
	}
	if (j->flags & JOBF_CANCELLING)
		s = (j->flags & JOBF_TIMEDOUT) ? JOB_TIMED_OUT : JOB_CANCELLED;
	else if (fmt != NULL) {
		free(m->error);
		va_start(ap, fmt);
		xvasprintf(&m->error, fmt, ap);
		va_end(ap);
	}
	if (code != FERR_NONE)
		m->error_code = code;
	joblog_end(j);
	if (job_retry(j, s))
		return;
	if (j->flags & JOBF_CANCELLING)
		job_set_ended(j, "terminated");
	else if (s == JOB_SUCCEEDED)
		job_set_ended(j, "completed");
	else
		job_set_ended(j, "failed");
	if (m->timer != NULL)
		evtimer_del(m->timer);
	m->finished_at = now != 0 ? now : job_now_ms();
	m->pool = NULL;
	job_set_state(j, s);
	metrics_job_finished(j);
	/* Before waiters and dependents run: their records come after. */
	journal_final(j);
	sched_job_final(j);
}

/*
 * Shutdown: settle j for its waiters only.  The journal keeps it as it
 * stands (queued, or running), and the replay takes it up again.
 */
void
job_finish_unrecorded(struct job *j, enum job_state s, int code,
    const char *why)
{
	journal_suspend(1);
	job_finish(j, s, code, "%s", why);
	journal_suspend(0);
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

	free(j->more->error);
	va_start(ap, fmt);
	xvasprintf(&job_more(j)->error, fmt, ap);
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
		/* Waiting inside its pool: the pool's answer settles it. */
		if (j->flags & JOBF_POOLED) {
			j->more->pool->cancel(j, grace_ms);
			break;
		}
		if (j->flags & JOBF_RETRYWAIT) {
			evtimer_del(j->more->retry_timer);
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
		if (j->more->pool == NULL)
			fatalx("%s: running job %llu has no pool", __func__,
			    (unsigned long long)j->id);
		/* It settles the job, now or once its resource is free. */
		j->more->pool->cancel(j, grace_ms);
		break;
	default:
		fatalx("%s: bad state %d", __func__, j->state);
	}
	return (1);
}

/*
 * A replayed job takes the final state of its FINAL record.  It is not
 * in the table yet: sched_restore() counts it in that state, as its
 * first, so no change is reported here.
 */
void
job_restore_final(struct job *j, enum job_state s)
{
	if (!JOB_FINAL(s) || (unsigned)s >= JOB_NSTATES)
		fatalx("%s: job %llu: %s is not final", __func__,
		    (unsigned long long)j->id, job_state_name(s));
	job_state_set(j, s);
}

/*
 * A replayed job that cannot go on after the restart (its handler is
 * gone, its record is corrupt, it ran out of attempts) fails, and the
 * journal records it, so that the next restart agrees.
 */
void
job_restore_failed(struct job *j, const char *fmt, ...)
{
	va_list	 ap;

	free(j->more->error);
	va_start(ap, fmt);
	xvasprintf(&job_more(j)->error, fmt, ap);
	va_end(ap);
	job_restore_final(j, JOB_FAILED);
	job_more(j)->ended = "daemon restarted";
	job_more(j)->finished_at = job_now_ms();
	metrics_job_finished(j);
	log_info("job %llu: %s", (unsigned long long)j->id, j->more->error);
	sched_restore(j);
	journal_final(j);
}
