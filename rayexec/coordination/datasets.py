"""The published-datasets store: one named Ray actor per cluster, shared by all clients.

distributed keeps published datasets on its scheduler; on Ray the shared place
is a detached actor found by name, so any client connected to the cluster -- in
any process, at any time -- sees the same datasets, and they outlive the client
that published them.

A dataset is any object (a list of futures, a persisted dask collection).  It
travels as a pickle in which every Future is replaced by a numbered reference
(pickle's ``persistent_id``), next to the futures' ObjectRefs.  The store copies
each future's value into an object it owns itself: in Ray an object dies with the
process that created it, and a published dataset must not.

>>> blob, futures = dumps(["no futures here", 1])
>>> loads(blob, [], lambda entry: None)
['no futures here', 1]
"""

from __future__ import annotations

import io
import pickle
import threading
from collections.abc import Callable
from typing import Any

import cloudpickle

from ..future import Future
from ..workers import placement

STORE_NAME = "rayexec-datasets"
NAMESPACE = "rayexec"


class _FuturePickler(cloudpickle.Pickler):
    def __init__(self, file):
        super().__init__(file)
        self.futures: list[Future] = []

    def persistent_id(self, obj):
        if isinstance(obj, Future):
            self.futures.append(obj)
            return len(self.futures) - 1
        return None


class _FutureUnpickler(pickle.Unpickler):
    def __init__(self, file, make_future: Callable[[int], Any]):
        super().__init__(file)
        self._make_future = make_future

    def persistent_load(self, pid):
        return self._make_future(pid)


def dumps(obj: Any) -> tuple[bytes, list[Future]]:
    """``obj`` pickled with its futures left out; the futures in reference order."""
    buffer = io.BytesIO()
    pickler = _FuturePickler(buffer)
    pickler.dump(obj)
    return buffer.getvalue(), pickler.futures


def loads(blob: bytes, entries: list, make_future: Callable[[Any], Any]) -> Any:
    """Rebuild an object from :func:`dumps`, each future made by ``make_future(entry)``."""
    made: dict[int, Any] = {}

    def future_for(index: int):
        if index not in made:
            made[index] = make_future(entries[index])
        return made[index]

    return _FutureUnpickler(io.BytesIO(blob), future_for).load()


class DatasetStore:
    """The actor's state: name -> (pickled dataset, its futures as store-owned entries).

    An entry is ``(key, [ref], value_type, failure)``; the ref sits in a list so
    that Ray hands it over as a reference instead of resolving it.
    """

    def __init__(self):
        self._datasets: dict[Any, tuple[bytes, list]] = {}
        self._lock = threading.Lock()

    def put(self, names: list, blobs: list[bytes], futures: list[list], override: bool) -> None:
        with self._lock:
            taken = [n for n in names if n in self._datasets]
        if taken and not override:
            raise KeyError(f"Dataset {taken[0]} already exists")
        owned = [[self._own(key, box[0]) for key, box in entries] for entries in futures]
        with self._lock:
            if not override:
                taken = [n for n in names if n in self._datasets]
                if taken:
                    raise KeyError(f"Dataset {taken[0]} already exists")
            for name, blob, entries in zip(names, blobs, owned, strict=True):
                self._datasets[name] = (blob, entries)

    @staticmethod
    def _own(key, ref):
        import ray

        from ..errors import RemoteFailure
        from ..value_types import describe

        try:
            value = ray.get(ref)
        except ray.exceptions.RayError as error:
            return (key, [ref], None, RemoteFailure(error))
        if type(value) is RemoteFailure:
            return (key, [ref], None, value)
        return (key, [ray.put(value)], describe(value), None)

    def get(self, names: list) -> list:
        with self._lock:
            return [self._datasets.get(name) for name in names]

    def delete(self, names: list) -> None:
        with self._lock:
            for name in names:
                self._datasets.pop(name, None)

    def list(self) -> list:
        with self._lock:
            return sorted(self._datasets, key=str)


_store_lock = threading.Lock()


def store():
    """The cluster's dataset store actor, created by the first client that needs it."""
    import ray

    with _store_lock:
        actor = ray.remote(DatasetStore).options(
            name=STORE_NAME, namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
            **placement.head_options(),
            num_cpus=0, max_concurrency=16)
        return actor.remote()


def call(method: str, *args) -> Any:
    """Call ``method`` of the store and wait for its answer."""
    import ray

    from ..errors import user_exception

    try:
        return ray.get(getattr(store(), method).remote(*args))
    except ray.exceptions.RayTaskError as error:
        raise user_exception(error) from None
