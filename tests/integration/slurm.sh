# The Slurm engine against a real private one-node Slurm (slurmlib.sh):
# a command's output and exit status come back, cancel and a sub-minute
# timeout end a running job within seconds, an after chain runs in order
# and is cancelled when its first job fails, and the tools are called
# through wrappers on PATH that count them.

. "$TESTLIB"
. "$(dirname "$TESTLIB")/slurmlib.sh"
slurm_start

# Wrappers that count the calls (one line each).
mkdir -p "$T/bin"
for tool in sbatch squeue scancel; do
	real=$(command -v $tool)
	printf '#!/bin/sh\necho "$*" >>"%s/%s.calls"\nexec %s "$@"\n' \
	    "$T" "$tool" "$real" >"$T/bin/$tool"
	chmod +x "$T/bin/$tool"
done
PATH=$T/bin:$PATH start_daemon --slurm-dir "$T/shared" \
    --slurm-interval 300ms

calls() {
	if [ -f "$T/$1.calls" ]; then wc -l <"$T/$1.calls"; else echo 0; fi
}

state() {
	fctl --json status "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["state"])'
}

field() {
	fctl --json status "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}

# Output, stderr and exit status come back; the payload is stdin.
id=$(fctl submit --engine slurm -d payload exec -- sh -c \
    'cat; echo " out"; echo err >&2; exit 3')
ck_exit 1 fctl wait -t 60s "$id"
ck_exit 1 fctl result "$id"
ck_eq "$(cat "$T/out")" "payload out" "output of a Slurm job"
ck_eq "$(field "$id" exit_status)" 3 "exit status of a Slurm job"
ck_eq "$(calls sbatch)" 1 "sbatch calls for one job"
ck_eq "$(field "$id" engine)" slurm "engine in status --json"
ck_match "$(field "$id" slurm_job_id)" '^[0-9]+$' "slurm_job_id in status --json"
ck_match "$(cat "$T/sbatch.calls")" "--job-name=futured-$id " "sbatch's job name"
lid=$(fctl submit exec -- true)
ck_exit 0 fctl wait -t 30s "$lid"
ck_eq "$(field "$lid" engine)" local "engine of a local job"
ck_eq "$(field "$lid" slurm_job_id)" None "slurm_job_id of a local job"
id=$(fctl submit --engine slurm exec -- echo hello)
ck_exit 0 fctl wait -t 60s "$id"
ck_exit 0 fctl result "$id"
ck_eq "$(cat "$T/out")" "hello" "output of a succeeded Slurm job"
pass "output and exit status of Slurm jobs"

# futurectl run: the command's output and exit status, from Slurm.
ck_exit 5 fctl run --engine slurm -- sh -c 'echo ran; exit 5'
ck_eq "$(cat "$T/out")" ran "run --engine slurm"
pass "run --engine slurm"

# A group's concurrency limit holds: the second job waits in futured.
ck_exit 0 fctl group lim --parallel 1
# The first runs until the test has looked (a gate, not a sleep).
g1=$(fctl submit --engine slurm -g lim exec -- sh -c "until [ -e '$T/g1.go' ]; do sleep 0.2; done; echo g1")
g2=$(fctl submit --engine slurm -g lim exec -- echo g2)
wait_until 60 sh -c "[ \"\$(squeue -h -o %T -n futured-$g1)\" = RUNNING ]" ||
    fail "the group's first job never ran"
ck_eq "$(state "$g2")" queued "the group's second job while the first runs"
ck_eq "$(squeue -h -t all -o %T -n "futured-$g2")" "" "the second, in Slurm"
: >"$T/g1.go"
ck_exit 0 fctl wait -t 60s "$g1" "$g2"
pass "a group's limit holds for Slurm jobs"

# An unknown engine is refused (other handlers: slurm_handlers.sh).
ck_exit 2 fctl submit --engine moon exec -- true
ck_match "$(cat "$T/err")" "unknown engine" "an unknown engine"
pass "engine choices checked at submit"

# Cancel of a running job: scancel, and final within seconds.
id=$(fctl submit --engine slurm exec -- sleep 300)
wait_until 30 sh -c "[ \"\$(squeue -h -o %T -n futured-$id)\" = RUNNING ]" ||
    fail "the Slurm job never ran"
wait_until 10 sh -c "$FUTURECTL -s $SOCK --json status $id | grep -q '\"running\"'" ||
    fail "futured never saw it running"
t0=$(now_ms)
ck_exit 0 fctl cancel "$id"
ck_exit 3 fctl wait -t 30s "$id"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 5000 ] || fail "cancel took $el ms"
[ "$(calls scancel)" -ge 1 ] || fail "no scancel"
wait_until 20 sh -c "[ -z \"\$(squeue -h -o %T -n futured-$id | grep -v -e COMPLETING -e CANCELLED)\" ]" ||
    fail "the Slurm job survived its cancel"
pass "cancel of a running Slurm job ($el ms)"

# Back-off: a job that runs on quietly is polled less than every 300 ms
# (20 calls in 6 s), at most every 1.2 s (4 intervals).
id=$(fctl submit --engine slurm exec -- sleep 300)
wait_until 30 sh -c "$FUTURECTL -s $SOCK --json status $id | grep -q '\"running\"'" ||
    fail "futured never saw it running"
before=$(calls squeue)
sleep 6
n=$(( $(calls squeue) - before ))
[ "$n" -ge 3 ] && [ "$n" -le 10 ] || fail "$n squeue calls in 6 s"
ck_exit 0 fctl cancel "$id"
pass "polls back off while nothing changes ($n calls in 6 s)"

# A timeout shorter than Slurm's minute: timed out within seconds.
t0=$(now_ms)
ck_exit 4 fctl submit --engine slurm -t 2s -w exec -- sleep 300
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 20000 ] || fail "a 2 s timeout took $el ms"
grep -q -- "--time=2" "$T/sbatch.calls" || fail "no --time backstop"
pass "a 2 s timeout on Slurm ($el ms)"

# An after chain runs in order; when its first fails, the rest is cancelled.
a=$(fctl submit --engine slurm exec -- sh -c 'sleep 1; echo first')
b=$(fctl submit --engine slurm -a "$a" exec -- echo second)
ck_exit 0 fctl wait -t 60s "$b"
ck_exit 0 fctl result "$b"
ck_eq "$(cat "$T/out")" "second" "the second of a chain"
a=$(fctl submit --engine slurm exec -- sh -c 'sleep 1; exit 1')
b=$(fctl submit --engine slurm -a "$a" exec -- echo never)
ck_exit 1 fctl wait -t 60s "$a"
ck_exit 3 fctl wait -t 30s "$b"
pass "an after chain on Slurm, and its cancellation"

# Python: engine= reaches the daemon (the binding over libfutured).
if python_env; then
	out=$(pyrun -c 'import futured
f = futured.submit("exec", "sh", "-c", "echo py-$FUTURED_CTX_K",
    engine="slurm", ctx={"K": "v"})
print(f.result(60).decode().strip())') || fail "python submit on Slurm"
	ck_eq "$out" "py-v" "a Python job on Slurm, its context in its environment"
	pass "python: engine=\"slurm\""
fi

# futured.conf's slurm-handlers: exec jobs go to Slurm unless they say.
stop_daemon
printf 'slurm-handlers = exec\nslurm-dir = %s\nslurm-interval = 300ms\n' \
    "$T/shared" >"$T/futured.conf"
PATH=$T/bin:$PATH start_daemon -c "$T/futured.conf"
id=$(fctl submit exec -- echo routed)
ck_exit 0 fctl wait -t 60s "$id"
ck_eq "$(field "$id" engine)" slurm "engine of an exec job, by the config"
ck_exit 0 fctl result "$id"
ck_eq "$(cat "$T/out")" routed "output of a routed job"
id=$(fctl submit --engine local exec -- echo here)
ck_exit 0 fctl wait -t 30s "$id"
ck_eq "$(field "$id" engine)" local "a job that says local"
pass "slurm-handlers = exec in futured.conf"
