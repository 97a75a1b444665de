/*
 * sleep DURATION: finishes after the duration, on a loop timer.
 */

#include <stdlib.h>

#include <event2/event.h>

#include "futured/handler.h"
#include "duration.h"

static void
sleep_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fut_handler_ctx	*ctx = arg;
	struct event		*ev = fut_handler_data(ctx);

	event_free(ev);
	fut_handler_set_data(ctx, NULL);
	fut_handler_done(ctx, 0);
}

/* One argument, a duration: else refused at submit. */
static int
sleep_check(struct fut_handler_ctx *ctx)
{
	const char	*arg;
	int64_t		 ms;

	if (fut_handler_nargs(ctx) != 1) {
		fut_handler_fail(ctx, "sleep: expected one argument, a "
		    "duration, not %zu", fut_handler_nargs(ctx));
		return (-1);
	}
	arg = fut_handler_arg(ctx, 0);
	if (duration_parse(arg, &ms) == -1) {
		fut_handler_fail(ctx, "sleep: bad duration \"%s\" (want 250ms, "
		    "10s, 1.5m, 2h or a bare number of seconds)", arg);
		return (-1);
	}
	return (0);
}

static int
sleep_start(struct fut_handler_ctx *ctx)
{
	struct event	*ev;
	struct timeval	 tv;
	const char	*arg;
	int64_t		 ms;

	if (fut_handler_nargs(ctx) != 1) {
		fut_handler_fail(ctx, "sleep: expected one argument, a duration");
		return (-1);
	}
	arg = fut_handler_arg(ctx, 0);
	if (duration_parse(arg, &ms) == -1) {
		fut_handler_fail(ctx, "sleep: bad duration \"%s\"", arg);
		return (-1);
	}
	ev = evtimer_new(fut_handler_base(ctx), sleep_cb, ctx);
	if (ev == NULL) {
		fut_handler_fail(ctx, "sleep: cannot create a timer");
		return (-1);
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
	fut_handler_set_data(ctx, ev);
	return (0);
}

static void
sleep_cancel(struct fut_handler_ctx *ctx)
{
	struct event	*ev = fut_handler_data(ctx);

	if (ev != NULL)
		event_free(ev);
	fut_handler_set_data(ctx, NULL);
}

const struct fut_handler handler_sleep = {
	.abi = FUT_HANDLER_ABI,
	.name = "sleep",
	.description = "finish after the duration in ARG",
	.kinds = FUT_HK_ASYNC,
	.default_kind = FUT_HK_ASYNC,
	.flags = FUT_HF_SYSTEM_SAFE,
	.start = sleep_start,
	.cancel = sleep_cancel,
	.check = sleep_check,
};
