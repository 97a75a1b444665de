"""The no-op workload of futbench on Python's concurrent.futures.

    python3 pyfutures.py thread|process rtt N    µs per submit + result()
    python3 pyfutures.py thread|process pipe N   jobs/s: N submits, then
                                                 wait for all of them

The pools have as many workers as futured's defaults would (processes:
one per core; threads: 4 per core), and are started and warmed up before
the clock runs, as futured's are when it accepts connections.
"""

import concurrent.futures as cf
import os
import sys
import time


def noop():
    return b""


def main():
    kind, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ncpu = os.cpu_count() or 1
    if kind == "process":
        ex = cf.ProcessPoolExecutor(max_workers=ncpu)
    else:
        ex = cf.ThreadPoolExecutor(max_workers=4 * ncpu)
    with ex:
        cf.wait([ex.submit(noop) for _ in range(4 * ncpu)])
        if mode == "rtt":
            t0 = time.perf_counter()
            for _ in range(n):
                ex.submit(noop).result()
            print("%.2f" % ((time.perf_counter() - t0) / n * 1e6))
        else:
            t0 = time.perf_counter()
            cf.wait([ex.submit(noop) for _ in range(n)])
            print("%.0f" % (n / (time.perf_counter() - t0)))


if __name__ == "__main__":
    main()
