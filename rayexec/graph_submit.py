"""Launching a partitioned graph on Ray: one Ray task per part, futures for the requested keys.

Parts are launched in dependency order; a part's inputs are the ObjectRefs
returned by the parts before it (or held by the client's futures), handed to
Ray as top-level arguments so that Ray starts the part once they exist and
places it near the largest of them.  The client keeps only the refs of
requested keys: the refs of values passed between parts are dropped once the
last part is launched, and Ray frees each such value when the parts reading it
have finished.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from . import graph_pickle, placement
from .future import Future
from .graph_execute import run_part
from .graph_partition import Part
from .state import TaskState, watch_batch

if TYPE_CHECKING:
    from .client import Client


@functools.cache
def _remote_part():
    import ray

    return ray.remote(run_part)


def launch(client: Client, parts: list[Part], held: dict) -> dict:
    """Start ``parts``; the new :class:`TaskState` of each requested key they compute.

    ``held`` maps keys the client already holds to their states; their values
    are inputs.  The new states are registered in the client's table.
    """
    refs = {key: state.ref for key, state in held.items()}
    states: dict = {}
    for part in parts:
        try:
            blob, futures = graph_pickle.dumps(part.nodes, Future)
        except Exception as exc:
            raise TypeError(f"rayexec cannot serialise the graph's tasks to send them to "
                            f"the cluster: {type(exc).__name__}: {exc}") from exc
        arguments = [refs[key] for key in part.inputs]
        arguments.extend(client._ref_of(f) for f in futures)
        options = placement.task_options(**part.placement)
        options["num_returns"] = len(part.outputs) + 1
        remote = client._with_options(_remote_part(), options)
        returned = remote.remote(blob, part.inputs, part.outputs, part.n_requested,
                                 part.retries, *arguments)
        refs.update(zip(part.outputs, returned, strict=False))
        if part.n_requested:
            new = [TaskState(key, ref) for key, ref in
                   zip(part.outputs[:part.n_requested], returned, strict=False)]
            watch_batch(new, returned[-1])
            states.update((state.key, state) for state in new)
    with client._lock:
        client._states.update(states)
    return states
