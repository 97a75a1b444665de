# Handlers other than exec on a real private one-node Slurm (slurmlib.sh),
# as one-shots (futured-workers(7), One-shot workers): built-in and
# plugin handlers through `futured --run-once`, Python tasks and a C
# worker on libfutured through their pool's command (python3 -m
# futured.worker, tests/integration/cworker); their output,
# failures and cancel, and futured.conf's slurm-handlers routing them
# there.

. "$TESTLIB"
. "$(dirname "$TESTLIB")/slurmlib.sh"
: "${PLUGINDIR:?PLUGINDIR must name the directory of the test plugins}"
TP=$PLUGINDIR/testplugin.so
[ -f "$TP" ] || fail "no test plugin at $TP"
slurm_start

mkdir -p "$T/bin"
real=$(command -v sbatch)
printf '#!/bin/sh\necho "$*" >>"%s/sbatch.calls"\nexec %s "$@"\n' \
    "$T" "$real" >"$T/bin/sbatch"
chmod +x "$T/bin/sbatch"
PATH=$T/bin:$PATH start_daemon --slurm-dir "$T/shared" \
    --slurm-interval 200ms --plugin "$TP"

field() {
	fctl --json status "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}

sbatch_calls() {
	if [ -f "$T/sbatch.calls" ]; then wc -l <"$T/sbatch.calls"; else echo 0; fi
}

# Built-ins: the same output as on this machine, from a Slurm job.
printf 'some payload\n' >"$T/payload"
for h in echo sha256; do
	ck_exit 0 fctl submit -w --engine slurm -D "$T/payload" "$h"
	cp "$T/out" "$T/slurm.out"
	ck_exit 0 fctl submit -w -D "$T/payload" "$h"
	cmp -s "$T/out" "$T/slurm.out" ||
	    fail "$h on Slurm said '$(cat "$T/slurm.out")', here '$(cat "$T/out")'"
	[ -s "$T/out" ] || fail "$h said nothing"
done
n=$(sbatch_calls)
ck_eq "$n" 2 "sbatch calls for two built-in jobs"
grep -q -- "--run-once" "$T/sbatch.calls" || fail "no --run-once in sbatch's command"
id=$(fctl submit --engine slurm -k cpu -d x echo)
ck_exit 0 fctl wait -t 60s "$id"
ck_eq "$(field "$id" engine)" slurm "engine of a built-in's job"
ck_match "$(field "$id" slurm_job_id)" '^[0-9]+$' "its slurm_job_id"
ls "$T/shared" | grep -q "^$id\\." && fail "files of job $id left in the shared directory"
pass "echo and sha256 on Slurm say what they say here"

# An async built-in with no run(): sleep runs on a loop of the one-shot's.
ck_exit 0 fctl submit -w --engine slurm sleep 100ms
pass "sleep (async, a loop of its own) on Slurm"

# A plugin's handler: its output, and its failure message.
ck_exit 0 fctl submit -w --engine slurm lines 2 10
ck_eq "$(grep -c '^line [12] ' "$T/out")" 2 "lines 2 on Slurm"
id=$(fctl submit --engine slurm mark)
ck_exit 1 fctl wait -t 60s "$id"
ck_match "$(field "$id" error)" "mark: no file" "a plugin handler's failure"
ck_exit 1 fctl submit -w --engine slurm sha256 /nonexistent/file
ck_match "$(cat "$T/err")" "/nonexistent/file" "sha256 of a missing file"
pass "a plugin handler on Slurm, and failure messages"

# Cancel of a running one-shot: scancel ends the process, and the job.
id=$(fctl submit --engine slurm sleep 300)
wait_until 30 sh -c "[ \"\$(squeue -h -o %T -n futured-$id)\" = RUNNING ]" ||
    fail "the one-shot never ran"
# This build's executable: other tests' one-shots are not ours.
ONESHOT="^$(readlink -f "$FUTURED") --run-once"
wait_until 30 pgrep -f "$ONESHOT" || fail "no futured --run-once process"
t0=$(now_ms)
ck_exit 0 fctl cancel "$id"
ck_exit 3 fctl wait -t 10s "$id"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 5000 ] || fail "cancel took $el ms"
wait_until 20 sh -c "[ -z \"\$(squeue -h -o %T -n futured-$id | grep -v -e COMPLETING -e CANCELLED)\" ]" ||
    fail "the Slurm job survived its cancel"
wait_until 20 sh -c "! pgrep -f '$ONESHOT'" ||
    fail "the one-shot process survived its cancel"
pass "cancel of a running one-shot ($el ms)"

# A timeout ends a one-shot as it does a command; a retry is a new
# attempt, whose outcome is the one applied.
t0=$(now_ms)
ck_exit 4 fctl submit --engine slurm -t 2s -w sleep 300
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 20000 ] || fail "a 2 s timeout took $el ms"
n0=$(sbatch_calls)
id=$(fctl submit --engine slurm -r 1 --retry-delay 100ms mark)
ck_exit 1 fctl wait -t 60s "$id"
ck_eq "$(field "$id" attempts)" 2 "attempts of a failing one-shot"
ck_match "$(field "$id" error)" "mark: no file" "the second attempt's failure"
ck_eq "$(( $(sbatch_calls) - n0 ))" 2 "sbatch calls for two attempts"
pass "a one-shot's timeout ($el ms) and retry"

# What the one-shots so far wrote on stderr (their jobs' stderr): no
# sanitizer's report, in a sanitizer build.
fctl --json status $(seq 1 "$id") >"$T/all.json"
if grep -q 'Sanitizer' "$T/all.json"; then
	grep 'Sanitizer' "$T/all.json" >&2
	fail "a sanitizer's report from a one-shot"
fi

# A one-shot that dies without an outcome fails, saying so.
id=$(fctl submit --engine slurm -k cpu crash)
ck_exit 1 fctl wait -t 60s "$id"
ck_match "$(field "$id" error)" "exited with status [0-9]+ and left no outcome" \
    "a one-shot that crashed"
pass "a one-shot that crashes fails"

# futured.conf's slurm-handlers: names and patterns of any handler.
stop_daemon
printf 'slurm-handlers = sha256 py.cpu:* c.fail\nslurm-dir = %s\nslurm-interval = 200ms\nplugin = %s\n' \
    "$T/shared" "$TP" >"$T/futured.conf"
# A supervised pool of libfutured's C worker, for its one-shots below.
printf 'pool = cw %s %s 1 %s\npool-size.cw = 1\n' "$CWORKER" "$SOCK" \
    "$TOKEN" >>"$T/futured.conf"
PATH=$T/bin:$PATH start_daemon -c "$T/futured.conf"
id=$(fctl submit -d routed sha256)
ck_exit 0 fctl wait -t 60s "$id"
ck_eq "$(field "$id" engine)" slurm "engine of a sha256 job, by the config"
id=$(fctl submit -d here echo)
ck_exit 0 fctl wait -t 10s "$id"
ck_eq "$(field "$id" engine)" local "engine of an echo job, not routed"
id=$(fctl submit --engine local -d here sha256)
ck_exit 0 fctl wait -t 10s "$id"
ck_eq "$(field "$id" engine)" local "a sha256 job that says local"
pass "slurm-handlers routes a built-in to Slurm"

# A C worker on libfutured (a supervised pool of cworker): its handler's
# job runs as one run of the pool's command on the node, with
# FUTURED_ONESHOT set, and connects to no daemon there.
: "${CWORKER:?}"
wait_until 30 sh -c "$FUTURECTL -s $SOCK handlers | grep -q '^c.echo '" ||
    fail "the C worker's pool never registered"
n0=$(sbatch_calls)
id=$(fctl submit --engine slurm -d "from C" c.echo)
ck_exit 0 fctl wait -t 60s "$id"
ck_eq "$(fctl result "$id")" "from C" "c.echo's output from Slurm"
ck_eq "$(field "$id" engine)" slurm "engine of c.echo"
ck_match "$(field "$id" slurm_job_id)" '^[0-9]+$' "its slurm_job_id"
ck_eq "$(( $(sbatch_calls) - n0 ))" 1 "sbatch calls for one C worker job"
tail -n 1 "$T/sbatch.calls" | grep -q "cworker $SOCK 1 $TOKEN" ||
    fail "the pool's command is not what sbatch ran: $(tail -n 1 "$T/sbatch.calls")"
# Routed by slurm-handlers, and failing as a served task fails.
id=$(fctl submit c.fail)
ck_exit 1 fctl wait -t 60s "$id"
ck_eq "$(field "$id" engine)" slurm "engine of c.fail, by the config"
ck_match "$(field "$id" error)" "c.fail asked to fail" "c.fail's message"
ck_match "$(fctl result "$id" 2>&1)" "about to fail" "c.fail's stderr"
pass "libfutured's C worker as a one-shot on Slurm"

# kill -9 while a C worker job waits in futured (its group's limit) for
# a Slurm job that ends while futured is down: the restarted daemon
# launches it once the futured.conf pool registered again, not before
# (the pool's command is known from its registration; none is in the
# journal), so it runs and does not fail for want of a pool.
ck_exit 0 fctl group cwg --parallel 1
a=$(fctl submit --engine slurm -g cwg exec -- sleep 2)
b=$(fctl submit --engine slurm -g cwg -d "after restart" c.echo)
wait_until 30 sh -c "[ \"\$(squeue -h -o %T -n futured-$a)\" = RUNNING ]" ||
    fail "job $a never ran on Slurm"
ck_eq "$(field "$b" state)" queued "the C worker job held by its group"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
wait_until 30 sh -c "[ -z \"\$(squeue -h -n futured-$a)\" ]" ||
    fail "job $a never ended on Slurm"
PATH=$T/bin:$PATH start_daemon -c "$T/futured.conf"
ck_exit 0 fctl wait -t 60s "$b"
ck_eq "$(fctl result "$b")" "after restart" "the held job's output"
ck_eq "$(field "$b" engine)" slurm "its engine"
pass "a held C worker job runs on Slurm after kill -9 and restart"

if ! python_env; then
	exit 0
fi

# Python tasks: the pool's command runs once on the node.
mkdir -p "$T/py"
cat >"$T/py/slurmtasks.py" <<'PY'
import os
import futured


@futured.task(kind="cpu", engine="slurm")
def square(x):
    return x * x


@futured.task(kind="cpu", engine="slurm")
def boom(msg):
    raise ValueError(msg)


@futured.task(engine="slurm")
async def hello(name):
    futured.current_task().output("before ")
    return "hello %s from %s" % (name, os.environ.get("SLURM_JOB_ID", "?"))


@futured.task(kind="cpu")
def where():
    return os.environ.get("SLURM_JOB_ID")
PY
n0=$(sbatch_calls)
cd "$T/py"
pyrun -c '
import futured, slurmtasks
f = slurmtasks.square(7)
assert f.result(60) == 49, f.result()
print(f.id)
try:
    slurmtasks.boom("bad news").result(60)
    raise SystemExit("boom did not raise")
except ValueError as e:
    assert str(e) == "bad news", e
    assert "raise ValueError(msg)" in e.remote_traceback, e.remote_traceback
r = slurmtasks.hello("there").result(60)
assert r.startswith("hello there from ") and not r.endswith("?"), r
# Routed by the config (py.cpu:*): no engine= needed.
w = slurmtasks.where().result(60)
assert w is not None and w.isdigit(), w
print(w)
' >"$T/py.out" 2>"$T/py.err" || {
	cat "$T/py.err" >&2
	fail "Python tasks on Slurm"
}
cd "$T"
id=$(head -n 1 "$T/py.out")
ck_eq "$(field "$id" engine)" slurm "engine of a Python task"
n=$(( $(sbatch_calls) - n0 ))
ck_eq "$n" 4 "sbatch calls for four Python tasks"
grep -q "futured.worker --cpu slurmtasks" "$T/sbatch.calls" ||
    fail "the pool's command is not what sbatch ran"
pass "python: @futured.task(engine=\"slurm\"), results, exceptions, routing"

# A handler only an attached worker serves has no command to run there.
printf 'def noop():\n    pass\n' >"$T/py/attachedonly.py"
(cd "$T/py" && exec env ${PY_SAN_ENV:-} "$PYTHON" -m futured.worker \
    --socket "$SOCK" attachedonly) </dev/null >"$T/attached.log" 2>&1 &
apid=$!
wait_until 30 sh -c "$FUTURECTL -s $SOCK handlers | grep -q '^py:attachedonly '" ||
    fail "the attached worker never registered"
ck_exit 2 fctl submit --engine slurm py:attachedonly x
ck_match "$(cat "$T/err")" "no supervised pool serves handler" \
    "a worker handler with no pool's command"
kill "$apid"
wait "$apid" 2>/dev/null || true
pass "a handler of attached workers only is refused on Slurm"
