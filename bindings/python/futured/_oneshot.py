"""One task, then exit: `python3 -m futured.worker MODULE...` with
$FUTURED_ONESHOT set (futured-workers(7), One-shot workers).

The Slurm engine runs a worker handler's job on a node as one run of
the command of the supervised pool that serves it: the Task is in the
file $FUTURED_ONESHOT, and its outcome, one final TaskUpdate, goes to
the file $FUTURED_ONESHOT_RESULT (written under a temporary name, then
renamed).  No connection to the daemon, and no libfutured: the two
messages are read and written here, by hand (the fields of
proto/futured.proto's Task and TaskUpdate), so that a node needs only
Python and the modules it runs.

The task runs as the worker would have run it: a Python call (a
futured.task function) with its result or exception pickled into the
output, or a futured.Worker handler of the modules; current_task() is
a OneShotTask, whose progress goes nowhere.  Cancel and timeout are a
SIGTERM to the process.
"""

import asyncio
import inspect
import os
import struct
import sys
import time

import futured
from . import _task

_KINDS = {1: "async", 2: "blocking", 3: "cpu"}


# The wire ------------------------------------------------------------------

def _varint(buf, i):
    n = shift = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7f) << shift
        if not b & 0x80:
            return n, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf):
    """(number, value) of each field of one message: int or bytes."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated field %d" % num)
            v, i = bytes(buf[i:i + n]), i + n
        elif wire == 1:
            v, i = struct.unpack_from("<Q", buf, i)[0], i + 8
        elif wire == 5:
            v, i = struct.unpack_from("<I", buf, i)[0], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        yield num, v


def _s(b):
    return b.decode("utf-8", "replace")


def decode_task(buf):
    """A dict of the fields of a packed futured.Task."""
    t = {"job_id": None, "attempt": None, "handler": None, "kind": 0,
         "payload": b"", "args": [], "ctx": {}, "deadline_at": None,
         "cwd": None, "owner_uid": None, "parent": None}
    for num, v in _fields(buf):
        if num == 1:
            t["job_id"] = v
        elif num == 2:
            t["attempt"] = v
        elif num == 3:
            t["handler"] = _s(v)
        elif num == 4:
            t["kind"] = v
        elif num == 5:
            t["payload"] = v
        elif num == 6:
            t["args"].append(_s(v))
        elif num == 7:
            kv = dict(_fields(v))
            t["ctx"][_s(kv.get(1, b""))] = _s(kv.get(2, b""))
        elif num == 8:
            t["deadline_at"] = v - (1 << 64) if v >= 1 << 63 else v
        elif num == 9:
            t["cwd"] = _s(v)
        elif num == 10:
            t["owner_uid"] = v
        elif num == 11:
            t["parent"] = v
    if t["job_id"] is None or t["attempt"] is None or t["handler"] is None:
        raise ValueError("not a Task (no job_id, attempt or handler)")
    return t


def _key(num, wire):
    return _enc_varint(num << 3 | wire)


def _enc_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _bytes_field(num, b):
    return _key(num, 2) + _enc_varint(len(b)) + b


def encode_update(job_id, attempt, output=b"", stderr=b"", ok=True,
                  error=None, error_type=None, error_detail=None):
    """A packed final futured.TaskUpdate."""
    out = _key(1, 0) + _enc_varint(job_id) + _key(2, 0) + \
        _enc_varint(attempt)
    if output:
        out += _bytes_field(5, output)
    if stderr:
        out += _bytes_field(6, stderr)
    out += _key(7, 0) + b"\x01" + _key(8, 0) + (b"\x01" if ok else b"\x00")
    for num, s in ((9, error), (10, error_type), (11, error_detail)):
        if s is not None:
            out += _bytes_field(num, s.encode("utf-8", "replace"))
    return out


# The task ------------------------------------------------------------------

class OneShotTask:
    """futured.Task's face for a one-shot run (current_task() inside a
    futured.task function): the same attributes; progress goes nowhere,
    output() and stderr() go to the outcome."""

    def __init__(self, t):
        self.job_id = t["job_id"]
        self.attempt = t["attempt"]
        self.handler = t["handler"]
        self.kind = _KINDS.get(t["kind"], "async")
        self.payload = t["payload"]
        self.args = t["args"]
        self.ctx = t["ctx"]
        ms = t["deadline_at"]
        self.deadline = ms / 1000.0 if ms else None
        self.cwd = t["cwd"]
        self.cancelled = False
        self._out = bytearray()
        self._err = bytearray()

    def __repr__(self):
        return "<futured.Task job %d attempt %d %s (one-shot)>" % (
            self.job_id, self.attempt, self.handler)

    @property
    def remaining(self):
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.time())

    def progress(self, fraction, message=None):
        return True

    def output(self, data):
        self._out += futured._bytes(data)
        return True

    def stderr(self, data):
        self._err += futured._bytes(data)
        return True


def _handlers(mods, cpu):
    """{handler name: (module ref, None) for a module's Python calls, or
    (None, futured.Worker handler)}, as serve_module() registers them."""
    from ._worker import Worker
    hs = {}
    for m in mods:
        if m.startswith("main:"):
            ref = m
        elif _task.is_script(m):
            ref = os.path.abspath(m)
        else:
            ref = m
        hs[_task.handler_name(ref, cpu)] = (ref, None)
        mod = _task.load_module(ref)
        for v in list(vars(mod).values()):
            if isinstance(v, Worker):
                for h in v._handlers.values():
                    hs.setdefault(h.name, (None, h))
    return hs


def _call(task, fn, *args, **kwargs):
    tok = futured._current.set(task)
    try:
        if inspect.iscoroutinefunction(fn):
            async def run():
                futured._current.set(task)
                return await fn(*args, **kwargs)
            return asyncio.run(run())
        return fn(*args, **kwargs)
    finally:
        futured._current.reset(tok)


def _output(value):
    from ._worker import _output as out
    return out(value)


def run(task, mods, cpu):
    """The outcome of task: a packed final TaskUpdate."""
    py = False
    try:
        hs = _handlers(mods, cpu)
        if task.handler not in hs:
            raise LookupError("no handler %s in python3 -m futured.worker "
                              "%s" % (task.handler, " ".join(mods)))
        ref, h = hs[task.handler]
        if ref is not None:
            py = True
            ref, qualname, args, kwargs = _task.decode_call(task.payload,
                                                            load=True)
            fn = _task.resolve(ref, qualname)
            out = _task.encode_result(_call(task, fn, *args, **kwargs))
        else:
            out = _output(_call(task, h.fn, task))
    except BaseException as e:
        etype, msg, tb = _task.describe_exception(e)
        if py:
            task.output(_task.encode_error(e)[0])
        return encode_update(task.job_id, task.attempt, bytes(task._out),
                             bytes(task._err), ok=False, error=msg,
                             error_type=etype, error_detail=tb)
    return encode_update(task.job_id, task.attempt, bytes(task._out) + out,
                         bytes(task._err))


def main(mods, cpu):
    """Run the one Task of $FUTURED_ONESHOT; the exit status."""
    path = os.environ.get("FUTURED_ONESHOT")
    result = os.environ.get("FUTURED_ONESHOT_RESULT")
    if not path or not result:
        print("futured.worker: FUTURED_ONESHOT and FUTURED_ONESHOT_RESULT "
              "name the Task and where its outcome goes", file=sys.stderr)
        return 2
    try:
        with open(path, "rb") as f:
            task = OneShotTask(decode_task(f.read()))
    except (OSError, ValueError) as e:
        print("futured.worker: %s: %s" % (path, e), file=sys.stderr)
        return 2
    update = run(task, mods, cpu)
    tmp = result + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(update)
        os.replace(tmp, result)
    except OSError as e:
        print("futured.worker: %s: %s" % (result, e), file=sys.stderr)
        return 2
    return 0
