/*
 * exec ARG...: run a command.  It is started with posix_spawn (never
 * fork: the daemon is large) in a process group of its own, so cancel
 * and timeout reach the whole tree.  The payload goes to its stdin;
 * stdout becomes the output (cut at the output limit, flagged), the
 * last bytes of stderr are kept, and the exit status or signal recorded.
 *
 * The job ends when the command is reaped.  What is still in its pipes
 * then is drained without waiting for EOF, so a daemonised grandchild
 * holding the pipe open cannot keep the job running.  On cancel the
 * group gets SIGTERM, then SIGKILL after the grace; once the leader is
 * reaped the group is killed outright so no straggler survives.
 *
 * posix_spawn returns only once the child has exec'd (CLONE_VFORK): on
 * this kind of machine 0.1-0.4 ms in which the calling thread stands
 * still.  So the loop prepares everything (pipes, file actions,
 * environment) and a few spawner threads make the call; the loop gets
 * the pid back through event_active() and watches the child from then
 * on.  A command that exits before that is kept by the daemon
 * (fut_handler_expect_child()).  A command with no payload gets
 * /dev/null, opened once, as its stdin instead of a pipe.
 *
 * Commands are limited by descriptors too: each holds up to three of
 * the daemon's (its pipes) while it runs, six while it is spawned.  The
 * first exec submitted sizes the number running at once from
 * RLIMIT_NOFILE (which futured raised to the hard limit), keeping a
 * reserve for clients, the journal and workers, and tells the daemon
 * (fut_handler_set_limit()): the other jobs stay queued until a command
 * ends.  Commands that meet EMFILE or ENFILE anyway (another part of
 * the daemon used the descriptors), or that started before the sizing
 * (jobs queued again at a restart), wait their turn here in FIFO order:
 * they are retried when a command ends, or after EXEC_RETRY_MS, instead
 * of failing; their jobs count as running, so their timeouts run.
 *
 * Where the daemon gives jobs cgroups (fut_handler_exec_in()), the
 * command is spawned through the --exec-in trampoline, which joins the
 * job's cgroup before the command runs; the SIGKILL of a cancel then
 * goes to the whole cgroup too (fut_handler_kill_all()), reaching what
 * left the process group.
 *
 * A command finds a pipe of its own on descriptor 3, named by
 * FUTURED_PROGRESS_FD in its environment: the lines it writes there
 * become the job's progress and message (exec_progress.c).  Its stdout
 * stays its output.  Like the other pipes, both ends are close-on-exec
 * in the daemon, so that only this command (and what it starts) holds
 * the writing end.
 *
 * Like any plugin, exec sees the daemon only through futured/handler.h.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "futured/handler.h"

#include "exec_progress.h"

#define EXEC_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
#define EXEC_SPAWNERS_MIN	4
#define EXEC_SPAWNERS_MAX	16
#define EXEC_FDS_PER_COMMAND	5	/* 4 while it runs, 8 in the spawn */
#define EXEC_FD_RESERVE		64	/* for all but commands, at most */
#define EXEC_RETRY_MS		100	/* after EMFILE, if nothing ends */
/*
 * What one wakeup reads of a pipe at most: a command that writes as fast
 * as the loop reads would otherwise keep the loop in exec_read() for as
 * long as it writes, and every other client waiting.
 */
#define EXEC_READ_TURN		(64 * 1024)

struct exec {
	struct fut_handler_ctx	*ctx;
	pid_t			 pid;
	int			 in, out, err;	/* our pipe ends, -1: closed */
	int			 ppipe;		/* the progress pipe's */
	size_t			 in_off;
	struct event		*in_ev, *out_ev, *err_ev, *prog_ev;
	struct exec_progress	*pr;		/* from its first read */
	struct event		*kill_ev;	/* SIGKILL after the grace */
	int			 killed;	/* SIGKILL was sent */
	int			 waiting;	/* for descriptors: no fds yet */

	/* Until the spawner thread is done with it. */
	int			 spawning;
	int			 cancel_pending; /* cancelled while spawning */
	int			 child_fd[4];	/* its ends; -1: not ours */
	const char		*path;		/* prog or the trampoline */
	char			*prog;
	char			**argv, **env, **spawn_env;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t	 attr;
	int			 spawn_error;
	char			 uidbuf[32], nbuf[32]; /* trampoline argv */
	TAILQ_ENTRY(exec)	 entry;
};
TAILQ_HEAD(exec_list, exec);

static pthread_mutex_t	 exec_spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 exec_spawn_cond = PTHREAD_COND_INITIALIZER;
static struct exec_list	 exec_spawn_todo = TAILQ_HEAD_INITIALIZER(exec_spawn_todo);
static struct exec_list	 exec_spawn_done = TAILQ_HEAD_INITIALIZER(exec_spawn_done);
static struct event	 exec_spawn_ev;	/* static: lives as long as we do */
static int		 exec_spawn_nthreads = -1;	/* -1: not started */
static int		 exec_devnull = -1;

/* Commands waiting for descriptors; only the loop touches these. */
static struct exec_list	 exec_waiting = TAILQ_HEAD_INITIALIZER(exec_waiting);
static unsigned int	 exec_nrunning;	/* commands holding descriptors */
static unsigned int	 exec_max;	/* of those at once; 0: not sized */
static struct event	*exec_wake_ev;	/* start waiting commands */
static int		 exec_starved;	/* logged for this wait, until empty */
static struct event_base *exec_base;

static void	exec_read(struct exec *, int *, struct event **, int,
		    size_t);
extern const struct fut_handler handler_exec;

static void
exec_close(int *fd, struct event **ev)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

static struct exec *
exec_new(struct fut_handler_ctx *ctx)
{
	struct exec	*e;
	int		 i;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (NULL);
	e->ctx = ctx;
	e->in = e->out = e->err = e->ppipe = -1;
	for (i = 0; i < 4; i++)
		e->child_fd[i] = -1;
	return (e);
}

/* Start waiting commands at the next turn of the loop, or in ms. */
static void
exec_wake(int ms)
{
	struct timeval	 tv;

	if (exec_wake_ev == NULL || TAILQ_EMPTY(&exec_waiting))
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(exec_wake_ev, &tv);
}

static void
exec_free(struct exec *e)
{
	exec_close(&e->in, &e->in_ev);
	exec_close(&e->out, &e->out_ev);
	exec_close(&e->err, &e->err_ev);
	exec_close(&e->ppipe, &e->prog_ev);
	free(e->pr);
	if (e->kill_ev != NULL)
		event_free(e->kill_ev);
	if (!e->waiting) {
		exec_nrunning--;
		exec_wake(0);
	}
	free(e);
}

static void
exec_stdin_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec		*e = arg;
	const char		*payload;
	size_t			 len;
	ssize_t			 n;

	payload = fut_handler_payload(e->ctx, &len);
	n = write(e->in, payload + e->in_off, len - e->in_off);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* EPIPE: the command does not read its stdin; fine. */
		exec_close(&e->in, &e->in_ev);
		return;
	}
	e->in_off += n;
	if (e->in_off == len)
		exec_close(&e->in, &e->in_ev);
}

/* Read a pipe until it is empty, or max bytes (0: no limit) were read. */
static void
exec_read(struct exec *e, int *fd, struct event **ev, int is_err, size_t max)
{
	char	 buf[16384];
	ssize_t	 n;
	size_t	 got = 0;

	while (*fd != -1 && (max == 0 || got < max)) {
		n = read(*fd, buf, sizeof(buf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			exec_close(fd, ev);
			return;
		}
		if (n == 0) {
			exec_close(fd, ev);
			return;
		}
		if (is_err)
			fut_handler_stderr(e->ctx, buf, n);
		else
			(void)fut_handler_output(e->ctx, buf, n);
		got += n;
	}
}

static void
exec_stdout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec	*e = arg;

	exec_read(e, &e->out, &e->out_ev, 0, EXEC_READ_TURN);
}

static void
exec_stderr_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec	*e = arg;

	exec_read(e, &e->err, &e->err_ev, 1, EXEC_READ_TURN);
}

/*
 * Progress lines: read what is there, report what they said.  At the
 * command's end (end) a last line without its newline counts, though
 * something it left behind may hold the pipe open.  A few reads a turn:
 * a command writing without pause must not hold the loop.
 */
static void
exec_progress_read(struct exec *e, int end)
{
	const char	*msg;
	char		 buf[4096];
	ssize_t		 n;
	double		 f;
	int		 reads = 0;

	while (e->ppipe != -1 && reads++ < 16) {
		n = read(e->ppipe, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n > 0 && e->pr == NULL &&
		    (e->pr = calloc(1, sizeof(*e->pr))) == NULL)
			n = -1;		/* no memory: no progress */
		if (n <= 0) {
			if (e->pr != NULL)
				exec_progress_eof(e->pr);
			exec_close(&e->ppipe, &e->prog_ev);
			break;
		}
		exec_progress_feed(e->pr, buf, n);
	}
	if (end && e->pr != NULL)
		exec_progress_eof(e->pr);
	if (e->pr != NULL && exec_progress_take(e->pr, &f, &msg))
		fut_handler_progress(e->ctx, f, msg);
}

static void
exec_progress_cb(evutil_socket_t fd, short events, void *arg)
{
	exec_progress_read(arg, 0);
}

static void
exec_reaped(pid_t pid, int status, void *arg)
{
	struct exec		*e = arg;
	struct fut_handler_ctx	*ctx = e->ctx;
	int			 ok = 0, st;

	if (fut_handler_cancelled(ctx)) {
		killpg(pid, SIGKILL);
		(void)fut_handler_kill_all(ctx);
		fut_handler_set_ended(ctx, e->killed ?
		    "killed after the grace" : "terminated");
	}
	exec_read(e, &e->out, &e->out_ev, 0, 0);
	exec_read(e, &e->err, &e->err_ev, 1, 0);
	exec_progress_read(e, 1);
	if (e->pr != NULL && e->pr->bad > 0)
		fut_handler_log(ctx, FUT_LOG_DEBUG, "exec: %llu of %llu "
		    "progress lines ignored, the first: \"%s\"",
		    (unsigned long long)e->pr->bad,
		    (unsigned long long)(e->pr->bad + e->pr->good),
		    e->pr->first_bad);
	if (WIFEXITED(status)) {
		st = WEXITSTATUS(status);
		fut_handler_set_exit(ctx, st, 0);
		if (st == 0)
			ok = 1;
		else
			fut_handler_fail(ctx, "exited with status %d", st);
	} else if (WIFSIGNALED(status)) {
		st = WTERMSIG(status);
		fut_handler_set_exit(ctx, -1, st);
		fut_handler_fail(ctx, "killed by signal %d (%s)%s", st,
		    strsignal(st), e->killed ? " after the grace" : "");
	}
	exec_free(e);
	fut_handler_set_data(ctx, NULL);
	fut_handler_done(ctx, ok ? 0 : -1);
}

/* The program to run: as given if it has a slash, else found in PATH. */
static char *
exec_resolve(const char *file, char *const *envp)
{
	const char	*path = EXEC_DEFAULT_PATH, *p, *q;
	char		*cand;
	size_t		 i;

	if (strchr(file, '/') != NULL)
		return (strdup(file));
	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		if (strncmp(envp[i], "PATH=", 5) == 0) {
			path = envp[i] + 5;
			break;
		}
	}
	for (p = path; ; p = q + 1) {
		q = strchr(p, ':');
		if (q == NULL)
			q = p + strlen(p);
		if (asprintf(&cand, "%.*s%s%s", (int)(q - p), p,
		    q == p ? "" : "/", file) == -1)
			return (NULL);
		if (access(cand, X_OK) == 0)
			return (cand);
		free(cand);
		if (*q == '\0')
			break;
	}
	return (NULL);
}

static void
exec_free_environ(char **env)
{
	size_t	 i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * The command's environment: the job's, plus FUTURED_* entries; NULL
 * when out of memory.
 */
static char **
exec_environ(struct fut_handler_ctx *ctx)
{
	char *const	 *envp = fut_handler_env(ctx);
	const char	 *key, *value, *sock;
	char		**env;
	size_t		  n = 0, nctx = 0, i, k = 0;

	for (i = 0; envp != NULL && envp[i] != NULL; i++)
		n++;
	while (fut_handler_ctx_entry(ctx, nctx, NULL) != NULL)
		nctx++;
	if ((env = calloc(n + nctx + 5, sizeof(*env))) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (strncmp(envp[i], "FUTURED_", 8) == 0)
			continue;
		if ((env[k++] = strdup(envp[i])) == NULL)
			goto fail;
	}
	if (n == 0 && (env[k++] = strdup("PATH=" EXEC_DEFAULT_PATH)) == NULL)
		goto fail;
	if ((sock = fut_handler_socket(ctx)) == NULL)
		sock = "";
	if (asprintf(&env[k++], "FUTURED_SOCKET=%s", sock) == -1)
		goto fail;
	if (asprintf(&env[k++], "FUTURED_JOB_ID=%llu",
	    (unsigned long long)fut_handler_job_id(ctx)) == -1)
		goto fail;
	if (asprintf(&env[k++], "FUTURED_PROGRESS_FD=%d",
	    EXEC_PROGRESS_FD) == -1)
		goto fail;
	for (i = 0; i < nctx; i++) {
		value = fut_handler_ctx_entry(ctx, i, &key);
		if (asprintf(&env[k++], "FUTURED_CTX_%s=%s", key, value) == -1)
			goto fail;
	}
	env[k] = NULL;
	return (env);
fail:
	/* A failed asprintf leaves its pointer undefined. */
	env[k - 1] = NULL;
	exec_free_environ(env);
	return (NULL);
}

static int
exec_pipe(int fds[2], int ours)
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		return (-1);
	if (fcntl(fds[ours], F_SETFL, O_NONBLOCK) == -1) {
		close(fds[0]);
		close(fds[1]);
		return (-1);
	}
	return (0);
}

/*
 * argv of the trampoline (execas.c): --exec-in DIR to join the job's
 * cgroup first, if it has one; then, for a --system daemon's job of
 * another user, --exec-as with uid, cwd, program and the environment;
 * then the program and the command's own argv.  The strings are
 * borrowed; free the array only.
 */
static char **
exec_tramp_argv(struct fut_handler_ctx *ctx, const char *tramp,
    const char *cgdir, int as_user, const char *prog, char **env,
    char *uidbuf, char *nbuf, size_t bufsize)
{
	const char	 *cwd = fut_handler_cwd(ctx);
	char		**argv;
	size_t		  nenv = 0, nargs = fut_handler_nargs(ctx), i, k = 0;

	while (as_user && env[nenv] != NULL)
		nenv++;
	snprintf(uidbuf, bufsize, "%lu", (unsigned long)fut_handler_owner(ctx));
	snprintf(nbuf, bufsize, "%zu", nenv);
	if ((argv = calloc(8 + nenv + nargs + 1, sizeof(*argv))) == NULL)
		return (NULL);
	argv[k++] = (char *)(uintptr_t)tramp;
	if (cgdir != NULL) {
		argv[k++] = (char *)(uintptr_t)"--exec-in";
		argv[k++] = (char *)(uintptr_t)cgdir;
	}
	if (!as_user) {
		argv[k++] = (char *)(uintptr_t)prog;
		for (i = 0; i < nargs; i++)
			argv[k++] = (char *)(uintptr_t)fut_handler_arg(ctx, i);
		argv[k] = NULL;
		return (argv);
	}
	argv[k++] = (char *)(uintptr_t)"--exec-as";
	argv[k++] = uidbuf;
	argv[k++] = (char *)(uintptr_t)(cwd != NULL ? cwd : "");
	argv[k++] = (char *)(uintptr_t)prog;
	argv[k++] = nbuf;
	for (i = 0; i < nenv; i++)
		argv[k++] = env[i];
	for (i = 0; i < nargs; i++)
		argv[k++] = (char *)(uintptr_t)fut_handler_arg(ctx, i);
	argv[k] = NULL;
	return (argv);
}

static void	exec_cancel(struct fut_handler_ctx *);

/* The slow call: in a spawner thread, or in the loop if there is none. */
static void
exec_spawn(struct exec *e)
{
	e->spawn_error = posix_spawn(&e->pid, e->path, &e->fa, &e->attr,
	    e->argv, e->spawn_env);
}

static void *
exec_spawn_main(void *arg)
{
	struct exec	*e;

	for (;;) {
		pthread_mutex_lock(&exec_spawn_lock);
		while (TAILQ_EMPTY(&exec_spawn_todo))
			pthread_cond_wait(&exec_spawn_cond, &exec_spawn_lock);
		e = TAILQ_FIRST(&exec_spawn_todo);
		TAILQ_REMOVE(&exec_spawn_todo, e, entry);
		pthread_mutex_unlock(&exec_spawn_lock);

		exec_spawn(e);

		pthread_mutex_lock(&exec_spawn_lock);
		TAILQ_INSERT_TAIL(&exec_spawn_done, e, entry);
		pthread_mutex_unlock(&exec_spawn_lock);
		event_active(&exec_spawn_ev, EV_READ, 0);
	}
	return (NULL);
}

/*
 * Loop side, once posix_spawn has returned: drop what only the spawn
 * needed, then watch the command's pipes and its exit.
 */
static void
exec_spawned_cleanup(struct exec *e)
{
	int	 i;

	e->spawning = 0;
	posix_spawn_file_actions_destroy(&e->fa);
	posix_spawnattr_destroy(&e->attr);
	free(e->argv);
	e->argv = NULL;
	exec_free_environ(e->env);
	e->env = NULL;
	for (i = 0; i < 4; i++) {
		if (e->child_fd[i] != -1)
			close(e->child_fd[i]);
		e->child_fd[i] = -1;
	}
}

static void
exec_spawned(struct exec *e)
{
	struct fut_handler_ctx	*ctx = e->ctx;

	exec_spawned_cleanup(e);
	if (e->spawn_error != 0) {
		fut_handler_expect_child_done(ctx);
		fut_handler_set_exit(ctx, 127, 0);
		fut_handler_fail(ctx, "exec: %s: %s", e->prog,
		    strerror(e->spawn_error));
		free(e->prog);
		exec_free(e);
		fut_handler_set_data(ctx, NULL);
		fut_handler_done(ctx, -1);
		return;
	}
	fut_handler_log(ctx, FUT_LOG_DEBUG, "exec %s, pid %ld", e->prog,
	    (long)e->pid);
	free(e->prog);
	e->prog = NULL;

	e->out_ev = event_new(exec_base, e->out, EV_READ | EV_PERSIST,
	    exec_stdout_cb, e);
	event_add(e->out_ev, NULL);
	e->err_ev = event_new(exec_base, e->err, EV_READ | EV_PERSIST,
	    exec_stderr_cb, e);
	event_add(e->err_ev, NULL);
	e->prog_ev = event_new(exec_base, e->ppipe, EV_READ | EV_PERSIST,
	    exec_progress_cb, e);
	event_add(e->prog_ev, NULL);
	if (e->in != -1) {
		e->in_ev = event_new(exec_base, e->in, EV_WRITE | EV_PERSIST,
		    exec_stdin_cb, e);
		event_add(e->in_ev, NULL);
	}
	if (e->cancel_pending)
		exec_cancel(ctx);
	/* For a daemon restarted after a crash to end it. */
	fut_handler_set_process(ctx, e->pid);
	/*
	 * Last: if it has exited already, exec_reaped() frees e, and the
	 * job may be gone, before this returns.
	 */
	fut_handler_watch_child(ctx, e->pid, exec_reaped, e);
}

static void
exec_spawn_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_list	 done = TAILQ_HEAD_INITIALIZER(done);
	struct exec		*e;

	pthread_mutex_lock(&exec_spawn_lock);
	TAILQ_CONCAT(&done, &exec_spawn_done, entry);
	pthread_mutex_unlock(&exec_spawn_lock);
	while ((e = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, e, entry);
		exec_spawned(e);
	}
}

/*
 * Started at the first exec, so that a daemon that runs none has no
 * spawner.  The threads block every signal: SIGCHLD is the loop's.  If
 * none starts, the loop spawns itself, as it always used to.
 */
static void
exec_spawn_init(struct fut_handler_ctx *ctx, struct event_base *evb)
{
	pthread_t	 t;
	sigset_t	 all, old;
	long		 n;
	int		 i, error;

	exec_spawn_nthreads = 0;
	exec_base = evb;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < EXEC_SPAWNERS_MIN)
		n = EXEC_SPAWNERS_MIN;
	if (n > EXEC_SPAWNERS_MAX)
		n = EXEC_SPAWNERS_MAX;
	if (event_assign(&exec_spawn_ev, evb, -1, 0, exec_spawn_done_cb,
	    NULL) == -1)
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < n; i++) {
		error = pthread_create(&t, NULL, exec_spawn_main, NULL);
		if (error != 0) {
			fut_handler_log(ctx, FUT_LOG_WARN,
			    "exec: pthread_create: %s", strerror(error));
			break;
		}
		pthread_detach(t);
		exec_spawn_nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The command's stdin when there is no payload: opened once. */
static int
exec_stdin_null(void)
{
	if (exec_devnull == -1)
		exec_devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return (exec_devnull);
}

/* Close what exec_start() opened before it failed. */
static void
exec_start_unwind(int in[2], int out[2], int err[2], int pp[2])
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (in[1] != -1 && in[i] != -1)
			close(in[i]);
		if (out[i] != -1)
			close(out[i]);
		if (err[i] != -1)
			close(err[i]);
		if (pp[i] != -1)
			close(pp[i]);
	}
}

/*
 * Start the command: 0 started, -1 failed (fut_handler_fail() called),
 * 1 out of descriptors (nothing kept: try again later).
 */
static int
exec_launch(struct fut_handler_ctx *ctx)
{
	struct exec	*e;
	struct stat	 sb;
	sigset_t	 all, none;
	int		 in[2], out[2], err[2], pp[2];
	const char	*cwd = fut_handler_cwd(ctx), *exec_as, *exec_in;
	const char	*cgdir = NULL;
	char		*prog;
	static char	*noenv[] = { NULL };
	size_t		 i, nargs = fut_handler_nargs(ctx), plen;

	exec_as = fut_handler_exec_as(ctx);
	/* exec_as: the trampoline enters cwd with the user's rights. */
	if (exec_as == NULL && cwd != NULL &&
	    (stat(cwd, &sb) == -1 || !S_ISDIR(sb.st_mode))) {
		fut_handler_fail(ctx, "exec: working directory %s: %s",
		    cwd, errno != 0 ? strerror(errno) : "not a directory");
		return (-1);
	}
	errno = 0;
	if ((prog = exec_resolve(fut_handler_arg(ctx, 0),
	    fut_handler_env(ctx))) == NULL) {
		if (errno == ENOMEM) {
			fut_handler_fail(ctx, "exec: out of memory");
			return (-1);
		}
		fut_handler_set_exit(ctx, 127, 0);
		fut_handler_fail(ctx, "exec: %s: command not found",
		    fut_handler_arg(ctx, 0));
		return (-1);
	}
	/* No payload: /dev/null, a pipe only if it cannot be opened. */
	in[0] = in[1] = out[0] = out[1] = err[0] = err[1] = -1;
	pp[0] = pp[1] = -1;
	(void)fut_handler_payload(ctx, &plen);
	if (plen == 0)
		in[0] = exec_stdin_null();
	if ((in[0] == -1 && exec_pipe(in, 1) == -1) ||
	    exec_pipe(out, 0) == -1 || exec_pipe(err, 0) == -1 ||
	    exec_pipe(pp, 0) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			exec_start_unwind(in, out, err, pp);
			free(prog);
			return (1);
		}
		fut_handler_fail(ctx, "exec: pipe: %s", strerror(errno));
		exec_start_unwind(in, out, err, pp);
		free(prog);
		return (-1);
	}

	if ((e = exec_new(ctx)) == NULL) {
		fut_handler_fail(ctx, "exec: out of memory");
		exec_start_unwind(in, out, err, pp);
		free(prog);
		return (-1);
	}
	exec_nrunning++;
	e->in = in[1];
	e->out = out[0];
	e->err = err[0];
	e->ppipe = pp[0];
	/* The shared /dev/null stays open: in[1] == -1 says it is that. */
	e->child_fd[0] = in[1] != -1 ? in[0] : -1;
	e->child_fd[1] = out[1];
	e->child_fd[2] = err[1];
	e->child_fd[3] = pp[1];
	e->prog = prog;

	posix_spawn_file_actions_init(&e->fa);
	posix_spawn_file_actions_adddup2(&e->fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&e->fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&e->fa, err[1], STDERR_FILENO);
	posix_spawn_file_actions_adddup2(&e->fa, pp[1], EXEC_PROGRESS_FD);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	/* Belt and braces: no daemon descriptor reaches a command. */
	posix_spawn_file_actions_addclosefrom_np(&e->fa, EXEC_PROGRESS_FD + 1);
#endif
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP
	if (cwd != NULL && exec_as == NULL)
		posix_spawn_file_actions_addchdir_np(&e->fa, cwd);
#endif
	posix_spawnattr_init(&e->attr);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&e->attr, &all);
	posix_spawnattr_setsigmask(&e->attr, &none);
	posix_spawnattr_setpgroup(&e->attr, 0);
	posix_spawnattr_setflags(&e->attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

	exec_in = fut_handler_exec_in(ctx, &cgdir);
	if ((e->env = exec_environ(ctx)) != NULL) {
		if (exec_as != NULL) {
			/* The trampoline is root until it drops: no env. */
			e->argv = exec_tramp_argv(ctx, exec_as, cgdir, 1, prog,
			    e->env, e->uidbuf, e->nbuf, sizeof(e->uidbuf));
			e->path = exec_as;
			e->spawn_env = noenv;
		} else if (exec_in != NULL) {
			e->argv = exec_tramp_argv(ctx, exec_in, cgdir, 0, prog,
			    e->env, e->uidbuf, e->nbuf, sizeof(e->uidbuf));
			e->path = exec_in;
			e->spawn_env = e->env;
		} else if ((e->argv = calloc(nargs + 1,
		    sizeof(*e->argv))) != NULL) {
			for (i = 0; i < nargs; i++)
				e->argv[i] = (char *)(uintptr_t)
				    fut_handler_arg(ctx, i);
			e->path = prog;
			e->spawn_env = e->env;
		}
	}
	if (e->argv == NULL) {
		fut_handler_fail(ctx, "exec: out of memory");
		exec_spawned_cleanup(e);
		free(e->prog);
		exec_free(e);
		return (-1);
	}
	fut_handler_set_data(ctx, e);

	if (exec_spawn_nthreads == -1)
		exec_spawn_init(ctx, fut_handler_base(ctx));
	if (exec_spawn_nthreads == 0) {
		exec_spawn(e);
		if (e->spawn_error != 0) {
			/* Fail through start's return, not done(). */
			fut_handler_set_data(ctx, NULL);
			fut_handler_set_exit(ctx, 127, 0);
			fut_handler_fail(ctx, "exec: %s: %s", prog,
			    strerror(e->spawn_error));
			e->spawn_error = 0;
			exec_spawned_cleanup(e);
			free(e->prog);
			exec_free(e);
			return (-1);
		}
		exec_spawned(e);
		return (0);
	}
	e->spawning = 1;
	fut_handler_expect_child(ctx);
	pthread_mutex_lock(&exec_spawn_lock);
	TAILQ_INSERT_TAIL(&exec_spawn_todo, e, entry);
	pthread_cond_signal(&exec_spawn_cond);
	pthread_mutex_unlock(&exec_spawn_lock);
	return (0);
}

/* Queue a command until descriptors free up; -1 when out of memory. */
static int
exec_wait(struct fut_handler_ctx *ctx, int head)
{
	struct exec	*e;

	if ((e = exec_new(ctx)) == NULL) {
		fut_handler_fail(ctx, "exec: out of memory");
		return (-1);
	}
	e->waiting = 1;
	if (head)
		TAILQ_INSERT_HEAD(&exec_waiting, e, entry);
	else
		TAILQ_INSERT_TAIL(&exec_waiting, e, entry);
	fut_handler_set_data(ctx, e);
	return (0);
}

/* Out of descriptors with commands to start: say so once per wait. */
static void
exec_starving(struct fut_handler_ctx *ctx, int emfile)
{
	if (exec_starved)
		return;
	exec_starved = 1;
	if (emfile)
		fut_handler_log(ctx, FUT_LOG_WARN, "exec: out of descriptors "
		    "with %u commands running: the others wait their turn",
		    exec_nrunning);
	else
		fut_handler_log(ctx, FUT_LOG_INFO, "exec: the descriptors "
		    "allow %u commands at once: the others wait their turn",
		    exec_max);
}

static void
exec_wake_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fut_handler_ctx	*ctx;
	struct exec		*w;
	int			 rv;

	while ((w = TAILQ_FIRST(&exec_waiting)) != NULL &&
	    exec_nrunning < exec_max) {
		TAILQ_REMOVE(&exec_waiting, w, entry);
		ctx = w->ctx;
		fut_handler_set_data(ctx, NULL);
		rv = exec_launch(ctx);
		if (rv == 1) {
			/* Still none: first in line again, retried later. */
			TAILQ_INSERT_HEAD(&exec_waiting, w, entry);
			fut_handler_set_data(ctx, w);
			exec_starving(ctx, 1);
			exec_wake(EXEC_RETRY_MS);
			return;
		}
		free(w);
		if (rv == -1)
			fut_handler_done(ctx, -1);
	}
	if (TAILQ_EMPTY(&exec_waiting))
		exec_starved = 0;
}

/*
 * How many commands the descriptors allow at once: what the limit
 * leaves after a reserve, EXEC_FDS_PER_COMMAND each.
 */
static void
exec_size(struct fut_handler_ctx *ctx)
{
	struct rlimit	 rl;
	rlim_t		 n = 1024, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
	reserve = n / 2 < EXEC_FD_RESERVE ? n / 2 : EXEC_FD_RESERVE;
	n = (n - reserve) / EXEC_FDS_PER_COMMAND;
	if (n > 1000000)
		n = 1000000;
	exec_max = n > 0 ? (unsigned int)n : 1;
	fut_handler_set_limit(&handler_exec, exec_max);
	fut_handler_log(ctx, FUT_LOG_DEBUG, "exec: at most %u commands at once",
	    exec_max);
}

/* A command to run: refused at submit without one. */
static int
exec_check(struct fut_handler_ctx *ctx)
{
	/* Sized before any start, so that the daemon holds back them all. */
	if (exec_max == 0)
		exec_size(ctx);
	if (fut_handler_nargs(ctx) > 0)
		return (0);
	fut_handler_fail(ctx, "exec: no command given (want ARG...)");
	return (-1);
}

static int
exec_start(struct fut_handler_ctx *ctx)
{
	int	 rv;

	if (fut_handler_nargs(ctx) == 0) {
		fut_handler_fail(ctx, "exec: no command given");
		return (-1);
	}
	if (exec_max == 0)
		exec_size(ctx);
	if (exec_wake_ev == NULL) {
		exec_base = fut_handler_base(ctx);
		exec_wake_ev = evtimer_new(exec_base, exec_wake_cb, NULL);
	}
	/* Behind those already waiting: first come, first served. */
	if (!TAILQ_EMPTY(&exec_waiting) || exec_nrunning >= exec_max) {
		exec_starving(ctx, 0);
		return (exec_wait(ctx, 0));
	}
	if ((rv = exec_launch(ctx)) != 1)
		return (rv);
	exec_starving(ctx, 1);
	if (exec_wait(ctx, 0) == -1)
		return (-1);
	exec_wake(EXEC_RETRY_MS);
	return (0);
}

/* A waiting command cancelled: it ends at the next turn of the loop. */
static void
exec_wait_cancel_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec		*e = arg;
	struct fut_handler_ctx	*ctx = e->ctx;

	fut_handler_set_ended(ctx, "cancelled while waiting for descriptors");
	fut_handler_set_data(ctx, NULL);
	exec_free(e);
	fut_handler_done(ctx, -1);
}

static void
exec_kill_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec	*e = arg;

	fut_handler_log(e->ctx, FUT_LOG_INFO,
	    "still running after the grace, killing");
	e->killed = 1;
	killpg(e->pid, SIGKILL);
	(void)fut_handler_kill_all(e->ctx);
}

static void
exec_cancel(struct fut_handler_ctx *ctx)
{
	struct exec	*e = fut_handler_data(ctx);
	struct timeval	 tv;
	int64_t		 grace_ms = fut_handler_grace_ms(ctx);

	if (e == NULL || e->kill_ev != NULL)
		return;
	if (e->waiting) {
		/* done() is for later: cancel() must not call it. */
		TAILQ_REMOVE(&exec_waiting, e, entry);
		e->kill_ev = evtimer_new(exec_base, exec_wait_cancel_cb, e);
		tv.tv_sec = tv.tv_usec = 0;
		evtimer_add(e->kill_ev, &tv);
		return;
	}
	if (e->spawning) {
		/* No pid yet: exec_spawned() comes back here. */
		e->cancel_pending = 1;
		return;
	}
	if (grace_ms <= 0) {
		e->killed = 1;
		killpg(e->pid, SIGKILL);
		(void)fut_handler_kill_all(ctx);
		return;
	}
	killpg(e->pid, SIGTERM);
	e->kill_ev = evtimer_new(exec_base, exec_kill_cb, e);
	tv.tv_sec = grace_ms / 1000;
	tv.tv_usec = (grace_ms % 1000) * 1000;
	evtimer_add(e->kill_ev, &tv);
}

const struct fut_handler handler_exec = {
	.abi = FUT_HANDLER_ABI,
	.name = "exec",
	.description = "run ARGs as a command; payload to stdin, output = stdout",
	.kinds = FUT_HK_ASYNC | FUT_HK_BLOCKING | FUT_HK_CPU,
	.default_kind = FUT_HK_CPU,
	.flags = FUT_HF_LOOP | FUT_HF_SYSTEM_SAFE,
	.start = exec_start,
	.cancel = exec_cancel,
	.check = exec_check,
};
