"""Client: distributed's Client API, running on Ray tasks and Ray's object store.

Each key the client holds has one :class:`~rayexec.state.TaskState`, kept in a
weak-value table: Futures hold their state, the table only finds it again (for
deduplicating pure calls), so when the last Future on a key goes the state and
its ObjectRef go too and Ray frees the data.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import dask.config
from dask.utils import format_bytes, funcname, parse_timedelta

from . import data, defaults, pins
from .actors import submit_actor
from .asynchronous import (
    async_capable,
    background_loop,
    completed,
    in_thread,
    sync,
    wants_async,
)
from .coordination.dataset_methods import DatasetMethods
from .coordination.metadata_methods import MetadataMethods
from .deploy import connect
from .deploy.ray_cluster import RayCluster
from .deploy.watch import HeadWatch, close_lost, head_address
from .diagnostics.methods import DiagnosticsMethods
from .diagnostics.recreate import RecreateMethods
from .errors import ClusterLostError, FutureCancelledError, only_remote_frames
from .execution import RemoteFunctions, pack_arguments
from .functions import futures_of
from .future import Future
from .graph.methods import DaskMethods
from .keys import data_key, map_keys, remember_task, submit_key, task_name
from .local_values import keep_local
from .nesting import collect, replace
from .state import CANCELLED, ERROR, FINISHED, LOST, PENDING, TaskState, watch, watch_batch
from .unsupported import add_client_placeholders
from .waiting import wait
from .workers import nodes, placement
from .workers.executor_actors import ExecutorPool, executor_actors_enabled
from .workers.executor_methods import ExecutorMethods, upload_runtime_env
from .workers.methods import WorkerMethods
from .workers.plugin_methods import PluginMethods
from .workers.plugins import merge_runtime_envs
from .workers.preloads import run_once as run_preloads
from .workers.scheduler_rpc import SchedulerRPC
from .writable import writable

logger = logging.getLogger(__name__)

_no_default = "__no_default__"


def _connect_timeout(timeout) -> float:
    """Seconds to wait for the cluster: ``timeout`` (``10``, ``"10s"``), else
    distributed's ``distributed.comm.timeouts.connect`` (30 s)."""
    if timeout in (_no_default, None):
        timeout = dask.config.get("distributed.comm.timeouts.connect", "30s")
    return parse_timedelta(timeout, default="seconds")
# map packs at most this many elements into one Ray task, and keeps at least
# this many tasks per CPU so that uneven elements still spread over the cluster.
MAX_BATCH = 128
TASKS_PER_CPU = 8


@add_client_placeholders
class Client(DaskMethods, DatasetMethods, MetadataMethods, WorkerMethods, ExecutorMethods,
             PluginMethods, DiagnosticsMethods, RecreateMethods):
    """Connect to a Ray cluster, or start one here, and run work on it.

    The methods for dask collections, shared datasets and workers live in the
    mixins named in the class line, one module each.

    ``Client()`` starts a local cluster (``n_workers``, ``threads_per_worker``
    shape it); ``Client("host:port")``, ``"tcp://host:port"``, ``"ray://host:port"``
    or ``"auto"`` connect to a running one.  The newest client is the default.

    >>> from rayexec import Client
    >>> client = Client(n_workers=2, threads_per_worker=1)  # doctest: +SKIP
    >>> client.submit(lambda x: x + 1, 10).result()         # doctest: +SKIP
    11
    >>> client.close()                                       # doctest: +SKIP
    """

    def __init__(self, address=None, loop=None, timeout=_no_default, set_as_default=True,
                 scheduler_file=None, security=None, asynchronous=False, name=None,
                 heartbeat_interval=None, serializers=None, deserializers=None,
                 extensions={}, direct_to_workers=None, connection_limit=512,  # noqa: B006
                 **kwargs):
        self.id = name or f"Client-{uuid.uuid4()}"
        self.scheduler_file = scheduler_file
        # As distributed reports it; on Ray data always moves between object stores
        # without a scheduler in between, whatever was asked.
        self.direct_to_workers = (dask.config.get("distributed.client.direct-to-workers", None)
                                  if direct_to_workers is None else direct_to_workers)
        self._entered: list = []  # context tokens of `with client:` blocks, innermost last
        # Client(cluster): the cluster object, which shutdown() closes too.  Otherwise
        # the cluster this client started, or a view of the one it connected to.
        self._given_cluster = address if _is_cluster(address) else None
        self.cluster = self._given_cluster
        self.asynchronous = asynchronous
        self.status = "newly-created"
        self._states: weakref.WeakValueDictionary[str, TaskState] = weakref.WeakValueDictionary()
        self._lock = threading.RLock()
        self._remote = RemoteFunctions(prepare=run_preloads)
        self._generation = 0  # bumped by restart(): new tasks run in fresh worker processes
        self._executors: ExecutorPool | None = None  # actors for single calls, made on first use
        self._forgotten: set[TaskState] = set()  # fire_and_forget keeps these until done
        self._callback_pool: ThreadPoolExecutor | None = None
        self._watch: HeadWatch | None = None
        self._lost: ClusterLostError | None = None  # set once the cluster stops answering
        self._loop = loop
        self._set_as_default = set_as_default
        self._connect_args = dict(
            address=_cluster_address(address, scheduler_file),
            timeout=_connect_timeout(timeout), **kwargs)
        if not asynchronous:
            self._start()
        elif loop is None:
            _require_running_loop()
        # An asynchronous client connects when awaited: `await Client(asynchronous=True)`.

    def _start(self) -> Client:
        if self.status == "running":
            return self
        self.status = "connecting"
        self._connection = connect.connect(**self._connect_args)
        head = head_address()
        if head is not None:
            self._watch = HeadWatch(head, self._cluster_lost).start()
        if self.cluster is None:
            self.cluster = self._connection.local_cluster or RayCluster(
                self._connection.address, self._connection.dashboard_url)
        self.status = "running"
        defaults.opened(self)
        if self._set_as_default:
            defaults.set_default(self)
            self._activate_dask()
        return self

    async def _start_async(self) -> Client:
        if self._loop is None:
            from tornado.ioloop import IOLoop

            self._loop = IOLoop.current()
        await in_thread(self._start)
        return self

    def start(self, **kwargs):
        """Connect now; an awaitable doing it for an asynchronous client.

        >>> client = Client(asynchronous=True)  # doctest: +SKIP
        >>> await client.start()                # doctest: +SKIP
        <Client: ...>
        """
        if self.asynchronous:
            return self._start_async()
        return self._start()

    def __await__(self):
        return self._start_async().__await__()

    async def __aenter__(self) -> Client:
        return await self._start_async()

    async def __aexit__(self, *exc) -> None:
        await self.close(asynchronous=True)

    @property
    def loop(self):
        """A running tornado IOLoop: the one an asynchronous client was awaited on, or
        one shared by synchronous clients on a background thread."""
        if self._loop is None:
            self._loop = background_loop()
        return self._loop

    def sync(self, func, *args, asynchronous=None, callback_timeout=None, **kwargs):
        """Run the coroutine function ``func`` on :attr:`loop`: its result, or an
        awaitable when asynchronous."""
        if wants_async(self, asynchronous):
            return func(*args, **kwargs)
        return sync(self.loop, func, *args, callback_timeout=callback_timeout, **kwargs)

    # -- lifecycle ----------------------------------------------------------------
    @classmethod
    def current(cls, allow_global: bool = True) -> Client:
        """The current default client; ``ValueError`` if there is none."""
        return defaults.default_client()

    def __enter__(self) -> Client:
        # Current inside the block, in this context; leaving it from another
        # context (thread) is a ValueError, as in distributed.
        self._entered.append(defaults.enter(self))
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._entered:
                defaults.leave(self._entered.pop())
        finally:
            self.close()

    @async_capable
    def close(self, timeout=_no_default, asynchronous=None) -> None:
        """Cancel this client's pending work, forget its data, and stop what it started.

        A connection it made to a running cluster stays open, idle, for the
        next client of that cluster in this process (``rayexec.deploy.kept``).
        """
        if self.status in ("closed", "newly-created"):
            self.status = "closed"
            return
        self.status = "closing"
        if self._watch is not None:
            self._watch.stop()
        with self._lock:
            states = list(self._states.values())
            self._states.clear()
            self._forgotten.clear()
        if self._lost is None:  # a lost cluster has nothing left to cancel (Ray calls would hang)
            self._cancel_states(states, kill_batches=True)
            self._close_executors()
        defaults.forget(self)
        self._deactivate_dask()
        if self._callback_pool is not None:
            self._callback_pool.shutdown(wait=False)
        if self._lost is None:
            self._connection.close()
        else:
            close_lost(functools.partial(self._connection.close, reuse=False))
        self.status = "closed"

    def _cluster_lost(self, error: ClusterLostError) -> None:
        """The head watch's report: every future, pending or finished, is lost."""
        logger.error("%s: %s", self.id, error)
        with self._lock:
            self._lost = error
            states = list(self._states.values())
            self._forgotten.clear()
        for state in states:
            state.fail(error)

    @async_capable
    def shutdown(self, asynchronous=None) -> None:
        """Close this client and the cluster it was given (``Client(cluster)``).

        A Ray cluster started elsewhere (``ray start``, ``ray up``) is stopped
        with Ray's own ``ray stop`` / ``ray down``: a client does not end it.

        >>> client = Client(LocalCluster(n_workers=2))  # doctest: +SKIP
        >>> client.shutdown()                            # doctest: +SKIP
        """
        self.close()
        if self._given_cluster is not None:
            self._given_cluster.close()

    @contextlib.contextmanager
    def as_current(self):
        """Make this client the current one inside a ``with`` block (this thread or task only).

        dask computes on it there too, even where its configuration names another
        scheduler, as with distributed.

        >>> with client.as_current():  # doctest: +SKIP
        ...     assert get_client() is client
        """
        import dask

        # dask takes a client object as its scheduler (see graph.default_scheduler).
        with defaults.current_in_context(self), dask.config.set(scheduler=self):
            yield self

    def futures_of(self, futures) -> list[Future]:
        """The futures inside ``futures`` (see :func:`rayexec.futures_of`).

        >>> client.futures_of([1, {"x": future}])  # doctest: +SKIP
        [<Future: finished, type: int, key: ...>]
        """
        return futures_of(futures)

    def _check_open(self) -> None:
        if self._lost is not None:
            raise ClusterLostError(str(self._lost))
        if self.status == "newly-created":
            raise RuntimeError(f"{self.id} is asynchronous: `await` it before use")
        if self.status != "running":
            raise RuntimeError(f"{self.id} is {self.status}; create a new Client to submit work")

    def write_scheduler_file(self, scheduler_file: str) -> None:
        """Write the cluster's address to ``scheduler_file`` (JSON), so that other
        processes connect with ``Client(scheduler_file=...)``.

        >>> client.write_scheduler_file("scheduler.json")  # doctest: +SKIP
        >>> Client(scheduler_file="scheduler.json")        # doctest: +SKIP
        """
        import json

        import ray

        self._check_open()
        if self.scheduler_file is not None:
            raise ValueError(f"this client already has a scheduler file: {self.scheduler_file}")
        self.scheduler_file = scheduler_file
        address = ray.get_runtime_context().gcs_address
        with open(scheduler_file, "w") as f:
            json.dump({"type": "Scheduler", "id": self.id, "address": address}, f, indent=2)

    @property
    def scheduler(self) -> SchedulerRPC:
        """The scheduler (the Ray head) this client talks to; ``.address`` as in
        :meth:`scheduler_info`, and the scheduler's calls libraries await
        (``who_has``, ``identity``: see :mod:`rayexec.workers.scheduler_rpc`).

        >>> client.scheduler.address  # doctest: +SKIP
        'tcp://127.0.0.1:6379'
        """
        self._check_open()
        address = self._connection.address
        return SchedulerRPC(address if "://" in address else f"tcp://{address}", self)

    @property
    def futures(self) -> dict[str, TaskState]:
        """The keys this client holds data or work for, with their states
        (``.status``, ``.exception``); a key goes once no Future on it is left.

        >>> x = client.submit(inc, 1)  # doctest: +SKIP
        >>> client.futures[x.key].status  # doctest: +SKIP
        'pending'
        """
        with self._lock:
            return {key: state for key, state in self._states.items() if state.has_data()}

    def address_matches(self, address: str) -> bool:
        return connect.normalize_address(address) == self._connection.address

    # -- submitting work ----------------------------------------------------------------
    def submit(self, func: Callable, *args, key=None, workers=None, resources=None,
               retries=None, priority=0, fifo_timeout="100 ms", allow_other_workers=False,
               actor=False, actors=False, pure=True, **kwargs) -> Future:
        """Run ``func(*args, **kwargs)`` on the cluster; a Future for its result.

        Futures among the arguments, also nested in lists/tuples/dicts, arrive
        as their values.  A pure call (the default) is keyed by its inputs and
        runs once however often it is submitted while its future is held.

        >>> future = client.submit(pow, 2, 10)  # doctest: +SKIP
        >>> future.result()                      # doctest: +SKIP
        1024
        """
        self._check_open()
        if not callable(func):
            raise TypeError("First input to submit must be a callable function")
        options = placement.task_options(workers=workers, resources=resources,
                                         allow_other_workers=allow_other_workers,
                                         retries=retries)
        if actor or actors:
            return submit_actor(self, func, args, kwargs, key, options)
        if key is None:
            key = submit_key(func, args, kwargs, pure)
        with self._lock:
            state = self._live_state(key)
            if state is None:
                state = self._launch_call(func, args, kwargs, key, options)
        return Future(key, self, state)

    def map(self, func: Callable, *iterables, key=None, workers=None, retries=None,
            resources=None, priority=0, allow_other_workers=False, fifo_timeout="100 ms",
            actor=False, actors=False, pure=True, batch_size=None, **kwargs) -> list[Future]:
        """Run ``func`` on each element of the iterables; one Future per element.

        Many small elements are packed into fewer Ray tasks (each element keeps
        its own Future, status and error); ``batch_size`` sets how many per task,
        ``batch_size=1`` turns packing off.

        >>> futures = client.map(lambda x: x * 2, range(4))  # doctest: +SKIP
        >>> client.gather(futures)                            # doctest: +SKIP
        [0, 2, 4, 6]
        """
        self._check_open()
        if not callable(func):
            raise TypeError("First input to map must be a callable function")
        for position, iterable in enumerate(iterables, start=1):
            if isinstance(iterable, Iterator):
                raise TypeError("map takes sequences, not iterators: make a list first, "
                                "or submit each element with Client.submit")
            if not isinstance(iterable, Iterable):
                raise TypeError(f"map's iterable number {position} is a "
                                f"{type(iterable).__name__}, not a sequence")
        elements = list(zip(*iterables))
        options = placement.task_options(workers=workers, resources=resources,
                                         allow_other_workers=allow_other_workers,
                                         retries=retries)
        if actor or actors:  # one actor per element, never shared
            keys = map_keys(func, elements, kwargs, key=key, pure=False)
            return [submit_actor(self, func, element, kwargs, k, options)
                    for k, element in zip(keys, elements)]
        keys = map_keys(func, elements, kwargs, key=key, pure=pure)
        batchable = not collect([elements, kwargs], Future)
        size = self._batch_size(len(elements), batch_size) if batchable else 1
        with self._lock:
            states: dict[str, TaskState] = {}
            new = []
            for k, element in zip(keys, elements):
                existing = self._live_state(k)
                if existing is not None:
                    states[k] = existing
                elif k not in states:
                    states[k] = None  # claimed by this call
                    new.append((k, element))
            for start in range(0, len(new), size):
                chunk = new[start:start + size]
                if len(chunk) == 1:
                    (k, element), = chunk
                    states[k] = self._launch_call(func, element, kwargs, k, options)
                else:
                    states.update(self._launch_batch(func, chunk, kwargs, options, retries))
        return [Future(k, self, states[k]) for k in keys]

    def _live_state(self, key: str) -> TaskState | None:
        """The state to share for ``key``: none if it is unknown, cancelled or lost
        (a lost key is computed again, as distributed does)."""
        state = self._states.get(key)
        if state is None or state.status in (CANCELLED, LOST):
            return None
        return state

    def _batch_size(self, n: int, requested: int | None) -> int:
        if requested is not None:
            if requested < 1:
                raise ValueError(f"batch_size must be at least 1, got {requested}")
            return int(requested)
        return max(1, min(MAX_BATCH, n // (TASKS_PER_CPU * nodes.cluster_cpus())))

    def _launch_call(self, func, args, kwargs, key, options) -> TaskState:
        """Run one call of ``func`` as one Ray task with ``options``, named by its
        key's prefix (see :func:`rayexec.keys.task_name`).

        The name shows in Ray's tools (dashboard, ``ray list tasks``, the task
        stream); naming costs one ``.options()`` on the cached remote function,
        tens of microseconds and no call to the cluster.
        """
        name = task_name([key])
        remote = self._with_options(self._remote.call(func), {**options, "name": name})
        spec = (func, args, kwargs)
        inputs: list[TaskState] = []
        bundled, args, kwargs = self._prepare_arguments(args, kwargs, inputs)
        put = None
        try:
            if bundled:  # the call's arguments in one bundle, large with data in it
                bundle, put = pins.put_large(args[0])
                args = (bundle, *args[1:])
            # Calls without placement hints or retries run on an executor actor when
            # one has room (see rayexec.workers.executor_actors); others are tasks.
            refs = None if options else self._call_on_executor(func, bundled, args, kwargs, name)
            value_ref, receipt_ref = refs or remote.remote(bundled, *args, **kwargs)
            if refs is None and not options and self._executors is not None:
                self._executors.ran_as_task(receipt_ref)
        except (TypeError, ValueError, AttributeError) as exc:
            raise _serialisation_error(func, exc) from exc
        remember_task(value_ref, key)
        state = TaskState(key, value_ref, has_inputs=any(s.local is None for s in inputs))
        state.spec = spec
        state.pins = put
        for input_state in inputs:
            input_state.add_dependent(state)
        watch(state, receipt_ref)
        placement.guard([state], options)  # a pinned node may leave while it waits
        self._states[key] = state
        return state

    def _launch_batch(self, func, chunk, kwargs, options, retries) -> dict[str, TaskState]:
        # Application retries happen inside the batch, element by element;
        # Ray's own retries still cover lost workers.
        options = {k: v for k, v in options.items() if k != "retry_exceptions"}
        options["num_returns"] = len(chunk) + 1
        remote = self._with_options(self._remote.batch(func), options)
        try:
            elements, put = pins.put_large(writable([element for _, element in chunk]))
            refs = remote.remote(writable(kwargs), elements, int(retries or 0))
        except (TypeError, ValueError, AttributeError) as exc:
            raise _serialisation_error(func, exc) from exc
        states = {k: TaskState(k, ref, batched=True) for (k, _), ref in zip(chunk, refs)}
        for (k, element) in chunk:
            states[k].spec = (func, element, kwargs)
            states[k].pins = put
        watch_batch(list(states.values()), refs[-1])
        placement.guard(list(states.values()), options)
        self._states.update(states)
        return states

    def _call_on_executor(self, func, bundled, args, kwargs, name: str):
        """The two refs of ``func`` run on an executor actor, or None (run a task)."""
        if not executor_actors_enabled():
            return None
        pool = self._executors
        if pool is None or pool.runtime_env != self._runtime_env():
            with self._lock:  # new uploads: actors that can import them
                if self._executors is not None:
                    self._executors.close()
                pool = self._executors = ExecutorPool(self._runtime_env())
        return pool.call(func, bundled, args, kwargs, name)

    def _close_executors(self) -> None:
        with self._lock:
            pool, self._executors = self._executors, None
        if pool is not None:
            pool.close()

    def _runtime_env(self) -> dict:
        """What every task and actor of this client runs with: its uploaded files,
        worker plugins, and the restart generation (new worker processes)."""
        env = merge_runtime_envs(upload_runtime_env(self), self._plugin_env)
        if self._generation:
            env = merge_runtime_envs(env, {"env_vars": {
                "RAYEXEC_GENERATION": str(self._generation)}})
        return env

    def _with_options(self, remote, options: dict):
        """``remote`` with Ray ``options`` and the client's runtime environment."""
        env = self._runtime_env()
        if env:
            options = {**options, "runtime_env": {**options.get("runtime_env", {}), **env}}
        return remote.options(**options) if options else remote

    def _prepare_arguments(self, args: tuple, kwargs: dict, inputs: list | None = None):
        """``(bundled, args, kwargs)`` as a Ray task takes them (see
        :func:`rayexec.execution.pack_arguments`).

        ``inputs``, when given, receives the futures' states (one walk of the arguments).
        """
        def argument_of(future: Future):
            state = self._usable_state(future)
            if inputs is not None:
                inputs.append(state)
            return writable(data.argument(state))

        return pack_arguments(args, kwargs, Future, argument_of)

    def _refs_in_flight(self) -> list:
        """The ObjectRefs of this client's tasks not finished yet (what a seceded task
        waits for, see :mod:`rayexec.workers.lending`)."""
        return [s.ref for s in self._states_of() if s.status == PENDING and s.ref is not None]

    def _usable_state(self, future: Future) -> TaskState:
        state = future._state
        if state.status == CANCELLED or not state.has_data():
            raise FutureCancelledError(state.key, "was cancelled or released; "
                                                  "it cannot be used as an input")
        if future.client.status == "closed":
            raise RuntimeError(f"{future.key} belongs to a closed client")
        return state

    def _argument_of(self, future: Future):
        """``future``'s data as an argument of a Ray task (see :func:`data.argument`)."""
        return data.argument(self._usable_state(future))

    def _ref_of(self, future: Future):
        """The ObjectRef of ``future``'s data."""
        return data.object_ref(self._usable_state(future))

    # -- data in and out ----------------------------------------------------------------
    def scatter(self, data, workers=None, broadcast=False, direct=None, hash=True,
                timeout=_no_default, asynchronous=None):
        """Put local data on the cluster; Futures in the same shape.

        A list (or tuple, set) gives a list of Futures, a dict gives a dict of
        Futures under the same keys, anything else one Future.  Numpy arrays go
        into shared memory without copies; small values (up to 16 KB pickled)
        stay on the client and travel inside each task that uses them, as Ray
        sends small arguments.  ``workers=`` stores the data on those workers.
        ``broadcast`` is accepted: Ray copies an object to each node that needs
        it, when it needs it.

        >>> [a, b] = client.scatter([1, 2])  # doctest: +SKIP
        >>> client.submit(sum, [a, b]).result()  # doctest: +SKIP
        3
        """
        self._check_open()
        if wants_async(self, asynchronous):
            # putting data does not wait on the cluster: no worker thread needed
            return completed(self.scatter(data, workers, broadcast, direct, hash,
                                          asynchronous=False))
        if isinstance(data, Iterator):
            raise TypeError("scatter takes a value, list or dict, not an iterator")
        if isinstance(data, dict):
            keys, values = list(data), list(data.values())
        elif isinstance(data, (list, tuple, set, frozenset)):
            values = list(data)
            keys = [data_key(v, hash) for v in values]
        else:
            return self._scatter_one(data_key(data, hash), data, workers)
        futures = [self._scatter_one(k, v, workers) for k, v in zip(keys, values)]
        if isinstance(data, dict):
            return dict(zip(keys, futures))
        return futures if isinstance(data, list) else type(data)(futures)

    def _scatter_one(self, key, value, workers=None) -> Future:
        with self._lock:
            state = self._states.get(key)
            if state is None:
                if workers is not None:
                    ref, local = placement.put_on(value, workers), None
                else:
                    local = keep_local(value)
                    ref = data.put(value) if local is None else None
                state = TaskState(key, ref, FINISHED, type(value), local=local)
                if ref is not None and workers is None:  # put here: graphs on it pin it
                    state.pins = (ref,)
                self._states[key] = state
        return Future(key, self, state)

    def gather(self, futures, errors="raise", direct=None, asynchronous=None):
        """The results of ``futures``, in the same container shape.

        ``errors="raise"`` raises the first failure's own exception;
        ``errors="skip"`` leaves failed futures out of lists and dicts.
        Anything that is not a Future is returned as it is.

        >>> client.gather({"a": client.submit(abs, -1), "b": [client.submit(abs, -2)]})
        ... # doctest: +SKIP
        {'a': 1, 'b': [2]}
        """
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
        if wants_async(self, asynchronous):
            return self._gather_when_done(futures, errors)
        try:
            return self._gather(futures, errors)
        except Exception as exc:
            if (short := only_remote_frames(exc)) is None:
                raise
            try:  # the user's frames below this call, not rayexec's
                raise short from short.__cause__
            finally:
                # the traceback holds this frame: a local naming the exception would
                # be a cycle keeping every local (the futures) alive until a gc run
                del short

    def _gather(self, futures, errors):
        if isinstance(futures, Future):
            return futures._result(None)
        found = collect(futures, Future)
        if not found:
            return futures
        states = list({id(f._state): f._state for f in found}.values())
        if errors == "skip":
            wait(found)
            states = [s for s in states if s.status == FINISHED]
        else:
            for state in states:  # failures already known need no round trip
                if state.status in (CANCELLED, ERROR, LOST):
                    raise Future._error(state)
        values = dict(zip(map(id, states), data.fetch(states)))
        if len(values) == len({id(f._state) for f in found}):
            return replace(futures, Future, lambda f: values[id(f._state)])
        return _drop_failed(futures, values)

    async def _gather_when_done(self, futures, errors):
        # Wait on completion callbacks, then read values that are ready: the event
        # loop never blocks on a pending task, and no worker thread is held.
        for future in collect(futures, Future):
            await future._until_done()
        return self.gather(futures, errors, asynchronous=False)

    # -- control ----------------------------------------------------------------
    @async_capable
    def cancel(self, futures, asynchronous=None, force=False, reason=None, msg=None) -> None:
        """Cancel ``futures``: their status becomes ``cancelled`` and their data is dropped.

        Queued work never starts; running work is stopped by ending its worker
        process (Ray cannot interrupt a running Python function otherwise, and a
        cancelled task should not hold a CPU), and Ray starts a fresh one.
        Elements of a batched ``map`` share one task: it runs on for its siblings.
        A task that takes other futures' results is cancelled here but not on Ray,
        where it runs once its inputs are ready and its result is dropped: asking Ray
        to cancel it can crash this process (a race in Ray's reference counting).
        Futures computed from a cancelled one are cancelled too, as in distributed.
        """
        states = {id(f._state): f._state for f in futures_of(futures)}
        self._cancel_states(list(states.values()))

    @staticmethod
    def _cancel_states(states, kill_batches: bool = False) -> None:
        import ray

        for state in states:
            if state.status == PENDING and state.ref is not None and not state.has_inputs and (
                    kill_batches or not state.batched):
                try:
                    ray.cancel(state.ref, force=True)
                except ValueError:
                    # a call on an executor actor: dropped if queued; a running one
                    # ends by itself (ending the process would end other calls)
                    _cancel_quietly(state.ref)
                except Exception:  # already finished, or Ray is gone: nothing to stop
                    pass
            state.cancel()

    @async_capable
    def restart(self, timeout=_no_default, wait_for_workers=True, asynchronous=None) -> Client:
        """Stop all work, drop all data; every held future becomes ``cancelled``.

        New tasks run in fresh worker processes, so state a task left in a
        worker's module globals is gone.  New work can be submitted at once.
        """
        self._check_open()
        with self._lock:
            states = list(self._states.values())
            self._states.clear()
            self._forgotten.clear()
            self._generation += 1
        self._cancel_states(states, kill_batches=True)
        self._close_executors()  # new calls start fresh actors
        return self

    def fire_and_forget(self, futures) -> None:
        """Keep computing ``futures`` even when no handle on them is left."""
        for future in futures_of(futures):
            state = future._state
            if state.status == PENDING:
                with self._lock:
                    self._forgotten.add(state)
                state.add_callback(self._remember_done)

    def _remember_done(self, state: TaskState) -> None:
        with self._lock:
            self._forgotten.discard(state)

    def _run_callback(self, fn, future: Future) -> None:
        if self._callback_pool is None:
            with self._lock:
                if self._callback_pool is None:
                    self._callback_pool = ThreadPoolExecutor(1, "rayexec-callbacks")

        def run():
            try:
                fn(future)
            except Exception:
                logger.exception("done-callback %r of %s failed", fn, future.key)

        self._callback_pool.submit(run)

    def _state_of(self, key: str) -> TaskState:
        state = self._states.get(key)
        if state is None:
            raise KeyError(f"this client holds no key {key!r}")
        return state

    def __repr__(self) -> str:
        if self.status != "running":
            return "<Client: No scheduler connected>"
        info = self.scheduler_info()
        return (f"<Client: {info['address']!r} processes={info['n_workers']} "
                f"threads={info['total_threads']}, memory={format_bytes(info['total_memory'])}>")

    def _repr_html_(self) -> str:
        """The client in a notebook: the cluster's address and size (Ray's dashboard
        shows the rest)."""
        from html import escape

        if self.status != "running":
            return "<p><strong>Client</strong>: No scheduler connected</p>"
        info = self.scheduler_info()
        rows = [("Scheduler", info["address"]), ("Workers", info["n_workers"]),
                ("Total threads", info["total_threads"]),
                ("Total memory", f"{info['total_memory'] / 2**30:.2f} GiB"),
                ("Dashboard", self.dashboard_link or "not running")]
        cells = "".join(f"<tr><td><strong>{name}: </strong>{escape(str(value))}</td></tr>"
                        for name, value in rows)
        return f"<div><strong>Client</strong> {escape(self.id)}<table>{cells}</table></div>"


Executor = Client


def _require_running_loop() -> None:
    """An asynchronous client belongs to the event loop it is made on, as in
    distributed: made outside one, it would have none to run on."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "Client(asynchronous=True) needs a running event loop: make it inside a "
            "coroutine, or pass loop=. (Constructing LoopRunner(asynchronous=True) without "
            "a running loop is not supported)") from None


def _is_cluster(address) -> bool:
    return address is not None and not isinstance(address, (str, tuple))


def _cluster_address(address, scheduler_file):
    if isinstance(address, type):  # Client(LocalCluster): the class, not a cluster
        raise TypeError(f"Scheduler address must be a string or a Cluster instance, "
                        f"got the class {address.__name__}")
    if scheduler_file is not None:
        import json

        with open(scheduler_file) as f:
            return json.load(f)["address"]
    if isinstance(address, tuple) and len(address) == 2:  # (host, port), as Haydi passes
        return f"{address[0]}:{address[1]}"
    if _is_cluster(address):
        # A cluster object (LocalCluster and friends) names its scheduler.
        address = getattr(address, "scheduler_address", None) or address.address
    return address


def _serialisation_error(func, exc: Exception) -> TypeError:
    return TypeError(f"rayexec cannot serialise the arguments of {funcname(func)}() to send "
                     f"them to the cluster: {type(exc).__name__}: {exc}")


def _cancel_quietly(ref) -> None:
    import ray

    try:
        ray.cancel(ref)
    except Exception:  # already finished, or Ray is gone
        pass


def _drop_failed(obj, values: dict):
    """``obj`` with its futures replaced by values, failed ones left out of containers."""
    if isinstance(obj, Future):
        return values[id(obj._state)]
    if isinstance(obj, dict):
        return {k: _drop_failed(v, values) for k, v in obj.items()
                if not (isinstance(v, Future) and id(v._state) not in values)}
    if isinstance(obj, (list, tuple, set, frozenset)):
        kept = [_drop_failed(v, values) for v in obj
                if not (isinstance(v, Future) and id(v._state) not in values)]
        return type(obj)(kept) if not hasattr(obj, "_fields") else type(obj)(*kept)
    return obj

