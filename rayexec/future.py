"""Future: a handle to a remote result, as ``distributed.Future``.

Several Futures may share one key (and its :class:`~rayexec.state.TaskState`);
the data lives while any of them does.  When the last goes, the state and its
ObjectRef go with it and Ray frees the object.

A Future is a dask ``TaskRef`` to its key, as distributed's is: dask's graphs
refer to it by key (``dask.delayed(future)`` is the future's key).  Unlike a
plain ``TaskRef``, each Future is equal only to itself, as in distributed.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from dask._task_spec import TaskRef

from . import data, value_types
from .asynchronous import on_client_loop
from .errors import (
    FutureCancelledError,
    TimeoutError,
    only_remote_frames,
    remote_traceback,
    with_remote_traceback,
)
from .keys import key_prefix
from .state import CANCELLED, ERROR, FINISHED, LOST, PENDING, TaskState
from .timeouts import parse_timeout

if TYPE_CHECKING:
    from .client import Client


class Future(TaskRef):
    """A remotely running computation, or its result.

    Made by :meth:`Client.submit`, :meth:`Client.map` and :meth:`Client.scatter`;
    ``Future(key, client)`` gives another handle on a key the client holds.

    >>> from rayexec import Client
    >>> client = Client()                       # doctest: +SKIP
    >>> future = client.submit(sum, [1, 2, 3])  # doctest: +SKIP
    >>> future.result()                         # doctest: +SKIP
    6
    """

    __slots__ = ("_state", "client", "__weakref__")

    def __init__(self, key: str, client: Client | None = None, state: TaskState | None = None):
        if client is None:
            from .defaults import default_client

            client = default_client()
        if state is None:
            state = client._state_of(key)
        self._state = state
        self.client = client

    # -- what it is -------------------------------------------------------------
    @property
    def key(self) -> str:
        return self._state.key

    @property
    def status(self) -> str:
        """``pending``, ``finished``, ``error``, ``cancelled`` or ``lost``."""
        return self._state.status

    @property
    def type(self) -> type | None:
        """The type of the result once finished (the value stays on the cluster).

        >>> client.submit(sum, [1, 2]).type  # doctest: +SKIP
        <class 'int'>
        """
        return value_types.resolve(self._state.value_type)

    def done(self) -> bool:
        """Whether the computation has ended (finished, failed, cancelled or lost)."""
        return self._state.done()

    def cancelled(self) -> bool:
        return self._state.status == CANCELLED

    # -- waiting and results ---------------------------------------------------
    def _wait(self, timeout) -> TaskState:
        timeout = parse_timeout(timeout)
        state = self._state
        if not state.done():
            event = threading.Event()
            state.add_callback(lambda _: event.set())
            if not event.wait(timeout):
                raise TimeoutError(f"{state.key} did not finish within {timeout} s")
        return state

    def result(self, timeout: float | None = None) -> Any:
        """The result; raises the task's own exception if it failed.

        ``timeout`` (seconds) raises ``TimeoutError`` if the result is not ready
        by then; a cancelled future raises ``CancelledError``.  On the event loop
        of an asynchronous client it gives an awaitable, as distributed's does.

        >>> future.result()                          # doctest: +SKIP
        2
        >>> await future.result()  # asynchronous    # doctest: +SKIP
        2
        """
        if on_client_loop(self.client):
            return self._when_done(self._result, timeout)
        try:
            return self._result(timeout)
        except Exception as exc:
            if (short := only_remote_frames(exc)) is None:
                raise
            try:  # the user's frames below this call, not rayexec's
                raise short from short.__cause__
            finally:
                # the traceback holds this frame: a local naming the exception would
                # be a cycle keeping every local (the futures) alive until a gc run
                del short

    def _result(self, timeout) -> Any:
        timeout = parse_timeout(timeout)
        state = self._state
        if state.status in (CANCELLED, ERROR, LOST):
            raise self._error(state)
        # One blocking read of the value: as fast as raw Ray, whatever the receipt says.
        value = data.fetch_one(state, timeout)
        if state.status == CANCELLED:  # cancelled while we waited
            raise self._error(state)
        return value

    def exception(self, timeout: float | None = None, **kwargs) -> BaseException | None:
        """The exception the task raised, or None if it succeeded (an awaitable on
        the event loop of an asynchronous client)."""
        if on_client_loop(self.client):
            return self._when_done(self._blocking_exception, timeout)
        return self._blocking_exception(timeout)

    def _blocking_exception(self, timeout) -> BaseException | None:
        state = self._wait(timeout)
        if state.status == CANCELLED:
            raise self._error(state)
        return state.exception

    def traceback(self, timeout: float | None = None, **kwargs):
        """The traceback of the task's exception, from the worker; None on success.

        >>> import traceback
        >>> traceback.format_tb(future.traceback())  # doctest: +SKIP
        ['  File "script.py", line 2, in div\\n    return x / y\\n']

        An awaitable on the event loop of an asynchronous client.
        """
        if on_client_loop(self.client):
            return self._when_done(self._blocking_traceback, timeout)
        return self._blocking_traceback(timeout)

    def _blocking_traceback(self, timeout):
        state = self._wait(timeout)
        if state.status not in (ERROR, LOST):
            return None
        return remote_traceback(state.exception) or state.exception.__traceback__

    @staticmethod
    def _error(state: TaskState) -> BaseException:
        if state.status == CANCELLED:
            return FutureCancelledError(state.key)
        return with_remote_traceback(state.exception)

    # -- control ----------------------------------------------------------------
    def cancel(self, reason=None, msg=None, **kwargs) -> None:
        """Cancel the computation; see :meth:`Client.cancel`."""
        self.client.cancel([self], reason=reason, msg=msg, **kwargs)

    @property
    def executor(self) -> Client:
        """The client, under its 2015 name."""
        return self.client

    def bind_client(self, client: Client) -> None:
        """Make ``client`` the one this Future works through (for example after
        unpickling it where another client is the default).

        >>> future.bind_client(other_client)  # doctest: +SKIP
        >>> future.client is other_client     # doctest: +SKIP
        True
        """
        with client._lock:
            self._state = client._states.setdefault(self.key, self._state)
        self.client = client

    def retry(self, **kwargs):
        """Retry this future if it failed; see :meth:`Client.retry`."""
        return self.client.retry([self], **kwargs)

    def release(self) -> None:
        """Give up this handle; the data is freed when no handle on the key is left."""
        self._state = TaskState(self._state.key, status=CANCELLED)

    def add_done_callback(self, fn) -> None:
        """Call ``fn(future)`` on a background thread once the future is done."""
        client = self.client
        self._state.add_callback(lambda _: client._run_callback(fn, self))

    def __await__(self):
        return self._when_done(self._result, None).__await__()

    async def _when_done(self, method, timeout):
        """``method(None)`` once the future is done, waited for without blocking the loop."""
        timeout = parse_timeout(timeout)
        try:
            await asyncio.wait_for(self._until_done(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"{self.key} did not finish within {timeout} s") from None
        try:
            return method(None)
        except Exception as exc:
            if (short := only_remote_frames(exc)) is None:
                raise
            try:  # the user's frames below the awaiting one (see result)
                raise short from short.__cause__
            finally:
                del short

    async def _until_done(self) -> None:
        """Wait, without blocking the event loop, until the state settles."""
        state = self._state
        if not state.done():
            loop = asyncio.get_running_loop()
            done = loop.create_future()

            def wake(_):
                loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

            state.add_callback(wake)
            await done

    # Each handle is its own, as distributed's (a TaskRef equals any with its key).
    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    # -- travelling -----------------------------------------------------------------
    def __reduce__(self):
        # A Future sent elsewhere (inside a task's data) carries its key and ObjectRef;
        # Ray keeps the object alive for the borrower.
        return (future_from_parts, future_parts(self))

    # -- dask and display -----------------------------------------------------
    def __dask_tokenize__(self):
        return (type(self).__name__, self.key)

    def __str__(self) -> str:  # a TaskRef prints as its bare key; a Future as itself
        return repr(self)

    def __repr__(self) -> str:
        state = self._state
        if state.status == FINISHED and state.value_type:
            return (f"<Future: {state.status}, type: {value_types.label(state.value_type)}, "
                    f"key: {state.key}>")
        return f"<Future: {state.status}, key: {state.key}>"

    def _repr_html_(self) -> str:
        """The Future in a notebook: its function, status, type and key, as distributed
        shows it."""
        from html import escape

        state = self._state
        kind = (f", <span style='color: gray'>type:</span> "
                f"{escape(value_types.label(state.value_type))}"
                if state.status == FINISHED and state.value_type else "")
        color = "red" if state.status in ("error", "lost") else "black"
        return (f"<strong>Future: {escape(key_prefix(state.key))}</strong> "
                f"<span style='color: gray'>status:</span> "
                f"<span style='color: {color}'>{escape(state.status)}</span>{kind}, "
                f"<span style='color: gray'>key:</span> {escape(str(state.key))}")


def future_parts(future: Future) -> tuple:
    """What a Future is made of, to rebuild it in another process: see :func:`future_from_parts`.

    ``(key, ref, status, value_type, exception)``; the ref travels with Ray's
    reference counting when pickled by Ray (task arguments, actor calls).
    """
    state = future._state
    status = state.status if state.has_data() else CANCELLED
    ref = data.object_ref(state) if status in (PENDING, FINISHED) else None
    return (state.key, ref, status, state.value_type, state.exception)


def future_from_parts(key, ref, status, value_type, exception, client=None) -> Future:
    """A Future on ``client`` (default: this process's client) from :func:`future_parts`.

    A client already holding ``key`` with the same data shares its state.
    """
    from .defaults import current_client, get_client
    from .state import watch_value

    client = client or current_client() or get_client()
    with client._lock:
        state = client._states.get(key)
        if state is None or not state.has_data() or (
                ref is not None and state.ref is not None and state.ref != ref):
            state = TaskState(key, ref, status, value_type)
            state.exception = exception
            if status == PENDING:
                # the receipt stayed with the submitting client: the value says when
                watch_value(state, ref)
            client._states[key] = state
    return Future(key, client, state)
