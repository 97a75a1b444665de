/* wire.c: SubmitReply, brief JobEvent and JobNews packed by hand. */

#ifndef FUTURED_WIRE_H
#define FUTURED_WIRE_H

#include "futured.pb-c.h"

/* Bytes r packs to, or 0: not one wire.c packs (use protobuf-c). */
size_t		 wire_size(const Futured__Response *);
/* Pack r (wire_size() said it can) into out; returns the length. */
size_t		 wire_pack(const Futured__Response *, uint8_t *);

#endif /* FUTURED_WIRE_H */
