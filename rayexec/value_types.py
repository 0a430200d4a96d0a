"""The type of a task's result, told to the client without its value.

A finished task reports its value's type in its receipt (see
``rayexec.execution``), so that ``Future.type`` is the type object, as in
distributed, while the value stays in the object store.  The receipt carries a
builtin type by name and any other type pickled by reference (module and
name, a few dozen bytes); the client turns it back into the type when asked.
A type that cannot be pickled by reference (a class defined inside a function)
travels as its name, and ``Future.type`` is then None.

>>> resolve(describe(3))
<class 'int'>
>>> label(describe(3))
'int'
"""

from __future__ import annotations

import builtins
import functools
import pickle

from dask.utils import typename


def describe(value) -> str | bytes:
    """What a receipt says of ``value``'s type: a builtin's name, or the pickled type."""
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__name__
    try:
        return pickle.dumps(kind)  # by reference: the module and qualified name
    except Exception:  # a local class, or one its module does not expose
        return typename(kind)


@functools.lru_cache(maxsize=512)
def _load(pickled: bytes):
    try:
        return pickle.loads(pickled)
    except Exception:  # the type's module is not importable here
        return None


def resolve(description) -> type | None:
    """The type a receipt describes (None if unknown here)."""
    if description is None or isinstance(description, type):
        return description
    if isinstance(description, bytes):
        return _load(description)
    found = getattr(builtins, description, None)
    return found if isinstance(found, type) else None


def label(description) -> str | None:
    """The type's name as distributed shows it in a Future's repr: ``int``,
    ``numpy.ndarray``."""
    if description is None or isinstance(description, str):
        return description
    kind = resolve(description)
    return typename(kind) if kind is not None else "unknown"
