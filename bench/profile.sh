#!/bin/sh
# bench/profile.sh: instruction counts (valgrind callgrind) of the
# daemon and of the client for the two paths bench/RESULTS.md explains:
# the async no-op round trip and the pipelined async submit.  Counts,
# not seconds, so they hold on a loaded machine.  Each path runs twice,
# with 0 and with N jobs, so start-up cost drops out of "per job".
# Without a journal, as the scheduler rows of `make bench` run.
#
#   cd BUILDDIR && sh SRCDIR/bench/profile.sh [N]
#
# Leaves callgrind.*.out files and callgrind_annotate summaries in
# ./bench-profile/.

set -eu

N=${1:-20000}
OUT=$PWD/bench-profile
T=$(mktemp -d "${TMPDIR:-/tmp}/futured-prof.XXXXXX")
chmod 700 "$T"
XDG_CONFIG_HOME=$T/config
XDG_STATE_HOME=$T/state
export XDG_CONFIG_HOME XDG_STATE_HOME
mkdir -p "$OUT"
trap 'rm -rf "$T"' EXIT

# total Ir of a callgrind output file
ir() {
	callgrind_annotate "$1" 2>/dev/null |
	    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}

# run NAME JOBS FUTBENCH-ARGS...: the daemon under callgrind (through
# --detach's re-exec; workers are not traced), the client too.
run() {
	_name=$1 _jobs=$2
	shift 2
	valgrind --tool=callgrind --trace-children=yes \
	    --trace-children-skip-by-arg='*--worker*' \
	    --callgrind-out-file="$OUT/daemon.$_name.$_jobs.out" \
	    ./futured --detach -s "$T/p.sock" --journal none -l warn 2>>"$T/vg.log"
	_pid=$(./bench/futbench pid "$T/p.sock")
	./libtool --mode=execute valgrind --tool=callgrind \
	    --callgrind-out-file="$OUT/client.$_name.$_jobs.out" \
	    ./bench/futbench "$@" 2>>"$T/vg.log" >/dev/null
	kill -TERM "$_pid"
	./bench/futbench reap "$_pid"
}

for path in rtt pipe; do
	for jobs in 0 "$N"; do
		j=$jobs
		[ "$j" = 0 ] && j=1
		if [ "$path" = rtt ]; then
			run rtt "$jobs" rtt "$T/p.sock" async "$j"
		else
			run pipe "$jobs" pipe "$T/p.sock" async 1 256 "$j"
		fi
	done
	# futbench rtt adds N/10 + 10 warm-up jobs; pipe adds none.
	if [ "$path" = rtt ]; then
		d=$(( N + N / 10 + 10 - 11 ))
	else
		d=$(( N - 1 ))
	fi
	for side in daemon client; do
		a=$(ir "$OUT/$side.$path.0.out")
		b=$(ir "$OUT/$side.$path.$N.out")
		echo "$path $side: $(( (b - a) / d )) instructions per job"
		callgrind_annotate --inclusive=no \
		    "$OUT/$side.$path.$N.out" 2>/dev/null | head -45 \
		    >"$OUT/$side.$path.txt"
	done
done
