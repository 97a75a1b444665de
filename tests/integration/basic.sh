# Proves the everyday path through a real daemon: every kind runs echo and
# gives back its payload, sha256 runs inside a worker process, a command's
# exit status comes back through `run`, and the read-only commands (ping,
# handlers, stats, status, list, result, --json) answer sensibly.

. "$TESTLIB"
start_daemon -j 2 -P 2

for k in async blocking cpu; do
	out=$(fctl submit -k "$k" -d hello -w echo)
	ck_eq "$out" hello "echo under $k"
done
pass "echo under every kind"

got=$(printf abc | fctl submit -k cpu -D - -w sha256)
want=$(printf abc | sha256sum | cut -d' ' -f1)
ck_eq "$got" "$want" "sha256 of abc in a worker"
got=$(printf abc | fctl submit -k blocking -D - -w sha256)
ck_eq "$got" "$want" "sha256 of abc in a thread"
printf 'some file\n' >"$T/file"
got=$(fctl submit -w sha256 "$T/file")
ck_eq "$got" "$(sha256sum "$T/file" | cut -d' ' -f1)" "sha256 of a file"
pass "sha256 in a worker and a thread"

ck_exit 3 fctl run -- sh -c 'exit 3'
ck_exit 0 fctl run -- true
out=$(fctl run -- sh -c 'echo to-stdout; echo to-stderr >&2' 2>"$T/run.err")
ck_eq "$out" to-stdout "run stdout"
ck_eq "$(cat "$T/run.err")" to-stderr "run stderr"
for k in async blocking cpu; do
	out=$(printf 'piped in' | fctl submit -k "$k" -D - -w exec -- cat)
	ck_eq "$out" "piped in" "exec under $k with the payload on stdin"
done
ck_exit 137 fctl run -- sh -c 'kill -KILL $$'
ck_eq "$(printf 'to stdin' | fctl run -D - -- cat)" "to stdin" "run -D - feeds stdin"
ck_eq "$(fctl run -d given -- cat)" given "run -d feeds stdin"
pass "run: exit status, signals, stdin and stderr"

# exec sees the caller's working directory and environment, -e on top.
cd "$T"
out=$(FOO=from-env fctl run -e BAR=from-opt -- sh -c 'pwd; echo $FOO $BAR')
ck_eq "$out" "$(printf '%s\n%s' "$T" 'from-env from-opt')" "cwd and env"
cd /
pass "exec inherits cwd and environment"

ck_match "$(fctl ping)" "futured .*protocol 1" "ping"
h=$(fctl handlers)
for n in exec sleep echo sha256; do
	ck_match "$h" "^$n" "handlers lists $n"
done
ck_match "$(fctl stats)" "cpu" "stats"
fctl --json stats >/dev/null || fail "stats --json"
pass "ping, handlers, stats"

id=$(fctl submit -n greeting -g grp -d 'hi there' echo)
ck_match "$id" '^[0-9]+$' "submit prints the id alone"
ck_exit 0 fctl wait "$id"
ck_eq "$(fctl result "$id")" "hi there" "result"
ck_eq "$(job_state "$id")" succeeded "status --json state"
ck_eq "$(fctl --json status "$id" | jfield name)" greeting "json name"
ck_eq "$(fctl --json status "$id" | jfield group)" grp "json group"
ck_eq "$(fctl --json status "$id" | jfield handler)" echo "json handler"
ck_eq "$(fctl --json status "$id" | jfield kind)" async "json kind"
ck_eq "$(fctl --json result "$id" | jfield output)" "hi there" "json output"
fctl --json status "$id" | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
for k in ("id", "state", "kind", "handler", "name", "group", "progress",
    "exit_status", "signal", "error", "submitted_at", "started_at",
    "finished_at"):
	assert k in d, k
' || fail "status --json lacks a field"
printf '\377\376' >"$T/bin"
bid=$(fctl submit -D "$T/bin" echo)
fctl wait "$bid" >/dev/null
ck_eq "$(fctl --json result "$bid" | jfield output_base64)" "//4=" "binary output in base64"
ck_match "$(fctl list)" "$id" "list shows the job"
ck_match "$(fctl --json list --state succeeded | jfield state)" succeeded "list --state"
ck_exit 2 fctl list --state bogus
ck_match "$(fctl list -g grp)" "$id" "list -g"
pass "status, result, list, --json"

stop_daemon
[ ! -e "$SOCK" ] || fail "socket left behind after SIGTERM"
pass "clean stop"
