# Proves that the worker engine serves supervised pools (futured.conf's
# pool lines, daemon/supervise.c): the pool's processes register under
# its name, are listed as a supervised pool with their handlers, and
# run its jobs (a pool none of whose processes registered is listed
# too); a supervised process serving cpu takes one task at a
# time whatever it asks; cancelling its running cpu job kills the
# process (TERM to its group), the job settles cancelled at once, and a
# fresh process takes the slot and serves the next job.  The worker is
# workers.py, from the .proto alone.

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
WPY=$abs_top_srcdir/tests/integration/workers.py
PY=$(command -v "$PYTHON")

mkdir -p "$T/etc" "$T/logs"
cat >"$T/etc/futured.conf" <<C
pool = pw $PY $WPY serve - $T/logs/%p.log --handler pyw:cpu,blocking --concurrency 4 $TOKEN
pool-size.pw = 2
pool-kinds.pw = cpu, blocking
pool-env.pw = PYTHONPATH=$PB
pool-env.pw = PYTHONDONTWRITEBYTECODE=1
pool = mute sh -c "sleep 1000; : $TOKEN"
pool-size.mute = 1
C
start_daemon -c "$T/etc/futured.conf" --grace 500ms

two_workers() {
	fctl handlers | grep '^pyw ' | grep -q '\[2 workers\]'
}
wait_until 20 two_workers || fail "the pool's two processes did not register: $(fctl handlers)"
ck_eq "$(fctl --json stats | python3 -c '
import json, sys
for p in json.load(sys.stdin).get("pools", []):
    print(p["name"], p["supervised"], p["processes"], p["capacity"],
          p["state"], p["alive"], p["size"], p["last_failure"])')" \
    "pw True 2 2 running 2 2 None
mute True 0 0 starting 1 1 None" "stats: supervised pools, one task per process"
ck_match "$(fctl stats | grep '^pw ')" 'supervised +2 +0 +2 running +2/2 +0$' "stats text"
# The Python binding's stats() carries the same pools as futurectl's.
if python_env; then
	ck_eq "$(FUTURED_SOCKET=$SOCK pyrun -c '
import futured
for p in futured.stats()["pools"]:
    print(p["name"], p["supervised"], p["processes"], p["state"],
          p["alive"], p["size"], p["restarts"], p["last_failure"])')" \
	    "pw True 2 running 2 2 0 None
mute True 0 starting 1 1 0 None" "futured.stats() pools"
fi
id=$(fctl submit -k cpu pyw echo from the pool)
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl result "$id")" "from the pool" "a pool process's output"
pass "a supervised pool's processes register, are listed, and serve"

# Cancel a running cpu job: its process is killed and replaced.
id=$(fctl submit -k cpu pyw hold)
wait_until 10 sh -c "grep -l '^task $id 1' $T/logs/*.log" ||
    fail "the hold job did not reach a process"
log=$(grep -l "^task $id 1" "$T"/logs/*.log)
pid=$(basename "$log" .log)
t0=$(now_ms)
ck_exit 0 fctl cancel "$id"
ck_exit 3 fctl wait "$id"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 15000 ] || fail "cancel took $el ms"
ck_eq "$(fctl --json status "$id" | jfield ended)" "its worker process killed" \
    "how it ended"
wait_until 10 sh -c "! kill -0 $pid 2>/dev/null" ||
    fail "process $pid survived the cancel"
wait_until 20 two_workers || fail "no fresh process took the slot"
id=$(fctl submit -k cpu pyw echo again)
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl result "$id")" "again" "served after the replacement"
pass "cancel of a running cpu job kills its process; a fresh one serves ($el ms)"
stop_daemon
