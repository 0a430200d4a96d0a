"""Actors: ``client.submit(Cls, *args, actor=True)`` keeps a stateful object on the cluster.

distributed's actor is an object living on one worker, driven through an
:class:`Actor` proxy; on Ray it is a Ray actor hosting the object
(:class:`ActorHost`).  The Future ``submit`` returns finishes with the proxy once
the object is built (or fails with the constructor's own exception); method
calls on the proxy return :class:`ActorFuture` at once, attribute reads block
for the value.  Like distributed's, the object runs one method at a time.

The actor lives while any handle on it does -- the Future, the proxy, copies of
the proxy sent into tasks -- and Ray ends it when the last goes.

Its coroutine methods run as distributed runs them, on an event loop beside the
object's one-at-a-time methods: a call awaiting an event does not hold up the
call that sets it.  On Ray they are a concurrency group of the actor
(:data:`COROUTINE_CALLS` at once), each waiting on the actor's one event loop;
the other calls run one at a time in the order sent.

>>> class Counter:
...     n = 0
...     def increment(self):
...         self.n += 1
...         return self.n
>>> counter = client.submit(Counter, actor=True).result()  # doctest: +SKIP
>>> counter.increment().result()                             # doctest: +SKIP
1
>>> counter.n                                                # doctest: +SKIP
1
"""

from __future__ import annotations

import abc
import asyncio
import functools
import inspect
import threading
from typing import Any

from .errors import record_traceback, user_exception, with_remote_traceback
from .execution import pack_arguments, run_call
from .future import Future
from .keys import submit_key
from .state import TaskState, on_completed, watch
from .workers.preloads import run_once as run_preloads
from .writable import writable

# Coroutine method calls an actor runs at once (each holds a thread of Ray's
# concurrency group while it waits on the actor's event loop).
COROUTINE_CALLS = 100
_COROUTINES = "coroutines"

# Ray actors take these of a task's options; retries do not apply (a restarted
# actor would have lost its state).
_ACTOR_OPTIONS = {"num_cpus", "num_gpus", "memory", "resources", "scheduling_strategy",
                  "runtime_env", "accelerator_type", "label_selector"}


def submit_actor(client, cls, args: tuple, kwargs: dict, key: str | None,
                 options: dict) -> Future:
    """Create ``cls(*args, **kwargs)`` as an actor; a Future finishing with its proxy.

    ``options`` are the Ray options of the submission (placement hints);
    Futures in the arguments arrive as their values, as for tasks.
    """
    if not isinstance(cls, type):
        raise TypeError(f"actor=True needs a class to instantiate, got {cls!r}")
    if key is None:
        key = submit_key(cls, args, kwargs, pure=False)
    bundled, args, kwargs = client._prepare_arguments(args, kwargs)
    options = {k: v for k, v in options.items() if k in _ACTOR_OPTIONS}
    remote = client._with_options(_host_class(), options)
    try:
        handle = remote.remote(cls, bundled, *args, **kwargs)
    except (TypeError, ValueError, AttributeError) as exc:
        raise TypeError(f"rayexec cannot serialise the class {cls.__name__} or its "
                        f"arguments to send them to the cluster: {exc}") from exc
    # The proxy is built by a small task holding the creator's handle: a handle
    # the actor makes of itself does not keep it alive, this one does.
    value_ref, receipt_ref = _proxy_task().remote(handle, handle.ready.remote(), cls, key)
    state = TaskState(key, value_ref)
    watch(state, receipt_ref)
    # A constructor that failed leaves nothing to drive: end its actor at once --
    # from a thread of its own, as state callbacks may run on Ray's completion
    # thread, where a blocking Ray call (ray.kill is one) would wait on itself.
    state.add_callback(lambda s: s.exception is not None and threading.Thread(
        target=_kill, args=(handle,), name="rayexec-actor-kill", daemon=True).start())
    with client._lock:
        client._states[key] = state
    return Future(key, client, state)


@functools.cache
def _host_class():
    import ray

    return ray.remote(concurrency_groups={_COROUTINES: COROUTINE_CALLS})(ActorHost)


@functools.cache
def _proxy_task():
    # One remote function for every actor: a new one per actor was pickled and
    # looked up in the cluster's function table at each submission.  Ray exports
    # it again itself after a reconnect, as for the host class above.
    import ray

    return ray.remote(_proxy).options(num_cpus=0, num_returns=2)


def _kill(handle) -> None:
    import ray

    try:
        ray.kill(handle)
    except Exception:  # already gone, or Ray is shutting down: nothing to end
        pass


def _proxy(handle, address: str, cls, key: str) -> tuple[Actor, str]:
    return Actor(cls, address, key, handle=handle), "Actor"


class ActorHost:
    """The Ray actor holding one user object; its methods run one at a time, its
    coroutine methods (sent to the ``coroutines`` concurrency group) on its event
    loop, side by side."""

    def __init__(self, _rayexec_cls, _rayexec_bundled, *args, **kwargs):
        self._error = None
        self._loop = None
        self._loop_lock = threading.Lock()
        try:
            run_preloads()
            self._object, _ = run_call(_rayexec_cls, _rayexec_bundled, args, kwargs)
        except BaseException as exc:  # reported by ready(), as the Future's error
            self._error = exc

    def ready(self) -> str:
        """The address of the worker holding the object; the constructor's error if it failed."""
        from .workers.context import get_worker

        if self._error is not None:
            raise self._error
        return get_worker().address

    def call(self, name: str, bundled: bool, *args, **kwargs):
        value, _ = run_call(getattr(self._object, name), bundled, args, kwargs)
        if asyncio.iscoroutine(value):
            value = self._await(value)
        return writable(value)

    def attribute(self, name: str):
        try:
            return writable(getattr(self._object, name))
        except AttributeError as exc:
            raise record_traceback(exc) from None

    def _await(self, coroutine):
        # Coroutine methods share one event loop for the actor's life, so state
        # tied to a loop (tasks, queues) survives from call to call.
        with self._loop_lock:  # coroutine calls arrive on several threads
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, daemon=True,
                                 name="rayexec-actor-loop").start()
        try:
            return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()
        except BaseException as exc:
            raise record_traceback(exc) from None


class Actor:
    """A proxy for an object living on the cluster.

    Method calls return :class:`ActorFuture` at once; reading another attribute
    fetches its current value.  Proxies can be passed into tasks and used there.
    ``address`` is the worker (Ray node) the object lives on.

    >>> future = counter.increment()   # doctest: +SKIP
    >>> future.result()                # doctest: +SKIP
    1
    """

    def __init__(self, cls, address, key, worker=None, *, handle=None):
        self._cls = cls
        self._address = address
        self._key = key
        self._handle = handle

    @property
    def key(self) -> str:
        return self._key

    @property
    def client(self):
        from .defaults import default_client

        return default_client()

    def __repr__(self):
        return f"<Actor: {self._cls.__name__}, key={self._key}>"

    def __reduce__(self):
        return (_rebuild_actor, (self._cls, self._address, self._key, self._handle))

    def __dir__(self):
        names = set(dir(type(self)))
        names.update(a for a in dir(self._cls) if not a.startswith("_"))
        return sorted(names)

    def __getattr__(self, name):
        if name.startswith("__") or self._handle is None:
            raise AttributeError(name)
        if callable(getattr(self._cls, name, None)):
            return self._method(name)
        return ActorFuture(self._handle.attribute.remote(name), self._key).result()

    def _method(self, name):
        handle, key = self._handle, self._key

        method = getattr(self._cls, name)
        remote = handle.call
        if inspect.iscoroutinefunction(method):
            remote = remote.options(concurrency_group=_COROUTINES)

        @functools.wraps(method)
        def call(*args, **kwargs):
            bundled, args, kwargs = _prepare(args, kwargs)
            return ActorFuture(remote.remote(name, bundled, *args, **kwargs), key)

        return call


def _rebuild_actor(cls, address, key, handle) -> Actor:
    return Actor(cls, address, key, handle=handle)


def _prepare(args: tuple, kwargs: dict):
    """A method's arguments packed as a task's are (see ``execution``): futures
    become refs, and the values arrive writable."""
    return pack_arguments(args, kwargs, Future, lambda f: writable(f.client._argument_of(f)))


class BaseActorFuture(abc.ABC):
    """The future result of a method call on an :class:`Actor`."""

    __slots__ = ()

    @abc.abstractmethod
    def result(self, timeout=None): ...

    @abc.abstractmethod
    def done(self) -> bool: ...

    def __repr__(self):
        return "<ActorFuture>"


class ActorFuture(BaseActorFuture):
    """The result of one actor method call; ``result()`` raises the method's own exception.

    >>> counter.increment().result(timeout=10)  # doctest: +SKIP
    1
    """

    __slots__ = ("_ref", "_key")

    def __init__(self, ref, key: str = "actor"):
        self._ref = ref
        self._key = key

    def done(self) -> bool:
        import ray

        ready, _ = ray.wait([self._ref], timeout=0)
        return bool(ready)

    def _on_done(self, fn) -> None:
        """Call ``fn(self)`` on Ray's completion thread when the call ends (for
        ``as_completed``): ``fn`` must be quick and must not block on Ray."""
        on_completed(self._ref, lambda _value: fn(self))

    def result(self, timeout=None) -> Any:
        """The method's return value, waiting up to ``timeout`` (seconds or ``"1s"``)."""
        import ray

        from .errors import KilledWorker, TimeoutError
        from .timeouts import parse_timeout

        try:
            return ray.get(self._ref, timeout=parse_timeout(timeout))
        except ray.exceptions.GetTimeoutError:
            raise TimeoutError(f"a call on actor {self._key} did not finish "
                               f"within {timeout} s") from None
        except ray.exceptions.RayActorError as error:
            raise KilledWorker(f"the worker holding actor {self._key} was lost: "
                               f"{error}") from None
        except ray.exceptions.RayError as error:
            raise with_remote_traceback(user_exception(error)) from None

    def __await__(self):
        from .asynchronous import in_thread

        return in_thread(self.result).__await__()
