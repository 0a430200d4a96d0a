"""scikit-learn's GridSearchCV through joblib: rayexec vs distributed vs Ray's joblib backend.

    python benchmarks/bench_joblib.py            # writes its section of RESULTS.md
    python benchmarks/bench_joblib.py --quick    # a smaller grid, prints only

The workload is a ``GridSearchCV`` of an ``SVC`` (5 folds x 12 candidates = 60
fits on 2,000 samples) run with ``joblib.parallel_backend(...)``:

- distributed: the ``dask`` backend on a ``LocalCluster`` of two single-threaded
  worker processes;
- rayexec: the same ``dask`` backend, ``import distributed`` served by the
  drop-in shim (``compat/`` on ``PYTHONPATH``), on a local Ray of two CPUs;
- Ray: Ray's own joblib backend (``ray.util.joblib.register_ray()``, backend
  ``"ray"``) on a local Ray of two CPUs.

Each system runs in its own subprocess, warms up with one small search, then
times ``repeats`` searches; the median is reported, and every system must find
the same best parameters as joblib's default backend.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from results import load_sentence, write_section  # sibling modules: run as a script
from shim_child import COMPAT, run_child

SYSTEMS = ("distributed", "rayexec", "ray")


def _search(samples: int, cs: int):
    from sklearn.datasets import make_classification
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    X, y = make_classification(n_samples=samples, n_features=20, random_state=0)
    grid = {"C": [0.1, 1, 10, 100][:cs], "gamma": [0.001, 0.01, 0.1]}
    return GridSearchCV(SVC(), grid, cv=5).fit(X, y)


def _start(system: str):
    """Start the system's cluster and register its backend; (backend name, stop)."""
    if system == "ray":
        import ray
        from ray.util.joblib import register_ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        register_ray()
        return "ray", ray.shutdown
    import distributed

    if distributed.__file__.startswith(COMPAT):  # the shim: rayexec underneath
        client = distributed.Client(n_workers=1, threads_per_worker=2, dashboard_address=None)
    else:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    return "dask", client.close


def measure(system: str, samples: int, cs: int, repeats: int) -> dict:
    import joblib

    backend, stop = _start(system)
    try:
        with joblib.parallel_backend(backend):
            _search(200, 1)  # warm the workers
            seconds, best = [], None
            for _ in range(repeats):
                started = time.perf_counter()
                best = _search(samples, cs).best_params_
                seconds.append(time.perf_counter() - started)
    finally:
        stop()
    return {"seconds": statistics.median(seconds), "runs": seconds, "best": best}


def run_system(system: str, samples: int, cs: int, repeats: int) -> dict:
    return run_child(__file__, system, ["--samples", str(samples), "--cs", str(cs),
                                        "--repeats", str(repeats)], timeout=3600)


def table(results: dict, samples: int, cs: int) -> str:
    d, r, ray = (results[s]["seconds"] for s in ("distributed", "rayexec", "ray"))
    fits = 5 * cs * 3
    return "\n".join([
        f"| GridSearchCV, SVC, {fits} fits on {samples:,} samples, 2 workers x 1 thread "
        "| distributed | Ray's joblib backend | rayexec | distributed / rayexec "
        "| Ray backend / rayexec |",
        "|---|---|---|---|---|---|",
        f"| seconds per search (lower is better) | {d:.2f} | {ray:.2f} | {r:.2f} "
        f"| {d / r:.2f} | {ray / r:.2f} |",
        "",
        "Ratios above 1 mean rayexec is faster.  Every system found the same best "
        f"parameters: {results['rayexec']['best']}.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller grid, print only")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--cs", type=int, default=None, help="how many values of C (1-4)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    samples = args.samples or (500 if args.quick else 2000)
    cs = args.cs or (2 if args.quick else 4)
    if args.child:
        print(json.dumps(measure(args.child, samples, cs, args.repeats)))
        return
    load_before = os.getloadavg()[0]
    results = {system: run_system(system, samples, cs, args.repeats) for system in SYSTEMS}
    load = (load_before, os.getloadavg()[0])
    bests = {json.dumps(results[s]["best"], sort_keys=True) for s in SYSTEMS}
    if len(bests) != 1:
        raise RuntimeError(f"the systems disagree on the best parameters: {bests}")
    text = table(results, samples, cs)
    print(text)
    if not args.quick:
        header = ("## joblib / scikit-learn: rayexec vs distributed vs Ray's joblib backend\n\n"
                  f"Command: `python benchmarks/bench_joblib.py` (median of {args.repeats} "
                  "searches after a warm-up; each system in a fresh process, one after "
                  f"another).\n\n{load_sentence(load)}\n\n")
        write_section(header + text)


if __name__ == "__main__":
    main()
