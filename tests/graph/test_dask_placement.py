"""workers / resources / retries / priority on compute, persist and get, and
dask.annotate, reach the tasks of a graph."""

import dask
import pytest
from dask import delayed


def node_id(*_):
    import ray

    return ray.get_runtime_context().get_node_id()


def _worker(client, special: bool):
    for address, info in client.scheduler_info()["workers"].items():
        if bool(info["resources"].get("special")) == special:
            return address, info["id"]
    raise AssertionError("the test cluster has a special and a plain worker")


@pytest.fixture
def special(client):
    """(address, node id) of the worker with the ``special`` resource."""
    return _worker(client, special=True)


@pytest.fixture
def plain(client):
    """(address, node id) of the other worker: where placement can be seen to differ."""
    return _worker(client, special=False)


def many_ids():
    # many independent tasks: spread over both workers unless placement says otherwise
    return delayed(set)([delayed(node_id)(i) for i in range(40)])


def test_resources_on_compute_and_persist(client, special):
    _, special_id = special
    assert client.compute(many_ids(), resources={"special": 1}).result() == {special_id}
    persisted = client.persist(many_ids(), resources={"special": 1})
    assert persisted.compute() == {special_id}


def test_workers_on_compute_and_get(client, special, plain):
    for address, expected in (special, plain):
        assert client.compute(many_ids(), workers=[address]).result() == {expected}
        assert client.get({"x": (node_id,)}, "x", workers=address) == expected


def test_dask_annotate_reaches_the_tasks(client, special, plain):
    for annotation, (_, expected) in (({"resources": {"special": 1}}, special),
                                      ({"workers": [plain[0]]}, plain)):
        with dask.annotate(**annotation):
            pinned = [delayed(node_id)(i) for i in range(10)]
        free = delayed(len)(pinned)
        ids, count = dask.compute(delayed(set)(pinned), free, optimize_graph=False)
        assert ids == {expected} and count == 10


def flaky(path):
    with open(path, "a+") as f:
        f.seek(0)
        attempts = len(f.read())
        f.write("x")
    if attempts < 2:
        raise OSError(f"attempt {attempts} fails")
    return attempts


def test_retries_rerun_failed_tasks(client, tmp_path):
    assert client.compute(delayed(flaky)(str(tmp_path / "a")), retries=2).result() == 2
    with pytest.raises(OSError, match="attempt 1"):
        client.compute(delayed(flaky)(str(tmp_path / "b")), retries=1).result()
    with dask.annotate(retries=2):
        annotated = delayed(flaky)(str(tmp_path / "c"))
    assert client.compute(annotated, optimize_graph=False).result() == 2


def test_priority_is_accepted(client):
    assert client.compute(delayed(sum)([1, 2]), priority=10).result() == 3
    with dask.annotate(priority=-1):
        low = delayed(sum)([3, 4])
    assert dask.compute(low, optimize_graph=False) == (7,)
