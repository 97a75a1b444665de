/*
 * libFuzzer target for request_dispatch(): the input is a run of frames
 * as a client would send them (4-byte big-endian length, then a packed
 * Request); each is dispatched in turn on one connection, and whatever
 * is left over (or an input that is not framed at all) is dispatched as
 * one last message.  No socket: answers come back through the
 * connection's sendfn seam, and each must decode as a Response.
 *
 * The event loop never runs, so no job ever starts: a fuzzed exec
 * cannot run a command.  The job table is rebuilt for every input, so
 * inputs do not depend on one another.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "arena.h"
#include "frame.h"
#include "log.h"
#include "wire.h"

/* main.c's globals: the daemon's main() is not linked in. */
struct settings		 settings;
struct event_base	*base;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every answer must be a whole Response: the daemon never sends junk. */
static void
fuzz_request_send(struct conn *c, const void *p, size_t len)
{
	Futured__Response	*resp;

	resp = futured__response__unpack(NULL, len, p);
	if (resp == NULL)
		abort();
	futured__response__free_unpacked(resp, NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, 0);
	if ((base = event_base_new()) == NULL)
		abort();
	settings_defaults(&settings);
	settings.socket_path = "/nonexistent/futured.sock";
	settings.max_queued = 64;
	handler_init();
	request_init();
	return (0);
}

/*
 * wire_in.c's hand decoder must agree with protobuf-c on every frame it
 * takes: the same message, as packed again.
 */
static max_align_t	 fuzz_block[65536 / sizeof(max_align_t)];
static struct arena	 fuzz_arena;

static void
fuzz_request_agree(const uint8_t *data, size_t len)
{
	Futured__Request	*hand, *pb;
	uint8_t			*a, *b;
	size_t			 al, bl;

	if (fuzz_arena.block == NULL)
		arena_init(&fuzz_arena, fuzz_block, sizeof(fuzz_block));
	if ((hand = wire_decode_submit(&fuzz_arena.pb, data, len)) == NULL) {
		arena_reset(&fuzz_arena);
		return;
	}
	if ((pb = futured__request__unpack(NULL, len, data)) == NULL)
		abort();
	al = futured__request__get_packed_size(hand);
	bl = futured__request__get_packed_size(pb);
	if (al != bl || (a = malloc(al + 1)) == NULL ||
	    (b = malloc(bl + 1)) == NULL)
		abort();
	futured__request__pack(hand, a);
	futured__request__pack(pb, b);
	if (memcmp(a, b, al) != 0)
		abort();
	free(a);
	free(b);
	arena_reset(&fuzz_arena);
	futured__request__free_unpacked(pb, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn	 c;
	uint32_t	 len;

	sched_init();
	memset(&c, 0, sizeof(c));
	c.id = 1;
	c.uid = 1000;		/* not root: owner checks apply */
	c.version = FUTURED_PROTOCOL_VERSION;
	c.sendfn = fuzz_request_send;
	TAILQ_INIT(&c.pendings);

	while (!(c.flags & CONN_CLOSING) && size >= FRAME_HDR_LEN &&
	    frame_header_decode(data, settings.max_frame, &len) == 0 &&
	    len <= size - FRAME_HDR_LEN) {
		fuzz_request_agree(data + FRAME_HDR_LEN, len);
		if (request_dispatch(&c, data + FRAME_HDR_LEN, len) == -1)
			break;
		data += FRAME_HDR_LEN + len;
		size -= FRAME_HDR_LEN + len;
	}
	if (!(c.flags & CONN_CLOSING) && size > 0)
		(void)request_dispatch(&c, data, size);

	/* As at shutdown: settle what never ran (queues hold references). */
	sched_stop_queued("end of fuzz input");
	request_conn_free(&c);
	sched_free();
	return (0);
}
