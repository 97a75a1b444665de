/*
 * libfutured: the C client of futured(8).  This file owns the client
 * connection, job specs and futures.
 *
 * DESIGN.  One connection per struct fut_client, shared by every thread
 * that uses the client, guarded by one mutex (c->lock).  Requests carry
 * an incrementing id; each request that expects an answer has a pending
 * slot in c->pending, keyed by that id.  Nobody owns the socket for good:
 *
 * - Reading is leader/follower.  A thread that needs an answer either
 *   takes the single reader role (c->reading), drops the lock, poll(2)s
 *   the fd with its own remaining timeout, reads what is there into
 *   c->rbuf, takes the lock again, decodes every complete frame, gives up
 *   the role and broadcasts c->cond; or it sleeps on c->cond until the
 *   reader has done that work for it.  Only the role holder touches rbuf.
 * - Writing is the same pattern with c->writing: requests are appended to
 *   c->wbuf under the lock; the writer steals the buffer, sends it without
 *   the lock (so a thread blocked in send(2) never stops the reader) and
 *   loops until wbuf is empty.  A writer that would block also reads when
 *   nobody else does, so a daemon that stops reading until its replies
 *   are read can never deadlock a single-threaded client.
 * - Futures are registered by job id in c->futures when the SubmitReply
 *   (or SubscribeReply) is decoded, by the reader, before any later frame,
 *   so the JobEvent the daemon pushes when the job finishes always finds
 *   them.  Every submit asks for that event (notify), so submit + wait is
 *   one round trip.
 * - Done-callbacks are queued on c->cbq while frames are decoded and run
 *   by the thread that decoded them, with no lock held, once it is about
 *   to leave the library (client_unlock()) or to block again in a wait
 *   (client_wait_locked()), so a completion read on behalf of another
 *   job's waiter is never held back until that other job finishes.
 * - A lost connection fails every pending request and every unfinished
 *   future at once (FUT_ECONN, or FUT_EPROTO after a protocol error), so
 *   no waiter hangs.
 *
 * Lifetime.  A future holds a reference on its client.  fut_close() drops
 * the connection (fd closed, unfinished futures fail with FUT_ECONN and
 * their callbacks run) and the caller's reference; the client's memory
 * goes when the last future is freed.  So fut_future_free() after
 * fut_close() is still required, and always safe.
 */

#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#pragma GCC visibility push(default)
#include "futured/futured.h"
#pragma GCC visibility pop

#include "arena.h"
#include "buf.h"
#include "frame.h"
#include "sockpath.h"
#include "futured.pb-c.h"

#define CLIENT_ERRMAX		512
#define CLIENT_READ_CHUNK	65536
/* Bytes one read round takes before it decodes, so others get a turn. */
#define CLIENT_READ_ROUND	(4U * 1024 * 1024)
#define HTAB_MINBUCKETS		64

/* An intrusive hash table keyed by uint64_t. */
struct hnode {
	uint64_t		 key;
	LIST_ENTRY(hnode)	 entry;
};
LIST_HEAD(hlist, hnode);
struct htab {
	struct hlist		*b;
	size_t			 nb;
	size_t			 n;
};

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define HNODE_TO(type, field, p) \
	((type *)(void *)((char *)(p) - offsetof(type, field)))

/* A done-callback, on its future's list and then on the client's queue. */
struct fut_cb {
	struct fut_future	*f;
	void			(*fn)(struct fut_future *, void *);
	void			*arg;
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

struct pending {
	struct hnode		 node;		/* in c->pending, key request id */
	int			 type;
	int			 done;
	int			 err;		/* FUT_E* when the connection went */
	Futured__Response	*resp;
	struct fut_future	*fut;
	uint64_t		 jobid;		/* PEND_REFRESH */
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
	struct buf		 rbuf;
	size_t			 roff;		/* decoded bytes at rbuf's head */
	struct buf		 wbuf;
	struct htab		 pending;
	struct htab		 futures;
	struct fut_cbq		 cbq;
	int			 errcode;
	char			 errmsg[CLIENT_ERRMAX];
	struct arena		 arena;		/* answers, decoded */
	max_align_t		*arena_block;	/* its block, at the first read */
};

static void	client_fail_locked(struct fut_client *, int, const char *);
static void	client_process_locked(struct fut_client *);

static __thread char	 client_errcopy[CLIENT_ERRMAX];

/* Hash tables. */

static size_t
htab_slot(const struct htab *t, uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (key & (t->nb - 1));
}

static int
htab_init(struct htab *t)
{
	size_t	 i;

	t->nb = HTAB_MINBUCKETS;
	t->n = 0;
	if ((t->b = calloc(t->nb, sizeof(*t->b))) == NULL)
		return (-1);
	for (i = 0; i < t->nb; i++)
		LIST_INIT(&t->b[i]);
	return (0);
}

static void
htab_grow(struct htab *t)
{
	struct hlist	*nb, *ob = t->b;
	struct hnode	*n;
	size_t		 i, onb = t->nb;

	if ((nb = calloc(onb * 2, sizeof(*nb))) == NULL)
		return;		/* longer chains, still correct */
	t->b = nb;
	t->nb = onb * 2;
	for (i = 0; i < t->nb; i++)
		LIST_INIT(&t->b[i]);
	for (i = 0; i < onb; i++) {
		while ((n = LIST_FIRST(&ob[i])) != NULL) {
			LIST_REMOVE(n, entry);
			LIST_INSERT_HEAD(&t->b[htab_slot(t, n->key)], n,
			    entry);
		}
	}
	free(ob);
}

static void
htab_insert(struct htab *t, struct hnode *n, uint64_t key)
{
	if (t->n >= t->nb * 2)
		htab_grow(t);
	n->key = key;
	LIST_INSERT_HEAD(&t->b[htab_slot(t, key)], n, entry);
	t->n++;
}

static void
htab_remove(struct htab *t, struct hnode *n)
{
	LIST_REMOVE(n, entry);
	t->n--;
}

static struct hnode *
htab_find(struct htab *t, uint64_t key)
{
	struct hnode	*n;

	LIST_FOREACH(n, &t->b[htab_slot(t, key)], entry)
		if (n->key == key)
			return (n);
	return (NULL);
}

/* Time. */

static int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int64_t
deadline_of(int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return (-1);
	if (timeout_ms > INT64_MAX / 2)
		return (-1);
	return (mono_ms() + timeout_ms);
}

/* Errors. */

const char *
fut_strerror(int e)
{
	switch (e) {
	case FUT_OK:
		return ("success");
	case FUT_ETIMEDOUT:
		return ("wait timed out");
	case FUT_ENOTFOUND:
		return ("no such job");
	case FUT_EPERM:
		return ("permission denied");
	case FUT_EPROTO:
		return ("protocol error");
	case FUT_ECONN:
		return ("connection to futured lost");
	case FUT_EINVAL:
		return ("invalid argument");
	case FUT_ENOMEM:
		return ("out of memory");
	case FUT_ENOTREADY:
		return ("job not finished");
	case FUT_EHANDLER:
		return ("unknown handler or kind");
	case FUT_EFULL:
		return ("queue full");
	case FUT_ETOOBIG:
		return ("too big");
	case FUT_ESHUTDOWN:
		return ("futured is shutting down");
	}
	return ("unknown error");
}

static int
client_errcode_map(Futured__ErrorCode code)
{
	switch (code) {
	case FUTURED__ERROR_CODE__ERR_NONE:
		return (FUT_OK);
	case FUTURED__ERROR_CODE__ERR_NOT_FOUND:
		return (FUT_ENOTFOUND);
	case FUTURED__ERROR_CODE__ERR_PERM:
		return (FUT_EPERM);
	case FUTURED__ERROR_CODE__ERR_UNKNOWN_HANDLER:
	case FUTURED__ERROR_CODE__ERR_BAD_KIND:
		return (FUT_EHANDLER);
	case FUTURED__ERROR_CODE__ERR_INVALID:
		return (FUT_EINVAL);
	case FUTURED__ERROR_CODE__ERR_QUEUE_FULL:
		return (FUT_EFULL);
	case FUTURED__ERROR_CODE__ERR_TOO_BIG:
		return (FUT_ETOOBIG);
	case FUTURED__ERROR_CODE__ERR_VERSION:
	case FUTURED__ERROR_CODE__ERR_PROTO:
	case FUTURED__ERROR_CODE__ERR_INTERNAL:
		return (FUT_EPROTO);
	case FUTURED__ERROR_CODE__ERR_SHUTTING_DOWN:
		return (FUT_ESHUTDOWN);
	case FUTURED__ERROR_CODE__ERR_NOT_READY:
		return (FUT_ENOTREADY);
	case _FUTURED__ERROR_CODE_IS_INT_SIZE:
		break;
	}
	return (FUT_EPROTO);
}

/* Record the last error on c; returns code for tail calls. */
static int
client_seterr_locked(struct fut_client *c, int code, const char *fmt, ...)
{
	va_list	 ap;

	c->errcode = code;
	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return (code);
}

/* Record the error a response carries; returns the FUT_E* code. */
static int
client_seterr_resp_locked(struct fut_client *c, const Futured__Response *r)
{
	int	 code;

	if (r->body_case != FUTURED__RESPONSE__BODY_ERROR)
		return (client_seterr_locked(c, FUT_EPROTO,
		    "unexpected answer from futured"));
	code = client_errcode_map(r->error->code);
	if (code == FUT_OK)
		code = FUT_EPROTO;
	return (client_seterr_locked(c, code, "%s",
	    r->error->message != NULL && *r->error->message != '\0' ?
	    r->error->message : fut_strerror(code)));
}

/* The client error after a wait that did not produce an answer. */
static int
client_seterr_wait_locked(struct fut_client *c, int rc)
{
	if (rc == FUT_ETIMEDOUT)
		return (client_seterr_locked(c, rc, "wait timed out"));
	/* c->errmsg already says why the connection went. */
	c->errcode = rc;
	return (rc);
}

static enum fut_state
state_from_pb(Futured__State s, enum fut_state dflt)
{
	switch (s) {
	case FUTURED__STATE__STATE_WAITING:
		return (FUT_WAITING);
	case FUTURED__STATE__STATE_QUEUED:
		return (FUT_QUEUED);
	case FUTURED__STATE__STATE_RUNNING:
		return (FUT_RUNNING);
	case FUTURED__STATE__STATE_SUCCEEDED:
		return (FUT_SUCCEEDED);
	case FUTURED__STATE__STATE_FAILED:
		return (FUT_FAILED);
	case FUTURED__STATE__STATE_CANCELLED:
		return (FUT_CANCELLED);
	case FUTURED__STATE__STATE_TIMED_OUT:
		return (FUT_TIMED_OUT);
	default:
		return (dflt);
	}
}

static int
state_is_final(enum fut_state s)
{
	return (s >= FUT_SUCCEEDED);
}

/*
 * Run the queued done-callbacks, each with the lock dropped so that it
 * may call back into the library (submit, wait, even fut_close).  Called
 * and returns with the lock held.
 */
static void
client_run_cbs_locked(struct fut_client *c)
{
	struct fut_cb	*cb;

	while ((cb = TAILQ_FIRST(&c->cbq)) != NULL) {
		TAILQ_REMOVE(&c->cbq, cb, entry);
		pthread_mutex_unlock(&c->lock);
		cb->fn(cb->f, cb->arg);
		free(cb);
		pthread_mutex_lock(&c->lock);
	}
}

/* Locking: unlock after running the queued done-callbacks lock-free. */
static void
client_unlock(struct fut_client *c)
{
	client_run_cbs_locked(c);
	pthread_mutex_unlock(&c->lock);
}

/* Move f's callbacks to the client queue: f became final or was lost. */
static void
future_fire_locked(struct fut_future *f)
{
	struct fut_cb	*cb;

	while ((cb = TAILQ_FIRST(&f->cbs)) != NULL) {
		TAILQ_REMOVE(&f->cbs, cb, entry);
		TAILQ_INSERT_TAIL(&f->c->cbq, cb, entry);
	}
}

static void
future_register_locked(struct fut_future *f, uint64_t id)
{
	f->id = id;
	if (!f->registered) {
		htab_insert(&f->c->futures, &f->node, id);
		f->registered = 1;
	}
}

/* The job is final: keep its outcome. */
static void
future_settle_locked(struct fut_future *f, const Futured__JobInfo *ji)
{
	if (f->final)
		return;
	f->state = state_from_pb(ji->state, FUT_FAILED);
	if (!state_is_final(f->state))
		return;		/* not an outcome; ignore */
	if (ji->has_output && ji->output.len > 0) {
		if ((f->output = malloc(ji->output.len)) != NULL) {
			memcpy(f->output, ji->output.data, ji->output.len);
			f->outlen = ji->output.len;
		}
	}
	if (ji->has_stderr_tail && ji->stderr_tail.len > 0) {
		if ((f->errtail = malloc(ji->stderr_tail.len)) != NULL) {
			memcpy(f->errtail, ji->stderr_tail.data,
			    ji->stderr_tail.len);
			f->errtaillen = ji->stderr_tail.len;
		}
	}
	free(f->errmsg);
	f->errmsg = NULL;
	if (ji->error != NULL && *ji->error != '\0')
		f->errmsg = strdup(ji->error);
	f->exit_status = ji->has_exit_status ? ji->exit_status : -1;
	f->sig = ji->has_signal ? ji->signal : 0;
	f->final = 1;
	future_fire_locked(f);
}

/* A non-final state from a status or cancel answer. */
static void
future_update_locked(struct fut_future *f, Futured__State s)
{
	enum fut_state	 st;

	if (f->final)
		return;
	st = state_from_pb(s, f->state);
	/*
	 * A final state without the JobEvent would make fut_output() NULL
	 * for a "finished" job; the event follows, so keep the last
	 * non-final state until it arrives.
	 */
	if (!state_is_final(st))
		f->state = st;
}

static void
client_event_locked(struct fut_client *c, const Futured__JobInfo *ji)
{
	struct hnode		*n;
	struct fut_future	*f;

	if (ji == NULL)
		return;
	LIST_FOREACH(n, &c->futures.b[htab_slot(&c->futures, ji->id)],
	    entry) {
		if (n->key != ji->id)
			continue;
		f = HNODE_TO(struct fut_future, node, n);
		future_settle_locked(f, ji);
	}
}

static void
client_status_locked(struct fut_client *c, const Futured__JobInfo *ji,
    int clear_refresh)
{
	struct hnode		*n;
	struct fut_future	*f;

	if (ji == NULL)
		return;
	LIST_FOREACH(n, &c->futures.b[htab_slot(&c->futures, ji->id)],
	    entry) {
		if (n->key != ji->id)
			continue;
		f = HNODE_TO(struct fut_future, node, n);
		future_update_locked(f, ji->state);
		if (clear_refresh)
			f->refreshing = 0;
	}
}

static void
client_refresh_done_locked(struct fut_client *c, uint64_t jobid)
{
	struct hnode	*n;

	LIST_FOREACH(n, &c->futures.b[htab_slot(&c->futures, jobid)], entry)
		if (n->key == jobid)
			HNODE_TO(struct fut_future, node, n)->refreshing = 0;
}

/* A response nobody waits for: Hello's answer or a refresh. */
static void
client_orphan_locked(struct fut_client *c, struct pending *p,
    Futured__Response *r)
{
	size_t	 i;
	char	 msg[CLIENT_ERRMAX];

	if (p->type == PEND_HELLO) {
		if (r->body_case == FUTURED__RESPONSE__BODY_ERROR) {
			snprintf(msg, sizeof(msg), "futured refused the "
			    "protocol version %u: %s",
			    FUTURED_PROTOCOL_VERSION, r->error->message);
			client_fail_locked(c, FUT_EPROTO, msg);
		} else if (r->body_case != FUTURED__RESPONSE__BODY_HELLO ||
		    r->hello->version != FUTURED_PROTOCOL_VERSION) {
			snprintf(msg, sizeof(msg), "futured speaks protocol "
			    "version %u, not %u", r->body_case ==
			    FUTURED__RESPONSE__BODY_HELLO ?
			    r->hello->version : 0, FUTURED_PROTOCOL_VERSION);
			client_fail_locked(c, FUT_EPROTO, msg);
		}
		return;
	}
	/* PEND_REFRESH */
	if (r->body_case == FUTURED__RESPONSE__BODY_STATUS) {
		for (i = 0; i < r->status->n_jobs; i++)
			client_status_locked(c, r->status->jobs[i], 0);
	}
	client_refresh_done_locked(c, p->jobid);
}

/* Submit replies are not kept: this stands for an accepted one. */
static Futured__Response	 client_accepted = {
	.body_case = FUTURED__RESPONSE__BODY_SUBMIT
};

/*
 * Hand one decoded answer (in the arena; its frame is data, len) to
 * whoever it is for.
 */
static void
client_response_locked(struct fut_client *c, Futured__Response *r,
    const uint8_t *data, size_t len)
{
	struct hnode	*n;
	struct pending	*p;
	size_t		 i;
	char		 msg[CLIENT_ERRMAX];

	if (r->id == 0) {
		if (r->body_case == FUTURED__RESPONSE__BODY_EVENT)
			client_event_locked(c, r->event->job);
		else if (r->body_case == FUTURED__RESPONSE__BODY_ERROR) {
			/* The daemon drops the connection after this. */
			snprintf(msg, sizeof(msg), "futured: %s",
			    r->error->message);
			client_fail_locked(c, client_errcode_map(
			    r->error->code) == FUT_ESHUTDOWN ?
			    FUT_ESHUTDOWN : FUT_EPROTO, msg);
		}
		return;
	}
	if ((n = htab_find(&c->pending, r->id)) == NULL) {
		/* An answer for a request whose waiter gave up. */
		return;
	}
	p = HNODE_TO(struct pending, node, n);
	htab_remove(&c->pending, n);
	switch (p->type) {
	case PEND_HELLO:
	case PEND_REFRESH:
		client_orphan_locked(c, p, r);
		free(p);
		return;
	case PEND_SUBMIT:
		if (r->body_case == FUTURED__RESPONSE__BODY_SUBMIT) {
			future_register_locked(p->fut, r->submit->id);
			p->fut->state = FUT_QUEUED;
			if (r->submit->has_state)
				future_update_locked(p->fut,
				    r->submit->state);
			p->resp = &client_accepted;
			p->done = 1;
			return;
		}
		break;
	case PEND_ATTACH:
		if (r->body_case != FUTURED__RESPONSE__BODY_SUBSCRIBE)
			break;
		for (i = 0; i < r->subscribe->n_ids; i++) {
			if (r->subscribe->ids[i] == p->fut->id) {
				future_register_locked(p->fut, p->fut->id);
				break;
			}
		}
		break;
	default:
		break;
	}
	/* Kept by its caller: out of the arena. */
	if ((p->resp = futured__response__unpack(NULL, len, data)) == NULL)
		p->err = FUT_ENOMEM;
	p->done = 1;
}

/* Decode every complete frame in rbuf; caller holds the reader role. */
static void
client_process_locked(struct fut_client *c)
{
	Futured__Response	*r;
	uint32_t		 len;
	size_t			 avail;
	const uint8_t		*p;

	if (c->arena_block == NULL) {
		if ((c->arena_block = malloc(CLIENT_ARENA_SIZE)) == NULL) {
			client_fail_locked(c, FUT_ENOMEM, "out of memory");
			return;
		}
		arena_init(&c->arena, c->arena_block, CLIENT_ARENA_SIZE);
	}
	while (!c->dead) {
		avail = c->rbuf.len - c->roff;
		if (avail < FRAME_HDR_LEN)
			break;
		p = c->rbuf.data + c->roff;
		if (frame_header_decode(p, FUTURED_FRAME_MAX, &len) == -1) {
			client_fail_locked(c, FUT_EPROTO,
			    "futured sent a frame over the size limit");
			break;
		}
		if (avail - FRAME_HDR_LEN < len)
			break;
		r = futured__response__unpack(&c->arena.pb, len,
		    p + FRAME_HDR_LEN);
		c->roff += FRAME_HDR_LEN + len;
		if (r == NULL) {
			arena_reset(&c->arena);
			client_fail_locked(c, FUT_EPROTO,
			    "futured sent a message that does not decode");
			break;
		}
		client_response_locked(c, r, p + FRAME_HDR_LEN, len);
		arena_reset(&c->arena);
	}
	if (c->roff == c->rbuf.len) {
		c->rbuf.len = 0;
		c->roff = 0;
	} else if (c->roff > 0 && c->roff >= c->rbuf.len / 2) {
		memmove(c->rbuf.data, c->rbuf.data + c->roff,
		    c->rbuf.len - c->roff);
		c->rbuf.len -= c->roff;
		c->roff = 0;
	}
	pthread_cond_broadcast(&c->cond);
}

/*
 * The connection is gone: fail everything that waits on it.  Called at
 * most once per client (later calls return); the fd stays open until
 * fut_close() so that an event loop watching it never sees it reused.
 */
static void
client_fail_locked(struct fut_client *c, int err, const char *msg)
{
	struct hnode		*n;
	struct pending		*p;
	struct fut_future	*f;
	size_t			 i;

	if (c->dead)
		return;
	c->dead = 1;
	c->dead_err = err;
	client_seterr_locked(c, err, "%s", msg);
	if (c->fd != -1)
		shutdown(c->fd, SHUT_RDWR);
	for (i = 0; i < c->pending.nb; i++) {
		while ((n = LIST_FIRST(&c->pending.b[i])) != NULL) {
			htab_remove(&c->pending, n);
			p = HNODE_TO(struct pending, node, n);
			if (p->type == PEND_HELLO || p->type == PEND_REFRESH) {
				free(p);
				continue;
			}
			p->done = 1;
			p->err = err;
		}
	}
	for (i = 0; i < c->futures.nb; i++) {
		LIST_FOREACH(n, &c->futures.b[i], entry) {
			f = HNODE_TO(struct fut_future, node, n);
			if (f->final || f->lost)
				continue;
			f->lost = 1;
			free(f->errmsg);
			f->errmsg = strdup(msg);
			future_fire_locked(f);
		}
	}
	buf_reset(&c->wbuf);
	pthread_cond_broadcast(&c->cond);
}

/*
 * One read round: take the reader role, poll for up to timeout_ms (0:
 * do not block, -1: forever) without the lock, read what is there,
 * decode it.  Called and returns with the lock held; c->reading was 0.
 */
static void
client_read_round_locked(struct fut_client *c, int timeout_ms)
{
	struct pollfd	 pfd;
	uint8_t		 chunk[CLIENT_READ_CHUNK];
	ssize_t		 n;
	size_t		 got = 0;
	int		 r, eof = 0, fd = c->fd, oom = 0;
	int		 saved = 0;

	c->reading = 1;
	/* Frames an earlier writer stashed: decode them before blocking. */
	if (c->rbuf.len - c->roff >= FRAME_HDR_LEN) {
		client_process_locked(c);
		timeout_ms = 0;
	}
	pthread_mutex_unlock(&c->lock);

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	r = poll(&pfd, 1, timeout_ms);
	if (r > 0) {
		for (;;) {
			n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK) {
					eof = 1;
					saved = errno;
				}
				break;
			}
			if (n == 0) {
				eof = 1;
				break;
			}
			if (buf_append(&c->rbuf, chunk, n) == -1) {
				oom = 1;
				break;
			}
			got += n;
			if (got >= CLIENT_READ_ROUND || (size_t)n < sizeof(chunk))
				break;
		}
	}

	pthread_mutex_lock(&c->lock);
	client_process_locked(c);
	if (oom)
		client_fail_locked(c, FUT_ENOMEM,
		    "out of memory reading from futured");
	else if (eof) {
		char	 msg[CLIENT_ERRMAX];

		if (saved != 0)
			snprintf(msg, sizeof(msg), "connection to futured "
			    "lost: %s", strerror(saved));
		else
			snprintf(msg, sizeof(msg), "connection to futured "
			    "closed");
		client_fail_locked(c, FUT_ECONN, msg);
	}
	c->reading = 0;
	c->rounds++;
	pthread_cond_broadcast(&c->cond);
}

/*
 * Send everything queued in wbuf.  With block == 0, send what the socket
 * takes now and leave the rest (fut_poll); otherwise take the writer role
 * and loop until wbuf is empty, without the lock while in send(2).
 * Called and returns with the lock held.  0, or the connection's error.
 */
static int
client_flush_locked(struct fut_client *c, int block)
{
	struct pollfd	 pfd;
	uint8_t		*data;
	size_t		 len, off;
	ssize_t		 n;
	int		 err = 0, readit;

	if (c->dead)
		return (c->dead_err);
	if (c->writing)
		return (0);	/* the writer loops until wbuf is empty */
	if (!block) {
		while (c->wbuf.len > 0) {
			n = send(c->fd, c->wbuf.data, c->wbuf.len,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				return (0);
			if (n == -1) {
				client_fail_locked(c, FUT_ECONN,
				    "connection to futured lost");
				return (FUT_ECONN);
			}
			memmove(c->wbuf.data, c->wbuf.data + n,
			    c->wbuf.len - n);
			c->wbuf.len -= n;
		}
		return (0);
	}

	c->writing = 1;
	while (!c->dead && c->wbuf.len > 0) {
		data = buf_steal(&c->wbuf, &len);
		off = 0;
		pthread_mutex_unlock(&c->lock);
		readit = 1;
		while (off < len && err == 0) {
			n = send(c->fd, data + off, len - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n >= 0) {
				off += n;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				err = errno;
				break;
			}
			pfd.fd = c->fd;
			pfd.events = POLLOUT | (readit ? POLLIN : 0);
			pfd.revents = 0;
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
				err = errno;
				break;
			}
			if ((pfd.revents & (POLLIN | POLLHUP)) && readit) {
				/* Drain answers so the daemon can go on. */
				pthread_mutex_lock(&c->lock);
				if (!c->reading && !c->dead)
					client_read_round_locked(c, 0);
				else
					readit = 0;
				if (c->dead)
					err = EPIPE;
				pthread_mutex_unlock(&c->lock);
			}
		}
		free(data);
		pthread_mutex_lock(&c->lock);
		if (err != 0) {
			char	 msg[CLIENT_ERRMAX];

			snprintf(msg, sizeof(msg), "connection to futured "
			    "lost: %s", strerror(err));
			client_fail_locked(c, FUT_ECONN, msg);
		}
	}
	c->writing = 0;
	pthread_cond_broadcast(&c->cond);
	return (c->dead ? c->dead_err : 0);
}

/* Append one framed request to wbuf. */
static int
client_queue_locked(struct fut_client *c, Futured__Request *req)
{
	size_t	 len;
	uint8_t	 hdr[FRAME_HDR_LEN], *p;

	if (c->dead)
		return (c->dead_err);
	len = futured__request__get_packed_size(req);
	if (len > FUTURED_FRAME_MAX)
		return (client_seterr_locked(c, FUT_ETOOBIG,
		    "request of %zu bytes is over the frame limit", len));
	if ((p = malloc(len + FRAME_HDR_LEN)) == NULL)
		return (client_seterr_locked(c, FUT_ENOMEM, "out of memory"));
	frame_header_encode(hdr, (uint32_t)len);
	memcpy(p, hdr, FRAME_HDR_LEN);
	futured__request__pack(req, p + FRAME_HDR_LEN);
	if (buf_append(&c->wbuf, p, len + FRAME_HDR_LEN) == -1) {
		free(p);
		return (client_seterr_locked(c, FUT_ENOMEM, "out of memory"));
	}
	free(p);
	return (0);
}

/* Give req an id and a pending slot, and queue it. */
static int
client_queue_pending_locked(struct fut_client *c, Futured__Request *req,
    struct pending *p, int type)
{
	int	 rc;

	req->id = c->nextid++;
	p->type = type;
	p->done = 0;
	p->err = 0;
	p->resp = NULL;
	if ((rc = client_queue_locked(c, req)) != 0)
		return (rc);
	htab_insert(&c->pending, &p->node, req->id);
	return (0);
}

/* Forget a pending slot that is still in the table (gave up waiting). */
static void
pending_drop_locked(struct fut_client *c, struct pending *p)
{
	if (!p->done && htab_find(&c->pending, p->node.key) == &p->node)
		htab_remove(&c->pending, &p->node);
	if (p->resp != NULL && p->resp != &client_accepted)
		futured__response__free_unpacked(p->resp, NULL);
	p->resp = NULL;
}

typedef int	(*client_pred)(void *);

/*
 * Wait until pred(arg) holds, the deadline (monotonic ms, -1: none)
 * passes or the connection is lost.  0, FUT_ETIMEDOUT or the
 * connection's error.  Lock held throughout except while reading.
 */
static int
client_wait_locked(struct fut_client *c, client_pred pred, void *arg,
    int64_t deadline)
{
	struct timespec	 ts;
	int64_t		 now, left;

	for (;;) {
		if (pred(arg))
			return (0);
		if (c->dead)
			return (c->dead_err);
		/*
		 * A round may have decoded the completion of a job this
		 * thread does not wait for.  Run its callbacks before
		 * blocking again: left on the queue they would wait for
		 * this thread's own job, or for the next caller.
		 */
		if (!TAILQ_EMPTY(&c->cbq)) {
			client_run_cbs_locked(c);
			continue;
		}
		now = mono_ms();
		if (deadline >= 0 && now >= deadline)
			return (FUT_ETIMEDOUT);
		if (!c->reading) {
			left = deadline < 0 ? -1 : deadline - now;
			if (left > INT_MAX)
				left = INT_MAX;
			client_read_round_locked(c, (int)left);
		} else if (deadline < 0)
			pthread_cond_wait(&c->cond, &c->lock);
		else {
			ts.tv_sec = deadline / 1000;
			ts.tv_nsec = (deadline % 1000) * 1000000;
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		}
	}
}

static int
pending_done_pred(void *arg)
{
	return (((struct pending *)arg)->done);
}

/*
 * Send one request and wait for its answer (forever: the daemon answers
 * everything but Wait at once).  0 with p->resp set, or < 0.
 */
static int
client_call_locked(struct fut_client *c, Futured__Request *req,
    struct pending *p, int type)
{
	int	 rc;

	if ((rc = client_queue_pending_locked(c, req, p, type)) != 0)
		return (rc);
	if ((rc = client_flush_locked(c, 1)) != 0 && !p->done)
		return (client_seterr_wait_locked(c, rc));
	rc = client_wait_locked(c, pending_done_pred, p, -1);
	if (rc == 0 && p->err != 0)
		rc = p->err;
	if (rc != 0) {
		pending_drop_locked(c, p);
		return (client_seterr_wait_locked(c, rc));
	}
	return (0);
}

/* Connection. */

struct fut_client *
fut_connect(const char *path)
{
	struct fut_client	*c;
	struct sockaddr_un	 sun;
	char			 def[sizeof(sun.sun_path)];
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__Hello		 hello = FUTURED__HELLO__INIT;
	struct pending		*p;
	pthread_condattr_t	 ca;
	int			 fd, saved;

	if (path == NULL) {
		if (sockpath_default(def, sizeof(def)) == -1)
			return (NULL);
		path = def;
	}
	if (sockpath_addr(path, &sun) == -1)
		return (NULL);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (NULL);
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return (NULL);
	}

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->fd = fd;
	c->refs = 1;
	c->nextid = 1;
	TAILQ_INIT(&c->cbq);
	if (htab_init(&c->pending) == -1 || htab_init(&c->futures) == -1)
		goto fail;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);

	/* Hello, pipelined: its answer is checked when it arrives. */
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto fail_sync;
	hello.version = FUTURED_PROTOCOL_VERSION;
	hello.client = (char *)"libfutured " PACKAGE_VERSION;
	req.body_case = FUTURED__REQUEST__BODY_HELLO;
	req.hello = &hello;
	pthread_mutex_lock(&c->lock);
	if (client_queue_pending_locked(c, &req, p, PEND_HELLO) != 0 ||
	    client_flush_locked(c, 1) != 0) {
		pthread_mutex_unlock(&c->lock);
		if (!c->dead)
			free(p);
		saved = c->dead ? ECONNRESET : ENOMEM;
		fut_close(c);
		errno = saved;
		return (NULL);
	}
	pthread_mutex_unlock(&c->lock);
	return (c);

fail_sync:
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
fail:
	if (c != NULL) {
		free(c->pending.b);
		free(c->futures.b);
		free(c);
	}
	close(fd);
	errno = ENOMEM;
	return (NULL);
}

static void
client_free(struct fut_client *c)
{
	buf_reset(&c->rbuf);
	buf_reset(&c->wbuf);
	arena_reset(&c->arena);
	free(c->arena_block);
	free(c->pending.b);
	free(c->futures.b);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

void
fut_close(struct fut_client *c)
{
	int	 last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->closed = 1;
	client_fail_locked(c, FUT_ECONN, "client closed");
	/* shutdown(2) woke any reader or writer; let them leave the fd. */
	while (c->reading || c->writing)
		pthread_cond_wait(&c->cond, &c->lock);
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	/* Callbacks of unfinished futures run now, on this thread. */
	client_unlock(c);
	pthread_mutex_lock(&c->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last)
		client_free(c);
}

const char *
fut_client_error(struct fut_client *c)
{
	if (c == NULL)
		return ("no client");
	pthread_mutex_lock(&c->lock);
	memcpy(client_errcopy, c->errmsg, sizeof(client_errcopy));
	pthread_mutex_unlock(&c->lock);
	return (client_errcopy);
}

int
fut_client_errcode(struct fut_client *c)
{
	int	 e;

	if (c == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&c->lock);
	e = c->errcode;
	pthread_mutex_unlock(&c->lock);
	return (e);
}

int
fut_client_fd(struct fut_client *c)
{
	int	 fd;

	if (c == NULL)
		return (-1);
	/* fut_close() may set it to -1 on another thread. */
	pthread_mutex_lock(&c->lock);
	fd = c->fd;
	pthread_mutex_unlock(&c->lock);
	return (fd);
}

/* Data is waiting on fd right now. */
static int
client_fd_readable(int fd)
{
	struct pollfd	 pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return (poll(&pfd, 1, 0) > 0);
}

int
fut_client_dispatch(struct fut_client *c)
{
	struct timespec	 ts;
	uint64_t	 gen;
	int64_t		 until;
	int		 rc = 0, fd;

	if (c == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&c->lock);
	if (!c->dead && c->wbuf.len > 0)
		client_flush_locked(c, 0);
	/*
	 * Another thread holds the reader role (it waits in fut_wait, say).
	 * If data is waiting, that thread is about to read it; returning
	 * at once would leave the fd readable and make a level-triggered
	 * loop spin until it has.  So give that round a moment to finish
	 * (bounded: never a wait on the daemon), then read what is left.
	 */
	if (!c->dead && c->reading) {
		gen = c->rounds;
		fd = c->fd;
		pthread_mutex_unlock(&c->lock);
		rc = client_fd_readable(fd);
		pthread_mutex_lock(&c->lock);
		until = mono_ms() + 10;
		while (rc && c->reading && c->rounds == gen && !c->dead) {
			ts.tv_sec = until / 1000;
			ts.tv_nsec = (until % 1000) * 1000000;
			if (pthread_cond_timedwait(&c->cond, &c->lock,
			    &ts) == ETIMEDOUT)
				break;
		}
		rc = 0;
	}
	if (!c->dead && !c->reading)
		client_read_round_locked(c, 0);
	if (c->dead)
		rc = c->dead_err;
	client_unlock(c);
	return (rc);
}

/* Specs. */

/*
 * Inside a job (an exec command has FUTURED_JOB_ID), a new spec makes a
 * child of that job, as futurectl does; fut_spec_parent() overrides it.
 */
static void
spec_parent_from_env(struct fut_spec *s)
{
	const char		*e;
	char			*end;
	unsigned long long	 id;

	if ((e = getenv("FUTURED_JOB_ID")) == NULL || *e == '\0')
		return;
	errno = 0;
	id = strtoull(e, &end, 10);
	if (*end != '\0' || errno != 0 || id == 0)
		return;
	s->js.parent = id;
	s->js.has_parent = 1;
}

struct fut_spec *
fut_spec_new(const char *handler)
{
	struct fut_spec	*s;

	if (handler == NULL || *handler == '\0')
		return (NULL);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	futured__job_spec__init(&s->js);
	if ((s->js.handler = strdup(handler)) == NULL) {
		free(s);
		return (NULL);
	}
	spec_parent_from_env(s);
	return (s);
}

static void
kv_free(Futured__KeyValue **kv, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(kv[i]->key);
		free(kv[i]->value);
		free(kv[i]);
	}
	free(kv);
}

void
fut_spec_free(struct fut_spec *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	free(s->js.handler);
	free(s->js.payload.data);
	for (i = 0; i < s->js.n_args; i++)
		free(s->js.args[i]);
	free(s->js.args);
	kv_free(s->js.env, s->js.n_env);
	kv_free(s->js.ctx, s->js.n_ctx);
	free(s->js.cwd);
	free(s->js.group);
	free(s->js.after);
	free(s->js.name);
	free(s);
}

int
fut_spec_kind(struct fut_spec *s, enum fut_kind k)
{
	if (s == NULL)
		return (FUT_EINVAL);
	switch (k) {
	case FUT_ASYNC:
		s->js.kind = FUTURED__KIND__KIND_ASYNC;
		break;
	case FUT_BLOCKING:
		s->js.kind = FUTURED__KIND__KIND_BLOCKING;
		break;
	case FUT_CPU:
		s->js.kind = FUTURED__KIND__KIND_CPU;
		break;
	default:
		return (FUT_EINVAL);
	}
	s->js.has_kind = 1;
	return (0);
}

int
fut_spec_payload(struct fut_spec *s, const void *data, size_t len)
{
	uint8_t	*p = NULL;

	if (s == NULL || (data == NULL && len > 0))
		return (FUT_EINVAL);
	if (len > FUTURED_FRAME_MAX)
		return (FUT_ETOOBIG);
	if (len > 0) {
		if ((p = malloc(len)) == NULL)
			return (FUT_ENOMEM);
		memcpy(p, data, len);
	}
	free(s->js.payload.data);
	s->js.payload.data = p;
	s->js.payload.len = len;
	s->js.has_payload = 1;
	return (0);
}

int
fut_spec_arg(struct fut_spec *s, const char *arg)
{
	char	**v, *a;

	if (s == NULL || arg == NULL)
		return (FUT_EINVAL);
	if ((a = strdup(arg)) == NULL)
		return (FUT_ENOMEM);
	v = reallocarray(s->js.args, s->js.n_args + 1, sizeof(*v));
	if (v == NULL) {
		free(a);
		return (FUT_ENOMEM);
	}
	v[s->js.n_args++] = a;
	s->js.args = v;
	return (0);
}

int
fut_spec_timeout_ms(struct fut_spec *s, int64_t ms)
{
	if (s == NULL || ms < 0)
		return (FUT_EINVAL);
	s->js.timeout_ms = ms;
	s->js.has_timeout_ms = 1;
	return (0);
}

int
fut_spec_deadline_ms(struct fut_spec *s, int64_t ms)
{
	if (s == NULL || ms < 0)
		return (FUT_EINVAL);
	s->js.deadline_ms = ms;
	s->js.has_deadline_ms = 1;
	return (0);
}

int
fut_spec_priority(struct fut_spec *s, int prio)
{
	if (s == NULL || prio < -20 || prio > 20)
		return (FUT_EINVAL);
	s->js.priority = prio;
	s->js.has_priority = 1;
	return (0);
}

int
fut_spec_retries(struct fut_spec *s, unsigned int n)
{
	if (s == NULL)
		return (FUT_EINVAL);
	s->js.retries = n;
	s->js.has_retries = 1;
	return (0);
}

static int
spec_setstr(char **dst, const char *v)
{
	char	*p;

	if (v == NULL)
		return (FUT_EINVAL);
	if ((p = strdup(v)) == NULL)
		return (FUT_ENOMEM);
	free(*dst);
	*dst = p;
	return (0);
}

int
fut_spec_name(struct fut_spec *s, const char *name)
{
	return (s == NULL ? FUT_EINVAL : spec_setstr(&s->js.name, name));
}

int
fut_spec_group(struct fut_spec *s, const char *name)
{
	return (s == NULL ? FUT_EINVAL : spec_setstr(&s->js.group, name));
}

int
fut_spec_cwd(struct fut_spec *s, const char *dir)
{
	return (s == NULL ? FUT_EINVAL : spec_setstr(&s->js.cwd, dir));
}

/* Set key in a KeyValue list, replacing an earlier value of the key. */
static int
spec_setkv(Futured__KeyValue ***list, size_t *n, const char *key,
    const char *value)
{
	Futured__KeyValue	**v, *kv;
	size_t			  i;

	if (key == NULL || value == NULL || *key == '\0')
		return (FUT_EINVAL);
	for (i = 0; i < *n; i++) {
		if (strcmp((*list)[i]->key, key) == 0)
			return (spec_setstr(&(*list)[i]->value, value));
	}
	if ((kv = calloc(1, sizeof(*kv))) == NULL)
		return (FUT_ENOMEM);
	futured__key_value__init(kv);
	kv->key = strdup(key);
	kv->value = strdup(value);
	v = reallocarray(*list, *n + 1, sizeof(*v));
	if (kv->key == NULL || kv->value == NULL || v == NULL) {
		free(kv->key);
		free(kv->value);
		free(kv);
		if (v != NULL)
			*list = v;
		return (FUT_ENOMEM);
	}
	v[(*n)++] = kv;
	*list = v;
	return (0);
}

int
fut_spec_ctx(struct fut_spec *s, const char *key, const char *value)
{
	const char	*p;

	if (s == NULL || key == NULL)
		return (FUT_EINVAL);
	/* Context keys become FUTURED_CTX_<KEY> variables. */
	for (p = key; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return (FUT_EINVAL);
	}
	return (spec_setkv(&s->js.ctx, &s->js.n_ctx, key, value));
}

int
fut_spec_env(struct fut_spec *s, const char *key, const char *value)
{
	if (s == NULL || key == NULL || strchr(key, '=') != NULL)
		return (FUT_EINVAL);
	return (spec_setkv(&s->js.env, &s->js.n_env, key, value));
}

int
fut_spec_after(struct fut_spec *s, uint64_t id)
{
	uint64_t	*v;

	if (s == NULL || id == 0)
		return (FUT_EINVAL);
	v = reallocarray(s->js.after, s->js.n_after + 1, sizeof(*v));
	if (v == NULL)
		return (FUT_ENOMEM);
	v[s->js.n_after++] = id;
	s->js.after = v;
	return (0);
}

int
fut_spec_input_from(struct fut_spec *s, uint64_t id)
{
	if (s == NULL || id == 0)
		return (FUT_EINVAL);
	s->js.input_from = id;
	s->js.has_input_from = 1;
	return (0);
}

int
fut_spec_parent(struct fut_spec *s, uint64_t id)
{
	if (s == NULL)
		return (FUT_EINVAL);
	s->js.parent = id;
	s->js.has_parent = id != 0;
	return (0);
}

/* Futures. */

static struct fut_future *
future_new_locked(struct fut_client *c)
{
	struct fut_future	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->c = c;
	f->state = FUT_QUEUED;
	f->exit_status = -1;
	TAILQ_INIT(&f->cbs);
	c->refs++;
	return (f);
}

/* Free f; returns 1 when the client lost its last reference. */
static int
future_free_locked(struct fut_future *f)
{
	struct fut_client	*c = f->c;
	struct fut_cb		*cb, *next;

	if (f->registered)
		htab_remove(&c->futures, &f->node);
	while ((cb = TAILQ_FIRST(&f->cbs)) != NULL) {
		TAILQ_REMOVE(&f->cbs, cb, entry);
		free(cb);
	}
	TAILQ_FOREACH_SAFE(cb, &c->cbq, entry, next) {
		if (cb->f == f) {
			TAILQ_REMOVE(&c->cbq, cb, entry);
			free(cb);
		}
	}
	free(f->output);
	free(f->errtail);
	free(f->errmsg);
	free(f);
	return (--c->refs == 0);
}

static void
submit_request_init(Futured__Request *req, Futured__SubmitRequest *sr,
    const struct fut_spec *s)
{
	futured__request__init(req);
	futured__submit_request__init(sr);
	sr->spec = (Futured__JobSpec *)&s->js;
	sr->has_notify = 1;
	sr->notify = 1;
	/* The outcome is all a future keeps: spare both ends the rest. */
	sr->has_brief = 1;
	sr->brief = 1;
	req->body_case = FUTURED__REQUEST__BODY_SUBMIT;
	req->submit = sr;
}

struct fut_future *
fut_submit(struct fut_client *c, const struct fut_spec *s)
{
	Futured__Request	 req;
	Futured__SubmitRequest	 sr;
	struct pending		 p;
	struct fut_future	*f;
	int			 rc;

	if (c == NULL)
		return (NULL);
	pthread_mutex_lock(&c->lock);
	if (s == NULL) {
		client_seterr_locked(c, FUT_EINVAL, "no spec");
		client_unlock(c);
		return (NULL);
	}
	if (c->dead) {
		client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (NULL);
	}
	if ((f = future_new_locked(c)) == NULL) {
		client_seterr_locked(c, FUT_ENOMEM, "out of memory");
		client_unlock(c);
		return (NULL);
	}
	memset(&p, 0, sizeof(p));
	p.fut = f;
	submit_request_init(&req, &sr, s);
	rc = client_call_locked(c, &req, &p, PEND_SUBMIT);
	if (rc == 0 && p.resp->body_case != FUTURED__RESPONSE__BODY_SUBMIT)
		rc = client_seterr_resp_locked(c, p.resp);
	pending_drop_locked(c, &p);
	if (rc != 0) {
		future_free_locked(f);	/* c holds the caller's ref */
		f = NULL;
	}
	client_unlock(c);
	return (f);
}

static int
pendings_done_pred(void *arg)
{
	struct {
		struct pending	*p;
		size_t		 n;
	} *a = arg;
	size_t	 i;

	for (i = 0; i < a->n; i++)
		if (!a->p[i].done)
			return (0);
	return (1);
}

int
fut_submit_all(struct fut_client *c, const struct fut_spec *const *specs,
    size_t n, struct fut_future **out)
{
	Futured__Request	 req;
	Futured__SubmitRequest	 sr;
	struct pending		*p;
	struct {
		struct pending	*p;
		size_t		 n;
	}			 arg;
	size_t			 i, queued;
	int			 rc = 0, accepted = 0;

	if (c == NULL)
		return (FUT_EINVAL);
	if (n == 0)
		return (0);
	pthread_mutex_lock(&c->lock);
	if (specs == NULL || out == NULL) {
		rc = client_seterr_locked(c, FUT_EINVAL, "no specs");
		client_unlock(c);
		return (rc);
	}
	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (c->dead) {
		rc = client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (rc);
	}
	if ((p = calloc(n, sizeof(*p))) == NULL) {
		rc = client_seterr_locked(c, FUT_ENOMEM, "out of memory");
		client_unlock(c);
		return (rc);
	}
	/* All frames go into wbuf first: one write for the lot. */
	for (queued = 0; queued < n; queued++) {
		if (specs[queued] == NULL) {
			rc = client_seterr_locked(c, FUT_EINVAL, "no spec");
			break;
		}
		if ((p[queued].fut = future_new_locked(c)) == NULL) {
			rc = client_seterr_locked(c, FUT_ENOMEM,
			    "out of memory");
			break;
		}
		submit_request_init(&req, &sr, specs[queued]);
		rc = client_queue_pending_locked(c, &req, &p[queued],
		    PEND_SUBMIT);
		if (rc != 0) {
			future_free_locked(p[queued].fut);
			break;
		}
	}
	if (queued > 0) {
		client_flush_locked(c, 1);
		arg.p = p;
		arg.n = queued;
		client_wait_locked(c, pendings_done_pred, &arg, -1);
	}
	for (i = 0; i < queued; i++) {
		if (p[i].done && p[i].err == 0 && p[i].resp != NULL &&
		    p[i].resp->body_case == FUTURED__RESPONSE__BODY_SUBMIT) {
			out[i] = p[i].fut;
			accepted++;
		} else {
			/* The last refusal's reason is the client error. */
			if (p[i].done && p[i].err == 0 && p[i].resp != NULL)
				client_seterr_resp_locked(c, p[i].resp);
			future_free_locked(p[i].fut);
		}
		pending_drop_locked(c, &p[i]);
	}
	free(p);
	if (accepted == 0 && queued > 0 && c->dead)
		rc = client_seterr_wait_locked(c, c->dead_err);
	client_unlock(c);
	if (rc < 0 && accepted == 0)
		return (rc);
	return (accepted);
}

struct fut_future *
fut_attach(struct fut_client *c, uint64_t id)
{
	Futured__Request		 req = FUTURED__REQUEST__INIT;
	Futured__Request		 sreq = FUTURED__REQUEST__INIT;
	Futured__SubscribeRequest	 sub = FUTURED__SUBSCRIBE_REQUEST__INIT;
	Futured__StatusRequest		 st = FUTURED__STATUS_REQUEST__INIT;
	struct pending			 p, *rp;
	struct fut_future		*f;
	int				 rc;

	if (c == NULL)
		return (NULL);
	pthread_mutex_lock(&c->lock);
	if (c->dead) {
		client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (NULL);
	}
	if (id == 0 || (f = future_new_locked(c)) == NULL) {
		client_seterr_locked(c, id == 0 ? FUT_EINVAL : FUT_ENOMEM,
		    id == 0 ? "job id 0" : "out of memory");
		client_unlock(c);
		return (NULL);
	}
	f->id = id;
	memset(&p, 0, sizeof(p));
	p.fut = f;
	sub.n_ids = 1;
	sub.ids = &id;
	sub.has_brief = 1;
	sub.brief = 1;
	req.body_case = FUTURED__REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	rc = client_queue_pending_locked(c, &req, &p, PEND_ATTACH);
	/* The state too, in the same write; its answer comes after. */
	if (rc == 0 && (rp = calloc(1, sizeof(*rp))) != NULL) {
		st.n_ids = 1;
		st.ids = &id;
		sreq.body_case = FUTURED__REQUEST__BODY_STATUS;
		sreq.status = &st;
		rp->jobid = id;
		if (client_queue_pending_locked(c, &sreq, rp,
		    PEND_REFRESH) != 0)
			free(rp);
		else
			f->refreshing = 1;
	}
	if (rc == 0 && (rc = client_flush_locked(c, 1)) != 0 && !p.done)
		rc = client_seterr_wait_locked(c, rc);
	else if (rc == 0) {
		rc = client_wait_locked(c, pending_done_pred, &p, -1);
		if (rc == 0 && p.err != 0)
			rc = p.err;
		if (rc != 0)
			client_seterr_wait_locked(c, rc);
	}
	if (rc == 0 && p.resp->body_case != FUTURED__RESPONSE__BODY_SUBSCRIBE)
		rc = client_seterr_resp_locked(c, p.resp);
	else if (rc == 0 && !f->registered)
		rc = client_seterr_locked(c, FUT_ENOTFOUND,
		    "no such job: %llu", (unsigned long long)id);
	pending_drop_locked(c, &p);
	if (rc != 0) {
		future_free_locked(f);
		f = NULL;
	}
	client_unlock(c);
	return (f);
}

uint64_t
fut_id(const struct fut_future *f)
{
	return (f == NULL ? 0 : f->id);
}

enum fut_state
fut_poll(struct fut_future *f)
{
	struct fut_client	*c;
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__StatusRequest	 st = FUTURED__STATUS_REQUEST__INIT;
	struct pending		*rp;
	enum fut_state		 s;
	uint64_t		 id;

	if (f == NULL)
		return (FUT_FAILED);
	c = f->c;
	pthread_mutex_lock(&c->lock);
	if (!f->final && !c->dead) {
		if (c->wbuf.len > 0)
			client_flush_locked(c, 0);
		if (!c->reading)
			client_read_round_locked(c, 0);
	}
	/* Ask for a fresher state for the next poll, without waiting. */
	if (!f->final && !c->dead && !f->refreshing && f->registered &&
	    (rp = calloc(1, sizeof(*rp))) != NULL) {
		id = f->id;
		st.n_ids = 1;
		st.ids = &id;
		req.body_case = FUTURED__REQUEST__BODY_STATUS;
		req.status = &st;
		rp->jobid = id;
		if (client_queue_pending_locked(c, &req, rp,
		    PEND_REFRESH) != 0)
			free(rp);
		else {
			f->refreshing = 1;
			client_flush_locked(c, 0);
		}
	}
	s = f->state;
	client_unlock(c);
	return (s);
}

static int
future_done_pred(void *arg)
{
	struct fut_future	*f = arg;

	return (f->final || f->lost);
}

int
fut_wait(struct fut_future *f, int64_t timeout_ms)
{
	struct fut_client	*c;
	int			 rc;

	if (f == NULL)
		return (FUT_EINVAL);
	c = f->c;
	pthread_mutex_lock(&c->lock);
	rc = client_wait_locked(c, future_done_pred, f,
	    deadline_of(timeout_ms));
	if (rc == 0 && !f->final)
		rc = c->dead ? c->dead_err : FUT_ECONN;
	client_unlock(c);
	return (rc);
}

struct futs_arg {
	struct fut_future	**fs;
	size_t			  n;
	int			  any;
	size_t			  which;
};

static int
futures_done_pred(void *arg)
{
	struct futs_arg	*a = arg;
	size_t		 i;

	for (i = 0; i < a->n; i++) {
		if (a->fs[i]->final || a->fs[i]->lost) {
			if (a->any) {
				a->which = i;
				return (1);
			}
		} else if (!a->any)
			return (0);
	}
	return (!a->any);
}

/* All futures on one client: the common case, waited on in one go. */
static int
futures_same_client(struct fut_future **fs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (fs[i] == NULL || fs[i]->c != fs[0]->c)
			return (0);
	return (1);
}

int
fut_wait_all(struct fut_future **fs, size_t n, int64_t timeout_ms)
{
	struct futs_arg	 a;
	struct fut_client *c;
	int64_t		 deadline = deadline_of(timeout_ms), left;
	size_t		 i;
	int		 rc;

	if (n == 0)
		return (0);
	if (fs == NULL)
		return (FUT_EINVAL);
	if (!futures_same_client(fs, n)) {
		/* Futures of several clients: one after the other. */
		for (i = 0; i < n; i++) {
			if (fs[i] == NULL)
				return (FUT_EINVAL);
			left = deadline < 0 ? -1 : deadline - mono_ms();
			if (deadline >= 0 && left < 0)
				left = 0;
			if ((rc = fut_wait(fs[i], left)) != 0)
				return (rc);
		}
		return (0);
	}
	c = fs[0]->c;
	a.fs = fs;
	a.n = n;
	a.any = 0;
	pthread_mutex_lock(&c->lock);
	rc = client_wait_locked(c, futures_done_pred, &a, deadline);
	for (i = 0; rc == 0 && i < n; i++)
		if (!fs[i]->final)
			rc = c->dead ? c->dead_err : FUT_ECONN;
	client_unlock(c);
	return (rc);
}

int
fut_wait_any(struct fut_future **fs, size_t n, int64_t timeout_ms,
    size_t *which)
{
	struct futs_arg	 a;
	struct fut_client *c;
	int		 rc;

	if (fs == NULL || n == 0 || !futures_same_client(fs, n))
		return (FUT_EINVAL);
	c = fs[0]->c;
	a.fs = fs;
	a.n = n;
	a.any = 1;
	a.which = 0;
	pthread_mutex_lock(&c->lock);
	rc = client_wait_locked(c, futures_done_pred, &a,
	    deadline_of(timeout_ms));
	if (rc == 0 && !fs[a.which]->final)
		rc = c->dead ? c->dead_err : FUT_ECONN;
	if (rc == 0 && which != NULL)
		*which = a.which;
	client_unlock(c);
	return (rc);
}

int
fut_cancel(struct fut_future *f)
{
	struct fut_client	*c;
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__CancelRequest	 cr = FUTURED__CANCEL_REQUEST__INIT;
	Futured__CancelOutcome	*o;
	struct pending		 p;
	uint64_t		 id;
	int			 rc;

	if (f == NULL)
		return (FUT_EINVAL);
	c = f->c;
	pthread_mutex_lock(&c->lock);
	if (f->final) {
		client_unlock(c);
		return (0);
	}
	if (c->dead) {
		rc = client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (rc);
	}
	id = f->id;
	cr.n_ids = 1;
	cr.ids = &id;
	req.body_case = FUTURED__REQUEST__BODY_CANCEL;
	req.cancel = &cr;
	memset(&p, 0, sizeof(p));
	if ((rc = client_call_locked(c, &req, &p, PEND_WAIT)) == 0) {
		if (p.resp->body_case != FUTURED__RESPONSE__BODY_CANCEL) {
			rc = client_seterr_resp_locked(c, p.resp);
		} else if (p.resp->cancel->n_outcomes < 1) {
			rc = client_seterr_locked(c, FUT_EPROTO,
			    "empty cancel answer");
		} else {
			o = p.resp->cancel->outcomes[0];
			if (o->has_error_code && o->error_code !=
			    FUTURED__ERROR_CODE__ERR_NONE) {
				rc = client_errcode_map(o->error_code);
				client_seterr_locked(c, rc, "job %llu: %s",
				    (unsigned long long)id,
				    fut_strerror(rc));
			} else {
				rc = o->took_effect ? 1 : 0;
				if (o->has_state)
					future_update_locked(f, o->state);
			}
		}
	}
	pending_drop_locked(c, &p);
	client_unlock(c);
	return (rc);
}

const void *
fut_output(struct fut_future *f, size_t *len)
{
	const void	*p = NULL;
	size_t		 l = 0;

	if (f == NULL)
		return (NULL);
	pthread_mutex_lock(&f->c->lock);
	if (f->final) {
		p = f->output != NULL ? (const void *)f->output : "";
		l = f->outlen;
	}
	pthread_mutex_unlock(&f->c->lock);
	if (len != NULL)
		*len = l;
	return (p);
}

const char *
fut_error(struct fut_future *f)
{
	const char	*e;

	if (f == NULL)
		return (NULL);
	pthread_mutex_lock(&f->c->lock);
	e = (f->final || f->lost) ? f->errmsg : NULL;
	pthread_mutex_unlock(&f->c->lock);
	return (e);
}

int
fut_exit_status(struct fut_future *f)
{
	int	 e;

	if (f == NULL)
		return (-1);
	pthread_mutex_lock(&f->c->lock);
	e = f->final ? f->exit_status : -1;
	pthread_mutex_unlock(&f->c->lock);
	return (e);
}

int
fut_signal(struct fut_future *f)
{
	int	 s;

	if (f == NULL)
		return (0);
	pthread_mutex_lock(&f->c->lock);
	s = f->final ? f->sig : 0;
	pthread_mutex_unlock(&f->c->lock);
	return (s);
}

const void *
fut_stderr(struct fut_future *f, size_t *len)
{
	const void	*p = NULL;
	size_t		 l = 0;

	if (f == NULL)
		return (NULL);
	pthread_mutex_lock(&f->c->lock);
	if (f->final && f->errtail != NULL) {
		p = f->errtail;
		l = f->errtaillen;
	}
	pthread_mutex_unlock(&f->c->lock);
	if (len != NULL)
		*len = l;
	return (p);
}

void
fut_on_done(struct fut_future *f, void (*fn)(struct fut_future *, void *),
    void *arg)
{
	struct fut_cb	*cb;
	int		 now;

	if (f == NULL || fn == NULL)
		return;
	pthread_mutex_lock(&f->c->lock);
	now = f->final || f->lost;
	if (!now) {
		if ((cb = calloc(1, sizeof(*cb))) == NULL) {
			client_seterr_locked(f->c, FUT_ENOMEM,
			    "out of memory");
			now = 1;	/* better early than never */
		} else {
			cb->f = f;
			cb->fn = fn;
			cb->arg = arg;
			TAILQ_INSERT_TAIL(&f->cbs, cb, entry);
		}
	}
	pthread_mutex_unlock(&f->c->lock);
	if (now)
		fn(f, arg);
}

void
fut_future_free(struct fut_future *f)
{
	struct fut_client	*c;
	int			 last;

	if (f == NULL)
		return;
	c = f->c;
	pthread_mutex_lock(&c->lock);
	last = future_free_locked(f);
	pthread_mutex_unlock(&c->lock);
	if (last)
		client_free(c);
}
