"""Client methods for data shared between clients: published datasets and collections.

Datasets live in one named actor per cluster (:mod:`rayexec.coordination.datasets`), so every
client connected to the cluster sees them, whichever process it runs in.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, MutableMapping
from typing import Any

from ..future import Future
from ..state import FINISHED, TaskState
from . import datasets

_no_default = "__no_default__"


class DatasetMethods:
    """Mixed into :class:`rayexec.Client`."""

    def publish_dataset(self, *args: Any, name=None, override: bool = False, **kwargs) -> None:
        """Share futures or (persisted) collections with other clients under a name.

        ``publish_dataset(x, name="n")``, ``publish_dataset({"n": x})`` or
        ``publish_dataset(n=x)``.  A name already taken raises ``KeyError``
        unless ``override=True``.  Publishing waits for the futures to finish:
        the store keeps its own copy of their data, so it outlives this client.

        >>> client.publish_dataset(client.scatter([1, 2]), name="pair")  # doctest: +SKIP
        >>> other_client.get_dataset("pair")                              # doctest: +SKIP
        [<Future: finished, type: int, key: int-...>, <Future: finished, ...>]
        """
        names, values = list(kwargs), list(kwargs.values())
        if name is not None:
            if not args:
                raise ValueError("publish_dataset(x, name=...) needs the dataset x to publish")
            names.append(name)
            values.append(args[0] if len(args) == 1 else args)
        elif args:
            if len(args) != 1 or not isinstance(args[0], Mapping):
                raise ValueError("publish_dataset without name= takes one {name: dataset} "
                                 f"dict, got {len(args)} positional argument(s)")
            names.extend(args[0])
            values.extend(args[0].values())
        blobs, futures = [], []
        for value in values:
            blob, found = datasets.dumps(value)
            blobs.append(blob)
            futures.append([(f.key, [self._ref_of(f)]) for f in found])
        datasets.call("put", names, blobs, futures, bool(override))

    def get_dataset(self, name, default=_no_default, **kwargs):
        """The dataset published as ``name`` (a list of names: a list of datasets).

        Missing names raise ``KeyError`` unless ``default`` is given.

        >>> client.get_dataset("pair")                # doctest: +SKIP
        [<Future: finished, type: int, key: int-...>, <Future: finished, ...>]
        >>> client.get_dataset("absent", default=None)  # doctest: +SKIP
        """
        names = name if isinstance(name, list) else [name]
        found = datasets.call("get", names)
        out = []
        for each, stored in zip(names, found, strict=True):
            if stored is None:
                if default == _no_default:
                    raise KeyError(f"Dataset '{each}' not found")
                out.append(default)
                continue
            blob, entries = stored
            out.append(datasets.loads(blob, entries, self._published_future))
        return out if isinstance(name, list) else out[0]

    def unpublish_dataset(self, name, **kwargs) -> None:
        """Remove one published dataset (or a list of them); its data is freed
        once no client holds futures on it.

        >>> client.unpublish_dataset("pair")  # doctest: +SKIP
        """
        datasets.call("delete", name if isinstance(name, list) else [name])

    def list_datasets(self, **kwargs) -> list:
        """The names of the published datasets, sorted.

        >>> client.list_datasets()  # doctest: +SKIP
        ['pair']
        """
        return datasets.call("list")

    @property
    def datasets(self) -> Datasets:
        """The published datasets as a mapping: ``client.datasets["name"] = x``."""
        return Datasets(self)

    # -- the first dask.distributed: named collections ------------------------------
    def set_collection(self, name, collection) -> None:
        """Store a dask collection under ``name`` for other clients (replacing one
        stored before): the early dask.distributed spelling of :meth:`publish_dataset`.

        >>> client.set_collection("mybag", db.from_sequence(range(5)))  # doctest: +SKIP
        """
        self.publish_dataset(collection, name=name, override=True)

    def get_collection(self, name):
        """The collection stored under ``name``; ``KeyError`` if there is none.

        >>> client.get_collection("mybag").compute()  # doctest: +SKIP
        [0, 1, 2, 3, 4]
        """
        return self.get_dataset(name)

    def _published_future(self, entry) -> Future:
        key, (ref,), value_type, failure = entry
        with self._lock:
            state = self._states.get(key)
            if state is None or state.status != FINISHED:
                if failure is None:
                    state = TaskState(key, ref, FINISHED, value_type)
                else:
                    state = TaskState(key, ref)
                    state.fail(failure)
                self._states[key] = state
        return Future(key, self, state)


class Datasets(MutableMapping):
    """``client.datasets``: the published datasets as a dict-like view.

    >>> client.datasets["x"] = client.scatter(1)  # doctest: +SKIP
    >>> list(client.datasets)                      # doctest: +SKIP
    ['x']
    """

    __slots__ = ("_client",)

    def __init__(self, client):
        self._client = client

    def __getitem__(self, name):
        return self._client.get_dataset(name)

    def __setitem__(self, name, value) -> None:
        self._client.publish_dataset(value, name=name)

    def __delitem__(self, name) -> None:
        if name not in self._client.list_datasets():
            raise KeyError(name)
        self._client.unpublish_dataset(name)

    def __iter__(self):
        return iter(self._client.list_datasets())

    def __aiter__(self):
        """``async for name in client.datasets`` -- an asynchronous client's only."""
        if not self._client.asynchronous:
            raise TypeError("async for over client.datasets needs an asynchronous client; "
                            "iterate with a plain for")
        return self._names_async()

    async def _names_async(self):
        names = self._client.list_datasets()
        if inspect.isawaitable(names):
            names = await names
        for name in names:
            yield name

    def __len__(self) -> int:
        return len(self._client.list_datasets())
