# Who runs whose work in a --system daemon's supervised pools (issue 13
# item 4): a config pool must name its pool-user (refused otherwise),
# runs as that user through the --exec-as trampoline and serves only its
# pool-owners; a PoolRequest pool runs as the caller and serves only the
# caller.  The worker is supervise_worker.py (from the .proto alone).
# Needs root, useradd, runuser, protoc and python3-protobuf.

. "$TESTLIB"
: "${abs_top_builddir:?}" "${abs_top_srcdir:?}"

PB=$abs_top_builddir/tests/conformance
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null 2>&1 ||
    ! command -v runuser >/dev/null 2>&1; then
	echo "skip - needs root, useradd and runuser"
	exit 77
fi
if [ ! -f "$PB/futured_pb2.py" ] || [ "${PYTHON:-:}" = ":" ] ||
    ! "$PYTHON" -c 'import google.protobuf' 2>/dev/null; then
	echo "skip: needs protoc and python3-protobuf"
	exit 77
fi

# Users of this run alone: another test may remove its own meanwhile.
UA=fsa$$
UB=fsb$$
sys_cleanup() {
	_rc=$?
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null || true
	fi
	for u in "$UA" "$UB"; do
		pkill -KILL -u "$u" 2>/dev/null || true
		userdel "$u" 2>/dev/null || true
	done
	(exit "$_rc")
	cleanup
}
trap sys_cleanup EXIT
for u in "$UA" "$UB"; do
	must useradd -M -r -s /bin/sh "$u"
done
uida=$(id -u "$UA")
uidb=$(id -u "$UB")

# Everyone must reach the socket, futurectl and the worker: $T is private.
chmod 755 "$T"
mkdir -p "$T/pb" "$T/etc"
cp "$FUTURECTL" "$T/futurectl"
cp "$PB/futured_pb2.py" "$abs_top_srcdir/tests/integration/supervise_worker.py" \
    "$abs_top_srcdir/tests/integration/supervise.py" \
    "$abs_top_srcdir/tests/integration/pbconn.py" "$T/pb/"
chmod -R a+rX "$T/futurectl" "$T/pb"
SOCK=$T/sys/f.sock
as() {
	_u=$1
	shift
	(cd / && runuser -u "$_u" -- "$@")
}
fas() {
	_u=$1
	shift
	as "$_u" "$T/futurectl" -s "$SOCK" "$@"
}

# No pool-user: refused, never root by default.
printf 'pool = w %s %s/pb/supervise_worker.py\n' "$PYTHON" "$T" \
    >"$T/etc/bad.conf"
ck_exit 1 "$FUTURED" -f --system -c "$T/etc/bad.conf" -s "$SOCK" \
    --journal none
ck_match "$(cat "$T/err")" "bad.conf:1: pool w needs a pool-user.w with --system" \
    "no pool-user"
pass "--system: a pool without a pool-user is refused"

cat >"$T/etc/futured.conf" <<C
pool = w $PYTHON $T/pb/supervise_worker.py cfg $TOKEN
pool-size.w = 1
pool-kinds.w = cpu
pool-user.w = $UA
pool-owners.w = $UB
pool-env.w = PYTHONPATH=$T/pb
C
start_daemon --system -c "$T/etc/futured.conf"
wait_until 30 grep -q "pool w: serving" "$T/daemon.log" ||
    fail "the config pool did not register"
PW=$(sed -n 's/.*pool w: process 0 is pid \([0-9]*\)$/\1/p' \
    "$T/daemon.log" | tail -n 1)
ck_eq "$(ps -o uid= -p "$PW" | tr -d ' ')" "$uida" "the pool's process uid"
# A job of someone else first, then the owner's: the owner's is served,
# the other stays queued though the worker was free for it all along.
idr=$(fctl submit -k cpu -d root cfg.echo)
idb=$(fas "$UB" submit -k cpu -d bee cfg.echo)
ck_exit 0 fctl wait -t 30s "$idb"
ck_eq "$(fctl result "$idb")" "$PW:bee" "the owner's job"
ck_eq "$(job_state "$idr")" queued "root's job (not an owner)"
ck_exit 0 fctl cancel "$idr"
pass "--system: a config pool runs as its pool-user and serves its pool-owners only"

# A PoolRequest as $UA: its pool runs as $UA and serves $UA alone.
out=$(as "$UA" env PYTHONPATH="$T/pb" "$PYTHON" "$T/pb/supervise.py" "$SOCK" \
    ask "$PYTHON" "$T/pb/supervise_worker.py" usr "$TOKEN") ||
    fail "the PoolRequest failed: $out"
ck_match "$out" "^[A-Za-z0-9_.:-]+-[0-9a-f]{8} True usr.echo,usr.spin\$" \
    "created, serving what its first process registered"
name=${out%% *}
out=$(as "$UA" env PYTHONPATH="$T/pb" "$PYTHON" "$T/pb/supervise.py" "$SOCK" \
    ask "$PYTHON" "$T/pb/supervise_worker.py" usr "$TOKEN")
ck_eq "$out" "$name False usr.echo,usr.spin" "asked again: the same pool"
PU=$(sed -n "s/.*pool $name: process 0 is pid \([0-9]*\)\$/\1/p" \
    "$T/daemon.log" | tail -n 1)
ck_eq "$(ps -o uid= -p "$PU" | tr -d ' ')" "$uida" "the caller's pool's uid"
idb=$(fas "$UB" submit -k cpu -d bee usr.echo)
ida=$(fas "$UA" submit -k cpu -d ay usr.echo)
ck_exit 0 fctl wait -t 30s "$ida"
ck_eq "$(fctl result "$ida")" "$PU:ay" "the caller's job"
ck_eq "$(job_state "$idb")" queued "another user's job"
ck_exit 0 fctl cancel "$idb"
pass "--system: a PoolRequest pool runs as its caller and serves the caller only"
stop_daemon
