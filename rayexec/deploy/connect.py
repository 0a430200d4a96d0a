"""Getting a Ray cluster: connect to a running one, or start one on this machine.

``Client()`` with no address starts a local cluster, as distributed's
``LocalCluster`` does.  A distributed *worker* is a Ray *node*: ``n_workers=2,
threads_per_worker=1`` starts two Ray nodes of one CPU each (on one machine,
with ``ray.cluster_utils.Cluster``); otherwise one node with all the CPUs.

Ray is one per process: when it is already initialised, a Client attaches to it
and leaves it running when it closes.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from .fault_settings import bound_memory_retries, outliving_the_head
from .ray_logs import quiet_ray

logger = logging.getLogger(__name__)

DEFAULT_RAY_PORT = 6379


@dataclass
class Connection:
    """A Ray connection and what this process must stop when done with it."""

    address: str | None
    owned: bool  # this process started Ray and shuts it down on close
    local_cluster: Any = None  # a ray.cluster_utils.Cluster this process started
    dashboard_url: str | None = None

    def close(self) -> None:
        import ray

        if not self.owned:
            return
        ray.shutdown()
        if self.local_cluster is not None:
            self.local_cluster.shutdown()


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
        with socket.create_connection((host, port_number), timeout=timeout):
            pass
    except OSError as exc:
        # A refusal comes at once, a silent host only after the timeout: say which.
        raise OSError(
            f"cannot connect to a Ray cluster at {address!r}: {exc.strerror or exc} after "
            f"{time.monotonic() - started:.1f} s (timeout={timeout:g} s). "
            "Is `ray start --head` running there?"
        ) from exc


def connect(address: str | None = None, *, timeout: float = 30, n_workers: int | None = None,
            threads_per_worker: int | None = None, dashboard_address: Any = None,
            object_store_memory: int | None = None, **ignored: Any) -> Connection:
    """Connect to the cluster at ``address``, or start a local one."""
    import ray

    quiet_ray()  # before Ray starts anything: its start-up notices are not the user's
    bound_memory_retries()  # read by Ray when this process connects
    if address is not None:
        address = normalize_address(address)
        check_reachable(address, timeout)
    if ray.is_initialized():
        current = ray.get_runtime_context().gcs_address
        if address not in (None, "auto") and not _same_cluster(address, current):
            raise RuntimeError(
                f"this process is already connected to the Ray cluster at {current}; "
                f"Ray allows one cluster per process, so it cannot also connect to {address}")
        if n_workers is not None:
            logger.info("Ray is already running in this process; using it as it is")
        return Connection(address=current, owned=False)
    if address is not None:
        _use_token_if_available()
        try:
            with outliving_the_head():
                context = ray.init(address=address, **quiet_ray())
        except ConnectionError as exc:
            raise ConnectionError(
                f"could not connect to the Ray cluster at {address!r}: {exc}. If it uses "
                "token authentication (Ray's default), give this process the cluster's "
                "token: RAY_AUTH_TOKEN=<token> or RAY_AUTH_TOKEN_PATH=<file> "
                "(`ray get-auth-token` on the head prints it)") from exc
        return Connection(address=address, owned=True, dashboard_url=context.dashboard_url)
    return _start_local(n_workers, threads_per_worker, dashboard_address, object_store_memory)


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
    return host_a == host_b or (host_a in local and host_b in local)


def _start_local(n_workers, threads_per_worker, dashboard_address, object_store_memory):
    import ray

    ncpus = os.cpu_count() or 1
    dashboard = {"include_dashboard": dashboard_address is not None}
    if dashboard_address is not None:
        host, _, port = str(dashboard_address).rpartition(":")
        dashboard.update(dashboard_host=host or "127.0.0.1", dashboard_port=int(port or 8265))
    if object_store_memory is None:
        object_store_memory = _default_object_store_memory()
    if n_workers is None or n_workers <= 1:
        num_cpus = threads_per_worker or ncpus
        # address="local": without it ray.init joins any cluster that `ray start`
        # left running on this machine, instead of starting the one asked for.
        context = ray.init(address="local", num_cpus=num_cpus,
                           object_store_memory=object_store_memory, **dashboard, **quiet_ray())
        return Connection(address=context.address_info["gcs_address"], owned=True,
                          dashboard_url=context.dashboard_url)
    from ray.cluster_utils import Cluster

    per_node = threads_per_worker or max(1, ncpus // n_workers)
    node_memory = object_store_memory // n_workers
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": per_node, "object_store_memory": node_memory, **dashboard})
    for _ in range(n_workers - 1):
        cluster.add_node(num_cpus=per_node, object_store_memory=node_memory)
    context = ray.init(address=cluster.address, **quiet_ray())
    return Connection(address=cluster.address, owned=True, local_cluster=cluster,
                      dashboard_url=context.dashboard_url)


def _default_object_store_memory() -> int:
    # Ray's default (30% of RAM) is right for a dedicated machine; on a laptop or
    # a shared box a quarter, capped at 4 GiB, leaves room for the work itself,
    # and is enough for arrays of hundreds of MB.
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2 * 2**30
    return int(min(total // 4, 4 * 2**30))
