"""Copying objects onto more nodes ahead of need (``Client.replicate``).

Ray copies an object to a node when a task there needs it, so replication is
never required for correctness; it moves the copying ahead of the tasks, as
distributed's ``replicate`` does.  A tiny task pinned to each target node waits
for the objects with ``fetch_local=True``: Ray pulls them into that node's
object store without deserialising them.  Ray may evict such extra copies under
memory pressure and fetch them again when needed.

Objects under Ray's inline limit live in the memory of their owner and travel
inside each task that reads them: they have no node copies to make.
"""

from __future__ import annotations

import functools

from ..data import INLINE_LIMIT
from .nodes import WorkerInfo
from .placement import pin_options


def _pull(refs: list) -> None:
    import ray

    ray.wait(refs, num_returns=len(refs), fetch_local=True)


@functools.cache
def _remote_pull():
    import ray

    # No CPU: copying data must not queue behind the tasks occupying the node.
    return ray.remote(num_cpus=0, max_retries=3)(_pull)


def plan(placed: list[tuple[list[str], int | None]], targets: list[str],
         n: int | None) -> dict[str, list[int]]:
    """Which objects each target node should pull: node id -> indexes into ``placed``.

    ``placed`` holds, per object, the node ids holding it and its size; ``n`` is
    the number of target nodes that should hold each object (None: all).
    Copies go to the targets that have them least, in turn.

    >>> plan([(["a"], 10**6), ([], 10)], ["a", "b", "c"], 2)
    {'b': [0]}
    >>> plan([(["a"], 10**6)], ["a", "b", "c"], None)
    {'b': [0], 'c': [0]}
    """
    wanted = len(targets) if n is None else min(n, len(targets))
    pulls: dict[str, list[int]] = {}
    load = {node: 0 for node in targets}
    for i, (nodes, size) in enumerate(placed):
        if not nodes and (size is None or size <= INLINE_LIMIT):
            continue  # travels inside tasks: nothing to copy
        missing = wanted - sum(1 for node in nodes if node in load)
        for node in sorted((t for t in targets if t not in nodes), key=load.get)[:max(0, missing)]:
            pulls.setdefault(node, []).append(i)
            load[node] += 1
    return pulls


def replicate(refs: list, targets: list[WorkerInfo], n: int | None = None) -> None:
    """Make ``n`` of ``targets`` (all of them by default) hold a copy of each of ``refs``."""
    import ray
    from ray.experimental import get_object_locations

    if not refs or not targets:
        return
    ray.wait(refs, num_returns=len(refs), fetch_local=False)
    found = get_object_locations(refs)
    infos = [found.get(ref) or {} for ref in refs]
    placed = [(info.get("node_ids") or [], info.get("object_size")) for info in infos]
    by_node = {w.node_id: w for w in targets}
    pulls = plan(placed, list(by_node), n)
    tasks = [_remote_pull().options(**pin_options([by_node[node]])).remote(
        [refs[i] for i in indexes]) for node, indexes in pulls.items()]
    ray.get(tasks)
