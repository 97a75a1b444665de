# Proves attached workers (futured-workers(7)) with a worker written from
# proto/futured.proto alone (workers.py: Google's protobuf in Python,
# nothing of futured's): a worker registers, its handler is listed, and
# its jobs run through futurectl, several at once up to its concurrency
# while the kinds' own jobs go on; progress, output, stderr and a failure
# with its type and traceback reach the user; cancel and timeout reach
# the worker as TaskCancel and settle the job; a worker that dies
# mid-job fails it "worker lost" and the retry runs on another; a silent
# worker loses its lease; stale, foreign and garbage updates are refused
# (probes), quiet ones too, and only those answered; a name may not shadow a built-in; dependencies, groups and
# deadlines apply unchanged; queued worker jobs
# survive a kill -9 of the daemon until a worker comes; and finished ones
# register no handler name at a restart.

. "$TESTLIB"
: "${abs_top_builddir:?}" "${abs_top_srcdir:?}"

PB=$abs_top_builddir/tests/conformance
if [ ! -f "$PB/futured_pb2.py" ]; then
	echo "skip: no protoc at configure time (protobuf-compiler)"
	exit 77
fi
if [ "${PYTHON:-:}" = ":" ] ||
    ! "$PYTHON" -c 'import google.protobuf' 2>/dev/null; then
	echo "skip: ${PYTHON:-python3} has no google.protobuf (python3-protobuf)"
	exit 77
fi
PYTHONPATH=$PB
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH PYTHONDONTWRITEBYTECODE
WPY=$abs_top_srcdir/tests/integration/workers.py

# worker LOG ARGS...: a worker in the background, registered on return.
worker() {
	_log=$T/$1
	shift
	"$PYTHON" "$WPY" serve "$SOCK" "$_log" "$@" "$TOKEN" 2>>"$T/worker.err" &
	WPID=$!
	wait_until 10 grep -q '^registered' "$_log" ||
	    fail "worker $_log did not register: $(cat "$_log" 2>/dev/null)"
}

ntasks() {
	grep -c '^task' "$T/$1" 2>/dev/null || true
}

state_is() {
	[ "$(job_state "$1")" = "$2" ]
}

start_daemon -j 1 --worker-lease 5s --retry-delay 50ms

# Register; the handler is listed with its workers; a job's result.
worker w1.log --handler wtest:async,blocking --concurrency 3
W1=$WPID
ck_match "$(fctl handlers | grep '^wtest ')" \
    'async\*,blocking .*\[1 worker\]' "handlers lists wtest and its worker"
ck_eq "$(fctl --json handlers | grep '"wtest"' | jfield workers)" 1 \
    "handlers --json: workers"
ck_eq "$(fctl handlers | grep -c 'worker')" 1 "built-ins say nothing new"
id=$(fctl submit wtest echo hello)
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl result "$id")" "hello" "the worker's output"
pass "register, submit, result through futurectl"

# Progress, output chunks and stderr; a failure with type and detail.
id=$(fctl submit wtest progress)
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl result "$id")" "first second" "output chunks in order"
ck_eq "$(fctl --json result "$id" | jfield stderr)" "a warning" "stderr"
id=$(fctl submit wtest fail)
ck_exit 1 fctl wait "$id"
ck_eq "$(fctl --json status "$id" | jfield error)" "ValueError: bad n" \
    "the error names the exception's type"
tb=$(fctl --json result "$id" | jfield stderr)
ck_match "$tb" '^Traceback \(most recent call last\):$' "the traceback's head"
ck_match "$tb" '^ValueError: bad n$' "the traceback's end"
pass "progress, output, stderr; a failure's type and traceback"

# Up to its concurrency at once, async and blocking alike; the rest wait
# queued for it without holding up the kinds' own jobs (-j 1: the one
# blocking thread stays free for sha256).
n0=$(ntasks w1.log)
a1=$(fctl submit wtest hold)
a2=$(fctl submit -k blocking wtest hold)
a3=$(fctl submit wtest hold)
a4=$(fctl submit -k blocking wtest hold)
wait_until 10 state_is "$a3" running || fail "three did not start"
ck_eq "$(ntasks w1.log)" $((n0 + 3)) "three tasks held at once"
ck_eq "$(job_state "$a4")" queued "the fourth waits for the worker"
ck_eq "$(fctl --json stats | python3 -c '
import json, sys
p = json.load(sys.stdin)["pools"][0]
print(p["name"], p["processes"], p["busy"], p["capacity"])')" \
    "attached 1 3 3" "stats: the worker pool"
ck_exit 0 fctl submit -w -k blocking sha256 /dev/null
ck_exit 0 fctl submit -w -d x echo
pass "three at once; the kinds' jobs run beside the waiting one"

# Cancel of a running worker job: TaskCancel, cancelled at once, and the
# queued one takes the slot.
ck_exit 0 fctl cancel "$a2"
ck_exit 3 fctl wait "$a2"
wait_until 30 grep -q "^cancel $a2 1 cancelled" "$T/w1.log" ||
    fail "no TaskCancel for $a2: $(cat "$T/w1.log")"
wait_until 30 state_is "$a4" running || fail "the queued one did not start"
ck_exit 0 fctl cancel "$a1" "$a3" "$a4"
ck_exit 3 fctl wait "$a1" "$a3" "$a4"
pass "cancel reaches the worker as TaskCancel; the job is cancelled"

# Timeout likewise.
id=$(fctl submit -t 300ms wtest hold)
ck_exit 4 fctl wait "$id"
wait_until 30 grep -q "^cancel $id 1 timed out" "$T/w1.log" ||
    fail "no TaskCancel for the timeout: $(cat "$T/w1.log")"
pass "timeout reaches the worker as TaskCancel; the job timed out"

# A worker that dies mid-job: "worker lost", and the retry runs on
# another worker.
worker w2.log --handler wdie:async --die-on-task
W2=$WPID
once=$(fctl submit wdie echo once)
ck_exit 1 fctl wait "$once"
ck_eq "$(fctl --json status "$once" | jfield error)" \
    "worker lost: connection closed" "the job of a dead worker"
worker w3.log --handler wdie:async --die-on-task
again=$(fctl submit -r 1 wdie echo again)
wait_until 10 grep -q "^task $again 1" "$T/w3.log" || fail "no first attempt"
worker w4.log --handler wdie:async
ck_exit 0 fctl wait "$again"
ck_eq "$(fctl result "$again")" "again" "the retry's output"
ck_eq "$(fctl --json status "$again" | jfield attempts)" 2 "two attempts"
grep -q "^task $again 2" "$T/w4.log" || fail "attempt 2 not on the new worker"
pass "a dead worker's job fails \"worker lost\"; the retry runs on another"

# The lease: a worker holding a task that says nothing is disconnected.
worker w5.log --handler wsilent:async
t0=$(now_ms)
id=$(fctl submit wsilent silent)
ck_exit 1 fctl wait "$id"
el=$(( $(now_ms) - t0 ))
[ "$el" -ge 4900 ] && [ "$el" -lt 60000 ] || fail "lease ran out after $el ms"
ck_eq "$(fctl --json status "$id" | jfield error)" \
    "worker lost: no word for 5s" "the lease's cause"
wait_until 30 grep -q '^closed' "$T/w5.log" || fail "silent worker not closed"
pass "a silent worker loses its lease, and its job"

# The protocol's refusals, each against the live daemon.
for c in task shadow names stale quiet never garbage; do
	"$PYTHON" "$WPY" probe "$SOCK" "$c" || fail "probe $c"
	pass "probe $c"
done
ck_exit 0 fctl submit -w -d still echo
pass "other clients served throughout"

# Dependencies, groups and deadlines apply to worker jobs unchanged.
a=$(fctl submit wtest echo A)
b=$(fctl submit -a "$a" -i "$a" wtest echo B)
ck_exit 0 fctl wait "$b"
ck_eq "$(fctl result "$b")" "B" "a dependent worker job"
must fctl group wg --parallel 1 >/dev/null
g1=$(fctl submit -g wg wtest hold)
g2=$(fctl submit -g wg wtest hold)
wait_until 10 state_is "$g1" running || fail "the group's first did not run"
ck_eq "$(job_state "$g2")" queued "--parallel 1 holds the second"
ck_exit 0 fctl cancel "$g1"
wait_until 10 state_is "$g2" running || fail "the group's second did not run"
ck_exit 0 fctl cancel "$g2"
d=$(fctl submit --deadline 300ms wnobody-yet-$$ echo x 2>/dev/null) &&
    fail "a handler nobody ever registered was taken"
kill "$W1"
wait "$W1" 2>/dev/null || true
d=$(fctl submit --deadline 300ms wtest echo x)
ck_exit 4 fctl wait "$d"
ck_match "$(fctl --json status "$d" | jfield error)" "before the job started" \
    "a deadline passes while it waits for a worker"
pass "dependencies, groups and deadlines apply to worker jobs"

# Queued worker jobs survive a kill -9 until a worker registers again.
q1=$(fctl submit wtest echo later)
q2=$(fctl submit -k blocking wtest echo later2)
ck_eq "$(job_state "$q1")" queued "no worker: queued"
ck_match "$(fctl handlers | grep '^wtest ')" '\[0 workers\]' "no worker now"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
start_daemon -j 1 --worker-lease 5s
ck_eq "$(job_state "$q1")" queued "queued after the restart"
ck_eq "$(job_state "$q2")" queued "queued after the restart (blocking)"
ck_match "$(fctl handlers | grep '^wtest ')" '\[0 workers\]' \
    "the handler waits for its worker"
worker w6.log --handler wtest:async,blocking
ck_exit 0 fctl wait "$q1" "$q2"
ck_eq "$(fctl result "$q1")" "later" "the kept job ran"
ck_eq "$(fctl result "$q2")" "later2" "the kept blocking job ran"
pass "kill -9: queued worker jobs wait for a worker, then run"

# Finished jobs bring no worker handler name back at a restart: only
# an unfinished one waits for a worker.  (Every name a worker ever
# served came back, for good, and filled the 4096 names.)
kill "$WPID"
wait "$WPID" 2>/dev/null || true
set --
i=0
while [ "$i" -lt 30 ]; do
	set -- "$@" --handler "wdead$i:async"
	i=$((i + 1))
done
worker w7.log "$@"
W7=$WPID
ids=
i=0
while [ "$i" -lt 30 ]; do
	ids="$ids $(fctl submit "wdead$i" echo "d$i")"
	i=$((i + 1))
done
# shellcheck disable=SC2086
ck_exit 0 fctl wait $ids
wq=$(fctl submit wtest echo waits)
kill "$W7"
wait "$W7" 2>/dev/null || true
stop_daemon
start_daemon -j 1 --worker-lease 2s
ck_eq "$(fctl handlers | grep -c '^wdead')" 0 \
    "finished jobs' worker handlers not registered after a restart"
ck_match "$(fctl handlers | grep '^wtest ')" '\[0 workers\]' \
    "an unfinished job's handler waits for its worker"
last=${ids##* }
ck_eq "$(fctl result "$last")" "d29" "a finished job keeps its output"
ck_eq "$(fctl --json status "$last" | jfield handler)" "wdead29" \
    "and its handler's name"
worker w8.log --handler wtest:async --handler wdead3:async \
    --handler wfresh:async
ck_exit 0 fctl wait "$wq"
ck_eq "$(fctl result "$wq")" "waits" "the waiting job ran"
n=$(fctl submit wfresh echo fresh)
ck_exit 0 fctl wait "$n"
ck_eq "$(fctl result "$n")" "fresh" "a new name registers and serves"
n=$(fctl submit wdead3 echo again)
ck_exit 0 fctl wait "$n"
ck_eq "$(fctl result "$n")" "again" "a finished job's name registers again"
pass "restart: finished worker jobs register no handler name"
stop_daemon
