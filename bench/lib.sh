# bench/lib.sh: what bench/run.sh and bench/compare.sh share, sourced by
# both: a private directory ($T, removed at exit with every daemon still
# running), and private daemons started with --detach and ended through
# futbench (their pid from SO_PEERCRED, their end from a pidfd), so that
# nothing here sleeps to wait.  FUTURED and FUTBENCH name the binaries;
# compare.sh sets them anew for each build.

T=$(mktemp -d "${TMPDIR:-/tmp}/futured-bench.XXXXXX")
chmod 700 "$T"
XDG_CONFIG_HOME=$T/config
XDG_STATE_HOME=$T/state
export XDG_CONFIG_HOME XDG_STATE_HOME
unset FUTURED_SOCKET || true
PIDS=			# daemons (not our children): kill and reap
KIDS=			# gearmand and its workers: our children

cleanup() {
	rc=$?
	for p in $PIDS; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in $KIDS; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] && [ -f "$T/daemon.log" ]; then
		echo "--- daemon log ---" >&2
		tail -n 30 "$T/daemon.log" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() {
	echo "bench: $*" >&2
}

# start_daemon NAME [OPTION...]: a private futured on $T/NAME.sock; its
# pid in $DPID.
# The scheduler's figures run without a journal (--journal none): they
# measure the path a job takes, and never touch the user's own journal.
# What durability costs is the --fsync row's business.
start_daemon() {
	_name=$1
	shift
	case " $* " in
	*" --journal "*) ;;
	*) set -- --journal none "$@" ;;
	esac
	# $PIN: a command the daemon runs under (taskset -c 0), or empty.
	${PIN:-} "$FUTURED" --detach -s "$T/$_name.sock" -l warn "$@" \
	    2>>"$T/daemon.log"
	DPID=$("$FUTBENCH" pid "$T/$_name.sock")
	PIDS="$PIDS $DPID"
}

stop_daemon() {
	kill -TERM "$1"
	"$FUTBENCH" reap "$1"
	_left=
	for _p in $PIDS; do
		[ "$_p" = "$1" ] || _left="$_left $_p"
	done
	PIDS=$_left
}

