"""Shared coordination state: one named Ray actor holds every Lock, Event, Queue ...

distributed keeps locks, semaphores, events, queues and variables on its
scheduler, so every client and every task of a cluster sees the same ones by
name.  On Ray that place is one detached, named async actor per cluster
(:class:`Coordinator`), found with ``get_if_exists`` by whoever asks first.  It
takes no CPU, lives as long as the cluster (clients come and go), and blocks
waiters on asyncio conditions inside the actor -- a waiting ``acquire`` or
``get`` is one pending actor call, never a polling loop.

This module owns the Ray calls for coordination; ``locks``, ``semaphores``,
``events``, ``queues`` and ``variables`` speak to it through :func:`call`.

Values put into a Queue or Variable travel as pickled bytes plus a list of
ObjectRefs: Futures inside them become :class:`_Carried` records pointing into
that list, so the data behind a Future travels with it (Ray counts the actor and
the receiving client as borrowers), and the actor never unpickles user types.

>>> pack(3)[1]
[]
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import deque
from typing import Any

import cloudpickle

from ..asynchronous import in_thread
from ..errors import CoordinationLostError, user_exception, with_remote_traceback
from ..future import Future, future_from_parts, future_parts
from ..nesting import replace
from ..workers import placement

NAMESPACE = "rayexec"
# A new protocol gets a new actor: an older one may outlive an upgrade.
ACTOR_NAME = "rayexec-coordination-v3"
MAX_WAITERS = 100_000  # concurrent blocking calls (each waiting acquire/get is one)
MAX_EVENTS = 100_000  # events kept per topic, the oldest dropped first (as distributed)


# -- the actor -------------------------------------------------------------------
class Coordinator:
    """The state of every coordination primitive of a cluster, by name.

    Runs as an async Ray actor: all methods share one event loop, so state
    changes between two ``await`` points are atomic without locks.
    """

    def __init__(self):
        self._changed: dict = {}  # key -> asyncio.Condition, while someone waits on it
        self._waiting: dict = {}  # key -> number of waiters
        self.max_leases: dict[str, int] = {}
        # semaphore name -> {lease_id: when last refreshed (monotonic)}, in grant order
        self.leases: dict[str, dict] = {}
        self.lease_timeout: dict[str, float] = {}  # semaphore name -> seconds
        self._expiring = None  # the task that frees the leases of holders gone silent
        self.events: dict[str, asyncio.Event] = {}
        self.queues: dict[str, list] = {}  # name -> [deque, maxsize, users]
        self.variables: dict[str, Any] = {}
        self.multi_held: dict[str, str] = {}  # MultiLock name -> holder id
        self.multi_owned: dict[str, list] = {}  # holder id -> names held
        self.metadata: dict = {}  # Client.set_metadata: nested dicts of plain data
        self.topics: dict[str, deque] = {}  # Client.log_event: topic -> (time, message)

    async def _until(self, key, ready, timeout) -> bool:
        """Wait (without polling) until ``ready()``; False when ``timeout`` passes first."""
        if ready():
            return True
        if timeout is not None and timeout <= 0:
            return False
        condition = self._changed.setdefault(key, asyncio.Condition())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with condition:
                await asyncio.wait_for(condition.wait_for(ready), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._changed[key]

    async def _notify(self, key) -> None:
        condition = self._changed.get(key)
        if condition is not None:
            async with condition:
                condition.notify_all()

    # semaphores and locks
    def sem_register(self, name: str, max_leases: int, lease_timeout: float = 30.0) -> None:
        known = self.max_leases.setdefault(name, max_leases)
        self.leases.setdefault(name, {})
        self.lease_timeout.setdefault(name, lease_timeout)
        if known != max_leases:
            raise ValueError(f"Semaphore {name!r} exists with max_leases={known}; "
                             f"it cannot be registered again with max_leases={max_leases}")
        if self._expiring is None:
            self._expiring = asyncio.get_running_loop().create_task(self._expire_leases())

    async def _expire_leases(self) -> None:
        """Free the leases their holders stopped refreshing: a holder that died
        (its worker process killed, its node lost) must not block the others
        for good -- distributed's lease timeout."""
        while True:
            shortest = min(self.lease_timeout.values(), default=30.0)
            await asyncio.sleep(max(0.02, shortest / 5))
            now = time.monotonic()
            for name, leases in list(self.leases.items()):
                timeout = self.lease_timeout.get(name, 30.0)
                stale = [lease for lease, seen in leases.items() if now - seen > timeout]
                for lease in stale:
                    del leases[lease]
                if stale:
                    await self._notify(("sem", name))

    def sem_refresh(self, name: str, lease_ids: list) -> None:
        """The holder of ``lease_ids`` is alive."""
        leases = self.leases.get(name, {})
        now = time.monotonic()
        for lease in lease_ids:
            if lease in leases:
                leases[lease] = now

    async def sem_acquire(self, name: str, lease_id: str, timeout) -> bool:
        if name not in self.max_leases:
            raise RuntimeError(f"Semaphore or Lock {name!r} not known (it was closed)")
        leases = self.leases[name]

        def free():
            return lease_id in leases or len(leases) < self.max_leases.get(name, 0)

        if not await self._until(("sem", name), free, timeout) or name not in self.max_leases:
            return False
        leases[lease_id] = time.monotonic()
        return True

    async def sem_release(self, name: str, lease_id: str) -> bool:
        leases = self.leases.get(name, {})
        if lease_id not in leases:  # closed, released already, or expired
            return False
        del leases[lease_id]
        await self._notify(("sem", name))
        return True

    def sem_value(self, name: str) -> int:
        return len(self.leases.get(name, ()))

    async def sem_close(self, name: str) -> None:
        self.max_leases.pop(name, None)
        self.leases.pop(name, None)
        self.lease_timeout.pop(name, None)
        await self._notify(("sem", name))

    # multi-locks: a holder takes ``count`` of ``names`` at once
    async def multi_acquire(self, holder: str, names: list, count: int, timeout) -> bool:
        def free():
            return sum(n not in self.multi_held for n in names) >= count

        if not await self._until("multi", free, timeout):
            return False
        taken = [n for n in names if n not in self.multi_held][:count]
        for n in taken:
            self.multi_held[n] = holder
        self.multi_owned[holder] = taken
        return True

    async def multi_release(self, holder: str) -> None:
        for n in self.multi_owned.pop(holder, ()):
            self.multi_held.pop(n, None)
        await self._notify("multi")

    # events
    async def event_wait(self, name: str, timeout) -> bool:
        event = self.events.setdefault(name, asyncio.Event())
        if event.is_set():
            return True
        if timeout is not None and timeout <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def event_set(self, name: str) -> None:
        self.events.setdefault(name, asyncio.Event()).set()

    def event_clear(self, name: str) -> None:
        event = self.events.get(name)
        if event is not None:
            event.clear()

    def event_is_set(self, name: str) -> bool:
        event = self.events.get(name)
        return event is not None and event.is_set()

    # queues
    def queue_create(self, name: str, maxsize: int) -> None:
        entry = self.queues.setdefault(name, [deque(), maxsize, 0])
        entry[2] += 1

    def queue_release(self, name: str) -> None:
        entry = self.queues.get(name)
        if entry is not None:
            entry[2] -= 1
            if entry[2] <= 0:
                del self.queues[name]

    def _queue(self, name):
        entry = self.queues.get(name)
        if entry is None:
            raise RuntimeError(f"Queue {name!r} does not exist (it was closed)")
        return entry

    async def queue_put(self, name: str, item, timeout) -> None:
        items, maxsize, _ = self._queue(name)
        if not await self._until(("queue", name), lambda: not maxsize or len(items) < maxsize,
                                 timeout):
            raise TimeoutError(f"Queue {name!r} stayed full for {timeout} s")
        items.append(item)
        await self._notify(("queue", name))

    async def queue_get(self, name: str, timeout, batch):
        items = self._queue(name)[0]
        if batch is True:
            out = list(items)
            items.clear()
        else:
            out = []
            for _ in range(1 if batch is False else int(batch)):
                if not await self._until(("queue", name), lambda: bool(items), timeout):
                    items.extendleft(reversed(out))  # a timed-out get takes nothing
                    raise TimeoutError(f"Queue {name!r} stayed empty for {timeout} s")
                out.append(items.popleft())
        await self._notify(("queue", name))
        return out[0] if batch is False else out

    def queue_qsize(self, name: str) -> int:
        return len(self._queue(name)[0])

    # variables
    async def var_set(self, name: str, item) -> None:
        self.variables[name] = item
        await self._notify(("var", name))

    async def var_get(self, name: str, timeout):
        if not await self._until(("var", name), lambda: name in self.variables, timeout):
            raise TimeoutError(f"Variable {name!r} was not set within {timeout} s")
        return self.variables[name]

    def var_delete(self, name: str) -> None:
        self.variables.pop(name, None)

    # metadata and events (Client.set_metadata, Client.log_event)
    def meta_set(self, keys: list, value) -> None:
        place = self.metadata
        for key in keys[:-1]:
            place = place.setdefault(key, {})
        place[keys[-1]] = value

    def meta_get(self, keys: list):
        place = self.metadata
        for key in keys:
            place = place[key]  # a KeyError reaches the caller, who may have a default
        return place

    def event_log(self, topics: list, stamp: float, message) -> None:
        for topic in topics:
            self.topics.setdefault(topic, deque(maxlen=MAX_EVENTS)).append((stamp, message))

    def event_list(self, topic):
        if topic is None:
            return {name: tuple(events) for name, events in self.topics.items()}
        return tuple(self.topics.get(topic, ()))


# -- finding and calling the actor -------------------------------------------------
_lock = threading.Lock()


class _Handle:
    """The coordination actor's handle for one connection, and whether the actor
    has answered through it (then its death lost state this process relied on)."""

    __slots__ = ("connection", "actor", "answered")

    def __init__(self, connection, actor):
        self.connection, self.actor, self.answered = connection, actor, False


_handle: _Handle | None = None


def coordinator():
    """The cluster's coordination actor; created by the first process that asks."""
    return _current().actor


def _current() -> _Handle:
    global _handle
    import ray

    if not ray.is_initialized():
        raise RuntimeError("coordination primitives need a connection to the cluster: "
                           "create a Client first")
    # A handle belongs to the connection that made it: after ray.shutdown() and a
    # new connection (a client closed and another made) it names no actor any more.
    # Job ids start afresh on each cluster, so the cluster's address is part of it.
    context = ray.get_runtime_context()
    connection = (context.gcs_address, context.get_job_id())
    with _lock:
        if _handle is None or _handle.connection != connection:
            _handle = _Handle(connection, ray.remote(Coordinator).options(
                name=ACTOR_NAME, namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
                **placement.head_options(),
                num_cpus=0, max_concurrency=MAX_WAITERS).remote())
        return _handle


def call(method: str, *args) -> Any:
    """Run ``Coordinator.<method>(*args)`` and wait for it; the actor's own errors re-raised.

    If the actor that answered this process before has died, its state is gone:
    :class:`CoordinationLostError` says so (a lock would otherwise be granted
    twice, a wait for a flag set before would never end), and the next call
    creates the actor afresh.  A handle that never got an answer is tried once
    more with a new one.
    """
    global _handle
    import ray

    for attempt in (1, 2):
        current = _current()
        try:
            result = ray.get(getattr(current.actor, method).remote(*args))
            current.answered = True
            return result
        except ray.exceptions.RayActorError as error:
            with _lock:
                if _handle is current:
                    _handle = None
            if current.answered:
                raise CoordinationLostError(
                    f"the cluster's coordination actor died ({type(error).__name__}), and "
                    "with it the state of every Lock, Semaphore, Event, Queue and Variable: "
                    f"{method} cannot go on from it; calls from now on start afresh"
                ) from error
            if attempt == 2:
                raise
        except ray.exceptions.RayTaskError as error:
            raise with_remote_traceback(user_exception(error)) from None


def run(client, fn, *args):
    """``fn(*args)`` now, or an awaitable running it on a thread for an asynchronous client."""
    if client is not None and getattr(client, "asynchronous", False):
        return in_thread(fn, *args)
    return fn(*args)


def resolve_client(client=None):
    """The client a primitive works through: the given one, the default, or the task's."""
    if client is not None:
        return client
    from ..defaults import current_client, get_client

    found = current_client()
    if found is not None:
        return found
    from ..workers.context import get_worker

    try:
        get_worker()
    except ValueError:
        raise RuntimeError("no Client: create one before using a coordination primitive, "
                           "or pass client=") from None
    return get_client()  # inside a task: a client on the task's cluster


class Named:
    """What a shared primitive is: a name on the cluster and the client it works
    through.  ``await primitive`` gives it back: it is ready once it exists."""

    kind = "shared"  # the prefix of generated names

    def __init__(self, name=None, client=None):
        self._client = client
        self.name = name or f"{self.kind}-{uuid.uuid4().hex}"

    @property
    def client(self):
        if self._client is None:
            self._client = resolve_client()
        return self._client

    def __await__(self):
        async def ready():
            return self

        return ready().__await__()


# -- values with Futures inside -------------------------------------------------------
class _Carried:
    """A Future in a stored value: its key, status and where its data is (a ref index)."""

    __slots__ = ("key", "index", "status", "value_type", "exception")

    def __init__(self, key, index, status, value_type, exception):
        self.key, self.index, self.status = key, index, status
        self.value_type, self.exception = value_type, exception

    def __reduce__(self):
        return (_Carried, (self.key, self.index, self.status, self.value_type, self.exception))


def pack(value) -> tuple[bytes, list]:
    """``value`` as bytes and the ObjectRefs of the Futures in it (also in containers)."""
    refs: list = []

    def carry(future: Future) -> _Carried:
        key, ref, status, value_type, exception = future_parts(future)
        if ref is not None:
            refs.append(ref)
        return _Carried(key, len(refs) - 1 if ref is not None else None, status, value_type,
                        exception)

    value = replace(value, Future, carry)
    try:
        return cloudpickle.dumps(value), refs
    except Exception as exc:
        raise TypeError(
            f"cannot send a {type(value).__name__} to the cluster's shared state: "
            f"{type(exc).__name__}: {exc}. Futures may sit in lists, tuples, sets and "
            "dicts, not inside other objects") from exc


def unpack(packed: tuple[bytes, list], client) -> Any:
    """The value :func:`pack` stored, its Futures rebuilt on ``client``."""
    blob, refs = packed
    value = cloudpickle.loads(blob)
    return replace(value, _Carried, lambda c: rebuild_future(c, refs, client))


def rebuild_future(carried: _Carried, refs: list, client) -> Future:
    """A Future on ``client`` for a carried one: the same key, reading the same data."""
    ref = refs[carried.index] if carried.index is not None else None
    return future_from_parts(carried.key, ref, carried.status, carried.value_type,
                             carried.exception, client)


