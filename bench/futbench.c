/*
 * futbench: drives a running futured through libfutured and prints what
 * it measured on stdout, one figure per line (fill: "key value" lines).
 * bench/run.sh starts the daemons, runs the rounds and makes the table.
 *
 *   futbench pid SOCK			the daemon's pid (SO_PEERCRED)
 *   futbench reap PID			block until PID exits (pidfd)
 *   futbench rss SOCK			the daemon's VmRSS in KiB
 *   futbench rtt SOCK KIND N		µs per fut_submit + fut_wait of echo
 *   futbench wrtt SOCK N [proc]	µs per fut_submit + fut_wait of a no-op
 *					served by a libfutured C worker (a
 *					thread: fut_worker_next, then
 *					fut_task_succeed with the payload;
 *					proc: a child process)
 *   futbench pipe SOCK KIND C B N	jobs/s: C clients (threads), each
 *					fut_submit_all of B echo jobs, then
 *					fut_wait_all, until N jobs in all
 *   futbench exec SOCK P N		commands/s: P clients, each one
 *					exec of /bin/true in flight
 *   futbench cancel SOCK N		ms from fut_cancel to the final state
 *					of a cpu job spinning in a worker
 *   futbench fill SOCK N B		daemon memory per queued cpu job,
 *					then the drain of all N
 *   futbench slurm SOCK N [ARG...]	ms from fut_submit of an exec job on
 *					the Slurm engine to its Slurm job id
 *					in fut_status (sbatch has answered);
 *					the median of N, one after the other;
 *					with ARG..., each paired with a run
 *					of it (a bare sbatch), whose median
 *					follows, then the pairs' ratio's
 *   futbench slurmfill SOCK N	s from fut_submit_all of N such jobs
 *					(256 a call) to all their Slurm ids
 *   futbench cmd N ARG...		ms of posix_spawnp + waitpid of ARG...
 *					(a bare sbatch), the median of N
 *
 * Nothing here sleeps to synchronise: every step waits on a future or
 * on the daemon's own answer (slurm polls fut_status, 100 us apart: no
 * event tells of a Slurm job id; paired, from 3/4 of the last bare
 * sbatch on, which can only make the figure longer).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <futured/futured.h>

static const char	*sockpath;

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static struct fut_client *
bench_connect(void)
{
	struct fut_client	*c;

	if ((c = fut_connect(sockpath)) == NULL)
		err(1, "fut_connect %s", sockpath);
	return (c);
}

static enum fut_kind
bench_kind(const char *s)
{
	if (strcmp(s, "async") == 0)
		return (FUT_ASYNC);
	if (strcmp(s, "blocking") == 0)
		return (FUT_BLOCKING);
	if (strcmp(s, "cpu") == 0)
		return (FUT_CPU);
	errx(2, "unknown kind %s", s);
}

/* An echo spec with an empty payload: the cheapest job there is. */
static struct fut_spec *
bench_echo(enum fut_kind k)
{
	struct fut_spec	*s;

	if ((s = fut_spec_new("echo")) == NULL || fut_spec_kind(s, k) != 0)
		errx(1, "echo spec");
	return (s);
}

/* The daemon's pid, from the kernel rather than from the daemon. */
static pid_t
bench_daemon_pid(struct fut_client *c)
{
	struct ucred	 cr;
	socklen_t	 len = sizeof(cr);

	if (getsockopt(fut_client_fd(c), SOL_SOCKET, SO_PEERCRED, &cr,
	    &len) == -1)
		err(1, "SO_PEERCRED");
	return (cr.pid);
}

/* VmRSS of pid in KiB. */
static long
bench_rss_kb(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0)
		errx(1, "%s: no VmRSS", path);
	return (kb);
}

static void
bench_check(struct fut_future *f, const char *what)
{
	if (fut_poll(f) != FUT_SUCCEEDED)
		errx(1, "%s: job %llu did not succeed: %s", what,
		    (unsigned long long)fut_id(f),
		    fut_error(f) != NULL ? fut_error(f) : "?");
}

static void
mode_pid(void)
{
	struct fut_client	*c = bench_connect();

	printf("%ld\n", (long)bench_daemon_pid(c));
	fut_close(c);
}

/*
 * The daemon is not our child (futured --detach), so waitpid cannot
 * tell us it ended; a pidfd becomes readable when it does.
 */
static void
mode_reap(pid_t pid)
{
	struct pollfd	 pfd;
	int		 fd;

	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		if (errno == ESRCH)
			return;
		err(1, "pidfd_open %ld", (long)pid);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, -1) == -1)
		if (errno != EINTR)
			err(1, "poll");
	close(fd);
}

static void
mode_rss(void)
{
	struct fut_client	*c = bench_connect();

	printf("%ld\n", bench_rss_kb(bench_daemon_pid(c)));
	fut_close(c);
}

static void
mode_rtt(enum fut_kind k, long n)
{
	struct fut_client	*c = bench_connect();
	struct fut_spec		*s = bench_echo(k);
	struct fut_future	*f;
	double			 t0 = 0;
	long			 i, warm = n / 10 + 10;

	/* The first round trips fault in pages and wake up workers. */
	for (i = -warm; i < n; i++) {
		if (i == 0)
			t0 = now_s();
		if ((f = fut_submit(c, s)) == NULL)
			errx(1, "fut_submit: %s", fut_client_error(c));
		if (fut_wait(f, -1) != 0)
			errx(1, "fut_wait: %s", fut_client_error(c));
		if (i == -warm)
			bench_check(f, "rtt");
		fut_future_free(f);
	}
	printf("%.2f\n", (now_s() - t0) / n * 1e6);
	fut_spec_free(s);
	fut_close(c);
}

/* The C worker of wrtt: echoes each task's payload until the close. */
static void *
bench_worker(void *arg)
{
	struct fut_worker	*w = arg;
	struct fut_task		*t;
	const void		*p;
	size_t			 len;

	while (fut_worker_next(w, -1, &t) == 1) {
		p = fut_task_payload(t, &len);
		fut_task_succeed(t, p, len);
	}
	return (NULL);
}

static struct fut_worker *
bench_worker_new(void)
{
	struct fut_worker	*w;

	if ((w = fut_worker_new(sockpath)) == NULL)
		err(1, "fut_worker_new %s", sockpath);
	if (fut_worker_handler(w, "bench.echo", 1U << FUT_ASYNC |
	    1U << FUT_BLOCKING | 1U << FUT_CPU, FUT_CPU, NULL) != 0 ||
	    fut_worker_register(w) != 0)
		errx(1, "worker: %s", fut_worker_error(w));
	return (w);
}

/*
 * The worker of wrtt ... proc: a child process, as the cpu pool's
 * workers are; its pid once it has registered.
 */
static pid_t
bench_worker_proc(void)
{
	struct fut_worker	*w;
	pid_t			 pid;
	int			 p[2];
	char			 b = 0;

	if (pipe(p) == -1)
		err(1, "pipe");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(p[0]);
		w = bench_worker_new();
		if (write(p[1], &b, 1) != 1)
			_exit(1);
		close(p[1]);
		bench_worker(w);
		fut_worker_close(w);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &b, 1) != 1)
		errx(1, "the worker process did not register");
	close(p[0]);
	return (pid);
}

static void
mode_wrtt(long n, int proc)
{
	struct fut_worker	*w = NULL;
	struct fut_client	*c;
	struct fut_spec		*s;
	struct fut_future	*f;
	pthread_t		 th;
	pid_t			 pid = -1;
	double			 t0 = 0;
	long			 i, warm = n / 10 + 10;

	if (proc)
		pid = bench_worker_proc();
	else {
		w = bench_worker_new();
		if (pthread_create(&th, NULL, bench_worker, w) != 0)
			errx(1, "pthread_create");
	}
	c = bench_connect();
	if ((s = fut_spec_new("bench.echo")) == NULL)
		errx(1, "spec");
	for (i = -warm; i < n; i++) {
		if (i == 0)
			t0 = now_s();
		if ((f = fut_submit(c, s)) == NULL)
			errx(1, "fut_submit: %s", fut_client_error(c));
		if (fut_wait(f, -1) != 0)
			errx(1, "fut_wait: %s", fut_client_error(c));
		if (i == -warm)
			bench_check(f, "wrtt");
		fut_future_free(f);
	}
	printf("%.2f\n", (now_s() - t0) / n * 1e6);
	fut_spec_free(s);
	fut_close(c);
	if (proc) {
		kill(pid, SIGTERM);
		if (waitpid(pid, NULL, 0) == -1)
			err(1, "waitpid");
		return;
	}
	/* The worker's thread sees the connection go, and returns. */
	shutdown(fut_worker_fd(w), SHUT_RDWR);
	pthread_join(th, NULL);
	fut_worker_close(w);
}

struct pipe_arg {
	pthread_barrier_t	*start;
	enum fut_kind		 kind;
	long			 batch;
	long			 n;		/* jobs of this client */
	int			 exec;		/* exec /bin/true, not echo */
};

/*
 * One client: its own connection, as 8 programs would have.  Waits at
 * the barrier so that the clock starts when every client is connected.
 */
static void *
pipe_thread(void *arg)
{
	struct pipe_arg		 *a = arg;
	struct fut_client	 *c = bench_connect();
	struct fut_spec		 *s;
	const struct fut_spec	**specs;
	struct fut_future	**out;
	long			  done, i, b;
	int			  got;

	if (a->exec) {
		/*
		 * The async kind: P commands in flight, as posix_spawn's
		 * baseline has.  exec's default kind (cpu) would run only -P
		 * of them at once, which is the policy, not the spawn path.
		 */
		if ((s = fut_spec_new("exec")) == NULL ||
		    fut_spec_arg(s, "/bin/true") != 0 ||
		    fut_spec_kind(s, FUT_ASYNC) != 0)
			errx(1, "exec spec");
	} else
		s = bench_echo(a->kind);
	if ((specs = calloc(a->batch, sizeof(*specs))) == NULL ||
	    (out = calloc(a->batch, sizeof(*out))) == NULL)
		err(1, "calloc");
	for (i = 0; i < a->batch; i++)
		specs[i] = s;
	pthread_barrier_wait(a->start);
	for (done = 0; done < a->n; done += b) {
		b = a->n - done < a->batch ? a->n - done : a->batch;
		got = fut_submit_all(c, specs, b, out);
		if (got != b)
			errx(1, "fut_submit_all: %d of %ld: %s", got, b,
			    fut_client_error(c));
		if (fut_wait_all(out, b, -1) != 0)
			errx(1, "fut_wait_all: %s", fut_client_error(c));
		bench_check(out[0], a->exec ? "exec" : "pipe");
		for (i = 0; i < b; i++)
			fut_future_free(out[i]);
	}
	pthread_barrier_wait(a->start);
	free(out);
	free(specs);
	fut_spec_free(s);
	fut_close(c);
	return (NULL);
}

/*
 * C clients, B jobs per write.  Timed between the two barriers that
 * every client passes: after connecting, and after its last wait.
 */
static void
mode_pipe(enum fut_kind k, long nclients, long batch, long n, int exec)
{
	pthread_barrier_t	 start;
	pthread_t		*th;
	struct pipe_arg		 a;
	double			 t0, t1;
	long			 i;

	if (nclients < 1 || batch < 1)
		errx(2, "pipe: C and B must be >= 1");
	a.start = &start;
	a.kind = k;
	a.batch = batch;
	a.n = n / nclients;
	a.exec = exec;
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
	pthread_barrier_destroy(&start);
	free(th);
	printf("%.0f\n", a.n * nclients / (t1 - t0));
}

/* Child pids of pid's main thread (the loop thread spawns workers). */
static int
bench_children(pid_t pid, pid_t *out, int max)
{
	char	 path[64];
	FILE	*f;
	long	 p;
	int	 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)pid, (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (n < max && fscanf(f, "%ld", &p) == 1)
		out[n++] = (pid_t)p;
	fclose(f);
	return (n);
}

/* utime + stime of pid in clock ticks; -1 once it is gone. */
static long
bench_cputicks(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;
	size_t		 len;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* comm may hold spaces: fields count from the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st) != 2)
		return (-1);
	return ((long)(ut + st));
}

/*
 * A cpu job that is running is not yet spinning: its Task may still be
 * on its way to a worker that is being exec'd.  Wait for the state, then
 * for the worker (-P 1: the daemon's only child) to have burnt two clock
 * ticks, which only sha256 of /dev/zero does.
 */
static void
bench_wait_spinning(struct fut_client *c, struct fut_future *f)
{
	pid_t	 dpid = bench_daemon_pid(c), kids[8];
	long	 t;
	int	 n;

	while (fut_poll(f) != FUT_RUNNING)
		if (fut_poll(f) > FUT_RUNNING)
			errx(1, "spinner ended: %s", fut_error(f));
	for (;;) {
		if ((n = bench_children(dpid, kids, 8)) != 1) {
			sched_yield();
			continue;
		}
		if ((t = bench_cputicks(kids[0])) >= 2)
			break;
		sched_yield();
	}
}

static struct fut_spec *
bench_spinner(void)
{
	struct fut_spec	*s;

	if ((s = fut_spec_new("sha256")) == NULL ||
	    fut_spec_kind(s, FUT_CPU) != 0 || fut_spec_arg(s, "/dev/zero") != 0)
		errx(1, "sha256 spec");
	return (s);
}

static void
mode_cancel(long n)
{
	struct fut_client	*c = bench_connect();
	struct fut_spec		*s = bench_spinner();
	struct fut_future	*f;
	double			 t0, t1;
	long			 i;
	int			 rc;

	for (i = 0; i < n; i++) {
		if ((f = fut_submit(c, s)) == NULL)
			errx(1, "fut_submit: %s", fut_client_error(c));
		bench_wait_spinning(c, f);
		t0 = now_s();
		if ((rc = fut_cancel(f)) != 1)
			errx(1, "fut_cancel: %d", rc);
		if (fut_wait(f, -1) != 0)
			errx(1, "fut_wait: %s", fut_client_error(c));
		t1 = now_s();
		if (fut_poll(f) != FUT_CANCELLED)
			errx(1, "cancelled job ended in state %d", fut_poll(f));
		printf("%.2f\n", (t1 - t0) * 1e3);
		fut_future_free(f);
	}
	fut_spec_free(s);
	fut_close(c);
}

/*
 * Hold n cpu jobs in the queue behind one spinner on the only worker
 * (-P 1), read the daemon's RSS before and after, then cancel the
 * spinner and wait for every job.  The payload is empty, so all the
 * growth is the daemon's own bookkeeping (job, queue entry, the waiter
 * that pushes the completion, the answer buffers).
 */
static void
mode_fill(long n, long batch)
{
	struct fut_client	 *c = bench_connect();
	struct fut_spec		 *s = bench_echo(FUT_CPU), *sp = bench_spinner();
	const struct fut_spec	**specs;
	struct fut_future	**all, *spin;
	pid_t			  dpid = bench_daemon_pid(c);
	long			  rss0, rss1, rss2, i, b, ok = 0;
	double			  t0, t1, t2;

	if ((all = calloc(n, sizeof(*all))) == NULL ||
	    (specs = calloc(batch, sizeof(*specs))) == NULL)
		err(1, "calloc");
	for (i = 0; i < batch; i++)
		specs[i] = s;
	if ((spin = fut_submit(c, sp)) == NULL)
		errx(1, "fut_submit: %s", fut_client_error(c));
	while (fut_poll(spin) != FUT_RUNNING)
		if (fut_poll(spin) > FUT_RUNNING)
			errx(1, "spinner ended: %s", fut_error(spin));
	rss0 = bench_rss_kb(dpid);
	t0 = now_s();
	for (i = 0; i < n; i += b) {
		b = n - i < batch ? n - i : batch;
		if (fut_submit_all(c, specs, b, all + i) != b)
			errx(1, "fut_submit_all at %ld: %s", i,
			    fut_client_error(c));
	}
	t1 = now_s();
	rss1 = bench_rss_kb(dpid);
	if (fut_cancel(spin) < 0)
		errx(1, "fut_cancel: %s", fut_client_error(c));
	/* One at a time: fut_wait_all would rescan all n per read. */
	for (i = 0; i < n; i++) {
		if (fut_wait(all[i], -1) != 0)
			errx(1, "fut_wait: %s", fut_client_error(c));
		if (fut_poll(all[i]) == FUT_SUCCEEDED)
			ok++;
	}
	t2 = now_s();
	rss2 = bench_rss_kb(dpid);
	printf("queued %ld\n", n);
	printf("rss_before_kb %ld\n", rss0);
	printf("rss_queued_kb %ld\n", rss1);
	printf("rss_drained_kb %ld\n", rss2);
	printf("bytes_per_job %.1f\n", (rss1 - rss0) * 1024.0 / n);
	printf("submit_per_s %.0f\n", n / (t1 - t0));
	printf("drained %ld\n", ok);
	printf("drain_per_s %.0f\n", n / (t2 - t1));
	for (i = 0; i < n; i++)
		fut_future_free(all[i]);
	fut_future_free(spin);
	free(all);
	free(specs);
	fut_spec_free(s);
	fut_spec_free(sp);
	fut_close(c);
}

static int
bench_dcmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static double
bench_median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_dcmp);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

static double	cmd_once(char **);

/*
 * Submit-to-acknowledged on Slurm: from fut_submit until the job's
 * Slurm id shows in fut_status, one job at a time, as a bare sbatch
 * (mode_cmd) is timed from its spawn to its exit.  Given the bare
 * sbatch's argv, each job is paired with one run of it, right after:
 * the second line is its median, the third the median of the pairs'
 * ratios.  A burst of load from the machine's other users, which lasts
 * seconds, then weighs on both sides of a pair alike.
 */
static void
mode_slurm(long n, char **bare)
{
	struct fut_client	*c = bench_connect();
	struct fut_spec		*s;
	struct fut_future	*f;
	struct fut_info		*info;
	struct timespec		 nap = { 0, 100000 }, early;
	const char		*sid;
	double			*v, *b, *r, t0, t;
	long			 i;
	int			 got;

	if (n < 1)
		errx(2, "slurm: N must be at least 1");
	if ((s = fut_spec_new("exec")) == NULL ||
	    fut_spec_engine(s, "slurm") != 0 || fut_spec_arg(s, "true") != 0)
		errx(1, "slurm spec");
	v = calloc((size_t)n, sizeof(*v));
	b = calloc((size_t)n, sizeof(*b));
	r = calloc((size_t)n, sizeof(*r));
	if (v == NULL || b == NULL || r == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++) {
		t0 = now_s();
		if ((f = fut_submit(c, s)) == NULL)
			errx(1, "fut_submit: %s", fut_client_error(c));
		if (bare != NULL && i > 0) {
			/*
			 * No id before 3/4 of the last bare sbatch: polling
			 * then would take a cpu from sbatch and slurmctld
			 * that the bare one has.  A later first look can
			 * only read longer.
			 */
			t = b[i - 1] * 0.75e-3 - (now_s() - t0);
			if (t > 0) {
				early.tv_sec = (time_t)t;
				early.tv_nsec = (long)((t -
				    (double)early.tv_sec) * 1e9);
				nanosleep(&early, NULL);
			}
		}
		for (got = 0; !got; ) {
			if (fut_status(c, fut_id(f), &info) != 0)
				errx(1, "fut_status: %s", fut_client_error(c));
			sid = fut_info_slurm_job_id(info);
			got = sid != NULL && *sid != '\0';
			if (!got && fut_info_state(info) >= FUT_SUCCEEDED)
				errx(1, "job %llu %s before Slurm took it",
				    (unsigned long long)fut_id(f),
				    fut_state_name(fut_info_state(info)));
			fut_info_free(info);
			if (!got)
				nanosleep(&nap, NULL);
		}
		v[i] = (now_s() - t0) * 1e3;
		fut_future_free(f);
		if (bare != NULL) {
			b[i] = cmd_once(bare);
			r[i] = v[i] / b[i];
		}
	}
	printf("%.2f\n", bench_median(v, n));
	if (bare != NULL) {
		printf("%.2f\n", bench_median(b, n));
		printf("%.3f\n", bench_median(r, n));
	}
	free(v);
	free(b);
	free(r);
	fut_spec_free(s);
	fut_close(c);
}

/*
 * N Slurm jobs tracked at once (they had better be held: --slurm-option
 * --hold): s from the first fut_submit_all to the last Slurm id.
 */
static void
mode_slurmfill(long n)
{
	struct fut_client	 *c = bench_connect();
	struct fut_spec		 *s, **specs;
	struct fut_future	**f;
	struct fut_info		 *info;
	struct timespec		  nap = { 0, 1000000 };
	const char		 *sid;
	double			  t0;
	long			  i, k, done = 0;

	if (n < 1)
		errx(2, "slurmfill: N must be at least 1");
	if ((s = fut_spec_new("exec")) == NULL ||
	    fut_spec_engine(s, "slurm") != 0 || fut_spec_arg(s, "true") != 0)
		errx(1, "slurm spec");
	specs = calloc((size_t)n, sizeof(*specs));
	f = calloc((size_t)n, sizeof(*f));
	if (specs == NULL || f == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++)
		specs[i] = s;
	t0 = now_s();
	for (i = 0; i < n; i += k) {
		k = n - i < 256 ? n - i : 256;
		if (fut_submit_all(c, (const struct fut_spec *const *)specs + i,
		    (size_t)k, f + i) != k)
			errx(1, "fut_submit_all: %s", fut_client_error(c));
	}
	/* In order: each is waited for once, the rest have moved on. */
	while (done < n) {
		if (fut_status(c, fut_id(f[done]), &info) != 0)
			errx(1, "fut_status: %s", fut_client_error(c));
		sid = fut_info_slurm_job_id(info);
		if (sid != NULL && *sid != '\0')
			done++;
		else if (fut_info_state(info) >= FUT_SUCCEEDED)
			errx(1, "job %llu %s before Slurm took it",
			    (unsigned long long)fut_id(f[done]),
			    fut_state_name(fut_info_state(info)));
		else
			nanosleep(&nap, NULL);
		fut_info_free(info);
	}
	printf("%.2f\n", now_s() - t0);
	for (i = 0; i < n; i++)
		fut_future_free(f[i]);
	free(f);
	free(specs);
	fut_spec_free(s);
	fut_close(c);
}

/* ms of one spawn and wait of argv, its output to /dev/null. */
static double
cmd_once(char **argv)
{
	posix_spawn_file_actions_t	 fa;
	extern char			**environ;
	double				 t0, t;
	pid_t				 pid;
	int				 st, rv;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	t0 = now_s();
	if ((rv = posix_spawnp(&pid, argv[0], &fa, NULL, argv,
	    environ)) != 0)
		errx(1, "posix_spawnp %s: %s", argv[0], strerror(rv));
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			err(1, "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		errx(1, "%s failed", argv[0]);
	t = (now_s() - t0) * 1e3;
	posix_spawn_file_actions_destroy(&fa);
	return (t);
}

/* ms of one spawn and wait of argv, its output to /dev/null; median. */
static void
mode_cmd(long n, char **argv)
{
	double	*v;
	long	 i;

	if (n < 1)
		errx(2, "cmd: N must be at least 1");
	if ((v = calloc((size_t)n, sizeof(*v))) == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++)
		v[i] = cmd_once(argv);
	printf("%.2f\n", bench_median(v, n));
	free(v);
}

static void
usage(void)
{
	fprintf(stderr, "usage: futbench pid SOCK | reap PID | rss SOCK |\n"
	    "       rtt SOCK KIND N | wrtt SOCK N [proc] |\n"
	    "       pipe SOCK KIND C B N |\n"
	    "       exec SOCK P N |\n"
	    "       cancel SOCK N | fill SOCK N B |\n"
	    "       slurm SOCK N [ARG...] |\n"
	    "       slurmfill SOCK N | cmd N ARG...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*m;

	if (argc < 3)
		usage();
	m = argv[1];
	sockpath = argv[2];
	if (strcmp(m, "pid") == 0 && argc == 3)
		mode_pid();
	else if (strcmp(m, "reap") == 0 && argc == 3)
		mode_reap((pid_t)atol(argv[2]));
	else if (strcmp(m, "rss") == 0 && argc == 3)
		mode_rss();
	else if (strcmp(m, "rtt") == 0 && argc == 5)
		mode_rtt(bench_kind(argv[3]), atol(argv[4]));
	else if (strcmp(m, "wrtt") == 0 && argc == 4)
		mode_wrtt(atol(argv[3]), 0);
	else if (strcmp(m, "wrtt") == 0 && argc == 5 &&
	    strcmp(argv[4], "proc") == 0)
		mode_wrtt(atol(argv[3]), 1);
	else if (strcmp(m, "pipe") == 0 && argc == 7)
		mode_pipe(bench_kind(argv[3]), atol(argv[4]), atol(argv[5]),
		    atol(argv[6]), 0);
	else if (strcmp(m, "exec") == 0 && argc == 5)
		mode_pipe(FUT_ASYNC, atol(argv[3]), 1, atol(argv[4]), 1);
	else if (strcmp(m, "cancel") == 0 && argc == 4)
		mode_cancel(atol(argv[3]));
	else if (strcmp(m, "fill") == 0 && argc == 5)
		mode_fill(atol(argv[3]), atol(argv[4]));
	else if (strcmp(m, "slurm") == 0 && argc >= 4)
		mode_slurm(atol(argv[3]), argc > 4 ? argv + 4 : NULL);
	else if (strcmp(m, "slurmfill") == 0 && argc == 4)
		mode_slurmfill(atol(argv[3]));
	else if (strcmp(m, "cmd") == 0 && argc >= 4)
		mode_cmd(atol(argv[2]), argv + 3);
	else
		usage();
	return (0);
}
