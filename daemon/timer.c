/*
 * Timers in milliseconds on the loop: every engine and the scheduler
 * arm libevent timers from int64 ms, which libevent takes as a timeval.
 */

#include <sys/time.h>

#include <stdint.h>

#include <event2/event.h>

#include "futured.h"

/* Add (or move) ev to fire in ms; a negative ms fires at once. */
void
timer_add_ms(struct event *ev, int64_t ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_add(ev, &tv);
}
