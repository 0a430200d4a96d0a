"""A distributed program that scales its LocalCluster by hand and with adapt(): run
through the shim (PYTHONPATH=<checkout>/compat), unchanged.  adapt() adds a node
while every CPU is busy and removes it once the cluster has been idle.  Prints
one JSON line."""

import json
import time

import distributed
from distributed import Client, LocalCluster


def slow(x):
    time.sleep(2)
    return x


def wait_for_count(cluster, client, wanted, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(cluster.workers) == wanted and len(client.scheduler_info()["workers"]) == wanted:
            return True
        time.sleep(0.5)
    return False


if __name__ == "__main__":
    report = {}
    with LocalCluster(n_workers=1, threads_per_worker=1) as cluster, Client(cluster) as client:
        report["shim"] = distributed.Client.__module__.startswith("rayexec")
        cluster.scale(2)
        report["scaled_up"] = wait_for_count(cluster, client, 2, timeout=180)
        cluster.scale(1)
        report["scaled_down"] = wait_for_count(cluster, client, 1, timeout=120)
        adaptive = cluster.adapt(minimum=1, maximum=2, interval="0.5s", wait_count=4)
        futures = client.map(slow, range(40), pure=False, batch_size=1)
        report["grew"] = wait_for_count(cluster, client, 2, timeout=180)
        report["results"] = client.gather(futures) == list(range(40))
        report["shrank"] = wait_for_count(cluster, client, 1, timeout=120)
        adaptive.stop()
        report["after"] = client.submit(sum, [1, 2], pure=False).result(timeout=60)
    print(json.dumps(report))
