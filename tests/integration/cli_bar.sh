# Proves futurectl's progress bar on a terminal: wait --progress, watch
# and run draw it on a pseudo-terminal (python3's pty module), with the
# fraction, elapsed time and the job's message, clear it before output
# and leave the line clean at the end (also around the prefixed lines
# of a watch of two jobs, whose bar says 100% only once both have
# ended); and draw nothing on a pipe, with TERM=dumb or with --json,
# where the output is as it always was.

. "$TESTLIB"
command -v python3 >/dev/null || { echo "skip - no python3"; exit 77; }
start_daemon

# ptyrun TERM GOFILE PATTERN CMD...: run CMD on a pty with TERM, wait
# until its output matches PATTERN (a Python regex over bytes), create
# GOFILE, read to the end; the output in $T/pty.out, the exit status
# in $T/pty.rc.  Fails after 30 s without the pattern.
cat >"$T/ptyrun.py" <<'PY'
import os, pty, re, select, sys, time
term, go, pat = sys.argv[1:4]
argv = sys.argv[4:]
env = dict(os.environ)
if term == "-":
    env.pop("TERM", None)
else:
    env["TERM"] = term
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(argv[0], argv, env)
out = b""
seen = False
deadline = time.time() + 30
while True:
    if not seen and re.search(pat.encode(), out):
        seen = True
        open(go, "w").close()
    if time.time() > deadline:
        os.kill(pid, 9)
        break
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            d = os.read(fd, 65536)
        except OSError:
            break
        if not d:
            break
        out += d
_, st = os.waitpid(pid, 0)
open(sys.argv[0] + ".out", "wb").write(out)
rc = os.waitstatus_to_exitcode(st)
open(sys.argv[0] + ".rc", "w").write(str(rc))
if not seen:
    sys.exit("pattern %r never seen in %r" % (pat, out))
PY
ptyrun() {
	rm -f "$T/ptyrun.py.out" "$T/ptyrun.py.rc"
	python3 "$T/ptyrun.py" "$@" || fail "ptyrun $*"
	cp "$T/ptyrun.py.out" "$T/pty.out"
	cat "$T/ptyrun.py.rc" >"$T/pty.rc"
}
# A job that reports 2/4 and waits for its go file, then ends.
job() {
	fctl submit -k async exec -- sh -c '
	echo "2/4 half way" >&"$FUTURED_PROGRESS_FD"
	until [ -e "$1" ]; do sleep 0.02; done
	echo finished' sh "$1"
}
# The bar as drawn: at line start, the fraction, elapsed, the message.
BAR='\r(running|0/1 done) \[=+> *\]  50% [0-9]+s (ETA [0-9hms]+ )?half way\x1b\[K'

id=$(job "$T/go1")
ptyrun xterm "$T/go1" "$BAR" "$FUTURECTL" -s "$SOCK" watch "$id"
ck_eq "$(cat "$T/pty.rc")" 0 "watch on a pty"
python3 - "$T/pty.out" <<'PY' || fail "watch's bar: $(od -c "$T/pty.out" | head -20)"
import sys
out = open(sys.argv[1], "rb").read()
# Cleared before the output line, and off the line at the end.
assert b"\r\x1b[Kfinished\r\n" in out, out
tail = out.rsplit(b"\r\n", 1)[-1]
assert tail == b"" or tail.endswith(b"\r\x1b[K"), out
assert b"succeeded\r\n" in out, out
PY
pass "watch draws a bar on a terminal, cleared around output"

id=$(job "$T/go2")
ptyrun xterm "$T/go2" "$BAR" "$FUTURECTL" -s "$SOCK" wait --progress "$id"
ck_eq "$(cat "$T/pty.rc")" 0 "wait --progress on a pty"
pass "wait --progress draws a bar"

ptyrun xterm "$T/go3" "$BAR" "$FUTURECTL" -s "$SOCK" run -- sh -c '
	echo "2/4 half way" >&"$FUTURED_PROGRESS_FD"
	until [ -e "$1" ]; do sleep 0.02; done
	echo finished; exit 3' sh "$T/go3"
ck_eq "$(cat "$T/pty.rc")" 3 "run on a pty exits as its command"
grep -q finished "$T/pty.out" || fail "run's output on a pty"
pass "run draws a bar"

# Several jobs: how many are done, the message with its job.
a=$(job "$T/go4")
b=$(job "$T/go4")
ptyrun xterm "$T/go4" "0/2 done \\[=+> *\\]  50% .*\\[($a|$b)\\] half way" \
    "$FUTURECTL" -s "$SOCK" wait --progress "$a" "$b"
ck_eq "$(cat "$T/pty.rc")" 0 "wait --progress of two jobs"
a=$(job "$T/go4w")
b=$(job "$T/go4w")
ptyrun xterm "$T/go4w" "0/2 done \\[=+> *\\]  50% .*\\[($a|$b)\\] half way" \
    "$FUTURECTL" -s "$SOCK" watch "$a" "$b"
ck_eq "$(cat "$T/pty.rc")" 0 "watch of two jobs on a pty"
python3 - "$T/pty.out" "$a" "$b" <<'PY' || fail "watch of two: $(od -c "$T/pty.out" | head -30)"
import sys
out = open(sys.argv[1], "rb").read()
for i in sys.argv[2:]:
    # Prefixed, and never drawn over.
    assert b"[%s] finished\r\n" % i.encode() in out, out
    head = out.split(b"[%s] finished" % i.encode())[0]
    assert head.endswith(b"\r\n") or head.endswith(b"\r\x1b[K"), out
PY
pass "a bar for several jobs"

# Two jobs that both say they are all but done and have not ended: the
# combined bar stops at 99%; 100% only once both have ended.
almost() {
	fctl submit -k async exec -- sh -c '
	echo "4/4 all but done" >&"$FUTURED_PROGRESS_FD"
	until [ -e "$1" ]; do sleep 0.02; done' sh "$1"
}
a=$(almost "$T/go8")
b=$(almost "$T/go8")
ptyrun xterm "$T/go8" "0/2 done \\[=+> *\\]  99% .*all but done" \
    "$FUTURECTL" -s "$SOCK" watch "$a" "$b"
ck_eq "$(cat "$T/pty.rc")" 0 "watch of two jobs all but done"
python3 - "$T/pty.out" <<'PY' || fail "100% before the end: $(od -c "$T/pty.out" | head -30)"
import re, sys
out = open(sys.argv[1], "rb").read()
for done, pct in re.findall(rb"\r([0-9])/2 done [^\r]*? +([0-9]+)%", out):
    assert done == b"2" or pct != b"100", out
PY
pass "a bar for several jobs says 100% only once all have ended"

# No bar: TERM=dumb, TERM unset, --json (on a pty), or a pipe.
for t in dumb -; do
	id=$(job "$T/go5$t")
	ptyrun "$t" "$T/go5$t" "job $id running" "$FUTURECTL" -s "$SOCK" \
	    watch "$id"
	ck_eq "$(cat "$T/pty.rc")" 0 "watch, TERM=$t"
	! grep -q "$(printf '\033')" "$T/pty.out" ||
	    fail "escape sequences with TERM=$t: $(od -c "$T/pty.out" | head)"
done
id=$(job "$T/go6")
ptyrun xterm "$T/go6" '"progress_msg":"half way"' "$FUTURECTL" -s "$SOCK" \
    --json watch "$id"
! grep -q "$(printf '\033')" "$T/pty.out" || fail "escapes with --json"
python3 - "$T/pty.out" <<'PY' || fail "--json on a pty: $(cat "$T/pty.out")"
import json, sys
for l in open(sys.argv[1], "rb").read().decode().splitlines():
    json.loads(l)
PY
id=$(job "$T/go7")
# The progress line is read before the watch starts: its first line has it.
wait_until 20 sh -c "\"\$1\" -s \"\$2\" --json status $id | grep -q 'half way'" \
    sh "$FUTURECTL" "$SOCK" || fail "no progress for job $id"
TERM=xterm "$FUTURECTL" -s "$SOCK" watch "$id" 2>&1 | cat >"$T/pipe.out" &
cpid=$!
wait_until 20 grep -q "job $id running 50% half way" "$T/pipe.out" ||
    fail "no progress line on a pipe: $(cat "$T/pipe.out")"
# Not a synchronisation: past the bar's half second, where a bar would
# have been drawn.
sleep 1
: >"$T/go7"
wait "$cpid"
! grep -q "$(printf '[\r\033]')" "$T/pipe.out" ||
    fail "a bar on a pipe: $(od -c "$T/pipe.out" | head)"
ck_eq "$(cat "$T/pipe.out")" "$(printf 'futurectl: job %s running 50%% half way\nfinished\nfuturectl: job %s succeeded' "$id" "$id")" \
    "watch on a pipe, as it was"
pass "no bar with TERM=dumb or unset, with --json, or on a pipe"

stop_daemon
