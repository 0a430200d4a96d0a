"""Calling a user's worker hooks (preloads, plugins, ``client.run`` functions):
distributed awaits the ones that are coroutine functions, and runs teardowns when
the worker closes -- on Ray, when the worker process exits."""

from __future__ import annotations

import atexit
import inspect


def completed(result):
    """``result``, awaited to its value when a hook returned an awaitable."""
    if not inspect.isawaitable(result):
        return result
    import asyncio

    async def wait():
        return await result

    return asyncio.run(wait())


def teardown_at_exit(teardown, worker) -> None:
    """Run ``teardown(worker)`` when this process exits normally."""
    atexit.register(_teardown_quietly, teardown, worker)


def _teardown_quietly(teardown, worker) -> None:
    try:
        completed(teardown(worker))
    except Exception:  # a process on its way out: nothing left to report to
        pass
