# Proves that a --system daemon keeps users apart: an exec job runs with
# the uid and groups of the user who submitted it (through the --exec-as
# trampoline), with none of the daemon's descriptors; another user cannot
# see it in list, nor status, wait on, fetch or cancel it (exit 7); root
# sees everything; handlers that would run as root are refused to users;
# whole logs (--output-dir) are root's files that the owner reads through
# the daemon, and no one else.
# Needs root (to start --system and to create two throwaway users): it
# is skipped otherwise.

. "$TESTLIB"

if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null 2>&1 ||
    ! command -v runuser >/dev/null 2>&1; then
	echo "skip - needs root, useradd and runuser"
	exit 77
fi

U1=futtest1
U2=futtest2
# The users go before lib.sh's cleanup, which exits; their processes
# (a job left running by a failure) first.
sys_cleanup() {
	_rc=$?
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null || true
	fi
	for u in "$U1" "$U2"; do
		pkill -KILL -u "$u" 2>/dev/null || true
		userdel "$u" 2>/dev/null || true
	done
	(exit "$_rc")
	cleanup
}
trap sys_cleanup EXIT
for u in "$U1" "$U2"; do
	id "$u" >/dev/null 2>&1 || must useradd -M -r -s /bin/sh "$u"
done
uid1=$(id -u "$U1")

# Everyone must reach the socket and futurectl: $T is private.
chmod 755 "$T"
cp "$FUTURECTL" "$T/futurectl"
chmod 755 "$T/futurectl"
SOCK=$T/sys/f.sock
start_daemon --system --output-dir "$T/logs"

ck_eq "$(stat -c %a "$T/sys")" 755 "socket directory mode"
ck_eq "$(stat -c %a "$SOCK")" 666 "socket mode"

# As user $1, in / (their cwd must be theirs to enter).
as() {
	_u=$1
	shift
	(cd / && runuser -u "$_u" -- "$T/futurectl" -s "$SOCK" "$@")
}

ck_eq "$(as "$U1" submit -w exec -- id -u)" "$uid1" "exec runs as the user"
ck_eq "$(as "$U1" submit -w exec -- id -G)" "$(id -G "$U1")" \
    "exec runs with the user's groups"
# Descriptors 0-2 and the progress pipe (3), through the trampoline,
# and nothing else: 4 is ls's own handle on the directory.
n=$(as "$U1" submit -w exec -- ls /proc/self/fd | tr '\n' ' ')
ck_eq "$n" "0 1 2 3 4 " "no daemon descriptor reaches the command"
n=$(as "$U1" --json submit -w exec -- sh -c \
    'echo "1/2 half" >&"$FUTURED_PROGRESS_FD"; exit 1' | jfield progress_msg)
ck_eq "$n" half "progress lines through the trampoline"
pass "--system: exec runs as the submitting user, with nothing of ours"

job=$(as "$U1" submit exec -- sleep 30)
ck_exit 7 as "$U2" status "$job"
ck_exit 7 as "$U2" wait -t 1s "$job"
ck_exit 7 as "$U2" result "$job"
ck_exit 7 as "$U2" cancel "$job"
ck_eq "$(as "$U2" list | grep -c "^$job\b" || true)" 0 \
    "another user's job is not listed"
ck_eq "$(as "$U1" --json status "$job" | jfield state)" running \
    "the owner sees it running"
ck_match "$(fctl list)" "^$job\b" "root sees every job"
pass "--system: another user cannot see, wait on or cancel a job"

ck_exit 7 as "$U2" submit -w sha256 /etc/shadow
ck_match "$(cat "$T/err")" "as root" "sha256 of a file is refused to users"
ck_eq "$(as "$U2" submit -d abc -w sha256 | cut -c1-8)" ba7816bf \
    "sha256 of a payload is fine"
ck_eq "$(as "$U2" submit -d hi -w echo)" hi "echo is fine"
must fctl cancel "$job" >/dev/null
ck_eq "$(fctl --json status "$job" | jfield state)" cancelled \
    "root can cancel anyone's job"
pass "--system: handlers running as root are refused to users"

job=$(as "$U1" submit exec -- sh -c 'echo secret; echo oops >&2')
must as "$U1" wait "$job" >/dev/null
ck_eq "$(as "$U1" logs "$job")" secret "the owner reads the log"
ck_eq "$(as "$U1" logs --stderr "$job")" oops "the owner reads stderr"
ck_exit 7 as "$U2" logs "$job"
ck_eq "$(stat -c '%U %a' "$T/logs/$job.out")" "root 600" \
    "a log file is root's, 0600"
runuser -u "$U1" -- cat "$T/logs/$job.out" >/dev/null 2>&1 &&
    fail "the owner read the file itself"
pass "--system: the owner reads a job's log through the daemon only"

stop_daemon
[ ! -e "$SOCK" ] || fail "the socket is removed at exit"
