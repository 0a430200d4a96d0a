"""distributed's ``utils_test`` on rayexec: what libraries' test suites import.

``gen_cluster(client=True)`` runs ``async def test(c, s, a, b)`` with ``c`` an
asynchronous :class:`~rayexec.Client`, ``s`` the scheduler and ``a``, ``b`` the
workers; ``cluster()`` yields ``({"address": ...}, [{"address": ...}, ...])``
for synchronous tests; the ``loop``, ``loop_in_thread`` and ``cleanup``
fixtures and the little functions (``inc``, ``slowinc`` ...) are distributed's.

Ray is one per process and slow to start, so the test cluster is started once
per process and kept: each test gets a fresh Client on it, and the cluster is
reshaped (worker nodes added or removed) only when a test asks for other
``nthreads``.  When Ray is already running in the process (a conftest started
it, or a ``Client()``), that cluster is used as it is.

>>> from rayexec.utils_test import gen_cluster, inc
>>> @gen_cluster(client=True)
... async def test_inc(c, s, a, b):
...     assert await c.submit(inc, 1) == 2
>>> test_inc()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import inspect
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from time import sleep, time

import dask

try:
    import pytest
except ImportError:  # a test helper for test suites: pytest is theirs, not rayexec's
    raise ImportError("rayexec.utils_test is for test suites and needs pytest: "
                      "pip install pytest") from None

from . import defaults

__all__ = [
    "NO_AMM", "a", "async_poll_for", "asyncinc", "b", "block_on_event", "c", "captured_logger",
    "clean", "cleanup", "client", "client_no_amm", "client_secondary", "cluster",
    "cluster_fixture", "dec", "div", "double", "gen_cluster", "gen_test", "gen_tls_cluster",
    "inc", "loop",
    "loop_in_thread", "map_varying", "mul", "nodebug", "nodebug_setup_module",
    "nodebug_teardown_module", "poll_for", "popen", "running_loop", "randominc",
    "s", "slowadd", "slowdec", "slowdouble", "slowidentity", "slowinc", "slowsum", "throws",
    "varying", "wait_for",
]

logger = logging.getLogger(__name__)

# The configuration distributed's tests pass to keep its active memory manager from
# moving data behind their back; Ray has no such manager, so it changes nothing here.
NO_AMM = {"distributed.scheduler.active-memory-manager.start": False}

_TEST_TIMEOUT = 30  # seconds a gen_cluster / gen_test test may run, as in distributed
# Seconds a new worker node of the test cluster may take to register and run a
# task: a few when quiet, a minute at a load average of 20.
_NODE_READY_WAIT = 180
_DEFAULT_NTHREADS = [("127.0.0.1", 1), ("127.0.0.1", 2)]


# -- the little functions tests submit ---------------------------------------------


def inc(x):
    return x + 1


def dec(x):
    return x - 1


def mul(x, y):
    return x * y


def div(x, y):
    return x / y


def double(x):
    return x * 2


def throws(x):
    raise RuntimeError("hello!")


def slowinc(x, delay=0.02):
    sleep(delay)
    return x + 1


def slowdec(x, delay=0.02):
    sleep(delay)
    return x - 1


def slowdouble(x, delay=0.02):
    sleep(delay)
    return 2 * x


def slowadd(x, y, delay=0.02):
    sleep(delay)
    return x + y


def slowsum(seq, delay=0.02):
    sleep(delay)
    return sum(seq)


def slowidentity(*args, **kwargs):
    sleep(kwargs.get("delay", 0.02))
    return args[0] if len(args) == 1 else args


def randominc(x, scale=1):
    from random import random

    sleep(random() * scale)
    return x + 1


async def asyncinc(x, delay=0.02):
    await asyncio.sleep(delay)
    return x + 1


def block_on_event(event) -> None:
    """Wait for ``event`` (a :class:`~rayexec.Event`): a task that runs until told."""
    event.wait()


def nodebug(func):
    """A test that must not run with asyncio's debug mode (it is timing sensitive)."""

    @functools.wraps(func)
    def without_debug(*args, **kwargs):
        saved = os.environ.pop("PYTHONASYNCIODEBUG", None)
        try:
            return func(*args, **kwargs)
        finally:
            if saved is not None:
                os.environ["PYTHONASYNCIODEBUG"] = saved

    return without_debug


def nodebug_setup_module(module) -> None:
    """A test module's ``setup_module``: run its tests without asyncio's debug mode.

    >>> setup_module = nodebug_setup_module  # in a test module  # doctest: +SKIP
    """
    module._saved_asyncio_debug = os.environ.pop("PYTHONASYNCIODEBUG", None)


def nodebug_teardown_module(module) -> None:
    """A test module's ``teardown_module``: asyncio's debug mode back as it was."""
    saved = getattr(module, "_saved_asyncio_debug", None)
    if saved is not None:
        os.environ["PYTHONASYNCIODEBUG"] = saved


_varying_files: list[str] = []


def varying(items):
    """A function returning the next of ``items`` at each call (raising it if it is
    an exception, and ``IndexError`` past the end), in whichever process it runs:
    a retried task sees the next item.

    The position is kept in a file, so the workers must share this machine's disk.

    >>> f = varying([1, ValueError("two")])
    >>> f()
    1
    >>> f()
    Traceback (most recent call last):
      ...
    ValueError: two
    """
    fd, path = tempfile.mkstemp(prefix="rayexec-varying-")
    os.close(fd)
    if not _varying_files:
        atexit.register(_remove_varying_files)
    _varying_files.append(path)
    items = list(items)

    def next_item():
        import fcntl

        with open(path, "r+") as position:
            fcntl.flock(position, fcntl.LOCK_EX)  # tasks running at once take turns
            taken = int(position.read() or 0)
            if taken == len(items):
                raise IndexError(f"varying: all {len(items)} items were taken")
            position.seek(0)
            position.truncate()
            position.write(str(taken + 1))
        item = items[taken]
        if isinstance(item, BaseException):
            raise item
        return item

    return next_item


def _remove_varying_files() -> None:
    for path in _varying_files:
        with contextlib.suppress(OSError):
            os.remove(path)


def map_varying(itemslists):
    """``varying`` for ``map``: ``(func, args)`` so that ``client.map(func, args)``
    calls one :func:`varying` function per list."""
    return _call, [varying(items) for items in itemslists]


def _call(func, *args, **kwargs):
    return func(*args, **kwargs)


# -- the scheduler and workers a test sees -----------------------------------------


@dataclass
class TestWorker:
    """A worker (Ray node) as a test sees it: ``address`` is the one the client
    uses in ``nthreads()`` and accepts in ``submit(..., workers=...)``."""

    __test__ = False  # not a test class, whatever its name says

    address: str
    nthreads: int
    node_id: str
    name: int = 0

    @property
    def id(self) -> str:
        return self.node_id


@dataclass
class TestScheduler:
    """The scheduler (the Ray head) as a test sees it: ``address`` and ``workers``."""

    __test__ = False

    address: str
    workers: dict = field(default_factory=dict)  # address -> TestWorker


class WorkerProcess:
    """A worker's process as a test ends it: ``terminate()`` stops the worker's Ray
    node (its raylet and task processes) in order, ``kill()`` at once.  The client
    sees a worker leave, as when distributed's worker process ends.

    >>> with cluster() as (s, [a, b]):              # doctest: +SKIP
    ...     a["proc"]().terminate()
    """

    def __init__(self, test_cluster: _TestCluster, node):
        self._test_cluster, self._node = test_cluster, node

    @property
    def pid(self) -> int:
        """The process id of the worker node's raylet."""
        return self._node.all_processes["raylet"][0].process.pid

    def terminate(self) -> None:
        self._test_cluster.end_worker(self._node, graceful=True)

    def kill(self) -> None:
        self._test_cluster.end_worker(self._node, graceful=False)


# -- the test cluster: one per process ---------------------------------------------


def _head_auth_environment(address: str) -> dict:
    """The environment -- which a node started here inherits -- that puts a
    node in the authentication mode of the head at ``address``, whatever a test set."""
    from .deploy.addresses import auth_mode_of

    mode = auth_mode_of(address)
    return {} if mode is None else {"RAY_AUTH_MODE": mode}


class _TestCluster:
    """A Ray cluster on this machine: a head that runs no tasks, one node per worker."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cluster = None  # ray.cluster_utils.Cluster when this module started Ray
        self._nodes: list = []  # ((nthreads, memory, environment), node) per worker node
        self._failed: BaseException | None = None  # why the cluster could not start

    def ensure(self, nthreads: list[int], memory: int | None = None, environment: str = "{}"
               ) -> tuple[TestScheduler, list[TestWorker]]:
        """The scheduler and workers, started or reshaped to ``nthreads`` (and each
        ``memory`` bytes, Ray's ``memory`` resource, and the preloads
        ``environment`` names, :func:`~.workers.preloads.node_environment` as JSON)
        if ours."""
        import ray

        with self._lock:
            if self._failed is not None:
                # Ray leaves the processes of a start that failed behind: one try only.
                raise RuntimeError("the test cluster could not start") from self._failed
            if self._cluster is None and not ray.is_initialized():
                try:
                    self._start()
                except Exception as exc:
                    self._failed = exc
                    raise
            elif self._cluster is not None and not self._connected():
                self._connect()  # back from a cluster a test started (see _connect)
            if self._cluster is not None:
                self._reshape([(n, memory, environment) for n in nthreads])
            return self._describe(len(nthreads))

    def _start(self) -> None:
        from ray.cluster_utils import Cluster

        from .deploy.grpc_fork import import_grpc
        from .deploy.ray_node import use_node_settings

        import_grpc()  # before Ray imports it: Ray forks while threads are inside gRPC
        use_node_settings(os.environ)  # the nodes started here read this environment
        self._cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 0, "object_store_memory": 200 * 2**20, "include_dashboard": False})
        self._connect()
        atexit.register(self.shutdown)

    def _connected(self) -> bool:
        import ray

        return (ray.is_initialized()
                and ray.get_runtime_context().gcs_address == self._cluster.address)

    def _connect(self) -> None:
        """Connect this process to the test cluster.  It gives way to a cluster a
        test starts itself (``dask scheduler`` in a subprocess, a ``LocalCluster``)
        once no client uses it, and connects again when a later test asks for it."""
        import ray

        from .deploy import kept
        from .deploy.addresses import observe_auth_mode
        from .deploy.connect import clients_open, give_way_with
        from .deploy.ray_logs import quiet_ray
        from .deploy.ray_node import environ_while

        kept.end()  # a closed client's connection to a cluster a test started
        if ray.is_initialized():  # still on a cluster a test started
            if clients_open():
                raise RuntimeError(
                    "the test cluster cannot connect: a client of the Ray cluster at "
                    f"{ray.get_runtime_context().gcs_address} is still open")
            ray.shutdown()
        # That cluster may have left this process in token mode; ours may not be.
        with environ_while(_head_auth_environment(self._cluster.address)):
            observe_auth_mode()
            ray.init(address=self._cluster.address, **quiet_ray())
        give_way_with(self._give_way)

    def _give_way(self) -> None:
        import ray

        if self._connected():
            ray.shutdown()

    def _reshape(self, shapes: list[tuple]) -> None:
        """Worker nodes of these ``(nthreads, memory, environment)`` shapes, in this order."""
        from .deploy.ray_node import environ_while

        wanted = list(shapes)
        kept, removed = [], []
        for shape, node in self._nodes:
            if shape in wanted:
                wanted.remove(shape)
                kept.append((shape, node))
            else:
                self._cluster.remove_node(node)
                removed.append(node.node_id)
        if removed:
            _until_gone(removed)
        for shape in wanted:
            nthreads, memory, environment = shape
            sizes = {"memory": memory} if memory else {}
            with environ_while({**_head_auth_environment(self._cluster.address),
                                **json.loads(environment or "{}")}):
                kept.append((shape, self._cluster.add_node(
                    num_cpus=nthreads, object_store_memory=100 * 2**20, wait=False, **sizes)))
        # Order the workers as asked, so that `a` has nthreads[0] threads.
        order = {}
        for shape, node in kept:
            order.setdefault(shape, []).append(node)
        self._nodes = [(shape, order[shape].pop(0)) for shape in shapes]
        if wanted:
            new_nodes = [node for _, node in kept[len(kept) - len(wanted):]]
            self._cluster.wait_for_nodes(timeout=_NODE_READY_WAIT)
            _until_running_tasks(new_nodes)

    def _describe(self, count: int) -> tuple[TestScheduler, list[TestWorker]]:
        import ray

        from .workers.nodes import alive_workers

        nodes = [w for w in alive_workers() if w.nthreads > 0]
        if self._cluster is not None:  # ours: in the order of the nthreads asked for
            by_id = {w.node_id: w for w in nodes}
            nodes = [by_id[node.node_id] for _, node in self._nodes]
        workers = [TestWorker(w.address, w.nthreads, w.node_id, name=i)
                   for i, w in enumerate(nodes[:count])]
        if len(workers) < count:
            raise RuntimeError(
                f"the test asks for {count} workers, but the Ray cluster already running "
                f"in this process has {len(workers)} nodes with CPUs")
        address = "tcp://" + ray.get_runtime_context().gcs_address
        return TestScheduler(address, {w.address: w for w in workers}), workers

    def worker_process(self, node_id: str) -> WorkerProcess | None:
        """The Ray node of the worker ``node_id``, as distributed's ``cluster()``
        gives a worker's process (``a["proc"]()``); None if not ours, or ended."""
        with self._lock:
            node = next((node for _, node in self._nodes if node.node_id == node_id), None)
        return None if node is None else WorkerProcess(self, node)

    def end_worker(self, node, graceful: bool) -> None:
        """Stop a worker node; the next test that asks for workers gets a new one."""
        with self._lock:
            if any(n is node for _, n in self._nodes):
                self._nodes = [(shape, n) for shape, n in self._nodes if n is not node]
                self._cluster.remove_node(node, allow_graceful=graceful)

    def shutdown(self) -> None:
        import ray

        with self._lock:
            if self._cluster is None:
                return
            from .deploy import kept
            from .deploy.connect import give_way_with

            give_way_with(None)
            kept.end()
            if self._connected():
                ray.shutdown()
            self._cluster.shutdown()
            self._cluster, self._nodes = None, []


def _until_gone(node_ids: list[str]) -> None:
    """Return once Ray's control store counts these removed nodes as dead.

    A node's processes end before the control store hears of it (at once when
    quiet, seconds later on a busy machine); until then Ray may still send the
    next test's tasks there, and they fail with "the node is dead".
    """
    import ray

    deadline = time() + _NODE_READY_WAIT
    while True:
        alive = {node["NodeID"] for node in ray.nodes() if node["Alive"]} & set(node_ids)
        if not alive:
            return
        if time() > deadline:
            raise RuntimeError(f"the test cluster removed worker node {sorted(alive)[0]}, "
                               f"but Ray still counts it alive after {_NODE_READY_WAIT} s")
        sleep(0.1)


def _until_running_tasks(nodes: list) -> None:
    """Return once each of these Ray nodes has run a task of this process.

    distributed's ``cluster()`` hands out workers whose processes are up.  A Ray
    node registers first and starts its worker processes after, which takes
    seconds on a busy machine: a test that times its first tasks would count
    the start-up.  A node that cannot run a task in time fails here, in one
    line that names its logs, not in the test.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    runs = {_started_task().options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(
        node.node_id, soft=False)).remote(): node for node in nodes}
    ran, late = ray.wait(list(runs), num_returns=len(runs), timeout=_NODE_READY_WAIT)
    for ref in late:
        ray.cancel(ref, force=True)
    for ref in ran:
        try:
            ray.get(ref)
        except Exception as exc:
            why = f"could not run a task ({type(exc).__name__}: {_first_line(exc)})"
            raise RuntimeError(_not_ready(runs[ref], why)) from exc
    if late:
        raise RuntimeError(_not_ready(runs[late[0]], f"ran no task within {_NODE_READY_WAIT} s"))


def _first_line(exc: BaseException) -> str:
    return next((line for line in str(exc).splitlines() if line.strip()), "")


def _not_ready(node, what: str) -> str:
    return (f"the test cluster's worker node {node.node_id} {what}; "
            f"its logs: {node.get_logs_dir_path()}")


@functools.cache
def _started_task():
    import ray

    return ray.remote(max_retries=0)(_started)


def _started() -> bool:
    return True


_test_cluster = _TestCluster()


def _nthreads_of(spec) -> list[int]:
    """distributed's ``[("127.0.0.1", 1), ...]`` (or plain ints) -> ``[1, ...]``."""
    counts = []
    for entry in spec:
        n = entry if isinstance(entry, int) else entry[1]
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"nthreads entries must be (host, threads >= 1), got {entry!r}")
        counts.append(n)
    return counts


# -- cleaning up after a test --------------------------------------------------------


def _close_leftover_clients() -> None:
    """Close the clients a test left open, as distributed's fixtures do."""
    while (client := defaults.current_client()) is not None:
        client.close()


def _forget_published_datasets() -> None:
    """distributed's ``cluster()`` is a fresh scheduler each time; ours is reused,
    so the datasets a test published go when its cluster block ends."""
    import ray

    from .coordination import datasets

    if not ray.is_initialized():
        return
    try:
        store = ray.get_actor(datasets.STORE_NAME, namespace=datasets.NAMESPACE)
    except ValueError:  # nothing was ever published on this cluster
        return
    ray.get(store.delete.remote(ray.get(store.list.remote())))


def _copy_dicts(value):
    # Not deepcopy: the configuration may hold a live client (dask's scheduler).
    if isinstance(value, dict):
        return {k: _copy_dicts(v) for k, v in value.items()}
    return value


@contextlib.contextmanager
def clean():
    """Restore dask's configuration and close leftover clients after the block."""
    saved = _copy_dicts(dask.config.config)
    try:
        yield
    finally:
        _close_leftover_clients()
        dask.config.config.clear()
        dask.config.config.update(saved)


# -- synchronous tests ------------------------------------------------------------


@contextlib.contextmanager
def cluster(nworkers=2, nanny=False, worker_kwargs=None, active_rpc_timeout=10,
            scheduler_kwargs=None, config=None):
    """A scheduler and ``nworkers`` workers: ``({"address": ...}, [{"address": ...}])``.

    ``worker_kwargs={"nthreads": n, "memory_limit": "2 GiB"}`` sets the threads of
    each worker (default 1) and its memory (Ray's ``memory`` resource).

    >>> with cluster() as (s, [a, b]):              # doctest: +SKIP
    ...     with Client(s["address"]) as client:
    ...         client.submit(inc, 1).result()
    2
    """
    nthreads = (worker_kwargs or {}).get("nthreads", 1)
    memory = (worker_kwargs or {}).get("memory_limit")
    preload = (worker_kwargs or {}).get("preload")
    if isinstance(memory, str):
        from dask.utils import parse_bytes

        memory = parse_bytes(memory)
    dashboard_address = (scheduler_kwargs or {}).get("dashboard_address")
    with dask.config.set(config or {}):
        if dashboard_address is not None:
            # The shared test cluster runs no dashboard: a cluster of its own does.
            with _cluster_with_dashboard(nworkers, nthreads, memory, dashboard_address) as (
                    address, workers):
                yield address, workers
            return
        from .workers.preloads import node_environment

        environment = json.dumps(node_environment(preload, (worker_kwargs or {}).get(
            "preload_argv")), sort_keys=True)
        s, workers = _test_cluster.ensure([nthreads] * nworkers, memory, environment)
        try:
            yield ({"address": s.address},
                   [{"address": w.address, "proc": _process_of(w)} for w in workers])
        finally:
            _close_leftover_clients()
            _forget_published_datasets()


def _process_of(worker: TestWorker):
    """``proc`` of a worker of :func:`cluster`: called, the worker's process (a
    weak reference to it in distributed; None once the worker has left)."""
    return functools.partial(_test_cluster.worker_process, worker.node_id)


@contextlib.contextmanager
def _cluster_with_dashboard(nworkers: int, nthreads: int, memory, dashboard_address):
    """A local cluster of its own, with Ray's dashboard at ``dashboard_address``; the
    test cluster gives way to it while a client uses it."""
    from .client import Client
    from .deploy.local_cluster import LocalCluster

    with LocalCluster(n_workers=nworkers, threads_per_worker=nthreads,
                      memory_limit=memory or "auto", dashboard_address=dashboard_address) as own:
        with Client(own) as client:
            workers = list(client.scheduler_info()["workers"])
        try:
            yield ({"address": own.scheduler_address},
                   [{"address": w, "proc": None} for w in workers])
        finally:
            _close_leftover_clients()


def poll_for(predicate, timeout: float = 15, fail_func=None, period: float = 0.05) -> None:
    """Wait for ``predicate()`` to be true; fail the test after ``timeout`` seconds."""
    deadline = time() + timeout
    while not predicate():
        sleep(period)
        if time() > deadline:
            if fail_func is not None:
                fail_func()
            pytest.fail(f"condition not reached within {timeout} seconds")


wait_for = poll_for


async def async_poll_for(predicate, timeout: float = 15, fail_func=None,
                         period: float = 0.05) -> None:
    """:func:`poll_for` for coroutine tests."""
    deadline = time() + timeout
    while not predicate():
        await asyncio.sleep(period)
        if time() > deadline:
            if fail_func is not None:
                fail_func()
            pytest.fail(f"condition not reached within {timeout} seconds")


# -- coroutine tests ------------------------------------------------------------------


def gen_test(timeout: float = _TEST_TIMEOUT, config: dict | None = None,
             clean_kwargs: dict | None = None):
    """Run ``async def test(...)`` in a fresh event loop, within ``timeout`` seconds.

    >>> @gen_test()
    ... async def test_sleep():
    ...     await asyncio.sleep(0)
    >>> test_sleep()
    """

    def decorate(func):
        if not inspect.iscoroutinefunction(func):
            raise RuntimeError("gen_test only works for coroutine functions.")

        @functools.wraps(func)
        def test_func(*args, **kwargs):
            with clean(), dask.config.set(config or {}):
                return asyncio.run(asyncio.wait_for(func(*args, **kwargs), timeout))

        test_func.__signature__ = inspect.signature(func)
        return test_func

    return decorate


def gen_cluster(nthreads=None, scheduler="127.0.0.1", timeout: float = _TEST_TIMEOUT,
                security=None, Worker=None, client: bool = False, scheduler_kwargs=None,
                worker_kwargs=None, client_kwargs=None, active_rpc_timeout=1, config=None,
                clean_kwargs=None, allow_unclosed=True):
    """Run ``async def test(s, a, b)`` -- or ``(c, s, a, b)`` with ``client=True`` --
    on a scheduler and one worker per ``nthreads`` entry (default 1 and 2 threads).

    ``c`` is an asynchronous Client, closed after the test; further parameters
    of the test are pytest fixtures or parametrize arguments.  ``timeout``
    counts from when the cluster is ready.

    >>> @gen_cluster(client=True, nthreads=[("127.0.0.1", 1)] * 2)
    ... async def test_two(c, s, a, b):
    ...     assert await c.submit(inc, 1, workers=a.address) == 2
    """
    nthreads = _DEFAULT_NTHREADS if nthreads is None else nthreads
    counts = _nthreads_of(nthreads)
    client_kwargs = client_kwargs or {}

    def decorate(func):
        if not inspect.iscoroutinefunction(func):
            raise RuntimeError("gen_cluster only works for coroutine functions.")

        @functools.wraps(func)
        def test_func(*outer_args, **kwargs):
            with clean(), dask.config.set(config or {}):
                s, workers = _test_cluster.ensure(counts)
                return asyncio.run(_run_with_cluster(
                    func, s, workers, client, client_kwargs, timeout, outer_args, kwargs))

        # pytest must not see the cluster's parameters as fixtures to inject.
        signature = inspect.signature(func)
        test_func.__signature__ = signature.replace(parameters=_fixture_parameters(
            signature, (1 if client else 0) + 1 + len(counts)))
        return test_func

    return decorate


def gen_tls_cluster(**kwargs):
    """distributed's :func:`gen_cluster` over TLS.  A Ray cluster is secured by its
    token, not by TLS addresses, so this is :func:`gen_cluster`: a test that reads
    ``tls://`` addresses fails there, naming what it read.

    >>> @gen_tls_cluster(client=True)
    ... async def test_secured(c, s, a, b):
    ...     assert await c.submit(inc, 1) == 2
    """
    return gen_cluster(**kwargs)


def _fixture_parameters(signature: inspect.Signature, taken: int) -> list:
    """The parameters after the ``taken`` the cluster fills: ``(c, s, a, b, x)`` or
    ``(c, s, *workers, x)`` leave ``x``."""
    kept = []
    for param in signature.parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            taken = 0
        elif taken and param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            taken -= 1
        else:
            kept.append(param)
    return kept


async def _run_with_cluster(func, s, workers, client, client_kwargs, timeout, args, kwargs):
    from .client import Client

    async with contextlib.AsyncExitStack() as stack:
        leading = [s, *workers]
        if client:
            c = await stack.enter_async_context(
                Client(s.address, asynchronous=True, **client_kwargs))
            leading.insert(0, c)
        try:
            return await asyncio.wait_for(func(*leading, *args, **kwargs), timeout)
        except asyncio.TimeoutError:
            raise asyncio.TimeoutError(f"Test timeout ({timeout} s) hit") from None


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture
def cleanup():
    """Restore dask's configuration and close the clients a test leaves open."""
    with clean():
        yield


@contextlib.contextmanager
def running_loop():
    """A running tornado IOLoop on a thread of its own, stopped when the block ends."""
    started: concurrent.futures.Future = concurrent.futures.Future()

    async def run():
        from tornado.ioloop import IOLoop

        stop = asyncio.Event()
        started.set_result((IOLoop.current(), stop))
        await stop.wait()

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="test IOLoop") as pool:
        ran = pool.submit(asyncio.run, run())
        for done in concurrent.futures.as_completed((started, ran)):
            if done is ran:  # the loop ended (or never started): say why
                ran.result()
                return
            io_loop, stop = started.result()
            try:
                yield io_loop
            finally:
                io_loop.add_callback(stop.set)


# Each fixture stands on its own (distributed's ask for one another by name), so
# that a test module importing only ``loop`` from here still works.


@pytest.fixture
def loop_in_thread():
    """A running IOLoop on a background thread; clients left open are closed after."""
    with clean(), running_loop() as io_loop:
        yield io_loop


@pytest.fixture
def loop():
    """distributed's ``loop`` fixture: a running IOLoop on a background thread."""
    with clean(), running_loop() as io_loop:
        yield io_loop


@pytest.fixture
def cluster_fixture(loop):
    with cluster() as (scheduler, workers):
        yield scheduler, workers


@pytest.fixture
def s(cluster_fixture):
    return cluster_fixture[0]


@pytest.fixture
def a(cluster_fixture):
    return cluster_fixture[1][0]


@pytest.fixture
def b(cluster_fixture):
    return cluster_fixture[1][1]


@pytest.fixture
def client(loop, cluster_fixture):
    """A synchronous Client on :func:`cluster_fixture`, using the ``loop`` fixture."""
    from .client import Client

    with Client(cluster_fixture[0]["address"], loop=loop) as c:
        yield c


# distributed's tests name the client fixture `c` as often as `client`.
c = client


@pytest.fixture
def client_no_amm(client):
    """The ``client`` fixture; Ray has no active memory manager to turn off."""
    return client


@pytest.fixture
def client_secondary(loop, cluster_fixture):
    """A second synchronous Client on :func:`cluster_fixture`."""
    from .client import Client

    with Client(cluster_fixture[0]["address"], loop=loop) as second:
        yield second


@contextlib.contextmanager
def captured_logger(logger, level=logging.INFO, propagate=None):
    """Capture the output of ``logger`` (a Logger or its name) in a StringIO."""
    import io

    if isinstance(logger, str):
        logger = logging.getLogger(logger)
    saved = (logger.handlers[:], logger.level, logger.propagate)
    buffer = io.StringIO()
    logger.handlers[:] = [logging.StreamHandler(buffer)]
    logger.setLevel(level)
    if propagate is not None:
        logger.propagate = propagate
    try:
        yield buffer
    finally:
        logger.handlers[:], level, logger.propagate = saved
        logger.setLevel(level)


@contextlib.contextmanager
def popen(args: list[str], capture_output: bool = False, terminate_timeout: float = 10,
          kill_timeout: float = 5, **kwargs):
    """Start a process (``dscheduler``, ``rayexec run`` ...) and stop it when the block ends.

    The process is asked to stop (SIGTERM), then killed after
    ``terminate_timeout`` seconds; with ``capture_output`` its stdout and
    stderr (merged) are printed once it has ended, as distributed's helper does.

    >>> import sys
    >>> with popen([sys.executable, "-c", "import time; time.sleep(60)"]) as proc:
    ...     proc.poll() is None
    True
    >>> proc.returncode is not None
    True
    """
    import subprocess

    if capture_output:
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    proc = subprocess.Popen(args, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            out, _ = proc.communicate(timeout=terminate_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate(timeout=kill_timeout)
        if capture_output and out:
            print(out.decode(errors="replace"))
