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
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "log.h"
#include "xmalloc.h"

#define EXEC_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

struct exec {
	struct fut_handler_ctx	*ctx;
	pid_t			 pid;
	int			 in, out, err;	/* our pipe ends, -1: closed */
	size_t			 in_off;
	struct event		*in_ev, *out_ev, *err_ev;
	struct event		*kill_ev;	/* SIGKILL after the grace */
	int			 killed;	/* SIGKILL was sent */
};

static void	exec_read(struct exec *, int *, struct event **, int);

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

static void
exec_free(struct exec *e)
{
	exec_close(&e->in, &e->in_ev);
	exec_close(&e->out, &e->out_ev);
	exec_close(&e->err, &e->err_ev);
	if (e->kill_ev != NULL)
		event_free(e->kill_ev);
	free(e);
}

static void
exec_stdin_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec		*e = arg;
	struct fut_handler_ctx	*ctx = e->ctx;
	ssize_t			 n;

	n = write(e->in, ctx->payload + e->in_off, ctx->payload_len - e->in_off);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* EPIPE: the command does not read its stdin; fine. */
		exec_close(&e->in, &e->in_ev);
		return;
	}
	e->in_off += n;
	if (e->in_off == ctx->payload_len)
		exec_close(&e->in, &e->in_ev);
}

static void
exec_read(struct exec *e, int *fd, struct event **ev, int is_err)
{
	char	 buf[16384];
	ssize_t	 n;

	while (*fd != -1) {
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
			buf_append_tail(&e->ctx->errtail, buf, n);
		else
			buf_append(&e->ctx->output, buf, n);
	}
}

static void
exec_stdout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec	*e = arg;

	exec_read(e, &e->out, &e->out_ev, 0);
}

static void
exec_stderr_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec	*e = arg;

	exec_read(e, &e->err, &e->err_ev, 1);
}

static void
exec_reaped(pid_t pid, int status, void *arg)
{
	struct exec		*e = arg;
	struct fut_handler_ctx	*ctx = e->ctx;
	int			 ok = 0;

	if (fut_handler_cancelled(ctx)) {
		killpg(pid, SIGKILL);
		job_set_ended(ctx->job, e->killed ? "killed after the grace" :
		    "terminated");
	}
	exec_read(e, &e->out, &e->out_ev, 0);
	exec_read(e, &e->err, &e->err_ev, 1);
	if (WIFEXITED(status)) {
		ctx->exit_status = WEXITSTATUS(status);
		if (ctx->exit_status == 0)
			ok = 1;
		else
			fut_handler_fail(ctx, "exited with status %d",
			    ctx->exit_status);
	} else if (WIFSIGNALED(status)) {
		ctx->term_signal = WTERMSIG(status);
		fut_handler_fail(ctx, "killed by signal %d (%s)%s",
		    ctx->term_signal, strsignal(ctx->term_signal),
		    e->killed ? " after the grace" : "");
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
		return (xstrdup(file));
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
		xasprintf(&cand, "%.*s%s%s", (int)(q - p), p,
		    q == p ? "" : "/", file);
		if (access(cand, X_OK) == 0)
			return (cand);
		free(cand);
		if (*q == '\0')
			break;
	}
	return (NULL);
}

/* The command's environment: the job's, plus FUTURED_* entries. */
static char **
exec_environ(struct job *j)
{
	char	**env;
	size_t	  n = 0, i, k = 0;

	for (i = 0; j->envp != NULL && j->envp[i] != NULL; i++)
		n++;
	env = xcalloc(n + j->nctx + 4, sizeof(*env));
	for (i = 0; i < n; i++) {
		if (strncmp(j->envp[i], "FUTURED_", 8) == 0)
			continue;
		env[k++] = xstrdup(j->envp[i]);
	}
	if (n == 0)
		env[k++] = xstrdup("PATH=" EXEC_DEFAULT_PATH);
	xasprintf(&env[k++], "FUTURED_SOCKET=%s", settings.socket_path);
	xasprintf(&env[k++], "FUTURED_JOB_ID=%llu", (unsigned long long)j->id);
	for (i = 0; i < j->nctx; i++)
		xasprintf(&env[k++], "FUTURED_CTX_%s=%s", j->ctx[i].key,
		    j->ctx[i].value);
	env[k] = NULL;
	return (env);
}

static void
exec_free_environ(char **env)
{
	size_t	 i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
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
 * argv of the --exec-as trampoline (execas.c) for a --system daemon's
 * job of another user: uid, cwd, program, the environment, then the
 * command's own argv.  The strings are borrowed; free the array only.
 */
static char **
exec_as_argv(struct job *j, const char *prog, char **env, char *uidbuf,
    char *nbuf, size_t bufsize)
{
	char	**argv;
	size_t	  nenv = 0, i, k = 0;

	while (env[nenv] != NULL)
		nenv++;
	snprintf(uidbuf, bufsize, "%lu", (unsigned long)j->owner);
	snprintf(nbuf, bufsize, "%zu", nenv);
	argv = xcalloc(6 + nenv + j->nargs + 1, sizeof(*argv));
	argv[k++] = (char *)settings.self_exe;
	argv[k++] = (char *)"--exec-as";
	argv[k++] = uidbuf;
	argv[k++] = j->cwd != NULL ? j->cwd : (char *)"";
	argv[k++] = (char *)prog;
	argv[k++] = nbuf;
	for (i = 0; i < nenv; i++)
		argv[k++] = env[i];
	for (i = 0; i < j->nargs; i++)
		argv[k++] = j->args[i];
	argv[k] = NULL;
	return (argv);
}

static int
exec_start(struct fut_handler_ctx *ctx)
{
	struct job			*j = ctx->job;
	struct exec			*e;
	struct stat			 sb;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 all, none;
	int				 in[2], out[2], err[2], error;
	char				*prog, **env, **argv;
	char				*noenv[] = { NULL };
	char				 uidbuf[32], nbuf[32];
	size_t				 i;
	int				 as_user;

	if (ctx->nargs == 0) {
		fut_handler_fail(ctx, "exec: no command given");
		return (-1);
	}
	/* Someone else's job in a --system daemon: run it as them. */
	as_user = settings.system && j->owner != geteuid();
	/* as_user: the trampoline enters cwd with the user's rights. */
	if (!as_user && j->cwd != NULL &&
	    (stat(j->cwd, &sb) == -1 || !S_ISDIR(sb.st_mode))) {
		fut_handler_fail(ctx, "exec: working directory %s: %s", j->cwd,
		    errno != 0 ? strerror(errno) : "not a directory");
		return (-1);
	}
	if ((prog = exec_resolve(ctx->args[0], j->envp)) == NULL) {
		ctx->exit_status = 127;
		fut_handler_fail(ctx, "exec: %s: command not found",
		    ctx->args[0]);
		return (-1);
	}
	if (exec_pipe(in, 1) == -1) {
		fut_handler_fail(ctx, "exec: pipe: %s", strerror(errno));
		free(prog);
		return (-1);
	}
	if (exec_pipe(out, 0) == -1) {
		fut_handler_fail(ctx, "exec: pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		free(prog);
		return (-1);
	}
	if (exec_pipe(err, 0) == -1) {
		fut_handler_fail(ctx, "exec: pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		free(prog);
		return (-1);
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	/* Belt and braces: no daemon descriptor reaches a command. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
#endif
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP
	if (j->cwd != NULL && !as_user)
		posix_spawn_file_actions_addchdir_np(&fa, j->cwd);
#endif
	posix_spawnattr_init(&attr);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

	env = exec_environ(j);
	if (as_user)
		argv = exec_as_argv(j, prog, env, uidbuf, nbuf, sizeof(uidbuf));
	else {
		argv = xcalloc(ctx->nargs + 1, sizeof(*argv));
		for (i = 0; i < ctx->nargs; i++)
			argv[i] = ctx->args[i];
	}

	e = xcalloc(1, sizeof(*e));
	e->ctx = ctx;
	e->in = in[1];
	e->out = out[0];
	e->err = err[0];
	/* The trampoline is root until it drops: it gets no environment. */
	error = posix_spawn(&e->pid, as_user ? settings.self_exe : prog, &fa,
	    &attr, argv, as_user ? noenv : env);

	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(argv);
	exec_free_environ(env);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (error != 0) {
		ctx->exit_status = 127;
		fut_handler_fail(ctx, "exec: %s: %s", prog, strerror(error));
		free(prog);
		exec_free(e);
		return (-1);
	}
	log_debug("job %llu: exec %s, pid %ld", (unsigned long long)j->id,
	    prog, (long)e->pid);
	free(prog);

	child_watch(e->pid, exec_reaped, e);
	fut_handler_set_data(ctx, e);
	e->out_ev = event_new(base, e->out, EV_READ | EV_PERSIST,
	    exec_stdout_cb, e);
	event_add(e->out_ev, NULL);
	e->err_ev = event_new(base, e->err, EV_READ | EV_PERSIST,
	    exec_stderr_cb, e);
	event_add(e->err_ev, NULL);
	if (ctx->payload_len == 0)
		exec_close(&e->in, &e->in_ev);
	else {
		e->in_ev = event_new(base, e->in, EV_WRITE | EV_PERSIST,
		    exec_stdin_cb, e);
		event_add(e->in_ev, NULL);
	}
	return (0);
}

static void
exec_kill_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec	*e = arg;

	log_info("job %llu: still running after the grace, killing",
	    (unsigned long long)e->ctx->job_id);
	e->killed = 1;
	killpg(e->pid, SIGKILL);
}

static void
exec_cancel(struct fut_handler_ctx *ctx)
{
	struct exec	*e = fut_handler_data(ctx);
	struct timeval	 tv;

	if (e == NULL || e->kill_ev != NULL)
		return;
	if (ctx->grace_ms <= 0) {
		e->killed = 1;
		killpg(e->pid, SIGKILL);
		return;
	}
	killpg(e->pid, SIGTERM);
	e->kill_ev = evtimer_new(base, exec_kill_cb, e);
	tv.tv_sec = ctx->grace_ms / 1000;
	tv.tv_usec = (ctx->grace_ms % 1000) * 1000;
	evtimer_add(e->kill_ev, &tv);
}

const struct fut_handler handler_exec = {
	.abi = FUT_HANDLER_ABI,
	.name = "exec",
	.description = "run ARGs as a command; payload to stdin, output = stdout",
	.kinds = FUT_HK_ASYNC | FUT_HK_BLOCKING | FUT_HK_CPU,
	.default_kind = FUT_HK_ASYNC,
	.flags = FUT_HF_LOOP,
	.start = exec_start,
	.cancel = exec_cancel,
};
