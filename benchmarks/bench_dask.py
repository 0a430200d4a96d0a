"""dask workloads on rayexec, on real distributed and on Ray's ``ray_dask_get``, side by side.

Each system runs each workload in its own fresh process (Ray is one per
process), the three systems back to back per workload, on 2 CPUs:
distributed as ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``,
Ray as ``ray.init(num_cpus=2)`` for both ``ray_dask_get`` and rayexec.  Every
workload runs once to warm up, then ``--repeat`` times; the median counts.
Times cover ``dask.compute`` only (graph optimisation and materialisation
included), not building the collections.

    python benchmarks/bench_dask.py            # full sizes, writes its section of RESULTS.md
    python benchmarks/bench_dask.py --quick    # small sizes, a smoke test
    python benchmarks/bench_dask.py --nodes 8  # Ray as 8 nodes of one CPU, distributed 8 workers
    python benchmarks/bench_dask.py --memory   # data larger than memory (see memory.py)
"""

from __future__ import annotations

import argparse
import json
import operator
import statistics
import subprocess
import sys
import time

import memory
from results import write_section

SYSTEMS = ("distributed", "ray_dask_get", "rayexec")
# Goals: rayexec's time over each peer's time must not exceed these.
GOALS = {"ray_dask_get": 1.0, "distributed": 0.7}


def sizes(quick: bool) -> dict:
    if quick:
        return {"array_n": 1000, "array_chunk": 250, "tree_leaves": 256,
                "bag_items": 20_000, "bag_partitions": 20, "df_rows": 20_000,
                "df_partitions": 10}
    return {"array_n": 6000, "array_chunk": 500, "tree_leaves": 4096,
            "bag_items": 200_000, "bag_partitions": 200, "df_rows": 500_000,
            "df_partitions": 50}


def _inc(x):
    return x + 1


def _even(x):
    return x % 2 == 0


def workloads(size: dict) -> dict:
    """name -> (description, function building the collection to compute)."""
    import dask.array as da
    import dask.bag as db
    from dask import delayed

    def array():
        n, c = size["array_n"], size["array_chunk"]
        x = da.random.default_rng(0).random((n, n), chunks=(c, c))
        return (x + x.T).mean()

    def tree():
        level = [delayed(_inc)(i) for i in range(size["tree_leaves"])]
        while len(level) > 1:
            level = [delayed(operator.add)(level[i], level[i + 1])
                     for i in range(0, len(level), 2)]
        return level[0]

    def bag():
        items = db.from_sequence(range(size["bag_items"]), npartitions=size["bag_partitions"])
        return items.map(_inc).filter(_even).sum()

    def dataframe():
        import dask.dataframe as dd
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(0)
        rows = size["df_rows"]
        pdf = pd.DataFrame({"k": rng.integers(0, 1000, rows), "x": rng.random(rows),
                            "y": rng.random(rows)})
        df = dd.from_pandas(pdf, npartitions=size["df_partitions"])
        return df.groupby("k").agg({"x": "sum", "y": "mean"})

    n, c = size["array_n"], size["array_chunk"]
    return {
        "array": (f"(x + x.T).mean(), {n}² in {c}² chunks", array),
        "delayed tree": (f"binary-tree sum of {size['tree_leaves']} leaves "
                         f"({2 * size['tree_leaves'] - 1} tasks)", tree),
        "bag": (f"map/filter/sum, {size['bag_items']:,} items in "
                f"{size['bag_partitions']} partitions", bag),
        "dataframe": (f"groupby-agg, {size['df_rows']:,} rows in "
                      f"{size['df_partitions']} partitions", dataframe),
    }


def run_system(system: str, quick: bool, repeat: int, only: str | None = None,
               nodes: int = 0) -> dict:
    """Time the workloads (or just ``only``) on ``system`` in this process; name -> seconds."""
    import dask

    scheduler, stop = _start(system, nodes)
    try:
        times = {}
        for name, (_, build) in workloads(sizes(quick)).items():
            if only is not None and name != only:
                continue
            collection = build()
            dask.compute(collection, scheduler=scheduler)  # warm up
            runs = []
            for _ in range(repeat):
                collection = build()
                start = time.perf_counter()
                dask.compute(collection, scheduler=scheduler)
                runs.append(time.perf_counter() - start)
            times[name] = statistics.median(runs)
            print(f"{system} {name}: {times[name]:.3f} s", file=sys.stderr, flush=True)
        return times
    finally:
        stop()


def _start(system: str, nodes: int = 0):
    """The scheduler to pass to ``dask.compute``, and how to stop the system.

    ``nodes``: that many Ray nodes of one CPU (distributed: single-threaded
    workers) instead of one Ray node of two CPUs."""
    if system == "distributed":
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=nodes or 2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)

        def stop():
            client.close()
            cluster.close()

        return client, stop
    import ray

    shutdown = ray.shutdown
    if nodes:
        from nodes import start_ray_nodes

        ray_nodes = start_ray_nodes(nodes)
        ray.init(address=ray_nodes.address, logging_level="ERROR")

        def shutdown():
            ray.shutdown()
            ray_nodes.shutdown()
    else:
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    if system == "ray_dask_get":
        from ray.util.dask import ray_dask_get

        return ray_dask_get, shutdown
    import rayexec

    client = rayexec.Client(ray.get_runtime_context().gcs_address)

    def stop():
        client.close()
        shutdown()

    return client, stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per workload")
    parser.add_argument("--system", choices=SYSTEMS, help="run one system here (internal)")
    parser.add_argument("--workload", help="run one workload only (internal)")
    parser.add_argument("--memory", action="store_true",
                        help="data larger than memory: a 512 MB store, workloads of 2-4x it")
    parser.add_argument("--store", type=int, default=0,
                        help="with --memory: the memory given to each system, in bytes")
    parser.add_argument("--memory-child", choices=memory.SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--nodes", type=int, default=0,
                        help="Ray as this many nodes of one CPU; distributed as this many "
                             "single-threaded workers")
    args = parser.parse_args()
    if args.nodes < 0:
        parser.error(f"--nodes must be at least 1, got {args.nodes}")
    if args.memory_child:
        print(json.dumps(memory.run_child(args.memory_child, args.workload, args.store)))
        return
    if args.memory:
        _memory_mode(args.store or memory.STORE)
        return
    if args.system:
        print(json.dumps(run_system(args.system, args.quick, args.repeat, args.workload,
                                    args.nodes)))
        return
    # Workload by workload, the three systems back to back: on a shared machine
    # the load drifts, and this keeps each comparison within a few seconds.
    results: dict = {system: {} for system in SYSTEMS}
    for name in workloads(sizes(args.quick)):
        for system in SYSTEMS:
            command = [sys.executable, __file__, "--system", system, "--workload", name,
                       "--repeat", str(args.repeat), "--nodes", str(args.nodes)]
            if args.quick:
                command.append("--quick")
            done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
            if done.returncode:
                sys.exit(f"{system} failed on {name}")
            results[system].update(json.loads(done.stdout.strip().splitlines()[-1]))
    table = _table(results, sizes(args.quick))
    print(table)
    if not args.quick:
        _write(table, args)


def _memory_mode(store: int) -> None:
    results: dict = {system: {} for system in memory.SYSTEMS}
    for name in memory.workloads(store):
        for system in memory.SYSTEMS:  # back to back per workload, as the timing runs
            results[system][name] = run = memory.measure(system, name, store, __file__)
            print(f"{system} {name}: {run}", file=sys.stderr, flush=True)
    table = memory.table(results, store)
    print(table)
    command = "python benchmarks/bench_dask.py --memory" + (
        f" --store {store}" if store != memory.STORE else "")
    write_section(
        "## dask on data larger than memory: rayexec vs distributed\n\n"
        f"Command: `{command}` (2 CPUs; Ray with an object store of {store / 2**20:,.0f} MB, "
        f"spilling to disk; distributed as 2 single-threaded workers with "
        f"memory_limit={store // 2 / 2**20:,.0f} MB each; one run per system and workload, "
        "each in a fresh process; peak: PSS of the process and all its children, "
        "sampled every 0.2 s).\n\n" + table + "\n")


def _table(results: dict, size: dict) -> str:
    lines = ["| workload | distributed (s) | ray_dask_get (s) | rayexec (s) "
             "| rayexec / ray_dask_get (goal ≤ 1.0) | rayexec / distributed (goal ≤ 0.7) |",
             "|---|---|---|---|---|---|"]
    for name, (description, _) in workloads(size).items():
        ours = results["rayexec"][name]
        ratios = []
        for peer in ("ray_dask_get", "distributed"):
            ratio = ours / results[peer][name]
            ratios.append(f"{ratio:.2f} {'✓' if ratio <= GOALS[peer] else '✗'}")
        lines.append(f"| {name}: {description} | {results['distributed'][name]:.3f} "
                     f"| {results['ray_dask_get'][name]:.3f} | {ours:.3f} "
                     f"| {ratios[0]} | {ratios[1]} |")
    return "\n".join(lines)


def _write(table: str, args) -> None:
    command = "python benchmarks/bench_dask.py" + (
        f" --repeat {args.repeat}" if args.repeat != 3 else "") + (
        f" --nodes {args.nodes}" if args.nodes else "")
    shape = (f"Ray as {args.nodes} nodes of 1 CPU, distributed as {args.nodes} "
             "single-threaded workers, on 2 cores" if args.nodes else "2 CPUs")
    text = (f"## dask workloads: rayexec vs distributed vs ray_dask_get"
            f"{' on many nodes' if args.nodes else ''}\n\n"
            f"Command: `{command}` ({shape}; median of {args.repeat} runs after a warm-up; "
            f"each system and workload in a fresh process).\n\n{table}\n")
    write_section(text)


if __name__ == "__main__":
    main()
