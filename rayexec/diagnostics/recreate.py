"""Running a task of the cluster again on the client, to debug it with local tools.

Each state keeps the call it was made from (function, arguments) for as long as
its future is held, as distributed's scheduler keeps a task's run spec and Ray
keeps a task's lineage.  The arguments' futures are fetched, and the function
runs here, in this process, where ``pdb`` and prints work.
"""

from __future__ import annotations

from ..functions import futures_of
from ..future import Future
from ..nesting import collect
from ..state import ERROR


def _call_of(state) -> tuple:
    if state.spec is None:
        raise ValueError(
            f"{state.key} has no call to run here: it was computed as part of a dask graph, "
            "or its future was cancelled. recreate_*_locally runs tasks made by submit or map")
    return state.spec


def _first_failed_task(state):
    """The task whose own run raised: follow failed inputs back to the first one."""
    while True:
        func, args, kwargs = _call_of(state)
        failed = [f._state for f in collect([args, kwargs], Future) if f._state.status == ERROR]
        if not failed:
            return state
        state = failed[0]


class RecreateMethods:
    """Mixin of :class:`rayexec.Client`; relies on its ``gather``."""

    def _run_here(self, state):
        func, args, kwargs = _call_of(state)
        args, kwargs = self.gather([list(args), kwargs])
        return func(*args, **kwargs)

    def recreate_error_locally(self, future):
        """Run the task that failed ``future`` (or a collection's futures) again
        here, raising its exception with a local traceback.

        A future failed by a failed input leads to that input's task.

        >>> x = client.submit(lambda d: 1 / d, 0)             # doctest: +SKIP
        >>> client.recreate_error_locally(client.submit(abs, x))  # doctest: +SKIP
        Traceback (most recent call last):
        ZeroDivisionError: division by zero
        """
        failed = [f for f in futures_of(future) if f.status == "error"]
        if not failed:
            raise ValueError("No errored futures passed")
        self._run_here(_first_failed_task(failed[0]._state))

    def recreate_task_locally(self, future):
        """Run the task of ``future`` again here, on its inputs' results; its result.

        >>> future = client.submit(sum, [1, 2])    # doctest: +SKIP
        >>> client.recreate_task_locally(future)  # doctest: +SKIP
        3
        """
        found = futures_of(future)
        if len(found) != 1:
            raise ValueError(f"recreate_task_locally takes one future, got {len(found)}")
        return self._run_here(found[0]._state)
