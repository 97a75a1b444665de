# Proves the rough edges of issue 11 are gone: --help on stdout with
# exit 0; an unknown option or a missing value names itself without the
# whole usage, one "futurectl:" prefix; options after the handler name
# are refused, not taken as arguments; a connect error names the path
# and asks whether futured runs; a bad duration lists the forms; a job
# its handler could never run (sleep abc, exec of nothing, sha256 of two
# files, echo with an argument) is refused at submit, exit 2, naming the
# argument (the handler's check hook).

. "$TESTLIB"

ck_exit 0 "$FUTURECTL" -h
ck_match "$(head -n 1 "$T/out")" "^usage: futurectl" "-h on stdout"
ck_eq "$(cat "$T/err")" "" "-h: nothing on stderr"
ck_exit 0 "$FUTURECTL" --help
ck_match "$(head -n 1 "$T/out")" "^usage: futurectl" "--help on stdout"
ck_exit 0 "$FUTURECTL" submit --help
ck_exit 2 "$FUTURECTL"
ck_match "$(head -n 1 "$T/err")" "^usage: futurectl" "no command: usage on stderr"
pass "--help on stdout, exit 0"

ck_exit 2 "$FUTURECTL" submit --bogus echo
ck_eq "$(cat "$T/err")" "futurectl: submit: unknown option --bogus (futurectl -h lists them)" \
    "an unknown long option"
ck_exit 2 "$FUTURECTL" wait -Z 1
ck_eq "$(cat "$T/err")" "futurectl: wait: unknown option -Z (futurectl -h lists them)" \
    "an unknown short option"
ck_exit 2 "$FUTURECTL" submit --timeout
ck_eq "$(cat "$T/err")" "futurectl: submit: option --timeout needs a value" "a missing value"
ck_exit 2 "$FUTURECTL" --bogus ping
ck_eq "$(cat "$T/err")" "futurectl: unknown option --bogus (futurectl -h lists them)" \
    "a global option"
ck_exit 2 "$FUTURECTL" wait -t 5x 1
ck_eq "$(cat "$T/err")" 'futurectl: bad duration "5x" (want 250ms, 10s, 1.5m, 2h or a bare number of seconds)' \
    "a bad duration lists the forms"
pass "a bad option names itself, one line"

ck_exit 6 "$FUTURECTL" -s "$T/none.sock" ping
ck_eq "$(cat "$T/err")" "futurectl: cannot connect to $T/none.sock: No such file or directory; is futured running?" \
    "a connect error names the path"
pass "a connect error names the path and asks whether futured runs"

start_daemon
ck_exit 2 fctl submit echo -d x
ck_match "$(cat "$T/err")" "option -d after the handler" "option after the handler"
ck_eq "$(fctl list | wc -l)" 0 "nothing was submitted"
ck_exit 2 fctl submit sleep abc
ck_match "$(cat "$T/err")" 'sleep: bad duration "abc" \(want 250ms' "sleep abc at submit"
ck_exit 2 fctl submit sleep
ck_match "$(cat "$T/err")" "sleep: expected one argument" "sleep of nothing"
ck_exit 2 fctl submit exec
ck_match "$(cat "$T/err")" "exec: no command given" "exec of nothing"
ck_exit 2 fctl submit sha256 a b
ck_match "$(cat "$T/err")" 'sha256: at most one argument.*"b"' "sha256 of two files"
ck_exit 2 fctl submit echo hello
ck_match "$(cat "$T/err")" 'echo: takes no argument \("hello"\)' "echo with an argument"
ck_eq "$(fctl list | wc -l)" 0 "none of them was accepted"
ck_exit 0 fctl submit -w sleep 10ms
pass "a job its handler could never run is refused at submit, exit 2"

# submit -w ends its output with a newline on a terminal only.
ck_exit 0 fctl submit -w -d abc echo
ck_eq "$(od -An -c "$T/out" | tr -d ' \n')" abc "no newline added on a pipe"
if command -v script >/dev/null 2>&1; then
	script -qec "$FUTURECTL -s $SOCK submit -w -d abc echo" /dev/null \
	    >"$T/tty" </dev/null || true
	ck_match "$(od -An -c "$T/tty" | tr -d ' \n')" 'abc\\r\\n' \
	    "a newline added on a terminal"
	pass "submit -w ends its output with a newline on a terminal"
fi

# wait --progress -g GROUP; watch and wait --progress end with the final
# state.
a=$(fctl submit -g gp -d a echo)
b=$(fctl submit -g gp exec -- true)
ck_exit 0 fctl wait --progress -g gp
ck_match "$(cat "$T/err")" "job $a succeeded" "wait --progress -g: the first job's end"
ck_match "$(tail -n 2 "$T/err")" "job $b succeeded" "wait --progress -g: the last job's end"
ck_exit 0 fctl wait --progress "$a"
ck_eq "$(cat "$T/err")" "futurectl: job $a succeeded" "wait --progress ends with the state"
ck_exit 0 fctl watch "$a"
ck_eq "$(tail -n 1 "$T/err")" "futurectl: job $a succeeded" "watch ends with the state"
c=$(fctl submit -g gp2 exec -- sh -c 'exit 4')
ck_exit 1 fctl wait --progress -g gp2
ck_eq "$(tail -n 1 "$T/err")" "futurectl: job $c failed: exited with status 4" \
    "a failure ends with its reason"
pass "wait --progress -g; watch and wait --progress end with the final state"
