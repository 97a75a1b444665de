# Proves that proto/futured.proto is the whole contract: a client
# generated from it by another protobuf implementation (Google's protoc
# and python3-protobuf, nothing of futured's) gets every answer the
# .proto promises: Hello and its limits, a valid and an invalid form of
# each request, one answer for an unknown id whatever the request, an
# unknown request body, frame limits, pipelining and out-of-order
# answers, unsolicited events, whole logs, and exactly one answer for
# every request (tests/conformance/conformance.py has the cases).

. "$TESTLIB"
: "${abs_top_builddir:?}" "${abs_top_srcdir:?}"

PB=$abs_top_builddir/tests/conformance
if [ ! -f "$PB/futured_pb2.py" ]; then
	echo "skip: no protoc at configure time (protobuf-compiler)"
	exit 77
fi
if [ "${PYTHON:-:}" = ":" ] ||
    ! "$PYTHON" -c 'import google.protobuf' 2>/dev/null; then
	echo "skip: ${PYTHON:-python3} has no google.protobuf (python3-protobuf)"
	exit 77
fi

start_daemon --max-output 4096 --max-frame 1M --output-dir "$T/logs"
PYTHONPATH=$PB PYTHONDONTWRITEBYTECODE=1 \
    "$PYTHON" "$abs_top_srcdir/tests/conformance/conformance.py" "$SOCK" ||
    fail "conformance cases failed (above)"
pass "the daemon keeps every promise of proto/futured.proto"
stop_daemon
