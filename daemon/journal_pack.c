/*
 * The journal's three records of every job -- ACCEPT, START and FINAL --
 * packed by hand.  protobuf-c packs by walking a message's descriptor
 * twice (size, then pack); for these records that was the largest part
 * of the daemon's instructions per job with a journal, and compaction
 * packs every kept job's ACCEPT and FINAL again.  Other records, and a
 * message with unknown fields, are left to protobuf-c (journal_pack_size
 * says 0).  The output is byte for byte protobuf-c's: fields in the
 * order of their numbers, proto2's unpacked repeated fields, ten bytes
 * for a negative int32 or int64; tests/unit/check_journal_pack.c holds
 * the two to that, and fails when journal.proto gives one of these
 * messages a field this file does not pack yet.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "futured.h"
#include "journal.pb-c.h"
#include "journal.h"
#include "pbwire.h"

#define V(f, v)		pb_varint_field_len((f), (v))
#define S(f, s)		pb_len_field_len((f), strlen(s))

static size_t
journal_pack_kv_len(const FuturedJournal__KeyValue *kv)
{
	return (S(1, kv->key) + S(2, kv->value));
}

static size_t
journal_accept_size(const FuturedJournal__Accept *a)
{
	size_t	 i, n;

	n = V(1, a->id) + V(2, a->owner) + S(3, a->handler) + V(4, a->kind);
	if (a->has_payload)
		n += pb_len_field_len(5, a->payload.len);
	for (i = 0; i < a->n_args; i++)
		n += S(6, a->args[i]);
	for (i = 0; i < a->n_env; i++)
		n += S(7, a->env[i]);
	for (i = 0; i < a->n_ctx; i++) {
		if (a->ctx[i]->base.n_unknown_fields != 0)
			return (0);
		n += pb_len_field_len(8, journal_pack_kv_len(a->ctx[i]));
	}
	if (a->cwd != NULL)
		n += S(9, a->cwd);
	if (a->has_timeout_ms)
		n += V(10, pb_int(a->timeout_ms));
	if (a->has_deadline_ms)
		n += V(11, pb_int(a->deadline_ms));
	if (a->has_priority)
		n += V(12, pb_zigzag32(a->priority));
	if (a->group != NULL)
		n += S(13, a->group);
	for (i = 0; i < a->n_after; i++)
		n += V(14, a->after[i]);
	if (a->has_input_from)
		n += V(15, a->input_from);
	if (a->has_retries)
		n += V(16, a->retries);
	if (a->name != NULL)
		n += S(17, a->name);
	if (a->has_retry_delay_ms)
		n += V(18, pb_int(a->retry_delay_ms));
	if (a->has_retry_timeouts)
		n += V(19, a->retry_timeouts != 0);
	if (a->has_parent)
		n += V(20, a->parent);
	n += V(21, pb_int(a->submitted_at));
	if (a->has_input_resolved)
		n += V(22, a->input_resolved != 0);
	if (a->has_worker)
		n += V(23, a->worker != 0);
	if (a->has_engine)
		n += V(24, a->engine);
	return (n);
}

static uint8_t *
journal_str(uint8_t *p, uint32_t field, const char *s)
{
	return (pb_bytes_field(p, field, s, strlen(s)));
}

static uint8_t *
journal_accept_pack(const FuturedJournal__Accept *a, uint8_t *p)
{
	size_t	 i;

	p = pb_varint_field(p, 1, a->id);
	p = pb_varint_field(p, 2, a->owner);
	p = journal_str(p, 3, a->handler);
	p = pb_varint_field(p, 4, a->kind);
	if (a->has_payload)
		p = pb_bytes_field(p, 5, a->payload.data, a->payload.len);
	for (i = 0; i < a->n_args; i++)
		p = journal_str(p, 6, a->args[i]);
	for (i = 0; i < a->n_env; i++)
		p = journal_str(p, 7, a->env[i]);
	for (i = 0; i < a->n_ctx; i++) {
		p = pb_varint(p, PB_TAG(8, PB_LEN));
		p = pb_varint(p, journal_pack_kv_len(a->ctx[i]));
		p = journal_str(p, 1, a->ctx[i]->key);
		p = journal_str(p, 2, a->ctx[i]->value);
	}
	if (a->cwd != NULL)
		p = journal_str(p, 9, a->cwd);
	if (a->has_timeout_ms)
		p = pb_varint_field(p, 10, pb_int(a->timeout_ms));
	if (a->has_deadline_ms)
		p = pb_varint_field(p, 11, pb_int(a->deadline_ms));
	if (a->has_priority)
		p = pb_varint_field(p, 12, pb_zigzag32(a->priority));
	if (a->group != NULL)
		p = journal_str(p, 13, a->group);
	for (i = 0; i < a->n_after; i++)
		p = pb_varint_field(p, 14, a->after[i]);
	if (a->has_input_from)
		p = pb_varint_field(p, 15, a->input_from);
	if (a->has_retries)
		p = pb_varint_field(p, 16, a->retries);
	if (a->name != NULL)
		p = journal_str(p, 17, a->name);
	if (a->has_retry_delay_ms)
		p = pb_varint_field(p, 18, pb_int(a->retry_delay_ms));
	if (a->has_retry_timeouts)
		p = pb_varint_field(p, 19, a->retry_timeouts != 0);
	if (a->has_parent)
		p = pb_varint_field(p, 20, a->parent);
	p = pb_varint_field(p, 21, pb_int(a->submitted_at));
	if (a->has_input_resolved)
		p = pb_varint_field(p, 22, a->input_resolved != 0);
	if (a->has_worker)
		p = pb_varint_field(p, 23, a->worker != 0);
	if (a->has_engine)
		p = pb_varint_field(p, 24, a->engine);
	return (p);
}

static size_t
journal_start_size(const FuturedJournal__Start *s)
{
	size_t	 n;

	n = V(1, s->id) + V(2, s->attempt);
	if (s->has_started_at)
		n += V(3, pb_int(s->started_at));
	if (s->has_pid)
		n += V(4, pb_int(s->pid));
	if (s->has_proc_start)
		n += V(5, s->proc_start);
	if (s->boot_id != NULL)
		n += S(6, s->boot_id);
	if (s->engine_id != NULL)
		n += S(7, s->engine_id);
	return (n);
}

static uint8_t *
journal_start_pack(const FuturedJournal__Start *s, uint8_t *p)
{
	p = pb_varint_field(p, 1, s->id);
	p = pb_varint_field(p, 2, s->attempt);
	if (s->has_started_at)
		p = pb_varint_field(p, 3, pb_int(s->started_at));
	if (s->has_pid)
		p = pb_varint_field(p, 4, pb_int(s->pid));
	if (s->has_proc_start)
		p = pb_varint_field(p, 5, s->proc_start);
	if (s->boot_id != NULL)
		p = journal_str(p, 6, s->boot_id);
	if (s->engine_id != NULL)
		p = journal_str(p, 7, s->engine_id);
	return (p);
}

static size_t
journal_final_size(const FuturedJournal__Final *f)
{
	size_t	 n;

	n = V(1, f->id) + V(2, f->state);
	if (f->has_exit_status)
		n += V(3, pb_zigzag32(f->exit_status));
	if (f->has_signal)
		n += V(4, pb_int(f->signal));
	if (f->has_error_code)
		n += V(5, f->error_code);
	if (f->error != NULL)
		n += S(6, f->error);
	if (f->ended != NULL)
		n += S(7, f->ended);
	if (f->has_output)
		n += pb_len_field_len(8, f->output.len);
	if (f->has_output_truncated)
		n += V(9, f->output_truncated != 0);
	if (f->has_stderr_tail)
		n += pb_len_field_len(10, f->stderr_tail.len);
	if (f->has_started_at)
		n += V(11, pb_int(f->started_at));
	if (f->has_finished_at)
		n += V(12, pb_int(f->finished_at));
	if (f->has_attempts)
		n += V(13, f->attempts);
	if (f->has_stderr_truncated)
		n += V(14, f->stderr_truncated != 0);
	return (n);
}

static uint8_t *
journal_final_pack(const FuturedJournal__Final *f, uint8_t *p)
{
	p = pb_varint_field(p, 1, f->id);
	p = pb_varint_field(p, 2, f->state);
	if (f->has_exit_status)
		p = pb_varint_field(p, 3, pb_zigzag32(f->exit_status));
	if (f->has_signal)
		p = pb_varint_field(p, 4, pb_int(f->signal));
	if (f->has_error_code)
		p = pb_varint_field(p, 5, f->error_code);
	if (f->error != NULL)
		p = journal_str(p, 6, f->error);
	if (f->ended != NULL)
		p = journal_str(p, 7, f->ended);
	if (f->has_output)
		p = pb_bytes_field(p, 8, f->output.data, f->output.len);
	if (f->has_output_truncated)
		p = pb_varint_field(p, 9, f->output_truncated != 0);
	if (f->has_stderr_tail)
		p = pb_bytes_field(p, 10, f->stderr_tail.data,
		    f->stderr_tail.len);
	if (f->has_started_at)
		p = pb_varint_field(p, 11, pb_int(f->started_at));
	if (f->has_finished_at)
		p = pb_varint_field(p, 12, pb_int(f->finished_at));
	if (f->has_attempts)
		p = pb_varint_field(p, 13, f->attempts);
	if (f->has_stderr_truncated)
		p = pb_varint_field(p, 14, f->stderr_truncated != 0);
	return (p);
}

/* Bytes m packs to, or 0: not a message packed here (use protobuf-c). */
size_t
journal_pack_size(const ProtobufCMessage *m)
{
	if (m->n_unknown_fields != 0)
		return (0);
	if (m->descriptor == &futured_journal__accept__descriptor)
		return (journal_accept_size((const void *)m));
	if (m->descriptor == &futured_journal__start__descriptor)
		return (journal_start_size((const void *)m));
	if (m->descriptor == &futured_journal__final__descriptor)
		return (journal_final_size((const void *)m));
	return (0);
}

/* Pack m, which journal_pack_size() said it can, into out. */
size_t
journal_pack(const ProtobufCMessage *m, uint8_t *out)
{
	uint8_t	*p;

	if (m->descriptor == &futured_journal__accept__descriptor)
		p = journal_accept_pack((const void *)m, out);
	else if (m->descriptor == &futured_journal__start__descriptor)
		p = journal_start_pack((const void *)m, out);
	else
		p = journal_final_pack((const void *)m, out);
	return ((size_t)(p - out));
}
