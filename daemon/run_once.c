/*
 * The main of `futured --run-once [--plugin PATH]...`: run one job of a
 * built-in or plugin handler as a process of its own, on whatever
 * machine it was started on, and exit.  It is how the Slurm engine runs
 * those handlers on a node (oneshot.c, futured(8), The Slurm engine),
 * and it speaks the one-shot form of the worker protocol that any
 * worker program may (futured-workers(7), One-shot workers): the Task
 * is read from the file $FUTURED_ONESHOT, the outcome is written as one final
 * TaskUpdate to $FUTURED_ONESHOT_RESULT (through a temporary file and
 * rename(2), so a reader never sees half of it).
 *
 * No daemon is reachable from here, and none is needed: the handler
 * runs as in a `futured --worker` (its run(), or its start() on an event
 * loop of our own for an async handler that has no run()); progress
 * goes nowhere; cancel and timeout are a signal from whoever started us
 * (scancel), whose default action ends the process, and with it the
 * job, which then leaves no outcome.
 *
 * Exit status: 0 once the outcome is written, whatever it says; 2 if
 * there is no Task to run or the outcome cannot be written.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "log.h"
#include "putfile.h"
#include "xmalloc.h"

#define RUN_ONCE_TASK_MAX	(1U << 30)
/* Of the output, and of stderr, kept for the outcome. */
#define RUN_ONCE_OUTPUT_MAX	(32U * 1024 * 1024)
#define RUN_ONCE_STDERR_MAX	(64U * 1024)

static int	 run_once_status;
static int	 run_once_over;

static void
run_once_warnx(const char *fmt, ...)
    __attribute__((__format__(__printf__, 1, 2)));

static void
run_once_warnx(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "futured --run-once: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The whole file at path; NULL (and a message) if it cannot be read. */
static uint8_t *
run_once_read(const char *path, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*data;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		run_once_warnx("%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > RUN_ONCE_TASK_MAX) {
		run_once_warnx("%s: not a Task file", path);
		close(fd);
		return (NULL);
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		if ((n = read(fd, data + got, (size_t)st.st_size - got)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	*lenp = got;
	return (data);
}

/* The outcome into path, whole or not at all; -1 on failure. */
static int
run_once_write(const char *path, const Futured__TaskUpdate *u)
{
	const char	*failed;
	char		*tmp;
	uint8_t		*buf;
	size_t		 len;
	int		 rv;

	len = futured__task_update__get_packed_size(u);
	buf = xmalloc(len > 0 ? len : 1);
	futured__task_update__pack(u, buf);
	xasprintf(&tmp, "%s.tmp", path);
	if ((rv = putfile(path, tmp, buf, len, &failed)) == -1)
		run_once_warnx("%s: %s", failed, strerror(errno));
	free(tmp);
	free(buf);
	return (rv);
}

/* An async handler's fut_handler_done(): the loop is over. */
static void
run_once_done(struct fut_handler_ctx *ctx, int status)
{
	run_once_status = status;
	run_once_over = 1;
	event_base_loopbreak(ctx->base);
}

/* An async handler on a loop of our own; its status. */
static int
run_once_start(const struct fut_handler *h, struct fut_handler_ctx *ctx)
{
	int	 rc;

	if ((ctx->base = event_base_new()) == NULL) {
		xasprintf(&ctx->error, "cannot make an event loop");
		return (-1);
	}
	ctx->done = run_once_done;
	run_once_over = 0;
	if ((rc = h->start(ctx)) == 0) {
		while (!run_once_over) {
			if (event_base_dispatch(ctx->base) == 1 &&
			    !run_once_over) {
				/* Nothing left to wait for, and no word. */
				if (ctx->error == NULL)
					xasprintf(&ctx->error, "handler %s "
					    "never finished", h->name);
				run_once_status = -1;
				break;
			}
		}
		rc = run_once_status;
	}
	event_base_free(ctx->base);
	ctx->base = NULL;
	return (rc);
}

/* Run t's handler; its outcome into u (borrowing from ctx). */
static void
run_once_run(const Futured__Task *t, struct fut_handler_ctx *ctx,
    Futured__TaskUpdate *u)
{
	const struct fut_handler	*h;
	enum job_kind			 kind;
	struct kv			*kv = NULL;
	int64_t				 now;
	size_t				 i;
	int				 rc;

	switch (t->kind) {
	case FUTURED__KIND__KIND_ASYNC:
		kind = JOB_ASYNC;
		break;
	case FUTURED__KIND__KIND_BLOCKING:
		kind = JOB_BLOCKING;
		break;
	default:
		kind = JOB_CPU;
		break;
	}
	ctx->job_id = t->job_id;
	ctx->kind = kind;
	if (t->has_payload) {
		ctx->payload = t->payload.data;
		ctx->payload_len = t->payload.len;
	}
	ctx->args = t->args;
	ctx->nargs = t->n_args;
	if (t->n_ctx > 0) {
		kv = xcalloc(t->n_ctx, sizeof(*kv));
		for (i = 0; i < t->n_ctx; i++) {
			kv[i].key = t->ctx[i]->key;
			kv[i].value = t->ctx[i]->value;
		}
	}
	ctx->ctx = kv;
	ctx->nctx = t->n_ctx;
	ctx->cwd = t->cwd;
	ctx->owner = t->has_owner_uid ? t->owner_uid : getuid();
	if (t->has_deadline_at) {
		now = job_now_ms();
		ctx->timeout_ms = t->deadline_at > now ? t->deadline_at - now :
		    1;
	}
	ctx->output.max = RUN_ONCE_OUTPUT_MAX;
	ctx->errtail.max = RUN_ONCE_STDERR_MAX;
	ctx->exit_status = -1;

	if ((h = handler_find(t->handler)) == NULL) {
		xasprintf(&ctx->error, "no handler %s here (a plugin the "
		    "daemon has but this machine cannot load?)", t->handler);
		rc = -1;
	} else if (!handler_standalone(h)) {
		xasprintf(&ctx->error, "handler %s runs only in the daemon",
		    h->name);
		rc = -1;
	} else {
		ctx->handler = h;
		if (h->run != NULL && (kind != JOB_ASYNC || h->start == NULL))
			rc = h->run(ctx);
		else
			rc = run_once_start(h, ctx);
	}

	u->job_id = t->job_id;
	u->attempt = t->attempt;
	if (ctx->output.len > 0) {
		u->has_output = 1;
		u->output.data = ctx->output.data;
		u->output.len = ctx->output.len;
	}
	if (ctx->errtail.len > 0) {
		u->has_stderr = 1;
		u->stderr.data = ctx->errtail.data;
		u->stderr.len = ctx->errtail.len;
	}
	u->has_done = 1;
	u->done = 1;
	u->has_ok = 1;
	u->ok = rc == 0;
	if (rc != 0)
		u->error = ctx->error != NULL ? ctx->error : "handler failed";
	free(kv);
	ctx->ctx = NULL;
}

/*
 * main() of `futured --run-once`; argv are the options after it.
 * Returns the exit status.
 */
int
run_once_main(int argc, char **argv)
{
	Futured__Task		*t;
	Futured__TaskUpdate	 u = FUTURED__TASK_UPDATE__INIT;
	struct fut_handler_ctx	 ctx;
	const char		*task_path, *result_path;
	char			*cause;
	uint8_t			*data;
	size_t			 len;
	int			 i, rv;

	log_procname("futured-run-once");
	signal(SIGPIPE, SIG_IGN);
	task_path = getenv("FUTURED_ONESHOT");
	result_path = getenv("FUTURED_ONESHOT_RESULT");
	if (task_path == NULL || *task_path == '\0' || result_path == NULL ||
	    *result_path == '\0') {
		run_once_warnx("FUTURED_ONESHOT and FUTURED_ONESHOT_RESULT "
		    "name the Task to run and where its outcome goes "
		    "(futured-workers(7))");
		return (2);
	}
	handler_init();
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--plugin") != 0 || i + 1 == argc) {
			run_once_warnx("usage: futured --run-once "
			    "[--plugin PATH]...");
			return (2);
		}
		if (plugin_load(argv[++i], &cause) == -1) {
			/* Its handlers' jobs fail: "no handler" says so. */
			run_once_warnx("%s", cause);
			free(cause);
		}
	}
	if ((data = run_once_read(task_path, &len)) == NULL)
		return (2);
	if ((t = futured__task__unpack(NULL, len, data)) == NULL) {
		run_once_warnx("%s: not a Task", task_path);
		free(data);
		return (2);
	}
	memset(&ctx, 0, sizeof(ctx));
	atomic_init(&ctx.cancelled, 0);
	run_once_run(t, &ctx, &u);
	rv = run_once_write(result_path, &u) == -1 ? 2 : 0;
	buf_reset(&ctx.output);
	buf_reset(&ctx.errtail);
	free(ctx.error);
	futured__task__free_unpacked(t, NULL);
	free(data);
	return (rv);
}
