"""The Ray cluster a client connected to, as a distributed cluster object.

``Client("host:port").cluster`` is one of these: it lists the cluster's
workers and gives its dashboard.  It does not own the cluster, so ``close()``
leaves it running (``ray down`` / ``ray stop`` end it).  ``scale(n)`` and
``adapt(minimum=...)`` ask Ray's autoscaler for room (``ray.autoscaler.sdk.
request_resources``): a ``ray up`` cluster starts nodes for it, up to its
``max_workers``; a cluster without an autoscaler (``ray start`` by hand)
cannot grow, and the request changes nothing.

>>> client = Client("auto")   # doctest: +SKIP
>>> client.cluster.scale(8)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math

from ..workers import nodes
from ..workers.dashboard import dashboard_link

logger = logging.getLogger(__name__)


class RayCluster:
    """A view of the connected Ray cluster, with distributed's cluster methods."""

    def __init__(self, address: str | None, dashboard_url: str | None = None):
        self.address = address
        self._dashboard_url = dashboard_url
        self.status = "running"
        self.name = f"RayCluster-{address}"

    @property
    def dashboard_link(self) -> str | None:
        """Ray's dashboard, when it runs (shaped by ``distributed.dashboard.link``)."""
        return dashboard_link(self._dashboard_url)

    @property
    def scheduler_address(self) -> str | None:
        if self.address is None or "://" in self.address:
            return self.address
        return f"tcp://{self.address}"

    @property
    def workers(self) -> dict[str, nodes.WorkerInfo]:
        """The cluster's alive nodes that run tasks, by worker address."""
        return {w.address: w for w in nodes.alive_workers() if w.runs_tasks}

    def _bundle(self) -> dict:
        """The shape of one worker: the CPUs of the cluster's typical node."""
        cpus = sorted(w.nthreads for w in self.workers.values()) or [1]
        return {"CPU": cpus[len(cpus) // 2] or 1}

    def scale(self, n: int = 0, memory=None, cores=None) -> None:
        """Ask Ray's autoscaler for room for ``n`` workers (or ``cores`` CPUs).

        The request replaces the previous one; ``scale(0)`` withdraws it, and
        the autoscaler removes idle nodes after its idle timeout.
        """
        from ray.autoscaler.sdk import request_resources

        if memory is not None:
            raise NotImplementedError(
                "cluster.scale(memory=...) is not supported on Ray: ask for workers "
                "(scale(n)) or CPUs (scale(cores=...))")
        if cores is not None:
            request_resources(num_cpus=int(cores))
            return
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"scale(n) takes a non-negative number of workers, got {n!r}")
        request_resources(bundles=[self._bundle()] * n)

    def adapt(self, Adaptive=None, minimum: float = 0, maximum: float = math.inf, **kwargs):
        """Keep at least ``minimum`` workers; Ray's autoscaler adds more with the work.

        The upper bound of an autoscaling Ray cluster is its config's
        ``max_workers``: ``maximum`` cannot raise it, and is not checked here.
        """
        self.scale(int(minimum))
        return self

    def close(self, timeout=None) -> None:
        """Nothing to stop: the cluster was started elsewhere and keeps running."""
        self.status = "closed"

    def __enter__(self) -> RayCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RayCluster({self.scheduler_address!r}, status={self.status})"
