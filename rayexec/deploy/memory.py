"""distributed's ``memory_limit`` as the sizes of Ray nodes on this machine.

A distributed worker has one memory limit: its nanny restarts it near 95 % of
it.  A Ray node has two sizes instead:

- ``memory``, a *logical* resource: what ``scheduler_info()`` reports as the
  worker's ``memory_limit``, and what tasks asking for ``resources={"memory":
  ...}`` are scheduled against.  Ray does not stop a process that uses more.
- the object store, shared memory holding results and scattered data.  A node
  gets its share of this machine's store (see :func:`default_object_store_memory`),
  and no more than 30 % of its ``memory_limit`` (Ray's own ratio of store to RAM).

What stops a runaway task on Ray is its *memory monitor*: when the memory in
use on the whole machine passes ``RAY_memory_usage_threshold`` (95 % by
default) it kills the worker process of the most recently started task, which
is retried if it may be.  It watches the machine, not one node's limit.

>>> node_sizes("1GB", n_workers=2, store_share=4 * 2**30)
(1000000000, 300000000)
>>> node_sizes(None, n_workers=1, store_share=2**30)
(None, 1073741824)
"""

from __future__ import annotations

import os

# Ray refuses an object store below 75 MiB.
MIN_OBJECT_STORE = 75 * 2**20
STORE_FRACTION = 0.3


def total_memory() -> int:
    """This machine's RAM in bytes (0 if the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def default_object_store_memory() -> int:
    """The object store of a local cluster, all its nodes together.

    Ray's default (30 % of RAM per node) is right for a dedicated machine; on a
    laptop or a shared box a quarter, capped at 4 GiB, leaves room for the work
    itself, and is enough for arrays of hundreds of MB.
    """
    total = total_memory()
    return int(min(total // 4, 4 * 2**30)) if total else 2 * 2**30


def memory_limit_bytes(memory_limit, n_workers: int = 1) -> int | None:
    """Bytes per worker for distributed's ``memory_limit``; ``None``: no limit.

    ``"auto"`` shares this machine's memory among the workers, a float up to 1
    is a fraction of it, a string is a size (``"4 GiB"``), ``0``/``None`` mean
    no limit, as in distributed.

    >>> memory_limit_bytes("2 GiB")
    2147483648
    >>> memory_limit_bytes(0) is None
    True
    """
    if memory_limit is None or memory_limit == 0:
        return None
    if memory_limit == "auto":
        return total_memory() // max(1, n_workers) or None
    if isinstance(memory_limit, str):
        from dask.utils import parse_bytes

        try:
            return int(parse_bytes(memory_limit))
        except (ValueError, TypeError):
            raise ValueError(f"memory_limit={memory_limit!r} is not a size such as "
                             "'4GB', 'auto', a fraction or a number of bytes") from None
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, (int, float)):
        raise TypeError(f"memory_limit must be a size such as '4GB', 'auto', a fraction "
                        f"or a number of bytes, got {memory_limit!r}")
    if memory_limit < 0:
        raise ValueError(f"memory_limit must not be negative, got {memory_limit!r}")
    if isinstance(memory_limit, float) and memory_limit <= 1:
        return int(total_memory() * memory_limit) or None
    return int(memory_limit)


def node_sizes(memory_limit, n_workers: int, store_share: int) -> tuple[int | None, int]:
    """``(memory resource, object store bytes)`` for each of ``n_workers`` nodes.

    ``store_share`` is the object store of all the nodes together.
    """
    memory = memory_limit_bytes(memory_limit, n_workers)
    store = store_share // max(1, n_workers)
    if memory is not None:
        store = min(store, int(memory * STORE_FRACTION))
    return memory, max(MIN_OBJECT_STORE, store)
