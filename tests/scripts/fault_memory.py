"""A task needs more memory than its node has: Ray's memory monitor kills it.

Two nodes on this machine: a head with Ray's defaults and a worker (resource
``small``) whose memory monitor treats anything beyond what the machine uses
now plus HEADROOM as full.  A task there that allocates past that is killed,
retried ``allowed-failures`` times, then fails with ``WorkerOutOfMemory``;
the client and the other node's work go on.  No task allocates more than
CAP, so the script is safe on a machine shared with others.

Prints one JSON line.
"""

import json
import os
import sys
import time

import dask
import numpy as np

from rayexec import Client, KilledWorker, WorkerOutOfMemory
from rayexec.deploy.local_cluster import RayNode

HEADROOM = 800 * 2**20
CAP = 1400 * 2**20
CHUNK = 64 * 2**20


def machine_memory():
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            name, value = line.split(":")
            info[name] = int(value.split()[0]) * 1024
    return info["MemTotal"] - info["MemAvailable"], info["MemTotal"]


def hog(marker):
    """Allocate (and touch) memory until killed, up to CAP; log each attempt."""
    with open(marker, "a") as f:
        f.write("attempt\n")
    chunks = []
    while len(chunks) * CHUNK < CAP:
        chunks.append(np.ones(CHUNK // 8))
        time.sleep(0.02)
    time.sleep(20)  # the monitor refreshes every 100 ms: it has had every chance
    return "not killed"


def attempts(marker):
    """How many times the task started (0: killed before it ran, or never run)."""
    if not os.path.exists(marker):
        return 0
    with open(marker) as f:
        return f.read().count("attempt")


def small_node_env(threshold):
    return {"RAY_memory_usage_threshold": f"{threshold:.4f}",
            "RAY_memory_monitor_refresh_ms": "100"}


def start_worker(address, env):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the node's processes take this process's environment
    try:
        return RayNode(address, num_cpus=1, resources={"small": 1},
                       object_store_memory=100 * 2**20).start(timeout=300)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v


def outcome(fn):
    try:
        return {"result": repr(fn())}
    except BaseException as exc:
        return {"type": type(exc).__name__, "message": str(exc),
                "killed_worker": isinstance(exc, KilledWorker),
                "memory_error": isinstance(exc, MemoryError),
                "oom": isinstance(exc, WorkerOutOfMemory)}


if __name__ == "__main__":
    workdir = sys.argv[1]
    dask.config.set({"distributed.scheduler.allowed-failures": 1})
    head = RayNode(num_cpus=1, resources={"big": 1},
                   object_store_memory=100 * 2**20).start(timeout=300)
    nodes = [head]
    try:
        used, total = machine_memory()
        nodes.append(start_worker(head.address, small_node_env((used + HEADROOM) / total)))
        with Client(head.address, timeout=120) as client:
            marker = os.path.join(workdir, "task-attempts")
            future = client.submit(hog, marker, resources={"small": 1}, pure=False)
            others = client.map(lambda x: x * 2, range(20), resources={"big": 1})
            task = outcome(lambda: future.result(timeout=240))
            task["attempts"] = attempts(marker)
            task["status"] = future.status
            graph_marker = os.path.join(workdir, "graph-attempts")
            part = client.compute(dask.delayed(hog)(graph_marker), resources={"small": 1})
            graph = outcome(lambda: part.result(timeout=240))
            graph["attempts"] = attempts(graph_marker)
            report = {
                "task": task,
                "graph": graph,
                "others": client.gather(others, errors="raise") == [x * 2 for x in range(20)],
                "small_node_after": outcome(lambda: client.submit(
                    sum, [1, 2], resources={"small": 1}, pure=False).result(timeout=120)),
            }
        print(json.dumps(report))
    finally:
        for node in reversed(nodes):
            node.stop()
