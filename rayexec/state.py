"""The state of one key: an explicit state machine shared by every Future on that key.

``pending`` -> ``finished`` | ``error`` | ``cancelled`` | ``lost``; ``finished`` ->
``lost`` (its data cannot be read back); and any state -> ``cancelled``
(``cancel``, ``restart``, ``close``).  One lock guards every
transition; callbacks run after it is released, and a failing callback is
logged, never raised into the thread that completed the task.

Completion comes from Ray, not from polling: each task's small receipt object is
watched with a Ray completion callback, which moves the state on.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

import dask

from .errors import FutureLostError, RemoteFailure, is_cancellation, user_exception
from .value_types import describe

logger = logging.getLogger(__name__)

PENDING = "pending"
FINISHED = "finished"
ERROR = "error"
CANCELLED = "cancelled"
LOST = "lost"

# One lock for all states: transitions are a few attribute writes, and a lock
# per key would cost memory on every one of a million futures.
_lock = threading.Lock()

# Pending states that callbacks wait on (wait, as_completed, a concurrent.futures
# wrapper...).  Ray's completion callbacks hold states weakly (see ``watch``), so
# a state whose Futures are gone would vanish with the callbacks waiting on it:
# these are kept until they settle.
_awaited: set = set()


class TaskState:
    """Where a key's result lives and what became of it."""

    __slots__ = ("key", "ref", "local", "status", "exception", "value_type", "batched",
                 "has_inputs", "spec", "span", "pins", "_callbacks", "_dependents", "__weakref__")

    def __init__(self, key: str, ref: Any = None, status: str = PENDING,
                 value_type=None, batched: bool = False, local=None, has_inputs: bool = False):
        self.key = key
        self.batched = batched  # one of several results of a single Ray task
        # The task takes other tasks' results as arguments.  Ray must not be asked to
        # cancel such a task: a cancel racing with the resolution of its arguments
        # crashes the client process in Ray's reference counting (a known Ray race,
        # fixed upstream after this Ray).  It is cancelled here and its result dropped.
        self.has_inputs = has_inputs
        self._dependents: list | None = None  # weak references to states computed from this
        # (function, args, kwargs) of the call, kept while the state lives, as
        # distributed's scheduler keeps a task's run spec: recreate_*_locally runs it
        self.spec: tuple | None = None
        # (name, id) of the span the task was made in (``rayexec.span``); None: the default
        self.span = current_span()
        self.ref = ref  # the ObjectRef of the value; dropped when the data is released
        # objects put for the task, dropped after ``ref`` (see rayexec.pins)
        self.pins: tuple | None = None
        self.local = local  # a small scattered value kept on the client (a LocalValue)
        self.status = status
        self.exception: BaseException | None = None
        self.value_type = value_type  # the result's type, as rayexec.value_types describes it
        self._callbacks: list | None = None

    def __repr__(self) -> str:
        return f"<TaskState: {self.status}, key: {self.key}>"

    def __del__(self):
        # Python clears slots in name order, "pins" before "ref": the result
        # goes first here, or Ray leaks an entry per pin (rayexec.pins)
        if self.pins is not None:
            self.ref = None

    def has_data(self) -> bool:
        """Whether the data is still held (not cancelled or released)."""
        return self.ref is not None or self.local is not None

    def done(self) -> bool:
        return self.status != PENDING

    def add_callback(self, fn: Callable[[TaskState], Any]) -> None:
        """Call ``fn(state)`` once the state is no longer pending (now, if it is not).

        ``fn`` may run on Ray's completion thread: it must be quick and must not
        make blocking Ray calls (``ray.get``, ``ray.kill``, ...), which would
        wait on that very thread.  Hand such work to another thread.
        """
        with _lock:
            if self.status == PENDING:
                if self._callbacks is None:
                    self._callbacks = []
                    _awaited.add(self)
                self._callbacks.append(fn)
                return
        _run_callback(fn, self)

    def remove_callback(self, fn) -> None:
        with _lock:
            if self._callbacks and fn in self._callbacks:
                self._callbacks.remove(fn)
                if not self._callbacks:
                    self._callbacks = None
                    _awaited.discard(self)

    def finish(self, value_type) -> None:
        self._settle(FINISHED, value_type=value_type)

    def fail(self, error: BaseException) -> None:
        """The task failed -- or, for a state that had finished, its data is gone.

        A task that failed because an input was cancelled is cancelled too, as
        distributed cancels the dependents of a cancelled future.
        """
        if is_cancellation(error):
            # only a task still waiting is cancelled with its input; one that already
            # settled (an error put on it by placement, say) keeps what it has
            if self.status == PENDING:
                self.cancel()
            return
        exc = user_exception(error)
        if self.status == FINISHED or isinstance(exc, FutureLostError):
            if not isinstance(exc, FutureLostError):
                exc = FutureLostError(f"the data of {self.key} is lost from the cluster: "
                                      f"{type(exc).__name__}: {exc}")
            self._settle(LOST, exception=exc, any_state=True)
        else:
            self._settle(ERROR, exception=exc)

    def add_dependent(self, state: TaskState) -> None:
        """``state``'s task takes this one's result: cancelling this cancels it too."""
        with _lock:
            if self._dependents is None:
                self._dependents = []
            self._dependents.append(weakref.ref(state))

    def cancel(self, reason: str = "cancelled") -> None:
        """Cancel from any state; the data is released, and the dependents still
        waiting are cancelled too, as distributed cancels them."""
        todo = [self]
        while todo:  # a loop, not recursion: chains of dependents can be long
            state = todo.pop()
            state._settle(CANCELLED, any_state=True)
            state.ref = None
            state.pins = None  # after the result (rayexec.pins)
            state.local = None
            state.spec = None
            with _lock:
                dependents, state._dependents = state._dependents, None
            todo.extend(d for d in (ref() for ref in dependents or ())
                        if d is not None and d.status == PENDING)

    def _settle(self, status, exception=None, value_type=None, any_state=False):
        with _lock:
            if self.status == CANCELLED or (self.status != PENDING and not any_state):
                return
            self.status = status
            self.exception = exception
            if value_type is not None:
                self.value_type = value_type
            callbacks, self._callbacks = self._callbacks, None
            if callbacks is not None:
                _awaited.discard(self)
        for fn in callbacks or ():
            _run_callback(fn, self)


def current_span() -> tuple[str, str] | None:
    """(name, id) of the innermost span around this call (``rayexec.span``), read
    from dask's annotations as distributed reads it; None outside any span.

    >>> current_span() is None
    True
    """
    annotation = dask.get_annotations().get("span")
    return None if annotation is None else (", ".join(annotation["name"]), annotation["ids"][-1])


def _run_callback(fn, state):
    try:
        fn(state)
    except Exception:
        logger.exception("callback %r on %s failed", fn, state.key)


def on_completed(ref, callback) -> None:
    """Call ``callback(value_or_exception)`` on a Ray thread once ``ref`` is ready.

    ``ObjectRef.future()`` is the public route, but it builds a
    ``concurrent.futures.Future`` per task (about 20 us and half a kilobyte on
    the client, per future); its own primitive, used here, costs a tenth.  The
    closure keeps ``ref`` alive until the callback has run.
    """
    ref._on_completed(lambda value, _ref=ref: callback(value))


def watch(state: TaskState, receipt_ref) -> None:
    """Settle ``state`` when the task behind ``receipt_ref`` ends.

    The callback holds the state weakly: once every Future on a key is gone
    (or released), its state goes at once -- ``client.futures`` no longer lists
    it, and Ray frees the result when the task ends -- as distributed forgets a
    released key.
    """
    held = weakref.ref(state)

    def on_receipt(receipt):
        state = held()
        if state is None:  # released while it ran
            return
        if isinstance(receipt, BaseException):
            state.fail(receipt)
        else:
            state.finish(receipt)

    on_completed(receipt_ref, on_receipt)


def watch_value(state: TaskState, value_ref) -> None:
    """Settle ``state`` from its value itself (no receipt at hand: an unpickled Future)."""
    held = weakref.ref(state)

    def on_value(value):
        state = held()
        if state is None:
            return
        if isinstance(value, BaseException) or type(value) is RemoteFailure:
            state.fail(value)
        else:
            state.finish(describe(value))

    on_completed(value_ref, on_value)


def watch_batch(states: list[TaskState], receipt_ref) -> None:
    """Settle each of ``states`` from the shared receipt of one batched task."""
    held = [weakref.ref(state) for state in states]

    def on_receipt(receipts):
        failed = isinstance(receipts, BaseException)
        for ref, receipt in zip(held, [receipts] * len(held) if failed else receipts):
            state = ref()
            if state is None:
                continue
            if failed or isinstance(receipt, RemoteFailure):
                state.fail(receipt)
            else:
                state.finish(receipt)

    on_completed(receipt_ref, on_receipt)
