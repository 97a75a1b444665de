# Hand-rolled protobuf for the hostile-input tests: just enough of
# proto/futured.proto to build a few Requests and read Responses, so the
# tests need no protobuf package.  Field numbers are the .proto's.

import socket
import struct
import time


def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, value):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(value)
    return key + varint(len(value)) + value


def request(rid, body_field, body=b""):
    return field(1, 0, rid) + field(body_field, 2, body)


def ping(rid=1):
    return request(rid, 19)


def submit_echo(rid, payload):
    spec = field(1, 2, b"echo") + field(3, 2, payload)
    return request(rid, 11, field(1, 2, spec))


def result(rid, job):
    return request(rid, 14, field(1, 0, job))


def frame(msg):
    return struct.pack(">I", len(msg)) + msg


def fields(buf):
    """(number, value) pairs of one message; value is int or bytes."""
    i, out = 0, []
    while i < len(buf):
        key, i = _varint_at(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint_at(buf, i)
        elif wire == 2:
            n, i = _varint_at(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((num, v))
    return out


def _varint_at(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def error_of(resp):
    """(code, message) of an error Response, else None."""
    for num, v in fields(resp):
        if num == 10:
            d = dict(fields(v))
            return d.get(1), d.get(2, b"").decode()
    return None


def connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    return s


def read_frame(s):
    hdr = _read_n(s, 4)
    if hdr is None:
        return None
    n = struct.unpack(">I", hdr)[0]
    return _read_n(s, n)


def _read_n(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_to_eof(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def ping_latency(path):
    t0 = time.monotonic()
    s = connect(path)
    s.sendall(frame(ping(7)))
    resp = read_frame(s)
    s.close()
    assert resp is not None and error_of(resp) is None, resp
    return time.monotonic() - t0
