# Proves the daemon's life cycle: it refuses an unsafe socket directory
# and a second daemon on a live socket, --detach returns once it serves,
# SIGTERM stops it cleanly with no stale socket and no process left
# behind (running commands and cpu workers included); a bad option or
# futured.conf value names the option or key and what it wants.

. "$TESTLIB"

# Unsafe directories.
mkdir -m 755 "$T/open"
ck_exit 1 "$FUTURED" -f -s "$T/open/s.sock"
ck_match "$(cat "$T/err")" "group or other" "open directory refused"
mkdir -m 700 "$T/real"
ln -s "$T/real" "$T/link"
ck_exit 1 "$FUTURED" -f -s "$T/link/s.sock"
ck_match "$(cat "$T/err")" "symbolic link" "symlinked directory refused"
ck_exit 2 "$FUTURED" -j zero
ck_exit 2 "$FUTURED" --grace forever
pass "unsafe directories and bad options refused"

start_daemon -P 2
ck_exit 1 "$FUTURED" -f -s "$SOCK"
ck_match "$(cat "$T/err")" "another futured" "second daemon refused"
[ "$(stat -c %a "$(dirname "$SOCK")")" = 700 ] || fail "socket directory is not 0700"

# SIGTERM with a command running and idle workers: nothing survives.
fctl submit exec -- sh -c "sleep 30; : $TOKEN" >/dev/null
wait_until 30 pgrep -f "$TOKEN" || fail "command never started"
# Our daemon's workers: other tests may run daemons of their own.
workers=$(pgrep -P "$DPID" -f -- "--worker")
[ "$(echo "$workers" | wc -w)" -eq 2 ] || fail "expected 2 workers: $workers"
kill -TERM "$DPID"
wait "$DPID" || fail "futured exited non-zero on SIGTERM"
DPID=
[ ! -e "$SOCK" ] || fail "stale socket after SIGTERM"
wait_until 30 no_token_procs || fail "a command outlived the daemon"
# shellcheck disable=SC2086
wait_until 30 sh -c "! ps -o pid= -p '$(echo $workers | tr ' ' ,)'" ||
    fail "workers outlived the daemon"
pass "SIGTERM: no socket, no command, no worker left"

# --detach returns once the socket accepts connections.
"$FUTURED" --detach -s "$SOCK" || fail "--detach failed"
ck_exit 0 fctl ping
ck_eq "$(fctl submit -d detached -w echo)" detached "detached daemon serves"
pkill -TERM -f -- "-s $SOCK --ready-fd" || fail "no detached daemon to stop"
wait_until 30 sh -c "[ ! -e $SOCK ]" || fail "detached daemon left its socket"
pass "--detach"

# The daemon works in /: it keeps no directory busy, and a relative -s
# is made absolute first, for its clients' jobs and for its own exit.
mkdir -m 700 "$T/rel"
(cd "$T" && "$FUTURED" --detach -s rel/f$$.sock --journal none) ||
    fail "--detach -s rel/f$$.sock"
rpid=$(pgrep -f -- "-s rel/f$$.sock --journal none --ready-fd") ||
    fail "no daemon on a relative socket path"
ck_eq "$(readlink "/proc/$rpid/cwd")" / "the daemon works in /"
ck_eq "$(cd / && "$FUTURECTL" -s "$T/rel/f$$.sock" run -- sh -c 'echo $FUTURED_SOCKET')" \
    "$T/rel/f$$.sock" "a job's FUTURED_SOCKET is absolute"
kill -TERM "$rpid"
wait_until 30 sh -c "[ ! -e $T/rel/f$$.sock ]" ||
    fail "a daemon on a relative path left its socket"
pass "the daemon works in /, its relative paths made absolute"

# Option errors name the option, the value and the accepted forms;
# futured.conf's name the key; every duration option alike.
for o in grace shutdown-grace retry-delay retention read-timeout \
    worker-lease fsync-interval metrics-interval slurm-interval; do
	out=$("$FUTURED" -s "$SOCK" --$o 5x 2>&1) && fail "--$o 5x accepted"
	ck_eq "$out" "futured: bad --$o \"5x\" (want 250ms, 10s, 1.5m, 2h or a bare number of seconds)" \
	    "a bad --$o names the option and lists the forms"
done
out=$("$FUTURED" -s "$SOCK" --metrics-interval 50ms 2>&1) &&
    fail "--metrics-interval 50ms accepted"
ck_eq "$out" 'futured: bad --metrics-interval "50ms" (want 100ms or more)' \
    "a duration too short says the least"
out=$("$FUTURED" -s "$SOCK" --worker-lease 0 2>&1) && fail "--worker-lease 0 accepted"
ck_eq "$out" 'futured: bad --worker-lease "0" (want 1ms or more)' \
    "--worker-lease 0"
mkdir -p "$T/conf"
printf 'threads = 2\nshutdown-grace = 5x\n' >"$T/conf/futured.conf"
out=$("$FUTURED" -s "$SOCK" -c "$T/conf/futured.conf" 2>&1) &&
    fail "shutdown-grace = 5x accepted"
ck_match "$out" ':2: bad shutdown-grace "5x" \(want 250ms, 10s, 1.5m, 2h or a bare number of seconds\)$' \
    "a bad duration key names the key and lists the forms"
printf 'slurm-interval = 10ms\n' >"$T/conf/futured.conf"
out=$("$FUTURED" -s "$SOCK" -c "$T/conf/futured.conf" 2>&1) &&
    fail "slurm-interval = 10ms accepted"
ck_match "$out" ':1: bad slurm-interval "10ms" \(want 100ms or more\)$' \
    "a duration key too short says the least"
out=$("$FUTURED" -s "$SOCK" --max-output 2x 2>&1) && fail "--max-output 2x accepted"
ck_match "$out" 'bad output limit "2x" .*K, M or G' "bad size lists the forms"
pass "option errors name the accepted forms"

# A detached daemon that cannot start says why, where the user looks.
out=$("$FUTURED" --detach -s "$SOCK" --journal /proc/nonexistent/journal 2>&1) &&
    fail "--detach of a daemon that cannot start exited 0"
ck_match "$out" "failed to start:" "--detach reports the failure"
ck_match "$out" "/proc/nonexistent" "--detach says why, not 'see syslog'"
[ ! -e "$SOCK" ] || fail "a failed detached start left a socket"
pass "--detach says why the daemon failed"
