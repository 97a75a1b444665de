# The order of Slurm jobs against a real private one-node Slurm
# (slurmlib.sh): priorities become --nice, which Slurm keeps.

. "$TESTLIB"
. "$(dirname "$TESTLIB")/slurmlib.sh"
slurm_start

# sbatch through a wrapper that logs its arguments, a line a call.
mkdir -p "$T/bin"
real=$(command -v sbatch)
printf '#!/bin/sh\necho "$*" >>"%s/sbatch.calls"\nexec %s "$@"\n' \
    "$T" "$real" >"$T/bin/sbatch"
chmod +x "$T/bin/sbatch"
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

in_slurm() {
	[ -n "$(field "$1" slurm_job_id | grep -v None)" ]
}

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
