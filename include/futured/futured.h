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

struct fut_spec	*fut_spec_new(const char *handler);
void		 fut_spec_free(struct fut_spec *);
int		 fut_spec_kind(struct fut_spec *, enum fut_kind);
int		 fut_spec_payload(struct fut_spec *, const void *, size_t);
int		 fut_spec_arg(struct fut_spec *, const char *);
int		 fut_spec_timeout_ms(struct fut_spec *, int64_t);
int		 fut_spec_deadline_ms(struct fut_spec *, int64_t);
int		 fut_spec_priority(struct fut_spec *, int);
int		 fut_spec_retries(struct fut_spec *, unsigned int);
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

#ifdef __cplusplus
}
#endif

#endif /* FUTURED_FUTURED_H */
