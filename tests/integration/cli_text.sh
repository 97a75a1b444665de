# Proves futurectl's text output is safe and its JSON exact (issue 11,
# item 9): control characters, backslashes and bytes that are not UTF-8
# in names, groups, errors and progress messages are escaped in text
# (one job per line, no escape sequence reaches the terminal); --json
# keeps such bytes recoverable in NAME_base64 and args_base64.

. "$TESTLIB"
start_daemon

esc=$(printf '\033')
name=$(printf 'a\nb\033[31mred\\\377\302\233z')
id=$(fctl submit -n "$name" -g "$(printf 'g\tx')" exec -- true)
must fctl wait "$id" >/dev/null
fctl list >"$T/list"
ck_eq "$(wc -l <"$T/list")" 1 "one job, one line"
ck_match "$(cat "$T/list")" '^[0-9]+ +succeeded .* a\\nb\\x1b\[31mred\\\\\\xff\\xc2\\x9bz .*group g\\tx' \
    "the name and group escaped"
grep -q "$esc" "$T/list" && fail "an escape byte reached the text"
fctl status "$id" >"$T/status"
ck_eq "$(cat "$T/status")" "$(cat "$T/list")" "status as list"
pass "names and groups are escaped in text"

# --json: the exact bytes in name_base64.
fctl --json status "$id" >"$T/json"
sed 's/.*"name_base64":"\([^"]*\)".*/\1/' "$T/json" | base64 -d >"$T/name"
printf '%s' "$name" | cmp -s - "$T/name" || fail "name_base64 is not the name"
ck_match "$(cat "$T/json")" '"name":"a\\nb\\u001b\[31mred\\\\\\ufffd\\u009bz"' \
    "name as JSON, C1 escaped too"
# Arguments not UTF-8.
id=$(fctl submit exec -- echo "$(printf 'x\377')" y)
must fctl wait "$id" >/dev/null
fctl --json status "$id" >"$T/json"
ck_match "$(cat "$T/json")" '"args_base64":\["ZWNobw==","eP8=","eQ=="\]' "args_base64"
pass "--json keeps bytes that are not UTF-8 recoverable"

# An error message naming a hostile command is escaped too.
ck_exit 127 fctl run -- "$(printf 'no\033[2Jcmd')"
grep -q "$esc" "$T/err" && fail "an escape byte in the error"
ck_match "$(cat "$T/err")" 'no\\x1b\[2Jcmd: command not found' "the error escaped"
pass "errors are escaped in text"

# list and status show the command line, start and finish times and the
# time it ran, and a header on a terminal only.
id=$(fctl submit exec -- echo "a b" "it's" c)
must fctl wait "$id" >/dev/null
line=$(fctl status "$id")
ck_match "$line" "^$id +succeeded +cpu +exec +- +[0-9]{2}:[0-9]{2}:[0-9]{2} +[0-9]{2}:[0-9]{2}:[0-9]{2} +[0-9.]+m?s +echo 'a b' 'it'\\\\''s' c  # exit 0$" \
    "status: times, duration, command line"
id=$(fctl submit -n later sleep 300)
wait_until 10 sh -c "$FUTURECTL -s $SOCK status $id | grep -q running" ||
    fail "sleep never ran"
ck_match "$(fctl status "$id")" "^$id +running +async +sleep +later +[0-9:]{8} +- +[0-9.]+m?s +300$" \
    "a running job: no finish, the time so far"
must fctl cancel "$id" >/dev/null
ck_match "$(fctl list | head -n 1)" "^[0-9]" "no header on a pipe"
if command -v script >/dev/null 2>&1; then
	script -qec "$FUTURECTL -s $SOCK list" /dev/null </dev/null >"$T/tty" || true
	ck_match "$(head -n 1 "$T/tty")" "^ID +STATE +KIND +HANDLER +NAME +STARTED +FINISHED +TIME +COMMAND" \
	    "a header on a terminal"
fi
pass "list and status show times, duration and the command line"
