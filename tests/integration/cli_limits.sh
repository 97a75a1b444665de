# Proves that the daemon's limits are the limits (issue 11, items 2 and
# 8): futurectl learns them at Hello through libfutured, so a payload
# over 16 MiB goes to a daemon whose --max-frame allows it, and one that
# cannot fit a daemon's smaller --max-frame is refused before it is
# sent, exit 2, with a message naming the limit.

. "$TESTLIB"

# A daemon that takes 32 MiB frames takes a 17 MiB payload.
start_daemon --max-frame 32M
head -c $((17 * 1024 * 1024)) /dev/zero >"$T/big"
want=$(sha256sum "$T/big" | cut -d' ' -f1)
ck_exit 0 fctl submit -w -D "$T/big" sha256
ck_eq "$(cat "$T/out")" "$want" "sha256 of a 17 MiB payload"
pass "a payload over 16 MiB fits a daemon whose --max-frame allows it"
stop_daemon

# A daemon of 64 KiB frames: refused locally, naming the limit.
start_daemon --max-frame 64K
head -c 100000 /dev/zero >"$T/mid"
ck_exit 2 fctl submit -w -D "$T/mid" echo
ck_match "$(cat "$T/err")" "65536 bytes" "the message names the limit"
ck_match "$(cat "$T/err")" "max-frame" "the message names the option"
ck_match "$(cat "$T/err")" "^futurectl: " "one error prefix"
# The daemon still serves (nothing oversized reached it).
ck_exit 0 fctl submit -w -d small echo
ck_eq "$(cat "$T/out")" small "a small job after the refusal"
pass "a payload over the daemon's --max-frame is refused naming the limit"
stop_daemon

# Output cut at --max-output says so where the user looks: stderr with
# the limit, the text of status, exit 8 unless --allow-truncated.
start_daemon --max-output 1K
seq 1 1000 >"$T/whole"
rc=0
fctl run -- seq 1 1000 >"$T/run.out" 2>"$T/run.err" || rc=$?
# run streams beyond what the daemon keeps, watched from the start.
cmp -s "$T/run.out" "$T/whole" || fail "run carried $(wc -c <"$T/run.out") bytes, not the whole output"
ck_eq "$rc" 0 "run of the whole output"
ck_eq "$(cat "$T/run.err")" "" "run of the whole output says nothing"
ck_exit 0 fctl run --allow-truncated -- seq 1 1000
ck_exit 8 fctl --json run -- seq 1 1000
ck_match "$(cat "$T/out")" '"output_truncated":true' "run --json"
ck_match "$(cat "$T/err")" "output truncated" "run --json says so on stderr"
id=$(fctl submit exec -- seq 1 1000)
must fctl wait "$id" >/dev/null
ck_exit 8 fctl result "$id"
ck_eq "$(wc -c <"$T/out")" 1024 "result writes what was kept"
ck_match "$(cat "$T/err")" "job $id: output truncated: .*1024 bytes.*--max-output.*--allow-truncated" \
    "result says the output was cut"
ck_exit 0 fctl result --allow-truncated "$id"
ck_match "$(cat "$T/err")" "output truncated" "still said with --allow-truncated"
ck_exit 8 fctl watch "$id"
ck_exit 0 fctl watch --allow-truncated "$id"
ck_exit 8 fctl submit -w exec -- seq 1 1000
ck_exit 0 fctl submit -w --allow-truncated exec -- seq 1 1000
ck_match "$(fctl status "$id")" "succeeded .*output truncated" "status text"
# A failed job keeps its own exit status; the cut is still told.
id=$(fctl submit exec -- sh -c 'seq 1 1000; exit 3')
ck_exit 1 fctl wait "$id"
ck_exit 1 fctl result "$id"
ck_match "$(cat "$T/err")" "output truncated" "a failed job's cut output"
# Output within the limit: nothing said.
ck_exit 0 fctl run -- seq 1 10
ck_eq "$(cat "$T/err")" "" "no message for whole output"
pass "cut output is told on stderr and in status, exit 8 unless --allow-truncated"

# libfutured says the limits it learnt.
must "$CLIENTPROG" limits 16777216 1024
pass "fut_client_limit gives the daemon's limits"
stop_daemon

# A reader too slow for the stream: the daemon buffers at most half of
# --max-unread for it and drops the rest, said on stderr, exit 8; the
# connection is kept and the job runs to its end.
start_daemon --max-unread 64K
{
	rc=0
	fctl run -- seq 1 1000000 2>"$T/slow.err" || rc=$?
	echo "$rc" >"$T/slow.rc"
} | { sleep 2; wc -c >"$T/slow.count"; }
ck_eq "$(cat "$T/slow.rc")" 8 "run of a dropped stream exits 8"
ck_match "$(cat "$T/slow.err")" \
    "job [0-9]+: [0-9]+ bytes of its output were dropped \(its reader read too slowly\)" \
    "run says what was dropped"
got=$(cat "$T/slow.count")
[ "$got" -lt "$(seq 1 1000000 | wc -c)" ] || fail "nothing was dropped ($got bytes)"
dropped=$(sed -n 's/.*: \([0-9]*\) bytes of its output were dropped.*/\1/p' "$T/slow.err")
ck_eq "$((got + dropped))" "$(seq 1 1000000 | wc -c)" "carried + dropped = written"
ck_exit 0 fctl ping
pass "a slow reader of run has output dropped and told, not buffered"
