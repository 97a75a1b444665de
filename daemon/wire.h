/* wire.c: SubmitReply, brief JobEvent and JobNews packed by hand. */

#ifndef FUTURED_WIRE_H
#define FUTURED_WIRE_H

#include "futured.pb-c.h"

/* Bytes r packs to, or 0: not one wire.c packs (use protobuf-c). */
size_t		 wire_size(const Futured__Response *);
/* Pack r (wire_size() said it can) into out; returns the length. */
size_t		 wire_pack(const Futured__Response *, uint8_t *);

/*
 * wire_in.c: a Request with a SubmitRequest decoded by hand, with a's
 * memory, as protobuf-c would; NULL: not the plain form, let protobuf-c
 * decode it.
 */
Futured__Request *wire_decode_submit(ProtobufCAllocator *, const uint8_t *,
		    size_t);

#endif /* FUTURED_WIRE_H */
