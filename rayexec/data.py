"""Moving data in and out of Ray's object store.

Large numpy arrays go through shared memory without copies both ways; a value
read back from the store is read-only, as Ray makes it.
"""

from __future__ import annotations

from typing import Any

from .errors import (
    FutureCancelledError,
    RemoteFailure,
    TimeoutError,
    user_exception,
    with_remote_traceback,
)
from .state import ERROR, LOST, PENDING, TaskState


def put(value: Any):
    """Store ``value`` in the object store; its ObjectRef."""
    import ray

    try:
        return ray.put(value)
    except Exception as exc:
        raise TypeError(
            f"rayexec cannot serialise a {type(value).__name__} to scatter it: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def fetch(states: list[TaskState]) -> list:
    """The values of ``states``, in order, in one round trip (waiting for them).

    Raises the user's exception of the first state whose value turns out to be
    a failure: a failed task or batched element, or data lost from the cluster.
    """
    import ray

    for state in states:
        if state.ref is None:
            raise FutureCancelledError(state.key)
    try:
        values = ray.get([s.ref for s in states])
    except ray.exceptions.RayError:
        # Find which one failed, so that its own error is the one raised.
        return [fetch_one(s) for s in states]
    for state, value in zip(states, values):
        _settle(state, value)
    return values


def fetch_one(state: TaskState, timeout: float | None = None) -> Any:
    """The value of one state, waiting up to ``timeout`` seconds for it."""
    import ray

    if state.ref is None:
        raise FutureCancelledError(state.key)
    try:
        value = ray.get(state.ref, timeout=timeout)
    except ray.exceptions.GetTimeoutError:
        raise TimeoutError(f"{state.key} did not finish within {timeout} s") from None
    except ray.exceptions.RayError as error:
        state.fail(error)
        # raise what the state settled on: a finished future whose data is gone is lost
        settled = state.exception if state.status in (ERROR, LOST) else None
        raise with_remote_traceback(settled or user_exception(error)) from None
    _settle(state, value)
    return value


def _settle(state: TaskState, value: Any) -> None:
    # Reading the value may beat the receipt's callback: whoever learns first
    # settles the state (a settled state ignores the later news).
    if type(value) is RemoteFailure:
        state.fail(value)
        raise with_remote_traceback(user_exception(value))
    if state.status == PENDING:
        state.finish(type(value).__name__)
