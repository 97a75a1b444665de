# Proves that a stopping daemon tells waiters the truth.  With a journal,
# a job that has not started stays queued and runs after the restart, so
# its waiters hear that the daemon is going away (futurectl exits 6),
# at once rather than at exit, never that it was cancelled; a request
# that would wait for one, and a submit, are refused the same way.  A
# running job cancelled after the shutdown grace is cancelled for its
# waiters and in the journal alike.  Without a journal the queued jobs
# are lost: cancelled, saying so.

. "$TESTLIB"
: "${abs_top_srcdir:?}"

# A job id from "futurectl status ID" once it is running.
running() {
	fctl status "$1" | grep -q running
}

start_daemon -j 1 --shutdown-grace 5s
blk=$(fctl submit -k blocking exec -- sh -c "sleep 30; : $TOKEN")
wait_until 10 running "$blk" || fail "the blocker never ran"
q=$(fctl submit -k blocking -d kept echo)
ck_eq "$(job_state "$q")" queued "queued behind the blocker"

( rc=0; fctl wait "$q" 2>"$T/waitq.err" || rc=$?; echo "$rc" >"$T/waitq.rc" ) &
( rc=0; fctl wait "$blk" 2>"$T/waitb.err" || rc=$?; echo "$rc" >"$T/waitb.rc" ) &
( rc=0; fctl submit -k blocking -w -d pushed echo >/dev/null \
    2>"$T/pushed.err" || rc=$?; echo "$rc" >"$T/pushed.rc" ) &
pushed=$((q + 1))
# Parked: the pushed job exists, and the three clients are connected.
wait_until 10 fctl status "$pushed" || fail "submit -w never submitted"
conns() {
	[ "$(fctl --json stats | jfield connections)" -ge 4 ]
}
wait_until 10 conns || fail "the waiters never connected"

# A client already connected sends SIGTERM itself, then finds a wait for
# the queued job and a submit refused, not answered "cancelled".
PYTHONPATH=$abs_top_srcdir/tests/integration PYTHONDONTWRITEBYTECODE=1 \
    python3 - "$SOCK" "$DPID" "$q" <<'PY' || fail "requests while stopping"
import os, signal, sys, time, wire
sock, pid, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = wire.connect(sock)
s.sendall(wire.frame(wire.request(1, 10, wire.field(1, 0, 1))))
assert wire.error_of(wire.read_frame(s)) is None, "hello"
os.kill(pid, signal.SIGTERM)
deadline, rid = time.monotonic() + 10, 2
while True:
    # WaitRequest{ids: [q], timeout_ms: 0}: a poll, until refused.
    s.sendall(wire.frame(wire.request(rid, 13,
        wire.field(1, 0, q) + wire.field(3, 0, 0))))
    e = wire.error_of(wire.read_frame(s))
    if e is not None:
        break
    assert time.monotonic() < deadline, "a wait for %d never refused" % q
    rid += 1
    time.sleep(0.01)
assert e[0] == 12 and "has not started" in e[1], e
s.sendall(wire.frame(wire.submit_echo(1000, b"late")))
e = wire.error_of(wire.read_frame(s))
assert e is not None and e[0] == 12 and "not accepting" in e[1], e
PY

# The waiters of unstarted jobs are told now, in the shutdown grace.
wait_until 30 test -s "$T/waitq.rc" || fail "the queued job's waiter not told"
wait_until 30 test -s "$T/pushed.rc" || fail "submit -w not told"
kill -0 "$DPID" 2>/dev/null || fail "the daemon left before the grace"
ck_eq "$(cat "$T/waitq.rc")" 6 "wait of a queued job: the daemon went away"
ck_match "$(cat "$T/waitq.err")" "shutting down.*journal keeps it" \
    "and says the journal keeps it"
ck_eq "$(cat "$T/pushed.rc")" 6 "submit -w of a queued job"
ck_match "$(cat "$T/pushed.err")" "shutting down" "submit -w says why"
# The grace runs out (no second signal: that would cancel at once).
wait "$DPID" || fail "futured exited non-zero on SIGTERM"
DPID=
wait_until 10 test -s "$T/waitb.rc" || fail "the running job's waiter not told"
ck_eq "$(cat "$T/waitb.rc")" 3 "the running job: cancelled after the grace"
ck_match "$(cat "$T/waitb.err")" "daemon shutting down" "cancelled, and why"
pass "SIGTERM: waiters of queued jobs exit 6 at once, of running ones 3"

start_daemon -j 1
ck_exit 0 fctl wait -t 30s "$q"
ck_eq "$(fctl result "$q")" kept "the queued job ran after the restart"
ck_exit 0 fctl wait -t 30s "$pushed"
ck_eq "$(fctl result "$pushed")" pushed "so did the submit -w one"
ck_eq "$(job_state "$blk")" cancelled "the journal too says cancelled"
stop_daemon
pass "after the restart: what the waiters heard is what the journal kept"

# Without a journal the queued jobs are lost, and their waiters hear so.
start_daemon -j 1 --journal none --shutdown-grace 5s
blk=$(fctl submit -k blocking exec -- sh -c "sleep 30; : $TOKEN")
wait_until 10 running "$blk" || fail "the blocker never ran"
q=$(fctl submit -k blocking -d lost echo)
( rc=0; fctl wait "$q" 2>"$T/lost.err" || rc=$?; echo "$rc" >"$T/lost.rc" ) &
conns1() {
	[ "$(fctl --json stats | jfield connections)" -ge 2 ]
}
wait_until 10 conns1 || fail "the waiter never connected"
kill -TERM "$DPID"
wait_until 30 test -s "$T/lost.rc" || fail "the lost job's waiter not told"
ck_eq "$(cat "$T/lost.rc")" 3 "no journal: the queued job is cancelled"
ck_match "$(cat "$T/lost.err")" "without a journal" "and says why"
wait "$DPID" || fail "futured exited non-zero on SIGTERM"
DPID=
pass "SIGTERM without a journal: queued jobs cancelled, saying why"
