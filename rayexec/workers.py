"""Ray nodes seen as distributed workers.

A worker's address is ``tcp://<node ip>:<raylet port>``: stable for the node's
life and distinct for several nodes on one machine.  Its ``nthreads`` is the
node's CPU count.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkerInfo:
    """One alive Ray node, in distributed's terms."""

    address: str
    node_id: str
    host: str
    nthreads: int
    memory_limit: int
    resources: dict = field(hash=False)

    def as_dict(self) -> dict:
        """The entry of ``scheduler_info()["workers"]`` for this worker."""
        return {
            "type": "Worker",
            "id": self.node_id,
            "host": self.host,
            "name": self.address,
            "nthreads": self.nthreads,
            "memory_limit": self.memory_limit,
            "resources": dict(self.resources),
            "status": "running",
        }


def alive_workers() -> list[WorkerInfo]:
    """Every alive node of the connected Ray cluster, head first."""
    import ray

    workers = []
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        resources = {k: v for k, v in node["Resources"].items()
                     if not k.startswith("node:") and k not in ("memory", "object_store_memory")}
        workers.append(WorkerInfo(
            address=f"tcp://{node['NodeManagerAddress']}:{node['NodeManagerPort']}",
            node_id=node["NodeID"],
            host=node["NodeManagerAddress"],
            nthreads=int(resources.get("CPU", 0)),
            memory_limit=int(node["Resources"].get("memory", 0)),
            resources=resources,
        ))
    return workers


def scheduler_info(scheduler_address: str | None = None) -> dict:
    """distributed's ``scheduler_info()`` for the connected cluster."""
    workers = alive_workers()
    return {
        "type": "Scheduler",
        "id": "ray",
        "address": scheduler_address or (workers[0].address if workers else None),
        "services": {},
        "n_workers": len(workers),
        "total_threads": sum(w.nthreads for w in workers),
        "total_memory": sum(w.memory_limit for w in workers),
        "workers": {w.address: w.as_dict() for w in workers},
    }
