"""Client.submit and Client.map: keys, deduplication, arguments, batching."""

import pytest

from rayexec import Future, wait


def inc(x):
    return x + 1


def add(x, y=0):
    return x + y


_calls = []


def count_calls(x):
    import os

    return os.getpid(), x


def test_submit_result(client):
    future = client.submit(inc, 1)
    assert isinstance(future, Future)
    assert future.result() == 2
    assert future.status == "finished"
    assert future.key.startswith("inc-")


def test_kwargs_reach_the_function(client):
    assert client.submit(add, 1, y=10).result() == 11


def test_pure_calls_share_a_key_and_run_once(client):
    a = client.submit(count_calls, 1, pure=True)
    b = client.submit(count_calls, 1, pure=True)
    assert a.key == b.key
    assert a._state is b._state  # one computation behind both handles
    assert a.result() == b.result()


def test_impure_calls_get_unique_keys(client):
    a = client.submit(inc, 1, pure=False)
    b = client.submit(inc, 1, pure=False)
    assert a.key != b.key
    assert a.result() == b.result() == 2


def test_key_is_taken_verbatim(client):
    future = client.submit(inc, 1, key="my-key")
    assert future.key == "my-key"
    assert future.result() == 2


def test_futures_as_arguments_also_nested(client):
    x = client.submit(inc, 1)
    y = client.submit(inc, 2)
    assert client.submit(inc, x).result() == 3
    assert client.submit(sum, [x, y]).result() == 5
    assert client.submit(lambda d: d["a"][0] + d["b"], {"a": (x,), "b": y}).result() == 5
    assert client.submit(add, x, y=y).result() == 5


def test_submit_refuses_what_is_not_callable(client):
    with pytest.raises(TypeError, match="callable"):
        client.submit(1, 2)


def test_map_returns_one_future_per_element(client):
    futures = client.map(inc, range(5))
    assert len(futures) == 5
    assert client.gather(futures) == [1, 2, 3, 4, 5]


def test_map_several_iterables_and_kwargs(client):
    assert client.gather(client.map(add, range(3), range(3))) == [0, 2, 4]
    assert client.gather(client.map(add, range(3), y=10)) == [10, 11, 12]


def test_map_of_an_iterator_is_a_type_error(client):
    with pytest.raises(TypeError, match="iterator"):
        client.map(inc, iter(range(3)))


def test_map_over_futures(client):
    xs = client.map(inc, range(4))
    assert client.gather(client.map(inc, xs)) == [2, 3, 4, 5]


def test_map_deduplicates_equal_elements(client):
    futures = client.map(inc, [7, 7, 8])
    assert futures[0].key == futures[1].key
    assert futures[0]._state is futures[1]._state
    assert client.gather(futures) == [8, 8, 9]


@pytest.mark.parametrize("batch_size", [None, 1, 7, 1000])
def test_batched_map_keeps_one_future_per_element(client, batch_size):
    futures = client.map(inc, range(300), batch_size=batch_size)
    assert client.gather(futures) == list(range(1, 301))
    assert len({f.key for f in futures}) == 300


def test_batched_map_errors_belong_to_their_element(client):
    futures = client.map(lambda x: 1 / x, [1, 0, 2, 4], batch_size=4)
    wait(futures)
    assert [f.status for f in futures] == ["finished", "error", "finished", "finished"]
    assert isinstance(futures[1].exception(), ZeroDivisionError)
    assert futures[2].result() == 0.5
    # a task built on the failed element fails with the same exception
    dependent = client.submit(inc, futures[1])
    with pytest.raises(ZeroDivisionError):
        dependent.result()


def test_map_keys_match_real_distributed():
    # distributed names map results <key>-tokenize(tokenize(func, kwargs), args)
    from dask.tokenize import tokenize

    from rayexec.keys import map_keys

    token = tokenize(inc, {})
    assert map_keys(inc, [(1,)], {}) == [f"inc-{tokenize(token, (1,))}"]


def test_retries_rerun_failing_tasks(client, tmp_path):
    marker = tmp_path / "attempts"

    def flaky(path):
        import pathlib

        p = pathlib.Path(path)
        attempts = int(p.read_text()) if p.exists() else 0
        p.write_text(str(attempts + 1))
        if attempts < 2:
            raise RuntimeError("not yet")
        return attempts

    assert client.submit(flaky, str(marker), retries=3, pure=False).result() == 2
