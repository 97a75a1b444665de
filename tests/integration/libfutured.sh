# Proves libfutured against a real daemon: echo under every kind, one
# client shared by many threads and many threads waiting on one future,
# fut_submit_all pipelining a batch in one round trip, fut_poll never
# blocking, fut_wait's timeout and cancel's took-effect answer, event-loop
# integration through fut_client_fd/fut_client_dispatch/fut_on_done,
# fut_attach to a job made by futurectl, futures outliving fut_close,
# and jobs that end after their client has gone.  "info" and "watch":
# every snapshot call (status, result, list, wait and cancel by ids or
# group, handlers, stats, groups, ping) and watches in both forms.
# Then "stress": 16 threads on one client mixing every call, callbacks
# that submit, an event loop dispatching beside them, and futures shared
# across threads; under --enable-tsan any data race makes it exit
# non-zero (TSan's exitcode), so this is the race test.  Last, "lost":
# the daemon is killed while threads wait in every way, and each wait
# must end with FUT_ECONN instead of hanging.

. "$TESTLIB"
: "${CLIENTPROG:?CLIENTPROG must name the clientprog binary}"
start_daemon -j 4 -P 2

for cmd in echo-kinds "threads 50" "submit-all 2000" poll wait-timeout \
    dispatch close info watch stream; do
	# shellcheck disable=SC2086
	"$CLIENTPROG" $cmd || fail "clientprog $cmd"
	pass "clientprog $cmd"
done

# Jobs whose client is gone before they end: their completions are
# dropped (under ASan a send to the freed connection would show).
ids=$("$CLIENTPROG" orphan 300ms) || fail "clientprog orphan"
# shellcheck disable=SC2086
ck_exit 0 fctl wait -t 30s $ids
ck_eq "$(fctl submit -d still-here -w echo)" still-here \
    "daemon serves on after completions for a gone client"
pass "clientprog orphan: completions for a client that left"

id=$(fctl submit -d attached echo)
ck_eq "$("$CLIENTPROG" attach "$id")" attached "attach to a futurectl job"
ck_exit 7 "$CLIENTPROG" attach 999999
pass "clientprog attach"

# Structured concurrency through the library.
fctl group lff --fail-fast >/dev/null
"$CLIENTPROG" structure lff || fail "clientprog structure"
pass "clientprog structure: dependencies, fail-fast, wait_any, context"

# A program inside a job submits a child (fut_spec_new reads
# FUTURED_JOB_ID); cancelling the parent cancels the child.
p=$(fctl submit exec -- "$CLIENTPROG" child "$T")
wait_until 10 sh -c "[ -s $T/id ]" || fail "the child was never submitted"
cid=$(cat "$T/id")
ck_eq "$(fctl --json status "$cid" | jfield parent)" "$p" "library child knows its parent"
fctl cancel "$p" >/dev/null
ck_exit 3 fctl wait -t 30s "$cid"
pass "clientprog child: a library job inside a job is its child"

"$CLIENTPROG" stress 16 64 || fail "clientprog stress"
pass "clientprog stress 16 64"

# The daemon dies under the waiters: a clean error, never a hang.
"$CLIENTPROG" lost "$DPID" || fail "clientprog lost"
wait "$DPID" 2>/dev/null || true
DPID=
pass "clientprog lost: waiters fail with FUT_ECONN when futured dies"
