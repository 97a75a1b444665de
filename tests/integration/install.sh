# Proves that a third-party program can use an installed libfutured:
# `make install DESTDIR=...` of this build, then examples/threads.c
# compiled with nothing but `pkg-config --cflags --libs futured` (pointed
# into the DESTDIR) and run against a real daemon, using every call of
# the library from several threads (in a --enable-tsan build it is built
# with TSan too, so a race in the library fails it).  Then the installed
# Python package is imported from the DESTDIR and runs a job.

. "$TESTLIB"
: "${abs_top_builddir:?}" "${abs_top_srcdir:?}" "${FUTURED_LIBDIR:?}"
command -v pkg-config >/dev/null || { echo "skip: no pkg-config"; exit 77; }

INST=$T/inst
# A make of its own: not the jobserver of the make running the tests.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -C "$abs_top_builddir" install DESTDIR="$INST" >"$T/install.log" 2>&1 || {
	tail -n 30 "$T/install.log" >&2
	fail "make install DESTDIR=$INST"
}
[ -f "$INST$FUTURED_LIBDIR/pkgconfig/futured.pc" ] ||
    fail "no futured.pc under $INST$FUTURED_LIBDIR/pkgconfig"
pass "make install DESTDIR"
# --prefix is honoured for the units too (not systemd.pc's /lib).
: "${FUTURED_UNITDIR:?}" "${FUTURED_USERUNITDIR:?}" "${FUTURED_PREFIX:?}"
case "$FUTURED_UNITDIR/$FUTURED_USERUNITDIR/" in
"$FUTURED_PREFIX"/*/"$FUTURED_PREFIX"/*) ;;
*)	fail "unit directories $FUTURED_UNITDIR $FUTURED_USERUNITDIR" \
	    "outside the prefix $FUTURED_PREFIX" ;;
esac
[ -f "$INST$FUTURED_UNITDIR/futured.service" ] &&
    [ -f "$INST$FUTURED_USERUNITDIR/futured.socket" ] ||
    fail "units not installed in $FUTURED_UNITDIR and $FUTURED_USERUNITDIR"
pass "units installed under the prefix"

PKG_CONFIG_SYSROOT_DIR=$INST
PKG_CONFIG_PATH=$INST$FUTURED_LIBDIR/pkgconfig
PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH PKG_CONFIG_LIBDIR
flags=$(pkg-config --cflags --libs futured) || fail "pkg-config futured"
ck_match "$flags" "-I$INST" "pkg-config --cflags points into DESTDIR"
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -Wall -Werror ${SAN_FLAGS:-} \
    -o "$T/threads" "$abs_top_srcdir/examples/threads.c" $flags -pthread ||
    fail "cc threads.c \$(pkg-config --cflags --libs futured)"
pass "examples/threads.c builds with pkg-config"

start_daemon -j 8 -P 2
LD_LIBRARY_PATH=$INST$FUTURED_LIBDIR
export LD_LIBRARY_PATH
ck_match "$(ldd "$T/threads" | grep libfutured)" "$INST" \
    "threads runs the installed library"
"$T/threads" >"$T/threads.out" 2>&1 || {
	cat "$T/threads.out" >&2
	fail "examples/threads against the installed library"
}
pass "$(tail -n 1 "$T/threads.out")"

if [ -n "${SAN_FLAGS:-}" ] || [ "${PYTHON:-:}" = ":" ]; then
	echo "skip: the installed Python package (sanitizer build or no python3)"
else
	: "${FUTURED_PYTHONDIR:?}"
	[ -f "$INST$FUTURED_PYTHONDIR/futured/__init__.py" ] ||
	    fail "futured/__init__.py not installed in $FUTURED_PYTHONDIR"
	out=$(cd "$T" && PYTHONPATH=$INST$FUTURED_PYTHONDIR \
	    FUTURED_LIBRARY=$INST$FUTURED_LIBDIR/libfutured.so.0 \
	    "$PYTHON" -c '
import sys, futured
assert futured.__file__.startswith(sys.argv[1]), futured.__file__
print(futured.submit("echo", data=b"installed", kind="cpu").result(10).decode())
' "$INST") || fail "installed Python package"
	ck_eq "$out" installed "installed Python package runs a job"
	pass "installed Python package"
fi
stop_daemon
