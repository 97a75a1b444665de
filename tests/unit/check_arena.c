/*
 * common/arena.c: allocations are aligned and do not overlap, what does
 * not fit the block still comes back (and goes at the reset: ASan's
 * leak check holds the test to it), a reset gives the block back, and
 * protobuf-c unpacks through it.
 */

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "futured.pb-c.h"

static max_align_t	 block[64];	/* 64 units */
static struct arena	 a;

static void
setup(void)
{
	arena_init(&a, block, sizeof(block));
}

static void
teardown(void)
{
	arena_reset(&a);
}

static void *
get(size_t n)
{
	return (a.pb.alloc(a.pb.allocator_data, n));
}

START_TEST(test_aligned_and_apart)
{
	uint8_t	*p, *q;

	p = get(1);
	q = get(1);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq((uintptr_t)p % sizeof(max_align_t), 0);
	ck_assert_uint_eq((uintptr_t)q % sizeof(max_align_t), 0);
	ck_assert_uint_eq((size_t)(q - p), sizeof(max_align_t));
	ck_assert(p >= (uint8_t *)block && q < (uint8_t *)(block + 64));
	ck_assert_uint_eq(a.used, 2);
}
END_TEST

START_TEST(test_too_big_for_the_block)
{
	uint8_t	*p, *q;

	p = get(sizeof(block) + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert(p < (uint8_t *)block || p >= (uint8_t *)(block + 64));
	memset(p, 0xa5, sizeof(block) + 1);
	ck_assert_uint_eq(a.used, 0);
	/* The block is still there for what fits. */
	q = get(sizeof(block));
	ck_assert_ptr_eq(q, block);
	/* Full: the next one is malloc()ed too. */
	p = get(1);
	ck_assert_ptr_nonnull(p);
	ck_assert(p < (uint8_t *)block || p >= (uint8_t *)(block + 64));
}
END_TEST

START_TEST(test_reset_gives_the_block_back)
{
	ck_assert_ptr_eq(get(100), block);
	(void)get(sizeof(block) * 2);
	arena_reset(&a);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_ptr_null(a.big);
	ck_assert_ptr_eq(get(8), block);
}
END_TEST

START_TEST(test_unpack_through_it)
{
	Futured__Request	 r = FUTURED__REQUEST__INIT, *u;
	Futured__PingRequest	 ping = FUTURED__PING_REQUEST__INIT;
	uint8_t			 buf[64];
	size_t			 n;

	r.id = 77;
	r.body_case = FUTURED__REQUEST__BODY_PING;
	r.ping = &ping;
	n = futured__request__pack(&r, buf);
	u = futured__request__unpack(&a.pb, n, buf);
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(u->id, 77);
	ck_assert_int_eq(u->body_case, FUTURED__REQUEST__BODY_PING);
	ck_assert((uint8_t *)u >= (uint8_t *)block &&
	    (uint8_t *)u < (uint8_t *)(block + 64));
	ck_assert_uint_gt(a.used, 0);
}
END_TEST

static Suite *
arena_suite(void)
{
	Suite	*s = suite_create("arena");
	TCase	*tc = tcase_create("alloc");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_aligned_and_apart);
	tcase_add_test(tc, test_too_big_for_the_block);
	tcase_add_test(tc, test_reset_gives_the_block_back);
	tcase_add_test(tc, test_unpack_through_it);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(arena_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
