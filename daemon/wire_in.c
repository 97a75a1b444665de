/*
 * The one request every job comes in, a Request carrying a
 * SubmitRequest, decoded by hand.  protobuf-c decodes by walking the
 * descriptors of three nested messages, field by field: for a pipelined
 * submit that was a third of the daemon's instructions per job.
 *
 * The decoder fills the very structs protobuf-c fills, from the same
 * allocator, and takes only the plain form: each field known, of the
 * wire type the .proto gives it, a kind that names a Kind, a spec once.
 * Anything else -- an unknown or duplicated message field, a packed
 * repeated field, a field a newer .proto added, an overlong varint --
 * makes it decline (NULL), and protobuf-c decodes the frame as before,
 * errors included.  tests/unit/check_wire_in.c and fuzz_request hold it
 * to protobuf-c's result for every frame it takes.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "pbwire.h"
#include "wire.h"

struct wire_rd {
	const uint8_t	*p;
	const uint8_t	*end;
};

/* At most ten bytes, the last holding the 64th bit alone. */
static int
wire_rd_varint(struct wire_rd *r, uint64_t *v)
{
	uint64_t	 x = 0;
	u_int		 i;

	for (i = 0; i < 10 && r->p < r->end; i++) {
		x |= (uint64_t)(*r->p & 0x7f) << (7 * i);
		if ((*r->p++ & 0x80) == 0) {
			if (i == 9 && r->p[-1] > 1)
				return (-1);
			*v = x;
			return (0);
		}
	}
	return (-1);
}

/* A tag: field number and wire type.  Field 0 and huge numbers: -1. */
static int
wire_rd_tag(struct wire_rd *r, uint32_t *field, u_int *wt)
{
	uint64_t	 t;

	if (wire_rd_varint(r, &t) == -1 || (t >> 3) == 0 ||
	    (t >> 3) > 0x1fffffff)
		return (-1);
	*field = (uint32_t)(t >> 3);
	*wt = (u_int)(t & 7);
	return (0);
}

static int
wire_rd_len(struct wire_rd *r, const uint8_t **data, size_t *len)
{
	uint64_t	 n;

	if (wire_rd_varint(r, &n) == -1 || n > (uint64_t)(r->end - r->p))
		return (-1);
	*data = r->p;
	*len = (size_t)n;
	r->p += n;
	return (0);
}

static void *
wire_alloc(ProtobufCAllocator *a, size_t n)
{
	return (a->alloc(a->allocator_data, n));
}

static char *
wire_str(ProtobufCAllocator *a, const uint8_t *data, size_t len)
{
	char	*s;

	if ((s = wire_alloc(a, len + 1)) == NULL)
		return (NULL);
	memcpy(s, data, len);
	s[len] = '\0';
	return (s);
}

/* A KeyValue: key and value, each once, nothing else. */
static Futured__KeyValue *
wire_kv(ProtobufCAllocator *a, const uint8_t *data, size_t len)
{
	Futured__KeyValue	*kv;
	struct wire_rd		 r = { data, data + len };
	const uint8_t		*d;
	size_t			 n;
	uint32_t		 f;
	u_int			 wt;

	if ((kv = wire_alloc(a, sizeof(*kv))) == NULL)
		return (NULL);
	futured__key_value__init(kv);
	while (r.p < r.end) {
		if (wire_rd_tag(&r, &f, &wt) == -1 || wt != PB_LEN ||
		    wire_rd_len(&r, &d, &n) == -1)
			return (NULL);
		if (f == 1 && kv->key == NULL)
			kv->key = wire_str(a, d, n);
		else if (f == 2 && kv->value == NULL)
			kv->value = wire_str(a, d, n);
		else
			return (NULL);
		if ((f == 1 ? kv->key : kv->value) == NULL)
			return (NULL);
	}
	return (kv->key != NULL && kv->value != NULL ? kv : NULL);
}

/* Per field of JobSpec: its wire type, and whether it repeats. */
static const struct {
	u_int	 wt;
	int	 repeated;
} wire_spec_fields[] = {
	[1] = { PB_LEN, 0 },		/* handler */
	[2] = { PB_VARINT, 0 },		/* kind */
	[3] = { PB_LEN, 0 },		/* payload */
	[4] = { PB_LEN, 1 },		/* args */
	[5] = { PB_LEN, 1 },		/* env */
	[6] = { PB_LEN, 1 },		/* ctx */
	[7] = { PB_LEN, 0 },		/* cwd */
	[8] = { PB_VARINT, 0 },		/* timeout_ms */
	[9] = { PB_VARINT, 0 },		/* deadline_ms */
	[10] = { PB_VARINT, 0 },	/* priority */
	[11] = { PB_LEN, 0 },		/* group */
	[12] = { PB_VARINT, 1 },	/* after, unpacked */
	[13] = { PB_VARINT, 0 },	/* input_from */
	[14] = { PB_VARINT, 0 },	/* retries */
	[15] = { PB_LEN, 0 },		/* name */
	[16] = { PB_VARINT, 0 },	/* retry_delay_ms */
	[17] = { PB_VARINT, 0 },	/* retry_timeouts */
	[18] = { PB_VARINT, 0 },	/* parent */
	[19] = { PB_LEN, 0 },		/* engine */
};
#define WIRE_SPEC_NFIELDS	19

static Futured__JobSpec *
wire_spec(ProtobufCAllocator *a, const uint8_t *data, size_t len)
{
	Futured__JobSpec	*s;
	struct wire_rd		 r = { data, data + len };
	const uint8_t		*d = NULL;
	size_t			 n = 0, count[WIRE_SPEC_NFIELDS + 1];
	uint64_t		 v = 0;
	uint32_t		 f;
	u_int			 wt;

	/* First the counts of the repeated fields, and every tag checked. */
	memset(count, 0, sizeof(count));
	while (r.p < r.end) {
		if (wire_rd_tag(&r, &f, &wt) == -1 ||
		    f > WIRE_SPEC_NFIELDS || wire_spec_fields[f].wt != wt)
			return (NULL);
		if (wt == PB_LEN ? wire_rd_len(&r, &d, &n) :
		    wire_rd_varint(&r, &v))
			return (NULL);
		count[f]++;
	}
	if (count[1] == 0)
		return (NULL);	/* handler is required: protobuf-c says so */

	if ((s = wire_alloc(a, sizeof(*s))) == NULL)
		return (NULL);
	futured__job_spec__init(s);
#define WIRE_ARRAY(field, num) do {					\
	if (count[num] > 0 && (s->field = wire_alloc(a,			\
	    count[num] * sizeof(*s->field))) == NULL)			\
		return (NULL);						\
} while (0)
	WIRE_ARRAY(args, 4);
	WIRE_ARRAY(env, 5);
	WIRE_ARRAY(ctx, 6);
	WIRE_ARRAY(after, 12);
#undef WIRE_ARRAY

	r.p = data;
	while (r.p < r.end) {
		(void)wire_rd_tag(&r, &f, &wt);
		if (wt == PB_LEN)
			(void)wire_rd_len(&r, &d, &n);
		else
			(void)wire_rd_varint(&r, &v);
		switch (f) {
		case 1:
			if ((s->handler = wire_str(a, d, n)) == NULL)
				return (NULL);
			break;
		case 2:
			/* An unknown kind: protobuf-c's business. */
			if (v > FUTURED__KIND__KIND_CPU)
				return (NULL);
			s->has_kind = 1;
			s->kind = (Futured__Kind)v;
			break;
		case 3:
			if ((s->payload.data = wire_alloc(a, n ? n : 1)) ==
			    NULL)
				return (NULL);
			memcpy(s->payload.data, d, n);
			s->payload.len = n;
			s->has_payload = 1;
			break;
		case 4:
			if ((s->args[s->n_args++] = wire_str(a, d, n)) == NULL)
				return (NULL);
			break;
		case 5:
			if ((s->env[s->n_env++] = wire_kv(a, d, n)) == NULL)
				return (NULL);
			break;
		case 6:
			if ((s->ctx[s->n_ctx++] = wire_kv(a, d, n)) == NULL)
				return (NULL);
			break;
		case 7:
			if ((s->cwd = wire_str(a, d, n)) == NULL)
				return (NULL);
			break;
		case 8:
			s->has_timeout_ms = 1;
			s->timeout_ms = (int64_t)v;
			break;
		case 9:
			s->has_deadline_ms = 1;
			s->deadline_ms = (int64_t)v;
			break;
		case 10:
			/* sint32: zigzag of the low 32 bits. */
			s->has_priority = 1;
			s->priority = (int32_t)(((uint32_t)v >> 1) ^
			    -((uint32_t)v & 1));
			break;
		case 11:
			if ((s->group = wire_str(a, d, n)) == NULL)
				return (NULL);
			break;
		case 12:
			s->after[s->n_after++] = v;
			break;
		case 13:
			s->has_input_from = 1;
			s->input_from = v;
			break;
		case 14:
			s->has_retries = 1;
			s->retries = (uint32_t)v;
			break;
		case 15:
			if ((s->name = wire_str(a, d, n)) == NULL)
				return (NULL);
			break;
		case 16:
			s->has_retry_delay_ms = 1;
			s->retry_delay_ms = (int64_t)v;
			break;
		case 17:
			s->has_retry_timeouts = 1;
			s->retry_timeouts = v != 0;
			break;
		case 18:
			s->has_parent = 1;
			s->parent = v;
			break;
		case 19:
			if ((s->engine = wire_str(a, d, n)) == NULL)
				return (NULL);
			break;
		}
	}
	return (s);
}

static Futured__SubmitRequest *
wire_submit(ProtobufCAllocator *a, const uint8_t *data, size_t len)
{
	Futured__SubmitRequest	*sr;
	struct wire_rd		 r = { data, data + len };
	const uint8_t		*d;
	size_t			 n;
	uint64_t		 v;
	uint32_t		 f;
	u_int			 wt;

	if ((sr = wire_alloc(a, sizeof(*sr))) == NULL)
		return (NULL);
	futured__submit_request__init(sr);
	while (r.p < r.end) {
		if (wire_rd_tag(&r, &f, &wt) == -1)
			return (NULL);
		if (f == 1 && wt == PB_LEN && sr->spec == NULL) {
			if (wire_rd_len(&r, &d, &n) == -1 ||
			    (sr->spec = wire_spec(a, d, n)) == NULL)
				return (NULL);
			continue;
		}
		if (f < 2 || f > 6 || wt != PB_VARINT ||
		    wire_rd_varint(&r, &v) == -1)
			return (NULL);
		switch (f) {
		case 2:
			sr->has_notify = 1;
			sr->notify = v != 0;
			break;
		case 3:
			sr->has_brief = 1;
			sr->brief = v != 0;
			break;
		case 4:
			sr->has_watch = 1;
			sr->watch = v != 0;
			break;
		case 5:
			sr->has_watch_progress_only = 1;
			sr->watch_progress_only = v != 0;
			break;
		case 6:
			sr->has_news = 1;
			sr->news = v != 0;
			break;
		}
	}
	return (sr->spec != NULL ? sr : NULL);
}

Futured__Request *
wire_decode_submit(ProtobufCAllocator *a, const uint8_t *data, size_t len)
{
	Futured__Request	*req;
	struct wire_rd		 r = { data, data + len };
	const uint8_t		*d;
	size_t			 n;
	uint64_t		 v;
	uint32_t		 f;
	u_int			 wt;
	int			 has_id = 0;

	if ((req = wire_alloc(a, sizeof(*req))) == NULL)
		return (NULL);
	futured__request__init(req);
	while (r.p < r.end) {
		if (wire_rd_tag(&r, &f, &wt) == -1)
			return (NULL);
		if (f == 1 && wt == PB_VARINT) {
			if (wire_rd_varint(&r, &v) == -1)
				return (NULL);
			req->id = v;
			has_id = 1;
		} else if (f == FUTURED__REQUEST__BODY_SUBMIT &&
		    wt == PB_LEN && req->submit == NULL) {
			if (wire_rd_len(&r, &d, &n) == -1 ||
			    (req->submit = wire_submit(a, d, n)) == NULL)
				return (NULL);
			req->body_case = FUTURED__REQUEST__BODY_SUBMIT;
		} else
			return (NULL);
	}
	return (has_id && req->submit != NULL ? req : NULL);
}
