# Proves that commands wait for descriptors instead of failing: futured
# raises its soft RLIMIT_NOFILE to the hard limit at start; under a hard
# limit of 64 it runs 200 overlapping commands under the default kind
# and 200 under -k async (1024 slots, far more than 64 descriptors
# allow), and every one succeeds: none fails with "Too many open files".
# exec's default kind is cpu, so at most -P commands run at once by
# default (futurectl handlers and stats show it).

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

# The async wave's commands last long enough to overlap by the dozen.
for kind in default async; do
	opt=
	d=0.05
	if [ "$kind" = async ]; then
		opt="-k async"
		d=0.3
	fi
	ids=
	i=0
	while [ $i -lt 200 ]; do
		# shellcheck disable=SC2086
		ids="$ids $(fctl submit $opt exec -- sh -c "sleep $d; echo ok")"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	ck_exit 0 fctl wait -t 300s $ids
	nok=0
	for id in $ids; do
		[ "$(fctl result "$id")" = ok ] && nok=$((nok + 1))
	done
	ck_eq "$nok" 200 "$kind: commands that succeeded"
	pass "$kind kind: 200 commands under 64 descriptors all succeed"
done
if grep -q "Too many open files" "$T/daemon.log"; then
	fail "a command met EMFILE"
fi
# The -k async wave could not run at once: exec said it queued them.
ck_match "$(cat "$T/daemon.log")" "exec: .*the others wait their turn" \
    "waiting is logged"
ck_exit 0 fctl ping
stop_daemon
pass "no EMFILE under 64 descriptors"
