/* See testlib.h. */

#include <check.h>
#include <stdint.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "futured.h"
#include "log.h"
#include "testlib.h"

/* Defined by daemon/main.c, which the tests do not link. */
struct settings		 settings;
struct event_base	*base;

void
loop_setup(void)
{
	log_setlevel(LOG_LEVEL_WARN);
	memset(&settings, 0, sizeof(settings));
	settings_defaults(&settings);
	settings.threads = 1;
	settings.procs = 1;
	settings.async_slots = 16;
	settings.grace_ms = 100;
	settings.max_output = 1024;
	settings.stderr_tail = 256;
	settings.max_frame = 4096;
	settings.retry_delay_ms = 10;
	/* The blocking pool wakes the loop from its threads. */
	ck_assert_int_eq(evthread_use_pthreads(), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	handler_init();
}

void
loop_teardown(void)
{
	sched_cancel_all(0, "test over");
	sched_free();
	event_base_free(base);
	base = NULL;
}

void
loop_sched_setup(void)
{
	loop_setup();
	sched_init();
}

void
loop_sched_teardown(void)
{
	loop_teardown();
	group_free_all();
}

struct job *
must_insert(struct job *j)
{
	char	*cause = NULL;

	ck_assert_msg(sched_insert(j, &cause) == 0, "sched_insert: %s", cause);
	return (j);
}

void
step(void)
{
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void
run_limit_cb(evutil_socket_t fd, short events, void *arg)
{
	*(int *)arg = 1;
}

int
run_loop_until(int (*done)(void *), void *arg, int64_t ms)
{
	struct event	*limit;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	int		 expired = 0, ok;

	limit = evtimer_new(base, run_limit_cb, &expired);
	evtimer_add(limit, &tv);
	while (!(ok = done(arg)) && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(limit);
	return (ok);
}

static int
flag_set(void *arg)
{
	return (*(const int *)arg);
}

int
run_until(const int *flag, int64_t ms)
{
	return (run_loop_until(flag_set, (void *)flag, ms));
}

static int
job_final(void *arg)
{
	return (JOB_FINAL(((struct job *)arg)->state));
}

void
ck_run_until_final(struct job *j)
{
	ck_assert_msg(run_loop_until(job_final, j, RUN_LIMIT_S * 1000),
	    "job %llu still %s after %ds", (unsigned long long)j->id,
	    job_state_name(j->state), RUN_LIMIT_S);
}

void
ck_state(struct job *j, enum job_state s)
{
	ck_assert_msg(j->state == s, "job %llu is %s, expected %s",
	    (unsigned long long)j->id, job_state_name(j->state),
	    job_state_name(s));
}
