"""distributed's task stream, built from Ray's task events.

One record per finished Ray task of this driver's job, in distributed's shape::

    {"key": "inc-1c8d...", "worker": "tcp://10.0.0.5:40000", "thread": 4242,
     "status": "OK", "startstops": [{"action": "transfer", "start": ..., "stop": ...},
                                    {"action": "compute", "start": ..., "stop": ...}],
     "metadata": {}, "ray_task_id": "..."}

``key`` is the Ray task's name: the key for a task that computes one key (every
``submit``), the function name for a batched ``map`` task, the main key
prefixes for a part of a dask graph.  ``transfer`` is Ray's
``task:deserialize_arguments`` phase (fetching and reading the inputs),
``compute`` its ``task:execute``; times are ``time.time()`` seconds.

>>> record(ray_tasks.RayTask("ab", "inc-1", "inc", "01", "n1", "w1",
...        {"RUNNING": 1.0, "FINISHED": 2.0},
...        [("task:deserialize_arguments", 1.0, 1.25), ("task:execute", 1.25, 2.0)], ""),
...        {"n1": "tcp://10.0.0.5:40000"})["startstops"]
[{'action': 'transfer', 'start': 1.0, 'stop': 1.25}, {'action': 'compute', 'start': 1.25, 'stop': 2.0}]
"""

from __future__ import annotations

import time

from dask.utils import parse_timedelta

from . import introspection, ray_tasks

# Ray's phases inside a worker, in distributed's task-stream actions.
ACTIONS = {"task:deserialize_arguments": "transfer", "task:execute": "compute"}
# Workers send task events to Ray's control store about once a second
# (RAY_task_events_report_interval_ms); reading sooner would miss the last tasks.
REPORT_DELAY = 1.5

# When this process first asked for the task stream (None: not yet).  Ray records
# every task anyway; the stream shows those since then, as distributed's, which
# starts recording when the task stream is first asked for ("call this function
# once before you start work to ensure that things start recording").
_recording_since: float | None = None


def start_recording(at: float | None = None) -> float:
    """Start the task stream at ``at`` (default now) unless it started earlier; when
    it started.

    >>> start_recording(5.0) <= 5.0
    True
    """
    global _recording_since
    at = time.time() if at is None else at
    if _recording_since is None or at < _recording_since:
        _recording_since = at
    return _recording_since


def record(task: ray_tasks.RayTask, where: dict[str, str], held: dict | None = None) -> dict:
    """The task-stream record of one finished Ray task; ``where`` maps node ids to
    worker addresses, ``held`` task ids to the keys of held futures they computed.
    Ray names tasks by key prefix: a task's own key comes from the futures held, or
    from the tasks rayexec remembers (``rayexec.keys.remember_task``)."""
    startstops = [{"action": ACTIONS[name], "start": start, "stop": stop}
                  for name, start, stop in task.phases if name in ACTIONS]
    if not startstops:  # Ray's profiling off: the task's running time as one phase
        start = task.states.get("RUNNING", min(task.states.values()))
        startstops = [{"action": "compute", "start": start, "stop": end_time(task)}]
    return {
        "key": keys[0] if len(keys := introspection.task_keys(task, held or {})) == 1
        else task.name,
        "worker": where.get(task.node_id, f"ray-node:{task.node_id}"),
        "thread": task.pid,
        "status": "error" if task.failed else "OK",
        "startstops": startstops,
        "metadata": {},
        "ray_task_id": task.task_id,
    }


def end_time(task: ray_tasks.RayTask) -> float:
    """When the task's work ended: its last phase in the worker (the client may learn of
    the result, and Ray record the task finished, a little later)."""
    if task.phases:
        return max(stop for _, _, stop in task.phases)
    return max(task.states.get(s, 0.0) for s in ray_tasks.DONE_STATES)


def _as_time(value, now: float) -> float | None:
    """A point in time: a ``time()`` number, or a string such as ``"60s"`` meaning that
    long before ``now`` (as distributed takes them)."""
    if value is None:
        return None
    if isinstance(value, str):
        return now - parse_timedelta(value)
    if isinstance(value, (int, float)):
        return float(value)
    raise TypeError(f"start and stop must be time() numbers or durations such as '60s', "
                    f"got {value!r}")


def collect(start=None, stop=None, count=None, held: dict | None = None) -> list[dict]:
    """Records of this job's tasks that finished between ``start`` and ``stop``, oldest
    first; the last ``count`` when given.  Without ``start``, those since the task
    stream started recording (:func:`start_recording`, which a first call does);
    Ray keeps the earlier ones too, so an explicit ``start`` may reach before that.

    Tasks that finished just now reach Ray's records within about a second:
    this waits until those have arrived.
    """
    now = time.time()
    since = start_recording(now)
    start, stop = _as_time(start, now), _as_time(stop, now)
    if start is None:
        start = since
    if count is not None and (not isinstance(count, int) or count < 0):
        raise ValueError(f"count must be a non-negative int, got {count!r}")
    time.sleep(max(0.0, (now if stop is None else min(stop, now)) + REPORT_DELAY - time.time()))
    where = introspection.addresses()
    finished = [t for t in ray_tasks.tasks(ray_tasks.current_job())
                if any(s in t.states for s in ray_tasks.DONE_STATES)]
    records = []
    for task in sorted(finished, key=end_time):
        done = end_time(task)
        if (start is None or done >= start) and (stop is None or done <= stop):
            records.append(record(task, where, held))
    if count is not None:
        records = records[len(records) - count:] if count else []
    return records


class get_task_stream:
    """Collect the task stream of the work done inside a ``with`` block.

    ``.data`` holds distributed's task-stream records afterwards; ``plot=True``
    also makes a bokeh figure (``.figure``), ``plot="save"`` writes it to
    ``filename`` too.

    >>> with get_task_stream() as ts:           # doctest: +SKIP
    ...     client.gather(client.map(inc, range(10)))
    >>> sorted({r["key"].split("-")[0] for r in ts.data})  # doctest: +SKIP
    ['inc']
    """

    def __init__(self, client=None, plot=False, filename="task-stream.html"):
        self.client = client
        self.plot = plot
        self.filename = filename
        self.data: list[dict] = []
        self.figure = None

    def __enter__(self) -> get_task_stream:
        from ..defaults import default_client

        self.client = self.client or default_client()
        self.start = time.time()
        start_recording(self.start)
        return self

    def __exit__(self, *exc) -> None:
        result = self.client.get_task_stream(start=self.start, plot=self.plot,
                                             filename=self.filename)
        if self.plot:
            self.data, self.figure = result
        else:
            self.data = result

    async def __aenter__(self) -> get_task_stream:
        return self.__enter__()

    async def __aexit__(self, *exc) -> None:
        from ..asynchronous import in_thread

        await in_thread(self.__exit__, *exc)
