/*
 * The journal: a write-ahead log of accepted jobs and what became of
 * them, replayed at start so that a restart (or a crash) loses no job
 * whose id was acknowledged.  The record format is described in
 * proto/journal.proto.  This file is the writer (appending, flushing,
 * compaction) and opens the file; journal_codec.c packs and checks
 * records, journal_replay.c rebuilds the job table from them.
 *
 * DESIGN.  Appends of one loop turn go into one buffer.  The first
 * append of a turn activates journal_flush_ev, which libevent runs after
 * the callbacks already active in that turn (the reads of every client
 * that had something to say), so one write(2) and one fsync(2) cover
 * every submit of the turn: group commit.  request_submit.c parks each
 * SubmitReply behind a journal_waiter and sends it only from the flush,
 * once the ACCEPT record is on disk (--fsync always), or written to the
 * kernel (batch: fsync on a timer; none: never).  START, REQUEUE and
 * FINAL records go through the same buffer but delay nothing.
 *
 * A failed write or fsync is final for this process: after an fsync
 * error the kernel may have dropped the dirty pages, so no later fsync
 * can prove anything (PostgreSQL learnt this the hard way).  Every
 * waiting and every later submit is refused with the reason, and the
 * daemon serves everything else as before.
 *
 * Compaction runs on the loop, right after a flush: it writes the live
 * records (unfinished jobs, finished ones within retention) to
 * journal.new, fsyncs it, renames it over the journal and fsyncs the
 * directory.  It is sequential I/O of the live set, at most half the
 * file it replaces, done when the file reaches twice the live size (and
 * at least JOURNAL_COMPACT_MIN more): a short pause, amortised over the
 * appends that grew the file, and the loop's view of the jobs cannot
 * change under it, which a thread would have to copy or lock.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "journal.pb-c.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

#define JOURNAL_SYSTEM_PATH	"/var/lib/futured/journal"
#define JOURNAL_USER_PATH	"futured/journal"	/* in XDG_STATE_HOME */
#define JOURNAL_COMPACT_MIN	(1024 * 1024)
#define JOURNAL_WRITE_CHUNK	(1024 * 1024)	/* compaction's buffer */

ssize_t	(*journal_write_fn)(int, const void *, size_t) = write;
#ifdef FUTURED_TEST_SEAMS
static void	journal_test_hold(void);
static int	journal_test_start;	/* STARTs appended */
#endif
int	(*journal_fsync_fn)(int) = fsync;

static struct {
	int		 fd;		/* -1: no journal */
	int		 ready;		/* replayed: appends may be written */
	int		 dirfd;
	char		*path;
	char		*newpath;
	struct journal_out buf;		/* appended, not yet written */
	off_t		 size;		/* bytes in the file */
	off_t		 compact_at;
	int		 dirty;		/* written, not fsynced (batch) */
	int		 suspended;
	char		*failed;	/* why submits are refused */
	struct event	*flush_ev;
	struct event	*sync_ev;
	TAILQ_HEAD(, journal_waiter) waiters;
} journal = { -1, 0, -1, NULL, NULL, { NULL, 0, 0 }, 0, 0, 0, 0, NULL,
    NULL, NULL, TAILQ_HEAD_INITIALIZER(journal.waiters) };

static void	journal_flush_cb(evutil_socket_t, short, void *);
static void	journal_sync_cb(evutil_socket_t, short, void *);

const char *
journal_fsync_name(int policy)
{
	switch (policy) {
	case JOURNAL_FSYNC_ALWAYS:
		return ("always");
	case JOURNAL_FSYNC_BATCH:
		return ("batch");
	case JOURNAL_FSYNC_NONE:
		return ("none");
	}
	return ("unknown");
}

int
journal_fsync_from_name(const char *s)
{
	if (strcmp(s, "always") == 0)
		return (JOURNAL_FSYNC_ALWAYS);
	if (strcmp(s, "batch") == 0)
		return (JOURNAL_FSYNC_BATCH);
	if (strcmp(s, "none") == 0)
		return (JOURNAL_FSYNC_NONE);
	return (-1);
}

/*
 * The default journal into path: /var/lib/futured/journal for --system,
 * and for root unless $XDG_STATE_HOME says otherwise; else under
 * $XDG_STATE_HOME or ~/.local/state.  -1 if there is no home to be found.
 */
int
journal_default_path(char *path, size_t len)
{
	struct passwd	*pw;
	const char	*dir, *xdg;
	int		 n;

	xdg = getenv("XDG_STATE_HOME");
	if (xdg != NULL && *xdg != '/')
		xdg = NULL;
	if (settings.system || (geteuid() == 0 && xdg == NULL))
		n = snprintf(path, len, "%s", JOURNAL_SYSTEM_PATH);
	else if (xdg != NULL)
		n = snprintf(path, len, "%s/%s", xdg, JOURNAL_USER_PATH);
	else {
		if ((dir = getenv("HOME")) == NULL || *dir != '/') {
			if ((pw = getpwuid(geteuid())) == NULL)
				return (-1);
			dir = pw->pw_dir;
		}
		n = snprintf(path, len, "%s/.local/state/%s", dir,
		    JOURNAL_USER_PATH);
	}
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

/* Appending ------------------------------------------------------------ */

int
journal_enabled(void)
{
	return (journal.ready);
}

/* NULL, or why no job can be accepted now. */
const char *
journal_failed(void)
{
	return (journal.failed);
}

/*
 * Whether an append would be recorded: asked before a record is filled,
 * so that a daemon without a journal (the benchmarks') fills none.
 */
static int
journal_recording(void)
{
	return (journal.fd != -1 && journal.failed == NULL &&
	    !journal.suspended);
}

static void
journal_append(int type, const ProtobufCMessage *msg)
{
	if (!journal_recording())
		return;
	if (journal.buf.len == 0 && journal.flush_ev != NULL)
		event_active(journal.flush_ev, 0, 0);
	journal_out_record(&journal.buf, type, msg);
}

/*
 * While suspended nothing is recorded: shutdown settles the queued jobs
 * for their waiters, but they stay queued in the journal and run after
 * the restart (sched_stop_queued).
 */
void
journal_suspend(int on)
{
	journal.suspended = on;
}

static void
journal_fill_accept(struct job *j, FuturedJournal__Accept *a,
    FuturedJournal__KeyValue **ptrs, FuturedJournal__KeyValue *kvs)
{
	size_t	 i;

	futured_journal__accept__init(a);
	a->id = j->id;
	a->owner = j->owner;
	a->handler = (char *)j->handler->name;
	if (j->handler->flags & HANDLER_F_WORKER) {
		a->has_worker = 1;
		a->worker = 1;
	}
	if (j->spec->engine != JOB_ENGINE_LOCAL) {
		a->has_engine = 1;
		a->engine = (uint32_t)j->spec->engine;
	}
	a->kind = j->kind;
	if (j->payload_len > 0) {
		a->has_payload = 1;
		a->payload.data = j->payload;
		a->payload.len = j->payload_len;
	}
	a->n_args = j->spec->nargs;
	a->args = j->spec->args;
	if (j->spec->envp != NULL) {
		for (i = 0; j->spec->envp[i] != NULL; i++)
			;
		a->n_env = i;
		a->env = j->spec->envp;
	}
	for (i = 0; i < j->spec->nctx; i++) {
		futured_journal__key_value__init(&kvs[i]);
		kvs[i].key = j->spec->ctx[i].key;
		kvs[i].value = j->spec->ctx[i].value;
		ptrs[i] = &kvs[i];
	}
	a->n_ctx = j->spec->nctx;
	a->ctx = ptrs;
	a->cwd = j->spec->cwd;
#define JSET(f, v) do { if ((v) != 0) { a->has_##f = 1; a->f = (v); } } while (0)
	JSET(timeout_ms, j->spec->timeout_ms);
	JSET(deadline_ms, j->spec->deadline_ms);
	JSET(priority, j->priority);
	JSET(input_from, j->spec->input_from);
	JSET(retries, j->spec->retries);
	JSET(retry_delay_ms, j->spec->retry_delay_ms);
	JSET(retry_timeouts, j->spec->retry_timeouts);
	JSET(parent, j->spec->parent);
#undef JSET
	a->group = j->spec->group;
	a->n_after = j->spec->nafter;
	a->after = j->spec->after;
	a->name = j->spec->name;
	a->submitted_at = j->submitted_at;
	/* Queued or later: input_from's output is the payload already. */
	if (j->spec->input_from != 0 && j->more->input_job == NULL &&
	    j->state != JOB_WAITING) {
		a->has_input_resolved = 1;
		a->input_resolved = 1;
	}
}

static void
journal_out_accept(struct journal_out *o, struct job *j)
{
	FuturedJournal__Accept		 a;
	FuturedJournal__KeyValue	**ptrs, *kvs;

	ptrs = xcalloc(j->spec->nctx + 1, sizeof(*ptrs) + sizeof(*kvs));
	kvs = (FuturedJournal__KeyValue *)(ptrs + j->spec->nctx + 1);
	journal_fill_accept(j, &a, ptrs, kvs);
	journal_out_record(o, JOURNAL_ACCEPT, &a.base);
	free(ptrs);
}

/* The job was accepted: job_submitted(), before anything else of it. */
void
journal_accept(struct job *j)
{
	if (!journal_recording())
		return;
	if (journal.buf.len == 0 && journal.flush_ev != NULL)
		event_active(journal.flush_ev, 0, 0);
	journal_out_accept(&journal.buf, j);
}

/* This boot's id, read once; NULL if unknown. */
const char *
journal_boot_id(void)
{
	static char	 id[64];
	static int	 done;
	FILE		*f;

	if (!done) {
		done = 1;
		if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) !=
		    NULL) {
			if (fgets(id, sizeof(id), f) == NULL)
				id[0] = '\0';
			id[strcspn(id, "\n")] = '\0';
			fclose(f);
		}
	}
	return (id[0] != '\0' ? id : NULL);
}

static void
journal_fill_start(struct job *j, FuturedJournal__Start *s)
{
	const struct job_more	*m = j->more;

	futured_journal__start__init(s);
	s->id = j->id;
	s->attempt = m->attempts;
	s->has_started_at = 1;
	s->started_at = m->started_at;
	/* Only this attempt's process: an earlier one is gone. */
	if (m->proc_pid > 0 && m->proc_attempt == m->attempts &&
	    journal_boot_id() != NULL) {
		s->has_pid = s->has_proc_start = 1;
		s->pid = m->proc_pid;
		s->proc_start = m->proc_start;
		s->boot_id = (char *)(uintptr_t)journal_boot_id();
	}
	if (m->engine_id != NULL && m->engine_attempt == m->attempts)
		s->engine_id = m->engine_id;
}

void
journal_start(struct job *j)
{
	FuturedJournal__Start	 s;

	if (!journal_recording())
		return;
	journal_fill_start(j, &s);
	journal_append(JOURNAL_START, &s.base);
#ifdef FUTURED_TEST_SEAMS
	journal_test_start++;
#endif
}

/* The attempt's command is known: START again, naming its process. */
void
journal_process(struct job *j)
{
	journal_start(j);
}

void
journal_requeue(struct job *j)
{
	FuturedJournal__Requeue	 r = FUTURED_JOURNAL__REQUEUE__INIT;

	r.id = j->id;
	r.has_attempts = 1;
	r.attempts = j->more->attempts;
	journal_append(JOURNAL_REQUEUE, &r.base);
}

static void
journal_fill_final(struct job *j, FuturedJournal__Final *f)
{
	futured_journal__final__init(f);
	f->id = j->id;
	f->state = j->state;
	if (j->more->exit_status >= 0) {
		f->has_exit_status = 1;
		f->exit_status = j->more->exit_status;
	}
	if (j->more->term_signal > 0) {
		f->has_signal = 1;
		f->signal = j->more->term_signal;
	}
	if (j->more->error_code != FERR_NONE) {
		f->has_error_code = 1;
		f->error_code = j->more->error_code;
	}
	f->error = j->more->error;
	f->ended = (char *)j->more->ended;
	if (j->more->output.len > 0) {
		f->has_output = 1;
		f->output.data = j->more->output.data;
		f->output.len = j->more->output.len;
	}
	if (j->more->output.truncated) {
		f->has_output_truncated = 1;
		f->output_truncated = 1;
	}
	if (j->more->errtail.truncated) {
		f->has_stderr_truncated = 1;
		f->stderr_truncated = 1;
	}
	if (j->more->errtail.len > 0) {
		f->has_stderr_tail = 1;
		f->stderr_tail.data = j->more->errtail.data;
		f->stderr_tail.len = j->more->errtail.len;
	}
	if (j->more->started_at != 0) {
		f->has_started_at = 1;
		f->started_at = j->more->started_at;
	}
	f->has_finished_at = 1;
	f->finished_at = j->more->finished_at;
	f->has_attempts = 1;
	f->attempts = j->more->attempts;
}

void
journal_final(struct job *j)
{
	FuturedJournal__Final	 f;

	if (!journal_recording())
		return;
	journal_fill_final(j, &f);
	journal_append(JOURNAL_FINAL, &f.base);
}

void
journal_group(struct jobgroup *g)
{
	FuturedJournal__Group	 r = FUTURED_JOURNAL__GROUP__INIT;

	r.owner = g->owner;
	r.name = g->name;
	r.has_fail_fast = 1;
	r.fail_fast = g->fail_fast;
	r.has_parallel = 1;
	r.parallel = g->parallel;
	journal_append(JOURNAL_GROUP, &r.base);
}

/* Flushing -------------------------------------------------------------- */

static int
journal_write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = journal_write_fn(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = EIO;
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

static void
journal_answer(const char *error)
{
	struct journal_waiter	*w;
	TAILQ_HEAD(, journal_waiter) ready;

	/* Swap first: a callback may wait again or drop another waiter. */
	TAILQ_INIT(&ready);
	TAILQ_CONCAT(&ready, &journal.waiters, entry);
	while ((w = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, w, entry);
		w->queued = 0;
		w->cb(w, error);
	}
}

/* Stop accepting for good; say so once, loudly. */
static void
journal_fail(const char *op, int error)
{
	if (journal.failed != NULL)
		return;
	if (error == ENOSPC)
		xasprintf(&journal.failed, "journal: %s failed: %s (ENOSPC); "
		    "not accepting jobs", op, strerror(error));
	else
		xasprintf(&journal.failed, "journal: %s failed: %s; not "
		    "accepting jobs", op, strerror(error));
	log_error("%s: %s (restart futured once the cause is fixed)",
	    journal.path, journal.failed);
	journal.buf.len = 0;
	if (journal.sync_ev != NULL)
		evtimer_del(journal.sync_ev);
}

static int
journal_sync(void)
{
	struct timespec	 t0, t1;

	if (!journal.dirty)
		return (0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (journal_fsync_fn(journal.fd) == -1) {
		journal_fail("fsync", errno);
		return (-1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_fsync((uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 +
	    t1.tv_nsec - t0.tv_nsec);
	journal.dirty = 0;
	return (0);
}

static int	journal_compact(char **);

/*
 * Write what was appended, and only that: no fsync, no answers.  What is
 * written survives a kill -9 of the daemon, so sched.c writes a round's
 * START records with this before the pools run the round's jobs; the
 * turn's journal_flush() then syncs them as the policy says.  -1 if the
 * journal failed (now or before).
 */
int
journal_write(void)
{
	int	 error;

	if (journal.fd == -1 || !journal.ready)
		return (0);
#ifdef FUTURED_TEST_SEAMS
	journal_test_hold();
#endif
	if (journal.failed == NULL && journal.buf.len > 0) {
		if (journal_write_all(journal.fd, journal.buf.data,
		    journal.buf.len) == -1) {
			error = errno;
			/* Leave no half record for the next start to find. */
			if (ftruncate(journal.fd, journal.size) == -1)
				log_warn("%s: ftruncate", journal.path);
			journal_fail("write", error);
		} else {
			journal.size += journal.buf.len;
			journal.buf.len = 0;
			journal.dirty = 1;
		}
	}
	return (journal.failed != NULL ? -1 : 0);
}

/*
 * Write what this turn appended, fsync as the policy says, and answer
 * the waiters: the deferred SubmitReplies go out from here.
 */
int
journal_flush(void)
{
	struct timeval	 tv;
	char		*cause;

	if (journal.fd == -1 || !journal.ready)
		return (0);
	(void)journal_write();
	if (journal.failed == NULL) {
		switch (settings.fsync) {
		case JOURNAL_FSYNC_ALWAYS:
			(void)journal_sync();
			break;
		case JOURNAL_FSYNC_BATCH:
			if (journal.dirty && journal.sync_ev != NULL &&
			    !evtimer_pending(journal.sync_ev, NULL)) {
				tv.tv_sec = settings.fsync_interval_ms / 1000;
				tv.tv_usec = (settings.fsync_interval_ms %
				    1000) * 1000;
				evtimer_add(journal.sync_ev, &tv);
			}
			break;
		case JOURNAL_FSYNC_NONE:
			journal.dirty = 0;
			break;
		}
	}
	journal_answer(journal.failed);
	if (journal.failed != NULL)
		return (-1);
	/* Only with nothing buffered: the snapshot must not be re-appended. */
	if (journal.size >= journal.compact_at && journal.buf.len == 0 &&
	    journal_compact(&cause) == -1) {
		/* The old file is intact: try again after as much growth. */
		log_warnx("%s: compaction failed: %s", journal.path, cause);
		free(cause);
		journal.compact_at = journal.size * 2;
	}
	return (0);
}

static void
journal_flush_cb(evutil_socket_t fd, short events, void *arg)
{
	journal_flush();
}

static void
journal_sync_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)journal_sync();
}

void
journal_wait(struct journal_waiter *w,
    void (*cb)(struct journal_waiter *, const char *), void *arg)
{
	w->cb = cb;
	w->arg = arg;
	w->queued = 1;
	TAILQ_INSERT_TAIL(&journal.waiters, w, entry);
	if (journal.flush_ev != NULL)
		event_active(journal.flush_ev, 0, 0);
}

/*
 * Move this turn's flush behind the events made active so far (the
 * scheduler's run): what they append goes into the same write and the
 * same fsync (pool_slurm.c).
 */
void
journal_flush_behind(void)
{
	if (journal.flush_ev == NULL ||
	    (journal.buf.len == 0 && TAILQ_EMPTY(&journal.waiters)))
		return;
	event_del(journal.flush_ev);
	event_active(journal.flush_ev, 0, 0);
}

void
journal_unwait(struct journal_waiter *w)
{
	if (w->queued) {
		TAILQ_REMOVE(&journal.waiters, w, entry);
		w->queued = 0;
	}
}

/* Compaction ------------------------------------------------------------ */

struct journal_live {
	struct job	**jobs;
	size_t		  n, cap;
};

static void
journal_live_cb(struct job *j, void *arg)
{
	struct journal_live	*l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->jobs = xreallocarray(l->jobs, l->cap, sizeof(*l->jobs));
	}
	l->jobs[l->n++] = j;
}

static int
journal_id_cmp(const void *a, const void *b)
{
	const struct job	*ja = *(struct job *const *)a;
	const struct job	*jb = *(struct job *const *)b;

	return (ja->id < jb->id ? -1 : ja->id > jb->id);
}

static void
journal_group_cb(struct jobgroup *g, void *arg)
{
	FuturedJournal__Group	 r = FUTURED_JOURNAL__GROUP__INIT;

	if (!g->fail_fast && g->parallel == 0)
		return;
	r.owner = g->owner;
	r.name = g->name;
	r.has_fail_fast = 1;
	r.fail_fast = g->fail_fast;
	r.has_parallel = 1;
	r.parallel = g->parallel;
	journal_out_record(arg, JOURNAL_GROUP, &r.base);
}

/* The live records of j: what a replay needs to rebuild it as it is. */
static void
journal_out_job(struct journal_out *o, struct job *j)
{
	FuturedJournal__Start		 s;
	FuturedJournal__Requeue		 r = FUTURED_JOURNAL__REQUEUE__INIT;
	FuturedJournal__Final		 f;

	journal_out_accept(o, j);
	if (JOB_FINAL(j->state)) {
		journal_fill_final(j, &f);
		journal_out_record(o, JOURNAL_FINAL, &f.base);
	} else if (j->more->attempts > 0) {
		journal_fill_start(j, &s);
		journal_out_record(o, JOURNAL_START, &s.base);
		/*
		 * A job in a pool's FIFO (JOBF_POOLED) may start at any
		 * time without a word first: its attempt stands as begun.
		 */
		if (j->state != JOB_RUNNING && !(j->flags & JOBF_POOLED)) {
			r.id = j->id;
			r.has_attempts = 1;
			r.attempts = j->more->attempts;
			journal_out_record(o, JOURNAL_REQUEUE, &r.base);
		}
	}
}

/*
 * Replace the journal with one of only the live records.  The new file
 * is locked before it is renamed into place, so no other daemon can take
 * it in between.
 */
static int
journal_compact(char **cause)
{
	FuturedJournal__Checkpoint	 cp = FUTURED_JOURNAL__CHECKPOINT__INIT;
	struct journal_out		 o = { NULL, 0, 0 };
	struct journal_live		 l = { NULL, 0, 0 };
	off_t				 size = 0, old = journal.size;
	size_t				 i;
	int				 fd;

	fd = open(journal.newpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		xasprintf(cause, "%s: %s", journal.newpath, strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		xasprintf(cause, "%s: %s", journal.newpath, strerror(errno));
		close(fd);
		return (-1);
	}
	journal_out_reserve(&o, JOURNAL_HDR_LEN);
	journal_header_encode(o.data);
	o.len = JOURNAL_HDR_LEN;
	cp.next_id = sched_total() + 1;
	cp.has_written_at = 1;
	cp.written_at = job_now_ms();
	journal_out_record(&o, JOURNAL_CHECKPOINT, &cp.base);
	group_foreach(journal_group_cb, &o);
	sched_foreach(journal_live_cb, &l);
	if (l.n > 1)
		qsort(l.jobs, l.n, sizeof(*l.jobs), journal_id_cmp);
	for (i = 0; i <= l.n; i++) {
		if (i < l.n)
			journal_out_job(&o, l.jobs[i]);
		if (o.len < JOURNAL_WRITE_CHUNK && i < l.n)
			continue;
		if (journal_write_all(fd, o.data, o.len) == -1)
			goto fail;
		size += o.len;
		o.len = 0;
	}
	free(l.jobs);
	l.jobs = NULL;
	/* Even with --fsync none: a rename of unsynced data may be empty. */
	if (journal_fsync_fn(fd) == -1)
		goto fail;
	if (rename(journal.newpath, journal.path) == -1)
		goto fail;
	if (fsync(journal.dirfd) == -1)
		log_warn("%s: fsync of the directory", journal.path);
	close(journal.fd);
	journal.fd = fd;
	journal.size = size;
	journal.dirty = 0;
	journal.compact_at = size * 2;
	if (journal.compact_at < size + JOURNAL_COMPACT_MIN)
		journal.compact_at = size + JOURNAL_COMPACT_MIN;
	free(o.data);
	log_info("%s: compacted %lld to %lld bytes (%zu job%s)", journal.path,
	    (long long)old, (long long)size, l.n, LOG_PLURAL(l.n));
	return (0);

fail:
	xasprintf(cause, "%s: %s", journal.newpath, strerror(errno));
	free(l.jobs);
	free(o.data);
	close(fd);
	unlink(journal.newpath);
	return (-1);
}

/* Opening --------------------------------------------------------------- */

/* mkdir -p, each new directory 0700. */
static int
journal_mkdirs(const char *dir, char **cause)
{
	char	*p, *s;
	int	 last = 0;

	s = xstrdup(dir);
	for (p = s + 1; !last; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		last = (*p == '\0');
		*p = '\0';
		if (mkdir(s, 0700) == -1 && errno != EEXIST) {
			xasprintf(cause, "cannot create %s: %s", s,
			    strerror(errno));
			free(s);
			return (-1);
		}
		if (!last)
			*p = '/';
	}
	free(s);
	return (0);
}

static int
journal_read_all(int fd, uint8_t **data, size_t *len, char **cause)
{
	struct stat	 st;
	size_t		 off = 0;
	ssize_t		 n;

	if (fstat(fd, &st) == -1) {
		xasprintf(cause, "%s: %s", journal.path, strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", journal.path);
		return (-1);
	}
	*data = xmalloc(st.st_size + 1);
	while (off < (size_t)st.st_size) {
		n = read(fd, *data + off, st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "%s: %s", journal.path,
			    strerror(errno));
			free(*data);
			return (-1);
		}
		if (n == 0)
			break;
		off += n;
	}
	*len = off;
	return (0);
}

/* The fault-injection seams, for the tests (FUTURED_TEST_SEAMS builds). */
#ifdef FUTURED_TEST_SEAMS
static long	journal_test_writes = -1, journal_test_fsyncs = -1;
static long	journal_test_hold_at, journal_test_hold_ms;

/*
 * FUTURED_TEST_HOLD_START=N,MS: the write of the Nth START record waits
 * MS first, as a loop held there would, so that a test can kill -9 the
 * daemon while the record is only in memory (issue 11).
 */
static void
journal_test_hold(void)
{
	struct timespec	 ts;

	if (journal_test_hold_ms <= 0 || journal_test_start <
	    journal_test_hold_at)
		return;
	log_info("test seam: holding a START record %ld ms before its write",
	    journal_test_hold_ms);
	ts.tv_sec = journal_test_hold_ms / 1000;
	ts.tv_nsec = (journal_test_hold_ms % 1000) * 1000000L;
	journal_test_hold_ms = 0;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static ssize_t
journal_test_write(int fd, const void *p, size_t len)
{
	if (journal_test_writes == 0) {
		errno = ENOSPC;
		return (-1);
	}
	if (journal_test_writes > 0)
		journal_test_writes--;
	return (write(fd, p, len));
}

static int
journal_test_fsync(int fd)
{
	if (journal_test_fsyncs == 0) {
		errno = EIO;
		return (-1);
	}
	if (journal_test_fsyncs > 0)
		journal_test_fsyncs--;
	return (fsync(fd));
}

static void
journal_test_seams(void)
{
	const char	*s;
	char		*end;

	if ((s = getenv("FUTURED_TEST_FAIL_FSYNC_AFTER")) != NULL) {
		journal_test_fsyncs = strtol(s, NULL, 10);
		journal_fsync_fn = journal_test_fsync;
		log_info("test seam: fsync fails after %ld", journal_test_fsyncs);
	}
	if ((s = getenv("FUTURED_TEST_HOLD_START")) != NULL) {
		journal_test_hold_at = strtol(s, &end, 10);
		if (*end == ',')
			journal_test_hold_ms = strtol(end + 1, NULL, 10);
		log_info("test seam: START %ld is held %ld ms",
		    journal_test_hold_at, journal_test_hold_ms);
	}
	if ((s = getenv("FUTURED_TEST_FAIL_WRITE_AFTER")) != NULL) {
		journal_test_writes = strtol(s, NULL, 10);
		journal_write_fn = journal_test_write;
		log_info("test seam: write fails (ENOSPC) after %ld",
		    journal_test_writes);
	}
}
#endif

/*
 * Open the journal of settings.journal_path (NULL: the default, "none":
 * no journal), replay it into the job table and make it ready for
 * appends.  -1 and *cause (the caller frees) if the daemon must not
 * start: the file cannot be used, or it is corrupt inside.
 */
int
journal_open(char **cause)
{
	struct journal_replay	 rp;
	char			 path[PATH_MAX], *slash, *dir;
	uint8_t			*data = NULL, hdr[JOURNAL_HDR_LEN];
	size_t			 len = 0, end;
	uint64_t		 recno, next;
	int			 fd, rv;

	if (settings.journal_path != NULL &&
	    strcmp(settings.journal_path, "none") == 0) {
		log_info("no journal: jobs are lost when the daemon stops");
		return (0);
	}
	if (settings.journal_path != NULL) {
		if (strlen(settings.journal_path) >= sizeof(path)) {
			xasprintf(cause, "journal path too long");
			return (-1);
		}
		snprintf(path, sizeof(path), "%s", settings.journal_path);
	} else if (journal_default_path(path, sizeof(path)) == -1) {
		xasprintf(cause, "no journal path: set XDG_STATE_HOME or HOME, "
		    "or use --journal");
		return (-1);
	}
	journal.path = xstrdup(path);
	xasprintf(&journal.newpath, "%s.new", path);
	slash = strrchr(path, '/');
	dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
	    xmemdup(path, slash - path + 1);
	if (slash != NULL && slash != path)
		dir[slash - path] = '\0';
	if (journal_mkdirs(dir, cause) == -1) {
		free(dir);
		return (-1);
	}
	journal.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (journal.dirfd == -1) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		free(dir);
		return (-1);
	}
	free(dir);

	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		xasprintf(cause, "journal %s: %s", path, strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			xasprintf(cause, "journal %s is in use by another "
			    "futured", path);
		else
			xasprintf(cause, "journal %s: lock: %s", path,
			    strerror(errno));
		close(fd);
		return (-1);
	}
	journal.fd = fd;
	if (journal_read_all(fd, &data, &len, cause) == -1)
		return (-1);

	journal_header_encode(hdr);
	if (len < JOURNAL_HDR_LEN && memcmp(data, hdr, len) == 0) {
		/* New, or its creation was cut short. */
		if (ftruncate(fd, 0) == -1 || journal_write_all(fd, hdr,
		    sizeof(hdr)) == -1 || fsync(fd) == -1 ||
		    fsync(journal.dirfd) == -1) {
			xasprintf(cause, "journal %s: %s", path,
			    strerror(errno));
			free(data);
			return (-1);
		}
		free(data);
		data = xmalloc(sizeof(hdr));
		memcpy(data, hdr, sizeof(hdr));
		len = sizeof(hdr);
	} else if (len < JOURNAL_HDR_LEN || memcmp(data, hdr, 8) != 0) {
		xasprintf(cause, "%s is not a futured journal", path);
		free(data);
		return (-1);
	} else if (memcmp(data, hdr, JOURNAL_HDR_LEN) != 0) {
		xasprintf(cause, "journal %s: version %u, this futured reads "
		    "version %u", path, journal_get32(data + 8),
		    JOURNAL_VERSION);
		free(data);
		return (-1);
	}

	memset(&rp, 0, sizeof(rp));
	rp.next_id = 1;
	rp.path = journal.path;
	rv = journal_scan(data, len, &end, &recno, journal_replay_cb, &rp);
	if (rv == -1 && !settings.journal_repair) {
		xasprintf(cause, "journal %s is corrupt at byte %zu (record "
		    "%llu), with %zu bytes of records after it: refusing to "
		    "start; --journal-repair drops everything from there",
		    path, end, (unsigned long long)recno, len - end);
		free(data);
		for (end = 0; end < rp.n; end++)
			job_unref(rp.reps[end].job);
		free(rp.reps);
		return (-1);
	}
	if (rv == -1 && (next = journal_ids_after(data, len, end)) >
	    rp.next_id)
		rp.next_id = next;
	if (rv != 0) {
		if (rv == -1)
			log_warnx("%s: corrupt at byte %zu (record %llu): "
			    "--journal-repair drops the %zu bytes from there "
			    "on", path, end, (unsigned long long)recno,
			    len - end);
		else
			log_warnx("%s: dropping a torn or garbage tail of %zu "
			    "bytes at byte %zu (record %llu)", path, len - end,
			    end, (unsigned long long)recno);
		if (ftruncate(fd, end) == -1 || fsync(fd) == -1) {
			xasprintf(cause, "journal %s: truncate: %s", path,
			    strerror(errno));
			free(data);
			return (-1);
		}
	}
	free(data);
	journal.size = end;
	journal.compact_at = 2 * end;
	if (journal.compact_at < JOURNAL_COMPACT_MIN)
		journal.compact_at = JOURNAL_COMPACT_MIN;

	if (base != NULL) {
		journal.flush_ev = event_new(base, -1, 0, journal_flush_cb,
		    NULL);
		journal.sync_ev = evtimer_new(base, journal_sync_cb, NULL);
	}
	journal_restore(&rp);
	if (rv == -1) {
		FuturedJournal__Checkpoint cp = FUTURED_JOURNAL__CHECKPOINT__INIT;

		cp.next_id = sched_total() + 1;
		journal_out_record(&journal.buf, JOURNAL_CHECKPOINT, &cp.base);
	}
	/* What the restore decided (failed, queued again) is durable too. */
	if (journal.buf.len > 0) {
		if (journal_write_all(fd, journal.buf.data,
		    journal.buf.len) == -1 || fsync(fd) == -1) {
			xasprintf(cause, "journal %s: %s", path,
			    strerror(errno));
			return (-1);
		}
		journal.size += journal.buf.len;
		journal.buf.len = 0;
	}
	if (journal.flush_ev != NULL)
		event_del(journal.flush_ev);
#ifdef FUTURED_TEST_SEAMS
	journal_test_seams();
#endif
	journal.ready = 1;
	log_info("journal %s: fsync %s%s", path,
	    journal_fsync_name(settings.fsync),
	    settings.fsync == JOURNAL_FSYNC_BATCH ? " (on a timer)" : "");
	return (0);
}

/* Write what is left (shutdown) and close. */
void
journal_close(void)
{
	if (journal.fd != -1) {
		journal_flush();
		if (journal.failed == NULL && journal.dirty &&
		    journal_fsync_fn(journal.fd) == -1)
			log_warn("%s: fsync", journal.path);
		close(journal.fd);
		journal.fd = -1;
	}
	journal.ready = 0;
	if (journal.dirfd != -1)
		close(journal.dirfd);
	journal.dirfd = -1;
	if (journal.flush_ev != NULL)
		event_free(journal.flush_ev);
	if (journal.sync_ev != NULL)
		event_free(journal.sync_ev);
	journal.flush_ev = journal.sync_ev = NULL;
	free(journal.buf.data);
	memset(&journal.buf, 0, sizeof(journal.buf));
	free(journal.path);
	free(journal.newpath);
	free(journal.failed);
	journal.path = journal.newpath = journal.failed = NULL;
	journal.size = journal.compact_at = 0;
	journal.dirty = journal.suspended = 0;
	/*
	 * journal.strings and journal.ghosts stay: restored jobs point at
	 * them until sched_free(), and a reopen (tests) reuses them;
	 * journal_free() frees them.
	 */
}
