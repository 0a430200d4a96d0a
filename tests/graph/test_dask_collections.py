"""Real dask collections on rayexec: compute, persist, delayed over futures; same answers
as dask's synchronous scheduler."""

import operator

import dask
import dask.array as da
import dask.bag as db
import numpy as np
import pytest
from dask import delayed

from rayexec import Future, futures_of


def inc(x):
    return x + 1


def sync(collection):
    return dask.compute(collection, scheduler="sync")[0]


def test_compute_gives_futures(client):
    x = delayed(inc)(1)
    y = delayed(operator.add)(x, 10)
    future = client.compute(y)
    assert isinstance(future, Future) and future.result() == 12
    futures = client.compute([x, y, 5])
    assert client.gather(futures) == [2, 12, 5]
    assert client.compute((x, y), sync=True) == [2, 12]
    # a list inside the list is computed as one delayed object
    assert client.compute([[x, y]], sync=True) == [[2, 12]]


def test_persist_gives_the_same_collection_type_backed_by_futures(client):
    x = da.arange(100, chunks=10) * 2
    y = client.persist(x)
    assert type(y) is type(x) and y.chunks == x.chunks
    assert len(futures_of(y)) == 10
    assert (y + 1).sum().compute() == sync((x + 1).sum())
    b = db.from_sequence(range(20), npartitions=4).map(inc)
    b2, d2 = client.persist([b, delayed(inc)(1)])
    assert type(b2) is type(b) and sorted(b2.compute()) == sorted(sync(b))
    assert d2.compute() == 2


def test_delayed_over_futures(client):
    a = client.submit(inc, 1)
    assert delayed(inc)(a).compute() == 3
    assert delayed(sum)([a, a, 1]).compute() == 5
    assert dask.delayed(a).compute() == 2
    assert client.compute(delayed(operator.mul)(a, 5)).result() == 10


def test_a_future_is_a_dask_reference_to_its_key(client):
    # as distributed's Future, a dask TaskRef: dask.delayed(future) *is* the future
    from dask._task_spec import TaskRef

    x = client.scatter(41)
    assert isinstance(x, TaskRef)
    as_delayed = delayed(x)
    assert as_delayed.key == x.key
    assert client.compute(as_delayed).result() == 41 and as_delayed.compute() == 41
    assert client.compute(delayed(inc)(x=x)).result() == 42
    array = da.from_delayed(delayed(client.submit(np.arange, 5)), shape=(5,), dtype=int)
    assert array.sum().compute() == 10
    # each handle equals only itself, as in distributed (a TaskRef equals any of its key)
    again = Future(x.key, client)
    assert again != x and len({x, again}) == 2


def test_a_failed_future_fails_what_is_built_on_it(client):
    bad = client.submit(operator.truediv, 1, 0)
    with pytest.raises(ZeroDivisionError):
        delayed(inc)(bad).compute()


def test_array_workloads(client):
    x = da.random.default_rng(3).random((120, 90), chunks=(20, 30))
    for result in [(x + x.T[:90, :90].sum()).mean(axis=0),
                   x.rechunk((45, 45)).std(),
                   (x @ x.T)[::7, 3:50].sum(axis=1),
                   da.concatenate([x, x[::-1]], axis=0).cumsum(axis=0)[-1]]:
        np.testing.assert_allclose(result.compute(), sync(result))


def test_bag_workloads(client):
    b = db.from_sequence(range(1000), npartitions=17)
    assert b.map(inc).filter(lambda v: v % 3 == 0).sum().compute() == sync(
        b.map(inc).filter(lambda v: v % 3 == 0).sum())
    assert dict(b.frequencies().compute()) == dict(sync(b.frequencies()))
    folded = b.foldby(lambda v: v % 5, operator.add, 0)
    assert sorted(folded.compute()) == sorted(sync(folded))


def test_delayed_tree(client):
    level = [delayed(inc)(i) for i in range(300)]
    while len(level) > 1:
        level = [delayed(sum)(level[i:i + 3]) for i in range(0, len(level), 3)]
    assert level[0].compute() == sum(range(1, 301))


def test_dataframe_workloads(client):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    import dask.dataframe as dd

    rng = np.random.default_rng(0)
    left = pd.DataFrame({"k": rng.integers(0, 20, 400), "x": rng.random(400)})
    right = pd.DataFrame({"k": np.arange(20), "name": [f"n{i}" for i in range(20)]})
    dleft = dd.from_pandas(left, npartitions=6)
    dright = dd.from_pandas(right, npartitions=3)
    cases = [
        dleft.groupby("k").x.agg(["sum", "mean", "count"]),
        dleft.merge(dright, on="k", how="inner"),
        dleft.shuffle("k").map_partitions(len),
        dleft.set_index("k").x.sum(),
    ]
    for case in cases:
        got, expected = case.compute(), sync(case)
        if hasattr(got, "sort_index"):
            got = got.sort_values(list(got.columns)) if got.ndim == 2 else got.sort_values()
            expected = (expected.sort_values(list(expected.columns)) if expected.ndim == 2
                        else expected.sort_values())
            pd.testing.assert_frame_equal(got.reset_index(drop=True).to_frame()
                                          if got.ndim == 1 else got.reset_index(drop=True),
                                          expected.reset_index(drop=True).to_frame()
                                          if expected.ndim == 1
                                          else expected.reset_index(drop=True))
        else:
            assert got == pytest.approx(expected)
    persisted = client.persist(dleft)
    assert type(persisted) is type(dleft)
    assert persisted.x.sum().compute() == pytest.approx(left.x.sum())


def test_a_persisted_collection_inside_a_later_graph(client):
    # a persisted dataframe's filter data comes back into the next graph as a
    # DataNode filed under another key than its own (distributed#4145)
    pd = pytest.importorskip("pandas")
    import dask.dataframe as dd

    frame = pd.DataFrame({"uid": range(50), "when": pd.date_range(
        start="2020-01-01", end="2020-09-01", periods=50, tz="UTC")})

    def build(df):
        df = df[df.uid.isin(range(29))].persist()
        df["day"] = df.when.dt.day_name()
        return df.categorize(columns=["day"], index=False)

    got = build(dd.from_pandas(frame, npartitions=5)).compute()
    with dask.config.set(scheduler="sync"):
        expected = build(dd.from_pandas(frame, npartitions=5)).compute()
    pd.testing.assert_frame_equal(got, expected)


def test_normalize_collection_uses_held_futures(client):
    x = da.arange(100, chunks=10) * 2
    total = (x + 1).sum()
    assert client.normalize_collection(total) is total  # nothing held yet
    persisted = client.persist(x)
    smaller = client.normalize_collection(total)
    assert len(smaller.__dask_graph__()) < len(total.__dask_graph__())
    assert len(futures_of(smaller)) == 10
    assert smaller.compute() == sync(total)
    del persisted
