# The order of Slurm jobs against a real private one-node Slurm
# (slurmlib.sh): an after chain of Slurm jobs reaches Slurm at once as
# --dependency=afterok and runs in order there; when its first job
# fails or is cancelled the rest ends with futured's "dependency"
# cause, not Slurm's; a parent with retries left, or on this machine,
# is waited for by futured; priorities become --nice, which Slurm
# keeps.

. "$TESTLIB"
. "$(dirname "$TESTLIB")/slurmlib.sh"
slurm_start

# sbatch through a wrapper that logs its arguments, a line a call.
mkdir -p "$T/bin"
real=$(command -v sbatch)
printf '#!/bin/sh\necho "$*" >>"%s/sbatch.calls"\nexec %s "$@"\n' \
    "$T" "$real" >"$T/bin/sbatch"
chmod +x "$T/bin/sbatch"
# squeue, while $T/late exists, telling of a failed job only once Slurm
# cancelled what waited for it (kill_invalid_depend), and listing those
# first: futured hears of both at once, in the worse order.
real=$(command -v squeue)
cat >"$T/bin/squeue" <<EOS
#!/bin/sh
out=\$($real "\$@") || exit \$?
if [ ! -e "$T/late" ]; then
	printf '%s\n' "\$out"
	exit 0
fi
case "\$out" in
*CANCELLED*)	printf '%s\n' "\$out" | sort -k2 ;;
*)		printf '%s\n' "\$out" | sed 's/ FAILED\$/ RUNNING/' ;;
esac
EOS
chmod +x "$T/bin/squeue"
PATH=$T/bin:$PATH start_daemon --slurm-dir "$T/shared" \
    --slurm-interval 300ms

field() {
	fctl --json status "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}

# The sbatch line of futured job $1.
sbatch_of() {
	grep -- "--job-name=futured-$1 " "$T/sbatch.calls" || true
}

# Slurm's own record of a job's dependency, by futured id.
slurm_dep() {
	scontrol show job "$(field "$1" slurm_job_id)" |
	    sed -n 's/.*Dependency=\([^ ]*\).*/\1/p'
}

in_slurm() {
	[ -n "$(field "$1" slurm_job_id | grep -v None)" ]
}

# A chain submitted at once: B and C reach Slurm while A still runs,
# with afterok on their parent's Slurm job, and run in order.
: >"$T/order"
# A runs until the test has looked (a gate file, not a sleep that a
# loaded machine could outlast).
a=$(fctl submit --engine slurm exec -- sh -c "until [ -e '$T/a1.go' ]; do sleep 0.2; done; echo A >>$T/order")
b=$(fctl submit --engine slurm -a "$a" exec -- sh -c "echo B >>$T/order")
c=$(fctl submit --engine slurm -a "$b" exec -- sh -c "echo C >>$T/order")
wait_until 60 in_slurm "$c" || fail "C never reached Slurm"
ck_match "$(field "$a" state)" '^(queued|running)$' "A while C is in Slurm"
ck_eq "$(field "$c" state)" queued "C, pending in Slurm"
ida=$(field "$a" slurm_job_id)
idb=$(field "$b" slurm_job_id)
ck_match "$(sbatch_of "$b")" "--dependency=afterok:$ida " "B's sbatch"
ck_match "$(sbatch_of "$c")" "--dependency=afterok:$idb " "C's sbatch"
ck_eq "$(slurm_dep "$c")" "afterok:$idb(unfulfilled)" "C's dependency in Slurm"
ck_match "$(squeue -h -o %r -j "$(field "$c" slurm_job_id)")" Dependency \
    "why C pends in Slurm"
: >"$T/a1.go"
ck_exit 0 fctl wait -t 60s "$a" "$b" "$c"
ck_eq "$(tr '\n' ' ' <"$T/order")" "A B C " "the chain's order"
ck_eq "$(wc -l <"$T/sbatch.calls")" 3 "sbatch calls for a chain of three"
pass "an after chain reaches Slurm at once, as afterok, and runs in order"

# The first fails: Slurm cancels B (kill_invalid_depend), and futured
# ends B and C with its own cause, even when squeue tells of B first.
touch "$T/late"
a=$(fctl submit --engine slurm exec -- sh -c "until [ -e '$T/a2.go' ]; do sleep 0.2; done; exit 1")
b=$(fctl submit --engine slurm -a "$a" exec -- echo never)
c=$(fctl submit --engine slurm -a "$b" exec -- echo never)
wait_until 60 in_slurm "$c" || fail "C never reached Slurm"
ck_match "$(sbatch_of "$b")" "--dependency=afterok:" "B's sbatch"
: >"$T/a2.go"
ck_exit 1 fctl wait -t 60s "$a"
ck_exit 3 fctl wait -t 30s "$b"
ck_exit 3 fctl wait -t 30s "$c"
ck_eq "$(field "$b" state)" cancelled "B after A failed"
ck_eq "$(field "$b" error)" "dependency $a failed" "B's cause"
ck_eq "$(field "$c" error)" "dependency $b cancelled" "C's cause"
for j in "$b" "$c"; do
	wait_until 20 sh -c "[ -z \"\$(squeue -h -t PENDING,RUNNING -n futured-$j)\" ]" ||
	    fail "job $j still in Slurm's queue"
done
rm "$T/late"
pass "the first of a chain fails: the rest ends with futured's cause"

# Cancel of the first cancels the chain, in futured and in Slurm.
a=$(fctl submit --engine slurm exec -- sleep 300)
b=$(fctl submit --engine slurm -a "$a" exec -- echo never)
c=$(fctl submit --engine slurm -a "$b" exec -- echo never)
wait_until 20 in_slurm "$c" || fail "C never reached Slurm"
ck_exit 0 fctl cancel "$a"
ck_exit 3 fctl wait -t 30s "$a" "$b" "$c"
ck_eq "$(field "$b" error)" "dependency $a cancelled" "B's cause"
ck_eq "$(field "$c" error)" "dependency $b cancelled" "C's cause"
for j in "$a" "$b" "$c"; do
	wait_until 20 sh -c "[ -z \"\$(squeue -h -t PENDING,RUNNING -n futured-$j)\" ]" ||
	    fail "job $j still in Slurm's queue"
done
pass "cancel of the first cancels the chain"

# A parent with retries left, or on this machine: futured holds the
# child, which reaches Slurm only once its parent succeeded.
a=$(fctl submit --engine slurm -r 1 exec -- sh -c 'sleep 1')
b=$(fctl submit --engine slurm -a "$a" exec -- echo after-retried)
ck_exit 0 fctl wait -t 60s "$b"
ck_eq "$(sbatch_of "$b" | grep -c -- --dependency)" 0 \
    "a child of a parent with retries"
l=$(fctl submit exec -- sh -c "until [ -e '$T/l.go' ]; do sleep 0.02; done")
b=$(fctl submit --engine slurm -a "$l" exec -- echo after-local)
ck_eq "$(field "$b" state)" waiting "a Slurm child of a local parent"
: >"$T/l.go"
ck_exit 0 fctl wait -t 60s "$b"
ck_eq "$(sbatch_of "$b" | grep -c -- --dependency)" 0 \
    "a child of a local parent"
pass "a parent with retries left, or local: futured holds the child"

# A group's limit holds with afterok: a child pending on it in Slurm
# takes a place, so with --parallel 2 and A running, B goes to Slurm
# and C waits in futured until A is done.
ck_exit 0 fctl group chain --parallel 2
: >"$T/order"
a=$(fctl submit --engine slurm -g chain exec -- sh -c "until [ -e '$T/a3.go' ]; do sleep 0.2; done; echo A >>$T/order")
b=$(fctl submit --engine slurm -g chain -a "$a" exec -- sh -c "echo B >>$T/order")
c=$(fctl submit --engine slurm -g chain -a "$b" exec -- sh -c "echo C >>$T/order")
wait_until 60 in_slurm "$b" || fail "B never reached Slurm"
ck_match "$(sbatch_of "$b")" "--dependency=afterok:" "B's sbatch in a group"
wait_until 60 sh -c "$FUTURECTL -s $SOCK --json status $a | grep -q '\"running\"'" ||
    fail "futured never saw A running"
in_slurm "$c" && fail "C reached Slurm over its group's limit"
: >"$T/a3.go"
ck_exit 0 fctl wait -t 60s "$a" "$b" "$c"
ck_eq "$(tr '\n' ' ' <"$T/order")" "A B C " "the group's chain's order"
pass "a group's limit holds for a chain on afterok"

# Priorities: -5 and 5 become --nice=-5 and --nice=5 (the daemon is
# root, a Slurm operator), which Slurm keeps.
n1=$(fctl submit --engine slurm -p -5 exec -- true)
n2=$(fctl submit --engine slurm -p 5 exec -- true)
n0=$(fctl submit --engine slurm exec -- true)
ck_exit 0 fctl wait -t 60s "$n1" "$n2" "$n0"
ck_match "$(sbatch_of "$n1")" "--nice=-5 " "sbatch of priority -5"
ck_match "$(sbatch_of "$n2")" "--nice=5 " "sbatch of priority 5"
ck_eq "$(sbatch_of "$n0" | grep -c -- --nice)" 0 "sbatch of priority 0"
pass "priorities -5 and 5 as --nice"

# --slurm-nice-base 20: every priority in order, none negative; and
# Slurm holds them so (a held job keeps its nice for squeue to show).
# Given in futured.conf, as the options held here are.
stop_daemon
printf '%s\n' "slurm-dir = $T/shared" "slurm-interval = 300ms" \
    "slurm-nice-base = 20" "slurm-option = --nodes=1" \
    "slurm-option = --hold" >"$T/futured.conf"
PATH=$T/bin:$PATH start_daemon -c "$T/futured.conf"
n1=$(fctl submit --engine slurm -p -5 exec -- true)
n2=$(fctl submit --engine slurm -p 5 exec -- true)
n0=$(fctl submit --engine slurm exec -- true)
wait_until 20 in_slurm "$n0" || fail "never reached Slurm"
ck_match "$(sbatch_of "$n1")" "--nice=15 " "sbatch of priority -5, base 20"
ck_match "$(sbatch_of "$n2")" "--nice=25 " "sbatch of priority 5, base 20"
ck_match "$(sbatch_of "$n0")" "--nice=20 " "sbatch of priority 0, base 20"
ck_match "$(sbatch_of "$n0")" " --nodes=1 --hold " "futured.conf's slurm-option"
for p in "$n1:15" "$n2:25" "$n0:20"; do
	ck_eq "$(squeue -h -o %y -j "$(field "${p%%:*}" slurm_job_id)")" \
	    "${p#*:}" "Slurm's nice of job ${p%%:*}"
done
ck_exit 0 fctl cancel "$n1" "$n2" "$n0"
pass "slurm-nice-base = 20 keeps the order without a negative nice"
