/*
 * daemon/sched.c: the queues (priority, then arrival, one per kind), the
 * waiters (all, any, timeout, freed early) and the job table, on a real
 * event base without sockets.  Two handlers of the tests' own make the
 * order observable: t_record notes the order jobs start in, t_hold runs
 * until the test finishes it.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "testlib.h"
#include "xmalloc.h"

#define MAX_JOBS	64

/* t_record: note the job's id in started[], then succeed at once. */
static uint64_t		 started[MAX_JOBS];
static size_t		 nstarted;

static int
record_start(struct fut_handler_ctx *ctx)
{
	ck_assert_uint_lt(nstarted, MAX_JOBS);
	started[nstarted++] = fut_handler_job_id(ctx);
	fut_handler_done(ctx, 0);
	return (0);
}

static const struct fut_handler handler_record = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_record",
	.description = "note the start order, succeed",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.start = record_start,
};

/* t_hold: run until must_finish() or a cancel. */
static struct fut_handler_ctx	*held[MAX_JOBS];
static size_t			 nheld;

static int
hold_start(struct fut_handler_ctx *ctx)
{
	ck_assert_uint_lt(nheld, MAX_JOBS);
	held[nheld++] = ctx;
	return (0);
}

static struct fut_handler_ctx *
hold_take(uint64_t id)
{
	struct fut_handler_ctx	*ctx;
	size_t			 i;

	for (i = 0; i < nheld; i++) {
		if (fut_handler_job_id(held[i]) == id) {
			ctx = held[i];
			held[i] = held[--nheld];
			return (ctx);
		}
	}
	return (NULL);
}

static void
hold_cancel(struct fut_handler_ctx *ctx)
{
	hold_take(fut_handler_job_id(ctx));
}

static const struct fut_handler handler_hold = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_hold",
	.description = "run until the test says",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.start = hold_start,
	.cancel = hold_cancel,
};

/* What a waiter's callback saw. */
struct seen {
	int		 calls;
	struct job	*first;
	int		 timed_out;
	struct waiter	*w;
};

static void
seen_cb(struct waiter *w, struct job *first, int timed_out, void *arg)
{
	struct seen	*s = arg;

	s->calls++;
	s->first = first;
	s->timed_out = timed_out;
	s->w = w;
}

static void
setup(void)
{
	char	*cause = NULL;

	loop_setup();
	if (handler_find(handler_record.name) == NULL) {
		ck_assert_msg(handler_register(&handler_record, &cause) == 0,
		    "%s", cause);
		ck_assert_msg(handler_register(&handler_hold, &cause) == 0,
		    "%s", cause);
	}
	sched_init();
	nstarted = 0;
	nheld = 0;
}


static struct job *
must_job(const char *handler, enum job_kind kind, int priority)
{
	struct job	*j;

	j = job_new();
	j->handler = handler_find(handler);
	ck_assert_msg(j->handler != NULL, "no handler %s", handler);
	j->kind = kind;
	j->priority = priority;
	return (j);
}

/* An async sleep job, which holds its slot for arg. */
static struct job *
must_sleeper(const char *arg)
{
	struct job	*j;
	struct job_spec	*js;

	j = must_job("sleep", JOB_ASYNC, 0);
	js = job_spec_own(j);
	js->args = xcalloc(1, sizeof(*js->args));
	js->args[0] = xstrdup(arg);
	js->nargs = 1;
	return (must_insert(j));
}

/* Finish a running t_hold job with status (0: success). */
static void
must_finish(struct job *j, int status)
{
	struct fut_handler_ctx	*ctx;

	ck_assert_msg(j->state == JOB_RUNNING, "job %llu is %s",
	    (unsigned long long)j->id, job_state_name(j->state));
	ctx = hold_take(j->id);
	ck_assert_ptr_nonnull(ctx);
	fut_handler_done(ctx, status);
}

/* Queues --------------------------------------------------------------- */

START_TEST(test_priority_order)
{
	static const int	 prios[] = { 10, -10, 0, -10 };
	struct job		*sleeper, *j[4];
	size_t			 i;

	settings.async_slots = 1;
	sleeper = must_sleeper("10s");
	step();
	ck_state(sleeper, JOB_RUNNING);
	for (i = 0; i < 4; i++)
		j[i] = must_insert(must_job("t_record", JOB_ASYNC, prios[i]));
	step();
	ck_assert_uint_eq(nstarted, 0);

	ck_assert_int_eq(job_cancel(sleeper, JOB_CANCELLED, -1, "make room"),
	    1);
	step();
	ck_assert_uint_eq(nstarted, 4);
	/* -20 is first: the two -10 in arrival order, then 0, then 10. */
	ck_assert_uint_eq(started[0], j[1]->id);
	ck_assert_uint_eq(started[1], j[3]->id);
	ck_assert_uint_eq(started[2], j[2]->id);
	ck_assert_uint_eq(started[3], j[0]->id);
	for (i = 0; i < 4; i++)
		ck_state(j[i], JOB_SUCCEEDED);
}
END_TEST

START_TEST(test_priority_extremes)
{
	struct job	*lo, *hi, *mid;

	settings.async_slots = 0;
	lo = must_insert(must_job("t_record", JOB_ASYNC, JOB_PRIO_MAX));
	mid = must_insert(must_job("t_record", JOB_ASYNC, 0));
	hi = must_insert(must_job("t_record", JOB_ASYNC, JOB_PRIO_MIN));
	step();
	ck_assert_uint_eq(nstarted, 0);
	settings.async_slots = 1;
	sched_kick();
	step();
	ck_assert_uint_eq(nstarted, 3);
	ck_assert_uint_eq(started[0], hi->id);
	ck_assert_uint_eq(started[1], mid->id);
	ck_assert_uint_eq(started[2], lo->id);
}
END_TEST

START_TEST(test_equal_priority_keeps_arrival_order)
{
	struct job	*sleeper, *j[20];
	size_t		 i;

	settings.async_slots = 1;
	sleeper = must_sleeper("10s");
	step();
	for (i = 0; i < 20; i++)
		j[i] = must_insert(must_job("t_record", JOB_ASYNC, 3));
	job_cancel(sleeper, JOB_CANCELLED, -1, "make room");
	step();
	ck_assert_uint_eq(nstarted, 20);
	for (i = 0; i < 20; i++)
		ck_assert_uint_eq(started[i], j[i]->id);
}
END_TEST

START_TEST(test_slots_limit_running_jobs)
{
	struct job	*j[5];
	size_t		 i;

	settings.async_slots = 2;
	for (i = 0; i < 5; i++)
		j[i] = must_insert(must_job("t_hold", JOB_ASYNC, 0));
	step();
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 2);
	ck_state(j[0], JOB_RUNNING);
	ck_state(j[1], JOB_RUNNING);
	ck_state(j[2], JOB_QUEUED);

	must_finish(j[1], 0);
	step();
	ck_state(j[1], JOB_SUCCEEDED);
	ck_state(j[2], JOB_RUNNING);
	ck_state(j[3], JOB_QUEUED);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 2);

	/* A cancelled queued job gives up its place, not a slot. */
	job_cancel(j[3], JOB_CANCELLED, -1, "stop");
	must_finish(j[0], 0);
	step();
	ck_state(j[4], JOB_RUNNING);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 2);
	must_finish(j[2], 0);
	must_finish(j[4], -1);
	step();
	ck_state(j[4], JOB_FAILED);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 0);
	ck_assert_uint_eq(sched_running(), 0);
}
END_TEST

START_TEST(test_full_async_pool_does_not_block_blocking)
{
	struct job	*sleeper, *queued, *b;
	struct seen	 seen = { 0 };

	settings.async_slots = 1;
	settings.threads = 1;
	ck_assert_int_eq(pool_thread_init(1), 0);
	sleeper = must_sleeper("10s");
	step();
	ck_state(sleeper, JOB_RUNNING);
	queued = must_insert(must_job("t_record", JOB_ASYNC, JOB_PRIO_MIN));
	b = must_job("echo", JOB_BLOCKING, JOB_PRIO_MAX);
	b->payload = xmemdup("blocking", 8);
	b->payload_len = 8;
	must_insert(b);
	sched_wait(&b, 1, 0, -1, seen_cb, &seen);

	ck_assert_msg(run_until(&seen.calls, RUN_LIMIT_S * 1000),
	    "blocking job still %s", job_state_name(b->state));
	ck_state(b, JOB_SUCCEEDED);
	ck_assert_uint_eq(b->more->output.len, 8);
	ck_assert_mem_eq(b->more->output.data, "blocking", 8);
	ck_state(sleeper, JOB_RUNNING);
	ck_state(queued, JOB_QUEUED);
	ck_assert_uint_eq(nstarted, 0);
	ck_assert_uint_eq(sched_slots_used(JOB_BLOCKING), 0);

	pool_thread_shutdown();
}
END_TEST

START_TEST(test_full_blocking_pool_does_not_block_async)
{
	struct job	*b, *a;

	settings.threads = 0;
	b = must_insert(must_job("echo", JOB_BLOCKING, JOB_PRIO_MIN));
	a = must_insert(must_job("t_record", JOB_ASYNC, JOB_PRIO_MAX));
	step();
	ck_state(a, JOB_SUCCEEDED);
	ck_state(b, JOB_QUEUED);
	ck_assert_uint_eq(sched_slots_used(JOB_BLOCKING), 0);
}
END_TEST

/* Waiters -------------------------------------------------------------- */

static void
must_hold3(struct job *j[3])
{
	size_t	 i;

	for (i = 0; i < 3; i++)
		j[i] = must_insert(must_job("t_hold", JOB_ASYNC, 0));
	step();
	for (i = 0; i < 3; i++)
		ck_state(j[i], JOB_RUNNING);
}

START_TEST(test_wait_all_fires_once_on_last)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };
	struct waiter	*w;

	must_hold3(j);
	w = sched_wait(j, 3, 0, -1, seen_cb, &seen);
	ck_assert_ptr_nonnull(w);
	must_finish(j[1], 0);
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_int_eq(job_cancel(j[0], JOB_CANCELLED, -1, "stop"), 1);
	ck_assert_int_eq(seen.calls, 0);
	must_finish(j[2], -1);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_ptr_eq(seen.w, w);
	ck_assert_ptr_eq(seen.first, j[1]);
	ck_assert_int_eq(seen.timed_out, 0);
	ck_assert_ptr_null(TAILQ_FIRST(&j[2]->more->waiters));

	step();
	ck_assert_int_eq(seen.calls, 1);
}
END_TEST

START_TEST(test_wait_any_fires_on_first)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };

	must_hold3(j);
	ck_assert_ptr_nonnull(sched_wait(j, 3, 1, -1, seen_cb, &seen));
	must_finish(j[2], 0);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_ptr_eq(seen.first, j[2]);
	ck_assert_int_eq(seen.timed_out, 0);
	/* Unlinked from the others: their end calls nothing freed. */
	ck_assert_ptr_null(TAILQ_FIRST(&j[0]->more->waiters));
	ck_assert_ptr_null(TAILQ_FIRST(&j[1]->more->waiters));
	must_finish(j[0], 0);
	must_finish(j[1], 0);
	ck_assert_int_eq(seen.calls, 1);
}
END_TEST

START_TEST(test_wait_timeout_fires_and_frees)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };

	must_hold3(j);
	ck_assert_ptr_nonnull(sched_wait(j, 3, 0, 50, seen_cb, &seen));
	must_finish(j[0], 0);
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_msg(run_until(&seen.calls, RUN_LIMIT_S * 1000),
	    "the waiter never timed out");
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.timed_out, 1);
	ck_assert_ptr_eq(seen.first, j[0]);
	ck_assert_ptr_null(TAILQ_FIRST(&j[1]->more->waiters));

	/* The freed waiter is no longer reachable from the jobs. */
	must_finish(j[1], 0);
	job_cancel(j[2], JOB_CANCELLED, -1, "stop");
	step();
	ck_assert_int_eq(seen.calls, 1);
}
END_TEST

START_TEST(test_wait_timeout_any_none_final)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };

	must_hold3(j);
	ck_assert_ptr_nonnull(sched_wait(j, 3, 1, 20, seen_cb, &seen));
	ck_assert(run_until(&seen.calls, RUN_LIMIT_S * 1000));
	ck_assert_int_eq(seen.timed_out, 1);
	ck_assert_ptr_null(seen.first);
}
END_TEST

START_TEST(test_wait_on_final_jobs_is_synchronous)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };
	size_t		 i;

	must_hold3(j);
	for (i = 0; i < 3; i++)
		must_finish(j[i], 0);
	ck_assert_ptr_null(sched_wait(j, 3, 0, -1, seen_cb, &seen));
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_ptr_eq(seen.first, j[0]);
	ck_assert_int_eq(seen.timed_out, 0);

	memset(&seen, 0, sizeof(seen));
	ck_assert_ptr_null(sched_wait(j, 3, 1, 0, seen_cb, &seen));
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.timed_out, 0);
}
END_TEST

START_TEST(test_wait_any_with_one_final_is_synchronous)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };

	must_hold3(j);
	must_finish(j[1], 0);
	ck_assert_ptr_null(sched_wait(j, 3, 1, -1, seen_cb, &seen));
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_ptr_eq(seen.first, j[1]);
	ck_assert_int_eq(seen.timed_out, 0);
	ck_assert_ptr_null(TAILQ_FIRST(&j[0]->more->waiters));
}
END_TEST

START_TEST(test_wait_zero_timeout_polls)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };

	must_hold3(j);
	ck_assert_ptr_null(sched_wait(j, 3, 0, 0, seen_cb, &seen));
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.timed_out, 1);
	ck_assert_ptr_null(seen.first);
	ck_assert_ptr_null(TAILQ_FIRST(&j[0]->more->waiters));
}
END_TEST

START_TEST(test_wait_free_before_firing)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };
	struct waiter	*w;
	int		 never = 0;

	must_hold3(j);
	w = sched_wait(j, 3, 1, 30, seen_cb, &seen);
	ck_assert_ptr_nonnull(w);
	sched_wait_free(w);
	ck_assert_ptr_null(TAILQ_FIRST(&j[0]->more->waiters));

	must_finish(j[0], 0);
	/* Past the freed waiter's timeout. */
	run_until(&never, 100);
	ck_assert_int_eq(seen.calls, 0);
}
END_TEST

START_TEST(test_waiter_jobs)
{
	struct job	*j[3], **out;
	struct seen	 seen = { 0 };
	struct waiter	*w;

	must_hold3(j);
	w = sched_wait(j, 3, 0, -1, seen_cb, &seen);
	ck_assert_uint_eq(sched_waiter_jobs(w, &out), 3);
	ck_assert_ptr_eq(out[0], j[0]);
	ck_assert_ptr_eq(out[2], j[2]);
	free(out);
	sched_wait_free(w);
}
END_TEST

START_TEST(test_waiter_holds_its_jobs)
{
	struct job	*j[3];
	struct seen	 seen = { 0 };
	struct waiter	*w;
	int		 refs;

	must_hold3(j);
	refs = j[0]->refs;
	w = sched_wait(j, 3, 0, -1, seen_cb, &seen);
	ck_assert_int_eq(j[0]->refs, refs + 1);
	sched_wait_free(w);
	ck_assert_int_eq(j[0]->refs, refs);
}
END_TEST

/*
 * A waiter's callback settles another job that a second waiter, also on
 * the first job, watches: both fire once and nothing freed is touched.
 */
struct chain {
	struct job	*other;
	struct seen	 seen;
};

static void
chain_cb(struct waiter *w, struct job *first, int timed_out, void *arg)
{
	struct chain	*c = arg;

	seen_cb(w, first, timed_out, &c->seen);
	job_cancel(c->other, JOB_CANCELLED, -1, "chained");
}

START_TEST(test_waiter_callback_settles_other_job)
{
	struct job	*j[3], *pair[2];
	struct chain	 c = { 0 };
	struct seen	 seen = { 0 };

	must_hold3(j);
	c.other = j[1];
	pair[0] = j[0];
	pair[1] = j[1];
	ck_assert_ptr_nonnull(sched_wait(&j[0], 1, 0, -1, chain_cb, &c));
	ck_assert_ptr_nonnull(sched_wait(pair, 2, 0, -1, seen_cb, &seen));
	must_finish(j[0], 0);
	ck_assert_int_eq(c.seen.calls, 1);
	ck_state(j[1], JOB_CANCELLED);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_ptr_eq(seen.first, j[0]);
	ck_assert_ptr_null(TAILQ_FIRST(&j[0]->more->waiters));
	ck_assert_ptr_null(TAILQ_FIRST(&j[1]->more->waiters));
}
END_TEST

/* The job table -------------------------------------------------------- */

#define TABLE_JOBS	100000

START_TEST(test_table_finds_every_job)
{
	struct job	**jobs;
	uint64_t	  total0 = sched_total(), maxid = 0;
	size_t		  i;

	settings.async_slots = 0;
	jobs = xcalloc(TABLE_JOBS, sizeof(*jobs));
	for (i = 0; i < TABLE_JOBS; i++) {
		jobs[i] = must_insert(must_job("echo", JOB_ASYNC,
		    (int)(i % JOB_PRIO_LEVELS) + JOB_PRIO_MIN));
		if (jobs[i]->id > maxid)
			maxid = jobs[i]->id;
	}
	ck_assert_uint_eq(sched_total() - total0, TABLE_JOBS);
	for (i = 0; i < TABLE_JOBS; i++)
		ck_assert_ptr_eq(sched_find(jobs[i]->id), jobs[i]);
	ck_assert_ptr_null(sched_find(0));
	ck_assert_ptr_null(sched_find(maxid + 1));
	ck_assert_ptr_null(sched_find(UINT64_MAX));

	/* Run them all, which empties the queues before the teardown. */
	settings.async_slots = TABLE_JOBS;
	sched_kick();
	step();
	for (i = 0; i < TABLE_JOBS; i++)
		ck_assert_int_eq(jobs[i]->state, JOB_SUCCEEDED);
	free(jobs);
}
END_TEST

START_TEST(test_table_ids_are_unique)
{
	struct job	*a, *b;

	a = must_insert(must_job("echo", JOB_ASYNC, 0));
	b = must_insert(must_job("echo", JOB_ASYNC, 0));
	ck_assert_uint_ne(a->id, 0);
	ck_assert_uint_gt(b->id, a->id);
	ck_assert_uint_gt(b->seq, a->seq);
}
END_TEST

static Suite *
sched_suite(void)
{
	Suite	*s = suite_create("sched");
	TCase	*tc;

	tc = tcase_create("queues");
	tcase_add_checked_fixture(tc, setup, loop_teardown);
	tcase_add_test(tc, test_priority_order);
	tcase_add_test(tc, test_priority_extremes);
	tcase_add_test(tc, test_equal_priority_keeps_arrival_order);
	tcase_add_test(tc, test_slots_limit_running_jobs);
	tcase_add_test(tc, test_full_async_pool_does_not_block_blocking);
	tcase_add_test(tc, test_full_blocking_pool_does_not_block_async);
	suite_add_tcase(s, tc);

	tc = tcase_create("waiters");
	tcase_add_checked_fixture(tc, setup, loop_teardown);
	tcase_add_test(tc, test_wait_all_fires_once_on_last);
	tcase_add_test(tc, test_wait_any_fires_on_first);
	tcase_add_test(tc, test_wait_timeout_fires_and_frees);
	tcase_add_test(tc, test_wait_timeout_any_none_final);
	tcase_add_test(tc, test_wait_on_final_jobs_is_synchronous);
	tcase_add_test(tc, test_wait_any_with_one_final_is_synchronous);
	tcase_add_test(tc, test_wait_zero_timeout_polls);
	tcase_add_test(tc, test_wait_free_before_firing);
	tcase_add_test(tc, test_waiter_jobs);
	tcase_add_test(tc, test_waiter_holds_its_jobs);
	tcase_add_test(tc, test_waiter_callback_settles_other_job);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, loop_teardown);
	/* A few seconds for 100000 jobs under the sanitizers. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_table_finds_every_job);
	tcase_add_test(tc, test_table_ids_are_unique);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(sched_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
