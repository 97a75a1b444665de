/*
 * Plugins that futured must refuse, for tests/integration/plugins.sh:
 * built as badabi.so (-DBAD_ABI: a handler of a future ABI) and as
 * dupplugin.so (a handler named "spin", as testplugin.so has one).
 */

#include "futured/handler.h"

static int
bad_run(struct fut_handler_ctx *ctx)
{
	return (0);
}

static const struct fut_handler bad = {
#ifdef BAD_ABI
	.abi = FUT_HANDLER_ABI + 1,
	.name = "badabi",
#else
	.abi = FUT_HANDLER_ABI,
	.name = "spin",
#endif
	.description = "test: refused",
	.kinds = FUT_HK_BLOCKING,
	.default_kind = FUT_HK_BLOCKING,
	.run = bad_run,
};

FUT_PLUGIN(&bad)
