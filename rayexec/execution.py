"""What runs inside a Ray task: calling the user's function on resolved arguments.

Every rayexec task returns two objects: the value, which stays in the object
store until someone gathers it, and a *receipt* -- the value's type (see
``rayexec.value_types``), a few bytes -- that the client watches to learn that the task finished without
fetching the value (remote data stays remote).

Arguments (:func:`pack_arguments` on the client, :func:`run_call` in the task):
numbers, strings and top-level futures go to Ray as they are, a future as its
ObjectRef, which Ray resolves.  Any other call is pickled whole, in one bundle,
as distributed pickles a task: an object passed twice is pickled once.  Ray
does not look inside the bundle, so the futures in it are replaced by
:class:`Slot` placeholders, their refs follow the bundle as top-level
arguments, and :func:`run_call` puts the values back.
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
from .writable import PLAIN, writable


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


class ArgumentList(list):
    """A Ray task's top-level arguments, each object in it once; ``add`` says where.

    Ray (2.60) leaves an entry in the submitting process's in-process object
    store for good when one task takes the same ObjectRef twice, if the object
    is in the object store (``submit(add, x, x)``, a Future both an input of a
    graph part and in the arguments of its tasks).

    >>> arguments = ArgumentList(["x"])
    >>> arguments.add("y"), arguments.add("x"), arguments
    (1, 0, ['x', 'y'])
    """

    def __init__(self, values=()):
        super().__init__()
        self._at: dict[int, int] = {}  # id of a value -> its position (values stay alive here)
        for value in values:
            self.add(value)

    def add(self, value) -> int:
        index = self._at.setdefault(id(value), len(self))
        if index == len(self):
            self.append(value)
        return index


def pack_arguments(args: tuple, kwargs: dict, kind: type,
                   data_of: Callable[[Any], Any]) -> tuple[bool, tuple, dict]:
    """A call's arguments as a Ray task takes them: ``(bundled, args, kwargs)``.

    Leaves of type ``kind`` (Futures) become ``data_of(leaf)``, their data as
    a Ray argument, each once.  Numbers, strings and top-level futures go as
    they are; anything else -- or the same data twice -- makes one bundle of
    the whole call (see the module's docstring), and ``bundled`` tells
    :func:`run_call` so.

    >>> pack_arguments((1, "a"), {"b": 2.0}, Slot, None)
    (False, (1, 'a'), {'b': 2.0})
    >>> bundled, args, kwargs = pack_arguments(([1], Slot(7)), {}, Slot, lambda s: s.index)
    >>> bundled, args[1:], kwargs
    (True, (7,), {})
    >>> seven = Slot(7)
    >>> bundled, args, kwargs = pack_arguments((seven, seven), {}, Slot, lambda s: [s.index])
    >>> bundled, args[1:]
    (True, ([7],))
    """
    found: dict[int, Any] = {}  # id of a leaf -> its data: data_of once per leaf

    def data_once(leaf):
        if id(leaf) not in found:
            found[id(leaf)] = data_of(leaf)
        return found[id(leaf)]

    if all(isinstance(v, PLAIN) or isinstance(v, kind) for v in (*args, *kwargs.values())):
        plain = (tuple(data_once(a) if isinstance(a, kind) else a for a in args),
                 {k: data_once(v) if isinstance(v, kind) else v for k, v in kwargs.items()})
        sent = [v for v in (*plain[0], *plain[1].values()) if not isinstance(v, PLAIN)]
        if len({id(v) for v in sent}) == len(sent):
            return (False, *plain)
    deps = ArgumentList()
    bundle = replace((args, kwargs), kind, lambda leaf: Slot(deps.add(data_once(leaf))))
    return True, (writable(bundle), *deps), {}


def run_call(func: Callable, bundled: bool, args: tuple, kwargs: dict) -> tuple[Any, str]:
    """Run one call; returns ``(value, receipt)``.

    ``bundled``: ``args`` are the call's bundle, then the values of the
    futures in it, in :class:`Slot` order (see :func:`pack_arguments`).
    """
    if bundled:
        deps = args[1:]
        _raise_failed_inputs(deps)
        args, kwargs = replace(args[0], Slot, lambda slot: deps[slot.index])
    else:
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


def run_call_for_ray(func: Callable, bundled: bool, args: tuple, kwargs: dict) -> tuple:
    """:func:`run_call` in a Ray task or actor call: its value made to arrive writable."""
    value, receipt = run_call(func, bundled, args, kwargs)
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
    def task(bundled, /, *args, **kwargs):
        prepare()
        return run_call_for_ray(func, bundled, args, kwargs)

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
