"""The asynchronous face of the API: a thin layer over the synchronous core.

Every blocking method is written once, synchronously.  :func:`async_capable`
makes it return an awaitable instead when the call asks for it
(``asynchronous=True``) or the client was made with ``asynchronous=True``; the
awaitable runs the synchronous method on a worker thread, so the event loop
never blocks on Ray.

Libraries built on distributed (streamz, rapidz) also expect ``client.loop``: a
running tornado ``IOLoop``.  A synchronous client shares one such loop, running
on a background thread; an asynchronous client uses the loop it was awaited on.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import Any

_loop_lock = threading.Lock()
_background_loop = None  # the IOLoop shared by synchronous clients


def background_loop():
    """A tornado IOLoop running on a daemon thread, started on first use."""
    global _background_loop
    with _loop_lock:
        if _background_loop is None:
            from tornado.ioloop import IOLoop

            ready = threading.Event()
            holder = {}

            def run():
                asyncio.set_event_loop(asyncio.new_event_loop())
                holder["loop"] = IOLoop.current()
                ready.set()
                holder["loop"].start()

            threading.Thread(target=run, name="rayexec-ioloop", daemon=True).start()
            ready.wait()
            _background_loop = holder["loop"]
        return _background_loop


def in_thread(fn: Callable, *args, **kwargs):
    """An awaitable running ``fn(*args, **kwargs)`` on a worker thread."""

    async def run():
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))

    return run()


async def completed(value):
    """An awaitable of a value already at hand."""
    return value


def wants_async(client, asynchronous: bool | None) -> bool:
    """Whether a call should return an awaitable: asked for, an asynchronous
    client, or a synchronous client called on its own event loop (blocking
    there would stop the loop that completes the call), as in distributed."""
    if asynchronous is not None:
        return bool(asynchronous)
    if getattr(client, "asynchronous", False):
        return True
    loop = getattr(client, "_loop", None)
    if loop is None:
        return False
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:  # no loop runs in this thread
        return False
    return getattr(loop, "asyncio_loop", loop) is running


def on_client_loop(client) -> bool:
    """Whether a Future's blocking method (``result``, ``exception``, ``traceback``)
    gives an awaitable: called on the event loop of its client -- an asynchronous
    client's, or a synchronous client's own background loop -- as distributed's
    ``in_async_call`` decides.  From any other thread it blocks, as there.
    """
    loop = getattr(client, "_loop", None)
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:  # no loop runs in this thread
        running = None
    if loop is None:  # an asynchronous client not yet awaited, or a sync one without a loop
        return running is not None and bool(getattr(client, "asynchronous", False))
    own = getattr(loop, "asyncio_loop", loop)
    if running is not None:
        return own is running
    return not own.is_running() and bool(getattr(client, "asynchronous", False))


def async_capable(method: Callable) -> Callable:
    """Let ``method`` (whose signature has ``asynchronous=None``) return an awaitable.

    >>> class Thing:
    ...     asynchronous = False
    ...     @async_capable
    ...     def double(self, x, asynchronous=None):
    ...         return 2 * x
    >>> Thing().double(2)
    4
    >>> asyncio.run(Thing().double(2, asynchronous=True))
    4
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if wants_async(self, kwargs.get("asynchronous")):
            return in_thread(method, self, *args, **kwargs)
        return method(self, *args, **kwargs)

    return wrapper


def sync(loop, func: Callable, *args, callback_timeout: float | None = None, **kwargs) -> Any:
    """Run the coroutine function ``func(*args, **kwargs)`` on ``loop``; block for its result.

    ``loop`` is a tornado IOLoop running on another thread (``client.loop``).

    >>> sync(background_loop(), asyncio.sleep, 0, result=5)
    5
    """
    asyncio_loop = getattr(loop, "asyncio_loop", loop)

    async def call():
        result = func(*args, **kwargs)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        elif hasattr(result, "__await__"):
            result = await result
        return result

    return asyncio.run_coroutine_threadsafe(call(), asyncio_loop).result(callback_timeout)
