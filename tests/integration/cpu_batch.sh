# Proves that the cpu pool's batches keep every job's semantics: jobs sent
# in one burst to a fast worker wait in its FIFO as "queued", not
# "running"; cancelling one of them drops it unstarted without disturbing
# the worker or the job it runs; a worker killed with -9 while jobs wait
# behind its running one fails only that one, and the others run on its
# replacement and succeed; a timeout counts from the job's real start,
# not from when it was handed to the worker, and still fires after it;
# the jobs of a FIFO at SIGTERM never started, and run after the
# restart, once, though their attempt was journaled when handed over.
# Bursts are sent as one write with wire.py, so that one loop turn hands
# them all to the one worker (-P 1).

. "$TESTLIB"

WIRE_DIR=$(dirname "$TESTLIB")
export PYTHONPATH="$WIRE_DIR${PYTHONPATH:+:$PYTHONPATH}"

start_daemon -P 1 --grace 300ms

# burst SPEC...: submit each cpu job in one write, print their ids.  A
# SPEC is "handler|timeout_ms|arg|arg...", echo's arg being its payload.
burst() {
	python3 - "$SOCK" "$@" <<'PY'
import sys, wire
from wire import field, frame, request, fields

def spec(s):
    parts = s.split("|")
    b = field(1, 2, parts[0].encode()) + field(2, 0, 3)
    if parts[0] == "echo":
        b += field(3, 2, parts[2].encode())
    else:
        for a in parts[2:]:
            b += field(4, 2, a.encode())
    if parts[1] != "0":
        b += field(8, 0, int(parts[1]))
    return b

s = wire.connect(sys.argv[1])
out = b"".join(frame(request(i + 1, 11, field(1, 2, spec(a))))
               for i, a in enumerate(sys.argv[2:]))
s.sendall(out)
ids = {}
while len(ids) < len(sys.argv) - 2:
    r = dict(fields(wire.read_frame(s)))
    assert 12 in r, "submit refused: %r" % (r,)
    ids[r[1]] = dict(fields(r[12]))[1]
print(" ".join(str(ids[i + 1]) for i in range(len(ids))))
PY
}

workers() {
	pgrep -P "$DPID" -f -- "--worker" || true
}

field_of() {
	fctl --json status "$1" | jfield "$2"
}

# A worker that ran short jobs is "fast": it takes a burst into its FIFO.
warm() {
	# shellcheck disable=SC2046
	fctl wait -t 30s $(burst "echo|0|w" "echo|0|w" "echo|0|w") >/dev/null ||
	    fail "warm-up jobs failed"
}

# A job that runs in the worker until we let it finish: sha256 reads a
# FIFO until its writer closes it.
mkfifo "$T/gate1" "$T/gate2"

# Cancel a job waiting in the busy worker's FIFO.
warm
w0=$(workers)
set -- $(burst "sha256|0|$T/gate1" "echo|0|v1" "echo|0|v2")
long=$1 v1=$2 v2=$3
wait_until 30 sh -c "$FUTURECTL -s $SOCK status $long | grep -q running" ||
    fail "long job never ran"
ck_eq "$(job_state "$v1")" queued "a job in the worker's FIFO is queued"
ck_eq "$(field_of "$v1" started_at)" null "and has not started"
# The worker's reader thread answers while the long job runs.
ck_exit 0 timeout 30 "$FUTURECTL" -s "$SOCK" cancel "$v1"
ck_exit 3 fctl wait -t 30s "$v1"
ck_eq "$(field_of "$v1" ended)" "cancelled while queued" "dropped unstarted"
ck_eq "$(field_of "$v1" started_at)" null "the cancelled job never started"
ck_eq "$(job_state "$long")" running "the running job runs on"
printf gate >"$T/gate1"
ck_exit 0 fctl wait -t 30s "$long"
ck_eq "$(fctl result "$long")" "$(printf gate | sha256sum | cut -d' ' -f1)" \
    "the running job completes"
ck_eq "$(fctl result "$v2")" v2 "the next job in the FIFO runs"
ck_eq "$(workers)" "$w0" "the worker was not replaced"
pass "cancel in a busy worker's FIFO drops the job, not the worker"

# kill -9 of a worker with a deep FIFO.
warm
w0=$(workers)
set -- $(burst "sha256|0|/dev/zero" "echo|0|c1" "echo|0|c2" "echo|0|c3" \
    "echo|0|c4")
long=$1
shift
wait_until 30 sh -c "$FUTURECTL -s $SOCK status $long | grep -q running" ||
    fail "long job never ran"
for q in "$@"; do
	ck_eq "$(job_state "$q")" queued "job $q waits behind the long one"
done
kill -KILL "$w0"
ck_exit 1 fctl wait -t 30s "$long"
ck_match "$(field_of "$long" error)" "worker killed by signal 9" \
    "the running job names the signal"
ck_exit 0 fctl wait -t 30s "$@"
i=1
for q in "$@"; do
	ck_eq "$(fctl result "$q")" "c$i" "job $q ran on the new worker"
	ck_eq "$(field_of "$q" attempts)" 1 "job $q ran once"
	i=$((i + 1))
done
[ "$(workers)" != "$w0" ] || fail "the worker was not replaced"
pass "a crash with a deep FIFO fails only the running job"

# Timeouts count from the real start: t1 (300ms) waits 1s behind the
# gate and succeeds; t2 (300ms, endless) times out 300ms after its start.
warm
set -- $(burst "sha256|0|$T/gate2" "echo|300|t1" "sha256|300|/dev/zero")
t0=$(now_ms)
long=$1 t1=$2 t2=$3
sleep 1
ck_eq "$(job_state "$t1")" queued "t1 still waits, 1s after the burst"
printf gate >"$T/gate2"
ck_exit 0 fctl wait -t 30s "$long"
ck_eq "$(fctl result "$t1")" t1 "a 300ms job queued 1s behind another"
ck_exit 4 fctl wait -t 30s "$t2"
el=$(( $(now_ms) - t0 ))
[ "$el" -ge 1250 ] || fail "the timeout fired $el ms after the burst"
ck_match "$(field_of "$t2" error)" "timed out after" "timed out, not cancelled"
[ "$(field_of "$t2" started_at)" != null ] || fail "t2 never started"
pass "timeouts count from the start, not from the FIFO ($el ms)"

# Many short jobs from one write: all succeed, in order per worker.
warm
# shellcheck disable=SC2046
set -- $(burst $(i=0; while [ $i -lt 300 ]; do echo "echo|0|m$i"; \
    i=$((i + 1)); done))
ck_exit 0 fctl wait -t 30s "$@"
pass "a burst of 300 short cpu jobs succeeds"

w0=$(workers)
stop_daemon
# shellcheck disable=SC2086
! kill -0 $w0 2>/dev/null || fail "a worker outlived the daemon"
pass "clean stop"

# SIGTERM with jobs in a FIFO: their attempts were journaled when they
# were handed to the worker (a worker may start them at any time), so
# the shutdown gives them back, recorded: after the restart they run,
# once, rather than fail as interrupted.
start_daemon -P 1 --shutdown-grace 200ms
warm
mkfifo "$T/gate3"
set -- $(burst "sha256|0|$T/gate3" "echo|0|f1" "echo|0|f2")
long=$1
shift
wait_until 30 sh -c "$FUTURECTL -s $SOCK status $long | grep -q running" ||
    fail "long job never ran"
for q in "$@"; do
	ck_eq "$(job_state "$q")" queued "job $q waits in the FIFO"
done
stop_daemon
start_daemon -P 1
ck_exit 0 fctl wait -t 30s "$@"
i=1
for q in "$@"; do
	ck_eq "$(fctl result "$q")" "f$i" "job $q ran after the restart"
	ck_eq "$(field_of "$q" attempts)" 1 "job $q: one attempt"
	i=$((i + 1))
done
stop_daemon
pass "a FIFO's jobs at SIGTERM run after the restart, once"
