/*
 * daemon/journal_pack.c: the hand-packed ACCEPT, START and FINAL records
 * must be byte for byte what protobuf-c packs, for random combinations
 * of their fields (present or not, negative numbers, lengths that take
 * two-byte varints), and every other record is left to protobuf-c.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "journal.pb-c.h"
#include "journal.h"

#define ROUNDS	20000

#include "testrnd.h"

static void
ck_same(const ProtobufCMessage *m)
{
	size_t	 want, got;
	uint8_t	*a, *b;

	want = protobuf_c_message_get_packed_size(m);
	got = journal_pack_size(m);
	ck_assert_uint_eq(got, want);
	a = malloc(want + 1);
	b = malloc(want + 1);
	ck_assert(a != NULL && b != NULL);
	ck_assert_uint_eq(protobuf_c_message_pack(m, a), want);
	ck_assert_uint_eq(journal_pack(m, b), want);
	ck_assert_mem_eq(a, b, want);
	free(a);
	free(b);
}

START_TEST(test_accept)
{
	FuturedJournal__Accept		 a;
	FuturedJournal__KeyValue	 kvs[4], *ptrs[4];
	char				*args[5], *env[5];
	uint64_t			 after[4];
	uint8_t				 payload[300];
	size_t				 i;
	int				 r;

	for (r = 0; r < ROUNDS; r++) {
		futured_journal__accept__init(&a);
		a.id = rnd_u64();
		a.owner = (uint32_t)rnd_u64();
		a.handler = rnd_str();
		a.kind = (uint32_t)rnd() % 4;
		if ((a.has_payload = coin())) {
			a.payload.len = rnd() % sizeof(payload);
			a.payload.data = payload;
		}
		a.n_args = rnd() % 5;
		for (i = 0; i < a.n_args; i++)
			args[i] = rnd_str();
		a.args = args;
		a.n_env = rnd() % 5;
		for (i = 0; i < a.n_env; i++)
			env[i] = rnd_str();
		a.env = env;
		a.n_ctx = rnd() % 4;
		for (i = 0; i < a.n_ctx; i++) {
			futured_journal__key_value__init(&kvs[i]);
			kvs[i].key = rnd_str();
			kvs[i].value = rnd_str();
			ptrs[i] = &kvs[i];
		}
		a.ctx = ptrs;
		a.cwd = coin() ? rnd_str() : NULL;
		if ((a.has_timeout_ms = coin()))
			a.timeout_ms = (int64_t)rnd_u64();
		if ((a.has_deadline_ms = coin()))
			a.deadline_ms = (int64_t)rnd_u64();
		if ((a.has_priority = coin()))
			a.priority = (int32_t)(rnd() % 41) - 20;
		a.group = coin() ? rnd_str() : NULL;
		a.n_after = rnd() % 4;
		for (i = 0; i < a.n_after; i++)
			after[i] = rnd_u64();
		a.after = after;
		if ((a.has_input_from = coin()))
			a.input_from = rnd_u64();
		if ((a.has_retries = coin()))
			a.retries = (uint32_t)rnd_u64();
		a.name = coin() ? rnd_str() : NULL;
		if ((a.has_retry_delay_ms = coin()))
			a.retry_delay_ms = (int64_t)rnd_u64();
		if ((a.has_retry_timeouts = coin()))
			a.retry_timeouts = coin();
		if ((a.has_parent = coin()))
			a.parent = rnd_u64();
		a.submitted_at = (int64_t)rnd_u64();
		if ((a.has_input_resolved = coin()))
			a.input_resolved = coin();
		if ((a.has_worker = coin()))
			a.worker = coin();
		if ((a.has_engine = coin()))
			a.engine = (uint32_t)rnd_u64();
		ck_same(&a.base);
	}
}
END_TEST

START_TEST(test_start)
{
	FuturedJournal__Start	 s;
	int			 r;

	for (r = 0; r < ROUNDS; r++) {
		futured_journal__start__init(&s);
		s.id = rnd_u64();
		s.attempt = (uint32_t)rnd_u64();
		if ((s.has_started_at = coin()))
			s.started_at = (int64_t)rnd_u64();
		if ((s.has_pid = coin()))
			s.pid = (int32_t)rnd_u64();
		if ((s.has_proc_start = coin()))
			s.proc_start = rnd_u64();
		s.boot_id = coin() ? rnd_str() : NULL;
		s.engine_id = coin() ? rnd_str() : NULL;
		ck_same(&s.base);
	}
}
END_TEST

START_TEST(test_final)
{
	FuturedJournal__Final	 f;
	uint8_t			 out[300], tail[200];
	int			 r;

	memset(out, 'o', sizeof(out));
	memset(tail, 't', sizeof(tail));
	for (r = 0; r < ROUNDS; r++) {
		futured_journal__final__init(&f);
		f.id = rnd_u64();
		f.state = (uint32_t)rnd() % 8;
		if ((f.has_exit_status = coin()))
			f.exit_status = (int32_t)rnd_u64();
		if ((f.has_signal = coin()))
			f.signal = (int32_t)rnd_u64();
		if ((f.has_error_code = coin()))
			f.error_code = (uint32_t)rnd_u64();
		f.error = coin() ? rnd_str() : NULL;
		f.ended = coin() ? rnd_str() : NULL;
		if ((f.has_output = coin())) {
			f.output.len = rnd() % sizeof(out);
			f.output.data = out;
		}
		if ((f.has_output_truncated = coin()))
			f.output_truncated = coin();
		if ((f.has_stderr_tail = coin())) {
			f.stderr_tail.len = rnd() % sizeof(tail);
			f.stderr_tail.data = tail;
		}
		if ((f.has_started_at = coin()))
			f.started_at = (int64_t)rnd_u64();
		if ((f.has_finished_at = coin()))
			f.finished_at = (int64_t)rnd_u64();
		if ((f.has_attempts = coin()))
			f.attempts = (uint32_t)rnd_u64();
		if ((f.has_stderr_truncated = coin()))
			f.stderr_truncated = coin();
		ck_same(&f.base);
	}
}
END_TEST

/*
 * A field added to journal.proto must be added to journal_pack.c and to
 * the tests above: these are the counts they know.
 */
START_TEST(test_knows_every_field)
{
	ck_assert_uint_eq(futured_journal__accept__descriptor.n_fields, 24);
	ck_assert_uint_eq(futured_journal__start__descriptor.n_fields, 7);
	ck_assert_uint_eq(futured_journal__final__descriptor.n_fields, 14);
}
END_TEST

/* Other records, and a message with unknown fields, go to protobuf-c. */
START_TEST(test_declines_the_rest)
{
	FuturedJournal__Requeue		 q = FUTURED_JOURNAL__REQUEUE__INIT;
	FuturedJournal__Checkpoint	 c = FUTURED_JOURNAL__CHECKPOINT__INIT;
	FuturedJournal__Start		 s = FUTURED_JOURNAL__START__INIT;
	ProtobufCMessageUnknownField	 u;

	ck_assert_uint_eq(journal_pack_size(&q.base), 0);
	ck_assert_uint_eq(journal_pack_size(&c.base), 0);
	ck_assert_uint_ne(journal_pack_size(&s.base), 0);
	memset(&u, 0, sizeof(u));
	s.base.n_unknown_fields = 1;
	s.base.unknown_fields = &u;
	ck_assert_uint_eq(journal_pack_size(&s.base), 0);
}
END_TEST

static Suite *
journal_pack_suite(void)
{
	Suite	*s = suite_create("journal_pack");
	TCase	*tc = tcase_create("pack");

	/* 60000 messages packed three times: slow under TSan. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_accept);
	tcase_add_test(tc, test_start);
	tcase_add_test(tc, test_final);
	tcase_add_test(tc, test_knows_every_field);
	tcase_add_test(tc, test_declines_the_rest);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(journal_pack_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
