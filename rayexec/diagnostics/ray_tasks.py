"""Ray's record of the tasks it ran: states, timings, nodes.  This module owns those Ray calls.

Ray keeps, for every task, the times of its state changes (``PENDING_ARGS_AVAIL``,
``SUBMITTED_TO_WORKER``, ``RUNNING``, ``FINISHED``/``FAILED``), the node and
worker process that ran it, and profile phases inside the worker
(``task:deserialize_arguments``, ``task:execute``, ``task:store_outputs``).
The dashboard, ``ray list tasks``, ``ray summary tasks`` and ``ray timeline``
all read these task events; the task stream, ``story`` and ``processing`` read
them too.  Workers report them about once a second, so a task shows up here
up to a second after it changed state.

>>> task = RayTask("ab", "inc-1", "inc", "01000000", "n1", "w1",
...                {"RUNNING": 2.0, "FINISHED": 3.0}, [("task:execute", 2.0, 3.0)], "")
>>> task.state, task.running, task.processing
('FINISHED', False, False)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Ray's terminal task states.
DONE_STATES = ("FINISHED", "FAILED")
# The states of a task a worker process holds.
HANDED_STATES = ("SUBMITTED_TO_WORKER", "RUNNING")


@dataclass(frozen=True)
class RayTask:
    """One attempt of one Ray task, as Ray's task events describe it.

    Times are seconds since the epoch, as ``time.time()`` gives.
    """

    task_id: str
    name: str
    function: str
    job_id: str
    node_id: str | None
    worker_id: str | None
    states: dict[str, float]  # Ray state name -> when the task entered it
    phases: list[tuple[str, float, float]]  # (profile event, start, stop) inside the worker
    error: str  # Ray's error message for a failed task, else ""
    attempt: int = 0
    pid: int | None = None  # the worker process that ran it

    @property
    def state(self) -> str:
        """The latest state Ray recorded."""
        return max(self.states, key=self.states.get) if self.states else "NIL"

    @property
    def running(self) -> bool:
        return "RUNNING" in self.states and not any(s in self.states for s in DONE_STATES)

    @property
    def processing(self) -> bool:
        """Handed to a worker process and not ended: distributed's *processing*.
        The submitter reports the hand-over, the worker the start: the first of
        the two to arrive tells it."""
        return (any(s in self.states for s in HANDED_STATES) and self.node_id is not None
                and not any(s in self.states for s in DONE_STATES))

    @property
    def failed(self) -> bool:
        return "FAILED" in self.states


def report_interval() -> float:
    """Seconds between two reports of task events: this process's setting, which
    the nodes rayexec starts share (0.1 s); Ray's default, 1 s, elsewhere."""
    return int(os.environ.get("RAY_task_events_report_interval_ms", "1000")) / 1000


def current_job() -> str:
    """The hex id of this driver's Ray job."""
    import ray

    return ray.get_runtime_context().get_job_id()


def tasks(job_id: str | None = None) -> list[RayTask]:
    """Every task and actor-call attempt Ray holds events for; only ``job_id``'s if given.

    Ray's public reader of task events, ``ray.util.state.list_tasks``, asks the
    dashboard, which a cluster may run without (the default for ``Client()``).
    The task events themselves live in Ray's control store (GCS); this is the
    one place that reads them from there, through the reader ``ray timeline``
    uses (``ray._private.state``), which needs no dashboard.
    """
    import ray
    from ray._private.state import state as global_state
    from ray.core.generated import common_pb2

    if not ray.is_initialized():
        raise RuntimeError("not connected to Ray: create a Client first")
    merged: dict[tuple[bytes, int], dict] = {}
    for event in global_state._get_all_task_events():
        info = event.task_info
        entry = merged.setdefault((event.task_id, event.attempt_number), {
            "name": "", "function": "", "job_id": "", "node_id": None, "worker_id": None,
            "states": {}, "phases": [], "error": "", "pid": None, "type": None})
        if event.HasField("task_info"):
            entry.update(name=info.name, function=info.func_or_class_name,
                         job_id=info.job_id.hex(), type=info.type)
            if info.node_id:
                entry["node_id"] = info.node_id.hex()
        if event.HasField("state_updates"):
            updates = event.state_updates
            for status, ns in updates.state_ts_ns.items():
                entry["states"][common_pb2.TaskStatus.Name(status)] = ns / 1e9
            if updates.node_id:
                entry["node_id"] = updates.node_id.hex()
            if updates.worker_id:
                entry["worker_id"] = updates.worker_id.hex()
            if updates.worker_pid:
                entry["pid"] = updates.worker_pid
            if updates.HasField("error_info"):
                entry["error"] = updates.error_info.error_message
        for phase in event.profile_events.events:
            entry["phases"].append((phase.event_name, phase.start_time / 1e9,
                                    phase.end_time / 1e9))
    found = []
    for (task_id, attempt), entry in merged.items():
        # Tasks and actor method calls (single calls may run on executor actors);
        # not the creation of actors.
        if entry.pop("type") not in (common_pb2.TaskType.NORMAL_TASK,
                                     common_pb2.TaskType.ACTOR_TASK):
            continue
        if job_id is not None and entry["job_id"] != job_id:
            continue
        entry["phases"].sort(key=lambda phase: phase[1])
        found.append(RayTask(task_id.hex(), attempt=attempt, **entry))
    found.sort(key=lambda task: min(task.states.values(), default=0.0))
    return found
