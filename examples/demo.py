#!/usr/bin/env python3
"""The demo: your own Python functions as jobs, async, blocking and cpu
behind one kind of future, with the cancellation and timeouts that
asyncio, threads and ProcessPoolExecutor do not give together.

  - fetch (async def): ten at once on a worker's event loop;
  - digest (def): on a worker's thread pool;
  - crunch (kind="cpu"): in a supervised Python process;
  - all three awaited in one asyncio.gather while the loop ticks;
  - spin, a running cpu function (a Python loop that never returns),
    cancelled: its process is killed and a fresh one takes the slot,
    which ProcessPoolExecutor cannot do;
  - a timeout ending another spin;
  - context set on a job and seen by the job it submits (its child);
  - a fail-fast group: one member fails, the others are cancelled.

No configuration, no executor, no pool to start: the first call of each
kind asks the daemon for a pool of `python3 -m futured.worker` serving
this script (loaded as multiprocessing's spawn does).  The socket comes
from $FUTURED_SOCKET (or the default).  Exits 0 when everything behaved.
"""

import asyncio
import hashlib
import os
import sys
import time

import futured


@futured.task
async def fetch(n):
    await asyncio.sleep(0.5)		# stands for network I/O
    return "page %d" % n


@futured.task
def digest(data):
    return hashlib.sha256(data).hexdigest()


@futured.task(kind="cpu")
def crunch(n):
    return sum(i * i for i in range(n))


@futured.task(kind="cpu")
def spin():
    futured.current_task().progress(0, "spinning in %d" % os.getpid())
    while True:
        pass


@futured.task
def tenant():
    return futured.current_task().ctx.get("tenant")


@futured.task
def outer():
    # Submitted from inside a job: a child, with the parent's context.
    return tenant().result(30)


@futured.task
async def member(i):
    if i == 2:
        await asyncio.sleep(0.2)
        raise ValueError("member %d is bad" % i)
    await asyncio.sleep(60)
    return i


async def ticker(counter):
    while True:
        await asyncio.sleep(0.01)
        counter[0] += 1


def say(t0, what):
    print("%5.2fs  %s" % (time.monotonic() - t0, what))


async def main():
    ok = True
    t0 = time.monotonic()
    ticks = [0]
    tick = asyncio.create_task(ticker(ticks))

    # Warm up: the first call of each kind starts its pool.
    await asyncio.gather(fetch(0), digest(b""), crunch(1))
    say(t0, "pools up")

    t1 = time.monotonic()
    pages = [fetch(i) for i in range(10)]
    results = await asyncio.gather(*pages, digest(b"x" * (4 << 20)),
                                   crunch(10 ** 6))
    dt = time.monotonic() - t1
    say(t0, "gathered 10 fetches, a digest and a crunch in %.2fs: %s, "
        "%s..., %d" % (dt, results[0], results[10][:16], results[11]))
    ok &= results[:10] == ["page %d" % i for i in range(10)] and \
        results[10] == hashlib.sha256(b"x" * (4 << 20)).hexdigest() and \
        results[11] == sum(i * i for i in range(10 ** 6)) and dt < 30

    # Cancel a running Python function: its process goes.
    f = spin()
    while not f.progress_msg and not f.done():
        await asyncio.sleep(0.005)
    pid = int(f.progress_msg.split()[-1])
    t1 = time.monotonic()
    f.cancel()
    try:
        await f
        ok = False
    except futured.JobCancelled:
        pass
    final_ms = (time.monotonic() - t1) * 1e3
    while time.monotonic() - t1 < 5 and os.path.exists("/proc/%d" % pid):
        await asyncio.sleep(0.005)
    gone = not os.path.exists("/proc/%d" % pid)
    t2 = time.monotonic()
    again = await asyncio.gather(*(crunch(1000) for _ in range(4)))
    say(t0, "cancelled a running cpu function: final in %.1f ms, its "
        "process %d %s, the pool served 4 calls %.0f ms later" % (
            final_ms, pid, "gone" if gone else "STILL THERE",
            (time.monotonic() - t2) * 1e3))
    ok &= final_ms < 1000 and gone and \
        again == [sum(i * i for i in range(1000))] * 4

    # A timeout.
    try:
        await spin.options(timeout=0.3)()
        ok = False
    except futured.JobTimedOut as e:
        say(t0, "timed out: %s" % e)

    # Context, inherited by a child.
    who = await outer.options(ctx={"tenant": "acme"})()
    say(t0, "the child saw tenant %r" % who)
    ok &= who == "acme"

    # A fail-fast group.
    g = "demo-%d" % os.getpid()
    futured.group(g, fail_fast=True)
    t1 = time.monotonic()
    members = [member.options(group=g)(i) for i in range(5)]
    outcomes = await asyncio.gather(*members, return_exceptions=True)
    dt = time.monotonic() - t1
    kinds = [type(o).__name__ for o in outcomes]
    say(t0, "fail-fast group in %.2fs: %s" % (dt, ", ".join(kinds)))
    ok &= isinstance(outcomes[2], ValueError) and dt < 10 and \
        all(isinstance(o, futured.JobCancelled)
            for i, o in enumerate(outcomes) if i != 2)

    tick.cancel()
    elapsed = time.monotonic() - t0
    print("demo: %s in %.2fs, the loop ticked %d times"
          % ("ok" if ok else "FAILED", elapsed, ticks[0]))
    return 0 if ok and ticks[0] > 20 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
