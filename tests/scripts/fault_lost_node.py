"""A node leaves mid-computation: its task results are recomputed, its scattered data is lost."""

import json

import numpy as np
import ray
from ray.cluster_utils import Cluster

from rayexec import Client, wait


def big_range(n):
    return np.arange(n)  # large enough to live in the node's object store, not inline


def total(array):
    return int(array[:1000].sum())


if __name__ == "__main__":
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": False, "object_store_memory": 200 * 2**20})
    doomed = cluster.add_node(num_cpus=1, resources={"doomed": 1},
                              object_store_memory=200 * 2**20)
    ray.init(address=cluster.address, logging_level="ERROR")
    try:
        client = Client()
        doomed_address = [a for a, info in client.scheduler_info()["workers"].items()
                          if info["resources"].get("doomed")][0]
        computed = client.submit(big_range, 1_000_000, workers=[doomed_address],
                                 allow_other_workers=True)
        wait(computed)
        scattered = client.scatter(np.arange(1_000_000), workers=[doomed_address])
        wait(scattered)
        cluster.remove_node(doomed)
        cluster.add_node(num_cpus=1, object_store_memory=200 * 2**20)
        recomputed = client.submit(total, computed).result(timeout=120)
        errors = []
        for attempt in (lambda: client.submit(total, scattered).result(timeout=120),
                        lambda: scattered.result(timeout=120)):
            try:
                attempt()
                errors.append("no error")
            except Exception as exc:  # the point: a clear error, not a hang
                errors.append(f"{type(exc).__name__}: {exc}")
        print(json.dumps({"recomputed": recomputed, "scattered_status": scattered.status,
                          "dependent_error": errors[0], "scattered_error": errors[1]}))
        client.close()
    finally:
        ray.shutdown()
        cluster.shutdown()
