"""The rest of distributed's Client: replicate, rebalance, nbytes, versions, metadata,
events, as_current, scheduler files, and clear errors for what Ray does elsewhere.
"""

import uuid

import numpy as np
import pytest

from rayexec import Client, get_client
from rayexec.workers.placement import PlacementError


@pytest.fixture
def addresses(client):
    return sorted(client.nthreads())


def test_replicate_copies_data_onto_every_worker(client, addresses):
    big = client.scatter(np.arange(500_000), workers=[addresses[0]])
    assert client.who_has([big])[big.key] == [addresses[0]]
    client.replicate([big])
    assert sorted(client.who_has([big])[big.key]) == addresses
    assert client.submit(np.sum, big, workers=[addresses[1]]).result() == big.result().sum()


def test_replicate_to_n_workers_and_bad_input(client, addresses):
    big = client.scatter(np.ones(400_000), workers=[addresses[1]])
    client.replicate([big], n=1)  # already on one worker: nothing to copy
    assert client.who_has([big])[big.key] == [addresses[1]]
    client.replicate([client.scatter(3)])  # small: travels with tasks, nothing to copy
    with pytest.raises(ValueError, match="n of at least 1"):
        client.replicate([big], n=0)
    with pytest.raises(PlacementError):
        client.replicate([big], workers=["tcp://10.255.255.1:1"])


def test_rebalance_checks_its_arguments(client):
    assert client.rebalance() is None
    with pytest.raises(PlacementError):
        client.rebalance(workers=["tcp://10.255.255.1:1"])


def test_nbytes_per_key_and_per_prefix(client):
    array = client.scatter(np.zeros(100_000))  # 800 KB
    small = client.submit(sum, [1, 2])
    small.result()
    sizes = client.nbytes(summary=False)
    assert sizes[array.key] >= 800_000 and sizes[small.key] > 0
    summary = client.nbytes()
    assert summary["ndarray"] >= 800_000 and "sum" in summary
    assert set(client.nbytes([small.key], summary=False)) == {small.key}


def test_nbytes_of_small_results_is_their_sizeof(client):
    # distributed measures values with dask's sizeof, and so does rayexec where
    # the value is in the client's memory (what Ray keeps of results under 100 KB)
    from dask.sizeof import sizeof

    incs = client.map(lambda x: x + 1, [1, 2, 3], key=["inc-1", "inc-2", "inc-3"])
    words = client.submit(lambda: ["a"] * 50, key="words-1")
    client.gather(incs + [words])
    assert client.nbytes(keys=[f.key for f in incs] + [words.key], summary=False) == {
        "inc-1": sizeof(2), "inc-2": sizeof(3), "inc-3": sizeof(4),
        "words-1": sizeof(["a"] * 50)}
    assert client.nbytes(keys=[f.key for f in incs]) == {"inc": 3 * sizeof(1)}


def test_get_versions_reports_every_place(client):
    versions = client.get_versions(check=True, packages=["numpy"])
    assert set(versions) == {"client", "scheduler", "workers"}
    assert set(versions["workers"]) == set(client.nthreads())
    packages = versions["client"]["packages"]
    assert packages["ray"] and packages["dask"] and packages["numpy"]
    assert versions["workers"][next(iter(versions["workers"]))]["packages"] == packages


def test_metadata_nested_with_defaults(client):
    root = f"run-{uuid.uuid4().hex}"
    client.set_metadata([root, "step"], 3)
    client.set_metadata([root, "name"], "x")
    assert client.get_metadata([root, "step"]) == 3
    assert client.get_metadata(root) == {"step": 3, "name": "x"}
    assert client.get_metadata([root, "absent"], default=None) is None
    with pytest.raises(KeyError):
        client.get_metadata([root, "absent"])


def test_events_by_topic(client):
    topic = f"loads-{uuid.uuid4().hex}"
    client.log_event(topic, {"file": "a.csv"})
    client.log_event([topic, topic + "-copy"], "second")
    events = client.get_events(topic)
    assert [message for _, message in events] == [{"file": "a.csv"}, "second"]
    assert events[0][0] <= events[1][0]
    assert [m for _, m in client.get_events()[topic + "-copy"]] == ["second"]


def test_as_current_is_scoped(client):
    other = Client(set_as_default=False)
    try:
        assert get_client() is client
        with other.as_current():
            assert get_client() is other
        assert get_client() is client
    finally:
        other.close()


def test_as_current_makes_dask_compute_on_it_over_its_configuration(client):
    import dask

    other = Client(set_as_default=False)
    try:
        with dask.config.set(scheduler="threads"):
            assert dask.base.get_scheduler() is dask.threaded.get
            with other.as_current():
                assert dask.base.get_scheduler() == other.get
            assert dask.base.get_scheduler() is dask.threaded.get
    finally:
        other.close()


def test_scheduler_file_round_trip(client, tmp_path):
    path = str(tmp_path / "scheduler.json")
    client.write_scheduler_file(path)
    with Client(scheduler_file=path, set_as_default=False) as other:
        assert other.submit(abs, -2).result() == 2


def test_futures_of_as_a_method(client):
    future = client.submit(abs, -1)
    assert client.futures_of([1, {"a": future}]) == [future]


def test_methods_ray_does_elsewhere_say_what_to_use(client):
    with pytest.raises(NotImplementedError, match="Client.profile is not supported on Ray"):
        client.profile()
    with pytest.raises(NotImplementedError, match="retries="):
        client.retry([])


def test_future_executor_bind_client_and_retry(client):
    future = client.submit(abs, -1)
    assert future.executor is client
    other = Client(set_as_default=False)
    try:
        future.bind_client(other)
        assert future.client is other and future.result() == 1
        assert other.who_has([future])  # the other client knows the key now
    finally:
        other.close()
    with pytest.raises(NotImplementedError, match="retries="):
        future.retry()


def test_scheduler_address_futures_and_started(client):
    import time

    info = client.scheduler_info()
    assert client.scheduler.address == info["address"]
    assert client.scheduler.address in repr(client)
    assert isinstance(info["started"], float) and info["started"] <= time.time()
    x = client.submit(abs, -1, pure=False)
    assert x.key in client.futures
    x.result()
    assert client.futures[x.key].status == "finished"
    assert "finished" in repr(client.futures[x.key])
    key = x.key
    del x
    # the last Future on a key takes it along (once Ray's completion callback let go)
    deadline = time.time() + 30
    while key in client.futures and time.time() < deadline:
        time.sleep(0.05)
    assert key not in client.futures


def test_write_scheduler_file_only_once(client, tmp_path):
    client.write_scheduler_file(str(tmp_path / "one.json"))
    with pytest.raises(ValueError, match="already has a scheduler file"):
        client.write_scheduler_file(str(tmp_path / "two.json"))
