#!/bin/sh
# bench/run.sh: start private daemons on private sockets, run each
# figure for several rounds beside its baseline, and print one table of
# median (min-max).  `make bench` runs it from the build directory;
# BENCH_QUICK=1 (`make bench-quick`) runs every row with tiny counts, as
# a smoke test: its figures are printed, never asserted.
#
# Rounds of a figure and of its baseline alternate, so that a burst of
# load from the other users of the machine hits both alike.  Nothing
# here sleeps to wait: daemons are started with --detach (returns once
# the socket accepts), their pid comes from SO_PEERCRED and their end
# from a pidfd (futbench pid, futbench reap).

set -eu

: "${FUTURED:=./futured}"
: "${FUTBENCH:=./bench/futbench}"
: "${RAWBENCH:=./bench/rawbench}"
: "${GEARBENCH:=./bench/gearbench}"
: "${PYTHON:=python3}"
: "${srcdir:=$(dirname "$0")/..}"
QUICK=${BENCH_QUICK:-0}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

if [ "$QUICK" = 1 ]; then
	ROUNDS=3 PP_N=20000 BATCH_N=100000 RTT_N=300 PIPE_N=5000
	PIPE_CPU_N=2000 EXEC_N=100 CANCEL_N=3 FILL_SMALL=10000
	FILL_BIG= GEAR_RTT_N=200 GEAR_PIPE_N=2000 PY_RTT_N=200
	PY_PIPE_N=2000 SLURM_N=5 SLURM_TRACK=100 SLURM_WINDOW=5
else
	ROUNDS=5 PP_N=50000 BATCH_N=4000000 RTT_N=5000 PIPE_N=200000
	PIPE_CPU_N=60000 EXEC_N=1500 CANCEL_N=15 FILL_SMALL=100000
	FILL_BIG=1000000 GEAR_RTT_N=2000 GEAR_PIPE_N=20000 PY_RTT_N=2000
	PY_PIPE_N=20000 SLURM_N=30 SLURM_TRACK=1000 SLURM_WINDOW=20
fi
# A short ping-pong reads high on a VM until the host's halt polling
# adapts to the wakeup rate: even the quick form runs 20000.
BATCH=256		# jobs per fut_submit_all, messages per raw write
CLIENTS=8

. "$srcdir/bench/lib.sh"

# One figure per line of output goes to $T/FIGURE.
rec() {
	_f=$1
	shift
	"$@" >>"$T/$_f"
}

# "median min max" of the numbers in $T/FIGURE; "-" if none.
agg() {
	if [ ! -s "$T/$1" ]; then
		echo "- - -"
		return
	fi
	sort -g "$T/$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) m = v[(NR + 1) / 2]
		else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

# Human form of a number: 12.3, 45.6k, 1.23M.
fmt() {
	awk -v x="$1" 'BEGIN {
		if (x == "-") { print "-"; exit }
		a = x < 0 ? -x : x
		if (a >= 1e6) printf "%.2fM\n", x / 1e6
		else if (a >= 1e4) printf "%.1fk\n", x / 1e3
		else if (a >= 100) printf "%.0f\n", x
		else printf "%.2f\n", x
	}'
}

# "median (min-max)" of a figure.
cell() {
	set -- $(agg "$1")
	if [ "$1" = "-" ]; then
		echo "-"
	else
		echo "$(fmt "$1") ($(fmt "$2")-$(fmt "$3"))"
	fi
}

# row LABEL FIGURE BASE-FIGURE BASE-LABEL CHECK TARGET-TEXT
# CHECK is "value OP N" or "ratio OP N" (awk), or "-": holds/MISSES.
# The ratio is figure median / baseline median.
row() {
	_v=$(agg "$2" | cut -d' ' -f1)
	_b=-
	[ "$3" = "-" ] || _b=$(agg "$3" | cut -d' ' -f1)
	_ratio=$(awk -v v="$_v" -v b="$_b" 'BEGIN {
		if (v == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%.2f\n", v / b }')
	_ok=
	if [ "$5" != "-" ] && [ "$_v" != "-" ]; then
		_ok=$(awk -v value="$_v" -v ratio="$_ratio" \
		    "BEGIN { if (ratio == \"-\" && \"$5\" ~ /ratio/) \
			print \"?\"; \
			else print (($5) ? \"holds\" : \"MISSES\") }")
	fi
	_bc=-
	[ "$3" = "-" ] || _bc="$(cell "$3") $4"
	[ "$_ratio" = "-" ] || _ratio="${_ratio}x"
	printf '%-40s %-26s %-34s %-8s %s %s\n' "$1" "$(cell "$2")" \
	    "$_bc" "$_ratio" "$6" "$_ok" >>"$T/table"
}

note() {
	printf '%s\n' "$*" >>"$T/table"
}

# Idle RSS: a daemon that has just answered one connection.
say "idle RSS"
for r in $(seq "$ROUNDS"); do
	start_daemon idle
	rec idle_rss "$FUTBENCH" rss "$T/idle.sock"
	stop_daemon "$DPID"
done

# Round trips and pipelined throughput, on a daemon with the defaults.
# A C worker (libfutured's fut_worker_*) once the daemon takes workers.
WORKERS=0
"$FUTURED" -h 2>&1 | grep -q -- '--worker-lease' && WORKERS=1
say "round trips and pipelines ($ROUNDS rounds)"
start_daemon main
MAIN=$DPID
S=$T/main.sock
for r in $(seq "$ROUNDS"); do
	rec raw_rtt "$RAWBENCH" pingpong "$PP_N"
	for k in async blocking cpu; do
		rec "rtt_$k" "$FUTBENCH" rtt "$S" "$k" "$RTT_N"
	done
	if [ "$WORKERS" = 1 ]; then
		rec rtt_cworker "$FUTBENCH" wrtt "$S" "$RTT_N"
		rec rtt_cworkerp "$FUTBENCH" wrtt "$S" "$RTT_N" proc
	fi
	rec raw_batch "$RAWBENCH" batch "$BATCH_N" "$BATCH"
	for k in async blocking cpu; do
		n=$PIPE_N
		[ "$k" = cpu ] && n=$PIPE_CPU_N
		rec "pipe1_$k" "$FUTBENCH" pipe "$S" "$k" 1 "$BATCH" "$n"
		rec "pipe8_$k" "$FUTBENCH" pipe "$S" "$k" "$CLIENTS" \
		    "$BATCH" "$n"
	done
done

# The C worker's round trip and its baseline again with everything on
# one CPU (daemon, cpu pool, client, worker): unpinned, both swing with
# where the scheduler puts the processes; pinned, what is left is their
# work and context switches.
if [ "$WORKERS" = 1 ] && command -v taskset >/dev/null 2>&1; then
	say "round trips on one CPU ($ROUNDS rounds)"
	PIN="taskset -c 0"
	start_daemon pin
	PIN=
	for r in $(seq "$ROUNDS"); do
		rec rtt1_cpu taskset -c 0 "$FUTBENCH" rtt "$T/pin.sock" cpu \
		    "$RTT_N"
		rec rtt1_cworker taskset -c 0 "$FUTBENCH" wrtt "$T/pin.sock" \
		    "$RTT_N"
	done
	stop_daemon "$DPID"
fi

say "exec against posix_spawn"
for r in $(seq "$ROUNDS"); do
	for p in 2 8; do
		rec "spawn_$p" "$RAWBENCH" spawn "$p" "$EXEC_N"
		rec "exec_$p" "$FUTBENCH" exec "$S" "$p" "$EXEC_N"
	done
done
stop_daemon "$MAIN"

say "cancel of a spinning cpu job"
start_daemon cancel -P 1
rec cancel "$FUTBENCH" cancel "$T/cancel.sock" "$CANCEL_N"
stop_daemon "$DPID"

# A fresh daemon per fill, so that each starts from the same heap.
fill() {
	start_daemon fill -P 1 --max-queued $(($1 * 2))
	"$FUTBENCH" fill "$T/fill.sock" "$1" 10000 >"$T/fill.out"
	stop_daemon "$DPID"
	awk '$1 == "bytes_per_job" { print $2 }' "$T/fill.out" >>"$T/$2_bytes"
	awk '$1 == "drained" { print $2 }' "$T/fill.out" >>"$T/$2_drained"
	awk '$1 == "drain_per_s" { print $2 }' "$T/fill.out" >>"$T/$2_drain"
	awk '$1 == "rss_queued_kb" { print $2 / 1024 }' "$T/fill.out" \
	    >>"$T/$2_rss"
}
say "memory per queued job"
FILL_ROUNDS=$ROUNDS
[ "$QUICK" = 1 ] && FILL_ROUNDS=1
[ "$FILL_ROUNDS" -gt 3 ] && FILL_ROUNDS=3
for r in $(seq "$FILL_ROUNDS"); do
	fill "$FILL_SMALL" fill_small
done
if [ -n "$FILL_BIG" ]; then
	say "memory per queued job, $FILL_BIG queued (one round)"
	fill "$FILL_BIG" fill_big
fi

# --fsync: the journal may not exist yet; pick it up once futured -h
# lists the option.
FSYNC=0
if "$FUTURED" -h 2>&1 | grep -q -- '--fsync'; then
	FSYNC=1
	say "--fsync always against none"
	start_daemon fs_always --journal "$T/j-always" --fsync always
	FA=$DPID
	start_daemon fs_none --journal "$T/j-none" --fsync none
	FN=$DPID
	for r in $(seq "$ROUNDS"); do
		rec fsync_none "$FUTBENCH" pipe "$T/fs_none.sock" async \
		    "$CLIENTS" "$BATCH" "$PIPE_N"
		rec fsync_always "$FUTBENCH" pipe "$T/fs_always.sock" async \
		    "$CLIENTS" "$BATCH" "$PIPE_N"
	done
	stop_daemon "$FA"
	stop_daemon "$FN"
fi

# gearmand: TCP on loopback, one worker process per core.
GEAR=0
if [ -x "$GEARBENCH" ] && command -v gearmand >/dev/null 2>&1; then
	GEAR=1
	say "gearmand"
	GPORT=$(( 20000 + $$ % 20000 ))
	gearmand -L 127.0.0.1 -p "$GPORT" --log-file "$T/gearmand.log" \
	    -q builtin >/dev/null 2>&1 &
	KIDS="$KIDS $!"
	"$GEARBENCH" ready "$GPORT"
	for w in $(seq "$(nproc)"); do
		# Its complaint when gearmand goes first is no news.
		"$GEARBENCH" worker "$GPORT" 2>>"$T/gearworker.log" &
		KIDS="$KIDS $!"
	done
	for r in $(seq "$ROUNDS"); do
		rec gear_rtt "$GEARBENCH" rtt "$GPORT" "$GEAR_RTT_N"
		rec gear_pipe1 "$GEARBENCH" pipe "$GPORT" 1 "$BATCH" \
		    "$GEAR_PIPE_N"
		rec gear_pipe8 "$GEARBENCH" pipe "$GPORT" "$CLIENTS" \
		    "$BATCH" "$GEAR_PIPE_N"
		rec gear_bg "$GEARBENCH" bg "$GPORT" "$BATCH" "$GEAR_PIPE_N"
	done
	for p in $KIDS; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	KIDS=
fi

PY=0
PYT=0
# configure sets PYTHON=: when it found none.
if [ "$PYTHON" != : ] &&
    "$PYTHON" -c 'import concurrent.futures' >/dev/null 2>&1; then
	PY=1
	# futured.task on a supervised cpu pool (bench/pytasks.py), with
	# this build's binding and library, in the same rounds as
	# ProcessPoolExecutor: once the daemon takes Python workers.
	start_daemon py
	PYD=$DPID
	# The baseline of the slot serving again: no warm spare, so that
	# the killed process's successor starts cold (pytasks.py cancel
	# measures each kill on a pool at full strength, spares ready).
	start_daemon pyns --pool-spares 0
	PYNS=$DPID
	pyt() {
		FUTURED_SOCKET=${PYT_SOCK:-$T/py.sock} \
		    PYTHONPATH=$srcdir/bindings/python \
		    FUTURED_LIBRARY=$PWD/.libs/libfutured.so.0 \
		    "$PYTHON" "$srcdir/bench/pytasks.py" "$@"
	}
	pyt rtt 1 >/dev/null 2>>"$T/pytasks.log" && PYT=1
	say "python concurrent.futures$([ "$PYT" = 1 ] &&
	    echo ' and futured.task')"
	for r in $(seq "$ROUNDS"); do
		for k in thread process; do
			rec "py_rtt_$k" "$PYTHON" "$srcdir/bench/pyfutures.py" \
			    "$k" rtt "$PY_RTT_N"
			rec "py_pipe_$k" "$PYTHON" \
			    "$srcdir/bench/pyfutures.py" "$k" pipe "$PY_PIPE_N"
		done
		[ "$PYT" = 1 ] || continue
		rec pyt_rtt pyt rtt "$PY_RTT_N"
		rec pyt_pipe pyt pipe "$PY_PIPE_N"
		PYT_SPARES=1 pyt cancel "$CANCEL_N" >"$T/pyt_cancel.out"
		cut -d' ' -f1 "$T/pyt_cancel.out" >>"$T/pyt_cancel_final"
		cut -d' ' -f2 "$T/pyt_cancel.out" >>"$T/pyt_cancel_again"
		PYT_SOCK=$T/pyns.sock pyt cancel "$CANCEL_N" \
		    >"$T/pyt_cancel.out"
		cut -d' ' -f2 "$T/pyt_cancel.out" >>"$T/pyt_cancel_again0"
	done
	stop_daemon "$PYD"
	stop_daemon "$PYNS"
fi

# The Slurm engine against a private one-node Slurm (bench/slurm.sh),
# where Slurm is installed and this runs as root; else a note says why.
SLURM=0
say "the Slurm engine"
if sh "$srcdir/bench/slurm.sh" "$T" "$ROUNDS" "$SLURM_N" "$SLURM_TRACK" \
    "$SLURM_WINDOW" 2>"$T/slurm.err"; then
	SLURM=1
else
	SLURM=$?
	SLURM_WHY=$(grep -m 1 SKIP "$T/slurm.err" | sed 's/^SKIP ([^)]*): //')
	[ "$SLURM" = 77 ] || { cat "$T/slurm.err" >&2; SLURM_WHY="failed"; }
fi

# The table ---------------------------------------------------------------
: >"$T/table"
printf '%-40s %-26s %-34s %-8s %s\n' "figure" "median (min-max)" \
    "baseline, same run" "ratio" "target" >>"$T/table"
row "raw socket round trip, us" raw_rtt - "" - ""
row "raw socket batched x$BATCH, msg/s" raw_batch - "" - ""
for k in async blocking cpu; do
	case $k in
	async)	chk="ratio <= 2" tgt="<= 2x raw" ;;
	cpu)	chk="ratio <= 4" tgt="<= 4x raw" ;;
	*)	chk=- tgt="" ;;
	esac
	row "no-op round trip $k, us" "rtt_$k" raw_rtt "raw" "$chk" "$tgt"
done
if [ "$WORKERS" = 1 ]; then
	row "no-op round trip, C worker, us" rtt_cworker rtt_cpu "cpu pool" \
	    "ratio <= 1.5" "<= 1.5x cpu pool"
	row "no-op round trip, C worker process, us" rtt_cworkerp rtt_cpu \
	    "cpu pool" - ""
	row "no-op round trip, C worker, one CPU, us" rtt1_cworker rtt1_cpu \
	    "cpu pool, one CPU" - ""
else
	note "no-op round trip, C worker               n/a (no workers yet)"
fi
for k in async blocking cpu; do
	case $k in
	async)	chk="value >= 300000" tgt=">= 300k/s" ;;
	cpu)	chk="value >= 100000" tgt=">= 100k/s" ;;
	*)	chk=- tgt="" ;;
	esac
	row "pipelined $k, 1 client, jobs/s" "pipe1_$k" raw_batch "raw" \
	    "$chk" "$tgt"
	row "pipelined $k, $CLIENTS clients, jobs/s" "pipe8_$k" raw_batch \
	    "raw" - ""
done
for p in 2 8; do
	row "exec /bin/true, $p in flight, cmd/s" "exec_$p" "spawn_$p" \
	    "spawn" "ratio >= 0.8" ">= 0.8x spawn"
done
row "cancel -> final, running cpu job, ms" cancel - "" "value <= 10" \
    "<= 10 ms"
row "idle daemon RSS, KiB" idle_rss - "" "value <= 8192" "<= 8 MiB"
row "per queued job, $FILL_SMALL queued, B" fill_small_bytes - "" \
    "value <= 200" "<= 200 B"
row "  daemon RSS with them queued, MiB" fill_small_rss - "" - ""
row "  drained (all succeeded), jobs" fill_small_drained - "" - ""
row "  drain rate (cpu, -P 1), jobs/s" fill_small_drain - "" - ""
if [ -n "$FILL_BIG" ]; then
	row "per queued job, $FILL_BIG queued, B" fill_big_bytes - "" \
	    "value <= 200" "<= 200 B"
	row "  daemon RSS with them queued, MiB" fill_big_rss - "" - ""
	row "  drained (all succeeded), jobs" fill_big_drained - "" \
	    "value == $FILL_BIG" "all"
	row "  drain rate (cpu, -P 1), jobs/s" fill_big_drain - "" - ""
fi
if [ "$FSYNC" = 1 ]; then
	row "--fsync always, $CLIENTS clients, jobs/s" fsync_always \
	    fsync_none "none" "ratio >= 0.5" ">= 0.5x none"
else
	note "--fsync always, $CLIENTS clients, jobs/s   n/a (no journal yet)"
fi
if [ "$GEAR" = 1 ]; then
	row "gearmand no-op round trip, us" gear_rtt raw_rtt "raw" - ""
	row "gearmand pipelined, 1 client, jobs/s" gear_pipe1 raw_batch \
	    "raw" - ""
	row "gearmand pipelined, $CLIENTS clients, jobs/s" gear_pipe8 \
	    raw_batch "raw" - ""
	row "gearmand background submits, jobs/s" gear_bg raw_batch "raw" \
	    - ""
	row "futured async pipelined / gearmand" pipe1_async gear_pipe1 \
	    "gearmand" "ratio >= 20" ">= 20x"
else
	note "gearmand                                 skipped (not installed)"
fi
if [ "$PY" = 1 ]; then
	for k in thread process; do
		row "python ${k}pool round trip, us" "py_rtt_$k" raw_rtt \
		    "raw" - ""
		row "python ${k}pool throughput, jobs/s" "py_pipe_$k" \
		    raw_batch "raw" - ""
	done
	if [ "$PYT" = 1 ]; then
		row "python task no-op round trip (cpu), us" pyt_rtt \
		    py_rtt_process "ProcessPool" "ratio <= 1" \
		    "<= 1x ProcessPool"
		row "python tasks pipelined (cpu), jobs/s" pyt_pipe \
		    py_pipe_process "ProcessPool" "ratio >= 2" \
		    ">= 2x ProcessPool"
		row "cancel -> final, running python fn, ms" \
		    pyt_cancel_final - "" "value <= 10" "<= 10 ms"
		row "  every cpu slot serving again, ms" pyt_cancel_again \
		    pyt_cancel_again0 "no spare" "value <= 300" "<= 300 ms"
	else
		note "python tasks (futured.task)              n/a (no workers yet)"
	fi
else
	note "python concurrent.futures                skipped"
fi
if [ "$SLURM" = 1 ]; then
	row "Slurm submit -> job id (futbench), ms" slurm_submit \
	    slurm_sbatch "bare sbatch" "ratio <= 1.2" "<= 1.2x sbatch"
	row "  the same, --journal none, ms" slurm_submit_nj slurm_sbatch \
	    "bare sbatch" "ratio <= 1.2" "<= 1.2x sbatch"
	# Each submit beside a bare sbatch, the pair's ratio: a burst of
	# load hits both sides, so this is the steadier of the two.
	row "  paired: submit / its bare sbatch" slurm_ratio - "" \
	    "value <= 1.2" "<= 1.2x sbatch"
	row "  paired, --journal none" slurm_ratio_nj - "" \
	    "value <= 1.2" "<= 1.2x sbatch"
	row "Slurm, $SLURM_TRACK jobs tracked: squeue/interval" slurm_calls \
	    - "" "value <= 1" "<= 1"
	row "  job ids an squeue call named (fewest)" slurm_names - "" \
	    "value >= $SLURM_TRACK" "all $SLURM_TRACK"
	row "  slowest such squeue call, ms" slurm_squeue_ms - "" - ""
	row "  $SLURM_TRACK submitted -> all in Slurm, s" slurm_fill - "" - ""
else
	note "Slurm engine                             skipped ($SLURM_WHY)"
fi
echo
echo "futured bench$( [ "$QUICK" = 1 ] && echo ' (quick: smoke test, not figures)'):" \
    "$ROUNDS rounds, $(nproc) cpus, load $LOAD0 before," \
    "$(cut -d' ' -f1-3 /proc/loadavg) after," \
    "$(date -u '+%Y-%m-%d %H:%M UTC')"
cat "$T/table"
