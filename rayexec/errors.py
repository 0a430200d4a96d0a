"""Errors: the exception types users catch, and carrying a task's own exception home.

A task's exception travels from the Ray worker to the client inside Ray's
``RayTaskError``.  The user wants *their* exception back -- a
``ZeroDivisionError`` stays one -- with a traceback that points at their own
source line.  Python tracebacks do not pickle, so the worker side records the
frames with :mod:`tblib` as a plain attribute of the exception
(:func:`record_traceback`) and the client side turns them back into a real
traceback object (:func:`user_exception`).
"""

from __future__ import annotations

import builtins
import concurrent.futures
import threading

from tblib import Traceback

# distributed exports the stdlib classes under these names; users catch them from
# either place, so they must be the very same classes.
CancelledError = concurrent.futures.CancelledError
TimeoutError = builtins.TimeoutError

_TRACEBACK_ATTR = "_rayexec_traceback"


class FutureCancelledError(CancelledError):
    """The future was cancelled (by ``cancel``, ``restart`` or ``close``).

    >>> issubclass(FutureCancelledError, concurrent.futures.CancelledError)
    True
    """

    def __init__(self, key: str, reason: str = "cancelled"):
        self.key = key
        self.reason = reason
        super().__init__(f"{key} {reason}")


class FutureLostError(RuntimeError):
    """The data behind a finished future is gone from the cluster and cannot be rebuilt."""


class PlacementError(ValueError):
    """A placement hint no worker of the cluster can satisfy."""


class KilledWorker(RuntimeError):
    """A task's worker process died while running it, more often than retries allowed."""


class WorkerOutOfMemory(KilledWorker, MemoryError):
    """Ray's memory monitor killed the task's worker: its node ran out of memory.

    A ``KilledWorker`` (what distributed raises when a task's workers die) that
    is also a ``MemoryError``, so either ``except`` catches it.

    >>> issubclass(WorkerOutOfMemory, KilledWorker) and issubclass(WorkerOutOfMemory, MemoryError)
    True
    """


class ClusterLostError(FutureLostError, ConnectionError):
    """The Ray cluster stopped answering: its head node is gone.

    Every future of a client connected to it fails with this error (status
    ``lost``), and so does every later call of that client.

    >>> issubclass(ClusterLostError, ConnectionError)
    True
    """


class CoordinationLostError(RuntimeError):
    """The cluster's coordination actor died (killed, or its node lost), and with
    it what every Lock, Semaphore, Event, Queue and Variable held: a lock taken,
    a flag set, the items queued.  Calls after this one start afresh.

    >>> issubclass(CoordinationLostError, RuntimeError)
    True
    """


class RemoteFailure:
    """The failure of one element of a batched ``map`` task.

    A Ray task that runs several ``map`` elements returns one object per element.
    An element that raised cannot raise through Ray without failing its siblings,
    so its slot holds this marker instead.  It never reaches user code: the client
    turns it into the future's error, and a task that receives it as an argument
    raises the original exception (see ``rayexec.execution``).
    """

    __slots__ = ("exception",)

    def __init__(self, exception: BaseException):
        self.exception = exception

    def __reduce__(self):
        return (RemoteFailure, (self.exception,))


def record_traceback(exc: BaseException, skip_frames: int = 1) -> BaseException:
    """``exc`` ready to travel to the client: its traceback attached as picklable
    data, leaving out rayexec's own frames, and an over-long message cut short
    (then a new exception of the same type; see :func:`truncated`).

    Only the first recording counts: an exception re-raised by a dependent task
    keeps the frames of the task where it really happened.
    """
    if getattr(exc, _TRACEBACK_ATTR, None) is None:
        tb = exc.__traceback__
        for _ in range(skip_frames):
            if tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
        exc = truncated(exc)
        try:
            setattr(exc, _TRACEBACK_ATTR, Traceback(tb).as_dict() if tb else None)
        except (AttributeError, TypeError):  # exceptions with __slots__ cannot carry it
            pass
    return exc


MAX_ERROR_LENGTH = 10_000  # distributed's default for distributed.admin.max-error-length


def truncated(exc: BaseException) -> BaseException:
    """``exc``, or -- if its message is longer than distributed's
    ``distributed.admin.max-error-length`` -- an exception of the same type
    holding ``("Long error message", <the message's start>)``, as distributed sends.

    >>> str(truncated(ValueError("a" * 20_000)))[:30]
    "('Long error message', 'aaaaaa"
    >>> truncated(KeyError("k")).args
    ('k',)
    """
    import dask

    limit = dask.config.get("distributed.admin.max-error-length", MAX_ERROR_LENGTH)
    try:
        text = str(exc)
    except Exception:  # a broken __str__ is not ours to fix
        return exc
    if len(text) <= limit:
        return exc
    try:
        return type(exc)("Long error message", text[:limit])
    except Exception:  # its constructor takes other arguments
        return Exception("Long error message", type(exc), text[:limit])


def remote_traceback(exc: BaseException):
    """The traceback object recorded in the worker for ``exc``, or None."""
    data = getattr(exc, _TRACEBACK_ATTR, None)
    if data is None:
        return None
    # tblib makes the frames by running code, so each made frame's f_back is the
    # frame that asked, and so on up the stack: built here, the traceback would
    # keep this thread's frames -- holding the exception and the futures -- in a
    # cycle that only a gc run frees.  Built on a thread of its own, it keeps
    # only that thread's finished frames.
    built: list = []
    maker = threading.Thread(target=lambda: built.append(Traceback.from_dict(data).as_traceback()),
                             name="rayexec-traceback")
    maker.start()
    maker.join()
    return built[0] if built else None


def only_remote_frames(exc: BaseException) -> BaseException | None:
    """``exc`` carrying only the frames recorded where it was raised, or None if
    none were recorded.  A public method re-raises what it returns, so the user
    sees their own frames below their call, not rayexec's:

    >>> try:                                        # doctest: +SKIP
    ...     return self._result(timeout)
    ... except Exception as exc:
    ...     if (short := only_remote_frames(exc)) is None:
    ...         raise
    ...     try:
    ...         raise short from short.__cause__
    ...     finally:
    ...         del short  # no cycle through the frame's locals
    """
    tb = remote_traceback(exc)
    return exc.with_traceback(tb) if tb is not None else None


def with_remote_traceback(exc: BaseException) -> BaseException:
    """``exc`` carrying the traceback recorded where it was raised, ready to raise.

    Built at raise time, not stored: traceback objects keep frames (and all
    their locals) alive.
    """
    tb = remote_traceback(exc)
    return exc.with_traceback(tb) if tb is not None else exc


def is_cancellation(error: BaseException) -> bool:
    """Whether Ray reports a cancelled task: cancelled itself, or given a
    cancelled task's result as an input."""
    from ray import exceptions as rx

    if isinstance(error, rx.RayTaskError) and not isinstance(error, rx.TaskCancelledError):
        error = error.cause
    return isinstance(error, rx.TaskCancelledError)


def user_exception(error: BaseException) -> BaseException:
    """The exception the user's code raised, given what Ray reported.

    Unwraps ``RayTaskError`` to its cause and maps Ray's own failure kinds onto
    the names ``distributed`` users know.  Raise it through
    :func:`with_remote_traceback` to show the user's own frames.
    """
    from ray import exceptions as rx  # Ray is imported only once errors occur

    if isinstance(error, RemoteFailure):
        error = error.exception
    if isinstance(error, rx.RayTaskError) and not isinstance(error, rx.TaskCancelledError):
        cause = error.cause
        if cause is None or isinstance(cause, rx.RayTaskError):
            return error
        # a task whose input failed for a system reason (a killed worker, a lost
        # object) carries that failure as its cause: it is named as such below
        error = cause
    if isinstance(error, (rx.TaskCancelledError,)):
        return CancelledError(str(error))
    if isinstance(error, rx.OutOfMemoryError):
        # Ray's message runs to a page of advice; its first line says how full the node was.
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return WorkerOutOfMemory(
            "the task's worker was killed because its node ran out of memory "
            f"(Ray's memory monitor), on its last allowed attempt: {first_line}")
    if isinstance(error, rx.NodeDiedError):
        return KilledWorker(f"the node running this task died (a lost node): {error}")
    if isinstance(error, rx.WorkerCrashedError):
        return KilledWorker(f"the worker running this task died: {error}")
    if isinstance(error, rx.RayActorError):
        return KilledWorker(f"the worker holding this actor died: {error}")
    if isinstance(error, rx.ObjectLostError):
        return FutureLostError(f"the result is lost from the cluster: {error}")
    if isinstance(error, rx.TaskUnschedulableError):
        return PlacementError(f"no worker can run this task any more: {error}")
    return error
