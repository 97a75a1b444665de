/*
 * common/buf.c: growable buffers, the cap that drops and flags what is
 * past it, the tail that keeps only the last bytes, and handing the bytes
 * over.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static struct buf	 b;

static void
setup(void)
{
	memset(&b, 0, sizeof(b));
}

static void
teardown(void)
{
	buf_reset(&b);
}

START_TEST(test_append_unlimited)
{
	uint8_t	 chunk[1000];
	size_t	 i;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(buf_append(&b, chunk, sizeof(chunk)), 0);
	ck_assert_uint_eq(b.len, 100 * sizeof(chunk));
	ck_assert_uint_ge(b.cap, b.len);
	ck_assert_int_eq(b.truncated, 0);
	ck_assert_mem_eq(b.data + 99 * sizeof(chunk), chunk, sizeof(chunk));
}
END_TEST

START_TEST(test_append_empty)
{
	ck_assert_int_eq(buf_append(&b, NULL, 0), 0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_cap_truncates)
{
	b.max = 10;
	ck_assert_int_eq(buf_append(&b, "abcdef", 6), 0);
	ck_assert_int_eq(b.truncated, 0);
	ck_assert_int_eq(buf_append(&b, "ghijkl", 6), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(b.truncated, 1);
	ck_assert_mem_eq(b.data, "abcdefghij", 10);

	/* Full: more is dropped, the flag stays. */
	ck_assert_int_eq(buf_append(&b, "x", 1), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(b.truncated, 1);
	ck_assert_mem_eq(b.data, "abcdefghij", 10);
}
END_TEST

START_TEST(test_cap_exact_fit)
{
	b.max = 6;
	ck_assert_int_eq(buf_append(&b, "abc", 3), 0);
	ck_assert_int_eq(buf_append(&b, "def", 3), 0);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_int_eq(b.truncated, 0);
	ck_assert_mem_eq(b.data, "abcdef", 6);
}
END_TEST

START_TEST(test_reset_clears_flag)
{
	b.max = 2;
	buf_append(&b, "abc", 3);
	ck_assert_int_eq(b.truncated, 1);
	buf_reset(&b);
	ck_assert_int_eq(b.truncated, 0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_null(b.data);
}
END_TEST

/*
 * Feed a stream in chunks of varying sizes (smaller than, equal to and
 * larger than the cap) and compare with the last max bytes of it.
 */
START_TEST(test_tail_keeps_last_bytes)
{
	static const size_t	 sizes[] = { 1, 3, 7, 16, 17, 40, 2, 16, 5 };
	uint8_t			 stream[4096], chunk[64];
	size_t			 total = 0, n, i, k;

	b.max = 16;
	for (i = 0; i < 100; i++) {
		n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		for (k = 0; k < n; k++)
			chunk[k] = (uint8_t)('!' + (total + k) % 90);
		ck_assert_int_eq(buf_append_tail(&b, chunk, n), 0);
		memcpy(stream + total, chunk, n);
		total += n;
		ck_assert_uint_le(total, sizeof(stream));

		n = total < b.max ? total : b.max;
		ck_assert_uint_eq(b.len, n);
		ck_assert_mem_eq(b.data, stream + total - n, n);
		ck_assert_int_eq(b.truncated, total > b.max);
	}
}
END_TEST

START_TEST(test_tail_exact_fit_not_truncated)
{
	b.max = 4;
	ck_assert_int_eq(buf_append_tail(&b, "abcd", 4), 0);
	ck_assert_int_eq(b.truncated, 0);
	ck_assert_mem_eq(b.data, "abcd", 4);
	ck_assert_int_eq(buf_append_tail(&b, "e", 1), 0);
	ck_assert_int_eq(b.truncated, 1);
	ck_assert_uint_eq(b.len, 4);
	ck_assert_mem_eq(b.data, "bcde", 4);
}
END_TEST

START_TEST(test_tail_unlimited)
{
	ck_assert_int_eq(buf_append_tail(&b, "abc", 3), 0);
	ck_assert_int_eq(buf_append_tail(&b, "def", 3), 0);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_mem_eq(b.data, "abcdef", 6);
	ck_assert_int_eq(b.truncated, 0);
}
END_TEST

START_TEST(test_steal_hands_over)
{
	uint8_t	*p;
	size_t	 len = 0;

	buf_append(&b, "hello", 5);
	p = buf_steal(&b, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(p, "hello", 5);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);

	/* The emptied buffer is usable again, independently of p. */
	buf_append(&b, "xy", 2);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_mem_eq(b.data, "xy", 2);
	ck_assert_mem_eq(p, "hello", 5);
	free(p);
}
END_TEST

START_TEST(test_steal_empty)
{
	size_t	 len = 99;

	ck_assert_ptr_null(buf_steal(&b, &len));
	ck_assert_uint_eq(len, 0);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc;

	tc = tcase_create("append");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_append_unlimited);
	tcase_add_test(tc, test_append_empty);
	tcase_add_test(tc, test_cap_truncates);
	tcase_add_test(tc, test_cap_exact_fit);
	tcase_add_test(tc, test_reset_clears_flag);
	suite_add_tcase(s, tc);

	tc = tcase_create("tail");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tail_keeps_last_bytes);
	tcase_add_test(tc, test_tail_exact_fit_not_truncated);
	tcase_add_test(tc, test_tail_unlimited);
	suite_add_tcase(s, tc);

	tc = tcase_create("steal");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_steal_hands_over);
	tcase_add_test(tc, test_steal_empty);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(buf_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
