"""Start-up time: from a fresh Python process to the first result, side by side in one run.

    python benchmarks/bench_startup.py                        # 3 rounds, writes RESULTS.md
    python benchmarks/bench_startup.py --rounds 1 --no-write  # prints only

Each measurement is a fresh process that imports its library, starts a local
cluster, runs one task, reads its result and shuts down:

- distributed: ``Client()`` (its ``LocalCluster``; dashboard off, as rayexec's);
- ray: a bare ``ray.init(num_cpus=2)`` and one task -- Ray's own start-up;
- rayexec: ``Client()``, ``Client(n_workers=2)`` and ``Client(n_workers=4)``.

Systems take turns within each round, so all see the same load; the median of
the rounds is reported, split into import, start (up to a usable client),
first result and close ("import" counts from the parent's spawn, so it
includes the interpreter's start).  Goals: rayexec ``Client()`` within 1.1x of bare Ray,
``Client(n_workers=4)`` within 1.5x of ``Client()``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from results import load_sentence, write_section  # a sibling module: run as a script

SYSTEMS = {
    "distributed": "distributed Client()",
    "ray": "ray.init(num_cpus=2) + one task",
    "rayexec": "rayexec Client()",
    "rayexec-2": "rayexec Client(n_workers=2)",
    "rayexec-4": "rayexec Client(n_workers=4)",
}
PHASES = ("import", "start", "first result", "close")


def inc(x):
    return x + 1


# -- one system, in a fresh process --------------------------------------------------------
def child(system: str, started: float) -> dict:
    marks = [started]
    if system == "ray":
        import ray

        marks.append(time.time())
        # address="local": a new Ray, as Client() starts, not another one on this machine
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
        marks.append(time.time())
        assert ray.get(ray.remote(inc).remote(1)) == 2
        marks.append(time.time())
        ray.shutdown()
    else:
        if system == "distributed":
            from distributed import Client

            kwargs = {"dashboard_address": None}
        else:
            from rayexec import Client

            workers = system.partition("-")[2]
            kwargs = {"n_workers": int(workers)} if workers else {}
        marks.append(time.time())
        client = Client(**kwargs)
        marks.append(time.time())
        assert client.submit(inc, 1).result() == 2
        marks.append(time.time())
        client.close()
    marks.append(time.time())
    return {phase: marks[i + 1] - marks[i] for i, phase in enumerate(PHASES)}


def measure(system: str) -> dict | None:
    """One fresh process's phases; None when it failed (its reason is printed)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, __file__, "--child", system, "--t0", repr(time.time())],
                          capture_output=True, text=True, timeout=900, env=env)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"{system} failed: {reason}", flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report ----------------------------------------------------------------------------
def report(runs: dict[str, list[dict]], load: tuple[float, float]) -> str:
    failed = {s: sum(r is None for r in rs) for s, rs in runs.items()}
    runs = {s: [r for r in rs if r is not None] for s, rs in runs.items()}
    if not all(runs.values()):
        raise SystemExit(f"no successful run of: {[s for s, rs in runs.items() if not rs]}")
    median = {s: {p: statistics.median(r[p] for r in rs) for p in PHASES}
              for s, rs in runs.items()}
    total = {s: sum(m[p] for p in ("import", "start", "first result")) for s, m in median.items()}
    # Ray's start-up polls in whole seconds, so single runs land 1 s apart; the best
    # round of each system compares them without that quantum.
    best = {s: min(sum(r[p] for p in ("import", "start", "first result")) for r in rs)
            for s, rs in runs.items()}
    rows = ["| system | import (s) | start (s) | first result (s) | to first result (s) "
            "| close (s) |", "|---|---|---|---|---|---|"]
    for system, m in median.items():
        rows.append(f"| {SYSTEMS[system]} | {m['import']:.2f} | {m['start']:.2f} | "
                    f"{m['first result']:.2f} | {total[system]:.2f} | {m['close']:.2f} |")
    ratio = total["rayexec"] / total["ray"]
    ratio4 = total["rayexec-4"] / total["rayexec"]
    rounds = max(len(rs) + failed[s] for s, rs in runs.items())
    failures = ", ".join(f"{SYSTEMS[s]}: {n}" for s, n in failed.items() if n)
    return "\n".join([
        "## start-up: fresh process to first result",
        "",
        f"Command: `python benchmarks/bench_startup.py --rounds {rounds}` (median of {rounds} "
        "rounds; each "
        "measurement a fresh process; the systems take turns within each round).",
        "",
        load_sentence(load),
        "",
        *rows,
        "",
        *([f"Runs that failed to start (left out of the medians): {failures}.", ""]
          if failures else []),
        f"- rayexec `Client()` / bare `ray.init` + one task: **{ratio:.2f}** (goal ≤ 1.1 "
        f"{'✓' if ratio <= 1.1 else '✗'}); Ray's own start-up is "
        f"{min(1.0, 1 / ratio):.0%} of rayexec's time to first result.",
        f"- rayexec `Client(n_workers=4)` / `Client()`: **{ratio4:.2f}** (goal ≤ 1.5 "
        f"{'✓' if ratio4 <= 1.5 else '✗'}); `Client(n_workers=2)` / `Client()`: "
        f"{total['rayexec-2'] / total['rayexec']:.2f}.",
        f"- rayexec `Client()` / distributed `Client()`: "
        f"{total['rayexec'] / total['distributed']:.2f}.",
        f"- Best round of each (to first result): bare Ray {best['ray']:.2f} s, rayexec "
        f"`Client()` {best['rayexec']:.2f} s (**{best['rayexec'] / best['ray']:.2f}**), "
        f"`Client(n_workers=2)` {best['rayexec-2']:.2f} s, `Client(n_workers=4)` "
        f"{best['rayexec-4']:.2f} s (**{best['rayexec-4'] / best['rayexec']:.2f}** of "
        "`Client()`).",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.t0)))
        return
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {system: [] for system in SYSTEMS}
    for round_number in range(args.rounds):
        for system in SYSTEMS:
            runs[system].append(measure(system))
            print(f"round {round_number + 1} {system}: {runs[system][-1]}", flush=True)
    text = report(runs, (load_before, os.getloadavg()[0]))
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
