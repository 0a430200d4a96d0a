"""Data larger than memory: ``bench_dask.py --memory``.

Ray gets an object store of ``STORE`` bytes (it spills to disk past that);
distributed the same memory in all (two workers of half each: it spills and
pauses by its own thresholds).  The workloads are sized against that memory:

- ``sum``: ``da.random.random(...).sum()`` over 4x it;
- ``transpose``: ``(x + x.T).mean()`` over 2x it;
- ``groupby``: a dataframe shuffled on its key, then a groupby-sum, over 2x it.

Each system runs each workload in a fresh process; the parent samples the
memory of that process and all its descendants (PSS: shared memory such as the
object store counted once) every 0.2 s and keeps the peak.  A run that the OS
kills shows as killed, not as a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

STORE = 512 * 2**20
SYSTEMS = ("distributed", "rayexec")


def _partition(i: int, rows: int, keys: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(i)
    return pd.DataFrame({"k": rng.integers(0, keys, rows), "x": rng.random(rows),
                         "y": rng.random(rows)})


def workloads(memory: int) -> dict:
    """name -> (description, build the collection, check its value)."""
    import dask.array as da
    import dask.dataframe as dd

    mb = 2**20

    def square(total_bytes, chunk_bytes):
        n = int((total_bytes / 8) ** 0.5)
        c = int((chunk_bytes / 8) ** 0.5)
        return n, c

    n_sum, c_sum = square(4 * memory, 32 * mb)
    n_t, c_t = square(2 * memory, 8 * mb)
    rows_per_part, keys = 500_000, 10_000
    parts = max(1, (2 * memory) // (rows_per_part * 24))

    def array_sum():
        return da.random.default_rng(0).random((n_sum, n_sum), chunks=(c_sum, c_sum)).sum()

    def transpose():
        x = da.random.default_rng(1).random((n_t, n_t), chunks=(c_t, c_t))
        return (x + x.T).mean()

    def groupby():
        df = dd.from_map(_partition, range(parts), rows=rows_per_part, keys=keys)
        shuffled = df.shuffle(on="k", npartitions=parts, shuffle_method="tasks")
        return shuffled.groupby("k").x.sum().sum(), df.x.sum()

    def close_to_half(count):
        return lambda value: abs(value / count - 0.5) < 0.01

    return {
        "sum": (f"da.random.random(({n_sum:,}, {n_sum:,})).sum(), "
                f"{8 * n_sum * n_sum / mb:,.0f} MB in {c_sum}² chunks",
                array_sum, close_to_half(n_sum * n_sum)),
        "transpose": (f"(x + x.T).mean(), {8 * n_t * n_t / mb:,.0f} MB in {c_t}² chunks",
                      transpose, lambda value: abs(value - 1.0) < 0.01),
        "groupby": (f"shuffle on the key then groupby-sum, {parts * rows_per_part:,} rows "
                    f"({parts * rows_per_part * 24 / mb:,.0f} MB) in {parts} partitions",
                    groupby, lambda value: abs(value[0] - value[1]) < 1e-6 * value[1]),
    }


def run_child(system: str, name: str, memory: int) -> dict:
    """In the child: start ``system`` with ``memory``, compute one workload once."""
    import dask

    _, build, check = workloads(memory)[name]
    if system == "distributed":
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               memory_limit=memory // 2, dashboard_address=None)
        scheduler = Client(cluster)

        def stop():
            scheduler.close()
            cluster.close()
    else:
        import ray

        import rayexec

        ray.init(address="local", num_cpus=2, object_store_memory=memory,
                 include_dashboard=False, logging_level="ERROR")
        scheduler = rayexec.Client(ray.get_runtime_context().gcs_address)

        def stop():
            scheduler.close()
            ray.shutdown()

    try:
        started = time.perf_counter()
        (value,) = dask.compute(build(), scheduler=scheduler)
        elapsed = time.perf_counter() - started
    finally:
        stop()
    value = [float(v) for v in value] if isinstance(value, tuple) else float(value)
    return {"seconds": elapsed, "value": value, "right": bool(check(value))}


def _tree_pss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(system: str, name: str, memory: int, script: str) -> dict:
    """Run one system on one workload in a fresh process; its result and peak memory."""
    proc = subprocess.Popen([sys.executable, script, "--memory-child", system,
                             "--workload", name, "--store", str(memory)],
                            stdout=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_pss(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate(timeout=3600)
    done.set()
    sampler.join()
    if proc.returncode:
        return {"killed" if proc.returncode < 0 else "failed": proc.returncode,
                "peak_bytes": peak[0]}
    return {**json.loads(out.strip().splitlines()[-1]), "peak_bytes": peak[0]}


def table(results: dict, memory: int) -> str:
    mb = 2**20
    lines = ["| workload | distributed (s) | rayexec (s) | time rayexec / distributed "
             "| distributed peak (MB) | rayexec peak (MB) | peak rayexec / distributed "
             "| right answers |", "|---|---|---|---|---|---|---|---|"]
    for name, (description, _, _) in workloads(memory).items():
        d, r = results["distributed"][name], results["rayexec"][name]

        def shown(run):
            if "seconds" in run:
                return f"{run['seconds']:.1f}"
            return "killed by the OS" if "killed" in run else f"failed ({run['failed']})"

        both = "seconds" in d and "seconds" in r
        ratio = f"{r['seconds'] / d['seconds']:.2f}" if both else "n/a"
        peak = f"{r['peak_bytes'] / d['peak_bytes']:.2f}" if d["peak_bytes"] else "n/a"
        right = ", ".join(f"{s}: {'yes' if run.get('right') else 'no'}"
                          for s, run in (("distributed", d), ("rayexec", r)))
        lines.append(f"| {name}: {description} | {shown(d)} | {shown(r)} | {ratio} "
                     f"| {d['peak_bytes'] / mb:,.0f} | {r['peak_bytes'] / mb:,.0f} | {peak} "
                     f"| {right} |")
    return "\n".join(lines)
