/*
 * An intrusive hash table keyed by uint64_t: the node lives inside the
 * caller's struct (HTAB_ENTRY gets the struct back), so inserting never
 * allocates except when the table grows.  Several nodes may share a key.
 * Not thread-safe: the caller locks.
 */

#ifndef FUTURED_HTAB_H
#define FUTURED_HTAB_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct hnode {
	uint64_t		 key;
	LIST_ENTRY(hnode)	 entry;
};
LIST_HEAD(hlist, hnode);
struct htab {
	struct hlist		*b;
	size_t			 nb;		/* buckets, a power of two */
	size_t			 n;		/* nodes */
};

#define HTAB_ENTRY(type, field, p) \
	((type *)(void *)((char *)(p) - offsetof(type, field)))

/* Every node of key k, in no particular order; do not remove n in body. */
#define HTAB_FOREACH_KEY(n, t, k)					\
	LIST_FOREACH((n), &(t)->b[htab_slot((t), (k))], entry)		\
		if ((n)->key == (k))

int		 htab_init(struct htab *);
/* Free the buckets; the nodes are the caller's. */
void		 htab_free(struct htab *);
size_t		 htab_slot(const struct htab *, uint64_t);
void		 htab_insert(struct htab *, struct hnode *, uint64_t);
void		 htab_remove(struct htab *, struct hnode *);
/* One node of key, or NULL. */
struct hnode	*htab_find(struct htab *, uint64_t);
/* Remove and return any one node, or NULL when empty (to drain it). */
struct hnode	*htab_pop(struct htab *);

#endif /* FUTURED_HTAB_H */
