#!/bin/bash
# bench/execcpu.sh: where the cpu goes when futured runs commands, beside
# bare posix_spawn + waitpid (rawbench spawn), at 2 and 8 in flight.
# For each round: commands per second, cpu time per command split into
# the commands themselves (the daemon's reaped children), the daemon
# (loop and spawner threads) and the client, and how many of the cpus
# were busy on average.  bench/RESULTS.md ("exec") reads these.
#
#   cd BUILDDIR && bash SRCDIR/bench/execcpu.sh [N] [ROUNDS]
#
# bash for `time` with TIMEFORMAT; the cpu times come from
# /proc/PID/stat (the daemon's own and its waited-for children's) and
# from bash's time of the client.

set -eu

N=${1:-4000}
ROUNDS=${2:-3}
T=$(mktemp -d "${TMPDIR:-/tmp}/futured-execcpu.XXXXXX")
chmod 700 "$T"
XDG_CONFIG_HOME=$T/config
XDG_STATE_HOME=$T/state
export XDG_CONFIG_HOME XDG_STATE_HOME
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" || true
	rm -rf "$T"
}
trap cleanup EXIT

./futured -f -s "$T/s" -l warn --journal none 2>"$T/log" &
DPID=$!
for _ in $(seq 100); do
	./futurectl -s "$T/s" ping >/dev/null 2>&1 && break
	sleep 0.05
done
HZ=$(getconf CLK_TCK)
TIMEFORMAT="%U %S"

# children's and own cpu ticks of the daemon
ticks() {
	awk '{ print $16 + $17, $14 + $15 }' "/proc/$DPID/stat"
}

now_us() {
	echo $(( $(date +%s%N) / 1000 ))
}

echo "execcpu: $N commands of /bin/true per round, $(nproc) cpus," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
for p in 2 8; do
	for _ in $(seq "$ROUNDS"); do
		read -r c0 s0 < <(ticks)
		t0=$(now_us)
		cl=$( { time bench/futbench exec "$T/s" "$p" "$N" \
		    >/dev/null; } 2>&1 )
		t1=$(now_us)
		read -r c1 s1 < <(ticks)
		awk -v p="$p" -v n="$N" -v el=$((t1 - t0)) -v hz="$HZ" \
		    -v ch=$((c1 - c0)) -v dm=$((s1 - s0)) -v cl="$cl" 'BEGIN {
			split(cl, c, " ")
			ch = ch * 1e6 / hz / n; dm = dm * 1e6 / hz / n
			cl = (c[1] + c[2]) * 1e6 / n; tot = ch + dm + cl
			printf("futured %d in flight: %5.0f cmd/s; cpu per " \
			    "command %3.0f us = command %3.0f + daemon %3.0f " \
			    "+ client %2.0f; cpus busy %.2f\n", p,
			    n / (el / 1e6), tot, ch, dm, cl, tot * n / el)
		}'
		t0=$(now_us)
		cl=$( { time bench/rawbench spawn "$p" "$N" >/dev/null; } 2>&1 )
		t1=$(now_us)
		awk -v p="$p" -v n="$N" -v el=$((t1 - t0)) -v cl="$cl" 'BEGIN {
			split(cl, c, " ")
			tot = (c[1] + c[2]) * 1e6 / n
			printf("spawn   %d in flight: %5.0f cmd/s; cpu per " \
			    "command %3.0f us (command and caller); " \
			    "cpus busy %.2f\n", p, n / (el / 1e6), tot,
			    tot * n / el)
		}'
	done
done
