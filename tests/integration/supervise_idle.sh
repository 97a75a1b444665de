# Retirement of supervised pools (daemon/supervise.c, --pool-idle): a
# PoolRequest pool idle for --pool-idle stops its processes and shows
# "stopped"; a stopped pool does not count against the 64 pools of its
# user (80 pools come and go); a job queued for its handler starts it
# again at once and runs, and so does a PoolRequest (created again);
# futured.conf pools stay unless pool-idle.NAME says otherwise; a pool
# failing that long with no job waiting stops as "failed", its last
# failure shown.  A stopped pool's handler names leave the registry
# (a submit for one brings it back and starts the pool), so that pools
# registering 17 x 256 names one after the other fit in its 4096; their
# metrics series fold into handler="(retired)".  Events are waited for by polling stats, with generous
# bounds.

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
spy() {
	PYTHONPATH=$PB PYTHONDONTWRITEBYTECODE=1 "$PYTHON" \
	    "$abs_top_srcdir/tests/integration/supervise.py" "$SOCK" "$@"
}
# The state of pool $1 in stats ("" if it is not listed).
pool_state() {
	fctl --json stats | "$PYTHON" -c '
import json, sys
for p in json.load(sys.stdin).get("pools", []):
    if p["name"] == sys.argv[1]:
        print(p["state"])' "$1"
}
state_is() {
	[ "$(pool_state "$1")" = "$2" ]
}
# How many pools stats lists in state $1.
pools_in() {
	fctl --json stats | "$PYTHON" -c '
import json, sys
print(sum(p.get("state") == sys.argv[1]
          for p in json.load(sys.stdin).get("pools", [])))' "$1"
}
n_in() {
	[ "$(pools_in "$1")" -ge "$2" ]
}
dead() {
	! kill -0 "$1" 2>/dev/null
}

mkdir -p "$T/etc" "$T/logs"
cat >"$T/etc/futured.conf" <<C
pool = keep sh -c "exec sleep 1000; : $TOKEN"
pool-size.keep = 1
C
start_daemon -c "$T/etc/futured.conf" --pool-idle 300ms --grace 500ms

# --- an idle PoolRequest pool stops ------------------------------------
export PYTHONPATH=$PB PYTHONDONTWRITEBYTECODE=1
out=$(spy ask "$PY" "$WPY" serve - "$T/logs/%p.log" --handler idle_a:cpu,blocking "$TOKEN") ||
    fail "PoolRequest: $out"
set -- $out
A=$1
ck_eq "$2 $3" "True idle_a" "the pool's reply"
pid=$(sed -n "s/.*pool $A: process 0 is pid \([0-9]*\)\$/\1/p" "$T/daemon.log" | tail -n 1)
[ -n "$pid" ] || fail "no pid for pool $A"
wait_until 20 state_is "$A" stopped || fail "pool $A: $(pool_state "$A"), not stopped"
wait_until 10 dead "$pid" || fail "the stopped pool's process $pid lives on"
grep -q "pool $A: stopped, idle for 300ms" "$T/daemon.log" ||
    fail "the stop is not logged"
ck_match "$(fctl stats | grep "^$A ")" "supervised +0 +0 +0 stopped +0/1" \
    "stats text: stopped"
ck_eq "$(pool_state keep)" starting "a futured.conf pool is not retired"
pass "an idle PoolRequest pool stops its processes and shows stopped"

# --- its handler name goes; a job for it starts it again, and runs -------
no_idle_a() {
	! fctl handlers | grep -q '^idle_a '
}
wait_until 20 no_idle_a || fail "idle_a still listed: $(fctl handlers)"
m=$(fctl metrics)
! echo "$m" | grep -q 'handler="idle_a"' ||
    fail "idle_a's metrics series stayed: $(echo "$m" | grep idle_a)"
pass "a stopped pool's handler name leaves the registry and its metrics series folds"
id=$(fctl submit -k cpu idle_a echo woken) || fail "submit to a stopped pool"
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl result "$id")" "woken" "the job that woke the pool"
grep -q "pool $A: starting again" "$T/daemon.log" || fail "not started again"
pass "a job for a stopped pool's handler starts it and runs"

# --- idle again: stopped; a PoolRequest starts it again ------------------
wait_until 20 state_is "$A" stopped || fail "pool $A: $(pool_state "$A"), not stopped again"
out=$(spy ask "$PY" "$WPY" serve - "$T/logs/%p.log" --handler idle_a:cpu,blocking "$TOKEN") ||
    fail "PoolRequest again: $out"
ck_eq "$out" "$A True idle_a" "asked again: the same pool, created again"
ck_eq "$(grep -c "pool $A: starting again" "$T/daemon.log")" 2 "started again"
pass "a PoolRequest starts a stopped pool again (created again)"
wait_until 20 state_is "$A" stopped || fail "pool $A: $(pool_state "$A"), not stopped a third time"
wait_until 20 no_idle_a || fail "idle_a still listed: $(fctl handlers)"
m=$(fctl metrics)
echo "$m" | grep -q '^futured_jobs_submitted_total{kind="cpu",handler="(retired)"} 1$' ||
    fail "the job not counted in (retired): $(echo "$m" | grep submitted)"
echo "$m" | grep -q '^futured_jobs_finished_total{kind="cpu",handler="(retired)",outcome="succeeded"} 1$' ||
    fail "the job not counted in (retired): $(echo "$m" | grep finished)"
pass "the retired names' counts add up in handler=\"(retired)\""

# --- the registry (4096) is reused: 17 pools of 256 names, in turn ------
i=1
while [ $i -le 17 ]; do
	args=
	k=1
	while [ $k -le 256 ]; do
		args="$args --handler r$i-$k:cpu"
		k=$((k + 1))
	done
	out=$(spy ask "$PY" "$WPY" serve - "$T/logs/%p.log" $args "$TOKEN") ||
	    fail "pool $i of 256 names: $out"
	set -- $out
	wait_until 30 state_is "$1" stopped || fail "pool $i: $(pool_state "$1")"
	i=$((i + 1))
done
n=$(fctl handlers | grep -c '^r[0-9]*-[0-9]* ' || true)
[ "$n" -le 256 ] || fail "$n names of stopped pools still listed"
pass "the names of stopped pools are reused: 17 x 256 in a registry of 4096"

# --- stopped pools do not count against the 64 of a user ---------------
spy many 40 "a$TOKEN-" || fail "the first 40 pools"
wait_until 60 n_in stopped 41 || fail "the 40 pools did not stop: $(pools_in stopped) stopped"
spy many 40 "b$TOKEN-" || fail "40 more pools, 80 in all, refused"
wait_until 60 n_in stopped 81 || fail "the 80 pools did not stop: $(pools_in stopped) stopped"
! pgrep -f "sleep 1000; : [ab]$TOKEN-" >/dev/null ||
    fail "stopped pools left processes: $(pgrep -af "sleep 1000; : [ab]$TOKEN-" | head -3)"
pass "80 pools come and go: stopped ones do not count against the 64"

# --- at most 256 stopped pools of a user are kept: the oldest go ---------
# 98 are stopped now ($A, 17 of names, 80 sleepers); 180 more, 60 at
# a time (64 may run).
spy many 60 "c$TOKEN-" || fail "60 more pools"
wait_until 60 n_in stopped 158 || fail "$(pools_in stopped) stopped, not 158"
spy many 60 "d$TOKEN-" || fail "60 more pools"
wait_until 60 n_in stopped 218 || fail "$(pools_in stopped) stopped, not 218"
spy many 60 "e$TOKEN-" || fail "60 more pools"
all_stopped() {
	! pgrep -f "sleep 1000; : [cde]$TOKEN-" >/dev/null &&
	    [ "$(pools_in starting)" -le 1 ] && [ "$(pools_in running)" -eq 0 ]
}
wait_until 60 all_stopped || fail "the pools did not stop"
wait_until 20 grep -q "pool $A: forgotten, 2[0-9][0-9] pools of uid" "$T/daemon.log" ||
    fail "the oldest stopped pool was not forgotten"
n=$(pools_in stopped)
[ "$n" -ge 250 ] && [ "$n" -le 257 ] || fail "$n pools stopped, not about 256"
[ -z "$(pool_state "$A")" ] || fail "pool $A still listed"
out=$(spy ask "$PY" "$WPY" serve - "$T/logs/%p.log" --handler idle_a:cpu,blocking "$TOKEN") ||
    fail "PoolRequest for a forgotten pool: $out"
ck_eq "$out" "$A True idle_a" "a forgotten pool asked for again"
pass "at most 256 stopped pools of a user are kept; the oldest is forgotten, and made anew"
stop_daemon

# --- failing that long with nothing waiting: failed ----------------------
cat >"$T/etc/failing.conf" <<C
pool = dier sh -c "echo broken $TOKEN >&2; exit 7"
pool-size.dier = 1
pool-idle.dier = 4s
C
start_daemon -c "$T/etc/failing.conf" --pool-idle 300ms
wait_until 30 state_is dier failed || fail "dier: $(pool_state dier), not failed"
grep -q "pool dier: stopped, failing for 4s with no job waiting; the last failure: process [0-9]* exited with status 7 before registering: broken" \
    "$T/daemon.log" || fail "the stop is not logged"
n=$(grep -c "pool dier: process 0 is pid" "$T/daemon.log")
ck_eq "$(fctl --json stats | "$PYTHON" -c '
import json, sys
for p in json.load(sys.stdin)["pools"]:
    if p["name"] == "dier":
        print(p["state"], p["alive"], p["last_failure"]["exit_status"],
              p["last_failure"]["stderr"])')" "failed 0 7 broken $TOKEN" \
    "stats: failed, with its last failure"
# No restart ever after.
sleep 1
ck_eq "$(grep -c "pool dier: process 0 is pid" "$T/daemon.log")" "$n" \
    "restarts after the stop"
pass "a pool failing for its pool-idle with no job waiting stops: failed, its last failure shown"
