"""Client methods about the cluster's workers (Ray nodes): threads, info, dashboard."""

from __future__ import annotations

from . import placement, workers


class WorkerMethods:
    """Mixed into :class:`rayexec.Client`."""

    def nthreads(self, workers=None, **kwargs) -> dict[str, int]:
        """Threads (CPUs) per worker (Ray node), keyed by worker address.

        >>> client.nthreads()  # doctest: +SKIP
        {'tcp://127.0.0.1:38119': 1, 'tcp://127.0.0.1:35295': 1}
        """
        return {w.address: w.nthreads for w in self._workers(workers)}

    ncores = nthreads

    def scheduler_info(self, n_workers: int = 5, **kwargs) -> dict:
        """The cluster as distributed describes it: ``workers``, ``n_workers``, ...

        >>> client.scheduler_info()["n_workers"]  # doctest: +SKIP
        2
        """
        return workers.scheduler_info(self._connection.address)

    def _workers(self, hints=None):
        alive = workers.alive_workers()
        return alive if hints is None else placement.match_workers(hints, alive)

    @property
    def dashboard_link(self) -> str | None:
        """Ray's dashboard, when it runs; else None."""
        url = self._connection.dashboard_url
        if not url:
            return None
        return url if url.startswith("http") else f"http://{url}"
