/*
 * common/htab.c: the intrusive hash table of libfutured (pending
 * requests, futures by job id): lookups across growth, several nodes of
 * one key, removal, draining.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "htab.h"

struct item {
	struct hnode	 node;
	int		 seen;
};

/* Thousands of sequential keys: every one found after the table grew. */
START_TEST(test_grow_find)
{
	struct htab	 t;
	struct item	*it;
	size_t		 i, n = 5000;

	ck_assert_int_eq(htab_init(&t), 0);
	it = calloc(n, sizeof(*it));
	ck_assert_ptr_nonnull(it);
	for (i = 0; i < n; i++)
		htab_insert(&t, &it[i].node, i + 1);
	ck_assert_uint_eq(t.n, n);
	ck_assert_uint_gt(t.nb, 64);
	for (i = 0; i < n; i++)
		ck_assert_ptr_eq(htab_find(&t, i + 1), &it[i].node);
	ck_assert_ptr_null(htab_find(&t, n + 1));
	ck_assert_ptr_null(htab_find(&t, 0));
	for (i = 0; i < n; i += 2)
		htab_remove(&t, &it[i].node);
	for (i = 0; i < n; i++)
		ck_assert_ptr_eq(htab_find(&t, i + 1),
		    i % 2 ? &it[i].node : NULL);
	htab_free(&t);
	free(it);
}
END_TEST

/* Three nodes of one key, one of another: FOREACH_KEY visits the three. */
START_TEST(test_same_key)
{
	struct htab	 t;
	struct item	 it[4] = { { .seen = 0 } };
	struct hnode	*n;
	int		 count = 0;

	ck_assert_int_eq(htab_init(&t), 0);
	htab_insert(&t, &it[0].node, 7);
	htab_insert(&t, &it[1].node, 7);
	htab_insert(&t, &it[2].node, 7);
	htab_insert(&t, &it[3].node, 7 + 64);	/* likely another bucket */
	HTAB_FOREACH_KEY(n, &t, 7) {
		HTAB_ENTRY(struct item, node, n)->seen++;
		count++;
	}
	ck_assert_int_eq(count, 3);
	ck_assert_int_eq(it[0].seen + it[1].seen + it[2].seen, 3);
	ck_assert_int_eq(it[3].seen, 0);
	htab_free(&t);
}
END_TEST

/* htab_pop drains every node exactly once. */
START_TEST(test_pop)
{
	struct htab	 t;
	struct item	 it[100] = { { .seen = 0 } };
	struct hnode	*n;
	size_t		 i;

	ck_assert_int_eq(htab_init(&t), 0);
	for (i = 0; i < 100; i++)
		htab_insert(&t, &it[i].node, i * 1000003);
	while ((n = htab_pop(&t)) != NULL)
		HTAB_ENTRY(struct item, node, n)->seen++;
	ck_assert_uint_eq(t.n, 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(it[i].seen, 1);
	ck_assert_ptr_null(htab_pop(&t));
	htab_free(&t);
}
END_TEST

static Suite *
htab_suite(void)
{
	Suite	*s = suite_create("htab");
	TCase	*tc;

	tc = tcase_create("htab");
	tcase_add_test(tc, test_grow_find);
	tcase_add_test(tc, test_same_key);
	tcase_add_test(tc, test_pop);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(htab_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
