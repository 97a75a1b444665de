/*
 * daemon/group.c: one user's named set of jobs.  Names are per owner;
 * with parallel N at most N members run and the rest are held, in
 * priority then arrival order, each released as a member stops; a held
 * job can be cancelled; group_release() lets the held go when the limit
 * is raised; fail-fast cancels the unfinished members on a failure or
 * timeout (not on a cancel); a freed job leaves its group.
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

#define UID	1000


/* A sleep of arg in group g at priority prio, in the table. */
static struct job *
member(struct jobgroup *g, const char *arg, int prio)
{
	struct job	*j = job_new();
	struct job_spec	*js;

	j->handler = handler_find("sleep");
	j->kind = JOB_ASYNC;
	j->owner = UID;
	j->priority = prio;
	js = job_spec_own(j);
	js->args = xcalloc(1, sizeof(*js->args));
	js->args[0] = xstrdup(arg);
	js->nargs = 1;
	js->group = xstrdup(g->name);
	group_add(g, j);
	return (must_insert(j));
}

static size_t
nheld(struct jobgroup *g)
{
	struct job	*j;
	size_t		 n = 0;

	TAILQ_FOREACH(j, &g->held, entry) {
		ck_assert(j->flags & JOBF_HELD);
		n++;
	}
	return (n);
}

START_TEST(test_get_per_owner)
{
	struct jobgroup	*g;

	ck_assert_ptr_null(group_get(UID, "g", 0));
	g = group_get(UID, "g", 1);
	ck_assert_ptr_nonnull(g);
	ck_assert_str_eq(g->name, "g");
	ck_assert_uint_eq(g->owner, UID);
	ck_assert_uint_eq(g->parallel, 0);
	ck_assert(!g->fail_fast);
	ck_assert_ptr_eq(group_get(UID, "g", 1), g);
	ck_assert_ptr_eq(group_get(UID, "g", 0), g);
	ck_assert_ptr_null(group_get(UID + 1, "g", 0));
	ck_assert_ptr_ne(group_get(UID + 1, "g", 1), g);
}
END_TEST

START_TEST(test_parallel_holds_and_releases_in_order)
{
	struct jobgroup	*g = group_get(UID, "g", 1);
	struct job	*a, *b, *c, *d;

	g->parallel = 1;
	a = member(g, "30s", 0);
	b = member(g, "30s", 5);
	c = member(g, "30s", 0);
	d = member(g, "30s", -5);
	step();
	/* The queue gives d (-5) first, which runs; a, c, b are held. */
	ck_assert_uint_eq(g->running, 1);
	ck_assert_uint_eq(nheld(g), 3);
	ck_state(d, JOB_RUNNING);
	ck_state(a, JOB_QUEUED);
	ck_assert_ptr_eq(TAILQ_FIRST(&g->held), a);
	ck_assert_ptr_eq(TAILQ_NEXT(a, entry), c);
	ck_assert_ptr_eq(TAILQ_NEXT(c, entry), b);
	/* A member that stops lets the first held one go, only that one. */
	ck_assert_int_eq(job_cancel(d, JOB_CANCELLED, 0, "test"), 1);
	ck_state(d, JOB_CANCELLED);
	step();
	ck_state(a, JOB_RUNNING);
	ck_state(c, JOB_QUEUED);
	ck_assert_uint_eq(g->running, 1);
	ck_assert_uint_eq(nheld(g), 2);
	/* A held job can be cancelled: it leaves the held list. */
	ck_assert_int_eq(job_cancel(c, JOB_CANCELLED, 0, "test"), 1);
	ck_state(c, JOB_CANCELLED);
	ck_assert(!(c->flags & JOBF_HELD));
	ck_assert_uint_eq(nheld(g), 1);
	ck_assert_ptr_eq(TAILQ_FIRST(&g->held), b);
	ck_assert_int_eq(job_cancel(a, JOB_CANCELLED, 0, "test"), 1);
	step();
	ck_state(b, JOB_RUNNING);
	ck_assert_uint_eq(nheld(g), 0);
}
END_TEST

START_TEST(test_release_on_raised_limit)
{
	struct jobgroup	*g = group_get(UID, "g", 1);
	struct job	*j[4];
	int		 i;

	g->parallel = 1;
	for (i = 0; i < 4; i++)
		j[i] = member(g, "30s", 0);
	step();
	ck_assert_uint_eq(nheld(g), 3);
	g->parallel = 3;
	group_release(g);
	ck_assert_uint_eq(nheld(g), 0);
	step();
	/* Those over the new limit are held again as they come up. */
	ck_assert_uint_eq(g->running, 3);
	ck_assert_uint_eq(nheld(g), 1);
	ck_assert_ptr_eq(TAILQ_FIRST(&g->held), j[3]);
	g->parallel = 0;
	group_release(g);
	step();
	ck_assert_uint_eq(g->running, 4);
	for (i = 0; i < 4; i++)
		ck_state(j[i], JOB_RUNNING);
}
END_TEST

START_TEST(test_fail_fast_cancels_the_rest)
{
	struct jobgroup	*g = group_get(UID, "g", 1);
	struct job	*run, *held, *bad, *done;

	g->fail_fast = 1;
	g->parallel = 2;
	done = member(g, "0s", 0);
	ck_run_until_final(done);
	ck_state(done, JOB_SUCCEEDED);
	run = member(g, "30s", 0);
	bad = member(g, "not-a-duration", 0);
	held = member(g, "30s", 0);
	ck_run_until_final(bad);
	ck_state(bad, JOB_FAILED);
	ck_state(run, JOB_CANCELLED);
	ck_state(held, JOB_CANCELLED);
	ck_state(done, JOB_SUCCEEDED);
	ck_assert_str_eq(run->more->error, "fail-fast: job 3 of group g failed");
	ck_assert_uint_eq(nheld(g), 0);
}
END_TEST

START_TEST(test_fail_fast_not_on_cancel)
{
	struct jobgroup	*g = group_get(UID, "g", 1);
	struct job	*a, *b;

	g->fail_fast = 1;
	a = member(g, "30s", 0);
	b = member(g, "30s", 0);
	step();
	ck_assert_int_eq(job_cancel(a, JOB_CANCELLED, 0, "test"), 1);
	ck_run_until_final(a);
	ck_state(b, JOB_RUNNING);
	/* Without fail-fast a failure cancels nothing. */
	g->fail_fast = 0;
	a = member(g, "bad", 0);
	ck_run_until_final(a);
	ck_state(a, JOB_FAILED);
	ck_state(b, JOB_RUNNING);
}
END_TEST

START_TEST(test_freed_job_leaves)
{
	struct jobgroup	*g = group_get(UID, "g", 1);
	struct job	*j = job_new();

	j->handler = handler_find("echo");
	group_add(g, j);
	ck_assert_ptr_eq(j->more->grp, g);
	ck_assert_ptr_eq(TAILQ_FIRST(&g->members), j->more);
	job_unref(j);
	ck_assert(TAILQ_EMPTY(&g->members));
}
END_TEST

static Suite *
group_suite(void)
{
	Suite	*s = suite_create("group");
	TCase	*tc;

	tc = tcase_create("group");
	tcase_add_checked_fixture(tc, loop_sched_setup, loop_sched_teardown);
	tcase_add_test(tc, test_get_per_owner);
	tcase_add_test(tc, test_parallel_holds_and_releases_in_order);
	tcase_add_test(tc, test_release_on_raised_limit);
	tcase_add_test(tc, test_fail_fast_cancels_the_rest);
	tcase_add_test(tc, test_fail_fast_not_on_cancel);
	tcase_add_test(tc, test_freed_job_leaves);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(group_suite());
	int	 nf;

	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
