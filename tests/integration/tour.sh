# Proves that the README's tour of the CLI works as written, for an
# ordinary user, on an installed tree: `make install DESTDIR=...` of this
# build, then every `$ command` of the README's "Tour of the CLI" run in
# order, in one shell, by a user who is not root (nobody, when the tests
# run as root), with only the installed bin directory on PATH and the
# user's own XDG_RUNTIME_DIR: no -s, no FUTURED_SOCKET.  Where the README
# shows a command's output, the output must be exactly that.  The README
# is the spec: a tour that drifts from the program fails here.

. "$TESTLIB"
: "${abs_top_builddir:?}" "${abs_top_srcdir:?}" "${FUTURED_LIBDIR:?}" \
    "${FUTURED_BINDIR:?}"

INST=$T/inst
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -C "$abs_top_builddir" install DESTDIR="$INST" >"$T/install.log" 2>&1 || {
	tail -n 30 "$T/install.log" >&2
	fail "make install DESTDIR=$INST"
}
for p in futured futurectl; do
	[ -x "$INST$FUTURED_BINDIR/$p" ] || fail "$p not installed in bin"
done
pass "futured and futurectl installed in $FUTURED_BINDIR"

# The user's side of the tour: an empty home and runtime directory.
U=$T/tour
mkdir -p "$U/home" "$U/run"
chmod 700 "$U/run"
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null || { echo "skip: no setpriv"; exit 77; }
	chmod 711 "$T"
	chmod -R a+rX "$INST"
	chmod 755 "$U"
	chown -R 65534:65534 "$U/home" "$U/run"
	AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
	AS_USER=
fi

# The tour, as a script: "$ cmd" lines run; the lines under one are
# what it must print.  Each command's output goes to its own file.
awk -v out="$U/home" '
	/^## Tour of the CLI/ { tour = 1; next }
	tour && /^## / { exit }
	!tour { next }
	/^```/ { block = !block; next }
	!block { next }
	/^\$ / {
		n++
		cmd = substr($0, 3)
		printf "echo %s >%s/cmd.%d\n", q(cmd), out, n
		printf "{ %s\n} >%s/out.%d 2>>%s/stderr || :\n", cmd, out, n,
		    out
		printf ": >%s/want.%d\n", out, n
		next
	}
	n { printf "echo %s >>%s/want.%d\n", q($0), out, n }
	function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
' "$abs_top_srcdir/README.md" >"$U/home/tour.sh"
ncmd=$(grep -c '^{ ' "$U/home/tour.sh" || true)
[ "$ncmd" -ge 10 ] || fail "only $ncmd commands found in the README's tour"
chmod 644 "$U/home/tour.sh"

TOUR_TOKEN=tour$TOKEN
# shellcheck disable=SC2086
env -i HOME="$U/home" XDG_RUNTIME_DIR="$U/run" USER=tour LANG=C.UTF-8 \
    PATH="$INST$FUTURED_BINDIR:/usr/bin:/bin" \
    LD_LIBRARY_PATH="$INST$FUTURED_LIBDIR" TOUR_TOKEN="$TOUR_TOKEN" \
    $AS_USER sh -c 'cd "$HOME" && . ./tour.sh' && rc=0 || rc=$?

# End the daemon the tour started: it is found by its environment.
for e in /proc/[0-9]*/environ; do
	if grep -qsxz "TOUR_TOKEN=$TOUR_TOKEN" "$e"; then
		p=${e#/proc/}
		kill -TERM "${p%/environ}" 2>/dev/null || true
	fi
done
[ "$rc" -eq 0 ] || fail "the tour's shell failed ($rc)"

i=1
checked=0
while [ "$i" -le "$ncmd" ]; do
	if [ -s "$U/home/want.$i" ]; then
		# A page shows no missing last newline (echo's "hello"
		# arrives as sent): compare whole lines.
		if [ -s "$U/home/out.$i" ] &&
		    [ "$(tail -c 1 "$U/home/out.$i" | od -An -c | tr -d ' ')" != '\n' ]
		then
			echo >>"$U/home/out.$i"
		fi
		if ! cmp -s "$U/home/want.$i" "$U/home/out.$i"; then
			echo "--- \$ $(cat "$U/home/cmd.$i")" >&2
			echo "--- the README shows:" >&2
			cat "$U/home/want.$i" >&2
			echo "--- it printed:" >&2
			cat "$U/home/out.$i" >&2
			echo "--- the tour's stderr:" >&2
			cat "$U/home/stderr" >&2
			fail "the tour's command $i differs from the README"
		fi
		checked=$((checked + 1))
	fi
	i=$((i + 1))
done
[ "$checked" -ge 4 ] || fail "only $checked outputs checked"
pass "the README's tour: $ncmd commands as $(if [ -n "$AS_USER" ]; then echo nobody; else id -un; fi), $checked outputs as shown"
