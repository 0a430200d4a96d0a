"""Walking nested containers: find the leaves of one kind, rebuild with them replaced.

Futures may sit anywhere inside lists, tuples, sets and dicts -- as task
arguments, in ``gather``'s input -- and the containers must come back in the
same shape.  These two functions are the only place that knows which
containers are walked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_CONTAINERS = (list, tuple, dict, set, frozenset)


def collect(obj: Any, kind: type | tuple[type, ...]) -> list:
    """Every leaf of type ``kind`` inside ``obj``, in order of appearance.

    >>> collect([1, (2, {"a": 3.0}), {4.5}], float)
    [3.0, 4.5]
    """
    found: list = []
    _collect(obj, kind, found)
    return found


def _collect(obj, kind, found):
    if isinstance(obj, kind):
        found.append(obj)
    elif type(obj) in _CONTAINERS or isinstance(obj, _CONTAINERS):
        for item in obj.values() if isinstance(obj, dict) else obj:
            _collect(item, kind, found)


def replace(obj: Any, kind: type | tuple[type, ...], fn: Callable[[Any], Any]) -> Any:
    """``obj`` with every leaf of type ``kind`` replaced by ``fn(leaf)``; same shape.

    Containers holding no such leaf are returned as they are, not copied.

    >>> replace([1, (2.0, {"a": 3.0})], float, int)
    [1, (2, {'a': 3})]
    """
    if isinstance(obj, kind):
        return fn(obj)
    if not isinstance(obj, _CONTAINERS):
        return obj
    if isinstance(obj, dict):
        items = {k: replace(v, kind, fn) for k, v in obj.items()}
        if all(items[k] is v for k, v in obj.items()):
            return obj
        return type(obj)(items) if type(obj) is not dict else items
    items = [replace(item, kind, fn) for item in obj]
    if all(new is old for new, old in zip(items, obj)):
        return obj
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*items)
    return type(obj)(items)
