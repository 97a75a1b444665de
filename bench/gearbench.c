/*
 * gearbench: the no-op workload of futbench run against gearmand, the
 * peer the issue names.  Built by `make bench` only when libgearman's
 * pkg-config file (gearmand.pc) is there.
 *
 *   gearbench ready PORT		block until gearmand accepts on PORT
 *   gearbench worker PORT		serve "echo" (result = workload)
 *   gearbench rtt PORT N		µs per gearman_client_do of echo
 *   gearbench pipe PORT C B N		jobs/s: C clients (threads), each
 *					adding B foreground tasks and running
 *					them at once, until N jobs in all
 *   gearbench bg PORT B N		jobs/s accepted by pipelined
 *					background submits (not completed)
 *
 * gearmand speaks TCP only, so it runs on 127.0.0.1: loopback TCP costs
 * a little more than AF_UNIX, which the table says.  libgearman refuses
 * an empty workload, so each job carries one byte where futbench's
 * carry none.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libgearman/gearman.h>

#define GB_HOST		"127.0.0.1"

static in_port_t	 port;

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/*
 * gearmand has no readiness signal; its port opening is the event.
 * Refused connects are retried at once (bounded), never after a sleep.
 */
static void
mode_ready(void)
{
	struct sockaddr_in	 sin;
	double			 limit = now_s() + 10;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (;;) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			err(1, "socket");
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
		if (errno != ECONNREFUSED)
			err(1, "connect");
		close(fd);
		if (now_s() > limit)
			errx(1, "gearmand did not open port %u", port);
		sched_yield();
	}
	close(fd);
}

static void *
echo_fn(gearman_job_st *job, void *ctx __attribute__((unused)),
    size_t *size, gearman_return_t *ret)
{
	size_t	 len = gearman_job_workload_size(job);
	void	*p = NULL;

	if (len > 0) {
		if ((p = malloc(len)) == NULL) {
			*ret = GEARMAN_WORK_FAIL;
			return (NULL);
		}
		memcpy(p, gearman_job_workload(job), len);
	}
	*size = len;
	*ret = GEARMAN_SUCCESS;
	return (p);
}

static void
mode_worker(void)
{
	gearman_worker_st	*w;
	gearman_return_t	 rc;

	if ((w = gearman_worker_create(NULL)) == NULL)
		errx(1, "gearman_worker_create");
	if (gearman_worker_add_server(w, GB_HOST, port) != GEARMAN_SUCCESS ||
	    gearman_worker_add_function(w, "echo", 0, echo_fn, NULL) !=
	    GEARMAN_SUCCESS)
		errx(1, "worker: %s", gearman_worker_error(w));
	for (;;) {
		rc = gearman_worker_work(w);
		if (rc != GEARMAN_SUCCESS)
			errx(1, "worker: %s", gearman_worker_error(w));
	}
}

static gearman_client_st *
gb_client(void)
{
	gearman_client_st	*c;

	if ((c = gearman_client_create(NULL)) == NULL)
		errx(1, "gearman_client_create");
	if (gearman_client_add_server(c, GB_HOST, port) != GEARMAN_SUCCESS)
		errx(1, "client: %s", gearman_client_error(c));
	/* Completed tasks go at once, as fut_future_free() does. */
	gearman_client_add_options(c, GEARMAN_CLIENT_FREE_TASKS);
	return (c);
}

static void
mode_rtt(long n)
{
	gearman_client_st	*c = gb_client();
	gearman_return_t	 rc;
	size_t			 len;
	void			*r;
	double			 t0 = 0;
	long			 i, warm = n / 10 + 10;

	for (i = -warm; i < n; i++) {
		if (i == 0)
			t0 = now_s();
		r = gearman_client_do(c, "echo", NULL, "x", 1, &len, &rc);
		if (rc != GEARMAN_SUCCESS)
			errx(1, "do: %s", gearman_client_error(c));
		free(r);
	}
	printf("%.2f\n", (now_s() - t0) / n * 1e6);
	gearman_client_free(c);
}

struct pipe_arg {
	pthread_barrier_t	*start;
	long			 batch;
	long			 n;
	int			 background;
};

static void *
pipe_thread(void *arg)
{
	struct pipe_arg		*a = arg;
	gearman_client_st	*c = gb_client();
	gearman_return_t	 rc;
	long			 done, i, b;

	pthread_barrier_wait(a->start);
	for (done = 0; done < a->n; done += b) {
		b = a->n - done < a->batch ? a->n - done : a->batch;
		for (i = 0; i < b; i++) {
			if (a->background)
				gearman_client_add_task_background(c, NULL,
				    NULL, "echo", NULL, "x", 1, &rc);
			else
				gearman_client_add_task(c, NULL, NULL, "echo",
				    NULL, "x", 1, &rc);
			if (rc != GEARMAN_SUCCESS)
				errx(1, "add_task: %s",
				    gearman_client_error(c));
		}
		/* Sends the lot, then runs until every task is done. */
		if ((rc = gearman_client_run_tasks(c)) != GEARMAN_SUCCESS)
			errx(1, "run_tasks: %s", gearman_client_error(c));
	}
	pthread_barrier_wait(a->start);
	gearman_client_free(c);
	return (NULL);
}

static void
mode_pipe(long nclients, long batch, long n, int background)
{
	pthread_barrier_t	 start;
	pthread_t		*th;
	struct pipe_arg		 a;
	double			 t0, t1;
	long			 i;

	if (nclients < 1 || batch < 1)
		errx(2, "pipe: C and B must be >= 1");
	a.start = &start;
	a.batch = batch;
	a.n = n / nclients;
	a.background = background;
	if ((th = calloc(nclients, sizeof(*th))) == NULL)
		err(1, "calloc");
	pthread_barrier_init(&start, NULL, nclients + 1);
	for (i = 0; i < nclients; i++)
		if (pthread_create(&th[i], NULL, pipe_thread, &a) != 0)
			errx(1, "pthread_create");
	pthread_barrier_wait(&start);
	t0 = now_s();
	pthread_barrier_wait(&start);
	t1 = now_s();
	for (i = 0; i < nclients; i++)
		pthread_join(th[i], NULL);
	free(th);
	printf("%.0f\n", a.n * nclients / (t1 - t0));
}

static void
usage(void)
{
	fprintf(stderr, "usage: gearbench ready PORT | worker PORT | "
	    "rtt PORT N | pipe PORT C B N | bg PORT B N\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	port = (in_port_t)atoi(argv[2]);
	if (strcmp(argv[1], "ready") == 0 && argc == 3)
		mode_ready();
	else if (strcmp(argv[1], "worker") == 0 && argc == 3)
		mode_worker();
	else if (strcmp(argv[1], "rtt") == 0 && argc == 4)
		mode_rtt(atol(argv[3]));
	else if (strcmp(argv[1], "pipe") == 0 && argc == 6)
		mode_pipe(atol(argv[3]), atol(argv[4]), atol(argv[5]), 0);
	else if (strcmp(argv[1], "bg") == 0 && argc == 5)
		mode_pipe(1, atol(argv[3]), atol(argv[4]), 1);
	else
		usage();
	return (0);
}
