/*
 * The two answers the daemon sends for every job, a SubmitReply and the
 * brief completion JobEvent, packed by hand.  protobuf-c packs by
 * walking each message's descriptor twice (size, then pack), field by
 * field, nested messages again for their length: for these small
 * messages that was a third of the daemon's instructions per pipelined
 * job.  Anything else, or a JobInfo with a field the brief form does not
 * set, is left to protobuf-c (wire_size() says 0).  The output is byte
 * for byte what protobuf-c would produce; tests/unit/check_wire.c holds
 * the two to that.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "pbwire.h"
#include "wire.h"

/* int32 and enums: a negative value takes ten bytes, as in protobuf. */
static uint64_t
wire_int32(int32_t v)
{
	return (pb_int(v));
}

/* Only the fields request.c's brief form sets; 0 if any other is. */
static int
wire_jobinfo_brief_ok(const Futured__JobInfo *i)
{
	return (!i->has_kind && i->handler == NULL && i->name == NULL &&
	    i->group == NULL && !i->has_progress && i->progress_msg == NULL &&
	    !i->has_submitted_at && !i->has_started_at &&
	    !i->has_finished_at && !i->has_attempts && i->n_args == 0 &&
	    !i->has_parent && !i->has_priority && !i->has_output_size &&
	    i->ended == NULL && !i->has_retries && i->n_ctx == 0 &&
	    !i->has_stderr_truncated && i->n_after == 0 &&
	    !i->has_input_from &&
	    i->base.n_unknown_fields == 0);
}

static size_t
wire_jobinfo_size(const Futured__JobInfo *i)
{
	size_t	 n;

	n = 1 + pb_varint_len(i->id) +
	    1 + pb_varint_len(wire_int32(i->state));
	if (i->has_exit_status)
		n += 1 + pb_varint_len(pb_zigzag32(i->exit_status));
	if (i->has_signal)
		n += 1 + pb_varint_len(wire_int32(i->signal));
	if (i->has_error_code)
		n += 1 + pb_varint_len(wire_int32(i->error_code));
	if (i->error != NULL)
		n += pb_len_field_len(12, strlen(i->error));
	if (i->has_output)
		n += pb_len_field_len(13, i->output.len);
	if (i->has_output_truncated)
		n += 2;
	if (i->has_stderr_tail)
		n += pb_len_field_len(15, i->stderr_tail.len);
	return (n);
}

static uint8_t *
wire_jobinfo(uint8_t *p, const Futured__JobInfo *i)
{
	*p++ = PB_TAG(1, PB_VARINT);
	p = pb_varint(p, i->id);
	*p++ = PB_TAG(2, PB_VARINT);
	p = pb_varint(p, wire_int32(i->state));
	if (i->has_exit_status) {
		*p++ = PB_TAG(9, PB_VARINT);
		p = pb_varint(p, pb_zigzag32(i->exit_status));
	}
	if (i->has_signal) {
		*p++ = PB_TAG(10, PB_VARINT);
		p = pb_varint(p, wire_int32(i->signal));
	}
	if (i->has_error_code) {
		*p++ = PB_TAG(11, PB_VARINT);
		p = pb_varint(p, wire_int32(i->error_code));
	}
	if (i->error != NULL)
		p = pb_bytes_field(p, 12, i->error, strlen(i->error));
	if (i->has_output)
		p = pb_bytes_field(p, 13, i->output.data, i->output.len);
	if (i->has_output_truncated) {
		*p++ = PB_TAG(14, PB_VARINT);
		*p++ = i->output_truncated ? 1 : 0;
	}
	if (i->has_stderr_tail)
		p = pb_bytes_field(p, 15, i->stderr_tail.data, i->stderr_tail.len);
	return (p);
}

static size_t
wire_submit_size(const Futured__SubmitReply *s)
{
	size_t	 n;

	n = 1 + pb_varint_len(s->id);
	if (s->has_state)
		n += 1 + pb_varint_len(wire_int32(s->state));
	return (n);
}

/* A JobEvent of a JobInfo of jn bytes. */
static size_t
wire_event_size(size_t jn)
{
	return (1 + pb_varint_len(jn) + jn);
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
	default:
		return (0);
	}
	return (1 + pb_varint_len(r->id) + pb_len_field_len(r->body_case, n));
}

size_t
wire_pack(const Futured__Response *r, uint8_t *out)
{
	const Futured__SubmitReply	*s;
	uint8_t				*p = out;
	size_t				 jn;

	*p++ = PB_TAG(1, PB_VARINT);
	p = pb_varint(p, r->id);
	p = pb_varint(p, PB_TAG(r->body_case, PB_LEN));
	if (r->body_case == FUTURED__RESPONSE__BODY_SUBMIT) {
		s = r->submit;
		p = pb_varint(p, wire_submit_size(s));
		*p++ = PB_TAG(1, PB_VARINT);
		p = pb_varint(p, s->id);
		if (s->has_state) {
			*p++ = PB_TAG(2, PB_VARINT);
			p = pb_varint(p, wire_int32(s->state));
		}
	} else {
		jn = wire_jobinfo_size(r->event->job);
		p = pb_varint(p, wire_event_size(jn));
		*p++ = PB_TAG(1, PB_LEN);
		p = pb_varint(p, jn);
		p = wire_jobinfo(p, r->event->job);
	}
	return ((size_t)(p - out));
}
