"""``LocalCluster``: a Ray cluster of nodes on this machine, shaped like distributed's.

Each worker is a Ray node started as a ``ray start`` process (:mod:`.ray_node`);
the head is one too, or -- for the cluster ``Client()`` starts -- this
process's own Ray (``ray.init``).  Nodes start together, and stop by their
process ids.  Other processes join or connect at the head's port, which is the
point of a cluster that outlives a single ``Client``.

>>> from rayexec import LocalCluster, Client
>>> cluster = LocalCluster(n_workers=2, threads_per_worker=1)  # doctest: +SKIP
>>> client = Client(cluster)                                    # doctest: +SKIP
>>> client.nthreads()                                           # doctest: +SKIP
{'tcp://192.168.1.5:40671': 1, 'tcp://192.168.1.5:38231': 1}
>>> client.close(); cluster.close()                             # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref

from ..workers.dashboard import dashboard_link
from ..workers.preloads import node_environment
from .addresses import normalize_address
from .memory import default_object_store_memory, node_sizes
from .ray_node import (  # noqa: F401  (free_port: public)
    NodeStartError,
    RayNode,
    free_port,
    use_token_auth,
)

logger = logging.getLogger(__name__)

PROCESSES_FALSE = (
    "processes=False: on Ray, tasks always run in Ray worker processes, never in "
    "this process's threads; the workers are Ray nodes on this machine as with "
    "processes=True. Values cross between processes through Ray's shared-memory "
    "object store.")


_said_processes_false = False


def log_processes_false(processes) -> None:
    """Say once, in the log at INFO level, what ``processes=False`` means on Ray
    (tasks never run in this process).

    Not a warning (neither Python's nor the log's): the program is right as it
    is and has nothing to change.  Test suites that turn warnings into errors
    (dask's) would fail on a Python warning, and distributed's ``LocalCluster``
    starts in silence, showing only log records of WARNING and above.
    """
    global _said_processes_false
    if processes is False and not _said_processes_false:
        _said_processes_false = True
        logger.info(PROCESSES_FALSE)


class LocalCluster:
    """A Ray cluster on this machine, shaped like distributed's ``LocalCluster``.

    ``n_workers`` Ray nodes of ``threads_per_worker`` CPUs each, started at
    once; the head listens at ``scheduler_port`` (0: any free port), so other
    processes can connect (``Client(cluster.scheduler_address)``) or add workers
    (``dworker ADDRESS``).  ``dashboard_address`` starts Ray's dashboard there,
    on loopback unless a host is given (``None``: no dashboard).
    ``memory_limit`` (per worker, as distributed's: ``"4GB"``, ``"auto"``, a
    fraction, ``0`` for none) sizes each node's ``memory`` resource and object
    store (see :mod:`rayexec.deploy.memory`).  ``processes=False`` cannot put
    tasks in this process: the log says so.  ``scale(n)`` and ``adapt()`` add
    and remove nodes.  Other arguments of distributed's ``LocalCluster`` are
    accepted and have no effect on Ray.

    >>> with LocalCluster(n_workers=1, scheduler_port=0) as cluster:  # doctest: +SKIP
    ...     with Client(cluster) as client:
    ...         client.submit(sum, [1, 2]).result()
    3
    """

    def __init__(self, name=None, n_workers=None, threads_per_worker=None, processes=None,
                 loop=None, start=None, host=None, ip=None, scheduler_port=0,
                 silence_logs=logging.WARN, dashboard_address=":8787",
                 worker_dashboard_address=None, services=None, worker_services=None,
                 service_kwargs=None, asynchronous=False, security=None, protocol=None,
                 blocked_handlers=None, interface=None, worker_class=None,
                 scheduler_kwargs=None, scheduler_sync_interval=1, **worker_kwargs):
        self._setup(None, name=name, n_workers=n_workers, threads_per_worker=threads_per_worker,
                    processes=processes, host=host or ip, scheduler_port=scheduler_port,
                    dashboard_address=dashboard_address, asynchronous=asynchronous,
                    **worker_kwargs)

    @classmethod
    def around(cls, head, **kwargs) -> LocalCluster:
        """A local cluster whose head node is ``head``, already described but not started.

        ``head`` has ``start()``, ``stop()``, ``address``, ``port``, ``pid`` and
        ``dashboard_url`` as :class:`~.ray_node.RayNode` has; the Client starts its
        cluster around this process's own Ray this way.  ``head`` is a callable
        taking ``(num_cpus, memory, object_store_memory, resources)``.
        """
        self = cls.__new__(cls)
        self._setup(head, **kwargs)
        return self

    def _setup(self, head, *, name=None, n_workers=None, threads_per_worker=None,
               processes=None, host=None, scheduler_port=0, dashboard_address=None,
               asynchronous=False, memory_limit="auto", resources=None,
               object_store_memory=None, preload=None, preload_argv=None,
               **ignored) -> None:
        for arg, value in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise ValueError(f"LocalCluster({arg}=...) must be a non-negative int, "
                                 f"got {value!r}")
        log_processes_false(processes)
        ncpus = os.cpu_count() or 1
        if n_workers is None:
            n_workers = 1 if threads_per_worker is None else max(1, ncpus // threads_per_worker)
        if threads_per_worker is None:
            threads_per_worker = max(1, -(-ncpus // max(n_workers, 1)))
        self.name = name or f"LocalCluster-{os.getpid()}"
        self.host = host or "127.0.0.1"
        self.asynchronous = asynchronous
        self.status = "starting"
        self._threads = threads_per_worker
        self._memory, self._store = node_sizes(memory_limit, max(n_workers, 1),
                                               default_object_store_memory())
        if object_store_memory:  # Ray's own per-node setting wins
            self._store = int(object_store_memory)
        self._resources = resources
        self._environment = node_environment(preload, preload_argv)
        self._workers: list[RayNode] = []
        self._lock = threading.RLock()
        self._adaptive = None
        sizes = dict(num_cpus=threads_per_worker, memory=self._memory,
                     object_store_memory=self._store, resources=resources,
                     environment=self._environment)
        if head is None:
            head = RayNode(port=scheduler_port or None, dashboard_address=dashboard_address,
                           host=host, private=True, **sizes)
        else:
            head = head(**sizes)
        self._head = head
        self._finalizer = weakref.finalize(self, _stop_all, self._head, self._workers)
        atexit.register(self._finalizer)
        try:
            self._start_nodes(n_workers)
        except BaseException:
            self._finalizer()
            raise
        self.status = "running"

    def _start_nodes(self, n_workers: int) -> None:
        """The head, and the other nodes as soon as the head's GCS takes them: their
        start overlaps the rest of the head's (its raylet, Ray's API server), which
        is most of a local cluster's start-up."""
        if n_workers > 1:
            self._start_head_with_workers(n_workers)
        else:
            self._head.start()
        use_token_auth()  # so that Client(cluster) in this process can connect
        self.scale(n_workers)  # any node the head's GCS did not take before it was up

    def _start_head_with_workers(self, n_workers: int) -> None:
        head_up = threading.Event()
        failures: list[BaseException] = []

        def start_workers() -> None:
            try:
                if self._head.answering_address(head_up):
                    self.scale(n_workers)
            except BaseException as exc:  # raised on the calling thread below
                failures.append(exc)

        beside = threading.Thread(target=start_workers, daemon=True, name="rayexec-nodes")
        beside.start()
        try:
            self._head.start()
        finally:
            head_up.set()
            beside.join()
        if failures:
            raise failures[0]

    @property
    def scheduler_address(self) -> str:
        return f"tcp://{self.host}:{self._head.port}"

    @property
    def dashboard_link(self) -> str | None:
        """Ray's dashboard, when ``dashboard_address`` asked for one (shaped by
        ``distributed.dashboard.link`` when set, as in distributed)."""
        return dashboard_link(self._head.dashboard_url)

    @property
    def workers(self) -> dict[int, RayNode]:
        """Worker number -> its node (0 is the head node, which also runs tasks)."""
        return dict(enumerate([self._head, *self._workers]))

    def scale(self, n: int = 0, memory=None, cores=None) -> None:
        """Run ``n`` worker nodes in all (the head counts as one and stays).

        New nodes start together; surplus nodes stop, newest first.  ``cores``
        asks for enough nodes to give that many threads.

        >>> cluster.scale(4)  # doctest: +SKIP
        >>> len(cluster.workers)  # doctest: +SKIP
        4
        """
        if cores is not None:
            n = max(n, -(-int(cores) // self._threads))
        if memory is not None:
            raise NotImplementedError(
                "LocalCluster.scale(memory=...) is not supported on Ray: every node has "
                "the memory_limit the cluster was created with; use scale(n) instead")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"scale(n) takes a non-negative number of workers, got {n!r}")
        with self._lock:
            surplus = self._workers[max(0, n - 1):]
            del self._workers[max(0, n - 1):]
            new = [RayNode(self._head.address, num_cpus=self._threads, memory=self._memory,
                           object_store_memory=self._store, resources=self._resources,
                           environment=self._environment, private=True)
                   for _ in range(max(0, n - 1 - len(self._workers)))]
            try:
                start_together(new)
            except BaseException:
                stop_nodes(new)
                raise
            self._workers.extend(new)
        stop_nodes(surplus)

    def stop_workers(self, addresses: list[str]) -> None:
        """Stop the worker nodes at ``addresses`` (``tcp://ip:raylet-port``) that this
        cluster started; ``Client.retire_workers`` calls it once they are drained."""
        ports = {address.rpartition(":")[2] for address in addresses}
        with self._lock:
            leaving = [n for n in self._workers if str(n.node_manager_port) in ports]
            self._workers[:] = [n for n in self._workers if n not in leaving]
        stop_nodes(leaving)

    def adapt(self, Adaptive=None, minimum: float = 0, maximum: float = float("inf"),
              minimum_cores=None, maximum_cores=None, minimum_memory=None,
              maximum_memory=None, **kwargs):
        """Keep between ``minimum`` and ``maximum`` workers, following the work.

        See :class:`rayexec.deploy.adaptive.Adaptive` for how the number is chosen.

        >>> cluster.adapt(minimum=1, maximum=4)  # doctest: +SKIP
        """
        from .adaptive import Adaptive as RayAdaptive

        if self._adaptive is not None:
            self._adaptive.stop()
        self._adaptive = RayAdaptive(self, minimum=minimum, maximum=maximum, **kwargs)
        return self._adaptive

    def close(self, timeout=None) -> None:
        """Stop every node of the cluster."""
        if self.status == "closed":
            return
        if self._adaptive is not None:
            self._adaptive.stop()
        self._finalizer()
        self.status = "closed"

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _repr_html_(self) -> str:
        """The cluster in a notebook: address, dashboard link, and its workers when this
        process is connected to it (as it is through ``Client(cluster)``)."""
        from ..workers import nodes
        from ..workers.html import cluster_html

        workers = []
        try:
            import ray

            if ray.is_initialized() and ray.get_runtime_context().gcs_address.endswith(
                    f":{self._head.port}"):
                workers = [w for w in nodes.alive_workers() if w.runs_tasks]
        except Exception:  # not connected here: the table shows what was started
            workers = []
        return cluster_html(f"LocalCluster: {self.name}", self.scheduler_address,
                            self.dashboard_link, workers,
                            extra={"Status": self.status, "Nodes started": len(self._workers) + 1,
                                   "Threads per worker": self._threads})

    def __repr__(self) -> str:
        return (f"LocalCluster({self.name!r}, {self.scheduler_address!r}, "
                f"workers={len(self._workers) + 1}, threads={self._threads}, "
                f"status={self.status})")


class _NodeRole:
    """A Ray node playing a distributed role: closes, works as a context manager,
    and ``await``s to itself (it is running once constructed)."""

    _node: RayNode

    def close(self) -> None:
        self._node.stop()
        self.status = "closed"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __await__(self):
        yield from ()
        return self


class Scheduler(_NodeRole):
    """A Ray head node that runs no tasks: distributed's ``Scheduler`` on this machine.

    Also takes the first dask.distributed's spelling, ``Scheduler(hostname=...,
    port_to_workers=..., port_to_clients=...)``: on Ray workers and clients use
    the same address.

    >>> s = Scheduler(port=0)               # doctest: +SKIP
    >>> w = Worker(s.address_to_workers)    # doctest: +SKIP
    >>> c = Client(s.address_to_clients)    # doctest: +SKIP
    >>> w.close(); s.close()                # doctest: +SKIP
    """

    def __init__(self, host=None, port=0, dashboard_address=None, *, hostname=None,
                 port_to_workers=None, port_to_clients=None, **kwargs):
        self.host = host or hostname or "127.0.0.1"
        self._node = RayNode(port=port or port_to_workers or port_to_clients or None,
                             num_cpus=0, dashboard_address=dashboard_address).start()
        use_token_auth()  # so that Client(self.address) in this process can connect
        self.status = "running"

    @property
    def address(self) -> str:
        return f"tcp://{self.host}:{self._node.port}"

    address_to_workers = address_to_clients = address

    @property
    def port(self) -> int:
        return self._node.port


class Worker(_NodeRole):
    """A Ray node joined to the scheduler at an address: distributed's ``Worker``.

    ``Worker("tcp://host:port")``, ``Worker(host, port)`` or the first
    dask.distributed's ``Worker(scheduler="tcp://host:port")``.  ``nthreads``
    is its CPU count (default: all of this machine's); ``preload`` and
    ``preload_argv`` are its worker processes' preloads (:mod:`~rayexec.workers.preloads`).

    >>> w = Worker("tcp://127.0.0.1:8786", nthreads=2)  # doctest: +SKIP
    """

    def __init__(self, scheduler_ip=None, scheduler_port=None, *, scheduler=None, nthreads=None,
                 resources=None, data=None, preload=None, preload_argv=None, **kwargs):
        address = scheduler or scheduler_ip
        if address is None:
            raise TypeError("Worker needs the scheduler's address: Worker('tcp://host:port')")
        if scheduler_port is not None:
            address = f"{address}:{scheduler_port}"
        self.scheduler_address = normalize_address(address)
        self._node = RayNode(self.scheduler_address, num_cpus=nthreads, resources=resources,
                             environment=node_environment(preload, preload_argv)).start()
        self.status = "running"

    @property
    def address(self) -> str:
        from ray.util import get_node_ip_address

        return f"tcp://{get_node_ip_address()}:{self._node.node_manager_port}"


Nanny = Worker


def start_together(nodes: list[RayNode]) -> None:
    """Start ``nodes`` at once; one that gives up (a loaded machine) is started again,
    alone."""
    for node in nodes:
        node.launch()
    for node in nodes:
        try:
            node.wait_ready()
        except NodeStartError as exc:
            if not exc.exited:
                raise
            node.with_new_ports().start(attempts=4)


def stop_nodes(nodes) -> None:
    """Stop ``nodes`` together: each gets SIGTERM first, then each is waited for."""
    for node in nodes:
        node.terminate()
    for node in nodes:
        node.stop()


def _stop_all(head, workers: list[RayNode]) -> None:
    stop_nodes(list(workers))
    head.stop()
