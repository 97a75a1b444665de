# Proves that run owns its job as a shell owns its command (issue 11,
# items 3 and 6): SIGTERM, SIGHUP, SIGINT, a write to a gone reader and
# a pipe on stdout that lost its reader cancel the job and end run as
# the shell expects (128+N; SIGPIPE for the pipe); a failure's reason is
# printed where the user looks.  Each signal is sent once the job is
# seen running, by its own output or by list, never after a sleep.

. "$TESTLIB"
start_daemon

# The id of the one job named $1 (run prints no id).
job_named() {
	fctl --json list | grep "\"name\":\"$1\"" | sed 's/^{"id":\([0-9]*\),.*/\1/'
}

# run_killed SIG CODE: run is killed by SIG once its command runs; it
# must exit CODE and leave its job cancelled.
run_killed() {
	_name=sig$1
	env --default-signal="$1" "$FUTURECTL" -s "$SOCK" run -n "$_name" -- \
	    sh -c "echo started; exec sleep 300" >"$T/$_name.out" &
	_pid=$!
	wait_until 20 grep -q started "$T/$_name.out" ||
	    fail "run -- $1: the command did not start"
	_id=$(job_named "$_name")
	[ -n "$_id" ] || fail "run -- $1: no job"
	kill -"$1" "$_pid"
	_rc=0
	wait "$_pid" || _rc=$?
	ck_eq "$_rc" "$2" "run's exit status after SIG$1"
	ck_exit 3 fctl wait -t 30s "$_id"
	pass "SIG$1 cancels run's job, run exits $2"
}

run_killed TERM 143
run_killed HUP 129
run_killed INT 130

# A reader gone: the next write fails with EPIPE.
rc=$( { "$FUTURECTL" -s "$SOCK" run -n epipe -- sh -c \
    'while :; do echo y; sleep 0.05; done'; echo $? >"$T/epipe.rc"; } |
    head -n 1)
ck_eq "$rc" y "the reader read"
ck_eq "$(cat "$T/epipe.rc")" 141 "run exits as if killed by SIGPIPE"
ck_exit 3 fctl wait -t 30s "$(job_named epipe)"
pass "a reader gone cancels run's job"

# A silent command: the pipe on stdout lost its reader.
mkfifo "$T/fifo"
"$FUTURECTL" -s "$SOCK" run -n silent -- sh -c 'exec sleep 300' \
    >"$T/fifo" &
rpid=$!
exec 3<"$T/fifo"
wait_until 20 sh -c "$FUTURECTL -s $SOCK list --state running | grep -q silent" ||
    fail "the silent command did not start"
exec 3<&-
rc=0
wait "$rpid" || rc=$?
ck_eq "$rc" 141 "run exits as if killed by SIGPIPE"
ck_exit 3 fctl wait -t 30s "$(job_named silent)"
pass "a pipe on stdout with no reader left cancels run's job"

# submit -w, wait and watch only look on: the job goes on.
id=$(fctl submit -n looker exec -- sh -c 'echo started; exec sleep 300')
"$FUTURECTL" -s "$SOCK" watch "$id" >"$T/looker.out" 2>/dev/null &
wpid=$!
wait_until 20 grep -q started "$T/looker.out" || fail "watch saw no start"
kill -TERM "$wpid"
wait "$wpid" || true
ck_match "$(fctl status "$id")" running "the job watched goes on"
must fctl cancel "$id" >/dev/null
pass "watch interrupted leaves the job running"

# The reason for a failure is printed where the user looks.
ck_exit 127 fctl run -- nosuchcmd-$TOKEN
ck_match "$(cat "$T/err")" "^futurectl: job [0-9]+ failed: .*nosuchcmd-$TOKEN: command not found" \
    "run says the command was not found"
ck_exit 3 fctl run -- sh -c 'exit 3'
ck_eq "$(cat "$T/err")" "" "a command's own exit status is not repeated"
ck_exit 137 fctl run -- sh -c 'kill -KILL $$'
ck_match "$(cat "$T/err")" "killed by signal 9" "run says which signal"
pass "run says why its command failed, unless it exited by itself"

# A failed command's stderr in the text of result, wait, watch, submit -w.
id=$(fctl submit exec -- sh -c 'echo oops >&2; exit 2')
ck_exit 1 fctl wait "$id"
ck_match "$(cat "$T/err")" "oops" "wait shows the failed job's stderr"
ck_match "$(cat "$T/err")" "job $id failed: exited with status 2" "and its error"
ck_exit 1 fctl result "$id"
ck_eq "$(head -n 1 "$T/err")" "oops" "result shows the stderr first"
ck_exit 1 fctl watch "$id"
ck_match "$(cat "$T/err")" "oops" "watch shows the stderr"
ck_exit 1 fctl submit -w exec -- sh -c 'echo oops >&2; exit 2'
ck_match "$(cat "$T/err")" "oops" "submit -w shows the stderr"
# Only the tail was kept: said so.
id=$(fctl submit exec -- sh -c 'seq 1 5000 >&2; exit 1')
ck_exit 1 fctl wait "$id"
ck_match "$(cat "$T/err")" "only the last 4096 bytes" "wait marks the tail"
ck_exit 1 fctl result "$id"
ck_match "$(cat "$T/err")" "job $id: only the last 4096 bytes of its stderr were kept" \
    "a marker where only the tail was kept"
ck_match "$(cat "$T/err")" "^5000$" "the tail itself"
# A tail as long as the limit but whole is no cut (the daemon says).
id=$(fctl submit exec -- sh -c 'head -c 4096 /dev/zero | tr "\\0" x >&2; exit 1')
ck_exit 1 fctl wait "$id"
ck_exit 1 fctl result "$id"
ck_eq "$(grep -c 'only the last' "$T/err")" 0 "a whole 4096-byte stderr is not marked"
ck_eq "$(fctl --json status "$id" | grep -c '"stderr_truncated":false')" 1 \
    "status --json: stderr_truncated false"
# run streams all of it, as it comes: nothing was cut for it.
ck_exit 1 fctl run -- sh -c 'seq 1 5000 >&2; exit 1'
seq 1 5000 >"$T/want"
cmp -s "$T/err" "$T/want" || fail "run wrote the whole stderr: $(head -c 300 "$T/err")"
pass "a failed command's stderr in the text of result, wait, watch, submit -w"

# run writes the command's stderr as it is written, not at the end.
rm -f "$T/go"
fctl run -- sh -c "echo early >&2; while [ ! -e '$T/go' ]; do sleep 0.05; done; echo late >&2; exit 4" \
    >"$T/live.out" 2>"$T/live.err" &
rpid=$!
wait_until 20 grep -q early "$T/live.err" || fail "run did not stream the stderr live"
ck_eq "$(grep -c late "$T/live.err")" 0 "late not yet written"
: >"$T/go"
rc=0
wait "$rpid" || rc=$?
ck_eq "$rc" 4 "run exits as the command"
ck_eq "$(cat "$T/live.err")" "early
late" "run's stderr is the command's"
pass "run streams the command's stderr live"

# The stream carries the whole output however long, past --max-output.
rc=0
fctl run -- seq 1 1000000 >"$T/big" || rc=$?
ck_eq "$rc" 0 "run of 6.9 MB exits 0"
ck_eq "$(wc -c <"$T/big")" "$(seq 1 1000000 | wc -c)" "run carried the whole output"
ck_eq "$(tail -n 1 "$T/big")" 1000000 "its end"
pass "run streams the whole output past what the daemon keeps"

# status --json carries a finished job's output; list --json its size.
id=$(fctl submit -d hello echo)
must fctl wait "$id" >/dev/null
ck_match "$(fctl --json status "$id")" '"output":"hello"' "status --json output"
ck_match "$(fctl --json status "$id")" '"output_size":5' "status --json output_size"
ck_match "$(fctl --json list | grep "\"id\":$id,")" '"output":null.*"output_size":5' \
    "list --json: no output, its size"
pass "status --json carries the output; list --json its size"

# run forwards its stdin when it is a pipe or a file, not a terminal.
ck_eq "$(printf 'a\nb\n' | fctl run -- wc -l | tr -d ' ')" 2 "stdin from a pipe"
printf 'from a file' >"$T/in"
ck_eq "$(fctl run -- cat <"$T/in")" "from a file" "stdin from a file"
ck_eq "$(fctl run -d given -- cat <"$T/in")" given "-d wins over stdin"
ck_eq "$(fctl run -- cat </dev/null)" "" "/dev/null: nothing"
pass "run forwards its stdin when it is not a terminal"

# status says what a waiting job waits for; --json lists them.
a=$(fctl submit sleep 100)
b=$(fctl submit sleep 100)
w=$(fctl submit -a "$a,$b" echo)
ck_match "$(fctl status "$w")" "waiting .*waiting for $a, $b" "status text"
ck_match "$(fctl --json status "$w")" "\"after\":\\[$a,$b\\]" "status --json after"
ck_match "$(fctl --json status "$w")" '"input_from":null' "status --json input_from"
i=$(fctl submit -i "$a" exec -- cat)
ck_match "$(fctl status "$i")" "waiting for $a" "input_from is waited for"
ck_match "$(fctl --json status "$i")" "\"after\":\\[\\].*\"input_from\":$a" "--json input_from"
i=$(fctl submit -a "$a" -i "$a" exec -- cat)
ck_match "$(fctl status "$i")" "waiting for $a\$" "a job named once"
must fctl cancel "$a" "$b" >/dev/null
pass "status shows what a waiting job waits for"
