"""Moving data in and out of Ray's object store.

Large numpy arrays go through shared memory without copies both ways; a value
read back from the store is read-only, as Ray makes it.
"""

from __future__ import annotations

from typing import Any

from .errors import RemoteFailure, user_exception
from .state import TaskState


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
    """The values of finished ``states``, in order, in one round trip.

    Raises the user's exception of the first state whose value turns out to be
    a failure (a failed batched element, or data lost from the cluster).
    """
    import ray

    try:
        values = ray.get([s.ref for s in states])
    except ray.exceptions.RayError:
        # Find which one failed, so that its own error is the one raised.
        values = [fetch_one(s) for s in states]
    for value in values:
        if type(value) is RemoteFailure:
            exc = user_exception(value)
            raise exc.with_traceback(exc.__traceback__)
    return values


def fetch_one(state: TaskState) -> Any:
    """The value of one finished state."""
    import ray

    try:
        value = ray.get(state.ref)
    except ray.exceptions.RayError as error:
        raise user_exception(error) from None
    if type(value) is RemoteFailure:
        raise user_exception(value)
    return value
