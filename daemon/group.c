/*
 * Groups: a name under which one user's jobs are waited on, cancelled
 * and listed together, with two policies.  Fail-fast: the first failure
 * (failed or timed out) cancels every other unfinished job of the group.
 * Parallel N: at most N of its jobs run at once; the others stay queued,
 * held here in priority and arrival order, and go back to their kind's
 * queue one at a time as running members stop.
 *
 * Names are per user: two users' groups of the same name are two
 * groups.  A group lives as long as the daemon; it is small.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

static LIST_HEAD(, jobgroup) groups = LIST_HEAD_INITIALIZER(groups);

/* The owner's group of that name; created (no policy) if asked. */
struct jobgroup *
group_get(uid_t owner, const char *name, int create)
{
	struct jobgroup	*g;

	LIST_FOREACH(g, &groups, entry) {
		if (g->owner == owner && strcmp(g->name, name) == 0)
			return (g);
	}
	if (!create)
		return (NULL);
	g = xcalloc(1, sizeof(*g));
	g->name = xstrdup(name);
	g->owner = owner;
	TAILQ_INIT(&g->held);
	TAILQ_INIT(&g->members);
	LIST_INSERT_HEAD(&groups, g, entry);
	return (g);
}

void
group_add(struct jobgroup *g, struct job *j)
{
	struct job_more	*m = job_more(j);

	m->grp = g;
	TAILQ_INSERT_TAIL(&g->members, m, gentry);
}

/* The job is being freed. */
void
group_remove(struct job *j)
{
	if (j->more->grp == NULL)
		return;
	if (j->flags & JOBF_HELD)
		group_unhold(j);
	TAILQ_REMOVE(&j->more->grp->members, job_more(j), gentry);
	job_more(j)->grp = NULL;
}

/* Keep held jobs in the order their kind's queue would start them. */
static int
group_before(struct job *a, struct job *b)
{
	if (a->priority != b->priority)
		return (a->priority < b->priority);
	return (a->seq < b->seq);
}

/*
 * sched.c is about to start j: hold it instead if its group is at its
 * limit.  The job stays queued (and cancellable) while held.
 */
int
group_hold(struct job *j)
{
	struct jobgroup	*g = j->more->grp;
	struct job	*h;

	if (g == NULL || g->parallel == 0 || g->running < g->parallel)
		return (0);
	TAILQ_FOREACH(h, &g->held, entry) {
		if (group_before(j, h))
			break;
	}
	if (h != NULL)
		TAILQ_INSERT_BEFORE(h, j, entry);
	else
		TAILQ_INSERT_TAIL(&g->held, j, entry);
	j->flags |= JOBF_HELD;
	job_ref(j);
	return (1);
}

/* Out of the held list (cancel, or free to go). */
void
group_unhold(struct job *j)
{
	TAILQ_REMOVE(&j->more->grp->held, j, entry);
	j->flags &= ~JOBF_HELD;
	job_unref(j);
}

/* A member starts (1) or stops (0) running: maybe release a held one. */
void
group_running(struct job *j, int started)
{
	struct jobgroup	*g = j->more->grp;
	struct job	*h;

	if (g == NULL)
		return;
	if (started) {
		g->running++;
		return;
	}
	g->running--;
	if ((h = TAILQ_FIRST(&g->held)) != NULL &&
	    (g->parallel == 0 || g->running < g->parallel)) {
		job_ref(h);
		group_unhold(h);
		sched_enqueue(h);
		job_unref(h);
	}
}

/*
 * Let every held job go back to its queue (the limit changed); those
 * still over the limit are held again when sched.c reaches them.
 */
void
group_release(struct jobgroup *g)
{
	struct job	*h;

	while ((h = TAILQ_FIRST(&g->held)) != NULL) {
		job_ref(h);
		group_unhold(h);
		sched_enqueue(h);
		job_unref(h);
	}
}

/* A member is final: fail-fast cancels the rest on a failure. */
void
group_final(struct job *j)
{
	struct jobgroup	*g = j->more->grp;
	struct job_more	*m;
	struct job	**victims;
	size_t		 n = 0, i;

	if (g == NULL || !g->fail_fast ||
	    (j->state != JOB_FAILED && j->state != JOB_TIMED_OUT))
		return;
	TAILQ_FOREACH(m, &g->members, gentry) {
		if (!JOB_FINAL(m->job->state))
			n++;
	}
	if (n == 0)
		return;
	/* Collect first: cancelling changes the members under a walk. */
	victims = xcalloc(n, sizeof(*victims));
	n = 0;
	TAILQ_FOREACH(m, &g->members, gentry) {
		if (!JOB_FINAL(m->job->state)) {
			job_ref(m->job);
			victims[n++] = m->job;
		}
	}
	log_info("group %s: job %llu %s, cancelling %zu others (fail-fast)",
	    g->name, (unsigned long long)j->id, job_state_name(j->state), n);
	for (i = 0; i < n; i++) {
		job_cancel(victims[i], JOB_CANCELLED, settings.grace_ms,
		    "fail-fast: job %llu of group %s %s",
		    (unsigned long long)j->id, g->name,
		    job_state_name(j->state));
		job_unref(victims[i]);
	}
	free(victims);
}

void
group_foreach(void (*cb)(struct jobgroup *, void *), void *arg)
{
	struct jobgroup	*g;

	LIST_FOREACH(g, &groups, entry)
		cb(g, arg);
}

void
group_free_all(void)
{
	struct jobgroup	*g;

	while ((g = LIST_FIRST(&groups)) != NULL) {
		LIST_REMOVE(g, entry);
		free(g->name);
		free(g);
	}
}
