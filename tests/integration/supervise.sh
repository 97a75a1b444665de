# Supervised pools (daemon/supervise.c, request_pool.c) without the
# worker engine: futured.conf's pools start with the daemon, each process
# in its own process group with FUTURED_POOL and FUTURED_SOCKET set; a
# process that dies is replaced, after a back-off that doubles while it
# keeps dying, and the pool says it is failing; shutdown stops every
# process, TERM then KILL after the grace, its whole group; bad pool
# lines stop the start naming file and line; PoolRequest refuses bad
# requests naming the problem, reports a process that died before
# registering with its exit status and stderr, and survives a client
# that goes away while it waits.  The pids come from the debug log.

. "$TESTLIB"

# Scripts in $T whose command lines carry $TOKEN (lib.sh kills strays).
cat >"$T/sleeper-$TOKEN.sh" <<'S'
sleep 1000 &
echo "up $$" >&2
wait
S
cat >"$T/dier-$TOKEN.sh" <<'S'
echo "no luck here" >&2
exit 3
S
cat >"$T/stubborn-$TOKEN.sh" <<'S'
trap '' TERM
echo "stubborn $$" >&2
while :; do sleep 0.05; done
S
SL="sh $T/sleeper-$TOKEN.sh"

# The pid slot N of pool P has now (the last "process N is pid" line).
pool_pid() {
	sed -n "s/.*pool $1: process $2 is pid \([0-9]*\)\$/\1/p" \
	    "$T/daemon.log" | tail -n 1
}
pid_count() {
	[ "$(grep -c "pool $1: process $2 is pid" "$T/daemon.log")" -ge "$3" ]
}
alive() {
	kill -0 "$1" 2>/dev/null
}
dead() {
	! kill -0 "$1" 2>/dev/null
}

# --- futured.conf errors name file and line --------------------------
mkdir -p "$T/etc"
printf 'pool = sl %s\npool-size.sl = 0\n' "$SL" >"$T/etc/bad.conf"
ck_exit 1 "$FUTURED" -f -c "$T/etc/bad.conf" -s "$SOCK" --journal none
ck_match "$(cat "$T/err")" "bad.conf:2: bad pool-size.sl \"0\"" "bad size"
printf 'pool = x no-such-program-%s\n' "$TOKEN" >"$T/etc/bad.conf"
ck_exit 1 "$FUTURED" -f -c "$T/etc/bad.conf" -s "$SOCK" --journal none
ck_match "$(cat "$T/err")" "bad.conf:1: pool x: no-such-program-[0-9]*: not found" \
    "a program not found"
printf 'pool = sl %s\npool-spares.sl = 17\n' "$SL" >"$T/etc/bad.conf"
ck_exit 1 "$FUTURED" -f -c "$T/etc/bad.conf" -s "$SOCK" --journal none
ck_match "$(cat "$T/err")" "bad.conf:2: bad pool-spares.sl \"17\"" "bad spares"
ck_exit 2 "$FUTURED" -f --pool-spares 17 -s "$SOCK" --journal none
printf 'pool = x sh\npool-user.x = nobody\n' >"$T/etc/bad.conf"
ck_exit 1 "$FUTURED" -f -c "$T/etc/bad.conf" -s "$SOCK" --journal none
ck_match "$(cat "$T/err")" "bad.conf:2: pool-user.x needs --system" \
    "a user without --system"
pass "bad pool lines stop the start, naming file and line"

# A start that fails late (here the metrics textfile's directory) must
# leave no pool process behind: they live in process groups of their own.
printf 'pool = late %s\n' "$SL" >"$T/etc/late.conf"
ck_exit 1 "$FUTURED" -f -c "$T/etc/late.conf" -s "$SOCK" --journal none \
    --metrics-textfile "$T/no/such/dir/m.prom"
! pgrep -f "sleeper-$TOKEN.sh" >/dev/null ||
    fail "a failed start left its pool's processes: $(pgrep -af "sleeper-$TOKEN.sh")"
pass "a start that fails late leaves no pool process"

# --- start, environment, process groups --------------------------------
cat >"$T/etc/futured.conf" <<C
pool = sl $SL
pool-size.sl = 2
pool-env.sl = GREETING=hello there
pool = dier sh $T/dier-$TOKEN.sh
pool-size.dier = 1
pool = stubborn sh $T/stubborn-$TOKEN.sh
pool-size.stubborn = 1
pool-cwd.stubborn = $T
C
start_daemon -c "$T/etc/futured.conf" --grace 500ms
wait_until 10 pid_count sl 1 1 || fail "pool sl did not start"
P0=$(pool_pid sl 0)
P1=$(pool_pid sl 1)
must alive "$P0"
must alive "$P1"
[ "$P0" != "$P1" ] || fail "two slots, one pid"
# Its own process group, which the sleep in it shares.
ck_eq "$(ps -o pgid= -p "$P0" | tr -d ' ')" "$P0" "process group of $P0"
wait_until 10 pgrep -g "$P0" -x sleep || fail "no sleep in group $P0"
tr '\0' '\n' <"/proc/$P0/environ" >"$T/env"
grep -qx "FUTURED_POOL=sl" "$T/env" || fail "no FUTURED_POOL=sl"
grep -qx "FUTURED_SOCKET=$SOCK" "$T/env" || fail "no FUTURED_SOCKET"
grep -qx "GREETING=hello there" "$T/env" || fail "pool-env not set"
# stderr reaches the log; stdout and stdin are /dev/null.
wait_until 10 grep -q "pool sl\[$P0\]: up $P0" "$T/daemon.log" ||
    fail "stderr not logged"
ck_eq "$(readlink "/proc/$P0/fd/1")" /dev/null "stdout"
PS=$(pool_pid stubborn 0)
wait_until 10 grep -q "pool stubborn\[$PS\]: stubborn" "$T/daemon.log" ||
    fail "stubborn did not start"
ck_eq "$(readlink "/proc/$PS/cwd")" "$T" "pool-cwd"
pass "config pools start: own process group, FUTURED_POOL, FUTURED_SOCKET, env, cwd"

# --- a process that dies is replaced -----------------------------------
G0=$(pgrep -g "$P0" -x sleep)
kill -KILL "$P0"
wait_until 10 pid_count sl 0 2 || fail "slot 0 not restarted"
N0=$(pool_pid sl 0)
[ "$N0" != "$P0" ] || fail "same pid after restart"
must alive "$N0"
must alive "$P1"
wait_until 30 dead "$G0" || fail "the dead process's group lives on ($G0)"
grep -q "pool sl: process $P0 was killed by signal 9 before registering" \
    "$T/daemon.log" || fail "the death is not logged"
pass "a process that dies is replaced ($P0 -> $N0)"

# --- back-off: 100, 200, 400, 800 ms; then failing ----------------------
wait_until 20 grep -q "pool dier is failing" "$T/daemon.log" ||
    fail "dier never said it is failing"
for d in 100 200 400 800 1600; do
	grep -q "pool dier: process 0 restarts in $d ms" "$T/daemon.log" ||
	    fail "no restart after $d ms"
done
grep -q "exited with status 3 before registering: no luck here" \
    "$T/daemon.log" || fail "exit status and stderr not logged"
# Counted with the cpu workers' restarts (none here): 1 of sl, 5 of dier.
n=$(fctl metrics | sed -n 's/^futured_worker_restarts_total \([0-9]*\)$/\1/p')
[ "${n:-0}" -ge 6 ] || fail "futured_worker_restarts_total is '$n', not 6 or more"
pass "a pool that keeps dying backs off (100 ms doubling) and says it is failing"

# --- stats: each pool's health, a failing one's last exit ----------------
fctl --json stats >"$T/stats.json"
ck_eq "$(python3 - "$T/stats.json" <<'P'
import json, sys
pools = {p["name"]: p for p in json.load(open(sys.argv[1]))["pools"]}
d, s = pools["dier"], pools["sl"]
f = d["last_failure"]
print(d["supervised"], d["state"], d["size"], d["processes"],
      d["restarts"] >= 5, f["exit_status"], f["signal"], f["stderr"],
      f["ago_ms"] >= 0, "no luck here" in f["error"])
print(s["state"], s["alive"], s["size"], s["processes"], s["restarts"],
      s["last_failure"]["signal"], s["respawn_ms"])
P
)" "True failing 1 0 True 3 None no luck here True True
starting 2 2 0 1 9 None" "stats --json: pool health"
fctl stats >"$T/stats.txt"
ck_match "$(grep '^dier ' "$T/stats.txt")" \
    '^dier +supervised +0 +0 +0 failing +[01]/1 +[0-9]+$' "stats text: dier"
ck_match "$(grep '^sl ' "$T/stats.txt")" \
    '^sl +supervised +0 +0 +0 starting +2/2 +1$' "stats text: sl"
ck_match "$(grep '^dier: ' "$T/stats.txt")" \
    '^dier: last failure [0-9]+s ago: process [0-9]+ exited with status 3 before registering: no luck here$' \
    "stats text: dier's last failure"
pass "stats: a failing pool shows failing with its last exit status and stderr"

# --- PoolRequest -----------------------------------------------------
PB=$abs_top_builddir/tests/conformance
if [ -f "$PB/futured_pb2.py" ] && [ "${PYTHON:-:}" != ":" ] &&
    "$PYTHON" -c 'import google.protobuf' 2>/dev/null; then
	spy() {
		PYTHONPATH=$PB PYTHONDONTWRITEBYTECODE=1 "$PYTHON" \
		    "$abs_top_srcdir/tests/integration/supervise.py" "$SOCK" "$@"
	}
	spy invalid || fail "bad PoolRequests"
	pass "bad PoolRequests are refused, naming the problem"
	spy dies "$T" >"$T/out" || fail "a pool that dies"
	ck_match "$(cat "$T/out")" "^pool sh-[0-9a-f]{8}: process [0-9]+ exited with status 3 before registering: no luck" \
	    "the error"
	pass "a PoolRequest pool dying before it registers: ERR_INTERNAL with status and stderr"
	# Gone while it waits: the pool fails later, answering nobody.
	spy vanish sh -c "sleep 0.3; echo gone $TOKEN >&2; exit 5" ||
	    fail "vanish"
	wait_until 10 grep -q "exited with status 5 before registering: gone" \
	    "$T/daemon.log" || fail "the vanished client's pool did not fail"
	must fctl ping >/dev/null
	pass "a client that goes away while its pool starts: the daemon goes on"
	spy env "$T/pool.env" || fail "env"
	for v in FUTURED_LIBRARY=/lib/x.so FUTURED_APP_SETTING=kept \
	    PLAIN=yes FUTURED_POOL=sh-[0-9a-f]* "FUTURED_SOCKET=$SOCK"; do
		grep -qx "$v" "$T/pool.env" || fail "$v not passed: $(cat "$T/pool.env")"
	done
	for v in FUTURED_POOL=other FUTURED_SOCKET=/nowhere FUTURED_JOB_ID \
	    FUTURED_PROGRESS_FD FUTURED_CTX_user; do
		! grep -q "^$v" "$T/pool.env" || fail "$v passed to the pool"
	done
	pass "a PoolRequest's FUTURED_* variables pass but for the pool's own and a job's"
else
	echo "skip: PoolRequest cases need protoc and python3-protobuf"
fi

# --- shutdown: TERM the groups, KILL after the grace ----------------------
SLEEPS=$(pgrep -g "$N0" -x sleep || true)
t0=$(now_ms)
stop_daemon
t1=$(now_ms)
for p in "$N0" "$P1" "$PS" $SLEEPS; do
	wait_until 30 dead "$p" || fail "pid $p outlived the daemon"
done
grep -q "pool stubborn: pid $PS ignored TERM, killing it" "$T/daemon.log" ||
    fail "the stubborn process was not killed"
[ $((t1 - t0)) -ge 400 ] || fail "KILL before the grace ($((t1 - t0)) ms)"
[ $((t1 - t0)) -lt 5000 ] || fail "shutdown took $((t1 - t0)) ms"
pass "shutdown: every process and its group gone; KILL after the 500 ms grace ($((t1 - t0)) ms)"
