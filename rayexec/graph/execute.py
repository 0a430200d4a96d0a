"""What runs inside the Ray task of one graph part (see ``rayexec.graph.partition``).

The part's task-spec nodes run one after another, each called the way dask's
own local schedulers call them (``node(values)``); a value is dropped as soon as
no later node of the part needs it and it does not leave the part.

A node that raises does not stop its part: its value becomes a
:class:`RemoteFailure`, and so does the value of every node that needs it, here
or in a later part.  Independent keys computed in the same part still succeed,
as they would on distributed, and the user's own exception comes home.  Following
the rayexec convention the task returns its outputs (the requested keys), then
its bundles for later parts, then one receipt: the type name or the failure of
each output.
"""

from __future__ import annotations

from typing import Any

from ..errors import RemoteFailure, record_traceback
from ..value_types import describe
from ..workers.preloads import run_once as run_preloads
from ..writable import writable
from . import pickling


def run_part(blob: bytes, input_keys: list, n_bundles: int, output_keys: list,
             send_keys: list[list], retries: dict, *values: Any,
             future_at: list[int] | None = None) -> tuple:
    """Run one part; its outputs' values, one bundle per entry of ``send_keys``, a receipt.

    ``values`` are the inputs' values (in ``input_keys`` order), then
    ``n_bundles`` bundles (dicts of key -> value) from earlier parts, then the
    values of the futures the pickled nodes refer to (see
    :mod:`rayexec.graph.pickling`) -- or, with ``future_at``, those futures'
    values are ``values[i]`` for each ``i`` of it (a future that is an input
    too is sent once).  The receipt has an entry per output.

    >>> from operator import add
    >>> from dask._task_spec import Task, TaskRef
    >>> nodes = [Task("y", add, TaskRef("x"), 1), Task("z", add, TaskRef("y"), 1)]
    >>> blob, _ = pickling.dumps(nodes, type(None))
    >>> run_part(blob, [], 1, ["z"], [["y"]], {}, {"x": 41})
    (43, {'y': 42}, ['int'])
    """
    run_preloads()
    n_inputs = len(input_keys)
    nodes = pickling.loads(blob, list(values[n_inputs + n_bundles:]) if future_at is None
                           else [values[i] for i in future_at])
    cache = dict(zip(input_keys, values[:n_inputs], strict=True))
    for bundle in values[n_inputs:n_inputs + n_bundles]:
        cache.update(bundle)
        bundle.clear()  # so that the cache alone decides when a value is dropped
    keep = set(output_keys).union(*send_keys)
    uses: dict = {}
    for node in nodes:
        for dep in node.dependencies:
            uses[dep] = uses.get(dep, 0) + 1
    for node in nodes:
        deps = node.dependencies
        args = {dep: cache[dep] for dep in deps}
        failure = next((v for v in args.values() if type(v) is RemoteFailure), None)
        cache[node.key] = failure or _call(node, args, retries.get(node.key, 0))
        for dep in deps:
            uses[dep] -= 1
            if not uses[dep] and dep not in keep:
                del cache[dep]
    outputs = [cache[key] for key in output_keys]
    bundles = [{key: cache[key] for key in keys} for keys in send_keys]
    receipt = [v if type(v) is RemoteFailure else describe(v) for v in outputs]
    return (*outputs, *bundles, receipt)


def run_part_for_ray(*args, future_at: list[int] | None = None) -> tuple:
    """:func:`run_part` as the Ray task of a part: its outputs and bundles made to
    arrive writable (failures travel as they are)."""
    *values, receipt = run_part(*args, future_at=future_at)
    return (*(v if type(v) is RemoteFailure else writable(v) for v in values), receipt)


def _call(node, args: dict, retries: int) -> Any:
    for attempt in range(retries + 1):
        try:
            return node(args)
        except Exception as exc:
            if attempt == retries:
                return RemoteFailure(record_traceback(exc, skip_frames=2))
