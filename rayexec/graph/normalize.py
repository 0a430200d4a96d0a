"""Turning whatever dask hands a scheduler into one graph shape: ``{key: GraphNode}``.

A scheduler's ``get(dsk, keys)`` receives an expression (``dask.compute`` hands
over an ``_HLGExprSequence``), a ``HighLevelGraph``, or a plain dict whose values
are legacy tuples (``{"y": (inc, "x")}``) or ``dask._task_spec`` nodes (``Task``,
``Alias``, ``DataNode``...).  dask's own tools do all the reading: the
expression materialises its graph and annotations, ``convert_legacy_graph``
turns tuples into task-spec nodes.  rayexec only ever walks task-spec nodes.

``keys`` may be one key or nested lists of keys; the answer keeps that nesting.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from dask._task_spec import GraphNode, convert_legacy_graph
from dask.core import flatten


class Graph:
    """A normalised graph: its nodes and its annotations by kind.

    ``annotations`` maps an annotation name (``"workers"``, ``"resources"``,
    ``"retries"``, ``"priority"``, ``"allow_other_workers"``...) to
    ``{key: value}``, as ``Expr.__dask_annotations__`` gives them.

    >>> from operator import add
    >>> g = normalize({"x": 1, "y": (add, "x", 10)})
    >>> sorted(g.nodes), sorted(g.nodes["y"].dependencies)
    (['x', 'y'], ['x'])
    """

    __slots__ = ("nodes", "annotations")

    def __init__(self, nodes: dict[Any, GraphNode], annotations: dict[str, dict]):
        self.nodes = nodes
        self.annotations = annotations


def normalize(dsk: Any) -> Graph:
    """``dsk`` (an Expr, a HighLevelGraph or a dict of either task format) as a :class:`Graph`."""
    from dask._expr import Expr, HLGExpr
    from dask.highlevelgraph import HighLevelGraph

    if isinstance(dsk, HighLevelGraph):
        dsk = HLGExpr(dsk)
    elif isinstance(dsk, Mapping):
        # A plain dict carries no annotations.  (Wrapping it in an expression
        # would tokenize every task: slow, and it fails for unhashable data.)
        return Graph(_keyed(convert_legacy_graph(dict(dsk))), {})
    if not isinstance(dsk, Expr):
        raise TypeError("get expects a dask graph: a dict, a HighLevelGraph or a dask "
                        f"expression, got {type(dsk).__name__}")
    nodes = _keyed(convert_legacy_graph(dict(dsk.__dask_graph__())))
    return Graph(nodes, dict(dsk.__dask_annotations__() or {}))


def _keyed(nodes: dict) -> dict:
    """``nodes`` with each node's own key the one the graph files it under.

    A graph may file a node under another key than its own: a persisted
    collection's data, taken into a later graph, is a ``DataNode`` keyed by
    the collection's name (``"delayed-..."``) filed under a partition's key
    (``("delayed-...", 0)``).  dask's schedulers go by the graph's key, and
    the partitioner and the part runner go by the node's: make them agree.

    >>> from dask._task_spec import DataNode
    >>> _keyed({("x", 0): DataNode("x", 1)})[("x", 0)].key
    ('x', 0)
    """
    for key, node in nodes.items():
        if node.key != key:
            node = copy.copy(node)  # the caller's graph stays as it was
            node.key = key
            nodes[key] = node
    return nodes


def flat_keys(keys: Any) -> list:
    """The keys of a possibly nested list of keys, in order.

    Tuples are keys (``("x", 0, 1)``), lists are nesting.

    >>> flat_keys([["a", ("x", 0)], "b"])
    ['a', ('x', 0), 'b']
    """
    return list(flatten(keys)) if isinstance(keys, list) else [keys]


def pack(keys: Any, lookup: Callable[[Any], Any]) -> Any:
    """``keys`` with each key replaced by ``lookup(key)``, keeping the list nesting.

    >>> pack([["a", ("x", 0)], "b"], {"a": 1, ("x", 0): 2, "b": 3}.get)
    [[1, 2], 3]
    """
    if isinstance(keys, list):
        return [pack(k, lookup) for k in keys]
    return lookup(keys)
