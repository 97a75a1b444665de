/*
 * daemon/child.c: the start time that, with a pid, names one process
 * for good (a restarted daemon kills a command's group only while its
 * leader is that very process).
 */

#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"

extern char	**environ;

/* Field 22 of /proc/PID/stat, the plain way: the 20th after the name. */
static unsigned long long
stat_field22(pid_t pid)
{
	char			 path[64], buf[1024], *p, *tok, *save;
	unsigned long long	 v = 0;
	FILE			*f;
	int			 i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_ptr_nonnull(p = strrchr(buf, ')'));
	tok = strtok_r(p + 1, " ", &save);
	for (i = 3; i < 22 && tok != NULL; i++)
		tok = strtok_r(NULL, " ", &save);
	ck_assert_ptr_nonnull(tok);
	sscanf(tok, "%llu", &v);
	return (v);
}

START_TEST(test_start_time_of_self)
{
	uint64_t	 st;

	ck_assert_int_eq(child_start_time(getpid(), &st), 0);
	ck_assert_uint_eq(st, stat_field22(getpid()));
}
END_TEST

/* The name may hold spaces and parentheses: fields count after it. */
START_TEST(test_start_time_odd_name)
{
	uint64_t	 st;

	ck_assert_int_eq(prctl(PR_SET_NAME, "a) 1 2 (b"), 0);
	ck_assert_int_eq(child_start_time(getpid(), &st), 0);
	ck_assert_uint_eq(st, stat_field22(getpid()));
}
END_TEST

/* A child started after us: never earlier, and stable while it lives. */
START_TEST(test_start_time_of_child)
{
	char		*argv[] = { (char *)"sleep", (char *)"10", NULL };
	uint64_t	 self, a, b;
	pid_t		 pid;
	int		 status;

	ck_assert_int_eq(posix_spawnp(&pid, "sleep", NULL, NULL, argv,
	    environ), 0);
	ck_assert_int_eq(child_start_time(getpid(), &self), 0);
	ck_assert_int_eq(child_start_time(pid, &a), 0);
	ck_assert_int_eq(child_start_time(pid, &b), 0);
	ck_assert_uint_ge(a, self);
	ck_assert_uint_eq(a, b);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* Reaped: gone, so no start time to match. */
	ck_assert_int_eq(child_start_time(pid, &a), -1);
}
END_TEST

START_TEST(test_start_time_no_such_process)
{
	uint64_t	 st;

	ck_assert_int_eq(child_start_time(INT_MAX, &st), -1);
}
END_TEST

static Suite *
child_suite(void)
{
	Suite	*s = suite_create("child");
	TCase	*tc;

	tc = tcase_create("start_time");
	tcase_add_test(tc, test_start_time_of_self);
	tcase_add_test(tc, test_start_time_odd_name);
	tcase_add_test(tc, test_start_time_of_child);
	tcase_add_test(tc, test_start_time_no_such_process);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(child_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
