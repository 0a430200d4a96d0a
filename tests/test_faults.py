"""Faults injected for real: killed worker processes, lost nodes, abandoned clients."""

import os
import signal
import time

import pytest
from conftest import json_report, run_script

from rayexec import KilledWorker


def die_once(marker):
    # The first attempt kills its own worker process, as an OOM killer or a crash would.
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def die_always():
    os.kill(os.getpid(), signal.SIGKILL)


def test_worker_killed_mid_task_reruns_it(client, tmp_path):
    future = client.submit(die_once, str(tmp_path / "died"), pure=False)
    assert future.result(timeout=120) == "survived"
    assert future.status == "finished"


def test_batched_elements_survive_a_killed_worker(client, tmp_path):
    marker = str(tmp_path / "died")
    futures = client.map(lambda x, m=marker: die_once(m) if x == 3 else x, range(20),
                         batch_size=10)
    assert client.gather(futures) == [0, 1, 2, "survived"] + list(range(4, 20))


def test_task_that_always_kills_its_worker_ends_in_error(client):
    future = client.submit(die_always, pure=False)
    with pytest.raises(KilledWorker, match="died"):
        future.result(timeout=180)
    assert future.status == "error"
    assert client.submit(sum, [1, 2]).result(timeout=60) == 3  # the client is still usable


def test_lost_node_recomputes_results_and_reports_lost_data():
    out = run_script("fault_lost_node.py", timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json_report(out.stdout)
    assert report["recomputed"] == 499500
    assert report["scattered_status"] == "lost"
    assert "lost" in report["scattered_error"]
    assert report["dependent_error"] != "no error"


def test_client_process_that_exits_without_closing_leaves_nothing_running(ray_cluster, tmp_path):
    import ray

    marker = tmp_path / "still-running"
    out = run_script("fault_abandon.py", ray_cluster.address, str(marker), timeout=120)
    assert out.returncode == 0, out.stderr[-4000:]
    # the abandoned task would create the marker after 5 s if it were still running
    time.sleep(8)
    assert not marker.exists()
    assert ray.is_initialized()


def test_client_whose_head_dies_fails_every_future_and_call():
    # The script starts a head (`ray start --head`, free ports), connects, kills the head.
    out = run_script("fault_head_lost.py", "0", timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json_report(out.stdout)
    # every wait in the script is bounded: a hang would show as a TimeoutError here
    for operation in ("running.result", "done.result", "gather", "submit"):
        assert report[operation]["outcome"].startswith("ClusterLostError: the Ray cluster at"), (
            operation, report[operation])
        assert "head node is gone" in report[operation]["outcome"]
    assert report["running.status"] == "lost"
    assert report["wait"]["outcome"] == "1"  # the lost future counts as done
    assert report["close"]["outcome"] == "None"


def test_client_process_outlives_its_dead_head():
    out = run_script("fault_head_lost.py", "70", timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json_report(out.stdout)
    # Ray would have ended the process a minute after losing the head; the client
    # stays open all that time and closes afterwards
    assert report["alive_after"] >= 65
    assert report["close"]["outcome"] == "None"
