"""Functions the Python task tests run as futured jobs (imported by the
tests and, by name, by the workers the daemon starts)."""

import asyncio
import os
import time

import futured


@futured.task
def add(a, b):
    return a + b


@futured.task
async def async_sleep(seconds, value=None):
    await asyncio.sleep(seconds)
    return value


@futured.task
def block_sleep(seconds, value=None):
    time.sleep(seconds)
    return value


@futured.task(kind="cpu")
def cpu_pid():
    return os.getpid()


@futured.task(kind="cpu")
def cpu_spin(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


@futured.task(kind="cpu")
def noop():
    return None


class BadInput(ValueError):
    """A user's exception, importable on both sides."""


class Unpicklable(Exception):
    """Pickles, but cannot be made again from its args."""

    def __init__(self, a, b):
        super().__init__("%s/%s" % (a, b))


@futured.task
def fail(kind, message):
    if kind == "builtin":
        raise KeyError(message)
    if kind == "user":
        raise BadInput(message)
    raise Unpicklable(message, "x")


@futured.task
def with_progress(n):
    t = futured.current_task()
    for i in range(n):
        t.progress((i + 1) / n, "step %d" % (i + 1))
        t.output("line %d\n" % i)
    return n


@futured.task
def context():
    t = futured.current_task()
    return {"ctx": t.ctx, "job_id": t.job_id, "kind": t.kind}


@futured.task
def spawn_child():
    # A job submitted from a task is its child: it inherits the context.
    return context()


@futured.task
async def gather(futures):
    # Futures handed to a task arrive as Futures of the same jobs.
    return sum(await asyncio.gather(*futures))


@futured.task
def make_future(x):
    return add(x, 1)


def double(x):
    return 2 * x
