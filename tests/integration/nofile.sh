# Proves that commands wait for descriptors instead of failing: futured
# raises its soft RLIMIT_NOFILE to the hard limit at start; under a hard
# limit of 64 it runs 200 overlapping commands under the default kind
# and 200 under -k async (1024 slots, far more than 64 descriptors
# allow), and every one succeeds: none fails with "Too many open files".
# exec's default kind is cpu, so at most -P commands run at once by
# default (futurectl handlers and stats show it).  The commands the
# descriptors leave no room for wait queued, not running (issue 11 item
# 5): exec sets its handler's limit and the daemon holds the rest back.

. "$TESTLIB"

# The soft limit goes up to the hard one.
hard=$(ulimit -H -n)
if [ "$hard" = unlimited ] || [ "$hard" -le 64 ]; then
	echo "skip - hard descriptor limit $hard"
	exit 77
fi
(
	ulimit -S -n 64
	exec "$FUTURED" -f -s "$SOCK" -l debug --journal none \
	    >>"$T/daemon.log" 2>&1
) &
DPID=$!
wait_until 10 fctl ping || fail "futured did not come up"
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$DPID/limits")
ck_eq "$soft" "$hard" "soft limit raised to the hard one"
ck_match "$(cat "$T/daemon.log")" "open files: $hard \(raised from 64\)" \
    "the raise is logged"
stop_daemon
pass "the soft descriptor limit is raised to the hard one ($hard)"

# Under a hard limit of 64: commands wait their turn.
(
	ulimit -n 64
	exec "$FUTURED" -f -s "$SOCK" -l debug --journal none -P 3 \
	    >>"$T/daemon.log" 2>&1
) &
DPID=$!
wait_until 10 fctl ping || fail "futured did not come up"

ck_match "$(fctl handlers | grep '^exec ')" "cpu\*" "exec defaults to cpu"
ck_match "$(fctl --json stats)" '"kind":"cpu"[^}]*"pool_size":3' \
    "the cpu slots (-P) are exec's default concurrency"

# The default wave: short commands, -P at once.
ids=
i=0
while [ $i -lt 200 ]; do
	ids="$ids $(fctl submit exec -- sh -c "sleep 0.05; echo ok")"
	i=$((i + 1))
done
# shellcheck disable=SC2086
ck_exit 0 fctl wait -t 300s $ids
nok=0
for id in $ids; do
	[ "$(fctl result "$id")" = ok ] && nok=$((nok + 1))
done
ck_eq "$nok" 200 "default: commands that succeeded"
pass "default kind: 200 commands under 64 descriptors all succeed"

# The -k async wave stands still until $T/go exists: as many commands
# as the descriptors allow run, the others are queued.
ids=
i=0
while [ $i -lt 200 ]; do
	ids="$ids $(fctl submit -k async exec -- sh -c \
	    "while [ ! -e '$T/go' ]; do sleep 0.05; done; echo ok")"
	i=$((i + 1))
done
last=${ids##* }
ck_eq "$(job_state "$last")" queued "a command waiting for descriptors"
ck_match "$(cat "$T/daemon.log")" \
    "exec: at most [0-9]+ at once, as its handler asks: the others stay queued" \
    "the daemon says it holds commands back"
max=$(sed -n 's/.*exec: at most \([0-9]*\) at once, as its handler asks.*/\1/p' \
    "$T/daemon.log" | head -n 1)
[ "$max" -ge 1 ] && [ "$max" -lt 64 ] || fail "exec's limit: $max"
running() {
	fctl list --state running | grep -c . || true
}
wait_until 30 test "$(running)" -eq "$max" ||
    fail "$(running) commands running, expected exec's limit $max"
ck_eq "$(fctl list --state queued | grep -c .)" $((200 - max)) \
    "commands queued"
pass "-k async: $max commands run, the other $((200 - max)) wait queued"

touch "$T/go"
# shellcheck disable=SC2086
ck_exit 0 fctl wait -t 300s $ids
nok=0
for id in $ids; do
	[ "$(fctl result "$id")" = ok ] && nok=$((nok + 1))
done
ck_eq "$nok" 200 "async: commands that succeeded"
pass "async kind: 200 commands under 64 descriptors all succeed"
if grep -q "Too many open files" "$T/daemon.log"; then
	fail "a command met EMFILE"
fi
ck_exit 0 fctl ping
stop_daemon
pass "no EMFILE under 64 descriptors"
