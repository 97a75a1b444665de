/*
 * common/frame.c: the 4-byte big-endian length header, the limit
 * checked before anything is allocated, and the frame reader that
 * reassembles frames from a stream cut anywhere.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include <string.h>

#include "frame.h"

START_TEST(test_header_round_trip)
{
	static const uint32_t	 lens[] = {
		0, 1, 255, 256, 65535, 65536, 0x00abcdef, FUTURED_FRAME_MAX
	};
	uint8_t			 hdr[FRAME_HDR_LEN];
	uint32_t		 len;
	size_t			 i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		frame_header_encode(hdr, lens[i]);
		ck_assert_int_eq(frame_header_decode(hdr, FUTURED_FRAME_MAX,
		    &len), 0);
		ck_assert_uint_eq(len, lens[i]);
	}
}
END_TEST

START_TEST(test_header_big_endian)
{
	static const uint8_t	 want[FRAME_HDR_LEN] = { 0x01, 0x02, 0x03, 0x04 };
	uint8_t			 hdr[FRAME_HDR_LEN];
	uint32_t		 len;

	frame_header_encode(hdr, 0x01020304);
	ck_assert_mem_eq(hdr, want, sizeof(want));

	ck_assert_int_eq(frame_header_decode(want, UINT32_MAX, &len), 0);
	ck_assert_uint_eq(len, 0x01020304);
}
END_TEST

START_TEST(test_header_high_bit)
{
	/* No sign extension of the top byte. */
	static const uint8_t	 hdr[FRAME_HDR_LEN] = { 0x80, 0x00, 0x00, 0xff };
	uint32_t		 len;

	ck_assert_int_eq(frame_header_decode(hdr, UINT32_MAX, &len), 0);
	ck_assert_uint_eq(len, 0x800000ffU);
}
END_TEST

START_TEST(test_limit_accepted)
{
	uint8_t		 hdr[FRAME_HDR_LEN];
	uint32_t	 len = 0;

	frame_header_encode(hdr, FUTURED_FRAME_MAX);
	ck_assert_int_eq(frame_header_decode(hdr, FUTURED_FRAME_MAX, &len), 0);
	ck_assert_uint_eq(len, FUTURED_FRAME_MAX);

	frame_header_encode(hdr, 100);
	ck_assert_int_eq(frame_header_decode(hdr, 100, &len), 0);
	ck_assert_uint_eq(len, 100);
}
END_TEST

START_TEST(test_limit_plus_one_rejected)
{
	uint8_t		 hdr[FRAME_HDR_LEN];
	uint32_t	 len = 0;

	frame_header_encode(hdr, FUTURED_FRAME_MAX + 1);
	ck_assert_int_eq(frame_header_decode(hdr, FUTURED_FRAME_MAX, &len), -1);
	ck_assert_uint_eq(len, FUTURED_FRAME_MAX + 1);

	frame_header_encode(hdr, 101);
	ck_assert_int_eq(frame_header_decode(hdr, 100, &len), -1);
	ck_assert_uint_eq(len, 101);
}
END_TEST

START_TEST(test_4gib_rejected)
{
	static const uint8_t	 hdr[FRAME_HDR_LEN] = { 0xff, 0xff, 0xff, 0xff };
	uint32_t		 len = 0;

	ck_assert_int_eq(frame_header_decode(hdr, FUTURED_FRAME_MAX, &len), -1);
	ck_assert_uint_eq(len, 0xffffffffU);
}
END_TEST

START_TEST(test_zero_limit)
{
	uint8_t		 hdr[FRAME_HDR_LEN];
	uint32_t	 len = 1;

	frame_header_encode(hdr, 0);
	ck_assert_int_eq(frame_header_decode(hdr, 0, &len), 0);
	ck_assert_uint_eq(len, 0);
	frame_header_encode(hdr, 1);
	ck_assert_int_eq(frame_header_decode(hdr, 0, &len), -1);
}
END_TEST

/* Append one frame holding msg to b. */
static void
put_frame(struct buf *b, const char *msg)
{
	uint8_t	 hdr[FRAME_HDR_LEN];

	frame_header_encode(hdr, strlen(msg));
	ck_assert_int_eq(buf_append(b, hdr, sizeof(hdr)), 0);
	ck_assert_int_eq(buf_append(b, msg, strlen(msg)), 0);
}

/* Fed one byte at a time, three frames come out whole and in order. */
START_TEST(test_reader_bytewise)
{
	static const char	*msgs[] = { "one", "", "three!" };
	struct frame_reader	 fr;
	struct buf		 b;
	const uint8_t		*m;
	uint32_t		 len;
	size_t			 i, got = 0;
	int			 rc;

	memset(&fr, 0, sizeof(fr));
	memset(&b, 0, sizeof(b));
	fr.max = 64;
	for (i = 0; i < 3; i++)
		put_frame(&b, msgs[i]);
	for (i = 0; i < b.len; i++) {
		ck_assert_int_eq(frame_reader_append(&fr, b.data + i, 1), 0);
		while ((rc = frame_reader_next(&fr, &m, &len)) == 1) {
			ck_assert_uint_lt(got, 3);
			ck_assert_uint_eq(len, strlen(msgs[got]));
			ck_assert_mem_eq(m, msgs[got], len);
			got++;
		}
		ck_assert_int_eq(rc, 0);
		frame_reader_compact(&fr);
	}
	ck_assert_uint_eq(got, 3);
	ck_assert_uint_eq(frame_reader_pending(&fr), 0);
	frame_reader_reset(&fr);
	buf_reset(&b);
}
END_TEST

/* A frame over max stops the reader before its body is read. */
START_TEST(test_reader_over_max)
{
	struct frame_reader	 fr;
	struct buf		 b;
	const uint8_t		*m;
	uint32_t		 len;

	memset(&fr, 0, sizeof(fr));
	memset(&b, 0, sizeof(b));
	fr.max = 4;
	put_frame(&b, "ok");
	put_frame(&b, "too long");
	ck_assert_int_eq(frame_reader_append(&fr, b.data, b.len), 0);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 1);
	ck_assert_mem_eq(m, "ok", 2);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), -1);
	ck_assert_uint_eq(len, 8);
	frame_reader_reset(&fr);
	buf_reset(&b);
}
END_TEST

/* Compacting keeps a partial frame that completes later. */
START_TEST(test_reader_compact_partial)
{
	struct frame_reader	 fr;
	struct buf		 b;
	const uint8_t		*m;
	uint32_t		 len;

	memset(&fr, 0, sizeof(fr));
	memset(&b, 0, sizeof(b));
	fr.max = 64;
	put_frame(&b, "a");
	put_frame(&b, "bcdef");
	ck_assert_int_eq(frame_reader_append(&fr, b.data, b.len - 2), 0);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 1);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 0);
	frame_reader_compact(&fr);
	ck_assert_uint_eq(frame_reader_pending(&fr), FRAME_HDR_LEN + 3);
	ck_assert_int_eq(frame_reader_append(&fr, b.data + b.len - 2, 2), 0);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 1);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(m, "bcdef", 5);
	frame_reader_reset(&fr);
	buf_reset(&b);
}
END_TEST

/*
 * Read straight into the reader: the room asked for is there, bytes
 * committed become frames, a frame cut between two reads completes.
 */
START_TEST(test_reader_space_commit)
{
	struct frame_reader	 fr;
	struct buf		 b;
	const uint8_t		*m;
	uint8_t			*p;
	uint32_t		 len;
	size_t			 room, cut;

	memset(&fr, 0, sizeof(fr));
	memset(&b, 0, sizeof(b));
	fr.max = 64;
	put_frame(&b, "first");
	put_frame(&b, "second");
	cut = FRAME_HDR_LEN + 5 + 3;

	p = frame_reader_space(&fr, 100, &room);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(room, 100);
	memcpy(p, b.data, cut);
	frame_reader_commit(&fr, cut);
	ck_assert_uint_eq(frame_reader_pending(&fr), cut);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 1);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(m, "first", 5);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 0);
	frame_reader_compact(&fr);

	p = frame_reader_space(&fr, 1, &room);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(room, b.len - cut);
	memcpy(p, b.data + cut, b.len - cut);
	frame_reader_commit(&fr, b.len - cut);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 1);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(m, "second", 6);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 0);
	frame_reader_compact(&fr);
	ck_assert_uint_eq(frame_reader_pending(&fr), 0);
	frame_reader_reset(&fr);
	buf_reset(&b);
}
END_TEST

/*
 * A large frame's buffer is freed once it is taken, a small one kept
 * (it is reused by every read).
 */
START_TEST(test_reader_compact_releases)
{
	struct frame_reader	 fr;
	const uint8_t		*m;
	uint8_t			*p;
	uint32_t		 len;
	size_t			 room;

	memset(&fr, 0, sizeof(fr));
	fr.max = 4 * FRAME_READER_KEEP;
	p = frame_reader_space(&fr, 2 * FRAME_READER_KEEP, &room);
	ck_assert_ptr_nonnull(p);
	memset(p, 'x', 2 * FRAME_READER_KEEP);
	frame_header_encode(p, 2 * FRAME_READER_KEEP - FRAME_HDR_LEN);
	frame_reader_commit(&fr, 2 * FRAME_READER_KEEP);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 1);
	ck_assert_uint_eq(len, 2 * FRAME_READER_KEEP - FRAME_HDR_LEN);
	frame_reader_compact(&fr);
	ck_assert_uint_eq(fr.in.cap, 0);
	ck_assert_ptr_null(fr.in.data);

	p = frame_reader_space(&fr, 64, &room);
	ck_assert_ptr_nonnull(p);
	frame_header_encode(p, 0);
	frame_reader_commit(&fr, FRAME_HDR_LEN);
	ck_assert_int_eq(frame_reader_next(&fr, &m, &len), 1);
	frame_reader_compact(&fr);
	ck_assert_ptr_eq(frame_reader_space(&fr, 1, &room), p);
	frame_reader_reset(&fr);
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite	*s = suite_create("frame");
	TCase	*tc;

	tc = tcase_create("encoding");
	tcase_add_test(tc, test_header_round_trip);
	tcase_add_test(tc, test_header_big_endian);
	tcase_add_test(tc, test_header_high_bit);
	suite_add_tcase(s, tc);

	tc = tcase_create("limit");
	tcase_add_test(tc, test_limit_accepted);
	tcase_add_test(tc, test_limit_plus_one_rejected);
	tcase_add_test(tc, test_4gib_rejected);
	tcase_add_test(tc, test_zero_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("reader");
	tcase_add_test(tc, test_reader_bytewise);
	tcase_add_test(tc, test_reader_over_max);
	tcase_add_test(tc, test_reader_compact_partial);
	tcase_add_test(tc, test_reader_space_commit);
	tcase_add_test(tc, test_reader_compact_releases);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(frame_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
