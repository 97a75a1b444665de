# Proves libfutured's worker side (fut_worker_*, fut_task_*) against a
# real daemon, with tests/integration/cworker (a C worker on
# fut_worker_serve) driven by futurectl: results, failures with their
# type and detail, streamed output, a silent task kept alive by the
# library's pings past the lease, cancel and timeout reaching a running
# task, a worker killed -9 mid-job ("worker lost", and a retry on
# another worker), a stopped one losing its lease; and the man page's
# worker example compiles and serves.

. "$TESTLIB"
: "${CWORKER:?}" "${abs_top_builddir:?}" "${abs_top_srcdir:?}"

# Until the daemon's worker engine is in (issue 13), there is no lease.
if ! "$FUTURED" -h 2>&1 | grep -q -- '--worker-lease'; then
	echo "skip: this futured takes no workers (no --worker-lease)"
	exit 77
fi

# A lease the library's pings keep on a loaded machine, where the worker
# may not run for a second or more (it pings after a third of the lease
# in silence), yet short enough that losing it is quick to see.
start_daemon -j 4 --worker-lease 5s

# start_worker NAME CONCURRENCY: its pid in WPID once it has registered.
start_worker() {
	"$CWORKER" "$SOCK" "$2" "$TOKEN" >"$T/$1.out" 2>"$T/$1.err" &
	WPID=$!
	wait_until 30 grep -q '^registered' "$T/$1.out" || {
		cat "$T/$1.err" >&2
		fail "worker $1 did not register"
	}
}

# started_on ID A B...: the name of the worker that started job ID.
started_on() {
	_id=$1
	shift
	for _w in "$@"; do
		if grep -q "^start $_id " "$T/$_w.out"; then
			echo "$_w"
			return 0
		fi
	done
	return 1
}

start_worker a 4
A=$WPID

# Handlers and results.
ck_match "$(fctl handlers)" "c\.echo" "handlers lists the worker's"
ck_eq "$(fctl submit -w -d hello c.echo)" "hello" "c.echo through a worker"
for k in async blocking cpu; do
	ck_eq "$(fctl submit -w -k $k -d "$k" c.echo)" "$k" "c.echo as $k"
done
id=$(fctl submit -d x c.echo)
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl result "$id")" "x" "result of a worker's job"
pass "results, under each kind"

id=$(fctl submit c.fail)
ck_exit 1 fctl wait "$id"
ck_match "$(fctl --json status "$id" | jfield error)" \
    "c\.fail asked to fail" "the failure's message"
ck_match "$(fctl result "$id" 2>&1)" "about to fail" "the failure's stderr"
pass "a failure with its message and stderr"

id=$(fctl submit c.stream -- 5000)
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl result "$id" | wc -l)" 5000 "5000 lines streamed"
ck_eq "$(fctl result "$id" | tail -n 1)" 5000 "the last line"
pass "output streamed in updates"

# A silent task runs past the lease: the library pings.
id=$(fctl submit c.sleep -- 12000)
ck_exit 0 fctl wait -t 60s "$id"
ck_eq "$(fctl result "$id")" "slept" "a silent task over two leases"
pass "the lease kept by pings for a silent 12 s task (5 s lease)"

# Cancel reaches a running task: the callback and the handler see it.
id=$(fctl submit c.sleep -- 60000)
wait_until 30 grep -q "^start $id " "$T/a.out" || fail "c.sleep never started"
t0=$(now_ms)
fctl cancel "$id" >/dev/null
ck_exit 3 fctl wait -t 30s "$id"
el=$(( $(now_ms) - t0 ))
wait_until 30 grep -q "^cancel $id " "$T/a.out" || fail "no cancel callback"
wait_until 30 grep -q "^stopped $id " "$T/a.out" ||
    fail "the handler did not see fut_task_cancelled"
pass "cancel of a running task: cancelled in $el ms, callback and handler told"

id=$(fctl submit -t 300ms c.sleep -- 60000)
ck_exit 4 fctl wait -t 30s "$id"
wait_until 30 grep -q "^stopped $id " "$T/a.out" ||
    fail "the handler did not see the timeout"
grep -q "^timed out $id " "$T/a.out" ||
    fail "the task's cancel reason is not \"timed out\""
pass "timeout of a running task"

# A worker killed mid-job: the attempt fails "worker lost" and the
# retry runs on the other worker.
start_worker b 4
B=$WPID
# Long enough for the test to see it start on a loaded machine.
id=$(fctl submit -r 1 --retry-delay 10ms c.sleep -- 5000)
wait_until 30 started_on "$id" a b || fail "the job never started"
w1=$(started_on "$id" a b)
if [ "$w1" = a ]; then
	kill -KILL "$A"; w2=b; SURV=$B
else
	kill -KILL "$B"; w2=a; SURV=$A
fi
ck_exit 0 fctl wait -t 30s "$id"
grep -q "^start $id 2 " "$T/$w2.out" || fail "the retry did not run on $w2"
ck_eq "$(fctl --json status "$id" | jfield attempts)" 2 "attempts"
pass "worker killed -9 mid-job: the retry ran on the other worker"

id=$(fctl submit c.sleep -- 60000)
wait_until 30 grep -q "^start $id " "$T/$w2.out" || fail "never started"
kill -KILL "$SURV"
ck_exit 1 fctl wait -t 30s "$id"
ck_match "$(fctl --json status "$id" | jfield error)" "^worker lost" \
    "a killed worker's job"
pass "worker killed -9, no retry: $(fctl --json status "$id" | jfield error)"

# A stopped worker sends nothing: its lease runs out.
start_worker c 1
C=$WPID
id=$(fctl submit c.sleep -- 60000)
wait_until 30 grep -q "^start $id " "$T/c.out" || fail "never started on c"
kill -STOP "$C"
ck_exit 1 fctl wait -t 30s "$id"
ck_match "$(fctl --json status "$id" | jfield error)" "^worker lost" \
    "a silent worker's job"
kill -KILL "$C"
pass "a stopped worker loses its lease: $(fctl --json status "$id" | jfield error)"

# The man page's worker example: it compiles, and serves.
awk '/^\.Sh EXAMPLES/ { ex = 1 } ex && /^\.Bd -literal/ { n++; inb = 1; next }
    inb && /^\.Ed/ { inb = 0 } inb && n == 3 { print }' \
    "$abs_top_srcdir/man/libfutured.3" | sed 's/\\e/\\/g' >"$T/upper.c"
grep -q fut_worker_serve "$T/upper.c" || fail "no worker example in libfutured.3"
# shellcheck disable=SC2086
${CC:-cc} ${SAN_FLAGS:-} -I"$abs_top_srcdir/include" -o "$T/upper" \
    "$T/upper.c" -L"$abs_top_builddir/.libs" -lfutured ||
    fail "the man page's worker example does not compile"
LD_LIBRARY_PATH=$abs_top_builddir/.libs "$T/upper" "$TOKEN" \
    >"$T/upper.out" 2>&1 &
has_upper() {
	fctl handlers | grep -q '^upper'
}
wait_until 30 has_upper || fail "the example did not register"
ck_eq "$(fctl submit -w -d hi upper)" "HI" "the man page's example"
pass "the man page's worker example compiles and serves"

# A worker sees the daemon go, and exits cleanly (no leak, in an ASan
# build) with a task in hand.
start_worker d 2
D=$WPID
id=$(fctl submit c.sleep -- 60000)
wait_until 30 grep -q "^start $id " "$T/d.out" || fail "never started on d"
stop_daemon
rc=0
wait "$D" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/d.err" >&2; fail "worker d exited $rc"; }
grep -q "^cancel $id " "$T/d.out" || fail "no cancel callback at the loss"
pass "a worker at the daemon's stop: $(tail -n 1 "$T/d.err")"

# What a sanitizer found in a worker killed before its exit.
if grep -l 'Sanitizer' "$T"/*.err "$T/upper.out" 2>/dev/null; then
	cat "$T"/*.err >&2
	fail "a sanitizer spoke in a worker"
fi
