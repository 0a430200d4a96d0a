"""Launching a partitioned graph on Ray: one Ray task per part, futures for the requested keys.

Parts are launched in dependency order; a part's inputs are the ObjectRefs
returned by the parts before it (requested keys one by one, other values in
one bundle per pair of parts) or held by the client's futures, handed to Ray as
top-level arguments so that Ray starts the part once they exist and places it
near the largest of them.  The client keeps only the refs of requested keys:
a bundle's ref is dropped as soon as its receiver is launched, and Ray frees
the bundle when that part has finished.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .. import data, pins
from ..execution import ArgumentList
from ..future import Future
from ..keys import remember_task, task_name
from ..state import TaskState, watch_batch
from ..workers import placement
from . import pickling
from .execute import run_part_for_ray
from .partition import Part

if TYPE_CHECKING:
    from ..client import Client


@functools.cache
def _remote_part():
    import ray

    return ray.remote(run_part_for_ray)


def launch(client: Client, parts: list[Part], held: dict) -> dict:
    """Start ``parts``; the new :class:`TaskState` of each requested key they compute.

    ``held`` maps keys the client already holds to their states; their values
    are inputs.  The new states are registered in the client's table.
    """
    refs = {key: data.argument(state) for key, state in held.items()}
    bundles: dict = {}  # (id of sender, id of receiver) -> ObjectRef of the bundle
    part_pins: dict = {}  # id of part -> what it and the parts it receives from put
    key_pins = {key: state.pins for key, state in held.items()}  # of an input's task
    states: dict = {}
    for part in parts:
        try:
            blob, futures = pickling.dumps(part.nodes, Future)
        except Exception as exc:
            raise TypeError(f"rayexec cannot serialise the graph's tasks to send them to "
                            f"the cluster: {type(exc).__name__}: {exc}") from exc
        blob, own = pins.put_large(blob, len(blob))  # a part carrying data
        part_pins[id(part)] = held_pins = pins.combine(
            own, [part_pins[id(sender)] for sender in part.receives]
            + [key_pins[key] for key in part.inputs] + [f._state.pins for f in futures])
        arguments = ArgumentList(refs[key] for key in part.inputs)
        for sender in part.receives:
            arguments.add(bundles.pop((id(sender), id(part))))
        future_at = [arguments.add(client._argument_of(f)) for f in futures]
        options = placement.task_options(**part.placement)
        options["num_returns"] = len(part.outputs) + len(part.sends) + 1
        options["name"] = task_name([node.key for node in part.nodes])
        remote = client._with_options(_remote_part(), options)
        returned = remote.remote(blob, part.inputs, len(part.receives), part.outputs,
                                 [keys for _, keys in part.sends], part.retries, *arguments,
                                 future_at=future_at)
        if len(part.nodes) == 1:  # a one-key part: its key, for the task stream
            remember_task(returned[-1], part.nodes[0].key)
        pins.hold_until_done(held_pins, returned[-1])
        n_out = len(part.outputs)
        refs.update(zip(part.outputs, returned[:n_out], strict=True))
        key_pins.update((key, held_pins) for key in part.outputs)
        for (receiver, _), ref in zip(part.sends, returned[n_out:-1], strict=True):
            bundles[(id(part), id(receiver))] = ref
        if n_out:
            new = [TaskState(key, ref, has_inputs=bool(arguments)) for key, ref in
                   zip(part.outputs, returned[:n_out], strict=True)]
            for state in new:
                state.pins = held_pins
            watch_batch(new, returned[-1])
            states.update((state.key, state) for state in new)
    with client._lock:
        client._states.update(states)
    return states
