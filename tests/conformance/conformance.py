"""futured protocol conformance: drive a running daemon with a client
written from proto/futured.proto alone, in another protobuf
implementation (Google's, Python), and check every promise the .proto
makes.  Nothing of futured's own code is used: if this passes, a third
party's client built from the .proto works.

Usage: conformance.py SOCKET
The daemon must run with --max-output 4096 and --max-frame 1M (so that
the limits are not the defaults and must come from the Hello).
Exits non-zero, naming the broken promise, on the first failure.
"""

import hashlib
import os
import struct
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "integration"))
import futured_pb2 as pb
import pbconn
from pbconn import Closed

SOCK = sys.argv[1]
TIMEOUT = 20.0		# seconds for anything that is due
failures = 0


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Conn(pbconn.Conn):
    """One connection: frames out, Responses in, answers matched by id."""

    def __init__(self, hello=True):
        super().__init__(SOCK, client="conformance.py" if hello else None,
                         wait=TIMEOUT)


def expect(r, body, what):
    got = r.WhichOneof("body")
    if got == "error":
        raise AssertionError("%s: Error %s: %s" % (
            what, pb.ErrorCode.Name(r.error.code), r.error.message))
    check(got == body, "%s: answered %s, not %s" % (what, got, body))
    return getattr(r, body)


def expect_error(r, code, what):
    check(r.WhichOneof("body") == "error", "%s: no Error but %s" % (
        what, r.WhichOneof("body")))
    check(r.error.code == code, "%s: %s (%s), not %s" % (
        what, pb.ErrorCode.Name(r.error.code), r.error.message,
        pb.ErrorCode.Name(code)))
    check(r.error.message != "", "%s: an Error without a message" % what)
    return r.error


def spec(handler, *args, payload=None, **kw):
    s = pb.JobSpec(handler=handler, args=list(args), **kw)
    if payload is not None:
        s.payload = payload
    return s


def submit(c, s, **kw):
    r = c.call("submit", pb.SubmitRequest(spec=s, **kw))
    return expect(r, "submit", "submit %s" % s.handler).id


def wait(c, *ids, **kw):
    r = c.call("wait", pb.WaitRequest(ids=list(ids), **kw))
    return expect(r, "wait", "wait %s" % (ids,))


def case(name):
    def run(fn):
        global failures
        try:
            fn()
            print("ok - %s" % name)
        except Exception as e:		# noqa: BLE001 -- report and go on
            failures += 1
            print("not ok - %s: %s: %s" % (name, type(e).__name__, e))
        return fn
    return run


# Hello ----------------------------------------------------------------

@case("Hello: the version of the .proto, and the daemon's limits")
def _():
    c = Conn()
    h = c.hello
    check(h.version == pb.PROTOCOL_VERSION, "version %d" % h.version)
    check(h.server_version != "", "no server_version")
    check(h.HasField("max_frame") and h.max_frame == 1024 * 1024,
          "max_frame %d, the daemon runs with --max-frame 1M" % h.max_frame)
    check(h.max_output == 4096, "max_output %d" % h.max_output)
    check(h.max_ids == 65536, "max_ids %d" % h.max_ids)
    check(h.max_queued > 0 and h.stderr_tail == 4096,
          "max_queued %d, stderr_tail %d" % (h.max_queued, h.stderr_tail))
    c.close()


@case("Hello of another version: ERR_VERSION with the Hello's id, closed")
def _():
    c = Conn(hello=False)
    rid = c.send("hello", pb.Hello(version=pb.PROTOCOL_VERSION + 99),
                 rid=77)
    e = expect_error(c.answer(rid), pb.ERR_VERSION, "Hello version 100")
    check(str(pb.PROTOCOL_VERSION) in e.message,
          "the message names the version spoken: %s" % e.message)
    check(c.eof(), "the connection is closed")


@case("no Hello: the .proto's version is assumed")
def _():
    c = Conn(hello=False)
    r = expect(c.call("ping", pb.PingRequest()), "ping", "ping")
    check(r.protocol_version == pb.PROTOCOL_VERSION, "protocol_version")
    c.close()


# Each request: a valid and an invalid form ------------------------------

@case("Submit: accepted; unknown handler, bad kind, bad values refused")
def _():
    c = Conn()
    jid = submit(c, spec("echo", payload=b"hi"))
    check(jid > 0, "a job id from 1 up")
    for s, code in (
            (spec("nosuchhandler"), pb.ERR_UNKNOWN_HANDLER),
            (spec("sleep", "1s", kind=pb.KIND_CPU), pb.ERR_BAD_KIND),
            (spec("echo", priority=21), pb.ERR_INVALID),
            (spec("echo", timeout_ms=-1), pb.ERR_INVALID),
            (spec("echo", deadline_ms=-1), pb.ERR_INVALID),
            (spec("echo", ctx=[pb.KeyValue(key="bad-key", value="")]),
             pb.ERR_INVALID),
            (spec("exec", "true", env=[pb.KeyValue(key="A=B", value="")]),
             pb.ERR_INVALID),
            (spec("echo", after=[999999]), pb.ERR_NOT_FOUND),
            (spec("echo", parent=999999), pb.ERR_NOT_FOUND)):
        expect_error(c.call("submit", pb.SubmitRequest(spec=s)), code,
                     "submit %s" % s)
    c.close()


@case("Status: jobs in request order; no ids is ERR_INVALID")
def _():
    c = Conn()
    a = submit(c, spec("echo", payload=b"a"))
    b = submit(c, spec("sleep", "10s"))
    st = expect(c.call("status", pb.StatusRequest(ids=[b, a])), "status",
                "status")
    check([j.id for j in st.jobs] == [b, a], "request order")
    check(st.jobs[0].state in (pb.STATE_QUEUED, pb.STATE_RUNNING),
          "sleep is queued or running")
    check(not st.jobs[1].HasField("output"), "status has no output")
    expect_error(c.call("status", pb.StatusRequest()), pb.ERR_INVALID,
                 "status of nothing")
    c.call("cancel", pb.CancelRequest(ids=[b]))
    c.close()


@case("Wait: due, timed out, with output; ids and group both refused")
def _():
    c = Conn()
    a = submit(c, spec("echo", payload=b"out"))
    w = wait(c, a, with_output=True)
    check(not w.timed_out and w.jobs[0].state == pb.STATE_SUCCEEDED,
          "echo succeeded")
    check(w.jobs[0].output == b"out", "with_output")
    check(w.jobs[0].ended == "completed", "ended: %s" % w.jobs[0].ended)
    s = submit(c, spec("sleep", "10s"))
    w = wait(c, s, timeout_ms=0)
    check(w.timed_out, "timeout_ms 0 is a poll")
    w = wait(c, s, timeout_ms=100)
    check(w.timed_out and w.jobs[0].state == pb.STATE_RUNNING,
          "timed out, still running")
    w = wait(c, s, a, any=True)
    check(w.first == a, "any: the first final")
    expect_error(c.call("wait", pb.WaitRequest(ids=[a], group="g")),
                 pb.ERR_INVALID, "ids and a group")
    c.call("cancel", pb.CancelRequest(ids=[s]))
    c.close()


@case("Result: the output; ERR_NOT_READY for an unfinished job")
def _():
    c = Conn()
    a = submit(c, spec("sha256", payload=b"abc", kind=pb.KIND_BLOCKING))
    wait(c, a)
    r = expect(c.call("result", pb.ResultRequest(id=a)), "result", "result")
    check(r.job.output == (hashlib.sha256(b"abc").hexdigest() + "\n")
          .encode(), "sha256: 64 hex digits and a newline")
    s = submit(c, spec("sleep", "10s"))
    expect_error(c.call("result", pb.ResultRequest(id=s)), pb.ERR_NOT_READY,
                 "result of a running job")
    c.call("cancel", pb.CancelRequest(ids=[s]))
    c.close()


@case("Cancel: took effect, or not for a final job; the grace")
def _():
    c = Conn()
    s = submit(c, spec("sleep", "10s"))
    r = expect(c.call("cancel", pb.CancelRequest(ids=[s])), "cancel",
               "cancel")
    o = r.outcomes[0]
    check(o.id == s and o.took_effect and o.state == pb.STATE_CANCELLED,
          "cancelled: %s" % o)
    check(not o.HasField("error_code"), "no error_code")
    r = expect(c.call("cancel", pb.CancelRequest(ids=[s])), "cancel",
               "cancel again")
    check(not r.outcomes[0].took_effect, "a final job: no effect")
    # A command that ignores SIGTERM: answered after the grace.
    x = submit(c, spec("exec", "sh", "-c", "trap '' TERM; echo up; "
                       "sleep 30"))
    # Watched until it says "up": the trap is set.
    rid, out = c.send("watch", pb.WatchRequest(id=x)), b""
    while b"up" not in out:
        out += expect(c.answer(rid), "watch", "watch").output
    t0 = time.monotonic()
    r = expect(c.call("cancel", pb.CancelRequest(ids=[x], grace_ms=300)),
               "cancel", "cancel with a grace")
    el = time.monotonic() - t0
    check(r.outcomes[0].took_effect and el >= 0.25,
          "answered after the grace (%.2f s)" % el)
    st = expect(c.call("status", pb.StatusRequest(ids=[x])), "status", "")
    check(st.jobs[0].ended == "killed after the grace",
          "ended: %s" % st.jobs[0].ended)
    c.close()


@case("List, Handlers, Stats, Ping, Metrics")
def _():
    c = Conn()
    a = submit(c, spec("echo", payload=b"l", group="listgroup"))
    wait(c, a)
    r = expect(c.call("list", pb.ListRequest(group="listgroup")), "list", "")
    check([j.id for j in r.jobs] == [a], "list by group")
    r = expect(c.call("list", pb.ListRequest(state=pb.STATE_RUNNING,
                                             group="listgroup")), "list", "")
    check(len(r.jobs) == 0, "list by state")
    r = expect(c.call("handlers", pb.HandlersRequest()), "handlers", "")
    names = {h.name: h for h in r.handlers}
    for n in ("exec", "echo", "sleep", "sha256"):
        check(n in names, "handler %s" % n)
    check(list(names["sleep"].kinds) == [pb.KIND_ASYNC], "sleep: async")
    r = expect(c.call("stats", pb.StatsRequest()), "stats", "")
    check(len(r.kinds) == 3 and r.jobs_total >= a, "stats")
    r = expect(c.call("ping", pb.PingRequest()), "ping", "")
    check(r.protocol_version == pb.PROTOCOL_VERSION, "ping's version")
    r = expect(c.call("metrics", pb.MetricsRequest()), "metrics", "")
    check("\n# TYPE futured_jobs_submitted_total counter\n" in r.text and
          'futured_jobs_submitted_total{kind="async",handler="echo"} ' in
          r.text, "metrics text")
    c.close()


@case("Group: created, then configured; an empty name refused")
def _():
    c = Conn()
    r = expect(c.call("group", pb.GroupRequest(name="cg")), "group", "")
    check(r.created and not r.fail_fast and r.parallel == 0, "created")
    r = expect(c.call("group", pb.GroupRequest(name="cg", parallel=2)),
               "group", "")
    check(not r.created and r.parallel == 2 and r.jobs == 0, "configured")
    expect_error(c.call("group", pb.GroupRequest(name="")), pb.ERR_INVALID,
                 "a group without a name")
    c.close()


@case("Subscribe: the reply, then the JobEvent (id 0)")
def _():
    c = Conn()
    a = submit(c, spec("echo", payload=b"sub"))
    wait(c, a)
    r = expect(c.call("subscribe", pb.SubscribeRequest(ids=[a])),
               "subscribe", "")
    check(list(r.ids) == [a], "the ids asked for")
    ev = c.event(a)
    check(ev.event.job.state == pb.STATE_SUCCEEDED and
          ev.event.job.output == b"sub", "a final JobInfo with output")
    expect_error(c.call("subscribe", pb.SubscribeRequest()), pb.ERR_INVALID,
                 "subscribe to nothing")
    c.close()


@case("Watch: events with the request's id, the last one final")
def _():
    c = Conn()
    x = submit(c, spec("exec", "sh", "-c", "echo one; sleep 0.3; echo two"))
    rid = c.send("watch", pb.WatchRequest(id=x))
    out, states = b"", []
    while True:
        r = c.answer(rid)
        ev = expect(r, "watch", "watch")
        check(not ev.job.HasField("output"), "no output in the JobInfo")
        out += ev.output
        states.append(ev.job.state)
        if ev.final:
            break
    check(out == b"one\ntwo\n", "the output, piece by piece: %r" % out)
    check(states[-1] == pb.STATE_SUCCEEDED, "final state")
    c.close()


@case("Logs: the whole log in pieces from offsets; follow waits for bytes")
def _():
    c = Conn()
    n = 3 * 4096	# past the daemon's max_output (conformance.sh)
    x = submit(c, spec("exec", "sh", "-c",
                       "head -c %d /dev/zero | tr '\\0' x; echo e >&2" % n))
    wait(c, x)
    got, off = b"", 0
    while True:
        lg = expect(c.call("logs", pb.LogsRequest(id=x, offset=off,
                                                  max_bytes=5000)),
                    "logs", "logs")
        check(len(lg.data) <= 5000, "at most max_bytes: %d" % len(lg.data))
        check(lg.state == pb.STATE_SUCCEEDED, "the job's state")
        got += lg.data
        off += len(lg.data)
        if lg.eof:
            break
        check(lg.data, "no empty answer before eof")
    check(got == b"x" * n, "the whole log: %d bytes" % len(got))
    lg = expect(c.call("logs", pb.LogsRequest(id=x, stderr=True)), "logs",
                "stderr")
    check(lg.data == b"e\n" and lg.eof, "the stderr log: %r" % lg.data)
    # Follow: the answer waits for the job's next bytes, then its end.
    gate = tempfile.mktemp(prefix="conformance-gate.")
    y = submit(c, spec("exec", "sh", "-c", "echo a; while [ ! -e %s ]; "
                       "do sleep 0.02; done; echo b" % gate))
    first = b""
    while first != b"a\n":
        lg = expect(c.call("logs", pb.LogsRequest(id=y, offset=len(first),
                                                  follow=True)),
                    "logs", "follow")
        first += lg.data
    rid = c.send("logs", pb.LogsRequest(id=y, offset=2, follow=True))
    try:
        c.answer(rid, timeout=0.3)
        check(False, "a follow with nothing new answered at once")
    except AssertionError as e:
        check("no answer" in str(e), str(e))
    open(gate, "w").close()
    try:
        lg = expect(c.answer(rid), "logs", "follow, waiting")
    finally:
        os.unlink(gate)
    check(lg.data == b"b\n", "the next bytes: %r" % lg.data)
    lg = expect(c.call("logs", pb.LogsRequest(id=y, offset=4, follow=True)),
                "logs", "follow at the end")
    check(lg.data == b"" and lg.eof, "eof once the job is final")
    c.close()


@case("Submit with watch: the reply, then every byte, past max_output")
def _():
    c = Conn()
    h = expect(c.call("hello", pb.Hello(version=pb.PROTOCOL_VERSION)),
               "hello", "hello")
    check(h.submit_watch, "HelloReply.submit_watch")
    n = h.max_output + 100000
    rid = c.send("submit", pb.SubmitRequest(
        spec=spec("exec", "sh", "-c",
                  "head -c %d /dev/zero; echo e1 >&2; echo e2 >&2; exit 3"
                  % n), watch=True))
    x = expect(c.answer(rid), "submit", "submit with watch").id
    out = err = dropped = 0
    while True:
        ev = expect(c.answer(rid), "watch", "its watch")
        check(ev.job.id == x, "events of the job submitted")
        out += len(ev.output)
        err += len(ev.stderr)
        dropped += ev.output_dropped + ev.stderr_dropped
        if ev.final:
            break
    check(out == n and dropped == 0,
          "all %d bytes streamed (%d, %d dropped)" % (n, out, dropped))
    check(err == 6, "stderr streamed: %d bytes" % err)
    check(ev.job.exit_status == 3 and ev.job.stderr_tail == b"e1\ne2\n",
          "the final JobInfo")
    check(ev.job.HasField("stderr_truncated") and
          not ev.job.stderr_truncated, "stderr_truncated false")
    r = expect(c.call("result", pb.ResultRequest(id=x)), "result", "")
    check(r.job.output_truncated and r.job.output_size == h.max_output,
          "the daemon keeps max_output bytes")
    # A Watch once it is over: what was not kept is said dropped.
    rid = c.send("watch", pb.WatchRequest(id=x))
    ev = expect(c.answer(rid), "watch", "late watch")
    check(ev.final and len(ev.output) == h.max_output and
          ev.output_dropped == n - h.max_output,
          "late: %d bytes, %d dropped" % (len(ev.output), ev.output_dropped))
    # A refused submit is one Error, no events.
    rid = c.send("submit", pb.SubmitRequest(spec=spec("nosuch"), watch=True))
    expect_error(c.answer(rid), pb.ERR_UNKNOWN_HANDLER, "refused")
    pid = c.send("ping", pb.PingRequest())
    check(c.read().id == pid, "nothing after the Error")
    c.close()


@case("JobInfo: after and input_from; stderr_truncated; not in brief")
def _():
    c = Conn()
    a = submit(c, spec("sleep", "10s"))
    b = submit(c, spec("echo", after=[a], input_from=a))
    st = expect(c.call("status", pb.StatusRequest(ids=[b])), "status", "")
    j = st.jobs[0]
    check(j.state == pb.STATE_WAITING and list(j.after) == [a] and
          j.input_from == a, "after and input_from: %s" % j)
    c.call("cancel", pb.CancelRequest(ids=[a]))
    x = submit(c, spec("exec", "sh", "-c", "head -c 5000 /dev/zero >&2; "
                       "exit 1"), notify=True, brief=True)
    ev = c.event(x).event.job
    check(len(ev.stderr_tail) == 4096 and not ev.HasField("stderr_truncated")
          and len(ev.after) == 0, "brief: the tail, no new fields")
    r = expect(c.call("result", pb.ResultRequest(id=x)), "result", "")
    check(r.job.stderr_truncated, "result: stderr_truncated")
    c.close()


@case("exec without env: only PATH=/usr/local/bin:/usr/bin:/bin")
def _():
    c = Conn()
    x = submit(c, spec("exec", "sh", "-c",
                       "env | grep -v '^FUTURED_' | grep -v '^PWD=' "
                       "| grep -v '^SHLVL=' | grep -v '^_='"))
    w = wait(c, x, with_output=True)
    check(w.jobs[0].output == b"PATH=/usr/local/bin:/usr/bin:/bin\n",
          "environment: %r" % w.jobs[0].output)
    c.close()


@case("output over max_output: kept up to it, flagged truncated")
def _():
    c = Conn()
    a = submit(c, spec("echo", payload=b"x" * 5000))
    w = wait(c, a, with_output=True)
    j = w.jobs[0]
    check(len(j.output) == c.hello.max_output and j.output_truncated and
          j.output_size == c.hello.max_output, "truncated to %d" %
          c.hello.max_output)
    c.close()


# Unknown jobs: one answer, whatever the request --------------------------

@case("an unknown id: ERR_NOT_FOUND listing it, from every request")
def _():
    c = Conn()
    known = submit(c, spec("sleep", "10s"))
    bad = 999999
    for body, msg in (
            ("status", pb.StatusRequest(ids=[known, bad])),
            ("wait", pb.WaitRequest(ids=[known, bad])),
            ("result", pb.ResultRequest(id=bad)),
            ("cancel", pb.CancelRequest(ids=[known, bad])),
            ("watch", pb.WatchRequest(id=bad)),
            ("logs", pb.LogsRequest(id=bad)),
            ("subscribe", pb.SubscribeRequest(ids=[known, bad]))):
        e = expect_error(c.call(body, msg), pb.ERR_NOT_FOUND, body)
        check(list(e.ids) == [bad], "%s: Error.ids %s" % (body, e.ids))
        check(str(bad) in e.message, "%s: the message names it" % body)
    st = expect(c.call("status", pb.StatusRequest(ids=[known])), "status",
                "")
    check(st.jobs[0].state == pb.STATE_RUNNING,
          "the cancel with an unknown id cancelled nothing")
    e = expect_error(c.call("status", pb.StatusRequest(
        ids=[bad, known, bad + 1])), pb.ERR_NOT_FOUND, "two unknown")
    check(list(e.ids) == [bad, bad + 1], "every unknown id, in order")
    c.call("cancel", pb.CancelRequest(ids=[known]))
    c.close()


@case("an unknown or empty group: ERR_NOT_FOUND, or nothing to do")
def _():
    c = Conn()
    for body, msg in (("wait", pb.WaitRequest(group="nosuchgroup")),
                      ("cancel", pb.CancelRequest(group="nosuchgroup"))):
        e = expect_error(c.call(body, msg), pb.ERR_NOT_FOUND, body)
        check("nosuchgroup" in e.message, "the message names the group")
    c.call("group", pb.GroupRequest(name="emptygroup"))
    w = expect(c.call("wait", pb.WaitRequest(group="emptygroup")), "wait",
               "")
    check(len(w.jobs) == 0 and not w.timed_out, "nothing to wait for")
    r = expect(c.call("cancel", pb.CancelRequest(group="emptygroup")),
               "cancel", "")
    check(len(r.outcomes) == 0, "nothing to cancel")
    c.close()


@case("empty Cancel and empty Wait alike: ERR_INVALID")
def _():
    c = Conn()
    expect_error(c.call("wait", pb.WaitRequest()), pb.ERR_INVALID, "wait")
    expect_error(c.call("cancel", pb.CancelRequest()), pb.ERR_INVALID,
                 "cancel")
    c.close()


# The frame and the request envelope -------------------------------------

def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


@case("an unknown request body: ERR_PROTO with its id; the connection lives")
def _():
    c = Conn()
    # Request{id = 42, field 99 = an empty message}: a newer client's.
    msg = b"\x08" + varint(42) + varint(99 << 3 | 2) + b"\x00"
    c.raw(struct.pack(">I", len(msg)) + msg)
    e = expect_error(c.answer(42), pb.ERR_PROTO, "unknown body")
    check("unknown request" in e.message, "says so: %s" % e.message)
    # No body at all.
    msg = b"\x08" + varint(43)
    c.raw(struct.pack(">I", len(msg)) + msg)
    expect_error(c.answer(43), pb.ERR_PROTO, "no body")
    # Unknown fields inside a known body are ignored.
    ping = pb.Request(id=44, ping=pb.PingRequest()).SerializeToString()
    ping += varint(98 << 3 | 0) + varint(5)
    c.raw(struct.pack(">I", len(ping)) + ping)
    expect(c.answer(44), "ping", "ping with an unknown field")
    c.close()


@case("a frame over max_frame: ERR_TOO_BIG with id 0, closed")
def _():
    c = Conn()
    c.raw(struct.pack(">I", c.hello.max_frame + 1))
    r = c.read()
    check(r.id == 0, "id 0")
    expect_error(r, pb.ERR_TOO_BIG, "too big")
    check(str(c.hello.max_frame) in r.error.message, "names the limit")
    check(c.eof(), "closed")


@case("an undecodable frame, or request id 0: ERR_PROTO with id 0, closed")
def _():
    for data in (b"\xff\xff\xff", pb.Request(
            id=0, ping=pb.PingRequest()).SerializeToString()):
        c = Conn()
        c.raw(struct.pack(">I", len(data)) + data)
        r = c.read()
        check(r.id == 0, "id 0")
        expect_error(r, pb.ERR_PROTO, "bad frame")
        check(c.eof(), "closed")


@case("pipelined requests, answered out of order")
def _():
    c = Conn()
    s = submit(c, spec("sleep", "30s"))
    wid, wait_frame = c.pack("wait", pb.WaitRequest(ids=[s]))
    pid, ping_frame = c.pack("ping", pb.PingRequest())
    c.raw(wait_frame + ping_frame)
    first = c.read()
    check(first.id == pid, "the ping overtakes the wait")
    cid = c.send("cancel", pb.CancelRequest(ids=[s]))
    check(c.answer(wid).wait.jobs[0].state == pb.STATE_CANCELLED,
          "then the wait, once the job is cancelled")
    expect(c.answer(cid), "cancel", "cancel")
    c.close()


@case("notify: SubmitReply, then the JobEvent with id 0")
def _():
    c = Conn()
    rid = c.send("submit", pb.SubmitRequest(
        spec=spec("echo", payload=b"pushed"), notify=True, brief=True))
    r = c.read()
    check(r.id == rid, "the reply comes before the event")
    jid = expect(r, "submit", "submit").id
    ev = c.event(jid)
    check(ev.id == 0 and ev.event.job.output == b"pushed" and
          ev.event.job.state == pb.STATE_SUCCEEDED, "the event: %s" % ev)
    check(not ev.event.job.HasField("handler"), "brief")
    c.close()


def until_event(c, jid):
    """Everything read up to jid's JobEvent, and that event."""
    got = []
    while True:
        r = c.read()
        if r.id == 0 and r.WhichOneof("body") == "event" and \
                r.event.job.id == jid:
            return got, r
        got.append(r)


def news_of(rs, jid):
    """The news of jid in rs: JobInfos, or STATE_RUNNING for an id in
    JobNews.running."""
    out = []
    for r in rs:
        if r.WhichOneof("body") != "news":
            continue
        out += [j.state for j in r.news.jobs if j.id == jid]
        out += [pb.STATE_RUNNING for i in r.news.running if i == jid]
    return out


@case("news: JobNews (id 0) of the start, then the JobEvent; none unasked")
def _():
    c = Conn()
    check(c.hello.job_news, "HelloReply.job_news not set")
    rid = c.send("submit", pb.SubmitRequest(
        spec=spec("sleep", "300ms"), notify=True, brief=True, news=True))
    r = c.read()
    check(r.id == rid, "the reply comes before the news")
    jid = expect(r, "submit", "submit").id
    got, ev = until_event(c, jid)
    news = news_of(got, jid)
    check(all(r.id == 0 for r in got), "only pushes: %s" % got)
    check(news == [pb.STATE_RUNNING], "the news of the start: %s" % got)
    check(ev.event.job.state == pb.STATE_SUCCEEDED, "the event: %s" % ev)
    # A job that starts and ends in one turn: its event only.
    jid = submit(c, spec("echo", payload=b"x"), notify=True, news=True)
    got, ev = until_event(c, jid)
    check(news_of(got, jid) == [], "news of an echo: %s" % got)
    # Nothing after the event: a ping is the next answer.
    pid = c.send("ping", pb.PingRequest())
    r = c.read()
    check(r.id == pid, "after the event: %s" % r)
    c.close()
    # A client that does not ask (all before this field) is never told.
    c = Conn()
    jid = submit(c, spec("sleep", "300ms"), notify=True)
    got, ev = until_event(c, jid)
    check(got == [], "unasked: %s" % got)
    pid = c.send("ping", pb.PingRequest())
    r = c.read()
    check(r.id == pid, "after the event: %s" % r)
    c.close()


# Every request gets exactly one answer -----------------------------------

@case("every request, valid or not, gets exactly one answer")
def _():
    c = Conn()
    done = submit(c, spec("echo", payload=b"d"))
    wait(c, done)
    run = submit(c, spec("sleep", "10s"))
    c.call("group", pb.GroupRequest(name="auditempty"))
    reqs = [
        ("hello", pb.Hello(version=pb.PROTOCOL_VERSION)),
        ("submit", pb.SubmitRequest(spec=spec("echo"))),
        ("submit", pb.SubmitRequest(spec=spec("nosuchhandler"))),
        ("submit", pb.SubmitRequest(spec=spec("echo", after=[999999]))),
        ("status", pb.StatusRequest(ids=[done])),
        ("status", pb.StatusRequest()),
        ("status", pb.StatusRequest(ids=[999999])),
        ("wait", pb.WaitRequest(ids=[done])),
        ("wait", pb.WaitRequest(ids=[run], timeout_ms=50)),
        ("wait", pb.WaitRequest()),
        ("wait", pb.WaitRequest(ids=[999999])),
        ("wait", pb.WaitRequest(group="auditempty")),
        ("wait", pb.WaitRequest(group="auditnosuch")),
        ("wait", pb.WaitRequest(group="auditnosuch", timeout_ms=50)),
        ("wait", pb.WaitRequest(ids=[done], group="auditempty")),
        ("result", pb.ResultRequest(id=done)),
        ("result", pb.ResultRequest(id=run)),
        ("result", pb.ResultRequest(id=999999)),
        ("cancel", pb.CancelRequest(ids=[done])),
        ("cancel", pb.CancelRequest()),
        ("cancel", pb.CancelRequest(ids=[999999])),
        ("cancel", pb.CancelRequest(group="auditempty")),
        ("cancel", pb.CancelRequest(group="auditnosuch")),
        ("list", pb.ListRequest()),
        ("list", pb.ListRequest(group="auditnosuch")),
        ("handlers", pb.HandlersRequest()),
        ("stats", pb.StatsRequest()),
        ("metrics", pb.MetricsRequest()),
        ("ping", pb.PingRequest()),
        ("subscribe", pb.SubscribeRequest(ids=[done])),
        ("subscribe", pb.SubscribeRequest()),
        ("subscribe", pb.SubscribeRequest(ids=[999999])),
        ("group", pb.GroupRequest(name="auditgroup")),
        ("group", pb.GroupRequest(name="")),
        ("watch", pb.WatchRequest(id=done)),
        ("watch", pb.WatchRequest(id=999999)),
    ]
    batch, ids = b"", {}
    for body, msg in reqs:
        rid, data = c.pack(body, msg)
        batch += data
        ids[rid] = body
    c.raw(batch)
    answers = {}
    deadline = time.monotonic() + TIMEOUT
    while len(answers) < len(ids):
        left = deadline - time.monotonic()
        check(left > 0, "unanswered: %s" % sorted(
            "%d %s" % (i, b) for i, b in ids.items() if i not in answers))
        r = c.read(left)
        if r.id == 0:
            continue		# the subscription's event
        check(r.id in ids, "an answer to no request: %s" % r)
        if r.WhichOneof("body") == "watch" and not r.watch.final:
            continue
        check(r.id not in answers, "request %d (%s) answered twice" % (
            r.id, ids[r.id]))
        answers[r.id] = r
    # Nothing more comes for them: a ping is the next answer.
    pid = c.send("ping", pb.PingRequest())
    while True:
        r = c.read()
        if r.id == pid:
            break
        check(r.id == 0, "a late second answer: %s" % r)
    c.call("cancel", pb.CancelRequest(ids=[run]))
    c.close()


if failures:
    print("%d case(s) failed" % failures)
    sys.exit(1)
