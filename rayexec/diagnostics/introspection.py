"""What the cluster is doing, in distributed's shapes, read from Ray's task events.

Keys: Ray names a task by its keys' prefix (``rayexec.keys.task_name``); the
keys themselves are found through the futures the client holds, whose objects
the task returns, or, once those are released, among the single-key tasks the
process remembers.  Ray learns of state changes from the processes every 0.1 s
on clusters rayexec starts (about once a second elsewhere), so what is shown
here may be that old.

>>> transitions("inc-1", "ab12", {"PENDING_ARGS_AVAIL": 1.0, "RUNNING": 2.0, "FINISHED": 3.0})
[('scheduler', 'inc-1', 'released', 'PENDING_ARGS_AVAIL', {}, 'ray-task-ab12', 1.0),
 ('scheduler', 'inc-1', 'PENDING_ARGS_AVAIL', 'RUNNING', {}, 'ray-task-ab12', 2.0),
 ('scheduler', 'inc-1', 'RUNNING', 'FINISHED', {}, 'ray-task-ab12', 3.0)]
"""

from __future__ import annotations

import re
import time
from collections import defaultdict

from .. import defaults
from ..keys import recent_task_key
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
    """The keys ``task`` computes: those of held futures, else the one it is
    remembered for, else the task's name (its keys' prefixes)."""
    if found := held.get(task.task_id):
        return found
    key = recent_task_key(task.task_id)
    return [task.name] if key is None else [key]


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
    """Worker address -> keys of the tasks running there, and of the single calls
    sent to its executor actors (every worker, idle ones too)."""
    where = addresses()
    wanted = _selected(workers)
    result = {address: [] for address in where.values()
              if wanted is None or address in wanted}
    held: dict[str, list[str]] = {}
    ended: set[str] = set()
    sent: dict[str, str] = {}  # task id -> node id of calls sent to executor actors
    for each in {client, *defaults.open_clients()}:
        for task_id, keys in keys_by_task(each).items():
            held.setdefault(task_id, []).extend(keys)
        if (pool := getattr(each, "_executors", None)) is not None:
            sent.update(pool.sent_calls())
        # Ray's events lag; a client learns of its own tasks' ends at once (their
        # receipts), so a key it knows has ended is not running.
        with each._lock:
            ended.update(key for key, state in each._states.items() if state.done())
    job = ray_tasks.current_job()
    if _pending_ray_tasks(held, ended, sent):
        # A task handed over in the last moment is not in Ray's events yet: they
        # are sent once per report interval, then stored by Ray's control store, so
        # two intervals later it is.  (Reading them takes longer than that wait
        # once Ray holds many: they are read once.)
        time.sleep(2 * ray_tasks.report_interval() + 0.05)
    for task in ray_tasks.tasks():
        address = where.get(task.node_id)
        # Calls sent to executor actors are counted below, where the client knows
        # their node; Ray's events of a queued actor call may name another.
        if not task.processing or address not in result or task.task_id in sent:
            continue
        # A task of this process that no open client holds a key of was released
        # (its futures dropped, cancelled, or their client closed) or is rayexec's
        # own (a coordination call, a copy): distributed's scheduler has forgotten
        # such keys, even while a worker still runs the code.
        if task.job_id == job and task.task_id not in held:
            continue
        result[address].extend(k for k in task_keys(task, held) if k not in ended)
    # Calls sent to an executor actor are processing on its node from the moment
    # they are sent, queued there or running, as a task handed to a distributed
    # worker is; the client knows them without waiting for Ray's events.
    for task_id, node_id in sent.items():
        address = where.get(node_id)
        if address in result and task_id in held:
            result[address].extend(k for k in held[task_id] if k not in ended)
    return {address: list(dict.fromkeys(keys)) for address, keys in result.items()}


def _pending_ray_tasks(held: dict, ended: set, sent: dict) -> bool:
    """Whether the clients hold a task not ended that runs as a Ray task (not as a
    call to an executor actor, which the client knows the node of)."""
    return any(task_id not in sent and any(key not in ended for key in keys)
               for task_id, keys in held.items())


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


def py_spy_dump(pids: list[int]) -> dict[int, str]:
    """Run on a node: ``py-spy dump`` of each process in ``pids`` (what ``ray stack`` does).

    Raises ``RuntimeError`` naming ``ray stack`` when py-spy is missing or may
    not read other processes here.
    """
    import os
    import shutil
    import subprocess
    import sys

    here = os.path.join(os.path.dirname(sys.executable), "py-spy")
    tool = here if os.path.exists(here) else shutil.which("py-spy")
    if tool is None:
        raise RuntimeError("py-spy is not installed on this node (pip install py-spy); "
                           "Ray's `ray stack` needs it too")
    dumps = {}
    for pid in pids:
        done = subprocess.run([tool, "dump", "--pid", str(pid)], capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"py-spy could not read process {pid}: "
                               f"{(done.stderr or done.stdout).strip()[:300]}; on Ray, "
                               "`ray stack` on the node (as root, or with ptrace allowed) "
                               "shows the same stacks")
        dumps[pid] = done.stdout
    return dumps


_FRAME = re.compile(r"^\s+(?P<func>.+?) \((?P<file>.+?):(?P<line>\d+)\)")


def main_thread_frames(dump: str) -> list[str]:
    """The task's stack (the process's main thread) from ``py-spy dump`` text, outermost
    call first, in traceback lines as distributed's ``call_stack`` gives them.

    >>> main_thread_frames('Thread 7 (active): "MainThread"\\n    slow (job.py:5)\\n'
    ...                    '    main_loop (worker.py:900)\\n')
    ['  File "worker.py", line 900, in main_loop\\n', '  File "job.py", line 5, in slow\\n']
    """
    frames: list[str] = []
    inside = False
    for line in dump.splitlines():
        if line.startswith("Thread "):
            inside = '"MainThread"' in line
            continue
        match = _FRAME.match(line) if inside else None
        if match:
            frames.append(f'  File "{match["file"]}", line {match["line"]}, in '
                          f'{match["func"]}\n')
    return frames[::-1]


def call_stack(client, keys=None) -> dict[str, dict[str, list[str]]]:
    """Worker address -> key -> the running call stack, for running tasks of ``keys``
    (all running tasks when None)."""
    wanted = None if keys is None else {str(k) for k in keys}
    where = {w.node_id: w for w in nodes.alive_workers()}
    held = keys_by_task(client)
    by_node: dict[str, dict[int, list[str]]] = defaultdict(dict)
    for task in ray_tasks.tasks():
        if not task.running or task.pid is None or task.node_id not in where:
            continue
        task_keys_ = [k for k in task_keys(task, held) if wanted is None or k in wanted]
        if task_keys_:
            by_node[task.node_id][task.pid] = task_keys_
    result: dict[str, dict[str, list[str]]] = {}
    for node_id, pids in by_node.items():
        worker = where[node_id]
        dumps = client.run(py_spy_dump, sorted(pids), workers=[worker.address])[worker.address]
        stacks = result.setdefault(worker.address, {})
        for pid, dump in dumps.items():
            frames = main_thread_frames(dump)
            for key in pids[pid]:
                stacks[key] = frames
    return result


def cluster_state(client, exclude=()) -> dict:
    """distributed's cluster-dump layout, filled from Ray: ``scheduler`` (Ray's cluster
    resources and every task Ray holds events for), ``workers`` (each node), ``versions``."""
    import dataclasses

    import ray

    excluded = set(exclude)

    def drop(record: dict) -> dict:
        return {k: v for k, v in record.items() if k not in excluded}

    workers = nodes.alive_workers()
    running = processing(client)
    return {
        "scheduler": drop({
            "address": client.scheduler_info()["address"],
            "cluster_resources": ray.cluster_resources(),
            "available_resources": ray.available_resources(),
            "nodes": [drop(dict(node)) for node in ray.nodes()],
            "tasks": [drop(dataclasses.asdict(task)) for task in ray_tasks.tasks()],
            "client_keys": {key: state.status for key, state in list(client._states.items())},
        }),
        "workers": {w.address: drop({**w.as_dict(), "processing": running.get(w.address, [])})
                    for w in workers},
        "versions": client.get_versions(),
    }


def write_cluster_state(state: dict, filename: str, format: str, storage_options: dict) -> str:
    """Write ``state`` as ``<filename>.msgpack.gz`` or ``<filename>.yaml``; the path."""
    import fsspec

    if format == "msgpack":
        import gzip

        import msgpack

        path = filename + ".msgpack.gz"
        blob = gzip.compress(msgpack.packb(state, default=str))
        with fsspec.open(path, "wb", **storage_options) as f:
            f.write(blob)
    elif format == "yaml":
        import json

        import yaml

        path = filename + ".yaml"
        plain = json.loads(json.dumps(state, default=str))  # yaml takes plain data only
        with fsspec.open(path, "w", **storage_options) as f:
            yaml.safe_dump(plain, f)
    else:
        raise ValueError(f"format must be 'msgpack' or 'yaml', got {format!r}")
    return path
