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
#include "pbwire.h"
#include "wire.h"

/* int32 and enums: a negative value takes ten bytes, as in protobuf. */
static uint64_t
wire_int32(int32_t v)
{
	return (pb_int(v));
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
	    !i->has_input_from && i->engine == NULL &&
	    i->slurm_job_id == NULL &&
	    i->base.n_unknown_fields == 0);
}

static size_t
wire_jobinfo_size(const Futured__JobInfo *i)
{
	size_t	 n;

	n = 1 + pb_varint_len(i->id) +
	    1 + pb_varint_len(wire_int32(i->state));
	if (i->has_progress)
		n += 1 + 8;
	if (i->progress_msg != NULL)
		n += pb_len_field_len(8, strlen(i->progress_msg));
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
	if (i->has_started_at)
		n += 2 + pb_varint_len((uint64_t)i->started_at);
	return (n);
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
	*p++ = PB_TAG(1, PB_VARINT);
	p = pb_varint(p, i->id);
	*p++ = PB_TAG(2, PB_VARINT);
	p = pb_varint(p, wire_int32(i->state));
	if (i->has_progress) {
		*p++ = PB_TAG(7, PB_FIXED64);
		p = wire_double(p, i->progress);
	}
	if (i->progress_msg != NULL)
		p = pb_bytes_field(p, 8, i->progress_msg, strlen(i->progress_msg));
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
	if (i->has_started_at) {
		p = pb_varint(p, PB_TAG(17, PB_VARINT));
		p = pb_varint(p, (uint64_t)i->started_at);
	}
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

/* JobNews.running, packed: its varints' bytes. */
static size_t
wire_ids_size(const uint64_t *ids, size_t n)
{
	size_t	 i, len = 0;

	for (i = 0; i < n; i++)
		len += pb_varint_len(ids[i]);
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
		n += pb_len_field_len(1, wire_jobinfo_size(e->jobs[i]));
	}
	if (e->n_running > 0)
		n += pb_len_field_len(2, wire_ids_size(e->running,
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
	return (1 + pb_varint_len(r->id) + pb_len_field_len(r->body_case, n));
}

size_t
wire_pack(const Futured__Response *r, uint8_t *out)
{
	const Futured__SubmitReply	*s;
	uint8_t				*p = out;
	size_t				 i, jn;

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
	} else if (r->body_case == FUTURED__RESPONSE__BODY_NEWS) {
		p = pb_varint(p, wire_news_size(r->news));
		for (i = 0; i < r->news->n_jobs; i++) {
			*p++ = PB_TAG(1, PB_LEN);
			p = pb_varint(p, wire_jobinfo_size(r->news->jobs[i]));
			p = wire_jobinfo(p, r->news->jobs[i]);
		}
		if (r->news->n_running > 0) {
			*p++ = PB_TAG(2, PB_LEN);
			p = pb_varint(p, wire_ids_size(r->news->running,
			    r->news->n_running));
			for (i = 0; i < r->news->n_running; i++)
				p = pb_varint(p, r->news->running[i]);
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
