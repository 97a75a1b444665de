/*
 * threads: a third-party program that uses every call of libfutured from
 * several threads at once on one shared client.  tests/integration/
 * install.sh builds it against an installed copy, with nothing but
 *
 *	cc threads.c $(pkg-config --cflags --libs futured)
 *
 * and runs it (under TSan in a --enable-tsan build).  The socket comes
 * from $FUTURED_SOCKET.  Exits 0 when every check held.
 */

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <futured/futured.h>

#define NTHREADS	8
#define ROUNDS		8

static struct fut_client	*client;
static pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
static int			 failures;
static int			 callbacks;
static volatile int		 stop;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "threads: %s:%d: %s (%s)\n", __FILE__,	\
		    __LINE__, #cond, fut_client_error(client));		\
		pthread_mutex_lock(&lock);				\
		failures++;						\
		pthread_mutex_unlock(&lock);				\
		return (NULL);						\
	}								\
} while (0)

static void
count_cb(struct fut_future *f, void *arg)
{
	pthread_mutex_lock(&lock);
	callbacks++;
	pthread_mutex_unlock(&lock);
}

static int
output_is(struct fut_future *f, const char *want)
{
	const void	*out;
	size_t		 len;

	out = fut_output(f, &len);
	return (out != NULL && len == strlen(want) &&
	    memcmp(out, want, len) == 0);
}

/* One worker: every spec setter, submit, wait, cancel, attach. */
static void *
worker(void *arg)
{
	struct fut_spec		*s, *specs[3];
	struct fut_future	*f, *g, *h, *fs[3];
	char			 data[64];
	const void		*p;
	size_t			 len, which;
	int			 n = *(int *)arg, i, r;

	for (i = 0; i < ROUNDS; i++) {
		snprintf(data, sizeof(data), "w%d r%d", n, i);

		/* A job with every setter. */
		CHECK((s = fut_spec_new("exec")) != NULL);
		CHECK(fut_spec_kind(s, i % 2 ? FUT_CPU : FUT_BLOCKING) == 0);
		CHECK(fut_spec_payload(s, data, strlen(data)) == 0);
		CHECK(fut_spec_arg(s, "sh") == 0);
		CHECK(fut_spec_arg(s, "-c") == 0);
		CHECK(fut_spec_arg(s, "cat; printf %s \"$FUTURED_CTX_who$X\" "
		    ">&2; [ \"$(pwd)\" = / ]") == 0);
		CHECK(fut_spec_timeout_ms(s, 20000) == 0);
		CHECK(fut_spec_deadline_ms(s, 30000) == 0);
		CHECK(fut_spec_priority(s, -(i % 5)) == 0);
		CHECK(fut_spec_retries(s, 1) == 0);
		CHECK(fut_spec_name(s, "threads example") == 0);
		CHECK(fut_spec_ctx(s, "who", "ctx") == 0);
		CHECK(fut_spec_group(s, "threads") == 0);
		CHECK(fut_spec_cwd(s, "/") == 0);
		CHECK(fut_spec_env(s, "X", "env") == 0);
		CHECK(fut_spec_env(s, "PATH", "/usr/bin:/bin") == 0);
		CHECK((f = fut_submit(client, s)) != NULL);
		fut_spec_free(s);
		fut_on_done(f, count_cb, NULL);
		CHECK(fut_id(f) > 0);
		(void)fut_poll(f);
		CHECK(fut_wait(f, 30000) == 0);
		CHECK(fut_poll(f) == FUT_SUCCEEDED);
		CHECK(output_is(f, data));
		CHECK(fut_error(f) == NULL);
		CHECK(fut_exit_status(f) == 0);
		CHECK(fut_signal(f) == 0);
		p = fut_stderr(f, &len);
		CHECK(p != NULL && len == 6 && memcmp(p, "ctxenv", 6) == 0);

		/* Dependencies: after and input_from, in one round trip. */
		CHECK((specs[0] = fut_spec_new("echo")) != NULL);
		CHECK(fut_spec_payload(specs[0], data, strlen(data)) == 0);
		CHECK((specs[1] = fut_spec_new("sleep")) != NULL);
		CHECK(fut_spec_arg(specs[1], "30s") == 0);
		CHECK((specs[2] = fut_spec_new("echo")) != NULL);
		CHECK(fut_spec_after(specs[2], fut_id(f)) == 0);
		CHECK(fut_spec_input_from(specs[2], fut_id(f)) == 0);
		CHECK(fut_submit_all(client,
		    (const struct fut_spec *const *)specs, 3, fs) == 3);
		fut_spec_free(specs[0]);
		fut_spec_free(specs[1]);
		fut_spec_free(specs[2]);
		r = fut_wait_any(fs, 3, 30000, &which);
		CHECK(r == 0 && which != 1);

		/* Cancel the sleeper from here, wait on it through attach. */
		CHECK((g = fut_attach(client, fut_id(fs[1]))) != NULL);
		CHECK(fut_cancel(fs[1]) == 1);
		CHECK(fut_wait(g, 30000) == 0);
		CHECK(fut_poll(g) == FUT_CANCELLED);
		CHECK(fut_cancel(g) == 0);
		CHECK(fut_wait_all(fs, 3, 30000) == 0);
		CHECK(output_is(fs[0], data));
		CHECK(output_is(fs[2], data));

		/* A failure is an outcome, with its code and stderr. */
		CHECK((s = fut_spec_new("exec")) != NULL);
		CHECK(fut_spec_arg(s, "sh") == 0 && fut_spec_arg(s, "-c") == 0);
		CHECK(fut_spec_arg(s, "echo bad >&2; exit 7") == 0);
		CHECK((h = fut_submit(client, s)) != NULL);
		fut_spec_free(s);
		CHECK(fut_wait(h, 30000) == 0);
		CHECK(fut_poll(h) == FUT_FAILED && fut_exit_status(h) == 7);
		CHECK(fut_error(h) != NULL);

		fut_future_free(h);
		fut_future_free(g);
		fut_future_free(fs[0]);
		fut_future_free(fs[1]);
		fut_future_free(fs[2]);
		fut_future_free(f);
	}
	return (NULL);
}

/* The application's event loop, on the same client. */
static void *
loop(void *arg)
{
	struct pollfd	 pfd;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		pfd.fd = fut_client_fd(client);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20) > 0 && fut_client_dispatch(client) < 0)
			break;
	}
	return (NULL);
}

int
main(void)
{
	pthread_t		 tid[NTHREADS], lt;
	struct fut_spec		*s;
	int			 n[NTHREADS], i;

	if ((client = fut_connect(NULL)) == NULL) {
		perror("fut_connect");
		return (1);
	}
	/* Errors are values: a refused submit says why. */
	if ((s = fut_spec_new("no-such-handler")) == NULL ||
	    fut_submit(client, s) != NULL ||
	    fut_client_errcode(client) != FUT_EHANDLER ||
	    strcmp(fut_strerror(FUT_EHANDLER), "unknown handler or kind") != 0)
		return (1);
	fut_spec_free(s);

	pthread_create(&lt, NULL, loop, NULL);
	for (i = 0; i < NTHREADS; i++) {
		n[i] = i;
		pthread_create(&tid[i], NULL, worker, &n[i]);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(lt, NULL);
	fut_close(client);
	printf("threads: %d threads x %d rounds, %d callbacks, %d failures\n",
	    NTHREADS, ROUNDS, callbacks, failures);
	return (failures == 0 && callbacks == NTHREADS * ROUNDS ? 0 : 1);
}
