"""Lock and MultiLock: mutual exclusion by name across clients and tasks.

A :class:`Lock` is a :class:`~rayexec.coordination.semaphores.Semaphore` of one lease, as in
distributed; a :class:`MultiLock` takes several named locks at once, all or
(with ``num_locks``) some of them, without deadlocking on the order.

>>> lock = Lock("resource")            # doctest: +SKIP
>>> def task(x, lock):
...     with lock:                       # one task at a time, on any worker
...         return x
>>> client.submit(task, 1, lock).result()  # doctest: +SKIP
1
"""

from __future__ import annotations

import uuid

from ..asynchronous import in_thread
from ..timeouts import parse_timeout
from .named import call, resolve_client, run
from .semaphores import Semaphore


class Lock(Semaphore):
    """A lock shared by name by every client and task of the cluster.

    Without a name, a random one: pass the Lock itself into tasks to share it.
    ``release`` on a Lock object that did not acquire it raises
    ``RuntimeError("Released too often")``, as in distributed.

    >>> lock = Lock("x")           # doctest: +SKIP
    >>> lock.acquire(timeout=1)    # doctest: +SKIP
    True
    >>> lock.locked()              # doctest: +SKIP
    True
    >>> lock.release()             # doctest: +SKIP
    True
    """

    def __init__(self, name=None, scheduler_rpc=None, loop=None, *, client=None):
        super().__init__(max_leases=1, name=name or f"lock-{uuid.uuid4().hex}", client=client)

    def acquire(self, blocking=True, timeout=None):
        """Take the lock; True if taken, False if ``timeout`` passed first.

        ``blocking=False`` tries once; it cannot be combined with a timeout.
        """
        if not blocking:
            if timeout is not None:
                raise ValueError("can't specify a timeout for a non-blocking call")
            timeout = 0
        return super().acquire(timeout=timeout)

    def locked(self):
        """Whether anyone holds the lock now."""
        return self._run(lambda: call("sem_value", self.name) == 1)

    def __getstate__(self):
        return (self.name, self.lease_timeout)

    def __setstate__(self, state):
        name, lease_timeout = state
        self.__init__(name=name)
        self.lease_timeout = lease_timeout  # the creator's: a task's config may differ


class MultiLock:
    """Several named locks taken together: all of ``names``, or ``num_locks`` of them.

    Independent of :class:`Lock` names, as in distributed.

    >>> lock = MultiLock(["x", "y"])   # doctest: +SKIP
    >>> lock.acquire(timeout=1)        # doctest: +SKIP
    True
    >>> lock.release()                 # doctest: +SKIP
    """

    def __init__(self, names=None, client=None):
        self.client = resolve_client(client)
        self.names = list(names or [])
        self.id = uuid.uuid4().hex
        self._locked = False

    def acquire(self, blocking=True, timeout=None, num_locks=None):
        """Take ``num_locks`` (default: all) of the locks; False if ``timeout`` passed first."""
        timeout = parse_timeout(timeout)
        if not blocking:
            if timeout is not None:
                raise ValueError("can't specify a timeout for a non-blocking call")
            timeout = 0
        count = len(self.names) if num_locks is None else num_locks
        if not 0 <= count <= len(self.names):
            raise ValueError(f"num_locks must be between 0 and {len(self.names)} "
                             f"(the number of names), got {num_locks!r}")
        return run(self.client, self._acquire, count, timeout)

    def _acquire(self, count, timeout) -> bool:
        granted = False
        try:
            granted = call("multi_acquire", self.id, self.names, count, timeout)
        finally:
            if not granted:  # interrupted or timed out: a late grant must not leak
                call("multi_release", self.id)
        self._locked = granted
        return granted

    def release(self):
        """Give back the locks this object holds."""
        if not self._locked:
            raise ValueError("Lock is not yet acquired")
        self._locked = False
        return run(self.client, call, "multi_release", self.id)

    def locked(self):
        """Whether this object holds its locks."""
        return self._locked

    def __enter__(self):
        self._acquire(len(self.names), None)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self._locked = False
        call("multi_release", self.id)

    async def __aenter__(self):
        await in_thread(self._acquire, len(self.names), None)
        return self

    async def __aexit__(self, exc_type, exc_value, traceback):
        self._locked = False
        await in_thread(call, "multi_release", self.id)

    def __reduce__(self):
        return (type(self), (self.names,))
