# Proves whole logs (futured --output-dir, futurectl logs): a command's
# output past the 4 MiB the daemon keeps is whole in its log, byte for
# byte, while result says it was cut; its stderr too, past the 4 KiB
# tail; a pool thread's and a cpu worker's output as well; logs -f
# follows a running job to its end and exits as wait does for it; the
# files are 0600 in a directory of the daemon's; retention
# removes them with the job; a restart keeps those of kept jobs and
# removes the others', and a log cut short by a full disk still says so
# after it; an unknown id exits 7 and a daemon without
# --output-dir says so (exit 1); a reader that closes its pipe early
# harms nothing; the config key works as the option.

. "$TESTLIB"
: "${PLUGINDIR:?PLUGINDIR must name the directory of the test plugins}"

sum() {
	sha256sum | cut -d' ' -f1
}

# Without --output-dir: a clear error, exit 1.
start_daemon
id=$(fctl submit -d x echo)
must fctl wait "$id" >/dev/null
ck_exit 1 fctl logs "$id"
ck_match "$(cat "$T/err")" "keeps no logs.*--output-dir" \
    "logs without --output-dir"
stop_daemon
pass "logs without --output-dir is refused, naming the option"

L=$T/logs
start_daemon --output-dir "$L" --plugin "$PLUGINDIR/testplugin.so"
ck_eq "$(stat -c %a "$L")" 700 "the directory is made 0700"

# 6 MiB of output: whole in the log, cut in the result.
id=$(fctl submit exec -- sh -c "head -c 6291456 /dev/urandom >$T/src; cat $T/src")
must fctl wait "$id" >/dev/null
ck_eq "$(fctl logs "$id" | sum)" "$(sum <"$T/src")" \
    "the log of 6 MiB of output"
ck_eq "$(stat -c %a "$L/$id.out")" 600 "a log file's mode"
ck_exit 8 fctl result "$id"
ck_eq "$(wc -c <"$T/out")" 4194304 "result still gives the kept 4 MiB"
pass "a 6 MiB output is whole in logs, and result says it was cut"

# stderr: past the 4 KiB tail, and apart from stdout.
id=$(fctl submit exec -- sh -c "seq 1 20000 >&2; echo out")
must fctl wait "$id" >/dev/null
ck_eq "$(fctl logs --stderr "$id" | sum)" "$(seq 1 20000 | sum)" \
    "the stderr log"
ck_eq "$(fctl logs "$id")" out "the stdout log of the same job"
pass "logs --stderr is the whole stderr"

# A pool thread's and a cpu worker's output past the limit: whole too.
for k in blocking cpu; do
	id=$(fctl submit -k "$k" lines 200000 0)
	must fctl wait "$id" >/dev/null
	ck_eq "$(fctl logs "$id" | wc -l)" 200000 "lines in a $k job's log"
	ck_match "$(fctl logs "$id" | tail -n 1)" "^line 200000 " \
	    "the last line of a $k job's log"
	ck_exit 8 fctl result "$id"
done
pass "a pool thread's and a cpu worker's output are whole in their logs"

# -f follows a running job to its end.
id=$(fctl submit exec -- sh -c "echo first; while [ ! -e $T/go ]; do sleep 0.02; done; echo second")
fctl logs -f "$id" >"$T/f.out" 2>"$T/f.err" &
fpid=$!
wait_until 10 grep -q first "$T/f.out" ||
    fail "logs -f printed nothing while the job runs"
kill -0 "$fpid" 2>/dev/null || fail "logs -f ended before the job"
touch "$T/go"
frc=0
wait "$fpid" || frc=$?
ck_eq "$frc" 0 "logs -f exits 0 at the end of the job"
ck_eq "$(cat "$T/f.out")" "$(printf 'first\nsecond')" "what logs -f printed"
# Without -f, a running job's log so far, at once.
id=$(fctl submit exec -- sh -c "echo early; while [ ! -e $T/go2 ]; do sleep 0.02; done")
wait_until 10 test -s "$L/$id.out" || fail "no log file while the job runs"
ck_exit 0 fctl logs "$id"
ck_eq "$(cat "$T/out")" early "logs of a running job"
touch "$T/go2"
must fctl wait "$id" >/dev/null
pass "logs -f follows a running job to its end; logs gives what there is"

# logs -f exits as wait does once the job is final: 1 failed, 3
# cancelled (while it follows), 4 timed out; without -f, 0.
id=$(fctl submit exec -- sh -c 'echo bad; exit 3')
ck_exit 1 fctl logs -f "$id"
ck_eq "$(cat "$T/out")" bad "what logs -f of a failed job printed"
ck_match "$(cat "$T/err")" "job $id failed" "logs -f says the job failed"
ck_exit 1 fctl wait "$id"
ck_exit 0 fctl logs "$id"
id=$(fctl submit exec -- sh -c "echo on; while [ ! -e $T/never ]; do sleep 0.02; done")
fctl logs -f "$id" >"$T/c.out" 2>"$T/c.err" &
fpid=$!
wait_until 10 grep -q on "$T/c.out" || fail "logs -f printed nothing"
must fctl cancel "$id" >/dev/null
frc=0
wait "$fpid" || frc=$?
ck_eq "$frc" 3 "logs -f of a job cancelled while it follows"
ck_match "$(cat "$T/c.err")" "job $id cancelled" "logs -f says it was cancelled"
id=$(fctl submit -t 300ms exec -- sh -c "echo slow; sleep 30")
ck_exit 4 fctl logs -f "$id"
ck_eq "$(cat "$T/out")" slow "what logs -f of a timed-out job printed"
pass "logs -f exits as wait does for the job: 1, 3, 4"

# Unknown ids; a job with no output has an empty log.
ck_exit 7 fctl logs 999999
ck_exit 2 fctl logs
id=$(fctl submit exec -- true)
must fctl wait "$id" >/dev/null
ck_exit 0 fctl logs "$id"
ck_eq "$(wc -c <"$T/out")" 0 "the log of a silent job"
pass "logs of an unknown job exits 7; a silent job's log is empty"

# A reader that goes away early: its futurectl ends, the daemon serves.
id=$(fctl submit exec -- head -c 3000000 /dev/zero)
must fctl wait "$id" >/dev/null
ck_eq "$(fctl logs "$id" | head -c 10 | wc -c)" 10 "head of a log"
id2=$(fctl submit exec -- sh -c "echo a; while [ ! -e $T/go3 ]; do sleep 0.02; done; head -c 1000000 /dev/zero")
fctl logs -f "$id2" | head -c 1 >/dev/null &
hpid=$!
wait_until 10 test -s "$L/$id2.out" || fail "no log of the followed job"
touch "$T/go3"
wait "$hpid" || true
must fctl wait "$id2" >/dev/null
ck_eq "$(fctl logs "$id" | wc -c)" 3000000 "the log read after"
must fctl ping >/dev/null
pass "a pipe closed early ends futurectl logs and harms nothing"

# A restart keeps the logs of kept jobs, drops those of unknown ones,
# leaves other files alone; the config key works as the option.
keep=$(fctl submit exec -- sh -c 'seq 1 1000')
must fctl wait "$keep" >/dev/null
stop_daemon
echo stale >"$L/987654.out"
echo mine >"$L/notes.txt"
printf 'output-dir = %s\n' "$L" >"$T/futured.conf"
start_daemon -c "$T/futured.conf"
ck_eq "$(fctl logs "$keep" | sum)" "$(seq 1 1000 | sum)" \
    "a kept job's log after a restart"
[ ! -e "$L/987654.out" ] || fail "the log of an unknown job stayed"
ck_eq "$(cat "$L/notes.txt")" mine "another file in the directory"
pass "a restart keeps the logs of kept jobs (output-dir in futured.conf)"

# A log cut short by a full disk (a tiny tmpfs: root) says so, also
# after a restart: the mark is kept on the file.
stop_daemon
mkdir "$T/small"
if [ "$(id -u)" -eq 0 ] &&
    mount -t tmpfs -o size=64k,mode=0700 futured-test "$T/small" 2>/dev/null; then
	trap 'rc=$?; umount "$T/small" 2>/dev/null || true; (exit $rc); cleanup' EXIT
	start_daemon --output-dir "$T/small"
	id=$(fctl submit exec -- sh -c 'head -c 300000 /dev/zero | tr "\\0" x; echo err >&2')
	must fctl wait "$id" >/dev/null
	ck_exit 8 fctl logs "$id"
	ck_match "$(cat "$T/err")" "job $id: the log stops short" "a cut log"
	[ "$(wc -c <"$T/out")" -lt 300000 ] || fail "a whole log on a full disk"
	stop_daemon
	start_daemon --output-dir "$T/small"
	ck_exit 8 fctl logs "$id"
	ck_match "$(cat "$T/err")" "job $id: the log stops short" \
	    "a cut log after a restart"
	ck_exit 8 fctl logs -f "$id"
	stop_daemon
	umount "$T/small"
	pass "a log cut short by a full disk says so, also after a restart"
else
	echo "ok - SKIP a cut log across a restart: not root, or no tmpfs"
fi

# Retention removes the files with the job.
start_daemon --output-dir "$L" --retention 1s
id=$(fctl submit exec -- sh -c 'echo out; echo err >&2')
must fctl wait "$id" >/dev/null
[ -e "$L/$id.out" ] && [ -e "$L/$id.err" ] || fail "no log files"
wait_until 10 sh -c "! test -e $L/$id.out && ! test -e $L/$id.err" ||
    fail "retention left the log files"
ck_exit 7 fctl logs "$id"
pass "retention removes a job's log files"
