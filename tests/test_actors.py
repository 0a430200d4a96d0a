"""Actors: ``client.submit(Cls, actor=True)`` gives a proxy driving an object on the cluster.

These tests go through ``Client.submit(..., actor=True)`` / ``Client.map(..., actors=True)``,
which hand the work to ``rayexec.actors.submit_actor``.
"""

import asyncio
import gc
import os
import time

import pytest

from rayexec.actors import Actor, ActorFuture, BaseActorFuture


class Counter:
    n = 0

    def __init__(self, start=0):
        self.n = start
        self.label = "counter"

    def increment(self, by=1):
        self.n += by
        return self.n

    def add_all(self, values):
        self.n += sum(values)
        return self.n

    def pid(self):
        return os.getpid()

    async def slow_get(self):
        await asyncio.sleep(0.01)
        return self.n

    def divide(self, x):
        return self.n / x


class Broken:
    def __init__(self):
        raise ValueError("cannot build")


def test_submit_gives_a_future_of_a_proxy(client):
    future = client.submit(Counter, 5, actor=True)
    assert future.key.startswith("Counter-")
    counter = future.result(timeout=60)
    assert isinstance(counter, Actor)
    assert repr(counter) == f"<Actor: Counter, key={future.key}>"
    call = counter.increment()
    assert isinstance(call, BaseActorFuture) and isinstance(call, ActorFuture)
    assert call.result(timeout=30) == 6
    assert call.done()
    assert counter.increment(by=4).result() == 10
    assert counter.n == 10            # attribute reads fetch the current value
    assert counter.label == "counter"  # also attributes set in __init__
    assert "increment" in dir(counter)


def test_actors_are_not_deduplicated(client):
    a = client.submit(Counter, actor=True).result()
    b = client.submit(Counter, actor=True).result()
    assert a.key != b.key
    a.increment().result()
    assert (a.n, b.n) == (1, 0)


def test_method_errors_are_the_users_own(client):
    counter = client.submit(Counter, 1, actor=True).result()
    with pytest.raises(ZeroDivisionError) as info:
        counter.divide(0).result()
    assert any("divide" in str(entry.name) for entry in info.traceback)
    assert counter.increment().result() == 2  # the object survives its method's error
    with pytest.raises(AttributeError):
        counter.no_such_attribute  # noqa: B018


class SlowBroken:
    def __init__(self):
        time.sleep(0.5)  # fail after the client has started waiting
        raise ValueError("cannot build, slowly")


def test_failed_constructor_ends_its_actor_without_stalling_the_client(client):
    from rayexec import wait

    future = client.submit(SlowBroken, actor=True)
    wait([future], timeout=60)  # settled by Ray's completion callback
    assert future.status == "error"
    # Ending the actor must not hold up Ray's completion thread: the client goes on.
    assert client.submit(abs, -3, pure=False).result(timeout=60) == 3


def test_constructor_error_fails_the_future(client):
    future = client.submit(Broken, actor=True)
    with pytest.raises(ValueError, match="cannot build"):
        future.result(timeout=60)
    assert future.status == "error"


def test_async_methods_and_future_arguments(client):
    counter = client.submit(Counter, client.submit(sum, [1, 2]), actor=True).result()
    assert counter.n == 3
    assert counter.slow_get().result() == 3
    assert counter.add_all([client.submit(abs, -4), 1]).result() == 8


def use_counter(counter, times):
    return [counter.increment().result() for _ in range(times)][-1]


def test_proxy_passed_into_tasks(client):
    counter = client.submit(Counter, actor=True).result()
    futures = [client.submit(use_counter, counter, 3, pure=False) for _ in range(2)]
    assert sorted(f.result(timeout=60) for f in futures)[-1] == 6
    assert counter.n == 6


def test_map_with_actors(client):
    futures = client.map(Counter, [10, 20], actors=True)
    counters = client.gather(futures)
    assert [c.increment().result() for c in counters] == [11, 21]


def test_result_timeout(client):
    class Sleeper:
        def nap(self, seconds):
            time.sleep(seconds)
            return seconds

    sleeper = client.submit(Sleeper, actor=True).result()
    with pytest.raises(TimeoutError):
        sleeper.nap(5).result(timeout=0.2)


def test_awaiting_an_actor_future(client):
    counter = client.submit(Counter, 2, actor=True).result()

    async def main():
        return await counter.increment()

    assert asyncio.run(main()) == 3


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_actor_lives_while_a_handle_does(client):
    future = client.submit(Counter, actor=True)
    counter = future.result()
    pid = counter.pid().result()
    del future
    gc.collect()
    time.sleep(1)
    assert counter.increment().result() == 1  # the proxy alone keeps it
    del counter
    gc.collect()
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid)


def test_submit_actor_refuses_a_function(client):
    from rayexec.actors import submit_actor

    with pytest.raises(TypeError, match="needs a class"):
        submit_actor(client, len, (), {}, None, {})


def test_signatures_match_distributed():
    real = pytest.importorskip("distributed")
    from test_compat_signatures import check

    check(Actor.__init__, real.Actor.__init__)
    for name in ("result", "done"):
        check(getattr(ActorFuture, name), getattr(real.ActorFuture, name))
