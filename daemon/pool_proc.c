/*
 * The cpu pool: P pre-spawned worker processes, each running one job at
 * a time from a short FIFO of jobs assigned to it.  This file owns the
 * worker -> jobs map and every worker's life: spawn, Tasks out, Outcomes
 * in, cancel, reap and respawn.
 *
 * DESIGN.  A worker is the daemon's own executable re-run with --worker
 * (posix_spawn, never fork: the daemon has threads).  It talks over a
 * socketpair whose far end is its fd 3, with the frames of worker.proto.
 * Each worker leads its own process group, so a cancel (TERM, then KILL
 * after the grace) also reaches whatever the handler started.
 *
 * Batches.  One Task in flight per worker cost two cross-process wakeups
 * and ~16 daemon syscalls per job.  So a worker holds a FIFO of up to
 * POOL_PROC_DEPTH assigned jobs (w->fifo, linked through job->entry, which
 * is free while a job is neither in a sched.c queue nor final); the Tasks
 * of one loop turn leave in one write (pool_proc_flush_cb, once per
 * turn), and the worker reads all that is readable, runs the Tasks in
 * order and writes, per job, one frame group: the previous Outcome and
 * this Task's "started" notice.  The daemon reads each worker into its
 * frame reader (common/frame.c, as libfutured does) until a read leaves
 * room unfilled, so under load one read brings many Outcomes.
 *
 * Depth only where it pays.  A job queued inside a worker waits behind
 * the jobs before it, whatever the priorities and however idle the other
 * workers are; so a worker takes more than one job only while it is
 * "fast": its last job ran under POOL_PROC_FAST_US and the job it runs
 * now started less than POOL_PROC_FAST_US ago.  A new worker, or one
 * that ran anything slow, takes one job at a time, as before; a long job
 * can hold at most DEPTH-1 short ones behind it, and only when it came
 * right after short ones.  sched.c asks pool_proc_can_start() before
 * each cpu job: the cpu slots are the sum over ready workers of what
 * each may hold, and some worker must have room for that job (a job of
 * a group with a parallel limit needs an idle one: group.c counts
 * running jobs).  A slot is given back (sched_slot_release) whenever a
 * job leaves a FIFO.
 *
 * State honesty.  A job in a FIFO stays QUEUED (JOBF_POOLED) until the
 * worker says it starts it: Outcome{started} calls job_started(), which
 * arms the timeout, so a timeout counts from the real start.  But its
 * attempt (and START record) counts from the handover, written before
 * its Task leaves (launch): the worker may start it at any time without
 * a word first, and a crash must never lose an attempt that ran.  A job
 * given back unstarted is uncounted (job_unbegin).  A job sent
 * to an idle worker (empty FIFO) starts at once and its Task says so
 * (running), as before: no notice, no extra write for a lone job.  So
 * w->job, the started head of the FIFO, is the one job a worker runs.
 *
 * Cancel of a job still in a FIFO (job.c calls the table's cancel for
 * a QUEUED job with JOBF_POOLED) sends Input{cancel}.  The worker checks
 * its input before each start: it drops the Task and answers
 * Outcome{skipped}, and the job ends "cancelled while queued" without
 * the worker being disturbed.  Or the cancel came too late and the
 * worker's next word is Outcome{started} for it: the job is then running
 * and is cancelled as a running job, TERM to the worker as always.  The
 * daemon never guesses which: the worker's answer decides.
 *
 * The reap (child.c calling pool_proc_child_cb after waitpid) is the one
 * source of truth for a worker's end: EOF on the socket only stops
 * reading, and arms a KILL in case the process lingers without its
 * socket.  Before settling, the reap drains the socket, so an Outcome
 * written just before a crash still counts.  Only the running job (the
 * started head) is settled by the death ("worker killed by signal N");
 * the unstarted jobs of its FIFO go back to the cpu queue (at the tail of
 * their priority level), or end cancelled if a cancel was pending.  A
 * worker being cancelled (PPW_CANCEL) ignores everything it still says:
 * a job it started after its TERM was sent was never reported running
 * and goes back to the queue with the others.
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
#include "metrics.h"
#include "pool.h"
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
#define POOL_PROC_DEPTH		16	/* jobs a fast worker may hold */
#define POOL_PROC_FAST_US	1000	/* a job this short is "fast" */
#define POOL_PROC_IOV		64	/* frames per sendmsg */

struct pool_proc_worker {
	u_int			 idx;
	pid_t			 pid;		/* -1: none; = pgid */
	int			 fd;		/* -1: closed */
	struct event		*ev_read;
	struct event		*ev_write;
	struct frame_reader	 in;
	struct evbuffer		*out;
	struct event		*kill_timer;	/* KILL: grace, EOF */
	struct event		*respawn_timer;
	struct job		*job;		/* running: the started head */
	struct jobq		 fifo;		/* assigned, referenced */
	u_int			 nfifo;
	int			 fast;		/* last job under FAST_US */
	int64_t			 started_us;	/* w->job's, monotonic */
	struct {
		uint64_t	 id;		/* 0: free */
		int64_t		 grace_ms;
	}			 cancels[POOL_PROC_DEPTH];	/* sent */
	int			 flags;
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
/*
 * When can_start() last looked: start() picks as of then, so that a
 * worker's job crossing POOL_PROC_FAST_US in between cannot turn the
 * yes into "no idle worker".
 */
static int64_t			 pool_proc_asked_us;
static int			 pool_proc_n;
static int			 pool_proc_stopping;
static struct event		*pool_proc_flush_ev;

static void	pool_proc_read_cb(evutil_socket_t, short, void *);
static void	pool_proc_write_cb(evutil_socket_t, short, void *);
static void	pool_proc_kill_cb(evutil_socket_t, short, void *);
static void	pool_proc_respawn_cb(evutil_socket_t, short, void *);
static void	pool_proc_child_cb(pid_t, int, void *);
static void	pool_proc_kill(struct pool_proc_worker *, int64_t);
static void	pool_proc_flush_cb(evutil_socket_t, short, void *);
static void	pool_proc_shutdown(void);

static int64_t
pool_proc_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
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
	uint64_t			 lim;
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
	/* An Outcome holds at most max_output of output, and a little more. */
	lim = (uint64_t)settings.max_output + 1024 * 1024;
	w->in.max = lim > UINT32_MAX ? UINT32_MAX : (uint32_t)lim;
	w->flags = 0;
	w->fast = 0;
	memset(w->cancels, 0, sizeof(w->cancels));
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
	frame_reader_reset(&w->in);
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
		timer_add_ms(w->kill_timer, POOL_PROC_EOF_KILL_MS);
}

/* The worker spoke out of turn: kill it; the reap fails its job. */
static void
pool_proc_broken(struct pool_proc_worker *w, const char *why)
{
	log_warnx("%s: worker %u (pid %ld): %s", __func__, w->idx,
	    (long)w->pid, why);
	w->flags |= PPW_BROKEN | PPW_KILLED;
	pool_proc_eof(w);
	frame_reader_reset(&w->in);
	pool_proc_signal(w, SIGKILL);
}

/* Can w be given jobs? */
static int
pool_proc_ready(struct pool_proc_worker *w)
{
	return (w->pid > 0 && w->fd != -1 && (w->flags & (PPW_CANCEL |
	    PPW_EOF | PPW_BROKEN | PPW_DEAD)) == 0);
}

/* How many jobs w may hold now (see DESIGN: depth only where it pays). */
static u_int
pool_proc_room(struct pool_proc_worker *w, int64_t now)
{
	if (!pool_proc_ready(w))
		return (0);
	if (!w->fast || (w->job != NULL &&
	    now - w->started_us >= POOL_PROC_FAST_US))
		return (1);
	return (POOL_PROC_DEPTH);
}

/*
 * The grace of the cancel sent for job id, forgotten as it is read; or,
 * with set >= 0, remember it.  A cancel for an unstarted job waits for
 * the worker's answer, and a late one becomes a running job's cancel.
 */
static int64_t
pool_proc_grace(struct pool_proc_worker *w, uint64_t id, int64_t set)
{
	int64_t	 g;
	u_int	 i;

	for (i = 0; i < POOL_PROC_DEPTH; i++) {
		if (set >= 0 && w->cancels[i].id == 0) {
			w->cancels[i].id = id;
			w->cancels[i].grace_ms = set;
			return (set);
		}
		if (set < 0 && w->cancels[i].id == id) {
			g = w->cancels[i].grace_ms;
			w->cancels[i].id = 0;
			return (g);
		}
	}
	return (settings.grace_ms);
}

/* Take j off w's FIFO and give its slot back. */
static void
pool_proc_unlink(struct pool_proc_worker *w, struct job *j)
{
	TAILQ_REMOVE(&w->fifo, j, entry);
	w->nfifo--;
	if (w->job == j)
		w->job = NULL;
	if (j->flags & JOBF_CANCELLING)
		(void)pool_proc_grace(w, j->id, -1);
	j->flags &= ~JOBF_POOLED;
	sched_slot_release(JOB_CPU);
}

/*
 * An unstarted job leaves w: ended cancelled if a cancel is pending on
 * it, else back to the cpu queue.  Drops the FIFO's reference.
 */
static void
pool_proc_unstart(struct pool_proc_worker *w, struct job *j)
{
	pool_proc_unlink(w, j);
	job_unbegin(j);
	if (j->flags & JOBF_CANCELLING) {
		job_set_ended(j, (j->flags & JOBF_TIMEDOUT) ?
		    "timed out while queued" : "cancelled while queued");
		job_finish(j, JOB_CANCELLED, FERR_NONE, NULL);
	} else if (!pool_proc_stopping)
		sched_enqueue(j);
	job_unref(j);
}

/* The worker starts j, the head of its FIFO. */
static void
pool_proc_started(struct pool_proc_worker *w, struct job *j)
{
	j->flags &= ~JOBF_POOLED;
	w->job = j;
	w->started_us = pool_proc_mono_us();
	w->grace_ms = 0;
	job_started(j);
}

/* One Outcome from w's worker. */
static void
pool_proc_outcome(struct pool_proc_worker *w, FuturedWorker__Outcome *o)
{
	struct job	*j;
	struct job_more	*m;
	double		 p;

	if (w->flags & PPW_CANCEL)
		return;		/* the reap settles it all */

	if (o->started) {
		j = TAILQ_FIRST(&w->fifo);
		if (j == NULL || j->id != o->job_id || w->job != NULL) {
			pool_proc_broken(w, "start out of order");
			return;
		}
		pool_proc_started(w, j);
		/* A cancel that came too late: now it is a running job's. */
		if (j->flags & JOBF_CANCELLING)
			pool_proc_kill(w, pool_proc_grace(w, j->id, -1));
		return;
	}
	if (o->skipped) {
		TAILQ_FOREACH(j, &w->fifo, entry) {
			if (j->id == o->job_id && j != w->job)
				break;
		}
		if (j == NULL) {
			pool_proc_broken(w, "skipped an unknown task");
			return;
		}
		pool_proc_unstart(w, j);
		return;
	}

	j = w->job;
	if (j == NULL || o->job_id != j->id) {
		log_debug("%s: worker %u: stale outcome for job %llu",
		    __func__, w->idx, (unsigned long long)o->job_id);
		return;
	}
	m = job_more(j);
	if (!o->done) {
		/* Progress, or output as it comes: into the job, and news. */
		if (o->has_progress) {
			p = o->progress;
			if (!(p >= 0.0))
				p = 0.0;
			if (p > 1.0)
				p = 1.0;
			m->progress = p;
		}
		if (o->progress_msg != NULL) {
			free(m->progress_msg);
			m->progress_msg = xstrdup(o->progress_msg);
		}
		if (o->has_output && job_output(j, 0, o->output.data,
		    o->output.len) == -1)
			fatal("%s: job_output", __func__);
		if (o->output_truncated)
			m->output.truncated = 1;
		job_news(j);
		return;
	}

	w->fast = pool_proc_mono_us() - w->started_us < POOL_PROC_FAST_US;
	pool_proc_unlink(w, j);
	/* The rest of the output: what came before is in the job. */
	if (o->has_output && job_output(j, 0, o->output.data,
	    o->output.len) == -1)
		fatal("%s: job_output", __func__);
	if (o->output_truncated)
		m->output.truncated = 1;
	if (o->ok)
		job_finish(j, JOB_SUCCEEDED, FERR_NONE, NULL);
	else
		job_finish(j, JOB_FAILED, FERR_NONE, "%s",
		    o->error != NULL && *o->error != '\0' ? o->error :
		    "handler failed");
	job_unref(j);
}

/* Decode every whole frame in w->in. */
static void
pool_proc_parse(struct pool_proc_worker *w)
{
	FuturedWorker__Outcome	*o;
	const uint8_t		*msg;
	uint32_t		 len;
	int			 rc;

	while (w->fd != -1 && !(w->flags & PPW_BROKEN)) {
		if ((rc = frame_reader_next(&w->in, &msg, &len)) == 0)
			break;
		if (rc == -1) {
			pool_proc_broken(w, "outcome frame too large");
			return;
		}
		/* Unpacking copies: msg may go as the outcome is acted on. */
		o = futured_worker__outcome__unpack(NULL, len, msg);
		if (o == NULL) {
			pool_proc_broken(w, "malformed outcome");
			return;
		}
		pool_proc_outcome(w, o);
		futured_worker__outcome__free_unpacked(o, NULL);
	}
	frame_reader_compact(&w->in);
}

/*
 * One read(2) into w->in, straight into its buffer.  evbuffer_read()
 * would size it with an ioctl(FIONREAD) first: a system call per read
 * for nothing.
 */
static ssize_t
pool_proc_read_once(struct pool_proc_worker *w, size_t *room)
{
	uint8_t	*p;
	ssize_t	 n;

	if ((p = frame_reader_space(&w->in, POOL_PROC_READ_MAX,
	    room)) == NULL)
		fatal("%s: frame_reader_space", __func__);
	if ((n = read(w->fd, p, *room)) > 0)
		frame_reader_commit(&w->in, (size_t)n);
	return (n);
}

/*
 * Read what the worker wrote.  drain: the process is gone, read until
 * EOF or empty instead of one turn's worth.  A read that does not fill
 * the room it had found the socket empty: no second read to hear EAGAIN.
 */
static void
pool_proc_read(struct pool_proc_worker *w, int drain)
{
	ssize_t	 n;
	size_t	 room;
	int	 i;

	for (i = 0; drain || i < 16; i++) {
		if (w->fd == -1 || (w->flags & (PPW_RDEOF | PPW_BROKEN)))
			break;
		n = pool_proc_read_once(w, &room);
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
		if (!drain && (size_t)n < room)
			break;
	}
}

static void
pool_proc_read_cb(evutil_socket_t fd, short events, void *arg)
{
	pool_proc_read(arg, 0);
}

/*
 * Send what is queued for w, many frames per sendmsg (each Task is its
 * own evbuffer chain), without ever raising SIGPIPE.
 */
static void
pool_proc_flush(struct pool_proc_worker *w)
{
	struct evbuffer_iovec	 v[POOL_PROC_IOV];
	struct iovec		 iov[POOL_PROC_IOV];
	struct msghdr		 msg;
	ssize_t			 n;
	int			 i, nv;

	while (w->fd != -1 && evbuffer_get_length(w->out) > 0) {
		if ((nv = evbuffer_peek(w->out, -1, NULL, v,
		    POOL_PROC_IOV)) < 1)
			break;
		if (nv > POOL_PROC_IOV)
			nv = POOL_PROC_IOV;
		for (i = 0; i < nv; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = nv;
		n = sendmsg(w->fd, &msg, MSG_NOSIGNAL);
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
		timer_add_ms(w->respawn_timer, w->backoff_ms);
		return;
	}
	sched_kick();		/* it has room for jobs again */
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

	pool_proc_unlink(w, j);
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
		job_more(j)->term_signal = sig;
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
	struct job		*j;
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
	had_job = w->nfifo > 0;
	if (w->job != NULL) {
		if (!cancelled)
			log_warnx("%s: worker %u (pid %ld) died running job "
			    "%llu", __func__, w->idx, (long)pid,
			    (unsigned long long)w->job->id);
		pool_proc_settle(w, status);
	} else if (!pool_proc_stopping && w->nfifo == 0)
		log_warnx("%s: idle worker %u (pid %ld) died", __func__,
		    w->idx, (long)pid);
	/* The others never started: back to the queue. */
	while ((j = TAILQ_FIRST(&w->fifo)) != NULL)
		pool_proc_unstart(w, j);
	w->flags = 0;

	if (pool_proc_stopping)
		return;
	metrics_worker_restart();
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
		timer_add_ms(w->respawn_timer, w->backoff_ms);
		return;
	}
	w->backoff_ms = 0;
	/*
	 * Not now: spawning blocks the loop until the child execs, and the
	 * answers this death settles (a cancel's, the job's waiters') go
	 * out at the end of this turn.  A timer of 0 runs in the next.
	 */
	timer_add_ms(w->respawn_timer, 0);
}

/* Spawn the -P workers; -1 and *cause (caller frees) on failure. */
static int
pool_proc_init(char **cause)
{
	struct pool_proc_worker	*w;
	char			*why;
	int			 i, nprocs = settings.procs;

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
		TAILQ_INIT(&w->fifo);
		if ((w->out = evbuffer_new()) == NULL)
			fatalx("%s: evbuffer_new", __func__);
		w->kill_timer = evtimer_new(base, pool_proc_kill_cb, w);
		w->respawn_timer = evtimer_new(base, pool_proc_respawn_cb, w);
		if (w->kill_timer == NULL || w->respawn_timer == NULL)
			fatalx("%s: evtimer_new", __func__);
	}
	pool_proc_flush_ev = event_new(base, -1, 0, pool_proc_flush_cb, NULL);
	if (pool_proc_flush_ev == NULL)
		fatalx("%s: event_new", __func__);
	for (i = 0; i < nprocs; i++) {
		if (pool_proc_spawn(&pool_proc_workers[i], &why) == -1) {
			xasprintf(cause, "cannot start worker processes: %s",
			    why);
			free(why);
			pool_proc_shutdown();
			return (-1);
		}
	}
	log_debug("%s: %d workers", __func__, nprocs);
	return (0);
}

/* The worker holding j (running or in its FIFO), or NULL. */
static struct pool_proc_worker *
pool_proc_find(struct job *j)
{
	struct pool_proc_worker	*w;
	struct job		*f;
	int			 i;

	for (i = 0; i < pool_proc_n; i++) {
		w = &pool_proc_workers[i];
		TAILQ_FOREACH(f, &w->fifo, entry) {
			if (f == j)
				return (w);
		}
	}
	return (NULL);
}

/*
 * The worker for j: one with room and the fewest jobs, or NULL.  A job
 * of a group with a parallel limit goes only to an idle worker: group.c
 * counts running jobs, so it must start at once, not wait in a FIFO.
 */
static struct pool_proc_worker *
pool_proc_pick(const struct job *j, int64_t now)
{
	struct pool_proc_worker	*w, *best = NULL;
	u_int			 max;
	int			 i;

	max = j->more->grp != NULL && j->more->grp->parallel > 0 ? 1 :
	    POOL_PROC_DEPTH;
	for (i = 0; i < pool_proc_n; i++) {
		w = &pool_proc_workers[i];
		if (w->nfifo < pool_proc_room(w, now) && w->nfifo < max &&
		    (best == NULL || w->nfifo < best->nfifo))
			best = w;
	}
	return (best);
}

/*
 * sched.c: may j, a cpu job for the workers, start now that used cpu
 * slots are taken (by jobs in workers and cpu jobs on the loop)?  The
 * slots are what the ready workers may hold; before the workers exist
 * (unit tests), the -P count.
 */
static int
pool_proc_can_start(const struct job *j, u_int used)
{
	int64_t	 now;
	u_int	 n = 0;
	int	 i;

	if (pool_proc_workers == NULL)
		return (used < (u_int)settings.procs);
	now = pool_proc_asked_us = pool_proc_mono_us();
	for (i = 0; i < pool_proc_n; i++)
		n += pool_proc_room(&pool_proc_workers[i], now);
	return (used < n && pool_proc_pick(j, now) != NULL);
}

static void
pool_proc_free_cb(const void *data, size_t len, void *arg)
{
	free((void *)(uintptr_t)data);
}

/* Queue one Input frame for w; it leaves with the turn's flush. */
static int
pool_proc_send(struct pool_proc_worker *w, FuturedWorker__Input *in)
{
	uint8_t	*p;
	size_t	 len;

	len = futured_worker__input__get_packed_size(in);
	if (len > UINT32_MAX - FRAME_HDR_LEN)
		return (-1);
	p = xmalloc(FRAME_HDR_LEN + len);
	frame_header_encode(p, (uint32_t)len);
	futured_worker__input__pack(in, p + FRAME_HDR_LEN);
	if (evbuffer_add_reference(w->out, p, FRAME_HDR_LEN + len,
	    pool_proc_free_cb, NULL) == -1)
		fatalx("%s: evbuffer_add_reference", __func__);
	event_active(pool_proc_flush_ev, 0, 0);
	return (0);
}

/*
 * Once per loop turn, and at launch(): every worker's queued Inputs in
 * one write each.
 */
static void
pool_proc_flush_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pool_proc_worker	*w;
	int			 i;

	for (i = 0; i < pool_proc_n; i++) {
		w = &pool_proc_workers[i];
		if (w->fd != -1 && !(w->flags & PPW_EOF) &&
		    evbuffer_get_length(w->out) > 0 &&
		    !event_pending(w->ev_write, EV_WRITE, NULL))
			pool_proc_flush(w);
	}
}

/*
 * Give j to a worker with room.  sched.c has taken a cpu slot for it; the
 * slot comes back through sched_slot_release() when j leaves the worker.
 * An idle worker starts it at once; otherwise it waits in the worker's
 * FIFO, QUEUED, until the worker says it starts it.  Either way its Task
 * leaves at launch(), once the journal has its START: a job in a FIFO
 * may start at any time, so its attempt counts from here.
 */
static void
pool_proc_start(struct job *j)
{
	FuturedWorker__Input	  in = FUTURED_WORKER__INPUT__INIT;
	FuturedWorker__Task	  t = FUTURED_WORKER__TASK__INIT;
	FuturedWorker__KeyValue	 *kv = NULL, **kvp = NULL;
	struct pool_proc_worker	 *w;
	size_t			  i;
	int			  rv, idle;

	if ((w = pool_proc_pick(j, pool_proc_asked_us != 0 ?
	    pool_proc_asked_us : pool_proc_mono_us())) == NULL) {
		log_warnx("%s: job %llu: no idle worker", __func__,
		    (unsigned long long)j->id);
		job_finish(j, JOB_FAILED, FERR_INTERNAL,
		    "no idle cpu worker");
		sched_slot_release(JOB_CPU);
		sched_kick();
		return;
	}
	idle = w->nfifo == 0;

	t.job_id = j->id;
	t.handler = (char *)(uintptr_t)j->handler->name;
	if (j->payload_len > 0) {
		t.has_payload = 1;
		t.payload.data = j->payload;
		t.payload.len = j->payload_len;
	}
	t.n_args = j->spec->nargs;
	t.args = j->spec->args;
	if (j->spec->nctx > 0) {
		kv = xcalloc(j->spec->nctx, sizeof(*kv));
		kvp = xcalloc(j->spec->nctx, sizeof(*kvp));
		for (i = 0; i < j->spec->nctx; i++) {
			futured_worker__key_value__init(&kv[i]);
			kv[i].key = j->spec->ctx[i].key;
			kv[i].value = j->spec->ctx[i].value;
			kvp[i] = &kv[i];
		}
	}
	t.n_ctx = j->spec->nctx;
	t.ctx = kvp;
	t.cwd = j->spec->cwd;
	if (j->spec->timeout_ms > 0) {
		t.has_timeout_ms = 1;
		t.timeout_ms = j->spec->timeout_ms;
	}
	t.has_max_output = 1;
	/* Whole logs: all the output, in pieces (worker.c); we cut it. */
	t.max_output = joblog_enabled() ? 0 : settings.max_output;
	if (idle) {
		t.has_running = 1;
		t.running = 1;
	}
	in.body_case = FUTURED_WORKER__INPUT__BODY_TASK;
	in.task = &t;
	rv = pool_proc_send(w, &in);
	free(kvp);
	free(kv);
	if (rv == -1) {
		job_finish(j, JOB_FAILED, FERR_TOO_BIG, "task too large");
		sched_slot_release(JOB_CPU);
		sched_kick();
		return;
	}

	/* In the FIFO before job_started(), so a cancel from there finds it. */
	job_ref(j);
	j->flags |= JOBF_POOLED;
	TAILQ_INSERT_TAIL(&w->fifo, j, entry);
	w->nfifo++;
	if (idle)
		pool_proc_started(w, j);
	log_debug("%s: job %llu on worker %u (pid %ld)%s", __func__,
	    (unsigned long long)j->id, w->idx, (long)w->pid,
	    idle ? "" : ", queued");
}

/* Stop w, whose job is being cancelled: TERM, KILL after grace_ms. */
static void
pool_proc_kill(struct pool_proc_worker *w, int64_t grace_ms)
{
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
	    __func__, w->job != NULL ? (unsigned long long)w->job->id : 0ULL,
	    (long)w->pid, (long long)w->grace_ms);
	if (grace_ms <= 0) {
		w->flags |= PPW_KILLED;
		pool_proc_signal(w, SIGKILL);
		return;
	}
	pool_proc_signal(w, SIGTERM);
	timer_add_ms(w->kill_timer, grace_ms);
}

/*
 * Cancel j.  Running: stop its worker, TERM to its process group, KILL
 * after grace_ms; the job is settled when the worker is reaped
 * (pool_proc_child_cb).  Still in a worker's FIFO: ask the worker to drop
 * it; its answer (skipped, or started) settles it.
 */
static void
pool_proc_cancel(struct job *j, int64_t grace_ms)
{
	FuturedWorker__Input	 in = FUTURED_WORKER__INPUT__INIT;
	struct pool_proc_worker	*w;

	if ((w = pool_proc_find(j)) == NULL) {
		/* Not ours (any more): settle it rather than leave it. */
		if (!JOB_FINAL(j->state) && (j->more->pool == &pool_proc_ops ||
		    (j->flags & JOBF_POOLED))) {
			j->flags &= ~JOBF_POOLED;
			job_finish(j, (j->flags & JOBF_TIMEDOUT) ?
			    JOB_TIMED_OUT : JOB_CANCELLED, FERR_NONE,
			    "cancelled");
		}
		return;
	}
	if (w->job == j) {
		pool_proc_kill(w, grace_ms);
		return;
	}
	/* Dying or gone: the reap ends it, cancelled, with the FIFO. */
	if (!pool_proc_ready(w))
		return;
	(void)pool_proc_grace(w, j->id, grace_ms > 0 ? grace_ms : 0);
	in.body_case = FUTURED_WORKER__INPUT__BODY_CANCEL;
	in.cancel = j->id;
	(void)pool_proc_send(w, &in);
	log_debug("%s: job %llu: cancel sent to worker %u", __func__,
	    (unsigned long long)j->id, w->idx);
}

/* Workers running a job; worker processes alive (at most -P). */
static void
pool_proc_stats(struct pool_stats *ps)
{
	int	 i;

	ps->busy = 0;
	ps->size = 0;
	for (i = 0; i < pool_proc_n; i++) {
		if (pool_proc_workers[i].job != NULL)
			ps->busy++;
		if (pool_proc_workers[i].pid > 0)
			ps->size++;
	}
}

static void
pool_proc_launch(void)
{
	pool_proc_flush_cb(-1, 0, NULL);
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
static void
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
		/*
		 * The running head fails, for its waiters only.  The others
		 * may have started too: a worker says so only in the same
		 * write as the outcome before, which is no longer read.  So
		 * they are not given back (job_unbegin, as the reap does
		 * once it has read all the worker said): their START stands,
		 * and the replay takes them for interrupted ("daemon
		 * restarted", or a retry with the attempt counted), never
		 * for never run.
		 */
		while ((j = TAILQ_FIRST(&w->fifo)) != NULL) {
			pool_proc_unlink(w, j);
			if (j->state == JOB_RUNNING ||
			    !(j->flags & JOBF_CANCELLING))
				job_finish_unrecorded(j, JOB_FAILED,
				    FERR_SHUTTING_DOWN, "daemon shutting down");
			else	/* the reason given at cancel time stands */
				job_finish_unrecorded(j, JOB_CANCELLED,
				    FERR_NONE, "daemon shutting down");
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
		frame_reader_reset(&w->in);
		evbuffer_free(w->out);
		event_free(w->kill_timer);
		event_free(w->respawn_timer);
	}
	if (pool_proc_flush_ev != NULL)
		event_free(pool_proc_flush_ev);
	pool_proc_flush_ev = NULL;
	free(pool_proc_workers);
	pool_proc_workers = NULL;
	pool_proc_n = 0;
}

const struct pool pool_proc_ops = {
	.name = "proc",
	.init = pool_proc_init,
	.shutdown = pool_proc_shutdown,
	.can_start = pool_proc_can_start,
	.start = pool_proc_start,
	.launch = pool_proc_launch,
	.cancel = pool_proc_cancel,
	.stats = pool_proc_stats,
};
