/*
 * The Slurm engine's pure parts (slurm_parse.c): the words and lines of
 * Slurm's tools read, and futured's values turned into sbatch's.  No
 * allocation, no state: the unit test links this file alone.
 */

#ifndef FUTURED_SLURM_PARSE_H
#define FUTURED_SLURM_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Where a Slurm job stands, by its state word (squeue's %T). */
enum slurm_phase {
	SLURM_PENDING,		/* not running yet, or again */
	SLURM_RUNNING,
	SLURM_ENDED
};

enum slurm_phase slurm_phase(const char *);
const char	*slurm_ended_by(const char *);
int		 slurm_squeue_line(const char *, uint64_t *, char *, size_t);
int		 slurm_lookup_line(const char *, const char *, uint64_t *);
int		 slurm_sacct_line(char *, char **, long *);
long long	 slurm_time_minutes(int64_t);
int		 slurm_nice(int, int, int, int *);

/* --slurm-nice-base's bounds: Slurm's own are far wider. */
#define SLURM_NICE_BASE_MAX	10000

#endif /* FUTURED_SLURM_PARSE_H */
