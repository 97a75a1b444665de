"""futured: hand work to the futured daemon and get back one kind of future.

    import futured

    f = futured.submit("exec", "sh", "-c", "make", kind="cpu", timeout=60)
    g = futured.submit("echo", data=b"hi", kind="cpu")
    g.result(5)                  # b"hi", from any thread
    await f                      # or this, in asyncio or trio

futured.submit() uses an ambient client: a connection opened on first use
by the socket rules of futured(8) ($FUTURED_SOCKET, then
$XDG_RUNTIME_DIR/futured/futured.sock, then /tmp/futured-$UID/futured.sock),
shared by every thread, and opened again in a child after fork() or after
the daemon went away.  Client(socket) is an explicit connection with the
same methods.

A Future behaves like concurrent.futures.Future (done, result, exception,
cancel, cancelled, running, add_done_callback) and is awaitable: in
asyncio the client's file descriptor is watched with loop.add_reader()
and trio's wait_readable(), so no thread is parked per future.  result()
raises JobFailed, JobCancelled or JobTimedOut, which carry the job's error
message, exit status, signal and stderr tail.

This is a binding over libfutured(3) with ctypes; see _lib.py for where
the library is found.
"""

import collections
import concurrent.futures
import contextvars
import ctypes
import itertools
import logging
import math
import os
import select
import sys
import threading
import time

from . import _lib
from ._lib import lib

__all__ = [
    "submit", "attach", "wait", "as_completed", "Client", "Future",
    "info", "list", "stats", "metrics", "handlers", "ping", "watch",
    "WatchEvent", "logs",
    "Error", "ConnectionLost", "JobError", "JobFailed", "JobCancelled",
    "JobTimedOut", "ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION",
    "ASYNC", "BLOCKING", "CPU", "group", "task", "TaskFunction",
    "TaskFuture", "RemoteTraceback", "Worker", "Task", "current_task",
]

ALL_COMPLETED = concurrent.futures.ALL_COMPLETED
FIRST_COMPLETED = concurrent.futures.FIRST_COMPLETED
FIRST_EXCEPTION = concurrent.futures.FIRST_EXCEPTION

ASYNC = "async"
BLOCKING = "blocking"
CPU = "cpu"

# The version of the libfutured the binding runs on (fut_version()), or
# None when the library cannot be loaded.
__version__ = lib.fut_version().decode() if lib is not None else None

_KINDS = {ASYNC: _lib.FUT_ASYNC, BLOCKING: _lib.FUT_BLOCKING,
          CPU: _lib.FUT_CPU}
_STATES = {
    _lib.FUT_WAITING: "waiting", _lib.FUT_QUEUED: "queued",
    _lib.FUT_RUNNING: "running", _lib.FUT_SUCCEEDED: "succeeded",
    _lib.FUT_FAILED: "failed", _lib.FUT_CANCELLED: "cancelled",
    _lib.FUT_TIMED_OUT: "timed_out",
}

_FINAL = frozenset((_lib.FUT_SUCCEEDED, _lib.FUT_FAILED,
                    _lib.FUT_CANCELLED, _lib.FUT_TIMED_OUT))

# Longest single wait inside the library: between slices Python runs its
# signal handlers, so Ctrl-C interrupts result() and wait().
_SLICE_MS = 1000

LOGGER = logging.getLogger("futured")

DoneAndNotDoneFutures = collections.namedtuple(
    "DoneAndNotDoneFutures", "done not_done")

WatchEvent = collections.namedtuple("WatchEvent", "job_id info output final")
WatchEvent.__doc__ = """One event of Client.watch(): info is the job's
info (a dict, as Client.info() gives it, without output), output the
bytes it wrote since the previous event (b"" if none) and final True
for the job's last event."""


def _str(p):
    return None if p is None else p.decode("utf-8", "replace")


def _cbytes(fn, obj):
    n = ctypes.c_size_t()
    p = fn(obj, ctypes.byref(n))
    if p is None:
        return None
    return ctypes.string_at(p, n.value)


def _info_dict(i):
    """The fut_info i as a dict with futurectl --json's keys; times in
    seconds since the epoch, absent fields None."""
    has = lib.fut_info_has

    def opt(field, value):
        return value if has(i, field) else None

    def when(field, ms):
        return ms / 1000.0 if has(i, field) else None

    ctx = {}
    for n in range(lib.fut_info_nctx(i)):
        v = ctypes.c_char_p()
        k = lib.fut_info_ctx(i, n, ctypes.byref(v))
        ctx[_str(k)] = _str(v.value)
    return {
        "id": lib.fut_info_id(i),
        "state": _str(lib.fut_state_name(lib.fut_info_state(i))),
        "kind": opt(_lib.FUT_FIELD_KIND,
                    _str(lib.fut_kind_name(lib.fut_info_kind(i)))),
        "handler": _str(lib.fut_info_handler(i)),
        "name": _str(lib.fut_info_name(i)),
        "group": _str(lib.fut_info_group(i)),
        "progress": opt(_lib.FUT_FIELD_PROGRESS, lib.fut_info_progress(i)),
        "progress_msg": _str(lib.fut_info_progress_msg(i)),
        "exit_status": opt(_lib.FUT_FIELD_EXIT_STATUS,
                           lib.fut_info_exit_status(i)),
        "signal": opt(_lib.FUT_FIELD_SIGNAL, lib.fut_info_signal(i)),
        "error": _str(lib.fut_info_error(i)),
        "ended": _str(lib.fut_info_ended(i)),
        "output": _cbytes(lib.fut_info_output, i),
        "output_truncated": bool(lib.fut_info_output_truncated(i)),
        "stderr": _cbytes(lib.fut_info_stderr, i),
        "submitted_at": when(_lib.FUT_FIELD_SUBMITTED,
                             lib.fut_info_submitted_ms(i)),
        "started_at": when(_lib.FUT_FIELD_STARTED,
                           lib.fut_info_started_ms(i)),
        "finished_at": when(_lib.FUT_FIELD_FINISHED,
                            lib.fut_info_finished_ms(i)),
        "attempts": opt(_lib.FUT_FIELD_ATTEMPTS, lib.fut_info_attempts(i)),
        "retries": lib.fut_info_retries(i),
        "parent": opt(_lib.FUT_FIELD_PARENT, lib.fut_info_parent(i)),
        "priority": opt(_lib.FUT_FIELD_PRIORITY, lib.fut_info_priority(i)),
        "args": [_str(lib.fut_info_arg(i, n))
                 for n in range(lib.fut_info_nargs(i))],
        "ctx": ctx,
    }


class Error(Exception):
    """A failure of futured itself, not of a job; .code is the FUT_E* code."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class ConnectionLost(Error, ConnectionError):
    """The daemon could not be reached, or the connection to it was lost."""


class JobError(Error):
    """A job that did not succeed.

    Attributes: job_id, state ("failed", "cancelled", "timed_out"), error
    (the daemon's message or None), exit_status (a command's, or None),
    signal (the one that ended a command, or None), stderr (the last bytes
    a command wrote to its standard error, b"" if none).
    """

    def __init__(self, message, job_id=None, state=None, error=None,
                 exit_status=None, signal=None, stderr=b""):
        super().__init__(message)
        self.job_id = job_id
        self.state = state
        self.error = error
        self.exit_status = exit_status
        self.signal = signal
        self.stderr = stderr


class JobFailed(JobError):
    """The job failed: a command exited non-zero, a handler reported an
    error, or a dependency failed.

    For a Python task (futured.task) whose exception could not be
    unpickled here, also exc_type (its qualified name, e.g.
    "myapp.BadInput"), exc_message (str() of it) and traceback (the
    remote traceback's text); None otherwise.
    """

    exc_type = None
    exc_message = None
    traceback = None


class JobCancelled(JobError, concurrent.futures.CancelledError):
    """The job was cancelled (by cancel(), a group, a parent, or a
    cancelled dependency)."""


class JobTimedOut(JobError):
    """The job ran past its own timeout or deadline.  Not to be confused
    with TimeoutError, which result(timeout) raises when the wait runs
    out while the job goes on."""


def _need_lib():
    if lib is None:
        raise ImportError("futured: cannot load libfutured: %s"
                          % _lib.load_error)


def _to_ms(seconds, what):
    if seconds is None:
        return None
    ms = int(math.ceil(float(seconds) * 1000))
    if ms <= 0:
        raise ValueError("%s must be positive, not %r" % (what, seconds))
    return ms


def _bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, os.PathLike):
        return os.fsencode(v)
    return str(v).encode("utf-8")


# libfutured's ceiling of a payload (FUTURED_FRAME_CEILING): beyond it
# fut_spec_payload() fails.
_PAYLOAD_MAX = 1 << 30


def _job_id(x):
    return x.id if isinstance(x, Future) else int(x)


# Done-callbacks from C.  The registry keeps a strong reference to every
# unfinished Future, so its C callback never finds it freed, and so that
# a Future nobody holds still runs its callbacks.  Keys start at 1: a
# NULL void * arrives as None.
_registry = {}
_registry_lock = threading.Lock()
_keys = itertools.count(1)


# Settling a future calls libfutured, whose every call runs the
# done-callbacks queued meanwhile before it returns: each callback would
# run the next one frame deeper, and a read that finished thousands of
# jobs ended in RecursionError.  A callback that comes while this thread
# settles futures only queues its future; the outermost one settles them
# all, one after the other.
_settling = threading.local()


@_lib.DONE_CB
def _done_trampoline(_fptr, key):
    with _registry_lock:
        fut = _registry.pop(key, None)
    if fut is None:
        return
    queue = getattr(_settling, "queue", None)
    if queue is not None:
        queue.append(fut)
        return
    _settling.queue = queue = collections.deque((fut,))
    try:
        while queue:
            f = queue.popleft()
            try:
                f._settle()
            except Exception:
                LOGGER.exception("settling %r", f)
    finally:
        _settling.queue = None


class Future:
    """The future of one job; safe to use from any thread, and awaitable.

    Obtained from submit() or attach(); not created directly.  Attributes:
    id (the job id, as futurectl prints it) and client.
    """

    # Until the future is done (set on the object from then on).
    _done = False
    _state = None
    _result = None
    _exception = None
    _driven = False

    def __init__(self, client, ptr):
        self.client = client
        self._ptr = ptr
        self._pid = os.getpid()
        self.id = lib.fut_id(ptr)
        self._lock = threading.Lock()
        self._callbacks = []
        key = next(_keys)
        with _registry_lock:
            _registry[key] = self
        # Runs _done_trampoline at once if the job is already final.
        lib.fut_on_done(ptr, _done_trampoline, key)

    @classmethod
    def _adopt(cls, client, ptrs):
        """cls(client, ptr) for each of ptrs (None for a NULL one), made
        in bulk: one registry lock and one getpid() for them all."""
        pid = os.getpid()
        new = cls.__new__
        fid = lib.fut_id
        lock = threading.Lock
        futs = []
        for ptr in ptrs:
            if not ptr:
                futs.append(None)
                continue
            f = new(cls)
            f.client = client
            f._ptr = ptr
            f._pid = pid
            f.id = fid(ptr)
            f._lock = lock()
            f._callbacks = []
            futs.append(f)
        keyed = [(next(_keys), f) for f in futs if f is not None]
        with _registry_lock:
            _registry.update(keyed)
        on_done = lib.fut_on_done
        for key, f in keyed:
            on_done(f._ptr, _done_trampoline, key)
        return futs

    # At exit the module's globals may be gone before the last Future:
    # what __del__ needs is bound here.
    def __del__(self, _getpid=os.getpid, _lib=lib):
        ptr, self._ptr = getattr(self, "_ptr", None), None
        # A child of fork() must not touch the parent's connection: its
        # lock may have been held by a thread that does not exist here.
        if ptr and self._pid == _getpid() and _lib is not None:
            _lib.fut_future_free(ptr)

    def __repr__(self):
        return "<futured.%s job %d %s>" % (type(self).__name__, self.id,
                                           self.state)

    def __reduce__(self):
        # A Future travels as its job: unpickled (in a task, another
        # process) it is a Future of the same job on that side.
        return (_task._future_from_pickle,
                (self.id, self.client.socket, isinstance(self, TaskFuture)))

    def then(self, fn, **options):
        """The Future of the task fn (a futured.task, or a function
        futured.task() accepts) called with this job's result once it
        succeeded; cancelled (or failed) with it otherwise.  options as
        futured.task() takes them, for this call."""
        return _task.then(self, fn, options)

    # Settling: the outcome is read from C once, by whichever thread sees
    # the job final first; it then runs the callbacks.

    def _settle(self):
        """Take the outcome from C if the job is final or lost; True if
        the future is done."""
        if self._done:
            return True
        ptr = self._ptr
        st = lib.fut_poll(ptr)
        if st not in _FINAL:
            rc = lib.fut_wait(ptr, 0)	# never blocks: final, lost or not
            if rc == _lib.FUT_ETIMEDOUT:
                return False
            st = lib.fut_poll(ptr) if rc == 0 else None
        else:
            rc = 0
        result = exc = None
        if rc != 0:
            msg = lib.fut_error(ptr)
            exc = ConnectionLost(
                "job %d: %s" % (self.id, msg.decode("utf-8", "replace")
                                if msg else _lib.strerror(rc)), rc)
        elif st == _lib.FUT_SUCCEEDED:
            n = ctypes.c_size_t()
            p = lib.fut_output(ptr, ctypes.byref(n))
            result = ctypes.string_at(p, n.value) if p else b""
        else:
            exc = self._job_error(st)
        with self._lock:
            if self._done:
                return True
            self._state = st
            self._result = result
            self._exception = exc
            self._done = True
            cbs, self._callbacks = self._callbacks, []
            driven, self._driven = self._driven, False
        if driven:
            self.client._undrive()
        for fn in cbs:
            try:
                fn(self)
            except Exception:
                LOGGER.exception("exception calling callback for %r", self)
        return True

    def _job_error(self, st):
        ptr = self._ptr
        err = lib.fut_error(ptr)
        err = err.decode("utf-8", "replace") if err else None
        status = lib.fut_exit_status(ptr)
        sig = lib.fut_signal(ptr)
        n = ctypes.c_size_t()
        p = lib.fut_stderr(ptr, ctypes.byref(n))
        tail = ctypes.string_at(p, n.value) if p else b""
        name = _STATES.get(st, "failed")
        cls = {_lib.FUT_CANCELLED: JobCancelled,
               _lib.FUT_TIMED_OUT: JobTimedOut}.get(st, JobFailed)
        msg = "job %d %s" % (self.id, name.replace("_", " "))
        if err:
            msg += ": " + err
        elif status >= 0:
            msg += ": exit status %d" % status
        elif sig > 0:
            msg += ": signal %d" % sig
        return cls(msg, job_id=self.id, state=name, error=err,
                   exit_status=status if status >= 0 else None,
                   signal=sig if sig > 0 else None, stderr=tail)

    def _add_done_callback(self, fn):
        with self._lock:
            if not self._done:
                self._callbacks.append(fn)
                return
        fn(self)

    def _wait(self, timeout):
        if self._done:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is None:
                ms = _SLICE_MS
            else:
                left = deadline - time.monotonic()
                ms = max(0, min(_SLICE_MS, int(math.ceil(left * 1000))))
            rc = lib.fut_wait(self._ptr, ms)
            if rc != _lib.FUT_ETIMEDOUT and self._settle():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return self._settle()

    # concurrent.futures.Future's interface.

    @property
    def state(self):
        """The job's state: "waiting", "queued", "running", "succeeded",
        "failed", "cancelled", "timed_out" ("lost" if the connection went
        first).  Never blocks."""
        if not self.done():
            return _STATES.get(lib.fut_poll(self._ptr), "queued")
        if self._state is None:
            return "lost"
        return _STATES[self._state]

    def done(self):
        """True once the job is final (or its connection lost).  Never
        blocks: it reads only what the daemon has already sent."""
        if self._done:
            return True
        lib.fut_poll(self._ptr)		# reads what has arrived
        return self._settle()

    def running(self):
        """True while the job runs (the daemon tells when it starts).
        Never blocks."""
        return not self.done() and \
            lib.fut_poll(self._ptr) == _lib.FUT_RUNNING

    @property
    def progress(self):
        """The job's progress as last told, 0 to 1 (0 until the job
        reports some, 1 once it succeeded).  Never blocks."""
        return self._progress()[0]

    @property
    def progress_msg(self):
        """The job's progress message as last told, or None.  Never
        blocks."""
        return self._progress()[1]

    def _progress(self):
        lib.fut_poll(self._ptr)		# reads what has arrived
        buf = ctypes.create_string_buffer(4096)
        p = lib.fut_progress(self._ptr, buf, len(buf))
        msg = buf.value.decode("utf-8", "replace") if buf.value else None
        return p, msg

    def cancelled(self):
        """True if the job ended cancelled."""
        return self.done() and self._state == _lib.FUT_CANCELLED

    def cancel(self):
        """Ask the daemon to cancel the job.  True if that took effect
        (or the job had already ended cancelled), False if it had already
        ended otherwise.  The job is final a little later (a command is
        sent SIGTERM, then SIGKILL); result() waits for that and raises
        JobCancelled."""
        if self._done:
            return self._state == _lib.FUT_CANCELLED
        rc = lib.fut_cancel(self._ptr)
        if rc == 1:
            return True
        if rc == 0:
            self._wait(None) if not self._done else None
        return self.done() and self._state == _lib.FUT_CANCELLED

    def result(self, timeout=None):
        """The job's output as bytes, waiting up to timeout seconds (None:
        for ever).  Raises TimeoutError when the wait runs out (the job
        goes on), JobFailed, JobCancelled or JobTimedOut when the job did
        not succeed, ConnectionLost when the daemon went away."""
        if not self._wait(timeout):
            raise TimeoutError("job %d not finished after %s s"
                               % (self.id, timeout))
        if self._exception is not None:
            raise self._exception
        return self._result

    def exception(self, timeout=None):
        """The exception result() would raise, or None if the job
        succeeded; waits as result() does."""
        if not self._wait(timeout):
            raise TimeoutError("job %d not finished after %s s"
                               % (self.id, timeout))
        return self._exception

    def add_done_callback(self, fn):
        """Call fn(future) once the job is final; at once if it is.

        fn runs on the thread that learns of the completion: one waiting
        in result() or wait(), the event loop that awaits a future of the
        same client, or else the client's callback thread, which the
        client starts while callbacks wait and no one else reads."""
        with self._lock:
            if not self._done:
                self._callbacks.append(fn)
                if not self._driven:
                    self._driven = True
                    self.client._drive()
                return
        fn(self)

    # Awaiting.

    def __await__(self):
        if not self.done():
            yield from self._wait_async().__await__()
        return self.result()

    async def _wait_async(self):
        aio = sys.modules.get("asyncio")
        loop = None
        if aio is not None:
            loop = aio._get_running_loop()
        if loop is not None:
            await self._wait_asyncio(loop)
            return
        trio = sys.modules.get("trio")
        if trio is not None:
            try:
                trio.lowlevel.current_trio_token()
            except RuntimeError:
                pass
            else:
                await self._wait_trio(trio)
                return
        raise RuntimeError("futured.Future awaited outside asyncio and trio")

    async def _wait_asyncio(self, loop):
        # The loop watches the client's fd and calls fut_client_dispatch;
        # whichever thread reads the completion wakes this task.
        afut = loop.create_future()

        def wake(_fut):
            try:
                loop.call_soon_threadsafe(_asyncio_wake, afut)
            except RuntimeError:
                pass		# the loop is closed

        self.client._watch(loop)
        try:
            self._add_done_callback(wake)
            await afut
        except BaseException:
            # The awaiting task was cancelled (task.cancel(),
            # asyncio.wait_for() running out): the job goes with it, as a
            # concurrent future does under asyncio.wrap_future().
            self._cancel_quietly()
            raise
        finally:
            self.client._unwatch(loop)

    async def _wait_trio(self, trio):
        token = trio.lowlevel.current_trio_token()
        ev = trio.Event()

        def wake(_fut):
            try:
                token.run_sync_soon(ev.set)
            except trio.RunFinishedError:
                pass

        self.client._trio_watch(trio)
        self._add_done_callback(wake)
        try:
            await ev.wait()
        except BaseException:
            # A cancel scope ended the wait: cancel the job too.
            self._cancel_quietly()
            raise

    def _cancel_quietly(self):
        # Never raises: the caller is already on its way out with an
        # exception of its own.  Does not wait for the job to be final.
        if not self._done:
            try:
                lib.fut_cancel(self._ptr)
            except Exception:
                pass


def _asyncio_wake(afut):
    if not afut.done():
        afut.set_result(None)


_trio_runvar = None


class Client:
    """A connection to futured, shared by every thread that uses it.

    socket: the daemon's socket path; None follows the socket rules
    ($FUTURED_SOCKET, $XDG_RUNTIME_DIR/futured/futured.sock,
    /tmp/futured-$UID/futured.sock).  Raises ConnectionLost if the daemon
    cannot be reached.  Usable as a context manager; close() closes it.
    """

    def __init__(self, socket=None):
        _need_lib()
        path = os.fsencode(socket) if socket is not None else None
        c = lib.fut_connect(path)
        if not c:
            e = ctypes.get_errno()
            raise ConnectionLost("cannot connect to futured%s: %s" % (
                " at %s" % socket if socket else "", os.strerror(e)),
                _lib.FUT_ECONN)
        self._c = c
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False
        self.socket = socket
        self._watchers = {}
        self._drivers = 0
        self._py_pools = {}
        self._driver = None

    def __del__(self, _getpid=os.getpid, _lib=lib):
        c, self._c = getattr(self, "_c", None), None
        if c and self._pid == _getpid() and _lib is not None:
            _lib.fut_close(c)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<futured.Client fd %d>" % self.fileno()

    def _check(self):
        if self._pid != os.getpid():
            raise RuntimeError("futured.Client used in a child after fork; "
                               "make a new one (the ambient client does)")
        if self._closed:
            raise ValueError("futured.Client is closed")

    def close(self):
        """Close the connection.  Unfinished futures end with
        ConnectionLost; finished ones keep their outcome."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # fut_close() may free the client: nothing, __del__ included,
            # may pass the pointer to libfutured again.
            c, self._c = self._c, None
        if self._pid == os.getpid():
            lib.fut_close(c)

    def fileno(self):
        """The connection's file descriptor (for an event loop)."""
        return lib.fut_client_fd(self._c)

    def dispatch(self):
        """Read what the daemon sent, without blocking, and run the
        done-callbacks of the jobs that finished.  Call it when fileno()
        is readable; asyncio and trio do that for you when you await."""
        rc = lib.fut_client_dispatch(self._c)
        if rc < 0:
            raise ConnectionLost(self._error(), rc)

    def _error(self):
        c = self._c
        if c is None:
            return "futured.Client is closed"
        return lib.fut_client_error(c).decode("utf-8", "replace")

    def _raise(self, what):
        code = lib.fut_client_errcode(self._c)
        msg = "%s: %s" % (what, self._error())
        if code in (_lib.FUT_ECONN, _lib.FUT_EPROTO, _lib.FUT_ESHUTDOWN):
            raise ConnectionLost(msg, code)
        raise Error(msg, code)

    def submit(self, handler, *args, data=b"", kind=None, timeout=None,
               deadline=None, after=(), input_from=None, group=None,
               priority=0, ctx=None, env=None, retries=0, name=None,
               cwd=None, parent=None, engine=None, _cls=None):
        """Submit a job and return its Future once the daemon accepted it.

        handler: "exec", "sleep", "echo", "sha256", ...; args: its
        arguments (for exec, the command).  data: the payload (a
        command's stdin).  kind: "async", "blocking" or "cpu" (default:
        the handler's own).  timeout: run-time limit in seconds from the
        start; deadline: limit in seconds from now, queue time included.
        after: jobs (ids or Futures) that must succeed first; input_from:
        a job whose output becomes the payload.  group, priority (-20
        first .. 20 last), ctx (dict, inherited by jobs it submits),
        retries, name.  cwd (default: the current directory, for a job
        with arguments) is where relative paths among them are
        resolved.  For exec, the command gets this process's
        environment with env (a dict) on top, as futurectl does; other
        handlers get env as given.  parent: the job this one is a child of
        (default: the task this code runs in, if any, see current_task()):
        it inherits its context and deadline and is cancelled with it.
        engine: where it runs, "local" (the default) or "slurm"
        (futured(8), The Slurm engine).
        Raises Error (e.g. an unknown handler) or ConnectionLost.
        """
        self._check()
        ops = self._options(handler, kind, timeout, deadline, after,
                            input_from, group, priority, ctx, env, retries,
                            name, cwd, parent, engine)
        spec = lib.fut_spec_new(_bytes(handler))
        if not spec:
            raise ValueError("bad handler %r" % (handler,))
        try:
            self._fill(spec, args, data, ops)
            ptr = lib.fut_submit(self._c, spec)
            if not ptr:
                self._raise("submit %s" % handler)
        finally:
            lib.fut_spec_free(spec)
        return (_cls or Future)(self, ptr)

    # Jobs per fut_submit_all() of _submit_all(): the first jobs run
    # while the next are sent.  Each write waits for its answers (a
    # round trip, slow when the daemon is busy serving the first
    # ones), so they grow: _CHUNK, twice that, ... up to _CHUNK_MAX.
    _CHUNK = 256
    _CHUNK_MAX = 8192

    def _submit_all(self, handler, calls, kind=None, timeout=None,
                    deadline=None, after=(), input_from=None, group=None,
                    priority=0, ctx=None, env=None, retries=0, name=None,
                    cwd=None, parent=None, engine=None, _cls=None):
        """Futures of jobs of handler, one per (args, data) of calls,
        the options as submit() takes them, for all.  A bad call raises
        ValueError before any job is sent; the jobs go in growing writes
        (fut_submit_all), so that the first run while the others are
        sent.  A refused job raises Error once the others are accepted
        (they run)."""
        self._check()
        ops = self._options(handler, kind, timeout, deadline, after,
                            input_from, group, priority, ctx, env, retries,
                            name, cwd, parent, engine)
        hb = _bytes(handler)
        # What could make a spec fail is checked first, so that a bad
        # call raises before any job is sent; the specs themselves are
        # made a write at a time, the first jobs running meanwhile.
        calls = [(args, _bytes(data)) for args, data in calls]
        for args, data in calls:
            if len(data) > _PAYLOAD_MAX:
                raise ValueError("data: %d bytes, more than %d"
                                 % (len(data), _PAYLOAD_MAX))
        cls = _cls or Future
        futs = []
        refused = 0
        i, step = 0, self._CHUNK
        while i < len(calls):
            part = calls[i:i + step]
            i += step
            step = min(2 * step, max(self._CHUNK, self._CHUNK_MAX))
            n = len(part)
            specs = (ctypes.c_void_p * n)()
            try:
                for k, (args, data) in enumerate(part):
                    spec = specs[k] = lib.fut_spec_new(hb)
                    if not spec:
                        raise ValueError("bad handler %r" % (handler,))
                    self._fill(spec, args, data, ops)
                out = (ctypes.c_void_p * n)()
                rc = lib.fut_submit_all(self._c, specs, n, out)
            finally:
                for spec in specs:
                    if spec:
                        lib.fut_spec_free(spec)
            if rc < 0:
                # Those sent before run on; their futures go.
                try:
                    self._raise("submit %s" % handler)
                except Error as e:
                    e.accepted = None		# unknown
                    raise
            futs.extend(cls._adopt(self, out))
            refused += n - rc
        if refused:
            try:
                self._raise("submit %s (%d of %d refused)" % (
                    handler, refused, len(calls)))
            except Error as e:
                # A caller may send them again if none went through.
                e.accepted = len(calls) - refused
                raise
        return futs

    @staticmethod
    def _options(handler, kind, timeout, deadline, after, input_from,
                 group, priority, ctx, env, retries, name, cwd, parent,
                 engine):
        """The spec calls of submit()'s options, made once for any
        number of jobs: a list of (function, arguments, what) for
        _fill()."""
        ops = []

        def op(fn, what, *a):
            ops.append((fn, a, what))

        if kind is not None:
            if kind not in _KINDS:
                raise ValueError("kind must be async, blocking or cpu, "
                                 "not %r" % (kind,))
            op(lib.fut_spec_kind, "kind", _KINDS[kind])
        if timeout is not None:
            op(lib.fut_spec_timeout_ms, "timeout",
               _to_ms(timeout, "timeout"))
        if deadline is not None:
            op(lib.fut_spec_deadline_ms, "deadline",
               _to_ms(deadline, "deadline"))
        if isinstance(after, (int, Future)):
            after = (after,)
        for a in after:
            op(lib.fut_spec_after, "after %r" % (a,), _job_id(a))
        if input_from is not None:
            op(lib.fut_spec_input_from, "input_from", _job_id(input_from))
        if group is not None:
            op(lib.fut_spec_group, "group", _bytes(group))
        if priority:
            op(lib.fut_spec_priority, "priority", int(priority))
        for k, v in (ctx or {}).items():
            op(lib.fut_spec_ctx, "ctx key %r" % (k,), _bytes(k), _bytes(v))
        # A relative path among the arguments means this directory, as
        # it would in a shell: libfutured sends it with every job that
        # has arguments; a job without arguments needs none (and stays
        # the daemon's smallest kind of job), but a command does.
        is_exec = _bytes(handler) == b"exec"
        if cwd is None and is_exec:
            cwd = os.getcwd()
        if is_exec:
            full = dict(os.environb)
            for k, v in (env or {}).items():
                full[_bytes(k)] = _bytes(v)
        else:
            full = {_bytes(k): _bytes(v) for k, v in (env or {}).items()}
        for k, v in full.items():
            op(lib.fut_spec_env, "env key %r" % (k,), k, v)
        if cwd is not None:
            op(lib.fut_spec_cwd, "cwd", _bytes(cwd))
        if retries:
            op(lib.fut_spec_retries, "retries", int(retries))
        if name is not None:
            op(lib.fut_spec_name, "name", _bytes(name))
        if parent is None:
            t = _current.get()
            parent = t.job_id if t is not None else None
        if parent is not None:
            if not _lib.has("fut_spec_parent"):
                raise Error("this libfutured has no fut_spec_parent")
            op(lib.fut_spec_parent, "parent", _job_id(parent))
        if engine is not None:
            if not _lib.has("fut_spec_engine"):
                raise Error("this libfutured has no fut_spec_engine")
            op(lib.fut_spec_engine, "engine %r" % (engine,), _bytes(engine))
        return ops

    @staticmethod
    def _fill(spec, args, data, ops):
        """Set one job's payload and arguments, then the options' ops."""
        data = _bytes(data)
        rc = lib.fut_spec_payload(spec, data, len(data))
        if rc != 0:
            raise ValueError("data: %s" % _lib.strerror(rc))
        for a in args:
            rc = lib.fut_spec_arg(spec, _bytes(a))
            if rc != 0:
                raise ValueError("argument %r: %s" % (a, _lib.strerror(rc)))
        for fn, a, what in ops:
            rc = fn(spec, *a)
            if rc != 0:
                raise ValueError("%s: %s" % (what, _lib.strerror(rc)))

    def attach(self, job_id, _cls=None):
        """A Future for an existing job, made by any program of the same
        user (futurectl, another process).  Raises Error if there is no
        such job."""
        self._check()
        ptr = lib.fut_attach(self._c, int(job_id))
        if not ptr:
            self._raise("attach %s" % job_id)
        return (_cls or Future)(self, ptr)

    def pool(self, argv, size=0, kinds=None, cwd=None, env=None,
             name=None):
        """Ask the daemon for a supervised pool running argv (a list):
        size processes (0: as many as its cpu pool), serving kinds (a
        list; None: all three), started in cwd (None: "/") with env (a
        dict: their whole environment).  Returns once its first process
        registered, or at once if it runs already: a dict of name (the
        pool's), handlers (the names its first process serves) and
        created.  Raises Error naming why it could not start."""
        self._check()
        if not _lib.has("fut_pool_request"):
            raise Error("this libfutured has no fut_pool_request",
                        _lib.FUT_EINVAL)
        cargv = [_bytes(a) for a in argv]
        cenv = [_bytes(k) + b"=" + _bytes(v) for k, v in (env or {}).items()]
        mask = 0
        for k in (kinds or ()):
            if k not in _KINDS:
                raise ValueError("kind must be async, blocking or cpu, "
                                 "not %r" % (k,))
            mask |= 1 << _KINDS[k]
        p = ctypes.c_void_p()
        self._call("pool %s" % " ".join(map(str, argv)),
                   lib.fut_pool_request(
                       self._c, (ctypes.c_char_p * len(cargv))(*cargv),
                       len(cargv), int(size), mask,
                       None if cwd is None else _bytes(cwd),
                       (ctypes.c_char_p * len(cenv))(*cenv), len(cenv),
                       None if name is None else _bytes(name),
                       ctypes.byref(p)))
        try:
            return {"name": _str(lib.fut_pool_name(p)),
                    "created": bool(lib.fut_pool_created(p)),
                    "handlers": [_str(lib.fut_pool_handler(p, n))
                                 for n in range(lib.fut_pool_nhandlers(p))]}
        finally:
            lib.fut_pool_free(p)

    def group(self, name, fail_fast=None, parallel=None):
        """Create or configure the caller's group name: fail_fast (the
        first member that fails, is cancelled or times out cancels the
        others), parallel (most members running at once, 0: no limit);
        None leaves a setting as it is.  Returns the group as a dict:
        name, fail_fast, parallel, created, jobs, running, pending,
        succeeded, failed."""
        self._check()
        if not _lib.has("fut_group_set"):
            raise Error("this libfutured has no fut_group_set")
        p = ctypes.c_void_p()
        self._call("group %s" % name, lib.fut_group_set(
            self._c, _bytes(name),
            -1 if fail_fast is None else int(bool(fail_fast)),
            -1 if parallel is None else int(parallel), ctypes.byref(p)))
        try:
            d = {"name": _str(lib.fut_group_name(p)),
                 "fail_fast": bool(lib.fut_group_fail_fast(p)),
                 "parallel": lib.fut_group_parallel(p),
                 "created": bool(lib.fut_group_created(p))}
            for n, k in enumerate(("jobs", "running", "pending",
                                   "succeeded", "failed")):
                d[k] = lib.fut_group_count(p, n)
            return d
        finally:
            lib.fut_group_free(p)

    # Snapshots of the daemon's state.

    def _call(self, what, rc):
        if rc < 0:
            self._raise(what)

    def info(self, job_id, output=False):
        """A job's info as a dict: id, state, kind, handler, name, group,
        progress, progress_msg, exit_status, signal, error, ended,
        output, output_truncated, stderr, submitted_at, started_at,
        finished_at (seconds since the epoch), attempts, retries, parent,
        priority, args, ctx; None where the daemon said nothing.  With
        output=True the job must have finished and output is its output.
        Raises Error (code FUT_ENOTFOUND) for no such job."""
        self._check()
        p = ctypes.c_void_p()
        fn = lib.fut_result if output else lib.fut_status
        self._call("info %s" % job_id, fn(self._c, _job_id(job_id),
                                          ctypes.byref(p)))
        try:
            return _info_dict(p)
        finally:
            lib.fut_info_free(p)

    def list(self, state=None, group=None):
        """The caller's jobs, oldest first, as info dicts without output:
        all, or those in state ("running", ...) and of group."""
        self._check()
        st = -1
        if state is not None:
            names = {v: k for k, v in _STATES.items()}
            if state not in names:
                raise ValueError("bad state %r" % (state,))
            st = names[state]
        p = ctypes.c_void_p()
        self._call("list", lib.fut_list(
            self._c, st, None if group is None else _bytes(group),
            ctypes.byref(p)))
        try:
            return [_info_dict(lib.fut_infos_at(p, n))
                    for n in range(lib.fut_infos_count(p))]
        finally:
            lib.fut_infos_free(p)

    def handlers(self):
        """The daemon's handlers: dicts of name, kinds, default_kind and
        description."""
        self._check()
        p = ctypes.c_void_p()
        self._call("handlers", lib.fut_handlers(self._c, ctypes.byref(p)))
        try:
            out = []
            for n in range(lib.fut_handlers_count(p)):
                mask = lib.fut_handlers_kinds(p, n)
                out.append({
                    "name": _str(lib.fut_handlers_name(p, n)),
                    "kinds": [k for k, v in _KINDS.items()
                              if mask & (1 << v)],
                    "default_kind": _str(lib.fut_kind_name(
                        lib.fut_handlers_default_kind(p, n))),
                    "description": _str(lib.fut_handlers_description(p, n)),
                })
            return out
        finally:
            lib.fut_handlers_free(p)

    def stats(self):
        """The daemon's counters, as futurectl --json stats prints them."""
        self._check()
        p = ctypes.c_void_p()
        self._call("stats", lib.fut_stats(self._c, ctypes.byref(p)))
        counters = ("waiting", "queued", "running", "succeeded", "failed",
                    "cancelled", "timed_out", "pool_size", "pool_busy")
        try:
            kinds = []
            for n in range(lib.fut_stats_nkinds(p)):
                k = {"kind": _str(lib.fut_kind_name(lib.fut_stats_kind(p, n)))}
                for which, name in enumerate(counters):
                    k[name] = lib.fut_stats_get(p, n, which)
                kinds.append(k)
            out = {
                "server_version": _str(lib.fut_stats_server_version(p)),
                "uptime_ms": lib.fut_stats_uptime_ms(p),
                "jobs_total": lib.fut_stats_jobs_total(p),
                "connections": lib.fut_stats_connections(p),
                "kinds": kinds,
            }
            if _lib.has("fut_stats_pool_state"):
                out["pools"] = [self._stats_pool(p, n) for n in
                                range(lib.fut_stats_npools(p))]
            return out
        finally:
            lib.fut_stats_free(p)

    @staticmethod
    def _stats_pool(p, n):
        """One worker pool of stats(), as futurectl --json prints it."""
        pool = {
            "name": _str(lib.fut_stats_pool_name(p, n)),
            "supervised": bool(lib.fut_stats_pool_supervised(p, n)),
        }
        for which, name in enumerate(("processes", "busy", "capacity")):
            pool[name] = lib.fut_stats_pool_get(p, n, which)
        state = lib.fut_stats_pool_state(p, n)
        if state is None:
            return pool
        pool["state"] = _str(state)
        for which, name in enumerate(("size", "alive", "restarts",
                                      "spares", "respawns"), 3):
            pool[name] = lib.fut_stats_pool_get(p, n, which)
        ms = lib.fut_stats_pool_respawn_ms(p, n)
        pool["respawn_ms"] = ms if ms >= 0 else None
        error = lib.fut_stats_pool_last_failure(p, n)
        if error is None:
            pool["last_failure"] = None
            return pool
        status = lib.fut_stats_pool_last_exit(p, n)
        sig = lib.fut_stats_pool_last_signal(p, n)
        err = lib.fut_stats_pool_last_stderr(p, n)
        pool["last_failure"] = {
            "error": _str(error),
            "exit_status": status if status >= 0 else None,
            "signal": sig if sig > 0 else None,
            "stderr": _str(err) if err is not None else None,
            "ago_ms": lib.fut_stats_pool_last_ago_ms(p, n),
        }
        return pool

    def metrics(self):
        """The daemon's metrics: the Prometheus text (a str) that
        futurectl metrics prints and --metrics-listen serves."""
        self._check()
        p = ctypes.c_void_p()
        self._call("metrics", lib.fut_metrics(self._c, ctypes.byref(p)))
        try:
            return _str(lib.fut_metrics_text(p))
        finally:
            lib.fut_metrics_free(p)

    def ping(self):
        """(daemon version, protocol version)."""
        self._check()
        buf = ctypes.create_string_buffer(256)
        proto = ctypes.c_uint()
        self._call("ping", lib.fut_ping(self._c, buf, len(buf),
                                        ctypes.byref(proto)))
        return (_str(buf.value), proto.value)

    def watch(self, job_id, progress_only=False):
        """Follow a job: an iterator of WatchEvents, the first with the
        job as it is, then one on each change of state or progress and
        as its output grows, the last with final True.  With
        progress_only, no output.  Raises Error (FUT_ENOTFOUND) for no
        such job.  Closing the iterator stops the watch."""
        self._check()
        w = lib.fut_watch_open(self._c, _job_id(job_id),
                               _lib.FUT_WATCH_PROGRESS if progress_only
                               else 0)
        if not w:
            self._raise("watch %s" % job_id)
        return self._watch_events(w, job_id)

    def logs(self, job_id, stderr=False, follow=False):
        """A job's whole log (the daemon's --output-dir): an iterator of
        bytes, its stdout (or stderr) from the start, piece by piece (at
        most 1 MiB each); b"".join() gives it whole.  With follow, it
        goes on as the job writes until the job is final.  Raises Error
        (FUT_ENOTFOUND) for no such job, (FUT_EINVAL) from a daemon
        without --output-dir."""
        self._check()
        flags = ((_lib.FUT_LOGS_STDERR if stderr else 0) |
                 (_lib.FUT_LOGS_FOLLOW if follow else 0))
        return self._logs_pieces(_job_id(job_id), flags)

    def _logs_pieces(self, job_id, flags):
        buf = ctypes.create_string_buffer(1 << 20)
        got = ctypes.c_size_t()
        off = 0
        while True:
            rc = lib.fut_logs_read(self._c, job_id, flags, off, buf,
                                   len(buf), ctypes.byref(got))
            if rc < 0:
                self._raise("logs %s" % job_id)
            if got.value > 0:
                off += got.value
                yield buf.raw[:got.value]
            if rc & _lib.FUT_LOGS_EOF:
                return
            if got.value == 0 and not flags & _lib.FUT_LOGS_FOLLOW:
                return

    def _watch_events(self, w, job_id):
        ev = ctypes.c_void_p()
        try:
            while True:
                # In slices, so that Ctrl-C gets through.
                rc = lib.fut_watch_next(w, _SLICE_MS, ctypes.byref(ev))
                if rc == _lib.FUT_ETIMEDOUT:
                    continue
                if rc == 0:
                    return
                if rc < 0:
                    self._raise("watch %s" % job_id)
                try:
                    out = _cbytes(lib.fut_event_output, ev) or b""
                    final = bool(lib.fut_event_final(ev))
                    yield WatchEvent(lib.fut_event_id(ev),
                                     _info_dict(lib.fut_event_info(ev)),
                                     out, final)
                finally:
                    lib.fut_event_free(ev)
                if final:
                    return
        finally:
            lib.fut_watch_close(w)

    # asyncio: one reader per (client, loop), kept while a task awaits.

    def _watch(self, loop):
        with self._lock:
            n = self._watchers.get(loop, 0)
            self._watchers[loop] = n + 1
        if n == 0:
            loop.add_reader(self.fileno(), self._readable, loop)

    def _unwatch(self, loop):
        with self._lock:
            n = self._watchers.get(loop, 0) - 1
            if n > 0:
                self._watchers[loop] = n
                return
            self._watchers.pop(loop, None)
        if not loop.is_closed():
            loop.remove_reader(self.fileno())

    def _readable(self, loop):
        if lib.fut_client_dispatch(self._c) < 0:
            # The connection is gone and its fd readable for ever; the
            # futures already ended with ConnectionLost.
            loop.remove_reader(self.fileno())

    # trio: one system task per (client, run) waits for the fd.

    def _trio_watch(self, trio):
        global _trio_runvar
        if _trio_runvar is None:
            _trio_runvar = trio.lowlevel.RunVar("futured_clients")
        try:
            watched = _trio_runvar.get()
        except LookupError:
            watched = set()
            _trio_runvar.set(watched)
        if id(self) in watched:
            return
        watched.add(id(self))
        trio.lowlevel.spawn_system_task(self._trio_loop, trio, watched,
                                        name="futured dispatch")

    async def _trio_loop(self, trio, watched):
        try:
            while not self._closed:
                await trio.lowlevel.wait_readable(self.fileno())
                if lib.fut_client_dispatch(self._c) < 0:
                    break
        finally:
            watched.discard(id(self))

    # Plain threads: a callback thread while add_done_callback() waits.

    def _drive(self):
        with self._lock:
            self._drivers += 1
            if self._driver is not None and self._driver.is_alive():
                return
            self._driver = threading.Thread(
                target=self._drive_loop, name="futured callbacks",
                daemon=True)
            self._driver.start()

    def _undrive(self):
        with self._lock:
            self._drivers -= 1

    def _drive_loop(self):
        p = select.poll()
        p.register(self.fileno(), select.POLLIN)
        while True:
            with self._lock:
                if self._drivers <= 0 or self._closed:
                    self._driver = None
                    return
            if p.poll(200) and lib.fut_client_dispatch(self._c) < 0:
                with self._lock:
                    self._driver = None
                return


# The ambient client.

_ambient = None
_ambient_lock = threading.Lock()


def _forget_ambient():
    global _ambient, _ambient_lock
    _ambient = None
    _ambient_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_ambient)


def _client(fresh=False):
    global _ambient
    c = _ambient
    if c is not None and c._pid == os.getpid() and not fresh:
        return c
    with _ambient_lock:
        if _ambient is c or _ambient is None or \
                _ambient._pid != os.getpid():
            _ambient = Client()
        return _ambient


def client():
    """The ambient Client, connected on first use."""
    return _client()


def submit(handler, *args, **kwargs):
    """Submit a job through the ambient client; see Client.submit.  If
    the daemon went away since the last call (restarted, say), connect
    again once and retry."""
    try:
        return _client().submit(handler, *args, **kwargs)
    except ConnectionLost:
        return _client(fresh=True).submit(handler, *args, **kwargs)


def attach(job_id):
    """A Future for an existing job, through the ambient client."""
    return _client().attach(job_id)


def group(name, fail_fast=None, parallel=None):
    """Create or configure a group through the ambient client; see
    Client.group."""
    return _client().group(name, fail_fast, parallel)


# The task the current code runs in (Worker handlers and futured.task
# functions): jobs submitted from it become its children.
_current = contextvars.ContextVar("futured_task", default=None)


def current_task():
    """The futured.Task this code runs in (inside a Worker handler or a
    futured.task function, in its thread or asyncio task), else None.
    It reports progress and output: current_task().progress(0.5)."""
    t = _current.get()
    if t is not None:
        t._exposed = True	# its fields must outlive the C task
    return t


def info(job_id, output=False):
    """A job's info, through the ambient client; see Client.info."""
    return _client().info(job_id, output)


def list(state=None, group=None):   # noqa: A001 (futured.list, by design)
    """The caller's jobs, through the ambient client; see Client.list."""
    return _client().list(state, group)


def handlers():
    """The daemon's handlers; see Client.handlers."""
    return _client().handlers()


def stats():
    """The daemon's counters; see Client.stats."""
    return _client().stats()


def metrics():
    """The daemon's metrics, Prometheus text; see Client.metrics."""
    return _client().metrics()


def ping():
    """(daemon version, protocol version); see Client.ping."""
    return _client().ping()


def watch(job_id, progress_only=False):
    """Follow a job through the ambient client; see Client.watch."""
    return _client().watch(job_id, progress_only)


def logs(job_id, stderr=False, follow=False):
    """A job's whole log through the ambient client; see Client.logs."""
    return _client().logs(job_id, stderr, follow)


def _check_futures(fs):
    for f in fs:
        if not isinstance(f, Future):
            raise TypeError("not a futured.Future: %r" % (f,))


def _wait_some(fs, ms, any_):
    """Block up to ms in the library until one (any_) or all of fs are
    final; the caller re-checks done()."""
    by_client = {}
    for f in fs:
        by_client.setdefault(f.client, []).append(f)
    if len(by_client) > 1:
        # Futures of several clients: take turns, briefly on each.
        ms = min(ms, 20)
    for futs in by_client.values():
        arr = (ctypes.c_void_p * len(futs))(*[f._ptr for f in futs])
        if any_:
            which = ctypes.c_size_t()
            rc = lib.fut_wait_any(arr, len(futs), ms, ctypes.byref(which))
        else:
            rc = lib.fut_wait_all(arr, len(futs), ms)
        if rc != _lib.FUT_ETIMEDOUT and any_:
            return


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Wait for futures, as concurrent.futures.wait does.

    Returns a named tuple (done, not_done) of sets.  return_when is
    ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION; timeout in
    seconds, None for ever.  The calling thread waits inside libfutured
    (fut_wait_any or fut_wait_all), holding no Python lock.
    """
    fs = set(fs)
    _check_futures(fs)
    deadline = None if timeout is None else time.monotonic() + timeout
    # At first only what is known: done() of an unfinished future reads
    # the connection (a system call each), and the wait below reads it
    # for them all.
    done = {f for f in fs if f._done}
    while True:
        not_done = fs - done
        if not not_done:
            break
        if return_when == FIRST_COMPLETED and done:
            break
        if return_when == FIRST_EXCEPTION and \
                any(f._exception is not None for f in done):
            break
        ms = _SLICE_MS
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                done = {f for f in fs if f.done()}
                not_done = fs - done
                break
            ms = min(ms, int(math.ceil(left * 1000)))
        _wait_some(not_done, ms, return_when != ALL_COMPLETED)
        done = {f for f in fs if f.done()}
    return DoneAndNotDoneFutures(done, not_done)


def as_completed(fs, timeout=None):
    """Yield futures as they finish, as concurrent.futures.as_completed
    does; raises TimeoutError if timeout seconds pass first."""
    fs = set(fs)
    _check_futures(fs)
    total = len(fs)
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = set(fs)
    # At first only what is known, as wait() does.
    finished = [f for f in pending if f._done]
    while pending:
        for f in finished:
            pending.discard(f)
            yield f
        if not pending:
            return
        ms = _SLICE_MS
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                finished = [f for f in pending if f.done()]
                if finished:
                    continue
                raise TimeoutError("%d (of %d) futures unfinished"
                                   % (len(pending), total))
            ms = min(ms, int(math.ceil(left * 1000)))
        _wait_some(pending, ms, True)
        finished = [f for f in pending if f.done()]


from . import _task  # noqa: E402 (needs the names above)
from ._task import (task, TaskFunction, TaskFuture,  # noqa: E402
                    RemoteTraceback)
from ._worker import Worker, Task  # noqa: E402
