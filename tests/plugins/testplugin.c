/*
 * A handler plugin for the tests only (never installed): handlers that
 * misbehave in each way a real one might, to prove that futured contains
 * them.  Built as a shared object by `make check`; see
 * tests/integration/plugins.sh and futured-handlers(7).
 *
 *   spin      loops until cancelled (blocking, cpu)
 *   crash     writes through a wild pointer (cpu only: in a thread it
 *             would take the daemon down)
 *   stubborn  blocks SIGTERM and ignores the cancel flag (cpu only), so
 *             only SIGKILL after the grace ends it
 *   hog       allocates and touches memory without bound (cpu only);
 *             when allocation fails it fails the job, or with the
 *             argument "abort" aborts as xmalloc-style code does
 *   tick      async: outputs "tick N" every INTERVAL (default 10ms),
 *             COUNT times (default: until cancelled), on a loop timer
 *   lines     blocking, cpu: outputs "line N T" (T: when, in ms since
 *             the epoch) COUNT times (default 3), MS apart (default
 *             1000), or until cancelled: output from a pool thread or
 *             a worker while the job runs; given GATE, line N+1 waits
 *             (polling every MS) until the file GATE.N exists
 *   mark      blocking, cpu: appends "run" to the file FILE, so that a
 *             test can count how often a job ran
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured/futured.h"
#include "futured/handler.h"

#define HOG_CHUNK	(1024 * 1024)

static int
spin_run(struct fut_handler_ctx *ctx)
{
	volatile unsigned long	 n = 0;

	fut_handler_progress(ctx, 0.5, "spinning");
	while (!fut_handler_cancelled(ctx))
		n++;
	fut_handler_fail(ctx, "spin: cancelled after %lu turns", n);
	return (-1);
}

static int
crash_run(struct fut_handler_ctx *ctx)
{
	/* Not NULL: UBSan would catch a null store before the kernel. */
	volatile uintptr_t	 addr = 16;

	*(volatile int *)addr = 1;
	fut_handler_fail(ctx, "crash: still alive");
	return (-1);
}

static int
stubborn_run(struct fut_handler_ctx *ctx)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;)
		nanosleep(&ts, NULL);
	/* NOTREACHED */
	return (0);
}

struct hog_chunk {
	struct hog_chunk	*next;
};

static int
hog_run(struct fut_handler_ctx *ctx)
{
	struct hog_chunk	*head = NULL, *c;
	const char		*how = fut_handler_arg(ctx, 0);
	size_t			 mib = 0;

	for (;;) {
		if ((c = malloc(HOG_CHUNK)) == NULL)
			break;
		/* Touch every page, so the memory is really used. */
		memset(c, 0xa5, HOG_CHUNK);
		c->next = head;
		head = c;
		mib++;
	}
	if (how != NULL && strcmp(how, "abort") == 0)
		abort();
	while ((c = head) != NULL) {
		head = c->next;
		free(c);
	}
	fut_handler_fail(ctx, "hog: out of memory after %zu MiB", mib);
	return (-1);
}

struct tick {
	struct event		*ev;
	long			 n;
	long			 count;		/* 0: until cancelled */
};

static void
tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fut_handler_ctx	*ctx = arg;
	struct tick		*t = fut_handler_data(ctx);
	char			 line[32];
	int			 len;

	t->n++;
	len = snprintf(line, sizeof(line), "tick %ld\n", t->n);
	fut_handler_output(ctx, line, (size_t)len);
	if (t->count > 0)
		fut_handler_progress(ctx, (double)t->n / t->count, NULL);
	if (t->count == 0 || t->n < t->count)
		return;
	event_free(t->ev);
	free(t);
	fut_handler_set_data(ctx, NULL);
	fut_handler_done(ctx, 0);
}

static int
tick_start(struct fut_handler_ctx *ctx)
{
	struct timeval	 tv = { 0, 10 * 1000 };
	struct tick	*t;
	const char	*a;
	long		 ms;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		fut_handler_fail(ctx, "tick: out of memory");
		return (-1);
	}
	if ((a = fut_handler_arg(ctx, 0)) != NULL)
		t->count = strtol(a, NULL, 10);
	if ((a = fut_handler_arg(ctx, 1)) != NULL &&
	    (ms = strtol(a, NULL, 10)) > 0) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
	}
	t->ev = event_new(fut_handler_base(ctx), -1, EV_PERSIST, tick_cb,
	    ctx);
	if (t->ev == NULL) {
		free(t);
		fut_handler_fail(ctx, "tick: cannot create a timer");
		return (-1);
	}
	fut_handler_set_data(ctx, t);
	event_add(t->ev, &tv);
	return (0);
}

static void
tick_cancel(struct fut_handler_ctx *ctx)
{
	struct tick	*t = fut_handler_data(ctx);

	if (t == NULL)
		return;
	event_free(t->ev);
	free(t);
	fut_handler_set_data(ctx, NULL);
}

static int
lines_run(struct fut_handler_ctx *ctx)
{
	struct timespec	 ts, now;
	const char	*a, *gate;
	char		 line[64], path[PATH_MAX];
	long		 i, count = 3, ms = 1000;
	int		 len;

	if ((a = fut_handler_arg(ctx, 0)) != NULL)
		count = strtol(a, NULL, 10);
	if ((a = fut_handler_arg(ctx, 1)) != NULL)
		ms = strtol(a, NULL, 10);
	gate = fut_handler_arg(ctx, 2);
	for (i = 1; i <= count; i++) {
		clock_gettime(CLOCK_REALTIME, &now);
		len = snprintf(line, sizeof(line), "line %ld %lld\n", i,
		    (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
		fut_handler_output(ctx, line, (size_t)len);
		fut_handler_progress(ctx, (double)i / count, NULL);
		if (i == count)
			break;
		/* With a GATE, the next line waits for GATE.i, not for MS. */
		snprintf(path, sizeof(path), "%s.%ld", gate != NULL ? gate : "",
		    i);
		do {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000L;
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		} while (gate != NULL && access(path, F_OK) == -1 &&
		    !fut_handler_cancelled(ctx));
		if (fut_handler_cancelled(ctx)) {
			fut_handler_fail(ctx, "lines: cancelled");
			return (-1);
		}
	}
	return (0);
}

static int
mark_run(struct fut_handler_ctx *ctx)
{
	const char	*path = fut_handler_arg(ctx, 0);
	int		 fd;

	if (path == NULL) {
		fut_handler_fail(ctx, "mark: no file");
		return (-1);
	}
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1 || write(fd, "run\n", 4) != 4) {
		fut_handler_fail(ctx, "mark: %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/*
 * child: submit a 30 s sleep of our own through libfutured, as a child
 * of this job, and output its id.
 */
static int
child_run(struct fut_handler_ctx *ctx)
{
	struct fut_client	*c;
	struct fut_spec		*s;
	struct fut_future	*f;
	const char		*sock = fut_handler_socket(ctx);
	char			 id[32];
	int			 len;

	if (sock == NULL || (c = fut_connect(sock)) == NULL) {
		fut_handler_fail(ctx, "child: cannot connect to %s",
		    sock != NULL ? sock : "(no socket)");
		return (-1);
	}
	s = fut_spec_new("sleep");
	fut_spec_arg(s, "30s");
	fut_spec_parent(s, fut_handler_job_id(ctx));
	if ((f = fut_submit(c, s)) == NULL) {
		fut_handler_fail(ctx, "child: %s", fut_client_error(c));
		fut_spec_free(s);
		fut_close(c);
		return (-1);
	}
	len = snprintf(id, sizeof(id), "%llu",
	    (unsigned long long)fut_id(f));
	fut_handler_output(ctx, id, (size_t)len);
	fut_future_free(f);
	fut_spec_free(s);
	fut_close(c);
	return (0);
}

static const struct fut_handler child = {
	.abi = FUT_HANDLER_ABI,
	.name = "child",
	.description = "submit a child sleep through libfutured, output its id",
	.kinds = FUT_HK_BLOCKING | FUT_HK_CPU,
	.default_kind = FUT_HK_BLOCKING,
	.run = child_run,
};

static const struct fut_handler spin = {
	.abi = FUT_HANDLER_ABI,
	.name = "spin",
	.description = "test: loop until cancelled",
	.kinds = FUT_HK_BLOCKING | FUT_HK_CPU,
	.default_kind = FUT_HK_BLOCKING,
	.run = spin_run,
};

static const struct fut_handler crash = {
	.abi = FUT_HANDLER_ABI,
	.name = "crash",
	.description = "test: segfault",
	.kinds = FUT_HK_CPU,
	.default_kind = FUT_HK_CPU,
	.run = crash_run,
};

static const struct fut_handler stubborn = {
	.abi = FUT_HANDLER_ABI,
	.name = "stubborn",
	.description = "test: block SIGTERM, ignore cancel",
	.kinds = FUT_HK_CPU,
	.default_kind = FUT_HK_CPU,
	.run = stubborn_run,
};

static const struct fut_handler hog = {
	.abi = FUT_HANDLER_ABI,
	.name = "hog",
	.description = "test: allocate without bound [abort]",
	.kinds = FUT_HK_CPU,
	.default_kind = FUT_HK_CPU,
	.run = hog_run,
};

static const struct fut_handler tick = {
	.abi = FUT_HANDLER_ABI,
	.name = "tick",
	.description = "test: output a line per tick [COUNT [MS]]",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.start = tick_start,
	.cancel = tick_cancel,
};

static const struct fut_handler lines = {
	.abi = FUT_HANDLER_ABI,
	.name = "lines",
	.description = "test: output a line, sleep [COUNT [MS [GATE]]]",
	.kinds = FUT_HK_BLOCKING | FUT_HK_CPU,
	.default_kind = FUT_HK_BLOCKING,
	.run = lines_run,
};

static const struct fut_handler mark = {
	.abi = FUT_HANDLER_ABI,
	.name = "mark",
	.description = "test: append a line to FILE",
	.kinds = FUT_HK_BLOCKING | FUT_HK_CPU,
	.default_kind = FUT_HK_BLOCKING,
	.run = mark_run,
};

FUT_PLUGIN(&spin, &crash, &stubborn, &hog, &tick, &child, &lines, &mark)
