# Proves the worker protocol from a second language (issue 13 item 7):
# examples/node-worker, a Node.js worker written from proto/futured.proto
# with protobufjs from npm and nothing else of futured's, serves jobs
# submitted by futurectl: results, a failure with its type, fifty tasks
# at once on its event loop, a cancel reaching it, a silent task kept
# past the lease by its pings, and "worker lost" when it is killed.
# Skips, saying so, only when node or npm is not installed (or the
# daemon takes no workers yet); npm installs protobufjs from the
# registry into the test's directory, by the committed package-lock.

. "$TESTLIB"
: "${abs_top_srcdir:?}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
then
	echo "skip: node and npm are not both installed"
	exit 77
fi
if ! "$FUTURED" -h 2>&1 | grep -q -- '--worker-lease'; then
	echo "skip: this futured takes no workers (no --worker-lease)"
	exit 77
fi

EX=$abs_top_srcdir/examples/node-worker
mkdir "$T/node"
cp "$EX/package.json" "$EX/package-lock.json" "$EX/worker.js" "$T/node/"
(cd "$T/node" && npm ci --no-audit --no-fund --ignore-scripts) \
    >"$T/npm.log" 2>&1 || {
	cat "$T/npm.log" >&2
	fail "npm ci of examples/node-worker"
}
pass "npm ci: protobufjs $(cd "$T/node" &&
    node -p 'require("protobufjs/package.json").version')"

# A lease the worker's pings keep on a loaded machine, where node may
# not run for a second or more: the daemon counts it lost only after no
# word for 5 s, and it pings after 5/3 s of silence.
start_daemon --worker-lease 5s

# start_node NAME: its pid in NPID once it has registered.
start_node() {
	FUTURED_PROTO=$abs_top_srcdir/proto/futured.proto \
	    node "$T/node/worker.js" "$SOCK" "$TOKEN" >"$T/$1.out" \
	    2>"$T/$1.err" &
	NPID=$!
	wait_until 20 grep -q '^registered' "$T/$1.out" || {
		cat "$T/$1.err" >&2
		fail "the node worker did not register"
	}
}
start_node n1

ck_match "$(fctl handlers)" "node\.upper" "handlers lists node.upper"
ck_eq "$(fctl submit -w -d 'hello, node' node.upper)" "HELLO, NODE" \
    "node.upper"
ck_eq "$(fctl submit -w -k blocking -d abc node.upper)" "ABC" \
    "node.upper as blocking"
pass "node.upper through the Node worker"

id=$(fctl submit node.fail)
ck_exit 1 fctl wait "$id"
ck_match "$(fctl --json status "$id" | jfield error)" \
    "node\.fail asked to fail" "node.fail's message"
pass "a failure: $(fctl --json status "$id" | jfield error)"

# Fifty at once on one event loop: about one sleep, not fifty (which
# would take 100 s, however fast the fifty submits).
t0=$(now_ms)
ids=
for i in $(seq 50); do
	ids="$ids $(fctl submit node.sleep -- 2000)"
done
# shellcheck disable=SC2086
ck_exit 0 fctl wait -t 90s $ids
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 60000 ] || fail "fifty 2 s sleeps took $el ms"
pass "fifty node.sleep 2000 at once: $el ms"

id=$(fctl submit node.sleep -- 60000)
wait_until 30 grep -q "^start $id " "$T/n1.out" || fail "never started"
fctl cancel "$id" >/dev/null
ck_exit 3 fctl wait -t 30s "$id"
wait_until 30 grep -q "^cancel $id " "$T/n1.out" ||
    fail "the TaskCancel did not reach the worker"
pass "cancel reaches the Node worker"

id=$(fctl submit node.sleep -- 12000)
ck_exit 0 fctl wait -t 60s "$id"
pass "a silent 12 s task past a 5 s lease (pings)"

id=$(fctl submit node.sleep -- 60000)
wait_until 30 grep -q "^start $id " "$T/n1.out" || fail "never started"
kill -KILL "$NPID"
ck_exit 1 fctl wait -t 30s "$id"
ck_match "$(fctl --json status "$id" | jfield error)" "^worker lost" \
    "the killed Node worker's job"
pass "Node worker killed: $(fctl --json status "$id" | jfield error)"

stop_daemon
