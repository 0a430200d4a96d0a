"""Objects this process put for tasks, held as long as the results Ray keeps them for.

Ray keeps an object this process put -- with ``ray.put``, or an argument over
its inline limit that Ray put by itself -- for as long as a retriable task that
took it has results in the object store: that is the task's lineage, to run it
again if a result is lost.  If the object's last ObjectRef goes before those
results, Ray (2.60) frees it with the lineage later but leaves its entry in this
process's in-process object store: about 400 bytes, for the life of the process,
per such object.  Released after those results, it leaves nothing.  Ray keeps
the object in the object store for that time anyway, so holding its ObjectRef
here costs the object store nothing -- except when the results are small (kept
in this process, no lineage): then the object stays until they are released.

A task's pins are the objects put for it and the pins of the tasks whose results
it takes, as a tree of tuples: holding the root holds them all, and shared
subtrees keep a long chain of tasks linear in memory.  Whatever holds a task's
results holds its pins -- its :class:`~rayexec.state.TaskState` (which drops its
result first) and, until the task ends, the task itself (:func:`hold_until_done`)
-- so they go after the results, or with the last of them.  A value scattered
into the object store is an object put here too: its own state's pins are its
ObjectRef, which the graphs built on it hold in turn (a call holds its input
Futures anyway, in its state's ``spec``).

>>> combine(None, [None, None]) is None
True
>>> x = ("x",)
>>> combine("blob", [None, x, x])
('blob', ('x',))
"""

from __future__ import annotations

from typing import Any

from .data import INLINE_LIMIT
from .state import on_completed


def put_large(value: Any, size: int | None = None) -> tuple[Any, Any]:
    """``(argument, pin)`` for a task argument: ``(value, None)`` if Ray sends it
    inside the task, else ``(ref, ref)``: its ObjectRef, put here (where Ray would
    put it too) so that it can be pinned.  ``size``: its bytes, if known; else
    dask's ``sizeof`` estimates them.

    >>> put_large(b"small")
    (b'small', None)
    """
    if size is None:
        from dask.sizeof import sizeof

        size = sizeof(value)
    if size <= INLINE_LIMIT:
        return value, None
    import ray

    ref = ray.put(value)
    return ref, ref


def combine(own: Any, received: list) -> tuple | None:
    """The pins of a task: its own put object (or None) and the pins of its inputs' tasks."""
    found = list({id(pins): pins for pins in received if pins is not None}.values())
    if own is not None:
        return (own, *found)
    if len(found) == 1:
        return found[0]
    return tuple(found) or None


def hold_until_done(pins: tuple | None, receipt_ref) -> None:
    """Keep ``pins`` until the task behind ``receipt_ref`` has ended."""
    if pins is not None:
        on_completed(receipt_ref, lambda _value, _pins=pins: None)
