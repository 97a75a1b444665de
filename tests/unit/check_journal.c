/*
 * daemon/journal.c: the record codec and scanner (good log, torn tail,
 * garbage tail, corruption inside), and replay into a real job table:
 * queued jobs queue again, running ones fail with "daemon restarted" or
 * are queued again with the attempt counted (once: a second replay does
 * not count it again), finished ones keep their outcome until retention,
 * ids continue after the highest (an id out of range is corruption),
 * finish times out of range overflow nothing, a job waiting on a newer
 * one fails, and an fsync failure is reported to the waiting submit and
 * refuses the next.
 */

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "journal.pb-c.h"
#include "log.h"
#include "xmalloc.h"

/* Defined by daemon/main.c, which the tests do not link. */
struct settings		 settings;
struct event_base	*base;

static char		 dir[PATH_MAX];
static char		 path[PATH_MAX + 32];

struct image {
	uint8_t		*data;
	size_t		 len, cap;
};

static void
image_header(struct image *im)
{
	im->cap = 4096;
	im->data = xmalloc(im->cap);
	journal_header_encode(im->data);
	im->len = JOURNAL_HDR_LEN;
}

static void
image_raw(struct image *im, int type, const char *payload)
{
	journal_record_encode(&im->data, &im->len, &im->cap, type, payload,
	    strlen(payload));
}

static void
image_msg(struct image *im, int type, const ProtobufCMessage *m)
{
	size_t	 n = protobuf_c_message_get_packed_size(m);
	uint8_t	*p = xmalloc(n + 1);

	protobuf_c_message_pack(m, p);
	journal_record_encode(&im->data, &im->len, &im->cap, type, p, n);
	free(p);
}

static void
image_write(struct image *im)
{
	FILE	*f;

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(im->data, 1, im->len, f), im->len);
	fclose(f);
}

/* Codec ----------------------------------------------------------------- */

static struct image	 im;
static size_t		 rec2, rec3;

static void
codec_setup(void)
{
	image_header(&im);
	image_raw(&im, JOURNAL_ACCEPT, "one record");
	rec2 = im.len;
	image_raw(&im, JOURNAL_START, "two");
	rec3 = im.len;
	image_raw(&im, JOURNAL_FINAL, "the third record");
}

static void
codec_teardown(void)
{
	free(im.data);
	memset(&im, 0, sizeof(im));
}

START_TEST(test_scan_good)
{
	size_t		 end;
	uint64_t	 n;

	ck_assert_int_eq(journal_scan(im.data, im.len, &end, &n, NULL, NULL),
	    0);
	ck_assert_uint_eq(end, im.len);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(journal_scan(im.data, JOURNAL_HDR_LEN, &end, &n, NULL,
	    NULL), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_scan_torn_tail)
{
	size_t		 end, cut;
	uint64_t	 n;

	/* Every cut inside the last record is a torn tail at its start. */
	for (cut = rec3 + 1; cut < im.len; cut++) {
		ck_assert_int_eq(journal_scan(im.data, cut, &end, &n, NULL,
		    NULL), 1);
		ck_assert_uint_eq(end, rec3);
		ck_assert_uint_eq(n, 3);
	}
}
END_TEST

START_TEST(test_scan_garbage_tail)
{
	size_t		 end, i, len = im.len;
	uint64_t	 n;

	im.data = xreallocarray(im.data, len + 500, 1);
	srandom(7);
	for (i = 0; i < 500; i++)
		im.data[len + i] = random();
	ck_assert_int_eq(journal_scan(im.data, len + 500, &end, &n, NULL,
	    NULL), 1);
	ck_assert_uint_eq(end, len);
	ck_assert_uint_eq(n, 4);
}
END_TEST

START_TEST(test_scan_corrupt_inside)
{
	size_t		 end;
	uint64_t	 n;

	im.data[JOURNAL_HDR_LEN + JOURNAL_RECORD_HDR + 2] ^= 0x01;
	ck_assert_int_eq(journal_scan(im.data, im.len, &end, &n, NULL, NULL),
	    -1);
	ck_assert_uint_eq(end, JOURNAL_HDR_LEN);
	ck_assert_uint_eq(n, 1);
	im.data[JOURNAL_HDR_LEN + JOURNAL_RECORD_HDR + 2] ^= 0x01;
	/* A bad length is caught by the CRC too. */
	im.data[rec2 + 3] ^= 0x02;
	ck_assert_int_eq(journal_scan(im.data, im.len, &end, &n, NULL, NULL),
	    -1);
	ck_assert_uint_eq(end, rec2);
	ck_assert_uint_eq(n, 2);
}
END_TEST

/* Replay ---------------------------------------------------------------- */

static void
replay_setup(void)
{
	settings_defaults(&settings);
	log_init(LOG_LEVEL_WARN, 0);
	snprintf(dir, sizeof(dir), "/tmp/check_journal.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state/journal", dir);
	settings.journal_path = path;
	base = event_base_new();
	handler_init();
	sched_init();
}

/* What the daemon's exit does to the journal and the job table. */
static void
replay_stop(const char *why)
{
	journal_close();
	sched_cancel_all(0, why);
	sched_free();
	group_free_all();
}

/* A restart: the next journal_open() replays into an empty table. */
static void
replay_restart(void)
{
	replay_stop("restart");
	sched_init();
}

/* The journal's directory, made as the daemon would, and a new image. */
static void
replay_image(struct image *m)
{
	char	 d[PATH_MAX + 32];

	snprintf(d, sizeof(d), "%s/state", dir);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	image_header(m);
}

static void
replay_teardown(void)
{
	char	 cmd[PATH_MAX + 32];

	replay_stop("end of test");
	journal_free();
	event_base_free(base);
	base = NULL;
	journal_write_fn = write;
	journal_fsync_fn = fsync;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* An ACCEPT of an echo of "q", for the caller to add to. */
static void
accept_init(FuturedJournal__Accept *a, uint64_t id)
{
	futured_journal__accept__init(a);
	a->id = id;
	a->owner = getuid();
	a->handler = (char *)"echo";
	a->kind = JOB_ASYNC;
	a->has_payload = 1;
	a->payload.data = (uint8_t *)"q";
	a->payload.len = 1;
	a->submitted_at = job_now_ms() - 1000;
}

static void
accept_rec(struct image *m, uint64_t id, uint32_t retries, uint64_t after)
{
	FuturedJournal__Accept	 a;

	accept_init(&a, id);
	a.has_retries = retries > 0;
	a.retries = retries;
	if (after != 0) {
		a.n_after = 1;
		a.after = &after;
	}
	image_msg(m, JOURNAL_ACCEPT, &a.base);
}

static void
start_rec(struct image *m, uint64_t id)
{
	FuturedJournal__Start	 s = FUTURED_JOURNAL__START__INIT;

	s.id = id;
	s.attempt = 1;
	image_msg(m, JOURNAL_START, &s.base);
}

static void
final_rec(struct image *m, uint64_t id, int64_t finished_at)
{
	FuturedJournal__Final	 f = FUTURED_JOURNAL__FINAL__INIT;

	f.id = id;
	f.state = JOB_SUCCEEDED;
	f.has_output = 1;
	f.output.data = (uint8_t *)"out";
	f.output.len = 3;
	f.ended = (char *)"completed";
	f.has_finished_at = 1;
	f.finished_at = finished_at;
	f.has_attempts = 1;
	f.attempts = 1;
	image_msg(m, JOURNAL_FINAL, &f.base);
}

static void
write_mixed(void)
{
	FuturedJournal__Checkpoint	 cp = FUTURED_JOURNAL__CHECKPOINT__INIT;
	struct image			 m;

	replay_image(&m);
	cp.next_id = 20;
	image_msg(&m, JOURNAL_CHECKPOINT, &cp.base);
	accept_rec(&m, 3, 0, 0);			/* queued */
	accept_rec(&m, 5, 0, 0);			/* running, no retry */
	start_rec(&m, 5);
	accept_rec(&m, 6, 2, 0);			/* running, retries */
	start_rec(&m, 6);
	accept_rec(&m, 7, 0, 0);			/* finished */
	start_rec(&m, 7);
	final_rec(&m, 7, job_now_ms() - 500);
	accept_rec(&m, 8, 0, 0);			/* past retention */
	final_rec(&m, 8, job_now_ms() - 2 * DEFAULT_RETENTION_MS);
	accept_rec(&m, 9, 0, 5);			/* waits on 5 */
	accept_rec(&m, 7, 0, 0);			/* never twice */
	image_write(&m);
	free(m.data);
}

static void
check_mixed(void)
{
	struct job	*j;

	ck_assert_ptr_nonnull(j = sched_find(3));
	ck_assert_int_eq(j->state, JOB_QUEUED);
	ck_assert_ptr_nonnull(j = sched_find(5));
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_str_eq(j->more->error, "daemon restarted");
	ck_assert_str_eq(j->more->ended, "daemon restarted");
	ck_assert_ptr_nonnull(j = sched_find(6));
	ck_assert_int_eq(j->state, JOB_QUEUED);
	ck_assert_uint_eq(j->more->attempts, 1);
	ck_assert_ptr_nonnull(j = sched_find(7));
	ck_assert_int_eq(j->state, JOB_SUCCEEDED);
	ck_assert_uint_eq(j->more->output.len, 3);
	ck_assert_int_eq(memcmp(j->more->output.data, "out", 3), 0);
	ck_assert_ptr_null(sched_find(8));
	ck_assert_ptr_nonnull(j = sched_find(9));
	ck_assert_int_eq(j->state, JOB_CANCELLED);
	ck_assert_str_eq(j->more->error, "dependency 5 failed");
	ck_assert_uint_eq(sched_total(), 19);
}

START_TEST(test_replay_states)
{
	char	*cause = NULL;

	write_mixed();
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	check_mixed();
	/* What the restore decided is journaled: a second replay agrees. */
	replay_restart();
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ck_assert_int_eq(sched_find(3)->state, JOB_QUEUED);
	ck_assert_int_eq(sched_find(5)->state, JOB_FAILED);
	ck_assert_int_eq(sched_find(6)->state, JOB_QUEUED);
	ck_assert_uint_eq(sched_find(6)->more->attempts, 1);
	ck_assert_int_eq(sched_find(9)->state, JOB_CANCELLED);
}
END_TEST

START_TEST(test_replay_corrupt)
{
	char		*cause = NULL;
	struct stat	 st;
	FILE		*f;
	int		 c;

	write_mixed();
	f = fopen(path, "r+");
	fseek(f, JOURNAL_HDR_LEN + JOURNAL_RECORD_HDR + 1, SEEK_SET);
	c = fgetc(f);
	fseek(f, JOURNAL_HDR_LEN + JOURNAL_RECORD_HDR + 1, SEEK_SET);
	fputc(c ^ 0x40, f);
	fclose(f);
	ck_assert_int_eq(journal_open(&cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "corrupt at byte 16 (record 1)"));
	free(cause);
	replay_restart();
	settings.journal_repair = 1;
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	/* Nothing survives, but the ids used after the cut stay used. */
	ck_assert_ptr_null(sched_find(3));
	ck_assert_uint_ge(sched_total(), 9);
	ck_assert_int_eq(stat(path, &st), 0);
}
END_TEST

START_TEST(test_replay_torn_tail)
{
	char		*cause = NULL;
	struct stat	 st;
	off_t		 size;

	write_mixed();
	ck_assert_int_eq(stat(path, &st), 0);
	size = st.st_size;
	ck_assert_int_eq(truncate(path, size - 2), 0);
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	/* The last record (the duplicate ACCEPT) is dropped, the rest kept. */
	check_mixed();
}
END_TEST

START_TEST(test_replay_finished_at_extremes)
{
	struct image	 m;
	char		*cause = NULL;

	/*
	 * A finish time from the far future (a clock stepped back, or bits
	 * gone bad under a good CRC) is kept as if just now, one from the
	 * far past is forgotten; neither may overflow the retention sums.
	 */
	replay_image(&m);
	accept_rec(&m, 1, 0, 0);
	final_rec(&m, 1, INT64_MAX);
	accept_rec(&m, 2, 0, 0);
	final_rec(&m, 2, INT64_MIN);
	image_write(&m);
	free(m.data);
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ck_assert_ptr_nonnull(sched_find(1));
	ck_assert_int_eq(sched_find(1)->state, JOB_SUCCEEDED);
	ck_assert_ptr_null(sched_find(2));
}
END_TEST

START_TEST(test_replay_id_out_of_range)
{
	FuturedJournal__Checkpoint	 cp = FUTURED_JOURNAL__CHECKPOINT__INIT;
	struct image			 m;
	char				*cause = NULL;

	/*
	 * An id of 2^63 or more is corruption: taken as is, the next id
	 * would wrap to 0 and then repeat the ids of live jobs.
	 */
	replay_image(&m);
	accept_rec(&m, 1, 0, 0);
	accept_rec(&m, UINT64_MAX, 0, 0);
	accept_rec(&m, 3, 0, 0);
	cp.next_id = UINT64_MAX;
	image_msg(&m, JOURNAL_CHECKPOINT, &cp.base);
	image_write(&m);
	free(m.data);
	ck_assert_int_eq(journal_open(&cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "(record 2)"));
	free(cause);
	replay_restart();
	settings.journal_repair = 1;
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ck_assert_ptr_nonnull(sched_find(1));
	ck_assert_ptr_null(sched_find(3));
	/* Job 3's id stays used; the bad checkpoint is not followed. */
	ck_assert_uint_eq(sched_total(), 3);
}
END_TEST

START_TEST(test_replay_newer_dependency)
{
	struct image	 m;
	char		*cause = NULL;
	struct job	*j;

	/*
	 * Job 1 waits on job 2, which no submit allows: the restore, in id
	 * order, queued 1 as if 2 were gone, and had 2 then failed (say its
	 * handler was gone), the next restart cancelled 1.  It fails now.
	 */
	replay_image(&m);
	accept_rec(&m, 1, 0, 2);
	accept_rec(&m, 2, 0, 0);
	image_write(&m);
	free(m.data);
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ck_assert_ptr_nonnull(j = sched_find(1));
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_ptr_nonnull(strstr(j->more->error, "depends on job 2"));
	replay_restart();
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ck_assert_int_eq(sched_find(1)->state, JOB_FAILED);
}
END_TEST

START_TEST(test_replay_checks_spec)
{
	FuturedJournal__Accept	 a;
	FuturedJournal__KeyValue kv = FUTURED_JOURNAL__KEY_VALUE__INIT;
	FuturedJournal__KeyValue *kvs[1] = { &kv };
	char			*env[1] = { (char *)"NOVALUE" };
	uint8_t			 big[5000];
	struct image		 m;
	char			*cause = NULL;
	struct job		*j;

	/*
	 * A replayed spec passes the checks of a submit (job_link.c): one
	 * that would have been refused is corrupt and its job fails, with
	 * the submit's words.  A limit from the settings is not applied
	 * again: the job was accepted under the limit of its day.
	 */
	replay_image(&m);
	accept_init(&a, 1);
	a.has_priority = 1;
	a.priority = JOB_PRIO_MAX + 1;
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	accept_init(&a, 2);
	a.has_timeout_ms = 1;
	a.timeout_ms = -5;
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	accept_init(&a, 3);
	kv.key = (char *)"no-good";
	kv.value = (char *)"1";
	a.n_ctx = 1;
	a.ctx = kvs;
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	accept_init(&a, 4);
	a.handler = (char *)"exec";
	a.n_env = 1;
	a.env = env;
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	accept_init(&a, 5);
	memset(big, 'x', sizeof(big));
	a.payload.data = big;
	a.payload.len = sizeof(big);
	a.has_priority = 1;
	a.priority = JOB_PRIO_MIN;
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	/* A finished job is history: its record is not judged again. */
	accept_init(&a, 6);
	a.has_priority = 1;
	a.priority = 99;
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	final_rec(&m, 6, job_now_ms() - 100);
	image_write(&m);
	free(m.data);

	settings.max_frame = 4096;
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ck_assert_ptr_nonnull(j = sched_find(1));
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_str_eq(j->more->error,
	    "corrupt journal: priority 21 is outside -20..20");
	ck_assert_ptr_nonnull(j = sched_find(2));
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_str_eq(j->more->error, "corrupt journal: negative timeout");
	ck_assert_ptr_nonnull(j = sched_find(3));
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_ptr_nonnull(strstr(j->more->error,
	    "bad context key \"no-good\""));
	ck_assert_ptr_nonnull(j = sched_find(4));
	ck_assert_int_eq(j->state, JOB_FAILED);
	ck_assert_ptr_nonnull(strstr(j->more->error,
	    "bad environment name \"NOVALUE\""));
	ck_assert_ptr_nonnull(j = sched_find(5));
	ck_assert_int_eq(j->state, JOB_QUEUED);
	ck_assert_int_eq(j->priority, JOB_PRIO_MIN);
	ck_assert_ptr_nonnull(j = sched_find(6));
	ck_assert_int_eq(j->state, JOB_SUCCEEDED);
	/* Recorded: the next restart agrees. */
	replay_restart();
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ck_assert_int_eq(sched_find(1)->state, JOB_FAILED);
	ck_assert_int_eq(sched_find(4)->state, JOB_FAILED);
	ck_assert_int_eq(sched_find(5)->state, JOB_QUEUED);
}
END_TEST

START_TEST(test_replay_links_parent)
{
	FuturedJournal__Accept	 a;
	FuturedJournal__Final	 f = FUTURED_JOURNAL__FINAL__INIT;
	struct image		 m;
	char			*cause = NULL;
	struct job		*j;

	/*
	 * Parent 1 was cancelled and the journal ends before its child's
	 * FINAL (a crash in between): the child goes the way a submit
	 * after the cancel would have.  Job 4's parent is forgotten: it
	 * runs on, unlinked.
	 */
	replay_image(&m);
	accept_init(&a, 1);
	a.group = (char *)"g";
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	accept_init(&a, 2);
	a.has_parent = 1;
	a.parent = 1;
	a.group = (char *)"g";
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	f.id = 1;
	f.state = JOB_CANCELLED;
	f.has_finished_at = 1;
	f.finished_at = job_now_ms() - 100;
	image_msg(&m, JOURNAL_FINAL, &f.base);
	accept_init(&a, 4);
	a.has_parent = 1;
	a.parent = 3;
	image_msg(&m, JOURNAL_ACCEPT, &a.base);
	image_write(&m);
	free(m.data);

	settings.retention_ms = 60000;
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	ck_assert_ptr_nonnull(j = sched_find(2));
	ck_assert_int_eq(j->state, JOB_CANCELLED);
	ck_assert_str_eq(j->more->error, "parent 1 cancelled");
	ck_assert_ptr_eq(j->more->parent_job, sched_find(1));
	ck_assert_ptr_eq(j->more->grp, group_get(getuid(), "g", 0));
	ck_assert_ptr_eq(sched_find(1)->more->grp, j->more->grp);
	ck_assert_ptr_nonnull(j = sched_find(4));
	ck_assert_ptr_null(j->more->parent_job);
	ck_assert_int_eq(j->state, JOB_QUEUED);
}
END_TEST

static int	fsyncs_left;

static int
failing_fsync(int fd)
{
	if (fsyncs_left-- > 0)
		return (fsync(fd));
	errno = EIO;
	return (-1);
}

static char	*answer;
static int	 answered;

static void
waiter_cb(struct journal_waiter *w, const char *error)
{
	answered++;
	free(answer);
	answer = error != NULL ? xstrdup(error) : NULL;
}

static struct job *
new_echo(void)
{
	struct job	*j = job_new();
	char		*cause;

	j->handler = handler_find("echo");
	j->kind = JOB_ASYNC;
	j->owner = getuid();
	ck_assert_int_eq(sched_insert(j, &cause), 0);
	return (j);
}

START_TEST(test_fsync_failure)
{
	struct journal_waiter	 w;
	char			*cause = NULL;

	memset(&w, 0, sizeof(w));
	ck_assert_msg(journal_open(&cause) == 0, "%s", cause);
	journal_fsync_fn = failing_fsync;
	fsyncs_left = 1;
	new_echo();
	journal_wait(&w, waiter_cb, NULL);
	ck_assert_int_eq(journal_flush(), 0);
	ck_assert_int_eq(answered, 1);
	ck_assert_ptr_null(answer);
	ck_assert_ptr_null(journal_failed());
	new_echo();
	journal_wait(&w, waiter_cb, NULL);
	ck_assert_int_eq(journal_flush(), -1);
	ck_assert_int_eq(answered, 2);
	ck_assert_ptr_nonnull(answer);
	ck_assert_ptr_nonnull(strstr(answer, "fsync failed"));
	ck_assert_ptr_nonnull(journal_failed());
	free(answer);
	answer = NULL;
}
END_TEST

static Suite *
journal_suite(void)
{
	Suite	*s = suite_create("journal");
	TCase	*tc;

	tc = tcase_create("codec");
	tcase_add_checked_fixture(tc, codec_setup, codec_teardown);
	tcase_add_test(tc, test_scan_good);
	tcase_add_test(tc, test_scan_torn_tail);
	tcase_add_test(tc, test_scan_garbage_tail);
	tcase_add_test(tc, test_scan_corrupt_inside);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_checked_fixture(tc, replay_setup, replay_teardown);
	tcase_add_test(tc, test_replay_states);
	tcase_add_test(tc, test_replay_corrupt);
	tcase_add_test(tc, test_replay_torn_tail);
	tcase_add_test(tc, test_replay_finished_at_extremes);
	tcase_add_test(tc, test_replay_id_out_of_range);
	tcase_add_test(tc, test_replay_newer_dependency);
	tcase_add_test(tc, test_replay_checks_spec);
	tcase_add_test(tc, test_replay_links_parent);
	tcase_add_test(tc, test_fsync_failure);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(journal_suite());
	int	 nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
