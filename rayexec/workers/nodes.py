"""Ray nodes seen as distributed workers.

A worker's address is ``tcp://<node ip>:<raylet port>``: stable for the node's
life and distinct for several nodes on one machine.  Its ``nthreads`` is the
node's CPU count.  This module owns the Ray calls that list nodes.

>>> info = WorkerInfo("tcp://10.0.0.5:40000", "ab12", "10.0.0.5", 4, 2**30, {"CPU": 4.0})
>>> info.as_dict()["nthreads"]
4
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

from ..data import INLINE_LIMIT

# Submitting with placement hints looks the workers up; one Ray call per submit
# would cost more than the submit itself, so a listing is reused this long.
# Whoever needs the current truth (introspection, a failed match) asks fresh.
CACHE_SECONDS = 2.0

_cache_lock = threading.Lock()
_cache: tuple[float, object, list] | None = None  # (time, cluster address, workers)


class WorkerStartTimeoutError(TimeoutError):
    """Fewer workers than awaited joined within the timeout (as in distributed)."""

    def __init__(self, available_workers: int, expected_workers: int, timeout: float):
        self.available_workers = available_workers
        self.expected_workers = expected_workers
        self.timeout = timeout
        super().__init__(available_workers, expected_workers, timeout)

    def __str__(self) -> str:
        return (f"Only {self.available_workers}/{self.expected_workers} workers arrived "
                f"after {self.timeout}")


@dataclass(frozen=True)
class WorkerInfo:
    """One alive Ray node, in distributed's terms."""

    address: str
    node_id: str
    host: str
    nthreads: int
    memory_limit: int
    resources: dict = field(hash=False)
    is_head: bool = False
    object_store_memory: int = 0

    def as_dict(self) -> dict:
        """The entry of ``scheduler_info()["workers"]`` for this worker."""
        return {
            "type": "Worker",
            "id": self.node_id,
            "host": self.host,
            "resources": dict(self.resources),
            "local_directory": None,
            "name": self.address,
            "nthreads": self.nthreads,
            "memory_limit": self.memory_limit,
            "last_seen": time.time(),
            "services": {},
            "metrics": {},
            "status": "running",
            "nanny": None,
        }

    @property
    def runs_tasks(self) -> bool:
        """Whether the node has CPUs or GPUs: a zero-CPU head (``dscheduler``) plays
        distributed's scheduler, not a worker."""
        return self.nthreads > 0 or self.resources.get("GPU", 0) > 0

    def has(self, resources: dict) -> bool:
        """Whether this node's total resources cover ``resources``."""
        return all(self.resources.get(name, 0) >= amount for name, amount in resources.items())


def _from_node(node: dict) -> WorkerInfo:
    totals = node["Resources"]
    resources = {k: v for k, v in totals.items()
                 if not k.startswith("node:") and k not in ("object_store_memory",)}
    resources.pop("memory", None)
    return WorkerInfo(
        address=f"tcp://{node['NodeManagerAddress']}:{node['NodeManagerPort']}",
        node_id=node["NodeID"],
        host=node["NodeManagerAddress"],
        nthreads=int(resources.get("CPU", 0)),
        memory_limit=int(totals.get("memory", 0)),
        resources=resources,
        is_head="node:__internal_head__" in totals,
        object_store_memory=int(totals.get("object_store_memory", 0)),
    )


def alive_workers(fresh: bool = True) -> list[WorkerInfo]:
    """Every alive node of the connected Ray cluster, head first.

    ``fresh=False`` accepts a listing up to :data:`CACHE_SECONDS` old.
    """
    global _cache
    import ray

    # A listing belongs to one cluster: connecting elsewhere must not reuse it.
    try:
        owner = ray.get_runtime_context().gcs_address
    except Exception:  # not connected, or a Ray Client session without it: no reuse
        owner = object()
    with _cache_lock:
        if (not fresh and _cache is not None and _cache[1] == owner
                and time.monotonic() - _cache[0] < CACHE_SECONDS):
            return _cache[2]
    workers = [_from_node(n) for n in ray.nodes() if n.get("Alive")]
    workers.sort(key=lambda w: not w.is_head)
    with _cache_lock:
        _cache = (time.monotonic(), owner, workers)
    return workers


def cluster_started() -> float | None:
    """When the cluster's head started (a Unix time), as distributed's scheduler
    reports its own start: Ray names each cluster's session after that moment
    (``session_2026-12-03_13-56-17_983799_<pid>``, the head's local time).
    None if the name has another form.
    """
    import datetime

    import ray

    name = ray.get_runtime_context().get_session_name() or ""
    found = re.match(r"session_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_\d+)_", name)
    if found is None:
        return None
    return datetime.datetime.strptime(found.group(1), "%Y-%m-%d_%H-%M-%S_%f").timestamp()


def cluster_cpus() -> int:
    """The CPUs of the alive nodes (at least 1), from a listing up to
    :data:`CACHE_SECONDS` old: a cluster that grows or shrinks (an autoscaler,
    nodes joining) is seen within seconds, at no Ray call per submission."""
    return max(1, sum(w.nthreads for w in alive_workers(fresh=False)))


def scheduler_info(scheduler_address: str | None = None) -> dict:
    """distributed's ``scheduler_info()`` for the connected cluster.

    Besides distributed's keys, ``addresses`` lists the worker addresses and
    ``resources`` sums each resource over the cluster.
    """
    nodes = alive_workers()
    workers = [w for w in nodes if w.runs_tasks]
    totals: dict[str, float] = {}
    for w in workers:
        for name, amount in w.resources.items():
            totals[name] = totals.get(name, 0) + amount
    return {
        "type": "Scheduler",
        "id": "ray",
        "address": _tcp(scheduler_address) or (workers[0].address if workers else None),
        "services": {},
        "started": cluster_started(),
        "n_workers": len(workers),
        "total_threads": sum(w.nthreads for w in workers),
        "total_memory": machine_memory(workers, nodes),
        "workers": {w.address: w.as_dict() for w in workers},
        "addresses": [w.address for w in workers],
        "resources": totals,
    }


def _tcp(address: str | None) -> str | None:
    """A cluster address as distributed writes it: ``tcp://host:port``."""
    if not address or "://" in address:
        return address
    return f"tcp://{address}"


def machine_memory(workers: list[WorkerInfo], nodes: list[WorkerInfo] | None = None) -> int:
    """The memory of the workers, each machine counted at most once.

    Unless told otherwise, Ray gives a node the memory of its machine, less the
    object store: nodes sharing a machine each report all of it.  Per machine,
    the workers' memory is added up to at most what a node there (any of
    ``nodes``, the head too) saw the machine have (its memory and its object
    store); workers given less (``memory_limit``) add up as in distributed.

    >>> node = WorkerInfo("tcp://h:1", "a", "h", 1, 6 * 2**30, {}, object_store_memory=2**31)
    >>> machine_memory([node, node]) / 2**30    # one machine of 8 GiB, not 12
    8.0
    >>> small = WorkerInfo("tcp://h:2", "b", "h", 1, 2**30, {}, object_store_memory=2**27)
    >>> machine_memory([small, small], [node, small, small]) / 2**30
    2.0
    """
    seen: dict[str, int] = {}
    for w in nodes or workers:
        seen[w.host] = max(seen.get(w.host, 0), w.memory_limit + w.object_store_memory)
    total: dict[str, int] = {}
    for w in workers:
        total[w.host] = total.get(w.host, 0) + w.memory_limit
    return sum(min(amount, seen.get(host, amount)) for host, amount in total.items())


def locations(refs: list, settle: float = 2.0,
              ready_timeout: float = 30.0) -> list[list[str]]:
    """For each finished ObjectRef, the addresses of the workers holding a copy.

    Small objects (up to Ray's 100 KB inline limit) are kept in the memory of
    the process that owns them, not in a node's object store; they are
    reported on the owner's node -- this process's.  A large object whose
    location Ray has not recorded yet (it is reported a moment after the
    task ends) is asked about again for up to ``settle`` seconds; one still
    being created is waited for up to ``ready_timeout`` seconds.
    """
    import ray
    from ray.experimental import get_object_locations

    if not refs:
        return []
    # Scattered data is "finished" as soon as its ref exists; the object may
    # still be on its way to the chosen node.  Wait for it without fetching it.
    unique = list(dict.fromkeys(refs))
    ray.wait(unique, num_returns=len(unique), timeout=ready_timeout, fetch_local=False)
    by_id = {w.node_id: w.address for w in alive_workers(fresh=False)}
    here = by_id.get(ray.get_runtime_context().get_node_id())
    result: dict[int, list[str]] = {}
    todo = list(enumerate(refs))
    deadline = time.monotonic() + settle
    while todo:
        found = get_object_locations([ref for _, ref in todo], timeout_ms=10_000)
        waiting = []
        for i, ref in todo:
            info = found.get(ref) or {}
            node_ids, size = info.get("node_ids") or [], info.get("object_size")
            if node_ids:
                result[i] = [by_id[n] for n in node_ids if n in by_id]
            elif size is not None and size <= INLINE_LIMIT:
                result[i] = [here] if here else []
            else:
                waiting.append((i, ref))
                result[i] = []
        if not waiting or time.monotonic() >= deadline:
            break
        todo = waiting
        time.sleep(0.05)
    return [result[i] for i in range(len(refs))]
