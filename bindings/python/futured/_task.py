"""Python functions as futured jobs: @futured.task, and what travels.

A call of a task function is a job of handler "py:KEY" (async and
blocking functions, served by `python3 -m futured.worker MODULE`) or
"py.cpu:KEY" (kind cpu, served one job per process by `python3 -m
futured.worker --cpu MODULE`), where KEY names the function's module:
its import name, or "main.STEM.HASH" for a script run as __main__.  One
handler per module and kind, not one per function, keeps the daemon's
handler table as small as the number of modules in use; the function
travels in the payload.  The job's one argument is the function's
qualified name, so that `futurectl list` says what runs.

The payload is CALL_MAGIC, the length of the head (4 bytes, little
endian), the head: a pickle of (module reference, qualified name), and
a pickle of (args, kwargs).  A caller pickles its function's head once,
and a worker resolves a head it has seen before without unpickling it.
(A payload of CALL_MAGIC_V1 and the two pickles, without the length, is
still served.)  A module reference is an import name, a script's
absolute path (the worker loads it as __mp_main__ and makes it
__main__ too, as multiprocessing's spawn does), or "main:NAME" for a
__main__ run with `python3 -m NAME`.

The job's output ends with a trailer: a 4-byte tag, the length of the
pickle before it (8 bytes, little endian).  TAG_RESULT: a pickle of the
return value.  TAG_ERROR (the job failed): a pickle of a dict with the
exception's qualified type name, message, traceback text, and the
exception itself pickled apart ("exc", None if it does not round-trip),
so that type, message and traceback survive an exception this side
cannot unpickle.  Output the function writes through current_task()
comes before the pickle: futurectl watch shows it; result() skips it.
"""

import asyncio
import atexit
import functools
import hashlib
import importlib
import importlib.util
import inspect
import io
import os
import pickle
import re
import struct
import sys
import threading
import traceback

import futured
from . import _lib

CALL_MAGIC = b"FPYC\x02"
CALL_MAGIC_V1 = b"FPYC\x01"
_HEAD_LEN = struct.Struct("<I")
_LEN_AT = len(CALL_MAGIC)
_HEAD_START = _LEN_AT + _HEAD_LEN.size
TAG_RESULT = b"FPYR"
TAG_ERROR = b"FPYE"
_TRAILER = struct.Struct("<4sQ")
MAIN_ALIAS = "__mp_main__"
_PROTO = pickle.HIGHEST_PROTOCOL

HANDLER_PREFIX = "py:"
CPU_HANDLER_PREFIX = "py.cpu:"
# WorkerHandler.name's limit in proto/futured.proto.
_NAME_MAX = 200


# Naming ------------------------------------------------------------------

def module_ref(modname):
    """The reference a worker loads module modname by (see above)."""
    if modname not in ("__main__", MAIN_ALIAS):
        return modname
    m = sys.modules.get(modname)
    spec = getattr(m, "__spec__", None)
    if spec is not None and spec.name and \
            spec.name not in ("__main__", MAIN_ALIAS):
        sys.modules.setdefault(MAIN_ALIAS, m)
        return "main:" + spec.name		# python3 -m NAME
    path = getattr(m, "__file__", None)
    if not path:
        raise ValueError("functions of an interactive __main__ cannot be "
                         "tasks: define them in a module or a script")
    # The worker pickles the script's classes as __mp_main__.X (the name
    # it loads the script under): here that is __main__, as
    # multiprocessing arranges it too.
    sys.modules.setdefault(MAIN_ALIAS, m)
    return os.path.abspath(path)


def is_script(ref):
    return ref.endswith(".py") or os.sep in ref


def handler_key(ref):
    """The part of the handler name that names the module ref."""
    if ref.startswith("main:"):
        key = "main." + ref[5:]
    elif is_script(ref):
        stem = os.path.splitext(os.path.basename(ref))[0]
        key = "main.%s.%s" % (re.sub(r"[^A-Za-z0-9_]", "_", stem),
                              hashlib.sha1(os.fsencode(ref)).hexdigest()[:10])
    else:
        key = ref
    if len(key) > _NAME_MAX - len(CPU_HANDLER_PREFIX) or \
            not re.fullmatch(r"[A-Za-z0-9_.:-]+", key):
        key = "h." + hashlib.sha1(key.encode("utf-8", "surrogateescape")) \
            .hexdigest()
    return key


def handler_name(ref, cpu):
    return (CPU_HANDLER_PREFIX if cpu else HANDLER_PREFIX) + handler_key(ref)


def function_ref(fn):
    """(module reference, qualified name) of an importable function;
    ValueError if it is not importable by name."""
    if isinstance(fn, TaskFunction):
        return fn.ref, fn.qualname
    qualname = getattr(fn, "__qualname__", None) or \
        getattr(fn, "__name__", None)
    modname = getattr(fn, "__module__", None)
    if modname is None:
        # A method of a built-in type (str.upper): its type's module.
        owner = getattr(fn, "__objclass__", None)
        modname = getattr(owner, "__module__", None)
    if not callable(fn) or not qualname or not modname:
        raise TypeError("futured.task needs a function, not %r" % (fn,))
    if "<" in qualname:
        raise ValueError(
            "%s.%s is not importable by name (a lambda or a nested "
            "function): futured.task needs a module-level function"
            % (modname, qualname))
    return module_ref(modname), qualname


# Loading, on the worker's side --------------------------------------------

_load_lock = threading.RLock()
_loading = threading.local()


def load_module(ref):
    """Import the module ref names (see module_ref)."""
    with _load_lock:
        outer = getattr(_loading, "ref", None)
        _loading.ref = ref
        try:
            return _load_module(ref)
        finally:
            _loading.ref = outer


def _check_not_loading(qualname):
    # A worker imports the caller's module to serve it; a module that
    # calls its tasks at import (an unguarded asyncio.run(main()) in a
    # script) would submit from inside the pool's own start-up and wait
    # on a pool that never registers.  Say so, as multiprocessing's
    # spawn does, instead of hanging.
    ref = getattr(_loading, "ref", None)
    if ref is not None:
        raise RuntimeError(
            "futured.task: %s called while a worker imports %s: the "
            "module calls its tasks when imported; guard that code with "
            "'if __name__ == \"__main__\":', as multiprocessing's spawn "
            "needs" % (qualname, ref))


def _load_module(ref):
    if ref.startswith("main:"):
        name = ref[5:]
        m = sys.modules.get(MAIN_ALIAS)
        if m is None or getattr(m, "__futured_ref__", None) != ref:
            m = importlib.import_module(name)
            _alias_main(m, ref)
        return m
    if not is_script(ref):
        return importlib.import_module(ref)
    m = sys.modules.get(MAIN_ALIAS)
    if m is not None and getattr(m, "__futured_ref__", None) == ref:
        return m
    if not os.path.isfile(ref):
        raise ImportError("no script %s" % ref, path=ref)
    # The script's own directory is on sys.path when it runs as a
    # program: its imports must work here too.
    d = os.path.dirname(ref)
    if d not in sys.path:
        sys.path.insert(0, d)
    spec = importlib.util.spec_from_file_location(MAIN_ALIAS, ref)
    m = importlib.util.module_from_spec(spec)
    sys.modules[MAIN_ALIAS] = m
    try:
        spec.loader.exec_module(m)
    except BaseException:
        sys.modules.pop(MAIN_ALIAS, None)
        raise
    _alias_main(m, ref)
    return m


def _alias_main(m, ref):
    # What the caller pickled as __main__.X is found here, as it is by
    # multiprocessing's spawn (the worker's own __main__ is kept apart:
    # futured.worker runs from futured._worker).
    m.__futured_ref__ = ref
    sys.modules[MAIN_ALIAS] = m
    sys.modules["__main__"] = m


def resolve(ref, qualname):
    """The function named qualname in module ref, undecorated."""
    obj = load_module(ref)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if isinstance(obj, TaskFunction):
        obj = obj.fn
    return obj


# The wire ------------------------------------------------------------------

def encode_head(ref, qualname):
    """The first part of the payload of any call of function qualname
    of module ref."""
    head = pickle.dumps((ref, qualname), _PROTO)
    return CALL_MAGIC + _HEAD_LEN.pack(len(head)) + head


# The pickle of a call without arguments, which is most of them.
_NO_ARGS = pickle.dumps(((), {}), _PROTO)


def encode_args(args, kwargs):
    if not args and not kwargs:
        return _NO_ARGS
    return pickle.dumps((args, kwargs), _PROTO)


def encode_call(ref, qualname, args, kwargs):
    # Two pickles: the worker loads the module before it unpickles the
    # arguments, which may be of the module's classes (__main__'s).
    return encode_head(ref, qualname) + encode_args(args, kwargs)


def _split_call(payload):
    """(head pickle, arguments pickle) of a payload; ValueError if it
    is not a call."""
    if payload.startswith(CALL_MAGIC) and len(payload) >= _HEAD_START:
        end = _HEAD_START + _HEAD_LEN.unpack_from(payload, _LEN_AT)[0]
        if end <= len(payload):
            return payload[_HEAD_START:end], payload[end:]
    elif payload.startswith(CALL_MAGIC_V1):
        fp = io.BytesIO(payload)
        fp.seek(len(CALL_MAGIC_V1))
        pickle.load(fp)
        return payload[len(CALL_MAGIC_V1):fp.tell()], payload[fp.tell():]
    raise ValueError("not a futured Python call (payload of %d bytes)"
                     % len(payload))


def _decode_args(blob):
    if blob == _NO_ARGS:
        return (), {}
    args, kwargs = pickle.loads(blob)
    args = tuple(a.value() if isinstance(a, _ResultOf) else a
                 for a in args)
    return args, kwargs


def decode_call(payload, load=False):
    """(ref, qualname, args, kwargs) of a payload, the module loaded
    first if load; ValueError if it is not one."""
    head, rest = _split_call(payload)
    ref, qualname = pickle.loads(head)
    if load:
        load_module(ref)
    args, kwargs = _decode_args(rest)
    return ref, qualname, args, kwargs


# A worker's functions by the head of their calls: a worker serves the
# few modules it was started for, so the table stays small (it is
# emptied if it ever grows large).
_fns = {}
_FNS_MAX = 1024


def decode_call_fn(payload):
    """(function, is it a coroutine function, args, kwargs) of a
    payload, its module loaded and the function resolved (once per
    function); ValueError if it is not a call."""
    head, rest = _split_call(payload)
    hit = _fns.get(head)
    if hit is None:
        ref, qualname = pickle.loads(head)
        load_module(ref)
        fn = resolve(ref, qualname)
        hit = (fn, inspect.iscoroutinefunction(fn))
        if len(_fns) >= _FNS_MAX:
            _fns.clear()
        _fns[head] = hit
    args, kwargs = _decode_args(rest)
    return hit[0], hit[1], args, kwargs


def _trailed(tag, body):
    return body + _TRAILER.pack(tag, len(body))


def encode_result(value):
    return _trailed(TAG_RESULT, pickle.dumps(value, _PROTO))


def type_name(cls):
    mod = getattr(cls, "__module__", None)
    if mod in (None, "builtins"):
        return cls.__qualname__
    if mod == MAIN_ALIAS:
        mod = "__main__"
    return "%s.%s" % (mod, cls.__qualname__)


def describe_exception(exc):
    """(type name, message, traceback text) of exc."""
    tb = "".join(traceback.format_exception(type(exc), exc,
                                            exc.__traceback__))
    return type_name(type(exc)), str(exc), tb


def encode_error(exc):
    """The output of a job whose function raised exc, and (type,
    message, traceback) for the failure's own fields."""
    etype, msg, tb = describe_exception(exc)
    try:
        blob = pickle.dumps(exc, _PROTO)
        pickle.loads(blob)		# some pickle, then fail to unpickle
    except Exception:
        blob = None
    body = pickle.dumps({"type": etype, "message": msg, "traceback": tb,
                         "exc": blob}, _PROTO)
    return _trailed(TAG_ERROR, body), (etype, msg, tb)


def split_output(out):
    """(tag, pickle) at the end of a job's output, or (None, None)."""
    n = _TRAILER.size
    if out is None or len(out) < n:
        return None, None
    tag, size = _TRAILER.unpack_from(out, len(out) - n)
    if tag not in (TAG_RESULT, TAG_ERROR) or size > len(out) - n:
        return None, None
    return tag, out[len(out) - n - size:len(out) - n]


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a task, as text; it is
    the __cause__ of the exception result() re-raises."""

    def __init__(self, tb):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return "\n\n" + self.tb


def decode_error(err, body):
    """The exception to raise for JobFailed err whose output carried
    TAG_ERROR body."""
    try:
        d = pickle.loads(body)
    except Exception:
        return err
    tb = d.get("traceback") or ""
    exc = None
    if d.get("exc") is not None:
        try:
            exc = pickle.loads(d["exc"])
        except Exception:
            exc = None
    if isinstance(exc, BaseException):
        exc.__cause__ = RemoteTraceback(tb)
        exc.remote_traceback = tb
        exc.job_id = err.job_id
        return exc
    jf = futured.JobFailed(
        "job %d failed: %s: %s" % (err.job_id, d.get("type"),
                                   d.get("message")),
        job_id=err.job_id, state=err.state, error=err.error,
        exit_status=err.exit_status, signal=err.signal, stderr=err.stderr)
    jf.exc_type = d.get("type")
    jf.exc_message = d.get("message")
    jf.traceback = tb
    jf.__cause__ = RemoteTraceback(tb)
    return jf


# Futures -----------------------------------------------------------------

class TaskFuture(futured.Future):
    """The Future of a futured.task call: result() is the function's
    return value, and an exception it raised is re-raised (its type, or
    JobFailed with exc_type, exc_message and traceback when it cannot be
    unpickled here)."""

    _decoded = False
    _value = None
    _raise = None
    _failed_output = None

    def _job_error(self, st):
        err = super()._job_error(st)
        if st == _lib.FUT_FAILED:
            n = _lib.ctypes.c_size_t()
            p = _lib.lib.fut_output(self._ptr, _lib.ctypes.byref(n))
            if p:
                self._failed_output = _lib.ctypes.string_at(p, n.value)
        return err

    def _decode(self):
        # Once, in the thread that asks (never in a done-callback of
        # libfutured's: unpickling may import, or attach a Future).
        with self._lock:
            if self._decoded:
                return
        value = exc = None
        if self._exception is not None:
            exc = self._exception
            tag, body = split_output(self._failed_output)
            if isinstance(exc, futured.JobFailed) and tag == TAG_ERROR:
                exc = decode_error(exc, body)
        else:
            tag, body = split_output(self._result)
            if tag != TAG_RESULT:
                exc = futured.Error(
                    "job %d: its output is not a Python result (%d bytes; "
                    "cut at the daemon's --max-output?)"
                    % (self.id, len(self._result or b"")))
            else:
                try:
                    value = pickle.loads(body)
                except Exception as e:
                    exc = futured.Error("job %d: cannot unpickle its result "
                                        "here: %s: %s" % (
                                            self.id, type(e).__name__, e))
                    exc.__cause__ = e
        with self._lock:
            if not self._decoded:
                self._value, self._raise = value, exc
                self._decoded = True

    def result(self, timeout=None):
        if not self._wait(timeout):
            raise TimeoutError("job %d not finished after %s s"
                               % (self.id, timeout))
        self._decode()
        if self._raise is not None:
            raise self._raise
        return self._value

    def exception(self, timeout=None):
        if not self._wait(timeout):
            raise TimeoutError("job %d not finished after %s s"
                               % (self.id, timeout))
        self._decode()
        return self._raise


_sockets = {}
_sockets_lock = threading.Lock()


@atexit.register
def _close_sockets():
    with _sockets_lock:
        cs = list(_sockets.values())
        _sockets.clear()
    for c in cs:
        if c._pid == os.getpid():
            c.close()


def _future_from_pickle(job_id, socket, py):
    """A Future of job job_id on this side (Future.__reduce__)."""
    if socket is None:
        c = futured._client()
    else:
        with _sockets_lock:
            c = _sockets.get(socket)
            if c is None or c._pid != os.getpid() or c._closed:
                c = _sockets[socket] = futured.Client(socket)
    return c.attach(job_id, _cls=TaskFuture if py else None)


class _ResultOf:
    """An argument that stands for a Future's result (then()): the
    worker waits for it (the job runs after that Future succeeded)."""

    def __init__(self, fut):
        self.fut = fut

    def value(self):
        return self.fut.result()


def then(fut, fn, options):
    if not isinstance(fn, TaskFunction):
        fn = task(fn)
    if options:
        fn = fn.options(**options)
    return fn._submit((_ResultOf(fut),), {}, after=(fut,))


# The decorator -------------------------------------------------------------

_KIND_OF = {True: futured.ASYNC, False: futured.BLOCKING}


class TaskFunction:
    """A function whose calls run as futured jobs (futured.task).

    Calling it submits the job and returns a TaskFuture at once.
    .fn is the function itself (call it to run it here); .options(...)
    gives a copy with other submit options; .submit(*args, **kwargs)
    is the call."""

    def __init__(self, fn, kind=None, **opts):
        self.fn = fn
        self.ref, self.qualname = function_ref(fn)
        is_async = inspect.iscoroutinefunction(fn)
        if kind is None:
            kind = _KIND_OF[is_async]
        if kind not in (futured.ASYNC, futured.BLOCKING, futured.CPU):
            raise ValueError("kind must be async, blocking or cpu, not %r"
                             % (kind,))
        if "data" in opts or "input_from" in opts:
            raise TypeError("a task's payload is its call: no data or "
                            "input_from")
        self.kind = kind
        self.opts = opts
        self.handler = handler_name(self.ref, kind == futured.CPU)
        self._head = encode_head(self.ref, self.qualname)
        functools.update_wrapper(self, fn)

    def __repr__(self):
        return "<futured.task %s.%s (%s)>" % (self.ref, self.qualname,
                                             self.kind)

    def __reduce__(self):
        return (_task_from_ref, (self.ref, self.qualname, self.kind,
                                 self.opts))

    def options(self, kind=None, **opts):
        """A copy with these options on top (kind, timeout, retries,
        deadline, group, priority, ctx, name, after ...)."""
        merged = dict(self.opts)
        merged.update(opts)
        return TaskFunction(self.fn, kind=kind or self.kind, **merged)

    def __call__(self, *args, **kwargs):
        return self._submit(args, kwargs)

    submit = __call__

    def map(self, *iterables):
        """A list of the TaskFutures of fn(*args) for args in
        zip(*iterables), submitted in one round trip: not the results,
        unlike Executor.map."""
        return self.starmap(zip(*iterables))

    def starmap(self, iterable):
        """A list of the TaskFutures of fn(*args) for each args tuple of
        iterable, submitted in one round trip."""
        head, args = self._head, (self.qualname,)
        calls = [(args, head + encode_args(tuple(a), {}))
                 for a in iterable]
        _check_not_loading(self.qualname)
        return self._with_pool(lambda c: c._submit_all(
            self.handler, calls, kind=self.kind, _cls=TaskFuture,
            **self.opts))

    def _submit(self, args, kwargs, after=()):
        payload = self._head + encode_args(args, kwargs)
        opts = dict(self.opts)
        if after:
            prev = opts.pop("after", ())
            if isinstance(prev, (int, futured.Future)):
                prev = (prev,)
            opts["after"] = tuple(prev) + tuple(after)
        _check_not_loading(self.qualname)
        return self._with_pool(lambda c: c.submit(
            self.handler, self.qualname, data=payload, kind=self.kind,
            _cls=TaskFuture, **opts))

    def _with_pool(self, send):
        """send(client) once the pool of our handler was asked for.
        Once more, on a fresh connection, if the daemon went away (it
        restarted); once more after asking for the pool again if the
        daemon no longer knows our handler: it forgets the names of a
        pool that stopped long ago (past the 256 stopped pools a user
        keeps) and a restarted daemon knows none, while this client
        asked for the pool once and for all."""
        cpu = self.kind == futured.CPU
        name = None
        try:
            c = futured._client()
            name = ensure_pool(c, self.ref, cpu)
            return send(c)
        except futured.ConnectionLost:
            c = futured._client(fresh=True)
            name = ensure_pool(c, self.ref, cpu)
            return send(c)
        except futured.Error as e:
            # Not a job's failure, and nothing sent went through (a
            # batch with some jobs accepted is not sent again).
            if e.code != _lib.FUT_EHANDLER or \
                    getattr(e, "accepted", 0) != 0:
                raise
            forget_pool(c, self.ref, cpu, name)
            ensure_pool(c, self.ref, cpu)
            return send(c)


def _task_from_ref(ref, qualname, kind, opts):
    return TaskFunction(resolve(ref, qualname), kind=kind, **opts)


def task(fn=None, *, kind=None, **options):
    """Make a function's calls futured jobs.

        @futured.task                  # async def: async; def: blocking
        @futured.task(kind="cpu", timeout="30s", retries=1)
        futured.task(time.sleep)(0.1)  # any importable function

    options are Client.submit's (timeout, deadline, retries, group,
    priority, ctx, name, after).  The function must be importable by
    module and qualified name (a script run as __main__ is loaded by
    the worker as multiprocessing's spawn does).  Arguments and the
    result travel pickled.  The first call asks the daemon for a
    supervised pool of `sys.executable -m futured.worker MODULE` (no
    configuration needed)."""
    if "timeout" in options and isinstance(options["timeout"], str):
        options["timeout"] = _seconds(options["timeout"])
    if "deadline" in options and isinstance(options["deadline"], str):
        options["deadline"] = _seconds(options["deadline"])
    if fn is None:
        return lambda f: TaskFunction(f, kind=kind, **options)
    return TaskFunction(fn, kind=kind, **options)


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text):
    """A duration as futured(8) writes them ("30s", "1.5m", "200ms")."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h|d)?\s*", text)
    if not m:
        raise ValueError("bad duration %r" % (text,))
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


# The pool ------------------------------------------------------------------

def worker_argv(ref, cpu):
    argv = [sys.executable, "-m", "futured.worker"]
    if cpu:
        argv.append("--cpu")
    if ref.startswith("main:"):
        argv += ["--main", ref[5:]]
    else:
        argv.append(ref)
    return argv


def pool_env():
    """The pool's environment: ours, with our sys.path as PYTHONPATH, so
    that the worker imports what we import (a script's own directory,
    a test runner's start directory, paths a program added).  The rest
    goes as it is: the daemon sets the pool's FUTURED_POOL and
    FUTURED_SOCKET itself and leaves out only a job's own variables, so
    a library chosen by $FUTURED_LIBRARY reaches the worker as such."""
    env = dict(os.environ)
    path = []
    for d in sys.path:
        d = os.path.abspath(d or os.curdir)
        if d not in path and os.path.isdir(d):
            path.append(d)
    env["PYTHONPATH"] = os.pathsep.join(path)
    return env


def ensure_pool(client, ref, cpu):
    """Ask the daemon once per client for the pool that serves ref."""
    key = (ref, cpu)
    name = client._py_pools.get(key)
    if isinstance(name, str):
        return name
    with client._lock:
        ev = client._py_pools.get(key)
        if ev is None:
            ev = client._py_pools[key] = threading.Event()
            mine = True
        else:
            mine = False
    if isinstance(ev, threading.Event):
        if not mine:
            ev.wait()
            return client._py_pools.get(key)
        try:
            kinds = [futured.CPU] if cpu else [futured.ASYNC,
                                               futured.BLOCKING]
            name = client.pool(worker_argv(ref, cpu), kinds=kinds,
                               cwd=os.getcwd(), env=pool_env())["name"]
        except BaseException:
            with client._lock:
                client._py_pools.pop(key, None)
            ev.set()
            raise
        with client._lock:
            client._py_pools[key] = name
        ev.set()
        return name
    return ev


def forget_pool(client, ref, cpu, name):
    """Let ensure_pool() ask for the pool of ref again (the daemon
    forgot it), unless another thread already does or did."""
    with client._lock:
        if name is not None and client._py_pools.get((ref, cpu)) == name:
            del client._py_pools[(ref, cpu)]


# Running a call, on the worker's side --------------------------------------

async def run_call(task, executor):
    """Run the Python call task carries: a coroutine function on this
    loop, any other in executor.  Returns the job's output; raises what
    the function raised."""
    fn, is_async, args, kwargs = decode_call_fn(task.payload)
    if is_async:
        value = await fn(*args, **kwargs)
    else:
        loop = asyncio.get_running_loop()
        value = await loop.run_in_executor(
            executor, functools.partial(_in_task, task, fn, args, kwargs))
    return encode_result(value)


def _in_task(task, fn, args, kwargs):
    tok = futured._current.set(task)
    try:
        return fn(*args, **kwargs)
    finally:
        futured._current.reset(tok)
