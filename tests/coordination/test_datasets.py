"""Published datasets and named collections, shared between clients through a named actor."""

import uuid

import pytest
from conftest import run_script, session_auth


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_publish_get_list_unpublish(client):
    name = unique("data")
    futures = client.scatter([1, 2, 3])
    client.publish_dataset(futures, name=name)
    assert name in client.list_datasets()
    again = client.get_dataset(name)
    assert [f.key for f in again] == [f.key for f in futures]
    assert client.gather(again) == [1, 2, 3]
    client.unpublish_dataset(name)
    assert name not in client.list_datasets()
    with pytest.raises(KeyError, match=name):
        client.get_dataset(name)
    assert client.get_dataset(name, default="none") == "none"


def test_publish_forms_and_override(client):
    a, b, c = unique("a"), unique("b"), unique("c")
    x = client.submit(sum, [1, 2])
    client.publish_dataset({a: x})
    client.publish_dataset(**{b: [x, 10]})
    client.publish_dataset(x, 5, name=c)  # several positional values become a tuple
    try:
        assert client.get_dataset(a).result() == 3
        assert client.gather(client.get_dataset(b)) == [3, 10]
        assert client.gather(client.get_dataset([c, a])) == [(3, 5), 3]
        with pytest.raises(KeyError, match="already exists"):
            client.publish_dataset(x, name=a)
        client.publish_dataset(99, name=a, override=True)
        assert client.get_dataset(a) == 99
    finally:
        client.unpublish_dataset([a, b, c])
    with pytest.raises(ValueError, match="dict"):
        client.publish_dataset(x)
    with pytest.raises(ValueError, match="needs the dataset"):
        client.publish_dataset(name="n")


def test_datasets_mapping(client):
    name = unique("m")
    client.datasets[name] = client.scatter(7)
    try:
        assert client.datasets[name].result() == 7
        assert name in list(client.datasets)
        assert len(client.datasets) >= 1
    finally:
        del client.datasets[name]
    assert name not in client.list_datasets()
    with pytest.raises(KeyError):
        del client.datasets[name]


def test_failed_future_published_stays_failed(client):
    name = unique("err")
    bad = client.submit(lambda: 1 / 0)
    client.publish_dataset(bad, name=name)
    try:
        got = client.get_dataset(name)
        assert got.status == "error"
        with pytest.raises(ZeroDivisionError):
            got.result()
    finally:
        client.unpublish_dataset(name)


def test_set_and_get_collection(client):
    db = pytest.importorskip("dask.bag")
    name = unique("mybag")
    bag = db.from_sequence(range(5)).map(lambda x: x + 1)
    client.set_collection(name, bag)
    try:
        got = client.get_collection(name)
        assert got.compute(scheduler="sync") == [1, 2, 3, 4, 5]
        client.set_collection(name, db.from_sequence([0]))  # set replaces
        assert client.get_collection(name).compute(scheduler="sync") == [0]
    finally:
        client.unpublish_dataset(name)


def test_dataset_outlives_publishing_process(client, ray_cluster):
    """Another process publishes and exits; this client still gets the data."""
    name = unique("shared")
    result = run_script("compat_publish.py", ray_cluster.address, name, timeout=120,
                        env=session_auth())
    assert result.returncode == 0, result.stderr[-3000:]
    try:
        got = client.get_dataset(name)
        assert client.gather(got) == [0, 1, 4, 9]
    finally:
        client.unpublish_dataset(name)
