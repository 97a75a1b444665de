# Runs the examples against a real daemon, so they cannot rot: the
# event-loop integrations (examples/poll_loop, examples/libevent_loop,
# examples/asyncio_loop.py), each waiting on many futures while its loop
# keeps ticking, the seed demo in C (examples/demo), which mixes an
# async, a blocking and a cpu job and cancels a fourth, and the Python
# demo (examples/demo.py), the same with the user's own functions
# through supervised Python pools.
# Each example checks itself and exits non-zero when something is off.

. "$TESTLIB"
: "${abs_top_builddir:?}" "${abs_top_srcdir:?}"
EX=$abs_top_builddir/examples
start_daemon -j 8 -P 2

for prog in poll_loop libevent_loop demo; do
	"$EX/$prog" >"$T/ex.out" 2>&1 || {
		cat "$T/ex.out" >&2
		fail "examples/$prog"
	}
	pass "examples/$prog: $(tail -n 1 "$T/ex.out")"
done

# Python: with the uninstalled library (python_env in lib.sh).
if python_env; then
	for py in asyncio_loop.py demo.py; do
		pyrun "$abs_top_srcdir/examples/$py" >"$T/ex.out" 2>&1 || {
			cat "$T/ex.out" >&2
			fail "examples/$py"
		}
		pass "examples/$py: $(tail -n 1 "$T/ex.out")"
	done
fi
stop_daemon
