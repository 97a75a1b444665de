/*
 * daemon/sched.c: the queues (priority, then arrival, one per kind), the
 * waiters (all, any, timeout, freed early) and the job table, on a real
 * event base without sockets.  Two handlers of the tests' own make the
 * order observable: t_record notes the order jobs start in, t_hold runs
 * until the test finishes it.  A fake pool (pool.h's table, filled here
 * and put in place of the threads) proves that sched.c and job.c reach
 * a pool only through its table, in the order the table promises.
 */

#include <check.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "pool.h"
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

static int	*news_count;

static void
count_news_cb(struct waiter *w, struct job *j, void *arg)
{
	if (news_count != NULL)
		(*news_count)++;
}

/* t_stream: blocking, outputs "one", waits for stream_go, outputs "two". */
static atomic_int	 stream_go;

static int
stream_run(struct fut_handler_ctx *ctx)
{
	struct timespec	 ts = { 0, 1000 * 1000 };

	fut_handler_output(ctx, "one", 3);
	fut_handler_progress(ctx, 0.5, "half");
	while (!atomic_load(&stream_go))
		nanosleep(&ts, NULL);
	fut_handler_output(ctx, "two", 3);
	return (0);
}

static const struct fut_handler handler_stream = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_stream",
	.description = "output one, wait, output two",
	.kinds = FUT_HK_BLOCKING,
	.default_kind = FUT_HK_BLOCKING,
	.run = stream_run,
};

/*
 * t_chatty: blocking, reports progress 200 times a millisecond apart,
 * slowly enough that the loop would take each one on its own.
 */
static int
chatty_run(struct fut_handler_ctx *ctx)
{
	struct timespec	 ts = { 0, 1000 * 1000 };
	int		 i;

	for (i = 1; i <= 200; i++) {
		fut_handler_progress(ctx, i / 400.0, NULL);
		nanosleep(&ts, NULL);
	}
	return (0);
}

static const struct fut_handler handler_chatty = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_chatty",
	.description = "report progress in a tight loop",
	.kinds = FUT_HK_BLOCKING,
	.default_kind = FUT_HK_BLOCKING,
	.run = chatty_run,
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
		ck_assert_msg(handler_register(&handler_stream, &cause) == 0,
		    "%s", cause);
		ck_assert_msg(handler_register(&handler_chatty, &cause) == 0,
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

/*
 * A handler's own limit (fut_handler_set_limit(), exec's descriptors):
 * jobs over it stay QUEUED, with free slots of their kind, until one of
 * the handler's jobs ends or the limit goes up.
 */
START_TEST(test_handler_limit_keeps_jobs_queued)
{
	struct job	*j[4], *other;
	size_t		 i;

	settings.async_slots = 10;
	fut_handler_set_limit(&handler_hold, 2);
	for (i = 0; i < 4; i++)
		j[i] = must_insert(must_job("t_hold", JOB_ASYNC, 0));
	step();
	ck_state(j[0], JOB_RUNNING);
	ck_state(j[1], JOB_RUNNING);
	ck_state(j[2], JOB_QUEUED);
	ck_state(j[3], JOB_QUEUED);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 2);

	must_finish(j[0], 0);
	step();
	ck_state(j[2], JOB_RUNNING);
	ck_state(j[3], JOB_QUEUED);

	/*
	 * The queue keeps its order: a later job waits behind a held one,
	 * as behind a full kind, and both start once the limit goes up.
	 */
	other = must_insert(must_job("t_record", JOB_ASYNC, 0));
	step();
	ck_state(other, JOB_QUEUED);
	fut_handler_set_limit(&handler_hold, 3);
	step();
	ck_state(j[3], JOB_RUNNING);
	ck_state(other, JOB_SUCCEEDED);

	fut_handler_set_limit(&handler_hold, 0);
	must_finish(j[1], 0);
	must_finish(j[2], 0);
	must_finish(j[3], 0);
	step();
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
	ck_assert_int_eq(pool_thread_ops.init(NULL), 0);
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

	pool_thread_ops.shutdown();
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

/* A thread reporting progress in a tight loop wakes the loop seldom. */
START_TEST(test_thread_progress_is_throttled)
{
	struct job	*j;
	struct waiter	*w;
	struct seen	 seen = { 0 };
	int		 news = 0;

	settings.threads = 1;
	ck_assert_int_eq(pool_thread_ops.init(NULL), 0);
	j = must_insert(must_job("t_chatty", JOB_BLOCKING, 0));
	w = sched_wait(&j, 1, 0, -1, seen_cb, &seen);
	sched_wait_news(w, count_news_cb);
	news_count = &news;
	ck_run_until_final(j);
	ck_state(j, JOB_SUCCEEDED);
	/* The last report reaches the job, however few were told. */
	ck_assert(j->more->progress == 200 / 400.0);
	/* Running, then one per 50 ms of the 200 or more: not 200. */
	ck_assert_int_lt(news, 40);
	news_count = NULL;
	pool_thread_ops.shutdown();
}
END_TEST

static int
has_output(void *arg)
{
	struct job	*j = arg;

	return (j->more->output.len > 0 && j->more->progress_msg != NULL);
}

/* A pool thread's output and progress are the job's while it runs. */
START_TEST(test_thread_output_reaches_the_job_while_running)
{
	struct job	*j;
	struct waiter	*w;
	struct seen	 seen = { 0 };
	int		 news = 0;

	settings.threads = 1;
	atomic_store(&stream_go, 0);
	ck_assert_int_eq(pool_thread_ops.init(NULL), 0);
	j = must_insert(must_job("t_stream", JOB_BLOCKING, 0));
	w = sched_wait(&j, 1, 0, -1, seen_cb, &seen);
	sched_wait_news(w, count_news_cb);
	news_count = &news;
	ck_assert(run_loop_until(has_output, j, RUN_LIMIT_S * 1000));
	ck_state(j, JOB_RUNNING);
	ck_assert_uint_eq(j->more->output.len, 3);
	ck_assert_mem_eq(j->more->output.data, "one", 3);
	ck_assert_str_eq(j->more->progress_msg, "half");
	ck_assert_int_gt(news, 1);	/* running, then output */
	atomic_store(&stream_go, 1);
	ck_run_until_final(j);
	ck_state(j, JOB_SUCCEEDED);
	ck_assert_uint_eq(j->more->output.len, 6);
	ck_assert_mem_eq(j->more->output.data, "onetwo", 6);
	ck_assert_int_eq(seen.calls, 1);
	news_count = NULL;
	pool_thread_ops.shutdown();
}
END_TEST

/* The pool table ------------------------------------------------------- */

/* The fake pool: records each call, in order, and what it saw then. */
static struct fake_call {
	char		 op;		/* s start, l launch, c cancel, k can */
	struct job	*job;
	enum job_state	 state;
	uint32_t	 attempts;
	const struct pool *pool;
}			 fake_calls[MAX_JOBS];
static size_t		 fake_ncalls;
static struct job	*fake_running[MAX_JOBS];
static size_t		 fake_nrunning, fake_nlaunched;
static u_int		 fake_room;
extern const struct pool fake_pool;

static void
fake_note(char op, struct job *j)
{
	struct fake_call	*c;

	ck_assert_uint_lt(fake_ncalls, MAX_JOBS);
	c = &fake_calls[fake_ncalls++];
	c->op = op;
	c->job = j;
	if (j != NULL) {
		c->state = j->state;
		c->attempts = j->more->attempts;
		c->pool = j->more->pool;
	}
}

static int
fake_can_start(const struct job *j, u_int used)
{
	fake_note('k', (struct job *)(uintptr_t)j);
	return (used < fake_room);
}

static void
fake_start(struct job *j)
{
	fake_note('s', j);
	job_ref(j);
	job_started(j);
	fake_running[fake_nrunning++] = j;
}

static void
fake_launch(void)
{
	fake_note('l', NULL);
	fake_nlaunched = fake_nrunning;
}

/* Settle j as a pool would, its slot given back. */
static void
fake_settle(struct job *j, enum job_state s)
{
	size_t	 i;

	for (i = 0; i < fake_nrunning; i++) {
		if (fake_running[i] == j) {
			fake_running[i] = fake_running[--fake_nrunning];
			break;
		}
	}
	job_finish(j, s, FERR_NONE, NULL);
	sched_slot_release(j->kind);
	job_unref(j);
}

static void
fake_cancel(struct job *j, int64_t grace_ms)
{
	fake_note('c', j);
	fake_settle(j, JOB_CANCELLED);
}

const struct pool fake_pool = {
	.name = "fake",
	.can_start = fake_can_start,
	.start = fake_start,
	.launch = fake_launch,
	.cancel = fake_cancel,
};

static void
fake_setup(void)
{
	setup();
	fake_ncalls = fake_nrunning = fake_nlaunched = 0;
	fake_room = 2;
	pool_override(JOB_BLOCKING, &fake_pool);
}

static void
fake_teardown(void)
{
	pool_override(JOB_BLOCKING, NULL);
	loop_teardown();
}

/* Where the one launch call is; fails if there is not exactly one. */
static int
fake_launch_at(void)
{
	size_t	 i;
	int	 at = -1;

	for (i = 0; i < fake_ncalls; i++) {
		if (fake_calls[i].op == 'l') {
			ck_assert_int_eq(at, -1);
			at = (int)i;
		}
	}
	ck_assert_int_ne(at, -1);
	return (at);
}

static int
fake_last_start(void)
{
	size_t	 i;
	int	 at = -1;

	for (i = 0; i < fake_ncalls; i++) {
		if (fake_calls[i].op == 's')
			at = (int)i;
	}
	return (at);
}

START_TEST(test_pool_of_follows_the_kind)
{
	struct job	*j;
	int		 k;

	pool_override(JOB_BLOCKING, NULL);
	j = must_job("echo", JOB_ASYNC, 0);
	ck_assert_ptr_eq(pool_of(j), &pool_loop_ops);
	j->kind = JOB_BLOCKING;
	ck_assert_ptr_eq(pool_of(j), &pool_thread_ops);
	j->kind = JOB_CPU;
	ck_assert_ptr_eq(pool_of(j), &pool_proc_ops);
	/* exec's work is a child the loop watches, whatever its kind. */
	j->handler = handler_find("exec");
	for (k = 0; k < JOB_NKINDS; k++) {
		j->kind = k;
		ck_assert_ptr_eq(pool_of(j), &pool_loop_ops);
	}
	job_unref(j);
	pool_override(JOB_BLOCKING, &fake_pool);
}
END_TEST

START_TEST(test_pool_starts_then_launches)
{
	struct job	*j[3];
	size_t		 i, nstart = 0;

	for (i = 0; i < 3; i++)
		j[i] = must_insert(must_job("echo", JOB_BLOCKING, 0));
	step();
	/* Two fit: each asked, begun (counted, its pool set), taken. */
	ck_state(j[0], JOB_RUNNING);
	ck_state(j[1], JOB_RUNNING);
	ck_state(j[2], JOB_QUEUED);
	ck_assert_uint_eq(sched_slots_used(JOB_BLOCKING), 2);
	for (i = 0; i < fake_ncalls; i++) {
		if (fake_calls[i].op != 's')
			continue;
		ck_assert_ptr_eq(fake_calls[i].job, j[nstart]);
		ck_assert_int_eq(fake_calls[i].state, JOB_QUEUED);
		ck_assert_uint_eq(fake_calls[i].attempts, 1);
		ck_assert_ptr_eq(fake_calls[i].pool, &fake_pool);
		nstart++;
	}
	ck_assert_uint_eq(nstart, 2);
	/* One launch, after both starts: the round's STARTs written first. */
	ck_assert_int_gt(fake_launch_at(), fake_last_start());
	ck_assert_uint_eq(fake_nlaunched, 2);

	/* A slot given back lets the third start, in a round of its own. */
	fake_settle(j[0], JOB_SUCCEEDED);
	fake_ncalls = 0;
	step();
	ck_state(j[0], JOB_SUCCEEDED);
	ck_state(j[2], JOB_RUNNING);
	ck_assert_ptr_eq(j[2]->more->pool, &fake_pool);
	ck_assert_int_gt(fake_launch_at(), fake_last_start());
	fake_settle(j[1], JOB_SUCCEEDED);
	fake_settle(j[2], JOB_FAILED);
	ck_assert_ptr_null(j[2]->more->pool);
	ck_assert_uint_eq(sched_slots_used(JOB_BLOCKING), 0);
}
END_TEST

START_TEST(test_pool_cancel_goes_through_the_table)
{
	struct job	*j;

	j = must_insert(must_job("echo", JOB_BLOCKING, 0));
	step();
	ck_state(j, JOB_RUNNING);
	fake_ncalls = 0;
	ck_assert_int_eq(job_cancel(j, JOB_CANCELLED, 0, "test"), 1);
	ck_assert_uint_eq(fake_ncalls, 1);
	ck_assert_int_eq(fake_calls[0].op, 'c');
	ck_assert_ptr_eq(fake_calls[0].job, j);
	ck_state(j, JOB_CANCELLED);
	ck_assert_str_eq(j->more->error, "test");
	ck_assert_uint_eq(sched_slots_used(JOB_BLOCKING), 0);
}
END_TEST

START_TEST(test_pool_unbegin_uncounts)
{
	struct job	*j;

	j = must_insert(must_job("echo", JOB_BLOCKING, 0));
	fake_room = 0;
	step();
	ck_state(j, JOB_QUEUED);
	ck_assert_uint_eq(j->more->attempts, 0);
	sched_dequeue(j);
	job_begin(j, &fake_pool);
	ck_assert_uint_eq(j->more->attempts, 1);
	ck_assert_ptr_eq(j->more->pool, &fake_pool);
	job_unbegin(j);
	ck_assert_uint_eq(j->more->attempts, 0);
	ck_assert_ptr_null(j->more->pool);
	sched_enqueue(j);
	fake_room = 1;
	step();
	ck_state(j, JOB_RUNNING);
	ck_assert_uint_eq(j->more->attempts, 1);
	fake_settle(j, JOB_SUCCEEDED);
}
END_TEST

/*
 * A pool that holds a job back for its dependencies itself (pool.h's
 * ahead, the Slurm engine's afterok): the fake pool, saying yes when
 * fake_ahead_ok is set.
 */
static int	 fake_ahead_ok;

static int
fake_ahead(const struct job *j)
{
	return (fake_ahead_ok);
}

static const struct pool fake_ahead_pool = {
	.name = "fake-ahead",
	.can_start = fake_can_start,
	.start = fake_start,
	.launch = fake_launch,
	.cancel = fake_cancel,
	.ahead = fake_ahead,
};

static struct job *
must_after(struct job *parent)
{
	struct job	*j;
	struct job_spec	*js;

	j = must_job("echo", JOB_BLOCKING, 0);
	js = job_spec_own(j);
	js->after = xcalloc(1, sizeof(*js->after));
	js->after[0] = parent->id;
	js->nafter = 1;
	return (must_insert(j));
}

static size_t
fake_starts_of(const struct job *j)
{
	size_t	 i, n = 0;

	for (i = 0; i < fake_ncalls; i++) {
		if (fake_calls[i].op == 's' && fake_calls[i].job == j)
			n++;
	}
	return (n);
}

START_TEST(test_pool_ahead_queues_early)
{
	struct job	*p, *c, *c2;

	pool_override(JOB_BLOCKING, &fake_ahead_pool);
	fake_ahead_ok = 0;
	p = must_insert(must_job("echo", JOB_BLOCKING, 0));
	step();
	ck_state(p, JOB_RUNNING);
	/* The pool says no: the child waits in sched.c. */
	c = must_after(p);
	ck_state(c, JOB_WAITING);
	sched_deps_ahead(p);
	ck_state(c, JOB_WAITING);
	/* Yes, once its parent is taken on: queued, its waiter kept. */
	fake_ahead_ok = 1;
	sched_deps_ahead(p);
	ck_state(c, JOB_QUEUED);
	ck_assert_ptr_nonnull(c->more->deps);
	/* Yes at submit: queued at once. */
	c2 = must_after(p);
	ck_state(c2, JOB_QUEUED);
	step();
	ck_assert_uint_eq(fake_starts_of(c), 1);
	ck_assert_uint_eq(fake_starts_of(c2), 0);
	/* The parent succeeds: nothing is queued twice. */
	fake_settle(p, JOB_SUCCEEDED);
	ck_assert_ptr_null(c->more->deps);
	step();
	step();
	ck_assert_uint_eq(fake_starts_of(c), 1);
	ck_assert_uint_eq(fake_starts_of(c2), 1);
	fake_settle(c, JOB_SUCCEEDED);
	fake_settle(c2, JOB_SUCCEEDED);
	fake_ahead_ok = 0;
}
END_TEST

START_TEST(test_pool_ahead_failed_parent_cancels)
{
	struct job	*p, *c;

	pool_override(JOB_BLOCKING, &fake_ahead_pool);
	fake_ahead_ok = 1;
	p = must_insert(must_job("echo", JOB_BLOCKING, 0));
	step();
	c = must_after(p);
	step();
	/* Handed to its pool ahead of the parent's end. */
	ck_assert_uint_eq(fake_starts_of(c), 1);
	fake_settle(p, JOB_FAILED);
	ck_state(c, JOB_CANCELLED);
	ck_assert_str_eq(c->more->error, "dependency 1 failed");
	fake_ahead_ok = 0;
}
END_TEST

/* Output and progress a pool hands on reach a waiter that asked. */
static int	 news_calls;

static void
news_cb(struct waiter *w, struct job *j, void *arg)
{
	news_calls++;
}

START_TEST(test_pool_news_reaches_waiter)
{
	struct job	*j;
	struct waiter	*w;
	struct seen	 seen = { 0 };

	j = must_insert(must_job("echo", JOB_BLOCKING, 0));
	w = sched_wait(&j, 1, 0, -1, seen_cb, &seen);
	ck_assert_ptr_nonnull(w);
	sched_wait_news(w, news_cb);
	news_calls = 0;
	step();
	/* queued -> running is news too. */
	ck_state(j, JOB_RUNNING);
	ck_assert_int_eq(news_calls, 1);
	job_news(j);
	ck_assert_int_eq(news_calls, 2);
	fake_settle(j, JOB_SUCCEEDED);
	/* The end is the waiter's own callback, not news. */
	ck_assert_int_eq(news_calls, 2);
	ck_assert_int_eq(seen.calls, 1);
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
	tcase_add_test(tc, test_handler_limit_keeps_jobs_queued);
	tcase_add_test(tc, test_full_async_pool_does_not_block_blocking);
	tcase_add_test(tc, test_full_blocking_pool_does_not_block_async);
	tcase_add_test(tc, test_thread_output_reaches_the_job_while_running);
	tcase_add_test(tc, test_thread_progress_is_throttled);
	suite_add_tcase(s, tc);

	tc = tcase_create("pools");
	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	tcase_add_test(tc, test_pool_of_follows_the_kind);
	tcase_add_test(tc, test_pool_starts_then_launches);
	tcase_add_test(tc, test_pool_ahead_queues_early);
	tcase_add_test(tc, test_pool_ahead_failed_parent_cancels);
	tcase_add_test(tc, test_pool_cancel_goes_through_the_table);
	tcase_add_test(tc, test_pool_unbegin_uncounts);
	tcase_add_test(tc, test_pool_news_reaches_waiter);
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
