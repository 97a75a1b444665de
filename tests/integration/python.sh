# Runs the Python binding's tests (tests/python/test_*.py, unittest) with
# the python3 that configure found, against a real daemon and the
# uninstalled libfutured of this build: PYTHONPATH points at the source
# tree's bindings/python and FUTURED_LIBRARY at .libs/libfutured.so.0.
# In a sanitizer build the library needs its runtime loaded first, which
# python3 does not do: the test is skipped there (exit 77), and the plain
# build runs it.

. "$TESTLIB"
: "${PYTHON:?PYTHON must name python3}"
: "${abs_top_builddir:?}" "${abs_top_srcdir:?}"

if [ -n "${SAN_FLAGS:-}" ]; then
	echo "skip: libfutured is built with $SAN_FLAGS"
	exit 77
fi
if [ "$PYTHON" = ":" ] || ! "$PYTHON" -c 'import ctypes' 2>/dev/null; then
	echo "skip: no python3"
	exit 77
fi

FUTURED_LIBRARY=$abs_top_builddir/.libs/libfutured.so.0
PYTHONPATH=$abs_top_srcdir/bindings/python
PYTHONDONTWRITEBYTECODE=1
export FUTURED_LIBRARY PYTHONPATH PYTHONDONTWRITEBYTECODE

start_daemon -j 8 -P 2
"$PYTHON" -m unittest discover -v -s "$abs_top_srcdir/tests/python" \
    -p 'test_*.py' || fail "python tests"
pass "python tests"
stop_daemon
