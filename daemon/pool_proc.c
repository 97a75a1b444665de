/*
 * The cpu pool: P pre-spawned worker processes, each running one job at
 * a time.  This file owns the worker -> job map and every worker's life:
 * spawn, Task out, Outcome in, cancel, reap and respawn.
 *
 * DESIGN.  A worker is the daemon's own executable re-run with --worker
 * (posix_spawn, never fork: the daemon has threads).  It talks over a
 * socketpair whose far end is its fd 3, with the frames of worker.proto.
 * Each worker leads its own process group, so a cancel (TERM, then KILL
 * after the grace) also reaches whatever the handler started.
 *
 * The reap (child.c calling pool_proc_child_cb after waitpid) is the one
 * source of truth for a worker's end: EOF on the socket only stops
 * reading, and arms a KILL in case the process lingers without its
 * socket.  Before settling, the reap drains the socket, so an Outcome
 * written just before a crash still counts.  A job being cancelled
 * ignores late Outcomes and is settled by the reap.
 *
 * Slots: sched.c takes a cpu slot before pool_proc_start(); the slot is
 * given back (sched_slot_release) only when a worker is ready for the
 * next job: at once after a normal Outcome, or after the replacement of
 * a dead worker is spawned, possibly after a back-off.  So the scheduler
 * never hands us a job while no worker is idle.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "futured.h"
#include "frame.h"
#include "log.h"
#include "xmalloc.h"
#include "worker.pb-c.h"

extern char	**environ;

#define POOL_PROC_FD		3	/* the worker's socket */
#define POOL_PROC_QUICK_MS	100	/* dying sooner: back off */
#define POOL_PROC_BACKOFF_MIN	100
#define POOL_PROC_BACKOFF_MAX	5000
#define POOL_PROC_EOF_KILL_MS	1000	/* socket gone, process not */
#define POOL_PROC_STOP_MS	1000	/* shutdown: TERM, KILL */
#define POOL_PROC_READ_MAX	(64 * 1024)

struct pool_proc_worker {
	u_int			 idx;
	pid_t			 pid;		/* -1: none; = pgid */
	int			 fd;		/* -1: closed */
	struct event		*ev_read;
	struct event		*ev_write;
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct event		*kill_timer;	/* KILL: grace, EOF */
	struct event		*respawn_timer;
	struct job		*job;		/* referenced, or NULL */
	int			 flags;
#define PPW_SLOT		0x01	/* holds a cpu slot */
#define PPW_CANCEL		0x02	/* cancel/timeout: TERM sent */
#define PPW_KILLED		0x04	/* KILL sent */
#define PPW_EOF			0x08	/* socket closed or broken */
#define PPW_BROKEN		0x10	/* bad frame: KILL sent */
#define PPW_DEAD		0x20	/* reaped, being settled */
#define PPW_RDEOF		0x40	/* read EOF: no more input */
	int64_t			 spawned_at;	/* monotonic ms */
	int64_t			 backoff_ms;
	int64_t			 grace_ms;
};

static struct pool_proc_worker	*pool_proc_workers;
static int			 pool_proc_n;
static int			 pool_proc_stopping;

static void	pool_proc_read_cb(evutil_socket_t, short, void *);
static void	pool_proc_write_cb(evutil_socket_t, short, void *);
static void	pool_proc_kill_cb(evutil_socket_t, short, void *);
static void	pool_proc_respawn_cb(evutil_socket_t, short, void *);
static void	pool_proc_child_cb(pid_t, int, void *);

static void
pool_proc_timer_ms(struct event *ev, int64_t ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* Signal a worker's whole process group; a gone group is not an error. */
static void
pool_proc_signal(struct pool_proc_worker *w, int sig)
{
	if (w->pid <= 0)
		return;
	if (killpg(w->pid, sig) == -1 && errno != ESRCH)
		log_warn("%s: killpg %ld", __func__, (long)w->pid);
}

/* Start one worker process into w, which must have none. */
static int
pool_proc_spawn(struct pool_proc_worker *w, char **cause)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	sigset_t			 none, dflt;
	char				**argv, mem[32];
	size_t				 i, k, n;
	int				 sv[2], fd, fl, error;
	pid_t				 pid;

	if (settings.self_exe == NULL) {
		xasprintf(cause, "no executable to run workers from");
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		xasprintf(cause, "socketpair: %s", strerror(errno));
		return (-1);
	}
	/*
	 * dup2(3, 3) would leave FD_CLOEXEC set and the worker would lose
	 * its socket at exec, so keep the worker's end off fd 3.
	 */
	if (sv[1] == POOL_PROC_FD) {
		fd = fcntl(sv[1], F_DUPFD_CLOEXEC, POOL_PROC_FD + 1);
		error = errno;
		close(sv[1]);
		if (fd == -1) {
			close(sv[0]);
			xasprintf(cause, "fcntl: %s", strerror(error));
			return (-1);
		}
		sv[1] = fd;
	}
	if ((fl = fcntl(sv[0], F_GETFL)) == -1 ||
	    fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) == -1) {
		xasprintf(cause, "fcntl: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return (-1);
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], POOL_PROC_FD);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	/* Whatever the daemon holds without O_CLOEXEC stays here. */
	posix_spawn_file_actions_addclosefrom_np(&fa, POOL_PROC_FD + 1);
#endif
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGCHLD);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGHUP);
	sigaddset(&dflt, SIGQUIT);
	sigaddset(&dflt, SIGUSR1);
	sigaddset(&dflt, SIGUSR2);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &dflt);

	/* worker.c takes these: the same plugins, the memory limit. */
	n = plugin_count();
	argv = xcalloc(2 * n + 5, sizeof(*argv));
	k = 0;
	argv[k++] = (char *)(uintptr_t)settings.self_exe;
	argv[k++] = "--worker";
	if (settings.worker_memory > 0) {
		snprintf(mem, sizeof(mem), "%llu",
		    (unsigned long long)settings.worker_memory);
		argv[k++] = "--worker-memory";
		argv[k++] = mem;
	}
	for (i = 0; i < n; i++) {
		argv[k++] = "--plugin";
		argv[k++] = (char *)(uintptr_t)plugin_path(i);
	}
	argv[k] = NULL;
	error = posix_spawn(&pid, settings.self_exe, &fa, &sa, argv, environ);
	free(argv);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(sv[1]);
	if (error != 0) {
		close(sv[0]);
		xasprintf(cause, "posix_spawn %s: %s", settings.self_exe,
		    strerror(error));
		return (-1);
	}

	w->pid = pid;
	w->fd = sv[0];
	w->flags &= PPW_SLOT;
	w->spawned_at = job_mono_ms();
	w->ev_read = event_new(base, w->fd, EV_READ | EV_PERSIST,
	    pool_proc_read_cb, w);
	w->ev_write = event_new(base, w->fd, EV_WRITE | EV_PERSIST,
	    pool_proc_write_cb, w);
	if (w->ev_read == NULL || w->ev_write == NULL)
		fatalx("%s: event_new", __func__);
	event_add(w->ev_read, NULL);
	child_watch(pid, pool_proc_child_cb, w);
	log_debug("%s: worker %u is pid %ld", __func__, w->idx, (long)pid);
	return (0);
}

/* Stop talking to a worker: events gone, fd closed, buffers emptied. */
static void
pool_proc_close(struct pool_proc_worker *w)
{
	if (w->ev_read != NULL) {
		event_free(w->ev_read);
		w->ev_read = NULL;
	}
	if (w->ev_write != NULL) {
		event_free(w->ev_write);
		w->ev_write = NULL;
	}
	if (w->fd != -1) {
		close(w->fd);
		w->fd = -1;
	}
	evbuffer_drain(w->in, evbuffer_get_length(w->in));
	evbuffer_drain(w->out, evbuffer_get_length(w->out));
}

/* The socket is gone while the process may live on: give it a second. */
static void
pool_proc_eof(struct pool_proc_worker *w)
{
	if (w->flags & PPW_EOF)
		return;
	w->flags |= PPW_EOF;
	if (w->ev_read != NULL)
		event_del(w->ev_read);
	if (w->ev_write != NULL)
		event_del(w->ev_write);
	evbuffer_drain(w->out, evbuffer_get_length(w->out));
	if (w->pid > 0 && !(w->flags & PPW_DEAD) &&
	    !evtimer_pending(w->kill_timer, NULL))
		pool_proc_timer_ms(w->kill_timer, POOL_PROC_EOF_KILL_MS);
}

/* The worker spoke out of turn: kill it; the reap fails its job. */
static void
pool_proc_broken(struct pool_proc_worker *w, const char *why)
{
	log_warnx("%s: worker %u (pid %ld): %s", __func__, w->idx,
	    (long)w->pid, why);
	w->flags |= PPW_BROKEN | PPW_KILLED;
	pool_proc_eof(w);
	evbuffer_drain(w->in, evbuffer_get_length(w->in));
	pool_proc_signal(w, SIGKILL);
}

/* A worker is ready for the next job: give its slot back. */
static void
pool_proc_ready(struct pool_proc_worker *w)
{
	if (!(w->flags & PPW_SLOT))
		return;
	if (w->pid <= 0 || w->fd == -1 ||
	    (w->flags & (PPW_EOF | PPW_BROKEN | PPW_DEAD | PPW_CANCEL)))
		return;		/* the respawn gives it back */
	w->flags &= ~PPW_SLOT;
	sched_slot_release(JOB_CPU);
	sched_kick();
}

/* One Outcome from w's worker. */
static void
pool_proc_outcome(struct pool_proc_worker *w, FuturedWorker__Outcome *o)
{
	struct job	*j = w->job;
	double		 p;

	if (j == NULL || o->job_id != j->id) {
		log_debug("%s: worker %u: stale outcome for job %llu",
		    __func__, w->idx, (unsigned long long)o->job_id);
		return;
	}
	if (w->flags & PPW_CANCEL)
		return;		/* the reap settles a cancel */

	if (!o->done) {
		if (o->has_progress) {
			p = o->progress;
			if (!(p >= 0.0))
				p = 0.0;
			if (p > 1.0)
				p = 1.0;
			j->progress = p;
		}
		if (o->progress_msg != NULL) {
			free(j->progress_msg);
			j->progress_msg = xstrdup(o->progress_msg);
		}
		return;
	}

	w->job = NULL;
	buf_reset(&j->output);
	if (o->has_output && o->output.len > 0 &&
	    buf_append(&j->output, o->output.data, o->output.len) == -1)
		fatal("%s: buf_append", __func__);
	if (o->output_truncated)
		j->output.truncated = 1;
	if (o->ok)
		job_finish(j, JOB_SUCCEEDED, FERR_NONE, NULL);
	else
		job_finish(j, JOB_FAILED, FERR_NONE, "%s",
		    o->error != NULL && *o->error != '\0' ? o->error :
		    "handler failed");
	job_unref(j);
	pool_proc_ready(w);
}

/* Decode every whole frame in w->in. */
static void
pool_proc_parse(struct pool_proc_worker *w)
{
	FuturedWorker__Outcome	*o;
	uint8_t			 hdr[FRAME_HDR_LEN], *p;
	uint32_t		 len, max;
	size_t			 avail;
	uint64_t		 lim;

	lim = (uint64_t)settings.max_output + 1024 * 1024;
	max = lim > UINT32_MAX ? UINT32_MAX : (uint32_t)lim;
	while (w->fd != -1 && !(w->flags & PPW_BROKEN)) {
		avail = evbuffer_get_length(w->in);
		if (avail < FRAME_HDR_LEN)
			return;
		evbuffer_copyout(w->in, hdr, sizeof(hdr));
		if (frame_header_decode(hdr, max, &len) == -1) {
			pool_proc_broken(w, "outcome frame too large");
			return;
		}
		if (avail - FRAME_HDR_LEN < len)
			return;
		p = evbuffer_pullup(w->in, (ssize_t)FRAME_HDR_LEN + len);
		o = futured_worker__outcome__unpack(NULL, len,
		    p + FRAME_HDR_LEN);
		evbuffer_drain(w->in, (size_t)FRAME_HDR_LEN + len);
		if (o == NULL) {
			pool_proc_broken(w, "malformed outcome");
			return;
		}
		pool_proc_outcome(w, o);
		futured_worker__outcome__free_unpacked(o, NULL);
	}
}

/*
 * Read what the worker wrote.  drain: the process is gone, read until
 * EOF or empty instead of one turn's worth.
 */
static void
pool_proc_read(struct pool_proc_worker *w, int drain)
{
	int	 n, i;

	for (i = 0; drain || i < 16; i++) {
		if (w->fd == -1 || (w->flags & (PPW_RDEOF | PPW_BROKEN)))
			break;
		n = evbuffer_read(w->in, w->fd, POOL_PROC_READ_MAX);
		if (n == 0) {
			w->flags |= PPW_RDEOF;
			pool_proc_parse(w);
			pool_proc_eof(w);
			break;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_debug("%s: worker %u: %s", __func__,
				    w->idx, strerror(errno));
				w->flags |= PPW_RDEOF;
				pool_proc_eof(w);
			}
			break;
		}
		pool_proc_parse(w);
	}
}

static void
pool_proc_read_cb(evutil_socket_t fd, short events, void *arg)
{
	pool_proc_read(arg, 0);
}

/* Send what is queued for w without ever raising SIGPIPE. */
static void
pool_proc_flush(struct pool_proc_worker *w)
{
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	while (w->fd != -1 && evbuffer_get_length(w->out) > 0) {
		if (evbuffer_peek(w->out, -1, NULL, &v, 1) < 1)
			break;
		n = send(w->fd, v.iov_base, v.iov_len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				event_add(w->ev_write, NULL);
				return;
			}
			log_debug("%s: worker %u: %s", __func__, w->idx,
			    strerror(errno));
			pool_proc_eof(w);
			return;
		}
		evbuffer_drain(w->out, (size_t)n);
	}
	if (w->ev_write != NULL)
		event_del(w->ev_write);
}

static void
pool_proc_write_cb(evutil_socket_t fd, short events, void *arg)
{
	pool_proc_flush(arg);
}

static void
pool_proc_kill_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pool_proc_worker	*w = arg;

	if (w->pid <= 0)
		return;
	if (w->job != NULL && (w->flags & PPW_CANCEL))
		log_info("job %llu: worker pid %ld still alive after %lld ms, "
		    "killing it", (unsigned long long)w->job->id,
		    (long)w->pid, (long long)w->grace_ms);
	else
		log_warnx("%s: worker %u (pid %ld) lost its socket, killing it",
		    __func__, w->idx, (long)w->pid);
	w->flags |= PPW_KILLED;
	pool_proc_signal(w, SIGKILL);
}

/* Spawn a replacement; once it runs, the slot it holds is free again. */
static void
pool_proc_respawn(struct pool_proc_worker *w)
{
	char	*cause;

	if (pool_proc_stopping || w->pid > 0)
		return;
	if (pool_proc_spawn(w, &cause) == -1) {
		log_warnx("%s: worker %u: %s", __func__, w->idx, cause);
		free(cause);
		w->backoff_ms = w->backoff_ms == 0 ? POOL_PROC_BACKOFF_MIN :
		    w->backoff_ms * 2;
		if (w->backoff_ms > POOL_PROC_BACKOFF_MAX)
			w->backoff_ms = POOL_PROC_BACKOFF_MAX;
		pool_proc_timer_ms(w->respawn_timer, w->backoff_ms);
		return;
	}
	pool_proc_ready(w);
}

static void
pool_proc_respawn_cb(evutil_socket_t fd, short events, void *arg)
{
	pool_proc_respawn(arg);
}

/* Settle the job of a worker that is gone. */
static void
pool_proc_settle(struct pool_proc_worker *w, int status)
{
	struct job	*j = w->job;
	int		 sig;

	w->job = NULL;
	if (w->flags & PPW_CANCEL) {
		/* job.c keeps the reason it was given at cancel time. */
		if (w->flags & PPW_KILLED)
			log_info("job %llu: worker killed after %lld ms grace",
			    (unsigned long long)j->id,
			    (long long)w->grace_ms);
		job_set_ended(j, (w->flags & PPW_KILLED) ?
		    "killed after the grace" : "terminated");
		job_finish(j, (j->flags & JOBF_TIMEDOUT) ? JOB_TIMED_OUT :
		    JOB_CANCELLED, FERR_NONE, "cancelled: worker %s",
		    (w->flags & PPW_KILLED) ? "killed after grace" :
		    "terminated");
	} else if (w->flags & PPW_BROKEN) {
		job_finish(j, JOB_FAILED, FERR_INTERNAL,
		    "worker sent a malformed outcome");
	} else if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		j->term_signal = sig;
		job_finish(j, JOB_FAILED, FERR_NONE,
		    "worker killed by signal %d (%s)", sig, strsignal(sig));
	} else {
		job_finish(j, JOB_FAILED, FERR_NONE,
		    "worker exited with status %d", WEXITSTATUS(status));
	}
	job_unref(j);
}

/* child.c: a worker process is gone and reaped. */
static void
pool_proc_child_cb(pid_t pid, int status, void *arg)
{
	struct pool_proc_worker	*w = arg;
	int			 cancelled, had_job;

	if (w->pid != pid || !(WIFEXITED(status) || WIFSIGNALED(status)))
		return;

	/* Whatever it wrote before dying is still in the socket. */
	w->flags |= PPW_DEAD;
	pool_proc_read(w, 1);
	pool_proc_close(w);
	evtimer_del(w->kill_timer);
	/* Nothing of its process group may outlive it. */
	pool_proc_signal(w, SIGKILL);
	w->pid = -1;

	cancelled = (w->flags & PPW_CANCEL) != 0;
	had_job = w->job != NULL;
	if (w->job != NULL) {
		if (!cancelled)
			log_warnx("%s: worker %u (pid %ld) died running job "
			    "%llu", __func__, w->idx, (long)pid,
			    (unsigned long long)w->job->id);
		pool_proc_settle(w, status);
	} else if (!pool_proc_stopping)
		log_warnx("%s: idle worker %u (pid %ld) died", __func__,
		    w->idx, (long)pid);
	w->flags &= PPW_SLOT;

	if (pool_proc_stopping)
		return;
	/*
	 * Back off only when the worker itself cannot live (a plugin that
	 * no longer loads, say): a job that crashes it is that job's fault,
	 * bounded by its attempts, and must not delay the next job.
	 */
	if (!cancelled && !had_job &&
	    job_mono_ms() - w->spawned_at < POOL_PROC_QUICK_MS) {
		w->backoff_ms = w->backoff_ms == 0 ? POOL_PROC_BACKOFF_MIN :
		    w->backoff_ms * 2;
		if (w->backoff_ms > POOL_PROC_BACKOFF_MAX)
			w->backoff_ms = POOL_PROC_BACKOFF_MAX;
		log_warnx("%s: worker %u died %lld ms after its start, "
		    "respawning in %lld ms", __func__, w->idx,
		    (long long)(job_mono_ms() - w->spawned_at),
		    (long long)w->backoff_ms);
		pool_proc_timer_ms(w->respawn_timer, w->backoff_ms);
		return;
	}
	w->backoff_ms = 0;
	pool_proc_respawn(w);
}

/* Spawn nprocs workers; -1 and *cause (caller frees) on failure. */
int
pool_proc_init(int nprocs, char **cause)
{
	struct pool_proc_worker	*w;
	int			 i;

	if (nprocs < 0)
		nprocs = 0;
	pool_proc_stopping = 0;
	pool_proc_n = nprocs;
	pool_proc_workers = xcalloc(nprocs > 0 ? nprocs : 1, sizeof(*w));
	for (i = 0; i < nprocs; i++) {
		w = &pool_proc_workers[i];
		w->idx = i;
		w->pid = -1;
		w->fd = -1;
		if ((w->in = evbuffer_new()) == NULL ||
		    (w->out = evbuffer_new()) == NULL)
			fatalx("%s: evbuffer_new", __func__);
		w->kill_timer = evtimer_new(base, pool_proc_kill_cb, w);
		w->respawn_timer = evtimer_new(base, pool_proc_respawn_cb, w);
		if (w->kill_timer == NULL || w->respawn_timer == NULL)
			fatalx("%s: evtimer_new", __func__);
	}
	for (i = 0; i < nprocs; i++) {
		if (pool_proc_spawn(&pool_proc_workers[i], cause) == -1) {
			pool_proc_shutdown();
			return (-1);
		}
	}
	log_debug("%s: %d workers", __func__, nprocs);
	return (0);
}

static struct pool_proc_worker *
pool_proc_find(struct job *j)
{
	int	 i;

	for (i = 0; i < pool_proc_n; i++) {
		if (pool_proc_workers[i].job == j)
			return (&pool_proc_workers[i]);
	}
	return (NULL);
}

static struct pool_proc_worker *
pool_proc_idle(void)
{
	struct pool_proc_worker	*w;
	int			 i;

	for (i = 0; i < pool_proc_n; i++) {
		w = &pool_proc_workers[i];
		if (w->pid > 0 && w->fd != -1 && w->job == NULL &&
		    (w->flags & (PPW_SLOT | PPW_CANCEL | PPW_EOF |
		    PPW_BROKEN | PPW_DEAD)) == 0)
			return (w);
	}
	return (NULL);
}

static void
pool_proc_free_cb(const void *data, size_t len, void *arg)
{
	free((void *)(uintptr_t)data);
}

/*
 * Run j on an idle worker.  sched.c has taken a cpu slot for it; the slot
 * comes back through sched_slot_release() when a worker is free again.
 */
void
pool_proc_start(struct job *j)
{
	FuturedWorker__Task	  t = FUTURED_WORKER__TASK__INIT;
	FuturedWorker__KeyValue	 *kv = NULL, **kvp = NULL;
	struct pool_proc_worker	 *w;
	uint8_t			 *p;
	size_t			  len, i;

	if ((w = pool_proc_idle()) == NULL) {
		log_warnx("%s: job %llu: no idle worker", __func__,
		    (unsigned long long)j->id);
		job_finish(j, JOB_FAILED, FERR_INTERNAL,
		    "no idle cpu worker");
		sched_slot_release(JOB_CPU);
		sched_kick();
		return;
	}

	t.job_id = j->id;
	t.handler = (char *)(uintptr_t)j->handler->name;
	if (j->payload_len > 0) {
		t.has_payload = 1;
		t.payload.data = j->payload;
		t.payload.len = j->payload_len;
	}
	t.n_args = j->nargs;
	t.args = j->args;
	if (j->nctx > 0) {
		kv = xcalloc(j->nctx, sizeof(*kv));
		kvp = xcalloc(j->nctx, sizeof(*kvp));
		for (i = 0; i < j->nctx; i++) {
			futured_worker__key_value__init(&kv[i]);
			kv[i].key = j->ctx[i].key;
			kv[i].value = j->ctx[i].value;
			kvp[i] = &kv[i];
		}
	}
	t.n_ctx = j->nctx;
	t.ctx = kvp;
	if (j->timeout_ms > 0) {
		t.has_timeout_ms = 1;
		t.timeout_ms = j->timeout_ms;
	}
	t.has_max_output = 1;
	t.max_output = settings.max_output;

	len = futured_worker__task__get_packed_size(&t);
	if (len > UINT32_MAX - FRAME_HDR_LEN) {
		free(kvp);
		free(kv);
		job_finish(j, JOB_FAILED, FERR_TOO_BIG, "task too large");
		sched_slot_release(JOB_CPU);
		sched_kick();
		return;
	}
	p = xmalloc(FRAME_HDR_LEN + len);
	frame_header_encode(p, (uint32_t)len);
	futured_worker__task__pack(&t, p + FRAME_HDR_LEN);
	free(kvp);
	free(kv);

	/* Attached before job_started(), so a cancel from there finds it. */
	job_ref(j);
	w->job = j;
	w->flags |= PPW_SLOT;
	w->grace_ms = 0;
	job_started(j, RUNNER_PROC);

	if (evbuffer_add_reference(w->out, p, FRAME_HDR_LEN + len,
	    pool_proc_free_cb, NULL) == -1)
		fatalx("%s: evbuffer_add_reference", __func__);
	pool_proc_flush(w);
	log_debug("%s: job %llu on worker %u (pid %ld)", __func__,
	    (unsigned long long)j->id, w->idx, (long)w->pid);
}

/*
 * Stop j's worker: TERM to its process group, KILL after grace_ms.  The
 * job is settled when the worker is reaped (pool_proc_child_cb).
 */
void
pool_proc_cancel(struct job *j, int64_t grace_ms)
{
	struct pool_proc_worker	*w;

	if ((w = pool_proc_find(j)) == NULL) {
		/* Not ours (any more): settle it rather than leave it. */
		if (!JOB_FINAL(j->state) && j->runner == RUNNER_PROC)
			job_finish(j, (j->flags & JOBF_TIMEDOUT) ?
			    JOB_TIMED_OUT : JOB_CANCELLED, FERR_NONE,
			    "cancelled");
		return;
	}
	if (w->flags & PPW_CANCEL) {
		/* Already dying; only ever make the KILL come sooner. */
		if (grace_ms <= 0 && !(w->flags & PPW_KILLED)) {
			w->flags |= PPW_KILLED;
			pool_proc_signal(w, SIGKILL);
		}
		return;
	}
	w->flags |= PPW_CANCEL;
	w->grace_ms = grace_ms > 0 ? grace_ms : 0;
	if (w->pid <= 0)
		return;		/* already reaped: settled there */
	log_debug("%s: job %llu: TERM to worker pid %ld, grace %lld ms",
	    __func__, (unsigned long long)j->id, (long)w->pid,
	    (long long)w->grace_ms);
	if (grace_ms <= 0) {
		w->flags |= PPW_KILLED;
		pool_proc_signal(w, SIGKILL);
		return;
	}
	pool_proc_signal(w, SIGTERM);
	pool_proc_timer_ms(w->kill_timer, grace_ms);
}

/* Workers running a job. */
u_int
pool_proc_busy(void)
{
	u_int	 n = 0;
	int	 i;

	for (i = 0; i < pool_proc_n; i++) {
		if (pool_proc_workers[i].job != NULL)
			n++;
	}
	return (n);
}

/* Worker processes alive now (at most the -P count). */
int
pool_proc_count(void)
{
	int	 i, n = 0;

	for (i = 0; i < pool_proc_n; i++) {
		if (pool_proc_workers[i].pid > 0)
			n++;
	}
	return (n);
}

/* Reap w if it is gone; 1 when it is (or was never) there. */
static int
pool_proc_reap(struct pool_proc_worker *w, int block)
{
	pid_t	 r;
	int	 status;

	if (w->pid <= 0)
		return (1);
	do
		r = waitpid(w->pid, &status, block ? 0 : WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return (0);
	if (r == -1 && errno != ECHILD)
		log_warn("%s: waitpid %ld", __func__, (long)w->pid);
	pool_proc_signal(w, SIGKILL);
	w->pid = -1;
	return (1);
}

/*
 * Stop every worker: fail their jobs, TERM, KILL what is left after
 * POOL_PROC_STOP_MS, reap (blocking; this is shutdown), free it all.
 */
void
pool_proc_shutdown(void)
{
	struct pool_proc_worker	*w;
	struct timespec		 ts = { 0, 10 * 1000 * 1000 };
	struct job		*j;
	int64_t			 deadline;
	int			 i, left;

	if (pool_proc_workers == NULL)
		return;
	pool_proc_stopping = 1;

	for (i = 0; i < pool_proc_n; i++) {
		w = &pool_proc_workers[i];
		if ((j = w->job) != NULL) {
			w->job = NULL;
			job_finish(j, JOB_FAILED, FERR_SHUTTING_DOWN,
			    "daemon shutting down");
			job_unref(j);
		}
		if (w->pid > 0) {
			child_unwatch(w->pid);
			pool_proc_signal(w, SIGTERM);
		}
		/* An idle worker also leaves at EOF on its socket. */
		pool_proc_close(w);
	}

	deadline = job_mono_ms() + POOL_PROC_STOP_MS;
	for (;;) {
		left = 0;
		for (i = 0; i < pool_proc_n; i++)
			left += !pool_proc_reap(&pool_proc_workers[i], 0);
		if (left == 0 || job_mono_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < pool_proc_n; i++) {
		w = &pool_proc_workers[i];
		if (w->pid > 0) {
			log_warnx("%s: worker %u (pid %ld) ignored TERM, "
			    "killing it", __func__, w->idx, (long)w->pid);
			pool_proc_signal(w, SIGKILL);
			pool_proc_reap(w, 1);
		}
		evbuffer_free(w->in);
		evbuffer_free(w->out);
		event_free(w->kill_timer);
		event_free(w->respawn_timer);
	}
	free(pool_proc_workers);
	pool_proc_workers = NULL;
	pool_proc_n = 0;
}
