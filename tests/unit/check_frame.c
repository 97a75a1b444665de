/*
 * common/frame.c: the 4-byte big-endian length header, and the limit
 * checked before anything is allocated.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

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
