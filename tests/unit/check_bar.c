/*
 * client/bar.c: futurectl's progress bar, its line and its rules
 * (nothing in the first half second, at most ten draws a second, only
 * on a terminal that can, out of the way of output), on a clock the
 * test moves itself.
 */

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bar.h"

static int	 pfd[2];

/* What the bar wrote since the last call. */
static const char *
drawn(void)
{
	static char	 buf[65536];
	ssize_t		 n;

	n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return (buf);
}

static void
setup(void)
{
	ck_assert_int_eq(pipe2(pfd, O_NONBLOCK), 0);
}

static void
teardown(void)
{
	close(pfd[0]);
	close(pfd[1]);
}

START_TEST(test_wanted)
{
	int	 m, s;

	ck_assert_int_eq(bar_wanted(pfd[1], "xterm"), 0);
	m = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bar_wanted(s, "xterm-256color"), 1);
	ck_assert_int_eq(bar_wanted(s, "dumb"), 0);
	ck_assert_int_eq(bar_wanted(s, ""), 0);
	ck_assert_int_eq(bar_wanted(s, NULL), 0);
	close(s);
	close(m);
}
END_TEST

START_TEST(test_duration)
{
	char	 buf[32];

	bar_duration(buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "0s");
	bar_duration(buf, sizeof(buf), 59999);
	ck_assert_str_eq(buf, "59s");
	bar_duration(buf, sizeof(buf), 64000);
	ck_assert_str_eq(buf, "1m04s");
	bar_duration(buf, sizeof(buf), 3599000);
	ck_assert_str_eq(buf, "59m59s");
	bar_duration(buf, sizeof(buf), 7500000);
	ck_assert_str_eq(buf, "2h05m");
	bar_duration(buf, sizeof(buf), -5);
	ck_assert_str_eq(buf, "0s");
}
END_TEST

START_TEST(test_format)
{
	char	 buf[256];

	bar_format(buf, sizeof(buf), 80, "running", 0.5, "parsing", 64000);
	ck_assert_str_eq(buf, "running [===============>              ]  "
	    "50% 1m04s ETA 1m04s parsing");
	/* Not known: no bar, no percentage, no ETA. */
	bar_format(buf, sizeof(buf), 80, "queued", -1, NULL, 3000);
	ck_assert_str_eq(buf, "queued 3s");
	/* Done: full, no ETA; none either in the first second. */
	bar_format(buf, sizeof(buf), 60, "3/3 done", 1, NULL, 5000);
	ck_assert_str_eq(buf, "3/3 done [==============================] 100% 5s");
	bar_format(buf, sizeof(buf), 80, "running", 0.1, NULL, 900);
	ck_assert_ptr_null(strstr(buf, "ETA"));
	bar_format(buf, sizeof(buf), 80, "running", 0, NULL, 9000);
	ck_assert_ptr_null(strstr(buf, "ETA"));
	ck_assert_ptr_nonnull(strstr(buf, "[>"));
}
END_TEST

/* Several jobs: their mean, 100% only once every one has ended. */
START_TEST(test_mean)
{
	char	 buf[256];

	ck_assert(bar_mean(1, 1, 2) == 0.5);
	ck_assert(bar_mean(0.5, 0, 4) == 0.125);
	/* Two running jobs that both say they are all but done. */
	ck_assert(bar_mean(2, 0, 2) < 1);
	bar_format(buf, sizeof(buf), 60, "0/2 done", bar_mean(2, 0, 2), NULL,
	    5000);
	ck_assert_ptr_nonnull(strstr(buf, "  99% "));
	ck_assert_ptr_nonnull(strstr(buf, "=>]"));
	ck_assert(bar_mean(1.999, 1, 2) < 1);
	ck_assert(bar_mean(2, 2, 2) == 1);
	ck_assert(bar_mean(0, 3, 3) == 1);
	bar_format(buf, sizeof(buf), 60, "2/2 done", bar_mean(2, 2, 2), NULL,
	    5000);
	ck_assert_ptr_nonnull(strstr(buf, " 100% "));
}
END_TEST

/* Whatever the width and the message, one safe line that fits. */
START_TEST(test_format_fits)
{
	static const char *msgs[] = {
		NULL, "", "short",
		"a rather long message that goes on and on and on about "
		    "what the job is doing at the moment, and then some more",
		"esc\033[2J and\ttab and\nnewline and \x7f del",
		"\xc3\xa9t\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2\xe5"
		    "\xad\x97 \xff\xfe bad \xc2\x85 c1 \xe2\x82",
	};
	char	 buf[2048];
	size_t	 i, n, k, cols;
	int	 w;

	for (cols = 1; cols < 200; cols++) {
		for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
			n = bar_format(buf, sizeof(buf), cols, "12/345 done",
			    0.37, msgs[i], 4000000);
			ck_assert_uint_eq(n, strlen(buf));
			/* Columns: a wide character counts two. */
			for (k = 0, w = 0; k < n; k++) {
				ck_assert_msg((unsigned char)buf[k] >= 0x20 &&
				    buf[k] != 0x7f, "control byte in \"%s\"",
				    buf);
				if (((unsigned char)buf[k] & 0xc0) != 0x80)
					w += (unsigned char)buf[k] >= 0xe0 ?
					    2 : 1;
			}
			ck_assert_msg(w <= (int)cols - 1 || cols == 1,
			    "%d columns in %zu: \"%s\"", w, cols, buf);
		}
	}
	/* The message gets what is left; the bar narrows for it. */
	bar_format(buf, sizeof(buf), 80, "running", 0.5,
	    "a message of forty characters, exactly..", 1000);
	ck_assert_ptr_nonnull(strstr(buf, " a message of forty characters, "
	    "exactly.."));
	ck_assert_ptr_nonnull(strstr(buf, "[======>      ]"));
	ck_assert_uint_eq(strlen(buf), 79);
	/* Down to its minimum, then the message is cut. */
	bar_format(buf, sizeof(buf), 60, "running", 0.5,
	    "a message of forty characters, exactly..", 1000);
	ck_assert_ptr_nonnull(strstr(buf, "[====>   ]"));
	ck_assert_ptr_nonnull(strstr(buf, " a message of"));
	ck_assert_ptr_null(strstr(buf, "exactly"));
	bar_format(buf, sizeof(buf), 80, "running", 0.5, "a\033b", 1000);
	ck_assert_ptr_nonnull(strstr(buf, " a?b"));
}
END_TEST

/* Nothing in the first half second, even with news. */
START_TEST(test_delay)
{
	struct bar	 b;
	int64_t		 t = 1000000;

	bar_init(&b, pfd[1], 1, t);
	ck_assert_int_eq(bar_tick(&b, t), 0);	/* nothing to show yet */
	ck_assert_int_eq(bar_due(&b, t), -1);
	bar_set(&b, "running", 0.1, "m", t);
	ck_assert_int_eq(bar_due(&b, t + 100), 400);
	ck_assert_int_eq(bar_tick(&b, t + 100), 0);
	ck_assert_int_eq(bar_tick(&b, t + 499), 0);
	ck_assert_str_eq(drawn(), "");
	ck_assert_int_eq(bar_due(&b, t + 500), 0);
	ck_assert_int_eq(bar_tick(&b, t + 500), 1);
	ck_assert_str_eq(drawn(), "\rrunning [===>                          ]"
	    "  10% 0s m\033[K");
	bar_end(&b);
}
END_TEST

/* News every millisecond for three seconds: at most ten draws each. */
START_TEST(test_rate)
{
	struct bar	 b;
	int64_t		 t0 = 5000, t;
	char		 msg[32];
	int		 drew = 0, last = -1000;

	bar_init(&b, pfd[1], 1, t0);
	for (t = t0; t < t0 + 3500; t++) {
		snprintf(msg, sizeof(msg), "step %d", (int)t);
		bar_set(&b, "running", (double)(t - t0) / 4000, msg, t0);
		if (bar_tick(&b, t)) {
			ck_assert_int_ge(t - last, BAR_INTERVAL_MS);
			last = (int)t;
			drew++;
			(void)drawn();
		}
	}
	/* 3 s after the first 0.5: 30 draws, the first at 0.5 s. */
	ck_assert_int_eq(drew, 30);
	ck_assert_uint_eq(b.draws, 30);
	bar_end(&b);
}
END_TEST

/* Without news, the clock is redrawn once a second, no more. */
START_TEST(test_tick)
{
	struct bar	 b;
	int64_t		 t = 0;

	bar_init(&b, pfd[1], 1, t);
	bar_set(&b, "queued", -1, NULL, t);
	ck_assert_int_eq(bar_tick(&b, 600), 1);
	ck_assert_int_eq(bar_due(&b, 700), 900);
	ck_assert_int_eq(bar_tick(&b, 700), 0);
	ck_assert_int_eq(bar_tick(&b, 1599), 0);
	ck_assert_int_eq(bar_tick(&b, 1600), 1);
	ck_assert_ptr_nonnull(strstr(drawn(), "queued 1s"));
	/* News: due after the interval, not the second. */
	bar_set(&b, "running", -1, NULL, t);
	ck_assert_int_eq(bar_due(&b, 1650), 50);
	ck_assert_int_eq(bar_tick(&b, 1700), 1);
	/* The same again is no news. */
	bar_set(&b, "running", -1, NULL, t);
	ck_assert_int_eq(bar_tick(&b, 1800), 0);
	bar_end(&b);
}
END_TEST

/* Cleared before output, drawn again after; never over a half line. */
START_TEST(test_output)
{
	struct bar	 b;

	bar_init(&b, pfd[1], 1, 0);
	bar_clear(&b);
	ck_assert_str_eq(drawn(), "");		/* nothing shown: nothing */
	bar_set(&b, "running", 0.5, NULL, 0);
	ck_assert_int_eq(bar_tick(&b, 500), 1);
	(void)drawn();
	bar_clear(&b);
	ck_assert_str_eq(drawn(), "\r\033[K");
	bar_output(&b, "line\n", 5);
	ck_assert_int_eq(bar_tick(&b, 550), 0);	/* the interval holds */
	ck_assert_int_eq(bar_due(&b, 550), 50);
	ck_assert_int_eq(bar_tick(&b, 600), 1);
	ck_assert_ptr_nonnull(strstr(drawn(), "running"));
	bar_clear(&b);
	(void)drawn();
	bar_output(&b, "prompt> ", 8);
	ck_assert_int_eq(bar_due(&b, 2000), -1);
	ck_assert_int_eq(bar_tick(&b, 2000), 0);
	ck_assert_str_eq(drawn(), "");
	bar_output(&b, "answer\n", 7);
	ck_assert_int_eq(bar_tick(&b, 2000), 1);
	(void)drawn();
	bar_end(&b);
	ck_assert_str_eq(drawn(), "\r\033[K");
}
END_TEST

/* Off: never a byte; ended: off the line, and never again. */
START_TEST(test_off)
{
	struct bar	 b;

	bar_init(&b, pfd[1], 0, 0);
	bar_set(&b, "running", 0.5, "m", 0);
	ck_assert_int_eq(bar_tick(&b, 10000), 0);
	ck_assert_int_eq(bar_due(&b, 10000), -1);
	bar_clear(&b);
	ck_assert_str_eq(drawn(), "");
	bar_end(&b);

	bar_init(&b, pfd[1], 1, 0);
	bar_set(&b, "running", 0.5, "m", 0);
	ck_assert_int_eq(bar_tick(&b, 1000), 1);
	(void)drawn();
	bar_end(&b);
	ck_assert_str_eq(drawn(), "\r\033[K");
	bar_set(&b, "running", 0.6, "m", 0);
	ck_assert_int_eq(bar_tick(&b, 5000), 0);
	bar_end(&b);
}
END_TEST

static Suite *
bar_suite(void)
{
	Suite	*s = suite_create("bar");
	TCase	*tc;

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wanted);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_mean);
	tcase_add_test(tc, test_format_fits);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_delay);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_tick);
	tcase_add_test(tc, test_output);
	tcase_add_test(tc, test_off);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(bar_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
