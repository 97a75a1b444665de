/*
 * daemon/pool_worker.c without sockets: connections whose sendfn seam
 * hands the pushed Tasks and TaskCancels to the test.  Names are checked;
 * a registration that shadows a built-in or disagrees on kinds is
 * refused; a job goes to a worker that serves its handler, its kind and
 * its owner, the least busy first, never past a worker's concurrency;
 * one that no worker may take waits without holding up the others; an
 * update is applied, refused as stale, or told apart as never given; a
 * lost worker fails its jobs, naming why; a name let go of
 * (handler_retire) leaves the registry unless an unfinished job names
 * it, its finished jobs keep it, and it can be registered afresh.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "log.h"
#include "pool.h"
#include "testlib.h"
#include "xmalloc.h"

#define MAX_PUSHES	64

struct fake {
	struct conn	 conn;
	struct worker	*w;
	uint64_t	 tasks[MAX_PUSHES];	/* job ids pushed */
	size_t		 ntasks;
	uint64_t	 cancels[MAX_PUSHES];
	size_t		 ncancels;
};

static void
capture(struct conn *c, const void *p, size_t len)
{
	struct fake		*f = (struct fake *)(void *)c;
	Futured__Response	*r;

	r = futured__response__unpack(NULL, len, p);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->id, 0);
	if (r->body_case == FUTURED__RESPONSE__BODY_TASK) {
		ck_assert_uint_lt(f->ntasks, MAX_PUSHES);
		f->tasks[f->ntasks++] = r->task->job_id;
	} else if (r->body_case == FUTURED__RESPONSE__BODY_TASK_CANCEL) {
		ck_assert_uint_lt(f->ncancels, MAX_PUSHES);
		f->cancels[f->ncancels++] = r->task_cancel->job_id;
	} else
		ck_abort_msg("unexpected push, body %d", (int)r->body_case);
	futured__response__free_unpacked(r, NULL);
}

static void
fake_init(struct fake *f, uid_t uid)
{
	memset(f, 0, sizeof(*f));
	f->conn.uid = uid;
	f->conn.sendfn = capture;
	TAILQ_INIT(&f->conn.pendings);
}

/* Register f as a worker of one handler; NULL and the cause printed. */
static struct worker *
reg(struct fake *f, const char *name, unsigned int kinds, u_int conc,
    char **cause)
{
	struct worker_handler_spec	 hs;

	memset(&hs, 0, sizeof(hs));
	hs.name = name;
	hs.kinds = kinds;
	hs.default_kind = kinds & FUT_HK_ASYNC ? FUT_HK_ASYNC :
	    kinds & FUT_HK_BLOCKING ? FUT_HK_BLOCKING : FUT_HK_CPU;
	*cause = NULL;
	f->w = pool_worker_register(&f->conn, &hs, 1, conc, NULL, NULL,
	    cause);
	f->conn.worker = f->w;
	return (f->w);
}

static struct worker *
must_reg(struct fake *f, const char *name, unsigned int kinds, u_int conc)
{
	struct worker	*w;
	char		*cause;

	w = reg(f, name, kinds, conc, &cause);
	ck_assert_msg(w != NULL, "register %s: %s", name, cause);
	return (w);
}

static void
must_refuse(struct fake *f, const char *name, unsigned int kinds, u_int conc,
    const char *want)
{
	char	*cause;

	ck_assert_ptr_null(reg(f, name, kinds, conc, &cause));
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, want) != NULL, "cause \"%s\" lacks \"%s\"",
	    cause, want);
	free(cause);
}

static struct job *
must_submit(const char *handler, enum job_kind k, uid_t owner)
{
	struct job	*j;

	j = job_new();
	j->handler = handler_find(handler);
	ck_assert_ptr_nonnull(j->handler);
	j->kind = k;
	j->owner = owner;
	return (must_insert(j));
}

static void
setup(void)
{
	loop_sched_setup();
	request_init();
}

static void
teardown(void)
{
	pool_worker_ops.shutdown();
	loop_sched_teardown();
}

/* Run the loop's pending turns. */
static void
turns(void)
{
	int	 i;

	for (i = 0; i < 5; i++)
		step();
}

START_TEST(test_names)
{
	char	 longest[WORKER_NAME_MAX + 2];

	ck_assert(pool_worker_name_ok("a"));
	ck_assert(pool_worker_name_ok("my.app:task_1-x"));
	memset(longest, 'x', WORKER_NAME_MAX);
	longest[WORKER_NAME_MAX] = '\0';
	ck_assert(pool_worker_name_ok(longest));
	longest[WORKER_NAME_MAX] = 'x';
	longest[WORKER_NAME_MAX + 1] = '\0';
	ck_assert(!pool_worker_name_ok(longest));
	ck_assert(!pool_worker_name_ok(""));
	ck_assert(!pool_worker_name_ok("a b"));
	ck_assert(!pool_worker_name_ok("a/b"));
	ck_assert(!pool_worker_name_ok("a\n"));
	ck_assert(!pool_worker_name_ok("\xc3\xa9"));
}
END_TEST

START_TEST(test_refusals)
{
	struct fake	 a, b;
	char		*cause;

	fake_init(&a, 1000);
	fake_init(&b, 1000);
	must_refuse(&a, "echo", FUT_HK_ASYNC, 1, "\"echo\"");
	must_refuse(&a, "exec", FUT_HK_CPU, 1, "daemon's own");
	must_refuse(&a, "bad name", FUT_HK_ASYNC, 1, "bad handler name");
	must_refuse(&a, "wt", 0, 1, "bad kinds");
	must_refuse(&a, "wt", FUT_HK_ASYNC, 0, "concurrency");
	must_refuse(&a, "wt", FUT_HK_ASYNC, WORKER_CONCURRENCY_MAX + 1,
	    "concurrency");
	ck_assert_ptr_null(handler_find("wt"));
	ck_assert_ptr_null(pool_worker_register(&a.conn,
	    &(struct worker_handler_spec){ "wt", FUT_HK_ASYNC, FUT_HK_ASYNC,
	    "two\nlines" }, 1, 1, NULL, NULL, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "description"));
	free(cause);
	ck_assert_ptr_null(pool_worker_register(&a.conn,
	    &(struct worker_handler_spec){ "wt", FUT_HK_ASYNC, FUT_HK_ASYNC,
	    NULL }, 1, 1, NULL, "a\tb", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "worker name"));
	free(cause);
	ck_assert_ptr_null(handler_find("wt"));
	must_reg(&a, "wt", FUT_HK_ASYNC | FUT_HK_BLOCKING, 1);
	ck_assert_int_eq(pool_worker_handler_workers(handler_find("wt")), 1);
	ck_assert_int_eq(pool_worker_handler_workers(handler_find("echo")), -1);
	must_refuse(&b, "wt", FUT_HK_ASYNC, 1, "other kinds");
	must_reg(&b, "wt", FUT_HK_ASYNC | FUT_HK_BLOCKING, 1);
	ck_assert_int_eq(pool_worker_handler_workers(handler_find("wt")), 2);
	/* With no worker left, another may serve it with other kinds. */
	pool_worker_lost(a.w, "test");
	pool_worker_lost(b.w, "test");
	ck_assert_int_eq(pool_worker_handler_workers(handler_find("wt")), 0);
	must_reg(&a, "wt", FUT_HK_CPU, 1);
}
END_TEST

/* The owner, the kind, the concurrency, the least busy first. */
START_TEST(test_dispatch)
{
	struct fake	 a, b, r;
	struct job	*j1, *j2, *j3, *j4, *jc, *jo;

	fake_init(&a, 1000);
	fake_init(&b, 1000);
	fake_init(&r, 2000);
	must_reg(&a, "wd", FUT_HK_ASYNC | FUT_HK_CPU, 2);
	must_reg(&b, "wd", FUT_HK_ASYNC | FUT_HK_CPU, 2);
	j1 = must_submit("wd", JOB_ASYNC, 1000);
	j2 = must_submit("wd", JOB_ASYNC, 1000);
	turns();
	ck_state(j1, JOB_RUNNING);
	ck_state(j2, JOB_RUNNING);
	/* Least busy first: one each. */
	ck_assert_uint_eq(a.ntasks, 1);
	ck_assert_uint_eq(b.ntasks, 1);
	j3 = must_submit("wd", JOB_CPU, 1000);
	j4 = must_submit("wd", JOB_ASYNC, 1000);
	jc = must_submit("wd", JOB_ASYNC, 1000);
	turns();
	ck_state(j3, JOB_RUNNING);
	ck_state(j4, JOB_RUNNING);
	/* Both full: the fifth waits, and takes no async slot. */
	ck_state(jc, JOB_QUEUED);
	ck_assert_uint_eq(a.ntasks + b.ntasks, 4);
	ck_assert_uint_eq(sched_slots_used(JOB_ASYNC), 0);
	/* Another owner's job: not to these workers. */
	jo = must_submit("wd", JOB_ASYNC, 3000);
	turns();
	ck_state(jo, JOB_QUEUED);
	/* Nor to a worker of uid 2000; a root worker serves anyone. */
	must_reg(&r, "wd", FUT_HK_ASYNC | FUT_HK_CPU, 1);
	turns();
	ck_state(jo, JOB_QUEUED);
	ck_assert_uint_eq(r.ntasks, 0);
	pool_worker_lost(r.w, "test");
	fake_init(&r, 0);
	must_reg(&r, "wd", FUT_HK_ASYNC | FUT_HK_CPU, 1);
	turns();
	/* The first waiting job first, whoever's. */
	ck_state(jc, JOB_RUNNING);
	ck_state(jo, JOB_QUEUED);
	ck_assert_uint_eq(r.ntasks, 1);
	ck_assert_uint_eq(r.tasks[0], jc->id);
	/* A cancel is pushed, settles the job, and frees the slot. */
	ck_assert(job_cancel(jc, JOB_CANCELLED, 0, "test"));
	ck_state(jc, JOB_CANCELLED);
	ck_assert_uint_eq(r.ncancels, 1);
	ck_assert_uint_eq(r.cancels[0], jc->id);
	turns();
	ck_state(jo, JOB_RUNNING);
	ck_assert_uint_eq(r.tasks[1], jo->id);
	/* The others' cancels go to their own workers. */
	ck_assert(job_cancel(j1, JOB_CANCELLED, 0, "test"));
	ck_assert_uint_eq(a.ncancels + b.ncancels, 1);
	ck_assert_uint_eq(r.ncancels, 1);
}
END_TEST

/* A worker job no worker may take does not hold up its kind. */
START_TEST(test_no_head_of_line)
{
	struct fake	 a;
	struct job	*wj, *ej;

	fake_init(&a, 1000);
	must_reg(&a, "wh", FUT_HK_ASYNC, 1);
	wj = must_submit("wh", JOB_ASYNC, 4242);
	ej = must_submit("echo", JOB_ASYNC, 4242);
	ck_run_until_final(ej);
	ck_state(ej, JOB_SUCCEEDED);
	ck_state(wj, JOB_QUEUED);
	ck_assert_uint_eq(a.ntasks, 0);
}
END_TEST

START_TEST(test_updates)
{
	struct fake		 a, b;
	struct worker_update	 u;
	struct job		*j;

	fake_init(&a, 1000);
	fake_init(&b, 1000);
	must_reg(&a, "wu", FUT_HK_ASYNC, 1);
	j = must_submit("wu", JOB_ASYNC, 1000);
	turns();
	ck_state(j, JOB_RUNNING);
	must_reg(&b, "wu", FUT_HK_ASYNC, 1);
	memset(&u, 0, sizeof(u));
	u.job_id = j->id;
	u.attempt = 1;
	/* Never given to b: -1; a wrong attempt of a's: stale. */
	ck_assert_int_eq(pool_worker_update(b.w, &u), -1);
	u.attempt = 2;
	ck_assert_int_eq(pool_worker_update(a.w, &u), 1);
	u.attempt = 1;
	u.has_progress = 1;
	u.progress = 7;		/* clamped */
	u.output = (const uint8_t *)"out";
	u.output_len = 3;
	ck_assert_int_eq(pool_worker_update(a.w, &u), 0);
	ck_assert(j->more->progress == 1.0);
	ck_assert_uint_eq(j->more->output.len, 3);
	memset(&u, 0, sizeof(u));
	u.job_id = j->id;
	u.attempt = 1;
	u.done = 1;
	u.error = "bad n";
	u.error_type = "ValueError";
	u.error_detail = "Traceback\n";
	ck_assert_int_eq(pool_worker_update(a.w, &u), 0);
	ck_state(j, JOB_FAILED);
	ck_assert_str_eq(j->more->error, "ValueError: bad n");
	ck_assert_uint_eq(j->more->errtail.len, 10);
	/* Answered twice: stale, not applied. */
	ck_assert_int_eq(pool_worker_update(a.w, &u), 1);
}
END_TEST

START_TEST(test_lost)
{
	struct fake	 a;
	struct job	*j, *k;
	struct job_spec	*js;

	fake_init(&a, 1000);
	must_reg(&a, "wl", FUT_HK_ASYNC, 2);
	j = must_submit("wl", JOB_ASYNC, 1000);
	k = job_new();
	k->handler = handler_find("wl");
	k->kind = JOB_ASYNC;
	k->owner = 1000;
	js = job_spec_own(k);
	js->retries = 1;
	must_insert(k);
	turns();
	ck_state(j, JOB_RUNNING);
	ck_state(k, JOB_RUNNING);
	pool_worker_lost(a.w, "connection closed");
	a.conn.worker = NULL;
	ck_state(j, JOB_FAILED);
	ck_assert_str_eq(j->more->error, "worker lost: connection closed");
	/* Retries apply: queued again, for a worker to come. */
	ck_state(k, JOB_QUEUED);
	ck_assert_int_eq(pool_worker_handler_workers(handler_find("wl")), 0);
}
END_TEST

START_TEST(test_retire)
{
	struct fake			 a, b;
	struct worker_update		 u;
	const struct fut_handler	*h, *hs[1];
	struct job			*j, *k;

	fake_init(&a, 1000);
	must_reg(&a, "wr", FUT_HK_ASYNC, 1);
	h = handler_find("wr");
	ck_assert(!pool_worker_handler_idle(h));
	j = must_submit("wr", JOB_ASYNC, 1000);
	turns();
	ck_state(j, JOB_RUNNING);
	memset(&u, 0, sizeof(u));
	u.job_id = j->id;
	u.attempt = 1;
	u.done = 1;
	u.ok = 1;
	ck_assert_int_eq(pool_worker_update(a.w, &u), 0);
	ck_state(j, JOB_SUCCEEDED);
	pool_worker_lost(a.w, "connection closed");
	a.conn.worker = NULL;
	ck_assert(pool_worker_handler_idle(h));
	/* A job waits for it: not idle, and it may not go. */
	k = must_submit("wr", JOB_ASYNC, 1000);
	turns();
	ck_state(k, JOB_QUEUED);
	ck_assert(!pool_worker_handler_idle(h));
	ck_assert_uint_eq(pool_worker_handler_queued("wr"), 1);
	hs[0] = h;
	ck_assert_uint_eq(handler_retire(hs, 1), 0);
	ck_assert_ptr_eq(handler_find("wr"), h);
	ck_assert_int_eq(job_cancel(k, JOB_CANCELLED, 0, "test"), 1);
	ck_assert(pool_worker_handler_idle(h));
	/* Only finished jobs name it: it goes; they keep the name. */
	hs[0] = h;
	ck_assert_uint_eq(handler_retire(hs, 1), 1);
	ck_assert_ptr_null(handler_find("wr"));
	ck_assert_int_eq(pool_worker_handler_workers(j->handler), -1);
	ck_assert_str_eq(j->handler->name, "wr");
	ck_assert(!(j->handler->flags & HANDLER_F_WORKER));
	hs[0] = h;
	ck_assert_uint_eq(handler_retire(hs, 1), 0);
	/* Registered afresh: a handler of its own, which serves. */
	fake_init(&b, 1000);
	must_reg(&b, "wr", FUT_HK_ASYNC, 1);
	ck_assert_ptr_nonnull(handler_find("wr"));
	ck_assert_ptr_ne(handler_find("wr"), j->handler);
	k = must_submit("wr", JOB_ASYNC, 1000);
	turns();
	ck_state(k, JOB_RUNNING);
	ck_assert_uint_eq(b.ntasks, 1);
}
END_TEST

static Suite *
worker_suite(void)
{
	Suite	*s = suite_create("worker");
	TCase	*tc;

	tc = tcase_create("worker");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_dispatch);
	tcase_add_test(tc, test_no_head_of_line);
	tcase_add_test(tc, test_updates);
	tcase_add_test(tc, test_lost);
	tcase_add_test(tc, test_retire);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(worker_suite());
	int	 nf;

	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
