"""``span``: a name for the tasks made inside a block, as distributed's spans name them.

A progress bar grouped by span (``progress(..., group_by="spans")``) shows one bar
per span.  The span travels in dask's annotations (``dask.get_annotations()["span"]``),
where distributed keeps it too, so code that reads it there works unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import dask


@contextmanager
def span(*tags: str) -> Iterator[str]:
    """Tag the tasks made inside the block as one span; yields the span's id.

    Spans nest: inside ``span("a")``, ``span("b")`` is the span ``a, b``.  Tasks made
    outside any span are in the span ``default``.

    >>> with span("load") as span_id:
    ...     dask.get_annotations()["span"]["name"]
    ('load',)
    """
    if not tags:
        raise ValueError("span() needs at least one tag, e.g. span('load')")
    outer = dask.get_annotations().get("span") or {"name": (), "ids": ()}
    # Every level's id: a span is known by its whole path, so two spans named
    # alike under different parents stay apart.
    ids = tuple(outer["ids"]) + tuple(str(uuid.uuid4()) for _ in tags)
    with dask.annotate(span={"name": tuple(outer["name"]) + tags, "ids": ids}):
        yield ids[-1]
