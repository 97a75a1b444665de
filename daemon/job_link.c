/*
 * The graph of jobs: a job's spec checked, and the job tied to its group
 * and its parent, the same way for a submit (request_submit.c) and for
 * the journal's replay (journal_replay.c).  Its dependencies (after,
 * input_from) are resolved by sched.c as it enters the table.
 *
 * A submit is held to every rule.  A replayed job was, when it was
 * submitted, under the limits of that time: the replay (JOB_LINK_REPLAY)
 * skips the limits that come from settings, and what it still finds
 * wrong is a corrupt record.  A replayed spec already has its parent's
 * context and deadline (the ACCEPT record is written after the submit's
 * inheritance), and its parent may be gone: it is linked if still known.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "xmalloc.h"

static int
job_link_key_ok(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_')
			return (0);
	}
	return (1);
}

/*
 * A duration of a spec, in ms: not negative, and at most JOB_DURATION_MAX
 * so that adding it to a monotonic time (a deadline's due time, a
 * retry's doubling) cannot overflow.
 */
static int
job_link_duration_ok(int64_t ms, const char *what, char **cause)
{
	if (ms < 0) {
		xasprintf(cause, "negative %s", what);
		return (0);
	}
	if (ms > JOB_DURATION_MAX) {
		xasprintf(cause, "%s of %lld ms is over the limit of %lld ms "
		    "(100 years)", what, (long long)ms,
		    (long long)JOB_DURATION_MAX);
		return (0);
	}
	return (1);
}

/*
 * A job can only name older ones (a submit names jobs that exist), so a
 * replayed record that names its own id or a newer one is corrupt: the
 * restore, in id order, would find that one not restored yet.
 */
static int
job_link_older(const struct job *j, char **cause)
{
	size_t	 i;

	for (i = 0; i < j->spec->nafter; i++) {
		if (j->spec->after[i] >= j->id) {
			xasprintf(cause, "depends on job %llu, which is not "
			    "older", (unsigned long long)j->spec->after[i]);
			return (0);
		}
	}
	if (j->spec->input_from >= j->id) {
		xasprintf(cause, "depends on job %llu, which is not older",
		    (unsigned long long)j->spec->input_from);
		return (0);
	}
	if (j->spec->parent >= j->id) {
		xasprintf(cause, "parent %llu is not older",
		    (unsigned long long)j->spec->parent);
		return (0);
	}
	return (1);
}

/*
 * Whether j (handler, kind, priority, payload and spec, not yet linked)
 * may run: 0, or -1 with a FERR_* in *code and what is wrong in *cause
 * (the caller frees it).
 */
int
job_link_check(const struct job *j, int flags, int *code, char **cause)
{
	const struct fut_handler	*h = j->handler;
	const struct job_spec		*js = j->spec;
	const char			*eq;
	size_t				 i;

	*code = FERR_INVALID;
	if (!handler_kind_ok(h, j->kind)) {
		*code = FERR_BAD_KIND;
		xasprintf(cause, "handler \"%s\" does not run as %s "
		    "(it accepts:%s%s%s)", h->name, job_kind_name(j->kind),
		    (h->kinds & FUT_HK_ASYNC) ? " async" : "",
		    (h->kinds & FUT_HK_BLOCKING) ? " blocking" : "",
		    (h->kinds & FUT_HK_CPU) ? " cpu" : "");
		return (-1);
	}
	if (js->engine < 0 || js->engine >= JOB_NENGINES) {
		xasprintf(cause, "unknown engine %d", js->engine);
		return (-1);
	}
	/* Slurm runs a command: exec's, or the handler's one-shot. */
	if (js->engine == JOB_ENGINE_SLURM && strcmp(h->name, "exec") != 0 &&
	    oneshot_able(j, flags & JOB_LINK_REPLAY, cause) == -1)
		return (-1);
	if (j->priority < JOB_PRIO_MIN || j->priority > JOB_PRIO_MAX) {
		xasprintf(cause, "priority %d is outside %d..%d",
		    (int)j->priority, JOB_PRIO_MIN, JOB_PRIO_MAX);
		return (-1);
	}
	if (!job_link_duration_ok(js->timeout_ms, "timeout", cause) ||
	    !job_link_duration_ok(js->deadline_ms, "deadline", cause) ||
	    !job_link_duration_ok(js->retry_delay_ms, "retry delay", cause))
		return (-1);
	for (i = 0; i < js->nctx; i++) {
		if (!job_link_key_ok(js->ctx[i].key)) {
			xasprintf(cause, "bad context key \"%s\" "
			    "(want [A-Za-z0-9_]+)", js->ctx[i].key);
			return (-1);
		}
	}
	for (i = 0; js->envp != NULL && js->envp[i] != NULL; i++) {
		if ((eq = strchr(js->envp[i], '=')) == NULL ||
		    eq == js->envp[i]) {
			xasprintf(cause, "bad environment name \"%.*s\"",
			    eq == NULL ? (int)strlen(js->envp[i]) :
			    (int)(eq - js->envp[i]), js->envp[i]);
			return (-1);
		}
	}
	if (!(flags & JOB_LINK_REPLAY) && j->payload_len > settings.max_frame) {
		*code = FERR_TOO_BIG;
		xasprintf(cause, "payload too large");
		return (-1);
	}
	if (j->id != 0 && !job_link_older(j, cause))
		return (-1);
	return (0);
}

/* Add the parent's context entries that the child does not set. */
static void
job_link_inherit_ctx(struct job *j, const struct job *p)
{
	struct job_spec	*js;
	size_t		 i, k;

	for (i = 0; i < p->spec->nctx; i++) {
		for (k = 0; k < j->spec->nctx; k++) {
			if (strcmp(j->spec->ctx[k].key,
			    p->spec->ctx[i].key) == 0)
				break;
		}
		if (k < j->spec->nctx)
			continue;
		js = job_spec_own(j);
		js->ctx = xreallocarray(js->ctx, js->nctx + 1, sizeof(*js->ctx));
		js->ctx[js->nctx].key = xstrdup(p->spec->ctx[i].key);
		js->ctx[js->nctx].value = xstrdup(p->spec->ctx[i].value);
		js->nctx++;
	}
}

/* A child may not outlive its parent's deadline: the earlier one wins. */
static void
job_link_clamp_deadline(struct job *j, const struct job *p)
{
	int64_t	 left;

	if (p->spec->deadline_ms <= 0)
		return;
	left = p->more->submitted_mono + p->spec->deadline_ms - job_mono_ms();
	if (left < 1)
		left = 1;
	if (j->spec->deadline_ms == 0 || left < j->spec->deadline_ms)
		job_spec_own(j)->deadline_ms = left;
}

/*
 * Tie a checked job, not yet in the table, to its group and to its
 * parent (j->spec->parent), which must be known and the owner's (root's
 * jobs may name anyone's).  A new child inherits the parent's context
 * (its own entries win) and the earlier of the two deadlines, and is
 * cancelled with its parent (sched.c).  0, or -1 with *code and *cause;
 * a replay never fails: a parent that is gone is not linked.
 */
int
job_link(struct job *j, int flags, int *code, char **cause)
{
	struct job	*p;

	if (j->spec->group != NULL)
		group_add(group_get(j->owner, j->spec->group, 1), j);
	if (j->spec->parent == 0)
		return (0);
	if ((p = sched_find(j->spec->parent)) != NULL && j->owner != 0 &&
	    p->owner != j->owner)
		p = NULL;
	if (p == NULL) {
		if (flags & JOB_LINK_REPLAY)
			return (0);
		*code = FERR_NOT_FOUND;
		xasprintf(cause, "no such parent job: %llu",
		    (unsigned long long)j->spec->parent);
		return (-1);
	}
	job_more(j)->parent_job = p;
	job_ref(p);
	TAILQ_INSERT_TAIL(&job_more(p)->children, job_more(j), centry);
	if (flags & JOB_LINK_REPLAY)
		return (0);
	job_link_inherit_ctx(j, p);
	job_link_clamp_deadline(j, p);
	return (0);
}

/*
 * The job is in the table: a child of a parent that already ended
 * cancelled or timed out goes the same way (sched.c cancels the children
 * of one that ends later).
 */
void
job_link_follow(struct job *j)
{
	struct job	*p = j->more->parent_job;

	if (p == NULL || JOB_FINAL(j->state))
		return;
	if (p->state == JOB_CANCELLED || p->state == JOB_TIMED_OUT)
		job_cancel(j, JOB_CANCELLED, 0, "parent %llu %s",
		    (unsigned long long)p->id, job_state_name(p->state));
}
