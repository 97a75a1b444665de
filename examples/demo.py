#!/usr/bin/env python3
"""The seed demo: one asyncio program mixes the three kinds of work that
plain asyncio, threads and processes make awkward together, awaits them
together, and cancels one.

  - an async job: a 1 s timer on the daemon's event loop ("sleep");
  - a blocking job: hashing 4 MiB in the daemon's thread pool ("sha256");
  - a CPU job: a shell loop in a worker process (exec, kind cpu);
  - a fourth job, a 60 s sleep in a worker process, cancelled midway.

No executor, no thread per job, no loop passed around: the futures come
from futured.submit() and are awaited like any coroutine, while the loop
goes on ticking.  The socket comes from $FUTURED_SOCKET (or the default).
Exits 0 when everything behaved.
"""

import asyncio
import sys
import time

import futured


async def ticker(counter):
    while True:
        await asyncio.sleep(0.01)
        counter[0] += 1


async def report(name, fut, t0):
    try:
        out = await fut
        what = "succeeded  %s" % out.decode().strip()[:64]
    except futured.JobError as e:
        what = "%s" % e
    print("%5.2fs  %-26s %s" % (time.monotonic() - t0, name, what))
    return fut


async def main():
    t0 = time.monotonic()
    jobs = {
        "async sleep 1s": futured.submit("sleep", "1s"),
        "blocking sha256 of 4 MiB": futured.submit(
            "sha256", data=b"x" * (4 << 20), kind="blocking"),
        "cpu shell loop": futured.submit(
            "exec", "sh", "-c", "i=0; s=0; while [ $i -lt 20000 ]; do "
            "s=$((s + i * i)); i=$((i + 1)); done; echo $s", kind="cpu"),
    }
    doomed = futured.submit("exec", "sleep", "60", kind="cpu")
    for name, f in jobs.items():
        print("submitted job %d: %s" % (f.id, name))
    print("submitted job %d: cpu sleep 60 (to cancel)" % doomed.id)

    ticks = [0]
    tick = asyncio.create_task(ticker(ticks))
    # Cancel the long one half a second in, from the loop itself.
    asyncio.get_running_loop().call_later(
        0.5, lambda: print("cancel: %s" % (
            "took effect" if doomed.cancel() else "too late")))
    done = await asyncio.gather(
        *(report(n, f, t0) for n, f in jobs.items()),
        report("cpu sleep 60 (to cancel)", doomed, t0))
    tick.cancel()

    ok = all(f.state == "succeeded" for f in done[:3]) and \
        doomed.cancelled()
    elapsed = time.monotonic() - t0
    print("demo: %s in %.2fs, the loop ticked %d times"
          % ("ok" if ok else "FAILED", elapsed, ticks[0]))
    return 0 if ok and elapsed < 10 and ticks[0] > 20 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
