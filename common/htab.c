/*
 * Hash table of uint64_t keys.  Chains are <sys/queue.h> lists; the table
 * doubles when it holds twice as many nodes as buckets, and if that
 * allocation fails it simply keeps longer chains.
 */

#include <stdlib.h>

#include "htab.h"

#define HTAB_MINBUCKETS	64

size_t
htab_slot(const struct htab *t, uint64_t key)
{
	/* The finaliser of MurmurHash3: job ids are sequential. */
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (key & (t->nb - 1));
}

int
htab_init(struct htab *t)
{
	size_t	 i;

	t->nb = HTAB_MINBUCKETS;
	t->n = 0;
	if ((t->b = calloc(t->nb, sizeof(*t->b))) == NULL)
		return (-1);
	for (i = 0; i < t->nb; i++)
		LIST_INIT(&t->b[i]);
	return (0);
}

void
htab_free(struct htab *t)
{
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}

static void
htab_grow(struct htab *t)
{
	struct hlist	*nb, *ob = t->b;
	struct hnode	*n;
	size_t		 i, onb = t->nb;

	if ((nb = calloc(onb * 2, sizeof(*nb))) == NULL)
		return;		/* longer chains, still correct */
	t->b = nb;
	t->nb = onb * 2;
	for (i = 0; i < t->nb; i++)
		LIST_INIT(&t->b[i]);
	for (i = 0; i < onb; i++) {
		while ((n = LIST_FIRST(&ob[i])) != NULL) {
			LIST_REMOVE(n, entry);
			LIST_INSERT_HEAD(&t->b[htab_slot(t, n->key)], n,
			    entry);
		}
	}
	free(ob);
}

void
htab_insert(struct htab *t, struct hnode *n, uint64_t key)
{
	if (t->n >= t->nb * 2)
		htab_grow(t);
	n->key = key;
	LIST_INSERT_HEAD(&t->b[htab_slot(t, key)], n, entry);
	t->n++;
}

void
htab_remove(struct htab *t, struct hnode *n)
{
	LIST_REMOVE(n, entry);
	t->n--;
}

struct hnode *
htab_find(struct htab *t, uint64_t key)
{
	struct hnode	*n;

	HTAB_FOREACH_KEY(n, t, key)
		return (n);
	return (NULL);
}

struct hnode *
htab_pop(struct htab *t)
{
	struct hnode	*n;
	size_t		 i;

	if (t->n == 0)
		return (NULL);
	for (i = 0; i < t->nb; i++) {
		if ((n = LIST_FIRST(&t->b[i])) != NULL) {
			htab_remove(t, n);
			return (n);
		}
	}
	return (NULL);
}
