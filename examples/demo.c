/*
 * demo: the seed demo in C.  One program mixes the three kinds of work
 * that in-process tools make awkward together:
 *
 *   - an async job: a 1 s timer on the daemon's event loop ("sleep");
 *   - a blocking job: hashing 4 MiB in the daemon's thread pool
 *     ("sha256", kind blocking), as a call into a blocking library;
 *   - a CPU job: a shell loop in a worker process (exec, kind cpu);
 *   - and a job that is cancelled while it runs (exec sleep 60, cpu).
 *
 * It waits for them together with fut_wait_any(), printing each as it
 * finishes, and cancels the last one once the others are in.  The socket
 * comes from $FUTURED_SOCKET.  Exits 0 when everything behaved.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <futured/futured.h>

#define NJOBS	4

static const char *const names[NJOBS] = {
	"async sleep 1s", "blocking sha256 of 4 MiB", "cpu shell loop",
	"cpu sleep 60 (to cancel)"
};

static const char *
state_name(enum fut_state s)
{
	switch (s) {
	case FUT_WAITING:
		return ("waiting");
	case FUT_QUEUED:
		return ("queued");
	case FUT_RUNNING:
		return ("running");
	case FUT_SUCCEEDED:
		return ("succeeded");
	case FUT_FAILED:
		return ("failed");
	case FUT_CANCELLED:
		return ("cancelled");
	case FUT_TIMED_OUT:
		return ("timed out");
	}
	return ("?");
}

static struct fut_spec *
spec(int i)
{
	struct fut_spec	*s = NULL;
	char		*buf;
	int		 r = 0;

	switch (i) {
	case 0:
		if ((s = fut_spec_new("sleep")) != NULL)
			r = fut_spec_arg(s, "1s");
		break;
	case 1:
		if ((buf = malloc(4 << 20)) == NULL)
			return (NULL);
		memset(buf, 'x', 4 << 20);
		if ((s = fut_spec_new("sha256")) != NULL &&
		    (r = fut_spec_kind(s, FUT_BLOCKING)) == 0)
			r = fut_spec_payload(s, buf, 4 << 20);
		free(buf);
		break;
	case 2:
		if ((s = fut_spec_new("exec")) != NULL &&
		    (r = fut_spec_kind(s, FUT_CPU)) == 0 &&
		    (r = fut_spec_arg(s, "sh")) == 0 &&
		    (r = fut_spec_arg(s, "-c")) == 0)
			r = fut_spec_arg(s, "i=0; s=0; while [ $i -lt 20000 ];"
			    " do s=$((s + i * i)); i=$((i + 1)); done; echo $s");
		break;
	case 3:
		if ((s = fut_spec_new("exec")) != NULL &&
		    (r = fut_spec_kind(s, FUT_CPU)) == 0 &&
		    (r = fut_spec_arg(s, "sleep")) == 0)
			r = fut_spec_arg(s, "60");
		break;
	}
	if (r != 0) {
		fut_spec_free(s);
		return (NULL);
	}
	return (s);
}

int
main(void)
{
	struct fut_client	*c;
	struct fut_future	*fs[NJOBS], *left[NJOBS];
	struct fut_spec		*s;
	const void		*out;
	size_t			 len, which, nleft, i, k;
	struct timespec		 t0, t1;
	double			 secs;
	int			 r, idx[NJOBS], ok = 1;

	if ((c = fut_connect(NULL)) == NULL) {
		perror("fut_connect");
		return (1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NJOBS; i++) {
		if ((s = spec(i)) == NULL ||
		    (fs[i] = fut_submit(c, s)) == NULL) {
			fprintf(stderr, "submit %s: %s\n", names[i],
			    fut_client_error(c));
			return (1);
		}
		fut_spec_free(s);
		printf("submitted job %llu: %s\n",
		    (unsigned long long)fut_id(fs[i]), names[i]);
	}

	/* Wait for the first three together, as they finish. */
	for (i = 0; i < 3; i++) {
		left[i] = fs[i];
		idx[i] = i;
	}
	for (nleft = 3; nleft > 0; nleft--) {
		if ((r = fut_wait_any(left, nleft, 30000, &which)) != 0) {
			fprintf(stderr, "wait: %s\n", fut_strerror(r));
			return (1);
		}
		k = idx[which];
		out = fut_output(fs[k], &len);
		while (len > 0 && ((const char *)out)[len - 1] == '\n')
			len--;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (t1.tv_sec - t0.tv_sec) +
		    (t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("%5.2fs  %-26s %s  %.*s\n", secs, names[k],
		    state_name(fut_poll(fs[k])), (int)(len > 64 ? 64 : len),
		    len ? (const char *)out : "");
		if (fut_poll(fs[k]) != FUT_SUCCEEDED)
			ok = 0;
		left[which] = left[nleft - 1];
		idx[which] = idx[nleft - 1];
	}

	/* The fourth is still running: cancel it and see it end. */
	printf("cancel %s: %s\n", names[3], fut_cancel(fs[3]) == 1 ?
	    "took effect" : "too late");
	if ((r = fut_wait(fs[3], 30000)) != 0 ||
	    fut_poll(fs[3]) != FUT_CANCELLED)
		ok = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%5.2fs  %-26s %s\n", secs, names[3],
	    state_name(fut_poll(fs[3])));

	for (i = 0; i < NJOBS; i++)
		fut_future_free(fs[i]);
	fut_close(c);
	printf("demo: %s\n", ok ? "ok" : "FAILED");
	return (ok ? 0 : 1);
}
