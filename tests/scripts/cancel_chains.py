"""Cancelling futures in the middle of chains of dependent tasks, many times over.

Asking Ray to cancel a task whose inputs are being resolved crashes the client
process in this Ray (a race in its reference counting), so a failure here is
the process dying.  Prints one JSON line.
"""

import json
import time

from rayexec import Client, wait


def slow_inc(x, delay):
    time.sleep(delay)
    return x + 1


if __name__ == "__main__":
    rounds = 30
    cancelled = kept = 0
    with Client(n_workers=2, threads_per_worker=1) as client:
        for _ in range(rounds):
            x = client.submit(slow_inc, 1, 0.2, pure=False)
            y = client.submit(slow_inc, x, 0.2, pure=False)
            z = client.submit(slow_inc, y, 0.2, pure=False)
            client.cancel([y])
            wait([z], timeout=60)
            cancelled += y.cancelled() and z.cancelled()
            kept += x.result(timeout=60) == 2
        after = client.submit(slow_inc, 1, 0, pure=False).result(timeout=60)
    print(json.dumps({"rounds": rounds, "cancelled": cancelled, "kept": kept, "after": after}))
