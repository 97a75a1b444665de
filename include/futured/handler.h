/*
 * The handler ABI of futured(8): what a handler (built-in or plugin) is,
 * and the calls it makes on the job it runs.  See futured-handlers(7).
 *
 * A handler is a static struct fut_handler.  It runs in one of two ways:
 *
 *  - run():   synchronous.  Called on a thread of the blocking pool or
 *             inside a cpu worker process.  It may block; it should check
 *             fut_handler_cancelled() now and then.  Return 0 for success,
 *             -1 for failure (after fut_handler_fail()).
 *  - start(): asynchronous, on the daemon's event loop; it must never
 *             block.  It arranges its own events on fut_handler_base()
 *             and calls fut_handler_done() exactly once, possibly from
 *             within start() itself.  cancel() must stop what start()
 *             began and must not call fut_handler_done().
 *
 * All fut_handler_* accessors take the job context the daemon passed in;
 * the context and everything it returns stay valid until run() returns or
 * fut_handler_done() is called.
 */

#ifndef FUTURED_HANDLER_H
#define FUTURED_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bump when struct fut_handler or a call below changes incompatibly. */
#define FUT_HANDLER_ABI		1

/** Kind bits for fut_handler.kinds. */
#define FUT_HK_ASYNC		0x1
#define FUT_HK_BLOCKING		0x2
#define FUT_HK_CPU		0x4

/**
 * fut_handler.flags: the handler runs on the event loop (start/cancel)
 * under every kind it accepts; the kind only decides which pool's slots
 * it counts against.  exec uses it: its work is a child process.
 */
#define FUT_HF_LOOP		0x1

struct event_base;
struct fut_handler_ctx;

struct fut_handler {
	int		 abi;		/**< FUT_HANDLER_ABI */
	const char	*name;
	const char	*description;
	unsigned int	 kinds;		/**< FUT_HK_* accepted */
	unsigned int	 default_kind;	/**< one FUT_HK_* bit */
	unsigned int	 flags;		/**< FUT_HF_* */
	int		(*run)(struct fut_handler_ctx *);
	int		(*start)(struct fut_handler_ctx *);
	void		(*cancel)(struct fut_handler_ctx *);
};

/** The job's id. */
uint64_t	 fut_handler_job_id(struct fut_handler_ctx *);
/** The payload; never NULL (an empty payload has length 0). */
const void	*fut_handler_payload(struct fut_handler_ctx *, size_t *len);
size_t		 fut_handler_nargs(struct fut_handler_ctx *);
const char	*fut_handler_arg(struct fut_handler_ctx *, size_t);
/** A context entry, or NULL. */
const char	*fut_handler_ctx_get(struct fut_handler_ctx *, const char *key);
/** Run-time limit in ms, 0 if none (the daemon enforces it anyway). */
int64_t		 fut_handler_timeout_ms(struct fut_handler_ctx *);

/** Append to the output; past the limit it is cut and flagged truncated. */
int		 fut_handler_output(struct fut_handler_ctx *, const void *,
		    size_t);
/** Set the failure message (printf-like); the job fails with it. */
void		 fut_handler_fail(struct fut_handler_ctx *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
/** Report progress: fraction in [0, 1] and an optional message. */
void		 fut_handler_progress(struct fut_handler_ctx *, double,
		    const char *);
/** Non-zero once the job was cancelled or timed out: stop soon. */
int		 fut_handler_cancelled(struct fut_handler_ctx *);

/* Loop handlers only. */
struct event_base *fut_handler_base(struct fut_handler_ctx *);
/** Finish: status 0 succeeded, -1 failed.  Exactly once. */
void		 fut_handler_done(struct fut_handler_ctx *, int status);
/** Private data a loop handler keeps between start() and done/cancel. */
void		 fut_handler_set_data(struct fut_handler_ctx *, void *);
void		*fut_handler_data(struct fut_handler_ctx *);

#ifdef __cplusplus
}
#endif

#endif /* FUTURED_HANDLER_H */
