"""Client methods for dask graphs and collections: get, compute, persist.

Whatever the entry point, a graph goes the same way: normalised to task-spec
nodes (``rayexec.graph.normalize``), cut into parts of many tasks each
(``rayexec.graph.partition``), one Ray task per part (``rayexec.graph.submit``),
and one Future per requested key.  ``docs/dask.md`` explains the design.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dask
from dask.core import flatten

from .. import defaults
from ..future import Future
from ..state import CANCELLED, ERROR, LOST
from ..workers import nodes
from . import default_scheduler
from .normalize import flat_keys, normalize, pack
from .partition import partition
from .submit import launch


class DaskMethods:
    """Mixed into :class:`rayexec.Client`."""

    def get(self, dsk, keys, workers=None, allow_other_workers=None, resources=None,
            sync=True, asynchronous=None, direct=None, retries=None, priority=0,
            fifo_timeout="60s", actors=None, **kwargs):
        """Compute the dask graph ``dsk``; the values of ``keys`` (nested lists keep their shape).

        ``dsk`` is a dict of legacy tuples or ``dask._task_spec`` nodes, a
        HighLevelGraph, or the expression ``dask.compute`` hands a scheduler.
        ``sync=False`` returns Futures instead of values.

        >>> from operator import add
        >>> client.get({"x": 1, "y": (add, "x", 2)}, ["y", ["x"]])  # doctest: +SKIP
        [3, [1]]
        """
        futures = self._graph_to_futures(
            dsk, flat_keys(keys), workers=workers, allow_other_workers=allow_other_workers,
            resources=resources, retries=retries, priority=priority, actors=actors)
        packed = pack(keys, futures.__getitem__)
        if not sync:
            return packed
        try:
            return self.gather(packed)
        finally:
            # as distributed: the graph's keys go with the call, also when it raised
            # (the exception's traceback holds these Futures until a gc run)
            for future in futures.values():
                future.release()

    def compute(self, collections, sync=False, optimize_graph=True, workers=None,
                allow_other_workers=False, resources=None, retries=0, priority=0,
                fifo_timeout="60s", actors=None, traverse=True, **kwargs):
        """Start computing dask collections; a Future per collection (values if ``sync``).

        A list (or tuple, set) gives a list; one collection gives one Future.
        Non-dask objects in the list come back as they are.

        >>> import dask.array as da
        >>> future = client.compute(da.ones(10, chunks=5).sum())  # doctest: +SKIP
        >>> future.result()                                         # doctest: +SKIP
        np.float64(10.0)
        """
        from dask._expr import FinalizeCompute
        from dask.base import collections_to_expr

        singleton = not isinstance(collections, (list, tuple, set, frozenset))
        if singleton:
            collections = [collections]
        if traverse:
            collections = [dask.delayed(c) if isinstance(c, (list, set, tuple, dict, Iterator))
                           else c for c in collections]
        variables = [c for c in collections if dask.is_dask_collection(c)]
        futures: dict = {}
        names: list = []
        if variables:
            expr = FinalizeCompute(collections_to_expr(variables, optimize_graph)).optimize()
            names = list(flatten(expr.__dask_keys__()))
            futures = self._graph_to_futures(
                expr, names, workers=workers, allow_other_workers=allow_other_workers,
                resources=resources, retries=retries, priority=priority, actors=actors)
        found = iter(names)
        result = [futures[next(found)] if dask.is_dask_collection(c) else c
                  for c in collections]
        if sync:
            result = self.gather(result)
        return result[0] if singleton else result

    def persist(self, collections, optimize_graph=True, workers=None,
                allow_other_workers=None, resources=None, retries=None, priority=0,
                fifo_timeout="60s", actors=None, **kwargs):
        """Start computing dask collections; the same collections, backed by Futures.

        Returns at once; the new collections' tasks read the Futures' values, so
        computing them later does not redo the work.  ``dask.persist(x)`` comes
        here while this client is dask's scheduler.

        >>> import dask.array as da
        >>> x = client.persist(da.ones(10, chunks=5))  # doctest: +SKIP
        >>> x.sum().compute()                            # doctest: +SKIP
        np.float64(10.0)
        """
        from dask.base import collections_to_expr

        singleton = not isinstance(collections, (list, tuple, set, frozenset))
        if singleton:
            collections = [collections]
        collections = list(collections)
        if not all(dask.is_dask_collection(c) for c in collections):
            raise TypeError("persist takes dask collections; compute other objects "
                            "with submit or scatter")
        expr = collections_to_expr(collections, optimize_graph).optimize()
        keys = expr.__dask_keys__()
        futures = self._graph_to_futures(
            expr, list(flatten(keys)), workers=workers, allow_other_workers=allow_other_workers,
            resources=resources, retries=retries, priority=priority, actors=actors)
        result = []
        for collection, collection_keys in zip(collections, keys, strict=True):
            rebuild, args = collection.__dask_postpersist__()
            result.append(rebuild({k: futures[k] for k in flatten([collection_keys])}, *args))
        return result[0] if singleton else result

    def normalize_collection(self, collection):
        """``collection`` with the tasks of keys this client holds replaced by their Futures.

        The graph shrinks to what is still missing; computing it does not redo
        work already on the cluster.

        >>> y = client.normalize_collection(x)  # doctest: +SKIP
        """
        from dask._task_spec import DataNode, cull

        graph = normalize(collection.__dask_graph__()).nodes
        with self._lock:
            held = self._held_states(graph)
        held = {key: state for key, state in held.items() if key in graph}
        if not held:
            return collection
        for key, state in held.items():
            graph[key] = DataNode(key, Future(key, self, state))
        graph = cull(graph, list(flatten(collection.__dask_keys__())))
        rebuild, args = collection.__dask_postpersist__()
        return rebuild(graph, *args)

    def _graph_to_futures(self, dsk, keys: list, actors=None, **options) -> dict[Any, Future]:
        """Launch what computing ``keys`` of ``dsk`` takes; a Future per key.

        ``options`` (``workers``, ``resources``, ``retries``, ``priority``,
        ``allow_other_workers``) apply to every task the graph does not annotate
        otherwise; ``dask.annotate`` values around the call count too.
        ``actors``: tasks (delayed objects or keys) whose class becomes an actor;
        the tasks using them get its :class:`~rayexec.Actor` proxy.
        """
        self._check_open()
        graph = normalize(dsk)
        started_actors = self._start_actors(graph, actors)
        call_defaults = {**dask.get_annotations(),
                         **{k: v for k, v in options.items() if v}}
        with self._lock:
            # a requested key may be a future's own (dask.delayed(future) is its key)
            held = self._held_states(graph.nodes, keys)
        parts = partition(graph, keys, held, nodes.cluster_cpus(), call_defaults)
        states = {**held, **launch(self, parts, held)}
        del started_actors  # held until the tasks using them were launched
        return {key: Future(key, self, states[key]) for key in keys}

    def _start_actors(self, graph, actors) -> list[Future]:
        """Create the graph's ``actors=`` tasks as actors, under their own keys:
        the graph then reads them as held data (their proxies)."""
        if actors is None or actors is False:
            return []
        if actors is True:
            raise NotImplementedError("actors=True (every task an actor) is not supported; "
                                      "name the tasks: actors=[delayed_object, ...]")
        wanted = actors if isinstance(actors, (list, tuple, set)) else [actors]
        keys = [k for a in wanted for k in (flatten(a.__dask_keys__())
                                          if dask.is_dask_collection(a) else [a])]
        started = []
        for key in keys:
            node = graph.nodes.get(key)
            if node is None:
                continue  # not part of this graph
            if node.dependencies or not isinstance(getattr(node, "func", None), type):
                raise ValueError(f"actors=: {key!r} must be a class called on plain values "
                                 "(dask.delayed(Cls)(1, 2)) to become an actor")
            started.append(self.submit(node.func, *node.args, key=key, actor=True,
                                       **node.kwargs))
        return started

    def _held_states(self, nodes: dict, requested=()) -> dict:
        """The client's live states for keys in ``nodes``, needed by them or
        ``requested``: inputs, not tasks."""
        table = self._states
        candidates = set(nodes).union(requested)
        for node in nodes.values():
            candidates.update(node.dependencies)
        held = {}
        for key in candidates:
            state = table.get(key)
            if state is not None and state.has_data() and state.status not in (
                    CANCELLED, ERROR, LOST):
                held[key] = state
        return held

    def _activate_dask(self) -> None:
        """Called when this client becomes the default: make dask compute on it."""
        default_scheduler.activate(self)

    def _deactivate_dask(self) -> None:
        """Called when this client closes: give dask back its previous scheduler."""
        default_scheduler.deactivate(self, defaults.current_client())
