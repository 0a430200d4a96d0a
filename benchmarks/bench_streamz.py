"""A streamz pipeline on rayexec, on real distributed and as raw Ray, side by side in one run.

    python benchmarks/bench_streamz.py            # 2,000 elements, writes its section of RESULTS.md
    python benchmarks/bench_streamz.py --quick    # 200 elements, prints only

The pipeline is ``source.scatter().map(work).buffer(8).gather().sink(...)``,
each ``work`` call sleeping 5 ms, elements emitted one by one from the main
thread as a streamz user does.  Each system runs in its own subprocess on a
cluster of two single-threaded workers: a ``LocalCluster`` of two worker
processes for distributed, one Ray node of two CPUs (two single-threaded Ray
worker processes) for rayexec and raw Ray.  streamz is the same package for
distributed and rayexec; for rayexec it imports ``distributed`` from the
drop-in shim (``compat/`` on ``PYTHONPATH``).  Raw Ray is the same work written
directly against Ray: one task per element, eight in flight, results taken in
order -- the most Ray itself does with one task per element.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from shim_child import COMPAT, run_child  # a sibling module: run as a script

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEMS = ("distributed", "rayexec", "ray")
TASK_SECONDS = 0.005
BUFFER = 8


def work(x):
    time.sleep(TASK_SECONDS)
    return x + 1


# -- one system, in a subprocess -------------------------------------------------------


def _client():
    import distributed

    if distributed.__file__.startswith(COMPAT):  # the shim: rayexec underneath
        # One Ray node of two CPUs: Ray runs each task in a single-threaded worker
        # process, so this is two single-threaded workers, without a second raylet.
        return distributed.Client(n_workers=1, threads_per_worker=2, dashboard_address=None)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    return distributed.Client(cluster)


def _run_pipeline(n: int) -> float:
    """Elements per second through the pipeline, from first emit to last result."""
    from streamz import Stream

    source = Stream()
    results = source.scatter().map(work).buffer(BUFFER).gather().sink_to_list()
    started = time.perf_counter()
    for i in range(n):
        source.emit(i)
    while len(results) < n:
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    assert sorted(results) == list(range(1, n + 1)), "lost or wrong results"
    return n / elapsed


def _run_raw_ray(n: int) -> float:
    """Elements per second for the same work as Ray tasks, eight in flight."""
    from collections import deque

    import ray

    remote_work = ray.remote(work)
    in_flight, results = deque(), []
    started = time.perf_counter()
    for i in range(n):
        in_flight.append(remote_work.remote(i))
        if len(in_flight) == BUFFER:
            results.append(ray.get(in_flight.popleft()))
    results.extend(ray.get(list(in_flight)))
    elapsed = time.perf_counter() - started
    assert sorted(results) == list(range(1, n + 1)), "lost or wrong results"
    return n / elapsed


def measure(system: str, n: int, repeats: int) -> dict:
    if system == "ray":
        import ray

        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        run, close = _run_raw_ray, ray.shutdown
    else:
        run, close = _run_pipeline, _client().close
    run(40)  # warm the workers
    rates = [run(n) for _ in range(repeats)]
    close()
    return {"elements_per_s": statistics.median(rates), "runs": rates}


# -- the parent: run each system, compare ---------------------------------------------


def run_system(system: str, n: int, repeats: int) -> dict:
    return run_child(__file__, system, ["--n", str(n), "--repeats", str(repeats)],
                     timeout=1800)


def table(results: dict, n: int) -> str:
    d, r, ray = (results[s]["elements_per_s"] for s in ("distributed", "rayexec", "ray"))
    bound = 2 / TASK_SECONDS
    lines = [
        f"| pipeline ({n:,} elements, {TASK_SECONDS * 1000:.0f} ms tasks, 2 workers x 1 thread) "
        "| distributed | raw Ray | rayexec | rayexec / distributed (goal >= 2) "
        "| rayexec / raw Ray |",
        "|---|---|---|---|---|---|",
        f"| `scatter().map(work).buffer({BUFFER}).gather()`, elements/s | {d:.0f} | {ray:.0f} "
        f"| {r:.0f} | {r / d:.2f} {'✓' if r / d >= 2 else '✗'} | {r / ray:.2f} |",
        "",
        f"Upper bound for two single-threaded workers: {bound:.0f} elements/s "
        "(the tasks' sleep alone).  Raw Ray is the same work as Ray tasks, eight in "
        "flight: what Ray itself does with one task per element here.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 elements, print only")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.n or (200 if args.quick else 2000)
    if args.child:
        print(json.dumps(measure(args.child, n, args.repeats)))
        return
    results = {system: run_system(system, n, args.repeats) for system in SYSTEMS}
    text = table(results, n)
    print(text)
    if not args.quick:
        header = ("## streamz pipeline: rayexec vs raw Ray vs distributed\n\n"
                  "Command: `python benchmarks/bench_streamz.py` (2 CPUs; median of "
                  f"{args.repeats} runs after a warm-up; each system in a fresh process).\n\n")
        sys.path.insert(0, HERE)
        from results import write_section

        write_section(header + text)


if __name__ == "__main__":
    main()
