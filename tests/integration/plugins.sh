# Proves that handler plugins load and are contained: a plugin's handlers
# are offered and run under every kind they accept, in the daemon and in
# its cpu workers; a cancelled spin stops promptly under blocking and cpu;
# a segfaulting handler fails only its job, with the signal named, within
# a second, and the next cpu job runs; a handler that blocks SIGTERM is
# KILLed after the grace; one allocating without bound under
# --worker-memory fails with a cause while the daemon serves on; an async
# loop handler ticks and cancels.  A missing plugin, a bad ABI, a
# duplicate handler or a missing entry point each stop the start with a
# message naming the plugin; as root, a plugin or config file others could
# have written is refused.  The config file sets options, a bad line
# names file:line, and the command line wins over the file.

. "$TESTLIB"
: "${PLUGINDIR:?PLUGINDIR must name the directory of the test plugins}"
TP=$PLUGINDIR/testplugin.so
[ -f "$TP" ] || fail "no test plugin at $TP"
# A sanitizer's SIGSEGV handler would turn crash's signal into an exit 1.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}handle_segv=0"
export ASAN_OPTIONS TSAN_OPTIONS

# The elapsed ms of "$@" in $EL; its exit status is not checked.
timed() {
	_t0=$(now_ms)
	"$@" >"$T/out" 2>"$T/err" || true
	EL=$(( $(now_ms) - _t0 ))
}

running() {
	fctl status "$1" | grep -q running
}

# start_fails WHAT PATTERN ARGS...: futured must exit 1 at once, saying
# something matching PATTERN on stderr.
start_fails() {
	_what=$1
	_pat=$2
	shift 2
	_rc=0
	timeout 10 "$FUTURED" -f -s "$T/fail.sock" "$@" >"$T/out" \
	    2>"$T/err" || _rc=$?
	[ "$_rc" -eq 1 ] || fail "$_what: futured exited $_rc, expected 1 ($(cat "$T/err"))"
	grep -Eq -- "$_pat" "$T/err" ||
	    fail "$_what: stderr '$(cat "$T/err")' does not match /$_pat/"
	[ ! -e "$T/fail.sock" ] || fail "$_what: the daemon listened"
	pass "$_what: $(tail -n 1 "$T/err")"
}

start_daemon -j 1 -P 1 --grace 300ms --plugin "$TP"

# Offered, with their kinds.
fctl handlers >"$T/handlers"
for h in spin crash stubborn hog tick child; do
	grep -q "^$h " "$T/handlers" || fail "handler $h not offered"
done
ck_match "$(grep '^spin ' "$T/handlers")" "blocking\\*,cpu" "spin's kinds"
ck_match "$(grep '^crash ' "$T/handlers")" "^crash +cpu\\* " "crash is cpu only"
! fctl submit -k blocking crash 2>"$T/err" || fail "crash ran as blocking"
ck_match "$(cat "$T/err")" "blocking" "crash refused as blocking"
pass "plugin handlers are offered with their kinds"

# spin: the blocking thread comes back (-j 1) and the cpu worker is
# replaced, each soon after the cancel.
for k in blocking cpu; do
	id=$(fctl submit -k "$k" spin)
	wait_until 30 running "$id" || fail "$k spin never ran"
	sleep 0.1
	ck_eq "$(job_state "$id")" running "$k spin keeps spinning"
	t0=$(now_ms)
	ck_exit 0 fctl cancel "$id"
	ck_exit 3 fctl wait -t 30s "$id"
	ck_eq "$(fctl submit -k "$k" -d next -w echo)" next "$k job after spin"
	el=$(( $(now_ms) - t0 ))
	[ "$el" -lt 10000 ] || fail "$k spin took $el ms to stop"
	pass "cancel a $k spin ($el ms to the next $k job)"
done

# crash: only its job fails, with the signal named, and soon.
timed fctl submit -w crash
ck_match "$(cat "$T/err")" "worker killed by signal 11 \\(Segmentation fault\\)" \
    "the crash is named"
[ "$EL" -lt 10000 ] || fail "the crash took $EL ms to settle"
ck_eq "$(fctl submit -k cpu -d after -w echo)" after "next cpu job after a crash"
ck_exit 0 fctl ping
pass "a segfaulting handler fails only its job ($EL ms)"

# A job that keeps killing its worker stops after its attempts, failed,
# with the cause named; the pool serves on at once (no crash loop).
id=$(fctl submit -r 2 --retry-delay 10ms crash)
ck_exit 1 fctl wait -t 30s "$id"
ck_eq "$(fctl --json status "$id" | jfield attempts)" 3 "three attempts"
ck_match "$(fctl --json status "$id" | jfield error)" "signal 11" "the cause is named"
timed fctl submit -k cpu -d after -w echo
[ "$EL" -lt 10000 ] || fail "the next cpu job waited $EL ms after the crashes"
pass "a job that keeps crashing its worker stops after its attempts"

# stubborn: TERM is blocked, so only the KILL after --grace ends it.
id=$(fctl submit stubborn)
wait_until 30 running "$id" || fail "stubborn never ran"
sleep 0.1
t0=$(now_ms)
ck_exit 0 fctl cancel "$id"
ck_exit 3 fctl wait -t 30s "$id"
el=$(( $(now_ms) - t0 ))
[ "$el" -ge 250 ] && [ "$el" -lt 20000 ] ||
    fail "stubborn ended $el ms after the cancel, grace 300ms"
grep -q "job $id: worker killed after 300 ms grace" "$T/daemon.log" ||
    fail "the daemon did not log the KILL"
ck_eq "$(fctl submit -k cpu -d after -w echo)" after "next cpu job after stubborn"
pass "a handler blocking SIGTERM is KILLed after the grace ($el ms)"

# tick: an async loop handler through start(), its timer, done and cancel.
ck_eq "$(fctl submit -w tick 3 | tr '\n' ' ')" "tick 1 tick 2 tick 3 " \
    "tick 3 outputs three lines"
id=$(fctl submit tick 0 20)
wait_until 30 running "$id" || fail "tick never ran"
sleep 0.1
t0=$(now_ms)
ck_exit 0 fctl cancel "$id"
ck_exit 3 fctl wait -t 30s "$id"
el=$(( $(now_ms) - t0 ))
[ "$el" -lt 10000 ] || fail "cancelling tick took $el ms"
ck_eq "$(fctl submit -k async -d still -w echo)" still "the loop serves on"
pass "an async plugin handler ticks and cancels ($el ms)"

# fut_handler_progress() reaches status from the loop, a thread and a
# worker process.
progress_shown() {
	[ "$(fctl --json status "$1" | jfield progress_msg)" = spinning ] &&
	    [ "$(fctl --json status "$1" | jfield progress)" = 0.5 ]
}
for k in blocking cpu; do
	id=$(fctl submit -k "$k" spin)
	wait_until 30 progress_shown "$id" || fail "$k: progress never shown"
	fctl cancel "$id" >/dev/null
done
id=$(fctl submit tick 1000 10)
wait_until 30 sh -c "[ \"\$($FUTURECTL -s $SOCK --json status $id |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[\"progress\"] > 0)')\" = True ]" ||
    fail "async progress never shown"
fctl cancel "$id" >/dev/null
pass "progress from the loop, a thread and a worker"

# A plugin submits through libfutured to fut_handler_socket() with
# fut_spec_parent(): its job becomes the parent, context inherited.
for k in blocking cpu; do
	p=$(fctl submit -k "$k" -C TRACE=t1 child)
	ck_exit 0 fctl wait "$p"
	c=$(fctl result "$p")
	ck_eq "$(fctl --json status "$c" | jfield parent)" "$p" "$k: plugin child's parent"
	ck_eq "$(fctl --json status "$c" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ctx"]["TRACE"])')" t1 "$k: context inherited"
	fctl cancel "$c" >/dev/null
done
pass "a plugin submits children through libfutured"
stop_daemon

# hog under --worker-memory: the allocation fails in the worker, not on
# the machine.  Sanitizers reserve terabytes of address space at start,
# so under them any RLIMIT_AS starves the worker of everything.
if [ -n "${FUTURED_SANITIZED:-}" ]; then
	echo "skip - hog under --worker-memory (sanitizers: $FUTURED_SANITIZED)"
else
	start_daemon -P 1 --worker-memory 64M --plugin "$TP"
	timed fctl submit -w hog
	ck_match "$(cat "$T/err")" "hog: out of memory after [0-9]+ MiB" \
	    "hog fails with its cause"
	mib=$(sed -n 's/.*after \([0-9]*\) MiB.*/\1/p' "$T/err")
	[ "$mib" -lt 64 ] || fail "hog got $mib MiB under a 64M limit"
	ck_eq "$(fctl submit -k cpu -d after -w echo)" after "cpu job after hog"
	timed fctl submit -w hog abort
	ck_match "$(cat "$T/err")" "worker killed by signal 6" \
	    "an aborting hog takes only its worker"
	ck_eq "$(fctl submit -k cpu -d after -w echo)" after "cpu job after abort"
	ck_exit 0 fctl ping
	pass "hog under --worker-memory 64M fails with a cause ($mib MiB)"
	stop_daemon
fi

# Plugins that stop the start, each named.
start_fails "missing plugin" "plugin $T/nope\\.so: No such file" \
    --plugin "$T/nope.so"
abi=$(sed -n 's/^#define FUT_HANDLER_ABI[[:space:]]*\([0-9]*\).*/\1/p' \
    "${abs_top_srcdir:?}/include/futured/handler.h")
start_fails "bad ABI" \
    "plugin $PLUGINDIR/badabi\\.so: handler badabi: ABI $((abi + 1)), expected $abi" \
    --plugin "$PLUGINDIR/badabi.so"
start_fails "duplicate handler" \
    "plugin $PLUGINDIR/dupplugin\\.so: handler spin is already provided by $TP" \
    --plugin "$TP" --plugin "$PLUGINDIR/dupplugin.so"
start_fails "plugin given twice" "plugin $TP: given twice" \
    --plugin "$TP" --plugin "$TP"
echo "not a shared object" >"$T/text.so"
start_fails "not a shared object" "plugin $T/text\\.so: .*(invalid ELF|too short)" \
    --plugin "$T/text.so"
lib=$(dirname "$(dirname "$(dirname "$PLUGINDIR")")")/.libs/libfutured.so
if [ -f "$lib" ]; then
	start_fails "no entry point" "plugin $lib: no entry point fut_plugin_handlers" \
	    --plugin "$lib"
fi

# As root, only files that root alone could have written.
if [ "$(id -u)" -eq 0 ]; then
	mkdir -m 755 "$T/p"
	cp "$TP" "$T/p/tp.so"
	chmod 644 "$T/p/tp.so"
	start_daemon --plugin "$T/p/tp.so"
	stop_daemon
	chmod 664 "$T/p/tp.so"
	start_fails "group-writable plugin" \
	    "refused because $T/p/tp\\.so is writable by group or others" \
	    --plugin "$T/p/tp.so"
	chmod 644 "$T/p/tp.so"
	chmod 777 "$T/p"
	start_fails "plugin in an open directory" \
	    "refused because $T/p is writable by group or others" \
	    --plugin "$T/p/tp.so"
	chmod 755 "$T/p"
	chown 65534 "$T/p/tp.so"
	start_fails "plugin owned by another user" \
	    "refused because $T/p/tp\\.so is owned by uid 65534, not root" \
	    --plugin "$T/p/tp.so"
	echo "threads = 2" >"$T/p/open.conf"
	chmod 666 "$T/p/open.conf"
	start_fails "world-writable config file as root" \
	    "$T/p/open\\.conf: refused because .* writable" -c "$T/p/open.conf"
else
	echo "skip - root-only plugin checks (not root)"
fi

# The config file sets options; the command line wins over it.
cat >"$T/futured.conf" <<EOF
# a test configuration
threads = 3
procs   = 2	# two workers
grace = 300ms
plugin = $PLUGINDIR/dupplugin.so
log-level = debug
EOF
chmod 600 "$T/futured.conf"
start_daemon -c "$T/futured.conf"
ck_match "$(fctl stats | grep '^cpu ')" " 0/2$" "procs from the file"
ck_match "$(fctl stats | grep '^blocking ')" " 0/3$" "threads from the file"
ck_match "$(fctl handlers | grep '^spin ')" "test: refused" \
    "the file's plugin is loaded"
stop_daemon
start_daemon -c "$T/futured.conf" -P 1 --plugin "$TP"
ck_match "$(fctl stats | grep '^cpu ')" " 0/1$" "-P wins over the file"
ck_match "$(fctl stats | grep '^blocking ')" " 0/3$" "the rest of the file"
ck_match "$(fctl handlers | grep '^spin ')" "loop until cancelled" \
    "--plugin replaces the file's plugins"
# The file's grace still holds: stubborn dies 300ms after its cancel.
id=$(fctl submit stubborn)
wait_until 30 running "$id" || fail "stubborn never ran"
timed fctl cancel "$id"
ck_exit 3 fctl wait -t 30s "$id"
[ "$EL" -ge 250 ] || fail "grace from the file: cancel took $EL ms"
stop_daemon
pass "the config file sets options, the command line wins"

printf 'threads = 2\n\nprocs = many\n' >"$T/bad.conf"
start_fails "bad value" "$T/bad\\.conf:3: bad procs \"many\"" -c "$T/bad.conf"
printf '# ok\nthreads 2\n' >"$T/bad.conf"
start_fails "no equals sign" "$T/bad\\.conf:2: expected \"key = value\"" \
    -c "$T/bad.conf"
printf 'colour = blue\n' >"$T/bad.conf"
start_fails "unknown key" "$T/bad\\.conf:1: unknown key \"colour\"" \
    -c "$T/bad.conf"
printf 'threads = 2\nthreads = 3\n' >"$T/bad.conf"
start_fails "key given twice" "$T/bad\\.conf:2: threads is already set on line 1" \
    -c "$T/bad.conf"
start_fails "-c on a missing file" "$T/none\\.conf: No such file" \
    -c "$T/none.conf"
printf 'plugin = %s\n' "$T/nope.so" >"$T/bad.conf"
start_fails "a missing plugin from the file" "plugin $T/nope\\.so" \
    -c "$T/bad.conf"

# A user daemon reads $XDG_CONFIG_HOME/futured/futured.conf if it exists.
if [ "$(id -u)" -ne 0 ]; then
	mkdir -p "$T/xdg/futured"
	echo "procs = 2" >"$T/xdg/futured/futured.conf"
	XDG_CONFIG_HOME=$T/xdg
	start_daemon
	ck_match "$(fctl stats | grep '^cpu ')" " 0/2$" "the default file is read"
	stop_daemon
	pass "the default config file"
fi
