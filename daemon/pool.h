/*
 * The engine table.  Every pool that runs jobs -- the event loop
 * (pool_loop.c), the thread pool (pool_thread.c), the cpu worker
 * processes (pool_proc.c), and the engines to come (supervised worker
 * programs, Slurm) -- is one file that fills one struct pool.  job.c and
 * sched.c reach a pool only through this table: pool_of() says which
 * pool runs a job, and a job handed to a pool remembers it in
 * j->more->pool.  A new engine is a new file and one line in pool.c.
 *
 * Starting takes two steps, so that no attempt begins before its START
 * record is written (issue 11): in one round sched.c hands every job it
 * can start to its pool with start(), writes the journal once, then
 * calls every pool's launch().  start() takes the job (a slot of its
 * kind is taken already, and its START is appended) and may make it
 * RUNNING, but nothing of the job may run before launch().
 *
 * A pool settles its jobs with job_finish() and gives the slot back with
 * sched_slot_release() when its resource (a thread, a worker, a child)
 * is free again.  Progress and output go the way outcomes do: a pool
 * hands them to the loop as they happen, into the job, and calls
 * job_news(); pools never talk to connections.
 */

#ifndef FUTURED_POOL_H
#define FUTURED_POOL_H

#include <sys/types.h>

#include <stdint.h>

struct job;

/* What a pool says of itself (stats, metrics). */
struct pool_stats {
	u_int		 busy;		/* jobs it runs now */
	int		 size;		/* threads or processes alive, -1: none */
};

struct pool {
	const char	*name;
	/* At start-up, from settings; -1 and *cause (caller frees). */
	int		(*init)(char **);
	/* At exit: settle what it holds, stop its resources, free it all. */
	void		(*shutdown)(void);
	/*
	 * May j start, with used slots of its kind taken?  NULL: while
	 * used < sched_slots_max(j->kind).
	 */
	int		(*can_start)(const struct job *, u_int);
	/* Take j; it must not run before launch().  See above. */
	void		(*start)(struct job *);
	/* Let run what start() took since the last launch.  May be NULL. */
	void		(*launch)(void);
	/*
	 * Stop j, which runs in this pool or waits in it (QUEUED with
	 * JOBF_POOLED), after job_cancel() flagged it: TERM, then KILL
	 * after grace_ms where there is a process.  The pool settles j,
	 * now or once its resource is free.
	 */
	void		(*cancel)(struct job *, int64_t);
	void		(*stats)(struct pool_stats *);
	/*
	 * A pool with queues of its own (the attached workers, whose jobs
	 * wait for a worker that serves them): its QUEUED jobs wait there,
	 * not in their kind's queue, take no slot of their kind, and so
	 * never hold up the kind's other jobs.  enqueue() takes a job and
	 * a reference, dequeue() gives them back (cancel), next() the job
	 * that may start now, dequeued, its reference now the caller's.
	 * NULL: the kind's queue and slots.
	 */
	void		(*enqueue)(struct job *);
	void		(*dequeue)(struct job *);
	struct job	*(*next)(void);
	/*
	 * The replay found j running, its attempt's engine_id recorded:
	 * 1 if this pool will follow that attempt when j is started again
	 * (start() then submits nothing), 0 if it cannot.
	 */
	int		(*adopt)(struct job *);
	/*
	 * j waits for the jobs it runs after, none of which failed: 1 if
	 * this pool may take it now and hold it back itself until they
	 * succeed (Slurm's afterok).  sched.c then queues j at once; its
	 * dependency waiter stays, and a dependency that fails cancels j
	 * as ever.  Asked when j is submitted (or replayed) and when a job
	 * it waits for is taken on by its engine (sched_deps_ahead()).
	 * NULL: j waits in sched.c.
	 */
	int		(*ahead)(const struct job *);
};

extern const struct pool pool_loop_ops;
extern const struct pool pool_thread_ops;
extern const struct pool pool_proc_ops;
extern const struct pool pool_worker_ops;
extern const struct pool pool_slurm_ops;

/* pool.c */
const struct pool *pool_of(const struct job *);
int		 pool_init(char **);
void		 pool_shutdown(void);
void		 pool_launch(void);
int		 pool_adopt(struct job *);
void		 pool_foreach(void (*)(const struct pool *, void *), void *);
/* Tests: run kind's jobs in p instead (NULL: the usual pool again). */
void		 pool_override(int, const struct pool *);

#endif /* FUTURED_POOL_H */
