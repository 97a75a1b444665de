/*
 * The handler registry and the fut_handler_* calls of handler.h.  The
 * accessors only touch the struct fut_handler_ctx they are given, so the
 * same code serves the loop, pool threads and worker processes.
 */

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

/*
 * Built-ins, plugins, and the names workers registered.  A worker's
 * name leaves when handler_retire() lets it go (its supervised pool
 * stopped, or the journal's replay brought it back for finished jobs
 * only); the others stay.
 */
#define HANDLERS_MAX	4096

static const struct fut_handler	*handlers[HANDLERS_MAX];
static size_t			 nhandlers;
/*
 * Beside each handler: its limit (fut_handler_set_limit(), 0: none),
 * how many of its jobs the loop pool runs, and whether the refusal of
 * the current wave is logged.  Counted whether or not a limit is set,
 * so that one set late (exec's, at its first job) sees them all.
 */
static u_int			 handler_max[HANDLERS_MAX];
static u_int			 handler_nrun[HANDLERS_MAX];
static int			 handler_told[HANDLERS_MAX];

void
handler_init(void)
{
	char	*cause;

	if (nhandlers != 0)
		return;
	if (handler_register(&handler_exec, &cause) == -1 ||
	    handler_register(&handler_sleep, &cause) == -1 ||
	    handler_register(&handler_echo, &cause) == -1 ||
	    handler_register(&handler_sha256, &cause) == -1)
		fatalx("%s: %s", __func__, cause);
}

static int	handler_add(const struct fut_handler *, int, char **);
static int	handler_index(const struct fut_handler *);

/*
 * Worker handlers let go of (handler_retire) that finished jobs still
 * name: kept, out of the registry, until no job in the table does.
 */
static const struct fut_handler	**handler_gone;
static size_t			  handler_ngone;

/* Bits of handler_scan's marks. */
#define HANDLER_NAMED		0x1	/* a job names it */
#define HANDLER_UNFINISHED	0x2	/* an unfinished one */

struct handler_scan {
	const struct fut_handler	**hs;		/* sorted */
	size_t				  n;
	uint8_t				 *marks;	/* per hs */
	uint8_t				 *gone_marks;	/* per handler_gone */
};

static int
handler_ptr_cmp(const void *a, const void *b)
{
	uintptr_t	 x = (uintptr_t)*(const struct fut_handler *const *)a;
	uintptr_t	 y = (uintptr_t)*(const struct fut_handler *const *)b;

	return (x < y ? -1 : x > y);
}

/* The index of h in v (n, sorted), or -1. */
static ssize_t
handler_ptr_find(const struct fut_handler **v, size_t n,
    const struct fut_handler *h)
{
	const struct fut_handler	**f;

	if (n == 0)
		return (-1);
	f = bsearch(&h, v, n, sizeof(*v), handler_ptr_cmp);
	return (f == NULL ? -1 : f - v);
}

static void
handler_scan_cb(struct job *j, void *arg)
{
	struct handler_scan	*sc = arg;
	ssize_t			 i;

	if (j->handler->flags & HANDLER_F_WORKER) {
		if ((i = handler_ptr_find(sc->hs, sc->n, j->handler)) == -1)
			return;
		sc->marks[i] |= HANDLER_NAMED;
		if (!JOB_FINAL(j->state))
			sc->marks[i] |= HANDLER_UNFINISHED;
	} else if ((i = handler_ptr_find(handler_gone, handler_ngone,
	    j->handler)) != -1)
		sc->gone_marks[i] = 1;
}

/* h out of the registry; its limits' counts with it. */
static void
handler_remove(int i)
{
	size_t	 n = nhandlers - (size_t)i - 1;

	memmove(&handlers[i], &handlers[i + 1], n * sizeof(*handlers));
	memmove(&handler_max[i], &handler_max[i + 1], n * sizeof(*handler_max));
	memmove(&handler_nrun[i], &handler_nrun[i + 1],
	    n * sizeof(*handler_nrun));
	memmove(&handler_told[i], &handler_told[i + 1],
	    n * sizeof(*handler_told));
	nhandlers--;
	handlers[nhandlers] = NULL;
	handler_max[nhandlers] = handler_nrun[nhandlers] = 0;
	handler_told[nhandlers] = 0;
}

/*
 * Let the worker handlers hs go, which no worker serves and no job
 * waits for (pool_worker_handler_idle), their supervised pool stopped:
 * each that no unfinished job names leaves the registry, and its
 * metrics series folds into handler="(retired)"; a submit for it is
 * then an unknown handler, unless a stopped pool serves that name
 * (supervise_handler).  The finished jobs that name one keep it, out
 * of the registry and no longer a worker's (their journal records say
 * so), until the last of them is forgotten: each call sweeps those.
 * One scan of the job table for them all: it is called when a pool
 * stops, not per job.  How many went.
 */
size_t
handler_retire(const struct fut_handler **hs, size_t n)
{
	struct handler_scan	 sc;
	const struct fut_handler *h;
	size_t			 i, k, gone = 0;
	int			 at;

	for (i = k = 0; i < n; i++) {
		if (handler_index(hs[i]) != -1 &&
		    (hs[i]->flags & HANDLER_F_WORKER))
			hs[k++] = hs[i];
	}
	n = k;
	if (n == 0)
		return (0);
	qsort(hs, n, sizeof(*hs), handler_ptr_cmp);
	memset(&sc, 0, sizeof(sc));
	sc.hs = hs;
	sc.n = n;
	sc.marks = xcalloc(n, 1);
	sc.gone_marks = xcalloc(handler_ngone + 1, 1);
	sched_foreach(handler_scan_cb, &sc);
	for (i = k = 0; i < handler_ngone; i++) {
		if (sc.gone_marks[i])
			handler_gone[k++] = handler_gone[i];
		else
			pool_worker_handler_free(handler_gone[i]);
	}
	handler_ngone = k;
	for (i = 0; i < n; i++) {
		h = hs[i];
		if ((sc.marks[i] & HANDLER_UNFINISHED) ||
		    (at = handler_index(h)) == -1)
			continue;
		log_debug("handler %s: no longer served, forgotten", h->name);
		handler_remove(at);
		metrics_handler_forget(h);
		pool_worker_handler_unlist(h);
		gone++;
		if (!(sc.marks[i] & HANDLER_NAMED)) {
			pool_worker_handler_free(h);
			continue;
		}
		handler_gone = xreallocarray(handler_gone, handler_ngone + 1,
		    sizeof(*handler_gone));
		handler_gone[handler_ngone++] = h;
	}
	if (handler_ngone > 1)
		qsort(handler_gone, handler_ngone, sizeof(*handler_gone),
		    handler_ptr_cmp);
	free(sc.marks);
	free(sc.gone_marks);
	return (gone);
}

int
handler_register(const struct fut_handler *h, char **cause)
{
	return (handler_add(h, 0, cause));
}

/* pool_worker.c: a name workers serve; the daemon has no entry point. */
int
handler_register_worker(const struct fut_handler *h, char **cause)
{
	return (handler_add(h, 1, cause));
}

static int
handler_add(const struct fut_handler *h, int worker, char **cause)
{
	if (h->abi != FUT_HANDLER_ABI) {
		xasprintf(cause, "handler %s: ABI %d, expected %d",
		    h->name != NULL ? h->name : "?", h->abi, FUT_HANDLER_ABI);
		return (-1);
	}
	if (h->name == NULL || *h->name == '\0') {
		xasprintf(cause, "handler without a name");
		return (-1);
	}
	if (handler_find(h->name) != NULL) {
		xasprintf(cause, "handler %s registered twice", h->name);
		return (-1);
	}
	if ((h->kinds & (FUT_HK_ASYNC | FUT_HK_BLOCKING | FUT_HK_CPU)) == 0 ||
	    (h->kinds & h->default_kind) == 0) {
		xasprintf(cause, "handler %s: bad kinds", h->name);
		return (-1);
	}
	if (((h->flags & HANDLER_F_WORKER) != 0) != worker) {
		xasprintf(cause, "handler %s: bad flags", h->name);
		return (-1);
	}
	if (worker)
		goto add;
	if (((h->kinds & FUT_HK_ASYNC) || (h->flags & FUT_HF_LOOP)) &&
	    h->start == NULL) {
		xasprintf(cause, "handler %s: loop handler without start",
		    h->name);
		return (-1);
	}
	if (!(h->flags & FUT_HF_LOOP) &&
	    (h->kinds & (FUT_HK_BLOCKING | FUT_HK_CPU)) && h->run == NULL) {
		xasprintf(cause, "handler %s: no run entry point", h->name);
		return (-1);
	}
add:
	if (nhandlers == HANDLERS_MAX) {
		xasprintf(cause, "too many handlers (%d)", HANDLERS_MAX);
		return (-1);
	}
	handlers[nhandlers++] = h;
	return (0);
}

/* h's place in the registry; -1 if it is not registered (tests). */
static int
handler_index(const struct fut_handler *h)
{
	size_t	 i;

	for (i = 0; i < nhandlers; i++) {
		if (handlers[i] == h)
			return ((int)i);
	}
	return (-1);
}

/* pool_loop.c: may one more job of h start, as far as h's limit goes? */
int
handler_may_start(const struct fut_handler *h)
{
	int	 i;

	if ((i = handler_index(h)) == -1 || handler_max[i] == 0 ||
	    handler_nrun[i] < handler_max[i])
		return (1);
	if (!handler_told[i]) {
		handler_told[i] = 1;
		log_info("%s: at most %u at once, as its handler asks: the "
		    "others stay queued", h->name, handler_max[i]);
	}
	return (0);
}

void
handler_job_started(const struct fut_handler *h)
{
	int	 i;

	if ((i = handler_index(h)) != -1)
		handler_nrun[i]++;
}

void
handler_job_ended(const struct fut_handler *h)
{
	int	 i;

	if ((i = handler_index(h)) == -1)
		return;
	if (handler_nrun[i] == 0)
		fatalx("%s: %s: count underflow", __func__, h->name);
	if (--handler_nrun[i] == 0)
		handler_told[i] = 0;
}

void
fut_handler_set_limit(const struct fut_handler *h, unsigned int n)
{
	int	 i;

	if ((i = handler_index(h)) == -1)
		return;
	if (n == 0 || n > handler_max[i])
		sched_kick();	/* room for queued jobs, maybe */
	handler_max[i] = n;
}

static void	handler_ctx_init(struct fut_handler_ctx *, struct job *);
static int	handler_ask(struct job *, int (*)(struct fut_handler_ctx *),
		    char **);

/*
 * Whether a --system daemon refuses job j of a user other than root:
 * 1 with *cause set, or 0.  The handler says (FUT_HF_SYSTEM_SAFE and its
 * system_check()), never a list of names.
 */
int
handler_system_refuse(struct job *j, char **cause)
{
	const struct fut_handler	*h = j->handler;

	if (!(h->flags & FUT_HF_SYSTEM_SAFE)) {
		xasprintf(cause, "handler \"%s\" runs inside the system "
		    "daemon, as root: only root may submit it", h->name);
		return (1);
	}
	if (h->system_check == NULL)
		return (0);
	return (handler_ask(j, h->system_check, cause) == -1);
}

/*
 * Whether job j's handler refuses its spec at submit (its check()): -1
 * with *cause set, or 0.
 */
int
handler_check(struct job *j, char **cause)
{
	const struct fut_handler	*h = j->handler;

	if (h->check == NULL)
		return (0);
	return (handler_ask(j, h->check, cause));
}

const struct fut_handler *
handler_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nhandlers; i++) {
		if (strcmp(handlers[i]->name, name) == 0)
			return (handlers[i]);
	}
	return (NULL);
}

void
handler_foreach(void (*cb)(const struct fut_handler *, void *), void *arg)
{
	size_t	 i;

	for (i = 0; i < nhandlers; i++)
		cb(handlers[i], arg);
}

static unsigned int
handler_kind_bit(enum job_kind k)
{
	switch (k) {
	case JOB_ASYNC:
		return (FUT_HK_ASYNC);
	case JOB_BLOCKING:
		return (FUT_HK_BLOCKING);
	case JOB_CPU:
		return (FUT_HK_CPU);
	}
	return (0);
}

int
handler_kind_ok(const struct fut_handler *h, enum job_kind k)
{
	return ((h->kinds & handler_kind_bit(k)) != 0);
}

/*
 * May h run in a process of its own, away from the daemon's loop (a
 * one-shot, oneshot.c)?  It needs a run(), or a start() that a loop of
 * that process can drive, and none of the loop's own services.
 */
int
handler_standalone(const struct fut_handler *h)
{
	return (!(h->flags & FUT_HF_LOOP) && (h->run != NULL ||
	    h->start != NULL));
}

enum job_kind
handler_default_kind(const struct fut_handler *h)
{
	if (h->default_kind & FUT_HK_CPU)
		return (JOB_CPU);
	if (h->default_kind & FUT_HK_BLOCKING)
		return (JOB_BLOCKING);
	return (JOB_ASYNC);
}

/* Fill ctx, borrowing the job's spec: the job must outlive it. */
static void
handler_ctx_init(struct fut_handler_ctx *ctx, struct job *j)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->job_id = j->id;
	ctx->handler = j->handler;
	ctx->kind = j->kind;
	ctx->payload = j->payload;
	ctx->payload_len = j->payload_len;
	ctx->args = j->spec->args;
	ctx->nargs = j->spec->nargs;
	ctx->ctx = j->spec->ctx;
	ctx->nctx = j->spec->nctx;
	ctx->timeout_ms = j->spec->timeout_ms;
	ctx->cwd = j->spec->cwd;
	ctx->envp = j->spec->envp;
	ctx->owner = j->owner;
	ctx->output.max = settings.max_output;
	ctx->errtail.max = settings.stderr_tail;
	ctx->exit_status = -1;
	ctx->grace_ms = settings.grace_ms;
}

/* A context borrowing the job's spec; the job must outlive it. */
struct fut_handler_ctx *
handler_ctx_new(struct job *j)
{
	struct fut_handler_ctx	*ctx;

	ctx = xmalloc(sizeof(*ctx));
	handler_ctx_init(ctx, j);
	return (ctx);
}

/*
 * Ask a submit-time hook of j's handler (check, system_check) with a
 * context on the stack: every submit asks, and a context of the heap
 * was a quarter of a plain job's allocations.  -1 with *cause if the
 * hook refused.
 */
static int
handler_ask(struct job *j, int (*hook)(struct fut_handler_ctx *),
    char **cause)
{
	struct fut_handler_ctx	 ctx;
	int			 rv = 0;

	handler_ctx_init(&ctx, j);
	if (hook(&ctx) == -1) {
		xasprintf(cause, "%s", ctx.error != NULL ? ctx.error :
		    "refused by its handler");
		rv = -1;
	}
	buf_reset(&ctx.output);
	buf_reset(&ctx.errtail);
	free(ctx.error);
	return (rv);
}

void
handler_ctx_free(struct fut_handler_ctx *ctx)
{
	if (ctx == NULL)
		return;
	buf_reset(&ctx->output);
	buf_reset(&ctx->errtail);
	cgroup_job_free(ctx->cgroup);
	free(ctx->error);
	free(ctx);
}

uint64_t
fut_handler_job_id(struct fut_handler_ctx *ctx)
{
	return (ctx->job_id);
}

const void *
fut_handler_payload(struct fut_handler_ctx *ctx, size_t *len)
{
	if (len != NULL)
		*len = ctx->payload_len;
	return (ctx->payload != NULL ? (const void *)ctx->payload : "");
}

size_t
fut_handler_nargs(struct fut_handler_ctx *ctx)
{
	return (ctx->nargs);
}

const char *
fut_handler_arg(struct fut_handler_ctx *ctx, size_t i)
{
	if (i >= ctx->nargs)
		return (NULL);
	return (ctx->args[i]);
}

const char *
fut_handler_ctx_get(struct fut_handler_ctx *ctx, const char *key)
{
	size_t	 i;

	for (i = 0; i < ctx->nctx; i++) {
		if (strcmp(ctx->ctx[i].key, key) == 0)
			return (ctx->ctx[i].value);
	}
	return (NULL);
}

/*
 * main.c puts it in the environment, which workers inherit; on the loop
 * the daemon's own setting, which socket activation may have changed.
 */
const char *
fut_handler_socket(struct fut_handler_ctx *ctx)
{
	if (ctx->job != NULL && settings.socket_path != NULL)
		return (settings.socket_path);
	return (getenv("FUTURED_SOCKET"));
}

int64_t
fut_handler_timeout_ms(struct fut_handler_ctx *ctx)
{
	return (ctx->timeout_ms);
}

/* The pool may hand output on as it comes (ctx->append), see pool.h. */
int
fut_handler_output(struct fut_handler_ctx *ctx, const void *p, size_t len)
{
	if (ctx->append != NULL)
		return (ctx->append(ctx, p, len));
	return (buf_append(&ctx->output, p, len));
}

void
fut_handler_fail(struct fut_handler_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	free(ctx->error);
	ctx->error = s;
}

/*
 * Progress goes where the pool that runs the job says: into the job on
 * the loop, to the loop from a thread, up the socket from a worker
 * process.
 */
void
fut_handler_progress(struct fut_handler_ctx *ctx, double fraction,
    const char *msg)
{
	if (!(fraction >= 0))		/* NaN too */
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	if (ctx->progress != NULL)
		ctx->progress(ctx, fraction, msg);
}

/* The loop's own progress: straight into the job. */
void
handler_progress_loop(struct fut_handler_ctx *ctx, double fraction,
    const char *msg)
{
	struct job	*j = ctx->job;

	if (j == NULL)
		return;
	job_more(j)->progress = fraction;
	if (msg != NULL) {
		free(j->more->progress_msg);
		job_more(j)->progress_msg = xstrdup(msg);
	}
	job_news(j);
}

int
fut_handler_cancelled(struct fut_handler_ctx *ctx)
{
	return (atomic_load_explicit(&ctx->cancelled, memory_order_relaxed));
}

struct event_base *
fut_handler_base(struct fut_handler_ctx *ctx)
{
	return (ctx->base);
}

void
fut_handler_done(struct fut_handler_ctx *ctx, int status)
{
	if (ctx->done != NULL)
		ctx->done(ctx, status);
}

void
fut_handler_set_data(struct fut_handler_ctx *ctx, void *data)
{
	ctx->hdata = data;
}

void *
fut_handler_data(struct fut_handler_ctx *ctx)
{
	return (ctx->hdata);
}

const char *
fut_handler_cwd(struct fut_handler_ctx *ctx)
{
	return (ctx->cwd);
}

char *const *
fut_handler_env(struct fut_handler_ctx *ctx)
{
	return (ctx->envp);
}

const char *
fut_handler_ctx_entry(struct fut_handler_ctx *ctx, size_t i,
    const char **key)
{
	if (i >= ctx->nctx)
		return (NULL);
	if (key != NULL)
		*key = ctx->ctx[i].key;
	return (ctx->ctx[i].value);
}

uid_t
fut_handler_owner(struct fut_handler_ctx *ctx)
{
	return (ctx->owner);
}

/* Someone else's job in a --system daemon: run it as them. */
const char *
fut_handler_exec_as(struct fut_handler_ctx *ctx)
{
	if (!settings.system || ctx->owner == geteuid() ||
	    settings.self_exe == NULL)
		return (NULL);
	return (settings.self_exe);
}

/* The job's cgroup is made at the first call. */
const char *
fut_handler_exec_in(struct fut_handler_ctx *ctx, const char **dir)
{
	if (ctx->job == NULL || settings.self_exe == NULL ||
	    cgroup_dir() == NULL)
		return (NULL);
	if (ctx->cgroup == NULL &&
	    (ctx->cgroup = cgroup_job_new(ctx->job_id)) == NULL)
		return (NULL);
	if (dir != NULL)
		*dir = ctx->cgroup;
	return (settings.self_exe);
}

int
fut_handler_kill_all(struct fut_handler_ctx *ctx)
{
	if (ctx->cgroup == NULL)
		return (-1);
	return (cgroup_job_kill(ctx->cgroup));
}

int64_t
fut_handler_grace_ms(struct fut_handler_ctx *ctx)
{
	return (ctx->grace_ms);
}

/*
 * The job keeps the pointer (and the journal records the text), so a
 * handler's string is interned: a few distinct ones, kept for good.
 */
#define HANDLER_ENDED_MAX	64
static char	*handler_ended[HANDLER_ENDED_MAX];

static const char *
handler_ended_intern(const char *how)
{
	size_t	 i;

	for (i = 0; i < HANDLER_ENDED_MAX && handler_ended[i] != NULL; i++) {
		if (strcmp(handler_ended[i], how) == 0)
			return (handler_ended[i]);
	}
	if (i == HANDLER_ENDED_MAX)
		return ("ended");
	handler_ended[i] = xstrdup(how);
	return (handler_ended[i]);
}

void
fut_handler_set_ended(struct fut_handler_ctx *ctx, const char *how)
{
	if (ctx->job == NULL || how == NULL || ctx->job->more->ended != NULL)
		return;
	job_set_ended(ctx->job, handler_ended_intern(how));
}

void
fut_handler_set_exit(struct fut_handler_ctx *ctx, int status, int sig)
{
	ctx->exit_status = status;
	ctx->term_signal = sig;
}

void
fut_handler_stderr(struct fut_handler_ctx *ctx, const void *p, size_t len)
{
	if (ctx->append_err != NULL)
		ctx->append_err(ctx, p, len);
	else
		buf_append_tail(&ctx->errtail, p, len);
}

void
fut_handler_watch_child(struct fut_handler_ctx *ctx, pid_t pid,
    fut_handler_child_cb cb, void *arg)
{
	int	 expecting = ctx->child_expecting;

	ctx->child_expecting = 0;
	/* cb may end the job, and free ctx, before this returns. */
	child_watch(pid, cb, arg);
	if (expecting)
		child_expect_done();
}

void
fut_handler_set_process(struct fut_handler_ctx *ctx, pid_t pid)
{
	struct job_more	*m;
	uint64_t	 start;

	if (ctx->job == NULL || pid <= 0 || child_start_time(pid, &start) == -1)
		return;
	m = job_more(ctx->job);
	m->proc_pid = pid;
	m->proc_attempt = m->attempts;
	m->proc_start = start;
	journal_process(ctx->job);
}

void
fut_handler_expect_child(struct fut_handler_ctx *ctx)
{
	if (ctx->child_expecting)
		return;
	ctx->child_expecting = 1;
	child_expect();
}

void
fut_handler_expect_child_done(struct fut_handler_ctx *ctx)
{
	if (!ctx->child_expecting)
		return;
	ctx->child_expecting = 0;
	child_expect_done();
}

void
fut_handler_log(struct fut_handler_ctx *ctx, int level, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[1024];

	if (level > log_getlevel())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	switch (level) {
	case FUT_LOG_WARN:
		log_warnx("job %llu: %s", (unsigned long long)ctx->job_id, msg);
		break;
	case FUT_LOG_INFO:
		log_info("job %llu: %s", (unsigned long long)ctx->job_id, msg);
		break;
	default:
		log_debug("job %llu: %s", (unsigned long long)ctx->job_id, msg);
		break;
	}
}
