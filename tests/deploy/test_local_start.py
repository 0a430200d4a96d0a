"""Client() with no address starts a local Ray shaped like distributed's LocalCluster."""


from conftest import json_report, run_script


def test_n_workers_threads_per_worker_shape_the_cluster():
    out = run_script("local_shape.py")
    assert out.returncode == 0, out.stderr[-3000:]
    report = json_report(out.stdout)
    assert report == {"nthreads": [1, 1], "n_workers": 2, "total_threads": 2, "result": 3}


def test_unreachable_address_fails_fast_naming_it():
    import pytest

    from rayexec import Client

    with pytest.raises(OSError, match="127.0.0.1:1"):
        Client("tcp://127.0.0.1:1", timeout=2)


def test_address_of_another_cluster_is_refused_not_ignored(ray_cluster):
    import pytest

    from rayexec import Client
    from rayexec.deploy.ray_node import RayNode

    other = RayNode(num_cpus=0).start()  # a second, real cluster on this machine
    try:
        with pytest.raises(RuntimeError, match=f"connect to {other.address}"):
            Client(other.address, timeout=10)
    finally:
        other.stop()


def test_an_address_where_no_ray_cluster_answers_is_refused(ray_cluster):
    import socket

    import pytest

    from rayexec import Client

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        with pytest.raises(OSError, match=f"127.0.0.1:{port}.*Ray cluster answered"):
            Client(f"127.0.0.1:{port}", timeout=2)
    finally:
        listener.close()


def test_client_with_workers_from_a_thread_scales_and_stops_its_nodes():
    """Client(n_workers=2, ...) in a thread other than the main one: its nodes are
    ``ray start`` processes, ``client.cluster`` adds and removes them, close() ends them;
    they outlive the thread that started them."""
    import time

    out = run_script("local_from_thread.py")
    assert out.returncode == 0, out.stderr[-3000:]
    report = json_report(out.stdout)
    assert report.get("cluster") == "LocalCluster", out.stderr[-3000:]
    assert report["nthreads"] == [1, 1]
    assert report["memory_limits"] == [10**9, 10**9]  # memory_limit="1GB" per worker
    assert report["result"] == 3
    assert report["after_scale_up"] == 3 and report["after_scale_down"] == 1
    assert report["dashboard_link"].startswith("http://127.0.0.1:")
    # Started by a thread that then ended: its worker node still runs.
    assert report["handed_over"] == {"nodes_alive": [True], "nthreads": [1, 1], "result": 7}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in report["pids"]):
        time.sleep(0.5)
    assert not any(_alive(pid) for pid in report["pids"]), "worker nodes outlived the client"


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_processes_false_says_what_it_means_on_ray_in_the_log(ray_cluster, caplog):
    import logging
    import warnings

    from rayexec import Client
    from rayexec.deploy import local_cluster

    local_cluster._said_processes_false = False
    caplog.set_level(logging.INFO, logger=local_cluster.__name__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as dask's own test settings do: no warning
        client = Client(processes=False)
    client.close()
    said = [r for r in caplog.records if r.levelname == "INFO"
            and "processes=False: on Ray, tasks always run in Ray worker processes" in r.message]
    assert len(said) == 1


def test_a_connected_client_has_a_view_of_the_ray_cluster(client):
    import pytest

    cluster = client.cluster
    assert type(cluster).__name__ == "RayCluster"
    assert sorted(w.nthreads for w in cluster.workers.values()) == [1, 1]
    assert cluster.scheduler_address.startswith("tcp://")
    with pytest.raises(NotImplementedError, match="scale\\(memory=...\\) is not supported"):
        cluster.scale(memory="4GB")
    with pytest.raises(ValueError, match="non-negative number of workers"):
        cluster.scale(-1)
    cluster.close()  # a view: the Ray cluster keeps running
    assert client.submit(sum, [1, 2]).result() == 3
