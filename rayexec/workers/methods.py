"""Client methods about the cluster's workers (Ray nodes): who they are, what they
hold, running a function on each of them, waiting for them to join.

A worker is a Ray node, named by the address ``tcp://<node ip>:<raylet port>``
(see :mod:`rayexec.workers.nodes`).
"""

from __future__ import annotations

import functools
import inspect
import time

from .. import data
from ..asynchronous import async_capable
from ..errors import user_exception
from ..functions import futures_of
from ..keys import key_prefix
from ..state import FINISHED
from . import nodes, placement, replication
from .context import get_worker
from .dashboard import dashboard_link
from .hook_calls import completed
from .preloads import run_once as run_preloads

WAIT_POLL = 0.2  # seconds between looks at the cluster in wait_for_workers


def _run_here(function, args, kwargs, wants_worker):
    run_preloads()
    # distributed passes the Worker to functions that ask for it by name.
    if wants_worker:
        kwargs = {**kwargs, "dask_worker": get_worker()}
    result = function(*args, **kwargs)
    return completed(result)  # a coroutine function: distributed awaits it


@functools.cache
def _remote():
    import ray

    # No CPU: run() must not queue behind the tasks occupying the node.
    return ray.remote(num_cpus=0, max_retries=0)(_run_here)


def _takes(function, name: str) -> bool:
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


class WorkerMethods:
    """Mixed into :class:`rayexec.Client`."""

    def nthreads(self, workers=None, **kwargs) -> dict[str, int]:
        """Threads (CPUs) per worker (Ray node), keyed by worker address.

        >>> client.nthreads()  # doctest: +SKIP
        {'tcp://127.0.0.1:38119': 1, 'tcp://127.0.0.1:35295': 1}
        """
        return {w.address: w.nthreads for w in self._workers(workers)}

    ncores = nthreads

    def scheduler_info(self, n_workers: int = -1, **kwargs) -> dict:
        """The cluster as distributed describes it: ``workers``, ``n_workers``, ...

        ``addresses`` lists the workers and ``resources`` sums their resources.
        ``n_workers`` limits how many workers are described (-1: all).

        >>> client.scheduler_info()["n_workers"]  # doctest: +SKIP
        2
        """
        info = nodes.scheduler_info(self._connection.address)
        if n_workers is not None and n_workers >= 0:
            info["workers"] = dict(list(info["workers"].items())[:n_workers])
        return info

    def _workers(self, hints=None) -> list[nodes.WorkerInfo]:
        alive = nodes.alive_workers()
        if hints is None:
            return [w for w in alive if w.runs_tasks]
        return placement.match_workers(placement._as_list(hints), alive)

    @property
    def dashboard_link(self) -> str | None:
        """Ray's dashboard, when it runs; else None.  A link template set in
        ``distributed.dashboard.link`` shapes it, as in distributed (see
        :mod:`rayexec.workers.dashboard`).

        >>> client.dashboard_link  # doctest: +SKIP
        'http://127.0.0.1:8787'
        """
        return dashboard_link(self._connection.dashboard_url)

    # -- where the data is --------------------------------------------------------------
    def who_has(self, futures=None, **kwargs) -> dict[str, list[str]]:
        """For each future's key, the workers holding its data (where Ray really has it).

        Without ``futures``, every key this client holds.  A key still being
        computed has no worker yet.

        >>> x = client.submit(make_big_array)  # doctest: +SKIP
        >>> client.who_has([x])                 # doctest: +SKIP
        {'make_big_array-6f1b...': ['tcp://10.0.0.5:40000']}
        """
        return self._who_has(self._states_of(futures))

    def _who_has(self, states: list) -> dict[str, list[str]]:
        """For each of ``states``' keys, the workers holding its data."""
        ready = [s for s in states if s.status == FINISHED and s.has_data()]
        refs = [data.object_ref(s) for s in ready]
        where = dict(zip((s.key for s in ready), nodes.locations(refs), strict=True))
        return {s.key: where.get(s.key, []) for s in states}

    def has_what(self, workers=None, **kwargs) -> dict[str, list[str]]:
        """For each worker, the keys of this client's data it holds.

        >>> client.has_what()  # doctest: +SKIP
        {'tcp://10.0.0.5:40000': ['make_big_array-6f1b...'], 'tcp://10.0.0.6:40000': []}
        """
        result: dict[str, list[str]] = {w.address: [] for w in self._workers(workers)}
        for key, addresses in self.who_has().items():
            for address in addresses:
                if address in result:
                    result[address].append(key)
        return result

    @async_capable
    def replicate(self, futures, n=None, workers=None, branching_factor=2, **kwargs) -> None:
        """Copy the data of ``futures`` onto ``n`` workers (default: all), or onto ``workers``.

        Ray copies data to a node whenever a task there needs it; this makes the
        copies now.  Small objects (Ray's inline limit, 100 KB) travel inside
        the tasks that use them and need none.  See :mod:`rayexec.workers.replication`.

        >>> client.replicate([big])  # doctest: +SKIP
        >>> len(client.who_has([big])[big.key]) == len(client.nthreads())  # doctest: +SKIP
        True
        """
        if n is not None and n < 1:
            raise ValueError(f"replicate needs n of at least 1, got {n}")
        states = [s for s in self._states_of(futures)
                  if s.status == FINISHED and s.ref is not None]
        replication.replicate([s.ref for s in states], self._workers(workers), n)

    def rebalance(self, futures=None, workers=None, **kwargs) -> None:
        """Accepted for compatibility: on Ray there is no balance to restore.

        distributed moves data between workers to even out their memory.  Ray's
        object store places each object where it is made, fetches it where it is
        needed and spills it to disk under memory pressure, so nothing is moved.
        ``workers`` is still checked: an unknown worker is an error.

        >>> client.rebalance()  # doctest: +SKIP
        """
        if workers is not None:
            self._workers(workers)

    def nbytes(self, keys=None, summary=True, **kwargs) -> dict[str, int]:
        """Bytes of data held per key (``summary=False``) or per key prefix (the default).

        Covers the finished keys this client holds (``keys`` to choose some).
        Values in the client's memory (small results, which Ray keeps with their
        owner) are measured with dask's ``sizeof``, as distributed measures them;
        data in Ray's object store by the bytes stored, without fetching it.

        >>> client.nbytes(summary=False)  # doctest: +SKIP
        {'ndarray-5288b8d52b5e10f2ec635a2d6c72200e': 8000}
        >>> client.nbytes()                # doctest: +SKIP
        {'ndarray': 8000}
        """
        with self._lock:
            held = dict(self._states.items())
        chosen = held if keys is None else {k: held[k] for k in keys if k in held}
        sizes = data.sizes([s for s in chosen.values() if s.status == FINISHED])
        if not summary:
            return sizes
        totals: dict[str, int] = {}
        for key, size in sizes.items():
            prefix = key_prefix(key)
            totals[prefix] = totals.get(prefix, 0) + size
        return totals

    def _states_of(self, futures=None) -> list:
        """The states of ``futures`` (futures or collections), or of every key held."""
        if futures is None:
            with self._lock:
                return list(self._states.values())
        found = futures_of(futures)
        return list({id(f._state): f._state for f in found}.values())

    # -- running functions on workers ---------------------------------------------------
    @async_capable
    def run(self, function, *args, workers: list[str] | None = None, wait: bool = True,
            nanny: bool = False, on_error: str = "raise", **kwargs):
        """Run ``function(*args, **kwargs)`` once on each worker; results by address.

        A coroutine function is run to its end there, and its result returned.

        It runs in a Ray worker process of each node, outside the task slots
        (it takes no CPU), so it does not wait behind running tasks.  A Ray
        node has several worker processes: state ``function`` leaves in one of
        them is not seen by every later task.  A ``dask_worker`` parameter
        receives :func:`rayexec.get_worker`.  ``nanny=True`` runs in the same
        place (Ray has no nanny).  ``on_error``: ``"raise"`` the first error,
        ``"return"`` it as the worker's result, or ``"ignore"`` that worker.

        >>> client.run(os.getpid)  # doctest: +SKIP
        {'tcp://10.0.0.5:40000': 4121, 'tcp://10.0.0.6:40000': 977}
        """
        import ray

        if on_error not in ("raise", "return", "ignore"):
            raise ValueError(f"on_error must be 'raise', 'return' or 'ignore', got {on_error!r}")
        if not callable(function):
            raise TypeError(f"run needs a callable, got {function!r}")
        self._check_open()
        targets = self._workers(workers)
        remote = _remote()
        wants_worker = _takes(function, "dask_worker")
        refs = {w.address: self._with_options(remote, placement.pin_options([w])).remote(
            function, args, kwargs, wants_worker) for w in targets}
        if not wait:
            return None
        results = {}
        for address, ref in refs.items():
            try:
                results[address] = ray.get(ref)
            except ray.exceptions.RayError as error:
                exc = user_exception(error)
                if on_error == "raise":
                    raise exc from None
                if on_error == "return":
                    results[address] = exc
        return results

    @async_capable
    def run_on_scheduler(self, function, *args, **kwargs):
        """Run ``function`` once on the head node (Ray's counterpart of the scheduler).

        Ray's scheduler is not a Python object: a ``dask_scheduler`` parameter
        cannot be filled and is refused.

        >>> client.run_on_scheduler(socket.gethostname)  # doctest: +SKIP
        'head-node'
        """
        if _takes(function, "dask_scheduler"):
            raise NotImplementedError("Ray has no Python scheduler object to pass as "
                                      "dask_scheduler; use run_on_scheduler without it")
        alive = nodes.alive_workers()
        head = [w for w in alive if w.is_head] or alive[:1]
        return self.run(function, *args, workers=[head[0].address], **kwargs)[head[0].address]

    def wait_for_workers(self, n_workers: int, timeout: float | None = None) -> None:
        """Block until at least ``n_workers`` workers (Ray nodes) are alive.

        Raises ``WorkerStartTimeoutError`` (a ``TimeoutError``) after ``timeout`` seconds.

        >>> client.wait_for_workers(4, timeout="5 minutes")  # doctest: +SKIP
        """
        if not isinstance(n_workers, int) or isinstance(n_workers, bool) or n_workers < 1:
            raise ValueError(f"`n_workers` must be a positive integer. Instead got {n_workers}.")
        if timeout is not None:
            from dask.utils import parse_timedelta

            timeout = parse_timedelta(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            alive = len(nodes.alive_workers())
            if alive >= n_workers:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise nodes.WorkerStartTimeoutError(alive, n_workers, timeout)
            time.sleep(WAIT_POLL)

    @async_capable
    def retire_workers(self, workers=None, close_workers: bool = True, remove: bool = True,
                       names=None, timeout="2 minutes", **kwargs) -> dict:
        """Retire ``workers`` (addresses, or ``names``): they take no new tasks, the data
        only they hold moves to other workers, and once idle they close.

        Returns ``{address: worker info}`` of the retired workers, as distributed does.
        On Ray a worker is a node and this is Ray's node drain (see
        :mod:`rayexec.workers.retirement`): a node this client's local cluster started
        stops; another stays up drained, taking no tasks, until ``ray stop`` on its
        machine.  Ray cannot retire its head node: that is an error, as is an
        unknown worker.

        >>> client.retire_workers(workers=["tcp://10.0.0.5:40000"])  # doctest: +SKIP
        {'tcp://10.0.0.5:40000': {'type': 'Worker', ...}}
        """
        from dask.utils import parse_timedelta

        from . import retirement

        wanted = workers if workers is not None else names
        if wanted is None:
            raise ValueError("retire_workers needs the workers to retire: workers=[address, ...]")
        retiring = self._workers(wanted)
        retirement.check_retirable(retiring)
        for worker in retiring:
            retirement.drain(worker)
        retirement.wait_idle(retiring, parse_timedelta(timeout))
        leaving = {w.node_id for w in retiring}
        staying = [w for w in self._workers() if w.node_id not in leaving]
        held = [s.ref for s in self._states.values() if s.status == FINISHED and s.ref is not None]
        replication.replicate(held, staying, n=1)
        stop = getattr(self.cluster, "stop_workers", None)
        if close_workers and stop is not None:
            stop([w.address for w in retiring])
        return {w.address: w.as_dict() for w in retiring}
