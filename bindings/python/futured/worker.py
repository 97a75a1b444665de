"""python3 -m futured.worker [--cpu] MODULE...: serve Python modules'
futured.task functions (and futured.Worker handlers) as a worker; the
daemon starts it so for @futured.task (a supervised pool), or a program
runs it attached.  See futured._worker.main and futured-workers(7)."""

import sys

from futured._worker import main

if __name__ == "__main__":
    sys.exit(main())
