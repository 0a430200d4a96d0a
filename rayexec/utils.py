"""What libraries import from ``distributed.utils``, with rayexec's behaviour."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile


def get_ip(host: str = "8.8.8.8", port: int = 80) -> str:
    """This machine's IP address, as Ray sees it (``host``/``port`` kept for distributed's signature).

    >>> import ipaddress
    >>> bool(ipaddress.ip_address(get_ip()))
    True
    """
    from ray.util import get_node_ip_address  # Ray loads only when this is called

    return get_node_ip_address()


@contextlib.contextmanager
def tmp_text(filename: str, text: str):
    """A file ``filename`` in the temporary folder holding ``text``, removed after the block.

    >>> with tmp_text("note.txt", "hello") as path:
    ...     open(path).read()
    'hello'
    """
    path = os.path.join(tempfile.gettempdir(), filename)
    with open(path, "w") as f:
        f.write(text)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def open_port(host: str = "") -> int:
    """A port nothing listens on now (another program may take it later).

    Chosen below the system's ephemeral range and above Ray's worker ports
    (10002-19999).  A port the OS hands out for ``bind(0)`` comes from the
    ephemeral range, and every starting Ray process binds several that way: a
    port chosen there and released could go to one of them before the node it
    was chosen for binds it, and that node would fail to start.

    >>> 0 < open_port() < 65536
    True
    """
    import random
    import socket

    low, high, choose = 20000, _ephemeral_ports_start(), random.SystemRandom()
    for _ in range(100 if high > low else 0):
        port = choose.randrange(low, high)
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:  # taken: try another
                continue
            return port
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _ephemeral_ports_start() -> int:
    """Where the ports the OS picks for ``bind(0)`` start (Linux; 32768 elsewhere)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class LateLoopEvent(asyncio.Event):
    """An ``asyncio.Event`` that may be made before any event loop runs (in an
    actor's ``__init__``, say) and binds to the loop that first waits on it, as
    distributed's does.  Python's own ``asyncio.Event`` has bound late since 3.10.

    >>> import asyncio
    >>> event = LateLoopEvent()
    >>> async def main():
    ...     asyncio.get_running_loop().call_soon(event.set)
    ...     return await event.wait()
    >>> asyncio.run(main())
    True
    """


def log_errors(func=None, /, *, pdb: bool = False, unroll_stack: int = 0):
    """Log an exception to the logger of the module it came from, then re-raise it.

    As distributed's: a context manager (``with log_errors(): ...``), a bare
    decorator (``@log_errors``) or one with parameters (``@log_errors(pdb=True)``),
    for plain and coroutine functions.  ``unroll_stack`` skips that many frames
    of the traceback when picking the module (for helpers that wrap others);
    ``pdb=True`` opens the debugger after logging.

    >>> @log_errors
    ... def fails():
    ...     raise ValueError("logged, then raised")
    >>> fails()
    Traceback (most recent call last):
      ...
    ValueError: logged, then raised
    """
    errors = _LogErrors(pdb, unroll_stack)
    return errors(func) if func is not None else errors


class _LogErrors:
    def __init__(self, pdb: bool, unroll_stack: int):
        self.pdb = pdb
        self.unroll_stack = unroll_stack

    def __call__(self, func):
        import functools
        import inspect

        # The wrapper's own frame comes first in the traceback: the module is the next one's.
        errors = _LogErrors(self.pdb, self.unroll_stack + 1)
        if inspect.iscoroutinefunction(func):
            async def logged(*args, **kwargs):
                with errors:
                    return await func(*args, **kwargs)
        else:
            def logged(*args, **kwargs):
                with errors:
                    return func(*args, **kwargs)
        return functools.wraps(func)(logged)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if exc_type is None or not issubclass(exc_type, Exception):
            return False  # KeyboardInterrupt, SystemExit, cancellation pass quietly
        import logging
        import traceback

        frames = [frame for frame, _ in traceback.walk_tb(tb)]
        frame = frames[min(self.unroll_stack, len(frames) - 1)]
        try:
            logging.getLogger(frame.f_globals.get("__name__", "rayexec")).exception(exc_value)
        except Exception:  # the interpreter is shutting down
            pass
        if self.pdb:
            import pdb

            pdb.set_trace()
        return False
