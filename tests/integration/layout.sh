# Checks of the source tree's layout that the compiler cannot make:
# job.c is the only place a job's state changes (futured.h makes the
# field const, so what is left to catch is a cast around it).

. "$TESTLIB"
SRC=$(cd "$(dirname "$TESTLIB")/../.." && pwd)

grep -q 'const uint8_t[[:space:]]*state;' "$SRC/daemon/futured.h" ||
    fail "struct job's state is no longer const in daemon/futured.h"
out=$(cd "$SRC/daemon" && grep -nE '\*\)[^;]*&[^;]*state' -- *.c |
    grep -v '^job\.c:' || true)
[ -z "$out" ] || fail "a job's state is written outside job.c: $out"
pass "a job's state changes only in job.c"
