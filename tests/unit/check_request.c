/*
 * daemon/request*.c through request_dispatch(), without a socket: the
 * connection's sendfn seam hands each answer to the test, decoded.  A
 * valid submit is accepted and runs; each invalid one is refused with
 * its code and a message naming what is wrong, and leaves no job; a
 * child gets its parent's context and deadline; status, result, cancel,
 * wait, list and group answer as futured.proto says; every request gets
 * exactly one answer.
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
#include "testlib.h"
#include "xmalloc.h"

#define UID		1000
#define MAX_ANSWERS	64

static struct conn		 conn;
static Futured__Response	*answers[MAX_ANSWERS];
static size_t			 nanswers;

static void
capture(struct conn *c, const void *p, size_t len)
{
	Futured__Response	*r;

	r = futured__response__unpack(NULL, len, p);
	ck_assert_msg(r != NULL, "an answer that does not decode");
	ck_assert_uint_lt(nanswers, MAX_ANSWERS);
	answers[nanswers++] = r;
}

static void
setup(void)
{
	loop_sched_setup();
	settings.max_frame = 4096;
	request_init();
	memset(&conn, 0, sizeof(conn));
	conn.id = 1;
	conn.uid = UID;
	conn.version = FUTURED_PROTOCOL_VERSION;
	conn.sendfn = capture;
	TAILQ_INIT(&conn.pendings);
	nanswers = 0;
}

static void
teardown(void)
{
	size_t	 i;

	request_conn_free(&conn);
	loop_sched_teardown();
	for (i = 0; i < nanswers; i++)
		futured__response__free_unpacked(answers[i], NULL);
}

/* Pack and dispatch req with that id and body. */
static void
dispatch(Futured__Request *req)
{
	uint8_t		*buf;
	size_t		 len;

	len = futured__request__get_packed_size(req);
	buf = xmalloc(len + 1);
	futured__request__pack(req, buf);
	ck_assert_int_eq(request_dispatch(&conn, buf, len), 0);
	free(buf);
}

/* The one answer to request id, which must have come; NULL if none. */
static Futured__Response *
answer(uint64_t id)
{
	Futured__Response	*r = NULL;
	size_t			 i;

	for (i = 0; i < nanswers; i++) {
		if (answers[i]->id != id)
			continue;
		ck_assert_msg(r == NULL, "two answers to request %llu",
		    (unsigned long long)id);
		r = answers[i];
	}
	return (r);
}

static int
answered(void *arg)
{
	return (answer(*(uint64_t *)arg) != NULL);
}

/* Run the loop until request id is answered; its answer. */
static Futured__Response *
must_answer(uint64_t id)
{
	ck_assert_msg(run_loop_until(answered, &id, RUN_LIMIT_S * 1000),
	    "request %llu not answered", (unsigned long long)id);
	return (answer(id));
}

/* A spec for handler: the test fills in the rest. */
static Futured__JobSpec
spec_of(const char *handler)
{
	Futured__JobSpec	 s = FUTURED__JOB_SPEC__INIT;

	s.handler = (char *)handler;
	return (s);
}

/* Submit s as request id; the answer, already there. */
static Futured__Response *
submit(uint64_t id, Futured__JobSpec *s)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__SubmitRequest	 sub = FUTURED__SUBMIT_REQUEST__INIT;
	Futured__Response	*r;

	sub.spec = s;
	req.id = id;
	req.body_case = FUTURED__REQUEST__BODY_SUBMIT;
	req.submit = &sub;
	dispatch(&req);
	ck_assert_ptr_nonnull(r = answer(id));
	return (r);
}

/* Submit s, which must be accepted; the job's id. */
static uint64_t
must_submit(uint64_t id, Futured__JobSpec *s)
{
	Futured__Response	*r = submit(id, s);

	ck_assert_msg(r->body_case == FUTURED__RESPONSE__BODY_SUBMIT,
	    "refused: %s", r->body_case == FUTURED__RESPONSE__BODY_ERROR ?
	    r->error->message : "not a submit answer");
	return (r->submit->id);
}

/* A sleep of arg ("30s"), so that it stays unfinished. */
static uint64_t
must_sleep(uint64_t id, const char *arg, const char *group)
{
	Futured__JobSpec	 s = spec_of("sleep");
	char			*args[1] = { (char *)arg };

	s.n_args = 1;
	s.args = args;
	s.group = (char *)group;
	return (must_submit(id, &s));
}

/* Submit s as request id, refused with code and a message saying what. */
static void
ck_refused(uint64_t id, Futured__JobSpec *s, int code, const char *what)
{
	Futured__Response	*r = submit(id, s);
	uint64_t		 total = sched_total();

	ck_assert_msg(r->body_case == FUTURED__RESPONSE__BODY_ERROR,
	    "request %llu accepted, not \"%s\"", (unsigned long long)id, what);
	ck_assert_int_eq(r->error->code, code);
	ck_assert_msg(strstr(r->error->message, what) != NULL,
	    "\"%s\" does not say \"%s\"", r->error->message, what);
	/* Refused before it got an id. */
	ck_assert_uint_eq(sched_total(), total);
}

static Futured__JobInfo *
status1(uint64_t reqid, uint64_t job)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatusRequest	 st = FUTURED__STATUS_REQUEST__INIT;
	Futured__Response	*r;

	st.n_ids = 1;
	st.ids = &job;
	req.id = reqid;
	req.body_case = FUTURED__REQUEST__BODY_STATUS;
	req.status = &st;
	dispatch(&req);
	ck_assert_ptr_nonnull(r = answer(reqid));
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_STATUS);
	ck_assert_uint_eq(r->status->n_jobs, 1);
	return (r->status->jobs[0]);
}

static const char *
info_ctx(const Futured__JobInfo *ji, const char *key)
{
	size_t	 i;

	for (i = 0; i < ji->n_ctx; i++) {
		if (strcmp(ji->ctx[i]->key, key) == 0)
			return (ji->ctx[i]->value);
	}
	return (NULL);
}

/* Submit ---------------------------------------------------------------- */

START_TEST(test_submit_runs)
{
	Futured__JobSpec	 s = spec_of("echo");
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__ResultRequest	 rr = FUTURED__RESULT_REQUEST__INIT;
	Futured__Response	*r;
	uint64_t		 id;

	s.has_payload = 1;
	s.payload.data = (uint8_t *)"hello";
	s.payload.len = 5;
	r = submit(1, &s);
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_SUBMIT);
	ck_assert_uint_eq(id = r->submit->id, 1);
	ck_assert_int_eq(r->submit->state, FUTURED__STATE__STATE_QUEUED);
	ck_run_until_final(sched_find(id));
	rr.id = id;
	req.id = 2;
	req.body_case = FUTURED__REQUEST__BODY_RESULT;
	req.result = &rr;
	dispatch(&req);
	ck_assert_ptr_nonnull(r = answer(2));
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_RESULT);
	ck_assert_int_eq(r->result->job->state, FUTURED__STATE__STATE_SUCCEEDED);
	ck_assert_uint_eq(r->result->job->output.len, 5);
	ck_assert_mem_eq(r->result->job->output.data, "hello", 5);
	ck_assert_uint_eq(nanswers, 2);
}
END_TEST

START_TEST(test_submit_refusals_named)
{
	Futured__JobSpec	 s;
	Futured__KeyValue	 kv = FUTURED__KEY_VALUE__INIT;
	Futured__KeyValue	*kvs[1] = { &kv };
	uint8_t			 big[5000];
	uint64_t		 dep = 99;

	s = spec_of("nope");
	ck_refused(1, &s, FERR_UNKNOWN_HANDLER, "unknown handler \"nope\"");
	s = spec_of("echo");
	s.has_kind = 1;
	s.kind = 9;
	ck_refused(2, &s, FERR_INVALID, "unknown kind 9");
	s = spec_of("sleep");
	s.has_kind = 1;
	s.kind = FUTURED__KIND__KIND_CPU;
	ck_refused(3, &s, FERR_BAD_KIND,
	    "handler \"sleep\" does not run as cpu (it accepts: async)");
	s = spec_of("echo");
	s.has_priority = 1;
	s.priority = 21;
	ck_refused(4, &s, FERR_INVALID, "priority 21 is outside -20..20");
	/* Not cut to 8 bits (5) first. */
	s.priority = 256 + 5;
	ck_refused(5, &s, FERR_INVALID, "priority 261 is outside");
	s.priority = -21;
	ck_refused(6, &s, FERR_INVALID, "priority -21 is outside");
	s = spec_of("echo");
	s.has_timeout_ms = 1;
	s.timeout_ms = -1;
	ck_refused(7, &s, FERR_INVALID, "negative timeout");
	s = spec_of("echo");
	s.has_deadline_ms = 1;
	s.deadline_ms = -1;
	ck_refused(8, &s, FERR_INVALID, "negative deadline");
	s = spec_of("echo");
	s.has_retry_delay_ms = 1;
	s.retry_delay_ms = -1;
	ck_refused(9, &s, FERR_INVALID, "negative retry delay");
	s = spec_of("echo");
	kv.key = (char *)"no-good";
	kv.value = (char *)"1";
	s.n_ctx = 1;
	s.ctx = kvs;
	ck_refused(10, &s, FERR_INVALID,
	    "bad context key \"no-good\" (want [A-Za-z0-9_]+)");
	s = spec_of("exec");
	kv.key = (char *)"";
	s.n_env = 1;
	s.env = kvs;
	ck_refused(11, &s, FERR_INVALID, "bad environment name \"\"");
	kv.key = (char *)"A=B";
	ck_refused(12, &s, FERR_INVALID, "bad environment name \"A=B\"");
	s = spec_of("echo");
	s.has_payload = 1;
	memset(big, 'x', sizeof(big));
	s.payload.data = big;
	s.payload.len = sizeof(big);
	ck_refused(13, &s, FERR_TOO_BIG, "payload too large");
	s = spec_of("echo");
	s.has_parent = 1;
	s.parent = 42;
	ck_refused(14, &s, FERR_NOT_FOUND, "no such parent job: 42");
	s = spec_of("echo");
	s.n_after = 1;
	s.after = &dep;
	ck_refused(15, &s, FERR_NOT_FOUND, "no such job: 99");
	s = spec_of("echo");
	s.has_input_from = 1;
	s.input_from = 98;
	ck_refused(16, &s, FERR_NOT_FOUND, "no such job: 98");
	ck_assert_uint_eq(nanswers, 16);
	ck_assert_uint_eq(sched_total(), 0);
	ck_assert_uint_eq(sched_user_pending(UID), 0);
}
END_TEST

START_TEST(test_submit_queue_full)
{
	Futured__JobSpec	 s;

	settings.max_queued = 2;
	must_sleep(1, "30s", NULL);
	must_sleep(2, "30s", NULL);
	s = spec_of("echo");
	ck_refused(3, &s, FERR_QUEUE_FULL,
	    "queue full: 2 jobs queued for uid 1000");
	/* Another user's queue is another queue. */
	conn.uid = UID + 1;
	must_submit(4, &s);
}
END_TEST

/* A handler that runs in the daemon and claims nothing about --system. */
static int
unsafe_start(struct fut_handler_ctx *ctx)
{
	fut_handler_done(ctx, 0);
	return (0);
}

static const struct fut_handler handler_unsafe = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_unsafe",
	.description = "succeed at once, as root under --system",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.start = unsafe_start,
};

START_TEST(test_submit_system_refuses_for_users)
{
	Futured__JobSpec	 s;
	char			*args[1] = { (char *)"/etc/passwd" };
	char			*cause = NULL;

	if (handler_find(handler_unsafe.name) == NULL)
		ck_assert_msg(handler_register(&handler_unsafe, &cause) == 0,
		    "%s", cause);
	settings.system = 1;
	s = spec_of("t_unsafe");
	ck_refused(1, &s, FERR_PERM, "t_unsafe");
	/* sha256 would read the file as root; of a payload it may. */
	s = spec_of("sha256");
	s.n_args = 1;
	s.args = args;
	ck_refused(2, &s, FERR_PERM, "sha256");
	s = spec_of("sha256");
	must_submit(3, &s);
	s = spec_of("echo");
	must_submit(4, &s);
	/* Root may submit anything. */
	conn.uid = 0;
	s = spec_of("t_unsafe");
	must_submit(5, &s);
	s = spec_of("sha256");
	s.n_args = 1;
	s.args = args;
	must_submit(6, &s);
}
END_TEST

START_TEST(test_submit_child_inherits)
{
	Futured__JobSpec	 s;
	Futured__KeyValue	 kv[2] = { FUTURED__KEY_VALUE__INIT,
				    FUTURED__KEY_VALUE__INIT };
	Futured__KeyValue	*kvs[2] = { &kv[0], &kv[1] };
	Futured__JobInfo	*ji;
	char			*args[1] = { (char *)"30s" };
	uint64_t		 p, c;

	s = spec_of("sleep");
	s.n_args = 1;
	s.args = args;
	kv[0].key = (char *)"TRACE";
	kv[0].value = (char *)"abc";
	kv[1].key = (char *)"WHO";
	kv[1].value = (char *)"parent";
	s.n_ctx = 2;
	s.ctx = kvs;
	s.has_deadline_ms = 1;
	s.deadline_ms = 10000;
	p = must_submit(1, &s);
	s = spec_of("sleep");
	s.n_args = 1;
	s.args = args;
	kv[1].value = (char *)"child";
	s.n_ctx = 1;
	s.ctx = &kvs[1];
	s.has_parent = 1;
	s.parent = p;
	c = must_submit(2, &s);
	ji = status1(3, c);
	ck_assert_uint_eq(ji->parent, p);
	ck_assert_str_eq(info_ctx(ji, "TRACE"), "abc");
	ck_assert_str_eq(info_ctx(ji, "WHO"), "child");
	ck_assert_int_gt(sched_find(c)->spec->deadline_ms, 0);
	ck_assert_int_le(sched_find(c)->spec->deadline_ms, 10000);
}
END_TEST

START_TEST(test_submit_under_cancelled_parent)
{
	Futured__JobSpec	 s = spec_of("echo");
	uint64_t		 p, c;

	p = must_sleep(1, "30s", NULL);
	ck_assert_int_eq(job_cancel(sched_find(p), JOB_CANCELLED, 0, "test"),
	    1);
	s.has_parent = 1;
	s.parent = p;
	c = must_submit(2, &s);
	ck_state(sched_find(c), JOB_CANCELLED);
	ck_assert_str_eq(sched_find(c)->more->error, "parent 1 cancelled");
}
END_TEST

/* Status, cancel, wait, list, group ------------------------------------- */

START_TEST(test_status_own_jobs_only)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatusRequest	 st = FUTURED__STATUS_REQUEST__INIT;
	Futured__JobInfo	*ji;
	Futured__Response	*r;
	uint64_t		 id, ids[2];

	id = must_sleep(1, "30s", "g");
	ji = status1(2, id);
	ck_assert_uint_eq(ji->id, id);
	ck_assert_int_eq(ji->state, FUTURED__STATE__STATE_QUEUED);
	ck_assert_str_eq(ji->handler, "sleep");
	ck_assert_str_eq(ji->group, "g");
	/* An unknown id among known ones: the whole request is refused. */
	ids[0] = id;
	ids[1] = 77;
	st.n_ids = 2;
	st.ids = ids;
	req.id = 3;
	req.body_case = FUTURED__REQUEST__BODY_STATUS;
	req.status = &st;
	dispatch(&req);
	r = must_answer(3);
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_ERROR);
	ck_assert_int_eq(r->error->code, FERR_NOT_FOUND);
	ck_assert_uint_eq(r->error->n_ids, 1);
	ck_assert_uint_eq(r->error->ids[0], 77);
	/* Another user sees nothing of it; root sees it. */
	conn.uid = UID + 1;
	req.id = 4;
	st.n_ids = 1;
	dispatch(&req);
	r = must_answer(4);
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_ERROR);
	ck_assert_int_eq(r->error->code, FERR_NOT_FOUND);
	conn.uid = 0;
	ck_assert_int_eq(status1(5, id)->state, FUTURED__STATE__STATE_QUEUED);
}
END_TEST

START_TEST(test_cancel)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__CancelRequest	 cr = FUTURED__CANCEL_REQUEST__INIT;
	Futured__Response	*r;
	uint64_t		 ids[2];

	ids[0] = must_sleep(1, "30s", NULL);
	ids[1] = 55;
	cr.n_ids = 2;
	cr.ids = ids;
	req.id = 2;
	req.body_case = FUTURED__REQUEST__BODY_CANCEL;
	req.cancel = &cr;
	/* An unknown id: refused whole, naming it, nothing cancelled. */
	dispatch(&req);
	r = must_answer(2);
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_ERROR);
	ck_assert_int_eq(r->error->code, FERR_NOT_FOUND);
	ck_assert_uint_eq(r->error->n_ids, 1);
	ck_assert_uint_eq(r->error->ids[0], 55);
	ck_state(sched_find(ids[0]), JOB_QUEUED);
	/* The known one alone is cancelled. */
	cr.n_ids = 1;
	req.id = 3;
	dispatch(&req);
	r = must_answer(3);
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_CANCEL);
	ck_assert_uint_eq(r->cancel->n_outcomes, 1);
	ck_assert_uint_eq(r->cancel->outcomes[0]->id, ids[0]);
	ck_assert(r->cancel->outcomes[0]->took_effect);
	ck_assert_int_eq(r->cancel->outcomes[0]->state,
	    FUTURED__STATE__STATE_CANCELLED);
	ck_state(sched_find(ids[0]), JOB_CANCELLED);
}
END_TEST

START_TEST(test_wait)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__WaitRequest	 wr = FUTURED__WAIT_REQUEST__INIT;
	Futured__Response	*r;
	uint64_t		 ids[2];

	ids[0] = must_sleep(1, "30s", NULL);
	ids[1] = must_sleep(2, "20ms", NULL);
	/* Any: answered by the short one. */
	wr.n_ids = 2;
	wr.ids = ids;
	wr.has_any = 1;
	wr.any = 1;
	req.id = 3;
	req.body_case = FUTURED__REQUEST__BODY_WAIT;
	req.wait = &wr;
	dispatch(&req);
	ck_assert_ptr_null(answer(3));
	r = must_answer(3);
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_WAIT);
	ck_assert(!r->wait->timed_out);
	ck_assert_uint_eq(r->wait->first, ids[1]);
	ck_assert_int_eq(r->wait->jobs[1]->state,
	    FUTURED__STATE__STATE_SUCCEEDED);
	/* All, with a timeout that passes first. */
	wr.has_any = 0;
	wr.any = 0;
	wr.has_timeout_ms = 1;
	wr.timeout_ms = 20;
	req.id = 4;
	dispatch(&req);
	r = must_answer(4);
	ck_assert(r->wait->timed_out);
	ck_assert_int_eq(r->wait->jobs[0]->state,
	    FUTURED__STATE__STATE_RUNNING);
	/* Nothing to wait for, or an unknown id: refused at once. */
	wr.n_ids = 0;
	req.id = 5;
	dispatch(&req);
	ck_assert_int_eq(answer(5)->error->code, FERR_INVALID);
	ids[1] = 66;
	wr.n_ids = 2;
	req.id = 6;
	dispatch(&req);
	ck_assert_int_eq(answer(6)->error->code, FERR_NOT_FOUND);
}
END_TEST

START_TEST(test_list)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__ListRequest	 lr = FUTURED__LIST_REQUEST__INIT;
	Futured__Response	*r;
	uint64_t		 a, b;

	a = must_sleep(1, "30s", "g");
	must_sleep(2, "30s", NULL);
	b = must_sleep(3, "30s", "g");
	conn.uid = UID + 1;
	must_sleep(4, "30s", "g");
	conn.uid = UID;
	ck_assert_int_eq(job_cancel(sched_find(b), JOB_CANCELLED, 0, "test"),
	    1);
	req.body_case = FUTURED__REQUEST__BODY_LIST;
	req.list = &lr;
	req.id = 5;
	dispatch(&req);
	ck_assert_uint_eq(answer(5)->list->n_jobs, 3);
	lr.group = (char *)"g";
	req.id = 6;
	dispatch(&req);
	r = answer(6);
	ck_assert_uint_eq(r->list->n_jobs, 2);
	ck_assert_uint_eq(r->list->jobs[0]->id, a);
	ck_assert_uint_eq(r->list->jobs[1]->id, b);
	lr.has_state = 1;
	lr.state = FUTURED__STATE__STATE_CANCELLED;
	req.id = 7;
	dispatch(&req);
	r = answer(7);
	ck_assert_uint_eq(r->list->n_jobs, 1);
	ck_assert_uint_eq(r->list->jobs[0]->id, b);
}
END_TEST

START_TEST(test_group)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__GroupRequest	 gr = FUTURED__GROUP_REQUEST__INIT;
	Futured__Response	*r;

	gr.name = (char *)"g";
	gr.has_parallel = 1;
	gr.parallel = 1;
	gr.has_fail_fast = 1;
	gr.fail_fast = 1;
	req.body_case = FUTURED__REQUEST__BODY_GROUP;
	req.group = &gr;
	req.id = 1;
	dispatch(&req);
	r = answer(1);
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_GROUP);
	ck_assert(r->group->created);
	ck_assert_uint_eq(r->group->parallel, 1);
	ck_assert(r->group->fail_fast);
	must_sleep(2, "30s", "g");
	must_sleep(3, "30s", "g");
	step();
	gr.has_parallel = 0;
	gr.has_fail_fast = 0;
	req.id = 4;
	dispatch(&req);
	r = answer(4);
	ck_assert(!r->group->created);
	ck_assert_uint_eq(r->group->jobs, 2);
	ck_assert_uint_eq(r->group->running, 1);
	ck_assert_uint_eq(r->group->pending, 1);
	gr.name = (char *)"";
	req.id = 5;
	dispatch(&req);
	ck_assert_int_eq(answer(5)->error->code, FERR_INVALID);
	ck_assert_str_eq(answer(5)->error->message, "a group needs a name");
}
END_TEST

/* News ------------------------------------------------------------------ */

/* Submit s with notify (brief), and news if asked; the job's id. */
static uint64_t
must_submit_notify(uint64_t id, Futured__JobSpec *s, int news)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__SubmitRequest	 sub = FUTURED__SUBMIT_REQUEST__INIT;
	Futured__Response	*r;

	sub.spec = s;
	sub.has_notify = sub.notify = 1;
	sub.has_brief = sub.brief = 1;
	sub.has_news = 1;
	sub.news = news;
	req.id = id;
	req.body_case = FUTURED__REQUEST__BODY_SUBMIT;
	req.submit = &sub;
	dispatch(&req);
	ck_assert_ptr_nonnull(r = answer(id));
	ck_assert_int_eq(r->body_case, FUTURED__RESPONSE__BODY_SUBMIT);
	return (r->submit->id);
}

/*
 * The pushes (id 0) of body b about job, from answer from on; the last
 * one's JobInfo in *last (NULL for a JobNews.running id).
 */
static size_t
pushes(size_t from, Futured__Response__BodyCase b, uint64_t job,
    const Futured__JobInfo **last)
{
	size_t	 i, k, n = 0;

	for (i = from; i < nanswers; i++) {
		if (answers[i]->id != 0 || answers[i]->body_case != b)
			continue;
		if (b == FUTURED__RESPONSE__BODY_EVENT &&
		    answers[i]->event->job->id == job) {
			n++;
			if (last != NULL)
				*last = answers[i]->event->job;
		}
		if (b != FUTURED__RESPONSE__BODY_NEWS)
			continue;
		for (k = 0; k < answers[i]->news->n_jobs; k++) {
			if (answers[i]->news->jobs[k]->id != job)
				continue;
			n++;
			if (last != NULL)
				*last = answers[i]->news->jobs[k];
		}
		for (k = 0; k < answers[i]->news->n_running; k++) {
			if (answers[i]->news->running[k] != job)
				continue;
			n++;
			if (last != NULL)
				*last = NULL;
		}
	}
	return (n);
}

static int
job_running(void *arg)
{
	struct job	*j = sched_find(*(uint64_t *)arg);

	return (j != NULL && j->state == JOB_RUNNING);
}

static void
must_run(uint64_t id)
{
	ck_assert_msg(run_loop_until(job_running, &id, RUN_LIMIT_S * 1000),
	    "job %llu not running", (unsigned long long)id);
}

/*
 * A job submitted with news is told running once, at the turn's flush,
 * and its progress after; one without news, or one that ends before the
 * flush, gets no JobNews, only its JobEvent.
 */
START_TEST(test_submit_news)
{
	static const Futured__JobInfo	 sentinel;
	Futured__JobSpec	 s = spec_of("sleep"), e = spec_of("echo");
	char			*args[1] = { "30s" };
	const Futured__JobInfo	*ji = NULL;
	uint64_t		 a, b, c;
	size_t			 mark;

	s.n_args = 1;
	s.args = args;
	a = must_submit_notify(1, &s, 1);
	b = must_submit_notify(2, &s, 0);
	must_run(a);
	must_run(b);
	mark = nanswers;
	request_news_flush();
	/* Started, nothing more: its id in JobNews.running. */
	ji = &sentinel;
	ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_NEWS, a, &ji),
	    1);
	ck_assert_ptr_null(ji);
	ck_assert_uint_eq(pushes(0, FUTURED__RESPONSE__BODY_NEWS, b, NULL), 0);
	/* Nothing new, nothing said. */
	mark = nanswers;
	request_news_flush();
	ck_assert_uint_eq(nanswers, mark);

	/* Progress is news; two in a turn, the last one is told. */
	job_more(sched_find(a))->progress = 0.25;
	job_news(sched_find(a));
	job_more(sched_find(a))->progress = 0.5;
	job_news(sched_find(a));
	mark = nanswers;
	request_news_flush();
	ck_assert_uint_eq(nanswers, mark + 1);
	ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_NEWS, a, &ji),
	    1);
	ck_assert_ptr_nonnull(ji);
	ck_assert_int_eq(ji->state, FUTURED__STATE__STATE_RUNNING);
	ck_assert(ji->has_started_at);
	ck_assert(ji->has_progress && ji->progress == 0.5);

	/* Ended before the flush: its event says it all. */
	mark = nanswers;
	c = must_submit_notify(3, &e, 1);
	ck_run_until_final(sched_find(c));
	request_news_flush();
	ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_NEWS, c, NULL),
	    0);
	ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_EVENT, c, NULL),
	    1);
}
END_TEST

/* Long progress messages: a turn's news in JobNews of bounded size. */
START_TEST(test_news_split)
{
	Futured__JobSpec	 s = spec_of("sleep");
	char			*args[1] = { "30s" }, *big;
	uint64_t		 ids[3];
	size_t			 i, k, mark, frames = 0;

	s.n_args = 1;
	s.args = args;
	big = xmalloc(200 * 1024);
	memset(big, 'x', 200 * 1024 - 1);
	big[200 * 1024 - 1] = '\0';
	for (i = 0; i < 3; i++)
		ids[i] = must_submit_notify(i + 1, &s, 1);
	for (i = 0; i < 3; i++)
		must_run(ids[i]);
	request_news_flush();
	mark = nanswers;
	for (i = 0; i < 3; i++) {
		free(job_more(sched_find(ids[i]))->progress_msg);
		job_more(sched_find(ids[i]))->progress_msg = xstrdup(big);
		job_news(sched_find(ids[i]));
	}
	request_news_flush();
	for (k = mark; k < nanswers; k++)
		if (answers[k]->body_case == FUTURED__RESPONSE__BODY_NEWS)
			frames++;
	ck_assert_uint_eq(frames, 2);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_NEWS,
		    ids[i], NULL), 1);
	free(big);
}
END_TEST

static void
subscribe_news(uint64_t reqid, uint64_t job)
{
	Futured__Request		 req = FUTURED__REQUEST__INIT;
	Futured__SubscribeRequest	 sub = FUTURED__SUBSCRIBE_REQUEST__INIT;

	sub.n_ids = 1;
	sub.ids = &job;
	sub.has_news = sub.news = 1;
	req.id = reqid;
	req.body_case = FUTURED__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	dispatch(&req);
	ck_assert_int_eq(answer(reqid)->body_case,
	    FUTURED__RESPONSE__BODY_SUBSCRIBE);
}

/*
 * A job subscribed to with news is told as a submitted one is; one both
 * submitted and subscribed to with news is told once.
 */
START_TEST(test_subscribe_news)
{
	Futured__JobSpec	 s = spec_of("sleep"), e;
	char			*args[1] = { "30s" };
	uint64_t		 a, b, c;
	size_t			 mark;

	s.n_args = 1;
	s.args = args;
	a = must_submit(1, &s);
	subscribe_news(2, a);
	b = must_submit_notify(3, &s, 1);
	subscribe_news(4, b);
	must_run(a);
	must_run(b);
	mark = nanswers;
	request_news_flush();
	ck_assert_uint_eq(nanswers, mark + 1);
	ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_NEWS, a, NULL),
	    1);
	ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_NEWS, b, NULL),
	    1);

	/* A final job: its event at once, nothing parked (ASan checks). */
	e = spec_of("echo");
	c = must_submit(5, &e);
	ck_run_until_final(sched_find(c));
	mark = nanswers;
	subscribe_news(6, c);
	ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_EVENT, c, NULL),
	    1);
	request_news_flush();
	ck_assert_uint_eq(pushes(mark, FUTURED__RESPONSE__BODY_NEWS, c, NULL),
	    0);
}
END_TEST

static Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc;

	tc = tcase_create("submit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_submit_runs);
	tcase_add_test(tc, test_submit_refusals_named);
	tcase_add_test(tc, test_submit_queue_full);
	tcase_add_test(tc, test_submit_system_refuses_for_users);
	tcase_add_test(tc, test_submit_child_inherits);
	tcase_add_test(tc, test_submit_under_cancelled_parent);
	tcase_add_test(tc, test_submit_news);
	tcase_add_test(tc, test_subscribe_news);
	tcase_add_test(tc, test_news_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("jobs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_status_own_jobs_only);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_wait);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_group);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(request_suite());
	int	 nf;

	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
