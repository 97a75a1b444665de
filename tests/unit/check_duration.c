/*
 * common/duration.c: durations as users type them, exact in
 * milliseconds, and formatted back in a form the parser takes.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

static const struct {
	const char	*s;
	int64_t		 ms;
} good[] = {
	{ "250ms", 250 },
	{ "10s", 10000 },
	{ "1.5m", 90000 },
	{ "2h", 7200000 },
	{ "5", 5000 },
	{ "0.25", 250 },
	{ "0", 0 },
	{ "0ms", 0 },
	{ "1.5s", 1500 },
	{ "0.001", 1 },
	{ "007s", 7000 },
};

static const char *bad[] = {
	"", "5x", "-1", "+1", "1e3", " 5", "5 ", "ms", ".", "inf", "nan",
	"1.5.2", "99999999999999999999", "5sec", "5S", "1,5", "5m5s", "0x10",
};

START_TEST(test_parse_accepts)
{
	int64_t	 ms = -1;

	ck_assert_msg(duration_parse(good[_i].s, &ms) == 0, "\"%s\" refused",
	    good[_i].s);
	ck_assert_int_eq(ms, good[_i].ms);
}
END_TEST

START_TEST(test_parse_rejects)
{
	int64_t	 ms = 12345;

	ck_assert_msg(duration_parse(bad[_i], &ms) == -1, "\"%s\" accepted",
	    bad[_i]);
	/* A refused string leaves the result alone. */
	ck_assert_int_eq(ms, 12345);
}
END_TEST

START_TEST(test_parse_null)
{
	int64_t	 ms;

	ck_assert_int_eq(duration_parse(NULL, &ms), -1);
}
END_TEST

START_TEST(test_parse_overflow_with_unit)
{
	int64_t	 ms;

	/* Fits as a number of ms, not once multiplied by the unit. */
	ck_assert_int_eq(duration_parse("9007199254740993ms", &ms), -1);
	ck_assert_int_eq(duration_parse("9007199254740992h", &ms), -1);
	ck_assert_int_eq(duration_parse("9999999999999h", &ms), -1);
	ck_assert_int_eq(duration_parse("9007199254740992ms", &ms), 0);
	ck_assert_int_eq(ms, INT64_C(9007199254740992));
}
END_TEST

START_TEST(test_format_forms)
{
	char	 buf[32];

	ck_assert_str_eq(duration_format(250, buf, sizeof(buf)), "250ms");
	ck_assert_str_eq(duration_format(1500, buf, sizeof(buf)), "1500ms");
	ck_assert_str_eq(duration_format(10000, buf, sizeof(buf)), "10s");
	ck_assert_str_eq(duration_format(90000, buf, sizeof(buf)), "90s");
	ck_assert_str_eq(duration_format(60000, buf, sizeof(buf)), "1m");
	ck_assert_str_eq(duration_format(7200000, buf, sizeof(buf)), "2h");
	ck_assert_str_eq(duration_format(5400000, buf, sizeof(buf)), "90m");
	ck_assert_str_eq(duration_format(0, buf, sizeof(buf)), "0s");
}
END_TEST

START_TEST(test_format_round_trips)
{
	static const int64_t	 vals[] = {
		0, 1, 50, 250, 999, 1000, 1001, 1500, 10000, 59999, 60000,
		90000, 3599999, 3600000, 5400000, 7200000, 86400000,
		INT64_C(1) << 40, INT64_C(1) << 53
	};
	char			 buf[32];
	int64_t			 ms;
	size_t			 i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		duration_format(vals[i], buf, sizeof(buf));
		ck_assert_msg(duration_parse(buf, &ms) == 0,
		    "%lld formatted as unparsable \"%s\"",
		    (long long)vals[i], buf);
		ck_assert_int_eq(ms, vals[i]);
	}
}
END_TEST

static Suite *
duration_suite(void)
{
	Suite	*s = suite_create("duration");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_accepts, 0,
	    sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_parse_rejects, 0,
	    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_parse_null);
	tcase_add_test(tc, test_parse_overflow_with_unit);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format_forms);
	tcase_add_test(tc, test_format_round_trips);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(duration_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
