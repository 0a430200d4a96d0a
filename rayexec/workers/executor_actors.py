"""Long-lived executor actors: single calls without the cost of a Ray task each.

A Ray task asks a raylet for a worker lease before it runs; a call on an actor
goes from the client straight to the actor's process.  For a single ``submit``
(or an unbatched ``map`` element) that round trip is most of the cost, so a
client runs such calls on a pool of actors, one per CPU of every node that runs
tasks (one call at a time each: calls do not share a process's GIL, as tasks do
not).  What tasks give is kept:

- the result and the receipt are the call's two returns, in the object store,
  exactly as a task's (``rayexec.execution.run_call`` runs on both paths);
- futures given as arguments reach the actor as ObjectRefs, which Ray resolves;
- a worker process that dies mid-call is restarted by Ray and the call runs
  again (``max_restarts``/``max_task_retries``), as a task would be retried; a
  node that leaves takes its actors elsewhere (soft node affinity);
- calls with placement hints or ``retries=`` stay Ray tasks;
- cancelling a queued call drops it; a running call runs to its end in its actor
  and its result is dropped (Ray can stop a running task's process, not an
  actor's call without ending its siblings);
- ``restart`` ends every actor: new calls run in fresh processes;
- demand stays visible to Ray's autoscaler: an actor takes at most
  :data:`QUEUE_PER_ACTOR` calls at a time; past that the client submits Ray
  tasks, which queue on the cluster as resource demand.

The actors start in the background once the client's first call has run as a
task; until one is ready, calls are Ray tasks, so no call ever waits for an
actor to start.

>>> pool = ExecutorPool(runtime_env={})  # doctest: +SKIP
>>> value_ref, receipt_ref = pool.call(abs, None, (-1,), {}, name="abs-1")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import threading

import dask.config

from ..execution import run_call_for_ray
from ..state import on_completed
from .nodes import alive_workers
from .placement import actor_pin
from .preloads import run_once as run_preloads

# Calls one actor holds at once (running or queued in its process).  Enough to
# keep it busy while the client sends the next ones; past it calls become Ray
# tasks, which the autoscaler counts as demand.  ``rayexec.executor-queue``.
QUEUE_PER_ACTOR = 16
# Ray restarts a dead actor process without bound, as distributed's nanny restarts
# a worker: a bounded count ran out under repeated kills, and every call sent to the
# dead actor afterwards failed at once.  Each call is run again at most
# CALL_RETRIES times, as distributed reschedules a task whose worker died
# (``distributed.scheduler.allowed-failures``, 3).
RESTARTS = -1
CALL_RETRIES = 3


def executor_actors_enabled() -> bool:
    """Whether single calls may use executor actors (``rayexec.executor-actors``).

    Not for a client inside a task (``get_client``, ``worker_client``): every
    worker process would start a pool of its own.
    """
    return bool(dask.config.get("rayexec.executor-actors", True)) and not _in_worker()


@functools.cache
def _in_worker() -> bool:
    import ray

    return ray.get_runtime_context().worker.mode == ray.WORKER_MODE


class _Executor:
    """The actor: runs one call at a time, exactly as a call task does."""

    def call(self, func, bundled, /, *args, **kwargs):
        run_preloads()
        return run_call_for_ray(func, bundled, args, kwargs)

    def ready(self) -> bool:
        return True


class _Slot:
    """One actor of the pool and the calls it holds."""

    __slots__ = ("handle", "node_id", "ready", "in_flight")

    def __init__(self, handle, node_id: str):
        self.handle = handle
        self.node_id = node_id
        self.ready = False
        self.in_flight = 0


class ExecutorPool:
    """A client's executor actors.

    ``runtime_env``: what the actors start with (the client's uploads and restart
    generation); a client whose environment changes makes a new pool.
    """

    def __init__(self, runtime_env: dict):
        self.runtime_env = runtime_env
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self._listing = None  # the node listing the actors were made for
        self._starting = False  # a thread is starting actors
        self._warm = False  # a call of the client has run as a task: actors may start
        self._warming = False  # waiting for the first such task to finish
        self._next = 0
        self._closed = False
        self._sent: dict = {}  # receipt ref -> node id of its actor, calls not finished

    def call(self, func, bundled: bool, args: tuple, kwargs: dict, name: str):
        """``(value_ref, receipt_ref)`` of ``func`` run on an actor, the call named
        ``name`` in Ray's tools (as a task would be); None when no actor is ready or
        all are full (the caller runs a Ray task instead)."""
        slot = self._choose()
        if slot is None:
            return None
        try:
            refs = slot.handle.call.options(num_returns=2, name=name).remote(
                func, bundled, *args, **kwargs)
        except BaseException:
            with self._lock:
                slot.in_flight -= 1
            raise
        receipt = refs[1]
        with self._lock:
            self._sent[receipt] = slot.node_id
        on_completed(receipt, lambda _value, slot=slot: self._finished(slot, receipt))
        return refs

    def sent_calls(self) -> dict[str, str]:
        """Ray task id -> node id of the actor holding the call, for each call sent
        and not finished (queued in the actor or running): what distributed's
        scheduler counts as processing on that worker.  Known here at once, where
        Ray's task events tell a call runs only some 0.1 s later."""
        with self._lock:
            sent = list(self._sent.items())
        # Task ids are spelled out here, not per call: this is the rare path.
        return {receipt.task_id().hex(): node_id for receipt, node_id in sent}

    def _choose(self) -> _Slot | None:
        listing = alive_workers(fresh=False)
        with self._lock:
            if self._closed:
                return None
            if self._warm and listing is not self._listing and not self._starting:
                self._plan(listing)
            n = len(self._slots)
            # Round robin, an idle actor first.  A call queues behind running ones
            # only once every actor is up: while some still start, a CPU may be
            # free, and a quick call queued behind a long one would wait for it
            # (a Ray task runs at once there instead).
            queue = _queue_per_actor()
            all_up = n > 0 and all(slot.ready for slot in self._slots)
            for room in ((1, queue) if all_up else (1,)):
                for i in range(n):
                    slot = self._slots[(self._next + i) % n]
                    if slot.ready and slot.in_flight < room:
                        self._next = (self._next + i + 1) % n
                        slot.in_flight += 1
                        return slot
        return None

    def ran_as_task(self, receipt_ref) -> None:
        """A call ran as a Ray task because no actor was ready.  The pool starts its
        actors once the first such task has finished: started sooner, the actors
        take the worker processes Ray started ahead for tasks, and the client's
        first call waits for a new one (measured: 0.33 s to a first result
        instead of 0.16 s)."""
        # One callback, not one per call until then: this is every submit's path.
        if not self._warming:
            self._warming = True
            on_completed(receipt_ref, self._warmed)

    def _warmed(self, _value) -> None:
        # On Ray's completion thread, which must not block: the next call plans.
        self._warm = True

    def _finished(self, slot: _Slot, receipt) -> None:
        with self._lock:
            slot.in_flight -= 1
            self._sent.pop(receipt, None)

    def _plan(self, listing) -> None:
        """One actor per CPU of each alive node that runs tasks; the actors of nodes
        gone are dropped (Ray moves or ends them).  Called under the lock; the
        missing actors start on a thread, so no call waits for them (making an
        actor exports its class to the cluster, a few hundred ms on the first)."""
        self._listing = listing
        alive = {w.node_id: w.nthreads for w in listing if w.nthreads > 0}
        self._slots = [s for s in self._slots if s.node_id in alive]
        have: dict = {}
        for s in self._slots:
            have[s.node_id] = have.get(s.node_id, 0) + 1
        missing = [node_id for node_id, cpus in alive.items()
                   for _ in range(cpus - have.get(node_id, 0))]
        if missing:
            self._starting = True
            threading.Thread(target=self._start_actors, args=(missing,), daemon=True,
                             name="rayexec-executor-actors").start()

    def _start_actors(self, node_ids: list) -> None:
        started: list[_Slot] = []
        try:
            for node_id in node_ids:
                started.append(self._start_actor(node_id))
        except Exception:  # Ray shut down meanwhile: calls stay Ray tasks
            _kill([slot.handle for slot in started])
            started = []
        with self._lock:
            self._starting = False
            if not self._closed:
                self._slots.extend(started)
                return
        _kill([slot.handle for slot in started])

    def _start_actor(self, node_id) -> _Slot:
        # Calls are independent: out of order, a call waiting for its inputs does not
        # hold up the ones behind it, and a cancelled queued call leaves no gap that
        # Ray would wait 30 s to see filled.
        handle = _actor_class().options(
            num_cpus=0, max_concurrency=1, max_restarts=RESTARTS,
            max_task_retries=CALL_RETRIES, allow_out_of_order_execution=True,
            runtime_env=self.runtime_env or None, **actor_pin(node_id)).remote()
        slot = _Slot(handle, node_id)
        # The readiness ping is the pool's own: not the user's work in Ray's task
        # records (the task stream), and not retried (a ping of an actor closed
        # while it started would make Ray print a retry warning).
        ping = handle.ready.options(max_task_retries=0, enable_task_events=False)
        on_completed(ping.remote(), lambda value: self._started(slot, value))
        return slot

    def _started(self, slot: _Slot, value) -> None:
        if value is True:
            slot.ready = True

    def close(self) -> None:
        """End every actor (their unfinished calls end too); the pool makes no more."""
        with self._lock:
            slots, self._slots = self._slots, []
            self._closed = True
        _kill([slot.handle for slot in slots])


def _kill(handles: list) -> None:
    import ray

    for handle in handles:
        try:
            ray.kill(handle, no_restart=True)
        except Exception:  # already gone, or Ray is shut down
            pass


@functools.cache
def _actor_class():
    import ray

    return ray.remote(_Executor)


def _queue_per_actor() -> int:
    return int(dask.config.get("rayexec.executor-queue", QUEUE_PER_ACTOR))
