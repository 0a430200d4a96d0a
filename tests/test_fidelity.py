"""Behaviours distributed's own test suite expects of its public API, checked on
rayexec: each was found by running that suite through the shim
(``tests/scripts/distributed_suite.py``)."""

import asyncio
import http.server
import socket
import threading
import time

import pytest
from test_actors import Counter

from rayexec import Client, get_worker
from rayexec.diagnostics.progressbar import TextProgressBar, progress
from rayexec.workers.plugins import UploadDirectory


def inc(x):
    return x + 1


def div(x, y):
    return x / y


async def async_inc(x):
    await asyncio.sleep(0.01)
    return x + 1


def test_run_awaits_a_coroutine_function(client):
    results = client.run(async_inc, 2)
    assert results and set(results.values()) == {3}


def test_recreate_error_locally_runs_the_failed_task_here(client):
    zero = client.submit(inc, -1)
    failed = client.submit(div, 1, zero)
    downstream = client.submit(sum, [failed, client.submit(inc, 1)])
    with pytest.raises(ZeroDivisionError):
        downstream.result()
    with pytest.raises(ZeroDivisionError) as info:
        client.recreate_error_locally(downstream)  # leads back to div(1, 0)
    # raised here, by the user's own function: the traceback ends in it
    assert info.traceback[-1].name == "div"
    assert downstream.status == "error"
    with pytest.raises(ValueError, match="No errored futures passed"):
        client.recreate_error_locally(client.submit(inc, 1))


def test_recreate_task_locally_gives_the_result_computed_here(client):
    x, y = client.submit(inc, 1), client.submit(inc, 2)
    assert client.recreate_task_locally(client.submit(sum, [x, y])) == 5
    mapped = client.map(inc, range(3))  # batched map: each element has its call
    assert [client.recreate_task_locally(f) for f in mapped] == [1, 2, 3]


@pytest.fixture
def http_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_address_where_something_else_answers_is_not_a_cluster(http_server):
    # an open port is not a Ray cluster: say so at once, not after ray.init's retries
    with pytest.raises(OSError, match="connect.*not a Ray cluster"):
        Client(http_server, timeout=5)


def test_an_address_nothing_listens_on():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError, match="cannot connect"):
        Client(f"127.0.0.1:{port}", timeout=1)


def test_direct_to_workers_as_distributed_reports_it(client):
    from rayexec import get_client

    assert not client.direct_to_workers  # as asked (nothing): distributed's default
    # a task's client, as a distributed worker's, goes to the workers directly
    assert client.submit(lambda: get_client().direct_to_workers, pure=False).result() is True


def test_worker_knows_its_scheduler(client):
    assert client.submit(lambda: get_worker().scheduler.address).result().startswith("tcp://")


def test_datasets_are_not_async_iterable_on_a_sync_client(client):
    client.publish_dataset(fidelity_x=client.scatter(1))
    try:
        assert "fidelity_x" in list(client.datasets)
        with pytest.raises(TypeError, match="asynchronous client"):
            client.datasets.__aiter__()
    finally:
        client.unpublish_dataset("fidelity_x")


def test_upload_directory_checks_its_mode(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        UploadDirectory(str(tmp_path), mode="invalid")


def _final_bar(out: str) -> str:
    # distributed's bar: "\r[###...] | 100% Completed | 0.1s", then the line cleared
    return out.split("\r")[-2]


def test_progress_draws_distributeds_text_bar(client, capsys):
    futures = client.map(inc, range(5))
    progress(futures, notebook=False)
    bar, percent, _elapsed = (part.strip() for part in _final_bar(capsys.readouterr().out)
                              .split("|"))
    assert bar == "[" + "#" * 40 + "]" and percent == "100% Completed"


def test_text_progress_bar_reports_a_failure(client, capsys):
    failing = client.submit(div, 1, 0)
    p = TextProgressBar([failing], interval=0.01)
    assert p.status == "error"
    # as distributed answers: the failed task remains, with its exception and key
    response = dict(p._last_response)
    assert isinstance(response.pop("exception"), ZeroDivisionError)
    assert response == {"all": 1, "remaining": 1, "status": "error", "key": failing.key}
    assert p.comm.closed()


def test_text_progress_bar_stops_listening_when_done(client, capsys):
    # distributed's bar closes its scheduler connection; rayexec's leaves no
    # callback on the futures it watched
    futures = client.map(inc, range(3))
    p = TextProgressBar(futures, interval=0.01)
    assert p.status == "finished" and p.comm.closed()
    assert all(not f._state._callbacks for f in futures)


def test_a_released_future_leaves_client_futures_while_its_task_runs(client):
    from rayexec import Event

    event = Event()
    x = client.submit(lambda ev: ev.wait(), event)
    key = x.key
    assert key in client.futures
    x.release()
    del x
    deadline = time.monotonic() + 15
    while key in client.futures:
        assert time.monotonic() < deadline, "a released pending key stayed in client.futures"
        time.sleep(0.05)
    event.set()


def test_gather_raises_the_first_failure_without_waiting_for_the_rest(client):
    from rayexec import Event

    event = Event()
    blocked = client.submit(lambda ev: ev.wait(), event)
    failing = client.submit(div, 1, 0)
    try:
        with pytest.raises(ZeroDivisionError):
            client.gather([failing, blocked])
        assert not blocked.done()
    finally:
        event.set()


def test_compute_with_actors_hands_tasks_the_actor(client):
    import dask

    from rayexec import Actor

    @dask.delayed
    def bump(n, counter):
        assert isinstance(counter, Actor), type(counter)
        for _ in range(n):
            counter.increment().result()

    @dask.delayed
    def read(counter, _after):
        return counter.n

    counter = dask.delayed(Counter)()
    total = read(counter, [bump(i, counter) for i in range(4)])
    assert total.compute(actors=counter) == 0 + 1 + 2 + 3
    with pytest.raises(NotImplementedError, match="actors=True"):
        total.compute(actors=True)


def test_a_waited_on_state_outlives_its_dropped_futures(client):
    # the executor's concurrent.futures handle is settled by a callback on the
    # state, while the rayexec Future behind it is held only weakly
    import gc

    with client.get_executor(pure=False) as executor:
        handle = executor.submit(time.sleep, 0.3)
        gc.collect()
        assert handle.result(timeout=60) is None


def _throws(_):
    raise RuntimeError("hello")


def test_get_raises_early_and_forgets_its_keys(client):
    from rayexec import Event

    event = Event()
    try:
        with pytest.raises(RuntimeError, match="hello"):
            client.get({"x": (_throws, 1), "y": (lambda ev: ev.wait(), event)}, ["x", "y"])
        assert "x" not in client.futures and "y" not in client.futures
    finally:
        event.set()


class Waiter:
    """An actor holding an event made before its event loop runs."""

    def __init__(self):
        from distributed.utils import LateLoopEvent

        self.event = LateLoopEvent()

    async def set(self):
        self.event.set()

    async def wait(self):
        return await self.event.wait()


def test_an_actor_waits_on_a_late_loop_event_and_its_future_times_out(client):
    waiter = client.submit(Waiter, actor=True).result()
    waited = waiter.wait()
    with pytest.raises(asyncio.TimeoutError):
        waited.result(timeout="0.001s")
    waiter.set().result(timeout=30)  # on an actor running one call at a time: waits for ever
    assert waited.result(timeout=30) is True
