# Helpers for the integration tests: each test sources this file, starts
# a real futured on a private socket in a temporary directory, and drives
# it with futurectl or clientprog.  Names: must_* abort the test when the
# command fails, ck_* assert a result.  Everything started is killed and
# removed by the EXIT trap, and the daemon's log is shown on failure.

set -eu
# futurectl run forwards a pipe on its stdin: a test reads none of the
# harness's, which may be a pipe that never ends.
exec </dev/null

: "${FUTURED:?FUTURED must name the futured binary}"
: "${FUTURECTL:?FUTURECTL must name the futurectl binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/futured-test.XXXXXX")
chmod 700 "$T"
SOCK=$T/run/futured.sock
FUTURED_SOCKET=$SOCK
export FUTURED_SOCKET
# No config file of the user running the tests (futured.conf(5)).
XDG_CONFIG_HOME=$T/config
export XDG_CONFIG_HOME
# Nor their journal: a daemon started by hand (not start_daemon) keeps
# its journal under $T/state, root's too.
XDG_STATE_HOME=$T/state
export XDG_STATE_HOME
DPID=
TEST_NAME=$(basename "$0" .sh)
# A token unique to this run, to find our own processes with pgrep.
TOKEN=$$$(date +%N)

cleanup() {
	rc=$?
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -KILL "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	pkill -KILL -f "$TOKEN" 2>/dev/null || true
	if [ "$rc" -ne 0 ] && [ -f "$T/daemon.log" ]; then
		echo "--- daemon log ($TEST_NAME) ---" >&2
		tail -n 60 "$T/daemon.log" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT
trap 'echo "FAIL ($TEST_NAME): SIGTERM (over make check'"'"'s TEST_TIMEOUT?)" >&2
    exit 1' TERM

fail() {
	echo "FAIL ($TEST_NAME): $*" >&2
	exit 1
}

pass() {
	echo "ok - $*"
}

fctl() {
	"$FUTURECTL" -s "$SOCK" "$@"
}

# Milliseconds since the epoch.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# Wait until a condition command succeeds, polling; fail after $1 seconds.
wait_until() {
	_limit=$(( $(now_ms) + $1 * 1000 ))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$_limit" ] || return 1
		sleep 0.02
	done
}

# A private journal in $T; a --journal in the arguments wins.
start_daemon() {
	"$FUTURED" -f -s "$SOCK" -l debug --journal "$T/journal" "$@" \
	    >>"$T/daemon.log" 2>&1 &
	DPID=$!
	wait_until 30 fctl ping || fail "futured did not come up"
}

stop_daemon() {
	kill -TERM "$DPID"
	_rc=0
	wait "$DPID" || _rc=$?
	DPID=
	[ "$_rc" -eq 0 ] || fail "futured exited with $_rc on SIGTERM"
}

# ck_exit CODE CMD...: CMD must exit with CODE.
ck_exit() {
	_want=$1
	shift
	_got=0
	"$@" >"$T/out" 2>"$T/err" || _got=$?
	if [ "$_got" -ne "$_want" ]; then
		echo "stdout: $(cat "$T/out")" >&2
		echo "stderr: $(cat "$T/err")" >&2
		fail "'$*' exited $_got, expected $_want"
	fi
}

# ck_eq GOT WANT WHAT
ck_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# ck_match STRING PATTERN WHAT (grep -E)
ck_match() {
	printf '%s\n' "$1" | grep -Eq -- "$2" || fail "$3: '$1' does not match /$2/"
}

must() {
	"$@" || fail "'$*' failed"
}

# python_env: point python3 at this build's uninstalled libfutured and at
# the binding in the source tree; run it with pyrun.  In a sanitizer build
# python3 must load the sanitizer's runtime before anything else, so pyrun
# preloads it into python3 only: python3 drops LD_PRELOAD at startup
# (a sitecustomize in $T), since other programs deadlock or crash with
# that runtime, pkill and sh among them, and an exec job gets the
# client's environment; a python3 started without it (a subprocess, a
# supervised Python worker) puts it back and runs again.  python3 never frees its own memory at exit, so
# LeakSanitizer is off there (the C tests look for libfutured's leaks).
# Returns 1, having said why, when python3 cannot run the binding here.
python_env() {
	: "${abs_top_builddir:?}" "${abs_top_srcdir:?}"
	if [ "${PYTHON:-:}" = ":" ] || ! "$PYTHON" -c 'import ctypes' \
	    2>/dev/null; then
		echo "skip: no python3"
		return 1
	fi
	FUTURED_LIBRARY=$abs_top_builddir/.libs/libfutured.so.0
	PYTHONPATH=$abs_top_srcdir/bindings/python
	PYTHONDONTWRITEBYTECODE=1
	export FUTURED_LIBRARY PYTHONPATH PYTHONDONTWRITEBYTECODE
	PY_SAN_ENV=
	case "${SAN_FLAGS:-}" in
	*address*)	_rt=libasan.so ;;
	*thread*)	_rt=libtsan.so ;;
	*)		return 0 ;;
	esac
	_rt=$(${CC:-cc} -print-file-name=$_rt 2>/dev/null) || _rt=
	case "$_rt" in
	/*)	;;
	*)	echo "skip: no sanitizer runtime to preload into python3"
		return 1 ;;
	esac
	mkdir -p "$T/pysan"
	# A python3 the tests or the daemon start (a subprocess, a worker
	# of a supervised pool) finds the runtime's path in PYSAN_PRELOAD
	# and runs again with it preloaded, before it loads libfutured.
	cat >"$T/pysan/sitecustomize.py" <<-'EOF'
	import os, sys
	_rt = os.environ.pop("LD_PRELOAD", None)
	if _rt:
	    os.environ["PYSAN_PRELOAD"] = _rt
	elif os.environ.get("PYSAN_PRELOAD") and hasattr(sys, "orig_argv"):
	    os.execve(sys.executable, sys.orig_argv,
	              dict(os.environ, LD_PRELOAD=os.environ["PYSAN_PRELOAD"]))
	EOF
	PY_SAN_ENV="LD_PRELOAD=$_rt PYTHONPATH=$T/pysan:$PYTHONPATH"
	PY_SAN_ENV="$PY_SAN_ENV ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0"
}

pyrun() {
	# shellcheck disable=SC2086
	env ${PY_SAN_ENV:-} "$PYTHON" "$@"
}

# One field of futurectl's --json line for a job.
jfield() {
	python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
v = d.get(sys.argv[1])
print("null" if v is None else v)' "$1"
}

job_state() {
	fctl --json status "$1" | jfield state
}

# No process carrying our token is left.
no_token_procs() {
	! pgrep -f "$TOKEN" >/dev/null
}
