"""The client's memory over a long run of one kind of work, with no faults.

    python benchmarks/client_memory.py [--seconds 60] [--work futures_on_futures ...]

Runs the chaos soak's workload (``soak.Workload``: futures, futures on futures,
dask array, dataframe shuffle, delayed, an actor, the coordination primitives)
on a local cluster of two worker nodes, one kind of work at a time, each in a
fresh process.  Prints, per kind: operations done, the client's resident
memory after a warm-up and at the end (both after ``malloc_trim``, so that
memory the allocator merely holds does not count), the growth per operation,
and how much of it Python's own allocations explain (``tracemalloc``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = ["futures", "futures_on_futures", "dask_array", "dask_shuffle", "dask_delayed",
        "actor", "coordination"]


def measure(work: str, seconds: float) -> dict:
    """One kind of work, here (the child process's part)."""
    # The workload's functions travel by reference: the nodes import them from here.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, HERE)
    from soak import Workload, rss_mb

    from rayexec import Client

    workload = Workload(lambda: Client(n_workers=2, threads_per_worker=1), 120,
                        random.Random(1))
    operation = getattr(workload, work)
    for _ in range(3):  # warm-up: imports, remote functions, worker processes, actors
        operation()
    tracemalloc.start()
    start_mb, started, done = rss_mb(trim=True), time.monotonic(), 0
    while time.monotonic() - started < seconds:
        operation()
        done += 1
    end_mb = rss_mb(trim=True)
    traced_mb = tracemalloc.get_traced_memory()[0] / 2**20
    workload.client.close()
    return {"work": work, "operations": done, "start_mb": round(start_mb),
            "end_mb": round(end_mb), "traced_mb": round(traced_mb, 1),
            "kb_per_operation": round((end_mb - start_mb) * 1024 / max(done, 1), 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per kind of work")
    parser.add_argument("--work", nargs="*", default=WORK, choices=WORK)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.seconds)))
        return 0
    print("| work | operations | client memory, start → end | KB per operation | of it Python's |")
    print("|---|---|---|---|---|")
    for work in args.work:
        done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds),
                               "--child", work], capture_output=True, text=True,
                              timeout=args.seconds + 600)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            print(f"| {work} | failed: {done.stderr[-500:]!r} |")
            continue
        r = json.loads(lines[-1])
        print(f"| {work} | {r['operations']} | {r['start_mb']} MB → {r['end_mb']} MB | "
              f"{r['kb_per_operation']} | {r['traced_mb']} MB |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
