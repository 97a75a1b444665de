/*
 * Metrics in the Prometheus text format (version 0.0.4): the counters
 * the daemon keeps as jobs pass through it, and the one renderer that
 * futurectl metrics, the textfile (metrics_file.c) and the HTTP listener
 * (metrics_http.c) all print.
 *
 * Counting costs the hot path a few instructions: the job's own
 * transitions (job.c) bump plain counters and fixed bucket arrays; the
 * gauges (jobs by state, slots, connections) are read only when a
 * scrape renders them.
 *
 * Adding a family: a struct metrics_family with a collect() that calls
 * metrics_sample() (or metrics_hist_sample()) once per label set, given
 * to metrics_register() at start-up; the renderer writes its HELP and
 * TYPE lines and escapes every label value.  Names, label names and the
 * type are the caller's to get right (checked, fatal otherwise).
 */

#ifndef FUTURED_METRICS_H
#define FUTURED_METRICS_H

#include <sys/types.h>

#include <stdint.h>

struct evbuffer;
struct job;
struct metrics_w;

#define METRICS_COUNTER		"counter"
#define METRICS_GAUGE		"gauge"
#define METRICS_HISTOGRAM	"histogram"

struct metrics_family {
	const char	*name;		/* a counter's ends in _total */
	const char	*type;		/* METRICS_* */
	const char	*help;
	void		(*collect)(struct metrics_w *, void *);
	void		*arg;
};

/*
 * A histogram: counts of observations per bucket (not cumulative: the
 * renderer adds them up), in a unit of the caller's choosing (per_s:
 * how many make a second; a divisor, so that 100 us print as 0.0001),
 * bounds ascending in the same unit.
 */
#define METRICS_BUCKETS_MAX	24
struct metrics_hist {
	const uint64_t	*bounds;
	u_int		 nbounds;	/* at most METRICS_BUCKETS_MAX */
	double		 per_s;
	uint64_t	 counts[METRICS_BUCKETS_MAX + 1];	/* last: +Inf */
	uint64_t	 sum;
};

/* metrics.c */
void		 metrics_register(const struct metrics_family *);
/*
 * One sample of the family being collected: label name and value pairs,
 * then NULL.  A histogram family takes metrics_hist_sample() instead.
 */
void		 metrics_sample(struct metrics_w *, double, ...)
		    __attribute__((__sentinel__));
void		 metrics_sample_u64(struct metrics_w *, uint64_t, ...)
		    __attribute__((__sentinel__));
void		 metrics_hist_sample(struct metrics_w *,
		    const struct metrics_hist *, ...)
		    __attribute__((__sentinel__));
void		 metrics_hist_init(struct metrics_hist *, const uint64_t *,
		    u_int, double);
void		 metrics_hist_observe(struct metrics_hist *, uint64_t);
/* Every family, in registration order, appended to out. */
void		 metrics_render(struct evbuffer *);
/* A float as the format writes it: "+Inf", "NaN", "0.25", "3". */
const char	*metrics_format(double, char *, size_t);
/* Start: the summary for systemd (STATUS=), textfile and listener. */
int		 metrics_init(char **);
void		 metrics_shutdown(void);
/* The hooks: job.c, journal.c and the pools count through these. */
void		 metrics_job_submitted(const struct job *);
void		 metrics_job_started(const struct job *);
void		 metrics_job_ran(const struct job *, int64_t);
void		 metrics_job_finished(const struct job *);
void		 metrics_handler_forget(const struct fut_handler *);
void		 metrics_fsync(uint64_t);		/* in ns */
void		 metrics_worker_restart(void);
/* "3 running, 40 queued, 1021 done": systemd's STATUS= line. */
void		 metrics_summary(char *, size_t);

/* metrics_file.c: --metrics-textfile, for node_exporter. */
int		 metrics_file_init(const char *, int64_t, char **);
int		 metrics_file_write(char **);
void		 metrics_file_shutdown(void);

/* metrics_http.c: --metrics-listen, GET /metrics. */
int		 metrics_http_parse(const char *, char **, u_short *, char **);
int		 metrics_http_init(const char *, char **);
void		 metrics_http_shutdown(void);
/* Where it listens, "127.0.0.1:9464" (after a port 0, the one taken). */
const char	*metrics_http_address(void);

#endif /* FUTURED_METRICS_H */
