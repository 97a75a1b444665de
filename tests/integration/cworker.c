/*
 * cworker: a C worker for worker_c.sh, built on libfutured's worker side
 * (fut_worker_serve on a few threads), and a one-shot one for
 * run_once.sh and slurm_handlers.sh when $FUTURED_ONESHOT is set.  It
 * serves
 *
 *   c.echo	the payload back as output
 *   c.sleep	ARG ms (default 10000), in 10 ms steps, silent (so only
 *		the library's pings keep the lease); stops when cancelled
 *		(the outcome is then not wanted)
 *   c.fail	fails with a message, a type and a detail
 *   c.stream	ARG lines of output, sent as they are made, and progress
 *
 * and prints "start JOB ATTEMPT PID" and "cancel JOB" lines on stdout as
 * it goes (flushed), for the test to follow.  Its last argument may be
 * anything: the tests put a token there to find their processes.
 *
 *   cworker SOCKET CONCURRENCY [TOKEN]
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <futured/futured.h>

static pthread_mutex_t	 out_lock = PTHREAD_MUTEX_INITIALIZER;

static void
say(const char *what, struct fut_task *t)
{
	pthread_mutex_lock(&out_lock);
	printf("%s %" PRIu64 " %u %ld\n", what, fut_task_job_id(t),
	    fut_task_attempt(t), (long)getpid());
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static long
arg_num(struct fut_task *t, long dflt)
{
	const char	*a = fut_task_arg(t, 0);

	return (a != NULL ? strtol(a, NULL, 10) : dflt);
}

static void
c_echo(struct fut_task *t, void *arg)
{
	const void	*p;
	size_t		 len;

	say("start", t);
	p = fut_task_payload(t, &len);
	fut_task_succeed(t, p, len);
}

static void
c_sleep(struct fut_task *t, void *arg)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	long		 ms = arg_num(t, 10000), i, steps = ms / 10;

	say("start", t);
	for (i = 0; i < steps; i++) {
		if (fut_task_cancelled(t)) {
			say(fut_task_cancel_reason(t), t);
			say("stopped", t);
			fut_task_fail(t, "cancelled", NULL, NULL);
			return;
		}
		nanosleep(&ts, NULL);
	}
	fut_task_succeed(t, "slept\n", 6);
}

static void
c_fail(struct fut_task *t, void *arg)
{
	say("start", t);
	fut_task_stderr(t, "about to fail\n", 14);
	fut_task_fail(t, "c.fail asked to fail", "CFailure",
	    "detail: line 1\ndetail: line 2");
}

static void
c_stream(struct fut_task *t, void *arg)
{
	long	 n = arg_num(t, 10), i;
	char	 line[32];
	int	 len;

	say("start", t);
	for (i = 1; i <= n; i++) {
		len = snprintf(line, sizeof(line), "%ld\n", i);
		if (fut_task_output(t, line, len) < 0)
			break;
		if (i == n / 2)
			fut_task_progress(t, 0.5, "half way");
	}
	fut_task_succeed(t, NULL, 0);
}

static void
on_cancel(struct fut_task *t, void *arg)
{
	say("cancel", t);
}

int
main(int argc, char **argv)
{
	struct fut_worker	*w;
	const unsigned int	 all = 1U << FUT_ASYNC | 1U << FUT_BLOCKING |
				    1U << FUT_CPU;
	unsigned int		 n;
	int			 rc;

	if (argc < 3) {
		fprintf(stderr, "usage: cworker SOCKET CONCURRENCY [TOKEN]\n");
		return (2);
	}
	n = (unsigned int)strtoul(argv[2], NULL, 10);
	if ((w = fut_worker_new(argv[1])) == NULL) {
		fprintf(stderr, "cworker: connect %s: %s\n", argv[1],
		    strerror(errno));
		return (1);
	}
	fut_worker_on_cancel(w, on_cancel, NULL);
	if ((rc = fut_worker_serve_handler(w, "c.echo", all, FUT_BLOCKING,
	    "the payload back", c_echo, NULL)) < 0 ||
	    (rc = fut_worker_serve_handler(w, "c.sleep", all,
	    FUT_KIND_DEFAULT, "sleep ARG ms", c_sleep, NULL)) < 0 ||
	    (rc = fut_worker_serve_handler(w, "c.fail", all, FUT_KIND_DEFAULT,
	    NULL, c_fail, NULL)) < 0 ||
	    (rc = fut_worker_serve_handler(w, "c.stream", 1U << FUT_ASYNC,
	    FUT_KIND_DEFAULT, "ARG lines", c_stream, NULL)) < 0 ||
	    (rc = fut_worker_concurrency(w, n)) < 0 ||
	    (rc = fut_worker_register(w)) < 0) {
		fprintf(stderr, "cworker: %s\n", fut_worker_error(w));
		fut_worker_close(w);
		return (1);
	}
	printf("registered %ld\n", (long)getpid());
	fflush(stdout);
	/* 0 after a one-shot ($FUTURED_ONESHOT): its outcome is written. */
	if ((rc = fut_worker_serve(w, n)) != 0)
		fprintf(stderr, "cworker: %s\n", fut_worker_error(w));
	fut_worker_close(w);
	if (getenv("FUTURED_ONESHOT") != NULL)
		return (rc == 0 ? 0 : 1);
	return (rc == FUT_ECONN || rc == FUT_ESHUTDOWN ? 0 : 1);
}
