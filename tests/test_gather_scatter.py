"""gather keeps container shapes; scatter puts data in the object store."""

import numpy as np
import pytest

from rayexec import CancelledError


def inc(x):
    return x + 1


def div(x, y):
    return x / y


def test_gather_keeps_shapes(client):
    a, b = client.submit(inc, 1), client.submit(inc, 2)
    assert client.gather([a, b]) == [2, 3]
    assert client.gather((a, b)) == (2, 3)
    assert client.gather({"a": a, "b": [b, (a, 5)]}) == {"a": 2, "b": [3, (2, 5)]}
    assert client.gather(a) == 2


def test_gather_of_plain_values_is_identity(client):
    assert client.gather([1, "x"]) == [1, "x"]


def test_gather_raises_the_first_error(client):
    good, bad = client.submit(inc, 1), client.submit(div, 1, 0)
    with pytest.raises(ZeroDivisionError):
        client.gather([good, bad])


def test_gather_skip_drops_failures(client):
    good, bad = client.submit(inc, 1), client.submit(div, 1, 0)
    assert client.gather([good, bad], errors="skip") == [2]
    assert client.gather({"g": good, "b": bad}, errors="skip") == {"g": 2}


def test_gather_rejects_unknown_errors_mode(client):
    with pytest.raises(ValueError, match="errors"):
        client.gather([], errors="ignore")


def test_gather_cancelled_raises(client):
    future = client.submit(inc, 100)
    client.cancel(future)
    with pytest.raises(CancelledError):
        client.gather([future])


def test_scatter_shapes(client):
    futures = client.scatter([1, 2, 3])
    assert isinstance(futures, list) and len(futures) == 3
    assert all(f.status == "finished" for f in futures)
    assert client.gather(futures) == [1, 2, 3]
    mapping = client.scatter({"x": 1, "y": 2})
    assert set(mapping) == {"x", "y"} and mapping["x"].key == "x"
    one = client.scatter(10)
    assert one.result() == 10
    assert client.submit(sum, futures).result() == 6


def test_scatter_hash_dedups_and_names_by_type(client):
    a, b = client.scatter([5, 5])
    assert a.key == b.key and a.key.startswith("int-")
    c, d = client.scatter([5, 5], hash=False)
    assert c.key != d.key


def test_numpy_round_trip_without_copy(client):
    array = np.arange(1_000_000, dtype="float64")
    future = client.scatter(array)
    back = client.gather(future)
    np.testing.assert_array_equal(back, array)
    # read from shared memory, not a private copy
    assert not back.flags.owndata
    assert client.submit(np.sum, future).result() == array.sum()


def test_unpicklable_argument_fails_at_once(client):
    import threading

    with pytest.raises(TypeError, match="serialise"):
        client.submit(inc, threading.Lock())
    with pytest.raises(TypeError, match="serialise"):
        client.scatter(threading.Lock())


def test_unpicklable_function_fails_at_once(client):
    import threading

    lock = threading.Lock()

    def uses_lock(x):
        with lock:
            return x

    with pytest.raises(TypeError, match="serialise the function"):
        client.submit(uses_lock, 1)
