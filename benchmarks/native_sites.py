"""Where the client's native memory goes: what the soak's workload allocates and still
holds at its end, by call site, with the client restarted before it or not.

    python benchmarks/native_sites.py [--seconds 120] [--top 15] [--cases ...]

Each case runs in a fresh process against a cluster of its own (``soak.Cluster``,
a head and two worker nodes): a warm-up round of every kind of work, then the
client closed and a new one opened (or not), three more warm-up rounds, then
``--seconds`` of the soak's workload under memray's tracker with native
stacks.  Printed per call site, for the cases side by side: the KB allocated
while tracking and not freed at its end.  A call site is named by the first two
frames of Ray's or OpenTelemetry's code in the stack (else the allocator's
callers) and the first Python frame.  The case "reconnected" ends Ray's
connection between the two clients (``ray.shutdown()`` and ``ray.init()``), as
rayexec did before a closed client's connection was kept (``deploy/kept.py``).
Needs ``memray`` (in the test extra).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ("one client", "client restarted", "reconnected")


def measure(case: str, seconds: float) -> dict[str, float]:
    """One case, here (the child process's part): KB held at the end per call site."""
    import random

    import memray

    os.environ["PYTHONPATH"] = os.pathsep.join(
        [HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, HERE)
    from soak import Cluster, Workload

    from rayexec import Client
    from rayexec.deploy import kept

    cluster = Cluster(3)
    try:
        workload = Workload(lambda: Client(cluster.head.address, timeout=120), 120,
                            random.Random(0))
        operations = workload.operations()
        for operation in operations:
            operation()
        if case != "one client":
            workload.client.close()
            if case == "reconnected":
                kept.end()
            workload.client = workload.client_factory()
        for _ in range(3):  # what a new connection costs once is not counted
            for operation in operations:
                operation()
        with tempfile.TemporaryDirectory() as scratch:
            trace = os.path.join(scratch, "trace.bin")
            with memray.Tracker(trace, native_traces=True):
                started = time.monotonic()
                while time.monotonic() - started < seconds:
                    workload.rng.choice(operations)()
            held = Counter()
            for record in memray.FileReader(trace).get_leaked_allocation_records(
                    merge_threads=True):
                held[_site(record.hybrid_stack_trace(max_stacks=40))] += record.size / 1024
        workload.client.close()
        return dict(held)
    finally:
        cluster.stop()


def _site(frames) -> str:
    names = [str(frame[0]) for frame in frames]
    if "new_arena" in names:  # CPython's pools: 1 MB at a time, whoever asked first
        return "CPython's arenas"
    native = [_bare(n) for n in names if "ray::" in n or "opentelemetry" in n][:2] or [
        _bare(n) for n in names[1:3]]
    python = next((f"{frame[0]} ({os.path.basename(str(frame[1]))}:{frame[2]})"
                   for frame in frames if str(frame[1]).endswith(".py")), "")
    return " / ".join(native) + (f" <- {python}" if python else "")


def _bare(name: str) -> str:
    """A C++ function's name without its template arguments and parameters."""
    kept, depth = [], 0
    for char in name.split("(")[0] if not name.startswith("(") else name:
        depth += (char == "<") - (char == ">")
        if depth == 0 and char != ">":
            kept.append(char)
    return "".join(kept).replace("opentelemetry::v1::sdk::", "otel ")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.seconds)))
        return 0
    held = {}
    for case in args.cases:
        done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds),
                               "--case", case], capture_output=True, text=True,
                              timeout=args.seconds + 900)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            print(f"{case}: failed: {done.stderr[-1000:]}")
            return 1
        held[case] = Counter(json.loads(lines[-1]))
    print("| call site | " + " | ".join(f"{case}, KB" for case in held) + " |")
    print("|---|" + "---|" * len(held))
    print("| all | " + " | ".join(f"{sum(h.values()):,.0f}" for h in held.values()) + " |")
    everywhere = sum(held.values(), Counter())
    for site, _ in everywhere.most_common(args.top):
        print(f"| `{site}` | " + " | ".join(f"{h[site]:,.0f}" for h in held.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
