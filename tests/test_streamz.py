"""streamz's ``streamz.dask`` on rayexec: DaskStream pipelines, and streamz's own tests.

In this process ``streamz.dask`` imports the real ``distributed.client`` only
for ``default_client``; the pipelines here hand it a rayexec client by making
one the default, exactly as a user's ``Client()`` does through the shim.
streamz's own test file runs in a subprocess with the shim on ``PYTHONPATH``.
"""

import inspect
import os
import time
from operator import add

import pytest

pytest.importorskip("streamz")

from conftest import run_library_tests_on_shim  # noqa: E402
from streamz import Stream  # noqa: E402

from rayexec import Future  # noqa: E402
from rayexec.utils_test import gen_cluster, inc, slowinc  # noqa: E402


def _uses_rayexec_default():
    # streamz.dask asks distributed.client.default_client: it must find rayexec's.
    import streamz.dask

    return streamz.dask.default_client.__module__.startswith("rayexec")


@pytest.fixture
def streamz_client(client, monkeypatch):
    """The session client, as the default client streamz.dask looks up."""
    import streamz.core
    import streamz.dask

    from rayexec import default_client

    # Outside the shim streamz imported real distributed's default_client; point
    # streamz at rayexec's, the function the shim serves under that name.
    monkeypatch.setattr(streamz.dask, "default_client", default_client)
    monkeypatch.setattr(streamz.core, "_dask_default_client", default_client)
    assert _uses_rayexec_default()
    return client


def wait_for_length(items, n, timeout=60):
    deadline = time.monotonic() + timeout
    while len(items) < n:
        assert time.monotonic() < deadline, f"only {len(items)} of {n} results arrived"
        time.sleep(0.01)


def interval(x, delay):
    """Sleep ``delay`` seconds; ``(x + 1, start, end)`` with wall-clock times."""
    start = time.time()
    time.sleep(delay)
    return x + 1, start, time.time()


def wait_for_free_cpus(n, timeout=60):
    """Ray's free CPUs once ``n`` are free (what is free after ``timeout`` if not)."""
    import ray

    deadline = time.monotonic() + timeout
    while (free := ray.available_resources().get("CPU", 0)) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    return free


def most_overlapping(intervals):
    """The largest number of intervals open at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


# -- synchronous pipelines (the user's Client() and source.emit) ---------------------


def test_scatter_map_buffer_gather_sink(streamz_client):
    source = Stream()
    futures = source.scatter().map(inc)
    seen = futures.sink_to_list()
    results = []
    futures.buffer(8).gather().sink(results.append)
    for i in range(20):
        source.emit(i)
    wait_for_length(results, 20)
    assert results == [i + 1 for i in range(20)]
    assert all(isinstance(f, Future) for f in seen)
    assert source.loop is streamz_client.loop


def test_buffer_runs_slow_tasks_in_parallel(streamz_client):
    # Two CPUs in the test cluster: with a buffer, tasks must run two at a time.
    # First two worker processes, as a distributed cluster has its two threads:
    # Ray starts a process when a task first needs it, which on a loaded machine
    # took longer than these six tasks, run one after another by the one process.
    # Both CPUs free first: an earlier test's work may still hold one for a moment.
    free_cpus = wait_for_free_cpus(2)
    streamz_client.gather(streamz_client.map(time.sleep, [0.5, 0.5], pure=False))
    source = Stream()
    results = source.scatter().map(interval, delay=0.5).buffer(8).gather().sink_to_list()
    for i in range(6):
        source.emit(i)
    wait_for_length(results, 6)
    assert [r[0] for r in results] == [i + 1 for i in range(6)]
    assert most_overlapping([(s, e) for _, s, e in results]) >= 2, (
        free_cpus, [(s, e) for _, s, e in results])


def test_without_buffer_gather_applies_back_pressure(streamz_client):
    # gather holds each element until its result is back, so emit waits for the
    # pipeline: after each emit, at most one element is still in flight.
    source = Stream()
    results = source.scatter().map(slowinc, delay=0.1).gather().sink_to_list()
    for i in range(6):
        source.emit(i)
        assert len(results) >= i  # emit i returned: elements before it are through
    wait_for_length(results, 6)
    assert results == [i + 1 for i in range(6)]


def test_buffer_bounds_elements_in_flight(streamz_client):
    source = Stream()
    results = source.scatter().map(slowinc, delay=0.2).buffer(2).gather().sink_to_list()
    in_flight = []
    for i in range(8):
        source.emit(i)
        in_flight.append(i + 1 - len(results))
    wait_for_length(results, 8)
    assert results == [i + 1 for i in range(8)]
    # two in the buffer, one held by gather, one being handed over
    assert max(in_flight) <= 4


def test_accumulate(streamz_client):
    source = Stream()
    results = source.scatter().map(inc).accumulate(add).gather().sink_to_list()
    for i in range(5):
        source.emit(i)
    wait_for_length(results, 5)
    assert results == [1, 3, 6, 10, 15]


def test_accumulate_returns_state(streamz_client):
    def running_mean(state, x):
        total, count = state
        return (total + x, count + 1), (total + x) / (count + 1)

    source = Stream()
    results = (source.scatter().accumulate(running_mean, start=(0, 0), returns_state=True)
               .gather().sink_to_list())
    for x in (2, 4, 6):
        source.emit(x)
    wait_for_length(results, 3)
    assert results == [2.0, 3.0, 4.0]


def test_zip_of_two_dask_streams(streamz_client):
    left, right = Stream(), Stream()
    results = left.scatter().map(inc).zip(right.scatter()).gather().sink_to_list()
    left.emit(1)
    right.emit("a")
    left.emit(2)
    right.emit("b")
    wait_for_length(results, 2)
    assert results == [(2, "a"), (3, "b")]


def test_starmap(streamz_client):
    def combine(x, y, z=0):
        return x * y + z

    source = Stream()
    results = source.scatter().starmap(combine, z=1).gather().sink_to_list()
    for i in range(4):
        source.emit((i, i))
    wait_for_length(results, 4)
    assert results == [1, 2, 5, 10]


def test_filter_on_a_dask_stream_sees_futures(streamz_client):
    # On a DaskStream, filter is streamz's own (as with distributed): its predicate
    # gets the futures, on the client's loop, and what passes is a plain stream of
    # futures.  There, as with distributed, future.result() is an awaitable.
    source = Stream()
    results_on_the_loop = []

    def is_a_future(future):
        pending = future.result()
        results_on_the_loop.append(inspect.isawaitable(pending))
        pending.close()
        return isinstance(future, Future)

    kept = source.scatter().map(inc).filter(is_a_future).sink_to_list()
    for i in range(6):
        source.emit(i)
    wait_for_length(kept, 6)
    assert all(isinstance(f, Future) for f in kept)
    assert [f.result() for f in kept] == [1, 2, 3, 4, 5, 6]
    assert results_on_the_loop == [True] * 6


def test_filter_after_gather(streamz_client):
    source = Stream()
    results = source.scatter().map(inc).gather().filter(lambda x: x > 3).sink_to_list()
    for i in range(6):
        source.emit(i)
    wait_for_length(results, 2)
    assert results == [4, 5, 6]


def test_failed_task_raises_at_gather(streamz_client):
    source = Stream()
    source.scatter().map(lambda x: 1 / x).gather().sink_to_list()
    with pytest.raises(ZeroDivisionError):
        source.emit(0)


# -- coroutine pipelines (the asynchronous client, through gen_cluster) ---------------


@gen_cluster(client=True)
async def test_async_pipeline_in_gen_cluster(c, s, a, b, streamz_client):
    source = Stream(asynchronous=True)
    results = source.scatter().map(inc).buffer(4).gather().sink_to_list()
    for i in range(5):
        await source.emit(i)
    while len(results) < 5:
        import asyncio

        await asyncio.sleep(0.01)
    assert results == [1, 2, 3, 4, 5]
    assert source.loop is c.loop


# -- streamz's own test suite, through the shim --------------------------------------


def test_streamz_own_dask_tests_pass_on_the_shim(tmp_path):
    import streamz.tests

    tests = [os.path.join(os.path.dirname(streamz.tests.__file__), "test_dask.py")]
    counts = run_library_tests_on_shim(tmp_path, tests, "asyncio: streamz's mark")
    assert counts.get("passed", 0) >= 14, counts
