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
 *
 * A plugin is a shared object (cc -shared -fPIC) that futured loads with
 * --plugin PATH.  It defines the entry point FUT_PLUGIN_ENTRY, most simply
 * with FUT_PLUGIN(&h1, &h2), and calls the accessors below, which the
 * daemon exports to it.
 */

#ifndef FUTURED_HANDLER_H
#define FUTURED_HANDLER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Bump when struct fut_handler or a call below changes incompatibly.
 * futured refuses a handler whose abi differs from its own; abi stays
 * the first member of struct fut_handler so that it can always be read.
 */
#define FUT_HANDLER_ABI		2

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
/**
 * fut_handler.flags: any user may submit it to a --system daemon, which
 * runs as root: the handler does nothing with root's rights on a user's
 * behalf (exec runs the command as its owner).  Without it only root
 * may.  system_check() may still refuse a job by its arguments.
 */
#define FUT_HF_SYSTEM_SAFE	0x2

struct event_base;
struct fut_handler_ctx;

struct fut_handler {
	int		 abi;		/**< FUT_HANDLER_ABI; always first */
	const char	*name;		/**< unique among all handlers */
	const char	*description;	/**< one line for futurectl handlers */
	unsigned int	 kinds;		/**< FUT_HK_* accepted */
	unsigned int	 default_kind;	/**< one FUT_HK_* bit */
	unsigned int	 flags;		/**< FUT_HF_* */
	/** Blocking and cpu kinds: the work; 0 succeeded, -1 failed. */
	int		(*run)(struct fut_handler_ctx *);
	/** Async kind (and FUT_HF_LOOP): begin; -1 failed at once. */
	int		(*start)(struct fut_handler_ctx *);
	/** Async kind: undo start(); may be NULL if nothing to undo. */
	void		(*cancel)(struct fut_handler_ctx *);
	/**
	 * FUT_HF_SYSTEM_SAFE: at submit to a --system daemon by another
	 * user than root, -1 after fut_handler_fail() refuses the job
	 * (the message goes to the client); may be NULL.  On the loop,
	 * before the job is accepted: only the spec accessors answer.
	 */
	int		(*system_check)(struct fut_handler_ctx *);
	/**
	 * At every submit, before the job is accepted: -1 after
	 * fut_handler_fail() refuses a job its handler could never run,
	 * such as sleep of "abc", as invalid (ERR_INVALID; the message,
	 * which names the bad argument, goes to the client).  May be NULL.
	 * On the loop: only the spec accessors answer.
	 */
	int		(*check)(struct fut_handler_ctx *);
};

/**
 * The name of the function a plugin exports, for dlsym(3).  It returns a
 * NULL-terminated array of handlers that, like the handlers themselves,
 * stay valid for the life of the process (a plugin is never unloaded).
 * It is called once in the daemon and once in every cpu worker process,
 * after the built-in handlers are registered; each handler it returns is
 * checked (abi, a unique name, kinds, entry points) and the daemon
 * refuses to start if one is refused.
 */
#define FUT_PLUGIN_ENTRY	"fut_plugin_handlers"

/** The entry point; a plugin defines it, the daemon does not. */
const struct fut_handler *const *fut_plugin_handlers(void);

/**
 * Define the entry point of a plugin returning the handlers given, as in
 * FUT_PLUGIN(&my_handler, &my_other_handler).  Use it once, at file
 * scope; it keeps the entry visible under -fvisibility=hidden.
 */
#define FUT_PLUGIN(...)							\
__attribute__((__visibility__("default")))				\
const struct fut_handler *const *					\
fut_plugin_handlers(void)						\
{									\
	static const struct fut_handler *const fut_plugin_list[] = {	\
		__VA_ARGS__, NULL					\
	};								\
	return (fut_plugin_list);					\
}

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
/**
 * The daemon's socket, for a handler that submits jobs of its own with
 * libfutured: fut_connect() to it and give each spec
 * fut_spec_parent(spec, fut_handler_job_id(ctx)) to make it a child of
 * this job (context and deadline inherited, cancelled with it).  NULL if
 * unknown.  From run() or a thread only: fut_wait() would block a loop
 * handler.
 */
const char	*fut_handler_socket(struct fut_handler_ctx *);

/**
 * Append to the output; 0, or -1 when out of memory.  Past futured's
 * --max-output limit the output is cut and flagged truncated, and
 * further calls still return 0.
 */
int		 fut_handler_output(struct fut_handler_ctx *, const void *,
		    size_t);
/** Set the failure message (printf-like); the job fails with it. */
void		 fut_handler_fail(struct fut_handler_ctx *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
/** Report progress: fraction in [0, 1] and an optional message. */
void		 fut_handler_progress(struct fut_handler_ctx *, double,
		    const char *);
/**
 * Non-zero once the job was cancelled or timed out: stop soon.  Set for
 * run() on a blocking thread (the job is settled already and whatever
 * run() returns is dropped) and for loop handlers before cancel().  In a
 * cpu worker it stays 0: there a cancel is SIGTERM to the worker's
 * process group, then SIGKILL after the grace.
 */
int		 fut_handler_cancelled(struct fut_handler_ctx *);

/* Loop handlers only. */
struct event_base *fut_handler_base(struct fut_handler_ctx *);
/** Finish: status 0 succeeded, -1 failed.  Exactly once. */
void		 fut_handler_done(struct fut_handler_ctx *, int status);
/** Private data a loop handler keeps between start() and done/cancel. */
void		 fut_handler_set_data(struct fut_handler_ctx *, void *);
void		*fut_handler_data(struct fut_handler_ctx *);
/**
 * At most n jobs of loop handler h run at once (0, the default: only
 * the kind's slots limit them).  For a handler whose jobs each hold
 * something the daemon has only so much of, as exec's commands hold
 * descriptors: while n of h's jobs run, the daemon starts no more, and
 * the others stay queued, in their queue's order and with their
 * timeouts not yet counting, until one ends; as behind a full kind,
 * the jobs queued after them wait too.  Jobs running already are left
 * to end when n goes down.  On the loop, at any time: check() may
 * set it, so that it holds from the first job on.
 */
void		 fut_handler_set_limit(const struct fut_handler *,
		    unsigned int n);

/*
 * What a handler that runs commands needs (exec is one; see
 * futured-handlers(7)).  Everything below but the logging call is for
 * loop handlers, on the loop's thread.
 */

/** The submitter's working directory, or NULL if it sent none. */
const char	*fut_handler_cwd(struct fut_handler_ctx *);
/**
 * The job's environment, a NULL-terminated KEY=VALUE list, or NULL when
 * the client sent none.
 */
char *const	*fut_handler_env(struct fut_handler_ctx *);
/** Context entry i (0 up), its key in *key; NULL past the last. */
const char	*fut_handler_ctx_entry(struct fut_handler_ctx *, size_t i,
		    const char **key);
/** The uid of the job's owner: the submitter's peer credentials. */
uid_t		 fut_handler_owner(struct fut_handler_ctx *);
/**
 * NULL when a command runs as the daemon's user.  Otherwise (a --system
 * daemon running another user's job) the command must run as the owner,
 * with the owner's passwd groups: spawn the program this returns with
 * an empty environment as
 *	PATH --exec-as UID CWD PROG NENV ENV... ARGV...
 * (CWD empty: none); it drops to the owner for good, enters CWD with the
 * owner's rights and executes PROG.
 */
const char	*fut_handler_exec_as(struct fut_handler_ctx *);
/**
 * NULL when commands keep their process group alone.  Otherwise the
 * daemon gives each job a cgroup of its own, *dir, which a command must
 * join before it executes anything: spawn the program this returns as
 *	PATH --exec-in DIR PROG ARGV...
 * (with the command's environment) or, when fut_handler_exec_as() is
 * not NULL, as PATH --exec-in DIR --exec-as ... (empty environment).
 * The daemon removes the cgroup when the job ends.
 */
const char	*fut_handler_exec_in(struct fut_handler_ctx *,
		    const char **dir);
/**
 * SIGKILL to every process in the job's cgroup, wherever it went
 * (setsid): 0, or -1 when the job has none (then the process group is
 * all there is).
 */
int		 fut_handler_kill_all(struct fut_handler_ctx *);
/** The grace between SIGTERM and SIGKILL of this cancel, in ms. */
int64_t		 fut_handler_grace_ms(struct fut_handler_ctx *);
/**
 * How a cancelled or timed-out job's process ended, as futurectl status
 * shows it ("killed after the grace"); the first word stands.
 */
void		 fut_handler_set_ended(struct fut_handler_ctx *, const char *);
/** A command's exit status (-1: none) and terminating signal (0: none). */
void		 fut_handler_set_exit(struct fut_handler_ctx *, int status,
		    int sig);
/** Append to the stderr tail (its last --stderr-tail bytes are kept). */
void		 fut_handler_stderr(struct fut_handler_ctx *, const void *,
		    size_t);

/** The wait(2) status of a watched child, on the loop. */
typedef void	(*fut_handler_child_cb)(pid_t, int status, void *arg);
/**
 * The daemon reaps every child (a waitpid(-1) loop on SIGCHLD), so a
 * handler that spawns one hands its pid to the daemon: cb gets its wait
 * status once it exits, and runs before this returns if it exited
 * already (which can only happen after fut_handler_expect_child()).
 * Ends what fut_handler_expect_child() began.
 */
void		 fut_handler_watch_child(struct fut_handler_ctx *, pid_t,
		    fut_handler_child_cb, void *);
/**
 * The job's command is pid, the leader of its own process group: the
 * daemon records it (with its start time) in the journal, and if the
 * daemon dies, the one started after it ends that group, if it still
 * runs, when it fails or requeues the job.
 */
void		 fut_handler_set_process(struct fut_handler_ctx *, pid_t);
/**
 * For a handler that spawns off the loop (in a thread of its own): call
 * on the loop before the spawn, so that a child which exits before the
 * loop knows its pid keeps its status for fut_handler_watch_child().  If
 * the spawn fails, call fut_handler_expect_child_done() instead.
 */
void		 fut_handler_expect_child(struct fut_handler_ctx *);
void		 fut_handler_expect_child_done(struct fut_handler_ctx *);

/** fut_handler_log() levels. */
#define FUT_LOG_WARN		1
#define FUT_LOG_INFO		2
#define FUT_LOG_DEBUG		3
/**
 * Log through the daemon (its log level and destination), prefixed with
 * the job's id.  Any thread.
 */
void		 fut_handler_log(struct fut_handler_ctx *, int level,
		    const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif /* FUTURED_HANDLER_H */
