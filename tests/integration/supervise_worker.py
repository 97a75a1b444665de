"""A supervised worker for tests/integration/supervise.sh, written from
proto/futured.proto alone (Google's protobuf): it registers for the pool
named by $FUTURED_POOL on $FUTURED_SOCKET, serving two cpu handlers:

  sup.echo    succeeds with "PID:PAYLOAD"
  sup.spin    writes its pid to the file named by its first argument and
              spins until it is stopped (a cancel is SIGTERM to its group)

Usage: supervise_worker.py [PREFIX]   (handler names PREFIX.echo, .spin)
"""

import os
import socket
import struct
import sys
import time

import futured_pb2 as pb

PREFIX = sys.argv[1] if len(sys.argv) > 1 else "sup"


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.nextid = 1

    def send(self, body, msg):
        rid = self.nextid
        self.nextid += 1
        req = pb.Request(id=rid)
        getattr(req, body).CopyFrom(msg)
        data = req.SerializeToString()
        self.s.sendall(struct.pack(">I", len(data)) + data)
        return rid

    def read(self):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    r = pb.Response()
                    r.ParseFromString(self.buf[4:4 + n])
                    self.buf = self.buf[4 + n:]
                    return r
            chunk = self.s.recv(65536)
            if not chunk:
                sys.exit(0)
            self.buf += chunk

    def answer(self, rid):
        while True:
            r = self.read()
            if r.id == rid:
                return r


def main():
    c = Conn(os.environ["FUTURED_SOCKET"])
    r = c.answer(c.send("hello", pb.Hello(version=pb.PROTOCOL_VERSION,
                                          client="supervise_worker.py")))
    assert r.WhichOneof("body") == "hello", r
    reg = pb.WorkerRegister(concurrency=1, pool=os.environ["FUTURED_POOL"],
                            name="supervise_worker.py")
    for h in ("echo", "spin"):
        reg.handlers.add(name=PREFIX + "." + h, kinds=[pb.KIND_CPU])
    r = c.answer(c.send("worker_register", reg))
    if r.WhichOneof("body") != "worker_register":
        sys.stderr.write("register refused: %s\n" % r)
        sys.exit(2)
    sys.stderr.write("registered %d\n" % os.getpid())
    while True:
        r = c.read()
        if r.id != 0 or r.WhichOneof("body") != "task":
            continue
        t = r.task
        if t.handler.endswith(".spin"):
            with open(t.args[0], "w") as f:
                f.write("%d\n" % os.getpid())
            while True:		# a cpu function nobody can interrupt
                time.sleep(0.05)
                c.send("ping", pb.PingRequest())
        out = ("%d:" % os.getpid()).encode() + t.payload
        c.send("task_update", pb.TaskUpdate(job_id=t.job_id,
                                            attempt=t.attempt, done=True,
                                            ok=True, output=out))


main()
