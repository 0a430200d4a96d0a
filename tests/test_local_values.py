"""Small scattered values stay on the client until something needs them in Ray's store.

What a user sees must not change: the value is copied at scatter time, every
use gets it, and a Future that leaves this process still finds its data.
"""

import numpy as np

from rayexec import worker_client


class Box:
    """A value that is not a container scatter or submit looks into."""

    def __init__(self, item):
        self.item = item


def length(x):
    return len(x)


def unbox_result(box):
    with worker_client():
        return box.item.result()


def test_small_value_is_kept_on_the_client_and_reaches_tasks(client):
    future = client.scatter([1, 2, 3])[0]
    assert future._state.local is not None and future._state.ref is None
    assert client.submit(abs, future).result() == 1
    assert client.submit(sum, [future, future]).result() == 2  # nested: a slot
    assert future._state.ref is None  # used as an argument: still no object-store trip


def test_scatter_copies_the_value_as_distributed_does(client):
    data = np.array([1, 2])
    future = client.scatter(data, hash=False)
    data[0] = 9
    assert future.result().tolist() == [1, 2]
    assert client.submit(np.sum, future).result() == 3
    future.result()[1] = 9  # a gathered value is the caller's own copy
    assert future.result().tolist() == [1, 2]


def test_large_value_goes_to_the_object_store(client):
    future = client.scatter(np.arange(100_000))
    assert future._state.local is None and future._state.ref is not None


def test_value_referring_to_futures_goes_to_the_object_store(client):
    inner = client.submit(abs, -5)
    outer = client.scatter(Box(inner))
    assert outer._state.local is None and outer._state.ref is not None
    assert client.submit(unbox_result, outer).result() == 5


def test_future_pickled_into_a_task_finds_its_data(client):
    small = client.scatter(7)
    assert client.submit(unbox_result, Box(small)).result() == 7
    assert small._state.ref is not None  # put on the way out


def test_who_has_and_published_small_values(client):
    future = client.scatter("tiny", hash=False)
    assert client.who_has([future])[future.key]  # somewhere, not nowhere
    client.publish_dataset(future, name="tiny-local")
    try:
        assert client.get_dataset("tiny-local").result() == "tiny"
    finally:
        client.unpublish_dataset("tiny-local")


def test_cancelled_small_value_is_released(client):
    future = client.scatter(12345, hash=False)
    client.cancel(future)
    assert future.cancelled()
    assert future._state.local is None and future._state.ref is None
