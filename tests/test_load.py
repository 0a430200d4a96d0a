"""Load: many futures created and dropped leave nothing behind; many threads share a client."""

import gc
import threading
import time

import psutil
import pytest


def inc(x):
    return x + 1


def _ray_references() -> int:
    """How many object references this process's Ray core worker tracks.

    Test-only use of Ray's internals: there is no public count, and a leak of
    ObjectRefs is exactly what this must catch.
    """
    import ray

    return len(ray._private.worker.global_worker.core_worker.get_all_reference_counts())


def _settled(baseline: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        gc.collect()
        count = _ray_references()
        if count <= baseline or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


@pytest.mark.slow
def test_rounds_of_futures_return_to_baseline(client):
    client.gather(client.map(inc, range(5000)))
    gc.collect()
    baseline_refs = _settled(0, timeout=5)
    process = psutil.Process()
    rss = []
    for round_number in range(20):
        futures = client.map(inc, range(round_number * 5000, (round_number + 1) * 5000))
        assert client.gather(futures)[-1] == (round_number + 1) * 5000
        del futures
        gc.collect()
        rss.append(process.memory_info().rss)
    assert len(client._states) == 0
    assert _settled(baseline_refs) <= baseline_refs
    # client memory does not grow with rounds (allow allocator noise, not 20 rounds' worth)
    assert rss[-1] - rss[2] < 64 * 2**20


@pytest.mark.slow
def test_100k_futures_in_one_map(client):
    futures = client.map(inc, range(100_000))
    results = client.gather(futures)
    assert results[0] == 1 and results[-1] == 100_000 and len(results) == 100_000


def test_many_threads_submitting_and_gathering(client):
    errors = []

    def work(thread_number):
        try:
            for round_number in range(5):
                xs = list(range(round_number * 50, round_number * 50 + 50))
                # overlapping keys across threads: pure calls are shared, not rerun
                futures = client.map(inc, xs)
                single = client.submit(inc, thread_number * 1000 + round_number)
                assert client.gather(futures) == [x + 1 for x in xs]
                assert single.result() == thread_number * 1000 + round_number + 1
        except Exception as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
