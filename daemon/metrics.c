/*
 * The daemon's metrics and the one renderer of the Prometheus text
 * exposition format (0.0.4) that every way out prints: futurectl metrics
 * (request.c), the textfile (metrics_file.c) and the HTTP listener
 * (metrics_http.c).  See metrics.h for how a family is added.
 *
 * The counters live here, bumped from the job's own transitions in job.c
 * (loop thread only, so plain integers); the gauges are read from
 * sched.c, server.c and the pools when a scrape asks.  No label names a
 * job or a user: a label set per job would grow without end.
 *
 * The daemon's one-line summary for systemd (STATUS=, "3 running, 40
 * queued, 1021 done") is sent from here too, at most once a second and
 * only after something changed, so that an idle daemon stays asleep.
 */

#include <sys/types.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "xmalloc.h"

#define METRICS_LABELS_MAX	8
#define METRICS_OUTCOMES	(JOB_NSTATES - JOB_SUCCEEDED)
#define METRICS_STATUS_MS	1000	/* systemd's STATUS=, at most this often */

struct metrics_w {
	struct evbuffer			*out;
	const struct metrics_family	*f;
};

/* A handler's counters; a job names its handler, not a registry index. */
struct metrics_handler {
	const struct fut_handler	*h;
	uint64_t			 submitted[JOB_NKINDS];
	uint64_t			 finished[JOB_NKINDS][METRICS_OUTCOMES];
};

/*
 * Job times are known to the millisecond (job.c's clocks); fsync is
 * timed in microseconds.  Buckets run from a millisecond (a pipelined
 * job's queue wait) to an hour (a long command).
 */
static const uint64_t metrics_job_bounds[] = {
	1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
	60000, 300000, 900000, 3600000
};
static const uint64_t metrics_fsync_bounds[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000
};
#define METRICS_NBOUNDS(b)	((u_int)(sizeof(b) / sizeof((b)[0])))

/* Ready from the start: the hot path checks nothing. */
#define METRICS_HIST(b, per_s)	{ (b), METRICS_NBOUNDS(b), (per_s), { 0 }, 0 }
#define METRICS_JOB_HIST	METRICS_HIST(metrics_job_bounds, 1000)
_Static_assert(JOB_NKINDS == 3, "a histogram per kind below");

static struct metrics_handler	*metrics_handlers;
static size_t			 metrics_nhandlers;
static size_t			 metrics_last;	/* the last one looked up */
/*
 * The counters of the worker handlers let go of (handler_retire), one
 * series for all: a label per Python module that ever ran would grow
 * without end, and dropping them would make the sums over handlers go
 * down.  Its name cannot be a handler's.
 */
static const struct fut_handler	 metrics_retired = {
	.abi = FUT_HANDLER_ABI,
	.name = "(retired)",
	.kinds = FUT_HK_ASYNC | FUT_HK_BLOCKING | FUT_HK_CPU,
	.default_kind = FUT_HK_ASYNC,
};
static struct metrics_hist	 metrics_wait[JOB_NKINDS] = {
	METRICS_JOB_HIST, METRICS_JOB_HIST, METRICS_JOB_HIST
};
static struct metrics_hist	 metrics_run[JOB_NKINDS] = {
	METRICS_JOB_HIST, METRICS_JOB_HIST, METRICS_JOB_HIST
};
static struct metrics_hist	 metrics_fsync_hist =
    METRICS_HIST(metrics_fsync_bounds, 1000000);
static uint64_t			 metrics_restarts;
static uint64_t			 metrics_done;	/* final, all outcomes */
static int64_t			 metrics_start_ms;
static int			 metrics_ready;

static const struct metrics_family **metrics_families;
static size_t			 metrics_nfamilies;

static int			 metrics_status_on;
static int			 metrics_status_armed;
static int64_t			 metrics_status_sent;	/* monotonic ms */
static struct event		*metrics_status_ev;

static void	metrics_builtin(void);
static void	metrics_status_touch(void);

/* The built-in families come first, whoever registers first. */
static void
metrics_setup(void)
{
	if (metrics_ready)
		return;
	metrics_ready = 1;
	metrics_builtin();
}

/* The format (and Prometheus) would reject these: a bug, not input. */
static int
metrics_name_ok(const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return (0);
	for (p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return (0);
	}
	return (1);
}

void
metrics_register(const struct metrics_family *f)
{
	size_t	 i;

	metrics_setup();
	if (!metrics_name_ok(f->name) || f->help == NULL ||
	    f->collect == NULL || (strcmp(f->type, METRICS_COUNTER) != 0 &&
	    strcmp(f->type, METRICS_GAUGE) != 0 &&
	    strcmp(f->type, METRICS_HISTOGRAM) != 0))
		fatalx("%s: bad family %s", __func__,
		    f->name != NULL ? f->name : "(null)");
	for (i = 0; i < metrics_nfamilies; i++) {
		if (strcmp(metrics_families[i]->name, f->name) == 0)
			fatalx("%s: %s registered twice", __func__, f->name);
	}
	metrics_families = xreallocarray(metrics_families,
	    metrics_nfamilies + 1, sizeof(*metrics_families));
	metrics_families[metrics_nfamilies++] = f;
}

void
metrics_hist_init(struct metrics_hist *h, const uint64_t *bounds, u_int n,
    double per_s)
{
	u_int	 i;

	if (n > METRICS_BUCKETS_MAX)
		fatalx("%s: %u buckets", __func__, n);
	for (i = 1; i < n; i++) {
		if (bounds[i] <= bounds[i - 1])
			fatalx("%s: bounds not ascending", __func__);
	}
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nbounds = n;
	h->per_s = per_s;
}

/* The first bucket whose bound v does not pass (le: "<="). */
static inline void
metrics_observe(struct metrics_hist *h, uint64_t v)
{
	u_int	 i = 0;

	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
}

void
metrics_hist_observe(struct metrics_hist *h, uint64_t v)
{
	metrics_observe(h, v);
}

/*
 * As Prometheus' own clients write floats: the special values by name,
 * integers without a point, the rest in the fewest digits that read back
 * as the same double.
 */
const char *
metrics_format(double v, char *s, size_t len)
{
	if (isnan(v))
		snprintf(s, len, "NaN");
	else if (isinf(v))
		snprintf(s, len, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		snprintf(s, len, "%.0f", v == 0 ? 0.0 : v);
	else {
		snprintf(s, len, "%.15g", v);
		if (strtod(s, NULL) != v)
			snprintf(s, len, "%.17g", v);
	}
	return (s);
}

/* A label value: backslash, double quote and newline escaped. */
static void
metrics_escape(struct evbuffer *out, const char *s, int help)
{
	const char	*p, *run = s;

	for (p = s; *p != '\0'; p++) {
		if (*p != '\\' && *p != '\n' && (help || *p != '"'))
			continue;
		evbuffer_add(out, run, p - run);
		evbuffer_add(out, *p == '\n' ? "\\n" : *p == '"' ? "\\\"" :
		    "\\\\", 2);
		run = p + 1;
	}
	evbuffer_add(out, run, p - run);
}

struct metrics_labels {
	const char	*name[METRICS_LABELS_MAX + 1];
	const char	*value[METRICS_LABELS_MAX + 1];
	u_int		 n;
};

static void
metrics_labels_take(struct metrics_w *w, struct metrics_labels *l,
    va_list ap)
{
	const char	*name;

	l->n = 0;
	while ((name = va_arg(ap, const char *)) != NULL) {
		if (l->n == METRICS_LABELS_MAX || !metrics_name_ok(name))
			fatalx("%s: %s: bad label", __func__, w->f->name);
		l->name[l->n] = name;
		if ((l->value[l->n] = va_arg(ap, const char *)) == NULL)
			l->value[l->n] = "";
		l->n++;
	}
}

/* name{labels} value: the line of one sample. */
static void
metrics_line(struct metrics_w *w, const char *suffix,
    const struct metrics_labels *l, const char *value)
{
	u_int	 i;

	evbuffer_add_printf(w->out, "%s%s", w->f->name, suffix);
	for (i = 0; i < l->n; i++) {
		evbuffer_add_printf(w->out, "%s%s=\"", i == 0 ? "{" : ",",
		    l->name[i]);
		metrics_escape(w->out, l->value[i], 0);
		evbuffer_add(w->out, "\"", 1);
	}
	evbuffer_add_printf(w->out, "%s %s\n", l->n > 0 ? "}" : "", value);
}

void
metrics_sample(struct metrics_w *w, double v, ...)
{
	struct metrics_labels	 l;
	char			 s[64];
	va_list			 ap;

	va_start(ap, v);
	metrics_labels_take(w, &l, ap);
	va_end(ap);
	metrics_line(w, "", &l, metrics_format(v, s, sizeof(s)));
}

/* Counters exactly, past 2^53 too. */
void
metrics_sample_u64(struct metrics_w *w, uint64_t v, ...)
{
	struct metrics_labels	 l;
	char			 s[32];
	va_list			 ap;

	va_start(ap, v);
	metrics_labels_take(w, &l, ap);
	va_end(ap);
	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	metrics_line(w, "", &l, s);
}

/* _bucket lines with le (cumulative, +Inf last), then _sum and _count. */
void
metrics_hist_sample(struct metrics_w *w, const struct metrics_hist *h, ...)
{
	struct metrics_labels	 l;
	char			 s[64], le[64];
	uint64_t		 cum = 0;
	u_int			 i;
	va_list			 ap;

	va_start(ap, h);
	metrics_labels_take(w, &l, ap);
	va_end(ap);
	l.name[l.n] = "le";
	l.value[l.n] = le;
	l.n++;
	for (i = 0; i <= h->nbounds; i++) {
		cum += h->counts[i];
		if (i < h->nbounds)
			metrics_format((double)h->bounds[i] / h->per_s, le,
			    sizeof(le));
		else
			snprintf(le, sizeof(le), "+Inf");
		snprintf(s, sizeof(s), "%llu", (unsigned long long)cum);
		metrics_line(w, "_bucket", &l, s);
	}
	l.n--;
	metrics_line(w, "_sum", &l, metrics_format((double)h->sum / h->per_s,
	    s, sizeof(s)));
	snprintf(s, sizeof(s), "%llu", (unsigned long long)cum);
	metrics_line(w, "_count", &l, s);
}

void
metrics_render(struct evbuffer *out)
{
	struct metrics_w	 w;
	size_t			 i;

	metrics_setup();
	w.out = out;
	for (i = 0; i < metrics_nfamilies; i++) {
		w.f = metrics_families[i];
		evbuffer_add_printf(out, "# HELP %s ", w.f->name);
		metrics_escape(out, w.f->help, 1);
		evbuffer_add_printf(out, "\n# TYPE %s %s\n", w.f->name,
		    w.f->type);
		w.f->collect(&w, w.f->arg);
	}
}

/* The hooks ------------------------------------------------------------- */

static struct metrics_handler *
metrics_handler(const struct fut_handler *h)
{
	struct metrics_handler	*mh;
	size_t			 i;

	if (metrics_last < metrics_nhandlers &&
	    metrics_handlers[metrics_last].h == h)
		return (&metrics_handlers[metrics_last]);
	for (i = 0; i < metrics_nhandlers; i++) {
		if (metrics_handlers[i].h == h) {
			metrics_last = i;
			return (&metrics_handlers[i]);
		}
	}
	metrics_handlers = xreallocarray(metrics_handlers,
	    metrics_nhandlers + 1, sizeof(*metrics_handlers));
	mh = &metrics_handlers[metrics_nhandlers];
	memset(mh, 0, sizeof(*mh));
	mh->h = h;
	metrics_last = metrics_nhandlers++;
	return (mh);
}

/* h leaves the registry: its counts go to handler="(retired)". */
void
metrics_handler_forget(const struct fut_handler *h)
{
	struct metrics_handler	*mh, *r;
	size_t			 i;
	int			 k, o;

	for (i = 0; i < metrics_nhandlers; i++) {
		if (metrics_handlers[i].h == h)
			break;
	}
	if (i == metrics_nhandlers)
		return;
	r = metrics_handler(&metrics_retired);	/* may move the array */
	mh = &metrics_handlers[i];
	for (k = 0; k < JOB_NKINDS; k++) {
		r->submitted[k] += mh->submitted[k];
		for (o = 0; o < METRICS_OUTCOMES; o++)
			r->finished[k][o] += mh->finished[k][o];
	}
	memmove(mh, mh + 1, (metrics_nhandlers - i - 1) * sizeof(*mh));
	metrics_nhandlers--;
	metrics_last = 0;
}

void
metrics_job_submitted(const struct job *j)
{
	metrics_handler(j->handler)->submitted[j->kind]++;
	if (metrics_status_on)
		metrics_status_touch();
}

/*
 * From joining the queue (submission, the dependencies met, a retry's
 * delay over) to the start; a wall clock stepped back counts as 0.
 */
void
metrics_job_started(const struct job *j)
{
	int64_t	 from, d;

	from = j->more->queued_at != 0 ? j->more->queued_at : j->submitted_at;
	d = j->more->started_at - from;
	metrics_observe(&metrics_wait[j->kind], d > 0 ? (uint64_t)d : 0);
	if (metrics_status_on)
		metrics_status_touch();
}

/* An attempt that ran ends at now (ms since the epoch). */
void
metrics_job_ran(const struct job *j, int64_t now)
{
	int64_t	 d = now - j->more->started_at;

	metrics_observe(&metrics_run[j->kind], d > 0 ? (uint64_t)d : 0);
}

void
metrics_job_finished(const struct job *j)
{
	if (!JOB_FINAL(j->state))
		return;
	metrics_handler(j->handler)->finished[j->kind]
	    [j->state - JOB_SUCCEEDED]++;
	metrics_done++;
	if (metrics_status_on)
		metrics_status_touch();
}

void
metrics_fsync(uint64_t ns)
{
	metrics_observe(&metrics_fsync_hist, ns / 1000);
}

/* A worker process (or program) died and another takes its place. */
void
metrics_worker_restart(void)
{
	metrics_restarts++;
}

/* The families ---------------------------------------------------------- */

static void
metrics_info_cb(struct metrics_w *w, void *arg)
{
	metrics_sample(w, 1, "version", FUTURED_VERSION, (char *)NULL);
}

static void
metrics_start_cb(struct metrics_w *w, void *arg)
{
	metrics_sample(w, (double)metrics_start_ms / 1000, (char *)NULL);
}

static void
metrics_handler_sync_cb(const struct fut_handler *h, void *arg)
{
	(void)metrics_handler(h);
}

/*
 * Every registered handler, with every kind it takes, even at 0: a
 * series that appears only at its first increment hides that increment
 * from rate().  Gone handlers (a replayed job's) only where counted.
 */
static void
metrics_submitted_cb(struct metrics_w *w, void *arg)
{
	struct metrics_handler	*mh;
	size_t			 i;
	int			 k;

	handler_foreach(metrics_handler_sync_cb, NULL);
	for (i = 0; i < metrics_nhandlers; i++) {
		mh = &metrics_handlers[i];
		for (k = 0; k < JOB_NKINDS; k++) {
			if (!handler_kind_ok(mh->h, k) && mh->submitted[k] == 0)
				continue;
			metrics_sample_u64(w, mh->submitted[k], "kind",
			    job_kind_name(k), "handler", mh->h->name,
			    (char *)NULL);
		}
	}
}

static void
metrics_finished_cb(struct metrics_w *w, void *arg)
{
	struct metrics_handler	*mh;
	size_t			 i;
	int			 k, o;

	handler_foreach(metrics_handler_sync_cb, NULL);
	for (i = 0; i < metrics_nhandlers; i++) {
		mh = &metrics_handlers[i];
		for (k = 0; k < JOB_NKINDS; k++) {
			for (o = 0; o < METRICS_OUTCOMES; o++) {
				if (!handler_kind_ok(mh->h, k) &&
				    mh->finished[k][o] == 0)
					continue;
				metrics_sample_u64(w, mh->finished[k][o],
				    "kind", job_kind_name(k), "handler",
				    mh->h->name, "outcome",
				    job_state_name(JOB_SUCCEEDED + o),
				    (char *)NULL);
			}
		}
	}
}

static void
metrics_jobs_cb(struct metrics_w *w, void *arg)
{
	uint64_t	 n;
	int		 s, k;

	for (s = 0; s < JOB_NSTATES; s++) {
		for (n = 0, k = 0; k < JOB_NKINDS; k++)
			n += sched_count(k, s);
		metrics_sample_u64(w, n, "state", job_state_name(s),
		    (char *)NULL);
	}
}

static void
metrics_hist_cb(struct metrics_w *w, void *arg)
{
	struct metrics_hist	*h = arg;
	int			 k;

	for (k = 0; k < JOB_NKINDS; k++)
		metrics_hist_sample(w, &h[k], "kind", job_kind_name(k),
		    (char *)NULL);
}

static void
metrics_slots_cb(struct metrics_w *w, void *arg)
{
	int	 k;

	for (k = 0; k < JOB_NKINDS; k++)
		metrics_sample_u64(w, arg == NULL ? sched_slots_max(k) :
		    sched_slots_used(k), "kind", job_kind_name(k),
		    (char *)NULL);
}

struct metrics_engine {
	struct metrics_w	*w;
	int			 busy;
};

static void
metrics_engine_one(const struct pool *p, void *arg)
{
	struct metrics_engine	*me = arg;
	struct pool_stats	 ps;

	if (p->stats == NULL)
		return;
	memset(&ps, 0, sizeof(ps));
	p->stats(&ps);
	if (me->busy)
		metrics_sample_u64(me->w, ps.busy, "engine", p->name,
		    (char *)NULL);
	else if (ps.size >= 0)
		metrics_sample_u64(me->w, (uint64_t)ps.size, "engine",
		    p->name, (char *)NULL);
}

static void
metrics_engine_cb(struct metrics_w *w, void *arg)
{
	struct metrics_engine	 me;

	me.w = w;
	me.busy = arg != NULL;
	pool_foreach(metrics_engine_one, &me);
}

static void
metrics_restarts_cb(struct metrics_w *w, void *arg)
{
	metrics_sample_u64(w, metrics_restarts, (char *)NULL);
}

static void
metrics_connections_cb(struct metrics_w *w, void *arg)
{
	metrics_sample_u64(w, server_nconns(), (char *)NULL);
}

static void
metrics_fsync_cb(struct metrics_w *w, void *arg)
{
	metrics_hist_sample(w, &metrics_fsync_hist, (char *)NULL);
}

static const struct metrics_family metrics_builtins[] = {
	{ "futured_build_info", METRICS_GAUGE,
	    "The daemon's version, as a label; always 1.",
	    metrics_info_cb, NULL },
	{ "futured_start_time_seconds", METRICS_GAUGE,
	    "When the daemon started, in seconds since the epoch.",
	    metrics_start_cb, NULL },
	{ "futured_jobs_submitted_total", METRICS_COUNTER,
	    "Jobs accepted since the daemon started, or taken over "
	    "unfinished from the journal.",
	    metrics_submitted_cb, NULL },
	{ "futured_jobs_finished_total", METRICS_COUNTER,
	    "Jobs that reached a final state since the daemon started.",
	    metrics_finished_cb, NULL },
	{ "futured_jobs", METRICS_GAUGE,
	    "Jobs in the table by state (finished ones while kept).",
	    metrics_jobs_cb, NULL },
	{ "futured_job_queue_wait_seconds", METRICS_HISTOGRAM,
	    "Time from joining the queue to the start, per attempt.",
	    metrics_hist_cb, metrics_wait },
	{ "futured_job_run_seconds", METRICS_HISTOGRAM,
	    "Time from the start to the end, per attempt.",
	    metrics_hist_cb, metrics_run },
	{ "futured_pool_slots", METRICS_GAUGE,
	    "Jobs of a kind that may run at once.",
	    metrics_slots_cb, NULL },
	{ "futured_pool_busy", METRICS_GAUGE,
	    "Slots of a kind taken by started jobs.",
	    metrics_slots_cb, (void *)1 },
	{ "futured_engine_workers", METRICS_GAUGE,
	    "Threads or worker processes alive in an engine.",
	    metrics_engine_cb, NULL },
	{ "futured_engine_running", METRICS_GAUGE,
	    "Jobs an engine runs now.",
	    metrics_engine_cb, (void *)1 },
	{ "futured_worker_restarts_total", METRICS_COUNTER,
	    "Worker processes replaced after they died or were killed.",
	    metrics_restarts_cb, NULL },
	{ "futured_connections", METRICS_GAUGE,
	    "Client connections open.",
	    metrics_connections_cb, NULL },
	{ "futured_journal_fsync_seconds", METRICS_HISTOGRAM,
	    "Time of each fsync of the journal.",
	    metrics_fsync_cb, NULL },
};

static void
metrics_builtin(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(metrics_builtins) / sizeof(metrics_builtins[0]);
	    i++)
		metrics_register(&metrics_builtins[i]);
}

/* systemd's STATUS= ------------------------------------------------------ */

void
metrics_summary(char *s, size_t len)
{
	uint64_t	 running = 0, queued = 0, waiting = 0;
	int		 k;

	for (k = 0; k < JOB_NKINDS; k++) {
		running += sched_count(k, JOB_RUNNING);
		queued += sched_count(k, JOB_QUEUED);
		waiting += sched_count(k, JOB_WAITING);
	}
	if (waiting > 0)
		snprintf(s, len, "%llu running, %llu queued, %llu waiting, "
		    "%llu done", (unsigned long long)running,
		    (unsigned long long)queued, (unsigned long long)waiting,
		    (unsigned long long)metrics_done);
	else
		snprintf(s, len, "%llu running, %llu queued, %llu done",
		    (unsigned long long)running, (unsigned long long)queued,
		    (unsigned long long)metrics_done);
}

static void
metrics_status_cb(evutil_socket_t fd, short events, void *arg)
{
	char	 s[160];

	metrics_status_armed = 0;
	metrics_status_sent = job_mono_ms();
	memcpy(s, "STATUS=", 7);
	metrics_summary(s + 7, sizeof(s) - 7);
	(void)sdnotify_send(s);
}

/* Something changed: tell systemd, now or a second after the last time. */
static void
metrics_status_touch(void)
{
	int64_t		 due;

	if (metrics_status_armed)
		return;
	metrics_status_armed = 1;
	due = metrics_status_sent + METRICS_STATUS_MS - job_mono_ms();
	timer_add_ms(metrics_status_ev, due);
}

/* Start-up ---------------------------------------------------------------- */

int
metrics_init(char **cause)
{
	char	 s[160];

	metrics_setup();
	metrics_start_ms = job_now_ms();
	if (sdnotify_enabled()) {
		metrics_status_ev = evtimer_new(base, metrics_status_cb, NULL);
		if (metrics_status_ev == NULL)
			fatalx("%s: evtimer_new", __func__);
		metrics_status_on = 1;
		/* What the journal brought back, before READY=1. */
		memcpy(s, "STATUS=", 7);
		metrics_summary(s + 7, sizeof(s) - 7);
		(void)sdnotify_send(s);
		metrics_status_sent = job_mono_ms();
	}
	if (settings.metrics_textfile != NULL &&
	    metrics_file_init(settings.metrics_textfile,
	    settings.metrics_interval_ms, cause) == -1)
		return (-1);
	if (settings.metrics_listen != NULL &&
	    metrics_http_init(settings.metrics_listen, cause) == -1) {
		metrics_file_shutdown();
		return (-1);
	}
	return (0);
}

void
metrics_shutdown(void)
{
	metrics_http_shutdown();
	metrics_file_shutdown();
	if (metrics_status_ev != NULL)
		event_free(metrics_status_ev);
	metrics_status_ev = NULL;
	metrics_status_on = metrics_status_armed = 0;
}
