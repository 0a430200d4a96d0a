"""``get_worker()``: inside a task, the worker (Ray node) running it.

distributed hands tasks their ``Worker`` object; on Ray a worker is a node, so
:func:`get_worker` describes the node the calling task runs on, with the same
address ``client.nthreads()``, ``who_has`` and ``workers=`` use.

>>> def where():
...     return get_worker().address
>>> client.submit(where, workers=[address]).result() == address  # doctest: +SKIP
True
"""

from __future__ import annotations

from dataclasses import dataclass

from .nodes import alive_workers


@dataclass(frozen=True)
class Worker:
    """The worker running the current task, as far as Ray can tell it."""

    address: str
    id: str  # the Ray node id
    host: str
    nthreads: int
    memory_limit: int
    resources: dict

    @property
    def name(self) -> str:
        return self.address

    @property
    def worker_address(self) -> str:
        return self.address


_current: Worker | None = None  # a Ray worker process stays on its node for life


def get_worker() -> Worker:
    """The worker (Ray node) running the current task.

    Raises ``ValueError("No worker found")`` outside a task, as distributed does.
    """
    global _current
    if _current is not None:
        return _current
    import ray

    if not ray.is_initialized() or ray.get_runtime_context().worker.mode != ray.WORKER_MODE:
        raise ValueError("No worker found")
    node_id = ray.get_runtime_context().get_node_id()
    for info in alive_workers():
        if info.node_id == node_id:
            _current = Worker(info.address, info.node_id, info.host, info.nthreads,
                              info.memory_limit, dict(info.resources))
            return _current
    raise ValueError(f"No worker found: this task's node {node_id} is not among the alive nodes")
