/*
 * The main of a `futured --worker` process: read a Task from the daemon,
 * run its handler's run(), write back the Outcome, and again until EOF.
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
 * handler reporting in a tight loop cannot flood the daemon.
 */

#include "config.h"		/* _GNU_SOURCE for struct ucred */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
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

/* The peer is the daemon itself; this only stops a runaway allocation. */
#define WORKER_TASK_MAX		(1U << 30)
#define WORKER_ERROR_MAX	(64 * 1024)

/* Read exactly len bytes: 1 done, 0 EOF before any byte, -1 otherwise. */
static int
worker_read_full(int fd, void *buf, size_t len)
{
	uint8_t	*p = buf;
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len) {
		n = read(fd, p + off, len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("%s: read", __func__);
			return (-1);
		}
		if (n == 0) {
			if (off == 0)
				return (0);
			log_warnx("%s: short frame", __func__);
			return (-1);
		}
		off += n;
	}
	return (1);
}

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

static int	 worker_fd = -1;
static int64_t	 worker_progress_last;

static int	 worker_send(int, const FuturedWorker__Outcome *);

static int64_t
worker_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
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
	(void)worker_send(worker_fd, &o);
}

static int
worker_send(int fd, const FuturedWorker__Outcome *o)
{
	uint8_t	*p;
	size_t	 len;
	int	 rv;

	len = futured_worker__outcome__get_packed_size(o);
	if (len > UINT32_MAX - FRAME_HDR_LEN) {
		log_warnx("%s: outcome too large", __func__);
		return (-1);
	}
	p = xmalloc(FRAME_HDR_LEN + len);
	frame_header_encode(p, (uint32_t)len);
	futured_worker__outcome__pack(o, p + FRAME_HDR_LEN);
	rv = worker_write_full(fd, p, FRAME_HDR_LEN + len);
	free(p);
	return (rv);
}

/* Run one Task and send its Outcome; -1 if the daemon cannot be told. */
static int
worker_run(int fd, const FuturedWorker__Task *t)
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
	hc.output.max = t->has_max_output ? t->max_output : DEFAULT_MAX_OUTPUT;
	hc.exit_status = -1;
	hc.progress = worker_progress_cb;
	worker_fd = fd;
	worker_progress_last = 0;

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
	if (hc.output.len > 0) {
		o.has_output = 1;
		o.output.data = hc.output.data;
		o.output.len = hc.output.len;
	}
	o.has_output_truncated = 1;
	o.output_truncated = hc.output.truncated != 0;
	if (rc != 0) {
		if (hc.error == NULL)
			hc.error = xstrdup("handler failed");
		if (strlen(hc.error) > WORKER_ERROR_MAX)
			hc.error[WORKER_ERROR_MAX] = '\0';
		o.error = hc.error;
	}
	rv = worker_send(fd, &o);

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
	struct ucred		 cr;
	socklen_t		 crlen = sizeof(cr);
	uint8_t			 hdr[FRAME_HDR_LEN], *p;
	uint64_t		 memory;
	uint32_t		 len;
	int			 rv;

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
	/* Last: loading the plugins is not the handlers' allocation. */
	if (memory > 0)
		worker_limit(memory);

	for (;;) {
		if ((rv = worker_read_full(fd, hdr, sizeof(hdr))) <= 0)
			return (rv == 0 ? 0 : 1);
		if (frame_header_decode(hdr, WORKER_TASK_MAX, &len) == -1) {
			log_warnx("%s: task of %u bytes", __func__, len);
			return (1);
		}
		if ((p = malloc(len > 0 ? len : 1)) == NULL) {
			log_warn("%s: malloc", __func__);
			return (1);
		}
		if (worker_read_full(fd, p, len) != 1) {
			free(p);
			return (1);
		}
		t = futured_worker__task__unpack(NULL, len, p);
		free(p);
		if (t == NULL) {
			log_warnx("%s: malformed task", __func__);
			return (1);
		}
		rv = worker_run(fd, t);
		futured_worker__task__free_unpacked(t, NULL);
		if (rv == -1)
			return (1);
	}
}
