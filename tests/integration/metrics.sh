# Metrics: the three ways out -- futurectl metrics (and Python's
# futured.metrics(), the same request), --metrics-textfile and
# --metrics-listen -- parse with an independent parser (python3-
# prometheus-client's) and give the same families; the listener answers
# GET /metrics over HTTP and 404 elsewhere; the textfile is replaced by
# rename; bad option values are refused with a reason; systemd hears a
# STATUS= summary; after a restart the jobs taken over from the journal
# count as submitted, so that finished never outnumbers submitted.

. "$TESTLIB"
export T

# The Debian python3 that has it (make check's PYTHON), not one earlier
# in PATH.
PYP=${PYTHON:-python3}
[ "$PYP" != ":" ] || PYP=python3
if ! "$PYP" -c 'import prometheus_client.parser' 2>/dev/null; then
	echo "skip: python3-prometheus-client is not installed"
	exit 77
fi

# Bad values: a usage error (2) naming what was wrong, before anything.
ck_exit 2 "$FUTURED" -f -s "$SOCK" --metrics-interval 0
must grep -q 'bad --metrics-interval "0" (want 100ms or more)' "$T/err"
ck_exit 2 "$FUTURED" -f -s "$SOCK" --metrics-interval soon
must grep -q 'bad --metrics-interval "soon" (want 250ms' "$T/err"
ck_exit 2 "$FUTURED" -f -s "$SOCK" --metrics-listen 127.0.0:9464
must grep -q 'bad address "127.0.0"' "$T/err"
ck_exit 2 "$FUTURED" -f -s "$SOCK" --metrics-listen localhost:9464
must grep -q 'bad address "localhost"' "$T/err"
ck_exit 2 "$FUTURED" -f -s "$SOCK" --metrics-listen 127.0.0.1:65536
must grep -q 'bad port "65536"' "$T/err"
ck_exit 2 "$FUTURED" -f -s "$SOCK" --metrics-listen '[::1]:'
must grep -q 'bad port ""' "$T/err"
ck_exit 2 "$FUTURED" -f -s "$SOCK" --metrics-textfile ''
must grep -q 'empty --metrics-textfile' "$T/err"
# A directory that is not there stops the start, named.
ck_exit 1 "$FUTURED" -f -s "$SOCK" --journal none \
    --metrics-textfile "$T/nodir/futured.prom"
must grep -q "metrics-textfile: $T/nodir/futured.prom: cannot create" "$T/err"
pass "bad metrics options are refused, naming the value"

# systemd's STATUS=: a datagram socket that keeps what it hears.
python3 -u - "$T/notify" >"$T/notify.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
s.settimeout(60)
while True:
    msg = s.recv(4096).decode()
    print(msg.replace("\n", " "), flush=True)
    if "STOPPING=1" in msg:
        break
PY
NPID=$!
wait_until 10 grep -q bound "$T/notify.out" || fail "notify listener"

mkdir -m 755 "$T/prom"
NOTIFY_SOCKET=$T/notify start_daemon --metrics-textfile "$T/prom/futured.prom" \
    --metrics-interval 100ms --metrics-listen 127.0.0.1:0
wait_until 10 grep -q 'metrics: listening on http://127.0.0.1:' \
    "$T/daemon.log" || fail "the listener did not say where it listens"
URL=$(sed -n 's|.*metrics: listening on \(http://[^ ]*\).*|\1|p' \
    "$T/daemon.log" | head -n 1)
[ -f "$T/prom/futured.prom" ] || fail "no textfile once the daemon is up"
ck_eq "$(stat -c %a "$T/prom/futured.prom")" 644 "the textfile's mode"

# Jobs of every outcome the families count.
must fctl submit -w -d hi echo >/dev/null
must fctl submit -w -k cpu -d hi echo >/dev/null
ck_exit 1 fctl submit -w exec -- false
ID=$(fctl submit sleep 60)
must fctl cancel "$ID" >/dev/null

# Everything the summary says is counted: 4 done.
wait_until 10 grep -q 'STATUS=0 running, 0 queued, 4 done' "$T/notify.out" ||
    fail "STATUS= summary: $(tail -n 3 "$T/notify.out")"
# At most once a second: a burst of 30 jobs is a line per second it
# takes (and one more at each end), not 60.
before=$(grep -c STATUS= "$T/notify.out")
t0=$(now_ms)
i=0
while [ $i -lt 30 ]; do
	fctl submit -d x echo >/dev/null
	i=$((i + 1))
done
wait_until 10 grep -q 'STATUS=0 running, 0 queued, 34 done' \
    "$T/notify.out" || fail "STATUS= after the burst"
after=$(grep -c STATUS= "$T/notify.out")
secs=$(( ($(now_ms) - t0 + 999) / 1000 ))
[ $((after - before)) -le $((secs + 2)) ] ||
    fail "STATUS= sent $((after - before)) times in a $secs s burst"
pass "sd_notify STATUS= summary, at most once a second"

# The textfile is replaced whole (rename: a new inode), never rewritten.
ino=$(stat -c %i "$T/prom/futured.prom")
wait_until 10 sh -c "[ \$(stat -c %i '$T/prom/futured.prom') != $ino ]" ||
    fail "the textfile was not replaced within 10 s"
wait_until 10 grep -q 'futured_jobs_submitted_total{kind="async",handler="echo"} 31' \
    "$T/prom/futured.prom" || fail "the textfile does not count the jobs"
pass "textfile rewritten by rename every interval"

fctl metrics >"$T/ctl.txt" || fail "futurectl metrics"
fctl --json metrics | python3 -c '
import json, sys
sys.stdout.write(json.loads(sys.stdin.read())["text"])' >"$T/json.txt" ||
    fail "futurectl --json metrics"
cp "$T/prom/futured.prom" "$T/file.txt"
if python_env >/dev/null; then
	pyrun -c 'import futured, sys; sys.stdout.write(futured.metrics())' \
	    >"$T/py.txt" || fail "futured.metrics()"
else
	cp "$T/ctl.txt" "$T/py.txt"
fi

"$PYP" - "$URL" "$T" <<'PY' || fail "the three transports disagree"
import sys, urllib.request, urllib.error
from prometheus_client.parser import text_string_to_metric_families

url, t = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(url, timeout=10) as r:
    assert r.status == 200, r.status
    ctype = r.headers["Content-Type"]
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    http = r.read().decode()
for path in ("/", "/metrics/x", "/other"):
    try:
        urllib.request.urlopen(url.replace("/metrics", path), timeout=10)
        raise SystemExit("%s: not 404" % path)
    except urllib.error.HTTPError as e:
        assert e.code == 404, (path, e.code)

def parse(text):
    fams = {}
    for f in text_string_to_metric_families(text):
        assert f.name not in fams, "family %s twice" % f.name
        fams[f.name] = f
    return fams

texts = {"http": http}
for name in ("ctl", "json", "file", "py"):
    texts[name] = open("%s/%s.txt" % (t, name)).read()
parsed = {k: parse(v) for k, v in texts.items()}
shape = {k: sorted((n, f.type) for n, f in v.items())
         for k, v in parsed.items()}
for k in shape:
    assert shape[k] == shape["ctl"], (k, shape[k], shape["ctl"])

want = {
    "futured_jobs_submitted": "counter",
    "futured_jobs_finished": "counter",
    "futured_jobs": "gauge",
    "futured_job_queue_wait_seconds": "histogram",
    "futured_job_run_seconds": "histogram",
    "futured_pool_slots": "gauge",
    "futured_pool_busy": "gauge",
    "futured_worker_restarts": "counter",
    "futured_connections": "gauge",
    "futured_journal_fsync_seconds": "histogram",
}
fams = parsed["http"]
for n, typ in want.items():
    assert n in fams, "no family %s" % n
    assert fams[n].type == typ, (n, fams[n].type)

def value(f, name, **labels):
    for s in fams[f].samples:
        if s.name == name and all(s.labels.get(k) == v
                                  for k, v in labels.items()):
            return s.value
    raise SystemExit("no sample %s %s" % (name, labels))

assert value("futured_jobs_submitted", "futured_jobs_submitted_total",
             kind="async", handler="echo") == 31
assert value("futured_jobs_finished", "futured_jobs_finished_total",
             kind="cpu", handler="echo", outcome="succeeded") == 1
assert value("futured_jobs_finished", "futured_jobs_finished_total",
             kind="cpu", handler="exec", outcome="failed") == 1
assert value("futured_jobs_finished", "futured_jobs_finished_total",
             kind="async", handler="sleep", outcome="cancelled") == 1
assert value("futured_jobs", "futured_jobs", state="succeeded") == 32
# Two daemons' connections at most: futurectl's, Python's, none left.
assert value("futured_connections", "futured_connections") <= 1
# A histogram's buckets are cumulative, +Inf is the count.
for f in ("futured_job_run_seconds", "futured_job_queue_wait_seconds"):
    b = [s for s in fams[f].samples
         if s.name.endswith("_bucket") and s.labels["kind"] == "async"]
    assert b[-1].labels["le"] == "+Inf"
    assert all(x.value <= y.value for x, y in zip(b, b[1:]))
    assert b[-1].value == value(f, f + "_count", kind="async")
# futured's journal is on, with --fsync always: each submit synced.
assert value("futured_journal_fsync_seconds",
             "futured_journal_fsync_seconds_count") > 0
# No label names a job or a user.
for f in fams.values():
    for s in f.samples:
        assert not set(s.labels) & {"id", "job", "uid", "user"}, s
PY
pass "futurectl, Python, textfile and HTTP give the same families, parsed"

# A cpu worker killed is replaced, and counted.
w=$(pgrep -P "$DPID" -f -- "--worker" | head -n 1)
[ -n "$w" ] || fail "no cpu worker to kill"
kill -KILL "$w"
wait_until 10 sh -c "'$FUTURECTL' -s '$SOCK' metrics |
    grep -qx 'futured_worker_restarts_total 1'" ||
    fail "a worker killed is not counted: $(fctl metrics | grep restarts)"
pass "a cpu worker replaced counts in futured_worker_restarts_total"

# Another daemon cannot take the same port: it says so and stops.
PORT=${URL#http://127.0.0.1:}
PORT=${PORT%/metrics}
ck_exit 1 "$FUTURED" -f -s "$T/other.sock" --journal none \
    --metrics-listen "127.0.0.1:$PORT"
must grep -q "metrics-listen 127.0.0.1:$PORT: Address already in use" "$T/err"
pass "a port in use stops the start, named"

stop_daemon
wait "$NPID" || fail "notify listener"

# Out of descriptors, the listener pauses instead of spinning on a
# readable socket it cannot accept from, and serves again after.
hard=$(ulimit -H -n)
if [ "$hard" != unlimited ] && [ "$hard" -le 64 ]; then
	echo "skip - hard descriptor limit $hard"
else
	: >"$T/daemon.log"
	(
		ulimit -n 64
		exec "$FUTURED" -f -s "$SOCK" -l debug --journal none -P 1 \
		    -j 1 --metrics-listen 127.0.0.1:0 >>"$T/daemon.log" 2>&1
	) &
	DPID=$!
	wait_until 10 fctl ping || fail "futured did not come up"
	URL=$(sed -n 's|.*metrics: listening on \(http://[^ ]*\).*|\1|p' \
	    "$T/daemon.log" | head -n 1)
	"$PYP" - "$URL" "$DPID" <<'PY' || fail "the listener out of descriptors"
import os, socket, sys, time, urllib.request
url, pid = sys.argv[1], sys.argv[2]
host, port = url.split("/")[2].split(":")
held = []
for i in range(100):
    held.append(socket.create_connection((host, int(port)), timeout=10))
deadline = time.monotonic() + 10
while b"not accepting for a second" not in open(
        os.environ["T"] + "/daemon.log", "rb").read():
    assert time.monotonic() < deadline, "no pause logged"
    time.sleep(0.05)
# A spinning loop would log each failed accept(): 100 000s of lines.
time.sleep(1.5)
n = open(os.environ["T"] + "/daemon.log", "rb").read().count(b"accept")
assert n < 20, "the daemon spun: %d lines about accept in 1.5 s" % n
for s in held:
    s.close()
deadline = time.monotonic() + 15
while True:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.status == 200
            break
    except OSError:
        assert time.monotonic() < deadline, "never served again"
        time.sleep(0.2)
PY
	fctl ping >/dev/null || fail "the daemon stopped answering"
	stop_daemon
	pass "out of descriptors, the listener pauses and serves again"
fi
# After a crash and a restart, the jobs taken over from the journal
# count as submitted in the new daemon's life: a job that was running
# fails "daemon restarted" and those waiting on it end too, yet finished
# never outnumbers submitted, and submitted less finished is the jobs
# not yet final.
: >"$T/daemon.log"
start_daemon --journal "$T/restart.journal"
done1=$(fctl submit -d x echo)
must fctl wait "$done1" >/dev/null
run=$(fctl submit -k async sleep 60)
wait_until 10 sh -c "\"\$1\" -s \"\$2\" status $run | grep -q running" \
    sh "$FUTURECTL" "$SOCK" || fail "the sleep job did not start"
dep=$(fctl submit -a "$run" -d y echo)
queued=$(fctl submit -a "$run" -k async sleep 60)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
start_daemon --journal "$T/restart.journal"
ck_exit 1 fctl wait "$run"
ck_match "$(cat "$T/err")" "daemon restarted" "the running job's end"
fctl wait "$dep" "$queued" >/dev/null 2>&1 || true
fctl metrics >"$T/restart.txt" || fail "futurectl metrics after a restart"
"$PYP" - "$T/restart.txt" <<'PY' || fail "counters after a restart: $(grep -E '^futured_jobs(_submitted|_finished)?[_{]' "$T/restart.txt")"
import sys
from collections import defaultdict
from prometheus_client.parser import text_string_to_metric_families
sub, fin, live = defaultdict(float), defaultdict(float), 0
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in f.samples:
        if s.name == "futured_jobs_submitted_total":
            sub[s.labels["kind"], s.labels["handler"]] += s.value
        elif s.name == "futured_jobs_finished_total":
            fin[s.labels["kind"], s.labels["handler"]] += s.value
        elif s.name == "futured_jobs" and s.labels["state"] in (
                "waiting", "queued", "running"):
            live += s.value
for k in fin:
    assert fin[k] <= sub[k], (k, fin[k], sub[k])
# The three taken over; the one final before the crash in neither.
assert sub["async", "sleep"] == 2, sub
assert sub["async", "echo"] == 1, sub
assert fin["async", "sleep"] == 2, fin
assert sum(sub.values()) - sum(fin.values()) == live, (sub, fin, live)
PY
stop_daemon
pass "after a restart, jobs taken over count as submitted: finished <= submitted"

ls -a "$T/prom" >"$T/prom.ls"
ck_eq "$(grep -c '^\.futured\.prom\.' "$T/prom.ls" || true)" 0 \
    "temporary textfiles left behind"
pass "no temporary textfile left"
