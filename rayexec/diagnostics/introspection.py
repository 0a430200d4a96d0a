"""What the cluster is doing, in distributed's shapes, read from Ray's task events.

Keys: a Ray task started by ``submit`` is named by its key; a task that
computes several keys (a batched ``map``, a part of a dask graph) is found
through the futures the client holds, whose objects that task returns.  Ray
learns of state changes from its workers about once a second, so what is shown
here may be up to a second old.

>>> transitions("inc-1", "ab12", {"PENDING_ARGS_AVAIL": 1.0, "RUNNING": 2.0, "FINISHED": 3.0})
[('scheduler', 'inc-1', 'released', 'PENDING_ARGS_AVAIL', {}, 'ray-task-ab12', 1.0),
 ('scheduler', 'inc-1', 'PENDING_ARGS_AVAIL', 'RUNNING', {}, 'ray-task-ab12', 2.0),
 ('scheduler', 'inc-1', 'RUNNING', 'FINISHED', {}, 'ray-task-ab12', 3.0)]
"""

from __future__ import annotations

from collections import defaultdict

from ..workers import nodes
from . import ray_tasks


def keys_by_task(client) -> dict[str, list[str]]:
    """Ray task id -> the keys of ``client``'s futures whose values that task returns."""
    found: dict[str, list[str]] = defaultdict(list)
    with client._lock:
        states = list(client._states.values())
    for state in states:
        ref = state.ref
        if ref is not None and hasattr(ref, "task_id"):
            found[ref.task_id().hex()].append(state.key)
    return found


def task_keys(task: ray_tasks.RayTask, held: dict[str, list[str]]) -> list[str]:
    """The keys ``task`` computes: those of held futures, else the task's name."""
    return held.get(task.task_id) or [task.name]


def addresses() -> dict[str, str]:
    """Ray node id -> worker address, for the alive nodes that run tasks."""
    return {w.node_id: w.address for w in nodes.alive_workers() if w.runs_tasks}


def _selected(workers) -> set[str] | None:
    if workers is None:
        return None
    if isinstance(workers, str):
        workers = [workers]
    return set(workers)


def processing(client, workers=None) -> dict[str, list[str]]:
    """Worker address -> keys of the tasks running there (every worker, idle ones too)."""
    where = addresses()
    wanted = _selected(workers)
    result = {address: [] for address in where.values()
              if wanted is None or address in wanted}
    held = keys_by_task(client)
    for task in ray_tasks.tasks():
        address = where.get(task.node_id)
        if task.running and address in result:
            result[address].extend(task_keys(task, held))
    return result


def transitions(key: str, task_id: str, states: dict[str, float]) -> list[tuple]:
    """distributed's story entries ``(source, key, start, finish, recommendations,
    stimulus_id, timestamp)`` for one Ray task's states; the states keep Ray's names."""
    ordered = sorted(states.items(), key=lambda item: item[1])
    previous = "released"
    story = []
    for state, when in ordered:
        story.append(("scheduler", key, previous, state, {}, f"ray-task-{task_id}", when))
        previous = state
    return story


def story(client, keys, on_error: str = "raise") -> list[tuple]:
    """The state transitions Ray recorded for the tasks computing ``keys``, oldest first.

    A key no task of Ray's computed (yet) has no entries, as in distributed.
    """
    if on_error not in ("raise", "ignore"):
        raise ValueError(f"on_error must be 'raise' or 'ignore', got {on_error!r}")
    wanted = {str(k) for k in keys}
    held = keys_by_task(client)
    entries: list[tuple] = []
    try:
        found = ray_tasks.tasks()
    except Exception:
        if on_error == "raise":
            raise
        return []
    for task in found:
        for key in task_keys(task, held):
            if key in wanted:
                entries.extend(transitions(key, task.task_id, task.states))
    entries.sort(key=lambda entry: entry[-1])
    return entries
