# Checks of the source tree's layout that the compiler cannot make.
# job.c is the only place a job's state changes: futured.h makes the
# field const, so what is left to catch is a cast around it.  job_link.c
# alone builds the graph of jobs and checks a spec, for a submit and a
# journal replay alike: no other file adds a child to a parent or a job
# to a group, or checks a priority or a context key.

. "$TESTLIB"
SRC=$(cd "$(dirname "$TESTLIB")/../.." && pwd)
cd "$SRC/daemon"

# Lines of daemon/*.c matching the pattern, outside the files named.
outside() {
	pat=$1
	shift
	out=$(grep -nE "$pat" -- *.c || true)
	for f in "$@"; do
		out=$(printf '%s\n' "$out" | grep -v "^$f:" || true)
	done
	printf '%s' "$out"
}

grep -q 'const uint8_t[[:space:]]*state;' futured.h ||
    fail "struct job's state is no longer const in daemon/futured.h"
out=$(outside '\*\)[^;]*&[^;]*state' job.c)
[ -z "$out" ] || fail "a job's state is written outside job.c: $out"
pass "a job's state changes only in job.c"

out=$(outside 'INSERT[A-Z_]*\([^;]*centry' job_link.c)
[ -z "$out" ] || fail "a parent is linked outside job_link.c: $out"
out=$(outside 'group_add\(' job_link.c group.c)
[ -z "$out" ] || fail "a job joins a group outside job_link.c: $out"
out=$(outside 'JOB_PRIO_M(IN|AX) *\|\||[<>] *JOB_PRIO_M|isalnum' job_link.c)
[ -z "$out" ] || fail "a spec is checked outside job_link.c: $out"
pass "job_link.c alone links jobs and checks specs"
