"""Single calls on executor actors (rayexec.workers.executor_actors), on the real Ray."""

import os
import signal
import time

import dask
import pytest
from conftest import actor_node

import rayexec
from rayexec import KilledWorker

_state = {}


def where(_=None):
    """The executor actor running this call, or None in a Ray task."""
    import ray

    return ray.get_runtime_context().get_actor_id()


def remember(value):
    _state["value"] = value
    return where()


def recall():
    return _state.get("value")


def inc(x):
    return x + 1


def slow(seconds):
    time.sleep(seconds)
    return seconds


def die_once(marker):
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return where()


def die_always():
    os.kill(os.getpid(), signal.SIGKILL)


def _on_actor(client, timeout=120):
    """Submit until a call lands on an actor (the first ones are tasks while the
    actors start), then wait until every actor is up (until then a call finding
    no idle actor is a task); the actor id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        actor = client.submit(where, pure=False).result(timeout=60)
        if actor is not None:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("no call ran on an executor actor")
    while time.monotonic() < deadline:
        slots = client._executors._slots
        if slots and all(slot.ready for slot in slots):
            return actor
        time.sleep(0.1)
    raise AssertionError("the executor actors did not all start")


def test_single_calls_run_on_actors_with_futures_as_arguments(client):
    _on_actor(client)
    x = client.submit(inc, 1)
    y = client.submit(inc, x)
    z = client.submit(sum, [x, y, 10])  # a nested future
    assert z.result(timeout=60) == 15
    assert client.gather(client.map(inc, range(20), batch_size=1)) == list(range(1, 21))
    assert any(a is not None for a in client.gather(client.map(where, range(10),
                                                               batch_size=1, pure=False)))


def test_each_actor_runs_on_the_node_it_serves(client):
    # one actor per CPU of each node: an actor elsewhere would crowd one node and
    # leave another idle, and processing() would name the wrong worker
    _on_actor(client)
    for slot in client._executors._slots:
        assert actor_node(slot.handle) == slot.node_id


def test_errors_come_home_as_the_users_exception(client):
    _on_actor(client)
    future = client.submit(inc, "a")
    with pytest.raises(TypeError, match="str"):
        future.result(timeout=60)
    assert future.status == "error"
    assert client.submit(inc, 1).result(timeout=60) == 2  # the actor lives on


def test_calls_with_placement_or_retries_stay_tasks(client):
    _on_actor(client)
    assert client.submit(where, resources={"special": 1}, pure=False).result(60) is None
    assert client.submit(where, retries=1, pure=False).result(60) is None


def test_config_switches_the_actors_off(client):
    with dask.config.set({"rayexec.executor-actors": False}):
        results = [client.submit(where, i).result(timeout=60) for i in range(5)]
    assert results == [None] * 5


def test_a_full_actor_queue_overflows_into_tasks(client):
    _on_actor(client)
    with dask.config.set({"rayexec.executor-queue": 1}):
        futures = client.map(slow, [0.2] * 6, pure=False, batch_size=1)
        places = client.gather(client.map(where, range(30), pure=False, batch_size=1))
        client.gather(futures)
    assert None in places  # tasks took what the actors had no room for


def test_worker_killed_mid_call_runs_it_again(client, tmp_path):
    _on_actor(client)
    future = client.submit(die_once, str(tmp_path / "died"), pure=False)
    assert future.result(timeout=180) is not None  # ran on a (restarted) actor
    assert future.status == "finished"
    assert client.submit(inc, 41, pure=False).result(timeout=60) == 42


def test_call_that_always_kills_its_worker_ends_in_error(client):
    _on_actor(client)
    future = client.submit(die_always, pure=False)
    with pytest.raises(KilledWorker, match="died"):
        future.result(timeout=240)
    assert client.submit(inc, 1, pure=False).result(timeout=60) == 2


def test_cancel_a_queued_call(client):
    _on_actor(client)
    blockers = [client.submit(slow, 1.0, pure=False) for _ in range(4)]
    queued = client.submit(slow, 0.5, pure=False)
    client.cancel(queued)
    assert queued.status == "cancelled"
    with pytest.raises(rayexec.CancelledError):
        queued.result(timeout=10)
    assert client.gather(blockers) == [1.0] * 4


def test_restart_gives_fresh_actors(client):
    first = _on_actor(client)
    assert client.submit(remember, "kept", pure=False).result(60) is not None
    client.restart()
    second = _on_actor(client)
    assert second != first
    values = {client.submit(recall, pure=False).result(60) for _ in range(6)}
    assert "kept" not in values  # no process of before the restart runs calls


def test_calls_queue_behind_running_ones_only_once_every_actor_is_up(client):
    # A quick call queued behind a long one on the only ready actor would wait for
    # it while a CPU is free; until every actor is up it runs as a Ray task.
    from rayexec.workers.executor_actors import ExecutorPool, _Slot

    pool = ExecutorPool(runtime_env={})
    busy, starting = _Slot(None, "node-a"), _Slot(None, "node-b")
    busy.ready, busy.in_flight = True, 1
    pool._slots = [busy, starting]
    assert pool._choose() is None

    starting.ready = True
    assert pool._choose() is starting  # the idle one first
    assert pool._choose() in (busy, starting)  # all up and busy: calls queue
    assert busy.in_flight + starting.in_flight == 3


def wait_for_file(path, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    return path


def test_calls_sent_to_actors_are_processing_at_once_queued_or_running(client, tmp_path):
    # distributed counts a task handed to a worker as processing there, queued or
    # running; Ray's events never show a call queued in an actor, and show a
    # running one only some 0.1 s later
    _on_actor(client)
    actors = len(client._executors._slots)
    flag = str(tmp_path / "go")
    futures = [client.submit(wait_for_file, flag, pure=False) for _ in range(actors + 1)]
    try:
        processing = client.processing()
        assert {k for keys in processing.values() for k in keys} == {f.key for f in futures}
        assert set(processing) == set(client.scheduler_info()["workers"])
    finally:
        open(flag, "w").close()
    client.gather(futures)
    assert not any(client.processing().values())


def start_then_wait_for_file(started, go):
    open(started, "w").close()
    return wait_for_file(go)


def test_a_ray_task_that_just_started_is_processing(client, tmp_path):
    # retries= makes the call a Ray task, which Ray's events show running only one
    # report later; processing() must not miss it in the meantime
    started, go = str(tmp_path / "started"), str(tmp_path / "go")
    future = client.submit(start_then_wait_for_file, started, go, retries=1, pure=False)
    try:
        wait_for_file(started)
        processing = client.processing()
        assert [future.key] == [k for keys in processing.values() for k in keys], processing
    finally:
        open(go, "w").close()
    future.result()
