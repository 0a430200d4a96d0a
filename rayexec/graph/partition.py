"""Cutting a dask graph into parts, each run by one Ray task.

One Ray task per dask task costs about a millisecond of scheduling, which is
more than most dask tasks take.  So the graph is cut into a few parts per CPU;
a part runs its tasks one after another inside a single Ray task, and only the
values crossing a part boundary (or asked for by the user) become Ray objects.
Every requested key is a Ray object of its own (a Future needs one); the other
values one part passes to another travel together as one *bundle*, because each
Ray object costs the better part of a millisecond too.

How the cut is made:

1. **Order.**  A depth-first post-order from the requested keys: each task comes
   right after the tasks it needs, so a run of consecutive tasks is mostly a
   subtree -- work that shares data.  Keys the client already holds are inputs,
   not tasks.
2. **Group.**  Consecutive runs of the order of equal length (``chunk``) form
   groups; tasks with different placement (``workers``, ``resources``,
   ``allow_other_workers``) never share a group.
3. **Rank.**  Groups may depend on each other both ways (task a in group A
   feeds group B, whose task b feeds A again), and a Ray task cannot start
   before all its inputs exist.  Each task gets a rank: the highest rank of its
   dependencies, plus one when that dependency is in another group.  A part is
   a (group, rank) pair.  Every edge between parts goes to a strictly higher
   rank, so the parts form a DAG, and parts of equal rank never wait on each
   other: they run in parallel.

Eight tasks and their sum on one CPU: four parts, the last one waits for the
other three.

>>> from operator import neg
>>> from rayexec.graph.normalize import normalize
>>> dsk = {("x", i): (neg, i) for i in range(8)}
>>> dsk["total"] = (sum, [("x", i) for i in range(8)])
>>> parts = partition(normalize(dsk), ["total"], held=set(), ncpus=1)
>>> [(len(p.nodes), len(p.receives), len(p.sends)) for p in parts]
[(3, 0, 1), (3, 0, 1), (2, 0, 1), (1, 3, 0)]
"""

from __future__ import annotations

import math
from collections.abc import Container
from typing import Any

from .normalize import Graph

# Parts per CPU: enough to even out parts of unequal cost, few enough that the
# millisecond a Ray task costs stays small next to the work in it.
PARTS_PER_CPU = 4
# The annotations that decide where a task may run; tasks differing in them
# cannot share a Ray task.
PLACEMENT = ("workers", "resources", "allow_other_workers")


class Part:
    """Tasks run together in one Ray task.

    ``nodes``: the task-spec nodes, in an order that runs each after its
    dependencies.  ``inputs``: keys whose values arrive one by one (keys the
    client holds, requested keys of other parts).  ``receives``: the parts that
    send this one a bundle.  ``outputs``: the requested keys this part computes.
    ``sends``: ``(part, keys)`` for each later part that needs values from this one.
    """

    __slots__ = ("nodes", "inputs", "receives", "outputs", "sends", "placement", "retries",
                 "priority")

    def __init__(self, placement: dict):
        self.nodes: list = []
        self.inputs: list = []
        self.receives: list[Part] = []
        self.outputs: list = []
        self.sends: list[tuple[Part, list]] = []
        self.placement = placement
        self.retries: dict = {}  # key -> retries, only for tasks that have some
        self.priority = 0

    def __repr__(self) -> str:
        return (f"<Part: {len(self.nodes)} tasks, {len(self.outputs)} requested, "
                f"{len(self.sends)} bundles out>")


def partition(graph: Graph, keys: list, held: Container, ncpus: int,
              defaults: dict[str, Any] | None = None) -> list[Part]:
    """The parts computing ``keys``, in an order where each comes after its inputs.

    ``held``: keys already on the cluster, used as inputs and never recomputed.
    ``defaults``: annotation values for tasks the graph does not annotate
    (the ``workers=``, ``retries=``... of ``compute``).
    """
    nodes = graph.nodes
    order = postorder(nodes, keys, held)
    annotate = _Annotations(graph.annotations, defaults or {})
    chunk = max(1, math.ceil(len(order) / (PARTS_PER_CPU * max(1, ncpus))))
    part_of: dict = {}
    parts: dict = {}
    for position, key in enumerate(order):
        signature, placement = annotate.placement(key)
        group = (position // chunk, signature)
        rank = 0
        for dep in nodes[key].dependencies:
            if dep in held:
                continue
            dep_group, dep_rank = part_of[dep]
            rank = max(rank, dep_rank + (dep_group != group))
        part_of[key] = (group, rank)
        part = parts.get((group, rank))
        if part is None:
            part = parts[(group, rank)] = Part(placement)
        part.nodes.append(nodes[key])
        retries = annotate.get("retries", key)
        if retries:
            part.retries[key] = int(retries)
        part.priority = max(part.priority, annotate.get("priority", key) or 0)
    _connect(parts, part_of, keys, held)
    # Ranks first (inputs before their users); within a rank, higher priority first.
    ranked = sorted(parts.items(), key=lambda item: (item[0][1], -item[1].priority))
    return [part for _, part in ranked]


def postorder(nodes: dict, roots: list, held: Container) -> list:
    """Keys needed for ``roots``, each after its dependencies, depth first.

    Keys in ``held`` are not entered.  A dependency that is neither in the
    graph nor held is an error.

    >>> from operator import add
    >>> from rayexec.graph.normalize import normalize
    >>> nodes = normalize({"a": 1, "b": (add, "a", 1), "c": (add, "b", "a")}).nodes
    >>> postorder(nodes, ["c"], held=set())
    ['a', 'b', 'c']
    """
    order: list = []
    seen: set = set()
    for root in roots:
        if root in seen or root in held:
            continue
        _check_known(root, nodes)
        seen.add(root)
        stack = [(root, iter(nodes[root].dependencies))]
        while stack:
            key, deps = stack[-1]
            for dep in deps:
                if dep not in seen and dep not in held:
                    _check_known(dep, nodes, needed_by=key)
                    seen.add(dep)
                    stack.append((dep, iter(nodes[dep].dependencies)))
                    break
            else:
                stack.pop()
                order.append(key)
    return order


def _check_known(key, nodes: dict, needed_by=None) -> None:
    if key not in nodes:
        where = f" (needed by {needed_by!r})" if needed_by is not None else ""
        raise KeyError(f"the graph has no task for the key {key!r}{where} and this "
                       "client holds no future for it")


def _connect(parts: dict, part_of: dict, requested: list, held: Container) -> None:
    """Fill in each part's inputs, outputs, and the bundles between parts."""
    wanted = {key: None for key in requested if key not in held}
    for key in wanted:
        parts[part_of[key]].outputs.append(key)
    for pid, part in parts.items():
        inputs: dict = {}
        bundles: dict = {}  # producer id -> keys
        for node in part.nodes:
            for dep in node.dependencies:
                if dep in held or (dep in wanted and part_of[dep] != pid):
                    inputs[dep] = None
                elif part_of[dep] != pid:
                    bundles.setdefault(part_of[dep], {})[dep] = None
        part.inputs = list(inputs)
        for producer, keys in bundles.items():
            part.receives.append(parts[producer])
            parts[producer].sends.append((part, list(keys)))


class _Annotations:
    """A task's annotations: the graph's own first, else the call's defaults."""

    def __init__(self, by_kind: dict, defaults: dict):
        self.by_kind = by_kind
        self.defaults = {k: v for k, v in defaults.items() if v is not None}

    def get(self, kind: str, key) -> Any:
        per_key = self.by_kind.get(kind)
        if per_key and key in per_key:
            return per_key[key]
        return self.defaults.get(kind)

    def placement(self, key) -> tuple[str, dict]:
        """A hashable signature of the task's placement, and the placement itself."""
        placement = {kind: value for kind in PLACEMENT
                     if (value := self.get(kind, key)) is not None}
        signature = repr(sorted(placement.items())) if placement else ""
        return signature, placement
