# Proves that the engines stay behind one table (daemon/pool.h): job.c
# and sched.c name no pool, no runner and no pool's rule (FUT_HF_LOOP),
# so that a new engine is a new file; the request files read nothing of
# a pool; each engine fills one struct pool; pool_of() in pool.c is the
# one place that picks a job's pool.  A source check: no daemon runs.

. "$TESTLIB"

D=$(dirname "$TESTLIB")/../../daemon
[ -f "$D/pool.h" ] || fail "no daemon sources at $D"

for f in job.c sched.c request.c request_submit.c request_watch.c; do
	if grep -nE 'pool_(loop|thread|proc)_|RUNNER_|FUT_HF_LOOP|hctx->output' \
	    "$D/$f" >"$T/hits"; then
		fail "$f names a pool: $(cat "$T/hits")"
	fi
done
pass "job.c, sched.c and the request files reach pools only through the table"

for e in loop thread proc worker; do
	ck_eq "$(grep -c "^const struct pool pool_${e}_ops = {" "$D/pool_$e.c")" 1 \
	    "pool_$e.c fills one table"
done
ck_eq "$(grep -l 'FUT_HF_LOOP' "$D"/*.c | sed 's|.*/||' | tr '\n' ' ')" \
    "handler.c pool.c pool_loop.c worker.c " "who knows the loop rule"
pass "each engine fills one struct pool; pool.c picks"
