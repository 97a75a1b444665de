/*
 * daemon/wire.c: the hand-packed SubmitReply, brief JobEvent and JobNews
 * must be byte for byte what protobuf-c packs, for every combination of
 * the fields they carry, and wire.c must decline every other message.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "wire.h"

static const uint64_t ids[] = {
	0, 1, 127, 128, 16383, 16384, 0xffffffffULL, 0x100000000ULL,
	UINT64_MAX
};
#define NIDS	(sizeof(ids) / sizeof(ids[0]))

/* Pack r both ways and compare; returns the length. */
static size_t
ck_same(const Futured__Response *r)
{
	size_t	 want, got, n;
	uint8_t	*a, *b;

	want = futured__response__get_packed_size(r);
	got = wire_size(r);
	ck_assert_uint_eq(got, want);
	a = malloc(want + 1);
	b = malloc(want + 1);
	ck_assert(a != NULL && b != NULL);
	ck_assert_uint_eq(futured__response__pack(r, a), want);
	n = wire_pack(r, b);
	ck_assert_uint_eq(n, want);
	ck_assert_mem_eq(a, b, want);
	free(a);
	free(b);
	return (want);
}

START_TEST(test_submit_reply)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__SubmitReply	 s = FUTURED__SUBMIT_REPLY__INIT;
	size_t			 i, k;
	int			 st;

	r.body_case = FUTURED__RESPONSE__BODY_SUBMIT;
	r.submit = &s;
	for (i = 0; i < NIDS; i++) {
		for (k = 0; k < NIDS; k++) {
			r.id = ids[i];
			s.id = ids[k];
			s.has_state = 0;
			ck_same(&r);
			s.has_state = 1;
			for (st = 0; st <= 7; st++) {
				s.state = st;
				ck_same(&r);
			}
		}
	}
}
END_TEST

START_TEST(test_brief_event)
{
	static const int32_t	 ints[] = { 0, 1, 127, 128, 255, -1,
	    INT32_MIN, INT32_MAX };
	static const char	*errors[] = { NULL, "", "exit status 1",
	    "dependency 5 failed" };
	static const size_t	 lens[] = { 0, 1, 127, 128, 70000 };
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__JobEvent	 e = FUTURED__JOB_EVENT__INIT;
	Futured__JobInfo	 j = FUTURED__JOB_INFO__INIT;
	uint8_t			*data;
	size_t			 a, b, c, d, l, n = 0;

	data = calloc(1, 70000);
	ck_assert_ptr_nonnull(data);
	memset(data, 0xa5, 70000);
	r.body_case = FUTURED__RESPONSE__BODY_EVENT;
	r.event = &e;
	e.job = &j;
	for (a = 0; a < NIDS; a++) {
		r.id = ids[a] & 1 ? 0 : ids[a];
		j.id = ids[NIDS - 1 - a];
		j.state = 1 + a % 7;
		for (b = 0; b < sizeof(ints) / sizeof(ints[0]); b++) {
			j.has_exit_status = b % 2;
			j.exit_status = ints[b];
			j.has_signal = b % 3 == 0;
			j.signal = ints[(b + 1) % 8];
			j.has_error_code = b % 4 != 0;
			j.error_code = b % 13;
			for (c = 0; c < 4; c++) {
				j.error = (char *)errors[c];
				for (d = 0; d < 8; d++) {
					l = lens[(c + d) % 5];
					j.has_output = d & 1;
					j.output.data = data;
					j.output.len = l;
					j.has_output_truncated = (d & 2) != 0;
					j.output_truncated = (d & 4) != 0;
					j.has_stderr_tail = (d & 4) != 0;
					j.stderr_tail.data = data;
					j.stderr_tail.len = lens[d % 5];
					ck_same(&r);
					n++;
				}
			}
		}
	}
	ck_assert_uint_gt(n, 1000);
	free(data);
}
END_TEST

/* What the daemon packs unpacks to what it meant. */
START_TEST(test_brief_event_unpacks)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT, *u;
	Futured__JobEvent	 e = FUTURED__JOB_EVENT__INIT;
	Futured__JobInfo	 j = FUTURED__JOB_INFO__INIT;
	uint8_t			 buf[256];
	size_t			 n;

	r.body_case = FUTURED__RESPONSE__BODY_EVENT;
	r.event = &e;
	e.job = &j;
	j.id = 1234567;
	j.state = FUTURED__STATE__STATE_FAILED;
	j.has_exit_status = 1;
	j.exit_status = -3;
	j.error = "exit status 253";
	j.has_output = 1;
	j.output.data = (uint8_t *)"out";
	j.output.len = 3;
	ck_assert_uint_le(wire_size(&r), sizeof(buf));
	n = wire_pack(&r, buf);
	u = futured__response__unpack(NULL, n, buf);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->body_case, FUTURED__RESPONSE__BODY_EVENT);
	ck_assert_uint_eq(u->event->job->id, 1234567);
	ck_assert_int_eq(u->event->job->state, FUTURED__STATE__STATE_FAILED);
	ck_assert(u->event->job->has_exit_status);
	ck_assert_int_eq(u->event->job->exit_status, -3);
	ck_assert_str_eq(u->event->job->error, "exit status 253");
	ck_assert_uint_eq(u->event->job->output.len, 3);
	ck_assert_mem_eq(u->event->job->output.data, "out", 3);
	ck_assert(!u->event->job->has_stderr_tail);
	futured__response__free_unpacked(u, NULL);
}
END_TEST

/* Everything else is protobuf-c's. */
START_TEST(test_declines_the_rest)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__JobEvent	 e = FUTURED__JOB_EVENT__INIT;
	Futured__JobInfo	 j = FUTURED__JOB_INFO__INIT;
	Futured__PingReply	 p = FUTURED__PING_REPLY__INIT;
	char			*args[] = { "a" };

	r.body_case = FUTURED__RESPONSE__BODY_PING;
	r.ping = &p;
	ck_assert_uint_eq(wire_size(&r), 0);

	r.body_case = FUTURED__RESPONSE__BODY_EVENT;
	r.event = &e;
	e.job = &j;
	ck_assert_uint_ne(wire_size(&r), 0);
	j.has_kind = 1;
	ck_assert_uint_eq(wire_size(&r), 0);
	j.has_kind = 0;
	j.name = "n";
	ck_assert_uint_eq(wire_size(&r), 0);
	j.name = NULL;
	j.has_submitted_at = 1;
	ck_assert_uint_eq(wire_size(&r), 0);
	j.has_submitted_at = 0;
	j.n_args = 1;
	j.args = args;
	ck_assert_uint_eq(wire_size(&r), 0);
	j.n_args = 0;
	j.has_attempts = 1;
	ck_assert_uint_eq(wire_size(&r), 0);
	j.has_attempts = 0;
	j.ended = "completed";
	ck_assert_uint_eq(wire_size(&r), 0);
	j.ended = NULL;
	ck_assert_uint_ne(wire_size(&r), 0);
}
END_TEST

/*
 * A JobNews of 0 to 5 jobs, each with or without progress and start,
 * and 0 to 9 running ids (not both none: never sent).
 */
START_TEST(test_news)
{
	static const double	 fracs[] = { 0.0, 0.5, 1e-300, 1.0, 0.42 };
	static const char	*msgs[] = { NULL, "", "parsing",
	    "a message of more than 127 bytes: "
	    "...................................................."
	    "....................................................." };
	static const int64_t	 times[] = { 0, 1, 1733350000000LL,
	    INT64_MAX, -1 };
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__JobNews	 e = FUTURED__JOB_NEWS__INIT;
	Futured__JobInfo	 j[5], *jp[5];
	uint64_t		 run[NIDS];
	size_t			 a, k, n = 0;

	r.body_case = FUTURED__RESPONSE__BODY_NEWS;
	r.news = &e;
	e.jobs = jp;
	e.running = run;
	for (k = 0; k < NIDS; k++)
		run[k] = ids[NIDS - 1 - k];
	for (k = 0; k < 5; k++) {
		futured__job_info__init(&j[k]);
		jp[k] = &j[k];
	}
	for (a = 0; a < NIDS * 8; a++) {
		for (k = 0; k < 5; k++) {
			j[k].id = ids[(a + k) % NIDS];
			j[k].state = 1 + (a + k) % 3;
			j[k].has_progress = (a >> k) & 1;
			j[k].progress = fracs[(a + k) % 5];
			j[k].progress_msg = (char *)msgs[(a / 2 + k) % 4];
			j[k].has_started_at = ((a + k) & 2) != 0;
			j[k].started_at = times[(a / 3 + k) % 5];
		}
		e.n_jobs = a % 6;
		e.n_running = (a / 6) % (NIDS + 1);
		if (e.n_jobs + e.n_running == 0)
			continue;
		ck_same(&r);
		n++;
	}
	ck_assert_uint_gt(n, 50);
}
END_TEST

/* The daemon's news unpacks to what it said. */
START_TEST(test_news_unpacks)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT, *u;
	Futured__JobNews	 e = FUTURED__JOB_NEWS__INIT;
	Futured__JobInfo	 j = FUTURED__JOB_INFO__INIT, *jp = &j;
	uint8_t			 buf[256];
	size_t			 n;

	r.body_case = FUTURED__RESPONSE__BODY_NEWS;
	r.news = &e;
	e.n_jobs = 1;
	e.jobs = &jp;
	j.id = 77;
	j.state = FUTURED__STATE__STATE_RUNNING;
	j.has_progress = 1;
	j.progress = 0.25;
	j.progress_msg = "a quarter";
	j.has_started_at = 1;
	j.started_at = 1733350000123LL;
	e.n_running = 2;
	e.running = (uint64_t []){ 5, 300 };
	ck_assert_uint_le(wire_size(&r), sizeof(buf));
	n = wire_pack(&r, buf);
	u = futured__response__unpack(NULL, n, buf);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->body_case, FUTURED__RESPONSE__BODY_NEWS);
	ck_assert_uint_eq(u->id, 0);
	ck_assert_uint_eq(u->news->n_jobs, 1);
	ck_assert_uint_eq(u->news->jobs[0]->id, 77);
	ck_assert_int_eq(u->news->jobs[0]->state,
	    FUTURED__STATE__STATE_RUNNING);
	ck_assert(u->news->jobs[0]->has_progress);
	ck_assert(u->news->jobs[0]->progress == 0.25);
	ck_assert_str_eq(u->news->jobs[0]->progress_msg, "a quarter");
	ck_assert_int_eq(u->news->jobs[0]->started_at, 1733350000123LL);
	ck_assert_uint_eq(u->news->n_running, 2);
	ck_assert_uint_eq(u->news->running[0], 5);
	ck_assert_uint_eq(u->news->running[1], 300);
	futured__response__free_unpacked(u, NULL);
}
END_TEST

static Suite *
wire_suite(void)
{
	Suite	*s = suite_create("wire");
	TCase	*tc = tcase_create("pack");

	tcase_add_test(tc, test_submit_reply);
	tcase_add_test(tc, test_brief_event);
	tcase_add_test(tc, test_brief_event_unpacks);
	tcase_add_test(tc, test_declines_the_rest);
	tcase_add_test(tc, test_news);
	tcase_add_test(tc, test_news_unpacks);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(wire_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
