"""PoolRequest against a running daemon, from proto/futured.proto alone
(Google's protobuf, as tests/conformance/conformance.py): what
supervise.sh cannot ask with futurectl.

Usage: supervise.py SOCKET CASE [ARG...]
  invalid            bad PoolRequests are refused, each naming the problem
  dies DIR           a pool whose process dies before registering: the
                     request gets ERR_INTERNAL with the exit status and the
                     stderr tail
  vanish ARGV...     ask for a pool and close the connection at once
  ask ARGV...        ask for a pool (with this PYTHONPATH, if set); print
                     "name created handler,..." of the reply
  many N PREFIX      ask for N pools of sh sleepers (never registering)
                     on one connection, and close it after a second:
                     fails if one is refused
  env FILE           ask for a pool of one process that writes its
                     environment to FILE and stays, with FUTURED_*
                     variables set; print the pool's name once FILE is
                     written
"""

import os
import sys

sys.dont_write_bytecode = True
import futured_pb2 as pb
import pbconn

SOCK = sys.argv[1]


class Conn(pbconn.Conn):
    def __init__(self):
        super().__init__(SOCK, client="supervise.py", timeout=30)


def error(r, code, words):
    assert r.WhichOneof("body") == "error", "expected an error: %s" % r
    assert r.error.code == code, "code %d, expected %d: %s" % (
        r.error.code, code, r.error.message)
    for w in words:
        assert w in r.error.message, "%r not in %r" % (w, r.error.message)
    return r.error.message


def main():
    case = sys.argv[2]
    c = Conn()
    if case == "invalid":
        bad = [
            (pb.PoolRequest(), ["argv is empty"]),
            (pb.PoolRequest(argv=[""]), ["argv is empty"]),
            (pb.PoolRequest(argv=["sh"], name="a/b"), ["bad pool name"]),
            (pb.PoolRequest(argv=["sh"], size=100000), ["size 100000"]),
            (pb.PoolRequest(argv=["sh"], cwd="tmp"), ["not absolute"]),
            (pb.PoolRequest(argv=["sh"], kinds=[pb.KIND_DEFAULT]),
             ["bad kind"]),
            (pb.PoolRequest(argv=["sh"], env=[pb.KeyValue(key="A=B",
                                                          value="x")]),
             ["bad environment name"]),
            (pb.PoolRequest(argv=["x" * 600000, "y" * 600000]),
             ["bytes (at most"]),
            (pb.PoolRequest(argv=["no-such-program-futured"]),
             ["not found in PATH"]),
        ]
        for req, words in bad:
            error(c.call("pool", req), pb.ERR_INVALID, words)
        # Served still.
        r = c.call("ping", pb.PingRequest())
        assert r.WhichOneof("body") == "ping", r
    elif case == "dies":
        req = pb.PoolRequest(argv=["sh", "-c", "echo no luck >&2; exit 3"],
                             size=2, cwd=sys.argv[3])
        m = error(c.call("pool", req), pb.ERR_INTERNAL,
                  ["exited with status 3 before registering", "no luck"])
        print(m)
        # Asked again, it is tried again (and fails the same way).
        error(c.call("pool", req), pb.ERR_INTERNAL, ["status 3"])
        # Not even spawned (not executable): answered, not left waiting.
        error(c.call("pool", pb.PoolRequest(argv=["/etc/passwd"])),
              pb.ERR_INTERNAL, ["/etc/passwd", "Permission denied"])
        # The same name with another command: refused.
        r = c.call("pool", pb.PoolRequest(argv=["sh", "-c", "exit 4"],
                                          name=m.split()[1].rstrip(":")))
        error(r, pb.ERR_INVALID, ["exists with another command"])
    elif case == "vanish":
        c.send("pool", pb.PoolRequest(argv=sys.argv[3:], size=1))
        c.s.close()
    elif case == "ask":
        req = pb.PoolRequest(argv=sys.argv[3:], size=1)
        if "PYTHONPATH" in os.environ:
            req.env.add(key="PYTHONPATH", value=os.environ["PYTHONPATH"])
        r = c.call("pool", req)
        assert r.WhichOneof("body") == "pool", r
        print(r.pool.name, r.pool.created,
              ",".join(sorted(h.name for h in r.pool.handlers)))
    elif case == "many":
        n, prefix = int(sys.argv[3]), sys.argv[4]
        for i in range(n):
            c.send("pool", pb.PoolRequest(
                argv=["sh", "-c", "sleep 1000; : %s%d" % (prefix, i)],
                size=1))
        # Refusals come at once; the others wait for a registration.
        r = c.frame(1)
        if r is not None:
            raise SystemExit("answered: %s" % r)
    elif case == "env":
        out = sys.argv[3]
        env = {"PATH": os.environ["PATH"], "FUTURED_LIBRARY": "/lib/x.so",
               "FUTURED_APP_SETTING": "kept", "FUTURED_POOL": "other",
               "FUTURED_SOCKET": "/nowhere", "FUTURED_JOB_ID": "42",
               "FUTURED_PROGRESS_FD": "9", "FUTURED_CTX_user": "alice",
               "PLAIN": "yes"}
        req = pb.PoolRequest(argv=["sh", "-c", "env >%s.tmp; mv %s.tmp %s; "
                                   "exec sleep 1000" % (out, out, out)],
                             size=1)
        for k, v in env.items():
            req.env.add(key=k, value=v)
        c.send("pool", req)
        # It never registers: the answer waits; the file tells.
        import time
        for _ in range(600):
            if os.path.exists(out):
                break
            time.sleep(0.05)
        else:
            raise SystemExit("the pool's process wrote no environment")
    else:
        raise SystemExit("unknown case " + case)


main()
