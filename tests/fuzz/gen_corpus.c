/*
 * Writes the seed corpus of the fuzz targets, built here so that no
 * binary seed is ever committed.  Usage: gen_corpus DIR; it fills
 * - DIR/fuzz_frame and DIR/fuzz_request with the same seeds, valid
 *   client conversations (framed, packed Requests; both read the wire
 *   format);
 * - DIR/fuzz_client with daemon answers (framed, packed Responses) to
 *   the requests fuzz_client.c's script makes;
 * - DIR/fuzz_journal with journals of every record type, encoded by
 *   journal.c's own record encoder, and the damaged ones a crash or a
 *   full disk leaves (torn tail, a flipped bit, an older version);
 * - DIR/fuzz_config with config files covering every key of
 *   futured.conf(5).
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "journal.pb-c.h"
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

/* main.c's globals, for journal.c's encoder. */
struct settings		 settings;
struct event_base	*base;

static void
save_file(const char *dir, const char *target, const char *name,
    const void *data, size_t len)
{
	char	 path[4096];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	if ((f = fopen(path, "wb")) == NULL)
		err(1, "%s", path);
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
		err(1, "%s", path);
}

static void
save_to(const char *dir, const char *name, const char *const *targets,
    size_t ntargets)
{
	size_t	 i;

	for (i = 0; i < ntargets; i++)
		save_file(dir, targets[i], name, seed, seedlen);
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

/* A worker: it registers name, then updates job id (never given). */
static void
worker(const char *name, uint64_t id)
{
	Futured__Request		 r = FUTURED__REQUEST__INIT;
	Futured__WorkerRegister		 w = FUTURED__WORKER_REGISTER__INIT;
	Futured__WorkerHandler		 h = FUTURED__WORKER_HANDLER__INIT;
	Futured__WorkerHandler		*hs[1];
	Futured__TaskUpdate		 u = FUTURED__TASK_UPDATE__INIT;
	Futured__Kind			 kinds[2] = { FUTURED__KIND__KIND_ASYNC,
					    FUTURED__KIND__KIND_CPU };

	h.name = (char *)name;
	h.n_kinds = 2;
	h.kinds = kinds;
	h.description = (char *)"seed worker";
	hs[0] = &h;
	w.n_handlers = 1;
	w.handlers = hs;
	w.has_concurrency = 1;
	w.concurrency = 4;
	w.name = (char *)"gen_corpus";
	r.body_case = FUTURED__REQUEST__BODY_WORKER_REGISTER;
	r.worker_register = &w;
	add(&r);
	u.job_id = id;
	u.attempt = 1;
	u.has_progress = 1;
	u.progress = 0.5;
	u.has_output = 1;
	u.output.data = (uint8_t *)"out";
	u.output.len = 3;
	u.has_done = 1;
	u.done = 1;
	u.error = (char *)"bad n";
	u.error_type = (char *)"ValueError";
	r = (Futured__Request)FUTURED__REQUEST__INIT;
	r.body_case = FUTURED__REQUEST__BODY_TASK_UPDATE;
	r.task_update = &u;
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
	Futured__MetricsRequest		 m = FUTURED__METRICS_REQUEST__INIT;

	r.body_case = which;
	r.list = &l;	/* any member of the oneof; the right one below */
	if (which == FUTURED__REQUEST__BODY_HANDLERS)
		r.handlers = &h;
	else if (which == FUTURED__REQUEST__BODY_STATS)
		r.stats = &s;
	else if (which == FUTURED__REQUEST__BODY_PING)
		r.ping = &p;
	else if (which == FUTURED__REQUEST__BODY_METRICS)
		r.metrics = &m;
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

/* A JobInfo with every field set, as status and list answers carry. */
static void
full_info(Futured__JobInfo *ji, uint64_t job, Futured__State state)
{
	static char			*args[] = { "sh", "-c", "echo hi" };
	static Futured__KeyValue	 kv = FUTURED__KEY_VALUE__INIT;
	static Futured__KeyValue	*ctx[] = { &kv };

	kv.key = (char *)"TRACE";
	kv.value = (char *)"abc";
	futured__job_info__init(ji);
	ji->id = job;
	ji->state = state;
	ji->has_kind = 1;
	ji->kind = FUTURED__KIND__KIND_CPU;
	ji->handler = (char *)"exec";
	ji->name = (char *)"nm";
	ji->group = (char *)"g";
	ji->has_progress = 1;
	ji->progress = 0.25;
	ji->progress_msg = (char *)"step 1";
	ji->has_exit_status = 1;
	ji->exit_status = 3;
	ji->has_signal = 1;
	ji->signal = 9;
	ji->has_error_code = 1;
	ji->error_code = FUTURED__ERROR_CODE__ERR_INVALID;
	ji->error = (char *)"bad";
	ji->has_output = 1;
	ji->output.data = (uint8_t *)"out";
	ji->output.len = 3;
	ji->has_output_truncated = 1;
	ji->output_truncated = 1;
	ji->has_stderr_tail = 1;
	ji->stderr_tail.data = (uint8_t *)"err";
	ji->stderr_tail.len = 3;
	ji->has_submitted_at = ji->has_started_at = ji->has_finished_at = 1;
	ji->submitted_at = 1764000000000;
	ji->started_at = 1764000000001;
	ji->finished_at = 1764000000002;
	ji->has_attempts = 1;
	ji->attempts = 2;
	ji->n_args = 3;
	ji->args = args;
	ji->has_parent = 1;
	ji->parent = 7;
	ji->has_priority = 1;
	ji->priority = -3;
	ji->has_output_size = 1;
	ji->output_size = 3;
	ji->ended = (char *)"exited";
	ji->has_retries = 1;
	ji->retries = 1;
	ji->n_ctx = 1;
	ji->ctx = ctx;
}

/* A status, result, list or wait answer of n full infos. */
static void
infos_reply(uint64_t id, Futured__Response__BodyCase body, size_t n)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__StatusReply	 st = FUTURED__STATUS_REPLY__INIT;
	Futured__ResultReply	 rr = FUTURED__RESULT_REPLY__INIT;
	Futured__ListReply	 l = FUTURED__LIST_REPLY__INIT;
	Futured__WaitReply	 w = FUTURED__WAIT_REPLY__INIT;
	Futured__JobInfo	 ji[3], *jobs[3];
	size_t			 i;

	for (i = 0; i < n && i < 3; i++) {
		full_info(&ji[i], 100 + i, i == 0 ?
		    FUTURED__STATE__STATE_RUNNING :
		    FUTURED__STATE__STATE_SUCCEEDED);
		jobs[i] = &ji[i];
	}
	r.body_case = body;
	switch (body) {
	case FUTURED__RESPONSE__BODY_STATUS:
		st.n_jobs = n;
		st.jobs = jobs;
		r.status = &st;
		break;
	case FUTURED__RESPONSE__BODY_RESULT:
		rr.job = jobs[0];
		r.result = &rr;
		break;
	case FUTURED__RESPONSE__BODY_LIST:
		l.n_jobs = n;
		l.jobs = jobs;
		r.list = &l;
		break;
	default:
		w.n_jobs = n;
		w.jobs = jobs;
		w.timed_out = 0;
		w.has_first = 1;
		w.first = 101;
		r.wait = &w;
		break;
	}
	answer(&r, id);
}

static void
handlers_reply(uint64_t id)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__HandlersReply	 hr = FUTURED__HANDLERS_REPLY__INIT;
	Futured__HandlerInfo	 h = FUTURED__HANDLER_INFO__INIT, *hs[1];
	Futured__Kind		 kinds[] = { FUTURED__KIND__KIND_ASYNC,
	    FUTURED__KIND__KIND_CPU, (Futured__Kind)9 };

	h.name = (char *)"sha256";
	h.n_kinds = 3;
	h.kinds = kinds;
	h.default_kind = FUTURED__KIND__KIND_CPU;
	h.description = (char *)"digest";
	hs[0] = &h;
	hr.n_handlers = 1;
	hr.handlers = hs;
	r.body_case = FUTURED__RESPONSE__BODY_HANDLERS;
	r.handlers = &hr;
	answer(&r, id);
}

static void
stats_reply(uint64_t id)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__StatsReply	 s = FUTURED__STATS_REPLY__INIT;
	Futured__KindStats	 k = FUTURED__KIND_STATS__INIT, *ks[1];

	k.kind = FUTURED__KIND__KIND_BLOCKING;
	k.running = 2;
	k.pool_size = 4;
	ks[0] = &k;
	s.n_kinds = 1;
	s.kinds = ks;
	s.uptime_ms = 5000;
	s.jobs_total = 9;
	s.connections = 1;
	s.server_version = (char *)"0.1.0";
	r.body_case = FUTURED__RESPONSE__BODY_STATS;
	r.stats = &s;
	answer(&r, id);
}

static void
group_reply(uint64_t id)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__GroupReply	 g = FUTURED__GROUP_REPLY__INIT;

	g.name = (char *)"g";
	g.fail_fast = 1;
	g.parallel = 2;
	g.jobs = 3;
	g.created = 1;
	r.body_case = FUTURED__RESPONSE__BODY_GROUP;
	r.group = &g;
	answer(&r, id);
}

/* One WatchEvent on the stream of request id. */
static void
watch_event(uint64_t id, uint64_t job, Futured__State state,
    const char *out, int final)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__WatchEvent	 w = FUTURED__WATCH_EVENT__INIT;
	Futured__JobInfo	 ji;

	full_info(&ji, job, state);
	ji.has_output = 0;
	w.job = &ji;
	if (out != NULL) {
		w.has_output = 1;
		w.output.data = (uint8_t *)out;
		w.output.len = strlen(out);
	}
	w.final = final;
	r.body_case = FUTURED__RESPONSE__BODY_WATCH;
	r.watch = &w;
	answer(&r, id);
}

/*
 * fuzz_client's request ids: 1 Hello, 2 submit, 3 and 4 submit_all,
 * 5 subscribe to job 42 (fut_attach) and 6 its status, 7 the status
 * fut_poll() asks for and 8 the cancel of the first job, when that job
 * is still open.  The jobs here are 100, 101, 102 and 42.  Then the
 * snapshot calls: 9 status, 10 result, 11 list, 12 wait, 13 cancel,
 * 14 handlers, 15 stats, 16 group, 17 ping; and the watches: 18 of job
 * 42 and 19 of job 100 in one, 20 of job 101 with a callback.
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

	/* The same, then every snapshot call and watch answered. */
	hello_reply(1, 1);
	submit_reply(2, 100, queued);
	submit_reply(3, 101, queued);
	submit_reply(4, 102, FUTURED__STATE__STATE_WAITING);
	subscribe_reply(5, 42);
	status_reply(6, 42, running);
	status_reply(7, 100, running);
	cancel_reply(8, 100, 1, FUTURED__ERROR_CODE__ERR_NONE);
	infos_reply(9, FUTURED__RESPONSE__BODY_STATUS, 1);
	infos_reply(10, FUTURED__RESPONSE__BODY_RESULT, 1);
	infos_reply(11, FUTURED__RESPONSE__BODY_LIST, 3);
	infos_reply(12, FUTURED__RESPONSE__BODY_WAIT, 2);
	cancel_reply(13, 100, 1, FUTURED__ERROR_CODE__ERR_NONE);
	handlers_reply(14);
	stats_reply(15);
	group_reply(16);
	ping_reply(17);
	watch_event(18, 42, running, NULL, 0);
	watch_event(20, 101, running, NULL, 0);
	watch_event(19, 100, running, "chunk", 0);
	watch_event(18, 42, running, "more", 0);
	watch_event(19, 100, ok, NULL, 1);
	watch_event(19, 100, ok, "after the end", 1);
	error_reply(20, FUTURED__ERROR_CODE__ERR_NOT_FOUND, "no such job");
	event(100, cancelled, NULL, -1, 15, "cancelled");
	event(101, ok, "hello\n", 0, 0, NULL);
	event(102, failed, "partial", 3, 0, "exited 3");
	event(42, timedout, NULL, -1, 9, "timed out");
	watch_event(18, 42, timedout, NULL, 1);
	save_client(dir, "snapshots");

	/* Snapshot calls answered wrongly: other bodies, errors, empties. */
	hello_reply(1, 1);
	submit_reply(2, 100, queued);
	submit_reply(3, 101, queued);
	submit_reply(4, 102, queued);
	subscribe_reply(5, 42);
	status_reply(6, 42, running);
	status_reply(7, 100, running);
	cancel_reply(8, 100, 1, FUTURED__ERROR_CODE__ERR_NONE);
	infos_reply(9, FUTURED__RESPONSE__BODY_STATUS, 0);
	error_reply(10, FUTURED__ERROR_CODE__ERR_NOT_READY, "not finished");
	infos_reply(11, FUTURED__RESPONSE__BODY_WAIT, 1);
	infos_reply(12, FUTURED__RESPONSE__BODY_LIST, 0);
	cancel_reply(13, 0, 0, FUTURED__ERROR_CODE__ERR_NONE);
	stats_reply(14);
	handlers_reply(15);
	error_reply(16, FUTURED__ERROR_CODE__ERR_INTERNAL, "journal");
	group_reply(17);
	infos_reply(18, FUTURED__RESPONSE__BODY_STATUS, 1);
	watch_event(19, 42, running, "x", 0);
	watch_event(20, 101, ok, NULL, 1);
	save_client(dir, "snapshots-wrong");

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

/* Journals ------------------------------------------------------------ */

static uint8_t	*jdata;
static size_t	 jlen, jcap;

static void
jheader(void)
{
	jcap = 4096;
	if ((jdata = malloc(jcap)) == NULL)
		err(1, NULL);
	journal_header_encode(jdata);
	jlen = JOURNAL_HDR_LEN;
}

static void
jrecord(int type, const ProtobufCMessage *m)
{
	size_t	 n = protobuf_c_message_get_packed_size(m);
	uint8_t	*p;

	if ((p = malloc(n + 1)) == NULL)
		err(1, NULL);
	protobuf_c_message_pack(m, p);
	journal_record_encode(&jdata, &jlen, &jcap, type, p, n);
	free(p);
}

static void
jsave(const char *dir, const char *name, size_t len)
{
	save_file(dir, "fuzz_journal", name, jdata, len);
}

static void
jcheckpoint(uint64_t next_id)
{
	FuturedJournal__Checkpoint	 cp = FUTURED_JOURNAL__CHECKPOINT__INIT;

	cp.next_id = next_id;
	cp.has_written_at = 1;
	cp.written_at = 1700000000000LL;
	jrecord(JOURNAL_CHECKPOINT, &cp.base);
}

static void
jgroup(const char *name, int fail_fast, uint32_t parallel)
{
	FuturedJournal__Group	 g = FUTURED_JOURNAL__GROUP__INIT;

	g.owner = 1000;
	g.name = (char *)name;
	g.has_fail_fast = 1;
	g.fail_fast = fail_fast;
	g.has_parallel = 1;
	g.parallel = parallel;
	jrecord(JOURNAL_GROUP, &g.base);
}

/* An ACCEPT with every field a spec can have. */
static void
jaccept(uint64_t id, const char *handler, uint32_t kind, uint64_t after,
    uint64_t input_from, uint64_t parent, const char *group)
{
	FuturedJournal__Accept		 a = FUTURED_JOURNAL__ACCEPT__INIT;
	FuturedJournal__KeyValue	 kv = FUTURED_JOURNAL__KEY_VALUE__INIT;
	FuturedJournal__KeyValue	*kvs[1];
	char				*args[2], *env[1];

	a.id = id;
	a.owner = 1000;
	a.handler = (char *)handler;
	a.kind = kind;
	a.has_payload = 1;
	a.payload.data = (uint8_t *)"payload";
	a.payload.len = 7;
	args[0] = (char *)"-c";
	args[1] = (char *)"true";
	a.n_args = 2;
	a.args = args;
	env[0] = (char *)"LANG=C";
	a.n_env = 1;
	a.env = env;
	kv.key = (char *)"TRACE";
	kv.value = (char *)"seed";
	kvs[0] = &kv;
	a.n_ctx = 1;
	a.ctx = kvs;
	a.cwd = (char *)"/";
	a.has_timeout_ms = 1;
	a.timeout_ms = 60000;
	a.has_deadline_ms = 1;
	a.deadline_ms = 4000000000000LL;
	a.has_priority = 1;
	a.priority = -3;
	a.group = (char *)group;
	if (after != 0) {
		a.n_after = 1;
		a.after = &after;
	}
	if (input_from != 0) {
		a.has_input_from = 1;
		a.input_from = input_from;
	}
	a.has_retries = 1;
	a.retries = 2;
	a.name = (char *)"seed job";
	a.has_retry_delay_ms = 1;
	a.retry_delay_ms = 100;
	a.has_retry_timeouts = 1;
	a.retry_timeouts = 1;
	if (parent != 0) {
		a.has_parent = 1;
		a.parent = parent;
	}
	a.submitted_at = 1700000000000LL;
	jrecord(JOURNAL_ACCEPT, &a.base);
}

static void
jstart(uint64_t id, uint32_t attempt)
{
	FuturedJournal__Start	 st = FUTURED_JOURNAL__START__INIT;

	st.id = id;
	st.attempt = attempt;
	st.has_started_at = 1;
	st.started_at = 1700000000100LL;
	jrecord(JOURNAL_START, &st.base);
}

static void
jrequeue(uint64_t id)
{
	FuturedJournal__Requeue	 r = FUTURED_JOURNAL__REQUEUE__INIT;

	r.id = id;
	jrecord(JOURNAL_REQUEUE, &r.base);
}

static void
jfinal(uint64_t id, uint32_t state, int64_t finished_at)
{
	FuturedJournal__Final	 f = FUTURED_JOURNAL__FINAL__INIT;

	f.id = id;
	f.state = state;
	f.has_exit_status = 1;
	f.exit_status = state == JOB_SUCCEEDED ? 0 : 1;
	if (state == JOB_CANCELLED) {
		f.has_signal = 1;
		f.signal = 15;
	}
	if (state != JOB_SUCCEEDED) {
		f.has_error_code = 1;
		f.error_code = 1;
		f.error = (char *)"it went wrong";
	}
	f.ended = (char *)"completed";
	f.has_output = 1;
	f.output.data = (uint8_t *)"output";
	f.output.len = 6;
	f.has_output_truncated = 1;
	f.output_truncated = 1;
	f.has_stderr_tail = 1;
	f.stderr_tail.data = (uint8_t *)"warning";
	f.stderr_tail.len = 7;
	f.has_started_at = 1;
	f.started_at = finished_at > INT64_MIN + 10 ? finished_at - 10 :
	    finished_at;
	f.has_finished_at = 1;
	f.finished_at = finished_at;
	f.has_attempts = 1;
	f.attempts = 1;
	jrecord(JOURNAL_FINAL, &f.base);
}

static void
journals(const char *dir)
{
	/* Recent enough to be kept: an hour before this run. */
	int64_t	 recent = (int64_t)time(NULL) * 1000 - 3600 * 1000;
	size_t	 len;

	jheader();
	jsave(dir, "empty", 0);
	jsave(dir, "header", jlen);
	jsave(dir, "header-cut", JOURNAL_HDR_LEN / 2);

	/* Every record type, every job state. */
	jcheckpoint(5);
	jgroup("g", 1, 2);
	jaccept(5, "echo", JOB_ASYNC, 0, 0, 0, "g");		/* queued */
	jaccept(6, "exec", JOB_BLOCKING, 0, 0, 5, "g");		/* running */
	jstart(6, 1);
	jaccept(7, "sha256", JOB_CPU, 0, 0, 0, NULL);		/* requeued */
	jstart(7, 1);
	jrequeue(7);
	jaccept(8, "echo", JOB_ASYNC, 0, 0, 0, NULL);		/* succeeded */
	jstart(8, 1);
	jfinal(8, JOB_SUCCEEDED, recent);
	jaccept(9, "exec", JOB_ASYNC, 0, 0, 0, NULL);		/* failed */
	jstart(9, 3);
	jfinal(9, JOB_FAILED, recent + 1);
	jaccept(10, "sleep", JOB_ASYNC, 0, 0, 0, NULL);	/* cancelled */
	jfinal(10, JOB_CANCELLED, recent + 2);
	jaccept(11, "exec", JOB_CPU, 0, 0, 0, NULL);		/* old */
	jfinal(11, JOB_TIMED_OUT, 1000);
	jaccept(12, "echo", JOB_ASYNC, 5, 8, 0, NULL);		/* waiting */
	jaccept(13, "plugin-gone", JOB_ASYNC, 0, 0, 0, NULL);	/* ghost */
	jaccept(14, "sleep", JOB_CPU, 0, 0, 0, NULL);		/* bad kind */
	jaccept(15, "echo", JOB_ASYNC, 0, 99, 0, NULL);	/* lost input */
	jaccept(16, "echo", JOB_ASYNC, 9, 0, 0, NULL);		/* dep failed */
	jaccept(8, "echo", JOB_ASYNC, 0, 0, 0, NULL);		/* again */
	jsave(dir, "all-records", jlen);
	len = jlen;

	/* What a crash or a full disk leaves. */
	jsave(dir, "torn-tail", len - 3);
	jdata[JOURNAL_HDR_LEN + JOURNAL_RECORD_HDR + 1] ^= 0x10;
	jsave(dir, "corrupt-inside", len);
	jdata[JOURNAL_HDR_LEN + JOURNAL_RECORD_HDR + 1] ^= 0x10;
	jdata[11]++;		/* the low byte of the version */
	jsave(dir, "newer-version", len);
	jdata[11]--;
	free(jdata);

	/* As compaction writes it: a checkpoint, then the live jobs. */
	jheader();
	jcheckpoint(100);
	jgroup("batch", 0, 4);
	jaccept(40, "echo", JOB_ASYNC, 0, 0, 0, "batch");
	jfinal(40, JOB_SUCCEEDED, recent);
	jaccept(41, "echo", JOB_ASYNC, 40, 40, 40, "batch");
	jaccept(42, "exec", JOB_BLOCKING, 41, 0, 0, "batch");
	jstart(42, 1);
	jsave(dir, "compacted", jlen);
	free(jdata);

	/* Numbers at their limits: a replay must overflow nothing. */
	jheader();
	jcheckpoint(UINT64_MAX);
	jgroup("wide", 1, UINT32_MAX);
	jaccept(INT64_MAX, "echo", JOB_ASYNC, UINT64_MAX, UINT64_MAX,
	    UINT64_MAX, "wide");
	jstart(INT64_MAX, UINT32_MAX);
	jaccept(UINT64_MAX - 1, "echo", JOB_ASYNC, 0, 0, 0, NULL);
	jfinal(UINT64_MAX - 1, JOB_SUCCEEDED, INT64_MAX);
	jaccept(UINT64_MAX, "echo", UINT32_MAX, 0, 0, 0, NULL);
	jfinal(UINT64_MAX, UINT32_MAX, INT64_MIN);
	jsave(dir, "limits", jlen);
	free(jdata);
}

/* Config files ------------------------------------------------------- */

static void
cfg(const char *dir, const char *name, const char *text)
{
	save_file(dir, "fuzz_config", name, text, strlen(text));
}

static void
configs(const char *dir)
{
	cfg(dir, "every-key",
	    "# futured.conf(5): every key\n"
	    "socket = /run/futured/futured.sock\n"
	    "threads = 8\n"
	    "procs = 2\n"
	    "grace = 250ms\n"
	    "shutdown-grace = 1.5m\n"
	    "max-output = 1048576\n"
	    "worker-memory = 512M\n"
	    "log-level = debug\n"
	    "journal = /var/lib/futured/journal\n"
	    "fsync = batch\n"
	    "fsync-interval = 20ms\n"
	    "plugin = /usr/lib/futured/a.so\n"
	    "plugin = /usr/lib/futured/b.so\n");
	cfg(dir, "comments-blanks",
	    "\n   # indented comment\n"
	    "\tthreads=1\t# trailing comment\n"
	    "socket = /tmp/a#b.sock\r\n"
	    "grace = 2h\n"
	    "worker-memory = 0\n"
	    "journal = none\n"
	    "fsync = always\n"
	    "log-level = warn\n");
	cfg(dir, "units",
	    "shutdown-grace = 30\nworker-memory = 2g\nmax-output = 1\n"
	    "fsync = none\nfsync-interval = 1s\nlog-level = error\n"
	    "procs = 4096\n");
	cfg(dir, "bad-line", "threads = 2\nprocs = 0\n");
	cfg(dir, "no-equals", "log-level info\n");
	cfg(dir, "twice", "procs = 1\nprocs = 2\n");
	cfg(dir, "slurm",
	    "slurm-dir = /shared/futured\n"
	    "slurm-partition = batch\n"
	    "slurm-account = lab\n"
	    "slurm-interval = 2s\n"
	    "slurm-nice-base = 20\n"
	    "slurm-handlers = exec\n"
	    "slurm-option = --qos=low\n"
	    "slurm-option = --hold\n");
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
	simple(FUTURED__REQUEST__BODY_METRICS);
	save(argv[1], "handlers-stats");

	hello();
	worker("wseed", 0);
	save(argv[1], "worker-register-update");

	hello();
	submit("echo", NULL, "x", 0, 0);
	worker("wseed2", 1);
	simple(FUTURED__REQUEST__BODY_HANDLERS);
	simple(FUTURED__REQUEST__BODY_STATS);
	save(argv[1], "worker-handlers-stats");

	client_seeds(argv[1]);

	journals(argv[1]);
	configs(argv[1]);
	return (0);
}
