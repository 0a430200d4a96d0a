"""Pool and RemoteData: the 2015 API, and multiprocessing.Pool's methods."""

import multiprocessing
import threading
import time

import pytest

from rayexec import Future
from rayexec.legacy.pool import AsyncResult, Pool, RemoteData


@pytest.fixture
def pool(client):
    with Pool() as p:
        yield p


def test_seed_example(pool):
    A = pool.map(lambda x: x**2, range(10))
    B = pool.map(lambda x: -x, A)
    total = pool.apply(sum, [B])
    assert isinstance(total, RemoteData)
    assert total.get() == -285
    assert pool.gather(A) == [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]


def test_results_stay_remote(pool):
    A = pool.map(abs, [-1, -2])
    assert all(isinstance(a, RemoteData) and isinstance(a, Future) for a in A)
    assert repr(A[0]).startswith("<RemoteData: ")
    # nested RemoteData, in dicts and tuples, arrive as values
    out = pool.apply(lambda d, t: d["a"] + t[0] + t[1], ({"a": A[0]}, (A[1], 10)))
    assert out.get() == 13


def test_pool_uses_default_client(client):
    with Pool() as p:
        assert p.client is client
    assert client.status == "running"  # the pool did not own it


def test_pool_with_address_owns_its_connection(client, ray_cluster):
    with Pool(ray_cluster.address) as p:
        assert p.gather(p.map(abs, [-4])) == [4]
        assert p.client is not client
    assert p.client.status == "closed"
    assert client.submit(abs, -1).result() == 1


def test_apply_async_args_must_be_tuple_or_list(pool):
    with pytest.raises(TypeError, match="args=.*tuple or list"):
        pool.apply_async(abs, 5)
    with pytest.raises(TypeError, match="kwds"):
        pool.apply_async(abs, (5,), kwds=[1])
    with pytest.raises(TypeError, match="cluster address"):
        Pool(4)


def test_apply_async_get_and_kwargs(pool):
    pending = pool.apply_async(pow, [2, 10])
    assert isinstance(pending, AsyncResult)
    rd = pending.get(timeout=60)
    assert isinstance(rd, RemoteData) and rd.get() == 1024
    assert pending.ready() and pending.successful()
    # both the stdlib's kwds= and the 2015 kwargs=
    assert pool.apply(int, ("ff",), {"base": 16}).get() == 255
    assert pool.apply(int, ("ff",), kwargs={"base": 16}).get() == 255


def test_errors_raise_remote_exception(pool):
    rd = pool.map(lambda x: 1 / x, [0])[0]
    with pytest.raises(ZeroDivisionError):
        rd.get()
    pending = pool.apply_async(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        pending.get(timeout=60)
    assert not pending.successful()
    with pytest.raises(ZeroDivisionError):
        pool.apply(lambda: 1 / 0)


def test_callbacks(pool):
    got, errors, done = [], [], threading.Event()

    def on_result(value):
        got.append(value)
        done.set()

    def on_error(exc):
        errors.append(exc)
        done.set()

    pool.apply_async(abs, (-3,), callback=on_result).get(timeout=60)
    assert got[0].get() == 3  # callbacks get what get() returns: the RemoteData
    done.clear()
    pool.apply_async(lambda: 1 / 0, error_callback=on_error).wait(60)
    assert done.wait(60) and isinstance(errors[0], ZeroDivisionError)
    result = pool.map_async(abs, [-1, -2], callback=on_result).get(timeout=60)
    assert [r.get() for r in result] == [1, 2]
    assert [r.get() for r in got[-1]] == [1, 2]


def test_get_timeout(pool):
    pending = pool.apply_async(time.sleep, (3,))
    with pytest.raises(multiprocessing.TimeoutError):
        pending.get(timeout=0.01)
    with pytest.raises(ValueError, match="not ready"):
        pending.successful()


def test_starmap_and_imap(pool):
    assert pool.gather(pool.starmap(pow, [(2, 3), (3, 2)])) == [8, 9]
    assert pool.gather(pool.starmap(max, [(1, 0), (1, 5, 2)])) == [1, 5]
    assert [r.get() for r in pool.starmap_async(pow, [(2, 2)]).get(60)] == [4]
    assert list(pool.imap(abs, iter([-1, -2, -3]))) == [1, 2, 3]
    assert sorted(pool.imap_unordered(abs, [-1, -2, -3], chunksize=2)) == [1, 2, 3]
    assert pool.gather(pool.map(abs, range(-5, 0), chunksize=2)) == [5, 4, 3, 2, 1]
    with pytest.raises(ValueError, match="chunksize"):
        pool.map(abs, [1], chunksize=0)


def test_scatter_then_use(pool):
    data = pool.scatter([1, 2, 3])
    assert all(isinstance(d, RemoteData) for d in data)
    assert pool.apply(sum, [data]).get() == 6


def test_close_and_join(client):
    p = Pool()
    with pytest.raises(ValueError, match="close"):
        p.join()
    p.close()
    p.join()
    with pytest.raises(ValueError, match="closed"):
        p.map(abs, [1])


def _node_id(x):
    import ray

    return ray.get_runtime_context().get_node_id()


def test_pool_placement_hints_reach_every_call(client):
    from rayexec import Pool

    special = [a for a, info in client.scheduler_info()["workers"].items()
               if info["resources"].get("special")][0]
    node = client.scheduler_info()["workers"][special]["id"]
    with Pool(client=client, workers=[special]) as pool:
        assert set(pool.gather(pool.map(_node_id, range(6)))) == {node}
        assert pool.apply(_node_id, (0,)).get() == node
    with Pool(client=client, resources={"special": 1}) as pool:
        assert set(pool.gather(pool.map(_node_id, range(4)))) == {node}
