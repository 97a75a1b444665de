# Proves watch, wait --progress and run's streaming: a command's output
# reaches the watcher while the command still runs; watch exits as wait
# does (0, 1, 3, 7); --json gives one object per event, the last final;
# wait --progress reports the state changes on stderr and exits as wait;
# run streams stdout before the command ends and keeps its exit status;
# output from a pool thread and from a cpu worker reaches a watcher as it
# is written, not when the job ends.

. "$TESTLIB"
start_daemon

# Output streams while the command still runs.
id=$(fctl submit exec -- sh -c "echo first; while [ ! -e $T/go ]; do sleep 0.02; done; echo second")
fctl watch "$id" >"$T/w.out" 2>"$T/w.err" &
wpid=$!
wait_until 10 grep -q first "$T/w.out" || fail "no output while the command runs"
ck_eq "$(job_state "$id")" running "the command still runs"
touch "$T/go"
wrc=0
wait "$wpid" || wrc=$?
ck_eq "$wrc" 0 "watch exits 0 when the job succeeds"
ck_eq "$(cat "$T/w.out")" "$(printf 'first\nsecond')" "watch prints all the output once"
ck_match "$(cat "$T/w.err")" "job $id running" "state changes on stderr"
pass "watch streams a command's output"

# Exit statuses as wait's.
id=$(fctl submit exec -- sh -c 'exit 5')
ck_exit 1 fctl watch "$id"
id=$(fctl submit sleep 30s)
( wait_until 10 sh -c "$FUTURECTL -s $SOCK status $id | grep -q running" &&
    fctl cancel "$id" >/dev/null ) &
cpid=$!
ck_exit 3 fctl watch "$id"
# Not a bare wait: that would wait for the daemon too.
wait "$cpid"
ck_exit 7 fctl watch 999999
ck_exit 2 fctl watch
pass "watch exits 0, 1, 3, 7 and 2 like wait"

# --json: one object per event, the last final.
id=$(fctl submit -d json echo)
fctl --json watch "$id" >"$T/w.json"
python3 - "$T/w.json" <<'PY' || fail "watch --json"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines, "no events"
assert lines[-1]["state"] == "succeeded", lines[-1]
assert "".join(l["output"] or "" for l in lines) == "json", lines
PY
pass "watch --json"

# wait --progress: state changes on stderr, exit status of wait.
# The job runs until the test has seen wait --progress report it.
a=$(fctl submit -k async exec -- sh -c "until [ -e $T/progress.go ]; do sleep 0.05; done")
b=$(fctl submit exec -- false)
fctl wait --progress "$a" "$b" 2>"$T/prog" &
wpid=$!
wait_until 10 grep -q "job $a running" "$T/prog" ||
    fail "progress on stderr: $(cat "$T/prog")"
: >"$T/progress.go"
rc=0
wait "$wpid" || rc=$?
ck_eq "$rc" 1 "wait --progress exits as wait"
ck_exit 0 fctl wait --progress "$a"
pass "wait --progress"

# run streams stdout before the command ends, and exits as it exits.
rm -f "$T/go"
fctl run -- sh -c "echo early; while [ ! -e $T/go ]; do sleep 0.02; done; echo late; exit 6" >"$T/r.out" &
rpid=$!
wait_until 10 grep -q early "$T/r.out" || fail "run did not stream"
touch "$T/go"
rrc=0
wait "$rpid" || rrc=$?
ck_eq "$rrc" 6 "run exits as the command"
ck_eq "$(cat "$T/r.out")" "$(printf 'early\nlate')" "run output"
pass "run streams stdout"

stop_daemon

# A pool thread's and a cpu worker's output, pushed as it is written: a
# handler writes a line, then waits for the watcher to have read it (the
# gate file GATE.N) before it writes the next, so output held until the
# job ends would never reach the watcher, whatever the load.  The time
# each line took is printed, not asserted.
: "${PLUGINDIR:?PLUGINDIR must name the directory of the test plugins}"
[ -z "$DPID" ] || stop_daemon
start_daemon -P 1 --plugin "$PLUGINDIR/testplugin.so"
for k in blocking cpu; do
	id=$(fctl submit -k "$k" lines 4 20 "$T/gate-$k")
	worst=$(python3 - "$FUTURECTL" "$SOCK" "$id" "$T/gate-$k" <<'PY') ||
import signal, subprocess, sys, time
worst, n = 0, 0
def late(*a):
    sys.exit("no line %d after 120 s: held until the job ends?" % (n + 1))
signal.signal(signal.SIGALRM, late)
signal.alarm(120)
w = subprocess.Popen([sys.argv[1], "-s", sys.argv[2], "watch", sys.argv[3]],
    stdout=subprocess.PIPE)
for line in w.stdout:
    now = time.time() * 1000
    f = line.split()
    n += 1
    assert int(f[1]) == n, "line %s came as line %d" % (f[1].decode(), n)
    worst = max(worst, now - int(f[2]))
    open("%s.%d" % (sys.argv[4], n), "w").close()
assert w.wait() == 0, "watch failed"
assert n == 4, "%d lines" % n
print(int(worst))
PY
	    fail "$k: output not pushed as it is written"
	pass "$k: a running handler's output is pushed (worst $worst ms)"
done
