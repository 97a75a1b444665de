#ifndef FUTURED_BUF_H
#define FUTURED_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer with an optional cap: bytes past the cap are
 * dropped and counted as truncated.  Zero-initialised is empty.
 */
struct buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* 0: unlimited */
	int	 truncated;
};

int	buf_append(struct buf *, const void *, size_t);
/* Room for n more bytes past len (max does not apply); -1: no memory. */
int	buf_reserve(struct buf *, size_t);
/* Keep only the last max bytes (a tail, for stderr). */
int	buf_append_tail(struct buf *, const void *, size_t);
void	buf_reset(struct buf *);
/* Hand the bytes over: the caller frees *data; the buffer is emptied. */
uint8_t	*buf_steal(struct buf *, size_t *);

#endif
