"""Module-level functions of distributed's API that act through a future's client."""

from __future__ import annotations

from .future import Future
from .progress import futures_of


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


__all__ = ["Future", "fire_and_forget"]
