"""Data sent with a task through the object store -- a large argument of
``submit``, a batch of ``map``'s elements, a graph part that carries data
(``da.from_array`` of a local array), scattered data, a future passed twice --
leaves nothing on the client once the results are gone: no reference, and no
entry in Ray's in-process object store, which Ray leaks when such an input is
released before the results (see ``rayexec.pins``) or when one task takes the
same ObjectRef twice (``rayexec.execution.ArgumentList``)."""

import gc
import time

import dask.array as da
import numpy as np
import pytest


def _core_worker():
    import ray

    return ray._private.worker.global_worker.core_worker


def _settled_entries() -> int:
    """Entries of the client's in-process object store, once released refs are gone."""
    gc.collect()
    time.sleep(0.5)  # Ray frees on its own thread
    return _core_worker().get_memory_store_size()


def big_result(x):
    return np.ones(25_000) + x[0]  # 200 KB: stored in the object store


def _count_left(one_operation, operations: int = 10) -> int:
    """Entries left by ``operations`` operations after a warm-up one: 0 when nothing
    stays, 9 or 10 when each leaves one (Ray's leak depends on timing a little)."""
    one_operation()  # warm-up: imports, the executor's first tasks
    before = _settled_entries()
    for _ in range(operations):
        one_operation()
    return _settled_entries() - before


@pytest.mark.parametrize("how", ["submit", "submit as a task", "map"])
def test_calls_with_large_arguments_leave_no_entries_in_the_client(client, how):
    def one_operation():
        if how == "map":  # batches of 4 elements of 32 KB
            elements = [np.full(4000, float(i)) for i in range(64)]
            futures = client.map(big_result, elements, pure=False)
            assert [f[0] for f in client.gather(futures)] == [i + 1 for i in range(64)]
            assert len({f._state.pins for f in futures}) == 16  # one per batch
        else:
            options = {"resources": {"CPU": 1}} if how == "submit as a task" else {}
            argument = np.full(200_000, 2.0)  # 1.6 MB
            future = client.submit(big_result, argument, pure=False, **options)
            assert future.result()[0] == 3.0
            assert future._state.pins is not None

    left = _count_left(one_operation)
    # on Ray 2.60 without the pins, one entry per call stays
    assert left < 5, f"{left} entries left by 10 operations"


@pytest.mark.parametrize("how", ["get", "submit"])
def test_work_on_scattered_data_leaves_no_entries_in_the_client(client, how):
    def one_operation():
        x = client.scatter(np.full(200_000, 2.0))  # 1.6 MB: put in the object store
        if how == "get":
            [future] = client.get({"y": (big_result, x)}, ["y"], sync=False)
        else:
            future = client.submit(big_result, x, pure=False)
        del x  # the user lets go of the scattered data first
        assert future.result()[0] == 3.0

    left = _count_left(one_operation)
    # without its state pinning it, one entry per operation stayed
    assert left < 5, f"{left} entries left by 10 operations"


def both(a, b):
    return a[0] + b[0]


@pytest.mark.parametrize("how", ["submit(f, x, x)", "as a task", "submit(f, [x], [x])",
                                 "compute(delayed(f)(x, x))"])
def test_one_future_twice_in_a_call_leaves_no_entries_in_the_client(client, how):
    import dask

    def one_operation():
        x = client.submit(np.full, 200_000, 2.0, pure=False)  # 1.6 MB: in the object store
        if how == "submit(f, x, x)":
            future = client.submit(both, x, x, pure=False)
        elif how == "as a task":
            future = client.submit(both, x, x, pure=False, resources={"CPU": 1})
        elif how == "submit(f, [x], [x])":
            future = client.submit(lambda a, b: a[0][0] + b[0][0], [x], [x], pure=False)
        else:  # the graph's part takes x as an input and in its task's arguments
            future = client.compute(dask.delayed(both)(x, x))
        assert future.result() == 4.0

    left = _count_left(one_operation)
    # Ray leaves an entry when one task takes the same ObjectRef twice
    assert left < 5, f"{left} entries left by 10 operations"


def _carried_array(seed: int, chunk: int = 100):
    # 1.3 MB in 80 KB chunks: parts carry several chunks (over the inline limit) and
    # send bundles of several chunks on (results in the object store)
    local = np.random.default_rng(seed).random((400, 400))
    return local, da.from_array(local, chunks=(chunk, chunk))


@pytest.mark.parametrize("how, chunk", [("compute", 100), ("persist", 100),
                                        ("persist", 200)])  # 320 KB results: stored
def test_graphs_carrying_data_leave_no_entries_in_the_client(client, how, chunk):
    local, x = _carried_array(0, chunk)
    expected = (local + local.T).sum(axis=0)

    def one_operation():
        if how == "compute":
            got = client.compute((x + x.T).sum(axis=0)).result()
        else:
            y = client.persist(x + x.T)
            got = y.sum(axis=0).compute()
            del y
        np.testing.assert_allclose(got, expected)

    left = _count_left(one_operation)
    # on Ray 2.60 without the pins, 3 to 5 entries per operation stay
    assert left < 5, f"{left} entries left by 10 operations"


def test_what_a_part_put_is_released_with_its_results(client):
    local, x = _carried_array(1)
    table = _core_worker().get_all_reference_counts
    before = set(table())
    future = client.compute((x + x.T).sum(axis=0))
    pins = future._state.pins
    assert pins is not None  # the final part holds what the parts before it put
    del pins
    np.testing.assert_allclose(future.result(), (local + local.T).sum(axis=0))
    held = set(table()) - before
    assert held, "the result and the parts' put data are referenced while the future lives"
    future.release()
    del future
    gc.collect()
    deadline = time.monotonic() + 10
    while set(table()) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not set(table()) - before, "references left after the future went"
