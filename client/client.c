/*
 * libfutured: the C client of futured(8).  This file owns the client
 * connection: connect and Hello, the reader and writer roles, pending
 * requests and the answers that come for them, dispatch.  Specs are in
 * spec.c, futures in future.c, the calls that answer with job infos in
 * info.c, watches in watch.c; their shared structs in client.h.
 *
 * DESIGN.  One connection per struct fut_client, shared by every thread
 * that uses the client, guarded by one mutex (c->lock).  Requests carry
 * an incrementing id; each request that expects an answer has a pending
 * slot in c->pending, keyed by that id.  Nobody owns the socket for good:
 *
 * - Reading is leader/follower.  A thread that needs an answer either
 *   takes the single reader role (c->reading), drops the lock, poll(2)s
 *   the fd with its own remaining timeout, reads what is there into
 *   c->rd, takes the lock again, decodes every complete frame, gives up
 *   the role and broadcasts c->cond; or it sleeps on c->cond until the
 *   reader has done that work for it.  Only the role holder touches rd.
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
#include <inttypes.h>
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

#include "client.h"
#include "sockpath.h"

#define CLIENT_READ_CHUNK	65536
/* Bytes one read round takes before it decodes, so others get a turn. */
#define CLIENT_READ_ROUND	(4U * 1024 * 1024)

static __thread char	 client_errcopy[CLIENT_ERRMAX];

static void	client_fail_locked(struct fut_client *, int, const char *);
static void	client_process_locked(struct fut_client *);

/* Time. */

int64_t
client_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
client_deadline(int64_t timeout_ms)
{
	if (timeout_ms < 0)
		return (-1);
	if (timeout_ms > INT64_MAX / 2)
		return (-1);
	return (client_mono_ms() + timeout_ms);
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
	case FUT_EINTERNAL:
		return ("internal error in futured");
	}
	return ("unknown error");
}

int
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
		return (FUT_EPROTO);
	case FUTURED__ERROR_CODE__ERR_INTERNAL:
		return (FUT_EINTERNAL);
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
int
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
int
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
int
client_seterr_wait_locked(struct fut_client *c, int rc)
{
	if (rc == FUT_ETIMEDOUT)
		return (client_seterr_locked(c, rc, "wait timed out"));
	/* c->errmsg already says why the connection went. */
	c->errcode = rc;
	return (rc);
}

enum fut_state
client_state_from_pb(Futured__State s, enum fut_state dflt)
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

int
client_state_is_final(enum fut_state s)
{
	return (s >= FUT_SUCCEEDED);
}

/*
 * Run the queued done-callbacks, each with the lock dropped so that it
 * may call back into the library (submit, wait, even fut_close).  Called
 * and returns with the lock held.
 */
void
client_run_cbs_locked(struct fut_client *c)
{
	struct fut_cb	*cb;

	while ((cb = TAILQ_FIRST(&c->cbq)) != NULL) {
		TAILQ_REMOVE(&c->cbq, cb, entry);
		pthread_mutex_unlock(&c->lock);
		if (cb->w != NULL)
			watch_run_cb(cb);
		else
			cb->fn(cb->f, cb->arg);
		free(cb);
		pthread_mutex_lock(&c->lock);
	}
}

/* Locking: unlock after running the queued done-callbacks lock-free. */
void
client_unlock(struct fut_client *c)
{
	client_run_cbs_locked(c);
	pthread_mutex_unlock(&c->lock);
}

/* The limits a client assumes until (or unless) Hello says otherwise. */
static void
client_limits_default(struct fut_client *c)
{
	c->limits[FUT_LIMIT_FRAME] = FUTURED_FRAME_MAX;
	c->limits[FUT_LIMIT_OUTPUT] = 4U * 1024 * 1024;
	c->limits[FUT_LIMIT_IDS] = 65536;
	c->limits[FUT_LIMIT_QUEUED] = 100000;
	c->limits[FUT_LIMIT_STDERR_TAIL] = 4096;
}

/*
 * The daemon's limits from its Hello answer.  Its answers may now be as
 * long as its frames or one job's output; the reader takes them (it runs
 * this, holding the reader role).
 */
static void
client_hello_limits_locked(struct fut_client *c, const Futured__HelloReply *h)
{
	uint64_t	 need;

	if (h->has_max_frame && h->max_frame > 0)
		c->limits[FUT_LIMIT_FRAME] = h->max_frame;
	if (h->has_max_output && h->max_output > 0)
		c->limits[FUT_LIMIT_OUTPUT] = h->max_output;
	if (h->has_max_ids && h->max_ids > 0)
		c->limits[FUT_LIMIT_IDS] = h->max_ids;
	if (h->has_max_queued && h->max_queued > 0)
		c->limits[FUT_LIMIT_QUEUED] = h->max_queued;
	if (h->has_stderr_tail)
		c->limits[FUT_LIMIT_STDERR_TAIL] = h->stderr_tail;
	c->submit_watch = h->has_submit_watch && h->submit_watch;
	c->job_news = h->has_job_news && h->job_news;
	need = c->limits[FUT_LIMIT_OUTPUT] +
	    c->limits[FUT_LIMIT_STDERR_TAIL] + 65536;
	if (need < c->limits[FUT_LIMIT_FRAME])
		need = c->limits[FUT_LIMIT_FRAME];
	if (need > UINT32_MAX)
		need = UINT32_MAX;
	if (need > c->rd.max)
		c->rd.max = (uint32_t)need;
}

static int
client_hello_pred(void *arg)
{
	return (((struct fut_client *)arg)->hello_done);
}

/* Wait for the Hello answer: 0, or the connection's error. */
static int
client_hello_wait_locked(struct fut_client *c)
{
	if (c->hello_done)
		return (0);
	return (client_wait_locked(c, client_hello_pred, c, -1));
}

/* 1 if the daemon honours SubmitRequest.watch, 0 if not, or the error. */
int
client_submit_watch_locked(struct fut_client *c)
{
	int	 rc;

	if ((rc = client_hello_wait_locked(c)) != 0)
		return (client_seterr_wait_locked(c, rc));
	return (c->submit_watch);
}

int
fut_client_limit(struct fut_client *c, enum fut_limit which, uint64_t *value)
{
	int	 rc;

	if (c == NULL || value == NULL || (int)which < 0 ||
	    which > FUT_LIMIT_STDERR_TAIL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&c->lock);
	if ((rc = client_hello_wait_locked(c)) != 0)
		rc = client_seterr_wait_locked(c, rc);
	else
		*value = c->limits[which];
	client_unlock(c);
	return (rc);
}

/* A response nobody waits for: Hello's answer or a refresh. */
static void
client_orphan_locked(struct fut_client *c, struct pending *p,
    Futured__Response *r)
{
	size_t	 i;
	char	 msg[CLIENT_ERRMAX];

	if (p->type == PEND_HELLO) {
		c->hello_done = 1;
		if (r->body_case == FUTURED__RESPONSE__BODY_HELLO)
			client_hello_limits_locked(c, r->hello);
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
			future_status_locked(c, r->status->jobs[i]);
	}
	future_refresh_done_locked(c, p->jobid);
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
			future_event_locked(c, r->event->job);
		else if ((r->body_case == FUTURED__RESPONSE__BODY_TASK ||
		    r->body_case == FUTURED__RESPONSE__BODY_TASK_CANCEL) &&
		    c->worker != NULL)
			worker_push_locked(c->worker, r, data, len);
		else if (r->body_case == FUTURED__RESPONSE__BODY_NEWS)
			future_news_locked(c, r->news);
		else if (r->body_case == FUTURED__RESPONSE__BODY_ERROR) {
			/* The daemon drops the connection after this. */
			snprintf(msg, sizeof(msg), "futured closed the "
			    "connection: %s", r->error->message);
			client_fail_locked(c, client_errcode_map(
			    r->error->code) == FUT_ESHUTDOWN ?
			    FUT_ESHUTDOWN : FUT_EPROTO, msg);
		}
		return;
	}
	if ((r->id & CLIENT_QUIET_ID) != 0) {
		/* A worker's quiet update, refused (or an old daemon's). */
		if (c->worker != NULL)
			worker_answer_locked(c->worker,
			    r->id & ~CLIENT_QUIET_ID, r);
		return;
	}
	if ((n = htab_find(&c->pending, r->id)) == NULL) {
		/* An answer for a request whose waiter gave up. */
		return;
	}
	p = HTAB_ENTRY(struct pending, node, n);
	htab_remove(&c->pending, n);
	switch (p->type) {
	case PEND_WATCH:
		watch_response_locked(c, p, r, data, len);
		return;
	case PEND_HELLO:
	case PEND_REFRESH:
		client_orphan_locked(c, p, r);
		free(p);
		return;
	case PEND_WORKER:
		if (c->worker != NULL)
			worker_answer_locked(c->worker, p->jobid, r);
		free(p);
		return;
	case PEND_SUBMIT:
		if (r->body_case == FUTURED__RESPONSE__BODY_SUBMIT) {
			future_register_locked(p->fut, r->submit->id);
			p->fut->state = FUT_QUEUED;
			/* Asked with every submit; the Hello came first. */
			p->fut->news = c->job_news;
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
				p->fut->news = c->job_news;
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

/* Decode every complete frame in c->rd; caller holds the reader role. */
static void
client_process_locked(struct fut_client *c)
{
	Futured__Response	*r;
	const uint8_t		*msg;
	uint32_t		 len;
	int			 rc;

	if (c->arena_block == NULL) {
		if ((c->arena_block = malloc(CLIENT_ARENA_SIZE)) == NULL) {
			client_fail_locked(c, FUT_ENOMEM, "out of memory");
			return;
		}
		arena_init(&c->arena, c->arena_block, CLIENT_ARENA_SIZE);
	}
	while (!c->dead) {
		if ((rc = frame_reader_next(&c->rd, &msg, &len)) == 0)
			break;
		if (rc == -1) {
			client_fail_locked(c, FUT_EPROTO,
			    "futured sent a frame over the size limit");
			break;
		}
		r = futured__response__unpack(&c->arena.pb, len, msg);
		if (r == NULL) {
			arena_reset(&c->arena);
			client_fail_locked(c, FUT_EPROTO,
			    "futured sent a message that does not decode");
			break;
		}
		client_response_locked(c, r, msg, len);
		arena_reset(&c->arena);
	}
	frame_reader_compact(&c->rd);
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
	while ((n = htab_pop(&c->pending)) != NULL) {
		p = HTAB_ENTRY(struct pending, node, n);
		if (p->type == PEND_HELLO || p->type == PEND_REFRESH ||
		    p->type == PEND_WORKER) {
			free(p);
			continue;
		}
		if (p->type == PEND_WATCH) {
			watch_lost_locked(c, p, err, msg);
			continue;
		}
		p->done = 1;
		p->err = err;
	}
	for (i = 0; i < c->futures.nb; i++) {
		LIST_FOREACH(n, &c->futures.b[i], entry) {
			f = HTAB_ENTRY(struct fut_future, node, n);
			if (f->final || f->lost)
				continue;
			f->lost = 1;
			free(f->errmsg);
			f->errmsg = strdup(msg);
			future_fire_locked(f);
		}
	}
	buf_reset(&c->wbuf);
	if (c->worker != NULL)
		worker_lost_locked(c->worker);
	pthread_cond_broadcast(&c->cond);
}

/*
 * One read round: take the reader role, poll for up to timeout_ms (0:
 * do not block, -1: forever) without the lock, read what is there,
 * decode it.  Called and returns with the lock held; c->reading was 0.
 */
void
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
	if (frame_reader_pending(&c->rd) >= FRAME_HDR_LEN) {
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
			if (frame_reader_append(&c->rd, chunk, n) == -1) {
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
int
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
int
client_queue_locked(struct fut_client *c, Futured__Request *req)
{
	size_t	 len;
	uint8_t	 hdr[FRAME_HDR_LEN], *p;

	if (c->dead)
		return (c->dead_err);
	len = futured__request__get_packed_size(req);
	/* Refused here what the daemon would refuse, and say why. */
	if (len > CLIENT_FRAME_SAFE && client_hello_wait_locked(c) != 0)
		return (c->dead_err);
	if (len > c->limits[FUT_LIMIT_FRAME]) {
		if (req->body_case == FUTURED__REQUEST__BODY_SUBMIT &&
		    req->submit->spec->has_payload)
			return (client_seterr_locked(c, FUT_ETOOBIG,
			    "a job of %zu bytes (a payload of %zu) does not "
			    "fit futured's frame limit of %" PRIu64 " bytes "
			    "(futured --max-frame)", len,
			    req->submit->spec->payload.len,
			    c->limits[FUT_LIMIT_FRAME]));
		return (client_seterr_locked(c, FUT_ETOOBIG,
		    "a request of %zu bytes does not fit futured's frame "
		    "limit of %" PRIu64 " bytes (futured --max-frame)", len,
		    c->limits[FUT_LIMIT_FRAME]));
	}
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
	if (c->worker != NULL)
		worker_sent_locked(c->worker);
	return (0);
}

/* Give req an id and a pending slot, and queue it. */
int
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
void
client_pending_drop_locked(struct fut_client *c, struct pending *p)
{
	if (!p->done && htab_find(&c->pending, p->node.key) == &p->node)
		htab_remove(&c->pending, &p->node);
	if (p->resp != NULL && p->resp != &client_accepted)
		futured__response__free_unpacked(p->resp, NULL);
	p->resp = NULL;
}

/*
 * Wait until pred(arg) holds, the deadline (monotonic ms, -1: none)
 * passes or the connection is lost.  0, FUT_ETIMEDOUT or the
 * connection's error.  Lock held throughout except while reading.
 */
int
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
		now = client_mono_ms();
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

int
client_pending_done_pred(void *arg)
{
	return (((struct pending *)arg)->done);
}

/*
 * Send one request and wait for its answer (forever: the daemon answers
 * everything but Wait at once).  0 with p->resp set, or < 0.
 */
int
client_call_locked(struct fut_client *c, Futured__Request *req,
    struct pending *p, int type)
{
	int	 rc;

	if ((rc = client_queue_pending_locked(c, req, p, type)) != 0)
		return (rc);
	if ((rc = client_flush_locked(c, 1)) != 0 && !p->done)
		return (client_seterr_wait_locked(c, rc));
	rc = client_wait_locked(c, client_pending_done_pred, p, -1);
	if (rc == 0 && p->err != 0)
		rc = p->err;
	if (rc != 0) {
		client_pending_drop_locked(c, p);
		return (client_seterr_wait_locked(c, rc));
	}
	return (0);
}

/*
 * One request whose answer has the body wanted: 0 with *resp set (the
 * caller frees it), or < 0 with the reason in the client's error.
 */
int
client_request(struct fut_client *c, Futured__Request *req,
    Futured__Response__BodyCase body, Futured__Response **resp)
{
	struct pending	 p;
	int		 rc;

	*resp = NULL;
	if (c == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&c->lock);
	if (c->dead) {
		rc = client_seterr_wait_locked(c, c->dead_err);
		client_unlock(c);
		return (rc);
	}
	memset(&p, 0, sizeof(p));
	if ((rc = client_call_locked(c, req, &p, PEND_WAIT)) == 0) {
		if (p.resp->body_case != body)
			rc = client_seterr_resp_locked(c, p.resp);
		else {
			*resp = p.resp;
			p.resp = NULL;
		}
	}
	client_pending_drop_locked(c, &p);
	client_unlock(c);
	return (rc);
}

/* Connection. */

/* A client on fd (-1: none); NULL if out of memory. */
static struct fut_client *
client_alloc(int fd)
{
	struct fut_client	*c;
	pthread_condattr_t	 ca;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->fd = fd;
	c->refs = 1;
	c->nextid = 1;
	c->rd.max = FUTURED_FRAME_MAX;
	client_limits_default(c);
	TAILQ_INIT(&c->cbq);
	if (htab_init(&c->pending) == -1 || htab_init(&c->futures) == -1) {
		htab_free(&c->pending);
		htab_free(&c->futures);
		free(c);
		return (NULL);
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	return (c);
}

/*
 * A client that never had a connection, lost from the start, msg saying
 * why (a one-shot worker's): every request on it fails with FUT_ECONN.
 */
struct fut_client *
client_unconnected(const char *msg)
{
	struct fut_client	*c;

	if ((c = client_alloc(-1)) == NULL)
		return (NULL);
	pthread_mutex_lock(&c->lock);
	client_fail_locked(c, FUT_ECONN, msg);
	pthread_mutex_unlock(&c->lock);
	return (c);
}

struct fut_client *
fut_connect(const char *path)
{
	struct fut_client	*c;
	struct sockaddr_un	 sun;
	char			 def[sizeof(sun.sun_path)];
	Futured__Request	 req = FUTURED__REQUEST__INIT;
	Futured__Hello		 hello = FUTURED__HELLO__INIT;
	struct pending		*p;
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

	if ((c = client_alloc(fd)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return (NULL);
	}

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
	client_free(c);
	close(fd);
	errno = ENOMEM;
	return (NULL);
}

void
client_free(struct fut_client *c)
{
	frame_reader_reset(&c->rd);
	buf_reset(&c->wbuf);
	arena_reset(&c->arena);
	free(c->arena_block);
	htab_free(&c->pending);
	htab_free(&c->futures);
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
		until = client_mono_ms() + 10;
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
