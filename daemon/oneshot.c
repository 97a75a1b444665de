/*
 * The one-shot form of a job (futured-workers(7), One-shot workers):
 * a handler other than exec run as one process, maybe on another
 * machine, that reads its Task from a file and writes its outcome, one
 * final TaskUpdate, to another.  The Slurm engine (pool_slurm.c) runs such
 * jobs as batch jobs; the files live in its shared directory.
 *
 * What runs: for a built-in or plugin handler, the daemon's own
 * executable with --run-once and the plugins it loaded (run_once.c),
 * by absolute path, so the nodes must see them at the same paths (as
 * they see the shared directory); for a worker handler, the command
 * line of a supervised pool that serves it for the job's owner
 * (supervise_command), in that pool's environment and directory: the
 * Python binding's `python3 -m futured.worker MODULE`, and any worker
 * on libfutured (client/worker_oneshot.c), read the same files when
 * FUTURED_ONESHOT is set.  A pool is known to serve a name once its
 * first process registered it.  The journal keeps no pool: after a
 * restart, a futured.conf pool starts again, and a job's launch waits
 * while a pool for its owner starts and has not registered
 * (oneshot_waits); a PoolRequest pool is known again only once asked
 * for again, and a job with no pool known while none starts fails at
 * its launch, saying so.
 */

#include <sys/types.h>

#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"
#include "futured.pb-c.h"
#include "xmalloc.h"

/* Why j's handler has no one-shot form (cause set), or 0. */
static int
oneshot_handler_ok(const struct fut_handler *h, char **cause)
{
	if (!handler_standalone(h)) {
		xasprintf(cause, "handler \"%s\" runs only inside the daemon",
		    h->name);
		return (-1);
	}
	return (0);
}

/*
 * May j run as a one-shot?  0, or -1 and *cause.  A worker handler needs
 * a supervised pool serving it now, except at the replay (its pool may
 * register later; the launch says if none did).
 */
int
oneshot_able(const struct job *j, int replay, char **cause)
{
	const struct fut_handler	*h = j->handler;
	struct oneshot_cmd		 oc;

	if (!(h->flags & HANDLER_F_WORKER))
		return (oneshot_handler_ok(h, cause));
	if (replay)
		return (0);
	if (oneshot_command(j, &oc, cause) == -1)
		return (-1);
	oneshot_cmd_free(&oc);
	return (0);
}

/*
 * Should j's launch wait?  Yes for a worker handler's job that no pool
 * known serves while a pool for its owner starts and has not
 * registered yet: after a restart, a futured.conf pool has not.  The
 * scheduler is kicked when such a pool registers or is failing.
 */
int
oneshot_waits(const struct job *j)
{
	const struct fut_handler	*h = j->handler;

	return ((h->flags & HANDLER_F_WORKER) &&
	    !supervise_serving(h->name, j->owner) &&
	    supervise_registering(j->owner));
}

/* What to run for j's one-shot; -1 and *cause if nothing can. */
int
oneshot_command(const struct job *j, struct oneshot_cmd *oc, char **cause)
{
	const struct fut_handler	*h = j->handler;
	size_t				 n, i, k = 0;

	memset(oc, 0, sizeof(*oc));
	if (h->flags & HANDLER_F_WORKER) {
		if (supervise_command(h->name, j->owner, &oc->argv, &oc->env,
		    &oc->cwd) == -1) {
			xasprintf(cause, "no supervised pool serves handler "
			    "\"%s\" for uid %lu: engine slurm runs a worker "
			    "handler's job as a one-shot of its pool's command "
			    "(a pool is known once its first process "
			    "registered; after a restart, a PoolRequest pool "
			    "only once asked for again)", h->name,
			    (unsigned long)j->owner);
			return (-1);
		}
		return (0);
	}
	if (oneshot_handler_ok(h, cause) == -1)
		return (-1);
	if (settings.self_exe == NULL) {
		xasprintf(cause, "the daemon's own path is not known");
		return (-1);
	}
	n = plugin_count();
	oc->argv = xcalloc(2 + 2 * n + 1, sizeof(*oc->argv));
	oc->argv[k++] = xstrdup(settings.self_exe);
	oc->argv[k++] = xstrdup("--run-once");
	/* Every plugin: which one has the handler is the loader's to say. */
	for (i = 0; i < n; i++) {
		oc->argv[k++] = xstrdup("--plugin");
		oc->argv[k++] = xstrdup(plugin_path(i));
	}
	oc->argv[k] = NULL;
	return (0);
}

static void
oneshot_strv_free(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
oneshot_cmd_free(struct oneshot_cmd *oc)
{
	oneshot_strv_free(oc->argv);
	oneshot_strv_free(oc->env);
	free(oc->cwd);
	memset(oc, 0, sizeof(*oc));
}

/* The Task of attempt of j into the file path; -1 and *cause. */
int
oneshot_write_task(struct job *j, uint32_t attempt, const char *path,
    char **cause)
{
	uint8_t	*buf;
	size_t	 len;
	ssize_t	 n;
	int	 fd;

	buf = request_worker_task_pack(j, attempt, &len);
	/* Root's under --system, in the owner's directory: afresh. */
	(void)unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(buf);
		return (-1);
	}
	n = write(fd, buf, len);
	if (n != (ssize_t)len || close(fd) != 0) {
		xasprintf(cause, "%s: %s", path, n == -1 || n == (ssize_t)len ?
		    strerror(errno) : "short write");
		if (n != (ssize_t)len)
			close(fd);
		free(buf);
		return (-1);
	}
	free(buf);
	return (0);
}

/*
 * A one-shot's outcome, the len bytes of its result file, into j, which
 * is final after it: as the TaskUpdate says, or failed saying why the
 * file is not one for this attempt.
 */
void
oneshot_apply(struct job *j, uint32_t attempt, const uint8_t *data,
    size_t len)
{
	Futured__TaskUpdate	*u;
	struct worker_update	 wu;

	if ((u = futured__task_update__unpack(NULL, len, data)) == NULL) {
		job_finish(j, JOB_FAILED, FERR_NONE, "the one-shot's outcome "
		    "(%zu bytes) is not a TaskUpdate", len);
		return;
	}
	if (u->job_id != j->id || u->attempt != attempt) {
		job_finish(j, JOB_FAILED, FERR_NONE, "the one-shot's outcome "
		    "is for job %llu attempt %u, not this one (%u)",
		    (unsigned long long)u->job_id, u->attempt, attempt);
		futured__task_update__free_unpacked(u, NULL);
		return;
	}
	memset(&wu, 0, sizeof(wu));
	wu.job_id = u->job_id;
	wu.attempt = u->attempt;
	if (u->has_output) {
		wu.output = u->output.data;
		wu.output_len = u->output.len;
	}
	if (u->has_stderr) {
		wu.err = u->stderr.data;
		wu.err_len = u->stderr.len;
	}
	/* Final, whatever it says: the process is gone. */
	wu.done = 1;
	wu.ok = u->has_done && u->done && u->has_ok && u->ok;
	wu.error = u->error;
	if (!(u->has_done && u->done) && wu.error == NULL)
		wu.error = "the one-shot's last word was not its outcome";
	wu.error_type = u->error_type;
	wu.error_detail = u->error_detail;
	pool_worker_apply(j, &wu);
	futured__task_update__free_unpacked(u, NULL);
}
