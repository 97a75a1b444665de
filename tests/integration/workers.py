"""A worker and a protocol probe for tests/integration/workers.sh, written
from proto/futured.proto alone (Google's protobuf, nothing of futured's),
as a third party's worker would be (futured-workers(7)).

  workers.py serve SOCK LOG [--handler NAME:KIND,KIND] [--concurrency N]
                            [--name NAME] [--die-on-task]
      Register and serve.  A task's first argument says what to do:
        echo TEXT   succeed with TEXT as the output
        fail        fail: ValueError "bad n", a traceback as the detail
        hold        keep it (pinging) until a TaskCancel comes
        sleep MS    succeed with "slept" after MS ms
        progress    progress, an output chunk and stderr, then succeed
        silent      say nothing more at all (the lease runs out)
      Appends one line per event to LOG: "registered ID", "task ID
      ATTEMPT ARGS", "cancel ID ATTEMPT REASON", "refused ID CODE".
      --die-on-task: exit at the first task, holding it.
      SOCK "-": $FUTURED_SOCKET; "%p" in LOG: the pid.  Under a
      supervised pool ($FUTURED_POOL set) it registers as that pool's.
  workers.py probe SOCK CASE
      One protocol case against the daemon; exits 0 when the daemon
      answered as the .proto says, else non-zero naming what broke.
"""

import os
import struct
import sys
import time

sys.dont_write_bytecode = True
import futured_pb2 as pb
import pbconn
from pbconn import Closed

KINDS = {"async": pb.KIND_ASYNC, "blocking": pb.KIND_BLOCKING,
         "cpu": pb.KIND_CPU}


class Conn(pbconn.Conn):
    def __init__(self, sock):
        super().__init__(sock, client="workers.py", wait=20)


def register(c, handlers, concurrency=1, name=None, pool=None):
    reg = pb.WorkerRegister(concurrency=concurrency)
    if name:
        reg.name = name
    if pool:
        reg.pool = pool
    for hname, kinds in handlers:
        h = reg.handlers.add()
        h.name = hname
        h.kinds.extend(kinds)
    # A pool's warm spare is answered only when it takes a slot.
    return c.answer(c.send("worker_register", reg),
                    timeout=86400 if pool else 20)


def update(c, task, **kw):
    return c.send("task_update", pb.TaskUpdate(job_id=task.job_id,
                                               attempt=task.attempt, **kw))


# serve ----------------------------------------------------------------

def serve(argv):
    sock, log = argv[0], argv[1].replace("%p", str(os.getpid()))
    if sock == "-":
        sock = os.environ["FUTURED_SOCKET"]
    handlers = []
    concurrency = 1
    name = None
    die = False
    i = 2
    while i < len(argv):
        if argv[i] == "--handler":
            hname, _, kinds = argv[i + 1].partition(":")
            handlers.append((hname, [KINDS[k] for k in
                                     (kinds or "async").split(",")]))
            i += 2
        elif argv[i] == "--concurrency":
            concurrency = int(argv[i + 1])
            i += 2
        elif argv[i] == "--name":
            name = argv[i + 1]
            i += 2
        elif argv[i] == "--die-on-task":
            die = True
            i += 1
        elif not argv[i].startswith("--"):
            i += 1		# a tag for the test's pgrep, ignored
        else:
            raise SystemExit("serve: bad argument " + argv[i])

    def say(line):
        with open(log, "a") as f:
            f.write(line + "\n")

    c = Conn(sock)
    r = register(c, handlers or [("wtest", [pb.KIND_ASYNC])], concurrency,
                 name, os.environ.get("FUTURED_POOL"))
    if r.WhichOneof("body") != "worker_register":
        say("refused-register %s" % r.error.message)
        return 1
    lease = r.worker_register.lease_ms / 1000.0
    say("registered %d" % r.worker_register.worker_id)
    held = {}		# job id -> (task, due or None)
    silent = False
    last = time.monotonic()
    while True:
        now = time.monotonic()
        wait = 0.5
        for t, due in held.values():
            if due is not None:
                wait = min(wait, max(0, due - now))
        if held and not silent:
            wait = min(wait, max(0, last + lease / 4 - now))
        try:
            r = c.frame(wait)
        except Closed:
            say("closed")
            return 0
        now = time.monotonic()
        if r is not None:
            body = r.WhichOneof("body")
            if r.id == 0 and body == "task":
                t = r.task
                args = list(t.args)
                say("task %d %d %s" % (t.job_id, t.attempt, " ".join(args)))
                if die:
                    os._exit(3)
                what = args[0] if args else "echo"
                if what == "echo":
                    update(c, t, done=True, ok=True,
                           output=" ".join(args[1:]).encode())
                elif what == "fail":
                    update(c, t, done=True, ok=False, error="bad n",
                           error_type="ValueError",
                           error_detail="Traceback (most recent call last):"
                           "\n  File \"t.py\", line 1\nValueError: bad n\n")
                elif what == "progress":
                    update(c, t, progress=0.5, progress_msg="half")
                    update(c, t, output=b"first ")
                    update(c, t, stderr=b"a warning\n")
                    update(c, t, done=True, ok=True, output=b"second")
                elif what == "sleep":
                    held[t.job_id] = (t, now + int(args[1]) / 1000.0)
                elif what == "silent":
                    silent = True
                    held[t.job_id] = (t, None)
                else:
                    held[t.job_id] = (t, None)
                last = now
            elif r.id == 0 and body == "task_cancel":
                tc = r.task_cancel
                say("cancel %d %d %s" % (tc.job_id, tc.attempt, tc.reason))
                held.pop(tc.job_id, None)
            elif body == "error":
                say("refused %d %s %s" % (r.id, r.error.code,
                                          r.error.message))
        for jid, (t, due) in list(held.items()):
            if due is not None and due <= now:
                del held[jid]
                update(c, t, done=True, ok=True, output=b"slept")
                last = now
        if held and not silent and now - last >= lease / 4:
            c.send("ping", pb.PingRequest())
            last = now


# probe ----------------------------------------------------------------

def submit(c, handler, args=(), kind=pb.KIND_DEFAULT):
    r = c.call("submit", pb.SubmitRequest(spec=pb.JobSpec(
        handler=handler, kind=kind, args=list(args))))
    assert r.WhichOneof("body") == "submit", r
    return r.submit.id


def expect_error(r, code, what):
    if r.WhichOneof("body") != "error" or r.error.code != code:
        raise AssertionError("%s: expected %s, got %s" % (
            what, pb.ErrorCode.Name(code), r))
    return r.error.message


def closed(c, timeout=10):
    """True once the daemon closed c (reading whatever comes first)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r = c.frame(0.2)
            if r is not None:
                c.kept.append(r)
    except Closed:
        return True
    return False


def job_state(c, jid):
    r = c.call("status", pb.StatusRequest(ids=[jid]))
    return r.status.jobs[0]


def wait_job(c, jid):
    r = c.call("wait", pb.WaitRequest(ids=[jid], timeout_ms=20000))
    return r.wait.jobs[0]


def probe(sock, case):
    c = Conn(sock)
    if case == "shadow":
        for n in ("echo", "exec", "sleep"):
            m = expect_error(register(c, [(n, [pb.KIND_ASYNC])]),
                             pb.ERR_INVALID, "shadowing " + n)
            assert n in m, m
    elif case == "names":
        for bad in ("", "a b", "x/y", "é", "a" * 201):
            expect_error(register(c, [(bad, [pb.KIND_ASYNC])]),
                         pb.ERR_INVALID, "name %r" % bad)
        expect_error(register(c, [("ok1", [pb.KIND_ASYNC])], 0),
                     pb.ERR_INVALID, "concurrency 0")
        expect_error(register(c, [("ok1", [])]), pb.ERR_INVALID, "no kinds")
        expect_error(register(c, []), pb.ERR_INVALID, "no handlers")
        expect_error(register(c, [("ok1", [pb.KIND_ASYNC]),
                                  ("ok1", [pb.KIND_ASYNC])]),
                     pb.ERR_INVALID, "a name twice")
        r = register(c, [("a" * 200, [pb.KIND_ASYNC])])
        assert r.WhichOneof("body") == "worker_register", r
        expect_error(register(c, [("ok2", [pb.KIND_ASYNC])]),
                     pb.ERR_INVALID, "registering twice")
        # Another worker may not serve it with other kinds.
        c2 = Conn(sock)
        m = expect_error(register(c2, [("a" * 200, [pb.KIND_CPU])]),
                         pb.ERR_INVALID, "same name, other kinds")
        assert "other kinds" in m, m
        r = register(c2, [("a" * 200, [pb.KIND_ASYNC])])
        assert r.WhichOneof("body") == "worker_register", r
        # An update from a connection that is no worker is refused.
        c3 = Conn(sock)
        expect_error(c3.call("task_update", pb.TaskUpdate(job_id=1,
                                                          attempt=1)),
                     pb.ERR_INVALID, "update from a non-worker")
        assert c3.call("ping", pb.PingRequest()).WhichOneof("body") == "ping"
    elif case == "stale":
        # A cancelled task's late outcome is refused, never applied.
        w = Conn(sock)
        r = register(w, [("wstale", [pb.KIND_ASYNC])])
        assert r.WhichOneof("body") == "worker_register", r
        jid = submit(c, "wstale")
        t = w.push("task").task
        assert t.job_id == jid and t.attempt == 1, t
        c.call("cancel", pb.CancelRequest(ids=[jid]))
        tc = w.push("task_cancel").task_cancel
        assert tc.job_id == jid and tc.reason == "cancelled", tc
        expect_error(w.answer(update(w, t, done=True, ok=True,
                                     output=b"late")),
                     pb.ERR_NOT_FOUND, "update after cancel")
        info = wait_job(c, jid)
        assert info.state == pb.STATE_CANCELLED, info
        # A wrong attempt of a job it holds is stale too.
        jid = submit(c, "wstale")
        t = w.push("task").task
        expect_error(w.answer(w.send("task_update", pb.TaskUpdate(
            job_id=jid, attempt=t.attempt + 1, done=True, ok=True))),
            pb.ERR_NOT_FOUND, "update for another attempt")
        r = w.answer(update(w, t, done=True, ok=True, output=b"on time"))
        assert r.WhichOneof("body") == "task_update", r
        # Answering twice: the second is stale.
        expect_error(w.answer(update(w, t, done=True, ok=True)),
                     pb.ERR_NOT_FOUND, "a second outcome")
        info = wait_job(c, jid)
        assert info.state == pb.STATE_SUCCEEDED, info
        r = c.call("result", pb.ResultRequest(id=jid))
        assert r.result.job.output == b"on time", r
    elif case == "quiet":
        # A quiet update is answered only when refused; a refused one
        # gets its error all the same, and a stale one is never applied.
        w = Conn(sock)
        r = register(w, [("wquiet", [pb.KIND_ASYNC])])
        assert r.WhichOneof("body") == "worker_register", r
        jid = submit(c, "wquiet")
        t = w.push("task").task
        q1 = update(w, t, quiet=True, progress=0.5, output=b"on ")
        q2 = update(w, t, quiet=True, done=True, ok=True, output=b"time")
        # Answers come in order: one to q1 or q2 would precede the ping's.
        assert w.call("ping", pb.PingRequest()).WhichOneof("body") == "ping"
        assert not [k for k in w.kept if k.id in (q1, q2)], w.kept
        assert wait_job(c, jid).state == pb.STATE_SUCCEEDED
        r = c.call("result", pb.ResultRequest(id=jid))
        assert r.result.job.output == b"on time", r
        # A second outcome: refused, with the update's id, not applied.
        q3 = update(w, t, quiet=True, done=True, ok=False, error="twice")
        expect_error(w.answer(q3), pb.ERR_NOT_FOUND, "a quiet second outcome")
        assert job_state(c, jid).state == pb.STATE_SUCCEEDED
        # Late: the cancel settled the job before the update came.  The
        # TaskCancel is on the stream before the refusal.
        jid = submit(c, "wquiet")
        t = w.push("task").task
        r = c.call("cancel", pb.CancelRequest(ids=[jid]))
        assert r.WhichOneof("body") == "cancel", r
        q4 = update(w, t, quiet=True, done=True, ok=True, output=b"late")
        f = w.frame(20)
        assert f is not None and f.WhichOneof("body") == "task_cancel" and \
            f.task_cancel.job_id == jid, f
        f = w.frame(20)
        assert f is not None and f.id == q4, f
        m = expect_error(f, pb.ERR_NOT_FOUND, "a quiet update after cancel")
        assert str(jid) in m, m
        info = wait_job(c, jid)
        assert info.state == pb.STATE_CANCELLED, info
        r = c.call("result", pb.ResultRequest(id=jid))
        assert r.WhichOneof("body") == "result", r
        assert r.result.job.output == b"", r
        # From a connection that is no worker: refused, quiet or not.
        c3 = Conn(sock)
        expect_error(c3.call("task_update", pb.TaskUpdate(
            job_id=1, attempt=1, done=True, ok=True, quiet=True)),
            pb.ERR_INVALID, "a quiet update from a non-worker")
    elif case == "never":
        # An update for a job it was never given: ERR_PROTO, id 0, and
        # the worker is disconnected, its jobs failed "worker lost".
        w = Conn(sock)
        r = register(w, [("wnever", [pb.KIND_ASYNC])])
        assert r.WhichOneof("body") == "worker_register", r
        jid = submit(c, "wnever")
        w.push("task")
        other = submit(c, "echo")
        w.send("task_update", pb.TaskUpdate(job_id=other, attempt=1,
                                            done=True, ok=True))
        e = w.push("error")
        assert e.error.code == pb.ERR_PROTO and str(other) in \
            e.error.message, e
        assert closed(w), "worker not disconnected"
        info = wait_job(c, jid)
        assert info.state == pb.STATE_FAILED, info
        assert info.error.startswith("worker lost: update for job"), info
        wait_job(c, other)
        r = c.call("result", pb.ResultRequest(id=other))
        assert r.result.job.state == pb.STATE_SUCCEEDED, r
    elif case == "task":
        # A Task carries the job as submitted, and when it times out.
        w = Conn(sock)
        r = register(w, [("wtask", [pb.KIND_BLOCKING, pb.KIND_CPU])])
        assert r.WhichOneof("body") == "worker_register", r
        spec = pb.JobSpec(handler="wtask", payload=b"\x00in", args=["a", "b"],
                          timeout_ms=60000, cwd="/tmp")
        spec.ctx.add(key="k", value="v")
        t0 = int(time.time() * 1000)
        r = c.call("submit", pb.SubmitRequest(spec=spec))
        jid = r.submit.id
        t = w.push("task").task
        assert t.job_id == jid and t.attempt == 1, t
        assert t.handler == "wtask" and t.kind == pb.KIND_BLOCKING, t
        assert t.payload == b"\x00in" and list(t.args) == ["a", "b"], t
        assert [(kv.key, kv.value) for kv in t.ctx] == [("k", "v")], t
        assert t.cwd == "/tmp" and t.owner_uid == os.getuid(), t
        assert t0 + 59000 <= t.deadline_at <= t0 + 61000 + 20000, t
        assert not t.HasField("parent"), t
        info = job_state(c, jid)
        assert info.state == pb.STATE_RUNNING, info
        r = w.answer(update(w, t, progress=0.25, progress_msg="quarter"))
        assert r.WhichOneof("body") == "task_update", r
        info = job_state(c, jid)
        assert abs(info.progress - 0.25) < 1e-9, info
        assert info.progress_msg == "quarter", info
        r = w.answer(update(w, t, done=True, ok=True))
        assert r.WhichOneof("body") == "task_update", r
        assert wait_job(c, jid).state == pb.STATE_SUCCEEDED
        # A kind it does not serve is refused at submit.
        r = c.call("submit", pb.SubmitRequest(spec=pb.JobSpec(
            handler="wtask", kind=pb.KIND_ASYNC)))
        expect_error(r, pb.ERR_BAD_KIND, "an unserved kind")
    elif case == "garbage":
        w = Conn(sock)
        r = register(w, [("wgarbage", [pb.KIND_ASYNC])])
        assert r.WhichOneof("body") == "worker_register", r
        jid = submit(c, "wgarbage")
        w.push("task")
        w.s.sendall(struct.pack(">I", 5) + b"\xff\xff\xff\xff\xff")
        e = w.push("error")
        assert e.error.code == pb.ERR_PROTO, e
        assert closed(w), "worker not disconnected"
        info = wait_job(c, jid)
        assert info.state == pb.STATE_FAILED, info
        assert info.error == "worker lost: undecodable frame", info
        assert c.call("ping", pb.PingRequest()).WhichOneof("body") == "ping"
    else:
        raise SystemExit("probe: no case " + case)
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "serve":
        sys.exit(serve(sys.argv[2:]))
    if len(sys.argv) == 4 and sys.argv[1] == "probe":
        try:
            sys.exit(probe(sys.argv[2], sys.argv[3]))
        except AssertionError as e:
            print("probe %s: %s" % (sys.argv[3], e), file=sys.stderr)
            sys.exit(1)
    raise SystemExit(__doc__)
