"""Semaphore: at most ``max_leases`` holders at once, across clients and tasks.

The leases live in the cluster's coordination actor (``rayexec.coordination.named``);
a ``Semaphore`` object only remembers the leases *it* took, so it is light to
pass into tasks: it travels as its name and size.

>>> sem = Semaphore(max_leases=2, name="database")     # doctest: +SKIP
>>> def query(x, sem):
...     with sem:                                       # at most two at a time
...         return x
>>> client.gather(client.map(query, range(4), sem=sem))  # doctest: +SKIP
[0, 1, 2, 3]
"""

from __future__ import annotations

import uuid
from collections import deque

from ..asynchronous import in_thread
from ..timeouts import parse_timeout
from . import leases
from .named import call, run


class Semaphore:
    """A semaphore shared by name by every client and task of the cluster.

    Unlike ``threading.Semaphore`` it cannot be released more often than this
    object acquired it (``RuntimeError("Released too often")``).  A holder
    keeps its lease alive while it runs (:mod:`rayexec.coordination.leases`);
    one that dies without releasing loses it after the lease timeout
    (``distributed.scheduler.locks.lease-timeout``, 30 s), as in distributed.
    ``scheduler_rpc`` and ``loop`` are accepted for compatibility; Ray needs
    neither.

    >>> sem = Semaphore(max_leases=1, name="x")  # doctest: +SKIP
    >>> sem.acquire(timeout=1)                    # doctest: +SKIP
    True
    >>> sem.release()                             # doctest: +SKIP
    True
    """

    def __init__(self, max_leases=1, name=None, scheduler_rpc=None, loop=None, *, client=None):
        if isinstance(max_leases, bool) or not isinstance(max_leases, int) or max_leases < 1:
            raise ValueError(f"max_leases must be a positive integer, got {max_leases!r}")
        self.name = name or f"semaphore-{uuid.uuid4().hex}"
        self.max_leases = max_leases
        self.id = uuid.uuid4().hex
        self._client = client
        self._leases: deque[str] = deque()
        self._registered = False
        self.lease_timeout = leases.lease_timeout()
        self.refresh_leases = True

    def _run(self, fn, *args):
        # An asynchronous client (given, or the default) gets awaitables back.
        client = self._client
        if client is None:
            from ..defaults import current_client

            client = current_client()
        return run(client, fn, *args)

    def register(self, **kwargs):
        """Make the semaphore known to the cluster (done on first use anyway)."""
        return self._run(self._register)

    def _register(self) -> None:
        if not self._registered:
            call("sem_register", self.name, self.max_leases, self.lease_timeout)
            self._registered = True

    def __await__(self):
        async def registered():
            await in_thread(self._register)
            return self

        return registered().__await__()

    def acquire(self, timeout=None):
        """Take a lease, waiting up to ``timeout`` (seconds, or ``"200ms"``) for one.

        True if a lease was taken, False if the timeout passed first.
        """
        return self._run(self._acquire, parse_timeout(timeout))

    def _acquire(self, timeout) -> bool:
        self._register()
        lease_id = uuid.uuid4().hex
        granted = False
        try:
            granted = call("sem_acquire", self.name, lease_id, timeout)
        finally:
            if not granted:  # interrupted or timed out: a late grant must not leak
                call("sem_release", self.name, lease_id)
        if granted:
            self._leases.append(lease_id)
            leases.refresher.hold(self.name, lease_id, self.lease_timeout)
        return granted

    def release(self):
        """Give back the oldest lease this object holds; True once the cluster took it."""
        return self._run(self._release)

    def _release(self) -> bool:
        if not self._leases:
            raise RuntimeError("Released too often")
        lease_id = self._leases.popleft()
        leases.refresher.drop(self.name, lease_id)
        return call("sem_release", self.name, lease_id)

    def get_value(self):
        """How many leases are held now, by anyone."""
        return self._run(call, "sem_value", self.name)

    def close(self):
        """Forget the semaphore on the cluster, with any leases still held."""
        return self._run(call, "sem_close", self.name)

    def __enter__(self):
        self._acquire(None)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self._release()

    async def __aenter__(self):
        await in_thread(self._acquire, None)
        return self

    async def __aexit__(self, exc_type, exc_value, traceback):
        await in_thread(self._release)

    def __getstate__(self):
        return (self.name, self.max_leases, self.lease_timeout)

    def __setstate__(self, state):
        name, max_leases, lease_timeout = state
        self.__init__(max_leases=max_leases, name=name)
        self.lease_timeout = lease_timeout  # the creator's: a task's config may differ

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name}, max_leases={self.max_leases}>"
