"""A simulated cluster of many Ray nodes on this machine, for ``--nodes N`` benchmark runs.

Every node is a raylet of one CPU with a small object store, started by Ray's
own ``ray.cluster_utils.Cluster`` (one head plus ``N - 1`` nodes): the control
plane -- node table, scheduling between raylets, objects moving between
stores -- works as on ``N`` machines, while the CPUs are this machine's.  The
distributed counterpart is a ``LocalCluster`` of ``N`` single-threaded worker
processes.

    >>> cluster = start_ray_nodes(8)        # doctest: +SKIP
    >>> ray.init(address=cluster.address)   # doctest: +SKIP
    >>> cluster.shutdown()                  # doctest: +SKIP
"""

from __future__ import annotations

import os

# Each node's object store.  Ray's smallest allowed store is 75 MiB; nodes of
# one CPU need little, and the machine's memory is shared by every node.
STORE_BYTES = 100 * 2**20


def start_ray_nodes(n: int, store_bytes: int = STORE_BYTES, cpus: int = 1):
    """A ``Cluster`` of ``n`` Ray nodes of ``cpus`` CPUs each, all registered."""
    from ray.cluster_utils import Cluster

    if n < 1:
        raise ValueError(f"a cluster needs at least one node, got --nodes {n}")
    # the benchmarks' workload functions must import on every node's workers
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH")) if p)
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": cpus, "object_store_memory": store_bytes, "include_dashboard": False})
    for _ in range(n - 1):
        cluster.add_node(num_cpus=cpus, object_store_memory=store_bytes)
    cluster.wait_for_nodes()
    return cluster
