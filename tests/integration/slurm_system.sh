# The Slurm engine of a --system daemon, against a real private Slurm
# (slurmlib.sh): a user's job is submitted with sbatch run as that user
# (the --exec-as trampoline), so that Slurm runs it as them and its
# accounting is theirs; its files are in the user's own directory; and
# the user's cancel is their scancel.

. "$TESTLIB"
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null 2>&1 ||
    ! command -v runuser >/dev/null 2>&1; then
	echo "SKIP (slurm_system): needs root, useradd and runuser" >&2
	exit 77
fi
. "$(dirname "$TESTLIB")/slurmlib.sh"
U1=futslurm1
sys_cleanup() {
	_src=$?
	pkill -KILL -u "$U1" 2>/dev/null || true
	userdel "$U1" 2>/dev/null || true
	set +e
	slurm_return "$_src"
	slurm_cleanup
}
trap sys_cleanup EXIT
id "$U1" >/dev/null 2>&1 || must useradd -M -r -s /bin/sh "$U1"
uid1=$(id -u "$U1")
slurm_start

chmod 755 "$T"
cp "$FUTURECTL" "$T/futurectl"
chmod 755 "$T/futurectl"
SOCK=$T/sys/f.sock
mkdir -p "$T/shared"
start_daemon --system --slurm-dir "$T/shared" --slurm-interval 300ms
as() {
	_u=$1
	shift
	(cd / && runuser -u "$_u" -- "$T/futurectl" -s "$SOCK" "$@")
}

id=$(as "$U1" submit --engine slurm exec -- sh -c 'id -u; pwd')
as "$U1" wait -t 60s "$id" >/dev/null || fail "the user's Slurm job failed"
out=$(as "$U1" result "$id")
ck_eq "$(echo "$out" | head -n 1)" "$uid1" "the Slurm job runs as the user"
ck_eq "$(stat -c %U "$T/shared/uid-$uid1")" "$U1" "the user's directory"
pass "--system: sbatch as the user, the job runs as them"

id=$(as "$U1" submit --engine slurm exec -- sleep 300)
wait_until 30 sh -c "[ \"\$(squeue -h -o %T -n futured-$id)\" = RUNNING ]" ||
    fail "the user's job never ran"
ck_eq "$(squeue -h -o %u -n "futured-$id")" "$U1" "Slurm's owner of the job"
as "$U1" cancel "$id" >/dev/null || fail "cancel"
wait_until 20 sh -c "[ -z \"\$(squeue -h -o %T -n futured-$id | grep -v -e COMPLETING -e CANCELLED)\" ]" ||
    fail "the user's Slurm job survived its cancel"
pass "--system: the user's cancel is their scancel"
