"""Key names, as distributed spells them.

Keys are how users and dask recognise a result: a pure call is named after its
function and a token of its inputs, so the same call twice gets the same key and
runs once.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from dask.tokenize import tokenize
from dask.utils import funcname, key_split


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
    """The name Ray shows for a task computing ``keys``: their most common key
    prefixes (dask's ``key_split``), most frequent first -- never a whole key.

    Ray keeps metrics per task name in every process that submits or runs the
    task, for the process's life: a name per key grew a client by about 1 KB per
    task (68 MB in 63,000 tasks, measured), where a name per prefix stays flat.
    The keys themselves are found by task id (:func:`remember_task`).

    >>> task_name(["inc-1a2b"])
    'inc'
    >>> task_name([("random_sample-ab12", 0), ("random_sample-ab12", 1), "sum-cd34"])
    'random_sample,sum'
    """
    if len(keys) == 1:
        return key_prefix(keys[0])
    counts = Counter(key_prefix(key) for key in keys)
    return ",".join(prefix for prefix, _ in counts.most_common(most))


def key_prefix(key) -> str:
    """dask's ``key_split`` of ``key``, without dask's cache: the prefix rayexec
    names and groups keys by (task names, progress bars, charts, ``nbytes``).

    Each graph brings keys never seen before, so caching their prefixes only
    fills dask's cache of 100,000 keys in the client, about 20 MB (measured
    with ``benchmarks/client_memory.py``), and a miss costs several times an
    uncached split.

    >>> key_prefix(("random_sample-6d2bd3a0a1f34d0e8e84f7b0d6b8f11c", 0, 1))
    'random_sample'
    """
    return _split_uncached(key)


# dask's key_split is an LRU cache around the split itself (``__wrapped__``);
# looked up once, as key_prefix runs for every key of every graph.
_split_uncached = getattr(key_split, "__wrapped__", key_split)


# Tasks whose key is remembered after their futures are gone, for the task
# stream and ``story`` (distributed's scheduler keeps a bounded log too).
RECENT_TASKS = 10_000
_recent: OrderedDict = OrderedDict()  # Ray TaskID -> the key it computed
_recent_lock = threading.Lock()


def remember_task(ref, key) -> None:
    """Remember that the task returning ``ref`` computes ``key`` (the last
    :data:`RECENT_TASKS` tasks are kept).  Called per task: the id stays Ray's
    object, spelled out in hex only when looked up (the rare path)."""
    task_id = ref.task_id()
    with _recent_lock:
        _recent[task_id] = key
        if len(_recent) > RECENT_TASKS:
            _recent.popitem(last=False)


def forget_recent_tasks() -> None:
    """Forget the remembered tasks (their keys leave the task stream and ``story``).

    >>> forget_recent_tasks()
    >>> recent_task_key("00" * 24) is None
    True
    """
    with _recent_lock:
        _recent.clear()


def recent_task_key(task_id: str):
    """The key the task ``task_id`` (hex) computed, if it is among the remembered; else None."""
    if not _recent:
        return None
    from ray import TaskID

    try:
        return _recent.get(TaskID(bytes.fromhex(task_id)))
    except ValueError:  # not a Ray task id
        return None
