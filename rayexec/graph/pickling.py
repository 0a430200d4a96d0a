"""Shipping graph parts that hold futures: each future travels as a Ray input.

A future may sit anywhere in a graph -- as a ``DataNode``'s value
(``persist`` builds collections like that), inside a task's arguments
(``dask.delayed(f)(future)``), inside a ``functools.partial``.  Rather than
knowing every place, the part is pickled with a pickler that, wherever it meets
an object of the given kind, records it and writes a small placeholder.  The
Ray task receives the recorded futures' ObjectRefs as top-level arguments, so
Ray delivers their values (and waits for them); unpickling puts each value where
its placeholder was.

>>> from fractions import Fraction
>>> blob, found = dumps({"a": [Fraction(1, 2), 2]}, Fraction)
>>> found
[Fraction(1, 2)]
>>> loads(blob, ["one half"])
{'a': ['one half', 2]}
"""

from __future__ import annotations

import io
import threading
from typing import Any

import cloudpickle

from ..errors import RemoteFailure

_loading = threading.local()


class _Pickler(cloudpickle.Pickler):
    def __init__(self, file, kind: type):
        super().__init__(file, protocol=5)
        self.kind = kind
        self.found: list = []
        self._index: dict[int, int] = {}

    def reducer_override(self, obj):
        if isinstance(obj, self.kind):
            index = self._index.get(id(obj))
            if index is None:
                index = self._index[id(obj)] = len(self.found)
                self.found.append(obj)
            return _placed, (index,)
        return super().reducer_override(obj)


def dumps(obj: Any, kind: type) -> tuple[bytes, list]:
    """``obj`` pickled with each object of type ``kind`` left out; the bytes and those objects."""
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, kind)
    pickler.dump(obj)
    return buffer.getvalue(), pickler.found


def loads(blob: bytes, values: list) -> Any:
    """Unpickle what :func:`dumps` made, ``values[i]`` standing for the i-th object left out.

    A value that is a failed future's :class:`RemoteFailure` raises its exception:
    what was built on it cannot run.
    """
    for value in values:
        if type(value) is RemoteFailure:
            raise value.exception
    _loading.values = values
    try:
        return cloudpickle.loads(blob)
    finally:
        _loading.values = None


def _placed(index: int):
    return _loading.values[index]
