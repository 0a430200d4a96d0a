"""Key names, as distributed spells them.

Keys are how users and dask recognise a result: a pure call is named after its
function and a token of its inputs, so the same call twice gets the same key and
runs once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from dask.tokenize import tokenize
from dask.utils import funcname


def submit_key(func: Callable, args: tuple, kwargs: dict, pure: bool = True) -> str:
    """The key of ``submit(func, *args, **kwargs)``.

    >>> def inc(x):
    ...     return x + 1
    >>> submit_key(inc, (1,), {}) == submit_key(inc, (1,), {})
    True
    >>> submit_key(inc, (1,), {}).startswith("inc-")
    True
    >>> submit_key(inc, (1,), {}, pure=False) == submit_key(inc, (1,), {}, pure=False)
    False
    """
    if pure:
        return f"{funcname(func)}-{tokenize(func, kwargs, *args)}"
    return f"{funcname(func)}-{uuid.uuid4().hex}"


def map_keys(
    func: Callable, elements: list[tuple], kwargs: dict, key: Any = None, pure: bool = True
) -> list[str]:
    """The keys of ``map(func, *iterables, **kwargs)``, one per element (a tuple of args).

    ``key`` is a prefix (default: the function's name) or a list of keys taken
    verbatim.

    >>> map_keys(str, [(1,), (2,)], {}, key=["a", "b"])
    ['a', 'b']
    >>> [k.split("-")[0] for k in map_keys(str, [(1,), (2,)], {})]
    ['str', 'str']
    """
    if isinstance(key, Iterable) and not isinstance(key, str):
        keys = list(key)
        if len(keys) != len(elements):
            raise ValueError(f"map got {len(keys)} keys for {len(elements)} elements")
        return keys
    prefix = key or funcname(func)
    if pure:
        func_token = tokenize(func, kwargs)
        return [f"{prefix}-{tokenize(func_token, args)}" for args in elements]
    uid = uuid.uuid4()
    return [f"{prefix}-{uid}-{i}" for i in range(len(elements))]


def data_key(value: Any, hash: bool = True) -> str:
    """The key of one scattered value: ``<typename>-<token>``.

    >>> data_key(1) == data_key(1)
    True
    >>> data_key(1).startswith("int-")
    True
    """
    token = tokenize(value) if hash else uuid.uuid4().hex
    return f"{type(value).__name__}-{token}"


def task_name(keys: list, most: int = 3) -> str:
    """The name Ray shows for a task computing ``keys``: the key itself for one key,
    else the most common key prefixes (dask's ``key_split``), most frequent first.

    >>> task_name(["inc-1a2b"])
    'inc-1a2b'
    >>> task_name([("random_sample-ab12", 0), ("random_sample-ab12", 1), "sum-cd34"])
    'random_sample,sum'
    """
    from collections import Counter

    from dask.utils import key_split

    if len(keys) == 1:
        return str(keys[0])
    counts = Counter(key_split(key) for key in keys)
    return ",".join(prefix for prefix, _ in counts.most_common(most))
