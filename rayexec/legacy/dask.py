"""``distributed.dask.get(ip, port, dsk, keys)``: the 2015 dask scheduler function.

It runs a dask graph on the cluster at ``ip:port`` and returns the values of
``keys``.  Today's dask refuses the old ``compute(get=...)`` keyword; pass the
function as the scheduler instead::

    >>> from functools import partial
    >>> from rayexec.legacy.dask import get
    >>> inc = lambda x: x + 1
    >>> get("127.0.0.1", 8786, {"a": 1, "b": (inc, "a")}, "b")      # doctest: +SKIP
    2
    >>> x.sum().compute(scheduler=partial(get, "127.0.0.1", 8786))  # doctest: +SKIP
    45
"""

from __future__ import annotations

import threading

from .. import defaults

_lock = threading.Lock()
_clients: dict[str, object] = {}  # address -> the client this module opened for it


def get(ip: str, port: int, dsk, keys, **kwargs):
    """Compute ``keys`` of the graph ``dsk`` on the cluster at ``ip:port``.

    ``keys`` may be one key or nested lists of keys; the result has the same
    shape.  Extra keyword arguments go to :meth:`rayexec.Client.get`.
    """
    if not isinstance(ip, str) or not ip:
        raise TypeError(f"get(ip, port, dsk, keys): ip must be a host name string, got {ip!r}")
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise TypeError(f"get(ip, port, dsk, keys): port must be a number, got {port!r}") from None
    return _client_for(f"{ip}:{port}").get(dsk, keys, **kwargs)


def _client_for(address: str):
    """The default client if it is on ``address``, else one kept open for it."""
    current = defaults.current_client()
    if current is not None and current.address_matches(address):
        return current
    with _lock:
        client = _clients.get(address)
        if client is None or client.status != "running":
            from ..client import Client

            # Not the default: a scheduler function must not change what
            # dask.compute() uses when no scheduler is given.
            client = Client(address, set_as_default=False)
            _clients[address] = client
        return client
