/*
 * daemon/job.c: the job state machine, driven through sched.c and the
 * loop pool on a real event base but without sockets, threads or worker
 * processes.  Every job here is of kind async, so it runs on the loop.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "testlib.h"
#include "xmalloc.h"


/*
 * flaky: fails (with some output) while flaky_failures is positive, then
 * succeeds with "ok".
 */
static int	 flaky_failures;

static int
flaky_start(struct fut_handler_ctx *ctx)
{
	if (flaky_failures > 0) {
		flaky_failures--;
		fut_handler_output(ctx, "junk", 4);
		fut_handler_fail(ctx, "flaky: failing");
		return (-1);
	}
	fut_handler_output(ctx, "ok", 2);
	fut_handler_done(ctx, 0);
	return (0);
}

static const struct fut_handler handler_flaky = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_flaky",
	.description = "fail flaky_failures times, then succeed",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.start = flaky_start,
};

/* t_part: outputs "part" at start and runs until part_ctx is finished. */
static struct fut_handler_ctx	*part_ctx;

static int
part_start(struct fut_handler_ctx *ctx)
{
	part_ctx = ctx;
	fut_handler_output(ctx, "part", 4);
	return (0);
}

static const struct fut_handler handler_part = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_part",
	.description = "output part, run until told",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.start = part_start,
};

/* Counters at setup: sched.c keeps them across sched_free (CK_FORK=no). */
static uint64_t	 counts0[JOB_NKINDS][JOB_NSTATES];

static void
setup(void)
{
	char	*cause = NULL;
	int	 k, st;

	loop_setup();
	if (handler_find(handler_flaky.name) == NULL) {
		ck_assert_msg(handler_register(&handler_flaky, &cause) == 0,
		    "%s", cause);
		ck_assert_msg(handler_register(&handler_part, &cause) == 0,
		    "%s", cause);
	}
	part_ctx = NULL;
	sched_init();
	for (k = 0; k < JOB_NKINDS; k++) {
		for (st = 0; st < JOB_NSTATES; st++)
			counts0[k][st] = sched_count(k, st);
	}
	flaky_failures = 0;
}


/* A new async job of handler, with one argument and a payload if given. */
static struct job *
must_job(const char *handler, const char *arg, const char *payload)
{
	struct job	*j;
	struct job_spec	*js;

	j = job_new();
	j->handler = handler_find(handler);
	ck_assert_msg(j->handler != NULL, "no handler %s", handler);
	j->kind = JOB_ASYNC;
	if (arg != NULL) {
		js = job_spec_own(j);
		js->args = xcalloc(1, sizeof(*js->args));
		js->args[0] = xstrdup(arg);
		js->nargs = 1;
	}
	if (payload != NULL) {
		j->payload = xmemdup(payload, strlen(payload));
		j->payload_len = strlen(payload);
	}
	return (j);
}

static void
must_after(struct job *j, struct job *dep)
{
	struct job_spec	*js = job_spec_own(j);

	js->after = xreallocarray(js->after, js->nafter + 1,
	    sizeof(*js->after));
	js->after[js->nafter++] = dep->id;
}

/* How many async jobs of this test are in state s. */
static void
ck_count(enum job_state s, uint64_t n)
{
	ck_assert_msg(sched_count(JOB_ASYNC, s) - counts0[JOB_ASYNC][s] == n,
	    "%llu async jobs %s, expected %llu",
	    (unsigned long long)(sched_count(JOB_ASYNC, s) -
	    counts0[JOB_ASYNC][s]), job_state_name(s), (unsigned long long)n);
}

static void
ck_output(struct job *j, const char *s)
{
	ck_assert_uint_eq(j->more->output.len, strlen(s));
	if (j->more->output.len > 0)
		ck_assert_mem_eq(j->more->output.data, s, j->more->output.len);
}

/* Lifecycle ------------------------------------------------------------ */

START_TEST(test_echo_succeeds_with_payload_as_output)
{
	struct job	*j;

	j = must_insert(must_job("echo", NULL, "hello, world"));
	ck_assert_uint_ne(j->id, 0);
	ck_state(j, JOB_QUEUED);
	ck_assert_int_ne(j->submitted_at, 0);
	ck_assert_int_eq(j->more->started_at, 0);
	ck_count(JOB_QUEUED, 1);

	step();
	ck_state(j, JOB_SUCCEEDED);
	ck_output(j, "hello, world");
	ck_assert_uint_eq(j->more->attempts, 1);
	ck_assert_ptr_null(j->more->error);
	ck_assert_int_eq(j->more->error_code, FERR_NONE);
	ck_assert_int_ge(j->more->started_at, j->submitted_at);
	ck_assert_int_ge(j->more->finished_at, j->more->started_at);
	ck_count(JOB_QUEUED, 0);
	ck_count(JOB_SUCCEEDED, 1);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 0);
	ck_assert_uint_eq(sched_running(), 0);
}
END_TEST

START_TEST(test_echo_empty_payload)
{
	struct job	*j;

	j = must_insert(must_job("echo", NULL, NULL));
	step();
	ck_state(j, JOB_SUCCEEDED);
	ck_output(j, "");
}
END_TEST

/*
 * A plain job shares the spec and outcome blocks while it waits in a
 * queue (that is what keeps a million queued jobs small), gets its own
 * outcome block when it ends, and the shared blocks stay as they were.
 */
START_TEST(test_queued_job_shares_its_blocks)
{
	struct job	*j;

	j = must_insert(must_job("echo", NULL, "x"));
	ck_state(j, JOB_QUEUED);
	ck_assert_ptr_eq(j->spec, &job_spec_none);
	ck_assert_ptr_eq(j->more, &job_more_none);
	ck_assert_int_eq(j->more->exit_status, -1);
	ck_run_until_final(j);
	ck_state(j, JOB_SUCCEEDED);
	ck_assert_ptr_eq(j->spec, &job_spec_none);
	ck_assert_ptr_ne(j->more, &job_more_none);
	ck_assert_ptr_eq(j->more->job, j);
	ck_output(j, "x");
	ck_assert_uint_eq(job_more_none.output.len, 0);
	ck_assert_ptr_null(job_more_none.error);
	ck_assert_uint_eq(job_more_none.attempts, 0);
	ck_assert_int_eq(job_more_none.started_at, 0);
	ck_assert(TAILQ_EMPTY(&job_more_none.waiters));
	ck_assert(TAILQ_EMPTY(&job_more_none.children));
}
END_TEST

/* The first write gives a job its own block; later ones reuse it. */
START_TEST(test_blocks_made_once)
{
	struct job	*j;
	struct job_spec	*js;
	struct job_more	*m;

	j = job_new();
	js = job_spec_own(j);
	ck_assert_ptr_ne(js, &job_spec_none);
	ck_assert_ptr_eq(job_spec_own(j), js);
	ck_assert_ptr_eq(j->spec, js);
	js->name = xstrdup("named");
	m = job_more(j);
	ck_assert_ptr_ne(m, &job_more_none);
	ck_assert_ptr_eq(job_more(j), m);
	ck_assert_int_eq(m->exit_status, -1);
	ck_assert_uint_eq(m->output.max, settings.max_output);
	ck_assert_uint_eq(m->errtail.max, settings.stderr_tail);
	ck_assert(TAILQ_EMPTY(&m->waiters));
	buf_append(&m->output, "out", 3);
	/* Freed with the job (ASan's leak check holds the test to it). */
	job_unref(j);
}
END_TEST

START_TEST(test_cancel_queued_is_immediate)
{
	struct job	*j;

	j = must_insert(must_job("echo", NULL, "x"));
	ck_state(j, JOB_QUEUED);
	ck_assert_int_eq(job_cancel(j, JOB_CANCELLED, -1, "asked by %s",
	    "test"), 1);
	ck_state(j, JOB_CANCELLED);
	ck_assert_str_eq(j->more->error, "asked by test");
	ck_assert_int_eq(j->more->started_at, 0);
	ck_assert_int_ne(j->more->finished_at, 0);
	ck_assert_uint_eq(j->more->attempts, 0);

	ck_assert_int_eq(job_cancel(j, JOB_CANCELLED, -1, "again"), 0);
	ck_assert_str_eq(j->more->error, "asked by test");

	/* The pending kick finds nothing to start. */
	step();
	ck_state(j, JOB_CANCELLED);
	ck_output(j, "");
	ck_count(JOB_QUEUED, 0);
	ck_count(JOB_CANCELLED, 1);
}
END_TEST

START_TEST(test_cancel_running_frees_its_slot)
{
	struct job	*sleeper, *next;

	settings.async_slots = 1;
	sleeper = must_insert(must_job("sleep", "10s", NULL));
	next = must_insert(must_job("echo", NULL, "next"));
	step();
	ck_state(sleeper, JOB_RUNNING);
	ck_state(next, JOB_QUEUED);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 1);
	ck_assert_uint_eq(sched_running(), 1);

	ck_assert_int_eq(job_cancel(sleeper, JOB_CANCELLED, -1, "stop"), 1);
	ck_state(sleeper, JOB_CANCELLED);
	ck_assert_str_eq(sleeper->more->error, "stop");
	ck_assert_int_eq(job_cancel(sleeper, JOB_CANCELLED, -1, "again"), 0);

	step();
	ck_state(next, JOB_SUCCEEDED);
	ck_output(next, "next");
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 0);
	ck_assert_uint_eq(sched_running(), 0);
}
END_TEST

START_TEST(test_final_state_never_changes)
{
	struct job	*j;

	j = must_insert(must_job("echo", NULL, "done"));
	step();
	ck_state(j, JOB_SUCCEEDED);

	job_finish(j, JOB_FAILED, FERR_INTERNAL, "too late");
	ck_state(j, JOB_SUCCEEDED);
	ck_assert_ptr_null(j->more->error);
	ck_assert_int_eq(j->more->error_code, FERR_NONE);
	ck_output(j, "done");

	ck_assert_int_eq(job_cancel(j, JOB_CANCELLED, -1, "too late"), 0);
	ck_assert_int_eq(job_cancel(j, JOB_TIMED_OUT, -1, "too late"), 0);
	ck_state(j, JOB_SUCCEEDED);
	ck_assert_ptr_null(j->more->error);
	ck_count(JOB_SUCCEEDED, 1);
	ck_count(JOB_FAILED, 0);
}
END_TEST

START_TEST(test_start_failure_fails_job)
{
	struct job	*j;

	j = must_insert(must_job("sleep", "bogus", NULL));
	step();
	ck_state(j, JOB_FAILED);
	ck_assert_uint_eq(j->more->attempts, 1);
	ck_assert_ptr_nonnull(j->more->error);
	ck_assert_str_eq(j->more->error, "sleep: bad duration \"bogus\"");
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 0);
}
END_TEST

/* Limits --------------------------------------------------------------- */

START_TEST(test_timeout_while_running)
{
	struct job	*j;

	j = must_job("sleep", "10s", NULL);
	job_spec_own(j)->timeout_ms = 50;
	must_insert(j);
	ck_run_until_final(j);
	ck_state(j, JOB_TIMED_OUT);
	ck_assert_str_eq(j->more->error, "timed out after 50ms");
	ck_assert_int_ne(j->more->started_at, 0);
	ck_assert_int_ge(j->more->finished_at, j->more->started_at);
	ck_assert_int_lt(j->more->finished_at - j->more->started_at, 5000);
	ck_assert_uint_eq(j->more->attempts, 1);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 0);
}
END_TEST

START_TEST(test_timeout_is_not_retried)
{
	struct job	*j;

	j = must_job("sleep", "10s", NULL);
	job_spec_own(j)->timeout_ms = 20;
	job_spec_own(j)->retries = 3;
	must_insert(j);
	ck_run_until_final(j);
	ck_state(j, JOB_TIMED_OUT);
	ck_assert_uint_eq(j->more->attempts, 1);
}
END_TEST

START_TEST(test_deadline_while_queued)
{
	struct job	*sleeper, *j;

	settings.async_slots = 1;
	sleeper = must_insert(must_job("sleep", "10s", NULL));
	step();
	ck_state(sleeper, JOB_RUNNING);

	j = must_job("echo", NULL, "never");
	job_spec_own(j)->deadline_ms = 50;
	must_insert(j);
	ck_state(j, JOB_QUEUED);
	ck_run_until_final(j);
	ck_state(j, JOB_TIMED_OUT);
	ck_assert_int_eq(j->more->started_at, 0);
	ck_assert_uint_eq(j->more->attempts, 0);
	ck_assert_str_eq(j->more->error,
	    "deadline of 50ms passed before the job started");
	ck_state(sleeper, JOB_RUNNING);
	ck_count(JOB_QUEUED, 0);
}
END_TEST

START_TEST(test_deadline_while_running)
{
	struct job	*j;

	j = must_job("sleep", "10s", NULL);
	job_spec_own(j)->deadline_ms = 50;
	job_spec_own(j)->timeout_ms = 60000;
	must_insert(j);
	ck_run_until_final(j);
	ck_state(j, JOB_TIMED_OUT);
	ck_assert_int_ne(j->more->started_at, 0);
	ck_assert_str_eq(j->more->error, "deadline of 50ms passed");
}
END_TEST

/*
 * libevent times a timer from the time it cached when the loop woke, so
 * a timer armed late in a loop turn fires that much early by the wall
 * clock.  The expiry must still be reported as the deadline it was.
 */
static void
insert_late_cb(evutil_socket_t fd, short events, void *arg)
{
	struct job	*j = arg;
	struct timespec	 t0, t;

	/* Make the loop's cached time some milliseconds stale. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 +
	    (t.tv_nsec - t0.tv_nsec) / 1000000 < 5);
	must_insert(j);
}

START_TEST(test_deadline_reported_when_timer_fires_early)
{
	struct job	*sleeper, *j;
	struct timeval	 now = { 0, 0 };

	settings.async_slots = 1;
	sleeper = must_insert(must_job("sleep", "10s", NULL));
	step();
	ck_state(sleeper, JOB_RUNNING);

	j = must_job("echo", NULL, "never");
	job_spec_own(j)->deadline_ms = 30;
	event_base_once(base, -1, EV_TIMEOUT, insert_late_cb, j, &now);
	ck_run_until_final(j);
	ck_state(j, JOB_TIMED_OUT);
	ck_assert_str_eq(j->more->error,
	    "deadline of 30ms passed before the job started");
}
END_TEST

/* Retries -------------------------------------------------------------- */

START_TEST(test_retries_exhausted_ends_failed)
{
	struct job	*j;

	j = must_job("sleep", "bogus", NULL);
	job_spec_own(j)->retries = 2;
	must_insert(j);
	ck_run_until_final(j);
	ck_state(j, JOB_FAILED);
	ck_assert_uint_eq(j->more->attempts, 3);
	ck_assert_str_eq(j->more->error, "sleep: bad duration \"bogus\"");
	ck_count(JOB_FAILED, 1);
	ck_count(JOB_QUEUED, 0);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 0);
}
END_TEST

START_TEST(test_retry_then_succeed_keeps_last_outcome)
{
	struct job	*j;

	flaky_failures = 2;
	j = must_job("t_flaky", NULL, NULL);
	job_spec_own(j)->retries = 5;
	must_insert(j);
	ck_run_until_final(j);
	ck_state(j, JOB_SUCCEEDED);
	ck_assert_uint_eq(j->more->attempts, 3);
	/* Nothing of the failed attempts is left. */
	ck_output(j, "ok");
	ck_assert_ptr_null(j->more->error);
	ck_assert_int_eq(j->more->error_code, FERR_NONE);
}
END_TEST

START_TEST(test_cancel_between_retries)
{
	struct job	*sleeper, *j;

	/* With the only slot taken, the failed job waits in its queue. */
	settings.async_slots = 1;
	flaky_failures = 1;
	j = must_job("t_flaky", NULL, NULL);
	job_spec_own(j)->retries = 1;
	must_insert(j);
	sleeper = must_insert(must_job("sleep", "10s", NULL));
	/* flaky fails and is requeued behind the sleeper, which starts. */
	step();
	ck_assert_uint_eq(j->more->attempts, 1);
	ck_assert_int_eq(job_cancel(j, JOB_CANCELLED, -1, "stop"), 1);
	ck_state(j, JOB_CANCELLED);
	ck_assert_str_eq(j->more->error, "stop");
	ck_state(sleeper, JOB_RUNNING);
	ck_count(JOB_QUEUED, 0);
}
END_TEST

/* Dependencies --------------------------------------------------------- */

START_TEST(test_after_waits_for_success)
{
	struct job	*a, *b;

	a = must_insert(must_job("sleep", "20ms", NULL));
	b = must_job("echo", NULL, "b");
	must_after(b, a);
	must_insert(b);
	ck_state(b, JOB_WAITING);
	ck_assert_ptr_nonnull(b->more->deps);

	step();
	ck_state(a, JOB_RUNNING);
	ck_state(b, JOB_WAITING);

	ck_run_until_final(b);
	ck_state(a, JOB_SUCCEEDED);
	ck_state(b, JOB_SUCCEEDED);
	ck_output(b, "b");
	ck_assert_int_ge(b->more->started_at, a->more->finished_at);
	ck_assert_ptr_null(b->more->deps);
}
END_TEST

START_TEST(test_after_final_dependency)
{
	struct job	*a, *b;

	a = must_insert(must_job("echo", NULL, "a"));
	step();
	ck_state(a, JOB_SUCCEEDED);

	b = must_job("echo", NULL, "b");
	must_after(b, a);
	must_insert(b);
	ck_state(b, JOB_QUEUED);
	ck_assert_ptr_null(b->more->deps);
	step();
	ck_state(b, JOB_SUCCEEDED);
}
END_TEST

START_TEST(test_after_failed_dependency_cancels)
{
	struct job	*a, *b;
	char		 want[64];

	a = must_insert(must_job("sleep", "bogus", NULL));
	b = must_job("echo", NULL, "b");
	must_after(b, a);
	must_insert(b);
	ck_state(b, JOB_WAITING);

	ck_run_until_final(b);
	ck_state(a, JOB_FAILED);
	ck_state(b, JOB_CANCELLED);
	ck_assert_int_eq(b->more->started_at, 0);
	snprintf(want, sizeof(want), "dependency %llu failed",
	    (unsigned long long)a->id);
	ck_assert_str_eq(b->more->error, want);
}
END_TEST

/*
 * a2 runs until the test ends it: two sleeps would race on a loaded
 * machine, where both timers can fire in the same loop iteration.
 */
START_TEST(test_after_all_of_several)
{
	struct job	*a1, *a2, *b;

	a1 = must_insert(must_job("sleep", "10ms", NULL));
	a2 = must_insert(must_job("t_part", NULL, NULL));
	b = must_job("echo", NULL, "b");
	must_after(b, a1);
	must_after(b, a2);
	must_insert(b);
	ck_run_until_final(a1);
	ck_state(a1, JOB_SUCCEEDED);
	ck_state(a2, JOB_RUNNING);
	ck_state(b, JOB_WAITING);
	ck_assert_ptr_nonnull(part_ctx);
	fut_handler_done(part_ctx, 0);
	ck_run_until_final(b);
	ck_state(a2, JOB_SUCCEEDED);
	ck_state(b, JOB_SUCCEEDED);
}
END_TEST

START_TEST(test_after_unknown_job_refused)
{
	struct job	*b;
	char		*cause = NULL;

	b = must_job("echo", NULL, "b");
	job_spec_own(b)->after = xcalloc(1, sizeof(*job_spec_own(b)->after));
	b->spec->after[0] = 999999;
	job_spec_own(b)->nafter = 1;
	ck_assert_int_eq(sched_insert(b, &cause), -1);
	ck_assert_str_eq(cause, "no such job: 999999");
	ck_assert_ptr_null(sched_find(999999));
	free(cause);
	job_unref(b);
}
END_TEST

START_TEST(test_cancel_waiting_dependent)
{
	struct job	*a, *b;

	a = must_insert(must_job("sleep", "10ms", NULL));
	b = must_job("echo", NULL, "b");
	must_after(b, a);
	must_insert(b);
	ck_assert_int_eq(job_cancel(b, JOB_CANCELLED, -1, "stop"), 1);
	ck_state(b, JOB_CANCELLED);
	ck_assert_ptr_null(b->more->deps);
	ck_assert_ptr_null(TAILQ_FIRST(&a->more->waiters));

	/* a finishing later must not touch b's freed dependency waiter. */
	ck_run_until_final(a);
	ck_state(a, JOB_SUCCEEDED);
	ck_state(b, JOB_CANCELLED);
	ck_assert_str_eq(b->more->error, "stop");
}
END_TEST

START_TEST(test_input_from_passes_output)
{
	struct job	*a, *b;

	a = must_insert(must_job("echo", NULL, "from a"));
	b = must_job("echo", NULL, "ignored");
	job_spec_own(b)->input_from = a->id;
	must_insert(b);
	ck_state(b, JOB_WAITING);
	ck_run_until_final(b);
	ck_state(b, JOB_SUCCEEDED);
	ck_output(b, "from a");
	ck_assert_uint_eq(b->payload_len, strlen("from a"));
}
END_TEST

START_TEST(test_input_from_empty_output)
{
	struct job	*a, *b;

	a = must_insert(must_job("echo", NULL, NULL));
	b = must_job("echo", NULL, "ignored");
	job_spec_own(b)->input_from = a->id;
	must_insert(b);
	ck_run_until_final(b);
	ck_state(b, JOB_SUCCEEDED);
	ck_output(b, "");
}
END_TEST

/* Output -------------------------------------------------------------- */

START_TEST(test_loop_output_is_the_jobs_while_running)
{
	struct job	*j;

	j = must_insert(must_job("t_part", NULL, NULL));
	step();
	ck_state(j, JOB_RUNNING);
	ck_assert_ptr_nonnull(part_ctx);
	/* In the job as it comes, where a watch reads it. */
	ck_output(j, "part");
	fut_handler_output(part_ctx, "+rest", 5);
	ck_output(j, "part+rest");
	fut_handler_done(part_ctx, 0);
	ck_state(j, JOB_SUCCEEDED);
	ck_output(j, "part+rest");
	ck_assert_uint_eq(j->more->attempts, 1);
	ck_assert_ptr_null(j->more->pool);
}
END_TEST

static int
part_started(void *arg)
{
	return (part_ctx != NULL);
}

START_TEST(test_retry_starts_output_afresh)
{
	struct job	*j;

	j = must_job("t_part", NULL, NULL);
	job_spec_own(j)->retries = 1;
	job_spec_own(j)->retry_delay_ms = 1;
	must_insert(j);
	step();
	ck_output(j, "part");
	fut_handler_done(part_ctx, -1);
	ck_state(j, JOB_QUEUED);
	ck_output(j, "");
	part_ctx = NULL;
	ck_assert(run_loop_until(part_started, NULL, RUN_LIMIT_S * 1000));
	ck_output(j, "part");
	fut_handler_done(part_ctx, 0);
	ck_state(j, JOB_SUCCEEDED);
	ck_output(j, "part");
	ck_assert_uint_eq(j->more->attempts, 2);
}
END_TEST

static Suite *
job_suite(void)
{
	Suite	*s = suite_create("job");
	TCase	*tc;

	tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, setup, loop_teardown);
	tcase_add_test(tc, test_echo_succeeds_with_payload_as_output);
	tcase_add_test(tc, test_echo_empty_payload);
	tcase_add_test(tc, test_queued_job_shares_its_blocks);
	tcase_add_test(tc, test_blocks_made_once);
	tcase_add_test(tc, test_cancel_queued_is_immediate);
	tcase_add_test(tc, test_cancel_running_frees_its_slot);
	tcase_add_test(tc, test_final_state_never_changes);
	tcase_add_test(tc, test_start_failure_fails_job);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_checked_fixture(tc, setup, loop_teardown);
	tcase_add_test(tc, test_loop_output_is_the_jobs_while_running);
	tcase_add_test(tc, test_retry_starts_output_afresh);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, loop_teardown);
	tcase_add_test(tc, test_timeout_while_running);
	tcase_add_test(tc, test_timeout_is_not_retried);
	tcase_add_test(tc, test_deadline_while_queued);
	tcase_add_test(tc, test_deadline_while_running);
	tcase_add_test(tc, test_deadline_reported_when_timer_fires_early);
	suite_add_tcase(s, tc);

	tc = tcase_create("retries");
	tcase_add_checked_fixture(tc, setup, loop_teardown);
	tcase_add_test(tc, test_retries_exhausted_ends_failed);
	tcase_add_test(tc, test_retry_then_succeed_keeps_last_outcome);
	tcase_add_test(tc, test_cancel_between_retries);
	suite_add_tcase(s, tc);

	tc = tcase_create("dependencies");
	tcase_add_checked_fixture(tc, setup, loop_teardown);
	tcase_add_test(tc, test_after_waits_for_success);
	tcase_add_test(tc, test_after_final_dependency);
	tcase_add_test(tc, test_after_failed_dependency_cancels);
	tcase_add_test(tc, test_after_all_of_several);
	tcase_add_test(tc, test_after_unknown_job_refused);
	tcase_add_test(tc, test_cancel_waiting_dependent);
	tcase_add_test(tc, test_input_from_passes_output);
	tcase_add_test(tc, test_input_from_empty_output);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(job_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
