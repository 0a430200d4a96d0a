"""Where the client's native memory goes: what the soak's workload allocates and still
holds at its end, by call site and whose it is, with the client restarted before it or not.

    python benchmarks/native_sites.py [--seconds 120] [--top 15] [--cases ...]
    python benchmarks/native_sites.py --at-rest --seconds 150   # what stays, and whose

Each case runs in a fresh process against a cluster of its own (``soak.Cluster``,
a head and two worker nodes): a warm-up round of every kind of work, then the
client closed and a new one opened (or not), three more warm-up rounds, then
``--seconds`` of the soak's workload under memray's tracker with native
stacks.  The case "raw Ray" runs the soak's ``actor`` and ``futures`` work as
plain Ray calls instead (``reconnect_memory``'s rounds), for ``--ops actor``
side by side.  Printed per call site, for the cases side by side: the KB allocated
while tracking and not freed at its end.  A call site is named by the first two
frames of Ray's or OpenTelemetry's code in the stack (else the allocator's
callers) and the first Python frame.  The case "reconnected" ends Ray's
connection between the two clients (``ray.shutdown()`` and ``ray.init()``), as
rayexec did before a closed client's connection was kept (``deploy/kept.py``).

``--at-rest`` reads what is held once the work is over, as the soak's end reading
does: the client closed and a new one connected, garbage collected, the bounded
caches of keys emptied -- all while still tracking, so what they free is not
counted.  A first table sums the call sites by whose memory it is (Ray's
records of each actor, its metrics, gRPC's buffers, CPython's arenas, ...), with
how many actors the process made while tracking and ``malloc``'s own reading
before and after.  ``--ops`` picks the soak's kinds of work.
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
CASES = ("one client", "client restarted", "reconnected", "raw Ray")

# Whose memory a call site is, tried in this order on every frame of its stack.
# An actor handle's records are kept by Ray for the life of the process, by
# design (a dead actor's handle may still be called: ActorManager's comment).
OWNERS = (
    ("CPython's arenas", ("new_arena",)),
    ("Ray's metrics (OpenTelemetry)", ("opentelemetry",)),
    ("Ray's records of each actor", ("CreateActor", "ActorTaskSubmitter", "ActorHandle",
                                     "ActorManager", "ActorDeathCause", "ActorDiedError",
                                     "_actor_method_call", "actor.py")),
    ("gRPC's buffers and calls in flight", ("grpc", "tcp_read", "ServerCall",
                                            "ClientCall")),
    ("allocated under rayexec's calls", ("/rayexec/",)),
)


def measure(case: str, seconds: float, at_rest: bool = False, ops=None) -> dict[str, float]:
    """One case, here (the child process's part): ``held``, KB held at the end per
    owner and call site (``owner: site``), and ``readings``: the actors made and
    ``malloc``'s MB before and after."""
    import gc
    import random

    import memray
    from process_memory import empty_bounded_caches, malloc_in_use_mb

    os.environ["PYTHONPATH"] = os.pathsep.join(
        [HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, HERE)
    from soak import Cluster

    cluster = Cluster(3)
    try:
        work = _raw_ray_work if case == "raw Ray" else _rayexec_work
        operations, end_client, close = work(case, cluster.head.address)
        for _ in range(3):  # what a new connection costs once is not counted
            for operation in operations:
                operation()
        chosen = [op for op in operations if ops is None or op.__name__ in ops]
        rng, actors = random.Random(0), 0
        with tempfile.TemporaryDirectory() as scratch:
            trace = os.path.join(scratch, "trace.bin")
            malloc_before = malloc_in_use_mb()
            with memray.Tracker(trace, native_traces=True):
                started = time.monotonic()
                while time.monotonic() - started < seconds:
                    operation = rng.choice(chosen)
                    operation()
                    actors += operation.__name__ == "actor"
                if at_rest:  # the soak's end reading
                    end_client()
                    gc.collect()
                    time.sleep(2)  # Ray frees released references asynchronously
                    empty_bounded_caches()
                    gc.collect()
            malloc_after = malloc_in_use_mb()
            held = Counter()
            for record in memray.FileReader(trace).get_leaked_allocation_records(
                    merge_threads=True):
                frames = record.hybrid_stack_trace(max_stacks=40)
                held[f"{_owner(frames)}{OWNED}{_site(frames)}"] += record.size / 1024
        close()
        return {"held": held, "readings": dict(zip(READINGS, (actors, malloc_before,
                                                                malloc_after)))}
    finally:
        cluster.stop()


def _rayexec_work(case: str, address: str):
    """The soak's operations on a rayexec client, after a round of each and the
    client restarted as ``case`` says; with what ends a client at rest (it is
    closed and another connected, as the soak's end does) and what closes it."""
    import random

    from soak import Workload

    from rayexec import Client
    from rayexec.deploy import kept

    workload = Workload(lambda: Client(address, timeout=120), 120, random.Random(0))
    operations = workload.operations()
    for operation in operations:
        operation()

    def restart(end_connection: bool = False):
        workload.client.close()
        if end_connection:
            kept.end()
        workload.client = workload.client_factory()

    if case != "one client":
        restart(end_connection=case == "reconnected")
    return operations, restart, lambda: workload.client.close()


def _raw_ray_work(case: str, address: str):
    """The soak's ``actor`` and ``futures`` work as raw Ray calls (an actor made,
    called 10 times and let go; 50 tasks): ``reconnect_memory``'s rounds."""
    import ray
    from reconnect_memory import raw_ray_connect, raw_ray_round

    raw_ray_connect(address)
    operations = []
    for name, work in (("actor", "actors"), ("futures", "tasks")):
        operation = raw_ray_round(work)
        operation.__name__ = name
        operations.append(operation)
    return operations, lambda: None, ray.shutdown


def _site(frames) -> str:
    names = [str(frame[0]) for frame in frames]
    if "new_arena" in names:  # CPython's pools: 1 MB at a time, whoever asked first
        return "CPython's arenas"
    native = [_bare(n) for n in names if "ray::" in n or "opentelemetry" in n][:2] or [
        _bare(n) for n in names[1:3]]
    python = next((f"{frame[0]} ({os.path.basename(str(frame[1]))}:{frame[2]})"
                   for frame in frames if str(frame[1]).endswith(".py")), "")
    return " / ".join(native) + (f" <- {python}" if python else "")


def _owner(frames) -> str:
    text = [f"{frame[0]} {frame[1]}" for frame in frames]
    for owner, marks in OWNERS:
        if any(mark in line for line in text for mark in marks):
            return owner
    return "other"


OWNED = ": "  # between a call site's owner and its name

# Rows printed under the owners: counts and readings, not KB held.
READINGS = ("actors made while tracking", "malloc in use before, MB", "malloc in use after, MB")


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
    parser.add_argument("--cases", nargs="*", default=list(CASES[:3]), choices=CASES)
    parser.add_argument("--at-rest", action="store_true",
                        help="read once the client is closed and the caches emptied")
    parser.add_argument("--ops", nargs="*", help="the soak's kinds of work (default: all)")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.seconds, args.at_rest, args.ops)))
        return 0
    held, readings = {}, {}
    for case in args.cases:
        command = [sys.executable, __file__, "--seconds", str(args.seconds), "--case", case,
                   *(["--at-rest"] if args.at_rest else []),
                   *(["--ops", *args.ops] if args.ops else [])]
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=args.seconds * 3 + 900)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            print(f"{case}: failed: {done.stderr[-1000:]}")
            return 1
        result = json.loads(lines[-1])
        held[case], readings[case] = Counter(result["held"]), result["readings"]
    owners = {case: Counter() for case in held}
    for case, h in held.items():
        for site, kb in h.items():
            owners[case][site.split(OWNED, 1)[0]] += kb
    _table("owner", owners, len(OWNERS) + 1)
    for row in READINGS:
        print(f"| {row} | " + " | ".join(f"{r[row]:,.1f}" for r in readings.values()) + " |")
    print()
    _table("owner: call site", held, args.top)
    return 0


def _table(what: str, held: dict[str, Counter], top: int) -> None:
    """KB held per row (the ``top`` largest over all cases), the cases side by side."""
    print(f"| {what} | " + " | ".join(f"{case}, KB" for case in held) + " |")
    print("|---|" + "---|" * len(held))
    print("| all | " + " | ".join(f"{sum(h.values()):,.0f}" for h in held.values()) + " |")
    for row, _ in sum(held.values(), Counter()).most_common(top):
        print(f"| `{row}` | " + " | ".join(f"{h[row]:,.0f}" for h in held.values()) + " |")


if __name__ == "__main__":
    sys.exit(main())
