"""A test suite written for distributed's public API, knowing nothing of rayexec.

Run it twice: as is, against the real distributed, and with the shim first on
the path; both must pass, which shows the tests encode distributed's semantics.

    python compat_public_api.py                                  # real distributed
    PYTHONPATH=<checkout>/compat python compat_public_api.py     # rayexec
"""

import operator
import sys
import time
import uuid

import distributed
import pytest
from distributed import (
    Client,
    Future,
    as_completed,
    default_client,
    fire_and_forget,
    futures_of,
    get_client,
    wait,
)
from distributed.client import FIRST_COMPLETED


def inc(x):
    return x + 1


def div(x, y):
    return x / y


@pytest.fixture(scope="module")
def c():
    with Client(n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        yield client


def test_default_client(c):
    assert default_client() is c
    assert get_client() is c
    assert Client.current() is c


def test_submit_result_and_keys(c):
    future = c.submit(inc, 1)
    assert isinstance(future, Future)
    assert future.result() == 2
    assert future.key.startswith("inc-")
    assert c.submit(inc, 1).key == future.key  # pure calls share a key
    assert c.submit(inc, 1, pure=False).key != future.key
    assert c.submit(inc, 1, key="mine").key == "mine"
    assert future.done() and future.status == "finished"
    assert "finished" in repr(future)


def test_map_gather_shapes(c):
    futures = c.map(inc, range(5))
    assert c.gather(futures) == [1, 2, 3, 4, 5]
    assert c.gather({"a": futures[0], "b": [futures[1], (futures[2],)]}) == \
        {"a": 1, "b": [2, (3,)]}
    assert c.gather(c.map(operator.add, range(3), range(3))) == [0, 2, 4]
    with pytest.raises(TypeError):
        c.map(inc, iter(range(3)))


def test_futures_as_arguments(c):
    x = c.submit(inc, 1)
    y = c.submit(operator.mul, x, 10)
    total = c.submit(sum, [x, y])
    assert total.result() == 22
    nested = c.submit(lambda d: d["k"][0] + 1, {"k": [x]})
    assert nested.result() == 3


def test_scatter(c):
    [a, b] = c.scatter([1, 2])
    assert c.submit(operator.add, a, b).result() == 3
    d = c.scatter({"x": 10})
    assert set(d) == {"x"} and d["x"].result() == 10
    one = c.scatter(5)
    assert one.result() == 5


def test_errors(c):
    bad = c.submit(div, 1, 0)
    with pytest.raises(ZeroDivisionError):
        bad.result()
    assert bad.status == "error"
    assert isinstance(bad.exception(), ZeroDivisionError)
    assert bad.traceback() is not None
    dependent = c.submit(inc, bad)
    with pytest.raises(ZeroDivisionError):
        dependent.result()
    good = c.submit(inc, 1)
    assert c.gather([good, bad], errors="skip") == [2]
    with pytest.raises(ZeroDivisionError):
        c.gather([good, bad])


def test_cancel(c):
    future = c.submit(time.sleep, 30, pure=False)
    future.cancel()
    wait(future, timeout=30) if not future.cancelled() else None
    assert future.cancelled()
    with pytest.raises(distributed.CancelledError):
        future.result()


def test_wait_and_as_completed(c):
    futures = c.map(time.sleep, [0.01, 0.02, 0.03], pure=False)
    done, not_done = wait(futures)
    assert len(done) == 3 and not not_done
    slow = c.submit(time.sleep, 15, pure=False)  # a wide margin on a loaded machine
    quick = c.submit(inc, 100)
    done, not_done = wait([slow, quick], return_when=FIRST_COMPLETED)
    assert quick in done
    with pytest.raises(distributed.TimeoutError):
        wait([slow], timeout=0.01)
    slow.cancel()
    results = [r for _, r in as_completed(c.map(inc, range(4)), with_results=True)]
    assert sorted(results) == [1, 2, 3, 4]


def test_fire_and_forget_and_futures_of(c):
    fs = c.map(inc, range(2))
    assert set(futures_of([fs, {"x": fs[0]}])) == set(fs)
    fire_and_forget(c.submit(inc, 7))


def test_published_datasets(c):
    name = f"data-{uuid.uuid4().hex[:6]}"
    x = c.scatter([1, 2, 3])
    c.publish_dataset(x, name=name)
    assert name in c.list_datasets()
    assert c.gather(c.get_dataset(name)) == [1, 2, 3]
    with pytest.raises(KeyError):
        c.publish_dataset(x, name=name)
    c.unpublish_dataset(name)
    assert name not in c.list_datasets()
    with pytest.raises(KeyError):
        c.get_dataset(name)
    assert c.get_dataset(name, default=0) == 0


def test_workers_and_info(c):
    nthreads = c.nthreads()
    assert sorted(nthreads.values()) == [1, 1]
    info = c.scheduler_info()
    assert len(info["workers"]) == 2


def test_dask_integration(c):
    import dask
    import dask.array as da

    x = da.arange(10, chunks=5)
    assert int(x.sum().compute()) == 45
    assert int(c.compute(x.sum()).result()) == 45
    assert int(dask.compute(x.sum(), scheduler=c.get)[0]) == 45
    from operator import add
    assert c.get({"x": 1, "y": (add, "x", 2)}, "y") == 3


if __name__ == "__main__":
    print("distributed from", distributed.__file__, flush=True)
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                          "-W", "ignore"]))
