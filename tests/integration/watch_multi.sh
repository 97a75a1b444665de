# Proves watch of several jobs (ids or -g GROUP): each line of output is
# prefixed with its job's id, lines of two jobs never mix, a last line
# without its newline gets one; what a job wrote before the watch began
# comes first (a finished job's whole output, a running job's so far);
# the exit status is wait's over the jobs (1 before 4 before 3, 0), 7
# when an id is unknown though the others are followed; -g follows the
# group's jobs, an empty group exits 0 and an unknown one 7; --json
# gives one object per event, unprefixed.

. "$TESTLIB"
start_daemon

# b has ended before the watch, a has written its first line.
b=$(fctl submit -k async exec -- sh -c 'echo b1; printf b-partial')
must fctl wait "$b"
a=$(fctl submit -k async exec -- sh -c '
	echo a1; : >"$1/a.started"
	until [ -e "$1/go" ]; do sleep 0.02; done
	printf "a2\na3\n"' sh "$T")
wait_until 10 test -e "$T/a.started" || fail "a did not start"
fctl watch "$a" "$b" >"$T/w.out" 2>"$T/w.err" &
wpid=$!
wait_until 10 grep -q "^\[$b\] b-partial$" "$T/w.out" ||
    fail "no replay of the finished job: $(cat "$T/w.out")"
wait_until 10 grep -q "^\[$a\] a1$" "$T/w.out" ||
    fail "no replay of the running job: $(cat "$T/w.out")"
: >"$T/go"
rc=0
wait "$wpid" || rc=$?
ck_eq "$rc" 0 "watch of two jobs that succeed"
ck_eq "$(grep "^\[$a\] " "$T/w.out" | tr '\n' ' ')" "[$a] a1 [$a] a2 [$a] a3 " \
    "a's lines, in order"
ck_eq "$(grep "^\[$b\] " "$T/w.out" | tr '\n' ' ')" "[$b] b1 [$b] b-partial " \
    "b's lines"
ck_eq "$(grep -vc '^\[[0-9]*\] ' "$T/w.out" || true)" 0 "every line prefixed"
ck_match "$(cat "$T/w.err")" "job $a succeeded" "a's end on stderr"
ck_match "$(cat "$T/w.err")" "job $b succeeded" "b's end on stderr"
pass "watch of two jobs: prefixed lines, replay first"

# Lines written in pieces by two jobs at once stay whole.
x=$(fctl submit -k async exec -- sh -c '
	until [ -e "$1/go2" ]; do sleep 0.02; done
	for i in 1 2 3 4 5; do printf "x-$i-"; sleep 0.05; printf "end\n"; done' sh "$T")
y=$(fctl submit -k async exec -- sh -c '
	until [ -e "$1/go2" ]; do sleep 0.02; done
	for i in 1 2 3 4 5; do printf "y-$i-"; sleep 0.05; printf "end\n"; done' sh "$T")
fctl watch "$x" "$y" >"$T/xy.out" 2>/dev/null &
wpid=$!
wait_until 10 sh -c "$FUTURECTL -s $SOCK status $x $y | grep -c running | grep -q 2" ||
    fail "x and y do not run"
: >"$T/go2"
must wait "$wpid"
ck_eq "$(grep -Ec "^\[($x|$y)\] [xy]-[1-5]-end$" "$T/xy.out")" 10 \
    "whole lines: $(cat "$T/xy.out")"
ck_eq "$(wc -l <"$T/xy.out" | tr -d ' ')" 10 "nothing else"
pass "lines of two jobs never mix"

# Exit statuses as wait's over the jobs; an unknown id is 7, and the
# other jobs are still followed.
ok=$(fctl submit exec -- true)
bad=$(fctl submit exec -- sh -c 'echo oops >&2; exit 3')
can=$(fctl submit -k async sleep 60)
must fctl cancel "$can" >/dev/null
ck_exit 1 fctl watch "$ok" "$bad" "$can"
ck_match "$(cat "$T/err")" "^\[$bad\] oops" "a failed job's stderr, prefixed"
ck_exit 3 fctl watch "$ok" "$can"
echo=$(fctl submit exec -- echo once)
ck_exit 0 fctl watch "$echo" "$echo"
ck_eq "$(cat "$T/out")" once "an id given twice is watched once"
out=$(fctl submit -k async exec -- echo still-here)
ck_exit 7 fctl watch 999999 "$out"
ck_match "$(cat "$T/out")" "^\[$out\] still-here$" "others followed"
ck_match "$(cat "$T/err")" "999999" "the unknown id said"
ck_exit 2 fctl watch -g g1 "$ok"
pass "watch of several jobs exits as wait, 7 for an unknown id"

# -g: the group's jobs; empty and unknown groups.
g1=$(fctl submit -g grp exec -- echo one)
g2=$(fctl submit -g grp exec -- echo two)
ck_exit 0 fctl watch -g grp
ck_eq "$(sort "$T/out" | tr '\n' ' ')" "$(printf '[%s] one\n[%s] two\n' "$g1" "$g2" | sort | tr '\n' ' ')" \
    "watch -g"
must fctl group empty >/dev/null
ck_exit 0 fctl watch -g empty
ck_exit 7 fctl watch -g no-such-group
ck_match "$(cat "$T/err")" "no-such-group" "the unknown group named"
pass "watch -g"

# --json: one object per event, for each job, no prefixes.
fctl --json watch "$g1" "$g2" >"$T/w.json"
python3 - "$T/w.json" "$g1" "$g2" <<'PY' || fail "watch --json of two jobs"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ids = {int(sys.argv[2]), int(sys.argv[3])}
assert {l["id"] for l in lines} == ids, lines
outs = {i: "".join(l["output"] or "" for l in lines if l["id"] == i) for i in ids}
assert sorted(outs.values()) == ["one\n", "two\n"], outs
PY
pass "watch --json of several jobs"

stop_daemon
