"""Inside tasks: worker_client, secede and rejoin on a cluster of two one-CPU workers."""

import signal
import time

import dask
import pytest

from rayexec import wait
from rayexec.workers import lending
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


def polling(x):
    # Waits as joblib's Parallel does: a sleep loop over its futures' states,
    # never blocking in Ray, so only secede() can lend its CPU to the subtasks.
    from rayexec import get_client

    client = get_client()
    secede()
    futures = client.map(abs, [-x, -x - 1], pure=False, batch_size=1)
    while not all(f.done() for f in futures):
        time.sleep(0.01)
    rejoin()
    return sum(f.result() for f in futures)


def test_seceded_tasks_polling_for_subtasks_do_not_deadlock(client):
    with dask.config.set({"rayexec.executor-actors": False}):  # Ray tasks, with a CPU each
        futures = client.map(polling, range(4), batch_size=1)
    wait(futures, timeout=60)
    assert client.gather(futures) == [1, 3, 5, 7]


def lends_until_rejoin():
    before = signal.getsignal(signal.SIGALRM)
    secede()
    seceded = lending.lending()
    rejoin()
    return seceded, lending.lending(), signal.getsignal(signal.SIGALRM) == before


def test_secede_lends_until_rejoin_then_puts_the_signal_handler_back(client):
    with dask.config.set({"rayexec.executor-actors": False}):
        assert client.submit(lends_until_rejoin, pure=False).result() == (True, False, True)


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


def in_a_task(_):
    from rayexec.workers.context import get_worker, thread_state

    state = thread_state.execution_state
    return state["worker"] == get_worker(), state["scheduler"].startswith("tcp://")


def test_thread_state_says_whether_code_runs_in_a_task(client):
    # joblib's dask backend secedes exactly when this attribute is there.
    from rayexec.workers.context import thread_state

    assert not hasattr(thread_state, "execution_state")
    assert client.submit(in_a_task, 0).result() == (True, True)
    thread_state.mine = 1  # plain per-thread storage otherwise, as in distributed
    assert thread_state.mine == 1


def test_thread_state_is_where_the_shim_serves_it():
    import os
    import subprocess
    import sys

    from conftest import COMPAT

    code = ("from distributed.utils import thread_state\n"
            "from rayexec.workers.context import thread_state as ours\n"
            "assert thread_state is ours\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": COMPAT}, timeout=120)
    assert done.returncode == 0, done.stderr
