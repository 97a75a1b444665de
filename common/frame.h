/*
 * Framing shared by futured and its clients: a 4-byte big-endian length,
 * then that many bytes of one packed protobuf message.
 */

#ifndef FUTURED_FRAME_H
#define FUTURED_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR_LEN		4
/* Default limit on one frame; the daemon's is set by --max-frame. */
#define FUTURED_FRAME_MAX	(16U * 1024 * 1024)

/* Decode a header; -1 when the length exceeds max (nothing allocated). */
int	frame_header_decode(const uint8_t *, uint32_t, uint32_t *);
void	frame_header_encode(uint8_t *, uint32_t);

#endif
