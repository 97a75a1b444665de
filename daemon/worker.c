/*
 * The main of a `futured --worker` process: read Tasks from the daemon,
 * run their handlers' run() in order, write back the Outcomes, until EOF.
 *
 * The worker is the daemon's own executable (pool_proc.c re-runs it with
 * --worker and its socket on fd 3), so both ends share worker.proto and
 * the handler registry.  A worker never decides a job's fate on its own
 * beyond the handler's return: cancel and timeout are a TERM (then KILL)
 * to its process group from the daemon, which settles the job when it
 * reaps us.  So fut_handler_cancelled() is never set here, and SIGTERM
 * keeps its default action.
 *
 * Options after --worker: --plugin PATH loads a plugin the daemon loaded
 * (by its resolved path), so that its handlers run here too; and
 * --worker-memory BYTES caps our address space (RLIMIT_AS) once we are
 * set up, so that a handler allocating without bound fails here instead
 * of eating the machine.
 *
 * fut_handler_progress() sends an Outcome{done=false}, at most one per
 * WORKER_PROGRESS_MS (and always a message change or completion), so a
 * handler reporting in a tight loop cannot flood the daemon.  Output
 * goes up as it comes too, but only from a handler that runs a while:
 * the watcher thread (below) sends what is new each tick, as an
 * Outcome{done=false} with output, and the final Outcome carries the
 * rest.  So a short job's output still leaves in one frame.  A Task
 * without an output limit (the daemon keeps whole logs) also sends each
 * WORKER_OUT_PIECE as it fills, and forgets it.
 *
 * Batches (see pool_proc.c's DESIGN).  The daemon may send several Tasks
 * and Cancels at once.  Before starting each Task the worker reads all
 * that is readable without blocking; a Cancel for a Task not started yet
 * drops it and answers Outcome{skipped} (a Cancel for a Task already
 * started is ignored: the daemon learns of the start from our notice and
 * cancels it as a running job).  Then one write carries the previous
 * Task's Outcome and this Task's Outcome{started}.  An Outcome never
 * waits for a later job to finish: it leaves with the next start, or at
 * once when nothing else is queued.
 *
 * While a handler runs, a watcher thread does that reading instead, but
 * only once the same handler has run a whole WORKER_WATCH_MS tick: so a
 * Cancel for a Task queued behind a long job is answered within a tick
 * or two, while short jobs never wait for (or wake) a second thread.  It
 * parks after WORKER_PARK_TICKS idle ticks and is woken at the next
 * start.  One lock, worker_lock, covers worker_in (except the main
 * thread's blocking read when no handler runs, when the watcher does not
 * read), worker_tasks, worker_out, every write to the socket, the
 * running handler's output and the watcher's state; the handler runs
 * without it.
 */

#include "config.h"		/* _GNU_SOURCE for struct ucred */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "futured.h"
#include "frame.h"
#include "log.h"
#include "xmalloc.h"
#include "worker.pb-c.h"

#define WORKER_TASK_MAX		(1U << 30)
#define WORKER_ERROR_MAX	(64 * 1024)
/*
 * A Task with max_output 0 (the daemon keeps whole logs) sends its output
 * in pieces of at most this much as it comes, and keeps none of it.
 */
#define WORKER_OUT_PIECE	(256 * 1024)

static int
worker_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("%s: send", __func__);
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

#define WORKER_PROGRESS_MS	50
#define WORKER_READ_MIN		(64 * 1024)
#define WORKER_WATCH_STACK	(256 * 1024)
#define WORKER_WATCH_MS		5
#define WORKER_PARK_TICKS	20

/* A Task read but not started yet. */
struct worker_task {
	FuturedWorker__Task		*t;
	TAILQ_ENTRY(worker_task)	 entry;
};
static TAILQ_HEAD(, worker_task) worker_tasks =
    TAILQ_HEAD_INITIALIZER(worker_tasks);

static int	 worker_fd = -1;
static int64_t	 worker_progress_last;
/* Read, not yet decoded; the limit only stops a runaway allocation. */
static struct frame_reader worker_in = { .max = WORKER_TASK_MAX };
static struct buf worker_out;		/* frames not yet written */
static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_wake;	/* the watcher's: monotonic */
static int	 worker_running;	/* a handler runs */
static uint64_t	 worker_runseq;		/* handlers started */
static int	 worker_parked;		/* the watcher waits for a start */
static int	 worker_drained;	/* the last read took all there was */
static struct fut_handler_ctx *worker_cur;	/* the running handler's */
static size_t	 worker_out_sent;	/* of its output, sent already */

static int64_t
worker_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Queue one Outcome frame for the next worker_flush(). */
static int
worker_queue(const FuturedWorker__Outcome *o)
{
	size_t	 len, off;

	len = futured_worker__outcome__get_packed_size(o);
	if (len > UINT32_MAX - FRAME_HDR_LEN) {
		log_warnx("%s: outcome too large", __func__);
		return (-1);
	}
	off = worker_out.len;
	if (buf_reserve(&worker_out, FRAME_HDR_LEN + len) == -1)
		fatal("%s: buf_reserve", __func__);
	frame_header_encode(worker_out.data + off, (uint32_t)len);
	futured_worker__outcome__pack(o, worker_out.data + off +
	    FRAME_HDR_LEN);
	worker_out.len = off + FRAME_HDR_LEN + len;
	return (0);
}

/* Write every queued frame in one go; -1 if the daemon is gone. */
static int
worker_flush(void)
{
	int	 rv;

	if (worker_out.len == 0)
		return (0);
	rv = worker_write_full(worker_fd, worker_out.data, worker_out.len);
	worker_out.len = 0;
	return (rv);
}

/* A short notice about one Task: started or skipped. */
static int
worker_notice(uint64_t id, int started)
{
	FuturedWorker__Outcome	 o = FUTURED_WORKER__OUTCOME__INIT;

	o.job_id = id;
	o.has_done = 1;
	o.done = 0;
	if (started) {
		o.has_started = 1;
		o.started = 1;
	} else {
		o.has_skipped = 1;
		o.skipped = 1;
	}
	return (worker_queue(&o));
}

static void
worker_progress_cb(struct fut_handler_ctx *ctx, double fraction,
    const char *msg)
{
	FuturedWorker__Outcome	 o = FUTURED_WORKER__OUTCOME__INIT;
	int64_t			 now = worker_mono_ms();

	if (msg == NULL && fraction < 1 &&
	    now - worker_progress_last < WORKER_PROGRESS_MS)
		return;
	worker_progress_last = now;
	o.job_id = ctx->job_id;
	o.has_done = 1;
	o.done = 0;
	o.has_progress = 1;
	o.progress = fraction;
	o.progress_msg = (char *)msg;
	pthread_mutex_lock(&worker_lock);
	if (worker_queue(&o) == 0)
		(void)worker_flush();
	pthread_mutex_unlock(&worker_lock);
}

static void	worker_output_send(void);

/*
 * The handler's output; the watcher may be reading it.  Without a limit
 * (max 0: the daemon keeps whole logs) it leaves in pieces as it comes,
 * so that the worker holds at most a piece of it, and no frame is over
 * the daemon's limit for an Outcome (--max-output and 1 MiB).
 */
static int
worker_append_cb(struct fut_handler_ctx *ctx, const void *p, size_t len)
{
	const uint8_t	*b = p;
	size_t		 n;
	int		 rv = 0;

	pthread_mutex_lock(&worker_lock);
	if (ctx->output.max != 0) {
		rv = buf_append(&ctx->output, p, len);
		pthread_mutex_unlock(&worker_lock);
		return (rv);
	}
	while (len > 0 && rv == 0) {
		n = WORKER_OUT_PIECE - (ctx->output.len - worker_out_sent);
		if (n > len)
			n = len;
		if ((rv = buf_append(&ctx->output, b, n)) == -1)
			break;
		b += n;
		len -= n;
		if (ctx->output.len - worker_out_sent < WORKER_OUT_PIECE)
			break;
		worker_output_send();
		/* Sent, so ours no more: the daemon has it. */
		ctx->output.len = 0;
		worker_out_sent = 0;
	}
	pthread_mutex_unlock(&worker_lock);
	return (rv);
}

/*
 * The running handler's output not sent yet, into o (borrowed: send
 * before it changes); 0 if there is none.  Lock held.
 */
static int
worker_output_new(FuturedWorker__Outcome *o)
{
	struct fut_handler_ctx	*ctx = worker_cur;

	if (ctx == NULL || ctx->output.len <= worker_out_sent)
		return (0);
	o->has_output = 1;
	o->output.data = ctx->output.data + worker_out_sent;
	o->output.len = ctx->output.len - worker_out_sent;
	worker_out_sent = ctx->output.len;
	return (1);
}

/* The watcher: send the output a long handler wrote since last time. */
static void
worker_output_send(void)
{
	FuturedWorker__Outcome	 o = FUTURED_WORKER__OUTCOME__INIT;

	if (worker_cur == NULL)
		return;
	o.job_id = worker_cur->job_id;
	o.has_done = 1;
	o.done = 0;
	if (!worker_output_new(&o))
		return;
	if (worker_cur->output.truncated) {
		o.has_output_truncated = 1;
		o.output_truncated = 1;
	}
	if (worker_queue(&o) == 0)
		(void)worker_flush();
}

/*
 * A Cancel: drop that Task if it has not started, and say so at once.
 * worker_lock held.
 */
static int
worker_cancel(uint64_t id)
{
	struct worker_task	*wt;

	TAILQ_FOREACH(wt, &worker_tasks, entry) {
		if (wt->t->job_id == id)
			break;
	}
	/* Started or done already: the daemon learns it from our notices. */
	if (wt == NULL)
		return (0);
	TAILQ_REMOVE(&worker_tasks, wt, entry);
	futured_worker__task__free_unpacked(wt->t, NULL);
	free(wt);
	if (worker_notice(id, 0) == -1)
		return (-1);
	return (worker_flush());
}

/* Decode every whole frame read so far; -1 on a bad one.  Lock held. */
static int
worker_parse(void)
{
	FuturedWorker__Input	*in;
	struct worker_task	*wt;
	const uint8_t		*msg;
	uint32_t		 len;
	int			 rc, rv = 0;

	while ((rc = frame_reader_next(&worker_in, &msg, &len)) == 1) {
		in = futured_worker__input__unpack(NULL, len, msg);
		if (in == NULL) {
			log_warnx("%s: malformed input", __func__);
			return (-1);
		}
		switch (in->body_case) {
		case FUTURED_WORKER__INPUT__BODY_TASK:
			wt = xcalloc(1, sizeof(*wt));
			wt->t = in->task;
			in->task = NULL;	/* now ours */
			in->body_case = FUTURED_WORKER__INPUT__BODY__NOT_SET;
			TAILQ_INSERT_TAIL(&worker_tasks, wt, entry);
			break;
		case FUTURED_WORKER__INPUT__BODY_CANCEL:
			rv = worker_cancel(in->cancel);
			break;
		default:
			log_warnx("%s: empty input", __func__);
			rv = -1;
			break;
		}
		futured_worker__input__free_unpacked(in, NULL);
		if (rv == -1)
			return (-1);
	}
	if (rc == -1) {
		log_warnx("%s: input of %u bytes", __func__, len);
		return (-1);
	}
	frame_reader_compact(&worker_in);
	return (0);
}

/*
 * Read what the daemon sent: block until something comes (no handler
 * runs, so the watcher does not read), or (!block) only what is there,
 * with the lock held.  1 read (or nothing there), 0 EOF, -1 error.
 */
static int
worker_fill(int block)
{
	uint8_t	*p;
	size_t	 room;
	ssize_t	 n;
	int	 rv = 1;

	if ((p = frame_reader_space(&worker_in, WORKER_READ_MIN,
	    &room)) == NULL)
		fatal("%s: frame_reader_space", __func__);
	for (;;) {
		n = recv(worker_fd, p, room, block ? 0 : MSG_DONTWAIT);
		if (n != -1 || errno != EINTR)
			break;
	}
	if (block)
		pthread_mutex_lock(&worker_lock);
	if (n == -1) {
		if (block || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			log_warn("%s: recv", __func__);
			rv = -1;
		}
	} else if (n == 0) {
		/* EOF stays: the main thread sees it again, blocking. */
		if (block && frame_reader_pending(&worker_in) > 0) {
			log_warnx("%s: short frame", __func__);
			rv = -1;
		} else if (block)
			rv = 0;
	} else {
		frame_reader_commit(&worker_in, (size_t)n);
		worker_drained = (size_t)n < room;
		if (worker_parse() == -1)
			rv = -1;
		/* A full read may have more behind it. */
		else if (!block && !worker_drained)
			rv = worker_fill(0);
	}
	if (block)
		pthread_mutex_unlock(&worker_lock);
	return (rv);
}

/*
 * The watcher thread: while one handler runs for a whole tick, read and
 * answer what comes (Cancels of queued Tasks above all).  An error is
 * left for the main thread to find at its next read.
 */
static void *
worker_watch(void *arg)
{
	struct timespec	 ts;
	uint64_t	 seq;
	int		 idle = 0, was;

	pthread_mutex_lock(&worker_lock);
	for (;;) {
		if (!worker_running && idle >= WORKER_PARK_TICKS) {
			worker_parked = 1;
			while (!worker_running)
				pthread_cond_wait(&worker_wake, &worker_lock);
			worker_parked = 0;
			idle = 0;
		}
		seq = worker_runseq;
		was = worker_running;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += WORKER_WATCH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&worker_wake, &worker_lock, &ts);
		if (!worker_running) {
			idle++;
			continue;
		}
		idle = 0;
		if (was && worker_runseq == seq) {
			(void)worker_fill(0);
			worker_output_send();
		}
	}
	return (NULL);
}

/* Run one Task and queue its Outcome; -1 if it cannot be packed. */
static int
worker_run(const FuturedWorker__Task *t)
{
	FuturedWorker__Outcome	  o = FUTURED_WORKER__OUTCOME__INIT;
	struct fut_handler_ctx	  hc;
	const struct fut_handler *h;
	struct kv		 *kv = NULL;
	size_t			  i;
	int			  rc, rv;

	memset(&hc, 0, sizeof(hc));
	atomic_init(&hc.cancelled, 0);
	hc.job_id = t->job_id;
	hc.kind = JOB_CPU;
	if (t->has_payload) {
		hc.payload = t->payload.data;
		hc.payload_len = t->payload.len;
	}
	hc.args = t->args;
	hc.nargs = t->n_args;
	if (t->n_ctx > 0) {
		kv = xcalloc(t->n_ctx, sizeof(*kv));
		for (i = 0; i < t->n_ctx; i++) {
			kv[i].key = t->ctx[i]->key;
			kv[i].value = t->ctx[i]->value;
		}
	}
	hc.ctx = kv;
	hc.nctx = t->n_ctx;
	hc.timeout_ms = t->has_timeout_ms ? t->timeout_ms : 0;
	hc.cwd = t->cwd;
	hc.output.max = t->has_max_output ? t->max_output : DEFAULT_MAX_OUTPUT;
	hc.exit_status = -1;
	hc.progress = worker_progress_cb;
	hc.append = worker_append_cb;
	worker_progress_last = 0;
	pthread_mutex_lock(&worker_lock);
	worker_cur = &hc;
	worker_out_sent = 0;
	pthread_mutex_unlock(&worker_lock);

	if ((h = handler_find(t->handler)) == NULL) {
		xasprintf(&hc.error, "unknown handler %s", t->handler);
		rc = -1;
	} else if (h->run == NULL || (h->flags & FUT_HF_LOOP)) {
		xasprintf(&hc.error, "handler %s cannot run in a worker",
		    t->handler);
		rc = -1;
	} else {
		hc.handler = h;
		log_debug("%s: job %llu: %s", __func__,
		    (unsigned long long)t->job_id, h->name);
		rc = h->run(&hc);
	}

	o.job_id = t->job_id;
	o.has_done = 1;
	o.done = 1;
	o.has_ok = 1;
	o.ok = (rc == 0);
	o.has_output_truncated = 1;
	o.output_truncated = hc.output.truncated != 0;
	if (rc != 0) {
		if (hc.error == NULL)
			hc.error = xstrdup("handler failed");
		if (strlen(hc.error) > WORKER_ERROR_MAX)
			hc.error[WORKER_ERROR_MAX] = '\0';
		o.error = hc.error;
	}
	pthread_mutex_lock(&worker_lock);
	worker_running = 0;
	/* What the watcher has not sent of the output. */
	(void)worker_output_new(&o);
	worker_cur = NULL;
	rv = worker_queue(&o);
	pthread_mutex_unlock(&worker_lock);

	buf_reset(&hc.output);
	buf_reset(&hc.errtail);
	free(hc.error);
	free(kv);
	return (rv);
}

/* Cap our address space at bytes, warning if we are past it already. */
static void
worker_limit(uint64_t bytes)
{
	struct rlimit	 rl;
	FILE		*f;
	unsigned long	 pages;

	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		/* Sanitizers reserve terabytes: every allocation would fail. */
		if (fscanf(f, "%lu", &pages) == 1 &&
		    (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE) >= bytes)
			log_warnx("%s: already using %lu pages, more than the "
			    "limit of %llu bytes", __func__, pages,
			    (unsigned long long)bytes);
		fclose(f);
	}
	rl.rlim_cur = rl.rlim_max = (rlim_t)bytes;
	if (setrlimit(RLIMIT_AS, &rl) == -1)
		log_warn("%s: setrlimit RLIMIT_AS %llu", __func__,
		    (unsigned long long)bytes);
}

/*
 * The options after --worker, which only pool_proc_spawn() writes:
 * plugins load, the memory limit is returned in *memory.  -1 on error.
 */
static int
worker_options(int argc, char **argv, uint64_t *memory)
{
	char	*cause;
	int	 i;

	*memory = 0;
	for (i = 0; i < argc; i++) {
		if (i + 1 == argc) {
			log_warnx("%s: %s without a value", __func__, argv[i]);
			return (-1);
		}
		if (strcmp(argv[i], "--plugin") == 0) {
			if (plugin_load(argv[++i], &cause) == -1) {
				log_warnx("%s", cause);
				free(cause);
				return (-1);
			}
		} else if (strcmp(argv[i], "--worker-memory") == 0) {
			if (config_size(argv[++i], memory) == -1) {
				log_warnx("%s: bad memory limit %s", __func__,
				    argv[i]);
				return (-1);
			}
		} else {
			log_warnx("%s: unknown option %s", __func__, argv[i]);
			return (-1);
		}
	}
	return (0);
}

/*
 * main() of a worker; fd is its end of the socketpair, argv the options
 * after --worker.  Returns the exit status: 0 when the daemon closed the
 * socket, 1 on any error.
 */
int
worker_main(int fd, int argc, char **argv)
{
	FuturedWorker__Task	*t;
	struct worker_task	*wt;
	struct ucred		 cr;
	socklen_t		 crlen = sizeof(cr);
	pthread_t		 watcher;
	pthread_attr_t		 ta;
	pthread_condattr_t	 ca;
	sigset_t		 all, old;
	uint64_t		 memory;
	int			 rv, error;

	log_procname("futured-worker");

	/*
	 * Never outlive the daemon.  The death signal follows the thread
	 * that spawned us (pool_proc.c runs on the loop thread, which lives
	 * as long as the daemon).  If the daemon died before prctl(), our
	 * parent is no longer the socketpair's creator: leave now.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		log_warn("%s: prctl", __func__);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == -1) {
		log_warn("%s: fd %d is not futured's socket", __func__, fd);
		return (1);
	}
	if (cr.pid != getppid())
		return (1);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	/* What a handler starts must not hold the daemon's socket open. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		log_warn("%s: fcntl", __func__);

	handler_init();
	if (worker_options(argc, argv, &memory) == -1)
		return (1);
	worker_fd = fd;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&worker_wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, WORKER_WATCH_STACK);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	/*
	 * The watcher takes no signal: a TERM for the process must reach
	 * the handler's thread, which may block it (sigprocmask) and be
	 * KILLed after the grace, as in a single-threaded worker.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&watcher, &ta, worker_watch, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&ta);
	if (error != 0) {
		log_warnx("%s: pthread_create: %s", __func__, strerror(error));
		return (1);
	}
	/* Last: loading the plugins is not the handlers' allocation. */
	if (memory > 0)
		worker_limit(memory);

	for (;;) {
		pthread_mutex_lock(&worker_lock);
		/* Nothing to run: tell the daemon all, then wait for it. */
		if (TAILQ_EMPTY(&worker_tasks)) {
			rv = worker_flush();
			pthread_mutex_unlock(&worker_lock);
			if (rv == -1)
				return (1);
			if ((rv = worker_fill(1)) <= 0)
				return (rv == 0 ? 0 : 1);
			continue;
		}
		/*
		 * A Cancel that came in time drops its Task unstarted.  Right
		 * after a read that took all there was, nothing can be new.
		 */
		if (!worker_drained && worker_fill(0) == -1) {
			pthread_mutex_unlock(&worker_lock);
			return (1);
		}
		if ((wt = TAILQ_FIRST(&worker_tasks)) == NULL) {
			pthread_mutex_unlock(&worker_lock);
			continue;
		}
		TAILQ_REMOVE(&worker_tasks, wt, entry);
		t = wt->t;
		free(wt);
		worker_drained = 0;
		rv = 0;
		if (!t->running)
			rv = worker_notice(t->job_id, 1);
		if (rv == 0)
			rv = worker_flush();
		worker_running = 1;
		worker_runseq++;
		if (worker_parked)
			pthread_cond_signal(&worker_wake);
		pthread_mutex_unlock(&worker_lock);
		if (rv == 0)
			rv = worker_run(t);
		futured_worker__task__free_unpacked(t, NULL);
		if (rv == -1)
			return (1);
	}
}
