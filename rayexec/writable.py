"""Values that arrive writable, as distributed delivers them.

Ray hands out numpy arrays (and every other buffer a value pickles out of band:
pandas columns, arrays inside a scikit-learn model) as read-only views of its
object store.  distributed gives each reader its own writable copy, and code
written for it relies on that: a task that updates its input in place
(``x -= x.mean()``, ``model.partial_fit(...)`` on a model an earlier task
returned) fails on Ray with "assignment destination is read-only".

:func:`writable` wraps a value on its way into Ray (a task's result, a
scattered value, a call's argument).  The wrapper pickles the value with its
buffers out of band, so Ray still moves them without an extra copy, and on
arrival copies each buffer once into memory of the reader's own before
rebuilding the value -- one copy, as distributed makes on receipt.  The reader
gets the plain value, never the wrapper.

Large data stays zero-copy: a value whose buffers total more than
:data:`LIMIT` (64 MiB) arrives read-only, as Ray gives it -- a copy per reader
of data that size would cost more memory than an in-place update saves.  A value holding Ray
references (a Future, an actor) is left to Ray, which must see those references
to keep their objects alive for the reader.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import cloudpickle

# Values with no buffers to copy: Ray's own pickling is all they need.
PLAIN = (type(None), bool, int, float, complex, str, bytes)
LIMIT = 64 * 2**20  # bytes of buffers above which a value stays zero-copy, read-only


def writable(value: Any) -> Any:
    """``value``, made to arrive writable wherever Ray delivers it.

    The wrapper costs nothing until Ray serialises it: the value is pickled
    once, then, with its buffers out of band.  A value that turns out to have
    no buffers arrives as a fresh object all the same.

    >>> import numpy as np, pickle
    >>> arrived = pickle.loads(pickle.dumps(writable(np.zeros(3)), protocol=5))
    >>> arrived.flags.writeable, type(arrived).__name__
    (True, 'ndarray')
    >>> pickle.loads(pickle.dumps(writable([1, "a"])))
    [1, 'a']
    """
    if isinstance(value, PLAIN) or isinstance(value, BaseException) or _is_ray_reference(value):
        return value  # a top-level ObjectRef stays one: Ray resolves it for the task
    if _builtins_only(value, [_SMALL]):
        return value  # no buffers; Ray's own format for these (msgpack) rebuilds them exactly
    return _Writable(value)


_SMALL = 100  # leaves looked at before a container counts as one to wrap


def _builtins_only(value: Any, budget: list[int]) -> bool:
    """Whether ``value`` is a small list/tuple/dict of plain values (``budget``: leaves left)."""
    if isinstance(value, PLAIN):
        budget[0] -= 1
        return budget[0] >= 0
    if type(value) is dict:
        return all(_builtins_only(k, budget) and _builtins_only(v, budget)
                   for k, v in value.items())
    if type(value) in (list, tuple):
        return all(_builtins_only(item, budget) for item in value)
    return False


class _Writable:
    """A value that pickles with its buffers out of band and unpickles as the value."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __sizeof__(self) -> int:  # what dask's sizeof and sys.getsizeof report
        from dask.sizeof import sizeof

        return sizeof(self.value)

    def __reduce__(self):
        buffers: list[pickle.PickleBuffer] = []
        file = io.BytesIO()
        try:
            _Pickler(file, buffers.append).dump(self.value)
        except Exception:
            # A value holding Ray references goes through Ray's own pickling, which
            # must see them to keep their objects alive for the reader; so does one
            # this pickler refuses, for Ray to report it as it reports any argument.
            return _identity, (self.value,)
        payload = file.getvalue()
        if not buffers:
            return pickle.loads, (payload,)
        # Ray pickles these PickleBuffers out of band: no copy on the way in.
        if sum(buffer.raw().nbytes for buffer in buffers) > LIMIT:
            return _loads_in_place, (payload, *buffers)
        return _loads_writable, (payload, *buffers)


class _HoldsRayReference(Exception):
    """The value holds a Ray object or actor reference."""


class _Pickler(cloudpickle.Pickler):
    def __init__(self, file, buffer_callback):
        super().__init__(file, protocol=5, buffer_callback=buffer_callback)

    def reducer_override(self, obj):
        if _is_ray_reference(obj):
            raise _HoldsRayReference
        return super().reducer_override(obj)


def _is_ray_reference(obj) -> bool:
    module = type(obj).__module__
    if module != "ray" and not module.startswith("ray."):
        return False
    from ray import ObjectRef
    from ray.actor import ActorHandle

    return isinstance(obj, (ObjectRef, ActorHandle))


def _identity(value: Any) -> Any:
    return value


def _loads_writable(payload: bytes, *buffers) -> Any:
    # bytearray(...) copies a read-only view of Ray's store into the reader's memory.
    return pickle.loads(payload, buffers=[bytearray(buffer) for buffer in buffers])


def _loads_in_place(payload: bytes, *buffers) -> Any:
    # Over the limit: the value reads Ray's store in place, read-only, without a copy.
    return pickle.loads(payload, buffers=buffers)
