/*
 * libfutured: the calls that answer with snapshots of the daemon's state
 * (a job's info, lists, waits on several jobs or a group, cancels by id
 * or group, handlers, counters, metrics, groups, ping) and their accessors.  Each
 * call is one request and one answer (client_request()); the snapshot
 * keeps the decoded answer and its accessors read it without a lock, so
 * they are as thread-safe as the snapshot is immutable.
 */

#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct fut_cancels {
	Futured__Response	*r;
};

struct fut_handlers {
	Futured__Response	*r;
};

struct fut_stats {
	Futured__Response	*r;
};

struct fut_group {
	Futured__Response	*r;
};

struct fut_pool {
	Futured__Response	*r;
};

struct fut_metrics {
	Futured__Response	*r;
};

static const char *const info_state_names[] = {
	"waiting", "queued", "running", "succeeded", "failed", "cancelled",
	"timed_out"
};
static const char *const info_kind_names[] = {
	"async", "blocking", "cpu"
};

const char *
fut_version(void)
{
	return (PACKAGE_VERSION);
}

unsigned int
fut_protocol_version(void)
{
	return (FUTURED_PROTOCOL_VERSION);
}

const char *
fut_state_name(enum fut_state s)
{
	if ((unsigned)s < sizeof(info_state_names) /
	    sizeof(info_state_names[0]))
		return (info_state_names[s]);
	return ("unknown");
}

const char *
fut_kind_name(enum fut_kind k)
{
	if ((unsigned)k < sizeof(info_kind_names) /
	    sizeof(info_kind_names[0]))
		return (info_kind_names[k]);
	return ("unknown");
}

/* KIND_ASYNC.. are one more than FUT_ASYNC..; KIND_DEFAULT has none. */
static enum fut_kind
info_kind_from_pb(Futured__Kind k)
{
	switch (k) {
	case FUTURED__KIND__KIND_ASYNC:
		return (FUT_ASYNC);
	case FUTURED__KIND__KIND_BLOCKING:
		return (FUT_BLOCKING);
	case FUTURED__KIND__KIND_CPU:
		return (FUT_CPU);
	default:
		return ((enum fut_kind)-1);
	}
}

void
info_init(struct fut_info *i, Futured__Response *own,
    const Futured__JobInfo *ji)
{
	i->own = own;
	i->ji = ji;
}

/* An info that owns r, for its JobInfo ji. */
static struct fut_info *
info_new(struct fut_client *c, Futured__Response *r,
    const Futured__JobInfo *ji)
{
	struct fut_info	*i;

	if ((i = malloc(sizeof(*i))) == NULL) {
		futured__response__free_unpacked(r, NULL);
		pthread_mutex_lock(&c->lock);
		client_seterr_locked(c, FUT_ENOMEM, "out of memory");
		pthread_mutex_unlock(&c->lock);
		return (NULL);
	}
	info_init(i, r, ji);
	return (i);
}

/* A list of the n JobInfos of r. */
static struct fut_infos *
info_list_new(struct fut_client *c, Futured__Response *r,
    Futured__JobInfo **jobs, size_t n)
{
	struct fut_infos	*l;
	size_t			 i;

	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (n > 0 && (l->v = calloc(n, sizeof(*l->v))) == NULL)) {
		free(l);
		futured__response__free_unpacked(r, NULL);
		pthread_mutex_lock(&c->lock);
		client_seterr_locked(c, FUT_ENOMEM, "out of memory");
		pthread_mutex_unlock(&c->lock);
		return (NULL);
	}
	l->r = r;
	l->n = n;
	for (i = 0; i < n; i++)
		info_init(&l->v[i], NULL, jobs[i]);
	return (l);
}

/* Set the client's error from a call that did not go through. */
static int __attribute__((format(printf, 3, 4)))
info_seterr(struct fut_client *c, int code, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[CLIENT_ERRMAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->lock);
	client_seterr_locked(c, code, "%s", msg);
	pthread_mutex_unlock(&c->lock);
	return (code);
}

/*
 * One request whose answer becomes a snapshot of size bytes (every
 * snapshot struct holds its answer as its first member); NULL and *rc
 * the error if it does not.
 */
static void *
info_snapshot(struct fut_client *c, Futured__Request *req, int body,
    size_t size, int *rc)
{
	Futured__Response	*r, **box;

	if ((*rc = client_request(c, req, body, &r)) != 0)
		return (NULL);
	if ((box = malloc(size)) == NULL) {
		futured__response__free_unpacked(r, NULL);
		*rc = info_seterr(c, FUT_ENOMEM, "out of memory");
		return (NULL);
	}
	*box = r;
	return (box);
}

/* Free a snapshot: its answer (the first member), then itself. */
static void
info_snapshot_free(void *snap)
{
	if (snap == NULL)
		return;
	futured__response__free_unpacked(*(Futured__Response **)snap, NULL);
	free(snap);
}

int
fut_status(struct fut_client *c, uint64_t id, struct fut_info **out)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatusRequest	 st = FUTURED__STATUS_REQUEST__INIT;
	Futured__Response	*r;
	int			 rc;

	if (out == NULL)
		return (FUT_EINVAL);
	*out = NULL;
	st.n_ids = 1;
	st.ids = &id;
	req.body_case = FUTURED__REQUEST__BODY_STATUS;
	req.status = &st;
	if ((rc = client_request(c, &req, FUTURED__RESPONSE__BODY_STATUS,
	    &r)) != 0)
		return (rc);
	if (r->status->n_jobs < 1 || r->status->jobs[0]->state ==
	    FUTURED__STATE__STATE_UNKNOWN) {
		futured__response__free_unpacked(r, NULL);
		return (info_seterr(c, FUT_ENOTFOUND, "no such job: %llu",
		    (unsigned long long)id));
	}
	if ((*out = info_new(c, r, r->status->jobs[0])) == NULL)
		return (FUT_ENOMEM);
	return (0);
}

int
fut_result(struct fut_client *c, uint64_t id, struct fut_info **out)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__ResultRequest	 rr = FUTURED__RESULT_REQUEST__INIT;
	Futured__Response	*r;
	int			 rc;

	if (out == NULL)
		return (FUT_EINVAL);
	*out = NULL;
	rr.id = id;
	req.body_case = FUTURED__REQUEST__BODY_RESULT;
	req.result = &rr;
	if ((rc = client_request(c, &req, FUTURED__RESPONSE__BODY_RESULT,
	    &r)) != 0)
		return (rc);
	if (r->result->job == NULL) {
		futured__response__free_unpacked(r, NULL);
		return (info_seterr(c, FUT_EPROTO, "empty result answer"));
	}
	if ((*out = info_new(c, r, r->result->job)) == NULL)
		return (FUT_ENOMEM);
	return (0);
}

void
fut_info_free(struct fut_info *i)
{
	if (i == NULL)
		return;
	if (i->own != NULL)
		futured__response__free_unpacked(i->own, NULL);
	free(i);
}

int
fut_info_has(const struct fut_info *i, enum fut_field f)
{
	const Futured__JobInfo	*ji;

	if (i == NULL)
		return (0);
	ji = i->ji;
	switch (f) {
	case FUT_FIELD_KIND:
		return (ji->has_kind);
	case FUT_FIELD_PROGRESS:
		return (ji->has_progress);
	case FUT_FIELD_EXIT_STATUS:
		return (ji->has_exit_status);
	case FUT_FIELD_SIGNAL:
		return (ji->has_signal);
	case FUT_FIELD_OUTPUT:
		return (ji->has_output);
	case FUT_FIELD_OUTPUT_TRUNCATED:
		return (ji->has_output_truncated);
	case FUT_FIELD_STDERR:
		return (ji->has_stderr_tail);
	case FUT_FIELD_SUBMITTED:
		return (ji->has_submitted_at);
	case FUT_FIELD_STARTED:
		return (ji->has_started_at);
	case FUT_FIELD_FINISHED:
		return (ji->has_finished_at);
	case FUT_FIELD_ATTEMPTS:
		return (ji->has_attempts);
	case FUT_FIELD_RETRIES:
		return (ji->has_retries);
	case FUT_FIELD_PARENT:
		return (ji->has_parent);
	case FUT_FIELD_PRIORITY:
		return (ji->has_priority);
	case FUT_FIELD_OUTPUT_SIZE:
		return (ji->has_output_size);
	case FUT_FIELD_STDERR_TRUNCATED:
		return (ji->has_stderr_truncated);
	case FUT_FIELD_INPUT_FROM:
		return (ji->has_input_from);
	}
	return (0);
}

uint64_t
fut_info_id(const struct fut_info *i)
{
	return (i == NULL ? 0 : i->ji->id);
}

enum fut_state
fut_info_state(const struct fut_info *i)
{
	if (i == NULL)
		return ((enum fut_state)-1);
	return (client_state_from_pb(i->ji->state, (enum fut_state)-1));
}

enum fut_kind
fut_info_kind(const struct fut_info *i)
{
	if (i == NULL || !i->ji->has_kind)
		return ((enum fut_kind)-1);
	return (info_kind_from_pb(i->ji->kind));
}

const char *
fut_info_handler(const struct fut_info *i)
{
	return (i == NULL ? NULL : i->ji->handler);
}

const char *
fut_info_name(const struct fut_info *i)
{
	return (i == NULL ? NULL : i->ji->name);
}

const char *
fut_info_group(const struct fut_info *i)
{
	return (i == NULL ? NULL : i->ji->group);
}

double
fut_info_progress(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_progress ? 0 : i->ji->progress);
}

const char *
fut_info_progress_msg(const struct fut_info *i)
{
	return (i == NULL ? NULL : i->ji->progress_msg);
}

int
fut_info_exit_status(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_exit_status ? -1 :
	    i->ji->exit_status);
}

int
fut_info_signal(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_signal ? 0 : i->ji->signal);
}

const char *
fut_info_error(const struct fut_info *i)
{
	return (i == NULL ? NULL : i->ji->error);
}

int
fut_info_error_code(const struct fut_info *i)
{
	if (i == NULL || !i->ji->has_error_code)
		return (FUT_OK);
	return (client_errcode_map(i->ji->error_code));
}

const char *
fut_info_ended(const struct fut_info *i)
{
	return (i == NULL ? NULL : i->ji->ended);
}

const char *
fut_info_engine(const struct fut_info *i)
{
	if (i == NULL)
		return (NULL);
	return (i->ji->engine != NULL ? i->ji->engine : "local");
}

const char *
fut_info_slurm_job_id(const struct fut_info *i)
{
	return (i == NULL ? NULL : i->ji->slurm_job_id);
}

const void *
fut_info_output(const struct fut_info *i, size_t *len)
{
	if (len != NULL)
		*len = 0;
	if (i == NULL || !i->ji->has_output)
		return (NULL);
	if (len != NULL)
		*len = i->ji->output.len;
	return (i->ji->output.data != NULL ? (const void *)i->ji->output.data :
	    "");
}

int
fut_info_output_truncated(const struct fut_info *i)
{
	return (i != NULL && i->ji->has_output_truncated &&
	    i->ji->output_truncated);
}

uint64_t
fut_info_output_size(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_output_size ? 0 :
	    i->ji->output_size);
}

int
fut_info_stderr_truncated(const struct fut_info *i)
{
	return (i != NULL && i->ji->has_stderr_truncated &&
	    i->ji->stderr_truncated);
}

size_t
fut_info_nafter(const struct fut_info *i)
{
	return (i == NULL ? 0 : i->ji->n_after);
}

uint64_t
fut_info_after(const struct fut_info *i, size_t n)
{
	if (i == NULL || n >= i->ji->n_after)
		return (0);
	return (i->ji->after[n]);
}

uint64_t
fut_info_input_from(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_input_from ? 0 :
	    i->ji->input_from);
}

const void *
fut_info_stderr(const struct fut_info *i, size_t *len)
{
	if (len != NULL)
		*len = 0;
	if (i == NULL || !i->ji->has_stderr_tail)
		return (NULL);
	if (len != NULL)
		*len = i->ji->stderr_tail.len;
	return (i->ji->stderr_tail.data != NULL ?
	    (const void *)i->ji->stderr_tail.data : "");
}

int64_t
fut_info_submitted_ms(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_submitted_at ? 0 :
	    i->ji->submitted_at);
}

int64_t
fut_info_started_ms(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_started_at ? 0 : i->ji->started_at);
}

int64_t
fut_info_finished_ms(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_finished_at ? 0 :
	    i->ji->finished_at);
}

unsigned int
fut_info_attempts(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_attempts ? 0 : i->ji->attempts);
}

unsigned int
fut_info_retries(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_retries ? 0 : i->ji->retries);
}

uint64_t
fut_info_parent(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_parent ? 0 : i->ji->parent);
}

int
fut_info_priority(const struct fut_info *i)
{
	return (i == NULL || !i->ji->has_priority ? 0 : i->ji->priority);
}

size_t
fut_info_nargs(const struct fut_info *i)
{
	return (i == NULL ? 0 : i->ji->n_args);
}

const char *
fut_info_arg(const struct fut_info *i, size_t n)
{
	if (i == NULL || n >= i->ji->n_args)
		return (NULL);
	return (i->ji->args[n]);
}

size_t
fut_info_nctx(const struct fut_info *i)
{
	return (i == NULL ? 0 : i->ji->n_ctx);
}

const char *
fut_info_ctx(const struct fut_info *i, size_t n, const char **value)
{
	if (value != NULL)
		*value = NULL;
	if (i == NULL || n >= i->ji->n_ctx)
		return (NULL);
	if (value != NULL)
		*value = i->ji->ctx[n]->value;
	return (i->ji->ctx[n]->key);
}

size_t
fut_infos_count(const struct fut_infos *l)
{
	return (l == NULL ? 0 : l->n);
}

const struct fut_info *
fut_infos_at(const struct fut_infos *l, size_t n)
{
	if (l == NULL || n >= l->n)
		return (NULL);
	return (&l->v[n]);
}

void
fut_infos_free(struct fut_infos *l)
{
	if (l == NULL)
		return;
	if (l->r != NULL)
		futured__response__free_unpacked(l->r, NULL);
	free(l->v);
	free(l);
}

int
fut_list(struct fut_client *c, int state, const char *group,
    struct fut_infos **out)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__ListRequest	 lr = FUTURED__LIST_REQUEST__INIT;
	Futured__Response	*r;
	int			 rc;

	if (out == NULL)
		return (FUT_EINVAL);
	*out = NULL;
	if (c == NULL)
		return (FUT_EINVAL);
	if (state < -1 || state > FUT_TIMED_OUT)
		return (info_seterr(c, FUT_EINVAL, "bad state %d", state));
	if (state >= 0) {
		/* STATE_WAITING.. are one more than FUT_WAITING.. */
		lr.state = (Futured__State)(state + 1);
		lr.has_state = 1;
	}
	lr.group = (char *)group;
	req.body_case = FUTURED__REQUEST__BODY_LIST;
	req.list = &lr;
	if ((rc = client_request(c, &req, FUTURED__RESPONSE__BODY_LIST,
	    &r)) != 0)
		return (rc);
	if ((*out = info_list_new(c, r, r->list->jobs,
	    r->list->n_jobs)) == NULL)
		return (FUT_ENOMEM);
	return (0);
}

int
fut_wait_jobs(struct fut_client *c, const uint64_t *ids, size_t n,
    const char *group, unsigned int flags, int64_t timeout_ms,
    struct fut_infos **out, uint64_t *first)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__WaitRequest	 wr = FUTURED__WAIT_REQUEST__INIT;
	Futured__Response	*r;
	int			 rc, timed_out;
	size_t			 i;

	if (out == NULL)
		return (FUT_EINVAL);
	*out = NULL;
	if (first != NULL)
		*first = 0;
	if (c == NULL)
		return (FUT_EINVAL);
	if ((n > 0) == (group != NULL) || (n > 0 && ids == NULL))
		return (info_seterr(c, FUT_EINVAL, "give job ids or a group, "
		    "not both"));
	wr.ids = (uint64_t *)ids;
	wr.n_ids = n;
	wr.group = (char *)group;
	if (flags & FUT_WAIT_ANY) {
		wr.has_any = 1;
		wr.any = 1;
	}
	wr.has_with_output = 1;
	wr.with_output = (flags & FUT_WAIT_OUTPUT) != 0;
	if (timeout_ms >= 0) {
		wr.has_timeout_ms = 1;
		wr.timeout_ms = timeout_ms;
	}
	req.body_case = FUTURED__REQUEST__BODY_WAIT;
	req.wait = &wr;
	if ((rc = client_request(c, &req, FUTURED__RESPONSE__BODY_WAIT,
	    &r)) != 0)
		return (rc);
	timed_out = r->wait->timed_out;
	if (first != NULL && (flags & FUT_WAIT_ANY) && !timed_out) {
		if (r->wait->has_first)
			*first = r->wait->first;
		else {
			for (i = 0; i < r->wait->n_jobs; i++) {
				if (r->wait->jobs[i]->state >=
				    FUTURED__STATE__STATE_SUCCEEDED) {
					*first = r->wait->jobs[i]->id;
					break;
				}
			}
		}
	}
	if ((*out = info_list_new(c, r, r->wait->jobs,
	    r->wait->n_jobs)) == NULL)
		return (FUT_ENOMEM);
	if (timed_out)
		return (info_seterr(c, FUT_ETIMEDOUT, "wait timed out"));
	return (0);
}

int
fut_wait_group(struct fut_client *c, const char *group, int64_t timeout_ms,
    struct fut_infos **out)
{
	if (group == NULL) {
		if (out != NULL)
			*out = NULL;
		return (c == NULL ? FUT_EINVAL :
		    info_seterr(c, FUT_EINVAL, "no group"));
	}
	return (fut_wait_jobs(c, NULL, 0, group, 0, timeout_ms, out, NULL));
}

int
fut_cancel_jobs(struct fut_client *c, const uint64_t *ids, size_t n,
    const char *group, int64_t grace_ms, struct fut_cancels **out)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__CancelRequest	 cr = FUTURED__CANCEL_REQUEST__INIT;
	int			 rc;

	if (out == NULL)
		return (FUT_EINVAL);
	*out = NULL;
	if (c == NULL)
		return (FUT_EINVAL);
	if ((n > 0) == (group != NULL) || (n > 0 && ids == NULL))
		return (info_seterr(c, FUT_EINVAL, "give job ids or a group, "
		    "not both"));
	cr.ids = (uint64_t *)ids;
	cr.n_ids = n;
	cr.group = (char *)group;
	if (grace_ms >= 0) {
		cr.has_grace_ms = 1;
		cr.grace_ms = grace_ms;
	}
	req.body_case = FUTURED__REQUEST__BODY_CANCEL;
	req.cancel = &cr;
	*out = info_snapshot(c, &req, FUTURED__RESPONSE__BODY_CANCEL,
	    sizeof(**out), &rc);
	return (rc);
}

size_t
fut_cancels_count(const struct fut_cancels *cs)
{
	return (cs == NULL ? 0 : cs->r->cancel->n_outcomes);
}

int
fut_cancels_get(const struct fut_cancels *cs, size_t n, uint64_t *id,
    int *took_effect, int *state)
{
	const Futured__CancelOutcome	*o;

	if (cs == NULL || n >= cs->r->cancel->n_outcomes)
		return (FUT_EINVAL);
	o = cs->r->cancel->outcomes[n];
	if (id != NULL)
		*id = o->id;
	if (took_effect != NULL)
		*took_effect = o->took_effect;
	if (state != NULL)
		*state = o->has_state ? (int)client_state_from_pb(o->state,
		    (enum fut_state)-1) : -1;
	if (o->has_error_code && o->error_code !=
	    FUTURED__ERROR_CODE__ERR_NONE)
		return (client_errcode_map(o->error_code));
	return (FUT_OK);
}

void
fut_cancels_free(struct fut_cancels *cs)
{
	info_snapshot_free(cs);
}

int
fut_handlers(struct fut_client *c, struct fut_handlers **out)
{
	Futured__Request		 req = FUTURED__REQUEST__INIT;
	Futured__HandlersRequest	 hr = FUTURED__HANDLERS_REQUEST__INIT;
	int				 rc;

	if (out == NULL)
		return (FUT_EINVAL);
	*out = NULL;
	req.body_case = FUTURED__REQUEST__BODY_HANDLERS;
	req.handlers = &hr;
	*out = info_snapshot(c, &req, FUTURED__RESPONSE__BODY_HANDLERS,
	    sizeof(**out), &rc);
	return (rc);
}

size_t
fut_handlers_count(const struct fut_handlers *h)
{
	return (h == NULL ? 0 : h->r->handlers->n_handlers);
}

static const Futured__HandlerInfo *
info_handler(const struct fut_handlers *h, size_t n)
{
	if (h == NULL || n >= h->r->handlers->n_handlers)
		return (NULL);
	return (h->r->handlers->handlers[n]);
}

const char *
fut_handlers_name(const struct fut_handlers *h, size_t n)
{
	const Futured__HandlerInfo	*hi = info_handler(h, n);

	return (hi == NULL ? NULL : hi->name);
}

const char *
fut_handlers_description(const struct fut_handlers *h, size_t n)
{
	const Futured__HandlerInfo	*hi = info_handler(h, n);

	return (hi == NULL ? NULL : hi->description);
}

unsigned int
fut_handlers_kinds(const struct fut_handlers *h, size_t n)
{
	const Futured__HandlerInfo	*hi = info_handler(h, n);
	unsigned int			 mask = 0;
	enum fut_kind			 k;
	size_t				 i;

	for (i = 0; hi != NULL && i < hi->n_kinds; i++) {
		if ((int)(k = info_kind_from_pb(hi->kinds[i])) >= 0)
			mask |= 1U << k;
	}
	return (mask);
}

enum fut_kind
fut_handlers_default_kind(const struct fut_handlers *h, size_t n)
{
	const Futured__HandlerInfo	*hi = info_handler(h, n);

	return (hi == NULL ? (enum fut_kind)-1 :
	    info_kind_from_pb(hi->default_kind));
}

int
fut_handlers_workers(const struct fut_handlers *h, size_t n)
{
	const Futured__HandlerInfo	*hi = info_handler(h, n);

	if (hi == NULL || !hi->has_workers)
		return (-1);
	return (hi->workers > INT_MAX ? INT_MAX : (int)hi->workers);
}

void
fut_handlers_free(struct fut_handlers *h)
{
	info_snapshot_free(h);
}

int
fut_stats(struct fut_client *c, struct fut_stats **out)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatsRequest	 sq = FUTURED__STATS_REQUEST__INIT;
	int			 rc;

	if (out == NULL)
		return (FUT_EINVAL);
	*out = NULL;
	req.body_case = FUTURED__REQUEST__BODY_STATS;
	req.stats = &sq;
	*out = info_snapshot(c, &req, FUTURED__RESPONSE__BODY_STATS,
	    sizeof(**out), &rc);
	return (rc);
}

int64_t
fut_stats_uptime_ms(const struct fut_stats *s)
{
	return (s == NULL ? 0 : s->r->stats->uptime_ms);
}

uint64_t
fut_stats_jobs_total(const struct fut_stats *s)
{
	return (s == NULL ? 0 : s->r->stats->jobs_total);
}

unsigned int
fut_stats_connections(const struct fut_stats *s)
{
	return (s == NULL ? 0 : s->r->stats->connections);
}

const char *
fut_stats_server_version(const struct fut_stats *s)
{
	return (s == NULL ? NULL : s->r->stats->server_version);
}

size_t
fut_stats_nkinds(const struct fut_stats *s)
{
	return (s == NULL ? 0 : s->r->stats->n_kinds);
}

enum fut_kind
fut_stats_kind(const struct fut_stats *s, size_t n)
{
	if (s == NULL || n >= s->r->stats->n_kinds)
		return ((enum fut_kind)-1);
	return (info_kind_from_pb(s->r->stats->kinds[n]->kind));
}

uint64_t
fut_stats_get(const struct fut_stats *s, size_t n, enum fut_stat which)
{
	const Futured__KindStats	*k;

	if (s == NULL || n >= s->r->stats->n_kinds)
		return (0);
	k = s->r->stats->kinds[n];
	switch (which) {
	case FUT_STAT_WAITING:
		return (k->waiting);
	case FUT_STAT_QUEUED:
		return (k->queued);
	case FUT_STAT_RUNNING:
		return (k->running);
	case FUT_STAT_SUCCEEDED:
		return (k->succeeded);
	case FUT_STAT_FAILED:
		return (k->failed);
	case FUT_STAT_CANCELLED:
		return (k->cancelled);
	case FUT_STAT_TIMED_OUT:
		return (k->timed_out);
	case FUT_STAT_POOL_SIZE:
		return (k->pool_size);
	case FUT_STAT_POOL_BUSY:
		return (k->pool_busy);
	}
	return (0);
}

size_t
fut_stats_npools(const struct fut_stats *s)
{
	return (s == NULL ? 0 : s->r->stats->n_pools);
}

static const Futured__PoolStats *
info_pool(const struct fut_stats *s, size_t n)
{
	if (s == NULL || n >= s->r->stats->n_pools)
		return (NULL);
	return (s->r->stats->pools[n]);
}

const char *
fut_stats_pool_name(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	return (p == NULL ? NULL : p->name);
}

int
fut_stats_pool_supervised(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	return (p != NULL && p->supervised);
}

unsigned int
fut_stats_pool_get(const struct fut_stats *s, size_t n, enum fut_pool_stat which)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	if (p == NULL)
		return (0);
	switch (which) {
	case FUT_POOL_PROCESSES:
		return (p->processes);
	case FUT_POOL_BUSY:
		return (p->busy);
	case FUT_POOL_CAPACITY:
		return (p->capacity);
	case FUT_POOL_SIZE:
		return (p->size);
	case FUT_POOL_ALIVE:
		return (p->alive);
	case FUT_POOL_RESTARTS:
		return (p->restarts > UINT_MAX ? UINT_MAX :
		    (unsigned int)p->restarts);
	case FUT_POOL_SPARES:
		return (p->spares);
	case FUT_POOL_RESPAWNS:
		return (p->respawns > UINT_MAX ? UINT_MAX :
		    (unsigned int)p->respawns);
	}
	return (0);
}

const char *
fut_stats_pool_state(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	return (p == NULL ? NULL : p->state);
}

const char *
fut_stats_pool_last_failure(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	return (p == NULL ? NULL : p->last_failure);
}

int
fut_stats_pool_last_exit(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	if (p == NULL || !p->has_last_exit_status || p->last_exit_status < 0)
		return (-1);
	return (p->last_exit_status);
}

int
fut_stats_pool_last_signal(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	if (p == NULL || !p->has_last_signal || p->last_signal > INT_MAX)
		return (0);
	return ((int)p->last_signal);
}

const char *
fut_stats_pool_last_stderr(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	return (p == NULL ? NULL : p->last_stderr);
}

int64_t
fut_stats_pool_last_ago_ms(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	if (p == NULL || !p->has_last_failure_ago_ms ||
	    p->last_failure_ago_ms < 0)
		return (-1);
	return (p->last_failure_ago_ms);
}

int64_t
fut_stats_pool_respawn_ms(const struct fut_stats *s, size_t n)
{
	const Futured__PoolStats	*p = info_pool(s, n);

	if (p == NULL || !p->has_respawn_ms || p->respawn_ms < 0)
		return (-1);
	return (p->respawn_ms);
}

void
fut_stats_free(struct fut_stats *s)
{
	info_snapshot_free(s);
}

int
fut_metrics(struct fut_client *c, struct fut_metrics **out)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__MetricsRequest	 mq = FUTURED__METRICS_REQUEST__INIT;
	int			 rc;

	if (out == NULL)
		return (FUT_EINVAL);
	*out = NULL;
	req.body_case = FUTURED__REQUEST__BODY_METRICS;
	req.metrics = &mq;
	*out = info_snapshot(c, &req, FUTURED__RESPONSE__BODY_METRICS,
	    sizeof(**out), &rc);
	return (rc);
}

const char *
fut_metrics_text(const struct fut_metrics *m)
{
	return (m == NULL ? NULL : m->r->metrics->text);
}

void
fut_metrics_free(struct fut_metrics *m)
{
	info_snapshot_free(m);
}

int
fut_group_set(struct fut_client *c, const char *name, int fail_fast,
    int64_t parallel, struct fut_group **out)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__GroupRequest	 gq = FUTURED__GROUP_REQUEST__INIT;
	struct fut_group	*g;
	int			 rc;

	if (out != NULL)
		*out = NULL;
	if (c == NULL)
		return (FUT_EINVAL);
	if (name == NULL || *name == '\0')
		return (info_seterr(c, FUT_EINVAL, "bad group \"\""));
	if (fail_fast < -1 || fail_fast > 1 || parallel < -1 ||
	    parallel > UINT32_MAX)
		return (info_seterr(c, FUT_EINVAL, "bad group setting"));
	gq.name = (char *)name;
	if (fail_fast >= 0) {
		gq.has_fail_fast = 1;
		gq.fail_fast = fail_fast;
	}
	if (parallel >= 0) {
		gq.has_parallel = 1;
		gq.parallel = (uint32_t)parallel;
	}
	req.body_case = FUTURED__REQUEST__BODY_GROUP;
	req.group = &gq;
	if ((g = info_snapshot(c, &req, FUTURED__RESPONSE__BODY_GROUP,
	    sizeof(*g), &rc)) == NULL)
		return (rc);
	if (out != NULL)
		*out = g;
	else
		fut_group_free(g);
	return (0);
}

const char *
fut_group_name(const struct fut_group *g)
{
	return (g == NULL ? NULL : g->r->group->name);
}

int
fut_group_fail_fast(const struct fut_group *g)
{
	return (g != NULL && g->r->group->fail_fast);
}

unsigned int
fut_group_parallel(const struct fut_group *g)
{
	return (g == NULL ? 0 : g->r->group->parallel);
}

int
fut_group_created(const struct fut_group *g)
{
	return (g != NULL && g->r->group->created);
}

uint64_t
fut_group_count(const struct fut_group *g, enum fut_group_counter which)
{
	if (g == NULL)
		return (0);
	switch (which) {
	case FUT_GROUP_JOBS:
		return (g->r->group->jobs);
	case FUT_GROUP_RUNNING:
		return (g->r->group->running);
	case FUT_GROUP_PENDING:
		return (g->r->group->pending);
	case FUT_GROUP_SUCCEEDED:
		return (g->r->group->succeeded);
	case FUT_GROUP_FAILED:
		return (g->r->group->failed);
	}
	return (0);
}

void
fut_group_free(struct fut_group *g)
{
	info_snapshot_free(g);
}

int
fut_pool_request(struct fut_client *c, const char *const *argv, size_t argc,
    unsigned int size, unsigned int kinds, const char *cwd,
    const char *const *env, size_t nenv, const char *name,
    struct fut_pool **out)
{
	static const Futured__Kind	 pkinds[] = { FUTURED__KIND__KIND_ASYNC,
	    FUTURED__KIND__KIND_BLOCKING, FUTURED__KIND__KIND_CPU };
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__PoolRequest	 pq = FUTURED__POOL_REQUEST__INIT;
	Futured__KeyValue	*kv = NULL, **kvp = NULL;
	Futured__Kind		 pkind[3];
	struct fut_pool		*p;
	const char		*eq;
	size_t			 i;
	int			 rc;

	if (out != NULL)
		*out = NULL;
	if (c == NULL)
		return (FUT_EINVAL);
	if (argv == NULL || argc == 0 || argv[0] == NULL || *argv[0] == '\0')
		return (info_seterr(c, FUT_EINVAL, "pool: no program"));
	if (kinds & ~7U)
		return (info_seterr(c, FUT_EINVAL, "pool: bad kinds 0x%x",
		    kinds));
	for (i = 0; i < argc; i++)
		if (argv[i] == NULL)
			return (info_seterr(c, FUT_EINVAL,
			    "pool: argument %zu is NULL", i));
	pq.n_argv = argc;
	pq.argv = (char **)argv;
	if (size != 0) {
		pq.has_size = 1;
		pq.size = size;
	}
	for (i = 0; i < 3; i++)
		if (kinds & (1U << i))
			pkind[pq.n_kinds++] = pkinds[i];
	pq.kinds = pkind;
	pq.cwd = (char *)cwd;
	pq.name = (char *)name;
	if (nenv > 0) {
		if (env == NULL || (kv = calloc(nenv, sizeof(*kv))) == NULL ||
		    (kvp = calloc(nenv, sizeof(*kvp))) == NULL) {
			free(kv);
			return (info_seterr(c, env == NULL ? FUT_EINVAL :
			    FUT_ENOMEM, env == NULL ? "pool: no env" :
			    "out of memory"));
		}
		/* "KEY=VALUE", split in place of a copy: the value is the
		 * tail of the same string. */
		for (i = 0; i < nenv; i++) {
			if (env[i] == NULL || (eq = strchr(env[i], '=')) ==
			    NULL || eq == env[i]) {
				rc = info_seterr(c, FUT_EINVAL,
				    "pool: env entry %zu is not KEY=VALUE", i);
				break;
			}
			futured__key_value__init(&kv[i]);
			if ((kv[i].key = strndup(env[i], eq - env[i])) ==
			    NULL) {
				rc = info_seterr(c, FUT_ENOMEM,
				    "out of memory");
				break;
			}
			kv[i].value = (char *)eq + 1;
			kvp[i] = &kv[i];
		}
		pq.n_env = i;
		pq.env = kvp;
		if (i < nenv)
			goto out;
	}
	req.body_case = FUTURED__REQUEST__BODY_POOL;
	req.pool = &pq;
	if ((p = info_snapshot(c, &req, FUTURED__RESPONSE__BODY_POOL,
	    sizeof(*p), &rc)) == NULL)
		goto out;
	if (out != NULL)
		*out = p;
	else
		fut_pool_free(p);
	rc = 0;
out:
	for (i = 0; i < pq.n_env; i++)
		free(kv[i].key);
	free(kv);
	free(kvp);
	return (rc);
}

const char *
fut_pool_name(const struct fut_pool *p)
{
	return (p == NULL ? NULL : p->r->pool->name);
}

int
fut_pool_created(const struct fut_pool *p)
{
	return (p != NULL && p->r->pool->created);
}

size_t
fut_pool_nhandlers(const struct fut_pool *p)
{
	return (p == NULL ? 0 : p->r->pool->n_handlers);
}

const char *
fut_pool_handler(const struct fut_pool *p, size_t i)
{
	if (p == NULL || i >= p->r->pool->n_handlers)
		return (NULL);
	return (p->r->pool->handlers[i]->name);
}

void
fut_pool_free(struct fut_pool *p)
{
	info_snapshot_free(p);
}

int
fut_ping(struct fut_client *c, char *version, size_t len,
    unsigned int *protocol)
{
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__PingRequest	 pq = FUTURED__PING_REQUEST__INIT;
	Futured__Response	*r;
	int			 rc;

	req.body_case = FUTURED__REQUEST__BODY_PING;
	req.ping = &pq;
	if ((rc = client_request(c, &req, FUTURED__RESPONSE__BODY_PING,
	    &r)) != 0)
		return (rc);
	if (version != NULL && len > 0)
		snprintf(version, len, "%s", r->ping->server_version);
	if (protocol != NULL)
		*protocol = r->ping->protocol_version;
	futured__response__free_unpacked(r, NULL);
	return (0);
}
