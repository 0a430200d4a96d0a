"""Lock, MultiLock, Semaphore, Event, Queue and Variable: shared by name by clients and tasks."""

import inspect
import os
import pickle
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import actor_node, run_script

from rayexec.coordination.events import Event
from rayexec.coordination.locks import Lock, MultiLock
from rayexec.coordination.queues import Queue
from rayexec.coordination.semaphores import Semaphore
from rayexec.coordination.variables import Variable


def unique(prefix):
    return f"{prefix}-{time.monotonic_ns()}"


# -- signatures --------------------------------------------------------------------
real = pytest.importorskip("distributed")
SIGNED = [(cls, name) for cls in ("Lock", "MultiLock", "Semaphore", "Event", "Queue", "Variable")
          for name in ("__init__", "acquire", "release", "locked", "get_value", "register",
                       "close", "wait", "set", "clear", "is_set", "put", "get", "qsize",
                       "delete")]


@pytest.mark.parametrize("cls,name", [(c, n) for c, n in SIGNED
                                      if hasattr(getattr(real, c), n)],
                         ids=lambda v: v)
def test_signatures_match_distributed(cls, name):
    from test_compat_signatures import check

    ours = {"Lock": Lock, "MultiLock": MultiLock, "Semaphore": Semaphore, "Event": Event,
            "Queue": Queue, "Variable": Variable}[cls]
    check(getattr(ours, name), getattr(getattr(real, cls), name))


def test_exported_from_rayexec():
    import rayexec

    assert rayexec.Lock is Lock and rayexec.Queue is Queue and rayexec.Variable is Variable
    assert rayexec.Event is Event and rayexec.Semaphore is Semaphore
    assert rayexec.MultiLock is MultiLock
    assert "Lock" in inspect.getdoc(rayexec.Lock)


# -- locks and semaphores ------------------------------------------------------------
def test_lock_excludes_other_holders(client):
    name = unique("lock")
    mine, theirs = Lock(name), Lock(name)
    assert mine.acquire() is True
    assert mine.locked() and theirs.locked()
    assert theirs.acquire(blocking=False) is False
    assert theirs.acquire(timeout=0.1) is False
    with pytest.raises(RuntimeError, match="Released too often"):
        theirs.release()
    mine.release()
    assert not theirs.locked()
    assert theirs.acquire(timeout="1s") is True
    theirs.release()


def test_lock_refuses_timeout_without_blocking(client):
    with pytest.raises(ValueError, match="non-blocking"):
        Lock(unique("lock")).acquire(blocking=False, timeout=1)


def critical_section(i, lock, queue):
    with lock:
        queue.put(("in", i))
        time.sleep(0.2)
        queue.put(("out", i))
    return i


def test_lock_serialises_tasks_on_two_workers(client):
    lock, queue = Lock(), Queue()
    futures = client.map(critical_section, range(4), lock=lock, queue=queue, pure=False)
    assert client.gather(futures) == [0, 1, 2, 3]
    records = queue.get(batch=8)
    for enter, leave in zip(records[::2], records[1::2]):  # never two inside at once
        assert enter[0] == "in" and leave == ("out", enter[1])


def test_lock_pickles_by_name(client):
    lock = Lock(unique("lock"))
    copy = pickle.loads(pickle.dumps(lock))
    assert copy.name == lock.name
    lock.acquire()
    assert copy.locked()
    lock.release()


def test_semaphore_counts_leases(client):
    sem = Semaphore(max_leases=2, name=unique("sem"))
    other = Semaphore(max_leases=2, name=sem.name)
    assert sem.acquire() and sem.acquire(timeout=1)
    assert sem.get_value() == 2
    assert other.acquire(timeout=0.1) is False
    assert sem.release() is True
    with other:
        assert other.get_value() == 2
    assert sem.get_value() == 1
    sem.release()
    with pytest.raises(RuntimeError, match="Released too often"):
        sem.release()
    sem.close()


def test_semaphore_names_conflicting_sizes(client):
    name = unique("sem")
    Semaphore(max_leases=2, name=name).register()
    with pytest.raises(ValueError, match="max_leases=2"):
        Semaphore(max_leases=3, name=name).register()


def test_semaphore_rejects_bad_size():
    with pytest.raises(ValueError, match="max_leases"):
        Semaphore(max_leases=0)


def test_multilock_takes_some_or_all(client):
    names = [unique("a"), unique("b")]
    both, one = MultiLock(names), MultiLock(names[:1])
    assert both.acquire(timeout=1) is True
    assert one.acquire(blocking=False) is False
    both.release()
    assert one.acquire(timeout=1) is True
    assert both.acquire(timeout=0.1) is False  # needs both, one is taken
    assert both.acquire(timeout=1, num_locks=1) is True
    both.release()
    one.release()
    with pytest.raises(ValueError, match="not yet acquired"):
        one.release()


# -- events ------------------------------------------------------------------
def wait_for(event, timeout):
    return event.wait(timeout=timeout)


def test_event_wakes_a_waiting_task(client):
    event = Event(unique("event"))
    assert event.wait(timeout=0.1) is False and not event.is_set()
    future = client.submit(wait_for, event, 60, pure=False)
    time.sleep(0.5)
    assert future.status == "pending"
    event.set()
    assert future.result(timeout=60) is True
    assert Event(event.name).is_set()
    event.clear()
    assert not event.is_set()
    assert event.wait(timeout="50ms") is False


# -- queues ------------------------------------------------------------------
def test_queue_put_get_in_order(client):
    queue = Queue(unique("queue"))
    for item in (1, "two", {"three": [3]}):
        queue.put(item)
    assert queue.qsize() == 3
    assert [queue.get(), queue.get(timeout=1), queue.get()] == [1, "two", {"three": [3]}]
    with pytest.raises(TimeoutError):
        queue.get(timeout=0.1)
    assert queue.get(batch=True) == []


def test_queue_batches_and_maxsize(client):
    queue = Queue(unique("queue"), maxsize=2)
    queue.put(1)
    queue.put(2)
    with pytest.raises(TimeoutError):
        queue.put(3, timeout=0.1)
    assert queue.get(batch=True) == [1, 2]
    queue.put(3)
    queue.put(4)
    assert queue.get(batch=2) == [3, 4]
    with pytest.raises(NotImplementedError):
        queue.get(batch=2, timeout=1)


def test_queue_rejects_bad_maxsize():
    with pytest.raises(ValueError, match="maxsize"):
        Queue(maxsize=-1)


def test_queue_carries_futures_and_their_data(client):
    queue = Queue(unique("queue"))
    future = client.submit(sum, [1, 2, 3])
    queue.put(future)
    queue.put([future, 7])
    got = queue.get()
    assert got.key == future.key and got.result() == 6
    nested = queue.get()
    assert nested[0].result() == 6 and nested[1] == 7


def produce(queue, n):
    from rayexec import get_client

    client = get_client()
    for i in range(n):
        queue.put(client.submit(pow, 2, i, pure=False))
    return n


def test_queue_futures_from_a_task(client):
    queue = Queue(unique("queue"))
    assert client.submit(produce, queue, 3).result(timeout=60) == 3
    assert sorted(queue.get(timeout=30).result() for _ in range(3)) == [1, 2, 4]


def fail(x):
    raise ZeroDivisionError(x)


def test_queue_carries_a_failed_future(client):
    queue = Queue(unique("queue"))
    future = client.submit(fail, 1)
    queue.put(future)
    with pytest.raises(ZeroDivisionError):
        queue.get().result()


# -- variables ------------------------------------------------------------------
def test_variable_set_get_delete(client):
    var = Variable(unique("var"))
    with pytest.raises(TimeoutError):
        var.get(timeout=0.1)
    var.set(123)
    assert var.get() == 123
    var.set([1, 2])
    assert Variable(var.name).get() == [1, 2]
    var.delete()
    with pytest.raises(TimeoutError):
        var.get(timeout="100ms")


def read_variable(var):
    return var.get(timeout=30).result() + 1


def test_variable_future_read_in_a_task(client):
    var = Variable(unique("var"))
    var.set(client.submit(pow, 2, 10))
    assert client.submit(read_variable, var).result(timeout=60) == 1025


def test_variable_get_waits_for_set(client):
    var = Variable(unique("var"))
    future = client.submit(lambda v: v.get(timeout=60), var, pure=False)
    time.sleep(0.5)
    assert future.status == "pending"
    var.set("late")
    assert future.result(timeout=60) == "late"


def test_unpicklable_value_is_refused_clearly(client):
    import threading

    with pytest.raises(TypeError, match="cannot send a RLock"):
        Variable(unique("var")).set(threading.RLock())


# -- across processes ----------------------------------------------------------------
def test_other_client_process_shares_state(client, ray_cluster):
    name = unique("shared")
    lock, queue, var = Lock(name), Queue(name), Variable(name)
    var.set(client.submit(sum, [10, 20]))
    assert lock.acquire()
    with ThreadPoolExecutor(1) as pool:
        # The session cluster runs without token authentication; tell the peer so,
        # or this process could not reach the peer's data.
        auth = {"RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
        peer = pool.submit(run_script, "coord_peer.py", ray_cluster.address, name,
                           timeout=180, env=auth)
        try:
            value = queue.get(timeout=150).result()  # the peer's own future, read here
        finally:
            Event(name).set()  # the peer may exit now
        proc = peer.result()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert value == 31, proc.stdout
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    assert lines["locked"] == "True"    # it saw the lock this process holds
    assert lines["acquired"] == "False"
    assert lines["variable"] == "30"    # and read the data of this process's future
    lock.release()


# -- asynchronous clients ---------------------------------------------------------
def test_asynchronous_client_gets_awaitables(ray_cluster):
    import asyncio

    from rayexec import Client

    async def main():
        async with Client(asynchronous=True) as client:
            name = unique("async")
            lock, event, queue = Lock(name, client=client), Event(name, client), Queue(name, client)
            assert await lock.acquire(timeout=1)
            assert await lock.locked()
            await lock.release()
            await event.set()
            assert await event.wait(timeout=1)
            await queue.put(client.submit(abs, -5))
            future = await queue.get(timeout=5)
            assert await future == 5
            var = Variable(name, client)
            await var.set("v")
            return await var.get()

    assert asyncio.run(main()) == "v"


# -- a Future rebuilt from its parts (what Future pickling can use) -------------------
def rebuild_and_read(parts):
    from rayexec.future import future_from_parts

    return future_from_parts(*parts).result() + 1


def test_future_parts_rebuild_in_a_task(client):
    from rayexec.future import future_from_parts, future_parts

    future = client.submit(pow, 3, 3)
    assert client.submit(rebuild_and_read, future_parts(future)).result(timeout=60) == 28
    again = future_from_parts(*future_parts(future), client)
    assert again._state is future._state  # the same client shares the state
    future.cancel()
    assert future_parts(future)[1:3] == (None, "cancelled")


# -- where the shared state lives, and its loss ---------------------------------------
def test_the_shared_state_lives_on_the_head(client):
    """A worker node may be retired or lost; the head lives as long as the cluster."""
    from rayexec.coordination.datasets import store
    from rayexec.coordination.named import coordinator
    from rayexec.workers.nodes import alive_workers

    Variable(unique("placed")).set(1)
    client.list_datasets()
    head = [w.node_id for w in alive_workers() if w.is_head]
    assert actor_node(coordinator()) == head[0]
    assert actor_node(store()) == head[0]


@pytest.fixture
def own_coordinator(client, monkeypatch):
    """A coordination actor of this test alone (its own name), ended after it: the
    cluster's shared one is left to the other tests and their workers."""
    import ray

    from rayexec.coordination import named

    monkeypatch.setattr(named, "ACTOR_NAME", unique("coordination-test"))
    monkeypatch.setattr(named, "_handle", None)
    yield named
    if named._handle is not None:
        ray.kill(named._handle.actor)


def test_a_killed_coordination_actor_is_reported_then_started_afresh(own_coordinator):
    import ray

    from rayexec import CoordinationLostError

    name = unique("lost")
    var, event = Variable(name), Event(name)
    var.set(1)
    event.set()
    ray.kill(own_coordinator.coordinator(), no_restart=True)
    # the set flag is gone with the actor: a wait would run out, not be answered
    with pytest.raises(CoordinationLostError, match="coordination actor died.*event_wait"):
        event.wait(timeout=5)
    assert event.wait(timeout=0.1) is False  # afresh: nothing is set
    with pytest.raises(TimeoutError):
        var.get(timeout=0.1)
    var.set(2)
    assert var.get(timeout=5) == 2
