"""Waiting on many futures: ``wait`` and ``as_completed``.

Both install a callback on each pending future and block once on a condition:
no polling, whatever the number of futures.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from .asynchronous import in_thread, wants_async
from .errors import TimeoutError
from .functions import futures_of
from .future import Future
from .state import ERROR
from .timeouts import parse_timeout

ALL_COMPLETED = "ALL_COMPLETED"
FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"


class DoneAndNotDoneFutures(NamedTuple):
    done: set
    not_done: set


def _as_future_list(fs) -> list[Future]:
    # A generator of futures is walked once; containers and collections are
    # searched by futures_of, however deep the futures sit.
    return futures_of(list(fs) if isinstance(fs, Iterator) else fs)


def wait(fs, timeout: float | None = None, return_when: str = ALL_COMPLETED
         ) -> DoneAndNotDoneFutures:
    """Block until the futures are done: ``(done, not_done)`` sets.

    ``fs`` is a future, a dask collection backed by futures (``client.persist``
    gives one), or a container of them, nested as deep as needed.

    ``return_when`` is ``ALL_COMPLETED``, ``FIRST_COMPLETED`` or
    ``FIRST_EXCEPTION``.  Failed futures count as done; nothing is raised for
    them.  Raises ``TimeoutError`` if the condition is not met within
    ``timeout`` seconds.

    >>> from rayexec import wait
    >>> done, not_done = wait(client.map(inc, range(3)))  # doctest: +SKIP
    >>> len(done), len(not_done)                          # doctest: +SKIP
    (3, 0)
    """
    if return_when not in (ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION):
        raise ValueError(f"unknown return_when={return_when!r}")
    if isinstance(timeout, Future):  # wait(x, y): the second future taken as the timeout
        raise TypeError("wait's second argument is the timeout, not a future: pass the "
                        "futures in one list, wait([x, y])")
    timeout = parse_timeout(timeout)
    futures = _as_future_list(fs)
    if futures and wants_async(futures[0].client, None):
        return in_thread(_wait, futures, timeout, return_when)
    return _wait(futures, timeout, return_when)


def _wait(futures: list[Future], timeout, return_when) -> DoneAndNotDoneFutures:
    pending = [f for f in futures if not f.done()]
    lock = threading.Lock()
    satisfied = threading.Event()
    counts = {"left": len(pending), "failed": any(f.status == ERROR for f in futures)}

    def check() -> None:  # under ``lock``
        if (counts["left"] == 0
                or (return_when == FIRST_COMPLETED
                    and (counts["left"] < len(pending) or len(pending) < len(futures)))
                or (return_when == FIRST_EXCEPTION and counts["failed"])):
            satisfied.set()

    def on_done(state):
        # Wake the waiting thread only once the condition holds, not on every completion.
        with lock:
            counts["left"] -= 1
            counts["failed"] = counts["failed"] or state.status == ERROR
            check()

    with lock:
        check()
    registered = []
    for future in pending:
        if satisfied.is_set():
            break
        future._state.add_callback(on_done)
        registered.append(future._state)
    try:
        if not satisfied.wait(timeout):
            raise TimeoutError(f"wait: {counts['left']} of {len(futures)} futures "
                               f"not done after {timeout} s")
    finally:
        for state in registered:
            state.remove_callback(on_done)
    done = {f for f in futures if f.done()}
    return DoneAndNotDoneFutures(done, set(futures) - done)


class _ReadyQueue(deque):
    """The futures done and not yet yielded, with the two ``queue.Queue`` methods
    code reaching into distributed's ``as_completed.queue`` calls."""

    def empty(self) -> bool:
        return not self

    def get(self) -> Future:
        return self.popleft()


class _Guard:
    """Holds the condition of an ``as_completed``; on release wakes its waiters,
    which then see whatever the holder changed (futures dropped)."""

    def __init__(self, condition: threading.Condition):
        self._condition = condition

    def __enter__(self):
        self._condition.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self._condition.notify_all()
        self._condition.release()


class as_completed:
    """Iterate over futures in the order they complete.

    ``with_results=True`` yields ``(future, result)``; then a failed future
    raises its exception (``raise_errors=True``) or yields its
    ``(type, exception, traceback)``.  More futures can be added while
    iterating with :meth:`add` / :meth:`update`.

    >>> from rayexec import as_completed
    >>> for future in as_completed(client.map(inc, range(3))):  # doctest: +SKIP
    ...     print(future.result())
    """

    def __init__(self, futures: Iterable[Future] | None = None, loop=None,
                 with_results: bool = False, raise_errors: bool = True, *,
                 timeout: float | None = None):
        self.with_results = with_results
        self.raise_errors = raise_errors
        timeout = parse_timeout(timeout)
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._timeout = timeout
        self._condition = threading.Condition()
        self._ready = _ReadyQueue()
        self._pending: dict[int, list] = {}  # id -> [future, times added]
        if futures:
            self.update(futures)

    def add(self, future: Future) -> None:
        """Add one more future to wait for: a Future, or the future result of an
        actor's method call."""
        if not isinstance(future, Future) and not hasattr(future, "_on_done"):
            raise TypeError(f"as_completed takes Futures, got {type(future).__name__}")
        with self._condition:
            # A future added twice is yielded twice, as in distributed.
            entry = self._pending.setdefault(id(future), [future, 0])
            entry[1] += 1
            if entry[1] > 1:  # its callback is installed already
                return

        def on_done(_, future=future):
            with self._condition:
                entry = self._pending.pop(id(future), None)
                if entry is not None:
                    self._ready.extend([future] * entry[1])
                    self._condition.notify_all()

        if isinstance(future, Future):
            future._state.add_callback(on_done)
        else:  # an ActorFuture (rayexec.actors), which says when its call ends
            future._on_done(on_done)

    def update(self, futures: Iterable[Future]) -> None:
        """Add several futures."""
        for future in futures:
            self.add(future)

    def count(self) -> int:
        """How many futures are pending or ready and not yet yielded."""
        with self._condition:
            return sum(n for _, n in self._pending.values()) + len(self._ready)

    def is_empty(self) -> bool:
        return self.count() == 0

    def has_ready(self) -> bool:
        with self._condition:
            return bool(self._ready)

    def clear(self) -> None:
        """Forget every future not yet yielded."""
        with self.lock:
            self._pending.clear()
            self._ready.clear()

    def _take(self, all_ready: bool, block: bool = True) -> list[Future]:
        with self._condition:
            while not self._ready:
                if not block:
                    return []
                if not self._pending:
                    raise StopIteration
                remaining = None
                if self._deadline is not None:
                    remaining = self._deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"as_completed: {len(self._pending)} futures "
                                           f"not done after {self._timeout} s")
                self._condition.wait(remaining)
            if all_ready:
                taken = list(self._ready)
                self._ready.clear()
                return taken
            return [self._ready.popleft()]

    def _item(self, future: Future):
        if not self.with_results:
            return future
        if isinstance(future, Future) and future.cancelled():  # given, not raised, as distributed
            return future, Future._error(future._state)
        try:
            return future, future.result()
        except Exception:
            if self.raise_errors:
                raise
            return future, sys.exc_info()

    def __iter__(self):
        return self

    def __next__(self):
        return self._item(self._take(all_ready=False)[0])

    def batches(self):
        """Yield lists of all the futures ready at once (at least one each time)."""
        while True:
            try:
                ready = self._take(all_ready=True)
            except StopIteration:
                return
            yield [self._item(f) for f in ready]

    def next_batch(self, block: bool = True) -> list:
        """All the futures ready now (as ``(future, result)`` with ``with_results``).

        ``block=True`` waits for at least one (``StopIteration`` if none is
        left); ``block=False`` returns at once, maybe an empty list.

        >>> ac = as_completed(futures)              # doctest: +SKIP
        >>> client.gather(ac.next_batch())          # doctest: +SKIP
        [4, 1, 3]
        >>> ac.next_batch(block=False)              # doctest: +SKIP
        []
        """
        return [self._item(f) for f in self._take(all_ready=True, block=block)]

    def __aiter__(self):
        return self

    # distributed's attribute names.  joblib's dask backend drops the work it no
    # longer wants with ``with ac.lock: ac.futures.clear(); ac.queue.get() ...``.
    @property
    def lock(self) -> _Guard:
        """The lock guarding ``futures`` and ``queue``; an iteration waiting for
        a future notices changes made under it."""
        return _Guard(self._condition)

    @property
    def futures(self) -> dict:
        """The futures not done yet (``clear()`` forgets them)."""
        return self._pending

    @property
    def queue(self) -> _ReadyQueue:
        """The futures done and not yet yielded (``empty()``, ``get()``)."""
        return self._ready

    def _next_or_end(self):
        # StopIteration cannot cross into an asyncio future: say "the end" with a value.
        try:
            return True, self.__next__()
        except StopIteration:
            return False, None

    async def __anext__(self):
        import asyncio

        more, item = await asyncio.to_thread(self._next_or_end)
        if not more:
            raise StopAsyncIteration
        return item
