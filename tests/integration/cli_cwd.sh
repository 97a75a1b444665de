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
ck_exit 0 fctl submit -w -k blocking sha256 f
ck_eq "$(cat "$T/out")" ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad \
    "sha256 of a relative file"
pass "futurectl: sha256 FILE is relative to the submitter's directory"

must "$CLIENTPROG" cwd
pass "libfutured sends the caller's directory with a job that has arguments"
