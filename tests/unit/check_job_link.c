/*
 * daemon/job_link.c: the checks a job's spec passes before it may run,
 * each refusal named (and the limits a replay skips), and the links it
 * gets: its group, its parent (known and the owner's, or not linked on
 * a replay), the parent's context under its own, the earlier deadline,
 * and the cancel of a child whose parent already ended cancelled.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "testlib.h"
#include "xmalloc.h"


/* An async job of handler, owned by uid, not yet checked nor linked. */
static struct job *
new_job(const char *handler, uid_t uid)
{
	struct job	*j = job_new();

	j->handler = handler_find(handler);
	ck_assert_ptr_nonnull(j->handler);
	j->kind = JOB_ASYNC;
	j->owner = uid;
	return (j);
}

static void
add_ctx(struct job *j, const char *key, const char *value)
{
	struct job_spec	*js = job_spec_own(j);

	js->ctx = xreallocarray(js->ctx, js->nctx + 1, sizeof(*js->ctx));
	js->ctx[js->nctx].key = xstrdup(key);
	js->ctx[js->nctx].value = xstrdup(value);
	js->nctx++;
}

static const char *
ctx_get(const struct job *j, const char *key)
{
	size_t	 i;

	for (i = 0; i < j->spec->nctx; i++) {
		if (strcmp(j->spec->ctx[i].key, key) == 0)
			return (j->spec->ctx[i].value);
	}
	return (NULL);
}

/* job_link_check() refuses j with code and a cause containing what. */
static void
ck_refused(struct job *j, int flags, int code, const char *what)
{
	char	*cause = NULL;
	int	 got = -1;

	ck_assert_int_eq(job_link_check(j, flags, &got, &cause), -1);
	ck_assert_int_eq(got, code);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, what) != NULL, "\"%s\" does not say "
	    "\"%s\"", cause, what);
	free(cause);
	job_unref(j);
}

static void
ck_accepted(struct job *j, int flags)
{
	char	*cause = NULL;
	int	 code;

	ck_assert_msg(job_link_check(j, flags, &code, &cause) == 0, "%s",
	    cause);
	job_unref(j);
}

/* Checks ----------------------------------------------------------------- */

START_TEST(test_check_plain_and_full_specs)
{
	struct job	*j;
	struct job_spec	*js;

	ck_accepted(new_job("echo", 1000), 0);
	j = new_job("exec", 1000);
	j->kind = JOB_CPU;
	j->priority = JOB_PRIO_MIN;
	js = job_spec_own(j);
	js->timeout_ms = 1;
	js->deadline_ms = 2;
	js->retry_delay_ms = 3;
	js->envp = xcalloc(3, sizeof(*js->envp));
	js->envp[0] = xstrdup("PATH=/bin");
	js->envp[1] = xstrdup("EMPTY=");
	add_ctx(j, "Trace_ID_9", "x");
	ck_accepted(j, 0);
	j = new_job("echo", 1000);
	j->priority = JOB_PRIO_MAX;
	ck_accepted(j, 0);
}
END_TEST

START_TEST(test_check_kind)
{
	struct job	*j = new_job("sleep", 1000);

	j->kind = JOB_BLOCKING;
	ck_refused(j, 0, FERR_BAD_KIND,
	    "handler \"sleep\" does not run as blocking (it accepts: async)");
}
END_TEST

START_TEST(test_check_priority)
{
	struct job	*j;

	j = new_job("echo", 1000);
	j->priority = JOB_PRIO_MAX + 1;
	ck_refused(j, 0, FERR_INVALID, "priority 21 is outside -20..20");
	/* Held as asked, not cut to 8 bits on the way. */
	j = new_job("echo", 1000);
	j->priority = 256 + 5;
	ck_refused(j, 0, FERR_INVALID, "priority 261 is outside");
	j = new_job("echo", 1000);
	j->priority = JOB_PRIO_MIN - 1;
	ck_refused(j, JOB_LINK_REPLAY, FERR_INVALID, "priority -21");
}
END_TEST

START_TEST(test_check_times)
{
	struct job	*j;
	char		*cause = NULL;
	int		 code = -1;

	j = new_job("echo", 1000);
	job_spec_own(j)->timeout_ms = -1;
	ck_refused(j, 0, FERR_INVALID, "negative timeout");
	j = new_job("echo", 1000);
	job_spec_own(j)->deadline_ms = -1;
	ck_refused(j, 0, FERR_INVALID, "negative deadline");
	j = new_job("echo", 1000);
	job_spec_own(j)->retry_delay_ms = INT64_MIN;
	ck_refused(j, JOB_LINK_REPLAY, FERR_INVALID, "negative retry delay");
	/*
	 * Too long to add to a monotonic time (fuzz_request found a
	 * deadline near INT64_MAX overflowing the timer's due time), in a
	 * submit and in a replay alike.
	 */
	j = new_job("echo", 1000);
	job_spec_own(j)->deadline_ms = INT64_MAX - 5536;
	ck_refused(j, 0, FERR_INVALID, "deadline of");
	j = new_job("echo", 1000);
	job_spec_own(j)->timeout_ms = JOB_DURATION_MAX + 1;
	ck_refused(j, JOB_LINK_REPLAY, FERR_INVALID, "timeout of");
	j = new_job("echo", 1000);
	job_spec_own(j)->retry_delay_ms = INT64_MAX;
	ck_refused(j, 0, FERR_INVALID, "retry delay of");
	/* The limit itself is a duration. */
	j = new_job("echo", 1000);
	job_spec_own(j)->deadline_ms = JOB_DURATION_MAX;
	ck_assert_int_eq(job_link_check(j, 0, &code, &cause), 0);
	job_unref(j);
}
END_TEST

START_TEST(test_check_context_keys)
{
	struct job	*j;

	j = new_job("echo", 1000);
	add_ctx(j, "ok", "1");
	add_ctx(j, "no-good", "1");
	ck_refused(j, 0, FERR_INVALID,
	    "bad context key \"no-good\" (want [A-Za-z0-9_]+)");
	j = new_job("echo", 1000);
	add_ctx(j, "", "1");
	ck_refused(j, 0, FERR_INVALID, "bad context key \"\"");
	j = new_job("echo", 1000);
	add_ctx(j, "a b", "1");
	ck_refused(j, JOB_LINK_REPLAY, FERR_INVALID, "bad context key");
}
END_TEST

START_TEST(test_check_environment)
{
	struct job	*j;
	struct job_spec	*js;

	j = new_job("exec", 1000);
	js = job_spec_own(j);
	js->envp = xcalloc(2, sizeof(*js->envp));
	js->envp[0] = xstrdup("=value");
	ck_refused(j, 0, FERR_INVALID, "bad environment name \"\"");
	j = new_job("exec", 1000);
	js = job_spec_own(j);
	js->envp = xcalloc(3, sizeof(*js->envp));
	js->envp[0] = xstrdup("A=1");
	js->envp[1] = xstrdup("NOVALUE");
	ck_refused(j, JOB_LINK_REPLAY, FERR_INVALID,
	    "bad environment name \"NOVALUE\"");
}
END_TEST

START_TEST(test_check_payload_limit_not_on_replay)
{
	struct job	*j;

	j = new_job("echo", 1000);
	j->payload_len = settings.max_frame + 1;
	j->payload = xcalloc(1, j->payload_len);
	ck_refused(j, 0, FERR_TOO_BIG, "payload too large");
	/* Accepted under the limit of its day; --max-frame may be lower now. */
	j = new_job("echo", 1000);
	j->payload_len = settings.max_frame + 1;
	j->payload = xcalloc(1, j->payload_len);
	ck_accepted(j, JOB_LINK_REPLAY);
}
END_TEST

START_TEST(test_check_names_only_older_jobs)
{
	struct job	*j;
	struct job_spec	*js;

	/* Without an id (a submit) the table checks existence instead. */
	j = new_job("echo", 1000);
	js = job_spec_own(j);
	js->after = xcalloc(1, sizeof(*js->after));
	js->after[0] = 50;
	js->nafter = 1;
	ck_accepted(j, 0);

	j = new_job("echo", 1000);
	j->id = 10;
	js = job_spec_own(j);
	js->after = xcalloc(2, sizeof(*js->after));
	js->after[0] = 9;
	js->after[1] = 10;
	js->nafter = 2;
	ck_refused(j, JOB_LINK_REPLAY, FERR_INVALID,
	    "depends on job 10, which is not older");
	j = new_job("echo", 1000);
	j->id = 10;
	job_spec_own(j)->input_from = 11;
	ck_refused(j, JOB_LINK_REPLAY, FERR_INVALID, "depends on job 11");
	j = new_job("echo", 1000);
	j->id = 10;
	job_spec_own(j)->parent = 12;
	ck_refused(j, JOB_LINK_REPLAY, FERR_INVALID, "parent 12 is not older");
	j = new_job("echo", 1000);
	j->id = 10;
	js = job_spec_own(j);
	js->after = xcalloc(1, sizeof(*js->after));
	js->after[0] = 9;
	js->nafter = 1;
	js->input_from = 8;
	js->parent = 7;
	ck_accepted(j, JOB_LINK_REPLAY);
}
END_TEST

/* Links ------------------------------------------------------------------ */

/* A parent in the table, a sleep that stays unfinished. */
static struct job *
parent_job(uid_t uid, int64_t deadline_ms)
{
	struct job	*p = new_job("sleep", uid);
	struct job_spec	*js = job_spec_own(p);

	js->args = xcalloc(1, sizeof(*js->args));
	js->args[0] = xstrdup("30s");
	js->nargs = 1;
	js->deadline_ms = deadline_ms;
	add_ctx(p, "TRACE", "abc");
	add_ctx(p, "WHO", "parent");
	return (must_insert(p));
}

static struct job *
child_of(struct job *p, uid_t uid)
{
	struct job	*j = new_job("echo", uid);

	job_spec_own(j)->parent = p->id;
	return (j);
}

static void
ck_link(struct job *j, int flags)
{
	char	*cause = NULL;
	int	 code;

	ck_assert_msg(job_link(j, flags, &code, &cause) == 0, "%s", cause);
}

START_TEST(test_link_group)
{
	struct job	*j, *k;

	j = new_job("echo", 1000);
	job_spec_own(j)->group = xstrdup("g");
	ck_link(j, 0);
	ck_assert_ptr_nonnull(j->more->grp);
	ck_assert_ptr_eq(j->more->grp, group_get(1000, "g", 0));
	/* Another user's group of the same name is another group. */
	k = new_job("echo", 1001);
	job_spec_own(k)->group = xstrdup("g");
	ck_link(k, JOB_LINK_REPLAY);
	ck_assert_ptr_eq(k->more->grp, group_get(1001, "g", 0));
	ck_assert_ptr_ne(k->more->grp, j->more->grp);
	job_unref(j);
	job_unref(k);
	ck_assert_ptr_null(TAILQ_FIRST(&group_get(1000, "g", 0)->members));
}
END_TEST

START_TEST(test_link_parent_inherits_context)
{
	struct job	*p, *j;

	p = parent_job(1000, 0);
	j = child_of(p, 1000);
	add_ctx(j, "WHO", "child");
	ck_link(j, 0);
	ck_assert_ptr_eq(j->more->parent_job, p);
	ck_assert_ptr_eq(TAILQ_FIRST(&p->more->children), j->more);
	ck_assert_uint_eq(j->spec->nctx, 2);
	ck_assert_str_eq(ctx_get(j, "TRACE"), "abc");
	ck_assert_str_eq(ctx_get(j, "WHO"), "child");
	ck_assert_int_eq(j->spec->deadline_ms, 0);
	job_unref(j);
	ck_assert(TAILQ_EMPTY(&p->more->children));
}
END_TEST

START_TEST(test_link_parent_deadline_clamps)
{
	struct job	*p, *j;

	p = parent_job(1000, 10000);
	/* No deadline of its own: the parent's time left. */
	j = child_of(p, 1000);
	ck_link(j, 0);
	ck_assert_int_gt(j->spec->deadline_ms, 0);
	ck_assert_int_le(j->spec->deadline_ms, 10000);
	job_unref(j);
	/* A later one is cut to the parent's ... */
	j = child_of(p, 1000);
	job_spec_own(j)->deadline_ms = 60000;
	ck_link(j, 0);
	ck_assert_int_le(j->spec->deadline_ms, 10000);
	job_unref(j);
	/* ... an earlier one stands. */
	j = child_of(p, 1000);
	job_spec_own(j)->deadline_ms = 500;
	ck_link(j, 0);
	ck_assert_int_eq(j->spec->deadline_ms, 500);
	job_unref(j);
}
END_TEST

START_TEST(test_link_replay_takes_spec_as_journaled)
{
	struct job	*p, *j;

	/* Inherited and clamped at submit: not again, later, at a replay. */
	p = parent_job(1000, 10000);
	j = child_of(p, 1000);
	job_spec_own(j)->deadline_ms = 60000;
	ck_link(j, JOB_LINK_REPLAY);
	ck_assert_ptr_eq(j->more->parent_job, p);
	ck_assert_int_eq(j->spec->deadline_ms, 60000);
	ck_assert_uint_eq(j->spec->nctx, 0);
	job_unref(j);
}
END_TEST

START_TEST(test_link_parent_unknown)
{
	struct job	*p, *j;
	char		*cause = NULL;
	int		 code = 0;

	p = parent_job(1000, 0);
	j = new_job("echo", 1000);
	job_spec_own(j)->parent = p->id + 100;
	ck_assert_int_eq(job_link(j, 0, &code, &cause), -1);
	ck_assert_int_eq(code, FERR_NOT_FOUND);
	ck_assert_str_eq(cause, "no such parent job: 101");
	free(cause);
	cause = NULL;
	job_unref(j);
	/* Another user's job is no parent of a user's ... */
	j = child_of(p, 1001);
	ck_assert_int_eq(job_link(j, 0, &code, &cause), -1);
	ck_assert_int_eq(code, FERR_NOT_FOUND);
	free(cause);
	job_unref(j);
	/* ... but may be of root's. */
	j = child_of(p, 0);
	ck_link(j, 0);
	ck_assert_ptr_eq(j->more->parent_job, p);
	job_unref(j);
	/* A replayed job whose parent is gone is not linked, and goes on. */
	j = new_job("echo", 1000);
	job_spec_own(j)->parent = p->id + 100;
	ck_assert_int_eq(job_link(j, JOB_LINK_REPLAY, NULL, NULL), 0);
	ck_assert_ptr_null(j->more->parent_job);
	job_unref(j);
}
END_TEST

START_TEST(test_follow_cancelled_parent)
{
	struct job	*p, *j, *k;

	p = parent_job(1000, 0);
	j = child_of(p, 1000);
	ck_link(j, 0);
	must_insert(j);
	job_link_follow(j);
	ck_state(j, JOB_QUEUED);
	ck_assert_int_eq(job_cancel(p, JOB_CANCELLED, 0, "test"), 1);
	/* One already linked goes with it (sched.c) ... */
	ck_state(j, JOB_CANCELLED);
	/* ... one that comes after follows once in the table. */
	k = child_of(p, 1000);
	ck_link(k, 0);
	must_insert(k);
	ck_state(k, JOB_QUEUED);
	job_link_follow(k);
	ck_state(k, JOB_CANCELLED);
	ck_assert_str_eq(k->more->error, "parent 1 cancelled");
}
END_TEST

static Suite *
job_link_suite(void)
{
	Suite	*s = suite_create("job_link");
	TCase	*tc;

	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, loop_sched_setup, loop_sched_teardown);
	tcase_add_test(tc, test_check_plain_and_full_specs);
	tcase_add_test(tc, test_check_kind);
	tcase_add_test(tc, test_check_priority);
	tcase_add_test(tc, test_check_times);
	tcase_add_test(tc, test_check_context_keys);
	tcase_add_test(tc, test_check_environment);
	tcase_add_test(tc, test_check_payload_limit_not_on_replay);
	tcase_add_test(tc, test_check_names_only_older_jobs);
	suite_add_tcase(s, tc);

	tc = tcase_create("link");
	tcase_add_checked_fixture(tc, loop_sched_setup, loop_sched_teardown);
	tcase_add_test(tc, test_link_group);
	tcase_add_test(tc, test_link_parent_inherits_context);
	tcase_add_test(tc, test_link_parent_deadline_clamps);
	tcase_add_test(tc, test_link_replay_takes_spec_as_journaled);
	tcase_add_test(tc, test_link_parent_unknown);
	tcase_add_test(tc, test_follow_cancelled_parent);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(job_link_suite());
	int	 nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
