"""What runs inside a Ray task: calling the user's function on resolved arguments.

Every rayexec task returns two objects: the value, which stays in the object
store until someone gathers it, and a *receipt* -- the value's type (see
``rayexec.value_types``), a few bytes -- that the client watches to learn that the task finished without
fetching the value (remote data stays remote).

Arguments: futures passed at the top level are handed to Ray as ObjectRefs and
Ray resolves them.  Ray does not look inside containers, so futures nested in
lists/dicts are replaced by :class:`Slot` placeholders, their refs are appended
as extra top-level arguments, and :func:`run_call` puts the values back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import cloudpickle
from dask.utils import funcname

from .errors import RemoteFailure, record_traceback
from .nesting import replace
from .value_types import describe
from .writable import writable


class Slot:
    """Stands in a task's arguments for the value of the ``index``-th dependency."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __reduce__(self):
        return (Slot, (self.index,))


def _raise_failed_inputs(values) -> None:
    # An input that is the failure of a batched element fails this task the same
    # way.  Such inputs can only come from resolved refs, which sit at the top
    # level of the arguments, so no deep walk is needed.
    for value in values:
        if type(value) is RemoteFailure:
            raise value.exception


def run_call(func: Callable, layout: int | None, args: tuple, kwargs: dict) -> tuple[Any, str]:
    """Run one call; returns ``(value, receipt)``.

    ``layout`` is None when no argument holds a nested future; otherwise it is
    the number of user arguments, and the arguments after them are the values
    of the nested futures, in :class:`Slot` order.
    """
    if layout is not None:
        deps = args[layout:]
        args = args[:layout]
        _raise_failed_inputs(deps)

        def fill(slot):
            return deps[slot.index]

        args = replace(args, Slot, fill)
        kwargs = replace(kwargs, Slot, fill)
    _raise_failed_inputs(args)
    _raise_failed_inputs(kwargs.values())
    try:
        value = func(*args, **kwargs)
    except BaseException as exc:
        carried = record_traceback(exc)
        if carried is exc:
            raise
        raise carried from None
    return value, describe(value)


def run_call_for_ray(func: Callable, layout, args: tuple, kwargs: dict) -> tuple:
    """:func:`run_call` in a Ray task or actor call: its value made to arrive writable."""
    value, receipt = run_call(func, layout, args, kwargs)
    return writable(value), receipt


def run_batch(func: Callable, kwargs: dict, elements: list[tuple], retries: int) -> tuple:
    """Run ``func`` on each element; one value per element, then one receipt for all.

    The receipt lists, per element, its value's type or its
    :class:`RemoteFailure`.  An element's exception does not stop its siblings.
    """
    values: list = []
    receipt: list = []
    for args in elements:
        for attempt in range(retries + 1):
            try:
                value = func(*args, **kwargs)
            except Exception as exc:
                if attempt < retries:
                    continue
                failure = RemoteFailure(record_traceback(exc))
                values.append(failure)
                receipt.append(failure)
            else:
                values.append(writable(value))
                receipt.append(describe(value))
            break
    return (*values, receipt)


def _call_task(func, prepare):
    def task(layout, /, *args, **kwargs):
        prepare()
        return run_call_for_ray(func, layout, args, kwargs)

    return _named_after(task, func)


def _batch_task(func, prepare):
    def task(kwargs, elements, retries):
        prepare()
        return run_batch(func, kwargs, elements, retries)

    return _named_after(task, func)


def _nothing_to_prepare() -> None:
    pass


def _named_after(task, func):
    """``task`` under ``func``'s name: Ray names a task after its function (in the
    dashboard, ``ray list tasks``, ``ray summary tasks``, ``ray timeline``), so the
    user's ``inc`` shows as ``inc`` rather than as rayexec's wrapper."""
    task.__name__ = task.__qualname__ = funcname(func)
    return task


class RemoteFunctions:
    """Ray remote functions for user functions, made once per function.

    Ray ships a remote function to the cluster once and workers cache it, so a
    function submitted 10,000 times is pickled once -- as raw Ray does.  The
    cache is bounded and keyed by the function object.

    ``prepare`` runs in the worker process before each call (it travels by
    reference): the worker's own set-up, such as its preloads, which this
    module knows nothing of.
    """

    def __init__(self, size: int = 512, prepare: Callable[[], None] | None = None):
        self._cache: OrderedDict = OrderedDict()
        self._size = size
        self._prepare = prepare or _nothing_to_prepare

    def call(self, func: Callable):
        """The remote function running ``func`` on one call (two returns)."""
        return self._get(func)[0]

    def batch(self, func: Callable):
        """The remote function running ``func`` on a batch of elements."""
        return self._get(func)[1]

    def _get(self, func):
        try:
            entry = self._cache.get(func)
        except TypeError:  # an unhashable callable: build, don't cache
            return self._make(func)
        if entry is None:
            entry = self._make(func)
            self._cache[func] = entry
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return entry

    def _make(self, func):
        import ray

        if not callable(func):
            raise TypeError(f"expected a callable to run on the cluster, got {func!r}")
        try:
            cloudpickle.dumps(func)
        except Exception as exc:
            raise TypeError(
                f"rayexec cannot serialise the function {func!r} to send it to the "
                f"cluster: {type(exc).__name__}: {exc}"
            ) from exc
        call = ray.remote(num_returns=2)(_call_task(func, self._prepare))
        batch = ray.remote(_batch_task(func, self._prepare))
        return call, batch
