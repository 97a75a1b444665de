/*
 * libevent_loop: waits on many futures from a libevent loop.
 *
 * One persistent EV_READ event on fut_client_fd() calls
 * fut_client_dispatch(); the done-callbacks then run on the loop's
 * thread, and the last one ends the loop.  A 10 ms timer keeps ticking
 * throughout: nothing in the loop blocks on a job.  Jobs of all three
 * kinds are mixed: sleep (async), sha256 (blocking) and echo (cpu).
 *
 * Usage: libevent_loop [NJOBS]; the socket comes from $FUTURED_SOCKET.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include <futured/futured.h>

struct app {
	struct event_base	*base;
	struct fut_client	*c;
	int			 n;
	int			 done;
	int			 bad;
	long			 ticks;
};

static void
readable_cb(evutil_socket_t fd, short events, void *arg)
{
	struct app	*a = arg;

	if (fut_client_dispatch(a->c) < 0) {
		fprintf(stderr, "futured: %s\n", fut_client_error(a->c));
		event_base_loopbreak(a->base);
	}
}

static void
tick_cb(evutil_socket_t fd, short events, void *arg)
{
	((struct app *)arg)->ticks++;
}

static void
done_cb(struct fut_future *f, void *arg)
{
	struct app	*a = arg;

	if (fut_poll(f) != FUT_SUCCEEDED)
		a->bad++;
	if (++a->done == a->n)
		event_base_loopbreak(a->base);
}

static struct fut_spec *
job_spec(int i)
{
	struct fut_spec	*s;
	char		 buf[32];

	switch (i % 3) {
	case 0:
		s = fut_spec_new("sleep");
		snprintf(buf, sizeof(buf), "%dms", 100 + (i * 53) % 401);
		if (s != NULL && fut_spec_arg(s, buf) != 0)
			return (NULL);
		return (s);
	case 1:
		s = fut_spec_new("sha256");
		snprintf(buf, sizeof(buf), "payload %d", i);
		if (s != NULL && (fut_spec_kind(s, FUT_BLOCKING) != 0 ||
		    fut_spec_payload(s, buf, strlen(buf)) != 0))
			return (NULL);
		return (s);
	default:
		s = fut_spec_new("echo");
		if (s != NULL && (fut_spec_kind(s, FUT_CPU) != 0 ||
		    fut_spec_payload(s, "x", 1) != 0))
			return (NULL);
		return (s);
	}
}

int
main(int argc, char **argv)
{
	struct app		  a;
	struct fut_future	**fs;
	struct fut_spec		 *s;
	struct event		 *rev, *tev;
	struct timeval		  tv = { 0, 10000 };
	struct timespec		  t0, t1;
	long			  ms;
	int			  i;

	memset(&a, 0, sizeof(a));
	a.n = argc > 1 ? atoi(argv[1]) : 60;
	if (a.n < 1)
		return (2);
	if ((a.c = fut_connect(NULL)) == NULL) {
		perror("fut_connect");
		return (1);
	}
	if ((a.base = event_base_new()) == NULL ||
	    (fs = calloc(a.n, sizeof(*fs))) == NULL)
		return (1);
	rev = event_new(a.base, fut_client_fd(a.c), EV_READ | EV_PERSIST,
	    readable_cb, &a);
	tev = event_new(a.base, -1, EV_PERSIST, tick_cb, &a);
	event_add(rev, NULL);
	event_add(tev, &tv);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < a.n; i++) {
		if ((s = job_spec(i)) == NULL ||
		    (fs[i] = fut_submit(a.c, s)) == NULL) {
			fprintf(stderr, "submit: %s\n", fut_client_error(a.c));
			return (1);
		}
		fut_spec_free(s);
		fut_on_done(fs[i], done_cb, &a);
	}
	if (a.done < a.n)
		event_base_dispatch(a.base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("libevent_loop: %d of %d jobs in %ld ms, %ld ticks, %d bad\n",
	    a.done, a.n, ms, a.ticks, a.bad);
	event_free(rev);
	event_free(tev);
	event_base_free(a.base);
	for (i = 0; i < a.n; i++)
		fut_future_free(fs[i]);
	free(fs);
	fut_close(a.c);
	return (a.done == a.n && a.bad == 0 && ms < 5000 && a.ticks >= 20 ?
	    0 : 1);
}
