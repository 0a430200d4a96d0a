"""Getting a Ray cluster: connect to a running one, or start one on this machine.

``Client()`` with no address starts a local cluster, as distributed's
``LocalCluster`` does.  A distributed *worker* is a Ray *node*: ``n_workers=2,
threads_per_worker=1`` starts two Ray nodes of one CPU each: this process's own
Ray as the head and ``ray start`` processes as the others (a
:class:`~.local_cluster.LocalCluster`); otherwise one node with all the CPUs.

Ray is one per process: when it is already initialised, a Client attaches to it
and leaves it running when it closes.  A connection a client made itself to a
running cluster stays open when it closes, for the next client of that
cluster (``kept``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import kept
from .addresses import (  # noqa: F401
    DEFAULT_RAY_PORT,
    check_reachable,
    normalize_address,
    observe_auth_mode,
    wait_for_gcs,
)
from .fault_settings import bounded_memory_retries, outliving_the_head
from .grpc_fork import import_grpc
from .local_cluster import LocalCluster, log_processes_false
from .ray_logs import quiet_ray
from .ray_node import dashboard_host_port, environ_while, on_lasting_thread, use_node_settings

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Connection:
    """A Ray connection and what this process must stop when done with it."""

    address: str | None
    owned: bool  # this process started Ray and shuts it down on close
    local_cluster: Any = None  # the LocalCluster this process started for the client
    dashboard_url: str | None = None

    def __post_init__(self) -> None:
        _open.add(self)

    def close(self, reuse: bool = True) -> None:
        """Let go of the cluster; a connection this process made to a running
        cluster stays open, idle, for the next client of it (``kept``), unless
        ``reuse`` is False."""
        import ray

        _open.discard(self)
        if not self.owned:
            return
        if self.local_cluster is not None:
            self.local_cluster.close()  # its worker nodes, then this process's Ray
        elif reuse:
            kept.keep()
        else:
            ray.shutdown()


# The clients' connections not closed yet.
_open: weakref.WeakSet[Connection] = weakref.WeakSet()
# Ends this process's Ray connection, made outside any client, when a client asks
# for another cluster and no client uses this one; None: such a client is refused.
_giving_way: Callable[[], None] | None = None


def give_way_with(disconnect: Callable[[], None] | None) -> None:
    """Let this process's Ray connection, made outside any client, give way to
    another cluster once no client uses it: ``disconnect()`` ends it.

    Ray connects a process to one cluster at a time.  ``rayexec.utils_test``
    keeps one test cluster connected for a whole test session; a test that
    starts a cluster of its own (``dask scheduler`` in a subprocess, a
    ``LocalCluster``, as distributed's tests do) then connects to that one, and
    the test cluster connects again when a later test asks for it.  A
    connection the user made (``ray.init``) never gives way: the client is
    refused, naming both clusters.
    """
    global _giving_way
    _giving_way = disconnect


def clients_open() -> bool:
    """Whether a client of this process still uses its Ray connection."""
    return len(_open) > 0


def connect(address: str | None = None, *, timeout: float = 30, **local: Any) -> Connection:
    """Connect to the cluster at ``address``, or start a local one.

    ``local`` holds distributed's ``LocalCluster`` arguments (``n_workers``,
    ``threads_per_worker``, ``memory_limit``, ``dashboard_address``, ...) for a
    cluster started here.
    """
    quiet_ray()  # before Ray starts anything: its start-up notices are not the user's
    import_grpc()  # before Ray imports it: Ray forks while threads are inside gRPC
    log_processes_false(local.pop("processes", None))
    with bounded_memory_retries():  # read by Ray's processes as they start
        return _connect(address, timeout, local)


def _connect(address: str | None, timeout: float, local: dict) -> Connection:
    import ray

    if address is not None:
        address = normalize_address(address)
        check_reachable(address, timeout)
    # A closed client's own connection, left for the next client of its cluster.
    reused = kept.take_for(lambda current: address == "auto" or (
        address is not None and _same_cluster(address, current)), not clients_open())
    if reused is not None:
        return Connection(address=reused, owned=True, dashboard_url=_running_dashboard())
    if ray.is_initialized():
        current = ray.get_runtime_context().gcs_address
        if address in (None, "auto") or _same_cluster(address, current):
            if local.get("n_workers") is not None:
                logger.info("Ray is already running in this process; using it as it is")
            return Connection(address=current, owned=False, dashboard_url=_running_dashboard())
        if _giving_way is not None and not clients_open():
            _giving_way()
        if ray.is_initialized():
            held = " while a client of that cluster is open" if _giving_way else ""
            raise RuntimeError(
                f"this process is already connected to the Ray cluster at {current}; "
                f"Ray allows one cluster per process, so it cannot also connect to "
                f"{address}{held}")
    if address is not None:
        _use_token_if_available()
        try:
            with outliving_the_head():
                context = ray.init(address=address, **quiet_ray())
        except BaseException as exc:
            # A connection that failed half way must not pass for one that works.
            if ray.is_initialized():
                ray.shutdown()
            if not isinstance(exc, ConnectionError):
                raise
            raise ConnectionError(
                f"could not connect to the Ray cluster at {address!r}: {exc}. If it uses "
                "token authentication (Ray's default), give this process the cluster's "
                "token: RAY_AUTH_TOKEN=<token> or RAY_AUTH_TOKEN_PATH=<file> "
                "(`ray get-auth-token` on the head prints it)") from exc
        return Connection(address=address, owned=True,
                          dashboard_url=_http(context.dashboard_url))
    cluster = LocalCluster.around(ThisProcessHead.factory(local.pop("dashboard_address", None)),
                                  **local)
    return Connection(address=cluster._head.address, owned=True, local_cluster=cluster,
                      dashboard_url=cluster._head.dashboard_url)


def _use_token_if_available() -> None:
    """Send this machine's Ray token when connecting to an explicit address.

    Ray clusters use token authentication by default, but ``ray.init`` with an
    explicit address sends a token only in token mode, and then refuses after a
    long retry that says nothing about tokens.  Ray's own helper turns token mode
    on when a token is at hand (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or
    ``~/.ray/auth_token``) and respects an explicit ``RAY_AUTH_MODE``.  It is not
    public API, hence this one guarded place.
    """
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # another Ray version: its own defaults apply
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    observe_auth_mode()  # a process may have connected before in the other mode


def _same_cluster(address: str, current: str) -> bool:
    """Whether two ``host:port`` addresses name the same Ray cluster."""
    if address.startswith("ray://"):
        return False
    (host_a, _, port_a), (host_b, _, port_b) = address.rpartition(":"), current.rpartition(":")
    if port_a != port_b:
        return False
    local = {"localhost", "127.0.0.1", "0.0.0.0", socket.gethostname()}
    try:
        local.add(socket.gethostbyname(socket.gethostname()))
    except OSError:
        pass
    try:  # the address Ray gives this machine's nodes, which may be neither of those
        from ray.util import get_node_ip_address

        local.add(get_node_ip_address())
    except Exception:
        pass
    return host_a == host_b or (host_a in local and host_b in local)


class ThisProcessHead:
    """The head node of the cluster ``Client()`` starts: this process's own Ray.

    ``ray.init`` starts it, from any thread (on one that lasts: see
    :func:`~.ray_node.on_lasting_thread`); it stops with
    ``ray.shutdown()``.  Made by :meth:`factory` for ``LocalCluster.around``.
    """

    def __init__(self, dashboard_address, num_cpus, memory, object_store_memory, resources,
                 environment=None):
        self._environment = dict(environment or {})  # for the head's worker processes
        self._options = dict(num_cpus=num_cpus, object_store_memory=object_store_memory,
                             resources=resources, include_dashboard=dashboard_address is not None)
        if memory:
            self._options["_memory"] = memory
        if dashboard_address is not None:
            host, port = dashboard_host_port(dashboard_address)
            self._options.update(dashboard_host=host, dashboard_port=port)
        self.address: str | None = None
        self.port: int | None = None
        self.dashboard_url: str | None = None
        self.pid = os.getpid()
        self._started = False

    @classmethod
    def factory(cls, dashboard_address):
        return lambda **sizes: cls(dashboard_address, **sizes)

    def start(self) -> ThisProcessHead:
        import ray

        # address="local": without it ray.init joins any cluster that `ray start`
        # left running on this machine, instead of starting the one asked for.
        # The head's processes are this process's children and read its environment.
        use_node_settings(os.environ)
        # Ray's processes stop when the thread that started them ends.
        with environ_while(self._environment):
            context = on_lasting_thread(ray.init, address="local", **self._options,
                                        **quiet_ray())
        self._started = True
        self._joinable_at(int(context.address_info["gcs_address"].rpartition(":")[2]))
        self.dashboard_url = _http(context.dashboard_url)
        return self

    def _joinable_at(self, port: int) -> None:
        self.port = port
        # Nodes on this machine join over loopback, as they join a `ray start` head.
        self.address = f"127.0.0.1:{port}"

    def answering_address(self, given_up: threading.Event) -> str | None:
        """The head's address as soon as its GCS answers, while :meth:`start` still
        runs; None if ``given_up`` is set first.  Other nodes can join from then on.

        ``ray.init`` chooses the GCS port and tells it only when everything has
        started, so it is read off the GCS process it started (one listening
        port): Ray itself, given a fixed port, waits a whole second before it
        first tries its own GCS.
        """
        import psutil  # a dependency of Ray

        while not given_up.is_set():
            for child in psutil.Process().children():
                try:
                    if child.name() == "gcs_server":
                        ports = [c.laddr.port for c in child.net_connections("tcp")
                                 if c.status == psutil.CONN_LISTEN]
                        if len(ports) == 1 and wait_for_gcs(f"127.0.0.1:{ports[0]}", given_up):
                            self._joinable_at(ports[0])
                            return self.address
                except psutil.Error:  # a process that ended meanwhile
                    pass
            given_up.wait(0.05)
        return None

    def terminate(self) -> None:
        pass  # stops with stop(): this process cannot signal itself to stop Ray

    def stop(self) -> None:
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()


def _http(url: str | None) -> str | None:
    """Ray's dashboard address as a link (Ray gives ``host:port``, or nothing)."""
    if not url:
        return None
    return url if "://" in url else f"http://{url}"


def _running_dashboard() -> str | None:
    """The dashboard of the Ray this process is connected to, if one runs."""
    try:
        from ray._private.worker import get_dashboard_url
    except ImportError:  # another Ray version
        return None
    try:
        return _http(get_dashboard_url())
    except Exception:  # no dashboard in this cluster
        return None
