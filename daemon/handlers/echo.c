/*
 * echo: the output is the payload.  A no-op for tests and benchmarks,
 * under every kind.
 */

#include "futured/handler.h"

static int
echo_run(struct fut_handler_ctx *ctx)
{
	const void	*p;
	size_t		 len;

	p = fut_handler_payload(ctx, &len);
	if (fut_handler_output(ctx, p, len) == -1) {
		fut_handler_fail(ctx, "echo: out of memory");
		return (-1);
	}
	return (0);
}

/* Its output is its payload: an argument is a mistake (echo -d x). */
static int
echo_check(struct fut_handler_ctx *ctx)
{
	if (fut_handler_nargs(ctx) == 0)
		return (0);
	fut_handler_fail(ctx, "echo: takes no argument (\"%s\"): its output "
	    "is its payload", fut_handler_arg(ctx, 0));
	return (-1);
}

static int
echo_start(struct fut_handler_ctx *ctx)
{
	fut_handler_done(ctx, echo_run(ctx));
	return (0);
}

const struct fut_handler handler_echo = {
	.abi = FUT_HANDLER_ABI,
	.name = "echo",
	.description = "output = payload",
	.kinds = FUT_HK_ASYNC | FUT_HK_BLOCKING | FUT_HK_CPU,
	.default_kind = FUT_HK_ASYNC,
	.flags = FUT_HF_SYSTEM_SAFE,
	.run = echo_run,
	.start = echo_start,
	.check = echo_check,
};
