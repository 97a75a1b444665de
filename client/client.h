/*
 * libfutured's internals, shared by its files: client.c (the connection:
 * connect, Hello, the reader and writer roles, pending requests,
 * dispatch), spec.c (job specs), future.c (futures) and the calls of
 * info.c and watch.c.  Everything here is hidden from the library's
 * users (-fvisibility=hidden, libfutured.map).
 */

#ifndef FUTURED_CLIENT_H
#define FUTURED_CLIENT_H

#include <sys/queue.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(default)
#include "futured/futured.h"
#pragma GCC visibility pop

#include "arena.h"
#include "buf.h"
#include "frame.h"
#include "htab.h"
#include "futured.pb-c.h"

#define CLIENT_ERRMAX		512
/*
 * A request this small fits every daemon (--max-frame is at least 1 KiB)
 * and is sent without waiting for the Hello answer that says the limit.
 */
#define CLIENT_FRAME_SAFE	1024

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

/*
 * A done-callback, on its future's list and then on the client's queue;
 * or a watch event (w set) for a watch's callback, on the queue only.
 */
struct fut_cb {
	struct fut_future	*f;
	void			(*fn)(struct fut_future *, void *);
	void			*arg;
	struct fut_watch	*w;
	struct fut_event	*ev;		/* NULL: the stream failed */
	int			 err;
	TAILQ_ENTRY(fut_cb)	 entry;
};
TAILQ_HEAD(fut_cbq, fut_cb);

struct fut_spec {
	Futured__JobSpec	 js;
};

struct fut_future {
	struct fut_client	*c;
	struct hnode		 node;		/* in c->futures, key job id */
	int			 registered;
	uint64_t		 id;
	enum fut_state		 state;
	int			 final;		/* the JobEvent arrived */
	int			 lost;		/* connection lost before final */
	int			 refreshing;	/* a StatusRequest is out */
	int			 news;		/* the daemon pushes JobNews */
	double			 progress;	/* 0..1, as last told */
	char			*progress_msg;	/* or NULL */
	uint8_t			*output;
	size_t			 outlen;
	char			*errmsg;
	int			 exit_status;
	int			 sig;
	uint8_t			*errtail;
	size_t			 errtaillen;
	struct fut_cbq		 cbs;
};

/* What a pending slot is for. */
#define PEND_WAIT	0	/* a thread waits for resp */
#define PEND_SUBMIT	1	/* ... and registers fut on SubmitReply */
#define PEND_ATTACH	2	/* ... and registers fut on SubscribeReply */
#define PEND_REFRESH	3	/* fire and forget StatusRequest (fut_poll) */
#define PEND_HELLO	4	/* fire and forget Hello */
#define PEND_WATCH	5	/* a watch's stream: stays until final */
#define PEND_WORKER	6	/* a worker's ping: not waited for */

/*
 * A worker's update is sent quiet (TaskUpdate.quiet): the daemon answers
 * only a refusal, at any time later, so it has no pending slot.  Its
 * request id is this bit and its job id: a refusal, told from any other
 * answer by the bit, names its job without anything kept for it.
 */
#define CLIENT_QUIET_ID		(UINT64_C(1) << 63)

struct pending {
	struct hnode		 node;		/* in c->pending, key request id */
	int			 type;
	int			 done;
	int			 err;		/* FUT_E* when the connection went */
	Futured__Response	*resp;
	struct fut_future	*fut;
	uint64_t		 jobid;		/* PEND_REFRESH, PEND_WATCH */
	struct fut_watch	*w;		/* PEND_WATCH */
};

/*
 * Answers are decoded into a bump arena that is reset after each one:
 * nearly all of them (submit replies, completion events) are read and
 * dropped at once, and protobuf-c's malloc and free per field were a
 * quarter of the client's instructions per pipelined job.  An answer a
 * caller keeps is decoded again with malloc.  Used by the reader only,
 * under the client's lock.
 */
#define CLIENT_ARENA_SIZE	(16 * 1024)

struct fut_client {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	int			 fd;
	int			 refs;
	int			 closed;
	int			 dead;
	int			 dead_err;
	int			 reading;
	uint64_t		 rounds;	/* read rounds completed */
	int			 writing;
	uint64_t		 nextid;
	struct frame_reader	 rd;		/* frames read, not yet decoded */
	struct buf		 wbuf;
	struct htab		 pending;
	struct htab		 futures;
	struct fut_cbq		 cbq;
	int			 errcode;
	char			 errmsg[CLIENT_ERRMAX];
	int			 hello_done;	/* Hello's answer came */
	int			 submit_watch;	/* it said so in Hello */
	int			 job_news;	/* SubmitRequest.news, too */
	uint64_t		 limits[FUT_LIMIT_STDERR_TAIL + 1];
	struct arena		 arena;		/* answers, decoded */
	max_align_t		*arena_block;	/* its block, at the first read */
	struct fut_worker	*worker;	/* a worker's connection */
};


/*
 * A job info: a view of one JobInfo, which lives in own (a Response
 * decoded with malloc) or, for one in a list or event, in its owner's.
 */
struct fut_info {
	Futured__Response		*own;
	const Futured__JobInfo		*ji;
};

struct fut_infos {
	Futured__Response		*r;
	size_t				 n;
	struct fut_info			*v;
};

/* A watch event, or the error that ended a job's stream (err < 0). */
struct fut_event {
	Futured__Response		*r;
	struct fut_info			 info;
	const Futured__WatchEvent	*we;
	uint64_t			 id;
	int				 err;
	char				*errmsg;
	TAILQ_ENTRY(fut_event)		 entry;
};
TAILQ_HEAD(fut_eventq, fut_event);

struct fut_watch {
	struct fut_client	*c;
	unsigned int		 flags;
	void			(*cb)(const struct fut_event *, int, void *);
	void			*arg;
	struct fut_eventq	 q;		/* iterator form */
	int			 open;		/* streams not yet ended */
	int			 closed;	/* the caller is done with it */
	uint64_t		 submitted;	/* fut_submit_watch(): its id */
};

/* One attempt of one job pushed to a worker (worker.c). */
struct fut_task {
	struct fut_worker	*w;
	struct hnode		 node;		/* in w->held, key job id */
	TAILQ_ENTRY(fut_task)	 entry;		/* w->ready or w->cancels */
	Futured__Response	*r;		/* the Task, decoded with malloc */
	const Futured__Task	*t;
	int			 refs;
	int			 held;		/* the daemon counts it ours */
	int			 ready;		/* on w->ready, not given out */
	int			 cancelq;	/* on w->cancels */
	int			 cancelled;	/* atomic */
	char			 reason[64];	/* why, set before cancelled */
};
TAILQ_HEAD(fut_taskq, fut_task);

/* A handler of fut_worker_serve(). */
struct worker_fn {
	void			(*fn)(struct fut_task *, void *);
	void			*arg;
};

/*
 * A one-shot worker's state (worker_oneshot.c): its one Task comes from
 * a file and its outcome goes to one; there is no connection.
 */
struct worker_oneshot {
	char			*task_path;	/* $FUTURED_ONESHOT */
	char			*result_path;	/* $FUTURED_ONESHOT_RESULT */
	int			 given;		/* the task was handed out */
	int			 over;		/* it is done, or it failed */
	int			 rc;		/* 0, or why none was */
	struct buf		 out;		/* the task's output */
	struct buf		 err;		/* ... and stderr's tail */
};

struct fut_worker {
	struct fut_client	*c;
	struct worker_oneshot	*oneshot;	/* NULL: a connected worker */
	int			 refs;		/* the caller's, and tasks' */
	int			 registered;
	int			 closed;
	Futured__WorkerHandler	*handlers;
	struct worker_fn	*fns;		/* fut_worker_serve_handler() */
	size_t			 nhandlers;
	unsigned int		 concurrency;
	char			*pool;
	char			*name;
	uint64_t		 id;
	int64_t			 lease_ms;
	int64_t			 last_sent;	/* monotonic ms */
	struct htab		 held;		/* every task the daemon gave */
	size_t			 nheld;
	struct fut_taskq	 ready;		/* pushed, not given out yet */
	struct fut_taskq	 cancels;	/* callbacks to run */
	void			(*on_cancel)(struct fut_task *, void *);
	void			*cancel_arg;
};

typedef int	(*client_pred)(void *);

/* future.c */
Futured__JobSpec *future_job_spec(const struct fut_spec *,
		    Futured__JobSpec *, char *);

/* client.c */
int64_t		 client_mono_ms(void);
int64_t		 client_deadline(int64_t);
int		 client_errcode_map(Futured__ErrorCode);
int		 client_submit_watch_locked(struct fut_client *);
int		 client_seterr_locked(struct fut_client *, int, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
int		 client_seterr_resp_locked(struct fut_client *,
		    const Futured__Response *);
int		 client_seterr_wait_locked(struct fut_client *, int);
enum fut_state	 client_state_from_pb(Futured__State, enum fut_state);
int		 client_state_is_final(enum fut_state);
void		 client_run_cbs_locked(struct fut_client *);
void		 client_unlock(struct fut_client *);
void		 client_free(struct fut_client *);
void		 client_read_round_locked(struct fut_client *, int);
int		 client_flush_locked(struct fut_client *, int);
int		 client_queue_locked(struct fut_client *, Futured__Request *);
int		 client_queue_pending_locked(struct fut_client *,
		    Futured__Request *, struct pending *, int);
void		 client_pending_drop_locked(struct fut_client *,
		    struct pending *);
int		 client_wait_locked(struct fut_client *, client_pred, void *,
		    int64_t);
int		 client_pending_done_pred(void *);
int		 client_call_locked(struct fut_client *, Futured__Request *,
		    struct pending *, int);
/* One request, one answer of the body wanted: 0 with *resp ours, or < 0. */
int		 client_request(struct fut_client *, Futured__Request *,
		    Futured__Response__BodyCase, Futured__Response **);
struct fut_client *client_unconnected(const char *);

/* info.c */
void		 info_init(struct fut_info *, Futured__Response *,
		    const Futured__JobInfo *);

/* watch.c */
void		 watch_response_locked(struct fut_client *, struct pending *,
		    Futured__Response *, const uint8_t *, size_t);
void		 watch_lost_locked(struct fut_client *, struct pending *, int,
		    const char *);
void		 watch_run_cb(struct fut_cb *);

/* worker.c */
void		 worker_push_locked(struct fut_worker *, Futured__Response *,
		    const uint8_t *, size_t);
void		 worker_answer_locked(struct fut_worker *, uint64_t,
		    const Futured__Response *);
void		 worker_lost_locked(struct fut_worker *);
void		 worker_sent_locked(struct fut_worker *);
int		 worker_add_handler(struct fut_worker *, const char *,
		    unsigned int, enum fut_kind, const char *,
		    void (*)(struct fut_task *, void *), void *);

/* worker_oneshot.c */
struct worker_oneshot *worker_oneshot_new(const char *, const char *);
void		 worker_oneshot_free(struct worker_oneshot *);
int		 worker_oneshot_next_locked(struct fut_worker *, int64_t,
		    struct fut_task **);
int		 worker_oneshot_data_locked(struct fut_task *, const void *,
		    size_t, int);
int		 worker_oneshot_finish_locked(struct fut_task *, const void *,
		    size_t, const Futured__TaskUpdate *);

/* future.c */
void		 future_register_locked(struct fut_future *, uint64_t);
void		 future_update_locked(struct fut_future *, Futured__State);
void		 future_event_locked(struct fut_client *,
		    const Futured__JobInfo *);
void		 future_status_locked(struct fut_client *,
		    const Futured__JobInfo *);
void		 future_news_locked(struct fut_client *,
		    const Futured__JobNews *);
void		 future_refresh_done_locked(struct fut_client *, uint64_t);
void		 future_fire_locked(struct fut_future *);

#endif /* FUTURED_CLIENT_H */
