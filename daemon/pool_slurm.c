/*
 * The Slurm engine: a job whose spec says engine slurm runs as a Slurm
 * batch job.  futured drives Slurm through its command-line tools,
 * found on the daemon's PATH, never libslurm (that would bind it to one
 * Slurm release, and to the GPL).
 *
 * DESIGN.  Jobs wait in this pool's own queue (pool.h's enqueue/next),
 * taking no slot of their kind: Slurm decides how many run.  start()
 * takes a job, which stays QUEUED (JOBF_POOLED) until Slurm says it
 * runs; launch() spawns one sbatch per job (posix_spawn, never fork),
 * whose stdout and stderr go to files, read when it is reaped.  Its job
 * id is then written in a second START of the attempt (engine_id), so
 * that a restarted daemon follows that Slurm job again (adopt) instead
 * of submitting the attempt twice.
 *
 * The attempt's files live in the shared directory (--slurm-dir):
 * ID.ATT.in (the payload, the command's stdin), ID.ATT.out and .err
 * (its output, read into the job when it ends), ID.ATT.rc (its exit
 * status, written by the batch script: Slurm keeps a job's exit code
 * only while it is listed, or with accounting).  The batch script is
 * the same for every job and runs the command given as its arguments.
 *
 * A job of another handler than exec runs as a one-shot (oneshot.c):
 * the command is the daemon's own executable (--run-once) or a worker
 * pool's, ID.ATT.task holds its Task and it writes its outcome to
 * ID.ATT.result, which says how the job ended; its stdout and stderr
 * are the job's stderr.
 *
 * Following.  One squeue call per interval covers every tracked job; it
 * is made only while jobs are tracked.  A job squeue lists as running
 * starts (RUNNING: its timeout counts from then); a job it lists as
 * ended, or no longer lists, ends with the status its rc file holds; one
 * that Slurm ended itself (CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY,
 * ...) fails with Slurm's word in `ended`.  A job that squeue no longer
 * knows and that left no rc file is lost: it fails, never succeeds.
 *
 * Cancel and timeout: scancel, and the job settles at once.
 *
 * Journal order and cost.  sbatch is spawned only once the attempt's
 * START is durable (journal_wait; at once without a journal): a daemon
 * killed before then replays the attempt as started without an id and
 * looks it up by name (adopt), finding none and submitting it once; a
 * daemon killed after it, or while sbatch runs, finds it by name.  A
 * new job's enqueue() moves the turn's journal flush behind the
 * scheduler's run (journal_flush_behind), so that its ACCEPT and START
 * go out in one write and one fsync, after which sbatch starts and the
 * submit is answered: one fsync before sbatch, none while it runs (the
 * START used to be synced a second time then, holding the loop when
 * sbatch ended), and one for the Slurm id when it answers.  The id shows
 * in the job's status only after that fsync.
 *
 * Dependencies.  A job whose after jobs are Slurm jobs on their last
 * attempt, with their ids, goes ahead (pool.h): it is queued here at
 * once, and sbatch gets --dependency=afterok on their ids.  sched.c
 * keeps its dependency waiter, so a parent that fails still cancels it
 * with futured's cause; until then, whatever end squeue reports of it
 * (Slurm's own cancel, kill_invalid_depend) waits for that word.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "futured.h"
#include "htab.h"
#include "log.h"
#include "pool.h"
#include "slurm_parse.h"
#include "xmalloc.h"

extern char	**environ;

#define SLURM_LOST_POLLS	2	/* unlisted this many times: gone */
#define SLURM_BACKOFF_MAX	4	/* intervals between quiet polls */
#define SLURM_READ_MAX		(64 * 1024 * 1024)

/* One attempt of one job, handed to Slurm. */
struct sjob {
	struct hnode		 node;		/* by Slurm job id, once known */
	struct job		*job;
	uint32_t		 attempt;
	uint64_t		 slurm_id;	/* 0: sbatch has not said */
	pid_t			 sbatch;	/* sbatch or lookup running, or 0 */
	int			 missing;	/* polls that did not list it */
	int			 asked;		/* in the running squeue */
	int			 cancelled;	/* scancel once it has an id */
	int			 lookup;	/* find it by name first */
	int			 durable;	/* waits for its START's fsync */
	struct journal_waiter	 jw;
	TAILQ_ENTRY(sjob)	 entry;
};
TAILQ_HEAD(sjobs, sjob);

static struct jobq	 pool_slurm_queue = TAILQ_HEAD_INITIALIZER(pool_slurm_queue);
static struct sjobs	 pool_slurm_ready = TAILQ_HEAD_INITIALIZER(pool_slurm_ready);
static struct sjobs	 pool_slurm_live = TAILQ_HEAD_INITIALIZER(pool_slurm_live);
static struct htab	 pool_slurm_ids;
static u_int		 pool_slurm_tracked;	/* with a Slurm id */
static u_int		 pool_slurm_busy;
static char		*pool_slurm_dir;
static char		*pool_slurm_script;
static struct event	*pool_slurm_timer;
static pid_t		 pool_slurm_squeue;	/* running, or 0 */
static uint64_t		 pool_slurm_polls;
/*
 * Intervals to the next poll: doubled after a poll in which nothing
 * changed (nor could squeue answer), back to 1 when something does or
 * a job is submitted.
 */
static u_int		 pool_slurm_backoff = 1;
static int		 pool_slurm_changed;
/* Job ids the replay handed over without a Slurm id (adopt). */
static uint64_t		*pool_slurm_adopted;
static size_t		 pool_slurm_nadopted;

static void	pool_slurm_poll_arm(void);
static void	pool_slurm_lookup(struct sjob *);
static int	pool_slurm_was_adopted(const struct job *);

static int
pool_slurm_ready_dir(char **cause)
{
	char		 path[PATH_MAX], *p;
	int		 fd;
	FILE		*f;

	if (pool_slurm_dir != NULL)
		return (0);
	if (settings.slurm_dir != NULL)
		snprintf(path, sizeof(path), "%s", settings.slurm_dir);
	else {
		if (settings.journal_path != NULL &&
		    strcmp(settings.journal_path, "none") != 0)
			snprintf(path, sizeof(path), "%s",
			    settings.journal_path);
		else if (journal_default_path(path, sizeof(path)) == -1) {
			xasprintf(cause, "no --slurm-dir and no state "
			    "directory to put it in");
			return (-1);
		}
		if ((p = strrchr(path, '/')) != NULL)
			*p = '\0';
		if (strlen(path) + sizeof("/slurm") > sizeof(path)) {
			xasprintf(cause, "state directory path too long");
			return (-1);
		}
		strcat(path, "/slurm");
	}
	if (strchr(path, '\'') != NULL || strchr(path, '\n') != NULL) {
		xasprintf(cause, "--slurm-dir %s: no quote or newline, please",
		    path);
		return (-1);
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		xasprintf(cause, "--slurm-dir %s: %s", path, strerror(errno));
		return (-1);
	}
	pool_slurm_dir = xstrdup(path);
	/*
	 * The batch script: IN, OUT_RC from the environment sbatch passes
	 * on (--export); the command is its arguments.
	 */
	xasprintf(&pool_slurm_script, "%s/futured-job.sh", pool_slurm_dir);
	if ((fd = open(pool_slurm_script, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0755)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		xasprintf(cause, "%s: %s", pool_slurm_script, strerror(errno));
		return (-1);
	}
	fprintf(f, "#!/bin/sh\n"
	    "# futured's batch script (futured(8), The Slurm engine)\n"
	    "\"$@\" <\"$FUTURED_SLURM_IN\"\n"
	    "rc=$?\n"
	    "echo $rc >\"$FUTURED_SLURM_RC.tmp\" && "
	    "mv -f \"$FUTURED_SLURM_RC.tmp\" \"$FUTURED_SLURM_RC\"\n"
	    "exit $rc\n");
	if (fclose(f) != 0) {
		xasprintf(cause, "%s: %s", pool_slurm_script, strerror(errno));
		return (-1);
	}
	return (0);
}

static void
pool_slurm_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	pool_slurm_poll_arm();
}

static int
pool_slurm_init(char **cause)
{
	if (htab_init(&pool_slurm_ids) == -1)
		fatal("%s: htab_init", __func__);
	if ((pool_slurm_timer = evtimer_new(base, pool_slurm_timer_cb,
	    NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	/* Made at the first Slurm job: most daemons never have one. */
	(void)cause;
	return (0);
}

/* Not exec: a one-shot of its handler (oneshot.c) runs on the node. */
static int
pool_slurm_oneshot(const struct job *j)
{
	return (strcmp(j->handler->name, "exec") != 0);
}

/* Under --system, a user's jobs are theirs: sbatch and scancel too. */
static int
pool_slurm_as_user(const struct job *j)
{
	return (settings.system && j->owner != 0);
}

/*
 * ID.ATT.SUFFIX in the shared directory; under --system, in the owner's
 * own directory there (uid-UID), which the command writes to as them.
 */
static void
pool_slurm_path(char *path, size_t len, const struct sjob *s,
    const char *suffix)
{
	if (pool_slurm_as_user(s->job))
		snprintf(path, len, "%s/uid-%lu/%llu.%u.%s", pool_slurm_dir,
		    (unsigned long)s->job->owner,
		    (unsigned long long)s->job->id, s->attempt, suffix);
	else
		snprintf(path, len, "%s/%llu.%u.%s", pool_slurm_dir,
		    (unsigned long long)s->job->id, s->attempt, suffix);
}

/* The owner's directory (see above), made theirs; -1 and *cause. */
static int
pool_slurm_user_dir(const struct job *j, char **cause)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/uid-%lu", pool_slurm_dir,
	    (unsigned long)j->owner);
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s: not a directory", path);
		return (-1);
	}
	if (st.st_uid != j->owner && chown(path, j->owner, (gid_t)-1) == -1) {
		xasprintf(cause, "%s: chown: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

/* prog looked up on the daemon's PATH, for --exec-as (it takes a path). */
static char *
pool_slurm_which(const char *prog)
{
	const char	*path = getenv("PATH"), *p, *e;
	char		*full;

	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *e == ':' ? e + 1 : e) {
		if ((e = strchr(p, ':')) == NULL)
			e = p + strlen(p);
		xasprintf(&full, "%.*s/%s", (int)(e - p), p, prog);
		if (e > p && access(full, X_OK) == 0)
			return (full);
		free(full);
	}
	return (NULL);
}

/* A whole (small) file, NUL-terminated; NULL if there is none. */
static char *
pool_slurm_slurp(const char *path, size_t *lenp)
{
	struct stat	 st;
	char		*data;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	/* The owner's directory under --system: no link of theirs. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (NULL);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > SLURM_READ_MAX) {
		close(fd);
		return (NULL);
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	data[got] = '\0';
	if (lenp != NULL)
		*lenp = got;
	return (data);
}

static void
pool_slurm_unlink(const struct sjob *s)
{
	static const char *const sfx[] = { "in", "out", "err", "rc",
	    "sbatch", "sbatch.err", "sacct", "lookup", "task", "result" };
	char		 path[PATH_MAX];
	size_t		 i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		pool_slurm_path(path, sizeof(path), s, sfx[i]);
		(void)unlink(path);
	}
}

/*
 * Spawn a Slurm tool with argv and envp (NULL: the daemon's), stdout
 * and stderr to files (NULL: /dev/null); watch it with cb.  -1 and
 * errno if it could not be spawned.
 */
static pid_t
pool_slurm_spawn(const struct job *as, char *const *argv, char *const *envp,
    const char *out, const char *err, void (*cb)(pid_t, int, void *),
    void *arg)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	sigset_t			 none;
	pid_t				 pid;
	int				 rv;
	char				*prog = NULL, **xargv = NULL;
	char				 uidbuf[32], nbuf[32];
	char *const			 noenv[] = { NULL };
	size_t				 nenv = 0, nargs = 0, k = 0, i;

	if (as != NULL && pool_slurm_as_user(as)) {
		/* execas.c: drop to the owner, then run the tool. */
		if ((prog = pool_slurm_which(argv[0])) == NULL) {
			errno = ENOENT;
			return (-1);
		}
		while (envp != NULL && envp[nenv] != NULL)
			nenv++;
		while (argv[nargs] != NULL)
			nargs++;
		snprintf(uidbuf, sizeof(uidbuf), "%lu",
		    (unsigned long)as->owner);
		snprintf(nbuf, sizeof(nbuf), "%zu", nenv);
		xargv = xcalloc(6 + nenv + nargs + 1, sizeof(*xargv));
		xargv[k++] = (char *)(uintptr_t)settings.self_exe;
		xargv[k++] = "--exec-as";
		xargv[k++] = uidbuf;
		xargv[k++] = "";
		xargv[k++] = prog;
		xargv[k++] = nbuf;
		for (i = 0; i < nenv; i++)
			xargv[k++] = envp[i];
		for (i = 0; i < nargs; i++)
			xargv[k++] = argv[i];
		xargv[k] = NULL;
		argv = xargv;
		envp = noenv;
	}

	/*
	 * The files are opened by root under --system, maybe in a user's
	 * directory: made afresh, never through a link of theirs.
	 */
	if (out != NULL)
		(void)unlink(out);
	if (err != NULL)
		(void)unlink(err);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out != NULL ? out :
	    "/dev/null", out != NULL ? O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW : O_WRONLY, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, err != NULL ? err :
	    "/dev/null", err != NULL ? O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW : O_WRONLY, 0644);
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigdefault(&sa, &none);
	child_expect();
	rv = posix_spawnp(&pid, argv[0], &fa, &sa, argv,
	    envp != NULL ? envp : environ);
	if (rv == 0)
		child_watch(pid, cb, arg);
	child_expect_done();
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	free(xargv);
	free(prog);
	if (rv != 0) {
		errno = rv;
		return (-1);
	}
	return (pid);
}

static void
pool_slurm_scancel_cb(pid_t pid, int status, void *arg)
{
	(void)pid;
	(void)arg;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_info("slurm: scancel (pid %ld) failed", (long)pid);
}

static void
pool_slurm_scancel(const struct job *j, uint64_t id)
{
	char		 idbuf[32], confbuf[PATH_MAX + 16];
	char		*argv[] = { "scancel", idbuf, NULL };
	char		*envp[] = { confbuf, NULL };
	const char	*conf;

	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)id);
	if ((conf = getenv("SLURM_CONF")) != NULL)
		snprintf(confbuf, sizeof(confbuf), "SLURM_CONF=%s", conf);
	else
		envp[0] = NULL;
	if (pool_slurm_spawn(j, argv, pool_slurm_as_user(j) ? envp : NULL,
	    NULL, NULL, pool_slurm_scancel_cb, NULL) == -1)
		log_warn("slurm: scancel %s", idbuf);
}

/* Let go of s (it is settled or about to be); frees it. */
static void
pool_slurm_drop(struct sjob *s)
{
	/* A tool still asking about it (sacct) is told nothing more. */
	if (s->sbatch != 0)
		child_unwatch(s->sbatch);
	if (s->durable)
		journal_unwait(&s->jw);
	TAILQ_REMOVE(&pool_slurm_live, s, entry);
	if (s->slurm_id != 0) {
		htab_remove(&pool_slurm_ids, &s->node);
		pool_slurm_tracked--;
	}
	s->job->flags &= ~JOBF_POOLED;
	pool_slurm_busy--;
	job_unref(s->job);
	free(s);
	/* A member of a group with a limit may go now. */
	sched_kick();
}

/* The attempt's output files into the job. */
static void
pool_slurm_output(struct sjob *s)
{
	char	 path[PATH_MAX], *data;
	size_t	 len;

	pool_slurm_path(path, sizeof(path), s, "out");
	if ((data = pool_slurm_slurp(path, &len)) != NULL) {
		if (job_output(s->job, 0, data, len) == -1)
			fatal("%s: job_output", __func__);
		free(data);
	}
	pool_slurm_path(path, sizeof(path), s, "err");
	if ((data = pool_slurm_slurp(path, &len)) != NULL) {
		if (job_output(s->job, 1, data, len) == -1)
			fatal("%s: job_output", __func__);
		free(data);
	}
}

/*
 * The Slurm job ended: how, in Slurm's word (NULL: unlisted).  The rc
 * file, if the script wrote it, is the command's exit status; else rc,
 * if Slurm's accounting said (-1: none).
 */
static void
pool_slurm_ended(struct sjob *s, const char *word, long rc)
{
	struct job	*j = s->job;
	char		 path[PATH_MAX], *rcs, *end, *result = NULL;
	const char	*by;
	uint64_t	 id = s->slurm_id;
	uint32_t	 attempt = s->attempt;
	size_t		 rlen = 0;

	if (pool_slurm_oneshot(j)) {
		pool_slurm_path(path, sizeof(path), s, "result");
		result = pool_slurm_slurp(path, &rlen);
	}
	pool_slurm_path(path, sizeof(path), s, "rc");
	if ((rcs = pool_slurm_slurp(path, NULL)) != NULL) {
		errno = 0;
		rc = strtol(rcs, &end, 10);
		if (errno != 0 || end == rcs || rc < 0 || rc > 255)
			rc = -1;
		free(rcs);
	} else if (rc < 0 || rc > 255)
		rc = -1;
	if (j->state != JOB_RUNNING)
		job_started(j);
	pool_slurm_output(s);
	pool_slurm_unlink(s);
	job_ref(j);
	pool_slurm_drop(s);
	if (word != NULL && (by = slurm_ended_by(word)) != NULL) {
		/* Slurm ended it: its word says how. */
		job_set_ended(j, by);
		if (rc >= 0)
			job_more(j)->exit_status = (int)rc;
		job_finish(j, JOB_FAILED, FERR_NONE, "Slurm job %llu: %s",
		    (unsigned long long)id, word);
	} else if (result != NULL) {
		/* A one-shot's outcome says how it went. */
		oneshot_apply(j, attempt, (uint8_t *)result, rlen);
	} else if (rc >= 0 && pool_slurm_oneshot(j)) {
		job_more(j)->exit_status = (int)rc;
		job_set_ended(j, "no outcome");
		job_finish(j, JOB_FAILED, FERR_NONE, "the one-shot exited with "
		    "status %ld and left no outcome (see its stderr)", rc);
	} else if (rc >= 0) {
		job_more(j)->exit_status = (int)rc;
		if (rc == 0)
			job_finish(j, JOB_SUCCEEDED, FERR_NONE, NULL);
		else
			job_finish(j, JOB_FAILED, FERR_NONE, "exit status %ld",
			    rc);
	} else {
		job_set_ended(j, "lost by Slurm");
		job_finish(j, JOB_FAILED, FERR_NONE, "lost by Slurm: job %llu "
		    "is %s and left no exit status",
		    (unsigned long long)id, word != NULL ? word :
		    "known to squeue no more");
	}
	free(result);
	job_unref(j);
}

static struct sjob *
pool_slurm_find(uint64_t id)
{
	struct hnode	*n;

	if ((n = htab_find(&pool_slurm_ids, id)) == NULL)
		return (NULL);
	return (HTAB_ENTRY(struct sjob, node, n));
}

/* s has its Slurm id: track it, and poll. */
static void
pool_slurm_track(struct sjob *s, uint64_t id)
{
	s->slurm_id = id;
	htab_insert(&pool_slurm_ids, &s->node, id);
	pool_slurm_tracked++;
	pool_slurm_backoff = 1;
	pool_slurm_poll_arm();
	/* Its dependents may be submitted now, with afterok on it. */
	sched_deps_ahead(s->job);
}

static void
pool_slurm_sbatch_cb(pid_t pid, int status, void *arg)
{
	struct sjob	*s = arg;
	struct job	*j = s->job;
	struct job_more	*m;
	char		 path[PATH_MAX], *out, *nl;
	unsigned long long id = 0;

	s->sbatch = 0;
	pool_slurm_path(path, sizeof(path), s, "sbatch");
	out = pool_slurm_slurp(path, NULL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && out != NULL &&
	    sscanf(out, "%llu", &id) == 1 && id != 0) {
		free(out);
		if (s->cancelled) {
			/* Cancelled while sbatch ran: settled already. */
			pool_slurm_scancel(j, id);
			pool_slurm_unlink(s);
			TAILQ_REMOVE(&pool_slurm_live, s, entry);
			pool_slurm_busy--;
			job_unref(j);
			free(s);
			return;
		}
		m = job_more(j);
		free(m->engine_id);
		xasprintf(&m->engine_id, "%llu", id);
		m->engine_attempt = s->attempt;
		/* START again, naming the Slurm job (see above). */
		journal_process(j);
		pool_slurm_track(s, id);
		log_debug("job %llu: Slurm job %llu", (unsigned long long)j->id,
		    id);
		return;
	}
	free(out);
	pool_slurm_path(path, sizeof(path), s, "sbatch.err");
	out = pool_slurm_slurp(path, NULL);
	if (out != NULL && (nl = strchr(out, '\n')) != NULL)
		*nl = '\0';
	if (s->cancelled) {
		pool_slurm_unlink(s);
		TAILQ_REMOVE(&pool_slurm_live, s, entry);
		pool_slurm_busy--;
		job_unref(j);
		free(s);
		free(out);
		return;
	}
	pool_slurm_unlink(s);
	job_ref(j);
	pool_slurm_drop(s);
	job_set_ended(j, "sbatch failed");
	if (WIFEXITED(status))
		job_finish(j, JOB_FAILED, FERR_NONE, "sbatch failed (exit "
		    "status %d): %s", WEXITSTATUS(status),
		    out != NULL && *out != '\0' ? out : "no message");
	else
		job_finish(j, JOB_FAILED, FERR_NONE, "sbatch killed by "
		    "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	job_unref(j);
	free(out);
	(void)pid;
}

struct strv {
	char	**v;
	size_t	  n, cap;
};

static void
strv_add(struct strv *sv, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
strv_add(struct strv *sv, const char *fmt, ...)
{
	va_list	 ap;

	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 32;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
	}
	va_start(ap, fmt);
	xvasprintf(&sv->v[sv->n++], fmt, ap);
	va_end(ap);
	sv->v[sv->n] = NULL;
}

static void
strv_free(struct strv *sv)
{
	size_t	 i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
}

/*
 * The Slurm job id j may wait for with afterok: d's, if d is a Slurm
 * job of j's owner whose attempt now has its id and is its last.  A
 * retry would be another Slurm job, and Slurm, seeing the attempt fail,
 * cancels j (kill_invalid_depend) before futured could point it at the
 * new one: so a job with retries left is waited for by futured.
 */
static const char *
pool_slurm_dep_id(const struct job *d, const struct job *j)
{
	if (d->spec->engine != JOB_ENGINE_SLURM || d->owner != j->owner ||
	    d->more->pool != &pool_slurm_ops || d->more->engine_id == NULL ||
	    d->more->engine_attempt != d->more->attempts ||
	    d->more->attempts <= d->spec->retries ||
	    (d->flags & JOBF_CANCELLING))
		return (NULL);
	return (d->more->engine_id);
}

/*
 * j went ahead of its dependencies (pool_slurm_ahead): --dependency=
 * afterok on those not final yet.  -1 and *cause if one cannot be.
 */
static int
pool_slurm_afterok(const struct job *j, struct strv *av, char **cause)
{
	const struct job	*d;
	const char		*id;
	char			*dep = NULL, *t;
	size_t			 i;

	for (i = 0; i < j->spec->nafter; i++) {
		if ((d = sched_find(j->spec->after[i])) == NULL ||
		    d->state == JOB_SUCCEEDED)
			continue;
		if (JOB_FINAL(d->state) || (id = pool_slurm_dep_id(d, j)) ==
		    NULL) {
			xasprintf(cause, "dependency %llu has no Slurm job to "
			    "wait for", (unsigned long long)d->id);
			free(dep);
			return (-1);
		}
		xasprintf(&t, "%s:%s", dep != NULL ? dep : "afterok", id);
		free(dep);
		dep = t;
	}
	if (dep != NULL) {
		strv_add(av, "--dependency=%s", dep);
		free(dep);
	}
	return (0);
}

/* sbatch for s; on failure the job fails now. */
static void
pool_slurm_submit(struct sjob *s)
{
	struct job		*j = s->job;
	const struct job_spec	*js = j->spec;
	struct strv		 av = { NULL, 0, 0 }, ev = { NULL, 0, 0 };
	char			 in[PATH_MAX], path[PATH_MAX], err[PATH_MAX];
	struct oneshot_cmd	 oc = { NULL, NULL, NULL };
	char *const		*cmd = js->args, *const *envp = js->envp;
	const char		*conf;
	char			*cause = NULL;
	size_t			 i, ncmd = js->nargs;
	int			 fd, nice;

	if (pool_slurm_ready_dir(&cause) == -1 ||
	    (pool_slurm_as_user(j) && pool_slurm_user_dir(j, &cause) == -1))
		goto fail;
	/* A fresh attempt: nothing of an earlier one's, nor a user's link. */
	pool_slurm_unlink(s);
	if (pool_slurm_oneshot(j)) {
		/* The payload travels in the Task. */
		pool_slurm_path(path, sizeof(path), s, "task");
		if (oneshot_command(j, &oc, &cause) == -1 ||
		    oneshot_write_task(j, s->attempt, path, &cause) == -1)
			goto fail;
		for (ncmd = 0; oc.argv[ncmd] != NULL; ncmd++)
			;
		cmd = oc.argv;
		if (oc.env != NULL)
			envp = oc.env;
		snprintf(in, sizeof(in), "/dev/null");
	} else if (j->payload_len > 0) {
		pool_slurm_path(in, sizeof(in), s, "in");
		/* Afresh, not through a link (see pool_slurm_spawn). */
		(void)unlink(in);
		if ((fd = open(in, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644)) == -1 || write(fd, j->payload,
		    j->payload_len) != (ssize_t)j->payload_len) {
			xasprintf(&cause, "%s: %s", in, strerror(errno));
			if (fd != -1)
				close(fd);
			goto fail;
		}
		close(fd);
	} else
		snprintf(in, sizeof(in), "/dev/null");

	strv_add(&av, "sbatch");
	strv_add(&av, "--parsable");
	strv_add(&av, "--job-name=futured-%llu", (unsigned long long)j->id);
	strv_add(&av, "--comment=futured job %llu attempt %u",
	    (unsigned long long)j->id, s->attempt);
	/* A one-shot's outcome is its result: its stdout is stderr. */
	pool_slurm_path(path, sizeof(path), s, oc.argv != NULL ? "err" : "out");
	strv_add(&av, "--output=%s", path);
	pool_slurm_path(path, sizeof(path), s, "err");
	strv_add(&av, "--error=%s", path);
	strv_add(&av, "--export=ALL");
	if (oc.cwd != NULL)
		strv_add(&av, "--chdir=%s", oc.cwd);
	else if (js->cwd != NULL)
		strv_add(&av, "--chdir=%s", js->cwd);
	else
		strv_add(&av, "--chdir=%s", pool_slurm_dir);
	if (js->timeout_ms > 0) {
		/* A backstop: futured's own timer is the exact one. */
		strv_add(&av, "--time=%lld",
		    slurm_time_minutes(js->timeout_ms));
	}
	if (slurm_nice(j->priority, settings.slurm_nice_base,
	    !pool_slurm_as_user(j) && geteuid() == 0, &nice))
		strv_add(&av, "--nice=%d", nice);
	if (j->more->deps != NULL && pool_slurm_afterok(j, &av, &cause) == -1) {
		strv_free(&av);
		goto fail;
	}
	if (settings.slurm_partition != NULL)
		strv_add(&av, "--partition=%s", settings.slurm_partition);
	if (settings.slurm_account != NULL)
		strv_add(&av, "--account=%s", settings.slurm_account);
	for (i = 0; i < settings.slurm_noptions; i++)
		strv_add(&av, "%s", settings.slurm_options[i]);
	strv_add(&av, "%s", pool_slurm_script);
	for (i = 0; i < ncmd; i++)
		strv_add(&av, "%s", cmd[i]);

	/* The job's environment is sbatch's: --export=ALL passes it on. */
	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		if ((strncmp(envp[i], "FUTURED_", 8) != 0 || envp == oc.env) &&
		    strncmp(envp[i], "SLURM_", 6) != 0)
			strv_add(&ev, "%s", envp[i]);
	}
	if (envp == NULL)
		strv_add(&ev, "PATH=/usr/local/bin:/usr/bin:/bin");
	if (oc.argv != NULL) {
		pool_slurm_path(path, sizeof(path), s, "task");
		strv_add(&ev, "FUTURED_ONESHOT=%s", path);
		pool_slurm_path(path, sizeof(path), s, "result");
		strv_add(&ev, "FUTURED_ONESHOT_RESULT=%s", path);
	}
	if ((conf = getenv("SLURM_CONF")) != NULL)
		strv_add(&ev, "SLURM_CONF=%s", conf);
	strv_add(&ev, "FUTURED_JOB_ID=%llu", (unsigned long long)j->id);
	strv_add(&ev, "FUTURED_SLURM_IN=%s", in);
	pool_slurm_path(path, sizeof(path), s, "rc");
	strv_add(&ev, "FUTURED_SLURM_RC=%s", path);
	for (i = 0; i < js->nctx; i++)
		strv_add(&ev, "FUTURED_CTX_%s=%s", js->ctx[i].key,
		    js->ctx[i].value);

	pool_slurm_path(path, sizeof(path), s, "sbatch");
	pool_slurm_path(err, sizeof(err), s, "sbatch.err");
	/* posix_spawnp() looks sbatch up on the daemon's PATH. */
	if ((s->sbatch = pool_slurm_spawn(j, av.v, ev.v, path, err,
	    pool_slurm_sbatch_cb, s)) == -1) {
		xasprintf(&cause, "sbatch: %s", strerror(errno));
		s->sbatch = 0;
		strv_free(&av);
		strv_free(&ev);
		goto fail;
	}
	strv_free(&av);
	strv_free(&ev);
	oneshot_cmd_free(&oc);
	return;
fail:
	oneshot_cmd_free(&oc);
	pool_slurm_unlink(s);
	job_ref(j);
	pool_slurm_drop(s);
	job_set_ended(j, "not submitted to Slurm");
	job_finish(j, JOB_FAILED, FERR_NONE, "%s", cause);
	job_unref(j);
	free(cause);
}

/*
 * The Slurm job of s's attempt, by its name and comment: tracked if
 * there is one; settled from its files if Slurm forgot it but it left
 * an exit status; else submitted now.
 */
static void
pool_slurm_lookup_cb(pid_t pid, int status, void *arg)
{
	struct sjob	*s = arg;
	struct job	*j = s->job;
	struct job_more	*m;
	char		 path[PATH_MAX], want[96], *out, *line, *save;
	uint64_t	 id, found = 0;

	(void)pid;
	s->sbatch = 0;
	snprintf(want, sizeof(want), "futured job %llu attempt %u",
	    (unsigned long long)j->id, s->attempt);
	pool_slurm_path(path, sizeof(path), s, "lookup");
	out = pool_slurm_slurp(path, NULL);
	(void)unlink(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out == NULL) {
		free(out);
		if (s->cancelled)
			goto cancelled;
		/* Not knowing is not a reason to submit twice. */
		job_ref(j);
		pool_slurm_drop(s);
		job_set_ended(j, "lost by Slurm");
		job_finish(j, JOB_FAILED, FERR_NONE, "lost by Slurm: squeue "
		    "failed looking for the job of attempt %u", s->attempt);
		job_unref(j);
		return;
	}
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (slurm_lookup_line(line, want, &id) == 0)
			found = id;
	}
	free(out);
	if (s->cancelled) {
		if (found != 0)
			pool_slurm_scancel(j, found);
		goto cancelled;
	}
	if (found != 0) {
		m = job_more(j);
		free(m->engine_id);
		xasprintf(&m->engine_id, "%llu", (unsigned long long)found);
		m->engine_attempt = s->attempt;
		journal_process(j);
		log_info("job %llu: found Slurm job %llu by name",
		    (unsigned long long)j->id, (unsigned long long)found);
		pool_slurm_track(s, found);
		return;
	}
	pool_slurm_path(path, sizeof(path), s, "rc");
	if (access(path, F_OK) == 0) {
		pool_slurm_ended(s, NULL, -1);
		return;
	}
	pool_slurm_submit(s);
	return;
cancelled:
	pool_slurm_unlink(s);
	TAILQ_REMOVE(&pool_slurm_live, s, entry);
	pool_slurm_busy--;
	job_unref(j);
	free(s);
}

static void
pool_slurm_lookup(struct sjob *s)
{
	struct strv	 av = { NULL, 0, 0 };
	char		 path[PATH_MAX], *cause = NULL;
	struct job	*j = s->job;

	if (pool_slurm_ready_dir(&cause) == -1) {
		free(cause);
		pool_slurm_submit(s);	/* which fails, saying why */
		return;
	}
	strv_add(&av, "squeue");
	strv_add(&av, "--noheader");
	strv_add(&av, "--all");
	strv_add(&av, "--states=all");
	strv_add(&av, "--format=%%i %%k");
	strv_add(&av, "--name=futured-%llu", (unsigned long long)j->id);
	pool_slurm_path(path, sizeof(path), s, "lookup");
	if ((s->sbatch = pool_slurm_spawn(NULL, av.v, NULL, path, NULL,
	    pool_slurm_lookup_cb, s)) == -1) {
		log_warn("slurm: squeue");
		s->sbatch = 0;
		strv_free(&av);
		pool_slurm_submit(s);
		return;
	}
	strv_free(&av);
}

/*
 * sacct's word on a job squeue forgot: "STATE|EXIT:SIGNAL".  No word
 * (no accounting, or it does not know the job either): lost.
 */
static void
pool_slurm_sacct_cb(pid_t pid, int status, void *arg)
{
	struct sjob	*s = arg;
	char		 path[PATH_MAX], *out, *word;
	long		 rc;

	(void)pid;
	s->sbatch = 0;
	pool_slurm_path(path, sizeof(path), s, "sacct");
	out = pool_slurm_slurp(path, NULL);
	(void)unlink(path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && out != NULL &&
	    slurm_sacct_line(out, &word, &rc) == 0) {
		pool_slurm_ended(s, word, rc);
		free(out);
		return;
	}
	free(out);
	pool_slurm_ended(s, NULL, -1);
}

/*
 * squeue no longer lists s: its exit status, if it left one; else ask
 * sacct, which knows what accounting kept.
 */
static void
pool_slurm_gone(struct sjob *s)
{
	struct strv	 av = { NULL, 0, 0 };
	char		 path[PATH_MAX];

	pool_slurm_path(path, sizeof(path), s, "rc");
	if (access(path, F_OK) == 0) {
		pool_slurm_ended(s, NULL, -1);
		return;
	}
	strv_add(&av, "sacct");
	strv_add(&av, "--noheader");
	strv_add(&av, "--allocations");
	strv_add(&av, "--parsable2");
	strv_add(&av, "--format=State,ExitCode");
	strv_add(&av, "--jobs=%llu", (unsigned long long)s->slurm_id);
	pool_slurm_path(path, sizeof(path), s, "sacct");
	if ((s->sbatch = pool_slurm_spawn(NULL, av.v, NULL, path, NULL,
	    pool_slurm_sacct_cb, s)) == -1) {
		s->sbatch = 0;
		strv_free(&av);
		pool_slurm_ended(s, NULL, -1);
		return;
	}
	strv_free(&av);
}

static void
pool_slurm_poll_done(int changed)
{
	if (changed)
		pool_slurm_backoff = 1;
	else if (pool_slurm_backoff < SLURM_BACKOFF_MAX)
		pool_slurm_backoff *= 2;
	pool_slurm_poll_arm();
}

/* Poll: one squeue for every tracked job. */
static void
pool_slurm_squeue_cb(pid_t pid, int status, void *arg)
{
	struct sjob	*s;
	char		 path[PATH_MAX], *out, *line, *save, state[64];
	uint64_t	 id, *gone;
	size_t		 n, i;

	(void)arg;
	pool_slurm_squeue = 0;
	snprintf(path, sizeof(path), "%s/squeue.out", pool_slurm_dir);
	out = pool_slurm_slurp(path, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out == NULL) {
		/* The controller may be away a while: try again later. */
		log_info("slurm: squeue (pid %ld) failed", (long)pid);
		free(out);
		pool_slurm_poll_done(0);
		return;
	}
	pool_slurm_changed = 0;
	/*
	 * Only a job the call named can be missing from its answer: one
	 * that got its id while it ran (or whose sbatch still runs) is
	 * named by the next.
	 */
	TAILQ_FOREACH(s, &pool_slurm_live, entry) {
		if (s->asked) {
			s->asked = 0;
			s->missing++;
		}
	}
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (slurm_squeue_line(line, &id, state, sizeof(state)) == -1 ||
		    (s = pool_slurm_find(id)) == NULL)
			continue;
		s->missing = 0;
		switch (slurm_phase(state)) {
		case SLURM_PENDING:
			continue;
		case SLURM_RUNNING:
			if (s->job->state != JOB_RUNNING) {
				s->job->flags &= ~JOBF_POOLED;
				job_started(s->job);
				pool_slurm_changed = 1;
			}
			continue;
		case SLURM_ENDED:
			break;
		}
		/*
		 * Slurm cancels a job whose afterok failed; futured's word
		 * on the dependency (sched.c) stands, and comes with the
		 * parent's end, which this poll or the next one brings.
		 */
		if (s->job->more->deps != NULL)
			continue;
		pool_slurm_ended(s, state, -1);
		pool_slurm_changed = 1;
	}
	free(out);
	/*
	 * The ones no longer listed, by id: settling one may cancel others
	 * (its group), which leave the list under us.
	 */
	n = 0;
	TAILQ_FOREACH(s, &pool_slurm_live, entry) {
		if (s->slurm_id != 0 && s->missing >= SLURM_LOST_POLLS &&
		    s->sbatch == 0)
			n++;
	}
	if (n > 0) {
		gone = xcalloc(n, sizeof(*gone));
		n = 0;
		TAILQ_FOREACH(s, &pool_slurm_live, entry) {
			if (s->slurm_id != 0 && s->missing >= SLURM_LOST_POLLS &&
			    s->sbatch == 0)
				gone[n++] = s->slurm_id;
		}
		for (i = 0; i < n; i++) {
			if ((s = pool_slurm_find(gone[i])) != NULL)
				pool_slurm_gone(s);
		}
		free(gone);
		pool_slurm_changed = 1;
	}
	pool_slurm_poll_done(pool_slurm_changed);
}

static void
pool_slurm_poll(void)
{
	struct sjob	*s;
	struct strv	 av = { NULL, 0, 0 };
	char		 path[PATH_MAX], *ids = NULL, *t;

	TAILQ_FOREACH(s, &pool_slurm_live, entry) {
		if (s->slurm_id == 0)
			continue;
		s->asked = 1;
		if (ids == NULL)
			xasprintf(&ids, "%llu", (unsigned long long)s->slurm_id);
		else {
			xasprintf(&t, "%s,%llu", ids,
			    (unsigned long long)s->slurm_id);
			free(ids);
			ids = t;
		}
	}
	if (ids == NULL)
		return;
	/*
	 * squeue given one id fails once Slurm forgot it; given a list it
	 * lists those it knows.  So one id goes twice.
	 */
	if (strchr(ids, ',') == NULL) {
		xasprintf(&t, "%s,%s", ids, ids);
		free(ids);
		ids = t;
	}
	strv_add(&av, "squeue");
	strv_add(&av, "--noheader");
	strv_add(&av, "--all");
	strv_add(&av, "--states=all");
	strv_add(&av, "--format=%%i %%T");
	strv_add(&av, "--jobs=%s", ids);
	free(ids);
	snprintf(path, sizeof(path), "%s/squeue.out", pool_slurm_dir);
	pool_slurm_polls++;
	if ((pool_slurm_squeue = pool_slurm_spawn(NULL, av.v, NULL, path, NULL,
	    pool_slurm_squeue_cb, NULL)) == -1) {
		log_warn("slurm: squeue");
		pool_slurm_squeue = 0;
	}
	strv_free(&av);
}

/*
 * Poll now if it is time, else arm the timer; nothing while no job is
 * tracked or a squeue runs.
 */
static void
pool_slurm_poll_arm(void)
{
	static int64_t	 last;
	int64_t		 now, due;

	if (pool_slurm_tracked == 0 || pool_slurm_squeue != 0 ||
	    pool_slurm_timer == NULL)
		return;
	now = job_mono_ms();
	due = last + settings.slurm_interval_ms * pool_slurm_backoff;
	if (now >= due) {
		evtimer_del(pool_slurm_timer);
		last = now;
		pool_slurm_poll();
		return;
	}
	/* Added again, a pending timer moves to the new time. */
	timer_add_ms(pool_slurm_timer, due - now);
}

static void
pool_slurm_enqueue(struct job *j)
{
	TAILQ_INSERT_TAIL(&pool_slurm_queue, j, entry);
	/*
	 * A new job's ACCEPT is appended, its flush active: the round
	 * that starts the job runs first, so that its START goes into the
	 * same write and fsync (launch()).
	 */
	sched_kick();
	journal_flush_behind();
}

static void
pool_slurm_dequeue(struct job *j)
{
	TAILQ_REMOVE(&pool_slurm_queue, j, entry);
}

/*
 * May j go to Slurm under its group's limit?  The group counts its
 * RUNNING members; those handed to Slurm and pending there count too,
 * or every member would be submitted at once.
 */
static int
pool_slurm_group_room(const struct job *j)
{
	const struct jobgroup	*g = j->more->grp;
	const struct sjob	*s;
	u_int			 n;

	if (g == NULL || g->parallel == 0)
		return (1);
	n = g->running;
	TAILQ_FOREACH(s, &pool_slurm_live, entry) {
		if (s->job->more->grp == g && s->job->state != JOB_RUNNING &&
		    !JOB_FINAL(s->job->state))
			n++;
	}
	TAILQ_FOREACH(s, &pool_slurm_ready, entry) {
		if (s->job->more->grp == g)
			n++;
	}
	return (n < g->parallel);
}

/* The first queued job that may go now, dequeued. */
static struct job *
pool_slurm_next(void)
{
	struct job	*j;

	TAILQ_FOREACH(j, &pool_slurm_queue, entry) {
		/* Its command is not known yet (after a restart). */
		if (pool_slurm_oneshot(j) && oneshot_waits(j))
			continue;
		if (pool_slurm_group_room(j)) {
			TAILQ_REMOVE(&pool_slurm_queue, j, entry);
			return (j);
		}
	}
	return (NULL);
}

static void
pool_slurm_start(struct job *j)
{
	struct sjob	*s;
	uint64_t	 id;
	char		*end, *cause = NULL;

	s = xcalloc(1, sizeof(*s));
	s->job = j;
	job_ref(j);
	s->attempt = j->more->attempts;
	j->flags |= JOBF_POOLED;
	pool_slurm_busy++;
	TAILQ_INSERT_TAIL(&pool_slurm_live, s, entry);
	/* Adopted at the replay: Slurm has this attempt already. */
	if (j->more->engine_id != NULL &&
	    j->more->engine_attempt == j->more->attempts) {
		errno = 0;
		id = strtoull(j->more->engine_id, &end, 10);
		if (errno == 0 && *end == '\0' && id != 0 &&
		    pool_slurm_ready_dir(&cause) == 0) {
			pool_slurm_track(s, id);
			return;
		}
		/* submit() says why it cannot either. */
		free(cause);
	}
	if (pool_slurm_was_adopted(j))
		s->lookup = 1;
	TAILQ_REMOVE(&pool_slurm_live, s, entry);
	TAILQ_INSERT_TAIL(&pool_slurm_ready, s, entry);
}

/*
 * The attempt's START is durable (or the journal failed, and the daemon
 * runs on without it, as for every pool): sbatch now.
 */
static void
pool_slurm_durable_cb(struct journal_waiter *w, const char *error)
{
	struct sjob	*s = w->arg;

	(void)error;
	s->durable = 0;
	pool_slurm_submit(s);
}

static void
pool_slurm_launch(void)
{
	struct sjob	*s;

	while ((s = TAILQ_FIRST(&pool_slurm_ready)) != NULL) {
		TAILQ_REMOVE(&pool_slurm_ready, s, entry);
		TAILQ_INSERT_TAIL(&pool_slurm_live, s, entry);
		if (s->lookup)
			pool_slurm_lookup(s);
		else if (journal_enabled()) {
			/* sbatch once the START is on disk (see above). */
			s->durable = 1;
			journal_wait(&s->jw, pool_slurm_durable_cb, s);
		} else
			pool_slurm_submit(s);
	}
}

static struct sjob *
pool_slurm_of(const struct job *j, struct sjobs **listp)
{
	struct sjob	*s;

	TAILQ_FOREACH(s, &pool_slurm_live, entry) {
		if (s->job == j) {
			*listp = &pool_slurm_live;
			return (s);
		}
	}
	TAILQ_FOREACH(s, &pool_slurm_ready, entry) {
		if (s->job == j) {
			*listp = &pool_slurm_ready;
			return (s);
		}
	}
	return (NULL);
}

/* Cancel or timeout: scancel, and the job settles now. */
static void
pool_slurm_cancel(struct job *j, int64_t grace_ms)
{
	struct sjobs	*list;
	struct sjob	*s;

	(void)grace_ms;
	if ((s = pool_slurm_of(j, &list)) == NULL)
		return;
	if (list == &pool_slurm_ready || s->durable) {
		if (list == &pool_slurm_ready) {
			TAILQ_REMOVE(&pool_slurm_ready, s, entry);
			TAILQ_INSERT_TAIL(&pool_slurm_live, s, entry);
		}
		/* drop() stops the wait for the fsync too. */
		job_set_ended(j, "cancelled before it was submitted");
	} else if (s->slurm_id == 0) {
		/* sbatch runs: its callback scancels what it made. */
		s->cancelled = 1;
		j->flags &= ~JOBF_POOLED;
		job_set_ended(j, "scancel sent");
		job_finish(j, JOB_CANCELLED, FERR_NONE, NULL);
		return;
	} else {
		pool_slurm_scancel(j, s->slurm_id);
		job_set_ended(j, "scancel sent");
	}
	job_ref(j);
	pool_slurm_drop(s);
	job_finish(j, JOB_CANCELLED, FERR_NONE, NULL);
	job_unref(j);
}

/*
 * The replay found j running: follow its Slurm job (start()).  Without
 * its id (the daemon died while sbatch ran), start() looks for it by
 * name and comment first, and submits only if Slurm has no such job.
 */
static int
pool_slurm_adopt(struct job *j)
{
	if (j->more->engine_id != NULL &&
	    j->more->engine_attempt == j->more->attempts)
		return (1);
	pool_slurm_adopted = xreallocarray(pool_slurm_adopted,
	    pool_slurm_nadopted + 1, sizeof(*pool_slurm_adopted));
	pool_slurm_adopted[pool_slurm_nadopted++] = j->id;
	return (1);
}

/* Was j handed over by the replay without its id?  Forgets it. */
static int
pool_slurm_was_adopted(const struct job *j)
{
	size_t	 i;

	for (i = 0; i < pool_slurm_nadopted; i++) {
		if (pool_slurm_adopted[i] == j->id) {
			pool_slurm_adopted[i] =
			    pool_slurm_adopted[--pool_slurm_nadopted];
			return (1);
		}
	}
	return (0);
}

/*
 * May j, which waits for the jobs it runs after, go to Slurm now, with
 * afterok on theirs (pool_slurm_dep_id)?  Slurm then starts it as soon
 * as they end well, with no poll in between.  One that Slurm has from
 * before a restart goes ahead again, as it went.  Not with input_from:
 * its payload is another job's output, known only at its end.
 */
static int
pool_slurm_ahead(const struct job *j)
{
	const struct job	*d;
	size_t			 i;

	if (j->spec->input_from != 0)
		return (0);
	if (j->more->engine_id != NULL &&
	    j->more->engine_attempt == j->more->attempts + 1)
		return (1);
	for (i = 0; i < j->spec->nafter; i++) {
		/* Gone from the table (a replay): it had succeeded. */
		if ((d = sched_find(j->spec->after[i])) == NULL ||
		    d->state == JOB_SUCCEEDED)
			continue;
		if (JOB_FINAL(d->state) || pool_slurm_dep_id(d, j) == NULL)
			return (0);
	}
	return (j->spec->nafter > 0);
}

/*
 * At exit: the journal keeps the tracked jobs running, and the next
 * daemon follows them again; they are settled for their waiters only.
 */
static void
pool_slurm_shutdown(void)
{
	struct sjob	*s;
	struct job	*j;

	while ((s = TAILQ_FIRST(&pool_slurm_ready)) != NULL) {
		TAILQ_REMOVE(&pool_slurm_ready, s, entry);
		TAILQ_INSERT_TAIL(&pool_slurm_live, s, entry);
	}
	while ((s = TAILQ_FIRST(&pool_slurm_live)) != NULL) {
		j = s->job;
		job_ref(j);
		pool_slurm_drop(s);
		job_finish_unrecorded(j, JOB_FAILED, FERR_SHUTTING_DOWN,
		    "daemon shutting down");
		job_unref(j);
	}
	if (pool_slurm_squeue != 0)
		child_unwatch(pool_slurm_squeue);
	if (pool_slurm_timer != NULL)
		event_free(pool_slurm_timer);
	pool_slurm_timer = NULL;
	if (pool_slurm_ids.b != NULL)
		htab_free(&pool_slurm_ids);
	memset(&pool_slurm_ids, 0, sizeof(pool_slurm_ids));
	free(pool_slurm_dir);
	free(pool_slurm_script);
	free(pool_slurm_adopted);
	pool_slurm_adopted = NULL;
	pool_slurm_nadopted = 0;
	pool_slurm_dir = pool_slurm_script = NULL;
}

static void
pool_slurm_stats(struct pool_stats *ps)
{
	ps->busy = pool_slurm_busy;
	ps->size = -1;
}

const struct pool pool_slurm_ops = {
	.name = "slurm",
	.init = pool_slurm_init,
	.shutdown = pool_slurm_shutdown,
	.start = pool_slurm_start,
	.launch = pool_slurm_launch,
	.cancel = pool_slurm_cancel,
	.stats = pool_slurm_stats,
	.enqueue = pool_slurm_enqueue,
	.dequeue = pool_slurm_dequeue,
	.next = pool_slurm_next,
	.adopt = pool_slurm_adopt,
	.ahead = pool_slurm_ahead,
};
