/*
 * What the unit tests of the daemon's loop share: its settings and event
 * base (main.c's, which they do not link), a fixture without sockets
 * for the scheduler and job tests, and helpers that run the loop and
 * check a job's state.
 */

#ifndef FUTURED_TESTLIB_H
#define FUTURED_TESTLIB_H

#include <stdint.h>

#include "futured.h"

#define RUN_LIMIT_S	5	/* no test should need the loop longer */

/* Small limits for the tests, a fresh base, the registry and sched.c. */
void		 loop_setup(void);
void		 loop_teardown(void);
/* loop_setup() and a fresh job table; the teardown frees groups too. */
void		 loop_sched_setup(void);
void		 loop_sched_teardown(void);
/* Hand j to the scheduler, which keeps it (and the pointer valid). */
struct job	*must_insert(struct job *);
/* One turn of the loop that does not block: runs the deferred kick. */
void		 step(void);
/* Run the loop until done(arg) holds or ms pass; returns done(arg). */
int		 run_loop_until(int (*)(void *), void *, int64_t);
/* Run the loop until *flag is set or ms pass; returns *flag. */
int		 run_until(const int *, int64_t);
/* Run the loop until j is final; fail after RUN_LIMIT_S. */
void		 ck_run_until_final(struct job *);
void		 ck_state(struct job *, enum job_state);

#endif /* FUTURED_TESTLIB_H */
