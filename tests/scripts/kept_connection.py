"""A client's own Ray connection outlives its close, for the next client of that cluster.

Prints one JSON line: what this process's Ray connection was at each step.
"""

import json
import os
import signal
import time

import dask
import ray

from rayexec import Client
from rayexec.deploy.local_cluster import RayNode


def connection():
    if not ray.is_initialized():
        return None
    context = ray.get_runtime_context()
    return {"gcs": context.gcs_address, "job": context.get_job_id()}


def one_client(address):
    with Client(address, timeout=120) as client:
        assert client.submit(sum, [1, 2], pure=False).result(timeout=120) == 3
        return connection()


def until_disconnected(bound):
    start = time.monotonic()
    while ray.is_initialized() and time.monotonic() - start < bound:
        time.sleep(0.2)
    return {"connected": ray.is_initialized(), "seconds": round(time.monotonic() - start, 1)}


if __name__ == "__main__":
    dask.config.set({"rayexec.head-timeout": "2s"})
    a = RayNode(num_cpus=1, object_store_memory=100 * 2**20).start(timeout=300)
    b = RayNode(num_cpus=1, object_store_memory=100 * 2**20).start(timeout=300)
    report = {}
    try:
        report["first client"] = one_client(a.address)
        report["after close"] = connection()
        report["second client"] = one_client(a.address)
        first, second = Client(a.address, timeout=120), Client(a.address, timeout=120)
        first.close()  # the second still uses the connection
        try:
            Client(b.address, timeout=120).close()
            report["another cluster while a client is open"] = "connected"
        except RuntimeError as refused:
            report["another cluster while a client is open"] = f"RuntimeError: {refused}"
        report["the open client"] = second.submit(sum, [1, 2], pure=False).result(timeout=120)
        second.close()
        report["client of another cluster"] = one_client(b.address)
        b.stop()
        report["after its head was stopped here"] = connection()
        report["client of the first again"] = one_client(a.address)
        os.killpg(a.process.pid, signal.SIGKILL)  # the head goes away on its own
        report["after its head was killed"] = until_disconnected(60)
    finally:
        a.stop()
        b.stop()
    print(json.dumps(report))
