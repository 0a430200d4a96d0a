"""Ray settings a process needs before it connects, so that faults end in errors.

Ray reads these from the environment of the process that connects (they are
per process, not per cluster), so they are set just before ``ray.init``; a
value the user set wins.
"""

from __future__ import annotations

import contextlib
import os

_RECONNECT = "RAY_gcs_rpc_server_reconnect_timeout_s"


@contextlib.contextmanager
def _default_while(name: str, value: str):
    """``os.environ[name] = value`` inside the block, unless the user set ``name``."""
    before = os.environ.get(name)
    if before is None:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)


def bounded_memory_retries():
    """While connecting: retry a task killed by Ray's memory monitor as often as
    distributed would.

    Ray retries such a task without end by default (``task_oom_retries``), so a
    task that needs more memory than its node has would keep its future
    pending forever.  distributed gives up on a task whose workers died
    ``distributed.scheduler.allowed-failures`` times (3) with ``KilledWorker``;
    rayexec then raises ``WorkerOutOfMemory``, a ``KilledWorker``.  Set only
    while Ray's processes start: a program the user starts later must not
    inherit this process's setting in place of its own.

    >>> import dask
    >>> with dask.config.set({"distributed.scheduler.allowed-failures": 2}):
    ...     with bounded_memory_retries():
    ...         os.environ.get("RAY_task_oom_retries")
    '2'
    """
    import dask.config

    allowed = dask.config.get("distributed.scheduler.allowed-failures", 3)
    return _default_while("RAY_task_oom_retries", str(int(allowed)))


def outliving_the_head():
    """While connecting: Ray must not end this process when the head goes away.

    A process connected to a cluster exits -- the user's whole program -- once
    the head has been unreachable for a minute (``gcs_rpc_server_reconnect_timeout_s``).
    A client reports a lost head on its futures instead (``deploy.watch``), so
    the wait is made long for the connection.  Only for the connection: node
    processes this program starts later keep Ray's default, and still stop
    when their head is gone.

    >>> with outliving_the_head():
    ...     int(os.environ[_RECONNECT]) >= 24 * 3600
    True
    """
    return _default_while(_RECONNECT, str(7 * 24 * 3600))
