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

The actors start in the background on the first call; until one is ready, calls
are Ray tasks, so no call ever waits for an actor to start.

>>> pool = ExecutorPool(runtime_env={})  # doctest: +SKIP
>>> value_ref, receipt_ref = pool.call(abs, None, (-1,), {}, name="abs-1")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import threading

import dask.config

from ..execution import run_call
from ..state import on_completed
from .nodes import alive_workers

# Calls one actor holds at once (running or queued in its process).  Enough to
# keep it busy while the client sends the next ones; past it calls become Ray
# tasks, which the autoscaler counts as demand.  ``rayexec.executor-queue``.
QUEUE_PER_ACTOR = 16
# Ray restarts a dead actor process and runs its unfinished calls again, this often.
RESTARTS = 8
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

    def call(self, func, layout, /, *args, **kwargs):
        return run_call(func, layout, args, kwargs)

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
        self._next = 0
        self._closed = False

    def call(self, func, layout, args: tuple, kwargs: dict, name: str):
        """``(value_ref, receipt_ref)`` of ``func`` run on an actor, the call named
        ``name`` in Ray's tools (as a task would be); None when no actor is ready or
        all are full (the caller runs a Ray task instead)."""
        slot = self._choose()
        if slot is None:
            return None
        try:
            refs = slot.handle.call.options(num_returns=2, name=name).remote(
                func, layout, *args, **kwargs)
        except BaseException:
            with self._lock:
                slot.in_flight -= 1
            raise
        on_completed(refs[1], lambda _value, slot=slot: self._finished(slot))
        return refs

    def _choose(self) -> _Slot | None:
        listing = alive_workers(fresh=False)
        with self._lock:
            if self._closed:
                return None
            if listing is not self._listing:
                self._refresh(listing)
            n = len(self._slots)
            # round robin over the ready actors with room
            for i in range(n):
                slot = self._slots[(self._next + i) % n]
                if slot.ready and slot.in_flight < _queue_per_actor():
                    self._next = (self._next + i + 1) % n
                    slot.in_flight += 1
                    return slot
        return None

    def _finished(self, slot: _Slot) -> None:
        with self._lock:
            slot.in_flight -= 1

    def _refresh(self, listing) -> None:
        """One actor per CPU of each alive node that runs tasks; the actors of nodes
        gone are dropped (Ray moves or ends them)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self._listing = listing
        alive = {w.node_id: w.nthreads for w in listing if w.nthreads > 0}
        kept = [s for s in self._slots if s.node_id in alive]
        have: dict = {}
        for s in kept:
            have[s.node_id] = have.get(s.node_id, 0) + 1
        # Calls are independent: out of order, a call waiting for its inputs does not
        # hold up the ones behind it, and a cancelled queued call leaves no gap that
        # Ray would wait 30 s to see filled.
        options = dict(num_cpus=0, max_concurrency=1, max_restarts=RESTARTS,
                       max_task_retries=CALL_RETRIES, allow_out_of_order_execution=True,
                       runtime_env=self.runtime_env or None)
        for node_id, cpus in alive.items():
            for _ in range(cpus - have.get(node_id, 0)):
                handle = _actor_class().options(**options, scheduling_strategy=(
                    NodeAffinitySchedulingStrategy(node_id, soft=True))).remote()
                slot = _Slot(handle, node_id)
                # The readiness ping is the pool's own: not the user's work in Ray's
                # task records (the task stream), and not retried (a ping of an actor
                # closed while it started would make Ray print a retry warning).
                ping = handle.ready.options(max_task_retries=0, enable_task_events=False)
                on_completed(ping.remote(),
                              lambda value, slot=slot: self._started(slot, value))
                kept.append(slot)
        self._slots = kept

    def _started(self, slot: _Slot, value) -> None:
        if value is True:
            slot.ready = True

    def close(self) -> None:
        """End every actor (their unfinished calls end too); the pool makes no more."""
        import ray

        with self._lock:
            slots, self._slots = self._slots, []
            self._closed = True
        for slot in slots:
            try:
                ray.kill(slot.handle, no_restart=True)
            except Exception:  # already gone, or Ray is shut down
                pass


@functools.cache
def _actor_class():
    import ray

    return ray.remote(_Executor)


def _queue_per_actor() -> int:
    return int(dask.config.get("rayexec.executor-queue", QUEUE_PER_ACTOR))
