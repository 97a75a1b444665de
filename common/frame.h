/*
 * Framing shared by futured and its clients: a 4-byte big-endian length,
 * then that many bytes of one packed protobuf message.
 */

#ifndef FUTURED_FRAME_H
#define FUTURED_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define FRAME_HDR_LEN		4
/* Default limit on one frame; the daemon's is set by --max-frame. */
#define FUTURED_FRAME_MAX	(16U * 1024 * 1024)
/* The largest --max-frame: what a client may hold before it knows. */
#define FUTURED_FRAME_CEILING	(1024U * 1024 * 1024)
/* A frame reader's buffer kept between frames (see compact). */
#define FRAME_READER_KEEP	(256U * 1024)

/* Decode a header; -1 when the length exceeds max (nothing allocated). */
int	frame_header_decode(const uint8_t *, uint32_t, uint32_t *);
void	frame_header_encode(uint8_t *, uint32_t);

/*
 * A frame reader: bytes read from a stream go in, whole frames come out.
 * Zero-initialised with max set is ready.  A frame handed out points into
 * the reader and is valid until the next frame_reader_append(),
 * frame_reader_space() or frame_reader_compact().  The daemon's cpu
 * workers and their pool read through it as libfutured does; server.c
 * keeps its own zero-copy path.
 */
struct frame_reader {
	struct buf	 in;
	size_t		 off;		/* bytes at in's head already taken */
	uint32_t	 max;		/* longest frame accepted */
};

int	frame_reader_append(struct frame_reader *, const void *, size_t);
/*
 * Reading straight into the reader, with no copy: room for at least n
 * more bytes, all of it (*room bytes) free to be read into; then
 * frame_reader_commit() takes the bytes that came.  NULL: no memory.
 */
uint8_t	*frame_reader_space(struct frame_reader *, size_t, size_t *);
void	 frame_reader_commit(struct frame_reader *, size_t);
/*
 * 1 with the next frame's message in *msg, *len; 0 when no whole frame
 * is there yet; -1 when the next frame is over max (*len says how long
 * it claims to be): the stream is then beyond repair.
 */
int	frame_reader_next(struct frame_reader *, const uint8_t **,
	    uint32_t *);
/* Bytes not yet taken as frames. */
size_t	frame_reader_pending(const struct frame_reader *);
/*
 * Drop the frames taken, keeping a partial one; once nothing is left, a
 * buffer grown past FRAME_READER_KEEP by a large frame is freed.
 */
void	frame_reader_compact(struct frame_reader *);
void	frame_reader_reset(struct frame_reader *);

#endif
