/*
 * daemon/slurm_parse.c: the words and lines of Slurm's tools, and
 * futured's timeout and priority in sbatch's terms.  Linked alone,
 * without the daemon.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slurm_parse.h"

static const struct {
	const char		*word;
	enum slurm_phase	 phase;
	const char		*ended;		/* NULL: by itself */
} words[] = {
	{ "PENDING", SLURM_PENDING, "ended by Slurm" },
	{ "CONFIGURING", SLURM_PENDING, "ended by Slurm" },
	{ "REQUEUED", SLURM_PENDING, "ended by Slurm" },
	{ "REQUEUE_HOLD", SLURM_PENDING, "ended by Slurm" },
	{ "SUSPENDED", SLURM_PENDING, "ended by Slurm" },
	{ "RUNNING", SLURM_RUNNING, "ended by Slurm" },
	{ "COMPLETING", SLURM_RUNNING, "ended by Slurm" },
	{ "STAGE_OUT", SLURM_RUNNING, "ended by Slurm" },
	{ "SIGNALING", SLURM_RUNNING, "ended by Slurm" },
	{ "COMPLETED", SLURM_ENDED, NULL },
	{ "FAILED", SLURM_ENDED, NULL },
	{ "CANCELLED", SLURM_ENDED, "CANCELLED" },
	{ "TIMEOUT", SLURM_ENDED, "TIMEOUT" },
	{ "NODE_FAIL", SLURM_ENDED, "NODE_FAIL" },
	{ "OUT_OF_MEMORY", SLURM_ENDED, "OUT_OF_MEMORY" },
	{ "PREEMPTED", SLURM_ENDED, "PREEMPTED" },
	{ "BOOT_FAIL", SLURM_ENDED, "BOOT_FAIL" },
	{ "DEADLINE", SLURM_ENDED, "DEADLINE" },
	/* A newer Slurm's word: ended, and not a success. */
	{ "SOMETHING_NEW", SLURM_ENDED, "ended by Slurm" },
	{ "", SLURM_ENDED, "ended by Slurm" },
	{ "running", SLURM_ENDED, "ended by Slurm" },
};

START_TEST(test_phase)
{
	const char	*e;

	ck_assert_int_eq(slurm_phase(words[_i].word), words[_i].phase);
	if (words[_i].phase != SLURM_ENDED)
		return;
	e = slurm_ended_by(words[_i].word);
	if (words[_i].ended == NULL)
		ck_assert_ptr_null(e);
	else
		ck_assert_str_eq(e, words[_i].ended);
}
END_TEST

START_TEST(test_squeue_line)
{
	uint64_t	 id = 0;
	char		 st[16];

	ck_assert_int_eq(slurm_squeue_line("42 RUNNING", &id, st, sizeof(st)),
	    0);
	ck_assert_uint_eq(id, 42);
	ck_assert_str_eq(st, "RUNNING");
	ck_assert_int_eq(slurm_squeue_line(
	    "18446744073709551615 OUT_OF_MEMORY\n", &id, st, sizeof(st)), 0);
	ck_assert_uint_eq(id, UINT64_MAX);
	ck_assert_str_eq(st, "OUT_OF_MEMORY");
	/* Too long for the buffer: refused, not cut. */
	ck_assert_int_eq(slurm_squeue_line("7 ABCDEFGHIJKLMNOPQ", &id, st,
	    sizeof(st)), -1);
}
END_TEST

static const char *bad_squeue[] = {
	"", " 42 RUNNING", "42", "42 ", "42  RUNNING", "-42 RUNNING",
	"0 RUNNING", "42x RUNNING", "42 RUNNING extra", "42 running",
	"18446744073709551616 RUNNING", "42_1 RUNNING", "+42 RUNNING",
	"42\tRUNNING",
};

START_TEST(test_squeue_line_bad)
{
	uint64_t	 id = 7;
	char		 st[16];

	ck_assert_msg(slurm_squeue_line(bad_squeue[_i], &id, st,
	    sizeof(st)) == -1, "\"%s\" accepted", bad_squeue[_i]);
}
END_TEST

START_TEST(test_lookup_line)
{
	uint64_t	 id = 0;
	const char	*want = "futured job 5 attempt 2";

	ck_assert_int_eq(slurm_lookup_line("99 futured job 5 attempt 2", want,
	    &id), 0);
	ck_assert_uint_eq(id, 99);
	ck_assert_int_eq(slurm_lookup_line("99 futured job 5 attempt 1", want,
	    &id), -1);
	ck_assert_int_eq(slurm_lookup_line("99 futured job 5 attempt 22",
	    want, &id), -1);
	ck_assert_int_eq(slurm_lookup_line("99  futured job 5 attempt 2",
	    want, &id), -1);
	ck_assert_int_eq(slurm_lookup_line("x futured job 5 attempt 2", want,
	    &id), -1);
	ck_assert_int_eq(slurm_lookup_line("99", want, &id), -1);
}
END_TEST

static const struct {
	const char	*out;
	int		 rv;
	const char	*word;
	long		 rc;
} sacct[] = {
	{ "COMPLETED|0:0\n", 0, "COMPLETED", 0 },
	{ "FAILED|3:0\n", 0, "FAILED", 3 },
	{ "CANCELLED by 0|0:15\n", 0, "CANCELLED", 0 },
	{ "TIMEOUT|0:1\nTIMEOUT|0:1\n", 0, "TIMEOUT", 0 },
	{ "OUT_OF_MEMORY|0:125", 0, "OUT_OF_MEMORY", 0 },
	{ "NODE_FAIL|", 0, "NODE_FAIL", -1 },
	{ "FAILED|300:0", 0, "FAILED", -1 },
	{ "FAILED|-1:0", 0, "FAILED", -1 },
	{ "FAILED|x", 0, "FAILED", -1 },
	{ "", -1, NULL, -1 },
	{ "\n", -1, NULL, -1 },
	{ "|0:0", -1, NULL, -1 },
	{ "COMPLETED 0:0", -1, NULL, -1 },
	{ "\nCOMPLETED|0:0", -1, NULL, -1 },
};

START_TEST(test_sacct_line)
{
	char	*out = strdup(sacct[_i].out), *word = NULL;
	long	 rc = 42;

	ck_assert_int_eq(slurm_sacct_line(out, &word, &rc), sacct[_i].rv);
	ck_assert_int_eq(rc, sacct[_i].rc);
	if (sacct[_i].word != NULL)
		ck_assert_str_eq(word, sacct[_i].word);
	free(out);
}
END_TEST

START_TEST(test_time_minutes)
{
	ck_assert_int_eq(slurm_time_minutes(0), 0);
	ck_assert_int_eq(slurm_time_minutes(-5), 0);
	/* Rounded up, and one more: never before futured's own timer. */
	ck_assert_int_eq(slurm_time_minutes(1), 2);
	ck_assert_int_eq(slurm_time_minutes(2000), 2);
	ck_assert_int_eq(slurm_time_minutes(60000), 2);
	ck_assert_int_eq(slurm_time_minutes(60001), 3);
	ck_assert_int_eq(slurm_time_minutes(120000), 3);
	ck_assert_int_eq(slurm_time_minutes(INT64_C(86400000)), 1441);
}
END_TEST

START_TEST(test_nice)
{
	int	 n = 99, p;

	/* Privileged: the priority itself, 0 giving no --nice. */
	ck_assert_int_eq(slurm_nice(0, 0, 1, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(slurm_nice(-5, 0, 1, &n), 1);
	ck_assert_int_eq(n, -5);
	ck_assert_int_eq(slurm_nice(5, 0, 1, &n), 1);
	ck_assert_int_eq(n, 5);
	/* Unprivileged: no negative nice; what would be is 0. */
	ck_assert_int_eq(slurm_nice(-5, 0, 0, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(slurm_nice(20, 0, 0, &n), 1);
	ck_assert_int_eq(n, 20);
	/* A base of 20 keeps all 41 in order without privilege. */
	for (p = -20; p <= 20; p++) {
		ck_assert_int_eq(slurm_nice(p, 20, 0, &n), p != -20);
		ck_assert_int_eq(n, 20 + p);
	}
	/* A negative base, for a privileged daemon: all of them first. */
	ck_assert_int_eq(slurm_nice(0, -100, 1, &n), 1);
	ck_assert_int_eq(n, -100);
	ck_assert_int_eq(slurm_nice(20, -100, 0, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(slurm_nice(-20, SLURM_NICE_BASE_MAX, 0, &n), 1);
	ck_assert_int_eq(n, SLURM_NICE_BASE_MAX - 20);
}
END_TEST

static Suite *
slurm_parse_suite(void)
{
	Suite	*s = suite_create("slurm_parse");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_phase, 0, sizeof(words) /
	    sizeof(words[0]));
	tcase_add_test(tc, test_squeue_line);
	tcase_add_loop_test(tc, test_squeue_line_bad, 0, sizeof(bad_squeue) /
	    sizeof(bad_squeue[0]));
	tcase_add_test(tc, test_lookup_line);
	tcase_add_loop_test(tc, test_sacct_line, 0, sizeof(sacct) /
	    sizeof(sacct[0]));
	tcase_add_test(tc, test_time_minutes);
	tcase_add_test(tc, test_nice);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(slurm_parse_suite());
	int	 nfail;

	srunner_run_all(sr, CK_ENV);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
