/*
 * Which pool runs a job, and the list of pools (see pool.h).  The one
 * rule: a handler of the loop (FUT_HF_LOOP: exec, whose work is a child
 * the loop watches) and any async job run on the loop; blocking jobs
 * on the threads; cpu jobs in the worker processes.  The kind still
 * says whose slots a job counts against, wherever it runs.  A worker
 * handler's jobs, of any kind, go to the workers that serve it, which
 * count them against their own capacity, not the kind's slots.
 */

#include <stddef.h>

#include "futured.h"
#include "pool.h"

/* In start-up order; shut down the other way round. */
static const struct pool *const pool_list[] = {
	&pool_loop_ops,
	&pool_thread_ops,
	&pool_proc_ops,
	&pool_worker_ops,
	&pool_slurm_ops
};
#define POOL_N		(sizeof(pool_list) / sizeof(pool_list[0]))

/* Tests only: a kind's jobs go to another pool (pool_override). */
static const struct pool	*pool_overrides[JOB_NKINDS];

const struct pool *
pool_of(const struct job *j)
{
	if (j->spec->engine == JOB_ENGINE_SLURM)
		return (&pool_slurm_ops);
	if (j->handler->flags & HANDLER_F_WORKER)
		return (&pool_worker_ops);
	if (pool_overrides[j->kind] != NULL)
		return (pool_overrides[j->kind]);
	if ((j->handler->flags & FUT_HF_LOOP) || j->kind == JOB_ASYNC)
		return (&pool_loop_ops);
	if (j->kind == JOB_BLOCKING)
		return (&pool_thread_ops);
	return (&pool_proc_ops);
}

/*
 * The replay: j was running when the daemon stopped, and its engine may
 * still have it (pool.h's adopt).  1: its pool follows it again.
 */
int
pool_adopt(struct job *j)
{
	const struct pool	*p = pool_of(j);

	return (p->adopt != NULL && p->adopt(j));
}

void
pool_override(int kind, const struct pool *p)
{
	pool_overrides[kind] = p;
}

/* Start every pool; on failure stop those started, -1 and *cause. */
int
pool_init(char **cause)
{
	size_t	 i;

	for (i = 0; i < POOL_N; i++) {
		if (pool_list[i]->init != NULL &&
		    pool_list[i]->init(cause) == -1) {
			while (i-- > 0) {
				if (pool_list[i]->shutdown != NULL)
					pool_list[i]->shutdown();
			}
			return (-1);
		}
	}
	return (0);
}

void
pool_shutdown(void)
{
	size_t	 i;

	for (i = POOL_N; i-- > 0; ) {
		if (pool_list[i]->shutdown != NULL)
			pool_list[i]->shutdown();
	}
}

/* sched.c: the turn's STARTs are written; let the started jobs run. */
void
pool_launch(void)
{
	size_t	 i;
	int	 k;

	for (i = 0; i < POOL_N; i++) {
		if (pool_list[i]->launch != NULL)
			pool_list[i]->launch();
	}
	for (k = 0; k < JOB_NKINDS; k++) {
		if (pool_overrides[k] != NULL &&
		    pool_overrides[k]->launch != NULL)
			pool_overrides[k]->launch();
	}
}

void
pool_foreach(void (*cb)(const struct pool *, void *), void *arg)
{
	size_t	 i;

	for (i = 0; i < POOL_N; i++)
		cb(pool_list[i], arg);
}
