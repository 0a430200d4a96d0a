"""Client.retire_workers on a local cluster of a head and two worker nodes.

Data scattered onto the retiring worker (which Ray cannot compute again) must
survive it; a task running there finishes; the worker's node stops; the head
and unknown workers are refused.  Prints one JSON line.
"""

import json
import time

import numpy as np

from rayexec import Client
from rayexec.workers.nodes import alive_workers


def slow(x):
    time.sleep(3)
    return x


if __name__ == "__main__":
    report = {}
    with Client(n_workers=3, threads_per_worker=1) as client:
        workers = alive_workers()
        head = next(w.address for w in workers if w.is_head)
        target = next(w.address for w in workers if not w.is_head)
        data = client.scatter([np.full(100_000, i) for i in range(4)], workers=[target])
        report["data_on_target"] = all(target in where for where in client.who_has(data).values())
        running = client.submit(slow, 7, workers=[target], pure=False)
        while running.status == "pending" and not client.processing().get(target):
            time.sleep(0.1)
        started = time.monotonic()
        retired = client.retire_workers(workers=[target])
        report["waited_for_running_task"] = time.monotonic() - started > 0.5
        report["retired"] = sorted(retired)
        report["running_result"] = running.result(timeout=60)
        deadline = time.monotonic() + 60
        while target in client.scheduler_info()["workers"] and time.monotonic() < deadline:
            time.sleep(0.5)
        report["gone"] = target not in client.scheduler_info()["workers"]
        report["data_kept"] = [int(a[0]) for a in client.gather(data)] == [0, 1, 2, 3]
        report["after"] = client.submit(sum, [1, 2], pure=False).result(timeout=60)
        for name, bad in (("head", head), ("unknown", "tcp://127.0.0.1:1")):
            try:
                client.retire_workers(workers=[bad])
                report[name] = "accepted"
            except Exception as exc:
                report[name] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(report))
