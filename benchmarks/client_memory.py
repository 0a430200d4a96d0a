"""The client's memory over a long run of one kind of work, with no faults.

    python benchmarks/client_memory.py [--seconds 60] [--work futures_on_futures ...] [--every 60]
                                       [--system rayexec ray_dask_get distributed]

Runs the chaos soak's workload (``soak.Workload``: futures, futures on futures,
dask array, dataframe shuffle, delayed, an actor, the coordination primitives)
on a local cluster of two workers, one kind of work at a time, each in a fresh
process (``--work all``: rounds of every kind in turn, the soak without
faults).  Prints, per kind: operations done, the client's resident memory
after a warm-up and at the end, the growth per operation, what glibc's
allocator has handed out and not got back (``malloc``), Python's allocations
made since the warm-up and still alive with dask's and rayexec's bounded key
caches emptied, and how many entries Ray's in-process object store kept per
operation (``process_memory`` says how each is read).  With ``--every S``, also
a line every S seconds: operations so far, resident memory and its parts, to
tell a leak from caches filling up.

``--system ray_dask_get`` runs the dask works on raw Ray instead, through Ray's
own dask scheduler on a local Ray of two CPUs; ``--system distributed`` runs
every work on real ``distributed`` (a ``LocalCluster`` of two worker processes
of one thread): the same work's client memory without rayexec.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = ["futures", "futures_on_futures", "dask_array", "dask_shuffle", "dask_delayed",
        "actor", "coordination"]
ALL = "all"  # one round of every kind of work, in turn: the soak's workload without its faults
DASK_WORK = ["dask_array", "dask_shuffle", "dask_delayed"]
SYSTEMS = ["rayexec", "ray_dask_get", "distributed"]


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


def connector(system: str):
    """A function returning a new client of ``system`` on two local workers."""
    if system == "ray_dask_get":
        return RayDaskGet
    if system == "distributed":
        import distributed

        return lambda: distributed.Client(distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"))
    from rayexec import Client

    return lambda: Client(n_workers=2, threads_per_worker=1)


def memory_now(held) -> dict:
    """The readings of one sample, in MB (after ``malloc_trim``)."""
    from process_memory import memory_mb

    return {**{part: round(mb, 1) for part, mb in memory_mb().items()},
            "python": round(held.mb(empty_caches=False), 1)}


def measure(work: str, seconds: float, every: float | None = None,
            system: str = "rayexec") -> dict:
    """One kind of work, here (the child process's part)."""
    # The workload's functions travel by reference: the workers import them from here.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, HERE)
    from process_memory import PythonHeld, ray_store_entries
    from soak import Workload

    # Ray's in-process store has no counterpart in distributed's client.
    entries = ray_store_entries if system != "distributed" else (lambda: None)
    workload = Workload(connector(system), 120, random.Random(1))
    operation = (getattr(workload, work) if work != ALL
                 else lambda: [kind() for kind in workload.operations()])
    for _ in range(3):  # warm-up: imports, remote functions, worker processes, actors
        operation()
    held = PythonHeld().start()
    start, start_entries = memory_now(held), entries()
    started, done = time.monotonic(), 0
    samples, next_sample = [], every
    while (elapsed := time.monotonic() - started) < seconds:
        if every and elapsed >= next_sample:
            samples.append({"seconds": round(elapsed), "operations": done, **memory_now(held)})
            next_sample += every
        operation()
        done += 1
    end, end_entries = memory_now(held), entries()
    end["python, caches emptied"] = round(held.mb(), 1)
    workload.client.close()
    return {"work": work, "operations": done, "start": start, "end": end,
            "kb_per_operation": round((end["rss"] - start["rss"]) * 1024 / max(done, 1), 1),
            "entries_per_operation": ("n/a" if end_entries is None else
                                      round((end_entries - start_entries) / max(done, 1), 2)),
            "samples": samples}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per kind of work")
    parser.add_argument("--work", nargs="*", default=WORK, choices=[*WORK, ALL])
    parser.add_argument("--every", type=float, help="also a memory sample every so many seconds")
    parser.add_argument("--system", choices=SYSTEMS, default="rayexec",
                        help="ray_dask_get: the dask works on raw Ray; distributed: on real "
                             "distributed; for comparison")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.system == "ray_dask_get" and not args.child and set(args.work) - set(DASK_WORK):
        parser.error(f"--system ray_dask_get runs only the dask works: --work {' '.join(DASK_WORK)}")
    if args.system == "distributed" and not args.child and {"coordination", ALL} & set(args.work):
        parser.error("--system distributed: the coordination work uses rayexec's primitives; "
                     "leave it out of --work")
    if args.child:
        print(json.dumps(measure(args.child, args.seconds, args.every, args.system)))
        return 0
    print("| work | operations | client memory (RSS), start → end | KB per operation "
          "| malloc in use, start → end | Python's since start: at the end, caches emptied "
          "| Ray's in-process store entries left per operation |")
    print("|---|---|---|---|---|---|---|")
    for work in args.work:
        sampling = ["--every", str(args.every)] if args.every else []
        done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds),
                               *sampling, "--system", args.system, "--child", work],
                              capture_output=True, text=True, timeout=args.seconds + 600)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            print(f"| {work} | failed: {done.stderr[-500:]!r} |")
            continue
        r = json.loads(lines[-1])
        start, end = r["start"], r["end"]
        print(f"| {work} | {r['operations']} | {start['rss']:.0f} MB → {end['rss']:.0f} MB | "
              f"{r['kb_per_operation']} | {start['malloc']} MB → {end['malloc']} MB | "
              f"{end['python']} MB, {end['python, caches emptied']} MB | "
              f"{r['entries_per_operation']} |", flush=True)
        for sample in r["samples"]:
            print(f"|   at {sample['seconds']} s | {sample['operations']} | {sample['rss']:.0f} MB "
                  f"(anonymous {sample['anonymous']:.0f} MB, object store pages "
                  f"{sample['object store pages']:.0f} MB) | | {sample['malloc']} MB "
                  f"| {sample['python']} MB | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
