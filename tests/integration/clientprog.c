/*
 * clientprog: drives libfutured against a running futured for the
 * integration tests (tests/integration/libfutured.sh).  Each subcommand
 * proves one property of the library; it exits 0 when it holds and
 * prints the reason and exits 1 when it does not.  The socket comes from
 * $FUTURED_SOCKET (fut_connect(NULL)).
 */

#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <futured/futured.h>

static const char	*prog_cmd = "clientprog";

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "clientprog %s: ", prog_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static struct fut_client *
must_connect(void)
{
	struct fut_client	*c;

	if ((c = fut_connect(NULL)) == NULL)
		fail("fut_connect: %s", strerror(errno));
	return (c);
}

static struct fut_spec *
must_spec(const char *handler)
{
	struct fut_spec	*s;

	if ((s = fut_spec_new(handler)) == NULL)
		fail("fut_spec_new(%s) failed", handler);
	return (s);
}

static struct fut_future *
must_submit(struct fut_client *c, struct fut_spec *s)
{
	struct fut_future	*f;

	if ((f = fut_submit(c, s)) == NULL)
		fail("fut_submit: %s", fut_client_error(c));
	return (f);
}

static struct fut_spec *
echo_spec(const char *data, enum fut_kind kind)
{
	struct fut_spec	*s = must_spec("echo");

	if (fut_spec_kind(s, kind) != 0 ||
	    fut_spec_payload(s, data, strlen(data)) != 0)
		fail("spec setters failed");
	return (s);
}

static struct fut_spec *
sleep_spec(const char *dur)
{
	struct fut_spec	*s = must_spec("sleep");

	if (fut_spec_arg(s, dur) != 0)
		fail("fut_spec_arg failed");
	return (s);
}

/* The future finished and succeeded with output want. */
static void
ck_output(struct fut_future *f, const char *want)
{
	const void	*out;
	size_t		 len;

	if (fut_poll(f) != FUT_SUCCEEDED)
		fail("job %" PRIu64 " state %d, error %s", fut_id(f),
		    (int)fut_poll(f), fut_error(f) ? fut_error(f) : "-");
	if ((out = fut_output(f, &len)) == NULL)
		fail("job %" PRIu64 ": no output", fut_id(f));
	if (len != strlen(want) || memcmp(out, want, len) != 0)
		fail("job %" PRIu64 ": output \"%.*s\", want \"%s\"",
		    fut_id(f), (int)len, (const char *)out, want);
}

/* echo-kinds: echo under each kind gives its payload back. */
static int
cmd_echo_kinds(int argc, char **argv)
{
	static const enum fut_kind	 kinds[] = { FUT_ASYNC, FUT_BLOCKING,
					    FUT_CPU };
	struct fut_client	*c = must_connect();
	struct fut_spec		*s;
	struct fut_future	*f;
	char			 data[64];
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(data, sizeof(data), "hello kind %zu", i);
		s = echo_spec(data, kinds[i]);
		f = must_submit(c, s);
		fut_spec_free(s);
		if ((rc = fut_wait(f, 10000)) != 0)
			fail("fut_wait: %s", fut_strerror(rc));
		ck_output(f, data);
		fut_future_free(f);
	}
	/* An unknown handler is refused with a reason. */
	s = must_spec("no-such-handler");
	if ((f = fut_submit(c, s)) != NULL)
		fail("unknown handler accepted");
	if (fut_client_errcode(c) != FUT_EHANDLER)
		fail("unknown handler: code %d (%s), want FUT_EHANDLER",
		    fut_client_errcode(c), fut_client_error(c));
	fut_spec_free(s);
	fut_close(c);
	return (0);
}

struct thr {
	struct fut_client	*c;
	struct fut_future	*shared;
	int			 n;
	int			 ok;
	char			 why[256];
};

static void *
thr_own_cb(void *arg)
{
	struct thr		*t = arg;
	struct fut_spec		*s;
	struct fut_future	*f;
	char			 data[64];
	const void		*out;
	size_t			 len;
	int			 i, rc;

	for (i = 0; i < 20; i++) {
		snprintf(data, sizeof(data), "thread %d job %d", t->n, i);
		s = echo_spec(data, i % 2 ? FUT_BLOCKING : FUT_ASYNC);
		f = fut_submit(t->c, s);
		fut_spec_free(s);
		if (f == NULL) {
			snprintf(t->why, sizeof(t->why), "submit: %s",
			    fut_client_error(t->c));
			return (NULL);
		}
		if ((rc = fut_wait(f, 20000)) != 0) {
			snprintf(t->why, sizeof(t->why), "wait: %s",
			    fut_strerror(rc));
			return (NULL);
		}
		out = fut_output(f, &len);
		if (out == NULL || len != strlen(data) ||
		    memcmp(out, data, len) != 0) {
			snprintf(t->why, sizeof(t->why), "%s: got \"%.*s\"",
			    data, (int)len, out ? (const char *)out : "");
			return (NULL);
		}
		fut_future_free(f);
	}
	t->ok = 1;
	return (NULL);
}

static void *
thr_shared_cb(void *arg)
{
	struct thr	*t = arg;
	int		 rc;

	if ((rc = fut_wait(t->shared, 20000)) != 0) {
		snprintf(t->why, sizeof(t->why), "shared wait: %s",
		    fut_strerror(rc));
		return (NULL);
	}
	t->ok = fut_poll(t->shared) == FUT_SUCCEEDED;
	if (!t->ok)
		snprintf(t->why, sizeof(t->why), "shared job state %d",
		    (int)fut_poll(t->shared));
	return (NULL);
}

/* threads N: N threads share one client, plus N waiters on one future. */
static int
cmd_threads(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s;
	struct fut_future	*shared;
	struct thr		*t;
	pthread_t		*tid;
	int			 n, i;

	n = argc > 1 ? atoi(argv[1]) : 8;
	if (n < 1 || n > 1000)
		fail("bad thread count");
	s = sleep_spec("300ms");
	shared = must_submit(c, s);
	fut_spec_free(s);
	t = calloc(2 * n, sizeof(*t));
	tid = calloc(2 * n, sizeof(*tid));
	if (t == NULL || tid == NULL)
		fail("out of memory");
	for (i = 0; i < 2 * n; i++) {
		t[i].c = c;
		t[i].n = i;
		t[i].shared = shared;
		if (pthread_create(&tid[i], NULL, i < n ? thr_own_cb :
		    thr_shared_cb, &t[i]) != 0)
			fail("pthread_create");
	}
	for (i = 0; i < 2 * n; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < 2 * n; i++)
		if (!t[i].ok)
			fail("thread %d: %s", i, t[i].why);
	fut_future_free(shared);
	free(t);
	free(tid);
	fut_close(c);
	return (0);
}

/* submit-all N: N echo jobs in one write, all accepted, all right. */
static int
cmd_submit_all(int argc, char **argv)
{
	struct fut_client	 *c = must_connect();
	struct fut_spec		**specs;
	struct fut_future	**fs;
	char			  data[64];
	int			  n, i, rc;

	n = argc > 1 ? atoi(argv[1]) : 100;
	if (n < 1)
		fail("bad job count");
	specs = calloc(n, sizeof(*specs));
	fs = calloc(n, sizeof(*fs));
	if (specs == NULL || fs == NULL)
		fail("out of memory");
	for (i = 0; i < n; i++) {
		snprintf(data, sizeof(data), "job %d", i);
		specs[i] = echo_spec(data, FUT_ASYNC);
	}
	/* One refused spec among them: out[i] is NULL, the rest go on. */
	fut_spec_free(specs[n / 2]);
	specs[n / 2] = must_spec("no-such-handler");
	rc = fut_submit_all(c, (const struct fut_spec *const *)specs, n, fs);
	if (rc != n - 1)
		fail("fut_submit_all accepted %d of %d: %s", rc, n,
		    fut_client_error(c));
	if (fs[n / 2] != NULL)
		fail("refused spec got a future");
	for (i = 0; i < n; i++) {
		if (i == n / 2)
			continue;
		if (fs[i] == NULL)
			fail("job %d refused: %s", i, fut_client_error(c));
	}
	fs[n / 2] = fs[0];	/* wait_all wants no NULLs; a repeat is fine */
	if ((rc = fut_wait_all(fs, n, 30000)) != 0)
		fail("fut_wait_all: %s", fut_strerror(rc));
	for (i = 0; i < n; i++) {
		if (i == n / 2)
			continue;
		snprintf(data, sizeof(data), "job %d", i);
		ck_output(fs[i], data);
	}
	for (i = 0; i < n; i++) {
		if (i != n / 2)
			fut_future_free(fs[i]);
		fut_spec_free(specs[i]);
	}
	free(specs);
	free(fs);
	fut_close(c);
	return (0);
}

/*
 * Poll f until pred holds, waiting for the daemon's word on the client's
 * descriptor in between (never a blind sleep); fail after 10 s.
 */
static void
news_until(struct fut_client *c, struct fut_future *f,
    int (*pred)(struct fut_future *), const char *what)
{
	struct pollfd	 pfd;
	int64_t		 until = now_ms() + 10000;

	while (!pred(f)) {
		if (now_ms() > until)
			fail("no %s after 10 s: state %s", what,
			    fut_state_name(fut_poll(f)));
		pfd.fd = fut_client_fd(c);
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, 100);
	}
}

static int
news_running(struct fut_future *f)
{
	return (fut_poll(f) == FUT_RUNNING);
}

static int
news_spinning(struct fut_future *f)
{
	char	 msg[64];
	double	 p;

	if (fut_poll(f) != FUT_RUNNING)
		return (0);
	p = fut_progress(f, msg, sizeof(msg));
	return (p == 0.5 && strcmp(msg, "spinning") == 0);
}

/*
 * A future from fut_attach is told too: b waits for a, and starts once
 * a is done.  Only the news can say so: an attached future whose daemon
 * tells does not ask.
 */
static void
cmd_news_attach(struct fut_client *c)
{
	struct fut_client	*other = must_connect();
	struct fut_spec		*s = sleep_spec("300ms");
	struct fut_future	*a = must_submit(c, s), *b, *f;

	fut_spec_free(s);
	s = sleep_spec("1s");
	fut_spec_after(s, fut_id(a));
	b = must_submit(c, s);
	fut_spec_free(s);
	if ((f = fut_attach(other, fut_id(b))) == NULL)
		fail("fut_attach: %s", fut_client_error(other));
	news_until(other, f, news_running, "start of an attached job");
	if (fut_wait(f, -1) != 0 || fut_poll(f) != FUT_SUCCEEDED)
		fail("attached: %s", fut_client_error(other));
	fut_future_free(f);
	fut_future_free(a);
	fut_future_free(b);
	fut_close(other);
}

/*
 * news [HANDLER]: the daemon tells a future its job started: fut_poll
 * says FUT_RUNNING while a sleep runs, then FUT_SUCCEEDED with
 * progress 1.  With HANDLER (the test plugin's spin, which reports 0.5
 * "spinning" then spins), its progress reaches the future; cancelled, it
 * ends FUT_CANCELLED.  Then a future from fut_attach, told likewise.
 */
static int
cmd_news(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s = sleep_spec("1500ms");
	struct fut_future	*f = must_submit(c, s);
	char			 msg[64];

	fut_spec_free(s);
	if (fut_progress(f, msg, sizeof(msg)) != 0 || msg[0] != '\0')
		fail("progress before the start: %g \"%s\"",
		    fut_progress(f, NULL, 0), msg);
	news_until(c, f, news_running, "start");
	if (fut_wait(f, -1) != 0 || fut_poll(f) != FUT_SUCCEEDED)
		fail("sleep: %s", fut_client_error(c));
	if (fut_progress(f, NULL, 0) != 1)
		fail("progress of a job that succeeded: %g",
		    fut_progress(f, NULL, 0));
	fut_future_free(f);
	if (argc > 1) {
		s = must_spec(argv[1]);
		fut_spec_kind(s, FUT_BLOCKING);
		f = must_submit(c, s);
		fut_spec_free(s);
		news_until(c, f, news_spinning, "progress 0.5 \"spinning\"");
		if (fut_cancel(f) != 1)
			fail("cancel of %s: %s", argv[1], fut_client_error(c));
		if (fut_wait(f, -1) != 0 || fut_poll(f) != FUT_CANCELLED)
			fail("%s: state %s", argv[1],
			    fut_state_name(fut_poll(f)));
		fut_future_free(f);
	}
	cmd_news_attach(c);
	fut_close(c);
	return (0);
}

/* poll: fut_poll on a sleeping job is fast and not final. */
static int
cmd_poll(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s = sleep_spec("2s");
	struct fut_future	*f = must_submit(c, s);
	enum fut_state		 st;
	int64_t			 t0, dt;
	int			 i;

	fut_spec_free(s);
	for (i = 0; i < 100; i++) {
		t0 = now_ms();
		st = fut_poll(f);
		dt = now_ms() - t0;
		if (dt >= 50)
			fail("fut_poll took %" PRId64 " ms", dt);
		if (st != FUT_WAITING && st != FUT_QUEUED &&
		    st != FUT_RUNNING)
			fail("fut_poll: state %d on a sleeping job", (int)st);
		usleep(1000);
	}
	if (fut_output(f, NULL) != NULL)
		fail("fut_output of an unfinished job is not NULL");
	if (fut_cancel(f) != 1)
		fail("cancel of a sleeping job did not take effect");
	fut_future_free(f);
	fut_close(c);
	return (0);
}

/* wait-timeout: a wait runs out on time; cancel says 1, then 0. */
static int
cmd_wait_timeout(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s = sleep_spec("10s");
	struct fut_future	*f = must_submit(c, s);
	int64_t			 t0, dt;
	int			 rc;

	fut_spec_free(s);
	t0 = now_ms();
	rc = fut_wait(f, 200);
	dt = now_ms() - t0;
	if (rc != FUT_ETIMEDOUT)
		fail("fut_wait(200) returned %d, want FUT_ETIMEDOUT", rc);
	if (dt < 180 || dt > 1000)
		fail("fut_wait(200) took %" PRId64 " ms", dt);
	if ((rc = fut_cancel(f)) != 1)
		fail("first cancel returned %d (%s), want 1", rc,
		    fut_client_error(c));
	if ((rc = fut_wait(f, 5000)) != 0)
		fail("wait after cancel: %s", fut_strerror(rc));
	if (fut_poll(f) != FUT_CANCELLED)
		fail("state after cancel %d, want cancelled",
		    (int)fut_poll(f));
	if ((rc = fut_cancel(f)) != 0)
		fail("second cancel returned %d, want 0", rc);
	fut_future_free(f);
	fut_close(c);
	return (0);
}

struct dispatch_state {
	int	 done;
	int	 bad;
};

static void
dispatch_done_cb(struct fut_future *f, void *arg)
{
	struct dispatch_state	*ds = arg;

	ds->done++;
	if (fut_poll(f) != FUT_SUCCEEDED)
		ds->bad++;
}

/* dispatch: an event loop of our own drives 20 jobs to their callbacks. */
static int
cmd_dispatch(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_future	*fs[20];
	struct fut_spec		*s;
	struct dispatch_state	 ds = { 0, 0 };
	struct pollfd		 pfd;
	int64_t			 t0;
	int			 i, n = 20;

	s = sleep_spec("200ms");
	for (i = 0; i < n; i++)
		fs[i] = must_submit(c, s);
	fut_spec_free(s);
	for (i = 0; i < n; i++)
		fut_on_done(fs[i], dispatch_done_cb, &ds);
	t0 = now_ms();
	while (ds.done < n) {
		if (now_ms() - t0 > 10000)
			fail("only %d of %d callbacks after 10 s", ds.done, n);
		pfd.fd = fut_client_fd(c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) == -1)
			fail("poll");
		if (pfd.revents != 0 && fut_client_dispatch(c) < 0)
			fail("fut_client_dispatch: %s", fut_client_error(c));
	}
	if (ds.bad != 0)
		fail("%d jobs did not succeed", ds.bad);
	/* Already final: the callback runs at once. */
	ds.done = 0;
	fut_on_done(fs[0], dispatch_done_cb, &ds);
	if (ds.done != 1)
		fail("fut_on_done on a final future did not call back");
	for (i = 0; i < n; i++)
		fut_future_free(fs[i]);
	fut_close(c);
	return (0);
}

/* attach ID: a future for a job submitted elsewhere; prints its output. */
static int
cmd_attach(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_future	*f;
	const void		*out;
	size_t			 len;
	uint64_t		 id;
	int			 rc;

	if (argc < 2)
		fail("attach: no job id");
	id = strtoull(argv[1], NULL, 10);
	if ((f = fut_attach(c, id)) == NULL) {
		if (fut_client_errcode(c) == FUT_ENOTFOUND) {
			fprintf(stderr, "clientprog attach: %s\n",
			    fut_client_error(c));
			exit(7);
		}
		fail("fut_attach: %s", fut_client_error(c));
	}
	if (fut_id(f) != id)
		fail("fut_id %" PRIu64 ", want %" PRIu64, fut_id(f), id);
	if ((rc = fut_wait(f, 30000)) != 0)
		fail("fut_wait: %s", fut_strerror(rc));
	if ((out = fut_output(f, &len)) != NULL)
		fwrite(out, 1, len, stdout);
	rc = fut_poll(f) == FUT_SUCCEEDED ? 0 : 1;
	fut_future_free(f);
	fut_close(c);
	return (rc);
}

/* close: futures outlive fut_close and fail with FUT_ECONN. */
static int
cmd_close(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s = sleep_spec("5s");
	struct fut_future	*f = must_submit(c, s);
	int			 rc;

	fut_spec_free(s);
	fut_close(c);
	if ((rc = fut_wait(f, 1000)) != FUT_ECONN)
		fail("wait after close returned %d, want FUT_ECONN", rc);
	fut_future_free(f);
	return (0);
}

/*
 * orphan: submit jobs that end after their client has gone (the daemon
 * must drop their completions, not send them to a freed connection) and
 * print their ids for the script to wait on.
 */
static int
cmd_orphan(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s = sleep_spec(argc > 1 ? argv[1] : "200ms");
	struct fut_future	*f[4];
	size_t			 i;

	for (i = 0; i < 4; i++)
		f[i] = must_submit(c, s);
	for (i = 0; i < 4; i++)
		printf("%" PRIu64 "\n", fut_id(f[i]));
	fut_spec_free(s);
	fut_close(c);
	for (i = 0; i < 4; i++)
		fut_future_free(f[i]);
	return (0);
}

/*
 * stress: many threads hammer one shared client with every call at once.
 * It proves no answer goes to the wrong thread, every done-callback runs
 * exactly once (including ones that submit from inside the callback), each
 * watch sees its job's output and end once, whichever thread reads, and
 * under TSan that the library has no data race.
 */

#define STRESS_SHARED	8
#define STRESS_OPS	10

struct stress {
	struct fut_client	*c;
	struct fut_future	*shared[STRESS_SHARED];
	pthread_mutex_t		 lock;		/* guards the fields below */
	int			 cbs_want;
	int			 cbs_got;
	int			 cb_submits;
	struct fut_future	**cb_futs;	/* submitted from callbacks */
	size_t			 ncb_futs;
	size_t			 cb_futs_cap;
	int			 stop;
	int			 dispatched;
};

/* A callback watch's side: events counted, the end signalled. */
struct stress_watch {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	size_t		 outlen;
	int		 finals;
	int		 errors;
};

struct stress_thr {
	struct stress		*st;
	/* Outlives the thread: a callback may still be unlocking it. */
	struct stress_watch	 sw;
	int			 n;
	int			 jobs;
	int			 ok;
	char			 why[256];
};

#define STRESS_FAIL(t, ...) do {					\
	snprintf((t)->why, sizeof((t)->why), __VA_ARGS__);		\
	return (NULL);							\
} while (0)

/* A done-callback that counts, and sometimes submits a job of its own. */
static void
stress_done_cb(struct fut_future *f, void *arg)
{
	struct stress		*st = arg;
	struct fut_spec		*s;
	struct fut_future	*nf = NULL, **v;
	int			 submit;

	pthread_mutex_lock(&st->lock);
	st->cbs_got++;
	submit = st->cbs_got % 5 == 0;
	pthread_mutex_unlock(&st->lock);
	if (!submit)
		return;
	/* Submitting from inside a callback: no library lock is held. */
	s = echo_spec("from a callback", FUT_ASYNC);
	nf = fut_submit(st->c, s);
	fut_spec_free(s);
	if (nf == NULL)
		return;		/* counted as missing at the end */
	pthread_mutex_lock(&st->lock);
	if (st->ncb_futs == st->cb_futs_cap) {
		st->cb_futs_cap = st->cb_futs_cap ? st->cb_futs_cap * 2 : 64;
		v = realloc(st->cb_futs, st->cb_futs_cap * sizeof(*v));
		if (v == NULL)
			abort();
		st->cb_futs = v;
	}
	st->cb_futs[st->ncb_futs++] = nf;
	st->cb_submits++;
	pthread_mutex_unlock(&st->lock);
}

static void
stress_on_done(struct stress *st, struct fut_future *f)
{
	pthread_mutex_lock(&st->lock);
	st->cbs_want++;
	pthread_mutex_unlock(&st->lock);
	fut_on_done(f, stress_done_cb, st);
}

/* The output of f, which must have succeeded, is want. */
static int
stress_ck(struct fut_future *f, const char *want)
{
	const void	*out;
	size_t		 len;

	if (fut_poll(f) != FUT_SUCCEEDED)
		return (0);
	out = fut_output(f, &len);
	return (out != NULL && len == strlen(want) &&
	    memcmp(out, want, len) == 0);
}

static void
stress_watch_cb(const struct fut_event *ev, int err, void *arg)
{
	struct stress_watch	*sw = arg;
	size_t			 len;

	pthread_mutex_lock(&sw->lock);
	if (ev == NULL)
		sw->errors++;
	else {
		if (fut_event_output(ev, &len) != NULL)
			sw->outlen += len;
		if (fut_event_final(ev))
			sw->finals++;
		(void)fut_info_state(fut_event_info(ev));
	}
	if (ev == NULL || fut_event_final(ev))
		pthread_cond_signal(&sw->cond);
	pthread_mutex_unlock(&sw->lock);
}

static void *
stress_thr_cb(void *arg)
{
	struct stress_thr	*t = arg;
	struct stress		*st = t->st;
	struct fut_client	*c = st->c;
	struct fut_spec		*s, *specs[4];
	struct fut_future	*f, *g, *fs[4];
	struct fut_watch	*w;
	struct fut_event	*ev;
	struct fut_info		*ji;
	struct stress_watch	*sw = &t->sw;
	enum fut_state		 ps;
	char			 data[64], want[4][80];
	size_t			 which, len, got;
	int			 j, k, rc, op;

	for (j = 0; j < t->jobs; j++) {
		snprintf(data, sizeof(data), "t%d j%d", t->n, j);
		op = (t->n + j) % STRESS_OPS;
		switch (op) {
		case 0:		/* submit + wait, kinds in turn */
			s = echo_spec(data, (enum fut_kind)(j % 3));
			f = fut_submit(c, s);
			fut_spec_free(s);
			if (f == NULL)
				STRESS_FAIL(t, "submit: %s",
				    fut_client_error(c));
			stress_on_done(st, f);
			if ((rc = fut_wait(f, 30000)) != 0)
				STRESS_FAIL(t, "wait: %s", fut_strerror(rc));
			if (!stress_ck(f, data))
				STRESS_FAIL(t, "%s: wrong outcome", data);
			fut_future_free(f);
			break;
		case 1:		/* poll only: poll must read the answer */
			s = sleep_spec("10ms");
			f = fut_submit(c, s);
			fut_spec_free(s);
			if (f == NULL)
				STRESS_FAIL(t, "submit: %s",
				    fut_client_error(c));
			for (k = 0; k < 30000; k++) {
				ps = fut_poll(f);
				if (ps >= FUT_SUCCEEDED)
					break;
				usleep(1000);
			}
			if (ps != FUT_SUCCEEDED)
				STRESS_FAIL(t, "poll: state %d", (int)ps);
			fut_future_free(f);
			break;
		case 2:		/* cancel a sleeper */
			s = sleep_spec("30s");
			f = fut_submit(c, s);
			fut_spec_free(s);
			if (f == NULL)
				STRESS_FAIL(t, "submit: %s",
				    fut_client_error(c));
			stress_on_done(st, f);
			if ((rc = fut_cancel(f)) != 1)
				STRESS_FAIL(t, "cancel returned %d", rc);
			if ((rc = fut_wait(f, 30000)) != 0)
				STRESS_FAIL(t, "wait after cancel: %s",
				    fut_strerror(rc));
			if (fut_poll(f) != FUT_CANCELLED)
				STRESS_FAIL(t, "cancelled job in state %d",
				    (int)fut_poll(f));
			if ((rc = fut_cancel(f)) != 0)
				STRESS_FAIL(t, "second cancel returned %d",
				    rc);
			fut_future_free(f);
			break;
		case 3:		/* attach: two futures, one job */
			s = echo_spec(data, FUT_BLOCKING);
			f = fut_submit(c, s);
			fut_spec_free(s);
			if (f == NULL)
				STRESS_FAIL(t, "submit: %s",
				    fut_client_error(c));
			if ((g = fut_attach(c, fut_id(f))) == NULL)
				STRESS_FAIL(t, "attach: %s",
				    fut_client_error(c));
			stress_on_done(st, g);
			fs[0] = g;
			fs[1] = f;
			if ((rc = fut_wait_all(fs, 2, 30000)) != 0)
				STRESS_FAIL(t, "wait_all: %s",
				    fut_strerror(rc));
			if (!stress_ck(f, data) || !stress_ck(g, data))
				STRESS_FAIL(t, "%s: attach outcome", data);
			fut_future_free(g);
			fut_future_free(f);
			break;
		case 4:		/* wait_any on a mix, then wait_all */
			for (k = 0; k < 4; k++) {
				snprintf(want[k], sizeof(want[k]), "%s.%d",
				    data, k);
				specs[k] = k == 0 ? sleep_spec("50ms") :
				    echo_spec(want[k], FUT_ASYNC);
			}
			rc = fut_submit_all(c,
			    (const struct fut_spec *const *)specs, 4, fs);
			for (k = 0; k < 4; k++)
				fut_spec_free(specs[k]);
			if (rc != 4)
				STRESS_FAIL(t, "submit_all: %d: %s", rc,
				    fut_client_error(c));
			if ((rc = fut_wait_any(fs, 4, 30000, &which)) != 0)
				STRESS_FAIL(t, "wait_any: %s",
				    fut_strerror(rc));
			if (which >= 4 || fut_poll(fs[which]) < FUT_SUCCEEDED)
				STRESS_FAIL(t, "wait_any: %zu not final",
				    which);
			if ((rc = fut_wait_all(fs, 4, 30000)) != 0)
				STRESS_FAIL(t, "wait_all: %s",
				    fut_strerror(rc));
			for (k = 1; k < 4; k++)
				if (!stress_ck(fs[k], want[k]))
					STRESS_FAIL(t, "%s: wrong outcome",
					    want[k]);
			for (k = 0; k < 4; k++)
				fut_future_free(fs[k]);
			break;
		case 5:		/* many threads wait on one shared future */
			f = st->shared[j % STRESS_SHARED];
			if ((rc = fut_wait(f, 30000)) != 0)
				STRESS_FAIL(t, "shared wait: %s",
				    fut_strerror(rc));
			if (fut_poll(f) != FUT_SUCCEEDED)
				STRESS_FAIL(t, "shared job state %d",
				    (int)fut_poll(f));
			break;
		case 6:		/* poll a shared future others wait on */
			f = st->shared[(j + t->n) % STRESS_SHARED];
			(void)fut_poll(f);
			(void)fut_output(f, NULL);
			(void)fut_error(f);
			(void)fut_exit_status(f);
			(void)fut_signal(f);
			(void)fut_stderr(f, NULL);
			(void)fut_client_errcode(c);
			(void)fut_client_error(c);
			break;
		case 7:		/* a failing command: error and status */
			s = must_spec("exec");
			if (fut_spec_arg(s, "sh") != 0 ||
			    fut_spec_arg(s, "-c") != 0 ||
			    fut_spec_arg(s, "echo oops >&2; exit 3") != 0)
				STRESS_FAIL(t, "spec");
			f = fut_submit(c, s);
			fut_spec_free(s);
			if (f == NULL)
				STRESS_FAIL(t, "submit: %s",
				    fut_client_error(c));
			if ((rc = fut_wait(f, 30000)) != 0)
				STRESS_FAIL(t, "wait: %s", fut_strerror(rc));
			if (fut_poll(f) != FUT_FAILED ||
			    fut_exit_status(f) != 3)
				STRESS_FAIL(t, "exec: state %d status %d",
				    (int)fut_poll(f), fut_exit_status(f));
			fut_future_free(f);
			break;
		case 8:		/* watch a job to its end, then its status */
			s = echo_spec(data, (enum fut_kind)(j % 3));
			f = fut_submit(c, s);
			fut_spec_free(s);
			if (f == NULL)
				STRESS_FAIL(t, "submit: %s",
				    fut_client_error(c));
			if ((w = fut_watch_open(c, fut_id(f), 0)) == NULL)
				STRESS_FAIL(t, "watch: %s",
				    fut_client_error(c));
			for (got = 0, k = 0; (rc = fut_watch_next(w, 30000,
			    &ev)) == 1; fut_event_free(ev)) {
				if (fut_event_output(ev, &len) != NULL)
					got += len;
				k += fut_event_final(ev);
			}
			fut_watch_close(w);
			if (rc != 0 || k != 1 || got != strlen(data))
				STRESS_FAIL(t, "watch: %d, %d finals, "
				    "%zu bytes", rc, k, got);
			if ((rc = fut_status(c, fut_id(f), &ji)) != 0 ||
			    fut_info_state(ji) != FUT_SUCCEEDED)
				STRESS_FAIL(t, "status: %d", rc);
			fut_info_free(ji);
			fut_future_free(f);
			break;
		case 9:		/* a callback watch, run by whoever reads */
			pthread_mutex_lock(&sw->lock);
			sw->outlen = 0;
			sw->finals = sw->errors = 0;
			pthread_mutex_unlock(&sw->lock);
			s = echo_spec(data, FUT_ASYNC);
			f = fut_submit(c, s);
			fut_spec_free(s);
			if (f == NULL)
				STRESS_FAIL(t, "submit: %s",
				    fut_client_error(c));
			if ((w = fut_watch_start(c, fut_id(f), 0,
			    stress_watch_cb, sw)) == NULL)
				STRESS_FAIL(t, "watch_start: %s",
				    fut_client_error(c));
			if ((rc = fut_wait(f, 30000)) != 0)
				STRESS_FAIL(t, "wait: %s", fut_strerror(rc));
			pthread_mutex_lock(&sw->lock);
			while (sw->finals + sw->errors == 0) {
				pthread_mutex_unlock(&sw->lock);
				/* Read, in case nobody else does. */
				(void)fut_client_dispatch(c);
				pthread_mutex_lock(&sw->lock);
				if (sw->finals + sw->errors == 0) {
					struct timespec	 ts;

					clock_gettime(CLOCK_REALTIME, &ts);
					ts.tv_nsec += 10000000;
					if (ts.tv_nsec >= 1000000000) {
						ts.tv_sec++;
						ts.tv_nsec -= 1000000000;
					}
					pthread_cond_timedwait(&sw->cond,
					    &sw->lock, &ts);
				}
			}
			k = sw->finals;
			rc = sw->errors;
			got = sw->outlen;
			pthread_mutex_unlock(&sw->lock);
			fut_watch_close(w);
			if (k != 1 || rc != 0 || got != strlen(data))
				STRESS_FAIL(t, "watch_start: %d finals, %d "
				    "errors, %zu bytes", k, rc, got);
			fut_future_free(f);
			break;
		}
	}
	t->ok = 1;
	return (NULL);
}

/* An event loop of its own on the same client, as an application has. */
static void *
stress_loop_cb(void *arg)
{
	struct stress	*st = arg;
	struct pollfd	 pfd;
	int		 stop;

	for (;;) {
		pthread_mutex_lock(&st->lock);
		stop = st->stop;
		pthread_mutex_unlock(&st->lock);
		if (stop)
			break;
		pfd.fd = fut_client_fd(st->c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20) > 0) {
			if (fut_client_dispatch(st->c) < 0)
				break;
			pthread_mutex_lock(&st->lock);
			st->dispatched++;
			pthread_mutex_unlock(&st->lock);
		}
	}
	return (NULL);
}

/* stress [THREADS [JOBS]]: THREADS threads, JOBS operations each. */
static int
cmd_stress(int argc, char **argv)
{
	struct stress		 st;
	struct stress_thr	*t;
	struct fut_spec		*s;
	pthread_t		*tid, loop;
	char			 dur[32];
	int			 n, jobs, i, rc;
	size_t			 k;

	n = argc > 1 ? atoi(argv[1]) : 16;
	jobs = argc > 2 ? atoi(argv[2]) : 64;
	if (n < 1 || n > 1000 || jobs < 1)
		fail("bad thread or job count");
	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.lock, NULL);
	st.c = must_connect();
	for (i = 0; i < STRESS_SHARED; i++) {
		snprintf(dur, sizeof(dur), "%dms", 50 + 50 * i);
		s = sleep_spec(dur);
		st.shared[i] = must_submit(st.c, s);
		fut_spec_free(s);
		stress_on_done(&st, st.shared[i]);
	}
	t = calloc(n, sizeof(*t));
	tid = calloc(n, sizeof(*tid));
	if (t == NULL || tid == NULL)
		fail("out of memory");
	if (pthread_create(&loop, NULL, stress_loop_cb, &st) != 0)
		fail("pthread_create");
	for (i = 0; i < n; i++) {
		t[i].st = &st;
		t[i].n = i;
		t[i].jobs = jobs;
		pthread_mutex_init(&t[i].sw.lock, NULL);
		pthread_cond_init(&t[i].sw.cond, NULL);
		if (pthread_create(&tid[i], NULL, stress_thr_cb, &t[i]) != 0)
			fail("pthread_create");
	}
	for (i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < n; i++)
		if (!t[i].ok)
			fail("thread %d: %s", i, t[i].why);
	/* The jobs callbacks submitted: wait for them, from this thread. */
	pthread_mutex_lock(&st.lock);
	for (k = 0; k < st.ncb_futs; k++) {
		pthread_mutex_unlock(&st.lock);
		if ((rc = fut_wait(st.cb_futs[k], 30000)) != 0)
			fail("job submitted by a callback: %s",
			    fut_strerror(rc));
		if (!stress_ck(st.cb_futs[k], "from a callback"))
			fail("job submitted by a callback: wrong outcome");
		pthread_mutex_lock(&st.lock);
	}
	st.stop = 1;
	pthread_mutex_unlock(&st.lock);
	pthread_join(loop, NULL);
	if ((rc = fut_wait_all(st.shared, STRESS_SHARED, 30000)) != 0)
		fail("shared: %s", fut_strerror(rc));
	if (st.cbs_got != st.cbs_want)
		fail("%d done-callbacks ran, %d registered", st.cbs_got,
		    st.cbs_want);
	if (st.cb_submits != st.cbs_got / 5)
		fail("%d of %d submits from callbacks worked",
		    st.cb_submits, st.cbs_got / 5);
	for (k = 0; k < st.ncb_futs; k++)
		fut_future_free(st.cb_futs[k]);
	for (i = 0; i < STRESS_SHARED; i++)
		fut_future_free(st.shared[i]);
	printf("stress: %d threads x %d ops, %d callbacks, %d submits from "
	    "callbacks, %d dispatches\n", n, jobs, st.cbs_got,
	    st.cb_submits, st.dispatched);
	free(st.cb_futs);
	free(tid);
	fut_close(st.c);
	/* No callback runs after fut_close(). */
	for (i = 0; i < n; i++) {
		pthread_mutex_destroy(&t[i].sw.lock);
		pthread_cond_destroy(&t[i].sw.cond);
	}
	free(t);
	pthread_mutex_destroy(&st.lock);
	return (0);
}

/*
 * lost PID: the daemon (PID) dies while threads wait on the client in
 * every way.  Each wait must end with FUT_ECONN, promptly, never hang;
 * callbacks run once; later calls fail at once.
 */

struct lost_thr {
	struct fut_future	**fs;
	int			  how;
	int			  rc;
};

static void *
lost_thr_cb(void *arg)
{
	struct lost_thr	*t = arg;
	size_t		 which;

	switch (t->how) {
	case 0:
		t->rc = fut_wait(t->fs[0], -1);
		break;
	case 1:
		t->rc = fut_wait_all(t->fs, 3, -1);
		break;
	case 2:
		t->rc = fut_wait_any(t->fs, 3, -1, &which);
		break;
	}
	return (NULL);
}

static void
lost_done_cb(struct fut_future *f, void *arg)
{
	int	*n = arg;

	__atomic_add_fetch(n, 1, __ATOMIC_SEQ_CST);
}

static int
cmd_lost(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_future	*fs[3], *f;
	struct fut_spec		*s;
	struct lost_thr		 t[6];
	pthread_t		 tid[6];
	pid_t			 pid;
	int64_t			 t0, dt;
	int			 i, ncb = 0;

	if (argc < 2 || (pid = (pid_t)atoi(argv[1])) <= 1)
		fail("lost: no daemon pid");
	s = sleep_spec("60s");
	for (i = 0; i < 3; i++) {
		fs[i] = must_submit(c, s);
		fut_on_done(fs[i], lost_done_cb, &ncb);
	}
	for (i = 0; i < 6; i++) {
		t[i].fs = fs;
		t[i].how = i % 3;
		t[i].rc = 1;
		if (pthread_create(&tid[i], NULL, lost_thr_cb, &t[i]) != 0)
			fail("pthread_create");
	}
	usleep(200 * 1000);	/* let them all block */
	if (kill(pid, SIGKILL) == -1)
		fail("kill %d: %s", (int)pid, strerror(errno));
	t0 = now_ms();
	for (i = 0; i < 6; i++)
		pthread_join(tid[i], NULL);
	dt = now_ms() - t0;
	if (dt > 5000)
		fail("waiters took %" PRId64 " ms to notice", dt);
	for (i = 0; i < 6; i++)
		if (t[i].rc != FUT_ECONN)
			fail("waiter %d returned %d, want FUT_ECONN", i,
			    t[i].rc);
	if (__atomic_load_n(&ncb, __ATOMIC_SEQ_CST) != 3)
		fail("%d callbacks ran, want 3", ncb);
	for (i = 0; i < 3; i++)
		if (fut_error(fs[i]) == NULL)
			fail("a lost future has no error message");
	if (fut_client_dispatch(c) != FUT_ECONN)
		fail("dispatch on a dead client did not fail");
	if ((f = fut_submit(c, s)) != NULL)
		fail("submit on a dead client worked");
	if (fut_client_errcode(c) != FUT_ECONN)
		fail("submit on a dead client: %s", fut_client_error(c));
	if (fut_wait(fs[0], 1000) != FUT_ECONN)
		fail("a later wait did not fail at once");
	fut_spec_free(s);
	printf("lost: 6 waiters out after %" PRId64 " ms\n", dt);
	for (i = 0; i < 3; i++)
		fut_future_free(fs[i]);
	fut_close(c);
	return (0);
}

/*
 * structure GROUP: dependencies, a failed dependency, a fail-fast group
 * (configured by the caller as GROUP), context and priority, all through
 * the library.
 */
static int
cmd_structure(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s;
	struct fut_future	*a, *b, *f, *g, *m[3], *any[2];
	const char		*err;
	char			 want[64];
	size_t			 which;

	if (argc < 2)
		fail("structure: no fail-fast group given");

	/* A dependent waits, then runs. */
	a = must_submit(c, s = sleep_spec("200ms"));
	fut_spec_free(s);
	s = echo_spec("after", FUT_ASYNC);
	fut_spec_after(s, fut_id(a));
	b = must_submit(c, s);
	fut_spec_free(s);
	if (fut_poll(b) != FUT_WAITING)
		fail("dependent is %d, not waiting", (int)fut_poll(b));
	if (fut_wait(b, 10000) != 0)
		fail("dependent never finished");
	ck_output(b, "after");
	if (fut_poll(a) != FUT_SUCCEEDED)
		fail("dependent finished before its dependency");
	fut_future_free(a);
	fut_future_free(b);

	/* A failed dependency cancels its dependent, naming it. */
	s = must_spec("exec");
	fut_spec_arg(s, "false");
	f = must_submit(c, s);
	fut_spec_free(s);
	s = echo_spec("never", FUT_ASYNC);
	fut_spec_after(s, fut_id(f));
	g = must_submit(c, s);
	fut_spec_free(s);
	if (fut_wait(g, 10000) != 0 || fut_poll(g) != FUT_CANCELLED)
		fail("dependent of a failed job is %d", (int)fut_poll(g));
	snprintf(want, sizeof(want), "dependency %" PRIu64 " failed",
	    fut_id(f));
	if ((err = fut_error(g)) == NULL || strstr(err, want) == NULL)
		fail("error \"%s\" does not name %s", err ? err : "", want);
	fut_future_free(f);
	fut_future_free(g);

	/* Fail-fast: a failure cancels the rest of the group. */
	s = sleep_spec("30s");
	fut_spec_group(s, argv[1]);
	m[0] = must_submit(c, s);
	m[1] = must_submit(c, s);
	fut_spec_free(s);
	s = must_spec("exec");
	fut_spec_arg(s, "false");
	fut_spec_group(s, argv[1]);
	m[2] = must_submit(c, s);
	fut_spec_free(s);
	if (fut_wait_all(m, 3, 10000) != 0)
		fail("group members did not all finish");
	if (fut_poll(m[0]) != FUT_CANCELLED || fut_poll(m[1]) != FUT_CANCELLED ||
	    fut_poll(m[2]) != FUT_FAILED)
		fail("fail-fast: states %d %d %d", (int)fut_poll(m[0]),
		    (int)fut_poll(m[1]), (int)fut_poll(m[2]));
	fut_future_free(m[0]);
	fut_future_free(m[1]);
	fut_future_free(m[2]);

	/* wait_any answers with the first. */
	any[0] = must_submit(c, s = sleep_spec("30s"));
	fut_spec_free(s);
	any[1] = must_submit(c, s = sleep_spec("50ms"));
	fut_spec_free(s);
	if (fut_wait_any(any, 2, 10000, &which) != 0 || which != 1)
		fail("wait_any: which %zu", which);
	fut_cancel(any[0]);
	fut_future_free(any[0]);
	fut_future_free(any[1]);

	/* Context reaches a command. */
	s = must_spec("exec");
	fut_spec_arg(s, "sh");
	fut_spec_arg(s, "-c");
	fut_spec_arg(s, "printf %s \"$FUTURED_CTX_TRACE\"");
	fut_spec_ctx(s, "TRACE", "t-42");
	f = must_submit(c, s);
	fut_spec_free(s);
	if (fut_wait(f, 10000) != 0)
		fail("context job never finished");
	ck_output(f, "t-42");
	fut_future_free(f);

	fut_close(c);
	return (0);
}

/*
 * child DIR: run inside an exec job.  Submit a long sleep (the spec
 * picks the job's FUTURED_JOB_ID as its parent), write its id to DIR/id,
 * then wait for it: it must end cancelled, with its parent.
 */
static int
cmd_child(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s = sleep_spec("30s");
	struct fut_future	*f;
	char			 path[4096];
	FILE			*fp;

	if (argc < 2)
		fail("child: no directory");
	f = must_submit(c, s);
	fut_spec_free(s);
	snprintf(path, sizeof(path), "%s/id", argv[1]);
	if ((fp = fopen(path, "w")) == NULL)
		fail("%s: %s", path, strerror(errno));
	fprintf(fp, "%" PRIu64 "\n", fut_id(f));
	fclose(fp);
	(void)fut_wait(f, 60000);
	fut_future_free(f);
	fut_close(c);
	return (0);
}


/* The wait for f ended, and it succeeded. */
static void
must_wait_ok(struct fut_future *f)
{
	if (fut_wait(f, 10000) != 0 || fut_poll(f) != FUT_SUCCEEDED)
		fail("job %" PRIu64 " did not succeed", fut_id(f));
}

/*
 * info: the snapshot calls.  status and result of a finished echo carry
 * every field futurectl prints; result of a running job is
 * FUT_ENOTREADY, status of an unknown id FUT_ENOTFOUND; list filters by
 * state and group; fut_wait_jobs by ids (any, timeout) and by group;
 * fut_cancel_jobs gives an outcome per id, FUT_ENOTFOUND for a bad one;
 * handlers, stats, group_set and ping answer as the daemon is;
 * fut_pool_request refuses bad arguments before asking.
 */
static int
cmd_info(int argc, char **argv)
{
	static const char *const pargv[] = { "/bin/true" };
	static const char *const penv[] = { "A=1", "NOEQUALS" };
	struct fut_client	*c = must_connect();
	struct fut_spec		*s;
	struct fut_future	*f, *sl;
	struct fut_info		*i;
	struct fut_infos	*l;
	struct fut_cancels	*cs;
	struct fut_handlers	*h;
	struct fut_stats	*st;
	struct fut_group	*g;
	const struct fut_info	*ji;
	const char		*val;
	const void		*out;
	char			 grp[64], ver[64];
	uint64_t		 ids[3], first, id;
	unsigned int		 proto;
	size_t			 len, k;
	int			 rc, took, state, found;

	snprintf(grp, sizeof(grp), "info%ld", (long)getpid());
	s = echo_spec("snap", FUT_BLOCKING);
	if (fut_spec_name(s, "snapname") != 0 ||
	    fut_spec_ctx(s, "colour", "blue") != 0 ||
	    fut_spec_group(s, grp) != 0 || fut_spec_priority(s, 3) != 0)
		fail("spec setters failed");
	f = must_submit(c, s);
	fut_spec_free(s);
	must_wait_ok(f);

	if ((rc = fut_status(c, fut_id(f), &i)) != 0)
		fail("fut_status: %s", fut_client_error(c));
	if (fut_info_id(i) != fut_id(f) || fut_info_state(i) != FUT_SUCCEEDED ||
	    fut_info_kind(i) != FUT_BLOCKING ||
	    !fut_info_has(i, FUT_FIELD_KIND) ||
	    strcmp(fut_info_handler(i), "echo") != 0 ||
	    strcmp(fut_info_name(i), "snapname") != 0 ||
	    strcmp(fut_info_group(i), grp) != 0 ||
	    fut_info_priority(i) != 3 ||
	    !fut_info_has(i, FUT_FIELD_SUBMITTED) ||
	    fut_info_finished_ms(i) < fut_info_submitted_ms(i) ||
	    fut_info_submitted_ms(i) < 1000000000000LL ||
	    fut_info_attempts(i) != 1 || fut_info_has(i, FUT_FIELD_OUTPUT))
		fail("fut_status: wrong info for job %" PRIu64, fut_id(f));
	if (fut_info_nctx(i) != 1 ||
	    strcmp(fut_info_ctx(i, 0, &val), "colour") != 0 ||
	    strcmp(val, "blue") != 0 || fut_info_ctx(i, 1, &val) != NULL)
		fail("fut_status: context");
	fut_info_free(i);

	if ((rc = fut_result(c, fut_id(f), &i)) != 0)
		fail("fut_result: %s", fut_client_error(c));
	out = fut_info_output(i, &len);
	if (out == NULL || len != 4 || memcmp(out, "snap", 4) != 0 ||
	    fut_info_output_truncated(i) || fut_info_error(i) != NULL)
		fail("fut_result: output");
	fut_info_free(i);

	if ((rc = fut_status(c, 999999999, &i)) != FUT_ENOTFOUND || i != NULL)
		fail("fut_status of an unknown id: %d", rc);
	if (strstr(fut_client_error(c), "999999999") == NULL)
		fail("fut_status: error \"%s\" names no id",
		    fut_client_error(c));

	sl = must_submit(c, (s = sleep_spec("30s")));
	fut_spec_free(s);
	if ((rc = fut_result(c, fut_id(sl), &i)) != FUT_ENOTREADY)
		fail("fut_result of a running job: %d", rc);

	/* list: by group, then by state. */
	if ((rc = fut_list(c, -1, grp, &l)) != 0)
		fail("fut_list: %s", fut_client_error(c));
	if (fut_infos_count(l) != 1 ||
	    fut_info_id(fut_infos_at(l, 0)) != fut_id(f) ||
	    fut_infos_at(l, 1) != NULL)
		fail("fut_list -g: %zu jobs", fut_infos_count(l));
	fut_infos_free(l);
	if ((rc = fut_list(c, FUT_SUCCEEDED, NULL, &l)) != 0)
		fail("fut_list: %s", fut_client_error(c));
	for (k = 0, found = 0; k < fut_infos_count(l); k++) {
		ji = fut_infos_at(l, k);
		if (fut_info_state(ji) != FUT_SUCCEEDED)
			fail("fut_list --state succeeded has a %s job",
			    fut_state_name(fut_info_state(ji)));
		if (fut_info_id(ji) == fut_id(sl))
			fail("fut_list --state succeeded has the sleeper");
		found |= fut_info_id(ji) == fut_id(f);
	}
	if (!found)
		fail("fut_list --state succeeded lacks job %" PRIu64,
		    fut_id(f));
	fut_infos_free(l);
	if (fut_list(c, 42, NULL, &l) != FUT_EINVAL || l != NULL)
		fail("fut_list of state 42");

	/* wait: timeout with the states, any with the first, group. */
	ids[0] = fut_id(sl);
	ids[1] = fut_id(f);
	if ((rc = fut_wait_jobs(c, ids, 1, NULL, 0, 100, &l, NULL)) !=
	    FUT_ETIMEDOUT || fut_infos_count(l) != 1 ||
	    fut_info_state(fut_infos_at(l, 0)) != FUT_RUNNING)
		fail("fut_wait_jobs timeout: %d", rc);
	fut_infos_free(l);
	if ((rc = fut_wait_jobs(c, ids, 2, NULL, FUT_WAIT_ANY, 10000, &l,
	    &first)) != 0 || first != fut_id(f) || fut_infos_count(l) != 2)
		fail("fut_wait_jobs any: %d, first %" PRIu64, rc, first);
	fut_infos_free(l);
	if ((rc = fut_wait_group(c, grp, 10000, &l)) != 0 ||
	    fut_infos_count(l) != 1)
		fail("fut_wait_group: %d", rc);
	fut_infos_free(l);
	if (fut_wait_jobs(c, ids, 1, grp, 0, 0, &l, NULL) != FUT_EINVAL)
		fail("fut_wait_jobs with ids and a group");

	/*
	 * cancel: an unknown id refuses the whole request, naming it;
	 * then one takes effect and one was already final.
	 */
	ids[2] = 999999999;
	if ((rc = fut_cancel_jobs(c, ids, 3, NULL, -1, &cs)) !=
	    FUT_ENOTFOUND || cs != NULL)
		fail("fut_cancel_jobs with an unknown id: %d", rc);
	if (strstr(fut_client_error(c), "999999999") == NULL)
		fail("fut_cancel_jobs: the error does not name the id: %s",
		    fut_client_error(c));
	if (fut_poll(sl) == FUT_CANCELLED)
		fail("a refused cancel cancelled a job");
	if ((rc = fut_cancel_jobs(c, ids, 2, NULL, -1, &cs)) != 0)
		fail("fut_cancel_jobs: %s", fut_client_error(c));
	if (fut_cancels_count(cs) != 2)
		fail("fut_cancel_jobs: %zu outcomes", fut_cancels_count(cs));
	if (fut_cancels_get(cs, 0, &id, &took, &state) != FUT_OK ||
	    id != ids[0] || !took)
		fail("fut_cancels_get 0");
	if (fut_cancels_get(cs, 1, &id, &took, &state) != FUT_OK ||
	    id != ids[1] || took || state != FUT_SUCCEEDED)
		fail("fut_cancels_get 1");
	if (fut_cancels_get(cs, 2, NULL, NULL, NULL) != FUT_EINVAL)
		fail("fut_cancels_get past the end");
	fut_cancels_free(cs);
	if (fut_wait(sl, 10000) != 0 || fut_poll(sl) != FUT_CANCELLED)
		fail("the cancelled sleeper is %s",
		    fut_state_name(fut_poll(sl)));

	/* handlers, stats, groups, ping. */
	if ((rc = fut_handlers(c, &h)) != 0)
		fail("fut_handlers: %s", fut_client_error(c));
	for (k = 0, found = 0; k < fut_handlers_count(h); k++) {
		if (strcmp(fut_handlers_name(h, k), "sha256") != 0)
			continue;
		found = 1;
		if (!(fut_handlers_kinds(h, k) & (1U << FUT_CPU)) ||
		    !(fut_handlers_kinds(h, k) &
		    (1U << fut_handlers_default_kind(h, k))))
			fail("fut_handlers: sha256 kinds %#x",
			    fut_handlers_kinds(h, k));
	}
	if (!found)
		fail("fut_handlers: no sha256");
	fut_handlers_free(h);
	if ((rc = fut_stats(c, &st)) != 0)
		fail("fut_stats: %s", fut_client_error(c));
	if (fut_stats_nkinds(st) != 3 || fut_stats_jobs_total(st) < 2 ||
	    fut_stats_connections(st) < 1 || fut_stats_uptime_ms(st) < 0)
		fail("fut_stats: %zu kinds", fut_stats_nkinds(st));
	for (k = 0, found = 0; k < fut_stats_nkinds(st); k++) {
		if (fut_stats_kind(st, k) == FUT_BLOCKING)
			found = fut_stats_get(st, k, FUT_STAT_SUCCEEDED) >= 1 &&
			    fut_stats_get(st, k, FUT_STAT_POOL_SIZE) >= 1;
	}
	if (!found)
		fail("fut_stats: blocking counts");
	fut_stats_free(st);
	snprintf(grp, sizeof(grp), "new%ld", (long)getpid());
	if ((rc = fut_group_set(c, grp, 1, 2, &g)) != 0)
		fail("fut_group_set: %s", fut_client_error(c));
	if (strcmp(fut_group_name(g), grp) != 0 || !fut_group_created(g) ||
	    !fut_group_fail_fast(g) || fut_group_parallel(g) != 2 ||
	    fut_group_count(g, FUT_GROUP_JOBS) != 0)
		fail("fut_group_set: wrong group");
	fut_group_free(g);
	if ((rc = fut_group_set(c, grp, -1, 0, &g)) != 0 ||
	    fut_group_created(g) || !fut_group_fail_fast(g) ||
	    fut_group_parallel(g) != 0)
		fail("fut_group_set again");
	fut_group_free(g);
	if (fut_group_set(c, "", 0, 0, NULL) != FUT_EINVAL)
		fail("fut_group_set of \"\"");
	if (fut_pool_request(c, pargv, 0, 0, 0, NULL, NULL, 0, NULL,
	    NULL) != FUT_EINVAL ||
	    fut_pool_request(c, pargv, 1, 0, 8, NULL, NULL, 0, NULL,
	    NULL) != FUT_EINVAL ||
	    fut_pool_request(c, pargv, 1, 0, 0, NULL, penv, 2, NULL,
	    NULL) != FUT_EINVAL ||
	    strstr(fut_client_error(c), "env entry 1") == NULL)
		fail("fut_pool_request: bad arguments: %s",
		    fut_client_error(c));
	if (fut_pool_name(NULL) != NULL || fut_pool_nhandlers(NULL) != 0)
		fail("fut_pool_* of NULL");
	if ((rc = fut_ping(c, ver, sizeof(ver), &proto)) != 0 ||
	    proto != fut_protocol_version() || strcmp(ver, fut_version()) != 0)
		fail("fut_ping: %s %u", ver, proto);
	if (strcmp(fut_state_name(FUT_TIMED_OUT), "timed_out") != 0 ||
	    strcmp(fut_kind_name(FUT_CPU), "cpu") != 0 ||
	    strcmp(fut_state_name((enum fut_state)99), "unknown") != 0)
		fail("names");
	fut_future_free(f);
	fut_future_free(sl);
	fut_close(c);
	return (0);
}

struct watch_state {
	int	 events;
	int	 finals;
	int	 errors;
	int	 last_err;
	size_t	 outlen;
};

static void
watch_cb(const struct fut_event *ev, int err, void *arg)
{
	struct watch_state	*ws = arg;
	size_t			 len;

	if (ev == NULL) {
		ws->errors++;
		ws->last_err = err;
		return;
	}
	ws->events++;
	if (fut_event_output(ev, &len) != NULL)
		ws->outlen += len;
	if (fut_event_final(ev))
		ws->finals++;
}

/*
 * watch: a command's output comes in chunks before it ends, and whole;
 * two jobs in one watch end the stream once both are final; an unknown
 * id ends its stream with FUT_ENOTFOUND; the callback form, driven by
 * fut_client_fd and fut_client_dispatch, sees the same.
 */
static int
cmd_watch(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s;
	struct fut_future	*f, *g;
	struct fut_watch	*w;
	struct fut_event	*ev;
	struct watch_state	 ws;
	struct pollfd		 pfd;
	char			 got[64];
	const void		*out;
	size_t			 len, have = 0;
	int64_t			 t0;
	struct fut_cancels	*cs;
	uint64_t		 id;
	int			 rc, finals = 0, before = 0, nerr;

	s = must_spec("exec");
	if (fut_spec_arg(s, "sh") != 0 || fut_spec_arg(s, "-c") != 0 ||
	    fut_spec_arg(s, "echo one; sleep 0.5; echo two") != 0)
		fail("spec");
	f = must_submit(c, s);
	fut_spec_free(s);
	if ((w = fut_watch_open(c, fut_id(f), 0)) == NULL)
		fail("fut_watch_open: %s", fut_client_error(c));
	while ((rc = fut_watch_next(w, 10000, &ev)) == 1) {
		if ((out = fut_event_output(ev, &len)) != NULL) {
			if (have + len >= sizeof(got))
				fail("too much output");
			memcpy(got + have, out, len);
			have += len;
			if (!fut_event_final(ev) && fut_info_state(
			    fut_event_info(ev)) == FUT_RUNNING)
				before = 1;
		}
		if (fut_event_id(ev) != fut_id(f) ||
		    fut_event_info(ev) == NULL)
			fail("event of job %" PRIu64, fut_event_id(ev));
		if (fut_event_final(ev)) {
			finals++;
			if (fut_info_state(fut_event_info(ev)) !=
			    FUT_SUCCEEDED)
				fail("final state %s", fut_state_name(
				    fut_info_state(fut_event_info(ev))));
		}
		fut_event_free(ev);
	}
	if (rc != 0 || finals != 1 || fut_watch_active(w))
		fail("watch ended with %d after %d finals", rc, finals);
	if (have != 8 || memcmp(got, "one\ntwo\n", 8) != 0)
		fail("watch output \"%.*s\"", (int)have, got);
	if (!before)
		fail("no output before the command ended");
	fut_watch_close(w);
	fut_future_free(f);

	/* Two jobs and an unknown one in one watch. */
	s = sleep_spec("100ms");
	f = must_submit(c, s);
	g = must_submit(c, s);
	fut_spec_free(s);
	if ((w = fut_watch_open(c, fut_id(f), FUT_WATCH_PROGRESS)) == NULL ||
	    fut_watch_add(w, fut_id(g)) != 0 || fut_watch_add(w, 999999999))
		fail("fut_watch_add: %s", fut_client_error(c));
	finals = 0;
	nerr = 0;
	while ((rc = fut_watch_next(w, 10000, &ev)) != 0) {
		if (rc == FUT_ENOTFOUND) {
			nerr++;
			continue;
		}
		if (rc != 1)
			break;
		if (fut_event_final(ev))
			finals++;
		if (fut_event_output(ev, &len) != NULL)
			fail("output in a progress watch");
		fut_event_free(ev);
	}
	if (rc != 0 || finals != 2 || nerr != 1)
		fail("two jobs: %d after %d finals, %d errors", rc, finals,
		    nerr);
	fut_watch_close(w);
	fut_future_free(f);
	fut_future_free(g);
	if (fut_watch_open(c, 0, 0) != NULL)
		fail("fut_watch_open of id 0");

	/* Timeout, then close with the stream still open. */
	s = sleep_spec("30s");
	g = must_submit(c, s);
	fut_spec_free(s);
	w = fut_watch_open(c, fut_id(g), 0);
	while ((rc = fut_watch_next(w, 200, &ev)) == 1)
		fut_event_free(ev);
	if (rc != FUT_ETIMEDOUT || !fut_watch_active(w))
		fail("a watch of a sleeper: %d", rc);
	fut_watch_close(w);
	fut_cancel(g);
	fut_future_free(g);

	/* The callback form in an event loop. */
	memset(&ws, 0, sizeof(ws));
	s = must_spec("exec");
	if (fut_spec_arg(s, "sh") != 0 || fut_spec_arg(s, "-c") != 0 ||
	    fut_spec_arg(s, "echo abc; sleep 0.2; echo de") != 0)
		fail("spec");
	f = must_submit(c, s);
	fut_spec_free(s);
	if ((w = fut_watch_start(c, fut_id(f), 0, watch_cb, &ws)) == NULL ||
	    fut_watch_add(w, 999999999) != 0)
		fail("fut_watch_start: %s", fut_client_error(c));
	if (fut_watch_next(w, 0, &ev) != FUT_EINVAL)
		fail("fut_watch_next on a callback watch");
	t0 = now_ms();
	while (ws.finals + ws.errors < 2) {
		if (now_ms() - t0 > 10000)
			fail("callbacks: %d events after 10 s", ws.events);
		pfd.fd = fut_client_fd(c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) == -1)
			fail("poll");
		if (pfd.revents != 0 && fut_client_dispatch(c) < 0)
			fail("fut_client_dispatch: %s", fut_client_error(c));
	}
	if (ws.finals != 1 || ws.errors != 1 ||
	    ws.last_err != FUT_ENOTFOUND || ws.outlen != 7 || ws.events < 2)
		fail("callbacks: %d events, %d finals, %d errors (%d), "
		    "%zu bytes", ws.events, ws.finals, ws.errors, ws.last_err,
		    ws.outlen);
	fut_watch_close(w);
	fut_future_free(f);

	/* A watch outlives fut_close; its stream ends in FUT_ECONN. */
	s = sleep_spec("30s");
	g = must_submit(c, s);
	fut_spec_free(s);
	w = fut_watch_open(c, fut_id(g), 0);
	id = fut_id(g);
	fut_close(c);
	while ((rc = fut_watch_next(w, -1, &ev)) == 1)
		fut_event_free(ev);
	if (rc != FUT_ECONN)
		fail("a watch after fut_close: %d", rc);
	if (fut_watch_next(w, -1, &ev) != 0)
		fail("a watch after its error");
	fut_watch_close(w);
	fut_future_free(g);
	c = must_connect();
	if (fut_cancel_jobs(c, &id, 1, NULL, -1, &cs) != 0)
		fail("fut_cancel_jobs: %s", fut_client_error(c));
	fut_cancels_free(cs);
	fut_close(c);
	return (0);
}

/*
 * cwd: a job with arguments and no directory of its own runs in the
 * caller's (fut_submit and fut_submit_all alike); "" is the daemon's.
 */
static int
cmd_cwd(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s, *t;
	const struct fut_spec	*specs[1];
	struct fut_future	*f, *fs[1];
	char			*here, want[4096];

	if ((here = getcwd(NULL, 0)) == NULL)
		fail("getcwd: %s", strerror(errno));
	snprintf(want, sizeof(want), "%s\n", here);
	s = must_spec("exec");
	if (fut_spec_arg(s, "pwd") != 0)
		fail("fut_spec_arg");
	f = must_submit(c, s);
	if (fut_wait(f, -1) != 0)
		fail("fut_wait: %s", fut_client_error(c));
	ck_output(f, want);
	fut_future_free(f);
	specs[0] = s;
	if (fut_submit_all(c, specs, 1, fs) != 1)
		fail("fut_submit_all: %s", fut_client_error(c));
	if (fut_wait(fs[0], -1) != 0)
		fail("fut_wait: %s", fut_client_error(c));
	ck_output(fs[0], want);
	fut_future_free(fs[0]);
	t = must_spec("exec");
	if (fut_spec_arg(t, "pwd") != 0 || fut_spec_cwd(t, "") != 0)
		fail("spec setters");
	f = must_submit(c, t);
	if (fut_wait(f, -1) != 0)
		fail("fut_wait: %s", fut_client_error(c));
	ck_output(f, "/\n");
	fut_future_free(f);
	fut_spec_free(s);
	fut_spec_free(t);
	free(here);
	fut_close(c);
	return (0);
}

/* limits FRAME OUTPUT: fut_client_limit says the daemon's. */
static int
cmd_limits(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	uint64_t		 v;

	if (argc != 3)
		fail("usage: limits FRAME OUTPUT");
	if (fut_client_limit(c, FUT_LIMIT_FRAME, &v) != 0)
		fail("fut_client_limit: %s", fut_client_error(c));
	if (v != strtoull(argv[1], NULL, 10))
		fail("frame limit %" PRIu64 ", want %s", v, argv[1]);
	if (fut_client_limit(c, FUT_LIMIT_OUTPUT, &v) != 0 ||
	    v != strtoull(argv[2], NULL, 10))
		fail("output limit %" PRIu64 ", want %s", v, argv[2]);
	if (fut_client_limit(c, FUT_LIMIT_STDERR_TAIL, &v) != 0 || v != 4096)
		fail("stderr tail %" PRIu64 ", want 4096", v);
	if (fut_client_limit(c, (enum fut_limit)99, &v) != FUT_EINVAL)
		fail("an unknown limit");
	fut_close(c);
	return (0);
}

/* The bytes seq 1 n writes. */
static uint64_t
seq_bytes(unsigned int n)
{
	char		 b[16];
	uint64_t	 t = 0;
	unsigned int	 i;

	for (i = 1; i <= n; i++)
		t += (uint64_t)snprintf(b, sizeof(b), "%u\n", i);
	return (t);
}

/* Follow w to its end: output and stderr bytes, and what was dropped. */
static const struct fut_info *
stream_all(struct fut_watch *w, struct fut_event **last, uint64_t *out,
    uint64_t *odrop, uint64_t *err, uint64_t *edrop)
{
	struct fut_event	*ev;
	size_t			 len;
	int			 rc;

	*out = *odrop = *err = *edrop = 0;
	for (;;) {
		if ((rc = fut_watch_next(w, 60000, &ev)) != 1)
			fail("fut_watch_next: %d", rc);
		if (fut_event_output(ev, &len) != NULL)
			*out += len;
		if (fut_event_stderr(ev, &len) != NULL)
			*err += len;
		*odrop += fut_event_output_dropped(ev);
		*edrop += fut_event_stderr_dropped(ev);
		if (fut_event_final(ev))
			break;
		fut_event_free(ev);
	}
	*last = ev;
	return (fut_event_info(ev));
}

/*
 * Issue 11: a watch from the submit carries all the output, past
 * --max-output, and the stderr as it comes; a late watch says what it
 * missed; infos say whether the stderr tail was cut, and what a job
 * waits for.
 */
static int
cmd_stream(int argc, char **argv)
{
	struct fut_client	*c = must_connect();
	struct fut_spec		*s;
	struct fut_watch	*w;
	struct fut_event	*ev;
	struct fut_future	*f, *g;
	struct fut_info		*ji;
	const struct fut_info	*fi;
	uint64_t		 id, out, odrop, err, edrop, keep;

	s = must_spec("exec");
	fut_spec_arg(s, "sh");
	fut_spec_arg(s, "-c");
	fut_spec_arg(s, "seq 1 1000000; seq 1 3000 >&2; exit 2");
	if ((w = fut_submit_watch(c, s, 0, &id)) == NULL)
		fail("fut_submit_watch: %s", fut_client_error(c));
	if (id == 0)
		fail("fut_submit_watch gave no id");
	fi = stream_all(w, &ev, &out, &odrop, &err, &edrop);
	if (out != seq_bytes(1000000) || odrop != 0)
		fail("output %" PRIu64 " bytes, %" PRIu64 " dropped, want %"
		    PRIu64, out, odrop, seq_bytes(1000000));
	if (err != seq_bytes(3000) || edrop != 0)
		fail("stderr %" PRIu64 " bytes, %" PRIu64 " dropped, want %"
		    PRIu64, err, edrop, seq_bytes(3000));
	if (fut_info_id(fi) != id || fut_info_exit_status(fi) != 2)
		fail("final event: job %" PRIu64 " exit %d", fut_info_id(fi),
		    fut_info_exit_status(fi));
	if (!fut_info_has(fi, FUT_FIELD_STDERR_TRUNCATED) ||
	    !fut_info_stderr_truncated(fi))
		fail("a cut stderr tail not said so");
	fut_event_free(ev);
	fut_watch_close(w);

	/* A watch opened once the job is over misses what was not kept. */
	if (fut_client_limit(c, FUT_LIMIT_OUTPUT, &keep) != 0)
		fail("fut_client_limit: %s", fut_client_error(c));
	if ((w = fut_watch_open(c, id, 0)) == NULL)
		fail("fut_watch_open: %s", fut_client_error(c));
	(void)stream_all(w, &ev, &out, &odrop, &err, &edrop);
	if (out != keep || odrop != seq_bytes(1000000) - keep)
		fail("late watch: %" PRIu64 " bytes, %" PRIu64 " dropped",
		    out, odrop);
	fut_event_free(ev);
	fut_watch_close(w);
	fut_spec_free(s);

	/* A whole tail is not cut. */
	s = must_spec("exec");
	fut_spec_arg(s, "sh");
	fut_spec_arg(s, "-c");
	fut_spec_arg(s, "echo oops >&2; exit 1");
	f = must_submit(c, s);
	fut_spec_free(s);
	(void)fut_wait(f, -1);
	if (fut_result(c, fut_id(f), &ji) != 0)
		fail("fut_result: %s", fut_client_error(c));
	if (!fut_info_has(ji, FUT_FIELD_STDERR_TRUNCATED) ||
	    fut_info_stderr_truncated(ji))
		fail("a whole stderr tail said cut");
	fut_info_free(ji);
	fut_future_free(f);

	/* What a waiting job waits for. */
	s = sleep_spec("100");
	f = must_submit(c, s);
	fut_spec_free(s);
	s = must_spec("echo");
	fut_spec_after(s, fut_id(f));
	fut_spec_input_from(s, fut_id(f));
	g = must_submit(c, s);
	fut_spec_free(s);
	if (fut_status(c, fut_id(g), &ji) != 0)
		fail("fut_status: %s", fut_client_error(c));
	if (fut_info_nafter(ji) != 1 || fut_info_after(ji, 0) != fut_id(f) ||
	    fut_info_after(ji, 1) != 0 ||
	    !fut_info_has(ji, FUT_FIELD_INPUT_FROM) ||
	    fut_info_input_from(ji) != fut_id(f))
		fail("after %zu: %" PRIu64 ", input_from %" PRIu64,
		    fut_info_nafter(ji), fut_info_after(ji, 0),
		    fut_info_input_from(ji));
	fut_info_free(ji);
	if (fut_cancel(f) != 1)
		fail("fut_cancel: %s", fut_client_error(c));
	(void)fut_wait(g, -1);
	fut_future_free(f);
	fut_future_free(g);

	/* A refused submit: no watch, the submit's error. */
	s = must_spec("no-such-handler");
	if ((w = fut_submit_watch(c, s, 0, &id)) != NULL)
		fail("fut_submit_watch of an unknown handler");
	if (fut_client_errcode(c) != FUT_EHANDLER)
		fail("fut_submit_watch: %d %s", fut_client_errcode(c),
		    fut_client_error(c));
	fut_spec_free(s);
	fut_close(c);
	return (0);
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "stream",		cmd_stream },
	{ "cwd",		cmd_cwd },
	{ "limits",		cmd_limits },
	{ "structure",		cmd_structure },
	{ "child",		cmd_child },
	{ "echo-kinds",		cmd_echo_kinds },
	{ "threads",		cmd_threads },
	{ "submit-all",		cmd_submit_all },
	{ "poll",		cmd_poll },
	{ "news",		cmd_news },
	{ "wait-timeout",	cmd_wait_timeout },
	{ "dispatch",		cmd_dispatch },
	{ "attach",		cmd_attach },
	{ "close",		cmd_close },
	{ "orphan",		cmd_orphan },
	{ "stress",		cmd_stress },
	{ "lost",		cmd_lost },
	{ "info",		cmd_info },
	{ "watch",		cmd_watch },
};

int
main(int argc, char **argv)
{
	size_t	 i;

	if (argc < 2) {
		fprintf(stderr, "usage: clientprog command [arg ...]\n");
		return (2);
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			prog_cmd = cmds[i].name;
			return (cmds[i].fn(argc - 1, argv + 1));
		}
	}
	fprintf(stderr, "clientprog: unknown command %s\n", argv[1]);
	return (2);
}
