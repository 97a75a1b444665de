/*
 * The journal's replay: rebuild the job table from the records of a
 * journal image at start (journal_open() reads the file and calls in).
 */

#include <sys/types.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "futured.h"
#include "journal.pb-c.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "xmalloc.h"

/* Replayed jobs point at these until sched_free(): see journal_free(). */
static char		**journal_strings;	/* interned "ended" texts */
static size_t		  journal_nstrings;
static struct fut_handler **journal_ghosts;	/* handlers no longer offered */
static size_t		  journal_nghosts;

/* The "ended" texts are static in the daemon: intern the replayed ones. */
static const char *
journal_intern(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return (NULL);
	for (i = 0; i < journal_nstrings; i++) {
		if (strcmp(journal_strings[i], s) == 0)
			return (journal_strings[i]);
	}
	journal_strings = xreallocarray(journal_strings, journal_nstrings + 1,
	    sizeof(*journal_strings));
	journal_strings[journal_nstrings] = xstrdup(s);
	return (journal_strings[journal_nstrings++]);
}

/*
 * A handler that is not offered any more (a plugin was removed): its
 * finished jobs keep its name; its unfinished ones fail at restore.
 * A worker handler is not gone, only not registered yet.
 */
static const struct fut_handler *
journal_handler(const char *name, int worker, enum job_kind k, int *ghost)
{
	const struct fut_handler	*h;
	struct fut_handler		*g;
	size_t				 i;

	*ghost = 0;
	/*
	 * A worker's handler waits for its workers, with every kind its
	 * jobs were submitted as, until they register.
	 */
	if (worker && (h = pool_worker_handler_wait(name, k)) != NULL)
		return (h);
	if ((h = handler_find(name)) != NULL)
		return (h);
	*ghost = 1;
	for (i = 0; i < journal_nghosts; i++) {
		if (strcmp(journal_ghosts[i]->name, name) == 0)
			return (journal_ghosts[i]);
	}
	g = xcalloc(1, sizeof(*g));
	g->abi = FUT_HANDLER_ABI;
	g->name = xstrdup(name);
	g->description = "no longer offered";
	journal_ghosts = xreallocarray(journal_ghosts, journal_nghosts + 1,
	    sizeof(*journal_ghosts));
	journal_ghosts[journal_nghosts++] = g;
	return (g);
}

static int
journal_ptr_cmp(const void *a, const void *b)
{
	uintptr_t	 x = (uintptr_t)*(const struct fut_handler *const *)a;
	uintptr_t	 y = (uintptr_t)*(const struct fut_handler *const *)b;

	return (x < y ? -1 : x > y);
}

static struct journal_rep *
journal_rep_find(struct journal_replay *rp, uint64_t id)
{
	size_t	 lo = 0, hi = rp->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rp->reps[mid].job->id == id)
			return (&rp->reps[mid]);
		if (rp->reps[mid].job->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (NULL);
}

static void
journal_spec_from_accept(struct job_spec *js, const FuturedJournal__Accept *a)
{
	size_t	 i;

	js->name = a->name != NULL ? xstrdup(a->name) : NULL;
	/* An engine this daemon does not know: job_link_check() refuses. */
	js->engine = a->has_engine ? (int)a->engine : JOB_ENGINE_LOCAL;
	js->group = a->group != NULL ? xstrdup(a->group) : NULL;
	js->cwd = a->cwd != NULL ? xstrdup(a->cwd) : NULL;
	if (a->n_args > 0) {
		js->args = xcalloc(a->n_args, sizeof(*js->args));
		for (i = 0; i < a->n_args; i++)
			js->args[i] = xstrdup(a->args[i]);
		js->nargs = a->n_args;
	}
	if (a->n_env > 0) {
		js->envp = xcalloc(a->n_env + 1, sizeof(*js->envp));
		for (i = 0; i < a->n_env; i++)
			js->envp[i] = xstrdup(a->env[i]);
	}
	if (a->n_ctx > 0) {
		js->ctx = xcalloc(a->n_ctx, sizeof(*js->ctx));
		for (i = 0; i < a->n_ctx; i++) {
			js->ctx[i].key = xstrdup(a->ctx[i]->key);
			js->ctx[i].value = xstrdup(a->ctx[i]->value);
		}
		js->nctx = a->n_ctx;
	}
	js->timeout_ms = a->timeout_ms;
	js->deadline_ms = a->deadline_ms;
	if (a->n_after > 0) {
		js->after = xmemdup(a->after, a->n_after * sizeof(*a->after));
		js->nafter = a->n_after;
	}
	js->input_from = a->input_from;
	js->retries = a->retries;
	js->retry_delay_ms = a->retry_delay_ms;
	js->retry_timeouts = a->retry_timeouts;
	js->parent = a->parent;
}

static struct job *
journal_job_from_accept(const FuturedJournal__Accept *a)
{
	struct job	*j;
	int		 ghost;

	j = job_new();
	j->id = a->id;
	j->owner = a->owner;
	j->kind = a->kind < JOB_NKINDS ? (enum job_kind)a->kind : JOB_ASYNC;
	j->handler = journal_handler(a->handler, a->has_worker && a->worker,
	    j->kind, &ghost);
	if (a->has_payload && a->payload.len > 0) {
		j->payload = xmemdup(a->payload.data, a->payload.len);
		j->payload_len = a->payload.len;
	}
	j->priority = a->priority;	/* job_link_check() rules on it */
	if (a->name != NULL || a->group != NULL || a->cwd != NULL ||
	    a->n_args > 0 || a->n_env > 0 || a->n_ctx > 0 ||
	    a->timeout_ms != 0 || a->deadline_ms != 0 || a->n_after > 0 ||
	    a->input_from != 0 || a->retries != 0 || a->retry_delay_ms != 0 ||
	    a->retry_timeouts || a->parent != 0 || a->engine != 0)
		journal_spec_from_accept(job_spec_own(j), a);
	j->submitted_at = a->submitted_at;
	if (ghost || !handler_kind_ok(j->handler, j->kind))
		j->flags |= JOBF_GHOST;
	return (j);
}

/* Apply one record; -1 if it cannot be (it is counted as corrupt). */
int
journal_replay_cb(int type, const uint8_t *p, size_t len, void *arg)
{
	struct journal_replay		*rp = arg;
	struct journal_rep		*r;
	struct jobgroup			*g;
	struct job			*j;
	struct job_more			*m;
	FuturedJournal__Checkpoint	*cp;
	FuturedJournal__Group		*gr;
	FuturedJournal__Accept		*a;
	FuturedJournal__Start		*s;
	FuturedJournal__Requeue		*rq;
	FuturedJournal__Final		*f;

	rp->records++;
	switch (type) {
	case JOURNAL_CHECKPOINT:
		if ((cp = futured_journal__checkpoint__unpack(NULL, len,
		    p)) == NULL)
			return (-1);
		if (cp->next_id > JOURNAL_ID_MAX) {
			log_warnx("%s: record %llu: next id %llu out of range",
			    rp->path, (unsigned long long)rp->records,
			    (unsigned long long)cp->next_id);
			futured_journal__checkpoint__free_unpacked(cp, NULL);
			return (-1);
		}
		if (cp->next_id > rp->next_id)
			rp->next_id = cp->next_id;
		futured_journal__checkpoint__free_unpacked(cp, NULL);
		return (0);
	case JOURNAL_GROUP:
		if ((gr = futured_journal__group__unpack(NULL, len, p)) == NULL)
			return (-1);
		g = group_get(gr->owner, gr->name, 1);
		g->fail_fast = gr->fail_fast;
		g->parallel = gr->parallel;
		futured_journal__group__free_unpacked(gr, NULL);
		return (0);
	case JOURNAL_ACCEPT:
		if ((a = futured_journal__accept__unpack(NULL, len, p)) == NULL)
			return (-1);
		if (a->id >= JOURNAL_ID_MAX) {
			log_warnx("%s: record %llu: job id %llu out of range",
			    rp->path, (unsigned long long)rp->records,
			    (unsigned long long)a->id);
			futured_journal__accept__free_unpacked(a, NULL);
			return (-1);
		}
		if (a->id == 0 || (rp->n > 0 &&
		    a->id <= rp->reps[rp->n - 1].job->id)) {
			/* Written once per id, in id order: never replay twice. */
			log_warnx("%s: record %llu: job %llu accepted again, "
			    "ignored", rp->path,
			    (unsigned long long)rp->records,
			    (unsigned long long)a->id);
			futured_journal__accept__free_unpacked(a, NULL);
			return (0);
		}
		if (rp->n == rp->cap) {
			rp->cap = rp->cap ? rp->cap * 2 : 256;
			rp->reps = xreallocarray(rp->reps, rp->cap,
			    sizeof(*rp->reps));
		}
		r = &rp->reps[rp->n++];
		memset(r, 0, sizeof(*r));
		r->job = journal_job_from_accept(a);
		r->input_resolved = a->input_resolved;
		if (a->id >= rp->next_id)
			rp->next_id = a->id + 1;
		futured_journal__accept__free_unpacked(a, NULL);
		return (0);
	case JOURNAL_START:
		if ((s = futured_journal__start__unpack(NULL, len, p)) == NULL)
			return (-1);
		if ((r = journal_rep_find(rp, s->id)) != NULL && !r->final) {
			r->running = 1;
			job_more(r->job)->attempts = s->attempt;
			job_more(r->job)->started_at = s->started_at;
			r->pid = 0;
			m = job_more(r->job);
			if (s->engine_id != NULL) {
				free(m->engine_id);
				m->engine_id = xstrdup(s->engine_id);
				m->engine_attempt = s->attempt;
			} else if (m->engine_attempt != s->attempt) {
				free(m->engine_id);
				m->engine_id = NULL;
			}
			if (s->has_pid && s->pid > 0 && s->has_proc_start &&
			    s->boot_id != NULL && journal_boot_id() != NULL &&
			    strcmp(s->boot_id, journal_boot_id()) == 0) {
				r->pid = s->pid;
				r->proc_start = s->proc_start;
			}
		}
		futured_journal__start__free_unpacked(s, NULL);
		return (0);
	case JOURNAL_REQUEUE:
		if ((rq = futured_journal__requeue__unpack(NULL, len,
		    p)) == NULL)
			return (-1);
		if ((r = journal_rep_find(rp, rq->id)) != NULL && !r->final) {
			r->running = 0;
			if (rq->has_attempts)
				job_more(r->job)->attempts = rq->attempts;
		}
		futured_journal__requeue__free_unpacked(rq, NULL);
		return (0);
	case JOURNAL_FINAL:
		if ((f = futured_journal__final__unpack(NULL, len, p)) == NULL)
			return (-1);
		if ((r = journal_rep_find(rp, f->id)) == NULL || r->final ||
		    !JOB_FINAL(f->state) || f->state >= JOB_NSTATES) {
			futured_journal__final__free_unpacked(f, NULL);
			return (0);
		}
		j = r->job;
		m = job_more(j);
		r->final = 1;
		r->running = 0;
		job_restore_final(j, f->state);
		m->exit_status = f->has_exit_status ? f->exit_status : -1;
		m->term_signal = f->signal;
		m->error_code = f->error_code;
		free(m->error);
		m->error = f->error != NULL ? xstrdup(f->error) : NULL;
		m->ended = journal_intern(f->ended);
		buf_reset(&m->output);
		m->output.max = 0;
		if (f->has_output)
			buf_append(&m->output, f->output.data, f->output.len);
		m->output.max = settings.max_output;
		m->output.truncated = f->output_truncated;
		if (f->has_stderr_tail)
			buf_append(&m->errtail, f->stderr_tail.data,
			    f->stderr_tail.len);
		m->errtail.truncated = f->has_stderr_truncated &&
		    f->stderr_truncated;
		m->started_at = f->started_at;
		m->finished_at = f->finished_at;
		m->attempts = f->attempts;
		futured_journal__final__free_unpacked(f, NULL);
		return (0);
	}
	return (-1);
}

static int
journal_finished_cmp(const void *a, const void *b)
{
	const struct journal_rep	*ra = a, *rb = b;

	if (ra->job->more->finished_at != rb->job->more->finished_at)
		return (ra->job->more->finished_at <
		    rb->job->more->finished_at ? -1 : 1);
	return (ra->job->id < rb->job->id ? -1 : ra->job->id > rb->job->id);
}

/*
 * A job that was running when the previous daemon died fails or runs
 * again: end what is left of its command, the process group it led,
 * but only while its leader is the very process that was started (same
 * pid, start time and boot), never a process that merely reuses the
 * pid.  A group whose leader is gone is left alone: its id may be
 * another's by now.  (Per-job cgroups, cgroup.c, end even those.)
 */
static void
journal_end_process(struct journal_rep *r)
{
	uint64_t	 start;

	if (r->pid <= 0)
		return;
	if (child_start_time(r->pid, &start) == -1 || start != r->proc_start)
		return;
	if (killpg(r->pid, SIGKILL) == -1) {
		log_warn("job %llu: killpg %ld", (unsigned long long)r->job->id,
		    (long)r->pid);
		return;
	}
	log_info("job %llu: killed process group %ld, left running by the "
	    "previous daemon", (unsigned long long)r->job->id, (long)r->pid);
}

/*
 * The worker handlers the replay registered for jobs that are finished
 * once it is done (or past retention) leave the registry again, as a
 * stopped pool's do (handler_retire): their finished jobs keep the
 * name, out of it.  Otherwise every restart brought back every name a
 * worker ever served, for good, a long-lived daemon that ran many
 * Python modules filling its 4096 names with dead ones.  A name an
 * unfinished job waits on stays, and waits for a worker.  wh: the
 * worker handlers of all the replayed jobs (any order, repeats).
 */
static void
journal_retire_finished(const struct fut_handler **wh, size_t n)
{
	size_t	 i, k;

	if (n == 0)
		return;
	/* Once each: handler_retire() finds each one by pointer. */
	qsort(wh, n, sizeof(*wh), journal_ptr_cmp);
	for (i = k = 0; i < n; i++) {
		if ((k == 0 || wh[k - 1] != wh[i]) &&
		    pool_worker_handler_idle(wh[i]))
			wh[k++] = wh[i];
	}
	if ((k = handler_retire(wh, k)) > 0)
		log_info("journal: %zu worker handler name%s only finished "
		    "jobs name, not registered", k, LOG_PLURAL(k));
}

/*
 * Rebuild the job table: finished jobs first, oldest first (the order
 * retention forgets them in), then the others in id order, so that every
 * dependency and parent is in place before the jobs that name it.
 */
void
journal_restore(struct journal_replay *rp)
{
	struct journal_rep	*r, *fin;
	struct job		*j;
	const struct fut_handler **wh;
	char			*cause;
	size_t			 i, nfin = 0, nwh = 0;
	int			 code;
	int64_t			 now = job_now_ms();
	u_int			 nq = 0, nrun = 0, nkept = 0, ndrop = 0;

	sched_set_next_id(rp->next_id);
	/* Before a job past retention goes. */
	wh = xcalloc(rp->n + 1, sizeof(*wh));
	for (i = 0; i < rp->n; i++) {
		if (rp->reps[i].job->handler->flags & HANDLER_F_WORKER)
			wh[nwh++] = rp->reps[i].job->handler;
	}
	fin = xcalloc(rp->n + 1, sizeof(*fin));
	for (i = 0; i < rp->n; i++) {
		if (rp->reps[i].final)
			fin[nfin++] = rp->reps[i];
	}
	qsort(fin, nfin, sizeof(*fin), journal_finished_cmp);
	for (i = 0; i < nfin; i++) {
		j = fin[i].job;
		/* Not finished_at + retention: a corrupt time may overflow. */
		if (j->more->finished_at < now - settings.retention_ms) {
			/* sched.c forgot it, or would have by now. */
			ndrop++;
			job_unref(j);
			continue;
		}
		(void)job_link(j, JOB_LINK_REPLAY, NULL, NULL);
		sched_restore(j);
		nkept++;
	}
	free(fin);

	for (i = 0; i < rp->n; i++) {
		r = &rp->reps[i];
		j = r->job;
		if (r->final)
			continue;
		/*
		 * This daemon takes it on: counted as submitted in its life,
		 * so that its finish, however it comes, is never counted
		 * without (futured_jobs_finished_total <= _submitted_total).
		 */
		metrics_job_submitted(j);
		if (r->running)
			journal_end_process(r);
		(void)job_link(j, JOB_LINK_REPLAY, NULL, NULL);
		if (j->flags & JOBF_GHOST) {
			job_restore_failed(j, "handler \"%s\" does not run "
			    "as %s any more", j->handler->name,
			    job_kind_name(j->kind));
			continue;
		}
		/*
		 * Held to a submit's rules: a record that breaks them is
		 * corrupt.  One that names a newer job, say, would wait on
		 * a job not restored yet, and the next restart, with that
		 * one final, could decide otherwise.
		 */
		if (job_link_check(j, JOB_LINK_REPLAY, &code, &cause) == -1) {
			job_restore_failed(j, "corrupt journal: %s", cause);
			free(cause);
			continue;
		}
		if (j->spec->input_from != 0 && !r->input_resolved &&
		    sched_find(j->spec->input_from) == NULL) {
			job_restore_failed(j, "input job %llu was "
			    "forgotten before the restart",
			    (unsigned long long)j->spec->input_from);
			continue;
		}
		if (r->running && pool_adopt(j)) {
			/*
			 * Its engine still has the attempt (a Slurm job): the
			 * pool follows it when it starts again, uncounted, and
			 * submits nothing.
			 */
			nrun++;
			job_more(j)->attempts--;
			log_info("job %llu: was running (attempt %u) as %s, "
			    "followed again", (unsigned long long)j->id,
			    j->more->attempts + 1, j->more->engine_id);
		} else if (r->running) {
			nrun++;
			if (j->more->attempts > j->spec->retries) {
				job_restore_failed(j, "daemon restarted");
				continue;
			}
			log_info("job %llu: was running (attempt %u of %u), "
			    "queued again", (unsigned long long)j->id,
			    j->more->attempts, j->spec->retries + 1);
			journal_requeue(j);
		}
		if (r->input_resolved)
			job_spec_own(j)->input_from = 0;
		sched_restore(j);
		job_link_follow(j);
		nq++;
	}
	free(rp->reps);
	journal_retire_finished(wh, nwh);
	free(wh);
	log_info("%s: %llu record%s: %u job%s queued again (%u were "
	    "running), %u finished kept, %u past retention; next id %llu",
	    rp->path, (unsigned long long)rp->records,
	    LOG_PLURAL(rp->records), nq, LOG_PLURAL(nq), nrun, nkept, ndrop,
	    (unsigned long long)rp->next_id);
}

/*
 * The next id after every good ACCEPT or CHECKPOINT found from off on:
 * what --journal-repair drops must not have its ids used again.
 */
uint64_t
journal_ids_after(const uint8_t *data, size_t len, size_t off)
{
	FuturedJournal__Accept		*a;
	FuturedJournal__Checkpoint	*cp;
	const uint8_t			*p;
	uint64_t			 next = 0;
	size_t				 plen;

	while (off < len) {
		if (!journal_record_ok(data, len, off, &plen)) {
			off++;
			continue;
		}
		p = data + off + JOURNAL_RECORD_HDR;
		if (data[off + 8] == JOURNAL_ACCEPT &&
		    (a = futured_journal__accept__unpack(NULL, plen, p)) != NULL) {
			if (a->id >= next && a->id < JOURNAL_ID_MAX)
				next = a->id + 1;
			futured_journal__accept__free_unpacked(a, NULL);
		} else if (data[off + 8] == JOURNAL_CHECKPOINT &&
		    (cp = futured_journal__checkpoint__unpack(NULL, plen,
		    p)) != NULL) {
			if (cp->next_id > next && cp->next_id <= JOURNAL_ID_MAX)
				next = cp->next_id;
			futured_journal__checkpoint__free_unpacked(cp, NULL);
		}
		off += JOURNAL_RECORD_HDR + plen;
	}
	return (next);
}

/* Free the interned texts and ghost handlers: only after sched_free(). */
void
journal_free(void)
{
	size_t	 i;

	for (i = 0; i < journal_nstrings; i++)
		free(journal_strings[i]);
	free(journal_strings);
	journal_strings = NULL;
	journal_nstrings = 0;
	for (i = 0; i < journal_nghosts; i++) {
		free((char *)(uintptr_t)journal_ghosts[i]->name);
		free(journal_ghosts[i]);
	}
	free(journal_ghosts);
	journal_ghosts = NULL;
	journal_nghosts = 0;
}
