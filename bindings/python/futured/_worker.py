"""futured.Worker: a Python program that serves handlers (futured-workers(7)).

    w = futured.Worker()

    @w.handler()                         # async def: many at once on the loop
    async def fetch(task):
        return await get(task.args[0])

    @w.handler("resize", kinds=("blocking", "cpu"))
    def resize(task):                    # def: on the worker's thread pool
        task.progress(0.5, "half way")
        return do_resize(task.payload)

    w.run()                              # or: await w.serve() in a program's loop

The worker is one connection (fut_worker_new) and one thread that waits
for tasks in fut_worker_next(), which also keeps the worker's lease;
each task goes to the asyncio loop the worker serves on: a coroutine
function runs there as an asyncio task (cancelled by the job's cancel
or timeout), any other function on the worker's thread pool (its
Task.cancelled turns true; a thread cannot be stopped).  A handler
returns the job's output (bytes, str or None); an exception fails the
job with its type, message and traceback.
"""

import asyncio
import concurrent.futures
import ctypes
import importlib
import inspect
import os
import sys
import threading
import time
import traceback

import futured
from . import _lib, _task
from ._lib import lib

_KIND_NUM = {futured.ASYNC: _lib.FUT_ASYNC,
             futured.BLOCKING: _lib.FUT_BLOCKING,
             futured.CPU: _lib.FUT_CPU}
_KIND_NAME = {v: k for k, v in _KIND_NUM.items()}

# How long the task thread waits in fut_worker_next() before it looks
# whether the worker was closed.
_SLICE_MS = 250


def _str(p):
    return None if p is None else p.decode("utf-8", "replace")


class Task:
    """One attempt of one job, as a handler sees it (also
    futured.current_task() inside a futured.task function).

    job_id, attempt, handler, kind ("async", "blocking", "cpu"), payload
    (bytes), args (list of str), ctx (dict), deadline (seconds since the
    epoch, or None), cwd (the submitter's directory or None).  progress(),
    output() and stderr() may be called from any thread while the task
    runs; they return False once it ended."""

    # A futured.task call needs only the payload: the other fields are
    # read from the C task on first use, and before it is freed if code
    # may still look (_exposed: a handler got the task, or
    # current_task() gave it out).
    _fields = None
    _exposed = False

    def __init__(self, worker, ptr):
        self._worker = worker
        self._ptr = ptr
        self._lock = threading.Lock()
        self._cancel_flag = False
        self._atask = None
        self.job_id = lib.fut_task_job_id(ptr)
        self.handler = _str(lib.fut_task_handler(ptr))
        n = ctypes.c_size_t()
        p = lib.fut_task_payload(ptr, ctypes.byref(n))
        self.payload = ctypes.string_at(p, n.value) if p else b""

    def _more(self):
        f = self._fields
        if f is not None:
            return f
        with self._lock:
            if self._fields is None:
                self._fields = self._read(self._ptr)
            return self._fields

    @staticmethod
    def _read(ptr):
        if ptr is None:			# ended, and never exposed
            return {"attempt": None, "kind": None, "args": [], "ctx": {},
                    "deadline": None, "cwd": None}
        ctx = {}
        for i in range(lib.fut_task_nctx(ptr)):
            v = ctypes.c_char_p()
            k = lib.fut_task_ctx(ptr, i, ctypes.byref(v))
            ctx[_str(k)] = _str(v.value)
        ms = lib.fut_task_deadline_ms(ptr)
        return {
            "attempt": lib.fut_task_attempt(ptr),
            "kind": _KIND_NAME.get(lib.fut_task_kind(ptr), "async"),
            "args": [_str(lib.fut_task_arg(ptr, i))
                     for i in range(lib.fut_task_nargs(ptr))],
            "ctx": ctx,
            "deadline": ms / 1000.0 if ms > 0 else None,
            "cwd": _str(lib.fut_task_cwd(ptr)),
        }

    attempt = property(lambda self: self._more()["attempt"])
    kind = property(lambda self: self._more()["kind"])
    args = property(lambda self: self._more()["args"])
    ctx = property(lambda self: self._more()["ctx"])
    deadline = property(lambda self: self._more()["deadline"])
    cwd = property(lambda self: self._more()["cwd"])

    def __repr__(self):
        return "<futured.Task job %d attempt %d %s>" % (
            self.job_id, self.attempt, self.handler)

    @property
    def cancelled(self):
        """True once the job was cancelled or timed out: its outcome is
        no longer wanted."""
        if self._cancel_flag:
            return True
        with self._lock:
            return self._ptr is not None and \
                bool(lib.fut_task_cancelled(self._ptr))

    @property
    def remaining(self):
        """Seconds left before the deadline, or None."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.time())

    def _call(self, fn, *args):
        with self._lock:
            if self._ptr is None:
                return False
            return fn(self._ptr, *args) == 0

    def progress(self, fraction, message=None):
        """Report progress: fraction from 0 to 1, an optional message."""
        return self._call(lib.fut_task_progress, float(fraction),
                          None if message is None
                          else futured._bytes(message))

    def output(self, data):
        """Append data (bytes or str) to the job's output."""
        data = futured._bytes(data)
        return self._call(lib.fut_task_output, data, len(data))

    def stderr(self, data):
        """Append data (bytes or str) to the job's standard error."""
        data = futured._bytes(data)
        return self._call(lib.fut_task_stderr, data, len(data))

    # The outcome: once, and it frees the C task.

    def _end(self, fn, *args):
        with self._lock:
            ptr, self._ptr = self._ptr, None
            if ptr is not None and self._exposed and self._fields is None:
                self._fields = self._read(ptr)
        if ptr is None:
            return False
        self._worker._forget(ptr)
        return fn(ptr, *args) == 0

    def _succeed(self, out):
        return self._end(lib.fut_task_succeed, out, len(out))

    def _fail(self, error, etype=None, detail=None):
        b = futured._bytes
        return self._end(lib.fut_task_fail, b(error),
                         None if etype is None else b(etype),
                         None if detail is None else b(detail))


class _Handler:
    __slots__ = ("name", "fn", "kinds", "default_kind", "description",
                 "is_async", "py")

    def __init__(self, name, fn, kinds, default_kind, description, py):
        self.name = name
        self.fn = fn
        self.kinds = kinds
        self.default_kind = default_kind
        self.description = description
        self.is_async = inspect.iscoroutinefunction(fn)
        self.py = py


def _output(value):
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError("a handler returns bytes, str or None, not %s"
                    % type(value).__name__)


class Worker:
    """A connection to futured that serves handlers.

    socket: the daemon's socket (None: the socket rules).  concurrency:
    tasks held at once (a supervised cpu process gets 1 whatever it
    asks).  threads: the pool that runs plain (not async) handlers
    (default: concurrency, at most 32).  pool: the supervised pool this
    process belongs to (default: $FUTURED_POOL).  name: for the
    daemon's logs and stats."""

    def __init__(self, socket=None, concurrency=64, threads=None, pool=None,
                 name=None):
        futured._need_lib()
        if not _lib.has("fut_worker_new"):
            raise futured.Error("this libfutured has no worker calls "
                                "(fut_worker_new)")
        if int(concurrency) < 1:
            raise ValueError("concurrency must be at least 1")
        self.socket = socket
        self.concurrency = int(concurrency)
        self.threads = threads or min(32, self.concurrency)
        self.pool = pool
        self.name = name
        self._handlers = {}
        self._w = None
        self._loop = None
        self._executor = None
        self._tasks = {}
        self._tasks_lock = threading.Lock()
        self._closing = False
        self._stopped = None
        self._thread = None
        self._inline = False
        self._busy_since = None
        self._keeper = None
        self._closed_ev = threading.Event()
        # Set once the daemon accepted the registration (for a program
        # that serves from another thread and must know when).
        self.ready = threading.Event()
        self._cancel_cb = _lib.CANCEL_CB(self._on_cancel)

    # Declaring what it serves.

    def handler(self, name=None, kinds=None, default_kind=None,
                description=None):
        """Decorator: serve the function as handler name (default: its
        __name__).  kinds: the kinds it serves (default: async for an
        async def, else blocking); default_kind: the first of them
        unless said.  The function gets a futured.Task and returns the
        output."""
        if callable(name):		# @w.handler without parentheses
            return self.handler()(name)

        def deco(fn):
            self.add_handler(name or fn.__name__, fn, kinds, default_kind,
                             description)
            return fn
        return deco

    def add_handler(self, name, fn, kinds=None, default_kind=None,
                    description=None, _py=False):
        if self._w is not None:
            raise RuntimeError("handlers are declared before serve()")
        if kinds is None:
            kinds = (futured.ASYNC if inspect.iscoroutinefunction(fn)
                     else futured.BLOCKING,)
        elif isinstance(kinds, str):
            kinds = (kinds,)
        kinds = tuple(kinds)
        for k in kinds + ((default_kind,) if default_kind else ()):
            if k not in _KIND_NUM:
                raise ValueError("kind must be async, blocking or cpu, "
                                 "not %r" % (k,))
        if not kinds:
            raise ValueError("a handler serves at least one kind")
        self._handlers[name] = _Handler(name, fn, kinds,
                                        default_kind or kinds[0],
                                        description, _py)

    def serve_module(self, module, cpu=False):
        """Serve the futured.task functions of module (an import name
        or a script's path; any function of it, in fact): handler
        py:MODULE for async and blocking calls, or py.cpu:MODULE with
        cpu set.  The module is imported now.  Also serves the handlers
        of the futured.Worker objects it defines."""
        if isinstance(module, str) and module.startswith("main:"):
            ref = module
        elif isinstance(module, str) and _task.is_script(module):
            ref = os.path.abspath(module)
        elif isinstance(module, str):
            ref = module
        else:
            ref = _task.module_ref(module.__name__)
        m = _task.load_module(ref)
        kinds = (futured.CPU,) if cpu else (futured.ASYNC, futured.BLOCKING)
        self.add_handler(_task.handler_name(ref, cpu), _task.run_call, kinds,
                         description="Python functions of %s" % ref,
                         _py=True)
        for v in list(vars(m).values()):
            if isinstance(v, Worker) and v is not self:
                for h in v._handlers.values():
                    if h.name not in self._handlers:
                        self._handlers[h.name] = h
        return m

    # Serving.

    def run(self):
        """Serve until close() or until the daemon goes away, on an
        asyncio loop of the worker's own."""
        asyncio.run(self.serve())

    async def serve(self):
        """Serve on the running asyncio loop until close() or until the
        daemon goes away (then ConnectionLost is raised; after close()
        it returns None)."""
        if not self._handlers:
            raise ValueError("the worker serves no handler")
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stopped = loop.create_future()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            self.threads, thread_name_prefix="futured-worker")
        try:
            await loop.run_in_executor(None, self._connect)
            self.ready.set()
            # A cpu process (one call at a time, cpu only) runs its task
            # on the task thread itself: no hop to the loop and back.
            self._inline = self.concurrency == 1 and all(
                h.kinds == (futured.CPU,) for h in self._handlers.values())
            self._thread = threading.Thread(
                target=self._next_loop, daemon=True,
                name="futured worker tasks")
            self._thread.start()
            if self._inline and _lib.has("fut_worker_client"):
                self._keeper = threading.Thread(
                    target=self._keep_lease, daemon=True,
                    name="futured worker lease")
                self._keeper.start()
            await self._stopped
        finally:
            self._closing = True
            self._closed_ev.set()
            with self._tasks_lock:
                running = list(self._tasks.values())
            for t in running:
                if t._atask is not None:
                    t._atask.cancel()
            w, self._w = self._w, None
            if w is not None:
                await loop.run_in_executor(None, self._join_and_close, w)
            self._executor.shutdown(wait=False)

    def _join_and_close(self, w):
        # The task thread leaves fut_worker_next() within a slice; only
        # then may the connection go.
        for th in (self._thread, self._keeper):
            if th is not None:
                th.join()
        lib.fut_worker_close(w)

    def _connect(self):
        path = None if self.socket is None else os.fsencode(self.socket)
        w = lib.fut_worker_new(path)
        if not w:
            e = ctypes.get_errno()
            raise futured.ConnectionLost(
                "cannot connect to futured%s: %s" % (
                    " at %s" % self.socket if self.socket else "",
                    os.strerror(e)), _lib.FUT_ECONN)
        try:
            for h in self._handlers.values():
                mask = 0
                for k in h.kinds:
                    mask |= 1 << _KIND_NUM[k]
                self._ck(w, lib.fut_worker_handler(
                    w, h.name.encode(), mask, _KIND_NUM[h.default_kind],
                    None if h.description is None
                    else h.description.encode()), "handler %s" % h.name)
            self._ck(w, lib.fut_worker_concurrency(w, self.concurrency),
                     "concurrency")
            if self.name is not None and _lib.has("fut_worker_name"):
                self._ck(w, lib.fut_worker_name(w, self.name.encode()),
                         "name")
            if self.pool is not None:
                self._ck(w, lib.fut_worker_pool(w, self.pool.encode()),
                         "pool")
            lib.fut_worker_on_cancel(w, self._cancel_cb, None)
            self._ck(w, lib.fut_worker_register(w), "register")
        except BaseException:
            lib.fut_worker_close(w)
            raise
        self._w = w

    @staticmethod
    def _ck(w, rc, what):
        if rc < 0:
            msg = lib.fut_worker_error(w)
            msg = msg.decode("utf-8", "replace") if msg else \
                _lib.strerror(rc)
            cls = futured.ConnectionLost if rc in (
                _lib.FUT_ECONN, _lib.FUT_EPROTO, _lib.FUT_ESHUTDOWN) \
                else futured.Error
            raise cls("worker %s: %s" % (what, msg), rc)

    def close(self):
        """Stop serving (from any thread): serve() returns; the jobs the
        worker holds fail "worker lost", and their retries apply."""
        self._closing = True
        self._closed_ev.set()
        loop, st = self._loop, self._stopped
        if loop is not None and st is not None:
            try:
                loop.call_soon_threadsafe(_settle, st, None)
            except RuntimeError:
                pass

    # The task thread: fut_worker_next() hands over tasks and calls
    # _on_cancel() for cancels.

    def _next_loop(self):
        w = self._w
        t = _lib.c_task_p()
        loop = self._loop
        while not self._closing:
            rc = lib.fut_worker_next(w, _SLICE_MS, ctypes.byref(t))
            if rc == 1 and self._inline:
                try:
                    self._run_here(t.value)
                except BaseException as e:	# SystemExit, ...
                    try:
                        loop.call_soon_threadsafe(_settle, self._stopped, e)
                    except RuntimeError:
                        pass
                    return
            elif rc == 1:
                try:
                    loop.call_soon_threadsafe(self._start, t.value)
                except RuntimeError:
                    return		# the loop is gone
            elif rc < 0 and not self._closing:
                msg = lib.fut_worker_error(w)
                exc = futured.ConnectionLost(
                    "worker: %s" % (msg.decode("utf-8", "replace") if msg
                                    else _lib.strerror(rc)), rc)
                try:
                    loop.call_soon_threadsafe(_settle, self._stopped, exc)
                except RuntimeError:
                    pass
                return

    def _run_here(self, ptr):
        # The inline form of _start and _run (see serve()).
        task = Task(self, ptr)
        with self._tasks_lock:
            self._tasks[ptr] = task
        if self._early_cancel(task):
            return
        h = self._handlers.get(task.handler)
        if h is None:
            task._fail("no handler %s in this worker" % task.handler)
            return
        if not h.py:
            task._exposed = True
        self._busy_since = time.monotonic()
        tok = futured._current.set(task)
        try:
            if h.py:
                fn, is_async, args, kwargs = _task.decode_call_fn(
                    task.payload)
                if is_async:
                    value = self._on_loop(task, fn(*args, **kwargs))
                else:
                    value = fn(*args, **kwargs)
                out = _task.encode_result(value)
            elif h.is_async:
                out = _output(self._on_loop(task, h.fn(task)))
            else:
                out = _output(h.fn(task))
        except BaseException as e:
            self._failed(h, task, e)
            if not isinstance(e, Exception):
                raise
            return
        finally:
            futured._current.reset(tok)
            self._busy_since = None
        task._succeed(out)

    def _on_loop(self, task, coro):
        async def run():
            futured._current.set(task)
            return await coro
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    def _keep_lease(self):
        # While the task thread runs a call it does not wait in
        # fut_worker_next(), which would keep the lease: a ping on the
        # worker's connection does (any word from the worker renews it).
        # Joined before the connection is closed (serve()).
        c = lib.fut_worker_client(self._w)
        while not self._closed_ev.wait(1):
            since = self._busy_since
            if since is not None and time.monotonic() - since >= 1:
                lib.fut_ping(c, None, 0, None)

    def _failed(self, h, task, e):
        etype, msg, tb = _task.describe_exception(e)
        if h.py:
            out, _ = _task.encode_error(e)
            task.output(out)
        # The daemon says "TYPE: MESSAGE" (futured-workers(7)).
        task._fail(msg, etype, tb)

    def _on_cancel(self, ptr, _arg):
        with self._tasks_lock:
            task = self._tasks.get(ptr)
        if task is None:
            return
        task._cancel_flag = True
        try:
            self._loop.call_soon_threadsafe(self._cancel, task)
        except RuntimeError:
            pass

    def _cancel(self, task):
        if task._atask is not None:
            task._atask.cancel()

    def _forget(self, ptr):
        with self._tasks_lock:
            self._tasks.pop(ptr, None)

    def _early_cancel(self, task):
        # A cancel that came before the task was known here found
        # nothing to cancel; libfutured's flag says so.
        if lib.fut_task_cancelled(task._ptr):
            task._cancel_flag = True
            task._fail("cancelled")
            return True
        return False

    def _start(self, ptr):
        task = Task(self, ptr)
        with self._tasks_lock:
            self._tasks[ptr] = task
        if self._early_cancel(task):
            return
        h = self._handlers.get(task.handler)
        if h is None:
            task._fail("no handler %s in this worker" % task.handler)
            return
        if not h.py:
            task._exposed = True
        task._atask = self._loop.create_task(self._run(h, task))
        # Cancelled before its first step, _run never runs: the task is
        # let go of here then (a second outcome is a no-op).
        task._atask.add_done_callback(
            lambda at: at.cancelled() and task._fail("cancelled"))

    async def _run(self, h, task):
        tok = futured._current.set(task)
        try:
            if h.py:
                out = await _task.run_call(task, self._executor)
            elif h.is_async:
                out = _output(await h.fn(task))
            else:
                out = _output(await self._loop.run_in_executor(
                    self._executor, _run_sync, h.fn, task))
        except asyncio.CancelledError:
            # The job was cancelled or timed out (its outcome is refused
            # now), or the worker closes.
            task._fail("cancelled")
            if not task._cancel_flag:
                raise
            return
        except BaseException as e:
            self._failed(h, task, e)
            if not isinstance(e, Exception):
                raise
            return
        finally:
            futured._current.reset(tok)
        task._succeed(out)


def _run_sync(fn, task):
    tok = futured._current.set(task)
    try:
        return fn(task)
    finally:
        futured._current.reset(tok)


def _settle(fut, exc):
    if not fut.done():
        if exc is None:
            fut.set_result(None)
        else:
            fut.set_exception(exc)


def _load_error(e):
    """What went wrong importing a module, and where in the user's
    code: the innermost frame of the traceback that is not the import
    machinery's (an import that fails deep in a dependency says which
    line of which file asked for it)."""
    what = "%s: %s" % (_task.type_name(type(e)), e)
    skip = (os.path.dirname(os.path.abspath(__file__)),
            os.path.dirname(os.path.abspath(importlib.__file__)))
    where = None
    for fr in traceback.extract_tb(e.__traceback__):
        if fr.filename.startswith("<") or \
                os.path.dirname(os.path.abspath(fr.filename)) in skip:
            continue
        where = fr
    if where is not None:
        what += " (%s:%d, in %s)" % (where.filename, where.lineno,
                                     where.name)
    return what


def main(argv=None):
    """python3 -m futured.worker [options] MODULE...: serve the modules'
    tasks until the daemon goes away."""
    import argparse
    p = argparse.ArgumentParser(
        prog="python3 -m futured.worker",
        description="Serve the futured.task functions (and futured.Worker "
        "handlers) of Python modules as a futured worker.")
    p.add_argument("modules", nargs="+", metavar="MODULE",
                   help="an import name, or a script's path (loaded as "
                   "multiprocessing's spawn does)")
    p.add_argument("--cpu", action="store_true",
                   help="serve the cpu kind: one job at a time (a "
                   "supervised process is replaced after a cancel)")
    p.add_argument("--main", action="store_true",
                   help="import the module as __main__'s alias (a "
                   "program run with python3 -m MODULE)")
    p.add_argument("--concurrency", type=int, default=None,
                   help="tasks held at once (default 64; 1 with --cpu)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for plain (not async) functions")
    p.add_argument("--socket", default=None,
                   help="the daemon's socket (default: the socket rules)")
    p.add_argument("--pool", default=None,
                   help="the supervised pool (default: $FUTURED_POOL)")
    a = p.parse_args(argv)
    if a.cpu:
        # The daemon ends a cancelled cpu job with SIGTERM to the
        # process group: go at once, whatever the job is doing.
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    conc = a.concurrency or (1 if a.cpu else 64)
    mods = []
    for m in a.modules:
        m = "main:" + m if a.main else m
        try:
            _task.load_module(os.path.abspath(m) if _task.is_script(m)
                              else m)
        except (Exception, SystemExit) as e:
            # One line: a supervised pool's last failure is the end of
            # our stderr, and the caller's error says it.  A module
            # that calls sys.exit() when imported is one that fails.
            print("futured.worker: cannot load %s: %s" % (
                m, _load_error(e)), file=sys.stderr)
            return 2
        mods.append(m)
    if os.environ.get("FUTURED_ONESHOT"):
        # One task from a file, no daemon (the Slurm engine's nodes).
        from . import _oneshot
        return _oneshot.main(mods, a.cpu)
    w = None
    try:
        w = Worker(socket=a.socket, concurrency=conc, threads=a.threads,
                   pool=a.pool, name="python %s" % " ".join(a.modules))
        for m in mods:
            w.serve_module(m, cpu=a.cpu)
        w.run()
    except futured.ConnectionLost as e:
        print("futured.worker: %s" % e, file=sys.stderr)
        # The daemon went away (shutdown, restart): done.  Never
        # connected at all: a failure, for whoever runs us.
        return 0 if w is not None and w.ready.is_set() else 1
    except futured.Error as e:
        print("futured.worker: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
