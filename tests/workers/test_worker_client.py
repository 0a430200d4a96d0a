"""Inside tasks: worker_client, secede and rejoin on a cluster of two one-CPU workers."""

import pytest

from rayexec.workers.worker_client import local_client, rejoin, secede, worker_client


def fan_out(x):
    # Each task waits on two subtasks; with both CPUs busy with such tasks, the
    # subtasks can only run if a waiting task gives its CPU back.
    with worker_client() as client:
        futures = client.map(abs, [-x, -x - 1], pure=False)
        return sum(client.gather(futures))


def test_tasks_waiting_on_subtasks_do_not_deadlock(client):
    futures = client.map(fan_out, range(4), batch_size=1)
    assert client.gather(futures) == [1, 3, 5, 7]


def seceding(x):
    from rayexec import get_client

    client = get_client()
    future = client.submit(pow, x, 2, pure=False)
    secede()
    value = future.result()
    rejoin()
    return value


def test_secede_and_rejoin_inside_tasks(client):
    assert client.gather(client.map(seceding, [2, 3, 4], batch_size=1)) == [4, 9, 16]


def recurse(n):
    if n < 2:
        return n
    with worker_client() as client:
        a, b = client.submit(recurse, n - 1), client.submit(recurse, n - 2)
        return a.result() + b.result()


def test_recursive_submission(client):
    assert client.submit(recurse, 5).result(timeout=120) == 5


def test_outside_a_task_there_is_no_worker(client):
    with pytest.raises(ValueError, match="No worker found"):
        with worker_client():
            pass
    with pytest.raises(ValueError, match="No worker found"):
        secede()
    rejoin()  # nothing to rejoin; harmless


def test_local_client_is_the_old_name(client):
    with pytest.warns(UserWarning, match="worker_client"):
        with pytest.raises(ValueError, match="No worker found"):
            with local_client():
                pass


def test_signatures_match_distributed():
    real = pytest.importorskip("distributed")
    from test_compat_signatures import check

    check(worker_client, real.worker_client)
    check(secede, real.secede)
    check(rejoin, real.rejoin)
