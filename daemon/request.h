/*
 * What request.c and the other request_*.c share: the answers a
 * connection is owed and the helpers that fill and send them.  Private
 * to those files; the rest of the daemon knows only futured.h's
 * request_* calls.
 */

#ifndef FUTURED_REQUEST_H
#define FUTURED_REQUEST_H

#include "futured.pb-c.h"

#define REQUEST_IDS_MAX		65536	/* ids in one status/wait/cancel */

/* request_stopping: whether the daemon is stopping, and how. */
#define REQUEST_RUNNING		0
#define REQUEST_STOPPING	1	/* unstarted jobs are cancelled */
#define REQUEST_STOPPING_KEEP	2	/* the journal keeps them */
extern int	request_stopping;

enum pending_type {
	PENDING_WAIT,
	PENDING_CANCEL,
	PENDING_NOTIFY,
	PENDING_SUBMIT,		/* the answer waits for the journal */
	PENDING_WATCH,
	PENDING_SINK,		/* the conn takes its jobs' completions */
	PENDING_POOL,		/* a PoolRequest: until the pool serves */
	PENDING_LOGS,		/* a follow, until the job writes or ends */
	PENDING_SPARE		/* a warm spare's registration (pend: it) */
};


struct pending {
	struct conn		*conn;
	uint64_t		 reqid;
	enum pending_type	 type;
	struct waiter		*waiter;
	int			 with_output;
	int			 brief;		/* notify: outcome only */
	int			 notify;	/* submit: REQUEST_NOTIFY_* */
	int			 want_news;	/* submit: and news (JobNews) */
	uint64_t		 news_turn;	/* subscribe: news listed then */
	/* submit: the job, until its ACCEPT record is durable */
	struct journal_waiter	 jw;
	struct job		*job;
	/*
	 * watch: active when the job has news; what was told so far.  The
	 * positions count the attempt's bytes from its start; pend holds
	 * what the job does not keep, from pend_start, until the push.
	 */
	struct event		*news;
	uint32_t		 attempt;
	uint64_t		 out_sent;
	struct buf		 pend;
	uint64_t		 pend_start;
	uint64_t		 err_sent;
	struct buf		 errpend;
	uint64_t		 err_start;
	int			 err_told;	/* stderr from err_sent on */
	int			 held;		/* submit: until the reply */
	struct pending		*watch;		/* submit: its held watch */
	int			 final_due;	/* the end came while held */
	enum job_state		 last_state;
	double			 last_progress;
	char			*last_msg;
	int			 progress_only;
	/* sink: a job it is to be told of will not start (shutdown) */
	int			 shutdown;
	int			 created;	/* pool: this request started it */
	struct sup_proc		*sup;		/* spare: its process */
	/* cancel: whether it took effect, job by job in request order */
	int			*effect;
	/* logs: what the follow asked for */
	uint64_t		 log_off;
	size_t			 log_max;
	int			 log_err;
	TAILQ_ENTRY(pending)	 entry;
	LIST_ENTRY(pending)	 sentry;	/* sink: request_sinks; pool */
};

/* How a submitter asked to hear of the end: not, in full, or brief. */
#define REQUEST_NOTIFY_NONE	0
#define REQUEST_NOTIFY_FULL	1
#define REQUEST_NOTIFY_BRIEF	2

/* request.c */
void		 request_send(struct conn *, Futured__Response *);
void		 request_error(struct conn *, uint64_t, int, const char *, ...)
		    __attribute__((__format__(__printf__, 4, 5)));
Futured__Kind	 request_kind_out(enum job_kind);
Futured__State	 request_state_out(enum job_state);
/* Fill info from j, borrowing its memory; request_jobinfo_clear() after. */
void		 request_jobinfo(struct job *, int, Futured__JobInfo *);
void		 request_jobinfo_brief(struct job *, Futured__JobInfo *);
void		 request_jobinfo_stderr(struct job *, Futured__JobInfo *);
void		 request_jobinfo_clear(Futured__JobInfo *);
struct job	*request_find(struct conn *, uint64_t);
int		 request_not_found(struct conn *, uint64_t, const uint64_t *,
		    size_t);
int		 request_ids_check(struct conn *, uint64_t, const char *,
		    const uint64_t *, size_t);
int		 request_refuse_unstarted(struct conn *, uint64_t, struct job **,
		    size_t);
struct pending	*request_pending_new(struct conn *, uint64_t, enum pending_type);
void		 request_pending_free(struct pending *);
struct waiter	*request_park(struct pending *, struct job **, size_t, int,
		    int64_t, void (*)(struct waiter *, struct job *, int,
		    void *));

/* request_logs.c */
void		 request_logs(struct conn *, uint64_t,
		    const Futured__LogsRequest *);

/* request_submit.c */
void		 request_submit(struct conn *, uint64_t,
		    const Futured__SubmitRequest *);

/* request_pool.c */
void		 request_pool(struct conn *, uint64_t,
		    const Futured__PoolRequest *);

/* request_watch.c: what is pushed unasked */
void		 request_watch_init(void);
void		 request_sink(struct conn *);
/* A final job whose submitter asked to be told (j->notify set). */
void		 request_job_final(struct job *);
void		 request_sinks_shutdown(void);
void		 request_event(struct conn *, struct job *, int);
/* A notified job's submit was answered: push its news from now on. */
void		 request_news_start(struct job *);
void		 request_subscribe(struct conn *, uint64_t,
		    const Futured__SubscribeRequest *);
void		 request_watch(struct conn *, uint64_t, const Futured__WatchRequest *);
/* A submit's watch of j: held, told nothing until released. */
struct pending	*request_watch_held(struct conn *, uint64_t, struct job *, int);
void		 request_watch_release(struct pending *);

/* request_worker.c: the worker protocol (futured-workers(7)) */
void		 request_worker_register(struct conn *, uint64_t,
		    const Futured__WorkerRegister *);
int		 request_worker_update(struct conn *, uint64_t,
		    const Futured__TaskUpdate *);
void		 request_worker_heard(struct conn *);
void		 request_worker_garbage(struct conn *);

#endif /* FUTURED_REQUEST_H */
