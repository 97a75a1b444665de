# Proves that the daemon's limits are the limits: libfutured learns
# --max-frame from the Hello answer and refuses a bigger request itself,
# with FUT_ETOOBIG naming the limit, instead of sending it (the daemon
# would close the connection); the connection serves on.  And a daemon
# that takes bigger frames than the 16 MiB default gets them.

. "$TESTLIB"
python_env || exit 77

start_daemon --max-frame 64K
pyrun - "$SOCK" <<'PY' || fail "a payload over --max-frame 64K"
import sys, futured
c = futured.Client(sys.argv[1])
# A round trip first: the Hello answer, and its limits, are in.
assert c.submit("echo", data=b"small").result(10) == b"small"
try:
    c.submit("echo", data=b"x" * 100000)
except futured.Error as e:
    assert e.code == futured._lib.FUT_ETOOBIG, e.code
    assert "65536" in str(e), str(e)
else:
    raise AssertionError("a 100000-byte payload was sent")
assert c.submit("echo", data=b"again").result(10) == b"again", "served on"
PY
stop_daemon
pass "over the daemon's --max-frame: refused locally, naming it"

start_daemon --max-frame 20M --max-output 20000000
pyrun - "$SOCK" <<'PY' || fail "a 17 MB payload under --max-frame 20M"
import sys, futured
c = futured.Client(sys.argv[1])
assert c.submit("echo", data=b"small").result(10) == b"small"
big = b"y" * (17 * 1000 * 1000)
assert c.submit("echo", data=big).result(60) == big, "echoed whole"
PY
stop_daemon
pass "under a --max-frame over 16M: a 17 MB payload goes, and comes back"
