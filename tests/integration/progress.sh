# Proves exec's progress lines (FUTURED_PROGRESS_FD): a command's lines
# reach watch --json as progress and message while it runs, in both
# forms; malformed lines are ignored and the job is not failed for
# them; stdout stays the job's output; the descriptor reaches no other
# command.

. "$TESTLIB"
start_daemon

# Lines in both forms arrive while the command runs; the test moves it
# on only once the watcher has seen each.
id=$(fctl submit exec -- sh -c '
	echo out-one
	echo "0.25 a quarter" >&"$FUTURED_PROGRESS_FD"
	until [ -e "$1/p1" ]; do sleep 0.02; done
	echo "not progress" >&"$FUTURED_PROGRESS_FD"
	echo "3/4 three quarters" >&"$FUTURED_PROGRESS_FD"
	until [ -e "$1/p2" ]; do sleep 0.02; done
	echo out-two' sh "$T")
fctl --json watch "$id" >"$T/w.json" &
wpid=$!
wait_until 10 grep -q '"progress_msg":"a quarter"' "$T/w.json" ||
    fail "no first progress line: $(cat "$T/w.json")"
: >"$T/p1"
wait_until 10 grep -q '"progress_msg":"three quarters"' "$T/w.json" ||
    fail "no second progress line: $(cat "$T/w.json")"
: >"$T/p2"
wrc=0
wait "$wpid" || wrc=$?
ck_eq "$wrc" 0 "watch of a command reporting progress"
python3 - "$T/w.json" <<'PY' || fail "watch --json: $(cat "$T/w.json")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
seen = [(l["progress"], l["progress_msg"]) for l in lines
        if l["state"] == "running" and l["progress_msg"]]
assert (0.25, "a quarter") in seen, seen
assert (0.75, "three quarters") in seen, seen
# In the order written; nothing of the malformed line.
assert seen.index((0.25, "a quarter")) < seen.index((0.75, "three quarters"))
assert all(m != "not progress" for _, m in seen), seen
out = "".join(l["output"] or "" for l in lines)
assert out == "out-one\nout-two\n", repr(out)
assert lines[-1]["state"] == "succeeded", lines[-1]
PY
pass "progress lines reach watch --json; stdout stays the output"

# Only malformed lines, an unterminated last line, a huge line: the job
# succeeds, and its status keeps the last good line.
id=$(fctl submit -k async exec -- sh -c '
	printf "garbage\n2.5 too much\n-1 no\n" >&"$FUTURED_PROGRESS_FD"
	head -c 300000 /dev/zero | tr "\0" x >&"$FUTURED_PROGRESS_FD"
	printf "\n1/8 eighth\n" >&"$FUTURED_PROGRESS_FD"
	until [ -e "$1/p3" ]; do sleep 0.02; done
	printf "1/4 the last, unterminated" >&"$FUTURED_PROGRESS_FD"
	exec 3>&-
	until [ -e "$1/p3b" ]; do sleep 0.02; done' sh "$T")
wait_until 10 sh -c "$FUTURECTL -s $SOCK --json status $id | grep -q '\"progress_msg\":\"eighth\"'" ||
    fail "no progress after malformed lines: $(fctl --json status "$id")"
ck_eq "$(fctl --json status "$id" | jfield progress)" 0.125 "progress"
: >"$T/p3"
# Its end of the pipe closed: the last line counts without its newline.
wait_until 10 sh -c "$FUTURECTL -s $SOCK --json status $id | grep -q '\"progress\":0.25'" ||
    fail "no unterminated last line: $(fctl --json status "$id")"
ck_eq "$(fctl --json status "$id" | jfield progress_msg)" \
    "the last, unterminated" "message of an unterminated line"
: >"$T/p3b"
ck_exit 0 fctl wait "$id"
# The command's end counts its unended last line, though what it left
# in the background holds the pipe open.
id=$(fctl submit exec -- sh -c 'printf "1/2 left behind" >&3; sleep 5 & exit 0')
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl --json status "$id" | jfield progress_msg)" "left behind" \
    "the last line at the command's end"
pass "malformed and overlong lines are ignored"

# The descriptor is the command's own: another command running at the
# same time has its own pipe on 3 and nothing else beyond stdio.
id=$(fctl submit -k async exec -- sh -c '
	readlink /proc/$$/fd/3 >"$1/a.pipe"
	until [ -e "$1/p4" ]; do sleep 0.02; done' sh "$T")
wait_until 10 test -s "$T/a.pipe" || fail "first command did not start"
# ls lists the shell's descriptors, not its own (no pipe: the shell
# would hold its ends).
fds=$(fctl submit -w -k async exec -- sh -c \
    'ls /proc/$$/fd; ls -l /proc/$$/fd')
: >"$T/p4"
ck_exit 0 fctl wait "$id"
ck_eq "$(echo "$fds" | sed -n '/^total/q;p' | tr '\n' ' ')" "0 1 2 3 " \
    "a command's descriptors"
ck_match "$fds" ' 3 -> pipe:' "fd 3 is a pipe"
case $fds in
*"$(cat "$T/a.pipe")"*) fail "another command's progress pipe leaked: $fds" ;;
esac
ck_eq "$(fctl submit -w exec -- sh -c 'echo $FUTURED_PROGRESS_FD')" 3 \
    "FUTURED_PROGRESS_FD"
pass "the progress descriptor reaches its command only"

stop_daemon
