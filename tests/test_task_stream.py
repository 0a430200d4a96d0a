"""get_task_stream: distributed's task-stream records, from Ray's task events."""

import time

import pytest

from rayexec import get_task_stream


def inc(x):
    return x + 1


def test_records_have_distributed_shape_and_function_names(client):
    start = time.time()
    futures = client.map(inc, range(3), pure=False, batch_size=1)
    client.gather(futures)
    records = client.get_task_stream(start=start)
    keys = {r["key"] for r in records}
    assert {f.key for f in futures} <= keys  # one task per key: the task is named by it
    workers = set(client.scheduler_info()["workers"])
    for r in records:
        assert r["status"] == "OK" and r["worker"] in workers
        actions = [s["action"] for s in r["startstops"]]
        assert "compute" in actions and set(actions) <= {"compute", "transfer"}
        for s in r["startstops"]:
            assert start - 1 <= s["start"] <= s["stop"] <= time.time()


def test_failed_tasks_have_status_error(client):
    start = time.time()
    future = client.submit(lambda: 1 / 0, key="stream-fail")
    with pytest.raises(ZeroDivisionError):
        future.result()
    (record,) = [r for r in client.get_task_stream(start=start) if r["key"] == "stream-fail"]
    assert record["status"] == "error"


def test_batched_map_and_graph_tasks_carry_their_prefixes(client):
    import dask.array as da
    from dask.utils import key_split

    start = time.time()
    client.gather(client.map(inc, range(20), batch_size=10))
    names = {r["key"] for r in client.get_task_stream(start=start)}
    assert names == {"inc"}  # a batch of map elements is named by its function

    start = time.time()
    x = da.ones((60, 60), chunks=(10, 10)).sum()
    graph_keys = {str(k) for k in dict(x.__dask_graph__())}
    prefixes = {key_split(k) for k in graph_keys}
    assert int(x.compute()) == 3600
    names = {r["key"] for r in client.get_task_stream(start=start)}
    assert names
    for name in names:  # a one-key part shows its key, a larger one its prefixes
        for part in [name] if str(name) in graph_keys else name.split(","):
            # dask adds a final step to the graph, named after the last key
            assert key_split(part) in prefixes or "finalize" in part, (name, prefixes)


def test_start_stop_count(client):
    client.submit(inc, 100).result()
    middle = time.time()
    client.submit(inc, 200).result()
    later = client.get_task_stream(start=middle)
    assert [r for r in later if r["key"] == client.submit(inc, 200).key]
    assert not [r for r in later if r["key"] == client.submit(inc, 100).key]
    assert len(client.get_task_stream(count=1)) == 1
    assert client.get_task_stream(start="1h", count=0) == []
    with pytest.raises(ValueError, match="count"):
        client.get_task_stream(count=-1)
    with pytest.raises(TypeError, match="start and stop"):
        client.get_task_stream(start=[1])


def test_context_manager_collects_the_block(client, tmp_path):
    client.submit(inc, 1, key="before-block").result()
    with get_task_stream(client) as ts:
        client.submit(inc, 2, key="inside-block").result()
    keys = {r["key"] for r in ts.data}
    assert "inside-block" in keys and "before-block" not in keys
    path = tmp_path / "stream.html"
    with get_task_stream(plot="save", filename=str(path)) as ts:  # the default client
        client.submit(inc, 3, key="plotted").result()
    assert ts.figure is not None and "plotted" in path.read_text()


def test_shim_serves_get_task_stream():
    from rayexec.diagnostics import task_stream

    assert get_task_stream is task_stream.get_task_stream


def test_ray_names_tasks_by_prefix_and_the_stream_still_tells_their_keys(client):
    # Ray keeps metrics per task name for a process's life: a name per key grew
    # every client without bound.  Released futures' keys stay in the stream.
    from rayexec.diagnostics import ray_tasks

    start = time.time()
    futures = [client.submit(inc, i, pure=False, key=f"named-by-prefix-{i}") for i in range(3)]
    keys = {f.key for f in futures}
    client.gather(futures)
    del futures
    deadline = time.time() + 30
    while time.time() < deadline:
        stream = {r["key"] for r in client.get_task_stream(start=start)}
        if keys <= stream:
            break
        time.sleep(0.5)
    assert keys <= stream
    names = {t.name for t in ray_tasks.tasks() if t.states.get("RUNNING", 0) >= start - 1}
    assert "named-by-prefix" in names
    assert not names & keys


def test_naming_a_graphs_tasks_leaves_dasks_key_split_cache_alone(client):
    # Each graph's keys are new: caching their prefixes filled dask's cache of
    # 100,000 keys in the client (about 20 MB) and made every lookup a miss.
    import dask.array as da
    from dask.utils import key_split

    x = da.ones((40, 40), chunks=(4, 4))  # 100 chunks, some 250 tasks in all
    before = key_split.cache_info().misses
    assert client.compute((x + 1).sum()).result() == 3200
    # dask's own lookups while building and optimising the graph: about 10.
    assert key_split.cache_info().misses - before < 50


def test_the_stream_records_from_the_first_time_it_is_asked_for(client, monkeypatch):
    # distributed: "the task stream diagnostic does not run by default. You may wish
    # to call this function once before you start work to ensure that things start
    # recording, and then again after you have completed."
    from rayexec.diagnostics import task_stream

    monkeypatch.setattr(task_stream, "_recording_since", None)
    before = client.map(inc, range(3), pure=False, batch_size=1)
    client.gather(before)
    first = {r["key"] for r in client.get_task_stream()}
    after = client.map(inc, range(3), pure=False, batch_size=1)
    client.gather(after)
    second = {r["key"] for r in client.get_task_stream()}
    assert not first & {f.key for f in before}
    assert {f.key for f in after} <= second and not second & {f.key for f in before}
