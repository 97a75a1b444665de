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
/** The last known state; reads what has arrived, never blocks. */
enum fut_state	 fut_poll(struct fut_future *);
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
void		 fut_stats_free(struct fut_stats *);

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
