/*
 * The answers the daemon sends for every job, a SubmitReply and the
 * brief completion JobEvent, and the JobNews of jobs that run, packed
 * by hand.  protobuf-c packs by walking each message's descriptor twice
 * (size, then pack), field by field, nested messages again for their
 * length: for these small messages that was a third of the daemon's
 * instructions per pipelined job.  Anything else, or a JobInfo with a
 * field neither the brief form nor the news sets, is left to protobuf-c
 * (wire_size() says 0).  The output is byte for byte what protobuf-c
 * would produce; tests/unit/check_wire.c holds the two to that.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "wire.h"

#define WIRE_VARINT	0
#define WIRE_FIXED64	1
#define WIRE_LEN	2
#define WIRE_TAG(n, t)	(((uint32_t)(n) << 3) | (t))

static size_t
wire_varint_len(uint64_t v)
{
	size_t	 n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return (n);
}

static uint8_t *
wire_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return (p);
}

/* int32 and enums: a negative value takes ten bytes, as in protobuf. */
static uint64_t
wire_int32(int32_t v)
{
	return ((uint64_t)(int64_t)v);
}

static uint32_t
wire_zigzag32(int32_t v)
{
	return (((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

/*
 * Only the fields request.c's brief form and request_watch.c's news
 * set; 0 if any other is.
 */
static int
wire_jobinfo_brief_ok(const Futured__JobInfo *i)
{
	return (!i->has_kind && i->handler == NULL && i->name == NULL &&
	    i->group == NULL && !i->has_submitted_at &&
	    !i->has_finished_at && !i->has_attempts && i->n_args == 0 &&
	    !i->has_parent && !i->has_priority && !i->has_output_size &&
	    i->ended == NULL && !i->has_retries && i->n_ctx == 0 &&
	    !i->has_stderr_truncated && i->n_after == 0 &&
	    !i->has_input_from &&
	    i->base.n_unknown_fields == 0);
}

static size_t
wire_len_field(uint32_t field, size_t len)
{
	return (wire_varint_len(WIRE_TAG(field, WIRE_LEN)) +
	    wire_varint_len(len) + len);
}

static size_t
wire_jobinfo_size(const Futured__JobInfo *i)
{
	size_t	 n;

	n = 1 + wire_varint_len(i->id) +
	    1 + wire_varint_len(wire_int32(i->state));
	if (i->has_progress)
		n += 1 + 8;
	if (i->progress_msg != NULL)
		n += wire_len_field(8, strlen(i->progress_msg));
	if (i->has_exit_status)
		n += 1 + wire_varint_len(wire_zigzag32(i->exit_status));
	if (i->has_signal)
		n += 1 + wire_varint_len(wire_int32(i->signal));
	if (i->has_error_code)
		n += 1 + wire_varint_len(wire_int32(i->error_code));
	if (i->error != NULL)
		n += wire_len_field(12, strlen(i->error));
	if (i->has_output)
		n += wire_len_field(13, i->output.len);
	if (i->has_output_truncated)
		n += 2;
	if (i->has_stderr_tail)
		n += wire_len_field(15, i->stderr_tail.len);
	if (i->has_started_at)
		n += 2 + wire_varint_len((uint64_t)i->started_at);
	return (n);
}

static uint8_t *
wire_bytes(uint8_t *p, uint32_t field, const void *data, size_t len)
{
	p = wire_varint(p, WIRE_TAG(field, WIRE_LEN));
	p = wire_varint(p, len);
	if (len > 0)
		memcpy(p, data, len);
	return (p + len);
}

/* A double, little-endian whatever the host, as protobuf has it. */
static uint8_t *
wire_double(uint8_t *p, double d)
{
	uint64_t	 v;
	int		 k;

	memcpy(&v, &d, sizeof(v));
	for (k = 0; k < 8; k++) {
		*p++ = (uint8_t)v;
		v >>= 8;
	}
	return (p);
}

static uint8_t *
wire_jobinfo(uint8_t *p, const Futured__JobInfo *i)
{
	*p++ = WIRE_TAG(1, WIRE_VARINT);
	p = wire_varint(p, i->id);
	*p++ = WIRE_TAG(2, WIRE_VARINT);
	p = wire_varint(p, wire_int32(i->state));
	if (i->has_progress) {
		*p++ = WIRE_TAG(7, WIRE_FIXED64);
		p = wire_double(p, i->progress);
	}
	if (i->progress_msg != NULL)
		p = wire_bytes(p, 8, i->progress_msg, strlen(i->progress_msg));
	if (i->has_exit_status) {
		*p++ = WIRE_TAG(9, WIRE_VARINT);
		p = wire_varint(p, wire_zigzag32(i->exit_status));
	}
	if (i->has_signal) {
		*p++ = WIRE_TAG(10, WIRE_VARINT);
		p = wire_varint(p, wire_int32(i->signal));
	}
	if (i->has_error_code) {
		*p++ = WIRE_TAG(11, WIRE_VARINT);
		p = wire_varint(p, wire_int32(i->error_code));
	}
	if (i->error != NULL)
		p = wire_bytes(p, 12, i->error, strlen(i->error));
	if (i->has_output)
		p = wire_bytes(p, 13, i->output.data, i->output.len);
	if (i->has_output_truncated) {
		*p++ = WIRE_TAG(14, WIRE_VARINT);
		*p++ = i->output_truncated ? 1 : 0;
	}
	if (i->has_stderr_tail)
		p = wire_bytes(p, 15, i->stderr_tail.data, i->stderr_tail.len);
	if (i->has_started_at) {
		p = wire_varint(p, WIRE_TAG(17, WIRE_VARINT));
		p = wire_varint(p, (uint64_t)i->started_at);
	}
	return (p);
}

static size_t
wire_submit_size(const Futured__SubmitReply *s)
{
	size_t	 n;

	n = 1 + wire_varint_len(s->id);
	if (s->has_state)
		n += 1 + wire_varint_len(wire_int32(s->state));
	return (n);
}

/* A JobEvent of a JobInfo of jn bytes. */
static size_t
wire_event_size(size_t jn)
{
	return (1 + wire_varint_len(jn) + jn);
}

/* JobNews.running, packed: its varints' bytes. */
static size_t
wire_ids_size(const uint64_t *ids, size_t n)
{
	size_t	 i, len = 0;

	for (i = 0; i < n; i++)
		len += wire_varint_len(ids[i]);
	return (len);
}

/*
 * A JobNews: its JobInfos, each field 1, then the running ids packed
 * in field 2; 0 if a JobInfo is not for us (or there is nothing).
 */
static size_t
wire_news_size(const Futured__JobNews *e)
{
	size_t	 i, n = 0;

	if (e->base.n_unknown_fields != 0)
		return (0);
	for (i = 0; i < e->n_jobs; i++) {
		if (!wire_jobinfo_brief_ok(e->jobs[i]))
			return (0);
		n += wire_len_field(1, wire_jobinfo_size(e->jobs[i]));
	}
	if (e->n_running > 0)
		n += wire_len_field(2, wire_ids_size(e->running,
		    e->n_running));
	return (n);
}

/*
 * The body (a SubmitReply or a JobEvent) is field number body_case of
 * the Response: protobuf-c numbers a oneof's cases by their fields.
 */
size_t
wire_size(const Futured__Response *r)
{
	const Futured__JobEvent	*e;
	size_t			 n;

	if (r->base.n_unknown_fields != 0)
		return (0);
	switch (r->body_case) {
	case FUTURED__RESPONSE__BODY_SUBMIT:
		if (r->submit->base.n_unknown_fields != 0)
			return (0);
		n = wire_submit_size(r->submit);
		break;
	case FUTURED__RESPONSE__BODY_EVENT:
		e = r->event;
		if (e->base.n_unknown_fields != 0 ||
		    !wire_jobinfo_brief_ok(e->job))
			return (0);
		n = wire_event_size(wire_jobinfo_size(e->job));
		break;
	case FUTURED__RESPONSE__BODY_NEWS:
		if ((n = wire_news_size(r->news)) == 0)
			return (0);
		break;
	default:
		return (0);
	}
	return (1 + wire_varint_len(r->id) + wire_len_field(r->body_case, n));
}

size_t
wire_pack(const Futured__Response *r, uint8_t *out)
{
	const Futured__SubmitReply	*s;
	uint8_t				*p = out;
	size_t				 i, jn;

	*p++ = WIRE_TAG(1, WIRE_VARINT);
	p = wire_varint(p, r->id);
	p = wire_varint(p, WIRE_TAG(r->body_case, WIRE_LEN));
	if (r->body_case == FUTURED__RESPONSE__BODY_SUBMIT) {
		s = r->submit;
		p = wire_varint(p, wire_submit_size(s));
		*p++ = WIRE_TAG(1, WIRE_VARINT);
		p = wire_varint(p, s->id);
		if (s->has_state) {
			*p++ = WIRE_TAG(2, WIRE_VARINT);
			p = wire_varint(p, wire_int32(s->state));
		}
	} else if (r->body_case == FUTURED__RESPONSE__BODY_NEWS) {
		p = wire_varint(p, wire_news_size(r->news));
		for (i = 0; i < r->news->n_jobs; i++) {
			*p++ = WIRE_TAG(1, WIRE_LEN);
			p = wire_varint(p, wire_jobinfo_size(r->news->jobs[i]));
			p = wire_jobinfo(p, r->news->jobs[i]);
		}
		if (r->news->n_running > 0) {
			*p++ = WIRE_TAG(2, WIRE_LEN);
			p = wire_varint(p, wire_ids_size(r->news->running,
			    r->news->n_running));
			for (i = 0; i < r->news->n_running; i++)
				p = wire_varint(p, r->news->running[i]);
		}
	} else {
		jn = wire_jobinfo_size(r->event->job);
		p = wire_varint(p, wire_event_size(jn));
		*p++ = WIRE_TAG(1, WIRE_LEN);
		p = wire_varint(p, jn);
		p = wire_jobinfo(p, r->event->job);
	}
	return ((size_t)(p - out));
}
