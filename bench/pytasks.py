"""futured.task's no-op on a supervised cpu pool, the workload of
pyfutures.py's process rows:

    python3 pytasks.py rtt N      µs per call + result() (one at a time)
    python3 pytasks.py pipe N     calls/s: N calls, then wait for all
    python3 pytasks.py cancel N   ms from cancel() of a running Python
                                  loop to the job final, and ms until the
                                  pool took a call again (median of N)

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
        for _ in range(n):
            f = spin()
            while not f.running():
                time.sleep(0.0005)
            t0 = time.perf_counter()
            f.cancel()
            f.exception()
            t1 = time.perf_counter()
            # Every slot: the killed process's too.
            futured.wait([noop() for _ in range(ncpu)])
            t2 = time.perf_counter()
            final.append((t1 - t0) * 1e3)
            again.append((t2 - t1) * 1e3)
        print("%.2f %.1f" % (statistics.median(final),
                             statistics.median(again)))
    else:
        sys.exit("usage: pytasks.py rtt|pipe|cancel N")


if __name__ == "__main__":
    main()
