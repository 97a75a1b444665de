/*
 * daemon/joblog.c: whole logs.  A job's output through job_output()
 * lands whole in DIR/ID.out and .err, past what the job keeps; reads
 * from an offset; a failed write is logged once and stops the file,
 * never the job, and marks it so that a restart still says so;
 * retention removes the files; the start-up sweep keeps the files of
 * known jobs (appended to, not truncated) and removes the others'; the
 * descriptors are a bounded cache.
 */

#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "testlib.h"
#include "xmalloc.h"

static char	 dir[64];

/* t_log: 3000 bytes of output (more than the 1024 kept), then "oops". */
static int
tlog_start(struct fut_handler_ctx *ctx)
{
	char	 b[1000];
	int	 i;

	for (i = 0; i < 3; i++) {
		memset(b, 'a' + i % 26, sizeof(b));
		fut_handler_output(ctx, b, sizeof(b));
	}
	fut_handler_stderr(ctx, "oops", 4);
	fut_handler_done(ctx, 0);
	return (0);
}

static const struct fut_handler handler_tlog = {
	.abi = FUT_HANDLER_ABI,
	.name = "t_log",
	.description = "3000 bytes out, oops on stderr",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.start = tlog_start,
};

static int	 fail_calls;

static ssize_t
fail_write(int fd, const void *p, size_t len)
{
	fail_calls++;
	errno = ENOSPC;
	return (-1);
}

static void
rm_dir(void)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	rmdir(dir);
}

static void
setup(void)
{
	char	*cause = NULL;

	loop_sched_setup();
	if (handler_find(handler_tlog.name) == NULL)
		ck_assert_msg(handler_register(&handler_tlog, &cause) == 0,
		    "%s", cause);
	snprintf(dir, sizeof(dir), "/tmp/check_joblog.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	joblog_write_fn = write;
	fail_calls = 0;
}

static void
teardown(void)
{
	loop_sched_teardown();
	joblog_shutdown();
	rm_dir();
}

static void
must_init(void)
{
	char	*cause = NULL;

	ck_assert_msg(joblog_init(dir, &cause) == 0, "%s", cause);
}

static struct job *
must_job(const char *handler)
{
	struct job	*j;

	j = job_new();
	j->handler = handler_find(handler);
	ck_assert_ptr_nonnull(j->handler);
	j->kind = JOB_ASYNC;
	return (must_insert(j));
}

/* The whole log of j into b (of len), its length returned. */
static size_t
read_all(struct job *j, int err, char *b, size_t len, int *truncated)
{
	ssize_t	 n;

	n = joblog_read(j, err, 0, b, len, truncated);
	ck_assert_int_ge(n, 0);
	return ((size_t)n);
}

static int
exists(uint64_t id, const char *ext)
{
	char	 p[128];

	snprintf(p, sizeof(p), "%s/%llu.%s", dir, (unsigned long long)id, ext);
	return (access(p, F_OK) == 0);
}

START_TEST(test_whole_output_past_the_kept)
{
	struct job	*j;
	struct stat	 st;
	char		 b[4096], p[128];
	size_t		 n;
	int		 trunc;

	must_init();
	j = must_job("t_log");
	ck_run_until_final(j);
	ck_state(j, JOB_SUCCEEDED);
	/* The job keeps its first 1024 bytes; the log has all 3000. */
	ck_assert_uint_eq(j->more->output.len, 1024);
	ck_assert(j->more->output.truncated);
	n = read_all(j, 0, b, sizeof(b), &trunc);
	ck_assert_uint_eq(n, 3000);
	ck_assert(!trunc);
	ck_assert_int_eq(b[0], 'a');
	ck_assert_int_eq(b[1999], 'b');
	ck_assert_int_eq(b[2999], 'c');
	n = read_all(j, 1, b, sizeof(b), &trunc);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(b, "oops", 4);
	/* From an offset, and a bounded piece. */
	ck_assert_int_eq(joblog_read(j, 0, 2500, b, 100, &trunc), 100);
	ck_assert_int_eq(b[0], 'c');
	ck_assert_int_eq(joblog_read(j, 0, 3000, b, 100, &trunc), 0);
	ck_assert_int_eq(joblog_read(j, 0, 99999, b, 100, &trunc), 0);
	snprintf(p, sizeof(p), "%s/%llu.out", dir, (unsigned long long)j->id);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_write_error_marks_truncated_once)
{
	struct job	*j;
	char		 b[16];
	int		 trunc;

	must_init();
	joblog_write_fn = fail_write;
	j = must_job("t_log");
	ck_run_until_final(j);
	/* The job went on and kept its output as ever. */
	ck_state(j, JOB_SUCCEEDED);
	ck_assert_uint_eq(j->more->output.len, 1024);
	/* Three writes of stdout, one tried; one of stderr, tried. */
	ck_assert_int_eq(fail_calls, 2);
	ck_assert_int_eq(joblog_read(j, 0, 0, b, sizeof(b), &trunc), 0);
	ck_assert(trunc);
	joblog_write_fn = write;
	/* The file stays stopped: no bytes after a hole. */
	joblog_write(j, 0, "x", 1);
	ck_assert_int_eq(joblog_read(j, 0, 0, b, sizeof(b), &trunc), 0);
	ck_assert(trunc);
}
END_TEST

/* The mark is on the file: a restart's sweep still says the log is cut. */
START_TEST(test_cut_mark_survives_a_restart)
{
	struct job	*j, *k;
	struct stat	 st;
	char		 b[16], p[128];
	int		 trunc;

	must_init();
	joblog_write_fn = fail_write;
	j = must_job("t_log");
	ck_run_until_final(j);
	joblog_write_fn = write;
	k = must_job("t_log");
	ck_run_until_final(k);
	snprintf(p, sizeof(p), "%s/%llu.out", dir, (unsigned long long)j->id);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0400);
	snprintf(p, sizeof(p), "%s/%llu.out", dir, (unsigned long long)k->id);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* A restart: the files are found again, the mark with them. */
	joblog_shutdown();
	joblog_free(j);
	joblog_free(k);
	must_init();
	ck_assert_int_eq(joblog_read(j, 0, 0, b, sizeof(b), &trunc), 0);
	ck_assert(trunc);
	ck_assert_int_eq(joblog_read(j, 1, 0, b, sizeof(b), &trunc), 0);
	ck_assert(trunc);
	ck_assert_int_eq(joblog_read(k, 0, 0, b, sizeof(b), &trunc), 16);
	ck_assert(!trunc);
	/* Still stopped: nothing after the hole, in this life either. */
	joblog_write(j, 0, "x", 1);
	ck_assert_int_eq(joblog_read(j, 0, 0, b, sizeof(b), &trunc), 0);
	ck_assert(trunc);
}
END_TEST

START_TEST(test_retention_removes_the_files)
{
	struct job	*j, *k;
	uint64_t	 id;

	must_init();
	/* The second job to end makes the first one too many. */
	settings.retain_max = 1;
	j = must_job("t_log");
	id = j->id;
	job_ref(j);
	ck_run_until_final(j);
	ck_assert(exists(id, "out"));
	ck_assert(exists(id, "err"));
	k = must_job("t_log");
	ck_run_until_final(k);
	step();
	ck_assert_ptr_null(sched_find(id));
	job_unref(j);
	ck_assert(!exists(id, "out"));
	ck_assert(!exists(id, "err"));
	ck_assert(exists(k->id, "out"));
}
END_TEST

START_TEST(test_sweep_keeps_known_removes_unknown)
{
	struct job	*j;
	char		 p[128], b[16];
	FILE		*fp;
	int		 trunc;

	/* A known job, queued: the loop never runs here. */
	j = must_job("t_log");
	snprintf(p, sizeof(p), "%s/%llu.out", dir, (unsigned long long)j->id);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fputs("abc", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/987654.err", dir);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fclose(fp);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fclose(fp);
	must_init();
	ck_assert(!exists(987654, "err"));
	ck_assert_int_eq(access(p, F_OK), 0);
	ck_assert_int_eq(joblog_read(j, 0, 0, b, sizeof(b), &trunc), 3);
	ck_assert_mem_eq(b, "abc", 3);
	ck_assert(!trunc);
	/* Appended to, not truncated: the log of all its attempts. */
	joblog_write(j, 0, "d", 1);
	ck_assert_int_eq(joblog_read(j, 0, 0, b, sizeof(b), &trunc), 4);
	ck_assert_mem_eq(b, "abcd", 4);
}
END_TEST

static int
count_fds(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return (n);
}

START_TEST(test_descriptors_are_bounded)
{
	struct job	*jobs[40];
	char		 b[8], c;
	int		 i, before, trunc;

	must_init();
	for (i = 0; i < 40; i++) {
		jobs[i] = job_new();
		jobs[i]->handler = handler_find("t_log");
		must_insert(jobs[i]);
	}
	before = count_fds();
	for (i = 0; i < 40; i++) {
		c = 'A' + i % 26;
		joblog_write(jobs[i], 0, &c, 1);
		joblog_write(jobs[i], 1, &c, 1);
	}
	ck_assert_int_le(count_fds() - before, 16);
	/* A job written again after its descriptor went appends. */
	for (i = 0; i < 40; i++) {
		c = 'a' + i % 26;
		joblog_write(jobs[i], 0, &c, 1);
	}
	for (i = 0; i < 40; i++) {
		ck_assert_int_eq(joblog_read(jobs[i], 0, 0, b, sizeof(b),
		    &trunc), 2);
		ck_assert_int_eq(b[0], 'A' + i % 26);
		ck_assert_int_eq(b[1], 'a' + i % 26);
		ck_assert_int_eq(joblog_read(jobs[i], 1, 0, b, sizeof(b),
		    &trunc), 1);
	}
	ck_assert_int_le(count_fds() - before, 16);
}
END_TEST

START_TEST(test_without_a_directory_nothing)
{
	struct job	*j;
	char		 b[8];
	int		 trunc;

	ck_assert(!joblog_enabled());
	j = must_job("t_log");
	ck_run_until_final(j);
	ck_assert_int_eq(joblog_read(j, 0, 0, b, sizeof(b), &trunc), 0);
	ck_assert_ptr_null(j->more->log);
}
END_TEST

START_TEST(test_refuses_a_directory_others_write)
{
	char	*cause = NULL;

	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(joblog_init(dir, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "not the daemon's own"));
	free(cause);
	ck_assert(!joblog_enabled());
}
END_TEST

static Suite *
joblog_suite(void)
{
	Suite	*s = suite_create("joblog");
	TCase	*tc;

	tc = tcase_create("joblog");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_whole_output_past_the_kept);
	tcase_add_test(tc, test_write_error_marks_truncated_once);
	tcase_add_test(tc, test_cut_mark_survives_a_restart);
	tcase_add_test(tc, test_retention_removes_the_files);
	tcase_add_test(tc, test_sweep_keeps_known_removes_unknown);
	tcase_add_test(tc, test_descriptors_are_bounded);
	tcase_add_test(tc, test_without_a_directory_nothing);
	tcase_add_test(tc, test_refuses_a_directory_others_write);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(joblog_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
