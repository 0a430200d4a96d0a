"""The futures API side by side: raw Ray, rayexec and real distributed, in one run.

    python benchmarks/bench_futures.py            # full sizes, writes its section of RESULTS.md
    python benchmarks/bench_futures.py --quick    # small sizes, prints only

Each system runs in its own subprocess on the same CPUs (Ray is one per
process): raw Ray and rayexec on a local Ray with every CPU, distributed on a
LocalCluster of one single-threaded worker process per CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from results import write_section
from workloads import noop

SYSTEMS = ("ray", "rayexec", "distributed")
HERE = os.path.dirname(os.path.abspath(__file__))


# -- one system, in a subprocess -------------------------------------------------------


def _time_operations(ops: dict, sizes: dict) -> dict:
    """Time the same work through one system's operations.

    ``ops``: ``map_gather(values)``, ``round_trip(x)`` (one submit -> result) and
    ``array_round_trip(array)`` (put/scatter then get/gather).
    """
    import numpy as np

    ops["map_gather"](range(200))  # warm the workers
    out = {}
    started = time.perf_counter()
    ops["map_gather"](range(sizes["tasks"]))
    out["map_tasks_per_s"] = sizes["tasks"] / (time.perf_counter() - started)
    latencies = []
    for i in range(sizes["latency"]):
        started = time.perf_counter()
        ops["round_trip"](i)
        latencies.append(time.perf_counter() - started)
    out["latency_ms"] = statistics.median(latencies) * 1000
    array = np.random.random(sizes["array_mb"] * 2**20 // 8)
    started = time.perf_counter()
    back = ops["array_round_trip"](array)
    out["array_s"] = time.perf_counter() - started
    assert back.shape == array.shape
    return out


def _measure_ray(sizes: dict) -> dict:
    import ray

    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False,
             logging_level="ERROR")
    task = ray.remote(noop)
    out = _time_operations({
        "map_gather": lambda values: ray.get([task.remote(i) for i in values]),
        "round_trip": lambda x: ray.get(task.remote(x)),
        "array_round_trip": lambda array: ray.get(ray.put(array)),
    }, sizes)
    ray.shutdown()
    return out


def _measure_rayexec(sizes: dict) -> dict:
    from rayexec import Client

    client = Client(dashboard_address=None)
    out = _time_operations({
        "map_gather": lambda values: client.gather(client.map(noop, values, batch_size=1)),
        "round_trip": lambda x: client.submit(noop, x).result(),
        "array_round_trip": lambda array: client.gather(client.scatter(array)),
    }, sizes)
    started = time.perf_counter()
    client.gather(client.map(noop, range(sizes["tasks"], 2 * sizes["tasks"])))
    out["map_batched_tasks_per_s"] = sizes["tasks"] / (time.perf_counter() - started)
    out.update(_interleaved_latency(client, sizes["latency"]))
    out.update(_scaling(client, sizes["scale"]))
    client.close()
    return out


def _interleaved_latency(client, samples: int) -> dict:
    """Round-trip latency of rayexec and raw Ray on the same Ray, sample by sample.

    On a small shared machine Ray's own latency drifts between runs by more
    than rayexec adds; alternating the two in one process compares like with like.
    """
    import ray

    task = ray.remote(noop)
    ours, raw = [], []
    for i in range(samples):
        started = time.perf_counter()
        client.submit(noop, -1 - i).result()
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        ray.get(task.remote(i))
        raw.append(time.perf_counter() - started)
    return {"latency_interleaved_ms": statistics.median(ours) * 1000,
            "ray_latency_interleaved_ms": statistics.median(raw) * 1000}


def _scaling(client, counts: list[int]) -> dict:
    """Time of one map of n futures (batched), and client memory per held future."""
    import gc

    import psutil

    process = psutil.Process()
    out = {}
    for n in counts:
        gc.collect()
        rss_before = process.memory_info().rss
        started = time.perf_counter()
        futures = client.map(noop, range(10**9, 10**9 + n))
        client.gather(futures)
        out[f"map_{n}_s"] = time.perf_counter() - started
        gc.collect()
        out[f"bytes_per_future_{n}"] = (process.memory_info().rss - rss_before) / n
        del futures
    return out


def _measure_distributed(sizes: dict) -> dict:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=os.cpu_count(), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        return _time_operations({
            "map_gather": lambda values: client.gather(client.map(noop, values)),
            "round_trip": lambda x: client.submit(noop, x).result(),
            "array_round_trip": lambda array: client.gather(client.scatter(array)),
        }, sizes)


MEASURE = {"ray": _measure_ray, "rayexec": _measure_rayexec,
           "distributed": _measure_distributed}


# -- the side-by-side run --------------------------------------------------------------


def _run_system(name: str, sizes: dict) -> dict:
    # workers of every system import the workload functions from this folder
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (HERE, os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, __file__, "--system", name, "--sizes",
                           json.dumps(sizes)], capture_output=True, text=True, timeout=1800,
                          env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} benchmark failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def report(results: dict, sizes: dict, command: str) -> str:
    ray_, ours, dist = results["ray"], results["rayexec"], results["distributed"]
    rows = [
        ("no-op map+gather, batching off (tasks/s)", "map_tasks_per_s", True,
         ours["map_tasks_per_s"]),
        ("no-op map+gather, batching on (tasks/s)", "map_tasks_per_s", True,
         ours["map_batched_tasks_per_s"]),
        ("submit -> result, median (ms)", "latency_ms", False, ours["latency_ms"]),
        (f"{sizes['array_mb']} MB numpy scatter+gather (s)", "array_s", False, ours["array_s"]),
    ]
    lines = [
        f"`{command}`  ({os.cpu_count()} CPUs, {sizes['tasks']:,} map tasks, "
        f"{sizes['latency']} latency samples)",
        "",
        "| work | raw Ray | distributed | rayexec | rayexec vs Ray | rayexec vs distributed |",
        "|---|---|---|---|---|---|",
    ]
    for title, field, higher_is_better, value in rows:
        r, d = ray_[field], dist[field]
        # ratios are always "how many times better rayexec is" (>1 = faster)
        vs_ray = _ratio(value, r) if higher_is_better else _ratio(r, value)
        vs_dist = _ratio(value, d) if higher_is_better else _ratio(d, value)
        lines.append(f"| {title} | {r:,.2f} | {d:,.2f} | {value:,.2f} | {vs_ray} | {vs_dist} |")
    ours_ms, ray_ms = ours["latency_interleaved_ms"], ours["ray_latency_interleaved_ms"]
    lines += ["", f"submit -> result interleaved with raw Ray in one process (median of "
              f"{sizes['latency']} each): rayexec {ours_ms:.2f} ms, raw Ray {ray_ms:.2f} ms, "
              f"{_ratio(ray_ms, ours_ms)}.", "",
              "Ratios: how many times faster rayexec is (above 1 = faster).", "",
              "| futures in one map (batched) | seconds | client bytes per future (RSS) |",
              "|---|---|---|"]
    for n in sizes["scale"]:
        lines.append(f"| {n:,} | {ours[f'map_{n}_s']:.2f} | "
                     f"{ours[f'bytes_per_future_{n}']:,.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes; print only")
    parser.add_argument("--system", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.system:
        print(json.dumps(MEASURE[args.system](json.loads(args.sizes))))
        return
    sizes = ({"tasks": 1000, "latency": 50, "array_mb": 20, "scale": [1000, 10000]}
             if args.quick else
             {"tasks": 10000, "latency": 200, "array_mb": 200,
              "scale": [10000, 100000, 1000000]})
    results = {}
    for name in SYSTEMS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = _run_system(name, sizes)
    command = "python benchmarks/bench_futures.py" + (" --quick" if args.quick else "")
    text = report(results, sizes, command)
    print(text)
    if not args.quick:
        write_section("## Futures API: rayexec vs raw Ray vs distributed\n\n" + text)


if __name__ == "__main__":
    main()
