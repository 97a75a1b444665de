/*
 * futurectl: control futured(8) from the command line.
 *
 * futurectl is a short-lived, single-threaded tool that needs every field
 * of the daemon's answers (timestamps, kinds, handler lists, counters), so
 * it speaks the protocol itself through the small synchronous helpers
 * below (ctl_*) rather than through libfutured, whose futures expose only
 * what programs need.  One connection per run; the Hello is pipelined
 * with the first request and checked when its answer arrives.
 *
 * Exit status: see INTERFACE.md and futurectl(1).  0 success, 1 a job
 * failed, 2 usage, 3 cancelled, 4 timed out, 5 not finished, 6 daemon
 * unreachable or protocol error, 7 no such job.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "duration.h"
#include "frame.h"
#include "sockpath.h"
#include "futured.pb-c.h"
#include "json.h"

#define EX_OK		0
#define EX_FAILED	1
#define EX_USAGE	2
#define EX_CANCELLED	3
#define EX_TIMEDOUT	4
#define EX_NOTREADY	5
#define EX_DAEMON	6
#define EX_NOTFOUND	7

extern char	**environ;

static const char	*ctl_path;
static int		 ctl_json;
static int		 ctl_fd = -1;
static uint64_t		 ctl_nextid = 1;
static uint64_t		 ctl_helloid;
static struct buf	 ctl_rbuf;
static size_t		 ctl_roff;

/* Events that arrived while waiting for an answer. */
static Futured__Response	**ctl_events;
static size_t			  ctl_nevents;

static const char *const state_names[] = {
	"unknown", "waiting", "queued", "running", "succeeded", "failed",
	"cancelled", "timed_out"
};
static const char *const kind_names[] = {
	"default", "async", "blocking", "cpu"
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: futurectl [-s path] [--json] command [argument ...]\n"
	    "commands:\n"
	    "  submit [options] handler [--] [arg ...]\n"
	    "  run [options] -- command [arg ...]\n"
	    "  status id ...\n"
	    "  wait [--any] [-t duration] [--progress] id ... | -g group\n"
	    "  result id\n"
	    "  cancel [--grace duration] id ... | -g group\n"
	    "  watch id\n"
	    "  list [--state state] [-g group]\n"
	    "  group name [--fail-fast] [--parallel n]\n"
	    "  handlers\n"
	    "  stats\n"
	    "  ping\n"
	    "submit and run options:\n"
	    "  -k kind  -t duration  --deadline duration  -a id[,id...]\n"
	    "  -i id  -g group  -p priority  -C key=value  -e key=value\n"
	    "  -d string  -D file  -r retries  --retry-delay duration\n"
	    "  --retry-timeouts  -n name  -w\n");
	exit(EX_USAGE);
}

static const char *
state_name(Futured__State s)
{
	if ((unsigned)s < sizeof(state_names) / sizeof(state_names[0]))
		return (state_names[s]);
	return ("unknown");
}

static const char *
kind_name(Futured__Kind k)
{
	if ((unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]))
		return (kind_names[k]);
	return ("unknown");
}

static int
state_parse(const char *s, Futured__State *st)
{
	size_t	 i;

	for (i = 1; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*st = (Futured__State)i;
			return (0);
		}
	}
	return (-1);
}

static int64_t
parse_duration(const char *s)
{
	int64_t	 ms;

	if (duration_parse(s, &ms) == -1)
		errx(EX_USAGE, "bad duration \"%s\"", s);
	return (ms);
}

static uint64_t
parse_id(const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	if (*s < '0' || *s > '9')
		errx(EX_USAGE, "bad job id \"%s\"", s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		errx(EX_USAGE, "bad job id \"%s\"", s);
	return (v);
}

static long long
parse_int(const char *s, long long min, long long max, const char *what)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		errx(EX_USAGE, "bad %s \"%s\"", what, s);
	return (v);
}

/* Exit status for a daemon error code. */
static int
error_exit(Futured__ErrorCode code)
{
	switch (code) {
	case FUTURED__ERROR_CODE__ERR_NOT_FOUND:
	case FUTURED__ERROR_CODE__ERR_PERM:
		return (EX_NOTFOUND);
	case FUTURED__ERROR_CODE__ERR_NOT_READY:
		return (EX_NOTREADY);
	case FUTURED__ERROR_CODE__ERR_INVALID:
	case FUTURED__ERROR_CODE__ERR_UNKNOWN_HANDLER:
	case FUTURED__ERROR_CODE__ERR_BAD_KIND:
		return (EX_USAGE);
	case FUTURED__ERROR_CODE__ERR_PROTO:
	case FUTURED__ERROR_CODE__ERR_VERSION:
	case FUTURED__ERROR_CODE__ERR_SHUTTING_DOWN:
		return (EX_DAEMON);
	default:
		return (EX_FAILED);
	}
}

/* Exit status of a final job, as wait, result and submit -w report it. */
static int
state_exit(Futured__State s)
{
	switch (s) {
	case FUTURED__STATE__STATE_SUCCEEDED:
		return (EX_OK);
	case FUTURED__STATE__STATE_CANCELLED:
		return (EX_CANCELLED);
	case FUTURED__STATE__STATE_TIMED_OUT:
		return (EX_TIMEDOUT);
	case FUTURED__STATE__STATE_FAILED:
		return (EX_FAILED);
	default:
		return (EX_NOTREADY);
	}
}

static int
state_final(Futured__State s)
{
	return (s >= FUTURED__STATE__STATE_SUCCEEDED);
}

/* Protocol helpers. */

static void
ctl_connect(void)
{
	struct sockaddr_un	 sun;
	static char		 def[sizeof(sun.sun_path)];

	if (ctl_path == NULL) {
		if (sockpath_default(def, sizeof(def)) == -1)
			errx(EX_DAEMON, "socket path too long");
		ctl_path = def;
	}
	if (sockpath_addr(ctl_path, &sun) == -1)
		errx(EX_DAEMON, "socket path too long: %s", ctl_path);
	if ((ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(EX_DAEMON, "socket");
	if (connect(ctl_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(EX_DAEMON, "cannot connect to %s", ctl_path);
}

static void
ctl_write(const void *data, size_t len)
{
	const uint8_t	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = send(ctl_fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(EX_DAEMON, "write to futured");
		}
		p += n;
		len -= n;
	}
}

/* Frame a request into b, giving it the next id; returns the id. */
static uint64_t
ctl_pack(struct buf *b, Futured__Request *req)
{
	size_t	 len;
	uint8_t	*p;

	req->id = ctl_nextid++;
	len = futured__request__get_packed_size(req);
	if (len > FUTURED_FRAME_MAX)
		errx(EX_FAILED, "request too big (%zu bytes)", len);
	if ((p = malloc(len + FRAME_HDR_LEN)) == NULL)
		err(EX_FAILED, NULL);
	frame_header_encode(p, (uint32_t)len);
	futured__request__pack(req, p + FRAME_HDR_LEN);
	if (buf_append(b, p, len + FRAME_HDR_LEN) == -1)
		err(EX_FAILED, NULL);
	free(p);
	return (req->id);
}

/* Connect, and queue the Hello in front of whatever follows. */
static void
ctl_open(struct buf *b)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__Hello		 hello = FUTURED__HELLO__INIT;

	ctl_connect();
	hello.version = FUTURED_PROTOCOL_VERSION;
	hello.client = (char *)"futurectl " PACKAGE_VERSION;
	req.body_case = FUTURED__REQUEST__BODY_HELLO;
	req.hello = &hello;
	ctl_helloid = ctl_pack(b, &req);
}

static void
ctl_flush(struct buf *b)
{
	ctl_write(b->data, b->len);
	buf_reset(b);
}

/* Read the next response from the daemon; exits on a lost connection. */
static Futured__Response *
ctl_recv_any(void)
{
	Futured__Response	*r;
	uint8_t			 chunk[65536];
	uint32_t		 len;
	ssize_t			 n;

	for (;;) {
		if (ctl_rbuf.len - ctl_roff >= FRAME_HDR_LEN) {
			if (frame_header_decode(ctl_rbuf.data + ctl_roff,
			    FUTURED_FRAME_MAX, &len) == -1)
				errx(EX_DAEMON, "futured sent a frame of %u "
				    "bytes, over the limit", len);
			if (ctl_rbuf.len - ctl_roff - FRAME_HDR_LEN >= len) {
				r = futured__response__unpack(NULL, len,
				    ctl_rbuf.data + ctl_roff + FRAME_HDR_LEN);
				if (r == NULL)
					errx(EX_DAEMON, "futured sent a "
					    "message that does not decode");
				ctl_roff += FRAME_HDR_LEN + len;
				if (ctl_roff == ctl_rbuf.len)
					ctl_rbuf.len = ctl_roff = 0;
				return (r);
			}
		}
		if (ctl_roff > 0) {
			memmove(ctl_rbuf.data, ctl_rbuf.data + ctl_roff,
			    ctl_rbuf.len - ctl_roff);
			ctl_rbuf.len -= ctl_roff;
			ctl_roff = 0;
		}
		n = recv(ctl_fd, chunk, sizeof(chunk), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			err(EX_DAEMON, "read from futured");
		if (n == 0)
			errx(EX_DAEMON, "futured closed the connection");
		if (buf_append(&ctl_rbuf, chunk, n) == -1)
			err(EX_FAILED, NULL);
	}
}

/*
 * The next response that is not the Hello's answer, nor an event unless
 * events is set (others are kept for ctl_event()).  Exits on a
 * protocol-level error.
 */
static Futured__Response *
ctl_recv(int events)
{
	Futured__Response	*r, **v;

	for (;;) {
		r = ctl_recv_any();
		if (r->id == 0 && r->body_case ==
		    FUTURED__RESPONSE__BODY_EVENT) {
			if (events)
				return (r);
			v = reallocarray(ctl_events, ctl_nevents + 1,
			    sizeof(*v));
			if (v == NULL)
				err(EX_FAILED, NULL);
			ctl_events = v;
			ctl_events[ctl_nevents++] = r;
			continue;
		}
		if (r->id == 0 && r->body_case ==
		    FUTURED__RESPONSE__BODY_ERROR)
			errx(EX_DAEMON, "futured: %s", r->error->message);
		if (r->id != 0 && r->id == ctl_helloid) {
			if (r->body_case == FUTURED__RESPONSE__BODY_ERROR)
				errx(EX_DAEMON, "futured refused protocol "
				    "version %u: %s", FUTURED_PROTOCOL_VERSION,
				    r->error->message);
			if (r->body_case != FUTURED__RESPONSE__BODY_HELLO ||
			    r->hello->version != FUTURED_PROTOCOL_VERSION)
				errx(EX_DAEMON, "futured speaks another "
				    "protocol version");
			futured__response__free_unpacked(r, NULL);
			continue;
		}
		return (r);
	}
}

/* The answer to request id (answers come in any order; keep others). */
static Futured__Response	**ctl_early;
static size_t			  ctl_nearly;

static Futured__Response *
ctl_answer(uint64_t id)
{
	Futured__Response	*r, **v;
	size_t			 i;

	for (i = 0; i < ctl_nearly; i++) {
		if (ctl_early[i]->id == id) {
			r = ctl_early[i];
			ctl_early[i] = ctl_early[--ctl_nearly];
			return (r);
		}
	}
	for (;;) {
		r = ctl_recv(0);
		if (r->id == id)
			return (r);
		v = reallocarray(ctl_early, ctl_nearly + 1, sizeof(*v));
		if (v == NULL)
			err(EX_FAILED, NULL);
		ctl_early = v;
		ctl_early[ctl_nearly++] = r;
	}
}

/* Send one request (after the Hello) and return its answer. */
static Futured__Response *
ctl_call(Futured__Request *req)
{
	struct buf	 b;
	uint64_t	 id;

	memset(&b, 0, sizeof(b));
	if (ctl_fd == -1)
		ctl_open(&b);
	id = ctl_pack(&b, req);
	ctl_flush(&b);
	return (ctl_answer(id));
}

/* Exit with a message if r is an Error (or not the body expected). */
static void
ctl_expect(Futured__Response *r, Futured__Response__BodyCase body)
{
	if (r->body_case == body)
		return;
	if (r->body_case == FUTURED__RESPONSE__BODY_ERROR)
		errx(error_exit(r->error->code), "%s", r->error->message);
	errx(EX_DAEMON, "unexpected answer from futured");
}

/* The final JobInfo pushed for job id (SubmitRequest.notify). */
static Futured__Response *
ctl_event(uint64_t id)
{
	Futured__Response	*r, **v;
	size_t			 i;

	for (;;) {
		for (i = 0; i < ctl_nevents; i++) {
			r = ctl_events[i];
			if (r->event->job != NULL &&
			    r->event->job->id == id) {
				ctl_events[i] = ctl_events[--ctl_nevents];
				return (r);
			}
		}
		r = ctl_recv(1);
		if (r->id == 0 && r->event->job != NULL &&
		    r->event->job->id == id)
			return (r);
		if (r->id == 0) {
			v = reallocarray(ctl_events, ctl_nevents + 1,
			    sizeof(*v));
			if (v == NULL)
				err(EX_FAILED, NULL);
			ctl_events = v;
			ctl_events[ctl_nevents++] = r;
		} else {
			v = reallocarray(ctl_early, ctl_nearly + 1,
			    sizeof(*v));
			if (v == NULL)
				err(EX_FAILED, NULL);
			ctl_early = v;
			ctl_early[ctl_nearly++] = r;
		}
	}
}

/* Output. */

static void
write_all(int fd, const void *data, size_t len)
{
	const uint8_t	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(EX_FAILED, "write");
		}
		p += n;
		len -= n;
	}
}

static void
json_job(const Futured__JobInfo *ji)
{
	struct json	 j;
	size_t		 i;

	json_begin(&j, stdout);
	json_uint(&j, "id", ji->id);
	json_string(&j, "state", state_name(ji->state));
	if (ji->has_kind)
		json_string(&j, "kind", kind_name(ji->kind));
	else
		json_null(&j, "kind");
	json_string(&j, "handler", ji->handler);
	json_string(&j, "name", ji->name);
	json_string(&j, "group", ji->group);
	if (ji->has_progress)
		json_double(&j, "progress", ji->progress);
	else
		json_null(&j, "progress");
	json_string(&j, "progress_msg", ji->progress_msg);
	if (ji->has_exit_status)
		json_int(&j, "exit_status", ji->exit_status);
	else
		json_null(&j, "exit_status");
	if (ji->has_signal)
		json_int(&j, "signal", ji->signal);
	else
		json_null(&j, "signal");
	json_string(&j, "error", ji->error);
	if (ji->has_output)
		json_bytes(&j, "output", ji->output.data, ji->output.len);
	else
		json_null(&j, "output");
	if (ji->has_output_truncated)
		json_bool(&j, "output_truncated", ji->output_truncated);
	if (ji->has_stderr_tail)
		json_bytes(&j, "stderr", ji->stderr_tail.data,
		    ji->stderr_tail.len);
	if (ji->has_submitted_at)
		json_time(&j, "submitted_at", ji->submitted_at);
	else
		json_null(&j, "submitted_at");
	if (ji->has_started_at)
		json_time(&j, "started_at", ji->started_at);
	else
		json_null(&j, "started_at");
	if (ji->has_finished_at)
		json_time(&j, "finished_at", ji->finished_at);
	else
		json_null(&j, "finished_at");
	if (ji->has_attempts)
		json_uint(&j, "attempts", ji->attempts);
	json_uint(&j, "retries", ji->has_retries ? ji->retries : 0);
	if (ji->ended != NULL)
		json_string(&j, "ended", ji->ended);
	else
		json_null(&j, "ended");
	if (ji->has_parent)
		json_uint(&j, "parent", ji->parent);
	else
		json_null(&j, "parent");
	json_object(&j, "ctx");
	for (i = 0; i < ji->n_ctx; i++)
		json_string(&j, ji->ctx[i]->key, ji->ctx[i]->value);
	json_object_end(&j);
	if (ji->has_priority)
		json_int(&j, "priority", ji->priority);
	json_array(&j, "args");
	for (i = 0; i < ji->n_args; i++)
		json_string(&j, NULL, ji->args[i]);
	json_array_end(&j);
	json_end(&j);
}

/* One line of status/list output. */
static void
print_job_line(const Futured__JobInfo *ji)
{
	char	 extra[160] = "";
	size_t	 n;

	if (ji->has_progress && ji->state == FUTURED__STATE__STATE_RUNNING)
		snprintf(extra, sizeof(extra), " %.0f%%", ji->progress * 100);
	else if (ji->has_signal && ji->signal != 0)
		snprintf(extra, sizeof(extra), " signal %d", ji->signal);
	else if (ji->has_exit_status && state_final(ji->state))
		snprintf(extra, sizeof(extra), " exit %d", ji->exit_status);
	n = strlen(extra);
	if (ji->has_retries && ji->retries > 0 && ji->has_attempts)
		snprintf(extra + n, sizeof(extra) - n, " attempt %u/%u",
		    ji->attempts, ji->retries + 1);
	n = strlen(extra);
	if (ji->group != NULL && *ji->group != '\0')
		snprintf(extra + n, sizeof(extra) - n, " group %s", ji->group);
	n = strlen(extra);
	if (ji->has_parent)
		snprintf(extra + n, sizeof(extra) - n, " parent %" PRIu64,
		    ji->parent);
	n = strlen(extra);
	if (ji->ended != NULL && state_final(ji->state) &&
	    ji->state != FUTURED__STATE__STATE_SUCCEEDED)
		snprintf(extra + n, sizeof(extra) - n, " (%s)", ji->ended);
	printf("%-8" PRIu64 " %-10s %-9s %-10s %s%s\n", ji->id,
	    state_name(ji->state), ji->has_kind ? kind_name(ji->kind) : "-",
	    ji->handler != NULL && *ji->handler != '\0' ? ji->handler : "-",
	    ji->name != NULL && *ji->name != '\0' ? ji->name : "-", extra);
}

static void
print_job_error(const Futured__JobInfo *ji)
{
	if (ji->error != NULL && *ji->error != '\0')
		fprintf(stderr, "futurectl: job %" PRIu64 " %s: %s\n", ji->id,
		    state_name(ji->state), ji->error);
	else if (ji->state != FUTURED__STATE__STATE_SUCCEEDED)
		fprintf(stderr, "futurectl: job %" PRIu64 " %s\n", ji->id,
		    state_name(ji->state));
}

/* The outcome of a final job: output to stdout, error to stderr. */
static int
print_outcome(const Futured__JobInfo *ji)
{
	if (ctl_json)
		json_job(ji);
	else {
		if (ji->has_output && ji->output.len > 0)
			write_all(STDOUT_FILENO, ji->output.data,
			    ji->output.len);
		print_job_error(ji);
	}
	return (state_exit(ji->state));
}

/* Commands. */

static void	 print_progress(const Futured__JobInfo *);
static uint64_t	 watch_send(struct buf *, uint64_t, int);

static void
not_implemented(const char *what)
{
	errx(EX_USAGE, "%s: not implemented yet", what);
}

/* A JobSpec under construction, with the storage it points into. */
struct spec {
	Futured__JobSpec	 js;
	int			 wait;
	int			 have_data;
	int			 own_payload;	/* read from a file: ours */
};

/* A KeyValue list built by kv_set: keys are ours, values borrowed. */
static void
kv_free(Futured__KeyValue **list, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(list[i]->key);
		free(list[i]);
	}
	free(list);
}

static void
spec_free(struct spec *s)
{
	kv_free(s->js.env, s->js.n_env);
	kv_free(s->js.ctx, s->js.n_ctx);
	free(s->js.after);
	free(s->js.cwd);
	if (s->own_payload)
		free(s->js.payload.data);
	memset(s, 0, sizeof(*s));
}

static void
kv_set(Futured__KeyValue ***list, size_t *n, const char *key,
    size_t keylen, const char *value)
{
	Futured__KeyValue	**v, *kv;
	size_t			  i;
	char			 *k;

	if ((k = strndup(key, keylen)) == NULL)
		err(EX_FAILED, NULL);
	for (i = 0; i < *n; i++) {
		if (strcmp((*list)[i]->key, k) == 0) {
			free(k);
			(*list)[i]->value = (char *)value;
			return;
		}
	}
	if ((kv = calloc(1, sizeof(*kv))) == NULL)
		err(EX_FAILED, NULL);
	futured__key_value__init(kv);
	kv->key = k;
	kv->value = (char *)value;
	if ((v = reallocarray(*list, *n + 1, sizeof(*v))) == NULL)
		err(EX_FAILED, NULL);
	v[(*n)++] = kv;
	*list = v;
}

/* "KEY=VALUE" from an option; exits with a usage error otherwise. */
static void
kv_option(Futured__KeyValue ***list, size_t *n, const char *arg,
    const char *what, int strict)
{
	const char	*eq, *p;

	if ((eq = strchr(arg, '=')) == NULL || eq == arg)
		errx(EX_USAGE, "bad %s \"%s\": want KEY=VALUE", what, arg);
	if (strict) {
		for (p = arg; p < eq; p++) {
			if (!((*p >= 'A' && *p <= 'Z') ||
			    (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '_'))
				errx(EX_USAGE, "bad %s key \"%.*s\": use "
				    "[A-Za-z0-9_]", what, (int)(eq - arg),
				    arg);
		}
	}
	kv_set(list, n, arg, eq - arg, eq + 1);
}

static void
read_data_file(struct spec *s, const char *path)
{
	struct buf	 b;
	uint8_t		 chunk[65536];
	ssize_t		 n;
	size_t		 len;
	int		 fd;

	memset(&b, 0, sizeof(b));
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(EX_USAGE, "%s", path);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			err(EX_FAILED, "%s", path);
		if (n == 0)
			break;
		if (b.len + n > FUTURED_FRAME_MAX)
			errx(EX_USAGE, "%s: payload too big", path);
		if (buf_append(&b, chunk, n) == -1)
			err(EX_FAILED, NULL);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	s->js.payload.data = buf_steal(&b, &len);
	s->js.payload.len = len;
	s->js.has_payload = 1;
	s->have_data = 1;
	s->own_payload = 1;
}

static void
parse_after(struct spec *s, const char *arg)
{
	char		*copy, *tok, *save = NULL;
	uint64_t	*v;

	if ((copy = strdup(arg)) == NULL)
		err(EX_FAILED, NULL);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		v = reallocarray(s->js.after, s->js.n_after + 1, sizeof(*v));
		if (v == NULL)
			err(EX_FAILED, NULL);
		v[s->js.n_after++] = parse_id(tok);
		s->js.after = v;
	}
	if (s->js.n_after == 0)
		errx(EX_USAGE, "bad job id list \"%s\"", arg);
	free(copy);
}

/*
 * Parse submit/run options from argv (argv[0] is the command name).
 * Returns the index of the first non-option argument.
 */
static int
parse_spec(int argc, char **argv, struct spec *s)
{
	static const struct option	 opts[] = {
		{ "kind",	required_argument, NULL, 'k' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "deadline",	required_argument, NULL, 'L' },
		{ "after",	required_argument, NULL, 'a' },
		{ "input-from",	required_argument, NULL, 'i' },
		{ "group",	required_argument, NULL, 'g' },
		{ "priority",	required_argument, NULL, 'p' },
		{ "ctx",	required_argument, NULL, 'C' },
		{ "env",	required_argument, NULL, 'e' },
		{ "data",	required_argument, NULL, 'd' },
		{ "data-file",	required_argument, NULL, 'D' },
		{ "retries",	required_argument, NULL, 'r' },
		{ "retry-delay", required_argument, NULL, 'Y' },
		{ "retry-timeouts", no_argument,   NULL, 'T' },
		{ "name",	required_argument, NULL, 'n' },
		{ "wait",	no_argument,	   NULL, 'w' },
		{ "progress",	no_argument,	   NULL, 'P' },
		{ NULL,		0,		   NULL, 0 }
	};
	Futured__KeyValue	**envopt = NULL;
	size_t			  nenvopt = 0, i;
	int			  ch;
	char			 *env, *end;

	futured__job_spec__init(&s->js);
	/* Submitted from inside a job: this one becomes its child. */
	if ((env = getenv("FUTURED_JOB_ID")) != NULL && *env != '\0') {
		s->js.parent = strtoull(env, &end, 10);
		s->js.has_parent = *end == '\0' && s->js.parent != 0;
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+k:t:a:i:g:p:C:e:d:D:r:n:w",
	    opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			if (strcmp(optarg, "async") == 0)
				s->js.kind = FUTURED__KIND__KIND_ASYNC;
			else if (strcmp(optarg, "blocking") == 0)
				s->js.kind = FUTURED__KIND__KIND_BLOCKING;
			else if (strcmp(optarg, "cpu") == 0)
				s->js.kind = FUTURED__KIND__KIND_CPU;
			else
				errx(EX_USAGE, "bad kind \"%s\": use async, "
				    "blocking or cpu", optarg);
			s->js.has_kind = 1;
			break;
		case 't':
			s->js.timeout_ms = parse_duration(optarg);
			s->js.has_timeout_ms = 1;
			break;
		case 'L':
			s->js.deadline_ms = parse_duration(optarg);
			s->js.has_deadline_ms = 1;
			break;
		case 'a':
			parse_after(s, optarg);
			break;
		case 'i':
			s->js.input_from = parse_id(optarg);
			s->js.has_input_from = 1;
			break;
		case 'g':
			if (*optarg == '\0')
				errx(EX_USAGE, "bad group \"\"");
			s->js.group = optarg;
			break;
		case 'p':
			s->js.priority = parse_int(optarg, -20, 20,
			    "priority");
			s->js.has_priority = 1;
			break;
		case 'C':
			kv_option(&s->js.ctx, &s->js.n_ctx, optarg,
			    "context", 1);
			break;
		case 'e':
			kv_option(&envopt, &nenvopt, optarg,
			    "environment", 0);
			break;
		case 'd':
			if (s->have_data)
				errx(EX_USAGE, "give one of -d and -D");
			s->js.payload.data = (uint8_t *)optarg;
			s->js.payload.len = strlen(optarg);
			s->js.has_payload = 1;
			s->have_data = 1;
			break;
		case 'D':
			if (s->have_data)
				errx(EX_USAGE, "give one of -d and -D");
			read_data_file(s, optarg);
			break;
		case 'r':
			s->js.retries = parse_int(optarg, 0, UINT32_MAX,
			    "retries");
			s->js.has_retries = 1;
			break;
		case 'n':
			s->js.name = optarg;
			break;
		case 'Y':
			s->js.retry_delay_ms = parse_duration(optarg);
			s->js.has_retry_delay_ms = 1;
			break;
		case 'T':
			s->js.retry_timeouts = 1;
			s->js.has_retry_timeouts = 1;
			break;
		case 'w':
			s->wait = 1;
			break;
		case 'P':
			not_implemented("--progress");
			break;
		default:
			usage();
		}
	}
	s->js.env = NULL;
	s->js.n_env = 0;
	/* The -e entries, kept aside so that exec can put them on top. */
	for (i = 0; i < nenvopt; i++) {
		kv_set(&s->js.env, &s->js.n_env, envopt[i]->key,
		    strlen(envopt[i]->key), envopt[i]->value);
	}
	kv_free(envopt, nenvopt);
	return (optind);
}

/*
 * An exec job gets the caller's working directory and environment, the
 * -e entries on top (as at(1) does).
 */
static void
spec_exec_context(struct spec *s)
{
	Futured__KeyValue	**env = NULL;
	size_t			  nenv = 0, i;
	char			**e, *eq, *cwd;

	for (e = environ; *e != NULL; e++) {
		if ((eq = strchr(*e, '=')) == NULL || eq == *e)
			continue;
		kv_set(&env, &nenv, *e, eq - *e, eq + 1);
	}
	for (i = 0; i < s->js.n_env; i++)
		kv_set(&env, &nenv, s->js.env[i]->key,
		    strlen(s->js.env[i]->key), s->js.env[i]->value);
	kv_free(s->js.env, s->js.n_env);
	s->js.env = env;
	s->js.n_env = nenv;
	if ((cwd = getcwd(NULL, 0)) == NULL)
		err(EX_FAILED, "getcwd");
	s->js.cwd = cwd;
}

static void
spec_args(struct spec *s, int argc, char **argv)
{
	s->js.args = argv;
	s->js.n_args = argc;
}

/* Submit s; returns the SubmitReply's job id.  notify: push the end. */
static uint64_t
submit_spec(struct spec *s, int notify)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__SubmitRequest	 sr = FUTURED__SUBMIT_REQUEST__INIT;
	Futured__Response	*r;
	uint64_t		 id;

	sr.spec = &s->js;
	if (notify) {
		sr.has_notify = 1;
		sr.notify = 1;
	}
	req.body_case = FUTURED__REQUEST__BODY_SUBMIT;
	req.submit = &sr;
	r = ctl_call(&req);
	ctl_expect(r, FUTURED__RESPONSE__BODY_SUBMIT);
	id = r->submit->id;
	futured__response__free_unpacked(r, NULL);
	return (id);
}

/* StatusRequest for one id: the JobInfo, or NULL if not found. */
static Futured__Response *
status_one(uint64_t id)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatusRequest	 st = FUTURED__STATUS_REQUEST__INIT;

	st.n_ids = 1;
	st.ids = &id;
	req.body_case = FUTURED__REQUEST__BODY_STATUS;
	req.status = &st;
	return (ctl_call(&req));
}

static int
cmd_submit(int argc, char **argv)
{
	struct spec		 s;
	Futured__Response	*r;
	uint64_t		 id;
	int			 i, rc, wait;

	memset(&s, 0, sizeof(s));
	i = parse_spec(argc, argv, &s);
	if (i >= argc)
		errx(EX_USAGE, "submit: no handler");
	s.js.handler = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	spec_args(&s, argc - i, argv + i);
	if (strcmp(s.js.handler, "exec") == 0)
		spec_exec_context(&s);

	id = submit_spec(&s, s.wait);
	wait = s.wait;
	spec_free(&s);
	if (!wait) {
		if (!ctl_json) {
			printf("%" PRIu64 "\n", id);
			return (EX_OK);
		}
		r = status_one(id);
		ctl_expect(r, FUTURED__RESPONSE__BODY_STATUS);
		if (r->status->n_jobs > 0)
			json_job(r->status->jobs[0]);
		futured__response__free_unpacked(r, NULL);
		return (EX_OK);
	}
	r = ctl_event(id);
	rc = print_outcome(r->event->job);
	futured__response__free_unpacked(r, NULL);
	return (rc);
}

/*
 * run: exec the command and exit as it exits.  Its stdout is streamed as
 * it comes (a watch); the kept tail of its stderr is written at the end,
 * since the daemon keeps only a tail.
 */
static int
cmd_run(int argc, char **argv)
{
	struct spec		 s;
	Futured__Response	*r;
	Futured__JobInfo	*ji;
	uint64_t		 id;
	struct buf		 b;
	uint64_t		 reqid;
	int			 i, rc;

	memset(&s, 0, sizeof(s));
	i = parse_spec(argc, argv, &s);
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		errx(EX_USAGE, "run: no command");
	s.js.handler = (char *)"exec";
	spec_args(&s, argc - i, argv + i);
	spec_exec_context(&s);

	id = submit_spec(&s, ctl_json);
	spec_free(&s);
	if (ctl_json) {
		r = ctl_event(id);
		ji = r->event->job;
		json_job(ji);
	} else {
		/* Stream stdout as the command writes it. */
		memset(&b, 0, sizeof(b));
		reqid = watch_send(&b, id, 0);
		ctl_flush(&b);
		for (;;) {
			r = ctl_answer(reqid);
			ctl_expect(r, FUTURED__RESPONSE__BODY_WATCH);
			if (r->watch->has_output && r->watch->output.len > 0)
				write_all(STDOUT_FILENO, r->watch->output.data,
				    r->watch->output.len);
			if (r->watch->final)
				break;
			futured__response__free_unpacked(r, NULL);
		}
		ji = r->watch->job;
		if (ji->has_stderr_tail && ji->stderr_tail.len > 0)
			write_all(STDERR_FILENO, ji->stderr_tail.data,
			    ji->stderr_tail.len);
	}
	/* As timeout(1) and the shell report it. */
	if (ji->state == FUTURED__STATE__STATE_TIMED_OUT)
		rc = 124;
	else if (ji->has_signal && ji->signal > 0)
		rc = 128 + ji->signal;
	else if (ji->has_exit_status)
		rc = ji->exit_status & 0xff;
	else if (ji->state == FUTURED__STATE__STATE_SUCCEEDED)
		rc = 0;
	else {
		if (!ctl_json)
			print_job_error(ji);
		rc = 1;
	}
	futured__response__free_unpacked(r, NULL);
	return (rc);
}

static int
cmd_status(int argc, char **argv)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatusRequest	 st = FUTURED__STATUS_REQUEST__INIT;
	Futured__Response	*r;
	struct buf		 b;
	uint64_t		*ids, *reqids;
	int			 i, n, rc = EX_OK;

	if (argc < 2)
		errx(EX_USAGE, "status: no job id");
	n = argc - 1;
	if ((ids = calloc(n, sizeof(*ids))) == NULL ||
	    (reqids = calloc(n, sizeof(*reqids))) == NULL)
		err(EX_FAILED, NULL);
	for (i = 0; i < n; i++)
		ids[i] = parse_id(argv[i + 1]);

	/* One request per id, in one write, so one unknown id spoils none. */
	memset(&b, 0, sizeof(b));
	ctl_open(&b);
	req.body_case = FUTURED__REQUEST__BODY_STATUS;
	req.status = &st;
	st.n_ids = 1;
	for (i = 0; i < n; i++) {
		st.ids = &ids[i];
		reqids[i] = ctl_pack(&b, &req);
	}
	ctl_flush(&b);
	for (i = 0; i < n; i++) {
		r = ctl_answer(reqids[i]);
		if (r->body_case == FUTURED__RESPONSE__BODY_ERROR &&
		    (r->error->code == FUTURED__ERROR_CODE__ERR_NOT_FOUND ||
		    r->error->code == FUTURED__ERROR_CODE__ERR_PERM)) {
			warnx("no such job: %" PRIu64, ids[i]);
			rc = EX_NOTFOUND;
		} else {
			ctl_expect(r, FUTURED__RESPONSE__BODY_STATUS);
			if (r->status->n_jobs < 1 || r->status->jobs[0]->state ==
			    FUTURED__STATE__STATE_UNKNOWN) {
				warnx("no such job: %" PRIu64, ids[i]);
				rc = EX_NOTFOUND;
			} else if (ctl_json)
				json_job(r->status->jobs[0]);
			else
				print_job_line(r->status->jobs[0]);
		}
		futured__response__free_unpacked(r, NULL);
	}
	free(ids);
	free(reqids);
	return (rc);
}

/*
 * wait --progress: watch each job (progress only) alongside the wait,
 * printing their changes on stderr until the wait's answer comes.
 */
static Futured__Response *
wait_progress(Futured__Request *waitreq, const uint64_t *ids, size_t n)
{
	Futured__Response	*r;
	struct buf		 b;
	uint64_t		 waitid;
	size_t			 i;

	if (n == 0)
		errx(EX_USAGE, "wait: --progress needs job ids");
	memset(&b, 0, sizeof(b));
	if (ctl_fd == -1)
		ctl_open(&b);
	for (i = 0; i < n; i++)
		(void)watch_send(&b, ids[i], 1);
	waitid = ctl_pack(&b, waitreq);
	ctl_flush(&b);
	for (;;) {
		r = ctl_recv(0);
		if (r->id == waitid)
			return (r);
		if (r->body_case == FUTURED__RESPONSE__BODY_WATCH &&
		    !r->watch->final && !ctl_json)
			print_progress(r->watch->job);
		else if (r->body_case == FUTURED__RESPONSE__BODY_ERROR)
			errx(error_exit(r->error->code), "%s",
			    r->error->message);
		futured__response__free_unpacked(r, NULL);
	}
}

/*
 * wait: the exit status says how the jobs ended.  With mixed outcomes
 * the worst wins, in this order: failed (1), timed out (4), cancelled
 * (3), all succeeded (0).  -t running out first is 5.
 */
static int
cmd_wait(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "any",	no_argument,	   NULL, 'A' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "group",	required_argument, NULL, 'g' },
		{ "progress",	no_argument,	   NULL, 'P' },
		{ NULL,		0,		   NULL, 0 }
	};
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__WaitRequest	 wr = FUTURED__WAIT_REQUEST__INIT;
	Futured__Response	*r;
	Futured__JobInfo	*ji;
	uint64_t		*ids = NULL;
	size_t			 i;
	int			 ch, n, rc, failed = 0, timedout = 0;
	int			 cancelled = 0, progress = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+t:g:", opts, NULL)) != -1) {
		switch (ch) {
		case 'A':
			wr.has_any = 1;
			wr.any = 1;
			break;
		case 't':
			wr.timeout_ms = parse_duration(optarg);
			wr.has_timeout_ms = 1;
			break;
		case 'g':
			wr.group = optarg;
			break;
		case 'P':
			progress = 1;
			break;
		default:
			usage();
		}
	}
	n = argc - optind;
	if (n == 0 && wr.group == NULL)
		errx(EX_USAGE, "wait: no job id or group");
	if (n > 0 && wr.group != NULL)
		errx(EX_USAGE, "wait: give job ids or -g, not both");
	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL)
		err(EX_FAILED, NULL);
	for (ch = 0; ch < n; ch++)
		ids[ch] = parse_id(argv[optind + ch]);
	wr.ids = ids;
	wr.n_ids = n;
	wr.has_with_output = 1;
	wr.with_output = 0;
	req.body_case = FUTURED__REQUEST__BODY_WAIT;
	req.wait = &wr;
	if (progress)
		r = wait_progress(&req, ids, n);
	else
		r = ctl_call(&req);
	ctl_expect(r, FUTURED__RESPONSE__BODY_WAIT);

	if (ctl_json) {
		for (i = 0; i < r->wait->n_jobs; i++)
			json_job(r->wait->jobs[i]);
	}
	if (r->wait->timed_out) {
		futured__response__free_unpacked(r, NULL);
		free(ids);
		return (EX_NOTREADY);
	}
	rc = EX_OK;
	if (wr.any) {
		for (i = 0; i < r->wait->n_jobs; i++) {
			ji = r->wait->jobs[i];
			if ((r->wait->has_first && ji->id == r->wait->first) ||
			    (!r->wait->has_first && state_final(ji->state)))
				break;
		}
		if (i < r->wait->n_jobs) {
			ji = r->wait->jobs[i];
			if (!ctl_json)
				printf("%" PRIu64 " %s\n", ji->id,
				    state_name(ji->state));
			rc = state_exit(ji->state);
		} else if (r->wait->has_first && !ctl_json)
			printf("%" PRIu64 "\n", r->wait->first);
		futured__response__free_unpacked(r, NULL);
		free(ids);
		return (rc);
	}
	for (i = 0; i < r->wait->n_jobs; i++) {
		ji = r->wait->jobs[i];
		switch (ji->state) {
		case FUTURED__STATE__STATE_SUCCEEDED:
			continue;
		case FUTURED__STATE__STATE_FAILED:
			failed = 1;
			break;
		case FUTURED__STATE__STATE_TIMED_OUT:
			timedout = 1;
			break;
		case FUTURED__STATE__STATE_CANCELLED:
			cancelled = 1;
			break;
		default:
			/* Not final though the wait did not time out. */
			rc = EX_NOTREADY;
			break;
		}
		if (!ctl_json)
			print_job_error(ji);
	}
	if (failed)
		rc = EX_FAILED;
	else if (timedout)
		rc = EX_TIMEDOUT;
	else if (cancelled)
		rc = EX_CANCELLED;
	futured__response__free_unpacked(r, NULL);
	free(ids);
	return (rc);
}

static int
cmd_result(int argc, char **argv)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__ResultRequest	 rr = FUTURED__RESULT_REQUEST__INIT;
	Futured__Response	*r;
	int			 rc;

	if (argc != 2)
		errx(EX_USAGE, "result: want exactly one job id");
	rr.id = parse_id(argv[1]);
	req.body_case = FUTURED__REQUEST__BODY_RESULT;
	req.result = &rr;
	r = ctl_call(&req);
	if (r->body_case == FUTURED__RESPONSE__BODY_ERROR &&
	    r->error->code == FUTURED__ERROR_CODE__ERR_NOT_READY)
		errx(EX_NOTREADY, "job %" PRIu64 " has not finished",
		    rr.id);
	ctl_expect(r, FUTURED__RESPONSE__BODY_RESULT);
	rc = print_outcome(r->result->job);
	futured__response__free_unpacked(r, NULL);
	return (rc);
}

/* One line (or JSON object) for a job a cancel reached. */
static void
print_cancel(const Futured__CancelOutcome *o)
{
	struct json	 j;

	if (ctl_json) {
		json_begin(&j, stdout);
		json_uint(&j, "id", o->id);
		json_bool(&j, "took_effect", o->took_effect);
		if (o->has_state)
			json_string(&j, "state", state_name(o->state));
		else
			json_null(&j, "state");
		json_end(&j);
	} else if (o->took_effect)
		printf("%" PRIu64 " cancelled\n", o->id);
	else
		printf("%" PRIu64 " already finished (%s)\n", o->id,
		    o->has_state ? state_name(o->state) : "unknown");
}

static int
cmd_cancel(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "grace",	required_argument, NULL, 'G' },
		{ "group",	required_argument, NULL, 'g' },
		{ NULL,		0,		   NULL, 0 }
	};
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__CancelRequest	 cr = FUTURED__CANCEL_REQUEST__INIT;
	Futured__Response	*r;
	struct buf		 b;
	uint64_t		*ids = NULL, *reqids;
	size_t			 i;
	int			 ch, n, rc = EX_OK;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+g:", opts, NULL)) != -1) {
		switch (ch) {
		case 'G':
			cr.grace_ms = parse_duration(optarg);
			cr.has_grace_ms = 1;
			break;
		case 'g':
			cr.group = optarg;
			break;
		default:
			usage();
		}
	}
	n = argc - optind;
	if (n == 0 && cr.group == NULL)
		errx(EX_USAGE, "cancel: no job id or group");
	if (n > 0 && cr.group != NULL)
		errx(EX_USAGE, "cancel: give job ids or -g, not both");
	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL)
		err(EX_FAILED, NULL);
	for (ch = 0; ch < n; ch++)
		ids[ch] = parse_id(argv[optind + ch]);
	req.body_case = FUTURED__REQUEST__BODY_CANCEL;
	req.cancel = &cr;
	if (n == 0) {
		r = ctl_call(&req);
		ctl_expect(r, FUTURED__RESPONSE__BODY_CANCEL);
		for (i = 0; i < r->cancel->n_outcomes; i++)
			print_cancel(r->cancel->outcomes[i]);
		futured__response__free_unpacked(r, NULL);
		return (rc);
	}
	/*
	 * One request per id, in one write: a daemon cancels none of a
	 * request's jobs if one is unknown, and one unknown id spoils none.
	 */
	if ((reqids = calloc(n, sizeof(*reqids))) == NULL)
		err(EX_FAILED, NULL);
	memset(&b, 0, sizeof(b));
	ctl_open(&b);
	cr.n_ids = 1;
	for (ch = 0; ch < n; ch++) {
		cr.ids = &ids[ch];
		reqids[ch] = ctl_pack(&b, &req);
	}
	ctl_flush(&b);
	for (ch = 0; ch < n; ch++) {
		r = ctl_answer(reqids[ch]);
		if (r->body_case == FUTURED__RESPONSE__BODY_ERROR &&
		    (r->error->code == FUTURED__ERROR_CODE__ERR_NOT_FOUND ||
		    r->error->code == FUTURED__ERROR_CODE__ERR_PERM)) {
			warnx("no such job: %" PRIu64, ids[ch]);
			rc = EX_NOTFOUND;
		} else {
			ctl_expect(r, FUTURED__RESPONSE__BODY_CANCEL);
			for (i = 0; i < r->cancel->n_outcomes; i++) {
				/* An older daemon's way of saying it. */
				if (r->cancel->outcomes[i]->has_error_code &&
				    r->cancel->outcomes[i]->error_code !=
				    FUTURED__ERROR_CODE__ERR_NONE) {
					warnx("no such job: %" PRIu64, ids[ch]);
					rc = EX_NOTFOUND;
				} else
					print_cancel(r->cancel->outcomes[i]);
			}
		}
		futured__response__free_unpacked(r, NULL);
	}
	free(reqids);
	free(ids);
	return (rc);
}

static int
cmd_list(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "state",	required_argument, NULL, 'S' },
		{ "group",	required_argument, NULL, 'g' },
		{ NULL,		0,		   NULL, 0 }
	};
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__ListRequest	 lr = FUTURED__LIST_REQUEST__INIT;
	Futured__Response	*r;
	size_t			 i;
	int			 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+g:", opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			if (state_parse(optarg, &lr.state) == -1)
				errx(EX_USAGE, "bad state \"%s\": use waiting, "
				    "queued, running, succeeded, failed, "
				    "cancelled or timed_out", optarg);
			lr.has_state = 1;
			break;
		case 'g':
			lr.group = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		errx(EX_USAGE, "list: unexpected argument \"%s\"",
		    argv[optind]);
	req.body_case = FUTURED__REQUEST__BODY_LIST;
	req.list = &lr;
	r = ctl_call(&req);
	ctl_expect(r, FUTURED__RESPONSE__BODY_LIST);
	for (i = 0; i < r->list->n_jobs; i++) {
		if (ctl_json)
			json_job(r->list->jobs[i]);
		else
			print_job_line(r->list->jobs[i]);
	}
	futured__response__free_unpacked(r, NULL);
	return (EX_OK);
}

static void
no_args(int argc, char **argv)
{
	if (argc > 1)
		errx(EX_USAGE, "%s: unexpected argument \"%s\"", argv[0],
		    argv[1]);
}

static int
cmd_handlers(int argc, char **argv)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__HandlersRequest hr = FUTURED__HANDLERS_REQUEST__INIT;
	Futured__Response	*r;
	Futured__HandlerInfo	*h;
	struct json		 j;
	char			 kinds[64];
	size_t			 i, k, len;
	int			 m;

	no_args(argc, argv);
	req.body_case = FUTURED__REQUEST__BODY_HANDLERS;
	req.handlers = &hr;
	r = ctl_call(&req);
	ctl_expect(r, FUTURED__RESPONSE__BODY_HANDLERS);
	for (i = 0; i < r->handlers->n_handlers; i++) {
		h = r->handlers->handlers[i];
		if (ctl_json) {
			json_begin(&j, stdout);
			json_string(&j, "name", h->name);
			json_array(&j, "kinds");
			for (k = 0; k < h->n_kinds; k++)
				json_string(&j, NULL, kind_name(h->kinds[k]));
			json_array_end(&j);
			json_string(&j, "default_kind",
			    kind_name(h->default_kind));
			json_string(&j, "description", h->description);
			json_end(&j);
			continue;
		}
		/* The default kind is marked with a star. */
		kinds[0] = '\0';
		for (k = 0, len = 0; k < h->n_kinds && len < sizeof(kinds);
		    k++) {
			m = snprintf(kinds + len, sizeof(kinds) - len, "%s%s%s",
			    k > 0 ? "," : "", kind_name(h->kinds[k]),
			    h->kinds[k] == h->default_kind ? "*" : "");
			if (m < 0)
				break;
			len += m;
		}
		printf("%-12s %-22s %s\n", h->name, kinds,
		    h->description != NULL ? h->description : "");
	}
	futured__response__free_unpacked(r, NULL);
	return (EX_OK);
}

/* Uptime as "3d4h5m6s", leading zero units left out. */
static void
uptime_format(int64_t ms, char *buf, size_t len)
{
	int64_t	 sec = ms / 1000, d, h, m;

	d = sec / 86400;
	h = sec / 3600 % 24;
	m = sec / 60 % 60;
	sec %= 60;
	if (d > 0)
		snprintf(buf, len, "%lldd%lldh%lldm%llds", (long long)d,
		    (long long)h, (long long)m, (long long)sec);
	else if (h > 0)
		snprintf(buf, len, "%lldh%lldm%llds", (long long)h,
		    (long long)m, (long long)sec);
	else if (m > 0)
		snprintf(buf, len, "%lldm%llds", (long long)m, (long long)sec);
	else
		snprintf(buf, len, "%llds", (long long)sec);
}

static int
cmd_stats(int argc, char **argv)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatsRequest	 sq = FUTURED__STATS_REQUEST__INIT;
	Futured__Response	*r;
	Futured__StatsReply	*s;
	Futured__KindStats	*k;
	struct json		 j;
	char			 up[64];
	size_t			 i;

	no_args(argc, argv);
	req.body_case = FUTURED__REQUEST__BODY_STATS;
	req.stats = &sq;
	r = ctl_call(&req);
	ctl_expect(r, FUTURED__RESPONSE__BODY_STATS);
	s = r->stats;
	if (ctl_json) {
		json_begin(&j, stdout);
		json_string(&j, "server_version", s->server_version);
		json_int(&j, "uptime_ms", s->uptime_ms);
		json_uint(&j, "jobs_total", s->jobs_total);
		json_uint(&j, "connections", s->connections);
		json_array(&j, "kinds");
		for (i = 0; i < s->n_kinds; i++) {
			k = s->kinds[i];
			json_object(&j, NULL);
			json_string(&j, "kind", kind_name(k->kind));
			json_uint(&j, "waiting", k->waiting);
			json_uint(&j, "queued", k->queued);
			json_uint(&j, "running", k->running);
			json_uint(&j, "succeeded", k->succeeded);
			json_uint(&j, "failed", k->failed);
			json_uint(&j, "cancelled", k->cancelled);
			json_uint(&j, "timed_out", k->timed_out);
			json_uint(&j, "pool_size", k->pool_size);
			json_uint(&j, "pool_busy", k->pool_busy);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_end(&j);
	} else {
		uptime_format(s->uptime_ms, up, sizeof(up));
		printf("uptime       %s\n", up);
		printf("jobs total   %" PRIu64 "\n", s->jobs_total);
		printf("connections  %u\n", s->connections);
		printf("\n%-9s %8s %8s %8s %9s %8s %9s %9s %9s\n", "KIND",
		    "WAITING", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED",
		    "CANCELLED", "TIMED_OUT", "POOL");
		for (i = 0; i < s->n_kinds; i++) {
			k = s->kinds[i];
			snprintf(up, sizeof(up), "%u/%u", k->pool_busy,
			    k->pool_size);
			printf("%-9s %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			    " %9" PRIu64 " %8" PRIu64 " %9" PRIu64 " %9"
			    PRIu64 " %9s\n", kind_name(k->kind), k->waiting,
			    k->queued, k->running, k->succeeded, k->failed,
			    k->cancelled, k->timed_out, up);
		}
	}
	futured__response__free_unpacked(r, NULL);
	return (EX_OK);
}

static int
cmd_ping(int argc, char **argv)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__PingRequest	 pq = FUTURED__PING_REQUEST__INIT;
	Futured__Response	*r;
	struct json		 j;

	no_args(argc, argv);
	req.body_case = FUTURED__REQUEST__BODY_PING;
	req.ping = &pq;
	r = ctl_call(&req);
	ctl_expect(r, FUTURED__RESPONSE__BODY_PING);
	if (ctl_json) {
		json_begin(&j, stdout);
		json_string(&j, "server_version", r->ping->server_version);
		json_uint(&j, "protocol_version", r->ping->protocol_version);
		json_end(&j);
	} else
		printf("futured %s protocol %u\n", r->ping->server_version,
		    r->ping->protocol_version);
	futured__response__free_unpacked(r, NULL);
	return (EX_OK);
}

/* group NAME [--fail-fast | --no-fail-fast] [--parallel N] */
static int
cmd_group(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "fail-fast",		no_argument,	   NULL, 'f' },
		{ "no-fail-fast",	no_argument,	   NULL, 'F' },
		{ "parallel",		required_argument, NULL, 'p' },
		{ NULL,			0,		   NULL, 0 }
	};
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__GroupRequest	 gq = FUTURED__GROUP_REQUEST__INIT;
	Futured__GroupReply	*g;
	Futured__Response	*r;
	struct json		 j;
	int			 ch;

	/* GNU getopt permutes: options may follow the name. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
		case 'F':
			gq.has_fail_fast = 1;
			gq.fail_fast = ch == 'f';
			break;
		case 'p':
			gq.has_parallel = 1;
			gq.parallel = parse_int(optarg, 0, UINT32_MAX,
			    "parallel limit");
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		errx(EX_USAGE, "group: give one group name");
	if (*argv[optind] == '\0')
		errx(EX_USAGE, "bad group \"\"");
	gq.name = argv[optind];
	req.body_case = FUTURED__REQUEST__BODY_GROUP;
	req.group = &gq;
	r = ctl_call(&req);
	ctl_expect(r, FUTURED__RESPONSE__BODY_GROUP);
	g = r->group;
	if (ctl_json) {
		json_begin(&j, stdout);
		json_string(&j, "name", g->name);
		json_bool(&j, "fail_fast", g->fail_fast);
		json_uint(&j, "parallel", g->parallel);
		json_uint(&j, "jobs", g->jobs);
		json_uint(&j, "running", g->running);
		json_uint(&j, "pending", g->pending);
		json_uint(&j, "succeeded", g->succeeded);
		json_uint(&j, "failed", g->failed);
		json_bool(&j, "created", g->created);
		json_end(&j);
	} else {
		printf("group %s%s: fail-fast %s, parallel ", g->name,
		    g->created ? " (new)" : "", g->fail_fast ? "on" : "off");
		if (g->parallel == 0)
			printf("unlimited");
		else
			printf("%u", g->parallel);
		printf(", %" PRIu64 " jobs: %" PRIu64 " running, %" PRIu64
		    " pending, %" PRIu64 " succeeded, %" PRIu64
		    " failed or cancelled\n", g->jobs, g->running,
		    g->pending, g->succeeded, g->failed);
	}
	futured__response__free_unpacked(r, NULL);
	return (EX_OK);
}

/* One line on stderr for a change of state or progress. */
static void
print_progress(const Futured__JobInfo *ji)
{
	fprintf(stderr, "futurectl: job %" PRIu64 " %s", ji->id,
	    state_name(ji->state));
	if (ji->has_progress && ji->state == FUTURED__STATE__STATE_RUNNING)
		fprintf(stderr, " %.0f%%", ji->progress * 100);
	if (ji->progress_msg != NULL && *ji->progress_msg != '\0' &&
	    !state_final(ji->state))
		fprintf(stderr, " %s", ji->progress_msg);
	fputc('\n', stderr);
}

/* Ask for a job's WatchEvents; returns the request id they carry. */
static uint64_t
watch_send(struct buf *b, uint64_t id, int progress_only)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__WatchRequest	 wq = FUTURED__WATCH_REQUEST__INIT;

	wq.id = id;
	wq.has_progress_only = 1;
	wq.progress_only = progress_only;
	req.body_case = FUTURED__REQUEST__BODY_WATCH;
	req.watch = &wq;
	return (ctl_pack(b, &req));
}

/*
 * watch ID: state and progress changes on stderr, output on stdout as it
 * comes (a command's, as it writes it), and the exit status of wait.
 */
static int
cmd_watch(int argc, char **argv)
{
	Futured__Response	*r;
	Futured__WatchEvent	*ev;
	struct buf		 b;
	uint64_t		 reqid;
	int			 rc, last_state = -1;
	double			 last_progress = -1;

	if (argc != 2)
		errx(EX_USAGE, "watch: give one job id");
	memset(&b, 0, sizeof(b));
	if (ctl_fd == -1)
		ctl_open(&b);
	reqid = watch_send(&b, parse_id(argv[1]), 0);
	ctl_flush(&b);
	for (;;) {
		r = ctl_answer(reqid);
		ctl_expect(r, FUTURED__RESPONSE__BODY_WATCH);
		ev = r->watch;
		if (ctl_json) {
			/* Borrowed for the print: freed once, with ev. */
			ev->job->has_output = ev->has_output;
			ev->job->output = ev->output;
			json_job(ev->job);
			ev->job->has_output = 0;
			ev->job->output.data = NULL;
			ev->job->output.len = 0;
		} else {
			if (ev->has_output && ev->output.len > 0)
				write_all(STDOUT_FILENO, ev->output.data,
				    ev->output.len);
			if (ev->final)
				print_job_error(ev->job);
			else if ((int)ev->job->state != last_state ||
			    (ev->job->has_progress &&
			    ev->job->progress != last_progress)) {
				/* Output alone is no news for stderr. */
				print_progress(ev->job);
				last_state = ev->job->state;
				last_progress = ev->job->has_progress ?
				    ev->job->progress : -1;
			}
		}
		if (ev->final) {
			rc = state_exit(ev->job->state);
			futured__response__free_unpacked(r, NULL);
			return (rc);
		}
		futured__response__free_unpacked(r, NULL);
	}
}

static const struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "submit",	cmd_submit },
	{ "run",	cmd_run },
	{ "status",	cmd_status },
	{ "wait",	cmd_wait },
	{ "result",	cmd_result },
	{ "cancel",	cmd_cancel },
	{ "watch",	cmd_watch },
	{ "list",	cmd_list },
	{ "group",	cmd_group },
	{ "handlers",	cmd_handlers },
	{ "stats",	cmd_stats },
	{ "ping",	cmd_ping },
};

int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "socket",	required_argument, NULL, 's' },
		{ "json",	no_argument,	   NULL, 'J' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	size_t	 i;
	int	 ch, rc;

	while ((ch = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			ctl_path = optarg;
			break;
		case 'J':
			ctl_json = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	}
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		errx(EX_USAGE, "unknown command \"%s\"", argv[0]);
	rc = cmds[i].fn(argc, argv);
	if (fflush(stdout) == EOF)
		err(EX_FAILED, "stdout");
	return (rc);
}
