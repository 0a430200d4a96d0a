"""Which client is the default: the newest one created with ``set_as_default=True``."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Client

_lock = threading.Lock()
_clients: list[Client] = []  # defaults, oldest first; the last is current

# What get_client() calls to make a client when none is current.  The core sits below
# the Client (which composes every wing), so it cannot import it; the package's public
# face (rayexec/__init__.py), loaded before any of its modules, fills this in.
_client_factory: Callable[..., Client] | None = None


def set_client_factory(factory: Callable[..., Client]) -> None:
    """Tell :func:`get_client` how to make a client: ``factory(address, timeout=...)``."""
    global _client_factory
    _client_factory = factory


# Every client of this process not closed yet, defaults or not: they share the
# process's Ray job.
_open_clients: weakref.WeakSet[Client] = weakref.WeakSet()


def opened(client: Client) -> None:
    with _lock:
        _open_clients.add(client)


def open_clients() -> list[Client]:
    """The clients of this process that are not closed."""
    with _lock:
        return list(_open_clients)


def set_default(client: Client) -> None:
    with _lock:
        if client in _clients:
            _clients.remove(client)
        _clients.append(client)


def forget(client: Client) -> None:
    """``client`` closed: the previous default (if any) becomes current again."""
    with _lock:
        _open_clients.discard(client)
        if client in _clients:
            _clients.remove(client)


# Client.as_current(): a client current in this context (thread, asyncio task) only.
_in_context: contextvars.ContextVar[Client | None] = contextvars.ContextVar(
    "rayexec_current_client", default=None)


@contextlib.contextmanager
def current_in_context(client: Client):
    """Make ``client`` current inside the ``with`` block, in this context only."""
    token = _in_context.set(client)
    try:
        yield client
    finally:
        _in_context.reset(token)


def enter(client: Client) -> contextvars.Token:
    """``with client:`` -- the client is current in this context until :func:`leave`."""
    return _in_context.set(client)


def leave(token: contextvars.Token) -> None:
    """End :func:`enter`; ``ValueError`` from another context (thread), as distributed."""
    _in_context.reset(token)


def current_client() -> Client | None:
    chosen = _in_context.get()
    if chosen is not None and chosen.status != "closed":
        return chosen
    with _lock:
        return _clients[-1] if _clients else None


def default_client(c: Client | None = None) -> Client:
    """The client to use when none is given: ``c`` if given, else the current default.

    Raises ``ValueError`` when there is none, as distributed does.

    >>> from rayexec import Client, default_client
    >>> client = Client()             # doctest: +SKIP
    >>> default_client() is client    # doctest: +SKIP
    True
    """
    if c is not None:
        return c
    client = current_client()
    if client is None:
        # Said in the words of the package the program imported: through the
        # `distributed` shim, distributed's own message (`dscheduler` listens on 8786).
        package, port = ("distributed", 8786) if _through_shim() else ("rayexec", 6379)
        raise ValueError(
            "No clients found\n"
            "Start a client and point it to the scheduler address\n"
            f"  from {package} import Client\n"
            f"  client = Client('ip-addr-of-scheduler:{port}')\n"
        )
    return client


def _through_shim() -> bool:
    """Whether ``distributed`` is imported and is rayexec's shim (its Client is rayexec's)."""
    import sys

    shim = sys.modules.get("distributed")
    if shim is None:
        return False
    try:
        client_class = shim.Client
    except Exception:  # a broken or partial distributed: not the shim
        return False
    return getattr(client_class, "__module__", "").startswith("rayexec.")


def get_client(address: str | None = None, timeout=None, resolve_address: bool = True) -> Client:
    """The current client; inside a task, a client on the task's own cluster.

    Outside a task, with no client and no ``address``, raises ``ValueError`` as
    distributed does (dask relies on it to fall back to its local scheduler).

    >>> from rayexec import get_client
    >>> client = get_client()         # doctest: +SKIP
    """
    client = current_client()
    if client is not None and (address is None or client.address_matches(address)):
        return client
    if address is None and not inside_task():
        raise ValueError("No global client found and no address provided")
    if _client_factory is None:
        raise RuntimeError("rayexec's package face did not load: import rayexec first")
    # A task's client, as a distributed worker's, goes to the workers directly.
    return _client_factory(address, timeout=timeout or 30, direct_to_workers=inside_task())


def inside_task() -> bool:
    """Whether this code runs inside a Ray task or actor (where Ray is connected)."""
    import sys

    if "ray" not in sys.modules:  # Ray never imported: certainly not a Ray worker
        return False
    import ray

    # A worker process runs only tasks and actors; asking a driver for its task id
    # would log a warning each time.
    return ray.is_initialized() and ray.get_runtime_context().worker.mode == ray.WORKER_MODE
