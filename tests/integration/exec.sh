# Proves what a command started by the exec handler (posix_spawn from
# its spawner threads) gets: only fds 0, 1 and 2 and its progress pipe
# (3), every signal at its default and none blocked, a
# process group of its own that a cancel reaches even right after the
# start, /dev/null or the payload as stdin, its stdout and stderr, its
# exit status or signal, environment, context and cwd, a clear error
# when execve fails; and that hundreds of commands, some with an
# environment too big for the usual stack, leave no zombie and no
# descriptor behind.

. "$TESTLIB"

printf '#!/bin/sh\necho never\n' >"$T/noexec"
chmod 644 "$T/noexec"
BIG=$(head -c 70000 /dev/zero | tr '\0' x)

exec_checks() {
	how=$1

	ck_eq "$(fctl run -- ls /proc/self/fd | tr '\n' ' ')" "0 1 2 3 4 " \
	    "$how: only stdio and the progress pipe open (4 is ls's own)"
	sigs=$(fctl run -- grep -E '^Sig(Blk|Ign):' /proc/self/status)
	blk=$(printf '%s\n' "$sigs" | awk '/^SigBlk/ { print $2 }')
	ign=$(printf '%s\n' "$sigs" | awk '/^SigIgn/ { print $2 }')
	ck_eq "$blk" 0000000000000000 "$how: no signal blocked"
	# glibc's posix_spawn leaves its own 32 and 33 ignored.
	ck_eq "$((0x$ign & 0x7fffffff))" 0 "$how: no signal ignored"
	ck_eq "$(fctl run -- sh -c 'read -r p c s pp pg r </proc/$$/stat
	    [ "$pg" = $$ ] && echo leader')" leader \
	    "$how: leads its own process group"
	pass "$how: descriptors, signals, process group"

	ck_eq "$(fctl run -- readlink /proc/self/fd/0)" /dev/null \
	    "$how: no payload, /dev/null"
	ck_eq "$(printf 'in' | fctl run -D - -- cat)" in "$how: payload"
	head -c 300000 /dev/zero >"$T/payload"
	ck_eq "$(fctl run -D "$T/payload" -- wc -c)" 300000 \
	    "$how: a payload bigger than a pipe"
	ck_eq "$(fctl run -- head -c 300000 /dev/zero | wc -c)" 300000 \
	    "$how: output bigger than a pipe"
	ck_eq "$(fctl run -- sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" \
	    err "$how: stderr"
	ck_exit 3 fctl run -- sh -c 'exit 3'
	ck_exit 143 fctl run -- sh -c 'kill -TERM $$'
	pass "$how: stdin, stdout, stderr, status, signal"

	ck_eq "$(cd "$T" && fctl run -e X=1 -- sh -c 'echo $(pwd) $X')" \
	    "$T 1" "$how: cwd and environment"
	ck_eq "$(fctl submit -C K=v -w exec -- sh -c 'echo $FUTURED_CTX_K')" \
	    v "$how: context"
	ck_eq "$(fctl run -e "BIG=$BIG" -- sh -c 'echo ${#BIG}')" 70000 \
	    "$how: a 70 kB environment"
	ck_exit 1 fctl submit -w exec -- "$T/noexec"
	ck_match "$(cat "$T/err")" "exec: $T/noexec: Permission denied" \
	    "$how: execve's error"
	id=$(fctl submit exec -- "$T/noexec")
	fctl wait "$id" >/dev/null 2>&1 || true
	ck_eq "$(fctl --json status "$id" | jfield exit_status)" 127 \
	    "$how: execve's failure is exit 127"
	pass "$how: cwd, environment, context, execve failure"

	# Cancelled as soon as it is started: the whole group goes.
	i=0
	while [ $i -lt 10 ]; do
		id=$(fctl submit exec -- sh -c "sleep 30 & sleep 30; : $TOKEN")
		ck_exit 0 fctl cancel "$id"
		ck_exit 3 fctl wait "$id"
		i=$((i + 1))
	done
	wait_until 30 no_token_procs || fail "$how: processes left after cancel"
	pass "$how: cancel right after the start"

	fds0=$(ls /proc/"$DPID"/fd | wc -l)
	ids=
	i=0
	while [ $i -lt 150 ]; do
		ids="$ids $(fctl submit exec -- true)"
		ids="$ids $(fctl submit -e "BIG=$BIG" exec -- true)"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	fctl wait -t 120s $ids >/dev/null || fail "$how: batch failed"
	ck_eq "$(ps --ppid "$DPID" -o stat= | grep -c Z || true)" 0 \
	    "$how: zombies after 300 commands"
	ck_eq "$(ls /proc/"$DPID"/fd | wc -l)" "$fds0" \
	    "$how: descriptors after 300 commands"
	pass "$how: 300 commands, no zombie, no descriptor left"
}

start_daemon
exec_checks exec
stop_daemon
wait_until 30 no_token_procs || fail "processes outlived the daemon"
