"""futured.task's no-op on a supervised cpu pool, the workload of
pyfutures.py's process rows:

    python3 pytasks.py rtt N      µs per call + result() (one at a time)
    python3 pytasks.py pipe N     calls/s: N calls, then wait for all
    python3 pytasks.py cancel N   ms from cancel() of a running Python
                                  loop to the job final, and ms from the
                                  kill until the killed process's slot
                                  served again (median of N)

Each cancel is measured on a pool at full strength (its processes
registered, and $PYT_SPARES warm spares ready, default 0): a burst of
kills faster than a process starts is bounded by the start, spares or
not.  "Served again" is the daemon's own measure, stats' respawn_ms:
from the kill to the registration of the slot's next process.

The pool ($FUTURED_SOCKET's daemon, as many processes as its cpu pool)
is asked for and warmed up before the clock runs, as pyfutures.py warms
its ProcessPoolExecutor up.
"""

import os
import statistics
import sys
import time

import futured


@futured.task(kind="cpu")
def noop():
    return b""


@futured.task(kind="cpu")
def spin():
    while True:
        pass


def pool():
    """The supervised pool's stats (the only one of this daemon)."""
    return [p for p in futured.stats()["pools"] if p["supervised"]][0]


def full_strength(spares):
    """Wait until every process of the pool serves, and spares are
    ready; its respawn_ms then."""
    while True:
        p = pool()
        if p["processes"] == p["size"] and p["spares"] >= spares:
            return p["respawns"]
        time.sleep(0.005)


def served_again(before):
    """The next kill-to-serving time the daemon measures."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        p = pool()
        if p["respawns"] != before:
            return p["respawn_ms"]
        time.sleep(0.002)
    sys.exit("pytasks: the killed slot did not serve again in 30 s")


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    ncpu = os.cpu_count() or 1
    futured.wait([noop() for _ in range(4 * ncpu)])
    if mode == "rtt":
        t0 = time.perf_counter()
        for _ in range(n):
            noop().result()
        print("%.2f" % ((time.perf_counter() - t0) / n * 1e6))
    elif mode == "pipe":
        t0 = time.perf_counter()
        fs = noop.starmap(() for _ in range(n))
        futured.wait(fs)
        dt = time.perf_counter() - t0
        bad = [f for f in fs if f.exception() is not None]
        if bad:
            sys.exit("pytasks: %d calls failed: %s" % (len(bad),
                                                       bad[0].exception()))
        print("%.0f" % (n / dt))
    elif mode == "cancel":
        final, again = [], []
        spares = int(os.environ.get("PYT_SPARES", "0"))
        for _ in range(n):
            before = full_strength(spares)
            f = spin()
            while not f.running():
                time.sleep(0.0005)
            t0 = time.perf_counter()
            f.cancel()
            f.exception()
            t1 = time.perf_counter()
            final.append((t1 - t0) * 1e3)
            again.append(served_again(before))
        print("%.2f %.1f" % (statistics.median(final),
                             statistics.median(again)))
    else:
        sys.exit("usage: pytasks.py rtt|pipe|cancel N")


if __name__ == "__main__":
    main()
