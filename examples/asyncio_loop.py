#!/usr/bin/env python3
"""Event-loop integration in asyncio: await many futures at once.

Awaiting a futured.Future registers the client's file descriptor with
loop.add_reader() (once per client and loop, while something awaits), so
the loop itself reads each completion and no thread waits on any job.
Here 100 jobs of every kind are awaited with asyncio.as_completed while a
10 ms ticker proves the loop never stalls.  Exits 0 when all succeeded,
overlapped, and the ticker kept going.
"""

import asyncio
import sys
import time

import futured

N = 100


async def main():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    t = asyncio.create_task(ticker())
    t0 = time.monotonic()
    fs = []
    for i in range(N):
        if i % 3 == 0:
            fs.append(futured.submit("sleep", "%dms" % (100 + i * 4)))
        elif i % 3 == 1:
            fs.append(futured.submit("sha256", data=b"%d" % i,
                                     kind="blocking"))
        else:
            fs.append(futured.submit("echo", data=b"%d" % i, kind="cpu"))
    n = 0
    for aw in asyncio.as_completed(fs, timeout=30):
        await aw
        n += 1
    dt = time.monotonic() - t0
    t.cancel()
    print("asyncio_loop: %d jobs in %.3fs, the loop ticked %d times"
          % (n, dt, ticks))
    return 0 if n == N and dt < 5 and ticks > 20 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
