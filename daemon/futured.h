/*
 * futured's internal header: every daemon structure, and the prototypes
 * of each file grouped under its name, so that this header is also the
 * index of the daemon.  Only the event-loop thread touches struct job;
 * pool threads and worker processes see a struct fut_handler_ctx.
 */

#ifndef FUTURED_DAEMON_H
#define FUTURED_DAEMON_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "buf.h"
#include "futured/handler.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif
#ifndef LIST_FOREACH_SAFE
#define LIST_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = LIST_FIRST(head);					\
	    (var) != NULL && ((tvar) = LIST_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct event_base;
struct event;
struct evbuffer;
struct pool;

#define FUTURED_VERSION		PACKAGE_VERSION

/* Limits and defaults. */
#define DEFAULT_GRACE_MS	5000		/* cancel: TERM, then KILL */
#define DEFAULT_SHUTDOWN_GRACE_MS 10000	/* running jobs may finish */
#define DEFAULT_RETRY_DELAY_MS	500		/* doubles per attempt */
#define DEFAULT_RETRY_DELAY_MAX_MS 60000
#define DEFAULT_RETENTION_MS	(24 * 3600 * 1000)
#define DEFAULT_RETAIN_MAX	100000		/* finished jobs kept */
#define DEFAULT_MAX_OUTPUT	(4U * 1024 * 1024)
#define DEFAULT_STDERR_TAIL	4096
#define DEFAULT_ASYNC_SLOTS	1024
#define DEFAULT_READ_TIMEOUT_MS	10000		/* to complete a started frame */
#define DEFAULT_MAX_CLIENTS	1024
#define DEFAULT_MAX_UNREAD	(64U * 1024 * 1024)	/* answers not read */
#define DEFAULT_MAX_QUEUED	100000		/* per uid, not yet running */
#define DEFAULT_WORKER_LEASE_MS	30000		/* a worker's silence, held tasks */
#define DEFAULT_METRICS_INTERVAL_MS 15000	/* --metrics-textfile */
#define DEFAULT_SLURM_INTERVAL_MS 1000	/* --slurm-interval */
#define JOB_PRIO_MIN		(-20)
#define JOB_PRIO_MAX		20
#define JOB_PRIO_LEVELS		(JOB_PRIO_MAX - JOB_PRIO_MIN + 1)
/* The longest timeout, deadline or retry delay: 100 years, in ms. */
#define JOB_DURATION_MAX	(INT64_C(100) * 365 * 24 * 3600 * 1000)

enum job_kind {
	JOB_ASYNC,
	JOB_BLOCKING,
	JOB_CPU
};
#define JOB_NKINDS		3

enum job_state {
	JOB_WAITING,
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_CANCELLED,
	JOB_TIMED_OUT
};
#define JOB_NSTATES		7
#define JOB_FINAL(s)		((s) >= JOB_SUCCEEDED)

/* Error codes; the same numbers as futured.proto's ErrorCode. */
#define FERR_NONE		0
#define FERR_PROTO		1
#define FERR_VERSION		2
#define FERR_INVALID		3
#define FERR_NOT_FOUND		4
#define FERR_NOT_READY		5
#define FERR_UNKNOWN_HANDLER	6
#define FERR_BAD_KIND		7
#define FERR_QUEUE_FULL		8
#define FERR_TOO_BIG		9
#define FERR_PERM		10
#define FERR_INTERNAL		11
#define FERR_SHUTTING_DOWN	12

struct kv {
	char	*key;
	char	*value;
};

/* A named set of one user's jobs (group.c). */
struct jobgroup {
	char			*name;
	uid_t			 owner;
	int			 fail_fast;
	u_int			 parallel;	/* 0: no limit */
	u_int			 running;
	TAILQ_HEAD(, job)	 held;		/* queued, over the limit */
	TAILQ_HEAD(, job_more)	 members;
	LIST_ENTRY(jobgroup)	 entry;
};

struct waiter;
struct waitref {
	struct waiter		*waiter;
	struct job		*job;
	TAILQ_ENTRY(waitref)	 entry;
};
TAILQ_HEAD(waitrefs, waitref);

/*
 * A job is kept small because a million may sit in a queue: what a
 * queued job of the plain kind needs is in struct job itself (about 120
 * bytes); the rest of its spec and everything that only running or
 * finished jobs, or jobs linked to others, need are in two blocks that
 * start out shared and read-only (job_spec_none, job_more_none).  Code
 * reads j->spec->x and j->more->x freely; it writes only through
 * job_spec_own(j) and job_more(j), which give the job its own block on
 * first use.  The const pointers make the compiler hold to that.
 */
struct job_spec {
	char			*name;		/* may be NULL */
	char			*group;		/* may be NULL */
	char			*cwd;		/* may be NULL */
	char		       **args;		/* nargs entries */
	size_t			 nargs;
	char		       **envp;		/* NULL-terminated KEY=VALUE, or NULL */
	struct kv		*ctx;
	size_t			 nctx;
	int64_t			 timeout_ms;	/* from start, 0: none */
	int64_t			 deadline_ms;	/* from submission, 0: none */
	uint32_t		 retries;
	int			 retry_timeouts;	/* retry timed-out runs too */
	int64_t			 retry_delay_ms;	/* first retry's delay */
	uint64_t		 parent;	/* 0: none */
	uint64_t		*after;		/* ids that must succeed first */
	size_t			 nafter;
	uint64_t		 input_from;	/* 0: none */
	int			 engine;	/* JOB_ENGINE_* */
};
#define JOB_ENGINE_LOCAL	0	/* this machine's pools */
#define JOB_ENGINE_SLURM	1	/* pool_slurm.c */
#define JOB_NENGINES		2

struct job_more {
	struct job		*job;		/* whose block this is */

	/* Times in ms; 0 until they happen. */
	int64_t			 submitted_mono;	/* set if a deadline */
	int64_t			 started_at;	/* wall clock, since the epoch */
	int64_t			 finished_at;
	int64_t			 started_mono;
	int64_t			 queued_at;	/* back in the queue (metrics) */
	int64_t			 finished_mono;

	/* The outcome; filled by job_finish(). */
	struct buf		 output;
	struct buf		 errtail;
	/*
	 * What this attempt wrote through job_output(), kept or not, and
	 * during the job_news() it makes, the bytes it tells of: watchers
	 * take what the kept output does not hold from there.
	 */
	uint64_t		 out_written;
	uint64_t		 err_written;
	const uint8_t		*fresh;
	size_t			 fresh_len;
	int			 fresh_err;	/* fresh is stderr */
	int			 exit_status;	/* -1: none */
	int			 term_signal;	/* 0: none */
	int			 error_code;	/* FERR_* */
	uint32_t		 attempts;
	/* The command of attempt proc_attempt (fut_handler_set_process()). */
	pid_t			 proc_pid;	/* 0: none */
	/* The engine's id of attempt engine_attempt (Slurm's job id). */
	char			*engine_id;	/* NULL: none */
	uint32_t		 engine_attempt;
	uint32_t		 proc_attempt;
	uint64_t		 proc_start;	/* clock ticks after boot */
	char			*error;
	double			 progress;
	char			*progress_msg;
	const char		*ended;		/* how it ended, static text */
	struct joblog		*log;		/* joblog.c's, or NULL */

	/* Running: the pool it was handed to (pool.h), or NULL. */
	const struct pool	*pool;
	struct fut_handler_ctx	*hctx;
	struct event		*timer;		/* timeout or deadline */
	struct event		*retry_timer;	/* back-off before a retry */

	/* Links to other jobs. */
	struct job		*parent_job;	/* referenced, or NULL */
	TAILQ_HEAD(, job_more)	 children;
	TAILQ_ENTRY(job_more)	 centry;	/* parent_job's children */
	struct jobgroup		*grp;		/* or NULL */
	TAILQ_ENTRY(job_more)	 gentry;	/* grp's members */
	struct job		*input_job;	/* input_from, referenced */
	struct waiter		*deps;		/* sched.c: waiting on after */
	struct waitrefs		 waiters;
};

struct job {
	uint64_t		 id;
	uint64_t		 seq;		/* arrival order */
	const struct fut_handler *handler;
	const struct job_spec	*spec;		/* see above */
	const struct job_more	*more;
	uint8_t			*payload;
	size_t			 payload_len;
	uid_t			 owner;
	int			 refs;
	uint16_t		 flags;
#define JOBF_CANCELLING		0x1	/* cancel asked, process still dying */
#define JOBF_TIMEDOUT		0x2	/* the pending cancel is a timeout */
#define JOBF_DEADLINE		0x4	/* ... and it is the deadline's */
#define JOBF_RETRYWAIT		0x8	/* queued, waiting out a retry delay */
#define JOBF_HELD		0x10	/* queued, held by its group's limit */
#define JOBF_GHOST		0x20	/* replayed, its handler is gone */
#define JOBF_POOLED		0x40	/* queued inside its pool (a cpu worker) */
#define JOBF_NOTIFY_BRIEF	0x80	/* notify: the outcome only */
#define JOBF_NEWS		0x100	/* notify: its news too (JobNews) */
#define JOBF_NEWS_DUE		0x200	/* request_watch.c: news to push */
	uint8_t			 kind;		/* enum job_kind */
	/* enum job_state; const: only job.c changes it (through a cast). */
	const uint8_t		 state;
	/* Wide enough for any asked, until job_link_check() rules on it. */
	int32_t			 priority;
	int64_t			 submitted_at;	/* wall clock, ms since the epoch */
	/* The connection told of the end (request_watch.c), by id: 0 none. */
	uint64_t		 notify;

	TAILQ_ENTRY(job)	 entry;		/* a queue, or the finished list */
	struct job		*hnext;		/* job table chain */
};
TAILQ_HEAD(jobq, job);

/*
 * The per-job context handed to a handler.  Built by the loop from a job;
 * a pool thread or worker process only ever sees this, never the job.
 * The spec pointers are borrowed from the job (or, in a worker, from the
 * decoded Task) and stay valid while the handler runs.
 */
struct fut_handler_ctx {
	uint64_t		 job_id;
	const struct fut_handler *handler;
	enum job_kind		 kind;
	const uint8_t		*payload;
	size_t			 payload_len;
	char *const		*args;
	size_t			 nargs;
	const struct kv		*ctx;
	size_t			 nctx;
	int64_t			 timeout_ms;
	const char		*cwd;		/* NULL: none */
	char *const		*envp;		/* NULL: none sent */
	uid_t			 owner;

	struct buf		 output;
	struct buf		 errtail;	/* exec: stderr tail */
	int			 exit_status;	/* exec: -1 none */
	int			 term_signal;	/* exec: 0 none */
	char			*error;		/* fut_handler_fail() */
	atomic_int		 cancelled;

	/* Loop handlers. */
	struct job		*job;		/* NULL outside the loop */
	struct event_base	*base;
	void			*hdata;
	int			 child_expecting; /* fut_handler_expect_child() */
	char			*cgroup;	/* the job's, or NULL */
	int64_t			 grace_ms;	/* cancel: TERM, then KILL after */
	/* Where fut_handler_progress() goes; set by the pool. */
	void			(*progress)(struct fut_handler_ctx *, double,
				    const char *);
	/*
	 * Where fut_handler_output() goes, set by a pool that hands output
	 * on as it comes; NULL: into output.
	 */
	int			(*append)(struct fut_handler_ctx *,
				    const void *, size_t);
	/* The same for fut_handler_stderr(); NULL: into errtail. */
	void			(*append_err)(struct fut_handler_ctx *,
				    const void *, size_t);
	/* Called by fut_handler_done(); set by the pool that started it. */
	void			(*done)(struct fut_handler_ctx *, int);
	void			*pool_data;
};

/* Settings of this daemon, filled by main.c. */
struct settings {
	const char		*socket_path;
	const char		*self_exe;	/* for --worker re-execution */
	int			 threads;	/* -j */
	int			 procs;		/* -P */
	int			 async_slots;
	int64_t			 grace_ms;
	int64_t			 shutdown_grace_ms;
	int64_t			 retry_delay_ms;	/* default first delay */
	int64_t			 retry_delay_max_ms;
	int64_t			 retention_ms;	/* finished jobs kept */
	size_t			 retain_max;
	size_t			 max_output;
	size_t			 stderr_tail;
	uint32_t		 max_frame;
	int			 system;
	uint64_t		 worker_memory;	/* RLIMIT_AS of workers, 0: none */
	int64_t			 read_timeout_ms;	/* 0: none */
	int			 max_clients;
	size_t			 max_unread;
	uint64_t		 max_queued;	/* per uid */
	const char		*journal_path;	/* NULL: default, "none" */
	int			 fsync;		/* JOURNAL_FSYNC_* */
	int64_t			 fsync_interval_ms;	/* batch */
	int			 journal_repair;
	int64_t			 worker_lease_ms;	/* attached workers */
	int			 pool_spares;	/* of a cpu pool (supervise.c) */
	int64_t			 pool_idle_ms;	/* a PoolRequest pool's, 0: never */
	const char		*metrics_textfile;	/* NULL: none */
	int64_t			 metrics_interval_ms;
	const char		*metrics_listen;	/* NULL: none */
	const char		*output_dir;	/* NULL: no logs */
	/* The Slurm engine (pool_slurm.c). */
	const char		*slurm_dir;	/* NULL: beside the journal */
	const char		*slurm_partition;	/* NULL: Slurm's */
	const char		*slurm_account;
	char		       **slurm_options;	/* more sbatch options */
	size_t			 slurm_noptions;
	int64_t			 slurm_interval_ms;	/* squeue every */
	/* Handlers (fnmatch patterns) whose jobs go to Slurm. */
	char		       **slurm_handlers;
	size_t			 slurm_nhandlers;
	int			 slurm_nice_base;	/* priority 0's --nice */
};
extern struct settings	 settings;
extern struct event_base *base;

/* settings.c */
void		 settings_defaults(struct settings *);
void		 settings_slurm_option(const char *);	/* one more */
int		 settings_slurm_handlers(const char *);
void		 settings_slurm_handlers_free(void);
int		 settings_slurm_routed(const char *);
void		 settings_slurm_options_clear(void);

/* timer.c */
void		 timer_add_ms(struct event *, int64_t);

/* log.c: see log.h */

/* xmalloc.c: see xmalloc.h */

/* server.c */
struct pending;
TAILQ_HEAD(pendings, pending);
struct conn {
	int			 fd;
	uint64_t		 id;
	uid_t			 uid;
	pid_t			 pid;
	struct evbuffer		*in;		/* a frame split between reads */
	struct evbuffer		*out;		/* answers not yet written */
	struct event		*ev_read;
	struct event		*ev_write;	/* added while the socket is full */
	int			 flags;
#define CONN_CLOSING		0x1	/* flush the output, then free */
#define CONN_DEAD		0x2	/* free on the next loop turn */
#define CONN_DIRTY		0x4	/* on the list the turn's flush writes */
#define CONN_BLOCKED		0x8	/* ev_write is added */
	uint32_t		 version;	/* negotiated protocol version */
	struct pendings		 pendings;	/* request.c: answers owed */
	struct event		*read_timer;	/* deadline of a started frame */
	/*
	 * Set: answers go here, packed, instead of to out (NULL then).
	 * The seam that lets tests and fuzzers run request_dispatch()
	 * without a socket.
	 */
	void			(*sendfn)(struct conn *, const void *, size_t);
	void			*sendarg;
	struct worker		*worker;	/* registered as one, or NULL */
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 dirty_entry;
};
struct msghdr;
/* Fault injection and counting: the one call that writes to clients. */
extern ssize_t		(*server_sendmsg_fn)(int, const struct msghdr *, int);
int		 server_listen(const char *, char **);
int		 server_listen_fd(int);
struct conn	*server_conn_new(int);
int		 server_listen_activated(char **);	/* LISTEN_FDS */
void		 server_stop_accepting(void);
void		 server_close(void);
/* Queue one frame (header added here) on a connection's output. */
void		 server_conn_send(struct conn *, const void *, size_t);
/* Reserve len bytes after a header for a frame packed in place. */
void		*server_conn_reserve(struct conn *, size_t);
void		 server_conn_commit(struct conn *, size_t);
size_t		 server_conn_unread(struct conn *);	/* bytes queued */
void		 server_conn_close(struct conn *);
uid_t		 server_conn_uid(struct conn *);
u_int		 server_nconns(void);
void		 server_foreach_conn(void (*)(struct conn *, void *), void *);
/* Have this turn's flush run (it pushes request_news_flush() first). */
void		 server_flush_soon(void);

/* request.c */
void		 request_init(void);
/* One decoded frame from conn; -1: close the connection. */
int		 request_dispatch(struct conn *, const uint8_t *, size_t);
void		 request_conn_free(struct conn *);	/* drops its waiters */
/* Send an error answer with request id 0 (framing errors). */
void		 request_send_error(struct conn *, int, const char *);
/* A whole error frame (header included) for id 0; caller frees. */
uint8_t		*request_pack_error(int, const char *, size_t *);
/*
 * The daemon is stopping: refuse submits; if the journal keeps the jobs
 * that have not started (1), tell their waiters the daemon is going
 * away, and refuse to wait for them.
 */
void		 request_shutdown(int);
/* request_watch.c: push the news of this loop turn (SubmitRequest.news). */
void		 request_news_flush(void);

/* job.c: the only place a job's state changes. */
struct job	*job_new(void);
extern const struct job_spec job_spec_none;
extern const struct job_more job_more_none;
struct job_spec	*job_spec_own(struct job *);
struct job_more	*job_more(struct job *);
void		 job_ref(struct job *);
void		 job_unref(struct job *);
const char	*job_state_name(enum job_state);
const char	*job_kind_name(enum job_kind);
int		 job_kind_from_name(const char *, enum job_kind *);
int64_t		 job_now_ms(void);		/* wall clock, ms */
int64_t		 job_mono_ms(void);		/* monotonic, ms */
void		 job_submitted(struct job *, int);	/* -> WAITING or QUEUED */
void		 job_queued(struct job *);	/* WAITING -> QUEUED */
/* sched.c: the attempt is handed to a pool, its START record appended. */
void		 job_begin(struct job *, const struct pool *);
/* The pool gives back an attempt that never started (not re-queued). */
void		 job_unbegin(struct job *);
void		 job_finish_unrecorded(struct job *, enum job_state, int,
		    const char *);
void		 job_started(struct job *);	/* the pool runs it now */
/* A running job's progress or output changed: tell its watchers. */
void		 job_news(struct job *);
/*
 * Output (stderr: err) a running job wrote: kept as far as the limits
 * keep it, and all of it told to its watchers.  -1: out of memory.
 */
int		 job_output(struct job *, int, const void *, size_t);
/* Final state; the outcome is taken from hctx if there is one. */
void		 job_finish(struct job *, enum job_state, int, const char *, ...)
		    __attribute__((__format__(__printf__, 4, 5)));
/* 1: took effect, 0: already final or already being cancelled. */
/* How a cancelled process ended, for the job's record (static text). */
void		 job_set_ended(struct job *, const char *);
int		 job_cancel(struct job *, enum job_state, int64_t,
		    const char *, ...)
		    __attribute__((__format__(__printf__, 4, 5)));
/*
 * A job rebuilt from the journal, before sched_restore() takes it: the
 * final state its record gives, or FAILED because it cannot go on.
 */
void		 job_restore_final(struct job *, enum job_state);
void		 job_restore_failed(struct job *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));

/*
 * job_link.c: a job's spec checked, and the job tied to its group and
 * parent, for a submit and a journal replay alike.
 */
#define JOB_LINK_REPLAY		0x1	/* from the journal: see job_link.c */
int		 job_link_check(const struct job *, int, int *, char **);
int		 job_link(struct job *, int, int *, char **);
void		 job_link_follow(struct job *);	/* once in the table */

/* sched.c */
void		 sched_init(void);
void		 sched_free(void);
int		 sched_insert(struct job *, char **);	/* assigns id */
void		 sched_restore(struct job *);	/* journal.c: keeps its id */
void		 sched_set_next_id(uint64_t);
struct job	*sched_find(uint64_t);
void		 sched_foreach(void (*)(struct job *, void *), void *);
void		 sched_enqueue(struct job *);	/* into its kind's queue */
u_int		 sched_running(void);
void		 sched_cancel_all(int64_t, const char *);
void		 sched_stop_queued(const char *);
void		 sched_hold(void);		/* start no more jobs */
void		 sched_set_idle_hook(void (*)(void));
/* Told of each final job whose submitter asked to be (j->notify). */
void		 sched_set_final_hook(void (*)(struct job *));
/* Told of the news (state, progress) of each job with JOBF_NEWS. */
void		 sched_set_news_hook(void (*)(struct job *));
void		 sched_dequeue(struct job *);	/* out of it (cancel) */
void		 sched_kick(void);		/* start what can, next turn */
void		 sched_deps_ahead(struct job *);	/* pool.h's ahead */
void		 sched_job_final(struct job *);	/* wake waiters, free slot */
void		 sched_slot_release(enum job_kind);
void		 sched_state_changed(struct job *, enum job_state);
u_int		 sched_slots_used(enum job_kind);
u_int		 sched_slots_max(enum job_kind);
uint64_t	 sched_count(enum job_kind, enum job_state);
uint64_t	 sched_total(void);
uint64_t	 sched_user_pending(uid_t);	/* waiting + queued of a uid */
/* Call cb once when all (any: one) of jobs are final, or timeout_ms passes. */
struct waiter	*sched_wait(struct job **, size_t, int, int64_t,
		    void (*)(struct waiter *, struct job *, int, void *),
		    void *);
void		 sched_wait_free(struct waiter *);
/* Also call cb(w, job, arg) on news (progress, output) of a job. */
void		 sched_wait_news(struct waiter *,
		    void (*)(struct waiter *, struct job *, void *));
void		 sched_job_news(struct job *);
size_t		 sched_waiter_jobs(struct waiter *, struct job ***);

/* journal.c: the write-ahead log of jobs; recovery at start. */
#define JOURNAL_FSYNC_ALWAYS	0	/* fsync before acknowledging */
#define JOURNAL_FSYNC_BATCH	1	/* acknowledge, fsync on a timer */
#define JOURNAL_FSYNC_NONE	2
#define DEFAULT_FSYNC_INTERVAL_MS 50
#define JOURNAL_HDR_LEN		16	/* magic, version, zeros */
#define JOURNAL_RECORD_HDR	9	/* length, CRC, type */
#define JOURNAL_RECORD_MAX	0x7fffffffU
/*
 * Job ids in a journal are below 2^63: a million jobs a second would take
 * 292 000 years to get there, so a larger one is corruption, and to
 * follow it would leave sched.c no id to give (it would wrap to 0).
 */
#define JOURNAL_ID_MAX		(UINT64_C(1) << 63)
#define JOURNAL_CHECKPOINT	1	/* record types */
#define JOURNAL_GROUP		2
#define JOURNAL_ACCEPT		3
#define JOURNAL_START		4
#define JOURNAL_REQUEUE		5
#define JOURNAL_FINAL		6
/* Told once the records appended before journal_wait() are durable. */
struct journal_waiter {
	void			(*cb)(struct journal_waiter *, const char *);
	void			*arg;
	int			 queued;
	TAILQ_ENTRY(journal_waiter) entry;
};
/* Seams for fault injection (tests); write(2) and fsync(2) otherwise. */
extern ssize_t		(*journal_write_fn)(int, const void *, size_t);
extern int		(*journal_fsync_fn)(int);
int		 journal_default_path(char *, size_t);
int		 journal_fsync_from_name(const char *);
const char	*journal_fsync_name(int);
int		 journal_open(char **);		/* replays */
void		 journal_close(void);
void		 journal_free(void);	/* after sched_free() */
int		 journal_enabled(void);
const char	*journal_failed(void);	/* NULL, or why submits are refused */
int		 journal_flush(void);
int		 journal_write(void);	/* no fsync, no answers */
/* cb(w, NULL) when durable, cb(w, why) if it never will be. */
void		 journal_wait(struct journal_waiter *,
		    void (*)(struct journal_waiter *, const char *), void *);
void		 journal_unwait(struct journal_waiter *);
void		 journal_flush_behind(void);
void		 journal_suspend(int);
void		 journal_accept(struct job *);
void		 journal_start(struct job *);
void		 journal_process(struct job *);
const char	*journal_boot_id(void);
void		 journal_requeue(struct job *);
void		 journal_final(struct job *);
void		 journal_group(struct jobgroup *);
/* The codec, for the tests. */
void		 journal_header_encode(uint8_t *);
void		 journal_record_encode(uint8_t **, size_t *, size_t *, int,
		    const void *, size_t);
int		 journal_scan(const uint8_t *, size_t, size_t *, uint64_t *,
		    int (*)(int, const uint8_t *, size_t, void *), void *);

/*
 * joblog.c: --output-dir, each job's whole stdout and stderr in files.
 * joblog_write() is job_output()'s; the rest are hooks of job.c, sched.c
 * (retention) and main.c, and request_logs.c's reads.
 */
struct joblog;
extern ssize_t		(*joblog_write_fn)(int, const void *, size_t);
int		 joblog_init(const char *, char **);	/* after replay */
void		 joblog_shutdown(void);
int		 joblog_enabled(void);
const char	*joblog_path(void);
void		 joblog_write(struct job *, int, const void *, size_t);
void		 joblog_end(struct job *);	/* an attempt ended */
void		 joblog_forget(struct job *);	/* files removed */
void		 joblog_free(struct job *);	/* files kept */
ssize_t		 joblog_read(struct job *, int, uint64_t, void *, size_t,
		    int *);
uint64_t	 joblog_size(struct job *, int);

/* group.c */
struct jobgroup	*group_get(uid_t, const char *, int);
void		 group_add(struct jobgroup *, struct job *);
void		 group_remove(struct job *);
int		 group_hold(struct job *);	/* 1: held, do not start */
void		 group_unhold(struct job *);
void		 group_release(struct jobgroup *);
void		 group_running(struct job *, int);
void		 group_final(struct job *);
void		 group_free_all(void);
void		 group_foreach(void (*)(struct jobgroup *, void *), void *);

/* handler.c: the handler registry and the fut_handler_* accessors. */
/*
 * fut_handler.flags, the daemon's own (never a plugin's): the handler
 * is served by attached workers (pool_worker.c), no entry point here.
 */
#define HANDLER_F_WORKER	0x80000000U
void		 handler_init(void);
int		 handler_register(const struct fut_handler *, char **);
int		 handler_register_worker(const struct fut_handler *, char **);
size_t		 handler_retire(const struct fut_handler **, size_t);
const struct fut_handler *handler_find(const char *);
void		 handler_foreach(void (*)(const struct fut_handler *, void *),
		    void *);
int		 handler_kind_ok(const struct fut_handler *, enum job_kind);
int		 handler_standalone(const struct fut_handler *);
int		 handler_system_refuse(struct job *, char **);
int		 handler_check(struct job *, char **);
enum job_kind	 handler_default_kind(const struct fut_handler *);
struct fut_handler_ctx *handler_ctx_new(struct job *);	/* loop only */
void		 handler_ctx_free(struct fut_handler_ctx *);
void		 handler_progress_loop(struct fut_handler_ctx *, double,
		    const char *);
/* The loop pool's jobs of a handler, against fut_handler_set_limit(). */
int		 handler_may_start(const struct fut_handler *);
void		 handler_job_started(const struct fut_handler *);
void		 handler_job_ended(const struct fut_handler *);

/* plugin.c: handler plugins (shared objects) for handler.c. */
void		 plugin_add(const char *);
void		 plugin_clear(void);
int		 plugin_load(const char *, char **);
int		 plugin_load_all(char **);
size_t		 plugin_count(void);
const char	*plugin_path(size_t);
int		 plugin_path_safe(const char *, char **);

/* config.c: futured.conf(5). */
#define WORKER_MEMORY_MIN	(1024 * 1024)
int		 config_default_path(char *, size_t);
int		 config_size(const char *, uint64_t *);
int		 config_load(const char *, int, int *, char **);

/* pool.c, pool_loop.c, pool_thread.c, pool_proc.c: see pool.h */

/*
 * pool_worker.c: attached workers (futured-workers(7)), the engine
 * behind pool_worker_ops; request_worker.c speaks their protocol.
 */
struct worker;
struct worker_handler_spec {
	const char		*name;
	unsigned int		 kinds;		/* FUT_HK_* */
	unsigned int		 default_kind;	/* one FUT_HK_* bit */
	const char		*description;	/* may be NULL */
};
struct worker_update {
	uint64_t		 job_id;
	uint32_t		 attempt;
	int			 has_progress;
	double			 progress;
	const char		*progress_msg;	/* may be NULL */
	const uint8_t		*output;
	size_t			 output_len;
	const uint8_t		*err;
	size_t			 err_len;
	int			 done;
	int			 ok;
	const char		*error;		/* may be NULL */
	const char		*error_type;	/* may be NULL */
	const char		*error_detail;	/* may be NULL */
};
/* What a worker pool says of itself (stats). */
struct worker_pool_stats {
	const char		*name;
	int			 supervised;
	u_int			 processes;
	u_int			 busy;
	u_int			 capacity;
};
#define WORKER_NAME_MAX		200
#define WORKER_DESC_MAX		1024	/* a handler's description */
#define WORKER_HANDLERS_MAX	256	/* in one registration */
#define WORKER_CONCURRENCY_MAX	65536
int		 pool_worker_name_ok(const char *);
struct worker	*pool_worker_register(struct conn *,
		    const struct worker_handler_spec *, size_t, u_int,
		    const char *, const char *, char **);
uint64_t	 pool_worker_id(const struct worker *);
void		 pool_worker_heard(struct worker *);
/* 0 applied, 1 not held now (stale), -1 never given to this worker. */
int		 pool_worker_update(struct worker *,
		    const struct worker_update *);
/* An update's effect on a job (also a one-shot's outcome). */
void		 pool_worker_apply(struct job *, const struct worker_update *);
/* Fails the worker's jobs "worker lost: why" and frees it. */
void		 pool_worker_lost(struct worker *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
/* Journal replay: a worker handler no worker has registered yet. */
const struct fut_handler *pool_worker_handler_wait(const char *,
		    enum job_kind);
/* handler_retire(): a worker handler let go of, and freed. */
int		 pool_worker_handler_idle(const struct fut_handler *);
void		 pool_worker_handler_unlist(const struct fut_handler *);
void		 pool_worker_handler_free(const struct fut_handler *);
/* Jobs queued for the worker handler of that name (supervise.c). */
size_t		 pool_worker_handler_queued(const char *);
/* How many workers serve h now; -1: h is not a worker handler. */
int		 pool_worker_handler_workers(const struct fut_handler *);
void		 pool_worker_foreach_pool(
		    void (*)(const struct worker_pool_stats *, void *), void *);
/* Dispatch, for the tests: may w take job j now? */
int		 pool_worker_may_take(const struct worker *, const struct job *);

/* request_worker.c: the worker protocol's requests and pushes. */
struct job;
void		 request_worker_task(struct conn *, struct job *, uint32_t);
uint8_t		*request_worker_task_pack(struct job *, uint32_t, size_t *);
void		 request_worker_cancel(struct conn *, uint64_t, uint32_t,
		    const char *);
void		 request_worker_conn_free(struct conn *);

/* sdnotify.c: sd_notify(3) without libsystemd. */
void		 sdnotify_init(void);		/* takes $NOTIFY_SOCKET */
int		 sdnotify_send(const char *);	/* "READY=1" */
int		 sdnotify_enabled(void);		/* under systemd */

/* metrics.c, metrics_file.c, metrics_http.c: see metrics.h */

/*
 * execas.c: main() of the --exec-as trampoline (--system jobs) and of
 * --exec-in (a command joins its job's cgroup).
 */
int		 execas_main(int, char **);
int		 execas_in_main(int, char **);

/* cgroup.c */
void		 cgroup_init(const char *);
const char	*cgroup_dir(void);
char		*cgroup_job_new(uint64_t);
int		 cgroup_job_kill(const char *);
void		 cgroup_job_free(char *);
void		 cgroup_shutdown(void);

/*
 * supervise.c: supervised worker pools (futured.conf's pool lines and
 * PoolRequest): processes started, restarted with back-off, killed.
 */
#define SUP_SIZE_MAX		1024	/* processes of one pool */
#define SUP_NAME_MAX		64
#define SUP_BACKOFF_MIN_MS	100	/* the first restart's delay */
#define SUP_BACKOFF_MAX_MS	30000	/* the longest */
#define SUP_HEALTHY_MS		10000	/* up this long: back-off reset */
#define SUP_FAILING		5	/* quick deaths in a row: failing */
#define SUP_START_MS		60000	/* a new pool's first registration */
#define SUP_POOLS_PER_UID	64	/* PoolRequest pools of one user */
#define SUP_DOWN_PER_UID	256	/* and stopped ones kept */
#define SUP_SPARES_MAX		16	/* warm spares of one pool */
#define SUP_IDLE_MS		(10 * 60 * 1000)	/* --pool-idle */
struct sup_pool;
struct sup_proc;
LIST_HEAD(sup_waiters, pending);	/* request_pool.c's PoolRequests */
/* A pool as futured.conf declares it (config.c fills it). */
struct sup_conf {
	char			*name;
	char			**argv;		/* NULL-terminated */
	u_int			 size;		/* 0: -P's */
	u_int			 kinds;		/* 1 << JOB_*; 0: all */
	char			*cwd;		/* NULL: / */
	char			**env;		/* KEY=VALUE, NULL-terminated */
	size_t			 nenv;
	char			*user;		/* NULL: the daemon's */
	char			**owners;	/* NULL-terminated; NULL: user */
	size_t			 nowners;
	char			*file;
	u_int			 line;
	int			 spares;	/* -1: as supervise.c says */
	int64_t			 idle_ms;	/* retired after, 0: never */
	u_int			 lines[8];	/* where each pool-* key was set */
	TAILQ_ENTRY(sup_conf)	 entry;
};
/* What a PoolRequest asks for (request_pool.c); strings borrowed. */
struct sup_spec {
	const char		*name;		/* NULL: made from argv */
	char			*const *argv;
	size_t			 argc;
	u_int			 size;		/* 0: -P's */
	u_int			 kinds;		/* 0: all */
	const char		*cwd;		/* NULL: / */
	char			*const *env;	/* NULL: PATH only */
	size_t			 nenv;
	uid_t			 uid;		/* runs as, serves only */
};
/* A pool as stats show it; strings borrowed for the callback. */
struct sup_stats {
	const char		*name;
	const char		*state;	/* starting running failing failed stopped */
	uid_t			 uid;
	u_int			 size;
	u_int			 alive;		/* processes */
	u_int			 ready;		/* registered ones */
	uint64_t		 restarts;
	int64_t			 respawn_ms;	/* last kill to serving, -1 */
	uint64_t		 respawns;	/* kills it was measured for */
	const char		*error;		/* the last death, or NULL */
	int			 last_exit;	/* its exit status, -1: none */
	int			 last_signal;	/* its signal, 0: none */
	const char		*last_stderr;	/* its stderr's end, or NULL */
	int64_t			 last_ago_ms;	/* how long ago, -1: never */
	u_int			 spares;	/* warm ones waiting now */
};
struct sup_conf	*supervise_conf_add(const char *, const char *, u_int,
		    char **);
struct sup_conf	*supervise_conf_find(const char *);
void		 supervise_conf_clear(void);
int64_t		 supervise_backoff_ms(u_int);
int		 supervise_env_stripped(const char *);	/* "NAME=value" */
int		 supervise_init(char **);
void		 supervise_start(void);
int		 supervise_request(const struct sup_spec *, struct sup_pool **,
		    int *, int *, char **);
const char	*supervise_pool_name(const struct sup_pool *);
int		 supervise_pool_ready(const struct sup_pool *);
const char	*supervise_pool_failed(const struct sup_pool *);
u_int		 supervise_pool_kinds(const struct sup_pool *);
size_t		 supervise_pool_handlers(const struct sup_pool *,
		    const char *const **);
struct sup_waiters *supervise_pool_waiters(struct sup_pool *);
void		 supervise_foreach(void (*)(const struct sup_stats *, void *),
		    void *);
void		 supervise_shutdown(void);
void		 supervise_free(void);
/* The engine's side (pool_worker.c, request_worker.c). */
int		 supervise_attach(const char *, pid_t, struct sup_proc **,
		    char **);
void		 supervise_ready(struct sup_proc *, const char *const *, size_t);
void		 supervise_detach(struct sup_proc *);
int		 supervise_serves(const struct sup_proc *, uid_t);
int		 supervise_one_job(const struct sup_proc *);
int		 supervise_kill(struct sup_proc *, int64_t);
void		 supervise_task(struct sup_proc *, int);
void		 supervise_wake(const char *, uid_t);
const struct fut_handler *supervise_handler(const char *, uid_t);
pid_t		 supervise_pid(const struct sup_proc *);
/* A one-shot's command (oneshot.c). */
int		 supervise_command(const char *, uid_t, char ***, char ***,
		    char **);
int		 supervise_serving(const char *, uid_t);
int		 supervise_registering(uid_t);
/* Warm spares (request_pool.c parks their registrations). */
struct pending;
struct sup_proc	*supervise_spare(const char *, pid_t);
int		 supervise_spare_parked(const struct sup_proc *);
void		 supervise_park(struct sup_proc *, struct pending *);
void		 supervise_unparked(struct sup_proc *);

/* request_pool.c: a pool's waiting PoolRequests answered. */
void		 request_pool_ready(struct sup_pool *);
void		 request_pool_failed(struct sup_pool *, int, const char *);
struct Futured__WorkerRegister;
int		 request_pool_park(struct conn *, uint64_t,
		    const struct Futured__WorkerRegister *);
void		 request_pool_unpark(struct pending *);
void		 request_pool_spare_end(struct pending *, int, const char *);

/*
 * worker.c: main() of a --worker process; fd is its socketpair end, and
 * argv the options after --worker.
 */
int		 worker_main(int, int, char **);

/*
 * oneshot.c: a job as one process that reads its Task from a file and
 * writes its outcome to another (the Slurm engine's handlers); and
 * run_once.c, the main of `futured --run-once`, which is that process
 * for built-in and plugin handlers.
 */
struct oneshot_cmd {
	char			**argv;		/* NULL-terminated */
	char			**env;		/* NULL: the job's own */
	char			 *cwd;		/* NULL: the job's own */
};
int		 oneshot_able(const struct job *, int, char **);
int		 oneshot_command(const struct job *, struct oneshot_cmd *,
		    char **);
int		 oneshot_waits(const struct job *);
void		 oneshot_cmd_free(struct oneshot_cmd *);
int		 oneshot_write_task(struct job *, uint32_t, const char *,
		    char **);
void		 oneshot_apply(struct job *, uint32_t, const uint8_t *, size_t);
int		 run_once_main(int, char **);

/* child.c: SIGCHLD and the pid -> callback map. */
void		 child_init(void);
void		 child_watch(pid_t, void (*)(pid_t, int, void *), void *);
void		 child_unwatch(pid_t);
void		 child_expect(void);
void		 child_expect_done(void);
u_int		 child_count(void);
int		 child_start_time(pid_t, uint64_t *);
void		 child_shutdown(void);

/* handlers/ */
extern const struct fut_handler handler_exec;
extern const struct fut_handler handler_sleep;
extern const struct fut_handler handler_echo;
extern const struct fut_handler handler_sha256;

#endif /* FUTURED_DAEMON_H */
