"""A process's memory under Ray tasks: task names, and what Ray keeps for retriable tasks.

    python benchmarks/task_names_memory.py [--seconds 45] [--cases NAME ...]

Each case runs in a fresh process on a fresh local Ray (2 CPUs): rounds of 50
tasks for ``--seconds``, after a warm-up, with the driver's resident memory
(after ``malloc_trim``, so that freed memory does not count) and the number of
entries in its Ray core worker's in-process object store read at the start and
at the end.  The cases:

- ``per task``: every task named uniquely, as rayexec once named a task by its key;
- ``per prefix``: every task named ``inc``, as rayexec names tasks now (by key prefix);
- ``per task, metrics off``: unique names with Ray's metrics collection turned off
  (``RAY_enable_metrics_collection=0``), which shows where the memory goes;
- ``stored both ways``: each task's argument (1.3 MB, which Ray puts in the object
  store) and its result (200 KB, stored there too) in the object store, as a dask
  graph part with an array in it and a bundle of chunks out; nothing is kept;
- ``stored both ways, no retries``: the same tasks with ``max_retries=0``;
- ``stored both ways, lineage off``: the same with Ray's lineage pinning off
  (``RAY_lineage_pinning_enabled=0``: lost objects cannot be recomputed);
- ``stored both ways, argument dropped last``: retries and lineage on, each
  argument put by the driver and its ObjectRef dropped only after the task's
  result's, as rayexec does (``rayexec.pins``);
- ``one stored result passed twice``: a task's 1.6 MB result given twice to the
  next task (``f.remote(x, x)``), whose result is small;
- ``one stored result passed once``: the same given once, as rayexec sends it
  (``rayexec.execution.ArgumentList``);
- ``actors created and killed``: 5 actors a round, each called 10 times and then
  killed (``ray.kill``), as the soak's actor work; per task times 10 is per actor.

Prints one line per case: tasks run, memory at start and end, bytes per task
(and of the anonymous part alone: the process's heap, without the object store's
shared pages it has touched, which the stored cases touch; and what glibc's
allocator has handed out and not got back), and the in-process store's entries
left per task.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

STORED_PART = 1_300_000  # bytes of a task's argument, over Ray's 100 KB inline limit
CASES = {
    "per task": {},
    "per prefix": {},
    "per task, metrics off": {"RAY_enable_metrics_collection": "0"},
    "stored both ways": {},
    "stored both ways, no retries": {},
    "stored both ways, lineage off": {"RAY_lineage_pinning_enabled": "0"},
    "stored both ways, argument dropped last": {},
    "one stored result passed twice": {},
    "one stored result passed once": {},
    "actors created and killed": {},
}


def _rounds(case: str):
    """The function that runs one round of ``case``'s 50 tasks, given a serial number."""
    import numpy as np
    import ray

    if case.startswith("stored both ways"):
        retries = 0 if case.endswith("no retries") else 3  # 3: Ray's default

        @ray.remote(max_retries=retries)
        def part(blob):
            return np.ones(25_000)  # 200 KB: stored in the object store

        blob = b"x" * STORED_PART

        def stored_round(serial: int):
            ray.wait([part.remote(blob) for _ in range(50)], num_returns=50, fetch_local=False)

        def dropped_last_round(serial: int):
            arguments = [ray.put(blob) for _ in range(50)]
            results = [part.remote(argument) for argument in arguments]
            ray.wait(results, num_returns=50, fetch_local=False)
            del results  # the results' ObjectRefs go first,
            del arguments  # then the arguments'
        return dropped_last_round if case.endswith("dropped last") else stored_round

    if case == "actors created and killed":
        @ray.remote(num_cpus=0)
        class Counter:
            def __init__(self):
                self.n = 0

            def add(self, x):
                self.n += x
                return self.n

        def actors_round(serial: int):
            for _ in range(5):
                counter = Counter.remote()
                ray.get([counter.add.remote(i) for i in range(10)])
                ray.kill(counter)
        return actors_round

    if case.startswith("one stored result"):
        @ray.remote
        def make():
            return np.ones(200_000)  # 1.6 MB: stored in the object store

        @ray.remote
        def first(*values):
            return values[0][0]

        twice = case.endswith("twice")

        def passed_round(serial: int):
            for _ in range(50):  # one after the other, as a client's calls
                x = make.remote()
                ray.get(first.remote(x, x) if twice else first.remote(x))
        return passed_round

    @ray.remote
    def inc(x):
        return x + 1

    def named_round(serial: int):
        if case == "per prefix":
            return ray.get([inc.options(name="inc").remote(i) for i in range(50)])
        return ray.get([inc.options(name=f"inc-{serial}-{i}").remote(i) for i in range(50)])
    return named_round


def measure(case: str, seconds: float) -> dict:
    """Run one case here (the child process's part)."""
    import ray
    from process_memory import memory_mb, ray_store_entries  # beside this file, on sys.path

    ray.init(num_cpus=2, include_dashboard=False, address="local")
    one_round = _rounds(case)
    for serial in range(20):  # warm-up: worker processes, the function's export
        one_round(serial)
    start, start_entries = memory_mb(), ray_store_entries()
    started, rounds = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        rounds += 1
        one_round(20 + rounds)
    end, end_entries = memory_mb(), ray_store_entries()
    ray.shutdown()
    tasks = rounds * 50
    return {"case": case, "tasks": tasks, "start_mb": round(start["rss"]),
            "end_mb": round(end["rss"]),
            "bytes_per_task": round((end["rss"] - start["rss"]) * 2**20 / tasks),
            "anonymous_bytes_per_task": round((end["anonymous"] - start["anonymous"]) * 2**20
                                              / tasks),
            "malloc_bytes_per_task": round((end["malloc"] - start["malloc"]) * 2**20 / tasks),
            "entries_per_task": round((end_entries - start_entries) / tasks, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.seconds)))
        return 0
    for case in args.cases:
        env = CASES[case]
        done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds),
                               "--case", case], capture_output=True, text=True,
                              env={**os.environ, **env}, timeout=args.seconds + 300)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            print(f"{case}: failed\n{done.stderr[-2000:]}")
            return 1
        r = json.loads(lines[-1])
        print(f"{case:30} {r['tasks']:>7} tasks  {r['start_mb']:>4} MB -> {r['end_mb']:>4} MB  "
              f"{r['bytes_per_task']:>6} bytes per task (anonymous: "
              f"{r['anonymous_bytes_per_task']:>5}, malloc: {r['malloc_bytes_per_task']:>5})  "
              f"{r['entries_per_task']:>5} entries left per task")
    return 0


if __name__ == "__main__":
    sys.exit(main())
