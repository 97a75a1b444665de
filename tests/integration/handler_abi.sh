# Proves that the built-in handlers stand behind the handler ABI, as a
# plugin does: every daemon/handlers/*.c includes futured/handler.h and
# system or libevent headers, and no header of the daemon's (futured.h,
# log.h, xmalloc.h, ...); what exec needs of the job comes through the
# fut_handler_* calls of include/futured/handler.h.  The shared helpers
# of common/ (built into every program), and a handler's own header
# beside it in daemon/handlers/, are allowed.

. "$TESTLIB"

src=${abs_top_srcdir:?}
n=0
for f in "$src"/daemon/handlers/*.c; do
	n=$((n + 1))
	grep -q '^#include "futured/handler.h"' "$f" ||
	    fail "$(basename "$f") does not include futured/handler.h"
	for h in $(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		[ "$h" = futured/handler.h ] && continue
		[ -f "$src/daemon/$h" ] &&
		    fail "$(basename "$f") includes the daemon's $h"
		# A handler's own private header, behind the ABI too.
		[ -f "$src/daemon/handlers/$h" ] && continue
		[ -f "$src/common/$h" ] ||
		    fail "$(basename "$f") includes $h, neither the ABI nor common/"
	done
done
[ "$n" -ge 4 ] || fail "only $n handlers found under $src/daemon/handlers"
pass "the $n built-in handlers include no daemon header"
