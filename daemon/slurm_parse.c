/*
 * The Slurm engine's pure parts: what the words and lines of squeue and
 * sacct say, and futured's timeout and priority in sbatch's terms.
 * pool_slurm.c drives the tools; this file only reads and maps, so that
 * a unit test checks every word without a Slurm (slurm_parse.h).
 */

#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slurm_parse.h"

static const char *const slurm_pending_words[] = {
	"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD",
	"REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED", NULL
};
static const char *const slurm_running_words[] = {
	"RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING", "RESIZING",
	"STOPPED", NULL
};
/* The ends Slurm makes itself, named as they are in `ended`. */
static const char *const slurm_end_words[] = {
	"CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
	"BOOT_FAIL", "DEADLINE", NULL
};

static int
slurm_in(const char *const *list, const char *word)
{
	for (; *list != NULL; list++) {
		if (strcmp(*list, word) == 0)
			return (1);
	}
	return (0);
}

/*
 * A word squeue does not know (a newer Slurm's) reads as ended: the
 * job's rc file, or sacct, then says how, and an unknown end is never
 * taken for a success.
 */
enum slurm_phase
slurm_phase(const char *word)
{
	if (slurm_in(slurm_pending_words, word))
		return (SLURM_PENDING);
	if (slurm_in(slurm_running_words, word))
		return (SLURM_RUNNING);
	return (SLURM_ENDED);
}

/*
 * An ended job's word: NULL if it ended by itself (COMPLETED, FAILED:
 * its exit status says how), else the static text for `ended`.
 */
const char *
slurm_ended_by(const char *word)
{
	const char *const	*w;

	if (strcmp(word, "COMPLETED") == 0 || strcmp(word, "FAILED") == 0)
		return (NULL);
	for (w = slurm_end_words; *w != NULL; w++) {
		if (strcmp(*w, word) == 0)
			return (*w);
	}
	return ("ended by Slurm");
}

/* A job id: digits only, not 0, then sep; the end of it, or NULL. */
static const char *
slurm_id(const char *s, int sep, uint64_t *id)
{
	unsigned long long	 n;
	char			*end;

	if (*s < '0' || *s > '9')
		return (NULL);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || n == 0 || *end != sep)
		return (NULL);
	*id = n;
	return (end);
}

/*
 * A line of squeue --format='%i %T': its id and state word (at most
 * len - 1 characters, upper case and '_').  0, or -1 if it is not one.
 */
int
slurm_squeue_line(const char *line, uint64_t *id, char *state, size_t len)
{
	const char	*p;
	size_t		 n;

	if ((p = slurm_id(line, ' ', id)) == NULL)
		return (-1);
	p++;
	n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
	if (n == 0 || n >= len || (p[n] != '\0' && p[n] != '\n'))
		return (-1);
	memcpy(state, p, n);
	state[n] = '\0';
	return (0);
}

/*
 * A line of squeue --format='%i %k' (id and comment): 0 and its id if
 * the comment is want, else -1.
 */
int
slurm_lookup_line(const char *line, const char *want, uint64_t *id)
{
	const char	*p;

	if ((p = slurm_id(line, ' ', id)) == NULL || strcmp(p + 1, want) != 0)
		return (-1);
	return (0);
}

/*
 * sacct --parsable2 --format=State,ExitCode's answer, in place: *word
 * its first line's state word ("CANCELLED by 0": CANCELLED), *rc the
 * exit code of "EXIT:SIGNAL" (-1: none).  0, or -1 if it says nothing.
 */
int
slurm_sacct_line(char *out, char **word, long *rc)
{
	char	*bar, *nl, *sp, *end;
	long	 n;

	*rc = -1;
	if ((nl = strchr(out, '\n')) != NULL)
		*nl = '\0';
	if ((bar = strchr(out, '|')) == NULL)
		return (-1);
	*bar++ = '\0';
	if ((sp = strchr(out, ' ')) != NULL)
		*sp = '\0';
	if (*out == '\0')
		return (-1);
	*word = out;
	errno = 0;
	n = strtol(bar, &end, 10);
	if (errno == 0 && end != bar && *end == ':' && n >= 0 && n <= 255)
		*rc = n;
	return (0);
}

/*
 * sbatch's --time, in minutes, for futured's timeout: a backstop only,
 * futured's own timer ends the job at the exact time.  Slurm counts
 * whole minutes and checks them about every 30 s, so rounded up and one
 * more: it never ends a job before futured would.
 */
long long
slurm_time_minutes(int64_t timeout_ms)
{
	if (timeout_ms <= 0)
		return (0);
	return ((long long)((timeout_ms - 1) / 60000 + 2));
}

/*
 * sbatch's --nice for futured's priority (-20 first .. 20 last): base
 * plus priority, which keeps their order.  Only Slurm's operators may
 * ask for a negative nice, so an unprivileged sbatch gets 0 for what
 * would be below (futured(8), The Slurm engine: --slurm-nice-base 20
 * keeps every priority's place without privilege).  1 and *nice if
 * --nice is to be given (not 0), else 0.
 */
int
slurm_nice(int priority, int base, int privileged, int *nice)
{
	int	 n = base + priority;

	if (n < 0 && !privileged)
		n = 0;
	*nice = n;
	return (n != 0);
}
