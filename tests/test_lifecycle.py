"""restart, close, defaults, memory release, fire_and_forget, progress."""

import gc
import os
import time

import pytest
from conftest import json_report, run_script

from rayexec import (
    CancelledError,
    Client,
    default_client,
    fire_and_forget,
    futures_of,
    get_client,
    progress,
    wait,
)

_SEEN = []


def remember(x):
    # module state in the worker process: a fresh worker starts with an empty list
    _SEEN.append(x)
    return len(_SEEN), os.getpid()


def test_restart_cancels_drops_and_refreshes_workers(client):
    before = [client.submit(remember, i, pure=False) for i in range(4)]
    pids_before = {f.result()[1] for f in before}
    running = client.submit(time.sleep, 30, pure=False)
    time.sleep(0.5)
    client.restart()
    assert all(f.status == "cancelled" for f in before + [running])
    with pytest.raises(CancelledError):
        running.result()
    assert not client._states
    seen, pid = client.submit(remember, "fresh", pure=False).result(timeout=60)
    assert seen == 1  # module globals of the old workers are gone
    assert pid not in pids_before


def test_new_client_is_default_and_close_restores(client):
    assert default_client() is client
    assert get_client() is client
    with Client() as inner:
        assert default_client() is inner
    assert default_client() is client


@pytest.fixture
def no_clients(ray_cluster):
    """No default client for the length of a test (the others come back after)."""
    from rayexec import defaults

    saved = list(defaults._clients)
    defaults._clients.clear()
    yield
    defaults._clients.extend(saved)


def test_no_client_raises_value_error(no_clients):
    with pytest.raises(ValueError, match="No clients found") as caught:
        default_client()
    assert "from rayexec import Client" in str(caught.value)


def test_no_client_message_through_the_shim_is_distributeds():
    import subprocess
    import sys

    from conftest import COMPAT

    script = ("import distributed\n"
              "try:\n"
              "    distributed.default_client()\n"
              "except ValueError as e:\n"
              "    print(e)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": COMPAT})
    assert done.stdout.splitlines()[:4] == [
        "No clients found", "Start a client and point it to the scheduler address",
        "  from distributed import Client", "  client = Client('ip-addr-of-scheduler:8786')"]


def test_close_cancels_pending_work(ray_cluster):
    c = Client()
    future = c.submit(time.sleep, 30, pure=False)
    c.close()
    assert future.status == "cancelled"
    assert c.status == "closed"
    with pytest.raises(RuntimeError, match="closed"):
        c.submit(abs, 1)


def _object_freed(ref, timeout=10):
    import ray

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ray.get(ref, timeout=0.5)
        except (ray.exceptions.ObjectFreedError, ray.exceptions.ReferenceCountingAssertionError,
                ray.exceptions.OwnerDiedError, ray.exceptions.GetTimeoutError):
            return True
        time.sleep(0.1)
    return False


def test_dropping_the_last_future_frees_the_key(client):
    a = client.submit(abs, -5, key="freed-key")
    b = client.submit(abs, -5, key="freed-key")
    a.result()
    del a
    gc.collect()
    assert "freed-key" in client._states  # b still holds it
    del b
    gc.collect()
    assert "freed-key" not in client._states


def test_failed_futures_are_freed_too(client):
    import weakref

    bad = client.submit(lambda: 1 / 0, key="failed-key")
    wait(bad)
    state = weakref.ref(bad._state)
    del bad
    # the thread that settled it may still be finishing its callback: allow it a moment
    deadline = time.monotonic() + 5
    while state() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    assert state() is None and "failed-key" not in client._states


def test_fire_and_forget_keeps_work_running(client, tmp_path):
    target = tmp_path / "written"
    fire_and_forget(client.submit(target.write_text, "yes", pure=False))
    gc.collect()
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.read_text() == "yes"


def test_futures_of(client):
    a, b = client.scatter([1, 2])
    assert futures_of({"x": [a, (b, 3)]}) == [a, b]


def test_progress_blocks_until_done_and_draws(client, capsys):
    futures = client.map(time.sleep, [0.2] * 4, pure=False)
    progress(futures)
    assert all(f.done() for f in futures)
    assert "100% Completed" in capsys.readouterr().out


def test_get_client_without_a_client_raises_outside_tasks(no_clients):
    with pytest.raises(ValueError, match="No global client"):
        get_client()


def _client_inside_task():
    from rayexec import get_client as inner_get_client

    inner = inner_get_client()
    return inner.submit(sum, [1, 2, 3]).result()


def test_get_client_inside_a_task(client):
    assert client.submit(_client_inside_task, pure=False).result() == 6


def test_with_block_makes_the_client_current_in_its_context(ray_cluster):
    import concurrent.futures

    from rayexec import default_client

    c = Client(set_as_default=False)
    with c:
        assert default_client() is c
    assert c.status == "closed"
    c = Client(set_as_default=False)
    with concurrent.futures.ThreadPoolExecutor(1) as one, \
            concurrent.futures.ThreadPoolExecutor(1) as other:
        one.submit(c.__enter__).result()
        with pytest.raises(ValueError, match="was created in a different Context"):
            other.submit(c.__exit__, None, None, None).result()
    assert c.status == "closed"  # closed all the same


def test_client_of_a_cluster_class_is_a_type_error():
    from rayexec import LocalCluster

    with pytest.raises(TypeError, match="Scheduler address must be a string or a Cluster"):
        Client(LocalCluster)


def test_repr_and_html_of_open_and_closed_clients(ray_cluster):
    c = Client(set_as_default=False)
    address = c.scheduler.address
    assert address in repr(c) and address in c._repr_html_()
    assert "Total threads: </strong>" in c._repr_html_()
    c.close()
    assert repr(c) == "<Client: No scheduler connected>"
    assert "No scheduler connected" in c._repr_html_()


def test_a_closed_clients_connection_serves_the_next_client_of_its_cluster():
    # In a fresh process with two clusters of its own: a client closed and another
    # opened (distributed's `with Client(...)` per job) stay on one Ray connection,
    # as Ray keeps part of each connection it lets go (rayexec.deploy.kept).
    out = run_script("kept_connection.py", timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json_report(out.stdout)
    first = report["first client"]
    assert report["after close"] == first
    assert report["second client"] == first
    # a client still open keeps it: another cluster is refused, naming both
    refused = report["another cluster while a client is open"]
    assert refused.startswith("RuntimeError: this process is already connected"), refused
    assert report["the open client"] == 3
    # another cluster: the idle connection gives way
    assert report["client of another cluster"]["gcs"] != first["gcs"]
    # this process stopped that head: nothing is left waiting on it
    assert report["after its head was stopped here"] is None
    # a head that went away on its own: the idle connection ends within the watch's bound
    assert report["client of the first again"]["gcs"] == first["gcs"]
    assert report["after its head was killed"]["connected"] is False
