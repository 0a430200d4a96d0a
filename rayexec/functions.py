"""Module-level functions of distributed's API that act through a future's client."""

from __future__ import annotations

from .future import Future


def futures_of(o, client=None) -> list[Future]:
    """The futures inside ``o``, each once, in order of appearance.

    ``o`` may be a future, a dask collection backed by futures (what
    ``client.persist`` returns), or lists, tuples, sets and dicts holding
    either, nested to any depth -- as distributed's ``futures_of`` walks them.
    ``wait``, ``progress``, ``cancel``, ``fire_and_forget`` and ``who_has``
    find their futures with it.  With ``client``, only that client's futures.

    >>> futures_of([1, {"a": (2, 3)}])
    []
    """
    from dask import is_dask_collection

    found: dict[int, Future] = {}
    stack = [o]
    while stack:
        x = stack.pop()
        if isinstance(x, Future):
            found.setdefault(id(x), x)
        elif isinstance(x, dict):
            stack.extend(reversed(list(x.values())))
        elif isinstance(x, (list, tuple, set, frozenset)):
            stack.extend(reversed(list(x)))
        elif is_dask_collection(x):
            # A persisted collection's graph maps each key to its future,
            # possibly wrapped in a DataNode.
            stack.extend(reversed([getattr(node, "value", node)
                                   for node in x.__dask_graph__().values()]))
    futures = list(found.values())
    if client is not None:
        futures = [f for f in futures if f.client is client]
    return futures


def fire_and_forget(obj) -> None:
    """Run the futures in ``obj`` to completion even if every handle on them is dropped.

    >>> from rayexec import fire_and_forget
    >>> fire_and_forget(client.submit(print, "done"))  # doctest: +SKIP
    """
    by_client: dict[int, tuple] = {}
    for future in futures_of(obj):
        by_client.setdefault(id(future.client), (future.client, []))[1].append(future)
    for client, futures in by_client.values():
        client.fire_and_forget(futures)

