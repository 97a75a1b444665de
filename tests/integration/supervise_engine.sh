# A supervised pool serving jobs through the worker engine (issue 13,
# item 2): a Python worker written from the .proto alone
# (supervise_worker.py) runs as a config pool of one cpu process; it
# serves a cpu job; a running cpu job that never looks at a cancel is
# cancelled by TERM to its process group; a fresh process takes the slot
# (the time until it serves again is printed) and serves the next job.

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

mkdir -p "$T/etc"
cat >"$T/etc/futured.conf" <<C
pool = py $PYTHON $abs_top_srcdir/tests/integration/supervise_worker.py sup $TOKEN
pool-size.py = 1
pool-kinds.py = cpu
pool-env.py = PYTHONPATH=$PB
pool-env.py = PYTHONDONTWRITEBYTECODE=1
C
start_daemon -c "$T/etc/futured.conf" --grace 2s
wait_until 30 grep -q "pool py: serving" "$T/daemon.log" ||
    fail "the pool's process did not register"
P0=$(sed -n 's/.*pool py: process 0 is pid \([0-9]*\)$/\1/p' \
    "$T/daemon.log" | tail -n 1)

id=$(fctl submit -k cpu -d hello sup.echo)
ck_exit 0 fctl wait -t 30s "$id"
ck_eq "$(fctl result "$id")" "$P0:hello" "the first job's output"
pass "a supervised worker serves a cpu job"

# The warm spare (--pool-spares 1: a cpu pool's default), once the
# pool serves: started, registering, and kept waiting.
spares() {
	fctl --json stats | python3 -c '
import json, sys
for p in json.load(sys.stdin)["pools"]:
    print(p["spares"], p["alive"], p["size"], p["processes"])'
}
wait_until 30 sh -c "grep -q 'pool py: spare pid [0-9]* is ready' $T/daemon.log" ||
    fail "no warm spare got ready"
ck_eq "$(spares)" "1 1 1 1" "stats: one spare ready, not a worker"
SPARE=$(sed -n 's/.*pool py: process 1 is pid \([0-9]*\)$/\1/p' \
    "$T/daemon.log" | tail -n 1)
ck_eq "$(fctl handlers | grep -c '^sup.echo .*\[1 worker')" 1 \
    "the spare is no worker yet"
pass "a cpu pool keeps a warm spare, registered but idle (pid $SPARE)"

id=$(fctl submit -k cpu sup.spin -- "$T/spin.pid")
wait_until 20 test -s "$T/spin.pid" || fail "the spin job did not start"
SP=$(cat "$T/spin.pid")
ck_eq "$SP" "$P0" "the spin job's process"
ck_eq "$(job_state "$id")" running "the spin job"
t0=$(now_ms)
ck_exit 0 fctl cancel "$id"
# Serving again: the next job runs, in the spare, at once.
id2=$(fctl submit -k cpu -d again sup.echo)
ck_exit 0 fctl wait -t 30s "$id2"
t2=$(now_ms)
wait_until 10 sh -c "! kill -0 $SP 2>/dev/null" ||
    fail "the cancelled job's process lives on"
t1=$(now_ms)
ck_exit 3 fctl wait -t 30s "$id"
ck_eq "$(job_state "$id")" cancelled "the cancelled job"
[ $((t1 - t0)) -lt 1500 ] ||
    fail "TERM took $((t1 - t0)) ms (the grace is 2 s: was it KILL?)"
pass "cancelling a running cpu job stops its process ($((t1 - t0)) ms)"

out=$(fctl result "$id2")
ck_eq "$out" "$SPARE:again" "the next job ran in the spare"
# Generous: the spare serves in milliseconds; a cold Python start
# takes 100-500 ms on a loaded machine, and each fctl here a few.
[ $((t2 - t0)) -lt 1500 ] ||
    fail "the slot served again $((t2 - t0)) ms after the cancel"
grep -q "pool py: spare pid $SPARE takes process 0's place\$" \
    "$T/daemon.log" || fail "the spare did not take the slot"
pass "a warm spare took the slot: cancel to the next job's end $((t2 - t0)) ms"

wait_until 30 grep -q "pool py: process 0 serves again" "$T/daemon.log" ||
    fail "no fresh process took the slot"
ms=$(sed -n 's/.*pool py: process 0 serves again \([0-9]*\) ms after the kill$/\1/p' \
    "$T/daemon.log" | tail -n 1)
[ "$ms" -lt 1000 ] || fail "the spare registered $ms ms after the kill"
# A new spare starts in the background.
wait_until 30 sh -c "[ \$(grep -c 'pool py: spare pid [0-9]* is ready' $T/daemon.log) -ge 2 ]" ||
    fail "no new spare"
ck_eq "$(fctl --json stats | python3 -c '
import json, sys
for p in json.load(sys.stdin)["pools"]:
    print(p["name"], p["state"], p["respawn_ms"] == int(sys.argv[1]))' "$ms")" \
    "py running True" "stats: respawn_ms"
pass "the spare registered ${ms} ms after the kill (stats respawn_ms)"

# A timeout is a cancel too.
P1=${out%%:*}
rm -f "$T/spin.pid"
id=$(fctl submit -k cpu -t 500ms sup.spin -- "$T/spin.pid")
ck_exit 4 fctl wait -t 30s "$id"
ck_eq "$(job_state "$id")" timed_out "the spin job with a timeout"
ck_eq "$(cat "$T/spin.pid")" "$P1" "the timed-out job's process"
wait_until 10 sh -c "! kill -0 $P1 2>/dev/null" ||
    fail "the timed-out job's process lives on"
id=$(fctl submit -k cpu -d more sup.echo)
ck_exit 0 fctl wait -t 30s "$id"
out=$(fctl result "$id")
[ "${out%%:*}" != "$P1" ] || fail "the next job ran in the killed process"
pass "a timed-out cpu job's process is replaced too"
stop_daemon
