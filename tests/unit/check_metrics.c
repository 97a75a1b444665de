/*
 * daemon/metrics.c: the renderer writes the Prometheus text format as
 * the format says (escaping, histograms with cumulative buckets, +Inf,
 * _sum and _count, floats), and a job's transitions are counted.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "futured.h"
#include "metrics.h"
#include "testlib.h"
#include "xmalloc.h"

/* Everything rendered, NUL-terminated; caller frees. */
static char *
render(void)
{
	struct evbuffer	*b;
	size_t		 n;
	char		*s;

	b = evbuffer_new();
	ck_assert_ptr_nonnull(b);
	metrics_render(b);
	n = evbuffer_get_length(b);
	s = xmalloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return (s);
}

static void
ck_has(const char *text, const char *line)
{
	char	*want;
	int	 found;

	xasprintf(&want, "\n%s\n", line);
	found = strstr(text, want) != NULL ||
	    strncmp(text, want + 1, strlen(want + 1)) == 0;
	if (!found)
		fprintf(stderr, "%s", text);
	ck_assert_msg(found, "no line \"%s\"", line);
	free(want);
}

START_TEST(test_format)
{
	char	 s[64];

	ck_assert_str_eq(metrics_format(0, s, sizeof(s)), "0");
	ck_assert_str_eq(metrics_format(-0.0, s, sizeof(s)), "0");
	ck_assert_str_eq(metrics_format(3, s, sizeof(s)), "3");
	ck_assert_str_eq(metrics_format(-7, s, sizeof(s)), "-7");
	ck_assert_str_eq(metrics_format(0.25, s, sizeof(s)), "0.25");
	ck_assert_str_eq(metrics_format(0.1, s, sizeof(s)), "0.1");
	ck_assert_str_eq(metrics_format(100 / 1e6, s, sizeof(s)), "0.0001");
	ck_assert_str_eq(metrics_format(1e20, s, sizeof(s)), "1e+20");
	ck_assert_str_eq(metrics_format(1.0 / 0.0, s, sizeof(s)), "+Inf");
	ck_assert_str_eq(metrics_format(-1.0 / 0.0, s, sizeof(s)), "-Inf");
	ck_assert_str_eq(metrics_format(0.0 / 0.0, s, sizeof(s)), "NaN");
	/* The fewest digits that read back the same. */
	ck_assert(strtod(metrics_format(1.0 / 3, s, sizeof(s)), NULL) ==
	    1.0 / 3);
}
END_TEST

static void
escape_cb(struct metrics_w *w, void *arg)
{
	metrics_sample(w, 1, "a", "quote \" back \\ nl \n end", "b", "",
	    (char *)NULL);
	metrics_sample_u64(w, UINT64_MAX, "a", "plain", (char *)NULL);
	metrics_sample(w, 0.5, (char *)NULL);
}

static const struct metrics_family escape_family = {
	"test_escape", METRICS_GAUGE, "Help with \\ and\na newline \"kept\".",
	escape_cb, NULL
};

START_TEST(test_escape)
{
	char	*t;

	metrics_register(&escape_family);
	t = render();
	/* In HELP, only backslash and newline are escaped. */
	ck_has(t, "# HELP test_escape Help with \\\\ and\\na newline "
	    "\"kept\".");
	ck_has(t, "# TYPE test_escape gauge");
	ck_has(t, "test_escape{a=\"quote \\\" back \\\\ nl \\n end\",b=\"\"} 1");
	ck_has(t, "test_escape{a=\"plain\"} 18446744073709551615");
	ck_has(t, "test_escape 0.5");
	free(t);
}
END_TEST

static const uint64_t test_bounds[] = { 1, 5, 10 };
static struct metrics_hist test_hist;

static void
hist_cb(struct metrics_w *w, void *arg)
{
	metrics_hist_sample(w, &test_hist, "kind", "x", (char *)NULL);
}

static const struct metrics_family hist_family = {
	"test_seconds", METRICS_HISTOGRAM, "A test histogram.", hist_cb, NULL
};

START_TEST(test_histogram)
{
	static const uint64_t	 v[] = { 0, 1, 2, 5, 11, 100 };
	char			*t;
	size_t			 i;

	metrics_hist_init(&test_hist, test_bounds, 3, 1000);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		metrics_hist_observe(&test_hist, v[i]);
	metrics_register(&hist_family);
	t = render();
	ck_has(t, "# TYPE test_seconds histogram");
	/* Cumulative: each bucket counts all at or below its bound. */
	ck_has(t, "test_seconds_bucket{kind=\"x\",le=\"0.001\"} 2");
	ck_has(t, "test_seconds_bucket{kind=\"x\",le=\"0.005\"} 4");
	ck_has(t, "test_seconds_bucket{kind=\"x\",le=\"0.01\"} 4");
	ck_has(t, "test_seconds_bucket{kind=\"x\",le=\"+Inf\"} 6");
	ck_has(t, "test_seconds_sum{kind=\"x\"} 0.119");
	ck_has(t, "test_seconds_count{kind=\"x\"} 6");
	/* The buckets come in order, +Inf last, then _sum and _count. */
	ck_assert(strstr(t, "le=\"0.01\"") < strstr(t, "le=\"+Inf\""));
	ck_assert(strstr(t, "le=\"+Inf\"") < strstr(t, "test_seconds_sum"));
	ck_assert(strstr(t, "test_seconds_sum") <
	    strstr(t, "test_seconds_count"));
	free(t);
}
END_TEST

/* The families shared/INTERFACE.md promises, with their types. */
START_TEST(test_families)
{
	static const char *const want[] = {
		"futured_jobs_submitted_total counter",
		"futured_jobs_finished_total counter",
		"futured_jobs gauge",
		"futured_job_queue_wait_seconds histogram",
		"futured_job_run_seconds histogram",
		"futured_pool_slots gauge",
		"futured_pool_busy gauge",
		"futured_worker_restarts_total counter",
		"futured_connections gauge",
		"futured_journal_fsync_seconds histogram",
	};
	char	*t, *line;
	size_t	 i;

	t = render();
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		xasprintf(&line, "# TYPE %s", want[i]);
		ck_has(t, line);
		free(line);
	}
	ck_has(t, "futured_worker_restarts_total 0");
	metrics_worker_restart();
	free(t);
	t = render();
	ck_has(t, "futured_worker_restarts_total 1");
	/* No label names a job or a user. */
	ck_assert_ptr_null(strstr(t, "id=\""));
	ck_assert_ptr_null(strstr(t, "uid=\""));
	free(t);
}
END_TEST

static void
metrics_setup_cb(void)
{
	loop_sched_setup();
}

/* A job's way through is counted: submitted, ran, finished, by outcome. */
START_TEST(test_job_counted)
{
	struct job	*j;
	char		*t;

	j = job_new();
	j->handler = handler_find("echo");
	ck_assert_ptr_nonnull(j->handler);
	j->kind = JOB_ASYNC;
	job_ref(j);
	must_insert(j);
	ck_run_until_final(j);
	ck_state(j, JOB_SUCCEEDED);
	t = render();
	ck_has(t, "futured_jobs_submitted_total{kind=\"async\","
	    "handler=\"echo\"} 1");
	ck_has(t, "futured_jobs_finished_total{kind=\"async\","
	    "handler=\"echo\",outcome=\"succeeded\"} 1");
	ck_has(t, "futured_jobs_finished_total{kind=\"async\","
	    "handler=\"echo\",outcome=\"failed\"} 0");
	ck_has(t, "futured_job_queue_wait_seconds_count{kind=\"async\"} 1");
	ck_has(t, "futured_job_run_seconds_count{kind=\"async\"} 1");
	ck_has(t, "futured_job_run_seconds_count{kind=\"cpu\"} 0");
	ck_has(t, "futured_jobs{state=\"succeeded\"} 1");
	free(t);
	job_unref(j);
}
END_TEST

/* A handler let go of: its counts go to handler="(retired)". */
START_TEST(test_handler_forget)
{
	struct job	*j;
	char		*t;

	j = job_new();
	j->handler = handler_find("echo");
	j->kind = JOB_ASYNC;
	job_ref(j);
	must_insert(j);
	ck_run_until_final(j);
	t = render();
	free(t);	/* the series exists */
	metrics_handler_forget(j->handler);
	metrics_handler_forget(j->handler);	/* once only */
	t = render();
	ck_has(t, "futured_jobs_submitted_total{kind=\"async\","
	    "handler=\"(retired)\"} 1");
	ck_has(t, "futured_jobs_finished_total{kind=\"async\","
	    "handler=\"(retired)\",outcome=\"succeeded\"} 1");
	/* Still registered here: it starts afresh at 0. */
	ck_has(t, "futured_jobs_submitted_total{kind=\"async\","
	    "handler=\"echo\"} 0");
	free(t);
	job_unref(j);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc;

	tc = tcase_create("render");
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_families);
	suite_add_tcase(s, tc);
	tc = tcase_create("hooks");
	tcase_add_checked_fixture(tc, metrics_setup_cb, loop_sched_teardown);
	tcase_add_test(tc, test_job_counted);
	tcase_add_test(tc, test_handler_forget);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(metrics_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
