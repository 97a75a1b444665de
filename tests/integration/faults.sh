# Proves that faults stay contained and are reported honestly: a cpu
# worker killed with -9 fails only its job, with the cause named, within a
# second, and a fresh worker runs the next job; retries back off and count
# their attempts; timed-out attempts are retried only when asked; the job
# record says how a cancelled job ended; and thousands of jobs of every
# kind leave no zombie, no descriptor or thread growth and a flat RSS.

. "$TESTLIB"
start_daemon -j 2 -P 2 --grace 300ms --retry-delay 200ms --retain-max 1000

# Our daemon's workers only: other tests may run daemons of their own.
workers() {
	pgrep -P "$DPID" -f -- "--worker" || true
}

# kill -9 of the worker running a job.
id=$(fctl submit -k cpu sha256 /dev/zero)
wait_until 30 sh -c "$FUTURECTL -s $SOCK status $id | grep -q running" ||
    fail "cpu job never ran"
# The busy worker is the one burning CPU time (utime, in ticks).
busy_worker() {
	for p in $(workers); do
		if [ "$(awk '{print $14}' /proc/"$p"/stat 2>/dev/null ||
		    echo 0)" -gt 5 ]; then
			echo "$p"
		fi
	done
}
busy=
lim=$(( $(now_ms) + 5000 ))
while [ -z "$busy" ] && [ "$(now_ms)" -lt "$lim" ]; do
	busy=$(busy_worker)
	[ -n "$busy" ] || sleep 0.02
done
[ -n "$busy" ] || fail "no busy worker found"
t0=$(now_ms)
kill -KILL "$busy"
ck_exit 1 fctl wait -t 30s "$id"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 10000 ] || fail "worker death took $el ms to settle the job"
ck_match "$(fctl --json status "$id" | jfield error)" \
    "worker killed by signal 9" "the cause is named"
ck_eq "$(fctl submit -k cpu -d next -w echo)" next "next cpu job runs"
ck_eq "$(fctl submit -k cpu -d next -w echo)" next "and the one after"
wait_until 30 sh -c "[ \$(pgrep -P $DPID -f -- --worker | wc -l) -eq 2 ]" ||
    fail "the dead worker was not replaced"
pass "kill -9 of a worker fails only its job ($el ms)"

# Retries: -r 2 is exactly three attempts, spaced by the back-off.
t0=$(now_ms)
r=$(fctl submit -r 2 exec -- sh -c "echo x >>$T/attempts; exit 1")
ck_exit 1 fctl wait "$r"
el=$(( $(now_ms) - t0 ))
ck_eq "$(wc -l <"$T/attempts" | tr -d ' ')" 3 "-r 2 runs three times"
ck_eq "$(fctl --json status "$r" | jfield attempts)" 3 "attempts counted"
[ "$el" -ge 300 ] || fail "three attempts in $el ms: no back-off"
ck_match "$(fctl status "$r")" "attempt 3/3" "status shows the attempts"
pass "retries back off ($el ms for 3 attempts)"

# A retry that succeeds keeps only the last outcome.
rm -f "$T/n"
s=$(fctl submit -r 3 exec -- sh -c "echo . >>$T/n; [ \$(wc -l <$T/n) -ge 2 ] && echo fine")
ck_exit 0 fctl wait "$s"
ck_eq "$(fctl result "$s")" fine "succeeded on the second attempt"
ck_eq "$(fctl --json status "$s" | jfield error)" null "no stale error"
pass "retry then success"

# Timed-out attempts are not retried unless asked.
t=$(fctl submit -r 2 -t 100ms sleep 10s)
ck_exit 4 fctl wait "$t"
ck_eq "$(fctl --json status "$t" | jfield attempts)" 1 "timeout not retried"
t=$(fctl submit -r 2 --retry-timeouts --retry-delay 10ms -t 100ms sleep 10s)
ck_exit 4 fctl wait "$t"
ck_eq "$(fctl --json status "$t" | jfield attempts)" 3 "--retry-timeouts retries"
c=$(fctl submit -r 5 sleep 10s)
fctl cancel "$c" >/dev/null
ck_eq "$(fctl --json status "$c" | jfield attempts)" 1 "cancel is never retried"
pass "timeouts and cancels are not retried unless asked"

# How a cancelled job ended.
blocker=$(fctl submit -k cpu sha256 /dev/zero)
blocker2=$(fctl submit -k cpu sha256 /dev/zero)
q=$(fctl submit -k cpu -d x echo)
fctl cancel "$q" >/dev/null
ck_eq "$(fctl --json status "$q" | jfield ended)" "cancelled while queued" "queued"
fctl cancel "$blocker" "$blocker2" >/dev/null
ck_eq "$(fctl --json status "$blocker" | jfield ended)" terminated "worker terminated"
x=$(fctl submit exec -- sh -c "trap '' TERM; while :; do sleep 0.05; done; : $TOKEN")
wait_until 30 pgrep -f "$TOKEN" || fail "stubborn command never started"
fctl cancel "$x" >/dev/null
ck_eq "$(fctl --json status "$x" | jfield ended)" "killed after the grace" "KILL after grace"
ck_match "$(fctl status "$x")" "killed after the grace" "status line says how"
y=$(fctl submit exec -- sh -c "sleep 30; : $TOKEN")
wait_until 30 pgrep -f "$TOKEN" || fail "command never started"
fctl cancel "$y" >/dev/null
ck_eq "$(fctl --json status "$y" | jfield ended)" terminated "TERM sufficed"
pass "the record says how each job ended"

# No leaks: many jobs of every kind.
run_batch() {
	ids=
	i=0
	while [ $i -lt "$1" ]; do
		ids="$ids $(fctl submit -k async -d a echo)"
		ids="$ids $(fctl submit -k blocking -d b echo)"
		ids="$ids $(fctl submit -k cpu -d c echo)"
		ids="$ids $(fctl submit -k async exec -- true)"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	fctl wait -t 120s $ids >/dev/null || fail "batch did not succeed"
}
nfds() {
	ls /proc/"$DPID"/fd | wc -l
}
# A descriptor may be on its way out when a batch ends: the connection
# of the futurectl that just exited, whose EOF the daemon has not read
# yet, or a journal compaction's new file.  So the baseline is the
# fewest seen over half a second, and a leak is a count that does not
# come back to it within 10 s.
fds_back() {
	[ "$(nfds)" -eq "$fds0" ]
}
snapshot() {
	threads=$(awk '/^Threads:/ {print $2}' /proc/"$DPID"/status)
	rss=$(awk '/^VmRSS:/ {print $2}' /proc/"$DPID"/status)
	zombies=$(ps --ppid "$DPID" -o stat= | grep -c Z || true)
}
run_batch 100
snapshot
threads0=$threads rss0=$rss
fds0=$(nfds)
for _ in 1 2 3 4 5; do
	sleep 0.1
	n=$(nfds)
	[ "$n" -ge "$fds0" ] || fds0=$n
done
run_batch 250
snapshot
ck_eq "$zombies" 0 "zombies after 1400 jobs"
wait_until 10 fds_back ||
    fail "descriptors after 1400 jobs: $(nfds), expected $fds0"
fds=$fds0
ck_eq "$threads" "$threads0" "threads after 1400 jobs"
# Sanitizers hold freed memory in quarantine: RSS says nothing there.
if [ -z "${FUTURED_SANITIZED:-}" ]; then
	[ $((rss - rss0)) -lt 4096 ] ||
	    fail "RSS grew from $rss0 kB to $rss kB over 1000 jobs"
fi
pass "1400 jobs: no zombie, fds $fds, threads $threads, RSS $rss0 -> $rss kB"

stop_daemon
