"""``cluster.adapt()`` on a LocalCluster: add nodes while every CPU is busy, remove idle ones.

distributed's ``Adaptive`` asks its scheduler how long the queued work would
take.  Ray does not say that; it says which CPUs are free.  So every
``interval`` seconds: when no CPU of the cluster is free, one more node starts
(up to ``maximum``); when the cluster has been fully idle ``wait_count`` times
in a row, the newest node stops (down to ``minimum``).  The count never leaves
``[minimum, maximum]``.  It reads the Ray this process is connected to (a
``Client(cluster)``); without one it only keeps the count inside the bounds.

>>> adaptive = cluster.adapt(minimum=1, maximum=4)  # doctest: +SKIP
>>> adaptive.stop()                                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import threading

from dask.utils import parse_timedelta

logger = logging.getLogger(__name__)


class Adaptive:
    """Keeps a cluster's worker count between ``minimum`` and ``maximum``, following the work."""

    def __init__(self, cluster, minimum: float = 0, maximum: float = math.inf,
                 interval="1s", wait_count: int = 3, **kwargs):
        if minimum < 0 or maximum < minimum:
            raise ValueError(f"adapt needs 0 <= minimum <= maximum, got minimum={minimum}, "
                             f"maximum={maximum}")
        self.cluster = cluster
        # the head is a worker too and always stays: at least one node
        self.minimum = max(1, int(minimum))
        self.maximum = max(self.minimum, maximum)
        self.interval = parse_timedelta(interval)
        self.wait_count = wait_count
        self._idle = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rayexec-adapt")
        self._thread.start()

    def recommendation(self, n: int, busy: bool | None, idle: bool | None) -> int:
        """The worker count to have next, given ``n`` now and how loaded the cluster is.

        >>> a = Adaptive.__new__(Adaptive); a.minimum, a.maximum, a.wait_count = 1, 3, 2
        >>> a._idle = 0
        >>> a.recommendation(1, busy=True, idle=False)
        2
        >>> a.recommendation(3, busy=True, idle=False)
        3
        """
        self._idle = self._idle + 1 if idle else 0
        target = n
        if busy:
            target = n + 1
        elif idle and self._idle >= self.wait_count:
            target, self._idle = n - 1, 0
        return int(min(max(target, self.minimum), self.maximum))

    def _load(self) -> tuple[bool | None, bool | None]:
        import ray

        if not ray.is_initialized():
            return None, None
        total = ray.cluster_resources().get("CPU", 0)
        free = ray.available_resources().get("CPU", 0)
        return total > 0 and free < 1, free >= total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                n = len(self.cluster.workers)
                target = self.recommendation(n, *self._load())
                if target != n:
                    self.cluster.scale(target)
            except Exception:  # a cluster closing under us, or a failed node start
                logger.warning("adaptive scaling failed; trying again", exc_info=True)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Stop adapting; the nodes running stay."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=60)
