/*
 * Protobuf's wire format, the few primitives the hand packers need
 * (daemon/wire.c for the hot answers, daemon/journal_pack.c for the hot
 * journal records).  Each packer is held byte for byte to protobuf-c's
 * output by a unit test; these only spell the encoding.
 */

#ifndef FUTURED_PBWIRE_H
#define FUTURED_PBWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PB_VARINT	0
#define PB_FIXED64	1
#define PB_LEN		2
#define PB_TAG(n, t)	(((uint32_t)(n) << 3) | (t))

static inline size_t
pb_varint_len(uint64_t v)
{
	size_t	 n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return (n);
}

static inline uint8_t *
pb_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return (p);
}

/* int32, int64 and enums: a negative value takes ten bytes. */
static inline uint64_t
pb_int(int64_t v)
{
	return ((uint64_t)v);
}

static inline uint32_t
pb_zigzag32(int32_t v)
{
	return (((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

/* A varint field's size, tag included. */
static inline size_t
pb_varint_field_len(uint32_t field, uint64_t v)
{
	return (pb_varint_len(PB_TAG(field, PB_VARINT)) + pb_varint_len(v));
}

static inline uint8_t *
pb_varint_field(uint8_t *p, uint32_t field, uint64_t v)
{
	p = pb_varint(p, PB_TAG(field, PB_VARINT));
	return (pb_varint(p, v));
}

/* A length-delimited field's size (string, bytes, message), tag included. */
static inline size_t
pb_len_field_len(uint32_t field, size_t len)
{
	return (pb_varint_len(PB_TAG(field, PB_LEN)) + pb_varint_len(len) +
	    len);
}

static inline uint8_t *
pb_bytes_field(uint8_t *p, uint32_t field, const void *data, size_t len)
{
	p = pb_varint(p, PB_TAG(field, PB_LEN));
	p = pb_varint(p, len);
	if (len > 0)
		memcpy(p, data, len);
	return (p + len);
}

#endif /* FUTURED_PBWIRE_H */
