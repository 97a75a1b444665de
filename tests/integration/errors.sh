# Proves that bad input gets a clear error naming what was wrong, with the
# documented exit status, and that the daemon keeps serving everyone else:
# unknown handler, wrong kind, bad duration, bad priority and context key,
# no such job, an unreachable daemon, oversized and undecodable frames.

. "$TESTLIB"

ck_exit 6 "$FUTURECTL" -s "$T/nowhere.sock" ping
ck_match "$(cat "$T/err")" "nowhere.sock" "unreachable daemon names the socket"
pass "daemon unreachable: exit 6"

start_daemon

ck_exit 2 fctl submit nosuchhandler
ck_match "$(cat "$T/err")" "nosuchhandler" "unknown handler is named"
ck_exit 2 fctl submit -k cpu sleep 1s
ck_match "$(cat "$T/err")" "sleep.*cpu" "wrong kind names handler and kind"
ck_exit 2 fctl submit -k quantum echo
ck_match "$(cat "$T/err")" "quantum" "bad kind is named"
ck_exit 2 fctl submit -t 5x echo
ck_match "$(cat "$T/err")" "5x" "bad duration is named"
ck_exit 2 fctl wait -t soon 1
ck_match "$(cat "$T/err")" "soon" "bad wait duration is named"
ck_exit 2 fctl submit -p 21 echo
ck_exit 2 fctl submit -C 'bad-key=1' echo
ck_match "$(cat "$T/err")" "bad-key" "bad context key is named"
ck_exit 2 fctl frobnicate
ck_exit 2 fctl
pass "usage errors: exit 2 naming the bad value"

ck_exit 7 fctl status 999999
ck_exit 7 fctl wait 999999
ck_exit 7 fctl result 999999
ck_exit 7 fctl cancel 999999
ck_match "$(cat "$T/out") $(cat "$T/err")" "999999" "cancel names the unknown id"
ck_exit 2 fctl result notanumber
# One unknown id spoils none of the others: the daemon refuses a request
# with an unknown id whole, so futurectl must not send them together.
s=$(fctl submit sleep 30s)
ck_exit 7 fctl cancel "$s" 999999
ck_match "$(cat "$T/out")" "^$s cancelled" "the known job is cancelled"
ck_match "$(cat "$T/err")" "999999" "the unknown one is named"
ck_exit 7 fctl status "$s" 999999
ck_match "$(cat "$T/out")" "^$s +cancelled" "the known job's status"
pass "no such job: exit 7"

# Every request gets one answer: a group that does not exist is no such
# group (it used to leave wait and cancel hanging, -t or not), and one
# that exists with no jobs has nothing to wait for or cancel.  timeout(1)
# turns a hang into a failure (124).
ck_exit 7 timeout 30 "$FUTURECTL" -s "$SOCK" wait -g nosuchgroup
ck_match "$(cat "$T/err")" "no such group: nosuchgroup" "wait names the group"
ck_exit 7 timeout 30 "$FUTURECTL" -s "$SOCK" wait -t 1s -g nosuchgroup
ck_exit 7 timeout 30 "$FUTURECTL" -s "$SOCK" cancel -g nosuchgroup
ck_match "$(cat "$T/err")" "no such group: nosuchgroup" "cancel names the group"
must fctl group emptygroup >/dev/null
ck_exit 0 timeout 30 "$FUTURECTL" -s "$SOCK" wait -g emptygroup
ck_eq "$(cat "$T/out")" "" "an empty group's wait lists no job"
ck_exit 0 timeout 30 "$FUTURECTL" -s "$SOCK" cancel -g emptygroup
pass "wait and cancel of an unknown or empty group are answered"

# A failed command: exit 1, the error and stderr tail come back.
ck_exit 1 fctl submit -w exec -- sh -c 'echo oops >&2; exit 9'
ck_match "$(cat "$T/err")" "status 9|oops" "failure is explained"
ck_exit 127 fctl run -- /no/such/program
pass "failed jobs"

# Hostile frames: a 4 GiB length and garbage both get an error and a close;
# the daemon goes on serving.
python3 - "$SOCK" <<'PY' || fail "hostile frames"
import socket, struct, sys
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    return s
def answer(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
for frame in (b"\xff\xff\xff\xff", b"\x00\x00\x00\x05\xff\xff\xff\xff\xff"):
    s = conn()
    s.sendall(frame)
    data = answer(s)   # reads to EOF: the daemon closed the connection
    assert len(data) > 4, data
    n = struct.unpack(">I", data[:4])[0]
    assert n == len(data) - 4, (n, data)
# Half a frame, then the client vanishes.
s = conn()
s.sendall(b"\x00\x00\x10\x00abc")
s.close()
PY
ck_eq "$(fctl submit -d still-here -w echo)" still-here "daemon serves on after bad frames"
ck_match "$(cat "$T/daemon.log")" "over the limit" "oversized frame is logged"
pass "hostile frames"

stop_daemon
