/*
 * client/worker.c: libfutured's worker side against a fake daemon on a
 * private socket, played by the test itself: the WorkerRegister as it
 * is sent, tasks pushed and taken, updates as they come (quiet, output
 * cut in chunks), a cancel reaching the callback, refused updates (also
 * long after their task was freed), the lease kept by pings only while
 * a task is held, the connection lost, and fut_worker_serve() running
 * callbacks on threads; and the one-shot form ($FUTURED_ONESHOT): a
 * Task from a file, its outcome to another, no daemon.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <futured/futured.h>

#include "frame.h"
#include "futured.pb-c.h"

static char	 dir[64], path[128];
static int	 lfd = -1;

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
setup(void)
{
	struct sockaddr_un	 sun;

	strcpy(dir, "/tmp/check_worker.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	unsetenv("FUTURED_POOL");
}

static void
teardown(void)
{
	close(lfd);
	unlink(path);
	rmdir(dir);
}

/* The fake daemon's side. */

static void
fake_send(int fd, Futured__Response *r)
{
	size_t	 len = futured__response__get_packed_size(r);
	uint8_t	*p = malloc(len + FRAME_HDR_LEN);

	ck_assert_ptr_nonnull(p);
	frame_header_encode(p, (uint32_t)len);
	futured__response__pack(r, p + FRAME_HDR_LEN);
	ck_assert_int_eq(write(fd, p, len + FRAME_HDR_LEN),
	    (ssize_t)(len + FRAME_HDR_LEN));
	free(p);
}

/* Read n bytes, waiting up to ms: 0, or -1 at EOF or time out. */
static int
fake_readn(int fd, void *buf, size_t n, int ms)
{
	struct pollfd	 pfd;
	uint8_t		*p = buf;
	ssize_t		 r;

	while (n > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) != 1)
			return (-1);
		if ((r = read(fd, p, n)) <= 0)
			return (-1);
		p += r;
		n -= r;
	}
	return (0);
}

/* The next request within ms, or NULL. */
static Futured__Request *
fake_recv_within(int fd, int ms)
{
	uint8_t			 hdr[FRAME_HDR_LEN], *buf;
	uint32_t		 len;
	Futured__Request	*req;

	if (fake_readn(fd, hdr, sizeof(hdr), ms) == -1)
		return (NULL);
	ck_assert_int_eq(frame_header_decode(hdr, FUTURED_FRAME_MAX, &len), 0);
	buf = malloc(len + 1);
	ck_assert_int_eq(fake_readn(fd, buf, len, 5000), 0);
	req = futured__request__unpack(NULL, len, buf);
	free(buf);
	ck_assert_ptr_nonnull(req);
	return (req);
}

static Futured__Request *
fake_recv(int fd)
{
	Futured__Request	*req = fake_recv_within(fd, 5000);

	ck_assert_msg(req != NULL, "no request from the worker");
	return (req);
}

static void
fake_reply_empty_update(int fd, uint64_t id)
{
	Futured__Response		 r = FUTURED__RESPONSE__INIT;
	Futured__TaskUpdateReply	 u = FUTURED__TASK_UPDATE_REPLY__INIT;

	r.id = id;
	r.body_case = FUTURED__RESPONSE__BODY_TASK_UPDATE;
	r.task_update = &u;
	fake_send(fd, &r);
}

static void
fake_error(int fd, uint64_t id, Futured__ErrorCode code, const char *msg)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__Error		 e = FUTURED__ERROR__INIT;

	r.id = id;
	r.body_case = FUTURED__RESPONSE__BODY_ERROR;
	r.error = &e;
	e.code = code;
	e.message = (char *)msg;
	fake_send(fd, &r);
}

/* Accept the worker's connection and answer its Hello. */
static int
fake_accept(void)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__HelloReply	 h = FUTURED__HELLO_REPLY__INIT;
	Futured__Request	*req;
	int			 fd;

	ck_assert_int_ge(fd = accept(lfd, NULL, NULL), 0);
	req = fake_recv(fd);
	ck_assert_int_eq(req->body_case, FUTURED__REQUEST__BODY_HELLO);
	r.id = req->id;
	r.body_case = FUTURED__RESPONSE__BODY_HELLO;
	r.hello = &h;
	h.version = 1;
	h.server_version = (char *)"fake";
	fake_send(fd, &r);
	futured__request__free_unpacked(req, NULL);
	return (fd);
}

struct reg {
	pthread_t		 th;
	struct fut_worker	*w;
	int			 rc;
};

static void *
reg_thread(void *arg)
{
	struct reg	*r = arg;

	r->rc = fut_worker_register(r->w);
	return (NULL);
}

/*
 * Register w (its handlers given) against the fake daemon with the lease
 * given; the WorkerRegister in *out if not NULL.  The daemon's fd.
 */
static int
fake_register(struct fut_worker *w, int64_t lease_ms,
    Futured__Request **out)
{
	Futured__Response		 r = FUTURED__RESPONSE__INIT;
	Futured__WorkerRegisterReply	 wr =
	    FUTURED__WORKER_REGISTER_REPLY__INIT;
	Futured__Request		*req;
	struct reg			 rg;
	int				 fd;

	fd = fake_accept();
	rg.w = w;
	ck_assert_int_eq(pthread_create(&rg.th, NULL, reg_thread, &rg), 0);
	req = fake_recv(fd);
	ck_assert_int_eq(req->body_case,
	    FUTURED__REQUEST__BODY_WORKER_REGISTER);
	r.id = req->id;
	r.body_case = FUTURED__RESPONSE__BODY_WORKER_REGISTER;
	r.worker_register = &wr;
	wr.worker_id = 42;
	wr.lease_ms = lease_ms;
	fake_send(fd, &r);
	pthread_join(rg.th, NULL);
	ck_assert_int_eq(rg.rc, 0);
	if (out != NULL)
		*out = req;
	else
		futured__request__free_unpacked(req, NULL);
	return (fd);
}

static void
fake_task(int fd, uint64_t job, uint32_t attempt, const char *handler,
    const char *payload)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__Task		 t = FUTURED__TASK__INIT;

	r.id = 0;
	r.body_case = FUTURED__RESPONSE__BODY_TASK;
	r.task = &t;
	t.job_id = job;
	t.attempt = attempt;
	t.handler = (char *)handler;
	t.kind = FUTURED__KIND__KIND_BLOCKING;
	if (payload != NULL) {
		t.has_payload = 1;
		t.payload.data = (uint8_t *)payload;
		t.payload.len = strlen(payload);
	}
	fake_send(fd, &r);
}

static void
fake_cancel(int fd, uint64_t job, uint32_t attempt)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__TaskCancel	 tc = FUTURED__TASK_CANCEL__INIT;

	r.body_case = FUTURED__RESPONSE__BODY_TASK_CANCEL;
	r.task_cancel = &tc;
	tc.job_id = job;
	tc.attempt = attempt;
	tc.reason = (char *)"cancelled";
	fake_send(fd, &r);
}

/* The next request must be a TaskUpdate of job; it is returned. */
static Futured__Request *
fake_update(int fd, uint64_t job)
{
	Futured__Request	*req = fake_recv(fd);

	ck_assert_int_eq(req->body_case, FUTURED__REQUEST__BODY_TASK_UPDATE);
	ck_assert_uint_eq(req->task_update->job_id, job);
	return (req);
}

static struct fut_worker *
new_worker(void)
{
	struct fut_worker	*w = fut_worker_new(path);

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(fut_worker_handler(w, "t.echo",
	    1U << FUT_BLOCKING | 1U << FUT_ASYNC, FUT_KIND_DEFAULT,
	    "echoes"), 0);
	return (w);
}

/* Tests. */

struct succeeder {
	pthread_t	 th;
	struct fut_task	*t;
	const void	*data;
	size_t		 len;
	int		 rc;
};

static void *
succeed_thread(void *arg)
{
	struct succeeder	*s = arg;

	s->rc = fut_task_succeed(s->t, s->data, s->len);
	return (NULL);
}

START_TEST(test_register)
{
	struct fut_worker	*w;
	Futured__Request	*req;
	Futured__WorkerRegister	*wr;
	int			 fd;

	setenv("FUTURED_POOL", "mypool", 1);
	w = fut_worker_new(path);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(fut_worker_handler(w, "t.a", 1U << FUT_ASYNC |
	    1U << FUT_CPU, FUT_CPU, "a handler"), 0);
	ck_assert_int_eq(fut_worker_handler(w, "t.b", 1U << FUT_BLOCKING,
	    FUT_KIND_DEFAULT, NULL), 0);
	ck_assert_int_eq(fut_worker_concurrency(w, 8), 0);
	ck_assert_int_eq(fut_worker_name(w, "tester"), 0);
	fd = fake_register(w, 10000, &req);
	wr = req->worker_register;
	ck_assert_uint_eq(wr->n_handlers, 2);
	ck_assert_str_eq(wr->handlers[0]->name, "t.a");
	ck_assert_str_eq(wr->handlers[0]->description, "a handler");
	/* The default kind first, then the others in order. */
	ck_assert_uint_eq(wr->handlers[0]->n_kinds, 2);
	ck_assert_int_eq(wr->handlers[0]->kinds[0], FUTURED__KIND__KIND_CPU);
	ck_assert_int_eq(wr->handlers[0]->kinds[1],
	    FUTURED__KIND__KIND_ASYNC);
	ck_assert_int_eq(wr->handlers[0]->default_kind,
	    FUTURED__KIND__KIND_CPU);
	ck_assert_str_eq(wr->handlers[1]->name, "t.b");
	ck_assert_ptr_null(wr->handlers[1]->description);
	ck_assert_uint_eq(wr->handlers[1]->n_kinds, 1);
	ck_assert_int_eq(wr->handlers[1]->kinds[0],
	    FUTURED__KIND__KIND_BLOCKING);
	ck_assert_uint_eq(wr->concurrency, 8);
	ck_assert_str_eq(wr->pool, "mypool");
	ck_assert_str_eq(wr->name, "tester");
	futured__request__free_unpacked(req, NULL);
	/* Registered: no more handlers. */
	ck_assert_int_eq(fut_worker_handler(w, "t.c", 1, FUT_KIND_DEFAULT,
	    NULL), FUT_EINVAL);
	ck_assert_int_eq(fut_worker_register(w), FUT_EINVAL);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), "registered"));
	fut_worker_close(w);
	close(fd);
}
END_TEST

START_TEST(test_register_refused)
{
	Futured__Request	*req;
	struct fut_worker	*w = new_worker();
	struct reg		 rg;
	int			 fd;

	fd = fake_accept();
	rg.w = w;
	ck_assert_int_eq(pthread_create(&rg.th, NULL, reg_thread, &rg), 0);
	req = fake_recv(fd);
	fake_error(fd, req->id, FUTURED__ERROR_CODE__ERR_INVALID,
	    "handler t.echo: served with other kinds");
	futured__request__free_unpacked(req, NULL);
	pthread_join(rg.th, NULL);
	ck_assert_int_eq(rg.rc, FUT_EINVAL);
	ck_assert_str_eq(fut_worker_error(w),
	    "handler t.echo: served with other kinds");
	fut_worker_close(w);
	close(fd);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct fut_worker	*w = fut_worker_new(path);
	struct fut_task		*t;
	char			 longname[202];
	int			 fd;

	ck_assert_ptr_nonnull(w);
	fd = accept(lfd, NULL, NULL);
	ck_assert_int_eq(fut_worker_handler(w, "has space", 1,
	    FUT_KIND_DEFAULT, NULL), FUT_EINVAL);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), "has space"));
	ck_assert_int_eq(fut_worker_handler(w, "", 1, FUT_KIND_DEFAULT,
	    NULL), FUT_EINVAL);
	memset(longname, 'a', 201);
	longname[201] = '\0';
	ck_assert_int_eq(fut_worker_handler(w, longname, 1,
	    FUT_KIND_DEFAULT, NULL), FUT_EINVAL);
	ck_assert_int_eq(fut_worker_handler(w, "x", 0, FUT_KIND_DEFAULT,
	    NULL), FUT_EINVAL);
	ck_assert_int_eq(fut_worker_handler(w, "x", 1U << 5,
	    FUT_KIND_DEFAULT, NULL), FUT_EINVAL);
	ck_assert_int_eq(fut_worker_handler(w, "x", 1U << FUT_ASYNC, FUT_CPU,
	    NULL), FUT_EINVAL);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), "default kind"));
	ck_assert_int_eq(fut_worker_handler(w, "x", 1, FUT_KIND_DEFAULT,
	    NULL), 0);
	ck_assert_int_eq(fut_worker_handler(w, "x", 1, FUT_KIND_DEFAULT,
	    NULL), FUT_EINVAL);
	ck_assert_int_eq(fut_worker_concurrency(w, 0), FUT_EINVAL);
	ck_assert_int_eq(fut_worker_concurrency(w, 65537), FUT_EINVAL);
	ck_assert_int_eq(fut_worker_next(w, 0, &t), FUT_EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), "not registered"));
	fut_worker_close(w);
	close(fd);
}
END_TEST

START_TEST(test_no_handler)
{
	struct fut_worker	*w = fut_worker_new(path);

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(fut_worker_register(w), FUT_EINVAL);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), "no handler"));
	fut_worker_close(w);
}
END_TEST

START_TEST(test_task_round_trip)
{
	Futured__Response	 r = FUTURED__RESPONSE__INIT;
	Futured__Task		 tk = FUTURED__TASK__INIT;
	Futured__KeyValue	 kv = FUTURED__KEY_VALUE__INIT, *kvs[1];
	char			*args[2] = { (char *)"a1", (char *)"a2" };
	struct fut_worker	*w = new_worker();
	struct fut_task		*t;
	Futured__Request	*req;
	Futured__TaskUpdate	*u;
	const char		*v;
	const void		*p;
	size_t			 len;
	int			 fd;

	fd = fake_register(w, 10000, NULL);
	ck_assert_int_eq(fut_worker_next(w, 0, &t), 0);
	ck_assert_ptr_null(t);

	r.body_case = FUTURED__RESPONSE__BODY_TASK;
	r.task = &tk;
	tk.job_id = 7;
	tk.attempt = 2;
	tk.handler = (char *)"t.echo";
	tk.kind = FUTURED__KIND__KIND_ASYNC;
	tk.has_payload = 1;
	tk.payload.data = (uint8_t *)"hello";
	tk.payload.len = 5;
	tk.n_args = 2;
	tk.args = args;
	kv.key = (char *)"k";
	kv.value = (char *)"v";
	kvs[0] = &kv;
	tk.n_ctx = 1;
	tk.ctx = kvs;
	tk.has_deadline_at = 1;
	tk.deadline_at = 1234567;
	tk.cwd = (char *)"/tmp";
	tk.has_parent = 1;
	tk.parent = 3;
	tk.has_owner_uid = 1;
	tk.owner_uid = 1000;
	fake_send(fd, &r);

	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	ck_assert_uint_eq(fut_task_job_id(t), 7);
	ck_assert_uint_eq(fut_task_attempt(t), 2);
	ck_assert_str_eq(fut_task_handler(t), "t.echo");
	ck_assert_int_eq(fut_task_kind(t), FUT_ASYNC);
	p = fut_task_payload(t, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(p, "hello", 5);
	ck_assert_uint_eq(fut_task_nargs(t), 2);
	ck_assert_str_eq(fut_task_arg(t, 1), "a2");
	ck_assert_ptr_null(fut_task_arg(t, 2));
	ck_assert_uint_eq(fut_task_nctx(t), 1);
	ck_assert_str_eq(fut_task_ctx(t, 0, &v), "k");
	ck_assert_str_eq(v, "v");
	ck_assert_int_eq(fut_task_deadline_ms(t), 1234567);
	ck_assert_str_eq(fut_task_cwd(t), "/tmp");
	ck_assert_uint_eq(fut_task_parent(t), 3);
	ck_assert_int_eq(fut_task_owner_uid(t), 1000);
	ck_assert_int_eq(fut_task_cancelled(t), 0);
	ck_assert_ptr_null(fut_task_cancel_reason(t));

	ck_assert_int_eq(fut_task_progress(t, 0.5, "half"), 0);
	ck_assert_int_eq(fut_task_progress(t, 1.5, NULL), FUT_EINVAL);
	ck_assert_int_eq(fut_task_output(t, "out1", 4), 0);
	ck_assert_int_eq(fut_task_stderr(t, "err1", 4), 0);
	ck_assert_int_eq(fut_task_succeed(t, "done", 4), 0);

	req = fake_update(fd, 7);
	u = req->task_update;
	ck_assert_uint_eq(u->attempt, 2);
	ck_assert(u->has_progress && u->progress == 0.5);
	ck_assert_str_eq(u->progress_msg, "half");
	ck_assert(!u->done);
	fake_reply_empty_update(fd, req->id);
	futured__request__free_unpacked(req, NULL);
	req = fake_update(fd, 7);
	u = req->task_update;
	ck_assert(u->has_output && u->output.len == 4);
	ck_assert_mem_eq(u->output.data, "out1", 4);
	ck_assert(!u->done);
	fake_reply_empty_update(fd, req->id);
	futured__request__free_unpacked(req, NULL);
	req = fake_update(fd, 7);
	u = req->task_update;
	ck_assert(u->has_stderr && u->stderr.len == 4);
	ck_assert(!u->has_output);
	futured__request__free_unpacked(req, NULL);
	req = fake_update(fd, 7);
	u = req->task_update;
	ck_assert(u->has_done && u->done && u->has_ok && u->ok);
	ck_assert(u->has_output && u->output.len == 4);
	ck_assert_mem_eq(u->output.data, "done", 4);
	futured__request__free_unpacked(req, NULL);
	fut_worker_close(w);
	close(fd);
}
END_TEST

START_TEST(test_fail_and_big_output)
{
	struct fut_worker	*w = new_worker();
	struct fut_task		*t;
	Futured__Request	*req;
	Futured__TaskUpdate	*u;
	struct succeeder	 sc;
	size_t			 big = 600 * 1024, got = 0;
	char			*data;
	int			 fd, n = 0;

	fd = fake_register(w, 10000, NULL);
	fake_task(fd, 1, 1, "t.echo", NULL);
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	ck_assert_ptr_null(fut_task_payload(t, NULL));
	ck_assert_int_eq(fut_task_fail(t, "it broke", "ValueError",
	    "Traceback: ..."), 0);
	req = fake_update(fd, 1);
	u = req->task_update;
	ck_assert(u->done && u->has_ok && !u->ok);
	ck_assert_str_eq(u->error, "it broke");
	ck_assert_str_eq(u->error_type, "ValueError");
	ck_assert_str_eq(u->error_detail, "Traceback: ...");
	futured__request__free_unpacked(req, NULL);

	/* Output over a chunk goes in several updates, the outcome last. */
	data = malloc(big);
	memset(data, 'x', big);
	fake_task(fd, 2, 1, "t.echo", "p");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	/* More than the socket holds: sent while the daemon reads. */
	sc.t = t;
	sc.data = data;
	sc.len = big;
	ck_assert_int_eq(pthread_create(&sc.th, NULL, succeed_thread, &sc),
	    0);
	for (;;) {
		req = fake_update(fd, 2);
		u = req->task_update;
		got += u->output.len;
		n++;
		if (u->done) {
			ck_assert(u->ok);
			futured__request__free_unpacked(req, NULL);
			break;
		}
		futured__request__free_unpacked(req, NULL);
	}
	pthread_join(sc.th, NULL);
	ck_assert_int_eq(sc.rc, 0);
	ck_assert_uint_eq(got, big);
	ck_assert_int_eq(n, 3);
	free(data);
	fut_worker_close(w);
	close(fd);
}
END_TEST

static int	 cancels_seen;
static uint64_t	 cancel_job;

static void
on_cancel_cb(struct fut_task *t, void *arg)
{
	ck_assert_ptr_eq(arg, &cancels_seen);
	ck_assert_int_eq(fut_task_cancelled(t), 1);
	cancel_job = fut_task_job_id(t);
	cancels_seen++;
}

START_TEST(test_cancel)
{
	struct fut_worker	*w = new_worker();
	struct fut_task		*t, *t2;
	Futured__Request	*req;
	int			 fd;

	cancels_seen = 0;
	fut_worker_on_cancel(w, on_cancel_cb, &cancels_seen);
	ck_assert_int_eq(fut_worker_concurrency(w, 4), 0);
	fd = fake_register(w, 10000, NULL);
	fake_task(fd, 5, 1, "t.echo", "a");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	/* A cancel of another attempt is not this task's. */
	fake_cancel(fd, 5, 2);
	fake_cancel(fd, 5, 1);
	ck_assert_int_eq(fut_worker_next(w, 200, &t2), 0);
	ck_assert_int_eq(cancels_seen, 1);
	ck_assert_uint_eq(cancel_job, 5);
	ck_assert_int_eq(fut_task_cancelled(t), 1);
	ck_assert_str_eq(fut_task_cancel_reason(t), "cancelled");
	/* Its updates are no longer sent, and that is no error. */
	ck_assert_int_eq(fut_task_output(t, "x", 1), 0);
	ck_assert_int_eq(fut_task_succeed(t, "x", 1), 0);

	/* A task cancelled before it was taken is never given out. */
	fake_task(fd, 6, 1, "t.echo", "b");
	fake_cancel(fd, 6, 1);
	fake_task(fd, 8, 1, "t.echo", "c");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	ck_assert_uint_eq(fut_task_job_id(t), 8);
	ck_assert_int_eq(cancels_seen, 1);
	ck_assert_int_eq(fut_task_succeed(t, "c", 1), 0);
	/* The first update the daemon sees is job 8's. */
	req = fake_update(fd, 8);
	ck_assert(req->task_update->done);
	futured__request__free_unpacked(req, NULL);
	fut_worker_close(w);
	close(fd);
}
END_TEST

START_TEST(test_refused_update)
{
	struct fut_worker	*w = new_worker();
	struct fut_task		*t, *t9;
	Futured__Request	*req;
	int			 fd;

	fd = fake_register(w, 10000, NULL);
	fake_task(fd, 9, 1, "t.echo", "a");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t9), 1);
	ck_assert_int_eq(fut_task_output(t9, "o", 1), 0);
	ck_assert_int_eq(fut_task_output(t9, "p", 1), 0);
	req = fake_update(fd, 9);
	/* Taken back meanwhile: not the worker's error. */
	fake_error(fd, req->id, FUTURED__ERROR_CODE__ERR_NOT_FOUND,
	    "job 9 attempt 1 is not this worker's");
	futured__request__free_unpacked(req, NULL);
	req = fake_update(fd, 9);
	fake_error(fd, req->id, FUTURED__ERROR_CODE__ERR_TOO_BIG,
	    "output over the limit");
	futured__request__free_unpacked(req, NULL);
	fake_task(fd, 10, 1, "t.echo", "b");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	ck_assert_uint_eq(fut_task_job_id(t), 10);
	ck_assert_ptr_null(strstr(fut_worker_error(w), "not this worker"));
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w),
	    "refused an update of job 9: output over the limit"));
	fut_task_succeed(t, NULL, 0);
	/* The refusal took nothing from the task: it is still the caller's. */
	ck_assert_int_eq(fut_task_cancelled(t9), 0);
	ck_assert_int_eq(fut_task_succeed(t9, NULL, 0), 0);
	fut_worker_close(w);
	close(fd);
}
END_TEST

/*
 * Updates go quiet: the daemon answers only a refusal, later, by the
 * update's id (the job's id with the top bit), and nothing waits for it.
 */
START_TEST(test_quiet_updates)
{
	struct fut_worker	*w = new_worker();
	struct fut_task		*t;
	Futured__Request	*req;
	uint64_t		 ids[3];
	int			 fd, i;

	fd = fake_register(w, 10000, NULL);
	fake_task(fd, 31, 1, "t.echo", "a");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	ck_assert_int_eq(fut_task_progress(t, 0.5, NULL), 0);
	ck_assert_int_eq(fut_task_output(t, "o", 1), 0);
	ck_assert_int_eq(fut_task_succeed(t, "d", 1), 0);
	for (i = 0; i < 3; i++) {
		req = fake_update(fd, 31);
		ck_assert(req->task_update->has_quiet &&
		    req->task_update->quiet);
		ids[i] = req->id;
		ck_assert_uint_eq(ids[i], UINT64_C(1) << 63 | 31);
		ck_assert_int_eq(req->task_update->done, i == 2);
		futured__request__free_unpacked(req, NULL);
	}
	/* Never answered, the worker goes on. */
	fake_task(fd, 32, 1, "t.echo", "b");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	ck_assert_uint_eq(fut_task_job_id(t), 32);
	ck_assert_int_eq(fut_task_succeed(t, NULL, 0), 0);
	req = fake_update(fd, 32);
	futured__request__free_unpacked(req, NULL);
	/* An older daemon's answer to a quiet update is nothing. */
	fake_reply_empty_update(fd, ids[0]);
	/* A stale outcome's refusal, after its task was freed: no error. */
	fake_error(fd, UINT64_C(1) << 63 | 32,
	    FUTURED__ERROR_CODE__ERR_NOT_FOUND, "job 32 attempt 1 is not "
	    "held by this worker now");
	ck_assert_int_eq(fut_worker_next(w, 200, &t), 0);
	ck_assert_ptr_null(strstr(fut_worker_error(w), "refused"));
	/* Any other refusal comes to the worker's error, naming the job. */
	fake_error(fd, ids[2], FUTURED__ERROR_CODE__ERR_INVALID,
	    "no good");
	ck_assert_int_eq(fut_worker_next(w, 200, &t), 0);
	ck_assert_str_eq(fut_worker_error(w),
	    "futured refused an update of job 31: no good");
	/* Its connection is whole: tasks still come. */
	fake_task(fd, 33, 1, "t.echo", "c");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	ck_assert_uint_eq(fut_task_job_id(t), 33);
	ck_assert_int_eq(fut_task_succeed(t, NULL, 0), 0);
	fut_worker_close(w);
	close(fd);
}
END_TEST

START_TEST(test_lease_ping)
{
	struct fut_worker	*w = new_worker();
	struct fut_task		*t, *t2;
	Futured__Request	*req;
	int64_t			 t0, el;
	int			 fd, pings = 0;

	/*
	 * A 3 s lease: a loaded machine may stall the worker for over 100
	 * ms, which would let a ping slip in where none may come.
	 */
	fd = fake_register(w, 3000, NULL);
	/* Nothing held: no ping, and nothing to wait for. */
	ck_assert_int_eq(fut_worker_timeout_ms(w), -1);
	ck_assert_int_eq(fut_worker_next(w, 400, &t), 0);
	ck_assert_ptr_null(fake_recv_within(fd, 0));

	fake_task(fd, 11, 1, "t.echo", "a");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	el = fut_worker_timeout_ms(w);
	ck_assert_int_ge(el, 0);
	ck_assert_int_le(el, 1000);
	/* Held, silent: a ping each third of the lease (at 1 s, 2 s). */
	t0 = now_ms();
	ck_assert_int_eq(fut_worker_next(w, 2500, &t2), 0);
	el = now_ms() - t0;
	while ((req = fake_recv_within(fd, 0)) != NULL) {
		ck_assert_int_eq(req->body_case, FUTURED__REQUEST__BODY_PING);
		futured__request__free_unpacked(req, NULL);
		pings++;
	}
	ck_assert_msg(pings >= 1 && pings <= el / 1000 + 1, "%d pings in "
	    "%lld ms", pings, (long long)el);
	/* An update counts as a sign of life: no ping right after it. */
	ck_assert_int_eq(fut_task_progress(t, 0.1, NULL), 0);
	ck_assert_int_eq(fut_worker_next(w, 30, &t2), 0);
	req = fake_update(fd, 11);
	futured__request__free_unpacked(req, NULL);
	ck_assert_ptr_null(fake_recv_within(fd, 0));
	fut_task_succeed(t, NULL, 0);
	req = fake_update(fd, 11);
	futured__request__free_unpacked(req, NULL);
	/* Nothing held again: no more pings. */
	ck_assert_int_eq(fut_worker_next(w, 300, &t2), 0);
	ck_assert_ptr_null(fake_recv_within(fd, 0));
	fut_worker_close(w);
	close(fd);
}
END_TEST

START_TEST(test_connection_lost)
{
	struct fut_worker	*w = new_worker();
	struct fut_task		*t, *t2;
	int			 fd;

	cancels_seen = 0;
	fut_worker_on_cancel(w, on_cancel_cb, &cancels_seen);
	fd = fake_register(w, 10000, NULL);
	fake_task(fd, 12, 1, "t.echo", "a");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	close(fd);
	ck_assert_int_eq(fut_worker_next(w, 5000, &t2), FUT_ECONN);
	ck_assert_int_eq(cancels_seen, 1);
	ck_assert_uint_eq(cancel_job, 12);
	ck_assert_str_eq(fut_task_cancel_reason(t), "connection lost");
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), "connection"));
	ck_assert_int_eq(fut_task_output(t, "x", 1), FUT_ECONN);
	ck_assert_int_eq(fut_task_succeed(t, "x", 1), FUT_ECONN);
	ck_assert_int_eq(fut_worker_next(w, 0, &t2), FUT_ECONN);
	fut_worker_close(w);
}
END_TEST

START_TEST(test_close_with_task_held)
{
	struct fut_worker	*w = new_worker();
	struct fut_task		*t;
	int			 fd;

	fd = fake_register(w, 10000, NULL);
	fake_task(fd, 13, 1, "t.echo", "a");
	ck_assert_int_eq(fut_worker_next(w, 5000, &t), 1);
	/* A task pushed and never taken goes with the worker. */
	fake_task(fd, 14, 1, "t.echo", "b");
	fut_worker_close(w);
	/* The daemon sees the close. */
	ck_assert_ptr_null(fake_recv_within(fd, 5000));
	ck_assert_int_eq(fut_task_cancelled(t), 1);
	ck_assert_int_eq(fut_task_succeed(t, "x", 1), FUT_ECONN);
	close(fd);
}
END_TEST

/* Tasks finished from other threads while fut_worker_next() waits. */
struct finisher {
	pthread_t	 th;
	struct fut_task	*t;
	int		 rc;
};

static void *
finisher_thread(void *arg)
{
	struct finisher	*f = arg;
	size_t		 len;
	const void	*p = fut_task_payload(f->t, &len);
	int		 i;

	for (i = 0; i < 50; i++)
		fut_task_output(f->t, p, len);
	f->rc = fut_task_succeed(f->t, p, len);
	return (NULL);
}

START_TEST(test_threads)
{
	struct fut_worker	*w = new_worker();
	struct finisher		 f[4];
	struct fut_task		*t;
	Futured__Request	*req;
	int			 fd, i, done = 0, updates = 0;

	ck_assert_int_eq(fut_worker_concurrency(w, 4), 0);
	fd = fake_register(w, 10000, NULL);
	for (i = 0; i < 4; i++)
		fake_task(fd, 20 + i, 1, "t.echo", "payload");
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(fut_worker_next(w, 5000, &f[i].t), 1);
		ck_assert_int_eq(pthread_create(&f[i].th, NULL,
		    finisher_thread, &f[i]), 0);
	}
	/* Replies read by the thread in fut_worker_next(). */
	while (done < 4) {
		req = fake_recv(fd);
		ck_assert_int_eq(req->body_case,
		    FUTURED__REQUEST__BODY_TASK_UPDATE);
		fake_reply_empty_update(fd, req->id);
		updates++;
		if (req->task_update->done)
			done++;
		futured__request__free_unpacked(req, NULL);
		ck_assert_int_eq(fut_worker_next(w, 0, &t), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(f[i].th, NULL);
		ck_assert_int_eq(f[i].rc, 0);
	}
	ck_assert_int_eq(updates, 4 * 51);
	fut_worker_close(w);
	close(fd);
}
END_TEST

/* fut_worker_serve(): callbacks on threads. */
static void
serve_echo(struct fut_task *t, void *arg)
{
	size_t		 len;
	const void	*p = fut_task_payload(t, &len);

	ck_assert_ptr_eq(arg, (void *)serve_echo);
	fut_task_succeed(t, p, len);
}

struct server {
	pthread_t		 th;
	struct fut_worker	*w;
	int			 rc;
};

static void *
server_thread(void *arg)
{
	struct server	*s = arg;

	s->rc = fut_worker_serve(s->w, 2);
	return (NULL);
}

START_TEST(test_serve)
{
	Futured__Response		 r = FUTURED__RESPONSE__INIT;
	Futured__WorkerRegisterReply	 wr =
	    FUTURED__WORKER_REGISTER_REPLY__INIT;
	struct fut_worker		*w = fut_worker_new(path);
	Futured__Request		*req;
	struct server			 s;
	int				 fd, i, seen = 0;
	char				 pl[16];

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(fut_worker_serve_handler(w, "t.echo",
	    1U << FUT_BLOCKING, FUT_KIND_DEFAULT, NULL, serve_echo,
	    (void *)serve_echo), 0);
	ck_assert_int_eq(fut_worker_handler(w, "t.none", 1U << FUT_BLOCKING,
	    FUT_KIND_DEFAULT, NULL), 0);
	ck_assert_int_eq(fut_worker_concurrency(w, 4), 0);
	fd = fake_accept();
	s.w = w;
	ck_assert_int_eq(pthread_create(&s.th, NULL, server_thread, &s), 0);
	req = fake_recv(fd);
	ck_assert_int_eq(req->body_case,
	    FUTURED__REQUEST__BODY_WORKER_REGISTER);
	r.id = req->id;
	r.body_case = FUTURED__RESPONSE__BODY_WORKER_REGISTER;
	r.worker_register = &wr;
	wr.worker_id = 1;
	wr.lease_ms = 10000;
	fake_send(fd, &r);
	futured__request__free_unpacked(req, NULL);
	for (i = 0; i < 6; i++) {
		snprintf(pl, sizeof(pl), "p%d", i);
		fake_task(fd, 100 + i, 1, "t.echo", pl);
	}
	fake_task(fd, 200, 1, "t.none", NULL);
	while (seen < 7) {
		req = fake_recv(fd);
		ck_assert_int_eq(req->body_case,
		    FUTURED__REQUEST__BODY_TASK_UPDATE);
		ck_assert(req->task_update->done);
		if (req->task_update->job_id == 200) {
			ck_assert(!req->task_update->ok);
			ck_assert_ptr_nonnull(strstr(req->task_update->error,
			    "no callback"));
		} else {
			snprintf(pl, sizeof(pl), "p%d",
			    (int)(req->task_update->job_id - 100));
			ck_assert_uint_eq(req->task_update->output.len,
			    strlen(pl));
			ck_assert_mem_eq(req->task_update->output.data, pl,
			    strlen(pl));
		}
		seen++;
		futured__request__free_unpacked(req, NULL);
	}
	close(fd);
	pthread_join(s.th, NULL);
	ck_assert_int_eq(s.rc, FUT_ECONN);
	fut_worker_close(w);
}
END_TEST

/* fut_worker_stop() from another thread ends fut_worker_serve(). */
START_TEST(test_stop)
{
	struct fut_worker	*w = fut_worker_new(path);
	Futured__Request	*req;
	struct server		 s;
	int			 fd;

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(fut_worker_serve_handler(w, "t.echo",
	    1U << FUT_BLOCKING, FUT_KIND_DEFAULT, NULL, serve_echo,
	    (void *)serve_echo), 0);
	fd = fake_register(w, 10000, NULL);
	s.w = w;
	ck_assert_int_eq(pthread_create(&s.th, NULL, server_thread, &s), 0);
	fake_task(fd, 300, 1, "t.echo", "x");
	req = fake_update(fd, 300);
	futured__request__free_unpacked(req, NULL);
	ck_assert_int_eq(fut_worker_stop(w), 0);
	pthread_join(s.th, NULL);
	ck_assert_int_eq(s.rc, FUT_ECONN);
	/* The daemon sees the end. */
	ck_assert_ptr_null(fake_recv_within(fd, 5000));
	fut_worker_close(w);
	close(fd);
}
END_TEST

/* One-shot workers: $FUTURED_ONESHOT names the Task, no daemon. */

static char	 task_file[160], result_file[160];

static void
oneshot_setup(void)
{
	strcpy(dir, "/tmp/check_worker.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(task_file, sizeof(task_file), "%s/t", dir);
	snprintf(result_file, sizeof(result_file), "%s/r", dir);
	setenv("FUTURED_ONESHOT", task_file, 1);
	setenv("FUTURED_ONESHOT_RESULT", result_file, 1);
	unsetenv("FUTURED_POOL");
}

static void
oneshot_teardown(void)
{
	unsetenv("FUTURED_ONESHOT");
	unsetenv("FUTURED_ONESHOT_RESULT");
	unlink(task_file);
	unlink(result_file);
	rmdir(dir);
}

static void
oneshot_task(uint64_t job, const char *handler, const char *payload)
{
	Futured__Task	 t = FUTURED__TASK__INIT;
	uint8_t		*buf;
	size_t		 len;
	FILE		*f;

	t.job_id = job;
	t.attempt = 2;
	t.handler = (char *)handler;
	t.kind = FUTURED__KIND__KIND_BLOCKING;
	if (payload != NULL) {
		t.has_payload = 1;
		t.payload.data = (uint8_t *)payload;
		t.payload.len = strlen(payload);
	}
	len = futured__task__get_packed_size(&t);
	buf = malloc(len + 1);
	futured__task__pack(&t, buf);
	ck_assert_ptr_nonnull(f = fopen(task_file, "w"));
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
}

/* The outcome written, unpacked; NULL if there is none. */
static Futured__TaskUpdate *
oneshot_result(void)
{
	Futured__TaskUpdate	*u;
	uint8_t			 buf[65536];
	size_t			 len;
	FILE			*f;

	if ((f = fopen(result_file, "r")) == NULL)
		return (NULL);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	u = futured__task_update__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(u);
	return (u);
}

/* The task's output, stderr and outcome, from a thread of its own. */
static void *
oneshot_finisher(void *arg)
{
	struct finisher	*f = arg;

	usleep(50 * 1000);
	ck_assert_int_eq(fut_task_output(f->t, "one ", 4), 0);
	ck_assert_int_eq(fut_task_progress(f->t, 0.5, "half"), 0);
	ck_assert_int_eq(fut_task_stderr(f->t, "warned\n", 7), 0);
	ck_assert_int_eq(fut_task_succeed(f->t, "two", 3), 0);
	return (NULL);
}

START_TEST(test_oneshot_next)
{
	struct fut_worker	*w;
	struct fut_task		*t;
	struct finisher		 f;
	Futured__TaskUpdate	*u;
	struct fut_spec		*spec;
	char			 tmp[200];

	oneshot_task(41, "t.echo", "pl");
	/* No daemon listens there: none is reached. */
	ck_assert_ptr_nonnull(w = fut_worker_new("/nonexistent/socket"));
	ck_assert_int_eq(fut_worker_fd(w), -1);
	ck_assert_int_eq(fut_worker_handler(w, "t.echo", 1U << FUT_BLOCKING,
	    FUT_KIND_DEFAULT, NULL), 0);
	ck_assert_int_eq(fut_worker_register(w), 0);
	ck_assert_int_eq(fut_worker_next(w, -1, &t), 1);
	ck_assert_uint_eq(fut_task_job_id(t), 41);
	ck_assert_uint_eq(fut_task_attempt(t), 2);
	ck_assert_str_eq(fut_task_handler(t), "t.echo");
	ck_assert_int_eq(fut_task_kind(t), FUT_BLOCKING);
	ck_assert_int_eq(fut_task_cancelled(t), 0);
	f.t = t;
	/* Not finished yet: a zero wait says so. */
	ck_assert_int_eq(fut_worker_next(w, 0, &t), 0);
	ck_assert_ptr_null(oneshot_result());
	ck_assert_int_eq(pthread_create(&f.th, NULL, oneshot_finisher, &f), 0);
	/* Waits for the task's end, on another thread. */
	ck_assert_int_eq(fut_worker_next(w, -1, &t), FUT_ESHUTDOWN);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), result_file));
	pthread_join(f.th, NULL);
	ck_assert_int_eq(fut_worker_next(w, 0, &t), FUT_ESHUTDOWN);
	/* Its connection, as a client: there is none. */
	ck_assert_ptr_nonnull(spec = fut_spec_new("echo"));
	ck_assert_ptr_null(fut_submit(fut_worker_client(w), spec));
	ck_assert_int_eq(fut_client_errcode(fut_worker_client(w)), FUT_ECONN);
	fut_spec_free(spec);
	fut_worker_close(w);
	ck_assert_ptr_nonnull(u = oneshot_result());
	ck_assert_uint_eq(u->job_id, 41);
	ck_assert_uint_eq(u->attempt, 2);
	ck_assert(u->has_done && u->done && u->has_ok && u->ok);
	ck_assert(u->has_output);
	ck_assert_uint_eq(u->output.len, 7);
	ck_assert_mem_eq(u->output.data, "one two", 7);
	ck_assert_uint_eq(u->stderr.len, 7);
	ck_assert_mem_eq(u->stderr.data, "warned\n", 7);
	ck_assert(!u->has_progress);
	futured__task_update__free_unpacked(u, NULL);
	/* Written whole: no temporary file is left. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", result_file);
	ck_assert_int_eq(access(tmp, F_OK), -1);
}
END_TEST

START_TEST(test_oneshot_serve)
{
	struct fut_worker	*w;
	Futured__TaskUpdate	*u;

	oneshot_task(42, "t.none", NULL);
	ck_assert_ptr_nonnull(w = fut_worker_new(NULL));
	ck_assert_int_eq(fut_worker_serve_handler(w, "t.echo",
	    1U << FUT_BLOCKING, FUT_KIND_DEFAULT, NULL, serve_echo,
	    (void *)serve_echo), 0);
	ck_assert_int_eq(fut_worker_handler(w, "t.none", 1U << FUT_BLOCKING,
	    FUT_KIND_DEFAULT, NULL), 0);
	/* A handler without a callback: failed, and served all the same. */
	ck_assert_int_eq(fut_worker_serve(w, 8), 0);
	ck_assert_ptr_nonnull(u = oneshot_result());
	ck_assert(u->done && !u->ok);
	ck_assert_ptr_nonnull(strstr(u->error, "no callback"));
	futured__task_update__free_unpacked(u, NULL);
	fut_worker_close(w);

	unlink(result_file);
	oneshot_task(43, "t.echo", "payload");
	ck_assert_ptr_nonnull(w = fut_worker_new(NULL));
	ck_assert_int_eq(fut_worker_serve_handler(w, "t.echo",
	    1U << FUT_BLOCKING, FUT_KIND_DEFAULT, NULL, serve_echo,
	    (void *)serve_echo), 0);
	ck_assert_int_eq(fut_worker_serve(w, 0), 0);
	fut_worker_close(w);
	ck_assert_ptr_nonnull(u = oneshot_result());
	ck_assert(u->done && u->ok);
	ck_assert_uint_eq(u->output.len, 7);
	ck_assert_mem_eq(u->output.data, "payload", 7);
	futured__task_update__free_unpacked(u, NULL);
}
END_TEST

START_TEST(test_oneshot_errors)
{
	struct fut_worker	*w;
	struct fut_task		*t;
	Futured__TaskUpdate	*u;
	FILE			*f;

	/* A handler the worker does not serve: the job fails, saying so. */
	oneshot_task(44, "t.other", NULL);
	ck_assert_ptr_nonnull(w = fut_worker_new(NULL));
	ck_assert_int_eq(fut_worker_handler(w, "t.echo", 1U << FUT_BLOCKING,
	    FUT_KIND_DEFAULT, NULL), 0);
	ck_assert_int_eq(fut_worker_next(w, -1, &t), FUT_EINVAL);
	ck_assert_int_eq(fut_worker_register(w), 0);
	ck_assert_int_eq(fut_worker_next(w, -1, &t), FUT_ESHUTDOWN);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), "t.other"));
	fut_worker_close(w);
	ck_assert_ptr_nonnull(u = oneshot_result());
	ck_assert(u->done && !u->ok);
	ck_assert_ptr_nonnull(strstr(u->error, "not one of this"));
	futured__task_update__free_unpacked(u, NULL);

	/* No Task file, then one that is no Task: FUT_ECONN, no outcome. */
	unlink(result_file);
	unlink(task_file);
	ck_assert_ptr_nonnull(w = fut_worker_new(NULL));
	ck_assert_int_eq(fut_worker_serve_handler(w, "t.echo",
	    1U << FUT_BLOCKING, FUT_KIND_DEFAULT, NULL, serve_echo,
	    (void *)serve_echo), 0);
	ck_assert_int_eq(fut_worker_serve(w, 1), FUT_ECONN);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), task_file));
	fut_worker_close(w);
	ck_assert_int_eq(access(result_file, F_OK), -1);
	ck_assert_ptr_nonnull(f = fopen(task_file, "w"));
	fputs("\xff\xff not a Task", f);
	fclose(f);
	ck_assert_ptr_nonnull(w = fut_worker_new(NULL));
	ck_assert_int_eq(fut_worker_handler(w, "t.echo", 1U << FUT_BLOCKING,
	    FUT_KIND_DEFAULT, NULL), 0);
	ck_assert_int_eq(fut_worker_register(w), 0);
	ck_assert_int_eq(fut_worker_next(w, -1, &t), FUT_ECONN);
	ck_assert_ptr_nonnull(strstr(fut_worker_error(w), "not a Task"));
	/* It stays over. */
	ck_assert_int_eq(fut_worker_next(w, 0, &t), FUT_ECONN);
	fut_worker_close(w);
	ck_assert_int_eq(access(result_file, F_OK), -1);
}
END_TEST

static Suite *
worker_suite(void)
{
	Suite	*s = suite_create("worker");
	TCase	*tc;

	tc = tcase_create("register");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_register);
	tcase_add_test(tc, test_register_refused);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_no_handler);
	suite_add_tcase(s, tc);

	tc = tcase_create("tasks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_task_round_trip);
	tcase_add_test(tc, test_fail_and_big_output);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_refused_update);
	tcase_add_test(tc, test_quiet_updates);
	tcase_add_test(tc, test_lease_ping);
	tcase_add_test(tc, test_connection_lost);
	tcase_add_test(tc, test_close_with_task_held);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_serve);
	tcase_add_test(tc, test_stop);
	suite_add_tcase(s, tc);

	tc = tcase_create("oneshot");
	tcase_add_checked_fixture(tc, oneshot_setup, oneshot_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_oneshot_next);
	tcase_add_test(tc, test_oneshot_serve);
	tcase_add_test(tc, test_oneshot_errors);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(worker_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
