# Proves that relative paths among any job's arguments mean the
# submitter's directory (issue 11, item 7): futurectl sends its
# directory with every job that has arguments, and libfutured does so
# by default for a spec with arguments and no directory of its own
# (fut_spec_cwd(s, "") opts out: the daemon's, "/").

. "$TESTLIB"
start_daemon

mkdir "$T/sub"
printf 'abc' >"$T/sub/f"
cd "$T/sub"
# A thread of the daemon's, and a worker process (which learns the
# directory from its Task).
for kind in blocking cpu; do
	ck_exit 0 fctl submit -w -k $kind sha256 f
	ck_eq "$(cat "$T/out")" \
	    ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad \
	    "sha256 -k $kind of a relative file"
done
pass "futurectl: sha256 FILE is relative to the submitter's directory"

# A cpu job without arguments carries no directory (the plain path is
# unchanged), and a worker keeps nothing of the job before: from /, f
# is /f, which is not there, not the $T/sub/f of the jobs above.
ck_exit 0 sh -c 'printf abc | "$0" -s "$1" submit -w -k cpu -D - sha256' \
    "$FUTURECTL" "$SOCK"
ck_eq "$(cat "$T/out")" \
    ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad \
    "sha256 -k cpu of a payload"
cd /
ck_exit 1 fctl submit -w -k cpu sha256 f
ck_match "$(cat "$T/err")" "cannot open /+f: No such file" "sha256 f from /"
pass "futurectl: a cpu worker takes each job's directory, or none"

must "$CLIENTPROG" cwd
pass "libfutured sends the caller's directory with a job that has arguments"
