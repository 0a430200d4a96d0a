"""Keeping the semaphore and lock leases of this process alive.

A lease is held only while its holder says so: the cluster's coordination
actor frees a lease not refreshed within its lease timeout
(``distributed.scheduler.locks.lease-timeout``, 30 s by default, as in
distributed), so that a holder that died -- its worker process killed, its
node lost -- does not block the others for good.  One daemon thread per
process refreshes every lease the process holds, a few times per timeout,
and stops when none is left.
"""

from __future__ import annotations

import logging
import threading
import time

from .named import call

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = "30s"
_REFRESHES_PER_TIMEOUT = 3


def lease_timeout() -> float:
    """Seconds a lease outlives its holder's last sign of life, from dask's config."""
    import dask
    from dask.utils import parse_timedelta

    return parse_timedelta(dask.config.get("distributed.scheduler.locks.lease-timeout",
                                           DEFAULT_TIMEOUT), default="s")


class _Refresher:
    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, dict[str, float]] = {}  # name -> {lease_id: lease timeout}
        self._thread: threading.Thread | None = None

    def hold(self, name: str, lease_id: str, timeout: float) -> None:
        with self._lock:
            self._held.setdefault(name, {})[lease_id] = timeout
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="rayexec-lease-refresh")
                self._thread.start()

    def drop(self, name: str, lease_id: str) -> None:
        with self._lock:
            leases = self._held.get(name)
            if leases is not None:
                leases.pop(lease_id, None)
                if not leases:
                    del self._held[name]

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
                held = {name: list(leases) for name, leases in self._held.items()}
                pause = min(t for leases in self._held.values() for t in leases.values())
            for name, lease_ids in held.items():
                try:
                    call("sem_refresh", name, lease_ids)
                except Exception:  # the cluster is going away: the holders will hear of it
                    logger.debug("refreshing the leases of %s failed", name, exc_info=True)
            time.sleep(pause / _REFRESHES_PER_TIMEOUT)


refresher = _Refresher()
