/*
 * libfutured: the C client of futured(8).
 *
 * Every call is safe from any thread.  A future may be waited on from
 * several threads at once.  The library never exits, never prints and
 * never blocks inside fut_poll().  Errors are negative FUT_E* values;
 * fut_strerror() names them and fut_client_error() gives the last
 * message the daemon or the library produced on that client.
 */

#ifndef FUTURED_FUTURED_H
#define FUTURED_FUTURED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Which engine runs a job. */
enum fut_kind {
	FUT_ASYNC,	/**< the daemon's event loop */
	FUT_BLOCKING,	/**< a thread of the daemon's thread pool */
	FUT_CPU		/**< a pre-spawned worker process */
};

/** The states of a job; the last four are final and never change. */
enum fut_state {
	FUT_WAITING,
	FUT_QUEUED,
	FUT_RUNNING,
	FUT_SUCCEEDED,
	FUT_FAILED,
	FUT_CANCELLED,
	FUT_TIMED_OUT
};

/** Errors; every one is negative. */
#define FUT_OK		0
#define FUT_ETIMEDOUT	(-1)	/**< a wait ran out; the job goes on */
#define FUT_ENOTFOUND	(-2)	/**< no such job, or not the caller's */
#define FUT_EPERM	(-3)	/**< not allowed */
#define FUT_EPROTO	(-4)	/**< protocol error or version mismatch */
#define FUT_ECONN	(-5)	/**< daemon unreachable or connection lost */
#define FUT_EINVAL	(-6)	/**< bad argument; fut_client_error() says which */
#define FUT_ENOMEM	(-7)	/**< out of memory */
#define FUT_ENOTREADY	(-8)	/**< the job has not finished yet */
#define FUT_EHANDLER	(-9)	/**< unknown handler, or kind it does not accept */
#define FUT_EFULL	(-10)	/**< the daemon's queue is full */
#define FUT_ETOOBIG	(-11)	/**< over a size limit */
#define FUT_ESHUTDOWN	(-12)	/**< the daemon is shutting down */
#define FUT_EINTERNAL	(-13)	/**< the daemon failed (its journal, ...) */

struct fut_client;
struct fut_spec;
struct fut_future;

/** Name of an error code; a static string. */
const char	*fut_strerror(int);

/**
 * Connect to the daemon.  NULL path: -s is not available to a library, so
 * $FUTURED_SOCKET, then $XDG_RUNTIME_DIR/futured/futured.sock, then
 * /tmp/futured-$UID/futured.sock.  Returns NULL with errno set on failure.
 */
struct fut_client *fut_connect(const char *path);
/**
 * Close the connection.  Futures of the client stay valid: finished ones
 * keep their outcome, unfinished ones fail with FUT_ECONN (their done
 * callbacks run inside fut_close).  Each must still be freed with
 * fut_future_free(); the client's memory goes with the last of them.
 */
void		 fut_close(struct fut_client *);
/**
 * Last error on this client, human readable.  The string is a copy in
 * thread-local storage, valid until this thread's next call.
 */
const char	*fut_client_error(struct fut_client *);
/** Last error on this client as a FUT_E* code (FUT_OK if none yet). */
int		 fut_client_errcode(struct fut_client *);

/** The daemon's limits, as its answer to the connection's Hello says. */
enum fut_limit {
	FUT_LIMIT_FRAME,	/**< bytes in one request (--max-frame) */
	FUT_LIMIT_OUTPUT,	/**< output kept per job (--max-output) */
	FUT_LIMIT_IDS,		/**< job ids in one request */
	FUT_LIMIT_QUEUED,	/**< unstarted jobs per user (--max-queued) */
	FUT_LIMIT_STDERR_TAIL	/**< bytes of a command's stderr kept */
};
/**
 * One of the daemon's limits in *value: 0, or < 0 if the connection went
 * before the daemon said (FUT_EINVAL for an unknown limit).  Waits for
 * the Hello answer if it has not come yet.  A daemon that does not say
 * a limit has the default of proto/futured.proto.
 */
int		 fut_client_limit(struct fut_client *, enum fut_limit,
		    uint64_t *value);

struct fut_spec	*fut_spec_new(const char *handler);
void		 fut_spec_free(struct fut_spec *);
int		 fut_spec_kind(struct fut_spec *, enum fut_kind);
int		 fut_spec_payload(struct fut_spec *, const void *, size_t);
int		 fut_spec_arg(struct fut_spec *, const char *);
int		 fut_spec_timeout_ms(struct fut_spec *, int64_t);
int		 fut_spec_deadline_ms(struct fut_spec *, int64_t);
int		 fut_spec_priority(struct fut_spec *, int);
int		 fut_spec_retries(struct fut_spec *, unsigned int);
/** First retry delay (each further one doubles); default the daemon's. */
int		 fut_spec_retry_delay_ms(struct fut_spec *, int64_t);
/** Retry a timed-out attempt too (cancelled ones never are). */
int		 fut_spec_retry_timeouts(struct fut_spec *, int);
int		 fut_spec_name(struct fut_spec *, const char *);
int		 fut_spec_ctx(struct fut_spec *, const char *key, const char *value);
int		 fut_spec_after(struct fut_spec *, uint64_t id);
int		 fut_spec_input_from(struct fut_spec *, uint64_t id);
/**
 * Make the job a child of job id (0: of none).  By default a spec made
 * inside a job (FUTURED_JOB_ID in the environment) has that job as its
 * parent: it inherits its context and deadline and is cancelled with it.
 */
int		 fut_spec_parent(struct fut_spec *, uint64_t id);
int		 fut_spec_group(struct fut_spec *, const char *name);
int		 fut_spec_cwd(struct fut_spec *, const char *dir);
/** Where the job runs: "local" (the default) or "slurm". */
int		 fut_spec_engine(struct fut_spec *, const char *engine);
int		 fut_spec_env(struct fut_spec *, const char *key, const char *value);

/**
 * Submit a job; returns once the daemon accepted it, or NULL with the
 * reason in fut_client_error().  The future belongs to the caller, who
 * frees it with fut_future_free().
 */
struct fut_future *fut_submit(struct fut_client *, const struct fut_spec *);
/**
 * Submit n specs in one write and collect the n answers: one round trip.
 * out[i] is NULL for a refused spec.  Returns the number accepted, or < 0.
 */
int		 fut_submit_all(struct fut_client *,
		    const struct fut_spec *const *specs, size_t n,
		    struct fut_future **out);
/** A future for an existing job (made elsewhere); NULL if not found. */
struct fut_future *fut_attach(struct fut_client *, uint64_t id);

uint64_t	 fut_id(const struct fut_future *);
/**
 * The last known state; reads what has arrived, never blocks.  The
 * daemon tells a future's client of the job's start and progress as
 * they happen, so it says FUT_RUNNING while the job runs (a daemon
 * older than that is asked instead, and its answer shows in a later
 * poll).
 */
enum fut_state	 fut_poll(struct fut_future *);
/**
 * The job's progress as last told (0..1; 0 until it reports some, 1 once
 * succeeded), and its progress message copied into msg (msglen bytes,
 * "" if none; msg may be NULL).  Like fut_poll(), never blocks: call
 * fut_poll() (or any call that reads) for what has arrived.
 */
double		 fut_progress(struct fut_future *, char *msg, size_t msglen);
/**
 * 0 when done, FUT_ETIMEDOUT when timeout_ms ran out; -1 waits forever.
 * FUT_ECONN (or FUT_EPROTO) when the connection went first.
 */
int		 fut_wait(struct fut_future *, int64_t timeout_ms);
/** Wait for every future; same returns as fut_wait(). */
int		 fut_wait_all(struct fut_future **, size_t, int64_t timeout_ms);
/**
 * Wait for the first of the futures to finish and store its index in
 * *which.  The futures must all belong to one client (FUT_EINVAL).
 */
int		 fut_wait_any(struct fut_future **, size_t, int64_t timeout_ms,
		    size_t *which);
/** 1 took effect, 0 already final, < 0 error. */
int		 fut_cancel(struct fut_future *);
/** Output of a finished job, owned by the future; NULL until finished. */
const void	*fut_output(struct fut_future *, size_t *len);
/** Error message of a finished job, NULL if none; owned by the future. */
const char	*fut_error(struct fut_future *);
/** Exit status of a command, -1 if none (not a command, or a signal). */
int		 fut_exit_status(struct fut_future *);
/** Signal that ended a command, 0 if none. */
int		 fut_signal(struct fut_future *);
/** Stderr tail of a command, owned by the future; NULL if none. */
const void	*fut_stderr(struct fut_future *, size_t *len);
/**
 * Call cb(future, arg) once the job is final.  It runs on the thread that
 * reads the job's completion: inside fut_client_dispatch(), a fut_wait*
 * call or any other call that read from the connection, with no library
 * lock held, so it may submit.  If the future is already final, cb runs
 * before fut_on_done returns.  It also runs, once, when the connection is
 * lost or closed before the job is final; then fut_wait() returns
 * FUT_ECONN and fut_error() says why.  Do not free the future while its
 * callback may still run on another thread.
 */
void		 fut_on_done(struct fut_future *,
		    void (*cb)(struct fut_future *, void *), void *arg);
void		 fut_future_free(struct fut_future *);

/** The connection's fd: watch it for reading in any event loop ... */
int		 fut_client_fd(struct fut_client *);
/** ... and call this when it is readable.  0, or < 0 on a lost connection. */
int		 fut_client_dispatch(struct fut_client *);

/*
 * Job infos, lists and the daemon's other answers.  Each call below asks
 * the daemon once and returns a snapshot the caller owns and frees; a
 * snapshot is immutable, so its accessors may run on any thread without
 * a lock.  Strings and bytes it returns live as long as the snapshot.
 */
struct fut_info;
struct fut_infos;
struct fut_cancels;
struct fut_handlers;
struct fut_stats;
struct fut_metrics;
struct fut_group;
struct fut_watch;
struct fut_event;

/** The library's version (a static string). */
const char	*fut_version(void);
/** The protocol version the library speaks. */
unsigned int	 fut_protocol_version(void);
/** "waiting" ... "timed_out", as futurectl prints them; static. */
const char	*fut_state_name(enum fut_state);
/** "async", "blocking" or "cpu"; static. */
const char	*fut_kind_name(enum fut_kind);

/** Fields a job info may lack; see fut_info_has(). */
enum fut_field {
	FUT_FIELD_KIND,
	FUT_FIELD_PROGRESS,
	FUT_FIELD_EXIT_STATUS,
	FUT_FIELD_SIGNAL,
	FUT_FIELD_OUTPUT,
	FUT_FIELD_OUTPUT_TRUNCATED,
	FUT_FIELD_STDERR,
	FUT_FIELD_SUBMITTED,
	FUT_FIELD_STARTED,
	FUT_FIELD_FINISHED,
	FUT_FIELD_ATTEMPTS,
	FUT_FIELD_RETRIES,
	FUT_FIELD_PARENT,
	FUT_FIELD_PRIORITY,
	FUT_FIELD_OUTPUT_SIZE,
	FUT_FIELD_STDERR_TRUNCATED,
	FUT_FIELD_INPUT_FROM
};

/**
 * A job as it is now (no output): 0 with *out set, or < 0 (FUT_ENOTFOUND
 * for no such job of the caller's).  Free with fut_info_free().
 */
int		 fut_status(struct fut_client *, uint64_t id,
		    struct fut_info **out);
/** A finished job with its output; FUT_ENOTREADY if not finished. */
int		 fut_result(struct fut_client *, uint64_t id,
		    struct fut_info **out);
void		 fut_info_free(struct fut_info *);
/** 1 if the info carries the field, else 0. */
int		 fut_info_has(const struct fut_info *, enum fut_field);
uint64_t	 fut_info_id(const struct fut_info *);
enum fut_state	 fut_info_state(const struct fut_info *);
enum fut_kind	 fut_info_kind(const struct fut_info *);
/** Strings are NULL when absent. */
const char	*fut_info_handler(const struct fut_info *);
const char	*fut_info_name(const struct fut_info *);
const char	*fut_info_group(const struct fut_info *);
/** 0 to 1. */
double		 fut_info_progress(const struct fut_info *);
const char	*fut_info_progress_msg(const struct fut_info *);
/** -1 if the job is no command that exited. */
int		 fut_info_exit_status(const struct fut_info *);
/** 0 if no signal ended it. */
int		 fut_info_signal(const struct fut_info *);
/** The job's error message, and its FUT_E* code (FUT_OK if none). */
const char	*fut_info_error(const struct fut_info *);
int		 fut_info_error_code(const struct fut_info *);
/** How a final job ended, in words ("exited", "terminated", ...). */
const char	*fut_info_ended(const struct fut_info *);
/** Where it runs ("local", "slurm"), and its Slurm job id (or NULL). */
const char	*fut_info_engine(const struct fut_info *);
const char	*fut_info_slurm_job_id(const struct fut_info *);
/** The output; NULL when the info carries none (see FUT_FIELD_OUTPUT). */
const void	*fut_info_output(const struct fut_info *, size_t *len);
int		 fut_info_output_truncated(const struct fut_info *);
/** Bytes of output the daemon keeps for the job. */
uint64_t	 fut_info_output_size(const struct fut_info *);
const void	*fut_info_stderr(const struct fut_info *, size_t *len);
/**
 * 1 if the command wrote more stderr than the tail kept (see
 * FUT_FIELD_STDERR_TRUNCATED: older daemons do not say).
 */
int		 fut_info_stderr_truncated(const struct fut_info *);
/** The jobs it waits for (spec's after): how many, and the n-th. */
size_t		 fut_info_nafter(const struct fut_info *);
uint64_t	 fut_info_after(const struct fut_info *, size_t);
/** The job whose output is its input, 0 if none. */
uint64_t	 fut_info_input_from(const struct fut_info *);
/** Milliseconds since the epoch; 0 when not (yet) known. */
int64_t		 fut_info_submitted_ms(const struct fut_info *);
int64_t		 fut_info_started_ms(const struct fut_info *);
int64_t		 fut_info_finished_ms(const struct fut_info *);
unsigned int	 fut_info_attempts(const struct fut_info *);
/** Attempts allowed after the first. */
unsigned int	 fut_info_retries(const struct fut_info *);
/** The parent job, 0 if none. */
uint64_t	 fut_info_parent(const struct fut_info *);
int		 fut_info_priority(const struct fut_info *);
size_t		 fut_info_nargs(const struct fut_info *);
const char	*fut_info_arg(const struct fut_info *, size_t);
size_t		 fut_info_nctx(const struct fut_info *);
/** The i-th context entry's key; its value in *value. */
const char	*fut_info_ctx(const struct fut_info *, size_t,
		    const char **value);

size_t		 fut_infos_count(const struct fut_infos *);
const struct fut_info *fut_infos_at(const struct fut_infos *, size_t);
void		 fut_infos_free(struct fut_infos *);

/**
 * The caller's jobs, oldest first, without output: all of them, or
 * those in state (-1: any) and of group (NULL: any).
 */
int		 fut_list(struct fut_client *, int state, const char *group,
		    struct fut_infos **out);

#define FUT_WAIT_ANY	0x1	/**< done when the first job is final */
#define FUT_WAIT_OUTPUT	0x2	/**< the infos carry the output */
/**
 * Wait for jobs by id, or for every job of a group (ids NULL, n 0): 0
 * when done, FUT_ETIMEDOUT when timeout_ms (-1: none) ran out first; in
 * both cases *out holds the jobs' infos in request order.  With
 * FUT_WAIT_ANY, *first (if not NULL) is the id that finished first.
 * Other errors < 0, *out NULL.
 */
int		 fut_wait_jobs(struct fut_client *, const uint64_t *ids,
		    size_t n, const char *group, unsigned int flags,
		    int64_t timeout_ms, struct fut_infos **out,
		    uint64_t *first);
/** fut_wait_jobs() for a group. */
int		 fut_wait_group(struct fut_client *, const char *group,
		    int64_t timeout_ms, struct fut_infos **out);

/**
 * Cancel jobs by id, or every unfinished job of a group (ids NULL, n 0);
 * grace_ms is a command's time between SIGTERM and SIGKILL (-1: the
 * daemon's).  *out gets one outcome per job; see fut_cancels_get().  An
 * id of no job of the caller's refuses the whole request: FUT_ENOTFOUND,
 * the unknown ids named in fut_client_error(), nothing cancelled.
 */
int		 fut_cancel_jobs(struct fut_client *, const uint64_t *ids,
		    size_t n, const char *group, int64_t grace_ms,
		    struct fut_cancels **out);
size_t		 fut_cancels_count(const struct fut_cancels *);
/**
 * Outcome i: the job's id, whether the cancel took effect and the state
 * after it.  Returns FUT_OK, or FUT_EINVAL past the last outcome.
 */
int		 fut_cancels_get(const struct fut_cancels *, size_t,
		    uint64_t *id, int *took_effect, int *state);
void		 fut_cancels_free(struct fut_cancels *);

/** The handlers the daemon has. */
int		 fut_handlers(struct fut_client *, struct fut_handlers **out);
size_t		 fut_handlers_count(const struct fut_handlers *);
const char	*fut_handlers_name(const struct fut_handlers *, size_t);
/** NULL if none. */
const char	*fut_handlers_description(const struct fut_handlers *,
		    size_t);
/** The kinds handler i accepts: a mask of 1 << enum fut_kind. */
unsigned int	 fut_handlers_kinds(const struct fut_handlers *, size_t);
enum fut_kind	 fut_handlers_default_kind(const struct fut_handlers *,
		    size_t);
/**
 * A handler served by workers (futured-workers(7)): how many serve it
 * now (0: its jobs wait for one).  -1: the daemon's own handler.
 */
int		 fut_handlers_workers(const struct fut_handlers *, size_t);
void		 fut_handlers_free(struct fut_handlers *);

/** Counters of fut_stats_get(), per kind. */
enum fut_stat {
	FUT_STAT_WAITING,
	FUT_STAT_QUEUED,
	FUT_STAT_RUNNING,
	FUT_STAT_SUCCEEDED,
	FUT_STAT_FAILED,
	FUT_STAT_CANCELLED,
	FUT_STAT_TIMED_OUT,
	FUT_STAT_POOL_SIZE,
	FUT_STAT_POOL_BUSY
};
/** The daemon's counters. */
int		 fut_stats(struct fut_client *, struct fut_stats **out);
int64_t		 fut_stats_uptime_ms(const struct fut_stats *);
uint64_t	 fut_stats_jobs_total(const struct fut_stats *);
unsigned int	 fut_stats_connections(const struct fut_stats *);
/** NULL if the daemon did not say. */
const char	*fut_stats_server_version(const struct fut_stats *);
/** The kinds counted, in the daemon's order, and their counters. */
size_t		 fut_stats_nkinds(const struct fut_stats *);
enum fut_kind	 fut_stats_kind(const struct fut_stats *, size_t);
uint64_t	 fut_stats_get(const struct fut_stats *, size_t,
		    enum fut_stat);
/** Counters of fut_stats_pool_get(), per worker pool. */
enum fut_pool_stat {
	FUT_POOL_PROCESSES,	/* workers registered now */
	FUT_POOL_BUSY,		/* tasks they hold */
	FUT_POOL_CAPACITY,	/* the sum of their concurrency */
	/* A supervised pool's; 0 for "attached": */
	FUT_POOL_SIZE,		/* processes it runs when healthy */
	FUT_POOL_ALIVE,		/* of them running now */
	FUT_POOL_RESTARTS,	/* processes replaced so far */
	FUT_POOL_SPARES,	/* warm spares ready now */
	FUT_POOL_RESPAWNS	/* kills fut_stats_pool_respawn_ms measured */
};
/**
 * The worker pools (futured-workers(7)): each supervised pool, and
 * "attached" for the workers that connected by themselves.
 */
size_t		 fut_stats_npools(const struct fut_stats *);
const char	*fut_stats_pool_name(const struct fut_stats *, size_t);
int		 fut_stats_pool_supervised(const struct fut_stats *, size_t);
unsigned int	 fut_stats_pool_get(const struct fut_stats *, size_t,
		    enum fut_pool_stat);
/**
 * A supervised pool's health: its state ("starting", "running",
 * "failing", "failed"; NULL for "attached"), and its last failure: the
 * one-line error (NULL: none), the exit status of the process (-1: it
 * did not exit) or the signal that killed it (0: none), the end of its
 * stderr (NULL: none), how long ago (-1: never).  fut_stats_pool_respawn_ms:
 * from the last kill of a running cpu job's process until its slot
 * served again (-1: none yet).
 */
const char	*fut_stats_pool_state(const struct fut_stats *, size_t);
const char	*fut_stats_pool_last_failure(const struct fut_stats *, size_t);
int		 fut_stats_pool_last_exit(const struct fut_stats *, size_t);
int		 fut_stats_pool_last_signal(const struct fut_stats *, size_t);
const char	*fut_stats_pool_last_stderr(const struct fut_stats *, size_t);
int64_t		 fut_stats_pool_last_ago_ms(const struct fut_stats *, size_t);
int64_t		 fut_stats_pool_respawn_ms(const struct fut_stats *, size_t);
void		 fut_stats_free(struct fut_stats *);

/**
 * The daemon's metrics in the Prometheus text format (0.0.4), the text
 * its --metrics-listen serves.  fut_metrics_text() is valid until
 * fut_metrics_free().
 */
int		 fut_metrics(struct fut_client *, struct fut_metrics **out);
const char	*fut_metrics_text(const struct fut_metrics *);
void		 fut_metrics_free(struct fut_metrics *);

/** Counters of fut_group_count(). */
enum fut_group_counter {
	FUT_GROUP_JOBS,
	FUT_GROUP_RUNNING,
	FUT_GROUP_PENDING,	/**< waiting or queued */
	FUT_GROUP_SUCCEEDED,
	FUT_GROUP_FAILED	/**< failed, cancelled or timed out */
};
/**
 * Create or configure a group of the caller's: fail_fast 0 or 1 (-1:
 * leave it), parallel the most jobs running at once (0: no limit, -1:
 * leave it).  *out (if not NULL) gets the group as it now is.
 */
int		 fut_group_set(struct fut_client *, const char *name,
		    int fail_fast, int64_t parallel, struct fut_group **out);
const char	*fut_group_name(const struct fut_group *);
int		 fut_group_fail_fast(const struct fut_group *);
unsigned int	 fut_group_parallel(const struct fut_group *);
/** 1 if this call created the group. */
int		 fut_group_created(const struct fut_group *);
uint64_t	 fut_group_count(const struct fut_group *,
		    enum fut_group_counter);
void		 fut_group_free(struct fut_group *);

struct fut_pool;
/**
 * Ask for a supervised pool (futured-workers(7)): the daemon runs
 * size processes (0: as many as its cpu pool) of argv[0..argc-1],
 * serving kinds (a mask of 1 << FUT_ASYNC, FUT_BLOCKING, FUT_CPU; 0:
 * all three), started in cwd (NULL: "/") with the nenv "KEY=VALUE"
 * strings of env as their whole environment, named name (NULL: made
 * from argv).  Returns once its first process registered (at once if
 * it runs already) with *out (if not NULL) the answer; an error names
 * why it could not start.  The same argv, user and cwd give the same
 * pool.
 */
int		 fut_pool_request(struct fut_client *, const char *const *argv,
		    size_t argc, unsigned int size, unsigned int kinds,
		    const char *cwd, const char *const *env, size_t nenv,
		    const char *name, struct fut_pool **out);
const char	*fut_pool_name(const struct fut_pool *);
/** 1 if this request started the pool. */
int		 fut_pool_created(const struct fut_pool *);
/** The handlers its first process serves. */
size_t		 fut_pool_nhandlers(const struct fut_pool *);
const char	*fut_pool_handler(const struct fut_pool *, size_t);
void		 fut_pool_free(struct fut_pool *);

/**
 * Ask the daemon for its version (copied into version, len bytes at
 * most, NUL-terminated) and the protocol version it speaks; either may
 * be NULL.
 */
int		 fut_ping(struct fut_client *, char *version, size_t len,
		    unsigned int *protocol);

#define FUT_WATCH_PROGRESS	0x1	/**< state and progress, no output */
/**
 * Follow a job: a stream of events, the first with the job as it is,
 * then one on each change of state or progress and as its output grows,
 * the last final.  fut_watch_add() follows more jobs in the same stream.
 * NULL on failure (fut_client_error() says why); an unknown id is
 * reported by fut_watch_next().
 */
struct fut_watch *fut_watch_open(struct fut_client *, uint64_t id,
		    unsigned int flags);
int		 fut_watch_add(struct fut_watch *, uint64_t id);
/**
 * The next event: 1 with *ev set (free it with fut_event_free()), 0 when
 * every job watched has had its final event, FUT_ETIMEDOUT when
 * timeout_ms (-1: none) ran out, or the error that ended one job's
 * stream (FUT_ENOTFOUND, FUT_ECONN, ...; the others go on).
 */
int		 fut_watch_next(struct fut_watch *, int64_t timeout_ms,
		    struct fut_event **ev);
/**
 * The callback form, for an event loop: cb(ev, 0, arg) for each event,
 * or cb(NULL, err, arg) when a job's stream ends in an error.  It runs
 * as done-callbacks do (inside fut_client_dispatch() or any call that
 * read from the connection, no lock held); ev is the library's and valid
 * during the call only.  A callback may close its watch.
 */
struct fut_watch *fut_watch_start(struct fut_client *, uint64_t id,
		    unsigned int flags,
		    void (*cb)(const struct fut_event *, int, void *),
		    void *arg);
/** 1 while some job watched has not had its final event. */
int		 fut_watch_active(struct fut_watch *);
/** Stop following; events still queued are dropped. */
void		 fut_watch_close(struct fut_watch *);
/**
 * Submit s and follow the job from its start, in one request, so that
 * the stream misses nothing a fast job writes before a watch could be
 * opened on its id: the watch as fut_watch_open() gives it, the job's
 * id in *id (if not NULL).  NULL on failure (fut_client_error(): the
 * submit's error).
 */
struct fut_watch *fut_submit_watch(struct fut_client *,
		    const struct fut_spec *, unsigned int flags, uint64_t *id);

uint64_t	 fut_event_id(const struct fut_event *);
/** The job's state and progress; never its output (see below). */
const struct fut_info *fut_event_info(const struct fut_event *);
/** Output since the previous event, NULL if none. */
const void	*fut_event_output(const struct fut_event *, size_t *len);
/**
 * Bytes of output the job wrote before this event's (final: before its
 * end) that the watch does not carry: it began after the kept output
 * was cut, or read too slowly.  0: none.
 */
uint64_t	 fut_event_output_dropped(const struct fut_event *);
/**
 * A command's stderr since the previous event, as it wrote it (the
 * first event: the tail kept so far); NULL if none, and from daemons
 * that send only the tail at the end (fut_info_stderr() of the final
 * event).  Not in FUT_WATCH_PROGRESS watches.
 */
const void	*fut_event_stderr(const struct fut_event *, size_t *len);
uint64_t	 fut_event_stderr_dropped(const struct fut_event *);
/** 1 for the job's last event. */
int		 fut_event_final(const struct fut_event *);
void		 fut_event_free(struct fut_event *);

/*
 * Workers: a program that serves handlers of its own (futured-workers(7)).
 * A worker is one connection; the daemon pushes it tasks (one attempt of
 * one job each) for the handlers it registered, and it answers each with
 * progress, output and an outcome.  fut_worker_next() is called from one
 * thread; tasks may be worked on and finished from any thread.
 */
struct fut_worker;	/**< one connection serving handlers */
struct fut_task;	/**< one attempt of one job, held until finished */

/** For fut_worker_handler(): the first kind of the mask. */
#define FUT_KIND_DEFAULT	((enum fut_kind)-1)

/** Connect (path as fut_connect()) and say Hello; NULL with errno set. */
struct fut_worker *fut_worker_new(const char *path);
/**
 * The last error on this worker, human readable; a thread-local copy
 * valid until this thread's next call.
 */
const char	*fut_worker_error(struct fut_worker *);
/**
 * Before fut_worker_register(): serve handler name ([A-Za-z0-9_.:-],
 * 1 to 200 characters) for the kinds of the mask (1 << FUT_ASYNC, ...),
 * submitted without a kind as default_kind (FUT_KIND_DEFAULT: the
 * first of the mask).  description may be NULL.
 */
int		 fut_worker_handler(struct fut_worker *, const char *name,
		    unsigned int kinds, enum fut_kind default_kind,
		    const char *description);
/** Tasks held at once, 1 (the default) to 65536. */
int		 fut_worker_concurrency(struct fut_worker *, unsigned int);
/** The supervised pool it serves; default $FUTURED_POOL (or none). */
int		 fut_worker_pool(struct fut_worker *, const char *pool);
/** A name for the daemon's logs and stats; default the program's. */
int		 fut_worker_name(struct fut_worker *, const char *name);
/** Register with the daemon; waits for its answer.  0 or < 0. */
int		 fut_worker_register(struct fut_worker *);
/** The connection's fd: readable, call fut_worker_next(w, 0, ...). */
int		 fut_worker_fd(struct fut_worker *);
/**
 * Milliseconds until fut_worker_next() must be called again to keep the
 * lease of the tasks held (-1: none held), for a program that waits on
 * fut_worker_fd() in an event loop.
 */
int64_t		 fut_worker_timeout_ms(struct fut_worker *);
/**
 * The next task: 1 with *out set, 0 when timeout_ms (0: do not wait,
 * -1: forever) ran out first, < 0 when the connection is gone (FUT_ECONN
 * when the daemon closed it; FUT_ESHUTDOWN, FUT_EPROTO).  Runs the
 * cancel callback of the tasks cancelled meanwhile, and keeps the lease:
 * while tasks are held it pings the daemon when nothing else was sent
 * for a third of it.
 */
int		 fut_worker_next(struct fut_worker *, int64_t timeout_ms,
		    struct fut_task **out);
/**
 * cb(task, arg) when a held task is cancelled (cancel, timeout, or the
 * connection lost), on the thread in fut_worker_next().  The task stays
 * valid during the call even if another thread finishes it meanwhile.
 */
void		 fut_worker_on_cancel(struct fut_worker *,
		    void (*cb)(struct fut_task *, void *), void *arg);
/** The worker's connection as a client (to submit jobs on it); its own. */
struct fut_client *fut_worker_client(struct fut_worker *);
/**
 * From any thread: end the connection now, so that fut_worker_next()
 * and fut_worker_serve() return FUT_ECONN (the daemon fails the tasks
 * held: "worker lost").  The worker must still be closed.
 */
int		 fut_worker_stop(struct fut_worker *);
/**
 * Close the connection (the daemon fails the tasks held: "worker lost")
 * and free the worker once every task is finished.  Not while another
 * thread is inside a call on it: fut_worker_stop() that thread first.
 */
void		 fut_worker_close(struct fut_worker *);

/**
 * Serve with nthreads threads until the connection is gone: each task
 * goes to the callback of fut_worker_serve_handler() for its handler.
 * Returns the error that ended it (FUT_ECONN, ...) once every running
 * callback returned.
 */
int		 fut_worker_serve(struct fut_worker *, unsigned int nthreads);
/**
 * fut_worker_handler() with a callback for fut_worker_serve(); fn must
 * finish the task (fut_task_succeed() or fut_task_fail()).
 */
int		 fut_worker_serve_handler(struct fut_worker *, const char *name,
		    unsigned int kinds, enum fut_kind default_kind,
		    const char *description,
		    void (*fn)(struct fut_task *, void *), void *arg);

uint64_t	 fut_task_job_id(const struct fut_task *);
/** 1 for the first attempt. */
unsigned int	 fut_task_attempt(const struct fut_task *);
const char	*fut_task_handler(const struct fut_task *);
enum fut_kind	 fut_task_kind(const struct fut_task *);
/** The payload (NULL and 0 if none); the task's. */
const void	*fut_task_payload(const struct fut_task *, size_t *len);
size_t		 fut_task_nargs(const struct fut_task *);
const char	*fut_task_arg(const struct fut_task *, size_t);
size_t		 fut_task_nctx(const struct fut_task *);
/** The i-th context entry's key; its value in *value. */
const char	*fut_task_ctx(const struct fut_task *, size_t,
		    const char **value);
/** When the daemon times it out, ms since the epoch; 0: never. */
int64_t		 fut_task_deadline_ms(const struct fut_task *);
/** The submitter's directory, NULL if none. */
const char	*fut_task_cwd(const struct fut_task *);
/** The job's parent, 0 if none. */
uint64_t	 fut_task_parent(const struct fut_task *);
/** The job owner's uid, -1 if the daemon did not say. */
int64_t		 fut_task_owner_uid(const struct fut_task *);
/** 1 once the task is cancelled (its outcome is no longer wanted). */
int		 fut_task_cancelled(const struct fut_task *);
/**
 * Why, once cancelled: the daemon's word ("cancelled", "timed out"), or
 * "connection lost"; NULL before.  Valid as long as the task.
 */
const char	*fut_task_cancel_reason(const struct fut_task *);
/**
 * While the task is held, from any thread: progress (0 to 1; msg may be
 * NULL), output and stderr chunks, appended.  0 (also when the task was
 * cancelled: nothing is sent), or < 0.
 */
int		 fut_task_progress(struct fut_task *, double, const char *msg);
int		 fut_task_output(struct fut_task *, const void *, size_t);
int		 fut_task_stderr(struct fut_task *, const void *, size_t);
/**
 * The outcome: succeeded with output (appended to what was sent), or
 * failed with a message, and optionally an exception type and detail
 * (a traceback).  Each frees the task, whatever it returns: 0 (also for
 * a cancelled task, whose outcome the daemon no longer wants), or < 0.
 */
int		 fut_task_succeed(struct fut_task *, const void *output,
		    size_t len);
int		 fut_task_fail(struct fut_task *, const char *error,
		    const char *type, const char *detail);

/**
 * Whole logs: with --output-dir the daemon keeps each job's stdout and
 * stderr in files, whole; these read them through the daemon (which
 * checks the caller as for every request).  A daemon without
 * --output-dir answers FUT_EINVAL.
 */
#define FUT_LOGS_STDERR		0x1	/**< the stderr log, not stdout's */
#define FUT_LOGS_FOLLOW		0x2	/**< wait for more until the job ends */
/* What a read found, or-ed in the non-negative result. */
#define FUT_LOGS_EOF		0x10	/**< the job is final, its log read to the end */
#define FUT_LOGS_TRUNCATED	0x20	/**< the log stops short (a write failed) */
#define FUT_LOGS_STOPPED	0x40	/**< fut_logs(): the callback stopped it */
/**
 * One piece of a job's log: up to len bytes from offset into buf, their
 * number in *got (0: none, or none yet).  With FUT_LOGS_FOLLOW, a call
 * that finds nothing new on a running job waits until the job writes or
 * ends.  Returns FUT_LOGS_EOF and FUT_LOGS_TRUNCATED or-ed (0: neither),
 * or a FUT_E* error.  One call is one round trip of at most 1 MiB.
 */
int		 fut_logs_read(struct fut_client *, uint64_t id,
		    unsigned int flags, uint64_t offset, void *buf,
		    size_t len, size_t *got);
/**
 * A job's whole log, from its start, handed to cb piece by piece as it
 * is read (and with FUT_LOGS_FOLLOW, as the job writes, until it ends).
 * cb returns 0 to go on; anything else stops the read (FUT_LOGS_STOPPED).
 * Returns FUT_LOGS_* bits or-ed, or a FUT_E* error.  The library holds
 * one piece at a time, whatever the log's size.
 */
int		 fut_logs(struct fut_client *, uint64_t id, unsigned int flags,
		    int (*cb)(const void *, size_t, void *), void *arg);

#ifdef __cplusplus
}
#endif

#endif /* FUTURED_FUTURED_H */
