# The Slurm engine across a kill -9 of futured, against a real private
# Slurm (slurmlib.sh) that forgets ended jobs after 2 s: the jobs that
# were running are followed again and their results arrive, with one
# sbatch per job, after chains pending on afterok too; a job Slurm
# forgot without an exit status fails as lost, never succeeds; 100
# tracked jobs cost one squeue per interval.

. "$TESTLIB"
. "$(dirname "$TESTLIB")/slurmlib.sh"
slurm_start 2

mkdir -p "$T/bin"
for tool in sbatch squeue scancel sacct; do
	real=$(command -v $tool)
	printf '#!/bin/sh\necho "$*" >>"%s/%s.calls"\nexec %s "$@"\n' \
	    "$T" "$tool" "$real" >"$T/bin/$tool"
	chmod +x "$T/bin/$tool"
done
# squeue, slowed while $T/slowq exists: a poll is nearly always running.
real=$(command -v squeue)
cat >"$T/bin/squeue" <<EOS
#!/bin/sh
echo "\$*" >>"$T/squeue.calls"
if [ -e "$T/slowq" ]; then sleep 1; fi
exec $real "\$@"
EOS
# sbatch, slowed while $T/slow exists: it has submitted, not yet said;
# while $T/hold exists it waits before submitting, then fails.
real=$(command -v sbatch)
cat >"$T/bin/sbatch" <<EOS
#!/bin/sh
echo "\$*" >>"$T/sbatch.calls"
if [ -e "$T/hold" ]; then
	touch "$T/held"
	while [ -e "$T/hold" ]; do sleep 0.1; done
	exit 1
fi
out=\$($real "\$@") || exit \$?
if [ -e "$T/slow" ]; then touch "$T/slowed"; sleep 5; fi
echo "\$out"
EOS
daemon() {
	PATH=$T/bin:$PATH start_daemon --slurm-dir "$T/shared" "$@"
}
calls() {
	if [ -f "$T/$1.calls" ]; then wc -l <"$T/$1.calls"; else echo 0; fi
}
field() {
	fctl --json status "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}
kill9() {
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null || true
	DPID=
}

# kill -9 while three jobs run; the restarted daemon follows them.
# Each runs until the test touches its gate: a loaded machine may take
# longer to see them run than any fixed sleep.
daemon --slurm-interval 300ms
ids=
for n in 1 2 3; do
	ids="$ids $(fctl submit --engine slurm exec -- sh -c "until [ -e '$T/run.go' ]; do sleep 0.2; done; echo done-$n")"
done
for id in $ids; do
	wait_until 60 sh -c "[ \"\$(squeue -h -o %T -n futured-$id)\" = RUNNING ]" ||
	    fail "job $id never ran on Slurm"
done
kill9
daemon --slurm-interval 300ms
: >"$T/run.go"
n=0
for id in $ids; do
	n=$((n + 1))
	ck_exit 0 fctl wait -t 60s "$id"
	ck_exit 0 fctl result "$id"
	ck_eq "$(cat "$T/out")" "done-$n" "result of job $id after kill -9"
done
ck_eq "$(calls sbatch)" 3 "sbatch calls for three jobs and a restart"
grep -q "followed again" "$T/daemon.log" || fail "no job followed again"
pass "kill -9 and restart: results arrive, one sbatch per job"

# kill -9 while sbatch has submitted but not answered: the restarted
# daemon finds the Slurm job by its name and comment, and submits
# nothing again.
touch "$T/slow"
id=$(fctl submit --engine slurm exec -- sh -c "until [ -e '$T/late.go' ]; do sleep 0.2; done; echo late")
wait_until 30 test -e "$T/slowed" || fail "sbatch never ran"
kill9
rm -f "$T/slow"
before=$(calls sbatch)
daemon --slurm-interval 300ms
wait_until 60 grep -q "found Slurm job" "$T/daemon.log" || fail "not found by name"
: >"$T/late.go"
ck_exit 0 fctl wait -t 60s "$id"
ck_exit 0 fctl result "$id"
ck_eq "$(cat "$T/out")" late "result of a job whose sbatch was cut short"
ck_eq "$(calls sbatch)" "$before" "sbatch calls after the restart"
grep -q "found Slurm job" "$T/daemon.log" || fail "not found by name"
pass "kill -9 during sbatch: found by name, not submitted twice"

# kill -9 once the attempt's START is on disk and sbatch runs, before
# it submitted anything: the restarted daemon finds no Slurm job by
# that name, and submits it once.
touch "$T/hold"
before=$(calls sbatch)
id=$(fctl submit --engine slurm exec -- echo once)
wait_until 30 test -e "$T/held" || fail "sbatch never ran"
kill9
rm -f "$T/hold"
daemon --slurm-interval 300ms
ck_exit 0 fctl wait -t 60s "$id"
ck_exit 0 fctl result "$id"
ck_eq "$(cat "$T/out")" once "result of a job whose sbatch never submitted"
ck_eq "$(( $(calls sbatch) - before ))" 2 \
    "sbatch calls: the one cut short, then one"
pass "kill -9 before sbatch submitted: submitted once after the restart"

# kill -9 while after chains wait in Slurm on afterok: the restarted
# daemon follows them again, submitting nothing twice; one runs in
# order, the other's first fails and the rest ends with futured's cause.
: >"$T/order"
before=$(calls sbatch)
a=$(fctl submit --engine slurm exec -- sh -c "until [ -e '$T/chain.go' ]; do sleep 0.2; done; echo A >>$T/order")
b=$(fctl submit --engine slurm -a "$a" exec -- sh -c "echo B >>$T/order")
c=$(fctl submit --engine slurm -a "$b" exec -- sh -c "echo C >>$T/order")
fa=$(fctl submit --engine slurm exec -- sh -c "until [ -e '$T/chain.go' ]; do sleep 0.2; done; exit 1")
fb=$(fctl submit --engine slurm -a "$fa" exec -- echo never)
fc=$(fctl submit --engine slurm -a "$fb" exec -- echo never)
for id in "$c" "$fc"; do
	wait_until 60 sh -c "squeue -h -o %r -n futured-$id | grep -q Dependency" ||
	    fail "job $id never pended on its dependency in Slurm"
done
kill9
daemon --slurm-interval 300ms
: >"$T/chain.go"
ck_exit 0 fctl wait -t 60s "$a" "$b" "$c"
ck_eq "$(tr '\n' ' ' <"$T/order")" "A B C " "a chain's order across a restart"
ck_exit 1 fctl wait -t 60s "$fa"
ck_exit 3 fctl wait -t 30s "$fb" "$fc"
ck_eq "$(field "$fb" error)" "dependency $fa failed" "B's cause"
ck_eq "$(field "$fc" error)" "dependency $fb cancelled" "C's cause"
ck_eq "$(( $(calls sbatch) - before ))" 6 "sbatch calls for two chains"
pass "kill -9 with chains pending on afterok: followed again"

# A job whose sbatch answers late, while polls for another job run on
# (slowly, so that one runs when its id comes): the polls that could
# not name it do not count it missing, and it is not lost.
touch "$T/slowq"
k=$(fctl submit --engine slurm exec -- sleep 300)
wait_until 30 sh -c "[ \"\$(squeue -h -o %T -n futured-$k)\" = RUNNING ]" ||
    fail "job $k never ran on Slurm"
rm -f "$T/slowed"
touch "$T/slow"
id=$(fctl submit --engine slurm exec -- sh -c 'sleep 9; echo answered-late')
wait_until 30 test -e "$T/slowed" || fail "sbatch never ran"
rm -f "$T/slow"
ck_exit 0 fctl wait -t 60s "$id"
ck_exit 0 fctl result "$id"
ck_eq "$(cat "$T/out")" answered-late "a job whose sbatch answered late"
rm -f "$T/slowq"
ck_exit 0 fctl cancel "$k"
pass "a job tracked while a poll runs is not counted missing by it"

# Slurm forgets a job that left no exit status: lost, not succeeded.
# The batch script's shell dies by SIGKILL (as on a node that went down)
# before its command ends, so it never writes the rc file.  Not scancel:
# its SIGTERM may reach the command before the shell, which then writes
# the command's status (143) as it should, and the job fails with it.
id=$(fctl submit --engine slurm exec -- sh -c "until [ -e '$T/lose' ]; do sleep 0.2; done; kill -KILL \$PPID")
wait_until 60 sh -c "[ \"\$(squeue -h -o %T -n futured-$id)\" = RUNNING ]" ||
    fail "job $id never ran on Slurm"
kill9
: >"$T/lose"
wait_until 60 sh -c "[ -z \"\$(squeue -h -t all -o %T -n futured-$id)\" ]" ||
    fail "Slurm never forgot job $id"
daemon --slurm-interval 300ms
ck_exit 1 fctl wait -t 30s "$id"
ck_eq "$(field "$id" state)" failed "state of a lost job"
ck_match "$(field "$id" error)" "lost by Slurm" "error of a lost job"
# No accounting here: sacct was asked, and could not say.
grep -q -- "--jobs=" "$T/sacct.calls" || fail "sacct was not asked"
pass "a job Slurm forgot is lost, not succeeded"
stop_daemon

# 100 tracked jobs: one squeue call per interval for all of them.  They
# wait for a gate, so that all are tracked at once however slowly they
# are submitted (8 run, the others pend in Slurm).
rm -f "$T/squeue.calls"
daemon --slurm-interval 1s
t0=$(now_ms)
ids=
i=0
while [ $i -lt 100 ]; do
	ids="$ids $(fctl submit --engine slurm exec -- sh -c \
	    "while [ ! -e '$T/gate' ]; do sleep 0.2; done")"
	i=$((i + 1))
done
most() {
	awk '{ n = split($NF, a, ","); if (n > m) m = n } END { print m + 0 }' \
	    "$T/squeue.calls"
}
all_named() {
	[ -f "$T/squeue.calls" ] && [ "$(most)" -ge 100 ]
}
wait_until 30 all_named ||
    fail "no squeue named all 100 jobs (at most $(most))"
touch "$T/gate"
for id in $ids; do
	ck_exit 0 fctl wait -t 120s "$id"
done
el=$(( $(now_ms) - t0 ))
polls=$(calls squeue)
[ "$polls" -le $(( el / 1000 + 2 )) ] ||
    fail "$polls squeue calls in $el ms (interval 1 s)"
pass "100 Slurm jobs: $polls squeue calls in $el ms"
