#!/bin/sh
# bench/compare.sh BEFORE AFTER: the futured figures of bench/run.sh for
# two builds, in interleaved rounds, and each figure's after/before
# ratio.  BEFORE and AFTER are build directories in which `make
# bench-progs` has run (futured, bench/futbench).  `make bench-compare
# BEFORE=DIR` compares DIR with the current build.
#
# A round runs every figure on one build, then on the other, the order
# swapped each round (ABBA), so that a burst of load from the machine's
# other users and any drift over the run hit both builds alike.  Each
# build runs with its own libfutured (futbench is linked with it), so a
# client-side change counts too.  A figure more than 10% worse (slower,
# bigger) is marked WORSE; the exit status is 0 either way: on a shared
# machine a single run is evidence, not a verdict.
#
# BENCH_QUICK=1: tiny counts, a smoke test.  BENCH_ROUNDS=N: rounds.

set -eu

[ $# -eq 2 ] || { echo "usage: $0 BEFORE-BUILD AFTER-BUILD" >&2; exit 2; }
BEFORE=$(cd "$1" && pwd)
AFTER=$(cd "$2" && pwd)
for d in "$BEFORE" "$AFTER"; do
	[ -x "$d/futured" ] && [ -x "$d/bench/futbench" ] || {
		echo "$0: $d: no futured or bench/futbench" \
		    "(make bench-progs there)" >&2
		exit 2
	}
done

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-2} RTT_N=300 PIPE_N=5000 PIPE_CPU_N=2000
	EXEC_N=100 CANCEL_N=3 FILL_N=10000
else
	ROUNDS=${BENCH_ROUNDS:-6} RTT_N=5000 PIPE_N=200000 PIPE_CPU_N=60000
	EXEC_N=1500 CANCEL_N=15 FILL_N=100000
fi
BATCH=256
CLIENTS=8
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

. "$(dirname "$0")/lib.sh"

# use B: the daemons and futbench of build B from here on.
use() {
	FUTURED=$1/futured
	FUTBENCH=$1/bench/futbench
}

# One round of every figure on build $1, recorded under side $2.
round() {
	use "$1"
	_s=$2
	start_daemon idle
	"$FUTBENCH" rss "$T/idle.sock" >>"$T/$_s.idle_rss"
	stop_daemon "$DPID"

	start_daemon main
	_m=$DPID
	for k in async blocking cpu; do
		"$FUTBENCH" rtt "$T/main.sock" "$k" "$RTT_N" >>"$T/$_s.rtt_$k"
	done
	# A C worker: only where both builds' daemons take workers.
	[ "$WORKERS" = 0 ] ||
	    "$FUTBENCH" wrtt "$T/main.sock" "$RTT_N" >>"$T/$_s.rtt_cworker"
	for k in async blocking cpu; do
		n=$PIPE_N
		[ "$k" = cpu ] && n=$PIPE_CPU_N
		"$FUTBENCH" pipe "$T/main.sock" "$k" 1 "$BATCH" "$n" \
		    >>"$T/$_s.pipe1_$k"
		"$FUTBENCH" pipe "$T/main.sock" "$k" "$CLIENTS" "$BATCH" "$n" \
		    >>"$T/$_s.pipe8_$k"
	done
	for p in 2 8; do
		"$FUTBENCH" exec "$T/main.sock" "$p" "$EXEC_N" \
		    >>"$T/$_s.exec_$p"
	done
	stop_daemon "$_m"

	# The async round trip again with both ends on one CPU: unpinned,
	# its median swings between about 8 us (the scheduler keeps client
	# and daemon on one CPU) and 15-60 us (it puts them apart), a mix no
	# build controls (bench/RESULTS.md, 2026-12-05).
	if command -v taskset >/dev/null 2>&1; then
		PIN="taskset -c 0"
		start_daemon pin
		PIN=
		taskset -c 0 "$FUTBENCH" rtt "$T/pin.sock" async "$RTT_N" \
		    >>"$T/$_s.rtt1_async"
		[ "$WORKERS" = 0 ] || taskset -c 0 "$FUTBENCH" wrtt \
		    "$T/pin.sock" "$RTT_N" >>"$T/$_s.rtt1_cworker"
		stop_daemon "$DPID"
	fi

	start_daemon cancel -P 1
	"$FUTBENCH" cancel "$T/cancel.sock" "$CANCEL_N" >>"$T/$_s.cancel"
	stop_daemon "$DPID"

	start_daemon fill -P 1 --max-queued $((FILL_N * 2))
	"$FUTBENCH" fill "$T/fill.sock" "$FILL_N" 10000 >"$T/fill.out"
	stop_daemon "$DPID"
	awk '$1 == "bytes_per_job" { print $2 }' "$T/fill.out" \
	    >>"$T/$_s.fill_bytes"

	rm -rf "$T/j"
	start_daemon fs --journal "$T/j" --fsync always
	"$FUTBENCH" pipe "$T/fs.sock" async "$CLIENTS" "$BATCH" "$PIPE_N" \
	    >>"$T/$_s.fsync_always"
	stop_daemon "$DPID"
}

median() {
	[ -s "$T/$1" ] || { echo -; return; }
	sort -g "$T/$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) print "-"
		else if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

WORKERS=1
for d in "$BEFORE" "$AFTER"; do
	"$d/futured" -h 2>&1 | grep -q -- '--worker-lease' || WORKERS=0
done

r=1
while [ "$r" -le "$ROUNDS" ]; do
	echo "compare: round $r of $ROUNDS" >&2
	if [ $((r % 2)) -eq 1 ]; then
		round "$BEFORE" before
		round "$AFTER" after
	else
		round "$AFTER" after
		round "$BEFORE" before
	fi
	r=$((r + 1))
done

# line LABEL FIGURE BETTER: BETTER is "higher" or "lower".
line() {
	_o=$(median "before.$2")
	_n=$(median "after.$2")
	awk -v l="$1" -v o="$_o" -v n="$_n" -v better="$3" 'BEGIN {
		if (o == "-" || n == "-" || o + 0 == 0) {
			printf "%-38s %12s %12s %8s\n", l, o, n, "-"; exit
		}
		r = n / o
		worse = (better == "higher") ? r < 0.9 : r > 1.1
		printf "%-38s %12.6g %12.6g %7.2fx %s\n", l, o, n, r,
		    worse ? "WORSE" : ""
	}'
}

echo
echo "futured A/B: $ROUNDS interleaved rounds, $(nproc) cpus," \
    "load $LOAD0 before, $(cut -d' ' -f1-3 /proc/loadavg) after," \
    "$(date -u '+%Y-%m-%d %H:%M UTC')"
echo "before: $BEFORE"
echo "after:  $AFTER"
printf '%-38s %12s %12s %8s\n' "figure (median)" before after "after/before"
line "idle daemon RSS, KiB" idle_rss lower
for k in async blocking cpu; do
	line "no-op round trip $k, us" "rtt_$k" lower
done
line "no-op round trip async, one CPU, us" rtt1_async lower
line "no-op round trip, C worker, us" rtt_cworker lower
line "no-op round trip, C worker, one CPU, us" rtt1_cworker lower
for k in async blocking cpu; do
	line "pipelined $k, 1 client, jobs/s" "pipe1_$k" higher
	line "pipelined $k, $CLIENTS clients, jobs/s" "pipe8_$k" higher
done
for p in 2 8; do
	line "exec /bin/true, $p in flight, cmd/s" "exec_$p" higher
done
line "cancel -> final, cpu job, ms" cancel lower
line "per queued job, $FILL_N queued, B" fill_bytes lower
line "--fsync always, $CLIENTS clients, jobs/s" fsync_always higher
