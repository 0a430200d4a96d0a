"""Queue: a multi-producer, multi-consumer queue shared by name across clients and tasks.

Items may be Futures (also inside lists, tuples, sets and dicts): the receiver
gets a Future on its own client reading the same data.  Other items are
pickled; keep them small and share large data as Futures.

>>> queue = Queue("jobs")                     # doctest: +SKIP
>>> queue.put(client.submit(sum, [1, 2]))     # doctest: +SKIP
>>> queue.get().result()                      # doctest: +SKIP
3
"""

from __future__ import annotations

from ..timeouts import parse_timeout
from .named import Named, call, pack, run, unpack


class Queue(Named):
    """A named queue on the cluster; ``maxsize=0`` means unbounded.

    ``put`` on a full queue and ``get`` on an empty one block up to
    ``timeout`` (then ``TimeoutError``).  ``get(batch=True)`` takes everything
    waiting now; ``get(batch=n)`` waits for ``n`` items.

    >>> queue = Queue("q", maxsize=10)   # doctest: +SKIP
    >>> queue.put(1); queue.qsize()      # doctest: +SKIP
    1
    >>> queue.get(batch=True)            # doctest: +SKIP
    [1]
    """

    kind = "queue"

    def __init__(self, name=None, client=None, maxsize=0):
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 0:
            raise ValueError(f"maxsize must be a non-negative integer, got {maxsize!r}")
        super().__init__(name, client)
        self.maxsize = maxsize
        self.client  # noqa: B018  (no client: the clear error now, not at first put)
        call("queue_create", self.name, maxsize)

    def put(self, value, timeout=None, **kwargs):
        """Add ``value`` at the end, waiting up to ``timeout`` for room in a full queue."""
        return run(self.client, call, "queue_put", self.name, pack(value),
                   parse_timeout(timeout))

    def get(self, timeout=None, batch=False, **kwargs):
        """Take the first item, waiting up to ``timeout`` for one.

        ``batch=True``: every item waiting now (maybe none), as a list.
        ``batch=n``: a list of ``n`` items, waiting for them.
        """
        if batch is not False and batch is not True and timeout is not None:
            raise NotImplementedError("Dask queues don't support simultaneous use of "
                                      "integer batch sizes and timeouts")
        return run(self.client, self._get, parse_timeout(timeout), batch)

    def _get(self, timeout, batch):
        out = call("queue_get", self.name, timeout, batch)
        if batch is False:
            return unpack(out, self.client)
        return [unpack(item, self.client) for item in out]

    def qsize(self, **kwargs):
        """How many items wait in the queue now."""
        return run(self.client, call, "queue_qsize", self.name)

    def close(self):
        """Let go of the queue; it is deleted once every object that opened it has."""
        return run(self.client, call, "queue_release", self.name)

    def __reduce__(self):
        return type(self), (self.name, None, self.maxsize)

    def __repr__(self) -> str:
        return f"<Queue: {self.name}, maxsize={self.maxsize}>"
