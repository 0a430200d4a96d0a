"""Keys and reprs compared with the real distributed package, side by side."""

import pytest


def inc(x):
    return x + 1


@pytest.fixture(scope="module")
def real_client():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=None) as c:
        yield c


def test_submit_keys_equal(client, real_client):
    assert client.submit(inc, 1).key == real_client.submit(inc, 1).key
    assert client.submit(inc, 1, key="k").key == real_client.submit(inc, 1, key="k").key


def test_map_keys_equal(client, real_client):
    ours = [f.key for f in client.map(inc, range(4))]
    theirs = [f.key for f in real_client.map(inc, range(4))]
    assert ours == theirs


def test_scatter_keys_equal(client, real_client):
    assert [f.key for f in client.scatter([1, "a"])] == \
        [f.key for f in real_client.scatter([1, "a"])]
    assert list(client.scatter({"x": 1})) == list(real_client.scatter({"x": 1}))


def test_finished_repr_equal(client, real_client):
    ours, theirs = client.submit(inc, 1), real_client.submit(inc, 1)
    ours.result(), theirs.result()
    assert repr(ours) == repr(theirs)
