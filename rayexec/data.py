"""Moving data in and out of Ray's object store.

Large numpy arrays go through shared memory without copies both ways; a value
read back from the store is read-only, as Ray makes it.
"""

from __future__ import annotations

import time
from typing import Any

from .errors import (
    ClusterLostError,
    FutureCancelledError,
    RemoteFailure,
    TimeoutError,
    user_exception,
    with_remote_traceback,
)
from .state import CANCELLED, ERROR, LOST, PENDING, TaskState
from .value_types import describe
from .writable import writable

# Ray returns objects up to this size inside the task's reply, into the memory
# of the process that owns them, and sends arguments up to it inside the task;
# larger ones go through a node's object store.
INLINE_LIMIT = 100 * 1024


def put(value: Any):
    """Store ``value`` in the object store; its ObjectRef."""
    import ray

    try:
        return ray.put(writable(value))
    except Exception as exc:
        raise TypeError(
            f"rayexec cannot serialise a {type(value).__name__} to scatter it: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def object_ref(state: TaskState):
    """The ObjectRef of ``state``'s data; a value kept on the client is put first."""
    local = state.local
    if state.ref is None and local is not None:
        state.ref = put(local.value())
    return state.ref


def argument(state: TaskState) -> Any:
    """What to pass a Ray task for ``state``'s data: a value kept on the client
    travels inside the task, anything else as its ObjectRef (Ray resolves it)."""
    local = state.local
    return local.value() if local is not None else state.ref


def sizes(states: list[TaskState]) -> dict[str, int]:
    """Bytes of each state's data by key; states without data are left out.

    Data in this process's memory -- values kept on the client, and the results
    under 100 KB that Ray keeps in the memory of their owner (this client) --
    is measured as distributed measures it, with dask's ``sizeof``; data in
    Ray's object store by the bytes stored there, which are not fetched for it.
    """
    from dask.sizeof import sizeof
    from ray.experimental import get_object_locations

    result = {s.key: sizeof(s.local.value()) for s in states if s.local is not None}
    remote = [s for s in states if s.local is None and s.ref is not None]
    found = get_object_locations([s.ref for s in remote]) if remote else {}
    in_memory = []
    for state in remote:
        location = found.get(state.ref) or {}
        if location.get("object_size") is not None:  # None: freed or lost meanwhile
            result[state.key] = location["object_size"]
            if not location.get("node_ids"):  # in no object store: in the owner's memory
                in_memory.append(state)
    result.update(_sizeof_in_memory(in_memory))
    return result


def _sizeof_in_memory(states: list[TaskState]) -> dict[str, int]:
    """``sizeof`` of values Ray holds in this process; none if they are not at hand."""
    import ray
    from dask.sizeof import sizeof

    if not states:
        return {}
    try:
        values = ray.get([s.ref for s in states], timeout=1)
    except Exception:  # released or failed meanwhile: the stored sizes stand
        return {}
    return {state.key: sizeof(value) for state, value in zip(states, values)}


def fetch(states: list[TaskState]) -> list:
    """The values of ``states``, in order, in one round trip (waiting for them).

    Raises the user's exception of the first state whose value turns out to be
    a failure: a failed task or batched element, or data lost from the cluster.
    """
    import ray

    held = [(state, state.local, state.ref) for state in states]
    for state, local, ref in held:
        if local is None and ref is None:
            raise FutureCancelledError(state.key)
    remote = [(state, ref) for state, local, ref in held if local is None]
    try:
        values = _get([ref for _, ref in remote], [s for s, _ in remote]) if remote else []
    except ray.exceptions.RayError:
        # Find which one failed, so that its own error is the one raised.
        return [fetch_one(s) for s in states]
    for (state, _), value in zip(remote, values):
        _settle(state, value)
    remote_values = iter(values)
    return [local.value() if local is not None else next(remote_values)
            for _, local, _ in held]


def fetch_one(state: TaskState, timeout: float | None = None) -> Any:
    """The value of one state, waiting up to ``timeout`` seconds for it."""
    import ray

    local, ref = state.local, state.ref
    if local is not None:
        return local.value()
    if ref is None:
        raise FutureCancelledError(state.key)
    try:
        value = _get(ref, [state], timeout)
    except ray.exceptions.GetTimeoutError:
        raise TimeoutError(f"{state.key} did not finish within {timeout} s") from None
    except ray.exceptions.RayError as error:
        state.fail(error)
        # raise what the state settled on: a finished future whose data is gone is lost
        settled = state.exception if state.status in (ERROR, LOST) else None
        raise with_remote_traceback(settled or user_exception(error)) from None
    _settle(state, value)
    return value


# How often a long ray.get looks up from its wait to see whether the cluster is gone.
_CHECK_EVERY = 1.0


def _get(refs, states: list[TaskState], timeout: float | None = None):
    """``ray.get(refs, timeout=timeout)``, that also ends when the cluster is lost
    or, for several refs, when one of them failed.

    A ``ray.get`` on a task whose head node died waits forever; the client's
    head watch marks the states lost instead (``ClusterLostError``), which this
    wait notices within a second.  A quick result costs one ``ray.get``, as before.
    """
    import ray

    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return ray.get(refs, timeout=_CHECK_EVERY if left is None else min(left, _CHECK_EVERY))
        except ray.exceptions.GetTimeoutError:
            if left is not None and left <= _CHECK_EVERY and _failure(states) is None:
                raise
        # raised here, not in the handler: an exception raised there would keep Ray's
        # timeout error as its context, and with it a cycle of frames holding the futures
        failure = _failure(states)
        if failure is not None:
            raise failure


def _failure(states: list[TaskState]) -> BaseException | None:
    """Why waiting for ``states`` should stop: the cluster is lost, or -- for several
    -- one of them failed (raised at once, as distributed's gather does, rather
    than after the others, which may never end)."""
    for state in states:
        if isinstance(state.exception, ClusterLostError):
            return state.exception
        if state.status in (ERROR, LOST, CANCELLED) and len(states) > 1:
            return (FutureCancelledError(state.key) if state.status == CANCELLED
                    else with_remote_traceback(state.exception))
    return None


def _settle(state: TaskState, value: Any) -> None:
    # Reading the value may beat the receipt's callback: whoever learns first
    # settles the state (a settled state ignores the later news).
    if type(value) is RemoteFailure:
        state.fail(value)
        raise with_remote_traceback(user_exception(value))
    if state.status == PENDING:
        state.finish(describe(value))
