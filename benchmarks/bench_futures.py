"""The futures API side by side: raw Ray, rayexec and real distributed, in one run.

    python benchmarks/bench_futures.py            # full sizes, writes its section of RESULTS.md
    python benchmarks/bench_futures.py --quick    # small sizes, prints only
    python benchmarks/bench_futures.py --nodes 8  # on 8 Ray nodes of one CPU (own section)

Each system runs in its own subprocess on the same CPUs (Ray is one per
process): raw Ray and rayexec on a local Ray with every CPU, distributed on a
LocalCluster of one single-threaded worker process per CPU.  With ``--nodes N``
Ray is N nodes of one CPU each on this machine (see ``nodes.py``), distributed
N single-threaded worker processes, and rayexec's introspection calls
(``who_has``, ``nthreads``, ``scheduler_info``) are timed too.
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


def _start_ray(sizes: dict):
    """Connect this process to a Ray of every CPU, or of ``sizes["nodes"]`` nodes;
    the function stopping it."""
    import ray

    if sizes.get("nodes"):
        from nodes import start_ray_nodes

        cluster = start_ray_nodes(sizes["nodes"])
        ray.init(address=cluster.address, logging_level="ERROR")

        def stop():
            ray.shutdown()
            cluster.shutdown()

        return stop
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False,
             logging_level="ERROR")
    return ray.shutdown


def _measure_ray(sizes: dict) -> dict:
    import ray

    stop = _start_ray(sizes)
    task = ray.remote(noop)
    out = _time_operations({
        "map_gather": lambda values: ray.get([task.remote(i) for i in values]),
        "round_trip": lambda x: ray.get(task.remote(x)),
        "array_round_trip": lambda array: ray.get(ray.put(array)),
    }, sizes)
    stop()
    return out


def _measure_rayexec(sizes: dict) -> dict:
    import ray

    from rayexec import Client

    stop = _start_ray(sizes)
    client = Client(ray.get_runtime_context().gcs_address)
    out = _time_operations({
        "map_gather": lambda values: client.gather(client.map(noop, values, batch_size=1)),
        "round_trip": lambda x: client.submit(noop, x).result(),
        "array_round_trip": lambda array: client.gather(client.scatter(array)),
    }, sizes)
    started = time.perf_counter()
    client.gather(client.map(noop, range(sizes["tasks"], 2 * sizes["tasks"])))
    out["map_batched_tasks_per_s"] = sizes["tasks"] / (time.perf_counter() - started)
    out.update(_interleaved_latency(client, sizes["latency"]))
    if sizes.get("nodes"):
        out.update(_introspection(client, sizes["introspect"]))
    out.update(_scaling(client, sizes["scale"]))
    client.close()
    stop()
    return out


def _introspection(client, n: int) -> dict:
    """Median milliseconds of ``nthreads``, ``scheduler_info`` and ``who_has`` on
    ``n`` held futures: ``n`` values of 200 KB (above Ray's inline limit, so each
    lives in some node's object store and has to be located)."""
    import numpy as np

    from rayexec import wait

    futures = client.map(np.ones, [25_600 + i for i in range(n)], batch_size=1)
    wait(futures)
    out = {}
    calls = {"nthreads": client.nthreads, "scheduler_info": client.scheduler_info,
             "who_has": lambda: client.who_has(futures)}
    for name, call in calls.items():
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
        out[f"{name}_ms"] = statistics.median(samples) * 1000
    where = client.who_has(futures)
    out["who_has_nodes"] = len({a for addresses in where.values() for a in addresses})
    out["introspect_futures"] = n
    client.cancel(futures)
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

    with LocalCluster(n_workers=sizes.get("nodes") or os.cpu_count(), threads_per_worker=1,
                      processes=True,
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
    shape = (f"{sizes['nodes']} Ray nodes of 1 CPU / {sizes['nodes']} single-threaded "
             f"distributed workers on {os.cpu_count()} cores" if sizes.get("nodes")
             else f"{os.cpu_count()} CPUs")
    lines = [
        f"`{command}`  ({shape}, {sizes['tasks']:,} map tasks, "
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
    if sizes.get("nodes"):
        lines += ["", f"rayexec's introspection on {sizes['nodes']} nodes, median of 5 calls "
                  f"(who_has: {ours['introspect_futures']:,} futures of 200 KB, found on "
                  f"{ours['who_has_nodes']} nodes):", "",
                  "| call | ms |", "|---|---|"]
        lines += [f"| `{name}` | {ours[f'{name}_ms']:.1f} |"
                  for name in ("nthreads", "scheduler_info", "who_has")]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes; print only")
    parser.add_argument("--nodes", type=int, default=0,
                        help="run Ray as this many nodes of one CPU (distributed: workers)")
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
    if args.nodes:
        if args.nodes < 1:
            parser.error(f"--nodes must be at least 1, got {args.nodes}")
        # many raylets share this machine's memory: no million-future run here
        sizes.update(nodes=args.nodes, introspect=200 if args.quick else 1000,
                     scale=sizes["scale"][:1])
    results = {}
    for name in SYSTEMS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = _run_system(name, sizes)
    command = "python benchmarks/bench_futures.py" + (" --quick" if args.quick else "") + (
        f" --nodes {args.nodes}" if args.nodes else "")
    text = report(results, sizes, command)
    print(text)
    if not args.quick:
        heading = ("## Futures API: rayexec vs raw Ray vs distributed" + (
            " on many nodes" if args.nodes else ""))
        write_section(heading + "\n\n" + text)


if __name__ == "__main__":
    main()
