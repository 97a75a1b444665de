# Proves that cancel and timeout really stop the work, for every kind and
# for queued and running jobs: a cancelled or timed-out command leaves no
# process behind (its whole process group is killed), a job that ignores
# SIGTERM is killed after the grace, a cpu worker running a cancelled job
# is replaced and the next cpu job runs, and a deadline that passes in the
# queue means the job never starts.

. "$TESTLIB"
start_daemon -j 1 -P 1 --grace 500ms

# Running async sleep: cancelled at once.
id=$(fctl submit sleep 30s)
wait_until 30 sh -c "[ \"\$($FUTURECTL -s $SOCK --json status $id | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = running ]" ||
    fail "sleep never ran"
ck_exit 0 fctl cancel "$id"
ck_exit 3 fctl wait "$id"
ck_exit 0 fctl cancel "$id"
ck_match "$(cat "$T/out")" "already" "a second cancel says it had no effect"
pass "cancel a running async sleep"

# A spinning command tree under every kind: nothing survives the cancel.
for k in async blocking cpu; do
	id=$(fctl submit -k "$k" exec -- sh -c "sh -c 'while :; do :; done; : $TOKEN' & while :; do :; done; : $TOKEN")
	wait_until 30 pgrep -f "$TOKEN" || fail "$k: command never started"
	t0=$(now_ms)
	ck_exit 0 fctl cancel "$id"
	ck_exit 3 fctl wait "$id"
	wait_until 30 no_token_procs || fail "$k: processes left after cancel"
	pass "cancel a spinning $k command tree ($(( $(now_ms) - t0 )) ms)"
done

# Timeout of a long command: timed_out, exit 4, and nothing left.
t0=$(now_ms)
ck_exit 4 fctl submit -t 300ms -w exec -- sh -c "sleep 30; : $TOKEN"
el=$(( $(now_ms) - t0 ))
[ "$el" -ge 250 ] && [ "$el" -lt 20000 ] || fail "timeout took $el ms"
wait_until 30 no_token_procs || fail "processes left after timeout"
ck_exit 124 fctl run -t 300ms -- sleep 30
pass "timeout of a command ($el ms)"

# Timeout under each kind of engine.
ck_exit 4 fctl submit -k async -t 200ms -w sleep 30s
ck_exit 4 fctl submit -k cpu -t 200ms -w sha256 /dev/zero
ck_exit 4 fctl submit -k blocking -t 200ms -w sha256 /dev/zero
pass "timeout of async, cpu and blocking jobs"

# A command that ignores TERM is killed after the grace.
id=$(fctl submit exec -- sh -c "trap '' TERM; while :; do sleep 0.05; done; : $TOKEN")
wait_until 30 pgrep -f "$TOKEN" || fail "TERM-ignoring command never started"
t0=$(now_ms)
ck_exit 0 fctl cancel "$id"
el=$(( $(now_ms) - t0 ))
[ "$el" -ge 400 ] || fail "cancel returned after $el ms, before the grace"
ck_exit 3 fctl wait "$id"
ck_match "$(fctl --json status "$id" | jfield error)" "cancelled" "error says cancelled"
wait_until 30 no_token_procs || fail "TERM-ignoring command survived"
pass "KILL after the grace ($el ms)"

# A cpu job being cancelled: its worker is replaced and the next one runs.
id=$(fctl submit -k cpu sha256 /dev/zero)
wait_until 30 sh -c "$FUTURECTL -s $SOCK status $id | grep -q running" ||
    fail "cpu job never ran"
ck_exit 0 fctl cancel "$id"
ck_exit 3 fctl wait "$id"
ck_eq "$(fctl submit -k cpu -d again -w echo)" again "next cpu job after a cancel"
pass "cpu worker replaced after a cancel"

# Queued jobs: dropped at once; a deadline passing in the queue: never started.
blocker=$(fctl submit -k cpu sha256 /dev/zero)
q=$(fctl submit -k cpu -d x echo)
ck_eq "$(job_state "$q")" queued "second cpu job waits for the only worker"
ck_exit 0 fctl cancel "$q"
ck_exit 3 fctl wait "$q"
ck_eq "$(fctl --json status "$q" | jfield started_at)" null "cancelled queued job never started"
d=$(fctl submit -k cpu --deadline 200ms -d x echo)
ck_exit 4 fctl wait -t 30s "$d"
ck_eq "$(fctl --json status "$d" | jfield started_at)" null "deadline passed in the queue"
ck_match "$(fctl --json status "$d" | jfield error)" "deadline" "error names the deadline"
fctl cancel "$blocker" >/dev/null
pass "queued cancel and deadline"

# Blocking: cancel settles at once even though the handler runs on.
id=$(fctl submit -k blocking sha256 /dev/zero)
wait_until 30 sh -c "$FUTURECTL -s $SOCK status $id | grep -q running" ||
    fail "blocking job never ran"
ck_exit 0 fctl cancel "$id"
ck_exit 3 fctl wait "$id"
ck_eq "$(fctl submit -k blocking -d after -w echo)" after "blocking pool serves on"
pass "cancel a blocking job"

stop_daemon
wait_until 30 no_token_procs || fail "processes outlived the daemon"
