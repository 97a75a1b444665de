# Proves the systemd integration without systemd running: socket
# activation (systemd-socket-activate hands futured a listening fd 3 with
# LISTEN_PID/LISTEN_FDS; futured serves on it, tells jobs its path, and
# leaves the socket in place at exit), sd_notify READY=1 and STOPPING=1
# to a NOTIFY_SOCKET path and to an abstract '@' name, and that
# systemd-analyze verify accepts the unit files.  Parts whose tool is
# missing are skipped with a note.

. "$TESTLIB"

SRCDIR=$(cd "$(dirname "$TESTLIB")/../.." && pwd)

# A datagram socket that prints what it receives, one message a line.
listen_notify() {
	python3 -u - "$1" >"$2" 2>&1 <<'PY' &
import socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
print("bound", flush=True)
s.settimeout(30)
while True:
    msg = s.recv(4096).decode()
    print(msg, flush=True)
    if "STOPPING=1" in msg:
        break
PY
	NPID=$!
	wait_until 30 grep -q bound "$2" || fail "notify listener did not start"
}

for addr in "$T/notify" "@futured-test-$TOKEN"; do
	listen_notify "$addr" "$T/notify.out"
	NOTIFY_SOCKET=$addr start_daemon
	wait_until 30 grep -q "READY=1" "$T/notify.out" ||
	    fail "READY=1 to $addr"
	# Jobs never see the daemon's NOTIFY_SOCKET.
	ck_eq "$(fctl submit -w exec -- sh -c 'echo ${NOTIFY_SOCKET-unset}')" \
	    unset "NOTIFY_SOCKET is not passed on"
	stop_daemon
	wait "$NPID" || fail "STOPPING=1 to $addr"
	must grep -q "STOPPING=1" "$T/notify.out"
done
pass "sd_notify: READY=1 and STOPPING=1, to a path and an abstract name"

if command -v systemd-socket-activate >/dev/null 2>&1; then
	mkdir -m 700 "$T/act"
	ASOCK=$T/act/f.sock
	systemd-socket-activate -l "$ASOCK" -E FUTURED_TEST_TOKEN="$TOKEN" \
	    "$FUTURED" -f -l debug --journal "$T/act/journal" \
	    >>"$T/daemon.log" 2>&1 &
	DPID=$!
	# Not test -S: the socket's file is there from bind(), before
	# listen(), and a connect in between is refused.  The first
	# connection starts futured.
	wait_until 30 "$FUTURECTL" -s "$ASOCK" ping ||
	    fail "systemd-socket-activate listens"
	ck_eq "$("$FUTURECTL" -s "$ASOCK" submit -w exec -- \
	    sh -c 'echo $FUTURED_SOCKET')" "$ASOCK" \
	    "jobs learn the activated socket's path"
	must grep -q "listening on $ASOCK" "$T/daemon.log"
	kill -TERM "$DPID"
	wait "$DPID" || fail "activated futured exits 0 on SIGTERM"
	DPID=
	[ -S "$ASOCK" ] || fail "the passed socket is not ours to unlink"
	pass "socket activation: serves on the passed socket, leaves it"
else
	echo "skip - systemd-socket-activate missing"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
	# The units as installed, with ExecStart pointing at this build.
	for d in "" user/; do
		mkdir -p "$T/units/$d"
		sed "s|@bindir@/futured|$FUTURED|" \
		    "$SRCDIR/systemd/${d}futured.service.in" \
		    >"$T/units/${d}futured.service"
		cp "$SRCDIR/systemd/${d}futured.socket" "$T/units/$d"
	done
	must systemd-analyze verify --man=no "$T/units/futured.socket" \
	    "$T/units/futured.service"
	# A user manager needs a runtime directory, even to verify.
	mkdir -m 700 "$T/xdg"
	(cd "$T/units/user" && XDG_RUNTIME_DIR=$T/xdg \
	    systemd-analyze --user verify --man=no \
	    ./futured.socket ./futured.service) >"$T/verify.out" 2>&1 ||
	    { cat "$T/verify.out" >&2; fail "user units do not verify"; }
	pass "systemd-analyze verify accepts the units"
else
	echo "skip - systemd-analyze missing"
fi
