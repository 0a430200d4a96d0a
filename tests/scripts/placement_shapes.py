"""A three-node ``ray.cluster_utils.Cluster`` of different shapes, and what the
placement hints do on it; prints one JSON line of findings.

Nodes: ``head`` (1 CPU), ``gpu`` (1 CPU, 1 GPU), ``wide`` (2 CPUs, ``special: 1``).
"""

import json
import time

import numpy as np
import ray
from ray.cluster_utils import Cluster

import rayexec
from rayexec.workers import placement


def where(*_):
    return rayexec.get_worker().address


def gpu_ids():
    return ray.get_gpu_ids()


def big(seed):
    return np.full(2_000_000, seed, dtype=np.float64)


def sleepy(seconds):
    time.sleep(seconds)
    return rayexec.get_worker().address


def main():
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": 150 * 2**20, "include_dashboard": False})
    cluster.add_node(num_cpus=1, num_gpus=1, object_store_memory=150 * 2**20)
    wide_node = cluster.add_node(num_cpus=2, object_store_memory=150 * 2**20,
                                 resources={"special": 1})
    ray.init(address=cluster.address, logging_level="ERROR")
    cluster.wait_for_nodes()
    try:
        with rayexec.Client() as client:
            client.wait_for_workers(3, timeout=60)
            info = client.scheduler_info()["workers"]
            head = [a for a, w in info.items() if not set(w["resources"]) - {"CPU"}
                    and w["nthreads"] == 1][0]
            gpu = [a for a, w in info.items() if w["resources"].get("GPU")][0]
            wide = [a for a, w in info.items() if w["resources"].get("special")][0]
            found = {
                "nthreads": [client.nthreads()[a] for a in (head, gpu, wide)],
                "gpu": client.submit(where, resources={"GPU": 1}).result() == gpu,
                "gpu_ids": client.submit(gpu_ids, resources={"GPU": 1}).result() == [0],
                "two_cpus": client.submit(where, resources={"CPU": 2}).result() == wide,
                "label_selector": set(client.gather(client.map(
                    where, range(8), workers=[head, wide], pure=False))) <= {head, wide},
                "run": sorted(client.run(where)) == sorted([head, gpu, wide]),
            }
            data = client.submit(big, 1.0, workers=[gpu])
            rayexec.wait([data])
            found["locality"] = client.submit(where, data).result() == gpu
            # a pinned node dies under its tasks: they fail, they do not hang
            running = client.submit(sleepy, 60, workers=[wide], resources={"CPU": 2})
            queued = client.map(sleepy, [0, 0], workers=[wide], resources={"CPU": 2},
                                pure=False)
            time.sleep(2)
            cluster.remove_node(wide_node)
            errors = [f.exception(timeout=120) for f in [running, *queued]]
            found["dead_pin_fails"] = all(e is not None for e in errors)
            found["dead_pin_error"] = type(errors[0]).__name__
            # refused at submit, or -- while the worker list is still cached -- failed
            # on the future: either way a PlacementError in bounded time, not a hang
            try:
                late = client.submit(where, workers=[wide], pure=False)
                found["dead_pin_refused"] = isinstance(late.exception(timeout=120),
                                                       placement.PlacementError)
            except placement.PlacementError:
                found["dead_pin_refused"] = True
            found["soft_pin_survives"] = client.submit(
                where, workers=[wide], allow_other_workers=True,
                pure=False).result() in {head, gpu}
    finally:
        ray.shutdown()
        cluster.shutdown()
    print(json.dumps(found))


if __name__ == "__main__":
    main()
