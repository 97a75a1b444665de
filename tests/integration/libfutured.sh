# Proves libfutured against a real daemon: echo under every kind, one
# client shared by many threads and many threads waiting on one future,
# fut_submit_all pipelining a batch in one round trip, fut_poll never
# blocking, fut_wait's timeout and cancel's took-effect answer, event-loop
# integration through fut_client_fd/fut_client_dispatch/fut_on_done,
# fut_attach to a job made by futurectl, and futures outliving fut_close.

. "$TESTLIB"
: "${CLIENTPROG:?CLIENTPROG must name the clientprog binary}"
start_daemon -j 4 -P 2

for cmd in echo-kinds "threads 50" "submit-all 2000" poll wait-timeout \
    dispatch close; do
	# shellcheck disable=SC2086
	"$CLIENTPROG" $cmd || fail "clientprog $cmd"
	pass "clientprog $cmd"
done

id=$(fctl submit -d attached echo)
ck_eq "$("$CLIENTPROG" attach "$id")" attached "attach to a futurectl job"
ck_exit 7 "$CLIENTPROG" attach 999999
pass "clientprog attach"

stop_daemon
