"""What reconnecting costs a process's memory: work run after a client was closed and
another opened in the same process, on rayexec, and after ``ray.shutdown()`` and
``ray.init()`` on raw Ray.

    python benchmarks/reconnect_memory.py [--seconds 40] [--cycles 3] [--work tasks actors]

The chaos soak restarts its client once, as a user whose code closes a client
and opens another does.  rayexec did that with ``ray.shutdown()`` and
``ray.init()``; it now keeps Ray's connection for the next client of the same
cluster (``rayexec.deploy.kept``), so its "reconnecting" case measures a new
client on the kept connection.  Each case here runs in a fresh process against a cluster of its
own (a head and a worker node, ``soak.Cluster``): rounds of work for
``--seconds``, then reconnects (or not, for the control case), ``--cycles``
times.  A round of ``tasks`` is 50 small tasks (``soak.square``): rayexec's
``client.map`` and ``gather``, raw Ray's ``ray.get`` of 50 tasks; a round of
``actors`` makes an actor (``soak.Accumulator``), calls it 10 times and lets
it go.  Printed per cycle: what glibc's allocator has handed out and not got
back (``malloc``) per round of that cycle, and how many reconnects came before it.
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
WORK = {"tasks": "50 tasks", "actors": "an actor, 10 calls"}  # what a round is


def _connector(system: str, work: str, address: str):
    """A function that connects and returns (one round of the work, close)."""
    import ray
    from soak import Accumulator, square

    if system == "rayexec":
        from rayexec import Client

        def connect():
            client = Client(address, timeout=120)
            if work == "actors":
                def one_round():
                    counter = client.submit(Accumulator, actor=True, pure=False).result()
                    return [counter.add(i).result() for i in range(10)]
            else:
                def one_round():
                    return client.gather(client.map(square, range(TASKS_PER_ROUND),
                                                    pure=False))
            return one_round, client.close
        return connect
    one_round = raw_ray_round(work)

    def connect():
        raw_ray_connect(address)
        return one_round, ray.shutdown
    return connect


def raw_ray_connect(address: str) -> None:
    """``ray.init`` to the cluster at ``address``, as a raw Ray user does."""
    import ray

    # Raw Ray sends a token only when told to: rayexec's connect does this for its users.
    from ray._private.authentication.authentication_token_setup import (
        maybe_enable_token_auth_if_token_available,
    )

    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    ray.init(address=address, logging_level="WARNING")


def raw_ray_round(work: str):
    """One round of ``work`` (see ``WORK``) as raw Ray calls."""
    import ray
    from soak import Accumulator, square

    remote_square, remote_accumulator = ray.remote(square), ray.remote(Accumulator)

    def one_round():
        if work == "actors":
            counter = remote_accumulator.remote()
            return [ray.get(counter.add.remote(i)) for i in range(10)]
        return ray.get([remote_square.remote(i) for i in range(TASKS_PER_ROUND)])
    return one_round


def measure(case: str, work: str, seconds: float, cycles: int) -> list[dict]:
    """One case, here (the child process's part)."""
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, HERE)
    from process_memory import malloc_in_use_mb, trim
    from soak import Cluster

    system, reconnecting = CASES[case]
    cluster = Cluster(2)
    try:
        connect = _connector(system, work, cluster.head.address)
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
            rows.append({"reconnects before": cycle if reconnecting else 0, "rounds": rounds,
                         "malloc_kb_per_round":
                             round((malloc_in_use_mb() - before) * 1024 / rounds, 2)})
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
    parser.add_argument("--work", nargs="*", default=list(WORK), choices=list(WORK))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.work[0], args.seconds, args.cycles)))
        return 0
    print("| work | case | cycle | reconnects before it | rounds | malloc KB per round |")
    print("|---|---|---|---|---|---|")
    for work in args.work:
        for case in args.cases:
            done = subprocess.run([sys.executable, __file__, "--seconds", str(args.seconds),
                                   "--cycles", str(args.cycles), "--work", work, "--case", case],
                                  capture_output=True, text=True,
                                  timeout=args.cycles * (args.seconds + 120) + 300)
            lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
            if done.returncode or not lines:
                print(f"| {work} | {case} | failed: {done.stderr[-500:]!r} |")
                continue
            for cycle, row in enumerate(json.loads(lines[-1]), 1):
                print(f"| {WORK[work]} | {case} | {cycle} | {row['reconnects before']} | "
                      f"{row['rounds']:,} | {row['malloc_kb_per_round']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
