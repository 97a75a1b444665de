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

# A one-shot (echo) runs there as the user too.
id=$(as "$U1" submit --engine slurm -d one-shot echo)
as "$U1" wait -t 60s "$id" >/dev/null || fail "the user's one-shot failed"
ck_eq "$(as "$U1" result "$id")" one-shot "a user's one-shot on Slurm"
pass "--system: a user's built-in handler's job on Slurm"

# The daemon writes the user's files as root, in the user's directory:
# links the user planted there (job ids are predictable) are not
# followed, nor is a root-owned file overwritten through them.
printf 'intact\n' >"$T/victim"
chmod 644 "$T/victim"
next=$(( id + 1 ))
for n in $next $(( next + 1 )); do
	for sfx in in task sbatch sbatch.err out err; do
		runuser -u "$U1" -- ln -s "$T/victim" \
		    "$T/shared/uid-$uid1/$n.1.$sfx" || fail "ln -s as the user"
	done
done
id=$(as "$U1" submit --engine slurm -d planted exec -- cat)
ck_eq "$id" "$next" "the predicted job id"
as "$U1" wait -t 60s "$id" >/dev/null || fail "the job beside the links failed"
ck_eq "$(as "$U1" result "$id")" planted "output of the job beside the links"
id=$(as "$U1" submit --engine slurm -d planted2 echo)
as "$U1" wait -t 60s "$id" >/dev/null || fail "the one-shot beside the links failed"
ck_eq "$(as "$U1" result "$id")" planted2 "output of the one-shot beside the links"
ck_eq "$(cat "$T/victim")" intact "a root-owned file the user linked to"
pass "--system: no file of the user's directory written through a link"
