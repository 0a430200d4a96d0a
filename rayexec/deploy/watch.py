"""Noticing that the Ray cluster a client uses has gone away.

When a Ray head node dies, a connected process learns nothing for a long
time: a ``ray.get`` on a task that was running there waits forever, and Ray
ends the whole process once the head has been unreachable for a minute.  A
:class:`HeadWatch` probes the head's port every second from a daemon thread
and reports, once, when it has not answered for ``rayexec.head-timeout``
(dask config, default 10 s), so the client can fail its futures with a clear
error while the process lives on.  (A head that Ray's GCS fault tolerance
restarts within that time goes unnoticed; raise it for slower restarts.)

>>> watch = HeadWatch("127.0.0.1:1", on_lost=print, interval=0.05, timeout=0.1)
>>> watch.start().join(5)  # nothing listens on port 1: reported after two misses
the Ray cluster at 127.0.0.1:1 stopped answering ...
"""

from __future__ import annotations

import math
import socket
import threading
from collections.abc import Callable

from ..errors import ClusterLostError


class HeadWatch:
    """Probe ``address`` (``host:port`` of the head) and call ``on_lost(error)`` once.

    Failed probes ``interval`` seconds apart for ``timeout`` seconds in a row
    mean the head is gone: one refused connection could be a passing hiccup.
    ``stop()`` ends the watch without a report.
    """

    def __init__(self, address: str, on_lost: Callable[[ClusterLostError], object], *,
                 interval: float = 1.0, timeout: float | None = None):
        host, _, port = address.rpartition(":")
        self.address = address
        self._target = (host, int(port))
        self._on_lost = on_lost
        self._interval = interval
        self._timeout = head_timeout() if timeout is None else timeout
        self._misses = max(1, math.ceil(self._timeout / interval))
        self._probe_timeout = max(interval, 5.0)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"rayexec-head-watch-{address}")

    def start(self) -> HeadWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def answers(self) -> bool:
        """Whether the head's port takes a connection now."""
        try:
            with socket.create_connection(self._target, timeout=self._probe_timeout):
                return True
        except OSError:
            return False

    def _run(self) -> None:
        missed = 0
        while not self._stopped.wait(self._interval):
            missed = 0 if self.answers() else missed + 1
            if missed >= self._misses and not self._stopped.is_set():
                self._on_lost(ClusterLostError(
                    f"the Ray cluster at {self.address} stopped answering for "
                    f"{self._timeout:g} s: its head node is gone, and with it the "
                    "results of every future of this client"))
                return


def head_timeout() -> float:
    """Seconds without an answer from the head before a client calls it lost."""
    import dask.config
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("rayexec.head-timeout", "10s"), default="s"))


def head_address() -> str | None:
    """``host:port`` of the connected cluster's head node; None without one (Ray Client)."""
    import ray

    try:
        return ray.get_runtime_context().gcs_address or None
    except Exception:  # Ray Client mode (ray://) has no GCS address in this process
        return None


# Seconds a client's close() waits for Ray to let go of a lost cluster.
LOST_CLOSE_WAIT = 10


def close_lost(close: Callable[[], object]) -> None:
    """Run ``close()``, which lets go of a cluster whose head is gone, without hanging.

    ``ray.shutdown()`` then waits on the dead head for a while; it runs on a
    daemon thread and the caller goes on after ``LOST_CLOSE_WAIT`` seconds.
    """
    closing = threading.Thread(target=close, daemon=True, name="rayexec-close-lost")
    closing.start()
    closing.join(LOST_CLOSE_WAIT)
