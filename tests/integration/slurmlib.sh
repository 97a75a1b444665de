# A private one-node Slurm for the Slurm engine's tests, sourced after
# lib.sh: munged, slurmctld and slurmd started in the foreground of their
# own, all state under a directory of this test, on free ports, stopped
# by pid at exit.  It installs nothing: .ci/run installs the packages
# (munge slurmctld slurmd slurm-client slurm-wlm-basic-plugins); without
# them the test is skipped (77) with a message saying so.
#
# Configuration that the engine relies on: batch_sched_delay=0 (a queued
# job starts at the controller's next tick, not up to 3 s later),
# DependencyParameters=kill_invalid_depend (a job whose afterok parent
# failed is cancelled instead of pending for ever; 22.05 wants it there,
# not in SchedulerParameters), and a node of our own name so that two
# tests may run side by side.

slurm_need() {
	for _c in munged mungekey slurmctld slurmd sbatch squeue scancel \
	    scontrol sinfo; do
		if ! command -v "$_c" >/dev/null 2>&1 &&
		    ! [ -x "/usr/sbin/$_c" ]; then
			echo "SKIP ($TEST_NAME): no $_c: Slurm is not installed" \
			    "(apt-get install munge slurmctld slurmd" \
			    "slurm-client slurm-wlm-basic-plugins)" >&2
			exit 77
		fi
	done
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP ($TEST_NAME): a private Slurm needs root" >&2
		exit 77
	fi
}

PATH=$PATH:/usr/sbin
export PATH

# A TCP port no socket uses (and that no other test picked: the port's
# own lock directory in /tmp, listed for slurm_stop), below the kernel's
# ephemeral range: a port in it can be taken by any outgoing connection
# between our look and the daemon's bind (slurmd once lost its port so).
slurm_port() {
	_hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) ||
	    _hi=
	case $_hi in
	''|*[!0-9]*) _hi=32768 ;;
	esac
	[ "$_hi" -gt 12000 ] || _hi=32768
	while :; do
		_p=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom) % (_hi - 10000) ))
		if [ -z "$(ss -Htan "sport = :$_p" 2>/dev/null)" ] &&
		    mkdir "/tmp/futured-slurm-port.$_p" 2>/dev/null; then
			echo "$_p" >>"$SLURM_DIR/ports"
			echo "$_p"
			return
		fi
	done
}

SLURM_DIR=
SLURM_NODE=fut$$

slurm_pid_alive() {
	[ -s "$SLURM_DIR/pids/$1" ] && kill -0 "$(cat "$SLURM_DIR/pids/$1")" \
	    2>/dev/null
}

slurm_bg() {
	_n=$1
	shift
	"$@" </dev/null >>"$SLURM_DIR/log/$_n.out" 2>&1 &
	echo $! >"$SLURM_DIR/pids/$_n"
}

slurm_log_tail() {
	for _f in "$SLURM_DIR"/log/*; do
		echo "--- $_f ---" >&2
		tail -n 20 "$_f" >&2
	done
}

# slurm_start [MinJobAge seconds]: up, a node idle, SLURM_CONF exported.
slurm_start() {
	slurm_need
	_age=${1:-300}
	# Not under $T (0700): munged wants its socket's directory open to
	# all, and the key's path writable by no one else.
	SLURM_DIR=$(mktemp -d /tmp/futured-slurm.XXXXXX)
	chmod 755 "$SLURM_DIR"
	mkdir -p "$SLURM_DIR/etc" "$SLURM_DIR/state" "$SLURM_DIR/spool" \
	    "$SLURM_DIR/log" "$SLURM_DIR/run" "$SLURM_DIR/pids" \
	    "$SLURM_DIR/munge" "$SLURM_DIR/munge-run" \
	    "$SLURM_DIR/spool/$SLURM_NODE"
	chmod 755 "$SLURM_DIR/munge-run"
	chmod 700 "$SLURM_DIR/munge"
	_msock=$SLURM_DIR/munge-run/munge.socket
	mungekey --create --keyfile="$SLURM_DIR/munge/munge.key" >/dev/null
	chmod 600 "$SLURM_DIR/munge/munge.key"
	_ctld=$(slurm_port)
	_slurmd=$(slurm_port)
	_host=$(hostname -s)
	_c=$(slurmd -C | head -n 1)
	_mem=$(echo "$_c" | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
	SLURM_CONF=$SLURM_DIR/etc/slurm.conf
	export SLURM_CONF
	cat >"$SLURM_CONF" <<EOF
ClusterName=futured
SlurmctldHost=$_host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$_ctld
SlurmdPort=$_slurmd
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$_msock
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool/%n
SlurmctldPidFile=$SLURM_DIR/run/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/run/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=$_age
KillWait=2
InactiveLimit=0
NodeName=$SLURM_NODE NodeAddr=127.0.0.1 NodeHostname=$_host Port=$_slurmd CPUs=8 Sockets=1 CoresPerSocket=8 ThreadsPerCore=1 RealMemory=$(( _mem * 9 / 10 )) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
	slurm_bg munged munged --foreground --socket="$_msock" \
	    --key-file="$SLURM_DIR/munge/munge.key" \
	    --pid-file="$SLURM_DIR/munge-run/munged.pid" \
	    --seed-file="$SLURM_DIR/munge/seed"
	wait_until 20 sh -c "munge -n -S '$_msock' | unmunge -S '$_msock'" ||
	    { slurm_log_tail; fail "munged did not come up"; }
	slurm_bg slurmctld slurmctld -D -i -f "$SLURM_CONF"
	wait_until 30 sh -c 'scontrol ping | grep -q UP' ||
	    { slurm_log_tail; fail "slurmctld did not come up"; }
	slurm_bg slurmd slurmd -D -N "$SLURM_NODE" -f "$SLURM_CONF"
	wait_until 60 sh -c "sinfo -h -n $SLURM_NODE -o %T | grep -qx idle" ||
	    { slurm_log_tail; fail "the node did not become idle"; }
}

slurm_stop() {
	[ -n "$SLURM_DIR" ] && [ -d "$SLURM_DIR" ] || return 0
	if slurm_pid_alive slurmctld; then
		scancel --full -u "$(id -un)" >/dev/null 2>&1 || true
	fi
	for _d in slurmd slurmctld munged; do
		slurm_pid_alive "$_d" || continue
		_p=$(cat "$SLURM_DIR/pids/$_d")
		kill -TERM "$_p" 2>/dev/null || true
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 100 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -KILL "$_p" 2>/dev/null || true
	done
	for _p in $(cat "$SLURM_DIR/ports" 2>/dev/null); do
		rmdir "/tmp/futured-slurm-port.$_p" 2>/dev/null || true
	done
	rm -rf "$SLURM_DIR"
	SLURM_DIR=
}

slurm_cleanup() {
	_rc=$?
	if [ "$_rc" -ne 0 ] && [ -n "$SLURM_DIR" ] && [ -d "$SLURM_DIR" ]; then
		slurm_log_tail
	fi
	slurm_stop
	# cleanup reads the test's status from $?; set -e would end here.
	set +e
	slurm_return "$_rc"
	cleanup
}

slurm_return() {
	return "$1"
}
trap slurm_cleanup EXIT
