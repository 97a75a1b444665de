# Proves the one-future semantics: poll never blocks, result on an
# unfinished job answers NOT_READY (5) at once, wait -t answers 5 after
# about the timeout, many concurrent waiters on one job all get the
# answer, wait --any returns with the first, and a dependency (-a) and
# input (-i) chain runs in order.

. "$TESTLIB"
start_daemon

long=$(fctl submit sleep 30s)
t0=$(now_ms)
ck_exit 5 fctl result "$long"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 15000 ] || fail "result of an unfinished job took $el ms"
ck_exit 0 fctl status "$long"
pass "result NOT_READY at once ($el ms), status never blocks"

t0=$(now_ms)
ck_exit 5 fctl wait -t 200ms "$long"
el=$(( $(now_ms) - t0 ))
[ "$el" -ge 180 ] && [ "$el" -lt 15000 ] || fail "wait -t 200ms took $el ms"
pass "wait -t 200ms answered 5 after $el ms"

# 40 waiters in as many processes on one job, released together.
gate=$(fctl submit sleep 1s)
i=0
while [ $i -lt 40 ]; do
	(fctl wait "$gate" >/dev/null 2>&1; echo $? >"$T/w.$i") &
	i=$((i + 1))
done
# Forty lines, not forty files: a file is there before its line is.
wait_until 60 sh -c "[ \$(cat $T/w.* 2>/dev/null | wc -l) -eq 40 ]" || fail "waiters did not all return"
i=0
while [ $i -lt 40 ]; do
	ck_eq "$(cat "$T/w.$i")" 0 "waiter $i"
	i=$((i + 1))
done
pass "40 concurrent waiters"

fast=$(fctl submit sleep 100ms)
slow=$(fctl submit sleep 30s)
out=$(fctl wait --any "$slow" "$fast") || fail "wait --any failed"
ck_match "$out" "$fast" "wait --any names the first"
ck_eq "$(job_state "$slow")" running "the other runs on"
fctl cancel "$slow" "$long" >/dev/null
pass "wait --any"

a=$(fctl submit -d 'from a' echo)
b=$(fctl submit -i "$a" exec -- tr a-z A-Z)
c=$(fctl submit -a "$b" -d done echo)
ck_exit 0 fctl wait "$c"
ck_eq "$(fctl result "$b")" "FROM A" "-i pipes output into stdin"
f=$(fctl submit exec -- false)
g=$(fctl submit -a "$f" -d never echo)
ck_exit 3 fctl wait "$g"
ck_match "$(fctl --json status "$g" | jfield error)" "$f" "dependent's error names the failed id"
ck_exit 7 fctl submit -a 999999 echo
pass "dependencies and input"

r=$(fctl submit -r 2 exec -- sh -c "echo x >>$T/attempts; exit 1")
ck_exit 1 fctl wait "$r"
ck_eq "$(wc -l <"$T/attempts" | tr -d ' ')" 3 "-r 2 makes three attempts"
pass "retries"

stop_daemon
