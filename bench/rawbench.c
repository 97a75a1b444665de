/*
 * rawbench: the baselines futured is measured against, with no futured
 * in the way.  Each mode prints one figure on stdout.
 *
 *   rawbench pingpong N	 µs per round trip of a 4-byte message
 *				 between two processes over a socketpair
 *   rawbench batch N B		 messages per second when B 4-byte
 *				 requests go in one write and B replies
 *				 come back in one write (the socket's
 *				 ceiling for a pipelined protocol)
 *   rawbench spawn P N		 commands per second: N posix_spawn +
 *				 waitpid of /bin/true, P in flight
 *
 * A socketpair stands for the daemon's AF_UNIX stream socket: the
 * kernel path (unix_stream_sendmsg, wakeup, recvmsg) is the same, and
 * no listening socket or path is needed.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX	4096

extern char	**environ;

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Read exactly len bytes; a short read of a stream socket is normal. */
static void
read_full(int fd, void *buf, size_t len)
{
	uint8_t	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "read");
		}
		if (n == 0)
			errx(1, "read: peer closed");
		p += n;
		len -= n;
	}
}

static void
write_full(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "write");
		}
		p += n;
		len -= n;
	}
}

/*
 * The echo side: answer each read of whole 4-byte messages with one
 * write of the same bytes, so a batch sent in one write comes back in
 * one write, as a daemon that reads many frames per wakeup would do.
 */
static void
echo_peer(int fd)
{
	static uint8_t	 buf[BATCH_MAX * 4];
	size_t		 have = 0, whole;
	ssize_t		 n;

	for (;;) {
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		have += n;
		whole = have - have % 4;
		if (whole > 0) {
			write_full(fd, buf, whole);
			memmove(buf, buf + whole, have - whole);
			have -= whole;
		}
	}
}

static pid_t
start_peer(int *fd)
{
	int	 sv[2];
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(sv[0]);
		echo_peer(sv[1]);
	}
	close(sv[1]);
	*fd = sv[0];
	return (pid);
}

static void
stop_peer(pid_t pid, int fd)
{
	close(fd);
	if (waitpid(pid, NULL, 0) == -1)
		err(1, "waitpid");
}

static void
mode_pingpong(long n)
{
	uint32_t	 m = 0, r;
	double		 t0, t1;
	long		 i;
	pid_t		 pid;
	int		 fd;

	pid = start_peer(&fd);
	/* Warm up the pages and the scheduler's idea of both tasks. */
	for (i = 0; i < 1000; i++) {
		write_full(fd, &m, sizeof(m));
		read_full(fd, &r, sizeof(r));
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		m = (uint32_t)i;
		write_full(fd, &m, sizeof(m));
		read_full(fd, &r, sizeof(r));
		if (r != m)
			errx(1, "pingpong: got %u for %u", r, m);
	}
	t1 = now_s();
	stop_peer(pid, fd);
	printf("%.2f\n", (t1 - t0) / n * 1e6);
}

static void
mode_batch(long n, long b)
{
	static uint32_t	 out[BATCH_MAX], in[BATCH_MAX];
	double		 t0, t1;
	long		 i, k, done = 0;
	pid_t		 pid;
	int		 fd;

	if (b < 1 || b > BATCH_MAX)
		errx(1, "batch: B must be 1..%d", BATCH_MAX);
	for (k = 0; k < b; k++)
		out[k] = (uint32_t)k;
	pid = start_peer(&fd);
	t0 = now_s();
	for (i = 0; done < n; i++) {
		write_full(fd, out, b * sizeof(out[0]));
		read_full(fd, in, b * sizeof(in[0]));
		done += b;
	}
	t1 = now_s();
	stop_peer(pid, fd);
	printf("%.0f\n", done / (t1 - t0));
}

struct spawn_arg {
	long	 n;
};

/*
 * One of P threads, each with one command in flight: waitpid on its own
 * pid so that the threads never reap each other's children.
 */
static void *
spawn_thread(void *arg)
{
	struct spawn_arg	*a = arg;
	char			*argv[] = { (char *)"/bin/true", NULL };
	pid_t			 pid;
	long			 i;
	int			 st, rc;

	for (i = 0; i < a->n; i++) {
		if ((rc = posix_spawn(&pid, argv[0], NULL, NULL, argv,
		    environ)) != 0)
			errx(1, "posix_spawn: %s", strerror(rc));
		while (waitpid(pid, &st, 0) == -1)
			if (errno != EINTR)
				err(1, "waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			errx(1, "/bin/true failed");
	}
	return (NULL);
}

static void
mode_spawn(long p, long n)
{
	pthread_t		*th;
	struct spawn_arg	 a;
	double			 t0, t1;
	long			 i;

	if (p < 1)
		errx(1, "spawn: P must be >= 1");
	a.n = n / p;
	if ((th = calloc(p, sizeof(*th))) == NULL)
		err(1, "calloc");
	t0 = now_s();
	for (i = 0; i < p; i++)
		if (pthread_create(&th[i], NULL, spawn_thread, &a) != 0)
			errx(1, "pthread_create");
	for (i = 0; i < p; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	free(th);
	printf("%.0f\n", a.n * p / (t1 - t0));
}

static void
usage(void)
{
	fprintf(stderr, "usage: rawbench pingpong N | batch N B | "
	    "spawn P N\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	if (strcmp(argv[1], "pingpong") == 0 && argc == 3)
		mode_pingpong(atol(argv[2]));
	else if (strcmp(argv[1], "batch") == 0 && argc == 4)
		mode_batch(atol(argv[2]), atol(argv[3]));
	else if (strcmp(argv[1], "spawn") == 0 && argc == 4)
		mode_spawn(atol(argv[2]), atol(argv[3]));
	else
		usage();
	return (0);
}
