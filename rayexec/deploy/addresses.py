"""Cluster addresses as users write them, and whether anything answers there."""

from __future__ import annotations

import os
import socket
import threading
import time

DEFAULT_RAY_PORT = 6379


def normalize_address(address: str) -> str:
    """The address as ``ray.init`` takes it.

    >>> normalize_address("tcp://127.0.0.1:8786")
    '127.0.0.1:8786'
    >>> normalize_address("ray://head:10001")
    'ray://head:10001'
    >>> normalize_address("10.0.0.5")
    '10.0.0.5:6379'
    """
    if not isinstance(address, str) or not address:
        raise TypeError(f"a cluster address must be a non-empty string, got {address!r}")
    if address == "auto" or address.startswith("ray://"):
        return address
    if address.startswith("tcp://"):
        address = address[len("tcp://"):]
    if "://" in address:
        raise ValueError(
            f"unsupported address {address!r}: use 'host:port', 'tcp://host:port', "
            "'ray://host:port' or 'auto'"
        )
    if ":" not in address:
        address = f"{address}:{DEFAULT_RAY_PORT}"
    return address


def check_reachable(address: str, timeout: float) -> None:
    """Fail fast, naming the address, when nothing listens there.

    ``ray.init`` would otherwise retry for a long time before saying anything.
    """
    if address == "auto":
        return
    hostport = address[len("ray://"):] if address.startswith("ray://") else address
    host, _, port = hostport.rpartition(":")
    try:
        port_number = int(port)
    except ValueError:
        raise ValueError(f"malformed cluster address {address!r}: port is not a number") from None
    started = time.monotonic()
    try:
        _wait_for_listener(host, port_number, started + timeout)
        if not address.startswith("ray://"):  # a Ray Client server is not a GCS
            _expect_ray_gcs(hostport, started + timeout)
    except OSError as exc:
        # A refusal comes at once, a silent host only after the timeout: say which.
        raise OSError(
            f"cannot connect to a Ray cluster at {address!r}: {exc.strerror or exc} after "
            f"{time.monotonic() - started:.1f} s (timeout={timeout:g} s). "
            "Is `ray start --head` running there?"
        ) from exc


def _wait_for_listener(host: str, port: int, deadline: float) -> None:
    """Connect once something listens at ``host:port``, until ``deadline``.

    A refused connection is tried again, as distributed's client and workers
    do: a scheduler started just before (``dask scheduler &``) may still be
    coming up.  The last refusal is raised at the deadline; a host that does not
    answer at all takes the whole wait in one try.
    """
    while True:
        try:
            with socket.create_connection((host, port),
                                          timeout=max(deadline - time.monotonic(), 0.001)):
                return
        except ConnectionRefusedError:
            if time.monotonic() + _REFUSED_RETRY >= deadline:
                raise
            time.sleep(_REFUSED_RETRY)


_REFUSED_RETRY = 0.1  # seconds between tries of an address that refuses


# A Ray GCS answers this (its cluster id) -- or, under token authentication,
# refuses it as unauthenticated: either way it is a Ray cluster.
_GCS_METHOD = "/ray.rpc.NodeInfoGcsService/GetClusterId"


def _expect_ray_gcs(address: str, deadline: float) -> bool | None:
    """Fail unless a Ray GCS answers at ``address`` (``host:port``); whether it
    asks for a token (None: not probed).

    An open port alone proves little: a proxy or firewall may accept any
    connection, another program may own the port, and ``ray.init`` would then
    retry for a minute.  A TLS cluster (``RAY_USE_TLS``) is not probed.
    """
    if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
        return None
    from .grpc_fork import import_grpc

    grpc = import_grpc()
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(_GCS_METHOD, request_serializer=lambda _: b"",
                                   response_deserializer=bytes)
        try:
            call(None, timeout=max(deadline - time.monotonic(), 0.001))
        except grpc.RpcError as error:
            if error.code() in (grpc.StatusCode.UNAUTHENTICATED,
                                grpc.StatusCode.PERMISSION_DENIED):
                return True
            if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise OSError("no Ray cluster answered there within the timeout") from None
            raise OSError(f"what answers there is not a Ray cluster ({error.code().name}: "
                          f"{(error.details() or '')[:80]})") from None
    return False


def wait_for_gcs(address: str, given_up: threading.Event, poll: float = 0.05) -> bool:
    """Wait until a Ray GCS answers at ``address`` (``host:port``); False when
    ``given_up`` is set first.  Nodes starting beside their head launch as soon
    as its GCS can take them, while the rest of the head still starts."""
    host, _, port = address.rpartition(":")
    while not given_up.is_set():
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                pass
            _expect_ray_gcs(address, time.monotonic() + 1)
            return True
        except OSError:  # not listening yet, or not answering yet
            given_up.wait(poll)
    return False


def asks_for_token(address: str, timeout: float = 10) -> bool | None:
    """Whether the Ray cluster at ``address`` uses token authentication (None:
    cannot tell, over TLS).  A node joining it must run in the same mode: one in
    token mode refuses the requests of the others, and the cluster hangs."""
    return _expect_ray_gcs(address, time.monotonic() + timeout)


def observe_auth_mode() -> None:
    """Make this process's Ray see the ``RAY_AUTH_MODE`` its environment now has.

    Ray reads the mode into a cache of its settings when the process first
    connects; one that connected to a cluster without tokens and then connects
    to one with them (or the other way round) would otherwise present the old
    mode and be refused.  Ray's own token set-up refreshes the cache the same
    way; this is the one guarded use of it here.
    """
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
    except ImportError:  # another Ray version: its own handling applies
        return
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def auth_mode_of(address: str) -> str | None:
    """``RAY_AUTH_MODE`` for a node joining the cluster at ``address``: ``"token"``
    or ``"disabled"`` as the head runs, whatever tokens lie around on this
    machine; None when that cannot be told (leave the setting alone)."""
    token = asks_for_token(address)
    if token is None:
        return None
    return "token" if token else "disabled"
