/*
 * Frame headers.  Kept apart so the one rule that protects the daemon's
 * memory (length checked before allocation) lives in exactly one place.
 */

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
