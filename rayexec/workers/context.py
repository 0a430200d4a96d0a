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

import threading
from dataclasses import dataclass

from ..defaults import inside_task
from .nodes import alive_workers


@dataclass(frozen=True)
class SchedulerAddress:
    """What :attr:`Client.scheduler` and ``Worker.scheduler`` give: the address of
    the cluster's head."""

    address: str


@dataclass(eq=False)
class Worker:
    """The worker running the current task, as far as Ray can tell it.

    One object per worker process, as distributed's ``Worker``: attributes a
    preload's ``dask_setup(worker)`` or a plugin's ``setup`` sets on it are there
    for every later task of the process (``get_worker().db``).
    """

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

    @property
    def scheduler(self) -> SchedulerAddress:
        """The head of the cluster this worker belongs to (``.address``)."""
        return SchedulerAddress(_head_address())


_current: Worker | None = None  # a Ray worker process stays on its node for life


def get_worker() -> Worker:
    """The worker (Ray node) running the current task.

    Raises ``ValueError("No worker found")`` outside a task, as distributed does.
    """
    global _current
    if _current is not None:
        return _current
    if not inside_task():
        raise ValueError("No worker found")
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    for info in alive_workers():
        if info.node_id == node_id:
            _current = Worker(info.address, info.node_id, info.host, info.nthreads,
                              info.memory_limit, dict(info.resources))
            return _current
    raise ValueError(f"No worker found: this task's node {node_id} is not among the alive nodes")


def _head_address() -> str:
    import ray

    return "tcp://" + ray.get_runtime_context().gcs_address


class ThreadState(threading.local):
    """distributed's ``thread_state``: per-thread attributes, and ``execution_state``
    inside a task.

    Libraries ask ``hasattr(thread_state, "execution_state")`` to learn whether
    they run inside a task (joblib then secedes before waiting for the tasks
    it submitted).  distributed sets that attribute on the thread running the
    task; on Ray, a task runs in a worker process that runs nothing but tasks,
    so it is there in every Ray worker process and absent on the client.  It
    holds what distributed's holds: the ``worker`` running the task (see
    :func:`get_worker`) and the ``scheduler`` address.  Other attributes are
    plain per-thread storage, as in distributed.

    >>> hasattr(thread_state, "execution_state")      # on the client
    False
    """

    @property
    def execution_state(self) -> dict:
        if not inside_task():
            raise AttributeError("execution_state: not inside a task")
        return {"worker": get_worker(), "scheduler": _head_address()}


thread_state = ThreadState()
