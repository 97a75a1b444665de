# Futures that know (issue 14): the daemon tells a connection of its
# jobs' starts and progress.  libfutured's fut_poll says FUT_RUNNING
# while a sleep runs and FUT_SUCCEEDED after it, and a pool thread's
# progress (the test plugin's spin: 0.5 "spinning") reaches the future
# (clientprog news); futurectl status, which asks the daemon, says
# running too.  What a client that does not ask for news sees is in the
# conformance test; Python's running() in tests/python.

. "$TESTLIB"
: "${CLIENTPROG:?CLIENTPROG must name the clientprog binary}"
: "${PLUGINDIR:?PLUGINDIR must name the directory of the test plugins}"
start_daemon -j 2 -P 1 --plugin "$PLUGINDIR/testplugin.so"

"$CLIENTPROG" news spin || fail "clientprog news spin"
pass "fut_poll: running, then succeeded; progress and its message"

is_running() {
	[ "$(job_state "$1")" = running ]
}
id=$(fctl submit sleep 30s) || fail "submit"
wait_until 10 is_running "$id" ||
    fail "futurectl status never said running: $(fctl status "$id")"
ck_match "$(fctl status "$id")" "running" "futurectl status"
must fctl cancel "$id" >/dev/null
pass "futurectl status: running"

stop_daemon
