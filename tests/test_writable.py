"""Data arrives writable, as distributed delivers it: a task may update its input
in place, and a gathered array is the caller's own (Ray alone hands out
read-only views of its object store)."""

import numpy as np
import pytest

from rayexec import get_client


def subtract_mean(x):
    x -= x.mean()  # in place: read-only input fails here
    return x


def is_writable(x):
    return x.flags.writeable


def test_a_task_may_update_its_inputs_in_place(client):
    small, large = client.submit(np.arange, 10.0), client.submit(np.arange, 1e6)
    for future in (small, large):
        assert client.submit(subtract_mean, future).result().mean() == 0
        assert future.result().flags.writeable
    scattered = client.scatter(np.arange(10.0))
    assert client.submit(subtract_mean, scattered).result().mean() == 0
    assert client.submit(subtract_mean, np.arange(10.0)).result().mean() == 0  # inline
    nested = client.submit(lambda pair: subtract_mean(pair[0]), [small])  # inside a list
    assert nested.result().mean() == 0
    assert all(client.gather(client.map(is_writable, [small, large, scattered])))


def test_elements_of_a_batched_map_arrive_writable(client):
    means = client.gather(client.map(subtract_mean, [np.arange(10.0) + i for i in range(20)],
                                     batch_size=10))
    assert [m.mean() for m in means] == [0] * 20


def test_a_dask_graph_passes_writable_chunks_between_parts(client):
    da = pytest.importorskip("dask.array")
    x = client.persist(da.arange(40.0, chunks=10) + 1)  # chunks held in Ray's store
    y = x.map_blocks(subtract_mean)
    expected = (da.arange(40.0, chunks=10) + 1).map_blocks(subtract_mean).compute(
        scheduler="sync")
    assert np.allclose(client.compute(y).result(), expected)


def test_a_model_returned_by_one_task_is_trained_further_by_the_next(client):
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 4)), rng.integers(0, 2, size=200)

    def step(model, rows):
        model.partial_fit(X[rows], y[rows], classes=[0, 1])  # writes the model's arrays
        return model

    model = client.submit(linear_model.SGDClassifier, random_state=0)
    for start in range(0, 200, 50):
        model = client.submit(step, model, slice(start, start + 50))
    local = linear_model.SGDClassifier(random_state=0)
    for start in range(0, 200, 50):
        step(local, slice(start, start + 50))
    assert np.array_equal(model.result().coef_, local.coef_)


def test_values_holding_futures_keep_them_alive(client):
    def inner_future():
        return [get_client().submit(np.ones, 3)]

    [held] = client.submit(inner_future).result()
    assert list(held.result()) == [1, 1, 1]


def test_data_above_the_limit_stays_zero_copy_and_read_only(client):
    from rayexec.writable import LIMIT

    big = client.submit(np.zeros, LIMIT // 8 + 1)  # float64: just over the limit
    assert not client.submit(is_writable, big).result()
    assert not big.result().flags.writeable


class Holder:
    def __init__(self):
        self.data = np.zeros(4)

    def add_in_place(self, x):
        x += 1  # the argument, updated in place
        self.data += x
        return self.data


def test_an_actor_gets_and_gives_writable_data(client):
    holder = client.submit(Holder, actor=True).result()
    returned = holder.add_in_place(np.ones(4)).result()
    assert list(returned) == [2, 2, 2, 2] and returned.flags.writeable
    assert holder.data.flags.writeable


class CountsPickles:
    """Counts how often it is pickled, as joblib's tests count serialisations."""

    def __init__(self):
        self.count = 0

    def __reduce__(self):
        self.count += 1
        return CountsPickles, ()


def three(a, b, c=None):
    return 3


def test_an_object_passed_several_times_in_one_call_is_pickled_once(client):
    # As distributed pickles a task whole; Ray alone pickles each argument apart.
    # (pure=False: a key made from the arguments pickles them to hash them.)
    z = CountsPickles()
    assert client.submit(three, z, [z], c=z, pure=False).result() == 3
    assert z.count == 1
    scattered = client.scatter(np.ones(3))
    z.count = 0
    assert client.submit(three, z, scattered, c=[z, scattered], pure=False).result() == 3
    assert z.count == 1
