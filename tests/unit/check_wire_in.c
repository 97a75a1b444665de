/*
 * daemon/wire_in.c: whatever frame the hand decoder takes, protobuf-c
 * must take too and decode to the same message (the two packed again
 * compare byte for byte); the plain submits every client sends must be
 * taken; and every other form must be declined, never misread.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "arena.h"
#include "wire.h"

#define ROUNDS	20000

/* The daemon decodes into an arena: so does the test. */
static max_align_t	 block[65536 / sizeof(max_align_t)];
static struct arena	 arena;
#define ALLOC		(&arena.pb)

#define RND_SEED	0x9e3779b97f4a7c15ULL
#include "testrnd.h"

/* A plain random submit, packed by protobuf-c into *out. */
static size_t
rnd_submit(uint8_t **out)
{
	static Futured__KeyValue	 kvs[8], *env[4], *ctx[4];
	static char			*args[5];
	static uint64_t			 after[4];
	static uint8_t			 payload[300];
	Futured__Request		 req = FUTURED__REQUEST__INIT;
	Futured__SubmitRequest		 sr = FUTURED__SUBMIT_REQUEST__INIT;
	Futured__JobSpec		 s = FUTURED__JOB_SPEC__INIT;
	size_t				 i, len;

	s.handler = rnd_str();
	if ((s.has_kind = coin()))
		s.kind = (Futured__Kind)(rnd() % 4);
	if ((s.has_payload = coin())) {
		s.payload.len = rnd() % sizeof(payload);
		s.payload.data = payload;
	}
	s.n_args = rnd() % 5;
	for (i = 0; i < s.n_args; i++)
		args[i] = rnd_str();
	s.args = args;
	s.n_env = rnd() % 4;
	s.n_ctx = rnd() % 4;
	for (i = 0; i < 8; i++) {
		futured__key_value__init(&kvs[i]);
		kvs[i].key = rnd_str();
		kvs[i].value = rnd_str();
	}
	for (i = 0; i < 4; i++) {
		env[i] = &kvs[i];
		ctx[i] = &kvs[4 + i];
	}
	s.env = env;
	s.ctx = ctx;
	s.cwd = coin() ? rnd_str() : NULL;
	if ((s.has_timeout_ms = coin()))
		s.timeout_ms = (int64_t)rnd_u64();
	if ((s.has_deadline_ms = coin()))
		s.deadline_ms = (int64_t)rnd_u64();
	if ((s.has_priority = coin()))
		s.priority = (int32_t)rnd_u64();
	s.group = coin() ? rnd_str() : NULL;
	s.n_after = rnd() % 4;
	for (i = 0; i < s.n_after; i++)
		after[i] = rnd_u64();
	s.after = after;
	if ((s.has_input_from = coin()))
		s.input_from = rnd_u64();
	if ((s.has_retries = coin()))
		s.retries = (uint32_t)rnd_u64();
	s.name = coin() ? rnd_str() : NULL;
	if ((s.has_retry_delay_ms = coin()))
		s.retry_delay_ms = (int64_t)rnd_u64();
	if ((s.has_retry_timeouts = coin()))
		s.retry_timeouts = coin();
	if ((s.has_parent = coin()))
		s.parent = rnd_u64();
	s.engine = coin() ? rnd_str() : NULL;
	sr.spec = &s;
	if ((sr.has_notify = coin()))
		sr.notify = coin();
	if ((sr.has_brief = coin()))
		sr.brief = coin();
	if ((sr.has_watch = coin()))
		sr.watch = coin();
	if ((sr.has_watch_progress_only = coin()))
		sr.watch_progress_only = coin();
	if ((sr.has_news = coin()))
		sr.news = coin();
	req.id = rnd_u64();
	req.body_case = FUTURED__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	len = futured__request__get_packed_size(&req);
	*out = malloc(len + 1);
	ck_assert(*out != NULL);
	ck_assert_uint_eq(futured__request__pack(&req, *out), len);
	return (len);
}

/*
 * Decode data both ways.  If the hand decoder takes it, protobuf-c must
 * too, to the same message.  Returns whether the hand decoder took it.
 */
static int
ck_agree(const uint8_t *data, size_t len)
{
	Futured__Request	*hand, *pb;
	size_t			 hl, pl;
	uint8_t			*hb, *pbb;

	hand = wire_decode_submit(ALLOC, data, len);
	if (hand == NULL) {
		arena_reset(&arena);
		return (0);
	}
	pb = futured__request__unpack(NULL, len, data);
	ck_assert_msg(pb != NULL, "hand decoder took a frame protobuf-c "
	    "refuses");
	hl = futured__request__get_packed_size(hand);
	pl = futured__request__get_packed_size(pb);
	ck_assert_uint_eq(hl, pl);
	hb = malloc(hl + 1);
	pbb = malloc(pl + 1);
	ck_assert(hb != NULL && pbb != NULL);
	futured__request__pack(hand, hb);
	futured__request__pack(pb, pbb);
	ck_assert_mem_eq(hb, pbb, hl);
	free(hb);
	free(pbb);
	futured__request__free_unpacked(pb, NULL);
	arena_reset(&arena);
	return (1);
}

START_TEST(test_plain_submits_taken)
{
	uint8_t	*data;
	size_t	 len;
	int	 r;

	for (r = 0; r < ROUNDS; r++) {
		len = rnd_submit(&data);
		ck_assert_msg(ck_agree(data, len), "a plain submit declined");
		free(data);
	}
}
END_TEST

/* Bytes flipped, cut, duplicated: taken only where protobuf-c agrees. */
START_TEST(test_mangled_frames_agree)
{
	uint8_t	*data, *m;
	size_t	 len, mlen, i;
	int	 r, taken = 0, declined = 0;

	for (r = 0; r < ROUNDS; r++) {
		len = rnd_submit(&data);
		m = malloc(2 * len + 16);
		ck_assert(m != NULL);
		memcpy(m, data, len);
		mlen = len;
		switch (rnd() % 4) {
		case 0:
			for (i = 0; i < 1 + rnd() % 3; i++)
				m[rnd() % mlen] ^= (uint8_t)(1 << (rnd() % 8));
			break;
		case 1:
			mlen = rnd() % (len + 1);
			break;
		case 2:
			/* The whole frame again: every field twice. */
			memcpy(m + len, data, len);
			mlen = 2 * len;
			break;
		case 3:
			m[rnd() % mlen] = (uint8_t)rnd();
			break;
		}
		if (ck_agree(m, mlen))
			taken++;
		else
			declined++;
		free(m);
		free(data);
	}
	/* Both ways exercised. */
	ck_assert_int_gt(taken, 100);
	ck_assert_int_gt(declined, 100);
}
END_TEST

START_TEST(test_declines_the_rest)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__PingRequest	 ping = FUTURED__PING_REQUEST__INIT;
	Futured__Request	*pb;
	uint8_t			 buf[64];
	size_t			 len;
	/* Request{id 1, submit{spec{handler "e", after packed [1,2]}}} */
	static const uint8_t	 packed_after[] = {
		0x08, 0x01, 0x5a, 0x09, 0x0a, 0x07, 0x0a, 0x01, 'e',
		0x62, 0x02, 0x01, 0x02
	};
	/* ... and a field 99 in the spec, unknown to this daemon. */
	static const uint8_t	 unknown[] = {
		0x08, 0x01, 0x5a, 0x08, 0x0a, 0x06, 0x0a, 0x01, 'e',
		0x98, 0x06, 0x01
	};
	/* ... and a spec without its handler. */
	static const uint8_t	 no_handler[] = {
		0x08, 0x01, 0x5a, 0x04, 0x0a, 0x02, 0x10, 0x01
	};

	req.id = 7;
	req.body_case = FUTURED__REQUEST__BODY_PING;
	req.ping = &ping;
	len = futured__request__pack(&req, buf);
	ck_assert_ptr_null(wire_decode_submit(ALLOC,
	    buf, len));
	ck_assert_ptr_null(wire_decode_submit(ALLOC,
	    packed_after, sizeof(packed_after)));
	/* protobuf-c takes it (an unknown field), the hand decoder not. */
	pb = futured__request__unpack(NULL, sizeof(unknown), unknown);
	ck_assert_ptr_nonnull(pb);
	futured__request__free_unpacked(pb, NULL);
	ck_assert_ptr_null(wire_decode_submit(ALLOC,
	    unknown, sizeof(unknown)));
	ck_assert_ptr_null(wire_decode_submit(ALLOC,
	    no_handler, sizeof(no_handler)));
	arena_reset(&arena);
}
END_TEST

/*
 * A field added to JobSpec or SubmitRequest is declined until wire_in.c
 * learns it (a slower path, never a wrong one); these counts say when.
 */
START_TEST(test_knows_every_field)
{
	ck_assert_uint_eq(futured__job_spec__descriptor.n_fields, 19);
	ck_assert_uint_eq(futured__submit_request__descriptor.n_fields, 6);
	ck_assert_uint_eq(futured__key_value__descriptor.n_fields, 2);
}
END_TEST

static Suite *
wire_in_suite(void)
{
	Suite	*s = suite_create("wire_in");
	TCase	*tc = tcase_create("decode");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_plain_submits_taken);
	tcase_add_test(tc, test_mangled_frames_agree);
	tcase_add_test(tc, test_declines_the_rest);
	tcase_add_test(tc, test_knows_every_field);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(wire_in_suite());
	int	 failed;

	arena_init(&arena, block, sizeof(block));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
