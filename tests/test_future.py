"""Future: status, result, exception, traceback, cancel, release, callbacks, await."""

import asyncio
import threading
import time
import traceback

import pytest

from rayexec import CancelledError, Future, TimeoutError, wait


def inc(x):
    return x + 1


def div(x, y):
    return x / y


def slow_inc(x, delay):
    time.sleep(delay)
    return x + 1


class Box:
    def __init__(self, future):
        self.future = future


def read_box(box):
    return box.future.result() + 1


def test_status_moves_from_pending_to_finished(client):
    future = client.submit(time.sleep, 0.5, pure=False)
    assert future.status == "pending"
    assert not future.done()
    future.result()
    assert future.status == "finished"
    assert future.done()


def test_result_timeout(client):
    future = client.submit(time.sleep, 3, pure=False)
    with pytest.raises(TimeoutError):
        future.result(timeout=0.1)
    client.cancel(future)


def test_error_keeps_type_and_user_traceback(client):
    future = client.submit(div, 1, 0)
    with pytest.raises(ZeroDivisionError):
        future.result()
    assert future.status == "error"
    assert isinstance(future.exception(), ZeroDivisionError)
    frames = traceback.extract_tb(future.traceback())
    assert frames[-1].name == "div"
    assert frames[-1].filename == __file__
    assert "return x / y" in frames[-1].line


def test_raised_traceback_shows_user_line(client):
    future = client.submit(div, 1, 0)
    try:
        future.result()
    except ZeroDivisionError as exc:
        text = "".join(traceback.format_exception(exc))
    assert "return x / y" in text


def test_failed_dependency_fails_with_same_exception(client):
    bad = client.submit(div, 1, 0)
    dependent = client.submit(inc, bad)
    with pytest.raises(ZeroDivisionError):
        dependent.result()
    assert dependent.status == "error"
    nested = client.submit(sum, [bad])
    with pytest.raises(ZeroDivisionError):
        nested.result()


def test_exception_of_success_is_none(client):
    future = client.submit(inc, 1)
    assert future.exception() is None
    assert future.traceback() is None


def test_cancel(client):
    future = client.submit(time.sleep, 5, pure=False)
    future.cancel()
    assert future.status == "cancelled"
    assert future.cancelled()
    with pytest.raises(CancelledError):
        future.result()


def test_release_frees_the_handle(client):
    future = client.submit(inc, 1, key="released-key")
    future.result()
    future.release()
    # the completion callback may still hold the state for a moment after result()
    deadline = time.monotonic() + 5
    while "released-key" in client._states and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "released-key" not in client._states


def test_another_handle_on_a_key(client):
    future = client.submit(inc, 1)
    assert Future(future.key, client).result() == 2


def test_done_callback_gets_the_future_on_another_thread(client):
    got = []
    event = threading.Event()

    def callback(f):
        got.append((f, threading.current_thread()))
        event.set()

    future = client.submit(inc, 5)
    future.add_done_callback(callback)
    assert event.wait(30)
    assert got[0][0] is future
    assert got[0][1] is not threading.main_thread()


def test_await(client):
    future = client.submit(inc, 1)

    async def main():
        return await future

    assert asyncio.run(main()) == 2


class Point:
    def __init__(self, x):
        self.x = x


def make_local_class_instance():
    class Local:
        pass

    return Local()


def test_type_is_the_type_object_without_fetching_the_value(client):
    import numpy as np

    futures = {
        int: client.submit(inc, 1),
        Point: client.submit(Point, 1),
        np.ndarray: client.submit(np.arange, 3),
        dict: client.scatter([{"a": 1}])[0],
    }
    wait(list(futures.values()))
    for kind, future in futures.items():
        assert future.type is kind, (future, future.type)
    read = client.submit(Point, 2)
    read.result()  # reading the value may settle the state before the receipt does
    assert read.type is Point
    batch = client.map(Point, range(20), batch_size=5)
    wait(batch)
    assert {f.type for f in batch} == {Point}
    assert repr(futures[np.ndarray]).startswith("<Future: finished, type: numpy.ndarray,")
    local = client.submit(make_local_class_instance)
    wait(local)
    assert local.type is None  # a class inside a function has no importable name
    assert f"type: test_future.Local, key: {local.key}>" in repr(local)


def test_repr(client):
    future = client.submit(inc, 1)
    future.result()
    assert repr(future) == f"<Future: finished, type: int, key: {future.key}>"
    bad = client.submit(div, 1, 0)
    wait(bad)
    assert repr(bad) == f"<Future: error, key: {bad.key}>"


def test_future_travels_inside_task_data(client):
    import pickle

    x = client.submit(inc, 1)
    rebuilt = pickle.loads(pickle.dumps(x))
    assert rebuilt.key == x.key and rebuilt.result() == 2

    # inside an object the client does not look into, the Future itself travels and
    # is rebuilt on the worker's own client
    assert client.submit(read_box, Box(x), pure=False).result() == 3


def frame_names(exc):
    return [frame.f_code.co_name for frame, _ in traceback.walk_tb(exc.__traceback__)]


@pytest.mark.parametrize("settled", [False, True])
def test_short_tracebacks_show_the_users_frames(client, settled):
    # As distributed's tests ask: the caller, the method called, the user's function.
    me = "test_short_tracebacks_show_the_users_frames"
    for method in ("result", "gather", "gather list"):
        bad = client.submit(div, 1, 0, pure=False)
        if settled:  # the failure known before the call, or found by it
            wait([bad])
        with pytest.raises(ZeroDivisionError) as caught:
            if method == "result":
                bad.result()
            elif method == "gather":
                client.gather(bad)
            else:
                client.gather([bad])
        assert frame_names(caught.value) == [me, method.split()[0], "div"]


def long_error(n):
    raise ValueError("a" * n)


def test_long_exception_messages_are_cut_as_distributed_cuts_them(client):
    bad = client.submit(long_error, 100_000)
    with pytest.raises(ValueError) as caught:
        bad.result()
    assert caught.value.args == ("Long error message", "a" * 10_000)
    assert 'raise ValueError("a" * n)' in traceback.format_tb(bad.traceback())[-1]
    short = client.submit(long_error, 10)
    with pytest.raises(ValueError, match="^a{10}$"):
        short.result()


def test_cancelling_a_future_cancels_its_dependents(client):
    x = client.submit(slow_inc, 1, 0.5, pure=False)
    y = client.submit(slow_inc, x, 0.5, pure=False)
    z = client.submit(slow_inc, y, 0.5, pure=False)
    client.cancel([y])
    wait([z], timeout=60)
    assert z.cancelled()
    with pytest.raises(CancelledError):
        z.result()
    assert x.result() == 2


def test_timeouts_take_distributeds_forms(client):
    slow = client.submit(slow_inc, 1, 1.0, pure=False)
    with pytest.raises(TimeoutError):
        slow.result(timeout="10 ms")
    with pytest.raises(TimeoutError):
        slow.exception(timeout="10ms")
    assert slow.result(timeout="60s") == 2
    with pytest.raises(TypeError, match="a timeout is seconds, a timedelta or a string"):
        slow.result(timeout=[1])


def test_a_future_prints_as_its_repr_with_status(client):
    # a dask TaskRef prints as its bare key; distributed's Future prints its repr
    future = client.submit(sum, [1, 2])
    future.result()
    assert str(future) == repr(future) and str(future).startswith("<Future: finished")
