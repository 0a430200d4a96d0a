"""``Pool`` and ``RemoteData``: the oldest distributed API, shaped like ``multiprocessing.Pool``.

Results stay on the cluster as :class:`RemoteData` until asked for, so chained
calls move functions to the data::

    >>> pool = Pool()                                     # doctest: +SKIP
    >>> A = pool.map(lambda x: x**2, range(10))           # doctest: +SKIP
    >>> B = pool.map(lambda x: -x, A)                     # doctest: +SKIP
    >>> pool.apply(sum, [B]).get()                        # doctest: +SKIP
    -285

``map``, ``starmap``, ``apply`` and ``apply_async`` leave results on the
cluster (``RemoteData``); ``imap`` and ``imap_unordered`` stream the values
themselves, as their multiprocessing namesakes do.  RemoteData anywhere in the
arguments, also nested in lists, tuples and dicts, arrives as its value.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import defaults
from ..future import Future
from ..waiting import as_completed

logger = logging.getLogger(__name__)


class RemoteData(Future):
    """A value that lives on the cluster; ``get()`` brings it here.

    It is a :class:`~rayexec.Future` under the 2015 name: pass it to ``Pool``
    methods or ``Client.submit`` and the task receives the value.

    >>> total = pool.apply(sum, [[1, 2, 3]])  # doctest: +SKIP
    >>> total.get()                           # doctest: +SKIP
    6
    """

    __slots__ = ()

    @classmethod
    def of(cls, future: Future) -> RemoteData:
        return cls(future.key, future.client, future._state)

    def get(self, timeout: float | None = None) -> Any:
        """The value; raises the remote exception if the computation failed."""
        return self.result(timeout)

    def __repr__(self) -> str:
        return f"<RemoteData: {self.status}, key: {self.key}>"


class AsyncResult:
    """The pending outcome of ``apply_async`` / ``map_async``, as in multiprocessing.

    ``get()`` waits and returns the :class:`RemoteData` (a list of them for the
    map variants), or raises the first remote exception.

    >>> pending = pool.apply_async(pow, (2, 10))  # doctest: +SKIP
    >>> pending.get().get()                       # doctest: +SKIP
    1024
    """

    def __init__(self, futures: list[Future], single: bool, callback=None, error_callback=None):
        self._remote = [RemoteData.of(f) for f in futures]
        self._single = single
        self._callback = callback
        self._error_callback = error_callback
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._left = len(futures)
        if not futures:
            self._finish()
        for future in futures:
            future.add_done_callback(self._one_done)

    def _one_done(self, _future) -> None:
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            self._finish()

    def _finish(self) -> None:
        self._error = next((e for e in map(_error_of, self._remote) if e is not None), None)
        # As in multiprocessing, callbacks run before get() returns.
        try:
            if self._error is None and self._callback is not None:
                self._callback(self._value())
            elif self._error is not None and self._error_callback is not None:
                self._error_callback(self._error)
        except Exception:
            logger.exception("Pool callback failed")
        self._ready.set()

    def _value(self):
        return self._remote[0] if self._single else list(self._remote)

    def ready(self) -> bool:
        return self._ready.is_set()

    def successful(self) -> bool:
        if not self.ready():
            raise ValueError(f"{self!r} not ready")
        return self._error is None

    def wait(self, timeout: float | None = None) -> None:
        self._ready.wait(timeout)

    def get(self, timeout: float | None = None):
        if not self._ready.wait(timeout):
            raise multiprocessing.TimeoutError(f"not ready within {timeout} s")
        if self._error is not None:
            raise self._error
        return self._value()


def _error_of(future: Future) -> BaseException | None:
    try:
        return future.exception()
    except Exception as exc:  # cancelled: exception() raises CancelledError
        return exc


class Pool:
    """A pool of the cluster's workers, with ``multiprocessing.Pool``'s methods.

    ``address`` (``"host:port"``) connects to a cluster; without it the pool
    uses the default client, or starts a local cluster.  ``close()`` (or the
    ``with`` block's end) disconnects what the pool itself connected.
    ``workers=``, ``resources=``, ``allow_other_workers=`` and ``retries=``
    place every call of the pool, as they do on :meth:`Client.submit`.

    >>> with Pool() as pool:                                    # doctest: +SKIP
    ...     pool.gather(pool.map(abs, [-1, -2]))
    [1, 2]
    """

    def __init__(self, address: str | None = None, *, client=None, workers=None,
                 resources=None, allow_other_workers=False, retries=None):
        if address is not None and not isinstance(address, str):
            raise TypeError(
                f"Pool(address=...) takes a cluster address like '127.0.0.1:8786', got "
                f"{address!r}; to size a local cluster use Client(n_workers=...) first")
        from ..client import Client

        if client is not None:
            self._client, self._owned = client, False
        elif address is None and defaults.current_client() is not None:
            self._client, self._owned = defaults.current_client(), False
        else:
            self._client, self._owned = Client(address, set_as_default=False), True
        self._closed = False
        # placement hints for every call of this pool, as on Client.submit / map
        self._hints = {"workers": workers, "resources": resources, "retries": retries,
                       "allow_other_workers": allow_other_workers}

    @property
    def client(self):
        return self._client

    # -- results left on the cluster ---------------------------------------------
    def map(self, func: Callable, iterable: Iterable, chunksize: int | None = None
            ) -> list[RemoteData]:
        """``func`` on each element; a list of RemoteData.

        >>> pool.gather(pool.map(lambda x: x * 2, range(3)))  # doctest: +SKIP
        [0, 2, 4]
        """
        return [RemoteData.of(f) for f in self._map(func, iterable, chunksize)]

    def starmap(self, func: Callable, iterable: Iterable, chunksize: int | None = None
                ) -> list[RemoteData]:
        """``func(*args)`` for each tuple of arguments; a list of RemoteData.

        >>> pool.gather(pool.starmap(pow, [(2, 3), (3, 2)]))  # doctest: +SKIP
        [8, 9]
        """
        return [RemoteData.of(f) for f in self._starmap(func, iterable, chunksize)]

    def apply(self, func: Callable, args=(), kwds={}, *, kwargs=None) -> RemoteData:  # noqa: B006
        """``func(*args, **kwds)`` on the cluster; waits, returns its RemoteData.

        ``kwargs=`` is accepted as the 2015 name of ``kwds``.

        >>> pool.apply(sum, [[1, 2]]).get()  # doctest: +SKIP
        3
        """
        return self.apply_async(func, args, kwds, kwargs=kwargs).get()

    def apply_async(self, func: Callable, args=(), kwds={}, callback=None,  # noqa: B006
                    error_callback=None, *, kwargs=None) -> AsyncResult:
        """Start ``func(*args, **kwds)``; an :class:`AsyncResult` whose ``get()`` is
        the RemoteData.  ``args`` must be a tuple or list.

        >>> pool.apply_async(pow, (2, 5)).get().get()  # doctest: +SKIP
        32
        """
        self._check_open()
        if not isinstance(args, (tuple, list)):
            raise TypeError(f"apply_async(args=...) must be a tuple or list of arguments, got "
                            f"{type(args).__name__}; write args=(x,) for one argument")
        kwds = kwds if kwargs is None else {**kwds, **kwargs}
        if not isinstance(kwds, dict):
            raise TypeError(f"apply_async(kwds=...) must be a dict, got {type(kwds).__name__}")
        future = self._client.submit(func, *args, pure=False, **self._hints, **kwds)
        return AsyncResult([future], True, callback, error_callback)

    def map_async(self, func: Callable, iterable: Iterable, chunksize: int | None = None,
                  callback=None, error_callback=None) -> AsyncResult:
        """As :meth:`map`, without waiting; ``get()`` is the list of RemoteData."""
        return AsyncResult(self._map(func, iterable, chunksize), False, callback, error_callback)

    def starmap_async(self, func: Callable, iterable: Iterable, chunksize: int | None = None,
                      callback=None, error_callback=None) -> AsyncResult:
        """As :meth:`starmap`, without waiting; ``get()`` is the list of RemoteData."""
        return AsyncResult(self._starmap(func, iterable, chunksize), False, callback,
                           error_callback)

    # -- values streamed here ------------------------------------------------------
    def imap(self, func: Callable, iterable: Iterable, chunksize: int = 1) -> Iterator:
        """The values of ``func`` on each element, in order, as each is ready.

        >>> list(pool.imap(abs, [-1, -2]))  # doctest: +SKIP
        [1, 2]
        """
        futures = self._map(func, iterable, chunksize)
        return (future.result() for future in futures)

    def imap_unordered(self, func: Callable, iterable: Iterable, chunksize: int = 1
                       ) -> Iterator:
        """The values of ``func`` on each element, in the order they finish.

        >>> sorted(pool.imap_unordered(abs, [-1, -2]))  # doctest: +SKIP
        [1, 2]
        """
        futures = self._map(func, iterable, chunksize)
        return (future.result() for future in as_completed(futures))

    # -- moving data -------------------------------------------------------------
    def gather(self, remote_data):
        """The values of RemoteData, in the same container shape.

        >>> pool.gather(pool.map(abs, [-3]))  # doctest: +SKIP
        [3]
        """
        return self._client.gather(remote_data)

    def scatter(self, data) -> list[RemoteData]:
        """Put a list of local values on the cluster; a list of RemoteData."""
        self._check_open()
        return [RemoteData.of(f) for f in self._client.scatter(list(data), hash=False)]

    # -- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        """Accept no more work; disconnect the client the pool connected itself."""
        if self._closed:
            return
        self._closed = True
        if self._owned:
            self._client.close()

    terminate = close

    def join(self) -> None:
        """Nothing to wait for once closed: work already submitted lives on the cluster."""
        if not self._closed:
            raise ValueError("Pool is still running; call close() before join()")

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("Pool not running: it was closed")

    def _map(self, func, iterable, chunksize) -> list[Future]:
        self._check_open()
        return self._client.map(func, list(iterable), pure=False, **self._hints,
                                batch_size=_batch(chunksize))

    def _starmap(self, func, iterable, chunksize) -> list[Future]:
        self._check_open()
        rows = [tuple(row) for row in iterable]
        return self._client.map(_Star(func), rows, pure=False, batch_size=_batch(chunksize),
                                **self._hints)

    def __repr__(self) -> str:
        return f"<Pool: {'closed' if self._closed else 'running'}>"


class _Star:
    """``func(*args)`` as a one-argument function, keyed under ``func``'s name."""

    def __init__(self, func: Callable):
        self.func = func
        self.__name__ = getattr(func, "__name__", type(func).__name__)

    def __call__(self, args: tuple):
        return self.func(*args)


def _batch(chunksize: int | None) -> int | None:
    if chunksize is None:
        return None
    if not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
    return chunksize
