/*
 * daemon/handlers/exec_progress.c: the lines a command writes on
 * FUTURED_PROGRESS_FD, parsed, folded per read, bounded.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/exec_progress.h"

static const struct {
	const char	*line;
	double		 fraction;
	const char	*msg;		/* NULL: none */
} good[] = {
	{ "0.42 parsing", 0.42, "parsing" },
	{ "42/100 parsing files", 0.42, "parsing files" },
	{ "0", 0, NULL },
	{ "1", 1, NULL },
	{ "1.0", 1, NULL },
	{ ".5", 0.5, NULL },
	{ "0/3", 0, NULL },
	{ "3/3 done", 1, "done" },
	{ "  0.25\tstep two  \r", 0.25, "step two" },
	{ "0.5 two  words", 0.5, "two  words" },
	{ "1/4 ünïcödé", 0.25, "ünïcödé" },
};

static const char *bad[] = {
	"", "abc", "1.5", "-0.1", "+0.5", "1e-1", "nan", "inf", "0x1",
	"50%", "0,5", "1/0", "5/4", "/4", "1/", "1//2", "0.5.1", ".",
	"1/-2", "a/b text", "0.5x text",
};

START_TEST(test_parse_good)
{
	char		 buf[256];
	const char	*msg = (const char *)1;
	double		 f = -1;

	strcpy(buf, good[_i].line);
	ck_assert_msg(exec_progress_parse(buf, &f, &msg) == 0,
	    "\"%s\" refused", good[_i].line);
	ck_assert_double_eq_tol(f, good[_i].fraction, 1e-9);
	if (good[_i].msg == NULL)
		ck_assert_ptr_null(msg);
	else
		ck_assert_str_eq(msg, good[_i].msg);
}
END_TEST

START_TEST(test_parse_bad)
{
	char		 buf[256];
	const char	*msg;
	double		 f;

	strcpy(buf, bad[_i]);
	ck_assert_msg(exec_progress_parse(buf, &f, &msg) == -1,
	    "\"%s\" accepted", bad[_i]);
}
END_TEST

START_TEST(test_parse_above_one)
{
	char		 buf[] = "5.";
	const char	*msg;
	double		 f;

	ck_assert_int_eq(exec_progress_parse(buf, &f, &msg), -1);
}
END_TEST

static struct exec_progress *
pr_new(void)
{
	struct exec_progress	*pr = calloc(1, sizeof(*pr));

	ck_assert_ptr_nonnull(pr);
	return (pr);
}

/* Lines split across reads, and several in one: the last one counts. */
START_TEST(test_feed_folds)
{
	struct exec_progress	*pr = pr_new();
	const char		*msg;
	double			 f;

	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 0);
	exec_progress_feed(pr, "0.1 one\n0.", 10);
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 1);
	ck_assert_double_eq_tol(f, 0.1, 1e-9);
	ck_assert_str_eq(msg, "one");
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 0);
	exec_progress_feed(pr, "2\n3/10 three\n4/10\n", 18);
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 1);
	ck_assert_double_eq_tol(f, 0.4, 1e-9);
	/* The last message of the read, though its last line had none. */
	ck_assert_str_eq(msg, "three");
	exec_progress_feed(pr, "0.5\n", 4);
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 1);
	ck_assert_ptr_null(msg);	/* unchanged */
	ck_assert_uint_eq(pr->good, 5);
	ck_assert_uint_eq(pr->bad, 0);
	free(pr);
}
END_TEST

/* Malformed lines are counted and change nothing; blank ones are not. */
START_TEST(test_feed_bad_lines)
{
	struct exec_progress	*pr = pr_new();
	const char		*msg;
	double			 f;
	const char		*in = "0.3 ok\nhello\x1b[2J world\n\n  \n2.0 no\n";

	exec_progress_feed(pr, in, strlen(in));
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 1);
	ck_assert_double_eq_tol(f, 0.3, 1e-9);
	ck_assert_str_eq(msg, "ok");
	ck_assert_uint_eq(pr->bad, 2);
	ck_assert_uint_eq(pr->good, 1);
	/* Logged as printable ASCII. */
	ck_assert_str_eq(pr->first_bad, "hello?[2J world");
	free(pr);
}
END_TEST

/* A line past the bound is cut there; the next line is whole again. */
START_TEST(test_feed_long_line)
{
	struct exec_progress	*pr = pr_new();
	const char		*msg;
	char			*big;
	double			 f;
	size_t			 n = 100000, i;

	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "0.7 ", 4);
	/* "é" (2 bytes) over and over: the cut may fall inside one. */
	for (i = 4; i + 1 < n; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	for (i = 0; i < n; i += 1000)
		exec_progress_feed(pr, big + i, n - i < 1000 ? n - i : 1000);
	exec_progress_feed(pr, "\n", 1);
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 1);
	ck_assert_double_eq_tol(f, 0.7, 1e-9);
	ck_assert_uint_lt(strlen(msg), EXEC_PROGRESS_LINE_MAX);
	ck_assert_uint_gt(strlen(msg), EXEC_PROGRESS_LINE_MAX - 10);
	/* Whole characters only. */
	ck_assert_uint_eq(strlen(msg) % 2, 0);
	for (i = 0; msg[i] != '\0'; i += 2)
		ck_assert(memcmp(msg + i, "\xc3\xa9", 2) == 0);
	exec_progress_feed(pr, "0.8 next\n", 9);
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 1);
	ck_assert_double_eq_tol(f, 0.8, 1e-9);
	ck_assert_str_eq(msg, "next");
	ck_assert_uint_eq(pr->bad, 0);
	free(big);
	free(pr);
}
END_TEST

/* The last line needs no newline. */
START_TEST(test_eof_last_line)
{
	struct exec_progress	*pr = pr_new();
	const char		*msg;
	double			 f;

	exec_progress_feed(pr, "9/10 almost", 11);
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 0);
	exec_progress_eof(pr);
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 1);
	ck_assert_double_eq_tol(f, 0.9, 1e-9);
	ck_assert_str_eq(msg, "almost");
	exec_progress_eof(pr);
	ck_assert_int_eq(exec_progress_take(pr, &f, &msg), 0);
	free(pr);
}
END_TEST

static Suite *
exec_progress_suite(void)
{
	Suite	*s = suite_create("exec_progress");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_good, 0,
	    sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_parse_bad, 0,
	    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_parse_above_one);
	suite_add_tcase(s, tc);

	tc = tcase_create("feed");
	tcase_add_test(tc, test_feed_folds);
	tcase_add_test(tc, test_feed_bad_lines);
	tcase_add_test(tc, test_feed_long_line);
	tcase_add_test(tc, test_eof_last_line);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(exec_progress_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
