"""Connect to a running cluster with the 2015 name, through the shim, and run work on it.

Run as: PYTHONPATH=<checkout>/compat python compat_executor.py <address>
"""

import sys

from distributed import Executor

assert Executor.__module__.startswith("rayexec"), Executor.__module__

e = Executor(sys.argv[1])
# the scheduler (head node) runs no tasks: only the workers have threads
print("nthreads", sorted(n for n in e.nthreads().values() if n), flush=True)
workers = e.scheduler_info()["workers"].values()
print("memory_limits", sorted(w["memory_limit"] for w in workers if w["nthreads"]), flush=True)
print("result", e.submit(lambda x: x + 1, 10).result(), flush=True)
e.close()
