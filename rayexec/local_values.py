"""Small scattered values, kept on the client instead of the object store.

``ray.put`` of a small value costs about half a millisecond on the client, and
every task reading it then fetches it from the object store.  Ray itself sends
task arguments under 100 KB inside the task, so a small scattered value is kept
here and handed to each task that uses it as a plain argument; it goes into the
object store only when something needs an ObjectRef (a Future pickled into
another process, ``who_has``, a published dataset).

Like distributed's scatter, the value is copied when scattered: changing the
original afterwards changes nothing on the cluster.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
from typing import Any

import cloudpickle

# A value used by many tasks is copied into each of them, so the limit stays
# far below Ray's 100 KB inline limit for arguments.
LOCAL_LIMIT = 16 * 1024
# Immutable: no copy is needed to keep them.  Exact types only -- a subclass
# may carry mutable attributes.
_IMMUTABLE = frozenset({int, float, complex, bool, str, bytes, type(None)})


class _HoldsReference(Exception):
    """The value refers to remote data; only the object store tracks such references."""


@functools.cache
def _reference_types() -> tuple:
    from ray import ObjectRef

    from .future import Future

    return ObjectRef, Future


class _Pickler(cloudpickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _reference_types()):
            raise _HoldsReference
        return None


class LocalValue:
    """One small value held on the client: itself if immutable, else its pickle."""

    __slots__ = ("_value", "_pickled")

    def __init__(self, value: Any = None, pickled: bytes | None = None):
        self._value = value
        self._pickled = pickled

    def value(self) -> Any:
        """The value; a fresh copy each time for a mutable one."""
        if self._pickled is None:
            return self._value
        return pickle.loads(self._pickled)


def keep_local(value: Any) -> LocalValue | None:
    """A :class:`LocalValue` for a small ``value``; None if it belongs in the object store.

    >>> keep_local(42).value()
    42
    >>> keep_local([1, 2]).value()
    [1, 2]
    >>> keep_local(b"x" * 10**6) is None
    True
    """
    if sys.getsizeof(value) > LOCAL_LIMIT:  # cheap: the shallow size already says no
        return None
    if type(value) in _IMMUTABLE:
        return LocalValue(value)
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception:  # references remote data, or unpicklable: ray.put says which
        return None
    if buffer.tell() > LOCAL_LIMIT:
        return None
    return LocalValue(pickled=buffer.getvalue())
