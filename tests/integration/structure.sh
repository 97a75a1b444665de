# Proves structured concurrency through futurectl: a dependent starts
# only after its dependency finished, and a failed dependency cancels it
# at once naming the id; -i pipes output into stdin; groups: fail-fast
# cancels the rest, --parallel 1 serialises, cancel -g and wait -g act on
# the whole group; wait --any returns with the first; a context entry
# reaches a command and its grandchild; a FUTURED_JOB_ID out of range
# makes no parent; cancelling a parent cancels its children; priority
# -10 runs before 10 in a full pool.  With one cpu slot (-P 1), commands
# that must overlap a cpu job or a command of their own run as -k async
# (exec defaults to cpu).

. "$TESTLIB"
start_daemon -j 2 -P 1

# Dependencies: the dependent waits, and starts after the dependency,
# which runs until the test has seen the dependent wait.
a=$(fctl submit exec -- sh -c "until [ -e $T/a.go ]; do sleep 0.02; done; date +%s%N >$T/a.end")
b=$(fctl submit -a "$a" exec -- sh -c "date +%s%N >$T/b.start")
ck_eq "$(job_state "$b")" waiting "dependent waits"
: >"$T/a.go"
ck_exit 0 fctl wait -t 60s "$b"
[ "$(cat "$T/b.start")" -ge "$(cat "$T/a.end")" ] ||
    fail "dependent started before its dependency ended"
pass "a dependent starts only after its dependency"

# A failed dependency cancels the dependent at once, naming it, even
# while another dependency still runs.
slow=$(fctl submit sleep 30s)
bad=$(fctl submit exec -- false)
d=$(fctl submit -a "$slow,$bad" -d x echo)
t0=$(now_ms)
ck_exit 3 fctl wait -t 25s "$d"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 25000 ] || fail "dependent cancelled only after $el ms"
ck_match "$(fctl --json status "$d" | jfield error)" "dependency $bad failed" "names the failed id"
fctl cancel "$slow" >/dev/null
pass "a failed dependency cancels its dependent ($el ms)"

# Chains and fan-in, with -i piping output into stdin.
x=$(fctl submit -d one echo)
y=$(fctl submit -i "$x" exec -- sed s/one/two/)
z=$(fctl submit -i "$y" -a "$x" exec -- sed s/two/three/)
ck_exit 0 fctl wait "$z"
ck_eq "$(fctl result "$z")" three "chain through -i"
pass "-i chains"

# Groups: --parallel 1 serialises.
ck_match "$(fctl group ser --parallel 1)" "parallel 1" "group configured"
i=0
ids=
while [ $i -lt 4 ]; do
	ids="$ids $(fctl submit -g ser exec -- sh -c "echo start >>$T/ser; sleep 0.1; echo end >>$T/ser")"
	i=$((i + 1))
done
# shellcheck disable=SC2086
ck_exit 0 fctl wait -g ser
ck_eq "$(tr '\n' ' ' <"$T/ser")" "start end start end start end start end " "serialised"
ck_match "$(fctl --json group ser | jfield succeeded)" "^4$" "group counts"
pass "--parallel 1 serialises a group"

# Fail-fast: the first failure cancels every other job of the group.
fctl group ff --fail-fast >/dev/null
r1=$(fctl submit -g ff sleep 30s)
r2=$(fctl submit -g ff -k cpu sha256 /dev/zero)
r3=$(fctl submit -g ff -k async exec -- sh -c 'sleep 0.2; exit 1')
ck_exit 1 fctl wait -g ff
ck_eq "$(job_state "$r1")" cancelled "fail-fast cancels a sleeping member"
ck_eq "$(job_state "$r2")" cancelled "fail-fast cancels a running cpu member"
ck_match "$(fctl --json status "$r1" | jfield error)" "fail-fast: job $r3" "reason names the failure"
pass "fail-fast cancels the rest of a group"

# cancel -g and wait -g act on the whole group; list -g shows it.
g1=$(fctl submit -g cg sleep 30s)
g2=$(fctl submit -g cg sleep 30s)
ck_match "$(fctl list -g cg | wc -l)" "^ *2$" "list -g"
ck_exit 0 fctl cancel -g cg
ck_exit 3 fctl wait -g cg
ck_eq "$(job_state "$g1")$(job_state "$g2")" cancelledcancelled "cancel -g"
ck_match "$(fctl status "$g1")" "group cg" "status shows the group"
pass "cancel -g, wait -g, list -g"

# wait --any answers with the first.
f=$(fctl submit sleep 100ms)
s=$(fctl submit sleep 30s)
ck_match "$(fctl wait --any "$s" "$f")" "$f" "wait --any"
fctl cancel "$s" >/dev/null
pass "wait --any"

# Context reaches a command and a grandchild submitted from inside it,
# whose own entries win; the grandchild records its parent.
out=$(fctl submit -C TRACE=abc -C WHO=parent -w -k async exec -- sh -c \
    "echo \$FUTURED_CTX_TRACE; \"$FUTURECTL\" -s \"$SOCK\" submit -C WHO=child -w exec -- sh -c 'echo \$FUTURED_CTX_TRACE \$FUTURED_CTX_WHO \$FUTURED_JOB_ID'")
ck_eq "$(echo "$out" | head -n 1)" abc "context reaches the command"
set -- $(echo "$out" | tail -n 1)
ck_eq "$1 $2" "abc child" "grandchild inherits, its own entries win"
ck_match "$(fctl --json status "$3" | jfield parent)" '^[0-9]+$' "child records its parent"
ck_eq "$(fctl --json status "$3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ctx"]["TRACE"])')" abc "status --json shows the context"
ck_exit 2 fctl submit -C 'no-good=1' echo
pass "context to a command and its grandchild"

# A FUTURED_JOB_ID out of range names no job: ignored, as libfutured
# ignores it, instead of a parent 2^64-1 that the daemon refuses.
ck_eq "$(env FUTURED_JOB_ID=99999999999999999999999 "$FUTURECTL" -s "$SOCK" \
    submit -w -d x echo)" x "a FUTURED_JOB_ID out of range is ignored"
pass "a FUTURED_JOB_ID out of range makes no parent"

# Cancelling a parent cancels its children.
p=$(fctl submit -k async exec -- sh -c "\"$FUTURECTL\" -s \"$SOCK\" submit sleep 30s >$T/child; sleep 30; : $TOKEN")
wait_until 30 sh -c "[ -s $T/child ]" || fail "the child was never submitted"
c=$(cat "$T/child")
ck_eq "$(fctl --json status "$c" | jfield parent)" "$p" "child knows its parent"
ck_exit 0 fctl cancel "$p"
ck_exit 3 fctl wait -t 30s "$c"
ck_match "$(fctl --json status "$c" | jfield error)" "parent $p cancelled" "child cancelled with its parent"
pass "cancelling a parent cancels its children"

# A child inherits the earlier deadline: its parent's, which has
# succeeded by then, so only the deadline can end the child (long
# enough for the parent to submit it on a loaded machine, and well
# before the child's own 30 s would end it).
p=$(fctl submit --deadline 4s -k async exec -- sh -c "\"$FUTURECTL\" -s \"$SOCK\" submit sleep 30s >$T/child2")
t0=$(now_ms)
ck_exit 0 fctl wait "$p"
ck_exit 4 fctl wait -t 25s "$(cat "$T/child2")"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 20000 ] || fail "the child's deadline came after $el ms"
ck_match "$(fctl --json status "$(cat "$T/child2")" | jfield error)" "deadline" "ended by the deadline"
pass "a child inherits its parent's deadline"

# Priority: in a full pool, -10 runs before 10, equal ones in order.
# The pool stays full until all four are queued.
blk=$(fctl submit -k cpu exec -- sh -c "until [ -e $T/blk.go ]; do sleep 0.02; done")
wait_until 30 sh -c "$FUTURECTL -s $SOCK status $blk | grep -q running" ||
    fail "the blocking cpu job never ran"
l1=$(fctl submit -k cpu -p 10 exec -- sh -c "echo low1 >>$T/prio")
h1=$(fctl submit -k cpu -p -10 exec -- sh -c "echo high1 >>$T/prio")
m1=$(fctl submit -k cpu exec -- sh -c "echo mid1 >>$T/prio")
h2=$(fctl submit -k cpu -p -10 exec -- sh -c "echo high2 >>$T/prio")
: >"$T/blk.go"
ck_exit 0 fctl wait "$l1" "$h1" "$m1" "$h2"
ck_eq "$(tr '\n' ' ' <"$T/prio")" "high1 high2 mid1 low1 " "priority order"
pass "priority -10 runs before 10 in a full pool"

stop_daemon
