"""The Python binding against a real daemon (tests/integration/python.sh
starts it and points $FUTURED_SOCKET at it).

Proves the done-when list of issue 5 for Python: echo on a cpu worker,
20 sleeping jobs awaited together in asyncio in about one sleep while
the loop keeps ticking, 50 threads each getting their own result,
result(timeout) raising TimeoutError, a failed command raising JobFailed
with its exit status, cancel() then JobCancelled; and around them the
rest of the concurrent.futures-like interface, wait/as_completed, attach,
fork, trio, and a daemon that dies under the waiters.
"""

import asyncio
import concurrent.futures
import faulthandler
import gc
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import futured

SLEEP = 0.5

# make check's time limit ends a hung run with SIGTERM: say where each
# thread was.
faulthandler.register(signal.SIGTERM, all_threads=True, chain=True)


def until(pred, timeout=10):
    """Whether pred() held within timeout s, asked every 10 ms: a
    future's running() reads what the daemon pushed, nothing to wait on
    from a plain thread."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def has_handler(name):
    try:
        return any(h["name"] == name for h in futured.handlers())
    except futured.Error:
        return False


class TestBasics(unittest.TestCase):

    def test_echo_on_a_cpu_worker(self):
        self.assertEqual(
            futured.submit("echo", data=b"hi", kind="cpu").result(5), b"hi")

    def test_every_kind(self):
        for kind in (futured.ASYNC, futured.BLOCKING, futured.CPU):
            f = futured.submit("echo", data=kind, kind=kind)
            self.assertEqual(f.result(5), kind.encode())
            self.assertTrue(f.done())
            self.assertFalse(f.running())
            self.assertFalse(f.cancelled())
            self.assertIsNone(f.exception())
            self.assertEqual(f.state, "succeeded")

    def test_sha256_blocking(self):
        f = futured.submit("sha256", data=b"abc", kind="blocking")
        self.assertEqual(f.result(5).strip(), b"ba7816bf8f01cfea414140de5dae2223"
                         b"b00361a396177a9cb410ff61f20015ad")

    def test_relative_path_means_our_directory(self):
        # sha256 FILE with a relative FILE reads it from this process's
        # directory, not the daemon's (/).
        here = os.getcwd()
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "rel.txt"), "wb") as fp:
                fp.write(b"abc")
            os.chdir(d)
            try:
                f = futured.submit("sha256", "rel.txt", kind="blocking")
                out = f.result(10)
            finally:
                os.chdir(here)
        self.assertEqual(out.strip(), b"ba7816bf8f01cfea414140de5dae2223"
                         b"b00361a396177a9cb410ff61f20015ad")

    def test_version(self):
        # libfutured's own version, as ping's client side knows it.
        self.assertRegex(futured.__version__, r"^[0-9]+\.[0-9]+\.[0-9]+")
        self.assertEqual(futured.__version__,
                         futured._lib.lib.fut_version().decode())

    def test_explicit_client(self):
        with futured.Client(os.environ["FUTURED_SOCKET"]) as c:
            self.assertEqual(c.submit("echo", data=b"x").result(5), b"x")
            self.assertGreaterEqual(c.fileno(), 0)
            f = c.submit("echo", data=b"kept")
            self.assertEqual(f.result(5), b"kept")
        # Closed: the client is gone from libfutured, its finished future
        # keeps its outcome, and dropping the object must not close it
        # again (that was a use-after-free, caught by ASan here).
        self.assertEqual(c.fileno(), -1)
        self.assertEqual(f.result(0), b"kept")
        with self.assertRaises(ValueError):
            c.submit("echo")
        c.close()
        del c
        gc.collect()

    def test_no_daemon(self):
        with self.assertRaises(futured.ConnectionLost):
            futured.Client("/nonexistent/futured.sock")

    def test_unknown_handler(self):
        with self.assertRaises(futured.Error) as cm:
            futured.submit("no-such-handler")
        self.assertNotIsInstance(cm.exception, futured.ConnectionLost)

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            futured.submit("echo", kind="gpu")
        with self.assertRaises(ValueError):
            futured.submit("echo", priority=99)
        with self.assertRaises(ValueError):
            futured.submit("echo", timeout=0)

    def test_result_timeout(self):
        f = futured.submit("sleep", "10s")
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            f.result(timeout=0.2)
        dt = time.monotonic() - t0
        self.assertGreaterEqual(dt, 0.18)
        self.assertLess(dt, 2)
        with self.assertRaises(TimeoutError):
            f.exception(timeout=0)
        self.assertFalse(f.done())		# the job goes on
        self.assertTrue(f.cancel())

    def test_failed_command(self):
        f = futured.submit("exec", "sh", "-c", "echo oops >&2; exit 3")
        with self.assertRaises(futured.JobFailed) as cm:
            f.result(10)
        e = cm.exception
        self.assertEqual(e.exit_status, 3)
        self.assertEqual(e.state, "failed")
        self.assertEqual(e.job_id, f.id)
        self.assertIn(b"oops", e.stderr)
        self.assertIs(f.exception(), e)

    def test_cancel(self):
        f = futured.submit("sleep", "30s")
        self.assertTrue(f.cancel())
        with self.assertRaises(futured.JobCancelled) as cm:
            f.result(10)
        self.assertIsInstance(cm.exception,
                              concurrent.futures.CancelledError)
        self.assertTrue(f.cancelled())
        self.assertTrue(f.cancel())		# already cancelled: still True
        g = futured.submit("echo", data=b"done")
        g.result(5)
        self.assertFalse(g.cancel())		# finished otherwise

    def test_job_timeout(self):
        f = futured.submit("exec", "sleep", "10", timeout=0.2)
        with self.assertRaises(futured.JobTimedOut):
            f.result(10)

    def test_exec_environment_and_cwd(self):
        d = tempfile.mkdtemp()
        try:
            f = futured.submit("exec", "sh", "-c", 'echo "$FOO $HOME"; pwd',
                               env={"FOO": "bar"}, cwd=d)
            out = f.result(10).decode().split("\n")
            self.assertEqual(out[0], "bar " + os.environ.get("HOME", ""))
            self.assertEqual(os.path.realpath(out[1]), os.path.realpath(d))
        finally:
            os.rmdir(d)

    def test_stdin_and_after(self):
        a = futured.submit("echo", data=b"abc")
        b = futured.submit("exec", "tr", "a-z", "A-Z", after=[a],
                           input_from=a)
        self.assertEqual(b.result(10), b"ABC")

    def test_poll_never_blocks(self):
        f = futured.submit("sleep", "2s")
        t0 = time.monotonic()
        for _ in range(200):
            self.assertFalse(f.done())
            f.running()
            self.assertIn(f.state, ("queued", "running"))
        self.assertLess(time.monotonic() - t0, 1)
        f.cancel()

    def test_running_then_done(self):
        # The daemon tells the future its job started: running() and
        # state say so while it runs, then it succeeds.
        f = futured.submit("sleep", "1s")
        self.assertTrue(until(f.running), "never running: %s" % f.state)
        self.assertEqual(f.state, "running")
        self.assertFalse(f.done())
        self.assertEqual(f.result(10), b"")
        self.assertFalse(f.running())
        self.assertEqual(f.state, "succeeded")
        self.assertEqual(f.progress, 1.0)

    @unittest.skipUnless(has_handler("spin"), "no test plugin")
    def test_progress_reaches_the_future(self):
        f = futured.submit("spin", kind="blocking")
        try:
            self.assertTrue(until(lambda: f.progress == 0.5),
                            "progress %r" % f.progress)
            self.assertEqual(f.progress_msg, "spinning")
            self.assertTrue(f.running())
        finally:
            f.cancel()
        with self.assertRaises(futured.JobCancelled):
            f.result(10)

    def test_attach(self):
        f = futured.submit("sleep", "200ms")
        with futured.Client() as other:
            g = other.attach(f.id)
            self.assertEqual(g.id, f.id)
            self.assertEqual(g.result(5), b"")
        with self.assertRaises(futured.Error):
            futured.attach(10 ** 12)


class TestInfo(unittest.TestCase):
    """info, list, stats, handlers, ping and watch: the daemon's answers
    as plain Python values."""

    def test_info_of_a_finished_job(self):
        f = futured.submit("echo", data=b"snap", kind="blocking",
                           name="nm", ctx={"colour": "blue"}, priority=2)
        f.result(5)
        i = futured.info(f.id)
        self.assertEqual(i["id"], f.id)
        self.assertEqual(i["state"], "succeeded")
        self.assertEqual(i["kind"], "blocking")
        self.assertEqual(i["handler"], "echo")
        self.assertEqual(i["name"], "nm")
        self.assertEqual(i["ctx"], {"colour": "blue"})
        self.assertEqual(i["priority"], 2)
        self.assertEqual(i["attempts"], 1)
        self.assertIsNone(i["output"])
        self.assertIsNone(i["exit_status"])
        self.assertLessEqual(i["submitted_at"], i["finished_at"])
        self.assertLess(abs(i["finished_at"] - time.time()), 60)
        self.assertEqual(futured.info(f, output=True)["output"], b"snap")

    def test_info_of_a_failed_command(self):
        f = futured.submit("exec", "sh", "-c", "echo oops >&2; exit 3")
        with self.assertRaises(futured.JobFailed):
            f.result(5)
        i = futured.info(f, output=True)
        self.assertEqual(i["state"], "failed")
        self.assertEqual(i["exit_status"], 3)
        self.assertEqual(i["stderr"], b"oops\n")
        self.assertEqual(i["args"], ["sh", "-c", "echo oops >&2; exit 3"])

    def test_info_errors(self):
        with self.assertRaises(futured.Error) as cm:
            futured.info(999999999)
        self.assertEqual(cm.exception.code, futured._lib.FUT_ENOTFOUND)
        self.assertIn("999999999", str(cm.exception))
        f = futured.submit("sleep", "30s")
        try:
            with self.assertRaises(futured.Error) as cm:
                futured.info(f, output=True)
            self.assertEqual(cm.exception.code, futured._lib.FUT_ENOTREADY)
        finally:
            f.cancel()

    def test_list_filters(self):
        group = "py%d" % os.getpid()
        a = futured.submit("echo", data=b"a", group=group)
        b = futured.submit("sleep", "30s", group=group)
        try:
            a.result(5)
            jobs = futured.list(group=group)
            self.assertEqual([j["id"] for j in jobs], [a.id, b.id])
            running = [j["id"] for j in futured.list(state="running",
                                                     group=group)]
            self.assertEqual(running, [b.id])
            self.assertIn(a.id, [j["id"] for j in
                                 futured.list(state="succeeded")])
            with self.assertRaises(ValueError):
                futured.list(state="sleeping")
        finally:
            b.cancel()

    def test_stats_handlers_ping(self):
        st = futured.stats()
        self.assertEqual(sorted(k["kind"] for k in st["kinds"]),
                         ["async", "blocking", "cpu"])
        self.assertGreaterEqual(st["connections"], 1)
        self.assertGreater(st["jobs_total"], 0)
        hs = {h["name"]: h for h in futured.handlers()}
        self.assertIn("exec", hs)
        self.assertIn("cpu", hs["sha256"]["kinds"])
        self.assertIn(hs["sha256"]["default_kind"], hs["sha256"]["kinds"])
        version, proto = futured.ping()
        self.assertEqual(version, st["server_version"])
        self.assertEqual(proto, 1)

    def test_metrics(self):
        futured.submit("echo", data=b"m").result(30)
        text = futured.metrics()
        self.assertIsInstance(text, str)
        self.assertIn("# TYPE futured_jobs_submitted_total counter\n", text)
        self.assertIn('futured_jobs_finished_total{kind="async",'
                      'handler="echo",outcome="succeeded"} ', text)
        with futured.Client() as c:
            self.assertIn("futured_connections ", c.metrics())

    def test_watch_streams_output(self):
        f = futured.submit("exec", "sh", "-c",
                           "echo one; sleep 0.3; echo two")
        events = list(futured.watch(f))
        self.assertTrue(events[-1].final)
        self.assertEqual(sum(e.final for e in events), 1)
        self.assertEqual(events[-1].info["state"], "succeeded")
        self.assertEqual(b"".join(e.output for e in events), b"one\ntwo\n")
        # "one" came while the command still ran.
        first = next(e for e in events if e.output)
        self.assertFalse(first.final)
        self.assertEqual(first.job_id, f.id)

    def test_watch_progress_only_and_errors(self):
        f = futured.submit("exec", "sh", "-c", "echo x")
        with futured.Client(os.environ["FUTURED_SOCKET"]) as c:
            events = list(c.watch(f.id, progress_only=True))
            self.assertEqual(b"".join(e.output for e in events), b"")
            self.assertEqual(events[-1].info["state"], "succeeded")
            with self.assertRaises(futured.Error) as cm:
                list(c.watch(999999999))
            self.assertEqual(cm.exception.code, futured._lib.FUT_ENOTFOUND)

    def test_logs_whole_past_the_kept_output(self):
        # The daemon keeps 4 MiB; its log (python.sh: --output-dir) all.
        n = 5 * 1024 * 1024
        f = futured.submit("exec", "sh", "-c",
                           "head -c %d /dev/zero; echo e >&2" % n)
        futured.wait([f], timeout=30)
        pieces = list(futured.logs(f))
        self.assertGreater(len(pieces), 1)
        self.assertEqual(b"".join(pieces), b"\0" * n)
        self.assertEqual(b"".join(futured.logs(f.id, stderr=True)), b"e\n")
        g = futured.submit("exec", "sh", "-c", "echo a; sleep 0.3; echo b")
        self.assertEqual(b"".join(futured.logs(g, follow=True)),
                         b"a\nb\n")
        with self.assertRaises(futured.Error) as cm:
            list(futured.logs(999999999))
        self.assertEqual(cm.exception.code, futured._lib.FUT_ENOTFOUND)

    def test_watch_closed_early(self):
        f = futured.submit("sleep", "30s")
        try:
            w = futured.watch(f)
            e = next(w)
            self.assertFalse(e.final)
            w.close()
            # The client goes on serving.
            self.assertEqual(futured.submit("echo", data=b"k").result(5),
                             b"k")
        finally:
            f.cancel()


class TestCallbacks(unittest.TestCase):

    def test_callback_runs_once_without_anyone_waiting(self):
        ev = threading.Event()
        got = []

        def cb(f):
            got.append(f)
            ev.set()

        f = futured.submit("sleep", "100ms")
        f.add_done_callback(cb)
        self.assertTrue(ev.wait(5), "callback did not run")
        time.sleep(0.1)
        self.assertEqual(got, [f])
        # On a finished future: at once, on this thread.
        f.add_done_callback(cb)
        self.assertEqual(got, [f, f])

    def test_callback_may_submit(self):
        done = threading.Event()
        inner = []

        def cb(f):
            inner.append(futured.submit("echo", data=b"inner"))
            done.set()

        futured.submit("sleep", "50ms").add_done_callback(cb)
        self.assertTrue(done.wait(5))
        self.assertEqual(inner[0].result(5), b"inner")

    def test_callback_exception_is_logged_not_raised(self):
        with self.assertLogs("futured", "ERROR"):
            g = futured.submit("sleep", "50ms")
            g.add_done_callback(lambda f: 1 / 0)
            g.result(5)


class TestThreads(unittest.TestCase):

    def test_50_threads_each_get_their_own_result(self):
        results = {}
        errors = []

        def work(i):
            try:
                data = ("thread %d" % i).encode()
                f = futured.submit("echo", data=data,
                                   kind=("async", "blocking", "cpu")[i % 3])
                results[i] = f.result(30) == data
            except Exception as e:	# reported below
                errors.append(e)

        ts = [threading.Thread(target=work, args=(i,)) for i in range(50)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 50)
        self.assertTrue(all(results.values()))

    def test_many_threads_wait_on_one_future(self):
        f = futured.submit("sleep", "300ms")
        out = []
        ts = [threading.Thread(target=lambda: out.append(f.result(10)))
              for _ in range(20)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(20)
        self.assertEqual(out, [b""] * 20)


class TestWait(unittest.TestCase):

    def test_wait_all_and_first(self):
        fast = futured.submit("sleep", "50ms")
        slow = futured.submit("sleep", "5s")
        done, not_done = futured.wait([fast, slow], timeout=3,
                                      return_when=futured.FIRST_COMPLETED)
        self.assertEqual(done, {fast})
        self.assertEqual(not_done, {slow})
        done, not_done = futured.wait([fast, slow], timeout=0.2)
        self.assertEqual(not_done, {slow})
        slow.cancel()
        done, not_done = futured.wait([fast, slow])
        self.assertEqual(done, {fast, slow})
        self.assertEqual(not_done, set())

    def test_wait_first_exception(self):
        bad = futured.submit("exec", "false")
        slow = futured.submit("sleep", "5s")
        done, _ = futured.wait([bad, slow], timeout=5,
                               return_when=futured.FIRST_EXCEPTION)
        self.assertEqual(done, {bad})
        slow.cancel()

    def test_as_completed(self):
        # A chain, so that the order of completion is certain however
        # loaded the machine: each starts after the one before it ends
        # and sleeps, so their ends are half a second apart, whenever
        # they were submitted.
        first = futured.submit("sleep", "1s")
        second = futured.submit("sleep", "500ms", after=[first])
        third = futured.submit("sleep", "500ms", after=[second])
        order = list(futured.as_completed([third, second, first],
                                          timeout=30))
        self.assertEqual(order, [first, second, third])
        slow = futured.submit("sleep", "5s")
        with self.assertRaises(TimeoutError):
            list(futured.as_completed([slow], timeout=0.2))
        slow.cancel()

    def test_wait_timeout_zero_reads(self):
        # A job that ended while nobody read its connection: a wait
        # with no time left still reads it, as done() does.
        with futured.Client() as c, futured.Client() as other:
            slow = c.submit("sleep", "5s")
            f = c.submit("sleep", "100ms")
            self.assertTrue(until(
                lambda: other.info(f.id)["state"] == "succeeded"))
            self.assertFalse(f._done)		# not read yet
            done, not_done = futured.wait([f, slow], timeout=0)
            self.assertEqual((done, not_done), ({f}, {slow}))
            g = c.submit("sleep", "100ms")
            self.assertTrue(until(
                lambda: other.info(g.id)["state"] == "succeeded"))
            it = futured.as_completed([g, slow], timeout=0)
            self.assertIs(next(it), g)
            with self.assertRaises(TimeoutError):
                next(it)
            slow.cancel()

    def test_wait_rejects_other_futures(self):
        with self.assertRaises(TypeError):
            futured.wait([concurrent.futures.Future()])


class TestAsyncio(unittest.TestCase):

    def test_gather_20_sleeps_while_the_loop_ticks(self):
        async def main():
            ticks = 0
            stop = False

            async def ticker():
                nonlocal ticks
                while not stop:
                    await asyncio.sleep(0.01)
                    ticks += 1

            t = asyncio.create_task(ticker())
            fs = [futured.submit("sleep", "%dms" % (SLEEP * 1000))
                  for _ in range(20)]
            t0 = time.monotonic()
            res = await asyncio.gather(*fs)
            dt = time.monotonic() - t0
            stop = True
            await t
            return res, dt, ticks

        res, dt, ticks = asyncio.run(main())
        self.assertEqual(res, [b""] * 20)
        self.assertLess(dt, 5 * SLEEP, "20 sleeps did not overlap")
        # A 10 ms ticker over about half a second: the loop never froze.
        self.assertGreater(ticks, 10)
        print("\n  asyncio: 20 x %.1fs sleeps in %.3fs, %d ticks"
              % (SLEEP, dt, ticks), file=sys.stderr)

    def test_await_errors_and_cancel(self):
        async def main():
            f = futured.submit("exec", "sh", "-c", "exit 4")
            with self.assertRaises(futured.JobFailed) as cm:
                await f
            self.assertEqual(cm.exception.exit_status, 4)
            g = futured.submit("sleep", "30s")
            asyncio.get_running_loop().call_later(0.1, g.cancel)
            with self.assertRaises(futured.JobCancelled):
                await g
            # An awaited future that is already done.
            h = futured.submit("echo", data=b"b")
            h.result(5)
            self.assertEqual(await h, b"b")
            # wait_for running out cancels the job with the awaiting
            # task, as for a concurrent future under wrap_future() ...
            k = futured.submit("sleep", "30s")
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(k, 0.1)
            with self.assertRaises(futured.JobCancelled):
                k.result(10)
            # ... and so does task.cancel() ...
            m = futured.submit("sleep", "30s")
            t = asyncio.ensure_future(m)
            await asyncio.sleep(0.05)
            t.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await t
            with self.assertRaises(futured.JobCancelled):
                m.result(10)
            # ... while shield() keeps the job going.
            s = futured.submit("sleep", "5s")
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(s), 0.1)
            self.assertFalse(s.done())
            s.cancel()

        asyncio.run(main())

    def test_reader_removed_when_idle(self):
        async def main():
            loop = asyncio.get_running_loop()
            await futured.submit("sleep", "10ms")
            fd = futured.client().fileno()
            return fd in loop._selector.get_map()

        self.assertFalse(asyncio.run(main()))

    def test_mixed_with_threads(self):
        # A thread waits in result() (and so reads the connection) while
        # the loop awaits other jobs: every completion gets through.
        async def main():
            blockers = [futured.submit("sleep", "300ms") for _ in range(5)]
            th = threading.Thread(
                target=lambda: [b.result(10) for b in blockers])
            th.start()
            fs = [futured.submit("sleep", "%dms" % (50 * i))
                  for i in range(1, 11)]
            res = await asyncio.wait_for(asyncio.gather(*fs), 10)
            th.join(10)
            return res

        self.assertEqual(asyncio.run(main()), [b""] * 10)

    def test_running_in_asyncio(self):
        async def main():
            f = futured.submit("sleep", "1s")
            deadline = time.monotonic() + 10
            while not f.running() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            self.assertTrue(f.running(), "never running: %s" % f.state)
            self.assertEqual(f.state, "running")
            self.assertEqual(await f, b"")
            self.assertFalse(f.running())
            return f.state

        self.assertEqual(asyncio.run(main()), "succeeded")


try:
    import trio
except ImportError:
    trio = None


@unittest.skipIf(trio is None, "trio is not installed")
class TestTrio(unittest.TestCase):

    def test_trio_awaits_many(self):
        res = []
        ticks = 0

        async def one(i):
            res.append(await futured.submit("sleep", "%dms" % (SLEEP * 1000)))

        async def ticker(done):
            nonlocal ticks
            while not done.is_set():
                await trio.sleep(0.01)
                ticks += 1

        async def main():
            done = trio.Event()
            t0 = trio.current_time()
            async with trio.open_nursery() as outer:
                outer.start_soon(ticker, done)
                async with trio.open_nursery() as n:
                    for i in range(20):
                        n.start_soon(one, i)
                done.set()
            return trio.current_time() - t0

        dt = trio.run(main)
        self.assertEqual(res, [b""] * 20)
        self.assertLess(dt, 5 * SLEEP)
        self.assertGreater(ticks, 10)

    def test_trio_errors(self):
        async def main():
            with self.assertRaises(futured.JobFailed):
                await futured.submit("exec", "false")
            self.assertEqual(await futured.submit("echo", data=b"t"), b"t")
            # A cancel scope that ends the wait cancels the job.
            f = futured.submit("sleep", "30s")
            with trio.move_on_after(0.1):
                await f
            with self.assertRaises(futured.JobCancelled):
                f.result(10)

        trio.run(main)

    def test_trio_running(self):
        async def main():
            f = futured.submit("sleep", "1s")
            with trio.move_on_after(10):
                while not f.running():
                    await trio.sleep(0.01)
            self.assertTrue(f.running(), "never running: %s" % f.state)
            self.assertEqual(f.state, "running")
            self.assertEqual(await f, b"")
            return f.state

        self.assertEqual(trio.run(main), "succeeded")


class TestFork(unittest.TestCase):

    def test_ambient_client_reconnects_after_fork(self):
        futured.submit("echo", data=b"parent").result(5)
        parent_client = futured.client()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ok = futured.submit("echo", data=b"child").result(5)
                code = 0 if ok == b"child" and \
                    futured.client() is not parent_client else 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertIs(futured.client(), parent_client)
        self.assertEqual(futured.submit("echo", data=b"p").result(5), b"p")


@unittest.skipUnless(os.environ.get("FUTURED"), "needs $FUTURED")
class TestDaemonGone(unittest.TestCase):
    """A daemon of its own, killed while threads and a loop wait."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        os.chmod(self.dir, 0o700)
        self.sock = os.path.join(self.dir, "run", "f.sock")
        self.proc = subprocess.Popen(
            [os.environ["FUTURED"], "-f", "-s", self.sock, "-P", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                self.client = futured.Client(self.sock)
                break
            except futured.ConnectionLost:
                time.sleep(0.02)
        else:
            self.fail("futured did not come up")

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_waiters_get_connection_lost(self):
        fs = [self.client.submit("sleep", "60s") for _ in range(3)]
        errs = []

        def waiter(f):
            try:
                f.result()
            except futured.ConnectionLost as e:
                errs.append(e)

        ts = [threading.Thread(target=waiter, args=(f,)) for f in fs]
        for t in ts:
            t.start()

        async def main():
            asyncio.get_running_loop().call_later(0.3, self.proc.kill)
            with self.assertRaises(futured.ConnectionLost):
                await fs[0]

        t0 = time.monotonic()
        asyncio.run(asyncio.wait_for(main(), 10))
        for t in ts:
            t.join(10)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(len(errs), 3)
        with self.assertRaises(futured.ConnectionLost):
            self.client.submit("echo")


if __name__ == "__main__":
    unittest.main()
