"""distributed's placement hints as Ray task options.

``workers=`` (addresses, hosts or IPs) pins to Ray nodes, ``allow_other_workers``
makes the pin soft, ``resources=`` becomes Ray resources (``{"GPU": 1}`` ->
``num_gpus``), ``retries=`` becomes Ray retries that also cover the task's own
exceptions.  A request no node can satisfy is refused at submit time with an
error that names it, rather than left pending forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .workers import WorkerInfo, alive_workers


class PlacementError(ValueError):
    """A placement hint no worker of the cluster can satisfy."""


def resource_options(resources: dict[str, float] | None) -> dict:
    """Ray options for distributed-style ``resources``.

    >>> resource_options({"GPU": 1, "CPU": 2, "memory": 10, "special": 1})
    {'num_gpus': 1, 'num_cpus': 2, 'memory': 10, 'resources': {'special': 1}}
    """
    if not resources:
        return {}
    if not isinstance(resources, dict):
        raise TypeError(f"resources must be a dict of name -> amount, got {resources!r}")
    options: dict[str, Any] = {}
    custom = {}
    for name, amount in resources.items():
        if name == "GPU":
            options["num_gpus"] = amount
        elif name == "CPU":
            options["num_cpus"] = amount
        elif name == "memory":
            options["memory"] = amount
        else:
            custom[name] = amount
    if custom:
        options["resources"] = custom
    return options


def match_workers(hints: Iterable[str], workers: list[WorkerInfo]) -> list[WorkerInfo]:
    """The workers named by ``hints``: full addresses, ``host:port``, hosts or IPs."""
    matched: dict[str, WorkerInfo] = {}
    for hint in hints:
        if not isinstance(hint, str):
            raise TypeError(f"a worker is named by an address string, got {hint!r}")
        bare = hint[len("tcp://"):] if hint.startswith("tcp://") else hint
        found = [w for w in workers
                 if w.address == hint or w.address == f"tcp://{bare}" or w.host == bare
                 or w.node_id == hint]
        if not found:
            known = ", ".join(w.address for w in workers)
            raise PlacementError(f"unknown worker {hint!r}; the workers are: {known}")
        for w in found:
            matched[w.address] = w
    return list(matched.values())


def worker_options(workers, allow_other_workers: bool = False) -> dict:
    """Ray scheduling options pinning a task to ``workers``."""
    if workers is None:
        if allow_other_workers:
            raise ValueError("Only use allow_other_workers= if using workers=")
        return {}
    if isinstance(workers, str):
        workers = [workers]
    if not isinstance(workers, (list, tuple, set)):
        raise TypeError("workers must be a list or set of workers or None")
    chosen = match_workers(workers, alive_workers())
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if len(chosen) == 1:
        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(
            chosen[0].node_id, soft=allow_other_workers)}
    node_ids = ",".join(w.node_id for w in chosen)
    options: dict[str, Any] = {"label_selector": {"ray.io/node-id": f"in({node_ids})"}}
    if allow_other_workers:
        options["fallback_strategy"] = [{"label_selector": {}}]
    return options


def check_feasible(resources: dict | None) -> None:
    """Refuse ``resources`` no alive worker has enough of."""
    if not resources:
        return
    workers = alive_workers()
    for w in workers:
        if all(w.resources.get(name, 0) >= amount for name, amount in resources.items()):
            return
    have = {w.address: w.resources for w in workers}
    raise PlacementError(f"no worker has the resources {resources}; workers have {have}")


def task_options(*, workers=None, resources=None, allow_other_workers=False,
                 retries=None) -> dict:
    """All Ray options for one submission's hints."""
    options = {}
    if retries:
        options.update(max_retries=int(retries), retry_exceptions=True)
    if resources:
        check_feasible(resources)
        options.update(resource_options(resources))
    options.update(worker_options(workers, allow_other_workers))
    return options
