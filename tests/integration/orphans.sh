# Proves that a daemon restarted after a kill -9 ends the commands of
# the jobs that were running: the journal names each command's process
# (pid, start time, boot) and the replay kills that process group while
# its leader is still that very process.  A job without retries left is
# failed ("daemon restarted") and its command is gone; one with a retry
# left runs again, afresh, and its old command is gone too.

. "$TESTLIB"

gone() {
	! pgrep -f "$1" >/dev/null
}

start_daemon
id=$(fctl submit exec -- sh -c "sleep 300; : lead$TOKEN")
rid=$(fctl submit -r 1 exec -- sh -c "echo run >>$T/runs; sleep 300; : retry$TOKEN")
wait_until 10 pgrep -f "lead$TOKEN" || fail "the command never started"
wait_until 10 pgrep -f "retry$TOKEN" || fail "the retried command never started"
old=$(pgrep -f "retry$TOKEN")
# The process is journaled once known: wait for its record to be written.
wait_until 10 sh -c "[ \"\$(cat $T/runs 2>/dev/null)\" = run ]"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
pgrep -f "lead$TOKEN" >/dev/null || fail "the command died with the daemon"

start_daemon
wait_until 10 gone "lead$TOKEN" ||
    fail "the command of a job failed by the restart lives on"
ck_eq "$(job_state "$id")" failed "the job failed with the restart"
ck_match "$(fctl --json status "$id" | jfield error)" "daemon restarted" \
    "the error says why"
ck_match "$(cat "$T/daemon.log")" "job $id: killed process group" \
    "the kill is logged"
pass "a job failed by a restart has its command killed"

wait_until 10 sh -c "! kill -0 $old 2>/dev/null" ||
    fail "the first attempt of a requeued job lives on"
wait_until 10 sh -c "[ \$(wc -l <$T/runs) -eq 2 ]" ||
    fail "the requeued job did not run again"
ck_eq "$(job_state "$rid")" running "the requeued job runs again"
ck_exit 0 fctl cancel "$rid"
ck_exit 3 fctl wait -t 30s "$rid"
stop_daemon
pass "a requeued job's old command is killed, a new one runs"
