# Proves per-job cgroups where the daemon has a cgroup v2 hierarchy of
# its own (as systemd's Delegate=yes gives it): the daemon is started in
# a fresh cgroup made for the test, logs that commands run in per-job
# cgroups, and then a process that left its command's process group
# (setsid) dies with a cancel (cgroup.kill after the grace); a job's
# cgroup is removed when it ends; after a kill -9 of the daemon, the
# restarted one fails the running job and kills its processes, the
# escaped one too.  Skips, saying why, where no writable cgroup2
# hierarchy is at hand (not root, no cgroup.kill, cgroup v1 only).

. "$TESTLIB"

mnt=$(awk '$9 == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
if [ -z "$mnt" ] || [ -z "$own" ]; then
	echo "skip - no cgroup2 hierarchy"
	exit 77
fi
CG=$mnt${own%/}/futured-test-$$
if ! mkdir "$CG" 2>/dev/null; then
	echo "skip - cannot create a cgroup under $mnt$own"
	exit 77
fi
cg_cleanup() {
	_rc=$?
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null || true
	fi
	echo 1 >"$CG/cgroup.kill" 2>/dev/null || true
	# Leaves first: a cgroup goes once its processes and children have.
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ -d "$CG" ] || break
		sleep 0.1
	done
	(exit "$_rc")
	cleanup
}
trap cg_cleanup EXIT
if [ ! -e "$CG/cgroup.kill" ] || ! echo 0 >"$CG/cgroup.procs" 2>/dev/null; then
	echo "skip - $CG has no cgroup.kill or is not writable"
	exit 77
fi
# That moved this shell in; back out, so only the daemon lives there.
echo $$ >"$mnt$own/cgroup.procs" 2>/dev/null ||
    echo 0 >"$mnt$own/cgroup.procs" 2>/dev/null || {
	echo "skip - cannot move back to $mnt$own"
	exit 77
}

# No process matches: pgrep from here, not from a shell whose own
# command line would match.
gone() {
	! pgrep -f "$1" >/dev/null
}

# start_daemon, in $CG.
cg_start() {
	sh -c 'echo 0 >"$1/cgroup.procs" && shift && exec "$@"' sh "$CG" \
	    "$FUTURED" -f -s "$SOCK" -l debug --journal "$T/journal" \
	    >>"$T/daemon.log" 2>&1 &
	DPID=$!
	wait_until 10 fctl ping || fail "futured did not come up"
}

cg_start
ck_match "$(cat "$T/daemon.log")" "commands run in per-job cgroups under $CG/futured-" \
    "the choice is logged"
base=$(ls -d "$CG"/futured-*)

# A cancel reaches a process that left the process group.
id=$(fctl submit exec -- sh -c "setsid sh -c 'sleep 300; : esc$TOKEN' & sleep 300")
# The trampoline's own command line names the escapee too: count the
# cgroup's members rather than trust the first pgrep match.
wait_until 10 sh -c "[ \$(wc -l <$base/job-$id/cgroup.procs) -ge 3 ]" ||
    fail "the command and its escapee never were in the job's cgroup"
pgrep -f "esc$TOKEN" >/dev/null || fail "the escapee never started"
ck_exit 0 fctl cancel --grace 200ms "$id"
ck_exit 3 fctl wait -t 30s "$id"
wait_until 10 gone "esc$TOKEN" ||
    fail "a process that left the process group survived the cancel"
wait_until 10 sh -c "[ ! -d $base/job-$id ]" ||
    fail "the job's cgroup was not removed"
pass "cancel kills a setsid escapee through the job's cgroup"

# A command's output and status are unchanged by the trampoline.
ck_eq "$(fctl submit -w exec -- sh -c 'echo hi; grep -c job- /proc/self/cgroup')" \
    "hi
1" "a command runs in its job's cgroup"
ck_exit 1 fctl submit -w exec -- sh -c 'exit 3'
ck_match "$(cat "$T/err")" "status 3" "exit status kept"
pass "commands run as before, inside their cgroup"

# kill -9 of the daemon: the restarted one ends what was left running.
id=$(fctl submit exec -- sh -c "setsid sh -c 'sleep 300; : esc2$TOKEN' & sleep 300; : lead2$TOKEN")
wait_until 10 sh -c "[ \$(wc -l <$base/job-$id/cgroup.procs) -ge 3 ]" ||
    fail "the command and its escapee never were in the job's cgroup"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
pgrep -f "lead2$TOKEN" >/dev/null || fail "the command died with the daemon"
cg_start
wait_until 10 gone "esc2$TOKEN|lead2$TOKEN" ||
    fail "the processes of a job failed by the restart live on"
ck_eq "$(job_state "$id")" failed "the job failed with the restart"
ck_match "$(cat "$T/daemon.log")" "killed the processes of 1 jobs left" \
    "the kill is logged"
stop_daemon
[ ! -d "$base" ] || fail "the daemon's cgroup directory outlived it"
pass "a restarted daemon kills what the previous one left running"
