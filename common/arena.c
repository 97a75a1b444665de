/* See arena.h. */

#include <stdint.h>
#include <stdlib.h>

#include "arena.h"

struct arena_big {
	struct arena_big	*next;
	max_align_t		 data[];
};

static void *
arena_alloc(void *arg, size_t n)
{
	struct arena		*a = arg;
	struct arena_big	*b;
	size_t			 units;

	units = n / sizeof(max_align_t) + (n % sizeof(max_align_t) != 0);
	if (units <= a->units - a->used) {
		a->used += units;
		return (&a->block[a->used - units]);
	}
	/* NULL: protobuf-c reports the message undecodable. */
	if (n > SIZE_MAX - sizeof(*b) || (b = malloc(sizeof(*b) + n)) == NULL)
		return (NULL);
	b->next = a->big;
	a->big = b;
	return (b->data);
}

static void
arena_free(void *arg, void *p)
{
	/* Everything goes at arena_reset(). */
	(void)arg;
	(void)p;
}

void
arena_init(struct arena *a, max_align_t *block, size_t bytes)
{
	a->pb.alloc = arena_alloc;
	a->pb.free = arena_free;
	a->pb.allocator_data = a;
	a->block = block;
	a->units = bytes / sizeof(max_align_t);
	a->used = 0;
	a->big = NULL;
}

void
arena_reset(struct arena *a)
{
	struct arena_big	*b;

	while ((b = a->big) != NULL) {
		a->big = b->next;
		free(b);
	}
	a->used = 0;
}
