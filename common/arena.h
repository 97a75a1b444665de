#ifndef FUTURED_ARENA_H
#define FUTURED_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/*
 * A bump allocator for decoding one protobuf message at a time: unpack
 * with &arena.pb, read the message, then arena_reset() frees everything
 * it took at once instead of a free() per field.  What does not fit in
 * the block is malloc()ed and chained for the reset.  Not thread-safe:
 * one user at a time.
 */
struct arena_big;
struct arena {
	ProtobufCAllocator	 pb;
	max_align_t		*block;
	size_t			 units;		/* block's size, in max_align_t */
	size_t			 used;
	struct arena_big	*big;
};

/* Use block (bytes long, caller's) for a; a was not in use. */
void	 arena_init(struct arena *, max_align_t *, size_t);
/* Free all a gave out.  A zeroed, never initialised arena is fine. */
void	 arena_reset(struct arena *);

#endif /* FUTURED_ARENA_H */
