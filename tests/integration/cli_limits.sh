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
