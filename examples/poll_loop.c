/*
 * poll_loop: waits on many futures from a plain poll(2) loop.
 *
 * The loop also ticks every 10 ms, standing in for the other work a
 * real loop does: it never blocks on a job.  The daemon pushes each
 * completion to the connection; when the fd is readable the loop calls
 * fut_client_dispatch(), which runs the done-callbacks here, on the
 * loop's thread.  A callback chains a follow-up job, to show that
 * submitting from inside one is safe.
 *
 * Usage: poll_loop [NJOBS]; the socket comes from $FUTURED_SOCKET.
 * Exits 0 when every job and follow-up succeeded while the loop ticked.
 */

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <futured/futured.h>

struct loop {
	struct fut_client	*c;
	int			 done;		/* callbacks run */
	int			 bad;
	struct fut_future	**chained;
	int			 nchained;
};

static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000L + ts.tv_nsec / 1000000);
}

static void	chained_cb(struct fut_future *, void *);

/* A sleeper finished: count it and chain an echo job behind it. */
static void
sleeper_cb(struct fut_future *f, void *arg)
{
	struct loop		*l = arg;
	struct fut_spec		*s;
	struct fut_future	*g;

	l->done++;
	if (fut_poll(f) != FUT_SUCCEEDED) {
		l->bad++;
		return;
	}
	if ((s = fut_spec_new("echo")) == NULL ||
	    fut_spec_payload(s, "chained", 7) != 0 ||
	    (g = fut_submit(l->c, s)) == NULL) {
		l->bad++;
		fut_spec_free(s);
		return;
	}
	fut_spec_free(s);
	l->chained[l->nchained++] = g;
	fut_on_done(g, chained_cb, l);
}

static void
chained_cb(struct fut_future *f, void *arg)
{
	struct loop	*l = arg;
	const void	*out;
	size_t		 len;

	l->done++;
	out = fut_output(f, &len);
	if (fut_poll(f) != FUT_SUCCEEDED || out == NULL || len != 7 ||
	    memcmp(out, "chained", 7) != 0)
		l->bad++;
}

int
main(int argc, char **argv)
{
	struct loop		  l;
	struct fut_future	**fs;
	struct fut_spec		 *s;
	struct pollfd		  pfd;
	char			  dur[32];
	long			  t0, next_tick, ticks = 0, dt;
	int			  i, n, r;

	n = argc > 1 ? atoi(argv[1]) : 50;
	if (n < 1)
		return (2);
	memset(&l, 0, sizeof(l));
	if ((l.c = fut_connect(NULL)) == NULL) {
		perror("fut_connect");
		return (1);
	}
	fs = calloc(n, sizeof(*fs));
	l.chained = calloc(n, sizeof(*l.chained));
	if (fs == NULL || l.chained == NULL)
		return (1);
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		/* 100 to 500 ms: they overlap, so the lot takes ~500 ms. */
		snprintf(dur, sizeof(dur), "%dms", 100 + (i * 37) % 401);
		if ((s = fut_spec_new("sleep")) == NULL ||
		    fut_spec_arg(s, dur) != 0 ||
		    (fs[i] = fut_submit(l.c, s)) == NULL) {
			fprintf(stderr, "submit: %s\n", fut_client_error(l.c));
			return (1);
		}
		fut_spec_free(s);
		fut_on_done(fs[i], sleeper_cb, &l);
	}

	next_tick = now_ms() + 10;
	while (l.done < 2 * n - l.bad) {
		if (now_ms() - t0 > 20000) {
			fprintf(stderr, "poll_loop: %d of %d after 20 s\n",
			    l.done, 2 * n);
			return (1);
		}
		pfd.fd = fut_client_fd(l.c);
		pfd.events = POLLIN;
		dt = next_tick - now_ms();
		r = poll(&pfd, 1, dt < 0 ? 0 : (int)dt);
		if (r > 0 && fut_client_dispatch(l.c) < 0) {
			fprintf(stderr, "dispatch: %s\n",
			    fut_client_error(l.c));
			return (1);
		}
		if (now_ms() >= next_tick) {
			ticks++;
			next_tick += 10;
		}
	}
	dt = now_ms() - t0;
	printf("poll_loop: %d jobs + %d chained in %ld ms, loop ticked %ld "
	    "times, %d bad\n", n, l.nchained, dt, ticks, l.bad);
	for (i = 0; i < n; i++)
		fut_future_free(fs[i]);
	for (i = 0; i < l.nchained; i++)
		fut_future_free(l.chained[i]);
	free(fs);
	free(l.chained);
	fut_close(l.c);
	/* Overlapped (not 50 x 300 ms in a row), and the loop kept going. */
	/* A loop blocked in a wait would tick once or not at all; a loaded
	 * machine may skip many 10 ms ticks, so few are asked for. */
	return (l.bad == 0 && dt < 5000 && ticks >= 5 ? 0 : 1);
}
