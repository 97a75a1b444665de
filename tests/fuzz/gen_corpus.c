/*
 * Writes the seed corpus of the fuzz targets: valid client conversations
 * (framed, packed Requests) built here with protobuf-c, so no binary seed
 * is ever committed.  Usage: gen_corpus DIR; it fills DIR/fuzz_frame and
 * DIR/fuzz_request with the same seeds (both read the wire format).
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "futured.pb-c.h"
#include "frame.h"

static uint8_t	 seed[1 << 16];
static size_t	 seedlen;
static uint64_t	 reqid;

static void
add(Futured__Request *req)
{
	size_t	 len;

	req->id = ++reqid;
	len = futured__request__get_packed_size(req);
	if (seedlen + FRAME_HDR_LEN + len > sizeof(seed))
		errx(1, "seed too big");
	frame_header_encode(seed + seedlen, len);
	futured__request__pack(req, seed + seedlen + FRAME_HDR_LEN);
	seedlen += FRAME_HDR_LEN + len;
}

static void
save(const char *dir, const char *name)
{
	const char	*targets[] = { "fuzz_frame", "fuzz_request" };
	char		 path[4096];
	FILE		*f;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, targets[i]);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%s/%s", dir, targets[i], name);
		if ((f = fopen(path, "wb")) == NULL)
			err(1, "%s", path);
		if (fwrite(seed, 1, seedlen, f) != seedlen || fclose(f) != 0)
			err(1, "%s", path);
	}
	seedlen = 0;
	reqid = 0;
}

static void
hello(void)
{
	Futured__Request	 r = FUTURED__REQUEST__INIT;
	Futured__Hello		 h = FUTURED__HELLO__INIT;

	h.version = 1;
	h.client = (char *)"gen_corpus";
	r.body_case = FUTURED__REQUEST__BODY_HELLO;
	r.hello = &h;
	add(&r);
}

static void
submit(const char *handler, const char *arg, const char *payload,
    uint64_t after, int notify)
{
	Futured__Request	 r = FUTURED__REQUEST__INIT;
	Futured__SubmitRequest	 s = FUTURED__SUBMIT_REQUEST__INIT;
	Futured__JobSpec	 spec = FUTURED__JOB_SPEC__INIT;
	Futured__KeyValue	 kv = FUTURED__KEY_VALUE__INIT, *kvs[1];
	char			*args[1];

	spec.handler = (char *)handler;
	if (arg != NULL) {
		args[0] = (char *)arg;
		spec.n_args = 1;
		spec.args = args;
	}
	if (payload != NULL) {
		spec.has_payload = 1;
		spec.payload.data = (uint8_t *)payload;
		spec.payload.len = strlen(payload);
	}
	kv.key = (char *)"TRACE";
	kv.value = (char *)"seed";
	kvs[0] = &kv;
	spec.n_ctx = 1;
	spec.ctx = kvs;
	spec.has_priority = 1;
	spec.priority = -3;
	spec.has_timeout_ms = 1;
	spec.timeout_ms = 60000;
	spec.group = (char *)"g";
	if (after != 0) {
		spec.n_after = 1;
		spec.after = &after;
	}
	s.spec = &spec;
	s.has_notify = notify;
	s.notify = notify;
	r.body_case = FUTURED__REQUEST__BODY_SUBMIT;
	r.submit = &s;
	add(&r);
}

static void
ids_request(int which, uint64_t id)
{
	Futured__Request		 r = FUTURED__REQUEST__INIT;
	Futured__StatusRequest		 st = FUTURED__STATUS_REQUEST__INIT;
	Futured__WaitRequest		 w = FUTURED__WAIT_REQUEST__INIT;
	Futured__ResultRequest		 re = FUTURED__RESULT_REQUEST__INIT;
	Futured__CancelRequest		 c = FUTURED__CANCEL_REQUEST__INIT;
	Futured__SubscribeRequest	 su = FUTURED__SUBSCRIBE_REQUEST__INIT;

	switch (which) {
	case FUTURED__REQUEST__BODY_STATUS:
		st.n_ids = 1;
		st.ids = &id;
		r.status = &st;
		break;
	case FUTURED__REQUEST__BODY_WAIT:
		w.n_ids = 1;
		w.ids = &id;
		w.timeout_ms = 100;
		r.wait = &w;
		break;
	case FUTURED__REQUEST__BODY_RESULT:
		re.id = id;
		r.result = &re;
		break;
	case FUTURED__REQUEST__BODY_CANCEL:
		c.n_ids = 1;
		c.ids = &id;
		r.cancel = &c;
		break;
	case FUTURED__REQUEST__BODY_SUBSCRIBE:
		su.n_ids = 1;
		su.ids = &id;
		r.subscribe = &su;
		break;
	}
	r.body_case = which;
	add(&r);
}

static void
simple(int which)
{
	Futured__Request		 r = FUTURED__REQUEST__INIT;
	Futured__ListRequest		 l = FUTURED__LIST_REQUEST__INIT;
	Futured__HandlersRequest	 h = FUTURED__HANDLERS_REQUEST__INIT;
	Futured__StatsRequest		 s = FUTURED__STATS_REQUEST__INIT;
	Futured__PingRequest		 p = FUTURED__PING_REQUEST__INIT;

	r.body_case = which;
	r.list = &l;	/* any member of the oneof; the right one below */
	if (which == FUTURED__REQUEST__BODY_HANDLERS)
		r.handlers = &h;
	else if (which == FUTURED__REQUEST__BODY_STATS)
		r.stats = &s;
	else if (which == FUTURED__REQUEST__BODY_PING)
		r.ping = &p;
	add(&r);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		errx(2, "usage: gen_corpus DIR");
	if (mkdir(argv[1], 0755) == -1 && errno != EEXIST)
		err(1, "%s", argv[1]);

	hello();
	simple(FUTURED__REQUEST__BODY_PING);
	save(argv[1], "hello-ping");

	submit("echo", NULL, "hello", 0, 1);
	ids_request(FUTURED__REQUEST__BODY_STATUS, 1);
	ids_request(FUTURED__REQUEST__BODY_RESULT, 1);
	save(argv[1], "submit-status-result");

	submit("exec", "true", "stdin", 0, 0);
	submit("sleep", "1s", NULL, 1, 1);
	ids_request(FUTURED__REQUEST__BODY_WAIT, 2);
	ids_request(FUTURED__REQUEST__BODY_CANCEL, 1);
	save(argv[1], "deps-wait-cancel");

	submit("sha256", NULL, "abc", 0, 0);
	ids_request(FUTURED__REQUEST__BODY_SUBSCRIBE, 1);
	simple(FUTURED__REQUEST__BODY_LIST);
	save(argv[1], "subscribe-list");

	simple(FUTURED__REQUEST__BODY_HANDLERS);
	simple(FUTURED__REQUEST__BODY_STATS);
	save(argv[1], "handlers-stats");
	return (0);
}
