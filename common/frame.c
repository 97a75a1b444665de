/*
 * Frame headers.  Kept apart so the one rule that protects the daemon's
 * memory (length checked before allocation) lives in exactly one place.
 */

#include <string.h>

#include "frame.h"

int
frame_header_decode(const uint8_t *p, uint32_t max, uint32_t *len)
{
	uint32_t	 n;

	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	*len = n;
	if (n > max)
		return (-1);
	return (0);
}

void
frame_header_encode(uint8_t *p, uint32_t len)
{
	p[0] = len >> 24;
	p[1] = len >> 16;
	p[2] = len >> 8;
	p[3] = len;
}

int
frame_reader_append(struct frame_reader *fr, const void *data, size_t len)
{
	return (buf_append(&fr->in, data, len));
}

uint8_t *
frame_reader_space(struct frame_reader *fr, size_t n, size_t *room)
{
	if (buf_reserve(&fr->in, n) == -1)
		return (NULL);
	*room = fr->in.cap - fr->in.len;
	return (fr->in.data + fr->in.len);
}

void
frame_reader_commit(struct frame_reader *fr, size_t n)
{
	fr->in.len += n;
}

int
frame_reader_next(struct frame_reader *fr, const uint8_t **msg,
    uint32_t *len)
{
	const uint8_t	*p;
	size_t		 avail = fr->in.len - fr->off;

	if (avail < FRAME_HDR_LEN)
		return (0);
	p = fr->in.data + fr->off;
	if (frame_header_decode(p, fr->max, len) == -1)
		return (-1);
	if (avail - FRAME_HDR_LEN < *len)
		return (0);
	*msg = p + FRAME_HDR_LEN;
	fr->off += FRAME_HDR_LEN + *len;
	return (1);
}

size_t
frame_reader_pending(const struct frame_reader *fr)
{
	return (fr->in.len - fr->off);
}

void
frame_reader_compact(struct frame_reader *fr)
{
	if (fr->off == fr->in.len) {
		if (fr->in.cap > FRAME_READER_KEEP)
			buf_reset(&fr->in);
		fr->in.len = 0;
		fr->off = 0;
	} else if (fr->off > 0 && fr->off >= fr->in.len / 2) {
		/* Move a partial frame only once it is the larger part. */
		memmove(fr->in.data, fr->in.data + fr->off,
		    fr->in.len - fr->off);
		fr->in.len -= fr->off;
		fr->off = 0;
	}
}

void
frame_reader_reset(struct frame_reader *fr)
{
	buf_reset(&fr->in);
	fr->off = 0;
}
