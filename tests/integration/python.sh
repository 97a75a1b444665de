# Runs the Python binding's tests (tests/python/test_*.py, unittest) with
# the python3 that configure found, against a real daemon and the
# uninstalled libfutured of this build: PYTHONPATH points at the source
# tree's bindings/python and FUTURED_LIBRARY at .libs/libfutured.so.0.
# In a sanitizer build python3 preloads the sanitizer's runtime
# (python_env in lib.sh), so a bad pointer passed from Python fails here.

. "$TESTLIB"
python_env || exit 77

# A short lease: a cpu call that runs longer must keep it (test_tasks).
start_daemon -j 8 -P 2 --plugin "$PLUGINDIR/testplugin.so" \
    --output-dir "$T/logs" --worker-lease 3s
pyrun -m unittest discover -v -s "$abs_top_srcdir/tests/python" \
    -p 'test_*.py' || fail "python tests"
pass "python tests"
stop_daemon
