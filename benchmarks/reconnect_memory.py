"""What reconnecting costs a process's memory: tasks run after ``ray.shutdown()`` and
``ray.init()`` in the same process, on rayexec and on raw Ray.

    python benchmarks/reconnect_memory.py [--seconds 40] [--cycles 3]

The chaos soak restarts its client once, as a user whose code closes a client
and opens another does; that is ``ray.shutdown()`` and ``ray.init()`` in the
same process.  Each case here runs in a fresh process against a cluster of its
own (a head and a worker node, ``soak.Cluster``): rounds of 50 small tasks
(``soak.square``) for ``--seconds``, then reconnects (or not, for the control
case), ``--cycles`` times.  Printed per cycle: what glibc's allocator has handed
out and not got back (``malloc``) per thousand tasks of that cycle, and how
many reconnects came before it.  rayexec's rounds are ``client.map`` and
``gather``; raw Ray's are ``ray.get`` of 50 tasks of the same function.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = {"rayexec, reconnecting": ("rayexec", True), "rayexec, one connection": ("rayexec", False),
         "raw Ray, reconnecting": ("ray", True), "raw Ray, one connection": ("ray", False)}
TASKS_PER_ROUND = 50


def _connector(system: str, address: str):
    """A function that connects and returns (one round of tasks, close)."""
    import ray
    from soak import square

    if system == "rayexec":
        from rayexec import Client

        def connect():
            client = Client(address, timeout=120)
            return (lambda: client.gather(client.map(square, range(TASKS_PER_ROUND),
                                                     pure=False)), client.close)
        return connect
    # Raw Ray sends a token only when told to: rayexec's connect does this for its users.
    from ray._private.authentication.authentication_token_setup import (
        maybe_enable_token_auth_if_token_available,
    )

    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    remote_square = ray.remote(square)

    def connect():
        ray.init(address=address, logging_level="WARNING")
        return (lambda: ray.get([remote_square.remote(i) for i in range(TASKS_PER_ROUND)]),
                ray.shutdown)
    return connect


def measure(case: str, seconds: float, cycles: int) -> list[dict]:
    """One case, here (the child process's part)."""
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, HERE)
    from process_memory import malloc_in_use_mb, trim
    from soak import Cluster

    system, reconnecting = CASES[case]
    cluster = Cluster(2)
    try:
        connect = _connector(system, cluster.head.address)
        one_round, close = connect()
        for _ in range(20):  # warm-up: worker processes, the function's export
            one_round()
        rows = []
        for cycle in range(cycles):
            gc.collect()
            trim()
            before, started, rounds = malloc_in_use_mb(), time.monotonic(), 0
            while time.monotonic() - started < seconds:
                one_round()
                rounds += 1
            gc.collect()
            trim()
            tasks = rounds * TASKS_PER_ROUND
            rows.append({"reconnects before": cycle if reconnecting else 0, "tasks": tasks,
                         "malloc_kb_per_1000_tasks":
                             round((malloc_in_use_mb() - before) * 1024 * 1000 / tasks, 1)})
            if reconnecting:
                close()
                one_round, close = connect()
                for _ in range(20):  # what a new connection costs once is not counted
                    one_round()
        close()
        return rows
    finally:
        cluster.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="per cycle")
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.seconds, args.cycles)))
        return 0
    print("| case | cycle | reconnects before it | tasks | malloc KB per 1,000 tasks |")
    print("|---|---|---|---|---|")
    for case in args.cases:
        done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds),
                               "--cycles", str(args.cycles), "--case", case],
                              capture_output=True, text=True,
                              timeout=args.cycles * (args.seconds + 120) + 300)
        lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
        if done.returncode or not lines:
            print(f"| {case} | failed: {done.stderr[-500:]!r} |")
            continue
        for cycle, row in enumerate(json.loads(lines[-1]), 1):
            print(f"| {case} | {cycle} | {row['reconnects before']} | {row['tasks']:,} | "
                  f"{row['malloc_kb_per_1000_tasks']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
