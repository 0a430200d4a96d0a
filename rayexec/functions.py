"""Module-level functions of distributed's API that act through a future's client."""

from __future__ import annotations

from .future import Future
from .nesting import collect


def futures_of(o, client=None) -> list[Future]:
    """The futures inside ``o``: nested containers or a dask collection.

    >>> futures_of([1, 2])
    []
    """
    from dask import is_dask_collection

    if is_dask_collection(o):
        graph = o.__dask_graph__()
        values = [getattr(node, "value", node) for node in graph.values()]
        found = collect(values, Future)
    else:
        found = collect(o, Future)
    if client is not None:
        found = [f for f in found if f.client is client]
    return list(dict.fromkeys(found))


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

