# Proves that futurectl is a client of libfutured and nothing more: its
# source includes no protobuf-c header and names no generated type or
# function, its binary calls no protobuf-c function, and it only gets at
# the daemon through fut_* calls.  So the library's public API covers
# everything the command line does, and there is one protocol client.

. "$TESTLIB"
SRC=$(cd "$(dirname "$TESTLIB")/../.." && pwd)

for f in "$SRC/client/futurectl.c" "$SRC/client/json.c" "$SRC/client/json.h"; do
	if grep -nE 'Futured__|futured__|protobuf|pb-c\.h|FUTURED__' "$f"; then
		fail "$(basename "$f") speaks the protocol itself"
	fi
done
pass "futurectl's source names nothing of the protocol"

# Nor does the binary call protobuf-c's packing itself: what it links of
# it comes in with libfutured, and futurectl's own object file has no
# undefined protobuf_c_* or futured__* symbol.
# shellcheck disable=SC2012
obj=$(ls -t "$(dirname "$FUTURECTL")"/client/futurectl.o \
    "$(dirname "$FUTURECTL")"/client/futurectl-futurectl.o 2>/dev/null |
    head -n 1)
if [ -n "$obj" ] && command -v nm >/dev/null 2>&1; then
	if nm -u "$obj" | grep -E 'protobuf_c_|futured__'; then
		fail "futurectl.o calls protobuf-c"
	fi
	nm -u "$obj" | grep -q ' fut_status$' || fail "futurectl.o does not call fut_status"
	pass "futurectl.o calls libfutured, not protobuf-c"
fi

# The frame reader and the hash table are common/'s, not copies.
for f in "$SRC"/client/*.c; do
	if grep -nE 'frame_header_decode|struct hnode \{' "$f"; then
		fail "$(basename "$f") has its own frame reader or hash table"
	fi
done
pass "libfutured uses common/'s frame reader and hash table"
