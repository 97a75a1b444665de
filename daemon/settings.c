/*
 * The built-in defaults of struct settings, in one place for main.c and
 * for the tests that run pieces of the daemon without it.
 */

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "futured.h"
#include "frame.h"
#include "xmalloc.h"

static int
settings_ncpus(void)
{
	long	 n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	return (n < 1 ? 1 : (int)n);
}

void
settings_defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->threads = 4 * settings_ncpus();
	s->procs = settings_ncpus();
	s->async_slots = DEFAULT_ASYNC_SLOTS;
	s->grace_ms = DEFAULT_GRACE_MS;
	s->shutdown_grace_ms = DEFAULT_SHUTDOWN_GRACE_MS;
	s->retry_delay_ms = DEFAULT_RETRY_DELAY_MS;
	s->retry_delay_max_ms = DEFAULT_RETRY_DELAY_MAX_MS;
	s->retention_ms = DEFAULT_RETENTION_MS;
	s->retain_max = DEFAULT_RETAIN_MAX;
	s->max_output = DEFAULT_MAX_OUTPUT;
	s->stderr_tail = DEFAULT_STDERR_TAIL;
	s->max_frame = FUTURED_FRAME_MAX;
	s->read_timeout_ms = DEFAULT_READ_TIMEOUT_MS;
	s->worker_lease_ms = DEFAULT_WORKER_LEASE_MS;
	s->pool_spares = 1;
	s->pool_idle_ms = SUP_IDLE_MS;
	s->max_clients = DEFAULT_MAX_CLIENTS;
	s->max_unread = DEFAULT_MAX_UNREAD;
	s->max_queued = DEFAULT_MAX_QUEUED;
	s->fsync = JOURNAL_FSYNC_ALWAYS;
	s->fsync_interval_ms = DEFAULT_FSYNC_INTERVAL_MS;
	s->metrics_interval_ms = DEFAULT_METRICS_INTERVAL_MS;
	s->slurm_interval_ms = DEFAULT_SLURM_INTERVAL_MS;
}

/* --slurm-option and futured.conf's slurm-option: one more, kept. */
void
settings_slurm_option(const char *opt)
{
	settings.slurm_options = xreallocarray(settings.slurm_options,
	    settings.slurm_noptions + 1, sizeof(*settings.slurm_options));
	settings.slurm_options[settings.slurm_noptions++] = xstrdup(opt);
}

/* What a handler name has, and fnmatch(3)'s pattern characters. */
#define SETTINGS_PATTERN_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789" \
				"_.:-/*?[]!"

/*
 * futured.conf's slurm-handlers: names or fnmatch(3) patterns apart by
 * blanks (exec sha256 py.cpu:*), whose jobs run on Slurm unless their
 * submitter chose an engine.  -1 (nothing kept) on a character no
 * handler name has, or no name at all.
 */
int
settings_slurm_handlers(const char *value)
{
	const char	*p, *e;
	char		**v = NULL;
	size_t		  n = 0, i;

	for (p = value; *p != '\0'; p = e) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		e = p + strcspn(p, " \t");
		if (strspn(p, SETTINGS_PATTERN_CHARS) < (size_t)(e - p))
			goto bad;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n] = xmalloc((size_t)(e - p) + 1);
		memcpy(v[n], p, (size_t)(e - p));
		v[n++][e - p] = '\0';
	}
	if (n == 0)
		return (-1);
	settings_slurm_handlers_free();
	settings.slurm_handlers = v;
	settings.slurm_nhandlers = n;
	return (0);
bad:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return (-1);
}

void
settings_slurm_handlers_free(void)
{
	size_t	 i;

	for (i = 0; i < settings.slurm_nhandlers; i++)
		free(settings.slurm_handlers[i]);
	free(settings.slurm_handlers);
	settings.slurm_handlers = NULL;
	settings.slurm_nhandlers = 0;
}

/* Does slurm-handlers send handler name's jobs to Slurm? */
int
settings_slurm_routed(const char *name)
{
	size_t	 i;

	for (i = 0; i < settings.slurm_nhandlers; i++) {
		if (fnmatch(settings.slurm_handlers[i], name, 0) == 0)
			return (1);
	}
	return (0);
}

/* None: the command line's replace the file's (and the fuzzer's). */
void
settings_slurm_options_clear(void)
{
	size_t	 i;

	for (i = 0; i < settings.slurm_noptions; i++)
		free(settings.slurm_options[i]);
	free(settings.slurm_options);
	settings.slurm_options = NULL;
	settings.slurm_noptions = 0;
}
