"""A supervised worker for tests/integration/supervise.sh, written from
proto/futured.proto alone (Google's protobuf): it registers for the pool
named by $FUTURED_POOL on $FUTURED_SOCKET, serving two cpu handlers:

  sup.echo    succeeds with "PID:PAYLOAD"
  sup.spin    writes its pid to the file named by its first argument and
              spins until it is stopped (a cancel is SIGTERM to its group)

Usage: supervise_worker.py [PREFIX]   (handler names PREFIX.echo, .spin)
"""

import os
import sys
import time

sys.dont_write_bytecode = True
import futured_pb2 as pb
from pbconn import Closed, Conn

PREFIX = sys.argv[1] if len(sys.argv) > 1 else "sup"


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


try:
    main()
except Closed:
    sys.exit(0)		# the daemon closed: nothing more to serve
