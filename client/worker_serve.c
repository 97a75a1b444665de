/*
 * libfutured: fut_worker_serve(), a worker's tasks run by C callbacks on
 * a few threads.  The calling thread takes tasks (fut_worker_next(): it
 * keeps the lease and runs the cancel callback) and hands them to the
 * threads through a queue; a callback finishes its task itself.  Uses
 * only worker.c's calls, and the handler table fut_worker_serve_handler()
 * filled.  A one-shot worker (worker_oneshot.c) is served the same way,
 * its one task on one thread, and the end of it is no error.
 */

#include "config.h"

#include <sys/queue.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct serve {
	struct fut_worker	*w;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct fut_task		**q;		/* a ring of cap tasks */
	size_t			 cap, head, n;
	int			 stop;
};

static struct worker_fn *
serve_fn(struct fut_worker *w, const char *handler)
{
	size_t	 i;

	for (i = 0; i < w->nhandlers; i++)
		if (strcmp(w->handlers[i].name, handler) == 0)
			return (w->fns[i].fn != NULL ? &w->fns[i] : NULL);
	return (NULL);
}

static void
serve_run(struct fut_worker *w, struct fut_task *t)
{
	struct worker_fn	*f;
	char			 msg[256];

	/* The table is not changed once registered: no lock needed. */
	if ((f = serve_fn(w, fut_task_handler(t))) == NULL) {
		snprintf(msg, sizeof(msg), "handler %s has no callback in "
		    "this worker", fut_task_handler(t));
		fut_task_fail(t, msg, NULL, NULL);
		return;
	}
	f->fn(t, f->arg);
}

static void *
serve_thread(void *arg)
{
	struct serve	*s = arg;
	struct fut_task	*t;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->n == 0 && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->n == 0)
			break;
		t = s->q[s->head];
		s->head = (s->head + 1) % s->cap;
		s->n--;
		pthread_mutex_unlock(&s->lock);
		serve_run(s->w, t);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return (NULL);
}

/* Add t to the queue, growing it: it holds at most the tasks held. */
static int
serve_push(struct serve *s, struct fut_task *t)
{
	struct fut_task	**nq;
	size_t		 i, ncap;

	pthread_mutex_lock(&s->lock);
	if (s->n == s->cap) {
		ncap = s->cap == 0 ? 16 : s->cap * 2;
		if ((nq = calloc(ncap, sizeof(*nq))) == NULL) {
			pthread_mutex_unlock(&s->lock);
			return (-1);
		}
		for (i = 0; i < s->n; i++)
			nq[i] = s->q[(s->head + i) % s->cap];
		free(s->q);
		s->q = nq;
		s->cap = ncap;
		s->head = 0;
	}
	s->q[(s->head + s->n) % s->cap] = t;
	s->n++;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return (0);
}

int
fut_worker_serve_handler(struct fut_worker *w, const char *name,
    unsigned int kinds, enum fut_kind default_kind, const char *description,
    void (*fn)(struct fut_task *, void *), void *arg)
{
	if (fn == NULL)
		return (FUT_EINVAL);
	return (worker_add_handler(w, name, kinds, default_kind, description,
	    fn, arg));
}

int
fut_worker_serve(struct fut_worker *w, unsigned int nthreads)
{
	struct serve	 s;
	struct fut_task	*t;
	pthread_t	*th;
	unsigned int	 i, started = 0;
	int		 rc, registered;

	if (w == NULL)
		return (FUT_EINVAL);
	pthread_mutex_lock(&w->c->lock);
	registered = w->registered;
	if (nthreads == 0 || w->oneshot != NULL)
		nthreads = w->oneshot != NULL ? 1 : w->concurrency;
	pthread_mutex_unlock(&w->c->lock);
	if (!registered && (rc = fut_worker_register(w)) != 0)
		return (rc);
	memset(&s, 0, sizeof(s));
	s.w = w;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	if ((th = calloc(nthreads, sizeof(*th))) == NULL) {
		rc = FUT_ENOMEM;
		goto out;
	}
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&th[i], NULL, serve_thread, &s) != 0)
			break;
		started++;
	}
	if (started == 0) {
		rc = FUT_ENOMEM;
		goto out;
	}
	for (;;) {
		if ((rc = fut_worker_next(w, -1, &t)) < 0)
			break;
		if (rc == 1 && serve_push(&s, t) == -1)
			fut_task_fail(t, "out of memory in the worker", NULL,
			    NULL);
	}
	pthread_mutex_lock(&s.lock);
	s.stop = 1;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.lock);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	/* A one-shot's end: its task done and its outcome written. */
	if (w->oneshot != NULL && rc == FUT_ESHUTDOWN)
		rc = 0;
out:
	free(th);
	free(s.q);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	return (rc);
}
