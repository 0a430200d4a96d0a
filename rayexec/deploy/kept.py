"""The Ray connection a closed client leaves for the next client of the same cluster.

distributed's idiom closes a client and opens another in the same process: a
``with Client(address):`` block per job, a client per test.  On Ray each one
would be ``ray.shutdown()`` then ``ray.init()``, and Ray's driver keeps part of
every earlier connection: its metrics recorder is one per process, and the
reader of each earlier connection stays in it, shut down, while OpenTelemetry
keeps for that reader every metric delta the live one collects, without end.
After one reconnect, 120 s of the soak's workload left 3.6 MB in that storage,
against 0.3 MB on one connection (``benchmarks/native_sites.py``); each
further reconnect adds another such reader.

So when a client's own connection to a running cluster closes, Ray stays
connected, idle, and the next client of that cluster takes it over (see
``connect``).  Asking for another cluster or a local one ends it, as does its
head going away (watched as a client's is) or this process stopping the head.
An idle connection holds nothing of the closed client: its futures were
released as it closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .watch import HeadWatch, close_lost, head_address

_lock = threading.RLock()
_kept: HeadWatch | None = None  # the watch on the idle connection's head, while there is one


def keep() -> None:
    """Leave this process's Ray connection open, idle, for the next client."""
    global _kept
    import ray

    with _lock:
        head = head_address() if ray.is_initialized() else None
        if head is None:  # Ray Client mode, or already gone: nothing to keep
            if ray.is_initialized():
                ray.shutdown()
            return
        if _kept is None:
            _kept = HeadWatch(head, lambda _lost: end(head, head_lost=True)).start()


def take_for(wanted: Callable[[str], bool], end_otherwise: bool = True) -> str | None:
    """Take the idle connection over for a new client when ``wanted(address)`` of
    its cluster; end it otherwise (if ``end_otherwise``: not while another
    client still uses it).  The address taken, or None."""
    global _kept
    import ray

    with _lock:
        if _kept is None:
            return None
        current = ray.get_runtime_context().gcs_address
        if not wanted(current):
            if end_otherwise:
                end()
            return None
        _kept.stop()
        _kept = None
        return current


def end(at: str | None = None, *, head_lost: bool = False) -> None:
    """Disconnect the idle connection (only if its head listens on the port of
    ``at``, when given: ending one too many costs the next client a reconnect).

    Ray waits on a head that is gone for a while before it lets go: that wait
    is cut short (``watch.close_lost``).
    """
    global _kept
    import ray

    with _lock:
        if _kept is None or (at is not None and _port(_kept.address) != _port(at)):
            return
        watch, _kept = _kept, None
        watch.stop()
        if head_lost or not watch.answers():
            close_lost(ray.shutdown)
        elif ray.is_initialized():
            ray.shutdown()


def _port(address: str) -> str:
    return address.rpartition(":")[2]
