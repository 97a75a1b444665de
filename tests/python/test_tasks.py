"""Python functions as jobs (futured.task) and Python workers
(futured.Worker, python3 -m futured.worker), against the daemon
tests/integration/python.sh starts.

The first classes need no worker: naming, the payload, results and
exceptions on the wire, loading a __main__ script as the worker does,
Futures that pickle as their job.  The others run jobs through workers
and are skipped, saying why, where this libfutured or daemon has no
workers yet.
"""

import asyncio
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import futured
from futured import _task

import taskmod

HERE = os.path.dirname(os.path.abspath(__file__))


def _child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [HERE] + [p for p in sys.path if p and os.path.isdir(p)])
    return env


class TestNaming(unittest.TestCase):

    def test_module_function(self):
        self.assertEqual(taskmod.add.handler, "py:taskmod")
        self.assertEqual(taskmod.add.kind, "blocking")
        self.assertEqual(taskmod.async_sleep.kind, "async")
        self.assertEqual(taskmod.cpu_pid.handler, "py.cpu:taskmod")
        self.assertEqual(taskmod.cpu_pid.kind, "cpu")
        self.assertEqual((taskmod.add.ref, taskmod.add.qualname),
                         ("taskmod", "add"))

    def test_builtins(self):
        t = futured.task(time.sleep)
        self.assertEqual((t.handler, t.qualname, t.kind),
                         ("py:time", "sleep", "blocking"))
        self.assertEqual(futured.task(len).handler, "py:builtins")
        t = futured.task(str.upper)
        self.assertEqual((t.ref, t.qualname), ("builtins", "str.upper"))
        self.assertIs(_task.resolve(t.ref, t.qualname), str.upper)

    def test_not_importable(self):
        def nested():
            pass
        with self.assertRaisesRegex(ValueError, "module-level"):
            futured.task(nested)
        with self.assertRaisesRegex(ValueError, "lambda"):
            futured.task(lambda: 1)
        with self.assertRaises(TypeError):
            futured.task(42)
        with self.assertRaises(ValueError):
            futured.task(kind="gpu")(taskmod.double)
        with self.assertRaises(TypeError):
            futured.task(taskmod.double, data=b"x")

    def test_scripts_and_long_names(self):
        a = _task.handler_name("/srv/app/my-tool.py", False)
        b = _task.handler_name("/srv/other/my-tool.py", False)
        self.assertRegex(a, r"^py:main\.my_tool\.[0-9a-f]{10}$")
        self.assertNotEqual(a, b)
        self.assertEqual(_task.handler_name("main:pkg.app", True),
                         "py.cpu:main.pkg.app")
        long = _task.handler_name("m" * 300, False)
        self.assertLessEqual(len(long), 200)
        self.assertRegex(long, r"^py:h\.[0-9a-f]{40}$")

    def test_options_and_durations(self):
        t = futured.task(kind="cpu", timeout="1.5m", retries=2)(
            taskmod.double)
        self.assertEqual(t.opts, {"timeout": 90.0, "retries": 2})
        u = t.options(group="g", timeout=3)
        self.assertEqual(u.opts, {"timeout": 3, "retries": 2, "group": "g"})
        self.assertEqual(u.kind, "cpu")
        self.assertEqual(_task._seconds("200ms"), 0.2)
        with self.assertRaises(ValueError):
            _task._seconds("soon")

    def test_worker_argv(self):
        self.assertEqual(_task.worker_argv("taskmod", True)[1:],
                         ["-m", "futured.worker", "--cpu", "taskmod"])
        self.assertEqual(_task.worker_argv("main:pkg.app", False)[1:],
                         ["-m", "futured.worker", "--main", "pkg.app"])
        self.assertEqual(_task.worker_argv("taskmod", False)[0],
                         sys.executable)
        env = _task.pool_env()
        self.assertIn(HERE, env["PYTHONPATH"].split(os.pathsep))
        # The daemon passes FUTURED_LIBRARY on: no LD_LIBRARY_PATH of
        # ours leaks into the worker and what it runs.
        self.assertEqual(env["FUTURED_LIBRARY"], os.environ["FUTURED_LIBRARY"])
        self.assertEqual(env.get("LD_LIBRARY_PATH"),
                         os.environ.get("LD_LIBRARY_PATH"))

    def test_task_function_pickles_by_name(self):
        t = pickle.loads(pickle.dumps(taskmod.cpu_spin.options(retries=1)))
        self.assertIsInstance(t, futured.TaskFunction)
        self.assertIs(t.fn, taskmod.cpu_spin.fn)
        self.assertEqual((t.kind, t.opts), ("cpu", {"retries": 1}))
        # The decorated name resolves to the function itself.
        self.assertIs(_task.resolve("taskmod", "add"), taskmod.add.fn)
        self.assertEqual(taskmod.add.fn(2, 3), 5)


class TestWire(unittest.TestCase):

    def test_call_round_trip(self):
        p = _task.encode_call("taskmod", "add", (1, [2]), {"k": b"v"})
        self.assertEqual(_task.decode_call(p),
                         ("taskmod", "add", (1, [2]), {"k": b"v"}))
        self.assertEqual(_task.decode_call(p, load=True)[2], (1, [2]))
        with self.assertRaisesRegex(ValueError, "not a futured Python call"):
            _task.decode_call(b"hello")
        with self.assertRaisesRegex(ValueError, "not a futured Python call"):
            _task.decode_call(p[:12])		# the head cut short

    def test_call_v1_still_served(self):
        # The payload before the head had its length.
        p = _task.CALL_MAGIC_V1 + pickle.dumps(("taskmod", "add")) + \
            pickle.dumps(((1, 2), {}))
        self.assertEqual(_task.decode_call(p),
                         ("taskmod", "add", (1, 2), {}))
        fn, is_async, args, kw = _task.decode_call_fn(p)
        self.assertIs(fn, taskmod.add.fn)
        self.assertEqual((is_async, args, kw), (False, (1, 2), {}))

    def test_call_fn_resolved_once(self):
        p = _task.encode_call("taskmod", "async_sleep", (), {})
        self.assertEqual(_task.decode_call_fn(p),
                         (taskmod.async_sleep.fn, True, (), {}))
        # Resolved once, then served from the table by its head.
        head = _task._split_call(p)[0]
        self.assertIn(head, _task._fns)
        p2 = _task.encode_call("taskmod", "async_sleep", (0.5,),
                               {"value": 3})
        self.assertEqual(_task.decode_call_fn(p2)[2:],
                         ((0.5,), {"value": 3}))

    def test_result_after_streamed_output(self):
        out = b"line 0\nline 1\n" + _task.encode_result({"a": (1, 2)})
        tag, body = _task.split_output(out)
        self.assertEqual(tag, _task.TAG_RESULT)
        self.assertEqual(pickle.loads(body), {"a": (1, 2)})
        # Cut (--max-output): no trailer, no result.
        self.assertEqual(_task.split_output(out[:-3]), (None, None))
        self.assertEqual(_task.split_output(b""), (None, None))
        self.assertEqual(_task.split_output(None), (None, None))

    def _failed(self, exc):
        try:
            raise exc
        except Exception as e:
            out, (etype, msg, tb) = _task.encode_error(e)
        jf = futured.JobFailed("job 7 failed", job_id=7, state="failed",
                               error="%s: %s" % (etype, msg))
        tag, body = _task.split_output(out)
        self.assertEqual(tag, _task.TAG_ERROR)
        return _task.decode_error(jf, body), etype, tb

    def test_exception_same_type_with_traceback(self):
        e, etype, tb = self._failed(taskmod.BadInput("no good"))
        self.assertIs(type(e), taskmod.BadInput)
        self.assertEqual(str(e), "no good")
        self.assertEqual(etype, "taskmod.BadInput")
        self.assertIn("in _failed", tb)
        self.assertIsInstance(e.__cause__, futured.RemoteTraceback)
        self.assertIn("taskmod.BadInput: no good", str(e.__cause__))
        self.assertEqual(e.remote_traceback, tb)
        e, etype, _ = self._failed(KeyError("k"))
        self.assertIs(type(e), KeyError)
        self.assertEqual(etype, "KeyError")

    def test_exception_that_does_not_unpickle(self):
        e, etype, tb = self._failed(taskmod.Unpicklable("a", "b"))
        self.assertIs(type(e), futured.JobFailed)
        self.assertEqual(e.exc_type, "taskmod.Unpicklable")
        self.assertEqual(e.exc_message, "a/b")
        self.assertIn("Unpicklable", e.traceback)
        self.assertIn("taskmod.Unpicklable: a/b", str(e))
        self.assertEqual(e.job_id, 7)

    def test_exception_of_a_type_unknown_here(self):
        # The worker could pickle it; this side cannot find the class.
        script = textwrap.dedent("""
            import pickle, sys
            from futured import _task
            class Gone(Exception):
                pass
            Gone.__module__ = "nowhere_module"
            Gone.__qualname__ = "Gone"
            try:
                raise Gone("lost")
            except Gone as e:
                try:
                    blob = pickle.dumps(e)
                except Exception:
                    blob = None
                etype, msg, tb = _task.describe_exception(e)
            body = pickle.dumps({"type": etype, "message": msg,
                                 "traceback": tb, "exc": blob})
            sys.stdout.buffer.write(body)
        """)
        body = subprocess.run([sys.executable, "-c", script],
                              check=True, stdout=subprocess.PIPE,
                              env=_child_env()).stdout
        jf = futured.JobFailed("job 9 failed", job_id=9, state="failed")
        e = _task.decode_error(jf, body)
        self.assertIs(type(e), futured.JobFailed)
        self.assertEqual(e.exc_type, "nowhere_module.Gone")
        self.assertEqual(e.exc_message, "lost")


class TestMainScripts(unittest.TestCase):
    """A script's functions load in the worker under __mp_main__, as
    multiprocessing's spawn does: its main block does not run, and what
    the caller pickled as __main__.X is found."""

    SCRIPT = textwrap.dedent("""
        import sys
        import futured

        class Point:
            def __init__(self, x, y):
                self.x, self.y = x, y

        @futured.task
        def norm1(p):
            return abs(p.x) + abs(p.y)

        def plain(p):
            return Point(p.y, p.x)

        if __name__ == "__main__":
            sys.exit(3)
    """)

    def test_load_as_the_worker_does(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "prog.py")
            with open(path, "w") as fp:
                fp.write(self.SCRIPT)
            # The caller: the script as __main__ names itself by path and
            # pickles a Point as __main__.Point.
            caller = textwrap.dedent("""
                import pickle, runpy, sys
                ns = runpy.run_path(%r, run_name="not_main")
                import futured
                from futured import _task
                sys.modules["__main__"].__file__ = %r
                ref = _task.module_ref("__main__")
                sys.modules["__main__"].Point = ns["Point"]
                ns["Point"].__module__ = "__main__"
                p = _task.encode_call(ref, "norm1", (ns["Point"](3, -4),), {})
                sys.stdout.buffer.write(p)
            """ % (path, path))
            payload = subprocess.run(
                [sys.executable, "-c", caller], check=True,
                stdout=subprocess.PIPE, env=_child_env()).stdout
            worker = textwrap.dedent("""
                import pickle, sys
                from futured import _task
                ref, q, args, kw = _task.decode_call(sys.stdin.buffer.read(),
                                                    load=True)
                assert ref == %r, ref
                fn = _task.resolve(ref, q)
                print(fn(*args, **kw), type(args[0]).__module__,
                      _task.handler_name(ref, False))
                plain = _task.resolve(ref, "plain")
                r = plain(args[0])
                print(pickle.loads(pickle.dumps(r)).x)
            """ % path)
            out = subprocess.run(
                [sys.executable, "-c", worker], check=True, input=payload,
                stdout=subprocess.PIPE, env=_child_env()).stdout.decode()
        lines = out.split("\n")
        first = lines[0].split()
        self.assertEqual(first[0], "7")
        self.assertEqual(first[1], "__mp_main__")
        self.assertEqual(first[2], _task.handler_name(path, False))
        self.assertEqual(lines[1], "-4")

    def test_main_run_with_dash_m(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "mainmod.py"), "w") as fp:
                fp.write("from futured import _task\n"
                         "print(_task.module_ref('__main__'))\n")
            env = _child_env()
            env["PYTHONPATH"] = d + os.pathsep + env["PYTHONPATH"]
            out = subprocess.run([sys.executable, "-m", "mainmod"],
                                 check=True, stdout=subprocess.PIPE,
                                 env=env, cwd=d).stdout.decode().strip()
        self.assertEqual(out, "main:mainmod")


class TestFuturePickling(unittest.TestCase):
    """A Future pickles as its job (id and socket) and unpickles as a
    Future of the same job, here or in another process."""

    def test_same_process(self):
        f = futured.submit("echo", data=b"pickled", kind="async")
        g = pickle.loads(pickle.dumps(f))
        self.assertIsNot(g, f)
        self.assertIs(type(g), futured.Future)
        self.assertEqual(g.id, f.id)
        self.assertEqual(g.result(5), b"pickled")

    def test_explicit_client_socket(self):
        with futured.Client(os.environ["FUTURED_SOCKET"]) as c:
            f = c.submit("echo", data=b"via socket")
            g = pickle.loads(pickle.dumps(f))
            self.assertEqual(g.client.socket, os.environ["FUTURED_SOCKET"])
            self.assertEqual(g.result(5), b"via socket")

    def test_other_process(self):
        f = futured.submit("sleep", "200ms")
        code = ("import pickle, sys, futured\n"
                "f = pickle.loads(sys.stdin.buffer.read())\n"
                "f.result(10)\n"
                "print(f.id, f.state)\n")
        out = subprocess.run([sys.executable, "-c", code], check=True,
                             input=pickle.dumps(f), stdout=subprocess.PIPE,
                             env=_child_env(), timeout=30).stdout.decode()
        self.assertEqual(out.split(), [str(f.id), "succeeded"])

    def test_task_future_stays_one(self):
        # A TaskFuture's flag travels: its result is unpickled there too.
        f = futured.submit("echo", data=_task.encode_result([1, "two"]),
                           _cls=futured.TaskFuture)
        self.assertEqual(f.result(5), [1, "two"])
        g = pickle.loads(pickle.dumps(f))
        self.assertIs(type(g), futured.TaskFuture)
        self.assertEqual(g.result(5), [1, "two"])

    def test_task_future_of_a_non_python_output(self):
        f = futured.submit("echo", data=b"plain bytes",
                           _cls=futured.TaskFuture)
        with self.assertRaisesRegex(futured.Error, "not a Python result"):
            f.result(5)

    def test_submit_all_in_one_round_trip(self):
        c = futured.client()
        fs = c._submit_all("echo", [((), b"a"), ((), b"b"), ((), b"c")],
                           kind="blocking")
        self.assertEqual([f.result(5) for f in fs], [b"a", b"b", b"c"])
        self.assertEqual(c._submit_all("echo", []), [])
        with self.assertRaises(futured.Error):
            c._submit_all("no-such-handler", [((), b"")])

    def test_submit_all_in_chunks(self):
        # Sent in writes of _CHUNK jobs: the futures still come back in
        # the order of the calls, each of its own job.
        c = futured.Client()
        try:
            c._CHUNK = 7
            data = [b"%d" % i for i in range(30)]
            fs = c._submit_all("echo", [((), d) for d in data],
                               kind="blocking")
            self.assertEqual([f.result(20) for f in fs], data)
            self.assertEqual(len({f.id for f in fs}), 30)
            with self.assertRaisesRegex(futured.Error, "30 of 30 refused"):
                c._submit_all("no-such-handler", [((), b"")] * 30)
            # A call that cannot be sent fails them all before the
            # first write, though specs are made a write at a time.
            before = len(c.list())
            old, futured._PAYLOAD_MAX = futured._PAYLOAD_MAX, 5
            try:
                with self.assertRaisesRegex(ValueError, "data: 6 bytes"):
                    c._submit_all("echo", [((), b"ok")] * 20 +
                                  [((), b"toobig")])
            finally:
                futured._PAYLOAD_MAX = old
            self.assertEqual(len(c.list()), before)
        finally:
            c.close()

    def test_many_completions_in_one_read(self):
        # Thousands of jobs final in one burst: each done-callback ran
        # the next inside its own libfutured call, one stack frame
        # deeper per job, until RecursionError ("Exception ignored on
        # calling ctypes callback function") and futures left to be
        # found by polling.
        c = futured.client()
        fs = c._submit_all("sleep", [(("300ms",), b"")] * 5000)
        time.sleep(1.5)		# all final, unread
        seen = []
        old, sys.unraisablehook = sys.unraisablehook, seen.append
        try:
            futured.wait(fs, timeout=60)
        finally:
            sys.unraisablehook = old
        self.assertEqual([str(u.exc_value) for u in seen[:1]], [])
        self.assertTrue(all(f.done() for f in fs))

    def test_unknown_job(self):
        with self.assertRaises(futured.Error):
            _task._future_from_pickle(2 ** 62, None, False)


def _workers_why_not():
    if not futured._lib.has("fut_worker_new"):
        return "this libfutured has no worker calls"
    lib = futured._lib.lib
    w = lib.fut_worker_new(os.fsencode(os.environ["FUTURED_SOCKET"]))
    if not w:
        return "cannot connect a worker"
    try:
        lib.fut_worker_handler(w, b"probe.%d" % os.getpid(), 1, 0, None)
        if lib.fut_worker_register(w) < 0:
            err = lib.fut_worker_error(w).decode()
            if "unknown request" in err:
                return "this daemon takes no workers: %s" % err
    finally:
        lib.fut_worker_close(w)
    return None


def _pools_why_not():
    why = _workers_why_not()
    if why:
        return why
    if not futured._lib.has("fut_pool_request"):
        return "this libfutured has no fut_pool_request"
    try:
        # The pool the tests use first (the same request as theirs).
        _task.ensure_pool(futured.client(), "taskmod", True)
    except futured.Error as e:
        if "unknown request" in str(e):
            return "this daemon has no supervised pools: %s" % e
        if "no supervised pool" in str(e):
            # A build with the worker engine and the supervisor, but
            # not yet joined: a pool's process cannot register.
            return "this daemon's workers and pools are apart: %s" % e
    return None


WHY_NO_WORKERS = _workers_why_not()


@unittest.skipIf(WHY_NO_WORKERS, WHY_NO_WORKERS)
class TestWorker(unittest.TestCase):
    """An attached futured.Worker, serving from a thread of this test."""

    @classmethod
    def setUpClass(cls):
        cls.prefix = "t%d." % os.getpid()
        cls.events = {}
        w = cls.w = futured.Worker(concurrency=32, threads=4,
                                   name="test_tasks")
        p = cls.prefix
        cls.loop_thread = None

        @w.handler(p + "nap")
        async def nap(task):
            cls.loop_thread = threading.get_ident()
            await asyncio.sleep(float(task.args[0]))
            return task.payload.upper()

        @w.handler(p + "block", kinds=("blocking", "cpu"))
        def block(task):
            task.progress(0.5, "half")
            task.output(b"chunk;")
            task.stderr("warned\n")
            return "%s:%d" % (task.kind, threading.get_ident())

        cls.started = set()

        cls.stalling = threading.Event()

        @w.handler(p + "stall")
        async def stall(task):
            cls.stalling.set()
            time.sleep(float(task.args[0]))	# the loop, on purpose
            return b"stalled"

        @w.handler(p + "hang")
        async def hang(task):
            cls.started.add(task.job_id)
            ev = cls.events.setdefault(task.job_id, threading.Event())
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                ev.set()
                raise

        @w.handler(p + "boom", description="raises")
        def boom(task):
            raise ValueError("boom %s" % task.args[0])

        @w.handler(p + "ctx")
        async def ctx(task):
            return repr(sorted(task.ctx.items()))

        cls.kept = []

        @w.handler(p + "keep", kinds=("blocking",))
        def keep(task):
            cls.kept.append(task)	# its fields read after it ended
            return b""

        cls.th = threading.Thread(target=w.run, daemon=True)
        cls.th.start()
        if not w.ready.wait(20):
            raise RuntimeError("the worker did not register")

    @classmethod
    def tearDownClass(cls):
        cls.w.close()
        cls.th.join(10)

    def test_handlers_listed(self):
        names = {h["name"]: h for h in futured.handlers()}
        self.assertIn(self.prefix + "block", names)
        self.assertEqual(sorted(names[self.prefix + "block"]["kinds"]),
                         ["blocking", "cpu"])
        self.assertEqual(names[self.prefix + "boom"]["description"],
                         "raises")

    def test_many_async_at_once(self):
        t0 = time.monotonic()
        fs = [futured.submit(self.prefix + "nap", "0.5", data=b"n%d" % i)
              for i in range(20)]
        out = [f.result(30) for f in fs]
        dt = time.monotonic() - t0
        self.assertEqual(out, [b"N%d" % i for i in range(20)])
        self.assertLess(dt, 5, "20 naps of 0.5 s took %.2f s" % dt)

    def test_blocking_on_the_thread_pool(self):
        f = futured.submit(self.prefix + "block", kind="blocking")
        out = f.result(30)
        self.assertTrue(out.startswith(b"chunk;blocking:"), out)
        self.assertNotEqual(int(out.split(b":")[1]), self.loop_thread)
        i = futured.info(f.id, output=True)
        self.assertEqual(i["progress_msg"], "half")
        self.assertEqual(i["stderr"], b"warned\n")

    def test_cancel_reaches_the_async_task(self):
        f = futured.submit(self.prefix + "hang")
        deadline = time.monotonic() + 20
        while not f.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertTrue(f.running())
        self.assertTrue(f.cancel())
        with self.assertRaises(futured.JobCancelled):
            f.result(10)
        # Through the loop once more: f's start has been handled.  A
        # cancel read with the task itself stops it before it starts.
        futured.submit(self.prefix + "nap", "0").result(20)
        if f.id in self.started:
            ev = self.events.setdefault(f.id, threading.Event())
            self.assertTrue(ev.wait(10),
                            "the handler's task was not cancelled")

    def test_cancel_before_the_loop_saw_the_task(self):
        # The loop is busy: the task thread has the Task, the loop has
        # not started it, and the cancel comes then.  It must not run.
        self.stalling.clear()
        s = futured.submit(self.prefix + "stall", "2")
        self.assertTrue(self.stalling.wait(20))
        f = futured.submit(self.prefix + "hang")
        self.assertTrue(_wait_running(f))
        self.assertTrue(f.cancel())
        self.assertEqual(s.result(20), b"stalled")
        # Through the loop once more: f's start has been handled.
        futured.submit(self.prefix + "nap", "0").result(20)
        with self.assertRaises(futured.JobCancelled):
            f.result(10)
        self.assertNotIn(f.id, self.started)

    def test_timeout_cancels_too(self):
        f = futured.submit(self.prefix + "hang", timeout=0.3)
        with self.assertRaises(futured.JobTimedOut):
            f.result(20)
        self.assertIn(f.id, self.started)
        ev = self.events.setdefault(f.id, threading.Event())
        self.assertTrue(ev.wait(10))

    def test_exception_fails_the_job(self):
        f = futured.submit(self.prefix + "boom", "now")
        with self.assertRaises(futured.JobFailed) as cm:
            f.result(20)
        self.assertIn("ValueError: boom now", str(cm.exception))
        self.assertEqual(cm.exception.error, "ValueError: boom now")
        # The traceback is kept with the stderr tail.
        self.assertIn(b"in boom", cm.exception.stderr)

    def test_context(self):
        f = futured.submit(self.prefix + "ctx", ctx={"tenant": "acme"})
        self.assertIn(b"('tenant', 'acme')", f.result(20))

    def test_task_fields_outlive_the_task(self):
        # Read lazily from the C task, which the outcome frees: what a
        # handler was given stays readable.
        f = futured.submit(self.prefix + "keep", "a1", "b2",
                           ctx={"k": "v"}, timeout=30)
        f.result(20)
        t = self.kept[-1]
        self.assertEqual((t.job_id, t.attempt, t.kind), (f.id, 1,
                                                         "blocking"))
        self.assertEqual((t.args, t.ctx), (["a1", "b2"], {"k": "v"}))
        self.assertEqual(t.cwd, os.getcwd())
        self.assertIsNotNone(t.deadline)
        self.assertFalse(t.progress(0.5))	# ended

    def test_bad_declarations(self):
        w = futured.Worker()
        with self.assertRaises(ValueError):
            w.add_handler("x", lambda t: None, kinds=("gpu",))
        with self.assertRaises(ValueError):
            futured.Worker(concurrency=0)
        with self.assertRaises(ValueError):
            asyncio.run(w.serve())


WHY_NO_POOLS = _pools_why_not()


def _wait_running(f, seconds=30):
    deadline = time.monotonic() + seconds
    while not f.running() and not f.done() and time.monotonic() < deadline:
        time.sleep(0.005)
    return f.running()


@unittest.skipIf(WHY_NO_POOLS, WHY_NO_POOLS)
class TestTasks(unittest.TestCase):
    """@futured.task functions through the supervised pools the binding
    asks for on first use."""

    def test_blocking_function(self):
        self.assertEqual(taskmod.add(2, 3).result(60), 5)
        self.assertEqual(taskmod.add("a", "b").result(60), "ab")
        names = [h["name"] for h in futured.handlers()]
        self.assertIn("py:taskmod", names)

    def test_pool_environment_is_ours(self):
        # The worker finds libfutured by FUTURED_LIBRARY, which the
        # daemon passes on; it gets our LD_LIBRARY_PATH unchanged (one
        # with the build's directory leaked into everything it ran).
        getenv = futured.task(os.getenv)
        self.assertEqual(getenv("FUTURED_LIBRARY").result(60),
                         os.environ["FUTURED_LIBRARY"])
        self.assertEqual(getenv("LD_LIBRARY_PATH").result(60),
                         os.environ.get("LD_LIBRARY_PATH"))
        self.assertTrue(getenv("FUTURED_POOL").result(60))

    def test_forgotten_pool_asked_for_again(self):
        # The daemon forgets the handler names of a pool stopped long
        # ago (past the 256 stopped pools a user keeps): this client
        # asked for the pool before, so it submits straight away, gets
        # "unknown handler", asks for the pool once more and resubmits.
        # Here the client believes it asked, and never did.
        import colorsys
        import platform
        c = futured._client()
        for fn in (platform.python_version, colorsys.rgb_to_hsv):
            t = futured.task(fn)
            c._py_pools[(t.ref, False)] = "forgotten-" + t.ref
        self.assertEqual(
            futured.task(platform.python_version)().result(60),
            platform.python_version())
        fs = futured.task(colorsys.rgb_to_hsv).map([1, 0], [0, 1], [0, 0])
        self.assertEqual([f.result(60) for f in fs],
                         [colorsys.rgb_to_hsv(1, 0, 0),
                          colorsys.rgb_to_hsv(0, 1, 0)])

    def test_unknown_handler_asked_for_once(self):
        # A pool that registers other names than ours: one more
        # PoolRequest, then the error, not a loop.
        import json
        c = futured._client()
        t = futured.task(json.dumps)
        c._py_pools.pop((t.ref, False), None)
        asked = []

        def pool(argv, **kw):
            asked.append(argv)
            return {"name": "elsewhere"}
        c.pool = pool
        try:
            with self.assertRaisesRegex(futured.Error, "unknown handler"):
                t([1])
        finally:
            del c.pool
            c._py_pools.pop((t.ref, False), None)
        self.assertEqual(len(asked), 2)

    def test_pool_that_cannot_import(self):
        # A module that imports here but not in the worker: the call
        # fails with the pool's failure, the import error and its line.
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "fw_poolonly.py"), "w") as f:
                f.write("import os\nif os.environ.get('FUTURED_POOL'):\n"
                        "    import no_such_dep_in_pool\n\n"
                        "def f():\n    return 1\n")
            sys.path.insert(0, d)
            try:
                import fw_poolonly
                with self.assertRaises(futured.Error) as cm:
                    futured.task(fw_poolonly.f)()
            finally:
                sys.path.remove(d)
                sys.modules.pop("fw_poolonly", None)
        msg = str(cm.exception)
        self.assertIn("before registering", msg)
        self.assertIn("cannot load fw_poolonly: ModuleNotFoundError: No "
                      "module named 'no_such_dep_in_pool' (%s:3, in "
                      "<module>)" % os.path.join(d, "fw_poolonly.py"), msg)

    def test_async_functions_run_many_at_once(self):
        taskmod.async_sleep(0).result(60)		# the pool is up
        t0 = time.monotonic()
        fs = [taskmod.async_sleep(0.5, i) for i in range(20)]
        self.assertEqual([f.result(30) for f in fs], list(range(20)))
        self.assertLess(time.monotonic() - t0, 5)

    def test_three_kinds_in_one_gather(self):
        async def main():
            return await asyncio.gather(
                taskmod.async_sleep(0.2, "async"),
                taskmod.block_sleep(0.2, "blocking"),
                taskmod.cpu_spin(0.2))
        a, b, c = asyncio.run(asyncio.wait_for(main(), 60))
        self.assertEqual((a, b), ("async", "blocking"))
        self.assertGreater(c, 0)

    def test_exceptions_come_back(self):
        with self.assertRaises(taskmod.BadInput) as cm:
            taskmod.fail("user", "bad").result(60)
        self.assertIn("raise BadInput(message)", cm.exception.remote_traceback)
        self.assertIsInstance(cm.exception.__cause__, futured.RemoteTraceback)
        with self.assertRaises(KeyError):
            taskmod.fail("builtin", "k").result(60)
        with self.assertRaises(futured.JobFailed) as cm:
            taskmod.fail("unpicklable", "u").result(60)
        self.assertEqual(cm.exception.exc_type, "taskmod.Unpicklable")
        self.assertIn("Unpicklable", cm.exception.traceback)
        # The daemon's own record says what happened.
        i = futured.info(cm.exception.job_id)
        self.assertIn("taskmod.Unpicklable: u/x", i["error"])

    def test_progress_and_output(self):
        f = taskmod.with_progress(3)
        self.assertEqual(f.result(60), 3)
        i = futured.info(f.id, output=True)
        self.assertEqual(i["progress"], 1.0)
        self.assertEqual(i["progress_msg"], "step 3")
        self.assertTrue(i["output"].startswith(b"line 0\nline 1\nline 2\n"))

    def test_context_inherited_by_children(self):
        f = taskmod.spawn_child.options(ctx={"tenant": "acme"})()
        child = f.result(60)
        self.assertIsInstance(child, futured.TaskFuture)
        got = child.result(60)
        self.assertEqual(got["ctx"].get("tenant"), "acme")
        self.assertEqual(futured.info(child.id)["parent"], f.id)

    def test_futures_travel(self):
        a, b = taskmod.add(1, 1), taskmod.add(2, 2)
        self.assertEqual(taskmod.gather([a, b]).result(60), 6)
        inner = taskmod.make_future(41).result(60)
        self.assertIsInstance(inner, futured.TaskFuture)
        self.assertEqual(inner.result(60), 42)

    def test_then(self):
        self.assertEqual(taskmod.add(1, 2).then(taskmod.double).result(60),
                         6)
        f = futured.submit("echo", data=b"ab").then(taskmod.double)
        self.assertEqual(f.result(60), b"abab")
        g = taskmod.fail("user", "x").then(taskmod.double)
        with self.assertRaises((futured.JobCancelled, futured.JobFailed)):
            g.result(60)

    def test_builtins(self):
        t0 = time.monotonic()
        self.assertIsNone(futured.task(time.sleep)(0.1).result(60))
        self.assertGreaterEqual(time.monotonic() - t0, 0.1)
        self.assertEqual(futured.task(len)([1, 2, 3]).result(60), 3)

    def test_main_script(self):
        script = textwrap.dedent("""
            import sys
            import futured

            class Pair:
                def __init__(self, a, b):
                    self.a, self.b = a, b

            @futured.task
            def swap(p):
                return Pair(p.b, p.a)

            @futured.task(kind="cpu")
            def square(x):
                return x * x

            if __name__ == "__main__":
                p = swap(Pair(1, 2)).result(60)
                print(type(p).__name__, p.a, p.b, square(7).result(60))
        """)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "script.py")
            with open(path, "w") as fp:
                fp.write(script)
            out = subprocess.run([sys.executable, path], check=True,
                                 stdout=subprocess.PIPE, env=_child_env(),
                                 timeout=120).stdout.decode()
        self.assertEqual(out.split(), ["Pair", "2", "1", "49"])

    def test_unguarded_main_script_says_why(self):
        # The README's example without its __main__ guard: each worker
        # that imports the script calls the task again.  Before, the
        # pool never registered and the caller hung; now the error says
        # what to do, at once.
        script = textwrap.dedent("""
            import futured

            @futured.task
            def double(x):
                return 2 * x

            print(double(21).result(60))
        """)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "unguarded.py")
            with open(path, "w") as fp:
                fp.write(script)
            r = subprocess.run([sys.executable, path], env=_child_env(),
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=50)
        err = r.stderr.decode()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("double called while a worker imports", err)
        self.assertIn("__name__", err)

    def test_cancel_a_running_cpu_function(self):
        taskmod.cpu_pid().result(60)			# the pool is up
        f = taskmod.cpu_spin(60)
        self.assertTrue(_wait_running(f), f.state)
        t0 = time.monotonic()
        self.assertTrue(f.cancel())
        with self.assertRaises(futured.JobCancelled):
            f.result(10)
        dt = time.monotonic() - t0
        # The figure is 10 ms (bench measures it); a loaded CI
        # machine gets a generous bound.
        self.assertLess(dt, 1.0, "final %.1f ms after cancel" % (dt * 1e3))
        # The slot serves again: as many cpu calls as processes at once.
        t1 = time.monotonic()
        n = futured.stats()["kinds"]
        fs = [taskmod.cpu_pid() for _ in range(4)]
        pids = [g.result(30) for g in fs]
        self.assertTrue(all(isinstance(p, int) for p in pids), n)
        self.assertLess(time.monotonic() - t1, 30)

    def test_long_cpu_call_keeps_the_lease(self):
        # python.sh's daemon has a 3 s lease; a cpu process's task
        # thread runs the call, so another thread must ping.
        lease = 3.0
        self.assertGreater(taskmod.cpu_spin(lease + 1.5).result(60), 0)

    def test_cpu_timeout(self):
        f = taskmod.cpu_spin.options(timeout=0.3)(60)
        with self.assertRaises(futured.JobTimedOut):
            f.result(30)
        self.assertEqual(taskmod.add(1, 1).result(60), 2)

    def test_group_fails_fast(self):
        g = "tasks-ff-%d" % os.getpid()
        futured.group(g, fail_fast=True)
        slow = taskmod.block_sleep.options(group=g)(30)
        bad = taskmod.fail.options(group=g)("user", "first")
        with self.assertRaises(taskmod.BadInput):
            bad.result(60)
        with self.assertRaises(futured.JobCancelled):
            slow.result(30)


try:
    import trio
except ImportError:
    trio = None


@unittest.skipIf(WHY_NO_POOLS or trio is None,
                 WHY_NO_POOLS or "trio is not installed")
class TestTasksTrio(unittest.TestCase):

    def test_await_in_trio(self):
        async def main():
            out = []
            async with trio.open_nursery() as n:
                async def one(f):
                    out.append(await f)
                n.start_soon(one, taskmod.add(1, 2))
                n.start_soon(one, taskmod.async_sleep(0.1, "a"))
                n.start_soon(one, taskmod.cpu_spin(0.05))
            return out
        out = trio.run(main)
        self.assertIn(3, out)
        self.assertIn("a", out)
        self.assertEqual(len(out), 3)

    def test_trio_cancel_scope_cancels_the_job(self):
        async def main():
            f = taskmod.block_sleep(30)
            with trio.move_on_after(0.5):
                await f
            return f
        f = trio.run(main)
        with self.assertRaises(futured.JobCancelled):
            f.result(30)

    def test_exception_in_trio(self):
        async def main():
            with self.assertRaises(taskmod.BadInput):
                await taskmod.fail("user", "trio")
        trio.run(main)


class TestWorkerCommand(unittest.TestCase):

    def test_bad_module(self):
        r = subprocess.run([sys.executable, "-m", "futured.worker",
                            "no_such_module_xyz"], stderr=subprocess.PIPE,
                           env=_child_env(), timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"no_such_module_xyz", r.stderr)

    def test_module_failing_to_import(self):
        # Where it failed, on one line (a supervised pool's last failure
        # is the end of the worker's stderr); sys.exit() at import too.
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "fw_dep.py"), "w") as f:
                f.write("import os\n\ndef setup():\n"
                        "    import no_such_dep_xyz\n\nsetup()\n")
            with open(os.path.join(d, "fw_exit.py"), "w") as f:
                f.write("import sys\nsys.exit('fw_exit needs FOO')\n")
            env = _child_env()
            env["PYTHONPATH"] = d + os.pathsep + env["PYTHONPATH"]
            r = subprocess.run([sys.executable, "-m", "futured.worker",
                                "fw_dep"], stderr=subprocess.PIPE,
                               env=env, timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn(
                "futured.worker: cannot load fw_dep: ModuleNotFoundError: "
                "No module named 'no_such_dep_xyz' (%s:4, in setup)\n"
                % os.path.join(d, "fw_dep.py"), r.stderr.decode())
            r = subprocess.run([sys.executable, "-m", "futured.worker",
                                "fw_exit"], stderr=subprocess.PIPE,
                               env=env, timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn(b"cannot load fw_exit: SystemExit: fw_exit needs "
                          b"FOO (", r.stderr)

    def test_no_daemon(self):
        # Exited 0 ("the daemon went away") though it never served.
        env = _child_env()
        with tempfile.TemporaryDirectory() as d:
            env["FUTURED_SOCKET"] = os.path.join(d, "none.sock")
            r = subprocess.run([sys.executable, "-m", "futured.worker",
                                "json"], stderr=subprocess.PIPE, env=env,
                               timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot connect to futured", r.stderr)

    def test_usage(self):
        r = subprocess.run([sys.executable, "-m", "futured.worker"],
                           stderr=subprocess.PIPE, env=_child_env(),
                           timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"MODULE", r.stderr)

    @unittest.skipIf(WHY_NO_WORKERS, WHY_NO_WORKERS)
    def test_attached_worker_serves_a_module(self):
        # It registers py:taskmod (async and blocking), beside any pool
        # of the same name, and serves until stopped.
        p = subprocess.Popen([sys.executable, "-m", "futured.worker",
                              "taskmod"], env=_child_env(),
                             stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if any(h["name"] == "py:taskmod"
                       for h in futured.handlers()):
                    break
                time.sleep(0.05)
            else:
                self.fail("py:taskmod never registered")
            self.assertIsNone(p.poll())
        finally:
            p.terminate()
            p.wait(30)
