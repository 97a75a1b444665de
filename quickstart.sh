#!/bin/sh
# quickstart.sh: build futured from this checkout and show it working.
#
# On Debian 12 it first installs the build dependencies with apt-get
# (as root, or through sudo) unless dpkg says they are all there already,
# so it also runs as an ordinary user once they are installed.  Then it
# builds in build-quickstart/ (out of the source tree, so that .ci/run's
# own out-of-tree builds still work afterwards), starts futured in the foreground on a private socket
# in a fresh temporary directory, runs one job per kind, a sha256 on a
# cpu worker and a command, prints the daemon's counters and stops it
# with SIGTERM.  Nothing is installed outside this checkout and no
# daemon is left running.

set -eu

cd "$(dirname "$0")"

PACKAGES="build-essential autoconf automake libtool pkg-config \
libevent-dev libprotobuf-c-dev protobuf-c-compiler check libssl-dev \
python3 mandoc"

# Install whatever is missing, if this is a Debian-like system.
missing=
if command -v dpkg >/dev/null 2>&1; then
	for p in $PACKAGES; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
fi
if [ -n "$missing" ]; then
	echo "==> installing:$missing"
	if [ "$(id -u)" -eq 0 ]; then
		as_root=
	elif command -v sudo >/dev/null 2>&1; then
		as_root=sudo
	else
		echo "quickstart: missing packages:$missing" >&2
		echo "quickstart: run as root, or install them first" >&2
		exit 1
	fi
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get update
	# shellcheck disable=SC2086 # one word per package
	$as_root env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends $missing
fi

echo "==> building in build-quickstart/"
mkdir -p m4
autoreconf -fi
mkdir -p build-quickstart
cd build-quickstart
../configure
make -j2

dir=$(mktemp -d "${TMPDIR:-/tmp}/futured-quickstart.XXXXXX")
sock="$dir/futured.sock"
pid=

cleanup() {
	status=$?
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	fi
	if [ "$status" -ne 0 ] && [ -s "$dir/futured.log" ]; then
		echo "==> futured's log:" >&2
		tail -n 40 "$dir/futured.log" >&2
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Print a command the way a user would type it.
show() {
	printf '\n$ %s\n' "$1"
}
ctl() {
	./futurectl -s "$sock" "$@"
}

# Is the daemon still there?  kill -0 alone would count a zombie.
alive() {
	kill -0 "$pid" 2>/dev/null || return 1
	if [ -r "/proc/$pid/stat" ]; then
		case $(sed 's/.*) //' "/proc/$pid/stat") in
		Z*)	return 1 ;;
		esac
	fi
	return 0
}

echo "==> starting futured on $sock (log in $dir/futured.log)"
# Built-in defaults but for where it keeps things: a private socket and
# journal, so the demo neither meets nor disturbs a futured of yours.
./futured -f -s "$sock" --journal "$dir/journal" 2>"$dir/futured.log" &
pid=$!

# Wait for the socket to answer: at most 10 s, and stop early if the
# daemon died instead.
tries=0
until ctl ping >/dev/null 2>&1; do
	if ! alive; then
		wait "$pid" || :
		pid=
		echo "quickstart: futured exited during start-up" >&2
		exit 1
	fi
	tries=$((tries + 1))
	if [ "$tries" -ge 100 ]; then
		echo "quickstart: futured did not answer within 10s" >&2
		exit 1
	fi
	sleep 0.1
done

show "futurectl ping"
ctl ping

for kind in async blocking cpu; do
	show "futurectl submit -k $kind -d hello -w echo"
	ctl submit -k "$kind" -d hello -w echo
	echo
done

show "printf abc | futurectl submit -k cpu -D - -w sha256"
printf abc | ctl submit -k cpu -D - -w sha256

show "futurectl run -- sh -c 'echo hi from a command; exit 3'"
rc=0
ctl run -- sh -c 'echo hi from a command; exit 3' || rc=$?
echo "(futurectl exited $rc, the command's own status)"
if [ "$rc" -ne 3 ]; then
	echo "quickstart: expected exit status 3" >&2
	exit 1
fi

show "futurectl stats"
ctl stats

echo
echo "==> stopping futured"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
if [ "$rc" -ne 0 ]; then
	echo "quickstart: futured exited $rc after SIGTERM" >&2
	exit 1
fi
if [ -e "$sock" ]; then
	echo "quickstart: futured left its socket behind" >&2
	exit 1
fi
echo "==> done: futured built, ran and stopped cleanly"
