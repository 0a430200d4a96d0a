"""The head node of a connected client's cluster dies: every future and the next call fail
clearly within a bounded time, and the client's process lives on.

Prints one JSON line: for each operation, its seconds and outcome.
"""

import json
import os
import signal
import sys
import time

from rayexec import Client, wait
from rayexec.deploy.local_cluster import RayNode

OUTLIVE = float(sys.argv[1]) if len(sys.argv) > 1 else 70  # Ray's own limit is 60 s


def outcome(fn):
    start = time.monotonic()
    try:
        result = repr(fn())
    except BaseException as exc:  # the point: which error, after how long
        result = f"{type(exc).__name__}: {exc}"
    return {"seconds": round(time.monotonic() - start, 1), "outcome": result}


if __name__ == "__main__":
    head = RayNode(num_cpus=1, object_store_memory=100 * 2**20).start(timeout=300)
    try:
        client = Client(head.address, timeout=120)
        done = client.submit(sum, [1, 2])
        assert done.result(timeout=120) == 3
        running = client.submit(time.sleep, 600, pure=False)
        time.sleep(2)
        killed_at = time.monotonic()
        os.killpg(head.process.pid, signal.SIGKILL)  # the head and everything it started
        report = {
            "running.result": outcome(lambda: running.result(timeout=300)),
            "running.status": running.status,
            "done.result": outcome(lambda: done.result(timeout=300)),
            "gather": outcome(lambda: client.gather([done, running])),
            "wait": outcome(lambda: len(wait([running], timeout=60).done)),
            "submit": outcome(lambda: client.submit(sum, [3, 4]).result(timeout=300)),
        }
        # Ray ends a process whose head is gone for a minute; a client's must go on,
        # still connected: the client is closed only after that.
        time.sleep(max(0.0, OUTLIVE - (time.monotonic() - killed_at)))
        report["alive_after"] = round(time.monotonic() - killed_at)
        report["close"] = outcome(client.close)
        print(json.dumps(report))
    finally:
        try:
            os.killpg(head.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        head.stop()
