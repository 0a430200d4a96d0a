"""How the graph partitioner cuts bench_dask's workloads as the cluster's CPUs grow.

    python benchmarks/bench_partition.py            # writes its section of RESULTS.md
    python benchmarks/bench_partition.py --quick    # small sizes, prints only

For each workload and CPU count: the parts ``partition`` makes (one Ray task
each), the Ray objects they return (requested keys, bundles, receipts), and
the time the client spends cutting the graph.  No cluster is needed for that:
the cut depends only on the graph and the CPU count.  Then, on a local Ray of
two CPUs, the client's cost to launch the parts (pickling each part and
submitting its Ray task, one after another) -- the part of a compute that does
not shrink as CPUs are added.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from bench_dask import sizes, workloads
from results import write_section

CPUS = (2, 16, 100, 1000)


def _graph(collection):
    """The graph and keys ``Client.compute`` would cut (the same optimised expression)."""
    from dask._expr import FinalizeCompute
    from dask.base import collections_to_expr
    from dask.core import flatten

    from rayexec.graph.normalize import normalize

    expr = FinalizeCompute(collections_to_expr([collection], True)).optimize()
    return normalize(expr), list(flatten(expr.__dask_keys__()))


def cut_table(size: dict) -> str:
    from rayexec.graph.partition import partition

    lines = ["| workload | dask tasks | CPUs | parts | tasks per part | Ray objects "
             "| most objects of one part | cutting (ms) |", "|---|---|---|---|---|---|---|---|"]
    for name, (_, build) in workloads(size).items():
        graph, keys = _graph(build())
        for cpus in CPUS:
            started = time.perf_counter()
            parts = partition(graph, keys, set(), cpus)
            elapsed = time.perf_counter() - started
            objects = [len(p.outputs) + len(p.sends) + 1 for p in parts]
            tasks = sum(len(p.nodes) for p in parts)
            lines.append(f"| {name} | {tasks:,} | {cpus:,} | {len(parts):,} "
                         f"| {tasks / len(parts):.1f} | {sum(objects):,} | {max(objects)} "
                         f"| {elapsed * 1000:.0f} |")
    return "\n".join(lines)


def launch_table(size: dict, repeat: int) -> str:
    """The client's launch time for the delayed tree cut as if for each CPU count."""
    import dask
    import ray

    import rayexec
    from rayexec.graph import methods, submit

    # the workloads' functions live in bench_dask: the workers import them from here
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH")) if p)
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    client = rayexec.Client(ray.get_runtime_context().gcs_address)
    seen: dict = {}

    def timed_launch(client, parts, held):
        started = time.perf_counter()
        states = submit.launch(client, parts, held)
        seen.setdefault("launch", []).append(time.perf_counter() - started)
        seen["parts"] = len(parts)
        return states

    methods.launch = timed_launch
    _, build = workloads(size)["delayed tree"]
    lines = ["| delayed tree cut for | parts | launch (ms) | per part (µs) |",
             "|---|---|---|---|"]
    try:
        for cpus in CPUS:
            methods.nodes.cluster_cpus = lambda cpus=cpus: cpus
            dask.compute(build(), scheduler=client)  # warm up
            seen.clear()
            for _ in range(repeat):
                dask.compute(build(), scheduler=client)
            launch = statistics.median(seen["launch"])
            lines.append(f"| {cpus:,} CPUs | {seen['parts']:,} | {launch * 1000:.0f} "
                         f"| {launch / seen['parts'] * 1e6:.0f} |")
    finally:
        client.close()
        ray.shutdown()
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, print only")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = sizes(args.quick)
    text = (cut_table(size) + "\n\nThe client's launch time, on a local Ray of 2 CPUs, "
            f"median of {args.repeat}:\n\n" + launch_table(size, args.repeat))
    print(text)
    if not args.quick:
        write_section("## The graph partitioner as CPUs grow\n\n"
                      "Command: `python benchmarks/bench_partition.py`.\n\n" + text + "\n")


if __name__ == "__main__":
    sys.exit(main())
