#!/bin/sh
# bench/slurm.sh OUT ROUNDS N TRACK WINDOW: the Slurm engine's figures,
# run by bench/run.sh against a private one-node Slurm (the tests'
# tests/integration/slurmlib.sh), one number a line appended to files
# in OUT, run.sh's figure directory:
#
#   slurm_submit	ms from fut_submit of an exec job on Slurm to its
#			Slurm id in fut_status (futbench slurm: libfutured,
#			no futurectl process, fut_status every 100 us from
#			3/4 of the last bare sbatch on), median of N, a line
#			a round; the daemon's defaults: the journal with
#			--fsync always (ACCEPT, START and the Slurm id each
#			written and synced)
#   slurm_submit_nj	the same, of a daemon with --journal none
#   slurm_sbatch	ms of a bare sbatch of the same batch script with
#			the same options, spawned and reaped by futbench
#			right after each job above (both daemons' pairs)
#   slurm_ratio		median of the pairs' ratios, futured / bare, a line
#			a round: a burst of load weighs on both of a pair
#   slurm_ratio_nj	the same, --journal none
#   slurm_fill		s from submitting TRACK jobs at once to all their
#			Slurm ids (futbench slurmfill)
#   slurm_calls		squeue calls per --slurm-interval over WINDOW s
#			while TRACK jobs are tracked
#   slurm_names		the fewest job ids an squeue call named then
#   slurm_squeue_ms	ms of the slowest squeue call then
#
# Every job is held (--hold: futured's --slurm-option, and the bare
# sbatch's), so that none runs and the node stays quiet.  Exits 77 with
# a message where there is no Slurm or the script is not root.

set -eu

OUT=$1 ROUNDS=$2 N=$3 TRACK=$4 WINDOW=$5
: "${FUTURED:=./futured}"
: "${FUTBENCH:=./bench/futbench}"
: "${srcdir:=$(dirname "$0")/..}"
INTERVAL=1

# What slurmlib.sh takes from the tests' lib.sh.
TEST_NAME=bench-slurm
W=$(mktemp -d "${TMPDIR:-/tmp}/futured-bench-slurm.XXXXXX")
chmod 700 "$W"
XDG_CONFIG_HOME=$W/config
XDG_STATE_HOME=$W/state
export XDG_CONFIG_HOME XDG_STATE_HOME
unset FUTURED_SOCKET || true
DPID=
NJPID=
now_ms() {
	date +%s%3N
}
wait_until() {
	_limit=$(( $(now_ms) + $1 * 1000 ))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$_limit" ] || return 1
		sleep 0.02
	done
}
fail() {
	echo "bench: slurm: $*" >&2
	exit 1
}
cleanup() {
	rc=$?
	[ -z "$DPID" ] || kill -KILL "$DPID" 2>/dev/null || true
	[ -z "$NJPID" ] || kill -KILL "$NJPID" 2>/dev/null || true
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$W/daemon.log" ]; then
		tail -n 20 "$W/daemon.log" >&2
	fi
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
. "$srcdir/tests/integration/slurmlib.sh"
slurm_start

# squeue through a wrapper that logs, a line a call: ms it took, and the
# job ids it named.
mkdir -p "$W/bin" "$W/shared"
real=$(command -v squeue)
cat >"$W/bin/squeue" <<EOS
#!/bin/sh
t0=\$(date +%s%3N)
$real "\$@"
rc=\$?
ids=0
for a in "\$@"; do
	case \$a in --jobs=*) ids=\$(echo "\${a#--jobs=}" | tr , '\\n' | sort -u | wc -l) ;; esac
done
echo "\$((\$(date +%s%3N) - t0)) \$ids" >>"$W/squeue.calls"
exit \$rc
EOS
chmod +x "$W/bin/squeue"

PATH=$W/bin:$PATH "$FUTURED" --detach -s "$W/d.sock" -l warn \
    --journal "$W/journal" --slurm-dir "$W/shared" \
    --slurm-interval "${INTERVAL}s" --slurm-option=--hold \
    2>>"$W/daemon.log"
DPID=$("$FUTBENCH" pid "$W/d.sock")
PATH=$W/bin:$PATH "$FUTURED" --detach -s "$W/nj.sock" -l warn \
    --journal none --slurm-dir "$W/shared-nj" \
    --slurm-interval "${INTERVAL}s" --slurm-option=--hold \
    2>>"$W/daemon.log"
NJPID=$("$FUTBENCH" pid "$W/nj.sock")

# One job first: futured writes its batch script, which the bare sbatch
# submits too, with the options futured gives.
"$FUTBENCH" slurm "$W/d.sock" 1 >/dev/null
"$FUTBENCH" slurm "$W/nj.sock" 1 >/dev/null
SLURM_BARE="sbatch --parsable --job-name=futured-bare
    --comment=bare --output=$W/shared/bare.out --error=$W/shared/bare.err
    --export=ALL --chdir=$W/shared --hold $W/shared/futured-job.sh true"
# Each job paired with a bare sbatch (futbench slurm SOCK N ARG...):
# its figure, the bare one's, the pairs' ratio.
pairs() {
	FUTURED_SLURM_IN=/dev/null FUTURED_SLURM_RC=$W/shared/bare.rc \
	    "$FUTBENCH" slurm "$1" "$N" $SLURM_BARE >"$W/pair"
	[ "$(wc -l <"$W/pair")" -eq 3 ] ||
	    fail "futbench slurm: $(cat "$W/pair")"
	sed -n 1p "$W/pair" >>"$OUT/$2"
	sed -n 2p "$W/pair" >>"$OUT/slurm_sbatch"
	sed -n 3p "$W/pair" >>"$OUT/$3"
}
for r in $(seq "$ROUNDS"); do
	pairs "$W/d.sock" slurm_submit slurm_ratio
	pairs "$W/nj.sock" slurm_submit_nj slurm_ratio_nj
done
scancel --full -u "$(id -un)" >/dev/null 2>&1 || true
kill -TERM "$NJPID"
"$FUTBENCH" reap "$NJPID"
NJPID=

# TRACK jobs held in Slurm: what following them costs, per interval.
wait_until 30 sh -c "[ -z \"\$(squeue -h -u $(id -un))\" ]" ||
    fail "the held jobs were never cancelled"
"$FUTBENCH" slurmfill "$W/d.sock" "$TRACK" >>"$OUT/slurm_fill"
# From the first call that names them all.
wait_until 30 sh -c "tail -n 1 '$W/squeue.calls' | awk '\$2 >= $TRACK { ok = 1 } END { exit !ok }'" ||
    fail "no squeue call named all $TRACK jobs: $(tail -n 3 "$W/squeue.calls")"
c0=$(wc -l <"$W/squeue.calls")
sleep "$WINDOW"
tail -n +"$((c0 + 1))" "$W/squeue.calls" >"$W/window"
awk -v w="$WINDOW" -v i="$INTERVAL" '{ n++ } END {
	printf "%.2f\n", n * i / w }' "$W/window" >>"$OUT/slurm_calls"
awk 'NR == 1 || $2 < m { m = $2 } END { print m + 0 }' "$W/window" \
    >>"$OUT/slurm_names"
awk '$1 > m { m = $1 } END { print m + 0 }' "$W/window" \
    >>"$OUT/slurm_squeue_ms"
kill -TERM "$DPID"
"$FUTBENCH" reap "$DPID"
DPID=
