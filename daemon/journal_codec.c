/*
 * The journal's record codec: a record is a 4-byte big-endian length, a
 * 4-byte CRC-32 of length, type and payload, a type byte and a protobuf
 * payload (proto/journal.proto).  Shared by the writer and the replay.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "futured.h"
#include "journal.pb-c.h"
#include "journal.h"
#include "log.h"
#include "xmalloc.h"

void
journal_out_reserve(struct journal_out *o, size_t n)
{
	size_t	 cap;

	if (o->len + n <= o->cap)
		return;
	cap = o->cap ? o->cap : 4096;
	while (cap < o->len + n)
		cap *= 2;
	o->data = xreallocarray(o->data, cap, 1);
	o->cap = cap;
}

uint32_t
journal_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

void
journal_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* The CRC covers the length and the type too: a bad length is caught. */
static uint32_t
journal_crc(const uint8_t *rec, size_t plen)
{
	uLong	 crc;

	crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, rec, 4);
	crc = crc32(crc, rec + 8, 1);
	/* zlib takes a uInt: a record is at most JOURNAL_RECORD_MAX. */
	crc = crc32(crc, rec + JOURNAL_RECORD_HDR, (uInt)plen);
	return ((uint32_t)crc);
}

/* Append one record, a message packed by pack(), to o. */
void
journal_out_record(struct journal_out *o, int type,
    const ProtobufCMessage *msg)
{
	size_t	 plen;
	uint8_t	*rec;
	int	 hand;

	/* A job's own records by hand (journal_pack.c), the rest by protobuf-c. */
	hand = (plen = journal_pack_size(msg)) != 0;
	if (!hand)
		plen = protobuf_c_message_get_packed_size(msg);
	if (plen > JOURNAL_RECORD_MAX)
		fatalx("%s: record of %zu bytes", __func__, plen);
	journal_out_reserve(o, JOURNAL_RECORD_HDR + plen);
	rec = o->data + o->len;
	journal_put32(rec, (uint32_t)plen);
	rec[8] = (uint8_t)type;
	if (hand)
		(void)journal_pack(msg, rec + JOURNAL_RECORD_HDR);
	else
		protobuf_c_message_pack(msg, rec + JOURNAL_RECORD_HDR);
	journal_put32(rec + 4, journal_crc(rec, plen));
	o->len += JOURNAL_RECORD_HDR + plen;
}

/* Append one record of raw payload bytes (tests build journals with it). */
void
journal_record_encode(uint8_t **data, size_t *len, size_t *cap, int type,
    const void *payload, size_t plen)
{
	struct journal_out	 o = { *data, *len, *cap };
	uint8_t			*rec;

	journal_out_reserve(&o, JOURNAL_RECORD_HDR + plen);
	rec = o.data + o.len;
	journal_put32(rec, (uint32_t)plen);
	rec[8] = (uint8_t)type;
	if (plen > 0)
		memcpy(rec + JOURNAL_RECORD_HDR, payload, plen);
	journal_put32(rec + 4, journal_crc(rec, plen));
	o.len += JOURNAL_RECORD_HDR + plen;
	*data = o.data;
	*len = o.len;
	*cap = o.cap;
}

void
journal_header_encode(uint8_t *hdr)
{
	memset(hdr, 0, JOURNAL_HDR_LEN);
	memcpy(hdr, JOURNAL_MAGIC, 8);
	journal_put32(hdr + 8, JOURNAL_VERSION);
}

/*
 * Is there a whole record with a good CRC at off?  Its payload length in
 * *plen if so.
 */
int
journal_record_ok(const uint8_t *data, size_t len, size_t off, size_t *plen)
{
	uint32_t	 n;

	if (len - off < JOURNAL_RECORD_HDR)
		return (0);
	n = journal_get32(data + off);
	if (n > JOURNAL_RECORD_MAX || n > len - off - JOURNAL_RECORD_HDR)
		return (0);
	if (data[off + 8] < JOURNAL_CHECKPOINT || data[off + 8] > JOURNAL_FINAL)
		return (0);
	if (journal_crc(data + off, n) != journal_get32(data + off + 4))
		return (0);
	*plen = n;
	return (1);
}

/*
 * Walk the records of a journal image (header included).  Each good
 * record goes to cb (which may refuse it: -1).  At the first bad one,
 * look for any good record after it: none means a torn or garbage tail
 * (1, *end where to truncate); one means corruption inside the log (-1,
 * *end its offset, *recno its number from 1).  0: all good.
 */
int
journal_scan(const uint8_t *data, size_t len, size_t *end, uint64_t *recno,
    int (*cb)(int, const uint8_t *, size_t, void *), void *arg)
{
	size_t		 off = JOURNAL_HDR_LEN, plen, o;
	uint64_t	 n = 0;

	while (off < len) {
		n++;
		if (journal_record_ok(data, len, off, &plen) &&
		    (cb == NULL || cb(data[off + 8], data + off +
		    JOURNAL_RECORD_HDR, plen, arg) == 0)) {
			off += JOURNAL_RECORD_HDR + plen;
			continue;
		}
		*end = off;
		*recno = n;
		for (o = off + 1; o < len; o++) {
			if (journal_record_ok(data, len, o, &plen))
				return (-1);
		}
		return (1);
	}
	*end = len;
	*recno = n;
	return (0);
}
