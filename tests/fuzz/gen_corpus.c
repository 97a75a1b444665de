/*
 * Writes the seed corpus of the fuzz targets, built here with protobuf-c
 * so that no binary seed is ever committed.  Usage: gen_corpus DIR.  It
 * fills DIR/fuzz_frame and DIR/fuzz_request with the same valid client
 * conversations (framed, packed Requests: both read that wire format),
 * and DIR/fuzz_client with daemon answers (framed, packed Responses) to
 * the requests fuzz_client.c's script makes.
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
save_to(const char *dir, const char *name, const char *const *targets,
    size_t ntargets)
{
	char		 path[4096];
	FILE		*f;
	size_t		 i;

	for (i = 0; i < ntargets; i++) {
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
save(const char *dir, const char *name)
{
	const char	*targets[] = { "fuzz_frame", "fuzz_request" };

	save_to(dir, name, targets, 2);
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

/* Daemon answers, for fuzz_client. */

static void
save_client(const char *dir, const char *name)
{
	const char	*targets[] = { "fuzz_client" };

	save_to(dir, name, targets, 1);
}

static void
answer(Futured__Response *r, uint64_t id)
{
	size_t	 len;

	r->id = id;
	len = futured__response__get_packed_size(r);
	if (seedlen + FRAME_HDR_LEN + len > sizeof(seed))
		errx(1, "seed too big");
	frame_header_encode(seed + seedlen, len);
	futured__response__pack(r, seed + seedlen + FRAME_HDR_LEN);
	seedlen += FRAME_HDR_LEN + len;
}

static void
raw(const void *p, size_t len)
{
	if (seedlen + len > sizeof(seed))
		errx(1, "seed too big");
	memcpy(seed + seedlen, p, len);
	seedlen += len;
}

static void
hello_reply(uint64_t id, uint32_t version)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__HelloReply	 h = FUTURED__HELLO_REPLY__INIT;

	h.version = version;
	h.server_version = (char *)"0.1.0";
	r.body_case = FUTURED__RESPONSE__BODY_HELLO;
	r.hello = &h;
	answer(&r, id);
}

static void
submit_reply(uint64_t id, uint64_t job, Futured__State state)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__SubmitReply	 s = FUTURED__SUBMIT_REPLY__INIT;

	s.id = job;
	s.has_state = 1;
	s.state = state;
	r.body_case = FUTURED__RESPONSE__BODY_SUBMIT;
	r.submit = &s;
	answer(&r, id);
}

static void
error_reply(uint64_t id, Futured__ErrorCode code, const char *msg)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__Error		 e = FUTURED__ERROR__INIT;

	e.code = code;
	e.message = (char *)msg;
	r.body_case = FUTURED__RESPONSE__BODY_ERROR;
	r.error = &e;
	answer(&r, id);
}

static void
subscribe_reply(uint64_t id, uint64_t job)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__SubscribeReply	 s = FUTURED__SUBSCRIBE_REPLY__INIT;

	s.n_ids = 1;
	s.ids = &job;
	r.body_case = FUTURED__RESPONSE__BODY_SUBSCRIBE;
	r.subscribe = &s;
	answer(&r, id);
}

static void
status_reply(uint64_t id, uint64_t job, Futured__State state)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__StatusReply	 s = FUTURED__STATUS_REPLY__INIT;
	Futured__JobInfo	 ji = FUTURED__JOB_INFO__INIT, *jobs[1];

	ji.id = job;
	ji.state = state;
	ji.handler = (char *)"echo";
	ji.has_progress = 1;
	ji.progress = 0.5;
	jobs[0] = &ji;
	s.n_jobs = 1;
	s.jobs = jobs;
	r.body_case = FUTURED__RESPONSE__BODY_STATUS;
	r.status = &s;
	answer(&r, id);
}

static void
cancel_reply(uint64_t id, uint64_t job, int took, Futured__ErrorCode code)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__CancelReply	 c = FUTURED__CANCEL_REPLY__INIT;
	Futured__CancelOutcome	 o = FUTURED__CANCEL_OUTCOME__INIT, *os[1];

	o.id = job;
	o.took_effect = took;
	o.has_state = 1;
	o.state = FUTURED__STATE__STATE_RUNNING;
	if (code != FUTURED__ERROR_CODE__ERR_NONE) {
		o.has_error_code = 1;
		o.error_code = code;
	}
	os[0] = &o;
	c.n_outcomes = job == 0 ? 0 : 1;
	c.outcomes = os;
	r.body_case = FUTURED__RESPONSE__BODY_CANCEL;
	r.cancel = &c;
	answer(&r, id);
}

/* A JobEvent (id 0) with a final JobInfo, as the daemon pushes it. */
static void
event(uint64_t job, Futured__State state, const char *out, int status,
    int sig, const char *errmsg)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__JobEvent	 e = FUTURED__JOB_EVENT__INIT;
	Futured__JobInfo	 ji = FUTURED__JOB_INFO__INIT;

	ji.id = job;
	ji.state = state;
	if (out != NULL) {
		ji.has_output = 1;
		ji.output.data = (uint8_t *)out;
		ji.output.len = strlen(out);
	}
	if (status >= 0) {
		ji.has_exit_status = 1;
		ji.exit_status = status;
	}
	if (sig != 0) {
		ji.has_signal = 1;
		ji.signal = sig;
	}
	if (errmsg != NULL) {
		ji.error = (char *)errmsg;
		ji.has_error_code = 1;
		ji.error_code = FUTURED__ERROR_CODE__ERR_INTERNAL;
		ji.has_stderr_tail = 1;
		ji.stderr_tail.data = (uint8_t *)"boom\n";
		ji.stderr_tail.len = 5;
	}
	e.job = &ji;
	r.body_case = FUTURED__RESPONSE__BODY_EVENT;
	r.event = &e;
	answer(&r, 0);
}

static void
ping_reply(uint64_t id)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__PingReply	 p = FUTURED__PING_REPLY__INIT;

	p.server_version = (char *)"0.1.0";
	p.protocol_version = 1;
	r.body_case = FUTURED__RESPONSE__BODY_PING;
	r.ping = &p;
	answer(&r, id);
}

/*
 * fuzz_client's request ids: 1 Hello, 2 submit, 3 and 4 submit_all,
 * 5 subscribe to job 42 (fut_attach) and 6 its status, 7 the status
 * fut_poll() asks for and 8 the cancel of the first job, when that job
 * is still open.  The jobs here are 100, 101, 102 and 42.
 */
static void
client_seeds(const char *dir)
{
	const Futured__State	 queued = FUTURED__STATE__STATE_QUEUED;
	const Futured__State	 running = FUTURED__STATE__STATE_RUNNING;
	const Futured__State	 ok = FUTURED__STATE__STATE_SUCCEEDED;
	const Futured__State	 failed = FUTURED__STATE__STATE_FAILED;
	const Futured__State	 cancelled = FUTURED__STATE__STATE_CANCELLED;
	const Futured__State	 timedout = FUTURED__STATE__STATE_TIMED_OUT;
	const uint8_t		 huge[] = { 0xff, 0xff, 0xff, 0xff };
	const uint8_t		 junk[] = { 0, 0, 0, 3, 0xff, 0xff, 0xff };
	size_t			 cut;

	/* Every call answered, then every job ends. */
	hello_reply(1, 1);
	submit_reply(2, 100, queued);
	submit_reply(3, 101, queued);
	submit_reply(4, 102, FUTURED__STATE__STATE_WAITING);
	subscribe_reply(5, 42);
	status_reply(6, 42, running);
	status_reply(7, 100, running);
	cancel_reply(8, 100, 1, FUTURED__ERROR_CODE__ERR_NONE);
	event(100, cancelled, NULL, -1, 15, "cancelled");
	event(101, ok, "hello\n", 0, 0, NULL);
	event(102, failed, "partial", 3, 0, "exited 3");
	event(42, timedout, NULL, -1, 9, "timed out");
	save_client(dir, "answered");

	/* Jobs that end before the next call; final states in a status. */
	hello_reply(1, 1);
	submit_reply(2, 100, running);
	event(100, ok, "early", 0, 0, NULL);
	submit_reply(3, 101, queued);
	submit_reply(4, 102, queued);
	event(101, failed, NULL, 1, 0, "exited 1");
	subscribe_reply(5, 42);
	status_reply(6, 42, ok);
	event(42, ok, "", 0, 0, NULL);
	event(102, cancelled, NULL, -1, 0, NULL);
	save_client(dir, "early-events");

	/* Refusals, then the daemon shuts down. */
	hello_reply(1, 1);
	error_reply(2, FUTURED__ERROR_CODE__ERR_UNKNOWN_HANDLER,
	    "unknown handler: echo");
	submit_reply(3, 101, queued);
	error_reply(4, FUTURED__ERROR_CODE__ERR_QUEUE_FULL, "queue full");
	error_reply(5, FUTURED__ERROR_CODE__ERR_NOT_FOUND, "no such job");
	error_reply(6, FUTURED__ERROR_CODE__ERR_NOT_FOUND, "no such job");
	error_reply(0, FUTURED__ERROR_CODE__ERR_SHUTTING_DOWN,
	    "shutting down");
	save_client(dir, "refused");

	/* Another protocol version. */
	hello_reply(1, 2);
	submit_reply(2, 100, queued);
	save_client(dir, "hello-version");
	error_reply(1, FUTURED__ERROR_CODE__ERR_VERSION, "version 1");
	submit_reply(2, 100, queued);
	save_client(dir, "hello-refused");

	/* Answers of the wrong kind, for ids sent and not, and jobs not. */
	hello_reply(1, 1);
	status_reply(2, 100, queued);
	submit_reply(3, 101, queued);
	ping_reply(4);
	submit_reply(5, 42, queued);
	submit_reply(999, 7, queued);
	event(555, ok, "stray", 0, 0, NULL);
	event(101, running, NULL, -1, 0, NULL);
	event(101, ok, "once", 0, 0, NULL);
	event(101, failed, "twice", 1, 0, "again");
	error_reply(0, FUTURED__ERROR_CODE__ERR_PROTO, "bad frame");
	save_client(dir, "wrong-bodies");
	ping_reply(1);
	submit_reply(2, 100, queued);
	save_client(dir, "hello-wrong-body");

	/* A subscribe without the job, odd refreshes, a bad cancel. */
	hello_reply(1, 1);
	submit_reply(2, 100, queued);
	submit_reply(3, 100, queued);	/* the same job twice */
	submit_reply(4, 102, queued);
	subscribe_reply(5, 41);
	ping_reply(6);
	submit_reply(7, 100, ok);
	cancel_reply(8, 0, 0, FUTURED__ERROR_CODE__ERR_NONE);
	event(100, ok, "shared", 0, 0, NULL);
	save_client(dir, "odd-answers");
	hello_reply(1, 1);
	submit_reply(2, 100, queued);
	submit_reply(3, 101, queued);
	submit_reply(4, 102, queued);
	subscribe_reply(5, 42);
	status_reply(6, 42, running);
	status_reply(7, 100, running);
	cancel_reply(8, 100, 0, FUTURED__ERROR_CODE__ERR_NOT_FOUND);
	save_client(dir, "cancel-refused");

	/* Broken streams: a frame over the limit, junk, a cut frame. */
	hello_reply(1, 1);
	submit_reply(2, 100, queued);
	raw(huge, sizeof(huge));
	save_client(dir, "oversize");
	hello_reply(1, 1);
	submit_reply(2, 100, queued);
	raw(junk, sizeof(junk));
	save_client(dir, "undecodable");
	hello_reply(1, 1);
	submit_reply(2, 100, queued);
	submit_reply(3, 101, queued);
	cut = seedlen;
	submit_reply(4, 102, queued);
	seedlen = cut + (seedlen - cut) / 2;
	save_client(dir, "truncated");
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

	client_seeds(argv[1]);
	return (0);
}
