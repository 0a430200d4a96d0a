"""The client's memory over a long run of one kind of work, with no faults.

    python benchmarks/client_memory.py [--seconds 60] [--work futures_on_futures ...] [--every 60]
                                       [--system rayexec ray_dask_get]

Runs the chaos soak's workload (``soak.Workload``: futures, futures on futures,
dask array, dataframe shuffle, delayed, an actor, the coordination primitives)
on a local cluster of two worker nodes, one kind of work at a time, each in a
fresh process.  Prints, per kind: operations done, the client's resident
memory after a warm-up and at the end (both after ``malloc_trim``, so that
memory the allocator merely holds does not count), the growth per operation,
how much of it Python's own allocations explain (``tracemalloc``), and how
many entries Ray's in-process object store kept per operation.  With
``--every S``, also a line every S seconds: operations so far, resident memory,
its anonymous part (the process's own heap, without the object store's shared
pages it has touched) and Python's part, to tell a leak from caches filling up.
``--system ray_dask_get`` runs the dask works on raw Ray instead, through Ray's
own dask scheduler on a local Ray of two CPUs: the same work's driver memory
without rayexec.
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
DASK_WORK = ["dask_array", "dask_shuffle", "dask_delayed"]


class RayDaskGet:
    """The dask works' client on raw Ray: ``compute`` through Ray's own dask
    scheduler (``ray.util.dask.ray_dask_get``) on a local Ray of two CPUs."""

    def __init__(self):
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)

    def compute(self, collection):
        import dask
        from ray.util.dask import ray_dask_get

        return Computed(dask.compute(collection, scheduler=ray_dask_get)[0])

    def close(self):
        import ray

        ray.shutdown()


class Computed:
    """A value already computed, answering ``result()`` as a future would."""

    def __init__(self, value):
        self.value = value

    def result(self, timeout=None):
        return self.value


def anonymous_mb() -> float:
    """The anonymous part of this process's resident memory in MB (its heaps, not
    files or the object store's shared memory it has mapped)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(work: str, seconds: float, every: float | None = None,
            system: str = "rayexec") -> dict:
    """One kind of work, here (the child process's part)."""
    # The workload's functions travel by reference: the nodes import them from here.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, HERE)
    from soak import Workload, ray_store_entries, rss_mb

    from rayexec import Client

    connect = RayDaskGet if system == "ray_dask_get" else (
        lambda: Client(n_workers=2, threads_per_worker=1))
    workload = Workload(connect, 120, random.Random(1))
    operation = getattr(workload, work)
    for _ in range(3):  # warm-up: imports, remote functions, worker processes, actors
        operation()
    tracemalloc.start()
    start_mb, start_entries = rss_mb(trim=True), ray_store_entries()
    started, done = time.monotonic(), 0
    samples, next_sample = [], every
    while (elapsed := time.monotonic() - started) < seconds:
        if every and elapsed >= next_sample:
            samples.append({"seconds": round(elapsed), "operations": done,
                            "rss_mb": round(rss_mb(trim=True)), "anon_mb": round(anonymous_mb()),
                            "traced_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 1)})
            next_sample += every
        operation()
        done += 1
    end_mb, end_entries = rss_mb(trim=True), ray_store_entries()
    traced_mb = tracemalloc.get_traced_memory()[0] / 2**20
    workload.client.close()
    return {"work": work, "operations": done, "start_mb": round(start_mb),
            "end_mb": round(end_mb), "traced_mb": round(traced_mb, 1),
            "kb_per_operation": round((end_mb - start_mb) * 1024 / max(done, 1), 1),
            "entries_per_operation": round((end_entries - start_entries) / max(done, 1), 2),
            "samples": samples}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per kind of work")
    parser.add_argument("--work", nargs="*", default=WORK, choices=WORK)
    parser.add_argument("--every", type=float, help="also a memory sample every so many seconds")
    parser.add_argument("--system", choices=["rayexec", "ray_dask_get"], default="rayexec",
                        help="ray_dask_get: the dask works on raw Ray, for comparison")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.system == "ray_dask_get" and not args.child and set(args.work) - set(DASK_WORK):
        parser.error(f"--system ray_dask_get runs only the dask works: --work {' '.join(DASK_WORK)}")
    if args.child:
        print(json.dumps(measure(args.child, args.seconds, args.every, args.system)))
        return 0
    print("| work | operations | client memory, start → end | KB per operation | of it Python's "
          "| Ray's in-process store entries left per operation |")
    print("|---|---|---|---|---|---|")
    for work in args.work:
        sampling = ["--every", str(args.every)] if args.every else []
        done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds),
                               *sampling, "--system", args.system, "--child", work], capture_output=True, text=True,
                              timeout=args.seconds + 600)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            print(f"| {work} | failed: {done.stderr[-500:]!r} |")
            continue
        r = json.loads(lines[-1])
        print(f"| {work} | {r['operations']} | {r['start_mb']} MB → {r['end_mb']} MB | "
              f"{r['kb_per_operation']} | {r['traced_mb']} MB | {r['entries_per_operation']} |",
              flush=True)
        for sample in r["samples"]:
            print(f"|   at {sample['seconds']} s | {sample['operations']} | {sample['rss_mb']} MB "
                  f"(anonymous {sample['anon_mb']} MB) | | {sample['traced_mb']} MB | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
