# `futured --run-once` on its own, no daemon and no Slurm (the Slurm
# engine's one-shot for built-in and plugin handlers; futured-workers(7),
# One-shot workers): a Task file in, one final TaskUpdate out, for a
# cpu handler, an async one on a loop of its own, a plugin's failure,
# handlers it cannot run, and files that are not what they should be;
# then the same form of a C worker on libfutured (cworker) and of the
# Python one.

. "$TESTLIB"
: "${PLUGINDIR:?PLUGINDIR must name the directory of the test plugins}"
TP=$PLUGINDIR/testplugin.so
WIRE=$(dirname "$TESTLIB")

# task NAME HANDLER KIND [PAYLOAD [ARG...]]: $T/NAME.task, job id 7.
task() {
	python3 - "$WIRE" "$@" <<-'EOF'
	import sys
	sys.path.insert(0, sys.argv[1])
	from wire import field
	name, handler, kind = sys.argv[2:5]
	t = field(1, 0, 7) + field(2, 0, 2) + field(3, 2, handler.encode()) + \
	    field(4, 0, int(kind))
	if len(sys.argv) > 5 and sys.argv[5]:
	    t += field(5, 2, sys.argv[5].encode())
	for a in sys.argv[6:]:
	    t += field(6, 2, a.encode())
	t += field(7, 2, field(1, 2, b"K") + field(2, 2, b"v"))
	open(name + ".task", "wb").write(t)
	EOF
}

# once NAME: run it; the outcome's fields, one "NUMBER=VALUE" a line.
once() {
	rm -f "$T/$1.result"
	_rc=0
	FUTURED_ONESHOT=$T/$1.task FUTURED_ONESHOT_RESULT=$T/$1.result \
	    "$FUTURED" --run-once --plugin "$TP" >"$T/$1.stdout" \
	    2>"$T/$1.stderr" || _rc=$?
	[ "$_rc" -eq 0 ] || fail "$1: futured --run-once exited $_rc: $(cat "$T/$1.stderr")"
	[ ! -e "$T/$1.result.tmp" ] || fail "$1: the temporary file is left"
	python3 - "$WIRE" "$T/$1.result" <<-'EOF'
	import sys
	sys.path.insert(0, sys.argv[1])
	from wire import fields
	for num, v in fields(open(sys.argv[2], "rb").read()):
	    print("%d=%s" % (num, v.decode() if isinstance(v, bytes) else v))
	EOF
}

cd "$T"
task echo echo 3 hello
out=$(once echo)
ck_eq "$out" "$(printf '1=7\n2=2\n5=hello\n7=1\n8=1')" "echo's outcome"
printf 'some payload' >"$T/p"
task sha sha256 3 "some payload"
ck_match "$(once sha)" "5=$(sha256sum "$T/p" | cut -c1-64)" "sha256's output"
pass "a cpu handler's outcome: its output, done and ok"

# sleep has no run(): its start() on a loop of the one-shot's own.
task sl sleep 1 "" 200ms
t0=$(now_ms)
out=$(once sl)
el=$(( $(now_ms) - t0 ))
ck_eq "$out" "$(printf '1=7\n2=2\n7=1\n8=1')" "sleep's outcome"
[ "$el" -ge 200 ] || fail "sleep 200ms took $el ms"
task bad sleep 1 "" soon
ck_match "$(once bad)" '9=sleep: bad duration "soon"' "sleep of a bad duration"
pass "an async handler on a loop of its own ($el ms)"

task mark mark 3
out=$(once mark)
ck_match "$out" "8=0" "mark without a file fails"
ck_match "$out" "9=mark: no file" "with its message"
task lines lines 3 "" 2 10
ck_eq "$(once lines | grep -Ec '^(5=)?line [12] ')" 2 "a plugin's output lines"
pass "a plugin handler: its failure message and its output"

task ex exec 3 "" true
ck_match "$(once ex)" "9=handler exec runs only in the daemon" "exec"
task nope nope 3
ck_match "$(once nope)" "9=no handler nope here" "an unknown handler"
pass "what it cannot run fails the job, saying why"

# No Task: exit 2, and a message; no outcome written.
ck_exit 2 env -u FUTURED_ONESHOT "$FUTURED" --run-once
ck_match "$(cat "$T/err")" "FUTURED_ONESHOT" "without FUTURED_ONESHOT"
printf 'not a task' >"$T/junk.task"
ck_exit 2 env FUTURED_ONESHOT="$T/junk.task" \
    FUTURED_ONESHOT_RESULT="$T/junk.result" "$FUTURED" --run-once
ck_match "$(cat "$T/err")" "not a Task" "a file that is not a Task"
[ ! -e "$T/junk.result" ] || fail "an outcome for a file that is no Task"
ck_exit 2 env FUTURED_ONESHOT="$T/none.task" \
    FUTURED_ONESHOT_RESULT="$T/none.result" "$FUTURED" --run-once
ck_match "$(cat "$T/err")" "none.task: No such file" "a missing Task file"
ck_exit 2 env FUTURED_ONESHOT="$T/echo.task" \
    FUTURED_ONESHOT_RESULT="$T/no/such/dir/r" "$FUTURED" --run-once
ck_match "$(cat "$T/err")" "no/such/dir" "an outcome that cannot be written"
ck_exit 2 env FUTURED_ONESHOT="$T/echo.task" \
    FUTURED_ONESHOT_RESULT="$T/x.result" "$FUTURED" --run-once --frob
ck_match "$(cat "$T/err")" "usage" "an unknown option"
pass "no Task, a bad one, nowhere to write: exit 2 with a message"

# A C worker on libfutured's fut_worker_serve (tests/integration/cworker)
# is a one-shot when FUTURED_ONESHOT is set: no daemon is reached (its
# socket argument names none), its handler runs once, and its output,
# stderr and failure land in the outcome; progress goes nowhere.
: "${CWORKER:?}"
# conce NAME: cworker's one-shot of $T/NAME.task; the outcome's fields.
conce() {
	rm -f "$T/$1.result"
	_rc=0
	FUTURED_ONESHOT=$T/$1.task FUTURED_ONESHOT_RESULT=$T/$1.result \
	    "$CWORKER" "$T/no-daemon.sock" 4 "$TOKEN" >"$T/$1.stdout" \
	    2>"$T/$1.stderr" || _rc=$?
	[ "$_rc" -eq 0 ] || fail "$1: cworker exited $_rc: $(cat "$T/$1.stderr")"
	[ ! -e "$T/$1.result.tmp" ] || fail "$1: the temporary file is left"
	python3 - "$WIRE" "$T/$1.result" <<-'EOF'
	import sys
	sys.path.insert(0, sys.argv[1])
	from wire import fields
	for num, v in fields(open(sys.argv[2], "rb").read()):
	    print("%d=%s" % (num, v.decode() if isinstance(v, bytes) else v))
	EOF
}
task cecho c.echo 2 "from C"
ck_eq "$(conce cecho)" "$(printf '1=7\n2=2\n5=from C\n7=1\n8=1')" \
    "c.echo's outcome"
ck_match "$(cat "$T/cecho.stdout")" "^registered" "cworker's own output"
task cfail c.fail 3
out=$(conce cfail)
ck_match "$out" "6=about to fail" "c.fail's stderr"
ck_match "$out" "8=0" "c.fail is not ok"
ck_match "$out" "9=c.fail asked to fail" "c.fail's message"
ck_match "$out" "10=CFailure" "c.fail's error type"
ck_match "$out" "11=detail: line 1" "c.fail's detail"
task cstream c.stream 1 "" 6
out=$(conce cstream)
ck_eq "$(printf '%s\n' "$out" | sed -n 's/^5=//p')" "1" "c.stream's output starts"
ck_eq "$(printf '%s\n' "$out" | grep -c '^[2-6]$')" 5 "c.stream's other lines"
ck_match "$out" "8=1" "c.stream is ok (its progress dropped)"
task cnone c.nosuch 3
ck_match "$(conce cnone)" "9=handler c.nosuch is not one of this one-shot worker's" \
    "a handler the worker does not serve"
ck_exit 1 env FUTURED_ONESHOT="$T/none.task" \
    FUTURED_ONESHOT_RESULT="$T/cnone.result" "$CWORKER" "$T/no.sock" 1
ck_match "$(cat "$T/err")" "none.task: No such file" "cworker: a missing Task"
ck_exit 1 env FUTURED_ONESHOT="$T/cecho.task" FUTURED_ONESHOT_RESULT= \
    "$CWORKER" "$T/no.sock" 1
ck_match "$(cat "$T/err")" "FUTURED_ONESHOT_RESULT is not set" \
    "cworker: nowhere to write"
ck_exit 1 env FUTURED_ONESHOT="$T/cecho.task" \
    FUTURED_ONESHOT_RESULT="$T/no/such/dir/r" "$CWORKER" "$T/no.sock" 1
ck_match "$(cat "$T/err")" "no/such/dir" "cworker: an outcome that cannot be written"
pass "libfutured's one-shot worker: output, stderr, failure, no daemon"

# The Python worker's one-shot: `python3 -m futured.worker` with
# FUTURED_ONESHOT set, no daemon (and no libfutured) needed.
if ! python_env; then
	exit 0
fi
cat >"$T/onemod.py" <<'PY'
import futured


@futured.task(kind="cpu")
def double(x):
    futured.current_task().output("side ")
    return 2 * x


@futured.task(kind="cpu")
def fails():
    raise KeyError("gone")
PY
pyrun - "$WIRE" <<'PY' || fail "Python one-shots"
import os, pickle, subprocess, sys
sys.path.insert(0, sys.argv[1])
from wire import field, fields
from futured import _task

def run(qual, args):
    p = _task.encode_call("onemod", qual, args, {})
    open("py.task", "wb").write(field(1, 0, 9) + field(2, 0, 1) +
        field(3, 2, b"py.cpu:onemod") + field(4, 0, 3) + field(5, 2, p))
    env = dict(os.environ, FUTURED_ONESHOT="py.task",
               FUTURED_ONESHOT_RESULT="py.result", PYTHONPATH=os.getcwd()
               + os.pathsep + os.environ["PYTHONPATH"])
    env.pop("FUTURED_LIBRARY", None)
    subprocess.run([sys.executable, "-m", "futured.worker", "--cpu",
                    "onemod"], env=env, check=True)
    return dict(fields(open("py.result", "rb").read()))

u = run("double", (21,))
assert (u[1], u[2], u[7], u[8]) == (9, 1, 1, 1), u
out = u[5]
assert out.startswith(b"side "), out
tag, body = _task.split_output(out)
assert tag == _task.TAG_RESULT and pickle.loads(body) == 42, out
u = run("fails", ())
assert u[8] == 0 and u[10] == b"KeyError" and u[9] == b"'gone'", u
assert b"raise KeyError" in u[11], u
tag, body = _task.split_output(u[5])
assert tag == _task.TAG_ERROR, u
PY
pass "python3 -m futured.worker: a one-shot's result and exception"
