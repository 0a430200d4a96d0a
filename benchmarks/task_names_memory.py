"""A process's memory under Ray task names: one name per task against one per function.

    python benchmarks/task_names_memory.py [--seconds 45]

Each case runs in a fresh process on a fresh local Ray (2 CPUs): rounds of 50
tiny tasks for ``--seconds``, after a warm-up, with the driver's resident memory
(after ``malloc_trim``, so that freed memory does not count) read at the start
and at the end.  The cases:

- ``per task``: every task named uniquely, as rayexec once named a task by its key;
- ``per prefix``: every task named ``inc``, as rayexec names tasks now (by key prefix);
- ``per task, metrics off``: unique names with Ray's metrics collection turned off
  (``RAY_enable_metrics_collection=0``), which shows where the memory goes.

Prints one line per case: tasks run, memory at start and end, and bytes per task.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CASES = {
    "per task": {},
    "per prefix": {},
    "per task, metrics off": {"RAY_enable_metrics_collection": "0"},
}


def measure(case: str, seconds: float) -> dict:
    """Run one case here (the child process's part)."""
    import ray
    from soak import rss_mb  # beside this file, first on sys.path

    ray.init(num_cpus=2, include_dashboard=False, address="local")

    @ray.remote
    def inc(x):
        return x + 1

    def one_round(serial: int):
        if case == "per prefix":
            return ray.get([inc.options(name="inc").remote(i) for i in range(50)])
        return ray.get([inc.options(name=f"inc-{serial}-{i}").remote(i) for i in range(50)])

    for serial in range(20):  # warm-up: worker processes, the function's export
        one_round(serial)
    start_mb, started, rounds = rss_mb(trim=True), time.monotonic(), 0
    while time.monotonic() - started < seconds:
        rounds += 1
        one_round(20 + rounds)
    end_mb = rss_mb(trim=True)
    ray.shutdown()
    tasks = rounds * 50
    return {"case": case, "tasks": tasks, "start_mb": round(start_mb), "end_mb": round(end_mb),
            "bytes_per_task": round((end_mb - start_mb) * 2**20 / tasks)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.seconds)))
        return 0
    for case, env in CASES.items():
        done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds),
                               "--case", case], capture_output=True, text=True,
                              env={**os.environ, **env}, timeout=args.seconds + 300)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            print(f"{case}: failed\n{done.stderr[-2000:]}")
            return 1
        r = json.loads(lines[-1])
        print(f"{case:24} {r['tasks']:>7} tasks  {r['start_mb']:>4} MB -> {r['end_mb']:>4} MB  "
              f"{r['bytes_per_task']:>6} bytes per task")
    return 0


if __name__ == "__main__":
    sys.exit(main())
