"""This process's memory, read the same way by the memory benchmarks
(``soak.py``, ``client_memory.py``, ``task_names_memory.py``).

Several readings, because the resident size alone mixes up what a client
holds with what it has merely touched:

- :func:`memory_mb`: the three below in one reading, as the benchmarks report it;
- :func:`resident_mb`: the resident memory, split into the process's own heap
  (anonymous), its mapped files (code), and the object store's shared pages it
  has mapped (Ray's plasma memory, counted in every process that reads or
  writes an object, owned by the node's store);
- :func:`malloc_in_use_mb`: what the C allocator has handed out and not got
  back (Ray's core worker, gRPC, numpy's and Python's larger objects), which
  unlike the resident size does not count what it keeps free or fragmented;
- :func:`python_pools_mb`: CPython's own allocator (small objects), the arenas it
  has mapped and what of them its live objects use: a 1 MB arena goes back to the
  system only once every object in it is gone;
- :func:`reference_count` and :func:`ray_store_entries`: Ray's reference
  table of this process, and the entries of its in-process object store;
- :class:`PythonHeld`: Python's allocations made since a baseline and still
  alive, with dask's and rayexec's bounded caches of keys emptied first, so that
  what remains is what nothing bounds.
"""

from __future__ import annotations

import ctypes
import gc
import os
import re
import sys
import tempfile
import tracemalloc

# /proc/self/status fields, in kB, by what they hold.
_STATUS_FIELDS = {"VmRSS": "rss", "RssAnon": "anonymous", "RssFile": "files",
                  "RssShmem": "object store pages"}


def trim() -> None:
    """Collect garbage and hand the allocator's free memory back to the system,
    so that what the allocator merely holds free does not count."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def resident_mb(trim_first: bool = True) -> dict[str, float]:
    """This process's resident memory in MB: ``rss`` and its parts
    ``anonymous``, ``files`` and ``object store pages``.

    >>> sorted(resident_mb())
    ['anonymous', 'files', 'object store pages', 'rss']
    """
    if trim_first:
        trim()
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            field, _, value = line.partition(":")
            if field in _STATUS_FIELDS:
                found[_STATUS_FIELDS[field]] = int(value.split()[0]) / 1024
    return found


class _MallInfo2(ctypes.Structure):
    # glibc's struct mallinfo2 (glibc 2.33 and later), all sizes in bytes
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def malloc_in_use_mb() -> float:
    """What glibc's allocator has handed out, in all its arenas, and not got back,
    in MB (``mallinfo2``: heap blocks in use plus blocks it mapped on their own),
    without what ``tracemalloc`` keeps of its own when it runs.

    >>> malloc_in_use_mb() > 0
    True
    """
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    tracing = tracemalloc.get_tracemalloc_memory() if tracemalloc.is_tracing() else 0
    return (info.uordblks + info.hblkhd - tracing) / 2**20


def memory_mb() -> dict[str, float]:
    """One reading of this process's memory in MB: the parts of
    :func:`resident_mb` (after ``malloc_trim``), ``malloc``
    (:func:`malloc_in_use_mb`) and CPython's pools (:func:`python_pools_mb`,
    when ``tracemalloc`` is not tracing).

    >>> sorted(memory_mb())  # doctest: +NORMALIZE_WHITESPACE
    ['anonymous', 'files', 'malloc', 'object store pages', 'python arenas',
     'python objects', 'rss']
    """
    return {**resident_mb(), "malloc": malloc_in_use_mb(), **python_pools_mb()}


def python_pools_mb() -> dict[str, float]:
    """CPython's small-object allocator, in MB: ``python arenas`` (mapped from the
    system, part of the resident size) and ``python objects`` (their blocks in use).
    CPython prints these numbers only (``sys._debugmallocstats``, on the C
    standard error), so they are read from there; and not while ``tracemalloc``
    traces (its hooks stand in for the allocator): then this is empty.

    >>> pools = python_pools_mb()
    >>> pools["python arenas"] >= pools["python objects"] > 0
    True
    """
    if tracemalloc.is_tracing():
        return {}
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(captured.fileno(), 2)
            sys._debugmallocstats()
            # Ray's core worker makes the C standard error buffered: flush it here.
            ctypes.CDLL("libc.so.6").fflush(None)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        text = captured.read().decode()
    arenas = re.search(r"^(\d+) arenas \* (\d+) bytes/arena", text, re.M)
    in_use = re.search(r"^# bytes in allocated blocks\s*=\s*([\d,]+)", text, re.M)
    if arenas is None or in_use is None:
        raise RuntimeError("sys._debugmallocstats printed no arena counts: this Python "
                           f"({sys.version.split()[0]}) lays them out otherwise")
    return {"python arenas": int(arenas[1]) * int(arenas[2]) / 2**20,
            "python objects": int(in_use[1].replace(",", "")) / 2**20}


def reference_count() -> int:
    """How many object references this process holds, by Ray's reference table.

    Ray's public view of it (``ray.util.state.list_objects``) needs the
    dashboard, which the soak's cluster does not run; the core worker's own
    table is the same data, read here in this one place.
    """
    import ray

    return len(ray._private.worker.global_worker.core_worker.get_all_reference_counts())


def ray_store_entries() -> int:
    """Entries in this process's in-process object store (Ray's memory store):
    the values under 100 KB it owns, and a marker for each object of its in the
    object store.  Ray's internals, read for a measurement: no public count exists.
    """
    import ray

    return ray._private.worker.global_worker.core_worker.get_memory_store_size()


def empty_bounded_caches() -> None:
    """Empty the two caches that fill with every graph's keys and are bounded:
    dask's ``key_split`` cache (100,000 keys; dask's array optimiser fills it in
    any client, distributed's too) and rayexec's table of its last 10,000 tasks."""
    from dask.utils import key_split

    from rayexec.keys import forget_recent_tasks

    key_split.cache_clear()
    forget_recent_tasks()


class PythonHeld:
    """Python's allocations made after :meth:`start` and still alive.

    >>> held = PythonHeld().start()
    >>> kept = [bytes(2**20)]
    >>> held.mb() >= 1.0
    True
    >>> held.stop()
    """

    def start(self) -> PythonHeld:
        tracemalloc.start()
        return self

    def mb(self, empty_caches: bool = True) -> float:
        """What is still alive, in MB; by default after the bounded caches are
        emptied (the caches' cost is what ``empty_caches=False`` adds)."""
        if empty_caches:
            empty_bounded_caches()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] / 2**20

    def sites(self, count: int = 5) -> list[str]:
        """The lines that allocated most of what is still alive."""
        top = tracemalloc.take_snapshot().statistics("lineno")[:count]
        return [f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}: "
                f"{stat.size / 2**20:.2f} MB in {stat.count} blocks" for stat in top]

    def stop(self) -> None:
        tracemalloc.stop()
