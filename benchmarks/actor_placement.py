"""Where Ray starts an actor pinned softly to a node, asking for nothing or for a byte.

    python benchmarks/actor_placement.py            # 6 actors per node and request

On a cluster of its own (``--nodes`` ``ray start`` processes on loopback), it
starts actors of ``num_cpus=0`` with a soft ``NodeAffinitySchedulingStrategy``
to each node in turn, once asking for no resources and once for one byte of
memory (what ``rayexec.workers.placement.actor_pin`` asks), and counts how many
landed on the node they were pinned to.  rayexec's coordination actor, dataset
store and executor actors ask for no CPU and rely on such pins.
"""

from __future__ import annotations

import argparse
import sys


class Where:
    def node(self):
        import ray

        return ray.get_runtime_context().get_node_id()


def on_target(node_id: str, count: int, request: dict) -> int:
    """How many of ``count`` actors pinned softly to ``node_id`` started there."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(Where)
    actors = [remote.options(num_cpus=0, **request, scheduling_strategy=(
        NodeAffinitySchedulingStrategy(node_id, soft=True))).remote() for _ in range(count)]
    landed = ray.get([a.node.remote() for a in actors], timeout=120)
    for actor in actors:
        ray.kill(actor)
    return sum(n == node_id for n in landed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3, help="Ray nodes (head included)")
    parser.add_argument("--actors", type=int, default=6, help="actors per node and request")
    args = parser.parse_args(argv)

    import ray
    from soak import Cluster

    from rayexec import Client

    cluster = Cluster(args.nodes)
    try:
        client = Client(cluster.head.address)  # it knows the cluster's token
        nodes = sorted(("node:__internal_head__" not in n["Resources"], n["NodeID"])
                       for n in ray.nodes() if n["Alive"])
        print("| target node | `num_cpus=0` | `num_cpus=0, memory=1` |\n|---|---|---|")
        for index, (is_worker, node_id) in enumerate(nodes):
            name = f"worker {index}" if is_worker else "head"
            bare, byte = (on_target(node_id, args.actors, request)
                          for request in ({}, {"memory": 1}))
            print(f"| {name} | {bare} of {args.actors} on it | {byte} of {args.actors} |")
        client.close()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
