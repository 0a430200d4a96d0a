"""wait and as_completed."""

import time

import pytest
from test_actors import Counter

from rayexec import FIRST_COMPLETED, FIRST_EXCEPTION, TimeoutError, as_completed, wait


def div(x, y):
    return x / y


def slow(x, delay):
    time.sleep(delay)
    return x


def test_wait_all(client):
    futures = client.map(slow, range(3), [0.1] * 3)
    done, not_done = wait(futures)
    assert done == set(futures) and not not_done
    assert all(f.status == "finished" for f in futures)


def test_wait_does_not_raise_for_failures(client):
    bad = client.submit(div, 1, 0)
    done, _ = wait([bad])
    assert bad in done and bad.status == "error"


def test_wait_single_future(client):
    future = client.submit(slow, 1, 0.1)
    done, not_done = wait(future)
    assert future in done


def test_wait_timeout_raises(client):
    future = client.submit(slow, 1, 5, pure=False)
    with pytest.raises(TimeoutError):
        wait([future], timeout=0.2)
    client.cancel(future)


def test_wait_first_completed(client):
    quick = client.submit(slow, 1, 0.1, pure=False)
    lazy = client.submit(slow, 2, 20, pure=False)
    done, not_done = wait([quick, lazy], return_when=FIRST_COMPLETED)
    assert quick in done and lazy in not_done
    client.cancel(lazy)


def test_wait_first_exception(client):
    bad = client.submit(div, 1, 0)
    lazy = client.submit(slow, 2, 20, pure=False)
    done, not_done = wait([bad, lazy], return_when=FIRST_EXCEPTION)
    assert bad in done and lazy in not_done
    client.cancel(lazy)


def wait_for_file(path):
    import os

    while not os.path.exists(path):
        time.sleep(0.05)
    return "waited"


def test_as_completed_yields_in_completion_order(client, tmp_path):
    gate = tmp_path / "gate"
    blocked = client.submit(wait_for_file, str(gate), pure=False)
    quick = client.submit(slow, "quick", 0, pure=False)
    ac = as_completed([blocked, quick])
    assert next(ac) is quick  # the blocked one cannot finish before the gate opens
    gate.touch()
    assert next(ac) is blocked
    assert blocked.result() == "waited"


def test_as_completed_with_results_and_errors(client):
    good = client.submit(slow, 1, 0)
    bad = client.submit(div, 1, 0)
    results = dict(as_completed([good, bad], with_results=True, raise_errors=False))
    assert results[good] == 1
    exc_type, exc, tb = results[bad]
    assert exc_type is ZeroDivisionError
    with pytest.raises(ZeroDivisionError):
        list(as_completed([bad], with_results=True))


def test_as_completed_add_while_iterating(client):
    ac = as_completed([client.submit(slow, 0, 0)])
    seen = []
    for future in ac:
        value = future.result()
        seen.append(value)
        if value < 3:
            ac.add(client.submit(slow, value + 1, 0))
    assert seen == [0, 1, 2, 3]


def test_as_completed_bookkeeping(client):
    ac = as_completed()
    assert ac.is_empty() and ac.count() == 0 and not ac.has_ready()
    futures = client.map(slow, range(4), [0] * 4)
    ac.update(futures)
    assert ac.count() == 4
    wait(futures)
    batches = list(ac.batches())
    assert sorted(f.result() for batch in batches for f in batch) == [0, 1, 2, 3]
    assert ac.is_empty()


def test_as_completed_timeout(client):
    lazy = client.submit(slow, 1, 10, pure=False)
    with pytest.raises(TimeoutError):
        next(iter(as_completed([lazy], timeout=0.2)))
    client.cancel(lazy)


def test_as_completed_next_batch(client):
    futures = client.map(slow, range(2), [0.5] * 2)
    ac = as_completed(futures)
    assert ac.next_batch(block=False) == []  # nothing ready yet: no waiting
    seen = []
    while not ac.is_empty():
        batch = ac.next_batch(block=True)
        assert batch and set(batch) <= set(futures)
        seen.extend(batch)
    assert sorted(f.key for f in seen) == sorted(f.key for f in futures)
    with pytest.raises(StopIteration):
        ac.next_batch()
    ac = as_completed(client.map(slow, range(3), [0] * 3), with_results=True)
    results = []
    while not ac.is_empty():
        results.extend(result for _, result in ac.next_batch())
    assert sorted(results) == [0, 1, 2]


def test_as_completed_takes_actor_method_futures(client):
    counter = client.submit(Counter, actor=True).result()
    calls = [counter.increment() for _ in range(5)]
    seen = [future.result() for future in as_completed(calls)]
    assert sorted(seen) == [1, 2, 3, 4, 5]
    assert all(call.done() for call in calls)
    with pytest.raises(TypeError, match="as_completed takes Futures, got int"):
        as_completed([1])


def test_as_completed_async_iteration_ends_when_nothing_is_left(client):
    import asyncio

    async def collect(ac):
        return sorted([future.result() async for future in ac])

    assert asyncio.run(collect(as_completed(client.map(slow, range(3), [0] * 3)))) == [0, 1, 2]
    assert asyncio.run(collect(as_completed())) == []


def test_as_completed_drops_work_under_its_lock(client):
    # joblib's dask backend aborts a call this way, with distributed's attribute names;
    # an iteration waiting meanwhile ends instead of waiting for the dropped futures.
    import threading

    lazy = client.submit(slow, 1, 30, pure=False)
    ac = as_completed([lazy, client.submit(slow, 2, 0, pure=False)])
    first = next(ac)
    assert first.result() == 2
    rest = []
    waiter = threading.Thread(target=lambda: rest.extend(ac))
    waiter.start()
    with ac.lock:
        ac.futures.clear()
        while not ac.queue.empty():
            ac.queue.get()
    waiter.join(timeout=30)
    assert not waiter.is_alive() and rest == [] and ac.is_empty()
    client.cancel(lazy)


def test_a_future_given_as_timeout_is_named(client):
    x, y = client.submit(abs, -1), client.submit(abs, -2)
    with pytest.raises(TypeError, match=r"second argument is the timeout.* one list, wait\(\[x, y\]\)"):
        wait(x, y)  # two futures, the second taken as the timeout
    with pytest.raises(TimeoutError):
        wait([client.submit(slow, 1, 2, pure=False)], timeout="10ms")
    with pytest.raises(TimeoutError):
        list(as_completed([client.submit(slow, 1, 2, pure=False)], timeout="10ms"))


def test_as_completed_yields_a_future_as_often_as_it_was_added(client):
    ac = as_completed()
    x = client.submit(slow, 1, 0.2, pure=False)
    ac.add(x)
    ac.add(x)
    assert ac.count() == 2
    assert next(ac) is x and next(ac) is x
    with pytest.raises(StopIteration):
        next(ac)
    ac.add(x)  # done already: yielded at once
    assert next(ac) is x


def test_as_completed_with_results_gives_cancelled_futures_their_error(client):
    from rayexec import CancelledError

    good = client.submit(slow, 2, 0, pure=False)
    gone = client.submit(slow, 3, 5, pure=False)
    bad = client.submit(div, 1, 0, pure=False)
    ac = as_completed([good, gone, bad], with_results=True, raise_errors=False)
    gone.cancel()
    results = dict(ac)
    assert results[good] == 2
    assert isinstance(results[gone], CancelledError)
    assert results[bad][0] is ZeroDivisionError
    ac = as_completed([good, gone, bad], with_results=True)
    with pytest.raises(ZeroDivisionError):  # the failure raises, the cancellation does not
        list(ac)
