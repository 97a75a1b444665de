/*
 * Byte buffers for job output and stderr tails.
 */

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int
buf_grow(struct buf *b, size_t need)
{
	size_t	 cap;
	uint8_t	*p;

	if (need <= b->cap)
		return (0);
	cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL)
		return (-1);
	b->data = p;
	b->cap = cap;
	return (0);
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->max != 0 && b->len + n > b->max) {
		b->truncated = 1;
		n = b->max - b->len;
	}
	if (n == 0)
		return (0);
	if (buf_grow(b, b->len + n) == -1)
		return (-1);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return (0);
}

int
buf_reserve(struct buf *b, size_t n)
{
	if (n > SIZE_MAX - b->len)
		return (-1);
	return (buf_grow(b, b->len + n));
}

int
buf_append_tail(struct buf *b, const void *p, size_t n)
{
	const uint8_t	*s = p;
	size_t		 keep;

	if (b->max == 0)
		return (buf_append(b, p, n));
	if (n >= b->max) {
		b->truncated |= (n > b->max || b->len > 0);
		s += n - b->max;
		n = b->max;
		b->len = 0;
	} else if (b->len + n > b->max) {
		keep = b->max - n;
		memmove(b->data, b->data + (b->len - keep), keep);
		b->len = keep;
		b->truncated = 1;
	}
	if (buf_grow(b, b->len + n) == -1)
		return (-1);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return (0);
}

void
buf_reset(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->truncated = 0;
}

uint8_t *
buf_steal(struct buf *b, size_t *len)
{
	uint8_t	*p = b->data;

	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return (p);
}
