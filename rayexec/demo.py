"""``python -m rayexec demo``: the Executor walkthrough of distributed's first docs, on Ray.

Starts an embedded local Ray, then walks submit, gather, map, futures on
futures, scatter, an exception with its remote traceback, wait, progress,
as_completed and restart, printing each step.
"""

from __future__ import annotations

import sys
import time
import traceback


def inc(x):
    return x + 1


def double(x):
    return 2 * x


def add(x, y):
    return x + y


def div(x, y):
    return x / y


def add_arguments(parser) -> None:
    parser.add_argument("--workers", type=int, default=None,
                        help="Ray nodes to start (default: one with every CPU)")


def _step(title: str) -> None:
    print(f"\n== {title}")


def main(args) -> int:
    from rayexec import Executor, as_completed, progress, wait

    _step("Executor: starting an embedded local Ray")
    started = time.perf_counter()
    e = Executor(n_workers=args.workers)
    print(f"{e}  (ready in {time.perf_counter() - started:.1f} s)")
    try:
        _walk(e, wait, progress, as_completed)
    finally:
        e.close()
    print("\nDone.")
    return 0


def _walk(e, wait, progress, as_completed) -> None:
    _step("submit and gather")
    future = e.submit(inc, 1)
    print(">>> future = e.submit(inc, 1)\n", future)
    print(">>> e.gather([future])\n", e.gather([future]))

    _step("map and gather")
    futures = e.map(inc, range(5))
    print(">>> e.gather(e.map(inc, range(5)))\n", e.gather(futures))

    _step("submit and map on futures: the function moves to the data")
    future2 = e.submit(double, future)
    print(">>> e.submit(double, e.submit(inc, 1)).result()\n", future2.result())
    total = e.submit(sum, e.map(add, range(10), range(10)))
    print(">>> e.gather([e.submit(sum, e.map(add, range(10), range(10)))])\n",
          e.gather([total]))

    _step("scatter local data to the cluster")
    remote = e.scatter([1, 2, 3])
    print(">>> e.scatter([1, 2, 3])\n", remote)
    print(">>> e.submit(sum, remote).result()\n", e.submit(sum, remote).result())

    _step("exceptions come back with the remote traceback")
    bad = e.submit(div, 1, 0)
    wait(bad)
    print(">>> future = e.submit(div, 1, 0)\n", bad)
    print(">>> future.exception()\n", repr(bad.exception()))
    print(">>> future.traceback()")
    traceback.print_tb(bad.traceback(), file=sys.stdout)
    print(">>> e.submit(inc, future)  # computations on failed futures fail\n",
          wait(e.submit(inc, bad)).done.pop())

    _step("wait, progress, as_completed")
    a, b, c = e.map(time.sleep, [0.3, 0.6, 0.9], pure=False)
    started = time.perf_counter()
    wait([a, b, c])
    print(f">>> wait([a, b, c])  # took {time.perf_counter() - started:.1f} s")
    print(">>> progress(e.map(time.sleep, [0.2] * 8, pure=False))")
    progress(e.map(time.sleep, [0.2] * 8, pure=False))
    sleepers = e.map(time.sleep, [0.6, 0.2, 0.4], pure=False)
    print(">>> [f.key for f in as_completed(e.map(time.sleep, [0.6, 0.2, 0.4], pure=False))]\n",
          [f.key for f in as_completed(sleepers)])

    _step("restart: cancel everything, drop all data, fresh worker processes")
    e.restart()
    print(">>> e.restart(); future\n", future)
    print(">>> e.submit(inc, 41).result()  # new work runs right away\n",
          e.submit(inc, 41).result())
