/*
 * daemon/supervise.c without processes: the back-off's arithmetic, and
 * what supervise_init() refuses of futured.conf's pools (a user outside
 * --system, no user with it, a program not found), naming file and line.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"

/* Defined by daemon/main.c, which the tests do not link. */
struct settings		 settings;
struct event_base	*base;

START_TEST(test_backoff)
{
	u_int	 i;

	ck_assert_int_eq(supervise_backoff_ms(0), 0);
	ck_assert_int_eq(supervise_backoff_ms(1), SUP_BACKOFF_MIN_MS);
	ck_assert_int_eq(supervise_backoff_ms(2), 2 * SUP_BACKOFF_MIN_MS);
	ck_assert_int_eq(supervise_backoff_ms(3), 4 * SUP_BACKOFF_MIN_MS);
	/* Doubling up to the bound, then the bound for ever: no overflow. */
	for (i = 2; i < 1000; i++) {
		ck_assert_int_ge(supervise_backoff_ms(i),
		    supervise_backoff_ms(i - 1));
		ck_assert_int_le(supervise_backoff_ms(i), SUP_BACKOFF_MAX_MS);
	}
	ck_assert_int_eq(supervise_backoff_ms(20), SUP_BACKOFF_MAX_MS);
	ck_assert_int_eq(supervise_backoff_ms(UINT32_MAX), SUP_BACKOFF_MAX_MS);
	/* 100 ms doubled: 30 s is reached at the tenth death in a row. */
	ck_assert_int_lt(supervise_backoff_ms(9), SUP_BACKOFF_MAX_MS);
	ck_assert_int_eq(supervise_backoff_ms(10), SUP_BACKOFF_MAX_MS);
}
END_TEST

static struct sup_conf *
conf(const char *name, const char *prog, u_int line)
{
	struct sup_conf	*sc;
	char		*cause = NULL;

	sc = supervise_conf_add(name, "/etc/f.conf", line, &cause);
	ck_assert_ptr_nonnull(sc);
	sc->argv = calloc(2, sizeof(*sc->argv));
	sc->argv[0] = strdup(prog);
	return (sc);
}

static void
setup(void)
{
	memset(&settings, 0, sizeof(settings));
	settings.procs = 2;
}

static void
teardown(void)
{
	supervise_free();
}

START_TEST(test_init_refuses)
{
	struct sup_conf	*sc;
	char		*cause = NULL;

	/* A user or owners need --system. */
	sc = conf("a", "sh", 3);
	sc->user = strdup("nobody");
	sc->lines[4] = 4;
	ck_assert_int_eq(supervise_init(&cause), -1);
	ck_assert_str_eq(cause, "/etc/f.conf:4: pool-user.a needs --system");
	free(cause);
	supervise_conf_clear();

	/* --system and no user: never root by default. */
	settings.system = 1;
	conf("b", "sh", 7);
	ck_assert_int_eq(supervise_init(&cause), -1);
	ck_assert_str_eq(cause, "/etc/f.conf:7: pool b needs a "
	    "pool-user.b with --system");
	free(cause);
	supervise_conf_clear();

	sc = conf("c", "sh", 2);
	sc->user = strdup("no-such-user-here");
	sc->lines[4] = 5;
	ck_assert_int_eq(supervise_init(&cause), -1);
	ck_assert_str_eq(cause, "/etc/f.conf:5: pool-user.c: no user "
	    "\"no-such-user-here\"");
	free(cause);
	supervise_conf_clear();
	settings.system = 0;

	conf("d", "no-such-program-futured", 9);
	ck_assert_int_eq(supervise_init(&cause), -1);
	ck_assert_str_eq(cause, "/etc/f.conf:9: pool d: "
	    "no-such-program-futured: not found in PATH");
	free(cause);
	supervise_conf_clear();
}
END_TEST

START_TEST(test_init_accepts)
{
	char	*cause = NULL;

	conf("e", "sh", 1);
	ck_assert_int_eq(supervise_init(&cause), 0);
	ck_assert_ptr_null(supervise_conf_find("e"));	/* taken over */
}
END_TEST

static void
count_cb(const struct sup_stats *st, void *arg)
{
	const struct sup_stats	**out = arg;

	ck_assert_str_eq(st->name, "f");
	ck_assert_str_eq(st->state, "starting");
	ck_assert_uint_eq(st->size, 2);		/* -P's */
	ck_assert_uint_eq(st->alive, 0);
	ck_assert_int_eq(st->respawn_ms, -1);
	*out = st;
}

START_TEST(test_stats_before_start)
{
	const struct sup_stats	*seen = NULL;
	char			*cause = NULL;

	conf("f", "/bin/sh", 1);
	ck_assert_int_eq(supervise_init(&cause), 0);
	supervise_foreach(count_cb, &seen);
	ck_assert_ptr_nonnull(seen);
}
END_TEST

static Suite *
supervise_suite(void)
{
	Suite	*s = suite_create("supervise");
	TCase	*tc;

	tc = tcase_create("backoff");
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);

	tc = tcase_create("init");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_init_refuses);
	tcase_add_test(tc, test_init_accepts);
	tcase_add_test(tc, test_stats_before_start);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(supervise_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
