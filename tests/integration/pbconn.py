"""One connection to futured for the Python test clients written from
proto/futured.proto alone (Google's protobuf, nothing of futured's):
tests/integration/supervise.py, supervise_worker.py, workers.py and
tests/conformance/conformance.py.  Frames out (a uint32 length in
network byte order, then the packed Request), Responses in, answers
matched by id; what is read while looking for one is kept for later.
"""

import select
import socket
import struct
import time

import futured_pb2 as pb


class Closed(EOFError):
    """The daemon closed the connection."""


class Conn:
    """path: the daemon's socket; client: the name said in a Hello
    (None: no Hello); timeout: the socket's own (None: blocking); wait:
    how many seconds read, answer and push wait by default (None: for
    ever)."""

    def __init__(self, path, client=None, timeout=None, wait=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        if timeout is not None:
            self.s.settimeout(timeout)
        self.wait = wait
        self.buf = b""
        self.kept = []		# responses read while looking for others
        self.nextid = 1
        self.hello = None
        if client is not None:
            r = self.call("hello", pb.Hello(version=pb.PROTOCOL_VERSION,
                                            client=client))
            if r.WhichOneof("body") != "hello":
                raise AssertionError("Hello answered: %s" % r)
            self.hello = r.hello

    def close(self):
        self.s.close()

    def raw(self, data):
        self.s.sendall(data)

    def pack(self, body, msg, rid=None):
        if rid is None:
            rid = self.nextid
            self.nextid += 1
        req = pb.Request(id=rid)
        getattr(req, body).CopyFrom(msg)
        data = req.SerializeToString()
        return rid, struct.pack(">I", len(data)) + data

    def send(self, body, msg, rid=None):
        rid, data = self.pack(body, msg, rid)
        self.raw(data)
        return rid

    def frame(self, timeout=None):
        """One Response, or None after timeout seconds (None: no limit);
        Closed at end of file."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    r = pb.Response()
                    r.ParseFromString(self.buf[4:4 + n])
                    self.buf = self.buf[4 + n:]
                    return r
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if not select.select([self.s], [], [], left)[0]:
                    return None
            try:
                d = self.s.recv(65536)
            except ConnectionResetError:
                d = b""
            if not d:
                raise Closed("daemon closed the connection")
            self.buf += d

    def read(self, timeout=None):
        """The next Response; AssertionError after timeout seconds
        (None: self.wait); Closed at end of file."""
        if timeout is None:
            timeout = self.wait
        r = self.frame(timeout)
        if r is None:
            raise AssertionError("no answer within %.0f s" % timeout)
        return r

    def _next(self, match, timeout, what):
        for i, r in enumerate(self.kept):
            if match(r):
                return self.kept.pop(i)
        if timeout is None:
            timeout = self.wait
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s within %.0f s" % (what,
                                                               timeout))
            r = self.frame(left)
            if r is None:
                continue
            if match(r):
                return r
            self.kept.append(r)

    def answer(self, rid, timeout=None):
        """The answer to rid; pushes read meanwhile are kept."""
        return self._next(lambda r: r.id == rid, timeout,
                          "no answer to request %d" % rid)

    def push(self, body, timeout=None):
        """The next unsolicited Response of that body."""
        return self._next(lambda r: r.id == 0 and
                          r.WhichOneof("body") == body, timeout,
                          "no %s pushed" % body)

    def event(self, jobid, timeout=None):
        """The unsolicited JobEvent (id 0) about jobid."""
        return self._next(lambda r: r.id == 0 and
                          r.WhichOneof("body") == "event" and
                          r.event.job.id == jobid, timeout,
                          "no event about job %d" % jobid)

    def call(self, body, msg):
        return self.answer(self.send(body, msg))

    def eof(self, timeout=None):
        """Whether the daemon closes the connection (after what it sent)."""
        try:
            while True:
                self.kept.append(self.read(timeout))
        except Closed:
            return True
